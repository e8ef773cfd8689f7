package dev.sprout.method;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * SwitchLoRA's bookkeeping for one adapted linear, as the official code ({@code switch_lora.py}) keeps it: which pool
 * candidate each of the r rows of A and columns of B holds, one cursor per side, and how many more steps each vector
 * stays frozen. It decides each step's swaps; {@link SwitchLora} carries them out on the tensors. Nothing here touches a
 * tensor, so the schedule can be checked against an independent transcription of the official code on its own.
 *
 * <p>One step ({@link #choose}): one swap count n for the layer (A and B swap the same number of vectors), capped so
 * that neither cursor runs into a slot whose counterpart is still frozen: n <= min((c_A - f_A - c_B) mod r,
 * (c_B - f_B - c_A) mod r), with f the number of frozen vectors per side. A swaps the n slots from its cursor, B the n
 * from its own; the B cursor starts r/2 after the A cursor, so the two never act on the same slot within N steps.
 * Candidates: the "continuous" walk gives slot i the pool index after the one its previous slot holds (the pool is
 * walked in order; no skipping); the "random" choice draws without replacement among candidates no other slot holds.
 * A layer whose pool holds no more candidates than its rank (r = min(out, in)) has nothing to switch and never swaps.
 */
final class SwitchSlots {
    /**
     * The swaps of one side in one step: slot {@code slots[i]} gives up pool index {@code previous[i]} and takes candidate
     * {@code candidates[i]}.
     */
    record Swaps(int[] slots, int[] candidates, int[] previous) {
        static final Swaps NONE = new Swaps(new int[0], new int[0], new int[0]);

        int size() {
            return slots.length;
        }
    }

    final int rank;
    final int poolSize;
    final boolean randomCandidates;
    /** The pool index each row of A (column of B) holds. */
    final int[] heldA;
    final int[] heldB;
    /** Steps each row of A (column of B) stays frozen; > 0 means its gradient is zeroed this step. */
    final int[] frozenA;
    final int[] frozenB;
    int cursorA;
    int cursorB;

    /**
     * The official start: in continuous mode A holds the pool's last r candidates in order and B the same r rotated by
     * r/2 (slot i holds K - r + ((i - r/2) mod r)); in random mode each side holds r distinct candidates drawn from
     * {@code init}, B's rotated the same way. The A cursor starts at 0, the B cursor at r/2.
     */
    SwitchSlots(int rank, int poolSize, boolean randomCandidates, SplittableRandom init) {
        if (rank < 1 || rank > poolSize) throw new IllegalArgumentException("rank " + rank + " outside [1, " + poolSize + "]");
        this.rank = rank;
        this.poolSize = poolSize;
        this.randomCandidates = randomCandidates;
        int[] a = new int[rank], b = new int[rank];
        for (int i = 0; i < rank; i++) a[i] = b[i] = poolSize - rank + i;
        if (randomCandidates) {
            a = draw(init, allBut(new int[0]), rank);
            b = draw(init, allBut(new int[0]), rank);
        }
        this.heldA = a;
        this.heldB = new int[rank];
        for (int i = 0; i < rank; i++) heldB[i] = b[Math.floorMod(i - rank / 2, rank)];
        this.frozenA = new int[rank];
        this.frozenB = new int[rank];
        this.cursorA = 0;
        this.cursorB = rank / 2;
    }

    /** Whether the pool has candidates beyond the r that are held: otherwise there is nothing to switch. */
    boolean switchable() {
        return poolSize > rank;
    }

    /**
     * This step's swaps: {@code wanted} vectors per side (the stochastically rounded r / interval(t)), capped by the
     * frozen counterparts; cursors advance. Returns {A's swaps, B's swaps}; held indices are updated, frozen counters not
     * (the caller freezes counterparts as it swaps: {@link #freezeCounterparts}).
     */
    Swaps[] choose(int wanted, SplittableRandom rng) {
        if (!switchable()) return new Swaps[]{Swaps.NONE, Swaps.NONE};
        int fA = count(frozenA), fB = count(frozenB);
        int available = Math.min(Math.floorMod(cursorA - fA - cursorB, rank), Math.floorMod(cursorB - fB - cursorA, rank));
        int n = Math.min(wanted, available);
        if (n <= 0) return new Swaps[]{Swaps.NONE, Swaps.NONE};
        int[] slotsA = new int[n], slotsB = new int[n];
        for (int i = 0; i < n; i++) {
            slotsA[i] = (cursorA + i) % rank;
            slotsB[i] = (cursorB + i) % rank;
        }
        cursorA = (cursorA + n) % rank;
        cursorB = (cursorB + n) % rank;
        return new Swaps[]{take(heldA, slotsA, rng), take(heldB, slotsB, rng)};
    }

    /** After the swaps: A's row i swapped freezes B's column i for {@code steps} steps, and vice versa. */
    void freezeCounterparts(Swaps[] swaps, int steps) {
        for (int slot : swaps[0].slots) frozenB[slot] = steps;
        for (int slot : swaps[1].slots) frozenA[slot] = steps;
    }

    /** The frozen slots of this step (their gradients are zeroed), then one step less to go for each. */
    int[][] tickFrozen() {
        int[][] out = {frozenSlots(frozenA), frozenSlots(frozenB)};
        for (int i = 0; i < rank; i++) {
            if (frozenA[i] > 0) frozenA[i]--;
            if (frozenB[i] > 0) frozenB[i]--;
        }
        return out;
    }

    /** One side's swaps: the candidates for its slots, which the slots then hold. */
    private Swaps take(int[] held, int[] slots, SplittableRandom rng) {
        int[] previous = new int[slots.length], c = candidates(held, slots, rng);
        for (int i = 0; i < slots.length; i++) {
            previous[i] = held[slots[i]];
            held[slots[i]] = c[i];
        }
        return new Swaps(slots, c, previous);
    }

    private int[] candidates(int[] held, int[] slots, SplittableRandom rng) {
        int[] c = new int[slots.length];
        if (!randomCandidates) {
            int begin = held[Math.floorMod(slots[0] - 1, rank)] + 1;
            for (int i = 0; i < slots.length; i++) c[i] = (begin + i) % poolSize;
            return c;
        }
        int[] keep = new int[rank - slots.length]; // candidates held by the slots that stay
        for (int i = 0, k = 0; i < rank; i++) if (!contains(slots, i)) keep[k++] = held[i];
        return draw(rng, allBut(keep), slots.length);
    }

    private List<Integer> allBut(int[] taken) {
        List<Integer> free = new ArrayList<>(poolSize);
        for (int i = 0; i < poolSize; i++) if (!contains(taken, i)) free.add(i);
        return free;
    }

    /** k distinct elements of {@code from}, uniformly (partial Fisher-Yates), in draw order. */
    private static int[] draw(SplittableRandom rng, List<Integer> from, int k) {
        int[] out = new int[k];
        for (int i = 0; i < k; i++) {
            int j = i + rng.nextInt(from.size() - i);
            Integer t = from.get(i);
            from.set(i, from.get(j));
            from.set(j, t);
            out[i] = from.get(i);
        }
        return out;
    }

    private static int count(int[] frozen) {
        int n = 0;
        for (int f : frozen) if (f > 0) n++;
        return n;
    }

    private static int[] frozenSlots(int[] frozen) {
        return java.util.stream.IntStream.range(0, frozen.length).filter(i -> frozen[i] > 0).toArray();
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) if (x == v) return true;
        return false;
    }

    @Override
    public String toString() {
        return "cursors " + cursorA + "/" + cursorB + " held A " + Arrays.toString(heldA) + " B " + Arrays.toString(heldB);
    }
}

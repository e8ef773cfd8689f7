package dev.sprout.tensor;

/**
 * The part of a parameter that took part in a step: the rows (axis 0) or columns (axis 1) listed in
 * {@code index}, in increasing order.
 */
public record Slice(int axis, int[] index) {
    public Slice {
        if (axis != 0 && axis != 1) throw new IllegalArgumentException("axis must be 0 or 1, got " + axis);
    }
}

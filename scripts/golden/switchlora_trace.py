"""SwitchLoRA's swap schedule, transcribed from the official code (asfsdsf/SwitchLoRA, switchlora/switch_lora.py:
SwitchLoraLayer.switch, _select_indices, _get_switch_replace_num, _get_switch_rate, correct_switched_lora), written
independently of Sprout. It writes src/test/resources/golden/switchlora_trace.json: for a few tiny configurations, the
uniform draws of stochastic rounding and the trace of every step (swaps: step, layer, side, slot, candidate; frozen
slots per layer and step). Sprout's SwitchLoraTraceTest feeds Sprout the same draws and must produce the same trace.

Only the schedule is transcribed (which slots, which candidates, which slots are frozen); the tensor arithmetic of a
swap is pinned elsewhere (SwitchLoraTest: a swap leaves the layer's output unchanged).

Run from the repository root (plain Python 3; no torch needed):  /usr/bin/python3 scripts/golden/switchlora_trace.py
"""
import json
import math
import os
import random

OUT = os.path.join("src", "test", "resources", "golden", "switchlora_trace.json")


def block_linears(model):
    """(name, out, in) of one transformer's block linears in Sprout's parameter order (q, k, v, o, [gate], up, down)."""
    c, h, g = model["d_model"], model["n_head"], model["n_kv_head"] or model["n_head"]
    d = c // h
    if model["family"] == "llama":
        ff = model["d_ff"]
        shapes = [("attn.q", c, c), ("attn.k", g * d, c), ("attn.v", g * d, c), ("attn.o", c, c),
                  ("mlp.gate", ff, c), ("mlp.up", ff, c), ("mlp.down", c, ff)]
    else:
        ff = 4 * c
        shapes = [("attn.q", c, c), ("attn.k", c, c), ("attn.v", c, c), ("attn.o", c, c), ("mlp.up", ff, c), ("mlp.down", c, ff)]
    out = []
    for layer in range(model["n_layer"]):
        out += [("blocks.%d.%s" % (layer, n), o, i) for n, o, i in shapes]
    return out


class OfficialLayer:
    """The switching state one official SwitchLoraLayer keeps (continuous mode, candidates not dropped)."""

    def __init__(self, rank, pool):
        self.r, self.k = rank, pool
        start = list(range(pool - rank, pool))             # _init_orthogonal_lora: the last r candidates are selected
        self.sel_a = list(start)
        self.sel_b = [start[i - rank // 2] for i in range(rank)]  # B's selection shifted by r // 2 (Python's negative index)
        self.cur_a, self.cur_b = 0, rank // 2               # candidate_A_index = 0, candidate_B_index = r // 2
        self.fix_a, self.fix_b = [0] * rank, [0] * rank

    def switchable(self):
        return self.k - self.r > 0                          # origin_available_candidate_num <= 0: return

    @staticmethod
    def replace_num(rank, step, interval0, descend_step, u):
        x = 0.3 ** (1 / descend_step)                       # exponential descent: 0.3 at descend_step
        rate = max(x ** (step + 1), 1e-8)
        interval = interval0 / rate
        n = rank / interval
        frac = n - int(n)
        return int(n) + (1 if u < frac else 0)

    def walk(self, selected, slots):
        """_select_indices, continuous: the pool index after the previous slot's, in order, modulo the pool size."""
        begin = selected[slots[0] - 1] + 1                  # slots[0] - 1 may be -1: the last slot, as in Python
        return {slot: (begin + i) % self.k for i, slot in enumerate(slots)}

    def switch(self, step, interval0, descend_step, freeze, u, emit):
        n = self.replace_num(self.r, step, interval0, descend_step, u)
        frozen_a = sum(1 for s in self.fix_a if s > 0)
        frozen_b = sum(1 for s in self.fix_b if s > 0)
        available = min((self.cur_a - frozen_a - self.cur_b) % self.r, (self.cur_b - frozen_b - self.cur_a) % self.r)
        n = min(n, available)
        if n == 0:
            return
        slots_a = [i % self.r for i in range(self.cur_a, self.cur_a + n)]
        slots_b = [i % self.r for i in range(self.cur_b, self.cur_b + n)]
        self.cur_a = (self.cur_a + n) % self.r
        self.cur_b = (self.cur_b + n) % self.r
        for slot, cand in self.walk(self.sel_a, slots_a).items():  # A's rows: B's columns of the same slots freeze
            emit("A", slot, cand)
            self.sel_a[slot] = cand
            self.fix_b[slot] = freeze
        for slot, cand in self.walk(self.sel_b, slots_b).items():  # then B's columns: A's rows freeze
            emit("B", slot, cand)
            self.sel_b[slot] = cand
            self.fix_a[slot] = freeze

    def correct(self):
        """correct_switched_lora: frozen vectors get a zero gradient this step, one step less to go."""
        out = []
        for fix in (self.fix_a, self.fix_b):
            slots = [i for i, s in enumerate(fix) if s > 0]
            for i in range(len(fix)):
                if fix[i] > 0:
                    fix[i] -= 1
                elif fix[i] < 0:
                    fix[i] = 0
            out.append(slots)
        return out


def scenario(name, model, rank, interval0, ratio, freeze_steps, steps, seed):
    linears = block_linears(model)
    layers = [OfficialLayer(rank, min(o, i)) for _, o, i in linears]
    rng = random.Random(seed)
    uniforms, events = [], []
    descend = ratio * steps                                 # switch_lora_descent_rate * num_training_steps
    for step in range(steps):
        for li, layer in enumerate(layers):
            if not layer.switchable():
                continue                                    # no draw: the official switch returns before drawing
            u = rng.random()
            uniforms.append(u)
            layer.switch(step, interval0, descend, freeze_steps, u,
                         lambda side, slot, cand: events.append(["swap", step, li, side, slot, cand]))
            fa, fb = layer.correct()
            events.append(["frozen", step, li, fa, fb])
    swaps = sum(1 for e in events if e[0] == "swap")
    print("%s: %d linears (%d switchable), %d swaps over %d steps" % (name, len(layers), sum(l.switchable() for l in layers), swaps, steps))
    return {"name": name, "model": model, "rank": rank, "interval0": interval0, "ratio": ratio, "freeze_steps": freeze_steps,
            "steps": steps, "pools": [min(o, i) for _, o, i in linears], "uniforms": uniforms, "events": events}


def main():
    llama = {"family": "llama", "n_layer": 1, "d_model": 16, "n_head": 4, "n_kv_head": 1, "d_ff": 64}
    gpt2 = {"family": "gpt2", "n_layer": 1, "d_model": 16, "n_head": 4, "n_kv_head": 0}
    out = {"scenarios": [
        # rank 4 = the pool of k and v (4 rows): those two never switch; the others walk pools of 16 with a cap of r/2
        scenario("llama-r4", llama, rank=4, interval0=6.0, ratio=0.5, freeze_steps=3, steps=300, seed=1),
        # an odd rank: the B cursor starts floor(r/2) = 2 after A's
        scenario("gpt2-r5", gpt2, rank=5, interval0=4.0, ratio=0.3, freeze_steps=2, steps=200, seed=2),
    ]}
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print("wrote %s (%d bytes)" % (OUT, os.path.getsize(OUT)))


if __name__ == "__main__":
    main()

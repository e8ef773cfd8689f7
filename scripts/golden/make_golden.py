#!/usr/bin/python3
"""Generate golden reference values for Sprout's Java/libtorch tests.

Writes, under src/test/resources/golden/:
  gpt2_tiny.json   tiny GPT-2: params, inputs, logits, loss, grads, plus
                   `plans`: subnetwork forwards with biases (a block's
                   residual branch scaled bias included; heads/neurons sampled
                   with their sum scaled before the bias)
  llama_tiny.json  tiny Llama (GQA, RoPE, SwiGLU): same, plus a `partial`
                   subnetwork forward (skipped layer, head/neuron subsets)
  adamw.json       torch.optim.AdamW trajectory (float32, 5 steps)
  adamw_slices.json  AdamW with per-row/column step counters under masked
                   updates and resets (torch.optim.AdamW, one parameter per
                   row or column, float64)

Weights and inputs are generated in float32 (so the Java side can load them
exactly as float32); all reference math is done in float64.

Written for Debian's torch 1.13 (run with /usr/bin/python3): no
scaled_dot_product_attention / rms_norm, so attention (explicit causal
softmax), RMSNorm, LayerNorm, GELU(tanh) and RoPE are written by hand.

Usage (from the repository root):
    /usr/bin/python3 scripts/golden/make_golden.py
"""

import json
import math
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_DIR = os.path.join(ROOT, "src", "test", "resources", "golden")

B = 2

GPT2_CONFIG = {
    "family": "gpt2",
    "vocab_size": 11,
    "n_layer": 2,
    "n_head": 2,
    "n_kv_head": 2,
    "d_model": 8,
    "d_ff": 32,
    "context": 5,
    "norm_eps": 1e-5,
    "rope_theta": None,
}

LLAMA_CONFIG = {
    "family": "llama",
    "vocab_size": 13,
    "n_layer": 2,
    "n_head": 4,
    "n_kv_head": 2,
    "d_model": 16,
    "d_ff": 24,
    "context": 6,
    "norm_eps": 1e-5,
    "rope_theta": 10000.0,
}

# Subnetwork forward for the Llama model (layer indices refer to LLAMA_CONFIG).
LLAMA_PARTIAL = {
    "skip_layers": [0],
    "layer": 1,
    "heads": [1, 3],
    "neurons": [0, 2, 5, 7, 11, 19, 23],
    "attn_scale": 2.0,
    "mlp_scale": 24.0 / 7.0,
}


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def tensor_json(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def tensor_from_json(j):
    """A float32 tensor back from tensor_json (exact: the values were float32)."""
    return torch.tensor(j["data"], dtype=torch.float32).view(j["shape"])


def f32(gen, shape, std=1.0, mean=0.0):
    """Seeded normal values, rounded to float32."""
    x = torch.randn(*shape, generator=gen, dtype=torch.float32)
    return (x * std + mean).to(torch.float32)


def cast_params(params, dtype):
    return {k: v.detach().to(dtype).clone().requires_grad_(True) for k, v in params.items()}


def layer_norm(x, w, b, eps):
    mu = x.mean(dim=-1, keepdim=True)
    var = ((x - mu) ** 2).mean(dim=-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    return x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + eps) * w


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def silu(x):
    return x * torch.sigmoid(x)


def linear(x, w, b=None):
    y = x @ w.t()
    return y if b is None else y + b


def causal_attention(q, k, v):
    """q: [B,H,T,D], k/v: [B,H,T,D] (kv already expanded per query head)."""
    T, D = q.shape[-2], q.shape[-1]
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(D)
    mask = torch.ones(T, T, dtype=torch.bool).triu(1)
    scores = scores.masked_fill(mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def rope_tables(T, D, theta, dtype):
    half = D // 2
    i = torch.arange(half, dtype=dtype)
    freq = theta ** (-2.0 * i / D)
    pos = torch.arange(T, dtype=dtype)
    ang = pos[:, None] * freq[None, :]  # [T, half]
    ang = torch.cat([ang, ang], dim=-1)  # [T, D]
    return torch.cos(ang), torch.sin(ang)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def apply_rope(x, cos, sin):
    return x * cos + rotate_half(x) * sin


def ce_loss(logits, targets):
    V = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))


# --------------------------------------------------------------------------
# GPT-2
# --------------------------------------------------------------------------

def gpt2_init(cfg, gen):
    V, C, F_, P = cfg["vocab_size"], cfg["d_model"], cfg["d_ff"], cfg["context"]
    p = {}
    p["embed.tokens"] = f32(gen, (V, C), 0.3)
    p["embed.positions"] = f32(gen, (P, C), 0.3)
    for L in range(cfg["n_layer"]):
        pre = f"blocks.{L}."
        p[pre + "attn_norm.weight"] = f32(gen, (C,), 0.1, 1.0)
        p[pre + "attn_norm.bias"] = f32(gen, (C,), 0.1)
        for n in ("q", "k", "v", "o"):
            p[pre + f"attn.{n}.weight"] = f32(gen, (C, C), 0.3)
            p[pre + f"attn.{n}.bias"] = f32(gen, (C,), 0.1)
        p[pre + "mlp_norm.weight"] = f32(gen, (C,), 0.1, 1.0)
        p[pre + "mlp_norm.bias"] = f32(gen, (C,), 0.1)
        p[pre + "mlp.up.weight"] = f32(gen, (F_, C), 0.3)
        p[pre + "mlp.up.bias"] = f32(gen, (F_,), 0.1)
        p[pre + "mlp.down.weight"] = f32(gen, (C, F_), 0.3)
        p[pre + "mlp.down.bias"] = f32(gen, (C,), 0.1)
    p["final_norm.weight"] = f32(gen, (C,), 0.1, 1.0)
    p["final_norm.bias"] = f32(gen, (C,), 0.1)
    return p


def gpt2_forward(p, cfg, idx):
    Bn, T = idx.shape
    H, C = cfg["n_head"], cfg["d_model"]
    D = C // H
    eps = cfg["norm_eps"]
    x = p["embed.tokens"][idx] + p["embed.positions"][:T]
    for L in range(cfg["n_layer"]):
        pre = f"blocks.{L}."
        h = layer_norm(x, p[pre + "attn_norm.weight"], p[pre + "attn_norm.bias"], eps)

        def heads(name):
            y = linear(h, p[pre + f"attn.{name}.weight"], p[pre + f"attn.{name}.bias"])
            return y.view(Bn, T, H, D).transpose(1, 2)

        y = causal_attention(heads("q"), heads("k"), heads("v"))
        y = y.transpose(1, 2).reshape(Bn, T, H * D)
        x = x + linear(y, p[pre + "attn.o.weight"], p[pre + "attn.o.bias"])
        h = layer_norm(x, p[pre + "mlp_norm.weight"], p[pre + "mlp_norm.bias"], eps)
        m = gelu_tanh(linear(h, p[pre + "mlp.up.weight"], p[pre + "mlp.up.bias"]))
        x = x + linear(m, p[pre + "mlp.down.weight"], p[pre + "mlp.down.bias"])
    x = layer_norm(x, p["final_norm.weight"], p["final_norm.bias"], eps)
    return x @ p["embed.tokens"].t()


def gpt2_plan_forward(p, cfg, idx, plan):
    """GPT-2 forward under a per-layer plan, as the papers write it. Each layer entry: skip (identity), heads and
    neurons that run (None = all), attn_scale / mlp_scale on the sum over the kept heads / neurons before the output
    bias (EST's 1/p), and branch_scale on the whole residual branch, bias included (RaPTr's, PLD's and stochastic
    depth's x + s f(x))."""
    Bn, T = idx.shape
    H, C = cfg["n_head"], cfg["d_model"]
    D = C // H
    F_ = cfg["d_ff"]
    eps = cfg["norm_eps"]
    x = p["embed.tokens"][idx] + p["embed.positions"][:T]
    for L, lp in enumerate(plan):
        if lp["skip"]:
            continue
        pre = f"blocks.{L}."
        heads = lp["heads"] if lp["heads"] is not None else list(range(H))
        neurons = lp["neurons"] if lp["neurons"] is not None else list(range(F_))
        s = lp["branch_scale"]
        rows = [hh * D + j for hh in heads for j in range(D)]
        h = layer_norm(x, p[pre + "attn_norm.weight"], p[pre + "attn_norm.bias"], eps)

        def proj(name):
            y = linear(h, p[pre + f"attn.{name}.weight"][rows], p[pre + f"attn.{name}.bias"][rows])
            return y.view(Bn, T, len(heads), D).transpose(1, 2)

        y = causal_attention(proj("q"), proj("k"), proj("v")).transpose(1, 2).reshape(Bn, T, len(heads) * D)
        attn = lp["attn_scale"] * (y @ p[pre + "attn.o.weight"][:, rows].t()) + p[pre + "attn.o.bias"]
        x = x + s * attn
        h = layer_norm(x, p[pre + "mlp_norm.weight"], p[pre + "mlp_norm.bias"], eps)
        m = gelu_tanh(linear(h, p[pre + "mlp.up.weight"][neurons], p[pre + "mlp.up.bias"][neurons]))
        mlp = lp["mlp_scale"] * (m @ p[pre + "mlp.down.weight"][:, neurons].t()) + p[pre + "mlp.down.bias"]
        x = x + s * mlp
    x = layer_norm(x, p["final_norm.weight"], p["final_norm.bias"], eps)
    return x @ p["embed.tokens"].t()


def layer_plan(skip=False, heads=None, neurons=None, attn_scale=1.0, mlp_scale=1.0, branch_scale=1.0):
    return {"skip": skip, "heads": heads, "neurons": neurons, "attn_scale": attn_scale, "mlp_scale": mlp_scale,
            "branch_scale": branch_scale}


# Subnetwork forwards for the GPT-2 model (GPT2_CONFIG: 2 layers, 2 heads, d_ff 32).
GPT2_PLANS = {
    # layer dropping (RaPTr, PLD, stochastic depth): block 0 kept with p = 0.625 and scaled by 1/p, block 1 skipped
    "branch": [layer_plan(branch_scale=1.6), layer_plan(skip=True)],
    # EST-style width sampling in both blocks (sums scaled, biases not); block 1 also branch-scaled, to pin the product
    "width": [layer_plan(heads=[0], neurons=[1, 4, 9, 16, 17, 30], attn_scale=2.0, mlp_scale=32 / 6),
              layer_plan(heads=[1], neurons=[0, 2, 3, 8, 13, 21, 22, 27], attn_scale=2.0, mlp_scale=4.0, branch_scale=1.25)],
}


def make_gpt2_plan_goldens(cfg, params32, idx, targets, full_loss):
    """Loss and every gradient of the tiny GPT-2 under each of GPT2_PLANS, float64; checked against finite differences,
    and a plan of all heads and neurons at scale 1 against the full model."""
    def fwd(p, plan):
        logits = gpt2_plan_forward(p, cfg, idx, plan)
        return logits, ce_loss(logits, targets)

    with torch.no_grad():
        p64 = cast_params(params32, torch.float64)
        ident = [layer_plan() for _ in range(cfg["n_layer"])]
        assert abs(fwd(p64, ident)[1].item() - full_loss) < 1e-12
    out = {}
    for name, plan in GPT2_PLANS.items():
        pfwd = lambda p, plan=plan: fwd(p, plan)
        label = "gpt2/" + name
        check_precisions(pfwd, params32, label)
        _, _, loss, grads = loss_and_grads(pfwd, params32, torch.float64)
        picks = [(n, nonzero_pick(grads, n)) for n in ("blocks.0.attn.o.bias", "blocks.0.mlp.down.bias", "blocks.0.attn.q.bias",
                                                       "blocks.0.mlp.up.weight", "embed.tokens")]
        if not plan[1]["skip"]:
            picks += [(n, nonzero_pick(grads, n)) for n in ("blocks.1.attn.o.bias", "blocks.1.mlp.down.bias", "blocks.1.attn.o.weight")]
        check_fd(pfwd, params32, grads, picks, label)
        out[name] = {"layers": plan, "loss": loss.item(), "grads": {k: tensor_json(v) for k, v in grads.items()}}
        print(f"  [{label}] loss = {loss.item():.15g}")
    return out


# --------------------------------------------------------------------------
# Llama
# --------------------------------------------------------------------------

def llama_init(cfg, gen):
    V, C, F_ = cfg["vocab_size"], cfg["d_model"], cfg["d_ff"]
    H, G = cfg["n_head"], cfg["n_kv_head"]
    D = C // H
    p = {}
    p["embed.tokens"] = f32(gen, (V, C), 0.3)
    for L in range(cfg["n_layer"]):
        pre = f"blocks.{L}."
        p[pre + "attn_norm.weight"] = f32(gen, (C,), 0.1, 1.0)
        p[pre + "attn.q.weight"] = f32(gen, (H * D, C), 0.3)
        p[pre + "attn.k.weight"] = f32(gen, (G * D, C), 0.3)
        p[pre + "attn.v.weight"] = f32(gen, (G * D, C), 0.3)
        p[pre + "attn.o.weight"] = f32(gen, (C, H * D), 0.3)
        p[pre + "mlp_norm.weight"] = f32(gen, (C,), 0.1, 1.0)
        p[pre + "mlp.gate.weight"] = f32(gen, (F_, C), 0.3)
        p[pre + "mlp.up.weight"] = f32(gen, (F_, C), 0.3)
        p[pre + "mlp.down.weight"] = f32(gen, (C, F_), 0.3)
    p["final_norm.weight"] = f32(gen, (C,), 0.1, 1.0)
    p["head.weight"] = f32(gen, (V, C), 0.3)
    return p


def llama_forward(p, cfg, idx, partial=None):
    """Llama forward. `partial` (optional): dict with skip_layers, layer,
    heads, neurons, attn_scale, mlp_scale -- the named layer runs only the
    given query heads / MLP neurons and scales the branch outputs."""
    Bn, T = idx.shape
    H, G, C = cfg["n_head"], cfg["n_kv_head"], cfg["d_model"]
    D = C // H
    group = H // G
    eps = cfg["norm_eps"]
    dtype = p["embed.tokens"].dtype
    cos, sin = rope_tables(T, D, cfg["rope_theta"], dtype)

    x = p["embed.tokens"][idx]
    for L in range(cfg["n_layer"]):
        pre = f"blocks.{L}."
        heads = list(range(H))
        neurons = list(range(cfg["d_ff"]))
        attn_scale = mlp_scale = 1.0
        if partial is not None:
            if L in partial["skip_layers"]:
                continue
            if L == partial["layer"]:
                heads = partial["heads"]
                neurons = partial["neurons"]
                attn_scale = partial["attn_scale"]
                mlp_scale = partial["mlp_scale"]
        Hk = len(heads)

        h = rms_norm(x, p[pre + "attn_norm.weight"], eps)
        wq = p[pre + "attn.q.weight"].view(H, D, C)[heads].reshape(Hk * D, C)
        q = linear(h, wq).view(Bn, T, Hk, D).transpose(1, 2)
        k = linear(h, p[pre + "attn.k.weight"]).view(Bn, T, G, D).transpose(1, 2)
        v = linear(h, p[pre + "attn.v.weight"]).view(Bn, T, G, D).transpose(1, 2)
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
        kv_idx = [hh // group for hh in heads]
        k = k[:, kv_idx]
        v = v[:, kv_idx]
        y = causal_attention(q, k, v).transpose(1, 2).reshape(Bn, T, Hk * D)
        wo = p[pre + "attn.o.weight"].view(C, H, D)[:, heads].reshape(C, Hk * D)
        x = x + attn_scale * linear(y, wo)

        h = rms_norm(x, p[pre + "mlp_norm.weight"], eps)
        wg = p[pre + "mlp.gate.weight"][neurons]
        wu = p[pre + "mlp.up.weight"][neurons]
        wd = p[pre + "mlp.down.weight"][:, neurons]
        m = silu(linear(h, wg)) * linear(h, wu)
        x = x + mlp_scale * linear(m, wd)
    x = rms_norm(x, p["final_norm.weight"], eps)
    return linear(x, p["head.weight"])


# --------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------

def loss_and_grads(forward, params32, dtype):
    p = cast_params(params32, dtype)
    logits, loss = forward(p)
    loss.backward()
    grads = {k: (torch.zeros_like(v) if v.grad is None else v.grad.detach().clone())
             for k, v in p.items()}
    return p, logits, loss, grads


def check_fd(forward, params32, grads, picks, label):
    """Central finite difference (float64, eps 1e-6) on a few entries."""
    base = {k: v.detach().to(torch.float64).clone() for k, v in params32.items()}
    eps = 1e-6
    for name, flat in picks:
        def loss_at(delta):
            p = {k: v.clone() for k, v in base.items()}
            p[name].view(-1)[flat] += delta
            with torch.no_grad():
                return forward(p)[1].item()
        fd = (loss_at(eps) - loss_at(-eps)) / (2 * eps)
        ag = grads[name].view(-1)[flat].item()
        err = abs(fd - ag)
        print(f"  [{label}] fd check {name}[{flat}]: autograd={ag:.10e} fd={fd:.10e} err={err:.2e}")
        assert err <= 1e-7 + 1e-6 * abs(ag), (label, name, flat, ag, fd)


def check_precisions(forward, params32, label):
    _, _, l32, _ = loss_and_grads(forward, params32, torch.float32)
    _, _, l64, _ = loss_and_grads(forward, params32, torch.float64)
    diff = abs(l32.item() - l64.item())
    print(f"  [{label}] loss float32={l32.item():.9f} float64={l64.item():.12f} diff={diff:.2e}")
    assert diff < 1e-5, (label, diff)


def nonzero_pick(grads, name, start=0):
    g = grads[name].view(-1)
    for i in range(start, g.numel()):
        if abs(g[i].item()) > 1e-4:
            return i
    return start


# --------------------------------------------------------------------------
# model goldens
# --------------------------------------------------------------------------

def make_model_golden(cfg, init_fn, forward_fn, seed, fd_names, partial=None):
    gen = torch.Generator().manual_seed(seed)
    params32 = init_fn(cfg, gen)
    V, T = cfg["vocab_size"], cfg["context"]
    idx = torch.randint(0, V, (B, T), generator=gen)
    targets = torch.randint(0, V, (B, T), generator=gen)
    label = cfg["family"]

    def fwd(p, part=None):
        logits = forward_fn(p, cfg, idx) if part is None else forward_fn(p, cfg, idx, part)
        return logits, ce_loss(logits, targets)

    # sanity: float32 vs float64 losses agree
    check_precisions(fwd, params32, label)

    _, logits, loss, grads = loss_and_grads(fwd, params32, torch.float64)
    picks = [(n, nonzero_pick(grads, n, 3)) for n in fd_names]
    check_fd(fwd, params32, grads, picks, label)
    for n, g in grads.items():
        assert torch.isfinite(g).all() and g.abs().sum() > 0, (label, n)

    out = {
        "config": cfg,
        "params": {k: tensor_json(v) for k, v in params32.items()},
        "idx": idx.tolist(),
        "targets": targets.tolist(),
        "logits": tensor_json(logits),
        "loss": loss.item(),
        "grads": {k: tensor_json(v) for k, v in grads.items()},
    }
    print(f"  [{label}] loss = {loss.item():.15g}")

    if partial is not None:
        # Consistency: "partial" with every head/neuron, no skips, scale 1 == full.
        full_part = dict(partial, skip_layers=[], heads=list(range(cfg["n_head"])),
                         neurons=list(range(cfg["d_ff"])), attn_scale=1.0, mlp_scale=1.0)
        with torch.no_grad():
            p64 = cast_params(params32, torch.float64)
            l_full = fwd(p64, full_part)[1].item()
        assert abs(l_full - loss.item()) < 1e-12, (l_full, loss.item())

        pfwd = lambda p: fwd(p, partial)
        check_precisions(pfwd, params32, label + "/partial")
        _, _, ploss, pgrads = loss_and_grads(pfwd, params32, torch.float64)

        L = partial["layer"]
        pre = f"blocks.{L}."
        Cm = cfg["d_model"]
        HD = cfg["n_head"] * (Cm // cfg["n_head"])
        ppicks = [
            (pre + "attn.q.weight", 4 * Cm + 5),      # row 4: kept head 1
            (pre + "attn.q.weight", 8 * Cm + 5),      # row 8: dropped head 2 (grad 0)
            (pre + "attn.k.weight", 6 * Cm + 1),      # kv head 1 (read by head 3)
            (pre + "attn.o.weight", 2 * HD + 13),     # col 13: kept head 3
            (pre + "mlp.gate.weight", 5 * Cm + 2),    # kept neuron 5
            (pre + "mlp.up.weight", 6 * Cm + 2),      # dropped neuron 6 (grad 0)
            (pre + "mlp.down.weight", 3 * cfg["d_ff"] + 19),  # kept neuron 19
            ("blocks.0.attn.q.weight", 7),            # skipped layer (grad 0)
            ("embed.tokens", nonzero_pick(pgrads, "embed.tokens")),
            ("head.weight", nonzero_pick(pgrads, "head.weight")),
        ]
        check_fd(pfwd, params32, pgrads, ppicks, label + "/partial")

        # structural zero checks
        C, H, D = cfg["d_model"], cfg["n_head"], cfg["d_model"] // cfg["n_head"]
        for s in partial["skip_layers"]:
            for n, g in pgrads.items():
                if n.startswith(f"blocks.{s}."):
                    assert (g == 0).all(), n
        gq = pgrads[pre + "attn.q.weight"].view(H, D, C)
        go = pgrads[pre + "attn.o.weight"].view(C, H, D)
        for hh in range(H):
            kept = hh in partial["heads"]
            assert bool((gq[hh] != 0).any()) == kept, ("q", hh)
            assert bool((go[:, hh] != 0).any()) == kept, ("o", hh)
        for j in range(cfg["d_ff"]):
            kept = j in partial["neurons"]
            for n, row in (("mlp.gate.weight", pgrads[pre + "mlp.gate.weight"][j]),
                           ("mlp.up.weight", pgrads[pre + "mlp.up.weight"][j]),
                           ("mlp.down.weight", pgrads[pre + "mlp.down.weight"][:, j])):
                assert bool((row != 0).any()) == kept, (n, j)

        out["partial"] = {
            "skip_layers": partial["skip_layers"],
            "layer": L,
            "heads": partial["heads"],
            "neurons": partial["neurons"],
            "attn_scale": partial["attn_scale"],
            "mlp_scale": partial["mlp_scale"],
            "loss": ploss.item(),
            "grads": {k: tensor_json(v) for k, v in pgrads.items()},
        }
        print(f"  [{label}] partial loss = {ploss.item():.15g}")
    return out


# --------------------------------------------------------------------------
# AdamW golden
# --------------------------------------------------------------------------

def make_adamw_golden(seed=1234, steps=5):
    gen = torch.Generator().manual_seed(seed)
    lr, betas, eps = 0.01, (0.9, 0.99), 1e-8
    wd = {"p0": 0.1, "p1": 0.0}
    init = {
        "p0": torch.randn(3, 4, generator=gen, dtype=torch.float32),
        "p1": torch.randn(4, generator=gen, dtype=torch.float32),
    }
    params = {k: torch.nn.Parameter(v.clone()) for k, v in init.items()}
    kwargs = dict(lr=lr, betas=betas, eps=eps)
    try:
        opt = torch.optim.AdamW(
            [{"params": [params["p0"]], "weight_decay": wd["p0"]},
             {"params": [params["p1"]], "weight_decay": wd["p1"]}],
            foreach=False, **kwargs)
    except TypeError:
        opt = torch.optim.AdamW(
            [{"params": [params["p0"]], "weight_decay": wd["p0"]},
             {"params": [params["p1"]], "weight_decay": wd["p1"]}], **kwargs)
    grads_log, after_log = [], []
    for _ in range(steps):
        g = {k: torch.randn(*v.shape, generator=gen, dtype=torch.float32) for k, v in params.items()}
        for k, v in params.items():
            v.grad = g[k].clone()
        opt.step()
        grads_log.append({k: tensor_json(t) for k, t in g.items()})
        after_log.append({k: tensor_json(v) for k, v in params.items()})
        for v in params.values():
            assert v.dtype == torch.float32

    # independent float64 re-derivation of the same update (sanity, loose tol)
    ref = {k: v.to(torch.float64).clone() for k, v in init.items()}
    m = {k: torch.zeros_like(v) for k, v in ref.items()}
    s = {k: torch.zeros_like(v) for k, v in ref.items()}
    for t in range(1, steps + 1):
        for k in ref:
            g = torch.tensor(grads_log[t - 1][k]["data"]).view(ref[k].shape)
            ref[k] = ref[k] * (1 - lr * wd[k])
            m[k] = betas[0] * m[k] + (1 - betas[0]) * g
            s[k] = betas[1] * s[k] + (1 - betas[1]) * g * g
            mhat = m[k] / (1 - betas[0] ** t)
            denom = (s[k] / (1 - betas[1] ** t)).sqrt() + eps
            ref[k] = ref[k] - lr * mhat / denom
            got = torch.tensor(after_log[t - 1][k]["data"]).view(ref[k].shape)
            assert (got - ref[k]).abs().max() < 1e-5, (k, t)

    return {
        "lr": lr,
        "betas": list(betas),
        "eps": eps,
        "weight_decay": wd,
        "torch_version": torch.__version__,
        "init": {k: tensor_json(v) for k, v in init.items()},
        "grads": grads_log,
        "after": after_log,
    }


def make_adamw_slices_golden(seed=4321):
    """AdamW with per-row (axis 0) and per-column (axis 1) step counters under masked updates and resets, as Sprout's
    subnetwork steps and SwitchLoRA use it, with torch.optim.AdamW in float64 as the reference: every row (column) is a
    parameter of its own, so it has its own moments and its own step count; a masked step gives only the listed slices a
    gradient (torch skips parameters without one); a reset clears a slice's moments and, unless told to keep it, its count.
    """
    gen = torch.Generator().manual_seed(seed)
    lr, betas, eps = 0.01, (0.9, 0.99), 1e-8
    shapes = {"w": (4, 3), "u": (3, 4)}
    axes = {"w": 0, "u": 1}
    decay = {"w": 0.1, "u": 0.0}
    init = {k: torch.randn(*sh, generator=gen, dtype=torch.float32) for k, sh in shapes.items()}
    # one float64 parameter per slice, each in a group with its tensor's weight decay
    parts = {k: [torch.nn.Parameter(init[k].to(torch.float64).select(axes[k], i).clone()) for i in range(shapes[k][axes[k]])] for k in shapes}
    groups = [{"params": parts[k], "weight_decay": decay[k]} for k in shapes]
    try:
        opt = torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps, foreach=False)
    except TypeError:
        opt = torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps)
    ops = [
        {"op": "step", "slices": {}},                              # all slices at count 1
        {"op": "step", "slices": {"w": [0, 2], "u": [1]}},         # w rows 0, 2 and u column 1 only: counts now differ
        {"op": "step", "slices": {"w": [2, 3]}},                   # u whole, w rows 2, 3
        {"op": "reset", "param": "w", "index": [2], "counters": True},   # SwitchLoRA's reset of one row
        {"op": "reset", "param": "u", "index": [0, 3], "counters": False},  # moments zeroed, counts kept
        {"op": "step", "slices": {}},                              # whole tensors with mixed counts
        {"op": "step", "slices": {"w": [1, 2], "u": [0, 2, 3]}},
        {"op": "step", "slices": {}},
    ]
    log = []
    for op in ops:
        if op["op"] == "reset":
            for i in op["index"]:
                st = opt.state[parts[op["param"]][i]]
                if st:
                    st["exp_avg"].zero_()
                    st["exp_avg_sq"].zero_()
                    if op["counters"]:
                        st["step"] = torch.zeros_like(st["step"]) if torch.is_tensor(st["step"]) else 0
            log.append(dict(op))
            continue
        grads = {k: torch.randn(*shapes[k], generator=gen, dtype=torch.float32) for k in shapes}
        for k in shapes:
            chosen = op["slices"].get(k, list(range(shapes[k][axes[k]])))
            for i, prt in enumerate(parts[k]):
                prt.grad = grads[k].to(torch.float64).select(axes[k], i).clone() if i in chosen else None
        opt.step()
        after = {k: torch.stack([prt.detach() for prt in parts[k]], dim=axes[k]) for k in shapes}
        log.append({"op": "step", "slices": op["slices"], "grads": {k: tensor_json(g) for k, g in grads.items()},
                    "after": {k: tensor_json(v) for k, v in after.items()},
                    "steps": {k: [int(opt.state[prt]["step"]) if opt.state[prt] else 0 for prt in parts[k]] for k in shapes}})
    return {"lr": lr, "betas": list(betas), "eps": eps, "weight_decay": decay, "axes": axes, "torch_version": torch.__version__,
            "init": {k: tensor_json(v) for k, v in init.items()}, "ops": log}


# --------------------------------------------------------------------------

def write(name, obj):
    path = os.path.join(OUT_DIR, name)
    with open(path, "w") as f:
        json.dump(obj, f)
        f.write("\n")
    size = os.path.getsize(path)
    print(f"wrote {os.path.relpath(path, ROOT)} ({size / 1024:.1f} KiB)")
    assert size < 300 * 1024, (name, size)


def main():
    torch.manual_seed(0)
    os.makedirs(OUT_DIR, exist_ok=True)

    # sanity: hand-written GELU matches torch's tanh approximation
    xs = torch.linspace(-4, 4, 101)
    assert torch.allclose(gelu_tanh(xs), F.gelu(xs, approximate="tanh"), atol=1e-12)

    print("gpt2_tiny:")
    gpt2 = make_model_golden(
        GPT2_CONFIG, gpt2_init, gpt2_forward, seed=2024,
        fd_names=["embed.tokens", "embed.positions", "blocks.0.attn.q.weight",
                  "blocks.1.attn.v.bias", "blocks.0.attn.k.weight",
                  "blocks.0.mlp.up.weight", "blocks.1.mlp.down.bias",
                  "blocks.1.attn_norm.weight", "final_norm.bias"])
    gpt2["plans"] = make_gpt2_plan_goldens(GPT2_CONFIG, {k: tensor_from_json(v) for k, v in gpt2["params"].items()},
                                           torch.tensor(gpt2["idx"]), torch.tensor(gpt2["targets"]), gpt2["loss"])
    write("gpt2_tiny.json", gpt2)

    print("llama_tiny:")
    llama = make_model_golden(
        LLAMA_CONFIG, llama_init, llama_forward, seed=2025,
        fd_names=["embed.tokens", "blocks.0.attn.q.weight", "blocks.0.attn.k.weight",
                  "blocks.1.attn.v.weight", "blocks.1.mlp.gate.weight",
                  "blocks.0.mlp_norm.weight", "head.weight"],
        partial=LLAMA_PARTIAL)
    write("llama_tiny.json", llama)

    print("adamw:")
    write("adamw.json", make_adamw_golden())

    print("adamw_slices:")
    write("adamw_slices.json", make_adamw_slices_golden())


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Reference logits for Sprout's Hugging Face folders (`export --format hf`, `train --init-from DIR`).

An independent float64 implementation of the forward passes of transformers' GPT2LMHeadModel and
LlamaForCausalLM, written from the transformers model definitions (modeling_gpt2.py, modeling_llama.py) and
their configs' documented defaults: tensor names, shapes and math. It imports neither transformers nor
safetensors (Debian's torch 1.13 has neither; the safetensors layout is read and written by hand below, with the
checks the safetensors library makes).

Reads (written by Sprout's HfGoldenTest under -Dsprout.golden.write=true: scripts/golden/README.md)
  src/test/resources/golden/hf/sprout_gpt2/    Sprout's export of a tiny seeded GPT-2
  src/test/resources/golden/hf/sprout_llama/   Sprout's export of a tiny seeded Llama (4 query / 2 kv heads)
Writes
  src/test/resources/golden/hf/torch_gpt2/     a tiny GPT-2 with this script's weights, laid out as the original
                                               openai-community/gpt2 checkpoint (no "transformer." prefix, attn.bias
                                               and attn.masked_bias buffers, n_inner and tie_word_embeddings absent)
  src/test/resources/golden/hf/torch_llama/    a tiny Llama with this script's weights in bfloat16 (1 kv head of 4,
                                               tied embeddings, rope_theta 5e5, rotary_emb.inv_freq buffers)
  src/test/resources/golden/hf_golden.json     for each of the four folders: a fixed token batch and its logits

Weights are float32 (or bfloat16), read exactly as Sprout reads them; all math is float64.

Usage (from the repository root):
    /usr/bin/python3 scripts/golden/hf_golden.py
"""

import json
import math
import os
import struct

import torch

torch.set_default_dtype(torch.float64)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, "src", "test", "resources", "golden")
HF = os.path.join(GOLDEN, "hf")

B = 2

# --------------------------------------------------------------------------
# safetensors, by hand
# --------------------------------------------------------------------------

DTYPES = {
    "F64": (torch.float64, 8), "F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2),
    "I64": (torch.int64, 8), "I32": (torch.int32, 4), "U8": (torch.uint8, 1), "BOOL": (torch.bool, 1),
}
NAMES = {dt: name for name, (dt, _) in DTYPES.items()}


def read_safetensors(path):
    """The tensors and metadata of a file, checking what the safetensors library checks: a JSON header, string
    metadata, and byte ranges that match each shape and dtype and tile the data section exactly, in order."""
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    assert 8 + n <= len(data), f"{path}: header of {n} bytes in a file of {len(data)}"
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", None)
    assert meta is None or all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()), meta
    body = data[8 + n:]
    pos = 0
    tensors = {}
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = info["data_offsets"]
        dtype, size = DTYPES[info["dtype"]]
        numel = math.prod(info["shape"])
        assert begin == pos, f"{path}: {name} starts at {begin}, expected {pos}"
        assert end - begin == numel * size, f"{path}: {name} has {end - begin} bytes for shape {info['shape']}"
        if info["dtype"] == "BF16":
            t = torch.frombuffer(bytearray(body[begin:end]), dtype=torch.int16).view(torch.bfloat16)
        else:
            t = torch.frombuffer(bytearray(body[begin:end]), dtype=dtype)
        tensors[name] = t.reshape(info["shape"]).clone()
        pos = end
    assert pos == len(body), f"{path}: data section has {len(body)} bytes, tensors cover {pos}"
    return tensors, meta


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def write_safetensors(path, tensors, metadata):
    """Tensors sorted by name (as checkpoints on the Hub are), header padded with spaces to 8 bytes."""
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        raw = tensor_bytes(tensors[name])
        header[name] = {"dtype": NAMES[tensors[name].dtype], "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


# --------------------------------------------------------------------------
# configs: transformers' defaults for absent fields
# --------------------------------------------------------------------------

GPT2_DEFAULTS = {  # GPT2Config.__init__ (tie_word_embeddings from PretrainedConfig)
    "vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12, "n_inner": None,
    "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "scale_attn_weights": True,
    "scale_attn_by_inverse_layer_idx": False, "tie_word_embeddings": True,
}
LLAMA_DEFAULTS = {  # LlamaConfig.__init__
    "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": None, "head_dim": None, "hidden_act": "silu",
    "max_position_embeddings": 2048, "rms_norm_eps": 1e-6, "tie_word_embeddings": False, "rope_theta": 10000.0,
    "rope_scaling": None, "attention_bias": False, "mlp_bias": False,
}


def read_config(folder):
    with open(os.path.join(folder, "config.json")) as f:
        raw = json.load(f)
    cfg = dict(GPT2_DEFAULTS if raw["model_type"] == "gpt2" else LLAMA_DEFAULTS)
    cfg.update(raw)
    if cfg["model_type"] == "gpt2":
        if cfg["n_inner"] is None:
            cfg["n_inner"] = 4 * cfg["n_embd"]
        assert cfg["activation_function"] in ("gelu_new", "gelu_pytorch_tanh"), cfg["activation_function"]
        assert cfg["scale_attn_weights"] and not cfg["scale_attn_by_inverse_layer_idx"]
    else:
        if cfg["num_key_value_heads"] is None:
            cfg["num_key_value_heads"] = cfg["num_attention_heads"]
        if cfg["head_dim"] is None:
            cfg["head_dim"] = cfg["hidden_size"] // cfg["num_attention_heads"]
        assert cfg["hidden_act"] == "silu" and cfg["rope_scaling"] is None
        assert not cfg["attention_bias"] and not cfg["mlp_bias"]
    return cfg


def load_folder(folder):
    cfg = read_config(folder)
    sd, meta = read_safetensors(os.path.join(folder, "model.safetensors"))
    assert meta is not None and meta.get("format") == "pt", f"transformers needs metadata format=pt, got {meta}"
    return cfg, sd


def with_prefix(sd, prefix):
    """A bare GPT2Model / LlamaModel checkpoint names its tensors without the causal-LM prefix."""
    return {k if k.startswith(prefix) or k.startswith("lm_head.") else prefix + k: v for k, v in sd.items()}


# --------------------------------------------------------------------------
# shared math
# --------------------------------------------------------------------------

def causal_softmax_attention(q, k, v, scale):
    """q, k, v: [B, H, T, D]; eager attention with the causal mask (masked scores never win the softmax)."""
    T = q.shape[-2]
    scores = (q @ k.transpose(-1, -2)) * scale
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


# --------------------------------------------------------------------------
# GPT2LMHeadModel (modeling_gpt2.py), eval mode
# --------------------------------------------------------------------------

def gpt2_layer_norm(x, w, b, eps):  # nn.LayerNorm(n_embd, eps=layer_norm_epsilon)
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def conv1d(x, w, b):
    """transformers.pytorch_utils.Conv1D: weight [nx (in), nf (out)], y = x @ weight + bias."""
    return x @ w + b


def gelu_new(x):  # transformers.activations.NewGELUActivation
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def gpt2_logits(cfg, sd, idx, dtype=torch.float64):
    sd = with_prefix(sd, "transformer.")
    W = lambda name: sd[name].to(dtype)
    C, H, eps = cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
    D = C // H
    Bn, T = idx.shape

    def split_heads(t):  # GPT2Attention._split_heads: [B, T, C] -> [B, H, T, D]
        return t.view(Bn, T, H, D).permute(0, 2, 1, 3)

    x = W("transformer.wte.weight")[idx] + W("transformer.wpe.weight")[torch.arange(T)]
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        h = gpt2_layer_norm(x, W(p + "ln_1.weight"), W(p + "ln_1.bias"), eps)
        q, k, v = conv1d(h, W(p + "attn.c_attn.weight"), W(p + "attn.c_attn.bias")).split(C, dim=2)
        a = causal_softmax_attention(split_heads(q), split_heads(k), split_heads(v), 1.0 / math.sqrt(D))
        a = a.permute(0, 2, 1, 3).reshape(Bn, T, C)  # _merge_heads
        x = x + conv1d(a, W(p + "attn.c_proj.weight"), W(p + "attn.c_proj.bias"))
        h = gpt2_layer_norm(x, W(p + "ln_2.weight"), W(p + "ln_2.bias"), eps)
        m = gelu_new(conv1d(h, W(p + "mlp.c_fc.weight"), W(p + "mlp.c_fc.bias")))
        x = x + conv1d(m, W(p + "mlp.c_proj.weight"), W(p + "mlp.c_proj.bias"))
    x = gpt2_layer_norm(x, W("transformer.ln_f.weight"), W("transformer.ln_f.bias"), eps)
    head = W("transformer.wte.weight") if cfg["tie_word_embeddings"] else W("lm_head.weight")
    return x @ head.t()


# --------------------------------------------------------------------------
# LlamaForCausalLM (modeling_llama.py), eval mode
# --------------------------------------------------------------------------

def llama_rms_norm(x, w, eps):  # LlamaRMSNorm
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def hf_rope(T, D, theta, dtype):
    """LlamaRotaryEmbedding (default rope type) and apply_rotary_pos_emb, on [B, H, T, D]."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.int64).to(dtype) / D))
    freqs = torch.outer(torch.arange(T, dtype=dtype), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    return lambda x: x * cos + rotate_half(x) * sin


def meta_rope(T, D, theta, dtype):
    """Meta's llama/model.py apply_rotary_emb: adjacent pairs (2i, 2i+1) rotated as complex numbers, on [B, H, T, D]."""
    freqs = 1.0 / (theta ** (torch.arange(0, D, 2)[: D // 2].to(dtype) / D))
    freqs_cis = torch.polar(torch.ones(T, D // 2, dtype=dtype), torch.outer(torch.arange(T, dtype=dtype), freqs))

    def apply(x):
        xc = torch.view_as_complex(x.reshape(*x.shape[:-1], -1, 2).contiguous())
        return torch.view_as_real(xc * freqs_cis).flatten(-2)
    return apply


def repeat_kv(x, n_rep):  # [B, G, T, D] -> [B, G * n_rep, T, D]: query head j reads key/value head j // n_rep
    b, g, t, d = x.shape
    return x[:, :, None, :, :].expand(b, g, n_rep, t, d).reshape(b, g * n_rep, t, d)


def llama_logits(cfg, sd, idx, dtype=torch.float64, rope=hf_rope):
    sd = with_prefix(sd, "model.")
    W = lambda name: sd[name].to(dtype)
    H, G, D, eps = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"], cfg["rms_norm_eps"]
    Bn, T = idx.shape
    rot = rope(T, D, float(cfg["rope_theta"]), dtype)
    x = W("model.embed_tokens.weight")[idx]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = llama_rms_norm(x, W(p + "input_layernorm.weight"), eps)
        q = (h @ W(p + "self_attn.q_proj.weight").t()).view(Bn, T, H, D).transpose(1, 2)
        k = (h @ W(p + "self_attn.k_proj.weight").t()).view(Bn, T, G, D).transpose(1, 2)
        v = (h @ W(p + "self_attn.v_proj.weight").t()).view(Bn, T, G, D).transpose(1, 2)
        q, k = rot(q), rot(k)
        a = causal_softmax_attention(q, repeat_kv(k, H // G), repeat_kv(v, H // G), D ** -0.5)
        a = a.transpose(1, 2).reshape(Bn, T, H * D)
        x = x + a @ W(p + "self_attn.o_proj.weight").t()
        h = llama_rms_norm(x, W(p + "post_attention_layernorm.weight"), eps)
        gate = h @ W(p + "mlp.gate_proj.weight").t()
        up = h @ W(p + "mlp.up_proj.weight").t()
        x = x + (gate * torch.sigmoid(gate) * up) @ W(p + "mlp.down_proj.weight").t()
    x = llama_rms_norm(x, W("model.norm.weight"), eps)
    head = W("model.embed_tokens.weight") if cfg["tie_word_embeddings"] else W("lm_head.weight")
    return x @ head.t()


def unpermute(w, n_heads):
    """The inverse of convert_llama_weights_to_hf.py's permute: an HF q/k weight back in Meta's interleaved layout."""
    dim1, dim2 = w.shape
    return w.view(n_heads, 2, dim1 // n_heads // 2, dim2).transpose(1, 2).reshape(dim1, dim2)


def check_rope_convention(cfg, sd, idx, logits):
    """HF's rotate-half RoPE on HF-layout q/k equals Meta's interleaved RoPE on the weights unpermuted to Meta's layout
    (what convert_llama_weights_to_hf.py's permute is for), and rotate-half on the unpermuted weights does not: the
    reference implements HF's convention, against which Sprout's rotate-half on its own weights is then compared."""
    sd = with_prefix(sd, "model.")
    meta = dict(sd)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}.self_attn."
        meta[p + "q_proj.weight"] = unpermute(sd[p + "q_proj.weight"], cfg["num_attention_heads"])
        meta[p + "k_proj.weight"] = unpermute(sd[p + "k_proj.weight"], cfg["num_key_value_heads"])
    same = (llama_logits(cfg, meta, idx, rope=meta_rope) - logits).abs().max().item()
    assert same < 1e-10, f"Meta's RoPE on Meta's layout differs from HF's by {same}"
    wrong = (llama_logits(cfg, meta, idx) - logits).abs().max().item()
    assert wrong > 1e-3, f"rotate-half on Meta's layout should differ, differs by {wrong}"


# --------------------------------------------------------------------------
# the script's own folders
# --------------------------------------------------------------------------

def f32(gen, shape, std, mean=0.0):
    return (torch.randn(*shape, generator=gen, dtype=torch.float32) * std + mean).to(torch.float32)


def make_torch_gpt2(folder):
    """As the original openai-community/gpt2 files: GPT2Model names (no prefix), mask buffers, sparse config."""
    V, C, H, L, P = 17, 16, 4, 2, 9
    F_ = 4 * C
    gen = torch.Generator().manual_seed(2024)
    sd = {"wte.weight": f32(gen, (V, C), 0.3), "wpe.weight": f32(gen, (P, C), 0.3)}
    for i in range(L):
        p = f"h.{i}."
        sd[p + "ln_1.weight"] = f32(gen, (C,), 0.1, 1.0)
        sd[p + "ln_1.bias"] = f32(gen, (C,), 0.1)
        sd[p + "attn.c_attn.weight"] = f32(gen, (C, 3 * C), 0.3)
        sd[p + "attn.c_attn.bias"] = f32(gen, (3 * C,), 0.1)
        sd[p + "attn.c_proj.weight"] = f32(gen, (C, C), 0.3)
        sd[p + "attn.c_proj.bias"] = f32(gen, (C,), 0.1)
        sd[p + "ln_2.weight"] = f32(gen, (C,), 0.1, 1.0)
        sd[p + "ln_2.bias"] = f32(gen, (C,), 0.1)
        sd[p + "mlp.c_fc.weight"] = f32(gen, (C, F_), 0.3)
        sd[p + "mlp.c_fc.bias"] = f32(gen, (F_,), 0.1)
        sd[p + "mlp.c_proj.weight"] = f32(gen, (F_, C), 0.3)
        sd[p + "mlp.c_proj.bias"] = f32(gen, (C,), 0.1)
        sd[p + "attn.bias"] = torch.ones(P, P, dtype=torch.float32).tril().view(1, 1, P, P)  # the causal-mask buffer
        sd[p + "attn.masked_bias"] = torch.tensor(-1e4, dtype=torch.float32)
    sd["ln_f.weight"] = f32(gen, (C,), 0.1, 1.0)
    sd["ln_f.bias"] = f32(gen, (C,), 0.1)
    config = {
        "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
        "bos_token_id": V - 1, "embd_pdrop": 0.1, "eos_token_id": V - 1, "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": P, "n_embd": C, "n_head": H, "n_layer": L,
        "n_positions": P, "resid_pdrop": 0.1, "summary_activation": None, "summary_first_dropout": 0.1,
        "summary_proj_to_labels": True, "summary_type": "cls_index", "summary_use_proj": True, "vocab_size": V,
    }
    os.makedirs(folder, exist_ok=True)
    write_json(os.path.join(folder, "config.json"), config)
    write_safetensors(os.path.join(folder, "model.safetensors"), sd, {"format": "pt"})


def make_torch_llama(folder):
    """bfloat16 weights, tied embeddings, one key/value head for 4 query heads, inv_freq buffers (transformers < 4.31)."""
    V, C, H, G, L, F_, theta = 19, 16, 4, 1, 2, 40, 500000.0
    D = C // H
    gen = torch.Generator().manual_seed(4048)
    bf = lambda shape, std, mean=0.0: f32(gen, shape, std, mean).to(torch.bfloat16)
    sd = {"model.embed_tokens.weight": bf((V, C), 0.5)}
    for i in range(L):
        p = f"model.layers.{i}."
        sd[p + "self_attn.q_proj.weight"] = bf((H * D, C), 0.3)
        sd[p + "self_attn.k_proj.weight"] = bf((G * D, C), 0.3)
        sd[p + "self_attn.v_proj.weight"] = bf((G * D, C), 0.3)
        sd[p + "self_attn.o_proj.weight"] = bf((C, H * D), 0.3)
        sd[p + "mlp.gate_proj.weight"] = bf((F_, C), 0.3)
        sd[p + "mlp.up_proj.weight"] = bf((F_, C), 0.3)
        sd[p + "mlp.down_proj.weight"] = bf((C, F_), 0.3)
        sd[p + "input_layernorm.weight"] = bf((C,), 0.1, 1.0)
        sd[p + "post_attention_layernorm.weight"] = bf((C,), 0.1, 1.0)
        sd[p + "self_attn.rotary_emb.inv_freq"] = (1.0 / (theta ** (torch.arange(0, D, 2).float() / D))).to(torch.float32)
    sd["model.norm.weight"] = bf((C,), 0.1, 1.0)
    config = {
        "architectures": ["LlamaForCausalLM"], "attention_bias": False, "bos_token_id": 1, "eos_token_id": 2,
        "hidden_act": "silu", "hidden_size": C, "initializer_range": 0.02, "intermediate_size": F_,
        "max_position_embeddings": 32, "model_type": "llama", "num_attention_heads": H, "num_hidden_layers": L,
        "num_key_value_heads": G, "pretraining_tp": 1, "rms_norm_eps": 1e-06, "rope_scaling": None,
        "rope_theta": theta, "tie_word_embeddings": True, "torch_dtype": "bfloat16", "use_cache": True, "vocab_size": V,
    }
    os.makedirs(folder, exist_ok=True)
    write_json(os.path.join(folder, "config.json"), config)
    write_safetensors(os.path.join(folder, "model.safetensors"), sd, {"format": "pt"})


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

CASES = {  # folder: (sequence length, batch seed)
    "sprout_gpt2": (5, 101),
    "sprout_llama": (6, 102),
    "torch_gpt2": (6, 103),
    "torch_llama": (8, 104),
}


def tensor_json(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def main():
    make_torch_gpt2(os.path.join(HF, "torch_gpt2"))
    make_torch_llama(os.path.join(HF, "torch_llama"))
    out = {}
    for name, (T, seed) in CASES.items():
        folder = os.path.join(HF, name)
        cfg, sd = load_folder(folder)
        if name.startswith("sprout_"):
            assert all(t.dtype == torch.float32 for t in sd.values()), "Sprout exports float32"
        gen = torch.Generator().manual_seed(seed)
        idx = torch.randint(0, cfg["vocab_size"], (B, T), generator=gen)
        forward = gpt2_logits if cfg["model_type"] == "gpt2" else llama_logits
        logits = forward(cfg, sd, idx)
        # float32 math on the same weights agrees: the reference is well conditioned at the tests' tolerance
        drift = (forward(cfg, sd, idx, dtype=torch.float32).to(torch.float64) - logits).abs().max().item()
        assert drift < 1e-5, f"{name}: float32 vs float64 logits differ by {drift}"
        if cfg["model_type"] == "llama":
            check_rope_convention(cfg, sd, idx, logits)
        out[name] = {"folder": "hf/" + name, "idx": idx.tolist(), "logits": tensor_json(logits)}
        print(f"{name}: logits {list(logits.shape)}, |max| {logits.abs().max().item():.3f}, float32 drift {drift:.2e}")
    path = os.path.join(GOLDEN, "hf_golden.json")
    with open(path, "w") as f:
        json.dump(out, f)
        f.write("\n")
    for p in [path] + [os.path.join(HF, n, "model.safetensors") for n in CASES]:
        assert os.path.getsize(p) < 300_000, f"{p} is over 300 KB"
    print("wrote", os.path.relpath(path, ROOT))


if __name__ == "__main__":
    main()

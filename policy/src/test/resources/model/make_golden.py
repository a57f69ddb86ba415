#!/usr/bin/python3
"""Writes the golden tiny checkpoints used by GoldenLogitsTest.

Independent of the Java code on purpose: weights are drawn with Python's `random`, written to
safetensors by hand (struct + json, Hugging Face tensor names, F32), and the expected logits come
from a plain-Python forward of the Qwen2/Dream architecture in double precision, following the
Hugging Face modeling code literally: RMSNorm, rotary embedding with rotate_half, grouped-query
attention with q/k/v bias and `repeat_kv` head mapping (query head h uses kv head h // g), no causal
mask, SwiGLU MLP, pre-norm residuals, final norm, LM head (tied or not). With an attention mask,
padded keys are excluded and positions are cumsum(mask) - 1 (1 on pads), as in Dream's sampler.

Run from this directory: /usr/bin/python3 make_golden.py
"""
import json
import math
import os
import random
import struct

TOKENS = [[3, 7, 1, 12, 5, 9], [0, 11, 2, 2, 8, 4]]
MASK = [[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1]]


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def make_weights(cfg, seed):
    rng = random.Random(seed)
    v, e, i = cfg["vocab_size"], cfg["hidden_size"], cfg["intermediate_size"]
    h, hk = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d = e // h

    def mat(rows, cols, std):
        return [[f32(rng.gauss(0, std)) for _ in range(cols)] for _ in range(rows)]

    def vec(n, mean, std):
        return [f32(mean + rng.gauss(0, std)) for _ in range(n)]

    w = {"model.embed_tokens.weight": mat(v, e, 0.8)}
    for layer in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % layer
        w[p + "input_layernorm.weight"] = vec(e, 1.0, 0.2)
        w[p + "self_attn.q_proj.weight"] = mat(h * d, e, 0.5)
        w[p + "self_attn.q_proj.bias"] = vec(h * d, 0.0, 0.1)
        w[p + "self_attn.k_proj.weight"] = mat(hk * d, e, 0.5)
        w[p + "self_attn.k_proj.bias"] = vec(hk * d, 0.0, 0.1)
        w[p + "self_attn.v_proj.weight"] = mat(hk * d, e, 0.5)
        w[p + "self_attn.v_proj.bias"] = vec(hk * d, 0.0, 0.1)
        w[p + "self_attn.o_proj.weight"] = mat(e, h * d, 0.5)
        w[p + "post_attention_layernorm.weight"] = vec(e, 1.0, 0.2)
        w[p + "mlp.gate_proj.weight"] = mat(i, e, 0.5)
        w[p + "mlp.up_proj.weight"] = mat(i, e, 0.5)
        w[p + "mlp.down_proj.weight"] = mat(e, i, 0.5)
    w["model.norm.weight"] = vec(e, 1.0, 0.2)
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = mat(v, e, 0.5)
    return w


def linear(x, weight, bias=None):
    out = []
    for o, row in enumerate(weight):
        s = sum(a * b for a, b in zip(row, x))
        out.append(s + (bias[o] if bias is not None else 0.0))
    return out


def rmsnorm(x, weight, eps):
    ms = sum(a * a for a in x) / len(x)
    r = 1.0 / math.sqrt(ms + eps)
    return [weight[k] * x[k] * r for k in range(len(x))]


def rope(vec, pos, theta):
    d = len(vec)
    half = d // 2
    inv = [1.0 / theta ** (2.0 * k / d) for k in range(half)]
    ang = [pos * f for f in inv] * 2
    rot = [-vec[half + k] for k in range(half)] + [vec[k] for k in range(half)]
    return [vec[k] * math.cos(ang[k]) + rot[k] * math.sin(ang[k]) for k in range(d)]


def forward(cfg, w, tokens, mask):
    e = cfg["hidden_size"]
    h, hk = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d, g = e // h, h // hk
    eps, theta = cfg["rms_norm_eps"], cfg["rope_theta"]
    t_len = len(tokens)
    if mask is None:
        positions = list(range(t_len))
        real = [True] * t_len
    else:
        positions, c = [], 0
        for m in mask:
            c += m
            positions.append(c - 1 if m else 1)
        real = [m == 1 for m in mask]
    x = [list(w["model.embed_tokens.weight"][tok]) for tok in tokens]
    for layer in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % layer
        normed = [rmsnorm(row, w[p + "input_layernorm.weight"], eps) for row in x]
        q = [linear(r, w[p + "self_attn.q_proj.weight"], w[p + "self_attn.q_proj.bias"]) for r in normed]
        k = [linear(r, w[p + "self_attn.k_proj.weight"], w[p + "self_attn.k_proj.bias"]) for r in normed]
        v = [linear(r, w[p + "self_attn.v_proj.weight"], w[p + "self_attn.v_proj.bias"]) for r in normed]
        qh = [[rope(q[t][a * d:(a + 1) * d], positions[t], theta) for a in range(h)] for t in range(t_len)]
        kh = [[rope(k[t][a * d:(a + 1) * d], positions[t], theta) for a in range(hk)] for t in range(t_len)]
        vh = [[v[t][a * d:(a + 1) * d] for a in range(hk)] for t in range(t_len)]
        attn = []
        for t in range(t_len):
            heads = []
            for a in range(h):
                kv = a // g
                keys = [j for j in range(t_len) if real[j]]
                scores = [sum(qq * kk for qq, kk in zip(qh[t][a], kh[j][kv])) / math.sqrt(d) for j in keys]
                mx = max(scores)
                ex = [math.exp(s - mx) for s in scores]
                z = sum(ex)
                ctx = [0.0] * d
                for j, pj in zip(keys, ex):
                    for dd in range(d):
                        ctx[dd] += pj / z * vh[j][kv][dd]
                heads.extend(ctx)
            attn.append(linear(heads, w[p + "self_attn.o_proj.weight"]))
        x = [[a + b for a, b in zip(x[t], attn[t])] for t in range(t_len)]
        normed = [rmsnorm(row, w[p + "post_attention_layernorm.weight"], eps) for row in x]
        mlp = []
        for r in normed:
            gate = linear(r, w[p + "mlp.gate_proj.weight"])
            up = linear(r, w[p + "mlp.up_proj.weight"])
            act = [gg / (1.0 + math.exp(-gg)) * uu for gg, uu in zip(gate, up)]
            mlp.append(linear(act, w[p + "mlp.down_proj.weight"]))
        x = [[a + b for a, b in zip(x[t], mlp[t])] for t in range(t_len)]
    head = w["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return [linear(rmsnorm(row, w["model.norm.weight"], eps), head) for row in x]


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        shape = [len(t), len(t[0])] if isinstance(t[0], list) else [len(t)]
        flat = [a for row in t for a in row] if isinstance(t[0], list) else t
        data = struct.pack("<%df" % len(flat), *flat)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def make(name, tie, seed):
    cfg = {
        "architectures": ["DreamModel"], "model_type": "Dream", "hidden_act": "silu",
        "vocab_size": 13, "hidden_size": 16, "intermediate_size": 20, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "rope_theta": 10.0,
        "rms_norm_eps": 1e-6, "tie_word_embeddings": tie, "max_position_embeddings": 64,
        "torch_dtype": "float32", "mask_token_id": 12, "pad_token_id": 0,
        "rope_scaling": None, "use_sliding_window": False, "sliding_window": None,
        "some_unknown_key": {"ignored": True},
    }
    w = make_weights(cfg, seed)
    os.makedirs(name, exist_ok=True)
    with open(os.path.join(name, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(name, "model.safetensors"), w)
    golden = {
        "tokens": TOKENS,
        "mask": MASK,
        "logits_no_mask": [forward(cfg, w, row, None) for row in TOKENS],
        "logits_with_mask": [forward(cfg, w, row, m) for row, m in zip(TOKENS, MASK)],
    }
    with open(os.path.join(name, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)


if __name__ == "__main__":
    make("golden-untied", False, 20250701)
    make("golden-tied", True, 20250702)

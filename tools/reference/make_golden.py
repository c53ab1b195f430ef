#!/usr/bin/env python3
"""Generate the Nemotron-H golden fixtures under src/test/resources/golden/ (deterministic).

    python3 tools/reference/make_golden.py [OUT_DIR]

For every fixture model: draw realistically initialised random weights (fixed seed), round them to BF16,
write config.json + model.safetensors, load the checkpoint back with nemotron_h_ref.load() and evaluate
the fp64 reference (sequential Mamba-2 recurrence) on the BF16 weights.  Writes expected*.json and
debug.json.  Before writing the expectations it runs self-checks and asserts:
  * safetensors round trip is bit-exact, F32->BF16 rounding matches hand-computed cases;
  * chunked SSD == sequential recurrence (logits and final caches), several chunk sizes;
  * token-by-token decode (§4.7) == full-sequence logits; chunked prefill + decode == full sequence;
    prefill in two pieces with carried caches == one piece.
"""

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nemotron_h_ref as ref  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOL = 1e-10
SIG_DIGITS = 8
GREEDY_STEPS = 8

FIXTURES = [
    dict(
        name="hybrid-a",
        seed=20240601,
        vocab=96, hidden=48, pattern="M*-M-*M",
        G=2, N=8, K=4, chunk_size=16, head_dim=12, nKV=2,
        mamba=[(6, 10), (6, 10), (6, 10)],        # (nh, hd) per Mamba layer: I = 60 != expand*hidden = 96
        attn=[6, 6],                              # nH per attention layer: nH*hd = 72 != hidden
        mlp=[80, 80],                             # width per MLP layer
        prefix="backbone.", head_dim_key="head_dim", time_step_limit=[0.0, float("inf")],
        sequences={"expected.json": 45, "expected-short.json": 3},
    ),
    dict(
        name="hybrid-b-hetero",
        seed=20240602,
        vocab=80, hidden=40, pattern="M*-M-*",
        G=2, N=6, K=4, chunk_size=8, head_dim=12, nKV=2,
        mamba=[(4, 8), (6, 8)],                   # nh 4 then 6 (2 and 3 heads per group)
        attn=[4, 6],
        mlp=[64, 40],
        prefix="model.", head_dim_key="attention_head_dim", time_step_limit=[0.0, 1e30],
        sequences={"expected.json": 37},
    ),
]


# ----------------------------------------------------------------------------------------------------
# Random model
# ----------------------------------------------------------------------------------------------------


def make_weights(spec, rng):
    H, V, G, N, K, hdim = spec["hidden"], spec["vocab"], spec["G"], spec["N"], spec["K"], spec["head_dim"]
    P = spec["prefix"]
    normal = lambda shape, std: rng.normal(0.0, std, size=shape)
    norm_w = lambda n: rng.uniform(0.9, 1.1, size=n)
    t = {P + "embeddings.weight": normal((V, H), 1.0)}
    mamba, attn, mlp = iter(spec["mamba"]), iter(spec["attn"]), iter(spec["mlp"])
    for i, kind in enumerate(spec["pattern"]):
        lp, mp = f"{P}layers.{i}.", f"{P}layers.{i}.mixer."
        t[lp + "norm.weight"] = norm_w(H)
        if kind == "M":
            nh, hd = next(mamba)
            I = nh * hd
            conv_dim = I + 2 * G * N
            t[mp + "in_proj.weight"] = normal((2 * I + 2 * G * N + nh, H), H ** -0.5)
            t[mp + "conv1d.weight"] = normal((conv_dim, 1, K), 0.3)
            t[mp + "conv1d.bias"] = normal(conv_dim, 0.1)
            dt = np.exp(rng.uniform(np.log(1e-3), np.log(0.1), size=nh))
            t[mp + "dt_bias"] = dt + np.log(-np.expm1(-dt))            # inverse softplus
            t[mp + "A_log"] = np.log(rng.uniform(1.0, 16.0, size=nh))
            t[mp + "D"] = rng.uniform(0.5, 1.5, size=nh)
            t[mp + "norm.weight"] = norm_w(I)
            t[mp + "out_proj.weight"] = normal((H, I), I ** -0.5)
        elif kind == "*":
            nH, nKV = next(attn), spec["nKV"]
            t[mp + "q_proj.weight"] = normal((nH * hdim, H), H ** -0.5)
            t[mp + "k_proj.weight"] = normal((nKV * hdim, H), H ** -0.5)
            t[mp + "v_proj.weight"] = normal((nKV * hdim, H), H ** -0.5)
            t[mp + "o_proj.weight"] = normal((H, nH * hdim), (nH * hdim) ** -0.5)
        elif kind == "-":
            W = next(mlp)
            t[mp + "up_proj.weight"] = normal((W, H), H ** -0.5)
            t[mp + "down_proj.weight"] = normal((H, W), W ** -0.5)
    t[P + "norm_f.weight"] = norm_w(H)
    t["lm_head.weight"] = normal((V, H), H ** -0.5)
    return t


def make_config(spec):
    nh0, hd0 = spec["mamba"][0]
    cfg = {
        "architectures": ["NemotronHForCausalLM"],
        "model_type": "nemotron_h",
        "vocab_size": spec["vocab"],
        "hidden_size": spec["hidden"],
        "num_hidden_layers": len(spec["pattern"]),
        "hybrid_override_pattern": spec["pattern"],
        "intermediate_size": spec["mlp"][0],
        "mlp_hidden_act": "relu2",
        "mlp_bias": False,
        "num_attention_heads": spec["attn"][0],
        "num_key_value_heads": spec["nKV"],
        spec["head_dim_key"]: spec["head_dim"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "hidden_dropout": 0.0,
        "mamba_num_heads": nh0,
        "mamba_head_dim": hd0,
        "ssm_state_size": spec["N"],
        "n_groups": spec["G"],
        "conv_kernel": spec["K"],
        "chunk_size": spec["chunk_size"],
        "expand": 2,
        "mamba_hidden_act": "silu",
        "use_conv_bias": True,
        "use_bias": False,
        "mamba_proj_bias": False,
        "time_step_limit": spec["time_step_limit"],
        "time_step_min": 0.001,
        "time_step_max": 0.1,
        "time_step_floor": 1e-4,
        "layer_norm_epsilon": 1e-5,
        "residual_in_fp32": False,
        "tie_word_embeddings": False,
        "pad_token_id": 0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "max_position_embeddings": 4096,
        "mamba_ssm_cache_dtype": "float32",
        "torch_dtype": "bfloat16",
        "use_cache": True,
    }
    return cfg


# ----------------------------------------------------------------------------------------------------
# Self-checks
# ----------------------------------------------------------------------------------------------------


def check_bf16_rounding():
    cases = {  # float32 bits -> expected bf16 bits (round to nearest, ties to even)
        0x3F800000: 0x3F80,  # 1.0
        0x3F808000: 0x3F80,  # tie, even below -> down
        0x3F818000: 0x3F82,  # tie, odd below -> up
        0x3F808001: 0x3F81,  # just above the tie -> up
        0x3F807FFF: 0x3F80,  # just below the tie -> down
        0xBF818000: 0xBF82,  # negative tie -> away from zero to even
        0x7F7FFFFF: 0x7F80,  # FLT_MAX -> +inf (as PyTorch)
        0x7F800000: 0x7F80,  # +inf
        0xFF800000: 0xFF80,  # -inf
        0x00000001: 0x0000,  # smallest subnormal -> +0
        0x7FC00001: 0x7FC0,  # NaN -> quiet NaN
    }
    bits = np.array(list(cases), dtype=np.uint32)
    got = ref.f32_to_bf16_bits(bits.view(np.float32))
    want = np.array(list(cases.values()), dtype=np.uint16)
    assert np.array_equal(got, want), (got, want)


def max_diff_caches(c1, c2):
    d = 0.0
    for a, b in zip(c1, c2):
        if a is None:
            continue
        for k in a:
            d = max(d, float(np.max(np.abs(a[k] - b[k]))) if a[k].size else 0.0)
    return d


def self_check(model, ids, label):
    """Returns (reference logits [T, V], dict of max differences).  Asserts every difference <= TOL."""
    r = {}
    cache_seq = ref.new_cache(model)
    logits = ref.forward(model, ids, cache=cache_seq)                       # sequential recurrence
    cache_chk = ref.new_cache(model)
    r["chunked_vs_seq_logits"] = np.abs(ref.forward(model, ids, cache=cache_chk, ssm="chunked") - logits).max()
    r["chunked_vs_seq_final_caches"] = max_diff_caches(cache_chk, cache_seq)
    d = 0.0
    for q in (1, 3, 5, 64):
        d = max(d, np.abs(ref.forward(model, ids, ssm="chunked", chunk_size=q) - logits).max())
    r["chunk_sizes_1_3_5_64_vs_seq_logits"] = d

    cache_dec = ref.new_cache(model)
    dec = np.stack([ref.decode_step(model, tok, cache_dec) for tok in ids])
    r["decode_vs_full_logits"] = np.abs(dec - logits).max()
    r["decode_vs_full_final_caches"] = max_diff_caches(cache_dec, cache_seq)

    P = max(1, (2 * len(ids)) // 3)                                         # chunked prefill + decode
    cache_pd = ref.new_cache(model)
    pre = ref.forward(model, ids[:P], cache=cache_pd, ssm="chunked")
    rest = [ref.decode_step(model, tok, cache_pd) for tok in ids[P:]]
    r["chunked_prefill_plus_decode_vs_full"] = np.abs(np.concatenate([pre] + [x[None] for x in rest]) - logits).max()

    P2 = len(ids) // 2 + 1                                                  # prefill in two pieces
    cache_2 = ref.new_cache(model)
    two = np.concatenate([ref.forward(model, ids[:P2], cache=cache_2, ssm="chunked"),
                          ref.forward(model, ids[P2:], cache=cache_2, ssm="chunked")])
    r["two_piece_prefill_vs_one"] = max(np.abs(two - logits).max(), max_diff_caches(cache_2, cache_seq))

    for k, v in r.items():
        print(f"  [{label}] {k:40s} {v:.3e}")
        assert v <= TOL, f"{label}: {k} = {v} > {TOL}"
    return logits, r


# ----------------------------------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------------------------------


def rnd(v):
    return float(f"{v:.{SIG_DIGITS}g}")


def dump_rows(rows):
    return "[\n" + ",\n".join(json.dumps([rnd(v) for v in row]) for row in rows) + "\n]"


def write_expected(path, ids, logits):
    with open(path, "w") as f:
        f.write('{"ids": ' + json.dumps([int(i) for i in ids]) + ',\n"logits": ' + dump_rows(logits) + "}\n")


def greedy(model, ids, steps):
    cache = ref.new_cache(model)
    for tok in ids[:-1]:
        ref.decode_step(model, tok, cache)
    out, tok, margins = [], ids[-1], []
    for _ in range(steps):
        lg = ref.decode_step(model, tok, cache)
        top = np.sort(lg)[-2:]
        margins.append(top[1] - top[0])
        tok = int(np.argmax(lg))
        out.append(tok)
    return out, min(margins)


def build(spec, out_root):
    name = spec["name"]
    print(f"{name}:")
    rng = np.random.default_rng(spec["seed"])
    d = os.path.join(out_root, name)
    os.makedirs(d, exist_ok=True)

    weights = make_weights(spec, rng)
    bits = {k: ref.f32_to_bf16_bits(v.astype(np.float32)) for k, v in weights.items()}
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write(json.dumps(make_config(spec), indent=2, sort_keys=True) + "\n")
    st = os.path.join(d, "model.safetensors")
    ref.write_safetensors(st, {k: ("BF16", v) for k, v in bits.items()})
    back = ref.read_safetensors(st, raw=True)
    assert sorted(back) == sorted(bits) and all(np.array_equal(back[k], bits[k]) and back[k].shape == bits[k].shape
                                                for k in bits), "safetensors round trip"
    print(f"  [{name}] safetensors round trip bit-exact, {len(bits)} tensors")

    model = ref.load(d)                                  # evaluate on the BF16-rounded weights
    assert model.prefix == spec["prefix"]
    print("  [%s] per-layer sizes: %s" % (name, " ".join(
        f"M(nh={L['nh']},hd={L['hd']})" if L["kind"] == "M" else f"*(nH={L['nH']},nKV={L['nKV']})"
        if L["kind"] == "*" else f"-({L['up'].shape[0]})" for L in model.layers)))

    rng_ids = np.random.default_rng(spec["seed"] + 1)
    results = {}
    for fname, length in spec["sequences"].items():
        ids = [int(i) for i in rng_ids.integers(0, spec["vocab"], size=length)]
        logits, r = self_check(model, ids, f"{name} L={length}")
        results[fname] = r
        write_expected(os.path.join(d, fname), ids, logits)
        rounded = np.array([[rnd(v) for v in row] for row in logits])
        srt = np.sort(logits, axis=1)
        print(f"  [{name} L={length}] logits |max| {np.abs(logits).max():.3f}, std {logits.std():.3f}, "
              f"min top1-top2 margin {np.min(srt[:, -1] - srt[:, -2]):.2e}, "
              f"rounding error {np.abs(rounded - logits).max():.1e}")
        if fname == "expected.json":
            res = []
            ref.forward(model, ids, residuals=res)
            cont, margin = greedy(model, ids, GREEDY_STEPS)
            print(f"  [{name}] greedy continuation {cont}, min margin {margin:.2e}")
            with open(os.path.join(d, "debug.json"), "w") as f:
                f.write('{"ids": ' + json.dumps(ids) + ',\n"argmax": ' + json.dumps(
                    [int(a) for a in np.argmax(logits, axis=1)]) + ',\n"greedy_continuation": ' + json.dumps(cont)
                    + ',\n"residuals": [\n' + ",\n".join(dump_rows(h) for h in res) + "\n]}\n")

    # fraction of dt values below time_step_min (where HF's CPU floor would differ, §6.2)
    frac, total = 0, 0
    ids = json.load(open(os.path.join(d, "expected.json")))["ids"]
    h = model.emb[ids]
    for L in model.layers:
        u = ref.rmsnorm(h, L["norm"], model.eps)
        if L["kind"] == "M":
            raw = ref.linear(u, L["in_proj.weight"])[:, -L["nh"]:]
            dt = ref.softplus(raw + L["dt_bias"])
            frac += int(np.sum(dt < 1e-3))
            total += dt.size
            h = h + ref.mamba_mixer(model, L, u)
        elif L["kind"] == "*":
            h = h + ref.attention(model, L, u)
        else:
            h = h + ref.mlp(model, L, u)
    print(f"  [{name}] dt < 1e-3: {frac}/{total}")
    return results


def main():
    out_root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "src", "test", "resources", "golden")
    check_bf16_rounding()
    print("bf16 rounding cases OK")
    worst = {}
    for spec in FIXTURES:
        for r in build(spec, out_root).values():
            for k, v in r.items():
                worst[k] = max(worst.get(k, 0.0), v)
    print("max over all fixtures:")
    for k, v in worst.items():
        print(f"  {k:40s} {v:.3e}")


if __name__ == "__main__":
    main()

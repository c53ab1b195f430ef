#!/usr/bin/env python3
"""Independent fp64 NumPy reference of the Nemotron-H forward pass.

Follows docs/ARCHITECTURE.md (section numbers below refer to it).
Only python3 + numpy.  Everything is evaluated in float64.

The default Mamba-2 scan is the *sequential* recurrence of §4.2, which makes this file an independent
oracle for a chunked (SSD) implementation.  Two further paths exist only to cross-check it:
  * ssm_chunked()  - the chunked SSD form of §4.6,
  * decode_step()  - single-token decode with conv_state / ssm_state / KV caches (§4.7).

Usage as a tool:
    python3 nemotron_h_ref.py CHECKPOINT_DIR 5,17,3,...      # prints argmax and logits per position
"""

import json
import os
import struct
import sys

import numpy as np

# ----------------------------------------------------------------------------------------------------
# BF16 and safetensors (§3.1)
# ----------------------------------------------------------------------------------------------------


def f32_to_bf16_bits(a):
    """float32 array -> uint16 bf16 bit patterns, round to nearest even on the upper 16 bits."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(np.asarray(a, dtype=np.float32))
    # quiet NaN keeping the sign (what PyTorch produces)
    rounded[nan] = ((u[nan] >> 16).astype(np.uint16) & 0x8000) | 0x7FC0
    return rounded


def bf16_bits_to_f32(bits):
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


_DTYPES = {  # safetensors dtype -> numpy little-endian dtype
    "F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2",
    "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?",
}


def write_safetensors(path, tensors):
    """tensors: {name: (dtype_str, np.ndarray)}; for BF16 the array holds uint16 bit patterns."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        dtype, arr = tensors[name]
        data = np.ascontiguousarray(arr, dtype=_DTYPES[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path, raw=False):
    """Returns {name: np.ndarray}.  BF16 is widened to float32 unless raw=True (then uint16 bits)."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    if n > 100 * 1024 * 1024 or 8 + n > len(buf):
        raise ValueError(f"{path}: bad header length {n}")
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    base, out = 8 + n, {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        if not 0 <= b <= e <= len(buf) - base:
            raise ValueError(f"{path}: {name} offsets {b},{e} outside the file")
        arr = np.frombuffer(buf[base + b:base + e], dtype=_DTYPES[info["dtype"]]).reshape(info["shape"])
        if info["dtype"] == "BF16" and not raw:
            arr = bf16_bits_to_f32(arr)
        out[name] = arr
    return out


# ----------------------------------------------------------------------------------------------------
# Model loading (§2, §3.2, §3.6: per-layer sizes come from tensor shapes)
# ----------------------------------------------------------------------------------------------------


def _as_float(v):
    if isinstance(v, dict) and "__float__" in v:
        v = v["__float__"]
    return float(v)  # float("Infinity") works for the string form too


def _get(cfg, *keys, default=None):
    for k in keys:
        if k in cfg and cfg[k] is not None:
            return cfg[k]
    return default


class Model:
    """Plain container: cfg values used by the forward and a list of per-layer dicts of fp64 arrays."""


def load(directory):
    with open(os.path.join(directory, "config.json")) as f:
        cfg = json.load(f)  # Python's json accepts the bare literal Infinity
    t = read_safetensors(os.path.join(directory, "model.safetensors"))
    t = {k: np.asarray(v, dtype=np.float64) for k, v in t.items()}
    return from_tensors(cfg, t)


def from_tensors(cfg, t):
    m = Model()
    m.cfg = cfg
    m.pattern = cfg["hybrid_override_pattern"]
    if cfg.get("num_hidden_layers", len(m.pattern)) != len(m.pattern):
        raise ValueError("num_hidden_layers != len(hybrid_override_pattern)")
    m.eps = float(_get(cfg, "layer_norm_epsilon", default=1e-5))
    m.G = int(_get(cfg, "n_groups", "mamba_n_groups", default=8))
    m.N = int(_get(cfg, "ssm_state_size", default=128))
    m.head_dim = int(_get(cfg, "head_dim", "attention_head_dim", default=128))
    lim = _get(cfg, "time_step_limit", "mamba_dt_limit", default=[0.0, float("inf")])
    m.dt_min, m.dt_max = _as_float(lim[0]), _as_float(lim[1])
    m.chunk_size = int(_get(cfg, "chunk_size", "mamba_chunk_size", default=128))

    for p in ("backbone.", "model.", ""):
        if p + "embeddings.weight" in t or p + "embedding.weight" in t:
            prefix = p
            break
    else:
        raise KeyError("no embeddings tensor found")
    m.prefix = prefix
    m.emb = t.get(prefix + "embeddings.weight", t.get(prefix + "embedding.weight"))
    m.norm_f = t[prefix + "norm_f.weight"]
    m.lm_head = t["lm_head.weight"]
    m.layers = []
    for i, kind in enumerate(m.pattern):
        lp = f"{prefix}layers.{i}."
        mp = lp + "mixer."
        L = {"kind": kind, "norm": t[lp + "norm.weight"]}
        if kind == "M":
            for k in ("in_proj.weight", "dt_bias", "A_log", "D", "norm.weight", "out_proj.weight"):
                L[k] = t[mp + k]
            L["conv_w"] = t[mp + "conv1d.weight"][:, 0, :]  # [conv_dim, K]
            L["conv_b"] = t.get(mp + "conv1d.bias", np.zeros(L["conv_w"].shape[0]))
            L["in_proj.bias"] = t.get(mp + "in_proj.bias")
            L["out_proj.bias"] = t.get(mp + "out_proj.bias")
            nh = L["A_log"].shape[0]
            I = L["conv_w"].shape[0] - 2 * m.G * m.N
            if I % nh or nh % m.G or L["in_proj.weight"].shape[0] != 2 * I + 2 * m.G * m.N + nh:
                raise ValueError(f"layer {i}: inconsistent Mamba shapes")
            L.update(nh=nh, hd=I // nh, I=I, K=L["conv_w"].shape[1])
        elif kind == "*":
            for k in ("q_proj", "k_proj", "v_proj", "o_proj"):
                L[k] = t[mp + k + ".weight"]
                L[k + ".bias"] = t.get(mp + k + ".bias")
            L["nH"] = L["q_proj"].shape[0] // m.head_dim
            L["nKV"] = L["k_proj"].shape[0] // m.head_dim
        elif kind == "-":
            L["up"] = t[mp + "up_proj.weight"]
            L["down"] = t[mp + "down_proj.weight"]
            L["up.bias"] = t.get(mp + "up_proj.bias")
            L["down.bias"] = t.get(mp + "down_proj.bias")
        else:
            raise ValueError(f"layer kind {kind!r} not supported by this reference")
        m.layers.append(L)
    return m


# ----------------------------------------------------------------------------------------------------
# Building blocks
# ----------------------------------------------------------------------------------------------------


def linear(x, w, b=None):
    y = x @ w.T
    return y if b is None else y + b


def rmsnorm(x, w, eps):
    return w * x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)


def silu(x):
    return x / (1.0 + np.exp(-x))


def softplus(v):
    return np.where(v > 20.0, v, np.log1p(np.exp(np.minimum(v, 20.0))))


def gated_rmsnorm(y, z, w, groups, eps):
    """§4.3: gate first, then RMSNorm over each of `groups` groups of I/groups channels."""
    g = y * silu(z)
    shape = g.shape
    g = g.reshape(shape[:-1] + (groups, shape[-1] // groups))
    g = g / np.sqrt(np.mean(g * g, axis=-1, keepdims=True) + eps)
    return w * g.reshape(shape)


# ----------------------------------------------------------------------------------------------------
# Mamba-2 SSM scans.  Inputs per head: x [L, nh, hd], dt [L, nh], A [nh], B, C [L, nh, N]
# (already expanded from groups to heads), s0 [nh, hd, N].  Return y [L, nh, hd] (without D) and the
# final state [nh, hd, N].
# ----------------------------------------------------------------------------------------------------


def ssm_sequential(x, dt, A, B, C, s0):
    state = s0.copy()
    y = np.empty_like(x)
    for t in range(x.shape[0]):
        decay = np.exp(dt[t] * A)                                            # [nh]
        state = decay[:, None, None] * state + (dt[t][:, None] * x[t])[:, :, None] * B[t][:, None, :]
        y[t] = np.einsum("hpn,hn->hp", state, C[t])                          # state . C
    return y, state


def segsum(a):
    """a [..., T] -> [..., T, T] with out[i, j] = sum(a[j+1 .. i]) for j <= i, -inf above the diagonal.
    Built from masked cumulative sums (no subtraction of large cumsums)."""
    T = a.shape[-1]
    rep = np.repeat(a[..., None], T, axis=-1)                  # rep[..., i, j] = a[i]
    rep = np.where(np.tril(np.ones((T, T), bool), -1), rep, 0.0)
    s = np.cumsum(rep, axis=-2)                                # s[i, j] = sum_{j < k <= i} a[k]
    return np.where(np.tril(np.ones((T, T), bool), 0), s, -np.inf)


def ssm_chunked(x, dt, A, B, C, s0, Q):
    """Chunked SSD form of §4.6 (same algorithm as ssd_minimal_discrete, per head, with B/C per head)."""
    L, nh, hd = x.shape
    pad = -L % Q
    if pad:
        z = lambda a: np.concatenate([a, np.zeros((pad,) + a.shape[1:])], axis=0)
        x, dt, B, C = z(x), z(dt), z(B), z(C)                  # dt=0 -> dt*A = 0 and dt*x = 0
    nc = x.shape[0] // Q
    X = (x * dt[..., None]).reshape(nc, Q, nh, hd)             # discretised input dt*x
    a = (dt * A).reshape(nc, Q, nh).transpose(2, 0, 1)         # [nh, nc, Q]
    Bc, Cc = B.reshape(nc, Q, nh, -1), C.reshape(nc, Q, nh, -1)
    a_cs = np.cumsum(a, axis=-1)                               # [nh, nc, Q]

    # 1. intra-chunk (diagonal blocks)
    Lmat = np.exp(segsum(a))                                   # [nh, nc, Q(t), Q(s)]
    Y_diag = np.einsum("cthn,cshn,hcts,cshp->cthp", Cc, Bc, Lmat, X)
    # 2. state at the end of every chunk from its own inputs
    decay_states = np.exp(segsum(a)[..., -1, :])               # exp(sum a[s+1..end]), [nh, nc, Q]
    states = np.einsum("cshn,hcs,cshp->chpn", Bc, decay_states, X)   # [nc, nh, hd, N]
    # 3. inter-chunk recurrence, summed over the SOURCE chunk
    states = np.concatenate([s0[None], states], axis=0)       # [nc+1, nh, hd, N]
    chunk_tot = np.pad(a_cs[..., -1], ((0, 0), (1, 0)))        # [nh, nc+1]
    decay_chunk = np.exp(segsum(chunk_tot))                    # [nh, nc+1 (target), nc+1 (source)]
    new_states = np.einsum("hzc,chpn->zhpn", decay_chunk, states)
    entering, final = new_states[:-1], new_states[-1]          # state entering chunk z; final state
    # 4. off-diagonal: contribution of the entering state
    Y_off = np.einsum("cthn,chpn,hct->cthp", Cc, entering, np.exp(a_cs))
    y = (Y_diag + Y_off).reshape(nc * Q, nh, hd)[:L]
    return y, final


# ----------------------------------------------------------------------------------------------------
# Mixers.  `cache` is a per-layer dict (or None): Mamba {"conv": [conv_dim, K], "ssm": [nh, hd, N]},
# attention {"k": [T, nKV, hd], "v": [T, nKV, hd]}.  With a cache the call continues the sequence and
# updates the cache in place (chunked prefill in pieces, §4.7).
# ----------------------------------------------------------------------------------------------------


def mamba_mixer(m, L, u, cache=None, ssm="sequential", chunk_size=None):
    G, N, nh, hd, I, K = m.G, m.N, L["nh"], L["hd"], L["I"], L["K"]
    T = u.shape[0]
    zxbcdt = linear(u, L["in_proj.weight"], L["in_proj.bias"])
    z, xBC, dt_raw = zxbcdt[:, :I], zxbcdt[:, I:2 * I + 2 * G * N], zxbcdt[:, 2 * I + 2 * G * N:]
    conv_dim = xBC.shape[1]

    # causal depthwise conv: out[t,c] = b[c] + sum_k w[c,k] * in[t-K+1+k, c], in[<0] = 0 (or cached)
    left = np.zeros((K, conv_dim)) if cache is None else cache["conv"].T   # last K inputs, oldest first
    padded = np.concatenate([left[1:], xBC], axis=0)                        # K-1 rows of left context
    conv = np.tile(L["conv_b"], (T, 1))
    for k in range(K):
        conv += L["conv_w"][:, k] * padded[k:k + T]
    xBC_act = silu(conv)

    x = xBC_act[:, :I].reshape(T, nh, hd)
    Bg = xBC_act[:, I:I + G * N].reshape(T, G, N)
    Cg = xBC_act[:, I + G * N:].reshape(T, G, N)
    head_group = np.arange(nh) // (nh // G)                   # head h uses group h // (nh/G)
    B, C = Bg[:, head_group], Cg[:, head_group]               # [T, nh, N]
    dt = softplus(dt_raw + L["dt_bias"])
    dt = np.clip(dt, m.dt_min, m.dt_max)
    A = -np.exp(L["A_log"])
    s0 = np.zeros((nh, hd, N)) if cache is None else cache["ssm"]

    if ssm == "sequential":
        y, final = ssm_sequential(x, dt, A, B, C, s0)
    else:
        y, final = ssm_chunked(x, dt, A, B, C, s0, chunk_size or m.chunk_size)
    y = y + L["D"][None, :, None] * x
    y = gated_rmsnorm(y.reshape(T, I), z, L["norm.weight"], G, m.eps)
    out = linear(y, L["out_proj.weight"], L["out_proj.bias"])

    if cache is not None:
        cache["conv"] = np.concatenate([left, xBC], axis=0)[-K:].T.copy()
        cache["ssm"] = final
    return out


def attention(m, L, u, cache=None):
    hd, nH, nKV = m.head_dim, L["nH"], L["nKV"]
    T = u.shape[0]
    q = linear(u, L["q_proj"], L["q_proj.bias"]).reshape(T, nH, hd)
    k = linear(u, L["k_proj"], L["k_proj.bias"]).reshape(T, nKV, hd)
    v = linear(u, L["v_proj"], L["v_proj.bias"]).reshape(T, nKV, hd)
    T0 = 0
    if cache is not None:
        T0 = cache["k"].shape[0]
        k = cache["k"] = np.concatenate([cache["k"], k], axis=0)
        v = cache["v"] = np.concatenate([cache["v"], v], axis=0)
    kv_of = np.arange(nH) // (nH // nKV)                     # query head j uses kv head j // (nH/nKV)
    scores = np.einsum("ihd,jhd->hij", q, k[:, kv_of]) * hd ** -0.5   # [nH, T, T0+T]
    qpos = T0 + np.arange(T)[:, None]
    scores = np.where(np.arange(k.shape[0])[None, :] > qpos, -np.inf, scores)
    scores = scores - scores.max(axis=-1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(axis=-1, keepdims=True)
    o = np.einsum("hij,jhd->ihd", p, v[:, kv_of]).reshape(T, nH * hd)
    return linear(o, L["o_proj"], L["o_proj.bias"])


def mlp(m, L, u):
    return linear(np.maximum(linear(u, L["up"], L["up.bias"]), 0.0) ** 2, L["down"], L["down.bias"])


# ----------------------------------------------------------------------------------------------------
# Model forward (§4.1)
# ----------------------------------------------------------------------------------------------------


def new_cache(m):
    c = []
    for L in m.layers:
        if L["kind"] == "M":
            c.append({"conv": np.zeros((L["I"] + 2 * m.G * m.N, L["K"])), "ssm": np.zeros((L["nh"], L["hd"], m.N))})
        elif L["kind"] == "*":
            c.append({"k": np.zeros((0, L["nKV"], m.head_dim)), "v": np.zeros((0, L["nKV"], m.head_dim))})
        else:
            c.append(None)
    return c


def forward(m, ids, cache=None, ssm="sequential", chunk_size=None, residuals=None):
    """ids -> logits [T, V] (fp64).  cache: None, or new_cache(m) / a cache from an earlier call, which
    is continued and updated.  residuals: optional list that receives h after the embedding and after
    every block."""
    h = m.emb[np.asarray(ids)]
    if residuals is not None:
        residuals.append(h.copy())
    for i, L in enumerate(m.layers):
        u = rmsnorm(h, L["norm"], m.eps)
        c = None if cache is None else cache[i]
        if L["kind"] == "M":
            h = h + mamba_mixer(m, L, u, c, ssm, chunk_size)
        elif L["kind"] == "*":
            h = h + attention(m, L, u, c)
        else:
            h = h + mlp(m, L, u)
        if residuals is not None:
            residuals.append(h.copy())
    return rmsnorm(h, m.norm_f, m.eps) @ m.lm_head.T


# ----------------------------------------------------------------------------------------------------
# Single-token decode (§4.7), written as its own path (roll the conv state, one recurrence step)
# ----------------------------------------------------------------------------------------------------


def decode_step(m, token, cache):
    h = m.emb[token]                                                      # [H]
    for L, c in zip(m.layers, cache):
        u = rmsnorm(h, L["norm"], m.eps)
        if L["kind"] == "M":
            G, N, nh, hd, I = m.G, m.N, L["nh"], L["hd"], L["I"]
            zxbcdt = linear(u, L["in_proj.weight"], L["in_proj.bias"])
            z, xBC, dt_raw = zxbcdt[:I], zxbcdt[I:2 * I + 2 * G * N], zxbcdt[2 * I + 2 * G * N:]
            c["conv"] = np.roll(c["conv"], -1, axis=1)
            c["conv"][:, -1] = xBC
            xBC = silu(np.sum(c["conv"] * L["conv_w"], axis=1) + L["conv_b"])
            x = xBC[:I].reshape(nh, hd)
            grp = np.arange(nh) // (nh // G)
            B = xBC[I:I + G * N].reshape(G, N)[grp]
            C = xBC[I + G * N:].reshape(G, N)[grp]
            dt = np.clip(softplus(dt_raw + L["dt_bias"]), m.dt_min, m.dt_max)
            A = -np.exp(L["A_log"])
            c["ssm"] = c["ssm"] * np.exp(dt * A)[:, None, None] + (dt[:, None] * x)[:, :, None] * B[:, None, :]
            y = np.einsum("hpn,hn->hp", c["ssm"], C) + L["D"][:, None] * x
            y = gated_rmsnorm(y.reshape(I), z, L["norm.weight"], G, m.eps)
            h = h + linear(y, L["out_proj.weight"], L["out_proj.bias"])
        elif L["kind"] == "*":
            hdim, nH, nKV = m.head_dim, L["nH"], L["nKV"]
            q = linear(u, L["q_proj"], L["q_proj.bias"]).reshape(nH, hdim)
            c["k"] = np.concatenate([c["k"], linear(u, L["k_proj"], L["k_proj.bias"]).reshape(1, nKV, hdim)])
            c["v"] = np.concatenate([c["v"], linear(u, L["v_proj"], L["v_proj.bias"]).reshape(1, nKV, hdim)])
            o = np.empty((nH, hdim))
            for j in range(nH):
                kv = j // (nH // nKV)
                s = c["k"][:, kv] @ q[j] * hdim ** -0.5
                p = np.exp(s - s.max())
                o[j] = (p / p.sum()) @ c["v"][:, kv]
            h = h + linear(o.reshape(-1), L["o_proj"], L["o_proj.bias"])
        else:
            h = h + mlp(m, L, u)
    return rmsnorm(h, m.norm_f, m.eps) @ m.lm_head.T


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    model = load(sys.argv[1])
    ids = [int(s) for s in sys.argv[2].split(",")]
    np.set_printoptions(precision=6, linewidth=200)
    for t, row in enumerate(forward(model, ids)):
        print(t, ids[t], int(np.argmax(row)), row)

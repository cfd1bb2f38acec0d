#!/usr/bin/python3
"""torch_gpt2_files.py: sparsetune reads GPT-2's own files.

    /usr/bin/python3 tests/torch_gpt2_files.py --bin build/sparsetune --work SCRATCH

A random GPT of GPT-2's shape (2 blocks, 4 heads, width 32, vocabulary 50,
context 16) is written in the layouts GPT-2 comes in, each a folder with
model.safetensors and a config.json naming n_head:

- Hugging Face's: h.{i}.attn.c_attn.weight etc. stored [in, out] (Conv1D),
  no prefix, with the 4-D attn.bias mask buffer and the attn.masked_bias
  scalar (both to be passed over), no lm_head (tied); in F32 and in F16;
- nanoGPT's: the transformer. prefix, nn.Linear's [out, in], lm_head.weight
  (tied: the same values as wte); in BF16.

For each, a 0-step fine-tune from the folder must write student.safetensors
back in the same layout (names, shapes, values; the mask buffers left out),
and `sparsetune eval --model FOLDER --tokens t.npy` must report the
next-token cross-entropy that the reference GPT of tests/torch_gpt.py gives on
the same windows with the same weights (as the file rounds them), within
2e-6 relative: float32 sums over 32..128 terms per product, a few ulps of
values of order 1. The weights are drawn large enough (std 0.2) that a
transposition left out, or a block mapped to another, moves the loss by far
more: the check is run once more on a file with one Conv1D weight stored
untransposed, which must be refused or must disagree. Without config.json
the heads are unknown, and the message must say where they come from.
Exit 0 when all holds, 1 otherwise, 77 without PyTorch.
"""

import argparse
import json
import os
import struct
import subprocess
import sys

try:
    import numpy as np
    import torch
except ImportError as e:
    print(f"torch_gpt2_files: SKIPPED, {e}")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_gpt  # noqa: E402

L, H, C, V, T = 2, 4, 32, 50, 16
ROLES = {"ln1.w": "ln_1.weight", "ln1.b": "ln_1.bias", "attn.qkv.w": "attn.c_attn.weight",
         "attn.qkv.b": "attn.c_attn.bias", "attn.proj.w": "attn.c_proj.weight",
         "attn.proj.b": "attn.c_proj.bias", "ln2.w": "ln_2.weight", "ln2.b": "ln_2.bias",
         "mlp.fc.w": "mlp.c_fc.weight", "mlp.fc.b": "mlp.c_fc.bias",
         "mlp.proj.w": "mlp.c_proj.weight", "mlp.proj.b": "mlp.c_proj.bias"}


def random_gpt(rng):
    P = {"wte": rng.normal(0, 0.2, (V, C)), "wpe": rng.normal(0, 0.2, (T, C))}
    for i in range(L):
        for r, shape in [("ln1.w", (C,)), ("ln1.b", (C,)), ("attn.qkv.w", (3 * C, C)),
                         ("attn.qkv.b", (3 * C,)), ("attn.proj.w", (C, C)),
                         ("attn.proj.b", (C,)), ("ln2.w", (C,)), ("ln2.b", (C,)),
                         ("mlp.fc.w", (4 * C, C)), ("mlp.fc.b", (4 * C,)),
                         ("mlp.proj.w", (C, 4 * C)), ("mlp.proj.b", (C,))]:
            base = 1.0 if r.endswith("ln1.w") or r.endswith("ln2.w") else 0.0
            P[f"h{i}.{r}"] = base + rng.normal(0, 0.2, shape)
    P["lnf.w"] = 1.0 + rng.normal(0, 0.2, (C,))
    P["lnf.b"] = rng.normal(0, 0.2, (C,))
    return {k: v.astype(np.float32) for k, v in P.items()}


def encode(arr, dtype):
    """Little-endian bytes of arr in a safetensors dtype, and the array as the
    file rounds it (float32)."""
    a = np.ascontiguousarray(arr, dtype=np.float32)
    if dtype == "F32":
        return a.tobytes(), a
    if dtype == "F16":
        h = a.astype("<f2")
        return h.tobytes(), h.astype(np.float32)
    t = torch.from_numpy(a).to(torch.bfloat16)  # BF16
    raw = t.view(torch.int16).numpy().astype("<i2").tobytes()
    return raw, t.to(torch.float32).numpy()


def write(path, tensors, dtype):
    """Writes name -> array in dtype; returns name -> the values as stored."""
    header, chunks, stored, off = {}, [], {}, 0
    for name, arr in tensors.items():
        raw, back = encode(arr, dtype)
        header[name] = {"dtype": dtype, "shape": list(np.shape(arr)),
                        "data_offsets": [off, off + len(raw)]}
        chunks.append(raw)
        stored[name] = back
        off += len(raw)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
    return stored


def read_any(path):
    """name -> float32 array of a safetensors file written in F32 (sparsetune
    writes F32), and its metadata."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        head = json.loads(f.read(n))
        body = f.read()
    meta = head.pop("__metadata__", {})
    out = {}
    for k, e in head.items():
        b, t = e["data_offsets"]
        out[k] = np.frombuffer(body[b:t], dtype="<f4").reshape(e["shape"])
    return out, meta


def hf_layout(P, transpose=True):
    out = {"wte.weight": P["wte"], "wpe.weight": P["wpe"]}
    for i in range(L):
        for r, hf in ROLES.items():
            w = P[f"h{i}.{r}"]
            out[f"h.{i}.{hf}"] = w.T if (transpose and w.ndim == 2) else w
        out[f"h.{i}.attn.bias"] = np.tril(np.ones((T, T), np.float32)).reshape(1, 1, T, T)
        out[f"h.{i}.attn.masked_bias"] = np.array(-1e4, np.float32)
    out["ln_f.weight"], out["ln_f.bias"] = P["lnf.w"], P["lnf.b"]
    return out


def nano_layout(P):
    out = {"transformer.wte.weight": P["wte"], "transformer.wpe.weight": P["wpe"]}
    for i in range(L):
        for r, hf in ROLES.items():
            out[f"transformer.h.{i}.{hf}"] = P[f"h{i}.{r}"]
    out["transformer.ln_f.weight"], out["transformer.ln_f.bias"] = P["lnf.w"], P["lnf.b"]
    out["lm_head.weight"] = P["wte"]
    return out


def back_to_ours(stored, hf):
    """Our names and [out, in] weights from what a file stored."""
    P = {}
    for name, a in stored.items():
        n = name[len("transformer."):] if name.startswith("transformer.") else name
        if n.endswith("attn.bias") and a.ndim == 4 or n.endswith("masked_bias") or \
                n == "lm_head.weight":
            continue
        if n in ("wte.weight", "wpe.weight"):
            P[n.split(".")[0]] = a
        elif n.startswith("ln_f."):
            P["lnf." + n.split(".")[1][0]] = a
        else:
            _, i, rest = n.split(".", 2)
            r = next(k for k, v in ROLES.items() if v == rest)
            P[f"h{i}.{r}"] = a.T if (hf and a.ndim == 2) else a
    return P


def reference_xent(P, tok):
    n = (len(tok) - 1) // T
    x = torch.tensor(np.stack([tok[k * T:k * T + T] for k in range(n)]), dtype=torch.int64)
    y = torch.tensor(np.stack([tok[k * T + 1:k * T + T + 1] for k in range(n)]),
                     dtype=torch.int64)
    PT = {k: torch.tensor(v) for k, v in P.items()}
    with torch.no_grad():
        logits = torch_gpt.gpt_forward(PT, x, L, H)
        return float(torch.nn.functional.cross_entropy(logits.reshape(-1, V), y.reshape(-1)))


def sparsetune_xent(binary, folder, tokens):
    p = subprocess.run([binary, "eval", "--model", folder, "--tokens", tokens],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stderr.strip()
    kv = p.stdout.split()
    return float(kv[kv.index("xent") + 1]), p.stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    rng = np.random.default_rng(7)
    P = random_gpt(rng)
    tok = rng.integers(0, V, 6 * T + 1).astype(np.int64)
    tokens = os.path.join(a.work, "t.npy")
    np.save(tokens, tok)
    failed = 0
    cases = [("hf-f32", hf_layout(P), "F32", True), ("hf-f16", hf_layout(P), "F16", True),
             ("nanogpt-bf16", nano_layout(P), "BF16", False)]
    for name, layout, dtype, hf in cases:
        folder = os.path.join(a.work, name)
        os.makedirs(folder, exist_ok=True)
        stored = write(os.path.join(folder, "model.safetensors"), layout, dtype)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump({"n_head": H, "n_layer": L, "n_embd": C}, f)
        ref = reference_xent(back_to_ours(stored, hf), tok)
        got, out = sparsetune_xent(a.bin, folder, tokens)
        ok = got is not None and abs(got - ref) <= 2e-6 * abs(ref)
        print(f"  {name}: sparsetune {got}, PyTorch {ref:.9g} -> {'ok' if ok else 'FAIL'}"
              f"{'' if got is not None else ': ' + out}")
        failed += not ok
        # Written back in the layout it came in: a run of 0 steps from it
        # writes student.safetensors with the same names, shapes and (float32)
        # values.
        run = os.path.join(a.work, name + "-run")
        p = subprocess.run([a.bin, "finetune", "--model", folder, "--tokens", tokens, "--steps",
                            "0", "--quiet", "--no-plot", "--force", "--out", run],
                           capture_output=True, text=True)
        back, _ = read_any(os.path.join(run, "student.safetensors")) if p.returncode == 0 \
            else ({}, None)
        same = p.returncode == 0 and set(back) == set(stored) - {
            k for k in stored if k.endswith(".attn.bias") or k.endswith("masked_bias")} and all(
            np.array_equal(back[k], stored[k]) for k in back)
        print(f"  {name} written back: {'same names, shapes and values' if same else 'DIFFERENT'}"
              f"{'' if p.returncode == 0 else ': ' + p.stderr.strip()}")
        failed += not same
    # A Conv1D weight left untransposed (a square one, whose shape cannot
    # tell) must not pass as the model.
    bad = hf_layout(P)
    bad["h.1.attn.c_proj.weight"] = P["h1.attn.proj.w"]
    folder = os.path.join(a.work, "hf-bad")
    os.makedirs(folder, exist_ok=True)
    write(os.path.join(folder, "model.safetensors"), bad, "F32")
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump({"n_head": H}, f)
    ref = reference_xent(P, tok)
    got, out = sparsetune_xent(a.bin, folder, tokens)
    caught = got is None or abs(got - ref) > 1e-3 * abs(ref)
    print(f"  a weight stored untransposed: sparsetune {got}, PyTorch {ref:.9g} -> "
          f"{'told apart' if caught else 'NOT told apart'}")
    failed += not caught
    # Without config.json the heads are unknown: sparsetune says so.
    os.remove(os.path.join(a.work, "hf-f32", "config.json"))
    got, out = sparsetune_xent(a.bin, os.path.join(a.work, "hf-f32"), tokens)
    named = got is None and "config.json" in out and "n_head" in out
    print(f"  no config.json: {out} -> {'named' if named else 'NOT named'}")
    failed += not named
    print("torch_gpt2_files:", "FAILED" if failed else "all checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

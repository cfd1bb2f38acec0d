#!/usr/bin/env python3
"""bench_llmc.py: sparsetune against llm.c's CPU trainer on GPT-2 small.

    bench/bench_llmc.py --llmc DIR [--bin build/sparsetune] [--threads 1,2] [--steps 8] [--reps 2]

DIR is a copy of llm.c's sources (train_gpt2.c and llmc/; take them with git
from github.com/karpathy/llm.c; nothing of it is part of sparsetune). The
script, in a temporary folder:

  - writes a GPT-2-small model with random weights (12 blocks, 12 heads,
    width 768, vocabulary 50257, padded to 50304 rows as llm.c pads it,
    1024 positions) in llm.c's checkpoint format, and the same weights as a
    sparsetune model file (its first 64 positions: the context both train);
  - writes random token ids as llm.c's token file (train and val);
  - builds train_gpt2.c as its Makefile does on CPU (gcc -Ofast
    -march=native -fopenmp), with the step count set to --steps and the
    validation and sampling passes switched off (sed on a copy; B = 4 and
    T = 64 are its own defaults);
  - runs it with OMP_NUM_THREADS=N, and `sparsetune pretrain` on the same
    tokens, batch 4 x 64, with the l1 penalty at lambda 1e-3 (its gradient
    every step) and every distance logged every step (--log-every 1), on
    --threads N; llm.c runs AdamW at lr 1e-4 without a penalty.

It reports tokens per second: llm.c's from its own per-step times (the first
step, which allocates its buffers, left out), sparsetune's from its
steps_per_second (all steps); medians over --reps runs, and the ratio of the
medians per thread count. Needs NumPy (/usr/bin/python3).
"""
import argparse
import json
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile

import numpy as np

L, H, C, V, VP, MAXT, B, T = 12, 12, 768, 50257, 50304, 1024, 4, 64


def weights(rng):
    """GPT-2's tensors (llm.c's order and shapes, [out, in] matrices)."""
    def n(*shape, std=0.02):
        return (rng.standard_normal(shape) * std).astype(np.float32)

    proj = 0.02 / np.sqrt(2 * L)
    w = {
        "wte": n(V, C), "wpe": n(MAXT, C),
        "ln1w": np.ones((L, C), np.float32), "ln1b": np.zeros((L, C), np.float32),
        "qkvw": n(L, 3 * C, C), "qkvb": np.zeros((L, 3 * C), np.float32),
        "attprojw": n(L, C, C, std=proj), "attprojb": np.zeros((L, C), np.float32),
        "ln2w": np.ones((L, C), np.float32), "ln2b": np.zeros((L, C), np.float32),
        "fcw": n(L, 4 * C, C), "fcb": np.zeros((L, 4 * C), np.float32),
        "fcprojw": n(L, C, 4 * C, std=proj), "fcprojb": np.zeros((L, C), np.float32),
        "lnfw": np.ones(C, np.float32), "lnfb": np.zeros(C, np.float32),
    }
    return w


def write_llmc_model(path, w):
    header = np.zeros(256, np.int32)
    header[:8] = [20240326, 3, MAXT, V, L, H, C, VP]
    wte = np.zeros((VP, C), np.float32)
    wte[:V] = w["wte"]
    with open(path, "wb") as f:
        f.write(header.tobytes())
        f.write(wte.tobytes())
        for k in ["wpe", "ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb", "ln2w", "ln2b",
                  "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb"]:
            f.write(np.ascontiguousarray(w[k]).tobytes())


def write_sparsetune_model(path, w):
    """The same weights under sparsetune's names (its first T positions)."""
    t = {"wte": w["wte"], "wpe": w["wpe"][:T]}
    for i in range(L):
        for ours, theirs in [("ln1.w", "ln1w"), ("ln1.b", "ln1b"), ("attn.qkv.w", "qkvw"),
                             ("attn.qkv.b", "qkvb"), ("attn.proj.w", "attprojw"),
                             ("attn.proj.b", "attprojb"), ("ln2.w", "ln2w"), ("ln2.b", "ln2b"),
                             ("mlp.fc.w", "fcw"), ("mlp.fc.b", "fcb"), ("mlp.proj.w", "fcprojw"),
                             ("mlp.proj.b", "fcprojb")]:
            t[f"h{i}.{ours}"] = w[theirs][i]
    t["lnf.w"], t["lnf.b"] = w["lnfw"], w["lnfb"]
    meta = {"format": "sparsetune", "arch": "gpt", "n_layer": str(L), "n_head": str(H),
            "d_model": str(C), "vocab": str(V), "context": str(T), "role": "student"}
    head, off = {"__metadata__": meta}, 0
    for k, a in t.items():
        head[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        off += a.nbytes
    j = json.dumps(head, separators=(",", ":")).encode()
    j += b" " * (-len(j) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(j)) + j)
        for a in t.values():
            f.write(np.ascontiguousarray(a).tobytes())


def write_tokens(path, tok):
    header = np.zeros(256, np.int32)
    header[:3] = [20240520, 1, len(tok)]
    with open(path, "wb") as f:
        f.write(header.tobytes())
        f.write(tok.astype(np.uint16).tobytes())


def build_llmc(src, work, steps):
    shutil.copytree(os.path.join(src, "llmc"), os.path.join(work, "llmc"))
    code = open(os.path.join(src, "train_gpt2.c")).read()
    for old, new in [("step <= 40", f"step <= {steps}"), ("if (step % 10 == 0) {", "if (0) {"),
                     ("if (step > 0 && step % 20 == 0) {", "if (0) {")]:
        if old not in code:
            sys.exit(f"bench_llmc: train_gpt2.c has no '{old}': another version of llm.c?")
        code = code.replace(old, new, 1)
    open(os.path.join(work, "train_gpt2.c"), "w").write(code)
    subprocess.run(["gcc", "-Ofast", "-march=native", "-fopenmp", "-DOMP", "-Wno-unused-result",
                    "train_gpt2.c", "-lm", "-lgomp", "-o", "train_gpt2"], cwd=work, check=True)


def run_llmc(work, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out = subprocess.run(["./train_gpt2"], cwd=work, env=env, check=True, capture_output=True,
                         text=True).stdout
    ms = [float(m) for m in re.findall(r"step \d+: train loss [-\d.na]+ \(took ([\d.]+) ms\)", out)]
    if len(ms) < 2:
        sys.exit("bench_llmc: llm.c printed no step times:\n" + out[-2000:])
    return B * T / (statistics.median(ms[1:]) / 1000.0)


def run_sparsetune(binary, work, threads, steps):
    out = os.path.join(work, f"st{threads}")
    subprocess.run([binary, "finetune", "--model", os.path.join(work, "gpt2.safetensors"),
                    "--tokens", os.path.join(work, "dev/data/tinyshakespeare/tiny_shakespeare_train.bin"),
                    "--batch", str(B), "--steps", str(steps), "--penalty", "l1", "--no-prox",
                    "--penalty-reduction", "sum", "--lambda", "1e-3", "--optimizer", "adamw",
                    "--lr", "1e-4", "--weight-decay", "0", "--log-every", "1",
                    "--spectrum-every", "0", "--threads", str(threads), "--quiet", "--no-plot",
                    "--force", "--out", out], check=True, stdout=subprocess.DEVNULL)
    s = json.load(open(os.path.join(out, "summary.json")))
    return s["steps_per_second"] * B * T


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--llmc", required=True, help="a copy of llm.c's sources (train_gpt2.c, llmc/)")
    ap.add_argument("--bin", default="build/sparsetune")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--reps", type=int, default=2)
    a = ap.parse_args()
    if not os.path.exists(os.path.join(a.llmc, "train_gpt2.c")):
        sys.exit(f"bench_llmc: --llmc {a.llmc}: no train_gpt2.c there (expected llm.c's sources)")
    binary = os.path.abspath(a.bin)
    with tempfile.TemporaryDirectory() as work:
        rng = np.random.default_rng(0)
        w = weights(rng)
        write_llmc_model(os.path.join(work, "gpt2_124M.bin"), w)
        write_sparsetune_model(os.path.join(work, "gpt2.safetensors"), w)
        del w
        data = os.path.join(work, "dev/data/tinyshakespeare")
        os.makedirs(data)
        tok = rng.integers(0, V, 200_000)
        write_tokens(os.path.join(data, "tiny_shakespeare_train.bin"), tok)
        write_tokens(os.path.join(data, "tiny_shakespeare_val.bin"), tok[:20_000])
        build_llmc(a.llmc, work, a.steps)
        print(f"GPT-2 small, batch {B} x {T}, {a.steps} steps, medians of {a.reps}; "
              f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}")
        for th in [int(x) for x in a.threads.split(",")]:
            ours, theirs = [], []
            for _ in range(a.reps):
                ours.append(run_sparsetune(binary, work, th, a.steps))
                theirs.append(run_llmc(work, th))
            mo, mt = statistics.median(ours), statistics.median(theirs)
            print(f"threads {th}: sparsetune {mo:.1f} tok/s (l1 penalty, distances every step), "
                  f"llm.c {mt:.1f} tok/s (no penalty): {mo / mt:.2f}x")


if __name__ == "__main__":
    main()

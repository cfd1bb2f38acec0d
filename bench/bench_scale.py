#!/usr/bin/python3
"""bench_scale.py: how a GPT-2-sized fine-tune scales, measured, and the
extrapolation from it to 1.5 B parameters on 1 to 64 machines.

    /usr/bin/python3 bench/bench_scale.py --bin build/sparsetune [--openblas both|env|own]
                                          [--steps 6] [--bandwidth 1.25]

Measures GPT-2 small's shape (12 blocks, 12 heads, width 768, vocabulary
50,257, context 64: 124 M parameters) on random tokens, training as a sparse
fine-tune does (Adam lr 1e-4, the l1 penalty's proximal step at lambda
1e-6, every tensor's distance to its start logged every step):

  1 thread     batch 4 x 64
  2 threads    batch 4 x 64
  1 thread     batch 1 x 64          (to split a step into the part that
  2 threads    batch 1 x 64           grows with the tokens and the part
                                      that does not: the passes over the
                                      parameters)
  --grad-accum 2, 1 thread           2 x (4 x 64) a step, one process
  mpirun -np 2, 1 thread each        4 x 64 on each rank

Each rate is tokens over the run's training wall time (summary.json:
the steps, not the start-up; the first step, which touches the optimizer's
state for the first time, included). GFLOP/s counts the products, 6 (12 L C^2
+ V C) + 6 L C (T + 1) per token, against the FMA peak of the cores used
(fma_peak, beside --bin).

Then it prints `--dry-run`'s memory for GPT-2 small, medium, large and XL
at context 1,024, one sequence per machine, and the time a step of 64
sequences of 1,024 tokens would take on M = 1 to 64 machines like this one
(2 cores, --threads 2):

  t(M) = (64 / M) * 1024 * F / G  +  P * N / N0  +  M * 4 N / W

F the products' FLOPs per token at the size, G the GFLOP/s of the part
that grows with the tokens (measured, 2 threads), P the seconds of the
passes over GPT-2 small's N0 parameters (measured, 2 threads), and the last
term the gradient's reduction through rank 0: it receives the M - 1 other
gradients (4 N bytes each) and broadcasts the sum, at W GB/s (--bandwidth,
default 1.25: 10 Gbit/s Ethernet); then the same with a ring reduction,
2 (M - 1) / M * 4 N / W, for comparison. OpenBLAS runs as this environment sets it
(env), with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (own), or both.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

SMALL = dict(L=12, H=12, C=768, V=50257, T=64)
SIZES = [  # name, L, H, C
    ("GPT-2 small", 12, 12, 768),
    ("GPT-2 medium", 24, 16, 1024),
    ("GPT-2 large", 36, 20, 1280),
    ("GPT-2 XL", 48, 25, 1600),
]
BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def flops_per_token(L, C, V, T):
    return 6 * (12 * L * C * C + V * C) + 6 * L * C * (T + 1)


def params(L, C, V, T):
    return V * C + T * C + L * (12 * C * C + 13 * C) + 2 * C


def arch(L, H, C, V, T):
    return ["--arch", "gpt", "--n-layer", str(L), "--n-head", str(H), "--d-model", str(C),
            "--vocab", str(V), "--context", str(T)]


def run(cmd, env):
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"bench_scale: `{' '.join(cmd)}` exited {p.returncode}:\n{p.stderr[-2000:]}")
    return p.stdout


def rate(binary, tokens, out, env, steps, batch, threads=1, accum=1, ranks=1):
    cmd = [binary, "pretrain"] + arch(**SMALL) + [
        "--tokens", tokens, "--batch", str(batch), "--threads", str(threads),
        "--grad-accum", str(accum), "--steps", str(steps), "--lr", "1e-4", "--penalty", "l1",
        "--prox", "--lambda", "1e-6", "--spectrum-every", "0", "--quiet", "--no-plot",
        "--force", "--out", out]
    if ranks > 1:
        cmd = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(ranks)] + cmd
    env = dict(env, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    run(cmd, env)
    with open(os.path.join(out, "summary.json")) as f:
        s = json.load(f)
    per_step = batch * SMALL["T"] * accum * ranks
    return s["steps_done"] * per_step / s["wall_seconds"], per_step


def memory(binary, work, L, H, C, env):
    """--dry-run's table; a run that would not fit here prints it too, then fails."""
    p = subprocess.run([binary, "pretrain"] + arch(L, H, C, 50257, 1024) + [
        "--tokens", os.path.join(work, "tok.npy"), "--batch", "1", "--penalty", "l1", "--prox",
        "--spectrum-every", "0", "--dry-run", "--out", os.path.join(work, "dry")], env=env,
        capture_output=True, text=True)
    out = p.stdout
    if "total" not in out:
        sys.exit(f"bench_scale: --dry-run printed no table:\n{p.stderr[-2000:]}")
    parts = {"fits here": p.returncode == 0}
    for line in out.splitlines():
        bits = line.split()
        for i, b in enumerate(bits):
            if b.isdigit():
                parts[" ".join(bits[:i])] = int(b)
                break
    return parts


def one_config(args, label, env, peak):
    work = tempfile.mkdtemp(prefix="bench_scale.")
    tokens = os.path.join(work, "tok.npy")
    run([sys.executable, "-c", "import numpy as np, sys; np.save(sys.argv[1], np.random."
         "default_rng(0).integers(0, 50257, 200000).astype(np.int32))", tokens], env)
    L, C, V, T = SMALL["L"], SMALL["C"], SMALL["V"], SMALL["T"]
    F = flops_per_token(L, C, V, T)
    N0 = params(L, C, V, T)
    cases = [("1 thread", dict(batch=4, threads=1)), ("2 threads", dict(batch=4, threads=2)),
             ("1 thread, batch 1 x 64", dict(batch=1, threads=1)),
             ("2 threads, batch 1 x 64", dict(batch=1, threads=2)),
             ("1 process, --grad-accum 2, 1 thread", dict(batch=4, threads=1, accum=2)),
             ("mpirun -np 2, 1 thread each", dict(batch=4, threads=1, ranks=2))]
    got = {}
    print(f"OpenBLAS: {label}", flush=True)
    for name, kw in cases:
        r, per_step = rate(args.bin, tokens, os.path.join(work, "run"), env, args.steps, **kw)
        got[name] = (r, per_step)
        print(f"  {name}: {r:.1f} tokens/s", flush=True)
    print(f"\nbench_scale: GPT-2 small's shape ({N0 / 1e6:.1f} M parameters, context 64), "
          f"Adam + l1 prox + per-step distances, {args.steps} steps; {time.strftime('%Y-%m-%d')}; "
          f"OpenBLAS: {label}; FMA peak {peak:.1f} GFLOP/s a core")
    print("| run | tokens a step | tokens/s | GFLOP/s | of the peak of the cores used |")
    print("|---|---|---|---|---|")
    for name, kw in cases:
        r, per_step = got[name]
        cores = kw.get("threads", 1) * kw.get("ranks", 1)
        print(f"| {name} | {per_step} | {r:,.1f} | {r * F / 1e9:.1f} | "
              f"{100 * r * F / 1e9 / (peak * cores):.0f}% |")
    two = got["2 threads"][0] / got["1 thread"][0]
    mpi = got["mpirun -np 2, 1 thread each"][0] / got["1 process, --grad-accum 2, 1 thread"][0]
    print(f"2 threads against 1: {two:.2f}x; 2 ranks against --grad-accum 2 on one: {mpi:.2f}x")

    # A step's time t = a * tokens + P, from the two batches on 2 threads.
    t4 = 256 / got["2 threads"][0]
    t1 = 64 / got["2 threads, batch 1 x 64"][0]
    a = (t4 - t1) / (256 - 64)
    P = t4 - 256 * a
    G = F / a / 1e9
    print(f"\nsplit of a 2-thread step: {a * 1e3:.2f} ms a token ({G:.1f} GFLOP/s on the "
          f"products' count), {P:.2f} s a step for the passes over {N0 / 1e6:.1f} M parameters")

    print("\n| model | parameters | dry-run total, 1 x 1024 a machine | parameters' copies "
          "| activations and work | FLOP a token |")
    print("|---|---|---|---|---|---|")
    W = args.bandwidth * 1e9
    machines = (1, 2, 8, 64)
    rows = []
    for name, L, H, C in SIZES:
        N = params(L, C, 50257, 1024)
        Fs = flops_per_token(L, C, 50257, 1024)
        m = memory(args.bin, work, L, H, C, env)
        copies = sum(v for k, v in m.items() if k in ("parameters", "gradients", "optimizer state",
                                                      "start (theta0)", "proximal steps"))
        note = "" if m["fits here"] else " (more than this machine has)"
        print(f"| {name} | {N / 1e6:,.0f} M | {m.get('total', 0) / 1e9:.2f} GB{note} | "
              f"{copies / 1e9:.2f} GB | {m.get('activations and work', 0) / 1e9:.2f} GB | "
              f"{Fs / 1e9:.2f} G |")
        rows.append((name, N, Fs))
    print(f"\nseconds a step of 64 x 1024 tokens, machines like this one (2 threads each), "
          f"reduction through rank 0 at {args.bandwidth} GB/s:")
    print("| model | " + " | ".join(f"{k} machine{'s' if k > 1 else ''}" for k in machines) +
          " |")
    print("|---|" + "---|" * len(machines))
    for ring in (0, 1):
        if ring:
            print("\nthe same with a ring reduction (not in sparsetune: each machine sends and "
                  "receives 2 (M - 1) / M x 4 N bytes):")
            print("| model | " + " | ".join(str(k) for k in machines) + " |")
            print("|---|" + "---|" * len(machines))
        for name, N, Fs in rows:
            cells = []
            for k in machines:
                net = 0.0 if k == 1 else (2 * (k - 1) / k if ring else k) * 4 * N / W
                t = (64 / k) * 1024 * Fs / (G * 1e9) + P * N / N0 + net
                cells.append(f"{t:,.0f}")
            print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--openblas", choices=("both", "env", "own"), default="both")
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--bandwidth", type=float, default=1.25,
                    help="GB/s between machines for the extrapolation (1.25: 10 Gbit/s)")
    args = ap.parse_args()
    peak_bin = os.path.join(os.path.dirname(os.path.abspath(args.bin)), "fma_peak")
    peak = float(run([peak_bin], dict(os.environ)).split()[0])
    set_here = [v for v in BLAS_VARS if v in os.environ]
    if args.openblas in ("both", "env"):
        label = ", ".join(f"{v}={os.environ[v]}" for v in set_here) or "OpenBLAS's own choice"
        one_config(args, f"as this environment sets it ({label})", dict(os.environ), peak)
    if args.openblas in ("both", "own") and (set_here or args.openblas == "own"):
        one_config(args, "OpenBLAS's own kernel choice (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE "
                   "unset)", {k: v for k, v in os.environ.items() if k not in BLAS_VARS}, peak)
    return 0


if __name__ == "__main__":
    sys.exit(main())

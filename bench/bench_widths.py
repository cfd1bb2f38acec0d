#!/usr/bin/python3
"""bench_widths.py: sparsetune against PyTorch at four widths, side by side.

    /usr/bin/python3 bench/bench_widths.py --bin build/sparsetune [--reps 3]

Each case trains the same network from the same start on the same 1,000
inputs, full batch, Adam, the l1 penalty at lambda = 1e-3 (subgradient, mean
reduction) with per-step logging of the d_init observables, in sparsetune
(`train --spectrum-every 0`: PyTorch's side computes no SVDs) and in PyTorch
at its best: the faster of two loops, an idiomatic one (one tensor per layer,
the observables per tensor) and bench_train.py's (one flat buffer, the
observables by one matrix product), alternating, --reps times each, one thread
each (PyTorch: torch.set_num_threads(1) and OPENBLAS_NUM_THREADS=1
OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE). It prints each side's median
steps/s of the training loop, their ratio, sparsetune's achieved GFLOP/s
(6 x batch x sum of in x out per step: the forward product and the two
backward ones), and next to it the machine's sgemm rate measured in the same
run (NumPy's OpenBLAS, n = 1024, 1 and 2 threads), then sparsetune's widest
case with --threads 2 against 1.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [  # name, widths, steps
    ("seed", "1,20,20,1", 10000),
    ("wide-64", "64,64,64,64", 2000),
    ("wide-256", "256,256,256,256", 200),
    ("wide-1024", "1024,1024,1024,1024", 10),
]


BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
BASE_ENV = dict(os.environ)


def env_threads(n):
    return dict(BASE_ENV, OPENBLAS_NUM_THREADS=str(n), OMP_NUM_THREADS=str(n),
                OMP_WAIT_POLICY="PASSIVE")


def run(cmd, env):
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"bench_widths: `{' '.join(cmd)}` exited {p.returncode}:\n{p.stderr[-2000:]}")
    return p.stdout


def sgemm_rate(threads):
    """GFLOP/s of a 1024 x 1024 float32 product through NumPy's BLAS."""
    code = ("import numpy as np, time\n"
            "a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)\n"
            "b = a.copy(); a @ b\n"
            "best = 1e9\n"
            "for _ in range(7):\n"
            "    t = time.perf_counter(); a @ b; best = min(best, time.perf_counter() - t)\n"
            "print(2 * 1024 ** 3 / best / 1e9)\n")
    return float(run([sys.executable, "-c", code], env_threads(threads)).strip())


def torch_worker(data_dir, steps):
    """The PyTorch side: an idiomatic loop (one tensor per layer, the observables
    per tensor) on sparsetune's saved start and data; prints its loop's steps/s."""
    import numpy as np
    import torch
    sys.path.insert(0, os.path.join(HERE, "..", "tests"))
    import torch_ref

    torch.set_num_threads(1)
    r = torch_ref.load_run(data_dir, cfg_overrides={"steps": str(steps)})
    spec = r["spec"]
    names, L = spec.names, spec.n_layers
    act = torch_ref.ACTIVATIONS[spec.activation]
    x, y = torch.from_numpy(r["x"]), torch.from_numpy(r["y"])
    params = [torch.from_numpy(r["init"][t].copy()).requires_grad_(True) for t in names]
    init = [p.detach().clone() for p in params]
    teacher = [torch.from_numpy(r["teacher"][t].copy()) for t in names]
    opt = torch.optim.Adam(params, lr=spec.lr, betas=(spec.beta1, spec.beta2), eps=spec.eps)
    lam = spec.lam
    rec = torch.empty(steps + 1, 1 + 3 * len(names))
    t0 = time.perf_counter()
    for k in range(steps + 1):
        h = x
        for layer in range(L):
            h = torch.nn.functional.linear(h, params[2 * layer], params[2 * layer + 1])
            if layer < L - 1:
                h = act(h)
        mse = torch.nn.functional.mse_loss(h, y)
        with torch.no_grad():
            rec[k, 0] = mse
            for t, (p, p0, q) in enumerate(zip(params, init, teacher)):
                d = (p - p0).abs_()
                rec[k, 1 + t] = d.mean()
                rec[k, 1 + len(names) + t] = (p - q).abs_().mean()
                rec[k, 1 + 2 * len(names) + t] = (d > torch_ref.CHANGED_EPS).float().mean()
        if k == steps:
            break
        opt.zero_grad(set_to_none=False)
        mse.backward()
        with torch.no_grad():
            for p, p0 in zip(params, init):   # l1 (mean) subgradient: lam sign(d) / n_t
                p.grad.add_(torch.sign(p - p0), alpha=lam / p.numel())
        opt.step()
    loop = time.perf_counter() - t0
    np.savetxt(os.devnull, rec.numpy())      # the log is written, as sparsetune's is
    print(json.dumps({"steps_per_second": steps / loop}))
    return 0


def flops_per_step(widths, batch=1000):
    w = [int(v) for v in widths.split(",")]
    return 6 * batch * sum(a * b for a, b in zip(w, w[1:]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--openblas", choices=("both", "env", "own"), default="both")
    ap.add_argument("--torch-worker", nargs=2, metavar=("DATA_DIR", "STEPS"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_worker:
        return torch_worker(args.torch_worker[0], int(args.torch_worker[1]))
    if not args.bin:
        ap.error("--bin is required")
    global BASE_ENV
    set_here = [v for v in BLAS_VARS if v in os.environ]
    configs = []
    if args.openblas in ("both", "env"):
        label = ", ".join(f"{v}={os.environ[v]}" for v in set_here) or "OpenBLAS's own choice"
        configs.append((f"as this environment sets it ({label})", dict(os.environ)))
    if args.openblas in ("both", "own") and (set_here or args.openblas == "own"):
        configs.append(("OpenBLAS's own kernel choice (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE unset)",
                        {k: v for k, v in os.environ.items() if k not in BLAS_VARS}))
    for label, env in configs:
        BASE_ENV = env
        one_config(args, label)
    return 0


def one_config(args, label):
    work = tempfile.mkdtemp(prefix="bench_widths.")
    BASE_ENV["XDG_CACHE_HOME"] = os.path.join(work, "cache")  # --products auto times afresh
    env1 = env_threads(1)
    base = [args.bin, "train", "--quiet", "--no-plot", "--force", "--lambda", "1e-3",
            "--spectrum-every", "0"]
    g1, g2 = sgemm_rate(1), sgemm_rate(2)
    rows = []
    print(f"OpenBLAS: {label}", flush=True)
    for name, widths, steps in CASES:
        data = os.path.join(work, name, "data")
        run(base + ["--widths", widths, "--steps", "1", "--save-data", "--out", data], env1)
        st, pt = [], []
        for rep in range(args.reps):
            out = os.path.join(work, name, f"st{rep}")
            run(base + ["--widths", widths, "--steps", str(steps), "--out", out], env1)
            with open(os.path.join(out, "summary.json")) as f:
                st.append(float(json.load(f)["steps_per_second"]))
            # PyTorch at its best: the faster of two loops, bench_train.py's (one flat
            # parameter buffer, observables by one matrix product: fastest on small
            # nets) and the per-tensor one here (fastest on wide ones).
            a = run([sys.executable, os.path.abspath(__file__), "--torch-worker", data,
                     str(steps)], env1)
            b = run([sys.executable, os.path.join(HERE, "bench_train.py"), "--steps", str(steps),
                     "--torch-worker", data, os.path.join(work, name, f"pt{rep}")], env1)
            pt.append(max(json.loads(a.strip().splitlines()[-1])["steps_per_second"],
                          json.loads(b.strip().splitlines()[-1])["steps_per_second"]))
        s, p = statistics.median(st), statistics.median(pt)
        rows.append((name, widths, s, p, s / p, s * flops_per_step(widths) / 1e9,
                     products(os.path.join(work, name, "st0"))))
        print(f"  {name}: sparsetune {s:.1f} steps/s, PyTorch {p:.1f} steps/s", flush=True)
    # The widest case on two threads, sparsetune only.
    name, widths, steps = CASES[-1]
    two = []
    for rep in range(args.reps):
        out = os.path.join(work, name, f"t2-{rep}")
        run(base + ["--widths", widths, "--steps", str(steps), "--threads", "2", "--out", out],
            env_threads(2))
        with open(os.path.join(out, "summary.json")) as f:
            two.append(float(json.load(f)["steps_per_second"]))
    two_rate = statistics.median(two)
    print(f"bench_widths: Adam, l1 lambda 1e-3, full batch of 1000, per-step d_init logging; "
          f"1 thread each; median of {args.reps}; {time.strftime('%Y-%m-%d')}")
    print(f"OpenBLAS: {label}")
    print(f"sgemm n=1024 (NumPy's OpenBLAS): {g1:.1f} GFLOP/s on 1 thread, {g2:.1f} on 2")
    print(f"| case | widths | PyTorch steps/s | sparsetune steps/s | ratio | sparsetune GFLOP/s "
          f"| share of 1-thread sgemm | --products auto chose |")
    print("|---|---|---|---|---|---|---|---|")
    for name, widths, s, p, r, gf, way in rows:
        print(f"| {name} | {widths} | {p:,.1f} | {s:,.1f} | {r:.2f}x | {gf:.1f} | "
              f"{100 * gf / g1:.0f}% | {way} |")
    one = rows[-1][2]
    print(f"{CASES[-1][0]} on 2 threads: {two_rate:.2f} steps/s, {two_rate / one:.2f}x its "
          f"1-thread rate ({products(os.path.join(work, name, 't2-0'))})", flush=True)
    shutil.rmtree(work, ignore_errors=True)


def products(run_dir):
    """The per-layer products a run took, from its config.ini."""
    with open(os.path.join(run_dir, "config.ini")) as f:
        for line in f:
            if line.startswith("products = "):
                return line.split("=", 1)[1].strip()
    return "?"


if __name__ == "__main__":
    sys.exit(main())

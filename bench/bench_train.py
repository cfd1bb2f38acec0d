#!/usr/bin/python3
"""bench_train.py: sparsetune against PyTorch on the default teacher-student run.

    /usr/bin/python3 bench/bench_train.py --bin build/sparsetune [--reps 5] [--steps 10000]

Both sides do the same work: MLP 1,20,20,1 with ReLU, 1000 fixed N(0,1)
inputs, full batch, Adam lr 1e-2, l1-to-init penalty lambda = 1e-3 (per-tensor
mean), and every step the observables d_init_*, d_teacher_* and changed_* of
every tensor, written to a CSV. The PyTorch side trains on the very data and
initial weights sparsetune drew (one untimed `--save-data` run first).

The runs alternate (sparsetune, PyTorch, sparsetune, ...), each a separate
process on one thread: OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
OMP_WAIT_POLICY=PASSIVE, and torch.set_num_threads(1). Whole-process wall
clock is timed (PyTorch's includes its ~1 s import); each side's own training
loop rate is reported too (sparsetune's from summary.json). The table shows
medians and the ratio sparsetune / PyTorch.

The PyTorch implementation is written to be fast, as a user would tune it:
the parameters live in one flat tensor (one Adam update for all of them, as
sparsetune does), the penalty's subgradient is added to the gradient in one
fused op, and the observables for all tensors come from one small matrix
product under torch.no_grad(), stored in a preallocated tensor and written
once at the end.
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
SINGLE_THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                     "OMP_WAIT_POLICY": "PASSIVE", "MKL_NUM_THREADS": "1"}
LAMBDA = "1e-3"


# --------------------------------------------------------------------------
# The PyTorch side (runs in its own process: `bench_train.py --torch-worker`)
# --------------------------------------------------------------------------

def torch_worker(data_dir, steps, out_dir):
    t0 = time.perf_counter()
    import numpy as np
    import torch
    sys.path.insert(0, os.path.join(HERE, "..", "tests"))
    import torch_ref

    torch.set_num_threads(1)
    run = torch_ref.load_run(data_dir, cfg_overrides={"steps": str(steps)})
    spec = run["spec"]
    names = spec.names
    L = spec.n_layers
    act = torch_ref.ACTIVATIONS[spec.activation]
    x = torch.from_numpy(run["x"])
    y = torch.from_numpy(run["y"])

    # Layout: one flat buffer, tensor t at [off[t], off[t] + n[t]).
    shapes = [run["init"][t].shape for t in names]
    sizes = [int(np.prod(s)) for s in shapes]
    offs = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    n_all, T = offs[-1], len(names)
    theta = torch.cat([torch.from_numpy(run["init"][t]).reshape(-1) for t in names])
    teacher = torch.cat([torch.from_numpy(run["teacher"][t]).reshape(-1) for t in names])
    refs = torch.stack((theta.clone(), teacher))           # [2, n]: theta0, teacher
    theta.requires_grad_(True)
    # seg[i, t] = 1/n_t if entry i belongs to tensor t: (|delta| @ seg) = means
    seg = torch.zeros(n_all, T)
    for t in range(T):
        seg[offs[t]:offs[t + 1], t] = 1.0 / sizes[t]
    # The l1 (mean) subgradient per entry: lambda * sign(delta) / n_t
    lam = spec.lam
    lam_over_n = torch.cat([torch.full((sizes[t],), lam / sizes[t]) for t in range(T)])
    opt = torch.optim.Adam([theta], lr=spec.lr, betas=(spec.beta1, spec.beta2),
                           eps=spec.eps)
    # per logged row: mse, d_init[T], d_teacher[T], changed[T]
    rec = torch.empty(steps + 1, 1 + 3 * T)

    def views(th):
        return [th[offs[t]:offs[t + 1]].view(shapes[t]) for t in range(T)]

    t_loop = time.perf_counter()
    for k in range(steps + 1):
        p = views(theta)
        h = x
        for layer in range(L):
            h = torch.nn.functional.linear(h, p[2 * layer], p[2 * layer + 1])
            if layer < L - 1:
                h = act(h)
        mse = torch.nn.functional.mse_loss(h, y)
        with torch.no_grad():
            diff = theta - refs                              # [2, n]
            absd = diff.abs()
            r = rec[k]
            r[0] = mse
            torch.mm(absd, seg, out=r[1:1 + 2 * T].view(2, T))
            r[1 + 2 * T:] = (absd[0:1] > torch_ref.CHANGED_EPS).to(absd.dtype).mm(seg)[0]
        if k == steps:
            break
        opt.zero_grad(set_to_none=False)
        mse.backward()
        with torch.no_grad():
            theta.grad.addcmul_(diff[0].sign(), lam_over_n)   # g += lam*sign(d)/n_t
        opt.step()
    t_end = time.perf_counter()

    # CSV: step, mse, penalty, loss, d_init_*, d_teacher_*, changed_*
    R = rec.double().numpy()
    pen = R[:, 1:1 + T].sum(axis=1)
    table = np.column_stack([np.arange(steps + 1), R[:, 0], pen, R[:, 0] + lam * pen,
                             R[:, 1:]])
    cols = torch_ref.metric_columns(names, True)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "metrics.csv")
    np.savetxt(path, table, delimiter=",", header=",".join(cols), comments="",
               fmt=["%d"] + ["%.9g"] * (len(cols) - 1))
    t_done = time.perf_counter()
    print(json.dumps({"steps_per_second": steps / (t_end - t_loop),
                      "setup_s": t_loop - t0, "loop_s": t_end - t_loop,
                      "write_s": t_done - t_end, "final_mse": float(R[-1, 0])}))
    return 0


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------

def same_work(st_csv, pt_csv, n_rows=21):
    """One line saying whether both sides computed the same run: the first
    n_rows rows of the two metrics.csv files, compared column by column."""
    import numpy as np
    sys.path.insert(0, os.path.join(HERE, "..", "tests"))
    import torch_ref
    try:
        ca, a = torch_ref.read_metrics_csv(st_csv)
        cb, b = torch_ref.read_metrics_csv(pt_csv)
    except OSError as e:
        return f"same work: cannot compare ({e})"
    common = [c for c in cb if c in ca and c != "step"]
    A = a[:n_rows, [ca.index(c) for c in common]]
    B = b[:n_rows, [cb.index(c) for c in common]]
    rel = np.abs(A - B) / np.maximum(np.abs(B), 1e-12)
    rel[A == B] = 0.0
    worst = float(rel.max()) if rel.size else float("nan")
    verdict = "same run" if worst <= 1e-4 else "WARNING: the two sides differ"
    return (f"same work: steps 0-{n_rows - 1}, {len(common)} common CSV columns, max rel "
            f"deviation sparsetune vs PyTorch {worst:.1e} ({verdict})")


def run_timed(cmd, env):
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"bench_train: `{' '.join(cmd)}` exited {p.returncode}:\n{p.stderr[-2000:]}")
    return wall, p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", help="path to the sparsetune binary")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--keep", help="keep the run directories here (default: a temp dir)")
    ap.add_argument("--torch-worker", nargs=2, metavar=("DATA_DIR", "OUT_DIR"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_worker:
        return torch_worker(args.torch_worker[0], args.steps, args.torch_worker[1])
    if not args.bin:
        ap.error("--bin is required")

    env = dict(os.environ, **SINGLE_THREAD_ENV)
    work = args.keep or tempfile.mkdtemp(prefix="bench_train.")
    os.makedirs(work, exist_ok=True)
    helptext = subprocess.run([args.bin, "train", "--help"], capture_output=True,
                              text=True, env=env).stdout
    base = [args.bin, "train", "--quiet", "--lambda", LAMBDA, "--steps", str(args.steps)]
    if "--no-plot" in helptext:
        base.append("--no-plot")
    if "--force" in helptext:
        base.append("--force")

    # The data and initial weights for PyTorch: sparsetune's own, untimed.
    data_dir = os.path.join(work, "data")
    shutil.rmtree(data_dir, ignore_errors=True)
    run_timed([args.bin, "train", "--quiet", "--lambda", LAMBDA, "--steps", "1",
               "--save-data", "--out", data_dir] +
              (["--no-plot"] if "--no-plot" in helptext else []), env)

    st_wall, st_own, pt_wall, pt_own, pt_parts = [], [], [], [], []
    for rep in range(args.reps):
        out = os.path.join(work, f"st{rep}")
        shutil.rmtree(out, ignore_errors=True)
        wall, _ = run_timed(base + ["--out", out], env)
        st_wall.append(wall)
        try:
            with open(os.path.join(out, "summary.json")) as f:
                st_own.append(float(json.load(f)["steps_per_second"]))
        except (OSError, ValueError, KeyError):
            pass
        wall, stdout = run_timed([sys.executable, os.path.abspath(__file__), "--steps",
                                  str(args.steps), "--torch-worker", data_dir,
                                  os.path.join(work, f"pt{rep}")], env)
        pt_wall.append(wall)
        info = json.loads(stdout.strip().splitlines()[-1])
        pt_own.append(info["steps_per_second"])
        pt_parts.append((info["setup_s"], info["loop_s"], info["write_s"]))
        print(f"rep {rep + 1}/{args.reps}: sparsetune {st_wall[-1]:.2f} s, "
              f"PyTorch {pt_wall[-1]:.2f} s", flush=True)

    med = statistics.median
    n = args.steps
    rows = [("sparsetune", med(st_wall), n / med(st_wall), med(st_own) if st_own else None),
            ("PyTorch", med(pt_wall), n / med(pt_wall), med(pt_own))]
    print(f"bench_train: {n} steps, MLP 1,20,20,1 relu, 1000 samples full batch, Adam lr 1e-2, "
          f"l1 lambda {LAMBDA}, per-step d_init/d_teacher/changed CSV; 1 thread; "
          f"median of {args.reps}")
    print(f"{'':12s} {'wall s':>9s} {'steps/s (wall)':>15s} {'steps/s (loop)':>15s}")
    for name, w, sps, own in rows:
        own_s = f"{own:15.0f}" if own is not None else f"{'n/a':>15s}"
        print(f"{name:12s} {w:9.3f} {sps:15.0f} {own_s}")
    ratio_wall = rows[0][2] / rows[1][2]
    ratio_own = (rows[0][3] / rows[1][3]) if rows[0][3] else None
    print(f"{'ratio':12s} {'':9s} {ratio_wall:14.2f}x "
          + (f"{ratio_own:14.2f}x" if ratio_own else f"{'n/a':>15s}")
          + "   (sparsetune / PyTorch, steps/s)")
    print(f"PyTorch process (medians): import + setup {med(p[0] for p in pt_parts):.2f} s, "
          f"training loop {med(p[1] for p in pt_parts):.2f} s, CSV {med(p[2] for p in pt_parts):.2f} s")
    print(same_work(os.path.join(work, "st0", "metrics.csv"),
                    os.path.join(work, "pt0", "metrics.csv")))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""bench_gpt.py: sparsetune's GPT against the same GPT in PyTorch.

    /usr/bin/python3 bench/bench_gpt.py --bin build/sparsetune [--reps 3] [--steps 100]

Both sides train the same teacher-student step: a GPT of 4 blocks, 4 heads,
width 64, vocabulary 64, context 32, on 32 fixed sequences (1,024 tokens, full
batch), the mse on the teacher's logits, Adam lr 1e-3, the l1 penalty at
lambda 1e-3 (per-tensor mean) and, every step, each tensor's distance to the
start and to the teacher. PyTorch trains from the very files sparsetune wrote
(one untimed `--save-data` run), with the reference GPT of tests/torch_gpt.py
and torch.optim.Adam. Both run on one thread (OPENBLAS_NUM_THREADS=1,
torch.set_num_threads(1)); each side's training loop is timed (sparsetune's
rate from summary.json, PyTorch's around its loop), and the table gives
medians over --reps runs, alternating, and the ratio of the medians.
Whatever OPENBLAS_CORETYPE the environment sets is used; the report says
which.
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
SIZE = ["--arch", "gpt", "--n-layer", "4", "--n-head", "4", "--d-model", "64", "--vocab", "64",
        "--context", "32", "--data-size", "32"]
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
TOKENS = 32 * 32


def torch_worker(run_dir, steps):
    import torch
    sys.path.insert(0, os.path.join(HERE, "..", "tests"))
    import torch_gpt
    torch.set_num_threads(1)
    run = torch_gpt.load(run_dir)
    s = run["spec"]
    P = {t: torch.tensor(run["init"][t], requires_grad=True) for t in s.names}
    P0 = {t: torch.tensor(run["init"][t]) for t in s.names}
    PT = {t: torch.tensor(run["teacher"][t]) for t in s.names}
    opt = torch.optim.Adam(list(P.values()), lr=1e-3)
    tok, y = torch.from_numpy(run["tok"]), torch.from_numpy(run["y"])
    lam = 1e-3
    dist = torch.empty(steps, 2 * len(s.names))
    t0 = time.perf_counter()
    for k in range(steps):
        mse = ((torch_gpt.gpt_forward(P, tok, s.L, s.H) - y) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        mse.backward()
        with torch.no_grad():
            for j, t in enumerate(s.names):
                d = P[t] - P0[t]
                P[t].grad.add_(torch.sign(d), alpha=lam / d.numel())
                dist[k, j] = d.abs().mean()
                dist[k, len(s.names) + j] = (P[t] - PT[t]).abs().mean()
        opt.step()
    return time.perf_counter() - t0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--torch-worker":
        print(json.dumps({"seconds": torch_worker(sys.argv[2], int(sys.argv[3]))}))
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--steps", type=int, default=100)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bench_gpt.")
    common = SIZE + ["--lambda", "1e-3", "--lr", "1e-3", "--log-every", "1", "--no-plot",
                     "--quiet", "--steps", str(a.steps)]
    data = os.path.join(work, "data")
    subprocess.run([a.bin, "train"] + common + ["--save-data", "--out", data], env=ENV,
                   check=True, capture_output=True)
    st, pt = [], []
    for r in range(a.reps):
        out = os.path.join(work, f"r{r}")
        subprocess.run([a.bin, "train"] + common + ["--out", out], env=ENV, check=True,
                       capture_output=True)
        with open(os.path.join(out, "summary.json")) as f:
            s = json.load(f)
        st.append(s["steps_done"] / s["wall_seconds"] * TOKENS)
        p = subprocess.run([sys.executable, __file__, "--torch-worker", data, str(a.steps)],
                           env=ENV, check=True, capture_output=True, text=True)
        pt.append(a.steps / json.loads(p.stdout.strip().splitlines()[-1])["seconds"] * TOKENS)
        shutil.rmtree(out)
    ms, mp = statistics.median(st), statistics.median(pt)
    print(f"GPT L4 H4 C64 V64 T32, 1,024 tokens a step, Adam + l1 + per-step distances, one "
          f"thread, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print(f"  sparsetune {ms:10.0f} tokens/s (median of {a.reps}: "
          f"{', '.join(f'{v:.0f}' for v in st)})")
    print(f"  PyTorch    {mp:10.0f} tokens/s (median of {a.reps}: "
          f"{', '.join(f'{v:.0f}' for v in pt)})")
    print(f"  ratio of medians sparsetune / PyTorch: {ms / mp:.2f}")
    shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""bench_gpt.py: sparsetune's GPT training step against the same step in PyTorch.

    /usr/bin/python3 bench/bench_gpt.py --bin build/sparsetune [--sizes small,medium,gpt2]
                                        [--reps 3] [--openblas both|env|own]

Both sides train the same teacher-student step, from the same weights and
tokens: a full batch of fixed sequences, the mse on the teacher's logits,
forward, backward, Adam (lr 1e-3), the l1 penalty at lambda 1e-3 (per-tensor
mean) and, every step, each tensor's distance to its start and to the
teacher. PyTorch trains from the files one untimed `sparsetune train
--save-data` run wrote, with a GPT written here in the usual PyTorch way
(F.linear, F.layer_norm, tanh GELU, masked softmax attention; PyTorch 1.13
has no fused attention) and torch.optim.Adam. Both run on one thread
(OPENBLAS_NUM_THREADS=1, torch.set_num_threads(1)); each side's training loop
is timed (sparsetune's rate from summary.json, PyTorch's around its loop);
rows give tokens/s as medians over --reps runs, alternating, and the ratio of
the medians.

The sizes (vocabulary 256 unless said):
  small   4 layers, 4 heads, d 128, batch 16 x context 128
  medium  6 layers, 6 heads, d 384, batch 8 x 256
  gpt2    GPT-2 small: 12 layers, 12 heads, d 768, vocabulary 50,257, batch 4 x 64

GFLOP/s counts the products only: per token 6 (12 L C^2 + V C) for the
linear layers and the head, plus 6 L C (T + 1) for attention's two products
over the positions each query sees (forward 2, backward 4), set against one
core's FMA peak measured by fma_peak (beside --bin).

--openblas env runs in this environment as it is (these development machines
set OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE for every process); own
runs with both unset in the benchmark's commands alone, so OpenBLAS picks
its own kernel as on a user's machine; both (the default) gives both rows.
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

SIZES = {
    # name: (L, H, C, V, T, sequences, sparsetune steps, PyTorch steps)
    "small": (4, 4, 128, 256, 128, 16, 30, 15),
    "medium": (6, 6, 384, 256, 256, 8, 8, 4),
    "gpt2": (12, 12, 768, 50257, 64, 4, 6, 3),
}
THREADS1 = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def torch_worker(run_dir, steps):
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, os.path.join(HERE, "..", "tests"))
    import torch_gpt
    torch.set_num_threads(1)
    run = torch_gpt.load(run_dir)
    s = run["spec"]
    L, H = s.L, s.H
    P = {t: torch.tensor(run["init"][t], requires_grad=True) for t in s.names}
    P0 = {t: torch.tensor(run["init"][t]) for t in s.names}
    PT = {t: torch.tensor(run["teacher"][t]) for t in s.names}
    tok, y = torch.from_numpy(run["tok"]), torch.from_numpy(run["y"])
    N, T = tok.shape
    C = P["wte"].shape[1]
    hs = C // H
    mask = torch.ones(T, T, dtype=torch.bool).tril().logical_not()

    def forward():
        x = F.embedding(tok, P["wte"]) + P["wpe"][:T]
        for i in range(L):
            p = lambda r: P[f"h{i}.{r}"]  # noqa: E731
            h = F.layer_norm(x, (C,), p("ln1.w"), p("ln1.b"))
            q, k, v = F.linear(h, p("attn.qkv.w"), p("attn.qkv.b")).split(C, dim=-1)
            q, k, v = (t.view(N, T, H, hs).transpose(1, 2) for t in (q, k, v))
            att = (q @ k.transpose(-2, -1)) * (1.0 / hs ** 0.5)
            att = att.masked_fill(mask, float("-inf")).softmax(-1)
            a = (att @ v).transpose(1, 2).reshape(N, T, C)
            x = x + F.linear(a, p("attn.proj.w"), p("attn.proj.b"))
            h = F.layer_norm(x, (C,), p("ln2.w"), p("ln2.b"))
            f = F.gelu(F.linear(h, p("mlp.fc.w"), p("mlp.fc.b")), approximate="tanh")
            x = x + F.linear(f, p("mlp.proj.w"), p("mlp.proj.b"))
        x = F.layer_norm(x, (C,), P["lnf.w"], P["lnf.b"])
        return F.linear(x, P["wte"])

    params = [P[t] for t in s.names]
    starts = [P0[t] for t in s.names]
    teachers = [PT[t] for t in s.names]
    lam = 1e-3
    opt = torch.optim.Adam(params, lr=1e-3)
    dist = torch.empty(steps, 2 * len(params))
    t0 = time.perf_counter()
    for k in range(steps):
        mse = ((forward() - y) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        mse.backward()
        with torch.no_grad():
            for j, (p, p0, pt) in enumerate(zip(params, starts, teachers)):
                d = p - p0
                p.grad.add_(torch.sign(d), alpha=lam / d.numel())
                dist[k, j] = d.abs().mean()
                dist[k, len(params) + j] = (p - pt).abs().mean()
        opt.step()
    return time.perf_counter() - t0


def flops_per_token(L, C, V, T):
    return 6.0 * (12 * L * C * C + V * C) + 6.0 * L * C * (T + 1)


def bench_size(name, binary, reps, env, work):
    L, H, C, V, T, n_seq, st_steps, pt_steps = SIZES[name]
    size = ["--arch", "gpt", "--n-layer", str(L), "--n-head", str(H), "--d-model", str(C),
            "--vocab", str(V), "--context", str(T), "--data-size", str(n_seq)]
    common = size + ["--lambda", "1e-3", "--lr", "1e-3", "--log-every", "1", "--no-plot",
                     "--quiet", "--force", "--spectrum-every", "0"]
    tokens = n_seq * T
    data = os.path.join(work, f"data-{name}")
    subprocess.run([binary, "train"] + common + ["--steps", "1", "--save-data", "--out", data],
                   env=env, check=True, capture_output=True)
    st, pt = [], []
    for r in range(reps):
        out = os.path.join(work, f"run-{name}")
        subprocess.run([binary, "train"] + common + ["--steps", str(st_steps), "--out", out],
                       env=env, check=True, capture_output=True)
        with open(os.path.join(out, "summary.json")) as f:
            s = json.load(f)
        st.append(s["steps_done"] / s["wall_seconds"] * tokens)
        shutil.rmtree(out)
        p = subprocess.run([sys.executable, __file__, "--torch-worker", data, str(pt_steps)],
                           env=env, check=True, capture_output=True, text=True)
        pt.append(pt_steps / json.loads(p.stdout.strip().splitlines()[-1])["seconds"] * tokens)
    shutil.rmtree(data)
    return st, pt


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--torch-worker":
        print(json.dumps({"seconds": torch_worker(sys.argv[2], int(sys.argv[3]))}))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--sizes", default="small,medium,gpt2")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--openblas", choices=["both", "env", "own"], default="both")
    a = ap.parse_args()
    sizes = a.sizes.split(",")
    for name in sizes:
        if name not in SIZES:
            ap.error(f"--sizes: unknown size '{name}' (expected some of {', '.join(SIZES)})")
    peak_bin = os.path.join(os.path.dirname(os.path.abspath(a.bin)), "fma_peak")
    peak_out = subprocess.run([peak_bin], check=True, capture_output=True, text=True).stdout
    peak, isa = float(peak_out.split()[0]), peak_out.split()[1]
    print(f"GPT training step, one thread: Adam + l1 penalty + per-step distances; "
          f"one core's FMA peak {peak:.0f} GFLOP/s ({isa}, fma_peak)")
    envs = []
    if a.openblas in ("both", "env"):
        envs.append(("env: OPENBLAS_CORETYPE=" + os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
                     dict(os.environ, **THREADS1)))
    if a.openblas in ("both", "own"):
        own = {k: v for k, v in os.environ.items()
               if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
        envs.append(("own: OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE unset", dict(own, **THREADS1)))
    work = tempfile.mkdtemp(prefix="bench_gpt.")
    try:
        print(f"{'size':8} {'OpenBLAS':>48} {'sparsetune tok/s':>17} {'PyTorch tok/s':>14} "
              f"{'ratio':>6} {'GFLOP/s':>8} {'of peak':>8}")
        for name in sizes:
            L, H, C, V, T, n_seq, _, _ = SIZES[name]
            for label, env in envs:
                st, pt = bench_size(name, a.bin, a.reps, env, work)
                ms, mp = statistics.median(st), statistics.median(pt)
                gf = ms * flops_per_token(L, C, V, T) * 1e-9
                print(f"{name:8} {label:>48} {ms:17.0f} {mp:14.0f} {ms / mp:6.2f} {gf:8.1f} "
                      f"{100 * gf / peak:7.0f}%", flush=True)
                print(f"{'':8} {'runs':>48} {', '.join(f'{v:.0f}' for v in st):>17} "
                      f"{', '.join(f'{v:.0f}' for v in pt):>14}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""bench_sweep.py: the 80-run sweep (lambda = 0,1e-5,1e-4,1e-3,1e-2 x seeds 0-15,
default seed-reproduction config, per-step logging) in sparsetune on both
cores against the same runs in PyTorch on both cores, and, on the same 80
runs, the scaling of `sweep` from --jobs 1 to --jobs 2 and from --jobs 2 to 2
MPI ranks.

    /usr/bin/python3 bench/bench_sweep.py --bin build/sparsetune [--torch-runs 3]

PyTorch: two single-threaded processes side by side (OPENBLAS_NUM_THREADS=1
OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE, torch.set_num_threads(1)), each
importing torch once and running --torch-runs trainings in a loop (the
training of bench_train.py); the 80-run time is extrapolated from the mean
time per run, 40 runs per core, and the report says so.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ENV1 = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
            OMP_WAIT_POLICY="PASSIVE")
GRID = ["--grid", "lambda=0,1e-5,1e-4,1e-3,1e-2"]


def timed(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=ENV1, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"bench_sweep: {' '.join(cmd)} failed:\n{p.stderr}")
    return time.perf_counter() - t0


def torch_loop(data_dir, runs, out):
    """Runs `runs` trainings in this process (torch imported once)."""
    sys.path.insert(0, HERE)
    import bench_train
    import contextlib
    import io
    t0 = time.perf_counter()
    for r in range(runs):
        with contextlib.redirect_stdout(io.StringIO()):
            bench_train.torch_worker(data_dir, 10000, f"{out}/r{r}")
    print(f"{(time.perf_counter() - t0) / runs:.4f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin")
    ap.add_argument("--torch-runs", type=int, default=3)
    ap.add_argument("--torch-loop", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.torch_loop:
        return torch_loop(a.torch_loop[0], int(a.torch_loop[1]), a.torch_loop[2])
    if not a.bin:
        ap.error("--bin is required")
    w = tempfile.mkdtemp(prefix="bench_sweep.")
    st = [a.bin, "sweep", "--quiet", "--no-plot"] + GRID
    seeds = ["--grid", "seed=0:16"]
    full = timed(st + seeds + ["--jobs", "2", "--out", f"{w}/full"])
    j1 = timed(st + seeds + ["--jobs", "1", "--out", f"{w}/j1"])
    mpi = None
    if shutil.which("mpirun"):
        mpi = timed(["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2"] + st + seeds
                    + ["--out", f"{w}/mpi"])
    # PyTorch: sparsetune's data and start, two processes side by side.
    subprocess.run([a.bin, "train", "--quiet", "--no-plot", "--steps", "1", "--save-data",
                    "--out", f"{w}/data"], env=ENV1, check=True, capture_output=True)
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, os.path.abspath(__file__), "--torch-loop",
                               f"{w}/data", str(a.torch_runs), f"{w}/pt{k}"],
                              env=ENV1, stdout=subprocess.PIPE, text=True) for k in range(2)]
    per_run = [float(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    torch_wall = time.perf_counter() - t0
    torch_80 = 40 * sum(per_run) / 2
    print(f"bench_sweep: 80 runs (5 lambdas x 16 seeds), 10,000 steps each, per-step logging")
    print(f"  sparsetune sweep --jobs 2:        {full:8.1f} s (measured)")
    print(f"  PyTorch, 2 processes side by side: {torch_80:8.1f} s (extrapolated: "
          f"{a.torch_runs} runs per process took {torch_wall:.1f} s, "
          f"{sum(per_run) / 2:.2f} s per run)")
    print(f"  ratio PyTorch / sparsetune:       {torch_80 / full:8.1f}x")
    print(f"scaling on the 80 runs: --jobs 1 {j1:.1f} s, --jobs 2 {full:.1f} s: {j1 / full:.2f}x")
    if mpi:
        print(f"MPI on the 80 runs: 2 ranks {mpi:.1f} s vs --jobs 2 {full:.1f} s: "
              f"{full / mpi:.2f}x")
    shutil.rmtree(w, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

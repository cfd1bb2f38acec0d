#!/usr/bin/python3
"""torch_crosscheck.py: holds sparsetune's training loop to PyTorch.

    /usr/bin/python3 tests/torch_crosscheck.py --bin build/sparsetune --work SCRATCH

For each configuration in RUNS it runs `sparsetune train --steps 200 ...
--save-data --quiet --out SCRATCH/<name>`, trains the same run in PyTorch
(tests/torch_ref.py) from the saved student_init, teacher, x, y and config,
and compares metrics.csv with the reference, per step: mse, penalty, loss and
every d_init_* / d_teacher_* column.

Then it proves that the comparison can fail: the same sparsetune output is
compared with deliberately wrong references (Adam without bias correction,
the l1 penalty's gradient with the wrong reduction), and each of those must
be rejected. Exit status 0 when everything holds, 1 otherwise, 77 (skip)
when PyTorch cannot be imported.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

# Exit status when PyTorch is missing: CTest reports the test as skipped if
# it is registered with SKIP_RETURN_CODE 77.
SKIP = 77
try:
    import numpy as np
    import torch
except ImportError as e:
    print(f"torch_crosscheck: SKIPPED, {e} (install python3-torch and run with "
          f"/usr/bin/python3)")
    sys.exit(SKIP)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_ref  # noqa: E402

STEPS = 200

# name, extra options, deliberately wrong references that must be rejected
WRONG_L1 = ["l1-sum-for-mean", "l1-sign0-one"]
RUNS = [
    ("adam_lam0", ["--lambda", "0"], ["adam-no-bias-correction"]),
    ("adam_lam1e-3", ["--lambda", "1e-3"], ["adam-no-bias-correction"] + WRONG_L1),
    ("sgd_mom0.9_lam1e-3", ["--optimizer", "sgd", "--momentum", "0.9",
                            "--lambda", "1e-3"], WRONG_L1),
    ("adamw_lam1e-3", ["--optimizer", "adamw", "--lambda", "1e-3"],
     ["adam-no-bias-correction"]),
    ("tanh_3-7-5-2_lam0", ["--widths", "3,7,5,2", "--activation", "tanh",
                           "--lambda", "0"], ["adam-no-bias-correction"]),
    ("tanh_3-7-5-2_lam1e-3", ["--widths", "3,7,5,2", "--activation", "tanh",
                              "--lambda", "1e-3"], WRONG_L1),
    ("adam_lam1e-3_sqrt", ["--lambda", "1e-3", "--penalty-reduction", "sqrt"], WRONG_L1),
]

# ---------------------------------------------------------------------------
# Tolerances. Numbers "observed" below are from this test's report on an
# x86-64 machine (OpenBLAS, gcc -O2, torch 1.13); rerun it to see them.
#
# Step by step, a value a (sparsetune) matches b (PyTorch) when
#     |a - b| <= atol + RTOL_STEP * |b|,   RTOL_STEP = 1e-4.
# Both sides compute in float32 but sum in different orders (OpenBLAS vs
# PyTorch's kernels), so each forward/backward differs by a few ulps (~1e-7
# relative) and the optimizer carries that forward. Observed over all 200
# steps of the lambda = 0 runs: at most 5e-6 (mse) and 1.2e-6 (distances);
# over steps 0-20 of the lambda > 0 runs: at most 6.5e-6. 1e-4 leaves a
# margin of 15x, while the bugs we guard against are off by far more within
# two steps (see the sabotage lines of the report): Adam without bias
# correction (~1 relative at step 1), a wrong l1 reduction (>1e-1 at step
# 2), sign(0) = +1 in the l1 subgradient (1e-4 to 4e-1 at step 1, >1e-2 at
# step 2).
#
# atol is what float32 cannot resolve (float32_atol): a distance
# |theta - theta0| is known only to about one float32 spacing of the entries
# themselves, 2^-23 * max|theta|, however small the distance (a bias back
# near its start: d_init_b3 ~1e-4 for a scalar of size ~0.1 is only known to
# ~1e-4 relative); a small mse is known only as well as the residual
# yhat - y, to ~2^-23 * max|y|. atol allows K_ULP = 16 such spacings (plus
# ATOL = 1e-12 for exact zeros: step 0, frozen tensors). The lambda = 0
# runs here need none of it; it keeps cases like `--activation linear` (d_init_b3 off
# by 9 spacings at step 71, 1e-4 relative) from failing on float32
# resolution. An Adam loss spike magnifies any such difference for a few
# steps (e.g. `--optimizer adamw --weight-decay 0.1 --beta2 0.99`, step 86:
# mse off by 1e-2 relative between PyTorch float32 and sparsetune, while
# sparsetune is 4x closer to a float64 run than PyTorch is): no float32
# tolerance covers that, so the checked runs are kept to 200 steps, which
# have no spike.
#
# With lambda > 0 the paths cannot match step by step for long: once an
# entry comes back to its start, whether it lands exactly on theta0
# (sign(0) = 0, no penalty push) or one ulp beside it (a push of lambda/n_t)
# depends on the last bit of the arithmetic, and Adam turns that push into a
# step of up to ~lr. Two correct PyTorch implementations that only round
# differently (torch_ref variant "rounding": samples in reverse order, run
# here as a control) part ways after ~70-110 steps, as sparsetune and
# PyTorch do. So for lambda > 0:
#  - the first MIN_MATCH_STEPS = 20 steps must match at RTOL_STEP;
#  - from the first mismatch on, means over windows of WINDOW = 20 steps must
#    satisfy |ma - mb| <= RTOL_WINDOW * |mb| + FLOOR_WINDOW * peak_b, where
#    peak_b is the column's largest |value| in the run and the floor term
#    applies to d_init_* / d_teacher_* only. The floor is needed because
#    tensors the penalty pulls back sit at a noise floor of ~1-2 % of their
#    peak, where the jitter is chaotic: sparsetune and the control differ
#    from PyTorch there by up to 43 % relative, but by <= 3.2e-3 of the
#    peak. Quantities above the floor (mse, penalty, loss, w2, w3) differed
#    by <= 4.1e-3 relative. RTOL_WINDOW = FLOOR_WINDOW = 2e-2 leaves a 4-5x margin and
#    still rejects a 2 % systematic error in mse, the penalty or any
#    distance that is not at its noise floor. The control must pass the same
#    test, so a tolerance made too tight shows up as a failure here too.
# ---------------------------------------------------------------------------
ATOL = 1e-12
K_ULP = 16
RTOL_STEP = 1e-4
MIN_MATCH_STEPS = 20
WINDOW = 20
RTOL_WINDOW = 2e-2
FLOOR_WINDOW = 2e-2

# Other checks of the saved files.
RTOL_LABELS = 1e-5      # y.npy against PyTorch's teacher forward pass
RTOL_FINAL = 1e-5       # student.safetensors against metrics.csv's last row


def compared_columns(names, with_teacher):
    cols = ["mse", "penalty", "loss"] + [f"d_init_{t}" for t in names]
    if with_teacher:
        cols += [f"d_teacher_{t}" for t in names]
    return cols


def float32_atol(run, cols, B):
    """Absolute tolerances [rows, cols]: what float32 cannot resolve. A
    distance |theta - theta0| of entries of size ~s is only known to about
    one spacing of float32 numbers near s, ulp(s) <= 2^-23 s, however small
    the distance itself (an entry back near its start); a small mse is the
    square of a residual yhat - y that is only known to ~ulp(max |y|). K_ULP
    such spacings are allowed; see the tolerance notes above."""
    spec = run["spec"]
    u = K_ULP * 2.0 ** -23
    atol = np.full(B.shape, ATOL)
    scale = {}
    for t in spec.names:
        s_t = float(np.abs(run["init"][t]).max())
        if run["teacher"] is not None:
            s_t = max(s_t, float(np.abs(run["teacher"][t]).max()))
        scale[t] = u * s_t
    pen_atol = 0.0
    for t in spec.names:
        if t not in spec.frozen:
            n_t = run["init"][t].size
            pen_atol += scale[t] * {"mean": 1.0, "sqrt": np.sqrt(n_t)}.get(spec.reduction, n_t)
    dy = u * float(np.abs(run["y"]).max())
    mse_atol = 2.0 * np.sqrt(np.abs(B[:, cols.index("mse")])) * dy + dy * dy
    for j, c in enumerate(cols):
        if c.startswith("d_"):
            atol[:, j] += scale[c.rsplit("_", 1)[1]]
        elif c == "mse":
            atol[:, j] += mse_atol
        elif c == "penalty":
            atol[:, j] += pen_atol
        elif c == "loss":
            atol[:, j] += mse_atol + spec.lam * pen_atol
    return atol


def compare(cols_a, rows_a, cols_b, rows_b, run):
    """Compares sparsetune's rows (a) with a reference (b) for the run (as
    torch_ref.load_run returns it). Returns a dict:
    ok, why (list of reasons), first_bad (first step beyond the step-by-step
    tolerance, or None), worst_step_col (column, step, a, b there), step_rel
    and first_rel (max relative deviation per column over the steps that
    matched, and over steps 0..MIN_MATCH_STEPS), win_rel and win_peak (max
    deviation of windowed means per column after the first mismatch,
    relative to the value and to the column's peak)."""
    res = {"ok": True, "why": [], "first_bad": None, "step_rel": {}, "first_rel": {},
           "win_rel": {}, "win_peak": {}, "worst_step_col": None}
    names, penalized = run["spec"].names, run["spec"].penalized
    cols = compared_columns(names, run["teacher"] is not None)
    missing = [c for c in ["step"] + cols if c not in cols_a]
    if missing:
        res["ok"] = False
        res["why"].append(f"metrics.csv lacks columns {missing}")
        return res
    sa = rows_a[:, cols_a.index("step")]
    sb = rows_b[:, cols_b.index("step")]
    if sa.shape != sb.shape or not np.array_equal(sa, sb):
        res["ok"] = False
        res["why"].append(f"logged steps differ: sparsetune {sa[:3]}...{sa[-1:]} "
                          f"({len(sa)} rows), reference {sb[:3]}...{sb[-1:]} ({len(sb)} rows)")
        return res
    A = rows_a[:, [cols_a.index(c) for c in cols]]
    B = rows_b[:, [cols_b.index(c) for c in cols]]
    if not np.all(np.isfinite(A)):
        res["ok"] = False
        res["why"].append("sparsetune's metrics contain NaN/Inf")
        return res
    atol = float32_atol(run, cols, B)
    ratio = np.abs(A - B) / (atol + RTOL_STEP * np.abs(B))   # <= 1 passes
    rel = np.abs(A - B) / np.maximum(np.abs(B), 1e-12)
    rel[A == B] = 0.0
    bad_rows = np.nonzero(np.any(ratio > 1.0, axis=1))[0]
    n_match = len(sa) if len(bad_rows) == 0 else bad_rows[0]
    if len(bad_rows):
        k = bad_rows[0]
        j = int(np.argmax(ratio[k]))
        res["first_bad"] = int(sa[k])
        res["worst_step_col"] = (cols[j], int(sa[k]), float(A[k, j]), float(B[k, j]))
    n_first = min(n_match, MIN_MATCH_STEPS + 1)
    for j, c in enumerate(cols):
        res["step_rel"][c] = float(rel[:n_match, j].max()) if n_match else 0.0
        res["first_rel"][c] = float(rel[:n_first, j].max()) if n_first else 0.0

    if res["first_bad"] is not None:
        c, k, a, b = res["worst_step_col"]
        if not penalized:
            res["ok"] = False
            res["why"].append(f"step-by-step mismatch at step {k}: {c} = {a:.9g}, "
                              f"PyTorch {b:.9g} (rel {abs(a - b) / max(abs(b), 1e-12):.2e} "
                              f"> {RTOL_STEP:g})")
        elif res["first_bad"] < MIN_MATCH_STEPS:
            res["ok"] = False
            res["why"].append(f"step-by-step mismatch at step {k} < {MIN_MATCH_STEPS}: "
                              f"{c} = {a:.9g}, PyTorch {b:.9g}")
        # Windowed means from step 0, judged where a window reaches past the
        # first mismatch.
        n_win = len(sa) // WINDOW
        peak = np.abs(B).max(axis=0)
        floor_cols = np.array([c.startswith("d_") for c in cols], dtype=float)
        for w in range(n_win):
            lo, hi = w * WINDOW, (w + 1) * WINDOW
            if sa[hi - 1] < res["first_bad"]:
                continue
            ma, mb = A[lo:hi].mean(axis=0), B[lo:hi].mean(axis=0)
            wr = np.abs(ma - mb) / np.maximum(np.abs(mb), 1e-12)
            wr[ma == mb] = 0.0
            for j, c in enumerate(cols):
                res["win_rel"][c] = max(res["win_rel"].get(c, 0.0), float(wr[j]))
                res["win_peak"][c] = max(res["win_peak"].get(c, 0.0),
                                         float(abs(ma[j] - mb[j]) / max(peak[j], 1e-12)))
            allowed = (atol[lo:hi].mean(axis=0) + RTOL_WINDOW * np.abs(mb)
                       + FLOOR_WINDOW * peak * floor_cols)
            over = np.nonzero(np.abs(ma - mb) > allowed)[0]
            if len(over) and res["ok"]:
                j = over[0]
                res["ok"] = False
                res["why"].append(f"window steps {int(sa[lo])}-{int(sa[hi - 1])}: mean "
                                  f"{cols[j]} = {ma[j]:.6g}, PyTorch {mb[j]:.6g} "
                                  f"(rel {wr[j]:.2e} > {RTOL_WINDOW:g})")
    return res


def group_max(d, prefix_list):
    """Max over columns grouped as mse/penalty/loss/d_init_*/d_teacher_*."""
    out = {}
    for c, v in d.items():
        g = next((p for p in prefix_list if c.startswith(p)), c)
        out[g] = max(out.get(g, 0.0), v)
    return out


GROUPS = ["mse", "penalty", "loss", "d_init_", "d_teacher_"]


def run_sparsetune(binary, out_dir, extra, use_no_plot):
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    cmd = [binary, "train", "--steps", str(STEPS)] + extra + \
        ["--save-data", "--quiet", "--out", out_dir]
    if use_no_plot:
        cmd.append("--no-plot")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    return cmd, p


def check_files(run, out_dir, cols_a, rows_a):
    """Consistency of the saved files with PyTorch; returns a list of problems."""
    problems = []
    spec = run["spec"]
    # The labels: y must be the teacher's forward pass on x.
    if run["teacher"] is not None and spec.label_noise == 0.0:
        tp = [torch.from_numpy(run["teacher"][t]) for t in spec.names]
        with torch.no_grad():
            yt = torch_ref.forward(tp, torch.from_numpy(run["x"]), spec.n_layers,
                                   torch_ref.ACTIVATIONS[spec.activation]).numpy()
        err = np.abs(yt - run["y"]).max() / max(1.0, np.abs(yt).max())
        if not err <= RTOL_LABELS:
            problems.append(f"y.npy is not the teacher's output on x.npy "
                            f"(max rel deviation {err:.2e})")
    # The final weights must be the ones the last metrics row describes.
    path = os.path.join(out_dir, "student.safetensors")
    if os.path.exists(path):
        raw, _ = torch_ref.read_safetensors(path)
        for t in spec.names:
            w = raw.get(torch_ref._file_name(t))
            if w is None:
                problems.append(f"student.safetensors lacks {torch_ref._file_name(t)}")
                continue
            d = float(np.abs(w.astype(np.float64) - run["init"][t]).mean())
            logged = rows_a[-1, cols_a.index(f"d_init_{t}")]
            if abs(d - logged) > ATOL + RTOL_FINAL * abs(d):
                problems.append(f"student.safetensors: mean|{t} - {t}0| = {d:.9g}, "
                                f"metrics.csv last row d_init_{t} = {logged:.9g}")
    else:
        problems.append("no student.safetensors")
    try:
        with open(os.path.join(out_dir, "summary.json")) as f:
            json.load(f)
    except (OSError, ValueError) as e:
        problems.append(f"summary.json: {e}")
    return problems


def check_config(spec, extra):
    """The saved config must describe the run that was asked for."""
    want = dict(zip(extra[::2], extra[1::2]))
    problems = []
    if spec.steps != STEPS:
        problems.append(f"config.ini steps {spec.steps}, asked {STEPS}")
    if abs(spec.lam - float(want.get("--lambda", "0"))) > 1e-12:
        problems.append(f"config.ini lambda {spec.lam}, asked {want.get('--lambda')}")
    if spec.optimizer != want.get("--optimizer", "adam"):
        problems.append(f"config.ini optimizer {spec.optimizer}")
    if "--momentum" in want and spec.momentum != float(want["--momentum"]):
        problems.append(f"config.ini momentum {spec.momentum}")
    if spec.widths != [int(w) for w in want.get("--widths", "1,20,20,1").split(",")]:
        problems.append(f"config.ini widths {spec.widths}")
    if spec.activation != want.get("--activation", "relu"):
        problems.append(f"config.ini activation {spec.activation}")
    if spec.lr != 1e-2:
        problems.append(f"config.ini lr {spec.lr}, the default should be 0.01")
    return problems


def fmt_groups(d):
    g = group_max(d, GROUPS)
    return " ".join(f"{k.rstrip('_')} {v:.1e}" for k, v in g.items())


def describe(res, steps, indent=4):
    """The report lines of one comparison."""
    pad = "\n" + " " * (indent + 4)
    if res["first_bad"] is None:
        out = f"matched step by step, steps 0-{steps}"
    else:
        c, k, a, b = res["worst_step_col"]
        out = (f"matched step by step to step {k - 1}; step {k}: {c} {a:.7g} vs "
               f"{b:.7g}")
    out += pad + f"max rel dev, steps 0-{MIN_MATCH_STEPS}: {fmt_groups(res['first_rel'])}"
    if res["first_bad"] is None or res["first_bad"] > MIN_MATCH_STEPS + 1:
        last = steps if res["first_bad"] is None else res["first_bad"] - 1
        out += pad + f"max rel dev, steps 0-{last}: {fmt_groups(res['step_rel'])}"
    if res["win_rel"]:
        out += pad + f"windows after that, rel dev: {fmt_groups(res['win_rel'])}"
        out += pad + f"windows, dev / column peak: {fmt_groups(res['win_peak'])}"
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="path to the sparsetune binary")
    ap.add_argument("--work", required=True, help="scratch directory (created)")
    ap.add_argument("--only", help="run only the configurations whose name contains this")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.work, exist_ok=True)
    t_start = time.time()

    if not (os.path.isfile(args.bin) and os.access(args.bin, os.X_OK)):
        print(f"torch_crosscheck: FAILED, '{args.bin}' is not an executable")
        return 1
    helptext = subprocess.run([args.bin, "train", "--help"], capture_output=True,
                              text=True, timeout=30)
    use_no_plot = "--no-plot" in helptext.stdout + helptext.stderr

    failures = []
    summary = []
    n_runs = 0
    for name, extra, sabotage in RUNS:
        if args.only and args.only not in name:
            continue
        n_runs += 1
        out_dir = os.path.join(args.work, name)
        cmd, p = run_sparsetune(args.bin, out_dir, extra, use_no_plot)
        if p.returncode != 0:
            failures.append(f"{name}: `{' '.join(cmd)}` exited {p.returncode}: "
                            f"{p.stderr.strip()[-500:]}")
            continue
        try:
            run = torch_ref.load_run(out_dir)
            cols_a, rows_a = torch_ref.read_metrics_csv(os.path.join(out_dir, "metrics.csv"))
        except Exception as e:  # any unreadable output is a failure of the binary
            failures.append(f"{name}: cannot read the run directory: {e!r}")
            continue
        spec = run["spec"]
        for prob in check_config(spec, extra) + check_files(run, out_dir, cols_a, rows_a):
            failures.append(f"{name}: {prob}")

        cols_b, rows_b = torch_ref.train(run)
        res = compare(cols_a, rows_a, cols_b, rows_b, run)
        if not res["ok"]:
            failures += [f"{name}: {w}" for w in res["why"]]
        summary.append(f"{name:24s} {'ok' if res['ok'] else 'FAIL'}  " + describe(res, STEPS))
        # Control: a second correct PyTorch implementation that only rounds
        # differently must pass too, and shows how far rounding alone drifts.
        _, rows_c = torch_ref.train(run, variant="rounding")
        ctl = compare(cols_b, rows_c, cols_b, rows_b, run)
        summary.append(f"{'':4s}control PyTorch 'rounding' vs PyTorch: "
                       f"{'ok' if ctl['ok'] else 'FAIL'}  " + describe(ctl, STEPS, 8))
        if not ctl["ok"]:
            failures += [f"{name}: the tolerance rejects a correct PyTorch run "
                         f"that only rounds differently: {w}" for w in ctl["why"]]

        for variant in sabotage:
            _, rows_w = torch_ref.train(run, variant=variant)
            bad = compare(cols_a, rows_a, cols_b, rows_w, run)
            verdict = "rejected as required" if not bad["ok"] else "WRONGLY ACCEPTED"
            summary.append(f"{'':4s}sabotage {variant}: {verdict}"
                           + (f" ({bad['why'][0]})" if bad["why"] else ""))
            if bad["ok"]:
                failures.append(f"{name}: the comparison accepted the wrong reference "
                                f"'{variant}', so it cannot detect such a bug")

    print(f"torch_crosscheck: {n_runs} runs of {STEPS} steps. Tolerances: step by step "
          f"rtol {RTOL_STEP:g} + {K_ULP} float32 spacings; lambda > 0: steps 0-{MIN_MATCH_STEPS} "
          f"step by step, then {WINDOW}-step window means, rtol {RTOL_WINDOW:g} + "
          f"{FLOOR_WINDOW:g} x column peak for distances")
    for s in summary:
        print(s)
    print(f"torch_crosscheck: {time.time() - t_start:.1f} s")
    if failures:
        print("FAILED:")
        for f in failures:
            print("  " + f)
        return 1
    print("torch_crosscheck: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

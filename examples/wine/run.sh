#!/usr/bin/env bash
# run.sh: the wine walk-through of the README.
#
#     examples/wine/run.sh [BIN [OUT_DIR]]      (defaults: build/sparsetune, wine-runs)
#
# Pretrains a 13,32,32,3 classifier on sklearn's wine data (task A), then asks
# of two shifted tasks (perm: the 13 columns in another order; swap: the labels
# turned one step) which layer a fine-tune needs, three ways: a sweep over
# lambda with the layer penalty (the data-run default: a group per layer, the
# proximal step, the sum reduction), every freeze mask ranked by accuracy
# (baselines --select accuracy), and the three methods side by side (compare).
# A's and B's test splits are named evaluation sets: what is forgotten of A,
# how well B generalizes. Prints the tables; every run's files stay in OUT_DIR.
# About half a minute on two cores. Needs Debian's python3-sklearn for the
# data (scripts/install-deps --examples).
set -eu
BIN=${1:-build/sparsetune}
OUT=${2:-wine-runs}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
D="$OUT/data"

"$PY" "$HERE/make_tasks.py" "$D"
common=(--loss xent --lr 1e-3 --steps 2000 --quiet)
"$BIN" pretrain --x "$D/A_train_x.npy" --y "$D/A_train_y.npy" --widths 13,32,32,3 \
    "${common[@]}" --force --eval A_test="$D/A_test_x.npy,$D/A_test_y.npy" --out "$OUT/A" >/dev/null
M="$OUT/A/student.safetensors"
for task in perm swap; do
    data=(--model "$M" --x "$D/${task}_train_x.npy" --y "$D/${task}_train_y.npy"
          --eval A_test="$D/A_test_x.npy,$D/A_test_y.npy"
          --eval B_test="$D/${task}_test_x.npy,$D/${task}_test_y.npy")
    "$BIN" sweep "${data[@]}" "${common[@]}" --grid lambda=0,1e-4,1e-3,3e-3,1e-2,3e-2 \
        --out "$OUT/$task-sweep" >/dev/null
    "$BIN" baselines "${data[@]}" "${common[@]}" --select accuracy --out "$OUT/$task-baselines" \
        >"$OUT/$task-baselines.txt"
    "$BIN" compare "${data[@]}" "${common[@]}" --compare-lambda 1e-2 --out "$OUT/$task-compare" >"$OUT/$task-compare.txt"
done
"$PY" - "$OUT" <<'PYEOF'
import csv, json, os, sys
out = sys.argv[1]
print("| task | λ | layer 1 | layer 2 | layer 3 | changed | accuracy on B (train) | B_test | A_test |")
print("|---|---|---|---|---|---|---|---|---|")
for task in ("perm", "swap"):
    for r in csv.DictReader(open(os.path.join(out, f"{task}-sweep", "summary.csv"))):
        share = [float(r[f"share_w{i}"]) + float(r[f"share_b{i}"]) for i in (1, 2, 3)]
        layers = sorted({t[1] for t in r["changed"].split()})
        print(f"| {task} | {float(r['lambda']):g} | " + " | ".join(f"{s:.2f}" for s in share) +
              f" | {','.join(layers) or '-'} | {float(r['accuracy']):.3f} | "
              f"{float(r['eval_B_test_accuracy']):.3f} | {float(r['eval_A_test_accuracy']):.3f} |")
print()
for task in ("perm", "swap"):
    picked = []
    for r in csv.DictReader(open(os.path.join(out, f"{task}-baselines", "baselines.csv"))):
        if r["smallest_within_2x"] == "1":
            picked.append("{" + r["trained"] + "}")
    c = json.load(open(os.path.join(out, f"{task}-compare", "compare.json")))
    picks = "; ".join(f"{m['method']}: {m['most_frequent_pick']}" for m in c["methods"])
    print(f"{task}: baselines --select accuracy marks {', '.join(picked)}; compare: {picks}")
PYEOF

#!/usr/bin/env bash
# run.sh: the digits walk-through of the README.
#
#     examples/digits/run.sh [BIN [OUT_DIR]]      (defaults: build/sparsetune, digits-runs)
#
# Pretrains a 64,128,128,10 network on the 8x8 digits (task A), fine-tunes it
# on two shifted tasks (Bpix: pixels permuted; Blab: labels permuted) with
# plain Adam, with the l1 prox under the mean reduction and under the sum
# reduction, and prints each run's per-layer fingerprint (each tensor's share
# of sum |Delta|) and its forgetting of A. About a minute on two cores.
# Needs Debian's python3-sklearn for the data (scripts/install-deps --examples).
set -eu
BIN=${1:-build/sparsetune}
OUT=${2:-digits-runs}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3

"$PY" "$HERE/make_tasks.py" "$OUT/data"
common=(--loss xent --lr 1e-3 --log-every 100 --quiet)
"$BIN" pretrain --x "$OUT/data/A_x.npy" --y "$OUT/data/A_y.npy" --widths 64,128,128,10 \
    --steps 3000 "${common[@]}" --force --out "$OUT/A" >/dev/null
runs=()
for task in Bpix Blab; do
    for setting in "plain:0:mean" "mean:1:mean" "sum:1e-3:sum"; do
        IFS=: read -r name lambda red <<<"$setting"
        dir="$OUT/$task-$name"
        "$BIN" finetune --model "$OUT/A/student.safetensors" \
            --x "$OUT/data/${task}_x.npy" --y "$OUT/data/${task}_y.npy" \
            --eval-x "$OUT/data/A_x.npy" --eval-y "$OUT/data/A_y.npy" \
            --penalty l1 --prox --lambda "$lambda" --penalty-reduction "$red" \
            --steps 3000 "${common[@]}" --force --out "$dir" >/dev/null
        runs+=("$dir")
    done
done
"$PY" - "${runs[@]}" <<'PYEOF'
import json, os, sys
print("| task | fine-tune | w1 | b1 | w2 | b2 | w3 | b3 | accuracy on B | accuracy on A after |")
print("|---|---|---|---|---|---|---|---|---|---|")
for d in sys.argv[1:]:
    s = json.load(open(os.path.join(d, "summary.json")))
    task, name = os.path.basename(d).split("-")
    how = "plain (λ = 0)" if name == "plain" else f"l1 prox, {s['penalty_reduction']}, λ = {s['lambda']:g}"
    share = " | ".join(f"{s['update_share'][t]:.2f}" for t in ["w1", "b1", "w2", "b2", "w3", "b3"])
    print(f"| {task} | {how} | {share} | {s['final']['accuracy']:.3f} | "
          f"{s['eval']['after']['accuracy']:.3f} |")
PYEOF

#!/usr/bin/env bash
# reproduce_counts.sh BIN [FIRST LAST] [reproduce options...]
# Runs `sparsetune reproduce --seed S` for S = FIRST..LAST (default 0..19) and
# counts the seeds on which the seed post's two findings hold at the end:
#   lambda = 0:    d_init(w2) < d_init(w1) and d_init(w2) < d_init(w3)
#   lambda = 1e-3: d_init(w2) >= 5 x d_init of every other tensor
# Extra arguments go to every reproduce call (e.g. --data-dist normal).
set -eu
BIN=$1
FIRST=${2:-0}
LAST=${3:-19}
shift $(($# < 3 ? $# : 3))
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
for s in $(seq "$FIRST" "$LAST"); do
    "$BIN" reproduce --seed "$s" --quiet --no-plot --log-every 1000 --out "$W/s$s" "$@" >/dev/null
done
python3 - "$W" "$FIRST" "$LAST" <<'PY'
import json, sys
w, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
n0 = n1 = 0
for s in range(first, last + 1):
    d0 = json.load(open(f"{w}/s{s}/lambda_0/summary.json"))["d_init"]
    d1 = json.load(open(f"{w}/s{s}/lambda_0.001/summary.json"))["d_init"]
    ok0 = d0["w2"] < d0["w1"] and d0["w2"] < d0["w3"]
    ratio = min(d1["w2"] / v for k, v in d1.items() if k != "w2" and v > 0)
    ok1 = ratio >= 5
    n0 += ok0
    n1 += ok1
    print(f"seed {s:3d}  lambda=0: w2 {d0['w2']:.4f} w1 {d0['w1']:.4f} w3 {d0['w3']:.4f} "
          f"{'ok' if ok0 else 'FAIL'}   lambda=1e-3: w2/max(other) {ratio:5.1f} "
          f"{'ok' if ok1 else 'FAIL'}")
total = last - first + 1
print(f"lambda = 0:    w2 below w1 and w3 in {n0} of {total} seeds")
print(f"lambda = 1e-3: w2 >= 5x every other in {n1} of {total} seeds")
PY

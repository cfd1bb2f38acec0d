#!/usr/bin/env bash
# reproduce_counts_gpt.sh BIN [FIRST LAST] [reproduce options...]
# Runs `sparsetune reproduce --arch gpt --seed S` for S = FIRST..LAST (default
# 0..19), one seed after the other, and counts the seeds on which the seed's
# two questions get the answer "yes" at the end:
#   lambda = 0:  the re-drawn block has the largest mean |update| of the blocks
#                (mean over a block's entries of |theta - theta0|)
#   lambda > 0:  the verdict is correct (the units with a changed tensor, emb,
#                h0..h{L-1} and lnf, are exactly the re-drawn block)
# Extra arguments go to every reproduce call (e.g. --lambda 7e-5, --freeze
# none). About 22 s a seed on one core with the defaults; set
# OPENBLAS_NUM_THREADS=1 so that each run keeps to one.
set -eu
BIN=$1
FIRST=${2:-0}
LAST=${3:-19}
shift $(($# < 3 ? $# : 3))
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
for s in $(seq "$FIRST" "$LAST"); do
    "$BIN" reproduce --arch gpt --seed "$s" --positions 0 --quiet --no-plot --log-every 1000 \
        --out "$W/s$s" "$@" >/dev/null
done
python3 - "$W" "$FIRST" "$LAST" <<'PY'
import glob, json, os, sys
w, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def unit(t):
    return "emb" if t in ("wte", "wpe") else t.split(".")[0]

def means(s):
    tot, n = {}, {}
    for t, d in s["d_init"].items():
        u = unit(t)
        tot[u] = tot.get(u, 0.0) + d * s["entries"][t]
        n[u] = n.get(u, 0) + s["entries"][t]
    return {u: tot[u] / n[u] for u in tot}

def blocks(m):
    return {u: v for u, v in m.items() if u[0] == "h" and u[1:].isdigit()}

n0 = n1 = 0
lam = "?"
for s in range(first, last + 1):
    d0 = json.load(open(f"{w}/s{s}/lambda_0/summary.json"))
    other = [d for d in glob.glob(f"{w}/s{s}/lambda_*") if not d.endswith("/lambda_0")]
    d1 = json.load(open(f"{other[0]}/summary.json"))
    lam = os.path.basename(other[0])[len("lambda_"):]
    truth = sorted({unit(t) for t in d0["verdict"]["truth"]})
    b = blocks(means(d0))
    top = max(b, key=b.get)
    ok0 = [top] == truth
    ok1 = bool(d1["verdict"]["correct"])
    named = sorted({unit(t) for t in d1["verdict"]["changed"]})
    n0 += ok0
    n1 += ok1
    print(f"seed {s:3d}  lambda=0: " + " ".join(f"{u} {v:.4f}" for u, v in b.items()) +
          f"  largest {top} {'ok' if ok0 else 'no'}   lambda={lam}: changed "
          f"{','.join(named) or 'none'} {'ok' if ok1 else 'no'}")
total = last - first + 1
print(f"lambda = 0:    the re-drawn block moved most in {n0} of {total} seeds")
print(f"lambda = {lam}: exactly the re-drawn block changed in {n1} of {total} seeds")
PY

#!/usr/bin/env bash
# test_penalties.sh BIN WORKDIR: the penalties issue's acceptance runs,
# shortened to seconds, asserted from summary.json and metrics.csv:
# exact zeros under l1 --prox, whole tensors under group --prox, a low-rank
# update under nuclear --prox, lambda = 0 prox = plain step bit for bit,
# --lambda-scale, the teacher deltas' truth, and the spectrum columns.
set -u
BIN=$1
W=$2
. "$(dirname "$0")/common.sh"
train() { "$BIN" train --quiet --no-plot --log-every 100 "$@" >/dev/null 2>"$W/err"; }
SEEDS="0 1 2 3 4"
STEPS=3000

for s in $SEEDS; do
    train --seed "$s" --steps $STEPS --penalty l1 --prox --lambda 1e-3 --out "$W/l1p-$s"
    train --seed "$s" --steps $STEPS --penalty l1 --lambda 1e-3 --out "$W/l1s-$s"
    train --seed "$s" --steps $STEPS --penalty group --prox --lambda 1e-3 --out "$W/grp-$s"
done
check "l1 --prox: only w2/b2 move, in >= 4 of 5 seeds; mse within 3x of the subgradient run" \
    python3 - "$W" $SEEDS <<'PY'
import json, sys
w, seeds = sys.argv[1], sys.argv[2:]
exact = close = 0
for s in seeds:
    p = json.load(open(f"{w}/l1p-{s}/summary.json"))
    q = json.load(open(f"{w}/l1s-{s}/summary.json"))
    moved = [t for t in p["entries"] if p["zero_entries"][t] < p["entries"][t]]
    exact += set(moved) <= {"w2", "b2"} and "w2" in moved
    close += p["final"]["mse"] <= 3 * max(q["final"]["mse"], 1e-12)
    assert p["verdict"]["rule"].startswith("changed if any entry"), p["verdict"]
print(f"l1 --prox: exact in {exact} of {len(seeds)} seeds, mse within 3x in {close}")
sys.exit(0 if exact >= 4 and close >= 4 else 1)
PY
check "group --prox: changed tensors within {w2, b2}, in >= 4 of 5 seeds" \
    python3 - "$W" $SEEDS <<'PY'
import json, sys
w, seeds = sys.argv[1], sys.argv[2:]
ok = 0
for s in seeds:
    v = json.load(open(f"{w}/grp-{s}/summary.json"))["verdict"]
    ok += bool(v["changed"]) and set(v["changed"]) <= {"w2", "b2"} and v["correct"] is True
print(f"group --prox: {ok} of {len(seeds)}")
sys.exit(0 if ok >= 4 else 1)
PY

# A rank-2 teacher delta: nuclear --prox finds a low-rank update, l1 a higher one.
train --steps 5000 --teacher-delta rank:2 --penalty nuclear --prox --lambda 1e-3 --out "$W/nuc"
train --steps 5000 --teacher-delta rank:2 --penalty l1 --lambda 1e-3 --out "$W/nucl1"
check "rank:2 teacher: nuclear --prox rank of dW2 in 1..3, below plain l1's" \
    python3 - "$W" <<'PY'
import json, sys
n = json.load(open(sys.argv[1] + "/nuc/summary.json"))
l = json.load(open(sys.argv[1] + "/nucl1/summary.json"))
print("rank dW2: nuclear", n["rank"]["w2"], "l1", l["rank"]["w2"], "truth", n["verdict"]["truth"])
sys.exit(0 if 1 <= n["rank"]["w2"] <= 3 and l["rank"]["w2"] > n["rank"]["w2"]
         and n["verdict"]["truth"] == ["w2"] else 1)
PY

# lambda = 0: the proximal step is the plain optimizer step, bit for bit.
for pen in l1 group nuclear l2; do
    train --steps 200 --penalty $pen --prox --lambda 0 --out "$W/p0-$pen"
    train --steps 200 --penalty $pen --lambda 0 --out "$W/s0-$pen"
    check "lambda 0, $pen: --prox gives the same metrics.csv" \
        cmp -s "$W/p0-$pen/metrics.csv" "$W/s0-$pen/metrics.csv"
done

# --lambda-scale: w2 is free, so R leaves it out (mean l1: R = sum of the other d_init).
train --steps 200 --lambda 1e-3 --lambda-scale w2=0 --out "$W/scale"
check "--lambda-scale w2=0 removes w2 from the penalty" python3 - "$W" <<'PY'
import json, sys
s = json.load(open(sys.argv[1] + "/scale/summary.json"))
r = sum(v for t, v in s["d_init"].items() if t != "w2")
sys.exit(0 if abs(s["final"]["penalty"] - r) <= 1e-6 * max(r, 1e-12) + 1e-12 else 1)
PY
"$BIN" train --lambda-scale w9=0 --out "$W/never" >/dev/null 2>"$W/err"
check "--lambda-scale w9=0 is a usage error" [ $? -eq 2 ]
check "... naming it" grep -q "w9" "$W/err"
"$BIN" train --teacher-delta rank:0 --out "$W/never" >/dev/null 2>"$W/err"
check "--teacher-delta rank:0 is a usage error" [ $? -eq 2 ]
"$BIN" train --lambda-scale w1=0,w1=2 --out "$W/never" >/dev/null 2>"$W/err"
check "--lambda-scale naming w1 twice is a usage error" [ $? -eq 2 ]
"$BIN" train --teacher-delta rank:2 --teacher-delta-scale 0 --out "$W/never" >/dev/null 2>"$W/err"
check "a rank delta of scale 0 is a usage error" [ $? -eq 2 ]

# Under nuclear --prox the biases carry no penalty: they are judged by the
# threshold, the weights by exact zeros; l2 --prox never gives exact zeros.
train --steps 300 --teacher-delta rank:2 --penalty nuclear --prox --lambda 1e-3 --out "$W/nv"
check "nuclear --prox: only the weights are judged by exact zeros" \
    grep -q '"exact":[[:space:]]*\["w1", "w2", "w3"\]' "$W/nv/summary.json"
train --steps 300 --penalty l2 --prox --lambda 0.1 --out "$W/l2v"
check "l2 --prox: judged by the threshold" grep -q '"exact":[[:space:]]*\[\]' "$W/l2v/summary.json"

# sparse:P: the truth is what differs.
train --steps 10 --teacher-delta sparse:0.5 --out "$W/sparse"
check "sparse:0.5 truth covers w2 and b2" grep -q '"truth":[[:space:]]*\["w2", "b2"\]' \
    "$W/sparse/summary.json"

# The spectrum columns: numbers every --spectrum-every steps and at the end, nan between.
train --steps 250 --log-every 1 --spectrum-every 100 --lambda 1e-3 --out "$W/spec"
check "spectrum columns every 100 steps" python3 - "$W" <<'PY'
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/spec/metrics.csv")))
for r in rows:
    k = int(r["step"])
    has = not math.isnan(float(r["rank_w2"]))
    if has != (k % 100 == 0 or k == 250):
        sys.exit(f"step {k}: rank_w2 {r['rank_w2']}")
    if has and not (0 <= float(r["rank_w2"]) <= 20 and float(r["nuc_w2"]) >= 0):
        sys.exit(f"step {k}: bad spectrum")
sys.exit(0 if float(rows[0]["zero_w2"]) == 400 else 1)
PY

# Nuclear runs get a fourth panel (the rank of each weight update): a wider page.
"$BIN" train --steps 300 --penalty nuclear --prox --lambda 1e-3 --quiet --out "$W/nucfig" >/dev/null
check "nuclear figure: 4 panels, 2133x530" \
    python3 "$(dirname "$0")/../png_check.py" "$W/nucfig/figure.png" 2133 530

# The new reductions and the layer penalty from the command line: prices in
# summary.json as penalty.h defines them, and the layer penalty's exact zeros
# by whole layers.
train --steps 300 --penalty l1 --penalty-reduction sqrt --lambda 1e-4 --out "$W/sqrt"
train --steps 300 --penalty layer --prox --penalty-reduction fisher --lambda 1e-3 --out "$W/fish"
check "sqrt prices 1/sqrt(n); fisher prices one per layer, its mean F_all-weighted to 1;" \
    python3 - "$W" <<'PY'
import json, math, sys
s = json.load(open(sys.argv[1] + "/sqrt/summary.json"))
n = s["entries"]
ok = all(abs(s["penalty_price"][t] - 1 / math.sqrt(n[t])) < 1e-12 for t in n)
f = json.load(open(sys.argv[1] + "/fish/summary.json"))
p = f["penalty_price"]
ok &= f["penalty"] == "layer" and f["penalty_reduction"] == "fisher"
ok &= all(p["w%d" % l] == p["b%d" % l] for l in (1, 2, 3))
# rho_u = sqrt(F_u / F_all): the entry-weighted mean of rho_u^2 over the layers is 1
tot = sum(n[t] for t in n)
ok &= abs(sum(n[t] * p[t] ** 2 for t in n) / tot - 1) < 1e-9
# whole layers: each layer's tensors are changed together or not at all
ch = set(f["verdict"]["changed"])
ok &= all(("w%d" % l in ch) == ("b%d" % l in ch) for l in (1, 2, 3))
sys.exit(0 if ok else 1)
PY

"$BIN" train --online --penalty-reduction fisher --lambda 1e-4 --steps 10 --quiet --no-plot \
    --out "$W/never" >/dev/null 2>"$W/err"
check "fisher with --online: a usage error that says why" \
    sh -c "[ $? -eq 2 ] && grep -q 'online has none' '$W/err' && [ ! -e '$W/never' ]"

# Data runs default to the layer penalty with --prox and the sum reduction
# when none of the three is given; teacher-student runs keep l1 mean.
"$BIN" train --steps 50 --save-data --quiet --no-plot --out "$W/dsrc" >/dev/null 2>&1
data="--task data --x $W/dsrc/x.npy --y $W/dsrc/y.npy --steps 50 --lambda 1e-5 --quiet --no-plot"
"$BIN" train $data --out "$W/d1" >/dev/null 2>&1
"$BIN" train $data --penalty l1 --no-prox --out "$W/d2" >/dev/null 2>&1
"$BIN" train --steps 50 --lambda 1e-5 --quiet --no-plot --out "$W/d3" >/dev/null 2>&1
check "data runs: layer, sum, prox by default; one given turns it off; teacher-student: l1 mean" \
    python3 - "$W" <<'PY'
import json, sys
def cfg(d):
    s = json.load(open(sys.argv[1] + "/" + d + "/summary.json"))
    return s["penalty"], s["penalty_reduction"], s["prox"]
sys.exit(0 if cfg("d1") == ("layer", "sum", True) and cfg("d2") == ("l1", "mean", False)
         and cfg("d3") == ("l1", "mean", False) else 1)
PY

echo "penalties: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

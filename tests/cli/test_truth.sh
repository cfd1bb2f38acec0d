#!/usr/bin/env bash
# test_truth.sh BIN WORKDIR: `truth`, the confusion experiment, on a shortened
# run: its three tables have a row per (net, truth, method, seed), per mask run
# and per (net, method, truth); their numbers are those of the single runs
# they are made of (`train` with the same options); and its usage errors.
set -u
BIN=$1
W=$2
. "$(dirname "$0")/common.sh"
RUN="--steps 300 --log-every 100 --data-size 64 --quiet"
"$BIN" truth --nets 1,8,8,1/4,8,8,4 --truths 1/3 \
    --methods masks,adam,l1-prox-mean,l1-prox-sum@1e-4 --seeds 2 $RUN --jobs 2 \
    --out "$W/t" >"$W/out" 2>"$W/err"
rc=$?
check "truth exits 0 (got $rc)" [ $rc -eq 0 ]
check "truth prints a table per net and each method's totals" python3 - "$W/out" <<'PY'
import re, sys
out = open(sys.argv[1]).read()
ok = "net 1,8,8,1:" in out and "net 4,8,8,4:" in out
ok &= len(re.findall(r"^  truth 3: suffices alone: 1 \d/2, 2 \d/2, 3 \d/2$", out, re.M)) == 2
ok &= len(re.findall(r"^  l1-prox-sum +0\.0001 +\d/\d/\d +\d/\d/\d +\d+% / *\d+% / *\d+%$",
                      out, re.M)) == 2
ok &= re.search(r"^l1-prox-mean@0\.001: named the re-drawn set in \d/8 runs, a sufficient "
                r"set in \d/8, one of the fewest layers in \d/8$", out, re.M) is not None
sys.exit(0 if ok else 1)
PY
check "truth_runs.csv: a row per net, truth, method and seed; masks named as truth_masks.csv ranks" \
    python3 - "$W/t" <<'PY'
import csv, math, sys
runs = list(csv.DictReader(open(sys.argv[1] + "/truth_runs.csv")))
masks = list(csv.DictReader(open(sys.argv[1] + "/truth_masks.csv")))
ok = len(runs) == 2 * 2 * 4 * 2 and len(masks) == 2 * 2 * 2 * 7
ok &= {r["net"] for r in runs} == {"1,8,8,1", "4,8,8,4"} and {r["truth"] for r in runs} == {"1", "3"}
ok &= {(r["method"], r["lambda"]) for r in runs} == {("masks", "0"), ("adam", "0"),
                                                     ("l1-prox-mean", "0.001"),
                                                     ("l1-prox-sum", "0.0001")}
for r in runs:
    ok &= r["correct"] == str(int(r["named"] == r["truth"]))
# Each (net, truth, seed): the mask runs decide what suffices and what masks names.
for key in {(m["net"], m["truth"], m["seed"]) for m in masks}:
    ms = {m["trained"]: m for m in masks if (m["net"], m["truth"], m["seed"]) == key}
    full = float(ms["1,2,3"]["tail_loss"])
    for m in ms.values():
        ok &= m["suffices"] == str(int(float(m["tail_loss"]) <= 10 * full))
    best = min(float(m["tail_loss"]) for m in ms.values())
    within = [m for m in ms.values() if float(m["tail_loss"]) <= 2 * best]
    pick = min(within, key=lambda m: (len(m["trained"].split(",")), float(m["tail_loss"])))
    for r in runs:
        if (r["net"], r["truth"], r["seed"]) != key:
            continue
        if r["method"] == "masks":
            ok &= r["named"] == pick["trained"] and float(r["tail_loss"]) == float(pick["tail_loss"])
        ok &= r["sufficient"] == (ms[r["named"]]["suffices"] if r["named"] in ms else "0")
        # minimal: sufficient, and no sufficient set has fewer layers
        fewest = min([len(m["trained"].split(",")) for m in ms.values() if m["suffices"] == "1"],
                     default=99)
        ok &= r["minimal"] == str(int(r["sufficient"] == "1" and
                                      len(r["named"].split(",")) == fewest))
sys.exit(0 if ok else 1)
PY
check "truth.csv: a row per net, method and truth; its counts are truth_runs.csv's" \
    python3 - "$W/t" <<'PY'
import csv, sys
runs = list(csv.DictReader(open(sys.argv[1] + "/truth_runs.csv")))
rows = list(csv.DictReader(open(sys.argv[1] + "/truth.csv")))
ok = len(rows) == 2 * 4 * 2
for s in rows:
    mine = [r for r in runs if (r["net"], r["method"], r["lambda"], r["truth"]) ==
            (s["net"], s["method"], s["lambda"], s["truth"])]
    counts = {}
    for r in mine:
        counts[r["named"]] = counts.get(r["named"], 0) + 1
    named = [x.rsplit(":", 1) for x in s["named_counts"].split(";")]
    ok &= s["seeds"] == "2" and len(mine) == 2
    ok &= {k: int(v) for k, v in named} == counts and sum(int(v) for _, v in named) == 2
    ok &= [int(v) for _, v in named] == sorted((int(v) for _, v in named), reverse=True)
    ok &= int(s["correct"]) == sum(int(r["correct"]) for r in mine)
    ok &= int(s["sufficient"]) == sum(int(r["sufficient"]) for r in mine)
    ok &= int(s["minimal"]) == sum(int(r["minimal"]) for r in mine)
sys.exit(0 if ok else 1)
PY
# The figure: a band per net under the title, so taller than the one-net page.
height=$(python3 -c 'import sys; print(int.from_bytes(open(sys.argv[1], "rb").read()[20:24], "big"))' \
    "$W/t/truth.png" 2>/dev/null)
check "truth.png: two nets, taller than 530 (got ${height:-none})" [ "${height:-0}" -gt 530 ]
check "truth.png" python3 "$(dirname "$0")/../png_check.py" "$W/t/truth.png" 1600 "${height:-0}"

# The rows are the runs train makes with the same options: a penalized run
# (its judged-changed layers and tail loss) and a mask run (layer 2 trained
# alone: the other layers frozen, lambda 0).
"$BIN" train --widths 4,8,8,4 --reinit 3 --penalty l1 --prox --penalty-reduction sum \
    --lambda 1e-4 --seed 1 $RUN --no-plot --out "$W/one" >/dev/null 2>&1
check "train exits 0" [ $? -eq 0 ]
"$BIN" train --widths 1,8,8,1 --reinit 1 --freeze 1,3 --lambda 0 --seed 0 $RUN --no-plot \
    --out "$W/mask" >/dev/null 2>&1
check "train of a mask exits 0" [ $? -eq 0 ]
check "truth's rows equal the single runs" python3 - "$W" <<'PY'
import csv, json, sys
w = sys.argv[1]
runs = list(csv.DictReader(open(w + "/t/truth_runs.csv")))
masks = list(csv.DictReader(open(w + "/t/truth_masks.csv")))
one = json.load(open(w + "/one/summary.json"))
layers = sorted({t[1:] for t in one["verdict"]["changed"]}, key=int)
row = [r for r in runs if (r["net"], r["truth"], r["method"], r["lambda"], r["seed"]) ==
       ("4,8,8,4", "3", "l1-prox-sum", "0.0001", "1")]
ok = len(row) == 1 and row[0]["named"] == (",".join(layers) or "none")
ok &= float(row[0]["tail_loss"]) == one["final"]["mse_tail_min"]
mask = json.load(open(w + "/mask/summary.json"))
row = [m for m in masks if (m["net"], m["truth"], m["seed"], m["trained"]) == ("1,8,8,1", "1", "0", "2")]
ok &= len(row) == 1 and float(row[0]["tail_loss"]) == mask["final"]["mse_tail_min"]
if not ok:
    print(row, layers, one["final"], mask["final"])
sys.exit(0 if ok else 1)
PY

# Usage errors: exit 2 with the reason, before anything is created.
"$BIN" truth --methods masks,l1-foo-mean --out "$W/never" >"$W/out" 2>"$W/err"
check "an unknown method is a usage error" [ $? -eq 2 ]
check "... naming it" grep -q "unknown method 'l1-foo-mean'" "$W/err"
"$BIN" truth --methods adam@1e-3 --out "$W/never" >"$W/out" 2>"$W/err"
check "@LAMBDA on adam is a usage error" [ $? -eq 2 ]
"$BIN" truth --nets 1,8,8,1/4,8,4 --out "$W/never" >"$W/out" 2>"$W/err"
check "nets of different depth are a usage error" [ $? -eq 2 ]
check "... naming the net" grep -q "net 2 (4,8,4) has 2 layers" "$W/err"
"$BIN" truth --truths 1/4 --out "$W/never" >"$W/out" 2>"$W/err"
check "a truth naming no layer is a usage error" [ $? -eq 2 ]
"$BIN" truth --task data --out "$W/never" >"$W/out" 2>"$W/err"
check "--task data is a usage error" [ $? -eq 2 ]
check "nothing created" [ ! -e "$W/never" ]

echo "truth: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

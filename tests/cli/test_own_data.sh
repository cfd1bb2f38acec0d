#!/usr/bin/env bash
# test_own_data.sh BIN WORKDIR: a researcher's own model and data in every
# command. A 3-class task A (4 features) is pretrained; task B is A with the
# labels turned one step. Then sweep, lambda-path, baselines, compare and
# continual take --model like finetune; named evaluation sets (--eval
# NAME=X,Y) reach metrics.csv, summary.json and summary.csv; a data run has no
# truth and no verdict in any table; and the data loss is named by its loss.
set -u
BIN=$1
W=$2
. "$(dirname "$0")/common.sh"
PY=/usr/bin/python3
# has FILE TEXT: FILE holds TEXT (fixed string).
has() { grep -qF -- "$2" "$1"; }
# col CSV NAME: CSV's header has the column NAME.
col() { head -n 1 "$1" | tr ',' '\n' | grep -qx -- "$2"; }

"$PY" - "$W" <<'PYEOF'
import sys
import numpy as np
w = sys.argv[1]
rng = np.random.default_rng(1)
centres = rng.normal(size=(3, 4)) * 2.0
for part, n in (("train", 90), ("test", 30)):
    y = np.arange(n) % 3
    x = (centres[y] + rng.normal(size=(n, 4))).astype(np.float32)
    np.save(f"{w}/A_{part}_x.npy", x)
    np.save(f"{w}/A_{part}_y.npy", y.astype(np.int64))
    np.save(f"{w}/B_{part}_y.npy", ((y + 1) % 3).astype(np.int64))
PYEOF
A_tr="--eval A_train=$W/A_train_x.npy,$W/A_train_y.npy"
A_te="--eval A_test=$W/A_test_x.npy,$W/A_test_y.npy"
B_te="--eval B_test=$W/A_test_x.npy,$W/B_test_y.npy"
B="--x $W/A_train_x.npy --y $W/B_train_y.npy --loss xent --lr 3e-3"

"$BIN" pretrain --x "$W/A_train_x.npy" --y "$W/A_train_y.npy" --widths 4,12,12,3 --loss xent \
    --lr 3e-3 --steps 400 --quiet --no-plot --out "$W/A" >/dev/null
check "pretrain A" [ -s "$W/A/student.safetensors" ]
M="$W/A/student.safetensors"

# ---- named evaluation sets ----
"$BIN" finetune --model "$M" $B $A_te $B_te --eval-x "$W/A_train_x.npy" --eval-y "$W/A_train_y.npy" \
    --steps 200 --quiet --out "$W/ft" >"$W/out" 2>"$W/err"
check "finetune with three evaluation sets exits 0" [ $? = 0 ]
for c in eval_xent eval_accuracy eval_A_test_xent eval_A_test_accuracy eval_B_test_xent eval_B_test_accuracy; do
    check "metrics.csv has $c" col "$W/ft/metrics.csv" "$c"
done
check "summary.json: the named sets under evals, with forgetting and accuracy" \
    "$PY" -c 'import json, sys
s = json.load(open(sys.argv[1]))
e = s["evals"]
assert set(e) == {"A_test", "B_test"}, e
assert s["eval"]["x"].endswith("A_train_x.npy")
b = e["B_test"]
assert b["after"]["accuracy"] > b["before"]["accuracy"], b
assert abs(b["forgetting"] - (b["after"]["xent"] - b["before"]["xent"])) < 1e-12' "$W/ft/summary.json"
check "the printed result names each set" has "$W/out" "eval B_test("
check "config.ini keeps both named sets" grep -qx "eval = A_test=$W/A_test_x.npy,$W/A_test_y.npy;B_test=$W/A_test_x.npy,$W/B_test_y.npy" "$W/ft/config.ini"
# A config file's sets are replaced by the command line's, as any option.
printf 'eval = old=%s,%s\n' "$W/A_test_x.npy" "$W/A_test_y.npy" >"$W/ev.ini"
"$BIN" finetune --model "$M" $B --config "$W/ev.ini" $B_te --steps 5 --quiet --no-plot --out "$W/ftc" >/dev/null 2>&1
checks "the command line's --eval replaces a config file's" \
    'col "$W/ftc/metrics.csv" eval_B_test_xent && ! col "$W/ftc/metrics.csv" eval_old_xent'
"$BIN" finetune --model "$M" $B --config "$W/ev.ini" --steps 5 --quiet --no-plot --out "$W/ftc2" >/dev/null 2>&1
check "a config file's --eval alone is used" col "$W/ftc2/metrics.csv" eval_old_xent

bad_eval() { # DESCRIPTION EXPECTED-TEXT ARGS...
    local what=$1 want=$2
    shift 2
    "$BIN" finetune --model "$M" $B --steps 5 --quiet --no-plot --out "$W/bad" "$@" >"$W/out" 2>"$W/err"
    local rc=$?
    check "$what: exit 2 (got $rc)" [ $rc = 2 ]
    check "$what: says '$want'" has "$W/err" "$want"
}
bad_eval "--eval without a name" "expected NAME=X.npy,Y.npy" --eval "$W/A_test_x.npy,$W/A_test_y.npy"
bad_eval "--eval with a name of other characters" "letters, digits" --eval "a b=$W/A_test_x.npy,$W/A_test_y.npy"
bad_eval "--eval twice with one name" "a second set named A_test" $A_te $A_te
bad_eval "--eval without targets on a data run" "needs its targets" --eval "nolab=$W/A_test_x.npy"
nine=()
for i in 1 2 3 4 5 6 7 8 9; do nine+=(--eval "s$i=$W/A_test_x.npy,$W/A_test_y.npy"); done
bad_eval "nine --eval sets" "at most 8 evaluation sets" "${nine[@]}"

# Long paths: seven sets of ~300-character paths (over 4 KiB of text) go
# through config.ini whole.
seg=$(printf 'd%.0s' $(seq 1 95))
L="$W/$seg/$seg/$seg"
mkdir -p "$L"
cp "$W/A_test_x.npy" "$W/A_test_y.npy" "$L/"
long=()
for i in 1 2 3 4 5 6 7; do long+=(--eval "s$i=$L/A_test_x.npy,$L/A_test_y.npy"); done
"$BIN" finetune --model "$M" $B "${long[@]}" --steps 5 --quiet --no-plot --out "$W/long" >/dev/null 2>"$W/err"
check "seven long --eval sets: the run exits 0" [ -s "$W/long/summary.json" ]
"$BIN" train --config "$W/long/config.ini" --steps 5 --quiet --no-plot --out "$W/long2" >/dev/null 2>"$W/err"
check "... and its config.ini, over 4 KiB of sets, runs again with all seven" \
    "$PY" -c 'import json, sys; assert len(json.load(open(sys.argv[1]))["evals"]) == 7' "$W/long2/summary.json"
"$BIN" finetune --model "$M" $B --eval "a=$W/A_test_x.npy,$W/A_test_y.npy;" $B_te --steps 5 --quiet --no-plot --out "$W/semi" >/dev/null 2>"$W/err"
check "a ';' at the end of one --eval before another: both sets" \
    "$PY" -c 'import json, sys; assert set(json.load(open(sys.argv[1]))["evals"]) == {"a", "B_test"}' "$W/semi/summary.json"
"$BIN" finetune --model "$M" $B --eval "bad=$W/nope.npy,$W/A_test_y.npy" --steps 5 --quiet --no-plot --out "$W/nofile" >/dev/null 2>"$W/err"
check "a named set's missing file: the message names the set" has "$W/err" "--eval bad: "

# ---- resume: the checkpoint knows the model ----
"$BIN" finetune --model "$M" $B $A_te $B_te --steps 20000 --checkpoint-every 500 --quiet --no-plot \
    --out "$W/ftr" >/dev/null 2>"$W/ftr.err" &
pid=$!
sleep 0.3
kill -INT $pid 2>/dev/null
wait $pid
check "an interrupted finetune leaves a checkpoint" [ -e "$W/ftr/checkpoint.bin" ]
check "and says to resume it with finetune" grep -q "resume with: sparsetune finetune --resume $W/ftr" "$W/ftr.err"
"$BIN" finetune --resume "$W/ftr" --quiet --no-plot >"$W/out" 2>"$W/err"
check "finetune --resume without --model exits 0" [ $? = 0 ]
check "the resumed run keeps both named sets" \
    "$PY" -c 'import json, sys; assert set(json.load(open(sys.argv[1]))["evals"]) == {"A_test", "B_test"}' "$W/ftr/summary.json"
"$BIN" sweep --model "$M" --student-init "$M" $B --grid lambda=0 --steps 5 --quiet --out "$W/both" >/dev/null 2>"$W/err"
check "--model with --student-init: refused" has "$W/err" "give one"

# ---- sweep --model: columns by the loss, no truth, the shares ----
"$BIN" sweep --model "$M" $B $A_te --grid lambda=0,1e-2 --steps 100 --jobs 2 --quiet \
    --out "$W/sw" >"$W/out" 2>"$W/err"
check "sweep --model exits 0" [ $? = 0 ]
S="$W/sw/summary.csv"
for c in xent accuracy eval_A_test_xent eval_A_test_accuracy eval_A_test_forgetting share_w1 share_b3 changed; do
    check "sweep summary.csv has $c" col "$S" "$c"
done
for c in mse truth correct; do
    check "sweep summary.csv of a data run has no $c column" bash -c "! head -n 1 '$S' | tr ',' '\n' | grep -qx $c"
done
check "sweep: each run's shares add up to 1" \
    "$PY" -c 'import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    s = sum(float(v) for k, v in r.items() if k.startswith("share_"))
    assert abs(s - 1) < 1e-9, s' "$S"
# The figure of a data sweep: losses and accuracies where the verdict was.
"$BIN" sweep --model "$M" $B $A_te --grid lambda=0,1e-2 --steps 50 --format svg --quiet \
    --out "$W/swfig" >/dev/null 2>&1
checks "a data sweep's figure: the loss and accuracy panels with the named set, no verdict" \
    'grep -q "y axis: final loss (median)" "$W/swfig/sweep.svg" && grep -q "y axis: final accuracy (median)" "$W/swfig/sweep.svg" && grep -q "legend: A_test" "$W/swfig/sweep.svg" && grep -q "legend: training" "$W/swfig/sweep.svg" && ! grep -q "judged correct" "$W/swfig/sweep.svg"'
"$BIN" train --widths 1,8,3 --save-data --steps 0 --quiet --no-plot --out "$W/kld" >/dev/null 2>&1
"$BIN" sweep --task data --widths 1,8,3 --x "$W/kld/x.npy" --y "$W/kld/y.npy" --loss kl \
    --eval tr="$W/kld/x.npy,$W/kld/y.npy" --grid lambda=0,1e-3 --steps 20 --format svg --quiet \
    --out "$W/swkl" >/dev/null 2>&1
checks "a --loss kl data sweep's figure has its loss panel with the named set" \
    'grep -q "y axis: final loss (median)" "$W/swkl/sweep.svg" && grep -q "legend: tr" "$W/swkl/sweep.svg"'
"$BIN" sweep --grid lambda=0,1e-3 --steps 20 --quiet --no-plot --out "$W/swts" >/dev/null 2>&1
checks "a teacher-student sweep keeps mse, truth and correct" \
    'col "$W/swts/summary.csv" mse && col "$W/swts/summary.csv" truth && col "$W/swts/summary.csv" correct && ! col "$W/swts/summary.csv" accuracy'
"$BIN" sweep --grid lambda=0 --grid loss=mse,xent --widths 1,8,3 --steps 20 --quiet --no-plot \
    --out "$W/swloss" >/dev/null 2>&1
checks "a grid over --loss: data_loss and total_loss, one column called loss" \
    'col "$W/swloss/summary.csv" data_loss && col "$W/swloss/summary.csv" total_loss && [ "$(head -n 1 "$W/swloss/summary.csv" | tr "," "\n" | grep -cx loss)" = 1 ]'

"$BIN" sweep --model "$M" $B --grid penalty=l1,group --steps 5 --quiet --no-plot --out "$W/swpen" >/dev/null 2>&1
checks "a grid over --penalty on a data run: the other two keep their plain defaults" \
    'grep -qx "penalty-reduction = mean" "$W/swpen/sweep.ini" && grep -qx "prox = 0" "$W/swpen/sweep.ini"'
"$BIN" sweep --model "$M" $B --grid lambda=0,1e-3 --steps 5 --quiet --no-plot --out "$W/swdef" >/dev/null 2>&1
checks "without such an axis a data sweep takes layer, sum and prox" \
    'grep -qx "penalty = layer" "$W/swdef/sweep.ini" && grep -qx "penalty-reduction = sum" "$W/swdef/sweep.ini" && grep -qx "prox = 1" "$W/swdef/sweep.ini"'

"$BIN" sweep --model "$M" $B --grid val-fraction=0,0.2 --grid penalty=l1,group --steps 5 --quiet --no-plot --out "$W/swval" >/dev/null 2>&1
checks "a grid over --val-fraction: val columns (nan where none is held out); over --penalty: penalty_value" \
    'col "$W/swval/summary.csv" val_xent && col "$W/swval/summary.csv" penalty_value && [ "$(head -n 1 "$W/swval/summary.csv" | tr "," "\n" | grep -cx penalty)" = 1 ]'
"$BIN" sweep --model "$M" $B --grid eval-x=$W/A_test_x.npy --steps 5 --quiet --no-plot --out "$W/sweval" >/dev/null 2>"$W/err"
check "a grid over an evaluation set: refused" has "$W/err" "give --eval-x outside the grid"

# ---- lambda-path --model ----
"$BIN" lambda-path --model "$M" $B --points 3 --refine 0 --steps 100 --jobs 2 --quiet \
    --out "$W/lp" >"$W/out" 2>"$W/err"
check "lambda-path --model exits 0" [ $? = 0 ]
checks "lambda-path: xent and shares, no correct" \
    'col "$W/lp/lambda_path.csv" xent && col "$W/lp/lambda_path.csv" share_w2 && ! col "$W/lp/lambda_path.csv" correct'

# ---- baselines --model, --select accuracy ----
"$BIN" baselines --model "$M" $B --steps 150 --jobs 2 --select accuracy --no-plot \
    --out "$W/bl" >"$W/out" 2>"$W/err"
check "baselines --model --select accuracy exits 0" [ $? = 0 ]
checks "baselines.csv: xent_tail_min and accuracy" \
    'col "$W/bl/baselines.csv" xent_tail_min && col "$W/bl/baselines.csv" accuracy'
check "baselines prints the loss by its name" has "$W/out" "xent (tail)"
check "baselines --select accuracy marks the smallest subsets with the best error" \
    "$PY" -c 'import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
err = [1 - float(r["accuracy"]) for r in rows]
best = min(err)
marked = [r for r in rows if r["smallest_within_2x"] == "1"]
assert marked, "nothing marked"
units = min(int(r["units"]) for r, e in zip(rows, err) if e <= 2 * best)
for r in marked:
    assert 1 - float(r["accuracy"]) <= 2 * best and int(r["units"]) == units, r' "$W/bl/baselines.csv"
"$BIN" baselines --select accuracy --steps 5 --quiet --no-plot --out "$W/bl2" >/dev/null 2>"$W/err"
check "baselines --select accuracy under mse: refused" has "$W/err" "needs --loss xent"
"$BIN" baselines --model "$M" $B --select accuracy --batch 8 --steps 5 --quiet --no-plot --out "$W/bl4" >/dev/null 2>"$W/err"
check "baselines --select accuracy with minibatches: refused" has "$W/err" "use the full batch"
"$BIN" baselines --select best --steps 5 --quiet --no-plot --out "$W/bl3" >/dev/null 2>"$W/err"
check "baselines --select best: refused" has "$W/err" "--select 'best': expected loss or accuracy"

# ---- compare --model: no truth ----
"$BIN" compare --model "$M" $B --steps 100 --jobs 2 --quiet --out "$W/cmp" >"$W/out" 2>"$W/err"
check "compare --model exits 0" [ $? = 0 ]
check "compare on data says there is no truth" has "$W/out" "no known truth"
check "compare.json: truth null, agreement and medians" \
    "$PY" -c 'import json, sys
c = json.load(open(sys.argv[1]))
assert c["truth"] is None and c["seeds"] == 1
for m in c["methods"]:
    assert "correct_seeds" not in m and m["agreeing_seeds"] == 1, m
    assert 0 <= m["median_accuracy"] <= 1 and m["median_xent"] >= 0, m' "$W/cmp/compare.json"
"$BIN" compare --model "$M" $B --positions 2 --quiet --out "$W/cmp2" >/dev/null 2>"$W/err"
check "compare --positions on a data run: refused" has "$W/err" "--positions 2"

# ---- continual on your own tasks ----
"$BIN" continual --model "$M" $B --eval-x "$W/A_test_x.npy" --eval-y "$W/A_test_y.npy" \
    --lambdas 1e-2 --steps 150 --no-plot --out "$W/cont" >"$W/out" 2>"$W/err"
check "continual --model with xent exits 0" [ $? = 0 ]
check "continual names task A's data" has "$W/out" "judged on $W/A_test_x.npy"
check "continual.csv on own data: loss on A, forgetting, accuracies" \
    "$PY" -c 'import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [r["method"] for r in rows] == ["plain", "l1", "l1-prox", "l2-sp"], rows
for r in rows:
    assert 0 <= float(r["accuracy_a"]) <= 1 and 0 <= float(r["accuracy_b"]) <= 1, r
    assert float(r["forgetting_a"]) > 0, r  # B contradicts A: A gets worse' "$W/cont/continual.csv"
"$BIN" continual --model "$M" $B --quiet --out "$W/cont2" >/dev/null 2>"$W/err"
check "continual on own data without A's data: refused" has "$W/err" "--eval-x A_x.npy"

echo "own_data: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

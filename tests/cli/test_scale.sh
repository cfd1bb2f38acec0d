#!/usr/bin/env bash
# test_scale.sh BIN WORKDIR: --grad-accum: K batches of B rows per step give
# the step of one batch of K*B rows (the same rows, in the same order; the
# gradient summed in another order, so within float32 rounding), for an MLP
# on drawn data and a GPT on a text; a resumed run is the same bytes; a
# full batch is refused.
set -u
BIN=$1
W=$2
. "$(dirname "$0")/common.sh"
PY=/usr/bin/python3
mkdir -p "$W"

# Every row of two metrics.csv files: the same steps, each loss within rel.
CLOSE='import csv, sys
a = list(csv.DictReader(open(sys.argv[1]))); b = list(csv.DictReader(open(sys.argv[2])))
col, rel = sys.argv[3], float(sys.argv[4])
assert len(a) == len(b) > 10, (len(a), len(b))
for x, y in zip(a, b):
    assert x["step"] == y["step"]
    u, v = float(x[col]), float(y[col])
    assert abs(u - v) <= rel * abs(u), (x["step"], u, v)
'
common="--optimizer sgd --lr 0.05 --steps 40 --log-every 1 --quiet --no-plot"
"$BIN" train $common --batch 16 --out "$W/b16" >/dev/null 2>"$W/err"
"$BIN" train $common --batch 8 --grad-accum 2 --out "$W/b8x2" >/dev/null 2>"$W/err"
"$BIN" train $common --batch 4 --grad-accum 4 --out "$W/b4x4" >/dev/null 2>"$W/err"
check "MLP: --batch 8 --grad-accum 2 is --batch 16, every row within 1e-5" \
    "$PY" -c "$CLOSE" "$W/b16/metrics.csv" "$W/b8x2/metrics.csv" mse 1e-5
check "MLP: --batch 4 --grad-accum 4 is --batch 16, every row within 1e-5" \
    "$PY" -c "$CLOSE" "$W/b16/metrics.csv" "$W/b4x4/metrics.csv" mse 1e-5
check "config.ini records grad-accum" grep -q "^grad-accum = 2$" "$W/b8x2/config.ini"

head -c 6000 "$(dirname "$0")/../../README.md" > "$W/t.txt"
G="--arch gpt --n-layer 1 --n-head 2 --d-model 16 --vocab 256 --context 16 --steps 30 --log-every 1 --quiet --no-plot"
"$BIN" pretrain $G --text "$W/t.txt" --batch 8 --out "$W/g8" >/dev/null 2>"$W/err"
"$BIN" pretrain $G --text "$W/t.txt" --batch 4 --grad-accum 2 --out "$W/g4x2" >/dev/null 2>"$W/err"
check "GPT on a text: --batch 4 --grad-accum 2 is --batch 8 (the same windows), within 1e-5" \
    "$PY" -c "$CLOSE" "$W/g8/metrics.csv" "$W/g4x2/metrics.csv" xent 1e-5

check_resume "--grad-accum: a run stopped by SIGINT and resumed gives the same metrics.csv" \
    0.5 "$W/resume" "$BIN" train --batch 8 --grad-accum 3 --steps 20000 --log-every 50 --quiet --no-plot

"$BIN" train --grad-accum 2 --steps 2 --quiet --no-plot --out "$W/full" >/dev/null 2>"$W/err"
code=$?
checks "--grad-accum with the full set as the batch: refused" \
    '[ $code -ne 0 ] && grep -q "the batch is the whole training set (1000 rows)" "$W/err"'

echo "scale: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

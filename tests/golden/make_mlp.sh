#!/usr/bin/env bash
# make_mlp.sh BIN OUT: runs a fixed set of MLP experiments with BIN and writes
# their outputs to OUT, normalized so that only wall-clock times are left out
# (summary.json's wall_seconds and steps_per_second, the wall_seconds columns
# of summary.csv and baselines.csv, compare's wall times). tests/golden/mlp/
# holds what this printed with the binary of the commit that added it;
# tests/cli/test_golden.sh runs it again and compares every file byte for byte.
set -eu
BIN=$1
OUT=$2
rm -rf -- "$OUT"
mkdir -p -- "$OUT"
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
OUT=$(cd "$OUT" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf -- "$TMP"' EXIT
# Relative paths from here on, so that none of the outputs names $T.
cd "$TMP"
T=.

q="--quiet --no-plot"
# The fixtures' products: the own kernels up to 65,536 weights, OpenBLAS
# above, on every CPU (--products auto would time both on this one).
P="--products fixed"

# Keeps the files a comparison needs from run directory $1 as $OUT/$2.*
keep() {
    local d=$1 name=$2
    cp "$d/metrics.csv" "$OUT/$name.metrics.csv"
    grep -v -e '"wall_seconds":' -e '"steps_per_second":' "$d/summary.json" >"$OUT/$name.summary.json"
    for f in teacher student_init student; do
        [ -e "$d/$f.safetensors" ] && cp "$d/$f.safetensors" "$OUT/$name.$f.safetensors"
    done
    return 0
}
# A summary.csv without its wall_seconds column (the one before the last,
# error, which is empty in these runs), rows in run order (a sweep writes
# them as its runs end).
sweep_csv() {
    sed -E 's/,[^,]*,([^,]*)$/,\1/' "$1" | { IFS= read -r head; echo "$head"; sort -t, -k1,1n; }
}

# The seed experiment, seeds 0 (full length, a row every 10 steps) and 3 (a
# row every step).
"$BIN" reproduce $P --seed 0 --log-every 10 --quiet --out "$T/r0" >"$OUT/reproduce0.stdout"
keep "$T/r0/lambda_0" r0.lambda0
keep "$T/r0/lambda_0.001" r0.lambda1e-3
"$BIN" reproduce $P --seed 3 --steps 1500 --quiet --no-plot --out "$T/r3" >"$OUT/reproduce3.stdout"
keep "$T/r3/lambda_0" r3.lambda0
keep "$T/r3/lambda_0.001" r3.lambda1e-3

# Penalties and their proximal steps.
"$BIN" train $P $q --penalty l1 --prox --lambda 1e-3 --steps 3000 --log-every 3 --seed 1 \
    --out "$T/l1prox" >/dev/null
keep "$T/l1prox" l1prox
"$BIN" train $P $q --penalty group --prox --lambda 1e-3 --steps 2000 --log-every 5 \
    --widths 2,16,12,3 --data-dist normal --out "$T/group" >/dev/null
keep "$T/group" group
"$BIN" train $P $q --penalty nuclear --prox --teacher-delta rank:2 --lambda 1e-3 --steps 2000 \
    --log-every 4 --spectrum-every 50 --widths 3,10,10,10,2 --reinit 2,3 --freeze b1 \
    --lambda-scale w3=0.5 --nuclear-bias l1 --out "$T/nuclear" >/dev/null
keep "$T/nuclear" nuclear
"$BIN" train $P $q --penalty l2 --optimizer sgd --lr 0.05 --momentum 0.9 --nesterov --batch 64 \
    --lambda 1e-2 --lambda-scale 1=0 --activation tanh --steps 1500 --log-every 7 \
    --teacher-delta sparse:0.3 --out "$T/sgd" >/dev/null
keep "$T/sgd" sgd
"$BIN" train $P $q --optimizer adamw --online --batch 32 --label-noise 0.01 --lambda 1e-3 \
    --widths 2,8,8,8,1 --activation silu --reinit 1,4 --steps 1500 --log-every 5 \
    --out "$T/online" >/dev/null
keep "$T/online" online
"$BIN" train $P $q --loss xent --widths 3,12,4 --lambda 1e-3 --penalty l1 --prox \
    --activation gelu --batch 50 --steps 1500 --log-every 5 --save-data --out "$T/xent" >/dev/null
keep "$T/xent" xent
cp "$T/xent/x.npy" "$OUT/xent.x.npy"
cp "$T/xent/y.npy" "$OUT/xent.y.npy"

# Data runs from files: a CSV with its target column and an evaluation set
# (mse), and a classification data set standardized with held-out rows.
# Data runs default to the layer penalty (cli.c data_defaults); these were
# written with the seed's, which they name.
seedpen="--penalty l1 --penalty-reduction mean --no-prox"
awk 'BEGIN { print "a,b,c,target"; for (i = 0; i < 300; i++) {
        a = sin(i * 0.37); b = cos(i * 0.11) * 2; c = (i % 17) / 17;
        printf "%.6f,%.6f,%.6f,%.6f\n", a, b, c, a * b - c + 0.5 * a * a } }' >"$T/train.csv"
"$BIN" train $P $q --task data --x "$T/train.csv" --y-col target --widths 3,16,16,1 \
    --steps 1500 --log-every 5 --lambda 1e-4 $seedpen --save-data --out "$T/csvfit" >/dev/null
awk 'BEGIN { for (i = 0; i < 80; i++) {
        a = sin(i * 0.91 + 1); b = cos(i * 0.23) * 2; c = (i % 13) / 13;
        printf "%.6f,%.6f,%.6f\n", a, b, c } }' >"$T/ex.csv"
awk -F, '{ printf "%.6f\n", $1 * $2 - $3 + 0.5 * $1 * $1 }' "$T/ex.csv" >"$T/ey.csv"
"$BIN" train $P $q --task data --x "$T/train.csv" --y-col target --widths 3,16,16,1 \
    --student-init "$T/csvfit/student.safetensors" --eval-x "$T/ex.csv" --eval-y "$T/ey.csv" \
    --penalty l1 --prox --penalty-reduction mean --lambda 1e-3 --steps 1500 --log-every 5 \
    --out "$T/csv" >/dev/null
keep "$T/csvfit" csvfit
keep "$T/csv" csv
awk 'BEGIN { print "x1,x2,x3,x4,label"; for (i = 0; i < 400; i++) {
        a = sin(i * 0.53) * 3 + 10; b = cos(i * 0.29) * 0.1; c = (i % 7) - 3; d = i / 40;
        l = (a - 10 + 20 * b > 0 ? 1 : 0) + (c > 1 ? 1 : 0);
        printf "%.6f,%.6f,%.6f,%.6f,%d\n", a, b, c, d, l } }' >"$T/cls.csv"
"$BIN" pretrain $P $q $seedpen --x "$T/cls.csv" --y-col label --loss xent --widths 4,24,3 --standardize \
    --val-fraction 0.25 --batch 50 --steps 1500 --log-every 5 --out "$T/pre" >/dev/null
keep "$T/pre" pretrain
awk -F, 'NR > 1 { printf "%s,%s,%s,%s,%d\n", $2 * 10, $1 / 10, $4, $3, ($5 + 1) % 3 }' "$T/cls.csv" >"$T/clsB.csv"
"$BIN" finetune $P $q --model "$T/pre/student.safetensors" --x "$T/clsB.csv" --y-col 4 \
    --loss xent --eval-x "$T/cls.csv" --penalty l1 --prox --penalty-reduction mean --lambda 1e-3 --batch 40 \
    --steps 1500 --log-every 5 --out "$T/fine" >/dev/null
keep "$T/fine" finetune
"$BIN" eval --model "$T/fine/student.safetensors" --x "$T/cls.csv" --y-col label --loss xent \
    >"$OUT/eval.stdout"

# Sets larger than the work buffers of a small pass: 20000 labels through
# 300-wide layers; a data run on them with a validation set of 4000 rows and
# the whole set again as its evaluation set; eval over them. Losses and
# outputs come from one pass over each set.
"$BIN" train $P $q --widths 4,300,300,1 --data-size 20000 --batch 100 --steps 20 --log-every 5 \
    --save-data --out "$T/wide" >/dev/null
keep_text() {
    cp "$1/metrics.csv" "$OUT/$2.metrics.csv"
    grep -v -e '"wall_seconds":' -e '"steps_per_second":' "$1/summary.json" >"$OUT/$2.summary.json"
}
keep_text "$T/wide" wide
"$BIN" train $P $q --task data --x "$T/wide/x.npy" --y "$T/wide/y.npy" --widths 4,300,300,1 \
    --val-fraction 0.2 --eval-x "$T/wide/x.npy" --eval-y "$T/wide/y.npy" --batch 100 \
    --steps 20 --log-every 5 $seedpen --out "$T/widedata" >/dev/null
keep_text "$T/widedata" widedata
"$BIN" eval --model "$T/wide/student.safetensors" --x "$T/wide/x.npy" --y "$T/wide/y.npy" \
    >"$OUT/wide_eval.stdout"

# Commands of many runs (their wall times left out).
"$BIN" sweep $P $q --grid lambda=0,1e-3,1e-2 --grid seed=0:2 --steps 1000 --log-every 10 \
    --jobs 2 --out "$T/sw" >/dev/null
sweep_csv "$T/sw/summary.csv" >"$OUT/sweep.summary.csv"
"$BIN" baselines $P $q --steps 1000 --jobs 2 --out "$T/bl" >"$OUT/baselines.stdout"
sed 's/,[^,]*$//' "$T/bl/baselines.csv" >"$OUT/baselines.csv"
"$BIN" baselines $P $q --by tensor --widths 1,6,1 --steps 500 --jobs 2 --out "$T/blt" \
    >"$OUT/baselines_tensor.stdout"
"$BIN" compare $P $q --seeds 2 --steps 1000 --jobs 2 --out "$T/cmp" >/dev/null
grep -v '"wall_seconds":' "$T/cmp/compare.json" >"$OUT/compare.json"
"$BIN" lambda-path $P $q --points 4 --refine 1 --steps 1000 --jobs 2 --out "$T/lp" \
    >"$OUT/lambda_path.stdout"
sweep_csv "$T/lp/lambda_path.csv" >"$OUT/lambda_path.csv"
cp "$T/lp/switch_off.csv" "$OUT/switch_off.csv"
"$BIN" continual $P $q --lambdas 1e-3 --steps 1000 --out "$T/cont" 2>/dev/null \
    >"$OUT/continual.stdout"
cp "$T/cont/continual.csv" "$OUT/continual.csv"

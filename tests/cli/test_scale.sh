#!/usr/bin/env bash
# test_scale.sh BIN WORKDIR: --grad-accum: K batches of B rows per step give
# the step of one batch of K*B rows (the same rows, in the same order; the
# gradient summed in another order, so within float32 rounding), for an MLP
# on drawn data and a GPT on a text; a resumed run is the same bytes; a
# full batch is refused. --products: auto times each layer once, keeps the
# answer in its cache and records it in config.ini; a re-run takes the same
# path and bits; lists and bad values.
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
    0.5 "$W/resume" "$BIN" train --batch 8 --grad-accum 3 --steps 100000 --log-every 250 --quiet --no-plot

"$BIN" train --grad-accum 2 --steps 2 --quiet --no-plot --out "$W/full" >/dev/null 2>"$W/err"
code=$?
checks "--grad-accum with the full set as the batch: refused" \
    '[ $code -ne 0 ] && grep -q "the batch is the whole training set (1000 rows)" "$W/err"'

# --dry-run: the table, nothing written; one that would not fit still
# gets its table, then the refusal.
"$BIN" train --widths 2,300,300,1 --dry-run --out "$W/dry" >"$W/out" 2>"$W/err"
code=$?
checks "--dry-run: the memory table, exit 0, no run directory" \
    '[ $code = 0 ] && grep -q "^  parameters  *[0-9]" "$W/out" && grep -q "^  total " "$W/out" && [ ! -e "$W/dry" ]'
# (a limit on the address space, which a sanitizer's build cannot start under)
if ldd "$BIN" 2>/dev/null | grep -q libasan; then
    echo "note: an AddressSanitizer build: the --dry-run check under ulimit -v is skipped"
else
    (ulimit -v 1500000 && exec "$BIN" train --widths 2,9000,9000,1 --data-size 10 --spectrum-every 0 \
        --dry-run --out "$W/dry") >"$W/out" 2>"$W/err"
    code=$?
    checks "--dry-run of a run that would not fit: the table, then the refusal naming both sizes" \
        '[ $code -ne 0 ] && grep -q "^  total " "$W/out" &&
         grep -q "the run needs .* more than the .* of memory this process may use" "$W/err" && [ ! -e "$W/dry" ]'
fi

# --products, with a cache of this test's own.
export XDG_CACHE_HOME="$W/cache"
cache="$W/cache/sparsetune/products-1.tsv"
P="--widths 3,40,300,300 --steps 30 --log-every 1 --quiet --no-plot"
"$BIN" train $P --out "$W/p1" >/dev/null 2>"$W/err"
checks "--products auto: each layer timed once, both ways, into the cache" \
    '[ "$(grep -c "	3	40	1000	" "$cache")" = 1 ] && [ "$(wc -l <"$cache")" = 3 ] &&
     awk -F"\t" "\$7 > 0 && \$8 > 0 && (\$6 == \"own\") == (\$7 <= \$8)" "$cache" | wc -l | grep -qx 3'
checks "--products auto: config.ini records the choice per layer" \
    'grep -Eq "^products = (own|blas),(own|blas),(own|blas)$" "$W/p1/config.ini"'
"$BIN" train $P --out "$W/p2" >/dev/null 2>"$W/err"
checks "--products auto again: the cache answers (no new line) and the bits are the same" \
    '[ "$(wc -l <"$cache")" = 3 ] && cmp -s "$W/p1/metrics.csv" "$W/p2/metrics.csv"'
# The cache is what decides: every layer turned to the other way.
sed -i -e "s/	own	/	x	/" -e "s/	blas	/	own	/" -e "s/	x	/	blas	/" "$cache"
"$BIN" train $P --out "$W/p3" >/dev/null 2>"$W/err"
flip=$(sed -n "s/^products = //p" "$W/p1/config.ini" | tr , '\n' |
       sed -e s/own/x/ -e s/blas/own/ -e s/x/blas/ | paste -sd,)
checks "--products auto follows the cache's answer" 'grep -qx "products = $flip" "$W/p3/config.ini"'
"$BIN" train --config "$W/p1/config.ini" --out "$W/p4" >/dev/null 2>"$W/err"
checks "a re-run from config.ini takes the recorded paths: the same bits" \
    'cmp -s "$W/p1/metrics.csv" "$W/p4/metrics.csv"'
# A checkpoint keeps the paths the run took: a resume after the cache
# changed takes them again and ends on the bytes of the uninterrupted run.
R="--widths 3,40,300,300 --steps 1500 --log-every 50 --quiet --no-plot"
"$BIN" train $R --out "$W/rs-straight" >/dev/null 2>&1
"$BIN" train $R --checkpoint-every 100 --out "$W/rs" >/dev/null 2>&1 &
pid=$!
sleep 1
kill -INT $pid
wait $pid
code=$?
sed -i -e "s/	own	/	x	/" -e "s/	blas	/	own	/" -e "s/	x	/	blas	/" "$cache"
"$BIN" train --resume "$W/rs" --quiet --no-plot >/dev/null 2>"$W/err"
checks "--products auto: a resume after the cache changed takes the checkpoint's paths, same bytes" \
    '[ $code = 130 ] && cmp -s "$W/rs-straight/metrics.csv" "$W/rs/metrics.csv"'
# Other machines' lines in the cache, however many, change nothing (the cache
# now holds p1's answers again: the resume above turned them back).
for i in $(seq 700); do printf 'Other CPU %d; kernels v4; OpenBLAS X\t1\t3\t40\t1000\town\t1\t2\n' "$i"; done \
    >"$W/other"
cat "$W/other" "$cache" >"$W/both" && cp "$W/both" "$cache"
lines=$(wc -l <"$cache")
"$BIN" train $P --out "$W/p5" >/dev/null 2>"$W/err"
"$BIN" train $P --out "$W/p6" >/dev/null 2>"$W/err"
checks "--products auto: 700 lines of other machines first, the answers still found (no new line, same bits)" \
    '[ "$(wc -l <"$cache")" = "$lines" ] && cmp -s "$W/p1/metrics.csv" "$W/p5/metrics.csv" &&
     cmp -s "$W/p5/metrics.csv" "$W/p6/metrics.csv"'
"$BIN" train $P --products own --out "$W/own" >/dev/null 2>"$W/err"
"$BIN" train $P --products blas --out "$W/blas" >/dev/null 2>"$W/err"
check "--products own and blas agree within 1e-5 on every row" \
    "$PY" -c "$CLOSE" "$W/own/metrics.csv" "$W/blas/metrics.csv" mse 1e-5
checks "--products own and blas are recorded per layer" \
    'grep -qx "products = own,own,own" "$W/own/config.ini" &&
     grep -qx "products = blas,blas,blas" "$W/blas/config.ini"'
"$BIN" train $P --products fixed --out "$W/fixed" >/dev/null 2>"$W/err"
checks "--products fixed: own up to 65,536 weights, BLAS above" \
    'grep -qx "products = own,own,blas" "$W/fixed/config.ini"'
for bad in fast own,blas own,own,own,own own,,blas; do
    "$BIN" train $P --products "$bad" --out "$W/bad" >/dev/null 2>"$W/err"
    code=$?
    checks "--products $bad: refused, naming the value and what was expected" \
        '[ $code -ne 0 ] && grep -q -- "--products $bad: expected auto, own, blas, fixed or a list" "$W/err"'
done
"$BIN" train --arch gpt --n-layer 1 --d-model 16 --n-head 2 --steps 2 --products own --quiet \
    --no-plot --out "$W/bad" >/dev/null 2>"$W/err"
code=$?
checks "--products own for a GPT: refused" \
    '[ $code -ne 0 ] && grep -q -- "--products own: a gpt runs its products through BLAS" "$W/err"'

echo "scale: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

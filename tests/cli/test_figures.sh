#!/usr/bin/env bash
# test_figures.sh BIN WORKDIR: `reproduce` and `plot` end to end: the verdict
# of a shortened seed run, the figures' files (PNG decoded and checked for
# size and content, SVG, PDF), --no-plot, and the errors of `plot`.
set -u
BIN=$1
W=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
PY=python3
run() {
    "$BIN" "$@" >"$W/out" 2>"$W/err"
    rc=$?
}
has() { grep -qF -- "$2" "$1"; }

# reproduce, shortened to 2,000 steps: at lambda = 1e-3 only w2 is judged changed.
run reproduce --steps 2000 --quiet --out "$W/rep"
check "reproduce exits 0 (got $rc)" [ "$rc" -eq 0 ]
check "reproduce prints the table" has "$W/out" "matches the truth"
for d in lambda_0 lambda_0.001; do
    check "$d/summary.json" [ -s "$W/rep/$d/summary.json" ]
    check "$d/figure.png is a 1600x530 PNG with content" \
        "$PY" "$HERE/../png_check.py" "$W/rep/$d/figure.png" 1600 530
done
check "lambda = 1e-3 after 2000 steps: w2 judged changed and 5x every other tensor" "$PY" -c '
import json, sys
s = json.load(open(sys.argv[1]))
d = s["d_init"]
sys.exit(0 if "w2" in s["verdict"]["changed"]
         and all(d["w2"] >= 5 * v for t, v in d.items() if t != "w2") else 1)
' "$W/rep/lambda_0.001/summary.json"
check "lambda = 0 really used lambda 0" has "$W/rep/lambda_0/config.ini" "lambda = 0"
check "reproduce passes train options to both runs" has "$W/rep/lambda_0.001/config.ini" \
    "steps = 2000"

run reproduce --lambda 0.1 --out "$W/never"
check "reproduce --lambda is a usage error (got $rc)" [ "$rc" -eq 2 ]
check "reproduce --lambda: says why" has "$W/err" "lambda = 0 and lambda = 1e-3"

# train draws its figure unless --no-plot.
run train --steps 50 --quiet --out "$W/t1"
check "train draws figure.png" [ -s "$W/t1/figure.png" ]
check "train prints the figure's path" has "$W/out" "figure: $W/t1/figure.png"
run train --steps 50 --quiet --no-plot --out "$W/t2"
check "--no-plot: no figure" [ ! -e "$W/t2/figure.png" ]
run train --steps 50 --quiet --format svg --out "$W/t3"
check "--format svg: an SVG" grep -q "<svg" "$W/t3/figure.svg"

# plot redraws from metrics.csv and config.ini, in every format.
run plot "$W/t2"
check "plot exits 0 (got $rc)" [ "$rc" -eq 0 ]
check "plot prints the path" has "$W/out" "$W/t2/figure.png"
check "plot: valid PNG" "$PY" "$HERE/../png_check.py" "$W/t2/figure.png" 1600 530
run plot "$W/t2" --format pdf
check "plot --format pdf: a PDF" [ "$(head -c 4 "$W/t2/figure.pdf")" = "%PDF" ]
run plot "$W/t2" --out "$W/custom.svg" --format svg
check "plot --out FILE" grep -q "<svg" "$W/custom.svg"

# Errors: a missing run, a malformed metrics.csv, bad usage.
run plot "$W/nothing-here"
check "plot of a missing directory exits 1 (got $rc)" [ "$rc" -eq 1 ]
check "... naming the file" has "$W/err" "$W/nothing-here/config.ini"
cp -r "$W/t2" "$W/bad"
echo "1,2,3" >>"$W/bad/metrics.csv"
run plot "$W/bad"
check "malformed metrics.csv exits 1 (got $rc)" [ "$rc" -eq 1 ]
check "... naming file and line" has "$W/err" "metrics.csv:53"
printf 'step,mse\n0,abc\n' >"$W/bad/metrics.csv"
run plot "$W/bad"
check "non-numeric cell exits 1 (got $rc)" [ "$rc" -eq 1 ]
check "... naming the cell" has "$W/err" "'abc' is not a number"
: >"$W/bad/metrics.csv"
run plot "$W/bad"
check "empty metrics.csv exits 1 (got $rc)" [ "$rc" -eq 1 ]
check "no figure left behind" [ ! -e "$W/bad/figure.png.tmp" ]
# A run still being written (or killed) ends in a partial line: plotted without it.
cp -r "$W/t2" "$W/partial"
head -c "$(($(wc -c <"$W/t2/metrics.csv") - 7))" "$W/t2/metrics.csv" >"$W/partial/metrics.csv"
run plot "$W/partial"
check "partial last line: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "... with a warning" has "$W/err" "incomplete"
for name in fig.bmp fig noext.d/fig; do
    run plot "$W/t2" --out "$W/$name"
    check "plot --out $name: exit 2 (got $rc)" [ "$rc" -eq 2 ]
    check "plot --out $name: refused, naming the extensions" \
        sh -c "grep -q 'expected a file name ending in .png, .svg or .pdf' '$W/err' && [ ! -e '$W/$name' ]"
done
run plot "$W/t2" --out "$W/by-ext.pdf"
check "--out's extension picks the format" [ "$(head -c 4 "$W/by-ext.pdf")" = "%PDF" ]
run plot "$W/t2" --out "$W/x.png" --format svg
check "--out .png with --format svg is a usage error (got $rc)" [ "$rc" -eq 2 ]
run plot
check "plot without a directory exits 2 (got $rc)" [ "$rc" -eq 2 ]
run plot "$W/t2" --format bmp
check "plot --format bmp exits 2 (got $rc)" [ "$rc" -eq 2 ]
run plot "$W/t2" --out "$W/no/such/dir/f.png"
check "plot into a missing directory exits 1 (got $rc)" [ "$rc" -eq 1 ]

echo "figures: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

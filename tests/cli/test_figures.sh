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

# ---- what the figures say: an SVG carries its words in <title> and <desc> ----
desc() { sed -n '/<desc>/,/<\/desc>/p' "$1"; }
dhas() { desc "$1" | grep -qxF -- "$2"; }

# A teacher-student run: the distance panels' titles fit their axes.
run plot "$W/t2" --out "$W/ts.svg"
check "SVG: the page's title in <title>" grep -q "<title>.*=.*</title>" "$W/ts.svg"
check "teacher-student: distance to the initial student" dhas "$W/ts.svg" \
    "panel: distance to the initial student"
check "teacher-student: distance to the teacher" dhas "$W/ts.svg" "panel: distance to the teacher"
check "teacher-student: the y axes labelled" dhas "$W/ts.svg" "y axis: loss (mse)"
for t in w1 w2 w3 b1 b2 b3; do
    check "teacher-student: $t in the legends" dhas "$W/ts.svg" "legend: $t"
done
checks "teacher-student: no held-out panel without a held-out set" \
    '! desc "$W/ts.svg" | grep -q "held-out"'

# A data run with a validation set and an evaluation set, then named
# evaluation sets added to its metrics.csv by hand: each set in the legend of
# the held-out panel, accuracy under it, the evaluation set named by its file.
"$PY" - "$W/D.csv" <<'PYEOF'
import random, sys
r = random.Random(0)
with open(sys.argv[1], "w") as f:
    f.write("a,b,c,d,y\n")
    for _ in range(120):
        x = [r.gauss(0, 1) for _ in range(4)]
        f.write(",".join(f"{v:.6f}" for v in x) + f",{int(x[0] > 0) + int(x[1] > 0.5)}\n")
PYEOF
run pretrain --x "$W/D.csv" --y-col y --loss xent --widths 4,8,3 --steps 40 --val-fraction 0.25 \
    --eval-x "$W/D.csv" --quiet --no-plot --out "$W/data"
check "a data run with held-out sets (got $rc)" [ "$rc" -eq 0 ]
run plot "$W/data" --out "$W/data.svg"
check "data run: plotted (got $rc)" [ "$rc" -eq 0 ]
check "data run: distance to the start" dhas "$W/data.svg" "panel: distance to the start"
checks "data run: no student in a run without one" '! desc "$W/data.svg" | grep -q student'
check "data run: the held-out panel" dhas "$W/data.svg" "panel: loss on held-out data"
check "data run: the validation set in the legend" dhas "$W/data.svg" "legend: validation"
check "data run: the evaluation set named by its file" dhas "$W/data.svg" "legend: D.csv"
check "data run: accuracy under the held-out loss" dhas "$W/data.svg" "y axis: accuracy"
cp -r "$W/data" "$W/named"
"$PY" - "$W/named/metrics.csv" <<'PYEOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
head, body = rows[0], rows[1:]
extra = ["eval_B-test_xent", "eval_B-test_accuracy", "eval_noisy_2_xent", "eval_noisy_2_accuracy",
         "eval_mse_only_mse"]
out = [head + extra] + [r + ["0.5", "0.75", "0.9", "0.5", "0.1"] for r in body]
csv.writer(open(sys.argv[1], "w"), lineterminator="\n").writerows(out)
PYEOF
run plot "$W/named" --out "$W/named.svg"
check "named sets: plotted (got $rc)" [ "$rc" -eq 0 ]
for name in validation D.csv B-test noisy_2; do
    check "named sets: $name in the legend" dhas "$W/named.svg" "legend: $name"
done
checks "named sets: a set logging another loss than the run's is left out" \
    '! desc "$W/named.svg" | grep -q mse_only'
checks "named sets: in colours no tensor has (black, magenta, navy, teal)" \
    'grep -q "stroke:rgb(0%,0%,0%)" "$W/named.svg" && grep -q "stroke:rgb(80%,0%,80%)" "$W/named.svg" &&
     grep -q "stroke:rgb(0%,0%,54.9" "$W/named.svg" && grep -q "stroke:rgb(0%,50.196" "$W/named.svg"'

# A deep network: one line per layer, the legend and the heatmap say so.
run train --widths 1,4,4,4,4,4,4,4,1 --steps 30 --quiet --no-plot --out "$W/deep"
run plot "$W/deep" --out "$W/deep.svg"
check "deep: the legend names its lines layers" dhas "$W/deep.svg" "legend title: layer"
check "deep: the heatmap's rows are layers" dhas "$W/deep.svg" "y axis: layer"

# Sweep figure: short lambda labels, exact zeros labelled 0 on the axis.
run sweep --grid lambda=0,1e-4,1e-3,3e-3,1e-2 --prox --steps 200 --format svg --quiet \
    --out "$W/sweep"
check "sweep --format svg (got $rc)" [ "$rc" -eq 0 ]
check "sweep: every lambda labelled, in one short style" \
    dhas "$W/sweep/sweep.svg" "x ticks: 0, 1e-4, 1e-3, 3e-3, 0.01"
checks "sweep: exact zeros at a level labelled 0" \
    'desc "$W/sweep/sweep.svg" | grep -q "y ticks: 0, 10"'
check "sweep: the legend names the tensors" dhas "$W/sweep/sweep.svg" "legend: w2"
run sweep --grid lambda=0,1e-3,1.2e-3,1.4e-3,1.6e-3,1.8e-3,2e-3 --steps 20 --format svg --quiet \
    --out "$W/dense"
checks "sweep: lambdas too close for their labels: some left unlabelled" \
    'desc "$W/dense/sweep.svg" | grep "^x ticks:" | head -1 | grep -qv "1.2e-3, 1.4e-3"'

echo "figures: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

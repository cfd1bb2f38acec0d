#!/usr/bin/env bash
# test_model_cli.sh BIN WORKDIR: the command line on the model interface.
# Selectors (--freeze, --reinit, --lambda-scale: names, groups, globs and the
# refusals that name the token), the options a model file fixes (finetune
# --model against --widths from a config file), an evaluation set without
# targets, every input file read once per run, and the figures of a network
# with more tensors than a legend lists.
set -u
BIN=$1
W=$2
. "$(dirname "$0")/common.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

rc=0
run() {
    "$BIN" "$@" >"$W/out" 2>"$W/err"
    rc=$?
}
has() { grep -qF -- "$2" "$1"; }
# json FILE EXPR: EXPR (python, over the parsed summary s) is true.
json() {
    "$PY" -c 'import json, sys; s = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"
}

q="--quiet --no-plot"

# ---- selectors ----

run train --steps 200 --freeze 'b*' $q --out "$W/fb"
check "--freeze 'b*' runs" [ $rc = 0 ]
check "--freeze 'b*': every bias exactly at its start, the weights moved" \
    json "$W/fb/summary.json" 'all(s["zero_entries"][b] == s["entries"][b] for b in ("b1", "b2", "b3")) and all(s["d_init"][w] > 0 for w in ("w1", "w2", "w3"))'
run train --steps 50 --freeze 'w[13]' --reinit w2 $q --out "$W/fw"
check "--freeze 'w[13]' --reinit w2 runs" [ $rc = 0 ]
check "--reinit w2: only w2 differs from the teacher" \
    json "$W/fw/summary.json" 's["verdict"]["truth"] == ["w2"]'
check "--freeze 'w[13]': w1 and w3 unmoved" \
    json "$W/fw/summary.json" 's["d_init"]["w1"] == 0 and s["d_init"]["w3"] == 0'
run train --steps 50 --lambda 1e-3 --lambda-scale 'b*=0' $q --out "$W/ls"
check "--lambda-scale 'b*=0' runs" [ $rc = 0 ]

for spec in "c*|'c*' matches no tensor or group" "w9|'w9' names no tensor or group" \
    "+1|'+1' names no tensor or group" " 1|' 1' names no tensor or group" \
    "1,1|'1' selects w1 a second time" "b*,b2|'b2' selects b2 a second time"; do
    value=${spec%%|*}
    msg=${spec#*|}
    for opt in freeze reinit; do
        run train --steps 5 --$opt "$value" $q --out "$W/never"
        check "--$opt '$value': usage error (exit 2, got $rc)" [ $rc = 2 ]
        check "--$opt '$value': the message names the token" has "$W/err" "--$opt '$value': $msg"
    done
done
run train --steps 5 --lambda-scale 'x*=0' $q --out "$W/never"
check "--lambda-scale 'x*=0': usage error naming the token" \
    sh -c "[ $rc = 2 ] && grep -qF \"'x*' matches no tensor or group\" '$W/err'"
check "no refused run left a directory" [ ! -e "$W/never" ]

# ---- data runs: an evaluation set needs its targets ----

"$PY" - "$W" <<'PY'
import sys
import numpy as np
w = sys.argv[1]
rng = np.random.default_rng(3)
x = rng.normal(size=(120, 3)).astype(np.float32)
y = (x @ np.array([0.5, -1.0, 2.0], dtype=np.float32))[:, None]
with open(w + "/b.csv", "w") as f:
    f.write("a,b,c,y\n")
    for r, t in zip(x, y):
        f.write(",".join(f"{v:.6f}" for v in r) + f",{t[0]:.6f}\n")
np.save(w + "/a.npy", x[:40] * 2)
np.save(w + "/a_y.npy", y[:40])
PY
run train --task data --x "$W/b.csv" --y-col y --widths 3,8,1 --eval-x "$W/a.npy" --steps 10 \
    $q --out "$W/noevy"
check "--eval-x .npy without --eval-y in a data run: usage error (got $rc)" [ $rc = 2 ]
check "... naming --eval-y" has "$W/err" "--eval-x $W/a.npy: needs --eval-y"
check "... and nothing written" [ ! -e "$W/noevy/metrics.csv" ]
run train --task data --x "$W/b.csv" --y-col y --widths 3,8,1 --eval-x "$W/a.npy" \
    --eval-y "$W/a_y.npy" --steps 10 $q --out "$W/evy"
check "with --eval-y it runs" [ $rc = 0 ]
run train --task data --x "$W/b.csv" --y-col y --widths 3,8,1 --eval-x "$W/b.csv" --steps 10 \
    $q --out "$W/evcsv"
check "a .csv --eval-x with --y-col's column: runs" [ $rc = 0 ]

# ---- finetune: the options a model file fixes ----

run pretrain --x "$W/b.csv" --y-col y --widths 3,8,1 --activation tanh --steps 20 $q --out "$W/pre"
check "pretrain runs" [ $rc = 0 ]
M="$W/pre/student.safetensors"
printf 'widths = 3,6,1\n' >"$W/w.ini"
run finetune --model "$M" --config "$W/w.ini" --x "$W/b.csv" --y-col y --steps 5 $q --out "$W/f1"
check "finetune: --widths from a config file that differs from the model is refused (got $rc)" [ $rc = 2 ]
check "... naming --model and both widths" has "$W/err" "--model $M: a network of widths 3,8,1; the run's --widths is 3,6,1"
run finetune --model "$M" --widths 3,6,1 --x "$W/b.csv" --y-col y --steps 5 $q --out "$W/f2"
check "finetune: --widths on the command line, the same refusal" sh -c "[ $rc = 2 ] && grep -qF -- '--model' '$W/err'"
printf 'activation = relu\n' >"$W/a.ini"
run finetune --model "$M" --config "$W/a.ini" --x "$W/b.csv" --y-col y --steps 5 $q --out "$W/f3"
check "finetune: another activation in a config file is refused" \
    sh -c "[ $rc = 2 ] && grep -qF \"its metadata says activation 'tanh'; the run's --activation is relu\" '$W/err'"
run eval --model "$M" --x "$W/b.csv" --y-col y --activation relu
check "eval: another activation than the model's metadata is a usage error too (got $rc)" [ $rc = 2 ]
check "... naming both" has "$W/err" "its metadata says activation 'tanh'; the run's --activation is relu"
printf 'widths = 3,8,1\nactivation = tanh\n' >"$W/ok.ini"
run finetune --model "$M" --config "$W/ok.ini" --x "$W/b.csv" --y-col y --steps 5 $q --out "$W/f4"
check "finetune: a config file that agrees with the model runs" [ $rc = 0 ]
check "... and config.ini has the model's widths and activation" \
    sh -c "grep -qx 'widths = 3,8,1' '$W/f4/config.ini' && grep -qx 'activation = tanh' '$W/f4/config.ini'"
check "config.ini names the model" has "$W/f4/config.ini" "Model: mlp 3,8,1 tanh."

# ---- every input file read once ----

# The opens of each input by one process (strace): the data and the
# evaluation set once each; the model file's header once (finetune reads the
# network's shape off it) and the file once; a resumed run reads the
# checkpoint as far as its options, then once whole.
if command -v strace >/dev/null 2>&1; then
    opens() { grep -c "openat(.*$2\"" "$1"; }
    strace -f -e trace=openat -o "$W/trace" "$BIN" finetune --model "$M" --x "$W/b.csv" \
        --y-col y --eval-x "$W/a.npy" --eval-y "$W/a_y.npy" --val-fraction 0.25 --steps 5 \
        $q --out "$W/once" >/dev/null 2>&1
    check "finetune: --x opened once (got $(opens "$W/trace" b.csv))" [ "$(opens "$W/trace" b.csv)" = 1 ]
    check "finetune: --eval-x opened once" [ "$(opens "$W/trace" a.npy)" = 1 ]
    check "finetune: --eval-y opened once" [ "$(opens "$W/trace" a_y.npy)" = 1 ]
    check "finetune: the model opened twice, header and file (got $(opens "$W/trace" pre/student.safetensors))" \
        [ "$(opens "$W/trace" pre/student.safetensors)" = 2 ]
    "$BIN" train --steps 40000 --x "$W/a.npy" --checkpoint-every 100 $q --widths 3,8,1 \
        --out "$W/rs" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 300); do
        [ -s "$W/rs/checkpoint.bin" ] && break
        sleep 0.01
    done
    kill -TERM $pid 2>/dev/null
    wait $pid
    if [ -s "$W/rs/checkpoint.bin" ]; then
        strace -f -e trace=openat -o "$W/trace2" "$BIN" train --resume "$W/rs" --steps 40000 \
            >/dev/null 2>&1
        check "--resume: the checkpoint opened twice (options, then the file: got $(opens "$W/trace2" rs/checkpoint.bin))" \
            [ "$(opens "$W/trace2" rs/checkpoint.bin)" = 2 ]
        check "--resume: --x opened once" [ "$(opens "$W/trace2" a.npy)" = 1 ]
    else
        echo "note: the run ended before its first checkpoint"
    fi
else
    fail=$((fail + 1))
    echo "FAIL: strace is not installed: run scripts/install-deps --check"
fi

# ---- figures of many tensors ----

# 8 layers, 16 tensors: more than a legend lists, so one line per layer and
# a heatmap of the update's shares.
run train --widths 2,6,6,6,6,6,6,6,2 --steps 100 --lambda 1e-3 --quiet --out "$W/deep"
checks "a deep network trains and draws its figure" '[ $rc = 0 ] && [ -s "$W/deep/figure.png" ]'
check "the deep network's figure: a 4-panel page" \
    "$PY" "$HERE/../png_check.py" "$W/deep/figure.png" 2133 530
run pretrain --x "$W/b.csv" --y-col y --widths 3,4,4,4,4,4,4,4,1 --steps 50 --quiet \
    --eval-x "$W/a.npy" --eval-y "$W/a_y.npy" --out "$W/deepdata"
checks "a deep data run draws its figure" \
    '[ $rc = 0 ] && "$PY" "$HERE/../png_check.py" "$W/deepdata/figure.png" 2133 530'
run sweep --grid lambda=0,1e-3 --widths 2,6,6,6,6,6,6,6,2 --steps 50 --jobs 2 --quiet --out "$W/deepsw"
checks "a sweep of a deep network draws its figure" \
    '[ $rc = 0 ] && "$PY" "$HERE/../png_check.py" "$W/deepsw/sweep.png" 1600 530'

run sweep --grid widths=2,6,6,6,6,6,6,6,2:2,4,6,6,6,6,6,4,2 --grid lambda=0,1e-3 --steps 50 \
    --jobs 2 --quiet --out "$W/deepw"
checks "a sweep over the widths of a deep network draws its figure (units weighed alike)" \
    '[ $rc = 0 ] && "$PY" "$HERE/../png_check.py" "$W/deepw/sweep.png" 1600 530'

echo "model_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

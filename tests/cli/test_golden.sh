#!/usr/bin/env bash
# test_golden.sh BIN WORKDIR: the MLP's outputs stay what they were, byte for
# byte. tests/golden/make_mlp.sh runs a fixed set of experiments (the seed's
# reproduction, every penalty and optimizer, data runs from CSV files,
# pretrain and finetune, sweeps, baselines, compare, lambda-path, continual);
# tests/golden/mlp/ holds what it wrote before the model interface existed.
# A run stopped by SIGTERM and resumed must end on the same bytes as well.
#
# The fixtures were written with OpenBLAS's Haswell kernels
# (OPENBLAS_CORETYPE=Haswell, as the project's machines run it). Where
# OpenBLAS picks another kernel, its matrix products and LAPACK's SVD round
# differently (about 1e-7 relative), so no file can match byte for byte:
# there every number must be within 1e-5 of the fixture's (close.py), and the
# nuclear run, whose SVD-based proximal steps amplify that rounding into
# another path, is left out, each with a note.
set -u
BIN=$1
W=$2
. "$(dirname "$0")/common.sh"
G=$(cd "$(dirname "$0")/../golden" && pwd)
exact=1
if [ "${OPENBLAS_CORETYPE:-}" != Haswell ]; then
    exact=0
    echo "note: OPENBLAS_CORETYPE is '${OPENBLAS_CORETYPE:-}', not the fixtures' Haswell: numbers are compared within 1e-5 and the nuclear run is not compared"
fi
# same FIXTURE NOW: byte for byte, or (another kernel) within 1e-5.
same() {
    cmp -s "$1" "$2" && return 0
    [ "$exact" = 0 ] && python3 "$G/close.py" "$1" "$2"
}

if "$G/make_mlp.sh" "$BIN" "$W/now" >"$W/make.out" 2>&1; then
    for f in "$G"/mlp/*; do
        name=$(basename "$f")
        if [ "$exact" = 0 ] && [ "${name#nuclear.}" != "$name" ]; then
            continue
        fi
        check "$name is byte-identical to the fixture" same "$f" "$W/now/$name"
    done
    for f in "$W"/now/*; do
        check "$(basename "$f") has a fixture" [ -e "$G/mlp/$(basename "$f")" ]
    done
else
    fail=$((fail + 1))
    echo "FAIL: make_mlp.sh did not finish:"
    tail -5 "$W/make.out"
fi

# The l1 --prox fixture's run, stopped by SIGTERM part-way (a checkpoint every
# 500 steps besides the one the signal writes) and resumed.
args="--penalty l1 --prox --lambda 1e-3 --steps 3000 --log-every 3 --seed 1 --quiet --no-plot"
"$BIN" train $args --checkpoint-every 500 --out "$W/stop" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 200); do
    [ -s "$W/stop/metrics.csv" ] && break
    sleep 0.01
done
kill -TERM $pid 2>/dev/null
wait $pid
rc=$?
if [ "$rc" = 143 ]; then
    "$BIN" train --resume "$W/stop" --quiet --no-plot >/dev/null
    check "a resumed run exits 0" [ $? = 0 ]
else
    echo "note: the run ended (exit $rc) before SIGTERM reached it"
fi
check "after SIGTERM and --resume, metrics.csv equals the fixture" \
    same "$G/mlp/l1prox.metrics.csv" "$W/stop/metrics.csv"
check "after SIGTERM and --resume, student.safetensors equals the fixture" \
    same "$G/mlp/l1prox.student.safetensors" "$W/stop/student.safetensors"

echo "golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

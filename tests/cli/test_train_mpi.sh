#!/usr/bin/env bash
# test_train_mpi.sh BIN WORKDIR MPIEXEC: data parallel training on 2 MPI
# ranks equals one rank with --grad-accum 2, bit for bit (metrics.csv and
# the model, an MLP and a GPT on a text); only rank 0 writes; a run stopped
# by SIGINT resumes under mpirun to the same bytes; resuming on another
# number of ranks is refused.
set -u
BIN=$1
W=$2
MPIEXEC=$3
. "$(dirname "$0")/common.sh"
case "$W" in ""|/) echo "refusing WORKDIR '$W'" >&2; exit 2 ;; esac
rm -rf -- "$W"
mkdir -p -- "$W" || exit 1
M="$MPIEXEC --allow-run-as-root --oversubscribe -np 2"

A="--batch 8 --steps 40 --log-every 1 --no-plot"
$M "$BIN" train $A --out "$W/mpi" >"$W/out" 2>"$W/err"
"$BIN" train $A --grad-accum 2 --quiet --out "$W/one" >/dev/null 2>&1
check "MLP: 2 ranks == --grad-accum 2, metrics.csv byte for byte" cmp "$W/mpi/metrics.csv" "$W/one/metrics.csv"
check "MLP: 2 ranks == --grad-accum 2, student.safetensors byte for byte" \
    cmp "$W/mpi/student.safetensors" "$W/one/student.safetensors"
checks "rank 0 alone prints: one result, the data-parallel line; config.ini records ranks = 2" \
    '[ "$(grep -c "^run: " "$W/out")" = 1 ] && grep -q "^data parallel: 2 MPI ranks" "$W/out" && grep -q "^ranks = 2$" "$W/mpi/config.ini"'

head -c 4000 "$(dirname "$0")/../../README.md" > "$W/t.txt"
G="--arch gpt --n-layer 1 --n-head 2 --d-model 16 --vocab 256 --context 16 --batch 4 --steps 20 --log-every 1 --quiet --no-plot"
$M "$BIN" pretrain $G --text "$W/t.txt" --out "$W/gmpi" >/dev/null 2>&1
"$BIN" pretrain $G --text "$W/t.txt" --grad-accum 2 --out "$W/gone" >/dev/null 2>&1
check "GPT on a text: 2 ranks == --grad-accum 2, byte for byte" \
    bash -c "cmp '$W/gmpi/metrics.csv' '$W/gone/metrics.csv' && cmp '$W/gmpi/student.safetensors' '$W/gone/student.safetensors'"

# Stopped and resumed under mpirun: mpirun hands SIGINT on as SIGTERM; the
# ranks agree on the step to stop at and rank 0 writes the checkpoint.
# The stop comes once the first checkpoint is written, whatever the speed.
R="--batch 8 --steps 300000 --log-every 500 --quiet --no-plot"
$M "$BIN" train $R --out "$W/straight" >/dev/null 2>&1
$M "$BIN" train $R --checkpoint-every 1000 --out "$W/cut" >/dev/null 2>"$W/cut.err" &
pid=$!
for _ in $(seq 200); do
    [ -s "$W/cut/checkpoint.bin" ] && break
    sleep 0.05
done
kill -INT $pid
wait $pid
check "the stop says to resume under mpirun -np 2" \
    grep -q "resume with: mpirun -np 2 sparsetune train --resume $W/cut" "$W/cut.err"
"$BIN" train --resume "$W/cut" --quiet --no-plot >/dev/null 2>"$W/err"
check "resuming a 2-rank run without mpirun: refused, naming the ranks" \
    grep -q "the run trained on 2 MPI ranks; resume it under mpirun -np 2 (here 1)" "$W/err"
$M "$BIN" train --resume "$W/cut" --quiet --no-plot >/dev/null 2>&1
checks "stopped by SIGINT under mpirun and resumed: the same metrics.csv" \
    '[ -s "$W/cut/metrics.csv" ] && cmp "$W/straight/metrics.csv" "$W/cut/metrics.csv" && [ ! -e "$W/cut/checkpoint.bin" ]'

echo "train_mpi: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# bench_ranks.sh BIN TEXT [RANKS [REPS]]: data parallel against one process
# doing the same work. The same GPT pretraining step (4 blocks, width 128,
# context 64; each step RANKS batches of 8 windows of TEXT) runs on one
# process with --grad-accum RANKS and under mpirun -np RANKS, REPS times each
# (default 2 ranks, 3 repetitions), alternating; prints each run's training
# wall time (summary.json's wall_seconds: the steps, not the start-up), the
# medians and their ratio, and checks that the two wrote the same
# metrics.csv. One thread per process.
set -eu
BIN=$1
TEXT=$2
R=${3:-2}
REPS=${4:-3}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
G="--arch gpt --n-layer 4 --n-head 4 --d-model 128 --vocab 256 --context 64 --text $TEXT
   --batch 8 --steps 150 --log-every 150 --spectrum-every 0 --threads 1 --quiet --no-plot --force"
wall() { /usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["wall_seconds"])' "$1/summary.json"; }
one=()
many=()
for i in $(seq "$REPS"); do
    # shellcheck disable=SC2086
    "$BIN" pretrain $G --grad-accum "$R" --out "$W/one" >/dev/null
    # shellcheck disable=SC2086
    mpirun --allow-run-as-root --oversubscribe -np "$R" "$BIN" pretrain $G --out "$W/many" >/dev/null
    cmp -s "$W/one/metrics.csv" "$W/many/metrics.csv" || { echo "metrics.csv differ" >&2; exit 1; }
    one+=("$(wall "$W/one")")
    many+=("$(wall "$W/many")")
    echo "rep $i: one process ${one[-1]} s, $R ranks ${many[-1]} s"
done
/usr/bin/python3 - "${one[*]}" "${many[*]}" "$R" <<'PY'
import statistics, sys
a = [float(x) for x in sys.argv[1].split()]; b = [float(x) for x in sys.argv[2].split()]
ma, mb = statistics.median(a), statistics.median(b)
print(f"median: one process {ma:.2f} s, {sys.argv[3]} ranks {mb:.2f} s: {ma / mb:.2f}x (same metrics.csv)")
PY

#!/usr/bin/env bash
# test_sweep_mpi.sh BIN WORKDIR MPIEXEC: the same small sweep run locally and
# on 2 MPI ranks gives the same rows (wall time aside).
set -u
BIN=$1
W=$2
MPIEXEC=$3
case "$W" in ""|/) echo "refusing WORKDIR '$W'" >&2; exit 2 ;; esac
rm -rf -- "$W"
mkdir -p -- "$W" || exit 1
ARGS="--grid lambda=0,1e-3 --grid seed=0:3 --steps 200 --log-every 50 --quiet --no-plot"
"$BIN" sweep $ARGS --jobs 2 --out "$W/local" >/dev/null || { echo "FAIL: local sweep"; exit 1; }
"$MPIEXEC" --allow-run-as-root --oversubscribe -np 2 "$BIN" sweep $ARGS --out "$W/mpi" \
    >"$W/out" 2>"$W/err" || { echo "FAIL: mpirun sweep"; cat "$W/err"; exit 1; }
grep -q "on 2 MPI ranks" "$W/out" || { echo "FAIL: the sweep did not run on 2 ranks"; exit 1; }
python3 - "$W" <<'PY' || { echo "FAIL: MPI rows differ from the local ones"; exit 1; }
import csv, sys
def rows(p):
    return sorted(tuple(v for k, v in r.items() if k != "wall_seconds")
                  for r in csv.DictReader(open(p)))
w = sys.argv[1]
a, b = rows(w + "/local/summary.csv"), rows(w + "/mpi/summary.csv")
sys.exit(0 if len(a) == 6 and a == b else 1)
PY
echo "sweep_mpi: 1 passed, 0 failed"

#!/usr/bin/env bash
# test_sweep.sh BIN WORKDIR: `sparsetune sweep` end to end: grid expansion
# covers every run once, shards partition it, a resumed sweep skips finished
# runs (and redoes a row cut by a kill), rows equal `train` bit for bit
# whatever --jobs, and bad grid specs are usage errors.
set -u
BIN=$1
W=$2
. "$(dirname "$0")/common.sh"
COMMON="--steps 200 --log-every 50 --quiet"
sweep() { "$BIN" sweep $COMMON "$@" >"$W/out" 2>"$W/err"; rc=$?; return $rc; }

# lambda x seed: 2 x 3 runs, lambda slowest.
sweep --grid lambda=0,1e-3 --grid seed=0:3 --jobs 2 --out "$W/a"
check "sweep exits 0 (got $?)" [ -s "$W/a/summary.csv" ]
check "every run exactly once, with its grid values" python3 - "$W/a/summary.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
want = {i: (lam, str(s)) for i, (lam, s) in enumerate((l, s) for l in ("0", "1e-3") for s in range(3))}
got = {int(r["run"]): (r["lambda"], r["seed"]) for r in rows}
sys.exit(0 if len(rows) == 6 and got == want and all(r["status"] == "ok" for r in rows) else 1)
PY
check "run directories removed without --keep-runs" [ ! -e "$W/a/runs" ]

# Rows equal train's summary.json, bit for bit.
"$BIN" train $COMMON --no-plot --lambda 1e-3 --seed 2 --out "$W/t" >/dev/null
check "row 5 (lambda 1e-3, seed 2) equals train's numbers exactly" python3 - "$W" <<'PY'
import csv, json, sys
w = sys.argv[1]
row = {r["run"]: r for r in csv.DictReader(open(w + "/a/summary.csv"))}["5"]
s = json.load(open(w + "/t/summary.json"))
ok = float(row["mse"]) == s["final"]["mse"] and float(row["loss"]) == s["final"]["loss"]
ok &= all(float(row["d_init_" + t]) == v for t, v in s["d_init"].items())
ok &= row["changed"].split() == s["verdict"]["changed"]
sys.exit(0 if ok else 1)
PY

# --jobs 1 and --jobs 3 give the same rows (wall time aside).
sweep --grid lambda=0,1e-3 --grid seed=0:3 --jobs 1 --out "$W/j1"
sweep --grid lambda=0,1e-3 --grid seed=0:3 --jobs 3 --out "$W/j3"
check "--jobs 1 and --jobs 3: identical rows" python3 - "$W" <<'PY'
import csv, sys
def rows(p):
    return sorted(tuple(v for k, v in r.items() if k != "wall_seconds")
                  for r in csv.DictReader(open(p)))
w = sys.argv[1]
sys.exit(0 if rows(w + "/j1/summary.csv") == rows(w + "/j3/summary.csv") else 1)
PY

# Shards partition the grid; each shard in its own directory.
sweep --grid lambda=0,1e-3 --grid seed=0:3 --shard 1/2 --out "$W/s1"
sweep --grid lambda=0,1e-3 --grid seed=0:3 --shard 2/2 --out "$W/s2"
check "shards 1/2 and 2/2 cover every run once" python3 - "$W" <<'PY'
import csv, sys
w = sys.argv[1]
ids = [int(r["run"]) for d in ("s1", "s2") for r in csv.DictReader(open(f"{w}/{d}/summary.csv"))]
sys.exit(0 if sorted(ids) == list(range(6)) else 1)
PY

"$BIN" sweep-merge --out "$W/merged" "$W/s1" "$W/s2" >"$W/out" 2>"$W/err"
check "sweep-merge exits 0" [ $? -eq 0 ]
check "sweep-merge: the shards' runs in order" python3 - "$W" <<'PY'
import csv, sys
w = sys.argv[1]
m = [r for r in csv.DictReader(open(w + "/merged/summary.csv"))]
full = {r["run"]: r for r in csv.DictReader(open(w + "/j1/summary.csv"))}
ok = [int(r["run"]) for r in m] == list(range(6))
ok &= all({k: v for k, v in r.items() if k != "wall_seconds"} ==
          {k: v for k, v in full[r["run"]].items() if k != "wall_seconds"} for r in m)
sys.exit(0 if ok else 1)
PY
"$BIN" sweep-merge --out "$W/merged2" "$W/s1" "$W/k" >/dev/null 2>"$W/err"
check "sweep-merge refuses shards of different sweeps (1)" [ $? -eq 1 ]

# Resume: keep two finished rows and a row cut short by a kill; re-run.
head -n 3 "$W/j1/summary.csv" >"$W/cut.csv"
tail -n 1 "$W/j1/summary.csv" | head -c 20 >>"$W/cut.csv"
mkdir -p "$W/r" && cp "$W/j1/sweep.ini" "$W/r/" && cp "$W/cut.csv" "$W/r/summary.csv"
sweep --grid lambda=0,1e-3 --grid seed=0:3 --jobs 1 --out "$W/r"
check "resume: reports the runs it skipped" grep -q "2 already in summary.csv" "$W/out"
check "resume: every run once (the cut row redone)" python3 - "$W/r/summary.csv" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
ids = [l.split(",")[0] for l in lines[1:] if l and l.count(",") > 10]
sys.exit(0 if sorted(map(int, ids)) == list(range(6)) else 1)
PY
sweep --grid lambda=0,1e-2 --grid seed=0:3 --out "$W/r"
check "another grid into the same directory is refused (2)" [ $? -eq 2 ]

"$BIN" sweep-merge --out "$W/merged1" "$W/s1" >/dev/null 2>"$W/err"
check "sweep-merge with a shard missing exits 1" [ $? -eq 1 ]
check "... and says how many runs are missing" grep -q "3 of the grid's 6 runs are missing" "$W/err"

# A sweep.ini of an earlier version (no arch line, weight-decay = nan for
# auto) names the same sweep: it goes on; another grid is still refused.
mkdir -p "$W/o" && cp "$W/cut.csv" "$W/o/summary.csv"
grep -v '^arch = ' "$W/j1/sweep.ini" | sed 's/^weight-decay = auto$/weight-decay = nan/' >"$W/o/sweep.ini"
checks "(the earlier version's sweep.ini differs)" '! cmp -s "$W/o/sweep.ini" "$W/j1/sweep.ini"'
sweep --grid lambda=0,1e-3 --grid seed=0:3 --jobs 1 --out "$W/o"
checks "a sweep of an earlier version goes on (got $rc)" '[ $rc -eq 0 ] && grep -q "2 already in summary.csv" "$W/out"'
sweep --grid lambda=0,1e-3 --grid seed=0:4 --jobs 1 --out "$W/o"
check "... another grid there is refused (got $rc)" [ $rc -eq 2 ]

# Shards whose sweep.ini does not resolve here: merged, the missing runs not
# counted (exit 1, said why), the figure drawn from the table's columns.
mkdir -p "$W/u1" "$W/u2"
for k in 1 2; do
    cp "$W/s$k/summary.csv" "$W/u$k/"
    sed 's/^widths = .*/widths = 1,0,1/' "$W/s$k/sweep.ini" >"$W/u$k/sweep.ini"
done
"$BIN" sweep-merge --out "$W/mu" "$W/u1" "$W/u2" >"$W/out" 2>"$W/err"
rc=$?
check "sweep-merge of shards whose sweep.ini does not resolve: exit 1 (got $rc)" [ $rc -eq 1 ]
check "... says why" grep -q "does not resolve here (.*--widths.*): the missing runs are not counted" "$W/err"
checks "... the rows merged, the figure drawn" '[ "$(wc -l <"$W/mu/summary.csv")" -eq 7 ] && [ -s "$W/mu/sweep.png" ]'

# A failed run is a row with its error; a re-run does it again and drops that row.
mkdir -p "$W/f/runs" && : >"$W/f/runs/1"
sweep --grid lambda=0,1e-3,1e-2 --jobs 1 --out "$W/f"
check "a failed run: exit 1" [ $? -ne 0 ] || true
check "the failed run is a row with its error" grep -q ',failed,' "$W/f/summary.csv"
rm -f "$W/f/runs/1"
sweep --grid lambda=0,1e-3,1e-2 --jobs 1 --out "$W/f"
check "re-run: the failed run is done again, one row per run" python3 - "$W/f/summary.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
sys.exit(0 if sorted(int(r["run"]) for r in rows) == [0, 1, 2]
         and all(r["status"] == "ok" for r in rows) else 1)
PY

# Ranges near the integer limits end (one value here) instead of wrapping around.
timeout 20 "$BIN" sweep --grid seed=9223372036854775806:9223372036854775807:5 --steps 5 \
    --quiet --no-plot --out "$W/big" >/dev/null 2>&1
check "a range at the integer limit finishes (got $?)" [ -s "$W/big/summary.csv" ]

# --keep-runs, and a grid over widths (values separated by ':').
sweep --grid widths=1,8,1:2,4,4,1 --keep-runs --jobs 1 --out "$W/k"
check "--keep-runs keeps each run directory" [ -s "$W/k/runs/1/metrics.csv" ]
check "widths axis: 2 rows, nan for the missing layer" python3 - "$W/k/summary.csv" <<'PY'
import csv, math, sys
rows = {r["run"]: r for r in csv.DictReader(open(sys.argv[1]))}
sys.exit(0 if rows["0"]["widths"] == "1,8,1" and math.isnan(float(rows["0"]["d_init_w3"]))
         and not math.isnan(float(rows["1"]["d_init_w3"])) else 1)
PY

# The sweep figure: d_init and the verdict against lambda (with a lambda axis).
check "sweep.png drawn for a lambda axis" \
    python3 "$(dirname "$0")/../png_check.py" "$W/a/sweep.png" 1600 530
check "no sweep.png without a lambda axis" [ ! -e "$W/k/sweep.png" ]

# Bad specs: usage errors naming the spec.
for spec in "foo=1" "lambda=" "seed=5:2" "lambda=0,abc" "seed=0:2:0" "out=x" "lambda"; do
    "$BIN" sweep --grid "$spec" --out "$W/never" >/dev/null 2>"$W/err"
    rc=$?
    check "--grid '$spec' exits 2 (got $rc)" [ "$rc" -eq 2 ]
    check "--grid '$spec' is named" grep -qF -- "$spec" "$W/err"
done
"$BIN" sweep --out "$W/never" >/dev/null 2>&1
check "no --grid is a usage error" [ $? -eq 2 ]
"$BIN" sweep --grid seed=0:2 --shard 3/2 --out "$W/never" >/dev/null 2>&1
check "--shard 3/2 is a usage error" [ $? -eq 2 ]
check "no directory left by refused sweeps" [ ! -e "$W/never" ]

# A grid too large to check run by run is refused by its size, at once.
t0=$(date +%s)
"$BIN" sweep --grid seed=0:3000 --grid steps=1:3000 --grid log-every=1:3000 \
    --out "$W/huge" >/dev/null 2>"$W/err"
rc=$?
t1=$(date +%s)
checks "a grid of ~2.7e10 runs: usage error within 10 s, naming the axes and the limit (rc $rc)" \
    '[ $rc = 2 ] && [ $((t1 - t0)) -lt 10 ] && grep -q "has 26982003000 runs (seed 3000 x steps 2999 x log-every 2999); at most 1000000" "$W/err" && [ ! -e "$W/huge" ]'
echo "sweep: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# test_methods.sh BIN WORKDIR: `baselines` (method 1: every freeze mask) and
# `compare` (methods 1, 2 and 3 on the same problem), asserted from their
# CSV and JSON outputs.
set -u
BIN=$1
W=$2
. "$(dirname "$0")/common.sh"
# Method 1: every subset of layers (7) or tensors (63), ranked by loss.
"$BIN" baselines --log-every 1000 --jobs 2 --quiet --out "$W/bl" >"$W/out" 2>"$W/err"
check "baselines exits 0" [ $? -eq 0 ]
check "baselines: 7 subsets of layers, a subset with layer 2 on top, one marked" \
    python3 - "$W/bl/baselines.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
top = rows[0]["trained"].split(",")
sys.exit(0 if len(rows) == 7 and "2" in top and any(r["smallest_within_2x"] == "1" for r in rows)
         else 1)
PY
check "baselines.png" python3 "$(dirname "$0")/../png_check.py" "$W/bl/baselines.png" 1600 530
"$BIN" baselines --by tensor --steps 2000 --log-every 1000 --jobs 2 --quiet --no-plot \
    --out "$W/blt" >/dev/null 2>&1
check "baselines --by tensor: 63 subsets, w2 in the top one" \
    python3 - "$W/blt/baselines.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
sys.exit(0 if len(rows) == 63 and "w2" in rows[0]["trained"].split(",") else 1)
PY
"$BIN" baselines --by neuron --out "$W/never" >/dev/null 2>&1
check "baselines --by neuron is a usage error" [ $? -eq 2 ]

# compare: the three methods on the same problem and seeds, table and JSON.
"$BIN" compare --steps 2000 --seeds 2 --log-every 1000 --jobs 2 --quiet --out "$W/cmp" \
    >"$W/out" 2>"$W/err"
check "compare exits 0" [ $? -eq 0 ]
check "compare prints its table" grep -q "l1 prox" "$W/out"
check "compare.json: six methods; plain Adam moves every layer; l1 prox names layer 2" \
    python3 - "$W/cmp/compare.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
m = {x["method"]: x for x in c["methods"]}
ok = len(c["methods"]) == 6 and c["truth"] == "2"
ok &= [x["runs"] for x in c["methods"]] == [14, 2, 2, 2, 2, 2]
ok &= m["plain Adam, threshold"]["picks_per_seed"] == ["1,2,3", "1,2,3"]
ok &= m["l1 prox"]["picks_per_seed"] == ["2", "2"] and m["l1 prox"]["correct_seeds"] == 2
ok &= m["freeze masks (every subset)"]["correct_seeds"] <= 2
sys.exit(0 if ok else 1)
PY

# compare's positions: methods 2 and 3 again with each layer re-drawn; with one
# seed, each position's pick is that of the single run with the same options.
"$BIN" compare --steps 600 --seeds 1 --positions 1 --log-every 1000 --jobs 2 --quiet \
    --out "$W/cmpp" >"$W/outp" 2>"$W/err"
check "compare --positions 1 exits 0" [ $? -eq 0 ]
"$BIN" train --steps 600 --seed 0 --reinit 3 --penalty l1 --prox --lambda 1e-3 --log-every 1000 \
    --quiet --no-plot --out "$W/pos3" >/dev/null 2>&1
check "compare's l1 prox line names, for re-drawn 3, what train --reinit 3 names" \
    python3 - "$W/outp" "$W/pos3/summary.json" <<'PY'
import json, re, sys
out = open(sys.argv[1]).read()
line = [l for l in out.splitlines() if l.startswith("  3  l1 prox ")]
named = sorted({t[1:] for t in json.load(open(sys.argv[2]))["verdict"]["changed"]})
m = re.search(r"   3 -> (\S+) \(1/1\)", line[0]) if len(line) == 1 else None
want = ",".join(named) or "none"
ok = m is not None and m.group(1) == want and "exactly the re-drawn: " in line[0]
ok &= len([l for l in out.splitlines() if "re-drawn 1 -> " in l]) == 5
sys.exit(0 if ok else 1)
PY

# lambda-path: w2 is the last tensor to switch off.
"$BIN" lambda-path --points 5 --refine 1 --steps 2000 --log-every 1000 --jobs 2 --quiet \
    --out "$W/lp" >"$W/out" 2>"$W/err"
check "lambda-path exits 0" [ $? -eq 0 ]
check "lambda-path: six tensors ranked, w2 first" python3 - "$W/lp/switch_off.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
sys.exit(0 if len(rows) == 6 and rows[0]["tensor"] == "w2"
         and float(rows[0]["largest_lambda_changed"]) >= float(rows[1]["largest_lambda_changed"])
         else 1)
PY
check "lambda-path: one row per lambda" python3 - "$W/lp/lambda_path.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
lams = [float(r["lambda"]) for r in rows]
sys.exit(0 if len(rows) >= 5 and lams == sorted(lams) else 1)
PY
"$BIN" lambda-path --penalty l2 --out "$W/never" >/dev/null 2>&1
check "lambda-path --penalty l2 is a usage error" [ $? -eq 2 ]
"$BIN" lambda-path --lambda-min 1 --lambda-max 0.1 --out "$W/never" >/dev/null 2>&1
check "lambda-path with min > max is a usage error" [ $? -eq 2 ]

# Data that do not fit the options stop a command of many runs before any run
# starts: a usage error that names the file, and nothing created.
python3 -c 'import struct, sys
f = open(sys.argv[1], "wb")
h = "{\x27descr\x27: \x27<f4\x27, \x27fortran_order\x27: False, \x27shape\x27: (20, 3), }"
h += " " * (118 - len(h)) + "\n"
f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode())
f.write(struct.pack("<60f", *[i / 60 for i in range(60)]))' "$W/x3.npy"
for cmd in baselines compare lambda-path "sweep --grid seed=0,1"; do
    "$BIN" $cmd --x "$W/x3.npy" --widths 2,4,1 --steps 10 --quiet --out "$W/mismatch" \
        >"$W/out" 2>"$W/err"
    rc=$?
    name=${cmd%% *}
    check "$name: --x with 3 columns for --widths 2,4,1 is a usage error (exit 2, got $rc)" [ $rc -eq 2 ]
    check "$name: the message names the file and the width" \
        grep -q "x3.npy: 3 columns, but the input width (--widths) is 2" "$W/err"
    check "$name: nothing created" [ ! -e "$W/mismatch" ]
done
# Runs that fail (here: out/runs is a file, so no run directory can be made)
# end the command with exit 1 and the first error, after its tables; a failed
# run is no diverged one.
mkdir -p "$W/broken" && : >"$W/broken/runs"
"$BIN" baselines --widths 2,4,1 --steps 10 --quiet --no-plot --jobs 2 --out "$W/broken" \
    >"$W/out" 2>"$W/err"
rc=$?
check "baselines with failed runs: exit 1 (got $rc)" [ $rc -eq 1 ]
check "... the first error on stderr" grep -q "baselines: 3 of 3 runs failed; run .*: cannot create directory" "$W/err"
check "... baselines.csv written, each row failed" \
    python3 -c 'import csv, sys; r = list(csv.DictReader(open(sys.argv[1]))); sys.exit(not (len(r) == 3 and all(x["status"] == "failed" for x in r)))' "$W/broken/baselines.csv"
"$BIN" compare --seeds 1 --widths 2,4,1 --steps 10 --quiet --jobs 2 --out "$W/broken" \
    >"$W/out" 2>"$W/err"
rc=$?
check "compare with failed runs: exit 1 (got $rc)" [ $rc -eq 1 ]
check "... picks say failed, not diverged" \
    python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); sys.exit(not all(m["picks_per_seed"] == ["failed"] for m in j["methods"]))' "$W/broken/compare.json"
"$BIN" lambda-path --points 3 --refine 0 --widths 2,4,1 --steps 10 --quiet --no-plot --jobs 2 \
    --out "$W/broken" >"$W/out" 2>"$W/err"
rc=$?
check "lambda-path with failed runs: exit 1 (got $rc)" [ $rc -eq 1 ]
check "... lambda_path.csv written, its rows failed with the reason" grep -q ",failed,.*cannot create directory" "$W/broken/lambda_path.csv"

echo "methods: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

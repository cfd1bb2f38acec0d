#!/usr/bin/env bash
# test_gpt_reproduce.sh BIN WORKDIR: `reproduce --arch gpt`: the GPT defaults
# in both runs' config.ini unless an option is given, the per-block table, the
# verdict of a known seed, --lambda taken by a GPT pair and refused by an MLP
# pair, and --positions moving the re-drawn block over the blocks only.
set -u
BIN=$1
W=$2
. "$(dirname "$0")/common.sh"
PY=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1
# has FILE TEXT: FILE holds the fixed string TEXT.
has() { grep -qF -- "$2" "$1"; }
# ini DIR KEY VALUE: DIR/config.ini says KEY = VALUE.
ini() { grep -qx -- "$2 = $3" "$1/config.ini"; }

# The defaults, shortened to 300 steps: seed 1's penalized run names
# the re-drawn block h2 alone, its plain run moves another block most.
"$BIN" reproduce --arch gpt --seed 1 --steps 300 --positions 0 --no-plot --quiet \
    --out "$W/g" >"$W/out" 2>"$W/err"
rc=$?
check "reproduce --arch gpt exits 0 (got $rc)" [ $rc -eq 0 ]
for d in lambda_0 lambda_0.0001; do
    check "run directory $d" [ -s "$W/g/$d/summary.json" ]
    for kv in "arch gpt" "n-layer 4" "n-head 4" "d-model 32" "vocab 32" "context 16" \
        "data-size 32" "freeze emb,lnf" "penalty layer" "penalty-reduction fisher" "prox 1" \
        "reinit h2" "log-every 10"; do
        check "$d/config.ini: ${kv% *} = ${kv#* }" ini "$W/g/$d" ${kv% *} "${kv#* }"
    done
done
check "config.ini: lambda 0" ini "$W/g/lambda_0" lambda 0
check "config.ini: lambda 1e-4" ini "$W/g/lambda_0.0001" lambda 0.0001
for u in emb h0 h1 "h2 (re-drawn)" h3 lnf; do
    check "the table has a row for $u" grep -q "^  $u  " "$W/out"
done
check "the table names the block that moved most" grep -q "^block that moved most  *h[0-3]  *h2 *$" "$W/out"
check "the table: h2 alone at lambda 1e-4" grep -q "^changed (lambda>0 exact) .*  h2 *$" "$W/out"
check "the seed's finding: no, then yes" \
    grep -q "^the seed's finding  *h2 moved most: no  *h2 alone: yes *$" "$W/out"
check "summary.json: the verdict of seed 1" "$PY" -c 'import json, sys
s = json.load(open(sys.argv[1] + "/lambda_0.0001/summary.json"))
assert s["verdict"]["correct"] is True, s["verdict"]
assert all(t.startswith("h2.") for t in s["verdict"]["changed"]), s["verdict"]["changed"]
z = json.load(open(sys.argv[1] + "/lambda_0/summary.json"))
assert z["verdict"]["correct"] is False
assert z["d_init"]["wte"] == 0 and z["d_init"]["lnf.w"] == 0, "emb and lnf are frozen"' "$W/g"

# An option given wins over the GPT default; --lambda sets the penalized run's.
"$BIN" reproduce --arch gpt --steps 5 --freeze none --d-model 16 --penalty group --lambda 3e-4 \
    --positions 0 --no-plot --quiet --out "$W/o" >"$W/out2" 2>"$W/err"
rc=$?
check "given options: exits 0 (got $rc)" [ $rc -eq 0 ]
check "--lambda 3e-4: the run directory" [ -s "$W/o/lambda_0.0003/summary.json" ]
check "--lambda 3e-4: config.ini" ini "$W/o/lambda_0.0003" lambda 0.0003
check "--freeze none wins" ini "$W/o/lambda_0" freeze none
check "--d-model 16 wins" ini "$W/o/lambda_0" d-model 16
check "--penalty group wins" ini "$W/o/lambda_0.0003" penalty group
checks "the other penalty defaults stay" \
    'ini "$W/o/lambda_0.0003" penalty-reduction fisher && ini "$W/o/lambda_0.0003" prox 1'
check "--lambda 3e-4: the table's heading" grep -q "lambda = 0.0003" "$W/out2"
"$BIN" reproduce --arch gpt --steps 5 --lambda 0 --out "$W/z" >/dev/null 2>"$W/err"
rc=$?
check "--arch gpt --lambda 0 is a usage error (got $rc)" [ $rc -eq 2 ]
check "--lambda 0: says what it expects" has "$W/err" "--lambda '0': expected a positive number"
"$BIN" reproduce --lambda 1e-4 --steps 5 --out "$W/m" >/dev/null 2>"$W/err"
rc=$?
check "an MLP pair still refuses --lambda (got $rc)" [ $rc -eq 2 ]
check "an MLP pair: the message" has "$W/err" "reproduce runs lambda = 0 and lambda = 1e-3"
check "an MLP pair: nothing written" [ ! -e "$W/m" ]

# --positions moves the re-drawn block over the blocks, not emb or lnf.
"$BIN" reproduce --arch gpt --steps 5 --positions 1 --jobs 2 --no-plot --quiet \
    --out "$W/p" >"$W/out3" 2>"$W/err"
rc=$?
check "--positions 1: exits 0 (got $rc)" [ $rc -eq 0 ]
check "--positions: each block re-drawn in turn" has "$W/out3" "with each block re-drawn in turn"
check "--positions: four positions, h0 first, h3 last" \
    grep -q "re-drawn h0 -> .*   h1 -> .*   h2 -> .*   h3 -> .*exactly the re-drawn: [0-4]/4$" "$W/out3"
check "--positions: not emb or lnf" sh -c '! grep -q "emb ->\|lnf ->" "$1"' _ "$W/out3"

check "--help names the GPT defaults" sh -c '"$1" reproduce --help | grep -q "penalty-reduction fisher"' _ "$BIN"

echo "gpt_reproduce: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# test_messages.sh BIN WORKDIR: help and messages. Each command's --help
# lists the options that apply to it; an option a command sets itself is
# refused on its command line; errors name the option the user gave; a model
# file without an activation says what it runs as; a sweep's seed axis that
# changes nothing says so; sweep rows come in grid order.
set -u
BIN=$1
W=$2
. "$(dirname "$0")/common.sh"

rc=0
run() {
    "$BIN" "$@" >"$W/out" 2>"$W/err"
    rc=$?
}
has() { grep -qF -- "$2" "$1"; }
q="--quiet --no-plot"

# A data set of 40 rows: 3 inputs, 2 targets; a model of widths 3,6,2.
python3 - "$W" <<'PY'
import random, struct, sys
w = sys.argv[1]
def npy(path, rows, cols, vals):
    shape = f"({rows}, {cols})" if cols else f"({rows},)"
    h = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % shape
    h += " " * (118 - len(h)) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode())
        f.write(struct.pack(f"<{len(vals)}f", *vals))
r = random.Random(0)
npy(f"{w}/x.npy", 40, 3, [r.uniform(-1, 1) for _ in range(120)])
npy(f"{w}/y.npy", 40, 2, [r.uniform(-1, 1) for _ in range(80)])
PY
run pretrain --x "$W/x.npy" --y "$W/y.npy" --widths 3,6,2 --steps 20 $q --out "$W/pre"
check "pretrain of the test model (got $rc)" [ $rc = 0 ]
M="$W/pre/student.safetensors"

# ---- --help: the options that apply ----

# help CMD: the run options CMD's --help lists, one per line.
help() { "$BIN" "$1" --help | sed -n 's/^  \(--[a-z0-9-]*\).*/\1/p' >"$W/help_$1"; }
lists() { grep -qx -- "$2" "$W/help_$1"; }
lacks() { ! lists "$@"; }
for c in train pretrain finetune sweep lambda-path baselines compare continual reproduce truth; do
    help $c
done
for o in --reinit --data-dist --data-range --data-size --task --teacher --online --label-noise \
    --teacher-delta --teacher-delta-scale --student-init; do
    check "finetune --help leaves out $o" lacks finetune $o
done
for o in --reinit --data-dist --task --teacher --teacher-delta; do
    check "pretrain --help leaves out $o" lacks pretrain $o
done
check "pretrain --help keeps --student-init (a start from a file)" lists pretrain --student-init
"$BIN" finetune --help >"$W/fh"
checks "finetune --help: --seed says what it seeds in a data run" \
    '! has "$W/fh" "(teacher, student, data)" && grep -q "^  --seed N .*the batch order (--batch), the rows --val-fraction holds out" "$W/fh"'
checks "finetune --help: a data run's penalty defaults" \
    'grep -q "^  --penalty NAME .*\[layer\]$" "$W/fh" && grep -q "^  --penalty-reduction NAME .*\[sum\]$" "$W/fh" && grep -q "^  --prox .*\[on\]$" "$W/fh"'
checks "finetune --help: the widths come from --model" 'grep -q "^  --widths LIST .*\[--model.s\]$" "$W/fh"'
check "finetune --help: --resume" lists finetune --resume
for o in --reinit --data-dist --task --teacher --teacher-delta --student-init --standardize \
    --threads --force --resume --seed; do
    check "train --help lists $o" lists train $o
done
for c in sweep lambda-path baselines compare truth; do
    check "$c --help leaves out --threads (single-threaded runs)" lacks $c --threads
    check "$c --help leaves out --resume" lacks $c --resume
done
check "sweep --help: --out's default is the sweep's" grep -q '^  --out DIR .*\[sweep\]$' <("$BIN" sweep --help)
for o in --lambda --freeze --penalty --prox --format; do
    check "baselines --help leaves out $o" lacks baselines $o
done
for o in --lambda --penalty --prox --task --plot --standardize; do
    check "compare --help leaves out $o" lacks compare $o
done
check "compare --help keeps --penalty-reduction (method 3 uses it)" lists compare --penalty-reduction
for o in --lambda --prox --format; do
    check "lambda-path --help leaves out $o" lacks lambda-path $o
done
check "lambda-path --help keeps --penalty" lists lambda-path --penalty
for o in --lambda --penalty --prox --eval-x --eval-y --loss --online; do
    check "continual --help leaves out $o" lacks continual $o
done
check "reproduce --help leaves out --lambda" lacks reproduce --lambda
for o in --reinit --lambda --penalty --penalty-reduction --prox; do
    check "truth --help leaves out $o" lacks truth $o
done

# ---- an option a command sets itself: refused on its command line ----

# refused CMD OPTION ARGS...: exit 2, the message names the option and the command.
refused() {
    local c=$1 o=$2
    shift 2
    run "$c" "$@" --out "$W/never"
    checks "$c $*: refused (rc $rc), naming $o" \
        '[ $rc = 2 ] && has "$W/err" "sparsetune $c: $o: $c does not take it ("'
}
refused baselines --lambda --lambda 1e-3
refused baselines --freeze --freeze w1
refused baselines --penalty --penalty group
refused compare --lambda --lambda 1e-3
refused compare --format --format svg
refused lambda-path --prox --no-prox
refused lambda-path --lambda --lambda 1e-3
refused sweep --threads --grid seed=0:2 --threads 4
refused sweep --force --grid seed=0:2 --force
refused truth --reinit --reinit 1
run continual --eval-x "$W/x.npy" --out "$W/never"
checks "continual --eval-x on the teacher-student tasks: refused, pointing to --model" \
    '[ $rc = 2 ] && has "$W/err" "--eval-x/--eval-y: continual'"'"'s teacher-student task A" && has "$W/err" "--model"'
refused pretrain --task --task teacher-student --x "$W/x.npy" --y "$W/y.npy"
refused finetune --student-init --model "$M" --student-init "$M" --x "$W/x.npy" --y "$W/y.npy"
check "no refused command left a directory" [ ! -e "$W/never" ]
# The value the command keeps, or the option in a config file (shared between
# commands): accepted.
run lambda-path --prox --points 2 --refine 0 --steps 5 $q --out "$W/lp"
check "lambda-path --prox (what it does anyway): runs (rc $rc)" [ $rc = 0 ]
run pretrain --task data --x "$W/x.npy" --y "$W/y.npy" --widths 3,6,2 --steps 5 $q --out "$W/pt"
check "pretrain --task data: runs (rc $rc)" [ $rc = 0 ]
printf 'lambda = 1e-3\nfreeze = w1\n' >"$W/own.ini"
run baselines --config "$W/own.ini" --steps 5 $q --out "$W/bl"
check "baselines --config with lambda and freeze: runs (rc $rc)" [ $rc = 0 ]

# ---- a data run refuses the options of drawn data and of a teacher ----

for spec in "--data-dist normal" "--data-range 0,1" "--data-size 20" "--teacher-delta rank:1" \
    "--teacher-delta-scale 0.5"; do
    run finetune --model "$M" --x "$W/x.npy" --y "$W/y.npy" $spec --steps 5 $q --out "$W/never"
    checks "finetune $spec: refused (rc $rc), naming it" '[ $rc = 2 ] && has "$W/err" "${spec% *} "'
done
run train --task data --x "$W/x.npy" --y "$W/y.npy" --widths 3,6,2 --data-dist normal --steps 5 \
    $q --out "$W/never"
checks "train --task data --data-dist normal: refused too (rc $rc)" \
    '[ $rc = 2 ] && has "$W/err" "--data-dist normal: a data run"'
run pretrain --x "$W/x.npy" --y "$W/y.npy" --widths 3,6,2 --data-size 40 --val-fraction 0.25 \
    --steps 5 $q --out "$W/ds"
check "pretrain --data-size equal to --x's rows: runs (rc $rc)" [ $rc = 0 ]
run train --config "$W/ds/config.ini" --out "$W/ds2"
checks "a data run's config.ini runs again (rc $rc), bit for bit" \
    '[ $rc = 0 ] && cmp -s "$W/ds/metrics.csv" "$W/ds2/metrics.csv"'
check "no refused data run left a directory" [ ! -e "$W/never" ]

# ---- the model file's option is named as given ----

# The model with malformed input statistics in its metadata.
python3 - "$M" "$W/badmeta.safetensors" <<'PY'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
h["__metadata__"]["input_mean"] = "0,0,0"
h["__metadata__"]["input_std"] = "1,oops,1"
t = json.dumps(h).encode()
t += b" " * (-len(t) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(t)) + t + b[8 + n:])
PY
run finetune --model "$W/badmeta.safetensors" --x "$W/x.npy" --y "$W/y.npy" --steps 5 $q \
    --out "$W/f1"
checks "finetune --model with bad metadata: named as --model (rc $rc)" \
    '[ $rc = 1 ] && has "$W/err" "--model $W/badmeta.safetensors: metadata input_mean/input_std" && ! has "$W/err" "student-init"'
run train --task data --student-init "$W/badmeta.safetensors" --x "$W/x.npy" --y "$W/y.npy" \
    --widths 3,6,2 --steps 5 $q --out "$W/t1"
checks "train --student-init with bad metadata: named as --student-init (rc $rc)" \
    '[ $rc = 1 ] && has "$W/err" "--student-init $W/badmeta.safetensors: metadata input_mean/input_std"'
run eval --model "$W/badmeta.safetensors" --x "$W/x.npy" --y "$W/y.npy"
checks "eval --model with bad metadata: named as --model (rc $rc)" \
    '[ $rc = 1 ] && has "$W/err" "--model $W/badmeta.safetensors: metadata input_mean/input_std"'

# ---- a model file that names no activation ----

# torch.nn.Sequential(Linear(3,5), ReLU(), Linear(5,2)) as PyTorch saves it: no metadata.
SEQ=$(dirname "$0")/../data/safetensors/sequential.safetensors
warned() { has "$W/err" "names no activation (PyTorch's state_dict files carry none): running it as relu; give --activation NAME (relu, tanh, silu, gelu, linear) to choose"; }
python3 - "$W" <<'PY'
import struct, sys
w = sys.argv[1]
h = "{'descr': '<f4', 'fortran_order': False, 'shape': (10, 3), }"
h += " " * (118 - len(h)) + "\n"
open(f"{w}/x3.npy", "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode()
                                + struct.pack("<30f", *[i / 30 for i in range(30)]))
h = h.replace("(10, 3)", "(10, 2)")
open(f"{w}/y3.npy", "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode()
                                + struct.pack("<20f", *[i / 20 for i in range(20)]))
PY
run eval --model "$SEQ" --x "$W/x3.npy" --y "$W/y3.npy"
checks "eval of a file without an activation: runs, and warns on stderr (rc $rc)" \
    '[ $rc = 0 ] && warned && has "$W/out" "mse" && ! grep -q warning "$W/out"'
run eval --model "$SEQ" --x "$W/x3.npy" --y "$W/y3.npy" --activation relu
checks "... with --activation given: no warning" '[ $rc = 0 ] && [ ! -s "$W/err" ]'
run finetune --model "$SEQ" --x "$W/x3.npy" --y "$W/y3.npy" --steps 5 $q --out "$W/fseq"
checks "finetune from it warns" '[ $rc = 0 ] && warned'
run finetune --model "$SEQ" --x "$W/x3.npy" --y "$W/y3.npy" --activation tanh --steps 5 $q \
    --out "$W/fseq2"
checks "... not with --activation tanh, which it runs" \
    '[ $rc = 0 ] && [ ! -s "$W/err" ] && grep -qx "activation = tanh" "$W/fseq2/config.ini"'
run train --teacher "$SEQ" --widths 3,5,2 --steps 5 $q --out "$W/tseq"
checks "train --teacher from it warns, naming --teacher" \
    '[ $rc = 0 ] && warned && has "$W/err" "--teacher $SEQ"'
run eval --model "$M" --x "$W/x.npy" --y "$W/y.npy"
checks "a model sparsetune wrote names its activation: no warning" '[ $rc = 0 ] && [ ! -s "$W/err" ]'

# ---- whole-number targets under mse: the hint to --loss xent ----

python3 - "$W/labels.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("a,b,c,y\n")
    for i in range(30):
        f.write(f"{i / 30:.4f},{(i * 7 % 30) / 30:.4f},{(i * 11 % 30) / 30:.4f},{i % 2}\n")
PY
run eval --model "$M" --x "$W/labels.csv" --y-col y
checks "eval on a .csv's class column without --loss xent: suggests it (rc $rc)" \
    '[ $rc = 1 ] && has "$W/err" "like class indices: for a classifier add --loss xent"'
run eval --model "$M" --x "$W/labels.csv" --y-col y --loss xent
check "... and with --loss xent it runs (rc $rc)" [ $rc = 0 ]

# ---- a seed axis over data runs that use the seed for nothing ----

NOTE="--grid seed: its 3 values change nothing in these data runs"
DATA="--task data --student-init $M --x $W/x.npy --y $W/y.npy --widths 3,6,2 --steps 20 $q"
run sweep $DATA --grid seed=0:3 --out "$W/sd"
checks "sweep --grid seed over full-batch data runs from a model: a note (rc $rc)" \
    '[ $rc = 0 ] && has "$W/err" "$NOTE" && ! has "$W/out" "$NOTE"'
checks "... and indeed the three rows are the same (wall time aside)" \
    '[ "$(cut -d, -f3-12 "$W/sd/summary.csv" | tail -n 3 | sort -u | wc -l)" = 1 ]'
for extra in "--batch 10" "--val-fraction 0.25" "--grid batch=0,10"; do
    run sweep $DATA --grid seed=0:3 $extra --out "$W/sd$(echo "$extra" | tr -dc a-z0-9)"
    checks "... not with $extra, where the seed matters (rc $rc)" '[ $rc = 0 ] && ! has "$W/err" "--grid seed"'
done
run sweep --task data --x "$W/x.npy" --y "$W/y.npy" --widths 3,6,2 --steps 20 $q --grid seed=0:3 \
    --out "$W/sdraw"
checks "... nor when the start is drawn (rc $rc)" '[ $rc = 0 ] && ! has "$W/err" "--grid seed"'
run sweep --grid seed=0:3 --steps 20 $q --out "$W/sdts"
checks "... nor in teacher-student runs (rc $rc)" '[ $rc = 0 ] && ! has "$W/err" "--grid seed"'

# ---- sweep rows in grid order ----

# ids FILE: the run ids of a summary.csv (or pending.csv) in file order.
ids() { grep -o '^[0-9]*,' "$1" | tr -d ',' | tr '\n' ' '; }
# Run 0 is slow; worker 1 (runs 1 and 3) finishes long before worker 0
# (runs 0 and 2).
GRID="--grid steps=20000,10,10,10 --log-every 10000 --jobs 2 --quiet --no-plot"
run sweep $GRID --out "$W/order"
checks "a sweep's rows come in grid order, not in completion order (rc $rc; got $(ids "$W/order/summary.csv"))" \
    '[ $rc = 0 ] && [ "$(ids "$W/order/summary.csv")" = "0 1 2 3 " ] && [ ! -e "$W/order/pending.csv" ]'

# Killed (SIGKILL, the whole process group) while run 0 goes on: the rows of
# runs 1 and 3 wait in pending.csv, summary.csv has neither; the next sweep
# runs 0 and 2 alone and writes all four in order.
GRID="--grid steps=100000,10,10,10 --log-every 50000 --jobs 2 --quiet --no-plot"
setsid "$BIN" sweep $GRID --out "$W/kill" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1000); do
    [ "$(ids "$W/kill/pending.csv" 2>/dev/null)" = "1 3 " ] && break
    sleep 0.005
done
{ kill -KILL -- -$pid; wait $pid; } 2>/dev/null
if [ "$(ids "$W/kill/pending.csv" 2>/dev/null)" = "1 3 " ]; then
    checks "killed: summary.csv holds the header alone, the finished rows wait in pending.csv" \
        '[ "$(wc -l <"$W/kill/summary.csv")" = 1 ]'
    cp "$W/kill/pending.csv" "$W/waited.csv"
    run sweep $GRID --out "$W/kill"
    checks "the next sweep runs runs 0 and 2 alone (rc $rc)" \
        '[ $rc = 0 ] && has "$W/out" "2 run now, 2 already"'
    checks "... and writes the four rows in grid order, pending.csv removed (got $(ids "$W/kill/summary.csv"))" \
        '[ "$(ids "$W/kill/summary.csv")" = "0 1 2 3 " ] && [ ! -e "$W/kill/pending.csv" ]'
    checks "... rows 1 and 3 as they waited" \
        '[ "$(grep "^[13]," "$W/kill/summary.csv")" = "$(cat "$W/waited.csv")" ]'
else
    echo "note: the sweep ended before it could be killed with rows waiting"
fi

# A failed run done again comes back in its place: the rows after it wait.
mkdir -p "$W/f/runs" && : >"$W/f/runs/1"
run sweep --grid lambda=0,1e-3,1e-2 --steps 20 --jobs 1 --quiet --no-plot --out "$W/f"
checks "a failed run's row (rc $rc)" '[ $rc = 1 ] && [ "$(ids "$W/f/summary.csv")" = "0 1 2 " ] && grep -q "^1,.*,failed," "$W/f/summary.csv"'
rm -f "$W/f/runs/1"
run sweep --grid lambda=0,1e-3,1e-2 --steps 20 --jobs 1 --quiet --no-plot --out "$W/f"
checks "re-run: the failed run done again, its row in grid order (rc $rc; got $(ids "$W/f/summary.csv"))" \
    '[ $rc = 0 ] && [ "$(ids "$W/f/summary.csv")" = "0 1 2 " ] && ! grep -q ",failed," "$W/f/summary.csv" && [ ! -e "$W/f/pending.csv" ]'

echo "messages: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

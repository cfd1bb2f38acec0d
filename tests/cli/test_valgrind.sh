#!/usr/bin/env bash
# test_valgrind.sh BIN WORKDIR: short runs of every kind of command under
# valgrind memcheck: no invalid read or write, no use of an uninitialised
# value, no leak (definite or indirect) in sparsetune's own code. Covers
# train with its figure, a run stopped by SIGINT under valgrind and one
# resumed, pretrain / finetune / eval on files, a forked sweep, and the error
# paths of malformed inputs.
set -u
BIN=$1
W=$2
. "$(dirname "$0")/common.sh"
SUPP="$(dirname "$0")/../valgrind.supp"
VG=(valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --suppressions="$SUPP")
runs=0
# vg EXPECTED_RC DESCRIPTION ARGS...: the command under memcheck; passes when
# it exits EXPECTED_RC and valgrind reported nothing (it would exit 99).
vg() {
    local want=$1 what=$2
    shift 2
    local t0=$SECONDS
    "${VG[@]}" "$BIN" "$@" >"$W/out" 2>"$W/err"
    local rc=$?
    runs=$((runs + 1))
    echo "  $((SECONDS - t0)) s: $what"
    if [ $rc = 99 ] || grep -qE "^==[0-9]+== +([A-Z]|[0-9,]+ bytes in)" "$W/err"; then
        echo "FAIL: $what: valgrind reports:"
        grep "^==" "$W/err" | head -30
        fail=$((fail + 1))
        return
    fi
    check "$what: exit $want (got $rc)" [ $rc = "$want" ]
}

vg 0 "train (l1 prox)" train --steps 20 --lambda 1e-3 --prox --data-size 200 --no-plot --out "$W/t" --quiet
vg 0 "train, minibatches, l1 subgradient, 2 threads, online data" train --steps 20 --lambda 1e-3 --batch 50 --online --threads 2 --no-plot --out "$W/t2" --quiet

# A run stopped by SIGTERM under valgrind (its checkpoint, exit 143), then
# resumed under valgrind to its end. The signal goes once the run has
# written its start (student_init.safetensors), when the handler is surely in
# place. (Steps cost about 3,000x their native time under memcheck, so the
# runs are small.)
SMALL="--data-size 50 --spectrum-every 0 --log-every 50"
t0=$SECONDS
"${VG[@]}" "$BIN" train --steps 1500 $SMALL --no-plot --quiet --out "$W/long" >"$W/out" 2>"$W/err" &
pid=$!
for i in $(seq 600); do
    [ -e "$W/long/student_init.safetensors" ] && break
    sleep 0.1
done
sleep 1
kill -TERM $pid
wait $pid
rc=$?
runs=$((runs + 1))
echo "  $((SECONDS - t0)) s: train stopped by SIGTERM"
if [ -e "$W/long/summary.json" ]; then
    echo "note: the run under valgrind finished before SIGTERM"
else
    check "stopped by SIGTERM under valgrind: exit 143 (got $rc), through the handler" grep -q "stopped by SIGTERM at step" "$W/err"
    check "... with a checkpoint" [ -s "$W/long/checkpoint.bin" ]
    if grep -qE "^==[0-9]+== +([A-Z]|[0-9,]+ bytes in)" "$W/err"; then
        echo "FAIL: stopped under valgrind: valgrind reports:"
        grep "^==" "$W/err" | head -30
        fail=$((fail + 1))
    fi
    vg 0 "resume to the end, with its figure" train --resume "$W/long" --quiet
fi

# Files: a data set, pretrain, finetune with an evaluation set, eval.
python3 - "$W" <<'PY'
import math, struct, sys
w = sys.argv[1]
with open(w + "/a.csv", "w") as f:
    f.write("p,q,label\n")
    for i in range(60):
        p, q = math.sin(i), math.cos(1.3 * i)
        f.write(f"{p:.5f},{q:.5f},{int(p * q > 0)}\n")
def npy(path, rows, cols, vals):
    head = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, cols)
    head += " " * (63 - (10 + len(head)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head.encode())
        f.write(struct.pack("<%df" % len(vals), *vals))
npy(w + "/bx.npy", 40, 2, [math.sin(0.3 * i) for i in range(80)])
npy(w + "/by.npy", 40, 1, [float(i % 2) for i in range(40)])
with open(w + "/bad.npy", "wb") as f:
    f.write(b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'")
with open(w + "/bad.csv", "w") as f:
    f.write("a,b\n1,2\n3,x\n")
PY
vg 0 "pretrain on a CSV, xent, validation split, standardized" pretrain --x "$W/a.csv" --y-col label --widths 2,8,2 --loss xent --steps 30 --val-fraction 0.2 --standardize --no-plot --out "$W/pre" --quiet
vg 0 "finetune from the model, .npy data, evaluation set" finetune --model "$W/pre/student.safetensors" --x "$W/bx.npy" --y "$W/by.npy" --eval-x "$W/bx.npy" --eval-y "$W/by.npy" --loss xent --lambda 1e-3 --prox --steps 30 --no-plot --out "$W/fine" --quiet
vg 0 "eval of the fine-tuned model" eval --model "$W/fine/student.safetensors" --x "$W/bx.npy" --y "$W/by.npy" --loss xent

# Error paths: every one exits non-zero without a leak.
vg 1 "a malformed .npy" train --x "$W/bad.npy" --no-plot --out "$W/e1" --quiet
vg 1 "a CSV with a word in it" pretrain --x "$W/bad.csv" --y-col b --widths 1,4,1 --out "$W/e2" --quiet
head -c 300 "$W/pre/student.safetensors" >"$W/cut.safetensors"
vg 1 "a truncated model file" finetune --model "$W/cut.safetensors" --x "$W/bx.npy" --y "$W/by.npy" --out "$W/e3" --quiet
printf 'steps = 10\nlambda = many\n' >"$W/bad.ini"
vg 2 "a config file with a bad value" train --config "$W/bad.ini" --out "$W/e4"
vg 2 "an unknown option" train --stepz 3

# A sweep on two forked workers (memcheck follows the forks).
vg 0 "sweep, 4 runs on 2 workers" sweep --grid lambda=0,1e-3 --grid seed=0:2 --steps 10 --data-size 100 --jobs 2 --no-plot --quiet --out "$W/sw"
vg 0 "plot of a run" plot "$W/t2"

echo "test_valgrind: $runs commands under memcheck; $pass passed, $fail failed"
[ "$fail" -eq 0 ]

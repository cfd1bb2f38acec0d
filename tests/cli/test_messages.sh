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

echo "messages: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

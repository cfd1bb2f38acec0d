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

echo "messages: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# test_delta.sh BIN WORKDIR: sparse deltas. --save-delta writes the entries
# that moved (counted again here from the two model files with NumPy);
# `apply` rebuilds student.safetensors byte for byte, for an MLP and for a
# GPT in Hugging Face's layout; `delta A B` writes the same file a run does
# and apply(A, delta(A, B)) == B; a delta on another model and misuse are
# refused by name.
set -u
BIN=$1
W=$2
. "$(dirname "$0")/common.sh"
PY=/usr/bin/python3
mkdir -p "$W"

# Counts the entries that differ bit for bit between two sparsetune files
# (float32 tensors) and checks summary.json's delta against them.
COUNT='import json, os, struct, sys
import numpy as np
def load(p):
    b = open(p, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n])
    return {k: np.frombuffer(b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]], dtype=np.uint32)
            for k, v in h.items() if k != "__metadata__"}
a, b = load(sys.argv[1]), load(sys.argv[2])
changed = sum(int((a[k] != b[k]).sum()) for k in a); entries = sum(a[k].size for k in a)
d = json.load(open(sys.argv[3]))["delta"]
assert d["changed"] == changed and d["entries"] == entries, (d, changed, entries)
assert d["bytes"] == os.path.getsize(sys.argv[4]) and d["model_bytes"] == os.path.getsize(sys.argv[2])
assert 0 < changed < entries, changed
'

"$BIN" train --penalty l1 --prox --lambda 1e-3 --steps 300 --quiet --no-plot --save-delta --out "$W/m" >"$W/out" 2>"$W/err"
check "train --save-delta: delta.safetensors and the line in the terminal" \
    bash -c "[ -s '$W/m/delta.safetensors' ] && grep -q '^delta: $W/m/delta.safetensors: [0-9]* of 481 entries changed' '$W/out'"
check "summary.json's delta: the entries that differ, counted with NumPy; the sizes" \
    "$PY" -c "$COUNT" "$W/m/student_init.safetensors" "$W/m/student.safetensors" "$W/m/summary.json" "$W/m/delta.safetensors"
"$BIN" apply --model "$W/m/student_init.safetensors" --delta "$W/m/delta.safetensors" --out "$W/m_applied.safetensors" >"$W/out" 2>"$W/err"
check "apply: the run's student.safetensors, byte for byte" cmp "$W/m_applied.safetensors" "$W/m/student.safetensors"
"$BIN" delta "$W/m/student_init.safetensors" "$W/m/student.safetensors" --out "$W/m_delta.safetensors" >"$W/out" 2>"$W/err"
check "delta A B: the run's delta file, byte for byte" cmp "$W/m_delta.safetensors" "$W/m/delta.safetensors"
check "delta A B: the counts and sizes printed" grep -q "entries changed" "$W/out"

# Any two models of one architecture: B a plain run from another start.
"$BIN" train --seed 3 --steps 50 --quiet --no-plot --out "$W/m2" >/dev/null 2>&1
"$BIN" delta "$W/m/student.safetensors" "$W/m2/student.safetensors" --out "$W/ab.safetensors" >/dev/null 2>"$W/err"
"$BIN" apply --model "$W/m/student.safetensors" --delta "$W/ab.safetensors" --out "$W/b.safetensors" >/dev/null 2>"$W/err"
check "apply(A, delta(A, B)) == B" cmp "$W/b.safetensors" "$W/m2/student.safetensors"

# A GPT in Hugging Face's layout: the fine-tune and apply both write it back so.
G="--arch gpt --n-layer 2 --n-head 2 --d-model 16 --vocab 256 --context 16"
head -c 4000 "$(dirname "$0")/../../README.md" > "$W/t.txt"
"$BIN" pretrain $G --text "$W/t.txt" --steps 20 --quiet --no-plot --export-layout hf --out "$W/g" >/dev/null 2>"$W/err"
"$BIN" finetune --model "$W/g/student.safetensors" --text "$W/t.txt" --penalty l1 --prox --lambda 1e-3 --steps 20 --quiet --no-plot --save-delta --out "$W/gf" >/dev/null 2>"$W/err"
"$BIN" apply --model "$W/g/student.safetensors" --delta "$W/gf/delta.safetensors" --out "$W/g_applied.safetensors" >/dev/null 2>"$W/err"
checks "GPT in Hugging Face's layout: apply gives the fine-tune's student.safetensors, byte for byte" \
    'cmp "$W/g_applied.safetensors" "$W/gf/student.safetensors" && grep -q "h.0.attn.c_attn.weight" "$W/g_applied.safetensors"'
"$BIN" apply --model "$W/g/student.safetensors" --delta "$W/gf/delta.safetensors" --export-layout sparsetune --out "$W/g_own.safetensors" >/dev/null 2>"$W/err"
"$BIN" delta "$W/gf/student.safetensors" "$W/g_own.safetensors" --out "$W/g_none.safetensors" >"$W/out" 2>"$W/err"
check "--export-layout sparsetune: the same values under sparsetune's names (a delta of 0 entries)" \
    grep -q ": 0 of [0-9]* entries changed" "$W/out"

# Refusals.
"$BIN" apply --model "$W/m2/student.safetensors" --delta "$W/m/delta.safetensors" --out "$W/x.safetensors" >/dev/null 2>"$W/err"
code=$?
checks "a delta on another model: refused (exit 1), both hashes named, nothing written" \
    '[ $code -eq 1 ] && grep -q "made for the base model with sha256 [0-9a-f]\{64\}, but this model'"'"'s values hash to [0-9a-f]\{64\}" "$W/err" && [ ! -e "$W/x.safetensors" ]'
"$BIN" apply --model "$W/m/student_init.safetensors" --delta "$W/m/student.safetensors" --out "$W/x.safetensors" >/dev/null 2>"$W/err"
check "a model file given as the delta: refused" grep -q "metadata format is \"sparsetune\", expected \"sparsetune-delta\"" "$W/err"
"$BIN" apply --model "$W/m/student_init.safetensors" --delta "$W/m/delta.safetensors" --export-layout hf --out "$W/x.safetensors" >/dev/null 2>"$W/err"
check "--export-layout hf on an MLP: refused" grep -q "GPT-2's layouts are for a GPT" "$W/err"
"$BIN" apply --model "$W/m/student_init.safetensors" --out "$W/x.safetensors" >/dev/null 2>"$W/err"
code=$?
checks "apply without --delta: a usage error" '[ $code -eq 2 ] && grep -q -- "--model, --delta and --out are required" "$W/err"'
"$BIN" delta "$W/m/student.safetensors" "$W/g/student.safetensors" --out "$W/x.safetensors" >/dev/null 2>"$W/err"
checks "delta between different architectures: refused" '[ -s "$W/err" ] && [ ! -e "$W/x.safetensors" ]'
"$BIN" delta "$W/m/student.safetensors" --out "$W/x.safetensors" >/dev/null 2>"$W/err"
check "delta with one model: a usage error" grep -q "expected 2 model files, got 1" "$W/err"

echo "delta: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# test_gpt_cli.sh BIN WORKDIR: the GPT family from the command line: a
# teacher-student run (its columns, summary and figure), token files checked,
# the size checks, config.ini re-running a run bit for bit, and an MLP run's
# files naming no GPT option.
set -u
BIN=$1
W=$2
. "$(dirname "$0")/common.sh"
PY=/usr/bin/python3
G="--arch gpt --n-layer 2 --n-head 2 --d-model 16 --vocab 16 --context 8 --data-size 32"

"$BIN" train $G --lambda 1e-4 --steps 60 --log-every 10 --quiet --out "$W/g" >"$W/out" 2>"$W/err"
check "train --arch gpt exits 0" [ $? = 0 ]
for c in d_init_wte d_init_wpe d_init_h1.attn.qkv.w d_teacher_h1.mlp.proj.w d_init_lnf.b; do
    check "metrics.csv has $c" grep -q ",$c\b" "$W/g/metrics.csv"
done
check "the figure" [ -s "$W/g/figure.png" ]
check "summary.json: the re-drawn block h1 is the truth, in its four weight matrices" \
    "$PY" -c 'import json, sys
s = json.load(open(sys.argv[1]))
t = s["verdict"]["truth"]
assert sorted(t) == ["h1.attn.proj.w", "h1.attn.qkv.w", "h1.mlp.fc.w", "h1.mlp.proj.w"], t' "$W/g/summary.json"
checks "config.ini names the GPT sizes and no MLP option" \
    'grep -qx "d-model = 16" "$W/g/config.ini" && ! grep -q "^widths" "$W/g/config.ini"'
"$BIN" train --config "$W/g/config.ini" --quiet --no-plot --out "$W/g2" >/dev/null 2>&1
check "config.ini re-runs the GPT run bit for bit" cmp "$W/g/metrics.csv" "$W/g2/metrics.csv"
"$BIN" train --steps 5 --quiet --no-plot --out "$W/m" >/dev/null 2>&1
check "an MLP run's config.ini names no GPT option" bash -c "! grep -qE '^(n-layer|n-head|d-model|vocab|context) ' '$W/m/config.ini'"
# The teacher's file is a GPT file: read back as the same model.
"$BIN" train $G --teacher "$W/g/teacher.safetensors" --steps 5 --quiet --no-plot --out "$W/gt" >/dev/null 2>"$W/err"
check "a GPT teacher file is read back (exit 0)" [ -s "$W/gt/summary.json" ]
"$BIN" train --arch gpt --n-layer 2 --n-head 2 --d-model 16 --vocab 16 --context 9 --teacher "$W/g/teacher.safetensors" \
    --steps 5 --quiet --no-plot --out "$W/gt2" >/dev/null 2>"$W/err"
check "a GPT file of another context: refused by name" grep -q -- "--context 8; the run's is 9" "$W/err"

"$BIN" train --arch gpt --n-head 3 --d-model 16 --steps 5 --quiet --out "$W/bad" >/dev/null 2>"$W/err"
check "--d-model not a multiple of --n-head: usage error" grep -q -- "--d-model 16: not a multiple of --n-head 3" "$W/err"

# Token files: whole numbers in the vocabulary, named where they are not.
"$PY" - "$W" <<'PYEOF'
import sys
import numpy as np
w = sys.argv[1]
t = np.random.default_rng(0).integers(0, 16, size=(12, 8))
np.save(f"{w}/tok.npy", t)
b = t.astype(np.float32); b[3, 5] = 16; np.save(f"{w}/tok_big.npy", b)
b = t.astype(np.float32); b[2, 1] = 2.5; np.save(f"{w}/tok_frac.npy", b)
PYEOF
"$BIN" train $G --x "$W/tok.npy" --steps 5 --quiet --no-plot --out "$W/tx" >/dev/null 2>&1
check "--x token ids [N, T]: exit 0" [ -s "$W/tx/summary.json" ]
"$BIN" train $G --x "$W/tok_big.npy" --steps 5 --quiet --no-plot --out "$W/tx2" >/dev/null 2>"$W/err"
check "a token id past the vocabulary: named" grep -q "row 3, position 5: 16 is not a token id" "$W/err"
"$BIN" train $G --x "$W/tok_frac.npy" --steps 5 --quiet --no-plot --out "$W/tx3" >/dev/null 2>"$W/err"
check "a fractional token id: named" grep -q "row 2, position 1: 2.5 is not a token id" "$W/err"

# Selectors name blocks and halves: --reinit h1.attn re-draws the attention's
# matrices only; baselines --by attn-mlp trains every subset of the halves.
"$BIN" train $G --reinit h1.attn --steps 5 --quiet --no-plot --out "$W/ra" >/dev/null 2>&1
check "--reinit h1.attn: the truth is the attention's two matrices" \
    "$PY" -c 'import json, sys; t = json.load(open(sys.argv[1]))["verdict"]["truth"]; assert sorted(t) == ["h1.attn.proj.w", "h1.attn.qkv.w"], t' "$W/ra/summary.json"
"$BIN" baselines $G --by attn-mlp --steps 20 --jobs 2 --no-plot --out "$W/bl" >"$W/out" 2>"$W/err"
check "baselines --by attn-mlp exits 0" [ $? = 0 ]
check "baselines --by attn-mlp: 63 subsets of emb, h0.attn, h0.mlp, h1.attn, h1.mlp, lnf" \
    "$PY" -c 'import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
units = {u for r in rows for u in r["trained"].split(",")}
assert len(rows) == 63 and units == {"emb", "h0.attn", "h0.mlp", "h1.attn", "h1.mlp", "lnf"}, units' "$W/bl/baselines.csv"

# Distillation: --loss kl names its column and summary key.
"$BIN" train $G --loss kl --lambda 1e-3 --steps 20 --quiet --no-plot --out "$W/kl" >/dev/null 2>&1
checks "--loss kl: a kl column and final.kl, no accuracy" \
    'head -n 1 "$W/kl/metrics.csv" | grep -q "^step,kl,penalty,loss," && grep -q "\"kl\":" "$W/kl/summary.json" && ! grep -q accuracy "$W/kl/metrics.csv"'
"$BIN" train --loss kl --steps 5 --quiet --no-plot --out "$W/kl1" >/dev/null 2>"$W/err"
check "--loss kl on one output: refused" grep -q "a distribution needs at least 2" "$W/err"

echo "gpt_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

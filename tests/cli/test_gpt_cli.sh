#!/usr/bin/env bash
# test_gpt_cli.sh BIN WORKDIR: the GPT family from the command line: a
# teacher-student run (its columns, summary and figure), token files checked,
# the size checks, config.ini re-running a run bit for bit, and an MLP run's
# files naming no GPT option; every penalty, the commands of many runs,
# --threads and --resume on GPT runs.
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

# The verdict per group: blocks and their halves, their entries adding up.
check "summary.json groups: emb, h0, h0.attn, h0.mlp, h1, ..., lnf; h1 differs, h0 does not" \
    "$PY" -c 'import json, sys
s = json.load(open(sys.argv[1])); g = s["groups"]
assert list(g) == ["emb", "h0", "h0.attn", "h0.mlp", "h1", "h1.attn", "h1.mlp", "lnf"], list(g)
assert g["h1"]["truth"] and not g["h0"]["truth"] and g["h1.attn"]["truth"]
assert g["h0"]["entries"] == g["h0.attn"]["entries"] + g["h0.mlp"]["entries"]
assert abs(sum(g[u]["update_share"] for u in ("emb", "h0", "h1", "lnf")) - 1) < 1e-12' "$W/g/summary.json"

# Data runs on a GPT: targets are each row's T positions (x V logits under
# mse, one token id each under xent).
"$BIN" train $G --steps 1 --save-data --quiet --no-plot --out "$W/sd" >/dev/null 2>&1
"$PY" -c 'import numpy as np, sys
np.save(sys.argv[1], (np.arange(32 * 8) % 16).reshape(32, 8).astype(np.int64))
np.save(sys.argv[2], np.full((32, 8), 16, dtype=np.int64))' "$W/cls.npy" "$W/cls_bad.npy"
"$BIN" train $G --task data --x "$W/sd/x.npy" --y "$W/sd/y.npy" --steps 5 --quiet --no-plot --out "$W/dm" >/dev/null 2>"$W/err"
check "a GPT data run on [N, T*V] logit targets (mse)" [ -s "$W/dm/summary.json" ]
"$BIN" train $G --task data --loss xent --x "$W/sd/x.npy" --y "$W/cls.npy" --steps 5 --quiet --no-plot --out "$W/dx" >/dev/null 2>"$W/err"
check "a GPT data run on [N, T] token targets (xent)" [ -s "$W/dx/summary.json" ]
"$BIN" train $G --task data --x "$W/sd/x.npy" --y "$W/cls.npy" --steps 5 --quiet --no-plot --out "$W/dw" >/dev/null 2>"$W/err"
check "mse targets of the wrong shape: the expected one, by positions and outputs" \
    grep -q "expected \[32, 128\] (each input row's 8 positions x 16 outputs" "$W/err"
"$BIN" train $G --task data --loss xent --x "$W/sd/x.npy" --y "$W/cls_bad.npy" --steps 5 --quiet --no-plot --out "$W/db" >/dev/null 2>"$W/err"
check "a token target past the vocabulary: its row and column" grep -q "row 0, column 0 is 16; expected a class index" "$W/err"

# Every penalty on a GPT: the proximal group step leaves whole tensors
# exactly at their start; the nuclear penalty's spectrum covers the 2-D
# tensors only; l2 and layer run.
"$BIN" train $G --penalty group --prox --penalty-reduction sum --lambda 1e-4 --steps 100 --quiet --no-plot --out "$W/gp" >/dev/null 2>&1
check "group --prox: some tensors exactly unchanged, some changed" \
    "$PY" -c 'import json, sys; d = json.load(open(sys.argv[1]))["d_init"]; z = [t for t, v in d.items() if v == 0]; assert 0 < len(z) < len(d), z' "$W/gp/summary.json"
"$BIN" train $G --penalty nuclear --lambda 1e-2 --steps 10 --spectrum-every 5 --quiet --no-plot --out "$W/nu" >/dev/null 2>&1
checks "nuclear: nuc_ columns for wte and the block matrices, none for LayerNorms or biases" \
    'h=$(head -n 1 "$W/nu/metrics.csv"); echo "$h" | grep -q "nuc_wte," && echo "$h" | grep -q "nuc_h1.mlp.proj.w," && ! echo "$h" | grep -qE "nuc_(h[0-9]\.ln|lnf|[^,]*\.b,)"'
for pen in l2 layer; do
    "$BIN" train $G --penalty $pen --lambda 1e-2 --steps 10 --quiet --no-plot --out "$W/p_$pen" >/dev/null 2>&1
    check "--penalty $pen on a GPT exits 0" [ -s "$W/p_$pen/summary.json" ]
done

# Threads: attention, GELU, LayerNorm and the parameter passes cut their work
# the same way on any number of threads.
"$BIN" train $G --lambda 1e-3 --steps 30 --quiet --no-plot --threads 1 --out "$W/t1" >/dev/null 2>&1
"$BIN" train $G --lambda 1e-3 --steps 30 --quiet --no-plot --threads 2 --out "$W/t2" >/dev/null 2>&1
check "--threads 2 gives the bits of --threads 1" cmp "$W/t1/metrics.csv" "$W/t2/metrics.csv"

# The commands of many runs on GPT runs.
"$BIN" sweep $G --grid lambda=0,1e-3 --steps 20 --jobs 2 --no-plot --out "$W/sw" >/dev/null 2>&1
check "sweep over lambda: two rows" [ "$(wc -l < "$W/sw/summary.csv")" = 3 ]
"$BIN" lambda-path $G --steps 20 --no-plot --out "$W/lp" >/dev/null 2>&1
check "lambda-path writes its tables" [ -s "$W/lp/lambda_path.csv" ]
"$BIN" compare $G --steps 20 --seeds 1 --positions 0 --no-plot --out "$W/cp" >/dev/null 2>&1
check "compare writes compare.json" [ -s "$W/cp/compare.json" ]

# --resume: a run stopped by SIGINT and resumed ends with the bits of one
# that ran straight through.
check_resume "a GPT run stopped by SIGINT (exit 130) and resumed matches one run straight" 0.3 \
    "$W" "$BIN" train $G --lambda 1e-3 --steps 8000 --log-every 200 --quiet --no-plot

# Memory: a size that cannot fit is refused before allocating, with its numbers.
"$BIN" train --arch gpt --n-layer 96 --n-head 64 --d-model 12288 --vocab 50257 --context 2048 --data-size 8 --steps 1 --quiet --no-plot --out "$W/big" >/dev/null 2>"$W/err"
check "a GPT too large for memory: refused, naming bytes" grep -qiE "memory|bytes" "$W/err"

echo "gpt_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

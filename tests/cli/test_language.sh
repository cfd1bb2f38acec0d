#!/usr/bin/env bash
# test_language.sh BIN WORKDIR: language-model runs on token streams: a
# byte-level GPT pretrained on a text (validation, an evaluation text, bits
# per byte), fine-tuned on another (forgetting), resumed bit for bit, token
# files (.npy, llm.c's .bin), `eval` on a text, and each misuse named.
set -u
BIN=$1
W=$2
. "$(dirname "$0")/common.sh"
PY=/usr/bin/python3
SRC=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$W"
head -c 12000 "$SRC/README.md" > "$W/en.txt"
head -c 1500 "$SRC/src/core/gpt.c" > "$W/code.txt"
G="--arch gpt --n-layer 1 --n-head 2 --d-model 32 --vocab 256 --context 32"

"$BIN" pretrain $G --text "$W/en.txt" --val-fraction 0.1 --eval-text "$W/code.txt" --batch 8 --steps 60 --lr 3e-3 --log-every 20 --quiet --no-plot --out "$W/p" >"$W/out" 2>"$W/err"
check "pretrain --text exits 0" [ -s "$W/p/summary.json" ]
check "metrics.csv: xent, val_xent, eval_xent" grep -q "^step,xent,accuracy,penalty,loss,val_xent,val_accuracy,eval_xent,eval_accuracy," "$W/p/metrics.csv"
check "the printed result gives bits per byte" grep -q "bits per byte" "$W/out"
check "summary.json: bits per byte, the loss fell, 10% held out as windows" \
    "$PY" -c 'import csv, json, math, sys
s = json.load(open(sys.argv[1])); rows = list(csv.DictReader(open(sys.argv[2])))
f = s["final"]; assert abs(f["bits_per_byte"] - f["xent"] / math.log(2)) < 1e-12
assert float(rows[-1]["xent"]) < float(rows[0]["xent"]) - 0.5, (rows[0]["xent"], rows[-1]["xent"])
assert s["validation"]["rows"] == 37 and "bits_per_byte" in s["eval"]["after"]' "$W/p/summary.json" "$W/p/metrics.csv"
checks "config.ini: the stream, a batch of 8 windows, xent, the data size in tokens" \
    'grep -q "^text = $W/en.txt" "$W/p/config.ini" && grep -q "^batch = 8" "$W/p/config.ini" && grep -q "^loss = xent" "$W/p/config.ini" && grep -q "^data-size = 10800" "$W/p/config.ini"'

"$BIN" finetune --model "$W/p/student.safetensors" --text "$W/code.txt" --eval-text "$W/en.txt" --penalty l1 --prox --lambda 1e-4 --steps 40 --log-every 20 --quiet --no-plot --out "$W/f" >"$W/out" 2>"$W/err"
check "finetune on another text, forgetting on the first" \
    "$PY" -c 'import json, sys; e = json.load(open(sys.argv[1]))["eval"]; assert "forgetting" in e and e["before"]["bits_per_byte"] > 0' "$W/f/summary.json"

# The fingerprint: per unit and kind, in fingerprint.csv, summary.json and
# the terminal, each adding up to the whole update.
check "fingerprint.csv: emb, h0 x (attention, mlp, layernorm), lnf; shares add to 1" \
    "$PY" -c 'import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1]))); k = json.load(open(sys.argv[2]))["update_share_by_kind"]
assert [(r["unit"], r["kind"]) for r in rows] == [("emb", "embeddings"), ("h0", "attention"), ("h0", "mlp"), ("h0", "layernorm"), ("lnf", "layernorm")], rows
assert abs(sum(float(r["update_share"]) for r in rows) - 1) < 1e-9 and abs(sum(k.values()) - 1) < 1e-9
assert sum(int(r["entries"]) for r in rows) == sum(json.load(open(sys.argv[2]))["entries"].values())' "$W/f/fingerprint.csv" "$W/f/summary.json"
"$BIN" finetune --model "$W/p/student.safetensors" --text "$W/code.txt" --steps 5 --quiet --no-plot --out "$W/f5" >"$W/out" 2>&1
check "the terminal gives the update per kind" grep -q "^update share per kind:  embeddings .* attention .* mlp .* layernorm" "$W/out"

# eval on a text: every window, --context apart; on the 1,500 bytes of
# code.txt (46 windows) the same windows as the run's evaluation set.
"$BIN" eval --model "$W/p/student.safetensors" --text "$W/code.txt" >"$W/out" 2>"$W/err"
check "eval --text: 46 windows, the run's final loss on them" \
    "$PY" -c 'import json, sys
line = open(sys.argv[1]).read().split(); kv = dict(zip(line[0::2], line[1::2]))
after = json.load(open(sys.argv[2]))["eval"]["after"]["xent"]
assert kv["windows"] == "46" and abs(float(kv["xent"]) - after) < 1e-6 * after, (kv, after)' "$W/out" "$W/p/summary.json"

# Token files: llm.c's .bin and a 1-D .npy of the same bytes train alike.
"$PY" -c 'import numpy as np, sys
b = np.frombuffer(open(sys.argv[1], "rb").read(), dtype=np.uint8)
h = np.zeros(256, dtype=np.int32); h[0] = 20240520; h[1] = 1; h[2] = len(b)
open(sys.argv[2], "wb").write(h.tobytes() + b.astype(np.uint16).tobytes())
np.save(sys.argv[3], b.astype(np.int64))' "$W/en.txt" "$W/en.bin" "$W/en.npy"
"$BIN" pretrain $G --tokens "$W/en.bin" --batch 8 --steps 10 --log-every 5 --quiet --no-plot --out "$W/tb" >/dev/null 2>&1
"$BIN" pretrain $G --tokens "$W/en.npy" --batch 8 --steps 10 --log-every 5 --quiet --no-plot --out "$W/tn" >/dev/null 2>&1
check "--tokens .bin and .npy: the same run, bits per token" \
    bash -c "cmp '$W/tb/metrics.csv' '$W/tn/metrics.csv' && grep -q bits_per_token '$W/tb/summary.json'"
"$BIN" pretrain $G --text "$W/en.txt" --batch 8 --steps 10 --log-every 5 --quiet --no-plot --out "$W/tt" >/dev/null 2>&1
check "--text gives the bits of the same bytes as tokens" cmp "$W/tb/metrics.csv" "$W/tt/metrics.csv"

# --resume: random windows from the checkpointed order stream.
check_resume "a stream run stopped by SIGINT (exit 130) and resumed matches one run straight" 0.5 \
    "$W" "$BIN" pretrain $G --text "$W/en.txt" --batch 4 --steps 3000 --log-every 500 --quiet \
    --no-plot

# sample: the prompt, then the continuation; the same seed the same text.
M="$W/p/student.safetensors"
"$BIN" sample --model "$M" --prompt "The " --length 50 --seed 3 >"$W/s1" 2>"$W/err"
"$BIN" sample --model "$M" --prompt "The " --length 50 --seed 3 >"$W/s2" 2>&1
"$BIN" sample --model "$M" --prompt "The " --length 50 --seed 4 >"$W/s3" 2>&1
checks "sample: the prompt and 50 bytes, deterministic per seed, another seed another text" \
    '[ "$(head -c 4 "$W/s1")" = "The " ] && [ "$(wc -c < "$W/s1")" = 55 ] && cmp -s "$W/s1" "$W/s2" && ! cmp -s "$W/s1" "$W/s3"'
"$BIN" sample --model "$M" --prompt "ab" --length 20 --temperature 0 --seed 1 >"$W/g1" 2>&1
"$BIN" sample --model "$M" --prompt "ab" --length 20 --temperature 0 --seed 2 >"$W/g2" 2>&1
check "sample --temperature 0: the most likely bytes, whatever the seed" cmp "$W/g1" "$W/g2"
"$BIN" sample --model "$M" --prompt "x" --length 80 --top-k 1 --seed 5 >"$W/k1" 2>&1
"$BIN" sample --model "$M" --prompt "x" --length 80 --temperature 0 >"$W/k0" 2>&1
check "sample --top-k 1 is the greedy text" cmp "$W/k1" "$W/k0"
"$BIN" train --steps 2 --quiet --no-plot --out "$W/mlp" >/dev/null 2>&1
"$BIN" sample --model "$W/mlp/student.safetensors" --prompt "x" >/dev/null 2>"$W/err"
check "sample on an MLP: refused" grep -q "not a language model (a GPT file)" "$W/err"

# A text through a tokenizer (the fuzzers' small byte-level one, 261 ids):
# bits per token, and per byte as bits per token times the file's tokens
# over its bytes, in the terminal, summary.json and eval.
mkdir -p "$W/tok"
"$PY" -c 'import sys
v, m, _ = open(sys.argv[1], "rb").read().split(b"\0")
open(sys.argv[2] + "/vocab.json", "wb").write(v); open(sys.argv[2] + "/merges.txt", "wb").write(m)' \
    "$SRC/tests/fuzz/corpus/bpe/small" "$W/tok"
for i in $(seq 60); do printf "hello world, the well of wonder %d\n" "$i"; done > "$W/hello.txt"
"$BIN" tokenize --tokenizer "$W/tok" --text "$W/hello.txt" --out "$W/hello.bin" >/dev/null 2>&1
T="--arch gpt --n-layer 1 --n-head 2 --d-model 16 --vocab 261 --context 16"
"$BIN" pretrain $T --tokenizer "$W/tok" --text "$W/hello.txt" --eval-text "$W/hello.txt" --val-fraction 0.2 --steps 20 --log-every 10 --quiet --no-plot --out "$W/bp" >"$W/out" 2>"$W/err"
check "BPE text: bits per token and per byte in summary.json (final, held out, eval)" \
    "$PY" -c 'import json, math, os, struct, sys
s = json.load(open(sys.argv[1])); n = struct.unpack("<3i", open(sys.argv[2], "rb").read(12))[2]
per = os.path.getsize(sys.argv[3]) / n; assert per > 1.2, per
for d in (s["final"], s["validation"], s["eval"]["before"], s["eval"]["after"]):
    assert abs(d["bits_per_byte"] * per - d["bits_per_token"]) < 1e-9 * d["bits_per_token"], d
assert abs(s["final"]["bits_per_token"] - s["final"]["xent"] / math.log(2)) < 1e-12' "$W/bp/summary.json" "$W/hello.bin" "$W/hello.txt"
check "BPE text: the terminal gives bits per token and per byte" grep -q "bits per token, [0-9.]* per byte" "$W/out"
"$BIN" eval --model "$W/bp/student.safetensors" --tokenizer "$W/tok" --text "$W/hello.txt" >"$W/out" 2>&1
check "eval --text --tokenizer: bits per token and per byte" \
    "$PY" -c 'import os, struct, sys
w = open(sys.argv[1]).read().split(); f = dict(zip(w[2::2], w[3::2]))
n = struct.unpack("<3i", open(sys.argv[2], "rb").read(12))[2]; per = os.path.getsize(sys.argv[3]) / n
assert abs(float(f["bits_per_byte"]) * per - float(f["bits_per_token"])) < 1e-5' "$W/out" "$W/hello.bin" "$W/hello.txt"

# A sweep over texts names its loss columns xent (the runs' loss), not --loss's default.
"$BIN" sweep --model "$W/p/student.safetensors" --grid text="$W/en.txt:$W/code.txt" --steps 2 --jobs 1 --out "$W/sw" >/dev/null 2>"$W/err"
check "sweep --grid text=A:B: one row per text, xent columns" \
    "$PY" -c 'import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [r["status"] for r in rows] == ["ok", "ok"] and "xent" in rows[0] and "mse" not in rows[0], rows[0].keys()
assert rows[0]["text"].endswith("en.txt") and float(rows[0]["xent"]) > 0' "$W/sw/summary.csv"

# metrics.csv reaches the disk every few seconds while a long run goes on.
"$BIN" pretrain $G --text "$W/en.txt" --steps 100000000 --log-every 1 --quiet --no-plot --out "$W/long" >/dev/null 2>&1 &
long=$!
rows=0
for _ in $(seq 40); do
    sleep 0.5
    rows=$(wc -l < "$W/long/metrics.csv" 2>/dev/null || echo 0)
    [ "$rows" -gt 1 ] && break
done
kill "$long" 2>/dev/null
wait "$long" 2>/dev/null
check "metrics.csv: rows are on disk during the run (flushed every 2 s)" [ "$rows" -gt 1 ]

# The language walk-through (examples/language), its steps shortened, where
# Debian's fortunes texts are installed (install-deps --check brings them).
if [ -d /usr/share/games/fortunes/de ] && [ -d /usr/share/games/fortunes/ru ] && [ -f /usr/share/games/fortunes/bofh-excuses ]; then
    PRETRAIN_STEPS=3 FINETUNE_STEPS=2 "$SRC/examples/language/run.sh" "$BIN" "$W/walk" >"$W/walk.out" 2>&1
    check "examples/language/run.sh: 13 rows per table, a figure each" \
        "$PY" -c 'import glob, sys
out = open(sys.argv[1]).read()
rows = [l for l in out.splitlines() if l.startswith("| ") and ("plain" in l or "prox" in l or "alone" in l)]
assert len(rows) == 26, out
assert len(glob.glob(sys.argv[2] + "/figure_*.png")) == 13, out' "$W/walk.out" "$W/walk"
else
    echo "language walk-through: SKIPPED (Debian's fortunes, fortunes-de, fortunes-ru, fortunes-bofh-excuses not installed)"
fi

# Misuse, each named.
"$BIN" pretrain --text "$W/en.txt" --steps 1 --quiet --no-plot --out "$W/e1" >/dev/null 2>"$W/err"
check "--text on an MLP: refused" grep -q "a token stream trains a language model; add --arch gpt" "$W/err"
"$BIN" pretrain --arch gpt --vocab 64 --text "$W/en.txt" --steps 1 --quiet --no-plot --out "$W/e2" >/dev/null 2>"$W/err"
check "a byte past --vocab: named, with the fix" grep -q "past the model's vocabulary of 64 (ids 0..63); a text's bytes need --vocab 256" "$W/err"
"$BIN" pretrain $G --text "$W/en.txt" --loss kl --steps 1 --quiet --no-plot --out "$W/e3" >/dev/null 2>"$W/err"
check "--loss kl on a stream: refused" grep -q "next-token cross-entropy" "$W/err"
"$BIN" pretrain $G --text "$W/en.txt" --x "$W/en.npy" --steps 1 --quiet --no-plot --out "$W/e4" >/dev/null 2>"$W/err"
check "--text with --x: refused" grep -q "leave out --x, --y and --y-col" "$W/err"
printf 'short' > "$W/short.txt"
"$BIN" pretrain $G --text "$W/short.txt" --steps 1 --quiet --no-plot --out "$W/e5" >/dev/null 2>"$W/err"
check "a text shorter than a window: named" grep -q "5 tokens; a window needs --context + 1 = 33" "$W/err"
"$BIN" pretrain --arch gpt --x "$W/en.npy" --y "$W/en.npy" --eval-text "$W/en.txt" --steps 1 --quiet --no-plot --out "$W/e6" >/dev/null 2>"$W/err"
check "--eval-text without a stream: refused" grep -q "the run needs --text or --tokens too" "$W/err"
head -c 1030 "$W/en.bin" > "$W/bad.bin"
"$BIN" pretrain $G --tokens "$W/bad.bin" --steps 1 --quiet --no-plot --out "$W/e7" >/dev/null 2>"$W/err"
check "a truncated .bin: named" grep -q "bad.bin: the header counts 12000 tokens of 2 bytes, but 6 bytes follow" "$W/err"

echo "language: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

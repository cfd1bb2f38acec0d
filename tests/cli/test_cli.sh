#!/usr/bin/env bash
# test_cli.sh BIN WORKDIR: end-to-end tests of the sparsetune binary.
# Checks exit statuses (0 ok, 1 runtime, 2 usage), stdout/stderr, and the
# files of a run directory. Prints every failure; exits 1 if any check failed.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 BIN WORKDIR" >&2
    exit 2
fi
BIN=$1
W=$2
case "$W" in
    ""|/) echo "refusing WORKDIR '$W'" >&2; exit 2 ;;
esac
rm -rf -- "$W"
mkdir -p -- "$W" || exit 1

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

pass=0
fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
    local what=$1
    shift
    if "$@"; then ok; else bad "$what"; fi
}

# run ARGS...: runs the binary with stdout, stderr and the exit status in
# $W/out, $W/err and $rc.
rc=0
run() {
    "$BIN" "$@" >"$W/out" 2>"$W/err"
    rc=$?
    LAST="sparsetune $*"
}

show() {
    echo "  command: $LAST (exit $rc)"
    echo "  stdout: $(head -c 400 "$W/out")"
    echo "  stderr: $(head -c 400 "$W/err")"
}

expect_rc() {
    if [ "$rc" -eq "$1" ]; then ok; else bad "$LAST: exit $rc, expected $1"; show; fi
}

nonempty() { [ -s "$1" ]; }
empty() { [ ! -s "$1" ]; }
has() { grep -qF -- "$2" "$1"; }
lines() { wc -l <"$1" | tr -d ' '; }
# json_field FILE KEY VALUE: the top-level string KEY of the JSON file equals VALUE.
json_field() {
    "$PY" -c 'import json, sys; sys.exit(json.load(open(sys.argv[1])).get(sys.argv[2]) != sys.argv[3])' \
        "$1" "$2" "$3" 2>/dev/null
}
not_has_d_teacher() { ! head -1 "$1" | grep -q d_teacher; }
not_cmp() { [ -f "$1" ] && [ -f "$2" ] && ! cmp -s "$1" "$2"; }

# ---- top level ----

run --version
expect_rc 0
check "--version prints to stdout" has "$W/out" "sparsetune "
check "--version: nothing on stderr" empty "$W/err"

run --help
expect_rc 0
check "--help prints usage on stdout" has "$W/out" "usage: sparsetune"
check "--help lists train" has "$W/out" "train"
check "--help: nothing on stderr" empty "$W/err"

run train --help
expect_rc 0
check "train --help prints usage on stdout" has "$W/out" "usage: sparsetune train"
for opt in --widths --lr --lambda --steps --seed --out --config --force; do
    check "train --help lists $opt" has "$W/out" "$opt"
done
check "train --help shows an example" has "$W/out" "example"
check "train --help: nothing on stderr" empty "$W/err"

run
expect_rc 2
check "no arguments: usage on stderr" has "$W/err" "usage: sparsetune"
check "no arguments: nothing on stdout" empty "$W/out"

run frobnicate
expect_rc 2
check "unknown command is named" has "$W/err" "frobnicate"
check "unknown command: nothing on stdout" empty "$W/out"

# ---- a full run ----

A=$W/a
run train --steps 200 --lambda 1e-3 --save-data --quiet --out "$A"
expect_rc 0
for f in metrics.csv summary.json config.ini teacher.safetensors student_init.safetensors \
         student.safetensors x.npy y.npy; do
    check "run writes $f" nonempty "$A/$f"
done
if [ -f "$A/metrics.csv" ]; then
    n=$(lines "$A/metrics.csv")
    check "metrics.csv has a header and 201 rows (got $n lines)" [ "$n" -eq 202 ]
    check "metrics.csv header" [ "$(head -n 1 "$A/metrics.csv" | cut -d, -f1-5)" = \
        "step,mse,penalty,loss,d_init_w1" ]
    check "metrics.csv last row is step 200" [ "$(tail -n 1 "$A/metrics.csv" | cut -d, -f1)" = 200 ]
fi
check "summary.json is valid JSON" "$PY" -m json.tool "$A/summary.json" /dev/null
check "summary.json has a verdict" has "$A/summary.json" '"verdict"'
check "summary.json status ok" json_field "$A/summary.json" status ok
check "stdout has 'verdict:'" has "$W/out" "verdict:"
check "stdout names the run directory" has "$W/out" "$A"
check "quiet run: nothing on stderr" empty "$W/err"
check "config.ini has lambda = 0.001" has "$A/config.ini" "lambda = 0.001"
check "config.ini has steps = 200" has "$A/config.ini" "steps = 200"
check "config.ini has the resolved reinit" has "$A/config.ini" "reinit = 2"
check "no temporary files left" [ -z "$(find "$A" -name '*.tmp*')" ]
if [ -f "$A/x.npy" ]; then
    check "x.npy starts with the npy magic" [ "$(head -c 6 "$A/x.npy" | tail -c 5)" = NUMPY ]
    # 1000 samples x 1 input, float32, after a 128-byte header
    check "x.npy size" [ "$(wc -c <"$A/x.npy" | tr -d ' ')" -eq $((128 + 4000)) ]
fi

# The same config re-runs bit-identically.
run train --config "$A/config.ini" --out "$W/b" --quiet
expect_rc 0
check "config.ini re-run: identical metrics.csv" cmp -s "$A/metrics.csv" "$W/b/metrics.csv"
check "config.ini re-run: identical student.safetensors" \
    cmp -s "$A/student.safetensors" "$W/b/student.safetensors"
check "config.ini re-run: identical config.ini" cmp -s "$A/config.ini" "$W/b/config.ini"

# Another seed, another log.
run train --steps 20 --seed 1 --quiet --out "$W/seed1"
expect_rc 0
run train --steps 20 --seed 2 --quiet --out "$W/seed2"
expect_rc 0
check "different seeds: different metrics.csv" \
    not_cmp "$W/seed1/metrics.csv" "$W/seed2/metrics.csv"

# ---- usage errors: exit 2, stderr names the value, stdout empty ----

# bad_usage VALUE ARGS...: expects exit 2, VALUE on the first stderr line,
# a one-line message (plus at most the help hint) and nothing on stdout.
bad_usage() {
    local value=$1
    shift
    run train --quiet --out "$W/never" "$@"
    expect_rc 2
    if head -n 1 "$W/err" | grep -qF -- "$value"; then ok; else
        bad "$LAST: first stderr line does not name '$value'"; show
    fi
    check "$LAST: message starts with 'sparsetune train:'" \
        [ "$(head -n 1 "$W/err" | cut -c1-17)" = "sparsetune train:" ]
    local n
    n=$(lines "$W/err")
    if [ "$n" -eq 1 ] || { [ "$n" -eq 2 ] && sed -n 2p "$W/err" | grep -q '^try '; }; then ok; else
        bad "$LAST: expected a one-line message (and the help hint), got $n lines"; show
    fi
    check "$LAST: nothing on stdout" empty "$W/out"
    check "$LAST: no run directory" [ ! -e "$W/never" ]
}

bad_usage "abc" --lr abc
bad_usage "--lr" --lr
bad_usage "1,0,1" --widths 1,0,1
bad_usage "bogus" --bogus
bad_usage "foo" --activation foo
bad_usage "relu" --activation foo
bad_usage "-5" --steps -5
bad_usage "7" --reinit 7
bad_usage "w9" --freeze w9
bad_usage "0.5x" --lambda 0.5x
bad_usage "stray" stray
bad_usage "--save-data" --save-data --online
bad_usage "--batch" --data-size 10 --batch 20

# ---- config files ----

C=$W/conf.ini
printf '# test config\n[train]\nlr = 0.005\nsteps = 20\n' >"$C"
run train --config "$C" --quiet --out "$W/c1"
expect_rc 0
check "config file value reaches config.ini" has "$W/c1/config.ini" "lr = 0.005"
check "config file steps = 20" has "$W/c1/config.ini" "steps = 20"
check "20 steps run: 21 rows" [ "$(lines "$W/c1/metrics.csv")" -eq 22 ]

run train --config "$C" --lr 0.002 --quiet --out "$W/c2"
expect_rc 0
check "command line wins over the config file" has "$W/c2/config.ini" "lr = 0.002"
check "... and the rest of the file still applies" has "$W/c2/config.ini" "steps = 20"

run train --lr 0.002 --config "$C" --quiet --out "$W/c3"
expect_rc 0
check "command line wins whatever its position" has "$W/c3/config.ini" "lr = 0.002"

printf 'lr = 0.005\nsteps = 20\nbogus-key = 1\n' >"$W/unknown.ini"
run train --config "$W/unknown.ini" --quiet --out "$W/never"
expect_rc 2
check "unknown config key: names file:line" has "$W/err" "$W/unknown.ini:3"
check "unknown config key: names the key" has "$W/err" "bogus-key"
check "unknown config key: nothing on stdout" empty "$W/out"

printf 'lr = abc\n' >"$W/badval.ini"
run train --config "$W/badval.ini" --quiet --out "$W/never"
expect_rc 2
check "bad config value: names file:line" has "$W/err" "$W/badval.ini:1"
check "bad config value: names the value" has "$W/err" "abc"

printf 'lr = 0.1\nnot a key value line\n' >"$W/syntax.ini"
run train --config "$W/syntax.ini" --quiet --out "$W/never"
check "config syntax error: non-zero exit (got $rc)" [ "$rc" -ne 0 ]
check "config syntax error: names file:line" has "$W/err" "$W/syntax.ini:2"

printf 'lr = 0.01\nsteps = 5\0999\n' >"$W/nul.ini"
run train --config "$W/nul.ini" --quiet --out "$W/never"
check "a NUL byte in a config line: refused (got $rc), naming file:line" \
    sh -c "[ $rc -ne 0 ] && grep -qF '$W/nul.ini:2: a NUL byte' '$W/err' && [ ! -e '$W/never' ]"
python3 -c "import sys; open(sys.argv[1], 'w').write('widths = ' + ','.join(['3'] * 40000) + '\n')" \
    "$W/long.ini"
run train --config "$W/long.ini" --quiet --out "$W/never"
check "a config line over 64 KiB: refused, naming line 1 of the one-line file" \
    sh -c "[ $rc -ne 0 ] && grep -qF '$W/long.ini:1: a line of 80008 bytes' '$W/err'"

run train --config "$W/no-such.ini" --quiet --out "$W/never"
expect_rc 1
check "missing config file is named" has "$W/err" "no-such.ini"

run train --config
expect_rc 2
check "--config without a file name" has "$W/err" "--config"

check "no run directory from failed commands" [ ! -e "$W/never" ]

# ---- refusing to overwrite, --force ----

sum_before=$(cksum <"$A/metrics.csv")
run train --steps 10 --quiet --out "$A"
expect_rc 2
check "existing run: message names the directory" has "$W/err" "$A"
check "existing run: message mentions --force" has "$W/err" "--force"
check "existing run: metrics.csv untouched" [ "$(cksum <"$A/metrics.csv")" = "$sum_before" ]

run train --steps 10 --quiet --force --out "$W/b"
expect_rc 0
check "--force overwrites: 11 rows" [ "$(lines "$W/b/metrics.csv")" -eq 12 ]

# ---- runtime errors: exit 1 ----

: >"$W/file"
run train --steps 5 --quiet --out "$W/file/sub"
expect_rc 1
check "--out below a file: message names the path" has "$W/err" "$W/file"
check "--out below a file: nothing on stdout" empty "$W/out"

run train --optimizer sgd --lr 1e6 --steps 100 --quiet --out "$W/div"
expect_rc 1
check "diverged run keeps metrics.csv" nonempty "$W/div/metrics.csv"
if [ -f "$W/div/metrics.csv" ]; then
    check "diverged metrics.csv: header and at least one row" \
        [ "$(lines "$W/div/metrics.csv")" -ge 2 ]
    check "diverged metrics.csv: header first" has "$W/div/metrics.csv" "step,mse,penalty,loss"
fi
check "diverged: stderr names the step" grep -q 'step [0-9]' "$W/err"
check "diverged: stderr says it diverged" has "$W/err" "diverged"
check "diverged: summary.json is valid JSON" "$PY" -m json.tool "$W/div/summary.json" /dev/null
check "diverged: summary.json status" json_field "$W/div/summary.json" status diverged

check "diverged: stdout gives no verdict" has "$W/out" "verdict: none"
check "diverged: summary.json has no verdict" grep -q '"correct":[[:space:]]*null' "$W/div/summary.json"

# --force clears the previous run: no file of it survives beside the new one.
run train --steps 5 --save-data --quiet --out "$W/stale"
expect_rc 0
run train --steps 5 --quiet --force --out "$W/stale"
expect_rc 0
check "--force removes the old x.npy" [ ! -e "$W/stale/x.npy" ]
run train --steps 5 --optimizer sgd --lr 1e6 --quiet --force --out "$W/stale"
expect_rc 1
check "--force + diverged run: no old student.safetensors" [ ! -e "$W/stale/student.safetensors" ]

# A directory is not a config file.
run train --config "$W" --steps 5 --quiet --out "$W/never"
expect_rc 1
check "--config DIR: named as not a regular file" has "$W/err" "not a regular file"

# --no-X exists only for flags.
run train --no-lr 5 --out "$W/never"
expect_rc 2
check "--no-lr: unknown option named with its dashes" has "$W/err" "unknown option '--no-lr'"
run train --steps 3 --no-save-data --quiet --out "$W/noflag"
expect_rc 0

# Seeds are 64-bit and written exactly.
run train --steps 2 --seed 18446744073709551615 --quiet --out "$W/bigseed"
expect_rc 0
check "summary.json keeps a 64-bit seed exact" grep -q '"seed":[[:space:]]*18446744073709551615' \
    "$W/bigseed/summary.json"

# A tensor that did not move is never judged changed, even with threshold 0.
run train --steps 20 --freeze 1,3 --changed-threshold 0 --quiet --out "$W/thr0"
expect_rc 0
check "threshold 0: frozen w1 not changed" grep -qE '^w1 .* - +- *$' "$W/out"
check "threshold 0: w2 changed" grep -qE '^w2 .* changed' "$W/out"

# Results that cannot reach stdout are a failure, not a silent success.
if [ -w /dev/full ]; then
    "$BIN" train --steps 2 --quiet --out "$W/full" >/dev/full 2>"$W/err"
    rc=$?
    check "stdout on a full disk: exit 1 (got $rc)" [ "$rc" -eq 1 ]
    check "stdout on a full disk: message" has "$W/err" "stdout"
fi

# ---- --loss xent: classification in teacher-student form ----

# The teacher's largest output labels each input; the same architecture
# separates its own classes, so training reaches 100% accuracy.
run train --loss xent --widths 2,16,16,3 --steps 1500 --data-size 200 --quiet --no-plot \
    --save-data --out "$W/xent"
expect_rc 0
check "xent: metrics columns" has "$W/xent/metrics.csv" "step,xent,accuracy,penalty,loss,d_init_w1"
check "xent: summary names the loss" json_field "$W/xent/summary.json" data_loss xent
check "xent: stdout reports accuracy" grep -qE '^final: xent [0-9.e+-]+  accuracy 1.0000' "$W/out"
check "xent: the final row's accuracy is 1" \
    "$PY" -c 'import csv, sys; r = list(csv.DictReader(open(sys.argv[1]))); sys.exit(float(r[-1]["accuracy"]) != 1.0)' \
    "$W/xent/metrics.csv"
check "xent: labels are class indices" \
    "$PY" -c 'import numpy as np, sys; y = np.load(sys.argv[1]); sys.exit(not (y.shape == (200, 1) and set(np.unique(y)) <= {0.0, 1.0, 2.0}))' \
    "$W/xent/y.npy"
check "xent: config.ini records it" grep -qx 'loss = xent' "$W/xent/config.ini"
run train --loss xent --steps 5 --quiet --out "$W/xent1"
expect_rc 2
check "xent on one output: names the width" has "$W/err" "output width is 1"
run train --loss xent --widths 2,4,3 --label-noise 0.1 --steps 5 --quiet --out "$W/xentn"
expect_rc 2
check "xent with label noise: refused" has "$W/err" "--label-noise"
run train --loss hinge --quiet --out "$W/hinge"
expect_rc 2
check "unknown loss: lists the choices" has "$W/err" "expected one of mse, xent"

# ---- --x / --y: given inputs and targets ----

# The data set a run wrote, given back: the same run, byte for byte; with
# --x alone the teacher labels the inputs, which gives the same targets.
run train --steps 200 --save-data --quiet --no-plot --out "$W/xy0"
expect_rc 0
run train --steps 200 --x "$W/xy0/x.npy" --y "$W/xy0/y.npy" --quiet --no-plot --out "$W/xy1"
expect_rc 0
check "--x --y: metrics equal the drawn run's" cmp -s "$W/xy0/metrics.csv" "$W/xy1/metrics.csv"
check "--x --y: config.ini records the files" grep -qx "x = $W/xy0/x.npy" "$W/xy1/config.ini"
run train --steps 200 --x "$W/xy0/x.npy" --quiet --no-plot --out "$W/xy2"
expect_rc 0
check "--x alone: the teacher labels the inputs" cmp -s "$W/xy0/metrics.csv" "$W/xy2/metrics.csv"
run train --config "$W/xy1/config.ini" --quiet --no-plot --out "$W/xy3"
expect_rc 0
check "--x --y: config.ini re-runs it" cmp -s "$W/xy1/metrics.csv" "$W/xy3/metrics.csv"
"$PY" - "$W" <<'PYEOF'
import sys
import numpy as np
w = sys.argv[1]
x = np.load(f"{w}/xy0/x.npy")
y = np.load(f"{w}/xy0/y.npy")
np.save(f"{w}/x2.npy", np.hstack([x, x]))
xn = x.copy()
xn[5, 0] = np.nan
np.save(f"{w}/xnan.npy", xn)
np.save(f"{w}/yshort.npy", y[:10])
np.save(f"{w}/lab3.npy", np.array([0, 1, 3] * 333 + [0], dtype=np.int64))
np.save(f"{w}/labhalf.npy", np.full(1000, 0.5))
np.save(f"{w}/lab.npy", np.arange(1000, dtype=np.int32) % 3)
PYEOF
run train --steps 5 --y "$W/xy0/y.npy" --quiet --out "$W/xye1"
expect_rc 2
check "--y without --x: refused" has "$W/err" "needs --x"
run train --steps 5 --x "$W/x2.npy" --quiet --out "$W/xye2"
expect_rc 2
check "--x with 2 columns for a 1-wide input: names both" has "$W/err" "2 columns, but the input width (--widths) is 1"
run train --steps 5 --x "$W/xy0/x.npy" --online --quiet --out "$W/xye3"
expect_rc 2
check "--x with --online: refused" has "$W/err" "--online"
run train --steps 5 --x "$W/xy0/x.npy" --y "$W/yshort.npy" --quiet --out "$W/xye4"
expect_rc 1
check "--y with 10 rows for 1000 inputs: names the shapes" has "$W/err" "shape [10, 1]; expected [1000, 1]"
run train --steps 5 --x "$W/xnan.npy" --quiet --out "$W/xye5"
expect_rc 1
check "NaN in --x: names the row" has "$W/err" "row 5, column 0 (counting from 0, after any header) is nan"
run train --steps 5 --x "$W/xy0/x.npy" --y "$W/lab3.npy" --loss xent --widths 1,8,3 --quiet \
    --out "$W/xye6"
expect_rc 1
check "class 3 of 3: names the row and the range" has "$W/err" "row 2 is 3; expected a class index, an integer from 0 to 2"
run train --steps 5 --x "$W/xy0/x.npy" --y "$W/labhalf.npy" --loss xent --widths 1,8,3 --quiet \
    --out "$W/xye7"
expect_rc 1
check "class 0.5: refused" has "$W/err" "row 0 is 0.5"
run train --steps 50 --x "$W/xy0/x.npy" --y "$W/lab.npy" --loss xent --widths 1,8,3 --quiet \
    --no-plot --out "$W/xy8"
expect_rc 0
check "int32 class labels train" has "$W/xy8/metrics.csv" "step,xent,accuracy"
run train --steps 5 --x "$W/missing.npy" --quiet --out "$W/xye9"
expect_rc 1
check "missing --x file: named" has "$W/err" "missing.npy"

# ---- --teacher / --student-init: given weights ----
SEQ=$(dirname "$0")/../data/safetensors/sequential.safetensors

run train --steps 200 --teacher "$W/xy0/teacher.safetensors" \
    --student-init "$W/xy0/student_init.safetensors" --quiet --no-plot --out "$W/ts1"
expect_rc 0
check "--teacher --student-init: metrics equal the drawn run's" \
    cmp -s "$W/xy0/metrics.csv" "$W/ts1/metrics.csv"
run train --steps 200 --teacher "$W/xy0/teacher.safetensors" --quiet --no-plot --out "$W/ts2"
expect_rc 0
check "--teacher alone: the student re-draws the same layer from the seed" \
    cmp -s "$W/xy0/metrics.csv" "$W/ts2/metrics.csv"
run train --steps 5 --widths 1,8,1 --teacher "$W/xy0/teacher.safetensors" --quiet --out "$W/tse1"
expect_rc 1
check "--teacher of other widths: names both" has "$W/err" "a network of widths 1,20,20,1; the run's --widths is 1,8,1"
run train --steps 5 --activation tanh --student-init "$W/xy0/student_init.safetensors" --quiet \
    --out "$W/tse2"
expect_rc 1
check "--student-init with another activation: refused" has "$W/err" "activation 'relu'"
# A model file with a NaN (or an inf) among its weights is refused where it is
# read, naming the tensor and the entry, by every command that reads one.
python3 - "$W/xy0/teacher.safetensors" "$W" <<'PYEOF'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
for bad, name in ((float("nan"), "nan"), (float("inf"), "inf")):
    d = bytearray(b)
    struct.pack_into("<f", d, 8 + n + h["layers.1.weight"]["data_offsets"][0] + 4 * 27, bad)
    open(f"{sys.argv[2]}/{name}.safetensors", "wb").write(bytes(d))
PYEOF
for bad in nan inf; do
    run train --steps 5 --teacher "$W/$bad.safetensors" --quiet --no-plot --out "$W/tsn$bad"
    expect_rc 1
    check "a teacher with one $bad weight: refused, naming tensor and entry" has "$W/err" \
        "tensor 'layers.1.weight' (w2): entry 27 ([1, 7]) is $bad"
done
run eval --model "$W/nan.safetensors" --x "$W/xy0/x.npy" --y "$W/xy0/y.npy"
expect_rc 1
run finetune --model "$W/nan.safetensors" --x "$W/xy0/x.npy" --y "$W/xy0/y.npy" --steps 5 --quiet \
    --no-plot --out "$W/fnan"
expect_rc 1
check "finetune from a model with a nan weight: refused" has "$W/err" "is nan; a model's weights must be finite"
# torch.nn.Sequential(Linear(3,5), ReLU(), Linear(5,2)) written by PyTorch's key names
run train --steps 20 --widths 3,5,2 --teacher "$SEQ" --reinit none --quiet --no-plot --out "$W/ts3"
expect_rc 0
check "an nn.Sequential file as the teacher: the student starts on it (mse 0)" \
    grep -q '^0,0,' "$W/ts3/metrics.csv"
run train --steps 5 --teacher "$W/missing.safetensors" --quiet --out "$W/tse3"
expect_rc 1
check "missing --teacher file: named" has "$W/err" "missing.safetensors"

# ---- pretrain, finetune, eval: your own data ----

"$PY" - "$W" <<'PYEOF'
import sys
import numpy as np
w = sys.argv[1]
rng = np.random.default_rng(0)
x = rng.normal(size=(300, 4)).astype(np.float32)
y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + 2 * (x[:, 2] > 0)
np.save(f"{w}/A_x.npy", x)
np.save(f"{w}/A_y.npy", y)
np.save(f"{w}/B_x.npy", np.ascontiguousarray(x[:, [1, 0, 3, 2]]))
np.save(f"{w}/x3.npy", x[:, :3].copy())
np.save(f"{w}/y3.npy", x[:, :2] @ np.array([[1.0, -1.0], [0.5, 2.0]], dtype=np.float32))
PYEOF
run pretrain --x "$W/A_x.npy" --y "$W/A_y.npy" --widths 4,16,16,4 --loss xent --steps 800 \
    --quiet --no-plot --out "$W/pre"
expect_rc 0
check "pretrain: a separable set reaches 100% accuracy" grep -qE '^final: xent .* accuracy 1.0000' "$W/out"
check "pretrain: the model file" nonempty "$W/pre/student.safetensors"
check "pretrain: no teacher file" [ ! -e "$W/pre/teacher.safetensors" ]
check "pretrain: summary says task data" json_field "$W/pre/summary.json" task data
check "pretrain: no d_teacher columns" not_has_d_teacher "$W/pre/metrics.csv"
run finetune --model "$W/pre/student.safetensors" --x "$W/B_x.npy" --y "$W/A_y.npy" \
    --eval-x "$W/A_x.npy" --eval-y "$W/A_y.npy" --loss xent --lambda 1e-2 --prox --steps 300 \
    --quiet --no-plot --out "$W/fine"
expect_rc 0
check "finetune: widths read off the model" grep -qx 'widths = 4,16,16,4' "$W/fine/config.ini"
check "finetune: eval columns" has "$W/fine/metrics.csv" "loss,eval_xent,eval_accuracy,d_init_w1"
run eval --model "$W/pre/student.safetensors" --x "$W/A_x.npy" --y "$W/A_y.npy" --loss xent
expect_rc 0
cp "$W/out" "$W/eval_pre"
run eval --model "$W/fine/student.safetensors" --x "$W/A_x.npy" --y "$W/A_y.npy" --loss xent
expect_rc 0
cp "$W/out" "$W/eval_fine"
check "finetune's eval before/after = eval of the two models; shares sum to 1" "$PY" - "$W" <<'PYEOF'
import json, sys
w = sys.argv[1]
s = json.load(open(f"{w}/fine/summary.json"))
def parse(path):
    f = open(path).read().split()
    return float(f[f.index("xent") + 1]), float(f[f.index("accuracy") + 1])
pre, fine = parse(f"{w}/eval_pre"), parse(f"{w}/eval_fine")
ev = s["eval"]
ok = abs(ev["before"]["xent"] - pre[0]) <= 1e-6 * max(1, pre[0])
ok &= abs(ev["after"]["xent"] - fine[0]) <= 1e-6 * max(1, fine[0])
ok &= abs(ev["before"]["accuracy"] - pre[1]) < 1e-6 and abs(ev["after"]["accuracy"] - fine[1]) < 1e-6
ok &= abs(ev["forgetting"] - (ev["after"]["xent"] - ev["before"]["xent"])) < 1e-12
ok &= abs(sum(s["update_share"].values()) - 1) < 1e-9
ok &= "truth" not in s["verdict"] and "correct" not in s["verdict"]
sys.exit(0 if ok else 1)
PYEOF
# A torch.nn.Sequential(Linear(3,5), ReLU(), Linear(5,2)) file, as PyTorch names it.
run finetune --model "$SEQ" --x "$W/x3.npy" --y "$W/y3.npy" --steps 50 --quiet --no-plot \
    --out "$W/fseq"
expect_rc 0
check "finetune an nn.Sequential file: widths 3,5,2" grep -qx 'widths = 3,5,2' "$W/fseq/config.ini"
for r in 2 5; do
    run finetune --model "$SEQ" --x "$W/x3.npy" --y "$W/y3.npy" --reinit $r --steps 5 --quiet \
        --no-plot --out "$W/frei$r"
    expect_rc 2
    check "finetune --reinit $r: refused, not dropped" has "$W/err" "--reinit $r: a data run"
done
run finetune --x "$W/B_x.npy" --y "$W/A_y.npy" --quiet --out "$W/fe1"
expect_rc 2
check "finetune without --model: refused" has "$W/err" "--model: required"
run pretrain --x "$W/A_x.npy" --widths 4,8,4 --quiet --out "$W/fe2"
expect_rc 2
check "pretrain without --y: refused" has "$W/err" "needs --x and --y"
run finetune --model "$W/pre/student.safetensors" --x "$W/x3.npy" --y "$W/A_y.npy" --loss xent \
    --quiet --out "$W/fe3"
expect_rc 2
check "finetune on data of another width: names both" has "$W/err" "3 columns, but the input width (--widths) is 4"
run eval --model "$W/pre/student.safetensors" --x "$W/A_x.npy"
expect_rc 2
check "eval without --y: refused" has "$W/err" "are required"
run eval --model "$W/pre/student.safetensors" --x "$W/x3.npy" --y "$W/A_y.npy" --loss xent
expect_rc 1
check "eval on inputs of another width: names the shape" has "$W/err" "expected [N, 4]"

# ---- CSV data: --x data.csv --y-col ----

"$PY" - "$W" <<'PYEOF'
import sys
import numpy as np
w = sys.argv[1]
x, y = np.load(f"{w}/A_x.npy"), np.load(f"{w}/A_y.npy")
rows = [",".join(repr(float(v)) for v in r) for r in x]
with open(f"{w}/A.csv", "w") as f:
    f.write("p0,p1,p2,p3,label\n")
    f.writelines(f"{r},{l}\n" for r, l in zip(rows, y))
with open(f"{w}/Anh.csv", "w") as f:          # no header, the label first
    f.writelines(f"{l},{r}\n" for r, l in zip(rows, y))
with open(f"{w}/text.csv", "w") as f:
    f.write("p0,p1,p2,p3,label\n1,2,3,4,0\n1,2,three,4,1\n")
with open(f"{w}/ragged.csv", "w") as f:
    f.write("p0,p1,p2,p3,label\n1,2,3,4,0\n1,2,3,1\n")
with open(f"{w}/wide_row.csv", "w") as f:     # one field too many (a trailing comma)
    f.write("p0,p1,p2,p3,label\n1,2,3,4,0\n1,2,3,4,1,\n")
PYEOF
run pretrain --x "$W/A.csv" --y-col label --widths 4,16,16,4 --loss xent --steps 300 --quiet \
    --no-plot --out "$W/csv1"
expect_rc 0
run pretrain --x "$W/A_x.npy" --y "$W/A_y.npy" --widths 4,16,16,4 --loss xent --steps 300 \
    --quiet --no-plot --out "$W/csv2"
expect_rc 0
check "CSV with a header = the same data as .npy, byte for byte" \
    cmp -s "$W/csv1/metrics.csv" "$W/csv2/metrics.csv"
run pretrain --x "$W/Anh.csv" --y-col 0 --widths 4,16,16,4 --loss xent --steps 300 --quiet \
    --no-plot --out "$W/csv3"
expect_rc 0
check "CSV without a header, target column by index" cmp -s "$W/csv1/metrics.csv" "$W/csv3/metrics.csv"
run eval --model "$W/csv1/student.safetensors" --x "$W/A.csv" --y-col label --loss xent
expect_rc 0
check "eval reads CSV too" grep -q 'samples 300  xent' "$W/out"
run pretrain --x "$W/text.csv" --y-col label --widths 4,8,4 --loss xent --steps 5 --quiet \
    --out "$W/csve1"
expect_rc 1
check "a word in a CSV: names line, column and cell" has "$W/err" "line 3, column 3: 'three' is not a number"
run pretrain --x "$W/ragged.csv" --y-col label --widths 4,8,4 --loss xent --steps 5 --quiet \
    --out "$W/csve2"
expect_rc 1
check "a ragged CSV row: names the line" has "$W/err" "ragged.csv:3: expected 5 fields, got 4"
run pretrain --x "$W/wide_row.csv" --y-col label --widths 4,8,4 --loss xent --steps 5 --quiet \
    --out "$W/csve2b"
expect_rc 1
check "a CSV row with a field too many: names the line" has "$W/err" \
    "wide_row.csv:3: expected 5 fields, got 6"
# A class label that float32 rounds to an integer (0.99999999 -> 1) is not
# one: refused in a float64 .npy, a CSV --y and a CSV --y-col column alike.
python3 - "$W" <<'PYEOF'
import struct, sys
w = sys.argv[1]
labels = [float(i % 4) for i in range(300)]
labels[7] = 0.99999999
h = "{'descr': '<f8', 'fortran_order': False, 'shape': (300,), }"
h += " " * (118 - len(h)) + "\n"
open(f"{w}/near.npy", "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode()
                                  + struct.pack("<300d", *labels))
open(f"{w}/near.csv", "w").write("".join(f"{v!r}\n" for v in labels))
rows = open(f"{w}/A.csv").read().splitlines()
rows[8] = rows[8].rsplit(",", 1)[0] + ",0.99999999"
open(f"{w}/nearcol.csv", "w").write("\n".join(rows) + "\n")
PYEOF
for y in near.npy near.csv; do
    run pretrain --x "$W/A_x.npy" --y "$W/$y" --widths 4,8,4 --loss xent --steps 5 --quiet \
        --out "$W/near_$y"
    expect_rc 1
    check "xent label 0.99999999 in $y: refused, naming the row" has "$W/err" \
        "row 7 is 0.99999999; expected a class index"
done
run pretrain --x "$W/nearcol.csv" --y-col label --widths 4,8,4 --loss xent --steps 5 --quiet \
    --out "$W/near_col"
expect_rc 1
check "xent label 0.99999999 in a --y-col column: refused" has "$W/err" \
    "row 7 is 0.99999999; expected a class index"
run pretrain --x "$W/A.csv" --y-col lab --widths 4,8,4 --loss xent --steps 5 --quiet --out "$W/csve3"
expect_rc 2
check "--y-col naming no column: lists the range" has "$W/err" "has 5 columns; expected a column index from 0 to 4 or a name"
run pretrain --x "$W/A_x.npy" --y-col 1 --widths 4,8,4 --steps 5 --quiet --out "$W/csve4"
expect_rc 2
check "--y-col on a .npy: refused" has "$W/err" "is not a .csv file"

# ---- --val-fraction: held-out rows ----

run pretrain --x "$W/A.csv" --y-col label --widths 4,16,16,4 --loss xent --steps 300 \
    --val-fraction 0.2 --quiet --no-plot --out "$W/val1"
expect_rc 0
check "val: 60 of 300 rows held out, 240 trained on" grep -qx 'data-size = 240' "$W/val1/config.ini"
check "val: columns" has "$W/val1/metrics.csv" "loss,val_xent,val_accuracy,d_init_w1"
check "val: stdout line" grep -qE '^validation \(60 rows held out\): xent' "$W/out"
check "val: summary.json" "$PY" -c 'import json, sys; v = json.load(open(sys.argv[1]))["validation"]; sys.exit(not (v["rows"] == 60 and 0 <= v["accuracy"] <= 1 and v["xent_best"] <= v["xent"]))' "$W/val1/summary.json"
run train --config "$W/val1/config.ini" --quiet --no-plot --out "$W/val2"
expect_rc 0
check "val: config.ini re-runs the same split" cmp -s "$W/val1/metrics.csv" "$W/val2/metrics.csv"
run pretrain --x "$W/A.csv" --y-col label --widths 4,8,4 --loss xent --steps 5 --val-fraction 1 \
    --quiet --out "$W/vale1"
expect_rc 2
check "--val-fraction 1: refused" has "$W/err" "expected a number in [0, 1)"
run pretrain --x "$W/A.csv" --y-col label --widths 4,8,4 --loss xent --steps 5 \
    --val-fraction 0.001 --quiet --out "$W/vale2"
expect_rc 2
check "--val-fraction holding out no row: says so" has "$W/err" "of 300 rows that holds out 0"
run train --val-fraction 0.1 --steps 5 --quiet --out "$W/vale3"
expect_rc 2
check "--val-fraction without --x: refused" has "$W/err" "splits the rows of --x"

# ---- --standardize: statistics travel with the model ----

"$PY" - "$W" <<'PYEOF'
import sys
import numpy as np
w = sys.argv[1]
x = np.load(f"{w}/A_x.npy") * np.array([100, 0.01, 5, 1], np.float32) + np.array([50, 0, -3, 0], np.float32)
np.save(f"{w}/S_x.npy", x.astype(np.float32))
PYEOF
run pretrain --x "$W/S_x.npy" --y "$W/A_y.npy" --widths 4,16,16,4 --loss xent --steps 300 \
    --standardize --quiet --no-plot --out "$W/std1"
expect_rc 0
check "standardize: the model carries the statistics" "$PY" - "$W/std1/student.safetensors" <<'PYEOF'
import json, struct, sys
import numpy as np
raw = open(sys.argv[1], "rb").read()
meta = json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])["__metadata__"]
x = np.load(sys.argv[1].rsplit("/", 2)[0] + "/S_x.npy").astype(np.float64)
m = np.array([float(v) for v in meta["input_mean"].split(",")])
s = np.array([float(v) for v in meta["input_std"].split(",")])
sys.exit(0 if np.allclose(m, x.mean(0), rtol=1e-6, atol=1e-6) and np.allclose(s, x.std(0), rtol=1e-6) else 1)
PYEOF
run eval --model "$W/std1/student.safetensors" --x "$W/S_x.npy" --y "$W/A_y.npy" --loss xent
expect_rc 0
check "standardize: eval applies the model's statistics (its accuracy is the run's)" \
    "$PY" -c 'import json, sys; a = float(open(sys.argv[1]).read().split()[-1]); s = json.load(open(sys.argv[2])); r = open(sys.argv[3]).read().splitlines()[-1].split(","); sys.exit(abs(a - float(r[2])) > 1e-9)' \
    "$W/out" "$W/std1/summary.json" "$W/std1/metrics.csv"
run finetune --model "$W/std1/student.safetensors" --x "$W/S_x.npy" --y "$W/A_y.npy" --loss xent \
    --steps 0 --quiet --no-plot --out "$W/std2"
expect_rc 0
check "standardize: finetune applies them too (step 0 = the pretrained model's last pass)" \
    "$PY" -c 'import sys; a = open(sys.argv[1]).read().splitlines()[-1].split(","); b = open(sys.argv[2]).read().splitlines()[1].split(","); sys.exit(a[1] != b[1])' \
    "$W/std1/metrics.csv" "$W/std2/metrics.csv"
run train --standardize --steps 5 --quiet --out "$W/stde1"
expect_rc 2
check "standardize in a teacher-student run: refused" has "$W/err" "only for a data run"

# ---- regressions: inputs inside --out, diverged runs, noise, mixed files ----

run pretrain --x "$W/A_x.npy" --y "$W/A_y.npy" --loss xent --widths 4,8,4 --steps 5 --quiet \
    --no-plot --out "$W/inout"
expect_rc 0
run finetune --model "$W/inout/student.safetensors" --x "$W/A_x.npy" --y "$W/A_y.npy" --loss xent \
    --steps 5 --quiet --no-plot --force --out "$W/inout"
expect_rc 0
check "finetune --force into the model's own directory: the model is read first" \
    nonempty "$W/inout/student.safetensors"
run pretrain --x "$W/A_x.npy" --y "$W/A_y.npy" --loss xent --widths 4,8,4 --lr 1e36 --steps 50 \
    --eval-x "$W/A_x.npy" --eval-y "$W/A_y.npy" --quiet --out "$W/divev"
expect_rc 1
run plot "$W/divev"
expect_rc 0
check "a diverged run with an evaluation set keeps its columns (plot reads it)" nonempty "$W/divev/figure.png"
run train --widths 1,8,1 --label-noise 0.5 --steps 20 --data-size 50 --quiet --no-plot --out "$W/noise1"
run train --widths 1,8,1 --label-noise 0.5 --steps 20 --data-size 50 --eval-x "$W/xy0/x.npy" \
    --quiet --no-plot --out "$W/noise2"
expect_rc 0
check "--eval-x leaves a noisy run's training as it is" \
    "$PY" -c 'import csv, sys; a = [r["mse"] for r in csv.DictReader(open(sys.argv[1]))]; b = [r["mse"] for r in csv.DictReader(open(sys.argv[2]))]; sys.exit(a != b)' \
    "$W/noise1/metrics.csv" "$W/noise2/metrics.csv"
run pretrain --x "$W/A.csv" --y-col label --eval-x "$W/A_x.npy" --eval-y "$W/A_y.npy" --loss xent \
    --widths 4,8,4 --steps 5 --quiet --no-plot --out "$W/mixed"
expect_rc 0
check "a CSV --x with --y-col beside a .npy evaluation set" has "$W/mixed/metrics.csv" "eval_xent"
printf '1,2,,4,0\n1,2,3,4,1\n' > "$W/blank1.csv"
run pretrain --x "$W/blank1.csv" --y-col 4 --loss xent --widths 4,8,4 --steps 5 --quiet --out "$W/blank"
expect_rc 1
check "a headerless CSV with an empty cell in line 1: an error, not a header" has "$W/err" "line 1, column 3"

# ---- continual: forgetting A while learning B ----

run continual --lambdas 1e-3,1e-2 --steps 400 --log-every 50 --quiet --out "$W/cont"
expect_rc 0
check "continual: plain + 3 methods x 2 lambdas in the CSV" \
    "$PY" -c 'import csv, sys; r = list(csv.DictReader(open(sys.argv[1]))); m = [x["method"] for x in r]; sys.exit(not (m == ["plain", "l1", "l1-prox", "l2-sp", "l1", "l1-prox", "l2-sp"] and all(float(x["forgetting_a"]) >= 0 and float(x["loss_b"]) >= 0 for x in r)))' \
    "$W/cont/continual.csv"
check "continual: the figure" nonempty "$W/cont/continual.png"
check "continual: A's evaluation set is A's own outputs (plain starts at 0 on A)" \
    "$PY" -c 'import csv, sys; r = next(csv.DictReader(open(sys.argv[1]))); sys.exit(float(r["eval_mse"]) != 0.0)' \
    "$W/cont/runs/plain-0/metrics.csv"
check "continual: the l1 prox run at 1e-2 changes w2 only" \
    grep -q '^l1-prox,0.01,.*,"w2",ok$' "$W/cont/continual.csv"
run continual --lambdas 1e-3,x --quiet --out "$W/conte1"
expect_rc 2
check "continual --lambdas with a word: refused" has "$W/err" "--lambdas '1e-3,x'"
run continual --a-range 2,1 --quiet --out "$W/conte2"
expect_rc 2
check "continual --a-range backwards: refused" has "$W/err" "--a-range '2,1'"
run continual --loss xent --widths 1,8,3 --quiet --out "$W/conte3"
expect_rc 2
check "continual --loss xent: refused" has "$W/err" "mse"

# ---- --spectrum-every 0: no SVDs ----

run train --spectrum-every 0 --steps 20 --quiet --no-plot --out "$W/nospec"
expect_rc 0
check "--spectrum-every 0: nan in every spectrum column, null in summary.json" \
    "$PY" -c 'import csv, json, sys; r = list(csv.DictReader(open(sys.argv[1]))); s = json.load(open(sys.argv[2])); sys.exit(not (all(x["rank_w2"] == "nan" for x in r) and s["rank"]["w2"] is None and s["nuclear_norm"]["w2"] is None))' \
    "$W/nospec/metrics.csv" "$W/nospec/summary.json"

# ---- limits: too large for memory, refused before allocating ----

mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
if [ "${mem_kb:-0}" -lt 200000000 ]; then
    run train --widths 60000,60000,60000,60000,1 --steps 1 --no-plot --out "$W/huge"
    expect_rc 1
    check "a network too large for memory: refused up front with its size" \
        grep -q "the run (10800240001 parameters, 6 copies of them, .*) needs 334.18 GB, more than the .* GB of memory" "$W/err"
    check "... and nothing written" [ ! -e "$W/huge/metrics.csv" ]
fi
# ulimit -v lowers the memory a process may use (not under ASan, whose
# shadow memory needs a large address space).
if ! ldd "$BIN" 2>/dev/null | grep -q libasan; then
    "$PY" - "$W/big.npy" <<'PY'
import struct, sys
head = "{'descr': '<f4', 'fortran_order': False, 'shape': (40000, 20000), }"
head += " " * (63 - (10 + len(head)) % 64) + "\n"
with open(sys.argv[1], "wb") as f:  # 3.2 GB, sparse: no disk used
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head.encode())
    f.truncate(f.tell() + 40000 * 20000 * 4)
PY
    (ulimit -v 2000000; "$BIN" train --x "$W/big.npy" --widths 20000,1 --steps 1 --no-plot --out "$W/bignpy" >"$W/out" 2>"$W/err")
    rc=$?; LAST="(ulimit -v 2000000) train --x big.npy"
    expect_rc 1
    check "a .npy larger than ulimit -v: refused with its shape and size" \
        grep -q "big.npy (shape (40000, 20000), read as float32) needs 3.20 GB, more than the 2.05 GB" "$W/err"
    (ulimit -v 2000000; "$BIN" train --widths 1,8000,8000,1 --steps 1 --no-plot --out "$W/bignet" >"$W/out" 2>"$W/err")
    rc=$?; LAST="(ulimit -v 2000000) train --widths 1,8000,8000,1"
    expect_rc 1
    check "a network larger than ulimit -v: refused" grep -q "(64032001 parameters, 6 copies of them, 1000 samples of 2 values) needs 3.20 GB" "$W/err"
    (ulimit -v 2000000; "$BIN" train --steps 5 --no-plot --quiet --out "$W/fits" >"$W/out" 2>"$W/err")
    rc=$?; LAST="(ulimit -v 2000000) train --steps 5"
    expect_rc 0
fi

# ---- values too large for float32 are named, not blamed on the lr ----
run train --teacher-delta rank:1 --teacher-delta-scale 1e300 --steps 5 --quiet --no-plot \
    --out "$W/big1"
expect_rc 2
check "--teacher-delta-scale 1e300: refused, naming the option" has "$W/err" \
    "--teacher-delta-scale 1e+300: the teacher's w2 is not finite"
run train --label-noise 1e300 --steps 5 --quiet --no-plot --out "$W/big2"
expect_rc 2
check "--label-noise 1e300: refused, naming the option" has "$W/err" "--label-noise 1e+300: the label"
run train --data-range -1e300,1e300 --steps 5 --quiet --no-plot --out "$W/big3"
expect_rc 2
check "--data-range -1e300,1e300: refused, the bounds in float32 named" has "$W/err" \
    "LO and HI are -inf and inf in float32"
run train --data-range 1,1.00000001 --steps 5 --quiet --no-plot --out "$W/big3b"
expect_rc 2
check "--data-range bounds float32 cannot tell apart: refused" has "$W/err" \
    "LO and HI are 1 and 1 in float32"
for lr in -1 0 nan; do
    run train --lr $lr --steps 5 --quiet --no-plot --out "$W/lr$lr"
    expect_rc 2
    check "--lr $lr: one message for every non-positive value" has "$W/err" \
        "--lr '$lr': expected a positive finite number"
done
python3 - "$W/hugex.npy" <<'PYEOF'
import struct, sys
h = "{'descr': '<f4', 'fortran_order': False, 'shape': (50, 1), }"
h += " " * (118 - len(h)) + "\n"
open(sys.argv[1], "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode()
                              + struct.pack("<50f", *[1e36] * 50))
PYEOF
run train --x "$W/hugex.npy" --steps 5 --quiet --no-plot --out "$W/big3c"
expect_rc 1
check "--x of 1e36: a loss infinite before any step names the data" has "$W/err" \
    "the loss at the start, before any step, is infinite: the data (--x"
run train --data-range -1e30,1e30 --steps 5 --quiet --no-plot --out "$W/big4"
expect_rc 1
check "an infinite loss before any step: the data named, not the lr" sh -c \
    "grep -q 'the loss at the start, before any step, is infinite' '$W/err' && ! grep -q 'smaller --lr' '$W/err'"

# ---- a directory that holds other files and no run is not taken over ----
mkdir -p "$W/foreign" && echo keep >"$W/foreign/notes.txt"
run train --steps 5 --quiet --no-plot --out "$W/foreign"
expect_rc 2
check "--out a non-empty directory without a run: refused, naming a file in it" sh -c \
    "grep -q \"holds other files ('notes.txt') and no run\" '$W/err' && [ ! -e '$W/foreign/metrics.csv' ]"
run train --steps 5 --quiet --no-plot --force --out "$W/foreign"
expect_rc 0
check "... --force writes the run beside them, and keeps them" sh -c \
    "[ -e '$W/foreign/metrics.csv' ] && grep -q keep '$W/foreign/notes.txt'"

# ---- eval with whole-number 1-D targets under mse suggests --loss xent ----
python3 - "$W/int_labels.npy" <<'PYEOF'
import struct, sys
h = "{'descr': '<i8', 'fortran_order': False, 'shape': (60,), }"
h += " " * (118 - len(h)) + "\n"
open(sys.argv[1], "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode()
                              + struct.pack("<60q", *[i % 2 for i in range(60)]))
PYEOF
run eval --model "$SEQ" --x "$W/x3.npy" --y "$W/int_labels.npy"
expect_rc 1
check "eval: 1-D whole-number targets under mse suggest --loss xent" has "$W/err" \
    "like class indices: for a classifier add --loss xent"

# ---- done ----

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

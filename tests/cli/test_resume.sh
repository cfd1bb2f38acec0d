#!/usr/bin/env bash
# test_resume.sh BIN WORKDIR: checkpoints and --resume end to end. SIGINT and
# SIGTERM stop a run with a checkpoint (exit 130, 143) and a resumed run ends
# byte-identical to an uninterrupted one; the kill test SIGKILLs runs at
# random moments, again and again, and resumes each to the same bytes; a
# stopped sweep resumes to the same rows; bad resumes are refused with
# messages that name what is wrong.
set -u
BIN=$1
W=$2
. "$(dirname "$0")/common.sh"
RANDOM=8 # the kill moments differ from kill to kill, and are the same on every test run

same() { cmp -s "$1/metrics.csv" "$2/metrics.csv" && cmp -s "$1/student.safetensors" "$2/student.safetensors"; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }

# Three configurations, each touching a different part of the saved state:
# minibatches (the order generator), online data (the data generator) with
# label noise and named evaluation sets, and the proximal step with a frozen tensor under the layer
# penalty and the fisher reduction (its prices measured again on resume, from
# the checkpoint's theta0). test_golden.sh resumes an l1 --prox run.
# the configuration 1 also carries three evaluation sets (the unnamed one and
# two named: the checkpoint keeps the named ones' start values apart).
"$BIN" train --steps 0 --data-size 50 --save-data --quiet --no-plot --out "$W/evaldata" >/dev/null
EV="--eval-x $W/evaldata/x.npy --eval near=$W/evaldata/x.npy --eval far=$W/evaldata/x.npy"
CONFIGS=(
    "--lambda 1e-3 --batch 100 --steps 30000"
    "--lambda 1e-3 --online --data-size 200 --label-noise 0.01 --steps 20000 $EV"
    "--penalty layer --penalty-reduction fisher --lambda 1e-4 --prox --freeze b3 --log-every 7 --steps 30000"
)

kills=0
for c in 0 1 2; do
    cfg=${CONFIGS[$c]}
    t0=$(now)
    "$BIN" train $cfg --quiet --no-plot --out "$W/ref$c" >/dev/null
    took=$(calc "$(now) - $t0")

    # SIGINT, then SIGTERM, at a moment inside the run.
    for sig in INT TERM; do
        d="$W/sig$c$sig"
        "$BIN" train $cfg --quiet --no-plot --out "$d" >"$W/out" 2>"$W/err" &
        pid=$!
        sleep "$(calc "$took * 0.4")"
        kill -$sig $pid
        wait $pid
        rc=$?
        want=$([ $sig = INT ] && echo 130 || echo 143)
        if [ -e "$d/summary.json" ]; then
            echo "note: config $c finished before SIG$sig"
        else
            check "config $c: SIG$sig exits $want (got $rc)" [ "$rc" = "$want" ]
            check "config $c: SIG$sig says how to resume" grep -q "stopped by SIG$sig at step .* resume with: sparsetune train --resume $d" "$W/err"
            check "config $c: SIG$sig leaves a checkpoint" [ -s "$d/checkpoint.bin" ]
            "$BIN" train --resume "$d" --quiet --no-plot >"$W/out" 2>"$W/err"
            check "config $c: resume after SIG$sig exits 0" [ $? = 0 ]
        fi
        check "config $c: after SIG$sig and resume, metrics.csv and student.safetensors equal the uninterrupted run's" same "$W/ref$c" "$d"
        check "config $c: no checkpoint left once finished" [ ! -e "$d/checkpoint.bin" ]
    done

    # The kill test: SIGKILL at random moments until the run finishes; each
    # attempt resumes from the last checkpoint (or starts over if none was
    # written yet).
    d="$W/kill$c"
    attempt=0
    while [ ! -e "$d/summary.json" ] && [ $attempt -lt 40 ]; do
        if [ -e "$d/checkpoint.bin" ]; then
            "$BIN" train --resume "$d" --checkpoint-every 1000 --quiet --no-plot >/dev/null 2>&1 &
        else
            "$BIN" train $cfg --checkpoint-every 1000 --force --quiet --no-plot --out "$d" >/dev/null 2>&1 &
        fi
        pid=$!
        # 5% to 35% of an uninterrupted run's time: several kills per run;
        # 3% more each attempt, so that a loaded machine still gets through.
        sleep "$(calc "$took * (5 + $RANDOM % 30 + 3 * $attempt) / 100")"
        if kill -KILL $pid 2>/dev/null; then kills=$((kills + 1)); fi
        wait $pid 2>/dev/null
        attempt=$((attempt + 1))
    done
    check "config $c: the killed run finished within 40 attempts" [ -e "$d/summary.json" ]
    check "config $c: after SIGKILLs and resumes, metrics.csv and student.safetensors equal the uninterrupted run's" same "$W/ref$c" "$d"
done
check "the kill test killed runs at least 6 times (got $kills)" [ $kills -ge 6 ]
echo "kill test: $kills SIGKILLs over 3 configurations"

# Refusals.
cfg="--lambda 1e-3 --steps 30000"
"$BIN" train $cfg --quiet --no-plot --out "$W/r" >/dev/null 2>&1 &
pid=$!
sleep 0.3
kill -INT $pid
wait $pid
if [ -e "$W/r/checkpoint.bin" ]; then
    "$BIN" train --resume "$W/r" --lambda 0.01 --steps 5 >"$W/out" 2>"$W/err"
    rc=$?
    check "changed options: exit 2 (got $rc)" [ $rc = 2 ]
    check "changed options are named with both values" grep -q -- "--steps 5 (the checkpoint's: 30000), --lambda 0.01 (the checkpoint's: 0.001)" "$W/err"
    check "the checkpoint keeps --checkpoint-every (none given: 0)" [ "$(tr '\0' '\n' <"$W/r/checkpoint.bin" | grep -a -A1 -x checkpoint-every | tail -n 1)" = 0 ]
    # The original options, even spelled as given (middle, a full batch of 0),
    # are the checkpoint's.
    "$BIN" train --resume "$W/r" --lambda 1e-3 --steps 30000 --reinit middle --batch 0 --checkpoint-every 500 --no-plot --quiet --threads 1 >/dev/null 2>&1 &
    pid=$!
    sleep 0.2
    kill -INT $pid
    wait $pid
    rc=$?
    check "the same options, given again, are accepted (exit 130 when stopped again, got $rc)" [ $rc = 130 ]
    check "a --checkpoint-every given with --resume is kept in the next checkpoint" [ "$(tr '\0' '\n' <"$W/r/checkpoint.bin" | grep -a -A1 -x checkpoint-every | tail -n 1)" = 500 ]
    touch "$W/r/checkpoint.bin.tmp.12345"
    "$BIN" train --out "$W/r" $cfg >"$W/out" 2>"$W/err"
    check "a new run into a stopped run's directory points to --resume" grep -q "holds an interrupted run (checkpoint.bin); continue it with --resume $W/r" "$W/err"
    "$BIN" train --resume "$W/r" --out "$W/other" >"$W/out" 2>"$W/err"
    check "--resume with another --out is refused" grep -q "a run goes on in its own directory" "$W/err"
    "$BIN" train --resume "$W/r" --force >"$W/out" 2>"$W/err"
    check "--resume with --force is refused" grep -q -- "--force and --resume" "$W/err"
    cp "$W/r/checkpoint.bin" "$W/good.bin"
    printf 'x' | dd of="$W/r/checkpoint.bin" bs=1 seek=100 conv=notrunc 2>/dev/null
    "$BIN" train --resume "$W/r" >"$W/out" 2>"$W/err"
    rc=$?
    checks "a corrupted checkpoint: exit 1 (got $rc), checksum named" '[ $rc = 1 ] && grep -q "checksum mismatch" "$W/err"'
    # A damaged option names the checksum, not the option it spoiled.
    cp "$W/good.bin" "$W/r/checkpoint.bin"
    off=$(grep -abo relu "$W/r/checkpoint.bin" | head -n 1 | cut -d: -f1)
    printf 'v' | dd of="$W/r/checkpoint.bin" bs=1 seek=$((off + 3)) conv=notrunc 2>/dev/null
    "$BIN" train --resume "$W/r" >"$W/out" 2>"$W/err"
    rc=$?
    checks "an option damaged in the checkpoint (relu -> relv): exit 1 (got $rc), checksum named" \
        '[ $rc = 1 ] && grep -q "checksum mismatch" "$W/err" && ! grep -q relv "$W/err"'
    cp "$W/good.bin" "$W/r/checkpoint.bin"
    off=$(grep -abo seed "$W/r/checkpoint.bin" | head -n 1 | cut -d: -f1)
    printf '7' | dd of="$W/r/checkpoint.bin" bs=1 seek=$((off + 5)) conv=notrunc 2>/dev/null
    "$BIN" train --resume "$W/r" --seed 0 >"$W/out" 2>"$W/err"
    rc=$?
    checks "a damaged option that conflicts with the command line: exit 1 (got $rc), checksum named" \
        '[ $rc = 1 ] && grep -q "checksum mismatch" "$W/err"'
    # A checkpoint of an earlier version (no tensor manifest) is named as such.
    python3 - "$W/good.bin" "$W/r/checkpoint.bin" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
out, at = bytearray(b[:8]), 8
while True:
    (nl,) = struct.unpack_from("<I", b, at)
    if nl == 0:
        break
    name = b[at + 4:at + 4 + nl]
    (size,) = struct.unpack_from("<Q", b, at + 4 + nl)
    end = at + 12 + nl + size
    if name != b"manifest":
        out += b[at:end]
    at = end
out += struct.pack("<I", 0)
h = 0xcbf29ce484222325
for c in out:
    h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
open(sys.argv[2], "wb").write(bytes(out) + struct.pack("<Q", h))
PY
    "$BIN" train --resume "$W/r" >"$W/out" 2>"$W/err"
    rc=$?
    checks "a checkpoint without a tensor manifest: usage error (got $rc) naming an earlier version" \
        '[ $rc = 2 ] && grep -q "written by an earlier version of sparsetune" "$W/err"'
    head -c 1000 "$W/good.bin" >"$W/r/checkpoint.bin"
    "$BIN" train --resume "$W/r" >"$W/out" 2>"$W/err"
    check "a truncated checkpoint is refused" grep -q "truncated or corrupted" "$W/err"
    cp "$W/good.bin" "$W/r/checkpoint.bin"
    head -c 100 "$W/r/metrics.csv" >"$W/short.csv" && cp "$W/short.csv" "$W/r/metrics.csv"
    "$BIN" train --resume "$W/r" >"$W/out" 2>"$W/err"
    check "metrics.csv shorter than at the checkpoint is refused" grep -q "shorter than at the checkpoint" "$W/err"
    rm "$W/r/metrics.csv"
    "$BIN" train --resume "$W/r" >"$W/out" 2>"$W/err"
    check "a missing metrics.csv is refused as missing" grep -q "metrics.csv is missing" "$W/err"
    mkdir "$W/r/metrics.csv"
    "$BIN" train --resume "$W/r" >"$W/out" 2>"$W/err"
    check "a metrics.csv that is a directory is refused as such" \
        grep -q "metrics.csv is not a regular file" "$W/err"
    rmdir "$W/r/metrics.csv"
    check "a checkpoint write cut short by a kill (its temporary file) is cleared on resume" [ ! -e "$W/r/checkpoint.bin.tmp.12345" ]
else
    echo "note: the refusal run finished before SIGINT; refusals not tested"
    fail=$((fail + 1))
fi
"$BIN" train --resume "$W/nowhere" >"$W/out" 2>"$W/err"
rc=$?
check "--resume without a checkpoint: exit 2 (got $rc)" [ $rc = 2 ]
check "--resume without a checkpoint says so" grep -q "nothing to resume" "$W/err"
"$BIN" train --resume "$W/ref0" >"$W/out" 2>"$W/err"
check "--resume of a finished run says it finished" grep -q "the run there has finished" "$W/err"
"$BIN" sweep --grid seed=0:2 --resume "$W/r" >"$W/out" 2>"$W/err"
rc=$?
check "sweep --resume: exit 2 (got $rc), a sweep resumes by running again" grep -q "sweep does not resume a run" "$W/err"
mkdir -p "$W/f" && touch "$W/f/metrics.csv" "$W/f/checkpoint.bin.tmp.999"
"$BIN" train --steps 5 --force --no-plot --quiet --out "$W/f" >/dev/null 2>&1
check "--force clears a cut-short checkpoint write too" [ ! -e "$W/f/checkpoint.bin.tmp.999" ]

# reproduce stopped by SIGINT: exit 130 and what to do.
t0=$(now)
"$BIN" reproduce --steps 60000 --quiet --no-plot --out "$W/rep" >"$W/out" 2>"$W/err" &
pid=$!
sleep 1
kill -INT $pid
wait $pid
rc=$?
if [ -e "$W/rep/lambda_0.001/summary.json" ]; then
    echo "note: reproduce finished before SIGINT"
else
    check "reproduce stopped by SIGINT: exit 130 (got $rc), says how to start over" grep -q "reproduce: stopped by SIGINT in .*; run the same command with --force to start over" "$W/err"
fi

# A data run (pretrain on a CSV): stopped, resumed to the same bytes; a data
# file that changed in between is refused.
mkdir -p "$W/d ;x"
python3 - "$W/d ;x/d.csv" <<'PY'
import math, sys
with open(sys.argv[1], "w") as f:
    f.write("a,b,target\n")
    for i in range(300):
        a, b = math.sin(i), math.cos(0.7 * i)
        f.write(f"{a:.6f},{b:.6f},{a * b + 0.1 * a:.6f}\n")
PY
DCSV="$W/d ;x/d.csv" # a path INI would cut at " ;"
dcfg="--y-col target --widths 2,16,1 --steps 100000 --batch 50"
t0=$(now)
"$BIN" pretrain --x "$DCSV" $dcfg --quiet --no-plot --out "$W/dref" >/dev/null
took=$(calc "$(now) - $t0")
"$BIN" pretrain --x "$DCSV" $dcfg --quiet --no-plot --out "$W/dk" >/dev/null 2>&1 &
pid=$!
sleep "$(calc "$took * 0.4")"
kill -TERM $pid
wait $pid
if [ -e "$W/dk/checkpoint.bin" ]; then
    cp -r "$W/dk" "$W/dk2"
    "$BIN" train --resume "$W/dk" --quiet --no-plot >/dev/null 2>"$W/err"
    check "pretrain: resumed with train --resume, the same bytes" same "$W/dref" "$W/dk"
    sed -i '2s/^0/1/' "$DCSV"
    "$BIN" train --resume "$W/dk2" >"$W/out" 2>"$W/err"
    check "a data file that changed since the checkpoint is refused" grep -q "the data differ from the checkpoint's" "$W/err"
else
    echo "note: the data run finished before SIGTERM"
fi

# A sweep stopped by SIGINT: the runs in flight checkpoint, a re-run of the
# same command resumes them and finishes the rest, rows as an uninterrupted
# sweep's (wall time aside).
SW="--grid lambda=0,1e-3,1e-2 --grid seed=0:2 --steps 20000 --jobs 2 --quiet --no-plot"
t0=$(now)
"$BIN" sweep $SW --out "$W/s1" >/dev/null
took=$(calc "$(now) - $t0")
"$BIN" sweep $SW --out "$W/s2" >"$W/out" 2>"$W/err" &
pid=$!
sleep "$(calc "$took * 0.25")"
kill -INT $pid
wait $pid
rc=$?
check "a stopped sweep exits 130 (got $rc)" [ $rc = 130 ]
check "a stopped sweep says what was checkpointed and how to resume" grep -q "stopped by SIGINT: .* checkpointed in flight, .* run the same command again to resume" "$W/err"
"$BIN" sweep $SW --out "$W/s2" >"$W/out" 2>"$W/err"
check "the resumed sweep exits 0 (got $?)" [ $? = 0 ]
check "the resumed sweep's rows equal an uninterrupted sweep's" python3 - "$W" <<'PY'
import csv, sys
def rows(p):
    return sorted(tuple(v for k, v in r.items() if k != "wall_seconds")
                  for r in csv.DictReader(open(p)))
w = sys.argv[1]
a, b = rows(w + "/s1/summary.csv"), rows(w + "/s2/summary.csv")
sys.exit(0 if len(a) == 6 and a == b else 1)
PY

echo "test_resume: $pass passed, $fail failed"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# run.sh: the language walk-through of the README ("Which blocks does a new
# text need?").
#
#     examples/language/run.sh [BIN [OUT_DIR]]     (defaults: build/sparsetune, language-runs)
#
# Pretrains a byte-level GPT (4 blocks, 4 heads, width 128, context 64) on
# the English fortunes, then fine-tunes it on four texts:
#   other  another English source (BOFH excuses, Debian hints): new content
#   de     the German fortunes: the same script, a new language
#   ru     the Russian fortunes: a new script (bytes English hardly uses)
#   perm   the English fortunes with their byte values permuted: the known
#          answer is "only the embeddings" (the head is tied to wte)
# each with seeds 0-4, plainly (lambda 0) and with the l1 proximal penalty
# under the mean and under the sum reduction: 60 fine-tunes, as three sweeps
# on all cores; and on the permuted bytes, wte alone (everything else
# frozen: the known answer's mask; lr 1e-2, as one tensor can take), 5 more,
# and the known answer's own score (the English model on the same windows of
# the English text, which the permuted model scores exactly). Prints, per task and fine-tune, the mean over the seeds of
# each unit's and each kind's share of the update, the share of entries
# moved, bits per byte on the task's held-out end and on the English test
# text before and after (the forgetting), and draws the seed-0 runs' figures.
# About 22 minutes on two cores. Needs Debian's fortunes packages
# (scripts/install-deps --examples). Run again with the same OUT_DIR, it
# skips the pretraining and the finished runs.
set -euo pipefail
BIN=${1:-build/sparsetune}
OUT=${2:-language-runs}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
JOBS=$(nproc)
case "$OUT" in
*:*) echo "run.sh: OUT_DIR '$OUT' holds a ':', which separates a sweep's texts; choose another" >&2; exit 2 ;;
esac

# The model, its pretraining and the fine-tunes (the README's numbers; the
# tests shorten the steps through the environment).
MODEL="--arch gpt --n-layer 4 --n-head 4 --d-model 128 --vocab 256 --context 64"
PRETRAIN_STEPS=${PRETRAIN_STEPS:-4000}
FINETUNE_STEPS=${FINETUNE_STEPS:-300}
LAMBDA_MEAN=5
LAMBDA_SUM=1e-4

"$PY" "$HERE/make_corpora.py" "$OUT/data"
D="$OUT/data"
if [ -f "$OUT/en/summary.json" ] && ! grep -qx "steps = $PRETRAIN_STEPS" "$OUT/en/config.ini"; then
    echo "run.sh: $OUT/en was pretrained for another number of steps than $PRETRAIN_STEPS; use a new OUT_DIR" >&2
    exit 2
fi
if [ ! -f "$OUT/en/summary.json" ]; then
    # One thread: at this width a second one costs more than it gives.
    echo "pretraining on the English fortunes ($PRETRAIN_STEPS steps)"
    "$BIN" pretrain $MODEL --text "$D/en_train.txt" --eval-text "$D/en_test.txt" \
        --batch 16 --lr 1e-3 --steps "$PRETRAIN_STEPS" --log-every 100 \
        --quiet --force --out "$OUT/en" | grep -E "^(run|final|eval)"
fi

# Every fine-tune: the task's text, its last 10% held out, the English test
# text for the forgetting; one sweep per setting over tasks and seeds.
tasks="$D/other_train.txt:$D/de_train.txt:$D/ru_train.txt:$D/perm_train.txt"
for setting in "plain:0:sum" "mean:$LAMBDA_MEAN:mean" "sum:$LAMBDA_SUM:sum"; do
    IFS=: read -r name lambda red <<<"$setting"
    echo "fine-tuning: $name (lambda $lambda, reduction $red), 4 tasks x 5 seeds"
    "$BIN" sweep --model "$OUT/en/student.safetensors" --grid text="$tasks" --grid seed=0:5 \
        --eval-text "$D/en_test.txt" --val-fraction 0.1 --penalty l1 --prox \
        --lambda "$lambda" --penalty-reduction "$red" --batch 16 --lr 1e-3 \
        --steps "$FINETUNE_STEPS" --log-every 50 --spectrum-every 0 --jobs "$JOBS" \
        --keep-runs --no-plot --out "$OUT/$name" | grep -E "^sweep:"
done
echo "fine-tuning: wte alone on the permuted bytes, 5 seeds"
"$BIN" sweep --model "$OUT/en/student.safetensors" --text "$D/perm_train.txt" --grid seed=0:5 \
    --freeze 'wpe,h*,lnf' --eval-text "$D/en_test.txt" --val-fraction 0.1 --lambda 0 \
    --batch 16 --lr 1e-2 --steps "$FINETUNE_STEPS" --log-every 50 --spectrum-every 0 \
    --jobs "$JOBS" --keep-runs --no-plot --out "$OUT/wte" | grep -E "^sweep:"
# The known answer on the permuted bytes' held-out end: the English model
# on the same windows of the English text (a 0-step fine-tune).
"$BIN" finetune --model "$OUT/en/student.safetensors" --text "$D/en_train.txt" \
    --val-fraction 0.1 --steps 0 --quiet --no-plot --force --out "$OUT/answer" >/dev/null
"$PY" "$HERE/summarize.py" "$OUT"
# The figure of each task's seed-0 runs (the sweeps' runs draw none).
"$PY" "$HERE/summarize.py" --figures "$OUT" | while IFS=$'\t' read -r dir png; do
    "$BIN" plot "$dir" --out "$png" >/dev/null
    echo "$png"
done

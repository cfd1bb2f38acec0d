# common.sh: sourced by the CLI test scripts after setting BIN and W.
# Makes a fresh work directory and defines check (count a pass or a failure).
case "$W" in ""|/) echo "refusing WORKDIR '$W'" >&2; exit 2 ;; esac
rm -rf -- "$W"
mkdir -p -- "$W" || exit 1
pass=0
fail=0
# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
    local what=$1
    shift
    if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi
}
# checks DESCRIPTION 'CONDITION': the same for a shell condition (with &&, !
# or pipes), evaluated here: quote it in single quotes.
checks() {
    if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi
}
# check_resume DESCRIPTION SECONDS DIR BIN COMMAND ARGS...: BIN COMMAND ARGS
# --out DIR/straight runs through; the same with --checkpoint-every 100 --out
# DIR/cut is stopped by SIGINT after SECONDS and resumed (BIN COMMAND
# --resume). Passes when the stopped run exited 130 and both metrics.csv are
# the same bytes.
check_resume() {
    local what=$1 secs=$2 dir=$3 pid code
    shift 3
    "$@" --out "$dir/straight" >/dev/null 2>&1
    "$@" --checkpoint-every 100 --out "$dir/cut" >/dev/null 2>&1 &
    pid=$!
    sleep "$secs"
    kill -INT $pid
    wait $pid
    code=$?
    "$1" "$2" --resume "$dir/cut" --quiet --no-plot >/dev/null 2>&1
    check "$what" bash -c "[ $code = 130 ] && cmp '$dir/straight/metrics.csv' '$dir/cut/metrics.csv'"
}

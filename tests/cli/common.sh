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

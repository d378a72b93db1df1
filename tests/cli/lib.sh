# lib.sh: what the CLI tests share: a scratch directory, running shotclock, assertions, the tally.
# Each tests/cli/test_*.sh sources it; ctest runs them with SHOTCLOCK (the binary), SC_TARGETS (the
# built tests/targets programs), SC_FIXTURES and SC_SOURCE set.

: "${SHOTCLOCK:?SHOTCLOCK must name the shotclock binary}"
: "${SC_TARGETS:?SC_TARGETS must name the directory of the target programs}"

PASSED=0
FAILED=0
STATUS=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/shotclock-cli.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 129' HUP INT TERM

# ok DESCRIPTION COMMAND [ARGS...]: one assertion, which passes when COMMAND succeeds.
ok() {
	ok_desc=$1
	shift
	if "$@"; then
		PASSED=$((PASSED + 1))
	else
		FAILED=$((FAILED + 1))
		echo "FAIL: $ok_desc" >&2
		if [ -s "$TMP/err" ]; then
			head -n 3 "$TMP/err" | sed 's/^/    stderr: /' >&2
		fi
	fi
}

# sc ARGS...: runs shotclock with stdout in $TMP/out, stderr in $TMP/err, exit status in $STATUS.
sc() {
	"$SHOTCLOCK" "$@" >"$TMP/out" 2>"$TMP/err"
	STATUS=$?
}

status_is() { [ "$STATUS" -eq "$1" ]; }
one_err_line() { [ "$(wc -l <"$TMP/err")" -eq 1 ]; }
err_is() { [ "$(cat "$TMP/err")" = "$1" ]; }
err_has() { grep -qF -- "$1" "$TMP/err"; }
out_has() { grep -qF -- "$1" "$TMP/out"; }
absent() { [ ! -e "$1" ]; }
same_file() { cmp -s "$1" "$2"; }

# jq_true FILE EXPR: the jq expression EXPR evaluates to true on the JSON in FILE.
jq_true() { [ "$(jq -r "$2" "$1" 2>/dev/null)" = true ]; }

# gone PID: the process no longer runs: there is no such pid, or it is a zombie that only waits to
# be reaped by PID 1 (a container's PID 1 may never reap orphans; the process has exited anyway).
gone() {
	[ ! -e "/proc/$1" ] && return 0
	gone_state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -z "$gone_state" ] || [ "$gone_state" = Z ] || [ "$gone_state" = X ]
}

# wait_until SECONDS COMMAND [ARGS...]: polls COMMAND every 0.1 s until it succeeds (status 0) or
# SECONDS have passed (status 1).
wait_until() {
	wait_ticks=$(($1 * 10))
	shift
	while ! "$@"; do
		[ "$wait_ticks" -le 0 ] && return 1
		wait_ticks=$((wait_ticks - 1))
		sleep 0.1
	done
}

# finish: the tally as the last line; the status says whether everything passed.
finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

# lacks FILE TEXT: FILE does not contain TEXT.
lacks() { ! grep -qF -- "$2" "$1"; }

# near A B TOLERANCE: |A - B| <= TOLERANCE (decimal numbers).
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }

# less A B: A < B (decimal numbers).
less() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }

# lacks_line FILE LINE: no line of FILE is exactly LINE.
lacks_line() { ! grep -qxF -- "$2" "$1"; }

#!/bin/sh
# test_usage.sh: bad usage and bad input exit 2 with one stderr line naming the problem, and write
# no report; help and version exit 0.
. "$(dirname "$0")/lib.sh"

report="$TMP/report.json"
cmd="$SC_TARGETS/exit_with"

# refused NAME ARGS...: `run --export-json REPORT ARGS... -- exit_with 0` exits 2 with exactly one
# stderr line that contains NAME, and creates no report.
refused() {
	refused_name=$1
	shift
	sc run --export-json "$report" "$@" -- "$cmd" 0
	ok "run $*: exit 2" status_is 2
	ok "run $*: one stderr line" one_err_line
	ok "run $*: names $refused_name" err_has "$refused_name"
	ok "run $*: no report file" absent "$report"
}

# Whole numbers: digits only, in range.
refused --runs --runs abc
refused --runs --runs 12x
refused --runs --runs ''
refused --runs -r -1
refused --runs --runs=0
refused --runs --runs 1000001
refused --runs --runs 1e999
refused --runs --runs 99999999999999999999999
refused --runs -r ' 3'
refused --samples -n 0
refused --samples --samples -1
refused --samples --samples 1.5
refused --samples --samples 18446744073709551616
refused --warmup -w -1
refused --warmup --warmup 1000001
refused --warmup --warmup nan
refused --min-runs --min-runs 0
refused --min-runs -m abc
refused --max-runs --max-runs 0
refused --max-runs -M 1000001

# Seconds: finite, plain decimal, in range.
refused --timeout --timeout 0
refused --timeout --timeout -1
refused --timeout --timeout nan
refused --timeout --timeout inf
refused --timeout --timeout 1e999
refused --timeout --timeout ''
refused --timeout --timeout 12x
refused --timeout --timeout 0x10
refused --timeout --timeout=99999999999
refused --min-time --min-time -1
refused --min-time --min-time nan
refused --min-time --min-time 1e999

# Options that contradict each other, empty names, flags given values, unknown options.
refused --min-runs --min-runs 5 --max-runs 2
refused --runs --runs 3 --min-time 1
refused --output --output ''
refused --output --output "$TMP/no-such-dir/out.txt"
refused --output --output "$TMP"
refused --name --name ''
refused --shell --shell=yes
refused "'--frobnicate'" --frobnicate
refused "'-x'" -x

# The export path is checked before anything runs.
sc run --export-json "$TMP/no-such-dir/report.json" -- "$cmd" 0
ok "export to a missing directory: exit 2" status_is 2
ok "export to a missing directory: one stderr line" one_err_line
ok "export to a missing directory: names --export-json" err_has "--export-json"
ok "export to a missing directory: no file" absent "$TMP/no-such-dir"
sc run --export-json '' -- "$cmd" 0
ok "empty export path: exit 2" status_is 2
ok "empty export path: names --export-json" err_has "--export-json"

# Exact messages.
sc run --runs abc -- "$cmd" 0
ok "non-number message" err_is "shotclock: --runs: 'abc' is not a whole number"
sc run --runs
ok "missing value: exit 2" status_is 2
ok "missing value message" err_is "shotclock: --runs: missing value"
missing="shotclock: run: missing command (usage: shotclock run [options] -- CMD [ARGS...])"
for args in "" "--" "-r 3" "--shell --"; do
	# shellcheck disable=SC2086 # the words of args are meant to split
	sc run $args
	ok "run $args: missing command, exit 2" status_is 2
	ok "run $args: missing command message" err_is "$missing"
done
sc frobnicate
ok "unknown subcommand: exit 2" status_is 2
ok "unknown subcommand message" err_is "shotclock: unknown subcommand 'frobnicate' (try 'shotclock help')"
sc --frobnicate
ok "unknown option: exit 2" status_is 2
ok "unknown option message" err_is "shotclock: unknown option '--frobnicate'"
sc
ok "no subcommand: exit 2" status_is 2
ok "no subcommand: one stderr line" one_err_line
sc sysinfo --frobnicate
ok "sysinfo unknown option: exit 2" status_is 2
ok "sysinfo unknown option: one line" one_err_line
sc demo extra
ok "demo extra argument: exit 2" status_is 2
ok "demo extra argument: one line" one_err_line

# Help and version go to stdout and succeed.
for args in "help" "--help" "-h"; do
	sc $args
	ok "$args: exit 0" status_is 0
	ok "$args: usage on stdout" out_has "Usage: shotclock COMMAND"
done
for args in "run --help" "run -h" "help run"; do
	# shellcheck disable=SC2086
	sc $args
	ok "$args: exit 0" status_is 0
	ok "$args: lists --samples" out_has "--samples N"
done
sc sysinfo --help
ok "sysinfo --help: exit 0" status_is 0
sc demo --help
ok "demo --help: lists --quick" out_has "--quick"
sc --version
ok "--version: exit 0" status_is 0
ok "--version: the version" grep -qE '^shotclock [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/out"

finish

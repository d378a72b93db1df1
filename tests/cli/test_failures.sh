#!/bin/sh
# test_failures.sh: commands that cannot start or that fail: exit 127, 126 or 3 with one clear line,
# --ignore-failure, signals named, timeouts that leave no process behind, and no report written.
. "$(dirname "$0")/lib.sh"

report="$TMP/report.json"

# Not found: the message a shell would give, and exit 127.
sc run -r 1 --export-json "$report" -- shotclock-no-such-command
ok "not found: exit 127" status_is 127
ok "not found: exact message" err_is "shotclock: shotclock-no-such-command: command not found"
ok "not found: no report" absent "$report"
sc run -r 1 -- "$TMP/no-such-file"
ok "missing path: exit 127" status_is 127
ok "missing path: exact message" err_is "shotclock: $TMP/no-such-file: command not found"

# Exists but cannot be executed: exit 126.
printf 'not a program\n' >"$TMP/data.txt"
chmod 644 "$TMP/data.txt"
sc run -r 1 --export-json "$report" -- "$TMP/data.txt"
ok "not executable: exit 126" status_is 126
ok "not executable: one line" one_err_line
ok "not executable: says so" err_has "$TMP/data.txt: cannot execute"
ok "not executable: no report" absent "$report"

# A failing run: exit 3, the run and the exit code named, a hint, and the existing report untouched.
printf '{"previous": true}\n' >"$report"
cp "$report" "$TMP/previous.json"
sc run -r 3 --export-json "$report" -- "$SC_TARGETS/exit_with" 7
ok "failing command: exit 3" status_is 3
ok "failing command: one line" one_err_line
ok "failing command: names the run" grep -qE 'run [0-9]' "$TMP/err"
ok "failing command: names the code" err_has "code 7"
ok "failing command: hints at --ignore-failure" err_has "--ignore-failure"
ok "failing command: existing report untouched" same_file "$report" "$TMP/previous.json"
ok "failing command: no summary on stdout" [ ! -s "$TMP/out" ]
rm -f "$report"

# --ignore-failure keeps going: exit 0, the runs kept, and a warning that says so.
sc run -r 2 --no-timeline --ignore-failure --export-json "$report" -- "$SC_TARGETS/exit_with" 7
ok "--ignore-failure: exit 0" status_is 0
ok "--ignore-failure: both runs kept" jq_true "$report" '.profiles[0].runs | length == 2'
ok "--ignore-failure: exit codes recorded" jq_true "$report" \
	'[.profiles[0].runs[].exit_code] == [7, 7]'
ok "--ignore-failure: warning in the report" jq_true "$report" \
	'[.profiles[0].warnings[].id] | index("failed-runs") != null'
ok "--ignore-failure: warning in the summary" out_has "[failed-runs]"
rm -f "$report"

# Killed by a signal: exit 3 and the signal named.
sc run -r 1 --export-json "$report" -- "$SC_TARGETS/exit_with" -11
ok "SIGSEGV: exit 3" status_is 3
ok "SIGSEGV: named" err_has "SIGSEGV"
ok "SIGSEGV: no report" absent "$report"
sc run -r 1 -- "$SC_TARGETS/exit_with" -6
ok "SIGABRT: exit 3" status_is 3
ok "SIGABRT: named" err_has "SIGABRT"

# A timeout kills the whole process group: the grandchild that `hang` forks is gone too.
pidfile="$TMP/grandchild.pid"
sc run -r 1 --timeout 0.5 --export-json "$report" -- "$SC_TARGETS/hang" --grandchild "$pidfile"
ok "timeout: exit 3" status_is 3
ok "timeout: one line" one_err_line
ok "timeout: says timed out" err_has "timed out"
ok "timeout: no report" absent "$report"
ok "timeout: the grandchild wrote its pid" [ -s "$pidfile" ]
grandchild=$(cat "$pidfile" 2>/dev/null)
# Bounded wait: SIGKILL is delivered at once, 5 s covers a loaded machine.
ok "timeout: the grandchild is gone" wait_until 5 gone "${grandchild:-0}"
[ -n "$grandchild" ] && kill -9 "$grandchild" 2>/dev/null

# A timeout that is not reached changes nothing.
sc run -r 1 --no-timeline --timeout 60 -- "$SC_TARGETS/exit_with" 0
ok "generous timeout: exit 0" status_is 0

finish

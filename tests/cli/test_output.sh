#!/bin/sh
# test_output.sh: where the command's output goes (null, inherit, a file), arguments passed verbatim,
# --shell, a 1 GiB flood through shotclock's stdout, a grandchild holding the output open, colours.
. "$(dirname "$0")/lib.sh"

# Arguments reach the command verbatim: no shell sees them. (--no-heap --no-cpu-samples: one run
# writes the file; the instrumented run would write it once more.)
sc run -r 1 --no-timeline --no-heap --no-cpu-samples --output "$TMP/args.txt" -- "$SC_TARGETS/print_args" \
	'$HOME' '*' ';' '`x`' '"q"' 'a b' ''
printf '%s\n' '$HOME' '*' ';' '`x`' '"q"' 'a b' '' >"$TMP/expected.txt"
ok "metacharacters: exit 0" status_is 0
ok "metacharacters: passed verbatim" same_file "$TMP/args.txt" "$TMP/expected.txt"
ok "--output FILE: nothing of the command's on stdout" lacks_line "$TMP/out" '$HOME'

# --output FILE is truncated once, then every run appends: 1 warm-up and 2 timed runs (no timeline
# run: print_args ends long before the first sample would be due; no instrumented run: --no-heap
# --no-cpu-samples).
sc run -w 1 -r 2 --no-heap --no-cpu-samples --output "$TMP/runs.txt" -- "$SC_TARGETS/print_args" once
ok "--output FILE, 3 runs: exit 0" status_is 0
ok "--output FILE, 3 runs: three lines" [ "$(grep -c '^once$' "$TMP/runs.txt")" -eq 3 ]

# --output null (the default) discards it.
sc run -r 1 --no-timeline -- "$SC_TARGETS/print_args" hidden-word
ok "--output null: not on stdout" lacks_line "$TMP/out" hidden-word

# --shell runs the string through /bin/sh -c; extra words become $0, $1.
sc run -r 1 --no-timeline --no-heap --no-cpu-samples --shell --output "$TMP/shell.txt" -- 'echo $((6 * 7)) "$1" | tr 4 x' zero one
ok "--shell: exit 0" status_is 0
ok "--shell: sh ran it" [ "$(cat "$TMP/shell.txt")" = "x2 one" ]
sc run -r 1 --no-timeline --no-heap --no-cpu-samples --output "$TMP/noshell.txt" -- "$SC_TARGETS/print_args" '$((6 * 7))'
ok "without --shell: no expansion" [ "$(cat "$TMP/noshell.txt")" = '$((6 * 7))' ]

# 1 GiB through shotclock's own stdout (--output inherit): every byte arrives, in order, before the
# summary, and shotclock's memory stays small. /usr/bin/time's %M is the largest peak RSS of
# shotclock and of every descendant it waited for, so it bounds shotclock's own peak from above.
gib=1073741824
{
	/usr/bin/time -f %M -o "$TMP/flood.kb" "$SHOTCLOCK" run -r 1 --no-timeline --no-heap --no-cpu-samples \
		--output inherit --name flood -- "$SC_TARGETS/flood" "$gib"
	echo $? >"$TMP/flood.status"
} | tail -c +$((gib + 1)) >"$TMP/flood.rest"
ok "flood: exit 0" [ "$(cat "$TMP/flood.status")" = 0 ]
# The summary starts exactly at byte 1 GiB: no byte of the flood was lost or added.
ok "flood: exactly 1 GiB before the summary" [ "$(head -n 1 "$TMP/flood.rest")" = "Profile: flood" ]
flood_kb=$(tail -n 1 "$TMP/flood.kb")
ok "flood: shotclock's peak RSS under 64 MB ($flood_kb kB)" [ "${flood_kb:-999999}" -lt 65536 ]

# A grandchild that keeps shotclock's stdout (a pipe) open for 30 s does not hold shotclock up: it
# returns as soon as the command itself exits. The reader of the pipe (cat) waits for the grandchild,
# so the pipeline runs in the background and we wait for shotclock's status file only.
(
	{
		"$SHOTCLOCK" run -r 1 --no-timeline --output inherit -- "$SC_TARGETS/detach" 30 \
			"$TMP/detach.pid" 2>"$TMP/detach.err"
		echo $? >"$TMP/detach.status"
	} | cat >/dev/null
) &
pipeline=$!
# 15 s: half the grandchild's sleep, yet far more than the run takes even on a loaded machine.
ok "detached grandchild: shotclock returns long before it exits" \
	wait_until 15 test -s "$TMP/detach.status"
ok "detached grandchild: exit 0" [ "$(cat "$TMP/detach.status" 2>/dev/null)" = 0 ]
[ -s "$TMP/detach.pid" ] && kill "$(cat "$TMP/detach.pid")" 2>/dev/null
wait "$pipeline"

# Colour: only on a terminal, never with NO_COLOR set, never through a pipe. script(1) gives
# shotclock a terminal; stderr is left out so that only the summary is compared.
esc=$(printf '\033')
sc run -r 1 --no-timeline -- "$SC_TARGETS/exit_with" 0
ok "piped: no escape codes" lacks "$TMP/out" "$esc"
NO_COLOR=1 "$SHOTCLOCK" run -r 1 --no-timeline -- "$SC_TARGETS/exit_with" 0 >"$TMP/out" 2>"$TMP/err"
ok "NO_COLOR, piped: no escape codes" lacks "$TMP/out" "$esc"
tty_cmd="'$SHOTCLOCK' run -r 1 --no-timeline -- '$SC_TARGETS/exit_with' 0 2>/dev/null"
script -qec "$tty_cmd" /dev/null >"$TMP/tty.txt" 2>&1
ok "terminal: colours" grep -q "$esc" "$TMP/tty.txt"
NO_COLOR=1 script -qec "$tty_cmd" /dev/null >"$TMP/tty-nocolor.txt" 2>&1
ok "terminal with NO_COLOR: summary printed" grep -q "Memory Profile:" "$TMP/tty-nocolor.txt"
ok "terminal with NO_COLOR: no escape codes" lacks "$TMP/tty-nocolor.txt" "$esc"

finish

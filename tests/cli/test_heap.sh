#!/bin/sh
# test_heap.sh: the heap run of `shotclock run`: exact counts (equal to valgrind's), the programs a
# preloaded shim finds hard (threads, fork, exec, constructors, SIGKILL, exit paths, errno, its own
# malloc, static, setuid), leaks, symbolized sites, the summary and the options.
. "$(dirname "$0")/lib.sh"

T=$SC_TARGETS

# heap FILE EXPR: the jq expression EXPR, applied to the first profile's heap, is true.
heap() { jq_true "$1" ".profiles[0].heap | $2"; }

# runs_ok FILE: every timed run exited with 0 (the program itself behaved).
runs_ok() { jq_true "$1" '[.profiles[0].runs[].exit_code == 0] | all'; }

# same A B: A is not empty and equals B.
same() { [ -n "$1" ] && [ "$1" = "$2" ]; }

# no_warning FILE ID: the report carries no warning with that id.
no_warning() { jq_true "$1" "[.profiles[0].warnings[].id] | index(\"$2\") == null"; }

# run_heap NAME ARGS...: `shotclock run -r 1 --no-timeline ARGS` with the report in $TMP/NAME.json.
run_heap() {
	run_heap_name=$1
	shift
	sc run -r 1 --no-timeline --export-json "$TMP/$run_heap_name.json" "$@"
}

# ---- exact counts ---------------------------------------------------------------------------
# valgrind --run-libc-freeres=no says "9 allocs, 9 frees, 466 bytes allocated" for heap_counts.
c="$TMP/counts.json"
run_heap counts -- "$T/heap_counts"
ok "heap_counts: exit 0" status_is 0
ok "heap_counts: the program succeeded" runs_ok "$c"
ok "heap_counts: heap measured, complete" heap "$c" '.available == true and .complete == true'
ok "heap_counts: 9 allocations" heap "$c" '.allocations == 9'
ok "heap_counts: 9 frees" heap "$c" '.frees == 9'
ok "heap_counts: 466 bytes" heap "$c" '.bytes_allocated == 466'
ok "heap_counts: nothing leaked" heap "$c" '.leaked_blocks == 0 and .leaked_bytes == 0'
ok "heap_counts: one process" heap "$c" '.processes == 1'
ok "heap_counts: sampled by default" heap "$c" '.sites_mode == "sampled"'
ok "heap_counts: the run's figures" heap "$c" '.run_wall_s > 0 and .slowdown > 0
	and .run_peak_rss_mb > 0'
ok "heap_counts: no -n, no allocations per sample" heap "$c" '.allocations_per_sample == null'
ok "summary: heading" out_has "Heap Profile:"
ok "summary: allocations and frees" out_has "9 (9 frees)"
ok "summary: bytes" out_has "466 B"
ok "summary: shim overhead" grep -qE '^  Shim overhead: +[0-9.]+x' "$TMP/out"
# Totals are exact in both modes; -n gives allocations per sample.
run_heap counts-all --heap-sites=all -n 3 -- "$T/heap_counts"
ok "heap_counts, --heap-sites=all: exit 0" status_is 0
ok "heap_counts, --heap-sites=all: same totals" heap "$TMP/counts-all.json" \
	'.sites_mode == "all" and .allocations == 9 and .frees == 9 and .bytes_allocated == 466'
ok "-n 3: allocations per sample == 3" heap "$TMP/counts-all.json" '.allocations_per_sample == 3'
ok "summary: allocations per prediction" out_has "Allocs per prediction:"

# ---- the same numbers as valgrind -----------------------------------------------------------
# vg_totals PROGRAM [ARGS...]: "ALLOCS FREES BYTES" from valgrind's "total heap usage" line (the
# first process's). The shim is preloaded there too, idle (no SHOTCLOCK_HEAP_DIR, so it only
# forwards): its TLS block grows each thread's DTV, which glibc allocates with calloc, by 32 bytes,
# so the program asks for exactly what it asks for under shotclock.
shim="$(dirname "$SHOTCLOCK")/libshotclock-heap.so"
vg_totals() {
	vg_preload=
	[ -f "$shim" ] && vg_preload="$shim${LD_PRELOAD:+:$LD_PRELOAD}"
	LD_PRELOAD=$vg_preload valgrind --run-libc-freeres=no --run-cxx-freeres=no "$@" 2>&1 >/dev/null |
		sed -n 's/.*total heap usage: \([0-9,]*\) allocs, \([0-9,]*\) frees, \([0-9,]*\) bytes.*/\1 \2 \3/p' |
		tr -d , | head -n 1
}
# ours FILE: "ALLOCS FREES BYTES" from our report.
ours() { jq -r '.profiles[0].heap | "\(.allocations) \(.frees) \(.bytes_allocated)"' "$1"; }

threads_extra=
threads_extra_bytes=
if command -v valgrind >/dev/null 2>&1; then
	for prog in heap_counts "heap_threads 50000" heap_leak heap_ctor heap_errno heap_sigkill \
		"heap_exit_variants return" "heap_exit_variants thread" "heap_exit_variants underscore"; do
		# shellcheck disable=SC2086 # the program's arguments are words on purpose
		vg=$(vg_totals "$T"/$prog 2>/dev/null) # no "Killed" from the shell for heap_sigkill
		# shellcheck disable=SC2086
		run_heap vg --ignore-failure -- "$T"/$prog
		mine=$(ours "$TMP/vg.json")
		ok "valgrind: $prog: '$mine' == valgrind's '$vg'" same "$mine" "$vg"
	done
	# What the 8 threads cost glibc itself (thread structures), beyond the 8 x N blocks: 50000
	# blocks of 16 + (i mod 64) bytes per thread are 8 x (781 x 3040 + 376) bytes.
	vg=$(vg_totals "$T/heap_threads" 50000)
	threads_extra=$((${vg%% *} - 400000))
	threads_extra_bytes=$((${vg##* } - 8 * (781 * 3040 + 376)))
	# valgrind's leak check sees the same lost block.
	vg_lost=$(valgrind --run-libc-freeres=no --leak-check=full "$T/heap_leak" 2>&1 |
		sed -n 's/.*definitely lost: \([0-9,]*\) bytes in \([0-9,]*\) blocks.*/\1 \2/p' | tr -d ,)
	run_heap vg-leak --heap-sites=all -- "$T/heap_leak"
	mine=$(jq -r '.profiles[0].heap | "\(.lost_bytes) \(.lost_blocks)"' "$TMP/vg-leak.json")
	ok "valgrind: heap_leak lost '$mine' == valgrind's definitely lost '$vg_lost'" \
		[ "$mine" = "$vg_lost" ]
else
	echo "note: valgrind is not installed (scripts/deps installs it): the comparisons are skipped"
fi

# ---- threads: 8 x 1000000 blocks, each freed by another thread -------------------------------
th="$TMP/threads.json"
run_heap threads -- "$T/heap_threads"
ok "heap_threads: exit 0" status_is 0
ok "heap_threads: complete" heap "$th" '.available == true and .complete == true'
if [ -n "$threads_extra" ]; then
	ok "heap_threads: exactly 8000000 + $threads_extra allocations" \
		heap "$th" ".allocations == 8000000 + $threads_extra"
else
	ok "heap_threads: 8000000 allocations, and glibc's few" \
		heap "$th" '.allocations >= 8000000 and .allocations < 8000064'
fi
ok "heap_threads: every block freed" heap "$th" '.frees >= 8000000 and .frees <= .allocations'
# Sizes 16..79 repeat every 64 blocks: 1000000 = 15625 x 64 blocks of 3040 bytes per 64.
if [ -n "$threads_extra_bytes" ]; then
	ok "heap_threads: exactly 8 x 15625 x 3040 + $threads_extra_bytes bytes" \
		heap "$th" ".bytes_allocated == 8 * 15625 * 3040 + $threads_extra_bytes"
else
	ok "heap_threads: the bytes of the 8000000 blocks" \
		heap "$th" '.bytes_allocated >= 8 * 15625 * 3040'
fi

# With every allocation streamed, 8 threads' records reach the collector in batches that interleave
# (a block may be freed by one thread before the batch announcing it, from another, arrives); what
# is live at exit must still be what was allocated and not freed.
run_heap threads-all --heap-sites=all -- "$T/heap_threads" 20000
ok "heap_threads --heap-sites=all: exit 0" status_is 0
ok "heap_threads --heap-sites=all: live at exit == allocations - frees" \
	heap "$TMP/threads-all.json" '.leaked_blocks == .allocations - .frees'

# ---- a constructor before the shim's, a destructor after -------------------------------------
run_heap ctor -- "$T/heap_ctor"
ok "heap_ctor: exit 0" status_is 0
ok "heap_ctor: 5 allocations, 5 frees" heap "$TMP/ctor.json" \
	'.complete == true and .allocations == 5 and .frees == 5 and .leaked_blocks == 0'

# ---- errno and realloc(p, 0) under the shim --------------------------------------------------
# heap_errno exits 1 on any deviation; only the heap run would see one, which would make the heap
# profile incomplete with a heap-run-failed warning.
run_heap errno -- "$T/heap_errno"
ok "heap_errno: exit 0" status_is 0
ok "heap_errno: complete: the program saw no deviation" heap "$TMP/errno.json" '.complete == true'
ok "heap_errno: no heap-run-failed warning" no_warning "$TMP/errno.json" heap-run-failed
ok "heap_errno: realloc(p, 0) freed" heap "$TMP/errno.json" '.allocations == 2 and .frees == 2'

# ---- the ways out of a process ---------------------------------------------------------------
# --heap-sites=all: live bytes at exit are then requested bytes (sampled mode counts usable ones).
for how in underscore thread return; do
	f="$TMP/exit-$how.json"
	run_heap "exit-$how" --heap-sites=all -- "$T/heap_exit_variants" "$how"
	ok "exit by $how: exit 0" status_is 0
	ok "exit by $how: complete" heap "$f" '.available == true and .complete == true'
	# A second thread costs glibc a block or two of its own (compared exactly with valgrind).
	ok "exit by $how: 10 allocations, 4 frees" heap "$f" '.allocations >= 10 and .frees >= 4'
	ok "exit by $how: 6 blocks of 100 live at exit" heap "$f" '.leaked_blocks >= 6
		and .leaked_bytes >= 600'
done
ok "exit by return: exact" heap "$TMP/exit-return.json" '.allocations == 10 and .frees == 4
	and .leaked_blocks == 6 and .leaked_bytes == 600'
ok "exit by _exit: exact" heap "$TMP/exit-underscore.json" '.allocations == 10 and .frees == 4
	and .leaked_blocks == 6 and .leaked_bytes == 600'

# ---- SIGKILL: counts survive, the profile says it is incomplete ------------------------------
# The timed runs die by SIGKILL too, so --ignore-failure; the counters live in a shared file the
# collector reads after the kill.
k="$TMP/sigkill.json"
run_heap sigkill --ignore-failure -- "$T/heap_sigkill"
ok "heap_sigkill: exit 0 with --ignore-failure" status_is 0
ok "heap_sigkill: the program died by SIGKILL" jq_true "$k" '.profiles[0].runs[0].signal == "SIGKILL"'
ok "heap_sigkill: incomplete, killed by SIGKILL" heap "$k" '.available == true
	and .complete == false and .incomplete_reason == "killed by SIGKILL"'
ok "heap_sigkill: the 100 allocations before the kill" heap "$k" '.allocations == 100'
ok "heap_sigkill: the 100 blocks live at the kill" heap "$k" '.leaked_blocks == 100'
ok "heap_sigkill: summary says so" out_has "incomplete: killed by SIGKILL"
# With every allocation streamed, the records still in the shim's buffers die with the process;
# the exact counters survive, and what was live must not read as nothing.
run_heap sigkill-all --ignore-failure --heap-sites=all -- "$T/heap_sigkill"
ok "heap_sigkill --heap-sites=all: incomplete, 100 allocations" heap "$TMP/sigkill-all.json" \
	'.complete == false and .allocations == 100'
ok "heap_sigkill --heap-sites=all: the 100 blocks live at the kill" \
	heap "$TMP/sigkill-all.json" '.leaked_blocks == 100'
ok "heap_sigkill: no heap-run-failed warning (the timed runs died too)" \
	no_warning "$k" heap-run-failed
sc run -r 1 --no-timeline -- "$T/heap_sigkill"
ok "heap_sigkill without --ignore-failure: exit 3 as before" status_is 3

# A failing exit code is the program's own: reported as in the timed runs, not as incomplete.
run_heap exit7 --ignore-failure -- "$T/exit_with" 7
ok "exit_with 7: exit 0 with --ignore-failure" status_is 0
ok "exit_with 7: heap complete" heap "$TMP/exit7.json" '.available == true and .complete == true'

# A program that fails only under the shim: the profile stands (exit 0), the heap figures are
# marked incomplete with the outcome, and a warning says so. /proc/$$/maps shows the shim in sh.
run_heap only-heap --shell -- 'grep -q libshotclock-heap /proc/$$/maps && exit 4; exit 0'
ok "fails only in the heap run: exit 0" status_is 0
ok "fails only in the heap run: the timed run succeeded" runs_ok "$TMP/only-heap.json"
ok "fails only in the heap run: incomplete, with the exit code" heap "$TMP/only-heap.json" \
	'.available == true and .complete == false and .incomplete_reason == "exited with code 4"'
ok "fails only in the heap run: warning" jq_true "$TMP/only-heap.json" \
	'[.profiles[0].warnings[].id] | index("heap-run-failed") != null'
ok "fails only in the heap run: summary" out_has "[heap-run-failed]"

# The heap run's output goes where the other runs' output goes: one more "hello" in the file.
run_heap output --output "$TMP/output.txt" -- "$T/print_args" hello
ok "--output FILE: the timed run and the heap run wrote it" \
	[ "$(grep -cx hello "$TMP/output.txt")" -eq 2 ]

# A timeout kills the heap run as it kills the others.
run_heap hang --ignore-failure --timeout 0.3 -- "$T/hang"
ok "hang, --timeout: exit 0 with --ignore-failure" status_is 0
ok "hang, --timeout: incomplete, timed out" heap "$TMP/hang.json" \
	'.complete == false and (.incomplete_reason | startswith("timed out after"))'

# ---- fork without exec -----------------------------------------------------------------------
run_heap fork --timeout 60 -- "$T/heap_fork"
ok "heap_fork: exit 0 (nothing hung)" status_is 0
ok "heap_fork: the program succeeded" runs_ok "$TMP/fork.json"
ok "heap_fork: one process traced" heap "$TMP/fork.json" '.complete == true and .processes == 1'
ok "heap_fork: the parent's 1003 blocks" heap "$TMP/fork.json" \
	'.allocations >= 1003 and .allocations < 1003 + 16'
run_heap fork-follow --timeout 60 --follow-children -- "$T/heap_fork"
ok "heap_fork --follow-children: exit 0" status_is 0
ok "heap_fork --follow-children: two processes" heap "$TMP/fork-follow.json" '.processes == 2'
# The figures are the command's own process's (src/internal.h, sc__heap_agg_result); its children
# are counted in processes.
a1=$(jq '.profiles[0].heap.allocations' "$TMP/fork.json")
a2=$(jq '.profiles[0].heap.allocations' "$TMP/fork-follow.json")
ok "heap_fork --follow-children: the parent's figures ($a1 == $a2)" same "$a1" "$a2"

# ---- fork and exec: children untraced unless asked, the user's LD_PRELOAD kept ---------------
libm=
for f in /lib/x86_64-linux-gnu/libm.so.6 /usr/lib/x86_64-linux-gnu/libm.so.6 /lib64/libm.so.6 \
	/usr/lib64/libm.so.6 /lib/*/libm.so.6 /usr/lib/*/libm.so.6 /lib/libm.so.6; do
	[ -f "$f" ] && libm=$f && break
done
if [ -n "$libm" ]; then
	# shotclock itself runs with that LD_PRELOAD too; an ASan build would refuse to start with a
	# library ahead of its runtime, which is harmless here.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
	export ASAN_OPTIONS
	LD_PRELOAD=$libm "$SHOTCLOCK" run -r 1 --no-timeline --output "$TMP/exec.txt" \
		--export-json "$TMP/exec.json" -- "$T/heap_exec" >"$TMP/out" 2>"$TMP/err"
	STATUS=$?
	ok "heap_exec: exit 0" status_is 0
	ok "heap_exec: one process traced" heap "$TMP/exec.json" '.complete == true and .processes == 1'
	ok "heap_exec: the parent's 2 blocks only" heap "$TMP/exec.json" '.allocations == 2'
	# One child per run: the timed run and the heap run.
	ok "heap_exec: each child saw the user's LD_PRELOAD" \
		[ "$(grep -cxF "child LD_PRELOAD=$libm" "$TMP/exec.txt")" -eq 2 ]
	ok "heap_exec: no child saw the shim's variables" \
		[ "$(grep -cxF "child SHOTCLOCK_HEAP_ variables=0" "$TMP/exec.txt")" -eq 2 ]
	LD_PRELOAD=$libm "$SHOTCLOCK" run -r 1 --no-timeline --follow-children \
		--export-json "$TMP/exec-follow.json" -- "$T/heap_exec" >"$TMP/out" 2>"$TMP/err"
	STATUS=$?
	ok "heap_exec --follow-children: exit 0" status_is 0
	ok "heap_exec --follow-children: two processes" heap "$TMP/exec-follow.json" '.processes == 2'
	ok "heap_exec --follow-children: the parent's 2 blocks" \
		heap "$TMP/exec-follow.json" '.allocations == 2'
else
	echo "note: no libm.so.6 found to preload: the LD_PRELOAD checks are skipped"
fi

# ---- programs the shim cannot trace: said up front, never a silent zero ----------------------
run_heap own -- "$T/heap_own_malloc"
ok "heap_own_malloc: exit 0" status_is 0
ok "heap_own_malloc: unavailable, own malloc" heap "$TMP/own.json" '.available == false
	and (.reason | test("malloc"))'
ok "heap_own_malloc: summary says why" grep -q '^Heap Profile: unavailable — .*malloc' "$TMP/out"
run_heap static -- "$T/heap_static"
ok "heap_static: exit 0" status_is 0
ok "heap_static: unavailable, static" heap "$TMP/static.json" '.available == false
	and (.reason | test("static"))'
# Set-user-ID to another user puts the loader in secure-execution mode, which ignores LD_PRELOAD:
# the copy belongs to nobody (only root can give it away). Set-user-ID to ourselves changes nothing
# and is traced. On a nosuid mount the bit means nothing either way.
cp "$T/heap_counts" "$TMP/setuid_counts"
chmod 4755 "$TMP/setuid_counts"
if findmnt -n -o OPTIONS -T "$TMP" 2>/dev/null | grep -q nosuid; then
	echo "note: $TMP is on a nosuid mount: the set-user-ID checks are skipped"
elif [ "$(id -u)" -ne 0 ]; then
	echo "note: not root: no file can be made set-user-ID to another user; that check is skipped"
	run_heap setuid-self -- "$TMP/setuid_counts"
	ok "setuid to ourselves: traced" heap "$TMP/setuid-self.json" '.available == true'
else
	run_heap setuid-self -- "$TMP/setuid_counts"
	ok "setuid to ourselves: exit 0" status_is 0
	ok "setuid to ourselves: traced (no privileges change)" heap "$TMP/setuid-self.json" \
		'.available == true and .allocations == 9'
	chmod 755 "$TMP" # nobody must reach the program to run it
	chown nobody "$TMP/setuid_counts" && chmod 4755 "$TMP/setuid_counts"
	run_heap setuid -- "$TMP/setuid_counts"
	ok "setuid: exit 0" status_is 0
	ok "setuid: the program ran" runs_ok "$TMP/setuid.json"
	ok "setuid: unavailable, set-user-ID" heap "$TMP/setuid.json" '.available == false
		and (.reason | test("set-user-ID"))'
	ok "setuid: summary says why" grep -q '^Heap Profile: unavailable — set-user-ID' "$TMP/out"
fi

# --no-heap: not measured, and said so.
run_heap noheap --no-heap -- "$T/heap_counts"
ok "--no-heap: exit 0" status_is 0
ok "--no-heap: unavailable with the reason" heap "$TMP/noheap.json" \
	'.available == false and .reason == "not measured (--no-heap)"'
ok "--no-heap: summary" out_has "Heap Profile: unavailable — not measured (--no-heap)"

# A script runs its interpreter, --shell runs /bin/sh: both can be traced.
printf '#!/bin/sh\nexit 0\n' >"$TMP/script.sh"
chmod +x "$TMP/script.sh"
run_heap script -- "$TMP/script.sh"
ok "script: exit 0" status_is 0
ok "script: traced through its interpreter" heap "$TMP/script.json" '.available == true'
run_heap shell --shell -- "exit 0"
ok "--shell: traced through /bin/sh" heap "$TMP/shell.json" '.available == true'

# ---- leaks and symbolized sites --------------------------------------------------------------
l="$TMP/leak.json"
run_heap leak --heap-sites all -- "$T/heap_leak"
ok "heap_leak: exit 0" status_is 0
ok "heap_leak: exact totals" heap "$l" '.allocations == 102 and .frees == 100
	and .bytes_allocated == 5003000'
ok "heap_leak: 2 blocks, 3000 bytes live at exit" heap "$l" '.leaked_blocks == 2
	and .leaked_bytes == 3000'
ok "heap_leak: the lost block" heap "$l" '.lost_blocks == 1 and .lost_bytes == 1000'
ok "heap_leak: the reachable block" heap "$l" '.reachable_blocks == 1 and .reachable_bytes == 2000'
# The top site is churn() (100 x 50000 bytes); its first frame with a source line is in it.
ok "heap_leak: top site is churn in heap_leak.c" heap "$l" '.sites[0] | .bytes == 5000000
	and ([.frames[] | select(.file != null)][0] | .function == "churn"
	and (.file | endswith("heap_leak.c")) and .line > 0)'
ok "heap_leak: the lost block's site" heap "$l" '[.sites[] | select(.lost_bytes == 1000)][0]
	| [.frames[] | select(.file != null)][0].function == "lose_block"'
ok "summary: top site" grep -qE '^    1\. churn \(heap_leak\.c:[0-9]+\) — 4\.8 MiB, 100 allocations$' \
	"$TMP/out"
ok "summary: leaked sites" out_has "Top sites by leaked bytes:"
ok "summary: lost versus reachable" out_has "(lost: 1, 1000 B; still reachable: 1, 2.0 KiB)"

# ---- options ---------------------------------------------------------------------------------
run_heap k512 --heap-sample-bytes 512K -- "$T/heap_counts"
ok "--heap-sample-bytes 512K: exit 0" status_is 0
ok "--heap-sample-bytes 512K: 524288" heap "$TMP/k512.json" '.sample_bytes == 524288'
run_heap m1 --heap-sample-bytes=1M -- "$T/heap_counts"
ok "--heap-sample-bytes=1M: 1048576" heap "$TMP/m1.json" '.sample_bytes == 1048576'
for bad in 0 2G 1025M 12x '' -1 1.5K 99999999999999999999K; do
	sc run -r 1 --heap-sample-bytes "$bad" -- "$T/heap_counts"
	ok "--heap-sample-bytes '$bad': exit 2" status_is 2
	ok "--heap-sample-bytes '$bad': one line naming it" sh -c \
		"[ \$(wc -l <'$TMP/err') -eq 1 ] && grep -qF -- '--heap-sample-bytes' '$TMP/err'"
done
sc run -r 1 --heap-sites some -- "$T/heap_counts"
ok "--heap-sites some: exit 2" status_is 2
ok "--heap-sites some: one line" err_is "shotclock: --heap-sites: 'some' is not 'sampled' or 'all'"
sc run -r 1 --no-heap=yes -- "$T/heap_counts"
ok "--no-heap=yes: exit 2" status_is 2
ok "--no-heap=yes: one line" one_err_line
sc run -r 1 --no-heap --follow-children -- "$T/heap_counts"
ok "--no-heap with --follow-children: exit 2" status_is 2
ok "--no-heap with --follow-children: one line" one_err_line
sc run --help
ok "--help: lists the heap options" sh -c "grep -q -- '--no-heap' '$TMP/out' &&
	grep -q -- '--heap-sites' '$TMP/out' && grep -q -- '--heap-sample-bytes' '$TMP/out' &&
	grep -q -- '--follow-children' '$TMP/out'"

finish

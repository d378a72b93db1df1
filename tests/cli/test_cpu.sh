#!/bin/sh
# test_cpu.sh: CPU samples through `shotclock run`: shares and counts that follow the work (3:1, two
# threads 2:1, doubling) with both samplers, programs that stress a sampler (instant exit, 32
# threads, fork+exec, 10,000 frames, longjmp, exit codes and signals, stripped, no frame pointers)
# keep their behaviour and give a valid profile, the options' errors, the folded export, and the
# NBA pipeline's GBM tree walk found as the hotspot.
. "$(dirname "$0")/lib.sh"
T=$SC_TARGETS

# cpu NAME ARGS...: `shotclock run -r 1 --no-timeline ARGS` with the report in $TMP/NAME.json and
# the command's output in $TMP/NAME.out. `timeout` is the guard against a hang: a sampler that never
# lets go of the command must fail the test, not stall it.
cpu() {
	cpu_name=$1
	shift
	rm -f "$TMP/$cpu_name.json" "$TMP/$cpu_name.out"
	timeout -k 5 120 "$SHOTCLOCK" run -r 1 --no-timeline --output "$TMP/$cpu_name.out" \
		--export-json "$TMP/$cpu_name.json" "$@" >"$TMP/out" 2>"$TMP/err"
	STATUS=$?
}
# self NAME FUNCTION: the self samples of FUNCTION in NAME's report (0 when it has none).
self() {
	jq -r --arg f "$2" '[.profiles[0].cpu.hotspots[] | select(.function == $f) | .samples] | add // 0' \
		"$TMP/$1.json" 2>/dev/null || echo 0
}
# share A B: A / (A + B) in percent.
share() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (a + b > 0 ? 100 * a / (a + b) : 0) }'; }
# between X LOW HIGH: LOW <= X <= HIGH (decimal numbers).
between() { awk -v x="$1" -v l="$2" -v h="$3" 'BEGIN { exit !(x >= l && x <= h) }'; }
# cpu_ok NAME: the report is there and holds a CPU profile that says what it measured.
cpu_ok() { jq_true "$TMP/$1.json" '.profiles[0].cpu.available == true and .profiles[0].cpu.sampler.samples > 0'; }
# same_output NAME PLAIN: every line the command wrote under shotclock is one the plain run wrote,
# and every line of the plain run is there (the runs append to one file, so lines repeat).
same_output() { [ -s "$2" ] && [ "$(sort -u "$TMP/$1.out")" = "$(sort -u "$2")" ]; }
# top NAME: the function with the most self samples.
top() { jq -r '.profiles[0].cpu.hotspots[0].function' "$TMP/$1.json" 2>/dev/null; }

# ---- accuracy: both samplers ----------------------------------------------------------------
# cpu_ratio's shares are exact in instructions and in time (its two loops cost the same per
# iteration). The tolerances stand against sampling noise. On a loaded 2-CPU machine one run's
# share of work_three spreads with a standard deviation of about 2.5 percentage points (more than
# the 1.4 of a binomial draw of 900 samples: a neighbour's bursts and the host's steal time), so the
# share is read from the four runs together, some 2,800 samples, where +-5 pp is three deviations.
# The counts are steadier than the shares (a periodic clock counts CPU time, within a sample or two
# per thread), and what moves them is the machine: a neighbour on a shared core slows one run and
# not the other, which is why the two sizes run twice, in turn, and their samples are summed.
# The timer fallback runs twice as long: POSIX CPU timers expire at the kernel's tick (250 Hz on
# many kernels), so its 997 Hz are some 250 signals a second, each standing for about 4 periods:
# 5.4 CPU seconds give some 1,350 independent samples, a binomial spread of 1.2 pp.
for sampler in perf_event timer; do
	s=$sampler
	rounds=6000
	[ "$s" = perf_event ] || rounds=12000
	cpu "$s-small-1" --sampler "$s" -- "$T/cpu_ratio" "$rounds"
	cpu "$s-large-1" --sampler "$s" -- "$T/cpu_ratio" $((2 * rounds))
	ok "$s: cpu_ratio: exit 0" status_is 0
	ok "$s: the sampler that ran is named" jq_true "$TMP/$s-large-1.json" \
		".profiles[0].cpu.sampler.name == \"$s\""
	ok "$s: cpu_ratio: a CPU profile" cpu_ok "$s-large-1"
	ok "$s: work_three is the top self hotspot" [ "$(top "$s-large-1")" = work_three ]
	# GCC builds work_three without a frame even with -fno-omit-frame-pointer, so a frame-pointer
	# chain skips main; each sampler's small stack copy (the perf sampler's, the timer's in the
	# shim) and the CFI put it back.
	ok "$s: main directly above work_three in every work_three stack" \
		jq_true "$TMP/$s-large-1.json" '[.profiles[0].cpu.stacks[].frames
		| select(.[-1] == "work_three")] | length > 0 and all(.[-2] == "main")'
	cpu "$s-large-2" --sampler "$s" -- "$T/cpu_ratio" $((2 * rounds))
	cpu "$s-small-2" --sampler "$s" -- "$T/cpu_ratio" "$rounds"
	three=0 one=0
	for run in small-1 small-2 large-1 large-2; do
		three=$((three + $(self "$s-$run" work_three)))
		one=$((one + $(self "$s-$run" work_one)))
	done
	pct=$(share "$three" "$one")
	echo "    $s: work_three $three, work_one $one samples over 4 runs: ${pct}% (goal 75 +- 5)" >&2
	ok "$s: work_three takes 75 +- 5 pp of the two ($pct%)" between "$pct" 70 80
	ok "$s: work_one takes 25 +- 5 pp of the two" between "$(share "$one" "$three")" 20 30
	small=$(($(self "$s-small-1" work_three) + $(self "$s-small-1" work_one) +
		$(self "$s-small-2" work_three) + $(self "$s-small-2" work_one)))
	large=$((three + one - small))
	r=$(awk -v a="$large" -v b="$small" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
	echo "    $s: doubling the work: $small -> $large samples, x$r (goal 2 +- 10%)" >&2
	ok "$s: doubling the work doubles the samples +- 10% (x$r)" between "$r" 1.8 2.2

	cpu "$s-threads" --sampler "$s" -- "$T/cpu_threads"
	ok "$s: cpu_threads: exit 0" status_is 0
	two=$(self "$s-threads" thread_two)
	one=$(self "$s-threads" thread_one)
	r=$(awk -v a="$two" -v b="$one" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
	echo "    $s: thread_two $two, thread_one $one samples: x$r (goal 2 +- 20%)" >&2
	ok "$s: two threads 2:1 -> samples 2 +- 20% (x$r)" between "$r" 1.6 2.4
	ok "$s: both threads sampled" jq_true "$TMP/$s-threads.json" '.profiles[0].cpu.sampler.threads >= 2'
done

# ---- robustness: the command's behaviour is its own, the profile valid, no hang --------------
# plain NAME PROG ARGS...: the program's own output, without shotclock, in $TMP/NAME.plain.
plain() {
	plain_name=$1
	shift
	"$@" >"$TMP/$plain_name.plain" 2>/dev/null
}
for sampler in perf_event timer; do
	s=$sampler
	plain quick "$T/cpu_quick"
	t0=$(date +%s%N)
	cpu "$s-quick" --sampler "$s" -- "$T/cpu_quick"
	ms=$((($(date +%s%N) - t0) / 1000000))
	ok "$s: cpu_quick: exit 0" status_is 0
	ok "$s: cpu_quick: output unchanged" same_output "$s-quick" "$TMP/quick.plain"
	ok "$s: cpu_quick: a CPU section that says what it is" jq_true "$TMP/$s-quick.json" \
		'.profiles[0].cpu | (.available == true and .sampler.samples >= 0) or (.available == false and (.reason | length) > 0)'
	ok "$s: cpu_quick: no wait for samples that never come (${ms} ms)" less "$ms" 5000

	plain many "$T/cpu_many_threads"
	cpu "$s-many" --sampler "$s" -- "$T/cpu_many_threads"
	ok "$s: cpu_many_threads: exit 0" status_is 0
	ok "$s: cpu_many_threads: output unchanged" same_output "$s-many" "$TMP/many.plain"
	ok "$s: cpu_many_threads: a CPU profile" cpu_ok "$s-many"
	ok "$s: cpu_many_threads: many_burn on top" [ "$(top "$s-many")" = many_burn ]
	ok "$s: cpu_many_threads: most threads sampled" jq_true "$TMP/$s-many.json" \
		'.profiles[0].cpu.sampler.threads >= 16'

	plain fork "$T/cpu_fork_exec"
	cpu "$s-fork" --sampler "$s" -- "$T/cpu_fork_exec"
	ok "$s: cpu_fork_exec: exit 0" status_is 0
	ok "$s: cpu_fork_exec: output unchanged" same_output "$s-fork" "$TMP/fork.plain"
	ok "$s: cpu_fork_exec: a CPU profile" cpu_ok "$s-fork"
	ok "$s: cpu_fork_exec: the parent's work sampled" less 0 "$(self "$s-fork" fork_parent_burn)"
	# perf events are inherited across fork and exec; the timer fallback lives in the heap shim,
	# which an exec'd child loads again, but whether its samples reach the collector is the
	# shim's reach over children, so only the perf_event sampler must show them.
	if [ "$s" = perf_event ]; then
		ok "$s: cpu_fork_exec: the exec'd children's work sampled" less 0 "$(self "$s-fork" work_three)"
		ok "$s: cpu_fork_exec: four processes" jq_true "$TMP/$s-fork.json" \
			'.profiles[0].cpu.sampler.processes >= 4'
	fi

	plain deep "$T/cpu_deep"
	cpu "$s-deep" --sampler "$s" -- "$T/cpu_deep"
	ok "$s: cpu_deep: exit 0" status_is 0
	ok "$s: cpu_deep: output unchanged" same_output "$s-deep" "$TMP/deep.plain"
	ok "$s: cpu_deep: a CPU profile" cpu_ok "$s-deep"
	ok "$s: cpu_deep: deep_bottom on top" [ "$(top "$s-deep")" = deep_bottom ]
	ok "$s: cpu_deep: deep_recurse on the stacks" jq_true "$TMP/$s-deep.json" \
		'[.profiles[0].cpu.stacks[].frames | index("deep_recurse")] | map(select(. != null)) | length > 0'

	plain longjmp "$T/cpu_longjmp"
	cpu "$s-longjmp" --sampler "$s" -- "$T/cpu_longjmp"
	ok "$s: cpu_longjmp: exit 0" status_is 0
	ok "$s: cpu_longjmp: output unchanged" same_output "$s-longjmp" "$TMP/longjmp.plain"
	ok "$s: cpu_longjmp: a CPU profile" cpu_ok "$s-longjmp"
	ok "$s: cpu_longjmp: lj_inner on top" [ "$(top "$s-longjmp")" = lj_inner ]

	# Exit codes and signals: --ignore-failure keeps the report, whose runs say how each ended.
	plain exit7 "$T/cpu_exit" 7
	cpu "$s-exit7" --sampler "$s" --ignore-failure -- "$T/cpu_exit" 7
	ok "$s: cpu_exit 7: exit 0 with --ignore-failure" status_is 0
	ok "$s: cpu_exit 7: output unchanged" same_output "$s-exit7" "$TMP/exit7.plain"
	ok "$s: cpu_exit 7: the run's exit code is 7" jq_true "$TMP/$s-exit7.json" \
		'[.profiles[0].runs[].exit_code] == [7]'
	ok "$s: cpu_exit 7: samples kept" less 0 "$(self "$s-exit7" exit_burn)"
	plain segv "$T/cpu_exit" -11
	cpu "$s-segv" --sampler "$s" --ignore-failure -- "$T/cpu_exit" -11
	ok "$s: cpu_exit -11: exit 0 with --ignore-failure" status_is 0
	ok "$s: cpu_exit -11: output unchanged" same_output "$s-segv" "$TMP/segv.plain"
	ok "$s: cpu_exit -11: the run died by SIGSEGV" jq_true "$TMP/$s-segv.json" \
		'[.profiles[0].runs[].signal] == ["SIGSEGV"]'
	ok "$s: cpu_exit -11: samples kept" less 0 "$(self "$s-segv" exit_burn)"
	cpu "$s-segv3" --sampler "$s" -- "$T/cpu_exit" -11
	ok "$s: cpu_exit -11 without --ignore-failure: exit 3 as before" status_is 3
	ok "$s: cpu_exit -11 without --ignore-failure: SIGSEGV named" err_has SIGSEGV

	# Stripped: no symbols at all, so every address of the program is module+0xoffset.
	cpu "$s-stripped" --sampler "$s" -- "$T/cpu_ratio_stripped" 3000
	ok "$s: stripped: exit 0" status_is 0
	ok "$s: stripped: a CPU profile" cpu_ok "$s-stripped"
	ok "$s: stripped: the top hotspot is cpu_ratio_stripped+0x..." jq_true "$TMP/$s-stripped.json" \
		'.profiles[0].cpu.hotspots[0].function | test("^(.*/)?cpu_ratio_stripped\\+0x[0-9a-f]+$")'
	ok "$s: stripped: no name invented" jq_true "$TMP/$s-stripped.json" \
		'[.profiles[0].cpu.hotspots[].function | select(. == "work_three" or . == "work_one")] == []'
done

# ---- no frame pointers ------------------------------------------------------------------------
# The leaf is the sampled instruction, exact without any unwinding: the 3:1 split holds in the
# default mode. --call-graph dwarf unwinds the copied stack with the CFI, so main is found.
cpu nofp-fp-1 -- "$T/cpu_ratio_nofp" 12000
ok "no frame pointers, fp mode: exit 0" status_is 0
cpu nofp-fp-2 -- "$T/cpu_ratio_nofp" 12000
three=$(($(self nofp-fp-1 work_three) + $(self nofp-fp-2 work_three)))
one=$(($(self nofp-fp-1 work_one) + $(self nofp-fp-2 work_one)))
pct=$(share "$three" "$one")
echo "    no frame pointers, fp mode: work_three $three, work_one $one samples: ${pct}%" >&2
ok "no frame pointers, fp mode: work_three 75 +- 5 pp ($pct%)" between "$pct" 70 80
# The leaf's CFI gives its caller even without frame pointers; further out the chain is lost.
ok "no frame pointers, fp mode: main directly above work_three" jq_true "$TMP/nofp-fp-1.json" \
	'[.profiles[0].cpu.stacks[].frames | select(.[-1] == "work_three")]
	| length > 0 and all(.[-2] == "main")'
cpu nofp-dwarf --call-graph dwarf -- "$T/cpu_ratio_nofp" 3000
ok "no frame pointers, dwarf: exit 0" status_is 0
ok "no frame pointers, dwarf: call_graph dwarf" jq_true "$TMP/nofp-dwarf.json" \
	'.profiles[0].cpu.sampler.call_graph == "dwarf"'
ok "no frame pointers, dwarf: a stack main -> work_three" jq_true "$TMP/nofp-dwarf.json" \
	'[.profiles[0].cpu.stacks[].frames | (index("main")) as $m | (index("work_three")) as $w
	| $m != null and $w != null and $m < $w] | any'
ok "no frame pointers, dwarf: work_three on top" [ "$(top nofp-dwarf)" = work_three ]

# ---- options ------------------------------------------------------------------------------------
cpu off --no-cpu-samples -- "$T/cpu_ratio" 500
ok "--no-cpu-samples: exit 0" status_is 0
ok "--no-cpu-samples: cpu.available false with a reason" jq_true "$TMP/off.json" \
	'.profiles[0].cpu.available == false and (.profiles[0].cpu.reason | length) > 0'
for bad in 0 20000 abc -5 1.5x ""; do
	sc run -r 1 --sample-rate "$bad" -- "$T/cpu_quick"
	ok "--sample-rate '$bad': exit 2" status_is 2
	ok "--sample-rate '$bad': one line" one_err_line
	ok "--sample-rate '$bad': names the option" err_has "--sample-rate"
done
sc run -r 1 --call-graph lbr -- "$T/cpu_quick"
ok "--call-graph lbr: exit 2" status_is 2
ok "--call-graph lbr: one line" one_err_line
ok "--call-graph lbr: names the option" err_has "--call-graph"
sc run -r 1 --sampler magic -- "$T/cpu_quick"
ok "--sampler magic: exit 2" status_is 2
ok "--sampler magic: one line" one_err_line
ok "--sampler magic: names the option" err_has "--sampler"
cpu rate --sample-rate 4000 -- "$T/cpu_ratio" 3000
ok "--sample-rate 4000: rate recorded" jq_true "$TMP/rate.json" '.profiles[0].cpu.sampler.rate_hz == 4000'
# About 4000 samples per CPU second: the samples stand for the CPU time the run used.
ok "--sample-rate 4000: cpu_s = samples / rate" jq_true "$TMP/rate.json" \
	'.profiles[0].cpu.sampler | (.cpu_s - .samples / 4000) | fabs < 0.01'

# ---- exports ------------------------------------------------------------------------------------
cpu folded --export-folded "$TMP/ratio.folded" --export-speedscope "$TMP/ratio.speedscope.json" \
	-- "$T/cpu_ratio" 3000
ok "folded: exit 0" status_is 0
ok "folded: written" test -s "$TMP/ratio.folded"
# Frames may hold spaces (C++ names), so a line is anything that ends in one space and a count.
ok "folded: every line is 'frames COUNT'" sh -c "! grep -qvE '^[^ ].* [0-9]+\$' '$TMP/ratio.folded'"
ok "folded: a work_three stack" grep -qE '(^|;)work_three [0-9]+$' "$TMP/ratio.folded"
folded_sum=$(awk '{ s += $NF } END { print s + 0 }' "$TMP/ratio.folded")
ok "folded: the counts add up to the samples" jq_true "$TMP/folded.json" \
	".profiles[0].cpu.sampler.samples == $folded_sum"
ok "speedscope: valid JSON with its schema" jq_true "$TMP/ratio.speedscope.json" \
	'(."$schema" | test("speedscope")) and (.profiles | length) >= 1'
ok "speedscope: work_three among the frames" jq_true "$TMP/ratio.speedscope.json" \
	'[.shared.frames[].name] | index("work_three") != null'

# ---- the NBA pipeline: the GBM's tree walk is where the time goes -----------------------------
if [ -n "${SC_NBA_BIN:-}" ] && [ -x "$SC_NBA_BIN/nba-predict" ]; then
	m="$TMP/models"
	mkdir -p "$m"
	"$SC_NBA_BIN/nba-train" --seasons 20 --out "$m" >/dev/null 2>"$TMP/err"
	ok "nba-train --seasons 20: exit 0" test $? -eq 0
	# One prediction pass over 24,600 games takes about 30 ms, of which the tree walk is the
	# largest part but reading the CSV is close behind: eight passes in one sampled command and
	# 4000 Hz give some 1000 samples, enough to tell the two apart.
	cpu nba --sample-rate 4000 --shell -- "cd '$m' && for i in 1 2 3 4 5 6 7 8; do '$SC_NBA_BIN/nba-predict' --model gbm --games all --models-dir . --data games.csv || exit 1; done"
	ok "shotclock run -- nba-predict --model gbm: exit 0" status_is 0
	jq -r '.profiles[0].cpu.hotspots[:5][] | "    nba: \(.function) \(.file):\(.line) self \(.samples) (\(.self_percent | floor)%)"' \
		"$TMP/nba.json" >&2
	# The walk is one loop in nba__ensemble_sum (tree.c) around nba__tree_eval, a static inline
	# function of model_internal.h. Inlined functions are frames of their own, so the loop's self
	# samples are split between the two names by source line (about half each); together they are
	# the one hotspot, and it must outweigh every other function, the CSV reader included.
	ok "nba gbm: the GBM tree walk has the most self samples, in examples/nba/ with lines" \
		jq_true "$TMP/nba.json" '.profiles[0].cpu.hotspots
		| map(select(.function | test("^nba__(ensemble_sum|tree_eval|gbm_predict)$"))) as $walk
		| ($walk | map(.samples) | add // 0) as $n
		| ($walk | length) > 0
		and ($walk | all(.file | test("examples/nba/")))
		and ($walk | all(.line > 0))
		and ($walk | map(select(.samples > 0)) | all((.lines | length) > 0))
		and ([.[] | select(.function | test("^nba__(ensemble_sum|tree_eval|gbm_predict)$") | not)
			| .samples] | all(. < $n))'
else
	echo "    nba-predict is missing (SC_NBA_BIN): the NBA hotspot is not checked" >&2
	FAILED=$((FAILED + 1))
fi

finish

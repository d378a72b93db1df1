#!/bin/sh
# test_report.sh: what `shotclock run` measures and exports: run counts, throughput, the JSON shape,
# peak memory of the command (and not of shotclock), and the terminal summary.
. "$(dirname "$0")/lib.sh"

# ---- runs, samples and derived figures --------------------------------------------------------
r="$TMP/sleep.json"
sc run -r 3 -w 2 -n 1000 --name nap --export-json "$r" -- "$SC_TARGETS/sleep_ms" 20
ok "-r 3: exit 0" status_is 0
ok "-r 3: exactly 3 runs" jq_true "$r" '.profiles[0].runs | length == 3'
ok "-r 3: summary over 3 runs" jq_true "$r" '.profiles[0].time.total_time.n == 3'
ok "-w 2: 2 warm-up runs" jq_true "$r" '.profiles[0].warmup_runs == 2'
ok "-n 1000: n_samples" jq_true "$r" '.profiles[0].n_samples == 1000'
ok "--name: the profile's name" jq_true "$r" '.profiles[0].name == "nap"'
# throughput = n / mean and avg = mean / n exactly; the JSON prints reals with 10 significant
# digits, so the two sides can differ in the 10th digit after rounding: compare to 1e-9 relative.
ok "-n 1000: throughput == 1000 / mean" jq_true "$r" '.profiles[0].time |
	(.throughput_samples_per_sec - 1000 / .total_time.mean) as $d |
	(if $d < 0 then -$d else $d end) <= 1e-9 * .throughput_samples_per_sec'
ok "-n 1000: avg_time_per_sample == mean / 1000" jq_true "$r" '.profiles[0].time |
	(.avg_time_per_sample - .total_time.mean / 1000) as $d |
	(if $d < 0 then -$d else $d end) <= 1e-9 * .avg_time_per_sample'
# Each run sleeps 20 ms, so no run can be shorter (a lower bound, never flaky).
ok "sleep_ms 20: every run >= 20 ms" jq_true "$r" '[.profiles[0].runs[].wall_s >= 0.020] | all'
ok "latency source is per-run" jq_true "$r" \
	'.profiles[0].time.latency_ms.source == "per-run" and .profiles[0].time.latency_ms.count == 3'

# ---- the documented shape (docs/report-format.md) ---------------------------------------------
ok "schema" jq_true "$r" '.schema == "shotclock.report/1"'
ok "tool" jq_true "$r" '.tool.name == "shotclock" and (.tool.version | test("^[0-9]+\\.[0-9]+\\.[0-9]+$"))'
ok "created is ISO 8601 UTC" jq_true "$r" '.created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")'
ok "system fields" jq_true "$r" '.system | has("cpus") and has("cpu_model") and has("kernel")
	and has("hostname") and has("memory_total_mb") and has("memory_available_mb")
	and (.load_avg | length == 3) and (.disk | has("path") and has("total_gb") and has("free_gb")
	and has("used_percent"))'
ok "one profile" jq_true "$r" '.profiles | length == 1'
ok "profile fields" jq_true "$r" '.profiles[0] | .kind == "command"
	and (.command | type == "string") and has("runs") and has("time") and has("memory")
	and has("resources") and (.warnings | type == "array") and (.unavailable | type == "object")'
ok "run fields" jq_true "$r" '[.profiles[0].runs[] | has("wall_s") and has("user_s")
	and has("sys_s") and has("peak_rss_mb") and has("minor_faults") and has("major_faults")
	and has("voluntary_context_switches") and has("involuntary_context_switches")
	and has("read_bytes") and has("write_bytes") and .exit_code == 0 and .signal == null
	and .timed_out == false] | all'
ok "total_time fields" jq_true "$r" '.profiles[0].time.total_time | has("mean") and has("stddev")
	and has("median") and has("min") and has("max") and has("mad") and (.ci95 | length == 2)
	and has("outliers")'
ok "latency fields" jq_true "$r" '.profiles[0].time.latency_ms | has("mean") and has("p50")
	and has("p90") and has("p95") and has("p99") and has("p999") and has("max")'
ok "memory fields" jq_true "$r" '.profiles[0].memory | has("baseline_memory_mb")
	and has("peak_memory_mb") and has("memory_increase_mb") and has("peak_reset")
	and has("minor_faults") and has("major_faults")'
ok "timeline sampled by default" jq_true "$r" '.profiles[0].memory.timeline | length > 0'
ok "timeline points" jq_true "$r" '[.profiles[0].memory.timeline[] | has("t_s") and has("rss_mb")
	and has("cpu_percent") and has("processes")] | all'
ok "resources fields" jq_true "$r" '.profiles[0].resources | has("cpu_user_s") and has("cpu_sys_s")
	and has("cpu_utilization") and has("read_bytes") and has("write_bytes")
	and has("minor_faults") and has("major_faults") and has("voluntary_context_switches")
	and has("involuntary_context_switches")'
ok "verdict is null" jq_true "$r" 'has("verdict") and .verdict == null'
ok "--no-timeline: no timeline" sh -c "'$SHOTCLOCK' run -r 1 --no-timeline --export-json '$TMP/nt.json' \
	-- '$SC_TARGETS/exit_with' 0 >/dev/null && jq -e '(.profiles[0].memory.timeline // []) | length == 0' '$TMP/nt.json' >/dev/null"
ok "--no-timeline: says why" jq_true "$TMP/nt.json" \
	'.profiles[0].unavailable["memory.timeline"] == "not sampled (--no-timeline)"'
# ---- the terminal summary ---------------------------------------------------------------------
for heading in "Profile: nap" "Memory Profile:" "  Baseline:" "  Peak:" "  Increase:" \
	"Time Profile:" "  Total time:" "predictions/sec" "  Avg time per prediction:" \
	"Across runs:" "Time (mean ± σ):" "95% CI of the mean:" "Range (min … max):" \
	"Latency per prediction (source: per-run, 3 values):" "  p99:" "  CPU user:" "  Peak RSS:" \
	"  Storage read:" "System Stats:" "  cpus:"; do
	ok "summary shows '$heading'" out_has "$heading"
done
ok "summary: no progress on a non-terminal stderr" [ ! -s "$TMP/err" ]

# ---- peak memory is the command's, not shotclock's --------------------------------------------
# touch_mb 1 measures the program's own RSS besides its buffer (libc, stack, page tables do not
# count; RSS is resident pages): base = peak(touch_mb 1) - 1. touch_mb 100 must peak at 100 + base;
# the 5% tolerance covers malloc's header page and the kernel's accounting granularity.
sc run -r 3 --no-timeline --export-json "$TMP/m1.json" -- "$SC_TARGETS/touch_mb" 1
ok "touch_mb 1: exit 0" status_is 0
sc run -r 3 --export-json "$TMP/m100.json" -- "$SC_TARGETS/touch_mb" 100
ok "touch_mb 100: exit 0" status_is 0
peak1=$(jq '.profiles[0].memory.peak_memory_mb' "$TMP/m1.json")
peak100=$(jq '.profiles[0].memory.peak_memory_mb' "$TMP/m100.json")
expected=$(awk -v p="$peak1" 'BEGIN { print 100 + (p - 1) }')
tolerance=$(awk -v e="$expected" 'BEGIN { print 0.05 * e }')
ok "touch_mb 100: peak $peak100 MB within 5% of $expected MB" near "$peak100" "$expected" "$tolerance"

# A small command's peak is far below shotclock's own: were shotclock's RSS carried into the
# command (fork + exec keeps the larger peak), the peak could not be below it. /usr/bin/time's %M is
# the largest peak of shotclock and the processes it waited for, i.e. shotclock's own here.
/usr/bin/time -f %M -o "$TMP/self.kb" "$SHOTCLOCK" run -r 3 --no-timeline \
	--export-json "$TMP/small.json" -- "$SC_TARGETS/exit_with" 0 >/dev/null 2>&1
self_mb=$(awk '{ v = $1 } END { print v / 1024 }' "$TMP/self.kb")
small=$(jq '.profiles[0].memory.peak_memory_mb' "$TMP/small.json")
ok "exit_with 0: peak $small MB below shotclock's own $self_mb MB" less "$small" "$self_mb"

# Runs that all end before the first sample is due (10 ms) get no extra timeline run, and say why.
# Whether they did is read from the report itself: on a loaded machine even exit_with can take
# longer, and then the timeline run is owed.
sc run -r 3 --export-json "$TMP/short.json" -- "$SC_TARGETS/exit_with" 0
ok "short runs: exit 0" status_is 0
ok "short runs: 3 runs" jq_true "$TMP/short.json" '.profiles[0].runs | length == 3'
ok "short runs: no timeline run, and the reason" jq_true "$TMP/short.json" '
	if ([.profiles[0].runs[].wall_s] | max) < 0.01 then
		((.profiles[0].memory.timeline // []) | length == 0)
		and (.profiles[0].unavailable["memory.timeline"] | startswith("not sampled: every timed run"))
		and .profiles[0].memory.timeline_interval_s == null
	else (.profiles[0].unavailable["memory.timeline"] // "" | startswith("not sampled") | not) end'

finish

#!/bin/sh
# test_cpu_regions.sh: under `shotclock run`, a program's regions get the CPU samples taken inside
# them (the region trace of the instrumented run): 3:1 shares, a nested region inside its parent,
# the right top functions, with both samplers; none with --no-cpu-samples; the trace file removed.
. "$(dirname "$0")/lib.sh"
T=$SC_TARGETS

# run NAME ARGS...: `shotclock run -r 1 --no-timeline ARGS -- regions_cpu ROUNDS`, the report in
# $TMP/NAME.json. `timeout` guards against a hang.
run() {
	run_name=$1
	rounds=$2
	shift 2
	timeout -k 5 120 "$SHOTCLOCK" run -r 1 --no-timeline --export-json "$TMP/$run_name.json" \
		"$@" -- "$T/regions_cpu" "$rounds" >"$TMP/out" 2>"$TMP/err"
	STATUS=$?
}
# field NAME REGION KEY: a region's field in NAME's report.
field() {
	jq -r --arg r "$2" ".profiles[0].regions[] | select(.name == \$r) | .$3" "$TMP/$1.json" \
		2>/dev/null
}
# between X LOW HIGH: LOW <= X <= HIGH (decimal numbers).
between() { awk -v x="$1" -v l="$2" -v h="$3" 'BEGIN { exit !(x >= l && x <= h) }'; }
# pct A B: A / B in percent.
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? 100 * a / b : 0) }'; }

# The shares are read from two runs together, as test_cpu.sh does with cpu_ratio: one run's share
# spreads by some 2.5 pp on a loaded 2-CPU machine, two runs' some 1.8, so +-5 pp is near three
# deviations. The timer sampler runs twice as long (its signals come at the kernel's tick).
# The perf_event runs skip the heap shim (--no-heap): it is not what they test. The timer sampler
# lives in the shim, which cannot be preloaded ahead of the ASan runtime of a sanitized build's
# regions_cpu (it links the library as built), so there only perf_event runs.
samplers="perf_event timer"
if ldd "$T/regions_cpu" 2>/dev/null | grep -q libasan; then
	echo "SKIP: the timer sampler: regions_cpu carries ASan, ahead of which no shim can be preloaded"
	samplers=perf_event
fi
for s in $samplers; do
	rounds=12000
	heap=--no-heap
	[ "$s" = perf_event ] || { rounds=24000; heap=--no-timeline; }
	heavy=0 light=0 inner=0 all=0
	for i in 1 2; do
		run "$s-$i" "$rounds" --sampler "$s" $heap
		ok "$s: regions_cpu: exit 0" status_is 0
		ok "$s: the sampler named" jq_true "$TMP/$s-$i.json" \
			".profiles[0].cpu.sampler.name == \"$s\""
		ok "$s: three regions with CPU samples" jq_true "$TMP/$s-$i.json" \
			'[.profiles[0].regions[] | .cpu_samples > 0] == [true, true, true]'
		ok "$s: no warning about the trace" jq_true "$TMP/$s-$i.json" \
			'[.profiles[0].warnings[]? | select(.id | startswith("region-trace"))] == []'
		ok "$s: the nested region's samples are within its parent's" \
			[ "$(field "$s-$i" inner cpu_samples)" -le "$(field "$s-$i" heavy cpu_samples)" ]
		ok "$s: heavy's top function" [ "$(field "$s-$i" heavy cpu_top_function)" = work_heavy ]
		ok "$s: inner's top function" [ "$(field "$s-$i" inner cpu_top_function)" = work_inner ]
		ok "$s: light's top function" [ "$(field "$s-$i" light cpu_top_function)" = work_light ]
		# Each run's own percentages, loosely: the regions cover the run but for its start.
		ok "$s: run $i: heavy's cpu_percent near 75" between "$(field "$s-$i" heavy cpu_percent)" 62 88
		ok "$s: run $i: light's cpu_percent near 25" between "$(field "$s-$i" light cpu_percent)" 12 38
		heavy=$((heavy + $(field "$s-$i" heavy cpu_samples)))
		light=$((light + $(field "$s-$i" light cpu_samples)))
		inner=$((inner + $(field "$s-$i" inner cpu_samples)))
		all=$((all + $(jq '.profiles[0].cpu.sampler.samples' "$TMP/$s-$i.json")))
	done
	h=$(pct "$heavy" "$all") l=$(pct "$light" "$all") n=$(pct "$inner" "$all")
	echo "    $s: heavy $h%, inner $n%, light $l% of $all samples (goals 75, 25, 25 +- 5)" >&2
	ok "$s: heavy holds 75 +- 5 pp of the samples ($h%)" between "$h" 70 80
	ok "$s: light holds 25 +- 5 pp ($l%)" between "$l" 20 30
	ok "$s: inner (inside heavy) holds 25 +- 5 pp ($n%)" between "$n" 20 30
done

# Without CPU samples there is nothing to attribute: the fields stay null, no trace is made.
mkdir "$TMP/tmpdir"
(TMPDIR="$TMP/tmpdir" && export TMPDIR && run none 2000 --no-cpu-samples)
ok "--no-cpu-samples: exit 0" [ -s "$TMP/none.json" ]
ok "--no-cpu-samples: regions reported" jq_true "$TMP/none.json" '.profiles[0].regions | length == 3'
ok "--no-cpu-samples: cpu_samples, cpu_percent, cpu_top_function null" jq_true "$TMP/none.json" \
	'[.profiles[0].regions[] | .cpu_samples == null and .cpu_percent == null and
	  (.cpu_top_function == null or .cpu_top_function == "")] | all'

# The trace's private directory is made under TMPDIR and removed after the run.
(TMPDIR="$TMP/tmpdir" && export TMPDIR && run dir 2000 --no-heap)
ok "trace: regions attributed" jq_true "$TMP/dir.json" '.profiles[0].regions[0].cpu_samples > 0'
ok "trace: directory removed" [ -z "$(ls -A "$TMP/tmpdir")" ]

# A program without regions gets no trace and no warning about one.
timeout -k 5 60 "$SHOTCLOCK" run -r 1 --no-timeline --export-json "$TMP/plain.json" -- \
	"$T/cpu_ratio" 500 >"$TMP/out" 2>"$TMP/err"
ok "no regions: no region-trace warning" jq_true "$TMP/plain.json" \
	'[.profiles[0].warnings[]? | select(.id | startswith("region-trace"))] == []'

finish

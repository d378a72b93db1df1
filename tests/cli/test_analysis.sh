#!/bin/sh
# test_analysis.sh: programs that are, by construction, CPU-bound, I/O-bound, allocation-heavy,
# leaking, plateauing, fragmenting, tail-heavy or healthy each get the expected finding (and the
# healthy one none), in the JSON report and in the terminal summary, with recommendations.
. "$(dirname "$0")/lib.sh"

# analyse NAME ARGS...: `shotclock run` with the report in $TMP/NAME.json, the summary in
# $TMP/NAME.out.
analyse() {
	an_name=$1
	shift
	sc run --export-json "$TMP/$an_name.json" "$@"
	cp "$TMP/out" "$TMP/$an_name.out"
	ok "$an_name: exit 0" status_is 0
}

# analyse_expecting ID NAME ARGS...: analyse, and try up to twice more while finding ID is absent.
# Timing-based rules see the machine too: a CPU-bound program on a machine with more runnable
# threads than cores keeps less than a core busy, through no fault of its own.
analyse_expecting() {
	ae_id=$1
	shift
	for ae_try in 1 2 3; do
		analyse "$@"
		jq -e "[.bottlenecks[].id] | index(\"$ae_id\") != null" "$TMP/$1.json" \
			>/dev/null 2>&1 && break
	done
}

# finding NAME ID: the report of NAME has a bottleneck ID, with a recommendation for it, both in
# the JSON and in the terminal.
finding() {
	ok "$1: finding $2" jq_true "$TMP/$1.json" "[.bottlenecks[].id] | index(\"$2\") != null"
	ok "$1: $2 has a message, evidence, a confidence" jq_true "$TMP/$1.json" \
		"[.bottlenecks[] | select(.id == \"$2\") | (.message | length > 0)
		and (.evidence | length > 0) and .confidence > 0 and .confidence <= 1
		and (.severity | IN(\"info\", \"warning\", \"critical\"))] | all"
	ok "$1: a recommendation answers $2" jq_true "$TMP/$1.json" \
		"[.recommendations[] | select(.finding == \"$2\") | (.expected | length > 0)]
		| length > 0"
	ok "$1: terminal shows $2" grep -q -- " $2\\]" "$TMP/$1.out"
	ok "$1: terminal shows Recommendations" grep -q "^Recommendations:" "$TMP/$1.out"
}

# evidence NAME ID JQ-CONDITION: the condition holds on the evidence object of finding ID.
evidence() {
	ok "$1: $2 evidence: $3" jq_true "$TMP/$1.json" \
		"[.bottlenecks[] | select(.id == \"$2\") | .evidence | $3] | (length == 1 and all)"
}

no_finding() {
	ok "$1: no $2" jq_true "$TMP/$1.json" "[.bottlenecks[].id] | index(\"$2\") == null"
}

# ---- CPU-bound: one core busy (needs a second core to be idle) --------------------------------
if [ "$(getconf _NPROCESSORS_ONLN)" -ge 2 ]; then
	analyse_expecting cpu-bound cpu -r 3 --no-timeline --no-heap -- "$SC_TARGETS/cpu_bound" 150
	finding cpu cpu-bound
	evidence cpu cpu-bound '(.cpu_utilization >= 0.85 or (.cpu_utilization >= 0.3 and .voluntary_context_switches <= 5)) and .cpus >= 2'
	ok "cpu: multi-threading recommended" jq_true "$TMP/cpu.json" \
		'[.recommendations[].id] | index("multi-threading") != null'
	no_finding cpu io-bound
fi

# ---- I/O-bound: a write and an fsync per 4 KiB block ------------------------------------------
analyse_expecting io-bound io -r 3 -w 1 --no-timeline --no-heap -- "$SC_TARGETS/io_bound" "$TMP" 300
finding io io-bound
evidence io io-bound '.wait_percent >= 50 and .io_bytes >= 262144'
ok "io: async I/O and caching recommended" jq_true "$TMP/io.json" \
	'[.recommendations[] | select(.id == "async-io-caching" and .finding == "io-bound")]
	| length == 1'
no_finding io cpu-bound

# ---- allocation churn: 200 temporary allocations per prediction --------------------------------
analyse churn -r 3 -n 1000 --no-timeline -- "$SC_TARGETS/churn" 1000 200
finding churn allocation-churn
evidence churn allocation-churn \
	'.allocations_per_sample == 200 and .temporary_percent >= 90 and .allocations == 200000'
ok "churn: message with the numbers" jq_true "$TMP/churn.json" \
	'[.bottlenecks[] | select(.id == "allocation-churn") | .message]
	== ["200 allocations per prediction, 100% freed immediately"]'
ok "churn: object pool recommended" jq_true "$TMP/churn.json" \
	'[.recommendations[].id] | index("object-pool") != null'

# ---- a leak and a plateau: the same 64 MiB, reached at the end or in the first fifth ------------
analyse leak -r 3 -- "$SC_TARGETS/leaking" 64 300
finding leak memory-growth
ok "leak: fix-leak recommended" jq_true "$TMP/leak.json" \
	'[.recommendations[].id] | index("fix-leak") != null'
analyse plateau -r 3 -- "$SC_TARGETS/plateau" 64 300
no_finding plateau memory-growth

# ---- fragmentation: every other small block freed, the rest kept ------------------------------
analyse frag -r 3 --no-timeline -- "$SC_TARGETS/fragmenting" 32
finding frag heap-fragmentation
evidence frag heap-fragmentation '.fragmentation_percent >= 40 and .fragmentation_percent <= 60
	and .arena_bytes > .in_use_bytes'

# ---- tail latency: every 10th run sleeps 100 ms instead of 10 ----------------------------------
analyse tail -r 20 --no-timeline --no-heap -- "$SC_TARGETS/tail_heavy" "$TMP/counter" 10 100 10
finding tail tail-latency
evidence tail tail-latency '.p99_p50_ratio >= 3 and .p50_ms >= 10 and .p99_ms >= 50 and .count == 20'

# ---- healthy: nothing to find ----------------------------------------------------------------
# Its runs are steady on a quiet machine; under a heavily loaded one the measurement itself can
# be unstable, which is the machine's doing: up to two more tries then.
for try in 1 2 3; do
	"$SHOTCLOCK" run -r 5 -w 1 --export-json "$TMP/healthy.json" -- "$SC_TARGETS/healthy" \
		>"$TMP/healthy.out" 2>"$TMP/err"
	jq -e '[.bottlenecks[].id] == ["unstable-measurement"]' "$TMP/healthy.json" >/dev/null ||
		break
done
jq -r '.bottlenecks[] | "    found: \(.id): \(.message)"' "$TMP/healthy.json" >&2
ok "healthy: no bottleneck" jq_true "$TMP/healthy.json" '.bottlenecks == []'
ok "healthy: one recommendation, healthy" jq_true "$TMP/healthy.json" \
	'(.recommendations | length == 1) and .recommendations[0].id == "healthy"
	and .recommendations[0].finding == null and (.recommendations[0].evidence | test("cores busy"))'
ok "healthy: terminal says none found" grep -q "^  none found" "$TMP/healthy.out"
ok "healthy: terminal says healthy" grep -q "healthy: the profile looks healthy" "$TMP/healthy.out"

finish

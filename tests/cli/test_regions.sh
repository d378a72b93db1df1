#!/bin/sh
# test_regions.sh: a program linked with libshotclock sends its regions to `shotclock run` through
# SHOTCLOCK_REGIONS: the JSON profile and the terminal show the component breakdown, per run.
. "$(dirname "$0")/lib.sh"

json="$TMP/regions.json"
sc run -n 1000 -r 3 --no-heap --no-timeline --export-json "$json" -- \
	"$SC_TARGETS/regions_pipeline" 1000
ok "regions_pipeline: exit 0" status_is 0
ok "four regions, in order of first entry" jq_true "$json" \
	'[.profiles[0].regions[].name] == ["data_loading","feature_extraction","prediction","postprocessing"]'
# calls, total and self are means per timed run: 1000 predictions each run.
ok "1000 calls per run each" jq_true "$json" '[.profiles[0].regions[].calls] == [1000,1000,1000,1000]'
ok "latency counts every call of every run" jq_true "$json" \
	'[.profiles[0].regions[].latency_ms.count] == [3000,3000,3000,3000]'
ok "top level: no parent, depth 0, self = total" jq_true "$json" \
	'[.profiles[0].regions[] | .parent == null and .depth == 0 and .self_s == .total_s] | all'
# The regions cover the predictions; the rest of each run is the program's start and exit.
ok "top-level shares sum to most of the run, never above 1" jq_true "$json" \
	'([.profiles[0].regions[].share] | add) as $s | $s > 0.5 and $s <= 1.0001'
ok "percentiles ordered" jq_true "$json" \
	'[.profiles[0].regions[].latency_ms | .p50 <= .p99 and .p99 <= .max] | all'
ok "no shim in the timed runs: allocations null" jq_true "$json" \
	'[.profiles[0].regions[].allocations == null] | all'
ok "terminal: Components table" out_has "Components (mean per run):"
ok "terminal: a component row" out_has "feature_extraction"

# A program without regions gets no "regions" key (an empty list would claim none were entered).
sc run -r 1 --no-heap --no-timeline --export-json "$TMP/plain.json" -- "$SC_TARGETS/print_args" x
ok "plain program: no regions key" jq_true "$TMP/plain.json" '.profiles[0] | has("regions") | not'
no_components() { ! grep -qF Components "$TMP/out"; }
ok "plain program: no Components table" no_components

# The channel's private directory is made under TMPDIR and removed after the timed runs.
mkdir "$TMP/chan"
(TMPDIR="$TMP/chan" && export TMPDIR &&
	"$SHOTCLOCK" run -n 10 -r 2 --no-heap --no-timeline -- "$SC_TARGETS/regions_pipeline" 10 >"$TMP/out")
ok "channel: still a Components table" grep -qF "Components" "$TMP/out"
ok "channel: directory removed" [ -z "$(ls -A "$TMP/chan")" ]

finish

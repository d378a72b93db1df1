#!/bin/sh
# test_demo.sh: `shotclock demo` walks through every seed example on the NBA pipeline and writes its
# reports.
. "$(dirname "$0")/lib.sh"

dir="$TMP/d"
start=$(date +%s.%N)
sc demo --quick --out "$dir"
end=$(date +%s.%N)
# Printed, not asserted: a timed assertion fails whenever the machine is busy.
echo "demo --quick took $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }') s"
ok "demo --quick: exit 0" status_is 0
ok "demo --quick: nothing on stderr" [ ! -s "$TMP/err" ]

# Every section, in the seed's order.
for heading in \
	"=== Quick Start: profile 10,000 predictions ===" \
	"=== Performance Report: system stats, bottlenecks, recommendations ===" \
	"=== Component Profiles: the pipeline's four steps ===" \
	"=== NBA Prediction Pipeline: latency requirement 100 ms per prediction ===" \
	"=== Pattern 1: Compare Model Performance (sorted by throughput) ===" \
	"=== Pattern 2: Identify Memory Leaks (10 iterations) ===" \
	"=== Pattern 3: Production Readiness Check ===" \
	"=== Optimization: naive vs optimised pipeline ===" \
	"=== Report files ===" \
	"=== nba-predict under shotclock run ==="; do
	ok "demo: section '$heading'" out_has "$heading"
done
ok "demo: sections in order" sh -c "grep '^=== ' '$TMP/out' | cut -c5-20 | tr '\n' '|' |
	grep -q '^Quick Start: pro|Performance Repo|Component Profil|NBA Prediction P|Pattern 1: Compa|Pattern 2: Ident|Pattern 3: Produ|Optimization: na|Report files ===|nba-predict unde|$'"

# The seed's figures, shaped like its examples.
ok "quick start: memory profile" out_has "Memory Profile:"
ok "quick start: throughput" out_has "predictions/sec"
ok "report: system stats" out_has "System Stats:"
ok "report: recommendations" out_has "Optimization Recommendations:"
ok "components: throughput per step" out_has "Throughput:"
ok "pipeline: judged against 100 ms" out_has "Latency requirement met"
ok "pattern 2: the clean batch passes" out_has "predict_batch: verdict"
ok "pattern 2: the leaking variant is caught" out_has "Potential memory leak detected!"
ok "pattern 3: a readiness verdict" out_has "Model ready for production!"
ok "optimisation: the seed's speed table" out_has "| Sequential processing     | Vectorization"
ok "optimisation: the gap explained" out_has "Findings on the naive pipeline"

# The three report files.
for f in report.json report.md report.html; do
	ok "demo: wrote DIR/$f" [ -s "$dir/$f" ]
	ok "demo: names DIR/$f" out_has "$dir/$f"
done
report="$dir/report.json"
ok "report.json: valid JSON" sh -c "jq -e . '$report' >/dev/null"
ok "report.json: schema" jq_true "$report" '.schema == "shotclock.report/1"'
for name in data_loading feature_extraction prediction postprocessing nba_prediction_pipeline \
	logistic_regression random_forest gradient_boosting naive optimised; do
	ok "report.json: profile $name" jq_true "$report" "[.profiles[].name] | index(\"$name\") != null"
done
ok "report.json: ranked by throughput" jq_true "$report" '.comparison.sort == "throughput"'
ok "report.json: a comparison of every profile" \
	jq_true "$report" '(.comparison.entries | length) == (.profiles | length)'
ok "report.json: the clean batch does not leak" jq_true "$report" \
	'[.profiles[] | select(.name == "predict_batch") | .leak.verdict] == ["none"] or
	 [.profiles[] | select(.name == "predict_batch") | .leak.verdict] == ["plateau"]'
ok "report.json: the leaking batch leaks" jq_true "$report" \
	'[.profiles[] | select(.name == "predict_batch_leaky") | .leak.verdict] == ["leak"]'
ok "report.html: one page" sh -c "grep -qi '</html>' '$dir/report.html'"

# What nba-predict needs, written by the walk-through.
for f in games.csv lr.model rf.model gbm.model; do
	ok "demo: wrote DIR/$f" [ -s "$dir/$f" ]
done

# The last section: nba-predict under `shotclock run` for each model, or a clear skip.
if [ -x "$(dirname "$SHOTCLOCK")/nba-predict" ]; then
	for m in lr rf gbm; do
		ok "nba-predict --model $m: profiled" out_has "Profile: nba-predict --model $m"
		ok "nba-predict --model $m: report" jq_true "$dir/nba-predict-$m.json" \
			'.profiles[0].n_samples == 1230 and ([.profiles[0].runs[].exit_code == 0] | all)'
	done
else
	ok "nba-predict missing: skipped" out_has "skipped: nba-predict not found"
fi

# nba-demo on its own: help, and a bad argument is bad usage.
nba_demo="$(dirname "$SHOTCLOCK")/nba-demo"
ok "nba-demo --help" sh -c "'$nba_demo' --help | grep -q '^Usage: nba-demo'"
"$nba_demo" --bogus >/dev/null 2>&1
ok "nba-demo: a bad argument exits 2" [ $? -eq 2 ]

# An --out that cannot be created is bad input, and nothing is written.
sc demo --quick --out "$TMP/missing/dir"
ok "demo, uncreatable --out: exit 2" status_is 2
ok "demo, uncreatable --out: one line" one_err_line
ok "demo, uncreatable --out: nothing created" absent "$TMP/missing"
sc demo --quick extra
ok "demo, an operand: exit 2" status_is 2

# The older single-program example stays built and deterministic.
example="$(dirname "$SHOTCLOCK")/shotclock-example-predict"
ok "example: deterministic" [ "$("$example" 1000)" = "$("$example" 1000)" ]
ok "example: scores N games" sh -c "'$example' 1000 | grep -q '^games 1000 '"
ok "example: refuses a bad N" sh -c "! '$example' 12x 2>/dev/null"

finish

#!/bin/sh
# test_nba.sh: nba-train and nba-predict as ordinary programs (models beat the baseline, bets are
# written, bad input is one line and exit 2), the naive variant gives the same bets, and shotclock,
# profiling both from outside, names the naive variant's problems and measures the promised gain.
. "$(dirname "$0")/lib.sh"
: "${SC_NBA_BIN:?SC_NBA_BIN must name the directory of nba-train and nba-predict}"
train="$SC_NBA_BIN/nba-train"
predict="$SC_NBA_BIN/nba-predict"
m="$TMP/models"
mkdir -p "$m"

# ---- nba-train: three seasons, two to train on, the last to test -------------------------------
"$train" --seasons 3 --out "$m" >"$TMP/train.txt" 2>"$TMP/err"
STATUS=$?
ok "nba-train: exit 0" status_is 0
for f in games.csv lr.model rf.model gbm.model; do
	ok "nba-train: wrote $f" test -s "$m/$f"
done
# metric NAME COLUMN: the figure after COLUMN on NAME's line of the training report.
metric() { awk -v n="$1" -v c="$2" '$1 == n { for (i = 2; i < NF; i++) if ($i == c) print $(i + 1) }' "$TMP/train.txt"; }
base_acc=$(metric baseline_home_team accuracy)
base_ll=$(metric baseline_home_team log_loss)
for model in logistic_regression random_forest gradient_boosting; do
	ok "nba-train: $model accuracy beats the home-team baseline" less "$base_acc" "$(metric $model accuracy)"
	ok "nba-train: $model log-loss beats the home-team baseline" less "$(metric $model log_loss)" "$base_ll"
	ok "nba-train: $model auc above 0.5" less 0.5 "$(metric $model auc)"
done

# ---- nba-predict: each model, optimised and naive give the same bets byte for byte -------------
for k in lr rf gbm; do
	"$predict" --model "$k" --models-dir "$m" --data "$m/games.csv" >"$TMP/out" 2>"$TMP/err"
	STATUS=$?
	ok "nba-predict $k: exit 0" status_is 0
	ok "nba-predict $k: summary line" grep -Eq '^1230 games, [0-9]+ bets, total stake [0-9.]+$' "$TMP/out"
	"$predict" --model "$k" --models-dir "$m" --data "$m/games.csv" -o "$TMP/$k.opt" 2>"$TMP/err"
	STATUS=$?
	ok "nba-predict $k -o: exit 0" status_is 0
	"$predict" --model "$k" --models-dir "$m" --data "$m/games.csv" --naive -o "$TMP/$k.naive" 2>"$TMP/err"
	STATUS=$?
	ok "nba-predict $k --naive -o: exit 0" status_is 0
	ok "nba-predict $k: some bets" test "$(wc -l <"$TMP/$k.opt")" -gt 10
	ok "nba-predict $k: --naive gives the same bets" same_file "$TMP/$k.opt" "$TMP/$k.naive"
	"$predict" --model "$k" --models-dir "$m" --data "$m/games.csv" --repeat 3 -o "$TMP/$k.rep" 2>"$TMP/err"
	STATUS=$?
	ok "nba-predict $k --repeat 3: exit 0" status_is 0
	ok "nba-predict $k --repeat 3: the same bets" same_file "$TMP/$k.opt" "$TMP/$k.rep"
done
"$predict" --model gbm --models-dir "$m" --data "$m/games.csv" --games 100 --min-edge 0.05 >"$TMP/out" 2>"$TMP/err"
STATUS=$?
ok "nba-predict --games 100: exit 0" status_is 0
ok "nba-predict --games 100: 100 games" grep -q '^100 games, ' "$TMP/out"

# bad ARGS...: nba-predict exits 2 with one line on stderr.
bad() {
	"$predict" "$@" >"$TMP/out" 2>"$TMP/err"
	STATUS=$?
	ok "nba-predict $*: exit 2" status_is 2
	ok "nba-predict $*: one line" one_err_line
}
bad --model svm --models-dir "$m" --data "$m/games.csv"
bad --model lr --data "$m/games.csv"
bad --model lr --models-dir "$m" --data "$m/games.csv" --games 0
bad --model lr --models-dir "$m" --data "$m/games.csv" --min-edge x
bad --model lr --models-dir "$m" --data "$m/games.csv" --repeat 0
bad --model lr --models-dir "$m" --data "$m/games.csv" --repeat 1e3
bad --model lr --models-dir "$m" --data "$m/games.csv" --bogus
bad --model lr --models-dir "$m" --data "$TMP/missing.csv"
bad --model lr --models-dir "$TMP" --data "$m/games.csv"
printf 'GAME_ID,nonsense\n1,2\n' >"$TMP/bad.csv"
bad --model lr --models-dir "$m" --data "$TMP/bad.csv"
printf 'not a model' >"$TMP/lr.model"
bad --model lr --models-dir "$TMP" --data "$m/games.csv"
bad --model lr --models-dir "$m" --data "$m/games.csv" -o "$TMP/no/such/dir/bets.csv"
"$train" --seasons 1 --out "$m" >/dev/null 2>"$TMP/err"
STATUS=$?
ok "nba-train --seasons 1: exit 2" status_is 2
ok "nba-train --seasons 1: one line" one_err_line

# ---- shotclock on both variants: every game of the log predicted (3690), 3 runs each ----------
# The command runs from the models' directory with relative paths: shotclock keeps the first 127
# bytes of a profile's name with each finding, and a longer command loses its recommendations.
profile() {
	(cd "$m" && "$SHOTCLOCK" run -n 3690 -r 3 --no-timeline --export-json "$TMP/$1.json" -- \
		"$predict" --model gbm --games all --models-dir . --data games.csv $2) \
		>"$TMP/$1.out" 2>"$TMP/err"
	STATUS=$?
	ok "shotclock run $1: exit 0" status_is 0
}
profile naive --naive
profile opt ""
jq -r '.bottlenecks[] | "    naive: \(.id): \(.message)"' "$TMP/naive.json" >&2
ok "naive: allocation-churn found" jq_true "$TMP/naive.json" \
	'[.bottlenecks[].id] | index("allocation-churn") != null'
ok "naive: churn evidence: >= 20 allocations per prediction, mostly temporary" jq_true "$TMP/naive.json" \
	'[.bottlenecks[] | select(.id == "allocation-churn") | .evidence
	| (.allocations_per_sample >= 20 and .temporary_percent >= 90)] == [true]'
ok "naive: object pool recommended for the churn" jq_true "$TMP/naive.json" \
	'[.recommendations[] | select(.finding == "allocation-churn") | .id] | index("object-pool") != null'
ok "optimised: no allocation-churn" jq_true "$TMP/opt.json" \
	'[.bottlenecks[].id] | index("allocation-churn") == null'

# The improvements the recommendations promised, measured. "N-M% less memory" (object pool,
# in-place: the seed's answers to allocation pressure) is read against the bytes allocated over a
# run; "N-Mx faster" against the throughput. Each measured gain must reach the low end.
jq -r '.recommendations[] | select(.finding != null and .finding != "unstable-measurement")
	| "\(.id)\t\(.expected)"' "$TMP/naive.json" >"$TMP/promises"
naive_bytes=$(jq '.profiles[0].heap.bytes_allocated' "$TMP/naive.json")
opt_bytes=$(jq '.profiles[0].heap.bytes_allocated' "$TMP/opt.json")
naive_tp=$(jq '.profiles[0].time.throughput_samples_per_sec' "$TMP/naive.json")
opt_tp=$(jq '.profiles[0].time.throughput_samples_per_sec' "$TMP/opt.json")
less_mem=$(awk -v a="$naive_bytes" -v b="$opt_bytes" 'BEGIN { printf "%.1f", 100 * (1 - b / a) }')
faster=$(awk -v a="$naive_tp" -v b="$opt_tp" 'BEGIN { printf "%.1f", b / a }')
echo "    measured: ${less_mem}% fewer bytes allocated, ${faster}x the throughput" >&2
checked=0
while IFS="$(printf '\t')" read -r id expected; do
	low=$(printf '%s\n' "$expected" | sed -n 's/^\([0-9][0-9]*\)-[0-9][0-9]*% less memory.*/\1/p')
	if [ -n "$low" ]; then
		ok "$id promised $expected: measured ${less_mem}% less" less "$low" "$less_mem"
		checked=$((checked + 1))
	fi
	low=$(printf '%s\n' "$expected" | sed -n 's/^\([0-9][0-9]*\)-[0-9][0-9]*x faster.*/\1/p')
	if [ -n "$low" ]; then
		ok "$id promised $expected: measured ${faster}x" less "$low" "$faster"
		checked=$((checked + 1))
	fi
done <"$TMP/promises"
ok "at least the churn's promises were checked" test "$checked" -ge 2

finish

#!/bin/sh
# test_check.sh: production-readiness requirements (--require) and baselines (--baseline) on `run`
# and `check`: pass, fail, noise (an identical rerun never regresses) and bad input.
. "$(dirname "$0")/lib.sh"

spin="$SC_TARGETS/spin"
fast="$TMP/fast.json"
again="$TMP/again.json"
slow="$TMP/slow.json"

# ---- baselines ----------------------------------------------------------------------------------
# spin MS burns MS ms of CPU: a deterministic workload whose runs differ only by noise.
sc run -r 10 -n 10 --name model --export-json "$fast" -- "$spin" 20
ok "run fast: exit 0" status_is 0
sc run -r 10 -n 10 --name model --export-json "$again" --baseline "$fast" -- "$spin" 20
ok "identical rerun against its baseline: exit 0" status_is 0
ok "identical rerun: the summary shows the comparison" out_has "Baseline comparison"
sc check "$again" --baseline "$fast" --max-regression 5%
ok "check identical rerun: exit 0" status_is 0
ok "check identical rerun: no regression" lacks "$TMP/out" "REGRESSION"
ok "check identical rerun: total_time by Welch's t" out_has "total_time"
ok "check identical rerun: verdict pass" out_has "Verdict: pass"

sc run -r 10 -n 10 --name model --export-json "$slow" -- "$spin" 80
ok "run slow: exit 0" status_is 0
sc check "$slow" --baseline "$fast" --max-regression 5%
ok "check 4x slower: exit 1" status_is 1
ok "check 4x slower: total_time regressed" grep -q "total_time.*REGRESSION" "$TMP/out"
ok "check 4x slower: throughput regressed" grep -q "throughput.*REGRESSION" "$TMP/out"
ok "check 4x slower: verdict fail" out_has "Verdict: fail"
sc check "$fast" --baseline "$slow" --max-regression 5
ok "check 4x faster: exit 0 (an improvement)" status_is 0
ok "check 4x faster: improvement" grep -q "total_time.*improvement" "$TMP/out"
sc check "$slow" --baseline "$fast" --max-regression 1000%
ok "check 4x slower, 1000% allowed: exit 0" status_is 0

# The verdict and the regressions travel in the exported report.
sc check "$slow" --baseline "$fast" --export-json "$TMP/judged.json"
ok "check --export-json: exit 1, report written" sh -c "[ $STATUS -eq 1 ] && [ -s '$TMP/judged.json' ]"

sc run -r 10 -n 10 --name model --baseline "$fast" --max-regression 5% -- "$spin" 80
ok "run --baseline 4x slower: exit 1" status_is 1

# ---- requirements -------------------------------------------------------------------------------
sc check "$fast" --require 'latency_ms<=1000,throughput>=10/s,peak_memory_mb<=1GB'
ok "require pass: exit 0" status_is 0
ok "require pass: the table" out_has "Production Readiness:"
ok "require pass: PASS rows" out_has "PASS"
ok "require pass: nothing on stderr" [ ! -s "$TMP/err" ]
sc check "$fast" --require 'latency_ms<=1' --require 'throughput>=1'
ok "require fail: exit 1" status_is 1
ok "require fail: FAIL row" grep -q "latency_ms<=1 .*FAIL" "$TMP/out"
ok "require fail: the other requirement passes" grep -q "throughput>=1 .*PASS" "$TMP/out"
ok "require fail: value, bound and limit columns" out_has "95% bound"
sc run -r 3 --require 'latency_ms<=0.001' --export-json "$TMP/req.json" -- "$spin" 1
ok "run --require fail: exit 1" status_is 1
ok "run --require fail: the report is still written" [ -s "$TMP/req.json" ]
ok "run --require fail: the summary ends with the table" out_has "Production Readiness:"
ok "run --require fail: FAIL row with its bound" grep -q "latency_ms<=0.001 .*FAIL" "$TMP/out"
ok "run --require fail: the verdict" out_has "Verdict: fail — NOT ready"
ok "run --require fail: checks and verdict in the JSON" jq_true "$TMP/req.json" \
	'.verdict == "fail" and (.checks | length == 1) and .checks[0].pass == false'

# ---- malformed expressions: exit 2, one line, with the position ---------------------------------
bad_require() {
	sc check "$fast" --require "$1"
	ok "--require '$1': exit 2" status_is 2
	ok "--require '$1': one line" one_err_line
	ok "--require '$1': $2" err_has "$2"
}
bad_require 'latency_p99_ms<=1x0' "position 17: unexpected 'x' after the number"
bad_require 'latncy_ms<=1' "position 0: unknown metric 'latncy_ms'"
bad_require 'latency_ms==1' "position 10: bad operator '=='"
bad_require 'latency_ms<=100 ms junk' "position 19: unexpected 'j' after the limit"
bad_require 'latency_ms<=nan' "position 12: 'nan' is not a finite number"
bad_require 'latency_ms<=inf' "position 12: 'inf' is not a finite number"
bad_require 'latency_ms<=-5' "position 12: latency_ms cannot be negative"
bad_require '' "position 0: empty requirement"
ok "malformed: the exact line" err_is "shotclock: --require: : position 0: empty requirement (expected: metric OP limit)"

# run refuses them before the command runs.
sc run --shell --require 'latency_ms<=x' -- "touch '$TMP/ran'"
ok "run --require malformed: exit 2" status_is 2
ok "run --require malformed: the command never ran" absent "$TMP/ran"

# ---- bad baseline files: exit 2, one line -------------------------------------------------------
bad_baseline() {
	sc check "$fast" --baseline "$1"
	ok "baseline $2: exit 2" status_is 2
	ok "baseline $2: one line" one_err_line
	ok "baseline $2: says '$3'" err_has "$3"
}
: >"$TMP/empty.json"
bad_baseline "$TMP/empty.json" empty "empty.json: the file is empty"
head -c 300 "$fast" >"$TMP/truncated.json"
bad_baseline "$TMP/truncated.json" truncated "truncated.json: line "
jq '.schema = "shotclock.report/0"' "$fast" >"$TMP/schema.json"
bad_baseline "$TMP/schema.json" "wrong schema" "schema 'shotclock.report/0' is not shotclock.report/1"
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "["; print "" }' >"$TMP/deep.json"
bad_baseline "$TMP/deep.json" "deeply nested" "nested deeper than 64 levels"
jq '.profiles[0].runs[0].wall_s = "slow"' "$fast" >"$TMP/type.json"
bad_baseline "$TMP/type.json" "wrong type" "profiles[0].runs[0].wall_s: expected a number, found a string"
bad_baseline "$TMP/missing.json" missing "missing.json: cannot open: No such file or directory"
jq '.profiles[0].name = "other"' "$fast" >"$TMP/other.json"
bad_baseline "$TMP/other.json" "no common profile" "no profile of the report is in"

sc run --shell --baseline "$TMP/missing.json" -- "touch '$TMP/ran'"
ok "run --baseline missing: exit 2" status_is 2
ok "run --baseline missing: one line" one_err_line
ok "run --baseline missing: the command never ran" absent "$TMP/ran"

# ---- usage --------------------------------------------------------------------------------------
sc check "$fast"
ok "check without a check: exit 2" status_is 2
ok "check without a check: says so" err_has "nothing to check"
sc check --require 'latency_ms<=1'
ok "check without a report: exit 2" status_is 2
sc check "$fast" --max-regression 5%
ok "--max-regression without --baseline: exit 2" status_is 2
for pct in abc -5 nan 5%% 2000 ''; do
	sc check "$fast" --baseline "$fast" --max-regression "$pct"
	ok "--max-regression '$pct': exit 2" status_is 2
done
sc check --help
ok "check --help: exit 0" status_is 0
ok "check --help: usage" out_has "Usage: shotclock check"

finish

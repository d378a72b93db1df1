#!/bin/sh
# test_compare.sh: `shotclock compare`: ranking commands of known relative speed, significance,
# the JSON comparison section, requirements per candidate, failures and bad input.
. "$(dirname "$0")/lib.sh"

spin="$SC_TARGETS/spin"
sleep_ms="$SC_TARGETS/sleep_ms"
exit_with="$SC_TARGETS/exit_with"
json="$TMP/compare.json"

# ---- three commands of known relative speed -----------------------------------------------------
# spin MS burns exactly MS ms of CPU, so 10, 20 and 40 are 1x, 2x and 4x the work. A run's wall
# time adds the process start (about 1 ms, the same for all), which pulls the ratios below 2 and 4:
# (20 + c) / (10 + c) >= 1.67 for c <= 5 ms. Preemption on a busy 2-core machine adds noise on top,
# which interleaving spreads over all three. Hence 2x within [1.6, 2.2] and 4x within [3.0, 4.4].
sc compare -r 8 -n 10 --no-heap --no-timeline --export-json "$json" \
	"slow=$spin 40" "fast=$spin 10" "mid=$spin 20"
ok "three commands: exit 0" status_is 0
ok "three commands: the table" out_has "Comparison (sorted by throughput):"
ok "three commands: fast is the fastest" grep -q "^ *1  fast .*fastest" "$TMP/out"
ok "three commands: mid second" grep -q "^ *2  mid .*slower than fast (significant)" "$TMP/out"
ok "three commands: slow third" grep -q "^ *3  slow .*slower than fast (significant)" "$TMP/out"
ok "json: sorted by throughput" jq_true "$json" '.comparison.sort == "throughput"'
ok "json: ranked fast, mid, slow" jq_true "$json" \
	'[.comparison.entries[].profile] == ["fast", "mid", "slow"]'
ok "json: ranks 1, 2, 3" jq_true "$json" '[.comparison.entries[].rank] == [1, 2, 3]'
mid=$(jq -r '.comparison.entries[1].relative_speed' "$json")
slow=$(jq -r '.comparison.entries[2].relative_speed' "$json")
ok "json: mid is 2x slower ($mid)" near "$mid" 1.9 0.3
ok "json: slow is 4x slower ($slow)" near "$slow" 3.7 0.7
# The interval's width depends on the machine's noise; what must hold is that it is there and says
# something: a half-width below half the ratio itself.
ok "json: errors are positive and informative" jq_true "$json" \
	'[.comparison.entries[1:][] | .relative_speed_error > 0 and .relative_speed_error < .relative_speed / 2] | all'
ok "json: the differences are significant" jq_true "$json" \
	'[.comparison.entries[1:][].significant] | all'
ok "json: the fastest is 1 +- 0" jq_true "$json" \
	'.comparison.entries[0].relative_speed == 1 and .comparison.entries[0].relative_speed_error == 0'
ok "json: interleaved runs counted per candidate" jq_true "$json" '[.profiles[].runs | length] == [8, 8, 8]'

# --sort memory ranks by peak memory; relative speed still refers to the fastest.
sc compare -r 3 --no-heap --no-timeline --sort memory --export-json "$json" \
	--name a --command "$spin 5" --name b --command "$spin 10"
ok "--name/--command pairs, --sort memory: exit 0" status_is 0
ok "--sort memory: the title" out_has "Comparison (sorted by memory):"
ok "--sort memory: json sort" jq_true "$json" '.comparison.sort == "memory"'

# ---- identical commands: a difference of about 1% is noise ----------------------------------------
# Two identical sleeps differ only by scheduling jitter. At 95% confidence Welch's test calls
# noise significant 5% of the time by construction (somewhat more when other tests load the
# machine in bursts that land on one candidate's runs), so up to three tries settle it: all three
# significant by chance would happen about 0.01% of the time.
identical() {
	sc compare -r 12 --no-heap --no-timeline "a=$sleep_ms 10" "b=$sleep_ms 10"
	status_is 0 && out_has "not significant" && return 0
	grep -A3 "^Comparison" "$TMP/out" | sed 's/^/    identical: /' >&2
	return 1
}
if identical || identical || identical; then identical_ok=true; else identical_ok=false; fi
ok "identical commands: not significant" $identical_ok

# ---- --shell and quoting -------------------------------------------------------------------------
sc compare -r 2 --no-heap --no-timeline --shell "a=$spin 1 && $spin 1" "b=$spin 2"
ok "--shell: exit 0" status_is 0
sc compare -r 2 --no-heap --no-timeline "a='$spin' 1" "b=\"$spin\" \\2"
ok "quoted words: exit 0" status_is 0

# ---- requirements apply to every candidate ------------------------------------------------------
sc compare -r 3 -n 10 --no-heap --no-timeline --export-json "$json" \
	--require 'throughput>=500' "fast=$spin 1" "slow=$spin 40"
ok "--require: slow fails it: exit 1" status_is 1
ok "--require: one check per candidate" jq_true "$json" '[.checks[].profile] | sort == ["fast", "slow"]'
ok "--require: fast passes, slow fails" jq_true "$json" \
	'(.checks[] | select(.profile == "fast") | .pass) and (.checks[] | select(.profile == "slow") | .pass | not)'

# ---- failures -------------------------------------------------------------------------------------
sc compare -r 3 --no-heap --no-timeline "good=$spin 1" "bad=$exit_with 4" "other=$spin 2"
ok "failing candidate: exit 3" status_is 3
ok "failing candidate: named" err_has "candidate 'bad' failed"
ok "failing candidate: one line" one_err_line
sc compare -r 3 --no-heap --no-timeline --ignore-failure --export-json "$json" \
	"good=$spin 1" "bad=$exit_with 4" "other=$spin 2"
ok "--ignore-failure: exit 0" status_is 0
ok "--ignore-failure: the failure is named" err_has "candidate 'bad' failed"
ok "--ignore-failure: the others ranked" jq_true "$json" \
	'[.comparison.entries[].profile] == ["good", "other"]'
sc compare -r 2 "a=$spin 1" "b=no-such-command-shotclock"
ok "not found: exit 127" status_is 127
ok "not found: named" err_has "candidate 'b' failed: command not found"

# ---- bad input -----------------------------------------------------------------------------------
sc compare "a=$spin 1"
ok "one candidate: exit 2" status_is 2
ok "one candidate: says so" err_has "needs at least two candidates"
sc compare "a=$spin 1" "a=$spin 2"
ok "duplicate names: exit 2" status_is 2
ok "duplicate names: named" err_has "two candidates are named 'a'"
sc compare "a=$spin 1" "b=  "
ok "empty command: exit 2" status_is 2
ok "empty command: named" err_has "candidate 'b': the command is empty"
sc compare "a=$spin 1" "b=echo 'open"
ok "unterminated quote: exit 2" status_is 2
ok "unterminated quote: where" err_has "unterminated single quote opened at position 6"
sc compare "a=$spin 1" "$spin 2"
ok "operand without NAME=: exit 2" status_is 2
sc compare --name a "b=$spin 1" "c=$spin 1"
ok "--name without --command: exit 2" status_is 2
sc compare --sort speed "a=$spin 1" "b=$spin 1"
ok "--sort unknown: exit 2" status_is 2
sc compare --help
ok "--help: exit 0" status_is 0

finish

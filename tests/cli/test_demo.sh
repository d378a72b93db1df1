#!/bin/sh
# test_demo.sh: `shotclock demo` profiles the bundled example and writes its report.
. "$(dirname "$0")/lib.sh"

sc demo --quick --out "$TMP/demo"
ok "demo --quick: exit 0" status_is 0
report="$TMP/demo/report.json"
ok "demo: wrote DIR/report.json" [ -s "$report" ]
ok "demo: schema" jq_true "$report" '.schema == "shotclock.report/1"'
ok "demo: 10000 predictions per run" jq_true "$report" '.profiles[0].n_samples == 10000'
ok "demo --quick: 3 runs" jq_true "$report" '.profiles[0].runs | length == 3'
ok "demo: every run succeeded" jq_true "$report" '[.profiles[0].runs[].exit_code == 0] | all'
ok "demo: the summary" out_has "Memory Profile:"
ok "demo: throughput shown" out_has "predictions/sec"
ok "demo: says where the report is" out_has "Report: $report"

# The example itself is deterministic: the same N gives the same line twice.
example="$(dirname "$SHOTCLOCK")/shotclock-example-predict"
ok "example: deterministic" [ "$("$example" 1000)" = "$("$example" 1000)" ]
ok "example: scores N games" sh -c "'$example' 1000 | grep -q '^games 1000 '"
ok "example: refuses a bad N" sh -c "! '$example' 12x 2>/dev/null"

# An --out that cannot be created is bad input, and nothing is written.
sc demo --quick --out "$TMP/missing/dir"
ok "demo, uncreatable --out: exit 2" status_is 2
ok "demo, uncreatable --out: one line" one_err_line
ok "demo, uncreatable --out: nothing created" absent "$TMP/missing"

finish

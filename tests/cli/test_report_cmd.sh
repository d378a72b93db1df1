#!/bin/sh
# test_report_cmd.sh: `shotclock report` re-renders a saved report in every format, `run` writes
# the same exports directly, and a file that is not a shotclock report is refused with one line.
. "$(dirname "$0")/lib.sh"

r="$TMP/r.json"
sc run -r 2 -n 10 --name nap --export-json "$r" --export-markdown "$TMP/run.md" \
	--export-csv "$TMP/run.csv" --export-html "$TMP/run.html" -- "$SC_TARGETS/sleep_ms" 20
ok "run with every export: exit 0" status_is 0
for f in run.md run.csv run.html; do
	ok "run: $f written" [ -s "$TMP/$f" ]
done

# ---- re-rendering: the same bytes as run's own exports --------------------------------------------
for fmt in md csv html; do
	sc report "$r" --format "$fmt" -o "$TMP/back.$fmt"
	ok "report --format $fmt -o: exit 0" status_is 0
	ok "report --format $fmt: same as run's export" same_file "$TMP/back.$fmt" "$TMP/run.$fmt"
	sc report "$r" --format "$fmt"
	ok "report --format $fmt to stdout: same bytes" same_file "$TMP/out" "$TMP/run.$fmt"
done
# The JSON round trip is exact, "created" included: it is the saved report's time, read back.
sc report "$r" --format json -o "$TMP/back.json"
ok "report --format json: exit 0" status_is 0
ok "report --format json: the same bytes" same_file "$TMP/back.json" "$r"
sc report "$r"
ok "report: Markdown by default" out_has "# shotclock report"
ok "md: the profile's table" out_has "## Profile: nap"
ok "csv: the documented header" sh -c "head -n 1 '$TMP/run.csv' | grep -q '^row_type,profile,kind,command,run,'"
ok "csv: one profile row and one row per run" [ "$(grep -c '^profile,' "$TMP/run.csv")" -eq 1 ] &&
	[ "$(grep -c '^run,' "$TMP/run.csv")" -eq 2 ]
ok "html: self-contained" lacks "$TMP/run.html" "src="
ok "html: the latency chart" grep -qF 'data-chart="latency"' "$TMP/run.html"

# ---- bad input: exit 2, one line ---------------------------------------------------------------
echo '{"hello": "world"}' >"$TMP/foreign.json"
sc report "$TMP/foreign.json" --format md
ok "not a report: exit 2" status_is 2
ok "not a report: one line" one_err_line
ok "not a report: says so" err_has "not a shotclock report"
jq '.schema = "shotclock.report/0"' "$r" >"$TMP/old.json"
sc report "$TMP/old.json" --format html
ok "older schema: exit 2" status_is 2
ok "older schema: one line" one_err_line
ok "older schema: names it" err_has "schema 'shotclock.report/0' is not shotclock.report/1"
head -c 300 "$r" >"$TMP/truncated.json"
sc report "$TMP/truncated.json" --format csv -o "$TMP/t.csv"
ok "truncated: exit 2" status_is 2
ok "truncated: one line" one_err_line
ok "truncated: line and column" err_has "line "
ok "truncated: nothing written" absent "$TMP/t.csv"
sc report "$TMP/missing.json"
ok "missing file: exit 2, one line" sh -c "[ $STATUS -eq 2 ] && [ \$(wc -l <'$TMP/err') -eq 1 ]"
sc report "$r" --format pdf
ok "unknown format: exit 2" status_is 2
ok "unknown format: one line" err_is "shotclock: --format: 'pdf' is not md, csv, html, json, folded or speedscope"
sc report
ok "no report: exit 2" status_is 2
sc report "$r" --format md -o "$TMP/no/such/dir/r.md"
ok "-o in a missing directory: exit 2, one line" sh -c "[ $STATUS -eq 2 ] && [ \$(wc -l <'$TMP/err') -eq 1 ]"
sc report --help
ok "--help: exit 0" status_is 0
finish

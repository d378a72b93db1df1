#!/bin/sh
# test_cpu_export.sh: a report's CPU samples through `shotclock report`: the Markdown hotspot
# table, the HTML flame graph (its data, its script allowed by digest), folded stacks and the
# speedscope file; and, where flamegraph.pl or inferno is installed, folded stacks they draw.
. "$(dirname "$0")/lib.sh"

# A report written by hand in the shape json.c writes: one command profile with two threads'
# stacks, one function named like markup with a ';' in it, and a second profile not sampled.
cat >"$TMP/cpu.json" <<'JSON'
{
  "schema": "shotclock.report/1",
  "created": "2026-11-25T04:50:00Z",
  "profiles": [
    {
      "name": "nba",
      "kind": "command",
      "command": "./nba-predict",
      "n_samples": 1,
      "cpu": {
        "available": true,
        "reason": null,
        "sampler": {"name": "perf_event", "note": null, "call_graph": "fp", "rate_hz": 997.0,
                    "samples": 400, "lost_samples": 0, "threads": 2, "processes": 1,
                    "duration_s": 0.25, "cpu_s": 0.4012036108},
        "hotspots": [
          {"function": "gbm_predict_row", "module": "/bin/nba", "file": "examples/nba/models.c",
           "line": 212, "samples": 244, "total_samples": 244, "self_percent": 61.0,
           "total_percent": 61.0,
           "lines": [{"file": "examples/nba/models.c", "line": 215, "samples": 200,
                      "percent": 50.0}]},
          {"function": "load_games", "module": "/bin/nba", "file": "examples/nba/load.c",
           "line": 30, "samples": 120, "total_samples": 120, "self_percent": 30.0,
           "total_percent": 30.0, "lines": []},
          {"function": "<b>odd;name</b>", "module": null, "file": null, "line": null,
           "samples": 36, "total_samples": 36, "self_percent": 9.0, "total_percent": 9.0,
           "lines": []},
          {"function": "main", "module": "/bin/nba", "file": "examples/nba/main.c", "line": 5,
           "samples": 0, "total_samples": 400, "self_percent": 0.0, "total_percent": 100.0,
           "lines": []}
        ],
        "stacks": [
          {"frames": ["main", "predict", "gbm_predict_row"], "samples": 244},
          {"frames": ["main", "load_games"], "samples": 120},
          {"frames": ["main", "<b>odd;name</b>"], "samples": 36}
        ]
      }
    },
    {"name": "other", "kind": "command", "command": "./other", "n_samples": 1,
     "cpu": {"available": false, "reason": "perf_event_open: Permission denied; no timer fallback"}}
  ]
}
JSON

sc report "$TMP/cpu.json" --format md
ok "md: exit 0" status_is 0
ok "md: the hotspot table" out_has "| 1 | gbm\\_predict\\_row | examples/nba/models.c:212 | 61% | 244 | 61% | 244 |"
ok "md: the sampler line" out_has "Sampler: perf\\_event (frame-pointer call graph), 997 Hz, 400 samples"
ok "md: the hottest line" out_has "| gbm\\_predict\\_row | examples/nba/models.c:215 | 200 | 50% |"
ok "md: why not measured" out_has "Not measured: perf\\_event\\_open: Permission denied; no timer fallback."

sc report "$TMP/cpu.json" --format html -o "$TMP/cpu.html"
ok "html: exit 0" status_is 0
ok "html: the flame graph" grep -qF '<svg data-chart="flame" data-flame="0"' "$TMP/cpu.html"
ok "html: markup in a name is text" grep -qF '<code>&lt;b&gt;odd;name&lt;/b&gt;</code>' "$TMP/cpu.html"
ok "html: no tag from the data" lacks "$TMP/cpu.html" "<b>"
ok "html: why not measured" grep -qF "CPU samples: not measured (perf_event_open: Permission denied; no timer fallback)." "$TMP/cpu.html"
# The content policy allows the one script by its SHA-256, computed here from the page itself.
script_hash() {
	awk 'index($0, "<script>(function () {") { on = 1; sub(/.*<script>/, "") }
		on { if (index($0, "</script>")) { sub(/<\/script>.*/, ""); printf "%s", $0; exit }
		     print }' "$TMP/cpu.html" | openssl dgst -sha256 -binary | base64
}
if command -v openssl >/dev/null; then
	ok "html: the policy names the script's digest" \
		grep -qF "script-src 'sha256-$(script_hash)'" "$TMP/cpu.html"
fi

sc report "$TMP/cpu.json" --format folded
ok "folded: exit 0" status_is 0
printf 'nba;main;predict;gbm_predict_row 244\nnba;main;load_games 120\nnba;main;<b>odd:name</b> 36\n' \
	>"$TMP/want.folded"
ok "folded: the stacks, exactly" same_file "$TMP/out" "$TMP/want.folded"

sc report "$TMP/cpu.json" --format speedscope -o "$TMP/cpu.speedscope.json"
ok "speedscope: exit 0" status_is 0
ok "speedscope: one sampled profile" jq_true "$TMP/cpu.speedscope.json" \
	'.profiles | length == 1 and .[0].type == "sampled" and .[0].endValue == 400'
ok "speedscope: samples are frame indexes" jq_true "$TMP/cpu.speedscope.json" \
	'[.profiles[0].samples[] | map(tostring) | join(",")] == ["0,1,2", "0,3", "0,4"]'
ok "speedscope: frames by name" jq_true "$TMP/cpu.speedscope.json" \
	'[.shared.frames[].name] == ["main", "predict", "gbm_predict_row", "load_games", "<b>odd;name</b>"]'
ok "speedscope: weights" jq_true "$TMP/cpu.speedscope.json" '.profiles[0].weights == [244, 120, 36]'

# A report from before CPU sampling (no cpu section): every format still renders.
jq 'del(.profiles[].cpu)' "$TMP/cpu.json" >"$TMP/old.json"
sc report "$TMP/old.json" --format folded
ok "old report: folded exit 0, empty" sh -c "[ $STATUS -eq 0 ] && [ ! -s '$TMP/out' ]"
sc report "$TMP/old.json" --format md
ok "old report: md says why" out_has "Not measured: not in this report."

# flamegraph.pl or inferno, when installed, draw the folded stacks.
sc report "$TMP/cpu.json" --format folded -o "$TMP/cpu.folded"
FLAMEGRAPH=$(command -v flamegraph.pl || command -v flamegraph || command -v inferno-flamegraph || true)
if [ -n "$FLAMEGRAPH" ]; then
	"$FLAMEGRAPH" "$TMP/cpu.folded" >"$TMP/flame.svg" 2>"$TMP/err"
	ok "$(basename "$FLAMEGRAPH"): exit 0" [ $? -eq 0 ]
	ok "$(basename "$FLAMEGRAPH"): an SVG" grep -q "<svg" "$TMP/flame.svg"
	ok "$(basename "$FLAMEGRAPH"): the functions" grep -qF "gbm_predict_row" "$TMP/flame.svg"
else
	echo "SKIP: neither flamegraph.pl nor inferno-flamegraph is installed"
fi
finish

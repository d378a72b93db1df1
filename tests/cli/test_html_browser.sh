#!/bin/sh
# test_html_browser.sh: the HTML report looked at as a person would: rendered by headless Chromium
# from a real run (heap, timeline) with regions and a comparison added, it loads without console
# errors and every chart is drawn. The screenshot is kept in $SC_ARTIFACTS (default:
# BUILD/test-artifacts/html-report.png) for a person to look at.
. "$(dirname "$0")/lib.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	# scripts/deps installs chromium, so CI always runs this test.
	echo "SKIP: chromium is not installed (scripts/deps installs it)"
	exit 0
fi

ART=${SC_ARTIFACTS:-$SC_TARGETS/../../test-artifacts}
mkdir -p "$ART" || exit 1

# ---- the sample report ------------------------------------------------------------------------
# leaking grows 20 MiB over 300 ms: a timeline of many points, heap sites and a leak finding.
sc run -r 2 -n 10 --name "leaky <b>model</b>" --export-json "$TMP/run.json" -- \
	"$SC_TARGETS/leaking" 20 300
ok "run: exit 0" status_is 0
ok "run: a timeline" jq_true "$TMP/run.json" '.profiles[0].memory.timeline | length > 2'
ok "run: heap sites" jq_true "$TMP/run.json" '.profiles[0].heap.sites | length > 0'

# Regions and a comparison are added when the run has none (a command without sc_region_*), in
# the shape json.c writes them, so that every chart of the page is drawn; one region is named like
# a tag, which must reach the page as text.
jq '.profiles[0].regions = (.profiles[0].regions // [
	{"name": "load", "parent": null, "depth": 0, "calls": 2, "total_s": 0.2, "self_s": 0.15,
	 "share": 0.66, "latency_ms": null, "memory_increase_mb": 20, "allocations": 80,
	 "bytes_allocated": 20971520},
	{"name": "<script>alert(1)</script>", "parent": "load", "depth": 1, "calls": 2,
	 "total_s": 0.05, "self_s": 0.05, "share": 0.25, "latency_ms": null,
	 "memory_increase_mb": 0, "allocations": 0, "bytes_allocated": 0},
	{"name": "predict", "parent": null, "depth": 0, "calls": 20, "total_s": 0.1,
	 "self_s": 0.1, "share": 0.33, "latency_ms": null, "memory_increase_mb": 0,
	 "allocations": 0, "bytes_allocated": 0}])
	| .profiles[1] = (.profiles[0] | .name = "baseline" | .regions = [])
	| .comparison = (.comparison // {"sort": "throughput", "entries": [
	{"profile": "baseline", "rank": 1, "relative_speed": 1, "relative_speed_error": 0,
	 "significant": false},
	{"profile": .profiles[0].name, "rank": 2, "relative_speed": 1.6,
	 "relative_speed_error": 0.2, "significant": true}]})' "$TMP/run.json" >"$TMP/sample.json"
page="$TMP/report.html"
sc report "$TMP/sample.json" --format html -o "$page"
ok "report --format html: exit 0" status_is 0

# ---- rendered -----------------------------------------------------------------------------------
# Chromium wants a writable home and profile; --no-sandbox because tests may run as root.
export HOME="$TMP/home"
mkdir -p "$HOME"
chrome() {
	timeout 120 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$TMP/profile" --enable-logging=stderr --v=0 "$@"
}
chrome --screenshot="$ART/html-report.png" --window-size=1280,2000 "file://$page" \
	>"$TMP/shot.out" 2>"$TMP/shot.err"
ok "screenshot: chromium exit 0" [ $? -eq 0 ]
ok "screenshot: a PNG" sh -c "head -c 4 '$ART/html-report.png' | grep -q PNG"
ok "screenshot: not blank (> 20 kB)" [ "$(wc -c <"$ART/html-report.png")" -gt 20000 ]
chrome --dump-dom "file://$page" >"$TMP/dom.html" 2>"$TMP/dom.err"
ok "dump-dom: chromium exit 0" [ $? -eq 0 ]
cat "$TMP/shot.err" "$TMP/dom.err" >"$TMP/console"
# The page's console (script errors, refused loads under its content policy) goes to the log
# as CONSOLE lines; chromium's own chatter (dbus, GPU) does not count.
ok "no console messages" lacks "$TMP/console" "CONSOLE"
ok "no uncaught error" lacks "$TMP/console" "Uncaught"
ok "nothing refused by the content policy" lacks "$TMP/console" "Refused to"

# chart_drawn NAME: the DOM has <svg data-chart="NAME"> with a title and shapes inside.
chart_drawn() {
	awk -v chart="$1" '
		index($0, "<svg data-chart=\"" chart "\"") { inside = 1 }
		inside && /<title>/ { title = 1 }
		inside && /<(rect|polyline|circle|line)[ >]/ { shapes++ }
		inside && /<\/svg>/ { inside = 0 }
		END { exit !(title && shapes >= 2) }' "$TMP/dom.html"
}
for chart in latency memory regions sites comparison; do
	ok "chart '$chart' is drawn" chart_drawn "$chart"
done
ok "the page ran no script" lacks "$TMP/dom.html" "<script"
ok "a region named <script> is text" grep -qF "&lt;script&gt;alert(1)&lt;/script&gt;" "$TMP/dom.html"
ok "a profile named with markup is text" grep -qF "leaky &lt;b&gt;model&lt;/b&gt;" "$TMP/dom.html"
ok "the findings are beside the charts" grep -qF "memory-growth" "$TMP/dom.html"
echo "screenshot: $ART/html-report.png"
finish

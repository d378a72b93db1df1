#!/bin/sh
# test_html_browser.sh: the HTML report looked at as a person would: rendered by headless Chromium
# from a real run (heap, timeline) with regions, CPU stacks and a comparison added, it loads
# without console errors and every chart is drawn; the flame graph zooms on a click and its search
# highlights what it finds. The screenshot is kept in $SC_ARTIFACTS (default:
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
	| .profiles[0].cpu = {"available": true, "reason": null,
	  "sampler": {"name": "perf_event", "note": null, "call_graph": "fp", "rate_hz": 997.0,
	    "samples": 400, "lost_samples": 0, "threads": 1, "processes": 1, "duration_s": 0.4,
	    "cpu_s": 0.4012036108},
	  "hotspots": [
	    {"function": "gbm_predict_row", "module": null, "file": "models.c", "line": 212,
	     "samples": 244, "total_samples": 244, "self_percent": 61.0, "total_percent": 61.0,
	     "lines": []},
	    {"function": "load_games", "module": null, "file": "load.c", "line": 30,
	     "samples": 120, "total_samples": 120, "self_percent": 30.0, "total_percent": 30.0,
	     "lines": []},
	    {"function": "<script>alert(2)</script>", "module": null, "file": null, "line": null,
	     "samples": 36, "total_samples": 36, "self_percent": 9.0, "total_percent": 9.0,
	     "lines": []}],
	  "stacks": [
	    {"frames": ["main", "predict", "gbm_predict_row"], "samples": 244},
	    {"frames": ["main", "load_games"], "samples": 120},
	    {"frames": ["main", "<script>alert(2)</script>"], "samples": 36}]}
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
# The flame graph is drawn by the page's script, so everything in it is on one line of the DOM:
# flame_svg prints the first profile's <svg data-chart="flame"> to its </svg>.
flame_svg() {
	awk 'BEGIN { RS = "</svg>" } index($0, "<svg data-chart=\"flame\" data-flame=\"0\"") {
		sub(/.*<svg data-chart="flame" data-flame="0"/, ""); print; exit }' "$1"
}
flame_svg "$TMP/dom.html" >"$TMP/flame.svg"
ok "the flame graph has frames" [ "$(grep -o '<rect ' "$TMP/flame.svg" | wc -l)" -ge 5 ]
for f in all main predict gbm_predict_row load_games; do
	ok "the flame graph shows $f" grep -qF "data-name=\"$f\"" "$TMP/flame.svg"
done
ok "a frame named <script> is text" grep -qF 'data-name="&lt;script&gt;alert(2)&lt;/script&gt;"' "$TMP/flame.svg"
# The page's only scripts are the flame graph's: its code, and each profile's data.
ok "the only scripts are the flame graph's" [ "$(grep -o '<script' "$TMP/dom.html" | wc -l)" -eq 3 ]

# ---- the flame graph used -------------------------------------------------------------------
# A copy of the page, without its content policy (which allows only its own script), gets a check
# at its end that clicks a frame and types in the search box, then writes what it saw into the
# DOM: the clicked frame must span the whole width (1180), a frame outside it must be gone, and
# searching "gbm" must highlight gbm_predict_row and say that it holds 61% of the samples.
cat >"$TMP/selftest.js" <<'JS'
<script>
(function () {
  var out = [];
  function rect(name) {
    var g = document.querySelector('svg[data-flame="0"] g[data-name="' + name + '"]');
    return g ? g.querySelector('rect') : null;
  }
  rect('load_games').dispatchEvent(new MouseEvent('click', {bubbles: true}));
  out.push('zoom-width=' + rect('load_games').getAttribute('width'));
  out.push('after-zoom-gbm=' + (rect('gbm_predict_row') ? 'shown' : 'gone'));
  document.querySelector('button[data-flame-reset="0"]').click();
  out.push('reset-width=' + rect('main').getAttribute('width'));
  var search = document.querySelector('input[data-flame-search="0"]');
  search.value = 'gbm';
  search.dispatchEvent(new Event('input'));
  out.push('matched=' + document.querySelectorAll('svg[data-flame="0"] rect.match').length);
  out.push('highlighted=' + rect('gbm_predict_row').getAttribute('class'));
  out.push('says=' + document.querySelector('span[data-flame-match="0"]').textContent);
  var pre = document.createElement('pre');
  pre.id = 'selftest';
  pre.textContent = out.join(' ; ');
  document.body.appendChild(pre);
})();
</script>
JS
awk -v js="$TMP/selftest.js" '/Content-Security-Policy/ { next }
	/<\/body>/ { while ((getline line < js) > 0) print line }
	{ print }' "$page" >"$TMP/selftest.html"
chrome --dump-dom "file://$TMP/selftest.html" >"$TMP/selftest.dom" 2>"$TMP/selftest.err"
ok "self-test: chromium exit 0" [ $? -eq 0 ]
grep -o '<pre id="selftest">[^<]*' "$TMP/selftest.dom" | sed 's/^/    /'
ok "click: the frame spans the whole width" grep -qF "zoom-width=1180.00 ;" "$TMP/selftest.dom"
ok "click: frames outside it are gone" grep -qF "after-zoom-gbm=gone" "$TMP/selftest.dom"
ok "reset: the root frames span the width again" grep -qF "reset-width=1180.00" "$TMP/selftest.dom"
ok "search: one frame highlighted" grep -qF "matched=1 ;" "$TMP/selftest.dom"
ok "search: gbm_predict_row is the one" grep -qF "highlighted=match" "$TMP/selftest.dom"
ok "search: the matched share" grep -qF "says=matched: 61.0% (244 of 400 samples)" "$TMP/selftest.dom"
ok "self-test: no uncaught error" lacks "$TMP/selftest.err" "Uncaught"
ok "a region named <script> is text" grep -qF "&lt;script&gt;alert(1)&lt;/script&gt;" "$TMP/dom.html"
ok "a profile named with markup is text" grep -qF "leaky &lt;b&gt;model&lt;/b&gt;" "$TMP/dom.html"
ok "the findings are beside the charts" grep -qF "memory-growth" "$TMP/dom.html"
echo "screenshot: $ART/html-report.png"
finish

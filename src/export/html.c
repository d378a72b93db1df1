/* html.c: the HTML export of a report: one self-contained page, charts drawn as inline SVG. */
#include "internal.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * The page must open anywhere, offline, years later, and from a CI artefact store that serves it
 * with a strict content policy: so it holds everything itself (inline CSS, inline SVG, no font, no
 * image, no link to any network address). The one script is the flame graph's, a constant of
 * this file, present only when a profile has CPU stacks; the content policy names it by its
 * SHA-256, so nothing else could run even if something slipped through. Every string that came from
 * the user or the profiled program (names, command lines, function and file names, messages) goes
 * through esc(), so a region named "<script>" is shown as text. Each chart is an <svg> with a
 * data-chart attribute and a <title>, which the browser test and screen readers find; a chart
 * with nothing to draw is left out and a line of text says "no data" instead of an empty box.
 */

#define CHART_W     640
#define BAR_H       22 /* one horizontal bar and its gap */
#define LABEL_W     220
#define MAX_SITES   10
#define MAX_REGIONS 20
#define LABEL_CHARS 34 /* longer labels are cut (the full text is in the bar's tooltip) */
#define MIB         1048576.0
#define HOTSPOTS    15   /* rows of the CPU hotspot table */
#define FLAME_W     1180 /* the flame graph's width in the viewBox (flame.js's W) */
#define FLAME_ROW   18   /* one frame's height (flame.js's ROW) */

/* ---- text ------------------------------------------------------------------------------------ */

/* s as HTML text or attribute value; control characters become '?' (they have no place in a
 * page, and some are not even allowed in XML, which an SVG tool may parse the page as). */
static void esc_n(FILE *fp, const char *s, size_t max_chars)
{
	size_t chars = 0;
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		/* Count characters, not bytes: a UTF-8 continuation byte does not start one. */
		if ((c & 0xc0) != 0x80 && ++chars > max_chars) {
			fputs("…", fp);
			return;
		}
		switch (c) {
		case '&':
			fputs("&amp;", fp);
			break;
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		case '\'':
			fputs("&#39;", fp);
			break;
		default:
			fputc(c < 0x20 || c == 0x7f ? '?' : c, fp);
		}
	}
}

static void esc(FILE *fp, const char *s)
{
	if (!s || !*s)
		fputs("n/a", fp);
	else
		esc_n(fp, s, SIZE_MAX);
}

/* Bytes in the unit that keeps 1 to 4 digits before the point. */
static void bytes(FILE *fp, double v)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	if (!isfinite(v) || v < 0) {
		fputs("n/a", fp);
		return;
	}
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof units / sizeof units[0])
		v /= 1024, u++;
	if (u)
		fprintf(fp, "%.3g %s", v, units[u]);
	else
		fprintf(fp, "%.0f %s", v, units[u]);
}

/* ---- the page's frame ------------------------------------------------------------------------ */

static const char style[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;"
    "background:#f6f7f9;color:#1d2430;line-height:1.4}"
    "main{max-width:1240px;margin:0 auto;padding:16px 24px 48px}"
    "h1{margin:8px 0 4px}h2{margin:32px 0 8px;border-bottom:1px solid #d5d9e0}"
    "h3{margin:16px 0 6px;font-size:1.05em}"
    "code{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,monospace;font-size:.92em;"
    "background:#eceff3;padding:1px 4px;border-radius:3px;word-break:break-all}"
    ".meta{color:#566074}.verdict{font-weight:700;padding:2px 10px;border-radius:4px}"
    ".pass{background:#d7f2dd;color:#17622b}.fail{background:#fbdada;color:#9b1c1c}"
    ".none{background:#e6e9ee;color:#566074}"
    ".row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start;margin:8px 0}"
    "figure{margin:0;background:#fff;border:1px solid #d5d9e0;border-radius:6px;padding:8px;"
    "flex:0 1 660px;max-width:100%}"
    "figcaption{font-weight:600;margin-bottom:4px}"
    "aside{flex:1 1 300px;background:#fff;border:1px solid #d5d9e0;border-radius:6px;"
    "padding:8px 12px}"
    "svg{max-width:100%;height:auto;display:block}"
    "svg text{font-size:11px;fill:#1d2430}"
    ".axis{stroke:#8a93a3;stroke-width:1}.grid{stroke:#e3e6eb;stroke-width:1}"
    ".bar{fill:#4f7bd9}.bar2{fill:#1f3f8c}.bar3{fill:#d98a4f}"
    ".err{stroke:#1d2430;stroke-width:1.5}.ref{stroke:#c0392b;stroke-width:1.5;"
    "stroke-dasharray:6 4}.line{fill:none;stroke:#4f7bd9;stroke-width:2}"
    "table{border-collapse:collapse;background:#fff;margin:6px 0}"
    "th,td{border:1px solid #d5d9e0;padding:3px 8px;text-align:left;vertical-align:top}"
    "th{white-space:nowrap}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".nodata{color:#566074;font-style:italic}"
    ".critical{color:#9b1c1c;font-weight:600}.warning{color:#8a5a00;font-weight:600}"
    "ul{padding-left:20px;margin:4px 0}li{margin:3px 0}"
    "figure.wide{flex:1 1 100%}.flame-tools{margin:4px 0 6px}.flame-tools input{width:260px}"
    ".flame-match{margin-left:8px;color:#566074}"
    "svg[data-chart=flame] g.frame{cursor:pointer}"
    "svg[data-chart=flame] rect{stroke:#fff;stroke-width:.5}"
    "svg[data-chart=flame] rect.match{fill:#c542e0}"
    "svg[data-chart=flame] text{font-size:11px;fill:#1d2430;pointer-events:none}";

/*
 * The flame graph (flame.js, kept here as the page's one script): each profile's stacks are data
 * in a <script type="application/json"> next to its <svg data-chart="flame">, which this draws
 * into: the root ("all") at the bottom, callers below callees, widths proportional to samples,
 * children in name order as flamegraph.pl draws them. Clicking a frame zooms into it (its
 * ancestors stay, full width, below it), "reset zoom" zooms out, and the search box highlights
 * every frame whose name contains the text and says what share of the samples they hold. Names
 * reach the page through textContent and setAttribute only, never as markup.
 */
static const char flame_js[] =
    "(function () {\n"
    "  'use strict';\n"
    "  var ROW = 18, W = 1180;\n"
    "  /* Colours by name, so a function keeps its colour from one report to the next. */\n"
    "  function colour(name) {\n"
    "    var h = 0;\n"
    "    for (var i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;\n"
    "    return 'hsl(' + (h % 50 + 5) + ',' + (70 + (h >>> 6) % 25) + '%,' + (52 + (h >>> 11) % "
    "18) + '%)';\n"
    "  }\n"
    "  /* The stacks merged into a tree: a node per distinct path, children by name. */\n"
    "  function build(data) {\n"
    "    var root = {name: 'all', value: 0, children: [], kids: new Map(), parent: null, depth: 0, "
    "x: 0};\n"
    "    var deepest = 0;\n"
    "    data.stacks.forEach(function (s) {\n"
    "      var node = root;\n"
    "      root.value += s[0];\n"
    "      for (var i = 1; i < s.length; i++) {\n"
    "        var name = data.names[s[i]];\n"
    "        var child = node.kids.get(name);\n"
    "        if (!child) {\n"
    "          child = {name: name, value: 0, children: [], kids: new Map(), parent: node, depth: "
    "node.depth + 1, x: 0};\n"
    "          node.kids.set(name, child);\n"
    "          node.children.push(child);\n"
    "          if (child.depth > deepest) deepest = child.depth;\n"
    "        }\n"
    "        child.value += s[0];\n"
    "        node = child;\n"
    "      }\n"
    "    });\n"
    "    (function place(node) {\n"
    "      var x = node.x;\n"
    "      node.children.sort(function (a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 "
    ": 0; });\n"
    "      node.children.forEach(function (c) { c.x = x; x += c.value; place(c); });\n"
    "    })(root);\n"
    "    root.deepest = deepest;\n"
    "    return root;\n"
    "  }\n"
    "  function percent(part, whole) {\n"
    "    return whole > 0 ? (100 * part / whole).toFixed(1) + '%' : 'n/a';\n"
    "  }\n"
    "  function Flame(svg, data, search, reset, match) {\n"
    "    var root = build(data), zoom = root, term = '';\n"
    "    var height = (root.deepest + 1) * ROW;\n"
    "    var ns = svg.namespaceURI;\n"
    "    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + height);\n"
    "    svg.setAttribute('height', String(height));\n"
    "    function el(name, attrs) {\n"
    "      var e = document.createElementNS(ns, name);\n"
    "      for (var k in attrs) e.setAttribute(k, attrs[k]);\n"
    "      return e;\n"
    "    }\n"
    "    function matches(node) {\n"
    "      return term !== '' && node !== root && node.name.toLowerCase().indexOf(term) >= 0;\n"
    "    }\n"
    "    function frame(node, x, w) {\n"
    "      var g = el('g', {'class': 'frame'});\n"
    "      g.setAttribute('data-name', node.name);\n"
    "      var title = el('title', {});\n"
    "      title.textContent = node.name + ': ' + node.value + ' samples (' + percent(node.value, "
    "root.value) + ')';\n"
    "      g.appendChild(title);\n"
    "      var rect = el('rect', {x: x.toFixed(2), y: String(height - (node.depth + 1) * ROW),\n"
    "                             width: w.toFixed(2), height: String(ROW - 1), fill: "
    "colour(node.name)});\n"
    "      if (matches(node)) rect.setAttribute('class', 'match');\n"
    "      g.appendChild(rect);\n"
    "      var fits = Math.floor((w - 6) / 7);\n"
    "      if (fits >= 3) {\n"
    "        var text = el('text', {x: (x + 3).toFixed(2), y: String(height - node.depth * ROW - "
    "5)});\n"
    "        text.textContent = node.name.length <= fits ? node.name : node.name.slice(0, fits - "
    "1) + '\\u2026';\n"
    "        g.appendChild(text);\n"
    "      }\n"
    "      g.addEventListener('click', function () { zoom = node; draw(); });\n"
    "      svg.appendChild(g);\n"
    "    }\n"
    "    function draw() {\n"
    "      Array.prototype.slice.call(svg.querySelectorAll('g.frame')).forEach(function (g) { "
    "svg.removeChild(g); });\n"
    "      for (var a = zoom.parent; a; a = a.parent) frame(a, 0, W);\n"
    "      var scale = W / zoom.value;\n"
    "      (function walk(node) {\n"
    "        var w = node.value * scale;\n"
    "        if (w < 0.3) return;\n"
    "        frame(node, (node.x - zoom.x) * scale, w);\n"
    "        node.children.forEach(walk);\n"
    "      })(zoom);\n"
    "      var matched = 0;\n"
    "      (function count(node) {\n"
    "        if (matches(node)) { matched += node.value; return; }\n"
    "        node.children.forEach(count);\n"
    "      })(root);\n"
    "      match.textContent = term === '' ? '' : 'matched: ' + percent(matched, root.value) + ' "
    "(' + matched + ' of ' + root.value + ' samples)';\n"
    "    }\n"
    "    search.addEventListener('input', function () { term = search.value.trim().toLowerCase(); "
    "draw(); });\n"
    "    reset.addEventListener('click', function () { zoom = root; draw(); });\n"
    "    if (root.value > 0) draw();\n"
    "  }\n"
    "  Array.prototype.forEach.call(document.querySelectorAll('svg[data-flame]'), function (svg) "
    "{\n"
    "    var id = svg.getAttribute('data-flame');\n"
    "    var data = document.querySelector('script[data-flame-data=\"' + id + '\"]');\n"
    "    var search = document.querySelector('input[data-flame-search=\"' + id + '\"]');\n"
    "    var reset = document.querySelector('button[data-flame-reset=\"' + id + '\"]');\n"
    "    var match = document.querySelector('span[data-flame-match=\"' + id + '\"]');\n"
    "    if (data && search && reset && match) Flame(svg, JSON.parse(data.textContent), search, "
    "reset, match);\n"
    "  });\n"
    "})();\n";

/* ---- the content policy's hash of the script ------------------------------------------------ */

/* SHA-256 (FIPS 180-4), for the one hash the Content-Security-Policy needs: the flame graph's
 * script is allowed by its digest, so the page runs that script and nothing else. */
static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t ror(uint32_t x, int n)
{
	return x >> n | x << (32 - n);
}

static void sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], v[8];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++)
		w[i] = w[i - 16] + (ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ w[i - 15] >> 3) +
		       w[i - 7] + (ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ w[i - 2] >> 10);
	memcpy(v, h, sizeof v);
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = v[7] + (ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25)) +
		              ((v[4] & v[5]) ^ (~v[4] & v[6])) + sha_k[i] + w[i];
		uint32_t t2 = (ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22)) +
		              ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof v[0]);
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++)
		h[i] += v[i];
}

/* The 'sha256-...' source expression of text: its digest in base64. */
static void csp_hash(const char *text, size_t len, char out[45])
{
	uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	unsigned char block[64];
	size_t done = 0;
	for (; len - done >= 64; done += 64)
		sha256_block(h, (const unsigned char *)text + done);
	size_t rest = len - done;
	memset(block, 0, sizeof block);
	memcpy(block, text + done, rest);
	block[rest] = 0x80;
	if (rest >= 56) {
		sha256_block(h, block);
		memset(block, 0, sizeof block);
	}
	uint64_t bits = (uint64_t)len * 8;
	for (int i = 0; i < 8; i++)
		block[63 - i] = (unsigned char)(bits >> (8 * i));
	sha256_block(h, block);
	unsigned char digest[33];
	for (int i = 0; i < 32; i++)
		digest[i] = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
	digest[32] = 0;
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (int i = 0; i < 33; i += 3) {
		uint32_t t = (uint32_t)digest[i] << 16 | (uint32_t)digest[i + 1] << 8 |
		             (i + 2 < 33 ? digest[i + 2] : 0);
		out[o++] = b64[t >> 18 & 63];
		out[o++] = b64[t >> 12 & 63];
		out[o++] = i + 1 < 32 ? b64[t >> 6 & 63] : '=';
		out[o++] = i + 2 < 32 ? b64[t & 63] : '=';
	}
	out[44] = '\0';
}

/* Whether the page draws a flame graph, and so carries the script. */
static bool has_flame(const sc_report *r)
{
	for (size_t i = 0; i < r->n_profiles; i++)
		if (r->profiles[i].cpu.available && r->profiles[i].cpu.n_stacks)
			return true;
	return false;
}

static void page_start(FILE *fp, const sc_report *r)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n", fp);
	/* The page asks for nothing from anywhere: no network, styles inline, and no script but
	 * the flame graph's, allowed by its digest. */
	fputs("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; img-src data:",
	      fp);
	if (has_flame(r)) {
		char hash[45];
		csp_hash(flame_js, sizeof flame_js - 1, hash);
		fprintf(fp, "; script-src 'sha256-%s'", hash);
	}
	fputs("\">\n", fp);
	fputs("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n", fp);
	fputs("<title>shotclock report", fp);
	if (r->n_profiles == 1) {
		fputs(": ", fp);
		esc(fp, r->profiles[0].name);
	}
	fprintf(fp, "</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n", style);
	fputs("<h1>shotclock report</h1>\n<p class=\"meta\">", fp);
	esc(fp, r->created);
	fprintf(fp, " · shotclock %s · %s · ", SC_VERSION, SC_REPORT_SCHEMA);
	if (!r->verdict)
		fputs("<span class=\"verdict none\">not checked</span>", fp);
	else if (strcmp(r->verdict, "fail") == 0)
		fputs("<span class=\"verdict fail\">FAIL</span>", fp);
	else
		fputs("<span class=\"verdict pass\">PASS</span>", fp);
	fputs("</p>\n", fp);
}

static void svg_start(FILE *fp, const char *chart, int w, int h, const char *title,
                      const char *subject)
{
	fprintf(fp,
	        "<svg data-chart=\"%s\" viewBox=\"0 0 %d %d\" "
	        "width=\"%d\" height=\"%d\" role=\"img\">\n<title>%s",
	        chart, w, h, w, h, title);
	if (subject) {
		fputs(": ", fp);
		esc(fp, subject);
	}
	fputs("</title>\n", fp);
}

static void nodata(FILE *fp, const char *what, const char *why)
{
	fprintf(fp, "<p class=\"nodata\">%s: no data", what);
	if (why && *why) {
		fputs(" (", fp);
		esc(fp, why);
		fputc(')', fp);
	}
	fputs(".</p>\n", fp);
}

/* A horizontal bar chart's row: label on the left, bar scaled to max, the value at its end. */
static void hbar(FILE *fp, int y, const char *label, const char *tooltip, double value, double max,
                 const char *cls)
{
	double len =
	    max > 0 && isfinite(value) && value > 0 ? value / max * (CHART_W - LABEL_W - 80) : 0;
	fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", LABEL_W - 6, y + 14);
	esc_n(fp, label, LABEL_CHARS);
	fprintf(fp, "</text>\n<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\">",
	        cls, LABEL_W, y + 2, len, BAR_H - 6);
	fputs("<title>", fp);
	esc(fp, tooltip ? tooltip : label);
	fputs("</title></rect>\n", fp);
}

/* ---- charts ---------------------------------------------------------------------------------- */

static void latency_chart(FILE *fp, const sc_profile *p)
{
	const sc_latency *l = &p->latency;
	const char *names[] = {"mean", "p50", "p90", "p95", "p99", "p99.9", "max"};
	const double v[] = {l->mean_ms, l->p50_ms,  l->p90_ms, l->p95_ms,
	                    l->p99_ms,  l->p999_ms, l->max_ms};
	double max = 0;
	for (size_t i = 0; l->available && i < 7; i++)
		if (isfinite(v[i]) && v[i] > max)
			max = v[i];
	fputs("<figure>\n<figcaption>Latency per prediction (ms)</figcaption>\n", fp);
	if (!(max > 0)) {
		nodata(fp, "Latency", l->available ? "every figure is 0" : "not measured");
		fputs("</figure>\n", fp);
		return;
	}
	const int h = 240, top = 20, bottom = 40, left = 50;
	const double plot_h = h - top - bottom, slot = (CHART_W - left - 10) / 7.0;
	svg_start(fp, "latency", CHART_W, h, "Latency percentiles (ms)", p->name);
	fprintf(fp, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", left,
	        h - bottom, CHART_W - 10, h - bottom);
	fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n", left - 4, h - bottom);
	fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", left - 4, top + 4);
	sc__fmt_num(fp, max);
	fputs("</text>\n", fp);
	for (size_t i = 0; i < 7; i++) {
		double bh = isfinite(v[i]) && v[i] > 0 ? v[i] / max * plot_h : 0;
		double x = left + slot * (double)i + slot * 0.15;
		fprintf(fp,
		        "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
		        "<title>%s: ",
		        i == 0 ? "bar3" : "bar", x, h - bottom - bh, slot * 0.7, bh, names[i]);
		sc__fmt_num(fp, v[i]);
		fputs(" ms</title></rect>\n", fp);
		fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x + slot * 0.35,
		        h - bottom - bh - 4);
		sc__fmt_num(fp, v[i]);
		fprintf(fp, "</text>\n<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
		        x + slot * 0.35, h - bottom + 16, names[i]);
	}
	fprintf(fp, "<text x=\"%d\" y=\"%d\">source: %s, %" PRIu64 " values</text>\n", left, h - 6,
	        l->source ? l->source : "n/a", l->count);
	fputs("</svg>\n</figure>\n", fp);
}

/* RSS of the process tree over the sampled run; the heap's peak live bytes as a reference line,
 * so the distance between the two shows what the allocator and the rest of the process hold. */
static void memory_chart(FILE *fp, const sc_profile *p)
{
	fputs("<figure>\n<figcaption>Memory over time (MiB)</figcaption>\n", fp);
	double t_max = 0, y_max = 0;
	size_t points = 0;
	for (size_t i = 0; i < p->n_timeline; i++) {
		const sc_timeline_point *t = &p->timeline[i];
		if (!isfinite(t->t_s) || !isfinite(t->rss_mb))
			continue;
		points++;
		t_max = fmax(t_max, t->t_s);
		y_max = fmax(y_max, t->rss_mb);
	}
	const sc_heap_profile *hp = &p->heap;
	double heap_mb =
	    hp->available && hp->peak_live_bytes >= 0 ? hp->peak_live_bytes / MIB : NAN;
	if (points == 0 || !(y_max > 0)) {
		nodata(fp, "Memory timeline",
		       p->kind && strcmp(p->kind, "command") == 0
		           ? "no sample was taken: the run was shorter than the first interval, or "
		             "--no-timeline"
		           : "in-process profiles sample no timeline");
		fputs("</figure>\n", fp);
		return;
	}
	if (isfinite(heap_mb))
		y_max = fmax(y_max, heap_mb);
	y_max *= 1.1;
	if (!(t_max > 0))
		t_max = 1; /* one point: drawn at the left */
	const int h = 260, top = 16, bottom = 44, left = 56, right = 16;
	const double pw = CHART_W - left - right, ph = h - top - bottom;
	svg_start(fp, "memory", CHART_W, h, "Memory timeline: RSS and live heap (MiB)", p->name);
	fprintf(fp,
	        "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n"
	        "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
	        left, h - bottom, CHART_W - right, h - bottom, left, top, left, h - bottom);
	fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>\n", left - 4, h - bottom);
	fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", left - 4, top + 8);
	sc__fmt_num(fp, y_max);
	fprintf(fp, "</text>\n<text x=\"%d\" y=\"%d\">0 s</text>\n", left, h - bottom + 14);
	fprintf(fp, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", CHART_W - right,
	        h - bottom + 14);
	sc__fmt_num(fp, t_max);
	fputs(" s</text>\n", fp);
	if (points == 1) {
		for (size_t i = 0; i < p->n_timeline; i++)
			if (isfinite(p->timeline[i].t_s) && isfinite(p->timeline[i].rss_mb))
				fprintf(fp,
				        "<circle class=\"bar\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"/>\n",
				        left + p->timeline[i].t_s / t_max * pw,
				        h - bottom - p->timeline[i].rss_mb / y_max * ph);
	} else {
		fputs("<polyline class=\"line\" points=\"", fp);
		for (size_t i = 0; i < p->n_timeline; i++) {
			const sc_timeline_point *t = &p->timeline[i];
			if (isfinite(t->t_s) && isfinite(t->rss_mb))
				fprintf(fp, "%.1f,%.1f ", left + t->t_s / t_max * pw,
				        h - bottom - t->rss_mb / y_max * ph);
		}
		fputs("\"><title>RSS of the process tree</title></polyline>\n", fp);
	}
	fprintf(fp,
	        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"line\"/>"
	        "<text x=\"%d\" y=\"%d\">RSS</text>\n",
	        left, h - 12, left + 24, h - 12, left + 30, h - 8);
	if (isfinite(heap_mb)) {
		double y = h - bottom - heap_mb / y_max * ph;
		fprintf(
		    fp,
		    "<line class=\"ref\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"><title>peak "
		    "live heap: ",
		    left, y, CHART_W - right, y);
		bytes(fp, (double)hp->peak_live_bytes);
		fputs("</title></line>\n", fp);
		fprintf(fp,
		        "<line class=\"ref\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
		        "<text x=\"%d\" y=\"%d\">peak live heap (",
		        left + 80, h - 12, left + 104, h - 12, left + 110, h - 8);
		bytes(fp, (double)hp->peak_live_bytes);
		fputs(")</text>\n", fp);
	}
	fputs("</svg>\n</figure>\n", fp);
}

/* Components: each region's total time, its self time drawn over it. */
static void regions_chart(FILE *fp, const sc_profile *p)
{
	if (p->n_regions == 0)
		return; /* no regions section: the program marked no components */
	size_t n = p->n_regions < MAX_REGIONS ? p->n_regions : MAX_REGIONS;
	double max = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(p->regions[i].total_s))
			max = fmax(max, p->regions[i].total_s);
	fputs("<figure>\n<figcaption>Component breakdown: time per region (s)</figcaption>\n", fp);
	if (!(max > 0)) {
		nodata(fp, "Regions", "no region took measurable time");
		fputs("</figure>\n", fp);
		return;
	}
	int h = (int)n * BAR_H + 30;
	svg_start(fp, "regions", CHART_W, h, "Component breakdown (total and self time)", p->name);
	for (size_t i = 0; i < n; i++) {
		const sc_region_stats *g = &p->regions[i];
		int y = (int)i * BAR_H;
		/* Nesting shows as indentation of the label. */
		char label[96];
		snprintf(label, sizeof label, "%*s%s", g->depth > 0 ? 2 * g->depth : 0, "",
		         g->name);
		hbar(fp, y, label, g->name, g->total_s, max, "bar");
		double self = isfinite(g->self_s) && g->self_s > 0 ? g->self_s : 0;
		fprintf(fp,
		        "<rect class=\"bar2\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\"/>\n"
		        "<text x=\"%.1f\" y=\"%d\">",
		        LABEL_W, y + 2 + (BAR_H - 6) / 3, self / max * (CHART_W - LABEL_W - 80),
		        (BAR_H - 6) / 3,
		        LABEL_W +
		            (isfinite(g->total_s) ? g->total_s : 0) / max *
		                (CHART_W - LABEL_W - 80) +
		            4,
		        y + 14);
		sc__fmt_num(fp, g->total_s);
		fprintf(fp, " s × %" PRIu64 "</text>\n", g->calls);
	}
	fprintf(fp,
	        "<rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"12\" height=\"10\"/><text x=\"%d\" "
	        "y=\"%d\">total</text><rect class=\"bar2\" x=\"%d\" y=\"%d\" width=\"12\" "
	        "height=\"10\"/><text x=\"%d\" y=\"%d\">self</text>\n",
	        LABEL_W, h - 20, LABEL_W + 16, h - 11, LABEL_W + 60, h - 20, LABEL_W + 76, h - 11);
	fputs("</svg>\n</figure>\n", fp);
}

/* The sites that allocated most bytes, labelled by function and place. */
static void sites_chart(FILE *fp, const sc_profile *p)
{
	const sc_heap_profile *hp = &p->heap;
	fputs("<figure>\n<figcaption>Top allocation sites (bytes allocated)</figcaption>\n", fp);
	size_t n = hp->available ? (hp->n_sites < MAX_SITES ? hp->n_sites : MAX_SITES) : 0;
	double max = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(hp->sites[i].bytes))
			max = fmax(max, hp->sites[i].bytes);
	if (!(max > 0)) {
		nodata(fp, "Allocation sites",
		       !hp->available ? (hp->reason[0] ? hp->reason : "not measured")
		                      : "no allocation was sampled");
		fputs("</figure>\n", fp);
		return;
	}
	int h = (int)n * BAR_H + 10;
	svg_start(fp, "sites", CHART_W, h, "Top allocation sites by bytes", p->name);
	for (size_t i = 0; i < n; i++) {
		const sc_heap_site *s = &hp->sites[i];
		const sc_heap_frame *f = s->n_frames ? &s->frames[0] : NULL;
		char label[160], where[512];
		snprintf(label, sizeof label, "%s", f && f->function ? f->function : "??");
		if (f && f->file)
			snprintf(where, sizeof where, "%s (%s:%d)", label, f->file, f->line);
		else if (f && f->module)
			snprintf(where, sizeof where, "%s (%s+0x%" PRIx64 ")", label, f->module,
			         f->offset);
		else
			snprintf(where, sizeof where, "%s (0x%" PRIx64 ")", label,
			         f ? f->address : 0);
		int y = (int)i * BAR_H;
		hbar(fp, y, label, where, s->bytes, max, "bar3");
		fprintf(fp, "<text x=\"%.1f\" y=\"%d\">",
		        LABEL_W + s->bytes / max * (CHART_W - LABEL_W - 80) + 4, y + 14);
		bytes(fp, s->bytes);
		fputs("</text>\n", fp);
	}
	fputs("</svg>\n</figure>\n", fp);
}

/* How many times slower than the best each profile is, with its 95% error bar. */
static void comparison_chart(FILE *fp, const sc_report *r)
{
	if (r->n_comparison == 0)
		return;
	fputs("<h2>Comparison</h2>\n<div class=\"row\">\n<figure>\n<figcaption>Relative speed "
	      "(times slower than the best; 95% error bars)</figcaption>\n",
	      fp);
	double max = 0;
	for (size_t i = 0; i < r->n_comparison; i++) {
		const sc_comparison_entry *c = &r->comparison[i];
		double e = isfinite(c->relative_speed_error) ? c->relative_speed_error : 0;
		if (isfinite(c->relative_speed))
			max = fmax(max, c->relative_speed + e);
	}
	if (!(max > 0)) {
		nodata(fp, "Comparison", "no relative speed could be computed");
		fputs("</figure>\n</div>\n", fp);
		return;
	}
	const double scale = (CHART_W - LABEL_W - 80) / max;
	int h = (int)r->n_comparison * BAR_H + 10;
	svg_start(fp, "comparison", CHART_W, h, "Relative speed with 95% error bars", NULL);
	for (size_t i = 0; i < r->n_comparison; i++) {
		const sc_comparison_entry *c = &r->comparison[i];
		int y = (int)i * BAR_H;
		char label[160];
		snprintf(label, sizeof label, "%zu. %s", c->rank, c->profile);
		hbar(fp, y, label, c->profile, c->relative_speed, max, "bar");
		double v = isfinite(c->relative_speed) ? c->relative_speed : 0;
		double e = isfinite(c->relative_speed_error) ? c->relative_speed_error : 0;
		double x0 = LABEL_W + fmax(0, v - e) * scale, x1 = LABEL_W + (v + e) * scale;
		double ym = y + 2 + (BAR_H - 6) / 2.0;
		if (e > 0)
			fprintf(
			    fp,
			    "<line class=\"err\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			    "<line class=\"err\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			    "<line class=\"err\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			    "y2=\"%.1f\"/>\n",
			    x0, ym, x1, ym, x0, ym - 5, x0, ym + 5, x1, ym - 5, x1, ym + 5);
		fprintf(fp, "<text x=\"%.1f\" y=\"%d\">", x1 + 4, y + 14);
		sc__fmt_num(fp, c->relative_speed);
		fputs("×", fp);
		if (e > 0) {
			fputs(" ± ", fp);
			sc__fmt_num(fp, e);
		}
		fputs(c->significant ? "" : " (not significant)", fp);
		fputs("</text>\n", fp);
	}
	fputs("</svg>\n</figure>\n<aside>\n<h3>Ranking", fp);
	if (r->comparison_sort)
		fprintf(fp, " by %s", r->comparison_sort);
	fputs("</h3>\n<ol>\n", fp);
	for (size_t i = 0; i < r->n_comparison; i++) {
		const sc_comparison_entry *c = &r->comparison[i];
		fputs("<li>", fp);
		esc(fp, c->profile);
		fputs(": ", fp);
		sc__fmt_num(fp, c->relative_speed);
		fputs("×</li>\n", fp);
	}
	fputs("</ol>\n</aside>\n</div>\n", fp);
}

/* ---- CPU samples ----------------------------------------------------------------------------- */

/* A string for the flame graph's data; a name that is not UTF-8 keeps its ASCII bytes. */
static json_t *json_text(const char *s)
{
	return sc__json_string_lossy(s && *s ? s : "[unknown]");
}

/* The stacks as flame.js reads them: {"names": [...], "stacks": [[samples, name index, ...]]},
 * outermost frame first; NULL when out of memory. */
static json_t *flame_data(const sc_cpu_profile *c)
{
	json_t *names = json_array(), *index = json_object(), *stacks = json_array();
	bool ok = names && index && stacks;
	for (size_t k = 0; ok && k < c->n_stacks; k++) {
		const sc_cpu_stack *s = &c->stacks[k];
		json_t *row = json_array();
		ok = row && json_array_append_new(row, json_integer((json_int_t)s->samples)) == 0;
		for (size_t f = 0; ok && f < s->n_frames; f++) {
			const char *name =
			    s->frames[f] && *s->frames[f] ? s->frames[f] : "[unknown]";
			json_t *at = json_object_get(index, name);
			if (!at) {
				at = json_integer((json_int_t)json_array_size(names));
				ok = json_object_set_new(index, name, at) == 0 &&
				     json_array_append_new(names, json_text(name)) == 0;
			}
			ok = ok &&
			     json_array_append_new(row, json_integer(json_integer_value(at))) == 0;
		}
		if (!ok)
			json_decref(row);
		else
			ok = json_array_append_new(stacks, row) == 0;
	}
	json_decref(index);
	if (!ok) {
		json_decref(names);
		json_decref(stacks);
		return NULL;
	}
	return json_pack("{s:o, s:o}", "names", names, "stacks", stacks);
}

/* JSON inside <script type="application/json">: '<', '>' and '&' (which occur only inside
 * strings) become \u escapes, so no name can close the element or open a comment in it. */
static int flame_data_out(FILE *fp, const sc_cpu_profile *c)
{
	json_t *data = flame_data(c);
	char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
	json_decref(data);
	if (!text)
		return SC_ENOMEM;
	for (const char *t = text; *t; t++) {
		if (*t == '<')
			fputs("\\u003c", fp);
		else if (*t == '>')
			fputs("\\u003e", fp);
		else if (*t == '&')
			fputs("\\u0026", fp);
		else
			fputc(*t, fp);
	}
	free(text);
	return 0;
}

static size_t deepest_stack(const sc_cpu_profile *c)
{
	size_t deepest = 0;
	for (size_t k = 0; k < c->n_stacks; k++)
		if (c->stacks[k].n_frames > deepest)
			deepest = c->stacks[k].n_frames;
	return deepest;
}

/* The flame graph's frame: an empty <svg> (with its title), its tools and its data, which the
 * script draws. index tells the profile's elements apart. */
static int flame_chart(FILE *fp, const sc_profile *p, size_t index)
{
	const sc_cpu_profile *c = &p->cpu;
	fputs("<figure class=\"wide\">\n<figcaption>CPU flame graph (width: share of the samples; "
	      "click a frame to zoom into it)</figcaption>\n",
	      fp);
	if (c->n_stacks == 0) {
		nodata(fp, "CPU flame graph", "no stack was sampled");
		fputs("</figure>\n", fp);
		return 0;
	}
	fprintf(fp,
	        "<div class=\"flame-tools\"><input type=\"search\" data-flame-search=\"%zu\" "
	        "placeholder=\"search functions\" aria-label=\"search functions\"> "
	        "<button type=\"button\" data-flame-reset=\"%zu\">reset zoom</button>"
	        "<span class=\"flame-match\" data-flame-match=\"%zu\"></span></div>\n",
	        index, index, index);
	int h = (int)(deepest_stack(c) + 1) * FLAME_ROW;
	fprintf(fp,
	        "<svg data-chart=\"flame\" data-flame=\"%zu\" viewBox=\"0 0 %d %d\" width=\"%d\" "
	        "height=\"%d\" role=\"img\">\n<title>CPU flame graph: ",
	        index, FLAME_W, h, FLAME_W, h);
	esc(fp, p->name);
	fprintf(fp, "</title>\n</svg>\n<script type=\"application/json\" data-flame-data=\"%zu\">",
	        index);
	int err = flame_data_out(fp, c);
	fputs("</script>\n</figure>\n", fp);
	return err;
}

static void hotspots_table(FILE *fp, const sc_cpu_profile *c)
{
	fputs("<aside>\n<h3>CPU hotspots</h3>\n<p class=\"meta\">Sampler: ", fp);
	esc(fp, c->sampler);
	fputs(c->call_graph && strcmp(c->call_graph, "dwarf") == 0
	          ? " (DWARF call graph), "
	          : " (frame-pointer call graph), ",
	      fp);
	sc__fmt_num(fp, c->rate_hz);
	fprintf(fp, " Hz: %" PRIu64 " samples, %" PRIu64 " lost; threads: %zu, processes: %zu",
	        c->samples, c->lost_samples, c->threads, c->processes);
	if (c->sampler_note[0]) {
		fputs(". ", fp);
		esc(fp, c->sampler_note);
	}
	fputs("</p>\n", fp);
	if (c->n_hotspots == 0) {
		fputs("<p class=\"nodata\">No samples.</p>\n</aside>\n", fp);
		return;
	}
	fputs("<table>\n<tr><th>#</th><th>function</th><th>location</th><th>self</th>"
	      "<th>self samples</th><th>total</th><th>total samples</th></tr>\n",
	      fp);
	for (size_t i = 0; i < c->n_hotspots && i < HOTSPOTS; i++) {
		const sc_cpu_hotspot *h = &c->hotspots[i];
		fprintf(fp, "<tr><td class=\"n\">%zu</td><td><code>", i + 1);
		esc(fp, h->function);
		fputs("</code></td><td>", fp);
		if (h->file) {
			esc(fp, h->file);
			if (h->line > 0)
				fprintf(fp, ":%d", h->line);
		} else {
			esc(fp, h->module);
		}
		fputs("</td><td class=\"n\">", fp);
		sc__fmt_num(fp, h->self_percent);
		fprintf(fp, "%%</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">",
		        h->self_samples);
		sc__fmt_num(fp, h->total_percent);
		fprintf(fp, "%%</td><td class=\"n\">%" PRIu64 "</td></tr>\n", h->total_samples);
	}
	fputs("</table>\n</aside>\n", fp);
}

/* The profile's CPU row: the flame graph and the hotspot table, or one line saying why not. */
static int cpu_section(FILE *fp, const sc_profile *p, size_t index)
{
	const sc_cpu_profile *c = &p->cpu;
	if (!c->available) {
		fputs("<p class=\"nodata\">CPU samples: not measured", fp);
		if (c->reason[0] && strcmp(c->reason, "not measured") != 0) {
			fputs(" (", fp);
			esc(fp, c->reason);
			fputc(')', fp);
		}
		fputs(".</p>\n", fp);
		return 0;
	}
	fputs("<div class=\"row\">\n", fp);
	int err = flame_chart(fp, p, index);
	hotspots_table(fp, c);
	fputs("</div>\n", fp);
	return err;
}

/* ---- text beside the charts ---------------------------------------------------------------- */

/* The bottlenecks and recommendations about one profile (name), or every one (NULL). */
static void findings_text(FILE *fp, const sc_report *r, const char *name)
{
	if (r->n_recommendations == 0) {
		fputs("<p class=\"nodata\">Not analysed.</p>\n", fp);
		return;
	}
	size_t shown = 0;
	fputs("<h3>Bottlenecks</h3>\n<ul>\n", fp);
	for (size_t i = 0; i < r->n_bottlenecks; i++) {
		const sc_bottleneck *b = &r->bottlenecks[i];
		if (name && !sc__same_profile(b->profile, sizeof b->profile, name))
			continue;
		shown++;
		fprintf(fp, "<li><span class=\"%s\">%s</span> ", sc__fmt_severity(b->severity),
		        sc__fmt_severity(b->severity));
		fputs("<code>", fp);
		esc(fp, b->id);
		fputs("</code>", fp);
		if (!name) {
			fputs(" in ", fp);
			esc(fp, b->profile);
		}
		if (b->region[0]) {
			fputs(" (region ", fp);
			esc(fp, b->region);
			fputc(')', fp);
		}
		fputs(": ", fp);
		esc(fp, b->message);
		fputs("</li>\n", fp);
	}
	if (!shown)
		fputs("<li>None found.</li>\n", fp);
	fputs("</ul>\n<h3>Recommendations</h3>\n<ol>\n", fp);
	for (size_t i = 0; i < r->n_recommendations; i++) {
		const sc_recommendation *c = &r->recommendations[i];
		if (name && !sc__same_profile(c->profile, sizeof c->profile, name))
			continue;
		fputs("<li>", fp);
		esc(fp, c->action);
		if (c->expected[0]) {
			fputs(" — expected: ", fp);
			esc(fp, c->expected);
		}
		if (c->evidence[0]) {
			fputs(" <span class=\"meta\">(", fp);
			esc(fp, c->evidence);
			fputs(")</span>", fp);
		}
		fputs("</li>\n", fp);
	}
	fputs("</ol>\n", fp);
}

static void figure_row(FILE *fp, const char *label, double v, const char *unit)
{
	fprintf(fp, "<tr><th>%s</th><td class=\"n\">", label);
	sc__fmt_num(fp, v);
	fprintf(fp, "%s</td></tr>\n", isfinite(v) ? unit : "");
}

static void profile_figures(FILE *fp, const sc_profile *p)
{
	const sc_summary *t = &p->total_time;
	fputs("<table>\n", fp);
	fprintf(fp, "<tr><th>runs</th><td class=\"n\">%zu (+%zu warm-up)</td></tr>\n", p->n_runs,
	        p->n_warmup);
	fprintf(fp, "<tr><th>samples per run</th><td class=\"n\">%" PRIu64 "</td></tr>\n",
	        p->n_samples);
	figure_row(fp, "total time, mean", t->n ? t->mean : NAN, " s");
	figure_row(fp, "σ", t->n ? t->stddev : NAN, " s");
	figure_row(fp, "throughput", p->throughput_samples_per_sec, " /s");
	figure_row(fp, "time per sample", p->avg_time_per_sample * 1e3, " ms");
	figure_row(fp, "peak memory", p->memory.peak_memory_mb, " MiB");
	figure_row(fp, "memory increase", p->memory.memory_increase_mb, " MiB");
	figure_row(fp, "CPU utilization", p->resources.cpu_utilization, " cores");
	const sc_heap_profile *h = &p->heap;
	if (h->available) {
		fputs("<tr><th>heap allocations</th><td class=\"n\">", fp);
		sc__fmt_count(fp, h->allocations);
		fputs("</td></tr>\n<tr><th>peak live heap</th><td class=\"n\">", fp);
		bytes(fp, h->peak_live_bytes >= 0 ? (double)h->peak_live_bytes : NAN);
		fputs("</td></tr>\n<tr><th>leaked at exit</th><td class=\"n\">", fp);
		bytes(fp, h->leaked_bytes >= 0 ? (double)h->leaked_bytes : NAN);
		fputs("</td></tr>\n", fp);
	}
	if (p->leak.verdict) {
		fputs("<tr><th>leak check</th><td>", fp);
		esc(fp, p->leak.verdict);
		fputs(": ", fp);
		esc(fp, p->leak.reason);
		fputs("</td></tr>\n", fp);
	}
	fputs("</table>\n", fp);
}

static void warnings_text(FILE *fp, const sc_profile *p)
{
	if (p->n_warnings == 0)
		return;
	fputs("<h3>Measurement warnings</h3>\n<ul>\n", fp);
	for (size_t i = 0; i < p->n_warnings; i++) {
		fputs("<li><code>", fp);
		esc(fp, p->warnings[i].id);
		fputs("</code> ", fp);
		esc(fp, p->warnings[i].message);
		fputs(" — ", fp);
		esc(fp, p->warnings[i].action);
		fputs("</li>\n", fp);
	}
	fputs("</ul>\n", fp);
}

static int profile_section(FILE *fp, const sc_report *r, const sc_profile *p, size_t index)
{
	fputs("<section class=\"profile\">\n<h2>Profile: ", fp);
	esc(fp, p->name);
	fputs("</h2>\n<p class=\"meta\">", fp);
	esc(fp, p->kind);
	if (p->command) {
		fputs(" · <code>", fp);
		esc(fp, p->command);
		fputs("</code>", fp);
	}
	fputs("</p>\n<div class=\"row\">\n", fp);
	latency_chart(fp, p);
	fputs("<aside>\n", fp);
	profile_figures(fp, p);
	fputs("</aside>\n</div>\n<div class=\"row\">\n", fp);
	memory_chart(fp, p);
	fputs("<aside>\n", fp);
	findings_text(fp, r, p->name);
	warnings_text(fp, p);
	fputs("</aside>\n</div>\n<div class=\"row\">\n", fp);
	regions_chart(fp, p);
	sites_chart(fp, p);
	fputs("</div>\n", fp);
	int err = cpu_section(fp, p, index);
	fputs("</section>\n", fp);
	return err;
}

static void checks_tables(FILE *fp, const sc_report *r)
{
	if (r->n_checks) {
		fputs("<h2>Requirement checks</h2>\n<table>\n<tr><th>requirement</th><th>profile"
		      "</th><th>value</th><th>bound (95%)</th><th>result</th></tr>\n",
		      fp);
		for (size_t i = 0; i < r->n_checks; i++) {
			const sc_check *c = &r->checks[i];
			fputs("<tr><td>", fp);
			esc(fp, c->name);
			fputs("</td><td>", fp);
			esc(fp, c->profile);
			fputs("</td><td class=\"n\">", fp);
			sc__fmt_num(fp, c->value);
			fputs("</td><td class=\"n\">", fp);
			sc__fmt_num(fp, c->bound);
			fputs(c->pass ? "</td><td class=\"pass\">pass"
			              : "</td><td class=\"fail\">FAIL",
			      fp);
			if (c->reason[0]) {
				fputs(": ", fp);
				esc(fp, c->reason);
			}
			fputs("</td></tr>\n", fp);
		}
		fputs("</table>\n", fp);
	}
	if (r->n_regressions) {
		fputs(
		    "<h2>Baseline comparison</h2>\n<table>\n<tr><th>profile</th><th>metric</th>"
		    "<th>old</th><th>new</th><th>change</th><th>± (95%)</th><th>result</th></tr>\n",
		    fp);
		for (size_t i = 0; i < r->n_regressions; i++) {
			const sc_regression *g = &r->regressions[i];
			fputs("<tr><td>", fp);
			esc(fp, g->profile);
			fputs("</td><td>", fp);
			esc(fp, g->metric);
			fputs("</td><td class=\"n\">", fp);
			sc__fmt_num(fp, g->old_value);
			fputs("</td><td class=\"n\">", fp);
			sc__fmt_num(fp, g->new_value);
			fputs("</td><td class=\"n\">", fp);
			sc__fmt_num(fp, g->change * 100);
			fputs("%</td><td class=\"n\">", fp);
			sc__fmt_num(fp, g->change_error * 100);
			fputs(g->regression    ? "%</td><td class=\"fail\">regression</td></tr>\n"
			      : g->improvement ? "%</td><td class=\"pass\">improvement</td></tr>\n"
			                       : "%</td><td>unchanged</td></tr>\n",
			      fp);
		}
		fputs("</table>\n", fp);
	}
}

static void system_table(FILE *fp, const sc_system_info *s)
{
	fputs("<h2>System</h2>\n<table>\n<tr><th>cpus</th><td class=\"n\">", fp);
	sc__fmt_count(fp, s->cpus);
	fputs("</td></tr>\n<tr><th>cpu model</th><td>", fp);
	esc(fp, s->cpu_model);
	fputs("</td></tr>\n<tr><th>kernel</th><td>", fp);
	esc(fp, s->kernel);
	fputs("</td></tr>\n<tr><th>host</th><td>", fp);
	esc(fp, s->hostname);
	fputs("</td></tr>\n", fp);
	figure_row(fp, "memory total", s->memory_total_mb, " MiB");
	figure_row(fp, "memory available", s->memory_available_mb, " MiB");
	fputs("<tr><th>load 1/5/15 min</th><td class=\"n\">", fp);
	sc__fmt_num(fp, s->load_avg[0]);
	fputs(" / ", fp);
	sc__fmt_num(fp, s->load_avg[1]);
	fputs(" / ", fp);
	sc__fmt_num(fp, s->load_avg[2]);
	fputs("</td></tr>\n</table>\n", fp);
}

int sc__export_html(const sc_report *r, FILE *fp)
{
	page_start(fp, r);
	fputs("<h2>Findings</h2>\n", fp);
	findings_text(fp, r, NULL);
	comparison_chart(fp, r);
	checks_tables(fp, r);
	int err = 0;
	for (size_t i = 0; i < r->n_profiles; i++) {
		int e = profile_section(fp, r, &r->profiles[i], i);
		err = err ? err : e;
	}
	system_table(fp, &r->system);
	fputs("</main>\n", fp);
	if (has_flame(r))
		fprintf(fp, "<script>%s</script>\n", flame_js);
	fputs("</body>\n</html>\n", fp);
	if (err)
		return err;
	return ferror(fp) ? SC_EIO : 0;
}

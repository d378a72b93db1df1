/* test_export.c: the Markdown, CSV and HTML exports of one report built by hand: Markdown and CSV
 * byte for byte against golden files, HTML checked for its charts, its escaping and no network. */
#include "check.h"
#include "internal.h"
#include "sample_report.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

static char dir[64];

/* Three regions of "predict", one named like an HTML tag (user text that must stay text). */
static int add_regions(sc_report *r)
{
	sc_profile *p = &r->profiles[0];
	p->regions = calloc(3, sizeof *p->regions);
	if (!p->regions)
		return SC_ENOMEM;
	p->n_regions = 3;
	const struct {
		const char *name, *parent;
		int depth;
		uint64_t calls;
		double total, self, share;
	} g[] = {
	    {"load", "", 0, 3, 0.09, 0.06, 0.333},
	    {"<script>alert(1)</script>", "load", 1, 3, 0.03, 0.03, 0.333},
	    {"predict | model", "", 0, 192, 0.15, 0.15, 0.556},
	};
	for (size_t i = 0; i < 3; i++) {
		sc_region_stats *s = &p->regions[i];
		snprintf(s->name, sizeof s->name, "%s", g[i].name);
		snprintf(s->parent, sizeof s->parent, "%s", g[i].parent);
		s->depth = g[i].depth;
		s->calls = g[i].calls;
		s->total_s = g[i].total;
		s->self_s = g[i].self;
		s->share = g[i].share;
		s->latency = (sc_latency){.available = true,
		                          .count = g[i].calls,
		                          .mean_ms = g[i].total / (double)g[i].calls * 1e3,
		                          .p50_ms = 0.5,
		                          .p99_ms = 1.25,
		                          .source = "per-sample"};
		s->memory_increase_mb = 1.5;
		s->allocations = i == 1 ? -1 : 10;
		s->bytes_allocated = -1;
		/* The middle one was never open while a sample was taken. */
		s->cpu_samples = i == 1 ? -1 : i == 0 ? 300 : 610;
		s->cpu_percent = i == 1 ? NAN : i == 0 ? 30 : 61;
		snprintf(s->cpu_top_function, sizeof s->cpu_top_function, "%s",
		         i == 1   ? ""
		         : i == 0 ? "load_batch"
		                  : "gbm_predict_row");
	}
	return 0;
}

static int add_comparison(sc_report *r)
{
	r->comparison = calloc(2, sizeof *r->comparison);
	if (!r->comparison)
		return SC_ENOMEM;
	r->n_comparison = 2;
	r->comparison_sort = "throughput";
	r->comparison[0] = (sc_comparison_entry){.rank = 1, .relative_speed = 1};
	snprintf(r->comparison[0].profile, sizeof r->comparison[0].profile, "predict_one");
	r->comparison[1] = (sc_comparison_entry){
	    .rank = 2, .relative_speed = 33.75, .relative_speed_error = 4.5, .significant = true};
	snprintf(r->comparison[1].profile, sizeof r->comparison[1].profile, "predict");
	return 0;
}

/* The report test_json_export.c checks (sample_report.h), plus regions and a comparison. */
static sc_report *build(void)
{
	sc_report *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	snprintf(r->created, sizeof r->created, "2026-11-25T04:50:00Z");
	fill_system(&r->system);
	if (add_command_profile(r) || add_samples_profile(r) || add_analysis(r) || add_regions(r) ||
	    add_comparison(r)) {
		sc_report_free(r);
		return NULL;
	}
	return r;
}

static char *path_of(const char *name)
{
	static char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return path;
}

/* The rendering of r in format, as a string (sc_report_write to a memory stream). */
static char *render(const sc_report *r, const char *format)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	if (!fp)
		return NULL;
	int rc = sc_report_write(r, format, fp);
	fclose(fp);
	CHECK_INT(rc, 0);
	return buf;
}

/* The export to a file equals the golden file byte for byte; a mismatch keeps the file. */
static void check_golden(const sc_report *r, const char *format, const char *golden_name)
{
	char out[128], golden[512];
	snprintf(out, sizeof out, "%s/%s", dir, golden_name);
	const char *fixtures = getenv("SC_FIXTURES");
	snprintf(golden, sizeof golden, "%s/golden/%s", fixtures ? fixtures : "", golden_name);
	CHECK_INT(sc_report_export(r, format, out), 0);
	size_t out_len = 0, golden_len = 0;
	char *got = read_all(out, &out_len);
	char *want = read_all(golden, &golden_len);
	CHECK(got != NULL && want != NULL);
	bool same = got && want && out_len == golden_len && memcmp(got, want, out_len) == 0;
	CHECK(same);
	if (!same)
		fprintf(stderr, "%s differs from %s (kept for diff)\n", out, golden);
	else
		unlink(out);
	/* The stream entry point writes the same bytes as the file one. */
	char *streamed = render(r, format);
	CHECK(streamed && got && strcmp(streamed, got) == 0);
	free(streamed);
	free(got);
	free(want);
}

static void test_goldens(void)
{
	sc_report *r = build();
	CHECK(r != NULL);
	if (!r)
		return;
	check_golden(r, "md", "report_basic.md");
	check_golden(r, "csv", "report_basic.csv");
	sc_report_free(r);
}

/* A report read back from its JSON renders as the report itself did: the reader keeps everything
 * the renderers show. Regions and the comparison join the check once the JSON carries them. */
static void test_round_trip(void)
{
	sc_report *r = build();
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_INT(sc_report_export(r, "json", path_of("trip.json")), 0);
	sc_report *back = NULL;
	char err[512] = "";
	CHECK_INT(sc_report_read_json(path_of("trip.json"), &back, err, sizeof err), 0);
	if (err[0])
		fprintf(stderr, "%s\n", err);
	unlink(path_of("trip.json"));
	if (!back) {
		sc_report_free(r);
		return;
	}
	if (back->n_comparison == 0)
		r->n_comparison = 0;
	if (back->profiles[0].n_regions == 0)
		r->profiles[0].n_regions = 0;
	const char *formats[] = {"md", "csv", "html", "json", "folded", "speedscope"};
	for (size_t i = 0; i < 6; i++) {
		char *a = render(r, formats[i]), *b = render(back, formats[i]);
		bool same = a && b && strcmp(a, b) == 0;
		CHECK(same);
		if (!same) {
			fprintf(stderr, "round trip changes the %s rendering (kept: trip.*)\n",
			        formats[i]);
			FILE *fa = fopen(path_of("trip.before"), "w"),
			     *fb = fopen(path_of("trip.after"), "w");
			if (fa && a)
				fputs(a, fa);
			if (fb && b)
				fputs(b, fb);
			if (fa)
				fclose(fa);
			if (fb)
				fclose(fb);
		}
		free(a);
		free(b);
	}
	sc_report_free(back);
	sc_report_free(r);
}

/* How many times needle occurs in haystack. */
static size_t count(const char *haystack, const char *needle)
{
	size_t n = 0;
	for (const char *at = haystack; at && (at = strstr(at, needle)); at += strlen(needle))
		n++;
	return n;
}

/* The CPU section of the Markdown, exactly (the golden file holds it too; this keeps the section
 * checked where the CPU exports are). */
static void test_cpu_markdown(void)
{
	sc_report *r = build();
	CHECK(r != NULL);
	if (!r)
		return;
	char *md = render(r, "md");
	const char *want =
	    "### CPU hotspots\n\n"
	    "Sampler: perf\\_event (frame-pointer call graph), 997 Hz, 1000 samples (1.003 s of "
	    "CPU), 3 lost; threads: 2, processes: 1.\n\n"
	    "Note: frame pointers: exact leaf frames\n\n"
	    "| # | function | location | self | self samples | total | total samples |\n"
	    "| ---: | --- | --- | ---: | ---: | ---: | ---: |\n"
	    "| 1 | gbm\\_predict\\_row | examples/nba/models.c:212 | 61% | 610 | 61% | 610 |\n"
	    "| 2 | load\\_batch | predict.c:40 | 25% | 250 | 95% | 950 |\n"
	    "| 3 | libm.so.6+0x1a2b | /usr/lib/x86\\_64-linux-gnu/libm.so.6 | 9% | 90 | 9% | 90 |\n"
	    "| 4 | &lt;script&gt;x;y&lt;/script&gt; | n/a | 5% | 50 | 5% | 50 |\n"
	    "| 5 | main | predict.c:10 | 0% | 0 | 100% | 1000 |\n\n"
	    "#### Hottest lines\n\n"
	    "| function | line | samples | of all samples |\n"
	    "| --- | --- | ---: | ---: |\n"
	    "| gbm\\_predict\\_row | examples/nba/models.c:215 | 400 | 40% |\n"
	    "| gbm\\_predict\\_row | examples/nba/models.c:218 | 210 | 21% |\n"
	    "| load\\_batch | predict.c:44 | 250 | 25% |\n\n";
	CHECK(md && strstr(md, want) != NULL);
	CHECK(md && strstr(md, "### CPU hotspots\n\nNot measured: not sampled: "
	                       "sc\\_profiler\\_sample\\_cpu was not called.\n\n") != NULL);
	/* Sampled regions get their CPU columns. */
	CHECK(md && strstr(md, "| load | - | 3 | 0.09 | 0.06 | 33.3% | 1.25 | 1.5 | 10 | 300 | 30% "
	                       "| load\\_batch |\n") != NULL);
	if (md && !strstr(md, want))
		fputs(md, stderr);
	free(md);
	sc_report_free(r);
}

/* Folded stacks, exactly: outermost first, ';' inside a name made ':', and the profile's name as
 * the root frame when the report holds several profiles. */
static void test_folded(void)
{
	sc_report *r = build();
	CHECK(r != NULL);
	if (!r)
		return;
	char *folded = render(r, "folded");
	CHECK_STR(folded, "predict;main;load_batch;gbm_predict_row 610\n"
	                  "predict;main;load_batch 250\n"
	                  "predict;main;load_batch;libm.so.6+0x1a2b 90\n"
	                  "predict;main;<script>x:y</script> 50\n");
	free(folded);
	/* One profile: no root frame; a line break in a name becomes a space; a frame without a
	 * name is [unknown]. */
	sc_report one = {.n_profiles = 1, .profiles = r->profiles};
	sc_cpu_stack *s = &r->profiles[0].cpu.stacks[1];
	free(s->frames[1]);
	s->frames[1] = strdup("load\nbatch");
	free(s->frames[0]);
	s->frames[0] = NULL;
	folded = render(&one, "folded");
	CHECK_STR(folded, "main;load_batch;gbm_predict_row 610\n"
	                  "[unknown];load batch 250\n"
	                  "main;load_batch;libm.so.6+0x1a2b 90\n"
	                  "main;<script>x:y</script> 50\n");
	free(folded);
	/* No stacks at all: an empty file, written without error. */
	sc_report none = {.n_profiles = 1, .profiles = &r->profiles[1]};
	CHECK_INT(sc_report_export(&none, "folded", path_of("empty.folded")), 0);
	size_t len = 99;
	char *empty = read_all(path_of("empty.folded"), &len);
	CHECK(empty != NULL && len == 0);
	free(empty);
	unlink(path_of("empty.folded"));
	sc_report_free(r);
}

/* The speedscope file, parsed back: its schema, the shared frames (with their places from the
 * hotspot table) and one sampled profile whose samples and weights are the stacks. */
static void test_speedscope(void)
{
	sc_report *r = build();
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_INT(sc_report_export(r, "speedscope", path_of("r.speedscope.json")), 0);
	json_error_t error;
	json_t *root = json_load_file(path_of("r.speedscope.json"), 0, &error);
	unlink(path_of("r.speedscope.json"));
	CHECK(root != NULL);
	if (!root) {
		sc_report_free(r);
		return;
	}
	CHECK_STR(json_string_value(json_object_get(root, "$schema")),
	          "https://www.speedscope.app/file-format-schema.json");
	CHECK_STR(json_string_value(json_object_get(root, "name")), "shotclock report");
	CHECK_STR(json_string_value(json_object_get(root, "exporter")), "shotclock " SC_VERSION);
	CHECK_INT(json_integer_value(json_object_get(root, "activeProfileIndex")), 0);
	json_t *frames = json_object_get(json_object_get(root, "shared"), "frames");
	char *text = json_dumps(frames, JSON_COMPACT);
	CHECK_STR(text, "[{\"name\":\"main\",\"file\":\"predict.c\",\"line\":10},"
	                "{\"name\":\"load_batch\",\"file\":\"predict.c\",\"line\":40},"
	                "{\"name\":\"gbm_predict_row\",\"file\":\"examples/nba/models.c\","
	                "\"line\":212},{\"name\":\"libm.so.6+0x1a2b\"},"
	                "{\"name\":\"<script>x;y</script>\"}]");
	free(text);
	json_t *profiles = json_object_get(root, "profiles");
	CHECK_INT(json_array_size(profiles), 1); /* predict_one was not sampled */
	json_t *p = json_array_get(profiles, 0);
	CHECK_STR(json_string_value(json_object_get(p, "type")), "sampled");
	CHECK_STR(json_string_value(json_object_get(p, "name")), "predict");
	CHECK_STR(json_string_value(json_object_get(p, "unit")), "none");
	CHECK_INT(json_integer_value(json_object_get(p, "startValue")), 0);
	CHECK_INT(json_integer_value(json_object_get(p, "endValue")), 1000);
	text = json_dumps(json_object_get(p, "samples"), JSON_COMPACT);
	CHECK_STR(text, "[[0,1,2],[0,1],[0,1,3],[0,4]]");
	free(text);
	text = json_dumps(json_object_get(p, "weights"), JSON_COMPACT);
	CHECK_STR(text, "[610,250,90,50]");
	free(text);
	json_decref(root);
	/* Nothing sampled: a valid file without profiles. */
	sc_report none = {.n_profiles = 1, .profiles = &r->profiles[1]};
	char *empty = render(&none, "speedscope");
	root = empty ? json_loads(empty, 0, &error) : NULL;
	CHECK(root && json_array_size(json_object_get(root, "profiles")) == 0);
	CHECK(root && json_is_string(json_object_get(root, "name")));
	CHECK_STR(json_string_value(json_object_get(root, "name")), "predict_one");
	json_decref(root);
	free(empty);
	sc_report_free(r);
}

static void test_html(void)
{
	sc_report *r = build();
	CHECK(r != NULL);
	if (!r)
		return;
	char *html = render(r, "html");
	CHECK(html != NULL);
	if (!html) {
		sc_report_free(r);
		return;
	}
	const char *charts[] = {"latency", "memory", "regions", "sites", "comparison"};
	for (size_t i = 0; i < 5; i++) {
		char attr[64];
		snprintf(attr, sizeof attr, "<svg data-chart=\"%s\"", charts[i]);
		CHECK(strstr(html, attr) != NULL);
	}
	CHECK(strncmp(html, "<!DOCTYPE html>", 15) == 0);
	/* Self-contained: nothing fetched from anywhere, no script at all. */
	CHECK(strstr(html, "src=") == NULL);
	CHECK(strstr(html, "href=") == NULL);
	CHECK(strstr(html, "url(") == NULL);
	CHECK(strstr(html, "@import") == NULL);
	CHECK(strstr(html, "http://") == NULL);
	CHECK(strstr(html, "https://") == NULL);
	/* Two script elements: the flame graph's data (not run) and its script, which the content
	 * policy allows by digest; a function named like a tag stays text in the table and an
	 * escape in the data. */
	CHECK_INT(count(html, "<script"), 2);
	CHECK_INT(count(html, "</script>"), 2);
	CHECK_INT(count(html, "<script type=\"application/json\" data-flame-data=\"0\">"), 1);
	CHECK_INT(count(html, "<script>(function () {"), 1);
	CHECK_INT(count(html, "script-src 'sha256-"), 1);
	CHECK(strstr(html, "<code>&lt;script&gt;x;y&lt;/script&gt;</code>") != NULL);
	CHECK(strstr(html, "\"\\u003cscript\\u003ex;y\\u003c/script\\u003e\"") != NULL);
	CHECK(strstr(html, "<svg data-chart=\"flame\" data-flame=\"0\" viewBox=\"0 0 1180 72\"") !=
	      NULL);
	CHECK(strstr(html, "{\"names\":[\"main\",\"load_batch\",\"gbm_predict_row\","
	                   "\"libm.so.6+0x1a2b\",\"\\u003cscript\\u003ex;y\\u003c/script\\u003e\"],"
	                   "\"stacks\":[[610,0,1,2],[250,0,1],[90,0,1,3],[50,0,4]]}") != NULL);
	CHECK(strstr(html, "CPU samples: not measured (not sampled: sc_profiler_sample_cpu was "
	                   "not called).") != NULL);
	CHECK(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
	CHECK(strstr(html, "predict | model") != NULL);
	/* The samples profile has no timeline and no heap: said in words, not drawn empty. */
	CHECK(strstr(html, "Memory timeline: no data") != NULL);
	CHECK(strstr(html, "Allocation sites: no data") != NULL);
	free(html);

	/* Every user string is escaped: a profile and a command made of markup. */
	free(r->profiles[1].name);
	r->profiles[1].name = strdup("<img src=x onerror=alert(1)>");
	r->profiles[1].command = strdup("sh -c '\"<b>\"' & echo https://example.com");
	html = render(r, "html");
	CHECK(html && strstr(html, "<img") == NULL && strstr(html, "<b>") == NULL);
	CHECK(html && strstr(html, "&lt;img src=x onerror=alert(1)&gt;") != NULL);
	CHECK(html && strstr(html, "&#39;&quot;&lt;b&gt;&quot;&#39; &amp; echo") != NULL);
	free(html);
	/* Without stacks there is no script at all, and the policy allows none. */
	size_t n_stacks = r->profiles[0].cpu.n_stacks;
	r->profiles[0].cpu.n_stacks = 0;
	html = render(r, "html");
	r->profiles[0].cpu.n_stacks = n_stacks;
	CHECK(html && strstr(html, "<script") == NULL && strstr(html, "script-src") == NULL);
	CHECK(html && strstr(html, "CPU flame graph: no data (no stack was sampled).") != NULL);
	free(html);
	/* Markdown shows the same text literally too. */
	char *md = render(r, "md");
	CHECK(md && strstr(md, "<img") == NULL && strstr(md, "<script>") == NULL);
	free(md);
	sc_report_free(r);
}

static void test_errors(void)
{
	sc_report *r = build();
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_INT(sc_report_export(r, "pdf", path_of("x.pdf")), SC_EINVAL);
	CHECK(access(path_of("x.pdf"), F_OK) != 0);
	CHECK_INT(sc_report_export(r, NULL, path_of("x.md")), SC_EINVAL);
	CHECK_INT(sc_report_write(r, "markdown", stdout), SC_EINVAL);
	CHECK_INT(sc_report_export(NULL, "md", path_of("x.md")), SC_EINVAL);
	/* A directory that does not exist: nothing is created. */
	CHECK_INT(sc_report_export(r, "html", "/nonexistent-dir/r.html"), SC_EIO);

	/* A write that fails half-way (the file size limit) leaves the old file as it was and no
	 * temporary beside it. */
	const char *target = path_of("keep.html");
	FILE *fp = fopen(target, "w");
	CHECK(fp != NULL);
	if (fp) {
		fputs("old\n", fp);
		fclose(fp);
	}
	struct rlimit old_limit, small = {512, 512};
	CHECK_INT(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
	void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
	small.rlim_max = old_limit.rlim_max;
	CHECK_INT(setrlimit(RLIMIT_FSIZE, &small), 0);
	/* (The folded stacks, 200 bytes, fit under the limit.) */
	const char *formats[] = {"html", "md", "csv", "json", "speedscope"};
	for (size_t i = 0; i < 5; i++)
		CHECK_INT(sc_report_export(r, formats[i], target), SC_EIO);
	CHECK_INT(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
	signal(SIGXFSZ, old_handler);
	size_t len = 0;
	char *kept = read_all(target, &len);
	CHECK_STR(kept, "old\n");
	free(kept);
	unlink(target);
	sc_report_free(r);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/sc-export-XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_goldens();
	test_round_trip();
	test_cpu_markdown();
	test_folded();
	test_speedscope();
	test_html();
	test_errors();
	/* Fails (and says so) only when a file was kept for inspection or a temporary was left. */
	if (rmdir(dir) != 0)
		fprintf(stderr, "kept %s\n", dir);
	return CHECK_DONE();
}

/* test_export.c: the Markdown, CSV and HTML exports of one report built by hand: Markdown and CSV
 * byte for byte against golden files, HTML checked for its charts, its escaping and no network. */
#include "check.h"
#include "internal.h"
#include "sample_report.h"

#include <errno.h>
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
	const char *formats[] = {"md", "csv", "html", "json"};
	for (size_t i = 0; i < 4; i++) {
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
	CHECK(strstr(html, "<script") == NULL);
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
	const char *formats[] = {"html", "md", "csv", "json"};
	for (size_t i = 0; i < 4; i++)
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
	test_html();
	test_errors();
	/* Fails (and says so) only when a file was kept for inspection or a temporary was left. */
	if (rmdir(dir) != 0)
		fprintf(stderr, "kept %s\n", dir);
	return CHECK_DONE();
}

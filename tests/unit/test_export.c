/* test_export.c: the Markdown, CSV and HTML exports of one report built by hand: Markdown and CSV
 * byte for byte against golden files, HTML checked for its charts, its escaping and no network. */
#include "check.h"
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

static char dir[64];

/* The report is the one test_json_export.c builds (its builder, copied so that the two goldens
 * change only with their own exporter), plus regions and a comparison. */
static void fill_system(sc_system_info *s)
{
	*s = (sc_system_info){
	    .cpus = 2,
	    .memory_total_mb = 7936.5,
	    .memory_available_mb = 6120.25,
	    .load_avg = {0.5, 0.25, 0.125},
	    .disk_total_gb = 100,
	    .disk_free_gb = 62.5,
	    .disk_used_percent = 37.5,
	};
	snprintf(s->cpu_model, sizeof s->cpu_model, "Intel(R) Xeon(R) CPU @ 2.20GHz");
	snprintf(s->kernel, sizeof s->kernel, "Linux 6.1.0-13-amd64 x86_64");
	snprintf(s->hostname, sizeof s->hostname, "bench-1");
	snprintf(s->disk_path, sizeof s->disk_path, "/work");
}

static sc_run command_run(double wall_s, double user_s, double peak_mb, int64_t faults)
{
	return (sc_run){
	    .wall_s = wall_s,
	    .user_s = user_s,
	    .sys_s = 0.03,
	    .peak_rss_mb = peak_mb,
	    .minor_faults = faults,
	    .major_faults = 0,
	    .voluntary_context_switches = 12,
	    .involuntary_context_switches = 3,
	    .read_bytes = 4096,
	    .write_bytes = -1,
	};
}

/* One frame; strings are copied (the profile owns them). */
static sc_heap_frame frame(uint64_t address, const char *module, uint64_t offset,
                           const char *function, const char *file, int line)
{
	return (sc_heap_frame){
	    .address = address,
	    .module = module ? strdup(module) : NULL,
	    .offset = offset,
	    .function = function ? strdup(function) : NULL,
	    .file = file ? strdup(file) : NULL,
	    .line = line,
	};
}

/* The heap run of "predict", sampled (T = 512 KiB): two sites, the first symbolized as the CLI
 * would, the second with a frame outside every known module. */
static int fill_heap(sc_heap_profile *h)
{
	*h = (sc_heap_profile){
	    .available = true,
	    .complete = true,
	    .sites_mode = "sampled",
	    .sample_bytes = 524288,
	    .allocations = 150000,
	    .frees = 149000,
	    .bytes_allocated = 96000000,
	    .temporary_allocations = 42000,
	    .allocations_per_sample = 150000 / 64.0,
	    .live_basis = "usable",
	    .peak_live_bytes = 50331648,
	    .peak_live_s = 0.125,
	    .peak_live_error_bytes = 262144,
	    .leaked_blocks = 1000,
	    .leaked_bytes = 1048576,
	    .lost_blocks = -1,
	    .lost_bytes = -1,
	    .reachable_blocks = -1,
	    .reachable_bytes = -1,
	    .arena_bytes = 54525952,
	    .in_use_bytes = 1310720,
	    .processes = 1,
	    .run_wall_s = 0.5,
	    .slowdown = 0.5 / 0.27,
	    .run_peak_rss_mb = 140.5,
	};
	h->size_buckets[0] = 10;
	h->size_buckets[7] = 100000;
	h->size_buckets[21] = 49990;
	h->sites = calloc(2, sizeof *h->sites);
	if (!h->sites)
		return SC_ENOMEM;
	h->n_sites = 2;
	sc_heap_site *s = &h->sites[0];
	*s = (sc_heap_site){.allocations = 91.5,
	                    .bytes = 48000000,
	                    .leaked_blocks = 0,
	                    .leaked_bytes = 0,
	                    .lost_bytes = NAN,
	                    .bytes_error = 0.1};
	s->frames = calloc(2, sizeof *s->frames);
	if (!s->frames)
		return SC_ENOMEM;
	s->n_frames = 2;
	s->frames[0] =
	    frame(0x555555555189, "/usr/local/bin/predict", 0x1189, "load_batch", "predict.c", 42);
	s->frames[1] =
	    frame(0x7ffff7dd0d90, "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x28d90, NULL, NULL, 0);
	s = &h->sites[1];
	*s = (sc_heap_site){.allocations = 2048,
	                    .bytes = 1048576,
	                    .leaked_blocks = 1024,
	                    .leaked_bytes = 1048576,
	                    .lost_bytes = NAN,
	                    .bytes_error = 0.7071067812};
	s->frames = calloc(1, sizeof *s->frames);
	if (!s->frames)
		return SC_ENOMEM;
	s->n_frames = 1;
	s->frames[0] = frame(0x1234, NULL, 0, NULL, NULL, 0);
	return 0;
}

/* "predict": three runs of a command (the last killed by SIGSEGV, kept with --ignore-failure),
 * with figures derived from them as sc__profile_derive_from_runs would, written out here. */
static int add_command_profile(sc_report *r)
{
	sc_profile p = {.kind = "command", .n_samples = 64, .n_warmup = 1, .n_runs = 3};
	p.name = strdup("predict");
	p.command = strdup("./predict --batch 64");
	p.runs = calloc(3, sizeof *p.runs);
	p.timeline = calloc(3, sizeof *p.timeline);
	if (!p.name || !p.command || !p.runs || !p.timeline) {
		sc_profile_release(&p);
		return SC_ENOMEM;
	}
	p.runs[0] = command_run(0.25, 0.2, 120.5, 3000);
	p.runs[1] = command_run(0.26, 0.21, 121.25, 3010);
	p.runs[2] = command_run(0.30, 0.22, 130.25, 3050);
	p.runs[2].exit_code = -1;
	p.runs[2].signal = 11;
	p.total_time = (sc_summary){
	    .n = 3,
	    .mean = 0.27,
	    .stddev = 0.026457513110645897,
	    .median = 0.26,
	    .min = 0.25,
	    .max = 0.30,
	    .mad = 0.01,
	    .ci95_low = 0.20427589392271572,
	    .ci95_high = 0.3357241060772843,
	    .outliers = 0,
	};
	p.avg_time_per_sample = 0.00421875;
	p.throughput_samples_per_sec = 237.037037037037;
	p.latency = (sc_latency){
	    .available = true,
	    .count = 3,
	    .mean_ms = 4.21875,
	    .p50_ms = 4.0625,
	    .p90_ms = 4.5625,
	    .p95_ms = 4.625,
	    .p99_ms = 4.675,
	    .p999_ms = 4.68625,
	    .max_ms = 4.6875,
	    .source = "per-run",
	};
	p.memory = (sc_memory_profile){
	    .baseline_memory_mb = 0,
	    .peak_memory_mb = 130.25,
	    .memory_increase_mb = 130.25,
	    .peak_reset = true,
	    .minor_faults = 3020,
	    .major_faults = 0,
	};
	p.resources = (sc_resources){
	    .cpu_user_s = 0.21,
	    .cpu_sys_s = 0.03,
	    .cpu_utilization = 0.24 / 0.27,
	    .read_bytes = 4096,
	    .write_bytes = -1,
	    .minor_faults = 3020,
	    .major_faults = 0,
	    .voluntary_context_switches = 12,
	    .involuntary_context_switches = 3,
	};
	p.n_timeline = 3;
	p.timeline[0] =
	    (sc_timeline_point){.t_s = 0, .rss_mb = 1.5, .cpu_percent = 0, .processes = 1};
	p.timeline[1] = (sc_timeline_point){0.01, 64.75, 98.5, 1};
	p.timeline[2] = (sc_timeline_point){0.02, 130.25, 100, 2};
	p.timeline_interval_s = 0.01;
	if (fill_heap(&p.heap) != 0) {
		sc_profile_release(&p);
		return SC_ENOMEM;
	}
	sc__warning_push(
	    &p, "failed-runs", "fix the command, or check that these failures are expected",
	    "%d of %d runs failed (non-zero exit, signal or timeout) and were kept with "
	    "--ignore-failure: figures include them",
	    1, 3);
	sc__unavailable_push(&p, "runs.write_bytes",
	                     "storage writes were not counted on this system");
	sc__unavailable_push(&p, "resources.write_bytes", "storage writes were not counted");
	int err = sc_report_add_profile(r, &p);
	if (err)
		sc_profile_release(&p);
	return err;
}

/* "predict_one": every sample timed in-process; no runs, no timeline, one total. */
static int add_samples_profile(sc_report *r)
{
	sc_profile p = {.kind = "samples", .n_samples = 1000, .name = strdup("predict_one")};
	if (!p.name)
		return SC_ENOMEM;
	p.total_time = (sc_summary){.n = 1,
	                            .mean = 0.125,
	                            .median = 0.125,
	                            .min = 0.125,
	                            .max = 0.125,
	                            .ci95_low = NAN,
	                            .ci95_high = NAN};
	p.avg_time_per_sample = 0.000125;
	p.throughput_samples_per_sec = 8000;
	p.latency = (sc_latency){
	    .available = true,
	    .count = 1000,
	    .mean_ms = 0.125,
	    .p50_ms = 0.1171875,
	    .p90_ms = 0.140625,
	    .p95_ms = 0.15625,
	    .p99_ms = 0.25,
	    .p999_ms = 0.5,
	    .max_ms = 1.03125,
	    .source = "per-sample",
	};
	p.memory = (sc_memory_profile){.baseline_memory_mb = 50.5,
	                               .peak_memory_mb = 52.75,
	                               .memory_increase_mb = 2.25,
	                               .peak_reset = true,
	                               .minor_faults = 576,
	                               .major_faults = 0};
	p.resources = (sc_resources){.cpu_user_s = 0.12,
	                             .cpu_sys_s = 0.004,
	                             .cpu_utilization = 0.992,
	                             .read_bytes = 0,
	                             .write_bytes = 0,
	                             .minor_faults = 576,
	                             .major_faults = 0,
	                             .voluntary_context_switches = 0,
	                             .involuntary_context_switches = 7};
	p.timeline_interval_s = NAN;
	sc__unavailable_push(
	    &p, "memory.timeline_interval_s",
	    "in-process profiles sample no memory timeline; profiling the program as "
	    "a command (shotclock run) records one");
	sc__unavailable_push(&p, "time.total_time.ci95",
	                     "one timed value has no spread to build a confidence interval from; "
	                     "time more runs");
	int err = sc_report_add_profile(r, &p);
	if (err)
		sc_profile_release(&p);
	return err;
}

/* The analysis sections, by hand: one finding with its recommendation, one requirement check,
 * one baseline comparison, and a leak check on "predict". */
static int add_analysis(sc_report *r)
{
	r->bottlenecks = calloc(1, sizeof *r->bottlenecks);
	r->recommendations = calloc(1, sizeof *r->recommendations);
	r->checks = calloc(1, sizeof *r->checks);
	r->regressions = calloc(1, sizeof *r->regressions);
	if (!r->bottlenecks || !r->recommendations || !r->checks || !r->regressions)
		return SC_ENOMEM;
	sc_bottleneck *b = &r->bottlenecks[0];
	*b = (sc_bottleneck){.severity = SC_SEVERITY_CRITICAL, .share = 0.28, .confidence = 0.75};
	snprintf(b->id, sizeof b->id, "allocation-churn");
	snprintf(b->profile, sizeof b->profile, "predict");
	snprintf(b->message, sizeof b->message,
	         "2,344 allocations per prediction, 28%% freed immediately");
	b->evidence[0] = (sc_evidence){"allocations_per_sample", 2343.75, ""};
	b->evidence[1] = (sc_evidence){"temporary_percent", 28, "%"};
	b->evidence[2] = (sc_evidence){"allocations_per_s", NAN, "1/s"};
	b->n_evidence = 3;
	r->n_bottlenecks = 1;
	sc_recommendation *c = &r->recommendations[0];
	*c = (sc_recommendation){.share = 0.28};
	snprintf(c->id, sizeof c->id, "object-pool");
	snprintf(c->finding, sizeof c->finding, "allocation-churn");
	snprintf(c->profile, sizeof c->profile, "predict");
	snprintf(c->action, sizeof c->action, "reuse buffers through an object pool");
	snprintf(c->expected, sizeof c->expected, "20-40%% less memory (seed: object pooling)");
	snprintf(c->evidence, sizeof c->evidence, "2,344 allocations per prediction");
	r->n_recommendations = 1;
	sc_check *k = &r->checks[0];
	*k = (sc_check){.limit = 4, .value = 4.21875, .bound = 4.5, .pass = false};
	snprintf(k->name, sizeof k->name, "latency_ms<=4");
	snprintf(k->profile, sizeof k->profile, "predict");
	snprintf(k->metric, sizeof k->metric, "latency_ms");
	snprintf(k->op, sizeof k->op, "<=");
	r->n_checks = 1;
	sc_regression *g = &r->regressions[0];
	*g = (sc_regression){.old_value = 0.25,
	                     .new_value = 0.27,
	                     .change = 0.08,
	                     .change_error = NAN,
	                     .method = "welch-t",
	                     .regression = false,
	                     .improvement = false};
	snprintf(g->profile, sizeof g->profile, "predict");
	snprintf(g->metric, sizeof g->metric, "total_time");
	r->n_regressions = 1;
	r->max_regression = 0.1;
	r->verdict = "fail";
	r->profiles[0].leak = (sc_leak_result){.verdict = "plateau",
	                                       .basis = "rss",
	                                       .iterations = 3,
	                                       .warmup = 0,
	                                       .slope_bytes = 1048576,
	                                       .slope_ci95_low = -2097152,
	                                       .slope_ci95_high = 4194304,
	                                       .second_half_slope_bytes = 0,
	                                       .total_growth_bytes = 2097152,
	                                       .reason = "grew then stopped"};
	return 0;
}

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

static char *read_all(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	char *buf = NULL;
	if (fseek(fp, 0, SEEK_END) == 0) {
		long size = ftell(fp);
		rewind(fp);
		buf = size >= 0 ? malloc((size_t)size + 1) : NULL;
		if (buf) {
			*len = fread(buf, 1, (size_t)size, fp);
			buf[*len] = '\0';
		}
	}
	fclose(fp);
	return buf;
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

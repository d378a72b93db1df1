/* test_region.c: regions with a mock clock (exact totals, self times, shares), and the channel. */
#include "check.h"
#include "internal.h"

#include <stdint.h>
#include <unistd.h>

/* A clock that advances exactly 1000 ns at every read, and by whatever work() adds to it. */
typedef struct mock_clock {
	uint64_t now_ns;
} mock_clock;

static mock_clock clk;

static uint64_t mock_now(void *ctx)
{
	mock_clock *c = ctx;
	c->now_ns += 1000;
	return c->now_ns;
}

static void work(uint64_t ns)
{
	clk.now_ns += ns;
}

static sc_profiler *mock_profiler(void)
{
	sc_profiler *p = sc_profiler_new();
	if (p)
		sc__profiler_set_clock(p, (sc__clock){.now_ns = mock_now, .ctx = &clk});
	return p;
}

static const sc_profile *find_kind(const sc_report *r, const char *kind)
{
	for (size_t i = 0; i < r->n_profiles; i++)
		if (strcmp(r->profiles[i].kind, kind) == 0)
			return &r->profiles[i];
	return NULL;
}

static const sc_region_stats *find_region(const sc_profile *p, const char *name)
{
	for (size_t i = 0; p && i < p->n_regions; i++)
		if (strcmp(p->regions[i].name, name) == 0)
			return &p->regions[i];
	return NULL;
}

static bool has_warning(const sc_profile *p, const char *id)
{
	for (size_t i = 0; p && i < p->n_warnings; i++)
		if (strcmp(p->warnings[i].id, id) == 0)
			return true;
	return false;
}

/* The seed's four components per prediction, inside one "predict" region. Each begin and each end
 * reads the clock once (+1000 ns). */
static void pipeline_once(sc_profiler *p)
{
	sc_region_begin(p, "predict");
	sc_region_begin(p, "data_loading");
	work(100000);
	sc_region_end(p);
	sc_region_begin(p, "feature_extraction");
	work(300000);
	sc_region_end(p);
	SC_REGION(p, "prediction")
	{
		work(500000);
	}
	SC_REGION(p, "postprocessing") work(50000);
	sc_region_end(p);
}

static void test_nesting_exact(void)
{
	clk = (mock_clock){0};
	sc_profiler *p = mock_profiler();
	for (int i = 0; i < 10; i++)
		pipeline_once(p);
	sc_report *r = NULL;
	CHECK_INT(sc_report_create(p, &r), 0);
	const sc_profile *rp = r ? find_kind(r, "regions") : NULL;
	CHECK(rp != NULL);
	CHECK_INT(rp ? rp->n_regions : 0, 5);
	/* Each child: its work plus the 1000 ns read that ends it. The parent: its children, the
	 * 1000 ns read that starts each child, and the read that ends it. */
	const uint64_t load = 101000, feat = 301000, pred = 501000, post = 51000;
	const uint64_t whole = load + feat + pred + post + 4 * 1000 + 1000;
	const sc_region_stats *top = find_region(rp, "predict");
	const sc_region_stats *fe = find_region(rp, "feature_extraction");
	CHECK(top && fe);
	if (top && fe) {
		CHECK_INT(top->calls, 10);
		CHECK_INT(top->depth, 0);
		CHECK_STR(top->parent, "");
		CHECK_NEAR(top->total_s, 10 * whole / 1e9, 1e-15);
		CHECK_NEAR(top->self_s, 10 * (whole - load - feat - pred - post) / 1e9, 1e-15);
		/* The span: ten predictions and the 1000 ns read between two of them. */
		CHECK_NEAR(top->share, (double)(10 * whole) / (double)(10 * whole + 9 * 1000),
		           1e-12);
		CHECK_NEAR(rp->total_time.mean, (10 * whole + 9 * 1000) / 1e9, 1e-15);
		CHECK_INT(fe->calls, 10);
		CHECK_INT(fe->depth, 1);
		CHECK_STR(fe->parent, "predict");
		CHECK_NEAR(fe->total_s, 10 * feat / 1e9, 1e-15);
		CHECK_NEAR(fe->self_s, fe->total_s, 1e-15);
		CHECK_NEAR(fe->share, (double)feat / (double)whole, 1e-12);
		CHECK(fe->latency.available);
		/* One duration only: every percentile is it, within the histogram's 0.4%. */
		CHECK_NEAR(fe->latency.p50_ms, feat / 1e6, feat / 1e6 * 0.004);
		CHECK_NEAR(fe->latency.max_ms, feat / 1e6, 1e-12);
		CHECK_INT(fe->allocations, -1); /* no shim in this process */
		CHECK(!isnan(fe->memory_increase_mb));
		double children = 0;
		for (size_t i = 0; i < rp->n_regions; i++)
			if (rp->regions[i].depth == 1)
				children += rp->regions[i].share;
		CHECK_NEAR(children + top->self_s / top->total_s, 1.0, 1e-12);
	}
	CHECK(find_region(rp, "postprocessing") != NULL);
	CHECK(!has_warning(rp, "region-open"));
	/* The regions profile goes through analysis and every exporter like any other. */
	if (r) {
		CHECK_INT(sc_report_analyze(r, NULL), 0);
		char path[512];
		const char *formats[] = {"json", "md", "csv", "html"};
		for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
			snprintf(path, sizeof path, "%s/test_region_%ld.%s",
			         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid(),
			         formats[i]);
			CHECK_INT(sc_report_export(r, formats[i], path), 0);
			if (i == 0) {
				sc_report *back = NULL;
				char err[256];
				CHECK_INT(sc_report_read_json(path, &back, err, sizeof err), 0);
				sc_report_free(back);
			}
			unlink(path);
		}
	}
	sc_report_free(r);
	sc_profiler_free(p);
}

static void test_percentiles(void)
{
	clk = (mock_clock){0};
	sc_profiler *p = mock_profiler();
	for (uint64_t i = 1; i <= 1000; i++) {
		sc_region_begin(p, "x");
		work(i * 10000 - 1000); /* with the end's read: exactly i * 10 µs */
		sc_region_end(p);
	}
	sc_report *r = NULL;
	CHECK_INT(sc_report_create(p, &r), 0);
	const sc_region_stats *x = r ? find_region(find_kind(r, "regions"), "x") : NULL;
	CHECK(x != NULL);
	if (x) {
		CHECK_INT(x->calls, 1000);
		CHECK_INT(x->latency.count, 1000);
		/* Nearest rank of 1..1000 x 10 µs, within the histogram's 0.4%. */
		CHECK_NEAR(x->latency.p50_ms, 5.00, 5.00 * 0.004);
		CHECK_NEAR(x->latency.p90_ms, 9.00, 9.00 * 0.004);
		CHECK_NEAR(x->latency.p99_ms, 9.90, 9.90 * 0.004);
		CHECK_NEAR(x->latency.p999_ms, 9.99, 9.99 * 0.004);
		CHECK_NEAR(x->latency.max_ms, 10.0, 1e-12);
		CHECK_NEAR(x->latency.mean_ms, 5.005, 1e-12);
		CHECK_STR(x->latency.source, "per-call");
	}
	sc_report_free(r);
	sc_profiler_free(p);
}

static void *comprehensive_body(void *ctx)
{
	sc_profiler *p = ctx;
	for (int i = 0; i < 4; i++)
		SC_REGION(p, "step") work(10000 - 1000);
	return NULL;
}

/* Regions entered inside sc_profile_comprehensive belong to its profile. */
static void test_attach_to_profile(void)
{
	clk = (mock_clock){0};
	sc_profiler *p = mock_profiler();
	SC_REGION(p, "outside") work(1000);
	sc_time_profile t;
	sc_profile_comprehensive(p, "fn", comprehensive_body, p, 4, NULL, &t);
	sc_report *r = NULL;
	CHECK_INT(sc_report_create(p, &r), 0);
	const sc_profile *fn = r ? find_kind(r, "function") : NULL;
	const sc_profile *rp = r ? find_kind(r, "regions") : NULL;
	CHECK(fn && rp);
	const sc_region_stats *step = find_region(fn, "step");
	CHECK(step != NULL);
	CHECK(find_region(fn, "outside") == NULL);
	CHECK(find_region(rp, "outside") != NULL);
	CHECK(find_region(rp, "step") == NULL);
	/* Not sampled (sc_profiler_sample_cpu was not called): no CPU figures, said so. */
	if (step) {
		CHECK_INT(step->cpu_samples, -1);
		CHECK(isnan(step->cpu_percent));
		CHECK_STR(step->cpu_top_function, "");
	}
	const sc_region_stats *outside = find_region(rp, "outside");
	if (outside) {
		CHECK_INT(outside->cpu_samples, -1);
		CHECK(isnan(outside->cpu_percent));
	}
	if (fn)
		CHECK(!fn->cpu.available && fn->cpu.reason[0]);
	if (rp)
		CHECK(!rp->cpu.available && strstr(rp->cpu.reason, "not sampled") != NULL);
	if (step && fn) {
		CHECK_INT(step->calls, 4);
		CHECK_NEAR(step->total_s, 40e-6, 1e-15);
		/* The call: 4 steps, the 4 reads that start them and the read that ends the call.
		 */
		CHECK_NEAR(fn->total_time.mean, 45e-6, 1e-15);
		CHECK_NEAR(step->share, 40.0 / 45.0, 1e-12);
	}
	sc_report_free(r);
	sc_profiler_free(p);
}

static void test_misuse(void)
{
	clk = (mock_clock){0};
	sc_profiler *p = mock_profiler();
	sc_region_end(p); /* nothing open yet: no table, ignored */
	sc_region_begin(NULL, "x");
	sc_region_end(NULL);
	sc_region_begin(p, NULL);
	SC_REGION(p, "a") work(1000);
	sc_region_end(p); /* unbalanced: ignored and counted */
	/* 40 deep: the 8 beyond 32 are dropped, and their ends consumed, not misattributed. */
	for (int i = 0; i < 40; i++)
		sc_region_begin(p, "deep");
	for (int i = 0; i < 40; i++)
		sc_region_end(p);
	SC_REGION(p, "b") work(1000);
	sc_region_begin(p, "left-open");
	work(5000);
	sc_report *r = NULL;
	CHECK_INT(sc_report_create(p, &r), 0);
	const sc_profile *rp = r ? find_kind(r, "regions") : NULL;
	CHECK(rp != NULL);
	CHECK(has_warning(rp, "region-unbalanced"));
	CHECK(has_warning(rp, "region-dropped"));
	CHECK(has_warning(rp, "region-open"));
	size_t deep = 0;
	for (size_t i = 0; rp && i < rp->n_regions; i++)
		if (strcmp(rp->regions[i].name, "deep") == 0) {
			deep++;
			CHECK_INT(rp->regions[i].calls, 1);
		}
	CHECK_INT(deep, 32);
	const sc_region_stats *b = find_region(rp, "b");
	CHECK(b && b->depth == 0 && b->calls == 1);
	const sc_region_stats *open = find_region(rp, "left-open");
	CHECK(open && open->calls == 0 && !open->latency.available && open->total_s >= 5e-6);
	sc_report_free(r);
	/* Still open at free: no crash, no leak (ASan). */
	sc_profiler_free(p);
}

static const char *temp_dir(void)
{
	const char *t = getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 20);
	*len = buf ? fread(buf, 1, 1 << 20, f) : 0;
	fclose(f);
	return buf;
}

/* The program's side through the environment, the collector's side through the parser. */
static void test_channel_roundtrip(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/test_region_%ld", temp_dir(), (long)getpid());
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	setenv(SC__REGIONS_ENV, path, 1);
	for (int run = 0; run < 2; run++) {
		clk = (mock_clock){0};
		sc_profiler *p = mock_profiler();
		for (int i = 0; i < 3; i++) {
			SC_REGION(p, "load data") /* a space, escaped on the wire */
			{
				work(9000);
				SC_REGION(p, "50%") work(run ? 19000 : 9000);
			}
		}
		sc_profiler_free(p); /* sends the record */
	}
	unsetenv(SC__REGIONS_ENV);
	size_t len = 0;
	char *text = slurp(path, &len);
	unlink(path);
	CHECK(text != NULL);
	sc_profile prof = {0};
	CHECK_INT(sc__region_channel_parse(text, len, 2, 1e-3, &prof), 0);
	CHECK_INT(prof.n_regions, 2);
	const sc_region_stats *load = find_region(&prof, "load data");
	const sc_region_stats *pct = find_region(&prof, "50%");
	CHECK(load && pct);
	if (load && pct) {
		CHECK_INT(load->calls, 3); /* per run */
		CHECK_STR(pct->parent, "load data");
		CHECK_INT(pct->depth, 1);
		/* Per run: 3 x (10 µs, then 20 µs); mean 15 µs x 3 = 45 µs. */
		CHECK_NEAR(pct->total_s, 45e-6, 1e-12);
		CHECK_NEAR(load->total_s, 3 * (10e-6 + 1e-6) + 45e-6, 1e-12);
		CHECK_NEAR(load->share, load->total_s / 1e-3, 1e-12);
		CHECK_NEAR(pct->share, pct->total_s / load->total_s, 1e-12);
		CHECK_INT(pct->latency.count, 6);
		CHECK_NEAR(pct->latency.p50_ms, 0.010, 0.010 * 0.004);
		CHECK_NEAR(pct->latency.max_ms, 0.020, 1e-12);
		CHECK_INT(pct->allocations, -1);
		CHECK_INT(pct->cpu_samples, -1);
		CHECK(isnan(pct->cpu_percent));
		CHECK_STR(pct->cpu_top_function, "");
	}
	sc_profile_release(&prof);
	/* A torn or foreign file is refused, never a crash. */
	sc_profile bad = {0};
	CHECK(sc__region_channel_parse("SCREGIONS1 1 999\n0 1", 20, 1, 1, &bad) != 0);
	CHECK(sc__region_channel_parse("garbage\n", 8, 1, 1, &bad) != 0);
	const char *trunc = "SCREGIONS1 1 14\n0 1 2 3 ? -1 \n";
	CHECK(sc__region_channel_parse(trunc, strlen(trunc), 1, 1, &bad) != 0);
	sc_profile_release(&bad);
	free(text);
}

int main(void)
{
	test_nesting_exact();
	test_percentiles();
	test_attach_to_profile();
	test_misuse();
	test_channel_roundtrip();
	return CHECK_DONE();
}

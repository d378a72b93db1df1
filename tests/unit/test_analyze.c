/* test_analyze.c: every bottleneck rule on synthetic profiles (exact findings and evidence), the
 * confidence an unstable measurement leaves, and the recommendations, healthy case included. */
#include "check.h"
#include "internal.h"

#include <math.h>

static char name_p[] = "p";
static char name_q[] = "q";

/* A profile no rule finds anything in: 5 steady runs of 0.1 s, 0.3 cores, little memory, no I/O. */
static sc_profile healthy_profile(void)
{
	sc_profile p = {.name = name_p, .kind = "command", .n_samples = 1};
	p.total_time = (sc_summary){.n = 5, .mean = 0.1, .stddev = 0.001, .median = 0.1};
	p.avg_time_per_sample = 0.1;
	p.throughput_samples_per_sec = 10;
	p.latency = (sc_latency){.available = true,
	                         .count = 5,
	                         .mean_ms = 100,
	                         .p50_ms = 100,
	                         .p90_ms = 101,
	                         .p95_ms = 101,
	                         .p99_ms = 102,
	                         .p999_ms = 102,
	                         .max_ms = 102,
	                         .source = "per-run"};
	p.memory = (sc_memory_profile){.peak_memory_mb = 10, .memory_increase_mb = 10};
	p.resources = (sc_resources){.cpu_user_s = 0.02,
	                             .cpu_sys_s = 0.01,
	                             .cpu_utilization = 0.3,
	                             .read_bytes = 0,
	                             .write_bytes = 0,
	                             .minor_faults = 100,
	                             .major_faults = 0,
	                             .voluntary_context_switches = 5,
	                             .involuntary_context_switches = 2};
	return p;
}

static sc_report report_of(sc_profile *profiles, size_t n)
{
	sc_report r = {.profiles = profiles, .n_profiles = n, .max_regression = NAN};
	r.system.cpus = 2;
	r.system.memory_total_mb = 8192;
	r.system.load_avg[0] = 1.5;
	return r;
}

static void release(sc_report *r)
{
	free(r->bottlenecks);
	free(r->recommendations);
	r->bottlenecks = NULL;
	r->recommendations = NULL;
}

static const sc_bottleneck *find(const sc_report *r, const char *id)
{
	for (size_t i = 0; i < r->n_bottlenecks; i++)
		if (strcmp(r->bottlenecks[i].id, id) == 0)
			return &r->bottlenecks[i];
	return NULL;
}

static double ev(const sc_bottleneck *b, const char *name)
{
	for (size_t i = 0; b && i < b->n_evidence; i++)
		if (strcmp(b->evidence[i].name, name) == 0)
			return b->evidence[i].value;
	return -12345; /* absent: no check of a real value can match it */
}

static bool has_rec(const sc_report *r, const char *id, const char *finding)
{
	for (size_t i = 0; i < r->n_recommendations; i++)
		if (strcmp(r->recommendations[i].id, id) == 0 &&
		    strcmp(r->recommendations[i].finding, finding) == 0)
			return true;
	return false;
}

/* Analyses one profile and checks that exactly the finding id (or none, id NULL) comes out. */
static sc_report analyse_one(sc_profile *p, const sc_requirements *req, const char *id)
{
	sc_report r = report_of(p, 1);
	CHECK_INT(sc_report_analyze(&r, req), 0);
	CHECK_INT(r.n_bottlenecks, id ? 1 : 0);
	if (id) {
		CHECK(find(&r, id) != NULL);
		if (!find(&r, id))
			for (size_t i = 0; i < r.n_bottlenecks; i++)
				fprintf(stderr, "  found %s instead\n", r.bottlenecks[i].id);
	}
	return r;
}

static void test_healthy(void)
{
	sc_profile p = healthy_profile();
	sc_report r = analyse_one(&p, NULL, NULL);
	CHECK_INT(r.n_recommendations, 1);
	CHECK_STR(r.recommendations[0].id, "healthy");
	CHECK_STR(r.recommendations[0].finding, "");
	CHECK_STR(r.recommendations[0].profile, "p");
	CHECK_STR(r.recommendations[0].evidence,
	          "0.30 of 2 cores busy, peak 10.0 MB (0.1% of RAM), run times within 1.0%");
	release(&r);
	/* Analysing twice replaces, never appends. */
	r = report_of(&p, 1);
	CHECK_INT(sc_report_analyze(&r, NULL), 0);
	CHECK_INT(sc_report_analyze(&r, NULL), 0);
	CHECK_INT(r.n_recommendations, 1);
	release(&r);
	CHECK_INT(sc_report_analyze(NULL, NULL), SC_EINVAL);
}

/* A name longer than the findings' profile field (a long command line) still gets the
 * recommendations of its findings, not a "healthy" one beside them. */
static void test_long_profile_name(void)
{
	char long_name[300];
	memset(long_name, 'x', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	sc_profile p = healthy_profile();
	p.name = long_name;
	p.resources.cpu_utilization = 0.99;
	sc_report r = analyse_one(&p, NULL, "cpu-bound");
	CHECK(has_rec(&r, "multi-threading", "cpu-bound"));
	for (size_t i = 0; i < r.n_recommendations; i++)
		CHECK(strcmp(r.recommendations[i].id, "healthy") != 0);
	release(&r);
}

static void test_requirements(void)
{
	sc_profile p = healthy_profile();
	sc_requirements req = {.n = 1};
	req.items[0] = (sc_requirement){"latency_p99_ms", "<=", 50};
	sc_report r = analyse_one(&p, &req, "latency-requirement");
	const sc_bottleneck *b = find(&r, "latency-requirement");
	CHECK_INT(b->severity, SC_SEVERITY_CRITICAL);
	CHECK_NEAR(ev(b, "value_ms"), 102, 0);
	CHECK_NEAR(ev(b, "limit_ms"), 50, 0);
	CHECK_NEAR(ev(b, "ratio"), 2.04, 1e-12);
	CHECK_STR(b->message,
	          "latency_p99_ms is 102 ms, above the required <= 50 ms (2.04x the limit)");
	CHECK(has_rec(&r, "model-simplification", "latency-requirement"));
	release(&r);

	req.items[0] = (sc_requirement){"latency_ms", "<=", 200};
	r = analyse_one(&p, &req, NULL);
	release(&r);

	req.items[0] = (sc_requirement){"throughput", ">=", 100};
	r = analyse_one(&p, &req, "throughput-requirement");
	CHECK_NEAR(ev(find(&r, "throughput-requirement"), "throughput_samples_per_sec"), 10, 0);
	CHECK(has_rec(&r, "vectorization", "throughput-requirement"));
	release(&r);

	req.items[0] = (sc_requirement){"peak_memory_mb", "<", 8};
	r = analyse_one(&p, &req, "memory-requirement");
	CHECK_NEAR(ev(find(&r, "memory-requirement"), "value_mb"), 10, 0);
	CHECK(has_rec(&r, "batching", "memory-requirement"));
	release(&r);
}

static void test_memory_high(void)
{
	sc_profile p = healthy_profile();
	p.memory.peak_memory_mb = 4096 + 1024;
	sc_report r = analyse_one(&p, NULL, "memory-high");
	const sc_bottleneck *b = find(&r, "memory-high");
	CHECK_INT(b->severity, SC_SEVERITY_WARNING);
	CHECK_NEAR(ev(b, "ram_percent"), 62.5, 1e-9);
	CHECK_NEAR(b->share, 0.625, 1e-12);
	CHECK(has_rec(&r, "float32", "memory-high"));
	release(&r);
	p.memory.peak_memory_mb = 8000;
	r = analyse_one(&p, NULL, "memory-high");
	CHECK_INT(find(&r, "memory-high")->severity, SC_SEVERITY_CRITICAL);
	release(&r);
}

/* A timeline of n points 10 ms apart whose RSS follows rss(t). */
static void set_timeline(sc_profile *p, sc_timeline_point *points, size_t n,
                         double (*rss)(double t))
{
	for (size_t i = 0; i < n; i++) {
		double t = 0.01 * (double)(i + 1);
		points[i] = (sc_timeline_point){.t_s = t, .rss_mb = rss(t), .processes = 1};
	}
	p->timeline = points;
	p->n_timeline = n;
}

/* 200 MB/s for 0.3 s: a leak. */
static double leak_rss(double t)
{
	return 1 + 200 * t;
}

/* Fills 60 MB in the first 0.06 s, then stays. */
static double plateau_rss(double t)
{
	return 1 + 1000 * fmin(t, 0.06);
}

static void test_memory_growth(void)
{
	sc_timeline_point points[31];
	sc_profile p = healthy_profile();
	set_timeline(&p, points, 30, leak_rss);
	points[30] = (sc_timeline_point){.t_s = 0.31, .rss_mb = 0}; /* the exiting process */
	p.n_timeline = 31;
	sc_report r = analyse_one(&p, NULL, "memory-growth");
	const sc_bottleneck *b = find(&r, "memory-growth");
	/* The second half is t >= 0.15: points 0.15 ... 0.30 (16), slope exactly 200 MB/s. */
	CHECK_NEAR(ev(b, "slope_mb_per_s"), 200, 1e-6);
	CHECK_NEAR(ev(b, "second_half_growth_mb"), 200 * 0.15, 1e-6);
	CHECK_NEAR(ev(b, "peak_rss_mb"), 61, 1e-9);
	CHECK(isnan(ev(b, "leaked_bytes")));         /* no heap run */
	CHECK_INT(b->severity, SC_SEVERITY_WARNING); /* 30 / 61 < 0.5 */
	CHECK(has_rec(&r, "fix-leak", "memory-growth"));
	release(&r);

	set_timeline(&p, points, 30, plateau_rss);
	r = analyse_one(&p, NULL, NULL);
	release(&r);

	/* The leak check's verdict wins over the timeline. */
	p.leak = (sc_leak_result){.verdict = "leak",
	                          .basis = "live heap",
	                          .iterations = 10,
	                          .slope_bytes = 1048576,
	                          .slope_ci95_low = 1000000,
	                          .slope_ci95_high = 1100000,
	                          .total_growth_bytes = 9 * 1048576.0};
	r = analyse_one(&p, NULL, "memory-growth");
	b = find(&r, "memory-growth");
	CHECK_NEAR(ev(b, "leak_slope_bytes"), 1048576, 0);
	CHECK_NEAR(ev(b, "total_growth_bytes"), 9 * 1048576.0, 0);
	CHECK_NEAR(b->share, 0.9, 1e-12); /* 9 MB of the 10 MB peak */
	CHECK_INT(b->severity, SC_SEVERITY_CRITICAL);
	CHECK_STR(b->message, "the leak check finds steady growth: +9.0 MB in total (live heap "
	                      "basis, 10 points)");
	release(&r);
}

static sc_heap_profile heap_base(void)
{
	return (sc_heap_profile){.available = true,
	                         .complete = true,
	                         .allocations = 100,
	                         .frees = 90,
	                         .bytes_allocated = 10000,
	                         .temporary_allocations = 10,
	                         .allocations_per_sample = NAN,
	                         .peak_live_bytes = 100000,
	                         .leaked_blocks = 10,
	                         .leaked_bytes = 1000,
	                         .lost_blocks = -1,
	                         .lost_bytes = -1,
	                         .reachable_blocks = -1,
	                         .reachable_bytes = -1,
	                         .arena_bytes = 135168,
	                         .in_use_bytes = 1000,
	                         .run_peak_rss_mb = 2};
}

static void test_heap_rules(void)
{
	sc_profile p = healthy_profile();
	p.heap = heap_base();
	sc_report r = analyse_one(&p, NULL, NULL);
	release(&r);

	/* Churn: 1,204 allocations per prediction, 91% temporary. */
	p.n_samples = 100;
	p.heap.allocations = 120400;
	p.heap.temporary_allocations = 109564;
	p.heap.allocations_per_sample = 1204;
	r = analyse_one(&p, NULL, "allocation-churn");
	const sc_bottleneck *b = find(&r, "allocation-churn");
	CHECK_STR(b->message, "1,204 allocations per prediction, 91% freed immediately");
	CHECK_NEAR(ev(b, "allocations_per_sample"), 1204, 0);
	CHECK_NEAR(ev(b, "temporary_percent"), 91, 1e-9);
	CHECK_INT(b->severity, SC_SEVERITY_CRITICAL);
	CHECK(has_rec(&r, "object-pool", "allocation-churn"));
	release(&r);

	/* Large intermediates: a 64 MiB peak of 1-MiB blocks, 1 MiB kept. */
	p = healthy_profile();
	p.heap = heap_base();
	p.heap.peak_live_bytes = 64 << 20;
	p.heap.leaked_bytes = 1 << 20;
	p.heap.size_buckets[21] = 64; /* [1 MiB, 2 MiB) */
	r = analyse_one(&p, NULL, "large-intermediates");
	b = find(&r, "large-intermediates");
	CHECK_NEAR(ev(b, "peak_to_exit_ratio"), 64, 0);
	CHECK_NEAR(ev(b, "large_block_allocations"), 64, 0);
	CHECK_INT(b->severity, SC_SEVERITY_CRITICAL);
	CHECK(has_rec(&r, "in-place", "large-intermediates"));
	release(&r);
	/* The same peak made of small blocks is not "large intermediates". */
	p.heap.size_buckets[21] = 0;
	p.heap.size_buckets[8] = 1 << 20;
	r = analyse_one(&p, NULL, NULL);
	release(&r);

	/* Fragmentation: 40 MiB held, 20 MiB in use. */
	p = healthy_profile();
	p.heap = heap_base();
	p.heap.arena_bytes = 40 << 20;
	p.heap.in_use_bytes = 20 << 20;
	r = analyse_one(&p, NULL, "heap-fragmentation");
	b = find(&r, "heap-fragmentation");
	CHECK_NEAR(ev(b, "fragmentation_percent"), 50, 0);
	CHECK_INT(b->severity, SC_SEVERITY_WARNING);
	CHECK(has_rec(&r, "object-pool", "heap-fragmentation"));
	release(&r);
}

static void test_cpu_rules(void)
{
	sc_profile p = healthy_profile();
	p.resources.cpu_utilization = 0.99;
	p.resources.cpu_user_s = 0.099;
	p.resources.cpu_sys_s = 0;
	sc_report r = analyse_one(&p, NULL, "cpu-bound");
	const sc_bottleneck *b = find(&r, "cpu-bound");
	CHECK_NEAR(ev(b, "cpu_utilization"), 0.99, 0);
	CHECK_NEAR(ev(b, "idle_cores"), 1.01, 1e-12);
	CHECK(has_rec(&r, "multi-threading", "cpu-bound"));
	release(&r);
	/* CPU-bound on a busy machine: 0.6 of a core, never waiting (2 voluntary switches per
	 * run), preempted 40 times per run. */
	p = healthy_profile();
	p.resources.cpu_utilization = 0.6;
	p.resources.voluntary_context_switches = 2;
	p.resources.involuntary_context_switches = 40;
	r = analyse_one(&p, NULL, "cpu-bound");
	b = find(&r, "cpu-bound");
	CHECK_NEAR(ev(b, "voluntary_context_switches"), 2, 0);
	CHECK_NEAR(ev(b, "involuntary_context_switches"), 40, 0);
	CHECK_NEAR(b->share, 1, 0);
	CHECK_STR(b->message, "one core's worth of work that never waits (2 voluntary switches per "
	                      "run), though it got 0.60 of a core: preempted 40 times per run by a "
	                      "busy machine");
	release(&r);
	/* Two cores busy: not one-core CPU-bound. */
	p.resources.cpu_utilization = 1.9;
	r = analyse_one(&p, NULL, NULL);
	release(&r);

	/* I/O-bound: 0.1 cores, 2 MiB written per run. Sleeping alone (no I/O) is not. */
	p = healthy_profile();
	p.resources.cpu_utilization = 0.1;
	p.resources.voluntary_context_switches = 5000;
	r = analyse_one(&p, NULL, NULL);
	release(&r);
	p.resources.write_bytes = 2 << 20;
	r = analyse_one(&p, NULL, "io-bound");
	b = find(&r, "io-bound");
	CHECK_NEAR(ev(b, "wait_percent"), 90, 1e-9);
	CHECK_NEAR(ev(b, "io_bytes"), 2 << 20, 0);
	CHECK_NEAR(ev(b, "voluntary_switches_per_s"), 50000, 1e-6);
	CHECK_INT(b->severity, SC_SEVERITY_CRITICAL);
	CHECK(has_rec(&r, "async-io-caching", "io-bound"));
	release(&r);

	/* System-call heavy: 0.045 s sys of 0.05 s CPU, 45% of the wall. */
	p = healthy_profile();
	p.resources.cpu_user_s = 0.005;
	p.resources.cpu_sys_s = 0.045;
	p.resources.cpu_utilization = 0.5;
	r = analyse_one(&p, NULL, "syscall-heavy");
	b = find(&r, "syscall-heavy");
	CHECK_NEAR(ev(b, "sys_percent_of_cpu"), 90, 1e-9);
	CHECK_NEAR(ev(b, "sys_percent_of_wall"), 45, 1e-9);
	CHECK_INT(b->severity, SC_SEVERITY_CRITICAL);
	release(&r);

	/* Page faults: 512 per sample over 100 samples. */
	p = healthy_profile();
	p.n_samples = 100;
	p.resources.minor_faults = 51200;
	r = analyse_one(&p, NULL, "page-fault-heavy");
	b = find(&r, "page-fault-heavy");
	CHECK_NEAR(ev(b, "faults_per_sample"), 512, 0);
	CHECK_STR(b->message, "512 page faults per prediction (51200 per run): fresh memory every "
	                      "sample");
	release(&r);

	/* Oversubscription: 600 preemptions in 0.03 s of CPU, in a program that also waits (50
	 * voluntary switches per run, so it is not also CPU-bound). */
	p = healthy_profile();
	p.resources.involuntary_context_switches = 600;
	p.resources.voluntary_context_switches = 50;
	r = analyse_one(&p, NULL, "oversubscription");
	b = find(&r, "oversubscription");
	CHECK_NEAR(ev(b, "involuntary_switches_per_cpu_s"), 20000, 1e-6);
	CHECK_NEAR(ev(b, "load_avg_1m"), 1.5, 0);
	CHECK_INT(b->severity, SC_SEVERITY_CRITICAL);
	CHECK(has_rec(&r, "fewer-threads", "oversubscription"));
	release(&r);
}

static void test_time_rules(void)
{
	/* Tail: p99 five times p50 over 20 runs. */
	sc_profile p = healthy_profile();
	p.latency.count = 20;
	p.latency.p99_ms = 500;
	sc_report r = analyse_one(&p, NULL, "tail-latency");
	const sc_bottleneck *b = find(&r, "tail-latency");
	CHECK_NEAR(ev(b, "p99_p50_ratio"), 5, 0);
	CHECK_NEAR(b->share, 0.8, 1e-12);
	CHECK_INT(b->severity, SC_SEVERITY_WARNING);
	CHECK(has_rec(&r, "warm-up", "tail-latency"));
	release(&r);
	/* With 5 runs, p99 is too few values to mean a tail. */
	p.latency.count = 5;
	r = analyse_one(&p, NULL, NULL);
	release(&r);

	/* Cold start: the first of 4 runs takes 0.5 s, the others 0.1 s. */
	p = healthy_profile();
	sc_run runs[4] = {{.wall_s = 0.5}, {.wall_s = 0.1}, {.wall_s = 0.1}, {.wall_s = 0.1}};
	p.runs = runs;
	p.n_runs = 4;
	r = analyse_one(&p, NULL, "cold-start");
	b = find(&r, "cold-start");
	CHECK_NEAR(ev(b, "first_to_median_ratio"), 5, 1e-12);
	CHECK_NEAR(b->share, 0.4 / 0.8, 1e-12);
	CHECK(has_rec(&r, "warm-up", "cold-start"));
	release(&r);
}

static void test_unstable_and_confidence(void)
{
	/* cv 20% with 1 outlier in 5 runs: confidence 0.10 / 0.20 * (1 - 1/5) = 0.4. */
	sc_profile p = healthy_profile();
	p.total_time.stddev = 0.02;
	p.total_time.outliers = 1;
	p.resources.cpu_utilization = 0.95;
	sc_report r = report_of(&p, 1);
	CHECK_INT(sc_report_analyze(&r, NULL), 0);
	CHECK_INT(r.n_bottlenecks, 2);
	const sc_bottleneck *u = find(&r, "unstable-measurement");
	const sc_bottleneck *c = find(&r, "cpu-bound");
	CHECK(u && c && u == &r.bottlenecks[0]); /* computed, and listed, first */
	CHECK_NEAR(ev(u, "cv_percent"), 20, 1e-9);
	CHECK_NEAR(ev(u, "outliers"), 1, 0);
	CHECK_NEAR(ev(u, "confidence_factor"), 0.4, 1e-12);
	CHECK_NEAR(u->confidence, 1, 0);
	CHECK_NEAR(c->confidence, 0.4, 1e-12);
	CHECK_INT(u->severity, SC_SEVERITY_INFO);
	CHECK(has_rec(&r, "quiet-system", "unstable-measurement"));
	release(&r);
	CHECK_NEAR(sc__analyze_confidence(&p), 0.4, 1e-12);
	/* Very noisy: the floor. */
	p.total_time.stddev = 0.1;
	CHECK_NEAR(sc__analyze_confidence(&p), 0.2, 0);
	/* Outliers in a tight distribution (cv 1%) are not instability. */
	p.total_time.stddev = 0.001;
	CHECK_NEAR(sc__analyze_confidence(&p), 1, 0);
	/* A tail is about the variation itself: its confidence stays. */
	p = healthy_profile();
	p.total_time.stddev = 0.05;
	p.latency.count = 20;
	p.latency.p99_ms = 500;
	r = report_of(&p, 1);
	CHECK_INT(sc_report_analyze(&r, NULL), 0);
	CHECK(find(&r, "tail-latency") && find(&r, "tail-latency")->confidence == 1);
	release(&r);
}

static void test_dominant_component(void)
{
	sc_profile ps[2] = {healthy_profile(), healthy_profile()};
	ps[1].name = name_q;
	ps[1].total_time.mean = 0.9;
	sc_report r = report_of(ps, 2);
	CHECK_INT(sc_report_analyze(&r, NULL), 0);
	CHECK_INT(r.n_bottlenecks, 1);
	const sc_bottleneck *b = find(&r, "dominant-component");
	CHECK(b != NULL);
	if (b) {
		CHECK_STR(b->profile, "q");
		CHECK_NEAR(ev(b, "time_share_percent"), 90, 1e-9);
		CHECK_INT(b->severity, SC_SEVERITY_CRITICAL);
	}
	/* q gets its actions; p, with no finding, its healthy entry. */
	CHECK_INT(r.n_recommendations, 3);
	CHECK_STR(r.recommendations[0].profile, "p");
	CHECK_STR(r.recommendations[0].id, "healthy");
	CHECK(has_rec(&r, "model-simplification", "dominant-component"));
	release(&r);
}

static void test_ranking(void)
{
	/* Two findings, two actions each: churn's (share 0.91) rank above cpu-bound's (0.9). */
	sc_profile p = healthy_profile();
	p.resources.cpu_utilization = 0.9;
	p.heap = heap_base();
	p.n_samples = 100;
	p.heap.allocations = 120400;
	p.heap.temporary_allocations = 109564;
	p.heap.allocations_per_sample = 1204;
	sc_report r = report_of(&p, 1);
	CHECK_INT(sc_report_analyze(&r, NULL), 0);
	CHECK_INT(r.n_bottlenecks, 2);
	CHECK_INT(r.n_recommendations, 4);
	for (size_t i = 1; i < r.n_recommendations; i++)
		CHECK(r.recommendations[i - 1].share >= r.recommendations[i].share);
	CHECK_STR(r.recommendations[0].finding, "allocation-churn"); /* 0.91 > 0.9 */
	CHECK_STR(r.recommendations[2].finding, "cpu-bound");
	release(&r);
}

/* ---- cpu-hotspot ------------------------------------------------------------------------------
 */

static char fn_gbm[] = "gbm_predict_row", fn_main[] = "main", fn_memcpy[] = "memcpy";
static char fn_chk[] = "__memmove_chk", fn_load[] = "load", fn_copy[] = "copy_rows";
static char mod_prog[] = "/home/u/nba/predict", mod_libc[] = "/usr/lib/x86_64-linux-gnu/libc.so.6";
static char file_gbm[] = "/home/u/examples/nba/gbm.c", file_main[] = "/home/u/examples/nba/main.c";
static char file_load[] = "/home/u/src/load.c", file_rows[] = "rows.c";

/* A profile whose CPU samples put self_percent of n samples in gbm_predict_row (first defined at
 * gbm.c:212, hottest at gbm.c:230) and the rest in main. The arrays are the caller's: the test
 * frees nothing of them. */
static sc_profile hotspot_profile(sc_cpu_hotspot hs[2], sc_cpu_line *line, uint64_t n,
                                  double self_percent)
{
	sc_profile p = healthy_profile();
	*line = (sc_cpu_line){.file = file_gbm, .line = 230, .samples = n * 4 / 10, .percent = 40};
	uint64_t self = (uint64_t)llround((double)n * self_percent / 100);
	hs[0] = (sc_cpu_hotspot){.function = fn_gbm,
	                         .module = mod_prog,
	                         .file = file_gbm,
	                         .line = 212,
	                         .self_samples = self,
	                         .total_samples = n * 8 / 10,
	                         .self_percent = self_percent,
	                         .total_percent = 80,
	                         .lines = line,
	                         .n_lines = 1};
	hs[1] = (sc_cpu_hotspot){.function = fn_main,
	                         .module = mod_prog,
	                         .file = file_main,
	                         .line = 10,
	                         .self_samples = n - self,
	                         .total_samples = n,
	                         .self_percent = 100 - self_percent,
	                         .total_percent = 100};
	p.cpu = (sc_cpu_profile){.available = true,
	                         .sampler = "perf_event",
	                         .call_graph = "fp",
	                         .rate_hz = 997,
	                         .samples = n,
	                         .threads = 1,
	                         .processes = 1,
	                         .hotspots = hs,
	                         .n_hotspots = 2};
	return p;
}

static const sc_recommendation *rec_for(const sc_report *r, const char *finding)
{
	for (size_t i = 0; i < r->n_recommendations; i++)
		if (strcmp(r->recommendations[i].finding, finding) == 0)
			return &r->recommendations[i];
	return NULL;
}

static void test_cpu_hotspot(void)
{
	sc_cpu_hotspot hs[2];
	sc_cpu_line line;
	sc_profile p = hotspot_profile(hs, &line, 1000, 61);
	sc_report r = analyse_one(&p, NULL, "cpu-hotspot");
	const sc_bottleneck *b = find(&r, "cpu-hotspot");
	if (b) {
		CHECK_STR(b->message, "`gbm_predict_row` (nba/gbm.c:212) takes 61% of CPU samples");
		CHECK_STR(b->region, "");
		CHECK_INT(b->severity, SC_SEVERITY_CRITICAL);
		CHECK_NEAR(b->share, 0.61, 1e-15);
		/* The 95% half-width of a binomial share: 1.96 sqrt(0.61 * 0.39 / 1000) = 3.02 pp.
		 */
		double half = 1.96 * sqrt(0.61 * 0.39 / 1000);
		CHECK_NEAR(b->confidence, 1 - half / 0.61, 1e-12);
		CHECK_NEAR(ev(b, "self_percent"), 61, 0);
		CHECK_NEAR(ev(b, "self_samples"), 610, 0);
		CHECK_NEAR(ev(b, "total_percent"), 80, 0);
		CHECK_NEAR(ev(b, "samples"), 1000, 0);
		CHECK_NEAR(ev(b, "self_percent_ci95"), 100 * half, 1e-12);
		CHECK_NEAR(ev(b, "region_cpu_percent"), -12345, 0); /* no regions: absent */
	}
	const sc_recommendation *c = rec_for(&r, "cpu-hotspot");
	CHECK(c != NULL);
	if (c) {
		CHECK_STR(c->id, "optimise-hotspot");
		CHECK_STR(c->action,
		          "optimise `gbm_predict_row` (nba/gbm.c:212): it holds 61% of CPU "
		          "samples; its hottest line is gbm.c:230 (40% of samples)");
		CHECK_STR(c->expected,
		          "halving its time saves at most 30.5% of the CPU time (Amdahl)");
		CHECK_STR(c->evidence,
		          "`gbm_predict_row` (nba/gbm.c:212) takes 61% of CPU samples");
		CHECK_NEAR(c->share, 0.61, 1e-15);
	}
	release(&r);

	/* Exactly at the threshold: a warning, and fewer samples leave less confidence. */
	p = hotspot_profile(hs, &line, 50, 30);
	r = analyse_one(&p, NULL, "cpu-hotspot");
	b = find(&r, "cpu-hotspot");
	if (b) {
		CHECK_INT(b->severity, SC_SEVERITY_WARNING);
		CHECK_NEAR(b->confidence, 1 - 1.96 * sqrt(0.3 * 0.7 / 50) / 0.3, 1e-12);
		CHECK(b->confidence < 0.6);
	}
	release(&r);
	/* Just below the threshold, below the sample minimum, or not sampled: nothing. */
	p = hotspot_profile(hs, &line, 1000, 29.9);
	r = analyse_one(&p, NULL, NULL);
	release(&r);
	p = hotspot_profile(hs, &line, 49, 61);
	r = analyse_one(&p, NULL, NULL);
	release(&r);
	p = hotspot_profile(hs, &line, 1000, 61);
	p.cpu.available = false;
	r = analyse_one(&p, NULL, NULL);
	release(&r);
	p = hotspot_profile(hs, &line, 1000, 61);
	p.cpu.n_hotspots = 0;
	r = analyse_one(&p, NULL, NULL);
	release(&r);
}

/* The function leads a region: the innermost region it leads is named. */
static void test_cpu_hotspot_region(void)
{
	sc_cpu_hotspot hs[2];
	sc_cpu_line line;
	sc_profile p = hotspot_profile(hs, &line, 2000, 45);
	sc_region_stats regions[3] = {
	    {.name = "pipeline", .depth = 0, .cpu_samples = 1900, .cpu_percent = 95},
	    {.name = "features",
	     .parent = "pipeline",
	     .depth = 1,
	     .cpu_samples = 400,
	     .cpu_percent = 20},
	    {.name = "predict",
	     .parent = "pipeline",
	     .depth = 1,
	     .cpu_samples = 1400,
	     .cpu_percent = 70}};
	snprintf(regions[0].cpu_top_function, sizeof regions[0].cpu_top_function, "%s", fn_gbm);
	snprintf(regions[1].cpu_top_function, sizeof regions[1].cpu_top_function, "%s", fn_main);
	snprintf(regions[2].cpu_top_function, sizeof regions[2].cpu_top_function, "%s", fn_gbm);
	p.regions = regions;
	p.n_regions = 3;
	sc_report r = analyse_one(&p, NULL, "cpu-hotspot");
	const sc_bottleneck *b = find(&r, "cpu-hotspot");
	if (b) {
		CHECK_STR(b->message,
		          "`gbm_predict_row` (nba/gbm.c:212) takes 45% of CPU samples; it "
		          "leads region 'predict' (70% of samples)");
		CHECK_STR(b->region, "predict");
		CHECK_INT(b->severity, SC_SEVERITY_WARNING);
		CHECK_NEAR(ev(b, "region_cpu_percent"), 70, 0);
	}
	release(&r);
	/* Regions that were not sampled name nothing. */
	for (size_t i = 0; i < 3; i++) {
		regions[i].cpu_samples = -1;
		regions[i].cpu_percent = NAN;
	}
	r = analyse_one(&p, NULL, "cpu-hotspot");
	b = find(&r, "cpu-hotspot");
	if (b) {
		CHECK_STR(b->message, "`gbm_predict_row` (nba/gbm.c:212) takes 45% of CPU samples");
		CHECK_STR(b->region, "");
	}
	release(&r);
}

/* A function of the C library: the finding names the program's function that calls it most,
 * summed over the stacks (load: 100 + 250 through a libc wrapper or not, copy_rows: 300). */
static void test_cpu_hotspot_library(void)
{
	sc_cpu_hotspot hs[4] = {{.function = fn_memcpy,
	                         .module = mod_libc,
	                         .self_samples = 450,
	                         .total_samples = 450,
	                         .self_percent = 45,
	                         .total_percent = 45},
	                        {.function = fn_load,
	                         .module = mod_prog,
	                         .file = file_load,
	                         .line = 10,
	                         .self_samples = 300,
	                         .total_samples = 650,
	                         .self_percent = 30,
	                         .total_percent = 65},
	                        {.function = fn_copy,
	                         .module = mod_prog,
	                         .file = file_rows,
	                         .line = 40,
	                         .self_samples = 0,
	                         .total_samples = 300,
	                         .self_percent = 0,
	                         .total_percent = 30},
	                        {.function = fn_chk,
	                         .module = mod_libc,
	                         .self_samples = 0,
	                         .total_samples = 100,
	                         .self_percent = 0,
	                         .total_percent = 10}};
	char *s1[] = {fn_main, fn_copy, fn_memcpy};
	char *s2[] = {fn_main, fn_load};
	char *s3[] = {fn_main, fn_load, fn_memcpy};
	char *s4[] = {fn_main, fn_load, fn_chk, fn_memcpy};
	sc_cpu_stack stacks[4] = {{s1, 3, 300}, {s2, 2, 300}, {s3, 3, 250}, {s4, 4, 100}};
	sc_profile p = healthy_profile();
	p.cpu = (sc_cpu_profile){.available = true,
	                         .sampler = "timer",
	                         .call_graph = "fp",
	                         .rate_hz = 997,
	                         .samples = 1000,
	                         .hotspots = hs,
	                         .n_hotspots = 4,
	                         .stacks = stacks,
	                         .n_stacks = 4};
	sc_report r = analyse_one(&p, NULL, "cpu-hotspot");
	const sc_bottleneck *b = find(&r, "cpu-hotspot");
	if (b)
		CHECK_STR(b->message,
		          "`memcpy` in libc.so.6 takes 45% of CPU samples, called mostly "
		          "from `load` (src/load.c:10)");
	const sc_recommendation *c = rec_for(&r, "cpu-hotspot");
	if (c) {
		CHECK_STR(c->action, "call `memcpy` in libc.so.6 less often, or on less data, from "
		                     "`load` (src/load.c:10), its main caller: it holds 45% of CPU "
		                     "samples");
		CHECK_STR(c->expected,
		          "halving its time saves at most 22.5% of the CPU time (Amdahl)");
	}
	release(&r);
	/* No stack shows a caller (all of them lost): the library function alone. */
	p.cpu.n_stacks = 0;
	r = analyse_one(&p, NULL, "cpu-hotspot");
	b = find(&r, "cpu-hotspot");
	if (b)
		CHECK_STR(b->message, "`memcpy` in libc.so.6 takes 45% of CPU samples");
	c = rec_for(&r, "cpu-hotspot");
	if (c)
		CHECK_STR(c->action,
		          "call `memcpy` in libc.so.6 less often, or on less data: it holds "
		          "45% of CPU samples");
	release(&r);
	/* An address that was not symbolized names its module already. */
	char unknown[] = "predict+0x1a2b";
	hs[0].function = unknown;
	hs[0].module = mod_prog;
	r = analyse_one(&p, NULL, "cpu-hotspot");
	b = find(&r, "cpu-hotspot");
	if (b)
		CHECK_STR(b->message, "`predict+0x1a2b` takes 45% of CPU samples");
	c = rec_for(&r, "cpu-hotspot");
	if (c)
		CHECK_STR(c->action, "optimise `predict+0x1a2b`: it holds 45% of CPU samples");
	release(&r);
}

int main(void)
{
	test_healthy();
	test_long_profile_name();
	test_requirements();
	test_memory_high();
	test_memory_growth();
	test_heap_rules();
	test_cpu_rules();
	test_time_rules();
	test_unstable_and_confidence();
	test_dominant_component();
	test_ranking();
	test_cpu_hotspot();
	test_cpu_hotspot_region();
	test_cpu_hotspot_library();
	return CHECK_DONE();
}

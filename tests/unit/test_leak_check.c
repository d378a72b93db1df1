/* test_leak_check.c: the leak check's fit and classification on synthetic series, sc_leak_check on
 * real workloads (RSS, and live heap with this test re-executed under the heap shim), and the
 * leak finding of command profiles. */
#define _GNU_SOURCE
#include "check.h"
#include "internal.h"
#include "targets.h"

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1024 * 1024)

/* Exact to rounding: every expected value below is computed by hand from sums of a few terms. */
#define EXACT 1e-9

static void series_x(double *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = (double)i;
}

static void test_ols(void)
{
	double x[6], y[6];
	series_x(x, 6);
	/* On a line: slope 2, no residuals, an interval of zero width. */
	for (int i = 0; i < 6; i++)
		y[i] = 3 + 2 * i;
	sc__leak_line l;
	CHECK_INT(sc__leak_ols(x, y, 6, &l), 0);
	CHECK_NEAR(l.slope, 2, 0);
	CHECK_NEAR(l.ci95_low, 2, 0);
	CHECK_NEAR(l.ci95_high, 2, 0);

	/* y = 1 2 4 4 6 7: mean x 2.5, mean y 4; Sxx = 17.5, Sxy = 21, slope 1.2; residuals
	 * 0 -0.2 0.6 -0.6 0.2 0, SSE = 0.8; se = sqrt(0.8 / 4 / 17.5); t(0.975, 4) = 2.7764451. */
	const double v[6] = {1, 2, 4, 4, 6, 7};
	memcpy(y, v, sizeof v);
	CHECK_INT(sc__leak_ols(x, y, 6, &l), 0);
	double half = 2.7764451051977944 * sqrt(0.8 / 4 / 17.5);
	CHECK_NEAR(l.slope, 1.2, EXACT);
	CHECK_NEAR(l.ci95_low, 1.2 - half, EXACT);
	CHECK_NEAR(l.ci95_high, 1.2 + half, EXACT);
	CHECK_NEAR(half, 0.2968144668, 1e-10);

	/* Too few points, every x the same, a value not finite. */
	CHECK_INT(sc__leak_ols(x, y, 2, &l), SC_EINVAL);
	double same[3] = {1, 1, 1};
	CHECK_INT(sc__leak_ols(same, y, 3, &l), SC_EINVAL);
	y[2] = NAN;
	CHECK_INT(sc__leak_ols(x, y, 6, &l), SC_EINVAL);
}

static sc_leak_result classify(const double *y, size_t n, double floor)
{
	double x[64];
	series_x(x, n);
	sc_leak_result r = {0};
	sc__leak_classify(x, y, n, floor, "per iteration", &r);
	return r;
}

static void test_classify(void)
{
	double y[64];
	/* Steady growth of 4096 bytes: leak, with the exact slope and a zero-width interval. */
	for (int i = 0; i < 10; i++)
		y[i] = 1000 + 4096.0 * i;
	sc_leak_result r = classify(y, 10, 0);
	CHECK_STR(r.verdict, "leak");
	CHECK_NEAR(r.slope_bytes, 4096, EXACT);
	CHECK_NEAR(r.slope_ci95_low, 4096, EXACT);
	CHECK_NEAR(r.slope_ci95_high, 4096, EXACT);
	CHECK_NEAR(r.second_half_slope_bytes, 4096, EXACT);
	CHECK_NEAR(r.total_growth_bytes, 9 * 4096, 0);
	CHECK(strstr(r.reason, "grows steadily: 4.0 KiB per iteration") != NULL);

	/* A cache filling by 1000 bytes for 4 iterations, then flat for 16: plateau, the second
	 * half flat, its slope exactly 0. */
	for (int i = 0; i < 20; i++)
		y[i] = 1000.0 * (i < 4 ? i : 4);
	r = classify(y, 20, 0);
	CHECK_STR(r.verdict, "plateau");
	CHECK(r.slope_ci95_low > 0);
	CHECK_NEAR(r.second_half_slope_bytes, 0, 0);
	CHECK_NEAR(r.total_growth_bytes, 4000, 0);
	/* mean y = (0 + 1000 + 2000 + 3000 + 16 x 4000) / 20 = 3500; Sxy = sum (i - 9.5) y_i =
	 * sum i y_i - 9.5 x 70000 = (0 + 1000 + 4000 + 9000 + 4000 x (4 + ... + 19)) - 665000
	 * = 14000 + 4000 x 184 - 665000 = 85000; slope = 85000 / 665. */
	CHECK_NEAR(r.slope_bytes, 85000.0 / 665.0, EXACT);

	/* Flat: none, slope 0. */
	for (int i = 0; i < 12; i++)
		y[i] = 5e6;
	r = classify(y, 12, 0);
	CHECK_STR(r.verdict, "none");
	CHECK_NEAR(r.slope_bytes, 0, 0);
	CHECK_NEAR(r.total_growth_bytes, 0, 0);

	/* Noise: +-64 KiB uniform around 100 MB from a fixed generator (the same numbers on every
	 * machine), 30 points. */
	uint64_t state = 42;
	for (int i = 0; i < 30; i++) {
		state = state * 6364136223846793005u + 1442695040888963407u;
		y[i] = 1e8 + ((double)(state >> 11) / 9007199254740992.0 - 0.5) * 131072;
	}
	r = classify(y, 30, 32768);
	CHECK_STR(r.verdict, "none");
	CHECK(r.slope_ci95_low <= 0 || r.total_growth_bytes <= 32768);

	/* A significant slope whose total is within the noise floor: one byte per iteration. */
	for (int i = 0; i < 10; i++)
		y[i] = 1e6 + i;
	r = classify(y, 10, 32768);
	CHECK_STR(r.verdict, "none");
	CHECK(strstr(r.reason, "noise floor") != NULL);

	/* Growth that slows without stopping: 1000 per iteration for 10, then 300 for 10. Overall
	 * slope 623.7, the second half 300 (< 50% of it, > 10% of the first half's 1000). */
	for (int i = 0; i < 20; i++)
		y[i] = i < 10 ? 1000.0 * i : 9000 + 300.0 * (i - 9);
	r = classify(y, 20, 0);
	CHECK_STR(r.verdict, "unknown");
	CHECK_NEAR(r.second_half_slope_bytes, 300, EXACT);

	/* Too few points; a value that is not finite. */
	r = classify(y, 5, 0);
	CHECK_STR(r.verdict, "unknown");
	CHECK(isnan(r.slope_bytes));
	CHECK(strstr(r.reason, "at least 6") != NULL);
	y[3] = INFINITY;
	r = classify(y, 10, 0);
	CHECK_STR(r.verdict, "unknown");
}

/* ---- real workloads ---------------------------------------------------------------------- */

#if defined(__SANITIZE_ADDRESS__)
/* ASan keeps freed blocks in a quarantine (256 MiB by default) to catch uses after free, so a
 * workload that allocates and frees grows RSS by every block until the quarantine is full: a
 * true reading, but not of the workload. Without the quarantine ASan's allocator reuses memory as
 * an ordinary one does. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=0";
}
#endif

#define MAX_BLOCKS 64
static void *blocks[MAX_BLOCKS];
static size_t n_blocks;
static size_t block_size;
static size_t cache_limit; /* blocks the "cache" holds at most; 0 = no limit */
/* Through a volatile pointer, so that the compiler cannot drop a malloc/free pair it sees. */
static void *volatile sink;

static void release_blocks(void)
{
	for (size_t i = 0; i < n_blocks; i++)
		free(blocks[i]);
	n_blocks = 0;
}

/* Keeps one touched block of block_size per call (a leak), or until cache_limit blocks (a cache
 * that fills and stops). */
static void *keep(void *ctx)
{
	(void)ctx;
	if (n_blocks < MAX_BLOCKS && (!cache_limit || n_blocks < cache_limit)) {
		char *b = malloc(block_size);
		if (b)
			memset(b, 0x5a, block_size);
		blocks[n_blocks++] = b;
	}
	return NULL;
}

/* Allocates, touches and frees one block per call. */
static void *churn(void *ctx)
{
	(void)ctx;
	char *b = malloc(block_size);
	if (b)
		memset(b, 0x5a, block_size);
	sink = b;
	free(sink);
	return NULL;
}

/* Runs one leak check and returns its result; the profile recorded must carry the same. */
static sc_leak_result leak_check(sc_workload_fn fn, size_t warmup, size_t iterations)
{
	sc_profiler *p = sc_profiler_new();
	sc_leak_result r = {0};
	CHECK_INT(sc_leak_check(p, "leaks?", fn, NULL, warmup, iterations, &r), 0);
	sc_report *rep = NULL;
	CHECK_INT(sc_report_create(p, &rep), 0);
	CHECK(rep && rep->n_profiles == 1);
	if (rep && rep->n_profiles == 1) {
		const sc_profile *prof = &rep->profiles[0];
		CHECK_STR(prof->kind, "leak-check");
		CHECK_STR(prof->name, "leaks?");
		CHECK_STR(prof->leak.verdict, r.verdict);
		CHECK_INT(prof->leak.iterations, iterations);
		CHECK_INT(prof->leak.warmup, warmup);
		CHECK_INT(prof->n_samples, warmup + iterations);
	}
	sc_report_free(rep);
	sc_profiler_free(p);
	return r;
}

/*
 * Without the shim the basis is RSS. Each leaked MiB is touched, so RSS grows by it plus at most
 * one page of the allocator's header per block (a chunk header rounds an mmap'ed block up by one
 * page); under ASan, a block's redzones and the shadow pages they poison (about 13 KiB measured).
 * The tolerance of 64 KiB per iteration covers those and the kernel's per-CPU RSS counters (before
 * Linux 6.16 /proc read them approximately: up to 64 pages per CPU, which a least-squares slope
 * over 20 points divides by about 6) with room, and is still 1/16 of the slope.
 */
static void test_rss(void)
{
	const double expected = MIB;
	sc_leak_result r;
	block_size = MIB;
	cache_limit = 0;
	r = leak_check(keep, 2, 20);
	release_blocks();
	CHECK_STR(r.basis, "rss");
	CHECK_STR(r.verdict, "leak");
	CHECK_NEAR(r.slope_bytes, expected, 64 * 1024);
	CHECK(r.slope_ci95_low <= r.slope_bytes && r.slope_bytes <= r.slope_ci95_high);
	fprintf(stderr, "rss leak: %s\n", r.reason);

	/* A 16 MiB cache filled over the first 5 iterations (3.2 MiB each), then full. */
	block_size = 16 * MIB / 5;
	cache_limit = 5;
	r = leak_check(keep, 0, 20);
	release_blocks();
	CHECK_STR(r.basis, "rss");
	CHECK_STR(r.verdict, "plateau");
	CHECK(r.slope_ci95_low > 0);
	fprintf(stderr, "rss plateau: %s\n", r.reason);

	/* Allocate, touch and free 1 MiB: the warm-up lets the allocator settle (glibc raises its
	 * mmap threshold after the first free and keeps the memory from then on). */
	block_size = MIB;
	r = leak_check(churn, 3, 20);
	CHECK_STR(r.basis, "rss");
	CHECK_STR(r.verdict, "none");
	fprintf(stderr, "rss none: %s\n", r.reason);

	/* Too few iterations; bad arguments. */
	r = leak_check(churn, 0, 5);
	CHECK_STR(r.verdict, "unknown");
	CHECK_INT(sc_leak_check(NULL, "x", NULL, NULL, 0, 10, &r), SC_EINVAL);
	CHECK_INT(sc_leak_check(NULL, "x", churn, NULL, 0, 0, &r), SC_EINVAL);
	/* No profiler: measured all the same, recorded nowhere. */
	CHECK_INT(sc_leak_check(NULL, "x", churn, NULL, 1, 6, &r), 0);
	CHECK_STR(r.verdict, "none");
}

/* Under the shim the basis is the live heap, exact: a block of 4096 requested bytes kept per
 * iteration grows it by that block's usable size, no more and no less. */
static void test_live_heap(void)
{
	void *probe = malloc(4096);
	const double usable = (double)malloc_usable_size(probe);
	free(probe);
	block_size = 4096;
	cache_limit = 0;
	sc_leak_result r = leak_check(keep, 1, 30);
	release_blocks();
	CHECK_STR(r.basis, "live heap");
	CHECK_STR(r.verdict, "leak");
	CHECK_NEAR(r.slope_bytes, usable, 0);
	CHECK_NEAR(r.slope_ci95_low, usable, 0);
	CHECK_NEAR(r.slope_ci95_high, usable, 0);
	CHECK_NEAR(r.second_half_slope_bytes, usable, 0);
	CHECK_NEAR(r.total_growth_bytes, 29 * usable, 0);

	cache_limit = 6;
	r = leak_check(keep, 0, 20);
	release_blocks();
	CHECK_STR(r.basis, "live heap");
	CHECK_STR(r.verdict, "plateau");
	CHECK_NEAR(r.second_half_slope_bytes, 0, 0);
	CHECK_NEAR(r.total_growth_bytes, 5 * usable, 0);

	r = leak_check(churn, 0, 20);
	CHECK_STR(r.basis, "live heap");
	CHECK_STR(r.verdict, "none");
	CHECK_NEAR(r.slope_bytes, 0, 0);
	CHECK_NEAR(r.total_growth_bytes, 0, 0);
}

/* Runs this program again with the shim preloaded; ASan (in the sanitizer build) insists on
 * coming first in the library list unless told otherwise. */
static void run_under_shim(const char *self)
{
	const char *shim = getenv("SHOTCLOCK_HEAP_SHIM");
	CHECK(shim != NULL);
	if (!shim)
		return;
	char preload[4200], asan[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", shim);
	const char *old = getenv("ASAN_OPTIONS");
	snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%sverify_asan_link_order=0", old ? old : "",
	         old ? ":" : "");
	char *envp[] = {preload, asan, "SC_LEAK_CHECK_CHILD=1", NULL};
	pid_t pid = fork();
	if (pid == 0) {
		execve(self, (char *[]){(char *)self, NULL}, envp);
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- commands ---------------------------------------------------------------------------- */

static sc_command_options command(char **argv)
{
	return (sc_command_options){.argv = argv, .runs = 1};
}

static void test_command(void)
{
	/* grow_mb grows by 1 MiB every 25 ms (40 MiB/s) on an absolute schedule and frees nothing:
	 * a leak by the timeline, and 40 MiB still live at exit by the heap run. The rate is the
	 * schedule's; 10% covers the sampler's timestamps (taken after each /proc read, a few ms
	 * late at worst) and the program's start, which the fit includes. */
	char *grow[] = {target("grow_mb"), "40", "1000", NULL};
	sc_command_options o = command(grow);
	sc_profile p;
	CHECK_INT(sc_command_profile(&o, &p, NULL), 0);
	CHECK_STR(p.leak.verdict, "leak");
	CHECK_STR(p.leak.basis, "rss");
	/* Every point but a last one sampled while the program was exiting (RSS 0). */
	size_t live_points = p.n_timeline;
	while (live_points > 0 && p.timeline[live_points - 1].rss_mb <= 0)
		live_points--;
	CHECK_INT(p.leak.iterations, live_points);
	CHECK(live_points >= 50);
	CHECK_NEAR(p.leak.slope_bytes, 40.0 * MIB, 4.0 * MIB);
	CHECK(strstr(p.leak.reason, "still live at exit") != NULL);
	sc_profile_release(&p);

	/* Sleeping: flat RSS. */
	char *sleep_argv[] = {target("sleep_ms"), "600", NULL};
	o = command(sleep_argv);
	o.no_heap = true;
	CHECK_INT(sc_command_profile(&o, &p, NULL), 0);
	CHECK_STR(p.leak.verdict, "none");
	fprintf(stderr, "sleep_ms: %s\n", p.leak.reason);
	sc_profile_release(&p);

	/* No timeline: unknown, and why. */
	o.no_timeline = true;
	CHECK_INT(sc_command_profile(&o, &p, NULL), 0);
	CHECK_STR(p.leak.verdict, "unknown");
	CHECK(strstr(p.leak.reason, "no memory timeline") != NULL);
	sc_profile_release(&p);
}

/* A hand-made command profile: the timeline is flat, but the leak scan found blocks that nothing
 * pointed to at exit, most of them from one function; that is a leak whatever the timeline says,
 * and the reason names the function. */
static void test_command_sites(void)
{
	sc_timeline_point tl[8];
	for (int i = 0; i < 8; i++)
		tl[i] = (sc_timeline_point){.t_s = 0.01 * (i + 1), .rss_mb = 10, .processes = 1};
	sc_heap_frame f1 = {.function = "parse_row"}, f2 = {.function = "load_model"};
	sc_heap_site sites[2] = {
	    {.frames = &f1, .n_frames = 1, .leaked_bytes = 100, .lost_bytes = 100},
	    {.frames = &f2, .n_frames = 1, .leaked_bytes = 5000, .lost_bytes = 0},
	};
	sc_profile p = {.timeline = tl, .n_timeline = 8};
	p.heap = (sc_heap_profile){.available = true,
	                           .leaked_bytes = 5100,
	                           .leaked_blocks = 3,
	                           .lost_bytes = 100,
	                           .lost_blocks = 1,
	                           .sites = sites,
	                           .n_sites = 2};
	sc__leak_from_command(&p);
	CHECK_STR(p.leak.verdict, "leak");
	CHECK_NEAR(p.leak.slope_bytes, 0, 0);
	CHECK(strstr(p.leak.reason, "100 B in 1 blocks unreachable at exit, most from parse_row"));

	/* Without the scan: live at exit explains but does not decide; the top site by bytes left
	 * live is named. */
	p.heap.lost_bytes = p.heap.lost_blocks = -1;
	sites[0].lost_bytes = sites[1].lost_bytes = NAN;
	sc__leak_from_command(&p);
	CHECK_STR(p.leak.verdict, "none");
	CHECK(
	    strstr(p.leak.reason, "5.0 KiB in 3 blocks still live at exit, most from load_model"));

	/* Five points: too few. */
	p.n_timeline = 5;
	sc__leak_from_command(&p);
	CHECK_STR(p.leak.verdict, "unknown");
	CHECK(strstr(p.leak.reason, "fewer than 6 points") != NULL);
}

int main(void)
{
	if (getenv("SC_LEAK_CHECK_CHILD")) {
		test_live_heap();
		return CHECK_DONE();
	}
	if (targets_setup("test_leak_check"))
		return 1;
	test_ols();
	test_classify();
	test_rss();
	test_command_sites();
	test_command();
	run_under_shim("/proc/self/exe");
	targets_teardown(NULL, 0);
	return CHECK_DONE();
}

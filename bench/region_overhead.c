/* region_overhead.c: measures what sc_region_begin + sc_region_end cost per region. */
#define _GNU_SOURCE
#include <shotclock.h>

#include <stdint.h>
#include <stdio.h>
#include <time.h>

/*
 * The pipeline case: every prediction enters four regions with different names in turn, as the
 * seed's data_loading / feature_extraction / prediction / postprocessing loop does, around an
 * opaque call. The bare loop makes the same calls without regions; the difference per region is
 * the cost. With the heap shim preloaded (bench/run runs it both ways) each begin and end also
 * reads the shim's counters.
 */
static volatile uint64_t sink;

static void work(uint64_t i)
{
	sink = i;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double bare_ns(void (*volatile fn)(uint64_t), uint64_t n)
{
	double t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		fn(i);
		fn(i);
		fn(i);
		fn(i);
	}
	return (now_s() - t0) * 1e9 / (double)(4 * n);
}

static double regions_ns(void (*volatile fn)(uint64_t), uint64_t n)
{
	sc_profiler *p = sc_profiler_new();
	if (!p)
		return -1;
	double t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		SC_REGION(p, "data_loading") fn(i);
		SC_REGION(p, "feature_extraction") fn(i);
		SC_REGION(p, "prediction") fn(i);
		SC_REGION(p, "postprocessing") fn(i);
	}
	double ns = (now_s() - t0) * 1e9 / (double)(4 * n);
	sc_profiler_free(p);
	return ns;
}

/* Two levels: a "predict" region around the four (five regions per prediction). */
static double nested_ns(void (*volatile fn)(uint64_t), uint64_t n)
{
	sc_profiler *p = sc_profiler_new();
	if (!p)
		return -1;
	double t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		SC_REGION(p, "predict")
		{
			SC_REGION(p, "data_loading") fn(i);
			SC_REGION(p, "feature_extraction") fn(i);
			SC_REGION(p, "prediction") fn(i);
			SC_REGION(p, "postprocessing") fn(i);
		}
	}
	double ns = (now_s() - t0) * 1e9 / (double)(5 * n);
	sc_profiler_free(p);
	return ns;
}

int main(int argc, char **argv)
{
	(void)argv;
	uint64_t n = argc > 1 ? 200000 : 2000000; /* any argument: a quick run */
	double best_bare = 1e9, best_flat = 1e9, best_nested = 1e9;
	for (int r = 0; r < 5; r++) {
		double b = bare_ns(work, n), f = regions_ns(work, n), x = nested_ns(work, n);
		best_bare = b < best_bare ? b : best_bare;
		best_flat = f >= 0 && f < best_flat ? f : best_flat;
		best_nested = x >= 0 && x < best_nested ? x : best_nested;
	}
	printf("predictions_per_repeat %llu\n", (unsigned long long)n);
	printf("bare_ns_per_call %.2f\n", best_bare);
	printf("region_ns_per_call %.2f\n", best_flat);
	printf("region_overhead_ns %.2f\n", best_flat - best_bare);
	printf("nested_overhead_ns %.2f\n", best_nested - best_bare * 4.0 / 5.0);
	return 0;
}

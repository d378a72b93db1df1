/* sample_overhead.c: measures what sc_profile_samples adds per sample, against bare loops. */
#define _GNU_SOURCE
#include <shotclock.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The workload does nothing observable but cannot be optimised away: an opaque call through a
 * function pointer, as sc_profile_samples makes. */
static volatile uint64_t sink;

static void empty_sample(void *ctx, uint64_t index)
{
	(void)ctx;
	sink = index;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The same calls with no timing at all: the cost the workload itself has. */
static double bare_loop_ns(void (*volatile fn)(void *, uint64_t), uint64_t n)
{
	double t0 = now_s();
	for (uint64_t i = 0; i < n; i++)
		fn(NULL, i);
	return (now_s() - t0) * 1e9 / (double)n;
}

/* One clock_gettime per call, the way a naive per-sample timer would do it. */
static double clock_gettime_ns(uint64_t n)
{
	struct timespec ts;
	double t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		sink = (uint64_t)ts.tv_nsec;
	}
	return (now_s() - t0) * 1e9 / (double)n;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000000;
	int repeats = 5;
	double best_profiled = 1e9, best_bare = 1e9, best_clock = 1e9;

	sc_profiler *p = sc_profiler_new();
	if (!p) {
		fprintf(stderr, "sample_overhead: out of memory\n");
		return 1;
	}
	/* Best of several repeats: the minimum is the least disturbed by other load on the machine.
	 */
	for (int r = 0; r < repeats; r++) {
		sc_time_profile t;
		int err = sc_profile_samples(p, "empty", empty_sample, NULL, n, NULL, &t);
		if (err) {
			fprintf(stderr, "sample_overhead: %s\n", sc_strerror(err));
			return 1;
		}
		double profiled = t.total_time * 1e9 / (double)n;
		double bare = bare_loop_ns(empty_sample, n);
		double clk = clock_gettime_ns(n);
		if (profiled < best_profiled)
			best_profiled = profiled;
		if (bare < best_bare)
			best_bare = bare;
		if (clk < best_clock)
			best_clock = clk;
	}
	sc_profiler_free(p);
	printf("samples_per_repeat %llu\n", (unsigned long long)n);
	printf("profiled_ns_per_sample %.2f\n", best_profiled);
	printf("bare_ns_per_sample %.2f\n", best_bare);
	printf("overhead_ns_per_sample %.2f\n", best_profiled - best_bare);
	printf("clock_gettime_ns %.2f\n", best_clock);
	return 0;
}

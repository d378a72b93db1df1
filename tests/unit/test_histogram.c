/* test_histogram.c: the latency histogram against exact nearest-rank percentiles of the same data.
 */
#define _GNU_SOURCE
#include "check.h"
#include "internal.h"

#include <malloc.h>
#include <stdint.h>
#include <time.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* AddressSanitizer replaces the heap, so glibc's mallinfo2 no longer sees the allocations. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/*
 * The layout's own bound: a bucket is at most 1/128 of its lower edge wide and reports its
 * midpoint, so a percentile is within 1/256 (0.39%) of the exact value, tighter than the 1% the
 * header promises. Checking the tighter bound catches a layout that silently got coarser.
 */
#define REL_BOUND (1.0 / 256)

/* xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift generators", 2016):
 * deterministic, so every run checks the same data. */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717u;
}

/* Uniform in (0, 1]: never 0, so its logarithm is finite. */
static double rng_unit(void)
{
	return (double)((rng_next() >> 11) + 1) * 0x1.0p-53;
}

/* A standard normal deviate by the Box-Muller transform. */
static double rng_normal(void)
{
	return sqrt(-2 * log(rng_unit())) * cos(6.283185307179586 * rng_unit());
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static double rel_error(uint64_t got, uint64_t exact)
{
	if (got == exact)
		return 0;
	double diff = got > exact ? (double)(got - exact) : (double)(exact - got);
	return diff / (double)exact;
}

/* Records values[0..n) and checks the reported percentiles against the exact nearest-rank ones
 * (rank = ceil(p n / 100), computed in integers from p in tenths of a percent). */
static void check_against_exact(const char *name, uint64_t *values, size_t n)
{
	sc_histogram *h = sc_histogram_new();
	CHECK(h != NULL);
	if (!h)
		return;
	unsigned __int128 sum = 0;
	for (size_t i = 0; i < n; i++) {
		sc_histogram_record(h, values[i]);
		sum += values[i];
	}
	qsort(values, n, sizeof *values, compare_u64);

	CHECK_INT(sc_histogram_count(h), n);
	CHECK(sc_histogram_min(h) == values[0]);
	CHECK(sc_histogram_max(h) == values[n - 1]);
	CHECK(sc_histogram_percentile(h, 0) == values[0]);
	CHECK(sc_histogram_percentile(h, 100) == values[n - 1]);
	/* The sum is exact, so the mean is one correctly rounded division away. */
	double mean = (double)sum / (double)n;
	CHECK_NEAR(sc_histogram_mean(h), mean, 1e-15 * mean);

	const unsigned tenths[] = {10, 250, 500, 750, 900, 950, 990, 999};
	printf("%-10s", name);
	for (size_t i = 0; i < N_OF(tenths); i++) {
		uint64_t rank = ((uint64_t)tenths[i] * n + 999) / 1000;
		uint64_t exact = values[rank - 1];
		uint64_t got = sc_histogram_percentile(h, tenths[i] / 10.0);
		double err = rel_error(got, exact);
		CHECK(err <= REL_BOUND);
		if (err > REL_BOUND)
			fprintf(stderr, "  %s p%.1f: %llu, exact %llu\n", name, tenths[i] / 10.0,
			        (unsigned long long)got, (unsigned long long)exact);
		printf(" p%g %.3f%%", tenths[i] / 10.0, 100 * err);
	}
	printf("\n");
	sc_histogram_free(h);
}

static void test_distributions(void)
{
	enum { N = 1000000 };
	uint64_t *v = malloc(N * sizeof *v);
	CHECK(v != NULL);
	if (!v)
		return;

	/* Uniform over [1 us, 10 ms). */
	for (size_t i = 0; i < N; i++)
		v[i] = 1000 + rng_next() % 9999000;
	check_against_exact("uniform", v, N);

	/* Log-normal with median 2 ms and sigma 0.8: the long right tail of real latencies. */
	for (size_t i = 0; i < N; i++)
		v[i] = (uint64_t)llround(2e6 * exp(0.8 * rng_normal()));
	check_against_exact("lognormal", v, N);

	/* A constant: every percentile is the value itself. */
	for (size_t i = 0; i < N; i++)
		v[i] = 12345;
	check_against_exact("constant", v, N);

	free(v);
}

/* Every rank of a data set of distinct magnitudes, from 0 to UINT64_MAX. */
static void check_every_rank(const uint64_t *sorted, size_t n)
{
	sc_histogram *h = sc_histogram_new();
	CHECK(h != NULL);
	if (!h)
		return;
	for (size_t i = 0; i < n; i++)
		sc_histogram_record(h, sorted[i]);
	size_t bad = 0;
	for (size_t r = 1; r <= n; r++) {
		/* p n / 100 = r - 0.5, whose ceiling is r however p rounds. */
		double p = 100.0 * ((double)r - 0.5) / (double)n;
		bad += rel_error(sc_histogram_percentile(h, p), sorted[r - 1]) > REL_BOUND;
	}
	CHECK_INT(bad, 0);
	sc_histogram_free(h);
}

static void test_every_magnitude(void)
{
	/* 0..1023 once each: the exact range (below 256) and the first sub-bucketed octaves. */
	uint64_t dense[1024];
	for (size_t i = 0; i < N_OF(dense); i++)
		dense[i] = i;
	check_every_rank(dense, N_OF(dense));

	/* 1.01^i up to 2^63, then UINT64_MAX: every power of two, including the top bucket. */
	uint64_t sweep[4500];
	size_t n = 0;
	for (double x = 1; x < 0x1.0p63; x *= 1.01)
		sweep[n++] = (uint64_t)x;
	sweep[n++] = UINT64_MAX;
	check_every_rank(sweep, n);
}

static void test_special_values(void)
{
	/* Alone in a histogram each value comes back exactly; the bucket index of each must also
	 * stay inside the array, which the sanitizer build checks. */
	const uint64_t special[] = {0,
	                            1,
	                            127,
	                            128,
	                            255,
	                            256,
	                            257,
	                            1000000007,
	                            UINT64_MAX / 2,
	                            UINT64_MAX / 2 + 1,
	                            UINT64_MAX - 1,
	                            UINT64_MAX};
	sc_histogram *h = sc_histogram_new();
	CHECK(h != NULL);
	if (!h)
		return;
	for (size_t i = 0; i < N_OF(special); i++) {
		sc_histogram_reset(h);
		sc_histogram_record(h, special[i]);
		CHECK(sc_histogram_min(h) == special[i]);
		CHECK(sc_histogram_max(h) == special[i]);
		CHECK(sc_histogram_percentile(h, 0) == special[i]);
		CHECK(sc_histogram_percentile(h, 50) == special[i]);
		CHECK(sc_histogram_percentile(h, 100) == special[i]);
		CHECK_NEAR(sc_histogram_mean(h), (double)special[i], 0);
	}

	/* Values below 256 have a bucket each, so even without clamping they come back exactly:
	 * 127 and 128 share no bucket, and the rank-2 value of {127, 128, 10^9} is 128. */
	sc_histogram_reset(h);
	sc_histogram_record(h, 127);
	sc_histogram_record(h, 128);
	sc_histogram_record(h, 1000000000);
	CHECK(sc_histogram_percentile(h, 50) == 128);
	CHECK(sc_histogram_percentile(h, 33) == 127);

	/* Three times UINT64_MAX would wrap a 64-bit sum; the mean must still be UINT64_MAX. */
	sc_histogram_reset(h);
	for (int i = 0; i < 3; i++)
		sc_histogram_record(h, UINT64_MAX);
	CHECK_NEAR(sc_histogram_mean(h), (double)UINT64_MAX, 0);
	CHECK(sc_histogram_percentile(h, 99.9) == UINT64_MAX);

	/* p outside [0, 100] is clamped; NaN counts as 0. */
	sc_histogram_reset(h);
	sc_histogram_record(h, 10);
	sc_histogram_record(h, 5000);
	CHECK(sc_histogram_percentile(h, -5) == 10);
	CHECK(sc_histogram_percentile(h, NAN) == 10);
	CHECK(sc_histogram_percentile(h, 150) == 5000);
	sc_histogram_free(h);
}

static void test_empty_and_reset(void)
{
	sc_histogram *h = sc_histogram_new();
	CHECK(h != NULL);
	if (!h)
		return;
	CHECK_INT(sc_histogram_count(h), 0);
	CHECK_INT(sc_histogram_min(h), 0);
	CHECK_INT(sc_histogram_max(h), 0);
	CHECK_NEAR(sc_histogram_mean(h), 0, 0);
	CHECK_INT(sc_histogram_percentile(h, 50), 0);
	CHECK_INT(sc_histogram_percentile(h, 100), 0);

	for (uint64_t v = 1; v <= 1000; v++)
		sc_histogram_record(h, v * 1000);
	sc_histogram_reset(h);
	CHECK_INT(sc_histogram_count(h), 0);
	CHECK_INT(sc_histogram_min(h), 0);
	CHECK_INT(sc_histogram_max(h), 0);
	CHECK_INT(sc_histogram_percentile(h, 50), 0);
	/* After a reset nothing of the old values remains: 7 alone is every percentile. */
	sc_histogram_record(h, 7);
	CHECK_INT(sc_histogram_count(h), 1);
	CHECK_INT(sc_histogram_percentile(h, 1), 7);
	CHECK_INT(sc_histogram_percentile(h, 99), 7);
	CHECK_NEAR(sc_histogram_mean(h), 7, 0);
	sc_histogram_free(h);
	sc_histogram_free(NULL);
}

static void test_merge(void)
{
	sc_histogram *a = sc_histogram_new(), *b = sc_histogram_new(), *all = sc_histogram_new();
	sc_histogram *empty = sc_histogram_new();
	CHECK(a && b && all && empty);
	if (a && b && all && empty) {
		/* Two different distributions split between a and b; all records both. */
		for (int i = 0; i < 100000; i++) {
			uint64_t fast = 50000 + rng_next() % 1000,
			         slow = 3000000 + rng_next() % 900000;
			sc_histogram_record(a, fast);
			sc_histogram_record(b, slow);
			sc_histogram_record(all, fast);
			sc_histogram_record(all, slow);
		}
		sc_histogram_merge(a, b);
		sc_histogram_merge(a, empty);
		CHECK_INT(sc_histogram_count(a), sc_histogram_count(all));
		CHECK(sc_histogram_min(a) == sc_histogram_min(all));
		CHECK(sc_histogram_max(a) == sc_histogram_max(all));
		CHECK_NEAR(sc_histogram_mean(a), sc_histogram_mean(all), 0);
		size_t differ = 0;
		for (int tenth = 0; tenth <= 1000; tenth++)
			differ += sc_histogram_percentile(a, tenth / 10.0) !=
			          sc_histogram_percentile(all, tenth / 10.0);
		CHECK_INT(differ, 0);

		/* Merging into an empty histogram copies the source. */
		sc_histogram_merge(empty, b);
		CHECK(sc_histogram_min(empty) == sc_histogram_min(b));
		CHECK(sc_histogram_max(empty) == sc_histogram_max(b));
		CHECK(sc_histogram_percentile(empty, 50) == sc_histogram_percentile(b, 50));
	}
	sc_histogram_free(a);
	sc_histogram_free(b);
	sc_histogram_free(all);
	sc_histogram_free(empty);
}

static void test_fixed_memory(void)
{
	/* Recording never allocates: the heap in use is the same before and after 10 million values
	 * spread over every magnitude. mallinfo2 is glibc's view of its own heap, so the check
	 * needs the plain build (see UNDER_ASAN). */
	struct mallinfo2 before_new = mallinfo2();
	sc_histogram *h = sc_histogram_new();
	CHECK(h != NULL);
	if (!h)
		return;
	struct mallinfo2 before = mallinfo2();
	uint64_t t0 = sc__now_ns();
	for (uint64_t i = 0; i < 10000000; i++)
		sc_histogram_record(h, rng_next() >> (i % 64));
	uint64_t t1 = sc__now_ns();
	struct mallinfo2 after = mallinfo2();
	printf("recording: %.2f ns per value (with the generator)\n", (double)(t1 - t0) / 1e7);
	CHECK_INT(sc_histogram_count(h), 10000000);
#ifdef UNDER_ASAN
	(void)before_new;
	(void)before;
	(void)after;
	printf("fixed memory: not measurable under AddressSanitizer, checked in the plain build\n");
#else
	size_t size = before.uordblks - before_new.uordblks;
	printf("histogram: %zu bytes\n", size);
	CHECK(size > 0 && size < 64 * 1024);
	CHECK_INT(after.uordblks, before.uordblks);
	CHECK_INT(after.hblkhd, before.hblkhd);
#endif
	sc_histogram_free(h);
}

int main(void)
{
	test_distributions();
	test_every_magnitude();
	test_special_values();
	test_empty_and_reset();
	test_merge();
	test_fixed_memory();
	return CHECK_DONE();
}

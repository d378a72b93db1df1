/* test_derive.c: a command profile's figures derived from synthetic runs, against hand sums. */
#include "check.h"
#include "internal.h"

/*
 * Tolerance for figures computed by hand: each is a handful of double operations on values like
 * 0.12, so the library's result differs from the exact decimal only by rounding, a few ulps
 * (below 1e-15 relative). 1e-12 leaves a wide margin yet catches any wrong formula.
 */
#define ROUNDING 1e-12

static sc_run run(double wall_s, double user_s, double sys_s, int64_t faults)
{
	return (sc_run){
	    .wall_s = wall_s,
	    .user_s = user_s,
	    .sys_s = sys_s,
	    .peak_rss_mb = 10,
	    .minor_faults = faults,
	    .major_faults = 0,
	    .voluntary_context_switches = 2,
	    .involuntary_context_switches = faults / 10,
	    .read_bytes = 4096,
	    .write_bytes = -1, /* not measured: the mean must be unavailable too */
	};
}

static bool has_unavailable(const sc_profile *p, const char *field)
{
	for (size_t i = 0; i < p->n_unavailable; i++)
		if (strcmp(p->unavailable[i].field, field) == 0)
			return true;
	return false;
}

static void test_five_runs(void)
{
	sc_run runs[] = {
	    run(0.10, 0.08, 0.01, 100), run(0.12, 0.09, 0.01, 101), run(0.11, 0.07, 0.02, 102),
	    run(0.13, 0.10, 0.01, 103), run(0.50, 0.30, 0.05, 105),
	};
	sc_profile p = {.kind = "command", .n_samples = 100, .runs = runs, .n_runs = 5};
	CHECK_INT(sc__profile_derive_from_runs(&p), 0);

	/* Sum 0.96 s over 5 runs. */
	CHECK_INT(p.total_time.n, 5);
	CHECK_NEAR(p.total_time.mean, 0.192, ROUNDING);
	/* Sorted 0.10 0.11 0.12 0.13 0.50: median 0.12. Deviations from it 0.02 0 0.01 0.01 0.38,
	 * sorted 0 0.01 0.01 0.02 0.38: MAD 0.01. Modified z-score of 0.50: 0.6745 x 0.38 / 0.01 =
	 * 25.6 > 3.5, an outlier; of 0.10: 0.6745 x 0.02 / 0.01 = 1.35, not. One outlier. */
	CHECK_NEAR(p.total_time.median, 0.12, ROUNDING);
	CHECK_NEAR(p.total_time.mad, 0.01, ROUNDING);
	CHECK_INT(p.total_time.outliers, 1);
	CHECK_NEAR(p.total_time.min, 0.10, ROUNDING);
	CHECK_NEAR(p.total_time.max, 0.50, ROUNDING);
	/* Squared deviations from 0.192 sum to 0.11908; / 4 = 0.02977; sqrt = 0.1725398504693916.
	 */
	CHECK_NEAR(p.total_time.stddev, 0.1725398504693916, ROUNDING);
	CHECK(p.total_time.ci95_low < 0.192 && p.total_time.ci95_high > 0.192);

	CHECK_NEAR(p.avg_time_per_sample, 0.00192, ROUNDING);              /* 0.192 / 100 */
	CHECK_NEAR(p.throughput_samples_per_sec, 520.8333333333334, 1e-9); /* 100 / 0.192 */

	/* Per-run latency, wall / 100 in ms, sorted: 1.0 1.1 1.2 1.3 5.0. Type 7 places the p-th
	 * percentile at h = 4p/100 and interpolates: p90 h = 3.6 -> 1.3 + 0.6 x 3.7 = 3.52;
	 * p95 h = 3.8 -> 4.26; p99 h = 3.96 -> 4.852; p99.9 h = 3.996 -> 4.9852. */
	CHECK(p.latency.available);
	CHECK_STR(p.latency.source, "per-run");
	CHECK_INT(p.latency.count, 5);
	CHECK_NEAR(p.latency.mean_ms, 1.92, ROUNDING);
	CHECK_NEAR(p.latency.p50_ms, 1.2, ROUNDING);
	CHECK_NEAR(p.latency.p90_ms, 3.52, ROUNDING);
	CHECK_NEAR(p.latency.p95_ms, 4.26, ROUNDING);
	CHECK_NEAR(p.latency.p99_ms, 4.852, ROUNDING);
	CHECK_NEAR(p.latency.p999_ms, 4.9852, ROUNDING);
	CHECK_NEAR(p.latency.max_ms, 5.0, ROUNDING);

	/* Resources are means per run: user 0.64 / 5, sys 0.10 / 5; utilisation their sum over the
	 * mean wall time: 0.148 / 0.192. */
	CHECK_NEAR(p.resources.cpu_user_s, 0.128, ROUNDING);
	CHECK_NEAR(p.resources.cpu_sys_s, 0.02, ROUNDING);
	CHECK_NEAR(p.resources.cpu_utilization, 0.148 / 0.192, ROUNDING);
	CHECK_INT(p.resources.minor_faults, 102); /* 511 / 5 = 102.2, rounded */
	CHECK_INT(p.resources.major_faults, 0);
	CHECK_INT(p.resources.voluntary_context_switches, 2);
	CHECK_INT(p.resources.involuntary_context_switches, 10);
	CHECK_INT(p.resources.read_bytes, 4096);
	CHECK_INT(p.resources.write_bytes, -1);
	CHECK_INT(p.memory.minor_faults, 102);
	CHECK_INT(p.memory.major_faults, 0);
	CHECK_INT(p.n_unavailable, 0); /* five runs: the interval exists */
}

static void test_one_run(void)
{
	sc_run runs[] = {run(0.25, 0.2, 0.05, 3)};
	sc_profile p = {.kind = "command", .n_samples = 1, .runs = runs, .n_runs = 1};
	CHECK_INT(sc__profile_derive_from_runs(&p), 0);
	CHECK_NEAR(p.total_time.mean, 0.25, 0);
	CHECK(p.throughput_samples_per_sec == 4.0);
	CHECK(p.resources.cpu_utilization == 1.0);
	/* One run has no spread: the interval is left out, with the reason. */
	CHECK(isnan(p.total_time.ci95_low) && isnan(p.total_time.ci95_high));
	CHECK(has_unavailable(&p, "time.total_time.ci95"));
	CHECK_INT(p.latency.count, 1);
	CHECK(p.latency.p50_ms == 250.0 && p.latency.max_ms == 250.0);
}

static void test_rounding_of_counts(void)
{
	sc_run runs[] = {run(0.1, 0, 0, 1), run(0.1, 0, 0, 2)};
	sc_profile p = {.kind = "command", .n_samples = 1, .runs = runs, .n_runs = 2};
	CHECK_INT(sc__profile_derive_from_runs(&p), 0);
	CHECK_INT(p.resources.minor_faults, 2); /* 1.5 rounds half away from zero */
}

static void test_bad_input(void)
{
	sc_run runs[] = {run(0.1, 0, 0, 1), run(0, 0, 0, 1)};
	sc_profile p = {.kind = "command", .n_samples = 1, .runs = runs, .n_runs = 0};
	CHECK_INT(sc__profile_derive_from_runs(&p), SC_EINVAL); /* no runs */
	p.n_runs = 2;
	CHECK_INT(sc__profile_derive_from_runs(&p), SC_EINVAL); /* a run of 0 s */
	runs[1].wall_s = NAN;
	CHECK_INT(sc__profile_derive_from_runs(&p), SC_EINVAL); /* a run without a time */
	runs[1].wall_s = 0.1;
	p.n_samples = 0;
	CHECK_INT(sc__profile_derive_from_runs(&p), SC_EINVAL); /* no samples per run */
	p.n_samples = 1;
	CHECK_INT(sc__profile_derive_from_runs(&p), 0);
	CHECK_INT(sc__profile_derive_from_runs(NULL), SC_EINVAL);
}

int main(void)
{
	test_five_runs();
	test_one_run();
	test_rounding_of_counts();
	test_bad_input();
	return CHECK_DONE();
}

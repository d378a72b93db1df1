/* test_baseline.c: Welch's t-test against hand-computed figures, and the regression verdicts for
 * identical, slower, slightly slower and noisy reports. */
#include "check.h"
#include "internal.h"

/* a = {1, 2, 3, 4}: mean 2.5, s^2 = 5/3; b = {2, 4, 6}: mean 4, s^2 = 4. By hand:
 * se^2 = 5/12 + 4/3 = 1.75, t = 1.5 / sqrt(1.75), df = 1.75^2 / ((5/12)^2/3 + (4/3)^2/2)
 * = 3.0625 / 0.9467592592... = 3.2347188264058680; t(0.975, 3) = 3.1824463052837096 (df is
 * rounded down inside the table). */
static void test_welch(void)
{
	const double a[] = {1, 2, 3, 4}, b[] = {2, 4, 6};
	sc__welch_result w;
	CHECK_INT(sc__welch(a, 4, b, 3, &w), 0);
	CHECK_NEAR(w.diff, 1.5, 1e-15);
	CHECK_NEAR(w.se, 1.3228756555322954, 1e-15);
	CHECK_NEAR(w.t, 1.1338934190276817, 1e-15);
	CHECK_NEAR(w.df, 3.234718826405868, 1e-14);
	CHECK_NEAR(w.half_width, 3.1824463052837096 * 1.3228756555322954, 1e-14);
	CHECK_INT(sc__welch(a, 1, b, 3, &w), SC_EINVAL);

	/* No spread on either side: the difference is exact. */
	const double c[] = {2, 2}, d[] = {3, 3, 3};
	CHECK_INT(sc__welch(c, 2, d, 3, &w), 0);
	CHECK_NEAR(w.diff, 1, 0);
	CHECK_NEAR(w.half_width, 0, 0);
	CHECK(isnan(w.df));

	/* Beyond the table the quantile follows df as a real number, and falls towards 1.96. */
	CHECK_NEAR(sc__t975(3.9), 3.1824463052837096, 0);
	CHECK(sc__t975(40.5) < sc__t975(40) && sc__t975(40.5) > 1.96);
	CHECK(isnan(sc__t975(0.5)));
}

/* A profile of n runs, each scale * (1 + noise * pattern[i % 8]) seconds. */
static sc_profile profile(double scale, double noise, size_t n, int64_t allocations)
{
	static const double pattern[8] = {0.0, 1.0, -1.0, 0.5, -0.5, 0.25, -0.25, 0.0};
	sc_profile p = {.name = strdup("model"), .kind = "command", .n_samples = 100};
	p.runs = calloc(n, sizeof *p.runs);
	p.n_runs = n;
	for (size_t i = 0; i < n; i++) {
		double w = scale * (1 + noise * pattern[i % 8]);
		p.runs[i] = (sc_run){.wall_s = w, .user_s = w, .peak_rss_mb = 50};
	}
	CHECK_INT(sc__profile_derive_from_runs(&p), 0);
	p.memory.peak_memory_mb = 50;
	p.heap = (sc_heap_profile){.available = true, .allocations = allocations};
	return p;
}

static sc_report *report(sc_profile p)
{
	sc_report *r = calloc(1, sizeof *r);
	r->max_regression = NAN;
	CHECK_INT(sc_report_add_profile(r, &p), 0);
	return r;
}

static const sc_regression *find(const sc_report *r, const char *metric)
{
	for (size_t i = 0; i < r->n_regressions; i++)
		if (strcmp(r->regressions[i].metric, metric) == 0)
			return &r->regressions[i];
	return NULL;
}

static bool any_regression(const sc_report *r)
{
	for (size_t i = 0; i < r->n_regressions; i++)
		if (r->regressions[i].regression)
			return true;
	return false;
}

static void test_verdicts(void)
{
	sc_report *old = report(profile(1.0, 0.01, 16, 1000));

	/* An identical rerun is never a regression. */
	sc_report *same = report(profile(1.0, 0.01, 16, 1000));
	CHECK_INT(sc_report_compare_baseline(same, old, 0.05), 0);
	CHECK(!any_regression(same));
	CHECK_STR(same->verdict, "pass");
	CHECK_NEAR(same->max_regression, 0.05, 0);
	const sc_regression *t = find(same, "total_time");
	CHECK(t && strcmp(t->method, "welch-t") == 0);
	CHECK(t && t->change == 0 && !t->improvement);
	CHECK(find(same, "throughput") && find(same, "peak_memory_mb") &&
	      find(same, "allocations"));
	CHECK(find(same, "latency_p99_ms") && !find(same, "latency_p99_ms")->regression);
	CHECK_STR(find(same, "latency_p99_ms")->method, "point");
	CHECK_STR(find(same, "allocations")->method, "exact");
	sc_report_free(same);

	/* 50% slower with 1% noise: a regression of time and throughput. */
	sc_report *slow = report(profile(1.5, 0.01, 16, 1000));
	CHECK_INT(sc_report_compare_baseline(slow, old, 0.05), 0);
	t = find(slow, "total_time");
	CHECK(t && t->regression);
	CHECK(t && fabs(t->change - 0.5) < 1e-12);
	CHECK(t && t->change_error > 0 && t->change_error < 0.02);
	const sc_regression *q = find(slow, "throughput");
	CHECK(q && q->regression);
	CHECK(q && fabs(q->change - 1.0 / 3) < 1e-12); /* 1 - 1/1.5 */
	CHECK_STR(slow->verdict, "fail");
	/* The same the other way round is an improvement, not a regression. */
	CHECK_INT(sc_report_compare_baseline(old, slow, 0.05), 0);
	CHECK(find(old, "total_time")->improvement && !any_regression(old));
	CHECK_STR(old->verdict, "pass");
	sc_report_free(slow);

	/* 3% slower with a 5% threshold: not a regression, however precise. */
	sc_report *bit = report(profile(1.03, 0.001, 16, 1000));
	CHECK_INT(sc_report_compare_baseline(bit, old, 0.05), 0);
	CHECK(!find(bit, "total_time")->regression);
	sc_report_free(bit);

	/* 8% slower, but with 20% noise over 4 runs: the interval reaches below 5%, so no verdict.
	 */
	sc_report *noisy_old = report(profile(1.0, 0.2, 4, 1000));
	sc_report *noisy = report(profile(1.08, 0.2, 4, 1000));
	CHECK_INT(sc_report_compare_baseline(noisy, noisy_old, 0.05), 0);
	t = find(noisy, "total_time");
	CHECK(t && fabs(t->change - 0.08) < 1e-12);
	CHECK(t && t->change - t->change_error < 0.05);
	CHECK(t && !t->regression);
	CHECK_STR(noisy->verdict, "pass");
	sc_report_free(noisy);
	sc_report_free(noisy_old);

	/* Allocations are exact: 10% more with a 5% threshold is a regression. */
	sc_report *allocs = report(profile(1.0, 0.01, 16, 1100));
	CHECK_INT(sc_report_compare_baseline(allocs, old, 0.05), 0);
	const sc_regression *g = find(allocs, "allocations");
	CHECK(g && g->regression && fabs(g->change - 0.1) < 1e-12);
	CHECK_STR(allocs->verdict, "fail");
	sc_report_free(allocs);

	/* One run has no spread: shown as a point, never judged. */
	sc_report *one_old = report(profile(1.0, 0, 1, 1000));
	sc_report *one = report(profile(2.0, 0, 1, 1000));
	CHECK_INT(sc_report_compare_baseline(one, one_old, 0.05), 0);
	t = find(one, "total_time");
	CHECK(t && strcmp(t->method, "point") == 0 && !t->regression && isnan(t->change_error));
	sc_report_free(one);
	sc_report_free(one_old);

	/* A profile only in one report is not compared; a bad threshold is refused. */
	sc_report *other = report(profile(1.0, 0.01, 16, 1000));
	free(other->profiles[0].name);
	other->profiles[0].name = strdup("other");
	CHECK_INT(sc_report_compare_baseline(other, old, 0.05), 0);
	CHECK_INT(other->n_regressions, 0);
	CHECK(other->verdict == NULL);
	CHECK_INT(sc_report_compare_baseline(other, old, NAN), SC_EINVAL);
	CHECK_INT(sc_report_compare_baseline(other, old, -0.1), SC_EINVAL);
	sc_report_free(other);
	sc_report_free(old);
}

int main(void)
{
	test_welch();
	test_verdicts();
	return CHECK_DONE();
}

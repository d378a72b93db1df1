/* baseline.c: comparing a report with a baseline report: Welch's t-test, regressions, verdict. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Welch's unequal-variances t-test (B. L. Welch, "The generalization of 'Student's' problem when
 * several different population variances are involved", Biometrika 34(1/2), 1947), with the
 * Welch-Satterthwaite degrees of freedom (F. E. Satterthwaite, "An approximate distribution of
 * estimates of variance components", Biometrics Bulletin 2(6), 1946):
 *
 *   d = mean_b - mean_a, se = sqrt(s_a^2/n_a + s_b^2/n_b),
 *   df = se^4 / ((s_a^2/n_a)^2/(n_a-1) + (s_b^2/n_b)^2/(n_b-1)),
 *   95% interval of d: d +- t(0.975, df) se.
 *
 * Both samples need two values. When both variances are 0 the difference is known exactly: se
 * and the half-width are 0 and df is NAN.
 */
int sc__welch(const double *a, size_t na, const double *b, size_t nb, sc__welch_result *out)
{
	if (!a || !b || na < 2 || nb < 2 || !out)
		return SC_EINVAL;
	sc_summary sa, sb;
	int err = sc_summarize(a, na, &sa);
	if (!err)
		err = sc_summarize(b, nb, &sb);
	if (err)
		return err;
	double va = sa.stddev * sa.stddev / (double)na;
	double vb = sb.stddev * sb.stddev / (double)nb;
	double se = sqrt(va + vb);
	*out = (sc__welch_result){
	    .mean_a = sa.mean,
	    .mean_b = sb.mean,
	    .diff = sb.mean - sa.mean,
	    .se = se,
	    .t = NAN,
	    .df = NAN,
	    .half_width = 0,
	};
	if (se > 0) {
		double den = va * va / (double)(na - 1) + vb * vb / (double)(nb - 1);
		out->df = (va + vb) * (va + vb) / den;
		out->t = out->diff / se;
		out->half_width = sc__t975(out->df) * se;
	}
	return 0;
}

/* A profile of the baseline by name, or NULL. */
static const sc_profile *find_profile(const sc_report *r, const char *name)
{
	for (size_t i = 0; name && i < r->n_profiles; i++)
		if (r->profiles[i].name && strcmp(r->profiles[i].name, name) == 0)
			return &r->profiles[i];
	return NULL;
}

/* The regressions being collected. */
typedef struct collector {
	sc_regression *items;
	size_t n;
	size_t cap;
	int err;
} collector;

static sc_regression *push(collector *c, const char *profile, const char *metric)
{
	if (c->err)
		return NULL;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		sc_regression *grown = realloc(c->items, cap * sizeof *grown);
		if (!grown) {
			c->err = SC_ENOMEM;
			return NULL;
		}
		c->items = grown;
		c->cap = cap;
	}
	sc_regression *g = &c->items[c->n++];
	*g = (sc_regression){.change_error = NAN};
	snprintf(g->profile, sizeof g->profile, "%s", profile);
	snprintf(g->metric, sizeof g->metric, "%s", metric);
	return g;
}

/* Per-run values of a field, scaled; NULL when fewer than two runs have a finite one. */
static double *run_values(const sc_profile *p, size_t offset, double scale, size_t *n)
{
	*n = 0;
	if (p->n_runs < 2)
		return NULL;
	double *v = malloc(p->n_runs * sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0; i < p->n_runs; i++) {
		double x = *(const double *)((const char *)&p->runs[i] + offset) * scale;
		if (isfinite(x))
			v[(*n)++] = x;
	}
	if (*n < 2) {
		free(v);
		*n = 0;
		return NULL;
	}
	return v;
}

/*
 * Judges a relative change whose 95% interval is [low, high] (> 0 is worse): a regression when
 * even the interval's best end is worse than the threshold, an improvement when even its worst
 * end is better than minus the threshold. Anything else is within noise or within the threshold.
 */
static void judge(sc_regression *g, double low, double high, double threshold)
{
	g->regression = low > threshold;
	g->improvement = high < -threshold;
}

/*
 * Time and throughput from the runs' wall times. With equal n_samples the runs are compared as
 * they are (total_time); otherwise per sample (avg_time_per_sample), so that a report of 1000
 * predictions per run can be compared with one of 500.
 */
static void compare_time(collector *c, const sc_profile *old, const sc_profile *new,
                         double threshold)
{
	double n_old = old->n_samples ? (double)old->n_samples : 1;
	double n_new = new->n_samples ? (double)new->n_samples : 1;
	bool same_n = n_old == n_new;
	const char *metric = same_n ? "total_time" : "avg_time_per_sample";
	size_t na, nb;
	double *a = run_values(old, offsetof(sc_run, wall_s), same_n ? 1 : 1 / n_old, &na);
	double *b = run_values(new, offsetof(sc_run, wall_s), same_n ? 1 : 1 / n_new, &nb);
	sc__welch_result w;
	bool tested = a && b && sc__welch(a, na, b, nb, &w) == 0 && w.mean_a > 0 && w.mean_b > 0;
	free(a);
	free(b);

	sc_regression *t = push(c, new->name, metric);
	sc_regression *q = push(c, new->name, "throughput");
	if (!t || !q)
		return;
	q->old_value = old->throughput_samples_per_sec;
	q->new_value = new->throughput_samples_per_sec;
	if (!tested) {
		/* One run (or an in-process call) has no spread: the change is shown, not judged.
		 */
		t->method = q->method = "point";
		t->old_value = same_n ? old->total_time.mean : old->avg_time_per_sample;
		t->new_value = same_n ? new->total_time.mean : new->avg_time_per_sample;
		t->change = t->old_value > 0 ? (t->new_value - t->old_value) / t->old_value : NAN;
		q->change = q->old_value > 0 ? (q->old_value - q->new_value) / q->old_value : NAN;
		return;
	}
	t->method = q->method = "welch-t";
	t->old_value = w.mean_a;
	t->new_value = w.mean_b;
	/* The interval of the difference of the means, relative to the old mean (the old mean is
	 * taken as exact in the division; its uncertainty is inside se). */
	t->change = w.diff / w.mean_a;
	t->change_error = w.half_width / w.mean_a;
	judge(t, t->change - t->change_error, t->change + t->change_error, threshold);

	/* Throughput is samples / mean time, so its loss 1 - T_new/T_old = d / (mean_a + d) grows
	 * with d: the ends of d's interval map to the ends of the loss's interval. */
	double lo_d = w.diff - w.half_width, hi_d = w.diff + w.half_width;
	double loss = w.diff / w.mean_b;
	double lo = lo_d / (w.mean_a + lo_d);
	double hi = w.mean_a + hi_d > 0 ? hi_d / (w.mean_a + hi_d) : INFINITY;
	if (!(w.mean_a + lo_d > 0))
		lo = -INFINITY;
	q->change = loss;
	q->change_error = fmax(hi - loss, loss - lo);
	judge(q, lo, hi, threshold);
}

/* Peak memory: per-run peak RSS with Welch when both have two runs, the profile's peak otherwise.
 */
static void compare_memory(collector *c, const sc_profile *old, const sc_profile *new,
                           double threshold)
{
	if (!isfinite(old->memory.peak_memory_mb) || !isfinite(new->memory.peak_memory_mb))
		return;
	size_t na, nb;
	double *a = run_values(old, offsetof(sc_run, peak_rss_mb), 1, &na);
	double *b = run_values(new, offsetof(sc_run, peak_rss_mb), 1, &nb);
	sc__welch_result w;
	bool tested = a && b && sc__welch(a, na, b, nb, &w) == 0 && w.mean_a > 0;
	free(a);
	free(b);
	sc_regression *g = push(c, new->name, "peak_memory_mb");
	if (!g)
		return;
	if (!tested) {
		g->method = "point";
		g->old_value = old->memory.peak_memory_mb;
		g->new_value = new->memory.peak_memory_mb;
		g->change = g->old_value > 0 ? (g->new_value - g->old_value) / g->old_value : NAN;
		return;
	}
	/* The mean of the runs' peaks is compared; the profile's peak (the largest) is shown. */
	g->method = "welch-t";
	g->old_value = w.mean_a;
	g->new_value = w.mean_b;
	g->change = w.diff / w.mean_a;
	g->change_error = w.half_width / w.mean_a;
	judge(g, g->change - g->change_error, g->change + g->change_error, threshold);
}

/* Latency percentiles: one value each, no distribution to test: shown, never judged. */
static void compare_latency(collector *c, const sc_profile *old, const sc_profile *new)
{
	if (!old->latency.available || !new->latency.available)
		return;
	static const char *const names[] = {"latency_p50_ms", "latency_p90_ms", "latency_p95_ms",
	                                    "latency_p99_ms", "latency_p999_ms"};
	const double ov[] = {old->latency.p50_ms, old->latency.p90_ms, old->latency.p95_ms,
	                     old->latency.p99_ms, old->latency.p999_ms};
	const double nv[] = {new->latency.p50_ms, new->latency.p90_ms, new->latency.p95_ms,
	                     new->latency.p99_ms, new->latency.p999_ms};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!isfinite(ov[i]) || !isfinite(nv[i]))
			continue;
		sc_regression *g = push(c, new->name, names[i]);
		if (!g)
			return;
		g->method = "point";
		g->old_value = ov[i];
		g->new_value = nv[i];
		g->change = ov[i] > 0 ? (nv[i] - ov[i]) / ov[i] : NAN;
	}
}

/* Allocations: exact counts from the heap run, per sample when n_samples differ. */
static void compare_allocations(collector *c, const sc_profile *old, const sc_profile *new,
                                double threshold)
{
	const sc_heap_profile *ho = &old->heap, *hn = &new->heap;
	if (!ho->available || !hn->available || ho->allocations < 0 || hn->allocations < 0)
		return;
	bool same_n = old->n_samples == new->n_samples;
	double n_old = old->n_samples ? (double)old->n_samples : 1;
	double n_new = new->n_samples ? (double)new->n_samples : 1;
	sc_regression *g = push(c, new->name, same_n ? "allocations" : "allocations_per_sample");
	if (!g)
		return;
	g->method = "exact";
	g->old_value = (double)ho->allocations / (same_n ? 1 : n_old);
	g->new_value = (double)hn->allocations / (same_n ? 1 : n_new);
	if (g->old_value > 0)
		g->change = (g->new_value - g->old_value) / g->old_value;
	else
		g->change = g->new_value > 0 ? INFINITY : 0;
	g->change_error = 0;
	judge(g, g->change, g->change, threshold);
}

int sc_report_compare_baseline(sc_report *new_report, const sc_report *baseline,
                               double max_regression)
{
	if (!new_report || !baseline || !isfinite(max_regression) || max_regression < 0)
		return SC_EINVAL;
	collector c = {0};
	for (size_t i = 0; i < new_report->n_profiles && !c.err; i++) {
		const sc_profile *new = &new_report->profiles[i];
		const sc_profile *old = find_profile(baseline, new->name);
		if (!old)
			continue;
		compare_time(&c, old, new, max_regression);
		compare_latency(&c, old, new);
		compare_memory(&c, old, new, max_regression);
		compare_allocations(&c, old, new, max_regression);
	}
	if (c.err) {
		free(c.items);
		return c.err;
	}
	free(new_report->regressions);
	new_report->regressions = c.items;
	new_report->n_regressions = c.n;
	new_report->max_regression = max_regression;
	sc__report_update_verdict(new_report);
	return 0;
}

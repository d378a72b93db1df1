/* warnings.c: hyperfine-style warnings about a measurement, and a profile's "unavailable" notes. */
#include "internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/*
 * Thresholds, with why each is where it is.
 *
 * SHORT_RUN_S: starting a dynamically linked program (fork/exec in the spawner, the dynamic
 * loader, libc start-up) takes about a millisecond and varies by a good part of that from run to
 * run; below 5 ms it is a large share of what is timed. 5 ms is hyperfine's MIN_EXECUTION_TIME.
 *
 * SLOW_FIRST_FACTOR, SLOW_FIRST_MIN_RUNS: hyperfine warns when the first run took more than twice
 * the median; a cold page cache or a cold CPU cache costs at least that much, while ordinary noise
 * rarely doubles a run. Two runs give no "rest" to compare with, so at least three are needed.
 *
 * HIGH_VARIANCE_CV: a coefficient of variation (stddev / mean) above 10% means a 95% interval of
 * the mean of a handful of runs is wider than the differences people usually try to measure.
 */
static const double SHORT_RUN_S = 0.005;
static const double SLOW_FIRST_FACTOR = 2.0;
static const size_t SLOW_FIRST_MIN_RUNS = 3;
static const double HIGH_VARIANCE_CV = 0.10;

void sc__warning_push(sc_profile *p, const char *id, const char *action, const char *fmt, ...)
{
	if (p->n_warnings >= SC_MAX_WARNINGS)
		return;
	sc_warning *w = &p->warnings[p->n_warnings++];
	snprintf(w->id, sizeof w->id, "%s", id);
	snprintf(w->action, sizeof w->action, "%s", action);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->message, sizeof w->message, fmt, ap);
	va_end(ap);
}

void sc__unavailable_push(sc_profile *p, const char *field, const char *fmt, ...)
{
	if (p->n_unavailable >= SC_MAX_UNAVAILABLE)
		return;
	sc_unavailable *u = &p->unavailable[p->n_unavailable++];
	snprintf(u->field, sizeof u->field, "%s", field);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(u->reason, sizeof u->reason, fmt, ap);
	va_end(ap);
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The first run against the median of the others (n_runs >= SLOW_FIRST_MIN_RUNS). */
static void warn_slow_first_run(sc_profile *p, const double *walls)
{
	size_t rest = p->n_runs - 1;
	double *sorted = malloc(rest * sizeof *sorted);
	if (!sorted)
		return; /* a warning is advice; without memory for it the profile is still right */
	memcpy(sorted, walls + 1, rest * sizeof *sorted);
	qsort(sorted, rest, sizeof *sorted, compare_doubles);
	double median = sc_percentile_sorted(sorted, rest, 50);
	free(sorted);
	if (walls[0] > SLOW_FIRST_FACTOR * median)
		sc__warning_push(
		    p, "slow-first-run", "caches were cold; use --warmup N to run it untimed first",
		    "the first run took %.4g s, %.1f times the median %.4g s of the other %zu runs",
		    walls[0], walls[0] / median, median, rest);
}

void sc__warnings_add(sc_profile *p)
{
	if (p->n_runs == 0)
		return;
	double *walls = malloc(p->n_runs * sizeof *walls);
	if (!walls)
		return;
	size_t failed = 0;
	for (size_t i = 0; i < p->n_runs; i++) {
		const sc_run *run = &p->runs[i];
		walls[i] = run->wall_s;
		failed += run->exit_code != 0 || run->signal != 0 || run->timed_out;
	}
	sc_summary s;
	if (sc_summarize(walls, p->n_runs, &s) != 0) {
		free(walls);
		return;
	}

	if (s.mean < SHORT_RUN_S)
		sc__warning_push(
		    p, "short-runs",
		    "give each run more work (more samples with -n), or profile in-process "
		    "with sc_profile_samples",
		    "runs took %.3g ms on average, under %.0f ms: process start-up dominates "
		    "the measurement",
		    s.mean * 1e3, SHORT_RUN_S * 1e3);
	if (s.outliers > 0)
		sc__warning_push(
		    p, "outliers",
		    "re-run on a quiet system (close other programs); --warmup N fills caches "
		    "first",
		    "%zu of %zu runs are statistical outliers (modified z-score above 3.5)",
		    s.outliers, s.n);
	if (p->n_runs >= SLOW_FIRST_MIN_RUNS)
		warn_slow_first_run(p, walls);
	if (s.n > 1 && s.stddev / s.mean > HIGH_VARIANCE_CV)
		sc__warning_push(
		    p, "high-variance",
		    "close other programs and use more runs (-r) for a tighter interval",
		    "run times vary by %.1f%% (coefficient of variation: stddev %.4g s / mean "
		    "%.4g s), above %.0f%%",
		    100 * s.stddev / s.mean, s.stddev, s.mean, 100 * HIGH_VARIANCE_CV);
	if (failed > 0)
		sc__warning_push(
		    p, "failed-runs", "fix the command, or check that these failures are expected",
		    "%zu of %zu runs failed (non-zero exit, signal or timeout) and were kept "
		    "with --ignore-failure: figures include them",
		    failed, p->n_runs);
	free(walls);
}

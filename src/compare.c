/* compare.c: candidates side by side: ranking profiles, and running them interleaved. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MIN_RUNS   5
#define DEFAULT_MAX_RUNS   1000
#define DEFAULT_MIN_TIME_S 3.0

/* ---- ranking ------------------------------------------------------------------------------- */

/* Per-run seconds per sample of p; NULL with *n = 0 when fewer than two runs have one. */
static double *per_sample_times(const sc_profile *p, size_t *n)
{
	*n = 0;
	if (p->n_runs < 2)
		return NULL;
	double *v = malloc(p->n_runs * sizeof *v);
	if (!v)
		return NULL;
	double samples = p->n_samples ? (double)p->n_samples : 1;
	for (size_t i = 0; i < p->n_runs; i++) {
		double x = p->runs[i].wall_s / samples;
		if (isfinite(x) && x > 0)
			v[(*n)++] = x;
	}
	if (*n < 2) {
		free(v);
		*n = 0;
		return NULL;
	}
	return v;
}

/* The figure a profile is ranked by, oriented so that smaller is better; NAN sorts last. */
static double sort_value(const sc_profile *p, const char *sort)
{
	if (!strcmp(sort, "memory"))
		return p->memory.peak_memory_mb;
	if (!strcmp(sort, "latency"))
		return p->avg_time_per_sample;
	return -p->throughput_samples_per_sec;
}

typedef struct ranked {
	size_t index;
	double key;
} ranked;

/* Ascending key, NAN last, ties in the report's order: the same input always ranks the same. */
static int compare_ranked(const void *a, const void *b)
{
	const ranked *x = a, *y = b;
	bool nx = isnan(x->key), ny = isnan(y->key);
	if (nx != ny)
		return nx ? 1 : -1;
	if (!nx && x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

/*
 * How many times slower x is than the fastest f, from the mean seconds per sample m_x and m_f:
 * R = m_x / m_f. Its uncertainty comes from the delta method (first-order propagation of the two
 * means' standard errors, G. W. Oehlert, "A note on the delta method", The American
 * Statistician 46(1), 1992), the two samples being independent:
 *
 *   (se_R / R)^2 = a + b,  a = (s_x / m_x)^2 / n_x,  b = (s_f / m_f)^2 / n_f,
 *   df = (a + b)^2 / (a^2 / (n_x - 1) + b^2 / (n_f - 1))  (Welch-Satterthwaite),
 *   95% half-width = t(0.975, df) * R * sqrt(a + b).
 *
 * This is the propagation hyperfine uses for its "± " on relative speed, with Student's t
 * instead of 1 so that few runs give an honestly wide interval. Fieller's theorem gives an exact
 * (asymmetric) interval; for the relative errors below 10% that timed runs have, the two agree to
 * well under the interval's own precision, and the symmetric form reads as "2.31 ± 0.04".
 * Whether x differs from f at all is Welch's t-test on the same per-sample times (baseline.c):
 * significant when the 95% interval of the difference of the means excludes 0.
 */
static int relate(const sc_profile *x, const sc_profile *f, sc_comparison_entry *e)
{
	e->relative_speed = x->avg_time_per_sample / f->avg_time_per_sample;
	e->relative_speed_error = NAN;
	e->significant = false;
	if (!isfinite(e->relative_speed))
		return 0;
	size_t nx, nf;
	double *vx = per_sample_times(x, &nx);
	double *vf = per_sample_times(f, &nf);
	int err = 0;
	sc__welch_result w;
	if (vx && vf && (err = sc__welch(vf, nf, vx, nx, &w)) == 0) {
		sc_summary sx, sf;
		sc_summarize(vx, nx, &sx);
		sc_summarize(vf, nf, &sf);
		double a = sx.stddev * sx.stddev / (sx.mean * sx.mean) / (double)nx;
		double b = sf.stddev * sf.stddev / (sf.mean * sf.mean) / (double)nf;
		if (a + b > 0) {
			double df = (a + b) * (a + b) /
			            (a * a / (double)(nx - 1) + b * b / (double)(nf - 1));
			e->relative_speed_error = sc__t975(df) * e->relative_speed * sqrt(a + b);
		} else {
			e->relative_speed_error = 0;
		}
		e->significant = w.se > 0 ? fabs(w.diff) > w.half_width : w.diff != 0;
	}
	free(vx);
	free(vf);
	return err == SC_ENOMEM ? err : 0;
}

int sc_report_rank(sc_report *r, const char *sort)
{
	if (!r)
		return SC_EINVAL;
	if (!sort || !strcmp(sort, "throughput"))
		sort = "throughput";
	else if (!strcmp(sort, "latency"))
		sort = "latency";
	else if (!strcmp(sort, "memory"))
		sort = "memory";
	else
		return SC_EINVAL;
	size_t n = r->n_profiles;
	sc_comparison_entry *entries = n ? calloc(n, sizeof *entries) : NULL;
	ranked *order = n ? malloc(n * sizeof *order) : NULL;
	if (n && (!entries || !order)) {
		free(entries);
		free(order);
		return SC_ENOMEM;
	}
	/* Relative speed is always against the fastest (lowest mean time per sample), whatever the
	 * sort key: "how many times faster" needs one reference that is fastest. */
	const sc_profile *fastest = NULL;
	for (size_t i = 0; i < n; i++) {
		const sc_profile *p = &r->profiles[i];
		order[i] = (ranked){i, sort_value(p, sort)};
		if (p->avg_time_per_sample > 0 && isfinite(p->avg_time_per_sample) &&
		    (!fastest || p->avg_time_per_sample < fastest->avg_time_per_sample))
			fastest = p;
	}
	if (n)
		qsort(order, n, sizeof *order, compare_ranked);
	int err = 0;
	for (size_t k = 0; k < n && !err; k++) {
		const sc_profile *p = &r->profiles[order[k].index];
		sc_comparison_entry *e = &entries[k];
		snprintf(e->profile, sizeof e->profile, "%s", p->name ? p->name : "");
		e->rank = k + 1;
		if (p == fastest) {
			e->relative_speed = 1;
			e->relative_speed_error = 0;
		} else if (fastest) {
			err = relate(p, fastest, e);
		} else {
			e->relative_speed = e->relative_speed_error = NAN;
		}
	}
	free(order);
	if (err) {
		free(entries);
		return err;
	}
	free(r->comparison);
	r->comparison = entries;
	r->n_comparison = n;
	r->comparison_sort = sort;
	return 0;
}

/* ---- in-process: sc_compare ---------------------------------------------------------------- */

/* One timed call as a run, so that the rounds of a candidate summarise like a command's runs. */
static sc_run call_run(const sc_profile *call, uint64_t total_ns)
{
	const sc_resources *res = &call->resources;
	return (sc_run){
	    .wall_s = (double)total_ns / 1e9,
	    .user_s = res->cpu_user_s,
	    .sys_s = res->cpu_sys_s,
	    .peak_rss_mb = call->memory.peak_memory_mb,
	    .minor_faults = res->minor_faults,
	    .major_faults = res->major_faults,
	    .voluntary_context_switches = res->voluntary_context_switches,
	    .involuntary_context_switches = res->involuntary_context_switches,
	    .read_bytes = res->read_bytes,
	    .write_bytes = res->write_bytes,
	};
}

static bool valid_candidates(const sc_candidate *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!c[i].fn || !c[i].name || !c[i].name[0])
			return false;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c[i].name, c[j].name))
				return false;
	}
	return true;
}

/*
 * Folds round `round` of a candidate into its profile: the first call becomes the profile (its
 * name, warnings and unavailable figures), later ones add their run; memory is the largest peak
 * and increase of any call, the heap figures those of the last call (the warmest).
 */
static void fold_call(sc_profile *acc, sc_profile *call, size_t round)
{
	if (round == 0) {
		sc_run *runs = acc->runs;
		*acc = *call;
		acc->runs = runs;
		*call = (sc_profile){0};
		return;
	}
	sc_memory_profile *m = &acc->memory;
	if (!(m->peak_memory_mb >= call->memory.peak_memory_mb))
		m->peak_memory_mb = call->memory.peak_memory_mb;
	if (!(m->memory_increase_mb >= call->memory.memory_increase_mb))
		m->memory_increase_mb = call->memory.memory_increase_mb;
	m->peak_reset = m->peak_reset && call->memory.peak_reset;
	sc__heap_profile_release(&acc->heap);
	acc->heap = call->heap;
	call->heap = (sc_heap_profile){0};
	sc_profile_release(call);
}

int sc_compare(sc_profiler *p, const sc_candidate *candidates, size_t n, uint64_t n_samples,
               size_t rounds)
{
	if (!p || !candidates || n < 2 || n_samples == 0 || rounds == 0 ||
	    !valid_candidates(candidates, n))
		return SC_EINVAL;
	sc_profile *acc = calloc(n, sizeof *acc);
	if (!acc)
		return SC_ENOMEM;
	int err = 0;
	for (size_t i = 0; i < n && !err; i++)
		if (!(acc[i].runs = calloc(rounds, sizeof *acc[i].runs)))
			err = SC_ENOMEM;
	/* Round by round, every candidate once: a slow phase of the machine (another process, a
	 * thermal limit, a frequency change) lands on all of them instead of on one. */
	for (size_t r = 0; r < rounds && !err; r++) {
		for (size_t i = 0; i < n && !err; i++) {
			const sc_candidate *c = &candidates[i];
			sc_profile call;
			uint64_t ns;
			err = sc__profile_measure_call(p, c->name, c->fn, c->ctx, n_samples, &call,
			                               &ns);
			if (err)
				break;
			acc[i].runs[r] = call_run(&call, ns);
			fold_call(&acc[i], &call, r);
		}
	}
	for (size_t i = 0; i < n && !err; i++) {
		acc[i].n_runs = rounds;
		if ((err = sc__profile_derive_from_runs(&acc[i])) != 0)
			break;
		sc__warnings_add(&acc[i]);
	}
	for (size_t i = 0; i < n; i++) {
		if (!err)
			err = sc__profiler_record(p, &acc[i]);
		else
			sc_profile_release(&acc[i]);
	}
	free(acc);
	return err;
}

/* ---- commands: sc_command_compare ---------------------------------------------------------- */

/* The candidates being run, and which of them still take part. */
typedef struct race {
	size_t n;
	bool keep_going;
	sc__command_session **sessions;
	bool *active;
	int *status;
	size_t *failed;
	bool stopped; /* a candidate failed and !keep_going */
} race;

/* Takes a candidate's step outcome: a failure takes it out of the rounds (and, without
 * keep_going, ends them for all). */
static void outcome(race *rc, size_t i, int err)
{
	if (!err)
		return;
	rc->status[i] = err;
	rc->active[i] = false;
	if (*rc->failed == rc->n)
		*rc->failed = i;
	if (!rc->keep_going)
		rc->stopped = true;
}

static size_t count_active(const race *rc)
{
	size_t k = 0;
	for (size_t i = 0; i < rc->n; i++)
		k += rc->active[i];
	return k;
}

/* Timed rounds: exactly runs, or until every candidate has min_runs and min_time_s has passed. */
static void timed_rounds(race *rc, const sc_command_options *o)
{
	size_t max_runs = o->max_runs ? o->max_runs : DEFAULT_MAX_RUNS;
	size_t min_runs = o->min_runs ? o->min_runs : DEFAULT_MIN_RUNS;
	if (min_runs > max_runs)
		min_runs = max_runs;
	double min_time = o->min_time_s < 0 ? DEFAULT_MIN_TIME_S : o->min_time_s;
	size_t planned = o->runs ? o->runs : min_runs;
	uint64_t start = sc__now_ns();
	for (size_t round = 0; !rc->stopped && count_active(rc) > 0; round++) {
		if (o->runs
		        ? round >= o->runs
		        : round >= max_runs || (round >= min_runs &&
		                                (double)(sc__now_ns() - start) / 1e9 >= min_time))
			break;
		for (size_t i = 0; i < rc->n && !rc->stopped; i++)
			if (rc->active[i])
				outcome(rc, i, sc__command_session_step(rc->sessions[i], planned));
	}
}

int sc_command_compare(const sc_command_options *o, size_t n, bool keep_going, sc_profile *out,
                       sc_command_failure *failures, int *status, size_t *failed)
{
	if (!o || n < 2 || !out || !failures || !status || !failed)
		return SC_EINVAL;
	*failed = n;
	race rc = {.n = n, .keep_going = keep_going, .status = status, .failed = failed};
	rc.sessions = calloc(n, sizeof *rc.sessions);
	rc.active = calloc(n, sizeof *rc.active);
	if (!rc.sessions || !rc.active) {
		free(rc.sessions);
		free(rc.active);
		return SC_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		out[i] = (sc_profile){0};
		failures[i] = (sc_command_failure){0};
		status[i] = 0;
	}
	for (size_t i = 0; i < n && !rc.stopped; i++) {
		int err = sc__command_session_new(&o[i], &out[i], &failures[i], &rc.sessions[i]);
		rc.active[i] = err == 0;
		outcome(&rc, i, err);
	}
	for (size_t w = 0; w < o[0].warmup && !rc.stopped; w++)
		for (size_t i = 0; i < n && !rc.stopped; i++)
			if (rc.active[i])
				outcome(&rc, i, sc__command_session_warmup(rc.sessions[i], w));
	timed_rounds(&rc, &o[0]);
	for (size_t i = 0; i < n; i++) {
		if (!rc.sessions[i])
			continue;
		if (rc.active[i] && rc.stopped) {
			/* Stopped by another candidate: no timeline or heap run for a comparison
			 * that will not be reported. */
			snprintf(failures[i].message, sizeof failures[i].message,
			         "not finished: the comparison stopped when candidate %zu failed",
			         *failed + 1);
			status[i] = SC_ECOMMAND;
		}
		status[i] = sc__command_session_finish(rc.sessions[i], status[i]);
	}
	free(rc.sessions);
	free(rc.active);
	return *failed < n ? status[*failed] : 0;
}

/* analyze.c: the bottleneck rules, one table, run over every profile of a report. */
#include "internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/*
 * Each rule looks at one profile (and, for the rules that compare profiles or requirements, at
 * the report and the requirements) and produces at most one finding. A rule that lacks the figure
 * it needs (NAN, -1, no heap run, no timeline) finds nothing: the report's "unavailable" entries
 * already say what was not measured, and a finding must rest on numbers that were.
 *
 * The thresholds live in the table (threshold: when the rule fires; critical: when the finding
 * is critical rather than a warning), each with the reason it sits where it does; docs/metrics.md
 * lists them in the same order. The unstable-measurement rule runs first: its result scales the
 * confidence of every other finding about the same profile, because a bottleneck read from noisy
 * figures is less certain than one read from steady ones; the exceptions are the findings that
 * are about the variation itself (tail latency, a cold start), which noisy runs confirm.
 */

typedef struct rule rule;

typedef struct rule_ctx {
	const sc_report *report;
	const sc_profile *p;
	const sc_requirements *req;
} rule_ctx;

typedef bool (*rule_fn)(const rule_ctx *c, const rule *r, sc_bottleneck *out);

struct rule {
	const char *id;
	rule_fn fn;
	double threshold;
	double critical; /* the level at which the finding becomes critical; INFINITY: never */
	bool steady;     /* the finding assumes steady runs: an unstable measurement lowers its
	                    confidence (not for findings that are about the variation itself) */
};

#define MIB (1024.0 * 1024.0)

/* ---- helpers ------------------------------------------------------------------------------- */

static void evidence(sc_bottleneck *b, const char *name, double value, const char *unit)
{
	if (b->n_evidence >= SC_MAX_EVIDENCE)
		return;
	sc_evidence *e = &b->evidence[b->n_evidence++];
	snprintf(e->name, sizeof e->name, "%s", name);
	e->value = value;
	snprintf(e->unit, sizeof e->unit, "%s", unit);
}

static void message(sc_bottleneck *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void message(sc_bottleneck *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->message, sizeof b->message, fmt, ap);
	va_end(ap);
}

static sc_severity severity(double value, const rule *r)
{
	return value >= r->critical ? SC_SEVERITY_CRITICAL : SC_SEVERITY_WARNING;
}

static double clamp01(double v)
{
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* Wall seconds of one run (commands) or of the call (in-process). */
static double wall_s(const sc_profile *p)
{
	return p->total_time.n > 0 ? p->total_time.mean : NAN;
}

/* A count with thousands separators, "1,204": the messages are read by people. */
static const char *grouped(char *buf, size_t cap, double v)
{
	char digits[32];
	snprintf(digits, sizeof digits, "%.0f", fabs(v));
	size_t n = strlen(digits), o = 0;
	if (v < 0 && o + 1 < cap)
		buf[o++] = '-';
	for (size_t i = 0; i < n && o + 1 < cap; i++) {
		buf[o++] = digits[i];
		if ((n - i - 1) % 3 == 0 && i + 1 < n && o + 1 < cap)
			buf[o++] = ',';
	}
	buf[o] = '\0';
	return buf;
}

/* ---- requirements ------------------------------------------------------------------------- */

/* Whether value breaks "metric op limit". */
static bool violates(double value, const char *op, double limit)
{
	if (!isfinite(value))
		return false;
	if (strcmp(op, "<=") == 0)
		return !(value <= limit);
	if (strcmp(op, "<") == 0)
		return !(value < limit);
	if (strcmp(op, ">=") == 0)
		return !(value >= limit);
	if (strcmp(op, ">") == 0)
		return !(value > limit);
	return false;
}

/* The latency figure a requirement names, in ms: latency_ms is the mean per sample (the seed's
 * avg_time_per_sample), latency_pNN_ms a percentile. NAN when the profile lacks it. */
static double latency_metric(const sc_profile *p, const char *metric)
{
	if (strcmp(metric, "latency_ms") == 0)
		return p->avg_time_per_sample * 1e3;
	if (!p->latency.available)
		return NAN;
	static const struct {
		const char *name;
		size_t offset;
	} pct[] = {{"latency_p50_ms", offsetof(sc_latency, p50_ms)},
	           {"latency_p90_ms", offsetof(sc_latency, p90_ms)},
	           {"latency_p95_ms", offsetof(sc_latency, p95_ms)},
	           {"latency_p99_ms", offsetof(sc_latency, p99_ms)},
	           {"latency_p999_ms", offsetof(sc_latency, p999_ms)}};
	for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++)
		if (strcmp(metric, pct[i].name) == 0)
			return *(const double *)((const char *)&p->latency + pct[i].offset);
	return NAN;
}

/* The first requirement on one of the metrics accepted by pick that the profile breaks. */
static const sc_requirement *
broken(const rule_ctx *c, double (*value)(const sc_profile *p, const char *metric), double *got)
{
	if (!c->req)
		return NULL;
	for (size_t i = 0; i < c->req->n; i++) {
		const sc_requirement *q = &c->req->items[i];
		double v = value(c->p, q->metric);
		if (violates(v, q->op, q->limit)) {
			*got = v;
			return q;
		}
	}
	return NULL;
}

static bool rule_latency_requirement(const rule_ctx *c, const rule *r, sc_bottleneck *b)
{
	double v;
	const sc_requirement *q = broken(c, latency_metric, &v);
	if (!q)
		return false;
	double ratio = q->limit > 0 ? v / q->limit : INFINITY;
	if (ratio < r->threshold)
		return false;
	b->severity = SC_SEVERITY_CRITICAL; /* a requirement the user set is not met */
	b->share = 1;
	message(b, "%s is %.4g ms, above the required %s %.4g ms (%.2fx the limit)", q->metric, v,
	        q->op, q->limit, ratio);
	evidence(b, "value_ms", v, "ms");
	evidence(b, "limit_ms", q->limit, "ms");
	evidence(b, "ratio", ratio, "x");
	return true;
}

static double throughput_metric(const sc_profile *p, const char *metric)
{
	return strcmp(metric, "throughput") == 0 ? p->throughput_samples_per_sec : NAN;
}

static bool rule_throughput_requirement(const rule_ctx *c, const rule *r, sc_bottleneck *b)
{
	(void)r;
	double v;
	const sc_requirement *q = broken(c, throughput_metric, &v);
	if (!q)
		return false;
	b->severity = SC_SEVERITY_CRITICAL;
	b->share = 1;
	message(b, "throughput is %.4g predictions/s, short of the required %s %.4g (%.0f%% of it)",
	        v, q->op, q->limit, q->limit > 0 ? 100 * v / q->limit : 0);
	evidence(b, "throughput_samples_per_sec", v, "1/s");
	evidence(b, "limit", q->limit, "1/s");
	return true;
}

static double memory_metric(const sc_profile *p, const char *metric)
{
	if (strcmp(metric, "peak_memory_mb") == 0)
		return p->memory.peak_memory_mb;
	if (strcmp(metric, "memory_increase_mb") == 0)
		return p->memory.memory_increase_mb;
	return NAN;
}

static bool rule_memory_requirement(const rule_ctx *c, const rule *r, sc_bottleneck *b)
{
	(void)r;
	double v;
	const sc_requirement *q = broken(c, memory_metric, &v);
	if (!q)
		return false;
	b->severity = SC_SEVERITY_CRITICAL;
	b->share = 1;
	message(b, "%s is %.1f MB, above the required %s %.1f MB", q->metric, v, q->op, q->limit);
	evidence(b, "value_mb", v, "MB");
	evidence(b, "limit_mb", q->limit, "MB");
	return true;
}

/* ---- memory -------------------------------------------------------------------------------- */

static bool rule_memory_high(const rule_ctx *c, const rule *r, sc_bottleneck *b)
{
	double peak = c->p->memory.peak_memory_mb, total = c->report->system.memory_total_mb;
	if (!isfinite(peak) || !(total > 0))
		return false;
	double share = peak / total;
	if (share < r->threshold)
		return false;
	b->severity = severity(share, r);
	b->share = clamp01(share);
	message(b, "peak memory %.1f MB is %.0f%% of the system's %.0f MB of RAM", peak,
	        100 * share, total);
	evidence(b, "peak_memory_mb", peak, "MB");
	evidence(b, "memory_total_mb", total, "MB");
	evidence(b, "ram_percent", 100 * share, "%");
	return true;
}

/* Whether a timeline point counts: the sampler's last point can catch the process exiting, its
 * memory already released (RSS 0), which is the end of the run and not a drop in use. */
static bool point_counts(const sc_timeline_point *q)
{
	return isfinite(q->rss_mb) && q->rss_mb > 0;
}

/* Least-squares slope of RSS against time over the second half of the timeline (MB/s), and the
 * time that half spans. Returns false with fewer than min_points points in it. */
static bool second_half_slope(const sc_profile *p, size_t min_points, double *slope, double *span_s)
{
	if (p->n_timeline < 2)
		return false;
	size_t last = p->n_timeline;
	while (last > 0 && !point_counts(&p->timeline[last - 1]))
		last--;
	if (last < 2)
		return false;
	double t_end = p->timeline[last - 1].t_s, t_mid = t_end / 2;
	double sx = 0, sy = 0, n = 0;
	for (size_t i = 0; i < p->n_timeline; i++) {
		const sc_timeline_point *q = &p->timeline[i];
		if (q->t_s >= t_mid && point_counts(q)) {
			sx += q->t_s;
			sy += q->rss_mb;
			n++;
		}
	}
	if (n < (double)min_points)
		return false;
	double mx = sx / n, my = sy / n, sxx = 0, sxy = 0, t_first = t_end;
	for (size_t i = 0; i < p->n_timeline; i++) {
		const sc_timeline_point *q = &p->timeline[i];
		if (q->t_s >= t_mid && point_counts(q)) {
			sxx += (q->t_s - mx) * (q->t_s - mx);
			sxy += (q->t_s - mx) * (q->rss_mb - my);
			t_first = fmin(t_first, q->t_s);
		}
	}
	if (!(sxx > 0))
		return false;
	*slope = sxy / sxx;
	*span_s = t_end - t_first;
	return true;
}

/* The smallest second-half growth worth a finding, in MB, whatever the peak: below it, RSS moves
 * that much with the allocator's and the kernel's own bookkeeping. */
#define GROWTH_MIN_MB 4.0
/* Timeline points the second half needs for a slope that means something. */
#define GROWTH_MIN_POINTS 5

static bool rule_memory_growth(const rule_ctx *c, const rule *r, sc_bottleneck *b)
{
	const sc_profile *p = c->p;
	double leaked =
	    p->heap.available && p->heap.leaked_bytes >= 0 ? (double)p->heap.leaked_bytes : NAN;
	const sc_leak_result *l = &p->leak;
	if (l->verdict && strcmp(l->verdict, "leak") == 0) {
		double peak = p->memory.peak_memory_mb * MIB;
		double share = peak > 0 ? l->total_growth_bytes / peak : 1;
		b->severity = severity(share, r);
		b->share = clamp01(share);
		/* The leak check's slope is per iteration in-process and per second of a
		 * command's timeline; the total growth reads the same in both. */
		message(
		    b,
		    "the leak check finds steady growth: +%.1f MB in total (%s basis, %zu points)",
		    l->total_growth_bytes / MIB, l->basis ? l->basis : "unknown", l->iterations);
		evidence(b, "leak_slope_bytes", l->slope_bytes, "bytes");
		evidence(b, "leak_slope_ci95_low_bytes", l->slope_ci95_low, "bytes");
		evidence(b, "total_growth_bytes", l->total_growth_bytes, "bytes");
		evidence(b, "leaked_bytes", leaked, "bytes");
		return true;
	}
	double slope, span;
	if (!second_half_slope(p, GROWTH_MIN_POINTS, &slope, &span))
		return false;
	double growth = slope * span, peak = 0;
	for (size_t i = 0; i < p->n_timeline; i++)
		peak = fmax(peak, p->timeline[i].rss_mb);
	double share = peak > 0 ? growth / peak : 0;
	if (growth < GROWTH_MIN_MB || share < r->threshold)
		return false;
	b->severity = severity(share, r);
	b->share = clamp01(share);
	message(b,
	        "RSS still grows in the second half of the run: %.1f MB/s, +%.1f MB in %.2f s "
	        "(%.0f%% of the %.1f MB peak)",
	        slope, growth, span, 100 * share, peak);
	evidence(b, "slope_mb_per_s", slope, "MB/s");
	evidence(b, "second_half_growth_mb", growth, "MB");
	evidence(b, "peak_rss_mb", peak, "MB");
	evidence(b, "leaked_bytes", leaked, "bytes");
	return true;
}

/* The fewest allocations per run for churn to matter: below it, even 1 µs each is noise. */
#define CHURN_MIN_ALLOCATIONS 10000

static bool rule_allocation_churn(const rule_ctx *c, const rule *r, sc_bottleneck *b)
{
	const sc_heap_profile *h = &c->p->heap;
	if (!h->available || h->allocations < CHURN_MIN_ALLOCATIONS || h->temporary_allocations < 0)
		return false;
	double per_sample = h->allocations_per_sample;
	double temp = (double)h->temporary_allocations / (double)h->allocations;
	/* threshold: allocations per sample; with no -n, the share of temporaries alone decides. */
	bool many = isfinite(per_sample) ? per_sample >= r->threshold : false;
	if (!many && temp < 0.5)
		return false;
	b->severity = isfinite(per_sample) ? severity(per_sample, r) : SC_SEVERITY_WARNING;
	b->share = clamp01(temp);
	char n[32];
	if (isfinite(per_sample))
		message(b, "%s allocations per prediction, %.0f%% freed immediately",
		        grouped(n, sizeof n, per_sample), 100 * temp);
	else
		message(b, "%s allocations per run, %.0f%% freed immediately",
		        grouped(n, sizeof n, (double)h->allocations), 100 * temp);
	evidence(b, "allocations", (double)h->allocations, "");
	evidence(b, "allocations_per_sample", per_sample, "");
	evidence(b, "temporary_percent", 100 * temp, "%");
	evidence(b, "bytes_allocated", (double)h->bytes_allocated, "bytes");
	return true;
}

/* Blocks of at least 1 MiB (size buckets 21 and up) are "large": arrays of data, not objects. */
#define LARGE_BLOCK_BUCKET 21
/* The smallest peak worth a finding: a few MB of intermediates cost nothing on any machine. */
#define LARGE_MIN_PEAK_BYTES (16.0 * MIB)

static bool rule_large_intermediates(const rule_ctx *c, const rule *r, sc_bottleneck *b)
{
	const sc_heap_profile *h = &c->p->heap;
	if (!h->available || h->peak_live_bytes < 0 || h->leaked_bytes < 0)
		return false;
	double peak = (double)h->peak_live_bytes, kept = fmax((double)h->leaked_bytes, MIB);
	double large = 0, large_bytes = 0;
	for (size_t k = LARGE_BLOCK_BUCKET; k < SC_HEAP_SIZE_BUCKETS; k++) {
		large += (double)h->size_buckets[k];
		large_bytes += (double)h->size_buckets[k] * ldexp(1, (int)k - 1);
	}
	/* The peak must be far above what stays live (threshold: the ratio), large enough, and at
	 * least half of it explained by large blocks (their smallest possible size). */
	double ratio = peak / kept;
	if (peak < LARGE_MIN_PEAK_BYTES || ratio < r->threshold || large_bytes < 0.5 * peak)
		return false;
	b->severity = severity(ratio, r);
	b->share = clamp01((peak - (double)h->leaked_bytes) / peak);
	message(b,
	        "the live heap peaks at %.1f MB but only %.1f MB stays live: %.0f large blocks "
	        "(>= 1 MiB) make the peak",
	        peak / MIB, (double)h->leaked_bytes / MIB, large);
	evidence(b, "peak_live_bytes", peak, "bytes");
	evidence(b, "exit_live_bytes", (double)h->leaked_bytes, "bytes");
	evidence(b, "large_block_allocations", large, "");
	evidence(b, "peak_to_exit_ratio", ratio, "x");
	return true;
}

/* The smallest gap between the allocator's memory and what is in use worth a finding. */
#define FRAGMENT_MIN_BYTES (8.0 * MIB)

static bool rule_heap_fragmentation(const rule_ctx *c, const rule *r, sc_bottleneck *b)
{
	const sc_heap_profile *h = &c->p->heap;
	if (!h->available || h->arena_bytes <= 0 || h->in_use_bytes < 0)
		return false;
	double arena = (double)h->arena_bytes, used = (double)h->in_use_bytes;
	double frag = (arena - used) / arena;
	if (arena - used < FRAGMENT_MIN_BYTES || frag < r->threshold)
		return false;
	b->severity = severity(frag, r);
	b->share = clamp01(frag);
	message(b,
	        "the allocator holds %.1f MB from the kernel but only %.1f MB is in use at exit: "
	        "%.0f%% fragmentation",
	        arena / MIB, used / MIB, 100 * frag);
	evidence(b, "arena_bytes", arena, "bytes");
	evidence(b, "in_use_bytes", used, "bytes");
	evidence(b, "fragmentation_percent", 100 * frag, "%");
	evidence(b, "run_peak_rss_mb", h->run_peak_rss_mb, "MB");
	return true;
}

/* ---- CPU and the kernel -------------------------------------------------------------------- */

/* cpu_utilization at or above threshold, but below this, is one core busy (not several). */
#define ONE_CORE_MAX 1.15

/* A program that never waits (a handful of voluntary switches per run: start-up and exit) and
 * still got less than a core was preempted, not blocked: on a busy machine it is as CPU-bound as
 * one that had a core to itself. Below CPU_BOUND_MIN_SHARE of a core the preemption, not the
 * program, is the story (oversubscription says so). */
#define CPU_BOUND_MAX_WAITS 5.0
#define CPU_BOUND_MIN_SHARE 0.3

static bool rule_cpu_bound(const rule_ctx *c, const rule *r, sc_bottleneck *b)
{
	const sc_resources *res = &c->p->resources;
	double u = res->cpu_utilization;
	int cpus = c->report->system.cpus;
	if (!isfinite(u) || u >= ONE_CORE_MAX || cpus < 2)
		return false;
	double waits = (double)res->voluntary_context_switches;
	double preempted = (double)res->involuntary_context_switches;
	bool never_waits = res->voluntary_context_switches >= 0 && waits <= CPU_BOUND_MAX_WAITS &&
	                   res->major_faults <= 0 && preempted > waits;
	if (u < r->threshold && !(u >= CPU_BOUND_MIN_SHARE && never_waits))
		return false;
	b->severity = SC_SEVERITY_WARNING;
	b->share = u < r->threshold ? 1 : clamp01(u);
	if (u >= r->threshold)
		message(b,
		        "%.2f of %d cores busy: one core does all the work while %.1f cores stay "
		        "idle",
		        u, cpus, cpus - u);
	else
		message(
		    b,
		    "one core's worth of work that never waits (%.0f voluntary switches per "
		    "run), though it got %.2f of a core: preempted %.0f times per run by a busy "
		    "machine",
		    waits, u, preempted);
	evidence(b, "cpu_utilization", u, "cores");
	evidence(b, "cpus", cpus, "");
	evidence(b, "idle_cores", cpus - u, "cores");
	evidence(b, "voluntary_context_switches", waits, "per run");
	evidence(b, "involuntary_context_switches", preempted, "per run");
	return true;
}

/* What counts as I/O for io-bound: storage bytes or major faults per run. Blocking alone
 * (voluntary switches) is not enough: a program that sleeps blocks as often as one that reads, and
 * sleeping is not I/O; the blocking rate is kept as evidence. */
#define IO_MIN_BYTES        (256.0 * 1024)
#define IO_MIN_MAJOR_FAULTS 10

static bool rule_io_bound(const rule_ctx *c, const rule *r, sc_bottleneck *b)
{
	const sc_resources *res = &c->p->resources;
	double u = res->cpu_utilization, wall = wall_s(c->p);
	if (!isfinite(u) || !(wall > 0) || u >= r->threshold)
		return false;
	double io = (res->read_bytes > 0 ? (double)res->read_bytes : 0) +
	            (res->write_bytes > 0 ? (double)res->write_bytes : 0);
	double major = res->major_faults > 0 ? (double)res->major_faults : 0;
	double blocks = res->voluntary_context_switches > 0
	                    ? (double)res->voluntary_context_switches / wall
	                    : 0;
	if (io < IO_MIN_BYTES && major < IO_MIN_MAJOR_FAULTS)
		return false;
	double wait = 1 - u;
	b->severity = severity(wait, r);
	b->share = clamp01(wait);
	message(
	    b,
	    "waits %.0f%% of the time (%.2f cores busy) on I/O: %.1f MB storage I/O, %.0f major "
	    "faults, %.0f blocking waits/s per run",
	    100 * wait, u, io / MIB, major, blocks);
	evidence(b, "cpu_utilization", u, "cores");
	evidence(b, "wait_percent", 100 * wait, "%");
	evidence(b, "io_bytes", io, "bytes");
	evidence(b, "major_faults", major, "");
	evidence(b, "voluntary_switches_per_s", blocks, "1/s");
	return true;
}

/* sys must also be this share of the wall time, so that a mostly idle program whose little CPU
 * is all start-up (exec, the loader: kernel time) does not count. */
#define SYS_MIN_WALL_SHARE 0.10

static bool rule_syscall_heavy(const rule_ctx *c, const rule *r, sc_bottleneck *b)
{
	const sc_resources *res = &c->p->resources;
	double user = res->cpu_user_s, sys = res->cpu_sys_s, wall = wall_s(c->p);
	if (!isfinite(user) || !isfinite(sys) || !(wall > 0) || !(user + sys > 0))
		return false;
	double share = sys / (user + sys);
	if (share < r->threshold || sys / wall < SYS_MIN_WALL_SHARE)
		return false;
	b->severity = severity(share, r);
	b->share = clamp01(sys / wall);
	message(b, "%.0f%% of the CPU time is in the kernel (%.4g s system, %.4g s user per run)",
	        100 * share, sys, user);
	evidence(b, "cpu_sys_s", sys, "s");
	evidence(b, "cpu_user_s", user, "s");
	evidence(b, "sys_percent_of_cpu", 100 * share, "%");
	evidence(b, "sys_percent_of_wall", 100 * sys / wall, "%");
	return true;
}

/* Without -n, a rate stands in for "per sample": 100,000 faults/s is ~10-25% of a core spent in
 * the fault handler (1-2.5 µs each). */
#define FAULTS_PER_SEC 100000.0

static bool rule_page_fault_heavy(const rule_ctx *c, const rule *r, sc_bottleneck *b)
{
	const sc_profile *p = c->p;
	const sc_resources *res = &p->resources;
	double wall = wall_s(p);
	if (res->minor_faults < 0 || !(wall > 0))
		return false;
	double faults = (double)res->minor_faults + (res->major_faults > 0 ? res->major_faults : 0);
	double per_sample = p->n_samples > 1 ? faults / (double)p->n_samples : NAN;
	double rate = faults / wall;
	bool fires = isfinite(per_sample) ? per_sample >= r->threshold : rate >= FAULTS_PER_SEC;
	if (!fires)
		return false;
	b->severity = isfinite(per_sample) ? severity(per_sample, r) : SC_SEVERITY_WARNING;
	b->share = clamp01(isfinite(res->cpu_sys_s) ? res->cpu_sys_s / wall : 0);
	char n[32];
	if (isfinite(per_sample))
		message(b,
		        "%s page faults per prediction (%.0f per run): fresh memory every sample",
		        grouped(n, sizeof n, per_sample), faults);
	else
		message(b, "%s page faults per second (%.0f per run): fresh memory all the time",
		        grouped(n, sizeof n, rate), faults);
	evidence(b, "faults_per_sample", per_sample, "");
	evidence(b, "faults_per_s", rate, "1/s");
	evidence(b, "minor_faults", (double)res->minor_faults, "");
	evidence(b, "major_faults", (double)res->major_faults, "");
	return true;
}

/* Preemptions per run below this are too few to matter, whatever the rate. */
#define PREEMPT_MIN 50

static bool rule_oversubscription(const rule_ctx *c, const rule *r, sc_bottleneck *b)
{
	const sc_resources *res = &c->p->resources;
	double cpu = res->cpu_user_s + res->cpu_sys_s;
	if (res->involuntary_context_switches < PREEMPT_MIN || !(cpu > 0))
		return false;
	double rate = (double)res->involuntary_context_switches / cpu;
	if (rate < r->threshold)
		return false;
	double load = c->report->system.load_avg[0];
	b->severity = severity(rate, r);
	/* The time lost waiting for a CPU is not measured; half is a middle guess for ranking. */
	b->share = 0.5;
	message(b,
	        "preempted %.0f times per CPU-second (%lld per run): more runnable threads than "
	        "cores (load %.2f on %d CPUs)",
	        rate, (long long)res->involuntary_context_switches, load, c->report->system.cpus);
	evidence(b, "involuntary_switches_per_cpu_s", rate, "1/s");
	evidence(b, "involuntary_context_switches", (double)res->involuntary_context_switches, "");
	evidence(b, "cpu_utilization", res->cpu_utilization, "cores");
	evidence(b, "load_avg_1m", load, "");
	evidence(b, "cpus", c->report->system.cpus, "");
	return true;
}

/* ---- CPU samples --------------------------------------------------------------------------- */

/* Below this many samples no function is named: at 50 samples a 30% share is known to ±13
 * percentage points (95%), and a short run's handful of samples is mostly start-up. */
#define HOTSPOT_MIN_SAMPLES 50
/* The normal quantile of a two-sided 95% interval. */
#define Z95 1.96
/* Distinct callers tallied for a library function; further ones are too small to be the answer. */
#define HOTSPOT_MAX_CALLERS 16

/* Whether path is a shared library of the system (the C or maths library, say): its functions are
 * not the program's to change, so the finding names the program's code that calls them. */
static bool system_module(const char *path)
{
	static const char *const dirs[] = {"/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/"};
	for (size_t i = 0; path && i < sizeof dirs / sizeof dirs[0]; i++)
		if (strncmp(path, dirs[i], strlen(dirs[i])) == 0)
			return true;
	return false;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* The last two components of a source path ("nba/gbm.c"): enough to find the file, short enough
 * for a line, and the same wherever shotclock runs (a path relative to the working directory
 * would make the report depend on where it was made). */
static const char *short_path(const char *path)
{
	const char *last = strrchr(path, '/');
	if (!last)
		return path;
	const char *prev = last;
	while (prev > path && prev[-1] != '/')
		prev--;
	return prev;
}

static const sc_cpu_hotspot *hotspot_named(const sc_cpu_profile *cpu, const char *function)
{
	for (size_t i = 0; i < cpu->n_hotspots; i++)
		if (cpu->hotspots[i].function && strcmp(cpu->hotspots[i].function, function) == 0)
			return &cpu->hotspots[i];
	return NULL;
}

/* "`f` (dir/file.c:12)", "`memcpy` in libc.so.6", or "`f`" when nothing more is known. */
static void hotspot_name(char *buf, size_t cap, const sc_cpu_profile *cpu, const char *function)
{
	const sc_cpu_hotspot *h = hotspot_named(cpu, function);
	if (h && h->file && !system_module(h->module)) {
		if (h->line > 0)
			snprintf(buf, cap, "`%s` (%s:%d)", function, short_path(h->file), h->line);
		else
			snprintf(buf, cap, "`%s` (%s)", function, short_path(h->file));
	} else if (h && h->module &&
	           strncmp(function, base_name(h->module), strlen(base_name(h->module))) != 0) {
		/* An unsymbolized "libfoo.so+0x1a2b" names its module already. */
		snprintf(buf, cap, "`%s` in %s", function, base_name(h->module));
	} else {
		snprintf(buf, cap, "`%s`", function);
	}
}

/* The program's function that calls the library function h most: over the stacks whose innermost
 * frame is h, the first frame further out that is neither h again (recursion) nor in a system
 * library, its samples summed over those stacks. NULL when no stack shows one. Ties go to the
 * caller seen first, in the heavier stack, so the answer does not depend on anything but the
 * profile. */
static const char *hotspot_caller(const sc_cpu_profile *cpu, const sc_cpu_hotspot *h)
{
	const char *names[HOTSPOT_MAX_CALLERS];
	uint64_t samples[HOTSPOT_MAX_CALLERS];
	size_t n = 0;
	for (size_t s = 0; s < cpu->n_stacks; s++) {
		const sc_cpu_stack *st = &cpu->stacks[s];
		if (st->n_frames < 2 || !st->frames[st->n_frames - 1] ||
		    strcmp(st->frames[st->n_frames - 1], h->function) != 0)
			continue;
		const char *caller = NULL;
		for (size_t i = st->n_frames - 1; i-- > 0 && !caller;) {
			const char *f = st->frames[i];
			const sc_cpu_hotspot *fh = f ? hotspot_named(cpu, f) : NULL;
			if (f && strcmp(f, h->function) != 0 && !(fh && system_module(fh->module)))
				caller = f;
		}
		if (!caller)
			continue;
		size_t k = 0;
		while (k < n && strcmp(names[k], caller) != 0)
			k++;
		if (k == n) {
			if (n == HOTSPOT_MAX_CALLERS)
				continue;
			names[n] = caller;
			samples[n++] = 0;
		}
		samples[k] += st->samples;
	}
	size_t best = 0;
	for (size_t k = 1; k < n; k++)
		if (samples[k] > samples[best])
			best = k;
	return n ? names[best] : NULL;
}

/* How the cpu-hotspot finding and its recommendation name hotspot h: subject "`f` (dir/f.c:12)",
 * or "`memcpy` in libc.so.6" for a function of a system library; caller, for such a function
 * only, the program's function that calls it most, named the same way, or "". Returns whether h
 * is in a system library. */
bool sc__cpu_hotspot_words(const sc_cpu_profile *cpu, const sc_cpu_hotspot *h, char *subject,
                           size_t subject_cap, char *caller, size_t caller_cap)
{
	hotspot_name(subject, subject_cap, cpu, h->function);
	caller[0] = '\0';
	if (!system_module(h->module))
		return false;
	const char *c = hotspot_caller(cpu, h);
	if (c)
		hotspot_name(caller, caller_cap, cpu, c);
	return true;
}

/* The region the hot function leads (has the most self samples in): the innermost such region,
 * as the most specific, then the one with the larger share; NULL when regions were not sampled. */
static const sc_region_stats *hotspot_region(const sc_profile *p, const char *function)
{
	const sc_region_stats *best = NULL;
	for (size_t i = 0; i < p->n_regions; i++) {
		const sc_region_stats *g = &p->regions[i];
		if (g->cpu_samples < 0 || !isfinite(g->cpu_percent) ||
		    strcmp(g->cpu_top_function, function) != 0)
			continue;
		if (!best || g->depth > best->depth ||
		    (g->depth == best->depth && g->cpu_percent > best->cpu_percent))
			best = g;
	}
	return best;
}

static bool rule_cpu_hotspot(const rule_ctx *c, const rule *r, sc_bottleneck *b)
{
	const sc_cpu_profile *cpu = &c->p->cpu;
	if (!cpu->available || cpu->samples < HOTSPOT_MIN_SAMPLES || cpu->n_hotspots == 0 ||
	    !cpu->hotspots[0].function)
		return false;
	const sc_cpu_hotspot *h = &cpu->hotspots[0];
	double share = h->self_percent / 100, n = (double)cpu->samples;
	if (!(share >= r->threshold))
		return false;
	/* The share is a binomial proportion: its 95% interval is share ± 1.96 sqrt(p(1-p)/n).
	 * Confidence is how little of the share that interval leaves in doubt. */
	double half = Z95 * sqrt(share * (1 - share) / n);
	b->severity = severity(share, r);
	b->share = clamp01(share);
	b->confidence = clamp01(1 - half / share);
	char subject[160], caller[160], region[120] = "";
	sc__cpu_hotspot_words(cpu, h, subject, sizeof subject, caller, sizeof caller);
	const sc_region_stats *g = hotspot_region(c->p, h->function);
	if (g) {
		snprintf(b->region, sizeof b->region, "%s", g->name);
		snprintf(region, sizeof region, "; it leads region '%s' (%.0f%% of samples)",
		         g->name, g->cpu_percent);
	}
	message(b, "%s takes %.0f%% of CPU samples%s%s%s", subject, h->self_percent,
	        caller[0] ? ", called mostly from " : "", caller, region);
	evidence(b, "self_percent", h->self_percent, "%");
	evidence(b, "self_samples", (double)h->self_samples, "");
	evidence(b, "total_percent", h->total_percent, "%");
	evidence(b, "samples", n, "");
	evidence(b, "self_percent_ci95", 100 * half, "%");
	if (g)
		evidence(b, "region_cpu_percent", g->cpu_percent, "%");
	return true;
}

/* ---- time ---------------------------------------------------------------------------------- */

/* Per-run percentiles need this many runs before p99 says anything about a tail. */
#define TAIL_MIN_RUNS 10

static bool rule_tail_latency(const rule_ctx *c, const rule *r, sc_bottleneck *b)
{
	const sc_latency *l = &c->p->latency;
	if (!l->available || l->count < TAIL_MIN_RUNS || !(l->p50_ms > 0) || !isfinite(l->p99_ms))
		return false;
	double ratio = l->p99_ms / l->p50_ms;
	if (ratio < r->threshold)
		return false;
	b->severity = severity(ratio, r);
	b->share = clamp01((l->p99_ms - l->p50_ms) / l->p99_ms);
	message(b, "p99 latency %.4g ms is %.1fx the median %.4g ms (%s, %llu values)", l->p99_ms,
	        ratio, l->p50_ms, l->source ? l->source : "?", (unsigned long long)l->count);
	evidence(b, "p50_ms", l->p50_ms, "ms");
	evidence(b, "p99_ms", l->p99_ms, "ms");
	evidence(b, "p99_p50_ratio", ratio, "x");
	evidence(b, "count", (double)l->count, "");
	return true;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Runs needed for a "rest" to compare the first run with. */
#define COLD_MIN_RUNS 3

static bool rule_cold_start(const rule_ctx *c, const rule *r, sc_bottleneck *b)
{
	const sc_profile *p = c->p;
	if (p->n_runs < COLD_MIN_RUNS)
		return false;
	size_t rest = p->n_runs - 1;
	double *sorted = malloc(rest * sizeof *sorted), sum = p->runs[0].wall_s;
	if (!sorted)
		return false; /* advice only: without memory the rest of the report still stands */
	for (size_t i = 0; i < rest; i++) {
		sorted[i] = p->runs[i + 1].wall_s;
		sum += sorted[i];
	}
	qsort(sorted, rest, sizeof *sorted, compare_doubles);
	double median = sc_percentile_sorted(sorted, rest, 50);
	free(sorted);
	double first = p->runs[0].wall_s, ratio = median > 0 ? first / median : 0;
	if (ratio < r->threshold)
		return false;
	b->severity = severity(ratio, r);
	b->share = clamp01(sum > 0 ? (first - median) / sum : 0);
	message(b, "the first run took %.4g s, %.1fx the median %.4g s of the %zu others", first,
	        ratio, median, rest);
	evidence(b, "first_run_s", first, "s");
	evidence(b, "median_other_runs_s", median, "s");
	evidence(b, "first_to_median_ratio", ratio, "x");
	return true;
}

/* The coefficient of variation (stddev / mean) of the run times. */
static double run_cv(const sc_profile *p)
{
	const sc_summary *t = &p->total_time;
	return t->n >= 2 && t->mean > 0 ? t->stddev / t->mean : NAN;
}

/* Outliers alone are common in tight distributions (a tiny MAD makes any jitter an outlier), so
 * they make a measurement unstable only together with a spread of at least this share of the
 * rule's threshold. */
#define UNSTABLE_OUTLIER_CV_SHARE 0.5

/* Whether the rule with threshold cv_limit calls p's measurement unstable. */
static bool unstable(const sc_profile *p, double cv_limit)
{
	double cv = run_cv(p);
	if (!isfinite(cv))
		return false;
	return cv >= cv_limit ||
	       (p->total_time.outliers > 0 && cv >= UNSTABLE_OUTLIER_CV_SHARE * cv_limit);
}

static bool rule_unstable(const rule_ctx *c, const rule *r, sc_bottleneck *b)
{
	const sc_summary *t = &c->p->total_time;
	if (!unstable(c->p, r->threshold))
		return false;
	double cv = run_cv(c->p);
	b->severity = cv >= r->critical ? SC_SEVERITY_WARNING : SC_SEVERITY_INFO;
	b->share = clamp01(cv);
	message(b,
	        "run times vary by %.1f%% (coefficient of variation) with %zu outlier%s in %zu "
	        "runs: every other finding is less certain",
	        100 * cv, t->outliers, t->outliers == 1 ? "" : "s", t->n);
	evidence(b, "cv_percent", 100 * cv, "%");
	evidence(b, "outliers", (double)t->outliers, "");
	evidence(b, "runs", (double)t->n, "");
	evidence(b, "confidence_factor", sc__analyze_confidence(c->p), "");
	return true;
}

/* Across the report's profiles (regions do not exist yet): the profile that takes most of the
 * time all profiles take together. Reported on the dominant profile only. */
static bool rule_dominant_component(const rule_ctx *c, const rule *r, sc_bottleneck *b)
{
	const sc_report *rep = c->report;
	if (rep->n_profiles < 2)
		return false;
	double total = 0, mine = wall_s(c->p);
	for (size_t i = 0; i < rep->n_profiles; i++) {
		double w = wall_s(&rep->profiles[i]);
		if (!isfinite(w))
			return false;
		total += w;
	}
	double share = total > 0 ? mine / total : 0;
	if (share < r->threshold)
		return false;
	b->severity = severity(share, r);
	b->share = clamp01(share);
	message(b, "takes %.0f%% of the pipeline's time: %.4g s of %.4g s over %zu profiles",
	        100 * share, mine, total, rep->n_profiles);
	evidence(b, "time_share_percent", 100 * share, "%");
	evidence(b, "total_time_s", mine, "s");
	evidence(b, "report_total_s", total, "s");
	evidence(b, "profiles", (double)rep->n_profiles, "");
	return true;
}

/*
 * The rules, in the order findings are listed. Every threshold and why it sits there:
 *
 * unstable-measurement 0.10: hyperfine's and warnings.c's high-variance line; above it a 95%
 *   interval of a few runs is wider than the differences people try to measure (critical 0.25).
 * latency-requirement 1.0: any latency above a limit the user set fails it.
 * memory-high 0.5: past half of RAM the OS starts to evict page cache and other processes feel it
 *   (critical 0.8: swapping or the OOM killer is near).
 * memory-growth 0.10: RSS growing by a tenth of its peak over the second half of a run is not
 *   start-up; a cache that fills then stays grows in the first half only (critical 0.5).
 * allocation-churn 100 allocations per sample: at ~50-100 ns each, 100 allocations cost 5-10 µs per
 *   prediction, the scale of a small model's whole inference (critical 1000).
 * large-intermediates 4x: a live-heap peak four times what the program keeps is mostly temporary
 *   arrays (critical 16x).
 * heap-fragmentation 0.4: glibc keeps some free memory by design; 40% of its arena free at exit
 *   means freed blocks are trapped between live ones (critical 0.75).
 * cpu-bound 0.85 cores: one core busy all but start-up and short waits; others idle when cpus > 1.
 * cpu-hotspot 0.30 of the CPU samples in one function's own code, with >= 50 samples: halving
 *   that function alone would save 15% of the CPU time, more than most whole-program tuning,
 *   and a flat profile rarely has a function above 10-20% (critical 0.60: most of the program's
 *   time is one function, and speeding it up is the only change that matters).
 * io-bound 0.5 cores: the process waits more than it computes, with I/O evidence: 256 KiB of
 *   storage I/O or 10 major faults per run (critical when it waits 90%).
 * syscall-heavy 0.5: the kernel takes more CPU than the program itself (critical 0.8).
 * page-fault-heavy 256 faults per sample: a megabyte of fresh 4 KiB pages per prediction, ~0.5 ms
 *   of kernel time (critical 2560).
 * oversubscription 200 preemptions per CPU-second: the scheduler's slice is 3-4 ms under load, so
 *   200/s means the process almost never runs a full slice (critical 1000).
 * tail-latency 3x p99/p50: a tail three times the median is beyond ordinary jitter (critical 10x).
 * cold-start 2x: hyperfine's first-run rule (critical 10x).
 * dominant-component 0.6: one of several profiles takes most of the time (critical 0.9).
 */
static const rule rules[] = {
    {"unstable-measurement", rule_unstable, 0.10, 0.25, false},
    {"latency-requirement", rule_latency_requirement, 1.0, INFINITY, true},
    {"throughput-requirement", rule_throughput_requirement, 1.0, INFINITY, true},
    {"memory-requirement", rule_memory_requirement, 1.0, INFINITY, true},
    {"memory-high", rule_memory_high, 0.5, 0.8, true},
    {"memory-growth", rule_memory_growth, 0.10, 0.5, true},
    {"allocation-churn", rule_allocation_churn, 100, 1000, true},
    {"large-intermediates", rule_large_intermediates, 4, 16, true},
    {"heap-fragmentation", rule_heap_fragmentation, 0.4, 0.75, true},
    {"cpu-bound", rule_cpu_bound, 0.85, INFINITY, true},
    /* Not steady: cpu-clock samples count only time on a CPU, so preemption on a busy machine,
     * which makes the run times vary, does not move the shares; the rule's confidence comes from
     * the sample count instead. */
    {"cpu-hotspot", rule_cpu_hotspot, 0.30, 0.60, false},
    {"io-bound", rule_io_bound, 0.5, 0.9, true},
    {"syscall-heavy", rule_syscall_heavy, 0.5, 0.8, true},
    {"page-fault-heavy", rule_page_fault_heavy, 256, 2560, true},
    {"oversubscription", rule_oversubscription, 200, 1000, true},
    {"tail-latency", rule_tail_latency, 3, 10, false},
    {"cold-start", rule_cold_start, 2, 10, false},
    {"dominant-component", rule_dominant_component, 0.6, 0.9, true},
};

#define N_RULES (sizeof rules / sizeof rules[0])

/* The lowest confidence an unstable measurement leaves a finding. */
#define CONFIDENCE_FLOOR 0.2

double sc__analyze_confidence(const sc_profile *p)
{
	if (!unstable(p, rules[0].threshold))
		return 1;
	double cv = run_cv(p), conf = cv > rules[0].threshold ? rules[0].threshold / cv : 1;
	conf *= 1 - (double)p->total_time.outliers / (double)p->total_time.n;
	return conf < CONFIDENCE_FLOOR ? CONFIDENCE_FLOOR : conf;
}

int sc_report_analyze(sc_report *r, const sc_requirements *req)
{
	if (!r)
		return SC_EINVAL;
	free(r->bottlenecks);
	free(r->recommendations);
	r->bottlenecks = NULL;
	r->recommendations = NULL;
	r->n_bottlenecks = r->n_recommendations = 0;
	if (r->n_profiles == 0)
		return 0;
	/* A command's leak verdict was judged when its heap sites were still addresses; judged
	 * again now, its reason names the function (the CLI calls sc_report_symbolize before it
	 * analyses). */
	for (size_t i = 0; i < r->n_profiles; i++) {
		sc_profile *p = &r->profiles[i];
		if (p->kind && strcmp(p->kind, "command") == 0 && p->leak.verdict &&
		    p->leak.basis && strcmp(p->leak.basis, "rss") == 0)
			sc__leak_from_command(p);
	}
	sc_bottleneck *found = calloc(r->n_profiles * N_RULES, sizeof *found);
	if (!found)
		return SC_ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < r->n_profiles; i++) {
		const sc_profile *p = &r->profiles[i];
		rule_ctx c = {r, p, req};
		double conf = sc__analyze_confidence(p);
		for (size_t k = 0; k < N_RULES; k++) {
			sc_bottleneck *b = &found[n];
			*b = (sc_bottleneck){.confidence = 1};
			if (!rules[k].fn(&c, &rules[k], b))
				continue;
			snprintf(b->id, sizeof b->id, "%s", rules[k].id);
			snprintf(b->profile, sizeof b->profile, "%s", p->name ? p->name : "");
			if (rules[k].steady)
				b->confidence = conf;
			n++;
		}
	}
	r->bottlenecks = found;
	r->n_bottlenecks = n;
	int err = sc__advise(r);
	if (err) {
		free(r->bottlenecks);
		r->bottlenecks = NULL;
		r->n_bottlenecks = 0;
	}
	return err;
}

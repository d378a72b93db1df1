/* leak_check.c: leak detection: growth of the live heap or RSS fitted by least squares and told
 * apart as a leak, a plateau (a cache that fills) or noise. */
#define _GNU_SOURCE
#include "internal.h"

#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The thresholds of the classification (docs/metrics.md, "Leak check"). Six points leave three
 * in each half, the fewest that give a slope a confidence interval (one degree of freedom).
 */
#define MIN_POINTS 6
/* A leak keeps growing: the second half grows at least at this share of the whole series. */
#define LEAK_SHARE 0.5
/* A cache has stopped filling when the second half grows at less than this share of the first. */
#define PLATEAU_SHARE 0.1
/* RSS moves by whole pages, and a few move for reasons of their own (the stack, the allocator's
 * bookkeeping, the kernel's per-CPU counters on kernels before 6.16): growth within this many
 * pages is noise. */
#define RSS_NOISE_PAGES 8

#define MIB (1024.0 * 1024.0)

int sc__leak_ols(const double *x, const double *y, size_t n, sc__leak_line *out)
{
	if (!x || !y || !out || n < 3)
		return SC_EINVAL;
	/* Centred sums (two passes): the values are large (bytes of RSS) and their differences
	 * small, so sums of raw products would lose the differences to rounding. */
	double mx = 0, my = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(x[i]) || !isfinite(y[i]))
			return SC_EINVAL;
		mx += x[i];
		my += y[i];
	}
	mx /= (double)n;
	my /= (double)n;
	double sxx = 0, sxy = 0;
	for (size_t i = 0; i < n; i++) {
		sxx += (x[i] - mx) * (x[i] - mx);
		sxy += (x[i] - mx) * (y[i] - my);
	}
	if (!(sxx > 0))
		return SC_EINVAL; /* every x the same: no slope */
	double slope = sxy / sxx, sse = 0;
	/* The residuals themselves rather than syy - slope * sxy, which cancels to rounding noise
	 * (and can go negative) when the points lie on a line, as exact heap counts do. */
	for (size_t i = 0; i < n; i++) {
		double r = (y[i] - my) - slope * (x[i] - mx);
		sse += r * r;
	}
	double half = sc__t975((double)(n - 2)) * sqrt(sse / (double)(n - 2) / sxx);
	*out = (sc__leak_line){.slope = slope, .ci95_low = slope - half, .ci95_high = slope + half};
	return 0;
}

/* "4.0 KiB", "1.00 MiB", "-512 B": bytes for a sentence. */
static void fmt_bytes(char *buf, size_t cap, double bytes)
{
	double a = fabs(bytes);
	if (a >= MIB)
		snprintf(buf, cap, "%.2f MiB", bytes / MIB);
	else if (a >= 1024)
		snprintf(buf, cap, "%.1f KiB", bytes / 1024);
	else
		snprintf(buf, cap, "%.0f B", bytes);
}

static void set_reason(sc_leak_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_reason(sc_leak_result *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof r->reason, fmt, ap);
	va_end(ap);
}

static void unknown(sc_leak_result *r, const char *why)
{
	r->verdict = "unknown";
	r->slope_bytes = r->slope_ci95_low = r->slope_ci95_high = NAN;
	r->second_half_slope_bytes = NAN;
	set_reason(r, "%s", why);
}

void sc__leak_classify(const double *x, const double *y, size_t n, double noise_floor,
                       const char *per, sc_leak_result *out)
{
	out->verdict = NULL;
	out->total_growth_bytes = n ? y[n - 1] - y[0] : NAN;
	if (n < MIN_POINTS) {
		unknown(out, "too few measurements to fit a growth rate: at least 6 are needed");
		return;
	}
	/* The first half and the second half share the middle point when n is odd. */
	size_t half = n / 2;
	sc__leak_line all, first, second;
	if (sc__leak_ols(x, y, n, &all) || sc__leak_ols(x, y, n - half, &first) ||
	    sc__leak_ols(x + half, y + half, n - half, &second) || !isfinite(all.ci95_low)) {
		unknown(out, "the measurements cannot be fitted (a value was not finite, or every "
		             "measurement was taken at the same time)");
		return;
	}
	out->slope_bytes = all.slope;
	out->slope_ci95_low = all.ci95_low;
	out->slope_ci95_high = all.ci95_high;
	out->second_half_slope_bytes = second.slope;

	char s[24], lo[24], hi[24], s2[24], g[24], fl[24];
	fmt_bytes(s, sizeof s, all.slope);
	fmt_bytes(lo, sizeof lo, all.ci95_low);
	fmt_bytes(hi, sizeof hi, all.ci95_high);
	fmt_bytes(s2, sizeof s2, second.slope);
	/* The growth by the fit rather than last - first: one stray point at either end (a
	 * command's last sample may catch it exiting) does not decide. */
	double fitted = all.slope * (x[n - 1] - x[0]);
	fmt_bytes(g, sizeof g, fitted);
	fmt_bytes(fl, sizeof fl, noise_floor);
	/* A cache that fills fast and then stays (a step) can leave the overall slope without
	 * significance; the halves still tell it: growth in the first, none in the second. */
	double first_growth = first.slope * (x[n - half - 1] - x[0]);
	if (!(all.ci95_low > 0) && first.ci95_low > 0 && first_growth > noise_floor &&
	    !(second.ci95_low > 0)) {
		char f[24];
		fmt_bytes(f, sizeof f, first.slope);
		out->verdict = "plateau";
		set_reason(out,
		           "grew then stopped: %s %s in the first half (significant), %s in the "
		           "second half, not significantly above zero",
		           f, per, s2);
	} else if (!(all.ci95_low > 0)) {
		out->verdict = "none";
		set_reason(out, "no significant growth: %s %s, 95%% CI %s to %s, includes zero", s,
		           per, lo, hi);
	} else if (!(fitted > noise_floor)) {
		out->verdict = "none";
		set_reason(out, "grew %s in all by the fit, within the noise floor of %s (%s %s)",
		           g, fl, s, per);
	} else if (!(second.ci95_low > 0) || second.slope < PLATEAU_SHARE * first.slope) {
		out->verdict = "plateau";
		set_reason(out,
		           "grew then stopped: %s %s overall (95%% CI %s to %s), %s in the second "
		           "half, not significantly above zero",
		           s, per, lo, hi, s2);
	} else if (second.slope >= LEAK_SHARE * all.slope) {
		out->verdict = "leak";
		set_reason(out,
		           "grows steadily: %s %s (95%% CI %s to %s), still %s in the second half",
		           s, per, lo, hi, s2);
	} else {
		out->verdict = "unknown";
		set_reason(
		    out,
		    "growth slows (%s %s overall, %s in the second half) but has not stopped: "
		    "measure longer to tell a leak from a cache that fills",
		    s, per, s2);
	}
}

static double rss_noise_floor(void)
{
	long page = sysconf(_SC_PAGESIZE);
	return (double)RSS_NOISE_PAGES * (double)(page > 0 ? page : 4096);
}

/* ---- in-process: sc_leak_check ------------------------------------------------------------- */

/* What the measured loop works with; every array is allocated before the region begins, so the
 * loop itself allocates nothing that would count as the workload's. */
typedef struct loop {
	sc_workload_fn fn;
	void *ctx;
	size_t warmup, iterations;
	heap_snapshot_fn snapshot; /* NULL: the shim is not loaded */
	double *x, *heap, *rss;
	bool heap_ok, rss_ok;
	sc_leak_result result;
} loop;

/* The body of the profile's region: warm-up, then the measured iterations, then the fit. */
static void run_loop(sc_profile *prof, void *arg)
{
	loop *l = arg;
	for (size_t i = 0; i < l->warmup; i++)
		l->fn(l->ctx);
	l->heap_ok = l->snapshot != NULL;
	l->rss_ok = true;
	for (size_t i = 0; i < l->iterations; i++) {
		l->fn(l->ctx);
		struct heap_snapshot s;
		if (l->heap_ok && l->snapshot(&s, 0) == 0)
			l->heap[i] = (double)s.live_bytes;
		else
			l->heap_ok = false;
		int64_t rss_kb, hwm_kb;
		if (l->rss_ok && sc__self_rss(&rss_kb, &hwm_kb) == 0)
			l->rss[i] = (double)rss_kb * 1024;
		else
			l->rss_ok = false;
		l->x[i] = (double)i;
	}
	sc_leak_result *r = &l->result;
	*r = (sc_leak_result){.iterations = l->iterations, .warmup = l->warmup};
	/* The live heap counts exactly the bytes the workload keeps, so any growth is real and its
	 * noise floor is zero; RSS moves in pages for reasons of its own. */
	if (l->heap_ok) {
		r->basis = "live heap";
		sc__leak_classify(l->x, l->heap, l->iterations, 0, "per iteration", r);
	} else if (l->rss_ok) {
		r->basis = "rss";
		sc__leak_classify(l->x, l->rss, l->iterations, rss_noise_floor(), "per iteration",
		                  r);
	} else {
		r->basis = l->snapshot ? "live heap" : "rss";
		r->total_growth_bytes = NAN;
		unknown(r, "the memory could not be measured after every iteration: "
		           "/proc/self/status could not be read");
	}
	prof->leak = *r;
}

int sc_leak_check(sc_profiler *p, const char *name, sc_workload_fn fn, void *ctx, size_t warmup,
                  size_t iterations, sc_leak_result *out)
{
	if (!fn || iterations == 0 || !out)
		return SC_EINVAL;
	loop l = {.fn = fn, .ctx = ctx, .warmup = warmup, .iterations = iterations};
	/* A snapshot that fails now means the shim is loaded but not counting: RSS then. */
	struct heap_snapshot probe;
	l.snapshot = (heap_snapshot_fn)dlsym(RTLD_DEFAULT, HEAP_SNAPSHOT_SYMBOL);
	if (l.snapshot && l.snapshot(&probe, 0) != 0)
		l.snapshot = NULL;
	l.x = calloc(iterations, sizeof *l.x);
	l.heap = calloc(iterations, sizeof *l.heap);
	l.rss = calloc(iterations, sizeof *l.rss);
	int rc = SC_ENOMEM;
	if (l.x && l.heap && l.rss) {
		rc = sc__profile_region(p, name, "leak-check", warmup + iterations, run_loop, &l);
		*out = l.result;
	} else {
		*out = (sc_leak_result){0};
	}
	free(l.x);
	free(l.heap);
	free(l.rss);
	return rc;
}

/* ---- commands: the timeline and the heap run ------------------------------------------------ */

/* Where a heap site allocated: its innermost function, else module+offset. */
static void site_name(const sc_heap_site *site, char *buf, size_t cap)
{
	const sc_heap_frame *f = site->n_frames ? &site->frames[0] : NULL;
	if (f && f->function) {
		snprintf(buf, cap, "%s", f->function);
	} else if (f && f->module) {
		const char *base = strrchr(f->module, '/');
		snprintf(buf, cap, "%s+0x%llx", base ? base + 1 : f->module,
		         (unsigned long long)f->offset);
	} else {
		snprintf(buf, cap, "an unknown site");
	}
}

/* The site with the most bytes lost (lost true) or still live at exit; NULL when none has any. */
static const sc_heap_site *top_site(const sc_heap_profile *h, bool lost)
{
	const sc_heap_site *top = NULL;
	for (size_t i = 0; i < h->n_sites; i++) {
		double v = lost ? h->sites[i].lost_bytes : h->sites[i].leaked_bytes;
		double best = top ? (lost ? top->lost_bytes : top->leaked_bytes) : 0;
		if (v > best)
			top = &h->sites[i];
	}
	return top;
}

/* Appends to r->reason what the heap run left live at exit. Memory unreachable at exit (the leak
 * scan of --heap-sites=all) is a leak whatever the timeline shows; memory merely live at exit is
 * what most programs leave for the kernel to reclaim, so it explains but does not decide. */
static void add_heap(sc_leak_result *r, const sc_heap_profile *h)
{
	if (!h->available || h->leaked_bytes <= 0)
		return;
	bool lost = h->lost_bytes > 0;
	int64_t bytes = lost ? h->lost_bytes : h->leaked_bytes;
	int64_t blocks = lost ? h->lost_blocks : h->leaked_blocks;
	char b[24], where[96] = "";
	fmt_bytes(b, sizeof b, (double)bytes);
	const sc_heap_site *top = top_site(h, lost);
	if (top) {
		char name[80];
		site_name(top, name, sizeof name);
		snprintf(where, sizeof where, ", most from %s", name);
	}
	size_t len = strlen(r->reason);
	snprintf(r->reason + len, sizeof r->reason - len, "; %s in %lld blocks %s at exit%s", b,
	         (long long)blocks, lost ? "unreachable" : "still live", where);
	if (lost)
		r->verdict = "leak";
}

void sc__leak_from_command(sc_profile *p)
{
	sc_leak_result *r = &p->leak;
	/* A last point sampled while the process was exiting (its memory already gone, or no
	 * process left) says nothing about growth during the run; it would turn a leak into a
	 * plateau. */
	size_t n = p->n_timeline;
	while (n > 0 && (p->timeline[n - 1].rss_mb <= 0 || p->timeline[n - 1].processes <= 0))
		n--;
	*r = (sc_leak_result){.basis = "rss", .iterations = n};
	double *x = NULL, *y = NULL;
	if (n < MIN_POINTS) {
		r->total_growth_bytes = NAN;
		unknown(r, n ? "the memory timeline has fewer than 6 points: the run was shorter "
		               "than about 60 ms"
		             : "no memory timeline was sampled");
	} else if (!(x = malloc(n * sizeof *x)) || !(y = malloc(n * sizeof *y))) {
		r->total_growth_bytes = NAN;
		unknown(r, "out of memory while fitting the timeline");
	} else {
		for (size_t i = 0; i < n; i++) {
			x[i] = p->timeline[i].t_s;
			y[i] = p->timeline[i].rss_mb * MIB;
		}
		sc__leak_classify(x, y, n, rss_noise_floor(), "per second", r);
	}
	free(x);
	free(y);
	add_heap(r, &p->heap);
}

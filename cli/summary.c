/* summary.c: the terminal summary of a report, a pure function of the report and of colour. */
#include "cli.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Width of the label column, so that values line up. */
#define LABEL_WIDTH 26

typedef struct style {
	const char *bold;
	const char *dim;
	const char *warn;
	const char *reset;
} style;

static style make_style(bool color)
{
	if (color) {
		return (style){"\033[1m", "\033[2m", "\033[33m", "\033[0m"};
	}
	return (style){"", "", "", ""};
}

bool cli_use_color(FILE *f)
{
	/* https://no-color.org: any non-empty NO_COLOR turns colour off. */
	const char *no_color = getenv("NO_COLOR");
	return isatty(fileno(f)) && !(no_color && no_color[0]);
}

/* Why the report could not measure field (a dotted path inside the profile), or NULL. */
static const char *reason_for(const sc_profile *p, const char *field)
{
	for (size_t i = 0; i < p->n_unavailable; i++) {
		if (strcmp(p->unavailable[i].field, field) == 0) {
			return p->unavailable[i].reason;
		}
	}
	return NULL;
}

/* Columns a UTF-8 label takes: its code points (labels hold no wide characters). */
static int display_width(const char *s)
{
	int n = 0;
	for (; *s; s++) {
		n += ((unsigned char)*s & 0xC0) != 0x80;
	}
	return n;
}

/*
 * One "  label: value" line. text is NULL when the figure was not measured: it then reads
 * "unavailable (reason)". A measured figure that the report still qualifies (an upper bound,
 * say) keeps its value and shows the reason after it.
 */
static void put_line(FILE *out, const style *st, const sc_profile *p, const char *label,
                     const char *field, const char *text)
{
	const char *why = field ? reason_for(p, field) : NULL;
	int width = LABEL_WIDTH - display_width(label);
	fprintf(out, "  %s:%*s", label, width > 1 ? width : 1, "");
	if (!text) {
		fprintf(out, "%sunavailable", st->dim);
		if (why) {
			fprintf(out, " (%s)", why);
		}
		fprintf(out, "%s\n", st->reset);
	} else if (why) {
		fprintf(out, "%s %s(%s)%s\n", text, st->dim, why, st->reset);
	} else {
		fprintf(out, "%s\n", text);
	}
}

/* A duration in the unit that suits it, hyperfine-style: "1.234 s", "12.35 ms", "850.2 µs". */
static void fmt_duration(char *buf, size_t cap, double s)
{
	double a = fabs(s);
	if (a == 0) {
		snprintf(buf, cap, "0 s");
	} else if (a >= 1.0) {
		snprintf(buf, cap, "%.3f s", s);
	} else if (a >= 1e-3) {
		snprintf(buf, cap, "%.2f ms", s * 1e3);
	} else if (a >= 1e-6) {
		snprintf(buf, cap, "%.1f µs", s * 1e6);
	} else {
		snprintf(buf, cap, "%.0f ns", s * 1e9);
	}
}

/* A "label: duration" line; a duration that is not finite was not measured. */
static void put_duration(FILE *out, const style *st, const sc_profile *p, const char *label,
                         const char *field, double seconds)
{
	char buf[32];
	const char *text = NULL;
	if (isfinite(seconds)) {
		fmt_duration(buf, sizeof buf, seconds);
		text = buf;
	}
	put_line(out, st, p, label, field, text);
}

/* v with the given decimals and unit ("12.3 MB"), or NULL when it is not finite (not measured). */
static const char *fmt_real(char *buf, size_t cap, double v, int decimals, const char *unit)
{
	if (!isfinite(v)) {
		return NULL;
	}
	snprintf(buf, cap, "%.*f%s", decimals, v, unit);
	return buf;
}

static const char *fmt_count(char *buf, size_t cap, int64_t v)
{
	if (v < 0) {
		return NULL;
	}
	snprintf(buf, cap, "%" PRId64, v);
	return buf;
}

static const char *fmt_bytes(char *buf, size_t cap, int64_t v)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	if (v < 0) {
		return NULL;
	}
	double x = (double)v;
	size_t u = 0;
	while (x >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
		x /= 1024.0;
		u++;
	}
	if (u == 0) {
		snprintf(buf, cap, "%" PRId64 " B", v);
	} else {
		snprintf(buf, cap, "%.1f %s", x, units[u]);
	}
	return buf;
}

static void heading(FILE *out, const style *st, const char *text)
{
	fprintf(out, "\n%s%s%s\n", st->bold, text, st->reset);
}

static void print_memory(FILE *out, const style *st, const sc_profile *p)
{
	const sc_memory_profile *m = &p->memory;
	char buf[64];
	heading(out, st, "Memory Profile:");
	put_line(out, st, p, "Baseline", "memory.baseline_memory_mb",
	         fmt_real(buf, sizeof buf, m->baseline_memory_mb, 1, " MB"));
	put_line(out, st, p, "Peak", "memory.peak_memory_mb",
	         fmt_real(buf, sizeof buf, m->peak_memory_mb, 1, " MB"));
	put_line(out, st, p, "Increase", "memory.memory_increase_mb",
	         fmt_real(buf, sizeof buf, m->memory_increase_mb, 1, " MB"));
}

/* The seed's three lines; for a command, total time is the mean over the timed runs. */
static void print_time(FILE *out, const style *st, const sc_profile *p)
{
	char buf[96];
	heading(out, st, "Time Profile:");
	const char *total = fmt_real(buf, sizeof buf, p->total_time.mean, 4, " seconds");
	if (total && p->total_time.n > 1) {
		size_t len = strlen(buf);
		snprintf(buf + len, sizeof buf - len, " (mean of %zu runs)", p->total_time.n);
	}
	put_line(out, st, p, "Total time", "time.total_time", total);
	put_line(out, st, p, "Throughput", "time.throughput_samples_per_sec",
	         fmt_real(buf, sizeof buf, p->throughput_samples_per_sec, 1, " predictions/sec"));
	/* The seed prints 4 decimals of ms; below 0.1 ms that would hide all but one or two digits,
	 * so small figures keep 4 significant digits instead. */
	const char *avg = NULL;
	double avg_ms = p->avg_time_per_sample * 1e3;
	if (isfinite(avg_ms)) {
		snprintf(buf, sizeof buf, fabs(avg_ms) >= 0.1 ? "%.4f ms" : "%.4g ms", avg_ms);
		avg = buf;
	}
	put_line(out, st, p, "Avg time per prediction", "time.avg_time_per_sample", avg);
}

/* Two durations joined by sep ("1.0 ms … 2.0 ms"), or NULL when either was not measured. */
static const char *fmt_pair(char *buf, size_t cap, double a, const char *sep, double b)
{
	if (!isfinite(a) || !isfinite(b)) {
		return NULL;
	}
	char x[32], y[32];
	fmt_duration(x, sizeof x, a);
	fmt_duration(y, sizeof y, b);
	snprintf(buf, cap, "%s%s%s", x, sep, y);
	return buf;
}

/* The spread of the run times, hyperfine-style. */
static void print_spread(FILE *out, const style *st, const sc_profile *p)
{
	const sc_summary *t = &p->total_time;
	char line[128];
	heading(out, st, "Across runs:");
	put_line(out, st, p, "Time (mean ± σ)", "time.total_time",
	         fmt_pair(line, sizeof line, t->mean, " ± ", t->stddev));
	put_line(out, st, p, "95% CI of the mean", "time.total_time.ci95",
	         fmt_pair(line, sizeof line, t->ci95_low, " … ", t->ci95_high));
	put_duration(out, st, p, "Median", "time.total_time", t->median);
	put_line(out, st, p, "Range (min … max)", "time.total_time",
	         fmt_pair(line, sizeof line, t->min, " … ", t->max));
	snprintf(line, sizeof line, "%zu timed, %zu warm-up", p->n_runs, p->n_warmup);
	put_line(out, st, p, "Runs", NULL, line);
	snprintf(line, sizeof line, "%zu (modified z-score > 3.5)", t->outliers);
	put_line(out, st, p, "Outliers", NULL, line);
}

static void print_latency(FILE *out, const style *st, const sc_profile *p)
{
	const sc_latency *l = &p->latency;
	if (!l->available) {
		heading(out, st, "Latency per prediction:");
		put_line(out, st, p, "Percentiles", "time.latency_ms", NULL);
		return;
	}
	char title[128];
	snprintf(title, sizeof title, "Latency per prediction (source: %s, %" PRIu64 " value%s):",
	         l->source ? l->source : "unknown", l->count, l->count == 1 ? "" : "s");
	heading(out, st, title);
	const struct {
		const char *label;
		double ms;
	} rows[] = {{"mean", l->mean_ms}, {"p50", l->p50_ms}, {"p90", l->p90_ms},
	            {"p95", l->p95_ms},   {"p99", l->p99_ms}, {"p99.9", l->p999_ms},
	            {"max", l->max_ms}};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		put_duration(out, st, p, rows[i].label, "time.latency_ms", rows[i].ms / 1e3);
	}
}

static void print_resources(FILE *out, const style *st, const sc_profile *p)
{
	const sc_resources *r = &p->resources;
	char buf[96];
	heading(out, st, p->n_runs > 0 ? "Resources (mean per run):" : "Resources:");
	put_duration(out, st, p, "CPU user", "resources.cpu_user_s", r->cpu_user_s);
	put_duration(out, st, p, "CPU system", "resources.cpu_sys_s", r->cpu_sys_s);
	put_line(out, st, p, "CPU utilisation", "resources.cpu_utilization",
	         fmt_real(buf, sizeof buf, r->cpu_utilization, 2, " cores busy"));
	if (p->n_runs > 0) {
		double lo = INFINITY, hi = -INFINITY;
		for (size_t i = 0; i < p->n_runs; i++) {
			lo = fmin(lo, p->runs[i].peak_rss_mb);
			hi = fmax(hi, p->runs[i].peak_rss_mb);
		}
		const char *text = NULL;
		if (isfinite(lo) && isfinite(hi)) {
			snprintf(buf, sizeof buf, "%.1f MB … %.1f MB over the timed runs", lo, hi);
			text = buf;
		}
		put_line(out, st, p, "Peak RSS", "runs.peak_rss_mb", text);
	}
	put_line(out, st, p, "Storage read", "resources.read_bytes",
	         fmt_bytes(buf, sizeof buf, r->read_bytes));
	put_line(out, st, p, "Storage write", "resources.write_bytes",
	         fmt_bytes(buf, sizeof buf, r->write_bytes));
	put_line(out, st, p, "Minor page faults", "resources.minor_faults",
	         fmt_count(buf, sizeof buf, r->minor_faults));
	put_line(out, st, p, "Major page faults", "resources.major_faults",
	         fmt_count(buf, sizeof buf, r->major_faults));
	put_line(out, st, p, "Voluntary ctx switches", "resources.voluntary_context_switches",
	         fmt_count(buf, sizeof buf, r->voluntary_context_switches));
	put_line(out, st, p, "Involuntary ctx switches", "resources.involuntary_context_switches",
	         fmt_count(buf, sizeof buf, r->involuntary_context_switches));
}

/* The sampled run: how many points, how often, and the peaks of the whole process tree. */
static void print_timeline(FILE *out, const style *st, const sc_profile *p)
{
	if (p->n_timeline == 0) {
		if (reason_for(p, "memory.timeline_interval_s")) {
			put_line(out, st, p, "Timeline", "memory.timeline_interval_s", NULL);
		}
		return;
	}
	double rss = 0, cpu = 0;
	int procs = 0;
	for (size_t i = 0; i < p->n_timeline; i++) {
		rss = fmax(rss, p->timeline[i].rss_mb);
		cpu = fmax(cpu, p->timeline[i].cpu_percent);
		procs = p->timeline[i].processes > procs ? p->timeline[i].processes : procs;
	}
	char every[32], buf[160];
	fmt_duration(every, sizeof every, p->timeline_interval_s);
	snprintf(buf, sizeof buf,
	         "%zu points every %s; tree peak %.1f MB, %.0f%% CPU, %d process%s", p->n_timeline,
	         every, rss, cpu, procs, procs == 1 ? "" : "es");
	put_line(out, st, p, "Timeline", NULL, buf);
}

/* ---- the heap profile ----------------------------------------------------------------------- */

/* The last component of a path: source paths are long, and the line needs only the file. */
static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Whether path is a shared library of the system (the C library, say) rather than the program's. */
static bool system_module(const char *path)
{
	static const char *const dirs[] = {"/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/"};
	for (size_t i = 0; path && i < sizeof dirs / sizeof dirs[0]; i++) {
		if (strncmp(path, dirs[i], strlen(dirs[i])) == 0) {
			return true;
		}
	}
	return false;
}

/* The frame that best says where a site is: the innermost, the code that called the allocator,
 * unless that is a system library's helper (strdup, fopen): then the first frame outside the
 * system libraries that has a name, which is the program's code that asked for the memory. */
static size_t telling_frame(const sc_heap_site *site)
{
	if (!system_module(site->frames[0].module)) {
		return 0;
	}
	for (size_t i = 1; i < site->n_frames; i++) {
		const sc_heap_frame *f = &site->frames[i];
		if (f->module && !system_module(f->module) && f->function) {
			return i;
		}
	}
	return 0;
}

/* "function (file:line)", "function (file:line) via strdup", "?? (module+0x1f0)" or "??". */
static void fmt_site(char *buf, size_t cap, const sc_heap_site *site)
{
	if (site->n_frames == 0) {
		snprintf(buf, cap, "??");
		return;
	}
	size_t k = telling_frame(site);
	const sc_heap_frame *f = &site->frames[k];
	int n = snprintf(buf, cap, "%s", f->function ? f->function : "??");
	if (n >= 0 && (size_t)n < cap && f->file) {
		n += snprintf(buf + n, cap - (size_t)n, " (%s:%d)", base_name(f->file), f->line);
	} else if (n >= 0 && (size_t)n < cap && f->module) {
		n += snprintf(buf + n, cap - (size_t)n, " (%s+0x%" PRIx64 ")", base_name(f->module),
		              f->offset);
	}
	if (k > 0 && n >= 0 && (size_t)n < cap) {
		const char *inner = site->frames[0].function;
		snprintf(buf + n, cap - (size_t)n, " via %s", inner ? inner : "??");
	}
}

/* One numbered site line: where, then its bytes and allocations (estimates when sampled). */
static void put_site(FILE *out, const style *st, const sc_heap_profile *h, const sc_heap_site *site,
                     size_t rank, bool leaks)
{
	char where[320], bytes[32], err[48] = "";
	fmt_site(where, sizeof where, site);
	if (leaks) {
		fmt_bytes(bytes, sizeof bytes, (int64_t)llround(site->leaked_bytes));
		fprintf(out, "    %zu. %s — %s in %.0f block%s", rank, where, bytes,
		        site->leaked_blocks, llround(site->leaked_blocks) == 1 ? "" : "s");
		if (isfinite(site->lost_bytes)) {
			fmt_bytes(bytes, sizeof bytes, (int64_t)llround(site->lost_bytes));
			fprintf(out, " (%s lost)", bytes);
		}
		fputc('\n', out);
		return;
	}
	fmt_bytes(bytes, sizeof bytes, (int64_t)llround(site->bytes));
	if (strcmp(h->sites_mode ? h->sites_mode : "", "all") != 0 && site->bytes_error > 0) {
		snprintf(err, sizeof err, " %s±%.0f%%%s", st->dim, site->bytes_error * 100,
		         st->reset);
	}
	fprintf(out, "    %zu. %s — %s%s, %.0f allocation%s\n", rank, where, bytes, err,
	        site->allocations, llround(site->allocations) == 1 ? "" : "s");
}

/* Up to 3 sites that leaked, most leaked bytes first (sites are sorted by bytes allocated). */
static void print_leak_sites(FILE *out, const style *st, const sc_heap_profile *h)
{
	enum { TOP_LEAKS = 3 };
	const sc_heap_site *top[TOP_LEAKS];
	size_t n = 0;
	for (size_t i = 0; i < h->n_sites; i++) {
		const sc_heap_site *s = &h->sites[i];
		if (!(s->leaked_bytes > 0)) {
			continue;
		}
		size_t k = n < TOP_LEAKS ? n++ : TOP_LEAKS;
		while (k > 0 && top[k - 1]->leaked_bytes < s->leaked_bytes) {
			if (k < TOP_LEAKS) {
				top[k] = top[k - 1];
			}
			k--;
		}
		if (k < TOP_LEAKS) {
			top[k] = s;
		}
	}
	if (n == 0) {
		return;
	}
	fprintf(out, "  Top sites by leaked bytes:\n");
	for (size_t i = 0; i < n; i++) {
		put_site(out, st, h, top[i], i + 1, true);
	}
}

/* "9 (9 frees)" style counts, "2 blocks, 150 B" leaks: each a line of the heap section. */
static void print_heap_counts(FILE *out, const style *st, const sc_profile *p)
{
	const sc_heap_profile *h = &p->heap;
	char buf[200], a[32], b[32];
	if (h->allocations >= 0 && h->frees >= 0) {
		snprintf(buf, sizeof buf, "%" PRId64 " (%" PRId64 " frees)", h->allocations,
		         h->frees);
		put_line(out, st, p, "Allocations", "heap.allocations", buf);
	} else {
		put_line(out, st, p, "Allocations", "heap.allocations", NULL);
	}
	put_line(out, st, p, "Bytes allocated", "heap.bytes_allocated",
	         fmt_bytes(buf, sizeof buf, h->bytes_allocated));
	const char *temp = NULL;
	if (h->temporary_allocations >= 0) {
		double share = h->allocations > 0 ? 100.0 * (double)h->temporary_allocations /
		                                        (double)h->allocations
		                                  : 0;
		snprintf(buf, sizeof buf, "%" PRId64 " (%.1f%% of allocations)",
		         h->temporary_allocations, share);
		temp = buf;
	}
	put_line(out, st, p, "Temporary allocations", "heap.temporary_allocations", temp);
	if (isfinite(h->allocations_per_sample)) {
		snprintf(buf, sizeof buf, "%.4g", h->allocations_per_sample);
		put_line(out, st, p, "Allocs per prediction", "heap.allocations_per_sample", buf);
	}
	const char *peak = NULL;
	if (fmt_bytes(a, sizeof a, h->peak_live_bytes)) {
		int n = snprintf(buf, sizeof buf, "%s", a);
		if (isfinite(h->peak_live_s)) {
			n +=
			    snprintf(buf + n, sizeof buf - (size_t)n, " at %.3f s", h->peak_live_s);
		}
		if (h->peak_live_error_bytes > 0 &&
		    fmt_bytes(b, sizeof b, h->peak_live_error_bytes)) {
			n += snprintf(buf + n, sizeof buf - (size_t)n, " (± %s)", b);
		} else if (h->peak_live_error_bytes < 0) {
			/* Several threads' records interleave with no bound the collector can give.
			 */
			n += snprintf(buf + n, sizeof buf - (size_t)n, " (± unknown)");
		}
		if (h->live_basis) {
			snprintf(buf + n, sizeof buf - (size_t)n, " %s[%s sizes]%s", st->dim,
			         h->live_basis, st->reset);
		}
		peak = buf;
	}
	put_line(out, st, p, "Peak live heap", "heap.peak_live_bytes", peak);
	const char *leaked = NULL;
	if (h->leaked_blocks >= 0 && fmt_bytes(a, sizeof a, h->leaked_bytes)) {
		int n = snprintf(buf, sizeof buf, "%" PRId64 " block%s, %s", h->leaked_blocks,
		                 h->leaked_blocks == 1 ? "" : "s", a);
		if (h->lost_blocks >= 0 && h->reachable_blocks >= 0 &&
		    fmt_bytes(a, sizeof a, h->lost_bytes) &&
		    fmt_bytes(b, sizeof b, h->reachable_bytes)) {
			snprintf(buf + n, sizeof buf - (size_t)n,
			         " (lost: %" PRId64 ", %s; still reachable: %" PRId64 ", %s)",
			         h->lost_blocks, a, h->reachable_blocks, b);
		}
		leaked = buf;
	}
	put_line(out, st, p, "Leaked at exit", "heap.leaked_bytes", leaked);
}

/* The allocator, the run itself and the shim's cost. */
static void print_heap_run(FILE *out, const style *st, const sc_profile *p)
{
	const sc_heap_profile *h = &p->heap;
	char buf[200], a[32], b[32];
	if (h->arena_bytes >= 0 && h->in_use_bytes >= 0) {
		fmt_bytes(a, sizeof a, h->arena_bytes);
		fmt_bytes(b, sizeof b, h->in_use_bytes);
		double frag = h->arena_bytes > 0
		                  ? 100.0 * (double)(h->arena_bytes - h->in_use_bytes) /
		                        (double)h->arena_bytes
		                  : 0;
		snprintf(buf, sizeof buf, "%s, %s in use at exit (fragmentation %.1f%%)", a, b,
		         frag);
		put_line(out, st, p, "Allocator arena", "heap.arena_bytes", buf);
	}
	if (isfinite(h->run_peak_rss_mb)) {
		int n = snprintf(buf, sizeof buf, "%.1f MB", h->run_peak_rss_mb);
		if (fmt_bytes(a, sizeof a, h->peak_live_bytes)) {
			snprintf(buf + n, sizeof buf - (size_t)n, " (peak live heap %s)", a);
		}
		put_line(out, st, p, "Peak RSS (heap run)", "heap.run_peak_rss_mb", buf);
	}
	if (isfinite(h->slowdown)) {
		snprintf(buf, sizeof buf, "%.2fx (%.3f s heap run)", h->slowdown, h->run_wall_s);
		put_line(out, st, p, "Shim overhead", "heap.slowdown", buf);
	}
	if (h->processes > 1) {
		snprintf(buf, sizeof buf, "%zu", h->processes);
		put_line(out, st, p, "Processes traced", NULL, buf);
	}
	if (h->sites_mode && strcmp(h->sites_mode, "all") == 0) {
		snprintf(buf, sizeof buf, "%zu, exact (every allocation recorded)", h->n_sites);
	} else {
		fmt_bytes(a, sizeof a, (int64_t)h->sample_bytes);
		snprintf(buf, sizeof buf, "%zu, estimated (one sample per %s allocated on average)",
		         h->n_sites, h->sample_bytes > 0 ? a : "?");
	}
	put_line(out, st, p, "Allocation sites", NULL, buf);
}

/* The seed's "Heap Profile" printout, from the run under the heap shim. */
static void print_heap(FILE *out, const style *st, const sc_profile *p)
{
	const sc_heap_profile *h = &p->heap;
	if (!h->available) {
		/* In-process profiles say nothing about the heap unless something measured it. */
		if (h->reason[0]) {
			fprintf(out, "\n%sHeap Profile:%s %sunavailable — %s%s\n", st->bold,
			        st->reset, st->dim, h->reason, st->reset);
		}
		return;
	}
	if (h->complete) {
		heading(out, st, "Heap Profile:");
	} else {
		char title[200];
		snprintf(title, sizeof title, "Heap Profile (incomplete: %s):",
		         h->incomplete_reason[0] ? h->incomplete_reason : "the run ended early");
		heading(out, st, title);
	}
	print_heap_counts(out, st, p);
	print_heap_run(out, st, p);
	enum { TOP_SITES = 5 };
	if (h->n_sites > 0) {
		fprintf(out, "  Top sites by bytes allocated:\n");
		for (size_t i = 0; i < h->n_sites && i < TOP_SITES; i++) {
			put_site(out, st, h, &h->sites[i], i + 1, false);
		}
	}
	print_leak_sites(out, st, h);
}

/* The leak check's verdict, when one was made (sc_leak_check, or the command's timeline). */
static void print_leak(FILE *out, const style *st, const sc_profile *p)
{
	const sc_leak_result *l = &p->leak;
	if (!l->verdict) {
		return;
	}
	char buf[200];
	/* A command's leak check fits its timeline, so its slope is per second, not per iteration.
	 */
	const char *per = p->kind && strcmp(p->kind, "command") == 0 ? "second" : "iteration";
	heading(out, st, "Leak check:");
	snprintf(buf, sizeof buf, "%s%s%s (basis: %s)",
	         strcmp(l->verdict, "leak") == 0 ? st->warn : "", l->verdict, st->reset,
	         l->basis ? l->basis : "unknown");
	put_line(out, st, p, "Verdict", NULL, buf);
	if (isfinite(l->slope_bytes)) {
		int n = snprintf(buf, sizeof buf, "%.0f bytes per %s", l->slope_bytes, per);
		if (isfinite(l->slope_ci95_low) && isfinite(l->slope_ci95_high)) {
			snprintf(buf + n, sizeof buf - (size_t)n, " (95%% CI %.0f … %.0f)",
			         l->slope_ci95_low, l->slope_ci95_high);
		}
		put_line(out, st, p, "Growth", NULL, buf);
	}
	if (isfinite(l->second_half_slope_bytes)) {
		snprintf(buf, sizeof buf, "%.0f bytes per %s", l->second_half_slope_bytes, per);
		put_line(out, st, p, "Growth, second half", NULL, buf);
	}
	snprintf(buf, sizeof buf, "%zu measured, %zu warm-up", l->iterations, l->warmup);
	put_line(out, st, p, "Iterations", NULL, buf);
	if (l->reason[0]) {
		put_line(out, st, p, "Why", NULL, l->reason);
	}
}

/* ---- CPU samples ---------------------------------------------------------------------------- */

/* A count with thousands separators, "4,210", as the findings write them. */
static const char *fmt_grouped(char *buf, size_t cap, uint64_t v)
{
	char digits[32];
	snprintf(digits, sizeof digits, "%" PRIu64, v);
	size_t n = strlen(digits), o = 0;
	for (size_t i = 0; i < n && o + 1 < cap; i++) {
		buf[o++] = digits[i];
		if ((n - i - 1) % 3 == 0 && i + 1 < n && o + 1 < cap) {
			buf[o++] = ',';
		}
	}
	buf[o] = '\0';
	return buf;
}

/* The last two components of a source path ("nba/gbm.c"), as the cpu-hotspot finding writes it. */
static const char *short_path(const char *path)
{
	const char *last = strrchr(path, '/');
	if (!last) {
		return path;
	}
	const char *prev = last;
	while (prev > path && prev[-1] != '/') {
		prev--;
	}
	return prev;
}

/* Where a hot function is: "nba/gbm.c:212", the library ("libc.so.6") when it is the system's or
 * has no source line, or "" when nothing is known. */
static void fmt_hotspot_where(char *buf, size_t cap, const sc_cpu_hotspot *h)
{
	if (h->file && !system_module(h->module)) {
		if (h->line > 0) {
			snprintf(buf, cap, "%s:%d", short_path(h->file), h->line);
		} else {
			snprintf(buf, cap, "%s", short_path(h->file));
		}
	} else if (h->module && !(h->function && strncmp(h->function, base_name(h->module),
	                                                 strlen(base_name(h->module))) == 0)) {
		/* An unsymbolized "libfoo.so+0x1a2b" names its module already. */
		snprintf(buf, cap, "%s", base_name(h->module));
	} else {
		buf[0] = '\0';
	}
}

/* "perf_event, 997 Hz, 4,210 samples (0 lost), frame-pointer stacks, 2 threads". */
static void fmt_sampler(char *buf, size_t cap, const sc_cpu_profile *c)
{
	char n[32], lost[32];
	int k = snprintf(buf, cap, "%s", c->sampler ? c->sampler : "unknown");
	if (k >= 0 && (size_t)k < cap && c->sampler_note[0]) {
		k += snprintf(buf + k, cap - (size_t)k, " (%s)", c->sampler_note);
	}
	if (k >= 0 && (size_t)k < cap) {
		k += snprintf(buf + k, cap - (size_t)k, ", %.0f Hz, %s sample%s (%s lost)",
		              c->rate_hz, fmt_grouped(n, sizeof n, c->samples),
		              c->samples == 1 ? "" : "s",
		              fmt_grouped(lost, sizeof lost, c->lost_samples));
	}
	if (k >= 0 && (size_t)k < cap && c->call_graph) {
		k += snprintf(buf + k, cap - (size_t)k, ", %s stacks",
		              strcmp(c->call_graph, "dwarf") == 0 ? "DWARF-unwound"
		                                                  : "frame-pointer");
	}
	if (k >= 0 && (size_t)k < cap && (c->threads > 1 || c->processes > 1)) {
		snprintf(buf + k, cap - (size_t)k, ", %zu thread%s in %zu process%s", c->threads,
		         c->threads == 1 ? "" : "s", c->processes, c->processes == 1 ? "" : "es");
	}
}

/* The sampler, the top functions by self samples (with their total share), and the hottest line
 * of the first: where the CPU time goes (docs/metrics.md, "CPU samples"). */
static void print_cpu(FILE *out, const style *st, const sc_profile *p)
{
	const sc_cpu_profile *c = &p->cpu;
	if (!c->available) {
		/* In-process profiles say nothing unless something tried to sample them. */
		if (c->reason[0]) {
			fprintf(out, "\n%sCPU Hotspots:%s %sunavailable — %s%s\n", st->bold,
			        st->reset, st->dim, c->reason, st->reset);
		}
		return;
	}
	enum { TOP_FUNCTIONS = 5, MAX_NAME = 40 };
	char buf[600];
	heading(out, st, "CPU Hotspots:");
	fmt_sampler(buf, sizeof buf, c);
	put_line(out, st, p, "Sampler", NULL, buf);
	size_t n = 0;
	int width = 8;
	while (n < c->n_hotspots && n < TOP_FUNCTIONS && c->hotspots[n].self_samples > 0) {
		const char *f = c->hotspots[n].function ? c->hotspots[n].function : "??";
		int len = display_width(f);
		width = len > width ? (len < MAX_NAME ? len : MAX_NAME) : width;
		n++;
	}
	if (n == 0) {
		return;
	}
	fprintf(out, "  %s%7s %7s  %-*s  %s%s\n", st->dim, "self", "total", width, "function",
	        "where", st->reset);
	for (size_t i = 0; i < n; i++) {
		const sc_cpu_hotspot *h = &c->hotspots[i];
		char where[160];
		fmt_hotspot_where(where, sizeof where, h);
		fprintf(out, "  %6.1f%% %6.1f%%  %-*.*s  %s\n", h->self_percent, h->total_percent,
		        width, width, h->function ? h->function : "??", where);
	}
	const sc_cpu_hotspot *top = &c->hotspots[0];
	if (top->n_lines > 0 && top->lines[0].file) {
		snprintf(buf, sizeof buf, "%s:%d in %s (%.1f%% of samples)",
		         base_name(top->lines[0].file), top->lines[0].line,
		         top->function ? top->function : "??", top->lines[0].percent);
		put_line(out, st, p, "Hottest line", NULL, buf);
	}
}

/* One duration cell of the components table; "-" when not measured. */
static const char *component_cell(char *buf, size_t cap, double seconds)
{
	if (!isfinite(seconds)) {
		return "-";
	}
	fmt_duration(buf, cap, seconds);
	return buf;
}

/* text right-aligned in width columns ("µs" is two bytes but one column). */
static void put_cell(FILE *out, const char *text, int width)
{
	int pad = width - display_width(text);
	fprintf(out, " %*s%s", pad > 0 ? pad : 0, "", text);
}

/* The regions (docs/metrics.md, "Regions"), children indented under their parent. */
static void print_components(FILE *out, const style *st, const sc_profile *p)
{
	if (p->n_regions == 0) {
		return;
	}
	heading(out, st, p->n_runs > 0 ? "Components (mean per run):" : "Components:");
	fprintf(out, "  %s%-28s %9s %10s %10s %7s %10s %10s %9s%s\n", st->dim, "region", "calls",
	        "total", "self", "share", "p50", "p99", "allocs", st->reset);
	for (size_t i = 0; i < p->n_regions; i++) {
		const sc_region_stats *g = &p->regions[i];
		char name[96], total[32], self[32], p50[32], p99[32], share[16], allocs[24];
		int indent = g->depth < 8 ? 2 * g->depth : 16;
		snprintf(name, sizeof name, "%*s%s", indent, "", g->name);
		snprintf(share, sizeof share, isfinite(g->share) ? "%.1f%%" : "-", g->share * 100);
		const sc_latency *l = &g->latency;
		fprintf(out, "  %-28.28s %9" PRIu64, name, g->calls);
		put_cell(out, component_cell(total, sizeof total, g->total_s), 10);
		put_cell(out, component_cell(self, sizeof self, g->self_s), 10);
		put_cell(out, share, 7);
		double p50_s = l->available ? l->p50_ms / 1e3 : NAN;
		double p99_s = l->available ? l->p99_ms / 1e3 : NAN;
		put_cell(out, component_cell(p50, sizeof p50, p50_s), 10);
		put_cell(out, component_cell(p99, sizeof p99, p99_s), 10);
		put_cell(out, fmt_count(allocs, sizeof allocs, g->allocations) ? allocs : "-", 9);
		fputc('\n', out);
	}
}

static void print_profile(FILE *out, const style *st, const sc_profile *p)
{
	fprintf(out, "%sProfile: %s%s\n", st->bold, p->name ? p->name : "(unnamed)", st->reset);
	if (p->command && (!p->name || strcmp(p->name, p->command) != 0)) {
		fprintf(out, "  Command: %s\n", p->command);
	}
	fprintf(out, "  Kind: %s, %" PRIu64 " prediction%s per %s\n", p->kind ? p->kind : "unknown",
	        p->n_samples, p->n_samples == 1 ? "" : "s", p->n_runs > 0 ? "run" : "call");
	print_memory(out, st, p);
	print_time(out, st, p);
	if (p->n_runs > 0) {
		print_spread(out, st, p);
	}
	print_latency(out, st, p);
	print_components(out, st, p);
	print_resources(out, st, p);
	print_timeline(out, st, p);
	print_heap(out, st, p);
	print_leak(out, st, p);
	print_cpu(out, st, p);
}

static void print_warnings(FILE *out, const style *st, const sc_report *r)
{
	size_t total = 0;
	for (size_t i = 0; i < r->n_profiles; i++) {
		total += r->profiles[i].n_warnings;
	}
	if (total == 0) {
		return;
	}
	heading(out, st, "Warnings:");
	for (size_t i = 0; i < r->n_profiles; i++) {
		const sc_profile *p = &r->profiles[i];
		for (size_t k = 0; k < p->n_warnings; k++) {
			const sc_warning *w = &p->warnings[k];
			fprintf(out, "  %s[%s]%s ", st->warn, w->id, st->reset);
			if (r->n_profiles > 1) {
				fprintf(out, "%s: ", p->name ? p->name : "(unnamed)");
			}
			fprintf(out, "%s\n      Action: %s\n", w->message, w->action);
		}
	}
}

/* ---- analysis: bottlenecks, recommendations, requirement checks, baseline -------------------- */

static const char *severity_name(sc_severity s)
{
	switch (s) {
	case SC_SEVERITY_CRITICAL:
		return "critical";
	case SC_SEVERITY_WARNING:
		return "warning";
	default:
		return "info";
	}
}

/* The profile a line is about, when the report holds several ("name: "), else nothing. */
static void put_profile_prefix(FILE *out, const sc_report *r, const char *profile)
{
	if (r->n_profiles > 1 && profile[0]) {
		fprintf(out, "%s: ", profile);
	}
}

static void print_bottlenecks(FILE *out, const style *st, const sc_report *r)
{
	if (r->n_recommendations == 0) {
		return; /* not analysed */
	}
	heading(out, st, "Bottlenecks:");
	if (r->n_bottlenecks == 0) {
		fprintf(out, "  none found\n");
	}
	for (size_t i = 0; i < r->n_bottlenecks; i++) {
		const sc_bottleneck *b = &r->bottlenecks[i];
		fprintf(out, "  %zu. %s[%s %s]%s ", i + 1,
		        b->severity == SC_SEVERITY_INFO ? st->dim : st->warn,
		        severity_name(b->severity), b->id, st->reset);
		put_profile_prefix(out, r, b->profile);
		fprintf(out, "%s (confidence %.0f%%)\n", b->message, 100 * b->confidence);
	}
	heading(out, st, "Recommendations:");
	for (size_t i = 0; i < r->n_recommendations; i++) {
		const sc_recommendation *c = &r->recommendations[i];
		fprintf(out, "  %zu. ", i + 1);
		put_profile_prefix(out, r, c->profile);
		if (c->finding[0]) {
			fprintf(out, "%s%s%s (for %s): %s\n      Expected: %s\n", st->bold, c->id,
			        st->reset, c->finding, c->action, c->expected);
		} else {
			fprintf(out, "%s%s%s: %s\n      Why: %s\n", st->bold, c->id, st->reset,
			        c->action, c->evidence);
		}
	}
}

/* A figure for a table cell: "unavailable" when not measured. */
static const char *cell(char *buf, size_t cap, double v)
{
	if (!isfinite(v)) {
		return "unavailable";
	}
	snprintf(buf, cap, "%.4g", v);
	return buf;
}

/* The seed's "Production Readiness" printout, with the figures behind each PASS or FAIL: the
 * point value, the conservative end of its 95% interval (the one compared) and the limit. */
static void print_checks(FILE *out, const style *st, const sc_report *r)
{
	if (r->n_checks == 0) {
		return;
	}
	heading(out, st, "Production Readiness:");
	fprintf(out, "  %-28s %-20s %12s %12s %12s  %s\n", "requirement", "profile", "value",
	        "95% bound", "limit", "result");
	for (size_t i = 0; i < r->n_checks; i++) {
		const sc_check *c = &r->checks[i];
		char v[32], b[32], l[32];
		fprintf(out, "  %-28s %-20.20s %12s %12s %12s  %s%s%s\n", c->name, c->profile,
		        cell(v, sizeof v, c->value), cell(b, sizeof b, c->bound),
		        cell(l, sizeof l, c->limit), c->pass ? "" : st->warn,
		        c->pass ? "✅ PASS" : "❌ FAIL", st->reset);
		if (c->reason[0]) {
			fprintf(out, "  %-28s %s%s%s\n", "", st->dim, c->reason, st->reset);
		}
	}
}

static void print_regressions(FILE *out, const style *st, const sc_report *r,
                              const char *baseline_path)
{
	if (r->n_regressions == 0) {
		return;
	}
	char title[4200];
	snprintf(title, sizeof title, "Baseline comparison%s%s (max regression %.4g%%):",
	         baseline_path ? " against " : "", baseline_path ? baseline_path : "",
	         100 * r->max_regression);
	heading(out, st, title);
	fprintf(out, "  %-20s %-22s %12s %12s %20s  %s\n", "profile", "metric", "old", "new",
	        "change (95%)", "verdict");
	for (size_t i = 0; i < r->n_regressions; i++) {
		const sc_regression *g = &r->regressions[i];
		char o[32], n[32], change[48] = "unavailable";
		bool exact = g->method && strcmp(g->method, "exact") == 0;
		bool point = g->method && strcmp(g->method, "point") == 0;
		if (isfinite(g->change)) {
			int k = snprintf(change, sizeof change, "%+.2f%%", 100 * g->change);
			if (isfinite(g->change_error) && !exact) {
				snprintf(change + k, sizeof change - (size_t)k, " ± %.2f%%",
				         100 * g->change_error);
			}
		} else if (isinf(g->change)) {
			snprintf(change, sizeof change, "%s", g->change > 0 ? "+inf" : "-inf");
		}
		const char *verdict = g->regression    ? "❌ REGRESSION"
		                      : g->improvement ? "improvement"
		                      : point          ? "not tested (no spread)"
		                                       : "ok";
		fprintf(out, "  %-20.20s %-22s %12s %12s %20s  %s%s%s\n", g->profile, g->metric,
		        cell(o, sizeof o, g->old_value), cell(n, sizeof n, g->new_value), change,
		        g->regression ? st->warn : "", verdict, st->reset);
	}
}

static void print_verdict(FILE *out, const style *st, const sc_report *r)
{
	if (!r->verdict) {
		return;
	}
	bool pass = strcmp(r->verdict, "pass") == 0;
	fprintf(out, "\n%s%s%s\n", pass ? st->bold : st->warn,
	        pass ? "✅ Verdict: pass — ready for production"
	             : "⚠️ Verdict: fail — NOT ready, optimisation needed",
	        st->reset);
}

void cli_judgement_print(FILE *out, const sc_report *r, const char *baseline_path, bool color)
{
	style st = make_style(color);
	print_checks(out, &st, r);
	print_regressions(out, &st, r, baseline_path);
	print_verdict(out, &st, r);
}

static void put_system(FILE *out, const char *key, const char *text)
{
	fprintf(out, "  %s: %s\n", key, text && text[0] ? text : "unavailable");
}

void cli_system_print(FILE *out, const sc_system_info *s, bool color)
{
	style st = make_style(color);
	char buf[64];
	fprintf(out, "%sSystem Stats:%s\n", st.bold, st.reset);
	snprintf(buf, sizeof buf, "%d", s->cpus);
	put_system(out, "cpus", s->cpus > 0 ? buf : NULL);
	put_system(out, "cpu_model", s->cpu_model);
	put_system(out, "kernel", s->kernel);
	put_system(out, "hostname", s->hostname);
	put_system(out, "memory_total_mb", fmt_real(buf, sizeof buf, s->memory_total_mb, 2, ""));
	put_system(out, "memory_available_mb",
	           fmt_real(buf, sizeof buf, s->memory_available_mb, 2, ""));
	const char *load = NULL;
	if (isfinite(s->load_avg[0]) && isfinite(s->load_avg[1]) && isfinite(s->load_avg[2])) {
		snprintf(buf, sizeof buf, "%.2f %.2f %.2f", s->load_avg[0], s->load_avg[1],
		         s->load_avg[2]);
		load = buf;
	}
	put_system(out, "load_avg", load);
	put_system(out, "disk_path", s->disk_path);
	put_system(out, "disk_total_gb", fmt_real(buf, sizeof buf, s->disk_total_gb, 2, ""));
	put_system(out, "disk_free_gb", fmt_real(buf, sizeof buf, s->disk_free_gb, 2, ""));
	put_system(out, "disk_used_percent",
	           fmt_real(buf, sizeof buf, s->disk_used_percent, 2, ""));
}

/* ---- comparison: candidates ranked side by side (sc_report_rank) ---------------------------- */

static const sc_profile *profile_named(const sc_report *r, const char *name)
{
	for (size_t i = 0; i < r->n_profiles; i++) {
		if (r->profiles[i].name && strcmp(r->profiles[i].name, name) == 0) {
			return &r->profiles[i];
		}
	}
	return NULL;
}

/* "2.31 ± 0.04× slower than fast (significant)", "fastest", or why it cannot be said. */
static void fmt_relative(char *buf, size_t cap, const sc_comparison_entry *e, const char *fastest)
{
	if (!isfinite(e->relative_speed)) {
		snprintf(buf, cap, "unavailable (not timed)");
	} else if (e->relative_speed == 1 && e->relative_speed_error == 0 &&
	           strcmp(e->profile, fastest) == 0) {
		snprintf(buf, cap, "fastest");
	} else if (!isfinite(e->relative_speed_error)) {
		snprintf(buf, cap, "%.2f× slower than %s (no spread: time more runs)",
		         e->relative_speed, fastest);
	} else {
		snprintf(buf, cap, "%.2f ± %.2f× slower than %s (%s)", e->relative_speed,
		         e->relative_speed_error, fastest,
		         e->significant ? "significant" : "not significant");
	}
}

static void print_comparison(FILE *out, const style *st, const sc_report *r)
{
	if (!r->comparison_sort || r->n_comparison == 0) {
		return;
	}
	const char *fastest = "";
	int width = 4;
	for (size_t i = 0; i < r->n_comparison; i++) {
		const sc_comparison_entry *e = &r->comparison[i];
		if (e->relative_speed == 1 && e->relative_speed_error == 0 && !fastest[0]) {
			fastest = e->profile;
		}
		int len = display_width(e->profile);
		width = len > width ? (len < 32 ? len : 32) : width;
	}
	char title[80];
	snprintf(title, sizeof title, "Comparison (sorted by %s):", r->comparison_sort);
	heading(out, st, title);
	fprintf(out, "  %4s  %-*s %14s %11s %11s %10s %13s  %s\n", "rank", width, "name",
	        "throughput/s", "p50 ms", "p99 ms", "peak MB", "allocs/sample", "relative speed");
	for (size_t i = 0; i < r->n_comparison; i++) {
		const sc_comparison_entry *e = &r->comparison[i];
		const sc_profile *p = profile_named(r, e->profile);
		char tp[32], p50[32], p99[32], mem[32], allocs[32], rel[200];
		const char *na = "-";
		const char *t =
		    p ? fmt_real(tp, sizeof tp, p->throughput_samples_per_sec, 1, "") : NULL;
		const char *l50 = p && p->latency.available
		                      ? fmt_real(p50, sizeof p50, p->latency.p50_ms, 3, "")
		                      : NULL;
		const char *l99 = p && p->latency.available
		                      ? fmt_real(p99, sizeof p99, p->latency.p99_ms, 3, "")
		                      : NULL;
		const char *m =
		    p ? fmt_real(mem, sizeof mem, p->memory.peak_memory_mb, 1, "") : NULL;
		const char *a =
		    p && p->heap.available
		        ? fmt_real(allocs, sizeof allocs, p->heap.allocations_per_sample, 1, "")
		        : NULL;
		fmt_relative(rel, sizeof rel, e, fastest);
		fprintf(out, "  %4zu  %-*.*s %14s %11s %11s %10s %13s  %s%s%s\n", e->rank, width,
		        width, e->profile, t ? t : na, l50 ? l50 : na, l99 ? l99 : na, m ? m : na,
		        a ? a : na, e->significant ? st->bold : "", rel,
		        e->significant ? st->reset : "");
	}
}

void cli_summary_print(FILE *out, const sc_report *r, bool color)
{
	style st = make_style(color);
	for (size_t i = 0; i < r->n_profiles; i++) {
		if (i > 0) {
			fputc('\n', out);
		}
		print_profile(out, &st, &r->profiles[i]);
	}
	print_comparison(out, &st, r);
	fputc('\n', out);
	cli_system_print(out, &r->system, color);
	print_warnings(out, &st, r);
	print_bottlenecks(out, &st, r);
	cli_judgement_print(out, r, NULL, color);
}

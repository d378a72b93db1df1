/* region.c: in-process regions (sc_region_begin/end): a profiler's table of components. */
#define _GNU_SOURCE
#include "cpu_samples.h"
#include "internal.h"

#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Cost model. A pipeline wraps every prediction, so begin and end do only this: find the region
 * (a direct-mapped cache keyed by the name's address and the parent hits for the same literal
 * every prediction; a miss hashes the text and probes a small open-addressing table), read the
 * tick counter (rdtsc where the TSC is invariant, the profiler's clock otherwise), and at end
 * record the elapsed ticks in the region's fixed-size histogram and add them to the totals.
 * Memory is read once per region (RSS at its first entry) and when the figures are taken; the
 * heap shim's counters are read at every begin and end only when the shim is loaded.
 *
 * CPU samples: begin and end also store the innermost open region's index (its entry, which is
 * its index in the figures) in the profiler's region slot, one int32_t that the in-process
 * sampler's signal handler reads to tag each sample. The sampler runs during
 * sc_profile_comprehensive and sc_profile_samples only, so regions entered outside them (the
 * "regions" profile) have no CPU figures: sampling them would take a timer running for the rest
 * of the program, between regions too, with no call that says when to stop it.
 *
 * Under `shotclock run` the CPU samples come from the instrumented run, whose sampler cannot read
 * the slot; there the environment names a region trace (region_trace.c), and a table made while it
 * is set also logs every begin and end to it, with the thread and the time. Elsewhere that costs
 * one branch on a field set when the table is made, never taken.
 *
 * Threads: a profiler's regions belong to one thread at a time (the table and the stack of open
 * regions are not locked, which is what keeps them cheap); profile each thread with its own
 * profiler. Only the list of tables that the channel flushes at exit is locked.
 */

#define MAX_DEPTH   32  /* deeper regions are dropped (counted), never a crash */
#define MAX_REGIONS 256 /* distinct (name, parent) pairs; later ones are dropped */
#define TABLE_SLOTS 512 /* open addressing, at most half full */
#define CACHE_SLOTS 64
#define NAME_CAP    64 /* sc_region_stats.name */

typedef struct entry {
	char name[NAME_CAP];
	int parent; /* entry index, -1 at the top level */
	int depth;
	uint64_t calls;
	uint64_t total; /* ticks, completed calls */
	uint64_t self;
	sc_histogram *hist;
	int64_t rss_first_kb; /* -1 unknown */
	int64_t allocations;  /* with the shim; -1 otherwise */
	int64_t bytes;
} entry;

typedef struct frame {
	int entry;
	uint64_t start;
	uint64_t child; /* ticks spent in completed child regions */
	uint64_t allocations;
	uint64_t bytes;
} frame;

typedef struct cache_slot {
	const char *name;
	int parent;
	int entry;
} cache_slot;

struct sc__regions {
	sc__clock clock;
	bool tsc;
	uint64_t tick0; /* calibration pair, read at creation */
	uint64_t mono0;
	uint64_t first; /* the first entry's start, and the last exit */
	uint64_t last;
	entry *entries;
	int n;
	int cap;
	int slots[TABLE_SLOTS]; /* entry index + 1; 0 empty */
	cache_slot cache[CACHE_SLOTS];
	frame stack[MAX_DEPTH];
	int depth;
	uint64_t overflow; /* begins beyond the stack (or the table) still open */
	uint64_t dropped;
	uint64_t unbalanced;
	heap_snapshot_fn snapshot;      /* the shim's, when it is loaded and counting */
	volatile int32_t *slot;         /* the profiler's: the innermost open entry, -1 none */
	sc__region_trace_writer *trace; /* SHOTCLOCK_REGION_TRACE's, with this table's id; NULL */
	uint16_t trace_table;
	/* The channel: tables alive in the process that wrote the variable's path. */
	struct sc__regions *next;
	bool registered; /* in the list */
	bool channel;    /* to be sent (once): SHOTCLOCK_REGIONS was set when it was made */
	pid_t pid;       /* the process that made it: a forked child sends nothing of it */
};

/* ---- the tick counter ------------------------------------------------------------------- */

static inline uint64_t ticks(const sc__regions *r)
{
#if defined(__x86_64__)
	if (r->tsc)
		return sc__rdtsc();
#endif
	return r->clock.now_ns(r->clock.ctx);
}

/* Nanoseconds per tick, calibrated over the table's life so far against CLOCK_MONOTONIC (the
 * same idea as sc_profile_samples); exactly 1 with the profiler's own clock. */
static double ns_per_tick(const sc__regions *r)
{
	if (!r->tsc)
		return 1.0;
#if defined(__x86_64__)
	uint64_t t = sc__rdtsc(), m = sc__now_ns();
	if (t > r->tick0 && m > r->mono0)
		return (double)(m - r->mono0) / (double)(t - r->tick0);
#endif
	return 1.0;
}

/* ---- memory --------------------------------------------------------------------------- */

/* VmRSS from /proc/self/statm (cheaper to parse than status): one read of a few µs, so only at
 * a region's first entry and when figures are taken, never per call. */
static int64_t rss_kb(void)
{
	char text[256];
	size_t len;
	sc__proc_statm st;
	if (sc__read_text_file("/proc/self/statm", text, sizeof text, &len) != 0 ||
	    sc__parse_proc_statm(text, &st) != 0)
		return -1;
	return (int64_t)st.resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* ---- the channel's list ----------------------------------------------------------------- */

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static sc__regions *live;
static pid_t live_pid; /* the process the list belongs to: a forked child writes nothing */
static bool exit_hook;

static void table_send(sc__regions *r);

static void flush_at_exit(void)
{
	pthread_mutex_lock(&live_lock);
	if (live_pid == getpid())
		for (sc__regions *r = live; r; r = r->next)
			table_send(r);
	live = NULL;
	pthread_mutex_unlock(&live_lock);
}

static const char *channel_path(void)
{
	const char *path = getenv(SC__REGIONS_ENV);
	return path && *path ? path : NULL;
}

/* Registered on the first region of a process run under `shotclock run`, so that a program that
 * never sets the variable pays nothing and registers no handler. */
static void table_register(sc__regions *r)
{
	if (!channel_path())
		return;
	pthread_mutex_lock(&live_lock);
	if (live_pid != getpid()) {
		live = NULL;
		live_pid = getpid();
	}
	if (!exit_hook)
		exit_hook = atexit(flush_at_exit) == 0;
	r->next = live;
	live = r;
	r->registered = r->channel = true;
	r->pid = getpid();
	pthread_mutex_unlock(&live_lock);
}

static void table_unregister(sc__regions *r)
{
	if (!r->registered)
		return;
	pthread_mutex_lock(&live_lock);
	for (sc__regions **q = &live; *q; q = &(*q)->next)
		if (*q == r) {
			*q = r->next;
			break;
		}
	r->registered = false;
	pthread_mutex_unlock(&live_lock);
}

/* ---- the table ------------------------------------------------------------------------- */

static sc__regions *table_new(sc_profiler *p)
{
	sc__regions *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->clock = sc__profiler_clock(p);
	r->slot = sc__profiler_region_slot(p);
#if defined(__x86_64__)
	r->tsc = r->clock.now_ns == sc__clock_real().now_ns && sc__tsc_usable();
	if (r->tsc) {
		r->tick0 = sc__rdtsc();
		r->mono0 = sc__now_ns();
	}
#endif
	/* Looked up once per table: present only when the shim is preloaded. */
	heap_snapshot_fn snap = (heap_snapshot_fn)dlsym(RTLD_DEFAULT, HEAP_SNAPSHOT_SYMBOL);
	struct heap_snapshot probe;
	if (snap && snap(&probe, 0) == 0)
		r->snapshot = snap;
	table_register(r);
	if ((r->trace = sc__region_trace_open()) != NULL &&
	    !(r->trace_table = sc__region_trace_table(r->trace)))
		r->trace = NULL;
	return r;
}

static void table_destroy(sc__regions *r)
{
	for (int i = 0; i < r->n; i++)
		sc_histogram_free(r->entries[i].hist);
	free(r->entries);
	free(r);
}

void sc__regions_free(sc__regions *r)
{
	if (!r)
		return;
	table_unregister(r);
	table_send(r);
	table_destroy(r);
}

static uint32_t hash_text(const char *s, int parent)
{
	uint32_t h = 2166136261u ^ (uint32_t)parent; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static unsigned cache_index(const char *name, int parent)
{
	uintptr_t x = (uintptr_t)name ^ ((uintptr_t)(unsigned)parent << 7);
	return (unsigned)((x >> 3) ^ (x >> 11)) & (CACHE_SLOTS - 1);
}

/* The entry of (name, parent), made at its first entry; -1 when the table is full. */
static int find_entry(sc__regions *r, const char *name, int parent)
{
	char key[NAME_CAP];
	snprintf(key, sizeof key, "%s", name); /* a longer name is its first 63 bytes */
	for (uint32_t i = hash_text(key, parent);; i++) {
		int *slot = &r->slots[i & (TABLE_SLOTS - 1)];
		if (*slot) {
			entry *e = &r->entries[*slot - 1];
			if (e->parent == parent && strcmp(e->name, key) == 0)
				return *slot - 1;
			continue;
		}
		if (r->n == MAX_REGIONS)
			return -1;
		if (r->n == r->cap) {
			int cap = r->cap ? 2 * r->cap : 16;
			entry *grown = realloc(r->entries, (size_t)cap * sizeof *grown);
			if (!grown)
				return -1;
			r->entries = grown;
			r->cap = cap;
		}
		sc_histogram *h = sc_histogram_new();
		if (!h)
			return -1;
		entry *e = &r->entries[r->n];
		*e = (entry){.parent = parent,
		             .depth = parent < 0 ? 0 : r->entries[parent].depth + 1,
		             .hist = h,
		             .rss_first_kb = rss_kb(),
		             .allocations = r->snapshot ? 0 : -1,
		             .bytes = r->snapshot ? 0 : -1};
		memcpy(e->name, key, sizeof key);
		*slot = ++r->n;
		if (r->trace)
			sc__region_trace_define(r->trace, r->trace_table, r->n - 1, parent, key);
		return r->n - 1;
	}
}

void sc_region_begin(sc_profiler *p, const char *name)
{
	if (!p || !name)
		return;
	sc__regions **slot = sc__profiler_regions(p);
	sc__regions *r = *slot;
	if (!r && !(r = *slot = table_new(p)))
		return;
	if (r->overflow || r->depth == MAX_DEPTH) {
		r->overflow++;
		r->dropped++;
		return;
	}
	int parent = r->depth ? r->stack[r->depth - 1].entry : -1;
	cache_slot *c = &r->cache[cache_index(name, parent)];
	int e;
	if (c->name == name && c->parent == parent) {
		e = c->entry;
	} else {
		e = find_entry(r, name, parent);
		if (e < 0) {
			r->overflow++;
			r->dropped++;
			return;
		}
		*c = (cache_slot){.name = name, .parent = parent, .entry = e};
	}
	frame *f = &r->stack[r->depth++];
	f->entry = e;
	f->child = 0;
	*r->slot = (int32_t)e;
	if (r->snapshot) {
		struct heap_snapshot s;
		if (r->snapshot(&s, 0) == 0) {
			f->allocations = s.allocations;
			f->bytes = s.bytes_allocated;
		}
	}
	if (__builtin_expect(r->trace != NULL, 0))
		sc__region_trace_event(r->trace, r->trace_table, e, false);
	/* Last, so that the lookup is not part of the region. */
	f->start = ticks(r);
	if (!r->first)
		r->first = f->start;
}

void sc_region_end(sc_profiler *p)
{
	if (!p)
		return;
	sc__regions *r = *sc__profiler_regions(p);
	if (!r)
		return;
	/* First, for the same reason. */
	uint64_t now = ticks(r);
	if (r->overflow) {
		r->overflow--;
		return;
	}
	if (!r->depth) {
		r->unbalanced++;
		return;
	}
	frame *f = &r->stack[--r->depth];
	*r->slot = r->depth ? (int32_t)r->stack[r->depth - 1].entry : -1;
	if (__builtin_expect(r->trace != NULL, 0))
		sc__region_trace_event(r->trace, r->trace_table, f->entry, true);
	entry *e = &r->entries[f->entry];
	uint64_t elapsed = now - f->start;
	e->calls++;
	e->total += elapsed;
	e->self += elapsed - f->child;
	sc_histogram_record(e->hist, elapsed);
	if (r->depth)
		r->stack[r->depth - 1].child += elapsed;
	r->last = now;
	if (r->snapshot) {
		struct heap_snapshot s;
		if (r->snapshot(&s, 0) == 0) {
			e->allocations += (int64_t)(s.allocations - f->allocations);
			e->bytes += (int64_t)(s.bytes_allocated - f->bytes);
		}
	}
}

/* ---- figures ------------------------------------------------------------------------- */

/* The figures of r at tick now: a region still open counts its time so far in total and self
 * (it is not a completed call, so not in calls or the percentiles). Fills totals[i] and
 * selfs[i] in ticks. */
static void open_adjusted(const sc__regions *r, uint64_t now, uint64_t *totals, uint64_t *selfs)
{
	for (int i = 0; i < r->n; i++) {
		totals[i] = r->entries[i].total;
		selfs[i] = r->entries[i].self;
	}
	for (int d = 0; d < r->depth; d++) {
		const frame *f = &r->stack[d];
		uint64_t elapsed = now - f->start;
		uint64_t inner = d + 1 < r->depth ? now - r->stack[d + 1].start : 0;
		totals[f->entry] += elapsed;
		selfs[f->entry] += elapsed - f->child - inner;
	}
}

static double ms(double ticks_v, double npt)
{
	return ticks_v * npt / 1e6;
}

static sc_latency latency_of(const sc_histogram *h, double npt)
{
	if (!sc_histogram_count(h))
		return (sc_latency){.available = false, .source = "per-call"};
	return (sc_latency){
	    .available = true,
	    .count = sc_histogram_count(h),
	    .mean_ms = ms(sc_histogram_mean(h), npt),
	    .p50_ms = ms((double)sc_histogram_percentile(h, 50), npt),
	    .p90_ms = ms((double)sc_histogram_percentile(h, 90), npt),
	    .p95_ms = ms((double)sc_histogram_percentile(h, 95), npt),
	    .p99_ms = ms((double)sc_histogram_percentile(h, 99), npt),
	    .p999_ms = ms((double)sc_histogram_percentile(h, 99.9), npt),
	    .max_ms = ms((double)sc_histogram_max(h), npt),
	    .source = "per-call",
	};
}

/* r's regions as stats (malloc'd array of r->n) with shares of the top level relative to
 * profile_s; NULL on ENOMEM. Names the regions still open in *open_names (may be NULL). */
static sc_region_stats *stats_of(const sc__regions *r, double profile_s, char *open_names,
                                 size_t open_cap)
{
	uint64_t now = ticks(r);
	double npt = ns_per_tick(r);
	int64_t rss_now = rss_kb();
	sc_region_stats *out = calloc((size_t)r->n, sizeof *out);
	uint64_t *totals = calloc((size_t)r->n * 2 + 1, sizeof *totals);
	if (!out || !totals) {
		free(out);
		free(totals);
		return NULL;
	}
	uint64_t *selfs = totals + r->n;
	open_adjusted(r, now, totals, selfs);
	for (int i = 0; i < r->n; i++) {
		const entry *e = &r->entries[i];
		sc_region_stats *s = &out[i];
		snprintf(s->name, sizeof s->name, "%s", e->name);
		snprintf(s->parent, sizeof s->parent, "%s",
		         e->parent < 0 ? "" : r->entries[e->parent].name);
		s->depth = e->depth;
		s->calls = e->calls;
		s->total_s = (double)totals[i] * npt / 1e9;
		s->self_s = (double)selfs[i] * npt / 1e9;
		s->latency = latency_of(e->hist, npt);
		s->memory_increase_mb = e->rss_first_kb >= 0 && rss_now >= 0
		                            ? (double)(rss_now - e->rss_first_kb) / 1024.0
		                            : NAN;
		s->allocations = e->allocations;
		s->bytes_allocated = e->bytes;
		/* Unsampled until the cpu profile's builder fills them (profile.c). */
		s->cpu_samples = -1;
		s->cpu_percent = NAN;
	}
	for (int i = 0; i < r->n; i++) {
		const entry *e = &r->entries[i];
		double whole = e->parent < 0 ? profile_s : out[e->parent].total_s;
		out[i].share = whole > 0 ? out[i].total_s / whole : NAN;
	}
	if (open_names && open_cap) {
		open_names[0] = '\0';
		for (int d = 0; d < r->depth; d++) {
			size_t used = strlen(open_names);
			snprintf(open_names + used, open_cap - used, "%s%s", d ? " > " : "",
			         r->entries[r->stack[d].entry].name);
		}
	}
	free(totals);
	return out;
}

/* Warnings about how the regions were used (unbalanced ends, depth, regions left open). */
static void flag(const sc__regions *r, sc_profile *prof, const char *open_names)
{
	if (r->depth)
		sc__warning_push(prof, "region-open",
		                 "end every sc_region_begin with sc_region_end (or use SC_REGION)",
		                 "%d region(s) were still open when the figures were taken (%s): "
		                 "closed then, their time so far counts, their call does not",
		                 r->depth, open_names);
	if (r->dropped)
		sc__warning_push(
		    prof, "region-dropped",
		    "nest regions at most 32 deep and use at most 256 distinct names",
		    "%llu region entries were not recorded (deeper than 32, or more than "
		    "256 distinct regions)",
		    (unsigned long long)r->dropped);
	if (r->unbalanced)
		sc__warning_push(prof, "region-unbalanced", "pair every sc_region_end with a begin",
		                 "%llu sc_region_end calls had no open region and were ignored",
		                 (unsigned long long)r->unbalanced);
}

sc__regions *sc__regions_push(sc_profiler *p)
{
	if (!p)
		return NULL;
	sc__regions **slot = sc__profiler_regions(p);
	sc__regions *saved = *slot;
	*slot = NULL;
	*sc__profiler_region_slot(p) = -1; /* the new table has nothing open */
	return saved;
}

void sc__regions_pop(sc_profiler *p, sc__regions *saved, sc_profile *prof)
{
	if (!p)
		return;
	sc__regions **slot = sc__profiler_regions(p);
	sc__regions *r = *slot;
	*slot = saved;
	*sc__profiler_region_slot(p) =
	    saved && saved->depth ? (int32_t)saved->stack[saved->depth - 1].entry : -1;
	if (!r)
		return;
	char open_names[256];
	sc_region_stats *stats =
	    r->n ? stats_of(r, prof->total_time.mean, open_names, sizeof open_names) : NULL;
	if (stats) {
		free(prof->regions);
		prof->regions = stats;
		prof->n_regions = (size_t)r->n;
		flag(r, prof, open_names);
	}
	sc__regions_free(r);
}

/* The program's name, for the profile of its regions. */
static void program_name(char *buf, size_t cap)
{
	size_t len = 0;
	if (sc__read_text_file("/proc/self/comm", buf, cap, &len) != 0)
		len = 0;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	if (!len)
		snprintf(buf, cap, "regions");
}

int sc__regions_report(const sc_profiler *p, sc_report *rep)
{
	const sc__regions *r = sc__profiler_regions_const(p);
	if (!r || !r->n)
		return 0;
	char name[64], open_names[256];
	program_name(name, sizeof name);
	uint64_t end = r->depth ? ticks(r) : r->last;
	double span_s = (double)(end - r->first) * ns_per_tick(r) / 1e9;
	sc_profile prof = {.name = strdup(name), .kind = "regions", .n_samples = 1};
	sc_region_stats *stats = stats_of(r, span_s, open_names, sizeof open_names);
	if (!prof.name || !stats) {
		free(prof.name);
		free(stats);
		return SC_ENOMEM;
	}
	prof.regions = stats;
	prof.n_regions = (size_t)r->n;
	/* The profile's time is the span from the first region entry to the last exit: the
	 * top-level shares are of that span, and sum to 1 when the regions cover it. */
	prof.total_time = (sc_summary){.n = 1,
	                               .mean = span_s,
	                               .median = span_s,
	                               .min = span_s,
	                               .max = span_s,
	                               .ci95_low = NAN,
	                               .ci95_high = NAN};
	prof.avg_time_per_sample = span_s;
	prof.throughput_samples_per_sec = NAN;
	prof.timeline_interval_s = NAN;
	prof.memory = (sc_memory_profile){.baseline_memory_mb = NAN,
	                                  .peak_memory_mb = NAN,
	                                  .memory_increase_mb = NAN,
	                                  .minor_faults = -1,
	                                  .major_faults = -1};
	prof.resources = (sc_resources){.cpu_user_s = NAN,
	                                .cpu_sys_s = NAN,
	                                .cpu_utilization = NAN,
	                                .read_bytes = -1,
	                                .write_bytes = -1,
	                                .minor_faults = -1,
	                                .major_faults = -1,
	                                .voluntary_context_switches = -1,
	                                .involuntary_context_switches = -1};
	prof.heap = sc__heap_profile_unmeasured();
	prof.heap.sites_mode = "none";
	prof.heap.live_basis = "usable";
	snprintf(prof.heap.reason, sizeof prof.heap.reason, "%s",
	         "regions profile: heap figures are per region (with the shim loaded)");
	const char *why = "the regions profile holds the regions entered outside "
	                  "sc_profile_comprehensive and sc_profile_samples; it times nothing else";
	sc__unavailable_push(&prof, "time.total_time.ci95", "%s", why);
	sc__unavailable_push(&prof, "time.throughput_samples_per_sec", "%s", why);
	sc__unavailable_push(&prof, "time.latency_ms", "%s", why);
	sc__unavailable_push(&prof, "memory", "%s", why);
	sc__unavailable_push(&prof, "resources", "%s", why);
	sc__cpu_profile_unavailable(&prof.cpu, "%s",
	                            "not sampled (the in-process sampler runs during "
	                            "sc_profile_comprehensive and sc_profile_samples only, not for "
	                            "regions entered outside them)");
	flag(r, &prof, open_names);
	int err = sc_report_add_profile(rep, &prof);
	if (err)
		sc_profile_release(&prof);
	return err;
}

/* ---- the channel's record of one table ------------------------------------------------- */

static void table_send(sc__regions *r)
{
	const char *path = channel_path();
	if (!path || !r->n || !r->channel || r->pid != getpid())
		return;
	r->channel = false; /* at most once: at free or at exit */
	sc_region_stats *stats = stats_of(r, NAN, NULL, 0);
	sc__region_rec *recs = calloc((size_t)r->n, sizeof *recs);
	if (stats && recs) {
		double npt = ns_per_tick(r);
		for (int i = 0; i < r->n; i++) {
			const sc_region_stats *s = &stats[i];
			recs[i] = (sc__region_rec){
			    .name = s->name,
			    .parent = s->parent,
			    .depth = s->depth,
			    .calls = s->calls,
			    .total_ns = (uint64_t)llround(s->total_s * 1e9),
			    .self_ns = (uint64_t)llround(s->self_s * 1e9),
			    .memory_increase_mb = s->memory_increase_mb,
			    .allocations = s->allocations,
			    .bytes_allocated = s->bytes_allocated,
			    .ticks = r->entries[i].hist,
			    .ns_per_tick = npt,
			};
		}
		sc__region_channel_write(path, recs, (size_t)r->n);
	}
	free(recs);
	free(stats);
}

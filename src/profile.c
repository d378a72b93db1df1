/* profile.c: in-process profiling (one call or every sample) and a profile's derived figures. */
#include "cpu_samples.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * A profiler records every profile it measures, for sc_report_create. Recording is best effort:
 * a measurement is always returned to the caller, and a profile that could not be stored leaves
 * SC_ENOMEM in status (the first error sticks, so a caller can check once at the end).
 */
struct sc_profiler {
	sc__clock clock;
	sc_profile *profiles;
	size_t n_profiles;
	size_t cap_profiles;
	int status;
	sc__regions *regions; /* region.c: the table regions are entered into now */
	double cpu_rate_hz;   /* sc_profiler_sample_cpu; 0: off */
	/* region.c keeps the innermost open region in *slot_target, which is region_slot, read by
	 * the sampler's signal handler. While a sampled profile runs a profile nested in it (its
	 * workload calls sc_profile_comprehensive on the same profiler), the inner regions write to
	 * scratch_slot instead: their indexes mean nothing in the outer profile's regions, whose
	 * region open around the inner call keeps its samples. */
	volatile int32_t region_slot;
	volatile int32_t scratch_slot;
	volatile int32_t *slot_target;
	bool cpu_active; /* a sampler is running for one of this profiler's profiles */
};

sc_profiler *sc_profiler_new(void)
{
	sc_profiler *p = calloc(1, sizeof *p);
	if (p) {
		p->clock = sc__clock_real();
		p->region_slot = p->scratch_slot = -1;
		p->slot_target = &p->region_slot;
	}
	return p;
}

void sc_profiler_free(sc_profiler *p)
{
	if (!p)
		return;
	sc__regions_free(p->regions);
	for (size_t i = 0; i < p->n_profiles; i++)
		sc_profile_release(&p->profiles[i]);
	free(p->profiles);
	free(p);
}

int sc_profiler_status(const sc_profiler *p)
{
	return p ? p->status : SC_EINVAL;
}

void sc__profiler_set_clock(sc_profiler *p, sc__clock clock)
{
	p->clock = clock;
}

sc__regions **sc__profiler_regions(sc_profiler *p)
{
	return &p->regions;
}

sc__regions *sc__profiler_regions_const(const sc_profiler *p)
{
	return p->regions;
}

sc__clock sc__profiler_clock(const sc_profiler *p)
{
	return p->clock;
}

volatile int32_t *sc__profiler_region_slot(sc_profiler *p)
{
	return p->slot_target;
}

int sc_profiler_sample_cpu(sc_profiler *p, double rate_hz)
{
	if (!p || !(rate_hz >= 0 && rate_hz <= 10000))
		return SC_EINVAL; /* NaN fails both comparisons */
	p->cpu_rate_hz = rate_hz;
	return 0;
}

static void set_status(sc_profiler *p, int err)
{
	if (p && p->status == 0)
		p->status = err;
}

/* Moves *prof into p's record (a NULL p records nothing); on failure releases it. */
static int record(sc_profiler *p, sc_profile *prof)
{
	if (!p) {
		sc_profile_release(prof);
		return 0;
	}
	if (!prof->name)
		goto nomem; /* the name's strdup failed earlier */
	if (p->n_profiles == p->cap_profiles) {
		size_t cap = p->cap_profiles ? 2 * p->cap_profiles : 8;
		sc_profile *grown = realloc(p->profiles, cap * sizeof *grown);
		if (!grown)
			goto nomem;
		p->profiles = grown;
		p->cap_profiles = cap;
	}
	p->profiles[p->n_profiles++] = *prof;
	*prof = (sc_profile){0};
	return 0;
nomem:
	sc_profile_release(prof);
	set_status(p, SC_ENOMEM);
	return SC_ENOMEM;
}

/* Here rather than in report.c: only the profiler sees its own record. */
int sc_report_create(const sc_profiler *p, sc_report **out)
{
	if (!p || !out)
		return SC_EINVAL;
	sc_report *r;
	int err = sc_report_new(&r);
	for (size_t i = 0; !err && i < p->n_profiles; i++) {
		sc_profile copy;
		err = sc__profile_copy(&copy, &p->profiles[i]);
		if (!err && (err = sc_report_add_profile(r, &copy)) != 0)
			sc_profile_release(&copy);
	}
	if (!err)
		err = sc__regions_report(p, r); /* the regions entered outside any profile */
	if (err) {
		sc_report_free(r);
		r = NULL;
	}
	*out = r;
	return err;
}

void sc_profile_release(sc_profile *profile)
{
	if (!profile)
		return;
	free(profile->name);
	free(profile->command);
	free(profile->runs);
	free(profile->timeline);
	free(profile->regions);
	sc__heap_profile_release(&profile->heap);
	sc__cpu_profile_release(&profile->cpu);
	*profile = (sc_profile){0};
}

static void *dup_memory(const void *src, size_t bytes)
{
	void *copy = malloc(bytes);
	if (copy)
		memcpy(copy, src, bytes);
	return copy;
}

static int copy_string(char **dst, const char *src)
{
	return src && !(*dst = strdup(src)) ? SC_ENOMEM : 0;
}

/* The heap sites of src into dst, whose sites are not set yet. */
static int copy_heap_sites(sc_heap_profile *dst, const sc_heap_profile *src)
{
	dst->sites = NULL;
	dst->n_sites = 0;
	if (!src->n_sites)
		return 0;
	if (!(dst->sites = calloc(src->n_sites, sizeof *dst->sites)))
		return SC_ENOMEM;
	for (size_t i = 0; i < src->n_sites; i++) {
		const sc_heap_site *from = &src->sites[i];
		sc_heap_site *to = &dst->sites[dst->n_sites++];
		*to = *from;
		to->frames = NULL;
		to->n_frames = 0;
		if (!from->n_frames)
			continue;
		if (!(to->frames = calloc(from->n_frames, sizeof *to->frames)))
			return SC_ENOMEM;
		to->n_frames = from->n_frames;
		for (size_t j = 0; j < from->n_frames; j++) {
			const sc_heap_frame *f = &from->frames[j];
			sc_heap_frame *t = &to->frames[j];
			*t = (sc_heap_frame){
			    .address = f->address, .offset = f->offset, .line = f->line};
			if (copy_string(&t->module, f->module) ||
			    copy_string(&t->function, f->function) ||
			    copy_string(&t->file, f->file))
				return SC_ENOMEM;
		}
	}
	return 0;
}

int sc__profile_copy(sc_profile *dst, const sc_profile *src)
{
	*dst = *src;
	dst->name = dst->command = NULL;
	dst->runs = NULL;
	dst->timeline = NULL;
	dst->regions = NULL;
	dst->cpu = (sc_cpu_profile){0}; /* nothing of src's, so that a failure frees only copies */
	if (copy_heap_sites(&dst->heap, &src->heap) != 0 ||
	    (src->name && !(dst->name = strdup(src->name))) ||
	    (src->command && !(dst->command = strdup(src->command))) ||
	    (src->n_runs &&
	     !(dst->runs = dup_memory(src->runs, src->n_runs * sizeof *src->runs))) ||
	    (src->n_timeline && !(dst->timeline = dup_memory(
	                              src->timeline, src->n_timeline * sizeof *src->timeline))) ||
	    (src->n_regions &&
	     !(dst->regions = dup_memory(src->regions, src->n_regions * sizeof *src->regions))) ||
	    sc__cpu_profile_copy(&dst->cpu, &src->cpu) != 0) {
		sc_profile_release(dst);
		return SC_ENOMEM;
	}
	return 0;
}

/*
 * One timed value (one call in-process, or a single run) has no spread to build a 95% interval
 * from; an interval of zero width would claim a certainty the measurement does not have, so it is
 * left out and the report says why.
 */
static void no_interval(sc_profile *prof)
{
	prof->total_time.ci95_low = prof->total_time.ci95_high = NAN;
	sc__unavailable_push(prof, "time.total_time.ci95",
	                     "one timed value has no spread to build a confidence interval from; "
	                     "time more runs");
}

/* ---- in-process measurement ----------------------------------------------------------------- */

/* What is read before the workload runs. */
typedef struct measure {
	struct rusage ru;
	double baseline_mb;
	sc__heap_region heap;
} measure;

static double kb_to_mb(int64_t kb)
{
	return (double)kb / 1024.0;
}

/*
 * Baseline RSS, then the peak reset, then rusage, so that the workload's figures hold as little
 * of the profiler's own work as possible. The peak (VmHWM) is reset by writing 5 to
 * /proc/self/clear_refs; where the kernel refuses, VmHWM still holds the largest RSS of the whole
 * life of the process, and the report says so.
 */
static void measure_begin(sc_profile *prof, measure *m)
{
	int64_t rss_kb, hwm_kb;
	m->baseline_mb = sc__self_rss(&rss_kb, &hwm_kb) == 0 ? kb_to_mb(rss_kb) : NAN;
	prof->memory.peak_reset = sc__self_reset_peak();
	if (!prof->memory.peak_reset)
		sc__warning_push(prof, "peak-not-reset",
		                 "allow writes to /proc/self/clear_refs (Linux 4.0 or later; some "
		                 "containers mount /proc read-only), or profile it as a command",
		                 "the kernel refused to reset the peak RSS, so peak_memory_mb and "
		                 "memory_increase_mb may include memory used before the workload");
	getrusage(RUSAGE_SELF, &m->ru);
	/* Last, so that the profiler's own allocations (reading /proc) stay outside the region. */
	sc__heap_region_begin(&m->heap);
}

static int64_t delta(long after, long before)
{
	return (int64_t)after - (int64_t)before;
}

/* Memory and resources after the workload; RUSAGE_SELF counts every thread of the process. */
static void measure_end(sc_profile *prof, const measure *m, double wall_s)
{
	/* First, for the same reason as in measure_begin. */
	sc__heap_region_end(&m->heap, prof->n_samples, &prof->heap);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	int64_t rss_kb, hwm_kb;
	double peak_mb = sc__self_rss(&rss_kb, &hwm_kb) == 0 ? kb_to_mb(hwm_kb) : NAN;

	sc_memory_profile *mem = &prof->memory;
	mem->baseline_memory_mb = m->baseline_mb;
	mem->peak_memory_mb = peak_mb;
	mem->memory_increase_mb = peak_mb - m->baseline_mb;
	if (isnan(mem->memory_increase_mb)) {
		const char *why = "/proc/self/status (VmRSS, VmHWM) could not be read";
		if (isnan(m->baseline_mb))
			sc__unavailable_push(prof, "memory.baseline_memory_mb", "%s", why);
		if (isnan(peak_mb))
			sc__unavailable_push(prof, "memory.peak_memory_mb", "%s", why);
		sc__unavailable_push(prof, "memory.memory_increase_mb", "%s", why);
	}
	mem->minor_faults = delta(ru.ru_minflt, m->ru.ru_minflt);
	mem->major_faults = delta(ru.ru_majflt, m->ru.ru_majflt);

	sc_resources *res = &prof->resources;
	res->cpu_user_s = sc__timeval_s(ru.ru_utime) - sc__timeval_s(m->ru.ru_utime);
	res->cpu_sys_s = sc__timeval_s(ru.ru_stime) - sc__timeval_s(m->ru.ru_stime);
	res->cpu_utilization = wall_s > 0 ? (res->cpu_user_s + res->cpu_sys_s) / wall_s : NAN;
	if (isnan(res->cpu_utilization))
		sc__unavailable_push(prof, "resources.cpu_utilization",
		                     "the workload took less time than the clock resolves");
	/* ru_inblock and ru_oublock count 512-byte blocks of storage I/O (getrusage(2)). */
	res->read_bytes = 512 * delta(ru.ru_inblock, m->ru.ru_inblock);
	res->write_bytes = 512 * delta(ru.ru_oublock, m->ru.ru_oublock);
	res->minor_faults = mem->minor_faults;
	res->major_faults = mem->major_faults;
	res->voluntary_context_switches = delta(ru.ru_nvcsw, m->ru.ru_nvcsw);
	res->involuntary_context_switches = delta(ru.ru_nivcsw, m->ru.ru_nivcsw);
}

/* total_time (the one call), per-sample time and throughput from the measured nanoseconds. Each
 * figure comes from integers in one division, so a mock clock gives exact figures. */
static void set_time(sc_profile *prof, uint64_t total_ns)
{
	double total_s = (double)total_ns / 1e9;
	prof->total_time = (sc_summary){
	    .n = 1, .mean = total_s, .median = total_s, .min = total_s, .max = total_s};
	no_interval(prof);
	prof->avg_time_per_sample = (double)total_ns / ((double)prof->n_samples * 1e9);
	if (total_ns > 0) {
		prof->throughput_samples_per_sec = (double)prof->n_samples * 1e9 / (double)total_ns;
	} else {
		prof->throughput_samples_per_sec = NAN;
		sc__unavailable_push(prof, "time.throughput_samples_per_sec",
		                     "the workload took less time than the clock resolves");
	}
}

/* The caller's copies of what was measured (either may be NULL). */
static void fill_outputs(const sc_profile *prof, sc_memory_profile *memory, sc_time_profile *time)
{
	if (memory)
		*memory = prof->memory;
	if (time)
		*time = (sc_time_profile){
		    .total_time = prof->total_time.mean,
		    .n_samples = prof->n_samples,
		    .avg_time_per_sample = prof->avg_time_per_sample,
		    .throughput_samples_per_sec = prof->throughput_samples_per_sec,
		    .cpu_user_s = prof->resources.cpu_user_s,
		    .cpu_sys_s = prof->resources.cpu_sys_s,
		    .cpu_utilization = prof->resources.cpu_utilization,
		    .latency = prof->latency,
		};
}

/* A new in-process profile; a failed strdup leaves name NULL, which record() reports. Its cpu
 * section says why it is not sampled until cpu_end fills it. */
static void profile_start(const sc_profiler *p, sc_profile *prof, const char *name,
                          const char *kind, uint64_t n_samples)
{
	*prof =
	    (sc_profile){.name = strdup(name ? name : kind), .kind = kind, .n_samples = n_samples};
	prof->timeline_interval_s = NAN;
	sc__unavailable_push(
	    prof, "memory.timeline_interval_s",
	    "in-process profiles sample no memory timeline; profiling the program as "
	    "a command (shotclock run) records one");
	if (!p || !(p->cpu_rate_hz > 0))
		sc__cpu_profile_unavailable(&prof->cpu, "%s",
		                            "not sampled (sc_profiler_sample_cpu was not called)");
	else
		sc__cpu_profile_unavailable(
		    &prof->cpu, "%s",
		    "not sampled (the in-process sampler runs during "
		    "sc_profile_comprehensive and sc_profile_samples only)");
}

/* ---- CPU samples of the workload (self_sampler.c) ----------------------------------------- */

/* The in-process sampler around one workload. */
typedef struct cpu_run {
	sc__self_sampler *sampler;
	int err; /* of the start; 0 also when sampling is off */
	char why[160];
	double rate_hz; /* as it was at the start, whatever the workload sets meanwhile */
	volatile int32_t *outer_target; /* nested in a sampled profile: the target to restore */
} cpu_run;

/* Before sc__regions_push: a profile nested in a sampled one leaves the slot to the outer. */
static void cpu_nest(sc_profiler *p, cpu_run *c)
{
	*c = (cpu_run){0};
	if (p && p->cpu_active) {
		c->outer_target = p->slot_target;
		p->slot_target = &p->scratch_slot;
	}
}

/* After sc__regions_pop. */
static void cpu_unnest(sc_profiler *p, cpu_run *c)
{
	if (c->outer_target)
		p->slot_target = c->outer_target;
}

static bool cpu_on(const sc_profiler *p)
{
	return p && p->cpu_rate_hz > 0;
}

/* Before measure_begin, so that the sampler's buffer is neither in the RSS baseline's increase
 * nor in the heap region's allocations. */
static void cpu_begin(sc_profiler *p, cpu_run *c)
{
	if (!cpu_on(p))
		return;
	c->rate_hz = p->cpu_rate_hz;
	c->err =
	    sc__self_sampler_start(c->rate_hz, &p->region_slot, &c->sampler, c->why, sizeof c->why);
	if (!c->err)
		p->cpu_active = true;
}

/*
 * After measure_end (stopping appends to the raw store, which allocates) and after the regions'
 * figures are in prof->regions, which the builder tags with their samples. The timer runs a few
 * microseconds past the workload, while measure_end reads /proc: at most a sample, in the
 * profiler's own frames. A sampler that could not run leaves the cpu section unavailable with
 * the reason, and the regions unsampled.
 */
static void cpu_end(sc_profiler *p, cpu_run *c, sc_profile *prof, double wall_s)
{
	if (!c->sampler) {
		if (!c->err)
			return; /* not sampled: profile_start said why */
		if (c->err == SC_EUNAVAILABLE)
			sc__cpu_profile_unavailable(&prof->cpu, "not sampled: %s", c->why);
		else
			sc__cpu_profile_unavailable(&prof->cpu, "not sampled: %s",
			                            sc_strerror(c->err));
		return;
	}
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	int err = sc__self_sampler_stop(c->sampler, &raw);
	sc__self_sampler_free(c->sampler);
	c->sampler = NULL;
	p->cpu_active = false;
	if (!err) {
		const sc__cpu_build_options o = {
		    .sampler = "timer",
		    .call_graph = "fp",
		    .rate_hz = c->rate_hz,
		    .duration_s = wall_s,
		};
		sc__cpu_profile_release(&prof->cpu);
		err = sc__cpu_profile_build(&raw, &o, &prof->cpu, prof->regions, prof->n_regions);
	}
	sc__cpu_raw_release(&raw);
	if (err) {
		sc__cpu_profile_unavailable(&prof->cpu, "not sampled: %s", sc_strerror(err));
		return;
	}
	sc__cpu_note_prepend(&prof->cpu,
	                     "in-process: a SIGPROF timer on the calling thread's CPU time "
	                     "(sc_profiler_sample_cpu); other threads are not sampled");
}

void *sc_profile_comprehensive(sc_profiler *p, const char *name, sc_workload_fn fn, void *ctx,
                               uint64_t n_samples, sc_memory_profile *memory, sc_time_profile *time)
{
	if (!fn || n_samples == 0) {
		set_status(p, SC_EINVAL);
		return NULL;
	}
	sc__clock clock = p ? p->clock : sc__clock_real();
	sc_profile prof;
	profile_start(p, &prof, name, "function", n_samples);
	cpu_run cpu;
	cpu_nest(p, &cpu);
	sc__regions *outer = sc__regions_push(p); /* regions entered in fn belong to prof */
	cpu_begin(p, &cpu);
	measure m;
	measure_begin(&prof, &m);
	uint64_t t0 = clock.now_ns(clock.ctx);
	void *result = fn(ctx);
	uint64_t total_ns = clock.now_ns(clock.ctx) - t0;
	measure_end(&prof, &m, (double)total_ns / 1e9);
	set_time(&prof, total_ns);
	sc__regions_pop(p, outer, &prof);
	cpu_unnest(p, &cpu);
	cpu_end(p, &cpu, &prof, (double)total_ns / 1e9);
	/* One time for the whole call says nothing about how the samples inside it varied. */
	sc__unavailable_push(&prof, "time.latency_ms",
	                     "only the whole call was timed; use sc_profile_samples for per-sample "
	                     "percentiles");
	fill_outputs(&prof, memory, time);
	record(p, &prof);
	return result;
}

/* Ticks to milliseconds; with the mock clock (1 ns per tick) this is one exact division. */
static double ticks_ms(double ticks, double ns_per_tick)
{
	return ticks * ns_per_tick / 1e6;
}

/* Percentiles of a histogram of ticks, in milliseconds. */
static sc_latency latency_from(const sc_histogram *h, double ns_per_tick)
{
	return (sc_latency){
	    .available = true,
	    .count = sc_histogram_count(h),
	    .mean_ms = ticks_ms(sc_histogram_mean(h), ns_per_tick),
	    .p50_ms = ticks_ms((double)sc_histogram_percentile(h, 50), ns_per_tick),
	    .p90_ms = ticks_ms((double)sc_histogram_percentile(h, 90), ns_per_tick),
	    .p95_ms = ticks_ms((double)sc_histogram_percentile(h, 95), ns_per_tick),
	    .p99_ms = ticks_ms((double)sc_histogram_percentile(h, 99), ns_per_tick),
	    .p999_ms = ticks_ms((double)sc_histogram_percentile(h, 99.9), ns_per_tick),
	    .max_ms = ticks_ms((double)sc_histogram_max(h), ns_per_tick),
	    .source = "per-sample",
	};
}

/*
 * Every sample is timed with one clock read: the read that ends a sample starts the next, so the
 * loop body is the call, one read and one histogram record, and the samples' times add up to the
 * whole loop. Each sample therefore includes one read and one record of overhead.
 */
static uint64_t time_samples_clock(sc__clock clock, sc_sample_fn fn, void *ctx, uint64_t n,
                                   sc_histogram *h)
{
	uint64_t start = clock.now_ns(clock.ctx), prev = start;
	for (uint64_t i = 0; i < n; i++) {
		fn(ctx, i);
		uint64_t now = clock.now_ns(clock.ctx);
		sc_histogram_record(h, now - prev);
		prev = now;
	}
	return prev - start;
}

#if defined(__x86_64__)
/*
 * The same loop with the invariant TSC, read inline: one rdtsc instruction (5 to 15 ns, by CPU)
 * instead of the vDSO clock, which reads the TSC too and then scales it, and no call through a
 * clock pointer. On a 2-core AMD EPYC VM a sample costs 19 to 28 ns above the bare call, 13 of
 * them the rdtsc itself (bench/sample_overhead measures it). The histogram holds ticks;
 * the tick length comes from CLOCK_MONOTONIC over this very loop, with each end read as a pair
 * (TSC, then the clock) in the same order, so that the delay between the two reads of a pair
 * cancels out. Returns the loop's nanoseconds and sets *ns_per_tick.
 */
static uint64_t time_samples_tsc(sc_sample_fn fn, void *ctx, uint64_t n, sc_histogram *h,
                                 double *ns_per_tick)
{
	uint64_t tsc_start = sc__rdtsc();
	uint64_t mono_start = sc__now_ns();
	uint64_t prev = sc__rdtsc();
	for (uint64_t i = 0; i < n; i++) {
		fn(ctx, i);
		uint64_t now = sc__rdtsc();
		sc_histogram_record(h, now - prev);
		prev = now;
	}
	uint64_t mono_end = sc__now_ns();
	uint64_t ticks = prev - tsc_start, ns = mono_end - mono_start;
	*ns_per_tick = (double)ns / (double)ticks; /* ticks > 0: n >= 1 and the TSC is invariant */
	return ns;
}
#endif

int sc_profile_samples(sc_profiler *p, const char *name, sc_sample_fn fn, void *ctx,
                       uint64_t n_samples, sc_memory_profile *memory, sc_time_profile *time)
{
	if (!fn || n_samples == 0)
		return SC_EINVAL;
	sc__clock clock = p ? p->clock : sc__clock_real();
	/* Made before the baseline is read: its fixed memory is not the workload's. */
	sc_histogram *h = sc_histogram_new();
	if (!h) {
		set_status(p, SC_ENOMEM);
		return SC_ENOMEM;
	}
	sc_profile prof;
	profile_start(p, &prof, name, "samples", n_samples);
	cpu_run cpu;
	cpu_nest(p, &cpu);
	sc__regions *outer = sc__regions_push(p); /* regions entered in fn belong to prof */
	cpu_begin(p, &cpu);
	measure m;
	measure_begin(&prof, &m);
	uint64_t total_ns;
	double ns_per_tick = 1.0;
#if defined(__x86_64__)
	if (clock.now_ns == sc__clock_real().now_ns && sc__tsc_usable())
		total_ns = time_samples_tsc(fn, ctx, n_samples, h, &ns_per_tick);
	else
#endif
		total_ns = time_samples_clock(clock, fn, ctx, n_samples, h);
	measure_end(&prof, &m, (double)total_ns / 1e9);
	set_time(&prof, total_ns);
	sc__regions_pop(p, outer, &prof);
	cpu_unnest(p, &cpu);
	cpu_end(p, &cpu, &prof, (double)total_ns / 1e9);
	prof.latency = latency_from(h, ns_per_tick);
	sc_histogram_free(h);
	fill_outputs(&prof, memory, time);
	return record(p, &prof);
}

/* ---- in-process regions of other kinds (leak_check.c) ------------------------------------- */

int sc__profile_region(sc_profiler *p, const char *name, const char *kind, uint64_t n_samples,
                       sc__region_body body, void *arg)
{
	sc__clock clock = p ? p->clock : sc__clock_real();
	sc_profile prof;
	profile_start(p, &prof, name, kind, n_samples);
	measure m;
	measure_begin(&prof, &m);
	uint64_t t0 = clock.now_ns(clock.ctx);
	body(&prof, arg);
	uint64_t total_ns = clock.now_ns(clock.ctx) - t0;
	measure_end(&prof, &m, (double)total_ns / 1e9);
	set_time(&prof, total_ns);
	sc__unavailable_push(&prof, "time.latency_ms",
	                     "only the whole region was timed; use sc_profile_samples for "
	                     "per-sample percentiles");
	return record(p, &prof);
}

/* ---- one call, measured for sc_compare (compare.c) ------------------------------------------ */

int sc__profile_measure_call(sc_profiler *p, const char *name, sc_workload_fn fn, void *ctx,
                             uint64_t n_samples, sc_profile *out, uint64_t *total_ns)
{
	sc__clock clock = p ? p->clock : sc__clock_real();
	profile_start(p, out, name, "function", n_samples);
	if (!out->name) {
		sc_profile_release(out);
		return SC_ENOMEM;
	}
	measure m;
	measure_begin(out, &m);
	uint64_t t0 = clock.now_ns(clock.ctx);
	fn(ctx);
	*total_ns = clock.now_ns(clock.ctx) - t0;
	measure_end(out, &m, (double)*total_ns / 1e9);
	return 0;
}

int sc__profiler_record(sc_profiler *p, sc_profile *prof)
{
	return record(p, prof);
}

/* ---- command profiles: figures derived from the runs -------------------------------------- */

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The mean per run of a count; -1 (unavailable) when any run lacks it. */
static int64_t mean_count(const sc_run *runs, size_t n, size_t offset)
{
	double sum = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t v = *(const int64_t *)((const char *)&runs[i] + offset);
		if (v < 0)
			return -1;
		sum += (double)v;
	}
	return llround(sum / (double)n);
}

#define MEAN_COUNT(runs, n, field) mean_count(runs, n, offsetof(sc_run, field))

/* Per-run latency: each run's wall time divided by the samples it made, in ms, over the runs. */
static void derive_latency(sc_profile *p, double *per_sample_ms)
{
	double sum = 0;
	for (size_t i = 0; i < p->n_runs; i++) {
		per_sample_ms[i] = p->runs[i].wall_s / (double)p->n_samples * 1e3;
		sum += per_sample_ms[i];
	}
	qsort(per_sample_ms, p->n_runs, sizeof *per_sample_ms, compare_doubles);
	size_t n = p->n_runs;
	p->latency = (sc_latency){
	    .available = true,
	    .count = n,
	    .mean_ms = sum / (double)n,
	    .p50_ms = sc_percentile_sorted(per_sample_ms, n, 50),
	    .p90_ms = sc_percentile_sorted(per_sample_ms, n, 90),
	    .p95_ms = sc_percentile_sorted(per_sample_ms, n, 95),
	    .p99_ms = sc_percentile_sorted(per_sample_ms, n, 99),
	    .p999_ms = sc_percentile_sorted(per_sample_ms, n, 99.9),
	    .max_ms = per_sample_ms[n - 1],
	    .source = "per-run",
	};
}

int sc__profile_derive_from_runs(sc_profile *p)
{
	if (!p || !p->runs || p->n_runs == 0 || p->n_samples == 0)
		return SC_EINVAL;
	double *walls = malloc(p->n_runs * sizeof *walls);
	if (!walls)
		return SC_ENOMEM;
	double user = 0, sys = 0;
	for (size_t i = 0; i < p->n_runs; i++) {
		walls[i] = p->runs[i].wall_s;
		/* Every run that happened took some time; zero or NaN is a caller's bug. */
		if (!(walls[i] > 0) || !isfinite(walls[i])) {
			free(walls);
			return SC_EINVAL;
		}
		user += p->runs[i].user_s;
		sys += p->runs[i].sys_s;
	}
	int err = sc_summarize(walls, p->n_runs, &p->total_time);
	if (err) {
		free(walls);
		return err;
	}
	if (p->n_runs == 1)
		no_interval(p);
	double mean = p->total_time.mean;
	p->avg_time_per_sample = mean / (double)p->n_samples;
	p->throughput_samples_per_sec = (double)p->n_samples / mean;
	derive_latency(p, walls);
	free(walls);

	size_t n = p->n_runs;
	sc_resources *res = &p->resources;
	res->cpu_user_s = user / (double)n;
	res->cpu_sys_s = sys / (double)n;
	res->cpu_utilization = (res->cpu_user_s + res->cpu_sys_s) / mean;
	res->read_bytes = MEAN_COUNT(p->runs, n, read_bytes);
	res->write_bytes = MEAN_COUNT(p->runs, n, write_bytes);
	res->minor_faults = MEAN_COUNT(p->runs, n, minor_faults);
	res->major_faults = MEAN_COUNT(p->runs, n, major_faults);
	res->voluntary_context_switches = MEAN_COUNT(p->runs, n, voluntary_context_switches);
	res->involuntary_context_switches = MEAN_COUNT(p->runs, n, involuntary_context_switches);
	p->memory.minor_faults = res->minor_faults;
	p->memory.major_faults = res->major_faults;
	return 0;
}

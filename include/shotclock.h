/* shotclock.h: the public C API of libshotclock, the ML-inference and program profiler. */
#ifndef SHOTCLOCK_H
#define SHOTCLOCK_H

/*
 * Conventions, stated once:
 *
 * - Every public name starts with sc_ or SC_.
 * - Functions that can fail return int: 0 on success or a negative SC_E... code; sc_strerror()
 *   turns a code into a sentence. The library never prints.
 * - Opaque handles are made by sc_x_new() and released by sc_x_free(); sc_x_free(NULL) is a no-op.
 *   Plain result structs (sc_memory_profile, sc_time_profile, sc_summary, ...) are filled into
 *   storage the caller owns; they hold no pointers the caller must free.
 * - A figure that could not be measured is NAN (for doubles) or -1 (for counts) and the report
 *   says why; it is never silently 0.
 * - Times are seconds (double) unless the name says _ns or _ms; memory is MiB ("_mb", 2^20 bytes)
 *   unless the name says _bytes or _kb.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SC_VERSION       "0.1.0"
#define SC_REPORT_SCHEMA "shotclock.report/1"

/* ---- errors ------------------------------------------------------------------------------- */

enum {
	SC_OK = 0,
	SC_ENOMEM = -1,       /* out of memory */
	SC_EINVAL = -2,       /* invalid argument */
	SC_EIO = -3,          /* reading or writing a file failed (errno is kept) */
	SC_EPARSE = -4,       /* text could not be parsed */
	SC_ENOTFOUND = -5,    /* a command, file or field does not exist */
	SC_ESPAWN = -6,       /* a process could not be started */
	SC_EUNAVAILABLE = -7, /* the figure cannot be measured on this system */
	SC_ECOMMAND = -8,     /* the profiled command failed: non-zero exit, signal or timeout */
	SC_ENOEXEC = -9       /* the command exists but cannot be executed (permissions, format) */
};

/* A sentence describing err ("out of memory"); never NULL. */
const char *sc_strerror(int err);

/* ---- statistics --------------------------------------------------------------------------- */

/*
 * Summary of a sample of measurements. ci95_low/ci95_high bound the mean with 95% confidence
 * (Student's t, n-1 degrees of freedom). Outliers are values whose modified z-score
 * 0.6745 * |x - median| / MAD exceeds 3.5 (Iglewicz and Hoaglin, 1993); when the MAD is 0 (more
 * than half the values equal the median) the score is |x - median| / (1.253314 * MeanAD), MeanAD
 * the mean absolute deviation from the median, and no value is an outlier when that is 0 too.
 */
typedef struct sc_summary {
	size_t n;
	double mean;
	double stddev; /* sample standard deviation (n-1); 0 when n == 1 */
	double median;
	double min;
	double max;
	double mad; /* median absolute deviation, unscaled */
	double ci95_low;
	double ci95_high;
	size_t outliers;
} sc_summary;

/* Summarises values[0..n). n == 0 -> SC_EINVAL. Non-finite values -> SC_EINVAL. */
int sc_summarize(const double *values, size_t n, sc_summary *out);

/* The p-th percentile (0 <= p <= 100) of ascending sorted[0..n), linear interpolation between
 * closest ranks (Hyndman and Fan type 7, the default of R and NumPy). n == 0 -> NAN. */
double sc_percentile_sorted(const double *sorted, size_t n, double p);

/* ---- latency histogram -------------------------------------------------------------------- */

/*
 * A log-linear histogram of nanosecond values: fixed memory (independent of how many values are
 * recorded), every percentile within 1% relative error of the exact one.
 */
typedef struct sc_histogram sc_histogram;

sc_histogram *sc_histogram_new(void);
void sc_histogram_free(sc_histogram *h);
void sc_histogram_reset(sc_histogram *h);
void sc_histogram_record(sc_histogram *h, uint64_t value_ns);
uint64_t sc_histogram_count(const sc_histogram *h);
/* 0 <= p <= 100; an empty histogram returns 0. min/max are exact. */
uint64_t sc_histogram_percentile(const sc_histogram *h, double p);
uint64_t sc_histogram_min(const sc_histogram *h);
uint64_t sc_histogram_max(const sc_histogram *h);
double sc_histogram_mean(const sc_histogram *h);
/* Adds every value recorded in src to dst. */
void sc_histogram_merge(sc_histogram *dst, const sc_histogram *src);

/* Latency percentiles in milliseconds. source is "per-sample" when every sample was timed,
 * "per-run" when the figures are the distribution of whole-run times divided by n_samples. */
typedef struct sc_latency {
	bool available;
	uint64_t count;
	double mean_ms;
	double p50_ms;
	double p90_ms;
	double p95_ms;
	double p99_ms;
	double p999_ms;
	double max_ms;
	const char *source; /* static string */
} sc_latency;

/* ---- system information ------------------------------------------------------------------- */

typedef struct sc_system_info {
	int cpus; /* online CPUs */
	char cpu_model[128];
	char kernel[128]; /* uname sysname release machine */
	char hostname[64];
	double memory_total_mb;     /* /proc/meminfo MemTotal */
	double memory_available_mb; /* /proc/meminfo MemAvailable */
	double load_avg[3];         /* /proc/loadavg, 1 5 15 minutes */
	char disk_path[256];        /* the filesystem holding this path (the working directory) */
	double disk_total_gb;
	double disk_free_gb;
	double disk_used_percent;
} sc_system_info;

/* Fills *out from /proc, uname and statvfs(disk_path or "."). Fields that cannot be read are
 * NAN / -1 / "". Returns 0, or an error only when nothing at all could be read. */
int sc_system_info_collect(const char *disk_path, sc_system_info *out);

/* ---- in-process profiling ----------------------------------------------------------------- */

/* Memory of this process around a workload (seed: MemoryProfile). */
typedef struct sc_memory_profile {
	double baseline_memory_mb; /* VmRSS before the workload */
	double peak_memory_mb;     /* VmHWM after the workload, peak reset before it */
	double memory_increase_mb; /* peak - baseline */
	bool peak_reset;           /* false: clear_refs could not reset the peak, so the peak may
	                              predate the workload (then the report says so) */
	int64_t minor_faults;      /* page faults during the workload */
	int64_t major_faults;
} sc_memory_profile;

/* Time of a workload (seed: TimeProfile). */
typedef struct sc_time_profile {
	double total_time;                 /* wall seconds */
	uint64_t n_samples;                /* predictions the workload made */
	double avg_time_per_sample;        /* total_time / n_samples */
	double throughput_samples_per_sec; /* n_samples / total_time */
	double cpu_user_s;
	double cpu_sys_s;
	double cpu_utilization; /* (user + sys) / wall: cores kept busy */
	sc_latency latency;     /* per-sample when sc_profile_samples timed each one */
} sc_time_profile;

typedef struct sc_profiler sc_profiler;

sc_profiler *sc_profiler_new(void);
void sc_profiler_free(sc_profiler *p);
/* Samples the calling thread's CPU stacks at rate_hz (0 turns it off, the default) during
 * sc_profile_comprehensive and sc_profile_samples, into each profile's cpu section, with
 * per-region attribution for the regions entered inside them. Only the calling thread is sampled,
 * by a CPU-time timer (SIGPROF, SA_RESTART) whose resolution is the kernel's tick (250 Hz on most
 * kernels; a missed period is counted in the next sample, so samples / rate stays the CPU time).
 * A program with its own SIGPROF handler keeps it: its profiles say the sampler could not run.
 * SC_EINVAL for a rate outside [0, 10000]. */
int sc_profiler_sample_cpu(sc_profiler *p, double rate_hz);
/* The first error the profiler met while recording (SC_ENOMEM when a profile could not be stored);
 * 0 when every profile was recorded. */
int sc_profiler_status(const sc_profiler *p);

typedef void *(*sc_workload_fn)(void *ctx);
typedef void (*sc_sample_fn)(void *ctx, uint64_t index);

/*
 * Runs fn(ctx) once and returns its result (the seed's profile_comprehensive). n_samples is how
 * many predictions the workload makes (>= 1). Fills *memory and *time (either may be NULL) and
 * records the profile under name in p, for sc_report_create().
 */
void *sc_profile_comprehensive(sc_profiler *p, const char *name, sc_workload_fn fn, void *ctx,
                               uint64_t n_samples, sc_memory_profile *memory,
                               sc_time_profile *time);

/*
 * Calls fn(ctx, i) for i in [0, n_samples), timing every call into a histogram (fixed memory), and
 * fills *memory and *time with per-sample latency percentiles. Returns 0 or SC_EINVAL/SC_ENOMEM.
 */
int sc_profile_samples(sc_profiler *p, const char *name, sc_sample_fn fn, void *ctx,
                       uint64_t n_samples, sc_memory_profile *memory, sc_time_profile *time);

/* ---- the report model --------------------------------------------------------------------- */

/* One run of a command, measured by wait4 and /proc. */
typedef struct sc_run {
	double wall_s;
	double user_s;
	double sys_s;
	double peak_rss_mb; /* the command's own peak RSS (see docs/metrics.md) */
	int64_t minor_faults;
	int64_t major_faults;
	int64_t voluntary_context_switches;
	int64_t involuntary_context_switches;
	int64_t read_bytes;  /* storage I/O, rusage ru_inblock * 512 */
	int64_t write_bytes; /* storage I/O, rusage ru_oublock * 512 */
	int exit_code;       /* -1 when killed by a signal */
	int signal;          /* 0 unless killed by a signal */
	bool timed_out;
} sc_run;

/* One point of a memory/CPU timeline of a process tree. */
typedef struct sc_timeline_point {
	double t_s;         /* since the start of the run */
	double rss_mb;      /* sum over the process tree */
	double cpu_percent; /* 100 = one core busy over the interval */
	int processes;
} sc_timeline_point;

/* A figure reported as unavailable, and why. */
typedef struct sc_unavailable {
	char field[48]; /* dotted JSON path inside the profile, e.g. "memory.peak_memory_mb" */
	char reason[200];
} sc_unavailable;

#define SC_MAX_UNAVAILABLE 16
#define SC_MAX_WARNINGS    16

/* A warning about the measurement itself (hyperfine-style), with the action to take. */
typedef struct sc_warning {
	char id[32];       /* "short-runs", "outliers", "slow-first-run", "high-variance", ... */
	char message[256]; /* what was seen, with numbers */
	char action[200];  /* what to do about it */
} sc_warning;

typedef struct sc_resources {
	double cpu_user_s; /* mean per run */
	double cpu_sys_s;
	double cpu_utilization;
	int64_t read_bytes; /* mean per run, -1 unavailable */
	int64_t write_bytes;
	int64_t minor_faults;
	int64_t major_faults;
	int64_t voluntary_context_switches;
	int64_t involuntary_context_switches;
} sc_resources;

/* ---- heap profile (the LD_PRELOAD shim, docs/metrics.md "Heap") ---------------------------- */

/* One frame of an allocation's call stack. module/function/file are NULL when unknown; the CLI
 * symbolizes (libdw) after the run, never the profiled process. */
typedef struct sc_heap_frame {
	uint64_t address; /* return address in the profiled process */
	char *module;     /* path of the object holding it */
	uint64_t offset;  /* address - the module's load base */
	char *function;
	char *file;
	int line; /* 0 when unknown */
} sc_heap_frame;

/* Where allocations came from: one distinct call stack. In sampled mode the figures are unbiased
 * estimates (each sampled block weighs 1 / P(sampled)); with sites=all they are exact. */
typedef struct sc_heap_site {
	sc_heap_frame *frames; /* innermost first: frames[0] called the allocation function */
	size_t n_frames;
	double allocations;
	double bytes;
	double leaked_blocks; /* live at exit */
	double leaked_bytes;
	double lost_bytes;  /* live at exit and unreachable (leak scan); NAN without the scan */
	double bytes_error; /* relative standard error of bytes (0 when exact) */
} sc_heap_site;

#define SC_HEAP_SIZE_BUCKETS 64

/* The heap behaviour of one run of a command under the shim (or of a region in-process). Counts
 * are exact (valgrind's "total heap usage" rules: a moving realloc is one allocation and one
 * free, free(NULL) is nothing). Byte figures of live memory are malloc_usable_size bytes in
 * sampled mode and requested bytes with sites=all: live_basis says which. */
typedef struct sc_heap_profile {
	bool available;   /* false: nothing below is measured; reason says why */
	char reason[200]; /* why not available, or "" */
	bool complete;    /* false: the process did not exit normally (incomplete_reason) */
	char incomplete_reason[120];
	const char *sites_mode; /* "sampled", "all", or "none" (an in-process region: no sites) */
	uint64_t sample_bytes;  /* mean sampling interval; 0 with sites=all */
	int64_t allocations;
	int64_t frees;
	int64_t bytes_allocated;       /* requested bytes, all allocations */
	int64_t temporary_allocations; /* freed with no other allocation by that thread between */
	double allocations_per_sample; /* allocations / n_samples; NAN when -n was not given */
	const char *live_basis;        /* "usable" or "requested" (static strings) */
	int64_t peak_live_bytes;
	double peak_live_s;            /* when, in seconds since the process started being traced */
	int64_t peak_live_error_bytes; /* bound on the peak's error (threads flush in batches) */
	int64_t leaked_blocks;         /* live at exit */
	int64_t leaked_bytes;
	int64_t lost_blocks; /* leak scan (sites=all): unreachable at exit; -1 without it */
	int64_t lost_bytes;
	int64_t reachable_blocks; /* still reachable at exit; -1 without the scan */
	int64_t reachable_bytes;
	int64_t arena_bytes;  /* the allocator's memory from the kernel at exit; -1 unknown */
	int64_t in_use_bytes; /* of which in allocated blocks; -1 unknown */
	uint64_t size_buckets[SC_HEAP_SIZE_BUCKETS]; /* [0] size 0; [k] sizes in [2^(k-1), 2^k) */
	sc_heap_site *sites;                         /* sorted by bytes, largest first */
	size_t n_sites;
	size_t processes;       /* traced processes (1 unless --follow-children) */
	double run_wall_s;      /* the instrumented run's wall time */
	double slowdown;        /* run_wall_s / mean of the timed runs: the shim's overhead */
	double run_peak_rss_mb; /* the instrumented run's peak RSS, beside peak_live_bytes */
} sc_heap_profile;

/* ---- leak check (sc_leak_check) ---------------------------------------------------------- */

/* The verdict of a leak check over repeated iterations of a workload (or of a command's timeline
 * and leaked-at-exit sites). */
typedef struct sc_leak_result {
	const char *verdict; /* "leak", "plateau", "none" or "unknown" (static strings); NULL when
	                        no leak check was made */
	const char *basis;   /* "live heap" (the shim was loaded) or "rss" (static strings) */
	size_t iterations;   /* measured iterations (after the warm-up ones) */
	size_t warmup;
	double slope_bytes; /* growth per iteration (per second for a command, over its timeline),
	                       least squares over the measured points */
	double slope_ci95_low;
	double slope_ci95_high;
	double second_half_slope_bytes; /* the same over the second half: ~0 for a plateau */
	double total_growth_bytes;      /* last - first measured value */
	char reason[200];               /* why the verdict (one sentence with the numbers) */
} sc_leak_result;

/* ---- CPU samples: where the CPU time goes (docs/metrics.md "CPU samples") ----------------- */

#define SC_CPU_MAX_HOTSPOTS 100  /* functions kept in a profile's hotspot table */
#define SC_CPU_MAX_LINES    5    /* hottest source lines kept per function */
#define SC_CPU_MAX_STACKS   5000 /* distinct stacks kept; the rest are summed into one */

/* A source line inside a hot function: the samples whose exact instruction was on it. */
typedef struct sc_cpu_line {
	char *file;
	int line;
	uint64_t samples;
	double percent; /* of all samples, 0..100 */
} sc_cpu_line;

/* One function (unsymbolized: one "module+0xoffset") and the samples that fell in it. */
typedef struct sc_cpu_hotspot {
	char *function;         /* "gbm_predict_row", or "libfoo.so+0x1a2b" when unknown */
	char *module;           /* path of the object holding it; NULL when unknown */
	char *file;             /* where the function is defined; NULL when unknown */
	int line;               /* its first line; 0 when unknown */
	uint64_t self_samples;  /* samples whose innermost frame is in it (exact: the sampled IP) */
	uint64_t total_samples; /* samples with it anywhere on the stack, each counted once */
	double self_percent;    /* of all samples, 0..100 */
	double total_percent;
	sc_cpu_line *lines; /* hottest lines by self samples, at most SC_CPU_MAX_LINES */
	size_t n_lines;
} sc_cpu_hotspot;

/* One distinct call stack, symbolized to function names (inlined functions are frames of their
 * own), outermost first as the folded format writes it, and how many samples had it. */
typedef struct sc_cpu_stack {
	char **frames;
	size_t n_frames;
	uint64_t samples;
} sc_cpu_stack;

/* The CPU sampling profile of one run (a command's instrumented run, or an in-process workload). */
typedef struct sc_cpu_profile {
	bool available;         /* false: nothing below is measured; reason says why */
	char reason[200];       /* why not available, or "" */
	const char *sampler;    /* "perf_event" or "timer" (static strings); NULL when none ran */
	char sampler_note[200]; /* why that sampler ("perf_event_open: Permission denied: ..."), or
	                           "" */
	const char *call_graph; /* "fp" (frame pointers) or "dwarf" (static strings) */
	double rate_hz;         /* the sampling rate asked for */
	uint64_t samples;       /* samples collected, each counted for the periods it stands for */
	uint64_t lost_samples;  /* samples the kernel or a full buffer dropped */
	size_t threads;         /* distinct threads sampled */
	size_t processes;       /* distinct processes sampled */
	double duration_s;      /* the sampled run's wall time */
	double cpu_s;           /* samples / rate_hz: the CPU time the samples stand for */
	/* 1; N when the collector passed its memory bound and kept 1 sample in N, each weighing the
	 * N it stands for (sampler_note says so) */
	uint32_t kept_one_in;
	sc_cpu_hotspot *hotspots; /* by self samples, then total; at most SC_CPU_MAX_HOTSPOTS */
	size_t n_hotspots;
	sc_cpu_stack *stacks; /* by samples, largest first; at most SC_CPU_MAX_STACKS, the rest
	                         summed into one stack whose only frame is "[other stacks]" */
	size_t n_stacks;
} sc_cpu_profile;

/* ---- regions: components of a program (sc_region_begin/end) ------------------------------- */

/* One named region, aggregated over every time it was entered. Regions nest: a region entered
 * while another is open is its child (parent names it). */
typedef struct sc_region_stats {
	char name[64];
	char parent[64]; /* "" at the top level */
	int depth;       /* 0 at the top level */
	uint64_t calls;
	double total_s;     /* inclusive wall time, all calls */
	double self_s;      /* total_s minus the time in child regions */
	double share;       /* total_s / the parent's total_s (top level: of the profile's time) */
	sc_latency latency; /* per call, from a fixed-size histogram */
	double memory_increase_mb; /* RSS when the figures are taken minus RSS at the first entry */
	int64_t allocations;       /* with the heap shim loaded; -1 otherwise */
	int64_t bytes_allocated;   /* -1 without the shim */
	int64_t cpu_samples; /* CPU samples taken while it was open (inclusive); -1 unsampled */
	double cpu_percent;  /* cpu_samples / the profile's samples, 0..100; NAN unsampled */
	char cpu_top_function[96]; /* the function with the most self samples inside it, or "" */
} sc_region_stats;

/* A function, a set of samples or a command, with everything measured about it. */
typedef struct sc_profile {
	char *name;
	const char *kind;   /* "function", "samples", "leak-check" or "command" (static strings) */
	char *command;      /* the command line as the user gave it; NULL for in-process kinds */
	uint64_t n_samples; /* predictions per run (1 when not given) */
	sc_run *runs;       /* timed runs, in order; NULL/0 for in-process kinds */
	size_t n_runs;
	size_t n_warmup;
	sc_summary total_time; /* over runs (commands) or the single call (in-process, n = 1) */
	double avg_time_per_sample;
	double throughput_samples_per_sec;
	sc_latency latency;
	sc_memory_profile memory;
	sc_resources resources;
	sc_heap_profile heap;     /* heap.available false when the shim did not run */
	sc_leak_result leak;      /* leak.verdict NULL unless a leak check was made */
	sc_cpu_profile cpu;       /* cpu.available false when no sampler ran */
	sc_region_stats *regions; /* components, in order of first entry */
	size_t n_regions;
	sc_timeline_point *timeline; /* from one extra, sampled run (commands) */
	size_t n_timeline;
	double timeline_interval_s; /* final sampling interval (adaptive) */
	sc_warning warnings[SC_MAX_WARNINGS];
	size_t n_warnings;
	sc_unavailable unavailable[SC_MAX_UNAVAILABLE];
	size_t n_unavailable;
} sc_profile;

/* ---- analysis: findings, recommendations, requirements, baselines -------------------------- */

#define SC_MAX_EVIDENCE 6

/* One number behind a finding, named as in the JSON report ("allocations_per_sample"). */
typedef struct sc_evidence {
	char name[40];
	double value;
	char unit[16]; /* "ms", "bytes", "%", "" ... */
} sc_evidence;

typedef enum sc_severity {
	SC_SEVERITY_INFO,
	SC_SEVERITY_WARNING,
	SC_SEVERITY_CRITICAL
} sc_severity;

/* A bottleneck found by a rule of analyze.c (docs/metrics.md lists every rule). */
typedef struct sc_bottleneck {
	char id[32]; /* the rule: "cpu-bound", "allocation-churn", ... */
	sc_severity severity;
	char profile[128]; /* the profile's name */
	char region[64];   /* "" for the whole profile */
	char message[256]; /* one line with the numbers */
	double share;      /* share of the profile's time or memory the finding concerns, 0..1 */
	double confidence; /* 0..1: lowered when the measurement is unstable */
	sc_evidence evidence[SC_MAX_EVIDENCE];
	size_t n_evidence;
} sc_bottleneck;

/* An action for a finding (advise.c), ranked by the share it addresses. */
typedef struct sc_recommendation {
	char id[32];      /* the action: "batching", "object-pool", ... */
	char finding[32]; /* the bottleneck id it answers; "" for "healthy" */
	char profile[128];
	char action[256];   /* what to do */
	char expected[96];  /* the expected improvement, e.g. "2-10x throughput" (seed tables) */
	char evidence[200]; /* the numbers that call for it */
	double share;       /* for ranking */
} sc_recommendation;

/* One production-readiness requirement, "latency_p99_ms<=100". */
typedef struct sc_requirement {
	char metric[32]; /* latency_ms, latency_p50_ms ... latency_p999_ms, throughput,
	                    peak_memory_mb, memory_increase_mb, allocations_per_sample,
	                    leaked_bytes, cpu_utilization */
	char op[3];      /* "<=", "<", ">=", ">" */
	double limit;    /* in the metric's unit */
} sc_requirement;

#define SC_MAX_REQUIREMENTS 32

typedef struct sc_requirements {
	sc_requirement items[SC_MAX_REQUIREMENTS];
	size_t n;
} sc_requirements;

/* Parses "metric OP limit[unit], ..." (units optional where unambiguous: "100ms", "1.5GB").
 * Returns 0, or SC_EPARSE with *error_pos (0-based byte offset) and a one-line message. */
int sc_requirements_parse(const char *text, sc_requirements *out, size_t *error_pos, char *err,
                          size_t err_cap);

/* The outcome of one requirement for one profile. */
typedef struct sc_check {
	char name[64]; /* the requirement as text, "latency_p99_ms<=100" */
	char profile[128];
	char metric[32];
	char op[3];
	double limit;
	double value;     /* the point estimate; NAN when the profile lacks the metric */
	double bound;     /* the conservative end of its 95% interval, the one compared */
	bool pass;        /* false also when the value is unavailable */
	char reason[160]; /* why it could not be evaluated, or "" */
} sc_check;

/* One metric of one profile against a baseline report. */
typedef struct sc_regression {
	char profile[128];
	char metric[32]; /* "total_time", "throughput", "latency_p99_ms", "peak_memory_mb", ... */
	double old_value;
	double new_value;
	double change;       /* (new - old) / old, signed so that > 0 is worse */
	double change_error; /* half-width of its 95% interval (NAN when not computable) */
	const char *method;  /* "welch-t", "exact" (counts), ... (static strings) */
	bool regression;     /* worse than the threshold with 95% confidence */
	bool improvement;
} sc_regression;

/* One profile's place in a comparison (shotclock compare, sc_compare). */
typedef struct sc_comparison_entry {
	char profile[128];
	size_t rank;                 /* 1 = best by the sort key */
	double relative_speed;       /* mean time per sample / the fastest one's (>= 1): the fastest
	                                by time, whatever the sort key; NAN when not timed */
	double relative_speed_error; /* its 95% half-width (delta method, docs/metrics.md) */
	bool significant; /* the difference from the fastest is significant (Welch, 95%) */
} sc_comparison_entry;

typedef struct sc_report {
	char created[32]; /* ISO 8601 UTC, e.g. "2026-11-25T04:50:00Z" */
	sc_system_info system;
	sc_profile *profiles;
	size_t n_profiles;
	sc_bottleneck *bottlenecks; /* analysis: sc_report_analyze */
	size_t n_bottlenecks;
	sc_recommendation *recommendations;
	size_t n_recommendations;
	sc_check *checks; /* sc_report_check_requirements */
	size_t n_checks;
	sc_regression *regressions; /* sc_report_compare_baseline */
	size_t n_regressions;
	double max_regression; /* the threshold the regressions were judged by; NAN when none */
	sc_comparison_entry *comparison; /* sc_report_rank: profiles ranked, fastest first */
	size_t n_comparison;
	const char *comparison_sort; /* "throughput", "latency" or "memory"; NULL when not ranked */
	const char *verdict; /* "pass", "fail" or NULL when nothing was checked (static strings) */
} sc_report;

/* ---- profiling a command ------------------------------------------------------------------ */

typedef enum sc_output_mode {
	SC_OUTPUT_NULL,    /* the command's stdout and stderr go to /dev/null (default) */
	SC_OUTPUT_INHERIT, /* the command writes to our stdout and stderr */
	SC_OUTPUT_FILE     /* both go to output_path, truncated once before the first run */
} sc_output_mode;

/* Progress of sc_command_profile, for a caller that wants to show it. */
typedef struct sc_progress {
	const char *phase; /* "warmup", "run", "timeline", "heap", "sampled" (static strings) */
	size_t index;      /* 0-based run index within the phase */
	size_t planned;    /* runs planned so far in the phase (may grow while time allows) */
	double last_wall_s;
} sc_progress;

typedef struct sc_command_options {
	char *const *argv;  /* the command; argv[0] is searched in PATH unless it contains a '/' */
	bool shell;         /* run argv[0] through "/bin/sh -c" instead (argv[1..] are $0, $1...) */
	const char *name;   /* profile name; NULL -> the command line */
	uint64_t n_samples; /* predictions per run; 0 means not given (treated as 1) */
	size_t runs;        /* exact number of timed runs; 0 -> automatic (min_runs, min_time_s) */
	size_t min_runs;    /* automatic: at least this many runs (0 -> 5) */
	size_t max_runs;    /* automatic: at most this many runs (0 -> 1000) */
	double min_time_s;  /* automatic: keep running until this much time has passed (<0 -> 3) */
	size_t warmup;      /* untimed runs first */
	double timeout_s;   /* per run; 0 -> none. On expiry the whole process group is killed */
	sc_output_mode output;
	const char *output_path;    /* with SC_OUTPUT_FILE */
	bool ignore_failure;        /* keep going when a run fails; the runs stay in the profile */
	bool no_timeline;           /* skip the extra run that samples memory and CPU every 10 ms */
	bool no_heap;               /* skip the extra run under the heap shim */
	bool heap_sites_all;        /* stream every allocation (exact sites, leak scan); slower */
	uint64_t heap_sample_bytes; /* mean sampling interval; 0 -> 512 KiB */
	bool follow_children;       /* trace the command's children too */
	bool no_cpu_samples;        /* do not sample CPU stacks during the instrumented run */
	double cpu_sample_rate_hz;  /* samples per second per thread; 0 -> 997 */
	const char *cpu_call_graph; /* "fp" (NULL: the default) or "dwarf" */
	const char *cpu_sampler; /* "auto" (NULL), "perf_event" or "timer" (the fallback, forced) */
	const char
	    *heap_shim_path;      /* NULL -> $SHOTCLOCK_HEAP_SHIM, beside the executable, install */
	const char *spawner_path; /* NULL -> $SHOTCLOCK_SPAWNER, then beside the executable, then
	                             the install location */
	void (*progress)(void *ctx, const sc_progress *progress);
	void *progress_ctx;
} sc_command_options;

/* Why sc_command_profile stopped with SC_ECOMMAND / SC_ENOTFOUND / SC_ENOEXEC / SC_ESPAWN. */
typedef struct sc_command_failure {
	const char *phase; /* "warmup", "run", "timeline", "heap" or "sampled" */
	size_t run_index;  /* 0-based, within the phase */
	int exit_code;     /* -1 when killed by a signal */
	int signal;
	bool timed_out;
	int sys_errno;     /* for spawn failures */
	char message[256]; /* one line: "run 3 exited with code 2", "...killed by SIGSEGV" */
} sc_command_failure;

/*
 * Profiles a command: warm-up runs, timed runs (each spawned by a small static helper process so
 * that the command's peak RSS is its own, see docs/metrics.md), then one extra run that samples
 * RSS and CPU of the process tree into a timeline, and one under the heap shim (unless no_heap)
 * whose CPU stacks are sampled (unless no_cpu_samples; with no_heap that run is plain, phase
 * "sampled"), and judges growth into out->leak. Fills *out (release with sc_profile_release).
 * Returns 0; SC_ENOTFOUND (command not found), SC_ENOEXEC, SC_ESPAWN, SC_ECOMMAND (a run failed
 * and !ignore_failure; *out is then still filled with the runs so far) with *failure filled.
 */
int sc_command_profile(const sc_command_options *o, sc_profile *out, sc_command_failure *failure);

/* Releases what a profile owns (names, runs, timeline); the struct itself is the caller's. */
void sc_profile_release(sc_profile *profile);

/* An empty report with the system information and the creation time filled in. */
int sc_report_new(sc_report **out);
/* Moves *profile into r (r owns it afterwards; *profile is zeroed). */
int sc_report_add_profile(sc_report *r, sc_profile *profile);
/* Fills function, file and line of every frame of every heap site in r from the modules' files
 * and their debug information, read with libdw (CPU samples are named when their profile is
 * built). A frame whose module cannot be read keeps them NULL (printed as "??"). Returns 0, or
 * SC_ENOMEM (frames done so far keep their names). */
int sc_report_symbolize(sc_report *r);

/* A report from every profile p recorded, plus the system information; free with
 * sc_report_free(). */
int sc_report_create(const sc_profiler *p, sc_report **out);
void sc_report_free(sc_report *r);

/* Writes r as JSON (schema SC_REPORT_SCHEMA, docs/report-format.md) to path atomically: a
 * temporary file in the same directory, then rename(2); on failure nothing is left behind. */
int sc_report_export_json(const sc_report *r, const char *path);

/* Writes r in format "json", "md" (Markdown tables), "csv" (one row per profile and per run,
 * docs/report-format.md) or "html" (one self-contained file, inline SVG charts), atomically.
 * SC_EINVAL for an unknown format. */
int sc_report_export(const sc_report *r, const char *format, const char *path);

/* Writes r in one of the formats of sc_report_export to out, which stays open (not atomic: for
 * standard output). SC_EINVAL for an unknown format, SC_EIO when a write failed. */
int sc_report_write(const sc_report *r, const char *format, FILE *out);

/* Ranks the profiles of r by sort ("throughput" (default when NULL), "latency" or "memory") into
 * r->comparison, with relative speeds and their significance. */
int sc_report_rank(sc_report *r, const char *sort);

/* Regions: components of a pipeline. Nestable (32 deep; deeper ones are dropped and counted);
 * the innermost open region is the one that ends. Cheap enough to wrap every prediction
 * (docs/metrics.md, "Regions", gives the cost). Regions entered during sc_profile_comprehensive /
 * sc_profile_samples belong to that profile; others to a profile of kind "regions" that
 * sc_report_create adds. Under `shotclock run` they also reach the command's profile through
 * SHOTCLOCK_REGIONS, with no change to the build. A profiler's regions must be entered from one
 * thread at a time: use one profiler per thread. name is compared by address first: pass a string
 * whose text does not change at that address (a literal). A region still open when the figures
 * are taken is closed then and flagged. SC_REGION(p, name) { ... } wraps a block (leaving it with
 * break, return or goto skips the end); it evaluates p twice. */
void sc_region_begin(sc_profiler *p, const char *name);
void sc_region_end(sc_profiler *p);
#define SC__REGION_CAT2(a, b) a##b
#define SC__REGION_CAT(a, b)  SC__REGION_CAT2(a, b)
#define SC__REGION_ONCE       SC__REGION_CAT(sc_region_once_, __LINE__)
#define SC_REGION(p, name)                                                                         \
	for (int SC__REGION_ONCE = (sc_region_begin((p), (name)), 1); SC__REGION_ONCE;             \
	     sc_region_end(p), SC__REGION_ONCE = 0)

/* The seed's Pattern 1: each candidate's fn(ctx) makes n_samples predictions; the candidates run
 * interleaved (A B C A B C ...) `rounds` times, each recorded as a profile under its name, and
 * the report ranks them (sc_report_rank). */
typedef struct sc_candidate {
	const char *name;
	sc_workload_fn fn;
	void *ctx;
} sc_candidate;
int sc_compare(sc_profiler *p, const sc_candidate *candidates, size_t n, uint64_t n_samples,
               size_t rounds);

/*
 * Profiles n >= 2 commands interleaved (shotclock compare): warm-up rounds, then timed rounds in
 * each of which every candidate runs once (A B C A B C ...), so that a drift in the machine's
 * speed reaches all alike; then each one's timeline and heap runs, as sc_command_profile does.
 * The run plan (runs, min_runs, max_runs, min_time_s, warmup) is o[0]'s and counts per candidate;
 * in automatic mode rounds go on until every candidate has min_runs and min_time_s has passed
 * since the first round. out[i], failures[i] and status[i] receive each candidate's profile,
 * failure and sc_command_profile-style status. A candidate that fails leaves the rounds; with
 * keep_going the others go on, otherwise the comparison stops (the others' status is then
 * SC_ECOMMAND, their failure message says why). *failed is the index of the first candidate that
 * failed, n when none did. Returns 0, that candidate's status, or SC_EINVAL / SC_ENOMEM.
 */
int sc_command_compare(const sc_command_options *o, size_t n, bool keep_going, sc_profile *out,
                       sc_command_failure *failures, int *status, size_t *failed);

/*
 * Splits a command line into words the way a POSIX shell does, without expanding anything:
 * blanks (space, tab, newline) separate words; '...' keeps everything literally; "..." keeps
 * everything but lets a backslash escape $ ` " \ and newline; outside quotes a backslash escapes
 * any character (backslash-newline joins lines). $, *, ~ and the like are ordinary characters.
 * Fills *words (NULL-terminated, *n words; free with sc_words_free). Returns 0 (an empty or
 * blank text gives *n == 0), SC_EPARSE with one line in err (an unterminated quote, a trailing
 * backslash) or SC_ENOMEM.
 */
int sc_split_words(const char *text, char ***words, size_t *n, char *err, size_t err_cap);
void sc_words_free(char **words);

/* Reads a report written by sc_report_export_json (schema SC_REPORT_SCHEMA only). Returns 0, or
 * SC_EIO / SC_EPARSE with one line in err naming the problem (file, line and column for JSON). */
int sc_report_read_json(const char *path, sc_report **out, char *err, size_t err_cap);

/* Runs every bottleneck rule on every profile of r and fills r->bottlenecks and
 * r->recommendations (replacing earlier ones). req may be NULL; with it, rules that compare with
 * a requirement (latency, throughput, memory) use its limits. */
int sc_report_analyze(sc_report *r, const sc_requirements *req);

/* Evaluates req on every profile of r into r->checks and sets r->verdict ("fail" if any check
 * fails). A check passes only when the conservative end of the metric's 95% interval meets it. */
int sc_report_check_requirements(sc_report *r, const sc_requirements *req);

/* Compares every profile present (by name) in both reports on time, throughput, latency
 * percentiles, peak memory and allocations; fills new_report->regressions and sets its verdict
 * to "fail" on any regression beyond max_regression (a fraction: 0.05 = 5%) with 95% confidence. */
int sc_report_compare_baseline(sc_report *new_report, const sc_report *baseline,
                               double max_regression);

/*
 * Leak check (the seed's Pattern 2): runs fn(ctx) `warmup` times, then `iterations` times,
 * measuring the live heap (when the heap shim is loaded; RSS otherwise) after each, fits the
 * growth per iteration with a 95% interval and tells a leak (steady growth) from a plateau (a
 * cache that fills) and from noise. Records a profile of kind "leak-check" under name in p and
 * fills *out. Returns 0 or SC_EINVAL / SC_ENOMEM.
 */
int sc_leak_check(sc_profiler *p, const char *name, sc_workload_fn fn, void *ctx, size_t warmup,
                  size_t iterations, sc_leak_result *out);

#ifdef __cplusplus
}
#endif
#endif

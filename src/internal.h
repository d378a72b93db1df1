/* internal.h: sc__ declarations shared between libshotclock's source files (not installed). */
#ifndef SC_INTERNAL_H
#define SC_INTERNAL_H

#include "heap_wire.h"
#include "shotclock.h"

#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>

/* ---- clock.c: monotonic and CPU clocks ----------------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds (vDSO, no system call). */
uint64_t sc__now_ns(void);

/* The clock the in-process profiler reads; tests replace it to get deterministic figures. */
typedef uint64_t (*sc__clock_fn)(void *ctx);
typedef struct sc__clock {
	sc__clock_fn now_ns;
	void *ctx;
} sc__clock;
/* The real clock: sc__now_ns. */
sc__clock sc__clock_real(void);

/* This process's user and system CPU seconds (getrusage RUSAGE_SELF). */
void sc__cpu_self(double *user_s, double *sys_s);

/*
 * A fast tick counter for timing every sample: the TSC on x86-64 when it is invariant (constant_tsc
 * and nonstop_tsc in /proc/cpuinfo), otherwise CLOCK_MONOTONIC ns. Callers convert ticks to ns by
 * calibrating against sc__now_ns over the same interval they measured, so no separate calibration
 * delay is needed.
 */
bool sc__tsc_usable(void);
#if defined(__x86_64__)
static inline uint64_t sc__rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
#endif

/* Seconds from a struct timeval. */
double sc__timeval_s(struct timeval tv);

/* ---- stats.c ----------------------------------------------------------------------------- */

/* Student's t quantile t(0.975, df) for df >= 1 (NAN below): the half-width factor of a
 * two-sided 95% interval. A fractional df is rounded down up to 30, which widens the interval. */
double sc__t975(double df);

/* ---- procfs.c: pure parsers of /proc text (fixtures in tests/fixtures/proc) ---------------- */

/* Reads a whole (small) file into buf, NUL-terminated; *len excludes the NUL. A file longer than
 * cap - 1 is truncated. Returns 0, SC_ENOTFOUND (ENOENT/ESRCH) or SC_EIO. */
int sc__read_text_file(const char *path, char *buf, size_t cap, size_t *len);

/* /proc/PID/stat. Fields are numbered as in proc(5). */
typedef struct sc__proc_stat {
	int pid;             /* (1) */
	char comm[64];       /* (2) without the parentheses; may contain spaces and ')' */
	char state;          /* (3) */
	int ppid;            /* (4) */
	int pgrp;            /* (5) */
	uint64_t minflt;     /* (10) */
	uint64_t majflt;     /* (12) */
	uint64_t utime;      /* (14) clock ticks */
	uint64_t stime;      /* (15) clock ticks */
	int64_t num_threads; /* (20) */
	uint64_t starttime;  /* (22) clock ticks since boot */
	uint64_t vsize;      /* (23) bytes */
	int64_t rss;         /* (24) pages */
} sc__proc_stat;
int sc__parse_proc_stat(const char *text, sc__proc_stat *out);

/* /proc/PID/status; a field that is absent is -1. */
typedef struct sc__proc_status {
	int64_t vm_peak_kb;
	int64_t vm_size_kb;
	int64_t vm_hwm_kb;
	int64_t vm_rss_kb;
	int64_t rss_anon_kb;
	int64_t rss_file_kb;
	int64_t rss_shmem_kb;
	int64_t threads;
	int64_t voluntary_ctxt_switches;
	int64_t nonvoluntary_ctxt_switches;
} sc__proc_status;
int sc__parse_proc_status(const char *text, sc__proc_status *out);

/* /proc/PID/statm, in pages. */
typedef struct sc__proc_statm {
	uint64_t size;
	uint64_t resident;
	uint64_t shared;
	uint64_t text;
	uint64_t lib;
	uint64_t data;
	uint64_t dt;
} sc__proc_statm;
int sc__parse_proc_statm(const char *text, sc__proc_statm *out);

/* /proc/PID/io; absent fields are -1. */
typedef struct sc__proc_io {
	int64_t rchar;
	int64_t wchar;
	int64_t syscr;
	int64_t syscw;
	int64_t read_bytes;
	int64_t write_bytes;
	int64_t cancelled_write_bytes;
} sc__proc_io;
int sc__parse_proc_io(const char *text, sc__proc_io *out);

/* /proc/meminfo, kB; absent fields are -1. */
typedef struct sc__meminfo {
	int64_t mem_total_kb;
	int64_t mem_free_kb;
	int64_t mem_available_kb;
	int64_t buffers_kb;
	int64_t cached_kb;
	int64_t swap_total_kb;
	int64_t swap_free_kb;
} sc__meminfo;
int sc__parse_meminfo(const char *text, sc__meminfo *out);

/* /proc/loadavg. */
typedef struct sc__loadavg {
	double load[3];
	int64_t running;
	int64_t total;
	int64_t last_pid;
} sc__loadavg;
int sc__parse_loadavg(const char *text, sc__loadavg *out);

/* The first "model name" (x86) / "Model" / "Hardware" / "cpu model" value of /proc/cpuinfo. */
int sc__parse_cpuinfo_model(const char *text, char *model, size_t cap);

/* ---- memory.c: this process's memory ----------------------------------------------------- */

/* Resets this process's peak RSS (VmHWM) to its current RSS by writing "5" to
 * /proc/self/clear_refs (Linux >= 4.0). Returns false when the kernel refused. */
bool sc__self_reset_peak(void);
/* VmRSS and VmHWM of this process, kB. Returns 0 or an error. */
int sc__self_rss(int64_t *rss_kb, int64_t *hwm_kb);

/* ---- locate.c: the files shotclock ships beside its binary ------------------------------- */

/* Where the helper file_name is: the file named by $env_name, then file_name beside
 * /proc/self/exe, then install_path (NULL: none). A candidate counts when it is a regular file
 * that access() allows in mode (R_OK, X_OK) and fits in cap. Returns 0 and fills path,
 * SC_ENOTFOUND, or SC_EINVAL when path is NULL or cap 0. */
int sc__locate_helper(const char *env_name, const char *file_name, const char *install_path,
                      int mode, char *path, size_t cap);

/* ---- spawn.c: the client of shotclock-spawner ---------------------------------------------- */

/*
 * Every profiled run is started by shotclock-spawner, a small static helper process that we start
 * once. The kernel carries the peak RSS of a process's earlier images across execve (wait4's
 * ru_maxrss is max over all of them), and a child made by fork or vfork starts as an image of its
 * parent; so a command spawned by the (large) profiler would report the profiler's RSS whenever the
 * command is smaller. The spawner's own peak is a few hundred kB, below any dynamically linked
 * program. The wire format is in docs/spawner-protocol.md.
 */
typedef struct sc__spawner sc__spawner;

/* Starts the helper. stdout_fd/stderr_fd are the fds the commands write to (-1 -> /dev/null).
 * spawner_path NULL -> sc__spawner_locate(). */
int sc__spawner_new(const char *spawner_path, int stdout_fd, int stderr_fd, sc__spawner **out);
void sc__spawner_free(sc__spawner *s);

/* Where the helper is: $SHOTCLOCK_SPAWNER, then beside /proc/self/exe, then the install path.
 * Returns 0 and fills path, or SC_ENOTFOUND. */
int sc__spawner_locate(char *path, size_t cap);

/* The outcome of one child, measured by the spawner. */
typedef struct sc__exit {
	uint64_t wall_ns; /* from just before posix_spawn to wait4's return, in the spawner */
	int status;       /* as from wait4 */
	struct rusage ru;
} sc__exit;

/* Starts argv (PATH search when argv[0] has no '/') with envp (NULL -> our environ) in a new
 * process group. With pid, waits until the command runs and returns 0 and its pid, or
 * SC_ENOTFOUND, SC_ENOEXEC or SC_ESPAWN (with *err_no). With pid NULL, only sends the request:
 * nothing wakes the caller while the command starts (cheaper for the timed window), and a failure
 * to start is returned by sc__spawner_finish. */
int sc__spawner_start(sc__spawner *s, char *const argv[], char *const envp[], pid_t *pid,
                      int *err_no);
/* Whether the helper died or stopped making sense: every later call fails with SC_ESPAWN. */
bool sc__spawner_lost(const sc__spawner *s);
/* The helper's own pid (its VmHWM is the floor under which a command's peak is only a bound). */
pid_t sc__spawner_pid(const sc__spawner *s);
/* The fd that becomes readable when the child started last has exited (for poll). */
int sc__spawner_fd(const sc__spawner *s);
/* Reads the outcome of the child started last; blocks until it has exited. Returns 0, the start's
 * SC_ENOTFOUND/SC_ENOEXEC/SC_ESPAWN when it was started without pid, or SC_ESPAWN when the helper
 * died (errno value in *err_no, which may be NULL). */
int sc__spawner_finish(sc__spawner *s, sc__exit *out, int *err_no);

/* ---- command.c: one command's profile, run step by step ------------------------------------ */

/*
 * sc_command_profile is new, warm-ups, steps, finish; sc_command_compare interleaves the steps
 * of several sessions. _new checks o, starts the session's spawner and fills out's identity
 * (on failure out is released and failure filled). _warmup runs warm-up run `index`; _step one
 * timed run appended to out->runs (planned: for progress). Each returns 0 or the run's error
 * with *failure filled (SC_ECOMMAND: the run failed and !o->ignore_failure; a timed run is kept).
 * _finish(s, rc), with rc the first error of the steps (0 if none), runs the timeline and heap
 * runs unless rc, derives the figures, frees s and returns sc_command_profile's status.
 */
typedef struct sc__command_session sc__command_session;
int sc__command_session_new(const sc_command_options *o, sc_profile *out,
                            sc_command_failure *failure, sc__command_session **s);
int sc__command_session_warmup(sc__command_session *s, size_t index);
int sc__command_session_step(sc__command_session *s, size_t planned);
int sc__command_session_finish(sc__command_session *s, int rc);

/* ---- sampler.c: RSS and CPU timeline of a process tree ------------------------------------- */

typedef struct sc__sampler sc__sampler;

/* The first sampling interval: a run shorter than this gets no point. */
#define SC__SAMPLER_FIRST_INTERVAL_NS (10u * 1000u * 1000u)

/* Samples the tree rooted at root (found through /proc/PID/task/TID/children, or by scanning
 * /proc for the process group when that file is missing). Interval starts at 10 ms; when the
 * timeline reaches max_points, neighbouring points are merged and the interval doubles. */
int sc__sampler_new(pid_t root, uint64_t start_ns, size_t max_points, sc__sampler **out);
void sc__sampler_free(sc__sampler *s);
/* When the next sample is due (monotonic ns). */
uint64_t sc__sampler_due_ns(const sc__sampler *s);
/* Takes one sample at now_ns. A vanished process is not an error. */
void sc__sampler_tick(sc__sampler *s, uint64_t now_ns);
/* Hands the points over (caller frees *points with free()). */
void sc__sampler_take(sc__sampler *s, sc_timeline_point **points, size_t *n, double *interval_s);
/* The largest VmHWM seen in any sampled process, kB (-1 if none). */
int64_t sc__sampler_max_hwm_kb(const sc__sampler *s);

/* ---- heap_decode.c: the heap shim's records, aggregated (pure; src/heap_wire.h) ------------ */

typedef struct sc__heap_agg sc__heap_agg;

int sc__heap_agg_new(sc__heap_agg **out);
void sc__heap_agg_free(sc__heap_agg *a);
/* Feeds bytes as read from the stream, split anywhere. Returns 0, or SC_EPARSE with a one-line
 * description in err (the aggregate keeps what it decoded before the bad batch). */
int sc__heap_agg_feed(sc__heap_agg *a, const void *buf, size_t len, char *err, size_t err_cap);
/* Takes the counters file (len bytes mapped from it). SC_EPARSE when it is not one. */
int sc__heap_agg_counters(sc__heap_agg *a, const void *counters, size_t len, char *err,
                          size_t err_cap);
/* The heap profile of process root_pid (and, counted in processes, its traced descendants).
 * Sites carry address/module/offset; function/file/line stay NULL (sc_report_symbolize names them).
 */
int sc__heap_agg_result(const sc__heap_agg *a, uint32_t root_pid, sc_heap_profile *out);

/* ---- heap_region.c: heap figures of an in-process region ------------------------------------ */

/* A snapshot of the shim's counters at the start of a region; ok false when the shim is not
 * loaded (or not counting) in this process. */
typedef struct sc__heap_region {
	bool ok;
	heap_snapshot_fn snapshot;
	struct heap_snapshot before;
} sc__heap_region;

/* Takes the snapshot and restarts the shim's peak from the current live bytes. Call it last
 * before the region, so the profiler's own allocations stay outside. */
void sc__heap_region_begin(sc__heap_region *r);
/* Fills *out with the region's allocations, frees, bytes, temporaries, peak and what it kept
 * live (usable bytes); unavailable, with the reason, when the shim is not loaded. */
void sc__heap_region_end(const sc__heap_region *r, uint64_t n_samples, sc_heap_profile *out);

/* ---- heap.c: the collector of one instrumented run --------------------------------------- */

typedef struct sc__heap_session sc__heap_session;

/* Where the shim is: $SHOTCLOCK_HEAP_SHIM, beside /proc/self/exe, then the install path. */
int sc__heap_shim_locate(char *path, size_t cap);
/* Whether the shim can work in the program at path (argv[0] resolved): SC_EUNAVAILABLE with the
 * reason for a static binary (no PT_INTERP) or a set-user/group-ID one (the loader ignores
 * LD_PRELOAD), 0 otherwise. */
int sc__heap_check_executable(const char *path, char *reason, size_t cap);
/* Makes the run's directory (stream FIFO and counters file) and starts the reader thread. */
int sc__heap_session_new(const sc_command_options *o, sc__heap_session **out);
/* The environment for the instrumented run: ours plus LD_PRELOAD and SHOTCLOCK_HEAP_*; owned by
 * the session. */
char *const *sc__heap_session_envp(const sc__heap_session *s);
/* After the run ended (wait_status as from wait4): drains the stream, reads the counters and
 * fills *out; a run killed by a signal is reported incomplete, with what was recorded. */
int sc__heap_session_finish(sc__heap_session *s, pid_t pid, int wait_status, sc_heap_profile *out);
/* Stops the reader and removes the directory. */
void sc__heap_session_free(sc__heap_session *s);
/* Asks the shim to sample CPU stacks with per-thread timers (the fallback when perf_event_open is
 * not permitted) at rate_hz. Before sc__heap_session_envp is read. 0 or SC_ENOMEM. */
int sc__heap_session_enable_cpu_timer(sc__heap_session *s, double rate_hz);
/* After sc__heap_session_finish: moves the timer sampler's samples, and the mappings of the
 * objects the MODULE records announced (bias known), into *raw (struct sc__cpu_raw,
 * cpu_samples.h). 0 or SC_ENOMEM. */
struct sc__cpu_raw;
int sc__heap_session_take_cpu(sc__heap_session *s, struct sc__cpu_raw *raw);
/* Whether the timer sampler ran in the last image of root_pid (after sc__heap_session_finish):
 * 0, or SC_EUNAVAILABLE with the reason in why (the program's own SIGPROF handler, a timer that
 * could not be created, no CPU_STATE record). */
int sc__heap_session_cpu_status(const sc__heap_session *s, uint32_t root_pid, char *why,
                                size_t why_cap);
/* The decoder's side of the same: moves every CPU record decoded so far into *raw (samples,
 * each image's MODULE records as mappings with the bias known, each image as a process). 0 or
 * SC_ENOMEM. */
int sc__heap_agg_take_cpu(sc__heap_agg *a, struct sc__cpu_raw *raw);
int sc__heap_agg_cpu_status(const sc__heap_agg *a, uint32_t root_pid, char *why, size_t why_cap);
/* A heap profile with nothing measured: every count -1, every figure NAN, no sites (the base that
 * the collector, the command runner and regions fill in). */
sc_heap_profile sc__heap_profile_unmeasured(void);
/* Releases the sites of a heap profile. */
void sc__heap_profile_release(sc_heap_profile *h);

/* ---- leak_check.c: leak detection (docs/metrics.md, "Leak check") ------------------------ */

/* A least-squares line's slope with its 95% interval (Student's t, n - 2 degrees of freedom). */
typedef struct sc__leak_line {
	double slope;
	double ci95_low;
	double ci95_high;
} sc__leak_line;
/* Fits y = a + slope x over n >= 3 points. SC_EINVAL when n < 3, a value is not finite or every
 * x is the same. */
int sc__leak_ols(const double *x, const double *y, size_t n, sc__leak_line *out);
/* Fits y (bytes) against x (iterations or seconds) over the whole series and over each half, and
 * fills out's verdict, slopes, interval, total growth and reason ("per iteration" or "per second"
 * is `per`, for the sentence). Growth of at most noise_floor bytes is none. Leaves basis,
 * iterations and warmup to the caller. */
void sc__leak_classify(const double *x, const double *y, size_t n, double noise_floor,
                       const char *per, sc_leak_result *out);
/* Fills p->leak of a command profile from its memory timeline (slopes in bytes per second) and
 * the heap run's blocks left at exit. */
void sc__leak_from_command(sc_profile *p);

/* profile.c: runs body(prof, arg) as the measured region of a new in-process profile of the given
 * kind (memory, resources, time and heap as sc_profile_comprehensive measures them); body may add
 * figures of its own to prof. Records the profile in p; returns 0 or SC_ENOMEM. */
typedef void (*sc__region_body)(sc_profile *prof, void *arg);
int sc__profile_region(sc_profiler *p, const char *name, const char *kind, uint64_t n_samples,
                       sc__region_body body, void *arg);

/* profile.c, for sc_compare: one call of fn measured as sc_profile_comprehensive measures it
 * (memory, resources, heap region) into a new profile *out that is not recorded, and its wall
 * time in *total_ns; out->time is left for the caller to fill. Returns 0 or SC_ENOMEM. */
int sc__profile_measure_call(sc_profiler *p, const char *name, sc_workload_fn fn, void *ctx,
                             uint64_t n_samples, sc_profile *out, uint64_t *total_ns);
/* Moves *prof into p's record (p NULL: releases it). Returns 0 or SC_ENOMEM (then released). */
int sc__profiler_record(sc_profiler *p, sc_profile *prof);

/* ---- warnings.c: hyperfine-style warnings about the measurement ---------------------------- */

/* Adds to p->warnings what p's runs call for: runs shorter than 5 ms, outliers, a first run much
 * slower than the rest, high variance. Each warning carries the action to take. */
void sc__warnings_add(sc_profile *p);
/* Appends one warning (dropped when full). */
void sc__warning_push(sc_profile *p, const char *id, const char *action, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Records a field as unavailable with its reason (dropped when full). */
void sc__unavailable_push(sc_profile *p, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- profile.c / report.c ------------------------------------------------------------------ */

/* Derives total_time summary, per-sample time, throughput, per-run latency and resources of a
 * command profile from its runs (used by command.c and by tests with synthetic runs). */
int sc__profile_derive_from_runs(sc_profile *p);
/* Deep copy (for the profiler's record). */
int sc__profile_copy(sc_profile *dst, const sc_profile *src);

/* Replaces the profiler's clock (tests). */
void sc__profiler_set_clock(sc_profiler *p, sc__clock clock);

/* Whether a profile name stored in a fixed field of cap bytes (sc_bottleneck.profile and the
 * like, which cut long names, such as long command lines) is the name of profile `name`. */
bool sc__same_profile(const char *stored, size_t cap, const char *name);

/* ISO 8601 UTC time of now into buf (>= 21 bytes). */
void sc__iso8601_now(char *buf, size_t cap);

/* ---- report_read.c, requirements.c: reading reports back and judging them ---------------- */

/* sc_report_read_json on text[0..len) that need not be NUL-terminated; name (the file's path)
 * starts every message. Pure: the fuzz harness reaches the whole reader through it. */
int sc__report_read_json_text(const char *text, size_t len, const char *name, sc_report **out,
                              char *err, size_t err_cap);

/* Welch's t-test of two samples (baseline.c): the difference of the means b - a, its standard
 * error, t, the Welch-Satterthwaite degrees of freedom and the half-width of its 95% interval.
 * Each sample needs n >= 2; with both variances 0, se and half_width are 0 and t, df NAN. */
typedef struct sc__welch_result {
	double mean_a;
	double mean_b;
	double diff;
	double se;
	double t;
	double df;
	double half_width;
} sc__welch_result;
int sc__welch(const double *a, size_t na, const double *b, size_t nb, sc__welch_result *out);

/* Sets r->verdict from r->checks and r->regressions: "fail" when a check failed or a metric
 * regressed, "pass" when something was judged and nothing failed, NULL when nothing was. */
void sc__report_update_verdict(sc_report *r);

/* ---- analyze.c, advise.c: bottleneck rules and the recommendations they call for ---------- */

/* The confidence (0.2..1) an unstable measurement of p leaves every finding about p: 1 unless the
 * unstable-measurement rule fires (cv >= 10%, or outliers with cv >= 5%); then min(1, 0.10 / cv)
 * times the share of runs that are not outliers. */
double sc__analyze_confidence(const sc_profile *p);
/* How a finding and its recommendation name a hot function: subject "`fn` (dir/file.c:12)", or
 * "`memcpy` in libc.so.6" for a system library's function, whose main caller then goes to caller
 * (the actionable part; "" when the stacks do not show one). Returns whether it is a system
 * library's function. */
bool sc__cpu_hotspot_words(const sc_cpu_profile *cpu, const sc_cpu_hotspot *h, char *subject,
                           size_t subject_cap, char *caller, size_t caller_cap);
/* Fills r->recommendations from r->bottlenecks (the last step of sc_report_analyze). */
int sc__advise(sc_report *r);

/* ---- export/: one file per format behind one interface (export.c dispatches) ------------- */

/* Each renders r to fp: json.c (canonical), markdown.c, csv.c, html.c. Returns 0, SC_ENOMEM, or
 * SC_EIO when a write failed (fp's error flag is set). sc_report_export makes it atomic. */
typedef int (*sc__export_fn)(const sc_report *r, FILE *fp);
int sc__export_json(const sc_report *r, FILE *fp);
int sc__export_markdown(const sc_report *r, FILE *fp);
int sc__export_csv(const sc_report *r, FILE *fp);
int sc__export_html(const sc_report *r, FILE *fp);
int sc__export_folded(const sc_report *r, FILE *fp);
int sc__export_speedscope(const sc_report *r, FILE *fp);
/* A JSON string of s (jansson's json_t); text that is not UTF-8 keeps its ASCII bytes and '?' for
 * the others, so a name from a binary never drops out of a report. NULL when out of memory. */
struct json_t *sc__json_string_lossy(const char *s);

/* cpu_symbolize.c: whether an ELF file (libelf's Elf) carries DWARF itself; detached debug files
 * are read for symbol names only (see there why). */
typedef struct Elf Elf;
bool sc__elf_has_own_dwarf(Elf *elf);

/* format.c: figures and names as Markdown and HTML print them. A figure that was not measured
 * (not finite; a negative count) prints "n/a", never 0. */
void sc__fmt_num(FILE *fp, double v);
void sc__fmt_count(FILE *fp, int64_t v);
/* "critical", "warning" or "info", as the JSON report spells it. */
const char *sc__fmt_severity(sc_severity s);

/* ---- atomic_file.c: write-then-rename ------------------------------------------------------ */

/* Opens a temporary file beside path (same directory, so rename is atomic). */
typedef struct sc__atomic_file {
	FILE *fp;
	char tmp_path[4096];
	char path[4096];
} sc__atomic_file;
int sc__atomic_open(sc__atomic_file *af, const char *path);
/* Flushes, fsyncs and renames over path; on any failure removes the temporary file. */
int sc__atomic_commit(sc__atomic_file *af);
/* Removes the temporary file without touching path. */
void sc__atomic_abort(sc__atomic_file *af);

/* ---- region.c, region_channel.c: in-process regions (docs/metrics.md, "Regions") ---------- */

/* histogram.c: count values of one value at once, and every non-empty bucket (its midpoint, kept
 * inside [min, max]) with its count, in ascending order. */
void sc__histogram_record_n(sc_histogram *h, uint64_t value, uint64_t count);
typedef void (*sc__histogram_bucket_fn)(void *ctx, uint64_t value, uint64_t count);
void sc__histogram_each(const sc_histogram *h, sc__histogram_bucket_fn fn, void *ctx);

/* A profiler's table of regions; NULL until the first sc_region_begin. */
typedef struct sc__regions sc__regions;
/* profile.c: the profiler's current table and its clock. */
sc__regions **sc__profiler_regions(sc_profiler *p);
sc__regions *sc__profiler_regions_const(const sc_profiler *p);
sc__clock sc__profiler_clock(const sc_profiler *p);
/* profile.c: the innermost open region's index in the profiler's current table (-1: none), kept by
 * region.c at every begin and end and read by the in-process CPU sampler's signal handler. */
volatile int32_t *sc__profiler_region_slot(sc_profiler *p);
/* Sends the table to the channel (when SHOTCLOCK_REGIONS is set) and frees it. */
void sc__regions_free(sc__regions *r);
/* Around a measured profile: push sets the profiler's table aside (returned) so that regions
 * entered meanwhile start a new one; pop moves that one's figures into prof->regions (regions
 * still open are closed and flagged), shares of the top level relative to prof's total time,
 * and puts the saved table back. */
sc__regions *sc__regions_push(sc_profiler *p);
void sc__regions_pop(sc_profiler *p, sc__regions *saved, sc_profile *prof);
/* The profile of kind "regions" of the regions entered outside any profile, added to r; nothing
 * when there are none. */
int sc__regions_report(const sc_profiler *p, sc_report *r);

/* One region as the channel carries it, in nanoseconds. */
typedef struct sc__region_rec {
	const char *name;
	const char *parent;
	int depth;
	uint64_t calls;
	uint64_t total_ns;
	uint64_t self_ns;
	double memory_increase_mb; /* NAN unknown */
	int64_t allocations;       /* -1 unknown */
	int64_t bytes_allocated;
	const sc_histogram *ticks; /* per call, in ticks of ns_per_tick */
	double ns_per_tick;
} sc__region_rec;
/* Appends one self-delimiting record of recs to the file at path with one write(2). */
int sc__region_channel_write(const char *path, const sc__region_rec *recs, size_t n);
/* The collector's side: a private directory holding the channel file. */
typedef struct sc__region_channel sc__region_channel;
#define SC__REGIONS_ENV "SHOTCLOCK_REGIONS"
/* Best effort: NULL when the directory cannot be made (the profile then has no regions). */
sc__region_channel *sc__region_channel_new(void);
/* Our environment plus SHOTCLOCK_REGIONS=<path> (NULL channel: NULL, our environment). */
char *const *sc__region_channel_envp(const sc__region_channel *c);
/* Merges every record into p->regions as means per timed run (p->runs set); frees c. */
void sc__region_channel_collect(sc__region_channel *c, sc_profile *p);
/* Parses the channel's text into p->regions over n_runs runs (pure; tests, fuzzing). */
int sc__region_channel_parse(const char *text, size_t len, size_t n_runs, double run_time_s,
                             sc_profile *p);

/* ---- region_trace.c: which region each thread was in, for the CPU samples of `shotclock run` --
 */

/* Set for the instrumented run only (never the timed runs), when it is sampled and the timed runs
 * reported regions: the path of a file the program maps and appends region begins and ends to. */
#define SC__REGION_TRACE_ENV "SHOTCLOCK_REGION_TRACE"
/* The file's capacity: about 2 million region entries (a begin and an end are 16 bytes each). */
#define SC__REGION_TRACE_BYTES ((size_t)64 << 20)

/* The program's side: this process's mapping of the trace, shared by its tables. */
typedef struct sc__region_trace_writer sc__region_trace_writer;
/* The trace when SHOTCLOCK_REGION_TRACE names a usable one (mapped at the first call, once per
 * process; a forked child shares the parent's mapping); NULL otherwise. Thread-safe. */
sc__region_trace_writer *sc__region_trace_open(void);
/* A new table id, unique across every process writing the trace; 0 when none is left. */
uint16_t sc__region_trace_table(sc__region_trace_writer *w);
/* Records that entry of table is (name, parent entry, -1 at the top level): once, when made. */
void sc__region_trace_define(sc__region_trace_writer *w, uint16_t table, int entry, int parent,
                             const char *name);
/* Records that the calling thread entered (end false) or left entry of table now
 * (CLOCK_MONOTONIC, the samplers' clock). Async-signal-unsafe but lock-free. */
void sc__region_trace_event(sc__region_trace_writer *w, uint16_t table, int entry, bool end);

/* What the matcher found, for the collector's warnings. */
typedef struct sc__region_trace_stats {
	uint64_t events;         /* begin and end records read */
	uint64_t definitions;    /* region definitions read */
	uint64_t bad;            /* records that made no sense, skipped */
	bool truncated;          /* the file filled: records after full_ns were lost */
	uint64_t full_ns;        /* when it filled (CLOCK_MONOTONIC); 0 when it did not */
	uint64_t attributed;     /* samples given a region */
	uint64_t unmatched;      /* samples whose innermost region is not among the regions */
	uint64_t after_full;     /* samples taken after the trace filled: given no region */
	char unmatched_name[64]; /* the first such region's name, for the warning */
} sc__region_trace_stats;
struct sc__cpu_raw;
/* Pure: reads len bytes of a trace file and sets each of raw's samples' region to the index in
 * regions (matched by name, parent name and depth) of the innermost region open on its thread at
 * its time; samples in no region, in a region not in regions, or after the trace filled keep -1.
 * Malformed bytes are skipped (counted in bad), never trusted. 0, SC_EPARSE (not a trace: nothing
 * attributed) or SC_ENOMEM. */
int sc__region_trace_apply(const void *buf, size_t len, struct sc__cpu_raw *raw,
                           const sc_region_stats *regions, size_t n_regions,
                           sc__region_trace_stats *st);
/* The collector's side: a private directory holding the trace file. */
typedef struct sc__region_trace sc__region_trace;
/* Best effort: NULL when the file cannot be made (the regions then get no CPU figures). envp is
 * the environment the run would get (NULL: ours); it must outlive the trace. */
sc__region_trace *sc__region_trace_new(char *const *envp);
/* envp plus SHOTCLOCK_REGION_TRACE=<path>. */
char *const *sc__region_trace_envp(const sc__region_trace *t);
/* After the run: tags raw's samples with p's regions (sc__region_trace_apply), adds a warning to p
 * when some could not be attributed, removes the file and frees t. 0: the samples carry their
 * regions (pass p's regions to the builder); SC_ENOMEM; any other code (NULL t: SC_EUNAVAILABLE):
 * nothing was attributed, and the regions must stay unsampled (a warning says why, but for a NULL
 * t). */
int sc__region_trace_collect(sc__region_trace *t, struct sc__cpu_raw *raw, sc_profile *p);
/* Removes the file and frees t without reading it (NULL: nothing). */
void sc__region_trace_free(sc__region_trace *t);

#endif

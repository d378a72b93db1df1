/* cpu_samples.h: CPU samples as the samplers collect them, and how they become a cpu profile. */
#ifndef SC_CPU_SAMPLES_H
#define SC_CPU_SAMPLES_H

/*
 * Three samplers fill one raw store (sc__cpu_raw); one builder (cpu_profile.c) unwinds,
 * symbolizes and aggregates it into the report's sc_cpu_profile:
 *
 *   perf_event  (cpu_perf.c)  the collector's side of perf_event_open: cpu-clock events on every
 *                             CPU, inherited by the command and its threads and children, read
 *                             from ring buffers; the records are decoded by cpu_perf_decode.c.
 *   timer       (preload/shim_cpu.c, decoded by heap_decode.c)  the fallback when perf_event_open
 *                             is not permitted: per-thread CPU-time timers inside the heap shim,
 *                             stacks walked by frame pointers in the signal handler.
 *   in-process  (self_sampler.c)  the C API sampling its own calling thread, tagging each sample
 *                             with the innermost open region.
 *
 * Addresses stay raw (absolute, in the sampled process) until the builder maps them through the
 * recorded mappings to (module, offset) and symbolizes them with libdw after the run.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shotclock.h"

#define SC__CPU_DEFAULT_RATE_HZ 997.0
#define SC__CPU_MAX_FRAMES      512  /* frames kept per sample, innermost first */
#define SC__CPU_NREGS           17   /* x86-64 DWARF registers 0..16: rax..r15, then rip (16) */
#define SC__CPU_STACK_BYTES     8192 /* user stack copied per sample with --call-graph dwarf */
/* The most bytes of samples, frames and user stacks a raw store holds before it thins itself:
 * a perf_event sample in fp mode takes 48 bytes, 8 per frame and 280 of registers and stack for
 * the leaf fix-up (about 400 in all: 650,000 samples, 3 minutes of 4 busy threads at 997 Hz), a
 * timer sample about 350 with its 128-byte copy (770,000), a --call-graph dwarf sample 8.4 KiB
 * (30,000). Its arrays
 * may take up to twice that (they double). */
#define SC__CPU_RAW_MAX_BYTES ((size_t)256 << 20)

/* One memory mapping of a sampled process: where a file's bytes sit. */
typedef struct sc__cpu_mapping {
	uint32_t pid;
	uint64_t time_ns; /* when it was mapped, on the samples' clock; 0: from the start */
	uint64_t start;   /* [start, end) in the process */
	uint64_t end;
	uint64_t pgoff; /* the file offset mapped at start */
	bool bias_known;
	uint64_t
	    bias;   /* when known: address - bias is the ELF file's virtual address (dlpi_addr) */
	char *path; /* "/usr/lib/x86_64-linux-gnu/libc.so.6", "[vdso]", "//anon", ... */
} sc__cpu_mapping;

/* One sample: a thread caught on the CPU. */
typedef struct sc__cpu_sample {
	uint32_t pid;
	uint32_t tid;
	uint64_t time_ns;
	size_t first_frame; /* raw->frames[first_frame ...]: innermost first; the first is the
	                       sampled instruction itself (exact), the others return addresses */
	uint32_t n_frames;
	int32_t region;    /* in-process: index of the innermost open region; -1 none */
	uint32_t weight;   /* the sampling periods this sample stands for: 1, more for a timer
	                      sample with overruns or a sample the store kept for others (thinning) */
	size_t user_index; /* with a user stack copy (dwarf; in fp mode the 128 bytes every sampler
	                      copies for the leaf fix-up): index into raw->user; SIZE_MAX none */
} sc__cpu_sample;

/* The registers and stack bytes copied at a sample: for DWARF unwinding (--call-graph dwarf), or,
 * in fp mode, rsp/rbp/rip and 128 bytes for finding a frameless leaf's caller. */
typedef struct sc__cpu_user_stack {
	uint64_t regs[SC__CPU_NREGS]; /* DWARF numbering; regs[7] is rsp, regs[16] rip */
	size_t stack_off;   /* raw->stack_bytes[stack_off ...] holds stack_len bytes copied */
	uint32_t stack_len; /* from address regs[7] upwards */
} sc__cpu_user_stack;

/* A process seen by the sampler: forked children share their parent's mappings until they exec. */
typedef struct sc__cpu_process {
	uint32_t pid;
	uint32_t ppid; /* 0 when unknown */
	uint64_t time_ns;
} sc__cpu_process;

typedef struct sc__cpu_raw {
	sc__cpu_sample *samples;
	size_t n_samples, cap_samples;
	uint64_t *frames;
	size_t n_frames, cap_frames;
	sc__cpu_mapping *maps;
	size_t n_maps, cap_maps;
	sc__cpu_process *processes;
	size_t n_processes, cap_processes;
	sc__cpu_user_stack *user;
	size_t n_user, cap_user;
	unsigned char *stack_bytes;
	size_t n_stack_bytes, cap_stack_bytes;
	uint64_t lost; /* samples known to be dropped (PERF_RECORD_LOST, a full buffer) */
	/* The memory bound. Past max_bytes the store thins: each pair of stored samples becomes one
	 * (chosen with odds proportional to weight, carrying the pair's summed weight) and from
	 * then on each block of `stride` incoming samples is stored as one, chosen the same way.
	 * Total weight stays exact and every share is unbiased (cpu_raw.c says why not every other
	 * one). */
	size_t max_bytes;    /* SC__CPU_RAW_MAX_BYTES from sc__cpu_raw_init; tests set less */
	uint32_t stride;     /* incoming samples per stored one: 1, 2, 4, ... (0 read as 1) */
	uint32_t last_count; /* incoming samples the last stored sample stands for (<= stride) */
	bool last_taken;     /* whether the latest incoming sample is the one stored last (so a
	                        user stack added next belongs to it) */
	uint64_t rng;        /* the choices' generator: fixed seed, so runs and tests repeat */
} sc__cpu_raw;

/* ---- cpu_raw.c: the store ------------------------------------------------------------------ */

/* Makes room for `more` elements of `size` bytes in *items (n used, capacity *cap), doubling
 * the capacity. 0 or SC_ENOMEM (then *items is unchanged). Shared by the CPU files' arrays. */
int sc__cpu_reserve(void **items, size_t n, size_t *cap, size_t more, size_t size);
/* An empty store with max_bytes SC__CPU_RAW_MAX_BYTES and stride 1. */
void sc__cpu_raw_init(sc__cpu_raw *r);
void sc__cpu_raw_release(sc__cpu_raw *r);
/* Appends a sample standing for `weight` sampling periods (0 is read as 1); frames innermost
 * first, frames[0] the sampled IP (n may be 0: unknown). More than SC__CPU_MAX_FRAMES frames keep
 * the innermost ones. Past max_bytes the store thins (see sc__cpu_raw), so the sample may be
 * folded into another one. 0 or SC_ENOMEM. */
int sc__cpu_raw_add_sample(sc__cpu_raw *r, uint32_t pid, uint32_t tid, uint64_t time_ns,
                           const uint64_t *frames, size_t n, int32_t region, uint32_t weight);
/* Bytes of samples, frames, user stacks and stack copies held (what max_bytes bounds). */
size_t sc__cpu_raw_bytes(const sc__cpu_raw *r);
/* The summed weight of the stored samples: the sampling periods they stand for. */
uint64_t sc__cpu_raw_weight(const sc__cpu_raw *r);
/* Appends everything src holds to dst (samples with their weights and user stacks, mappings,
 * processes, lost), thinning dst as it fills. 0 or SC_ENOMEM. */
int sc__cpu_raw_append(sc__cpu_raw *dst, const sc__cpu_raw *src);
/* Attaches a user stack copy to the last sample added: dropped (0) when thinning folded that
 * sample into another, or when the copy alone would not fit in max_bytes (the sample keeps its
 * frames). 0 or SC_ENOMEM (SC_EINVAL: no sample). */
int sc__cpu_raw_add_user_stack(sc__cpu_raw *r, const uint64_t regs[SC__CPU_NREGS],
                               const void *stack, size_t len);
/* Records a mapping (the path is copied). bias_known false: the builder derives the bias from
 * the ELF file's program headers and pgoff. 0 or SC_ENOMEM. */
int sc__cpu_raw_add_mapping(sc__cpu_raw *r, uint32_t pid, uint64_t time_ns, uint64_t start,
                            uint64_t end, uint64_t pgoff, bool bias_known, uint64_t bias,
                            const char *path);
/* Records a process and its parent (fork), or a process that exec'd (ppid 0: its earlier
 * mappings no longer hold). 0 or SC_ENOMEM. */
int sc__cpu_raw_add_process(sc__cpu_raw *r, uint32_t pid, uint32_t ppid, uint64_t time_ns);

/* ---- cpu_profile.c: unwind (dwarf), symbolize, aggregate ------------------------------------ */

typedef struct sc__cpu_build_options {
	const char *sampler;    /* "perf_event" or "timer" (static) */
	const char *call_graph; /* "fp" or "dwarf" (static) */
	double rate_hz;
	double duration_s; /* the sampled run's wall time; NAN unknown */
} sc__cpu_build_options;

/*
 * Builds *out from raw: each sample's frames (unwound from the user stack copy with libdw when
 * call_graph is "dwarf"; the sampled IP is always the first frame) are mapped to (module, offset),
 * symbolized with libdw (function, file, line, inlined functions as frames of their own; unknown
 * addresses as "module+0xoffset") and aggregated into hotspots and stacks. With regions (the
 * in-process sampler's region indexes refer to them), fills their cpu_samples, cpu_percent and
 * cpu_top_function. out->available is true (a run with no samples is available with 0 samples).
 * 0 or SC_ENOMEM (then *out is released and unavailable).
 */
int sc__cpu_profile_build(const sc__cpu_raw *raw, const sc__cpu_build_options *o,
                          sc_cpu_profile *out, sc_region_stats *regions, size_t n_regions);
/* A cpu profile with nothing measured, for the reason given (printf-style). */
void sc__cpu_profile_unavailable(sc_cpu_profile *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Puts text before the note the builder may have written (the collector's thinning), "; " between:
 * the sampler's own words come first. */
void sc__cpu_note_prepend(sc_cpu_profile *c, const char *text);
/* Frees what a cpu profile owns and leaves it unavailable with reason "". */
void sc__cpu_profile_release(sc_cpu_profile *p);
/* A deep copy of src into dst (sc__profile_copy). 0 or SC_ENOMEM (dst then released). */
int sc__cpu_profile_copy(sc_cpu_profile *dst, const sc_cpu_profile *src);

/* ---- cpu_perf.c: the perf_event_open sampler of a command ----------------------------------- */

typedef struct sc__perf_sampler sc__perf_sampler;

typedef struct sc__perf_options {
	double rate_hz;
	bool dwarf; /* copy user registers and SC__CPU_STACK_BYTES of stack with every sample */
} sc__perf_options;

/*
 * Opens disabled cpu-clock events, one per online CPU, on task pid (the spawner) with inherit and
 * enable_on_exec: the spawner's next child inherits them and starts being sampled at its exec, and
 * so do its threads and children. User-space IP and frame-pointer call chains, MMAP2, COMM and
 * FORK/EXIT records, read from per-CPU ring buffers by a reader thread while the run goes on.
 * Returns 0; SC_EUNAVAILABLE with why filled ("perf_event_open: Permission denied
 * (kernel.perf_event_paranoid is 3)") when the kernel refuses; SC_ENOMEM.
 */
int sc__perf_sampler_start(pid_t pid, const sc__perf_options *o, sc__perf_sampler **out, char *why,
                           size_t why_cap);
/* After the run has been reaped: stops the reader, drains every buffer and appends what they held
 * to *raw (samples, mappings, processes, lost). 0 or SC_ENOMEM. */
int sc__perf_sampler_finish(sc__perf_sampler *s, sc__cpu_raw *raw);
/* Closes the events (stopping them if finish was not called) and frees s; NULL is a no-op. */
void sc__perf_sampler_free(sc__perf_sampler *s);

/* What a ring buffer's records carry, from the perf_event_attr that opened it. */
typedef struct sc__perf_layout {
	uint64_t sample_type;      /* PERF_SAMPLE_* bits */
	uint64_t sample_regs_user; /* register mask with PERF_SAMPLE_REGS_USER */
	bool sample_id_all;
} sc__perf_layout;

/* Pure: decodes len bytes of whole perf records (as copied out of a ring buffer, wrap undone)
 * into raw. Malformed or truncated records end decoding with SC_EPARSE; what came before stays.
 * 0, SC_EPARSE or SC_ENOMEM. */
int sc__perf_decode(const void *buf, size_t len, const sc__perf_layout *layout, sc__cpu_raw *raw);

/* ---- self_sampler.c: the in-process sampler (the C API)
 * ------------------------------------------ */

typedef struct sc__self_sampler sc__self_sampler;

/* Starts sampling the calling thread's CPU time at rate_hz (a CLOCK_THREAD_CPUTIME_ID timer
 * delivering SIGPROF to this thread, SA_RESTART; stacks walked by frame pointers into a buffer
 * allocated here). *region_slot, when not NULL, is read in the signal handler: the innermost open
 * region's index, or -1. 0, SC_ENOMEM or SC_EUNAVAILABLE (why filled). */
int sc__self_sampler_start(double rate_hz, const volatile int32_t *region_slot,
                           sc__self_sampler **out, char *why, size_t why_cap);
/* Stops the timer and appends the samples and this process's mappings (dl_iterate_phdr, bias
 * known) to *raw. 0 or SC_ENOMEM. */
int sc__self_sampler_stop(sc__self_sampler *s, sc__cpu_raw *raw);
void sc__self_sampler_free(sc__self_sampler *s);

#endif

/* heap_wire.h: what the heap shim (preload/) and the collector (src/heap*.c) exchange
 * (docs/heap-records.md). */
#ifndef SC_HEAP_WIRE_H
#define SC_HEAP_WIRE_H

#include <stddef.h>
#include <stdint.h>

/*
 * One instrumented run gets a private directory (SHOTCLOCK_HEAP_DIR) holding two files:
 *
 *   counters  a shared file both sides map (MAP_SHARED): one slot per traced process and one per
 *             thread. The shim's hot path only adds to its own thread slot with plain stores, so
 *             counts stay exact and cost no atomics; they survive a SIGKILL of the target because
 *             they live in the page cache, not in the target.
 *   stream    a FIFO the shim writes records to (sampled call sites, module maps, process life,
 *             and every allocation and free with --heap-sites=all). Each write(2) is one batch of
 *             at most HEAP_BATCH_MAX bytes, which POSIX makes atomic on a pipe, so several
 *             processes (--follow-children) can share the FIFO: each batch names its pid.
 *
 * Both ends are built from this one tree: host byte order, host alignment.
 */

/* ---- environment of the instrumented run ------------------------------------------------- */

#define HEAP_ENV_DIR          "SHOTCLOCK_HEAP_DIR"          /* the directory above */
#define HEAP_ENV_SITES        "SHOTCLOCK_HEAP_SITES"        /* "sampled" (default) or "all" */
#define HEAP_ENV_SAMPLE_BYTES "SHOTCLOCK_HEAP_SAMPLE_BYTES" /* mean sampling interval, bytes */
#define HEAP_ENV_FOLLOW       "SHOTCLOCK_HEAP_FOLLOW"       /* "1": trace exec'd/forked children */
/* The user's own LD_PRELOAD, or absent when there was none: without --follow-children the shim
 * puts it back (and removes the SHOTCLOCK_HEAP_* variables) so that children run untraced. */
#define HEAP_ENV_USER_PRELOAD "SHOTCLOCK_HEAP_USER_PRELOAD"
/* Present: the timer sampler runs (preload/shim_cpu.c), at this many samples per second of each
 * thread's CPU time, a decimal number 1..10000 (CPU records below). Absent: no CPU samples. */
#define HEAP_ENV_CPU_RATE "SHOTCLOCK_HEAP_CPU_RATE"

#define HEAP_DEFAULT_SAMPLE_BYTES (512u << 10)

/* A thread adds its live-bytes delta to its process slot after this many events or once the
 * delta moves by this many bytes: the peak of a process is exact for one thread and within
 * (threads - 1) x HEAP_LIVE_FLUSH_BYTES otherwise. Sampling is over requested bytes. */
#define HEAP_LIVE_FLUSH_EVENTS 4096
#define HEAP_LIVE_FLUSH_BYTES  (256 << 10)

/* ---- the shared counters file ------------------------------------------------------------ */

#define HEAP_COUNTERS_MAGIC 0x43484353u /* "SCHC" */
#define HEAP_VERSION        1
#define HEAP_MAX_PROCESSES  64
#define HEAP_MAX_THREADS    4096
/* Requested sizes by power of two: bucket 0 holds size 0, bucket k (1..63) sizes in
 * [2^(k-1), 2^k). */
#define HEAP_SIZE_BUCKETS 64

enum heap_process_state {
	HEAP_PROCESS_RUNNING = 1, /* the shim is counting */
	HEAP_PROCESS_EXITED = 2,  /* exit(), return from main, or _exit(): counts are final */
	HEAP_PROCESS_DISABLED =
	    3, /* the shim could not work and passes calls through: see reason */
};

/* Why a process was not traced (HEAP_PROCESS_DISABLED), in process_slot.reason. */
enum heap_disabled_reason {
	HEAP_REASON_NONE = 0,
	HEAP_REASON_OWN_MALLOC = 1, /* malloc resolves to another object than the shim */
	HEAP_REASON_NO_SYMBOLS = 2, /* dlsym(RTLD_NEXT) found no malloc/free to forward to */
	HEAP_REASON_NO_STREAM = 3,  /* the FIFO or the counters file could not be opened */
	HEAP_REASON_SLOTS_FULL = 4, /* more than HEAP_MAX_PROCESSES traced processes */
};

/* 256 bytes. Written by the process it describes; read by the collector after the run. */
struct heap_process_slot {
	uint32_t pid;
	uint32_t ppid;
	uint32_t state;          /* enum heap_process_state */
	uint32_t reason;         /* enum heap_disabled_reason */
	uint64_t start_ns;       /* CLOCK_MONOTONIC when the shim started counting */
	uint64_t end_ns;         /* CLOCK_MONOTONIC at exit; 0 while running or when killed */
	int64_t live_bytes;      /* usable bytes live as of the threads' last flush (atomic adds) */
	int64_t peak_live_bytes; /* largest live_bytes seen (see docs: its error bound) */
	uint64_t peak_ns;        /* CLOCK_MONOTONIC when the peak was seen */
	/* From mallinfo2() at exit, when the allocator is glibc's; -1 otherwise. */
	int64_t arena_bytes;  /* arena + hblkhd: what the allocator holds from the kernel */
	int64_t in_use_bytes; /* uordblks + hblkhd: usable bytes in allocated blocks */
	uint32_t threads;     /* thread slots this process claimed */
	uint32_t flags;       /* HEAP_PROCESS_FLAG_* */
	char exe[176];        /* readlink /proc/self/exe, truncated, NUL-terminated */
};

#define HEAP_PROCESS_FLAG_SITES_ALL 1u /* every allocation was streamed */
#define HEAP_PROCESS_FLAG_FORKED    2u /* a fork() child of a traced process (--follow-children) */
#define HEAP_PROCESS_FLAG_LEAK_SCAN 4u /* the leak scan ran at exit (LEAK records follow) */

/* 1024 bytes. Only its own thread writes it (plain stores); the collector sums them. */
struct heap_thread_slot {
	uint32_t process; /* index of its process slot + 1; 0 = slot unused */
	uint32_t tid;
	uint64_t
	    allocations; /* malloc, calloc, aligned forms, every successful realloc(p, n > 0) */
	uint64_t frees;  /* free(p != NULL), realloc's release of the old block */
	uint64_t bytes_allocated;  /* requested bytes of every allocation */
	uint64_t usable_allocated; /* malloc_usable_size of every allocated block */
	uint64_t usable_freed;     /* malloc_usable_size of every freed block */
	uint64_t temporary;        /* freed by this thread with no allocation by it in between */
	uint64_t sampled; /* allocations that were sampled (ALLOC records in sampled mode) */
	uint64_t reserved[8];
	uint64_t size_buckets[HEAP_SIZE_BUCKETS]; /* allocations by requested size */
	uint8_t pad[1024 - 128 - 8 * HEAP_SIZE_BUCKETS];
};

struct heap_counters {
	uint32_t magic;        /* HEAP_COUNTERS_MAGIC, written by the collector */
	uint32_t version;      /* HEAP_VERSION */
	uint32_t next_process; /* atomic: slots claimed */
	uint32_t next_thread;  /* atomic: slots claimed; beyond HEAP_MAX_THREADS, overflow_thread */
	uint64_t sample_bytes; /* the mean sampling interval in force (0: sites=all) */
	uint8_t pad0[4096 - 24];
	struct heap_process_slot processes[HEAP_MAX_PROCESSES];
	/* Threads past HEAP_MAX_THREADS share this slot with atomic adds (slower, still exact). It
	 * belongs to no process: the collector adds it to the root process. Slots are claimed in
	 * order, so only the first next_thread (and next_process) are in use. */
	struct heap_thread_slot overflow_thread;
	struct heap_thread_slot threads[HEAP_MAX_THREADS];
};

/* ---- in-process view ------------------------------------------------------------------------ */

/* A program that uses libshotclock and runs with the shim loaded (under `shotclock run`, or with
 * LD_PRELOAD=libshotclock-heap.so and no SHOTCLOCK_HEAP_DIR, when the shim counts into private
 * memory) gets its heap figures per region: the library looks this function up with dlsym and
 * takes a snapshot before and after the region. */
#define HEAP_SNAPSHOT_SYMBOL "sc__heap_shim_snapshot"

struct heap_snapshot {
	uint64_t allocations; /* sums over this process's thread slots */
	uint64_t frees;
	uint64_t bytes_allocated;
	uint64_t temporary;
	uint64_t usable_allocated;
	uint64_t usable_freed;
	int64_t live_bytes;      /* the process's usable live bytes, this thread's delta flushed */
	int64_t peak_live_bytes; /* the process's peak since the start, or since the last reset */
};

/* Fills *out and returns 0, or -1 when the shim is not counting in this process. With
 * reset_peak, the peak restarts from the current live bytes (the start of a region). */
typedef int (*heap_snapshot_fn)(struct heap_snapshot *out, int reset_peak);

/* ---- the record stream -------------------------------------------------------------------- */

#define HEAP_BATCH_MAGIC 0x42484353u /* "SCHB" */
#define HEAP_BATCH_MAX   4096        /* PIPE_BUF on Linux: one write, never interleaved */
#define HEAP_MAX_FRAMES  64

/* Every write(2) on the FIFO: this header, then `length` bytes of whole records. */
struct heap_batch {
	uint32_t magic;  /* HEAP_BATCH_MAGIC */
	uint32_t pid;    /* the writer */
	uint32_t length; /* bytes of records after this header, <= HEAP_BATCH_MAX - 16 */
	uint32_t seq;    /* per process, from 0: a gap means lost batches */
};

enum heap_record_type {
	HEAP_REC_HELLO = 1,  /* the process started being traced */
	HEAP_REC_MODULE = 2, /* a loaded object: where it sits, its path */
	HEAP_REC_STACK = 3,  /* a call stack, by id */
	HEAP_REC_ALLOC = 4,  /* an allocation (sampled, or every one with sites=all) */
	HEAP_REC_FREE = 5,   /* a free of a block an ALLOC record announced */
	HEAP_REC_LEAK = 6,   /* at exit, sites=all: a live block and whether it is reachable */
	HEAP_REC_EXIT = 7,   /* the process is leaving; nothing follows from it */
	/* Added without a version change: a reader skips types it does not know, and these are
	 * only sent when the collector asked for them (HEAP_ENV_CPU_RATE). */
	HEAP_REC_CPU = 8,       /* a CPU sample: a thread caught running by its CPU-time timer */
	HEAP_REC_CPU_STATE = 9, /* the timer sampler started, or stood down and why */
};

/* Every record starts with this; `size` (a multiple of 8) covers the header and lets a reader
 * skip types it does not know. */
struct heap_record {
	uint16_t type; /* enum heap_record_type */
	uint16_t size; /* bytes, this header included */
	uint32_t aux;  /* per type, below */
};

/* HELLO: aux = process slot index. Followed by nothing. */
struct heap_rec_hello {
	struct heap_record h;
	uint32_t ppid;
	uint32_t flags;        /* HEAP_PROCESS_FLAG_* */
	uint64_t sample_bytes; /* 0 with sites=all */
	uint64_t start_ns;
};

/* MODULE: aux = path length including its NUL; the path follows, padded to 8. */
struct heap_rec_module {
	struct heap_record h;
	uint64_t base;  /* dlpi_addr: run-time address = base + address in the file */
	uint64_t start; /* lowest executable PT_LOAD, run-time */
	uint64_t end;   /* end of the highest executable PT_LOAD, run-time */
};

/* STACK: aux = number of frames (1..HEAP_MAX_FRAMES), innermost first, the caller of the
 * allocation function first; the frames (uint64_t return addresses) follow. */
struct heap_rec_stack {
	struct heap_record h;
	uint64_t id; /* a hash of the frames; the same stack may be announced more than once */
};

/* ALLOC: aux = thread slot index. The stack was announced before, in this process. */
struct heap_rec_alloc {
	struct heap_record h;
	uint64_t ptr;
	uint64_t size; /* requested bytes */
	uint64_t stack_id;
	uint64_t t_ns; /* CLOCK_MONOTONIC */
};

/* FREE: aux = thread slot index. */
struct heap_rec_free {
	struct heap_record h;
	uint64_t ptr;
};

/* LEAK: aux = 1 when reachable from the roots (data, bss, stacks, registers), 0 when lost. */
struct heap_rec_leak {
	struct heap_record h;
	uint64_t ptr;
	uint64_t size;
};

/* EXIT: aux = how: 1 exit()/return from main (destructor), 2 _exit()/_Exit(), 3 exec. */
struct heap_rec_exit {
	struct heap_record h;
	uint64_t end_ns;
};

enum { HEAP_EXIT_NORMAL = 1, HEAP_EXIT_UNDERSCORE = 2, HEAP_EXIT_EXEC = 3 };

/* Frames per CPU sample: as many as perf keeps by default (kernel.perf_event_max_stack). */
#define HEAP_MAX_CPU_FRAMES 127
/* Stack bytes a CPU sample copies from the interrupted stack pointer up (struct heap_cpu_stack):
 * where a function that has not set up its frame pointer keeps its return address, as the
 * perf_event sampler's fp mode copies (src/cpu_perf.c says why 128). */
#define HEAP_CPU_STACK_BYTES 128

/* CPU: aux = number of frames (1..HEAP_MAX_CPU_FRAMES), innermost first: frames[0] is the
 * interrupted instruction (exact), the others return addresses found by the frame-pointer walk
 * (the shim's own frames left out); they follow the record, u64 each. A struct heap_cpu_stack
 * may follow the frames (size says: size > 24 + 8 x frames), appended without a version change
 * since a reader that predates it ignores bytes beyond the frames. The largest sample is written
 * from the signal handler as a batch of its own, 16 + 24 + 8 x 127 + 32 + 128 = 1216 bytes, well
 * within one atomic write. */
struct heap_rec_cpu {
	struct heap_record h;
	uint32_t tid;
	/* The timer periods the sample stands for: the thread's CPU time since its previous sample,
	 * in whole periods (at least 1; the remainder carries to the next). The kernel checks CPU
	 * timers only at its tick (CONFIG_HZ, 250 on many kernels) and only for the thread then on
	 * the CPU, so signals come late and unevenly; the collector weighs the sample by this, so
	 * that weights add up to the CPU time whatever the tick and the load. */
	uint32_t periods;
	uint64_t t_ns; /* CLOCK_MONOTONIC, as start_ns and ALLOC's t_ns */
};

/* After a CPU record's frames: the interrupted registers and the stack they point at, so that
 * the collector can find the caller of a function caught before it made rbp its frame pointer (a
 * frameless leaf: the walk from rbp skips that caller). stack_len bytes copied from address rsp
 * up follow, padded to 8: HEAP_CPU_STACK_BYTES, fewer when the thread's known stack ends sooner,
 * 0 when rsp is outside it. */
struct heap_cpu_stack {
	uint64_t rsp;
	uint64_t rbp;
	uint64_t rip;
	uint32_t stack_len; /* 0..HEAP_CPU_STACK_BYTES */
	uint32_t reserved;  /* 0 */
};

/* CPU_STATE: aux = enum heap_cpu_state. One per process image when the sampler was asked for:
 * ON when the main thread's timer was armed; later an OFF state replaces it. */
struct heap_rec_cpu_state {
	struct heap_record h;
	int32_t error;      /* errno of the failure with HEAP_CPU_OFF_TIMER, else 0 */
	uint32_t reserved;  /* 0 */
	uint64_t period_ns; /* the timers' period in CPU time */
	uint64_t t_ns;      /* CLOCK_MONOTONIC */
};

enum heap_cpu_state {
	HEAP_CPU_ON = 1,          /* sampling: each thread's timer is armed when it starts */
	HEAP_CPU_OFF_HANDLER = 2, /* the program had a SIGPROF handler at start: never armed */
	HEAP_CPU_OFF_INSTALL = 3, /* the program set SIGPROF's action later: timers deleted */
	HEAP_CPU_OFF_TIMER = 4,   /* timer_create or timer_settime failed (error) */
};

_Static_assert(sizeof(struct heap_process_slot) == 256, "process slot layout");
_Static_assert(sizeof(struct heap_thread_slot) == 1024, "thread slot layout");
_Static_assert(sizeof(struct heap_batch) == 16, "batch header layout");
_Static_assert(sizeof(struct heap_rec_alloc) == 40, "alloc record layout");
_Static_assert(sizeof(struct heap_rec_cpu) == 24, "cpu record layout");
_Static_assert(sizeof(struct heap_rec_cpu_state) == 32, "cpu state record layout");
_Static_assert(sizeof(struct heap_cpu_stack) == 32, "cpu stack layout");
_Static_assert(HEAP_CPU_STACK_BYTES % 8 == 0, "the stack copy keeps the record's alignment");
_Static_assert(sizeof(struct heap_batch) + sizeof(struct heap_rec_cpu) + 8 * HEAP_MAX_CPU_FRAMES +
                       sizeof(struct heap_cpu_stack) + HEAP_CPU_STACK_BYTES <=
                   HEAP_BATCH_MAX,
               "a CPU sample fits one batch");

#endif

/* shim.h: what the heap shim's files (preload/) share: real functions, process and thread state. */
#ifndef SC_SHIM_H
#define SC_SHIM_H

#include <malloc.h>
#include <stddef.h>
#include <stdint.h>

#include "heap_wire.h"

/* A word that may alias anything: records are copied and memory is scanned word by word. */
typedef uint64_t __attribute__((may_alias)) sc__word;

#define SC_EXPORT      __attribute__((visibility("default")))
#define SC_LIKELY(x)   __builtin_expect(!!(x), 1)
#define SC_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* glibc 2.36 does not declare these C23 functions; a program built against a newer libc may call
 * them, so the shim exports them all the same. */
void free_sized(void *ptr, size_t size);
void free_aligned_sized(void *ptr, size_t alignment, size_t size);
/* Nor this one, which it still exports for programs built against older headers (the timer
 * sampler wraps it with signal and sigaction: shim_cpu.c). */
typedef void (*sc__sighandler)(int);
sc__sighandler bsd_signal(int sig, sc__sighandler handler);
/* What strict ISO C programs reach for signal(), and an alias of sigaction. */
sc__sighandler __sysv_signal(int sig, sc__sighandler handler);
struct sigaction;
int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

/* ---- the allocator the shim forwards to (heap_shim.c) ---------------------------------------- */

struct sc__real {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	size_t (*usable)(void *);
	struct mallinfo2 (*mallinfo2)(void);
	void (*exit_)(int);
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execv)(const char *, char *const[]);
	int (*execvp)(const char *, char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	int no_symbols; /* RTLD_NEXT had no malloc/free: the __libc_* entry points stand in */
};
extern struct sc__real sc__real;

/* Decides whether usable sizes may be read from glibc's chunk headers (after use_mallinfo). */
void sc__probe_chunks(void);
/* Fills sc__real once; allocations dlsym makes meanwhile come from the bootstrap buffer. */
void sc__resolve(void);

/* ---- process state (shim_life.c) ------------------------------------------------------------- */

struct sc__thread;

struct sc__shim {
	int counting;  /* the hot path counts (state RUNNING, this process, not finalized) */
	int streaming; /* 0 off, 1 on, 2 only the finalizing thread may still emit */
	int sites_all;
	int follow;
	int fd; /* the FIFO, or -1 */
	uint64_t sample_bytes;
	struct heap_counters *ctr;
	struct heap_process_slot *proc; /* NULL when this process has no slot */
	uint32_t proc_index;
	uint32_t pid;
	uint32_t seq; /* atomic: next batch number */
	int pipe_broken;
	int use_mallinfo;
	int membarrier; /* expedited membarrier(2) is registered: owners may skip locks */
	struct sc__thread *final_rec; /* the finalizing thread, while streaming == 2 */
	uintptr_t self_base;        /* the shim's dlpi_addr: excluded from the leak scan's roots */
	uintptr_t self_lo, self_hi; /* the shim's executable code: its frames are dropped */
	char exe[4096];             /* readlink /proc/self/exe, "" when unknown */
};
extern struct sc__shim sc__g;

/* Everything one thread keeps for itself; initial-exec TLS, so reaching it costs one load. */
struct sc__tls {
	int guard;      /* nonzero while the shim runs on this thread: calls pass through */
	int in_resolve; /* dlsym is running on this thread: allocations come from the bootstrap */
	int overflow;   /* the thread shares overflow_thread (atomic adds) */
	int bias_owner; /* this thread skips the table locks (shim_track.c) */
	uint32_t slot_index;           /* the thread slot's index (UINT32_MAX: overflow) */
	uint32_t events;               /* allocations and frees since the last live flush */
	struct heap_thread_slot *slot; /* own slot, plain stores; NULL until claimed, or overflow */
	void *last_alloc;              /* the last block this thread allocated: temporary frees */
	int64_t live;                  /* usable bytes allocated minus freed since the last flush */
	int64_t live_max;              /* the largest `live` since the last flush */
	int64_t sample_left;           /* bytes until the next sampled allocation */
	uint64_t rng;                  /* xorshift64* state */
	struct sc__thread *rec;        /* batch and stack cache, claimed with the first record */
	uint64_t tsc_a, ns_a;          /* the clock anchor (shim_clock.c) */
	uint64_t last_ns;              /* the latest stamp */
	uint32_t stamps;               /* stamps since the anchor */
};
extern __thread struct sc__tls sc__tls;

/* Starts the shim once: from our constructor, or lazily (lazy = 1) from the first allocation,
 * which another object's constructor may make before ours runs. */
void sc__init(int lazy);
/* Final figures and the EXIT record; once per process image (idempotent, thread-safe). The leak
 * scan reads the calling thread's stack from stack_lo up (0: no scan). */
void sc__finalize(int how, uintptr_t stack_lo);
/* Asks for a call at this thread's exit (its batch flushed, its live delta added). */
void sc__thread_watch(void);
/* Claims a thread slot for the calling thread (errno preserved). */
void sc__claim_thread(struct sc__tls *t);
/* Adds the thread's live delta to the process and raises the peak. */
void sc__flush_live(struct sc__tls *t);
/* The next sampling interval, exponentially distributed around sample_bytes. */
int64_t sc__next_sample(struct sc__tls *t);
/* A lock for short critical sections that a fork child can simply reset. */
void sc__spin_lock(int *lock);
void sc__spin_unlock(int *lock);

/* ---- time stamps (shim_clock.c) -------------------------------------------------------------- */

uint64_t sc__now_ns(void);
/* CLOCK_MONOTONIC for ALLOC records, through the TSC where the kernel trusts it (within 0.5 us,
 * usually a few ns); never decreasing on one thread. */
uint64_t sc__event_ns(struct sc__tls *t);
/* Decides whether sc__event_ns may read the TSC, and takes the first anchor. */
void sc__clock_setup(void);

/* ---- records (shim_stream.c) ----------------------------------------------------------------- */

#define SC_STACK_CACHE 1024 /* per-thread direct-mapped cache of announced stack ids */

/* One per thread that emits records, in mmap'd memory, kept in a registry so that exit and
 * exec can flush the batches of every thread. */
struct sc__thread {
	struct sc__thread *next; /* registry: never unlinked, reused through in_use */
	int in_use;              /* atomic: claimed by a live thread */
	int busy;                /* the owner is in its batch (membarrier mode) */
	int lock;                /* the owner is in its batch (lock mode) */
	uint32_t len;            /* bytes of records in buf after the batch header */
	uint32_t tid;
	uintptr_t stack_lo, stack_hi; /* the thread's stack for the leak scan; 0 when unknown */
	uintptr_t tls_lo;             /* the thread's struct sc__tls, which the scan skips */
	uint64_t stack_cache[SC_STACK_CACHE];
	_Alignas(16) unsigned char buf[HEAP_BATCH_MAX];
};

extern int sc__reg_lock; /* the registry; taken before table locks and thread locks */

/* Opens $dir/stream for writing without blocking on a missing reader; 0 or -1. */
int sc__stream_open(const char *dir);
/* One batch (header included, at most HEAP_BATCH_MAX bytes), one write(2) to the FIFO;
 * async-signal-safe. */
void sc__stream_write(const void *buf, size_t len);
/* The calling thread's record, claimed on first use (NULL when mmap fails). */
struct sc__thread *sc__thread_rec(struct sc__tls *t);
/* Thread exit: writes the thread's batch and gives its record back. */
void sc__thread_release(struct sc__tls *t);
/* Appends one record (size a multiple of 8) to the calling thread's batch. */
void sc__emit(struct sc__tls *t, const void *rec, size_t size);
void sc__flush_own(struct sc__tls *t);
/* Exit or exec (streaming == 2): writes out every thread's batch. */
void sc__flush_all(struct sc__tls *t);
/* Exit from a signal handler that interrupted the shim on this thread: this thread's batch and
 * the EXIT record only, and only if the interrupted code was not writing that batch. */
void sc__exit_interrupted(struct sc__tls *t, int how, uint64_t end_ns);
/* Lets the owners of batches skip a lock on every record (membarrier), when the kernel can. */
void sc__stream_barrier_setup(void);
/* A full memory barrier on every running thread of the process (sc__g.membarrier); 0 or -1. */
int sc__barrier(void);
void sc__emit_hello(struct sc__tls *t);
/* One MODULE record per loaded object with executable code. */
void sc__emit_modules(struct sc__tls *t);
void sc__emit_exit(struct sc__tls *t, int how, uint64_t end_ns);
/* The id of the stack captured in ips[0..n) (our frames first, dropped), announced in a STACK
 * record if this thread has not yet. */
uint64_t sc__stack_id(struct sc__tls *t, void **ips, int n);
/* Frames captured per sample: room for the shim's own ones above HEAP_MAX_FRAMES. */
#define SC_CAPTURE_FRAMES (HEAP_MAX_FRAMES + 8)
/* Calls fn for every thread record, in use or not; the caller holds sc__reg_lock. */
void sc__thread_each(void (*fn)(struct sc__thread *r, void *arg), void *arg);
/* Fork child: forget every other thread's record, empty ours. */
void sc__stream_fork_child(struct sc__tls *t);
/* Finds the shim's own load address and code range. */
void sc__find_self(void);

/* ---- the timer sampler (shim_cpu.c) ---------------------------------------------------------- */

/* With HEAP_ENV_CPU_RATE set: installs the SIGPROF handler and arms the calling thread's
 * CPU-time timer (threads started later are armed by our pthread_create), or stands down when
 * the program has its own SIGPROF action; sends a CPU_STATE record either way. After the
 * HELLO record. */
void sc__cpu_start(void);
/* Fork child (after its HELLO when traced): the parent's timers are gone; a traced child arms
 * one for its thread, an untraced one gets SIGPROF's original action back. */
void sc__cpu_fork_child(int traced);

/* ---- remembered blocks (shim_track.c) -------------------------------------------------------- */

/* A counting filter over pointer hashes: nonzero means "maybe remembered". With sites=all every
 * cell is saturated, so every free takes the slow path. */
extern uint8_t sc__filter[1 << 16];

static inline uint64_t sc__ptr_hash(const void *p)
{
	return ((uint64_t)(uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull;
}

static inline int sc__track_maybe(const void *p)
{
	return __atomic_load_n(&sc__filter[sc__ptr_hash(p) >> 48], __ATOMIC_RELAXED) != 0;
}

/* all: sites=all, every block is remembered (the filter is saturated). */
void sc__track_init(int all);
void sc__track_insert(const void *p, uint64_t size);
/* 1 and the size when p was remembered (it is forgotten), else 0. */
int sc__track_remove(const void *p, uint64_t *size);
/* Fork and the leak scan: every table, frozen. */
void sc__track_lock_all(void);
void sc__track_unlock_all(void);
void sc__track_reset(void); /* fork child: forget the parent's blocks */
/* The calling thread is leaving: it no longer skips the table locks. */
void sc__track_thread_exit(struct sc__tls *t);
/* A block could not be remembered (the tables hit their size limit): no leak scan. */
int sc__track_overflowed(void);
uint64_t sc__track_count(void);
/* Calls fn for every remembered block; the caller holds every lock. */
void sc__track_each(void (*fn)(uint64_t ptr, uint64_t size, void *arg), void *arg);

/* ---- the leak scan (shim_leaks.c) ------------------------------------------------------------ */

/* Marks the remembered blocks reachable or lost and emits one LEAK record each; 0 when it ran.
 * stack_lo: where the exiting thread's stack is read from (its registers spilled there). */
int sc__leak_scan(struct sc__tls *t, uintptr_t stack_lo);

#endif

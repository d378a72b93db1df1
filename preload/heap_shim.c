/* heap_shim.c: the interposed allocation functions, their per-thread counting fast path, call-site
 * sampling, and the bootstrap allocator that serves dlsym while the real functions are found. */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <errno.h>
#include <libunwind.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

struct sc__real sc__real;
__thread struct sc__tls sc__tls __attribute__((tls_model("initial-exec")));

/* A thread flushes its live-bytes delta into the process after HEAP_LIVE_FLUSH_EVENTS events, or
 * sooner when the delta moves by more than HEAP_LIVE_FLUSH_BYTES either way (the peak's error
 * bound, see sc__flush_live). */

/* ---- bootstrap ------------------------------------------------------------------------------- */

/* dlsym may allocate (an error string, a buffer) while we look for the real malloc: those calls
 * are served from a static buffer that is never given back. */

#define SC_BOOT_SIZE (64 << 10)
#define SC_BOOT_HDR  16 /* each block is preceded by its size, for realloc and usable size */

static _Alignas(4096) unsigned char boot_buf[SC_BOOT_SIZE];
static size_t boot_used;

static inline int is_boot(const void *p)
{
	return (uintptr_t)p - (uintptr_t)boot_buf < SC_BOOT_SIZE;
}

static void *boot_alloc(size_t size, size_t align)
{
	size_t old, start, end;

	if (align < SC_BOOT_HDR)
		align = SC_BOOT_HDR;
	if (size > SC_BOOT_SIZE || align > 4096 || (align & (align - 1)) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	old = __atomic_load_n(&boot_used, __ATOMIC_RELAXED);
	do {
		start = (old + SC_BOOT_HDR + align - 1) & ~(align - 1);
		end = start + ((size + 15) & ~(size_t)15);
		if (end > SC_BOOT_SIZE) {
			errno = ENOMEM;
			return NULL;
		}
	} while (!__atomic_compare_exchange_n(&boot_used, &old, end, 0, __ATOMIC_RELAXED,
	                                      __ATOMIC_RELAXED));
	/* The buffer is zero and never reused, so calloc needs no memset. */
	memcpy(boot_buf + start - SC_BOOT_HDR, &size, sizeof size);
	return boot_buf + start;
}

static size_t boot_size(const void *p)
{
	size_t size;

	memcpy(&size, (const unsigned char *)p - SC_BOOT_HDR, sizeof size);
	return size;
}

/* ---- the real functions ---------------------------------------------------------------------- */

#define SC_SYM(field, handle, name) (*(void **)&sc__real.field = dlsym(handle, name))

/* An allocator preloaded after us may lack the rarer forms: build them from memalign. */
static void *fallback_aligned_alloc(size_t align, size_t size)
{
	return sc__real.memalign ? sc__real.memalign(align, size) : NULL;
}

static void *fallback_valloc(size_t size)
{
	return fallback_aligned_alloc((size_t)sysconf(_SC_PAGESIZE), size);
}

static void *fallback_pvalloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return fallback_aligned_alloc(page, (size + page - 1) & ~(page - 1));
}

static int fallback_posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)) != 0)
		return EINVAL;
	p = fallback_aligned_alloc(align, size);
	if (p == NULL)
		return ENOMEM;
	*out = p;
	return 0;
}

void sc__resolve(void)
{
	struct sc__tls *t = &sc__tls;

	if (t->in_resolve || sc__real.malloc != NULL)
		return;
	t->in_resolve = 1;
	SC_SYM(free, RTLD_NEXT, "free");
	SC_SYM(calloc, RTLD_NEXT, "calloc");
	SC_SYM(realloc, RTLD_NEXT, "realloc");
	SC_SYM(memalign, RTLD_NEXT, "memalign");
	if (sc__real.free == NULL || sc__real.calloc == NULL || sc__real.realloc == NULL ||
	    dlsym(RTLD_NEXT, "malloc") == NULL) {
		/* Nothing to forward to behind us: glibc's own entry points still serve the
		 * program, uncounted (the process is marked DISABLED, NO_SYMBOLS). */
		sc__real.no_symbols = 1;
		SC_SYM(free, RTLD_DEFAULT, "__libc_free");
		SC_SYM(calloc, RTLD_DEFAULT, "__libc_calloc");
		SC_SYM(realloc, RTLD_DEFAULT, "__libc_realloc");
		SC_SYM(memalign, RTLD_DEFAULT, "__libc_memalign");
	}
	SC_SYM(posix_memalign, RTLD_NEXT, "posix_memalign");
	SC_SYM(aligned_alloc, RTLD_NEXT, "aligned_alloc");
	SC_SYM(valloc, RTLD_NEXT, "valloc");
	SC_SYM(pvalloc, RTLD_NEXT, "pvalloc");
	SC_SYM(usable, RTLD_NEXT, "malloc_usable_size");
	SC_SYM(mallinfo2, RTLD_NEXT, "mallinfo2");
	SC_SYM(exit_, RTLD_NEXT, "_exit");
	SC_SYM(execve, RTLD_NEXT, "execve");
	SC_SYM(execv, RTLD_NEXT, "execv");
	SC_SYM(execvp, RTLD_NEXT, "execvp");
	SC_SYM(execvpe, RTLD_NEXT, "execvpe");
	if (sc__real.no_symbols) {
		sc__real.posix_memalign = NULL;
		sc__real.aligned_alloc = NULL;
		sc__real.usable = NULL;
		SC_SYM(valloc, RTLD_DEFAULT, "__libc_valloc");
		SC_SYM(pvalloc, RTLD_DEFAULT, "__libc_pvalloc");
	}
	if (sc__real.posix_memalign == NULL)
		sc__real.posix_memalign = fallback_posix_memalign;
	if (sc__real.aligned_alloc == NULL)
		sc__real.aligned_alloc = fallback_aligned_alloc;
	if (sc__real.valloc == NULL)
		sc__real.valloc = fallback_valloc;
	if (sc__real.pvalloc == NULL)
		sc__real.pvalloc = fallback_pvalloc;
	/* malloc last: a non-NULL malloc tells other threads that everything else is set. */
	{
		void *m = sc__real.no_symbols ? dlsym(RTLD_DEFAULT, "__libc_malloc")
		                              : dlsym(RTLD_NEXT, "malloc");
		__atomic_store_n((void **)&sc__real.malloc, m, __ATOMIC_RELEASE);
	}
	t->in_resolve = 0;
}

/* ---- usable sizes ---------------------------------------------------------------------------- */

/* malloc_usable_size reads the header of the *next* chunk (its in-use bit), a cache miss that
 * cost more than all our counting. Our blocks are in use by definition, so with glibc's malloc
 * the block's own header, which the allocator has just touched, is enough: an in-use chunk has
 * size - 8 usable bytes, an mmapped one size - 16. sc__probe_chunks checks that rule against the
 * real malloc_usable_size at start and keeps the slow call when anything differs. */
static int glibc_chunks;

static inline uint64_t usable_of(void *p)
{
	if (SC_LIKELY(glibc_chunks)) {
		uint64_t h;

		memcpy(&h, (const unsigned char *)p - 8, sizeof h);
		return (h & ~(uint64_t)7) - 8 - ((h & 2) << 2);
	}
	return sc__real.usable(p);
}

void sc__probe_chunks(void)
{
	static const size_t sizes[] = {0, 1, 8, 24, 25, 100, 1000, 4000, 70000, 200000, 1 << 21};
	int ok = sizeof(size_t) == 8 && sc__g.use_mallinfo && sc__real.usable != NULL;

	for (size_t i = 0; ok && i < sizeof sizes / sizeof sizes[0]; i++) {
		void *a = sc__real.malloc(sizes[i]), *b = sc__real.memalign(64, sizes[i] + 40);

		glibc_chunks = 1;
		ok = a != NULL && b != NULL && usable_of(a) == sc__real.usable(a) &&
		     usable_of(b) == sc__real.usable(b);
		glibc_chunks = 0;
		sc__real.free(a);
		sc__real.free(b);
	}
	glibc_chunks = ok;
}

/* ---- counting -------------------------------------------------------------------------------- */

/* Bucket 0 holds size 0, bucket k sizes in [2^(k-1), 2^k); sizes of 2^63 and more (which no
 * allocator grants) share bucket 63. */
static inline unsigned size_bucket(uint64_t n)
{
	unsigned b = n ? 64u - (unsigned)__builtin_clzll(n) : 0u;

	return b - (b >> 6);
}

/* Threads beyond HEAP_MAX_THREADS share one slot, so their adds must be atomic. */
static void tally_alloc_shared(struct sc__tls *t, uint64_t size, uint64_t usable)
{
	struct heap_thread_slot *s;

	sc__claim_thread(t);
	s = t->slot;
	if (s != NULL) {
		s->allocations++;
		s->bytes_allocated += size;
		s->usable_allocated += usable;
		s->size_buckets[size_bucket(size)]++;
		return;
	}
	if (sc__g.ctr == NULL)
		return;
	s = &sc__g.ctr->overflow_thread;
	__atomic_fetch_add(&s->allocations, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->bytes_allocated, size, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->usable_allocated, usable, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->size_buckets[size_bucket(size)], 1, __ATOMIC_RELAXED);
}

static void tally_free_shared(struct sc__tls *t, uint64_t usable, int temporary)
{
	struct heap_thread_slot *s;

	sc__claim_thread(t);
	s = t->slot;
	if (s != NULL) {
		s->frees++;
		s->usable_freed += usable;
		s->temporary += (uint64_t)temporary;
		return;
	}
	if (sc__g.ctr == NULL)
		return;
	s = &sc__g.ctr->overflow_thread;
	__atomic_fetch_add(&s->frees, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->usable_freed, usable, __ATOMIC_RELAXED);
	if (temporary)
		__atomic_fetch_add(&s->temporary, 1, __ATOMIC_RELAXED);
}

/* The records of a sampled allocation: its stack, an ALLOC record, and the block remembered so
 * that its free is reported. */
static __attribute__((noinline, cold)) void sample_record(struct sc__tls *t, void *p, size_t size,
                                                          void **ips, int n, int saved_errno)
{
	if (sc__g.sites_all) {
		sc__track_insert(p, size);
		t->sample_left = -1;
	} else {
		t->sample_left = sc__next_sample(t);
	}
	if (__atomic_load_n(&sc__g.streaming, __ATOMIC_RELAXED) == 1) {
		struct heap_rec_alloc r = {
		    .h = {HEAP_REC_ALLOC, sizeof r, t->slot_index},
		    .ptr = (uintptr_t)p,
		    .size = size,
		};

		r.stack_id = sc__stack_id(t, ips, n);
		r.t_ns = sc__event_ns(t);
		sc__emit(t, &r, sizeof r);
		if (!sc__g.sites_all)
			sc__track_insert(p, size);
		if (t->slot != NULL)
			t->slot->sampled++;
		else if (sc__g.ctr != NULL)
			__atomic_fetch_add(&sc__g.ctr->overflow_thread.sampled, 1,
			                   __ATOMIC_RELAXED);
	}
	errno = saved_errno;
}

/* A sampled allocation (or, with sites=all, every one). The stack is captured here, inlined into
 * the allocation function, so that the only frame of ours the unwinder walks is that function's:
 * each frame costs time on every allocation with sites=all. */
static inline __attribute__((always_inline)) void sample(struct sc__tls *t, void *p, size_t size)
{
	void *ips[SC_CAPTURE_FRAMES];
	int saved = errno, n = 0;

	if (__atomic_load_n(&sc__g.streaming, __ATOMIC_RELAXED) == 1)
		n = unw_backtrace(ips, SC_CAPTURE_FRAMES);
	sample_record(t, p, size, ips, n, saved);
}

/* The fast path: plain stores to this thread's own slot, no atomics, no locks. */
static inline __attribute__((always_inline)) void on_alloc(struct sc__tls *t, void *p, size_t size)
{
	uint64_t usable = usable_of(p);
	struct heap_thread_slot *s = t->slot;

	if (SC_LIKELY(s != NULL)) {
		s->allocations++;
		s->bytes_allocated += size;
		s->usable_allocated += usable;
		s->size_buckets[size_bucket(size)]++;
	} else {
		tally_alloc_shared(t, size, usable);
	}
	t->last_alloc = p;
	t->live += (int64_t)usable;
	if (t->live > t->live_max)
		t->live_max = t->live;
	if (SC_UNLIKELY(++t->events >= HEAP_LIVE_FLUSH_EVENTS || t->live > HEAP_LIVE_FLUSH_BYTES))
		sc__flush_live(t);
	t->sample_left -= (int64_t)size;
	if (SC_UNLIKELY(t->sample_left < 0))
		sample(t, p, size);
}

static inline __attribute__((always_inline)) void on_free(struct sc__tls *t, void *p,
                                                          uint64_t usable)
{
	struct heap_thread_slot *s = t->slot;
	int temporary = p == t->last_alloc;

	if (temporary)
		t->last_alloc = NULL;
	if (SC_LIKELY(s != NULL)) {
		s->frees++;
		s->usable_freed += usable;
		s->temporary += (uint64_t)temporary;
	} else {
		tally_free_shared(t, usable, temporary);
	}
	t->live -= (int64_t)usable;
	if (SC_UNLIKELY(++t->events >= HEAP_LIVE_FLUSH_EVENTS || t->live < -HEAP_LIVE_FLUSH_BYTES))
		sc__flush_live(t);
}

static void emit_free(struct sc__tls *t, void *p)
{
	struct heap_rec_free r = {.h = {HEAP_REC_FREE, sizeof r, t->slot_index},
	                          .ptr = (uintptr_t)p};

	sc__emit(t, &r, sizeof r);
}

/* The filter said p may be remembered: forget it and report its free. */
static __attribute__((noinline, cold)) void track_free(struct sc__tls *t, void *p)
{
	int saved = errno;
	uint64_t size;

	if (sc__track_remove(p, &size) || sc__g.sites_all)
		emit_free(t, p);
	errno = saved;
}

/* ---- calls that miss the counted path -------------------------------------------------------- */

enum { PASS_BOOT, PASS_REAL, PASS_COUNT };

/* Guarded calls, calls before start or after exit, and calls in a process that is not traced
 * go straight to the real allocator; the first call may also start the shim (another library's
 * constructor can allocate before ours runs). */
static int pass_mode(struct sc__tls *t)
{
	if (t->in_resolve)
		return PASS_BOOT;
	if (sc__real.malloc == NULL) {
		sc__resolve();
		if (sc__real.malloc == NULL)
			return PASS_BOOT;
	}
	if (t->guard == 0) {
		sc__init(1);
		if (__atomic_load_n(&sc__g.counting, __ATOMIC_ACQUIRE))
			return PASS_COUNT;
	}
	return PASS_REAL;
}

enum { K_MALLOC, K_CALLOC, K_MEMALIGN, K_ALIGNED_ALLOC, K_VALLOC, K_PVALLOC };

static inline __attribute__((always_inline)) void *real_alloc(int kind, size_t a, size_t b)
{
	switch (kind) {
	case K_MALLOC:
		return sc__real.malloc(a);
	case K_CALLOC:
		return sc__real.calloc(a, b);
	case K_MEMALIGN:
		return sc__real.memalign(a, b);
	case K_ALIGNED_ALLOC:
		return sc__real.aligned_alloc(a, b);
	case K_VALLOC:
		return sc__real.valloc(a);
	default:
		return sc__real.pvalloc(a);
	}
}

static void *boot_kind(int kind, size_t a, size_t b)
{
	size_t n;

	switch (kind) {
	case K_MALLOC:
		return boot_alloc(a, 16);
	case K_CALLOC:
		if (__builtin_mul_overflow(a, b, &n)) {
			errno = ENOMEM;
			return NULL;
		}
		return boot_alloc(n, 16);
	case K_MEMALIGN:
	case K_ALIGNED_ALLOC:
		return boot_alloc(b, a);
	default:
		return boot_alloc(a, 4096);
	}
}

static void *counted_alloc(int kind, size_t a, size_t b);

static __attribute__((noinline)) void *pass_alloc(struct sc__tls *t, int kind, size_t a, size_t b)
{
	switch (pass_mode(t)) {
	case PASS_BOOT:
		return boot_kind(kind, a, b);
	case PASS_COUNT:
		return counted_alloc(kind, a, b);
	default:
		return real_alloc(kind, a, b);
	}
}

/* The requested size valgrind counts for each form. */
static inline size_t requested(int kind, size_t a, size_t b)
{
	switch (kind) {
	case K_CALLOC:
		return a * b; /* only used on success, when it did not overflow */
	case K_MEMALIGN:
	case K_ALIGNED_ALLOC:
		return b;
	default:
		return a;
	}
}

static inline __attribute__((always_inline)) void *alloc_common(int kind, size_t a, size_t b)
{
	struct sc__tls *t = &sc__tls;
	void *p;

	if (SC_UNLIKELY(t->guard | !__atomic_load_n(&sc__g.counting, __ATOMIC_RELAXED)))
		return pass_alloc(t, kind, a, b);
	t->guard = 1;
	p = real_alloc(kind, a, b);
	if (SC_LIKELY(p != NULL))
		on_alloc(t, p, requested(kind, a, b));
	t->guard = 0;
	return p;
}

static __attribute__((noinline)) void *counted_alloc(int kind, size_t a, size_t b)
{
	switch (kind) {
	case K_MALLOC:
		return alloc_common(K_MALLOC, a, b);
	case K_CALLOC:
		return alloc_common(K_CALLOC, a, b);
	case K_MEMALIGN:
		return alloc_common(K_MEMALIGN, a, b);
	case K_ALIGNED_ALLOC:
		return alloc_common(K_ALIGNED_ALLOC, a, b);
	case K_VALLOC:
		return alloc_common(K_VALLOC, a, b);
	default:
		return alloc_common(K_PVALLOC, a, b);
	}
}

/* ---- the interposed family ------------------------------------------------------------------- */

SC_EXPORT void *malloc(size_t size)
{
	return alloc_common(K_MALLOC, size, 0);
}

SC_EXPORT void *calloc(size_t n, size_t size)
{
	return alloc_common(K_CALLOC, n, size);
}

SC_EXPORT void *memalign(size_t align, size_t size)
{
	return alloc_common(K_MEMALIGN, align, size);
}

SC_EXPORT void *aligned_alloc(size_t align, size_t size)
{
	return alloc_common(K_ALIGNED_ALLOC, align, size);
}

SC_EXPORT void *valloc(size_t size)
{
	return alloc_common(K_VALLOC, size, 0);
}

SC_EXPORT void *pvalloc(size_t size)
{
	return alloc_common(K_PVALLOC, size, 0);
}

SC_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	struct sc__tls *t = &sc__tls;
	int r;

	if (SC_UNLIKELY(t->guard | !__atomic_load_n(&sc__g.counting, __ATOMIC_RELAXED))) {
		switch (pass_mode(t)) {
		case PASS_BOOT: {
			void *p = boot_alloc(size, align);

			if (p == NULL)
				return ENOMEM;
			*out = p;
			return 0;
		}
		case PASS_REAL:
			return sc__real.posix_memalign(out, align, size);
		default:
			break;
		}
	}
	t->guard = 1;
	r = sc__real.posix_memalign(out, align, size);
	if (r == 0)
		on_alloc(t, *out, size);
	t->guard = 0;
	return r;
}

static __attribute__((noinline)) void pass_free(void *p)
{
	if (sc__real.free == NULL)
		sc__resolve();
	/* Without any free to call the block is dropped: leaking beats crashing. */
	if (sc__real.free != NULL)
		sc__real.free(p);
}

SC_EXPORT void free(void *p)
{
	struct sc__tls *t = &sc__tls;
	uint64_t usable;

	if (SC_UNLIKELY(p == NULL || is_boot(p)))
		return;
	if (SC_UNLIKELY(t->guard | !__atomic_load_n(&sc__g.counting, __ATOMIC_RELAXED))) {
		pass_free(p);
		return;
	}
	t->guard = 1;
	usable = usable_of(p);
	on_free(t, p, usable);
	/* Forget the block before the real free: once freed, another thread may be handed the
	 * same address and remember it. */
	if (SC_UNLIKELY(sc__track_maybe(p)))
		track_free(t, p);
	sc__real.free(p);
	t->guard = 0;
}

SC_EXPORT void free_sized(void *p, size_t size)
{
	(void)size;
	free(p);
}

SC_EXPORT void free_aligned_sized(void *p, size_t align, size_t size)
{
	(void)align;
	(void)size;
	free(p);
}

static void *boot_realloc(void *p, size_t size)
{
	size_t old = boot_size(p);
	void *q;

	if (sc__real.malloc == NULL)
		sc__resolve();
	q = sc__real.malloc != NULL && !sc__tls.in_resolve ? sc__real.malloc(size)
	                                                   : boot_alloc(size, 16);
	if (q != NULL)
		memcpy(q, p, old < size ? old : size);
	return q;
}

/* The block leaves the tables before the real realloc (whose success frees it, after which its
 * address can be handed to another thread), and comes back if the realloc fails. */
static __attribute__((noinline, cold)) int realloc_take(void *p, uint64_t *size)
{
	int saved = errno;
	int found = sc__track_remove(p, size);

	errno = saved;
	return found;
}

static __attribute__((noinline, cold)) void realloc_failed(void *p, int found, uint64_t size)
{
	int saved = errno;

	if (found)
		sc__track_insert(p, size);
	errno = saved;
}

static __attribute__((noinline, cold)) void realloc_freed(struct sc__tls *t, void *p, int found)
{
	int saved = errno;

	if (found || sc__g.sites_all)
		emit_free(t, p);
	errno = saved;
}

SC_EXPORT void *realloc(void *p, size_t size)
{
	struct sc__tls *t = &sc__tls;
	uint64_t usable, tsize = 0;
	int tracked = 0, maybe;
	void *q;

	if (p == NULL)
		return alloc_common(K_MALLOC, size, 0);
	if (SC_UNLIKELY(is_boot(p)))
		return boot_realloc(p, size);
	if (SC_UNLIKELY(t->guard | !__atomic_load_n(&sc__g.counting, __ATOMIC_RELAXED))) {
		if (sc__real.realloc == NULL)
			sc__resolve();
		return sc__real.realloc != NULL ? sc__real.realloc(p, size) : NULL;
	}
	t->guard = 1;
	usable = usable_of(p);
	maybe = sc__track_maybe(p);
	if (SC_UNLIKELY(maybe))
		tracked = realloc_take(p, &tsize);
	q = sc__real.realloc(p, size);
	if (q == NULL && size != 0) {
		/* Failed: p is untouched and nothing is counted. */
		if (SC_UNLIKELY(maybe))
			realloc_failed(p, tracked, tsize);
		t->guard = 0;
		return NULL;
	}
	/* Valgrind's rule: a successful realloc(p, n > 0) is one free and one allocation, moved or
	 * not; realloc(p, 0), which glibc turns into free(p), is one free. */
	on_free(t, p, usable);
	if (SC_UNLIKELY(maybe))
		realloc_freed(t, p, tracked);
	if (q != NULL)
		on_alloc(t, q, size);
	t->guard = 0;
	return q;
}

SC_EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
	size_t bytes;

	/* glibc's own reallocarray calls its internal realloc, which we would not see. */
	if (__builtin_mul_overflow(n, size, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, bytes);
}

SC_EXPORT size_t malloc_usable_size(void *p)
{
	if (p == NULL)
		return 0;
	if (is_boot(p))
		return boot_size(p);
	if (sc__real.malloc == NULL)
		sc__resolve();
	return sc__real.usable != NULL ? sc__real.usable(p) : 0;
}

/* shim_stream.c: the record stream: per-thread batches written to the FIFO, HELLO, MODULE and EXIT
 * records, and call stacks (hashed, announced once per thread). */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY /* unw_set_caching_policy */
#include <errno.h>
#include <fcntl.h>
#include <libunwind.h>
#include <limits.h>
#include <link.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

int sc__reg_lock;
static struct sc__thread *registry; /* every thread record ever made; guarded by sc__reg_lock */
static dev_t fifo_dev;
static ino_t fifo_ino;

#define SC_BATCH_ROOM  (HEAP_BATCH_MAX - sizeof(struct heap_batch))
#define SC_MODULE_PATH 2048 /* longer paths are cut (and still NUL-terminated) */
#define SC_FIFO_MIN_FD 200  /* out of the way of programs that expect low descriptors free */
#define SC_PIPE_SIZE   (1 << 20)

/* ---- the FIFO -------------------------------------------------------------------------------- */

int sc__stream_open(const char *dir)
{
	char path[PATH_MAX + 16];
	size_t n = strlen(dir);
	struct stat st;
	int fd, high, fl;

	if (n + sizeof "/stream" > sizeof path)
		return -1;
	memcpy(path, dir, n);
	memcpy(path + n, "/stream", sizeof "/stream");
	/* O_NONBLOCK: with no reader, open fails (ENXIO) instead of hanging the program. */
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
		close(fd);
		return -1;
	}
	/* Blocking writes from now on: a batch is never dropped because the collector is slow. */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
		close(fd);
		return -1;
	}
	/* A roomier pipe lets the collector read many batches per wakeup and spares the program
	 * most context switches (sites=all writes one batch per ~70 allocations). Best effort:
	 * unprivileged processes may grow a pipe to /proc/sys/fs/pipe-max-size (1 MiB). */
	if (fcntl(fd, F_GETPIPE_SZ) < SC_PIPE_SIZE)
		fcntl(fd, F_SETPIPE_SZ, SC_PIPE_SIZE);
	high = fcntl(fd, F_DUPFD_CLOEXEC, SC_FIFO_MIN_FD);
	if (high >= 0) {
		close(fd);
		fd = high;
	}
	fifo_dev = st.st_dev;
	fifo_ino = st.st_ino;
	sc__g.fd = fd;
	return 0;
}

static void stream_broken(void)
{
	sc__g.pipe_broken = 1;
	__atomic_store_n(&sc__g.streaming, 0, __ATOMIC_RELEASE);
}

/* One batch, one write(2): at most PIPE_BUF bytes, so it is atomic on the pipe and never
 * interleaves with another thread's or process's batch.
 *
 * A dead collector must neither kill nor hang the program. The write cannot hang: the collector
 * holding the read end keeps the pipe drained, and once it is gone write fails with EPIPE. That
 * EPIPE would also raise SIGPIPE, whose default action kills: so SIGPIPE is blocked on this
 * thread around the write, and the one our write raised is consumed (sigtimedwait, zero timeout)
 * unless the program already had one pending. After the first EPIPE, streaming stops for good
 * while counting goes on. The program may also have closed our descriptor and reused its number:
 * fstat checks it is still our FIFO, so we never write into the program's own file. Everything
 * here is async-signal-safe: the timer sampler's handler writes its samples through it. */
void sc__stream_write(const void *buf, size_t len)
{
	sigset_t pipe_set, old, pending;
	int fd = sc__g.fd, app_blocks, was_pending = 0;
	struct stat st;
	ssize_t w;

	if (fd < 0 || sc__g.pipe_broken)
		return;
	if (fstat(fd, &st) != 0 || st.st_dev != fifo_dev || st.st_ino != fifo_ino) {
		stream_broken();
		return;
	}
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	app_blocks = sigismember(&old, SIGPIPE);
	if (app_blocks && sigpending(&pending) == 0)
		was_pending = sigismember(&pending, SIGPIPE);
	do
		w = write(fd, buf, len);
	while (w < 0 && errno == EINTR);
	if (w < 0) {
		if (errno == EPIPE && !was_pending) {
			struct timespec zero = {0, 0};

			sigtimedwait(&pipe_set, NULL, &zero);
		}
		stream_broken();
	}
	if (!app_blocks)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Caller owns r (owner_enter, or the finalizer once the owner is out). */
static void flush_owned(struct sc__thread *r)
{
	struct heap_batch *b = (struct heap_batch *)r->buf;

	if (r->len == 0)
		return;
	b->magic = HEAP_BATCH_MAGIC;
	b->pid = sc__g.pid;
	b->length = r->len;
	/* Numbered when written, so a gap in a pid's numbers means a lost batch; numbers of
	 * concurrent writers may reach the collector out of order. */
	b->seq = __atomic_fetch_add(&sc__g.seq, 1, __ATOMIC_RELAXED);
	sc__stream_write(r->buf, sizeof *b + r->len);
	r->len = 0;
}

/* ---- who may touch a thread's batch -------------------------------------------------------------
 *
 * Its own thread, always, except after exit or exec began (streaming == 2): then only the
 * finalizing thread, which writes out every thread's batch before the EXIT record. The owner
 * must not pay a lock on every record for that rare event, so with membarrier(2) the owner only
 * raises r->busy (plain stores) and rereads `streaming`; the finalizer sets streaming = 2, runs
 * an expedited membarrier, which orders both sides as if each had a full fence, and then waits
 * for busy to drop: either the owner saw 2 and keeps off, or the finalizer sees it busy and
 * waits. Without membarrier (old kernel, seccomp), the owner takes r->lock. */

void sc__stream_barrier_setup(void)
{
	sc__g.membarrier =
	    syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

int sc__barrier(void)
{
	return (int)syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
}

static inline int may_touch(const struct sc__thread *r)
{
	int s = __atomic_load_n(&sc__g.streaming, __ATOMIC_RELAXED);

	return s != 2 || r == sc__g.final_rec;
}

/* 1 when the caller (r's own thread) may append to or flush r; call owner_leave either way. */
static inline int owner_enter(struct sc__thread *r)
{
	if (sc__g.membarrier) {
		__atomic_store_n(&r->busy, 1, __ATOMIC_RELAXED);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	} else {
		sc__spin_lock(&r->lock);
	}
	return may_touch(r);
}

static inline void owner_leave(struct sc__thread *r)
{
	if (sc__g.membarrier)
		__atomic_store_n(&r->busy, 0, __ATOMIC_RELEASE);
	else
		sc__spin_unlock(&r->lock);
}

/* ---- thread records -------------------------------------------------------------------------- */

/* The stack range of the calling thread (the leak scan reads other threads' stacks). The main
 * thread's is found in /proc/self/maps at scan time instead: asking glibc for it reads that
 * file through stdio. */
static void thread_stack(struct sc__thread *r)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;

	r->stack_lo = r->stack_hi = 0;
	r->tls_lo = (uintptr_t)&sc__tls;
	if (!sc__g.sites_all || r->tid == (uint32_t)getpid())
		return;
	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return;
	if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
		r->stack_lo = (uintptr_t)addr;
		r->stack_hi = (uintptr_t)addr + size;
	}
	pthread_attr_destroy(&attr);
}

struct sc__thread *sc__thread_rec(struct sc__tls *t)
{
	struct sc__thread *r;

	if (t->rec != NULL)
		return t->rec;
	sc__spin_lock(&sc__reg_lock);
	for (r = registry; r != NULL; r = r->next)
		if (!r->in_use)
			break;
	if (r == NULL) {
		void *m = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		               -1, 0);

		if (m == MAP_FAILED) {
			sc__spin_unlock(&sc__reg_lock);
			return NULL;
		}
		r = m;
		r->next = registry;
		registry = r;
	}
	r->in_use = 1;
	/* Left over by a thread that exited while an exec was starting (which then failed). */
	if (may_touch(r))
		flush_owned(r);
	r->len = 0;
	r->tid = (uint32_t)gettid();
	memset(r->stack_cache, 0, sizeof r->stack_cache);
	sc__spin_unlock(&sc__reg_lock);
	thread_stack(r);
	t->rec = r;
	sc__thread_watch();
	return r;
}

void sc__thread_release(struct sc__tls *t)
{
	struct sc__thread *r = t->rec;

	if (r == NULL)
		return;
	if (owner_enter(r))
		flush_owned(r);
	owner_leave(r);
	/* Under the registry lock: a leak scan reading this thread's stack holds it, and the
	 * stack must outlive the scan. */
	sc__spin_lock(&sc__reg_lock);
	r->in_use = 0;
	r->stack_lo = r->stack_hi = 0;
	sc__spin_unlock(&sc__reg_lock);
	t->rec = NULL;
}

void sc__emit(struct sc__tls *t, const void *rec, size_t size)
{
	struct sc__thread *r = sc__thread_rec(t);

	if (r == NULL || size > SC_BATCH_ROOM)
		return;
	if (owner_enter(r) && __atomic_load_n(&sc__g.streaming, __ATOMIC_RELAXED) != 0) {
		sc__word *dst;
		const sc__word *src = rec;

		if (r->len + size > SC_BATCH_ROOM)
			flush_owned(r);
		/* Records are a few words: a call to memcpy costs more than copying them. */
		dst = (sc__word *)(void *)(r->buf + sizeof(struct heap_batch) + r->len);
		for (size_t i = 0; i < size / 8; i++)
			dst[i] = src[i];
		r->len += (uint32_t)size;
	}
	owner_leave(r);
}

void sc__flush_own(struct sc__tls *t)
{
	struct sc__thread *r = t->rec;

	if (r == NULL)
		return;
	if (owner_enter(r))
		flush_owned(r);
	owner_leave(r);
}

void sc__exit_interrupted(struct sc__tls *t, int how, uint64_t end_ns)
{
	struct sc__thread *r = t->rec;
	struct heap_rec_exit e = {.h = {HEAP_REC_EXIT, sizeof e, (uint32_t)how}, .end_ns = end_ns};

	/* The code we interrupted may be in the middle of this very batch: then leave it. */
	if (r == NULL ||
	    (sc__g.membarrier ? r->busy : __atomic_exchange_n(&r->lock, 1, __ATOMIC_ACQUIRE)))
		return;
	if (r->len + sizeof e > SC_BATCH_ROOM)
		flush_owned(r);
	memcpy(r->buf + sizeof(struct heap_batch) + r->len, &e, sizeof e);
	r->len += sizeof e;
	flush_owned(r);
	if (!sc__g.membarrier)
		sc__spin_unlock(&r->lock);
}

void sc__flush_all(struct sc__tls *t)
{
	/* streaming is 2: the owners keep off their batches once this barrier is through. */
	if (sc__g.membarrier && sc__barrier() != 0)
		return;
	sc__spin_lock(&sc__reg_lock);
	for (struct sc__thread *r = registry; r != NULL; r = r->next) {
		/* A thread that exited meanwhile left its batch to us (it saw streaming == 2). */
		if (!r->in_use || r == t->rec) {
			flush_owned(r);
		} else if (sc__g.membarrier) {
			while (__atomic_load_n(&r->busy, __ATOMIC_ACQUIRE))
				sched_yield();
			flush_owned(r);
		} else {
			sc__spin_lock(&r->lock);
			flush_owned(r);
			sc__spin_unlock(&r->lock);
		}
	}
	sc__spin_unlock(&sc__reg_lock);
}

void sc__thread_each(void (*fn)(struct sc__thread *r, void *arg), void *arg)
{
	for (struct sc__thread *r = registry; r != NULL; r = r->next)
		fn(r, arg);
}

void sc__stream_fork_child(struct sc__tls *t)
{
	/* The other threads do not exist in the child and their batches are the parent's. */
	for (struct sc__thread *r = registry; r != NULL; r = r->next) {
		r->lock = 0;
		r->busy = 0;
		r->len = 0;
		if (r != t->rec) {
			r->in_use = 0;
			r->stack_lo = r->stack_hi = 0;
		}
	}
	if (t->rec != NULL) {
		t->rec->tid = (uint32_t)gettid();
		memset(t->rec->stack_cache, 0, sizeof t->rec->stack_cache);
	}
}

/* ---- HELLO, MODULE, EXIT --------------------------------------------------------------------- */

void sc__emit_hello(struct sc__tls *t)
{
	struct heap_process_slot *ps = sc__g.proc;
	struct heap_rec_hello h = {
	    .h = {HEAP_REC_HELLO, sizeof h, sc__g.proc_index},
	    .ppid = ps->ppid,
	    .flags = ps->flags,
	    .sample_bytes = sc__g.sample_bytes,
	    .start_ns = ps->start_ns,
	};

	sc__emit(t, &h, sizeof h);
}

struct module_walk {
	struct sc__tls *t;
	int index;
};

static int module_cb(struct dl_phdr_info *info, size_t info_size, void *arg)
{
	struct module_walk *w = arg;
	const char *name = info->dlpi_name;
	uint64_t lo = UINT64_MAX, hi = 0;
	struct {
		struct heap_rec_module m;
		char path[SC_MODULE_PATH + 8];
	} rec;
	size_t n, size;

	(void)info_size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		if (info->dlpi_addr + ph->p_vaddr < lo)
			lo = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > hi)
			hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
	/* The main program comes first, nameless; a name without a slash (the vdso) has no file
	 * the collector could read. */
	if (w->index++ == 0 && (name == NULL || *name == '\0'))
		name = sc__g.exe;
	else if (name == NULL || strchr(name, '/') == NULL)
		return 0;
	if (hi == 0 || *name == '\0')
		return 0;
	n = strlen(name);
	if (n > SC_MODULE_PATH - 1)
		n = SC_MODULE_PATH - 1;
	memset(&rec, 0, sizeof rec);
	memcpy(rec.path, name, n);
	size = (sizeof rec.m + n + 1 + 7) & ~(size_t)7;
	rec.m.h.type = HEAP_REC_MODULE;
	rec.m.h.size = (uint16_t)size;
	rec.m.h.aux = (uint32_t)(n + 1);
	rec.m.base = info->dlpi_addr;
	rec.m.start = lo;
	rec.m.end = hi;
	sc__emit(w->t, &rec, size);
	return 0;
}

/* Objects loaded and unloaded so far: the loader counts both (dlpi_adds, dlpi_subs). */
static uint64_t modules_gen; /* atomic: that sum when MODULE records last went out */

static int gen_cb(struct dl_phdr_info *info, size_t info_size, void *arg)
{
	if (info_size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs)
		*(uint64_t *)arg = info->dlpi_adds + info->dlpi_subs;
	return 1; /* the counts are the same in every entry: one is enough */
}

static uint64_t loader_gen(void)
{
	uint64_t gen = 0;

	dl_iterate_phdr(gen_cb, &gen);
	return gen;
}

void sc__emit_modules(struct sc__tls *t)
{
	struct module_walk w = {t, 0};

	/* Claimed outside dl_iterate_phdr's lock: claiming may allocate (pthread_getattr_np). */
	if (sc__thread_rec(t) == NULL)
		return;
	__atomic_store_n(&modules_gen, loader_gen(), __ATOMIC_RELAXED);
	dl_iterate_phdr(module_cb, &w);
}

void sc__emit_exit(struct sc__tls *t, int how, uint64_t end_ns)
{
	struct heap_rec_exit e = {.h = {HEAP_REC_EXIT, sizeof e, (uint32_t)how}, .end_ns = end_ns};

	sc__emit(t, &e, sizeof e);
}

static int self_cb(struct dl_phdr_info *info, size_t info_size, void *arg)
{
	uintptr_t here = (uintptr_t)arg, lo = UINTPTR_MAX, hi = 0;
	int mine = 0;

	(void)info_size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t a = info->dlpi_addr + ph->p_vaddr, b = a + ph->p_memsz;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		if (here >= a && here < b)
			mine = 1;
		if (a < lo)
			lo = a;
		if (b > hi)
			hi = b;
	}
	if (!mine)
		return 0;
	sc__g.self_base = info->dlpi_addr;
	sc__g.self_lo = lo;
	sc__g.self_hi = hi;
	return 1;
}

void sc__find_self(void)
{
	dl_iterate_phdr(self_cb, (void *)(uintptr_t)&sc__find_self);
	/* Stack captures keep libunwind's caches per thread: no locks between threads. */
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

/* ---- stacks ---------------------------------------------------------------------------------- */

uint64_t sc__stack_id(struct sc__tls *t, void **ips, int n)
{
	struct {
		struct heap_rec_stack s;
		uint64_t frames[HEAP_MAX_FRAMES];
	} rec;
	struct sc__thread *r;
	int skip = 0, k;
	uint64_t id = 0xcbf29ce484222325ull, *slot;
	uintptr_t span = sc__g.self_hi - sc__g.self_lo;

	/* Our own frames come first (the allocation function): drop them so that frame 0 is the
	 * return address in its caller. */
	while (skip < n && (uintptr_t)ips[skip] - sc__g.self_lo < span)
		skip++;
	k = n - skip;
	if (k > HEAP_MAX_FRAMES)
		k = HEAP_MAX_FRAMES;
	if (k <= 0) {
		k = 1;
		skip = 0;
		ips[0] = NULL; /* no stack: one unknown frame */
	}
	for (int i = 0; i < k; i++) {
		rec.frames[i] = (uintptr_t)ips[skip + i];
		id = (id ^ rec.frames[i]) * 0x100000001b3ull;
		id ^= id >> 29;
	}
	id ^= (uint64_t)k << 56;
	id = id * 0xbf58476d1ce4e5b9ull;
	id ^= id >> 31;
	if (id == 0)
		id = 1;
	r = sc__thread_rec(t);
	if (r == NULL)
		return id;
	/* Announced per thread: a thread's records reach the collector in order, so its ALLOC
	 * never precedes the STACK it names. */
	slot = &r->stack_cache[id & (SC_STACK_CACHE - 1)];
	if (*slot != id) {
		size_t size = sizeof rec.s + (size_t)k * sizeof(uint64_t);

		/* An object loaded since the last MODULE records (dlopen) may hold these frames:
		 * announce the objects again first. Checked per new stack only, which is rare. */
		if (loader_gen() != __atomic_load_n(&modules_gen, __ATOMIC_RELAXED))
			sc__emit_modules(t);

		rec.s.h.type = HEAP_REC_STACK;
		rec.s.h.size = (uint16_t)size;
		rec.s.h.aux = (uint32_t)k;
		rec.s.id = id;
		sc__emit(t, &rec, size);
		*slot = id;
	}
	return id;
}

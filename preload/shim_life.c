/* shim_life.c: the traced process's life: start (environment, counters file, process slot),
 * thread slots and the live-bytes peak, sampling intervals, fork, exec, _exit and exit. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

struct sc__shim sc__g = {.fd = -1};

static int init_state; /* atomic: 0 not started, 1 starting, 2 done */
static int final_once; /* atomic: finalization started in this process image */
static pthread_key_t thread_key;
static int thread_key_ok;
static uint32_t exec_saved_state; /* the state before an exec that may still fail */

static void fork_prepare(void);
static void fork_parent(void);
static void fork_child(void);

/* Critical sections are short (a table probe, a memcpy, at worst one pipe write), so a spin lock
 * that yields is enough; unlike a mutex it can simply be reset in a fork child. */
void sc__spin_lock(int *lock)
{
	unsigned spins = 0;

	while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(lock, __ATOMIC_RELAXED)) {
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
			if (++spins > 64)
				sched_yield();
		}
	}
}

void sc__spin_unlock(int *lock)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

/* ---- sampling intervals ---------------------------------------------------------------------- */

/* ln(x) for x in (0, 1] without libm: x = m * 2^e with m in [sqrt(1/2), sqrt(2)), then
 * ln(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172, whose series to s^11 is exact to 1e-11,
 * far more than a sampling interval needs. */
static double ln_unit(double x)
{
	union {
		double d;
		uint64_t u;
	} b = {.d = x};
	int e = (int)((b.u >> 52) & 0x7ff) - 1022;
	double m, s, s2;

	b.u = (b.u & 0x000fffffffffffffull) | 0x3fe0000000000000ull;
	m = b.d;
	if (m < 0.70710678118654752) {
		m *= 2;
		e--;
	}
	s = (m - 1) / (m + 1);
	s2 = s * s;
	return e * 0.69314718055994531 +
	       s * (2 + s2 * (2.0 / 3 +
	                      s2 * (2.0 / 5 + s2 * (2.0 / 7 + s2 * (2.0 / 9 + s2 * (2.0 / 11))))));
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Exponential intervals (as tcmalloc and jemalloc draw them) make every byte equally likely to be
 * sampled, whatever the allocation pattern, so sampled sites estimate bytes without bias. */
int64_t sc__next_sample(struct sc__tls *t)
{
	uint64_t x = t->rng, r;
	double u, v;

	if (x == 0)
		x = mix64(sc__now_ns() ^ ((uint64_t)gettid() << 32) ^ (uintptr_t)t) | 1;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->rng = x;
	r = x * 0x2545F4914F6CDD1Dull;
	u = (double)((r >> 11) + 1) * 0x1p-53; /* (0, 1] */
	v = -ln_unit(u) * (double)sc__g.sample_bytes;
	return v < 0x1p62 ? (int64_t)v : INT64_C(1) << 62;
}

/* ---- thread slots and the live-bytes peak ---------------------------------------------------- */

static void thread_gone(void *unused);

void sc__thread_watch(void)
{
	if (thread_key_ok)
		pthread_setspecific(thread_key, (void *)1);
}

void sc__claim_thread(struct sc__tls *t)
{
	struct heap_counters *c = sc__g.ctr;
	int saved = errno;
	uint32_t idx;

	if (t->slot != NULL || t->overflow || c == NULL || sc__g.proc == NULL)
		return;
	idx = __atomic_fetch_add(&c->next_thread, 1, __ATOMIC_RELAXED);
	if (idx < HEAP_MAX_THREADS) {
		struct heap_thread_slot *s = &c->threads[idx];

		s->tid = (uint32_t)gettid();
		__atomic_store_n(&s->process, sc__g.proc_index + 1, __ATOMIC_RELEASE);
		t->slot = s;
		t->slot_index = idx;
	} else {
		t->overflow = 1;
		t->slot_index = UINT32_MAX;
	}
	__atomic_fetch_add(&sc__g.proc->threads, 1, __ATOMIC_RELAXED);
	t->sample_left = sc__g.sites_all ? -1 : sc__next_sample(t);
	sc__thread_watch();
	errno = saved;
}

/* The peak of live bytes without a shared counter on the hot path: each thread adds its delta
 * in one atomic step and proposes old + (its largest delta since the last flush) as a peak.
 * For one thread that is exact. With several, the other threads' unflushed deltas are missing
 * from `old`, each below HEAP_LIVE_FLUSH_BYTES in size, so the peak is exact to within
 * (threads - 1) x 256 KiB either way. */
void sc__flush_live(struct sc__tls *t)
{
	struct heap_process_slot *ps = sc__g.proc;

	if (ps != NULL && (t->live != 0 || t->live_max != 0)) {
		int64_t old = __atomic_fetch_add(&ps->live_bytes, t->live, __ATOMIC_RELAXED);
		int64_t cand = old + t->live_max;
		int64_t peak = __atomic_load_n(&ps->peak_live_bytes, __ATOMIC_RELAXED);

		while (cand > peak) {
			if (__atomic_compare_exchange_n(&ps->peak_live_bytes, &peak, cand, 0,
			                                __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
				ps->peak_ns = sc__now_ns();
				break;
			}
		}
	}
	t->live = 0;
	t->live_max = 0;
	t->events = 0;
}

static void thread_gone(void *unused)
{
	struct sc__tls *t = &sc__tls;
	int saved = errno;

	(void)unused;
	t->guard++;
	if (__atomic_load_n(&sc__g.counting, __ATOMIC_RELAXED))
		sc__flush_live(t);
	sc__track_thread_exit(t);
	sc__thread_release(t);
	t->guard--;
	errno = saved;
}

/* ---- start ----------------------------------------------------------------------------------- */

static char run_dir[PATH_MAX];

static int join_path(char *out, size_t cap, const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);

	if (a + b + 1 > cap)
		return -1;
	memcpy(out, dir, a);
	memcpy(out + a, name, b + 1);
	return 0;
}

static int open_counters(const char *dir)
{
	char path[PATH_MAX + 16];
	struct heap_counters *c;
	struct stat st;
	void *m = MAP_FAILED;
	int fd;

	if (join_path(path, sizeof path, dir, "/counters") != 0)
		return -1;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && st.st_size >= (off_t)sizeof(struct heap_counters))
		m = mmap(NULL, sizeof(struct heap_counters), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		         0);
	close(fd);
	if (m == MAP_FAILED)
		return -1;
	c = m;
	if (c->magic != HEAP_COUNTERS_MAGIC || c->version != HEAP_VERSION) {
		munmap(m, sizeof(struct heap_counters));
		return -1;
	}
	sc__g.ctr = c;
	return 0;
}

/* Without --follow-children, exec'd children must run untraced: give LD_PRELOAD back to the user
 * (or remove it) and drop our variables. The user's own preloads stay. */
static void clean_environment(void)
{
	static const char prefix[] = "SHOTCLOCK_HEAP_";
	const char *user = getenv(HEAP_ENV_USER_PRELOAD);
	char name[256];

	if (user != NULL)
		setenv("LD_PRELOAD", user, 1);
	else
		unsetenv("LD_PRELOAD");
	for (;;) {
		int found = 0;

		for (char **e = environ; e != NULL && *e != NULL; e++) {
			const char *eq;
			size_t n;

			if (strncmp(*e, prefix, sizeof prefix - 1) != 0)
				continue;
			eq = strchr(*e, '=');
			n = eq != NULL ? (size_t)(eq - *e) : strlen(*e);
			if (n >= sizeof name)
				continue;
			memcpy(name, *e, n);
			name[n] = '\0';
			found = 1;
			break;
		}
		if (!found || unsetenv(name) != 0)
			break;
	}
}

static int claim_process(uint32_t state, uint32_t reason, uint32_t flags)
{
	struct heap_counters *c = sc__g.ctr;
	struct heap_process_slot *ps;
	uint32_t idx = __atomic_fetch_add(&c->next_process, 1, __ATOMIC_RELAXED);
	size_t n = strlen(sc__g.exe);

	if (idx >= HEAP_MAX_PROCESSES)
		return -1;
	ps = &c->processes[idx];
	ps->pid = (uint32_t)getpid();
	ps->ppid = (uint32_t)getppid();
	ps->reason = reason;
	ps->start_ns = sc__now_ns();
	ps->end_ns = 0;
	ps->live_bytes = 0;
	ps->peak_live_bytes = 0;
	ps->peak_ns = 0;
	ps->arena_bytes = -1;
	ps->in_use_bytes = -1;
	ps->threads = 0;
	ps->flags = flags;
	if (n >= sizeof ps->exe)
		n = sizeof ps->exe - 1;
	memcpy(ps->exe, sc__g.exe, n);
	ps->exe[n] = '\0';
	__atomic_store_n(&ps->state, state, __ATOMIC_RELEASE);
	sc__g.proc = ps;
	sc__g.proc_index = idx;
	sc__g.pid = ps->pid;
	sc__g.seq = 0;
	return 0;
}

/* mallinfo2 describes glibc's heap only: trust it when the malloc we forward to lives in the same
 * object as the mallinfo2 we found. */
static int malloc_is_glibc(void)
{
	Dl_info a, b;

	if (sc__real.mallinfo2 == NULL || sc__real.no_symbols)
		return 0;
	if (dladdr((void *)sc__real.malloc, &a) == 0 || dladdr((void *)sc__real.mallinfo2, &b) == 0)
		return 0;
	return a.dli_fbase == b.dli_fbase;
}

/* Preloaded without a collector (no SHOTCLOCK_HEAP_DIR): the shim counts into private memory, for
 * the in-process regions of a program that uses libshotclock (shim_snapshot.c). Nothing is
 * streamed and no site is sampled; a fork child counts into its own copy. */
static void start_standalone(void)
{
	struct heap_counters *c;
	ssize_t n;

	if (sc__real.no_symbols || (uintptr_t)dlsym(RTLD_DEFAULT, "malloc") - sc__g.self_lo >=
	                               sc__g.self_hi - sc__g.self_lo)
		return;
	c = mmap(NULL, sizeof *c, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		return;
	c->magic = HEAP_COUNTERS_MAGIC;
	c->version = HEAP_VERSION;
	sc__g.ctr = c;
	sc__g.sample_bytes = UINT64_C(1) << 62; /* never reached: no sample is taken */
	n = readlink("/proc/self/exe", sc__g.exe, sizeof sc__g.exe - 1);
	sc__g.exe[n > 0 ? n : 0] = '\0';
	sc__clock_setup();
	sc__g.use_mallinfo = malloc_is_glibc();
	/* No sc__probe_chunks: its test allocations would show in the program's own counts when it
	 * runs under another tool (valgrind), and regions can afford malloc_usable_size. */
	thread_key_ok = pthread_key_create(&thread_key, thread_gone) == 0;
	if (claim_process(HEAP_PROCESS_RUNNING, HEAP_REASON_NONE, 0) == 0)
		__atomic_store_n(&sc__g.counting, 1, __ATOMIC_RELEASE);
}

static void start(void)
{
	struct sc__tls *t = &sc__tls;
	const char *dir = getenv(HEAP_ENV_DIR), *v;
	uint32_t state = HEAP_PROCESS_RUNNING, reason = HEAP_REASON_NONE, flags = 0;
	ssize_t n;

	sc__resolve();
	sc__find_self();
	if (dir == NULL || *dir == '\0') {
		start_standalone();
		return;
	}
	if (strlen(dir) >= sizeof run_dir)
		return;
	memcpy(run_dir, dir, strlen(dir) + 1);
	v = getenv(HEAP_ENV_SITES);
	sc__g.sites_all = v != NULL && strcmp(v, "all") == 0;
	v = getenv(HEAP_ENV_FOLLOW);
	sc__g.follow = v != NULL && strcmp(v, "1") == 0;
	sc__g.sample_bytes = HEAP_DEFAULT_SAMPLE_BYTES;
	v = getenv(HEAP_ENV_SAMPLE_BYTES);
	if (v != NULL && *v >= '0' && *v <= '9') {
		char *end;
		unsigned long long b = strtoull(v, &end, 10);

		if (*end == '\0')
			sc__g.sample_bytes = b != 0 ? b : 1;
	}
	if (sc__g.sites_all)
		sc__g.sample_bytes = 0;

	n = readlink("/proc/self/exe", sc__g.exe, sizeof sc__g.exe - 1);
	sc__g.exe[n > 0 ? n : 0] = '\0';
	if (open_counters(run_dir) != 0)
		return;

	if (sc__real.no_symbols) {
		state = HEAP_PROCESS_DISABLED;
		reason = HEAP_REASON_NO_SYMBOLS;
	} else if ((uintptr_t)dlsym(RTLD_DEFAULT, "malloc") - sc__g.self_lo >=
	           sc__g.self_hi - sc__g.self_lo) {
		/* The program or an object before us defines malloc: its allocations never reach
		 * us, so counting what does would be misleading. */
		state = HEAP_PROCESS_DISABLED;
		reason = HEAP_REASON_OWN_MALLOC;
	}
	if (sc__stream_open(run_dir) != 0 && state == HEAP_PROCESS_RUNNING) {
		state = HEAP_PROCESS_DISABLED;
		reason = HEAP_REASON_NO_STREAM;
	}
	if (state == HEAP_PROCESS_RUNNING) {
		sc__clock_setup();
		sc__g.use_mallinfo = malloc_is_glibc();
		sc__probe_chunks();
		sc__track_init(sc__g.sites_all);
		thread_key_ok = pthread_key_create(&thread_key, thread_gone) == 0;
		sc__stream_barrier_setup();
		if (sc__g.sites_all)
			flags |= HEAP_PROCESS_FLAG_SITES_ALL;
	}
	if (claim_process(state, reason, flags) != 0) {
		if (sc__g.fd >= 0)
			close(sc__g.fd);
		sc__g.fd = -1;
		return;
	}
	if (sc__g.fd >= 0) {
		sc__g.streaming = 1;
		sc__emit_hello(t);
		if (state == HEAP_PROCESS_RUNNING)
			sc__emit_modules(t);
		sc__flush_own(t);
	}
	if (state == HEAP_PROCESS_RUNNING)
		__atomic_store_n(&sc__g.counting, 1, __ATOMIC_RELEASE);
}

void sc__init(int lazy)
{
	struct sc__tls *t = &sc__tls;
	int expected = 0, saved;

	if (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) != 0)
		return;
	/* Before libc's own constructor, environ is not yet set and getenv would say "not
	 * traced"; wait for a later call. */
	if (lazy && environ == NULL)
		return;
	if (!__atomic_compare_exchange_n(&init_state, &expected, 1, 0, __ATOMIC_ACQ_REL,
	                                 __ATOMIC_RELAXED))
		return;
	saved = errno;
	t->guard++;
	start();
	t->guard--;
	errno = saved;
	__atomic_store_n(&init_state, 2, __ATOMIC_RELEASE);
}

/* Started lazily, the shim may be running inside any libc function that allocates: setenv holds
 * the environment lock, pthread_atfork the fork-handler lock. What would take those locks again
 * waits for our constructor, which runs with no libc call in progress. A fork or exec before
 * that (from a constructor of an object initialized before ours) is not handled. */
__attribute__((constructor)) static void shim_constructor(void)
{
	struct sc__tls *t = &sc__tls;
	int saved = errno;

	sc__init(0);
	if (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) != 2 || run_dir[0] == '\0')
		return;
	t->guard++;
	/* Here, not in start(): a lazy start may run inside any libc call. Before the
	 * environment is cleaned, which takes the sampler's rate with it. */
	if (__atomic_load_n(&sc__g.counting, __ATOMIC_RELAXED) && sc__g.fd >= 0)
		sc__cpu_start();
	if (!sc__g.follow)
		clean_environment();
	if (sc__g.proc != NULL && __atomic_load_n(&sc__g.counting, __ATOMIC_RELAXED))
		pthread_atfork(fork_prepare, fork_parent, fork_child);
	t->guard--;
	errno = saved;
}

/* ---- exit ------------------------------------------------------------------------------------ */

static void final_figures(struct heap_process_slot *ps, uint64_t end_ns, int interrupted)
{
	int64_t arena = -1, in_use = -1;

	/* mallinfo2 takes the arena locks: not from inside our own call (a signal handler that
	 * called _exit), whose thread may hold one. */
	if (sc__g.use_mallinfo && !interrupted) {
		struct mallinfo2 mi = sc__real.mallinfo2();

		arena = (int64_t)(mi.arena + mi.hblkhd);
		in_use = (int64_t)(mi.uordblks + mi.hblkhd);
	}
	ps->end_ns = end_ns;
	ps->arena_bytes = arena;
	ps->in_use_bytes = in_use;
}

void sc__finalize(int how, uintptr_t stack_lo)
{
	struct sc__tls *t = &sc__tls;
	struct heap_process_slot *ps = sc__g.proc;
	int saved = errno, interrupted, running;
	uint64_t end_ns;

	if (ps == NULL || sc__g.pid != (uint32_t)getpid())
		return; /* not traced, or a vfork child sharing our memory */
	if (__atomic_exchange_n(&final_once, 1, __ATOMIC_ACQ_REL))
		return;
	/* Nonzero guard: we interrupted the shim on this thread (a signal handler calling _exit),
	 * so its locks may be held by us. Write the counters only. */
	interrupted = t->guard != 0;
	t->guard++;
	running = __atomic_load_n(&ps->state, __ATOMIC_RELAXED) == HEAP_PROCESS_RUNNING;
	exec_saved_state = ps->state;
	if (running) {
		sc__flush_live(t);
		if (!interrupted && sc__g.sites_all && stack_lo != 0 &&
		    sc__leak_scan(t, stack_lo) == 0)
			ps->flags |= HEAP_PROCESS_FLAG_LEAK_SCAN;
		/* From here on, allocations (later destructors, other threads) pass through. */
		__atomic_store_n(&sc__g.counting, 0, __ATOMIC_RELEASE);
	}
	end_ns = sc__now_ns();
	if (interrupted && __atomic_load_n(&sc__g.streaming, __ATOMIC_ACQUIRE) == 1) {
		sc__g.final_rec = t->rec;
		__atomic_store_n(&sc__g.streaming, 2, __ATOMIC_RELEASE);
		sc__exit_interrupted(t, how, end_ns);
	} else if (__atomic_load_n(&sc__g.streaming, __ATOMIC_ACQUIRE) == 1) {
		/* Only this thread may still add records: the EXIT record must be the last. */
		sc__g.final_rec = sc__thread_rec(t);
		__atomic_store_n(&sc__g.streaming, 2, __ATOMIC_RELEASE);
		sc__flush_all(t);
		if (running)
			sc__emit_modules(t);
		sc__emit_exit(t, how, end_ns);
		sc__flush_own(t);
	}
	if (running)
		final_figures(ps, end_ns, interrupted);
	else
		ps->end_ns = end_ns;
	if (running)
		__atomic_store_n(&ps->state, HEAP_PROCESS_EXITED, __ATOMIC_RELEASE);
	t->guard--;
	errno = saved;
}

/* A failed exec: the image goes on, so it is traced again (its EXIT record stands; the collector
 * takes the last EXIT of a pid). */
static void exec_failed(void)
{
	struct heap_process_slot *ps = sc__g.proc;
	int saved = errno;

	if (ps == NULL || sc__g.pid != (uint32_t)getpid())
		return;
	ps->end_ns = 0;
	ps->arena_bytes = -1;
	ps->in_use_bytes = -1;
	if (__atomic_load_n(&sc__g.streaming, __ATOMIC_RELAXED) == 2 && !sc__g.pipe_broken)
		__atomic_store_n(&sc__g.streaming, 1, __ATOMIC_RELEASE);
	if (exec_saved_state == HEAP_PROCESS_RUNNING) {
		__atomic_store_n(&ps->state, HEAP_PROCESS_RUNNING, __ATOMIC_RELEASE);
		__atomic_store_n(&sc__g.counting, 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&final_once, 0, __ATOMIC_RELEASE);
	errno = saved;
}

/* Finalizes from an exit path with the leak scan's view of this thread: the callee-saved
 * registers (which may hold the program's only pointer to a block) spilled into this frame, and
 * the stack from here up, none of the shim's deeper frames. */
static __attribute__((noinline)) void finalize_here(int how)
{
	jmp_buf regs;

	__builtin_unwind_init();
	if (setjmp(regs) == 0)
		sc__finalize(how, (uintptr_t)&regs);
	__asm__ volatile("" : : "r"(&regs) : "memory");
}

__attribute__((destructor)) static void shim_destructor(void)
{
	finalize_here(HEAP_EXIT_NORMAL);
}

static __attribute__((noreturn)) void exit_now(int status)
{
	finalize_here(HEAP_EXIT_UNDERSCORE);
	if (sc__real.exit_ == NULL)
		sc__resolve();
	if (sc__real.exit_ != NULL)
		sc__real.exit_(status);
	for (;;)
		syscall(SYS_exit_group, status);
}

SC_EXPORT void _exit(int status)
{
	exit_now(status);
}

SC_EXPORT void _Exit(int status)
{
	exit_now(status);
}

/* ---- exec ------------------------------------------------------------------------------------ */

/* A successful exec ends the image without running destructors, so the final figures and the
 * EXIT record go out first; a failed one goes on being traced. glibc's execl* and execvp reach its
 * internal execve, not ours, so each entry point is wrapped on its own (fexecve and execveat are
 * not: an image that leaves through them stays RUNNING, with no EXIT record). */
enum { EXEC_VE, EXEC_V, EXEC_VP, EXEC_VPE };

static int do_exec(int kind, const char *file, char *const argv[], char *const envp[])
{
	int r;

	if (sc__real.malloc == NULL)
		sc__resolve();
	sc__finalize(HEAP_EXIT_EXEC, 0);
	switch (kind) {
	case EXEC_VE:
		r = sc__real.execve != NULL ? sc__real.execve(file, argv, envp)
		                            : (int)syscall(SYS_execve, file, argv, envp);
		break;
	case EXEC_V:
		r = sc__real.execv != NULL ? sc__real.execv(file, argv)
		                           : (int)syscall(SYS_execve, file, argv, environ);
		break;
	case EXEC_VP:
		if (sc__real.execvp == NULL) {
			errno = ENOSYS;
			r = -1;
		} else {
			r = sc__real.execvp(file, argv);
		}
		break;
	default:
		if (sc__real.execvpe == NULL) {
			errno = ENOSYS;
			r = -1;
		} else {
			r = sc__real.execvpe(file, argv, envp);
		}
		break;
	}
	exec_failed();
	return r;
}

SC_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	return do_exec(EXEC_VE, path, argv, envp);
}

SC_EXPORT int execv(const char *path, char *const argv[])
{
	return do_exec(EXEC_V, path, argv, NULL);
}

SC_EXPORT int execvp(const char *file, char *const argv[])
{
	return do_exec(EXEC_VP, file, argv, NULL);
}

SC_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return do_exec(EXEC_VPE, file, argv, envp);
}

/* The variadic forms gather their arguments on the stack (an exec must not allocate). */
#define SC_EXEC_MAX_ARGS 4096

static int exec_list(int kind, const char *file, const char *arg0, va_list ap, int with_env)
{
	const char *argv[SC_EXEC_MAX_ARGS + 1];
	char *const *envp = environ;
	size_t n = 0;

	argv[n++] = arg0;
	while (argv[n - 1] != NULL) {
		if (n > SC_EXEC_MAX_ARGS) {
			errno = E2BIG;
			return -1;
		}
		argv[n++] = va_arg(ap, const char *);
	}
	if (with_env)
		envp = va_arg(ap, char *const *);
	return do_exec(kind, file, (char *const *)argv, envp);
}

SC_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	int r;

	va_start(ap, arg);
	r = exec_list(EXEC_VE, path, arg, ap, 0);
	va_end(ap);
	return r;
}

SC_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	int r;

	va_start(ap, arg);
	r = exec_list(EXEC_VE, path, arg, ap, 1);
	va_end(ap);
	return r;
}

SC_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	int r;

	va_start(ap, arg);
	r = exec_list(EXEC_VP, file, arg, ap, 0);
	va_end(ap);
	return r;
}

/* ---- fork ------------------------------------------------------------------------------------ */

/* The child must not inherit a held lock or a half-written table: take them all across fork. */
static void fork_prepare(void)
{
	struct sc__tls *t = &sc__tls;

	t->guard++;
	sc__flush_own(t);
	sc__spin_lock(&sc__reg_lock);
	sc__track_lock_all();
}

static void fork_parent(void)
{
	sc__track_unlock_all();
	sc__spin_unlock(&sc__reg_lock);
	sc__tls.guard--;
}

static void fork_child(void)
{
	struct sc__tls *t = &sc__tls;

	sc__track_unlock_all();
	sc__spin_unlock(&sc__reg_lock);
	if (sc__g.proc != NULL && sc__g.follow &&
	    __atomic_load_n(&sc__g.counting, __ATOMIC_RELAXED)) {
		uint32_t flags =
		    HEAP_PROCESS_FLAG_FORKED | (sc__g.sites_all ? HEAP_PROCESS_FLAG_SITES_ALL : 0u);

		/* A traced process of its own: new slots, new records; the parent's blocks are
		 * the parent's. */
		sc__stream_fork_child(t);
		sc__stream_barrier_setup();
		sc__track_reset();
		t->slot = NULL;
		t->overflow = 0;
		t->slot_index = 0;
		t->last_alloc = NULL;
		t->live = t->live_max = 0;
		t->events = 0;
		t->rng = 0;
		__atomic_store_n(&final_once, 0, __ATOMIC_RELAXED);
		if (claim_process(HEAP_PROCESS_RUNNING, HEAP_REASON_NONE, flags) == 0) {
			sc__emit_hello(t);
			sc__emit_modules(t);
			sc__flush_own(t);
			sc__cpu_fork_child(1);
			t->guard--;
			return;
		}
	}
	/* Untraced child: pass everything through and touch nothing shared, so that its frees of
	 * the parent's blocks leave the parent's figures alone. */
	__atomic_store_n(&sc__g.counting, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&sc__g.streaming, 0, __ATOMIC_RELAXED);
	sc__cpu_fork_child(0);
	sc__g.proc = NULL;
	sc__g.ctr = NULL;
	if (sc__g.fd >= 0)
		close(sc__g.fd);
	sc__g.fd = -1;
	t->guard--;
}

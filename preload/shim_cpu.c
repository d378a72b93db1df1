/* shim_cpu.c: the timer sampler: per-thread CPU-time timers raising SIGPROF, a frame-pointer walk
 * in the handler, one CPU record per sample; it stands down when the program uses SIGPROF. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cpu_weight.h"
#include "fp_walk.h"
#include "shim.h"

/*
 * With HEAP_ENV_CPU_RATE set, every thread the program starts through pthread_create (and the
 * thread that starts the shim) gets a POSIX timer on its own CPU-time clock, delivering SIGPROF to
 * that very thread (SIGEV_THREAD_ID) once per period of CPU time it uses. A thread that sleeps
 * uses none, so it is never interrupted. The handler walks the frame pointers of the interrupted
 * context, copies the registers and the top HEAP_CPU_STACK_BYTES of the stack (for the
 * collector's leaf fix-up: the caller of a function caught without a frame of its own) and sends
 * one CPU record.
 *
 * How a sample leaves the handler: as a batch of its own, built on the handler's stack and
 * written with one write(2) of at most 1216 bytes straight to the FIFO. A pipe write of at most
 * PIPE_BUF bytes is atomic, so it can neither split nor be split by the batch the interrupted
 * code may be writing, and the handler touches none of the state the thread's own batch lives in
 * (sc__emit is not reentrant). A per-thread ring flushed later would save the system call but
 * needs a reader that knows when the ring is safe to copy, and loses what a killed program had
 * not flushed; one write per sample costs about a microsecond per millisecond of CPU time.
 *
 * The program's own use of SIGPROF wins: if it had a handler (or ignored SIGPROF) when the shim
 * started, no timer is armed; if it sets SIGPROF's action later (sigaction, signal, sigset,
 * sysv_signal, bsd_signal and glibc's __sigaction and __sysv_signal), every timer is deleted and
 * its original action is put back before the program's call goes through. Either way a CPU_STATE
 * record tells the collector why. While ours is installed, the program asking for SIGPROF's action
 * is told the original one.
 */

/* Written to each timer's sigev_value: a SIGPROF that carries it is ours. */
#define CPU_TAG ((void *)&cpu_timers)

/* Rates accepted, samples per second of CPU time (HEAP_ENV_CPU_RATE). */
#define CPU_MIN_RATE 1.0
#define CPU_MAX_RATE 100000.0

/* Threads that can hold a timer at once; more are not sampled. */
#define CPU_MAX_TIMERS 4096

enum { CPU_OFF = 0, CPU_ON = 1, CPU_DOWN = 2 };

struct cpu_timer {
	int used;
	timer_t id;
};

static int cpu_mode;                /* atomic: CPU_OFF, CPU_ON (our handler installed), CPU_DOWN */
static uint64_t period_ns;          /* the timers' period */
static struct sigaction app_action; /* SIGPROF's action before ours: what the program sees */
static pthread_key_t cpu_key;       /* its destructor deletes a thread's timer */
static int cpu_key_ok;
static int cpu_lock; /* the table below, arming and standing down */
static struct cpu_timer cpu_timers[CPU_MAX_TIMERS];

/* Per thread: its timer (slot + 1, 0 = none), its stack and its id, set when armed. */
static __thread uint32_t my_slot;
static __thread uintptr_t my_stack_lo, my_stack_hi;
static __thread uint32_t my_tid;
/* This thread's CPU clock at its last sample (cpu_weight.h: each sample weighs the CPU time since
 * the one before, which the kernel's tick-bound timer signals alone do not tell). */
static __thread sc__cpu_weigher my_weigher;

/* ---- the functions we wrap ------------------------------------------------------------------- */

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
typedef sighandler_t (*signal_fn)(int, sighandler_t);
typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

static sigaction_fn real_sigaction;
static signal_fn real_signal, real_sigset, real_sysv_signal, real_bsd_signal, real_isoc_signal;
static pthread_create_fn real_pthread_create;

/* Found on first use: the program may set a signal or start a thread before our constructor.
 * dlsym may allocate; those allocations come from the shim's bootstrap buffer. */
static void resolve(void)
{
	struct sc__tls *t = &sc__tls;
	int was = t->in_resolve;

	if (__atomic_load_n(&real_pthread_create, __ATOMIC_ACQUIRE) != NULL)
		return;
	t->in_resolve = 1;
	__atomic_store_n((void **)&real_sigaction, dlsym(RTLD_NEXT, "sigaction"), __ATOMIC_RELAXED);
	__atomic_store_n((void **)&real_signal, dlsym(RTLD_NEXT, "signal"), __ATOMIC_RELAXED);
	__atomic_store_n((void **)&real_sigset, dlsym(RTLD_NEXT, "sigset"), __ATOMIC_RELAXED);
	__atomic_store_n((void **)&real_sysv_signal, dlsym(RTLD_NEXT, "sysv_signal"),
	                 __ATOMIC_RELAXED);
	__atomic_store_n((void **)&real_bsd_signal, dlsym(RTLD_NEXT, "bsd_signal"),
	                 __ATOMIC_RELAXED);
	__atomic_store_n((void **)&real_isoc_signal, dlsym(RTLD_NEXT, "__sysv_signal"),
	                 __ATOMIC_RELAXED);
	__atomic_store_n((void **)&real_pthread_create, dlsym(RTLD_NEXT, "pthread_create"),
	                 __ATOMIC_RELEASE);
	t->in_resolve = was;
}

/* ---- records -----------------------------------------------------------------------------------
 */

/* One record as a batch of its own, one write: safe inside the signal handler (see above). */
static void emit_direct(const void *rec, size_t size)
{
	struct {
		struct heap_batch b;
		unsigned char rec[sizeof(struct heap_rec_cpu_state)];
	} m;

	if (size > sizeof m.rec || __atomic_load_n(&sc__g.streaming, __ATOMIC_ACQUIRE) != 1)
		return;
	m.b.magic = HEAP_BATCH_MAGIC;
	m.b.pid = sc__g.pid;
	m.b.length = (uint32_t)size;
	m.b.seq = __atomic_fetch_add(&sc__g.seq, 1, __ATOMIC_RELAXED);
	memcpy(m.rec, rec, size);
	sc__stream_write(&m, sizeof m.b + size);
}

static void emit_state(uint32_t state, int error)
{
	struct timespec ts;
	struct heap_rec_cpu_state r;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	memset(&r, 0, sizeof r);
	r.h.type = HEAP_REC_CPU_STATE;
	r.h.size = sizeof r;
	r.h.aux = state;
	r.error = error;
	r.period_ns = period_ns;
	r.t_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	emit_direct(&r, sizeof r);
}

/* ---- the handler ----------------------------------------------------------------------------- */

/* How many bytes from sp up lie within the thread's known stack, at most HEAP_CPU_STACK_BYTES
 * and a multiple of 8 (the record stays aligned). */
static uint32_t stack_room(uintptr_t sp)
{
	uintptr_t room = my_stack_hi - sp;

	if (room > HEAP_CPU_STACK_BYTES)
		room = HEAP_CPU_STACK_BYTES;
	return (uint32_t)(room & ~(uintptr_t)7);
}

/* One sample as sent: its batch header, the record, then the frames (with room for the shim's
 * own, which are dropped), the registers and the stack copy, which follow the frames kept. */
struct cpu_msg {
	struct heap_batch b;
	struct heap_rec_cpu r;
	uint64_t words[HEAP_MAX_CPU_FRAMES + 8 +
	               (sizeof(struct heap_cpu_stack) + HEAP_CPU_STACK_BYTES) / 8];
};

/* This thread's last sample as sent, for the tail its exit claims (thread_done). */
static __thread struct cpu_msg my_last;
static __thread size_t my_last_len;

static void take_sample(const ucontext_t *uc, int overrun)
{
	struct cpu_msg m;
	const greg_t *gr = uc->uc_mcontext.gregs;
	uintptr_t sp = (uintptr_t)gr[REG_RSP];
	uintptr_t span = sc__g.self_hi - sc__g.self_lo;
	int on_stack = my_stack_hi != 0 && sp >= my_stack_lo && sp < my_stack_hi;
	struct heap_cpu_stack st;
	struct timespec ts;
	size_t n, k = 1, size;

	/* Only a thread on its own stack is walked: on a signal stack or a coroutine's, the
	 * frame pointers lead where nothing says the memory is mapped. The IP is exact anyway. */
	if (on_stack)
		n = sc__fp_walk(uc, my_stack_lo, my_stack_hi, m.words, HEAP_MAX_CPU_FRAMES + 8);
	else
		n = sc__fp_walk(uc, 0, 0, m.words, 1);
	/* The shim's return addresses (a thread's start trampoline, an allocation wrapper) are
	 * not the program's; an IP inside the shim is kept, being where the time went. */
	for (size_t i = 1; i < n && k < HEAP_MAX_CPU_FRAMES; i++)
		if (m.words[i] - sc__g.self_lo >= span)
			m.words[k++] = m.words[i];
	if (n == 0)
		return;
	/* The registers and the top of the stack, after the frames kept: a frameless leaf's
	 * return address is there, and the collector reads the CFI to find it. The bytes lie
	 * between sp and the top of this thread's own stack, so they are mapped; on another
	 * stack nothing is copied. */
	memset(&st, 0, sizeof st);
	st.rsp = (uint64_t)sp;
	st.rbp = (uint64_t)gr[REG_RBP];
	st.rip = (uint64_t)gr[REG_RIP];
	st.stack_len = on_stack ? stack_room(sp) : 0;
	memcpy(&m.words[k], &st, sizeof st);
	if (st.stack_len != 0)
		memcpy(&m.words[k + sizeof st / 8], (const void *)sp, st.stack_len);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	size = sizeof m.r + 8 * k + sizeof st + st.stack_len;
	m.r.h.type = HEAP_REC_CPU;
	m.r.h.size = (uint16_t)size;
	m.r.h.aux = (uint32_t)k;
	m.r.tid = my_tid;
	m.r.periods = sc__cpu_weigher_sample(&my_weigher, overrun);
	m.r.t_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	m.b.magic = HEAP_BATCH_MAGIC;
	m.b.pid = sc__g.pid;
	m.b.length = (uint32_t)size;
	m.b.seq = __atomic_fetch_add(&sc__g.seq, 1, __ATOMIC_RELAXED);
	sc__stream_write(&m, sizeof m.b + size);
	memcpy(&my_last, &m, sizeof m.b + size);
	my_last_len = sizeof m.b + size;
}

/*
 * At a thread's end, the CPU time since its last sample has no signal to claim it: on a busy
 * machine, where signals come rarely (periods_since), that tail can be most of a short thread's
 * time. It goes to the last stack seen, sent again with the tail's periods: the thread was last
 * seen there, which is the sampler's best knowledge of where the rest went. The timer is gone and
 * my_slot is 0, so no signal handler of ours touches my_last meanwhile.
 */
static void claim_tail(void)
{
	if (my_last_len == 0 || __atomic_load_n(&sc__g.streaming, __ATOMIC_RELAXED) != 1 ||
	    sc__g.pipe_broken)
		return;
	uint32_t periods = sc__cpu_weigher_tail(&my_weigher);
	if (periods == 0)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	my_last.r.periods = periods;
	my_last.r.t_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	my_last.b.seq = __atomic_fetch_add(&sc__g.seq, 1, __ATOMIC_RELAXED);
	sc__stream_write(&my_last, my_last_len);
	my_last_len = 0;
}

static void on_sigprof(int sig, siginfo_t *si, void *ctx)
{
	int saved = errno;

	if (si->si_code == SI_TIMER && si->si_value.sival_ptr == CPU_TAG) {
		if (__atomic_load_n(&cpu_mode, __ATOMIC_RELAXED) == CPU_ON && my_slot != 0 &&
		    __atomic_load_n(&sc__g.streaming, __ATOMIC_RELAXED) == 1 && !sc__g.pipe_broken)
			take_sample(ctx, si->si_overrun);
	} else if (real_sigaction != NULL) {
		/* Someone else's SIGPROF (kill, raise): the program's action, which is the
		 * default (we stand down when it has another), terminates. SIGPROF is blocked
		 * while we run, so the signal raised again waits until we return. */
		struct sigaction dfl;

		memset(&dfl, 0, sizeof dfl);
		dfl.sa_handler = SIG_DFL;
		real_sigaction(sig, &dfl, NULL);
		__atomic_store_n(&cpu_mode, CPU_DOWN, __ATOMIC_RELEASE);
		raise(sig);
	}
	errno = saved;
}

/* ---- timers ---------------------------------------------------------------------------------- */

/* The calling thread's stack. For the process's first thread glibc would read /proc/self/maps
 * through stdio: its top is where the kernel put the arguments (__libc_stack_end, just below),
 * and how far down it may grow is the stack limit. The walk reads only between the interrupted
 * stack pointer and the top, which is mapped whatever the bottom says. Any other thread (also
 * one that forked, and is now its child's only thread) runs on a stack glibc knows. */
extern void *__libc_stack_end;

static void thread_stack(uintptr_t *lo, uintptr_t *hi)
{
	struct sc__tls *t = &sc__tls;
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	uintptr_t top = (uintptr_t)__libc_stack_end, room = (uintptr_t)1 << 32;
	struct rlimit rl;
	pthread_attr_t attr;
	void *addr;
	size_t size;

	if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < room)
		room = (uintptr_t)rl.rlim_cur;
	*hi = top;
	*lo = top > room ? top - room : 0;
	if (here >= *lo && here < *hi)
		return;
	*lo = *hi = 0;
	/* pthread_getattr_np allocates (its CPU set): uncounted, as the shim's own. */
	t->guard++;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
			*lo = (uintptr_t)addr;
			*hi = (uintptr_t)addr + size;
		}
		pthread_attr_destroy(&attr);
	}
	t->guard--;
}

/* Arms a timer for the calling thread; 0 or an errno value. No timer (and 0) once the sampler
 * stood down, or when every slot is taken. */
static int arm_thread(void)
{
	struct sigevent ev;
	struct itimerspec its;
	timer_t id;
	int err = 0;
	uint32_t slot;

	thread_stack(&my_stack_lo, &my_stack_hi);
	my_tid = (uint32_t)gettid();
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = SIGPROF;
	ev.sigev_value.sival_ptr = CPU_TAG;
	ev._sigev_un._tid = (pid_t)my_tid;
	its.it_interval.tv_sec = (time_t)(period_ns / 1000000000u);
	its.it_interval.tv_nsec = (long)(period_ns % 1000000000u);
	its.it_value = its.it_interval;
	sc__spin_lock(&cpu_lock);
	if (__atomic_load_n(&cpu_mode, __ATOMIC_RELAXED) != CPU_ON || my_slot != 0)
		goto out;
	for (slot = 0; slot < CPU_MAX_TIMERS && cpu_timers[slot].used; slot++)
		;
	if (slot == CPU_MAX_TIMERS)
		goto out;
	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &id) != 0) {
		err = errno;
		goto out;
	}
	sc__cpu_weigher_start(&my_weigher, (int64_t)period_ns);
	if (timer_settime(id, 0, &its, NULL) != 0) {
		err = errno;
		timer_delete(id);
		goto out;
	}
	cpu_timers[slot].id = id;
	cpu_timers[slot].used = 1;
	my_slot = slot + 1;
out:
	sc__spin_unlock(&cpu_lock);
	return err;
}

/* A thread's key destructor: its timer goes with it. */
static void thread_done(void *unused)
{
	(void)unused;
	sc__spin_lock(&cpu_lock);
	/* After a stand-down the slot was emptied (and may be empty for good). */
	if (my_slot != 0 && cpu_timers[my_slot - 1].used) {
		timer_delete(cpu_timers[my_slot - 1].id);
		cpu_timers[my_slot - 1].used = 0;
	}
	my_slot = 0;
	sc__spin_unlock(&cpu_lock);
	claim_tail();
}

/* The program sets SIGPROF's action: delete every timer, put its original action back. A
 * signal one of our timers had already queued for another thread may still reach the
 * program's new handler once: the kernel keeps a deleted timer's pending signal. */
static void stand_down(void)
{
	int saved = errno;

	sc__spin_lock(&cpu_lock);
	if (__atomic_load_n(&cpu_mode, __ATOMIC_ACQUIRE) == CPU_ON) {
		__atomic_store_n(&cpu_mode, CPU_DOWN, __ATOMIC_RELEASE);
		for (uint32_t i = 0; i < CPU_MAX_TIMERS; i++) {
			if (cpu_timers[i].used) {
				timer_delete(cpu_timers[i].id);
				cpu_timers[i].used = 0;
			}
		}
		real_sigaction(SIGPROF, &app_action, NULL);
		emit_state(HEAP_CPU_OFF_INSTALL, 0);
	}
	sc__spin_unlock(&cpu_lock);
	errno = saved;
}

static void thread_begin(void)
{
	int saved = errno;

	if (__atomic_load_n(&cpu_mode, __ATOMIC_ACQUIRE) != CPU_ON)
		return;
	if (cpu_key_ok) {
		/* pthread_setspecific may allocate its second-level table. */
		sc__tls.guard++;
		pthread_setspecific(cpu_key, (void *)1);
		sc__tls.guard--;
	}
	arm_thread();
	errno = saved;
}

/* ---- start and fork -------------------------------------------------------------------------- */

void sc__cpu_start(void)
{
	const char *v = getenv(HEAP_ENV_CPU_RATE);
	struct sigaction ours;
	char *end;
	double rate;
	int err;

	if (v == NULL || *v == '\0')
		return;
	rate = strtod(v, &end);
	if (*end != '\0' || !(rate >= CPU_MIN_RATE) || rate > CPU_MAX_RATE)
		return;
	period_ns = (uint64_t)(1e9 / rate + 0.5);
	resolve();
	if (real_sigaction == NULL || real_sigaction(SIGPROF, NULL, &app_action) != 0)
		return;
	if ((app_action.sa_flags & SA_SIGINFO) || app_action.sa_handler != SIG_DFL) {
		/* A handler of the program's, or SIGPROF ignored (which its children would
		 * inherit through exec, and our handler would not pass on). */
		__atomic_store_n(&cpu_mode, CPU_DOWN, __ATOMIC_RELEASE);
		emit_state(HEAP_CPU_OFF_HANDLER, 0);
		return;
	}
	cpu_key_ok = pthread_key_create(&cpu_key, thread_done) == 0;
	memset(&ours, 0, sizeof ours);
	ours.sa_sigaction = on_sigprof;
	ours.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&ours.sa_mask);
	if (real_sigaction(SIGPROF, &ours, NULL) != 0)
		return;
	__atomic_store_n(&cpu_mode, CPU_ON, __ATOMIC_RELEASE);
	err = arm_thread();
	if (err != 0 || my_slot == 0) {
		__atomic_store_n(&cpu_mode, CPU_DOWN, __ATOMIC_RELEASE);
		real_sigaction(SIGPROF, &app_action, NULL);
		emit_state(HEAP_CPU_OFF_TIMER, err != 0 ? err : EAGAIN);
		return;
	}
	emit_state(HEAP_CPU_ON, 0);
}

void sc__cpu_fork_child(int traced)
{
	/* The parent's timers are not the child's (fork does not copy them), and neither is
	 * the lock's holder. */
	cpu_lock = 0;
	memset(cpu_timers, 0, sizeof cpu_timers);
	my_slot = 0;
	if (__atomic_load_n(&cpu_mode, __ATOMIC_ACQUIRE) != CPU_ON)
		return;
	if (!traced) {
		__atomic_store_n(&cpu_mode, CPU_DOWN, __ATOMIC_RELEASE);
		real_sigaction(SIGPROF, &app_action, NULL);
		return;
	}
	if (arm_thread() == 0 && my_slot != 0) {
		emit_state(HEAP_CPU_ON, 0);
	} else {
		__atomic_store_n(&cpu_mode, CPU_DOWN, __ATOMIC_RELEASE);
		real_sigaction(SIGPROF, &app_action, NULL);
		emit_state(HEAP_CPU_OFF_TIMER, EAGAIN);
	}
}

/* ---- the program's threads ------------------------------------------------------------------- */

struct start {
	void *(*fn)(void *);
	void *arg;
};

static void *thread_trampoline(void *p)
{
	struct start s = *(struct start *)p;

	sc__real.free(p);
	thread_begin();
	return s.fn(s.arg);
}

/* The thread is created with the program's attributes; only its start routine is ours, which
 * arms the thread's timer and calls the program's. */
SC_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                             void *(*start_routine)(void *), void *arg)
{
	struct start *s = NULL;
	int rc;

	resolve();
	if (real_pthread_create == NULL)
		return EAGAIN;
	if (__atomic_load_n(&cpu_mode, __ATOMIC_ACQUIRE) != CPU_ON || sc__real.malloc == NULL)
		return real_pthread_create(thread, attr, start_routine, arg);
	s = sc__real.malloc(sizeof *s);
	if (s == NULL)
		return real_pthread_create(thread, attr, start_routine, arg);
	s->fn = start_routine;
	s->arg = arg;
	rc = real_pthread_create(thread, attr, thread_trampoline, s);
	if (rc != 0)
		sc__real.free(s);
	return rc;
}

/* ---- the program's own SIGPROF --------------------------------------------------------------- */

static int do_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	resolve();
	if (real_sigaction == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (sig == SIGPROF && __atomic_load_n(&cpu_mode, __ATOMIC_ACQUIRE) == CPU_ON) {
		if (act == NULL) {
			if (old != NULL)
				*old = app_action;
			return 0;
		}
		stand_down();
	}
	return real_sigaction(sig, act, old);
}

SC_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return do_sigaction(sig, act, old);
}

SC_EXPORT int __sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return do_sigaction(sig, act, old);
}

static sighandler_t set_handler(signal_fn fn, int sig, sighandler_t h)
{
	if (fn == NULL) {
		errno = ENOSYS;
		return SIG_ERR;
	}
	if (sig == SIGPROF && __atomic_load_n(&cpu_mode, __ATOMIC_ACQUIRE) == CPU_ON)
		stand_down();
	return fn(sig, h);
}

SC_EXPORT sighandler_t signal(int sig, sighandler_t h)
{
	resolve();
	return set_handler(real_signal, sig, h);
}

SC_EXPORT sighandler_t sysv_signal(int sig, sighandler_t h)
{
	resolve();
	return set_handler(real_sysv_signal, sig, h);
}

SC_EXPORT sighandler_t bsd_signal(int sig, sighandler_t h)
{
	resolve();
	return set_handler(real_bsd_signal, sig, h);
}

SC_EXPORT sighandler_t __sysv_signal(int sig, sighandler_t h)
{
	resolve();
	return set_handler(real_isoc_signal, sig, h);
}

/* sigset(sig, SIG_HOLD) only blocks the signal; anything else sets its action. */
SC_EXPORT sighandler_t sigset(int sig, sighandler_t h)
{
	resolve();
	if (h == SIG_HOLD) {
		if (real_sigset == NULL) {
			errno = ENOSYS;
			return SIG_ERR;
		}
		return real_sigset(sig, h);
	}
	return set_handler(real_sigset, sig, h);
}

/* self_sampler.c: the C API's in-process CPU sampler (SIGPROF on the thread's CPU time). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cpu_samples.h"
#include "cpu_weight.h"
#include "fp_walk.h"
#include "internal.h"

/*
 * How it works. A CLOCK_THREAD_CPUTIME_ID timer sends SIGPROF to the calling thread (and to no
 * other: SIGEV_THREAD_ID) each time that thread has used 1/rate seconds of CPU, so the samples
 * stand for CPU time, never for time spent blocked. The handler walks the interrupted stack by
 * frame pointers and appends the addresses to a buffer allocated at start: it may not allocate,
 * lock or call anything that is not async-signal-safe, so a sample that does not fit is counted
 * as lost instead. The buffer is reserved with mmap and its pages are only touched as samples
 * arrive, except the first ones, touched at start so that a short workload's memory figures do
 * not hold the sampler's own pages.
 *
 * The kernel checks CPU-time timers at its scheduler tick (CONFIG_HZ, often 250 Hz), not at the
 * exact expiry, and only for the thread on the CPU then: each sample therefore weighs the CPU time
 * since the previous one (cpu_weight.h), so that the summed weight / rate stays the thread's CPU
 * time and the shares stay right; what a rate above HZ does not give is a finer resolution than
 * the tick.
 *
 * One sampler runs at a time in a process, since the SIGPROF disposition is the process's: a
 * second start, or a program that has a SIGPROF handler of its own (a profiler such as gperftools,
 * or the program's own use of setitimer), makes start fail with SC_EUNAVAILABLE rather than take
 * the signal away from it. start and stop must be called on the same thread: the timer, the
 * signal mask and the pending signal that stop clears are that thread's.
 */

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid /* glibc before 2.35 does not name it */
#endif

#define SELF_MAX_FRAMES  128  /* frames kept per sample: deeper stacks keep their innermost */
#define SELF_AVG_FRAMES  32   /* the frame pool holds this many per sample slot on average */
#define SELF_SECONDS     120  /* CPU seconds of samples the buffer holds (at most 1000 a second) */
#define SELF_MIN_SAMPLES 4096 /* slots at least, whatever the rate */
#define SELF_PREFAULT_S  2    /* CPU seconds of samples whose pages are touched at start */
/* Stack bytes copied per sample from the interrupted rsp up, for the builder's leaf fix-up (the
 * caller of a function caught before it made rbp its frame pointer): as the perf_event sampler's
 * fp mode copies (cpu_perf.c says why 128). */
#define SELF_STACK_BYTES 128

/* One sample in the buffer; its frames follow in the pool. */
typedef struct slot {
	uint64_t time_ns;
	size_t first; /* index into frames */
	uint32_t n;
	int32_t region;
	uint32_t weight; /* 1 + the timer's overruns: the periods this one sample stands for */
	/* The slot's stack copy (stacks[its index]): its bytes, 0..SELF_STACK_BYTES, and the
	 * interrupted registers it goes with (rip is frames[first]). */
	uint32_t stack_len;
	uint64_t rsp, rbp;
} slot;

struct sc__self_sampler {
	double rate_hz;
	/* The sample weights (cpu_weight.h); written by the handler and by start/stop, never at
	 * the same time. */
	sc__cpu_weigher weigher;
	pid_t tid;
	uintptr_t stack_lo, stack_hi;
	const volatile int32_t *region_slot;
	timer_t timer;
	bool timer_made;
	bool handler_set;
	struct sigaction old_action;
	/* The buffer: one mapping, slots first, then the frame pool, then one stack copy per
	 * slot. */
	void *map;
	size_t map_bytes;
	slot *slots;
	size_t cap_slots;
	uint64_t *frames;
	size_t cap_frames;
	unsigned char (*stacks)[SELF_STACK_BYTES];
	/* Written by the handler only (which never interrupts itself: SIGPROF is blocked while it
	 * runs); read by stop after the timer is gone. Lock-free atomics are async-signal-safe. */
	atomic_size_t n_slots;
	atomic_size_t n_frames;
	atomic_uint_fast64_t lost;
};

/* The sampler the handler writes to; NULL when none runs. */
static _Atomic(sc__self_sampler *) active;

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* async-signal-safe (POSIX) */
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Copies the len bytes at sp, a multiple of 8, word by word: they belong to the interrupted
 * frames, which a sanitized build poisons in part (its stack redzones), and reading them is
 * nevertheless safe (the thread's own stack, mapped). Neither the sanitizer's checks nor its
 * memcpy, which the compiler might call for a loop over plain pointers, may see it. */
__attribute__((no_sanitize_address)) static void copy_stack(unsigned char *to, uintptr_t sp,
                                                            size_t len)
{
	const volatile uint64_t *from = (const volatile uint64_t *)sp;
	volatile uint64_t *out = (volatile uint64_t *)(void *)to;
	for (size_t i = 0; i < len / 8; i++)
		out[i] = from[i];
}

/* How many bytes from sp up lie in the thread's stack, at most SELF_STACK_BYTES and a multiple of
 * 8; 0 when sp is elsewhere (a signal stack, a coroutine's) or misaligned (which compiled code does
 * not leave, and copy_stack reads whole words). */
static uint32_t stack_room(const sc__self_sampler *s, uintptr_t sp)
{
	if (sp < s->stack_lo || sp >= s->stack_hi || (sp & 7) != 0)
		return 0;
	uintptr_t room = s->stack_hi - sp;
	if (room > SELF_STACK_BYTES)
		room = SELF_STACK_BYTES;
	return (uint32_t)(room & ~(uintptr_t)7);
}

/* Async-signal-safe: atomics, the frame walk, the stack copy and clock_gettime only. */
static void record(sc__self_sampler *s, const ucontext_t *uc, int overrun)
{
	size_t i = atomic_load_explicit(&s->n_slots, memory_order_relaxed);
	size_t used = atomic_load_explicit(&s->n_frames, memory_order_relaxed);
	if (i == s->cap_slots || s->cap_frames - used < SELF_MAX_FRAMES) {
		atomic_fetch_add_explicit(&s->lost, 1, memory_order_relaxed);
		return;
	}
	size_t n = sc__fp_walk(uc, s->stack_lo, s->stack_hi, s->frames + used, SELF_MAX_FRAMES);
	uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
	uint32_t copy = stack_room(s, sp);
	copy_stack(s->stacks[i], sp, copy);
	s->slots[i] = (slot){
	    .time_ns = mono_ns(),
	    .first = used,
	    .n = (uint32_t)n,
	    .region = s->region_slot ? *s->region_slot : -1,
	    .weight = sc__cpu_weigher_sample(&s->weigher, overrun),
	    .stack_len = copy,
	    .rsp = sp,
	    .rbp = (uint64_t)uc->uc_mcontext.gregs[REG_RBP],
	};
	atomic_store_explicit(&s->n_frames, used + n, memory_order_relaxed);
	atomic_store_explicit(&s->n_slots, i + 1, memory_order_release);
}

static void on_sigprof(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	int saved_errno = errno; /* the interrupted code may be about to read it */
	sc__self_sampler *s = atomic_load_explicit(&active, memory_order_acquire);
	/* Only our timer's signals: a SIGPROF sent with kill(2) is ignored rather than recorded. */
	if (s && si && si->si_code == SI_TIMER && si->si_value.sival_ptr == s)
		record(s, ucv, si->si_overrun);
	errno = saved_errno;
}

/* Fills why with what failed and the detail (may be ""); returns SC_EUNAVAILABLE. */
static int unavailable(char *why, size_t why_cap, const char *what, const char *detail)
{
	if (why && why_cap)
		snprintf(why, why_cap, "%s%s", what, detail);
	return SC_EUNAVAILABLE;
}

/* The calling thread's stack, as the frame walk's bounds. */
static int stack_bounds(uintptr_t *lo, uintptr_t *hi)
{
	pthread_attr_t attr;
	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return -1;
	void *addr;
	size_t size;
	int err = pthread_attr_getstack(&attr, &addr, &size);
	pthread_attr_destroy(&attr);
	if (err)
		return -1;
	*lo = (uintptr_t)addr;
	*hi = (uintptr_t)addr + size;
	return 0;
}

/* Reserves the buffer: slots for SELF_SECONDS of CPU time, SELF_AVG_FRAMES frames per slot on
 * average and a stack copy per slot (about 50 MiB of address space at 997 Hz, 432 bytes a slot,
 * only touched as samples arrive); touches the first SELF_PREFAULT_S seconds' worth. */
static int buffer_new(sc__self_sampler *s)
{
	/* The kernel sends at most one signal per tick (HZ <= 1000), counting the periods beyond
	 * it as overruns, so a higher rate needs no more slots. */
	double signals_hz = s->rate_hz < 1000 ? s->rate_hz : 1000;
	double want = ceil(signals_hz * SELF_SECONDS);
	size_t cap = want < SELF_MIN_SAMPLES ? SELF_MIN_SAMPLES : (size_t)want;
	size_t slot_bytes = cap * sizeof(slot);
	slot_bytes = (slot_bytes + 63) & ~(size_t)63;
	size_t frame_cap = cap * SELF_AVG_FRAMES;
	size_t frame_bytes = frame_cap * sizeof(uint64_t);
	s->map_bytes = slot_bytes + frame_bytes + cap * (size_t)SELF_STACK_BYTES;
	void *map = mmap(NULL, s->map_bytes, PROT_READ | PROT_WRITE,
	                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED)
		return SC_ENOMEM;
	s->map = map;
	s->slots = map;
	s->cap_slots = cap;
	s->frames = (uint64_t *)((char *)map + slot_bytes);
	s->cap_frames = frame_cap;
	s->stacks = (unsigned char(*)[SELF_STACK_BYTES])((char *)map + slot_bytes + frame_bytes);
	double pre = ceil(signals_hz * SELF_PREFAULT_S);
	size_t pre_slots = pre < (double)cap ? (size_t)pre : cap;
	long page = sysconf(_SC_PAGESIZE);
	size_t step = page > 0 ? (size_t)page : 4096;
	volatile char *c = (volatile char *)s->slots;
	for (size_t off = 0; off < pre_slots * sizeof(slot); off += step)
		c[off] = 0;
	c = (volatile char *)s->frames;
	for (size_t off = 0; off < pre_slots * SELF_AVG_FRAMES * sizeof(uint64_t); off += step)
		c[off] = 0;
	c = (volatile char *)s->stacks;
	for (size_t off = 0; off < pre_slots * (size_t)SELF_STACK_BYTES; off += step)
		c[off] = 0;
	return 0;
}

/* Stops the timer and puts the program's SIGPROF disposition back, without letting a signal the
 * timer queued before it was deleted reach the old disposition (SIG_DFL would end the process). */
static void disarm(sc__self_sampler *s)
{
	if (!s->timer_made && !s->handler_set)
		return;
	sigset_t prof, old_mask;
	sigemptyset(&prof);
	sigaddset(&prof, SIGPROF);
	pthread_sigmask(SIG_BLOCK, &prof, &old_mask);
	if (s->timer_made) {
		timer_delete(s->timer);
		s->timer_made = false;
	}
	if (s->handler_set) {
		const struct timespec zero = {0, 0};
		while (sigtimedwait(&prof, NULL, &zero) == SIGPROF)
			; /* dropped: it was ours */
		sigaction(SIGPROF, &s->old_action, NULL);
		s->handler_set = false;
	}
	sc__self_sampler *self = s;
	atomic_compare_exchange_strong(&active, &self, NULL);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
}

int sc__self_sampler_start(double rate_hz, const volatile int32_t *region_slot,
                           sc__self_sampler **out, char *why, size_t why_cap)
{
	if (why && why_cap)
		why[0] = '\0';
	*out = NULL;
	if (!(rate_hz > 0) || rate_hz > 1e6)
		return SC_EINVAL;
	struct sigaction current;
	if (sigaction(SIGPROF, NULL, &current) != 0)
		return unavailable(why, why_cap, "sigaction(SIGPROF): ", strerror(errno));
	/* sa_handler and sa_sigaction share storage: one comparison covers both kinds. */
	if (current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN) {
		if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_sigprof)
			return unavailable(
			    why, why_cap,
			    "another in-process CPU sampler is running in this process "
			    "(one at a time: SIGPROF is the process's)",
			    "");
		return unavailable(why, why_cap,
		                   "the program has its own SIGPROF handler (another profiler, or "
		                   "setitimer(ITIMER_PROF)); it was left in place",
		                   "");
	}
	sc__self_sampler *s = calloc(1, sizeof *s);
	if (!s)
		return SC_ENOMEM;
	s->rate_hz = rate_hz;
	s->tid = gettid();
	s->region_slot = region_slot;
	if (stack_bounds(&s->stack_lo, &s->stack_hi) != 0) {
		free(s);
		return unavailable(why, why_cap,
		                   "pthread_getattr_np could not tell the calling thread's stack",
		                   "");
	}
	int err = buffer_new(s);
	if (err) {
		free(s);
		return err;
	}
	sc__self_sampler *none = NULL;
	if (!atomic_compare_exchange_strong(&active, &none, s)) {
		sc__self_sampler_free(s);
		return unavailable(why, why_cap,
		                   "another in-process CPU sampler is running in this process "
		                   "(one at a time: SIGPROF is the process's)",
		                   "");
	}
	struct sigaction sa = {0};
	sa.sa_sigaction = on_sigprof;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPROF, &sa, &s->old_action) != 0) {
		int e = errno;
		sc__self_sampler_free(s);
		return unavailable(why, why_cap, "sigaction(SIGPROF): ", strerror(e));
	}
	s->handler_set = true;
	struct sigevent sev = {0};
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGPROF;
	sev.sigev_value.sival_ptr = s;
	sev.sigev_notify_thread_id = s->tid;
	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &s->timer) != 0) {
		int e = errno;
		sc__self_sampler_free(s);
		return unavailable(why, why_cap,
		                   "timer_create(CLOCK_THREAD_CPUTIME_ID): ", strerror(e));
	}
	s->timer_made = true;
	double period_ns = 1e9 / rate_hz;
	if (period_ns < 1)
		period_ns = 1;
	struct itimerspec its = {0};
	its.it_interval.tv_sec = (time_t)(period_ns / 1e9);
	its.it_interval.tv_nsec = (long)fmod(period_ns, 1e9);
	its.it_value = its.it_interval;
	sc__cpu_weigher_start(&s->weigher, (int64_t)period_ns);
	if (timer_settime(s->timer, 0, &its, NULL) != 0) {
		int e = errno;
		sc__self_sampler_free(s);
		return unavailable(why, why_cap, "timer_settime: ", strerror(e));
	}
	*out = s;
	return 0;
}

/* ---- this process's mappings, for symbolizing after the run --------------------------------- */

typedef struct maps_ctx {
	sc__cpu_raw *raw;
	uint32_t pid;
	int err;
	const char *exe;
} maps_ctx;

static int add_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	maps_ctx *m = arg;
	uint64_t lo = UINT64_MAX, hi = 0, pgoff = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uint64_t align = ph->p_align > 1 ? ph->p_align : 1;
		uint64_t start = ph->p_vaddr & ~(align - 1);
		if (start < lo) {
			lo = start;
			pgoff = ph->p_offset & ~(align - 1);
		}
		if (ph->p_vaddr + ph->p_memsz > hi)
			hi = ph->p_vaddr + ph->p_memsz;
	}
	if (lo >= hi)
		return 0;
	const char *name = info->dlpi_name;
	const char *path;
	if (name && strstr(name, "linux-vdso") == name)
		path = "[vdso]";
	else if (name && *name)
		path = name;
	else
		path = m->exe; /* the main program has no name here */
	m->err = sc__cpu_raw_add_mapping(m->raw, m->pid, 0, info->dlpi_addr + lo,
	                                 info->dlpi_addr + hi, pgoff, true, info->dlpi_addr, path);
	return m->err ? 1 : 0;
}

int sc__self_sampler_stop(sc__self_sampler *s, sc__cpu_raw *raw)
{
	disarm(s);
	size_t n = atomic_load_explicit(&s->n_slots, memory_order_acquire);
	/* The CPU time since the last sample goes to it: no signal will claim it now (the thread
	 * was last seen there). Only the sampled thread can read its own CPU clock. */
	if (n > 0 && (pid_t)gettid() == s->tid) {
		uint32_t tail = sc__cpu_weigher_tail(&s->weigher);
		if (tail < UINT32_MAX / 2 - s->slots[n - 1].weight)
			s->slots[n - 1].weight += tail;
	}
	uint32_t pid = (uint32_t)getpid();
	for (size_t i = 0; i < n; i++) {
		const slot *sl = &s->slots[i];
		int err =
		    sc__cpu_raw_add_sample(raw, pid, (uint32_t)s->tid, sl->time_ns,
		                           s->frames + sl->first, sl->n, sl->region, sl->weight);
		/* With its stack copy (when the store kept the sample): DWARF numbering, rbp 6,
		 * rsp 7, rip 16. */
		if (!err && sl->stack_len && sl->n) {
			uint64_t regs[SC__CPU_NREGS] = {0};
			regs[6] = sl->rbp;
			regs[7] = sl->rsp;
			regs[16] = s->frames[sl->first];
			err = sc__cpu_raw_add_user_stack(raw, regs, s->stacks[i], sl->stack_len);
		}
		if (err)
			return err;
	}
	raw->lost += atomic_load_explicit(&s->lost, memory_order_relaxed);
	/* Emptied, so that a second stop adds nothing twice. */
	atomic_store(&s->n_slots, 0);
	atomic_store(&s->n_frames, 0);
	atomic_store(&s->lost, 0);
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (len < 0)
		len = 0;
	exe[len] = '\0';
	maps_ctx m = {.raw = raw, .pid = pid, .exe = exe};
	dl_iterate_phdr(add_object, &m);
	return m.err;
}

void sc__self_sampler_free(sc__self_sampler *s)
{
	if (!s)
		return;
	disarm(s);
	if (s->map)
		munmap(s->map, s->map_bytes);
	free(s);
}

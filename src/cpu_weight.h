/* cpu_weight.h: a timer sample's weight from the thread's CPU clock, safe in a signal handler. */
#ifndef SC_CPU_WEIGHT_H
#define SC_CPU_WEIGHT_H

/*
 * Shared by the heap shim's timer sampler (preload/shim_cpu.c) and the in-process sampler
 * (src/self_sampler.c). The kernel checks CPU-time timers only at its tick (CONFIG_HZ, 250 Hz on
 * many kernels), and only for the thread on the CPU at that tick: above the tick's rate one signal
 * comes for several periods, and on a busy machine a thread preempted between ticks gets few
 * signals, which the timer's overrun count does not make up for (measured beside two busy
 * processes: 103 to 147 periods for 300 of CPU time, against 287-289 for perf_event). So each
 * sample weighs the whole periods of CPU time the thread used since its previous sample, read
 * from its CPU clock (clock_gettime is async-signal-safe), the remainder carried to the next; a
 * sample weighs at least one period (borrowed from the next), and what no signal claimed by the
 * thread's end is its tail. The weights then add up to the CPU time whatever the tick and the load.
 */

#include <stdint.h>
#include <time.h>

typedef struct sc__cpu_weigher {
	int64_t period_ns;
	int64_t last_ns; /* the thread's CPU clock at its last sample; < 0 unknown */
	int64_t carry_ns;
} sc__cpu_weigher;

/* The calling thread's CPU time in ns, or -1. */
static inline int64_t sc__thread_cpu_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* On the sampled thread, when its timer is armed. */
static inline void sc__cpu_weigher_start(sc__cpu_weigher *w, int64_t period_ns)
{
	w->period_ns = period_ns > 0 ? period_ns : 1;
	w->last_ns = sc__thread_cpu_ns();
	w->carry_ns = 0;
}

/* On the sampled thread, in the handler: the periods this sample stands for (>= 1). Without a
 * clock, 1 + the timer's overrun. */
static inline uint32_t sc__cpu_weigher_sample(sc__cpu_weigher *w, int overrun)
{
	int64_t now = sc__thread_cpu_ns();
	if (now < 0 || w->last_ns < 0 || w->period_ns <= 0)
		return overrun > 0 && overrun < 1000 ? (uint32_t)overrun + 1 : 1;
	int64_t avail = now - w->last_ns + w->carry_ns;
	int64_t periods = avail / w->period_ns;
	if (periods < 1)
		periods = 1;
	if (periods > UINT32_MAX / 2)
		periods = UINT32_MAX / 2;
	w->carry_ns = avail - periods * w->period_ns;
	w->last_ns = now;
	return (uint32_t)periods;
}

/* On the sampled thread, at its end (its timer gone): the whole periods no sample claimed, for the
 * last sample to carry; 0 when none. */
static inline uint32_t sc__cpu_weigher_tail(sc__cpu_weigher *w)
{
	int64_t now = sc__thread_cpu_ns();
	if (now < 0 || w->last_ns < 0 || w->period_ns <= 0)
		return 0;
	int64_t periods = (now - w->last_ns + w->carry_ns) / w->period_ns;
	w->last_ns = now;
	w->carry_ns = 0;
	return periods < 1 ? 0 : periods > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)periods;
}

#endif

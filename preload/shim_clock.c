/* shim_clock.c: time stamps: CLOCK_MONOTONIC, and the same clock read through the TSC for the
 * records that come by the million (ALLOC). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

uint64_t sc__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * With sites=all every allocation is stamped, and clock_gettime costs 20 to 30 ns even through
 * the vDSO (its rdtsc is fenced, which waits for every load in flight): more than the allocation
 * itself. Where the kernel keeps time with the TSC (so the TSC is invariant and synchronized
 * across CPUs), each thread reads the TSC and scales it from an anchor of its own, a
 * (TSC, CLOCK_MONOTONIC) pair it renews every SC_ANCHOR_STAMPS stamps or SC_ANCHOR_NS, whichever
 * comes first. The scale is measured from the process's first anchor to the newest one, once
 * they are SC_CALIBRATE_NS apart (until then every stamp reads the clock). NTP slews MONOTONIC by
 * at most 500 ppm, so a stamp is within 500 ppm x SC_ANCHOR_NS = 0.5 us of the clock, and usually
 * within a few ns (1024 stamps take well under 1 ms). A thread's stamps never decrease.
 */

#define SC_ANCHOR_STAMPS 1024
#define SC_ANCHOR_NS     1000000ull  /* 1 ms */
#define SC_CALIBRATE_NS  10000000ull /* 10 ms */

static int tsc_usable;
static uint64_t tsc0, ns0;
static uint64_t scale_bits;   /* atomic: ns per tick, a double's bits; 0 until calibrated */
static uint64_t anchor_ticks; /* atomic: SC_ANCHOR_NS in ticks */

void sc__clock_setup(void)
{
#if defined(__x86_64__)
	char buf[16];
	int fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource",
	              O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;

	if (fd >= 0)
		close(fd);
	if (n == 4 && memcmp(buf, "tsc\n", 4) == 0) {
		ns0 = sc__now_ns();
		tsc0 = __builtin_ia32_rdtsc();
		tsc_usable = 1;
	}
#endif
}

#if defined(__x86_64__)
static uint64_t anchor(struct sc__tls *t)
{
	uint64_t ns = sc__now_ns(), tsc = __builtin_ia32_rdtsc();

	t->ns_a = ns;
	t->tsc_a = tsc;
	t->stamps = 0;
	if (ns - ns0 >= SC_CALIBRATE_NS && tsc > tsc0) {
		union {
			double d;
			uint64_t u;
		} k = {.d = (double)(ns - ns0) / (double)(tsc - tsc0)};

		__atomic_store_n(&anchor_ticks, (uint64_t)((double)SC_ANCHOR_NS / k.d),
		                 __ATOMIC_RELAXED);
		__atomic_store_n(&scale_bits, k.u, __ATOMIC_RELAXED);
	}
	return ns;
}
#endif

uint64_t sc__event_ns(struct sc__tls *t)
{
	uint64_t ns;

#if defined(__x86_64__)
	if (tsc_usable) {
		union {
			double d;
			uint64_t u;
		} k = {.u = __atomic_load_n(&scale_bits, __ATOMIC_RELAXED)};
		uint64_t dt = __builtin_ia32_rdtsc() - t->tsc_a;

		if (k.u != 0 && t->ns_a != 0 && ++t->stamps < SC_ANCHOR_STAMPS &&
		    dt < __atomic_load_n(&anchor_ticks, __ATOMIC_RELAXED))
			ns = t->ns_a + (uint64_t)((double)dt * k.d);
		else
			ns = anchor(t);
	} else {
		ns = sc__now_ns();
	}
#else
	ns = sc__now_ns();
#endif
	if (ns < t->last_ns)
		ns = t->last_ns;
	t->last_ns = ns;
	return ns;
}

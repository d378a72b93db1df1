/* test_cpu_weight.c: the timer samplers' weigher (cpu_weight.h) gives samples and the thread's
 * tail whole periods that add up to the thread's CPU time, however the signals come. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cpu_weight.h"

#define PERIOD_NS 1000000 /* 1 kHz */

static volatile double sink;

/* Uses ns of this thread's CPU time. */
static void burn(int64_t ns)
{
	int64_t until = sc__thread_cpu_ns() + ns;
	while (sc__thread_cpu_ns() < until)
		for (int i = 1; i < 1000; i++)
			sink += 1.0 / i;
}

/* The weigher reads the clock between the test's two reads, so its total, in periods, lies
 * within a period of the CPU time the test saw (the carry is less than a period either way,
 * a borrowed period included), less the test's own reads around it. */
static void check_total(const char *what, uint64_t periods, int64_t t0, int64_t t1)
{
	double total_ns = (double)periods * PERIOD_NS, seen_ns = (double)(t1 - t0);
	printf("%s: %llu periods for %.3f ms of CPU time\n", what, (unsigned long long)periods,
	       seen_ns / 1e6);
	CHECK(total_ns <= seen_ns + PERIOD_NS);
	CHECK(total_ns >= seen_ns - 2.0 * PERIOD_NS);
}

/* No signal at all: the whole run is the tail (a thread that never got a signal). */
static void test_tail_only(void)
{
	sc__cpu_weigher w;
	int64_t t0 = sc__thread_cpu_ns();
	sc__cpu_weigher_start(&w, PERIOD_NS);
	burn(30 * (int64_t)PERIOD_NS);
	uint64_t tail = sc__cpu_weigher_tail(&w);
	check_total("tail only", tail, t0, sc__thread_cpu_ns());
	CHECK(tail >= 29);
	/* Claimed once: nothing is left for a second tail. */
	CHECK_INT(sc__cpu_weigher_tail(&w), 0);
}

/* Signals every ~5 ms: each sample weighs the ~5 periods since the one before. */
static void test_spaced(void)
{
	sc__cpu_weigher w;
	uint64_t total = 0;
	int64_t t0 = sc__thread_cpu_ns();
	sc__cpu_weigher_start(&w, PERIOD_NS);
	for (int i = 0; i < 8; i++) {
		burn(5 * (int64_t)PERIOD_NS);
		uint32_t p = sc__cpu_weigher_sample(&w, 0);
		CHECK(p >= 4 && p <= 6);
		total += p;
	}
	total += sc__cpu_weigher_tail(&w);
	check_total("spaced", total, t0, sc__thread_cpu_ns());
}

/* Signals in a burst (no CPU time between them): each weighs one period, borrowed from the
 * time that follows, so the total still matches once the thread has run on. */
static void test_burst_borrows(void)
{
	sc__cpu_weigher w;
	uint64_t total = 0;
	int64_t t0 = sc__thread_cpu_ns();
	sc__cpu_weigher_start(&w, PERIOD_NS);
	for (int i = 0; i < 5; i++) {
		uint32_t p = sc__cpu_weigher_sample(&w, 0);
		CHECK_INT(p, 1);
		total += p;
	}
	burn(20 * (int64_t)PERIOD_NS);
	total += sc__cpu_weigher_sample(&w, 0);
	total += sc__cpu_weigher_tail(&w);
	check_total("burst", total, t0, sc__thread_cpu_ns());
}

/* Without a clock reading (never started), the timer's overrun is all there is. */
static void test_no_clock(void)
{
	sc__cpu_weigher w = {.period_ns = PERIOD_NS, .last_ns = -1};
	CHECK_INT(sc__cpu_weigher_sample(&w, 3), 4);
	CHECK_INT(sc__cpu_weigher_sample(&w, -1), 1);
	CHECK_INT(sc__cpu_weigher_tail(&w), 0);
}

int main(void)
{
	test_tail_only();
	test_spaced();
	test_burst_borrows();
	test_no_clock();
	return CHECK_DONE();
}

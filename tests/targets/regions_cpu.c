/* regions_cpu.c: `regions_cpu [ROUNDS]` splits its CPU time 3:1 between two regions, one nested. */
#include "shotclock.h"

#include <stdlib.h>

/*
 * The per-region CPU tests under `shotclock run` check against this program. Each round enters
 * "heavy" and then "light"; heavy runs work_heavy (two units) and, in a nested region "inner",
 * work_inner (one unit); light runs work_light (one unit). So heavy holds 75% of the CPU time
 * (inner 25%, inside it) and light 25%, and the top functions are work_heavy, work_inner and
 * work_light. The work is counted in loop iterations, and the rounds vary in size as cpu_ratio's
 * do, so that the sampling period cannot lock onto one phase of a round.
 */

#define CHUNK 10000UL

static volatile unsigned long sink;

#define BURN(n)                                                                                    \
	for (unsigned long i_ = 0; i_ < (n); i_++)                                                 \
	sink += i_

__attribute__((noinline)) static void work_heavy(unsigned long n)
{
	BURN(2 * n);
}

__attribute__((noinline)) static void work_inner(unsigned long n)
{
	BURN(n);
}

/* The same loop as work_inner's, counted down so that the compiler cannot fold the two
 * functions into one (identical code folding would give both one name). */
__attribute__((noinline)) static void work_light(unsigned long n)
{
	for (unsigned long i = n; i > 0; i--)
		sink += i;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 3000;
	sc_profiler *p = sc_profiler_new();
	for (long r = 0; r < rounds; r++) {
		unsigned long n = CHUNK / 2 + (unsigned long)(r * 617 % 1000) * CHUNK / 1000;
		sc_region_begin(p, "heavy");
		work_heavy(n);
		SC_REGION(p, "inner") work_inner(n);
		sc_region_end(p);
		SC_REGION(p, "light") work_light(n);
	}
	sc_profiler_free(p); /* under `shotclock run`, sends the regions to the collector */
	return 0;
}

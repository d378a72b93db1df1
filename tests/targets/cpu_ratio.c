/* cpu_ratio.c: `cpu_ratio [ROUNDS]` splits its CPU time 3:1 between work_three and work_one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * The CPU sampling tests check shares against this program: work_three does exactly three times
 * the loop iterations of work_one, with the same loop body, so the split is 3:1 in instructions and
 * in cycles whatever the machine's speed. The work is counted in iterations, never in time, so the
 * same argument gives the same work on every run and doubling it doubles the work. The two
 * functions take turns in small chunks (a round is well under a millisecond) so that a phase of
 * the run that is slower or faster than the rest (start-up, another process on the core) falls on
 * both alike. The chunks vary in size from round to round (a fixed pseudo-random sequence, the
 * same on every run): with equal rounds the sampling period could keep landing on the same phase of
 * a round and see one function more often than its share. The tests also build this file with
 * -fomit-frame-pointer (cpu_ratio_nofp) and as a stripped copy (cpu_ratio_stripped).
 *
 * Output: one line, "cpu_ratio: ROUNDS rounds", so a test can check that the output is unchanged.
 */

/* Iterations work_one makes in an average round; work_three makes three times as many. */
#define CHUNK 10000UL

/* Where the loops' work goes; volatile, so the compiler can neither drop nor fold the loops. */
static volatile unsigned long sink;

/* The loop both functions run: one volatile load and store per iteration, the same instructions
 * in both so that an iteration costs the same in each. */
#define BURN(n)                                                                                    \
	for (unsigned long i_ = 0; i_ < (n); i_++)                                                 \
	sink += i_

__attribute__((noinline)) static void work_three(unsigned long n)
{
	BURN(3 * n);
}

__attribute__((noinline)) static void work_one(unsigned long n)
{
	BURN(n);
}

int main(int argc, char **argv)
{
	long rounds = 5000;
	if (argc > 2) {
		fputs("usage: cpu_ratio [ROUNDS]\n", stderr);
		return 2;
	}
	if (argc == 2) {
		char *end;
		errno = 0;
		rounds = strtol(argv[1], &end, 10);
		if (errno || end == argv[1] || *end || rounds < 0) {
			fputs("usage: cpu_ratio [ROUNDS]\n", stderr);
			return 2;
		}
	}
	for (long r = 0; r < rounds; r++) {
		/* CHUNK/2 .. 3*CHUNK/2 iterations, CHUNK on average over every 1000 rounds. */
		unsigned long n = CHUNK / 2 + (unsigned long)(r * 617 % 1000) * CHUNK / 1000;
		work_three(n);
		work_one(n);
	}
	printf("cpu_ratio: %ld rounds\n", rounds);
	return 0;
}

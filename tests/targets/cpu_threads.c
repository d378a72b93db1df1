/* cpu_threads.c: `cpu_threads [ROUNDS]` runs two threads at once, thread_two doing twice the work
 * of thread_one. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * The CPU sampling tests check that every thread of a command is sampled and that each thread's
 * samples follow its CPU time: thread_two makes exactly twice the loop iterations of thread_one,
 * with the same loop body, so their samples should be 2:1. The work is counted in iterations, not
 * in time. Each thread has its own volatile counter so that neither slows the other down by
 * sharing a cache line.
 *
 * Output: one line, "cpu_threads: ROUNDS rounds".
 */

/* Iterations thread_one makes per round; thread_two makes twice as many. */
#define CHUNK 10000UL

/* One counter per thread, a cache line apart; volatile, so the loops cannot be dropped. */
static volatile unsigned long sink[2][8];

static long rounds = 7500;

#define BURN(slot, n)                                                                              \
	for (unsigned long i_ = 0; i_ < (n); i_++)                                                 \
	sink[slot][0] += i_

__attribute__((noinline)) static void *thread_two(void *arg)
{
	(void)arg;
	for (long r = 0; r < rounds; r++)
		BURN(0, 2 * CHUNK);
	return NULL;
}

__attribute__((noinline)) static void *thread_one(void *arg)
{
	(void)arg;
	for (long r = 0; r < rounds; r++)
		BURN(1, CHUNK);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 2) {
		fputs("usage: cpu_threads [ROUNDS]\n", stderr);
		return 2;
	}
	if (argc == 2) {
		char *end;
		errno = 0;
		rounds = strtol(argv[1], &end, 10);
		if (errno || end == argv[1] || *end || rounds < 0) {
			fputs("usage: cpu_threads [ROUNDS]\n", stderr);
			return 2;
		}
	}
	pthread_t two, one;
	if (pthread_create(&two, NULL, thread_two, NULL) != 0 ||
	    pthread_create(&one, NULL, thread_one, NULL) != 0) {
		fputs("cpu_threads: cannot start the threads\n", stderr);
		return 1;
	}
	pthread_join(two, NULL);
	pthread_join(one, NULL);
	printf("cpu_threads: %ld rounds\n", rounds);
	return 0;
}

/* cpu_many_threads.c: `cpu_many_threads [N]` starts N threads (default 32) that each burn a few
 * milliseconds of CPU, then joins them. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * Many short-lived threads at once: a sampler that follows threads (perf_event inherit, or one
 * timer per thread in the heap shim) must create and retire each one without losing the process,
 * hanging at exit or changing what the program computes. Each thread's work is counted in
 * iterations; the sum the threads compute is printed, so a test sees that the result is unchanged.
 */

#define MAX_THREADS 256
#define ITERATIONS  20000000UL

__attribute__((noinline)) static void *many_burn(void *arg)
{
	unsigned long *out = arg;
	volatile unsigned long acc = 0;
	for (unsigned long i = 0; i < ITERATIONS; i++)
		acc += i & 7;
	*out = acc;
	return NULL;
}

int main(int argc, char **argv)
{
	long n = 32;
	if (argc == 2) {
		char *end;
		errno = 0;
		n = strtol(argv[1], &end, 10);
		if (errno || end == argv[1] || *end)
			n = -1;
	}
	if (argc > 2 || n < 1 || n > MAX_THREADS) {
		fputs("usage: cpu_many_threads [N] (1..256)\n", stderr);
		return 2;
	}
	static pthread_t threads[MAX_THREADS];
	static unsigned long results[MAX_THREADS];
	for (long i = 0; i < n; i++)
		if (pthread_create(&threads[i], NULL, many_burn, &results[i]) != 0) {
			fputs("cpu_many_threads: cannot start a thread\n", stderr);
			return 1;
		}
	unsigned long total = 0;
	for (long i = 0; i < n; i++) {
		pthread_join(threads[i], NULL);
		total += results[i];
	}
	printf("cpu_many_threads: %ld threads, sum %lu\n", n, total);
	return 0;
}

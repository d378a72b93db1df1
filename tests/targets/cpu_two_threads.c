/* cpu_two_threads.c: `cpu_two_threads MS [STATUS]` runs two threads that each use MS ms of CPU
 * time in burn(), called by worker(), then exits with STATUS (default 0): a threaded CPU-bound
 * program whose samples have a known caller. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Where the loop's work goes; volatile, so the compiler cannot drop the loop. */
static volatile double work;
static long ms;

static long long thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static __attribute__((noinline)) void burn(void)
{
	long long until = thread_cpu_ns() + (long long)ms * 1000000;
	while (thread_cpu_ns() < until) {
		double x = work;
		for (int i = 1; i < 10000; i++)
			x += 1.0 / i;
		work = x;
	}
}

static __attribute__((noinline)) void *worker(void *unused)
{
	(void)unused;
	burn();
	/* Not a tail call: worker's frame stays below burn's. */
	__asm__ volatile("" ::: "memory");
	return NULL;
}

int main(int argc, char **argv)
{
	char *end;
	errno = 0;
	ms = argc >= 2 ? strtol(argv[1], &end, 10) : -1;
	if (argc < 2 || argc > 3 || errno || end == argv[1] || *end || ms < 0) {
		fputs("usage: cpu_two_threads MS [STATUS]\n", stderr);
		return 2;
	}
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, worker, NULL) != 0)
			return 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	return argc == 3 ? atoi(argv[2]) : 0;
}

/* plateau.c: `plateau MB MS` fills a cache of MB MiB in the first fifth of MS ms, then only reads
 * it until MS ms have passed: memory grows, then stays (a plateau, not a leak). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLOCK (256 * 1024)

static void add_ns(struct timespec *t, long long ns)
{
	ns += t->tv_nsec;
	t->tv_sec += (time_t)(ns / 1000000000);
	t->tv_nsec = (long)(ns % 1000000000);
}

static void sleep_until(const struct timespec *t)
{
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL) == EINTR)
		;
}

int main(int argc, char **argv)
{
	long mb = argc == 3 ? atol(argv[1]) : -1;
	long ms = argc == 3 ? atol(argv[2]) : -1;
	if (mb <= 0 || ms < 0) {
		fputs("usage: plateau MB MS\n", stderr);
		return 2;
	}
	long n = mb * (1024 * 1024 / BLOCK);
	char **cache = calloc((size_t)n, sizeof *cache);
	if (!cache)
		return 1;
	struct timespec start, tick;
	clock_gettime(CLOCK_MONOTONIC, &start);
	tick = start;
	long long fill_step = (long long)ms * 1000000 / 5 / n;
	for (long i = 0; i < n; i++) {
		cache[i] = malloc(BLOCK);
		if (!cache[i])
			return 1;
		memset(cache[i], (int)i, BLOCK);
		add_ns(&tick, fill_step);
		sleep_until(&tick);
	}
	/* The cache is full: serve from it, in steps of 10 ms, without allocating. */
	unsigned sum = 0;
	struct timespec end = start;
	add_ns(&end, (long long)ms * 1000000);
	for (long i = 0;; i++) {
		sum += (unsigned char)cache[i % n][i % BLOCK];
		add_ns(&tick, 10 * 1000000LL);
		if (tick.tv_sec > end.tv_sec ||
		    (tick.tv_sec == end.tv_sec && tick.tv_nsec >= end.tv_nsec))
			break;
		sleep_until(&tick);
	}
	for (long i = 0; i < n; i++)
		free(cache[i]);
	free(cache);
	return sum == 1 ? 1 : 0; /* uses sum, so the reads stay */
}

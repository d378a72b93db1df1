/* cpu_bound.c: `cpu_bound MS` computes on one thread until it has used MS ms of CPU time, with no
 * I/O and no allocation: CPU-bound by construction (one core busy, the others idle). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Where the loop's work goes; volatile, so the compiler cannot drop the loop. */
static volatile double work;

static long long cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	char *end;
	errno = 0;
	long ms = argc == 2 ? strtol(argv[1], &end, 10) : -1;
	if (argc != 2 || errno || end == argv[1] || *end || ms < 0) {
		fputs("usage: cpu_bound MS\n", stderr);
		return 2;
	}
	long long until = cpu_ns() + (long long)ms * 1000000;
	while (cpu_ns() < until) {
		double x = work;
		for (int i = 1; i < 10000; i++)
			x += 1.0 / i;
		work = x;
	}
	return 0;
}

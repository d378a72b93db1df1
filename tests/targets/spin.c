/* spin.c: `spin MS` keeps one CPU busy until it has used MS ms of CPU time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Where the loop's work goes; volatile, so the compiler cannot drop the loop. */
static volatile unsigned long work;

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
		fputs("usage: spin MS\n", stderr);
		return 2;
	}
	long long until = cpu_ns() + (long long)ms * 1000000;
	while (cpu_ns() < until) {
		for (int i = 0; i < 10000; i++)
			work += (unsigned long)i;
	}
	return 0;
}

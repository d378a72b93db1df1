/* tail_heavy.c: `tail_heavy COUNTER FAST_MS SLOW_MS EVERY`: most runs take FAST_MS, every EVERY-th
 * run takes SLOW_MS. The run number is kept in the file COUNTER (created at 0), so the slow runs
 * are chosen deterministically, not by chance: a command's latency is measured per run, so the
 * tail must be made of whole runs (docs/metrics.md, "Latency: per-sample or per-run"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void sleep_ms(long ms)
{
	struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	long fast = argc == 5 ? atol(argv[2]) : -1;
	long slow = argc == 5 ? atol(argv[3]) : -1;
	long every = argc == 5 ? atol(argv[4]) : -1;
	if (fast < 0 || slow < 0 || every <= 0) {
		fputs("usage: tail_heavy COUNTER FAST_MS SLOW_MS EVERY\n", stderr);
		return 2;
	}
	long run = 0;
	FILE *f = fopen(argv[1], "r");
	if (f) {
		if (fscanf(f, "%ld", &run) != 1)
			run = 0;
		fclose(f);
	}
	f = fopen(argv[1], "w");
	if (!f) {
		perror("tail_heavy");
		return 1;
	}
	fprintf(f, "%ld\n", run + 1);
	fclose(f);
	sleep_ms(run % every == every - 1 ? slow : fast);
	return 0;
}

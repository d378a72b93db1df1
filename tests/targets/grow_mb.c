/* grow_mb.c: `grow_mb MB MS`: grows to MB MiB in 1-MiB steps spread over MS ms, then exits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIB (1024 * 1024)

static long parse_count(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	return errno || end == s || *end || v < 0 ? -1 : v;
}

static void add_ns(struct timespec *t, long long ns)
{
	ns += t->tv_nsec;
	t->tv_sec += (time_t)(ns / 1000000000);
	t->tv_nsec = (long)(ns % 1000000000);
}

int main(int argc, char **argv)
{
	long mb = argc == 3 ? parse_count(argv[1]) : -1;
	long ms = argc == 3 ? parse_count(argv[2]) : -1;
	if (mb < 0 || ms < 0) {
		fputs("usage: grow_mb MB MS\n", stderr);
		return 2;
	}
	char **blocks = mb ? calloc((size_t)mb, sizeof *blocks) : NULL;
	if (mb && !blocks)
		return 1;
	/* Step i allocates and touches the i-th MiB, then waits for the i-th tick of an absolute
	 * schedule, so the growth rate does not drift; the full size is held for one step. */
	struct timespec tick;
	clock_gettime(CLOCK_MONOTONIC, &tick);
	long long step_ns = mb ? (long long)ms * 1000000 / mb : 0;
	for (long i = 0; i < mb; i++) {
		blocks[i] = malloc(MIB);
		if (!blocks[i]) {
			fputs("grow_mb: out of memory\n", stderr);
			return 1;
		}
		memset(blocks[i], 0x5a, MIB);
		add_ns(&tick, step_ns);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, NULL) == EINTR)
			;
	}
	/* No free(): the blocks go all at once when the process exits, so a sampler sees the memory
	 * grow and then the process end, not a slow decline through a loop of munmap calls. */
	return 0;
}

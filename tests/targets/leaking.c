/* leaking.c: `leaking MB MS` allocates 256 KiB blocks, touches and never frees them, at a steady
 * rate until MB MiB are live at MS ms: memory grows for the whole run (a leak by construction). */
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

int main(int argc, char **argv)
{
	long mb = argc == 3 ? atol(argv[1]) : -1;
	long ms = argc == 3 ? atol(argv[2]) : -1;
	if (mb <= 0 || ms < 0) {
		fputs("usage: leaking MB MS\n", stderr);
		return 2;
	}
	long blocks = mb * (1024 * 1024 / BLOCK);
	long long step_ns = (long long)ms * 1000000 / blocks;
	struct timespec tick;
	clock_gettime(CLOCK_MONOTONIC, &tick);
	/* An absolute schedule, so the growth rate does not drift. */
	for (long i = 0; i < blocks; i++) {
		char *p = malloc(BLOCK);
		if (!p)
			return 1;
		memset(p, 0x5a, BLOCK);
		__asm__ volatile("" : : "r"(p) : "memory"); /* the pointer is dropped: a leak */
		add_ns(&tick, step_ns);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, NULL) == EINTR)
			;
	}
	return 0;
}

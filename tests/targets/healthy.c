/* healthy.c: `healthy` serves 8 requests paced 11 ms apart, each 1 ms of computation on a small,
 * reused buffer: little CPU, no I/O, no allocation per request, steady memory, steady times. No
 * bottleneck rule has anything to find. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile double sink;

static long long cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(void)
{
	static double buf[1024];
	for (int request = 0; request < 8; request++) {
		long long until = cpu_ns() + 1000000;
		while (cpu_ns() < until) {
			for (size_t i = 0; i < sizeof buf / sizeof buf[0]; i++)
				buf[i] = buf[i] * 0.5 + (double)i;
		}
		sink = buf[request];
		struct timespec pause = {0, 10 * 1000000L};
		while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
			;
	}
	return 0;
}

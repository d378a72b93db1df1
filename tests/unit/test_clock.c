/* test_clock.c: the monotonic clock, this process's CPU time and the invariant-TSC tick counter. */
#define _GNU_SOURCE
#include "check.h"
#include "internal.h"

#include <time.h>

static void sleep_ns(long ns)
{
	struct timespec ts = {.tv_sec = ns / 1000000000L, .tv_nsec = ns % 1000000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static void test_monotonic(void)
{
	uint64_t prev = sc__now_ns(), backwards = 0;
	for (int i = 0; i < 100000; i++) {
		uint64_t now = sc__now_ns();
		backwards += now < prev;
		prev = now;
	}
	CHECK_INT(backwards, 0);

	/* Linux times nanosleep on CLOCK_MONOTONIC and never wakes early, so at least 10 ms pass.
	 */
	uint64_t t0 = sc__now_ns();
	sleep_ns(10000000);
	CHECK(sc__now_ns() - t0 >= 10000000);

	/* The real clock of the profiler is the same clock. */
	sc__clock c = sc__clock_real();
	uint64_t a = sc__now_ns(), b = c.now_ns(c.ctx), d = sc__now_ns();
	CHECK(a <= b && b <= d);
}

static void test_timeval(void)
{
	CHECK_NEAR(sc__timeval_s((struct timeval){.tv_sec = 3, .tv_usec = 250000}), 3.25, 0);
	CHECK_NEAR(sc__timeval_s((struct timeval){.tv_sec = 0, .tv_usec = 1}), 1e-6, 1e-21);
	CHECK_NEAR(sc__timeval_s((struct timeval){.tv_sec = 0, .tv_usec = 0}), 0, 0);
}

static double process_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_cpu_self(void)
{
	double user0, sys0, user1, sys1;
	sc__cpu_self(&user0, &sys0);
	/* Spin until the kernel has charged us 50 ms of CPU (a loaded machine just takes longer of
	 * wall time); the volatile sink keeps the loop from being optimised away. */
	double start = process_cpu_s();
	volatile uint64_t sink = 0;
	while (process_cpu_s() - start < 0.050)
		for (int i = 0; i < 100000; i++)
			sink += (uint64_t)i;
	(void)sink;
	sc__cpu_self(&user1, &sys1);
	/* getrusage scales its tick-sampled user/system split to the same precise runtime that
	 * CLOCK_PROCESS_CPUTIME_ID reads, so the sum grew by the 50 ms; 10% covers the microsecond
	 * truncation and the split's rounding. The loop runs in user mode, so user time grew. */
	double grew = (user1 + sys1) - (user0 + sys0);
	printf("cpu: %.1f ms charged over a 50 ms busy loop (user %.1f ms)\n", grew * 1e3,
	       (user1 - user0) * 1e3);
	CHECK(grew >= 0.045);
	CHECK(user1 > user0);
	CHECK(sys1 >= sys0);
}

/* The first "flags" line of /proc/cpuinfo has both words: an implementation independent of
 * clock.c's, so the two can be compared. */
static int cpuinfo_says_invariant_tsc(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	int constant = 0, nonstop = 0;
	while (getline(&line, &cap, f) > 0) {
		char *colon = line + 5 + strspn(line + 5, " \t");
		if (strncmp(line, "flags", 5) != 0 || *colon != ':')
			continue;
		for (char *save = NULL, *w = strtok_r(colon + 1, " \t\n", &save); w;
		     w = strtok_r(NULL, " \t\n", &save)) {
			constant |= strcmp(w, "constant_tsc") == 0;
			nonstop |= strcmp(w, "nonstop_tsc") == 0;
		}
		break;
	}
	free(line);
	fclose(f);
	return constant && nonstop;
}

#if defined(__x86_64__)
/* A TSC reading and the monotonic time at the same instant: the midpoint of the two clock reads
 * around it, from the tightest of 200 tries, so a preemption between the reads cannot skew it. */
static void paired_read(uint64_t *ns, uint64_t *ticks)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 200; i++) {
		uint64_t a = sc__now_ns(), t = sc__rdtsc(), b = sc__now_ns();
		if (b - a < best) {
			best = b - a;
			*ns = a + (b - a) / 2;
			*ticks = t;
		}
	}
}

/* Ticks per ns over a sleep of ns nanoseconds. */
static double ticks_per_ns_over(long sleep)
{
	uint64_t ns0, t0, ns1, t1;
	paired_read(&ns0, &t0);
	sleep_ns(sleep);
	paired_read(&ns1, &t1);
	return (double)(t1 - t0) / (double)(ns1 - ns0);
}

static void test_tsc_rate(void)
{
	if (!sc__tsc_usable()) {
		printf("tsc: not invariant here; callers use CLOCK_MONOTONIC, nothing to check\n");
		return;
	}
	/*
	 * Callers convert ticks to ns with the ratio measured over the interval they timed. The
	 * ratio from a 50 ms interval must convert a second, 20 ms interval to its monotonic
	 * length: both are timed against the same monotonic clock, each end within the tightest
	 * bracket of paired_read (about 100 ns, and far below 1 ms even on a loaded machine), so
	 * they can differ by 1 ms / 20 ms at most; 5% leaves room for that and nothing more.
	 */
	double r50 = ticks_per_ns_over(50000000), r20 = ticks_per_ns_over(20000000);
	printf("tsc: %.4f GHz over 50 ms, %.4f GHz over 20 ms\n", r50, r20);
	CHECK(fabs(r20 / r50 - 1) < 0.05);
	/* Every x86-64 TSC counts between 0.5 and 10 GHz. */
	CHECK(r50 > 0.5 && r50 < 10);
}
#endif

static void test_tsc_usable(void)
{
	int expected = 0;
#if defined(__x86_64__)
	expected = cpuinfo_says_invariant_tsc();
	CHECK(expected >= 0);
#else
	(void)cpuinfo_says_invariant_tsc;
#endif
	CHECK_INT(sc__tsc_usable(), expected);
	/* The answer is decided once and cached: asking again gives the same. */
	CHECK_INT(sc__tsc_usable(), expected);
#if defined(__x86_64__)
	test_tsc_rate();
#endif
}

static void print_costs(void)
{
	/* Informative only: the cost depends on the machine and its load. */
	enum { N = 1000000 };
	volatile uint64_t sink = 0;
	uint64_t t0 = sc__now_ns();
	for (int i = 0; i < N; i++)
		sink += sc__now_ns();
	uint64_t t1 = sc__now_ns();
	printf("cost: sc__now_ns %.1f ns", (double)(t1 - t0) / N);
#if defined(__x86_64__)
	t0 = sc__now_ns();
	for (int i = 0; i < N; i++)
		sink += sc__rdtsc();
	t1 = sc__now_ns();
	printf(", sc__rdtsc %.1f ns", (double)(t1 - t0) / N);
#endif
	printf("\n");
	(void)sink;
}

int main(void)
{
	test_monotonic();
	test_timeval();
	test_cpu_self();
	test_tsc_usable();
	print_costs();
	return CHECK_DONE();
}

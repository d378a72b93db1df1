/* test_memory.c: this process's VmRSS/VmHWM, and resetting the peak after touching and freeing
 * 64 MiB. */
#define _GNU_SOURCE /* MAP_ANONYMOUS */
#include "check.h"
#include "internal.h"

#include <sys/mman.h>
#include <unistd.h>

#define WORKLOAD_KB (64 * 1024)

/*
 * How far apart two readings of the kernel's RSS counter may be with nothing happening between
 * them. The counters are approximate: since Linux 6.2 they are per-CPU counters whose reader
 * misses each CPU's unflushed delta, less than max(32, 2 * CPUs) pages per CPU; before, each
 * thread cached up to 64 page events. On top come the few pages the test itself faults in
 * between two readings (sc__self_rss's 16 KiB stack buffer). 4 MiB covers both up to 8 CPUs
 * (2 CPUs: 256 KiB of counter error) and stays far below the 64 MiB under test; on larger
 * machines the bound grows with the counters' worst case.
 */
static int64_t counter_slack_kb(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long page_kb = sysconf(_SC_PAGESIZE) / 1024;
	int64_t batch = cpus * 2 > 32 ? cpus * 2 : 32;
	int64_t worst_kb = (int64_t)cpus * batch * page_kb;
	return worst_kb > 4096 ? worst_kb : 4096;
}

/* Resident pages from /proc/self/statm (the same counter as VmRSS), read with stdio, in kB. */
static int64_t statm_resident_kb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long long size = 0, resident = 0;
	int n = f ? fscanf(f, "%llu %llu", &size, &resident) : 0;
	if (f)
		fclose(f);
	CHECK_INT(n, 2);
	return (int64_t)resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void test_self_rss(void)
{
	int64_t rss = -1, hwm = -1;
	CHECK_INT(sc__self_rss(&rss, &hwm), 0);
	/* A running test binary has its code, libc and stack resident: at least a few hundred kB,
	 * and far less than 1 GiB. */
	CHECK(rss > 256 && rss < 1024 * 1024);
	CHECK(hwm >= rss);
	CHECK_NEAR(rss, statm_resident_kb(), counter_slack_kb());
	CHECK_INT(sc__self_rss(NULL, &hwm), SC_EINVAL);
}

static void test_reset_peak(void)
{
	int64_t slack = counter_slack_kb();
	int64_t rss0, hwm0, rss1, hwm1, rss2, hwm2, rss3, hwm3;
	CHECK_INT(sc__self_rss(&rss0, &hwm0), 0);

	/* mmap rather than malloc, so that the memory surely goes back to the kernel on munmap. */
	size_t bytes = (size_t)WORKLOAD_KB * 1024;
	unsigned char *p =
	    mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	if (p == MAP_FAILED)
		return;
	memset(p, 0xa5, bytes);
	CHECK_INT(sc__self_rss(&rss1, &hwm1), 0);
	CHECK(rss1 >= rss0 + WORKLOAD_KB - slack);
	CHECK(munmap(p, bytes) == 0);

	/* Freed: RSS is back down, the peak still remembers the 64 MiB. */
	CHECK_INT(sc__self_rss(&rss2, &hwm2), 0);
	CHECK(hwm2 - rss2 >= WORKLOAD_KB - slack);

	/* Reset: the peak is the current RSS again. */
	CHECK(sc__self_reset_peak());
	CHECK_INT(sc__self_rss(&rss3, &hwm3), 0);
	CHECK(hwm3 >= rss3);
	CHECK(hwm3 - rss3 <= slack);
	CHECK(hwm3 <= hwm2 - WORKLOAD_KB + slack);
	printf("rss %lld kB; touched 64 MiB: rss %lld, hwm %lld; freed: rss %lld, hwm %lld; "
	       "reset: rss %lld, hwm %lld (slack %lld)\n",
	       (long long)rss0, (long long)rss1, (long long)hwm1, (long long)rss2, (long long)hwm2,
	       (long long)rss3, (long long)hwm3, (long long)slack);
}

int main(void)
{
	test_self_rss();
	test_reset_peak();
	return CHECK_DONE();
}

/* test_sampler.c: the RSS and CPU timeline of real process trees, and its adaptive merging. */
#define _GNU_SOURCE
#include "check.h"
#include "internal.h"
#include "targets.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000ull

static sc__spawner *new_spawner(void)
{
	sc__spawner *s = NULL;
	if (sc__spawner_new(NULL, -1, -1, &s) != 0) {
		fprintf(stderr, "cannot start the spawner; is SHOTCLOCK_SPAWNER set?\n");
		exit(1);
	}
	return s;
}

static pid_t start(sc__spawner *s, char *const argv[])
{
	pid_t pid = -1;
	int err;
	CHECK_INT(sc__spawner_start(s, argv, NULL, &pid, &err), 0);
	return pid;
}

/* A timeline of argv run to its end, sampled as command.c does: poll the spawner's fd until the
 * sampler is due, tick, repeat. Fills *ex with the run's outcome. */
typedef struct timeline {
	sc_timeline_point *points;
	size_t n;
	double interval_s;
	int64_t max_hwm_kb;
} timeline;

static timeline sample_run(sc__spawner *s, char *const argv[], size_t max_points, sc__exit *ex)
{
	timeline tl = {0};
	uint64_t t0 = sc__now_ns();
	pid_t pid = start(s, argv);
	sc__sampler *sm = NULL;
	CHECK_INT(sc__sampler_new(pid, t0, max_points, &sm), 0);
	struct pollfd pfd = {.fd = sc__spawner_fd(s), .events = POLLIN};
	for (;;) {
		uint64_t now = sc__now_ns(), due = sc__sampler_due_ns(sm);
		int wait_ms = due > now ? (int)((due - now + MS - 1) / MS) : 0;
		int r = poll(&pfd, 1, wait_ms);
		if (r > 0)
			break;
		if (r == 0)
			sc__sampler_tick(sm, sc__now_ns());
	}
	CHECK_INT(sc__spawner_finish(s, ex, NULL), 0);
	tl.max_hwm_kb = sc__sampler_max_hwm_kb(sm);
	sc__sampler_take(sm, &tl.points, &tl.n, &tl.interval_s);
	sc__sampler_free(sm);
	return tl;
}

static double max_rss_mb(const timeline *tl)
{
	double max = 0;
	for (size_t i = 0; i < tl->n; i++)
		max = tl->points[i].rss_mb > max ? tl->points[i].rss_mb : max;
	return max;
}

static void test_growing_memory(void)
{
	sc__spawner *s = new_spawner();
	sc__exit ex;
	/* The program's own RSS without the allocations: touch_mb 0's peak. */
	char *zero[] = {target("touch_mb"), "0", NULL};
	start(s, zero);
	CHECK_INT(sc__spawner_finish(s, &ex, NULL), 0);
	double base_mb = (double)ex.ru.ru_maxrss / 1024;

	char *grow[] = {target("grow_mb"), "100", "600", NULL};
	timeline tl = sample_run(s, grow, 2000, &ex);
	CHECK(WIFEXITED(ex.status) && WEXITSTATUS(ex.status) == 0);
	/* 600 ms at one point per 10 ms is 60 points; a loaded machine that wakes us late still
	 * gives 10, and 2000 points are never reached, so the interval stays 10 ms. */
	CHECK(tl.n >= 10);
	CHECK_NEAR(tl.interval_s, 0.01, 1e-12);
	/* The program grows 1 MiB every 6 ms and holds the full 100 MiB for the last step; the
	 * sampler sees at least 90 MiB as long as one tick lands in the last 60 ms. */
	CHECK_NEAR(max_rss_mb(&tl), 100 + base_mb, 0.10 * 100);
	/* Never decreasing, but for the exit itself (memory released before the last tick), and
	 * 1 MiB of slack for the per-cpu RSS counters the kernel reads approximately. */
	int drops = 0;
	for (size_t i = 1; i < tl.n; i++) {
		drops += tl.points[i].rss_mb < tl.points[i - 1].rss_mb - 1.0;
		CHECK(tl.points[i].t_s > tl.points[i - 1].t_s);
		CHECK_INT(tl.points[i].processes, 1);
	}
	CHECK(drops <= 1);
	/* The root's VmHWM bounds every sampled RSS from above (same counters, read later), and
	 * the final peak that wait4 reports bounds it, within 1 MiB: since Linux 6.2 the RSS
	 * counters are per-cpu, and the exit path reads them approximately while status sums them
	 * (measured: up to 200 kB apart). */
	CHECK(tl.max_hwm_kb >= (int64_t)(max_rss_mb(&tl) * 1024) - 1024);
	CHECK(tl.max_hwm_kb <= ex.ru.ru_maxrss + 1024);
	printf("grow_mb 100 600: %zu points, max %.1f MiB, base %.1f MiB, wait4 peak %.1f MiB\n",
	       tl.n, max_rss_mb(&tl), base_mb, (double)ex.ru.ru_maxrss / 1024);
	free(tl.points);
	sc__spawner_free(s);
}

static void test_busy_cpu(void)
{
	sc__spawner *s = new_spawner();
	sc__exit ex;
	char *spin[] = {target("spin"), "300", NULL};
	timeline tl = sample_run(s, spin, 2000, &ex);
	CHECK(tl.n >= 5);
	/* The time-weighted mean of the timeline against the truth from wait4: CPU seconds over
	 * wall seconds. spin is CPU-bound, so both are ~100% on an idle core and lower together
	 * on a loaded machine. The tolerance of 25 points covers the 10 ms granularity of utime and
	 * stime in /proc (clock ticks, +-10 ms of 300) and the CPU time after the last tick. */
	double cpu_s = 0, last_t = 0;
	for (size_t i = 0; i < tl.n; i++) {
		cpu_s += tl.points[i].cpu_percent / 100 * (tl.points[i].t_s - last_t);
		last_t = tl.points[i].t_s;
	}
	double sampled = tl.n ? 100 * cpu_s / last_t : 0;
	double truth = 100 * (sc__timeval_s(ex.ru.ru_utime) + sc__timeval_s(ex.ru.ru_stime)) /
	               ((double)ex.wall_ns / 1e9);
	CHECK_NEAR(sampled, truth, 25);
	/* A CPU-bound program gets a good part of a core: half of one with three other CPU-bound
	 * processes on two cores (measured: 46%, against 48% from wait4), hence 30 as the floor. */
	CHECK(sampled >= 30);
	printf("spin 300: sampled %.0f%% CPU, wait4 says %.0f%%\n", sampled, truth);
	free(tl.points);
	sc__spawner_free(s);
}

/* Waits until pid is stopped (SIGSTOP is delivered asynchronously). */
static void wait_stopped(pid_t pid, sc__proc_stat *st)
{
	char path[64], text[2048];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 500; i++) {
		if (sc__read_text_file(path, text, sizeof text, NULL) == 0 &&
		    sc__parse_proc_stat(text, st) == 0 && st->state == 'T')
			return;
		sleep_ms(10);
	}
	CHECK(!"the process did not stop");
}

/* Merging, exactly: a stopped process does not change between reads, so the test knows what
 * each tick saw. Ticks are given made-up times. */
static void test_merge_exact(void)
{
	sc__spawner *s = new_spawner();
	char *grow[] = {target("grow_mb"), "100", "1000", NULL};
	pid_t pid = start(s, grow);
	double page_mb = (double)sysconf(_SC_PAGESIZE) / (1024 * 1024);
	double tck = (double)sysconf(_SC_CLK_TCK);
	sc__proc_stat a, b;
	sleep_ms(100);
	kill(pid, SIGSTOP);
	wait_stopped(pid, &a);

	sc__sampler *sm = NULL;
	CHECK_INT(sc__sampler_new(pid, 0, 2, &sm), 0);
	CHECK_INT(sc__sampler_due_ns(sm), 10 * MS);
	/* First tick: all the CPU the process ever used, over the 10 ms since start_ns. */
	sc__sampler_tick(sm, 10 * MS);
	double cpu_a = 100.0 * (double)(a.utime + a.stime) / tck / 0.010;

	kill(pid, SIGCONT);
	sleep_ms(100);
	kill(pid, SIGSTOP);
	wait_stopped(pid, &b);
	CHECK(b.rss > a.rss);
	/* Second tick, 30 ms after the first: the CPU used in between. Two points reach
	 * max_points 2, so they merge into one and the interval doubles. */
	sc__sampler_tick(sm, 40 * MS);
	double cpu_b = 100.0 * (double)(b.utime + b.stime - a.utime - a.stime) / tck / 0.030;
	CHECK_INT(sc__sampler_due_ns(sm), 60 * MS);

	timeline tl;
	sc__sampler_take(sm, &tl.points, &tl.n, &tl.interval_s);
	CHECK_INT(tl.n, 1);
	CHECK_NEAR(tl.interval_s, 0.02, 1e-12);
	if (tl.n == 1) {
		CHECK_NEAR(tl.points[0].t_s, 0.04, 1e-12);
		CHECK_NEAR(tl.points[0].rss_mb, (double)b.rss * page_mb, 1e-9);  /* the max */
		CHECK_NEAR(tl.points[0].cpu_percent, (cpu_a + cpu_b) / 2, 1e-9); /* the mean */
		CHECK_INT(tl.points[0].processes, 1);
	}
	free(tl.points);
	sc__sampler_free(sm);
	kill(-pid, SIGKILL);
	kill(pid, SIGCONT);
	sc__exit ex;
	CHECK_INT(sc__spawner_finish(s, &ex, NULL), 0);
	sc__spawner_free(s);
}

/* Adaptive rate: the timeline never holds more than max_points, and each merge doubles the
 * interval. Made-up times make the schedule exact. */
static void test_adaptive(void)
{
	sc__sampler *sm = NULL;
	CHECK_INT(sc__sampler_new(getpid(), 0, 8, &sm), 0);
	/* 8 ticks 10 ms apart: the 8th reaches max_points; pairs merge into 4 points 20 ms apart,
	 * each stamped with the later time of its pair. */
	for (uint64_t t = 10; t <= 80; t += 10) {
		CHECK_INT(sc__sampler_due_ns(sm), t * MS);
		sc__sampler_tick(sm, t * MS);
	}
	CHECK_INT(sc__sampler_due_ns(sm), 100 * MS);
	/* 4 more ticks 20 ms apart: 8 again, merged into 4 points 40 ms apart. */
	for (uint64_t t = 100; t <= 160; t += 20)
		sc__sampler_tick(sm, t * MS);
	CHECK_INT(sc__sampler_due_ns(sm), 200 * MS);
	timeline tl;
	sc__sampler_take(sm, &tl.points, &tl.n, &tl.interval_s);
	CHECK_INT(tl.n, 4);
	CHECK_NEAR(tl.interval_s, 0.04, 1e-12);
	for (size_t i = 0; i < tl.n && i < 4; i++) {
		CHECK_NEAR(tl.points[i].t_s, 0.04 * (double)(i + 1), 1e-12);
		CHECK(tl.points[i].rss_mb > 0);
		CHECK(tl.points[i].processes >= 1);
	}
	free(tl.points);
	sc__sampler_free(sm);

	/* An odd max_points: the last point has no partner and stays as it is. */
	CHECK_INT(sc__sampler_new(getpid(), 0, 5, &sm), 0);
	for (uint64_t t = 10; t <= 50; t += 10)
		sc__sampler_tick(sm, t * MS);
	sc__sampler_take(sm, &tl.points, &tl.n, &tl.interval_s);
	CHECK_INT(tl.n, 3);
	CHECK_NEAR(tl.interval_s, 0.02, 1e-12);
	if (tl.n == 3) {
		CHECK_NEAR(tl.points[0].t_s, 0.02, 1e-12);
		CHECK_NEAR(tl.points[1].t_s, 0.04, 1e-12);
		CHECK_NEAR(tl.points[2].t_s, 0.05, 1e-12);
	}
	free(tl.points);
	sc__sampler_free(sm);

	/* A longer run at max_points 8: never more than 8, the interval a power of two of 10 ms
	 * (60 ticks, 15 doublings: 5.5 minutes of made-up time). */
	CHECK_INT(sc__sampler_new(getpid(), 0, 8, &sm), 0);
	for (int i = 0; i < 60; i++)
		sc__sampler_tick(sm, sc__sampler_due_ns(sm));
	sc__sampler_take(sm, &tl.points, &tl.n, &tl.interval_s);
	CHECK(tl.n >= 4 && tl.n <= 8);
	double k = log2(tl.interval_s / 0.01);
	CHECK(k >= 1 && fabs(k - round(k)) < 1e-9);
	free(tl.points);
	sc__sampler_free(sm);
}

/* The tree: a child and its grandchild are both sampled. */
static void test_tree(void)
{
	sc__spawner *s = new_spawner();
	char pidfile[4096];
	snprintf(pidfile, sizeof pidfile, "%s/tree.pid", scratch);
	char *hang[] = {target("hang"), "--grandchild", pidfile, NULL};
	uint64_t t0 = sc__now_ns();
	pid_t pid = start(s, hang);
	for (int i = 0; i < 500 && access(pidfile, F_OK) != 0; i++)
		sleep_ms(10);
	sc__sampler *sm = NULL;
	CHECK_INT(sc__sampler_new(pid, t0, 100, &sm), 0);
	sc__sampler_tick(sm, sc__now_ns());
	timeline tl;
	sc__sampler_take(sm, &tl.points, &tl.n, &tl.interval_s);
	CHECK_INT(tl.n, 1);
	if (tl.n == 1)
		CHECK_INT(tl.points[0].processes, 2);
	free(tl.points);
	sc__sampler_free(sm);
	kill(-pid, SIGKILL);
	sc__exit ex;
	CHECK_INT(sc__spawner_finish(s, &ex, NULL), 0);
	unlink(pidfile);
	sc__spawner_free(s);
}

/* A root that is gone gives no point and no error; bad arguments are refused. */
static void test_gone_and_invalid(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	sc__sampler *sm = NULL;
	CHECK_INT(sc__sampler_new(pid, 0, 10, &sm), 0);
	sc__sampler_tick(sm, 10 * MS);
	CHECK_INT(sc__sampler_max_hwm_kb(sm), -1);
	timeline tl;
	sc__sampler_take(sm, &tl.points, &tl.n, &tl.interval_s);
	CHECK_INT(tl.n, 0);
	CHECK(tl.points == NULL);
	sc__sampler_free(sm);
	sc__sampler_free(NULL);
	CHECK_INT(sc__sampler_new(0, 0, 10, &sm), SC_EINVAL);
	CHECK_INT(sc__sampler_new(getpid(), 0, 1, &sm), SC_EINVAL);
}

/* What one tick costs on a one-process tree (printed, not asserted: timing is the machine's). */
static void measure_tick_cost(void)
{
	sc__spawner *s = new_spawner();
	char *hang[] = {target("hang"), NULL};
	pid_t pid = start(s, hang);
	sc__sampler *sm = NULL;
	CHECK_INT(sc__sampler_new(pid, 0, 100000, &sm), 0);
	enum { TICKS = 2000 };
	uint64_t t0 = sc__now_ns();
	for (int i = 0; i < TICKS; i++)
		sc__sampler_tick(sm, sc__sampler_due_ns(sm));
	double us = (double)(sc__now_ns() - t0) / 1e3 / TICKS;
	printf("sampler tick on a one-process tree: %.1f us\n", us);
	sc__sampler_free(sm);
	kill(-pid, SIGKILL);
	sc__exit ex;
	CHECK_INT(sc__spawner_finish(s, &ex, NULL), 0);
	sc__spawner_free(s);
}

int main(void)
{
	if (targets_setup("test_sampler"))
		return 1;
	test_adaptive();
	test_gone_and_invalid();
	test_merge_exact();
	test_tree();
	test_growing_memory();
	test_busy_cpu();
	measure_tick_cost();
	targets_teardown(NULL, 0);
	return CHECK_DONE();
}

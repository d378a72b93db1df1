/* test_command.c: sc_command_profile on real commands: runs, failures, timeouts, output, memory. */
#define _GNU_SOURCE
#include "check.h"
#include "internal.h"
#include "targets.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Options for argv with exactly `runs` timed runs, no timeline and no heap run: the fast default
 * here (tests/cli/test_heap.sh covers the heap run). */
static sc_command_options opts(char **argv, size_t runs)
{
	return (sc_command_options){.argv = argv,
	                            .runs = runs,
	                            .no_timeline = true,
	                            .no_heap = true,
	                            .no_cpu_samples = true};
}

static void test_exact_runs(void)
{
	char *argv[] = {target("exit_with"), "0", NULL};
	sc_command_options o = opts(argv, 3);
	o.n_samples = 10;
	sc_profile p;
	sc_command_failure f;
	CHECK_INT(sc_command_profile(&o, &p, &f), 0);
	CHECK_INT(p.n_runs, 3);
	CHECK_STR(p.kind, "command");
	char expected[4200];
	snprintf(expected, sizeof expected, "%s 0", argv[0]);
	CHECK_STR(p.name, expected);
	CHECK_STR(p.command, expected);
	CHECK_INT(p.n_samples, 10);
	CHECK_INT(p.n_warmup, 0);
	for (size_t i = 0; i < p.n_runs; i++) {
		CHECK_INT(p.runs[i].exit_code, 0);
		CHECK_INT(p.runs[i].signal, 0);
		CHECK(!p.runs[i].timed_out);
		CHECK(p.runs[i].wall_s > 0);
		CHECK(p.runs[i].peak_rss_mb > 0);
		CHECK(p.runs[i].minor_faults > 0);
	}
	/* Derived from the runs (profile.c): the summary covers all three. */
	CHECK_INT(p.total_time.n, 3);
	CHECK_NEAR(p.avg_time_per_sample, p.total_time.mean / 10, 1e-15);
	/* A command did not exist before it ran: baseline 0, the increase is the peak. */
	CHECK_NEAR(p.memory.baseline_memory_mb, 0, 0);
	CHECK(p.memory.peak_reset);
	CHECK_NEAR(p.memory.memory_increase_mb, p.memory.peak_memory_mb, 0);
	double peak = 0;
	for (size_t i = 0; i < p.n_runs; i++)
		peak = p.runs[i].peak_rss_mb > peak ? p.runs[i].peak_rss_mb : peak;
	CHECK_NEAR(p.memory.peak_memory_mb, peak, 0);
	CHECK(p.timeline == NULL && p.n_timeline == 0);
	sc_profile_release(&p);
}

static void test_auto_runs(void)
{
	sc_profile p;
	/* No time to fill: exactly min_runs. */
	char *quick[] = {target("exit_with"), "0", NULL};
	sc_command_options o = opts(quick, 0);
	o.min_runs = 4;
	o.min_time_s = 0;
	CHECK_INT(sc_command_profile(&o, &p, NULL), 0);
	CHECK_INT(p.n_runs, 4);
	sc_profile_release(&p);

	/* Time that is never filled: max_runs stops it. */
	o.min_runs = 0;
	o.max_runs = 3;
	o.min_time_s = 1000;
	CHECK_INT(sc_command_profile(&o, &p, NULL), 0);
	CHECK_INT(p.n_runs, 3);
	sc_profile_release(&p);

	/* Time fills first: every run sleeps at least 100 ms, so 0.25 s has passed after the 3rd
	 * run at the latest; min_runs 2 makes at least 2. */
	char *nap[] = {target("sleep_ms"), "100", NULL};
	o = opts(nap, 0);
	o.min_runs = 2;
	o.min_time_s = 0.25;
	CHECK_INT(sc_command_profile(&o, &p, NULL), 0);
	CHECK(p.n_runs >= 2 && p.n_runs <= 3);
	for (size_t i = 0; i < p.n_runs; i++)
		CHECK(p.runs[i].wall_s >= 0.1);
	sc_profile_release(&p);

	/* Inconsistent bounds are refused. */
	o.min_runs = 5;
	o.max_runs = 2;
	CHECK_INT(sc_command_profile(&o, &p, NULL), SC_EINVAL);
}

/* What progress reported, in order. */
typedef struct progress_log {
	char text[512];
} progress_log;

static void log_progress(void *ctx, const sc_progress *pr)
{
	progress_log *log = ctx;
	size_t len = strlen(log->text);
	snprintf(log->text + len, sizeof log->text - len, "%s%s %zu/%zu", len ? ", " : "",
	         pr->phase, pr->index, pr->planned);
}

static void test_warmup_progress_timeline(void)
{
	char *argv[] = {target("sleep_ms"), "30", NULL};
	sc_command_options o = opts(argv, 2);
	o.warmup = 2;
	o.no_timeline = false;
	progress_log log = {{0}};
	o.progress = log_progress;
	o.progress_ctx = &log;
	sc_profile p;
	CHECK_INT(sc_command_profile(&o, &p, NULL), 0);
	CHECK_INT(p.n_warmup, 2);
	CHECK_INT(p.n_runs, 2);
	CHECK_STR(log.text, "warmup 0/2, warmup 1/2, run 0/2, run 1/2, timeline 0/1");
	/* 30 ms sampled every 10 ms: at least one point (a loaded machine may wake us late). */
	CHECK(p.n_timeline >= 1 && p.timeline != NULL);
	CHECK_NEAR(p.timeline_interval_s, 0.01, 1e-12);
	for (size_t i = 0; i < p.n_timeline; i++)
		CHECK(p.timeline[i].rss_mb > 0 && p.timeline[i].processes == 1);
	sc_profile_release(&p);
}

static void test_failures(void)
{
	sc_profile p;
	sc_command_failure f;
	char *two[] = {target("exit_with"), "2", NULL};
	sc_command_options o = opts(two, 3);
	CHECK_INT(sc_command_profile(&o, &p, &f), SC_ECOMMAND);
	CHECK_STR(f.phase, "run");
	CHECK_INT(f.run_index, 0);
	CHECK_INT(f.exit_code, 2);
	CHECK_INT(f.signal, 0);
	CHECK(!f.timed_out);
	char expected[4300];
	snprintf(expected, sizeof expected, "run 1 of '%s 2' exited with code 2", two[0]);
	CHECK_STR(f.message, expected);
	/* The failed run is kept, and the profile is filled as far as it goes. */
	CHECK_INT(p.n_runs, 1);
	CHECK_STR(p.kind, "command");
	sc_profile_release(&p);

	char *segv[] = {target("exit_with"), "-11", NULL};
	o = opts(segv, 3);
	o.warmup = 1;
	CHECK_INT(sc_command_profile(&o, &p, &f), SC_ECOMMAND);
	CHECK_STR(f.phase, "warmup");
	CHECK_INT(f.exit_code, -1);
	CHECK_INT(f.signal, SIGSEGV);
	snprintf(expected, sizeof expected, "warm-up run 1 of '%s -11' was killed by SIGSEGV",
	         segv[0]);
	CHECK_STR(f.message, expected);
	CHECK_INT(p.n_runs, 0);
	sc_profile_release(&p);

	/* ignore_failure: every run happens and stays in the profile. */
	char *three[] = {target("exit_with"), "3", NULL};
	o = opts(three, 2);
	o.ignore_failure = true;
	o.no_timeline = false;
	CHECK_INT(sc_command_profile(&o, &p, &f), 0);
	CHECK_INT(p.n_runs, 2);
	for (size_t i = 0; i < p.n_runs; i++)
		CHECK_INT(p.runs[i].exit_code, 3);
	sc_profile_release(&p);

	char *missing[] = {"shotclock-no-such-command", NULL};
	o = opts(missing, 1);
	CHECK_INT(sc_command_profile(&o, &p, &f), SC_ENOTFOUND);
	CHECK_INT(f.sys_errno, ENOENT);
	CHECK_STR(f.message, "command not found: 'shotclock-no-such-command'");
	CHECK(p.name == NULL && p.runs == NULL);

	char *dir[] = {scratch, NULL};
	o = opts(dir, 1);
	CHECK_INT(sc_command_profile(&o, &p, &f), SC_ENOEXEC);
	CHECK_INT(f.sys_errno, EACCES);

	o = opts(two, 1);
	o.spawner_path = "/nonexistent/shotclock-spawner";
	CHECK_INT(sc_command_profile(&o, &p, &f), SC_ESPAWN);
	CHECK(strstr(f.message, "shotclock-spawner") != NULL);
}

static void test_invalid_options(void)
{
	sc_profile p;
	char *empty[] = {NULL};
	char *blank[] = {"", NULL};
	char *ok[] = {target("exit_with"), "0", NULL};
	sc_command_options o = opts(empty, 1);
	CHECK_INT(sc_command_profile(&o, &p, NULL), SC_EINVAL);
	o = opts(blank, 1);
	CHECK_INT(sc_command_profile(&o, &p, NULL), SC_EINVAL);
	o = opts(NULL, 1);
	CHECK_INT(sc_command_profile(&o, &p, NULL), SC_EINVAL);
	o = opts(ok, 1);
	o.output = SC_OUTPUT_FILE;
	CHECK_INT(sc_command_profile(&o, &p, NULL), SC_EINVAL);
	o = opts(ok, 1);
	o.timeout_s = -1;
	CHECK_INT(sc_command_profile(&o, &p, NULL), SC_EINVAL);
	o.timeout_s = NAN;
	CHECK_INT(sc_command_profile(&o, &p, NULL), SC_EINVAL);
	CHECK_INT(sc_command_profile(NULL, &p, NULL), SC_EINVAL);
	CHECK_INT(sc_command_profile(&o, NULL, NULL), SC_EINVAL);
	o = opts(ok, 1);
	o.output = SC_OUTPUT_FILE;
	o.output_path = "/nonexistent/dir/out.txt";
	sc_command_failure f;
	CHECK_INT(sc_command_profile(&o, &p, &f), SC_EIO);
	CHECK_INT(f.sys_errno, ENOENT);
}

/* sc_command_profile in a thread, so the test can look at the processes while it runs. */
typedef struct profile_job {
	sc_command_options o;
	sc_profile p;
	sc_command_failure f;
	int rc;
} profile_job;

static void *profile_thread(void *arg)
{
	profile_job *job = arg;
	job->rc = sc_command_profile(&job->o, &job->p, &job->f);
	return NULL;
}

/* A timeout kills the whole process group, grandchild included, and nothing is left behind,
 * not even a zombie (kill(pid, 0) succeeds on a zombie). */
static void test_timeout(void)
{
	char *pidfile = scratch_path("grandchild.pid");
	unlink(pidfile);
	char *argv[] = {target("hang"), "--grandchild", pidfile, NULL};
	profile_job job = {.o = opts(argv, 2)};
	job.o.timeout_s = 0.3;
	pthread_t thread;
	CHECK_INT(pthread_create(&thread, NULL, profile_thread, &job), 0);
	pid_t grandchild = -1, child = -1;
	for (int i = 0; i < 500 && grandchild <= 0; i++) {
		char text[32];
		if (sc__read_text_file(pidfile, text, sizeof text, NULL) == 0)
			grandchild = atoi(text);
		else
			sleep_ms(5);
	}
	/* The grandchild stays in the child's process group, whose id is the child's pid. */
	if (grandchild > 0)
		child = getpgid(grandchild);
	pthread_join(thread, NULL);
	CHECK(grandchild > 0 && child > 0 && child != grandchild);
	CHECK_INT(job.rc, SC_ECOMMAND);
	CHECK(job.f.timed_out);
	CHECK_STR(job.f.phase, "run");
	CHECK_INT(job.f.signal, SIGKILL);
	char expected[4400];
	snprintf(expected, sizeof expected,
	         "run 1 of '%s --grandchild %s' timed out after 0.3 s and was killed with its "
	         "process group",
	         argv[0], pidfile);
	CHECK_STR(job.f.message, expected);
	CHECK_INT(job.p.n_runs, 1);
	CHECK(job.p.runs && job.p.runs[0].timed_out && job.p.runs[0].wall_s >= 0.3);
	/* The spawner reaps the group before it reports the exit, so both are gone already; the
	 * bounded wait only guards against a slow machine. */
	bool child_gone = false, grandchild_gone = false;
	for (int i = 0; i < 100 && !(child_gone && grandchild_gone); i++) {
		child_gone = child > 0 && kill(child, 0) < 0 && errno == ESRCH;
		grandchild_gone = grandchild > 0 && kill(grandchild, 0) < 0 && errno == ESRCH;
		if (!(child_gone && grandchild_gone))
			sleep_ms(10);
	}
	CHECK(child_gone);
	CHECK(grandchild_gone);
	sc_profile_release(&job.p);
	unlink(pidfile);
}

/* Output goes straight from the command to its target: 1 GiB to /dev/null does not pass through
 * us, so our own peak RSS barely moves. */
static void test_flood(void)
{
	int64_t rss0, hwm0, rss1, hwm1;
	CHECK_INT(sc__self_rss(&rss0, &hwm0), 0);
	char *argv[] = {target("flood"), "1073741824", NULL};
	sc_command_options o = opts(argv, 1);
	sc_profile p;
	CHECK_INT(sc_command_profile(&o, &p, NULL), 0);
	CHECK_INT(sc__self_rss(&rss1, &hwm1), 0);
	CHECK(hwm1 - hwm0 < 16 * 1024);
	CHECK_INT(p.n_runs, 1);
	CHECK_INT(p.runs[0].exit_code, 0);
	sc_profile_release(&p);
}

static void test_output_file_and_shell(void)
{
	/* Truncated once; every run (warm-up included) then writes after the one before. */
	char *out = scratch_path("out.txt");
	FILE *old = fopen(out, "w");
	CHECK(old && fputs("stale content\n", old) >= 0);
	fclose(old);
	char *argv[] = {target("print_args"), "hello", "a b", NULL};
	sc_command_options o = opts(argv, 2);
	o.warmup = 1;
	o.output = SC_OUTPUT_FILE;
	o.output_path = out;
	sc_profile p;
	CHECK_INT(sc_command_profile(&o, &p, NULL), 0);
	CHECK_STR(read_file(out), "hello\na b\nhello\na b\nhello\na b\n");
	char expected[4200];
	snprintf(expected, sizeof expected, "%s hello 'a b'", argv[0]);
	CHECK_STR(p.command, expected);
	sc_profile_release(&p);

	/* With shell, argv[0] is shell text and the rest are $0, $1; stderr goes to the file too.
	 */
	char *sh[] = {"printf '%s|%s\\n' \"$0\" \"$1\"; echo oops >&2", "x y", "it's", NULL};
	o = opts(sh, 1);
	o.shell = true;
	o.output = SC_OUTPUT_FILE;
	o.output_path = out;
	o.name = "shell test";
	CHECK_INT(sc_command_profile(&o, &p, NULL), 0);
	CHECK_STR(read_file(out), "x y|it's\noops\n");
	CHECK_STR(p.name, "shell test");
	CHECK_STR(p.command, "printf '%s|%s\\n' \"$0\" \"$1\"; echo oops >&2 'x y' 'it'\\''s'");
	sc_profile_release(&p);
	unlink(out);
}

/* The peak is the command's own (see test_spawn for the contrast without the spawner). */
static void test_memory(void)
{
	char *argv[] = {target("touch_mb"), "50", NULL};
	sc_command_options o = opts(argv, 2);
	o.no_timeline = false;
	sc_profile p;
	CHECK_INT(sc_command_profile(&o, &p, NULL), 0);
	/* 50 MiB touched, plus the program's base of about 1 MiB; 5% of 50 MiB covers the base
	 * and the kernel's approximate per-cpu RSS counters. */
	CHECK_NEAR(p.memory.peak_memory_mb, 51, 0.05 * 50);
	CHECK_NEAR(p.memory.memory_increase_mb, p.memory.peak_memory_mb, 0);
	/* The spawner's own peak is far below this command's, so the figure is not a bound. */
	for (size_t i = 0; i < p.n_unavailable; i++)
		CHECK(strcmp(p.unavailable[i].field, "memory.peak_memory_mb") != 0);
	sc_profile_release(&p);

	/* A command smaller than the spawner (here the static spawner itself, which exits 2 at
	 * once without its arguments) gets at least the spawner's peak from exec: the figure is
	 * only an upper bound, and the profile says so. */
	char *tiny[] = {getenv("SHOTCLOCK_SPAWNER"), NULL};
	o = opts(tiny, 1);
	o.ignore_failure = true;
	CHECK_INT(sc_command_profile(&o, &p, NULL), 0);
	CHECK_INT(p.runs[0].exit_code, 2);
	bool bound = false;
	for (size_t i = 0; i < p.n_unavailable; i++)
		bound |= strcmp(p.unavailable[i].field, "memory.peak_memory_mb") == 0 &&
		         strstr(p.unavailable[i].reason, "upper bound") != NULL;
	CHECK(bound);
	sc_profile_release(&p);
}

/* The heap run comes last, under the shim (SHOTCLOCK_HEAP_SHIM, set by ctest), and is reported
 * in progress; --no-heap says why there is no heap profile. tests/cli/test_heap.sh checks the
 * figures. */
static void test_heap_run(void)
{
	char *argv[] = {target("heap_counts"), NULL};
	sc_command_options o = opts(argv, 2);
	o.no_heap = false;
	o.n_samples = 3;
	progress_log log = {{0}};
	o.progress = log_progress;
	o.progress_ctx = &log;
	sc_profile p;
	CHECK_INT(sc_command_profile(&o, &p, NULL), 0);
	CHECK_STR(log.text, "run 0/2, run 1/2, heap 0/1");
	CHECK(p.heap.available);
	CHECK(p.heap.complete);
	CHECK_INT(p.heap.allocations, 9);
	CHECK_NEAR(p.heap.allocations_per_sample, 3, 0);
	CHECK(p.heap.run_wall_s > 0 && p.heap.slowdown > 0 && p.heap.run_peak_rss_mb > 0);
	CHECK_INT(p.n_runs, 2); /* the heap run is not a timed run */
	sc_profile_release(&p);

	o = opts(argv, 1);
	CHECK_INT(sc_command_profile(&o, &p, NULL), 0);
	CHECK(!p.heap.available);
	CHECK_STR(p.heap.reason, "not measured (--no-heap)");
	sc_profile_release(&p);

	/* A shim that is not there: unavailable with the reason, and the profile stands. */
	o = opts(argv, 1);
	o.no_heap = false;
	o.heap_shim_path = "/nonexistent/libshotclock-heap.so";
	CHECK_INT(sc_command_profile(&o, &p, NULL), 0);
	CHECK(!p.heap.available && p.heap.reason[0]);
	CHECK_INT(p.n_runs, 1);
	sc_profile_release(&p);
}

int main(void)
{
	if (targets_setup("test_command"))
		return 1;
	test_invalid_options();
	test_exact_runs();
	test_auto_runs();
	test_warmup_progress_timeline();
	test_failures();
	test_timeout();
	test_flood();
	test_output_file_and_shell();
	test_memory();
	test_heap_run();
	targets_teardown(NULL, 0);
	return CHECK_DONE();
}

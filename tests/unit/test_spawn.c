/* test_spawn.c: the spawner helper and its client, with real processes (the targets). */
#define _GNU_SOURCE
#include "check.h"
#include "internal.h"
#include "targets.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MIB (1024 * 1024)

static sc__spawner *new_spawner(int stdout_fd)
{
	sc__spawner *s = NULL;
	int rc = sc__spawner_new(NULL, stdout_fd, -1, &s);
	CHECK_INT(rc, 0);
	if (rc) {
		fprintf(stderr, "cannot start the spawner; is SHOTCLOCK_SPAWNER set?\n");
		exit(1);
	}
	return s;
}

/* Starts argv and waits for it; returns the start's code. */
static int run(sc__spawner *s, char *const argv[], sc__exit *ex)
{
	pid_t pid;
	int err;
	int rc = sc__spawner_start(s, argv, NULL, &pid, &err);
	if (rc == 0)
		CHECK_INT(sc__spawner_finish(s, ex, NULL), 0);
	return rc;
}

static void test_exit_status(void)
{
	sc__spawner *s = new_spawner(-1);
	sc__exit ex;
	char *ok[] = {target("exit_with"), "0", NULL};
	CHECK_INT(run(s, ok, &ex), 0);
	CHECK(WIFEXITED(ex.status) && WEXITSTATUS(ex.status) == 0);
	CHECK(ex.wall_ns > 0);
	CHECK(ex.ru.ru_maxrss > 0);

	char *seven[] = {target("exit_with"), "7", NULL};
	CHECK_INT(run(s, seven, &ex), 0);
	CHECK(WIFEXITED(ex.status));
	CHECK_INT(WEXITSTATUS(ex.status), 7);

	char *segv[] = {target("exit_with"), "-11", NULL};
	CHECK_INT(run(s, segv, &ex), 0);
	CHECK(WIFSIGNALED(ex.status));
	CHECK_INT(WTERMSIG(ex.status), SIGSEGV);

	/* A sleep of 50 ms is timed by the spawner's CLOCK_MONOTONIC and takes at least that. */
	char *nap[] = {target("sleep_ms"), "50", NULL};
	CHECK_INT(run(s, nap, &ex), 0);
	CHECK(ex.wall_ns >= 50000000u);
	sc__spawner_free(s);
}

static void test_exec_errors(void)
{
	sc__spawner *s = new_spawner(-1);
	pid_t pid;
	int err;
	char *missing[] = {"shotclock-no-such-command", NULL};
	CHECK_INT(sc__spawner_start(s, missing, NULL, &pid, &err), SC_ENOTFOUND);
	CHECK_INT(err, ENOENT);
	char *missing_path[] = {"/nonexistent/dir/command", NULL};
	CHECK_INT(sc__spawner_start(s, missing_path, NULL, &pid, &err), SC_ENOTFOUND);

	/* No execute bit: EACCES even for root, who may execute a file only with some x bit. */
	int fd = open(scratch_path("plain"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && write(fd, "#!/bin/sh\n", 10) == 10);
	close(fd);
	char *plain[] = {scratch_path("plain"), NULL};
	CHECK_INT(sc__spawner_start(s, plain, NULL, &pid, &err), SC_ENOEXEC);
	CHECK_INT(err, EACCES);

	/* Executable but neither ELF nor #!: posix_spawn does not fall back to /bin/sh. */
	fd = open(scratch_path("garbage"), O_WRONLY | O_CREAT | O_TRUNC, 0755);
	CHECK(fd >= 0 && write(fd, "\x01\x02\x03\x04garbage", 11) == 11);
	close(fd);
	char *garbage[] = {scratch_path("garbage"), NULL};
	CHECK_INT(sc__spawner_start(s, garbage, NULL, &pid, &err), SC_ENOEXEC);
	CHECK_INT(err, ENOEXEC);

	/* After every failure the spawner still serves requests. */
	sc__exit ex;
	char *ok[] = {target("exit_with"), "3", NULL};
	CHECK_INT(run(s, ok, &ex), 0);
	CHECK_INT(WEXITSTATUS(ex.status), 3);
	sc__spawner_free(s);
}

/* Without a pid to report, the spawner replies once, at the end: a command that ran, or one that
 * never started; and freeing the spawner mid-run still ends the command (its pid unknown to us). */
static void test_start_without_pid(void)
{
	sc__spawner *s = new_spawner(-1);
	sc__exit ex;
	int err;
	char *ok[] = {target("exit_with"), "7", NULL};
	CHECK_INT(sc__spawner_start(s, ok, NULL, NULL, &err), 0);
	CHECK_INT(sc__spawner_finish(s, &ex, &err), 0);
	CHECK(WIFEXITED(ex.status) && WEXITSTATUS(ex.status) == 7);

	char *missing[] = {"shotclock-no-such-command", NULL};
	CHECK_INT(sc__spawner_start(s, missing, NULL, NULL, &err), 0);
	CHECK_INT(sc__spawner_finish(s, &ex, &err), SC_ENOTFOUND);
	CHECK_INT(err, ENOENT);
	CHECK(!sc__spawner_lost(s));

	/* A second start before the first finished is refused. */
	char *hang[] = {target("hang"), "--grandchild", scratch_path("nopid.pid"), NULL};
	CHECK_INT(sc__spawner_start(s, hang, NULL, NULL, &err), 0);
	CHECK_INT(sc__spawner_start(s, ok, NULL, NULL, &err), SC_EINVAL);
	pid_t grandchild = read_pid_file(scratch_path("nopid.pid"));
	CHECK(grandchild > 0);
	pid_t child = grandchild > 0 ? getpgid(grandchild) : -1;
	sc__spawner_free(s);
	CHECK(child > 0 && gone(child));
	CHECK(grandchild > 0 && gone(grandchild));
}

static void test_process_group(void)
{
	sc__spawner *s = new_spawner(-1);
	pid_t pid;
	int err;
	char *hang[] = {target("hang"), NULL};
	CHECK_INT(sc__spawner_start(s, hang, NULL, &pid, &err), 0);
	CHECK_INT(getpgid(pid), pid);
	CHECK(getpgid(pid) != getpgid(0));
	/* Nothing to read while the child runs. */
	struct pollfd pfd = {.fd = sc__spawner_fd(s), .events = POLLIN};
	CHECK_INT(poll(&pfd, 1, 0), 0);
	CHECK_INT(kill(-pid, SIGKILL), 0);
	sc__exit ex;
	CHECK_INT(sc__spawner_finish(s, &ex, NULL), 0);
	CHECK(WIFSIGNALED(ex.status) && WTERMSIG(ex.status) == SIGKILL);
	/* The spawner reaped it before replying. */
	CHECK(kill(pid, 0) < 0 && errno == ESRCH);
	sc__spawner_free(s);
}

static void test_verbatim(void)
{
	int fd = open(scratch_path("out"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	sc__spawner *s = new_spawner(fd);
	close(fd);
	sc__exit ex;
	char *args[] = {
	    target("print_args"), "a b", "$HOME", "*", "'q'\"", "", "x;y|z&", "\\n", NULL};
	CHECK_INT(run(s, args, &ex), 0);
	CHECK_INT(WEXITSTATUS(ex.status), 0);

	/* The environment is the one given, and stdin is /dev/null (cat reads end of file). */
	char *env[] = {"SC_TEST_VAR=a b;c", NULL};
	char *sh[] = {"/bin/sh", "-c", "printf '%s|%s\\n' \"$SC_TEST_VAR\" \"$HOME\"; cat", NULL};
	pid_t pid;
	int err;
	CHECK_INT(sc__spawner_start(s, sh, env, &pid, &err), 0);
	CHECK_INT(sc__spawner_finish(s, &ex, NULL), 0);
	CHECK_INT(WEXITSTATUS(ex.status), 0);
	sc__spawner_free(s);
	CHECK_STR(read_file(scratch_path("out")), "a b\n$HOME\n*\n'q'\"\n\nx;y|z&\n\\n\na b;c|\n");
}

/* The command sees the signal dispositions we had: an ignored SIGHUP stays ignored, nothing is
 * blocked, and no other signal is ignored. /proc/PID/status SigIgn and SigBlk are hex masks with
 * bit (signal - 1). Only the standard signals 1..31 are compared: glibc's posix_spawn (2.36)
 * leaves its two internal real-time signals 32 and 33 ignored in every program it starts, which
 * glibc programs override when they use them (docs/spawner-protocol.md). */
#define STANDARD_SIGNALS 0x7fffffffull
static unsigned long long sig_mask(const char *status, const char *field)
{
	const char *line = strstr(status, field);
	CHECK(line != NULL);
	return line ? strtoull(line + strlen(field), NULL, 16) : ~0ull;
}

static void test_signal_dispositions(void)
{
	/* What we ignore, with SIGHUP added (whoever started us may have had others ignored). */
	signal(SIGHUP, SIG_IGN);
	unsigned long long ignored = sig_mask(read_file("/proc/self/status"), "SigIgn:");
	CHECK(ignored & 1ull << (SIGHUP - 1));
	sc__spawner *s = new_spawner(-1);
	signal(SIGHUP, SIG_DFL);
	pid_t pid;
	int err;
	char *hang[] = {target("hang"), NULL};
	CHECK_INT(sc__spawner_start(s, hang, NULL, &pid, &err), 0);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	const char *status = read_file(path);
	CHECK_INT(sig_mask(status, "SigIgn:") & STANDARD_SIGNALS, ignored & STANDARD_SIGNALS);
	CHECK_INT(sig_mask(status, "SigBlk:"), 0);
	kill(-pid, SIGKILL);
	sc__exit ex;
	CHECK_INT(sc__spawner_finish(s, &ex, NULL), 0);
	sc__spawner_free(s);
}

/* A spawner that dies turns into SC_ESPAWN, not into a SIGPIPE that kills us. */
static void test_spawner_death(void)
{
	sc__spawner *s = new_spawner(-1);
	CHECK_INT(kill(sc__spawner_pid(s), SIGKILL), 0);
	sleep_ms(50);
	pid_t pid;
	int err;
	char *ok[] = {target("exit_with"), "0", NULL};
	CHECK_INT(sc__spawner_start(s, ok, NULL, &pid, &err), SC_ESPAWN);
	CHECK(err == EPIPE || err == ECONNRESET);
	sc__spawner_free(s);
}

/* SIGTERM (or SIGINT, SIGHUP) to the spawner kills and reaps the running command's whole group
 * before the spawner exits. */
static void test_terminate_kills_group(void)
{
	sc__spawner *s = new_spawner(-1);
	unlink(scratch_path("term.pid"));
	pid_t pid;
	int err;
	char *hang[] = {target("hang"), "--grandchild", scratch_path("term.pid"), NULL};
	CHECK_INT(sc__spawner_start(s, hang, NULL, &pid, &err), 0);
	pid_t grandchild = read_pid_file(scratch_path("term.pid"));
	CHECK(grandchild > 0);
	int status;
	CHECK_INT(kill(sc__spawner_pid(s), SIGTERM), 0);
	CHECK_INT(waitpid(sc__spawner_pid(s), &status, 0), sc__spawner_pid(s));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGTERM);
	/* Gone by the time the spawner has exited: no waiting, no zombie. */
	CHECK(kill(pid, 0) < 0 && errno == ESRCH);
	CHECK(grandchild > 0 && kill(grandchild, 0) < 0 && errno == ESRCH);
	sc__exit ex;
	CHECK_INT(sc__spawner_finish(s, &ex, NULL), SC_ESPAWN);
	sc__spawner_free(s);
}

/* The profiler dying (here a forked stand-in, killed by SIGKILL) makes the spawner's
 * PR_SET_PDEATHSIG fire, and the command's group dies with it. We are a subreaper meanwhile, so
 * the orphaned spawner is reparented to us and we see how it ended. */
static void test_profiler_death(void)
{
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	unlink(scratch_path("death.pid"));
	pid_t profiler = fork();
	if (profiler == 0) {
		sc__spawner *s = NULL;
		pid_t pid;
		int err;
		char *hang[] = {target("hang"), "--grandchild", scratch_path("death.pid"), NULL};
		if (sc__spawner_new(NULL, -1, -1, &s) == 0)
			sc__spawner_start(s, hang, NULL, &pid, &err);
		for (;;)
			pause();
	}
	pid_t grandchild = read_pid_file(scratch_path("death.pid"));
	CHECK(grandchild > 0);
	pid_t child = grandchild > 0 ? getpgid(grandchild) : -1;
	CHECK(child > 0);
	kill(profiler, SIGKILL);
	waitpid(profiler, NULL, 0);
	/* The spawner exits through its handler, 128 + SIGTERM, after reaping the group. */
	int status;
	CHECK(waitpid(-1, &status, 0) > 0 && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 128 + SIGTERM);
	CHECK(child > 0 && gone(child));
	CHECK(grandchild > 0 && gone(grandchild));
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

/* Sends raw bytes to a spawner started by hand; returns the reply's kind and value. */
static void raw_exchange(int request, int reply, const void *bytes, size_t n, int *kind, int *value)
{
	CHECK((size_t)send(request, bytes, n, MSG_NOSIGNAL) == n);
	unsigned char r[96];
	size_t got = 0;
	while (got < sizeof r) {
		ssize_t k = read(reply, r + got, sizeof r - got);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	CHECK_INT(got, sizeof r);
	uint16_t kind16;
	int32_t value32;
	memcpy(&kind16, r + 6, 2);
	memcpy(&value32, r + 8, 4);
	*kind = kind16;
	*value = value32;
}

/* The request format of docs/spawner-protocol.md, and the spawner's answers to bad requests. */
static void test_protocol(void)
{
	int req[2], rep[2];
	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, req), 0);
	CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, rep), 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, req[1], 3);
	posix_spawn_file_actions_adddup2(&fa, rep[1], 4);
	char me[24];
	snprintf(me, sizeof me, "%d", (int)getpid());
	char *argv[] = {getenv("SHOTCLOCK_SPAWNER"), me, NULL};
	pid_t spawner;
	CHECK_INT(posix_spawn(&spawner, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(req[1]);
	close(rep[1]);

	/* magic "SCSQ", version 1, flags 0, argc, envc, total length; then the strings. A body
	 * whose strings do not match argc + envc is refused with EINVAL, and the next request is
	 * served. */
	struct {
		uint32_t magic;
		uint16_t version, flags;
		uint32_t argc, envc, length;
		char body[8];
	} msg = {0x51534353u, 1, 0, 2, 0, 20 + 8, "ab\0cdefg"};
	int kind, value;
	raw_exchange(req[0], rep[0], &msg, sizeof msg, &kind, &value);
	CHECK_INT(kind, 2);
	CHECK_INT(value, EINVAL);

	/* A good request (argv {"/nonexistent"}, no environment) is served: ENOENT from exec. */
	char good[20 + 13];
	memcpy(good, &msg, 20);
	uint32_t argc = 1, length = sizeof good;
	memcpy(good + 8, &argc, 4);
	memcpy(good + 16, &length, 4);
	memcpy(good + 20, "/nonexistent", 13);
	raw_exchange(req[0], rep[0], good, sizeof good, &kind, &value);
	CHECK_INT(kind, 2);
	CHECK_INT(value, ENOENT);

	/* A bad magic number: the stream cannot be followed any more, so EPROTO and exit 2. */
	msg.magic = 0x12345678;
	raw_exchange(req[0], rep[0], &msg, sizeof msg, &kind, &value);
	CHECK_INT(kind, 2);
	CHECK_INT(value, EPROTO);
	int status;
	CHECK_INT(waitpid(spawner, &status, 0), spawner);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	close(req[0]);
	close(rep[0]);
}

/* Memory of this process, resident: every page written. */
static char *touch(size_t bytes)
{
	char *p = malloc(bytes);
	CHECK(p != NULL);
	if (p)
		memset(p, 0x5a, bytes);
	return p;
}

/* The peak RSS the spawner reports is the command's own, not ours. */
static void test_peak_rss_is_the_commands(void)
{
	char *big = touch((size_t)256 * MIB);
	char *small[] = {target("touch_mb"), "8", NULL};

	/* The contrast: a plain posix_spawn from this 256-MiB process. glibc's posix_spawn clones
	 * with CLONE_VM, so the child's exec folds our mm's peak into its maxrss. */
	pid_t pid;
	CHECK_INT(posix_spawn(&pid, small[0], NULL, NULL, small, environ), 0);
	int status;
	struct rusage ru;
	CHECK_INT(wait4(pid, &status, 0, &ru), pid);
	CHECK(ru.ru_maxrss >= 256 * 1024);

	/* Through the spawner (started after the 256 MiB were touched): the command's own peak,
	 * 8 MiB plus its program (about 1 MiB). 64 MiB is far below 256 and far above 9. */
	sc__spawner *s = new_spawner(-1);
	sc__exit ex;
	CHECK_INT(run(s, small, &ex), 0);
	CHECK(ex.ru.ru_maxrss < 64 * 1024);
	CHECK(ex.ru.ru_maxrss >= 8 * 1024);
	long small_kb = ex.ru.ru_maxrss;

	/* 100 MiB touched: the peak is 100 MiB plus the program's base RSS (libc, loader, stack),
	 * measured with touch_mb 0. What can differ between the two runs is a few pages of libc
	 * and malloc's bookkeeping for one mmap'ed block, well inside 5% of 100 MiB. */
	char *zero[] = {target("touch_mb"), "0", NULL};
	CHECK_INT(run(s, zero, &ex), 0);
	long base_kb = ex.ru.ru_maxrss;
	char *hundred[] = {target("touch_mb"), "100", NULL};
	CHECK_INT(run(s, hundred, &ex), 0);
	CHECK_NEAR(ex.ru.ru_maxrss, 100 * 1024 + base_kb, 0.05 * 100 * 1024);
	printf("peak RSS of touch_mb 8: %ld kB by plain posix_spawn, %ld kB via the spawner; "
	       "touch_mb 0: %ld kB, touch_mb 100: %ld kB\n",
	       ru.ru_maxrss, small_kb, base_kb, ex.ru.ru_maxrss);

	/* The spawner's own peak stays small (static, no malloc): the floor under every figure. */
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", (int)sc__spawner_pid(s));
	sc__proc_status st;
	CHECK_INT(sc__parse_proc_status(read_file(path), &st), 0);
	CHECK(st.vm_hwm_kb > 0 && st.vm_hwm_kb < base_kb);
	printf("spawner VmHWM %lld kB\n", (long long)st.vm_hwm_kb);
	sc__spawner_free(s);
	big[0] ^= 1;
	free(big);
}

static void test_locate(void)
{
	char path[4096];
	CHECK_INT(sc__spawner_locate(path, sizeof path), 0);
	CHECK_STR(path, getenv("SHOTCLOCK_SPAWNER"));
	/* No candidate fits in 4 bytes. */
	CHECK_INT(sc__spawner_locate(path, 4), SC_ENOTFOUND);
	sc__spawner *s = (sc__spawner *)1;
	CHECK_INT(sc__spawner_new("/nonexistent/shotclock-spawner", -1, -1, &s), SC_ENOTFOUND);
	CHECK(s == NULL);
	sc__spawner_free(NULL);
}

int main(void)
{
	if (targets_setup("test_spawn"))
		return 1;
	test_locate();
	test_exit_status();
	test_exec_errors();
	test_start_without_pid();
	test_process_group();
	test_verbatim();
	test_signal_dispositions();
	test_spawner_death();
	test_terminate_kills_group();
	test_profiler_death();
	test_protocol();
	test_peak_rss_is_the_commands();
	const char *files[] = {"plain", "garbage", "out", "term.pid", "death.pid", "nopid.pid"};
	targets_teardown(files, sizeof files / sizeof files[0]);
	return CHECK_DONE();
}

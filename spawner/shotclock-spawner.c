/* shotclock-spawner.c: the tiny static helper that starts each profiled command, waits for it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * Why this program exists: the kernel keeps a process's peak RSS across execve (signal->maxrss is
 * the maximum over every mm the process had, fs/exec.c exec_mmap), and a child made by fork or by
 * posix_spawn's vfork-like clone starts in an image of its parent. So wait4's ru_maxrss of a
 * command started by the (large) profiler is at least the profiler's peak. Started from here, it is
 * at least this program's peak, which is a few hundred kB: below any dynamically linked program.
 *
 * It speaks the protocol of docs/spawner-protocol.md over fd 3 (requests) and fd 4 (replies). It
 * uses no stdio: fds 0, 1 and 2 belong to the commands. It allocates nothing with malloc.
 */

#define REQUEST_FD 3
#define REPLY_FD   4
/* Requests up to this size (pointers and strings) use a static buffer instead of a mapping. */
#define SMALL_REQUEST (32u << 10)

#include "../src/spawn_wire.h"

/* The signals that end us; caught ones are reset to default in every command. */
static const int ending_signals[] = {SIGTERM, SIGHUP, SIGINT};
static sigset_t caught;

/* The process group of the command now running; 0 between commands. Read by the handler. */
static volatile sig_atomic_t child_pgid;

/*
 * Ctrl-C, a hang-up, a kill, or the profiler's death (PR_SET_PDEATHSIG): the command must not
 * outlive us, so its whole process group goes first, and is reaped, so that no zombie is left to
 * an init that may be slow to reap. kill, waitpid and _exit are async-signal-safe.
 */
static void on_ending_signal(int sig)
{
	pid_t pgid = child_pgid;
	if (pgid > 0 && kill(-pgid, SIGKILL) == 0) {
		while (waitpid(-pgid, NULL, 0) > 0 || errno == EINTR)
			;
	}
	_exit(128 + sig);
}

/* Reads exactly n bytes. Returns 1, 0 on end of file before the first byte, -1 otherwise. */
static int read_exact(int fd, void *buf, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = read(fd, (char *)buf + done, n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 && done == 0 ? 0 : -1;
		done += (size_t)r;
	}
	return 1;
}

/* Kills and reaps what is left of the process group pgid once its leader has been reaped: the
 * run is over, and stragglers would skew the next run or outlive the profiler. A process that left
 * the group (setsid, setpgid: a daemon) is left alone. Grandchildren of the command are reparented
 * to us (PR_SET_CHILD_SUBREAPER) before their parent becomes waitable, so waiting for the group
 * until ECHILD reaps every member that was our descendant: none is left a zombie. */
static void end_group(pid_t pgid)
{
	if (kill(-pgid, SIGKILL) == 0) {
		for (;;) {
			pid_t r = waitpid(-pgid, NULL, 0);
			if (r > 0 || (r < 0 && errno == EINTR))
				continue;
			break;
		}
	}
	child_pgid = 0;
}

/* Reaps orphans of earlier runs that have exited (daemons that left their group). */
static void reap_zombies(void)
{
	for (;;) {
		pid_t r = waitpid(-1, NULL, WNOHANG);
		if (r > 0 || (r < 0 && errno == EINTR))
			continue;
		break;
	}
}

/* Sends one reply. The profiler gone (EPIPE, no SIGPIPE thanks to MSG_NOSIGNAL) means nobody
 * will ever read the outcome: end the running command and ourselves. */
static void reply(struct wire_reply *r)
{
	r->magic = WIRE_REPLY_MAGIC;
	r->version = WIRE_VERSION;
	size_t done = 0;
	while (done < sizeof *r) {
		ssize_t w = send(REPLY_FD, (const char *)r + done, sizeof *r - done, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			pid_t pgid = child_pgid;
			if (pgid > 0)
				end_group(pgid);
			_exit(1);
		}
		done += (size_t)w;
	}
}

static void reply_error(int err)
{
	struct wire_reply r = {.kind = WIRE_ERROR, .value = err};
	reply(&r);
}

static int64_t timeval_us(struct timeval tv)
{
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Lowers our peak RSS (mm->hiwater_rss) to the current RSS by writing "5" to clear_refs (Linux >=
 * 4.0): the child's clone shares our mm until it execs, and exec_mmap folds that mm's peak into
 * the child's maxrss. On an older kernel the peak stays, and the library reports the bound. */
static int clear_refs_fd = -1; /* opened once: an open and a close per run cost ~3 us */

static void reset_peak_rss(void)
{
	if (clear_refs_fd < 0)
		clear_refs_fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (clear_refs_fd < 0)
		return;
	while (write(clear_refs_fd, "5", 1) < 0 && errno == EINTR)
		;
}

/* Starts argv in a new process group with an empty signal mask and default dispositions for the
 * signals we catch (so the command sees the dispositions the user gave us: an inherited SIG_IGN
 * stays ignored). Returns 0 or an errno value; posix_spawn reports exec failures such as ENOENT,
 * EACCES or ENOEXEC as its return value. */
static int spawn(char *const argv[], char *const envp[], pid_t *pid)
{
	posix_spawnattr_t attr;
	int err = posix_spawnattr_init(&attr);
	if (err)
		return err;
	sigset_t empty;
	sigemptyset(&empty);
	err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	                                          POSIX_SPAWN_SETSIGDEF);
	if (!err)
		err = posix_spawnattr_setpgroup(&attr, 0);
	if (!err)
		err = posix_spawnattr_setsigmask(&attr, &empty);
	if (!err)
		err = posix_spawnattr_setsigdefault(&attr, &caught);
	if (!err) {
		/* An ending signal between the child's birth and child_pgid's store would leave the
		 * child running; hold those signals until the store is done. */
		sigset_t old;
		sigprocmask(SIG_BLOCK, &caught, &old);
		if (strchr(argv[0], '/'))
			err = posix_spawn(pid, argv[0], NULL, &attr, argv, envp);
		else
			err = posix_spawnp(pid, argv[0], NULL, &attr, argv, envp);
		if (!err)
			child_pgid = *pid;
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
	posix_spawnattr_destroy(&attr);
	return err;
}

/* Runs one command to its end and sends the started/error and exited replies. */
static void run(char *const argv[], char *const envp[], int flags)
{
	reset_peak_rss();
	uint64_t t0 = monotonic_ns();
	pid_t pid;
	int err = spawn(argv, envp, &pid);
	if (err) {
		reply_error(err);
		return;
	}
	if (flags & WIRE_FLAG_REPORT_START) {
		struct wire_reply started = {.kind = WIRE_STARTED, .value = pid};
		reply(&started);
	}

	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			/* Only possible if someone made SIGCHLD SIG_IGN behind our back. */
			end_group(pid);
			reply_error(errno);
			return;
		}
	}
	uint64_t t1 = monotonic_ns();
	end_group(pid);

	struct wire_reply exited = {
	    .kind = WIRE_EXITED,
	    .value = status,
	    .wall_ns = t1 - t0,
	    .utime_us = timeval_us(ru.ru_utime),
	    .stime_us = timeval_us(ru.ru_stime),
	    .maxrss_kb = ru.ru_maxrss,
	    .minflt = ru.ru_minflt,
	    .majflt = ru.ru_majflt,
	    .inblock = ru.ru_inblock,
	    .oublock = ru.ru_oublock,
	    .nvcsw = ru.ru_nvcsw,
	    .nivcsw = ru.ru_nivcsw,
	};
	reply(&exited);
}

/* Points out[0..n) at the n NUL-terminated strings that start body[0..len). Returns the bytes
 * they take, or -1 when body holds fewer. */
static ssize_t split_strings(char *body, size_t len, char **out, size_t n)
{
	size_t pos = 0;
	for (size_t i = 0; i < n; i++) {
		char *nul = memchr(body + pos, '\0', len - pos);
		if (!nul)
			return -1;
		out[i] = body + pos;
		pos = (size_t)(nul - body) + 1;
	}
	out[n] = NULL;
	return (ssize_t)pos;
}

/* Reads and serves one request. Returns 1 to go on, 0 at end of file (the profiler is done). */
static int serve_one(void)
{
	struct wire_request h = {0};
	int r = read_exact(REQUEST_FD, &h, sizeof h);
	if (r == 0)
		return 0;
	/* Every string takes at least its NUL, so argc + envc <= len also bounds the pointer
	 * arrays. A bad header leaves no way to find the next request: say why, then stop. */
	size_t len = r > 0 && h.length >= sizeof h ? h.length - sizeof h : 0;
	size_t n = (size_t)h.argc + h.envc;
	if (r < 0 || h.magic != WIRE_REQUEST_MAGIC || h.version != WIRE_VERSION ||
	    (h.flags & ~WIRE_FLAG_REPORT_START) || h.length < sizeof h ||
	    h.length > WIRE_MAX_REQUEST || h.argc == 0 || n > len) {
		reply_error(EPROTO);
		_exit(2);
	}
	/* A usual request (a command line and an environment) fits the static buffer, whose
	 * touched pages stay resident: a few kB of our floor. A larger one gets its own mapping,
	 * which munmap gives back, so it does not stay in our RSS. */
	static char small[SMALL_REQUEST] __attribute__((aligned(16)));
	size_t map_len = (n + 2) * sizeof(char *) + len;
	char *map = small;
	if (map_len > sizeof small) {
		map =
		    mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (map == MAP_FAILED) {
			reply_error(ENOMEM);
			_exit(2);
		}
	}
	char **argv = (char **)map;
	char **envp = argv + h.argc + 1;
	char *body = (char *)(envp + h.envc + 1);
	if (read_exact(REQUEST_FD, body, len) != 1) {
		reply_error(EPROTO);
		_exit(2);
	}
	/* The body was read whole, so a malformed one costs only this request. */
	ssize_t a = split_strings(body, len, argv, h.argc);
	ssize_t e = a < 0 ? -1 : split_strings(body + a, len - (size_t)a, envp, h.envc);
	if (e < 0 || (size_t)(a + e) != len)
		reply_error(EINVAL);
	else
		run(argv, envp, h.flags);
	if (map != small)
		munmap(map, map_len);
	reap_zombies();
	return 1;
}

/* Parses argv[1], the pid of the profiler that started us. */
static pid_t parse_pid(const char *s)
{
	if (!s || !*s)
		return 0;
	long v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000000)
			return 0;
		v = v * 10 + (*s - '0');
	}
	return (pid_t)v;
}

int main(int argc, char **argv)
{
	pid_t profiler = argc == 2 ? parse_pid(argv[1]) : 0;
	if (profiler <= 0 || fcntl(REQUEST_FD, F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(REPLY_FD, F_SETFD, FD_CLOEXEC) < 0)
		return 2;

	/* SIGCHLD must not be SIG_IGN, or the kernel reaps children itself and wait4 fails. */
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&caught);
	int pdeath = 0;
	for (size_t i = 0; i < sizeof ending_signals / sizeof ending_signals[0]; i++) {
		int sig = ending_signals[i];
		struct sigaction old;
		if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue; /* the user ignores it (nohup): so do we and the commands */
		sigaddset(&caught, sig);
		if (!pdeath)
			pdeath = sig;
	}
	struct sigaction sa = {.sa_handler = on_ending_signal};
	sa.sa_mask = caught;
	for (size_t i = 0; i < sizeof ending_signals / sizeof ending_signals[0]; i++) {
		if (sigismember(&caught, ending_signals[i]))
			sigaction(ending_signals[i], &sa, NULL);
	}

	/* When the profiler dies, a caught signal runs the handler above. It may have died before
	 * prctl took effect: then we are already someone else's child. */
	if (pdeath && prctl(PR_SET_PDEATHSIG, pdeath) < 0)
		return 2;
	if (getppid() != profiler)
		return 0;
	/* Orphaned grandchildren of a command become ours, so we reap them (no zombies). */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	while (serve_one())
		;
	reap_zombies();
	return 0;
}

/* spawn.c: the client side of shotclock-spawner, the helper that starts every profiled run. */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#include "spawn_wire.h"

struct sc__spawner {
	pid_t pid;      /* the helper */
	int request_fd; /* our end of the request socket */
	int reply_fd;   /* our end of the reply socket */
	bool running;   /* a request was sent and its last reply not read yet */
	pid_t child;    /* the running command's pid; 0 when none or not asked for */
	bool lost;      /* the helper died or sent something that is not a reply */
};

/* ---- finding the helper -----------------------------------------------------------------------
 */

int sc__spawner_locate(char *path, size_t cap)
{
#ifdef SC_SPAWNER_INSTALL_PATH
	const char *installed = SC_SPAWNER_INSTALL_PATH;
#else
	const char *installed = NULL;
#endif
	return sc__locate_helper("SHOTCLOCK_SPAWNER", "shotclock-spawner", installed, X_OK, path,
	                         cap);
}

/* ---- starting and stopping the helper ---------------------------------------------------------
 */

/* A close-on-exec copy of fd numbered 5 or above, so that the dup2 file actions onto 0..4 can
 * never overwrite a source before it is used. */
static int dup_high(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 5);
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/* The helper's fds 0..4: /dev/null, the commands' stdout and stderr (-1: /dev/null), the request
 * and reply sockets; closefrom(5) so nothing else of ours leaks into the commands. */
static int build_file_actions(posix_spawn_file_actions_t *fa, const int src[5])
{
	int err = posix_spawn_file_actions_init(fa);
	if (err)
		return err;
	for (int fd = 0; fd < 5 && !err; fd++) {
		if (src[fd] >= 0)
			err = posix_spawn_file_actions_adddup2(fa, src[fd], fd);
		else
			err = posix_spawn_file_actions_addopen(fa, fd, "/dev/null",
			                                       fd == 0 ? O_RDONLY : O_WRONLY, 0);
	}
	if (!err)
		err = posix_spawn_file_actions_addclosefrom_np(fa, 5);
	if (err)
		posix_spawn_file_actions_destroy(fa);
	return err;
}

int sc__spawner_new(const char *spawner_path, int stdout_fd, int stderr_fd, sc__spawner **out)
{
	if (!out)
		return SC_EINVAL;
	*out = NULL;
	char located[PATH_MAX];
	if (!spawner_path) {
		int rc = sc__spawner_locate(located, sizeof located);
		if (rc < 0)
			return rc;
		spawner_path = located;
	}
	sc__spawner *s = calloc(1, sizeof *s);
	if (!s)
		return SC_ENOMEM;

	/* Sockets rather than pipes: send(MSG_NOSIGNAL) turns a dead peer into EPIPE instead of a
	 * SIGPIPE that would kill the profiler (or the helper). */
	int request[2] = {-1, -1}, reply[2] = {-1, -1};
	int src[5] = {-1, -1, -1, -1, -1};
	int rc = SC_ESPAWN;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, request) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, reply) < 0)
		goto fail;
	if ((stdout_fd >= 0 && (src[1] = dup_high(stdout_fd)) < 0) ||
	    (stderr_fd >= 0 && (src[2] = dup_high(stderr_fd)) < 0) ||
	    (src[3] = dup_high(request[1])) < 0 || (src[4] = dup_high(reply[1])) < 0)
		goto fail;

	posix_spawn_file_actions_t fa;
	if (build_file_actions(&fa, src) != 0)
		goto fail;
	/* The helper starts with an empty signal mask so its handlers work; dispositions are left
	 * as they are (exec resets caught ones, ignored ones stay ignored for the commands). */
	posix_spawnattr_t attr;
	sigset_t empty;
	sigemptyset(&empty);
	if (posix_spawnattr_init(&attr) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		goto fail;
	}
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setsigmask(&attr, &empty);
	char parent[24];
	snprintf(parent, sizeof parent, "%ld", (long)getpid());
	char *argv[] = {(char *)spawner_path, parent, NULL};
	int err = posix_spawn(&s->pid, spawner_path, &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (err) {
		rc = err == ENOENT ? SC_ENOTFOUND : SC_ESPAWN;
		errno = err;
		goto fail;
	}
	close_fds(src, 5);
	close(request[1]);
	close(reply[1]);
	s->request_fd = request[0];
	s->reply_fd = reply[0];
	*out = s;
	return 0;
fail:;
	int saved = errno;
	close_fds(src, 5);
	close_fds(request, 2);
	close_fds(reply, 2);
	free(s);
	errno = saved;
	return rc;
}

void sc__spawner_free(sc__spawner *s)
{
	if (!s)
		return;
	/* A run still going would keep the helper in wait4; end it the way a timeout does, or,
	 * when we never learnt its pid, through the helper's SIGTERM handler, which kills the
	 * command's group before the helper exits. */
	if (s->running && s->child > 0)
		kill(-s->child, SIGKILL);
	else if (s->running)
		kill(s->pid, SIGTERM);
	/* End of file on the request socket tells the helper to exit. */
	close(s->request_fd);
	close(s->reply_fd);
	while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
		;
	free(s);
}

bool sc__spawner_lost(const sc__spawner *s)
{
	return !s || s->lost;
}

pid_t sc__spawner_pid(const sc__spawner *s)
{
	return s ? s->pid : -1;
}

int sc__spawner_fd(const sc__spawner *s)
{
	return s ? s->reply_fd : -1;
}

/* ---- requests and replies ---------------------------------------------------------------------
 */

static int send_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads one whole reply. A closed socket (the helper died) or a reply that is not ours is EPIPE
 * or EPROTO in errno. */
static int read_reply(int fd, struct wire_reply *r)
{
	size_t done = 0;
	while (done < sizeof *r) {
		ssize_t n = read(fd, (char *)r + done, sizeof *r - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EPIPE;
			return -1;
		}
		done += (size_t)n;
	}
	if (r->magic != WIRE_REPLY_MAGIC || r->version != WIRE_VERSION) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* Builds the request in one buffer: header (with flags), argv strings, envp strings. */
static char *build_request(char *const argv[], char *const envp[], uint16_t flags, size_t *size)
{
	size_t len = sizeof(struct wire_request), argc = 0, envc = 0;
	for (; argv[argc]; argc++)
		len += strlen(argv[argc]) + 1;
	for (; envp[envc]; envc++)
		len += strlen(envp[envc]) + 1;
	if (len > WIRE_MAX_REQUEST) {
		errno = E2BIG;
		return NULL;
	}
	char *buf = malloc(len);
	if (!buf)
		return NULL;
	struct wire_request h = {
	    .magic = WIRE_REQUEST_MAGIC,
	    .version = WIRE_VERSION,
	    .flags = flags,
	    .argc = (uint32_t)argc,
	    .envc = (uint32_t)envc,
	    .length = (uint32_t)len,
	};
	memcpy(buf, &h, sizeof h);
	char *p = buf + sizeof h;
	for (size_t i = 0; i < argc; i++)
		p = stpcpy(p, argv[i]) + 1;
	for (size_t i = 0; i < envc; i++)
		p = stpcpy(p, envp[i]) + 1;
	*size = len;
	return buf;
}

/* The error code for an errno the helper got from posix_spawn. */
static int spawn_error(int err)
{
	switch (err) {
	case ENOENT:
		return SC_ENOTFOUND;
	case EACCES:
	case ENOEXEC:
	case EISDIR:
	case EPERM:
		return SC_ENOEXEC;
	default:
		return SC_ESPAWN;
	}
}

int sc__spawner_start(sc__spawner *s, char *const argv[], char *const envp[], pid_t *pid,
                      int *err_no)
{
	int ignored;
	if (!err_no)
		err_no = &ignored;
	*err_no = 0;
	if (!s || !argv || !argv[0] || s->running)
		return SC_EINVAL;
	/* clearenv() leaves environ NULL: an empty environment. */
	static char *const no_environment[] = {NULL};
	if (!envp)
		envp = environ ? environ : no_environment;
	size_t size;
	char *request = build_request(argv, envp, pid ? WIRE_FLAG_REPORT_START : 0, &size);
	if (!request) {
		*err_no = errno;
		return errno == ENOMEM ? SC_ENOMEM : SC_ESPAWN;
	}
	int sent = send_all(s->request_fd, request, size);
	int saved = errno;
	free(request);
	if (sent < 0) {
		*err_no = saved;
		return SC_ESPAWN;
	}
	s->running = true;
	s->child = 0;
	if (!pid)
		return 0; /* a failure to start comes with the only reply, in sc__spawner_finish */
	struct wire_reply r;
	if (read_reply(s->reply_fd, &r) < 0) {
		*err_no = errno;
		s->running = false;
		s->lost = true;
		return SC_ESPAWN;
	}
	if (r.kind == WIRE_ERROR) {
		*err_no = r.value;
		s->running = false;
		return spawn_error(r.value);
	}
	if (r.kind != WIRE_STARTED || r.value <= 0) {
		*err_no = EPROTO;
		s->running = false;
		s->lost = true;
		return SC_ESPAWN;
	}
	*pid = s->child = r.value;
	return 0;
}

int sc__spawner_finish(sc__spawner *s, sc__exit *out, int *err_no)
{
	int ignored;
	if (!err_no)
		err_no = &ignored;
	*err_no = 0;
	if (!s || !out || !s->running)
		return SC_EINVAL;
	struct wire_reply r;
	int rc = read_reply(s->reply_fd, &r);
	int saved = errno;
	if (rc < 0 || (r.kind != WIRE_EXITED && r.kind != WIRE_ERROR))
		s->lost = true;
	pid_t child = s->child;
	s->running = false;
	s->child = 0;
	if (!s->lost && r.kind == WIRE_ERROR && child == 0) {
		/* Only a start nobody waited for can fail this way: the command never ran. */
		*err_no = r.value;
		return spawn_error(r.value);
	}
	if (s->lost || r.kind != WIRE_EXITED) {
		/* The spawner died without its handler running (SIGKILL, a crash), so nobody will
		 * end the command: do it here rather than leave it running (when we know it). */
		if (child > 0)
			kill(-child, SIGKILL);
		s->lost = true;
		*err_no = rc < 0 ? saved : EPROTO;
		return SC_ESPAWN;
	}
	*out = (sc__exit){.wall_ns = r.wall_ns, .status = r.value};
	out->ru.ru_utime = (struct timeval){r.utime_us / 1000000, r.utime_us % 1000000};
	out->ru.ru_stime = (struct timeval){r.stime_us / 1000000, r.stime_us % 1000000};
	out->ru.ru_maxrss = r.maxrss_kb;
	out->ru.ru_minflt = r.minflt;
	out->ru.ru_majflt = r.majflt;
	out->ru.ru_inblock = r.inblock;
	out->ru.ru_oublock = r.oublock;
	out->ru.ru_nvcsw = r.nvcsw;
	out->ru.ru_nivcsw = r.nivcsw;
	return 0;
}

/* heap.c: the collector of one run under the heap shim: its directory, its reader, its result. */
#define _GNU_SOURCE
#include "internal.h"

#include "heap_wire.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/*
 * One instrumented run: a private directory (mkdtemp, mode 0700) holding the counters file,
 * which both sides map, and the stream FIFO, which a thread of ours reads while the program runs
 * so that the shim's writes never wait on a full pipe for long. The reader also holds a write end
 * of the FIFO open: without one, the FIFO would report end of file (and poll() POLLHUP, without
 * end) between one traced process closing it and the next opening it.
 */
struct sc__heap_session {
	char dir[PATH_MAX];
	bool made_dir;
	int counters_fd;
	struct heap_counters *counters; /* MAP_SHARED */
	int stream_fd;                  /* read end, non-blocking */
	int keep_fd;                    /* our write end (see above) */
	int stop_fd;                    /* eventfd: drain what is left, then stop */
	pthread_t reader;
	bool reader_running;
	sc__heap_agg *agg;
	int feed_rc;    /* the first error of sc__heap_agg_feed; later bytes are read and dropped */
	int read_errno; /* a read(2) that failed for another reason than EAGAIN */
	char **envp;
	uint8_t buf[64 << 10];
};

/* ---- releasing a heap profile ---------------------------------------------------------------- */

void sc__heap_profile_release(sc_heap_profile *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n_sites; i++) {
		sc_heap_site *s = &h->sites[i];
		for (size_t j = 0; j < s->n_frames; j++) {
			free(s->frames[j].module);
			free(s->frames[j].function);
			free(s->frames[j].file);
		}
		free(s->frames);
	}
	free(h->sites);
	h->sites = NULL;
	h->n_sites = 0;
}

/* ---- finding the shim ------------------------------------------------------------------------ */

int sc__heap_shim_locate(char *path, size_t cap)
{
#ifdef SC_HEAP_SHIM_INSTALL_PATH
	const char *installed = SC_HEAP_SHIM_INSTALL_PATH;
#else
	const char *installed = NULL;
#endif
	/* Readable is enough: the dynamic loader maps the shim, nothing executes the file. */
	return sc__locate_helper("SHOTCLOCK_HEAP_SHIM", "libshotclock-heap.so", installed, R_OK,
	                         path, cap);
}

/* ---- can the shim work in this program? ------------------------------------------------------ */

static int refuse(char *reason, size_t cap, const char *text)
{
	if (reason && cap)
		snprintf(reason, cap, "%s", text);
	return SC_EUNAVAILABLE;
}

/* ld.so run as the program (ld.so ./prog) has no PT_INTERP of its own, yet it applies
 * LD_PRELOAD to the program it loads. */
static bool is_loader(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return !strncmp(base, "ld-linux", 8) || !strncmp(base, "ld.so", 5) ||
	       !strncmp(base, "ld64.so", 7) || !strncmp(base, "ld-musl", 7) ||
	       !strncmp(base, "ld-2.", 5);
}

/* An ELF file of our own class and byte order: whether it names a program interpreter. */
static int check_elf(int fd, const unsigned char *head, size_t n, const char *path, char *reason,
                     size_t cap)
{
	unsigned char own_class = sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32;
	if (head[EI_CLASS] != own_class)
		return refuse(reason, cap,
		              own_class == ELFCLASS64
		                  ? "32-bit program: the 64-bit shim cannot be loaded into it"
		                  : "64-bit program: the 32-bit shim cannot be loaded into it");
	const int one = 1;
	unsigned char own_data = *(const char *)&one ? ELFDATA2LSB : ELFDATA2MSB;
	ElfW(Ehdr) eh;
	if (head[EI_DATA] != own_data || n < sizeof eh)
		return 0; /* it cannot run here anyway: the run will say why */
	memcpy(&eh, head, sizeof eh);
	if ((eh.e_type != ET_EXEC && eh.e_type != ET_DYN) || eh.e_phentsize != sizeof(ElfW(Phdr)) ||
	    eh.e_phnum == PN_XNUM)
		return 0; /* not a program, or too unusual to judge: let it run */
	ElfW(Phdr) ph[32];
	for (size_t i = 0; i < eh.e_phnum;) {
		size_t want = eh.e_phnum - i < 32 ? eh.e_phnum - i : 32;
		ssize_t got =
		    pread(fd, ph, want * sizeof *ph, (off_t)(eh.e_phoff + i * sizeof *ph));
		if (got < (ssize_t)sizeof *ph)
			return 0;
		size_t whole = (size_t)got / sizeof *ph;
		for (size_t k = 0; k < whole; k++)
			if (ph[k].p_type == PT_INTERP)
				return 0;
		i += whole;
	}
	if (eh.e_type == ET_DYN && is_loader(path))
		return 0;
	return refuse(reason, cap,
	              "static binary: the dynamic loader, which applies LD_PRELOAD, never runs");
}

/* Whether exec gives the program privileges, which puts the loader in secure-execution mode
 * (AT_SECURE), where it ignores LD_PRELOAD paths: a set-user-ID file owned by another user, a
 * set-group-ID one of another group, or file capabilities. The bits mean nothing on a nosuid
 * mount or under no_new_privs. */
static int check_privileges(int fd, const struct stat *st, char *reason, size_t cap)
{
	struct statvfs vfs;
	if ((fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_NOSUID)) ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
		return 0;
	if ((st->st_mode & S_ISUID) && st->st_uid != getuid())
		return refuse(reason, cap, "set-user-ID program: the loader ignores LD_PRELOAD");
	/* Set-group-ID without group execute is mandatory locking, not a privilege. */
	if ((st->st_mode & S_ISGID) && (st->st_mode & S_IXGRP) && st->st_gid != getgid())
		return refuse(reason, cap, "set-group-ID program: the loader ignores LD_PRELOAD");
	/* Root keeps its full capability set across exec, so file capabilities change nothing
	 * for it. */
	if (geteuid() != 0 && fgetxattr(fd, "security.capability", NULL, 0) > 0)
		return refuse(reason, cap,
		              "program with file capabilities: the loader ignores LD_PRELOAD");
	return 0;
}

static int check_program(const char *path, char *reason, size_t cap, int depth);

/* "#!interpreter [arg]": the interpreter is what the shim is loaded into. The kernel follows at
 * most a few levels of interpreters; so do we. */
static int check_script(const unsigned char *head, size_t n, char *reason, size_t cap, int depth)
{
	if (depth >= 4)
		return 0;
	char interp[256];
	size_t i = 2, len = 0;
	while (i < n && (head[i] == ' ' || head[i] == '\t'))
		i++;
	while (i < n && head[i] != ' ' && head[i] != '\t' && head[i] != '\n' && head[i] != '\0' &&
	       len < sizeof interp - 1)
		interp[len++] = (char)head[i++];
	interp[len] = '\0';
	return len ? check_program(interp, reason, cap, depth + 1) : 0;
}

static int check_program(const char *path, char *reason, size_t cap, int depth)
{
	/* A file we cannot read (execute-only) or stat is judged by the run itself. */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct stat st;
	unsigned char head[256];
	ssize_t n = -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		n = pread(fd, head, sizeof head, 0);
	int rc = 0;
	if (n >= SELFMAG && memcmp(head, ELFMAG, SELFMAG) == 0) {
		rc = check_elf(fd, head, (size_t)n, path, reason, cap);
		if (rc == 0)
			rc = check_privileges(fd, &st, reason, cap);
	} else if (n >= 2 && head[0] == '#' && head[1] == '!') {
		/* The kernel ignores set-user-ID bits on scripts. */
		rc = check_script(head, (size_t)n, reason, cap, depth);
	}
	close(fd);
	return rc;
}

int sc__heap_check_executable(const char *path, char *reason, size_t cap)
{
	if (reason && cap)
		reason[0] = '\0';
	if (!path)
		return SC_EINVAL;
	return check_program(path, reason, cap, 0);
}

/* ---- the reader thread ----------------------------------------------------------------------- */

/* Reads until the FIFO is empty (EAGAIN), feeding the aggregate. */
static void drain(sc__heap_session *s)
{
	for (;;) {
		ssize_t n = read(s->stream_fd, s->buf, sizeof s->buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* End of file cannot happen while keep_fd is open. */
			if (n < 0 && errno != EAGAIN && !s->read_errno)
				s->read_errno = errno;
			return;
		}
		/* After a damaged batch the rest is still read, so that the writers never block
		 * on a full pipe, and dropped. */
		if (!s->feed_rc)
			s->feed_rc = sc__heap_agg_feed(s->agg, s->buf, (size_t)n, NULL, 0);
	}
}

static void *reader_main(void *arg)
{
	sc__heap_session *s = arg;
	struct pollfd fds[2] = {{.fd = s->stream_fd, .events = POLLIN},
	                        {.fd = s->stop_fd, .events = POLLIN}};
	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			/* The shim's writes block while the pipe is full, so giving up would hang
			 * the program: a failing poll (ENOMEM) is retried after a pause. Nothing is
			 * lost meanwhile; the data waits in the pipe. */
			if (errno != EINTR)
				nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
			continue;
		}
		if (fds[0].revents) {
			drain(s);
			/* Waking for every 4 KiB batch costs the program a context switch per
			 * batch on a busy machine; the 1 MiB pipe holds a millisecond of even a
			 * --heap-sites=all stream, so the reader lets batches gather first. */
			nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
		}
		if (fds[1].revents) {
			/* The program has been waited for: whatever it wrote is in the pipe. */
			drain(s);
			return NULL;
		}
	}
}

static int start_reader(sc__heap_session *s)
{
	/* The reader takes no signal: they stay with the threads that expect them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(&s->reader, NULL, reader_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		errno = err;
		return err == EAGAIN || err == ENOMEM ? SC_ENOMEM : SC_EIO;
	}
	s->reader_running = true;
	return 0;
}

static void stop_reader(sc__heap_session *s)
{
	if (!s->reader_running)
		return;
	uint64_t one = 1;
	while (write(s->stop_fd, &one, sizeof one) < 0 && errno == EINTR)
		;
	pthread_join(s->reader, NULL);
	s->reader_running = false;
}

/* ---- making and removing the run's directory ------------------------------------------------- */

/* The first of /dev/shm (memory: the counters never reach a disk), $TMPDIR and /tmp where a
 * private directory can be made. */
static int make_dir(sc__heap_session *s)
{
	const char *tmpdir = getenv("TMPDIR");
	const char *bases[] = {"/dev/shm", tmpdir && *tmpdir ? tmpdir : NULL, "/tmp"};
	int saved = ENOENT;
	for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
		if (!bases[i])
			continue;
		int n = snprintf(s->dir, sizeof s->dir, "%s/shotclock-heap.XXXXXX", bases[i]);
		if (n < 0 || (size_t)n >= sizeof s->dir)
			continue;
		if (mkdtemp(s->dir)) {
			s->made_dir = true;
			return 0;
		}
		saved = errno;
	}
	errno = saved;
	return SC_EIO;
}

/* Removes everything in the directory (it is ours alone: mode 0700), then the directory. */
static void remove_dir(sc__heap_session *s)
{
	if (!s->made_dir)
		return;
	DIR *d = opendir(s->dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(s->dir);
	s->made_dir = false;
}

static int path_in_dir(const sc__heap_session *s, const char *name, char *path, size_t cap)
{
	int n = snprintf(path, cap, "%s/%s", s->dir, name);
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return SC_EIO;
	}
	return 0;
}

static int make_counters(sc__heap_session *s, uint64_t sample_bytes)
{
	char path[PATH_MAX + 16];
	if (path_in_dir(s, "counters", path, sizeof path) != 0)
		return SC_EIO;
	s->counters_fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (s->counters_fd < 0 || ftruncate(s->counters_fd, sizeof *s->counters) != 0)
		return SC_EIO;
	/* The pages are reserved now: a full tmpfs would otherwise answer the shim's first store
	 * to a new page with SIGBUS, inside the user's program. */
	int err = posix_fallocate(s->counters_fd, 0, sizeof *s->counters);
	if (err && err != EOPNOTSUPP && err != EINVAL) {
		errno = err;
		return SC_EIO;
	}
	void *map =
	    mmap(NULL, sizeof *s->counters, PROT_READ | PROT_WRITE, MAP_SHARED, s->counters_fd, 0);
	if (map == MAP_FAILED)
		return SC_EIO;
	s->counters = map;
	s->counters->sample_bytes = sample_bytes;
	s->counters->version = HEAP_VERSION;
	s->counters->magic = HEAP_COUNTERS_MAGIC;
	return 0;
}

static int make_stream(sc__heap_session *s)
{
	char path[PATH_MAX + 16];
	if (path_in_dir(s, "stream", path, sizeof path) != 0 || mkfifo(path, 0600) != 0)
		return SC_EIO;
	s->stream_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (s->stream_fd < 0)
		return SC_EIO;
	s->keep_fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (s->keep_fd < 0)
		return SC_EIO;
	/* A roomier pipe absorbs bursts while the reader is descheduled; the default 64 KiB is
	 * enough to be correct, so a refusal (pipe-max-size) is no error. */
	(void)fcntl(s->stream_fd, F_SETPIPE_SZ, 1 << 20);
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return s->stop_fd < 0 ? SC_EIO : 0;
}

/* ---- the environment of the instrumented run ------------------------------------------------- */

/* The loader splits LD_PRELOAD at these. */
static bool preload_safe(const char *path)
{
	return strpbrk(path, ": \t\n") == NULL;
}

static bool set_by_us(const char *entry)
{
	static const char *const names[] = {
	    "LD_PRELOAD",    HEAP_ENV_DIR,          HEAP_ENV_SITES,   HEAP_ENV_SAMPLE_BYTES,
	    HEAP_ENV_FOLLOW, HEAP_ENV_USER_PRELOAD, HEAP_ENV_CPU_RATE};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		size_t len = strlen(names[i]);
		if (strncmp(entry, names[i], len) == 0 && entry[len] == '=')
			return true;
	}
	return false;
}

/* environ without the variables we set, then ours; every string is the session's. */
static int make_envp(sc__heap_session *s, const char *shim, const sc_command_options *o,
                     uint64_t sample_bytes)
{
	const char *user = getenv("LD_PRELOAD");
	size_t n = 0;
	for (char **e = environ; e && *e; e++)
		n++;
	s->envp = calloc(n + 7, sizeof *s->envp);
	if (!s->envp)
		return SC_ENOMEM;
	size_t k = 0;
	for (char **e = environ; e && *e; e++)
		if (!set_by_us(*e) && !(s->envp[k++] = strdup(*e)))
			return SC_ENOMEM;
	/* The shim first, so that its malloc is the one every later object binds to. */
	bool user_list = user && *user;
	if (asprintf(&s->envp[k++], "LD_PRELOAD=%s%s%s", shim, user_list ? ":" : "",
	             user_list ? user : "") < 0 ||
	    asprintf(&s->envp[k++], "%s=%s", HEAP_ENV_DIR, s->dir) < 0 ||
	    asprintf(&s->envp[k++], "%s=%s", HEAP_ENV_SITES,
	             o->heap_sites_all ? "all" : "sampled") < 0 ||
	    asprintf(&s->envp[k++], "%s=%llu", HEAP_ENV_SAMPLE_BYTES,
	             (unsigned long long)sample_bytes) < 0 ||
	    asprintf(&s->envp[k++], "%s=%s", HEAP_ENV_FOLLOW, o->follow_children ? "1" : "0") < 0 ||
	    (user && asprintf(&s->envp[k++], "%s=%s", HEAP_ENV_USER_PRELOAD, user) < 0)) {
		s->envp[k - 1] = NULL; /* asprintf leaves it undefined on failure */
		return SC_ENOMEM;
	}
	return 0;
}

static void free_envp(char **envp)
{
	for (size_t i = 0; envp && envp[i]; i++)
		free(envp[i]);
	free(envp);
}

/* ---- the session ----------------------------------------------------------------------------- */

int sc__heap_session_new(const sc_command_options *o, sc__heap_session **out)
{
	if (!o || !out)
		return SC_EINVAL;
	*out = NULL;
	char located[PATH_MAX], shim[PATH_MAX + 32];
	const char *given = o->heap_shim_path;
	if (!given) {
		int rc = sc__heap_shim_locate(located, sizeof located);
		if (rc)
			return rc;
		given = located;
	}
	/* Absolute, so that a program that changes directory before it execs still finds it. */
	if (!realpath(given, shim))
		return errno == ENOENT || errno == ENOTDIR ? SC_ENOTFOUND : SC_EIO;

	sc__heap_session *s = calloc(1, sizeof *s);
	if (!s)
		return SC_ENOMEM;
	s->counters_fd = s->stream_fd = s->keep_fd = s->stop_fd = -1;
	uint64_t sample_bytes = o->heap_sites_all      ? 0
	                        : o->heap_sample_bytes ? o->heap_sample_bytes
	                                               : HEAP_DEFAULT_SAMPLE_BYTES;
	int rc = make_dir(s);
	if (!rc)
		rc = make_counters(s, sample_bytes);
	if (!rc)
		rc = make_stream(s);
	char link[PATH_MAX + 32];
	if (!rc && !preload_safe(shim)) {
		/* A path with a colon or a blank would be split by the loader: a link in our
		 * directory, whose name is safe when the directory's is, stands in for it. */
		if (path_in_dir(s, "libshotclock-heap.so", link, sizeof link) != 0)
			rc = SC_EIO;
		else if (!preload_safe(link))
			rc = SC_EUNAVAILABLE;
		else if (symlink(shim, link) != 0)
			rc = SC_EIO;
		else
			snprintf(shim, sizeof shim, "%s", link);
	}
	if (!rc)
		rc = sc__heap_agg_new(&s->agg);
	if (!rc)
		rc = make_envp(s, shim, o, sample_bytes);
	if (!rc)
		rc = start_reader(s);
	if (rc) {
		int saved = errno;
		sc__heap_session_free(s);
		errno = saved;
		return rc;
	}
	*out = s;
	return 0;
}

char *const *sc__heap_session_envp(const sc__heap_session *s)
{
	return s ? s->envp : NULL;
}

/* "SIGKILL"; a signal without a name by its number. */
static void signal_name(int sig, char *buf, size_t cap)
{
	const char *abbrev = sigabbrev_np(sig);
	if (abbrev)
		snprintf(buf, cap, "SIG%s", abbrev);
	else
		snprintf(buf, cap, "signal %d", sig);
}

int sc__heap_session_finish(sc__heap_session *s, pid_t pid, int wait_status, sc_heap_profile *out)
{
	if (!s || !out || pid <= 0)
		return SC_EINVAL;
	stop_reader(s);
	char err[160];
	int rc = sc__heap_agg_counters(s->agg, s->counters, sizeof *s->counters, err, sizeof err);
	if (rc) {
		/* We wrote the header ourselves: only a shim writing where it must not gets here.
		 * Nothing in the file can be trusted then. */
		struct sc__heap_agg *empty = NULL;
		int rc2 = sc__heap_agg_new(&empty);
		if (!rc2)
			rc2 = sc__heap_agg_result(empty, (uint32_t)pid, out);
		sc__heap_agg_free(empty);
		if (rc2)
			return rc2;
		snprintf(out->reason, sizeof out->reason, "the heap counters file is damaged: %s",
		         err);
		return rc;
	}
	rc = sc__heap_agg_result(s->agg, (uint32_t)pid, out);
	if (rc)
		return rc;
	if (out->available && WIFSIGNALED(wait_status)) {
		/* Whatever else is missing, the signal is why. */
		char name[32];
		signal_name(WTERMSIG(wait_status), name, sizeof name);
		out->complete = false;
		snprintf(out->incomplete_reason, sizeof out->incomplete_reason, "killed by %s",
		         name);
	}
	if (out->available && s->read_errno && out->complete) {
		out->complete = false;
		snprintf(out->incomplete_reason, sizeof out->incomplete_reason,
		         "reading the record stream failed: %s", strerror(s->read_errno));
	}
	/* A damaged stream is the shim's bug: the figures stand (the counters are exact, the
	 * stream's part is marked incomplete) and the caller is told. */
	if (s->feed_rc)
		return s->feed_rc;
	if (s->read_errno) {
		errno = s->read_errno;
		return SC_EIO;
	}
	return 0;
}

/* ---- the timer sampler's part ------------------------------------------------------------- */

int sc__heap_session_enable_cpu_timer(sc__heap_session *s, double rate_hz)
{
	if (!s || !s->envp || !(rate_hz > 0) || rate_hz > 100000)
		return SC_EINVAL;
	/* make_envp left our variables out of the inherited ones: the only one to replace is an
	 * earlier call's. */
	size_t n = 0, at = SIZE_MAX, len = strlen(HEAP_ENV_CPU_RATE);
	for (; s->envp[n]; n++)
		if (strncmp(s->envp[n], HEAP_ENV_CPU_RATE, len) == 0 && s->envp[n][len] == '=')
			at = n;
	char *entry = NULL;
	/* %.17g: the shim reads back exactly the rate asked for. */
	if (asprintf(&entry, "%s=%.17g", HEAP_ENV_CPU_RATE, rate_hz) < 0)
		return SC_ENOMEM;
	if (at != SIZE_MAX) {
		free(s->envp[at]);
		s->envp[at] = entry;
		return 0;
	}
	char **grown = realloc(s->envp, (n + 2) * sizeof *grown);
	if (!grown) {
		free(entry);
		return SC_ENOMEM;
	}
	grown[n] = entry;
	grown[n + 1] = NULL;
	s->envp = grown;
	return 0;
}

int sc__heap_session_take_cpu(sc__heap_session *s, struct sc__cpu_raw *raw)
{
	if (!s || !raw)
		return SC_EINVAL;
	/* The reader is stopped by sc__heap_session_finish; before that it may still be adding. */
	if (s->reader_running)
		return SC_EINVAL;
	return sc__heap_agg_take_cpu(s->agg, raw);
}

int sc__heap_session_cpu_status(const sc__heap_session *s, uint32_t root_pid, char *why,
                                size_t why_cap)
{
	if (!s || s->reader_running)
		return SC_EINVAL;
	return sc__heap_agg_cpu_status(s->agg, root_pid, why, why_cap);
}

void sc__heap_session_free(sc__heap_session *s)
{
	if (!s)
		return;
	stop_reader(s);
	if (s->counters)
		munmap(s->counters, sizeof *s->counters);
	int fds[] = {s->counters_fd, s->stream_fd, s->keep_fd, s->stop_fd};
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	remove_dir(s);
	free_envp(s->envp);
	sc__heap_agg_free(s->agg);
	free(s);
}

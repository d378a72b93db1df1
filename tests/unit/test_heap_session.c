/* test_heap_session.c: the heap collector's directory, environment, reader and result, with this
 * test playing the shim; and which programs the shim can work in. */
#define _GNU_SOURCE
#include "targets.h"

#include "cpu_samples.h"
#include "heap_wire.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

/* ---- reading the environment a session made -------------------------------------------------- */

/* The value of name in envp, or NULL; a second entry of the same name is a failed check. */
static const char *env_value(char *const *envp, const char *name)
{
	const char *found = NULL;
	size_t len = strlen(name);
	for (size_t i = 0; envp && envp[i]; i++) {
		if (strncmp(envp[i], name, len) == 0 && envp[i][len] == '=') {
			CHECK(found == NULL);
			found = envp[i] + len + 1;
		}
	}
	return found;
}

static bool is_fifo(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISFIFO(st.st_mode);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* ---- the test as the shim -------------------------------------------------------------------- */

typedef struct fake_shim {
	struct heap_counters *counters;
	int stream;
	uint8_t batch[HEAP_BATCH_MAX];
	size_t len;
	uint32_t pid, seq;
} fake_shim;

static void shim_open(fake_shim *f, char *const *envp, uint32_t pid)
{
	char path[4096];
	const char *dir = env_value(envp, HEAP_ENV_DIR);
	snprintf(path, sizeof path, "%s/counters", dir ? dir : "");
	int fd = open(path, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0);
	f->counters = mmap(NULL, sizeof *f->counters, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(f->counters != MAP_FAILED);
	close(fd);
	snprintf(path, sizeof path, "%s/stream", dir ? dir : "");
	f->stream = open(path, O_WRONLY | O_CLOEXEC);
	CHECK(f->stream >= 0);
	f->pid = pid;
	f->seq = 0;
	f->len = sizeof(struct heap_batch);
}

/* Writes the batch so far (one write(2), as the shim does). */
static void shim_flush(fake_shim *f)
{
	struct heap_batch b = {HEAP_BATCH_MAGIC, f->pid,
	                       (uint32_t)(f->len - sizeof(struct heap_batch)), f->seq++};
	memcpy(f->batch, &b, sizeof b);
	CHECK(write(f->stream, f->batch, f->len) == (ssize_t)f->len);
	f->len = sizeof b;
}

static void shim_record(fake_shim *f, const void *r, size_t size)
{
	if (f->len + size > sizeof f->batch)
		shim_flush(f);
	memcpy(f->batch + f->len, r, size);
	f->len += size;
}

static void shim_close(fake_shim *f)
{
	if (f->len > sizeof(struct heap_batch))
		shim_flush(f);
	close(f->stream);
	munmap(f->counters, sizeof *f->counters);
}

static void shim_hello(fake_shim *f, uint32_t flags, uint64_t sample_bytes)
{
	struct heap_process_slot *p = &f->counters->processes[f->counters->next_process++];
	*p = (struct heap_process_slot){.pid = f->pid,
	                                .ppid = 1,
	                                .state = HEAP_PROCESS_RUNNING,
	                                .start_ns = 1000,
	                                .arena_bytes = -1,
	                                .in_use_bytes = -1,
	                                .threads = 1,
	                                .flags = flags};
	struct heap_thread_slot *t = &f->counters->threads[f->counters->next_thread++];
	t->process = f->counters->next_process;
	struct heap_rec_hello h = {{HEAP_REC_HELLO, sizeof h, f->counters->next_process - 1},
	                           1,
	                           flags,
	                           sample_bytes,
	                           1000};
	shim_record(f, &h, sizeof h);
}

static void shim_exit(fake_shim *f)
{
	struct heap_rec_exit e = {{HEAP_REC_EXIT, sizeof e, HEAP_EXIT_NORMAL}, 2000};
	shim_record(f, &e, sizeof e);
	struct heap_process_slot *p = &f->counters->processes[f->counters->next_process - 1];
	p->state = HEAP_PROCESS_EXITED;
	p->end_ns = 2000;
}

/* ---- finding the shim ------------------------------------------------------------------------ */

static void test_locate(void)
{
	const char *shim = getenv("SHOTCLOCK_HEAP_SHIM");
	char path[4096];
	CHECK_INT(sc__heap_shim_locate(path, sizeof path), 0);
	CHECK_STR(path, shim);
	CHECK_INT(sc__heap_shim_locate(NULL, 10), SC_EINVAL);
	CHECK_INT(sc__heap_shim_locate(path, 0), SC_EINVAL);
	/* A wrong $SHOTCLOCK_HEAP_SHIM is passed over for the next places. */
	char saved[4096];
	snprintf(saved, sizeof saved, "%s", shim);
	setenv("SHOTCLOCK_HEAP_SHIM", "/nonexistent/libshotclock-heap.so", 1);
	int rc = sc__heap_shim_locate(path, sizeof path);
	CHECK(rc == 0 || rc == SC_ENOTFOUND);
	if (rc == 0)
		CHECK(strcmp(path, "/nonexistent/libshotclock-heap.so") != 0);
	setenv("SHOTCLOCK_HEAP_SHIM", saved, 1);
}

/* ---- the directory and the environment ------------------------------------------------------- */

static void check_session_files(sc__heap_session *s, uint64_t sample_bytes, char *dir, size_t cap)
{
	const char *d = env_value(sc__heap_session_envp(s), HEAP_ENV_DIR);
	CHECK(d != NULL);
	snprintf(dir, cap, "%s", d ? d : "");
	struct stat st;
	CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
	char path[4200];
	snprintf(path, sizeof path, "%s/stream", dir);
	CHECK(is_fifo(path));
	snprintf(path, sizeof path, "%s/counters", dir);
	CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	      st.st_size == (off_t)sizeof(struct heap_counters) && (st.st_mode & 0777) == 0600);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct heap_counters *c = mmap(NULL, sizeof *c, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(c != MAP_FAILED);
	if (c != MAP_FAILED) {
		CHECK_INT(c->magic, HEAP_COUNTERS_MAGIC);
		CHECK_INT(c->version, HEAP_VERSION);
		CHECK_INT(c->sample_bytes, sample_bytes);
		CHECK_INT(c->next_process, 0);
		munmap(c, sizeof *c);
	}
	close(fd);
}

static void test_environment(void)
{
	char shim[4096], dir[4096];
	CHECK(realpath(getenv("SHOTCLOCK_HEAP_SHIM"), shim) != NULL);
	unsetenv("LD_PRELOAD");
	setenv("SC_HEAP_TEST_MARK", "kept", 1);
	setenv(HEAP_ENV_DIR, "/stale/from/an/outer/run", 1);

	sc_command_options o = {.heap_sample_bytes = 4096};
	sc__heap_session *s = NULL;
	CHECK_INT(sc__heap_session_new(&o, &s), 0);
	if (!s)
		return;
	char *const *envp = sc__heap_session_envp(s);
	CHECK_STR(env_value(envp, "LD_PRELOAD"), shim);
	CHECK_STR(env_value(envp, HEAP_ENV_SITES), "sampled");
	CHECK_STR(env_value(envp, HEAP_ENV_SAMPLE_BYTES), "4096");
	CHECK_STR(env_value(envp, HEAP_ENV_FOLLOW), "0");
	CHECK(env_value(envp, HEAP_ENV_USER_PRELOAD) == NULL);
	CHECK_STR(env_value(envp, "SC_HEAP_TEST_MARK"), "kept");
	CHECK(strcmp(env_value(envp, HEAP_ENV_DIR), "/stale/from/an/outer/run") != 0);
	check_session_files(s, 4096, dir, sizeof dir);
	/* Where the counters live: memory when /dev/shm can hold them. */
	if (access("/dev/shm", W_OK) == 0)
		CHECK(strncmp(dir, "/dev/shm/shotclock-heap.", 24) == 0);
	sc__heap_session_free(s);
	CHECK(!exists(dir));

	/* The user's own LD_PRELOAD comes after the shim, and is kept for the shim to restore. */
	setenv("LD_PRELOAD", "/opt/mine.so", 1);
	o = (sc_command_options){.heap_sites_all = true, .follow_children = true};
	CHECK_INT(sc__heap_session_new(&o, &s), 0);
	if (!s)
		return;
	envp = sc__heap_session_envp(s);
	char want[8192];
	snprintf(want, sizeof want, "%s:/opt/mine.so", shim);
	CHECK_STR(env_value(envp, "LD_PRELOAD"), want);
	CHECK_STR(env_value(envp, HEAP_ENV_USER_PRELOAD), "/opt/mine.so");
	CHECK_STR(env_value(envp, HEAP_ENV_SITES), "all");
	CHECK_STR(env_value(envp, HEAP_ENV_SAMPLE_BYTES), "0");
	CHECK_STR(env_value(envp, HEAP_ENV_FOLLOW), "1");
	check_session_files(s, 0, dir, sizeof dir);
	sc__heap_session_free(s);
	CHECK(!exists(dir));

	/* An empty LD_PRELOAD is kept as it was, and adds nothing to the list. */
	setenv("LD_PRELOAD", "", 1);
	o = (sc_command_options){0};
	CHECK_INT(sc__heap_session_new(&o, &s), 0);
	if (s) {
		envp = sc__heap_session_envp(s);
		CHECK_STR(env_value(envp, "LD_PRELOAD"), shim);
		CHECK(env_value(envp, HEAP_ENV_USER_PRELOAD) != NULL);
		CHECK_STR(env_value(envp, HEAP_ENV_SAMPLE_BYTES), "524288");
		sc__heap_session_free(s);
	}
	unsetenv("LD_PRELOAD");
	unsetenv(HEAP_ENV_DIR);
	unsetenv("SC_HEAP_TEST_MARK");

	/* A shim that is not there; NULL arguments. */
	o = (sc_command_options){.heap_shim_path = "/nonexistent/libshotclock-heap.so"};
	CHECK_INT(sc__heap_session_new(&o, &s), SC_ENOTFOUND);
	CHECK(s == NULL);
	CHECK_INT(sc__heap_session_new(NULL, &s), SC_EINVAL);
	CHECK_INT(sc__heap_session_new(&o, NULL), SC_EINVAL);
	CHECK(sc__heap_session_envp(NULL) == NULL);
	sc__heap_session_free(NULL);
}

/* A shim whose path holds a colon, which the loader would split: a link stands in for it. */
static void test_colon_path(void)
{
	char colon_dir[4096], copy[4200];
	snprintf(colon_dir, sizeof colon_dir, "%s", scratch_path("a:b c"));
	CHECK(mkdir(colon_dir, 0700) == 0);
	snprintf(copy, sizeof copy, "%s/libshotclock-heap.so", colon_dir);
	int in = open(getenv("SHOTCLOCK_HEAP_SHIM"), O_RDONLY | O_CLOEXEC);
	int out = open(copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	char buf[65536];
	ssize_t n;
	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
		CHECK(write(out, buf, (size_t)n) == n);
	close(in);
	close(out);

	sc_command_options o = {.heap_shim_path = copy};
	sc__heap_session *s = NULL;
	CHECK_INT(sc__heap_session_new(&o, &s), 0);
	if (s) {
		char *const *envp = sc__heap_session_envp(s);
		const char *preload = env_value(envp, "LD_PRELOAD");
		char want[4200], target[4200] = "";
		snprintf(want, sizeof want, "%s/libshotclock-heap.so",
		         env_value(envp, HEAP_ENV_DIR));
		CHECK_STR(preload, want);
		CHECK(readlink(want, target, sizeof target - 1) > 0);
		CHECK_STR(target, copy);
		sc__heap_session_free(s);
	}
	unlink(copy);
	rmdir(colon_dir);
}

/* ---- a run: the test writes what the shim would ---------------------------------------------- */

#define FAKE_PID 4242

/* In sites=all mode: allocations spread over 3 stacks, a pipe's worth many times over, so the
 * reader must keep up while the "program" writes; then every other block freed. */
static void play_big_run(char *const *envp, size_t n_allocs)
{
	fake_shim f;
	shim_open(&f, envp, FAKE_PID);
	shim_hello(&f, HEAP_PROCESS_FLAG_SITES_ALL, 0);
	for (uint64_t id = 1; id <= 3; id++) {
		struct {
			struct heap_rec_stack s;
			uint64_t frames[2];
		} st = {{{HEAP_REC_STACK, sizeof st, 2}, id}, {0x1000 + id, 0x2000}};
		shim_record(&f, &st, sizeof st);
	}
	struct heap_thread_slot *t = &f.counters->threads[0];
	for (uint64_t i = 0; i < n_allocs; i++) {
		struct heap_rec_alloc a = {
		    {HEAP_REC_ALLOC, sizeof a, 0}, 0x100000 + 16 * i, 16, 1 + i % 3, 1000 + i};
		shim_record(&f, &a, sizeof a);
		t->allocations++;
		t->bytes_allocated += 16;
		t->size_buckets[5]++;
	}
	for (uint64_t i = 0; i < n_allocs; i += 2) {
		struct heap_rec_free fr = {{HEAP_REC_FREE, sizeof fr, 0}, 0x100000 + 16 * i};
		shim_record(&f, &fr, sizeof fr);
		t->frees++;
	}
	shim_exit(&f);
	shim_close(&f);
}

static void test_run(void)
{
	sc_command_options o = {.heap_sites_all = true};
	sc__heap_session *s = NULL;
	CHECK_INT(sc__heap_session_new(&o, &s), 0);
	if (!s)
		return;
	/* 300 000 records of 40 bytes: 12 MB through a pipe of at most 1 MiB. */
	const size_t n = 300000;
	play_big_run(sc__heap_session_envp(s), n);
	sc_heap_profile h;
	CHECK_INT(sc__heap_session_finish(s, FAKE_PID, 0, &h), 0);
	CHECK(h.available && h.complete);
	CHECK_STR(h.sites_mode, "all");
	CHECK_STR(h.live_basis, "requested");
	CHECK_INT(h.allocations, n);
	CHECK_INT(h.frees, n / 2);
	CHECK_INT(h.bytes_allocated, 16 * n);
	CHECK_INT(h.size_buckets[5], n);
	CHECK_INT(h.leaked_blocks, n / 2);
	CHECK_INT(h.leaked_bytes, 16 * (n / 2));
	CHECK_INT(h.peak_live_bytes, 16 * n);
	CHECK_INT(h.peak_live_error_bytes, 0);
	CHECK_INT(h.processes, 1);
	CHECK_INT(h.n_sites, 3);
	double total = 0;
	for (size_t i = 0; i < h.n_sites; i++) {
		total += h.sites[i].allocations;
		CHECK_INT(h.sites[i].n_frames, 2);
	}
	CHECK_NEAR(total, n, 0);
	sc__heap_profile_release(&h);
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", env_value(sc__heap_session_envp(s), HEAP_ENV_DIR));
	/* Whatever else the shim left in the directory goes too. */
	char extra[4200];
	snprintf(extra, sizeof extra, "%s/left-behind", dir);
	FILE *fp = fopen(extra, "w");
	CHECK(fp != NULL);
	if (fp)
		fclose(fp);
	sc__heap_session_free(s);
	CHECK(!exists(dir));
}

/* A run killed by a signal: incomplete, with the signal named; the counters still count. */
static void test_killed(void)
{
	sc_command_options o = {.heap_sample_bytes = 4096};
	sc__heap_session *s = NULL;
	CHECK_INT(sc__heap_session_new(&o, &s), 0);
	if (!s)
		return;
	fake_shim f;
	shim_open(&f, sc__heap_session_envp(s), FAKE_PID);
	shim_hello(&f, 0, 4096);
	f.counters->threads[0].allocations = 77;
	shim_close(&f); /* no EXIT: SIGKILL gives the shim no chance */
	sc_heap_profile h;
	CHECK_INT(sc__heap_session_finish(s, FAKE_PID, SIGKILL, &h), 0);
	CHECK(WIFSIGNALED(SIGKILL));
	CHECK(h.available && !h.complete);
	CHECK_STR(h.incomplete_reason, "killed by SIGKILL");
	CHECK_INT(h.allocations, 77);
	sc__heap_profile_release(&h);
	sc__heap_session_free(s);

	/* The shim never started (a static program, say): not available, with the reason. */
	CHECK_INT(sc__heap_session_new(&o, &s), 0);
	if (!s)
		return;
	CHECK_INT(sc__heap_session_finish(s, FAKE_PID, 0, &h), 0);
	CHECK(!h.available);
	CHECK_STR(h.reason, "the shim did not start in the program (not dynamically linked, or "
	                    "LD_PRELOAD was refused)");
	CHECK_INT(sc__heap_session_finish(s, 0, 0, &h), SC_EINVAL);
	CHECK_INT(sc__heap_session_finish(NULL, 1, 0, &h), SC_EINVAL);
	sc__heap_session_free(s);
}

/* A damaged stream: the figures stand, marked incomplete, and the caller is told. */
static void test_damaged(void)
{
	sc_command_options o = {.heap_sample_bytes = 4096};
	sc__heap_session *s = NULL;
	CHECK_INT(sc__heap_session_new(&o, &s), 0);
	if (!s)
		return;
	fake_shim f;
	shim_open(&f, sc__heap_session_envp(s), FAKE_PID);
	shim_hello(&f, 0, 4096);
	shim_exit(&f);
	f.counters->threads[0].allocations = 5;
	shim_flush(&f);
	const char garbage[16] = "not a batch!!!!";
	CHECK(write(f.stream, garbage, sizeof garbage) == (ssize_t)sizeof garbage);
	shim_close(&f);
	sc_heap_profile h;
	CHECK_INT(sc__heap_session_finish(s, FAKE_PID, 0, &h), SC_EPARSE);
	CHECK(h.available && !h.complete);
	CHECK_STR(h.incomplete_reason, "record stream damaged: heap records, byte 64: batch magic "
	                               "0x20746f6e is not 0x42484353");
	CHECK_INT(h.allocations, 5);
	sc__heap_profile_release(&h);
	sc__heap_session_free(s);

	/* Counters overwritten: nothing in them can be trusted. */
	CHECK_INT(sc__heap_session_new(&o, &s), 0);
	if (!s)
		return;
	shim_open(&f, sc__heap_session_envp(s), FAKE_PID);
	f.counters->magic = 0x11111111;
	shim_close(&f);
	CHECK_INT(sc__heap_session_finish(s, FAKE_PID, 0, &h), SC_EPARSE);
	CHECK(!h.available);
	CHECK_STR(h.reason, "the heap counters file is damaged: the heap counters file has magic "
	                    "0x11111111, not 0x43484353");
	sc__heap_session_free(s);
}

/* ---- the timer sampler, live -------------------------------------------------------------------
 */

/* Runs argv under the shim with the timer sampler at rate_hz: its exit status, its CPU time
 * (rusage, seconds) and the samples in *raw; *status_rc and why from sc__heap_session_cpu_status.
 * With ignore_sigprof the program starts with SIGPROF ignored, as a parent can leave it. */
typedef struct cpu_run {
	int exit_status;
	double cpu_s;
	int status_rc;
	char why[200];
	sc__cpu_raw raw;
	uint32_t pid;
} cpu_run;

static void run_sampled(char *const argv[], double rate_hz, bool ignore_sigprof, cpu_run *r)
{
	*r = (cpu_run){.exit_status = -1};
	sc__cpu_raw_init(&r->raw);
	sc_command_options o = {0};
	sc__heap_session *s = NULL;
	CHECK_INT(sc__heap_session_new(&o, &s), 0);
	if (!s)
		return;
	CHECK_INT(sc__heap_session_enable_cpu_timer(s, rate_hz), 0);
	char want[64];
	snprintf(want, sizeof want, "%.17g", rate_hz);
	CHECK_STR(env_value(sc__heap_session_envp(s), HEAP_ENV_CPU_RATE), want);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		/* The child takes the default for SIGPROF unless asked otherwise. */
		signal(SIGPROF, ignore_sigprof ? SIG_IGN : SIG_DFL);
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 1);
		execve(argv[0], argv, sc__heap_session_envp(s));
		_exit(127);
	}
	CHECK(pid > 0);
	int status = 0;
	struct rusage ru;
	CHECK(wait4(pid, &status, 0, &ru) == pid);
	r->pid = (uint32_t)pid;
	r->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	sc_heap_profile h;
	CHECK_INT(sc__heap_session_finish(s, pid, status, &h), 0);
	CHECK(h.available && h.complete);
	sc__heap_profile_release(&h);
	r->status_rc = sc__heap_session_cpu_status(s, (uint32_t)pid, r->why, sizeof r->why);
	CHECK_INT(sc__heap_session_take_cpu(s, &r->raw), 0);
	sc__heap_session_free(s);
}

/* The mapping of the object at path in process pid, or NULL. */
static const sc__cpu_mapping *mapping_named(const sc__cpu_raw *raw, uint32_t pid, const char *path)
{
	for (size_t i = 0; i < raw->n_maps; i++)
		if (raw->maps[i].pid == pid && strcmp(raw->maps[i].path, path) == 0)
			return &raw->maps[i];
	return NULL;
}

/* Samples whose first frame (the interrupted instruction) lies in m. */
static size_t samples_in(const sc__cpu_raw *raw, const sc__cpu_mapping *m)
{
	size_t n = 0;
	for (size_t i = 0; i < raw->n_samples; i++) {
		const sc__cpu_sample *c = &raw->samples[i];
		uint64_t ip = c->n_frames ? raw->frames[c->first_frame] : 0;
		n += m && ip >= m->start && ip < m->end;
	}
	return n;
}

/*
 * Expected samples: CPU time x rate. The kernel checks CPU timers at its tick, and a sample
 * carries the periods that expired since the last one (heap_wire.h), so the count follows the
 * thread CPU clock to within one period per thread, plus what ran before the timer was armed
 * (the loader) or after the EXIT record (exit handlers): about a millisecond. 10% leaves room for
 * that and for the tick's granularity at the end of each thread's life.
 */
static void test_cpu_timer_single(void)
{
	char *argv[] = {target("cpu_bound"), "300", NULL};
	cpu_run r;
	run_sampled(argv, 997, false, &r);
	CHECK_INT(r.exit_status, 0);
	CHECK_INT(r.status_rc, 0);
	double expected = r.cpu_s * 997;
	printf("cpu_bound 300: %zu samples, cpu %.3f s, expected %.0f\n", r.raw.n_samples, r.cpu_s,
	       expected);
	/* A sample standing for several timer periods weighs that many. */
	CHECK(sc__cpu_raw_weight(&r.raw) >= 0.9 * expected &&
	      sc__cpu_raw_weight(&r.raw) <= 1.1 * expected);
	const sc__cpu_mapping *exe = mapping_named(&r.raw, r.pid, target("cpu_bound"));
	CHECK(exe != NULL);
	if (exe) {
		CHECK(exe->bias_known);
		CHECK(exe->start < exe->end && exe->bias <= exe->start);
	}
	/* The loop is main's own code, bar a clock_gettime (vdso) per 10,000 additions. */
	size_t in_exe = samples_in(&r.raw, exe);
	printf("  %zu in the executable\n", in_exe);
	CHECK(in_exe >= 0.8 * r.raw.n_samples);
	for (size_t i = 0; i < r.raw.n_samples; i++) {
		const sc__cpu_sample *c = &r.raw.samples[i];
		CHECK(c->pid == r.pid && c->tid == r.pid && c->region == -1);
		CHECK(c->n_frames >= 1 && c->n_frames <= HEAP_MAX_CPU_FRAMES);
		if (c->pid != r.pid || c->n_frames < 1)
			break;
	}
	CHECK(r.raw.n_processes >= 1);
	sc__cpu_raw_release(&r.raw);

	/* Another rate: samples scale with it. */
	run_sampled(argv, 250, false, &r);
	expected = r.cpu_s * 250;
	printf("cpu_bound 300 at 250 Hz: %zu samples, expected %.0f\n", r.raw.n_samples, expected);
	/* A sample standing for several timer periods weighs that many. */
	CHECK(sc__cpu_raw_weight(&r.raw) >= 0.9 * expected &&
	      sc__cpu_raw_weight(&r.raw) <= 1.1 * expected);
	sc__cpu_raw_release(&r.raw);
}

static void test_cpu_timer_threads(void)
{
	char *argv[] = {target("cpu_two_threads"), "150", "7", NULL};
	cpu_run r;
	run_sampled(argv, 997, false, &r);
	CHECK_INT(r.exit_status, 7);
	CHECK_INT(r.status_rc, 0);
	double expected = r.cpu_s * 997;
	printf("cpu_two_threads 150: %zu samples weighing %llu, cpu %.3f s, expected %.0f\n",
	       r.raw.n_samples, (unsigned long long)sc__cpu_raw_weight(&r.raw), r.cpu_s, expected);
	/* A sample standing for several timer periods weighs that many. */
	CHECK(sc__cpu_raw_weight(&r.raw) >= 0.9 * expected &&
	      sc__cpu_raw_weight(&r.raw) <= 1.1 * expected);
	/* Two workers, about half each of the weight (the CPU time the samples stand for: a
	 * stored sample may stand for several periods, more for a thread whose ticks came late);
	 * the main thread only waits. */
	uint32_t tids[8] = {0};
	uint64_t weights[8] = {0}, total = sc__cpu_raw_weight(&r.raw);
	size_t n_tids = 0;
	for (size_t i = 0; i < r.raw.n_samples; i++) {
		size_t k = 0;
		while (k < n_tids && tids[k] != r.raw.samples[i].tid)
			k++;
		if (k == n_tids && n_tids < 8)
			tids[n_tids++] = r.raw.samples[i].tid;
		if (k < 8)
			weights[k] += r.raw.samples[i].weight;
	}
	size_t busy = 0;
	for (size_t k = 0; k < n_tids; k++) {
		CHECK(tids[k] != r.pid || weights[k] < total / 20);
		if (tids[k] != r.pid) {
			busy++;
			CHECK(weights[k] >= 0.4 * (double)total);
		}
	}
	CHECK_INT(busy, 2);
	/* Frames: the interrupted instruction in the executable (burn) for most, its caller
	 * (worker) next, found by the frame-pointer walk; never a return address in the shim (our
	 * thread start trampoline is left out). */
	const sc__cpu_mapping *exe = mapping_named(&r.raw, r.pid, target("cpu_two_threads"));
	CHECK(exe != NULL);
	CHECK(samples_in(&r.raw, exe) >= 0.8 * r.raw.n_samples);
	const char *shim = getenv("SHOTCLOCK_HEAP_SHIM");
	char shim_real[4096];
	CHECK(realpath(shim, shim_real) != NULL);
	const sc__cpu_mapping *sm = mapping_named(&r.raw, r.pid, shim_real);
	CHECK(sm != NULL);
	size_t deep = 0;
	for (size_t i = 0; sm && exe && i < r.raw.n_samples; i++) {
		const sc__cpu_sample *c = &r.raw.samples[i];
		deep += c->n_frames >= 2 && r.raw.frames[c->first_frame + 1] >= exe->start &&
		        r.raw.frames[c->first_frame + 1] < exe->end;
		for (uint32_t j = 1; j < c->n_frames; j++) {
			uint64_t a = r.raw.frames[c->first_frame + j];
			CHECK(a < sm->start || a >= sm->end);
		}
	}
	CHECK(deep >= 0.8 * r.raw.n_samples);
	sc__cpu_raw_release(&r.raw);
}

/* The program's own SIGPROF wins: set later (sigaction or signal), or ignored from the start. */
static void test_cpu_timer_own_sigprof(void)
{
	const char *how[] = {"sigaction", "signal"};
	for (size_t i = 0; i < 2; i++) {
		char *argv[] = {target("cpu_own_sigprof"), (char *)how[i], "100", NULL};
		cpu_run r;
		run_sampled(argv, 997, false, &r);
		/* Its handler ran (exit 0), and found SIGPROF at its default first (not 3). */
		CHECK_INT(r.exit_status, 0);
		CHECK_INT(r.status_rc, SC_EUNAVAILABLE);
		CHECK_STR(r.why, "the program set its own SIGPROF action while running, so the "
		                 "timer sampler stood down from then on");
		/* Only what ran before main (the loader's work): a few samples at most. */
		printf("cpu_own_sigprof %s: %zu samples\n", how[i], r.raw.n_samples);
		CHECK(r.raw.n_samples <= 5);
		sc__cpu_raw_release(&r.raw);
	}
	char *argv[] = {target("cpu_bound"), "50", NULL};
	cpu_run r;
	run_sampled(argv, 997, true, &r);
	CHECK_INT(r.exit_status, 0);
	CHECK_INT(r.status_rc, SC_EUNAVAILABLE);
	CHECK_STR(r.why,
	          "the program has its own SIGPROF handler, so the timer sampler stood down");
	CHECK_INT(r.raw.n_samples, 0);
	sc__cpu_raw_release(&r.raw);
}

/* Without enable_cpu_timer there is no variable, no record and no sample. */
static void test_cpu_timer_off(void)
{
	sc_command_options o = {0};
	sc__heap_session *s = NULL;
	CHECK_INT(sc__heap_session_new(&o, &s), 0);
	if (!s)
		return;
	CHECK(env_value(sc__heap_session_envp(s), HEAP_ENV_CPU_RATE) == NULL);
	CHECK_INT(sc__heap_session_enable_cpu_timer(s, 0), SC_EINVAL);
	CHECK_INT(sc__heap_session_enable_cpu_timer(s, 100), 0);
	CHECK_INT(sc__heap_session_enable_cpu_timer(s, 997), 0);
	CHECK_STR(env_value(sc__heap_session_envp(s), HEAP_ENV_CPU_RATE), "997");
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	/* Not before the run was finished: the reader may still be adding. */
	CHECK_INT(sc__heap_session_take_cpu(s, &raw), SC_EINVAL);
	sc__heap_session_free(s);
	sc__cpu_raw_release(&raw);
}

/* ---- which programs the shim can work in ----------------------------------------------------- */

static bool copy_file(const char *from, const char *to, mode_t mode)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
	bool ok = in >= 0 && out >= 0;
	char buf[65536];
	ssize_t n;
	while (ok && (n = read(in, buf, sizeof buf)) > 0)
		ok = write(out, buf, (size_t)n) == n;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ok && chmod(to, mode) == 0;
}

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	CHECK(fp != NULL);
	if (fp) {
		fputs(text, fp);
		fclose(fp);
	}
	chmod(path, 0755);
}

static const char *const STATIC_REASON =
    "static binary: the dynamic loader, which applies LD_PRELOAD, never runs";

static void test_check_executable(void)
{
	char why[200];
	/* The spawner is linked with -static. */
	CHECK_INT(sc__heap_check_executable(getenv("SHOTCLOCK_SPAWNER"), why, sizeof why),
	          SC_EUNAVAILABLE);
	CHECK_STR(why, STATIC_REASON);
	CHECK_INT(sc__heap_check_executable("/bin/sh", why, sizeof why), 0);
	CHECK_STR(why, "");
	CHECK_INT(sc__heap_check_executable(target("exit_with"), why, sizeof why), 0);
	/* What cannot be judged is left for the run to tell. */
	CHECK_INT(sc__heap_check_executable("/nonexistent/program", why, sizeof why), 0);
	CHECK_INT(sc__heap_check_executable("/", why, sizeof why), 0);
	CHECK_INT(sc__heap_check_executable(NULL, why, sizeof why), SC_EINVAL);
	CHECK_INT(sc__heap_check_executable("/bin/sh", NULL, 0), 0);
	/* The loader itself, run as the program, applies LD_PRELOAD. */
	const char *loaders[] = {"/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1"};
	for (size_t i = 0; i < 2; i++)
		if (access(loaders[i], R_OK) == 0)
			CHECK_INT(sc__heap_check_executable(loaders[i], why, sizeof why), 0);

	/* Scripts: the interpreter is what the shim goes into. */
	write_text(scratch_path("script.sh"), "#!/bin/sh\necho hello\n");
	CHECK_INT(sc__heap_check_executable(scratch_path("script.sh"), why, sizeof why), 0);
	char text[4200];
	snprintf(text, sizeof text, "#! %s -x\n", getenv("SHOTCLOCK_SPAWNER"));
	write_text(scratch_path("static.sh"), text);
	CHECK_INT(sc__heap_check_executable(scratch_path("static.sh"), why, sizeof why),
	          SC_EUNAVAILABLE);
	CHECK_STR(why, STATIC_REASON);
	snprintf(text, sizeof text, "#!%s\n", scratch_path("static.sh"));
	write_text(scratch_path("nested.sh"), text);
	CHECK_INT(sc__heap_check_executable(scratch_path("nested.sh"), why, sizeof why),
	          SC_EUNAVAILABLE);
	write_text(scratch_path("data.txt"), "plain text\n");
	CHECK_INT(sc__heap_check_executable(scratch_path("data.txt"), why, sizeof why), 0);

	/* Set-user-ID: secure execution (and LD_PRELOAD refused) only when the program's owner is
	 * not the user running it. */
	struct statvfs vfs;
	if (statvfs(scratch, &vfs) != 0 || (vfs.f_flag & ST_NOSUID)) {
		printf("skipped: %s is mounted nosuid\n", scratch);
	} else {
		const char *copy = scratch_path("suid_true");
		CHECK(copy_file("/bin/true", copy, 04755));
		CHECK_INT(sc__heap_check_executable(copy, why, sizeof why), 0);
		if (getuid() == 0) {
			CHECK(chown(copy, 65534, (gid_t)-1) == 0 && chmod(copy, 04755) == 0);
			CHECK_INT(sc__heap_check_executable(copy, why, sizeof why),
			          SC_EUNAVAILABLE);
			CHECK_STR(why, "set-user-ID program: the loader ignores LD_PRELOAD");
			CHECK(chown(copy, 0, 65534) == 0 && chmod(copy, 02755) == 0);
			CHECK_INT(sc__heap_check_executable(copy, why, sizeof why),
			          SC_EUNAVAILABLE);
			CHECK_STR(why, "set-group-ID program: the loader ignores LD_PRELOAD");
			/* Set-group-ID without group execute marks mandatory locking. */
			CHECK(chmod(copy, 02745) == 0);
			CHECK_INT(sc__heap_check_executable(copy, why, sizeof why), 0);
		} else {
			const char *suid[] = {"/usr/bin/su", "/bin/su", "/usr/bin/passwd",
			                      "/usr/bin/mount"};
			struct stat st;
			for (size_t i = 0; i < 4; i++) {
				if (stat(suid[i], &st) == 0 && (st.st_mode & S_ISUID) &&
				    st.st_uid != getuid()) {
					CHECK_INT(
					    sc__heap_check_executable(suid[i], why, sizeof why),
					    SC_EUNAVAILABLE);
					break;
				}
			}
		}
		unlink(copy);
	}
}

/* cpu_ratio's work_three is a leaf GCC builds without a frame: the frame pointers alone skip
 * main, its caller. Each sample's registers and 128 bytes of stack put it back when the builder
 * reads the CFI: every stack ending in work_three has main directly above it. */
static void test_cpu_timer_leaf_caller(void)
{
	char *argv[] = {target("cpu_ratio"), "3000", NULL};
	cpu_run r;
	run_sampled(argv, 997, false, &r);
	CHECK_INT(r.exit_status, 0);
	CHECK_INT(r.status_rc, 0);
	/* Every sample came with its copy: the main thread's stack is known to the shim. */
	size_t copies = 0;
	for (size_t i = 0; i < r.raw.n_samples; i++)
		copies += r.raw.samples[i].user_index != SIZE_MAX;
	CHECK_INT(copies, r.raw.n_samples);
	sc__cpu_build_options o = {
	    .sampler = "timer", .call_graph = "fp", .rate_hz = 997, .duration_s = NAN};
	sc_cpu_profile cpu;
	CHECK_INT(sc__cpu_profile_build(&r.raw, &o, &cpu, NULL, 0), 0);
	sc__cpu_raw_release(&r.raw);
	uint64_t leaf = 0, under_main = 0;
	for (size_t i = 0; i < cpu.n_stacks; i++) {
		const sc_cpu_stack *st = &cpu.stacks[i];
		size_t n = st->n_frames;
		if (n == 0 || strcmp(st->frames[n - 1], "work_three") != 0)
			continue;
		leaf += st->samples;
		if (n >= 2 && strcmp(st->frames[n - 2], "main") == 0)
			under_main += st->samples;
		else
			printf("  a work_three stack without main above: %s (%llu)\n",
			       n >= 2 ? st->frames[n - 2] : "-", (unsigned long long)st->samples);
	}
	printf("cpu_ratio 3000: %llu samples in work_three, %llu with main directly above\n",
	       (unsigned long long)leaf, (unsigned long long)under_main);
	CHECK(leaf >= 50);
	CHECK_INT(under_main, leaf);
	sc__cpu_profile_release(&cpu);
}

int main(void)
{
	if (targets_setup("test_heap_session") != 0)
		return 1;
	if (!getenv("SHOTCLOCK_HEAP_SHIM")) {
		fprintf(stderr, "test_heap_session: SHOTCLOCK_HEAP_SHIM must be set\n");
		return 1;
	}
	test_locate();
	test_environment();
	test_colon_path();
	test_run();
	test_killed();
	test_damaged();
	test_check_executable();
	test_cpu_timer_off();
	test_cpu_timer_single();
	test_cpu_timer_threads();
	test_cpu_timer_own_sigprof();
	test_cpu_timer_leaf_caller();
	const char *files[] = {"script.sh", "static.sh", "nested.sh", "data.txt"};
	targets_teardown(files, sizeof files / sizeof files[0]);
	return CHECK_DONE();
}

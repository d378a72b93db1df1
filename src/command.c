/* command.c: profiling a command: warm-up, timed, sampled and heap-instrumented runs, via the
 * spawner.
 */
#define _GNU_SOURCE
#include "cpu_samples.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MIN_RUNS    5
#define DEFAULT_MAX_RUNS    1000
#define DEFAULT_MIN_TIME_S  3.0
#define TIMELINE_MAX_POINTS 2000
/* A command line longer than this is cut in failure messages (they are one line of 256). */
#define MESSAGE_COMMAND_MAX 120

/* Everything one command's profile works with, from sc__command_session_new to _finish. */
typedef struct sc__command_session {
	const sc_command_options *o;
	char **argv;   /* what the spawner runs: o->argv, or /bin/sh -c ... */
	char **shell;  /* argv when it was built for --shell (ours to free), else NULL */
	char *cmdline; /* the command line, for the profile and messages */
	sc__spawner *spawner;
	sc_profile *p;
	sc_command_failure *failure;
	size_t runs_cap;
	double timeline_peak_mb;     /* peak RSS of the timeline run; NAN when it did not run */
	int64_t min_maxrss_kb;       /* smallest ru_maxrss of a measured run; -1 before the first */
	double last_wall_s;          /* of the run before, for progress */
	bool warmup_failed;          /* a warm-up run failed: no run after it happens */
	sc__region_channel *regions; /* the timed runs' regions (region_channel.c); NULL: none */
} session;

/* ---- options and the command line -------------------------------------------------------- */

static int check_options(const sc_command_options *o)
{
	if (!o->argv || !o->argv[0] || !o->argv[0][0])
		return SC_EINVAL;
	if (o->output != SC_OUTPUT_NULL && o->output != SC_OUTPUT_INHERIT &&
	    o->output != SC_OUTPUT_FILE)
		return SC_EINVAL;
	if (o->output == SC_OUTPUT_FILE && (!o->output_path || !o->output_path[0]))
		return SC_EINVAL;
	if (!(o->timeout_s >= 0) || isinf(o->timeout_s) || isnan(o->min_time_s) ||
	    isinf(o->min_time_s))
		return SC_EINVAL;
	if (o->min_runs && o->max_runs && o->min_runs > o->max_runs)
		return SC_EINVAL;
	return 0;
}

/* A word a POSIX shell reads back as itself needs no quotes. A first word with '=' would be
 * read as an assignment. */
static bool needs_quotes(const char *w, bool first)
{
	if (!*w || (first && strchr(w, '=')))
		return true;
	for (; *w; w++) {
		if (!((*w >= 'a' && *w <= 'z') || (*w >= 'A' && *w <= 'Z') ||
		      (*w >= '0' && *w <= '9') || strchr("_@%+=:,./-", *w)))
			return true;
	}
	return false;
}

/* Single quotes protect everything except the single quote, which becomes '\''. */
static void put_word(FILE *f, const char *w, bool first)
{
	if (!needs_quotes(w, first)) {
		fputs(w, f);
		return;
	}
	fputc('\'', f);
	for (; *w; w++) {
		if (*w == '\'')
			fputs("'\\''", f);
		else
			fputc(*w, f);
	}
	fputc('\'', f);
}

/* The command line as a shell would read it back; with `shell`, argv[0] is already shell text. */
static char *join_command(const sc_command_options *o)
{
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	for (size_t i = 0; o->argv[i]; i++) {
		if (i > 0)
			fputc(' ', f);
		if (i == 0 && o->shell)
			fputs(o->argv[0], f);
		else
			put_word(f, o->argv[i], i == 0);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* {"/bin/sh", "-c", argv[0], argv[1], ...}: argv[1..] become $0, $1, ... as with sh -c. */
static char **shell_argv(char *const *argv)
{
	size_t n = 0;
	while (argv[n])
		n++;
	char **v = malloc((n + 3) * sizeof *v);
	if (!v)
		return NULL;
	v[0] = "/bin/sh";
	v[1] = "-c";
	memcpy(v + 2, argv, (n + 1) * sizeof *v);
	return v;
}

/* ---- failures ---------------------------------------------------------------------------- */

static const char *signal_name(int sig, char *buf, size_t cap)
{
	const char *abbrev = sigabbrev_np(sig);
	if (abbrev)
		snprintf(buf, cap, "SIG%s", abbrev);
	else
		snprintf(buf, cap, "signal %d", sig);
	return buf;
}

/* "run 3 of 'cmd'", "warm-up run 1 of 'cmd'", "the timeline run of 'cmd'", "the heap run of ...".
 */
static void describe_run(const session *ss, const char *phase, size_t index, char *buf, size_t cap)
{
	const char *cmd = ss->cmdline;
	int cut = strlen(cmd) > MESSAGE_COMMAND_MAX;
	int shown = cut ? MESSAGE_COMMAND_MAX - 3 : MESSAGE_COMMAND_MAX;
	const char *dots = cut ? "..." : "";
	if (!strcmp(phase, "timeline") || !strcmp(phase, "heap") || !strcmp(phase, "sampled"))
		snprintf(buf, cap, "the %s run of '%.*s%s'", phase, shown, cmd, dots);
	else
		snprintf(buf, cap, "%s %zu of '%.*s%s'",
		         !strcmp(phase, "run") ? "run" : "warm-up run", index + 1, shown, cmd,
		         dots);
}

static void fail(session *ss, const char *phase, size_t index, int sys_errno, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void fail(session *ss, const char *phase, size_t index, int sys_errno, const char *fmt, ...)
{
	sc_command_failure *f = ss->failure;
	f->phase = phase;
	f->run_index = index;
	f->sys_errno = sys_errno;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof f->message, fmt, ap);
	va_end(ap);
}

/* Fills *failure for a run that exited non-zero, was killed, or timed out. */
static void fail_run(session *ss, const char *phase, size_t index, const sc_run *run)
{
	char what[200], sig[32];
	describe_run(ss, phase, index, what, sizeof what);
	sc_command_failure *f = ss->failure;
	if (run->timed_out)
		fail(ss, phase, index, 0,
		     "%s timed out after %.*f s and was killed with its process group", what,
		     ss->o->timeout_s < 0.1 ? 3 : 1, ss->o->timeout_s);
	else if (run->signal)
		fail(ss, phase, index, 0, "%s was killed by %s", what,
		     signal_name(run->signal, sig, sizeof sig));
	else
		fail(ss, phase, index, 0, "%s exited with code %d", what, run->exit_code);
	f->exit_code = run->exit_code;
	f->signal = run->signal;
	f->timed_out = run->timed_out;
}

/* Fills *failure for a command the spawner could not start; returns rc. */
static int fail_spawn(session *ss, const char *phase, size_t index, int rc, int err_no)
{
	const char *name = ss->argv[0];
	if (rc == SC_ENOTFOUND)
		fail(ss, phase, index, err_no, "command not found: '%s'", name);
	else if (rc == SC_ENOEXEC)
		fail(ss, phase, index, err_no, "cannot execute '%s': %s", name, strerror(err_no));
	else
		fail(ss, phase, index, err_no, "cannot start '%s': %s", name,
		     err_no ? strerror(err_no) : sc_strerror(rc));
	return rc;
}

/* ---- one run ----------------------------------------------------------------------------- */

/* Waits until the spawner's reply says the child exited, killing its process group at the
 * deadline and ticking the sampler when it is due. Returns whether the run timed out. */
static bool wait_for_exit(session *ss, pid_t pid, uint64_t deadline, sc__sampler *sampler)
{
	bool timed_out = false;
	struct pollfd pfd = {.fd = sc__spawner_fd(ss->spawner), .events = POLLIN};
	for (;;) {
		uint64_t wake = deadline;
		if (sampler && sc__sampler_due_ns(sampler) < wake)
			wake = sc__sampler_due_ns(sampler);
		struct timespec ts, *timeout = NULL;
		if (wake != UINT64_MAX) {
			uint64_t now = sc__now_ns(), left = wake > now ? wake - now : 0;
			ts = (struct timespec){(time_t)(left / 1000000000u),
			                       (long)(left % 1000000000u)};
			timeout = &ts;
		}
		int r = ppoll(&pfd, 1, timeout, NULL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != 0)
			return timed_out; /* the reply (or the spawner's end) is there */
		uint64_t now = sc__now_ns();
		if (now >= deadline) {
			/* The child leads its own process group (the spawner's SETPGROUP), so this
			 * reaches everything it started that stayed in the group. The group cannot
			 * have been reused: its leader is reaped only by the spawner, and a pid
			 * comes back only after pid_max others, not within this loop. */
			kill(-pid, SIGKILL);
			timed_out = true;
			deadline = UINT64_MAX;
		}
		if (sampler && now >= sc__sampler_due_ns(sampler))
			sc__sampler_tick(sampler, now);
	}
}

static void fill_run(sc_run *run, const sc__exit *ex, bool timed_out)
{
	const struct rusage *ru = &ex->ru;
	*run = (sc_run){
	    .wall_s = (double)ex->wall_ns / 1e9,
	    .user_s = sc__timeval_s(ru->ru_utime),
	    .sys_s = sc__timeval_s(ru->ru_stime),
	    .peak_rss_mb = (double)ru->ru_maxrss / 1024.0, /* ru_maxrss is in kB on Linux */
	    .minor_faults = ru->ru_minflt,
	    .major_faults = ru->ru_majflt,
	    .voluntary_context_switches = ru->ru_nvcsw,
	    .involuntary_context_switches = ru->ru_nivcsw,
	    .read_bytes = (int64_t)ru->ru_inblock * 512, /* blocks of 512 bytes, getrusage(2) */
	    .write_bytes = (int64_t)ru->ru_oublock * 512,
	    .exit_code = WIFEXITED(ex->status) ? WEXITSTATUS(ex->status) : -1,
	    .signal = WIFSIGNALED(ex->status) ? WTERMSIG(ex->status) : 0,
	    /* Killed by us, not merely at the deadline: a command that exited on its own just
	     * before the kill landed did not time out. */
	    .timed_out = timed_out && WIFSIGNALED(ex->status) && WTERMSIG(ex->status) == SIGKILL,
	};
}

/*
 * Runs the command once and fills *run. With sampled, the run's timeline goes into the profile.
 * envp NULL is our environment. With pid_out, the command's pid and raw wait status are stored
 * there (the heap collector needs both). Returns 0 (the run may still have failed: see *run), or
 * an error with *failure filled.
 */
static int run_once(session *ss, const char *phase, size_t index, size_t planned, bool sampled,
                    char *const *envp, sc_run *run, pid_t *pid_out, int *status_out)
{
	const sc_command_options *o = ss->o;
	if (o->progress) {
		sc_progress pr = {phase, index, planned, ss->last_wall_s};
		o->progress(o->progress_ctx, &pr);
	}
	uint64_t t0 = sc__now_ns();
	/* 2^64 ns is 584 years: any longer timeout is no timeout. */
	bool has_timeout = o->timeout_s > 0 && o->timeout_s < 1.8e10;
	/* The pid is needed only to sample the command or to kill it at the deadline; not asking
	 * for it keeps the spawner's reply (and our wake-up) out of the timed window. */
	bool need_pid = sampled || has_timeout || pid_out;
	pid_t pid = 0;
	int err_no;
	int rc = sc__spawner_start(ss->spawner, ss->argv, envp, need_pid ? &pid : NULL, &err_no);
	if (rc)
		return fail_spawn(ss, phase, index, rc, err_no);
	/* The deadline counts from the moment the command is known to run: the spawner's clock
	 * started before that, so a killed run's wall time is never below the timeout. */
	uint64_t deadline =
	    has_timeout ? sc__now_ns() + (uint64_t)(o->timeout_s * 1e9) : UINT64_MAX;

	sc__sampler *sampler = NULL;
	int sampler_rc = sampled ? sc__sampler_new(pid, t0, TIMELINE_MAX_POINTS, &sampler) : 0;
	bool timed_out = wait_for_exit(ss, pid, deadline, sampler);

	sc__exit ex;
	rc = sc__spawner_finish(ss->spawner, &ex, &err_no);
	if (rc && !sc__spawner_lost(ss->spawner)) {
		/* The helper is fine, so the command never started (reported here without pid). */
		sc__sampler_free(sampler);
		return fail_spawn(ss, phase, index, rc, err_no);
	}
	if (rc) {
		sc__sampler_free(sampler);
		char what[200];
		describe_run(ss, phase, index, what, sizeof what);
		fail(ss, phase, index, 0, "the helper shotclock-spawner stopped during %s", what);
		return SC_ESPAWN;
	}
	fill_run(run, &ex, timed_out);
	ss->last_wall_s = run->wall_s;
	if (pid_out) {
		*pid_out = pid;
		*status_out = ex.status;
	}
	if (sampler) {
		sc_profile *p = ss->p;
		sc__sampler_take(sampler, &p->timeline, &p->n_timeline, &p->timeline_interval_s);
		sc__sampler_free(sampler);
	}
	if (sampler_rc) {
		fail(ss, phase, index, 0, "no memory for the timeline of %s", ss->cmdline);
		return sampler_rc;
	}
	/* The heap run's peak includes the shim's own memory: it is no floor for the command. */
	if (strcmp(phase, "warmup") != 0 && strcmp(phase, "heap") != 0 &&
	    strcmp(phase, "sampled") != 0 &&
	    (ss->min_maxrss_kb < 0 || ex.ru.ru_maxrss < ss->min_maxrss_kb))
		ss->min_maxrss_kb = ex.ru.ru_maxrss;
	return 0;
}

static bool run_failed(const sc_run *run)
{
	return run->timed_out || run->signal || run->exit_code != 0;
}

/* One run that counts: a failed one ends the profile with SC_ECOMMAND unless ignore_failure. */
static int run_checked(session *ss, const char *phase, size_t index, size_t planned, bool sampled,
                       sc_run *run)
{
	int rc = run_once(ss, phase, index, planned, sampled, sc__region_channel_envp(ss->regions),
	                  run, NULL, NULL);
	if (rc)
		return rc;
	if (run_failed(run) && !ss->o->ignore_failure) {
		fail_run(ss, phase, index, run);
		return SC_ECOMMAND;
	}
	return 0;
}

/* ---- the phases -------------------------------------------------------------------------- */

/* One timed run, appended to the profile; a failed run is kept too: it was measured. */
static int push_timed_run(session *ss, size_t planned)
{
	sc_profile *p = ss->p;
	if (p->n_runs == ss->runs_cap) {
		size_t cap = ss->runs_cap ? 2 * ss->runs_cap : 16;
		sc_run *grown = realloc(p->runs, cap * sizeof *grown);
		if (!grown)
			return SC_ENOMEM;
		p->runs = grown;
		ss->runs_cap = cap;
	}
	if (!ss->regions) /* from the first timed run on; best effort (NULL: no regions) */
		ss->regions = sc__region_channel_new();
	int rc = run_checked(ss, "run", p->n_runs, planned, false, &p->runs[p->n_runs]);
	if (rc == 0 || rc == SC_ECOMMAND)
		p->n_runs++;
	return rc;
}

/* Timed runs: exactly o->runs, or until both min_runs and min_time_s are met (at most max_runs).
 * Time counts from the start of the first timed run, spawning included, as the user waits it. */
static int timed_runs(session *ss)
{
	const sc_command_options *o = ss->o;
	size_t max_runs = o->max_runs ? o->max_runs : DEFAULT_MAX_RUNS;
	size_t min_runs = o->min_runs ? o->min_runs : DEFAULT_MIN_RUNS;
	if (min_runs > max_runs)
		min_runs = max_runs; /* only max_runs was given */
	double min_time = o->min_time_s < 0 ? DEFAULT_MIN_TIME_S : o->min_time_s;
	uint64_t start = sc__now_ns();
	for (size_t i = 0;; i++) {
		size_t planned = o->runs;
		if (!o->runs) {
			double elapsed = (double)(sc__now_ns() - start) / 1e9;
			if (i >= max_runs || (i >= min_runs && elapsed >= min_time))
				break;
			/* The plan: enough runs of the mean length so far to fill min_time. */
			planned = min_runs;
			if (i > 0) {
				double need = ceil(min_time / (elapsed / (double)i));
				if (need > (double)planned)
					planned = need < (double)max_runs ? (size_t)need : max_runs;
			}
			if (planned < i + 1)
				planned = i + 1;
		} else if (i >= o->runs) {
			break;
		}
		int rc = push_timed_run(ss, planned);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- the profile ------------------------------------------------------------------------- */

/* The spawner's own peak RSS is a floor under every ru_maxrss it reports (see internal.h); when a
 * run's figure is not above it, that figure may be the spawner's, not the command's. */
static void check_spawner_floor(session *ss)
{
	if (ss->min_maxrss_kb < 0)
		return;
	char path[64], text[4096];
	snprintf(path, sizeof path, "/proc/%d/status", (int)sc__spawner_pid(ss->spawner));
	sc__proc_status st;
	if (sc__read_text_file(path, text, sizeof text, NULL) != 0 ||
	    sc__parse_proc_status(text, &st) != 0 || st.vm_hwm_kb < 0)
		return;
	if (st.vm_hwm_kb >= ss->min_maxrss_kb)
		sc__unavailable_push(
		    ss->p, "memory.peak_memory_mb",
		    "a run's peak RSS (%lld kB) is not above the spawner's own peak "
		    "(%lld kB), which exec carries into the command: an upper bound",
		    (long long)ss->min_maxrss_kb, (long long)st.vm_hwm_kb);
}

/* Memory of a command: it did not exist before it ran, so its baseline is 0 and the increase is
 * its peak, the largest ru_maxrss of the timed runs and the timeline run. */
static void fill_memory(session *ss)
{
	sc_profile *p = ss->p;
	double peak = ss->timeline_peak_mb;
	for (size_t i = 0; i < p->n_runs; i++) {
		if (isnan(peak) || p->runs[i].peak_rss_mb > peak)
			peak = p->runs[i].peak_rss_mb;
	}
	p->memory = (sc_memory_profile){
	    .baseline_memory_mb = 0,
	    .peak_memory_mb = peak,
	    .memory_increase_mb = peak,
	    .peak_reset = true,
	    .minor_faults = -1,
	    .major_faults = -1,
	};
}

/* Name, kind, command line: what identifies the profile even when no run succeeded. */
static int fill_identity(session *ss)
{
	const sc_command_options *o = ss->o;
	sc_profile *p = ss->p;
	p->kind = "command";
	p->n_samples = o->n_samples ? o->n_samples : 1;
	p->n_warmup = o->warmup;
	p->command = strdup(ss->cmdline);
	p->name = strdup(o->name ? o->name : ss->cmdline);
	return p->command && p->name ? 0 : SC_ENOMEM;
}

/* Opens where the command's output goes; *out_fd and *err_fd are -1 for /dev/null. *owned is
 * the fd to close afterwards (or -1). */
static int open_output(session *ss, int *out_fd, int *err_fd, int *owned)
{
	const sc_command_options *o = ss->o;
	*out_fd = *err_fd = *owned = -1;
	if (o->output == SC_OUTPUT_INHERIT) {
		*out_fd = STDOUT_FILENO;
		*err_fd = STDERR_FILENO;
	} else if (o->output == SC_OUTPUT_FILE) {
		/* Truncated once, then appended to: every run writes after the one before it,
		 * also when several commands being compared share the file. */
		int fd =
		    open(o->output_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0) {
			int saved = errno;
			fail(ss, "run", 0, saved, "cannot open output file '%s': %s",
			     o->output_path, strerror(saved));
			errno = saved;
			return SC_EIO;
		}
		*out_fd = *err_fd = *owned = fd;
	}
	return 0;
}

/* The extra run that samples memory and CPU, unless it was turned off or would hold no point. */
static int timeline_run(session *ss)
{
	if (ss->o->no_timeline) {
		/* Not sampled is not "sampled every 0 s": the report says why both are missing. */
		ss->p->timeline_interval_s = NAN;
		sc__unavailable_push(ss->p, "memory.timeline", "not sampled (--no-timeline)");
		sc__unavailable_push(ss->p, "memory.timeline_interval_s",
		                     "not sampled (--no-timeline)");
		return 0;
	}
	/* The first sample is due one interval after the start: when every timed run ended before
	 * that, a sampled run would most likely hold no point either, so it is not worth its time.
	 */
	double longest_s = 0;
	for (size_t i = 0; i < ss->p->n_runs; i++)
		longest_s = fmax(longest_s, ss->p->runs[i].wall_s);
	double first_s = SC__SAMPLER_FIRST_INTERVAL_NS / 1e9;
	if (ss->p->n_runs > 0 && longest_s < first_s) {
		ss->p->timeline_interval_s = NAN;
		for (int i = 0; i < 2; i++)
			sc__unavailable_push(
			    ss->p, i ? "memory.timeline_interval_s" : "memory.timeline",
			    "not sampled: every timed run (longest %.1f ms) ended before "
			    "the first sample was due (%.0f ms); the peak comes from "
			    "wait4 alone",
			    longest_s * 1e3, first_s * 1e3);
		return 0;
	}
	sc_run run;
	int rc = run_checked(ss, "timeline", 0, 1, true, &run);
	if (rc == 0 || rc == SC_ECOMMAND)
		ss->timeline_peak_mb = run.peak_rss_mb;
	if (rc == 0 && ss->p->n_timeline == 0)
		sc__unavailable_push(
		    ss->p, "memory.timeline",
		    "the sampled run lasted %.1f ms, less than one sampling interval "
		    "(%.0f ms); the peak comes from wait4 alone",
		    run.wall_s * 1e3, ss->p->timeline_interval_s * 1e3);
	return rc;
}

/* ---- the heap run ------------------------------------------------------------------------ */

/* Marks the heap profile as not measured, with the reason; every figure reads "unknown". */
static void heap_unavailable(session *ss, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void heap_unavailable(session *ss, const char *fmt, ...)
{
	sc_heap_profile *h = &ss->p->heap;
	sc__heap_profile_release(h);
	*h = sc__heap_profile_unmeasured();
	h->sites_mode = ss->o->heap_sites_all ? "all" : "sampled";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->reason, sizeof h->reason, fmt, ap);
	va_end(ap);
}

/* Whether a regular file that we may execute sits at path. */
static bool is_executable_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/*
 * The file the spawner executes for argv[0], found as execvp and posix_spawnp find it: a name with
 * a '/' is the path itself, any other is searched in $PATH (glibc's default when it is unset), an
 * empty entry meaning the working directory. Returns 0 with the path, or SC_ENOTFOUND.
 */
static int resolve_program(const char *name, char *path, size_t cap)
{
	if (strchr(name, '/')) {
		if ((size_t)snprintf(path, cap, "%s", name) >= cap)
			return SC_ENOTFOUND;
		return 0;
	}
	const char *search = getenv("PATH");
	if (!search)
		search = "/bin:/usr/bin";
	for (const char *dir = search;; dir++) {
		const char *end = strchrnul(dir, ':');
		int len = (int)(end - dir);
		int n = len ? snprintf(path, cap, "%.*s/%s", len, dir, name)
		            : snprintf(path, cap, "%s", name);
		if (n > 0 && (size_t)n < cap && is_executable_file(path))
			return 0;
		if (!*end)
			return SC_ENOTFOUND;
		dir = end;
	}
}

static bool any_run_failed(const sc_profile *p)
{
	for (size_t i = 0; i < p->n_runs; i++) {
		if (run_failed(&p->runs[i]))
			return true;
	}
	return false;
}

/* What went wrong with the heap run, in the words of the other messages: "killed by SIGSEGV". */
static void describe_outcome(const session *ss, const sc_run *run, char *buf, size_t cap)
{
	char sig[32];
	if (run->timed_out)
		snprintf(buf, cap, "timed out after %.*f s", ss->o->timeout_s < 0.1 ? 3 : 1,
		         ss->o->timeout_s);
	else if (run->signal)
		snprintf(buf, cap, "killed by %s", signal_name(run->signal, sig, sizeof sig));
	else
		snprintf(buf, cap, "exited with code %d", run->exit_code);
}

/* The figures only this command knows: the run itself, and how it compares to the timed runs. */
static void heap_fill_run(session *ss, const sc_run *run)
{
	sc_profile *p = ss->p;
	sc_heap_profile *h = &p->heap;
	h->run_wall_s = run->wall_s;
	h->run_peak_rss_mb = run->peak_rss_mb;
	double sum = 0;
	for (size_t i = 0; i < p->n_runs; i++)
		sum += p->runs[i].wall_s;
	h->slowdown = p->n_runs > 0 && sum > 0 ? run->wall_s / (sum / (double)p->n_runs) : NAN;
	h->allocations_per_sample = ss->o->n_samples > 0 && h->allocations >= 0
	                                ? (double)h->allocations / (double)ss->o->n_samples
	                                : NAN;
}

/*
 * The run's outcome, judged against the timed runs. A program that behaves the same way under
 * the shim (a crash the timed runs share, under --ignore-failure) is simply incomplete when it
 * died; one that fails only under the shim keeps the profile, whose timed figures are sound, but
 * its heap figures are marked incomplete and a warning says so.
 */
static void heap_judge_outcome(session *ss, const sc_run *run)
{
	sc_heap_profile *h = &ss->p->heap;
	char what[120];
	describe_outcome(ss, run, what, sizeof what);
	if (run->timed_out || (run->signal && !h->incomplete_reason[0])) {
		/* The collector knows a signal; a timeout is ours to name. */
		h->complete = false;
		snprintf(h->incomplete_reason, sizeof h->incomplete_reason, "%s", what);
	}
	if (!run_failed(run) || any_run_failed(ss->p))
		return;
	if (h->complete) {
		h->complete = false;
		snprintf(h->incomplete_reason, sizeof h->incomplete_reason, "%s", what);
	}
	sc__warning_push(ss->p, "heap-run-failed",
	                 "run the command with LD_PRELOAD set to the shim to see why, or skip the "
	                 "heap run with --no-heap",
	                 "the heap run %s while every timed run succeeded: the heap figures "
	                 "describe a run that went differently",
	                 what);
}

/* ---- the CPU sampler of the instrumented run --------------------------------------------- */

/* Marks the CPU profile as not measured, with the reason. */
static void cpu_unavailable(session *ss, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void cpu_unavailable(session *ss, const char *fmt, ...)
{
	char reason[sizeof ss->p->cpu.reason];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	sc__cpu_profile_unavailable(&ss->p->cpu, "%s", reason);
}

/* Which sampler runs, decided before the run: perf_event when the kernel lets us, else the timer
 * sampler inside the heap shim (when the shim runs), else none, with the reason. */
typedef struct cpu_plan {
	sc__perf_sampler
	    *perf;  /* started on the spawner: its next child is sampled from its exec */
	bool timer; /* the heap shim samples itself */
	double rate_hz;
	bool dwarf;
	char note[200];          /* why the fallback, or "" */
	sc__region_trace *trace; /* the program's region begins and ends, when it has regions */
} cpu_plan;

static int cpu_plan_start(session *ss, bool heap_ok, const char *heap_reason, cpu_plan *plan)
{
	const sc_command_options *o = ss->o;
	*plan = (cpu_plan){
	    .rate_hz = o->cpu_sample_rate_hz > 0 ? o->cpu_sample_rate_hz : SC__CPU_DEFAULT_RATE_HZ,
	    .dwarf = o->cpu_call_graph && strcmp(o->cpu_call_graph, "dwarf") == 0,
	};
	if (o->no_cpu_samples) {
		cpu_unavailable(ss, "not measured (--no-cpu-samples)");
		return 0;
	}
	const char *which = o->cpu_sampler ? o->cpu_sampler : "auto";
	char why[200] = "";
	if (strcmp(which, "timer") != 0) {
		sc__perf_options po = {.rate_hz = plan->rate_hz, .dwarf = plan->dwarf};
		int rc = sc__perf_sampler_start(sc__spawner_pid(ss->spawner), &po, &plan->perf, why,
		                                sizeof why);
		if (rc == SC_ENOMEM)
			return rc;
		if (rc == 0)
			return 0;
		if (!why[0])
			snprintf(why, sizeof why, "perf_event_open failed: %s", sc_strerror(rc));
		if (strcmp(which, "perf_event") == 0) {
			cpu_unavailable(ss, "%s (--sampler perf_event allows no fallback)", why);
			return 0;
		}
	}
	if (!heap_ok) {
		/* The fallback lives in the heap shim: without it there is no sampler at all. */
		if (why[0])
			cpu_unavailable(ss,
			                "%s, and the timer sampler needs the heap shim, which %s",
			                why, heap_reason);
		else
			cpu_unavailable(ss, "the timer sampler needs the heap shim, which %s",
			                heap_reason);
		return 0;
	}
	plan->timer = true;
	if (why[0])
		snprintf(plan->note, sizeof plan->note, "%.160s: the timer sampler ran instead",
		         why);
	else
		snprintf(plan->note, sizeof plan->note,
		         "the timer sampler was asked for (--sampler)");
	if (plan->dwarf) {
		/* The timer sampler walks frame pointers in a signal handler and copies only 128
		 * bytes of stack (for a frameless leaf's caller): too little to unwind with DWARF.
		 */
		size_t used = strlen(plan->note);
		snprintf(plan->note + used, sizeof plan->note - used,
		         "; it walks frame pointers only, so --call-graph dwarf does not apply");
		plan->dwarf = false;
	}
	return 0;
}

/* After the run: the samples of whichever sampler ran, built into the profile's cpu section. */
static int cpu_plan_finish(session *ss, cpu_plan *plan, sc__heap_session *hs, const sc_run *run,
                           pid_t pid, bool ran)
{
	if (!plan->perf && !plan->timer)
		return 0;
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	int rc = 0;
	if (plan->perf) {
		rc = sc__perf_sampler_finish(plan->perf, &raw);
		sc__perf_sampler_free(plan->perf);
		plan->perf = NULL;
	} else if (hs) {
		/* The program's own SIGPROF handler wins over the timer sampler, which then says
		 * so. */
		char why[200] = "";
		if (sc__heap_session_cpu_status(hs, (uint32_t)pid, why, sizeof why) != 0) {
			cpu_unavailable(ss, "the timer sampler could not run: %s",
			                why[0] ? why : "no word from it");
			return 0;
		}
		rc = sc__heap_session_take_cpu(hs, &raw);
	}
	if (!rc && !ran)
		cpu_unavailable(ss, "not measured: the sampled run could not start");
	/* The regions the timed runs reported get the samples taken inside them, when the trace
	 * says which (otherwise their CPU figures stay unsampled). */
	sc_region_stats *regions = NULL;
	size_t n_regions = 0;
	if (!rc && ran && plan->trace) {
		int trc = sc__region_trace_collect(plan->trace, &raw, ss->p);
		plan->trace = NULL;
		if (trc == SC_ENOMEM)
			rc = trc;
		else if (trc == 0) {
			regions = ss->p->regions;
			n_regions = ss->p->n_regions;
		}
	}
	if (!rc && ran) {
		sc__cpu_build_options bo = {
		    .sampler = plan->timer ? "timer" : "perf_event",
		    .call_graph = plan->dwarf ? "dwarf" : "fp",
		    .rate_hz = plan->rate_hz,
		    .duration_s = run->wall_s,
		};
		rc = sc__cpu_profile_build(&raw, &bo, &ss->p->cpu, regions, n_regions);
		if (!rc)
			sc__cpu_note_prepend(&ss->p->cpu, plan->note);
	}
	if (rc && rc != SC_ENOMEM)
		cpu_unavailable(ss, "the CPU samples could not be read: %s", sc_strerror(rc));
	sc__cpu_raw_release(&raw);
	return rc == SC_ENOMEM ? rc : 0;
}

/* ---- the instrumented run ---------------------------------------------------------------- */

/* Starts the heap collector when the shim can run in this command; otherwise the heap profile is
 * unavailable with the reason, which *reason also gets for the CPU sampler's message. */
static int heap_prepare(session *ss, sc__heap_session **hs, char *reason, size_t cap)
{
	const sc_command_options *o = ss->o;
	*hs = NULL;
	if (o->no_heap) {
		heap_unavailable(ss, "not measured (--no-heap)");
		snprintf(reason, cap, "--no-heap turns off");
		return 0;
	}
	/* With --shell the program is /bin/sh; what it starts is out of sight, so it just runs. A
	 * "#!" script is checked through its interpreter (sc__heap_check_executable follows it). */
	char program[4096], why[200] = "";
	if (resolve_program(ss->argv[0], program, sizeof program) != 0) {
		heap_unavailable(ss, "'%s' was not found in PATH", ss->argv[0]);
	} else if (sc__heap_check_executable(program, why, sizeof why) != 0) {
		heap_unavailable(ss, "%s",
		                 why[0] ? why : "the heap shim cannot work in this program");
	} else {
		char shim[4096];
		int rc = 0;
		if (!o->heap_shim_path && sc__heap_shim_locate(shim, sizeof shim) != 0)
			rc = SC_ENOTFOUND;
		else
			rc = sc__heap_session_new(o, hs);
		if (rc == SC_ENOTFOUND)
			heap_unavailable(
			    ss, "libshotclock-heap.so not found (set SHOTCLOCK_HEAP_SHIM)");
		else if (rc)
			heap_unavailable(ss, "the heap collector could not start: %s",
			                 rc == SC_EIO ? strerror(errno) : sc_strerror(rc));
		if (rc == SC_ENOMEM)
			return rc;
	}
	if (!*hs)
		snprintf(reason, cap, "cannot run here (%s)", ss->p->heap.reason);
	return 0;
}

/* After the run: the heap figures from the collector, judged against the timed runs. */
static int heap_collect(session *ss, sc__heap_session *hs, const sc_run *run, pid_t pid, int status)
{
	sc_profile *p = ss->p;
	sc_heap_profile *h = &p->heap;
	*h = (sc_heap_profile){0};
	int rc = sc__heap_session_finish(hs, pid, status, h);
	if (rc == SC_ENOMEM)
		return rc;
	if (rc && h->available) {
		sc__warning_push(p, "heap-records",
		                 "report this as a shotclock bug, with the command if you can",
		                 "the heap run's records could not all be read (%s): the heap "
		                 "figures may be short",
		                 sc_strerror(rc));
	} else if (rc || !h->available) {
		char reason[sizeof h->reason];
		snprintf(reason, sizeof reason, "%s", h->reason);
		if (!reason[0])
			snprintf(reason, sizeof reason, "the heap records could not be read: %s",
			         sc_strerror(rc ? rc : SC_EUNAVAILABLE));
		heap_unavailable(ss, "%s", reason);
		heap_fill_run(ss, run);
		return 0;
	}
	heap_fill_run(ss, run);
	heap_judge_outcome(ss, run);
	return 0;
}

/*
 * The instrumented run: the same command once more, after the measured runs, under the heap shim
 * and sampled by the CPU sampler, so that neither's overhead reaches the timed figures. Its own
 * failures never fail the profile. With --no-heap it still runs, plainly, when CPU samples are
 * wanted; with both off it does not run.
 */
static int instrumented_run(session *ss)
{
	sc__heap_session *hs = NULL;
	char heap_reason[240] = "";
	int rc = heap_prepare(ss, &hs, heap_reason, sizeof heap_reason);
	cpu_plan plan = {0};
	if (!rc)
		rc = cpu_plan_start(ss, hs != NULL, heap_reason, &plan);
	if (!rc && plan.timer)
		rc = sc__heap_session_enable_cpu_timer(hs, plan.rate_hz);
	if (rc || (!hs && !plan.perf)) {
		sc__perf_sampler_free(plan.perf);
		sc__heap_session_free(hs);
		return rc;
	}
	sc_run run = {0};
	pid_t pid = 0;
	int status = 0;
	char *const *envp = hs ? sc__heap_session_envp(hs) : NULL;
	/* Only when there is something to attribute: a sampler runs and the timed runs reported
	 * regions. Best effort: without the trace the regions have no CPU figures. */
	if ((plan.perf || plan.timer) && ss->p->n_regions)
		plan.trace = sc__region_trace_new(envp);
	if (plan.trace)
		envp = sc__region_trace_envp(plan.trace);
	rc = run_once(ss, hs ? "heap" : "sampled", 0, 1, false, envp, &run, &pid, &status);
	if (rc) {
		/* The timed runs started the same command: only the helper's loss, or a start that
		 * failed under the shim's environment, lands here. Either way the profile stands.
		 */
		if (hs)
			heap_unavailable(ss, "the heap run could not start: %s",
			                 ss->failure->message);
		cpu_unavailable(ss, "not measured: the sampled run could not start: %s",
		                ss->failure->message);
		*ss->failure = (sc_command_failure){0};
		sc__perf_sampler_free(plan.perf);
		sc__region_trace_free(plan.trace);
		sc__heap_session_free(hs);
		return rc == SC_ENOMEM ? rc : 0;
	}
	rc = hs ? heap_collect(ss, hs, &run, pid, status) : 0;
	if (!rc)
		rc = cpu_plan_finish(ss, &plan, hs, &run, pid, true);
	sc__perf_sampler_free(plan.perf);
	sc__region_trace_free(plan.trace);
	sc__heap_session_free(hs);
	return rc;
}

/* ---- the session: one command, run step by step (sc_command_profile, sc_command_compare) --- */

/* The timeline and heap runs after the timed ones; a failure before them leaves the heap
 * figures unavailable with the reason. */
static int finish_runs(session *ss, int rc)
{
	if (!rc)
		rc = timeline_run(ss);
	if (!rc)
		rc = instrumented_run(ss);
	else {
		const char *why = ss->failure->message[0] ? ss->failure->message : sc_strerror(rc);
		heap_unavailable(ss, "not measured: %s", why);
		cpu_unavailable(ss, "not measured: %s", why);
	}
	return rc;
}

int sc__command_session_new(const sc_command_options *o, sc_profile *out,
                            sc_command_failure *failure, sc__command_session **s)
{
	*s = NULL;
	*failure = (sc_command_failure){0};
	*out = (sc_profile){0};
	int rc = check_options(o);
	if (rc)
		return rc;
	session *ss = malloc(sizeof *ss);
	if (!ss)
		return SC_ENOMEM;
	*ss = (session){
	    .o = o,
	    .p = out,
	    .failure = failure,
	    .timeline_peak_mb = NAN,
	    .min_maxrss_kb = -1,
	    .last_wall_s = NAN,
	};
	/* Until the instrumented run says otherwise (a failed warm-up ends the profile before it).
	 */
	cpu_unavailable(ss, "not measured: the command failed before the sampled run");
	if (o->shell && !(ss->shell = shell_argv(o->argv))) {
		free(ss);
		return SC_ENOMEM;
	}
	ss->argv = ss->shell ? ss->shell : (char **)o->argv;
	ss->cmdline = join_command(o);
	rc = ss->cmdline ? fill_identity(ss) : SC_ENOMEM;

	int out_fd, err_fd, owned = -1;
	if (!rc)
		rc = open_output(ss, &out_fd, &err_fd, &owned);
	if (!rc) {
		rc = sc__spawner_new(o->spawner_path, out_fd, err_fd, &ss->spawner);
		if (rc) {
			/* Not the command's fault: the helper is missing or could not start. */
			if (rc == SC_ENOTFOUND)
				fail(ss, "run", 0, ENOENT,
				     "the helper shotclock-spawner was not found (set "
				     "SHOTCLOCK_SPAWNER to its path)");
			else
				fail(ss, "run", 0, errno,
				     "the helper shotclock-spawner could not be started: %s",
				     strerror(errno));
			rc = SC_ESPAWN;
		}
	}
	if (owned >= 0)
		close(owned); /* the spawner holds its own copies */
	if (rc) {
		free(ss->shell);
		free(ss->cmdline);
		free(ss);
		sc_profile_release(out);
		return rc;
	}
	*s = ss;
	return 0;
}

int sc__command_session_warmup(sc__command_session *ss, size_t index)
{
	sc_run run;
	int rc = run_checked(ss, "warmup", index, ss->o->warmup, false, &run);
	if (rc)
		ss->warmup_failed = true;
	return rc;
}

int sc__command_session_step(sc__command_session *ss, size_t planned)
{
	return push_timed_run(ss, planned);
}

int sc__command_session_finish(sc__command_session *ss, int rc)
{
	sc_profile *out = ss->p;
	sc__region_channel_collect(ss->regions, out); /* before the timeline run: timed runs only */
	ss->regions = NULL;
	/* A failed warm-up ends the profile before any run that counts: nothing more is run. */
	if (!ss->warmup_failed)
		rc = finish_runs(ss, rc);
	check_spawner_floor(ss);
	sc__spawner_free(ss->spawner);
	free(ss->shell);
	free(ss->cmdline);

	if (rc && rc != SC_ECOMMAND) {
		free(ss);
		sc_profile_release(out);
		return rc;
	}
	fill_memory(ss);
	free(ss);
	if (out->n_runs > 0) {
		int derived = sc__profile_derive_from_runs(out);
		if (derived && !rc) {
			sc_profile_release(out);
			return derived;
		}
		sc__warnings_add(out);
	}
	/* Last: the leak finding reads the timeline and the heap run's blocks left at exit. */
	sc__leak_from_command(out);
	return rc;
}

int sc_command_profile(const sc_command_options *o, sc_profile *out, sc_command_failure *failure)
{
	sc_command_failure ignored;
	if (!failure)
		failure = &ignored;
	*failure = (sc_command_failure){0};
	if (!o || !out)
		return SC_EINVAL;
	sc__command_session *ss;
	int rc = sc__command_session_new(o, out, failure, &ss);
	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < o->warmup; i++)
		rc = sc__command_session_warmup(ss, i);
	if (!rc)
		rc = timed_runs(ss);
	return sc__command_session_finish(ss, rc);
}

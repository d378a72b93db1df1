/* cmd_demo.c: `shotclock demo`: the seed's examples on the NBA pipeline, then nba-predict run. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The programs `demo` drives, built beside the shotclock binary by examples/nba/CMakeLists.txt. */
#define WALKTHROUGH_NAME "nba-demo"
#define PREDICT_NAME     "nba-predict"
#define HEAP_SHIM_NAME   "libshotclock-heap.so"
#define DEFAULT_OUT_DIR  "shotclock-demo"
/* The games nba-predict scores per run: one season, the test season nba-demo leaves out of
 * training (its models and game log are the ones nba-predict reads). */
#define PREDICT_GAMES     1230
#define PREDICT_GAMES_ARG "1230"
/* Timed runs of nba-predict per model: fixed, so that the demo's length does not depend on the
 * machine; --quick takes fewer and no warm-up. */
#define PREDICT_RUNS       30
#define PREDICT_RUNS_QUICK 3

/* A CLI built with AddressSanitizer built nba-demo with it too; the heap shim cannot be preloaded
 * ahead of the ASan runtime, so such a build runs the walk-through without heap figures. */
#if defined(__SANITIZE_ADDRESS__)
#define CLI_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CLI_SANITIZED 1
#endif
#endif
#ifndef CLI_SANITIZED
#define CLI_SANITIZED 0
#endif

enum { OPT_OUT, OPT_QUICK, OPT_HELP };

static const cli_option demo_options[] = {
    {OPT_OUT, 0, "out", true},
    {OPT_QUICK, 0, "quick", false},
    {OPT_HELP, 'h', "help", false},
    {0, 0, NULL, false},
};

static const char demo_usage[] =
    "Usage: shotclock demo [--out DIR] [--quick]\n"
    "\n"
    "Walks through every example of the seed on the bundled NBA win-prediction pipeline:\n"
    "the quick-start profile of 10,000 predictions, the report with system stats,\n"
    "bottlenecks and recommendations, the four components, the pipeline against a 100 ms\n"
    "latency requirement, the three models compared (Pattern 1), a leak check (Pattern 2),\n"
    "the production readiness table (Pattern 3), a naive pipeline against an optimised one\n"
    "with the findings that explain the gap, and finally " PREDICT_NAME " profiled with\n"
    "'shotclock run' for each model. The in-process part is the program " WALKTHROUGH_NAME ",\n"
    "built on the public C API; it writes DIR/report.json, report.md and report.html.\n"
    "\n"
    "Options:\n"
    "      --out DIR   where the reports, game log and models go (default " DEFAULT_OUT_DIR ";\n"
    "                  created if missing)\n"
    "      --quick     fewer rounds and runs: a few seconds instead of up to a minute\n"
    "  -h, --help      this text\n";

/* The directory of /proc/self/exe, where the programs the demo drives are built. */
static int exe_dir(char *dir, size_t cap)
{
	ssize_t n = readlink("/proc/self/exe", dir, cap - 1);
	if (n < 0) {
		cli_error("demo: cannot find this program's directory: %s", strerror(errno));
		return CLI_EXIT_USAGE;
	}
	dir[n] = '\0';
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
	}
	return CLI_EXIT_OK;
}

/* dir/name into path; false when it does not fit or is not there (access mode). */
static bool beside(const char *dir, const char *name, int mode, char *path, size_t cap)
{
	return (size_t)snprintf(path, cap, "%s/%s", dir, name) < cap && access(path, mode) == 0;
}

static int make_out_dir(const char *dir)
{
	struct stat st;
	if (dir[0] == '\0') {
		cli_error("--out: the directory name is empty");
		return CLI_EXIT_USAGE;
	}
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		cli_error("--out: cannot create '%s': %s", dir, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		cli_error("--out: '%s' is not a directory", dir);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

/* Runs nba-demo with our stdout and stderr; with the heap shim preloaded when there is one, so
 * that its in-process profiles carry allocation figures (and its leak check the live heap). */
static int run_walkthrough(const char *program, const char *shim, const char *out_dir, bool quick)
{
	char *argv[] = {(char *)program, "--out", (char *)out_dir, quick ? "--quick" : NULL, NULL};
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		cli_error("demo: cannot start %s: %s", program, strerror(errno));
		return CLI_EXIT_COMMAND_FAILED;
	}
	if (pid == 0) {
		if (shim && setenv("LD_PRELOAD", shim, 1) != 0) {
			_exit(126);
		}
		execv(program, argv);
		/* The child cannot use stdio safely after fork: one raw line, then out. */
		static const char msg[] = "shotclock: demo: cannot execute " WALKTHROUGH_NAME "\n";
		ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
		(void)ignored;
		_exit(126);
	}
	int wstatus;
	while (waitpid(pid, &wstatus, 0) < 0) {
		if (errno != EINTR) {
			cli_error("demo: waiting for %s: %s", program, strerror(errno));
			return CLI_EXIT_COMMAND_FAILED;
		}
	}
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		return CLI_EXIT_OK;
	}
	if (WIFSIGNALED(wstatus)) {
		cli_error("demo: %s was killed by signal %d", program, WTERMSIG(wstatus));
	} else {
		cli_error("demo: %s exited with code %d", program, WEXITSTATUS(wstatus));
	}
	return CLI_EXIT_COMMAND_FAILED;
}

/* The last section: nba-predict for each model under `shotclock run`, on the game log and the
 * model files nba-demo wrote. */
static int run_predict(const char *dir, const char *out_dir, bool quick)
{
	printf("\n=== " PREDICT_NAME " under shotclock run ===\n\n");
	char predict[PATH_MAX];
	if (!beside(dir, PREDICT_NAME, X_OK, predict, sizeof predict)) {
		printf("skipped: " PREDICT_NAME " not found\n");
		return CLI_EXIT_OK;
	}
	char data[PATH_MAX], report[PATH_MAX];
	if ((size_t)snprintf(data, sizeof data, "%s/games.csv", out_dir) >= sizeof data) {
		cli_error("--out: '%s' is too long", out_dir);
		return CLI_EXIT_USAGE;
	}
	static const char *const models[] = {"lr", "rf", "gbm"};
	size_t runs = quick ? PREDICT_RUNS_QUICK : PREDICT_RUNS;
	int status = CLI_EXIT_OK;
	for (size_t i = 0; i < sizeof models / sizeof models[0] && status == CLI_EXIT_OK; i++) {
		char name[32];
		snprintf(name, sizeof name, PREDICT_NAME " --model %s", models[i]);
		if ((size_t)snprintf(report, sizeof report, "%s/" PREDICT_NAME "-%s.json", out_dir,
		                     models[i]) >= sizeof report) {
			cli_error("--out: '%s' is too long", out_dir);
			return CLI_EXIT_USAGE;
		}
		char *command[] = {
		    predict,  "--model", (char *)models[i], "--models-dir",    (char *)out_dir,
		    "--data", data,      "--games",         PREDICT_GAMES_ARG, NULL};
		printf("%s$ shotclock run -n " PREDICT_GAMES_ARG " -r %zu%s -- " PREDICT_NAME
		       " --model %s --models-dir %s --data %s --games " PREDICT_GAMES_ARG "\n\n",
		       i ? "\n" : "", runs, quick ? "" : " -w 1", models[i], out_dir, data);
		cli_run_request req = {0};
		req.command.argv = command;
		req.command.name = name;
		req.command.n_samples = PREDICT_GAMES;
		req.command.min_time_s = -1;
		req.command.runs = runs;
		req.command.warmup = quick ? 0 : 1;
		req.export_json = report;
		status = cli_run_execute(&req);
		if (status == CLI_EXIT_OK) {
			printf("\nReport: %s\n", report);
		}
	}
	return status;
}

int cli_cmd_demo(int argc, char **argv)
{
	cli_parser p = {argc, argv, 1, demo_options};
	const cli_option *opt;
	const char *value;
	const char *out_dir = DEFAULT_OUT_DIR;
	bool quick = false;
	int rc;
	while ((rc = cli_next_option(&p, &opt, &value)) == 1) {
		if (opt->id == OPT_HELP) {
			fputs(demo_usage, stdout);
			return CLI_EXIT_OK;
		}
		if (opt->id == OPT_OUT) {
			out_dir = value;
		} else {
			quick = true;
		}
	}
	if (rc < 0) {
		return CLI_EXIT_USAGE;
	}
	if (p.next < argc) {
		cli_error("demo: unexpected argument '%s'", argv[p.next]);
		return CLI_EXIT_USAGE;
	}

	char dir[PATH_MAX], walkthrough[PATH_MAX], shim[PATH_MAX];
	int status = exe_dir(dir, sizeof dir);
	if (status != CLI_EXIT_OK) {
		return status;
	}
	if (!beside(dir, WALKTHROUGH_NAME, X_OK, walkthrough, sizeof walkthrough)) {
		cli_error("demo: %s: the bundled walk-through is missing (%s); build it with cmake "
		          "--build",
		          walkthrough, strerror(errno));
		return CLI_EXIT_NOT_FOUND;
	}
	bool have_shim = !CLI_SANITIZED && beside(dir, HEAP_SHIM_NAME, R_OK, shim, sizeof shim);
	status = make_out_dir(out_dir);
	if (status == CLI_EXIT_OK) {
		status = run_walkthrough(walkthrough, have_shim ? shim : NULL, out_dir, quick);
	}
	if (status == CLI_EXIT_OK) {
		status = run_predict(dir, out_dir, quick);
	}
	return status;
}

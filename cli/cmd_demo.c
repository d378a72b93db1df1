/* cmd_demo.c: `shotclock demo`: profile the bundled inference example and write its report. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The example program, built beside the shotclock binary by examples/CMakeLists.txt. */
#define EXAMPLE_NAME "shotclock-example-predict"
/* Predictions per run: the example scores this many games. */
#define DEMO_SAMPLES     10000
#define DEMO_SAMPLES_ARG "10000"
#define DEFAULT_OUT_DIR  "shotclock-demo"
/* --quick: a fixed, small number of runs instead of the automatic minimum of 3 seconds. */
#define QUICK_RUNS 3

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
    "Profiles the bundled example, " EXAMPLE_NAME ", which scores " DEMO_SAMPLES_ARG "\n"
    "simulated NBA games with a logistic-regression win-probability model, as\n"
    "'shotclock run -n " DEMO_SAMPLES_ARG " -w 1', prints the summary and writes DIR/report.json.\n"
    "\n"
    "Options:\n"
    "      --out DIR   where the report goes (default " DEFAULT_OUT_DIR "; created if missing)\n"
    "      --quick     3 timed runs and no warm-up, instead of at least 5 runs and 3 seconds\n"
    "  -h, --help      this text\n";

/* The example beside /proc/self/exe. */
static int locate_example(char *path, size_t cap)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n < 0) {
		cli_error("demo: cannot find this program's directory: %s", strerror(errno));
		return CLI_EXIT_USAGE;
	}
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash) {
		*slash = '\0';
	}
	if ((size_t)snprintf(path, cap, "%s/%s", exe, EXAMPLE_NAME) >= cap) {
		cli_error("demo: the path of the example is too long");
		return CLI_EXIT_USAGE;
	}
	if (access(path, X_OK) != 0) {
		cli_error(
		    "demo: %s: the bundled example is missing (%s); build it with cmake --build",
		    path, strerror(errno));
		return CLI_EXIT_NOT_FOUND;
	}
	return CLI_EXIT_OK;
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

	char example[PATH_MAX];
	int status = locate_example(example, sizeof example);
	if (status == CLI_EXIT_OK) {
		status = make_out_dir(out_dir);
	}
	char report_path[PATH_MAX];
	if (status == CLI_EXIT_OK &&
	    (size_t)snprintf(report_path, sizeof report_path, "%s/report.json", out_dir) >=
	        sizeof report_path) {
		cli_error("--out: '%s' is too long", out_dir);
		status = CLI_EXIT_USAGE;
	}
	if (status != CLI_EXIT_OK) {
		return status;
	}

	char *command[] = {example, DEMO_SAMPLES_ARG, NULL};
	cli_run_request req = {0};
	req.command.argv = command;
	req.command.name = "example-predict " DEMO_SAMPLES_ARG;
	req.command.n_samples = DEMO_SAMPLES;
	req.command.min_time_s = -1;
	req.command.runs = quick ? QUICK_RUNS : 0;
	req.command.warmup = quick ? 0 : 1;
	req.export_json = report_path;
	status = cli_run_execute(&req);
	if (status == CLI_EXIT_OK) {
		printf("\nReport: %s\n", report_path);
	}
	return status;
}

/* cmd_run.c: `shotclock run`: parse the options, profile the command, print and export the report.
 */
#include "cli.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* A sampling interval beyond 1 GiB would sample almost nothing in any real program. */
#define MAX_HEAP_SAMPLE_BYTES (UINT64_C(1) << 30)
/* Width of the progress line; padding to it overwrites the previous text without escape codes. */
#define PROGRESS_WIDTH 60

/* Its own options; the ones `compare` takes too are cli_run_options. */
enum {
	OPT_EXPORT_JSON = CLI_RUN_OPT_OWN,
	OPT_EXPORT_MARKDOWN,
	OPT_EXPORT_CSV,
	OPT_EXPORT_HTML,
	OPT_EXPORT_FOLDED,
	OPT_EXPORT_SPEEDSCOPE,
	OPT_NAME,
	OPT_HEAP_SITES,
	OPT_HEAP_SAMPLE_BYTES,
	OPT_FOLLOW_CHILDREN,
	OPT_REQUIRE,
	OPT_BASELINE,
	OPT_MAX_REGRESSION,
	OPT_HELP
};

static const cli_option run_options[] = {
    {OPT_EXPORT_JSON, 0, "export-json", true},
    {OPT_EXPORT_MARKDOWN, 0, "export-markdown", true},
    {OPT_EXPORT_CSV, 0, "export-csv", true},
    {OPT_EXPORT_HTML, 0, "export-html", true},
    {OPT_EXPORT_FOLDED, 0, "export-folded", true},
    {OPT_EXPORT_SPEEDSCOPE, 0, "export-speedscope", true},
    {OPT_NAME, 0, "name", true},
    {OPT_HEAP_SITES, 0, "heap-sites", true},
    {OPT_HEAP_SAMPLE_BYTES, 0, "heap-sample-bytes", true},
    {OPT_FOLLOW_CHILDREN, 0, "follow-children", false},
    {OPT_REQUIRE, 0, "require", true},
    {OPT_BASELINE, 0, "baseline", true},
    {OPT_MAX_REGRESSION, 0, "max-regression", true},
    {OPT_HELP, 'h', "help", false},
    {0, 0, NULL, false},
};

static const char run_usage[] =
    "Usage: shotclock run [options] [--] CMD [ARGS...]\n"
    "\n"
    "Profiles a command: time per run and per prediction, throughput, latency percentiles,\n"
    "peak memory, CPU, I/O, a memory/CPU timeline and, from one extra run under a heap shim,\n"
    "allocations, peak live heap, leaks and the sites that allocate most. CMD is executed\n"
    "directly (no shell) unless --shell is given. Options end at '--' or at the first word\n"
    "that is not an option.\n"
    "\n"
    "Options:\n"
    "  -n, --samples N        predictions each run makes (default 1)\n"
    "  -r, --runs N           exactly N timed runs (1 to 1000000)\n"
    "  -m, --min-runs N       automatic mode: at least N runs (default 5)\n"
    "  -M, --max-runs N       automatic mode: at most N runs (default 1000)\n"
    "      --min-time SEC     automatic mode: keep running for SEC seconds (default 3)\n"
    "  -w, --warmup N         untimed runs first (default 0)\n"
    "      --timeout SEC      kill a run (and its process group) after SEC seconds\n"
    "      --shell            run CMD as one string through /bin/sh -c (ARGS become $0, $1...)\n"
    "      --output WHERE     the command's output: null (default), inherit or a FILE\n"
    "      --export-json FILE write the report as JSON (atomically)\n"
    "      --export-markdown FILE, --export-csv FILE, --export-html FILE\n"
    "                         the same report as Markdown tables, CSV rows (one per profile\n"
    "                         and per run) or one self-contained HTML page with charts\n"
    "                         and a flame graph\n"
    "      --export-folded FILE  the CPU samples as folded stacks ('main;predict;walk 42'),\n"
    "                         for flamegraph.pl, inferno or speedscope\n"
    "      --export-speedscope FILE\n"
    "                         the CPU samples in speedscope's JSON format\n"
    "      --name NAME        the profile's name (default: the command line)\n"
    "      --ignore-failure   keep going when a run fails; the report warns about it\n"
    "      --no-timeline      skip the extra run that samples memory and CPU every 10 ms\n"
    "      --no-heap          skip the extra run under the heap shim (LD_PRELOAD)\n"
    "      --no-cpu-samples   do not sample CPU stacks in the extra run (hotspots, flame graph)\n"
    "      --sample-rate HZ   CPU samples per second of each thread's CPU time (1 to 10000;\n"
    "                         default 997)\n"
    "      --call-graph MODE  fp (default: frame pointers, cheap) or dwarf (copies 8 KiB of\n"
    "                         stack per sample and unwinds with DWARF: for programs built\n"
    "                         without frame pointers)\n"
    "      --sampler WHICH    auto (default: perf_event, else the timer fallback), perf_event\n"
    "                         or timer (per-thread timers inside the heap shim)\n"
    "      --heap-sites MODE  sampled (default: the stacks of about one allocation per 512K\n"
    "                         allocated; cheap) or all (every allocation: exact sites and a\n"
    "                         leak scan; slower)\n"
    "      --heap-sample-bytes N\n"
    "                         mean bytes between sampled allocations (1 to 1G; K, M, G\n"
    "                         suffixes are powers of 1024; default 512K)\n"
    "      --follow-children  trace the command's children too (forked and exec'd)\n"
    "      --require EXPR     production requirements, e.g. 'latency_p99_ms<=100,throughput>=50'\n"
    "                         (repeatable; 'shotclock check --help' lists the metrics)\n"
    "      --baseline FILE    compare with an earlier report (read before the command runs)\n"
    "      --max-regression PCT\n"
    "                         the worsening allowed against --baseline: 5% or 5 (default 5%)\n"
    "  -h, --help             this text\n"
    "\n"
    "Exit status: 0 success; 1 a requirement failed or a metric regressed (the report is still\n"
    "written); 2 bad usage or input; 3 the command failed (exit code, signal or timeout); 126 it\n"
    "cannot be executed; 127 it was not found.\n";

/* What the options asked for before they are checked against each other. */
typedef struct run_args {
	cli_run_request req;
	bool help;
	bool auto_given; /* --min-runs, --max-runs or --min-time */
	bool heap_given; /* --heap-sites, --heap-sample-bytes or --follow-children */
	bool max_regression_given;
} run_args;

static int apply_option(void *ctx, const cli_option *opt, const char *value)
{
	run_args *a = ctx;
	sc_command_options *o = &a->req.command;
	if (opt->id < CLI_RUN_OPT_OWN) {
		return cli_run_option_apply(o, &a->auto_given, opt, value);
	}
	switch (opt->id) {
	case OPT_EXPORT_JSON:
		a->req.export_json = value;
		return cli_check_output_path("--export-json", value);
	case OPT_EXPORT_MARKDOWN:
		a->req.export_markdown = value;
		return cli_check_output_path("--export-markdown", value);
	case OPT_EXPORT_CSV:
		a->req.export_csv = value;
		return cli_check_output_path("--export-csv", value);
	case OPT_EXPORT_HTML:
		a->req.export_html = value;
		return cli_check_output_path("--export-html", value);
	case OPT_EXPORT_FOLDED:
		a->req.export_folded = value;
		return cli_check_output_path("--export-folded", value);
	case OPT_EXPORT_SPEEDSCOPE:
		a->req.export_speedscope = value;
		return cli_check_output_path("--export-speedscope", value);
	case OPT_NAME:
		if (value[0] == '\0') {
			cli_error("--name: the name is empty");
			return SC_EINVAL;
		}
		o->name = value;
		return 0;
	case OPT_HEAP_SITES:
		a->heap_given = true;
		if (strcmp(value, "sampled") == 0 || strcmp(value, "all") == 0) {
			o->heap_sites_all = value[0] == 'a';
			return 0;
		}
		cli_error("--heap-sites: '%s' is not 'sampled' or 'all'", value);
		return SC_EINVAL;
	case OPT_HEAP_SAMPLE_BYTES:
		a->heap_given = true;
		return cli_parse_bytes("--heap-sample-bytes", value, 1, MAX_HEAP_SAMPLE_BYTES,
		                       &o->heap_sample_bytes);
	case OPT_FOLLOW_CHILDREN:
		a->heap_given = true;
		o->follow_children = true;
		return 0;
	case OPT_REQUIRE:
		return cli_parse_requirements(value, &a->req.requirements);
	case OPT_BASELINE:
		if (value[0] == '\0') {
			cli_error("--baseline: the file name is empty");
			return SC_EINVAL;
		}
		a->req.baseline_path = value;
		return 0;
	case OPT_MAX_REGRESSION:
		a->max_regression_given = true;
		return cli_parse_percent("--max-regression", value, &a->req.max_regression);
	default: /* OPT_HELP */
		a->help = true;
		return 0;
	}
}

/* Checks the options against each other once all are known. */
static int check_combination(run_args *a)
{
	if (cli_run_options_check(&a->req.command, a->auto_given, a->heap_given) != 0) {
		return SC_EINVAL;
	}
	if (a->max_regression_given && !a->req.baseline_path) {
		cli_error("--max-regression: needs --baseline");
		return SC_EINVAL;
	}
	return 0;
}

static int parse(int argc, char **argv, run_args *a)
{
	cli_parser p = {argc, argv, 1, run_options, cli_run_options};
	int rc = cli_parse_options(&p, apply_option, a);
	if (rc < 0) {
		return rc;
	}
	if (a->help) {
		return 0;
	}
	if (p.next >= argc) {
		cli_error("run: missing command (usage: shotclock run [options] -- CMD [ARGS...])");
		return SC_EINVAL;
	}
	a->req.command.argv = argv + p.next;
	return check_combination(a);
}

/* One updating line on stderr (only when it is a terminal). */
static void show_progress(void *ctx, const sc_progress *pr)
{
	(void)ctx;
	char line[PROGRESS_WIDTH + 1];
	int n = snprintf(line, sizeof line, "%s %zu/%zu", pr->phase, pr->index + 1, pr->planned);
	if (n > 0 && (size_t)n < sizeof line && pr->index > 0 && pr->last_wall_s > 0) {
		snprintf(line + n, sizeof line - (size_t)n, "  (last run %.3f s)", pr->last_wall_s);
	}
	fprintf(stderr, "\r%-*s", PROGRESS_WIDTH, line);
}

/* Turns a failed sc_command_profile into one line on stderr and the exit status. */
static int report_failure(const sc_command_options *o, int rc, const sc_command_failure *f)
{
	const char *cmd = o->shell ? "/bin/sh" : o->argv[0];
	const char *why = f->sys_errno ? strerror(f->sys_errno) : sc_strerror(rc);
	switch (rc) {
	case SC_ENOTFOUND:
		cli_error("%s: command not found", cmd);
		return CLI_EXIT_NOT_FOUND;
	case SC_ENOEXEC:
		cli_error("%s: cannot execute: %s", cmd, why);
		return CLI_EXIT_CANNOT_EXECUTE;
	case SC_ECOMMAND:
		cli_error("%s (--ignore-failure profiles it anyway)", f->message);
		return CLI_EXIT_COMMAND_FAILED;
	case SC_ESPAWN:
		/* The library's message names what could not start: the command or the helper. */
		if (f->message[0]) {
			cli_error("%s", f->message);
		} else {
			cli_error("%s: cannot start: %s", cmd, why);
		}
		return CLI_EXIT_COMMAND_FAILED;
	default:
		cli_error("run: %s", f->message[0] ? f->message : sc_strerror(rc));
		return CLI_EXIT_USAGE;
	}
}

int cli_run_execute(const cli_run_request *req)
{
	sc_command_options o = req->command;
	bool progress = isatty(STDERR_FILENO);
	if (progress) {
		o.progress = show_progress;
	}
	sc_profile profile = {0};
	sc_command_failure failure = {0};
	int rc = sc_command_profile(&o, &profile, &failure);
	if (progress) {
		fprintf(stderr, "\r%*s\r", PROGRESS_WIDTH, "");
	}
	if (rc != 0) {
		sc_profile_release(&profile);
		return report_failure(&o, rc, &failure);
	}
	sc_report *report = NULL;
	rc = sc_report_new(&report);
	if (rc == 0) {
		rc = sc_report_add_profile(report, &profile);
	}
	if (rc == 0) {
		/* Before anything shows the report: the summary and every export name functions. */
		rc = sc_report_symbolize(report);
	}
	if (rc == 0) {
		/* Bottlenecks and recommendations, for the summary and every export alike. */
		rc = sc_report_analyze(report, req->requirements.n > 0 ? &req->requirements : NULL);
	}
	int status = CLI_EXIT_OK;
	if (rc != 0) {
		cli_error("run: cannot build the report: %s", sc_strerror(rc));
		status = CLI_EXIT_USAGE;
	} else {
		/* Judged before the summary, which shows the checks and the baseline table. */
		status = cli_judge(report, &req->requirements, req->baseline, req->baseline_path,
		                   req->max_regression);
	}
	if (status == CLI_EXIT_OK) {
		cli_summary_print(stdout, report, cli_use_color(stdout));
		if (req->export_json) {
			rc = sc_report_export_json(report, req->export_json);
			if (rc != 0) {
				/* SC_EIO keeps errno, which names the actual problem. */
				cli_error("--export-json: cannot write '%s': %s", req->export_json,
				          rc == SC_EIO ? strerror(errno) : sc_strerror(rc));
				status = CLI_EXIT_USAGE;
			}
		}
		if (status == CLI_EXIT_OK) {
			cli_exports files = {req->export_markdown, req->export_csv,
			                     req->export_html, req->export_folded,
			                     req->export_speedscope};
			status = cli_export_formats(report, &files);
		}
		/* A failed check still writes the report: CI keeps it as the evidence. */
		if (status == CLI_EXIT_OK && report->verdict &&
		    strcmp(report->verdict, "fail") == 0) {
			status = CLI_EXIT_CHECK_FAILED;
		}
	}
	sc_report_free(report);
	sc_profile_release(&profile);
	return status;
}

int cli_cmd_run(int argc, char **argv)
{
	run_args a = {0};
	a.req.command.min_time_s = -1; /* the library's default */
	a.req.max_regression = 0.05;
	if (parse(argc, argv, &a) != 0) {
		return CLI_EXIT_USAGE;
	}
	if (a.help) {
		fputs(run_usage, stdout);
		return CLI_EXIT_OK;
	}
	/* An unreadable baseline is found before any time is spent on the command. */
	if (a.req.baseline_path && cli_read_baseline(a.req.baseline_path, &a.req.baseline) != 0) {
		return CLI_EXIT_USAGE;
	}
	int status = cli_run_execute(&a.req);
	sc_report_free(a.req.baseline);
	return status;
}

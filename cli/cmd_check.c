/* cmd_check.c: `shotclock check`: a saved report against requirements and a baseline report. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define DEFAULT_MAX_REGRESSION 0.05

enum { OPT_REQUIRE, OPT_BASELINE, OPT_MAX_REGRESSION, OPT_EXPORT_JSON, OPT_HELP };

static const cli_option check_options[] = {
    {OPT_REQUIRE, 0, "require", true},
    {OPT_BASELINE, 0, "baseline", true},
    {OPT_MAX_REGRESSION, 0, "max-regression", true},
    {OPT_EXPORT_JSON, 0, "export-json", true},
    {OPT_HELP, 'h', "help", false},
    {0, 0, NULL, false},
};

static const char check_usage[] =
    "Usage: shotclock check REPORT.json [--require EXPR]... [--baseline OLD.json\n"
    "                       [--max-regression PCT]] [--export-json OUT]\n"
    "\n"
    "Checks a report written by 'shotclock run --export-json' against production requirements\n"
    "and against a baseline report. A requirement passes only when the conservative end of the\n"
    "metric's 95% confidence interval meets it; a metric regresses only when it is worse than\n"
    "the threshold with 95% confidence, so noise alone never fails a check.\n"
    "\n"
    "Options:\n"
    "      --require EXPR        metric OP limit[unit], comma-separated or repeated, e.g.\n"
    "                            'latency_p99_ms<=100,throughput>=50,peak_memory_mb<=1GB'.\n"
    "                            Metrics: latency_ms latency_p50_ms latency_p90_ms\n"
    "                            latency_p95_ms latency_p99_ms latency_p999_ms throughput\n"
    "                            peak_memory_mb memory_increase_mb allocations_per_sample\n"
    "                            leaked_bytes cpu_utilization; OP: <= < >= >\n"
    "      --baseline OLD.json   compare every profile present in both reports\n"
    "      --max-regression PCT  the worsening allowed against the baseline: 5% or 5 (a bare\n"
    "                            number is per cent too); default 5%\n"
    "      --export-json OUT     write the report with the checks and the verdict\n"
    "  -h, --help                this text\n"
    "\n"
    "Exit status: 0 every check passed; 1 a requirement failed or a metric regressed; 2 bad\n"
    "usage or input (a malformed expression, an unreadable or foreign report).\n";

typedef struct check_args {
	const char *report_path;
	sc_requirements requirements;
	const char *baseline_path;
	double max_regression;
	bool max_regression_given;
	const char *export_json;
	bool help;
} check_args;

static int apply_option(void *ctx, const cli_option *opt, const char *value)
{
	check_args *a = ctx;
	switch (opt->id) {
	case OPT_REQUIRE:
		return cli_parse_requirements(value, &a->requirements);
	case OPT_BASELINE:
		if (value[0] == '\0') {
			cli_error("--baseline: the file name is empty");
			return SC_EINVAL;
		}
		a->baseline_path = value;
		return 0;
	case OPT_MAX_REGRESSION:
		a->max_regression_given = true;
		return cli_parse_percent("--max-regression", value, &a->max_regression);
	case OPT_EXPORT_JSON:
		a->export_json = value;
		return cli_check_output_path("--export-json", value);
	default: /* OPT_HELP */
		a->help = true;
		return 0;
	}
}

/* Options may come before or after the report's path. */
static int parse(int argc, char **argv, check_args *a)
{
	cli_parser p = {argc, argv, 1, check_options};
	int rc = cli_parse_report_args(&p, "check", apply_option, a, &a->report_path);
	if (rc < 0) {
		return rc;
	}
	if (a->help) {
		return 0;
	}
	if (!a->report_path) {
		cli_error(
		    "check: missing report (usage: shotclock check REPORT.json --require EXPR "
		    "| --baseline OLD.json)");
		return SC_EINVAL;
	}
	if (a->max_regression_given && !a->baseline_path) {
		cli_error("--max-regression: needs --baseline");
		return SC_EINVAL;
	}
	if (a->requirements.n == 0 && !a->baseline_path) {
		cli_error("check: nothing to check (give --require EXPR or --baseline OLD.json)");
		return SC_EINVAL;
	}
	return 0;
}

int cli_read_baseline(const char *path, sc_report **out)
{
	char err[512];
	int rc = sc_report_read_json(path, out, err, sizeof err);
	if (rc != 0) {
		cli_error("%s", err[0] ? err : sc_strerror(rc));
	}
	return rc;
}

/* Whether some profile of r has a namesake in baseline. */
static bool shares_a_profile(const sc_report *r, const sc_report *baseline)
{
	for (size_t i = 0; i < r->n_profiles; i++) {
		for (size_t j = 0; j < baseline->n_profiles; j++) {
			const char *a = r->profiles[i].name, *b = baseline->profiles[j].name;
			if (a && b && strcmp(a, b) == 0) {
				return true;
			}
		}
	}
	return false;
}

int cli_judge(sc_report *r, const sc_requirements *req, const sc_report *baseline,
              const char *baseline_path, double max_regression)
{
	int rc = 0;
	if (req->n > 0) {
		rc = sc_report_check_requirements(r, req);
	}
	if (rc == 0 && baseline) {
		/* Comparing nothing would pass silently: a renamed profile must be noticed. */
		if (!shares_a_profile(r, baseline)) {
			cli_error(
			    "--baseline: no profile of the report is in '%s' (profiles are matched "
			    "by name; see --name)",
			    baseline_path);
			return CLI_EXIT_USAGE;
		}
		rc = sc_report_compare_baseline(r, baseline, max_regression);
	}
	if (rc != 0) {
		cli_error("check: %s", sc_strerror(rc));
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* `check` prints the Production Readiness and baseline tables alone (cli_judgement_print, the
 * same ones `run` prints after the whole profile): the profiles were shown when they ran. */
int cli_cmd_check(int argc, char **argv)
{
	check_args a = {.max_regression = DEFAULT_MAX_REGRESSION};
	if (parse(argc, argv, &a) != 0) {
		return CLI_EXIT_USAGE;
	}
	if (a.help) {
		fputs(check_usage, stdout);
		return CLI_EXIT_OK;
	}
	sc_report *report = NULL, *baseline = NULL;
	int status = CLI_EXIT_OK;
	if (cli_read_baseline(a.report_path, &report) != 0 ||
	    (a.baseline_path && cli_read_baseline(a.baseline_path, &baseline) != 0)) {
		status = CLI_EXIT_USAGE;
	}
	if (status == CLI_EXIT_OK) {
		status =
		    cli_judge(report, &a.requirements, baseline, a.baseline_path, a.max_regression);
	}
	if (status == CLI_EXIT_OK) {
		cli_judgement_print(stdout, report, a.baseline_path, cli_use_color(stdout));
		if (a.export_json) {
			int rc = sc_report_export_json(report, a.export_json);
			if (rc != 0) {
				cli_error("--export-json: cannot write '%s': %s", a.export_json,
				          rc == SC_EIO ? strerror(errno) : sc_strerror(rc));
				status = CLI_EXIT_USAGE;
			}
		}
		if (status == CLI_EXIT_OK && report->verdict &&
		    strcmp(report->verdict, "fail") == 0) {
			status = CLI_EXIT_CHECK_FAILED;
		}
	}
	sc_report_free(report);
	sc_report_free(baseline);
	return status;
}

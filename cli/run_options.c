/* run_options.c: the options `run` and `compare` share: how many runs, and how each one runs. */
#include "cli.h"

#include <string.h>

/* Upper bounds that keep every figure meaningful and every conversion in range. */
#define MAX_RUNS         1000000
#define MAX_WARMUP       1000000
#define DEFAULT_MAX_RUNS 1000       /* sc_command_options: max_runs 0 means 1000 */
#define MAX_SECONDS      31536000.0 /* one year */

const cli_option cli_run_options[] = {
    {CLI_RUN_OPT_SAMPLES, 'n', "samples", true},
    {CLI_RUN_OPT_RUNS, 'r', "runs", true},
    {CLI_RUN_OPT_MIN_RUNS, 'm', "min-runs", true},
    {CLI_RUN_OPT_MAX_RUNS, 'M', "max-runs", true},
    {CLI_RUN_OPT_MIN_TIME, 0, "min-time", true},
    {CLI_RUN_OPT_WARMUP, 'w', "warmup", true},
    {CLI_RUN_OPT_TIMEOUT, 0, "timeout", true},
    {CLI_RUN_OPT_SHELL, 0, "shell", false},
    {CLI_RUN_OPT_OUTPUT, 0, "output", true},
    {CLI_RUN_OPT_IGNORE_FAILURE, 0, "ignore-failure", false},
    {CLI_RUN_OPT_NO_TIMELINE, 0, "no-timeline", false},
    {CLI_RUN_OPT_NO_HEAP, 0, "no-heap", false},
    {0, 0, NULL, false},
};

static int parse_size(const char *name, const char *text, uint64_t min, uint64_t max, size_t *out)
{
	uint64_t v;
	int rc = cli_parse_count(name, text, min, max, &v);
	if (rc == 0) {
		*out = (size_t)v;
	}
	return rc;
}

int cli_run_option_apply(sc_command_options *o, bool *auto_given, const cli_option *opt,
                         const char *value)
{
	switch (opt->id) {
	case CLI_RUN_OPT_SAMPLES:
		return cli_parse_count("--samples", value, 1, UINT64_MAX, &o->n_samples);
	case CLI_RUN_OPT_RUNS:
		return parse_size("--runs", value, 1, MAX_RUNS, &o->runs);
	case CLI_RUN_OPT_MIN_RUNS:
		*auto_given = true;
		return parse_size("--min-runs", value, 1, MAX_RUNS, &o->min_runs);
	case CLI_RUN_OPT_MAX_RUNS:
		*auto_given = true;
		return parse_size("--max-runs", value, 1, MAX_RUNS, &o->max_runs);
	case CLI_RUN_OPT_MIN_TIME:
		*auto_given = true;
		return cli_parse_seconds("--min-time", value, 0, false, MAX_SECONDS,
		                         &o->min_time_s);
	case CLI_RUN_OPT_WARMUP:
		return parse_size("--warmup", value, 0, MAX_WARMUP, &o->warmup);
	case CLI_RUN_OPT_TIMEOUT:
		return cli_parse_seconds("--timeout", value, 0, true, MAX_SECONDS, &o->timeout_s);
	case CLI_RUN_OPT_SHELL:
		o->shell = true;
		return 0;
	case CLI_RUN_OPT_OUTPUT:
		if (strcmp(value, "null") == 0) {
			o->output = SC_OUTPUT_NULL;
			return 0;
		}
		if (strcmp(value, "inherit") == 0) {
			o->output = SC_OUTPUT_INHERIT;
			return 0;
		}
		o->output = SC_OUTPUT_FILE;
		o->output_path = value;
		return cli_check_output_path("--output", value);
	case CLI_RUN_OPT_IGNORE_FAILURE:
		o->ignore_failure = true;
		return 0;
	case CLI_RUN_OPT_NO_TIMELINE:
		o->no_timeline = true;
		return 0;
	default: /* CLI_RUN_OPT_NO_HEAP */
		o->no_heap = true;
		return 0;
	}
}

int cli_run_options_check(sc_command_options *o, bool auto_given, bool heap_given)
{
	if (o->runs && auto_given) {
		cli_error("--runs: cannot be combined with --min-runs, --max-runs or --min-time");
		return SC_EINVAL;
	}
	if (o->no_heap && heap_given) {
		/* Options for a run that will not happen are a mistake worth naming. */
		cli_error("--no-heap: cannot be combined with --heap-sites, --heap-sample-bytes or "
		          "--follow-children");
		return SC_EINVAL;
	}
	if (o->min_runs && o->max_runs && o->min_runs > o->max_runs) {
		cli_error("--min-runs: %zu is more than --max-runs %zu", o->min_runs, o->max_runs);
		return SC_EINVAL;
	}
	if (o->min_runs > DEFAULT_MAX_RUNS && !o->max_runs) {
		/* Asking for more runs than the default ceiling raises the ceiling. */
		o->max_runs = o->min_runs;
	}
	return 0;
}

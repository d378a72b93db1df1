/* run_options.c: the options `run` and `compare` share: how many runs, and how each one runs. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Upper bounds that keep every figure meaningful and every conversion in range. */
#define MAX_RUNS         1000000
#define MAX_WARMUP       1000000
#define DEFAULT_MAX_RUNS 1000       /* sc_command_options: max_runs 0 means 1000 */
#define MAX_SECONDS      31536000.0 /* one year */
#define MAX_SAMPLE_RATE  10000

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
    {CLI_RUN_OPT_NO_CPU_SAMPLES, 0, "no-cpu-samples", false},
    {CLI_RUN_OPT_SAMPLE_RATE, 0, "sample-rate", true},
    {CLI_RUN_OPT_CALL_GRAPH, 0, "call-graph", true},
    {CLI_RUN_OPT_SAMPLER, 0, "sampler", true},
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

/* A sampling rate in Hz: a plain decimal number in [1, MAX_SAMPLE_RATE]. Above that the timer
 * interrupts would cost more than the program's own work on a busy core. */
static int parse_rate(const char *text, double *out)
{
	bool shape = text[0] >= '0' && text[0] <= '9';
	char *end = NULL;
	errno = 0;
	double v = shape && strspn(text, "0123456789.") == strlen(text) ? strtod(text, &end) : NAN;
	if (!end || *end != '\0' || errno == ERANGE || !isfinite(v)) {
		cli_error("--sample-rate: '%s' is not a number of samples per second", text);
		return SC_EINVAL;
	}
	if (v < 1 || v > MAX_SAMPLE_RATE) {
		cli_error("--sample-rate: '%s' is out of range (1 to %d Hz)", text,
		          MAX_SAMPLE_RATE);
		return SC_EINVAL;
	}
	*out = v;
	return 0;
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
	case CLI_RUN_OPT_NO_HEAP:
		o->no_heap = true;
		return 0;
	case CLI_RUN_OPT_NO_CPU_SAMPLES:
		o->no_cpu_samples = true;
		return 0;
	case CLI_RUN_OPT_SAMPLE_RATE:
		return parse_rate(value, &o->cpu_sample_rate_hz);
	case CLI_RUN_OPT_CALL_GRAPH:
		if (strcmp(value, "fp") == 0 || strcmp(value, "dwarf") == 0) {
			o->cpu_call_graph = value[0] == 'f' ? "fp" : "dwarf";
			return 0;
		}
		cli_error("--call-graph: '%s' is not 'fp' or 'dwarf'", value);
		return SC_EINVAL;
	default: /* CLI_RUN_OPT_SAMPLER */
		if (strcmp(value, "auto") == 0 || strcmp(value, "perf_event") == 0 ||
		    strcmp(value, "timer") == 0) {
			o->cpu_sampler = value[0] == 'a'   ? "auto"
			                 : value[0] == 'p' ? "perf_event"
			                                   : "timer";
			return 0;
		}
		cli_error("--sampler: '%s' is not 'auto', 'perf_event' or 'timer'", value);
		return SC_EINVAL;
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
	if (o->no_cpu_samples &&
	    (o->cpu_sample_rate_hz > 0 || o->cpu_call_graph || o->cpu_sampler)) {
		cli_error(
		    "--no-cpu-samples: cannot be combined with --sample-rate, --call-graph or "
		    "--sampler");
		return SC_EINVAL;
	}
	if (o->no_heap && o->cpu_sampler && strcmp(o->cpu_sampler, "timer") == 0) {
		/* The timer sampler lives in the heap shim: without the shim it cannot run. */
		cli_error(
		    "--sampler timer: the timer sampler runs inside the heap shim, which --no-heap "
		    "turns off");
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

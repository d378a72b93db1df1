/* cmd_compare.c: `shotclock compare`: several commands run interleaved, ranked side by side. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* More candidates than this would not fit a table anyone reads. */
#define MAX_CANDIDATES 64

/* Its own options; the ones `run` takes too are cli_run_options. */
enum { OPT_EXPORT_JSON = CLI_RUN_OPT_OWN, OPT_NAME, OPT_COMMAND, OPT_SORT, OPT_REQUIRE, OPT_HELP };

static const cli_option compare_options[] = {
    {OPT_EXPORT_JSON, 0, "export-json", true},
    {OPT_NAME, 0, "name", true},
    {OPT_COMMAND, 0, "command", true},
    {OPT_SORT, 0, "sort", true},
    {OPT_REQUIRE, 0, "require", true},
    {OPT_HELP, 'h', "help", false},
    {0, 0, NULL, false},
};

static const char compare_usage[] =
    "Usage: shotclock compare [options] NAME=CMD NAME=CMD ...\n"
    "       shotclock compare [options] --name NAME --command CMD --name NAME --command CMD ...\n"
    "\n"
    "Profiles two or more commands side by side and ranks them. The candidates run\n"
    "interleaved (A B C A B C ...), so that a drift in the machine's speed reaches all alike.\n"
    "Each CMD is one string, split into words as a shell splits them (quotes and backslashes\n"
    "respected, nothing expanded), or given to /bin/sh -c with --shell. The table shows\n"
    "throughput, latency, peak memory, allocations per prediction and each candidate's speed\n"
    "relative to the fastest, with its 95% interval and whether the difference is significant\n"
    "(Welch's t-test).\n"
    "\n"
    "Options:\n"
    "  -n, --samples N        predictions each run makes (default 1)\n"
    "  -r, --runs N           exactly N timed runs of each candidate\n"
    "  -m, --min-runs N       automatic mode: at least N runs of each (default 5)\n"
    "  -M, --max-runs N       automatic mode: at most N runs of each (default 1000)\n"
    "      --min-time SEC     automatic mode: keep running rounds for SEC seconds in all\n"
    "                         (default 3)\n"
    "  -w, --warmup N         untimed rounds first (default 0)\n"
    "      --timeout SEC      kill a run (and its process group) after SEC seconds\n"
    "      --shell            run each CMD through /bin/sh -c\n"
    "      --output WHERE     the commands' output: null (default), inherit or a FILE\n"
    "      --name NAME        the next --command's name\n"
    "      --command CMD      a candidate (named by the --name before it, else by CMD)\n"
    "      --sort KEY         throughput (default), latency or memory\n"
    "      --require EXPR     requirements every candidate must meet (repeatable)\n"
    "      --ignore-failure   a candidate that fails is left out; the others are reported\n"
    "      --no-timeline      skip each candidate's extra run that samples memory and CPU\n"
    "      --no-heap          skip each candidate's extra run under the heap shim\n"
    "      --no-cpu-samples   do not sample CPU stacks in that run; --sample-rate HZ,\n"
    "                         --call-graph fp|dwarf and --sampler auto|perf_event|timer as\n"
    "                         for 'shotclock run'\n"
    "      --export-json FILE write the report as JSON (atomically)\n"
    "  -h, --help             this text\n"
    "\n"
    "Exit status: 0 success; 1 a candidate failed a requirement; 2 bad usage or input; 3 a\n"
    "candidate failed (named); 126 it cannot be executed; 127 it was not found.\n";

/* One candidate as given: its name and its command text. */
typedef struct candidate {
	const char *name;
	const char *text;
	char *name_owned; /* from NAME=CMD */
	char **words;     /* the split command, or {text, NULL} with --shell */
} candidate;

typedef struct compare_args {
	sc_command_options base;
	candidate items[MAX_CANDIDATES];
	size_t n;
	const char *pending_name; /* --name waiting for its --command */
	const char *sort;
	const char *export_json;
	sc_requirements requirements;
	bool help;
	bool auto_given;
} compare_args;

static int add_candidate(compare_args *a, const char *name, const char *text, char *owned)
{
	if (a->n == MAX_CANDIDATES) {
		cli_error("compare: more than %d candidates", MAX_CANDIDATES);
		free(owned);
		return SC_EINVAL;
	}
	a->items[a->n++] = (candidate){.name = name, .text = text, .name_owned = owned};
	return 0;
}

static int apply_option(void *ctx, const cli_option *opt, const char *value)
{
	compare_args *a = ctx;
	if (opt->id < CLI_RUN_OPT_OWN) {
		return cli_run_option_apply(&a->base, &a->auto_given, opt, value);
	}
	switch (opt->id) {
	case OPT_EXPORT_JSON:
		a->export_json = value;
		return cli_check_output_path("--export-json", value);
	case OPT_NAME:
		if (value[0] == '\0') {
			cli_error("--name: the name is empty");
			return SC_EINVAL;
		}
		if (a->pending_name) {
			cli_error("--name %s: needs a --command before the next --name",
			          a->pending_name);
			return SC_EINVAL;
		}
		a->pending_name = value;
		return 0;
	case OPT_COMMAND: {
		const char *name = a->pending_name ? a->pending_name : value;
		a->pending_name = NULL;
		return add_candidate(a, name, value, NULL);
	}
	case OPT_SORT:
		if (strcmp(value, "throughput") && strcmp(value, "latency") &&
		    strcmp(value, "memory")) {
			cli_error("--sort: '%s' is not throughput, latency or memory", value);
			return SC_EINVAL;
		}
		a->sort = value;
		return 0;
	case OPT_REQUIRE:
		return cli_parse_requirements(value, &a->requirements);
	default: /* OPT_HELP */
		a->help = true;
		return 0;
	}
}

/* NAME=CMD: the name is everything before the first '='. */
static int add_operand(compare_args *a, const char *word)
{
	const char *eq = strchr(word, '=');
	if (!eq) {
		cli_error("compare: '%s' is not NAME=CMD (or use --name NAME --command CMD)", word);
		return SC_EINVAL;
	}
	if (eq == word) {
		cli_error("compare: '%s': the name before '=' is empty", word);
		return SC_EINVAL;
	}
	char *name = strndup(word, (size_t)(eq - word));
	if (!name) {
		cli_error("compare: %s", sc_strerror(SC_ENOMEM));
		return SC_ENOMEM;
	}
	return add_candidate(a, name, eq + 1, name);
}

/* Names unique, commands not empty, each split into its words. */
static int check_candidates(compare_args *a)
{
	if (a->n < 2) {
		cli_error(
		    "compare: needs at least two candidates (got %zu; usage: shotclock compare "
		    "NAME=CMD NAME=CMD ...)",
		    a->n);
		return SC_EINVAL;
	}
	for (size_t i = 0; i < a->n; i++) {
		candidate *c = &a->items[i];
		for (size_t j = 0; j < i; j++) {
			if (strcmp(c->name, a->items[j].name) == 0) {
				cli_error("compare: two candidates are named '%s' (names must be "
				          "unique)",
				          c->name);
				return SC_EINVAL;
			}
		}
		char err[160];
		size_t n_words;
		if (sc_split_words(c->text, &c->words, &n_words, err, sizeof err) != 0) {
			cli_error("compare: candidate '%s': cannot split '%s': %s", c->name,
			          c->text, err);
			return SC_EINVAL;
		}
		if (n_words == 0) {
			cli_error("compare: candidate '%s': the command is empty", c->name);
			return SC_EINVAL;
		}
		if (a->base.shell) {
			/* The shell reads the text itself; the split only proved it is not blank.
			 */
			sc_words_free(c->words);
			c->words = calloc(2, sizeof *c->words);
			if (!c->words || !(c->words[0] = strdup(c->text))) {
				cli_error("compare: %s", sc_strerror(SC_ENOMEM));
				return SC_ENOMEM;
			}
		}
	}
	return 0;
}

static int parse(int argc, char **argv, compare_args *a)
{
	cli_parser p = {argc, argv, 1, compare_options, cli_run_options};
	int rc = cli_parse_options(&p, apply_option, a);
	if (rc < 0) {
		return rc;
	}
	if (a->help) {
		return 0;
	}
	if (a->pending_name) {
		cli_error("--name %s: needs a --command after it", a->pending_name);
		return SC_EINVAL;
	}
	for (int i = p.next; i < argc; i++) {
		if (add_operand(a, argv[i]) != 0) {
			return SC_EINVAL;
		}
	}
	/* `compare` has no heap options for --no-heap to contradict. */
	if (cli_run_options_check(&a->base, a->auto_given, false) != 0) {
		return SC_EINVAL;
	}
	return check_candidates(a);
}

static void free_args(compare_args *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->items[i].name_owned);
		sc_words_free(a->items[i].words);
	}
}

/* One line naming the candidate and what went wrong; returns the exit status. */
static int report_failure(const candidate *c, int rc, const sc_command_failure *f, bool ignored)
{
	const char *why = f->message[0] ? f->message : sc_strerror(rc);
	cli_error("candidate '%s' failed: %s%s", c->name, why,
	          ignored ? " (left out of the comparison)"
	                  : " (--ignore-failure reports the others anyway)");
	switch (rc) {
	case SC_ENOTFOUND:
		return CLI_EXIT_NOT_FOUND;
	case SC_ENOEXEC:
		return CLI_EXIT_CANNOT_EXECUTE;
	case SC_ECOMMAND:
	case SC_ESPAWN:
		return CLI_EXIT_COMMAND_FAILED;
	default:
		return CLI_EXIT_USAGE;
	}
}

/* Report, analysis, requirements for every candidate, ranking; then the summary and the file. */
static int present(compare_args *a, sc_profile *profiles, const int *status)
{
	sc_report *report = NULL;
	int rc = sc_report_new(&report);
	for (size_t i = 0; rc == 0 && i < a->n; i++) {
		if (status[i] == 0) {
			rc = sc_report_add_profile(report, &profiles[i]);
		}
	}
	if (rc == 0) {
		rc = sc_report_symbolize(report);
	}
	if (rc == 0) {
		rc = sc_report_analyze(report, a->requirements.n > 0 ? &a->requirements : NULL);
	}
	if (rc == 0) {
		rc = sc_report_rank(report, a->sort);
	}
	int exit_status = CLI_EXIT_OK;
	if (rc != 0) {
		cli_error("compare: cannot build the report: %s", sc_strerror(rc));
		exit_status = CLI_EXIT_USAGE;
	} else {
		exit_status = cli_judge(report, &a->requirements, NULL, NULL, 0);
	}
	if (exit_status == CLI_EXIT_OK) {
		cli_summary_print(stdout, report, cli_use_color(stdout));
		if (a->export_json) {
			rc = sc_report_export_json(report, a->export_json);
			if (rc != 0) {
				cli_error("--export-json: cannot write '%s': %s", a->export_json,
				          rc == SC_EIO ? strerror(errno) : sc_strerror(rc));
				exit_status = CLI_EXIT_USAGE;
			}
		}
		if (exit_status == CLI_EXIT_OK && report->verdict &&
		    strcmp(report->verdict, "fail") == 0) {
			exit_status = CLI_EXIT_CHECK_FAILED;
		}
	}
	sc_report_free(report);
	return exit_status;
}

static int execute(compare_args *a)
{
	size_t n = a->n;
	sc_command_options *opts = calloc(n, sizeof *opts);
	sc_profile *profiles = calloc(n, sizeof *profiles);
	sc_command_failure *failures = calloc(n, sizeof *failures);
	int *status = calloc(n, sizeof *status);
	if (!opts || !profiles || !failures || !status) {
		cli_error("compare: %s", sc_strerror(SC_ENOMEM));
		free(opts);
		free(profiles);
		free(failures);
		free(status);
		return CLI_EXIT_USAGE;
	}
	bool keep_going = a->base.ignore_failure;
	for (size_t i = 0; i < n; i++) {
		opts[i] = a->base;
		/* A failed candidate leaves the comparison; its failed runs are never ranked. */
		opts[i].ignore_failure = false;
		opts[i].argv = a->items[i].words;
		opts[i].name = a->items[i].name;
	}
	size_t failed;
	int rc = sc_command_compare(opts, n, keep_going, profiles, failures, status, &failed);
	int exit_status = CLI_EXIT_OK;
	if (rc == SC_EINVAL || rc == SC_ENOMEM) {
		cli_error("compare: %s", sc_strerror(rc));
		exit_status = CLI_EXIT_USAGE;
	} else if (rc != 0 && !keep_going) {
		exit_status = report_failure(&a->items[failed], rc, &failures[failed], false);
	} else {
		size_t left = 0;
		for (size_t i = 0; i < n; i++) {
			if (status[i] != 0) {
				report_failure(&a->items[i], status[i], &failures[i], true);
			} else {
				left++;
			}
		}
		exit_status = left > 0 ? present(a, profiles, status) : CLI_EXIT_COMMAND_FAILED;
	}
	for (size_t i = 0; i < n; i++) {
		sc_profile_release(&profiles[i]);
	}
	free(opts);
	free(profiles);
	free(failures);
	free(status);
	return exit_status;
}

int cli_cmd_compare(int argc, char **argv)
{
	compare_args a = {0};
	a.base.min_time_s = -1; /* the library's default */
	int status;
	if (parse(argc, argv, &a) != 0) {
		status = CLI_EXIT_USAGE;
	} else if (a.help) {
		fputs(compare_usage, stdout);
		status = CLI_EXIT_OK;
	} else {
		status = execute(&a);
	}
	free_args(&a);
	return status;
}

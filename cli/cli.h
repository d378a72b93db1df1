/* cli.h: what the shotclock command's files share: exit statuses, options, subcommands, output. */
#ifndef SC_CLI_H
#define SC_CLI_H

#include "shotclock.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses (docs/cli.md). */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_CHECK_FAILED = 1,     /* a requirement or regression check failed */
	CLI_EXIT_USAGE = 2,            /* bad usage or bad input */
	CLI_EXIT_COMMAND_FAILED = 3,   /* the profiled command failed */
	CLI_EXIT_CANNOT_EXECUTE = 126, /* the command exists but cannot be executed */
	CLI_EXIT_NOT_FOUND = 127       /* the command was not found */
};

/* ---- main.c --------------------------------------------------------------------------------- */

/* Prints "shotclock: MESSAGE" as one line on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- options.c: the option table and strict parsing of values ------------------------------- */

/* One option a subcommand accepts. */
typedef struct cli_option {
	int id;                /* the subcommand's own code for it */
	char short_name;       /* 0 when it has none */
	const char *long_name; /* without the leading "--" */
	bool has_value;
} cli_option;

/* Walks argv: options first, then operands. Options end at "--" or at the first word that does
 * not start with '-' (a lone "-" is an operand). */
typedef struct cli_parser {
	int argc;
	char **argv;
	int next;                 /* index of the next word */
	const cli_option *table;  /* ends with an entry whose long_name is NULL */
	const cli_option *shared; /* a second such table (cli_run_options), or NULL */
} cli_parser;

/*
 * Reads the next option. Returns 1 with *opt and *value (NULL for a flag); 0 at the end of the
 * options, with p->next at the first operand (a "--" is consumed); SC_EINVAL after printing the
 * problem (unknown option, missing value, value given to a flag).
 */
int cli_next_option(cli_parser *p, const cli_option **opt, const char **value);

/* Applies one option to a subcommand's arguments (ctx). Returns 0, or an error after printing the
 * problem. */
typedef int (*cli_apply_fn)(void *ctx, const cli_option *opt, const char *value);

/* Reads the options up to the first operand, applying each. Returns 0 with p->next at the first
 * operand; SC_EINVAL when apply failed; or cli_next_option's error. */
int cli_parse_options(cli_parser *p, cli_apply_fn apply, void *ctx);

/* Reads options and one report's path in any order (options may follow the path), applying each
 * option; the path goes to *path. A second path is refused with "COMMAND: unexpected argument
 * 'WORD' (one report at a time)". Returns 0 (*path stays NULL when none was given), or an error
 * after printing the problem. */
int cli_parse_report_args(cli_parser *p, const char *command, cli_apply_fn apply, void *ctx,
                          const char **path);

/* A whole decimal number in [min, max]: digits only, no sign, no spaces, no suffix. On error
 * prints "shotclock: NAME: ..." and returns SC_EINVAL. */
int cli_parse_count(const char *name, const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* A byte count in [min, max]: a whole number with an optional binary suffix K, M or G, either case
 * (powers of 1024, "512K", "1M"). On error prints "shotclock: NAME: ..." and returns SC_EINVAL. */
int cli_parse_bytes(const char *name, const char *text, uint64_t min, uint64_t max, uint64_t *out);

/* A finite decimal number of seconds in [min, max], or (min, max] when min_exclusive; no sign,
 * no hexadecimal, no "nan"/"inf". On error prints the problem and returns SC_EINVAL. */
int cli_parse_seconds(const char *name, const char *text, double min, bool min_exclusive,
                      double max, double *out);

/* A threshold in per cent: "5%" or "5" both mean 5% (a bare number is per cent too, so "0.05"
 * is 0.05%), in [0, 1000]; *out is the fraction (0.05). On error prints the problem and returns
 * SC_EINVAL. */
int cli_parse_percent(const char *name, const char *text, double *out);

/* Parses one --require value ("latency_p99_ms<=100,throughput>=50") and appends its requirements
 * to req. On error prints "shotclock: --require: TEXT: position N: ..." and returns SC_EINVAL. */
int cli_parse_requirements(const char *text, sc_requirements *req);

/* Checks that a file can be created at path (its directory exists, path is not a directory),
 * before any time is spent profiling. On error prints the problem and returns SC_EINVAL. */
int cli_check_output_path(const char *name, const char *path);

/* ---- run_options.c: the options `run` and `compare` share ---------------------------------- */

/* Their ids; a subcommand that takes them numbers its own options from CLI_RUN_OPT_OWN. */
enum {
	CLI_RUN_OPT_SAMPLES,
	CLI_RUN_OPT_RUNS,
	CLI_RUN_OPT_MIN_RUNS,
	CLI_RUN_OPT_MAX_RUNS,
	CLI_RUN_OPT_MIN_TIME,
	CLI_RUN_OPT_WARMUP,
	CLI_RUN_OPT_TIMEOUT,
	CLI_RUN_OPT_SHELL,
	CLI_RUN_OPT_OUTPUT,
	CLI_RUN_OPT_IGNORE_FAILURE,
	CLI_RUN_OPT_NO_TIMELINE,
	CLI_RUN_OPT_NO_HEAP,
	CLI_RUN_OPT_NO_CPU_SAMPLES,
	CLI_RUN_OPT_SAMPLE_RATE,
	CLI_RUN_OPT_CALL_GRAPH,
	CLI_RUN_OPT_SAMPLER,
	CLI_RUN_OPT_OWN
};

/* Their table, for cli_parser.shared. */
extern const cli_option cli_run_options[];

/* Applies one of them (opt->id < CLI_RUN_OPT_OWN) to o; --min-runs, --max-runs and --min-time
 * set *auto_given. Returns 0, or SC_EINVAL after printing the problem. */
int cli_run_option_apply(sc_command_options *o, bool *auto_given, const cli_option *opt,
                         const char *value);

/* Checks them against each other once every option is known: --runs against automatic mode
 * (auto_given), --no-heap against heap_given (one of `run`'s heap options was given), --min-runs
 * against --max-runs. Then raises the default ceiling of runs to a --min-runs above it. Returns 0,
 * or SC_EINVAL after printing the problem. */
int cli_run_options_check(sc_command_options *o, bool auto_given, bool heap_given);

/* ---- cmd_run.c: `shotclock run`, and the profiling step `demo` shares ------------------------ */

/* What to profile and where the report goes. */
typedef struct cli_run_request {
	sc_command_options command;
	const char *export_json;     /* NULL: no report file */
	const char *export_markdown; /* --export-markdown, --export-csv, --export-html; or NULL */
	const char *export_csv;
	const char *export_html;
	const char *export_folded; /* --export-folded, --export-speedscope; or NULL */
	const char *export_speedscope;
	sc_requirements requirements; /* --require; n == 0 when none */
	sc_report *baseline;          /* --baseline, read before the command runs; or NULL */
	const char *baseline_path;
	double max_regression; /* --max-regression as a fraction */
} cli_run_request;

/* Profiles the command, prints the summary on stdout and writes the report; returns the exit
 * status. No report file is written unless every step before it succeeded. */
int cli_run_execute(const cli_run_request *req);

int cli_cmd_run(int argc, char **argv);

/* ---- cmd_compare.c: `shotclock compare` ------------------------------------------------------ */

int cli_cmd_compare(int argc, char **argv);

/* ---- cmd_check.c: `shotclock check`, and the judging step `run` shares ---------------------- */

/* Reads a baseline report for --baseline; on error prints one line and returns non-zero. */
int cli_read_baseline(const char *path, sc_report **out);

/* Applies requirements (req->n may be 0) and a baseline (may be NULL) to r. Returns 0, or an
 * exit status after printing the problem (2: no profile of r is in the baseline, or out of
 * memory). */
int cli_judge(sc_report *r, const sc_requirements *req, const sc_report *baseline,
              const char *baseline_path, double max_regression);

int cli_cmd_check(int argc, char **argv);

/* ---- cmd_report.c: `shotclock report`, and the exports `run` shares -------------------------- */

/* Writes r atomically to each path that is not NULL, as Markdown, CSV and HTML (the
 * --export-markdown, --export-csv and --export-html options). Returns 0, or CLI_EXIT_USAGE after
 * printing one line per file that could not be written. */
/* The files of a report besides its JSON; NULL: not asked for. */
typedef struct cli_exports {
	const char *markdown, *csv, *html, *folded, *speedscope;
} cli_exports;

int cli_export_formats(const sc_report *r, const cli_exports *files);

int cli_cmd_report(int argc, char **argv);

/* ---- cmd_sysinfo.c, cmd_demo.c ----------------------------------------------------------------
 */

int cli_cmd_sysinfo(int argc, char **argv);
int cli_cmd_demo(int argc, char **argv);

/* ---- summary.c: the terminal summary (a pure function of the report) ------------------------- */

/* Whether to colour what goes to f: f is a terminal and NO_COLOR is unset or empty. */
bool cli_use_color(FILE *f);

/* Prints the summary of every profile in r, the system stats, then the warnings. */
void cli_summary_print(FILE *out, const sc_report *r, bool color);
/* The Production Readiness table (r->checks), the baseline comparison (r->regressions; against
 * baseline_path when given) and the verdict: what `check` prints and `run` ends with. */
void cli_judgement_print(FILE *out, const sc_report *r, const char *baseline_path, bool color);

/* Prints "System Stats:" and one "  key: value" line per figure. */
void cli_system_print(FILE *out, const sc_system_info *s, bool color);

#endif

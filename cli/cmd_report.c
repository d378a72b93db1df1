/* cmd_report.c: `shotclock report`: re-render a saved JSON report as JSON, Markdown, CSV or HTML.
 */
#include "cli.h"

#include <errno.h>
#include <string.h>

enum { OPT_FORMAT, OPT_OUTPUT, OPT_HELP };

static const cli_option report_options[] = {
    {OPT_FORMAT, 'f', "format", true},
    {OPT_OUTPUT, 'o', "output", true},
    {OPT_HELP, 'h', "help", false},
    {0, 0, NULL, false},
};

static const char report_usage[] =
    "Usage: shotclock report REPORT.json [--format md|csv|html|json|folded|speedscope] [-o FILE]\n"
    "\n"
    "Renders a report saved by 'shotclock run --export-json' (or compare, check) in another\n"
    "format. Every format shows the same report: md is Markdown tables for a pull request, csv\n"
    "one row per profile and per run (columns in docs/report-format.md), html one\n"
    "self-contained page with charts and a flame graph (no network needed), json the canonical\n"
    "report; folded and speedscope hold the CPU samples' stacks for flame graph tools.\n"
    "\n"
    "Options:\n"
    "  -f, --format FORMAT  md (default), csv, html, json, folded or speedscope\n"
    "  -o, --output FILE    write to FILE (atomically) instead of standard output\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status: 0 success; 2 bad usage or input (a file that is not a shotclock report, of\n"
    "another schema version, or not valid JSON), or the output could not be written.\n";

static const char *const formats[] = {"md", "csv", "html", "json", "folded", "speedscope", NULL};

typedef struct report_args {
	const char *report_path;
	const char *format;
	const char *output;
	bool help;
} report_args;

static int apply_option(void *ctx, const cli_option *opt, const char *value)
{
	report_args *a = ctx;
	switch (opt->id) {
	case OPT_FORMAT:
		for (size_t i = 0; formats[i]; i++) {
			if (strcmp(formats[i], value) == 0) {
				a->format = formats[i];
				return 0;
			}
		}
		cli_error("--format: '%s' is not md, csv, html, json, folded or speedscope", value);
		return SC_EINVAL;
	case OPT_OUTPUT:
		a->output = value;
		return cli_check_output_path("--output", value);
	default: /* OPT_HELP */
		a->help = true;
		return 0;
	}
}

/* Options may come before or after the report's path. */
static int parse(int argc, char **argv, report_args *a)
{
	cli_parser p = {argc, argv, 1, report_options};
	int rc = cli_parse_report_args(&p, "report", apply_option, a, &a->report_path);
	if (rc < 0) {
		return rc;
	}
	if (!a->help && !a->report_path) {
		cli_error("report: missing report (usage: shotclock report REPORT.json "
		          "--format md|csv|html|json|folded|speedscope [-o FILE])");
		return SC_EINVAL;
	}
	return 0;
}

int cli_export_formats(const sc_report *r, const cli_exports *files)
{
	const struct {
		const char *option, *format, *path;
	} exports[] = {
	    {"--export-markdown", "md", files->markdown},
	    {"--export-csv", "csv", files->csv},
	    {"--export-html", "html", files->html},
	    {"--export-folded", "folded", files->folded},
	    {"--export-speedscope", "speedscope", files->speedscope},
	};
	int status = CLI_EXIT_OK;
	for (size_t i = 0; i < sizeof exports / sizeof exports[0]; i++) {
		if (!exports[i].path) {
			continue;
		}
		int rc = sc_report_export(r, exports[i].format, exports[i].path);
		if (rc != 0) {
			/* SC_EIO keeps errno, which names the actual problem. */
			cli_error("%s: cannot write '%s': %s", exports[i].option, exports[i].path,
			          rc == SC_EIO ? strerror(errno) : sc_strerror(rc));
			status = CLI_EXIT_USAGE;
		}
	}
	return status;
}

int cli_cmd_report(int argc, char **argv)
{
	report_args a = {.format = "md"};
	if (parse(argc, argv, &a) != 0) {
		return CLI_EXIT_USAGE;
	}
	if (a.help) {
		fputs(report_usage, stdout);
		return CLI_EXIT_OK;
	}
	sc_report *report = NULL;
	/* The reader's message is one line naming the file and the problem. */
	if (cli_read_baseline(a.report_path, &report) != 0) {
		return CLI_EXIT_USAGE;
	}
	int rc = a.output ? sc_report_export(report, a.format, a.output)
	                  : sc_report_write(report, a.format, stdout);
	int status = CLI_EXIT_OK;
	if (rc != 0) {
		cli_error("report: cannot write '%s': %s", a.output ? a.output : "standard output",
		          rc == SC_EIO ? strerror(errno) : sc_strerror(rc));
		status = CLI_EXIT_USAGE;
	}
	sc_report_free(report);
	return status;
}

/* main.c: the shotclock command's entry point: the top-level options and the subcommand dispatch.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

static const char usage[] =
    "Usage: shotclock COMMAND [options]\n"
    "\n"
    "A performance profiler for ML inference pipelines and any program.\n"
    "\n"
    "Commands:\n"
    "  run [options] [--] CMD [ARGS...]  profile a command: time, throughput, memory, resources\n"
    "  compare [options] NAME=CMD ...    several commands run interleaved, ranked side by side\n"
    "  check REPORT.json [options]       check a report against requirements and a baseline\n"
    "  report REPORT.json --format FMT   re-render a saved report: md, csv, html or json\n"
    "  sysinfo [--json]                  the system stats that reports embed\n"
    "  demo [--out DIR] [--quick]        profile the bundled example end to end\n"
    "  help [COMMAND]                    this text, or a command's options\n"
    "\n"
    "Options:\n"
    "  -h, --help                        this text\n"
    "  --version                         the version\n"
    "\n"
    "Exit status: 0 success; 1 a requirement or regression check failed; 2 bad usage or\n"
    "input; 3 the profiled command failed;\n"
    "126 the command cannot be executed; 127 the command was not found.\n"
    "'shotclock COMMAND --help' lists a command's options; docs/cli.md has the details.\n";

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("shotclock: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

typedef int (*subcommand_fn)(int argc, char **argv);

static const struct {
	const char *name;
	subcommand_fn fn;
} subcommands[] = {
    {"run", cli_cmd_run},       {"compare", cli_cmd_compare}, {"check", cli_cmd_check},
    {"report", cli_cmd_report}, {"sysinfo", cli_cmd_sysinfo}, {"demo", cli_cmd_demo},
};

static subcommand_fn find_subcommand(const char *name)
{
	for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++) {
		if (strcmp(subcommands[i].name, name) == 0) {
			return subcommands[i].fn;
		}
	}
	return NULL;
}

/* `shotclock help [COMMAND]`: the overview, or the command's own --help. */
static int help(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stdout);
		return CLI_EXIT_OK;
	}
	subcommand_fn fn = find_subcommand(argv[1]);
	if (!fn || argc > 2) {
		cli_error("help: unknown subcommand '%s' (try 'shotclock help')", argv[argc - 1]);
		return CLI_EXIT_USAGE;
	}
	char *sub_argv[] = {argv[1], "--help", NULL};
	return fn(2, sub_argv);
}

static int dispatch(int argc, char **argv)
{
	if (argc < 2) {
		cli_error("missing subcommand (try 'shotclock help')");
		return CLI_EXIT_USAGE;
	}
	const char *word = argv[1];
	if (strcmp(word, "help") == 0) {
		return help(argc - 1, argv + 1);
	}
	if (strcmp(word, "-h") == 0 || strcmp(word, "--help") == 0) {
		fputs(usage, stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(word, "--version") == 0) {
		printf("shotclock %s\n", SC_VERSION);
		return CLI_EXIT_OK;
	}
	subcommand_fn fn = find_subcommand(word);
	if (fn) {
		return fn(argc - 1, argv + 1);
	}
	if (word[0] == '-') {
		cli_error("unknown option '%s'", word);
	} else {
		cli_error("unknown subcommand '%s' (try 'shotclock help')", word);
	}
	return CLI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	int status = dispatch(argc, argv);
	/* A summary lost to a full disk or a closed pipe must not look like success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("writing to standard output failed: %s", strerror(errno));
		if (status == CLI_EXIT_OK) {
			status = CLI_EXIT_USAGE;
		}
	}
	return status;
}

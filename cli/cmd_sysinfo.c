/* cmd_sysinfo.c: `shotclock sysinfo`: the system stats a report embeds, as text or JSON. */
#include "cli.h"

#include <jansson.h>
#include <math.h>

enum { OPT_JSON, OPT_HELP };

static const cli_option sysinfo_options[] = {
    {OPT_JSON, 0, "json", false},
    {OPT_HELP, 'h', "help", false},
    {0, 0, NULL, false},
};

static const char sysinfo_usage[] =
    "Usage: shotclock sysinfo [--json]\n"
    "\n"
    "Prints the system stats that every report embeds: CPUs, CPU model, kernel, host, memory,\n"
    "load and the disk holding the working directory.\n"
    "\n"
    "Options:\n"
    "      --json   print the report's \"system\" object instead (docs/report-format.md)\n"
    "  -h, --help   this text\n";

/* A measured figure, or null when it could not be read (the report's convention). */
static json_t *real_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *text_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

/* The same object, with the same names, as the report's "system" (docs/report-format.md). */
static json_t *system_json(const sc_system_info *s)
{
	return json_pack(
	    "{s:o, s:o, s:o, s:o, s:o, s:o, s:[o,o,o], s:{s:o, s:o, s:o, s:o}}", "cpus",
	    s->cpus > 0 ? json_integer(s->cpus) : json_null(), "cpu_model",
	    text_or_null(s->cpu_model), "kernel", text_or_null(s->kernel), "hostname",
	    text_or_null(s->hostname), "memory_total_mb", real_or_null(s->memory_total_mb),
	    "memory_available_mb", real_or_null(s->memory_available_mb), "load_avg",
	    real_or_null(s->load_avg[0]), real_or_null(s->load_avg[1]),
	    real_or_null(s->load_avg[2]), "disk", "path", text_or_null(s->disk_path), "total_gb",
	    real_or_null(s->disk_total_gb), "free_gb", real_or_null(s->disk_free_gb),
	    "used_percent", real_or_null(s->disk_used_percent));
}

static int print_json(const sc_system_info *s)
{
	json_t *root = system_json(s);
	if (!root) {
		cli_error("sysinfo: %s", sc_strerror(SC_ENOMEM));
		return CLI_EXIT_USAGE;
	}
	int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	json_decref(root);
	if (rc != 0) {
		cli_error("sysinfo: writing the JSON failed");
		return CLI_EXIT_USAGE;
	}
	fputc('\n', stdout);
	return CLI_EXIT_OK;
}

int cli_cmd_sysinfo(int argc, char **argv)
{
	cli_parser p = {argc, argv, 1, sysinfo_options};
	const cli_option *opt;
	const char *value;
	bool json = false;
	int rc;
	while ((rc = cli_next_option(&p, &opt, &value)) == 1) {
		if (opt->id == OPT_HELP) {
			fputs(sysinfo_usage, stdout);
			return CLI_EXIT_OK;
		}
		json = true;
	}
	if (rc < 0) {
		return CLI_EXIT_USAGE;
	}
	if (p.next < argc) {
		cli_error("sysinfo: unexpected argument '%s'", argv[p.next]);
		return CLI_EXIT_USAGE;
	}
	sc_system_info s;
	rc = sc_system_info_collect(NULL, &s);
	if (rc != 0) {
		cli_error("sysinfo: %s", sc_strerror(rc));
		return CLI_EXIT_USAGE;
	}
	if (json) {
		return print_json(&s);
	}
	cli_system_print(stdout, &s, cli_use_color(stdout));
	return CLI_EXIT_OK;
}

/* export.c: sc_report_export and sc_report_write: the table of formats, each in its own file. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * One small interface (as hyperfine has): a format is a name, the extension its files usually
 * carry, and a function that renders the report model to a stream. JSON is canonical; the others
 * render the same sc_report, so a report re-read from JSON renders the same everywhere.
 */
typedef struct exporter {
	const char *format;
	const char *extension;
	sc__export_fn write;
} exporter;

static const exporter exporters[] = {
    {"json", ".json", sc__export_json},
    {"md", ".md", sc__export_markdown},
    {"csv", ".csv", sc__export_csv},
    {"html", ".html", sc__export_html},
    {"folded", ".folded", sc__export_folded},
    {"speedscope", ".speedscope.json", sc__export_speedscope},
};

static const exporter *find(const char *format)
{
	for (size_t i = 0; format && i < sizeof exporters / sizeof exporters[0]; i++)
		if (strcmp(exporters[i].format, format) == 0)
			return &exporters[i];
	return NULL;
}

/*
 * The formats for people render the canonical model: the report as its JSON keeps it (10
 * significant digits), read back. Rendered from memory instead, a figure on a rounding boundary of
 * the few digits shown (0.0011915 s) could print one way from `run` and the other way when
 * `shotclock report` re-renders the saved JSON. When the round trip fails (out of memory; a report
 * the reader refuses) the report in memory is rendered as it is.
 */
static int render(const exporter *e, const sc_report *r, FILE *out)
{
	if (e->write == sc__export_json)
		return e->write(r, out);
	char *text = NULL;
	size_t len = 0;
	sc_report *canonical = NULL;
	FILE *mem = open_memstream(&text, &len);
	if (mem) {
		int rc = sc__export_json(r, mem);
		if (fclose(mem) == 0 && rc == 0 && text &&
		    sc__report_read_json_text(text, len, "report", &canonical, NULL, 0) != 0)
			canonical = NULL;
	}
	free(text);
	int err = e->write(canonical ? canonical : r, out);
	sc_report_free(canonical);
	return err;
}

int sc_report_write(const sc_report *r, const char *format, FILE *out)
{
	const exporter *e = find(format);
	if (!r || !out || !e)
		return SC_EINVAL;
	int err = render(e, r, out);
	if (!err && (fflush(out) != 0 || ferror(out)))
		err = SC_EIO;
	return err;
}

int sc_report_export(const sc_report *r, const char *format, const char *path)
{
	const exporter *e = find(format);
	if (!r || !path || !e)
		return SC_EINVAL;
	sc__atomic_file af;
	int err = sc__atomic_open(&af, path);
	if (err)
		return err;
	err = render(e, r, af.fp);
	if (!err && ferror(af.fp))
		err = SC_EIO;
	if (err) {
		/* A half-rendered report is worse than none: the temporary goes, the target stays.
		 */
		if (err == SC_EIO && errno == 0)
			errno = EIO;
		sc__atomic_abort(&af);
		return err;
	}
	return sc__atomic_commit(&af);
}

/* export.c: sc_report_export and sc_report_write: the table of formats, each in its own file. */
#include "internal.h"

#include <errno.h>
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
};

static const exporter *find(const char *format)
{
	for (size_t i = 0; format && i < sizeof exporters / sizeof exporters[0]; i++)
		if (strcmp(exporters[i].format, format) == 0)
			return &exporters[i];
	return NULL;
}

int sc_report_write(const sc_report *r, const char *format, FILE *out)
{
	const exporter *e = find(format);
	if (!r || !out || !e)
		return SC_EINVAL;
	int err = e->write(r, out);
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
	err = e->write(r, af.fp);
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

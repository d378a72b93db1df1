/* format.c: how the exports written for people (Markdown, HTML) print figures and names. */
#include "internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* One place for these, so that a figure reads the same in a PR comment and on the HTML page. */

/* 4 significant digits (enough to compare two runs by eye; the JSON keeps 10), whole numbers from
 * 10^4 up so large counts are not shown in exponent form; n/a when unmeasured, never 0. */
void sc__fmt_num(FILE *fp, double v)
{
	/* First the value the JSON report keeps (10 significant digits): a report re-rendered from
	 * its JSON then prints exactly what the original run printed, even for a figure that sits
	 * on a rounding boundary of the 4 digits shown here. */
	if (isfinite(v)) {
		char kept[32];
		snprintf(kept, sizeof kept, "%.10g", v);
		v = strtod(kept, NULL);
	}
	if (!isfinite(v))
		fputs("n/a", fp);
	else if (fabs(v) >= 1e4 && fabs(v) < 1e15)
		fprintf(fp, "%.0f", v);
	else
		fprintf(fp, "%.4g", v);
}

/* A negative count is one that was not measured. */
void sc__fmt_count(FILE *fp, int64_t v)
{
	if (v < 0)
		fputs("n/a", fp);
	else
		fprintf(fp, "%" PRId64, v);
}

/* The severity as the JSON report spells it, which every other format repeats. */
const char *sc__fmt_severity(sc_severity s)
{
	switch (s) {
	case SC_SEVERITY_CRITICAL:
		return "critical";
	case SC_SEVERITY_WARNING:
		return "warning";
	default:
		return "info";
	}
}

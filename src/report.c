/* report.c: the report model: system information, creation time and the profiles it owns. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void sc__iso8601_now(char *buf, size_t cap)
{
	time_t now = time(NULL);
	struct tm tm;
	/* gmtime_r fails only for a clock billions of years off; strftime only when cap is short.
	 */
	if ((!gmtime_r(&now, &tm) || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) && cap)
		buf[0] = '\0';
}

bool sc__same_profile(const char *stored, size_t cap, const char *name)
{
	if (!stored || !name || cap == 0)
		return false;
	/* snprintf into the field kept the first cap - 1 bytes. */
	size_t kept = strnlen(name, cap - 1);
	return strncmp(stored, name, kept) == 0 && stored[kept] == '\0';
}

int sc_report_new(sc_report **out)
{
	if (!out)
		return SC_EINVAL;
	*out = NULL;
	sc_report *r = calloc(1, sizeof *r);
	if (!r)
		return SC_ENOMEM;
	int err = sc_system_info_collect(NULL, &r->system);
	if (err) {
		free(r);
		return err;
	}
	sc__iso8601_now(r->created, sizeof r->created);
	r->max_regression = NAN;
	*out = r;
	return 0;
}

int sc_report_add_profile(sc_report *r, sc_profile *profile)
{
	if (!r || !profile)
		return SC_EINVAL;
	/* Reports hold a handful of profiles: growing by one is simple and cheap enough. */
	sc_profile *grown = realloc(r->profiles, (r->n_profiles + 1) * sizeof *grown);
	if (!grown)
		return SC_ENOMEM;
	r->profiles = grown;
	r->profiles[r->n_profiles++] = *profile;
	*profile = (sc_profile){0};
	return 0;
}

void sc_report_free(sc_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_profiles; i++)
		sc_profile_release(&r->profiles[i]);
	free(r->profiles);
	free(r->bottlenecks);
	free(r->recommendations);
	free(r->checks);
	free(r->regressions);
	free(r->comparison);
	free(r);
}

/* options.c: the option walker of every subcommand and strict parsing of numbers and paths. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const cli_option *find_long(const cli_option *table, const char *name, size_t len)
{
	for (; table->long_name; table++) {
		if (strlen(table->long_name) == len && strncmp(table->long_name, name, len) == 0) {
			return table;
		}
	}
	return NULL;
}

static const cli_option *find_short(const cli_option *table, char name)
{
	for (; table->long_name; table++) {
		if (table->short_name && table->short_name == name) {
			return table;
		}
	}
	return NULL;
}

/* The value of an option that takes one: attached ("--runs=3", "-r3") or the next word. */
static int take_value(cli_parser *p, const cli_option *opt, const char *attached,
                      const char **value)
{
	if (attached) {
		*value = attached;
		return 1;
	}
	if (p->next >= p->argc) {
		cli_error("--%s: missing value", opt->long_name);
		return SC_EINVAL;
	}
	*value = p->argv[p->next++];
	return 1;
}

int cli_next_option(cli_parser *p, const cli_option **opt, const char **value)
{
	*opt = NULL;
	*value = NULL;
	if (p->next >= p->argc) {
		return 0;
	}
	const char *word = p->argv[p->next];
	if (word[0] != '-' || word[1] == '\0') {
		return 0;
	}
	p->next++;
	if (strcmp(word, "--") == 0) {
		return 0;
	}
	if (word[1] == '-') {
		const char *name = word + 2;
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const cli_option *o = find_long(p->table, name, len);
		if (!o && p->shared) {
			o = find_long(p->shared, name, len);
		}
		if (!o) {
			cli_error("unknown option '%.*s'", (int)(len + 2), word);
			return SC_EINVAL;
		}
		*opt = o;
		if (!o->has_value) {
			if (eq) {
				cli_error("--%s takes no value", o->long_name);
				return SC_EINVAL;
			}
			return 1;
		}
		return take_value(p, o, eq ? eq + 1 : NULL, value);
	}
	const cli_option *o = find_short(p->table, word[1]);
	if (!o && p->shared) {
		o = find_short(p->shared, word[1]);
	}
	if (!o) {
		cli_error("unknown option '%s'", word);
		return SC_EINVAL;
	}
	*opt = o;
	if (!o->has_value) {
		if (word[2] != '\0') {
			cli_error("unknown option '%s'", word);
			return SC_EINVAL;
		}
		return 1;
	}
	return take_value(p, o, word[2] != '\0' ? word + 2 : NULL, value);
}

int cli_parse_options(cli_parser *p, cli_apply_fn apply, void *ctx)
{
	const cli_option *opt;
	const char *value;
	int rc;
	while ((rc = cli_next_option(p, &opt, &value)) == 1) {
		if (apply(ctx, opt, value) != 0) {
			return SC_EINVAL;
		}
	}
	return rc;
}

int cli_parse_report_args(cli_parser *p, const char *command, cli_apply_fn apply, void *ctx,
                          const char **path)
{
	for (;;) {
		int rc = cli_parse_options(p, apply, ctx);
		if (rc < 0) {
			return rc;
		}
		if (p->next >= p->argc) {
			return 0;
		}
		if (*path) {
			cli_error("%s: unexpected argument '%s' (one report at a time)", command,
			          p->argv[p->next]);
			return SC_EINVAL;
		}
		*path = p->argv[p->next++];
	}
}

int cli_parse_count(const char *name, const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	/* strtoull alone would accept leading spaces, a sign (and negate "-1" into a huge value)
	 * and an empty string, so the text must be digits only before it is converted. */
	if (text[0] == '\0' || strspn(text, "0123456789") != strlen(text)) {
		cli_error("%s: '%s' is not a whole number", name, text);
		return SC_EINVAL;
	}
	errno = 0;
	unsigned long long v = strtoull(text, NULL, 10);
	if (errno == ERANGE || v < min || v > max) {
		cli_error("%s: '%s' is out of range (%llu to %llu)", name, text,
		          (unsigned long long)min, (unsigned long long)max);
		return SC_EINVAL;
	}
	*out = v;
	return 0;
}

/* "1G" for 2^30: the bounds of a byte option read the way its values are written. */
static void format_bytes(char *buf, size_t cap, uint64_t v)
{
	static const char suffixes[] = "KMG";
	int k = 0;
	while (k < 3 && v >= 1024 && v % 1024 == 0) {
		v /= 1024;
		k++;
	}
	if (k == 0) {
		snprintf(buf, cap, "%llu", (unsigned long long)v);
	} else {
		snprintf(buf, cap, "%llu%c", (unsigned long long)v, suffixes[k - 1]);
	}
}

int cli_parse_bytes(const char *name, const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	size_t digits = strspn(text, "0123456789");
	const char *suffix = text + digits;
	int shift = -1;
	if (suffix[0] == '\0') {
		shift = 0;
	} else if (suffix[1] == '\0') {
		/* Either case: "512k" can only mean one thing. */
		char unit = suffix[0];
		shift = (unit == 'K' || unit == 'k')   ? 10
		        : (unit == 'M' || unit == 'm') ? 20
		        : (unit == 'G' || unit == 'g') ? 30
		                                       : -1;
	}
	if (digits == 0 || shift < 0) {
		cli_error(
		    "%s: '%s' is not a size (a whole number of bytes, optionally with K, M or G)",
		    name, text);
		return SC_EINVAL;
	}
	errno = 0;
	unsigned long long v = strtoull(text, NULL, 10);
	char lo[32], hi[32];
	format_bytes(lo, sizeof lo, min);
	format_bytes(hi, sizeof hi, max);
	/* The shift is checked before it is applied, so that no value wraps into range. */
	if (errno == ERANGE || v > (UINT64_MAX >> shift) || (v << shift) < min ||
	    (v << shift) > max) {
		cli_error("%s: '%s' is out of range (%s to %s)", name, text, lo, hi);
		return SC_EINVAL;
	}
	*out = (uint64_t)v << shift;
	return 0;
}

int cli_parse_seconds(const char *name, const char *text, double min, bool min_exclusive,
                      double max, double *out)
{
	/* Only plain decimal notation: strtod would also take spaces, signs, hexadecimal, "nan" and
	 * "inf", none of which is a sensible number of seconds. */
	bool shape = (text[0] >= '0' && text[0] <= '9') || text[0] == '.';
	if (!shape || strspn(text, "0123456789.eE+-") != strlen(text)) {
		cli_error("%s: '%s' is not a number of seconds", name, text);
		return SC_EINVAL;
	}
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (*end != '\0') {
		cli_error("%s: '%s' is not a number of seconds", name, text);
		return SC_EINVAL;
	}
	bool below = min_exclusive ? !(v > min) : !(v >= min);
	if (errno == ERANGE || !isfinite(v) || below || v > max) {
		cli_error("%s: '%s' is out of range (%s %.15g, at most %.15g seconds)", name, text,
		          min_exclusive ? "more than" : "at least", min, max);
		return SC_EINVAL;
	}
	*out = v;
	return 0;
}

int cli_parse_percent(const char *name, const char *text, double *out)
{
	size_t len = strlen(text);
	bool percent_sign = len > 0 && text[len - 1] == '%';
	size_t body = len - percent_sign;
	/* Plain decimal notation only, as for seconds: no sign, "nan", "inf" or hexadecimal. */
	bool shape = body > 0 && ((text[0] >= '0' && text[0] <= '9') || text[0] == '.') &&
	             strspn(text, "0123456789.eE+-") == body;
	char *end = NULL;
	double v = shape ? strtod(text, &end) : NAN;
	if (!shape || end != text + body) {
		cli_error("%s: '%s' is not a percentage (e.g. 5%% or 5)", name, text);
		return SC_EINVAL;
	}
	if (!isfinite(v) || v < 0 || v > 1000) {
		cli_error("%s: '%s' is out of range (0%% to 1000%%)", name, text);
		return SC_EINVAL;
	}
	*out = v / 100;
	return 0;
}

int cli_parse_requirements(const char *text, sc_requirements *req)
{
	sc_requirements more;
	char err[256];
	size_t pos;
	if (sc_requirements_parse(text, &more, &pos, err, sizeof err) != 0) {
		cli_error("--require: %s: %s", text, err);
		return SC_EINVAL;
	}
	if (req->n + more.n > SC_MAX_REQUIREMENTS) {
		cli_error("--require: more than %d requirements in all", SC_MAX_REQUIREMENTS);
		return SC_EINVAL;
	}
	for (size_t i = 0; i < more.n; i++) {
		req->items[req->n++] = more.items[i];
	}
	return 0;
}

int cli_check_output_path(const char *name, const char *path)
{
	if (path[0] == '\0') {
		cli_error("%s: the file name is empty", name);
		return SC_EINVAL;
	}
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		cli_error("%s: '%s' is a directory", name, path);
		return SC_EINVAL;
	}
	const char *slash = strrchr(path, '/');
	if (!slash) {
		return 0;
	}
	/* The directory part, "/" for "/name"; it must exist for the file to be created in it. */
	size_t len = slash == path ? 1 : (size_t)(slash - path);
	char *dir = strndup(path, len);
	if (!dir) {
		cli_error("%s: %s", name, sc_strerror(SC_ENOMEM));
		return SC_ENOMEM;
	}
	int rc = 0;
	if (stat(dir, &st) != 0) {
		cli_error("%s: cannot create '%s': directory '%s': %s", name, path, dir,
		          strerror(errno));
		rc = SC_EINVAL;
	} else if (!S_ISDIR(st.st_mode)) {
		cli_error("%s: cannot create '%s': '%s' is not a directory", name, path, dir);
		rc = SC_EINVAL;
	}
	free(dir);
	return rc;
}

/* requirements.c: production-readiness requirements: parsing "metric OP limit" and checking them.
 */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the metrics and their units ------------------------------------------------------------- */

/* A unit a limit may be written in, and the factor that turns it into the metric's own unit. */
typedef struct unit {
	const char *name; /* matched without regard to case */
	double factor;
} unit;

/* Latency limits are kept in ms. */
static const unit time_units[] = {{"ms", 1}, {"s", 1000}, {"us", 1e-3}, {"ns", 1e-6}, {NULL, 0}};

/* Memory limits are kept in MiB, the unit of the report's "_mb" fields (2^20 bytes). "MB" is read
 * as MiB as well, so that a limit reads the way the field it limits is named; every multiple is a
 * power of 1024 (docs/metrics.md, "Requirements"). */
static const unit memory_units[] = {{"mb", 1},           {"mib", 1},           {"m", 1},
                                    {"gb", 1024},        {"gib", 1024},        {"g", 1024},
                                    {"kb", 1.0 / 1024},  {"kib", 1.0 / 1024},  {"k", 1.0 / 1024},
                                    {"tb", 1024 * 1024}, {"tib", 1024 * 1024}, {NULL, 0}};

/* Leaked memory is counted in bytes; the suffixes are the powers of 1024 of --heap-sample-bytes. */
static const unit byte_units[] = {{"b", 1},
                                  {"k", 1024},
                                  {"kb", 1024},
                                  {"kib", 1024},
                                  {"m", 1024.0 * 1024},
                                  {"mb", 1024.0 * 1024},
                                  {"mib", 1024.0 * 1024},
                                  {"g", 1024.0 * 1024 * 1024},
                                  {"gb", 1024.0 * 1024 * 1024},
                                  {"gib", 1024.0 * 1024 * 1024},
                                  {NULL, 0}};

/* Throughput is samples (predictions) per second. */
static const unit rate_units[] = {{"/s", 1}, {"rps", 1}, {"/sec", 1}, {NULL, 0}};

/* CPU utilization is in cores kept busy (1 = one core); "%" is per cent of one core. */
static const unit cpu_units[] = {{"%", 0.01}, {NULL, 0}};

static const unit no_units[] = {{NULL, 0}};

typedef struct metric {
	const char *name;
	const unit *units;
	const char *unit_list; /* for messages */
	const char *display;   /* the unit printed beside values */
} metric;

static const metric metrics[] = {
    {"latency_ms", time_units, "ms, s, us, ns", "ms"},
    {"latency_p50_ms", time_units, "ms, s, us, ns", "ms"},
    {"latency_p90_ms", time_units, "ms, s, us, ns", "ms"},
    {"latency_p95_ms", time_units, "ms, s, us, ns", "ms"},
    {"latency_p99_ms", time_units, "ms, s, us, ns", "ms"},
    {"latency_p999_ms", time_units, "ms, s, us, ns", "ms"},
    {"throughput", rate_units, "/s, rps", "/s"},
    {"peak_memory_mb", memory_units, "MB, GB, KB, MiB, GiB, KiB", "MiB"},
    {"memory_increase_mb", memory_units, "MB, GB, KB, MiB, GiB, KiB", "MiB"},
    {"allocations_per_sample", no_units, NULL, ""},
    {"leaked_bytes", byte_units, "B, K, M, G", "B"},
    {"cpu_utilization", cpu_units, "%", "cores"},
};

#define N_METRICS (sizeof metrics / sizeof metrics[0])

static const char metric_names[] =
    "latency_ms, latency_p50_ms, latency_p90_ms, latency_p95_ms, latency_p99_ms, "
    "latency_p999_ms, throughput, peak_memory_mb, memory_increase_mb, allocations_per_sample, "
    "leaked_bytes, cpu_utilization";

static const metric *find_metric(const char *name, size_t len)
{
	for (size_t i = 0; i < N_METRICS; i++)
		if (strlen(metrics[i].name) == len && strncmp(metrics[i].name, name, len) == 0)
			return &metrics[i];
	return NULL;
}

static const unit *find_unit(const unit *units, const char *name, size_t len)
{
	for (; units->name; units++)
		if (strlen(units->name) == len && strncasecmp(units->name, name, len) == 0)
			return units;
	return NULL;
}

/* ---- parsing ------------------------------------------------------------------------------ */

typedef struct parser {
	const char *text;
	size_t pos;
	size_t *error_pos;
	char *err;
	size_t err_cap;
} parser;

__attribute__((format(printf, 3, 4))) static int fail(parser *p, size_t pos, const char *fmt, ...)
{
	if (p->error_pos)
		*p->error_pos = pos;
	if (p->err && p->err_cap) {
		int n = snprintf(p->err, p->err_cap, "position %zu: ", pos);
		if (n >= 0 && (size_t)n < p->err_cap) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(p->err + n, p->err_cap - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return SC_EPARSE;
}

static void skip_blanks(parser *p)
{
	while (p->text[p->pos] == ' ' || p->text[p->pos] == '\t')
		p->pos++;
}

/* A character as a message shows it: printable ASCII as itself, anything else by its code. */
static const char *show_char(char c, char *buf, size_t cap)
{
	unsigned char u = (unsigned char)c;
	if (u >= 0x21 && u < 0x7f)
		snprintf(buf, cap, "'%c'", c);
	else
		snprintf(buf, cap, "byte 0x%02x", u);
	return buf;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static bool is_unit_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/' || c == '%';
}

static bool at_separator(const parser *p)
{
	return p->text[p->pos] == '\0' || p->text[p->pos] == ',';
}

/*
 * A limit: plain decimal notation, digits with an optional fraction and exponent. strtod alone
 * would also take a sign, hexadecimal, "nan" and "inf", so the shape is checked first and strtod
 * only converts what the shape allows.
 */
static int parse_number(parser *p, const metric *m, const char *op, double *out)
{
	const char *s = p->text + p->pos;
	size_t start = p->pos;
	if (*s == '-')
		return fail(p, start, "%s cannot be negative: limits are never below 0", m->name);
	if (*s == '+')
		return fail(p, start, "unexpected '+': write the limit without a sign");
	size_t len = 0;
	bool digits = false;
	while (isdigit((unsigned char)s[len])) {
		len++;
		digits = true;
	}
	if (s[len] == '.') {
		len++;
		while (isdigit((unsigned char)s[len])) {
			len++;
			digits = true;
		}
	}
	if (!digits) {
		size_t word = 0;
		while (is_name_char(s[word]))
			word++;
		if ((word == 3 && strncasecmp(s, "nan", 3) == 0) ||
		    (word == 3 && strncasecmp(s, "inf", 3) == 0) ||
		    (word == 8 && strncasecmp(s, "infinity", 8) == 0))
			return fail(p, start, "'%.*s' is not a finite number", (int)word, s);
		char c[16];
		if (*s == '\0' || *s == ',')
			return fail(p, start, "expected a number after '%s'", op);
		return fail(p, start, "expected a number after '%s', found %s", op,
		            show_char(*s, c, sizeof c));
	}
	/* An exponent only when digits follow it: "5e" leaves 'e' to be read as a unit. */
	if ((s[len] == 'e' || s[len] == 'E')) {
		size_t e = len + 1;
		if (s[e] == '+' || s[e] == '-')
			e++;
		if (isdigit((unsigned char)s[e])) {
			while (isdigit((unsigned char)s[e]))
				e++;
			len = e;
		}
	}
	char buf[64];
	if (len >= sizeof buf)
		return fail(p, start, "the number is too long");
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	double v = strtod(buf, NULL);
	if (!isfinite(v) || (errno == ERANGE && v != 0))
		return fail(p, start, "'%s' is out of range", buf);
	p->pos += len;
	*out = v;
	return 0;
}

/* The optional unit after a number, converted into the metric's unit. */
static int parse_unit(parser *p, const metric *m, double *limit)
{
	skip_blanks(p);
	if (at_separator(p))
		return 0;
	size_t start = p->pos;
	size_t len = 0;
	while (is_unit_char(p->text[start + len]))
		len++;
	char c[16];
	if (len == 0) {
		return fail(p, start, "unexpected %s after the number",
		            show_char(p->text[start], c, sizeof c));
	}
	const unit *u = find_unit(m->units, p->text + start, len);
	if (!u) {
		if (!m->unit_list)
			return fail(p, start,
			            "unexpected '%.*s' after the number (%s takes no unit)",
			            (int)len, p->text + start, m->name);
		return fail(p, start, "unexpected '%.*s' after the number (units of %s: %s)",
		            (int)len, p->text + start, m->name, m->unit_list);
	}
	*limit *= u->factor;
	p->pos += len;
	return 0;
}

static int parse_one(parser *p, sc_requirement *out)
{
	skip_blanks(p);
	size_t start = p->pos;
	size_t len = 0;
	while (is_name_char(p->text[start + len]))
		len++;
	char c[16];
	if (len == 0) {
		if (at_separator(p))
			return fail(p, start, "empty requirement (expected: metric OP limit)");
		return fail(p, start, "expected a metric name, found %s",
		            show_char(p->text[start], c, sizeof c));
	}
	const metric *m = find_metric(p->text + start, len);
	if (!m)
		return fail(p, start, "unknown metric '%.*s' (known: %s)", (int)len,
		            p->text + start, metric_names);
	p->pos += len;
	skip_blanks(p);

	size_t op_pos = p->pos;
	const char *s = p->text + op_pos;
	const char *op = NULL;
	if (s[0] == '<')
		op = s[1] == '=' ? "<=" : "<";
	else if (s[0] == '>')
		op = s[1] == '=' ? ">=" : ">";
	if (!op) {
		/* Name the whole would-be operator, "==" or "=<", not only its first character. */
		size_t op_len = strspn(s, "=<>!~");
		if (op_len)
			return fail(p, op_pos, "bad operator '%.*s' (use <=, <, >= or >)",
			            (int)op_len, s);
		if (*s == '\0' || *s == ',')
			return fail(p, op_pos, "expected an operator (<=, <, >= or >) after '%s'",
			            m->name);
		return fail(p, op_pos, "expected an operator (<=, <, >= or >) after '%s', found %s",
		            m->name, show_char(*s, c, sizeof c));
	}
	p->pos += strlen(op);
	if (p->text[p->pos] == '=' || p->text[p->pos] == '<' || p->text[p->pos] == '>')
		return fail(p, op_pos, "bad operator '%.*s' (use <=, <, >= or >)",
		            (int)(strlen(op) + strspn(p->text + p->pos, "=<>")), s);
	skip_blanks(p);

	double limit = 0;
	int err = parse_number(p, m, op, &limit);
	if (!err)
		err = parse_unit(p, m, &limit);
	if (err)
		return err;
	/* A huge limit times a unit's factor can still overflow. */
	if (!isfinite(limit))
		return fail(p, start, "the limit of %s is out of range", m->name);
	skip_blanks(p);
	if (!at_separator(p))
		return fail(p, p->pos,
		            "unexpected %s after the limit (requirements are separated "
		            "by ',')",
		            show_char(p->text[p->pos], c, sizeof c));

	*out = (sc_requirement){.limit = limit};
	snprintf(out->metric, sizeof out->metric, "%s", m->name);
	snprintf(out->op, sizeof out->op, "%s", op);
	return 0;
}

int sc_requirements_parse(const char *text, sc_requirements *out, size_t *error_pos, char *err,
                          size_t err_cap)
{
	if (err && err_cap)
		err[0] = '\0';
	if (error_pos)
		*error_pos = 0;
	if (!text || !out)
		return SC_EINVAL;
	parser p = {text, 0, error_pos, err, err_cap};
	sc_requirements result = {.n = 0};
	for (;;) {
		if (result.n == SC_MAX_REQUIREMENTS) {
			skip_blanks(&p);
			return fail(&p, p.pos, "more than %d requirements", SC_MAX_REQUIREMENTS);
		}
		int rc = parse_one(&p, &result.items[result.n]);
		if (rc)
			return rc;
		result.n++;
		if (text[p.pos] == '\0')
			break;
		p.pos++; /* the ',' */
	}
	*out = result;
	return 0;
}

/* ---- checking ----------------------------------------------------------------------------- */

static bool upper_limit(const char *op)
{
	return op[0] == '<';
}

static bool meets(double bound, const char *op, double limit)
{
	if (isnan(bound))
		return false;
	if (strcmp(op, "<=") == 0)
		return bound <= limit;
	if (strcmp(op, "<") == 0)
		return bound < limit;
	if (strcmp(op, ">=") == 0)
		return bound >= limit;
	return bound > limit;
}

/* The 95% interval of the mean run time, when there is one. */
static bool time_interval(const sc_profile *p, double *low, double *high)
{
	const sc_summary *t = &p->total_time;
	if (t->n < 2 || !isfinite(t->ci95_low) || !isfinite(t->ci95_high))
		return false;
	*low = t->ci95_low;
	*high = t->ci95_high;
	return true;
}

static const char *unavailable_reason(const sc_profile *p, const char *field)
{
	for (size_t i = 0; i < p->n_unavailable; i++)
		if (strcmp(p->unavailable[i].field, field) == 0)
			return p->unavailable[i].reason;
	return NULL;
}

/* Fills value, bound and reason of c for profile p. */
static void evaluate(sc_check *c, const sc_profile *p)
{
	bool upper = upper_limit(c->op);
	double n = p->n_samples ? (double)p->n_samples : 1;
	double low, high;
	c->value = NAN;
	c->bound = NAN;
	const char *m = c->metric;

	if (strcmp(m, "latency_ms") == 0 || strcmp(m, "throughput") == 0) {
		bool latency = m[0] == 'l';
		c->value = latency ? p->avg_time_per_sample * 1000 : p->throughput_samples_per_sec;
		if (!isfinite(c->value)) {
			snprintf(c->reason, sizeof c->reason, "no run was timed");
		} else if (time_interval(p, &low, &high)) {
			/* The worse end for an upper limit on latency is the slow end of the mean
			 * run time; for a lower limit on throughput it is that same slow end. */
			double t = latency == upper ? high : low;
			c->bound = latency ? t / n * 1000 : (t > 0 ? n / t : INFINITY);
		} else {
			c->bound = c->value;
			snprintf(c->reason, sizeof c->reason,
			         "one run: no confidence interval, the value itself is compared");
		}
		return;
	}
	if (strncmp(m, "latency_p", 9) == 0) {
		const sc_latency *l = &p->latency;
		if (!l->available) {
			snprintf(c->reason, sizeof c->reason,
			         "no latency percentiles (only the whole call was timed)");
			return;
		}
		c->value = strcmp(m, "latency_p50_ms") == 0   ? l->p50_ms
		           : strcmp(m, "latency_p90_ms") == 0 ? l->p90_ms
		           : strcmp(m, "latency_p95_ms") == 0 ? l->p95_ms
		           : strcmp(m, "latency_p99_ms") == 0 ? l->p99_ms
		                                              : l->p999_ms;
		c->bound = c->value;
		/* A percentile has no interval from the report's figures: the value is compared,
		 * and the note says over what it was taken. */
		snprintf(c->reason, sizeof c->reason,
		         "percentile of %llu %s values: the value itself is compared",
		         (unsigned long long)l->count,
		         l->source && strcmp(l->source, "per-sample") == 0 ? "per-sample"
		                                                           : "per-run");
		return;
	}
	if (strcmp(m, "peak_memory_mb") == 0 || strcmp(m, "memory_increase_mb") == 0) {
		bool peak = m[0] == 'p';
		c->value = peak ? p->memory.peak_memory_mb : p->memory.memory_increase_mb;
		c->bound = c->value;
		/* A command's peak is already the largest of its runs (the worse end for an upper
		 * limit); for a lower limit the smallest run is the worse end. */
		if (peak && !upper && p->n_runs > 0) {
			double min = INFINITY;
			for (size_t i = 0; i < p->n_runs; i++)
				if (isfinite(p->runs[i].peak_rss_mb) &&
				    p->runs[i].peak_rss_mb < min)
					min = p->runs[i].peak_rss_mb;
			if (isfinite(min))
				c->bound = min;
		}
		if (!isfinite(c->value)) {
			const char *why = unavailable_reason(p, peak ? "memory.peak_memory_mb"
			                                             : "memory.memory_increase_mb");
			snprintf(c->reason, sizeof c->reason, "%.150s", why ? why : "not measured");
		}
		return;
	}
	if (strcmp(m, "allocations_per_sample") == 0 || strcmp(m, "leaked_bytes") == 0) {
		const sc_heap_profile *h = &p->heap;
		if (!h->available) {
			snprintf(c->reason, sizeof c->reason, "no heap figures: %.140s",
			         h->reason[0] ? h->reason : "the heap run did not happen");
			return;
		}
		if (m[0] == 'a') {
			c->value = h->allocations_per_sample;
			if (isnan(c->value) && h->allocations >= 0)
				c->value = (double)h->allocations / n;
		} else {
			c->value = h->leaked_bytes >= 0 ? (double)h->leaked_bytes : NAN;
		}
		/* Counts are exact: the value is its own bound. */
		c->bound = c->value;
		if (!isfinite(c->value))
			snprintf(c->reason, sizeof c->reason, "not measured");
		return;
	}
	/* cpu_utilization: the per-run utilizations give an interval when there are two or more. */
	c->value = p->resources.cpu_utilization;
	c->bound = c->value;
	if (!isfinite(c->value)) {
		const char *why = unavailable_reason(p, "resources.cpu_utilization");
		snprintf(c->reason, sizeof c->reason, "%.150s", why ? why : "not measured");
		return;
	}
	if (p->n_runs >= 2) {
		double *u = malloc(p->n_runs * sizeof *u);
		sc_summary s;
		size_t k = 0;
		for (size_t i = 0; u && i < p->n_runs; i++) {
			const sc_run *r = &p->runs[i];
			double x = (r->user_s + r->sys_s) / r->wall_s;
			if (isfinite(x))
				u[k++] = x;
		}
		if (u && k >= 2 && sc_summarize(u, k, &s) == 0)
			c->bound = upper ? s.ci95_high : s.ci95_low;
		free(u);
	}
}

static void check_name(sc_check *c, const sc_requirement *q)
{
	snprintf(c->name, sizeof c->name, "%s%s%.10g", q->metric, q->op, q->limit);
}

int sc_report_check_requirements(sc_report *r, const sc_requirements *req)
{
	if (!r || !req || req->n > SC_MAX_REQUIREMENTS)
		return SC_EINVAL;
	size_t total = r->n_profiles * req->n;
	sc_check *checks = total ? calloc(total, sizeof *checks) : NULL;
	if (total && !checks)
		return SC_ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < r->n_profiles; i++) {
		const sc_profile *p = &r->profiles[i];
		for (size_t j = 0; j < req->n; j++) {
			const sc_requirement *q = &req->items[j];
			sc_check *c = &checks[k++];
			check_name(c, q);
			snprintf(c->profile, sizeof c->profile, "%s", p->name ? p->name : "");
			snprintf(c->metric, sizeof c->metric, "%s", q->metric);
			snprintf(c->op, sizeof c->op, "%s", q->op);
			c->limit = q->limit;
			evaluate(c, p);
			c->pass = meets(c->bound, c->op, c->limit);
		}
	}
	free(r->checks);
	r->checks = checks;
	r->n_checks = total;
	sc__report_update_verdict(r);
	return 0;
}

void sc__report_update_verdict(sc_report *r)
{
	bool judged = r->n_checks > 0 || r->n_regressions > 0;
	bool failed = false;
	for (size_t i = 0; i < r->n_checks; i++)
		failed |= !r->checks[i].pass;
	for (size_t i = 0; i < r->n_regressions; i++)
		failed |= r->regressions[i].regression;
	r->verdict = failed ? "fail" : judged ? "pass" : NULL;
}

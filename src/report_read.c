/* report_read.c: reading a JSON report (shotclock.report/1) back into the report model. */
#define _GNU_SOURCE /* sigabbrev_np */
#include "internal.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/*
 * Reports come from users and CI, so nothing in one is trusted: every field is checked for its
 * type, and a problem becomes one line naming the file and the field ("old.json:
 * profiles[0].runs[2].wall_s: expected a number, found a string"), or the line and column for
 * text that is not JSON. Everything an export shows is read (`shotclock report` re-renders a saved
 * report in any format); a field that is absent or null reads as not measured (NAN, -1), the way
 * the exporter writes figures it could not measure, so that reports of later versions of the same
 * schema (additive changes only) and of earlier ones without the newer sections still read.
 */

/* The report nests 6 levels deep; no honest report is near this. */
#define MAX_DEPTH 64

typedef struct reader {
	const char *name;
	char *err;
	size_t err_cap;
	char path[256]; /* the field being read, "profiles[0].time" */
} reader;

__attribute__((format(printf, 2, 3))) static int fail(reader *rd, const char *fmt, ...)
{
	if (rd->err && rd->err_cap) {
		int n = snprintf(rd->err, rd->err_cap, "%s: ", rd->name);
		if (rd->path[0] && n >= 0 && (size_t)n < rd->err_cap)
			n += snprintf(rd->err + n, rd->err_cap - (size_t)n, "%s: ", rd->path);
		if (n >= 0 && (size_t)n < rd->err_cap) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(rd->err + n, rd->err_cap - (size_t)n, fmt, ap);
			va_end(ap);
		}
		/* The message quotes the input (a key, or jansson's text near the error), which may
		 * hold control characters: a refusal stays one printable line. */
		for (char *c = rd->err; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
	}
	return SC_EPARSE;
}

/* Appends ".key" or "[i]" to the path; returns the old length, for pop(). */
static size_t push_key(reader *rd, const char *key)
{
	size_t len = strlen(rd->path);
	snprintf(rd->path + len, sizeof rd->path - len, "%s%s", len ? "." : "", key);
	return len;
}

static size_t push_index(reader *rd, size_t i)
{
	size_t len = strlen(rd->path);
	snprintf(rd->path + len, sizeof rd->path - len, "[%zu]", i);
	return len;
}

static void pop(reader *rd, size_t len)
{
	rd->path[len] = '\0';
}

static const char *type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

static int wrong_type(reader *rd, const char *key, const char *expected, const json_t *j)
{
	size_t len = push_key(rd, key);
	int rc = fail(rd, "expected %s, found %s", expected, type_name(j));
	pop(rd, len);
	return rc;
}

/* A real figure: a number, or null/absent (not measured: NAN). */
static int get_real(reader *rd, const json_t *obj, const char *key, double *out)
{
	const json_t *j = json_object_get(obj, key);
	*out = NAN;
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_number(j))
		return wrong_type(rd, key, "a number", j);
	*out = json_number_value(j);
	return 0;
}

/* A count: a whole number >= 0, or null/absent (not measured: -1). */
static int get_count(reader *rd, const json_t *obj, const char *key, int64_t *out)
{
	const json_t *j = json_object_get(obj, key);
	*out = -1;
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_integer(j))
		return wrong_type(rd, key, "a whole number", j);
	json_int_t v = json_integer_value(j);
	if (v < 0) {
		size_t len = push_key(rd, key);
		int rc = fail(rd, "%lld is negative", (long long)v);
		pop(rd, len);
		return rc;
	}
	*out = (int64_t)v;
	return 0;
}

static int get_bool(reader *rd, const json_t *obj, const char *key, bool *out)
{
	const json_t *j = json_object_get(obj, key);
	*out = false;
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_boolean(j))
		return wrong_type(rd, key, "true or false", j);
	*out = json_is_true(j);
	return 0;
}

/* A string copied into buf (truncated to fit); null/absent is "". */
static int get_text(reader *rd, const json_t *obj, const char *key, char *buf, size_t cap)
{
	const json_t *j = json_object_get(obj, key);
	buf[0] = '\0';
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_string(j))
		return wrong_type(rd, key, "a string", j);
	snprintf(buf, cap, "%s", json_string_value(j));
	return 0;
}

/* An object member, or NULL when absent or null; anything else is an error. */
static int get_object(reader *rd, const json_t *obj, const char *key, const json_t **out)
{
	const json_t *j = json_object_get(obj, key);
	*out = NULL;
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_object(j))
		return wrong_type(rd, key, "an object", j);
	*out = j;
	return 0;
}

/* One of the static strings in choices that equals the field, or fallback. */
static int get_choice(reader *rd, const json_t *obj, const char *key, const char *const *choices,
                      const char *fallback, const char **out)
{
	char buf[32];
	int rc = get_text(rd, obj, key, buf, sizeof buf);
	*out = fallback;
	for (; !rc && *choices; choices++)
		if (strcmp(buf, *choices) == 0)
			*out = *choices;
	return rc;
}

/* An array member, or NULL when absent or null; anything else is an error. */
static int get_array(reader *rd, const json_t *obj, const char *key, const json_t **out)
{
	const json_t *j = json_object_get(obj, key);
	*out = NULL;
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_array(j))
		return wrong_type(rd, key, "an array", j);
	*out = j;
	return 0;
}

/* A string member copied with strdup into *out (NULL when absent, null or ""). */
static int get_strdup(reader *rd, const json_t *obj, const char *key, char **out)
{
	const json_t *j = json_object_get(obj, key);
	*out = NULL;
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_string(j))
		return wrong_type(rd, key, "a string", j);
	if (json_string_length(j) == 0)
		return 0;
	*out = strdup(json_string_value(j));
	return *out ? 0 : SC_ENOMEM;
}

/* Calls each(rd, element, i, ctx) for every element of array (which may be NULL), with
 * "key[i]" on the path; every element must be an object. */
typedef int (*element_fn)(reader *rd, const json_t *element, size_t i, void *ctx);
static int each_object(reader *rd, const char *key, const json_t *array, element_fn each, void *ctx)
{
	size_t outer = push_key(rd, key);
	int rc = 0;
	for (size_t i = 0; !rc && array && i < json_array_size(array); i++) {
		size_t len = push_index(rd, i);
		const json_t *e = json_array_get(array, i);
		rc = json_is_object(e) ? each(rd, e, i, ctx)
		                       : fail(rd, "expected an object, found %s", type_name(e));
		pop(rd, len);
	}
	pop(rd, outer);
	return rc;
}

/* calloc for n elements of size, where n == 0 is no allocation and no error. */
static int alloc_array(void **out, size_t n, size_t size)
{
	*out = NULL;
	if (n == 0)
		return 0;
	*out = calloc(n, size);
	return *out ? 0 : SC_ENOMEM;
}

/* ---- sections ---------------------------------------------------------------------------------
 */

static int read_system(reader *rd, const json_t *s, sc_system_info *out)
{
	*out = (sc_system_info){.cpus = -1};
	if (!s)
		return 0;
	int64_t cpus = -1;
	const json_t *disk = NULL;
	const json_t *load = json_object_get(s, "load_avg");
	int rc = get_count(rd, s, "cpus", &cpus);
	rc = rc ? rc : get_text(rd, s, "cpu_model", out->cpu_model, sizeof out->cpu_model);
	rc = rc ? rc : get_text(rd, s, "kernel", out->kernel, sizeof out->kernel);
	rc = rc ? rc : get_text(rd, s, "hostname", out->hostname, sizeof out->hostname);
	rc = rc ? rc : get_real(rd, s, "memory_total_mb", &out->memory_total_mb);
	rc = rc ? rc : get_real(rd, s, "memory_available_mb", &out->memory_available_mb);
	rc = rc ? rc : get_object(rd, s, "disk", &disk);
	if (rc)
		return rc;
	out->cpus = cpus > INT32_MAX ? -1 : (int)cpus;
	for (size_t i = 0; i < 3; i++) {
		const json_t *v = json_is_array(load) ? json_array_get(load, i) : NULL;
		out->load_avg[i] = json_is_number(v) ? json_number_value(v) : NAN;
	}
	out->disk_total_gb = out->disk_free_gb = out->disk_used_percent = NAN;
	if (disk) {
		size_t len = push_key(rd, "disk");
		rc = get_text(rd, disk, "path", out->disk_path, sizeof out->disk_path);
		rc = rc ? rc : get_real(rd, disk, "total_gb", &out->disk_total_gb);
		rc = rc ? rc : get_real(rd, disk, "free_gb", &out->disk_free_gb);
		rc = rc ? rc : get_real(rd, disk, "used_percent", &out->disk_used_percent);
		pop(rd, len);
	}
	return rc;
}

static int read_run(reader *rd, const json_t *j, sc_run *r)
{
	if (!json_is_object(j))
		return fail(rd, "expected an object, found %s", type_name(j));
	int64_t exit_code = -1;
	int rc = get_real(rd, j, "wall_s", &r->wall_s);
	rc = rc ? rc : get_real(rd, j, "user_s", &r->user_s);
	rc = rc ? rc : get_real(rd, j, "sys_s", &r->sys_s);
	rc = rc ? rc : get_real(rd, j, "peak_rss_mb", &r->peak_rss_mb);
	rc = rc ? rc : get_count(rd, j, "minor_faults", &r->minor_faults);
	rc = rc ? rc : get_count(rd, j, "major_faults", &r->major_faults);
	rc = rc ? rc
	        : get_count(rd, j, "voluntary_context_switches", &r->voluntary_context_switches);
	rc =
	    rc ? rc
	       : get_count(rd, j, "involuntary_context_switches", &r->involuntary_context_switches);
	rc = rc ? rc : get_count(rd, j, "read_bytes", &r->read_bytes);
	rc = rc ? rc : get_count(rd, j, "write_bytes", &r->write_bytes);
	rc = rc ? rc : get_count(rd, j, "exit_code", &exit_code);
	rc = rc ? rc : get_bool(rd, j, "timed_out", &r->timed_out);
	if (rc)
		return rc;
	/* Every run takes some time; the baseline divides by these. */
	if (!(r->wall_s > 0) || !isfinite(r->wall_s)) {
		size_t len = push_key(rd, "wall_s");
		rc = fail(rd, "expected a time above 0 seconds");
		pop(rd, len);
		return rc;
	}
	r->exit_code = exit_code > 255 ? 255 : (int)exit_code;
	/* The signal is written by name ("SIGSEGV", or its number when it has none); a name this
	 * system does not know reads as -1: signalled, which one unknown. */
	const json_t *sig = json_object_get(j, "signal");
	r->signal = 0;
	if (sig && !json_is_null(sig)) {
		const char *name = json_is_string(sig) ? json_string_value(sig) : "";
		r->signal = -1;
		for (int k = 1; k < 65; k++) {
			const char *abbrev = sigabbrev_np(k);
			if (abbrev && strncmp(name, "SIG", 3) == 0 && strcmp(name + 3, abbrev) == 0)
				r->signal = k;
		}
		if (r->signal < 0 && name[0] >= '1' && name[0] <= '9' && strlen(name) < 4)
			r->signal = atoi(name);
	}
	return 0;
}

static int read_runs(reader *rd, const json_t *profile, sc_profile *p)
{
	const json_t *runs = json_object_get(profile, "runs");
	if (!runs || json_is_null(runs))
		return 0;
	if (!json_is_array(runs))
		return wrong_type(rd, "runs", "an array", runs);
	size_t n = json_array_size(runs);
	if (n == 0)
		return 0;
	p->runs = calloc(n, sizeof *p->runs);
	if (!p->runs)
		return SC_ENOMEM;
	p->n_runs = n;
	size_t outer = push_key(rd, "runs");
	int rc = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		size_t len = push_index(rd, i);
		rc = read_run(rd, json_array_get(runs, i), &p->runs[i]);
		pop(rd, len);
	}
	pop(rd, outer);
	return rc;
}

static int read_summary(reader *rd, const json_t *s, sc_summary *out)
{
	*out = (sc_summary){.mean = NAN, .ci95_low = NAN, .ci95_high = NAN};
	if (!s)
		return 0;
	int64_t n = -1, outliers = -1;
	int rc = get_count(rd, s, "n", &n);
	rc = rc ? rc : get_real(rd, s, "mean", &out->mean);
	rc = rc ? rc : get_real(rd, s, "stddev", &out->stddev);
	rc = rc ? rc : get_real(rd, s, "median", &out->median);
	rc = rc ? rc : get_real(rd, s, "min", &out->min);
	rc = rc ? rc : get_real(rd, s, "max", &out->max);
	rc = rc ? rc : get_real(rd, s, "mad", &out->mad);
	rc = rc ? rc : get_count(rd, s, "outliers", &outliers);
	if (rc)
		return rc;
	out->n = n > 0 ? (size_t)n : 0;
	out->outliers = outliers > 0 ? (size_t)outliers : 0;
	const json_t *ci = json_object_get(s, "ci95");
	if (ci && !json_is_null(ci)) {
		if (!json_is_array(ci) || json_array_size(ci) != 2 ||
		    !json_is_number(json_array_get(ci, 0)) ||
		    !json_is_number(json_array_get(ci, 1))) {
			size_t len = push_key(rd, "ci95");
			rc = fail(rd, "expected [low, high], two numbers");
			pop(rd, len);
			return rc;
		}
		out->ci95_low = json_number_value(json_array_get(ci, 0));
		out->ci95_high = json_number_value(json_array_get(ci, 1));
	}
	return 0;
}

static int read_latency(reader *rd, const json_t *l, sc_latency *out)
{
	static const char *const sources[] = {"per-sample", "per-run", NULL};
	*out = (sc_latency){.available = false};
	if (!l)
		return 0;
	int64_t count = -1;
	int rc = get_choice(rd, l, "source", sources, "per-run", &out->source);
	rc = rc ? rc : get_count(rd, l, "count", &count);
	rc = rc ? rc : get_real(rd, l, "mean", &out->mean_ms);
	rc = rc ? rc : get_real(rd, l, "p50", &out->p50_ms);
	rc = rc ? rc : get_real(rd, l, "p90", &out->p90_ms);
	rc = rc ? rc : get_real(rd, l, "p95", &out->p95_ms);
	rc = rc ? rc : get_real(rd, l, "p99", &out->p99_ms);
	rc = rc ? rc : get_real(rd, l, "p999", &out->p999_ms);
	rc = rc ? rc : get_real(rd, l, "max", &out->max_ms);
	out->count = count > 0 ? (uint64_t)count : 0;
	out->available = rc == 0;
	return rc;
}

static int read_time(reader *rd, const json_t *t, sc_profile *p)
{
	p->avg_time_per_sample = p->throughput_samples_per_sec = NAN;
	p->total_time = (sc_summary){.mean = NAN, .ci95_low = NAN, .ci95_high = NAN};
	if (!t)
		return 0;
	const json_t *total, *latency;
	int rc = get_object(rd, t, "total_time", &total);
	rc = rc ? rc : get_object(rd, t, "latency_ms", &latency);
	rc = rc ? rc : get_real(rd, t, "avg_time_per_sample", &p->avg_time_per_sample);
	rc =
	    rc ? rc : get_real(rd, t, "throughput_samples_per_sec", &p->throughput_samples_per_sec);
	if (rc)
		return rc;
	size_t len = push_key(rd, "total_time");
	rc = read_summary(rd, total, &p->total_time);
	pop(rd, len);
	if (rc)
		return rc;
	len = push_key(rd, "latency_ms");
	rc = read_latency(rd, latency, &p->latency);
	pop(rd, len);
	return rc;
}

static int read_timeline_point(reader *rd, const json_t *j, size_t i, void *ctx)
{
	sc_timeline_point *t = &((sc_profile *)ctx)->timeline[i];
	int64_t processes = -1;
	int rc = get_real(rd, j, "t_s", &t->t_s);
	rc = rc ? rc : get_real(rd, j, "rss_mb", &t->rss_mb);
	rc = rc ? rc : get_real(rd, j, "cpu_percent", &t->cpu_percent);
	rc = rc ? rc : get_count(rd, j, "processes", &processes);
	t->processes = processes > INT32_MAX ? -1 : (int)processes;
	return rc;
}

static int read_memory(reader *rd, const json_t *m, sc_profile *p)
{
	sc_memory_profile *mem = &p->memory;
	*mem = (sc_memory_profile){.baseline_memory_mb = NAN,
	                           .peak_memory_mb = NAN,
	                           .memory_increase_mb = NAN,
	                           .minor_faults = -1,
	                           .major_faults = -1};
	p->timeline_interval_s = NAN;
	if (!m)
		return 0;
	int rc = get_real(rd, m, "baseline_memory_mb", &mem->baseline_memory_mb);
	rc = rc ? rc : get_real(rd, m, "peak_memory_mb", &mem->peak_memory_mb);
	rc = rc ? rc : get_real(rd, m, "memory_increase_mb", &mem->memory_increase_mb);
	rc = rc ? rc : get_bool(rd, m, "peak_reset", &mem->peak_reset);
	rc = rc ? rc : get_count(rd, m, "minor_faults", &mem->minor_faults);
	rc = rc ? rc : get_count(rd, m, "major_faults", &mem->major_faults);
	rc = rc ? rc : get_real(rd, m, "timeline_interval_s", &p->timeline_interval_s);
	const json_t *timeline = NULL;
	rc = rc ? rc : get_array(rd, m, "timeline", &timeline);
	size_t n = timeline ? json_array_size(timeline) : 0;
	rc = rc ? rc : alloc_array((void **)&p->timeline, n, sizeof *p->timeline);
	if (!rc)
		p->n_timeline = n;
	return rc ? rc : each_object(rd, "timeline", timeline, read_timeline_point, p);
}

/* Bucket k holds sizes [2^(k-1), 2^k), bucket 0 size 0: the bucket is found from min_bytes. */
static int read_size_bucket(reader *rd, const json_t *j, size_t i, void *ctx)
{
	(void)i;
	sc_heap_profile *h = ctx;
	int64_t min = -1, allocations = -1;
	int rc = get_count(rd, j, "min_bytes", &min);
	rc = rc ? rc : get_count(rd, j, "allocations", &allocations);
	if (rc)
		return rc;
	if (min < 0 || (min & (min - 1)) != 0)
		return fail(rd, "min_bytes: expected 0 or a power of two");
	size_t k = 0;
	while (min > 0 && k < SC_HEAP_SIZE_BUCKETS - 1 && ((int64_t)1 << k) <= min)
		k++;
	h->size_buckets[k] = allocations > 0 ? (uint64_t)allocations : 0;
	return 0;
}

static int read_frame(reader *rd, const json_t *j, size_t i, void *ctx)
{
	sc_heap_frame *f = &((sc_heap_frame *)ctx)[i];
	int64_t address = -1, offset = -1, line = -1;
	int rc = get_count(rd, j, "address", &address);
	rc = rc ? rc : get_strdup(rd, j, "module", &f->module);
	rc = rc ? rc : get_count(rd, j, "offset", &offset);
	rc = rc ? rc : get_strdup(rd, j, "function", &f->function);
	rc = rc ? rc : get_strdup(rd, j, "file", &f->file);
	rc = rc ? rc : get_count(rd, j, "line", &line);
	f->address = address > 0 ? (uint64_t)address : 0;
	f->offset = offset > 0 ? (uint64_t)offset : 0;
	f->line = line > 0 && line <= INT32_MAX ? (int)line : 0;
	return rc;
}

static int read_site(reader *rd, const json_t *j, size_t i, void *ctx)
{
	sc_heap_site *s = &((sc_heap_profile *)ctx)->sites[i];
	const json_t *frames = NULL;
	int rc = get_real(rd, j, "allocations", &s->allocations);
	rc = rc ? rc : get_real(rd, j, "bytes", &s->bytes);
	rc = rc ? rc : get_real(rd, j, "leaked_blocks", &s->leaked_blocks);
	rc = rc ? rc : get_real(rd, j, "leaked_bytes", &s->leaked_bytes);
	rc = rc ? rc : get_real(rd, j, "lost_bytes", &s->lost_bytes);
	rc = rc ? rc : get_real(rd, j, "bytes_error", &s->bytes_error);
	rc = rc ? rc : get_array(rd, j, "frames", &frames);
	size_t n = frames ? json_array_size(frames) : 0;
	rc = rc ? rc : alloc_array((void **)&s->frames, n, sizeof *s->frames);
	if (!rc)
		s->n_frames = n;
	return rc ? rc : each_object(rd, "frames", frames, read_frame, s->frames);
}

static int read_heap(reader *rd, const json_t *h, sc_heap_profile *out)
{
	static const char *const modes[] = {"sampled", "all", "none", NULL};
	static const char *const bases[] = {"usable", "requested", NULL};
	*out = (sc_heap_profile){.available = false};
	if (!h)
		return 0;
	int rc = get_bool(rd, h, "available", &out->available);
	rc = rc ? rc : get_text(rd, h, "reason", out->reason, sizeof out->reason);
	if (rc || !out->available)
		return rc;
	int64_t sample_bytes = -1, processes = -1;
	rc = get_bool(rd, h, "complete", &out->complete);
	rc = rc ? rc
	        : get_text(rd, h, "incomplete_reason", out->incomplete_reason,
	                   sizeof out->incomplete_reason);
	rc = rc ? rc : get_choice(rd, h, "sites_mode", modes, NULL, &out->sites_mode);
	rc = rc ? rc : get_count(rd, h, "sample_bytes", &sample_bytes);
	rc = rc ? rc : get_count(rd, h, "allocations", &out->allocations);
	rc = rc ? rc : get_count(rd, h, "frees", &out->frees);
	rc = rc ? rc : get_count(rd, h, "bytes_allocated", &out->bytes_allocated);
	rc = rc ? rc : get_count(rd, h, "temporary_allocations", &out->temporary_allocations);
	rc = rc ? rc : get_real(rd, h, "allocations_per_sample", &out->allocations_per_sample);
	rc = rc ? rc : get_choice(rd, h, "live_basis", bases, NULL, &out->live_basis);
	rc = rc ? rc : get_count(rd, h, "peak_live_bytes", &out->peak_live_bytes);
	rc = rc ? rc : get_real(rd, h, "peak_live_s", &out->peak_live_s);
	rc = rc ? rc : get_count(rd, h, "peak_live_error_bytes", &out->peak_live_error_bytes);
	rc = rc ? rc : get_count(rd, h, "leaked_blocks", &out->leaked_blocks);
	rc = rc ? rc : get_count(rd, h, "leaked_bytes", &out->leaked_bytes);
	rc = rc ? rc : get_count(rd, h, "lost_blocks", &out->lost_blocks);
	rc = rc ? rc : get_count(rd, h, "lost_bytes", &out->lost_bytes);
	rc = rc ? rc : get_count(rd, h, "reachable_blocks", &out->reachable_blocks);
	rc = rc ? rc : get_count(rd, h, "reachable_bytes", &out->reachable_bytes);
	rc = rc ? rc : get_count(rd, h, "arena_bytes", &out->arena_bytes);
	rc = rc ? rc : get_count(rd, h, "in_use_bytes", &out->in_use_bytes);
	rc = rc ? rc : get_count(rd, h, "processes", &processes);
	rc = rc ? rc : get_real(rd, h, "run_wall_s", &out->run_wall_s);
	rc = rc ? rc : get_real(rd, h, "slowdown", &out->slowdown);
	rc = rc ? rc : get_real(rd, h, "run_peak_rss_mb", &out->run_peak_rss_mb);
	out->sample_bytes = sample_bytes > 0 ? (uint64_t)sample_bytes : 0;
	out->processes = processes > 0 ? (size_t)processes : 0;
	const json_t *sizes = NULL, *sites = NULL;
	rc = rc ? rc : get_array(rd, h, "size_histogram", &sizes);
	rc = rc ? rc : each_object(rd, "size_histogram", sizes, read_size_bucket, out);
	rc = rc ? rc : get_array(rd, h, "sites", &sites);
	size_t n = sites ? json_array_size(sites) : 0;
	rc = rc ? rc : alloc_array((void **)&out->sites, n, sizeof *out->sites);
	if (!rc)
		out->n_sites = n;
	return rc ? rc : each_object(rd, "sites", sites, read_site, out);
}

static int read_resources(reader *rd, const json_t *r, sc_resources *out)
{
	*out = (sc_resources){.cpu_user_s = NAN,
	                      .cpu_sys_s = NAN,
	                      .cpu_utilization = NAN,
	                      .read_bytes = -1,
	                      .write_bytes = -1,
	                      .minor_faults = -1,
	                      .major_faults = -1,
	                      .voluntary_context_switches = -1,
	                      .involuntary_context_switches = -1};
	if (!r)
		return 0;
	int rc = get_real(rd, r, "cpu_user_s", &out->cpu_user_s);
	rc = rc ? rc : get_real(rd, r, "cpu_sys_s", &out->cpu_sys_s);
	rc = rc ? rc : get_real(rd, r, "cpu_utilization", &out->cpu_utilization);
	rc = rc ? rc : get_count(rd, r, "read_bytes", &out->read_bytes);
	rc = rc ? rc : get_count(rd, r, "write_bytes", &out->write_bytes);
	rc = rc ? rc : get_count(rd, r, "minor_faults", &out->minor_faults);
	rc = rc ? rc : get_count(rd, r, "major_faults", &out->major_faults);
	rc = rc ? rc
	        : get_count(rd, r, "voluntary_context_switches", &out->voluntary_context_switches);
	rc = rc ? rc
	        : get_count(rd, r, "involuntary_context_switches",
	                    &out->involuntary_context_switches);
	return rc;
}

/* ---- cpu ------------------------------------------------------------------------------------ */

/* A count that must be known (the cpu section writes them all when available): null reads as 0. */
static int get_uint(reader *rd, const json_t *obj, const char *key, uint64_t *out)
{
	int64_t v = -1;
	int rc = get_count(rd, obj, key, &v);
	*out = v > 0 ? (uint64_t)v : 0;
	return rc;
}

static int get_line(reader *rd, const json_t *obj, const char *key, int *out)
{
	int64_t v = -1;
	int rc = get_count(rd, obj, key, &v);
	*out = v > 0 && v <= INT32_MAX ? (int)v : 0;
	return rc;
}

static int read_cpu_line(reader *rd, const json_t *j, size_t i, void *ctx)
{
	sc_cpu_line *l = &((sc_cpu_line *)ctx)[i];
	int rc = get_strdup(rd, j, "file", &l->file);
	rc = rc ? rc : get_line(rd, j, "line", &l->line);
	rc = rc ? rc : get_uint(rd, j, "samples", &l->samples);
	return rc ? rc : get_real(rd, j, "percent", &l->percent);
}

static int read_hotspot(reader *rd, const json_t *j, size_t i, void *ctx)
{
	sc_cpu_hotspot *h = &((sc_cpu_profile *)ctx)->hotspots[i];
	const json_t *lines = NULL;
	int rc = get_strdup(rd, j, "function", &h->function);
	rc = rc ? rc : get_strdup(rd, j, "module", &h->module);
	rc = rc ? rc : get_strdup(rd, j, "file", &h->file);
	rc = rc ? rc : get_line(rd, j, "line", &h->line);
	rc = rc ? rc : get_uint(rd, j, "samples", &h->self_samples);
	rc = rc ? rc : get_uint(rd, j, "total_samples", &h->total_samples);
	rc = rc ? rc : get_real(rd, j, "self_percent", &h->self_percent);
	rc = rc ? rc : get_real(rd, j, "total_percent", &h->total_percent);
	rc = rc ? rc : get_array(rd, j, "lines", &lines);
	size_t n = lines ? json_array_size(lines) : 0;
	rc = rc ? rc : alloc_array((void **)&h->lines, n, sizeof *h->lines);
	if (!rc)
		h->n_lines = n;
	return rc ? rc : each_object(rd, "lines", lines, read_cpu_line, h->lines);
}

/* A stack's frames: strings (null: a frame without a name), outermost first. */
static int read_stack(reader *rd, const json_t *j, size_t i, void *ctx)
{
	sc_cpu_stack *s = &((sc_cpu_profile *)ctx)->stacks[i];
	const json_t *frames = NULL;
	int rc = get_array(rd, j, "frames", &frames);
	rc = rc ? rc : get_uint(rd, j, "samples", &s->samples);
	size_t n = frames ? json_array_size(frames) : 0;
	rc = rc ? rc : alloc_array((void **)&s->frames, n, sizeof *s->frames);
	if (rc)
		return rc;
	s->n_frames = n;
	for (size_t k = 0; k < n; k++) {
		const json_t *f = json_array_get(frames, k);
		if (json_is_null(f))
			continue;
		if (!json_is_string(f)) {
			size_t len = push_key(rd, "frames");
			size_t len2 = push_index(rd, k);
			rc = fail(rd, "expected a string, found %s", type_name(f));
			pop(rd, len2);
			pop(rd, len);
			return rc;
		}
		if (json_string_length(f) && !(s->frames[k] = strdup(json_string_value(f))))
			return SC_ENOMEM;
	}
	return 0;
}

static int read_cpu(reader *rd, const json_t *c, sc_cpu_profile *out)
{
	static const char *const samplers[] = {"perf_event", "timer", NULL};
	static const char *const graphs[] = {"fp", "dwarf", NULL};
	*out = (sc_cpu_profile){
	    .available = false, .rate_hz = NAN, .duration_s = NAN, .cpu_s = NAN, .kept_one_in = 1};
	if (!c) {
		/* Reports written before the sampler existed. */
		snprintf(out->reason, sizeof out->reason, "not in this report");
		return 0;
	}
	int rc = get_bool(rd, c, "available", &out->available);
	rc = rc ? rc : get_text(rd, c, "reason", out->reason, sizeof out->reason);
	if (rc || !out->available)
		return rc;
	const json_t *sampler = NULL, *hotspots = NULL, *stacks = NULL;
	rc = get_object(rd, c, "sampler", &sampler);
	rc = rc ? rc : get_array(rd, c, "hotspots", &hotspots);
	rc = rc ? rc : get_array(rd, c, "stacks", &stacks);
	if (rc)
		return rc;
	if (sampler) {
		uint64_t threads = 0, processes = 0;
		size_t len = push_key(rd, "sampler");
		rc = get_choice(rd, sampler, "name", samplers, NULL, &out->sampler);
		rc =
		    rc ? rc
		       : get_text(rd, sampler, "note", out->sampler_note, sizeof out->sampler_note);
		rc =
		    rc ? rc : get_choice(rd, sampler, "call_graph", graphs, NULL, &out->call_graph);
		rc = rc ? rc : get_real(rd, sampler, "rate_hz", &out->rate_hz);
		rc = rc ? rc : get_uint(rd, sampler, "samples", &out->samples);
		rc = rc ? rc : get_uint(rd, sampler, "lost_samples", &out->lost_samples);
		rc = rc ? rc : get_uint(rd, sampler, "threads", &threads);
		rc = rc ? rc : get_uint(rd, sampler, "processes", &processes);
		rc = rc ? rc : get_real(rd, sampler, "duration_s", &out->duration_s);
		rc = rc ? rc : get_real(rd, sampler, "cpu_s", &out->cpu_s);
		/* Optional: reports written before the store had a memory bound kept every sample.
		 */
		uint64_t kept = 1;
		rc = rc ? rc : get_uint(rd, sampler, "kept_one_in", &kept);
		out->kept_one_in = kept >= 1 && kept <= UINT32_MAX ? (uint32_t)kept : 1;
		pop(rd, len);
		out->threads = (size_t)threads;
		out->processes = (size_t)processes;
		if (rc)
			return rc;
	}
	size_t n = hotspots ? json_array_size(hotspots) : 0;
	rc = alloc_array((void **)&out->hotspots, n, sizeof *out->hotspots);
	if (rc)
		return rc;
	out->n_hotspots = n;
	rc = each_object(rd, "hotspots", hotspots, read_hotspot, out);
	n = stacks ? json_array_size(stacks) : 0;
	rc = rc ? rc : alloc_array((void **)&out->stacks, n, sizeof *out->stacks);
	if (rc)
		return rc;
	out->n_stacks = n;
	return each_object(rd, "stacks", stacks, read_stack, out);
}

static int read_leak(reader *rd, const json_t *l, sc_leak_result *out)
{
	static const char *const verdicts[] = {"leak", "plateau", "none", "unknown", NULL};
	static const char *const bases[] = {"live heap", "rss", NULL};
	*out = (sc_leak_result){0};
	if (!l)
		return 0;
	int64_t iterations = -1, warmup = -1;
	out->slope_ci95_low = out->slope_ci95_high = NAN;
	int rc = get_choice(rd, l, "verdict", verdicts, "unknown", &out->verdict);
	rc = rc ? rc : get_choice(rd, l, "basis", bases, NULL, &out->basis);
	rc = rc ? rc : get_count(rd, l, "iterations", &iterations);
	rc = rc ? rc : get_count(rd, l, "warmup", &warmup);
	rc = rc ? rc : get_real(rd, l, "slope_bytes", &out->slope_bytes);
	rc = rc ? rc : get_real(rd, l, "second_half_slope_bytes", &out->second_half_slope_bytes);
	rc = rc ? rc : get_real(rd, l, "total_growth_bytes", &out->total_growth_bytes);
	rc = rc ? rc : get_text(rd, l, "reason", out->reason, sizeof out->reason);
	out->iterations = iterations > 0 ? (size_t)iterations : 0;
	out->warmup = warmup > 0 ? (size_t)warmup : 0;
	const json_t *ci = json_object_get(l, "slope_ci95_bytes");
	if (!rc && json_is_array(ci) && json_array_size(ci) == 2 &&
	    json_is_number(json_array_get(ci, 0)) && json_is_number(json_array_get(ci, 1))) {
		out->slope_ci95_low = json_number_value(json_array_get(ci, 0));
		out->slope_ci95_high = json_number_value(json_array_get(ci, 1));
	}
	return rc;
}

static int read_warning(reader *rd, const json_t *j, size_t i, void *ctx)
{
	sc_profile *p = ctx;
	if (i >= SC_MAX_WARNINGS)
		return 0;
	sc_warning *w = &p->warnings[i];
	p->n_warnings = i + 1;
	int rc = get_text(rd, j, "id", w->id, sizeof w->id);
	rc = rc ? rc : get_text(rd, j, "message", w->message, sizeof w->message);
	return rc ? rc : get_text(rd, j, "action", w->action, sizeof w->action);
}

/* A region (sc_region_stats), by the names of its fields. */
static int read_region(reader *rd, const json_t *j, size_t i, void *ctx)
{
	sc_region_stats *g = &((sc_profile *)ctx)->regions[i];
	int64_t depth = -1, calls = -1;
	const json_t *latency = NULL;
	int rc = get_text(rd, j, "name", g->name, sizeof g->name);
	rc = rc ? rc : get_text(rd, j, "parent", g->parent, sizeof g->parent);
	rc = rc ? rc : get_count(rd, j, "depth", &depth);
	rc = rc ? rc : get_count(rd, j, "calls", &calls);
	rc = rc ? rc : get_real(rd, j, "total_s", &g->total_s);
	rc = rc ? rc : get_real(rd, j, "self_s", &g->self_s);
	rc = rc ? rc : get_real(rd, j, "share", &g->share);
	rc = rc ? rc : get_object(rd, j, "latency_ms", &latency);
	rc = rc ? rc : get_real(rd, j, "memory_increase_mb", &g->memory_increase_mb);
	rc = rc ? rc : get_count(rd, j, "allocations", &g->allocations);
	rc = rc ? rc : get_count(rd, j, "bytes_allocated", &g->bytes_allocated);
	rc = rc ? rc : get_count(rd, j, "cpu_samples", &g->cpu_samples);
	rc = rc ? rc : get_real(rd, j, "cpu_percent", &g->cpu_percent);
	rc = rc ? rc
	        : get_text(rd, j, "cpu_top_function", g->cpu_top_function,
	                   sizeof g->cpu_top_function);
	if (rc)
		return rc;
	g->depth = depth > 0 && depth < 1000 ? (int)depth : 0;
	g->calls = calls > 0 ? (uint64_t)calls : 0;
	size_t len = push_key(rd, "latency_ms");
	rc = read_latency(rd, latency, &g->latency);
	pop(rd, len);
	return rc;
}

static int read_profile_lists(reader *rd, const json_t *j, sc_profile *p)
{
	const json_t *leak = NULL, *warnings = NULL, *regions = NULL;
	int rc = get_object(rd, j, "leak", &leak);
	rc = rc ? rc : get_array(rd, j, "warnings", &warnings);
	rc = rc ? rc : get_array(rd, j, "regions", &regions);
	if (rc)
		return rc;
	size_t len = push_key(rd, "leak");
	rc = read_leak(rd, leak, &p->leak);
	pop(rd, len);
	rc = rc ? rc : each_object(rd, "warnings", warnings, read_warning, p);
	size_t n = regions ? json_array_size(regions) : 0;
	rc = rc ? rc : alloc_array((void **)&p->regions, n, sizeof *p->regions);
	if (!rc)
		p->n_regions = n;
	return rc ? rc : each_object(rd, "regions", regions, read_region, p);
}

/* The reasons of figures not measured: the checks quote them. */
static int read_unavailable(reader *rd, const json_t *profile, sc_profile *p)
{
	const json_t *u;
	int rc = get_object(rd, profile, "unavailable", &u);
	if (rc || !u)
		return rc;
	const char *key;
	const json_t *value;
	json_object_foreach((json_t *)u, key, value)
	{
		if (!json_is_string(value))
			continue;
		if (p->n_unavailable == SC_MAX_UNAVAILABLE)
			break;
		sc_unavailable *x = &p->unavailable[p->n_unavailable++];
		snprintf(x->field, sizeof x->field, "%s", key);
		snprintf(x->reason, sizeof x->reason, "%s", json_string_value(value));
	}
	return 0;
}

/* Runs a section reader with the section's name on the path. */
#define SECTION(rd, key, call)                                                                     \
	do {                                                                                       \
		size_t section_len_ = push_key(rd, key);                                           \
		rc = (call);                                                                       \
		pop(rd, section_len_);                                                             \
	} while (0)

static int read_profile(reader *rd, const json_t *j, sc_profile *p)
{
	static const char *const kinds[] = {"function", "samples", "command", "leak-check", NULL};
	if (!json_is_object(j))
		return fail(rd, "expected an object, found %s", type_name(j));
	const json_t *name = json_object_get(j, "name");
	if (!json_is_string(name) || json_string_length(name) == 0) {
		size_t len = push_key(rd, "name");
		int rc = fail(rd, "expected the profile's name, a non-empty string");
		pop(rd, len);
		return rc;
	}
	p->name = strdup(json_string_value(name));
	if (!p->name)
		return SC_ENOMEM;
	char command[4096];
	int64_t n_samples = -1, warmup = -1;
	const json_t *time, *memory, *heap, *resources, *cpu;
	int rc = get_choice(rd, j, "kind", kinds, "unknown", &p->kind);
	rc = rc ? rc : get_text(rd, j, "command", command, sizeof command);
	rc = rc ? rc : get_count(rd, j, "n_samples", &n_samples);
	rc = rc ? rc : get_count(rd, j, "warmup_runs", &warmup);
	rc = rc ? rc : get_object(rd, j, "time", &time);
	rc = rc ? rc : get_object(rd, j, "memory", &memory);
	rc = rc ? rc : get_object(rd, j, "heap", &heap);
	rc = rc ? rc : get_object(rd, j, "resources", &resources);
	rc = rc ? rc : get_object(rd, j, "cpu", &cpu);
	if (rc)
		return rc;
	if (n_samples == 0) {
		size_t len = push_key(rd, "n_samples");
		rc = fail(rd, "expected at least 1 sample per run");
		pop(rd, len);
		return rc;
	}
	p->n_samples = n_samples < 0 ? 1 : (uint64_t)n_samples;
	p->n_warmup = warmup > 0 ? (size_t)warmup : 0;
	if (command[0] && !(p->command = strdup(command)))
		return SC_ENOMEM;
	rc = read_runs(rd, j, p);
	if (!rc)
		SECTION(rd, "time", read_time(rd, time, p));
	if (!rc)
		SECTION(rd, "memory", read_memory(rd, memory, p));
	if (!rc)
		SECTION(rd, "heap", read_heap(rd, heap, &p->heap));
	if (!rc)
		SECTION(rd, "resources", read_resources(rd, resources, &p->resources));
	if (!rc)
		SECTION(rd, "cpu", read_cpu(rd, cpu, &p->cpu));
	if (!rc)
		rc = read_unavailable(rd, j, p);
	if (!rc)
		rc = read_profile_lists(rd, j, p);
	return rc;
}

/* ---- the analysis ------------------------------------------------------------------------ */

static int read_bottleneck(reader *rd, const json_t *j, size_t i, void *ctx)
{
	static const char *const severities[] = {"info", "warning", "critical", NULL};
	sc_bottleneck *b = &((sc_report *)ctx)->bottlenecks[i];
	const char *severity;
	const json_t *evidence = NULL;
	int rc = get_text(rd, j, "id", b->id, sizeof b->id);
	rc = rc ? rc : get_choice(rd, j, "severity", severities, "info", &severity);
	rc = rc ? rc : get_text(rd, j, "profile", b->profile, sizeof b->profile);
	rc = rc ? rc : get_text(rd, j, "region", b->region, sizeof b->region);
	rc = rc ? rc : get_text(rd, j, "message", b->message, sizeof b->message);
	rc = rc ? rc : get_real(rd, j, "share", &b->share);
	rc = rc ? rc : get_real(rd, j, "confidence", &b->confidence);
	rc = rc ? rc : get_object(rd, j, "evidence", &evidence);
	if (rc)
		return rc;
	b->severity = severity[0] == 'c'   ? SC_SEVERITY_CRITICAL
	              : severity[0] == 'w' ? SC_SEVERITY_WARNING
	                                   : SC_SEVERITY_INFO;
	/* Evidence units live in the names ("_ms", "_percent"); the unit field is not written. */
	const char *key;
	const json_t *value;
	json_object_foreach((json_t *)evidence, key, value)
	{
		if (b->n_evidence == SC_MAX_EVIDENCE)
			break;
		sc_evidence *e = &b->evidence[b->n_evidence++];
		snprintf(e->name, sizeof e->name, "%s", key);
		e->value = json_is_number(value) ? json_number_value(value) : NAN;
	}
	return 0;
}

static int read_recommendation(reader *rd, const json_t *j, size_t i, void *ctx)
{
	sc_recommendation *c = &((sc_report *)ctx)->recommendations[i];
	int rc = get_text(rd, j, "id", c->id, sizeof c->id);
	rc = rc ? rc : get_text(rd, j, "finding", c->finding, sizeof c->finding);
	rc = rc ? rc : get_text(rd, j, "profile", c->profile, sizeof c->profile);
	rc = rc ? rc : get_text(rd, j, "action", c->action, sizeof c->action);
	rc = rc ? rc : get_text(rd, j, "expected", c->expected, sizeof c->expected);
	rc = rc ? rc : get_text(rd, j, "evidence", c->evidence, sizeof c->evidence);
	return rc ? rc : get_real(rd, j, "share", &c->share);
}

static int read_check(reader *rd, const json_t *j, size_t i, void *ctx)
{
	sc_check *c = &((sc_report *)ctx)->checks[i];
	int rc = get_text(rd, j, "name", c->name, sizeof c->name);
	rc = rc ? rc : get_text(rd, j, "profile", c->profile, sizeof c->profile);
	rc = rc ? rc : get_text(rd, j, "metric", c->metric, sizeof c->metric);
	rc = rc ? rc : get_text(rd, j, "op", c->op, sizeof c->op);
	rc = rc ? rc : get_real(rd, j, "limit", &c->limit);
	rc = rc ? rc : get_real(rd, j, "value", &c->value);
	rc = rc ? rc : get_real(rd, j, "bound", &c->bound);
	rc = rc ? rc : get_bool(rd, j, "pass", &c->pass);
	return rc ? rc : get_text(rd, j, "reason", c->reason, sizeof c->reason);
}

static int read_regression(reader *rd, const json_t *j, size_t i, void *ctx)
{
	static const char *const methods[] = {"welch-t", "exact", "point", NULL};
	sc_regression *g = &((sc_report *)ctx)->regressions[i];
	int rc = get_text(rd, j, "profile", g->profile, sizeof g->profile);
	rc = rc ? rc : get_text(rd, j, "metric", g->metric, sizeof g->metric);
	rc = rc ? rc : get_real(rd, j, "old_value", &g->old_value);
	rc = rc ? rc : get_real(rd, j, "new_value", &g->new_value);
	rc = rc ? rc : get_real(rd, j, "change", &g->change);
	rc = rc ? rc : get_real(rd, j, "change_error", &g->change_error);
	rc = rc ? rc : get_choice(rd, j, "method", methods, NULL, &g->method);
	rc = rc ? rc : get_bool(rd, j, "regression", &g->regression);
	return rc ? rc : get_bool(rd, j, "improvement", &g->improvement);
}

static int read_comparison_entry(reader *rd, const json_t *j, size_t i, void *ctx)
{
	sc_comparison_entry *c = &((sc_report *)ctx)->comparison[i];
	int64_t rank = -1;
	int rc = get_text(rd, j, "profile", c->profile, sizeof c->profile);
	rc = rc ? rc : get_count(rd, j, "rank", &rank);
	rc = rc ? rc : get_real(rd, j, "relative_speed", &c->relative_speed);
	rc = rc ? rc : get_real(rd, j, "relative_speed_error", &c->relative_speed_error);
	rc = rc ? rc : get_bool(rd, j, "significant", &c->significant);
	c->rank = rank > 0 ? (size_t)rank : i + 1;
	return rc;
}

/* Reads root[key], an array (or null/absent: none), into a new array of n elements of size. */
static int read_list(reader *rd, const json_t *root, const char *key, size_t size, void **items,
                     size_t *n, element_fn each, sc_report *r)
{
	const json_t *a = NULL;
	int rc = get_array(rd, root, key, &a);
	size_t count = a ? json_array_size(a) : 0;
	rc = rc ? rc : alloc_array(items, count, size);
	if (rc)
		return rc;
	*n = count;
	return each_object(rd, key, a, each, r);
}

/* "comparison": {"sort": ..., "ranking": [...]}; a bare array of entries reads too. */
static int read_comparison(reader *rd, const json_t *root, sc_report *r)
{
	static const char *const sorts[] = {"throughput", "latency", "memory", NULL};
	const json_t *c = json_object_get(root, "comparison");
	if (!c || json_is_null(c))
		return 0;
	if (!json_is_object(c)) {
		if (!json_is_array(c))
			return wrong_type(rd, "comparison", "an object", c);
		r->comparison_sort = "throughput";
		return read_list(rd, root, "comparison", sizeof *r->comparison,
		                 (void **)&r->comparison, &r->n_comparison, read_comparison_entry,
		                 r);
	}
	size_t len = push_key(rd, "comparison");
	int rc = get_choice(rd, c, "sort", sorts, "throughput", &r->comparison_sort);
	const char *key = json_object_get(c, "ranking") ? "ranking" : "entries";
	rc = rc ? rc
	        : read_list(rd, c, key, sizeof *r->comparison, (void **)&r->comparison,
	                    &r->n_comparison, read_comparison_entry, r);
	pop(rd, len);
	return rc;
}

static int read_analysis(reader *rd, const json_t *root, sc_report *r)
{
	static const char *const verdicts[] = {"pass", "fail", NULL};
	int rc = read_list(rd, root, "bottlenecks", sizeof *r->bottlenecks,
	                   (void **)&r->bottlenecks, &r->n_bottlenecks, read_bottleneck, r);
	rc = rc ? rc
	        : read_list(rd, root, "recommendations", sizeof *r->recommendations,
	                    (void **)&r->recommendations, &r->n_recommendations,
	                    read_recommendation, r);
	rc = rc ? rc
	        : read_list(rd, root, "checks", sizeof *r->checks, (void **)&r->checks,
	                    &r->n_checks, read_check, r);
	rc = rc ? rc
	        : read_list(rd, root, "regressions", sizeof *r->regressions,
	                    (void **)&r->regressions, &r->n_regressions, read_regression, r);
	rc = rc ? rc : get_real(rd, root, "max_regression", &r->max_regression);
	rc = rc ? rc : get_choice(rd, root, "verdict", verdicts, NULL, &r->verdict);
	return rc ? rc : read_comparison(rd, root, r);
}

static int read_report(reader *rd, const json_t *root, sc_report *r)
{
	if (!json_is_object(root))
		return fail(rd, "not a shotclock report (the top level is %s, not an object)",
		            type_name(root));
	const json_t *schema = json_object_get(root, "schema");
	if (!schema)
		return fail(rd, "no 'schema' field: not a shotclock report");
	if (!json_is_string(schema))
		return fail(rd, "schema: expected a string, found %s", type_name(schema));
	if (strcmp(json_string_value(schema), SC_REPORT_SCHEMA) != 0) {
		/* Only the first 64 characters of a foreign schema: the message stays one line. */
		char shown[65];
		snprintf(shown, sizeof shown, "%s", json_string_value(schema));
		for (char *c = shown; *c; c++)
			if ((unsigned char)*c < 0x20)
				*c = '?';
		return fail(rd, "schema '%s' is not %s", shown, SC_REPORT_SCHEMA);
	}
	const json_t *system;
	int rc = get_text(rd, root, "created", r->created, sizeof r->created);
	rc = rc ? rc : get_object(rd, root, "system", &system);
	if (!rc)
		SECTION(rd, "system", read_system(rd, system, &r->system));
	if (rc)
		return rc;
	const json_t *profiles = json_object_get(root, "profiles");
	if (!json_is_array(profiles))
		return profiles ? wrong_type(rd, "profiles", "an array", profiles)
		                : fail(rd, "no 'profiles' field: not a shotclock report");
	size_t n = json_array_size(profiles);
	if (n) {
		r->profiles = calloc(n, sizeof *r->profiles);
		if (!r->profiles)
			return SC_ENOMEM;
	}
	size_t outer = push_key(rd, "profiles");
	for (size_t i = 0; !rc && i < n; i++) {
		size_t len = push_index(rd, i);
		/* Counted before it is read, so that sc_report_free releases a half-read profile.
		 */
		r->n_profiles++;
		rc = read_profile(rd, json_array_get(profiles, i), &r->profiles[i]);
		for (size_t k = 0; !rc && k < i; k++)
			if (strcmp(r->profiles[k].name, r->profiles[i].name) == 0)
				rc =
				    fail(rd, "a second profile named '%.64s'", r->profiles[i].name);
		pop(rd, len);
	}
	pop(rd, outer);
	return rc ? rc : read_analysis(rd, root, r);
}

/*
 * The nesting depth is checked before jansson parses the text: jansson's parser recurses once per
 * level and stops at JSON_PARSER_MAX_DEPTH (2048) with "maximum parsing depth reached", but older
 * versions had no limit at all and a file of 100000 '[' would overflow the stack. Counting
 * brackets outside strings is linear and makes the limit ours, with its position.
 */
static int check_depth(reader *rd, const char *text, size_t len)
{
	size_t depth = 0, line = 1, column = 0;
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		column++;
		if (c == '\n') {
			line++;
			column = 0;
		}
		if (in_string) {
			if (c == '\\')
				i++, column++;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > MAX_DEPTH)
				return fail(rd,
				            "line %zu, column %zu: nested deeper than %d levels",
				            line, column, MAX_DEPTH);
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return 0;
}

int sc__report_read_json_text(const char *text, size_t len, const char *name, sc_report **out,
                              char *err, size_t err_cap)
{
	if (err && err_cap)
		err[0] = '\0';
	if (!out || (!text && len))
		return SC_EINVAL;
	*out = NULL;
	reader rd = {.name = name ? name : "report", .err = err, .err_cap = err_cap};
	size_t blank = 0;
	while (blank < len && text[blank] && strchr(" \t\r\n", text[blank]))
		blank++;
	if (blank == len)
		return fail(&rd, "the file is empty");
	int rc = check_depth(&rd, text, len);
	if (rc)
		return rc;
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		/* jansson's column counts characters from 1; 0 means "at the end". */
		return fail(&rd, "line %d, column %d: %s", je.line, je.column, je.text);
	}
	sc_report *r = calloc(1, sizeof *r);
	if (!r) {
		json_decref(root);
		return SC_ENOMEM;
	}
	r->max_regression = NAN;
	rc = read_report(&rd, root, r);
	json_decref(root);
	if (rc) {
		if (rc == SC_ENOMEM && err && err_cap)
			snprintf(err, err_cap, "%s: %s", rd.name, sc_strerror(rc));
		sc_report_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int sc_report_read_json(const char *path, sc_report **out, char *err, size_t err_cap)
{
	if (err && err_cap)
		err[0] = '\0';
	if (!path || !out)
		return SC_EINVAL;
	*out = NULL;
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		int e = errno;
		if (err && err_cap)
			snprintf(err, err_cap, "%s: cannot open: %s", path, strerror(e));
		errno = e;
		return SC_EIO;
	}
	char *text = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;
	for (;;) {
		if (len == cap) {
			size_t grown_cap = cap ? 2 * cap : 65536;
			char *grown = realloc(text, grown_cap);
			if (!grown) {
				rc = SC_ENOMEM;
				break;
			}
			text = grown;
			cap = grown_cap;
		}
		size_t got = fread(text + len, 1, cap - len, fp);
		len += got;
		if (got == 0) {
			if (ferror(fp)) {
				int e = errno;
				if (err && err_cap)
					snprintf(err, err_cap, "%s: cannot read: %s", path,
					         strerror(e));
				rc = SC_EIO;
			}
			break;
		}
	}
	fclose(fp);
	if (!rc)
		rc = sc__report_read_json_text(text, len, path, out, err, err_cap);
	else if (rc == SC_ENOMEM && err && err_cap)
		snprintf(err, err_cap, "%s: %s", path, sc_strerror(rc));
	free(text);
	return rc;
}

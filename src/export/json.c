#define _GNU_SOURCE /* sigabbrev_np */
/* json.c: the canonical JSON export of a report (shotclock.report/1, docs/report-format.md). */
#include "internal.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * The tree is built with json_pack: every "o" argument is a new reference that json_pack steals,
 * also when it fails, so a NULL from any helper (out of memory) makes the enclosing json_pack
 * return NULL without leaking, and the NULL travels up to sc_report_export_json. Figures that
 * could not be measured (NaN, or -1 for counts) become null; the profile's "unavailable" object
 * says why.
 */

/* Ten significant digits keep every figure readable and make the output identical from one run
 * to the next (and byte-for-byte comparable in tests); no figure we measure has more. */
#define JSON_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(10))

static json_t *real_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *count_or_null(int64_t v)
{
	return v >= 0 ? json_integer((json_int_t)v) : json_null();
}

static json_t *uint_json(uint64_t v)
{
	return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* A string; JSON requires UTF-8, and a command line may hold any bytes, so a string that is not
 * valid UTF-8 is kept with its non-ASCII bytes replaced by '?'. NULL or "" (not known) is null. */
json_t *sc__json_string_lossy(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	char *ascii = strdup(s);
	if (!ascii)
		return NULL;
	for (char *c = ascii; *c; c++)
		if ((unsigned char)*c >= 0x80)
			*c = '?';
	j = json_string(ascii);
	free(ascii);
	return j;
}

static json_t *text(const char *s)
{
	return s && *s ? sc__json_string_lossy(s) : json_null();
}

/* The json_pack calls below list one key and its value per line, which clang-format would
 * pack together; each such block turns formatting off. */

static json_t *system_json(const sc_system_info *s)
{
	/* clang-format off */
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:[o,o,o], s:{s:o, s:o, s:o, s:o}}",
		"cpus", count_or_null(s->cpus),
		"cpu_model", text(s->cpu_model),
		"kernel", text(s->kernel),
		"hostname", text(s->hostname),
		"memory_total_mb", real_or_null(s->memory_total_mb),
		"memory_available_mb", real_or_null(s->memory_available_mb),
		"load_avg", real_or_null(s->load_avg[0]), real_or_null(s->load_avg[1]),
			real_or_null(s->load_avg[2]),
		"disk",
			"path", text(s->disk_path),
			"total_gb", real_or_null(s->disk_total_gb),
			"free_gb", real_or_null(s->disk_free_gb),
			"used_percent", real_or_null(s->disk_used_percent));
	/* clang-format on */
}

/* "SIGSEGV"; a signal without a name (a real-time one) by its number. */
static json_t *signal_json(int sig)
{
	if (sig == 0)
		return json_null();
	const char *abbrev = sigabbrev_np(sig);
	char name[32];
	if (abbrev)
		snprintf(name, sizeof name, "SIG%s", abbrev);
	else
		snprintf(name, sizeof name, "%d", sig);
	return json_string(name);
}

static json_t *run_json(const sc_run *r)
{
	/* clang-format off */
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b}",
		"wall_s", real_or_null(r->wall_s),
		"user_s", real_or_null(r->user_s),
		"sys_s", real_or_null(r->sys_s),
		"peak_rss_mb", real_or_null(r->peak_rss_mb),
		"minor_faults", count_or_null(r->minor_faults),
		"major_faults", count_or_null(r->major_faults),
		"voluntary_context_switches", count_or_null(r->voluntary_context_switches),
		"involuntary_context_switches", count_or_null(r->involuntary_context_switches),
		"read_bytes", count_or_null(r->read_bytes),
		"write_bytes", count_or_null(r->write_bytes),
		"exit_code", count_or_null(r->exit_code),
		"signal", signal_json(r->signal),
		"timed_out", r->timed_out);
	/* clang-format on */
}

/* Appends item to array; on failure releases both and returns NULL. */
static json_t *append(json_t *array, json_t *item)
{
	if (json_array_append_new(array, item) != 0) {
		json_decref(array);
		return NULL;
	}
	return array;
}

static json_t *runs_json(const sc_profile *p)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < p->n_runs; i++)
		a = append(a, run_json(&p->runs[i]));
	return a;
}

static json_t *summary_json(const sc_summary *s)
{
	/* A profile made without timing anything has no summary. */
	if (s->n == 0)
		return json_null();
	json_t *ci95 = isfinite(s->ci95_low) && isfinite(s->ci95_high)
	                   ? json_pack("[f,f]", s->ci95_low, s->ci95_high)
	                   : json_null();
	/* clang-format off */
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		"n", uint_json(s->n),
		"mean", real_or_null(s->mean),
		"stddev", real_or_null(s->stddev),
		"median", real_or_null(s->median),
		"min", real_or_null(s->min),
		"max", real_or_null(s->max),
		"mad", real_or_null(s->mad),
		"ci95", ci95,
		"outliers", uint_json(s->outliers));
	/* clang-format on */
}

static json_t *latency_json(const sc_latency *l)
{
	if (!l->available)
		return json_null();
	/* clang-format off */
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		"source", text(l->source),
		"count", uint_json(l->count),
		"mean", real_or_null(l->mean_ms),
		"p50", real_or_null(l->p50_ms),
		"p90", real_or_null(l->p90_ms),
		"p95", real_or_null(l->p95_ms),
		"p99", real_or_null(l->p99_ms),
		"p999", real_or_null(l->p999_ms),
		"max", real_or_null(l->max_ms));
	/* clang-format on */
}

static json_t *time_json(const sc_profile *p)
{
	/* clang-format off */
	return json_pack("{s:o, s:o, s:o, s:o}",
		"total_time", summary_json(&p->total_time),
		"avg_time_per_sample", real_or_null(p->avg_time_per_sample),
		"throughput_samples_per_sec", real_or_null(p->throughput_samples_per_sec),
		"latency_ms", latency_json(&p->latency));
	/* clang-format on */
}

static json_t *timeline_json(const sc_profile *p)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < p->n_timeline; i++) {
		const sc_timeline_point *t = &p->timeline[i];
		/* clang-format off */
		a = append(a, json_pack("{s:o, s:o, s:o, s:o}",
			"t_s", real_or_null(t->t_s),
			"rss_mb", real_or_null(t->rss_mb),
			"cpu_percent", real_or_null(t->cpu_percent),
			"processes", count_or_null(t->processes)));
		/* clang-format on */
	}
	return a;
}

static json_t *memory_json(const sc_profile *p)
{
	const sc_memory_profile *m = &p->memory;
	/* clang-format off */
	return json_pack("{s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:o}",
		"baseline_memory_mb", real_or_null(m->baseline_memory_mb),
		"peak_memory_mb", real_or_null(m->peak_memory_mb),
		"memory_increase_mb", real_or_null(m->memory_increase_mb),
		"peak_reset", m->peak_reset,
		"minor_faults", count_or_null(m->minor_faults),
		"major_faults", count_or_null(m->major_faults),
		"timeline_interval_s", real_or_null(p->timeline_interval_s),
		"timeline", timeline_json(p));
	/* clang-format on */
}

/* ---- heap ------------------------------------------------------------------------------------ */

/* An address as an integer; JSON readers keep integers up to 2^63 exactly. */
static json_t *offset_json(const sc_heap_frame *f)
{
	return f->module ? uint_json(f->offset) : json_null();
}

static json_t *line_json(int line)
{
	return line > 0 ? json_integer(line) : json_null();
}

static json_t *frames_json(const sc_heap_site *s)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < s->n_frames; i++) {
		const sc_heap_frame *f = &s->frames[i];
		/* clang-format off */
		a = append(a, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
			"address", uint_json(f->address),
			"module", text(f->module),
			"offset", offset_json(f),
			"function", text(f->function),
			"file", text(f->file),
			"line", line_json(f->line)));
		/* clang-format on */
	}
	return a;
}

/* The largest sites, by bytes; the profile keeps them all, the report the first ones. */
#define HEAP_SITES_IN_REPORT 20

/* A site is named after its innermost frame: the code that called the allocation function. */
static json_t *site_json(const sc_heap_site *s)
{
	static const sc_heap_frame unknown = {0};
	const sc_heap_frame *f = s->n_frames ? &s->frames[0] : &unknown;
	/* clang-format off */
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		"function", text(f->function),
		"file", text(f->file),
		"line", line_json(f->line),
		"module", text(f->module),
		"offset", offset_json(f),
		"allocations", real_or_null(s->allocations),
		"bytes", real_or_null(s->bytes),
		"leaked_blocks", real_or_null(s->leaked_blocks),
		"leaked_bytes", real_or_null(s->leaked_bytes),
		"lost_bytes", real_or_null(s->lost_bytes),
		"bytes_error", real_or_null(s->bytes_error),
		"frames", frames_json(s));
	/* clang-format on */
}

static json_t *sites_json(const sc_heap_profile *h)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < h->n_sites && i < HEAP_SITES_IN_REPORT; i++)
		a = append(a, site_json(&h->sites[i]));
	return a;
}

/* Bucket k of sizes [2^(k-1), 2^k), bucket 0 of size 0; only buckets that hold allocations. */
static json_t *size_histogram_json(const sc_heap_profile *h)
{
	json_t *a = json_array();
	for (size_t k = 0; a && k < SC_HEAP_SIZE_BUCKETS; k++) {
		if (!h->size_buckets[k])
			continue;
		uint64_t min = k ? (uint64_t)1 << (k - 1) : 0;
		uint64_t max = k ? (k < 64 ? ((uint64_t)1 << k) - 1 : UINT64_MAX) : 0;
		/* clang-format off */
		a = append(a, json_pack("{s:o, s:o, s:o}",
			"min_bytes", uint_json(min),
			"max_bytes", uint_json(max),
			"allocations", uint_json(h->size_buckets[k])));
		/* clang-format on */
	}
	return a;
}

static json_t *heap_json(const sc_heap_profile *h)
{
	if (!h->available)
		return json_pack("{s:b, s:s}", "available", 0, "reason",
		                 h->reason[0] ? h->reason : "not measured");
	/* clang-format off */
	return json_pack("{s:b, s:n, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
	                 "s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
	                 "s:o, s:o, s:o, s:o, s:o}",
		"available", 1,
		"reason",
		"complete", h->complete,
		"incomplete_reason", h->complete ? json_null() : text(h->incomplete_reason),
		"sites_mode", text(h->sites_mode),
		"sample_bytes", uint_json(h->sample_bytes),
		"allocations", count_or_null(h->allocations),
		"frees", count_or_null(h->frees),
		"bytes_allocated", count_or_null(h->bytes_allocated),
		"temporary_allocations", count_or_null(h->temporary_allocations),
		"allocations_per_sample", real_or_null(h->allocations_per_sample),
		"live_basis", text(h->live_basis),
		"peak_live_bytes", count_or_null(h->peak_live_bytes),
		"peak_live_s", real_or_null(h->peak_live_s),
		"peak_live_error_bytes", count_or_null(h->peak_live_error_bytes),
		"leaked_blocks", count_or_null(h->leaked_blocks),
		"leaked_bytes", count_or_null(h->leaked_bytes),
		"lost_blocks", count_or_null(h->lost_blocks),
		"lost_bytes", count_or_null(h->lost_bytes),
		"reachable_blocks", count_or_null(h->reachable_blocks),
		"reachable_bytes", count_or_null(h->reachable_bytes),
		"arena_bytes", count_or_null(h->arena_bytes),
		"in_use_bytes", count_or_null(h->in_use_bytes),
		"size_histogram", size_histogram_json(h),
		"processes", uint_json(h->processes),
		"run_wall_s", real_or_null(h->run_wall_s),
		"slowdown", real_or_null(h->slowdown),
		"run_peak_rss_mb", real_or_null(h->run_peak_rss_mb),
		"sites", sites_json(h));
	/* clang-format on */
}

/* ---- cpu --------------------------------------------------------------------------------- */

static json_t *cpu_lines_json(const sc_cpu_hotspot *h)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < h->n_lines; i++) {
		const sc_cpu_line *l = &h->lines[i];
		/* clang-format off */
		a = append(a, json_pack("{s:o, s:o, s:o, s:o}",
			"file", text(l->file),
			"line", line_json(l->line),
			"samples", uint_json(l->samples),
			"percent", real_or_null(l->percent)));
		/* clang-format on */
	}
	return a;
}

static json_t *cpu_hotspots_json(const sc_cpu_profile *c)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < c->n_hotspots; i++) {
		const sc_cpu_hotspot *h = &c->hotspots[i];
		/* clang-format off */
		a = append(a, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			"function", text(h->function),
			"module", text(h->module),
			"file", text(h->file),
			"line", line_json(h->line),
			"samples", uint_json(h->self_samples),
			"total_samples", uint_json(h->total_samples),
			"self_percent", real_or_null(h->self_percent),
			"total_percent", real_or_null(h->total_percent),
			"lines", cpu_lines_json(h)));
		/* clang-format on */
	}
	return a;
}

/* Each stack outermost frame first, as the folded format writes it. */
static json_t *cpu_stacks_json(const sc_cpu_profile *c)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < c->n_stacks; i++) {
		const sc_cpu_stack *s = &c->stacks[i];
		json_t *frames = json_array();
		for (size_t k = 0; frames && k < s->n_frames; k++)
			frames = append(frames, text(s->frames[k]));
		a = append(
		    a, json_pack("{s:o, s:o}", "frames", frames, "samples", uint_json(s->samples)));
	}
	return a;
}

/* Like the heap: a profile that was not sampled says only why. */
static json_t *cpu_json(const sc_cpu_profile *c)
{
	if (!c->available)
		return json_pack("{s:b, s:s}", "available", 0, "reason",
		                 c->reason[0] ? c->reason : "not measured");
	/* clang-format off */
	return json_pack("{s:b, s:n, s:{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}, "
	                 "s:o, s:o}",
		"available", 1,
		"reason",
		"sampler",
			"name", text(c->sampler),
			"note", text(c->sampler_note),
			"call_graph", text(c->call_graph),
			"rate_hz", real_or_null(c->rate_hz),
			"samples", uint_json(c->samples),
			"lost_samples", uint_json(c->lost_samples),
			"threads", uint_json(c->threads),
			"processes", uint_json(c->processes),
			"duration_s", real_or_null(c->duration_s),
			"cpu_s", real_or_null(c->cpu_s),
			"kept_one_in", uint_json(c->kept_one_in ? c->kept_one_in : 1),
		"hotspots", cpu_hotspots_json(c),
		"stacks", cpu_stacks_json(c));
	/* clang-format on */
}

static json_t *resources_json(const sc_resources *r)
{
	/* clang-format off */
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		"cpu_user_s", real_or_null(r->cpu_user_s),
		"cpu_sys_s", real_or_null(r->cpu_sys_s),
		"cpu_utilization", real_or_null(r->cpu_utilization),
		"read_bytes", count_or_null(r->read_bytes),
		"write_bytes", count_or_null(r->write_bytes),
		"minor_faults", count_or_null(r->minor_faults),
		"major_faults", count_or_null(r->major_faults),
		"voluntary_context_switches", count_or_null(r->voluntary_context_switches),
		"involuntary_context_switches", count_or_null(r->involuntary_context_switches));
	/* clang-format on */
}

static json_t *warnings_json(const sc_profile *p)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < p->n_warnings; i++) {
		const sc_warning *w = &p->warnings[i];
		/* clang-format off */
		a = append(a, json_pack("{s:o, s:o, s:o}",
			"id", text(w->id),
			"message", text(w->message),
			"action", text(w->action)));
		/* clang-format on */
	}
	return a;
}

static json_t *unavailable_json(const sc_profile *p)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < p->n_unavailable; i++) {
		const sc_unavailable *u = &p->unavailable[i];
		if (json_object_set_new(o, u->field, text(u->reason)) != 0) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

/* ---- analysis ------------------------------------------------------------------------------ */

/* The leak check's verdict; null when none was made. */
static json_t *leak_json(const sc_leak_result *l)
{
	if (!l->verdict)
		return json_null();
	json_t *ci95 = isfinite(l->slope_ci95_low) && isfinite(l->slope_ci95_high)
	                   ? json_pack("[f,f]", l->slope_ci95_low, l->slope_ci95_high)
	                   : json_null();
	/* clang-format off */
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		"verdict", text(l->verdict),
		"basis", text(l->basis),
		"iterations", uint_json(l->iterations),
		"warmup", uint_json(l->warmup),
		"slope_bytes", real_or_null(l->slope_bytes),
		"slope_ci95_bytes", ci95,
		"second_half_slope_bytes", real_or_null(l->second_half_slope_bytes),
		"total_growth_bytes", real_or_null(l->total_growth_bytes),
		"reason", text(l->reason));
	/* clang-format on */
}

/* Evidence as an object keyed by name: the names carry their units, as every field does. */
static json_t *evidence_json(const sc_bottleneck *b)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < b->n_evidence; i++) {
		if (json_object_set_new(o, b->evidence[i].name,
		                        real_or_null(b->evidence[i].value)) != 0) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

/* Both lists are null when the report was not analysed: analysis always gives every profile at
 * least one recommendation (its "healthy" one when nothing was found), so an empty list of
 * recommendations means no analysis, and an empty list of bottlenecks would claim a clean bill. */
static json_t *bottlenecks_json(const sc_report *r)
{
	if (r->n_recommendations == 0)
		return json_null();
	json_t *a = json_array();
	for (size_t i = 0; a && i < r->n_bottlenecks; i++) {
		const sc_bottleneck *b = &r->bottlenecks[i];
		/* clang-format off */
		a = append(a, json_pack("{s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o}",
			"id", text(b->id),
			"severity", sc__fmt_severity(b->severity),
			"profile", text(b->profile),
			"region", text(b->region),
			"message", text(b->message),
			"share", real_or_null(b->share),
			"confidence", real_or_null(b->confidence),
			"evidence", evidence_json(b)));
		/* clang-format on */
	}
	return a;
}

static json_t *recommendations_json(const sc_report *r)
{
	if (r->n_recommendations == 0)
		return json_null();
	json_t *a = json_array();
	for (size_t i = 0; a && i < r->n_recommendations; i++) {
		const sc_recommendation *c = &r->recommendations[i];
		/* clang-format off */
		a = append(a, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			"id", text(c->id),
			"finding", text(c->finding),
			"profile", text(c->profile),
			"action", text(c->action),
			"expected", text(c->expected),
			"evidence", text(c->evidence),
			"share", real_or_null(c->share)));
		/* clang-format on */
	}
	return a;
}

static json_t *checks_json(const sc_report *r)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < r->n_checks; i++) {
		const sc_check *c = &r->checks[i];
		/* clang-format off */
		a = append(a, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o}",
			"name", text(c->name),
			"profile", text(c->profile),
			"metric", text(c->metric),
			"op", text(c->op),
			"limit", real_or_null(c->limit),
			"value", real_or_null(c->value),
			"bound", real_or_null(c->bound),
			"pass", c->pass,
			"reason", text(c->reason)));
		/* clang-format on */
	}
	return a;
}

static json_t *regressions_json(const sc_report *r)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < r->n_regressions; i++) {
		const sc_regression *g = &r->regressions[i];
		/* clang-format off */
		a = append(a, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:b}",
			"profile", text(g->profile),
			"metric", text(g->metric),
			"old_value", real_or_null(g->old_value),
			"new_value", real_or_null(g->new_value),
			"change", real_or_null(g->change),
			"change_error", real_or_null(g->change_error),
			"method", text(g->method),
			"regression", g->regression,
			"improvement", g->improvement));
		/* clang-format on */
	}
	return a;
}

/* The components (docs/metrics.md, "Regions"): for a command, means per timed run. */
static json_t *regions_json(const sc_profile *p)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < p->n_regions; i++) {
		const sc_region_stats *g = &p->regions[i];
		/* clang-format off */
		a = append(a, json_pack("{s:o, s:o, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
		                        "s:o, s:o, s:o}",
			"name", text(g->name),
			"parent", g->parent[0] ? text(g->parent) : json_null(),
			"depth", g->depth,
			"calls", uint_json(g->calls),
			"total_s", real_or_null(g->total_s),
			"self_s", real_or_null(g->self_s),
			"share", real_or_null(g->share),
			"latency_ms", latency_json(&g->latency),
			"memory_increase_mb", real_or_null(g->memory_increase_mb),
			"allocations", count_or_null(g->allocations),
			"bytes_allocated", count_or_null(g->bytes_allocated),
			"cpu_samples", count_or_null(g->cpu_samples),
			"cpu_percent", real_or_null(g->cpu_percent),
			"cpu_top_function", text(g->cpu_top_function)));
		/* clang-format on */
	}
	return a;
}

static json_t *profile_fields_json(const sc_profile *p);

/* A profile; "regions" only when it has some (an empty list would claim none were entered). */
static json_t *profile_json(const sc_profile *p)
{
	json_t *o = profile_fields_json(p);
	if (o && p->n_regions && json_object_set_new(o, "regions", regions_json(p)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *profile_fields_json(const sc_profile *p)
{
	/* clang-format off */
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		"name", text(p->name),
		"kind", text(p->kind),
		"command", text(p->command),
		"n_samples", uint_json(p->n_samples),
		"warmup_runs", uint_json(p->n_warmup),
		"runs", runs_json(p),
		"time", time_json(p),
		"memory", memory_json(p),
		"heap", heap_json(&p->heap),
		"leak", leak_json(&p->leak),
		"resources", resources_json(&p->resources),
		"cpu", cpu_json(&p->cpu),
		"warnings", warnings_json(p),
		"unavailable", unavailable_json(p));
	/* clang-format on */
}

/* The ranking of sc_report_rank: null when the profiles were not compared. */
static json_t *comparison_json(const sc_report *r)
{
	if (!r->comparison_sort)
		return json_null();
	json_t *entries = json_array();
	for (size_t i = 0; entries && i < r->n_comparison; i++) {
		const sc_comparison_entry *e = &r->comparison[i];
		/* clang-format off */
		entries = append(entries, json_pack("{s:s, s:I, s:o, s:o, s:b}",
			"profile", e->profile,
			"rank", (json_int_t)e->rank,
			"relative_speed", real_or_null(e->relative_speed),
			"relative_speed_error", real_or_null(e->relative_speed_error),
			"significant", e->significant));
		/* clang-format on */
	}
	return json_pack("{s:s, s:o}", "sort", r->comparison_sort, "entries", entries);
}

/* Regions are left out of a profile that has none rather than written empty (profile_json): an
 * empty list would claim that none were entered. */
static json_t *report_json(const sc_report *r)
{
	json_t *profiles = json_array();
	for (size_t i = 0; profiles && i < r->n_profiles; i++)
		profiles = append(profiles, profile_json(&r->profiles[i]));
	/* clang-format off */
	return json_pack("{s:s, s:{s:s, s:s}, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		"schema", SC_REPORT_SCHEMA,
		"tool", "name", "shotclock", "version", SC_VERSION,
		"created", r->created,
		"system", system_json(&r->system),
		"profiles", profiles,
		"comparison", comparison_json(r),
		"bottlenecks", bottlenecks_json(r),
		"recommendations", recommendations_json(r),
		"checks", checks_json(r),
		"regressions", regressions_json(r),
		"max_regression", real_or_null(r->max_regression),
		"verdict", text(r->verdict));
	/* clang-format on */
}

int sc_report_export_json(const sc_report *r, const char *path)
{
	if (!r || !path)
		return SC_EINVAL;
	json_t *root = report_json(r);
	if (!root)
		return SC_ENOMEM;
	sc__atomic_file af;
	int err = sc__atomic_open(&af, path);
	if (!err) {
		if (json_dumpf(root, af.fp, JSON_FLAGS) != 0 || fputc('\n', af.fp) == EOF) {
			sc__atomic_abort(&af);
			err = SC_EIO;
		} else {
			err = sc__atomic_commit(&af);
		}
	}
	int saved_errno = errno; /* SC_EIO promises errno; freeing the tree must not change it */
	json_decref(root);
	errno = saved_errno;
	return err;
}

/* The same document to an open stream (export.c: other destinations, and standard output). */
int sc__export_json(const sc_report *r, FILE *fp)
{
	json_t *root = report_json(r);
	if (!root)
		return SC_ENOMEM;
	int err = json_dumpf(root, fp, JSON_FLAGS) != 0 || fputc('\n', fp) == EOF ? SC_EIO : 0;
	int saved_errno = errno;
	json_decref(root);
	errno = saved_errno;
	return err;
}

/* csv.c: the CSV export of a report: one row per profile, per run and per CPU hotspot
 * (docs/report-format.md). */
#include "internal.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

/*
 * RFC 4180: a header line, then rows of the same columns, CRLF-free ("\n" ends a row, which every
 * spreadsheet and pandas accept). The row_type column says whether a row describes a whole profile
 * ("profile"), one of its timed runs ("run") or a function of its CPU hotspot table ("hotspot");
 * a column that does not apply to a row, or a figure
 * that was not measured, is an empty field, never 0. Reals carry 10 significant digits, as in the
 * JSON, so the two agree. The columns are documented in docs/report-format.md; new ones are only
 * ever appended, so scripts that index them keep working.
 */

static const char *const columns[] = {
    "row_type",
    "profile",
    "kind",
    "command",
    "run",
    "n_samples",
    "n_runs",
    "warmup_runs",
    "wall_s",
    "wall_s_stddev",
    "wall_s_median",
    "wall_s_min",
    "wall_s_max",
    "wall_s_ci95_low",
    "wall_s_ci95_high",
    "user_s",
    "sys_s",
    "cpu_utilization",
    "avg_time_per_sample",
    "throughput_samples_per_sec",
    "latency_source",
    "latency_mean_ms",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "latency_p999_ms",
    "latency_max_ms",
    "peak_rss_mb",
    "baseline_memory_mb",
    "peak_memory_mb",
    "memory_increase_mb",
    "heap_allocations",
    "heap_frees",
    "heap_bytes_allocated",
    "heap_peak_live_bytes",
    "heap_leaked_blocks",
    "heap_leaked_bytes",
    "allocations_per_sample",
    "minor_faults",
    "major_faults",
    "voluntary_context_switches",
    "involuntary_context_switches",
    "read_bytes",
    "write_bytes",
    "exit_code",
    "signal",
    "timed_out",
    "cpu_sampler",
    "cpu_rate_hz",
    "cpu_samples",
    "cpu_lost_samples",
    "hotspot_rank",
    "function",
    "module",
    "file",
    "line",
    "self_samples",
    "total_samples",
    "self_percent",
    "total_percent",
};

#define N_COLUMNS (sizeof columns / sizeof columns[0])

/* One row under construction: every field starts empty. */
typedef struct row {
	char field[N_COLUMNS][80];
	const char *long_field[N_COLUMNS]; /* strings from the report (names, commands) */
} row;

static size_t column(const char *name)
{
	for (size_t i = 0; i < N_COLUMNS; i++)
		if (strcmp(columns[i], name) == 0)
			return i;
	return N_COLUMNS; /* never: every name below is in the table */
}

static void set_text(row *w, const char *name, const char *s)
{
	size_t i = column(name);
	if (i < N_COLUMNS)
		w->long_field[i] = s;
}

static void set_real(row *w, const char *name, double v)
{
	size_t i = column(name);
	if (i < N_COLUMNS && isfinite(v))
		snprintf(w->field[i], sizeof w->field[i], "%.10g", v);
}

static void set_count(row *w, const char *name, int64_t v)
{
	size_t i = column(name);
	if (i < N_COLUMNS && v >= 0)
		snprintf(w->field[i], sizeof w->field[i], "%" PRId64, v);
}

static void set_uint(row *w, const char *name, uint64_t v)
{
	size_t i = column(name);
	if (i < N_COLUMNS)
		snprintf(w->field[i], sizeof w->field[i], "%" PRIu64, v);
}

/* A field is quoted when it holds a comma, a quote or a line break; quotes are doubled. A field
 * that starts with = + - @ is prefixed with ' so that a spreadsheet does not run it as a formula
 * (a command line is user text). Numbers are written by us and never need either. */
static void field(FILE *fp, const char *s)
{
	if (!s)
		return;
	bool formula = strchr("=+-@", s[0]) && s[0];
	if (!formula && !strpbrk(s, ",\"\r\n")) {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	if (formula)
		fputc('\'', fp);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

static void write_row(FILE *fp, const row *w)
{
	for (size_t i = 0; i < N_COLUMNS; i++) {
		if (i)
			fputc(',', fp);
		if (w->long_field[i])
			field(fp, w->long_field[i]);
		else
			fputs(w->field[i], fp);
	}
	fputc('\n', fp);
}

/* The columns every row of a profile shares. */
static void identity(row *w, const sc_profile *p, const char *type)
{
	set_text(w, "row_type", type);
	set_text(w, "profile", p->name);
	set_text(w, "kind", p->kind);
	set_text(w, "command", p->command);
	set_uint(w, "n_samples", p->n_samples);
}

static void profile_row(FILE *fp, const sc_profile *p)
{
	row w = {0};
	identity(&w, p, "profile");
	const sc_summary *t = &p->total_time;
	set_uint(&w, "n_runs", p->n_runs);
	set_uint(&w, "warmup_runs", p->n_warmup);
	if (t->n) {
		set_real(&w, "wall_s", t->mean);
		set_real(&w, "wall_s_stddev", t->stddev);
		set_real(&w, "wall_s_median", t->median);
		set_real(&w, "wall_s_min", t->min);
		set_real(&w, "wall_s_max", t->max);
		set_real(&w, "wall_s_ci95_low", t->ci95_low);
		set_real(&w, "wall_s_ci95_high", t->ci95_high);
	}
	const sc_resources *res = &p->resources;
	set_real(&w, "user_s", res->cpu_user_s);
	set_real(&w, "sys_s", res->cpu_sys_s);
	set_real(&w, "cpu_utilization", res->cpu_utilization);
	set_real(&w, "avg_time_per_sample", p->avg_time_per_sample);
	set_real(&w, "throughput_samples_per_sec", p->throughput_samples_per_sec);
	const sc_latency *l = &p->latency;
	if (l->available) {
		set_text(&w, "latency_source", l->source);
		set_real(&w, "latency_mean_ms", l->mean_ms);
		set_real(&w, "latency_p50_ms", l->p50_ms);
		set_real(&w, "latency_p90_ms", l->p90_ms);
		set_real(&w, "latency_p95_ms", l->p95_ms);
		set_real(&w, "latency_p99_ms", l->p99_ms);
		set_real(&w, "latency_p999_ms", l->p999_ms);
		set_real(&w, "latency_max_ms", l->max_ms);
	}
	set_real(&w, "baseline_memory_mb", p->memory.baseline_memory_mb);
	set_real(&w, "peak_memory_mb", p->memory.peak_memory_mb);
	set_real(&w, "memory_increase_mb", p->memory.memory_increase_mb);
	const sc_heap_profile *h = &p->heap;
	if (h->available) {
		set_count(&w, "heap_allocations", h->allocations);
		set_count(&w, "heap_frees", h->frees);
		set_count(&w, "heap_bytes_allocated", h->bytes_allocated);
		set_count(&w, "heap_peak_live_bytes", h->peak_live_bytes);
		set_count(&w, "heap_leaked_blocks", h->leaked_blocks);
		set_count(&w, "heap_leaked_bytes", h->leaked_bytes);
		set_real(&w, "allocations_per_sample", h->allocations_per_sample);
	}
	set_count(&w, "minor_faults", res->minor_faults);
	set_count(&w, "major_faults", res->major_faults);
	set_count(&w, "voluntary_context_switches", res->voluntary_context_switches);
	set_count(&w, "involuntary_context_switches", res->involuntary_context_switches);
	set_count(&w, "read_bytes", res->read_bytes);
	set_count(&w, "write_bytes", res->write_bytes);
	const sc_cpu_profile *c = &p->cpu;
	if (c->available) {
		set_text(&w, "cpu_sampler", c->sampler);
		set_real(&w, "cpu_rate_hz", c->rate_hz);
		set_uint(&w, "cpu_samples", c->samples);
		set_uint(&w, "cpu_lost_samples", c->lost_samples);
	}
	write_row(fp, &w);
}

static void hotspot_row(FILE *fp, const sc_profile *p, size_t index)
{
	const sc_cpu_hotspot *h = &p->cpu.hotspots[index];
	row w = {0};
	identity(&w, p, "hotspot");
	set_uint(&w, "hotspot_rank", index + 1);
	set_text(&w, "function", h->function);
	set_text(&w, "module", h->module);
	set_text(&w, "file", h->file);
	if (h->line > 0)
		set_uint(&w, "line", (uint64_t)h->line);
	set_uint(&w, "self_samples", h->self_samples);
	set_uint(&w, "total_samples", h->total_samples);
	set_real(&w, "self_percent", h->self_percent);
	set_real(&w, "total_percent", h->total_percent);
	write_row(fp, &w);
}

static void run_row(FILE *fp, const sc_profile *p, size_t index)
{
	const sc_run *r = &p->runs[index];
	row w = {0};
	identity(&w, p, "run");
	set_uint(&w, "run", index + 1);
	set_real(&w, "wall_s", r->wall_s);
	set_real(&w, "user_s", r->user_s);
	set_real(&w, "sys_s", r->sys_s);
	set_real(&w, "peak_rss_mb", r->peak_rss_mb);
	set_count(&w, "minor_faults", r->minor_faults);
	set_count(&w, "major_faults", r->major_faults);
	set_count(&w, "voluntary_context_switches", r->voluntary_context_switches);
	set_count(&w, "involuntary_context_switches", r->involuntary_context_switches);
	set_count(&w, "read_bytes", r->read_bytes);
	set_count(&w, "write_bytes", r->write_bytes);
	set_count(&w, "exit_code", r->exit_code);
	/* A signal by number: the JSON's name ("SIGSEGV") is not kept when a report is read back.
	 */
	if (r->signal > 0)
		set_count(&w, "signal", r->signal);
	set_text(&w, "timed_out", r->timed_out ? "true" : "false");
	write_row(fp, &w);
}

int sc__export_csv(const sc_report *r, FILE *fp)
{
	for (size_t i = 0; i < N_COLUMNS; i++) {
		if (i)
			fputc(',', fp);
		fputs(columns[i], fp);
	}
	fputc('\n', fp);
	for (size_t i = 0; i < r->n_profiles; i++) {
		const sc_profile *p = &r->profiles[i];
		profile_row(fp, p);
		for (size_t k = 0; k < p->n_runs; k++)
			run_row(fp, p, k);
		for (size_t k = 0; p->cpu.available && k < p->cpu.n_hotspots; k++)
			hotspot_row(fp, p, k);
	}
	return ferror(fp) ? SC_EIO : 0;
}

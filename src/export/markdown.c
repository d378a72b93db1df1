/* markdown.c: the Markdown export of a report: tables to paste into a pull request. */
#include "internal.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

/*
 * GitHub-flavoured Markdown: one table per section, so a reviewer reads the figures in a PR
 * comment. The output depends on the report alone (no clock, no locale), so tests compare it byte
 * for byte. Figures carry 4 significant digits (enough to compare two runs by eye; the JSON keeps
 * 10), counts are whole numbers, and a figure that was not measured is "n/a", never 0.
 */

/* Heap sites and regions beyond these are in the JSON; a PR comment wants the largest. */
#define MD_SITES   10
#define MD_REGIONS 20
/* The hotspot table's length, and how many of its functions show their hottest lines. */
#define MD_HOTSPOTS     15
#define MD_HOT_FUNCTION 3

/* Text from the user (names, command lines, messages) as one table cell: characters Markdown
 * would read as syntax are escaped, HTML is shown as text, a line break would end the row. */
static void text(FILE *fp, const char *s)
{
	if (!s || !*s) {
		fputs("n/a", fp);
		return;
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '<')
			fputs("&lt;", fp);
		else if (c == '>')
			fputs("&gt;", fp);
		else if (c == '&')
			fputs("&amp;", fp);
		else if (strchr("\\|`*_[]#", c))
			fprintf(fp, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fputc(' ', fp);
		else
			fputc(c, fp);
	}
}

static void percent(FILE *fp, double fraction)
{
	if (!isfinite(fraction)) {
		fputs("n/a", fp);
		return;
	}
	sc__fmt_num(fp, fraction * 100);
	fputc('%', fp);
}

/* ---- header and system ------------------------------------------------------------------- */

static void header(FILE *fp, const sc_report *r)
{
	fputs("# shotclock report\n\n", fp);
	fprintf(fp, "- created: %s\n", r->created[0] ? r->created : "n/a");
	fprintf(fp, "- tool: shotclock %s (schema %s)\n", SC_VERSION, SC_REPORT_SCHEMA);
	if (r->verdict)
		fprintf(fp, "- verdict: **%s**\n",
		        strcmp(r->verdict, "fail") == 0 ? "FAIL" : "PASS");
	else
		fputs("- verdict: not checked\n", fp);
	fputc('\n', fp);
}

static void system_table(FILE *fp, const sc_system_info *s)
{
	fputs("## System\n\n", fp);
	fputs("| cpus | cpu model | kernel | host | memory total (MiB) | memory available (MiB) "
	      "| load 1/5/15 min |\n",
	      fp);
	fputs("| ---: | --- | --- | --- | ---: | ---: | ---: |\n| ", fp);
	sc__fmt_count(fp, s->cpus);
	fputs(" | ", fp);
	text(fp, s->cpu_model);
	fputs(" | ", fp);
	text(fp, s->kernel);
	fputs(" | ", fp);
	text(fp, s->hostname);
	fputs(" | ", fp);
	sc__fmt_num(fp, s->memory_total_mb);
	fputs(" | ", fp);
	sc__fmt_num(fp, s->memory_available_mb);
	fputs(" | ", fp);
	sc__fmt_num(fp, s->load_avg[0]);
	fputs(" / ", fp);
	sc__fmt_num(fp, s->load_avg[1]);
	fputs(" / ", fp);
	sc__fmt_num(fp, s->load_avg[2]);
	fputs(" |\n\n", fp);
}

/* One line per profile: the figures a reviewer compares first. */
static void overview(FILE *fp, const sc_report *r)
{
	fputs("## Profiles\n\n", fp);
	fputs("| profile | kind | runs | samples per run | mean time (s) | throughput (samples/s) "
	      "| p50 (ms) | p99 (ms) | peak memory (MiB) | heap allocations |\n",
	      fp);
	fputs("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n", fp);
	for (size_t i = 0; i < r->n_profiles; i++) {
		const sc_profile *p = &r->profiles[i];
		const sc_latency *l = &p->latency;
		fputs("| ", fp);
		text(fp, p->name);
		fputs(" | ", fp);
		text(fp, p->kind);
		fprintf(fp, " | %zu | %" PRIu64 " | ", p->n_runs, p->n_samples);
		sc__fmt_num(fp, p->total_time.n ? p->total_time.mean : NAN);
		fputs(" | ", fp);
		sc__fmt_num(fp, p->throughput_samples_per_sec);
		fputs(" | ", fp);
		sc__fmt_num(fp, l->available ? l->p50_ms : NAN);
		fputs(" | ", fp);
		sc__fmt_num(fp, l->available ? l->p99_ms : NAN);
		fputs(" | ", fp);
		sc__fmt_num(fp, p->memory.peak_memory_mb);
		fputs(" | ", fp);
		sc__fmt_count(fp, p->heap.available ? p->heap.allocations : -1);
		fputs(" |\n", fp);
	}
	fputc('\n', fp);
}

/* ---- one profile ------------------------------------------------------------------------- */

static void row_num(FILE *fp, const char *label, double v)
{
	fprintf(fp, "| %s | ", label);
	sc__fmt_num(fp, v);
	fputs(" |\n", fp);
}

static void time_table(FILE *fp, const sc_profile *p)
{
	const sc_summary *t = &p->total_time;
	fputs("### Time\n\n| figure | value |\n| --- | ---: |\n", fp);
	fprintf(fp, "| runs | %zu (+%zu warm-up) |\n", p->n_runs, p->n_warmup);
	row_num(fp, "total time, mean (s)", t->n ? t->mean : NAN);
	row_num(fp, "total time, σ (s)", t->n ? t->stddev : NAN);
	fputs("| 95% CI of the mean (s) | ", fp);
	sc__fmt_num(fp, t->ci95_low);
	fputs(" … ", fp);
	sc__fmt_num(fp, t->ci95_high);
	fputs(" |\n", fp);
	fputs("| median / min / max (s) | ", fp);
	sc__fmt_num(fp, t->n ? t->median : NAN);
	fputs(" / ", fp);
	sc__fmt_num(fp, t->n ? t->min : NAN);
	fputs(" / ", fp);
	sc__fmt_num(fp, t->n ? t->max : NAN);
	fputs(" |\n", fp);
	fprintf(fp, "| outliers | %zu |\n", t->outliers);
	row_num(fp, "time per sample (s)", p->avg_time_per_sample);
	row_num(fp, "throughput (samples/s)", p->throughput_samples_per_sec);
	row_num(fp, "CPU user (s)", p->resources.cpu_user_s);
	row_num(fp, "CPU system (s)", p->resources.cpu_sys_s);
	row_num(fp, "CPU utilization (cores)", p->resources.cpu_utilization);
	fputc('\n', fp);
}

static void latency_table(FILE *fp, const sc_latency *l)
{
	if (!l->available)
		return;
	fprintf(fp, "### Latency (ms, %s, %" PRIu64 " values)\n\n", l->source ? l->source : "n/a",
	        l->count);
	fputs("| mean | p50 | p90 | p95 | p99 | p99.9 | max |\n", fp);
	fputs("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n", fp);
	const double v[] = {l->mean_ms, l->p50_ms,  l->p90_ms, l->p95_ms,
	                    l->p99_ms,  l->p999_ms, l->max_ms};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		fputs("| ", fp);
		sc__fmt_num(fp, v[i]);
		fputc(' ', fp);
	}
	fputs("|\n\n", fp);
}

static void memory_table(FILE *fp, const sc_profile *p)
{
	const sc_memory_profile *m = &p->memory;
	fputs("### Memory\n\n", fp);
	fputs("| baseline (MiB) | peak (MiB) | increase (MiB) | minor faults | major faults "
	      "| timeline points |\n",
	      fp);
	fputs("| ---: | ---: | ---: | ---: | ---: | ---: |\n| ", fp);
	sc__fmt_num(fp, m->baseline_memory_mb);
	fputs(" | ", fp);
	sc__fmt_num(fp, m->peak_memory_mb);
	fputs(" | ", fp);
	sc__fmt_num(fp, m->memory_increase_mb);
	fputs(" | ", fp);
	sc__fmt_count(fp, m->minor_faults);
	fputs(" | ", fp);
	sc__fmt_count(fp, m->major_faults);
	fprintf(fp, " | %zu |\n\n", p->n_timeline);
}

/* Where a site is: file:line when symbolized, else module+offset, else the bare address. */
static void site_location(FILE *fp, const sc_heap_site *s)
{
	const sc_heap_frame *f = s->n_frames ? &s->frames[0] : NULL;
	if (f && f->file) {
		text(fp, f->file);
		if (f->line > 0)
			fprintf(fp, ":%d", f->line);
	} else if (f && f->module) {
		text(fp, f->module);
		fprintf(fp, "+0x%" PRIx64, f->offset);
	} else if (f) {
		fprintf(fp, "0x%" PRIx64, f->address);
	} else {
		fputs("n/a", fp);
	}
}

static void heap_table(FILE *fp, const sc_heap_profile *h)
{
	fputs("### Heap\n\n", fp);
	if (!h->available) {
		/* The JSON writes "not measured" for a missing reason; the page reads the same. */
		fputs("Not measured", fp);
		if (h->reason[0] && strcmp(h->reason, "not measured") != 0) {
			fputs(": ", fp);
			text(fp, h->reason);
		}
		fputs(".\n\n", fp);
		return;
	}
	fputs(
	    "| allocations | frees | bytes allocated | temporary | per sample | peak live (bytes) "
	    "| leaked blocks | leaked bytes |\n",
	    fp);
	fputs("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n| ", fp);
	const int64_t c[] = {h->allocations, h->frees, h->bytes_allocated,
	                     h->temporary_allocations};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		sc__fmt_count(fp, c[i]);
		fputs(" | ", fp);
	}
	sc__fmt_num(fp, h->allocations_per_sample);
	fputs(" | ", fp);
	sc__fmt_count(fp, h->peak_live_bytes);
	fputs(" | ", fp);
	sc__fmt_count(fp, h->leaked_blocks);
	fputs(" | ", fp);
	sc__fmt_count(fp, h->leaked_bytes);
	fputs(" |\n\n", fp);
	if (!h->complete) {
		fputs("Incomplete: ", fp);
		text(fp, h->incomplete_reason);
		fputs(".\n\n", fp);
	}
	if (h->n_sites == 0)
		return;
	fprintf(fp, "#### Top allocation sites (%s)\n\n", h->sites_mode ? h->sites_mode : "n/a");
	fputs("| # | function | location | allocations | bytes | leaked bytes |\n", fp);
	fputs("| ---: | --- | --- | ---: | ---: | ---: |\n", fp);
	for (size_t i = 0; i < h->n_sites && i < MD_SITES; i++) {
		const sc_heap_site *s = &h->sites[i];
		fprintf(fp, "| %zu | ", i + 1);
		text(fp, s->n_frames && s->frames[0].function ? s->frames[0].function : "??");
		fputs(" | ", fp);
		site_location(fp, s);
		fputs(" | ", fp);
		sc__fmt_num(fp, s->allocations);
		fputs(" | ", fp);
		sc__fmt_num(fp, s->bytes);
		fputs(" | ", fp);
		sc__fmt_num(fp, s->leaked_bytes);
		fputs(" |\n", fp);
	}
	fputc('\n', fp);
}

/* Where a function is: file:line when symbolized, else its module, else n/a. */
static void function_location(FILE *fp, const sc_cpu_hotspot *h)
{
	if (h->file) {
		text(fp, h->file);
		if (h->line > 0)
			fprintf(fp, ":%d", h->line);
	} else {
		text(fp, h->module);
	}
}

static void sampler_line(FILE *fp, const sc_cpu_profile *c)
{
	fputs("Sampler: ", fp);
	text(fp, c->sampler);
	fprintf(fp, " (%s), ",
	        c->call_graph && strcmp(c->call_graph, "dwarf") == 0 ? "DWARF call graph"
	                                                             : "frame-pointer call graph");
	sc__fmt_num(fp, c->rate_hz);
	fprintf(fp, " Hz, %" PRIu64 " samples (", c->samples);
	sc__fmt_num(fp, c->cpu_s);
	fprintf(fp, " s of CPU), %" PRIu64 " lost; threads: %zu, processes: %zu.\n\n",
	        c->lost_samples, c->threads, c->processes);
	if (c->sampler_note[0]) {
		fputs("Note: ", fp);
		text(fp, c->sampler_note);
		fputs("\n\n", fp);
	}
}

static void cpu_table(FILE *fp, const sc_cpu_profile *c)
{
	fputs("### CPU hotspots\n\n", fp);
	if (!c->available) {
		fputs("Not measured", fp);
		if (c->reason[0] && strcmp(c->reason, "not measured") != 0) {
			fputs(": ", fp);
			text(fp, c->reason);
		}
		fputs(".\n\n", fp);
		return;
	}
	sampler_line(fp, c);
	if (c->n_hotspots == 0) {
		fputs("No samples.\n\n", fp);
		return;
	}
	fputs("| # | function | location | self | self samples | total | total samples |\n", fp);
	fputs("| ---: | --- | --- | ---: | ---: | ---: | ---: |\n", fp);
	for (size_t i = 0; i < c->n_hotspots && i < MD_HOTSPOTS; i++) {
		const sc_cpu_hotspot *h = &c->hotspots[i];
		fprintf(fp, "| %zu | ", i + 1);
		text(fp, h->function);
		fputs(" | ", fp);
		function_location(fp, h);
		fputs(" | ", fp);
		percent(fp, h->self_percent / 100);
		fprintf(fp, " | %" PRIu64 " | ", h->self_samples);
		percent(fp, h->total_percent / 100);
		fprintf(fp, " | %" PRIu64 " |\n", h->total_samples);
	}
	fputc('\n', fp);
	size_t lines = 0;
	for (size_t i = 0; i < c->n_hotspots && i < MD_HOT_FUNCTION; i++)
		lines += c->hotspots[i].n_lines;
	if (lines == 0)
		return;
	fputs("#### Hottest lines\n\n| function | line | samples | of all samples |\n", fp);
	fputs("| --- | --- | ---: | ---: |\n", fp);
	for (size_t i = 0; i < c->n_hotspots && i < MD_HOT_FUNCTION; i++) {
		const sc_cpu_hotspot *h = &c->hotspots[i];
		for (size_t k = 0; k < h->n_lines; k++) {
			const sc_cpu_line *l = &h->lines[k];
			fputs("| ", fp);
			text(fp, h->function);
			fputs(" | ", fp);
			text(fp, l->file);
			if (l->line > 0)
				fprintf(fp, ":%d", l->line);
			fprintf(fp, " | %" PRIu64 " | ", l->samples);
			percent(fp, l->percent / 100);
			fputs(" |\n", fp);
		}
	}
	fputc('\n', fp);
}

static void regions_table(FILE *fp, const sc_profile *p)
{
	if (p->n_regions == 0)
		return;
	/* The CPU columns only when the regions were sampled, so other tables stay as they were. */
	bool sampled = false;
	for (size_t i = 0; i < p->n_regions; i++)
		sampled = sampled || p->regions[i].cpu_samples >= 0;
	fputs("### Regions\n\n", fp);
	fputs("| region | parent | calls | total (s) | self (s) | share | p99 (ms) "
	      "| memory increase (MiB) | allocations |",
	      fp);
	fputs(sampled ? " CPU samples | CPU | hottest function |\n" : "\n", fp);
	fputs("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", fp);
	fputs(sampled ? " ---: | ---: | --- |\n" : "\n", fp);
	for (size_t i = 0; i < p->n_regions && i < MD_REGIONS; i++) {
		const sc_region_stats *g = &p->regions[i];
		fputs("| ", fp);
		text(fp, g->name);
		fputs(" | ", fp);
		text(fp, g->parent[0] ? g->parent : "-");
		fprintf(fp, " | %" PRIu64 " | ", g->calls);
		sc__fmt_num(fp, g->total_s);
		fputs(" | ", fp);
		sc__fmt_num(fp, g->self_s);
		fputs(" | ", fp);
		percent(fp, g->share);
		fputs(" | ", fp);
		sc__fmt_num(fp, g->latency.available ? g->latency.p99_ms : NAN);
		fputs(" | ", fp);
		sc__fmt_num(fp, g->memory_increase_mb);
		fputs(" | ", fp);
		sc__fmt_count(fp, g->allocations);
		if (sampled) {
			fputs(" | ", fp);
			sc__fmt_count(fp, g->cpu_samples);
			fputs(" | ", fp);
			percent(fp, g->cpu_percent / 100);
			fputs(" | ", fp);
			text(fp, g->cpu_top_function);
		}
		fputs(" |\n", fp);
	}
	fputc('\n', fp);
}

static void notes(FILE *fp, const sc_profile *p)
{
	if (p->leak.verdict) {
		fprintf(fp, "### Leak check\n\n**%s** (basis: %s): ", p->leak.verdict,
		        p->leak.basis ? p->leak.basis : "n/a");
		text(fp, p->leak.reason[0] ? p->leak.reason : "no reason given");
		fputs("\n\n", fp);
	}
	if (p->n_warnings) {
		fputs("### Warnings\n\n", fp);
		for (size_t i = 0; i < p->n_warnings; i++) {
			fputs("- **", fp);
			text(fp, p->warnings[i].id);
			fputs("**: ", fp);
			text(fp, p->warnings[i].message);
			fputs(" — ", fp);
			text(fp, p->warnings[i].action);
			fputc('\n', fp);
		}
		fputc('\n', fp);
	}
}

static void profile_section(FILE *fp, const sc_profile *p)
{
	fputs("## Profile: ", fp);
	text(fp, p->name);
	fputs("\n\n", fp);
	fputs("- kind: ", fp);
	text(fp, p->kind);
	fputc('\n', fp);
	if (p->command) {
		fputs("- command: ", fp);
		text(fp, p->command);
		fputc('\n', fp);
	}
	fprintf(fp, "- samples per run: %" PRIu64 "\n\n", p->n_samples);
	time_table(fp, p);
	latency_table(fp, &p->latency);
	memory_table(fp, p);
	heap_table(fp, &p->heap);
	cpu_table(fp, &p->cpu);
	regions_table(fp, p);
	notes(fp, p);
}

/* ---- the analysis ------------------------------------------------------------------------ */

static void comparison_table(FILE *fp, const sc_report *r)
{
	if (r->n_comparison == 0)
		return;
	fprintf(fp, "## Comparison (by %s)\n\n", r->comparison_sort ? r->comparison_sort : "n/a");
	fputs("| rank | profile | relative speed | ± (95%) | significant |\n", fp);
	fputs("| ---: | --- | ---: | ---: | --- |\n", fp);
	for (size_t i = 0; i < r->n_comparison; i++) {
		const sc_comparison_entry *c = &r->comparison[i];
		fprintf(fp, "| %zu | ", c->rank);
		text(fp, c->profile);
		fputs(" | ", fp);
		sc__fmt_num(fp, c->relative_speed);
		fputs("× | ", fp);
		sc__fmt_num(fp, c->relative_speed_error);
		fprintf(fp, " | %s |\n", c->significant ? "yes" : "no");
	}
	fputc('\n', fp);
}

static void findings(FILE *fp, const sc_report *r)
{
	/* No recommendations means no analysis (every analysed profile gets at least one). */
	if (r->n_recommendations == 0)
		return;
	fputs("## Bottlenecks\n\n", fp);
	if (r->n_bottlenecks == 0)
		fputs("None found.\n\n", fp);
	else
		fputs("| severity | profile | region | finding | share | confidence |\n"
		      "| --- | --- | --- | --- | ---: | ---: |\n",
		      fp);
	for (size_t i = 0; i < r->n_bottlenecks; i++) {
		const sc_bottleneck *b = &r->bottlenecks[i];
		fprintf(fp, "| %s | ", sc__fmt_severity(b->severity));
		text(fp, b->profile);
		fputs(" | ", fp);
		text(fp, b->region[0] ? b->region : "-");
		fputs(" | ", fp);
		text(fp, b->message);
		fputs(" | ", fp);
		percent(fp, b->share);
		fputs(" | ", fp);
		sc__fmt_num(fp, b->confidence);
		fputs(" |\n", fp);
	}
	if (r->n_bottlenecks)
		fputc('\n', fp);
	fputs("## Recommendations\n\n", fp);
	fputs("| # | profile | action | expected | evidence |\n| ---: | --- | --- | --- | --- |\n",
	      fp);
	for (size_t i = 0; i < r->n_recommendations; i++) {
		const sc_recommendation *c = &r->recommendations[i];
		fprintf(fp, "| %zu | ", i + 1);
		text(fp, c->profile);
		fputs(" | ", fp);
		text(fp, c->action);
		fputs(" | ", fp);
		text(fp, c->expected);
		fputs(" | ", fp);
		text(fp, c->evidence);
		fputs(" |\n", fp);
	}
	fputc('\n', fp);
}

static void checks_table(FILE *fp, const sc_report *r)
{
	if (r->n_checks == 0)
		return;
	fputs("## Requirement checks\n\n", fp);
	fputs("| requirement | profile | value | bound (95%) | result |\n", fp);
	fputs("| --- | --- | ---: | ---: | --- |\n", fp);
	for (size_t i = 0; i < r->n_checks; i++) {
		const sc_check *c = &r->checks[i];
		fputs("| ", fp);
		text(fp, c->name);
		fputs(" | ", fp);
		text(fp, c->profile);
		fputs(" | ", fp);
		sc__fmt_num(fp, c->value);
		fputs(" | ", fp);
		sc__fmt_num(fp, c->bound);
		fputs(c->pass ? " | pass" : " | **FAIL**", fp);
		if (c->reason[0]) {
			fputs(": ", fp);
			text(fp, c->reason);
		}
		fputs(" |\n", fp);
	}
	fputc('\n', fp);
}

static void regressions_table(FILE *fp, const sc_report *r)
{
	if (r->n_regressions == 0)
		return;
	fputs("## Baseline comparison (allowed worsening ", fp);
	percent(fp, r->max_regression);
	fputs(")\n\n", fp);
	fputs("| profile | metric | old | new | change | ± (95%) | result |\n", fp);
	fputs("| --- | --- | ---: | ---: | ---: | ---: | --- |\n", fp);
	for (size_t i = 0; i < r->n_regressions; i++) {
		const sc_regression *g = &r->regressions[i];
		fputs("| ", fp);
		text(fp, g->profile);
		fputs(" | ", fp);
		text(fp, g->metric);
		fputs(" | ", fp);
		sc__fmt_num(fp, g->old_value);
		fputs(" | ", fp);
		sc__fmt_num(fp, g->new_value);
		fputs(" | ", fp);
		percent(fp, g->change);
		fputs(" | ", fp);
		percent(fp, g->change_error);
		fputs(g->regression    ? " | **regression** |\n"
		      : g->improvement ? " | improvement |\n"
		                       : " | unchanged |\n",
		      fp);
	}
	fputc('\n', fp);
}

int sc__export_markdown(const sc_report *r, FILE *fp)
{
	header(fp, r);
	overview(fp, r);
	comparison_table(fp, r);
	findings(fp, r);
	checks_table(fp, r);
	regressions_table(fp, r);
	for (size_t i = 0; i < r->n_profiles; i++)
		profile_section(fp, &r->profiles[i]);
	system_table(fp, &r->system);
	return ferror(fp) ? SC_EIO : 0;
}

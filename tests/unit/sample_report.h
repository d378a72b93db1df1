/* sample_report.h: the report built by hand that the export tests render against golden files. */
#ifndef SC_TEST_SAMPLE_REPORT_H
#define SC_TEST_SAMPLE_REPORT_H

/* One builder serves test_json_export.c and test_export.c, so the JSON, Markdown, CSV and HTML
 * goldens all render the same report; a change to it changes every golden, on purpose. Every
 * function is static inline: a test that leaves one unused still builds under -Werror
 * (-Wunused-function does not fire on inline functions). */

#include "check.h"
#include "internal.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void fill_system(sc_system_info *s)
{
	*s = (sc_system_info){
	    .cpus = 2,
	    .memory_total_mb = 7936.5,
	    .memory_available_mb = 6120.25,
	    .load_avg = {0.5, 0.25, 0.125},
	    .disk_total_gb = 100,
	    .disk_free_gb = 62.5,
	    .disk_used_percent = 37.5,
	};
	snprintf(s->cpu_model, sizeof s->cpu_model, "Intel(R) Xeon(R) CPU @ 2.20GHz");
	snprintf(s->kernel, sizeof s->kernel, "Linux 6.1.0-13-amd64 x86_64");
	snprintf(s->hostname, sizeof s->hostname, "bench-1");
	snprintf(s->disk_path, sizeof s->disk_path, "/work");
}

static inline sc_run command_run(double wall_s, double user_s, double peak_mb, int64_t faults)
{
	return (sc_run){
	    .wall_s = wall_s,
	    .user_s = user_s,
	    .sys_s = 0.03,
	    .peak_rss_mb = peak_mb,
	    .minor_faults = faults,
	    .major_faults = 0,
	    .voluntary_context_switches = 12,
	    .involuntary_context_switches = 3,
	    .read_bytes = 4096,
	    .write_bytes = -1,
	};
}

/* One frame; strings are copied (the profile owns them). */
static inline sc_heap_frame frame(uint64_t address, const char *module, uint64_t offset,
                                  const char *function, const char *file, int line)
{
	return (sc_heap_frame){
	    .address = address,
	    .module = module ? strdup(module) : NULL,
	    .offset = offset,
	    .function = function ? strdup(function) : NULL,
	    .file = file ? strdup(file) : NULL,
	    .line = line,
	};
}

/* The heap run of "predict", sampled (T = 512 KiB): two sites, the first symbolized as the CLI
 * would, the second with a frame outside every known module. */
static inline int fill_heap(sc_heap_profile *h)
{
	*h = (sc_heap_profile){
	    .available = true,
	    .complete = true,
	    .sites_mode = "sampled",
	    .sample_bytes = 524288,
	    .allocations = 150000,
	    .frees = 149000,
	    .bytes_allocated = 96000000,
	    .temporary_allocations = 42000,
	    .allocations_per_sample = 150000 / 64.0,
	    .live_basis = "usable",
	    .peak_live_bytes = 50331648,
	    .peak_live_s = 0.125,
	    .peak_live_error_bytes = 262144,
	    .leaked_blocks = 1000,
	    .leaked_bytes = 1048576,
	    .lost_blocks = -1,
	    .lost_bytes = -1,
	    .reachable_blocks = -1,
	    .reachable_bytes = -1,
	    .arena_bytes = 54525952,
	    .in_use_bytes = 1310720,
	    .processes = 1,
	    .run_wall_s = 0.5,
	    .slowdown = 0.5 / 0.27,
	    .run_peak_rss_mb = 140.5,
	};
	h->size_buckets[0] = 10;
	h->size_buckets[7] = 100000;
	h->size_buckets[21] = 49990;
	h->sites = calloc(2, sizeof *h->sites);
	if (!h->sites)
		return SC_ENOMEM;
	h->n_sites = 2;
	sc_heap_site *s = &h->sites[0];
	*s = (sc_heap_site){.allocations = 91.5,
	                    .bytes = 48000000,
	                    .leaked_blocks = 0,
	                    .leaked_bytes = 0,
	                    .lost_bytes = NAN,
	                    .bytes_error = 0.1};
	s->frames = calloc(2, sizeof *s->frames);
	if (!s->frames)
		return SC_ENOMEM;
	s->n_frames = 2;
	s->frames[0] =
	    frame(0x555555555189, "/usr/local/bin/predict", 0x1189, "load_batch", "predict.c", 42);
	s->frames[1] =
	    frame(0x7ffff7dd0d90, "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x28d90, NULL, NULL, 0);
	s = &h->sites[1];
	*s = (sc_heap_site){.allocations = 2048,
	                    .bytes = 1048576,
	                    .leaked_blocks = 1024,
	                    .leaked_bytes = 1048576,
	                    .lost_bytes = NAN,
	                    .bytes_error = 0.7071067812};
	s->frames = calloc(1, sizeof *s->frames);
	if (!s->frames)
		return SC_ENOMEM;
	s->n_frames = 1;
	s->frames[0] = frame(0x1234, NULL, 0, NULL, NULL, 0);
	return 0;
}

/* A hotspot; strings are copied. */
static inline sc_cpu_hotspot hotspot(const char *function, const char *module, const char *file,
                                     int line, uint64_t self, uint64_t total)
{
	return (sc_cpu_hotspot){
	    .function = strdup(function),
	    .module = module ? strdup(module) : NULL,
	    .file = file ? strdup(file) : NULL,
	    .line = line,
	    .self_samples = self,
	    .total_samples = total,
	    .self_percent = (double)self / 10,
	    .total_percent = (double)total / 10,
	};
}

/* A stack of up to three frames, outermost first (NULL ends the list); strings are copied. */
static inline int stack(sc_cpu_stack *s, uint64_t samples, const char *f0, const char *f1,
                        const char *f2)
{
	const char *f[] = {f0, f1, f2};
	*s = (sc_cpu_stack){.samples = samples};
	s->frames = calloc(3, sizeof *s->frames);
	if (!s->frames)
		return SC_ENOMEM;
	for (size_t i = 0; i < 3 && f[i]; i++)
		if (!(s->frames[s->n_frames++] = strdup(f[i])))
			return SC_ENOMEM;
	return 0;
}

/* The CPU samples of "predict": 1000 samples at 997 Hz over two threads, four distinct stacks;
 * one function unsymbolized (module+offset) and one named like markup with a ';' in it, which
 * every format must carry as text (and folded must not split). */
static inline int fill_cpu(sc_cpu_profile *c)
{
	*c = (sc_cpu_profile){
	    .available = true,
	    .sampler = "perf_event",
	    .call_graph = "fp",
	    .rate_hz = 997,
	    .samples = 1000,
	    .lost_samples = 3,
	    .threads = 2,
	    .processes = 1,
	    .duration_s = 0.5,
	    .cpu_s = 1000 / 997.0,
	};
	snprintf(c->sampler_note, sizeof c->sampler_note, "frame pointers: exact leaf frames");
	c->hotspots = calloc(5, sizeof *c->hotspots);
	c->stacks = calloc(4, sizeof *c->stacks);
	if (!c->hotspots || !c->stacks)
		return SC_ENOMEM;
	c->n_hotspots = 5;
	c->hotspots[0] = hotspot("gbm_predict_row", "/usr/local/bin/predict",
	                         "examples/nba/models.c", 212, 610, 610);
	c->hotspots[1] = hotspot("load_batch", "/usr/local/bin/predict", "predict.c", 40, 250, 950);
	c->hotspots[2] =
	    hotspot("libm.so.6+0x1a2b", "/usr/lib/x86_64-linux-gnu/libm.so.6", NULL, 0, 90, 90);
	c->hotspots[3] = hotspot("<script>x;y</script>", NULL, NULL, 0, 50, 50);
	c->hotspots[4] = hotspot("main", "/usr/local/bin/predict", "predict.c", 10, 0, 1000);
	sc_cpu_hotspot *h = &c->hotspots[0];
	h->lines = calloc(2, sizeof *h->lines);
	if (!h->lines)
		return SC_ENOMEM;
	h->n_lines = 2;
	h->lines[0] = (sc_cpu_line){strdup("examples/nba/models.c"), 215, 400, 40};
	h->lines[1] = (sc_cpu_line){strdup("examples/nba/models.c"), 218, 210, 21};
	h = &c->hotspots[1];
	h->lines = calloc(1, sizeof *h->lines);
	if (!h->lines)
		return SC_ENOMEM;
	h->n_lines = 1;
	h->lines[0] = (sc_cpu_line){strdup("predict.c"), 44, 250, 25};
	c->n_stacks = 4;
	if (stack(&c->stacks[0], 610, "main", "load_batch", "gbm_predict_row") ||
	    stack(&c->stacks[1], 250, "main", "load_batch", NULL) ||
	    stack(&c->stacks[2], 90, "main", "load_batch", "libm.so.6+0x1a2b") ||
	    stack(&c->stacks[3], 50, "main", "<script>x;y</script>", NULL))
		return SC_ENOMEM;
	return 0;
}

/* "predict": three runs of a command (the last killed by SIGSEGV, kept with --ignore-failure),
 * with figures derived from them as sc__profile_derive_from_runs would, written out here. */
static inline int add_command_profile(sc_report *r)
{
	sc_profile p = {.kind = "command", .n_samples = 64, .n_warmup = 1, .n_runs = 3};
	p.name = strdup("predict");
	p.command = strdup("./predict --batch 64");
	p.runs = calloc(3, sizeof *p.runs);
	p.timeline = calloc(3, sizeof *p.timeline);
	if (!p.name || !p.command || !p.runs || !p.timeline) {
		sc_profile_release(&p);
		return SC_ENOMEM;
	}
	p.runs[0] = command_run(0.25, 0.2, 120.5, 3000);
	p.runs[1] = command_run(0.26, 0.21, 121.25, 3010);
	p.runs[2] = command_run(0.30, 0.22, 130.25, 3050);
	p.runs[2].exit_code = -1;
	p.runs[2].signal = 11;
	p.total_time = (sc_summary){
	    .n = 3,
	    .mean = 0.27,
	    .stddev = 0.026457513110645897,
	    .median = 0.26,
	    .min = 0.25,
	    .max = 0.30,
	    .mad = 0.01,
	    .ci95_low = 0.20427589392271572,
	    .ci95_high = 0.3357241060772843,
	    .outliers = 0,
	};
	p.avg_time_per_sample = 0.00421875;
	p.throughput_samples_per_sec = 237.037037037037;
	p.latency = (sc_latency){
	    .available = true,
	    .count = 3,
	    .mean_ms = 4.21875,
	    .p50_ms = 4.0625,
	    .p90_ms = 4.5625,
	    .p95_ms = 4.625,
	    .p99_ms = 4.675,
	    .p999_ms = 4.68625,
	    .max_ms = 4.6875,
	    .source = "per-run",
	};
	p.memory = (sc_memory_profile){
	    .baseline_memory_mb = 0,
	    .peak_memory_mb = 130.25,
	    .memory_increase_mb = 130.25,
	    .peak_reset = true,
	    .minor_faults = 3020,
	    .major_faults = 0,
	};
	p.resources = (sc_resources){
	    .cpu_user_s = 0.21,
	    .cpu_sys_s = 0.03,
	    .cpu_utilization = 0.24 / 0.27,
	    .read_bytes = 4096,
	    .write_bytes = -1,
	    .minor_faults = 3020,
	    .major_faults = 0,
	    .voluntary_context_switches = 12,
	    .involuntary_context_switches = 3,
	};
	p.n_timeline = 3;
	p.timeline[0] =
	    (sc_timeline_point){.t_s = 0, .rss_mb = 1.5, .cpu_percent = 0, .processes = 1};
	p.timeline[1] = (sc_timeline_point){0.01, 64.75, 98.5, 1};
	p.timeline[2] = (sc_timeline_point){0.02, 130.25, 100, 2};
	p.timeline_interval_s = 0.01;
	if (fill_heap(&p.heap) != 0 || fill_cpu(&p.cpu) != 0) {
		sc_profile_release(&p);
		return SC_ENOMEM;
	}
	sc__warning_push(
	    &p, "failed-runs", "fix the command, or check that these failures are expected",
	    "%d of %d runs failed (non-zero exit, signal or timeout) and were kept with "
	    "--ignore-failure: figures include them",
	    1, 3);
	sc__unavailable_push(&p, "runs.write_bytes",
	                     "storage writes were not counted on this system");
	sc__unavailable_push(&p, "resources.write_bytes", "storage writes were not counted");
	int err = sc_report_add_profile(r, &p);
	if (err)
		sc_profile_release(&p);
	return err;
}

/* "predict_one": every sample timed in-process; no runs, no timeline, one total. */
static inline int add_samples_profile(sc_report *r)
{
	sc_profile p = {.kind = "samples", .n_samples = 1000, .name = strdup("predict_one")};
	if (!p.name)
		return SC_ENOMEM;
	p.total_time = (sc_summary){.n = 1,
	                            .mean = 0.125,
	                            .median = 0.125,
	                            .min = 0.125,
	                            .max = 0.125,
	                            .ci95_low = NAN,
	                            .ci95_high = NAN};
	p.avg_time_per_sample = 0.000125;
	p.throughput_samples_per_sec = 8000;
	p.latency = (sc_latency){
	    .available = true,
	    .count = 1000,
	    .mean_ms = 0.125,
	    .p50_ms = 0.1171875,
	    .p90_ms = 0.140625,
	    .p95_ms = 0.15625,
	    .p99_ms = 0.25,
	    .p999_ms = 0.5,
	    .max_ms = 1.03125,
	    .source = "per-sample",
	};
	p.memory = (sc_memory_profile){.baseline_memory_mb = 50.5,
	                               .peak_memory_mb = 52.75,
	                               .memory_increase_mb = 2.25,
	                               .peak_reset = true,
	                               .minor_faults = 576,
	                               .major_faults = 0};
	p.resources = (sc_resources){.cpu_user_s = 0.12,
	                             .cpu_sys_s = 0.004,
	                             .cpu_utilization = 0.992,
	                             .read_bytes = 0,
	                             .write_bytes = 0,
	                             .minor_faults = 576,
	                             .major_faults = 0,
	                             .voluntary_context_switches = 0,
	                             .involuntary_context_switches = 7};
	p.timeline_interval_s = NAN;
	snprintf(p.cpu.reason, sizeof p.cpu.reason,
	         "not sampled: sc_profiler_sample_cpu was not called");
	sc__unavailable_push(
	    &p, "memory.timeline_interval_s",
	    "in-process profiles sample no memory timeline; profiling the program as "
	    "a command (shotclock run) records one");
	sc__unavailable_push(&p, "time.total_time.ci95",
	                     "one timed value has no spread to build a confidence interval from; "
	                     "time more runs");
	int err = sc_report_add_profile(r, &p);
	if (err)
		sc_profile_release(&p);
	return err;
}

/* The analysis sections, by hand: one finding with its recommendation, one requirement check,
 * one baseline comparison, and a leak check on "predict". */
static inline int add_analysis(sc_report *r)
{
	r->bottlenecks = calloc(1, sizeof *r->bottlenecks);
	r->recommendations = calloc(1, sizeof *r->recommendations);
	r->checks = calloc(1, sizeof *r->checks);
	r->regressions = calloc(1, sizeof *r->regressions);
	if (!r->bottlenecks || !r->recommendations || !r->checks || !r->regressions)
		return SC_ENOMEM;
	sc_bottleneck *b = &r->bottlenecks[0];
	*b = (sc_bottleneck){.severity = SC_SEVERITY_CRITICAL, .share = 0.28, .confidence = 0.75};
	snprintf(b->id, sizeof b->id, "allocation-churn");
	snprintf(b->profile, sizeof b->profile, "predict");
	snprintf(b->message, sizeof b->message,
	         "2,344 allocations per prediction, 28%% freed immediately");
	b->evidence[0] = (sc_evidence){"allocations_per_sample", 2343.75, ""};
	b->evidence[1] = (sc_evidence){"temporary_percent", 28, "%"};
	b->evidence[2] = (sc_evidence){"allocations_per_s", NAN, "1/s"};
	b->n_evidence = 3;
	r->n_bottlenecks = 1;
	sc_recommendation *c = &r->recommendations[0];
	*c = (sc_recommendation){.share = 0.28};
	snprintf(c->id, sizeof c->id, "object-pool");
	snprintf(c->finding, sizeof c->finding, "allocation-churn");
	snprintf(c->profile, sizeof c->profile, "predict");
	snprintf(c->action, sizeof c->action, "reuse buffers through an object pool");
	snprintf(c->expected, sizeof c->expected, "20-40%% less memory (seed: object pooling)");
	snprintf(c->evidence, sizeof c->evidence, "2,344 allocations per prediction");
	r->n_recommendations = 1;
	sc_check *k = &r->checks[0];
	*k = (sc_check){.limit = 4, .value = 4.21875, .bound = 4.5, .pass = false};
	snprintf(k->name, sizeof k->name, "latency_ms<=4");
	snprintf(k->profile, sizeof k->profile, "predict");
	snprintf(k->metric, sizeof k->metric, "latency_ms");
	snprintf(k->op, sizeof k->op, "<=");
	r->n_checks = 1;
	sc_regression *g = &r->regressions[0];
	*g = (sc_regression){.old_value = 0.25,
	                     .new_value = 0.27,
	                     .change = 0.08,
	                     .change_error = NAN,
	                     .method = "welch-t",
	                     .regression = false,
	                     .improvement = false};
	snprintf(g->profile, sizeof g->profile, "predict");
	snprintf(g->metric, sizeof g->metric, "total_time");
	r->n_regressions = 1;
	r->max_regression = 0.1;
	r->verdict = "fail";
	r->profiles[0].leak = (sc_leak_result){.verdict = "plateau",
	                                       .basis = "rss",
	                                       .iterations = 3,
	                                       .warmup = 0,
	                                       .slope_bytes = 1048576,
	                                       .slope_ci95_low = -2097152,
	                                       .slope_ci95_high = 4194304,
	                                       .second_half_slope_bytes = 0,
	                                       .total_growth_bytes = 2097152,
	                                       .reason = "grew then stopped"};
	return 0;
}

/* The whole of a file, NUL-terminated, its length in *len; NULL when it cannot be read. */
static inline char *read_all(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	char *buf = NULL;
	if (fseek(fp, 0, SEEK_END) == 0) {
		long size = ftell(fp);
		rewind(fp);
		buf = size >= 0 ? malloc((size_t)size + 1) : NULL;
		if (buf) {
			*len = fread(buf, 1, (size_t)size, fp);
			buf[*len] = '\0';
		}
	}
	fclose(fp);
	return buf;
}

#endif

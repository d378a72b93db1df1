/* test_report_read.c: reports read back field for field after export, and every kind of bad file
 * refused with one exact line. */
#include "check.h"
#include "internal.h"
#include "sample_report.h"

#include <unistd.h>

static char dir[64];

static char *path_of(const char *name)
{
	static char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return path;
}

static void test_round_trip(void)
{
	sc_report *r = NULL;
	CHECK_INT(sc_report_new(&r), 0);
	sc_profile p = {
	    .name = strdup("predict"), .kind = "command", .n_samples = 250, .n_warmup = 2};
	p.command = strdup("./predict --fast");
	const double walls[] = {0.5, 0.52, 0.51, 0.49};
	p.runs = calloc(4, sizeof *p.runs);
	p.n_runs = 4;
	for (size_t i = 0; i < 4; i++)
		p.runs[i] = (sc_run){.wall_s = walls[i],
		                     .user_s = 0.25,
		                     .sys_s = 0.125,
		                     .peak_rss_mb = 40.5 + (double)i,
		                     .minor_faults = 100,
		                     .major_faults = 0,
		                     .voluntary_context_switches = 3,
		                     .involuntary_context_switches = -1,
		                     .read_bytes = 4096,
		                     .write_bytes = -1};
	CHECK_INT(sc__profile_derive_from_runs(&p), 0);
	p.memory = (sc_memory_profile){.baseline_memory_mb = 0,
	                               .peak_memory_mb = 43.5,
	                               .memory_increase_mb = 43.5,
	                               .minor_faults = 100,
	                               .major_faults = 0};
	p.timeline_interval_s = 0.01;
	p.heap = (sc_heap_profile){.available = true,
	                           .complete = true,
	                           .sites_mode = "sampled",
	                           .sample_bytes = 524288,
	                           .allocations = 1234,
	                           .frees = 1200,
	                           .bytes_allocated = 99999,
	                           .temporary_allocations = 7,
	                           .allocations_per_sample = 4.936,
	                           .live_basis = "usable",
	                           .peak_live_bytes = 65536,
	                           .peak_live_error_bytes = 0,
	                           .leaked_blocks = 34,
	                           .leaked_bytes = 2048,
	                           .lost_blocks = -1,
	                           .lost_bytes = -1,
	                           .reachable_blocks = -1,
	                           .reachable_bytes = -1,
	                           .arena_bytes = -1,
	                           .in_use_bytes = -1,
	                           .processes = 1,
	                           .run_wall_s = 0.6,
	                           .slowdown = 1.2,
	                           .run_peak_rss_mb = 44};
	sc__unavailable_push(&p, "memory.baseline_memory_mb", "a command starts from nothing");
	sc_profile expected = p;
	CHECK_INT(sc_report_add_profile(r, &p), 0);
	const sc_profile *e = &r->profiles[0];
	(void)expected;

	char *path = path_of("round.json");
	CHECK_INT(sc_report_export_json(r, path), 0);
	sc_report *back = NULL;
	char err[512];
	int rc = sc_report_read_json(path, &back, err, sizeof err);
	CHECK_INT(rc, 0);
	if (rc) {
		fprintf(stderr, "  %s\n", err);
		sc_report_free(r);
		return;
	}
	CHECK_STR(back->created, r->created);
	CHECK_INT(back->system.cpus, r->system.cpus);
	CHECK_STR(back->system.kernel, r->system.kernel);
	CHECK(isnan(back->max_regression));
	CHECK_INT(back->n_profiles, 1);
	const sc_profile *b = &back->profiles[0];
	CHECK_STR(b->name, "predict");
	CHECK_STR(b->kind, "command");
	CHECK_STR(b->command, "./predict --fast");
	CHECK_INT(b->n_samples, 250);
	CHECK_INT(b->n_warmup, 2);
	CHECK_INT(b->n_runs, 4);
	/* Reals travel with 10 significant digits (json.c). */
	for (size_t i = 0; i < 4 && i < b->n_runs; i++) {
		CHECK_NEAR(b->runs[i].wall_s, walls[i], 1e-12);
		CHECK_NEAR(b->runs[i].peak_rss_mb, 40.5 + (double)i, 1e-9);
		CHECK_INT(b->runs[i].minor_faults, 100);
		CHECK_INT(b->runs[i].involuntary_context_switches, -1);
		CHECK_INT(b->runs[i].write_bytes, -1);
	}
	CHECK_INT(b->total_time.n, 4);
	CHECK_NEAR(b->total_time.mean, e->total_time.mean, 1e-9);
	CHECK_NEAR(b->total_time.stddev, e->total_time.stddev, 1e-9);
	CHECK_NEAR(b->total_time.ci95_low, e->total_time.ci95_low, 1e-9);
	CHECK_NEAR(b->total_time.ci95_high, e->total_time.ci95_high, 1e-9);
	CHECK_NEAR(b->avg_time_per_sample, e->avg_time_per_sample, 1e-12);
	CHECK_NEAR(b->throughput_samples_per_sec, e->throughput_samples_per_sec, 1e-6);
	CHECK(b->latency.available);
	CHECK_STR(b->latency.source, "per-run");
	CHECK_INT(b->latency.count, 4);
	CHECK_NEAR(b->latency.p99_ms, e->latency.p99_ms, 1e-7);
	CHECK_NEAR(b->memory.peak_memory_mb, 43.5, 0);
	CHECK_NEAR(b->memory.memory_increase_mb, 43.5, 0);
	CHECK(b->heap.available);
	CHECK_STR(b->heap.sites_mode, "sampled");
	CHECK_STR(b->heap.live_basis, "usable");
	CHECK_INT(b->heap.allocations, 1234);
	CHECK_INT(b->heap.leaked_bytes, 2048);
	CHECK_INT(b->heap.lost_bytes, -1);
	CHECK_NEAR(b->heap.allocations_per_sample, 4.936, 1e-12);
	CHECK_NEAR(b->resources.cpu_utilization, e->resources.cpu_utilization, 1e-9);
	CHECK_INT(b->resources.read_bytes, 4096);
	CHECK_INT(b->n_unavailable, 1);
	CHECK_STR(b->unavailable[0].field, "memory.baseline_memory_mb");
	CHECK_STR(b->unavailable[0].reason, "a command starts from nothing");

	/* A report read back compares with itself as an identical rerun. */
	CHECK_INT(sc_report_compare_baseline(back, r, 0.05), 0);
	for (size_t i = 0; i < back->n_regressions; i++)
		CHECK(!back->regressions[i].regression);
	sc_report_free(back);
	sc_report_free(r);
	unlink(path);
}

/* The cpu section and the regions' CPU figures read back so exactly that the JSON written again is
 * the same text, byte for byte. */
static void test_cpu_round_trip(void)
{
	sc_report r = {.created = "2026-11-25T04:50:00Z", .max_regression = NAN};
	fill_system(&r.system);
	CHECK_INT(add_command_profile(&r), 0);
	CHECK_INT(add_samples_profile(&r), 0);
	sc_profile *p = &r.profiles[0];
	p->regions = calloc(2, sizeof *p->regions);
	CHECK(p->regions != NULL);
	if (p->regions) {
		p->n_regions = 2;
		p->regions[0] = (sc_region_stats){.name = "predict",
		                                  .calls = 3,
		                                  .total_s = 0.2,
		                                  .self_s = 0.2,
		                                  .share = 1,
		                                  .allocations = -1,
		                                  .bytes_allocated = -1,
		                                  .cpu_samples = 610,
		                                  .cpu_percent = 61,
		                                  .cpu_top_function = "gbm_predict_row"};
		p->regions[1] = (sc_region_stats){.name = "idle",
		                                  .calls = 1,
		                                  .allocations = -1,
		                                  .bytes_allocated = -1,
		                                  .cpu_samples = -1,
		                                  .cpu_percent = NAN};
	}
	char *first = NULL, *second = NULL;
	size_t first_len = 0, second_len = 0;
	FILE *fp = open_memstream(&first, &first_len);
	CHECK_INT(sc_report_write(&r, "json", fp), 0);
	fclose(fp);
	sc_report *back = NULL;
	char err[512] = "";
	CHECK_INT(sc__report_read_json_text(first, first_len, "trip", &back, err, sizeof err), 0);
	if (err[0])
		fprintf(stderr, "  %s\n", err);
	if (back) {
		const sc_cpu_profile *c = &back->profiles[0].cpu;
		CHECK(c->available);
		CHECK_STR(c->sampler, "perf_event");
		CHECK_STR(c->call_graph, "fp");
		CHECK_INT(c->samples, 1000);
		CHECK_INT(c->n_hotspots, 5);
		CHECK_INT(c->n_stacks, 4);
		CHECK(c->n_hotspots == 5 && c->hotspots[2].file == NULL &&
		      c->hotspots[2].line == 0);
		CHECK(c->n_stacks == 4 && c->stacks[3].n_frames == 2);
		CHECK(c->n_stacks == 4 &&
		      strcmp(c->stacks[3].frames[1], "<script>x;y</script>") == 0);
		CHECK(!back->profiles[1].cpu.available);
		CHECK_STR(back->profiles[1].cpu.reason,
		          "not sampled: sc_profiler_sample_cpu was not called");
		CHECK_INT(back->profiles[0].regions[0].cpu_samples, 610);
		CHECK_INT(back->profiles[0].regions[1].cpu_samples, -1);
		CHECK(isnan(back->profiles[0].regions[1].cpu_percent));
		CHECK_STR(back->profiles[0].regions[1].cpu_top_function, "");
		fp = open_memstream(&second, &second_len);
		CHECK_INT(sc_report_write(back, "json", fp), 0);
		fclose(fp);
		CHECK(first && second && strcmp(first, second) == 0);
	}
	free(first);
	free(second);
	sc_report_free(back);
	for (size_t i = 0; i < r.n_profiles; i++)
		sc_profile_release(&r.profiles[i]);
	free(r.profiles);
}

/* A report written before CPU sampling existed: no cpu section, regions without CPU figures. */
static void test_cpu_absent(void)
{
	static const char old[] =
	    "{\"schema\": \"shotclock.report/1\", \"profiles\": [{\"name\": \"a\", \"regions\": "
	    "[{\"name\": \"r\", \"calls\": 1}]}]}";
	sc_report *r = NULL;
	char err[512] = "";
	CHECK_INT(sc__report_read_json_text(old, sizeof old - 1, "old", &r, err, sizeof err), 0);
	if (!r)
		return;
	CHECK(!r->profiles[0].cpu.available);
	CHECK_STR(r->profiles[0].cpu.reason, "not in this report");
	CHECK(r->profiles[0].cpu.sampler == NULL);
	CHECK_INT(r->profiles[0].n_regions, 1);
	CHECK_INT(r->profiles[0].regions[0].cpu_samples, -1);
	CHECK(isnan(r->profiles[0].regions[0].cpu_percent));
	CHECK_STR(r->profiles[0].regions[0].cpu_top_function, "");
	sc_report_free(r);
}

/* text, written to a file, is refused with SC_EPARSE and exactly this message. */
static void bad(const char *name, const char *text, size_t len, const char *message)
{
	char *path = path_of(name);
	FILE *fp = fopen(path, "wb");
	CHECK(fp != NULL);
	if (!fp)
		return;
	fwrite(text, 1, len, fp);
	fclose(fp);
	sc_report *r = (sc_report *)1;
	char err[512];
	CHECK_INT(sc_report_read_json(path, &r, err, sizeof err), SC_EPARSE);
	CHECK(r == NULL);
	char want[600];
	snprintf(want, sizeof want, "%s: %s", path, message);
	CHECK_STR(err, want);
	unlink(path);
}

#define BAD(name, text, message) bad(name, text, sizeof text - 1, message)

static void test_bad_files(void)
{
	BAD("empty.json", "", "the file is empty");
	BAD("blank.json", " \n\t\n", "the file is empty");
	BAD("truncated.json", "{\"schema\": \"shotclock.report/1\", \"profiles\": [",
	    "line 1, column 46: ']' expected near end of file");
	BAD("garbage.json", "{\"schema\": \"shotclock.report/1\"} x",
	    "line 1, column 34: end of file expected near 'x'");
	BAD("schema.json", "{\"schema\": \"shotclock.report/2\", \"profiles\": []}",
	    "schema 'shotclock.report/2' is not shotclock.report/1");
	BAD("noschema.json", "{\"profiles\": []}", "no 'schema' field: not a shotclock report");
	BAD("array.json", "[1, 2]",
	    "not a shotclock report (the top level is an array, not an object)");
	BAD("dup.json", "{\"schema\": \"shotclock.report/1\", \"schema\": \"x\"}",
	    "line 1, column 41: duplicate object key near '\"schema\"'");
	BAD("noprofiles.json", "{\"schema\": \"shotclock.report/1\"}",
	    "no 'profiles' field: not a shotclock report");
	BAD("type.json",
	    "{\"schema\": \"shotclock.report/1\", \"profiles\": [{\"name\": \"a\", \"runs\": "
	    "[{\"wall_s\": \"fast\"}]}]}",
	    "profiles[0].runs[0].wall_s: expected a number, found a string");
	BAD("zero.json",
	    "{\"schema\": \"shotclock.report/1\", \"profiles\": [{\"name\": \"a\", \"runs\": "
	    "[{\"wall_s\": 1}, {\"wall_s\": 0}]}]}",
	    "profiles[0].runs[1].wall_s: expected a time above 0 seconds");
	BAD("negative.json",
	    "{\"schema\": \"shotclock.report/1\", \"profiles\": [{\"name\": \"a\", \"heap\": "
	    "{\"available\": true, \"allocations\": -5}}]}",
	    "profiles[0].heap.allocations: -5 is negative");
	BAD("ci.json",
	    "{\"schema\": \"shotclock.report/1\", \"profiles\": [{\"name\": \"a\", \"time\": "
	    "{\"total_time\": {\"ci95\": [1]}}}]}",
	    "profiles[0].time.total_time.ci95: expected [low, high], two numbers");
	BAD("noname.json", "{\"schema\": \"shotclock.report/1\", \"profiles\": [{}]}",
	    "profiles[0].name: expected the profile's name, a non-empty string");
	BAD("twice.json",
	    "{\"schema\": \"shotclock.report/1\", \"profiles\": [{\"name\": \"a\"}, {\"name\": "
	    "\"a\"}]}",
	    "profiles[1]: a second profile named 'a'");
	/* The sections the exports show are checked as strictly as the figures. */
	BAD("bottleneck.json",
	    "{\"schema\": \"shotclock.report/1\", \"profiles\": [], \"bottlenecks\": [1]}",
	    "bottlenecks[0]: expected an object, found a number");
	BAD("site.json",
	    "{\"schema\": \"shotclock.report/1\", \"profiles\": [{\"name\": \"a\", \"heap\": "
	    "{\"available\": true, \"sites\": [{\"frames\": [{\"line\": \"x\"}]}]}}]}",
	    "profiles[0].heap.sites[0].frames[0].line: expected a whole number, found a string");
	BAD("timeline.json",
	    "{\"schema\": \"shotclock.report/1\", \"profiles\": [{\"name\": \"a\", \"memory\": "
	    "{\"timeline\": {}}}]}",
	    "profiles[0].memory.timeline: expected an array, found an object");
	BAD("region.json",
	    "{\"schema\": \"shotclock.report/1\", \"profiles\": [{\"name\": \"a\", \"regions\": "
	    "[{\"name\": \"r\", \"calls\": -1}]}]}",
	    "profiles[0].regions[0].calls: -1 is negative");
	BAD("comparison.json",
	    "{\"schema\": \"shotclock.report/1\", \"profiles\": [], \"comparison\": {\"sort\": "
	    "\"throughput\", \"entries\": [{\"relative_speed\": \"fast\"}]}}",
	    "comparison.entries[0].relative_speed: expected a number, found a string");
	/* The cpu section, as strictly. */
	BAD("cpu.json",
	    "{\"schema\": \"shotclock.report/1\", \"profiles\": [{\"name\": \"a\", \"cpu\": "
	    "{\"available\": \"yes\"}}]}",
	    "profiles[0].cpu.available: expected true or false, found a string");
	BAD("cpu_rate.json",
	    "{\"schema\": \"shotclock.report/1\", \"profiles\": [{\"name\": \"a\", \"cpu\": "
	    "{\"available\": true, \"sampler\": {\"rate_hz\": \"fast\"}}}]}",
	    "profiles[0].cpu.sampler.rate_hz: expected a number, found a string");
	BAD("cpu_hotspot.json",
	    "{\"schema\": \"shotclock.report/1\", \"profiles\": [{\"name\": \"a\", \"cpu\": "
	    "{\"available\": true, \"hotspots\": [{\"function\": \"f\", \"samples\": -1}]}}]}",
	    "profiles[0].cpu.hotspots[0].samples: -1 is negative");
	BAD("cpu_line.json",
	    "{\"schema\": \"shotclock.report/1\", \"profiles\": [{\"name\": \"a\", \"cpu\": "
	    "{\"available\": true, \"hotspots\": [{\"lines\": [{\"line\": 1.5}]}]}}]}",
	    "profiles[0].cpu.hotspots[0].lines[0].line: expected a whole number, found a number");
	BAD("cpu_frame.json",
	    "{\"schema\": \"shotclock.report/1\", \"profiles\": [{\"name\": \"a\", \"cpu\": "
	    "{\"available\": true, \"stacks\": [{\"frames\": [\"main\", 7], \"samples\": 1}]}}]}",
	    "profiles[0].cpu.stacks[0].frames[1]: expected a string, found a number");
	BAD("cpu_stacks.json",
	    "{\"schema\": \"shotclock.report/1\", \"profiles\": [{\"name\": \"a\", \"cpu\": "
	    "{\"available\": true, \"stacks\": {}}}]}",
	    "profiles[0].cpu.stacks: expected an array, found an object");
	BAD("region_cpu.json",
	    "{\"schema\": \"shotclock.report/1\", \"profiles\": [{\"name\": \"a\", \"regions\": "
	    "[{\"name\": \"r\", \"cpu_percent\": \"half\"}]}]}",
	    "profiles[0].regions[0].cpu_percent: expected a number, found a string");
	/* A newline inside a broken string, which jansson's message quotes: the refusal stays one
	 * line (found by fuzz_report_read). */
	BAD("escape.json", "{\"sc\\\n\": 1}", "line 2, column 0: invalid escape near '\"sc\\?'");
	/* jansson reads a NUL byte as the end of the text. */
	BAD("nul.json", "{\"schema\": \"shotclock.report/1\"\0}",
	    "line 1, column 32: '}' expected near end of file");

	/* 100000 '[': refused by the depth check before the parser recurses. */
	size_t n = 100000;
	char *deep = malloc(n);
	memset(deep, '[', n);
	bad("deep.json", deep, n, "line 1, column 65: nested deeper than 64 levels");
	/* Brackets inside strings do not count. */
	memset(deep, 'x', n);
	memcpy(deep, "{\"schema\": \"", 12);
	memset(deep + 12, '[', 1000);
	memcpy(deep + 1012, "\", \"profiles\": []}", 18);
	bad("strings.json", deep, 1030,
	    "schema '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[' is not "
	    "shotclock.report/1");
	free(deep);

	/* A missing file is an I/O error with errno's sentence. */
	sc_report *r;
	char err[512];
	CHECK_INT(sc_report_read_json(path_of("missing.json"), &r, err, sizeof err), SC_EIO);
	char want[256];
	snprintf(want, sizeof want, "%s: cannot open: No such file or directory",
	         path_of("missing.json"));
	CHECK_STR(err, want);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/sc-report-read.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_round_trip();
	test_cpu_round_trip();
	test_cpu_absent();
	test_bad_files();
	rmdir(dir);
	return CHECK_DONE();
}

/* test_json_export.c: the JSON report, byte for byte against a golden file, and its null rules. */
#include "check.h"
#include "internal.h"
#include "sample_report.h"

#include <errno.h>
#include <jansson.h>
#include <unistd.h>

static char dir[64];

/* Every null inside a profile must be explained by an "unavailable" entry with its dotted path
 * (array elements share their array's path), except the few nulls the format defines: a command
 * in-process, the exit code and signal of a run that was killed or exited, and the heap and cpu
 * sections' and the regions' CPU figures, which docs/report-format.md defines field by field. */
static void check_nulls_explained(json_t *value, const char *path, json_t *unavailable)
{
	if (json_is_null(value)) {
		bool by_definition =
		    strcmp(path, "command") == 0 || strcmp(path, "runs.exit_code") == 0 ||
		    strcmp(path, "runs.signal") == 0 || strncmp(path, "heap.", 5) == 0 ||
		    strcmp(path, "leak") == 0 || strncmp(path, "cpu.", 4) == 0 ||
		    strncmp(path, "regions.cpu_", 12) == 0;
		if (!by_definition && !json_object_get(unavailable, path))
			fprintf(stderr, "null without a reason: %s\n", path);
		CHECK(by_definition || json_object_get(unavailable, path));
	} else if (json_is_array(value)) {
		size_t i;
		json_t *item;
		json_array_foreach(value, i, item) check_nulls_explained(item, path, unavailable);
	} else if (json_is_object(value)) {
		const char *key;
		json_t *item;
		json_object_foreach(value, key, item)
		{
			if (!*path &&
			    (strcmp(key, "unavailable") == 0 || strcmp(key, "warnings") == 0))
				continue;
			char sub[128];
			snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
			check_nulls_explained(item, sub, unavailable);
		}
	}
}

static void check_profiles_nulls(json_t *root)
{
	size_t i;
	json_t *profile;
	json_array_foreach(json_object_get(root, "profiles"), i, profile)
	    check_nulls_explained(profile, "", json_object_get(profile, "unavailable"));
}

static void test_golden(void)
{
	sc_report r = {.created = "2026-11-25T04:50:00Z"};
	fill_system(&r.system);
	CHECK_INT(add_command_profile(&r), 0);
	CHECK_INT(add_samples_profile(&r), 0);
	CHECK_INT(r.n_profiles, 2);
	CHECK_INT(add_analysis(&r), 0);
	/* A deep copy exports the same bytes: the copy is exported, the original released. */
	sc_profile copy;
	CHECK_INT(sc__profile_copy(&copy, &r.profiles[0]), 0);
	CHECK(copy.heap.sites != r.profiles[0].heap.sites);
	CHECK(copy.heap.sites[0].frames[0].function !=
	      r.profiles[0].heap.sites[0].frames[0].function);
	CHECK_STR(copy.heap.sites[0].frames[0].function, "load_batch");
	sc_profile_release(&r.profiles[0]);
	r.profiles[0] = copy;

	char out[128], golden[512];
	snprintf(out, sizeof out, "%s/report.json", dir);
	const char *fixtures = getenv("SC_FIXTURES");
	snprintf(golden, sizeof golden, "%s/golden/report_basic.json", fixtures ? fixtures : "");
	CHECK_INT(sc_report_export_json(&r, out), 0);

	size_t out_len = 0, golden_len = 0;
	char *got = read_all(out, &out_len);
	char *want = read_all(golden, &golden_len);
	CHECK(got != NULL && want != NULL);
	bool same = got && want && out_len == golden_len && memcmp(got, want, out_len) == 0;
	if (!same)
		fprintf(stderr, "%s differs from %s (kept for diff)\n", out, golden);
	CHECK(same);
	free(got);
	free(want);

	json_error_t error;
	json_t *root = json_load_file(out, 0, &error);
	CHECK(root != NULL);
	if (root) {
		CHECK_STR(json_string_value(json_object_get(root, "schema")), "shotclock.report/1");
		CHECK_STR(
		    json_string_value(json_object_get(json_object_get(root, "tool"), "version")),
		    SC_VERSION);
		CHECK_STR(json_string_value(json_object_get(root, "verdict")), "fail");
		json_t *b = json_array_get(json_object_get(root, "bottlenecks"), 0);
		CHECK(json_is_null(json_object_get(b, "region")));
		CHECK(json_real_value(json_object_get(json_object_get(b, "evidence"),
		                                      "allocations_per_sample")) == 2343.75);
		CHECK(json_is_null(
		    json_object_get(json_object_get(b, "evidence"), "allocations_per_s")));
		CHECK_INT(json_array_size(json_object_get(root, "profiles")), 2);
		check_profiles_nulls(root);
		json_t *profiles = json_object_get(root, "profiles");
		json_t *heap = json_object_get(json_array_get(profiles, 0), "heap");
		CHECK(json_is_true(json_object_get(heap, "available")));
		CHECK(json_is_null(json_object_get(heap, "reason")));
		CHECK_INT(json_array_size(json_object_get(heap, "size_histogram")), 3);
		CHECK_INT(json_array_size(json_object_get(heap, "sites")), 2);
		/* Never measured (in-process): only why. */
		heap = json_object_get(json_array_get(profiles, 1), "heap");
		CHECK_INT(json_object_size(heap), 2);
		CHECK_STR(json_string_value(json_object_get(heap, "reason")), "not measured");
		json_decref(root);
	}
	if (same)
		unlink(out);
	for (size_t i = 0; i < r.n_profiles; i++)
		sc_profile_release(&r.profiles[i]);
	free(r.profiles);
	free(r.bottlenecks);
	free(r.recommendations);
	free(r.checks);
	free(r.regressions);
}

/* A heap that could not be measured says only why; a long list of sites is cut to 20. */
static void test_heap_variants(void)
{
	sc_report r = {.created = "2026-11-25T04:50:00Z"};
	fill_system(&r.system);
	sc_profile p = {.kind = "command", .n_samples = 1, .name = strdup("static")};
	snprintf(p.heap.reason, sizeof p.heap.reason,
	         "static binary: the dynamic loader, which applies LD_PRELOAD, never runs");
	p.heap.allocations = 5; /* ignored: not available */
	CHECK_INT(sc_report_add_profile(&r, &p), 0);
	sc_profile q = {.kind = "command", .n_samples = 1, .name = strdup("many sites")};
	CHECK_INT(fill_heap(&q.heap), 0);
	q.heap.complete = false;
	snprintf(q.heap.incomplete_reason, sizeof q.heap.incomplete_reason, "killed by SIGKILL");
	sc_heap_site *sites = realloc(q.heap.sites, 25 * sizeof *sites);
	CHECK(sites != NULL);
	if (sites) {
		memset(sites + 2, 0, 23 * sizeof *sites);
		for (size_t i = 2; i < 25; i++)
			sites[i].bytes = 1000.0 - (double)i;
		q.heap.sites = sites;
		q.heap.n_sites = 25;
	}
	CHECK_INT(sc_report_add_profile(&r, &q), 0);

	char path[128];
	snprintf(path, sizeof path, "%s/heap.json", dir);
	CHECK_INT(sc_report_export_json(&r, path), 0);
	json_error_t error;
	json_t *root = json_load_file(path, 0, &error);
	CHECK(root != NULL);
	if (root) {
		json_t *profiles = json_object_get(root, "profiles");
		json_t *heap = json_object_get(json_array_get(profiles, 0), "heap");
		CHECK_INT(json_object_size(heap), 2);
		CHECK(json_is_false(json_object_get(heap, "available")));
		CHECK_STR(
		    json_string_value(json_object_get(heap, "reason")),
		    "static binary: the dynamic loader, which applies LD_PRELOAD, never runs");
		heap = json_object_get(json_array_get(profiles, 1), "heap");
		CHECK(json_is_false(json_object_get(heap, "complete")));
		CHECK_STR(json_string_value(json_object_get(heap, "incomplete_reason")),
		          "killed by SIGKILL");
		json_t *list = json_object_get(heap, "sites");
		CHECK_INT(json_array_size(list), 20);
		/* A site without frames: every frame field is null, and its frames empty. */
		json_t *bare = json_array_get(list, 19);
		CHECK(json_is_null(json_object_get(bare, "module")));
		CHECK(json_is_null(json_object_get(bare, "offset")));
		CHECK_INT(json_array_size(json_object_get(bare, "frames")), 0);
		json_decref(root);
	}
	unlink(path);
	for (size_t i = 0; i < r.n_profiles; i++)
		sc_profile_release(&r.profiles[i]);
	free(r.profiles);
}

static void test_missing_directory(void)
{
	sc_report r = {.created = "2026-11-25T04:50:00Z"};
	fill_system(&r.system);
	char path[128];
	snprintf(path, sizeof path, "%s/missing/report.json", dir);
	errno = 0;
	CHECK_INT(sc_report_export_json(&r, path), SC_EIO);
	CHECK_INT(errno, ENOENT);
	CHECK(access(path, F_OK) != 0);
	CHECK_INT(sc_report_export_json(NULL, path), SC_EINVAL);
	CHECK_INT(sc_report_export_json(&r, NULL), SC_EINVAL);
}

/* A real in-process profile: every NaN the profiler produces must come with its reason. */
static void *small_workload(void *ctx)
{
	static char block[1 << 16];
	memset(block, 1, sizeof block);
	return ctx;
}

static void sample_workload(void *ctx, uint64_t index)
{
	(void)ctx;
	(void)index;
}

static void test_real_profiles(void)
{
	sc_profiler *p = sc_profiler_new();
	int ctx;
	CHECK(sc_profile_comprehensive(p, "real \xff name", small_workload, &ctx, 10, NULL, NULL) ==
	      &ctx);
	CHECK_INT(sc_profile_samples(p, "samples", sample_workload, NULL, 1000, NULL, NULL), 0);
	sc_report *r = NULL;
	CHECK_INT(sc_report_create(p, &r), 0);
	sc_profiler_free(p);
	CHECK(r != NULL);
	if (!r)
		return;
	/* sc_report_new stamps the time as ISO 8601 UTC: "YYYY-MM-DDTHH:MM:SSZ". */
	CHECK_INT(strlen(r->created), 20);
	CHECK(r->created[10] == 'T' && r->created[19] == 'Z');

	char path[128];
	snprintf(path, sizeof path, "%s/real.json", dir);
	CHECK_INT(sc_report_export_json(r, path), 0);
	json_error_t error;
	json_t *root = json_load_file(path, 0, &error);
	CHECK(root != NULL);
	if (root) {
		json_t *first = json_array_get(json_object_get(root, "profiles"), 0);
		/* Not UTF-8: the byte becomes '?' and the report stays valid JSON. */
		CHECK_STR(json_string_value(json_object_get(first, "name")), "real ? name");
		CHECK_STR(json_string_value(json_object_get(first, "kind")), "function");
		CHECK(json_is_null(json_object_get(first, "command")));
		check_profiles_nulls(root);
		json_decref(root);
	}
	unlink(path);

	/* Adding moves the profile: the report owns it, the source is zeroed. */
	sc_profile extra = {.kind = "samples", .name = strdup("moved"), .n_samples = 1};
	CHECK_INT(sc_report_add_profile(r, &extra), 0);
	CHECK(extra.name == NULL);
	CHECK_INT(r->n_profiles, 3);
	CHECK_STR(r->profiles[2].name, "moved");
	sc_report_free(r);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/sc-json-XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_golden();
	test_heap_variants();
	test_missing_directory();
	test_real_profiles();
	/* Fails (and says so) only when a mismatching report was kept for inspection. */
	if (rmdir(dir) != 0)
		fprintf(stderr, "kept %s\n", dir);
	return CHECK_DONE();
}

/* test_heap_region.c: in-process heap figures of sc_profile_comprehensive / sc_profile_samples,
 * with the heap shim loaded (this test re-executes itself under LD_PRELOAD) and without it. */
#define _GNU_SOURCE
#include "check.h"
#include "internal.h"

#include <dlfcn.h>
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define BLOCKS 500
#define SIZE   100

static void *kept[BLOCKS];
/* Through a volatile pointer, so that the compiler cannot drop a malloc/free pair it sees. */
static void *volatile sink;

/* Exactly 2 x BLOCKS allocations of SIZE bytes: every second one is freed at once (a temporary),
 * the others are kept past the region. */
static void *workload(void *ctx)
{
	(void)ctx;
	for (int i = 0; i < BLOCKS; i++) {
		kept[i] = malloc(SIZE);
		sink = malloc(SIZE);
		free(sink);
	}
	return kept[0];
}

static void sample(void *ctx, uint64_t i)
{
	(void)ctx;
	kept[i] = malloc(SIZE);
}

static void release_kept(size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(kept[i]);
}

static void test_without_shim(void)
{
	sc_profiler *p = sc_profiler_new();
	sc_profile_comprehensive(p, "no shim", workload, NULL, 1, NULL, NULL);
	release_kept(BLOCKS);
	sc_report *r = NULL;
	CHECK_INT(sc_report_create(p, &r), 0);
	CHECK(r && r->n_profiles == 1);
	if (r && r->n_profiles == 1) {
		const sc_heap_profile *h = &r->profiles[0].heap;
		CHECK(!h->available);
		CHECK(strstr(h->reason, "heap shim is not loaded") != NULL);
	}
	sc_report_free(r);
	sc_profiler_free(p);
}

static void test_with_shim(void)
{
	heap_snapshot_fn snapshot = (heap_snapshot_fn)dlsym(RTLD_DEFAULT, HEAP_SNAPSHOT_SYMBOL);
	CHECK(snapshot != NULL);
	if (!snapshot)
		return;
	size_t usable = malloc_usable_size(kept[0] = malloc(SIZE));
	free(kept[0]);
	sc_profiler *p = sc_profiler_new();
	struct heap_snapshot s0;
	CHECK_INT(snapshot(&s0, 0), 0);
	CHECK(sc_profile_comprehensive(p, "region", workload, NULL, 4, NULL, NULL) == kept[0]);
	release_kept(BLOCKS);
	CHECK_INT(sc_profile_samples(p, "samples", sample, NULL, 50, NULL, NULL), 0);
	release_kept(50);
	sc_report *r = NULL;
	CHECK_INT(sc_report_create(p, &r), 0);
	CHECK(r && r->n_profiles == 2);
	if (r && r->n_profiles == 2) {
		const sc_heap_profile *h = &r->profiles[0].heap;
		CHECK(h->available && h->complete);
		CHECK_STR(h->sites_mode, "none");
		CHECK_INT(h->allocations, 2 * BLOCKS);
		CHECK_INT(h->frees, BLOCKS);
		CHECK_INT(h->bytes_allocated, 2 * BLOCKS * SIZE);
		CHECK_INT(h->temporary_allocations, BLOCKS);
		CHECK_NEAR(h->allocations_per_sample, 2.0 * BLOCKS / 4, 0);
		CHECK_INT(h->leaked_blocks, BLOCKS);
		CHECK_INT(h->leaked_bytes, (int64_t)(BLOCKS * usable));
		/* The peak: what was live when the region began, plus BLOCKS kept blocks and one
		 * temporary. Between our snapshot and the region's start the profiler allocates the
		 * profile's name, "region" (one block of 24 usable bytes), hence the allowance. */
		int64_t expected = s0.live_bytes + (int64_t)((BLOCKS + 1) * usable);
		CHECK(h->peak_live_bytes >= expected && h->peak_live_bytes <= expected + 32);

		const sc_heap_profile *hs = &r->profiles[1].heap;
		CHECK(hs->available);
		CHECK_INT(hs->allocations, 50);
		CHECK_INT(hs->frees, 0);
		CHECK_INT(hs->bytes_allocated, 50 * SIZE);
		CHECK_NEAR(hs->allocations_per_sample, 1.0, 0);
	}
	sc_report_free(r);
	sc_profiler_free(p);
}

/* Runs this program again with the shim preloaded; ASan (in the sanitizer build) insists on
 * coming first in the library list unless told otherwise. */
static int run_under_shim(const char *self)
{
	const char *shim = getenv("SHOTCLOCK_HEAP_SHIM");
	if (!shim) {
		fprintf(stderr, "SHOTCLOCK_HEAP_SHIM must be set\n");
		return 1;
	}
	char preload[4200], asan[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", shim);
	const char *old = getenv("ASAN_OPTIONS");
	snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%sverify_asan_link_order=0", old ? old : "",
	         old ? ":" : "");
	char *envp[] = {preload, asan, "SC_HEAP_REGION_CHILD=1", NULL};
	pid_t pid = fork();
	if (pid == 0) {
		execve(self, (char *[]){(char *)self, NULL}, envp);
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
	(void)argc;
	if (getenv("SC_HEAP_REGION_CHILD")) {
		test_with_shim();
		return CHECK_DONE();
	}
	test_without_shim();
	run_under_shim("/proc/self/exe");
	(void)argv;
	return CHECK_DONE();
}

/* heap_region.c: heap figures of an in-process region, from the shim's counters when it is loaded.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/*
 * The shim (libshotclock-heap.so) is not a dependency of the library: it is in the process only
 * when the program runs under `shotclock run` (its instrumented run) or with LD_PRELOAD. dlsym
 * finds its snapshot function then, and nothing otherwise, so a program that links libshotclock
 * pays one lookup per region and nothing more.
 */
void sc__heap_region_begin(sc__heap_region *r)
{
	*r = (sc__heap_region){0};
	r->snapshot = (heap_snapshot_fn)dlsym(RTLD_DEFAULT, HEAP_SNAPSHOT_SYMBOL);
	r->ok = r->snapshot && r->snapshot(&r->before, 1) == 0;
}

static int64_t diff(uint64_t after, uint64_t before)
{
	return after >= before ? (int64_t)(after - before) : 0;
}

void sc__heap_region_end(const sc__heap_region *r, uint64_t n_samples, sc_heap_profile *out)
{
	struct heap_snapshot after;
	bool ok = r->ok && r->snapshot(&after, 0) == 0;
	*out = sc__heap_profile_unmeasured();
	out->available = out->complete = ok;
	out->sites_mode = "none";
	out->live_basis = "usable";
	if (!ok) {
		snprintf(out->reason, sizeof out->reason, "%s",
		         "the heap shim is not loaded in this process: run the program under "
		         "`shotclock run`, or with LD_PRELOAD=.../libshotclock-heap.so");
		return;
	}
	const struct heap_snapshot *b = &r->before;
	out->allocations = diff(after.allocations, b->allocations);
	out->frees = diff(after.frees, b->frees);
	out->bytes_allocated = diff(after.bytes_allocated, b->bytes_allocated);
	out->temporary_allocations = diff(after.temporary, b->temporary);
	out->allocations_per_sample =
	    n_samples ? (double)out->allocations / (double)n_samples : NAN;
	/* The peak restarted from the live bytes at the start of the region, so it is the largest
	 * live heap of the process during the region (exact for one thread; other threads' deltas
	 * reach it in batches of up to HEAP_LIVE_FLUSH_BYTES, so no bound is claimed). */
	out->peak_live_bytes = after.peak_live_bytes;
	/* What the region kept: blocks and usable bytes it allocated and did not free, net of
	 * older blocks it freed. */
	out->leaked_blocks = out->allocations - out->frees;
	out->leaked_bytes = (int64_t)(after.usable_allocated - b->usable_allocated) -
	                    (int64_t)(after.usable_freed - b->usable_freed);
	out->processes = 1;
}

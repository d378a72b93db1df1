/* shim_snapshot.c: this process's counters as the in-process library sees them (regions). */
#include "shim.h"

#include <errno.h>

static void add_slot(struct heap_snapshot *out, const struct heap_thread_slot *s)
{
	out->allocations += __atomic_load_n(&s->allocations, __ATOMIC_RELAXED);
	out->frees += __atomic_load_n(&s->frees, __ATOMIC_RELAXED);
	out->bytes_allocated += __atomic_load_n(&s->bytes_allocated, __ATOMIC_RELAXED);
	out->temporary += __atomic_load_n(&s->temporary, __ATOMIC_RELAXED);
	out->usable_allocated += __atomic_load_n(&s->usable_allocated, __ATOMIC_RELAXED);
	out->usable_freed += __atomic_load_n(&s->usable_freed, __ATOMIC_RELAXED);
}

/*
 * Other threads write their own slots with plain stores, so their figures here may lag by the
 * events they are making right now; the calling thread's are exact. The overflow slot is shared
 * by every thread past HEAP_MAX_THREADS and counted here too.
 */
__attribute__((visibility("default"))) int sc__heap_shim_snapshot(struct heap_snapshot *out,
                                                                  int reset_peak);
int sc__heap_shim_snapshot(struct heap_snapshot *out, int reset_peak)
{
	struct sc__tls *t = &sc__tls;
	struct heap_counters *c = sc__g.ctr;
	struct heap_process_slot *ps = sc__g.proc;
	int saved = errno;

	if (out == NULL || c == NULL || ps == NULL ||
	    !__atomic_load_n(&sc__g.counting, __ATOMIC_ACQUIRE))
		return -1;
	t->guard++;
	/* This thread's unflushed live delta would otherwise be missing from live_bytes. */
	sc__flush_live(t);
	*out = (struct heap_snapshot){0};
	uint32_t n = __atomic_load_n(&c->next_thread, __ATOMIC_ACQUIRE);
	if (n > HEAP_MAX_THREADS)
		n = HEAP_MAX_THREADS;
	for (uint32_t i = 0; i < n; i++) {
		if (__atomic_load_n(&c->threads[i].process, __ATOMIC_ACQUIRE) ==
		    sc__g.proc_index + 1)
			add_slot(out, &c->threads[i]);
	}
	add_slot(out, &c->overflow_thread);
	out->live_bytes = __atomic_load_n(&ps->live_bytes, __ATOMIC_RELAXED);
	if (reset_peak) {
		__atomic_store_n(&ps->peak_live_bytes, out->live_bytes, __ATOMIC_RELAXED);
		ps->peak_ns = sc__now_ns();
	}
	out->peak_live_bytes = __atomic_load_n(&ps->peak_live_bytes, __ATOMIC_RELAXED);
	t->guard--;
	errno = saved;
	return 0;
}

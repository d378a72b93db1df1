/* cpu_unwind.c: call chains unwound with libdw from the user stack copied at each sample. */
#define _GNU_SOURCE
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_build.h"
#include "internal.h"

/*
 * The approach of perf's tools/perf/util/unwind-libdw.c: a Dwfl holding the sampled process's
 * modules at their load biases, attached to a "process" whose only thread is the sampled one,
 * whose registers are those copied at the sample and whose memory is the stack copy (reads
 * elsewhere fail, which ends the unwind there). libdw finds each frame's CFI in .eh_frame or
 * .debug_frame, so functions built without frame pointers unwind too. One Dwfl serves every
 * sample of a process while its mappings stay the same.
 */

struct sc__cpu_unwinder {
	const sc__cpu_raw *raw;
	const sc__cpu_maps *maps;
	sc__cpu_symbolizer *sym;
	Dwfl *dwfl; /* NULL: none built yet, or the last one could not be */
	uint32_t pid;
	size_t *visible; /* the mappings the Dwfl was built from */
	size_t n_visible, cap_visible;
	size_t *scratch; /* the mappings of the current sample */
	size_t cap_scratch;
	/* The sample being unwound, read by the callbacks. */
	const sc__cpu_sample *sample;
	const sc__cpu_user_stack *user;
	bool thread_given;
	uint64_t *pcs;
	bool *exact;
	size_t n, max;
};

static char *debuginfo_path = NULL;

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

/* The process has one thread: the sampled one. */
static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	(void)dwfl;
	sc__cpu_unwinder *u = arg;
	if (u->thread_given)
		return 0;
	u->thread_given = true;
	*thread_argp = u;
	return (pid_t)u->sample->tid;
}

/* Memory is the stack copy: [rsp, rsp + len) as it was at the sample. */
static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	(void)dwfl;
	sc__cpu_unwinder *u = arg;
	uint64_t sp = u->user->regs[7];
	if (addr < sp || addr - sp > u->user->stack_len ||
	    u->user->stack_len - (addr - sp) < sizeof(uint64_t))
		return false;
	memcpy(result, u->raw->stack_bytes + u->user->stack_off + (addr - sp), sizeof(uint64_t));
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	sc__cpu_unwinder *u = thread_arg;
	Dwarf_Word regs[SC__CPU_NREGS];
	for (int i = 0; i < SC__CPU_NREGS; i++)
		regs[i] = u->user->regs[i];
	return dwfl_thread_state_registers(thread, 0, SC__CPU_NREGS, regs);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
    .next_thread = next_thread,
    .memory_read = memory_read,
    .set_initial_registers = set_initial_registers,
};

int sc__cpu_unwinder_new(const sc__cpu_raw *raw, const sc__cpu_maps *maps, sc__cpu_symbolizer *sym,
                         sc__cpu_unwinder **out)
{
	*out = calloc(1, sizeof **out);
	if (!*out)
		return SC_ENOMEM;
	**out = (sc__cpu_unwinder){.raw = raw, .maps = maps, .sym = sym};
	return 0;
}

void sc__cpu_unwinder_free(sc__cpu_unwinder *u)
{
	if (!u)
		return;
	if (u->dwfl)
		dwfl_end(u->dwfl);
	free(u->visible);
	free(u->scratch);
	free(u);
}

/* Reports each module file of the visible mappings once, at its load bias, and attaches the
 * one-thread process. NULL when nothing could be reported. */
static Dwfl *build_dwfl(sc__cpu_unwinder *u, const size_t *visible, size_t n)
{
	Dwfl *dwfl = dwfl_begin(&callbacks);
	if (!dwfl)
		return NULL;
	dwfl_report_begin(dwfl);
	size_t reported = 0;
	for (size_t i = 0; i < n; i++) {
		const sc__cpu_mapping *m = &u->raw->maps[visible[i]];
		if (m->path[0] != '/' || m->path[1] == '/')
			continue;
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(u->raw->maps[visible[j]].path, m->path) == 0;
		if (seen)
			continue;
		int mod = sc__cpu_symbolizer_module(u->sym, m->path);
		uint64_t bias;
		if (mod < 0 || !sc__cpu_symbolizer_readable(u->sym, mod) ||
		    sc__cpu_symbolizer_bias(u->sym, mod, m, &bias) != 0)
			continue;
		/* With add_p_vaddr, libdwfl places an ET_DYN file's segments at base + p_vaddr: the
		 * base is the load bias. A non-PIE executable's addresses are its own (bias 0). Two
		 * files that would overlap (a stale mapping) are refused; the first one stays. */
		if (dwfl_report_elf(dwfl, m->path, m->path, -1, bias, true))
			reported++;
	}
	if (dwfl_report_end(dwfl, NULL, NULL) != 0 || reported == 0 ||
	    !dwfl_attach_state(dwfl, NULL, (pid_t)u->pid, &thread_callbacks, u)) {
		dwfl_end(dwfl);
		return NULL;
	}
	return dwfl;
}

static int frame_callback(Dwfl_Frame *state, void *arg)
{
	sc__cpu_unwinder *u = arg;
	Dwarf_Addr pc;
	bool activation;
	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	if (u->n == 0) {
		/* The first frame is the sampled instruction itself, as recorded. */
		u->n = 1;
		return u->n < u->max ? DWARF_CB_OK : DWARF_CB_ABORT;
	}
	if (pc == 0)
		return DWARF_CB_ABORT;
	u->pcs[u->n] = pc;
	u->exact[u->n] = activation;
	u->n++;
	return u->n < u->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

size_t sc__cpu_unwind(sc__cpu_unwinder *u, const sc__cpu_sample *s, uint64_t *pcs, bool *exact,
                      size_t max)
{
	if (max == 0)
		return 0;
	size_t n_raw = s->n_frames;
	const sc__cpu_user_stack *user =
	    s->user_index < u->raw->n_user ? &u->raw->user[s->user_index] : NULL;
	uint64_t ip = n_raw ? u->raw->frames[s->first_frame] : user ? user->regs[16] : 0;
	if (!user || (!n_raw && !ip))
		return 0;
	pcs[0] = ip;
	exact[0] = true;

	/* The mappings the sample could see; the Dwfl is rebuilt only when they changed. */
	size_t n_vis =
	    sc__cpu_maps_visible(u->maps, s->pid, s->time_ns, u->scratch, u->cap_scratch);
	if (n_vis > u->cap_scratch) {
		size_t *grown = realloc(u->scratch, n_vis * sizeof *grown);
		if (!grown)
			return 1;
		u->scratch = grown;
		u->cap_scratch = n_vis;
		n_vis =
		    sc__cpu_maps_visible(u->maps, s->pid, s->time_ns, u->scratch, u->cap_scratch);
	}
	bool same = u->dwfl && u->pid == s->pid && u->n_visible == n_vis &&
	            (n_vis == 0 || memcmp(u->visible, u->scratch, n_vis * sizeof *u->scratch) == 0);
	if (!same) {
		if (u->dwfl)
			dwfl_end(u->dwfl);
		u->dwfl = NULL;
		if (n_vis > u->cap_visible) {
			size_t *grown = realloc(u->visible, n_vis * sizeof *grown);
			if (!grown) {
				u->n_visible = 0;
				return 1;
			}
			u->visible = grown;
			u->cap_visible = n_vis;
		}
		if (n_vis)
			memcpy(u->visible, u->scratch, n_vis * sizeof *u->scratch);
		u->n_visible = n_vis;
		u->pid = s->pid;
		u->dwfl = build_dwfl(u, u->visible, n_vis);
	}
	if (!u->dwfl)
		return 1;

	u->sample = s;
	u->user = user;
	u->thread_given = false;
	u->pcs = pcs;
	u->exact = exact;
	u->n = 0;
	u->max = max;
	/* A failure midway (memory outside the copy, no CFI) keeps the frames found before it. */
	(void)dwfl_getthread_frames(u->dwfl, (pid_t)s->tid, frame_callback, u);
	u->sample = NULL;
	u->user = NULL;
	return u->n ? u->n : 1;
}

/* cpu_symbolize.c: sampled addresses to mappings, modules, functions and lines (libdw). */
#define _GNU_SOURCE
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_build.h"
#include "internal.h"

/* ---- mappings ------------------------------------------------------------------------------ */

/* One process's mappings: order[first .. first + n) sorted by start address. */
typedef struct pid_maps {
	uint32_t pid;
	size_t first;
	size_t n;
} pid_maps;

struct sc__cpu_maps {
	const sc__cpu_raw *raw;
	size_t *order;     /* raw->maps indexes, by (pid, start, raw index) */
	uint64_t *max_end; /* max_end[k]: the largest end among order[first .. k] of its process */
	uint64_t *times;   /* times[first .. first + n): a process's mapping times, ascending */
	pid_maps *pids;    /* by pid */
	size_t n_pids;
	sc__cpu_process *procs; /* raw->processes by (pid, time) */
	size_t n_procs;
};

static _Thread_local const sc__cpu_raw *sort_raw; /* qsort has no context argument in C11 */

static int cmp_map_order(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const sc__cpu_mapping *p = &sort_raw->maps[x], *q = &sort_raw->maps[y];
	if (p->pid != q->pid)
		return p->pid < q->pid ? -1 : 1;
	if (p->start != q->start)
		return p->start < q->start ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_proc(const void *a, const void *b)
{
	const sc__cpu_process *p = a, *q = b;
	if (p->pid != q->pid)
		return p->pid < q->pid ? -1 : 1;
	if (p->time_ns != q->time_ns)
		return p->time_ns < q->time_ns ? -1 : 1;
	return 0;
}

int sc__cpu_maps_new(const sc__cpu_raw *raw, sc__cpu_maps **out)
{
	*out = NULL;
	sc__cpu_maps *m = calloc(1, sizeof *m);
	if (!m)
		return SC_ENOMEM;
	m->raw = raw;
	size_t n = raw->n_maps;
	m->order = malloc((n ? n : 1) * sizeof *m->order);
	m->max_end = malloc((n ? n : 1) * sizeof *m->max_end);
	m->times = malloc((n ? n : 1) * sizeof *m->times);
	m->pids = malloc((n ? n : 1) * sizeof *m->pids);
	m->procs = malloc((raw->n_processes ? raw->n_processes : 1) * sizeof *m->procs);
	if (!m->order || !m->max_end || !m->times || !m->pids || !m->procs) {
		sc__cpu_maps_free(m);
		return SC_ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		m->order[i] = i;
	sort_raw = raw;
	qsort(m->order, n, sizeof *m->order, cmp_map_order);
	sort_raw = NULL;
	for (size_t k = 0; k < n; k++) {
		const sc__cpu_mapping *map = &raw->maps[m->order[k]];
		if (m->n_pids == 0 || m->pids[m->n_pids - 1].pid != map->pid) {
			m->pids[m->n_pids++] = (pid_maps){map->pid, k, 0};
			m->max_end[k] = map->end;
		} else {
			m->max_end[k] = map->end > m->max_end[k - 1] ? map->end : m->max_end[k - 1];
		}
		m->pids[m->n_pids - 1].n++;
		m->times[k] = map->time_ns;
	}
	for (size_t i = 0; i < m->n_pids; i++)
		qsort(m->times + m->pids[i].first, m->pids[i].n, sizeof *m->times, cmp_u64);
	if (raw->n_processes)
		memcpy(m->procs, raw->processes, raw->n_processes * sizeof *m->procs);
	m->n_procs = raw->n_processes;
	qsort(m->procs, m->n_procs, sizeof *m->procs, cmp_proc);
	*out = m;
	return 0;
}

void sc__cpu_maps_free(sc__cpu_maps *m)
{
	if (!m)
		return;
	free(m->order);
	free(m->max_end);
	free(m->times);
	free(m->pids);
	free(m->procs);
	free(m);
}

static const pid_maps *find_pid(const sc__cpu_maps *m, uint32_t pid)
{
	size_t lo = 0, hi = m->n_pids;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->pids[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->n_pids && m->pids[lo].pid == pid ? &m->pids[lo] : NULL;
}

/* What the process records say about pid at time t: whether it exec'd at or before t (and when,
 * the last time), and otherwise its parent and when it forked. */
typedef struct lineage {
	bool execed;
	uint64_t exec_ns;
	uint32_t ppid; /* 0: none known */
	uint64_t fork_ns;
} lineage;

static lineage lineage_of(const sc__cpu_maps *m, uint32_t pid, uint64_t t)
{
	lineage l = {0};
	size_t lo = 0, hi = m->n_procs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->procs[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < m->n_procs && m->procs[i].pid == pid; i++) {
		const sc__cpu_process *p = &m->procs[i];
		if (p->ppid == 0) {
			if (p->time_ns <= t) {
				l.execed = true;
				l.exec_ns = p->time_ns;
			}
		} else if (l.ppid == 0 && p->ppid != pid) {
			l.ppid = p->ppid;
			l.fork_ns = p->time_ns;
		}
	}
	return l;
}

/* A mapping counts at time t when it was made at or before t, and not before an exec. */
static bool mapping_live(const sc__cpu_mapping *map, uint64_t t, const lineage *l)
{
	return map->time_ns <= t && (!l->execed || map->time_ns >= l->exec_ns);
}

long sc__cpu_maps_find(const sc__cpu_maps *m, uint32_t pid, uint64_t t, uint64_t addr)
{
	/* A chain of forks is followed a few levels up; a cycle in bad records ends here too. */
	for (int depth = 0; depth < 16; depth++) {
		lineage l = lineage_of(m, pid, t);
		const pid_maps *pm = find_pid(m, pid);
		if (pm && pm->n) {
			/* The last mapping starting at or below addr, then back while an earlier
			 * one could still reach over addr (max_end), keeping the latest that covers
			 * it. */
			size_t lo = 0, hi = pm->n;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (m->raw->maps[m->order[pm->first + mid]].start <= addr)
					lo = mid + 1;
				else
					hi = mid;
			}
			long best = -1;
			for (size_t k = lo; k-- > 0;) {
				size_t idx = m->order[pm->first + k];
				const sc__cpu_mapping *map = &m->raw->maps[idx];
				/* The latest mapping wins; of two made at once, the one recorded
				 * last. */
				if (map->end > addr && mapping_live(map, t, &l) &&
				    (best < 0 || map->time_ns > m->raw->maps[best].time_ns ||
				     (map->time_ns == m->raw->maps[best].time_ns &&
				      (long)idx > best)))
					best = (long)idx;
				if (m->max_end[pm->first + k] <= addr)
					break;
			}
			if (best >= 0)
				return best;
		}
		if (l.execed || l.ppid == 0)
			return -1;
		/* A forked child shares its parent's address space as it was at the fork. */
		pid = l.ppid;
		if (l.fork_ns < t)
			t = l.fork_ns;
	}
	return -1;
}

uint64_t sc__cpu_maps_epoch(const sc__cpu_maps *m, uint32_t pid, uint64_t t)
{
	uint64_t maps = 0, procs = 0;
	const pid_maps *pm = find_pid(m, pid);
	if (pm) {
		size_t lo = 0, hi = pm->n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (m->times[pm->first + mid] <= t)
				lo = mid + 1;
			else
				hi = mid;
		}
		maps = lo;
	}
	size_t lo = 0, hi = m->n_procs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->procs[mid].pid < pid ||
		    (m->procs[mid].pid == pid && m->procs[mid].time_ns <= t))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0 && m->procs[i].pid == pid;)
		procs++;
	return maps << 32 | procs;
}

size_t sc__cpu_maps_visible(const sc__cpu_maps *m, uint32_t pid, uint64_t t, size_t *out,
                            size_t max)
{
	size_t n = 0;
	for (int depth = 0; depth < 16; depth++) {
		lineage l = lineage_of(m, pid, t);
		const pid_maps *pm = find_pid(m, pid);
		for (size_t k = 0; pm && k < pm->n; k++) {
			size_t idx = m->order[pm->first + k];
			if (mapping_live(&m->raw->maps[idx], t, &l)) {
				if (n < max)
					out[n] = idx;
				n++;
			}
		}
		if (l.execed || l.ppid == 0)
			break;
		pid = l.ppid;
		if (l.fork_ns < t)
			t = l.fork_ns;
	}
	return n;
}

/* ---- modules ------------------------------------------------------------------------------- */

/*
 * Each module file is opened once, as an offline Dwfl holding that one file (like
 * heap_symbolize.c): the builder turns a process address into the file's own virtual address
 * (address - load bias) and looks that up, adding the Dwfl's bias for the module (0 for a file
 * reported at base 0, but read back rather than assumed).
 */
typedef struct module_entry {
	char *path;
	Dwfl *dwfl; /* NULL when the file could not be read */
	Dwfl_Module *module;
	Dwarf_Addr dwfl_bias; /* Dwfl address - ELF address */
	bool own_dwarf; /* the file carries DWARF itself (not only in a detached debug file) */
} module_entry;

struct sc__cpu_symbolizer {
	module_entry *modules;
	size_t n_modules, cap_modules;
	char **owned; /* strings made here (absolute paths), freed with the symbolizer */
	size_t n_owned, cap_owned;
};

static char *debuginfo_path = NULL;

static const Dwfl_Callbacks offline_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

/*
 * Detached debug information (Debian's -dbg and -dbgsym packages: libc6-dbg comes with valgrind)
 * is read for symbol names only. Its DWARF is compressed and large: the first lookup in libc's
 * inflates tens of megabytes, 30 to 60 ms per run, more than everything else shotclock does
 * after a short command, for line numbers inside the C library that a user does not change.
 * DWARF a file carries itself (a program or library built with -g) is read in full.
 */
bool sc__elf_has_own_dwarf(Elf *elf)
{
	size_t shstrndx;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr shdr;
		const char *name =
		    gelf_getshdr(scn, &shdr) ? elf_strptr(elf, shstrndx, shdr.sh_name) : NULL;
		if (name && (strcmp(name, ".debug_info") == 0 || strcmp(name, ".zdebug_info") == 0))
			return shdr.sh_type != SHT_NOBITS;
	}
	return false;
}

int sc__cpu_symbolizer_new(sc__cpu_symbolizer **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? 0 : SC_ENOMEM;
}

void sc__cpu_symbolizer_free(sc__cpu_symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_modules; i++) {
		if (s->modules[i].dwfl)
			dwfl_end(s->modules[i].dwfl);
		free(s->modules[i].path);
	}
	for (size_t i = 0; i < s->n_owned; i++)
		free(s->owned[i]);
	free(s->owned);
	free(s->modules);
	free(s);
}

int sc__cpu_symbolizer_module(sc__cpu_symbolizer *s, const char *path)
{
	for (size_t i = 0; i < s->n_modules; i++)
		if (strcmp(s->modules[i].path, path) == 0)
			return (int)i;
	if (s->n_modules == s->cap_modules) {
		size_t cap = s->cap_modules ? 2 * s->cap_modules : 16;
		module_entry *grown = realloc(s->modules, cap * sizeof *grown);
		if (!grown)
			return SC_ENOMEM;
		s->modules = grown;
		s->cap_modules = cap;
	}
	module_entry *e = &s->modules[s->n_modules];
	*e = (module_entry){.path = strdup(path)};
	if (!e->path)
		return SC_ENOMEM;
	/* Only real files: "[vdso]", "//anon" and other pseudo-paths have nothing on disk. */
	if (path[0] == '/' && path[1] != '/' && (e->dwfl = dwfl_begin(&offline_callbacks))) {
		e->module = dwfl_report_elf(e->dwfl, path, path, -1, 0, false);
		GElf_Addr bias = 0;
		if (dwfl_report_end(e->dwfl, NULL, NULL) != 0 || !e->module ||
		    !dwfl_module_getelf(e->module, &bias)) {
			dwfl_end(e->dwfl);
			e->dwfl = NULL;
			e->module = NULL;
		} else {
			e->dwfl_bias = bias;
			e->own_dwarf = sc__elf_has_own_dwarf(dwfl_module_getelf(e->module, &bias));
		}
	}
	return (int)s->n_modules++;
}

const char *sc__cpu_symbolizer_path(const sc__cpu_symbolizer *s, int module)
{
	return s->modules[module].path;
}

bool sc__cpu_symbolizer_readable(const sc__cpu_symbolizer *s, int module)
{
	return s->modules[module].module != NULL;
}

int sc__cpu_symbolizer_bias(sc__cpu_symbolizer *s, int module, const sc__cpu_mapping *m,
                            uint64_t *bias)
{
	if (m->bias_known) {
		*bias = m->bias;
		return 0;
	}
	module_entry *e = &s->modules[module];
	GElf_Addr unused;
	Elf *elf = e->module ? dwfl_module_getelf(e->module, &unused) : NULL;
	size_t phnum;
	if (!elf || elf_getphdrnum(elf, &phnum) != 0)
		return SC_ENOTFOUND;
	/*
	 * The mapping puts file offset pgoff at address start. A PT_LOAD segment puts file offset
	 * p_offset at ELF address p_vaddr, so inside that segment file offset pgoff is ELF address
	 * p_vaddr - p_offset + pgoff, and the load bias (process address - ELF address) is
	 *     bias = start - (p_vaddr - p_offset + pgoff).
	 * The loader maps each segment from its page-aligned offset, and p_vaddr and p_offset are
	 * congruent modulo the page size, so the formula holds for the aligned page too. The
	 * segment must be the one this mapping came from: two segments can share a file page (their
	 * p_vaddr - p_offset may differ), and the mapping of a segment begins at that segment's own
	 * page-aligned offset, so the segment whose aligned start is pgoff is preferred, then one
	 * whose file range holds pgoff. For a non-PIE executable p_vaddr - p_offset + pgoff is
	 * start itself and the bias is 0; for a PIE or shared object it is where the loader put the
	 * file.
	 */
	const uint64_t page = 4096;
	bool found = false;
	uint64_t vaddr = 0;
	for (int pass = 0; pass < 2 && !found; pass++) {
		for (size_t i = 0; i < phnum && !found; i++) {
			GElf_Phdr ph;
			if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
				continue;
			uint64_t aligned = ph.p_offset & ~(page - 1);
			bool match =
			    pass == 0 ? aligned == m->pgoff
			              : m->pgoff >= aligned && m->pgoff < ph.p_offset + ph.p_filesz;
			if (match) {
				vaddr = ph.p_vaddr - ph.p_offset + m->pgoff;
				found = true;
			}
		}
	}
	if (!found)
		return SC_ENOTFOUND;
	*bias = m->start - vaddr;
	return 0;
}

/* ---- symbols ------------------------------------------------------------------------------- */

/* name as an absolute path: relative ones are relative to the CU's compilation directory. */
static const char *absolute(sc__cpu_symbolizer *s, Dwarf_Die *cu, const char *name)
{
	if (!name || name[0] == '/' || !cu)
		return name;
	Dwarf_Attribute attr;
	const char *dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr));
	if (!dir)
		return name;
	if (s->n_owned == s->cap_owned) {
		size_t cap = s->cap_owned ? 2 * s->cap_owned : 64;
		char **grown = realloc(s->owned, cap * sizeof *grown);
		if (!grown)
			return name;
		s->owned = grown;
		s->cap_owned = cap;
	}
	char *joined = NULL;
	if (asprintf(&joined, "%s/%s", dir, name) < 0)
		return name;
	s->owned[s->n_owned++] = joined;
	return joined;
}

/* A function DIE's name; an inlined or out-of-line instance names it through its origin. */
static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
	return name ? name : dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
}

/* The source file numbered idx in the CU's line table (DW_AT_call_file). */
static const char *cu_file(Dwarf_Die *cu, Dwarf_Word idx)
{
	Dwarf_Files *files;
	size_t n;
	if (dwarf_getsrcfiles(cu, &files, &n) != 0 || idx >= n)
		return NULL;
	return dwarf_filesrc(files, idx, NULL, NULL);
}

/* The first function scope (subprogram or inlined subroutine) among scopes[from .. n). */
static bool first_function(Dwarf_Die *scopes, int n, int from, Dwarf_Die *out)
{
	for (int i = from; i < n; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
			*out = scopes[i];
			return true;
		}
	}
	return false;
}

int sc__cpu_symbolize(sc__cpu_symbolizer *s, int module, uint64_t vaddr, bool exact,
                      sc__cpu_symbol *out, size_t max)
{
	module_entry *e = &s->modules[module];
	if (!e->module || max == 0)
		return 0;
	/* A return address points after its call; the call's last byte is in the calling function
	 * and on the calling line even when the call ends the function. */
	Dwarf_Addr pc = (exact ? vaddr : vaddr - 1) + e->dwfl_bias;

	const char *line_file = NULL;
	int line = 0;
	Dwfl_Line *dl = e->own_dwarf ? dwfl_module_getsrc(e->module, pc) : NULL;
	if (dl)
		line_file = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);

	size_t n = 0;
	Dwarf_Addr cu_bias;
	Dwarf_Die *cu = e->own_dwarf ? dwfl_module_addrdie(e->module, pc, &cu_bias) : NULL;
	Dwarf_Die fn;
	bool have = false;
	if (cu) {
		Dwarf_Die *scopes = NULL;
		int ns = dwarf_getscopes(cu, pc - cu_bias, &scopes);
		have = first_function(scopes, ns, 0, &fn);
		free(scopes);
	}
	/* Innermost first: an inlined subroutine is a frame whose line is the line table's (or the
	 * call site of the frame inside it); its caller is the next function scope out, in the
	 * concrete tree (dwarf_getscopes continues into the abstract definition instead), called
	 * from the inlined DIE's call_file:call_line. */
	const char *file = absolute(s, cu, line_file);
	int ln = line;
	while (have && n < max) {
		const char *name = die_name(&fn);
		int decl_line = 0;
		const char *decl_file = absolute(s, cu, dwarf_decl_file(&fn));
		if (dwarf_decl_line(&fn, &decl_line) != 0)
			decl_line = 0;
		if (name)
			out[n++] = (sc__cpu_symbol){name, decl_file, decl_file ? decl_line : 0,
			                            file, file ? ln : 0};
		if (dwarf_tag(&fn) != DW_TAG_inlined_subroutine)
			break;
		Dwarf_Attribute attr;
		Dwarf_Word w;
		file = NULL;
		ln = 0;
		if (dwarf_formudata(dwarf_attr(&fn, DW_AT_call_file, &attr), &w) == 0)
			file = absolute(s, cu, cu_file(cu, w));
		if (dwarf_formudata(dwarf_attr(&fn, DW_AT_call_line, &attr), &w) == 0)
			ln = (int)w;
		Dwarf_Die *outer = NULL;
		int no = dwarf_getscopes_die(&fn, &outer);
		have = first_function(outer, no, 1, &fn);
		free(outer);
	}
	if (n == 0) {
		/* No DWARF for it: the symbol table (or .dynsym) may still name the function. */
		const char *name = dwfl_module_addrname(e->module, pc);
		if (name)
			out[n++] = (sc__cpu_symbol){name, NULL, 0, absolute(s, cu, line_file),
			                            line_file ? line : 0};
	}
	return (int)n;
}

/* ---- call frame information ---------------------------------------------------------------- */

/* rsp's DWARF register number on x86-64. */
#define DWARF_RSP 7

/* The rule for register regno of a frame as "stored at CFA + *offset"; false for any other rule
 * (same value, undefined, a value rather than a location, an expression). */
static bool saved_at_cfa(Dwarf_Frame *frame, int regno, int64_t *offset)
{
	Dwarf_Op mem[3], *ops = NULL;
	size_t nops = 0;
	if (dwarf_frame_register(frame, regno, mem, &ops, &nops) != 0 || !ops || nops == 0 ||
	    ops[0].atom != DW_OP_call_frame_cfa)
		return false;
	if (nops == 1) {
		*offset = 0;
		return true;
	}
	/* libdw writes offset(N) as DW_OP_call_frame_cfa, DW_OP_plus_uconst N, N wrapping for a
	 * negative offset; a trailing DW_OP_stack_value would make it a value, not a slot. */
	if (nops == 2 && ops[1].atom == DW_OP_plus_uconst) {
		*offset = (int64_t)ops[1].number;
		return true;
	}
	return false;
}

/* Whether the CFA at pc in cfi (its own addresses) is rsp + k with the return address saved at
 * CFA + j: 1 with *ra_offset = k + j; 0 for any other rule; -1 when cfi has no entry for pc. */
static int sp_rule(Dwarf_CFI *cfi, Dwarf_Addr pc, int64_t *ra_offset)
{
	Dwarf_Frame *frame = NULL;
	if (!cfi || dwarf_cfi_addrframe(cfi, pc, &frame) != 0 || !frame)
		return -1;
	int found = 0;
	Dwarf_Op *ops = NULL;
	size_t nops = 0;
	int ra_reg = dwarf_frame_info(frame, NULL, NULL, NULL);
	int64_t slot;
	/* libdw gives a "register + offset" CFA as one DW_OP_bregx; an expression is left alone,
	 * like the PLT's, whose rule depends on the instruction. */
	if (ra_reg >= 0 && dwarf_frame_cfa(frame, &ops, &nops) == 0 && nops == 1 &&
	    ((ops[0].atom == DW_OP_bregx && ops[0].number == DWARF_RSP) ||
	     ops[0].atom == DW_OP_breg0 + DWARF_RSP) &&
	    saved_at_cfa(frame, ra_reg, &slot)) {
		int64_t cfa_off =
		    ops[0].atom == DW_OP_bregx ? (int64_t)ops[0].number2 : (int64_t)ops[0].number;
		*ra_offset = cfa_off + slot;
		found = 1;
	}
	free(frame);
	return found;
}

int sc__cpu_symbolizer_sp_return(sc__cpu_symbolizer *s, int module, uint64_t vaddr,
                                 int64_t *ra_offset)
{
	module_entry *e = &s->modules[module];
	if (!e->module)
		return 0;
	Dwarf_Addr dwfl_pc = vaddr + e->dwfl_bias, bias = 0;
	/* .eh_frame is in nearly every x86-64 binary, stripped ones included; .debug_frame (which
	 * may mean finding separate debug information) only where it has no entry. */
	int rc = sp_rule(dwfl_module_eh_cfi(e->module, &bias), dwfl_pc - bias, ra_offset);
	if (rc < 0) {
		bias = 0;
		rc = sp_rule(dwfl_module_dwarf_cfi(e->module, &bias), dwfl_pc - bias, ra_offset);
	}
	return rc > 0;
}

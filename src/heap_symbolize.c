/* heap_symbolize.c: heap sites' return addresses to function, file and line, read with libdw. */
#define _GNU_SOURCE
#include "internal.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>

/*
 * Symbolizing happens after the run, never in the profiled program, which must not pay for it
 * (CPU samples are symbolized by cpu_symbolize.c, when their profile is built; heap sites here,
 * once the report holds them, by sc_report_symbolize). Every module is read from its file on disk,
 * as an offline Dwfl holding that one file at base 0, so a frame's offset (its address minus the
 * load base) is the address to look up: for a shared object or a PIE, file addresses start at 0;
 * for a non-PIE executable the load base is 0 and the offset is the absolute address, which is also
 * its file address.
 */

/* One module file, opened once however many frames fall in it. */
typedef struct module_entry {
	char *path;
	Dwfl *dwfl; /* NULL when the file could not be read */
	Dwfl_Module *module;
	bool own_dwarf; /* DWARF in the file itself; a detached debug file gives names only */
} module_entry;

typedef struct module_cache {
	module_entry *entries;
	size_t n;
	size_t cap;
} module_cache;

/* Debug information beside the file, in .debug/ and under /usr/lib/debug (by build ID too). */
static char *debuginfo_path = NULL;

static const Dwfl_Callbacks offline_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

/* The module at path, opened on first use; NULL when it cannot be read (or on no memory, which
 * then only costs the frames their names). */
static module_entry *module_open(module_cache *c, const char *path)
{
	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->entries[i].path, path) == 0) {
			return &c->entries[i];
		}
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		module_entry *grown = realloc(c->entries, cap * sizeof *grown);
		if (!grown) {
			return NULL;
		}
		c->entries = grown;
		c->cap = cap;
	}
	module_entry *e = &c->entries[c->n];
	*e = (module_entry){.path = strdup(path)};
	if (!e->path) {
		return NULL;
	}
	c->n++;
	/* Only real files: "[vdso]" and similar pseudo-paths have nothing on disk to read. */
	if (path[0] != '/') {
		return e;
	}
	e->dwfl = dwfl_begin(&offline_callbacks);
	if (!e->dwfl) {
		return e;
	}
	e->module = dwfl_report_elf(e->dwfl, path, path, -1, 0, false);
	if (dwfl_report_end(e->dwfl, NULL, NULL) != 0 || !e->module) {
		dwfl_end(e->dwfl);
		e->dwfl = NULL;
		e->module = NULL;
		return e;
	}
	/* As for CPU samples (sc__elf_has_own_dwarf says why): inflating libc6-dbg's DWARF would
	 * cost more than the rest of a short run's report. */
	GElf_Addr bias;
	e->own_dwarf = sc__elf_has_own_dwarf(dwfl_module_getelf(e->module, &bias));
	return e;
}

static void cache_free(module_cache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		dwfl_end(c->entries[i].dwfl);
		free(c->entries[i].path);
	}
	free(c->entries);
}

/*
 * The name of the innermost function whose code holds pc, from DWARF: when a function was inlined
 * into its caller, this is the inlined one, which is the one the line table names too. NULL when
 * the module has no DWARF for pc.
 */
static const char *dwarf_function(Dwfl_Module *mod, Dwarf_Addr pc)
{
	Dwarf_Addr bias;
	Dwarf_Die *cu = dwfl_module_addrdie(mod, pc, &bias);
	if (!cu) {
		return NULL;
	}
	Dwarf_Die *scopes = NULL;
	int n = dwarf_getscopes(cu, pc - bias, &scopes);
	const char *name = NULL;
	for (int i = 0; i < n && !name; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
			/* An inlined instance names its function through DW_AT_abstract_origin. */
			Dwarf_Attribute attr;
			name =
			    dwarf_formstring(dwarf_attr_integrate(&scopes[i], DW_AT_name, &attr));
		}
	}
	free(scopes);
	return name;
}

/* Fills one frame's function, file and line from its module; what cannot be found stays NULL. */
static int symbolize_frame(module_cache *c, sc_heap_frame *f)
{
	if (!f->module || f->function || f->file) {
		return 0; /* nothing to look in, or already done */
	}
	module_entry *e = module_open(c, f->module);
	if (!e || !e->module || f->offset == 0) {
		return 0;
	}
	/* A return address points after the call; the call itself is one byte earlier, within the
	 * calling function and on the calling line even when the call ends the function. */
	Dwarf_Addr pc = f->offset - 1;
	const char *function = e->own_dwarf ? dwarf_function(e->module, pc) : NULL;
	if (!function) {
		function = dwfl_module_addrname(e->module, pc);
	}
	const char *file = NULL;
	int line = 0;
	Dwfl_Line *l = e->own_dwarf ? dwfl_module_getsrc(e->module, pc) : NULL;
	if (l) {
		file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);
	}
	if (function && !(f->function = strdup(function))) {
		return SC_ENOMEM;
	}
	if (file && !(f->file = strdup(file))) {
		return SC_ENOMEM;
	}
	f->line = file ? line : 0;
	return 0;
}

int sc_report_symbolize(sc_report *r)
{
	module_cache cache = {0};
	int rc = 0;
	for (size_t p = 0; p < r->n_profiles && !rc; p++) {
		sc_heap_profile *h = &r->profiles[p].heap;
		for (size_t s = 0; s < h->n_sites && !rc; s++) {
			sc_heap_site *site = &h->sites[s];
			for (size_t i = 0; i < site->n_frames && !rc; i++) {
				rc = symbolize_frame(&cache, &site->frames[i]);
			}
		}
	}
	cache_free(&cache);
	return rc;
}

/* cpu_build.h: the cpu profile builder's parts: mappings, libdw symbols and DWARF unwinding. */
#ifndef SC_CPU_BUILD_H
#define SC_CPU_BUILD_H

/*
 * cpu_profile.c turns a raw sample store into a profile with three helpers:
 *
 *   cpu_symbolize.c  which mapping holds an address in a process at a time (forks share their
 *                    parent's mappings, an exec forgets the old ones), each module file opened once
 *                    with libdw, the load bias of a mapping, and an ELF address's function, file
 * and line with its inlined functions as frames of their own. cpu_unwind.c     the call chain of a
 * sample unwound with libdw from its user stack copy
 *                    (--call-graph dwarf), one Dwfl per process and set of mappings.
 *
 * Nothing here prints or aborts: an address that cannot be placed or named becomes a frame
 * named after its module and offset, or "[unknown]".
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu_samples.h"

/* ---- cpu_symbolize.c: mappings ------------------------------------------------------------- */

/* The raw store's mappings indexed by process; borrows raw, which must outlive it. */
typedef struct sc__cpu_maps sc__cpu_maps;

/* 0 or SC_ENOMEM. */
int sc__cpu_maps_new(const sc__cpu_raw *raw, sc__cpu_maps **out);
void sc__cpu_maps_free(sc__cpu_maps *m);
/* The index in raw->maps of the mapping that held addr in process pid at time t: the latest one
 * mapped at or before t (and not before the process's last exec), looked up in the parent's
 * mappings as they were at the fork when the process has none of its own there. -1 when none. */
long sc__cpu_maps_find(const sc__cpu_maps *m, uint32_t pid, uint64_t t, uint64_t addr);
/* A number that changes only when what sc__cpu_maps_find answers for pid could change: the count
 * of pid's own mappings and process records at or before t (its ancestors' count only up to the
 * fork, which is over before the child runs). Lookups can be cached under (pid, epoch). */
uint64_t sc__cpu_maps_epoch(const sc__cpu_maps *m, uint32_t pid, uint64_t t);
/* The indexes of every mapping visible in pid at t (its own, then its ancestors' up to an exec),
 * at most max of them into out; returns how many there are (may exceed max). */
size_t sc__cpu_maps_visible(const sc__cpu_maps *m, uint32_t pid, uint64_t t, size_t *out,
                            size_t max);

/* ---- cpu_symbolize.c: modules and symbols -------------------------------------------------- */

typedef struct sc__cpu_symbolizer sc__cpu_symbolizer;

/* One frame of a symbolized address; inlined functions give several, innermost first. Strings
 * belong to the symbolizer and live until it is freed. */
typedef struct sc__cpu_symbol {
	const char *function;  /* NULL: no symbol covers the address */
	const char *decl_file; /* where the function is declared; NULL unknown */
	int decl_line;
	const char *file; /* the source line of the address (inlined: of the call); NULL unknown */
	int line;
} sc__cpu_symbol;

/* 0 or SC_ENOMEM. */
int sc__cpu_symbolizer_new(sc__cpu_symbolizer **out);
void sc__cpu_symbolizer_free(sc__cpu_symbolizer *s);
/* The module id (>= 0) of the file at path, opened with libdw on first use; a path that cannot be
 * read still gets an id (its addresses stay unnamed). SC_ENOMEM. */
int sc__cpu_symbolizer_module(sc__cpu_symbolizer *s, const char *path);
/* The module's path, as given. */
const char *sc__cpu_symbolizer_path(const sc__cpu_symbolizer *s, int module);
/* Whether the module's file could be read as ELF. */
bool sc__cpu_symbolizer_readable(const sc__cpu_symbolizer *s, int module);
/* The load bias of mapping m of module (process address - ELF address): m->bias when known,
 * otherwise derived from the file's program headers. SC_ENOTFOUND when it cannot be. */
int sc__cpu_symbolizer_bias(sc__cpu_symbolizer *s, int module, const sc__cpu_mapping *m,
                            uint64_t *bias);
/* Symbolizes ELF address vaddr of module: exact for a sampled instruction, otherwise a return
 * address (the call is looked up at vaddr - 1). Writes at most max frames, innermost first, and
 * returns how many (0: nothing known). SC_ENOMEM. */
int sc__cpu_symbolize(sc__cpu_symbolizer *s, int module, uint64_t vaddr, bool exact,
                      sc__cpu_symbol *out, size_t max);

/* Where the return address of the function executing ELF address vaddr of module lies when its
 * canonical frame address is the stack pointer plus a constant: there, at rsp + *ra_offset, the
 * function has not set up its frame pointer yet (a frameless leaf, a prologue before `mov %rsp,
 * %rbp`, an epilogue after `pop %rbp`) and a frame-pointer walk misses its caller. Read from the
 * module's CFI (.eh_frame, else .debug_frame) at vaddr as an exact instruction address. 1 with
 * *ra_offset filled; 0 when the frame is rbp-based, the rule is an expression, or there is no CFI.
 */
int sc__cpu_symbolizer_sp_return(sc__cpu_symbolizer *s, int module, uint64_t vaddr,
                                 int64_t *ra_offset);

/* ---- cpu_unwind.c: DWARF unwinding of user stack copies ------------------------------------ */

typedef struct sc__cpu_unwinder sc__cpu_unwinder;

/* Borrows raw, maps and sym, which must outlive it. 0 or SC_ENOMEM. */
int sc__cpu_unwinder_new(const sc__cpu_raw *raw, const sc__cpu_maps *maps, sc__cpu_symbolizer *sym,
                         sc__cpu_unwinder **out);
void sc__cpu_unwinder_free(sc__cpu_unwinder *u);
/* Unwinds sample s (which has a user stack copy) with libdw: writes at most max addresses,
 * innermost first, to pcs, with exact[i] true for an instruction address (the first, the sampled
 * IP, and any signal frame's) and false for a return address; returns how many. What was unwound
 * before a failure is kept: at least the sampled IP. */
size_t sc__cpu_unwind(sc__cpu_unwinder *u, const sc__cpu_sample *s, uint64_t *pcs, bool *exact,
                      size_t max);

#endif

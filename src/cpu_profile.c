/* cpu_profile.c: raw CPU samples unwound, symbolized and aggregated into hotspots and stacks. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_build.h"
#include "cpu_samples.h"
#include "internal.h"

/*
 * The builder works on small integer ids: strings are interned, a function is (module, name),
 * and a location (module, ELF address, exact) is symbolized once into a run of frames (more than
 * one when functions were inlined there). A sample then costs a mapping lookup and a hash probe
 * per frame, whatever the number of samples. Everything sorts on counts, then names, so the same
 * raw store always gives the same profile.
 */

#define NONE UINT32_MAX

/* ---- a hash index over items kept in arrays elsewhere -------------------------------------- */

typedef struct slot {
	uint64_t hash;
	uint32_t item; /* NONE: empty */
} slot;

typedef struct index_table {
	slot *slots;
	size_t cap; /* a power of two, or 0 */
	size_t n;
} index_table;

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void table_free(index_table *t)
{
	free(t->slots);
	*t = (index_table){0};
}

static int table_grow(index_table *t)
{
	size_t cap = t->cap ? 2 * t->cap : 256;
	slot *slots = malloc(cap * sizeof *slots);
	if (!slots)
		return SC_ENOMEM;
	for (size_t i = 0; i < cap; i++)
		slots[i] = (slot){0, NONE};
	for (size_t i = 0; i < t->cap; i++) {
		if (t->slots[i].item == NONE)
			continue;
		size_t j = t->slots[i].hash & (cap - 1);
		while (slots[j].item != NONE)
			j = (j + 1) & (cap - 1);
		slots[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

/* The slot where an item with this hash is, or where it would go: call eq for candidates. */
typedef bool (*eq_fn)(const void *ctx, uint32_t item);

static slot *table_find(index_table *t, uint64_t hash, eq_fn eq, const void *ctx)
{
	size_t j = hash & (t->cap - 1);
	for (;; j = (j + 1) & (t->cap - 1)) {
		slot *s = &t->slots[j];
		if (s->item == NONE || (s->hash == hash && eq(ctx, s->item)))
			return s;
	}
}

/* Makes room for one more item before a find whose empty slot will be filled. */
static int table_reserve(index_table *t)
{
	return t->cap == 0 || (t->n + 1) * 2 > t->cap ? table_grow(t) : 0;
}

/* ---- the builder's state ------------------------------------------------------------------- */

typedef struct function {
	uint32_t module; /* string id of the module path; NONE unknown */
	uint32_t name;   /* string id */
	uint32_t decl_file;
	int decl_line;
	uint64_t self, total;
	size_t last_sample; /* the sample that last counted it in total, +1 */
} function;

typedef struct loc_frame {
	uint32_t fn;
	uint32_t file; /* string id; NONE unknown */
	int line;
} loc_frame;

/* Where a sampled instruction's return address is, for the frame-pointer leaf fix-up: not looked
 * up yet, not from the stack pointer (or unknown), at rsp + ra_offset. */
enum { RA_UNKNOWN, RA_NONE, RA_AT_SP };

typedef struct location {
	int module; /* symbolizer module; -1 none */
	uint64_t addr;
	bool exact;
	bool elf;          /* addr is the module's ELF address (the load bias was known) */
	uint8_t ra_rule;   /* RA_*, looked up once per location: a property of the code */
	int64_t ra_offset; /* RA_AT_SP: the return address is at rsp + ra_offset */
	uint32_t first, n; /* into frames */
	uint64_t self;     /* samples whose leaf this was */
} location;

typedef struct stack_entry {
	size_t first; /* into stack_ids */
	uint32_t n;
	uint64_t samples;
} stack_entry;

typedef struct pair_count {
	uint32_t region, fn;
	uint64_t samples;
} pair_count;

typedef struct map_info {
	bool done;
	int module; /* -1: no file */
	bool bias_ok;
	uint64_t bias;
} map_info;

/* A direct-mapped memo of frames already placed: (pid, epoch, address, exact) -> location. */
#define FRAME_CACHE_SIZE 65536

typedef struct frame_memo {
	uint64_t addr;
	uint64_t epoch;
	uint32_t pid;
	uint32_t loc; /* NONE: empty */
	bool exact;
} frame_memo;

typedef struct builder {
	const sc__cpu_raw *raw;
	uint64_t all; /* the samples' summed weight: what every percentage is of */
	sc__cpu_maps *maps;
	sc__cpu_symbolizer *sym;
	sc__cpu_unwinder *unwinder;
	map_info *map_infos;

	char **strs;
	size_t n_strs, cap_strs;
	index_table str_index;

	function *fns;
	size_t n_fns, cap_fns;
	index_table fn_index;

	location *locs;
	size_t n_locs, cap_locs;
	index_table loc_index;
	loc_frame *frames;
	size_t n_frames, cap_frames;

	uint32_t *stack_ids; /* function name ids of every distinct stack, outermost first */
	size_t n_stack_ids, cap_stack_ids;
	stack_entry *stacks;
	size_t n_stacks, cap_stacks;
	index_table stack_index;

	pair_count *pairs; /* (region, function) self samples, in-process samples only */
	size_t n_pairs, cap_pairs;
	index_table pair_index;

	/* The sample being added. */
	uint32_t *chain; /* function ids, innermost first */
	size_t n_chain, cap_chain;
	uint32_t *names; /* their name ids, outermost first */
	size_t cap_names;
	const uint32_t *probe_ids; /* a stack looked up: names, outermost first */
	size_t probe_n;

	frame_memo *memo; /* FRAME_CACHE_SIZE entries */
	uint32_t *rank;   /* rank[string id]: its place in strcmp order, for sorting */
} builder;

/* The sampling periods a sample stands for (a zeroed weight, from a store not filled through
 * sc__cpu_raw_add_sample, reads as one). */
static uint64_t sample_weight(const sc__cpu_sample *s)
{
	return s->weight ? s->weight : 1;
}

/* ---- strings ------------------------------------------------------------------------------- */

typedef struct str_probe {
	const builder *b;
	const char *s;
} str_probe;

static bool str_eq(const void *ctx, uint32_t item)
{
	const str_probe *p = ctx;
	return strcmp(p->b->strs[item], p->s) == 0;
}

/* The id of string s (copied on first sight); NONE for NULL. SC_ENOMEM via *rc. */
static uint32_t intern(builder *b, const char *s, int *rc)
{
	if (!s)
		return NONE;
	uint64_t h = hash_str(s);
	if (table_reserve(&b->str_index) ||
	    sc__cpu_reserve((void **)&b->strs, b->n_strs, &b->cap_strs, 1, sizeof *b->strs)) {
		*rc = SC_ENOMEM;
		return NONE;
	}
	str_probe p = {b, s};
	slot *sl = table_find(&b->str_index, h, str_eq, &p);
	if (sl->item != NONE)
		return sl->item;
	char *copy = strdup(s);
	if (!copy) {
		*rc = SC_ENOMEM;
		return NONE;
	}
	b->strs[b->n_strs] = copy;
	*sl = (slot){h, (uint32_t)b->n_strs};
	b->str_index.n++;
	return (uint32_t)b->n_strs++;
}

/* ---- functions ----------------------------------------------------------------------------- */

typedef struct fn_probe {
	const builder *b;
	uint32_t module, name;
} fn_probe;

static bool fn_eq(const void *ctx, uint32_t item)
{
	const fn_probe *p = ctx;
	const function *f = &p->b->fns[item];
	return f->module == p->module && f->name == p->name;
}

/* The id of function (module, name), its declaration taken from its first sighting. */
static uint32_t function_id(builder *b, uint32_t module, uint32_t name, uint32_t decl_file,
                            int decl_line, int *rc)
{
	uint64_t h = mix(mix(0, module), name);
	if (table_reserve(&b->fn_index) ||
	    sc__cpu_reserve((void **)&b->fns, b->n_fns, &b->cap_fns, 1, sizeof *b->fns)) {
		*rc = SC_ENOMEM;
		return NONE;
	}
	fn_probe p = {b, module, name};
	slot *sl = table_find(&b->fn_index, h, fn_eq, &p);
	if (sl->item != NONE) {
		function *f = &b->fns[sl->item];
		if (f->decl_file == NONE && decl_file != NONE) {
			f->decl_file = decl_file;
			f->decl_line = decl_line;
		}
		return sl->item;
	}
	b->fns[b->n_fns] = (function){module, name, decl_file, decl_line, 0, 0, 0};
	*sl = (slot){h, (uint32_t)b->n_fns};
	b->fn_index.n++;
	return (uint32_t)b->n_fns++;
}

/* ---- locations ----------------------------------------------------------------------------- */

typedef struct loc_probe {
	const builder *b;
	int module;
	uint64_t addr;
	bool exact;
} loc_probe;

static bool loc_eq(const void *ctx, uint32_t item)
{
	const loc_probe *p = ctx;
	const location *l = &p->b->locs[item];
	return l->module == p->module && l->addr == p->addr && l->exact == p->exact;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash && slash[1] ? slash + 1 : path;
}

static int add_frame(builder *b, uint32_t fn, uint32_t file, int line)
{
	if (sc__cpu_reserve((void **)&b->frames, b->n_frames, &b->cap_frames, 1, sizeof *b->frames))
		return SC_ENOMEM;
	b->frames[b->n_frames++] = (loc_frame){fn, file, line};
	return 0;
}

/* Symbolizes a new location into its run of frames. */
static int symbolize_location(builder *b, location *l)
{
	int rc = 0;
	l->first = (uint32_t)b->n_frames;
	if (l->module < 0) {
		/* No mapping holds the address: nothing names it, not even a module. */
		uint32_t fn = function_id(b, NONE, intern(b, "[unknown]", &rc), NONE, 0, &rc);
		if (rc || (rc = add_frame(b, fn, NONE, 0)))
			return rc;
		l->n = 1;
		return 0;
	}
	const char *path = sc__cpu_symbolizer_path(b->sym, l->module);
	uint32_t module = intern(b, path, &rc);
	sc__cpu_symbol syms[64];
	int n = sc__cpu_symbolize(b->sym, l->module, l->addr, l->exact, syms, 64);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		uint32_t name = intern(b, syms[i].function, &rc);
		uint32_t decl = intern(b, syms[i].decl_file, &rc);
		uint32_t fn = function_id(b, module, name, decl, syms[i].decl_line, &rc);
		uint32_t file = intern(b, syms[i].file, &rc);
		if (rc || (rc = add_frame(b, fn, file, syms[i].file ? syms[i].line : 0)))
			return rc ? rc : SC_ENOMEM;
	}
	if (n == 0) {
		/* Nothing names it: the module and the offset do, which a user can still feed to
		 * addr2line (the ELF address, or the file offset for a mapping without a file). */
		char name[300];
		snprintf(name, sizeof name, "%s+0x%llx", base_name(path),
		         (unsigned long long)l->addr);
		uint32_t fn = function_id(b, module, intern(b, name, &rc), NONE, 0, &rc);
		if (rc || (rc = add_frame(b, fn, NONE, 0)))
			return rc;
		n = 1;
	}
	l->n = (uint32_t)n;
	return rc;
}

/* The location of address addr in sample s (exact: the sampled IP), symbolized on first use. */
static int location_of(builder *b, const sc__cpu_sample *s, uint64_t addr, bool exact,
                       uint32_t *out)
{
	long mi = sc__cpu_maps_find(b->maps, s->pid, s->time_ns, addr);
	int module = -1;
	uint64_t key = addr;
	if (mi >= 0) {
		map_info *info = &b->map_infos[mi];
		const sc__cpu_mapping *m = &b->raw->maps[mi];
		if (!info->done) {
			info->done = true;
			info->module = sc__cpu_symbolizer_module(b->sym, m->path);
			if (info->module == SC_ENOMEM)
				return SC_ENOMEM;
			info->bias_ok =
			    sc__cpu_symbolizer_bias(b->sym, info->module, m, &info->bias) == 0;
		}
		module = info->module;
		/* The ELF address when the bias is known; otherwise the offset in the file. */
		key = info->bias_ok ? addr - info->bias : addr - m->start + m->pgoff;
	} else {
		key = 0; /* every unplaced address is the one "[unknown]" */
		exact = true;
	}
	uint64_t h = mix(mix(mix(0, (uint64_t)(int64_t)module), key), exact);
	if (table_reserve(&b->loc_index) ||
	    sc__cpu_reserve((void **)&b->locs, b->n_locs, &b->cap_locs, 1, sizeof *b->locs))
		return SC_ENOMEM;
	loc_probe p = {b, module, key, exact};
	slot *sl = table_find(&b->loc_index, h, loc_eq, &p);
	if (sl->item != NONE) {
		*out = sl->item;
		return 0;
	}
	location *l = &b->locs[b->n_locs];
	*l = (location){.module = module,
	                .addr = key,
	                .exact = exact,
	                .elf = mi >= 0 && b->map_infos[mi].bias_ok};
	int rc = symbolize_location(b, l);
	if (rc)
		return rc;
	/* symbolize_location may have grown the string and function tables, not locs or the slot's
	 * table: the slot is still valid. */
	*sl = (slot){h, (uint32_t)b->n_locs};
	b->loc_index.n++;
	*out = (uint32_t)b->n_locs++;
	return 0;
}

/* ---- stacks -------------------------------------------------------------------------------- */

static bool stack_eq(const void *ctx, uint32_t item)
{
	const builder *b = ctx;
	const stack_entry *e = &b->stacks[item];
	return e->n == b->probe_n && memcmp(b->stack_ids + e->first, b->probe_ids,
	                                    b->probe_n * sizeof *b->probe_ids) == 0;
}

/* Counts a sample of weight w for the stack of names ids[0..n), outermost first. */
static int count_stack(builder *b, const uint32_t *ids, size_t n, uint64_t w)
{
	uint64_t h = mix(0, n);
	for (size_t i = 0; i < n; i++)
		h = mix(h, ids[i]);
	if (table_reserve(&b->stack_index) ||
	    sc__cpu_reserve((void **)&b->stacks, b->n_stacks, &b->cap_stacks, 1, sizeof *b->stacks))
		return SC_ENOMEM;
	b->probe_ids = ids;
	b->probe_n = n;
	slot *sl = table_find(&b->stack_index, h, stack_eq, b);
	if (sl->item != NONE) {
		b->stacks[sl->item].samples += w;
		return 0;
	}
	if (sc__cpu_reserve((void **)&b->stack_ids, b->n_stack_ids, &b->cap_stack_ids, n ? n : 1,
	                    sizeof *b->stack_ids))
		return SC_ENOMEM;
	memcpy(b->stack_ids + b->n_stack_ids, ids, n * sizeof *ids);
	b->stacks[b->n_stacks] = (stack_entry){b->n_stack_ids, (uint32_t)n, w};
	b->n_stack_ids += n;
	*sl = (slot){h, (uint32_t)b->n_stacks};
	b->stack_index.n++;
	b->n_stacks++;
	return 0;
}

/* ---- (region, function) counts ------------------------------------------------------------- */

typedef struct pair_probe {
	const builder *b;
	uint32_t region, fn;
} pair_probe;

static bool pair_eq(const void *ctx, uint32_t item)
{
	const pair_probe *p = ctx;
	return p->b->pairs[item].region == p->region && p->b->pairs[item].fn == p->fn;
}

static int count_pair(builder *b, uint32_t region, uint32_t fn, uint64_t samples)
{
	uint64_t h = mix(mix(1, region), fn);
	if (table_reserve(&b->pair_index) ||
	    sc__cpu_reserve((void **)&b->pairs, b->n_pairs, &b->cap_pairs, 1, sizeof *b->pairs))
		return SC_ENOMEM;
	pair_probe p = {b, region, fn};
	slot *sl = table_find(&b->pair_index, h, pair_eq, &p);
	if (sl->item != NONE) {
		b->pairs[sl->item].samples += samples;
		return 0;
	}
	b->pairs[b->n_pairs] = (pair_count){region, fn, samples};
	*sl = (slot){h, (uint32_t)b->n_pairs};
	b->pair_index.n++;
	b->n_pairs++;
	return 0;
}

/* ---- one sample ---------------------------------------------------------------------------- */

/* The location of frame pc of sample s. Most frames were seen before under the same mappings: the
 * memo answers them without a mapping lookup or a symbol table probe. */
static int frame_location(builder *b, const sc__cpu_sample *s, uint64_t epoch, uint64_t seed,
                          uint64_t pc, bool exact, uint32_t *loc)
{
	frame_memo *fm = &b->memo[mix(seed, pc * 2 + exact) & (FRAME_CACHE_SIZE - 1)];
	if (fm->loc != NONE && fm->addr == pc && fm->exact == exact && fm->pid == s->pid &&
	    fm->epoch == epoch) {
		*loc = fm->loc;
		return 0;
	}
	int rc = location_of(b, s, pc, exact, loc);
	if (rc)
		return rc;
	*fm = (frame_memo){pc, epoch, s->pid, *loc, exact};
	return 0;
}

/*
 * The caller a frame-pointer chain misses. The kernel's chain is the sampled IP, then the return
 * address beside each saved rbp. A function that has not made rbp its frame pointer at the sampled
 * instruction (a leaf GCC builds without a frame even with -fno-omit-frame-pointer, a prologue
 * before `mov %rsp,%rbp`, an epilogue after `pop %rbp`, a library built without frame pointers)
 * leaves rbp as its caller's, so the chain's second address is its caller's return address and
 * the caller itself is missing. Where the CFI at the IP says the frame is rsp-based, the return
 * address lies in the few bytes of stack the sampler copied: it is put back as the second frame.
 * Only the leaf needs it; the frames further out come from the rbp chain as before.
 */
static int fix_leaf_caller(builder *b, const sc__cpu_sample *s, uint64_t epoch, uint64_t seed,
                           uint64_t *pcs, bool *exact, size_t *n)
{
	if (*n == 0 || s->user_index >= b->raw->n_user)
		return 0;
	uint32_t loc;
	int rc = frame_location(b, s, epoch, seed, pcs[0], true, &loc);
	if (rc)
		return rc;
	location *l = &b->locs[loc];
	if (l->ra_rule == RA_UNKNOWN) {
		l->ra_rule = RA_NONE;
		if (l->module >= 0 && l->elf &&
		    sc__cpu_symbolizer_sp_return(b->sym, l->module, l->addr, &l->ra_offset))
			l->ra_rule = RA_AT_SP;
	}
	if (l->ra_rule != RA_AT_SP)
		return 0;
	const sc__cpu_user_stack *u = &b->raw->user[s->user_index];
	/* The copy holds [rsp, rsp + stack_len); a slot outside it (or a negative offset, which no
	 * call leaves) changes nothing. */
	if (l->ra_offset < 0 || (uint64_t)l->ra_offset > u->stack_len ||
	    u->stack_len - (uint64_t)l->ra_offset < sizeof(uint64_t))
		return 0;
	uint64_t ra;
	memcpy(&ra, b->raw->stack_bytes + u->stack_off + (size_t)l->ra_offset, sizeof ra);
	/* Already there: the chain was right (recursion into itself, or a sampler that found it).
	 */
	if (ra == 0 || (*n > 1 && pcs[1] == ra))
		return 0;
	size_t keep = *n < SC__CPU_MAX_FRAMES ? *n : SC__CPU_MAX_FRAMES - 1;
	memmove(pcs + 2, pcs + 1, (keep - 1) * sizeof *pcs);
	memmove(exact + 2, exact + 1, (keep - 1) * sizeof *exact);
	pcs[1] = ra;
	exact[1] = false;
	*n = keep + 1;
	return 0;
}

static int add_sample(builder *b, size_t index, const sc__cpu_sample *s, bool dwarf, uint64_t *pcs,
                      bool *exact, size_t n_regions)
{
	size_t n;
	uint64_t epoch = sc__cpu_maps_epoch(b->maps, s->pid, s->time_ns);
	uint64_t seed = mix(mix(0, s->pid), epoch);
	if (dwarf && s->user_index != SIZE_MAX && b->unwinder) {
		n = sc__cpu_unwind(b->unwinder, s, pcs, exact, SC__CPU_MAX_FRAMES);
	} else {
		n = s->n_frames;
		for (size_t i = 0; i < n; i++) {
			pcs[i] = b->raw->frames[s->first_frame + i];
			exact[i] = i == 0;
		}
		/* Frame pointers with a small stack copy: the leaf's caller, where the chain lost
		 * it.
		 */
		int rc = fix_leaf_caller(b, s, epoch, seed, pcs, exact, &n);
		if (rc)
			return rc;
	}
	b->n_chain = 0;
	uint32_t leaf_loc = NONE;
	for (size_t i = 0; i < n; i++) {
		uint32_t loc;
		int rc = frame_location(b, s, epoch, seed, pcs[i], exact[i], &loc);
		if (rc)
			return rc;
		if (i == 0)
			leaf_loc = loc;
		const location *l = &b->locs[loc];
		if (sc__cpu_reserve((void **)&b->chain, b->n_chain, &b->cap_chain, l->n,
		                    sizeof *b->chain))
			return SC_ENOMEM;
		for (uint32_t k = 0; k < l->n; k++)
			b->chain[b->n_chain++] = b->frames[l->first + k].fn;
	}
	if (b->n_chain == 0) {
		/* A sample without even its IP still counts, against "[unknown]". */
		int rc = 0;
		uint32_t fn = function_id(b, NONE, intern(b, "[unknown]", &rc), NONE, 0, &rc);
		if (rc ||
		    sc__cpu_reserve((void **)&b->chain, 0, &b->cap_chain, 1, sizeof *b->chain))
			return rc ? rc : SC_ENOMEM;
		b->chain[b->n_chain++] = fn;
	}
	/* Every count below is in sampling periods: a sample weighs what it stands for. */
	uint64_t w = sample_weight(s);
	if (leaf_loc != NONE)
		b->locs[leaf_loc].self += w;
	uint32_t leaf = b->chain[0];
	b->fns[leaf].self += w;
	for (size_t i = 0; i < b->n_chain; i++) {
		function *f = &b->fns[b->chain[i]];
		if (f->last_sample != index + 1) {
			f->last_sample =
			    index + 1; /* once per sample, however deep the recursion */
			f->total += w;
		}
	}
	if (n_regions && s->region >= 0 && (size_t)s->region < n_regions) {
		int rc = count_pair(b, (uint32_t)s->region, leaf, w);
		if (rc)
			return rc;
	}
	if (sc__cpu_reserve((void **)&b->names, 0, &b->cap_names, b->n_chain, sizeof *b->names))
		return SC_ENOMEM;
	for (size_t i = 0; i < b->n_chain; i++)
		b->names[i] = b->fns[b->chain[b->n_chain - 1 - i]].name;
	return count_stack(b, b->names, b->n_chain, w);
}

/* ---- ordering ------------------------------------------------------------------------------ */

static _Thread_local const builder *sort_b; /* qsort has no context argument in C11 */

static int cmp_str_ids(uint32_t a, uint32_t b)
{
	if (a == b)
		return 0;
	if (a == NONE || b == NONE)
		return a == NONE ? -1 : 1;
	return sort_b->rank[a] < sort_b->rank[b] ? -1 : 1;
}

static int cmp_strs(const void *pa, const void *pb)
{
	return strcmp(sort_b->strs[*(const uint32_t *)pa], sort_b->strs[*(const uint32_t *)pb]);
}

/* Ranks the strings once so that sorting compares integers. */
static int rank_strings(builder *b)
{
	uint32_t *order = malloc((b->n_strs ? b->n_strs : 1) * sizeof *order);
	b->rank = malloc((b->n_strs ? b->n_strs : 1) * sizeof *b->rank);
	if (!order || !b->rank) {
		free(order);
		return SC_ENOMEM;
	}
	for (size_t i = 0; i < b->n_strs; i++)
		order[i] = (uint32_t)i;
	sort_b = b;
	qsort(order, b->n_strs, sizeof *order, cmp_strs);
	for (size_t i = 0; i < b->n_strs; i++)
		b->rank[order[i]] = (uint32_t)i;
	free(order);
	return 0;
}

static int cmp_fn_self(const void *pa, const void *pb)
{
	const function *a = &sort_b->fns[*(const uint32_t *)pa];
	const function *b = &sort_b->fns[*(const uint32_t *)pb];
	if (a->self != b->self)
		return a->self > b->self ? -1 : 1;
	if (a->total != b->total)
		return a->total > b->total ? -1 : 1;
	int c = cmp_str_ids(a->name, b->name);
	return c ? c : cmp_str_ids(a->module, b->module);
}

static int cmp_fn_total(const void *pa, const void *pb)
{
	const function *a = &sort_b->fns[*(const uint32_t *)pa];
	const function *b = &sort_b->fns[*(const uint32_t *)pb];
	if (a->total != b->total)
		return a->total > b->total ? -1 : 1;
	return cmp_fn_self(pa, pb);
}

static int cmp_stack(const void *pa, const void *pb)
{
	const stack_entry *a = &sort_b->stacks[*(const uint32_t *)pa];
	const stack_entry *b = &sort_b->stacks[*(const uint32_t *)pb];
	if (a->samples != b->samples)
		return a->samples > b->samples ? -1 : 1;
	for (uint32_t i = 0; i < a->n && i < b->n; i++) {
		int c =
		    cmp_str_ids(sort_b->stack_ids[a->first + i], sort_b->stack_ids[b->first + i]);
		if (c)
			return c;
	}
	return a->n < b->n ? -1 : a->n > b->n;
}

/* Reorders order[0..n) so that its first k are the k smallest by cmp_stack (in any order):
 * quickselect, since only the stacks kept need sorting and a profile may hold 100,000. */
static void select_stacks(uint32_t *order, size_t n, size_t k)
{
	size_t lo = 0, hi = n; /* the k-th smallest lies in [lo, hi) */
	while (hi - lo > 16) {
		/* The median of three as pivot, moved to lo. */
		size_t mid = lo + (hi - lo) / 2, last = hi - 1;
		if (cmp_stack(&order[mid], &order[lo]) < 0) {
			uint32_t t = order[mid];
			order[mid] = order[lo];
			order[lo] = t;
		}
		if (cmp_stack(&order[last], &order[lo]) < 0) {
			uint32_t t = order[last];
			order[last] = order[lo];
			order[lo] = t;
		}
		if (cmp_stack(&order[last], &order[mid]) < 0) {
			uint32_t t = order[last];
			order[last] = order[mid];
			order[mid] = t;
		}
		uint32_t pivot = order[mid];
		order[mid] = order[lo];
		order[lo] = pivot;
		/* Lomuto: [lo+1, store) are below the pivot. */
		size_t store = lo + 1;
		for (size_t i = lo + 1; i < hi; i++) {
			if (cmp_stack(&order[i], &pivot) < 0) {
				uint32_t t = order[i];
				order[i] = order[store];
				order[store++] = t;
			}
		}
		order[lo] = order[store - 1];
		order[store - 1] = pivot;
		size_t p = store - 1;
		if (p == k)
			return;
		if (k < p)
			hi = p;
		else
			lo = p + 1;
	}
	qsort(order + lo, hi - lo, sizeof *order, cmp_stack);
}

/* A leaf line of a function: the locations' first frames grouped by (function, file, line). */
typedef struct line_count {
	uint32_t fn, file;
	int line;
	uint64_t samples;
} line_count;

static int cmp_line_key(const void *pa, const void *pb)
{
	const line_count *a = pa, *b = pb;
	if (a->fn != b->fn)
		return a->fn < b->fn ? -1 : 1;
	int c = cmp_str_ids(a->file, b->file);
	if (c)
		return c;
	return a->line < b->line ? -1 : a->line > b->line;
}

static int cmp_line_rank(const void *pa, const void *pb)
{
	const line_count *a = pa, *b = pb;
	if (a->fn != b->fn)
		return a->fn < b->fn ? -1 : 1;
	if (a->samples != b->samples)
		return a->samples > b->samples ? -1 : 1;
	return cmp_line_key(pa, pb);
}

/* ---- the profile --------------------------------------------------------------------------- */

static void builder_free(builder *b)
{
	sc__cpu_unwinder_free(b->unwinder);
	sc__cpu_symbolizer_free(b->sym);
	sc__cpu_maps_free(b->maps);
	free(b->map_infos);
	for (size_t i = 0; i < b->n_strs; i++)
		free(b->strs[i]);
	free(b->strs);
	table_free(&b->str_index);
	free(b->fns);
	table_free(&b->fn_index);
	free(b->locs);
	table_free(&b->loc_index);
	free(b->frames);
	free(b->stack_ids);
	free(b->stacks);
	table_free(&b->stack_index);
	free(b->pairs);
	table_free(&b->pair_index);
	free(b->chain);
	free(b->names);
	free(b->memo);
	free(b->rank);
}

static char *dup_id(const builder *b, uint32_t id, int *rc)
{
	if (id == NONE)
		return NULL;
	char *s = strdup(b->strs[id]);
	if (!s)
		*rc = SC_ENOMEM;
	return s;
}

static double percent(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* Chooses the hotspots: the top half by self samples, then the top by total that are not among
 * them, then more by self, at most SC_CPU_MAX_HOTSPOTS, listed by self samples. */
static int fill_hotspots(builder *b, sc_cpu_profile *out)
{
	int rc = 0;
	size_t n = b->n_fns;
	uint32_t *by_self = malloc((n ? n : 1) * sizeof *by_self);
	uint32_t *by_total = malloc((n ? n : 1) * sizeof *by_total);
	uint32_t *chosen = malloc((n ? n : 1) * sizeof *chosen);
	bool *taken = calloc(n ? n : 1, sizeof *taken);
	line_count *lines = NULL;
	size_t n_lines = 0;
	if (!by_self || !by_total || !chosen || !taken) {
		rc = SC_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		by_self[i] = by_total[i] = (uint32_t)i;
	sort_b = b;
	qsort(by_self, n, sizeof *by_self, cmp_fn_self);
	qsort(by_total, n, sizeof *by_total, cmp_fn_total);
	size_t n_chosen = 0, max = SC_CPU_MAX_HOTSPOTS;
	for (size_t i = 0; i < n && n_chosen < max / 2; i++)
		if (!taken[by_self[i]])
			taken[chosen[n_chosen++] = by_self[i]] = true;
	for (size_t i = 0; i < n && n_chosen < max; i++)
		if (!taken[by_total[i]])
			taken[chosen[n_chosen++] = by_total[i]] = true;
	qsort(chosen, n_chosen, sizeof *chosen, cmp_fn_self);

	/* The leaf lines, grouped by (function, file, line) over the locations. */
	lines = malloc((b->n_locs ? b->n_locs : 1) * sizeof *lines);
	if (!lines) {
		rc = SC_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < b->n_locs; i++) {
		const location *l = &b->locs[i];
		if (!l->self || !l->n || b->frames[l->first].file == NONE)
			continue;
		const loc_frame *f = &b->frames[l->first];
		lines[n_lines++] = (line_count){f->fn, f->file, f->line, l->self};
	}
	qsort(lines, n_lines, sizeof *lines, cmp_line_key);
	size_t merged = 0;
	for (size_t i = 0; i < n_lines; i++) {
		if (merged && cmp_line_key(&lines[merged - 1], &lines[i]) == 0)
			lines[merged - 1].samples += lines[i].samples;
		else
			lines[merged++] = lines[i];
	}
	n_lines = merged;
	qsort(lines, n_lines, sizeof *lines, cmp_line_rank);

	out->hotspots = calloc(n_chosen ? n_chosen : 1, sizeof *out->hotspots);
	if (!out->hotspots) {
		rc = SC_ENOMEM;
		goto done;
	}
	out->n_hotspots = n_chosen;
	uint64_t all = b->all;
	for (size_t i = 0; i < n_chosen && !rc; i++) {
		const function *f = &b->fns[chosen[i]];
		sc_cpu_hotspot *h = &out->hotspots[i];
		h->function = dup_id(b, f->name, &rc);
		h->module = dup_id(b, f->module, &rc);
		h->file = dup_id(b, f->decl_file, &rc);
		h->line = f->decl_file != NONE ? f->decl_line : 0;
		h->self_samples = f->self;
		h->total_samples = f->total;
		h->self_percent = percent(f->self, all);
		h->total_percent = percent(f->total, all);
		/* This function's lines: a binary search for its first in the ranked list. */
		size_t lo = 0, hi = n_lines;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (lines[mid].fn < chosen[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		size_t k = 0;
		while (lo + k < n_lines && lines[lo + k].fn == chosen[i] && k < SC_CPU_MAX_LINES)
			k++;
		if (!k)
			continue;
		h->lines = calloc(k, sizeof *h->lines);
		if (!h->lines) {
			rc = SC_ENOMEM;
			break;
		}
		h->n_lines = k;
		for (size_t j = 0; j < k; j++) {
			const line_count *lc = &lines[lo + j];
			h->lines[j] = (sc_cpu_line){dup_id(b, lc->file, &rc), lc->line, lc->samples,
			                            percent(lc->samples, all)};
		}
	}
done:
	free(by_self);
	free(by_total);
	free(chosen);
	free(taken);
	free(lines);
	return rc;
}

/* The distinct stacks by samples, the ones past the cap summed into "[other stacks]". */
static int fill_stacks(builder *b, sc_cpu_profile *out)
{
	int rc = 0;
	size_t n = b->n_stacks;
	uint32_t *order = malloc((n ? n : 1) * sizeof *order);
	if (!order)
		return SC_ENOMEM;
	for (size_t i = 0; i < n; i++)
		order[i] = (uint32_t)i;
	sort_b = b;
	size_t keep = n > SC_CPU_MAX_STACKS ? SC_CPU_MAX_STACKS - 1 : n;
	if (keep < n)
		select_stacks(order, n, keep);
	qsort(order, keep, sizeof *order, cmp_stack);
	size_t total = n > SC_CPU_MAX_STACKS ? SC_CPU_MAX_STACKS : n;
	out->stacks = calloc(total ? total : 1, sizeof *out->stacks);
	if (!out->stacks) {
		free(order);
		return SC_ENOMEM;
	}
	out->n_stacks = total;
	for (size_t i = 0; i < keep && !rc; i++) {
		const stack_entry *e = &b->stacks[order[i]];
		sc_cpu_stack *st = &out->stacks[i];
		st->samples = e->samples;
		st->frames = calloc(e->n ? e->n : 1, sizeof *st->frames);
		if (!st->frames) {
			rc = SC_ENOMEM;
			break;
		}
		st->n_frames = e->n;
		for (uint32_t k = 0; k < e->n && !rc; k++)
			st->frames[k] = dup_id(b, b->stack_ids[e->first + k], &rc);
	}
	if (!rc && total > keep) {
		/* The summed rest goes where the same order puts it: by its count, then its name.
		 */
		uint64_t rest = 0;
		for (size_t i = keep; i < n; i++)
			rest += b->stacks[order[i]].samples;
		size_t at = keep;
		while (at > 0 && (out->stacks[at - 1].samples < rest ||
		                  (out->stacks[at - 1].samples == rest &&
		                   strcmp(out->stacks[at - 1].frames[0], "[other stacks]") > 0)))
			at--;
		memmove(&out->stacks[at + 1], &out->stacks[at], (keep - at) * sizeof *out->stacks);
		sc_cpu_stack *st = &out->stacks[at];
		*st = (sc_cpu_stack){calloc(1, sizeof(char *)), 1, rest};
		if (!st->frames || !(st->frames[0] = strdup("[other stacks]")))
			rc = SC_ENOMEM;
	}
	free(order);
	return rc;
}

/* Regions: each sample counts for its region and every enclosing one; the top function of a
 * region is the one with the most self samples among them. */
static int fill_regions(builder *b, sc_region_stats *regions, size_t n_regions)
{
	int rc = 0;
	size_t *parent = malloc((n_regions ? n_regions : 1) * sizeof *parent);
	uint64_t *own = calloc(n_regions ? n_regions : 1, sizeof *own);
	if (!parent || !own) {
		rc = SC_ENOMEM;
		goto done;
	}
	/* The parent is the nearest earlier region one level up with the parent's name. */
	for (size_t i = 0; i < n_regions; i++) {
		parent[i] = SIZE_MAX;
		if (regions[i].depth <= 0 || !regions[i].parent[0])
			continue;
		for (size_t j = i; j-- > 0;) {
			if (regions[j].depth == regions[i].depth - 1 &&
			    strcmp(regions[j].name, regions[i].parent) == 0) {
				parent[i] = j;
				break;
			}
		}
	}
	for (size_t i = 0; i < b->raw->n_samples; i++) {
		int32_t r = b->raw->samples[i].region;
		if (r >= 0 && (size_t)r < n_regions)
			own[r] += sample_weight(&b->raw->samples[i]);
	}
	for (size_t i = 0; i < n_regions; i++) {
		regions[i].cpu_samples = 0;
		regions[i].cpu_top_function[0] = '\0';
	}
	for (size_t i = 0; i < n_regions; i++) {
		size_t depth = 0;
		for (size_t r = i; r != SIZE_MAX && depth <= n_regions; r = parent[r], depth++)
			regions[r].cpu_samples += (int64_t)own[i];
	}
	/* Spread the (region, function) self counts to the ancestors, then pick the best. */
	size_t direct = b->n_pairs;
	for (size_t i = 0; i < direct && !rc; i++) {
		pair_count p = b->pairs[i];
		size_t depth = 0;
		for (size_t r = parent[p.region]; r != SIZE_MAX && depth <= n_regions && !rc;
		     r = parent[r], depth++)
			rc = count_pair(b, (uint32_t)r, p.fn, p.samples);
	}
	uint64_t all = b->all;
	uint32_t *best = malloc((n_regions ? n_regions : 1) * sizeof *best);
	if (!best) {
		rc = SC_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < n_regions; i++)
		best[i] = NONE;
	for (size_t i = 0; i < b->n_pairs; i++) {
		const pair_count *p = &b->pairs[i];
		uint32_t cur = best[p->region];
		if (cur == NONE || p->samples > b->pairs[cur].samples ||
		    (p->samples == b->pairs[cur].samples &&
		     strcmp(b->strs[b->fns[p->fn].name], b->strs[b->fns[b->pairs[cur].fn].name]) <
		         0))
			best[p->region] = (uint32_t)i;
	}
	for (size_t i = 0; i < n_regions; i++) {
		regions[i].cpu_percent = percent((uint64_t)regions[i].cpu_samples, all);
		if (best[i] != NONE)
			snprintf(regions[i].cpu_top_function, sizeof regions[i].cpu_top_function,
			         "%s", b->strs[b->fns[b->pairs[best[i]].fn].name]);
	}
	free(best);
done:
	free(parent);
	free(own);
	return rc;
}

/* Distinct values among n samples' field (pid or tid). */
static size_t count_distinct(const sc__cpu_raw *raw, bool tids)
{
	size_t n = raw->n_samples;
	uint64_t *v = malloc((n ? n : 1) * sizeof *v);
	if (!v)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const sc__cpu_sample *s = &raw->samples[i];
		v[i] = tids ? ((uint64_t)s->pid << 32 | s->tid) : s->pid;
	}
	/* Insertion into a small open-addressing set keeps this linear. */
	size_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	uint64_t *set = malloc(cap * sizeof *set);
	bool *used = calloc(cap, sizeof *used);
	size_t distinct = 0;
	if (set && used) {
		for (size_t i = 0; i < n; i++) {
			size_t j = mix(7, v[i]) & (cap - 1);
			while (used[j] && set[j] != v[i])
				j = (j + 1) & (cap - 1);
			if (!used[j]) {
				used[j] = true;
				set[j] = v[i];
				distinct++;
			}
		}
	}
	free(set);
	free(used);
	free(v);
	return distinct;
}

int sc__cpu_profile_build(const sc__cpu_raw *raw, const sc__cpu_build_options *o,
                          sc_cpu_profile *out, sc_region_stats *regions, size_t n_regions)
{
	*out = (sc_cpu_profile){0};
	out->available = true;
	out->sampler = o->sampler;
	out->call_graph = o->call_graph ? o->call_graph : "fp";
	out->rate_hz = o->rate_hz;
	out->duration_s = o->duration_s;
	uint64_t all = sc__cpu_raw_weight(raw);
	out->samples = all;
	out->lost_samples = raw->lost;
	out->cpu_s = o->rate_hz > 0 ? (double)all / o->rate_hz : NAN;
	out->threads = count_distinct(raw, true);
	out->processes = count_distinct(raw, false);
	out->kept_one_in = raw->stride > 1 ? raw->stride : 1;
	if (out->kept_one_in > 1) {
		/* Past its memory bound the store thinned itself (cpu_raw.c): the counts are still
		 * in sampling periods, but coarser, which the reader should know. */
		size_t cap = raw->max_bytes ? raw->max_bytes : SC__CPU_RAW_MAX_BYTES;
		bool mib = cap >= ((size_t)1 << 20);
		snprintf(out->sampler_note, sizeof out->sampler_note,
		         "the collector kept 1 in %" PRIu32
		         " samples past %zu %s, each weighing the %" PRIu32 " it stands for",
		         out->kept_one_in, mib ? cap >> 20 : cap >> 10, mib ? "MiB" : "KiB",
		         out->kept_one_in);
	}

	builder b = {.raw = raw, .all = all};
	uint64_t *pcs = malloc(SC__CPU_MAX_FRAMES * sizeof *pcs);
	bool *exact = malloc(SC__CPU_MAX_FRAMES * sizeof *exact);
	int rc = 0;
	bool dwarf = o->call_graph && strcmp(o->call_graph, "dwarf") == 0 && raw->n_user;
	if (!pcs || !exact || sc__cpu_maps_new(raw, &b.maps) || sc__cpu_symbolizer_new(&b.sym) ||
	    !(b.map_infos = calloc(raw->n_maps ? raw->n_maps : 1, sizeof *b.map_infos)) ||
	    !(b.memo = malloc(FRAME_CACHE_SIZE * sizeof *b.memo)) ||
	    (dwarf && sc__cpu_unwinder_new(raw, b.maps, b.sym, &b.unwinder))) {
		rc = SC_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < FRAME_CACHE_SIZE; i++)
		b.memo[i].loc = NONE;
	for (size_t i = 0; i < raw->n_samples && !rc; i++)
		rc = add_sample(&b, i, &raw->samples[i], dwarf, pcs, exact, n_regions);
	if (!rc)
		rc = rank_strings(&b);
	if (!rc)
		rc = fill_hotspots(&b, out);
	if (!rc)
		rc = fill_stacks(&b, out);
	if (!rc && regions)
		rc = fill_regions(&b, regions, n_regions);
done:
	free(pcs);
	free(exact);
	builder_free(&b);
	if (rc) {
		sc__cpu_profile_release(out);
		return rc;
	}
	return 0;
}

void sc__cpu_profile_unavailable(sc_cpu_profile *out, const char *fmt, ...)
{
	*out = (sc_cpu_profile){0};
	out->kept_one_in = 1;
	out->rate_hz = NAN;
	out->duration_s = NAN;
	out->cpu_s = NAN;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof out->reason, fmt, ap);
	va_end(ap);
}

void sc__cpu_profile_release(sc_cpu_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_hotspots; i++) {
		sc_cpu_hotspot *h = &p->hotspots[i];
		free(h->function);
		free(h->module);
		free(h->file);
		for (size_t k = 0; k < h->n_lines; k++)
			free(h->lines[k].file);
		free(h->lines);
	}
	free(p->hotspots);
	for (size_t i = 0; i < p->n_stacks; i++) {
		for (size_t k = 0; k < p->stacks[i].n_frames; k++)
			free(p->stacks[i].frames[k]);
		free(p->stacks[i].frames);
	}
	free(p->stacks);
	sc__cpu_profile_unavailable(p, "%s", "");
}

/* strdup that keeps NULL and records a failure in *rc. */
static char *dup_or_null(const char *s, int *rc)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*rc = SC_ENOMEM;
	return d;
}

int sc__cpu_profile_copy(sc_cpu_profile *dst, const sc_cpu_profile *src)
{
	*dst = *src;
	dst->hotspots = NULL;
	dst->n_hotspots = 0;
	dst->stacks = NULL;
	dst->n_stacks = 0;
	int rc = 0;
	if (src->n_hotspots) {
		dst->hotspots = calloc(src->n_hotspots, sizeof *dst->hotspots);
		if (!dst->hotspots)
			rc = SC_ENOMEM;
		else
			dst->n_hotspots = src->n_hotspots;
	}
	for (size_t i = 0; i < dst->n_hotspots && !rc; i++) {
		const sc_cpu_hotspot *s = &src->hotspots[i];
		sc_cpu_hotspot *d = &dst->hotspots[i];
		*d = *s;
		d->lines = NULL;
		d->n_lines = 0;
		d->function = dup_or_null(s->function, &rc);
		d->module = dup_or_null(s->module, &rc);
		d->file = dup_or_null(s->file, &rc);
		if (s->n_lines && !rc) {
			d->lines = calloc(s->n_lines, sizeof *d->lines);
			if (!d->lines) {
				rc = SC_ENOMEM;
				break;
			}
			d->n_lines = s->n_lines;
			for (size_t k = 0; k < s->n_lines; k++) {
				d->lines[k] = s->lines[k];
				d->lines[k].file = dup_or_null(s->lines[k].file, &rc);
			}
		}
	}
	if (src->n_stacks && !rc) {
		dst->stacks = calloc(src->n_stacks, sizeof *dst->stacks);
		if (!dst->stacks)
			rc = SC_ENOMEM;
		else
			dst->n_stacks = src->n_stacks;
	}
	for (size_t i = 0; i < dst->n_stacks && !rc; i++) {
		const sc_cpu_stack *s = &src->stacks[i];
		sc_cpu_stack *d = &dst->stacks[i];
		d->samples = s->samples;
		if (!s->n_frames)
			continue;
		d->frames = calloc(s->n_frames, sizeof *d->frames);
		if (!d->frames) {
			rc = SC_ENOMEM;
			break;
		}
		d->n_frames = s->n_frames;
		for (size_t k = 0; k < s->n_frames; k++)
			d->frames[k] = dup_or_null(s->frames[k], &rc);
	}
	if (rc)
		sc__cpu_profile_release(dst);
	return rc;
}

void sc__cpu_note_prepend(sc_cpu_profile *c, const char *text)
{
	if (!text || !*text)
		return;
	/* Built in a larger buffer, then cut to the note's size: both parts are ours and short. */
	char note[2 * sizeof c->sampler_note + 4];
	if (c->sampler_note[0])
		snprintf(note, sizeof note, "%.*s; %s", (int)sizeof c->sampler_note, text,
		         c->sampler_note);
	else
		snprintf(note, sizeof note, "%.*s", (int)sizeof c->sampler_note, text);
	snprintf(c->sampler_note, sizeof c->sampler_note, "%.*s", (int)sizeof c->sampler_note - 1,
	         note);
}

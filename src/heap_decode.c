/* heap_decode.c: the heap shim's record stream and counters file, checked and aggregated (pure). */
#include "internal.h"

#include "heap_wire.h"

#include "cpu_samples.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Nothing here does I/O: bytes come in through sc__heap_agg_feed (as read from the FIFO, split
 * anywhere) and sc__heap_agg_counters (the mapped counters file), so the tests replay streams from
 * memory and from fixture files, and a fuzzer reaches every check. The format and what each
 * figure means are in docs/heap-records.md.
 *
 * Every batch is checked whole before any of its records is applied, so a damaged batch changes
 * nothing; the first damaged batch stops decoding (a FIFO carries no way to find the next batch
 * boundary once one length is wrong), and every later feed answers the same SC_EPARSE.
 * Multi-byte fields are copied out with memcpy: a batch may sit at any address in the caller's
 * buffer.
 */

/* The shim adds a thread's live-byte changes to its process slot once they reach this much either
 * way, so each other thread can hide at most this much from the slot's peak (docs/heap-records.md,
 * "The peak"). The shim's side of that promise is in preload/. */

/* ---- small tables ---------------------------------------------------------------------------- */

static size_t hash64(uint64_t k)
{
	/* The finaliser of MurmurHash3: pointers and stack hashes both spread well through it. */
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return (size_t)k;
}

/* Makes room for need elements of size elem in *v (capacity *cap), doubling. */
static int grow(void **v, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t cap2 = *cap ? *cap : 8;
	while (cap2 < need)
		cap2 *= 2;
	void *p = realloc(*v, cap2 * elem);
	if (!p)
		return SC_ENOMEM;
	*v = p;
	*cap = cap2;
	return 0;
}

/*
 * Every address an ALLOC or FREE record named, with the balance of its records. Each thread's
 * records arrive in the order they happened, but the batches of different threads arrive in the
 * order they were written: a block allocated by one thread and freed by another can have its FREE
 * arrive first, and an address freed and reused can have its new ALLOC arrive before the old one.
 * Whatever the order, the records of one address alternate ALLOC, FREE, ALLOC... in time, so the
 * address is live at the end exactly when it had more ALLOCs than FREEs, and the live block is
 * the ALLOC with the latest t_ns. That needs the entry kept after its balance returns to zero (an
 * older ALLOC may still come), so the table holds every address used, not only the live ones:
 * as many as the heap had distinct block positions, not one per event.
 */
typedef struct block {
	uint64_t ptr; /* 0 marks an empty slot: a failed allocation is never recorded */
	uint64_t size;
	uint64_t stack_id;
	uint64_t t_ns;
	int32_t net;    /* ALLOC records minus FREE records */
	bool allocated; /* an ALLOC arrived: size, stack_id and t_ns are the latest one's */
} block;

/* Open addressing with linear probing; entries are never removed (see above). */
typedef struct block_table {
	block *slots;
	size_t cap; /* a power of two, or 0 */
	size_t n;
} block_table;

static block *blocks_find(const block_table *t, uint64_t ptr)
{
	if (!t->cap)
		return NULL;
	size_t mask = t->cap - 1;
	for (size_t i = hash64(ptr) & mask;; i = (i + 1) & mask) {
		if (t->slots[i].ptr == ptr)
			return &t->slots[i];
		if (t->slots[i].ptr == 0)
			return NULL;
	}
}

static block *blocks_insert_fresh(block *slots, size_t cap, block b)
{
	size_t mask = cap - 1, i = hash64(b.ptr) & mask;
	while (slots[i].ptr != 0)
		i = (i + 1) & mask;
	slots[i] = b;
	return &slots[i];
}

/* The entry of ptr (not 0), made empty when there is none; NULL when out of memory. Keeps the
 * load at most one half. */
static block *blocks_get(block_table *t, uint64_t ptr)
{
	block *b = blocks_find(t, ptr);
	if (b)
		return b;
	if (2 * (t->n + 1) > t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		block *slots = calloc(cap, sizeof *slots);
		if (!slots)
			return NULL;
		for (size_t i = 0; i < t->cap; i++)
			if (t->slots[i].ptr)
				blocks_insert_fresh(slots, cap, t->slots[i]);
		free(t->slots);
		t->slots = slots;
		t->cap = cap;
	}
	t->n++;
	return blocks_insert_fresh(t->slots, t->cap, (block){.ptr = ptr});
}

/* Whether the entry is a block live at the end of what has arrived. */
static bool block_live(const block *b)
{
	return b->ptr && b->net > 0 && b->allocated;
}

/* Its bytes in the live sum. */
static uint64_t block_live_bytes(const block *b)
{
	return block_live(b) ? b->size : 0;
}

/* Maps a 64-bit id (any value, 0 included) to an index into a dense array; insert only. */
typedef struct id_index {
	uint64_t *keys;
	uint32_t *vals; /* index + 1; 0 = empty */
	size_t cap;
	size_t n;
} id_index;

static long index_find(const id_index *x, uint64_t key)
{
	if (!x->cap)
		return -1;
	size_t mask = x->cap - 1;
	for (size_t i = hash64(key) & mask; x->vals[i]; i = (i + 1) & mask)
		if (x->keys[i] == key)
			return (long)x->vals[i] - 1;
	return -1;
}

static void index_insert_fresh(uint64_t *keys, uint32_t *vals, size_t cap, uint64_t key,
                               uint32_t val)
{
	size_t mask = cap - 1, i = hash64(key) & mask;
	while (vals[i])
		i = (i + 1) & mask;
	keys[i] = key;
	vals[i] = val;
}

/* Adds key -> value (key must be absent). */
static int index_add(id_index *x, uint64_t key, size_t value)
{
	if (value >= UINT32_MAX)
		return SC_ENOMEM;
	if (2 * (x->n + 1) > x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 64;
		uint64_t *keys = malloc(cap * sizeof *keys);
		uint32_t *vals = calloc(cap, sizeof *vals);
		if (!keys || !vals) {
			free(keys);
			free(vals);
			return SC_ENOMEM;
		}
		for (size_t i = 0; i < x->cap; i++)
			if (x->vals[i])
				index_insert_fresh(keys, vals, cap, x->keys[i], x->vals[i]);
		free(x->keys);
		free(x->vals);
		x->keys = keys;
		x->vals = vals;
		x->cap = cap;
	}
	index_insert_fresh(x->keys, x->vals, x->cap, key, (uint32_t)value + 1);
	x->n++;
	return 0;
}

static void index_free(id_index *x)
{
	free(x->keys);
	free(x->vals);
}

/* ---- what is kept per process ---------------------------------------------------------------- */

typedef struct module {
	uint64_t base, start, end;
	char *path;
} module;

typedef struct stack {
	uint64_t id;
	size_t first; /* into proc.frames */
	uint32_t n;
} stack;

/* One allocation site (a stack id): sums of the weights of its ALLOC records. */
typedef struct site_acc {
	uint64_t stack_id;
	double allocations;
	double bytes;
	double bytes_variance; /* estimated variance of bytes (0 with sites=all) */
	double lost_bytes;     /* LEAK records, unreachable, of this site's blocks */
} site_acc;

/*
 * One traced process image, as its records describe it. A pid that execs under
 * --follow-children starts a new image whose shim begins again at seq 0 with a HELLO: that is a
 * new proc with the same pid.
 */
typedef struct proc {
	uint32_t pid;
	bool hello;
	uint32_t slot; /* HELLO aux: its process slot */
	uint32_t ppid;
	uint32_t flags;
	uint64_t sample_bytes;
	uint64_t start_ns;
	uint64_t batches; /* received */
	uint64_t max_seq;
	uint64_t skipped; /* records that came before the HELLO (only after lost batches) */

	module *modules;
	size_t n_modules, cap_modules;
	stack *stacks;
	size_t n_stacks, cap_stacks;
	id_index stack_index;
	uint64_t *frames;
	size_t n_frames, cap_frames;
	site_acc *sites;
	size_t n_sites, cap_sites;
	id_index site_index;

	block_table blocks;
	int64_t live_bytes; /* requested bytes of the live blocks */
	int64_t peak_bytes; /* the largest live_bytes, replaying records in stream order */
	uint64_t peak_ns;

	uint64_t lost_blocks, lost_bytes, reachable_blocks, reachable_bytes;
	bool exit_seen;
	uint32_t exit_how;
	uint64_t end_ns;

	uint32_t cpu_state; /* the latest CPU_STATE aux; 0 when none came */
	int32_t cpu_error;
	uint64_t cpu_period_ns;
} proc;

static void proc_release(proc *p)
{
	for (size_t i = 0; i < p->n_modules; i++)
		free(p->modules[i].path);
	free(p->modules);
	free(p->stacks);
	index_free(&p->stack_index);
	free(p->frames);
	free(p->sites);
	index_free(&p->site_index);
	free(p->blocks.slots);
}

/* Sums of a process's thread slots. */
typedef struct thread_sums {
	uint64_t allocations, frees, bytes_allocated, usable_allocated, usable_freed, temporary;
	uint64_t size_buckets[HEAP_SIZE_BUCKETS];
} thread_sums;

struct sc__heap_agg {
	uint8_t partial[HEAP_BATCH_MAX]; /* a batch that arrived in pieces */
	size_t have;
	uint64_t offset; /* stream offset of the batch being decoded or assembled */
	int error;       /* sticky: SC_EPARSE or SC_ENOMEM */
	char message[160];

	proc *procs;
	size_t n_procs, cap_procs;

	/* The CPU records' samples, added as they are decoded so that the store's own bound
	 * (SC__CPU_RAW_MAX_BYTES, by thinning) holds while a long run streams them in; moved out
	 * by sc__heap_agg_take_cpu. */
	sc__cpu_raw cpu;

	bool have_counters;
	uint64_t sample_bytes; /* from the counters header */
	size_t n_slots;
	struct heap_process_slot slots[HEAP_MAX_PROCESSES];
	thread_sums sums[HEAP_MAX_PROCESSES];
	thread_sums overflow;
};

int sc__heap_agg_new(sc__heap_agg **out)
{
	if (!out)
		return SC_EINVAL;
	*out = calloc(1, sizeof **out);
	if (!*out)
		return SC_ENOMEM;
	sc__cpu_raw_init(&(*out)->cpu);
	return 0;
}

void sc__heap_agg_free(sc__heap_agg *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_procs; i++)
		proc_release(&a->procs[i]);
	free(a->procs);
	sc__cpu_raw_release(&a->cpu);
	free(a);
}

/* ---- checking a batch ------------------------------------------------------------------------ */

#define BATCH_HEADER sizeof(struct heap_batch)
#define RECORD_MAX   (HEAP_BATCH_MAX - BATCH_HEADER)

static int fail(sc__heap_agg *a, uint64_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the stream's first error: "heap records, byte 4136: <what>". */
static int fail(sc__heap_agg *a, uint64_t at, const char *fmt, ...)
{
	int n = snprintf(a->message, sizeof a->message,
	                 "heap records, byte %llu: ", (unsigned long long)at);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof a->message)
		vsnprintf(a->message + n, sizeof a->message - (size_t)n, fmt, ap);
	va_end(ap);
	a->error = SC_EPARSE;
	return SC_EPARSE;
}

static struct heap_batch batch_header(const uint8_t *p)
{
	struct heap_batch b;
	memcpy(&b, p, sizeof b);
	return b;
}

static int check_header(sc__heap_agg *a, const uint8_t *p)
{
	struct heap_batch b = batch_header(p);
	if (b.magic != HEAP_BATCH_MAGIC)
		return fail(a, a->offset, "batch magic 0x%08x is not 0x%08x", b.magic,
		            HEAP_BATCH_MAGIC);
	if (b.length > RECORD_MAX)
		return fail(a, a->offset, "batch of %u bytes of records, more than the %zu allowed",
		            b.length, RECORD_MAX);
	return 0;
}

static const char *type_name(unsigned type)
{
	static const char *const names[] = {
	    [HEAP_REC_HELLO] = "HELLO",         [HEAP_REC_MODULE] = "MODULE",
	    [HEAP_REC_STACK] = "STACK",         [HEAP_REC_ALLOC] = "ALLOC",
	    [HEAP_REC_FREE] = "FREE",           [HEAP_REC_LEAK] = "LEAK",
	    [HEAP_REC_EXIT] = "EXIT",           [HEAP_REC_CPU] = "CPU",
	    [HEAP_REC_CPU_STATE] = "CPU_STATE",
	};
	return type < sizeof names / sizeof names[0] ? names[type] : NULL;
}

/* The smallest size a record of a known type can have; 8 (the header) for the others. Known
 * types may be longer: fields a later version appends are skipped. */
static size_t min_size(unsigned type)
{
	switch (type) {
	case HEAP_REC_HELLO:
		return sizeof(struct heap_rec_hello);
	case HEAP_REC_MODULE:
		return sizeof(struct heap_rec_module);
	case HEAP_REC_STACK:
		return sizeof(struct heap_rec_stack);
	case HEAP_REC_ALLOC:
		return sizeof(struct heap_rec_alloc);
	case HEAP_REC_FREE:
		return sizeof(struct heap_rec_free);
	case HEAP_REC_LEAK:
		return sizeof(struct heap_rec_leak);
	case HEAP_REC_EXIT:
		return sizeof(struct heap_rec_exit);
	case HEAP_REC_CPU:
		return sizeof(struct heap_rec_cpu);
	case HEAP_REC_CPU_STATE:
		return sizeof(struct heap_rec_cpu_state);
	default:
		return sizeof(struct heap_record);
	}
}

/* The bytes of a CPU record after its frames: none, or a struct heap_cpu_stack whose stack copy
 * fits both HEAP_CPU_STACK_BYTES and the record (bytes beyond it are a later version's). */
static int check_cpu_stack(sc__heap_agg *a, uint64_t where, const uint8_t *r,
                           const struct heap_record *h)
{
	size_t at = sizeof(struct heap_rec_cpu) + 8 * (size_t)h->aux;
	size_t left = h->size - at;
	if (left == 0)
		return 0;
	struct heap_cpu_stack st;
	if (left < sizeof st)
		return fail(a, where,
		            "CPU record has %zu bytes after its %u frames, too few for the %zu of "
		            "its registers",
		            left, h->aux, sizeof st);
	memcpy(&st, r + at, sizeof st);
	if (st.stack_len > HEAP_CPU_STACK_BYTES)
		return fail(a, where, "CPU record with a stack copy of %u bytes (at most %d)",
		            st.stack_len, HEAP_CPU_STACK_BYTES);
	if (st.stack_len > left - sizeof st)
		return fail(a, where,
		            "CPU record of %u bytes cannot hold %u frames and %u stack bytes",
		            h->size, h->aux, st.stack_len);
	return 0;
}

/* Checks every record of the batch at p (header included, size bytes in all). */
static int check_records(sc__heap_agg *a, const uint8_t *p, size_t size)
{
	for (size_t at = BATCH_HEADER; at < size;) {
		uint64_t where = a->offset + at;
		size_t left = size - at;
		if (left < sizeof(struct heap_record))
			return fail(a, where, "%zu bytes left in the batch, too few for a record",
			            left);
		struct heap_record h;
		memcpy(&h, p + at, sizeof h);
		if (h.size < sizeof h)
			return fail(a, where, "record size %u is smaller than its 8-byte header",
			            h.size);
		if (h.size % 8)
			return fail(a, where, "record size %u is not a multiple of 8", h.size);
		if (h.size > left)
			return fail(a, where,
			            "record of %u bytes overruns its batch (%zu bytes left)",
			            h.size, left);
		const char *name = type_name(h.type);
		if (name && h.size < min_size(h.type))
			return fail(a, where,
			            "%s record of %u bytes, shorter than its %zu-byte minimum",
			            name, h.size, min_size(h.type));
		if (h.type == HEAP_REC_STACK) {
			if (h.aux < 1 || h.aux > HEAP_MAX_FRAMES)
				return fail(a, where,
				            "STACK record with %u frames (1 to %d allowed)", h.aux,
				            HEAP_MAX_FRAMES);
			if (h.size < sizeof(struct heap_rec_stack) + 8 * (size_t)h.aux)
				return fail(a, where,
				            "STACK record of %u bytes cannot hold %u frames",
				            h.size, h.aux);
		} else if (h.type == HEAP_REC_MODULE) {
			size_t path_at = sizeof(struct heap_rec_module);
			if (h.aux < 1 || h.aux > h.size - path_at)
				return fail(
				    a, where,
				    "MODULE record of %u bytes cannot hold a path of %u bytes",
				    h.size, h.aux);
			if (p[at + path_at + h.aux - 1] != '\0')
				return fail(a, where, "MODULE path is not NUL-terminated");
		} else if (h.type == HEAP_REC_CPU) {
			if (h.aux < 1 || h.aux > HEAP_MAX_CPU_FRAMES)
				return fail(a, where, "CPU record with %u frames (1 to %d allowed)",
				            h.aux, HEAP_MAX_CPU_FRAMES);
			if (h.size < sizeof(struct heap_rec_cpu) + 8 * (size_t)h.aux)
				return fail(a, where,
				            "CPU record of %u bytes cannot hold %u frames", h.size,
				            h.aux);
			int rc = check_cpu_stack(a, where, p + at, &h);
			if (rc)
				return rc;
		}
		at += h.size;
	}
	return 0;
}

/* ---- applying records ------------------------------------------------------------------------ */

/* The image that sent a batch: the latest one of its pid, or a new one when there is none or when
 * seq 0 comes again (an exec under --follow-children starts the shim afresh). */
static proc *proc_for(sc__heap_agg *a, uint32_t pid, uint32_t seq)
{
	for (size_t i = a->n_procs; i-- > 0;) {
		if (a->procs[i].pid != pid)
			continue;
		if (seq == 0 && a->procs[i].batches > 0)
			break;
		return &a->procs[i];
	}
	if (grow((void **)&a->procs, &a->cap_procs, a->n_procs + 1, sizeof *a->procs) != 0)
		return NULL;
	proc *p = &a->procs[a->n_procs++];
	*p = (proc){.pid = pid};
	return p;
}

static bool sites_all(const proc *p)
{
	return (p->flags & HEAP_PROCESS_FLAG_SITES_ALL) || p->sample_bytes == 0;
}

/* The probability that an allocation of size bytes holds a sampling point, the points falling on
 * the requested bytes as a Poisson process of rate 1/T: 1 - exp(-size/T). */
static double sample_probability(uint64_t size, uint64_t T)
{
	return -expm1(-(double)size / (double)T);
}

static site_acc *site_for(proc *p, uint64_t stack_id)
{
	long i = index_find(&p->site_index, stack_id);
	if (i >= 0)
		return &p->sites[i];
	if (grow((void **)&p->sites, &p->cap_sites, p->n_sites + 1, sizeof *p->sites) != 0 ||
	    index_add(&p->site_index, stack_id, p->n_sites) != 0)
		return NULL;
	site_acc *s = &p->sites[p->n_sites++];
	*s = (site_acc){.stack_id = stack_id};
	return s;
}

static int apply_module(proc *p, const uint8_t *r, const struct heap_record *h)
{
	struct heap_rec_module m;
	memcpy(&m, r, sizeof m);
	/* The same object announced again (each new thread may walk the list) is kept once. */
	for (size_t i = 0; i < p->n_modules; i++) {
		const module *o = &p->modules[i];
		if (o->base == m.base && o->start == m.start && o->end == m.end &&
		    strcmp(o->path, (const char *)r + sizeof m) == 0)
			return 0;
	}
	if (grow((void **)&p->modules, &p->cap_modules, p->n_modules + 1, sizeof *p->modules))
		return SC_ENOMEM;
	char *path = strndup((const char *)r + sizeof m, h->aux);
	if (!path)
		return SC_ENOMEM;
	p->modules[p->n_modules++] = (module){m.base, m.start, m.end, path};
	return 0;
}

static int apply_stack(proc *p, const uint8_t *r, const struct heap_record *h)
{
	struct heap_rec_stack s;
	memcpy(&s, r, sizeof s);
	/* Announced again (another thread met the same stack first too): the first one stands. */
	if (index_find(&p->stack_index, s.id) >= 0)
		return 0;
	if (grow((void **)&p->stacks, &p->cap_stacks, p->n_stacks + 1, sizeof *p->stacks) ||
	    grow((void **)&p->frames, &p->cap_frames, p->n_frames + h->aux, sizeof *p->frames) ||
	    index_add(&p->stack_index, s.id, p->n_stacks))
		return SC_ENOMEM;
	memcpy(p->frames + p->n_frames, r + sizeof s, 8 * (size_t)h->aux);
	p->stacks[p->n_stacks++] = (stack){s.id, p->n_frames, h->aux};
	p->n_frames += h->aux;
	return 0;
}

static int64_t add_sat(int64_t a, uint64_t b)
{
	return b > (uint64_t)(INT64_MAX - a) ? INT64_MAX : a + (int64_t)b;
}

static int apply_alloc(proc *p, const uint8_t *r)
{
	struct heap_rec_alloc m;
	memcpy(&m, r, sizeof m);
	site_acc *s = site_for(p, m.stack_id);
	if (!s)
		return SC_ENOMEM;
	if (sites_all(p)) {
		s->allocations += 1;
		s->bytes += (double)m.size;
	} else if (m.size == 0) {
		/* No sampling point can fall in zero bytes; should the shim record one anyway, it
		 * stands for itself. */
		s->allocations += 1;
	} else {
		/* Horvitz-Thompson: each sampled block weighs 1/P(sampled), which makes the sums
		 * unbiased; the variance term is the usual unbiased estimate of the sum's variance,
		 * size^2 (1 - P) / P^2 per sampled block (docs/heap-records.md). */
		double prob = sample_probability(m.size, p->sample_bytes);
		double size = (double)m.size;
		s->allocations += 1 / prob;
		s->bytes += size / prob;
		s->bytes_variance += size * size * (1 - prob) / (prob * prob);
	}
	if (m.ptr == 0)
		return 0;
	block *b = blocks_get(&p->blocks, m.ptr);
	if (!b)
		return SC_ENOMEM;
	uint64_t before = block_live_bytes(b);
	if (b->net < INT32_MAX)
		b->net++;
	if (!b->allocated || m.t_ns >= b->t_ns) {
		b->allocated = true;
		b->size = m.size;
		b->stack_id = m.stack_id;
		b->t_ns = m.t_ns;
	}
	p->live_bytes = add_sat(p->live_bytes - (int64_t)before, block_live_bytes(b));
	if (p->live_bytes > p->peak_bytes) {
		p->peak_bytes = p->live_bytes;
		p->peak_ns = m.t_ns;
	}
	return 0;
}

static int apply_free(proc *p, const uint8_t *r)
{
	struct heap_rec_free m;
	memcpy(&m, r, sizeof m);
	if (m.ptr == 0)
		return 0;
	/* A FREE whose ALLOC has not arrived yet (another thread's batch) leaves a negative
	 * balance for the ALLOC to settle; in a fork child, one of a block the parent allocated
	 * stays negative, and is never live. */
	block *b = blocks_get(&p->blocks, m.ptr);
	if (!b)
		return SC_ENOMEM;
	uint64_t before = block_live_bytes(b);
	if (b->net > INT32_MIN)
		b->net--;
	p->live_bytes -= (int64_t)(before - block_live_bytes(b));
	return 0;
}

static void apply_leak(proc *p, const uint8_t *r, const struct heap_record *h)
{
	struct heap_rec_leak m;
	memcpy(&m, r, sizeof m);
	if (h->aux == 1) {
		p->reachable_blocks++;
		p->reachable_bytes += m.size;
		return;
	}
	p->lost_blocks++;
	p->lost_bytes += m.size;
	const block *b = m.ptr ? blocks_find(&p->blocks, m.ptr) : NULL;
	long i = b && block_live(b) ? index_find(&p->site_index, b->stack_id) : -1;
	if (i >= 0)
		p->sites[i].lost_bytes += (double)m.size;
}

/* The most timer periods one CPU record may stand for (heap_wire.h, struct heap_rec_cpu): a
 * minute of CPU time at 10 kHz. The shim weighs each sample by the thread's CPU time since its
 * last one, so a long gap is real, but a record claiming more is garbage. */
#define CPU_MAX_PERIODS 600000u

/* A sample that stands for several timer periods weighs that many, so that weights stay
 * proportional to CPU time (heap_wire.h). A record claiming more than CPU_MAX_PERIODS is capped.
 * The registers and stack copy (check_cpu_stack let them through) go with it, in DWARF numbering,
 * for the builder's leaf fix-up. */
static int apply_cpu(sc__heap_agg *a, const proc *p, const uint8_t *r, const struct heap_record *h)
{
	struct heap_rec_cpu m;
	memcpy(&m, r, sizeof m);
	uint64_t frames[HEAP_MAX_CPU_FRAMES];
	memcpy(frames, r + sizeof m, 8 * (size_t)h->aux);
	uint32_t periods = m.periods ? m.periods : 1;
	uint32_t weight = periods < CPU_MAX_PERIODS ? periods : CPU_MAX_PERIODS;
	int rc = sc__cpu_raw_add_sample(&a->cpu, p->pid, m.tid, m.t_ns, frames, h->aux, -1, weight);
	size_t at = sizeof m + 8 * (size_t)h->aux;
	if (rc || h->size == at)
		return rc;
	struct heap_cpu_stack st;
	memcpy(&st, r + at, sizeof st);
	if (st.stack_len == 0)
		return 0; /* nothing to read a return address from */
	uint64_t regs[SC__CPU_NREGS] = {0};
	regs[6] = st.rbp;
	regs[7] = st.rsp;
	regs[16] = st.rip;
	return sc__cpu_raw_add_user_stack(&a->cpu, regs, r + at + sizeof st, st.stack_len);
}

static int apply_record(sc__heap_agg *a, proc *p, const uint8_t *r, const struct heap_record *h)
{
	if (!p->hello && h->type != HEAP_REC_HELLO) {
		/* Without its HELLO the process's mode and sampling interval are unknown, so its
		 * figures cannot be weighed; this happens only when its first batch was lost. */
		p->skipped++;
		return 0;
	}
	switch (h->type) {
	case HEAP_REC_HELLO: {
		struct heap_rec_hello m;
		memcpy(&m, r, sizeof m);
		p->hello = true;
		p->slot = h->aux;
		p->ppid = m.ppid;
		p->flags = m.flags;
		p->sample_bytes = m.sample_bytes;
		p->start_ns = m.start_ns;
		return 0;
	}
	case HEAP_REC_MODULE:
		return apply_module(p, r, h);
	case HEAP_REC_STACK:
		return apply_stack(p, r, h);
	case HEAP_REC_ALLOC:
		return apply_alloc(p, r);
	case HEAP_REC_FREE:
		return apply_free(p, r);
	case HEAP_REC_LEAK:
		apply_leak(p, r, h);
		return 0;
	case HEAP_REC_EXIT: {
		struct heap_rec_exit m;
		memcpy(&m, r, sizeof m);
		p->exit_seen = true;
		p->exit_how = h->aux;
		p->end_ns = m.end_ns;
		return 0;
	}
	case HEAP_REC_CPU:
		return apply_cpu(a, p, r, h);
	case HEAP_REC_CPU_STATE: {
		struct heap_rec_cpu_state m;
		memcpy(&m, r, sizeof m);
		p->cpu_state = h->aux;
		p->cpu_error = m.error;
		p->cpu_period_ns = m.period_ns;
		return 0;
	}
	default:
		return 0; /* a type from a later version */
	}
}

/* Checks and applies one whole batch (header included). */
static int decode_batch(sc__heap_agg *a, const uint8_t *p, size_t size)
{
	if (check_records(a, p, size) != 0)
		return SC_EPARSE;
	struct heap_batch b = batch_header(p);
	proc *pr = proc_for(a, b.pid, b.seq);
	if (!pr)
		goto nomem;
	pr->batches++;
	if (b.seq > pr->max_seq)
		pr->max_seq = b.seq;
	for (size_t at = BATCH_HEADER; at < size;) {
		struct heap_record h;
		memcpy(&h, p + at, sizeof h);
		if (apply_record(a, pr, p + at, &h) != 0)
			goto nomem;
		at += h.size;
	}
	return 0;
nomem:
	snprintf(a->message, sizeof a->message, "out of memory decoding the heap records");
	a->error = SC_ENOMEM;
	return SC_ENOMEM;
}

int sc__heap_agg_feed(sc__heap_agg *a, const void *buf, size_t len, char *err, size_t err_cap)
{
	if (!a || (!buf && len))
		return SC_EINVAL;
	const uint8_t *p = buf;
	while (len > 0 && !a->error) {
		/* A whole batch in the caller's buffer is decoded where it lies. */
		if (a->have == 0 && len >= BATCH_HEADER) {
			if (check_header(a, p) != 0)
				break;
			size_t size = BATCH_HEADER + batch_header(p).length;
			if (len >= size) {
				if (decode_batch(a, p, size) != 0)
					break;
				a->offset += size;
				p += size;
				len -= size;
				continue;
			}
		}
		/* Otherwise the pieces are gathered: the header first, then the records. */
		size_t need = a->have < BATCH_HEADER
		                  ? BATCH_HEADER
		                  : BATCH_HEADER + batch_header(a->partial).length;
		size_t n = need - a->have < len ? need - a->have : len;
		memcpy(a->partial + a->have, p, n);
		a->have += n;
		p += n;
		len -= n;
		if (a->have == BATCH_HEADER && need == BATCH_HEADER) {
			if (check_header(a, a->partial) != 0)
				break;
			need = BATCH_HEADER + batch_header(a->partial).length;
		}
		if (a->have == need) {
			if (decode_batch(a, a->partial, need) != 0)
				break;
			a->offset += need;
			a->have = 0;
		}
	}
	if (!a->error)
		return 0;
	if (err && err_cap)
		snprintf(err, err_cap, "%s", a->message);
	return a->error;
}

/* ---- the counters file ----------------------------------------------------------------------- */

/* Adds one thread slot's counts (a struct heap_thread_slot or a thread_sums: the same fields).
 * Unsigned sums wrap rather than overflow; real counts are far from 2^64. */
#define ADD_COUNTS(s, t)                                                                           \
	do {                                                                                       \
		(s)->allocations += (t)->allocations;                                              \
		(s)->frees += (t)->frees;                                                          \
		(s)->bytes_allocated += (t)->bytes_allocated;                                      \
		(s)->usable_allocated += (t)->usable_allocated;                                    \
		(s)->usable_freed += (t)->usable_freed;                                            \
		(s)->temporary += (t)->temporary;                                                  \
		for (size_t k_ = 0; k_ < HEAP_SIZE_BUCKETS; k_++)                                  \
			(s)->size_buckets[k_] += (t)->size_buckets[k_];                            \
	} while (0)

int sc__heap_agg_counters(sc__heap_agg *a, const void *counters, size_t len, char *err,
                          size_t err_cap)
{
	/* A mapping is page-aligned; the fields are read in place. */
	if (!a || (!counters && len) || (uintptr_t)counters % 8)
		return SC_EINVAL;
	const char *problem = NULL;
	char text[96];
	const struct heap_counters *c = counters;
	uint32_t magic = 0, version = 0;
	if (len >= 8) {
		memcpy(&magic, &c->magic, sizeof magic);
		memcpy(&version, &c->version, sizeof version);
	}
	if (len < sizeof *c) {
		snprintf(text, sizeof text, "the heap counters file is %zu bytes, not %zu", len,
		         sizeof *c);
		problem = text;
	} else if (magic != HEAP_COUNTERS_MAGIC) {
		snprintf(text, sizeof text, "the heap counters file has magic 0x%08x, not 0x%08x",
		         magic, HEAP_COUNTERS_MAGIC);
		problem = text;
	} else if (version != HEAP_VERSION) {
		snprintf(text, sizeof text, "the heap counters file has version %u, not %d",
		         version, HEAP_VERSION);
		problem = text;
	}
	if (problem) {
		if (err && err_cap)
			snprintf(err, err_cap, "%s", problem);
		return SC_EPARSE;
	}
	/* The mapping may still be written by a traced descendant that outlived the run: every
	 * figure is copied once, and only the copies are used. */
	uint32_t next_process = c->next_process, next_thread = c->next_thread;
	a->n_slots = next_process < HEAP_MAX_PROCESSES ? next_process : HEAP_MAX_PROCESSES;
	a->sample_bytes = c->sample_bytes;
	memcpy(a->slots, c->processes, sizeof a->slots);
	memset(a->sums, 0, sizeof a->sums);
	memset(&a->overflow, 0, sizeof a->overflow);
	/* Slots are claimed in order, so only the first next_thread can be in use. */
	size_t n_threads = next_thread < HEAP_MAX_THREADS ? next_thread : HEAP_MAX_THREADS;
	for (size_t i = 0; i < n_threads; i++) {
		uint32_t process = c->threads[i].process;
		if (process >= 1 && process <= HEAP_MAX_PROCESSES)
			ADD_COUNTS(&a->sums[process - 1], &c->threads[i]);
	}
	ADD_COUNTS(&a->overflow, &c->overflow_thread);
	a->have_counters = true;
	return 0;
}

/* ---- the profile ----------------------------------------------------------------------------- */

static int64_t clamp64(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

static const char *disabled_reason(uint32_t reason)
{
	switch (reason) {
	case HEAP_REASON_OWN_MALLOC:
		return "the program has its own malloc, so its allocations bypass the shim";
	case HEAP_REASON_NO_SYMBOLS:
		return "the shim found no malloc and free to forward to (dlsym RTLD_NEXT failed)";
	case HEAP_REASON_NO_STREAM:
		return "the shim could not open its record stream or counters file";
	case HEAP_REASON_SLOTS_FULL:
		return "more traced processes than the counters file has slots (64)";
	default:
		return "the shim turned itself off";
	}
}

/* The image whose records describe slot i of pid, or NULL. */
static const proc *proc_of_slot(const sc__heap_agg *a, size_t i, uint32_t pid)
{
	for (size_t k = a->n_procs; k-- > 0;)
		if (a->procs[k].pid == pid && a->procs[k].hello && a->procs[k].slot == i)
			return &a->procs[k];
	return NULL;
}

static uint64_t lost_batches(const proc *p)
{
	/* Batches of one process may arrive out of seq order (its threads race to write), so a
	 * gap is known only by counting: seq runs 0..max_seq. */
	uint64_t expected = p->max_seq + 1;
	return p->batches < expected ? expected - p->batches : 0;
}

static const module *module_of(const proc *p, uint64_t address)
{
	/* The latest announcement wins: an object unloaded and another loaded in its place. */
	for (size_t i = p->n_modules; i-- > 0;)
		if (p->modules[i].start <= address && address < p->modules[i].end)
			return &p->modules[i];
	return NULL;
}

static int fill_frames(const proc *p, uint64_t stack_id, sc_heap_site *site)
{
	long k = index_find(&p->stack_index, stack_id);
	if (k < 0)
		return 0; /* never announced (its batch was lost): a site without frames */
	const stack *st = &p->stacks[k];
	site->frames = calloc(st->n, sizeof *site->frames);
	if (!site->frames)
		return SC_ENOMEM;
	site->n_frames = st->n;
	for (uint32_t j = 0; j < st->n; j++) {
		sc_heap_frame *f = &site->frames[j];
		f->address = p->frames[st->first + j];
		const module *m = module_of(p, f->address);
		if (m) {
			if (!(f->module = strdup(m->path)))
				return SC_ENOMEM;
			f->offset = f->address - m->base;
		}
	}
	return 0;
}

/* What sites are sorted by, copied out so that the comparison needs no context. */
typedef struct site_key {
	double bytes, allocations;
	uint64_t stack_id;
	size_t index;
} site_key;

static int by_bytes(const void *x, const void *y)
{
	const site_key *a = x, *b = y;
	if (a->bytes != b->bytes)
		return a->bytes < b->bytes ? 1 : -1;
	if (a->allocations != b->allocations)
		return a->allocations < b->allocations ? 1 : -1;
	return (a->stack_id > b->stack_id) - (a->stack_id < b->stack_id);
}

/* The sites of p, largest bytes first, with what is still live at the end (leaked) per site. */
static int fill_sites(const proc *p, bool leak_scan, sc_heap_profile *out)
{
	if (p->n_sites == 0)
		return 0;
	site_key *order = malloc(p->n_sites * sizeof *order);
	double *leaked_blocks = calloc(p->n_sites, sizeof *leaked_blocks);
	double *leaked_bytes = calloc(p->n_sites, sizeof *leaked_bytes);
	out->sites = calloc(p->n_sites, sizeof *out->sites);
	int rc = SC_ENOMEM;
	if (!order || !leaked_blocks || !leaked_bytes || !out->sites)
		goto done;
	bool all = sites_all(p);
	for (size_t i = 0; i < p->blocks.cap; i++) {
		const block *b = &p->blocks.slots[i];
		long k = block_live(b) ? index_find(&p->site_index, b->stack_id) : -1;
		if (k < 0)
			continue;
		double w =
		    all || b->size == 0 ? 1 : 1 / sample_probability(b->size, p->sample_bytes);
		leaked_blocks[k] += w;
		leaked_bytes[k] += w * (double)b->size;
	}
	for (size_t i = 0; i < p->n_sites; i++)
		order[i] =
		    (site_key){p->sites[i].bytes, p->sites[i].allocations, p->sites[i].stack_id, i};
	qsort(order, p->n_sites, sizeof *order, by_bytes);
	for (size_t i = 0; i < p->n_sites; i++) {
		size_t k = order[i].index;
		const site_acc *s = &p->sites[k];
		sc_heap_site *o = &out->sites[out->n_sites++];
		*o = (sc_heap_site){
		    .allocations = s->allocations,
		    .bytes = s->bytes,
		    .leaked_blocks = leaked_blocks[k],
		    .leaked_bytes = leaked_bytes[k],
		    .lost_bytes = leak_scan ? s->lost_bytes : NAN,
		    .bytes_error = s->bytes > 0 ? sqrt(s->bytes_variance) / s->bytes : 0,
		};
		if (fill_frames(p, s->stack_id, o) != 0)
			goto done;
	}
	rc = 0;
done:
	free(order);
	free(leaked_blocks);
	free(leaked_bytes);
	return rc;
}

static void set_incomplete(sc_heap_profile *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The first reason found stands. */
static void set_incomplete(sc_heap_profile *out, const char *fmt, ...)
{
	if (!out->complete)
		return;
	out->complete = false;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->incomplete_reason, sizeof out->incomplete_reason, fmt, ap);
	va_end(ap);
}

static int64_t live_blocks(const proc *p)
{
	int64_t n = 0;
	for (size_t i = 0; i < p->blocks.cap; i++)
		n += block_live(&p->blocks.slots[i]);
	return n;
}

/* Whether the stream gives the exact live figures: sites=all, the process exited (it flushes
 * every thread's batch before its EXIT record; a killed process takes its unwritten batches with
 * it, and no seq gap shows them), and every batch of the image arrived and was decoded. */
static bool stream_exact(const sc__heap_agg *a, const struct heap_process_slot *slot, const proc *p)
{
	return p && sites_all(p) && slot->state == HEAP_PROCESS_EXITED && p->exit_seen &&
	       lost_batches(p) == 0 && p->skipped == 0 && !a->error && a->have == 0;
}

static bool traced(const struct heap_process_slot *slot)
{
	return slot->state == HEAP_PROCESS_RUNNING || slot->state == HEAP_PROCESS_EXITED;
}

/* Whether an earlier traced slot has slot i's pid: an exec under --follow-children gives one
 * process a slot per image, and it is still one process. */
static bool traced_before(const sc__heap_agg *a, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (a->slots[j].pid == a->slots[i].pid && traced(&a->slots[j]))
			return true;
	return false;
}

sc_heap_profile sc__heap_profile_unmeasured(void)
{
	return (sc_heap_profile){
	    .allocations = -1,
	    .frees = -1,
	    .bytes_allocated = -1,
	    .temporary_allocations = -1,
	    .allocations_per_sample = NAN,
	    .peak_live_bytes = -1,
	    .peak_live_s = NAN,
	    .peak_live_error_bytes = -1,
	    .leaked_blocks = -1,
	    .leaked_bytes = -1,
	    .lost_blocks = -1,
	    .lost_bytes = -1,
	    .reachable_blocks = -1,
	    .reachable_bytes = -1,
	    .arena_bytes = -1,
	    .in_use_bytes = -1,
	    .run_wall_s = NAN,
	    .slowdown = NAN,
	    .run_peak_rss_mb = NAN,
	};
}

int sc__heap_agg_result(const sc__heap_agg *a, uint32_t root_pid, sc_heap_profile *out)
{
	if (!a || !out)
		return SC_EINVAL;
	*out = sc__heap_profile_unmeasured();
	/* An image that exec'd claims a new slot under the same pid; the last one is the program
	 * the user meant (a wrapper script or env(1) execs it). */
	long found = -1;
	for (size_t i = 0; i < a->n_slots; i++) {
		if (traced(&a->slots[i]) && !traced_before(a, i))
			out->processes++;
		if (a->slots[i].pid == root_pid && root_pid != 0)
			found = (long)i;
	}
	const struct heap_process_slot *slot = found >= 0 ? &a->slots[found] : NULL;
	if (!slot || (slot->state != HEAP_PROCESS_RUNNING && slot->state != HEAP_PROCESS_EXITED &&
	              slot->state != HEAP_PROCESS_DISABLED)) {
		snprintf(out->reason, sizeof out->reason,
		         "the shim did not start in the program (not dynamically linked, or "
		         "LD_PRELOAD was refused)");
		return 0;
	}
	if (slot->state == HEAP_PROCESS_DISABLED) {
		snprintf(out->reason, sizeof out->reason, "%s", disabled_reason(slot->reason));
		return 0;
	}
	const proc *p = proc_of_slot(a, (size_t)found, root_pid);
	out->available = true;
	out->complete = true;

	/* Counts: every thread slot of the process, and the overflow slot, which threads beyond
	 * HEAP_MAX_THREADS of any process share and which is therefore given to the root. */
	thread_sums s = a->sums[found];
	ADD_COUNTS(&s, &a->overflow);
	out->allocations = clamp64(s.allocations);
	out->frees = clamp64(s.frees);
	out->bytes_allocated = clamp64(s.bytes_allocated);
	out->temporary_allocations = clamp64(s.temporary);
	memcpy(out->size_buckets, s.size_buckets, sizeof out->size_buckets);

	uint32_t flags = slot->flags | (p ? p->flags : 0);
	bool all = (flags & HEAP_PROCESS_FLAG_SITES_ALL) != 0;
	out->sites_mode = all ? "all" : "sampled";
	out->sample_bytes = all ? 0 : p && p->sample_bytes ? p->sample_bytes : a->sample_bytes;

	uint64_t start_ns = slot->start_ns ? slot->start_ns : p ? p->start_ns : 0;
	uint64_t peak_ns;
	if (stream_exact(a, slot, p)) {
		/* Replayed in stream order: one thread's records arrive in the order they
		 * happened, so the peak is exact for a single thread; with several, batches of
		 * different threads interleave in the order they were written, and a FREE carries
		 * no time to sort them back, so no bound is given. */
		out->live_basis = "requested";
		out->peak_live_bytes = p->peak_bytes;
		peak_ns = p->peak_ns;
		out->peak_live_error_bytes = slot->threads <= 1 ? 0 : -1;
		out->leaked_blocks = live_blocks(p);
		out->leaked_bytes = p->live_bytes;
	} else {
		out->live_basis = "usable";
		out->peak_live_bytes = slot->peak_live_bytes;
		peak_ns = slot->peak_ns;
		uint64_t others = slot->threads > 1 ? slot->threads - 1 : 0;
		out->peak_live_error_bytes = (int64_t)others * HEAP_LIVE_FLUSH_BYTES;
		/* Frees of blocks allocated before the shim started counting (by the loader, say)
		 * can outnumber what they match; live memory is never below zero. */
		out->leaked_blocks = s.allocations > s.frees ? clamp64(s.allocations - s.frees) : 0;
		out->leaked_bytes = s.usable_allocated > s.usable_freed
		                        ? clamp64(s.usable_allocated - s.usable_freed)
		                        : 0;
	}
	if (peak_ns >= start_ns && peak_ns > 0 && out->peak_live_bytes > 0)
		out->peak_live_s = (double)(peak_ns - start_ns) / 1e9;

	bool leak_scan = (flags & HEAP_PROCESS_FLAG_LEAK_SCAN) != 0 && p;
	if (leak_scan) {
		out->lost_blocks = clamp64(p->lost_blocks);
		out->lost_bytes = clamp64(p->lost_bytes);
		out->reachable_blocks = clamp64(p->reachable_blocks);
		out->reachable_bytes = clamp64(p->reachable_bytes);
	}
	if (slot->state == HEAP_PROCESS_EXITED) {
		out->arena_bytes = slot->arena_bytes >= 0 ? slot->arena_bytes : -1;
		out->in_use_bytes = slot->in_use_bytes >= 0 ? slot->in_use_bytes : -1;
	}

	if (slot->state != HEAP_PROCESS_EXITED)
		set_incomplete(out, "the process did not exit normally");
	if (a->error == SC_EPARSE)
		set_incomplete(out, "record stream damaged: %s", a->message);
	if (!p)
		set_incomplete(out, "none of the process's records arrived");
	if (p && lost_batches(p) == 1)
		set_incomplete(out, "1 batch of records was lost");
	else if (p && lost_batches(p) > 1)
		set_incomplete(out, "%llu batches of records were lost",
		               (unsigned long long)lost_batches(p));
	if (a->have)
		set_incomplete(out, "the record stream ended inside a batch");
	if (p && !p->exit_seen)
		set_incomplete(out, "the process's EXIT record is missing");

	if (p && fill_sites(p, leak_scan, out) != 0) {
		sc__heap_profile_release(out);
		return SC_ENOMEM;
	}
	return 0;
}

/* ---- CPU samples (the timer sampler) ------------------------------------------------------- */

int sc__heap_agg_take_cpu(sc__heap_agg *a, sc__cpu_raw *raw)
{
	if (!a || !raw)
		return SC_EINVAL;
	/* Each image with its objects, from its start on: an image that is not a fork child is
	 * recorded as an exec (ppid 0) at its start, which ends an earlier image's mappings (an
	 * exec under --follow-children). A fork child announces its objects itself; its parent is
	 * named all the same. Samples come after their image's HELLO, so after its start. */
	for (size_t i = 0; i < a->n_procs; i++) {
		const proc *p = &a->procs[i];
		if (!p->hello)
			continue;
		bool later = false;
		for (size_t j = 0; j < i && !later; j++)
			later = a->procs[j].pid == p->pid && a->procs[j].hello;
		uint32_t ppid = (p->flags & HEAP_PROCESS_FLAG_FORKED) && !later ? p->ppid : 0;
		if (sc__cpu_raw_add_process(raw, p->pid, ppid, p->start_ns))
			return SC_ENOMEM;
		for (size_t k = 0; k < p->n_modules; k++) {
			const module *m = &p->modules[k];
			if (sc__cpu_raw_add_mapping(raw, p->pid, p->start_ns, m->start, m->end, 0,
			                            true, m->base, m->path))
				return SC_ENOMEM;
		}
	}
	/* The samples, moved whole when raw holds none yet (no copy, so no second store's worth
	 * of memory at the end of a long run), else appended. */
	if (raw->n_samples == 0 && raw->n_user == 0 &&
	    sc__cpu_raw_bytes(&a->cpu) <=
	        (raw->max_bytes ? raw->max_bytes : SC__CPU_RAW_MAX_BYTES)) {
		sc__cpu_raw *c = &a->cpu;
		free(raw->samples);
		free(raw->frames);
		free(raw->user);
		free(raw->stack_bytes);
		raw->samples = c->samples;
		raw->n_samples = c->n_samples;
		raw->cap_samples = c->cap_samples;
		raw->frames = c->frames;
		raw->n_frames = c->n_frames;
		raw->cap_frames = c->cap_frames;
		raw->user = c->user;
		raw->n_user = c->n_user;
		raw->cap_user = c->cap_user;
		raw->stack_bytes = c->stack_bytes;
		raw->n_stack_bytes = c->n_stack_bytes;
		raw->cap_stack_bytes = c->cap_stack_bytes;
		raw->stride = c->stride;
		raw->last_count = c->last_count;
		raw->last_taken = c->last_taken;
		c->samples = NULL;
		c->frames = NULL;
		c->user = NULL;
		c->stack_bytes = NULL;
	} else if (sc__cpu_raw_append(raw, &a->cpu)) {
		return SC_ENOMEM;
	}
	sc__cpu_raw_release(&a->cpu);
	return 0;
}

int sc__heap_agg_cpu_status(const sc__heap_agg *a, uint32_t root_pid, char *why, size_t why_cap)
{
	if (!a)
		return SC_EINVAL;
	const proc *p = NULL;
	for (size_t i = a->n_procs; i-- > 0 && !p;)
		if (a->procs[i].pid == root_pid && a->procs[i].hello)
			p = &a->procs[i];
	char text[160];
	if (!p)
		snprintf(text, sizeof text,
		         "the heap shim did not start in the program, so the timer sampler could "
		         "not run");
	else if (p->cpu_state == HEAP_CPU_ON)
		return 0;
	else if (p->cpu_state == 0)
		snprintf(text, sizeof text, "the heap shim did not start the timer sampler");
	else if (p->cpu_state == HEAP_CPU_OFF_HANDLER)
		snprintf(
		    text, sizeof text,
		    "the program has its own SIGPROF handler, so the timer sampler stood down");
	else if (p->cpu_state == HEAP_CPU_OFF_INSTALL)
		snprintf(text, sizeof text,
		         "the program set its own SIGPROF action while running, so the timer "
		         "sampler stood down from then on");
	else if (p->cpu_state == HEAP_CPU_OFF_TIMER)
		snprintf(text, sizeof text, "the timer sampler could not arm a CPU-time timer: %s",
		         strerror(p->cpu_error));
	else
		snprintf(text, sizeof text, "the timer sampler stopped (state %u)", p->cpu_state);
	if (why && why_cap)
		snprintf(why, why_cap, "%s", text);
	return SC_EUNAVAILABLE;
}

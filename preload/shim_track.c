/* shim_track.c: the blocks the shim remembers (sampled ones, or every live one with sites=all):
 * sharded open-addressing tables in mmap'd memory behind a counting filter over pointer hashes. */
#define _GNU_SOURCE
#include <sched.h>
#include <string.h>
#include <sys/mman.h>

#include "shim.h"

/* 64 shards keep threads that free at the same time off each other's locks (sites=all takes
 * one on every allocation and free). A shard starts at 1024 entries and doubles at half load,
 * up to SC_SHARD_MAX: past that (about 67 million live blocks in all) blocks are no longer
 * remembered and the leak scan is skipped. */
#define SC_SHARD_BITS 6
#define SC_SHARDS     (1u << SC_SHARD_BITS)
#define SC_SHARD_MIN  (1u << 10)
#define SC_SHARD_MAX  (1u << 21)

struct entry {
	uint64_t ptr; /* 0: empty */
	uint64_t size;
};

struct shard {
	int lock;
	uint32_t cap; /* 0 until the first insert */
	uint32_t count;
	struct entry *e;
} __attribute__((aligned(64)));

/* Cell = the top 16 bits of the hash, shard = its top 6: a cell belongs to exactly one shard,
 * whose lock guards it. 255 is sticky (too many blocks share the cell to count them). */
uint8_t sc__filter[1 << 16];
static struct shard shards[SC_SHARDS];
static int all_blocks;
static int overflowed;

/* ---- who may skip the shard locks ---------------------------------------------------------------
 *
 * Until a second thread uses the tables, the first one (the owner) skips the shard locks: with
 * sites=all a single-threaded program would otherwise pay two atomic exchanges per malloc/free
 * pair. The protocol of the batches (shim_stream.c): the owner raises bias_busy with a plain
 * store and rereads bias_state; any other thread sets bias_state to BIAS_REVOKED, runs an
 * expedited membarrier, which orders both sides as if each had a full fence, and waits for
 * bias_busy to drop; from then on every thread, the owner included, takes the locks. Without
 * membarrier there is no owner. */

enum { BIAS_NONE, BIAS_OWNED, BIAS_REVOKED };

static int bias_state; /* atomic */
static int bias_busy;  /* atomic: the owner is in a table */
static int bias_lock;  /* one revocation at a time */

static void revoke(void)
{
	sc__spin_lock(&bias_lock);
	if (__atomic_load_n(&bias_state, __ATOMIC_RELAXED) == BIAS_OWNED) {
		__atomic_store_n(&bias_state, BIAS_REVOKED, __ATOMIC_SEQ_CST);
		sc__barrier();
		while (__atomic_load_n(&bias_busy, __ATOMIC_ACQUIRE))
			sched_yield();
	}
	sc__spin_unlock(&bias_lock);
}

/* 1 when the caller took s->lock, 0 when it runs as the owner without it; see leave(). */
static inline int enter(struct shard *s)
{
	struct sc__tls *t = &sc__tls;

	if (!t->bias_owner && __atomic_load_n(&bias_state, __ATOMIC_RELAXED) == BIAS_NONE &&
	    sc__g.membarrier) {
		int none = BIAS_NONE;

		t->bias_owner = __atomic_compare_exchange_n(&bias_state, &none, BIAS_OWNED, 0,
		                                            __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
	}
	if (t->bias_owner) {
		__atomic_store_n(&bias_busy, 1, __ATOMIC_RELAXED);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&bias_state, __ATOMIC_RELAXED) == BIAS_OWNED)
			return 0;
		__atomic_store_n(&bias_busy, 0, __ATOMIC_RELEASE);
		t->bias_owner = 0;
	} else if (__atomic_load_n(&bias_state, __ATOMIC_RELAXED) == BIAS_OWNED) {
		revoke();
	}
	sc__spin_lock(&s->lock);
	return 1;
}

static inline void leave(struct shard *s, int locked)
{
	if (locked)
		sc__spin_unlock(&s->lock);
	else
		__atomic_store_n(&bias_busy, 0, __ATOMIC_RELEASE);
}

void sc__track_thread_exit(struct sc__tls *t)
{
	/* The owner is not in a table now: nobody needs to wait for it. */
	if (t->bias_owner)
		__atomic_store_n(&bias_state, BIAS_REVOKED, __ATOMIC_SEQ_CST);
	t->bias_owner = 0;
}

/* ---- the tables ------------------------------------------------------------------------------ */

void sc__track_init(int all)
{
	all_blocks = all;
	if (all)
		memset(sc__filter, 0xff, sizeof sc__filter);
}

static inline struct shard *shard_of(uint64_t h)
{
	return &shards[h >> (64 - SC_SHARD_BITS)];
}

static inline uint32_t home(uint64_t h, uint32_t cap)
{
	return (uint32_t)(h >> 24) & (cap - 1);
}

static int grow(struct shard *s)
{
	uint32_t cap = s->cap ? s->cap * 2 : SC_SHARD_MIN;
	struct entry *e;

	if (cap > SC_SHARD_MAX)
		return -1;
	e = mmap(NULL, (size_t)cap * sizeof *e, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	         -1, 0);
	if (e == MAP_FAILED)
		return -1;
	for (uint32_t i = 0; i < s->cap; i++) {
		uint64_t p = s->e[i].ptr;
		uint32_t j;

		if (p == 0)
			continue;
		j = home(sc__ptr_hash((void *)(uintptr_t)p), cap);
		while (e[j].ptr != 0)
			j = (j + 1) & (cap - 1);
		e[j] = s->e[i];
	}
	if (s->e != NULL)
		munmap(s->e, (size_t)s->cap * sizeof *s->e);
	s->e = e;
	s->cap = cap;
	return 0;
}

void sc__track_insert(const void *p, uint64_t size)
{
	uint64_t h = sc__ptr_hash(p);
	struct shard *s = shard_of(h);
	uint8_t *cell = &sc__filter[h >> 48];
	uint32_t i;
	int locked = enter(s);

	if ((s->count + 1) * 2 > s->cap && grow(s) != 0) {
		__atomic_store_n(&overflowed, 1, __ATOMIC_RELAXED);
		leave(s, locked);
		return;
	}
	i = home(h, s->cap);
	while (s->e[i].ptr != 0 && s->e[i].ptr != (uintptr_t)p)
		i = (i + 1) & (s->cap - 1);
	if (s->e[i].ptr == 0) {
		s->count++;
		if (*cell != 255)
			__atomic_store_n(cell, (uint8_t)(*cell + 1), __ATOMIC_RELAXED);
	}
	s->e[i].ptr = (uintptr_t)p;
	s->e[i].size = size;
	leave(s, locked);
}

int sc__track_remove(const void *p, uint64_t *size)
{
	uint64_t h = sc__ptr_hash(p);
	struct shard *s = shard_of(h);
	uint8_t *cell = &sc__filter[h >> 48];
	uint32_t i, j, mask;
	int locked = enter(s);

	if (s->cap == 0) {
		leave(s, locked);
		return 0;
	}
	mask = s->cap - 1;
	i = home(h, s->cap);
	while (s->e[i].ptr != (uintptr_t)p) {
		if (s->e[i].ptr == 0) {
			leave(s, locked);
			return 0;
		}
		i = (i + 1) & mask;
	}
	*size = s->e[i].size;
	/* Backward-shift deletion: no tombstones, so probes stay short under churn. */
	for (j = (i + 1) & mask; s->e[j].ptr != 0; j = (j + 1) & mask) {
		uint32_t k = home(sc__ptr_hash((void *)(uintptr_t)s->e[j].ptr), s->cap);

		/* Move e[j] into the hole unless its home lies cyclically in (i, j]. */
		if (((j - k) & mask) >= ((j - i) & mask)) {
			s->e[i] = s->e[j];
			i = j;
		}
	}
	s->e[i].ptr = 0;
	s->count--;
	if (*cell != 255)
		__atomic_store_n(cell, (uint8_t)(*cell - 1), __ATOMIC_RELAXED);
	leave(s, locked);
	return 1;
}

void sc__track_lock_all(void)
{
	/* Fork and the leak scan need every table still: only the owner itself may skip locks. */
	if (!sc__tls.bias_owner)
		revoke();
	for (unsigned i = 0; i < SC_SHARDS; i++)
		sc__spin_lock(&shards[i].lock);
}

void sc__track_unlock_all(void)
{
	for (unsigned i = 0; i < SC_SHARDS; i++)
		sc__spin_unlock(&shards[i].lock);
}

void sc__track_reset(void)
{
	for (unsigned i = 0; i < SC_SHARDS; i++) {
		struct shard *s = &shards[i];

		if (s->e != NULL)
			munmap(s->e, (size_t)s->cap * sizeof *s->e);
		s->e = NULL;
		s->cap = 0;
		s->count = 0;
	}
	overflowed = 0;
	memset(sc__filter, all_blocks ? 0xff : 0, sizeof sc__filter);
	/* The fork child's only thread keeps skipping the locks if it did in the parent. */
	bias_lock = 0;
	bias_busy = 0;
	bias_state = sc__tls.bias_owner ? BIAS_OWNED : BIAS_NONE;
}

int sc__track_overflowed(void)
{
	return __atomic_load_n(&overflowed, __ATOMIC_RELAXED);
}

uint64_t sc__track_count(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < SC_SHARDS; i++)
		n += shards[i].count;
	return n;
}

void sc__track_each(void (*fn)(uint64_t ptr, uint64_t size, void *arg), void *arg)
{
	for (unsigned i = 0; i < SC_SHARDS; i++) {
		struct shard *s = &shards[i];

		for (uint32_t j = 0; j < s->cap; j++)
			if (s->e[j].ptr != 0)
				fn(s->e[j].ptr, s->e[j].size, arg);
	}
}

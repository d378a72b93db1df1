/* region_trace.c: the region trace that lets `shotclock run` attribute CPU samples to regions. */
#define _GNU_SOURCE
#include "cpu_samples.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 * Under `shotclock run` the CPU samples come from the instrumented run, from a sampler outside the
 * program's regions (perf_event) or blind to them (the heap shim's timer sampler): a sample says
 * which thread ran and when, not which region it was in. So in that run only, the collector names
 * a trace file in SHOTCLOCK_REGION_TRACE, and every region begin and end of the program appends a
 * record of (thread, CLOCK_MONOTONIC time, region) to it; after the run the collector replays each
 * thread's begins and ends and gives each sample the region innermost open on its thread at its
 * time. Both samplers stamp samples with CLOCK_MONOTONIC (perf_event through use_clockid, the
 * timer sampler with clock_gettime), so the times compare directly.
 *
 * The file (native byte order) is made by the collector at its full size, sparse, and mapped
 * shared by every process of the program that enters a region: a forked child keeps the mapping,
 * an exec'd program maps it again from the inherited variable. Appending is one atomic fetch-add
 * of the header's `used`; when a record does not fit, logging stops for good and the header keeps
 * the earliest time of a record that was lost, so the collector attributes only the samples taken
 * before it.
 *
 *   header (64 bytes): "SCRTRC1\0", u64 capacity, u64 used (the next free byte; may pass the
 *                      capacity once full), u64 full_ns (0: never full), u32 last table id.
 *   then 16-byte slots, each starting with a u32 tag:
 *     event       tid (neither 0 nor ~0), u16 table (>= 1), u16 entry | 0x8000 at an end,
 *                 u64 time_ns;
 *     definition  0, u16 table (>= 1), u16 entry, i32 parent entry (-1: top level),
 *                 u32 name length (<= 63), then ceil(length / 12) continuation slots;
 *     continuation  ~0, then 12 bytes of the name;
 *     hole        16 zero bytes: room a writer reserved and never filled (it was killed).
 * A writer fills a record's later bytes first and its first 8 bytes last, so a record cut short
 * by a killed writer reads as a hole and stray continuations, which the reader skips: the slots
 * resynchronise every 16 bytes, whatever the bytes are.
 *
 * Tables are numbered from the header, so tables of different processes never share a number;
 * a forked child that adds a region to a table it inherited may give an entry index the parent
 * also uses, and such an entry (two definitions that differ) is attributed to no region.
 */

#define MAGIC       "SCRTRC1"
#define HEADER      64
#define SLOT        16
#define TAG_DEF     0u
#define TAG_CONT    0xffffffffu
#define END_BIT     0x8000u
#define NAME_MAX_   63
#define NAME_CHUNK  12
#define MAX_SLOTS_D (1 + (NAME_MAX_ + NAME_CHUNK - 1) / NAME_CHUNK)

typedef struct trace_header {
	char magic[8];
	uint64_t capacity;
	uint64_t used;
	uint64_t full_ns;
	uint32_t last_table;
	uint32_t pad;
	uint64_t reserved[3];
} trace_header;

_Static_assert(sizeof(trace_header) == HEADER, "the header is 64 bytes");

/* ---- the program's side ------------------------------------------------------------------ */

struct sc__region_trace_writer {
	trace_header *h;
	unsigned char *base;
	uint64_t capacity;
};

static sc__region_trace_writer writer;
static bool writer_ok;
static pthread_once_t writer_once = PTHREAD_ONCE_INIT;
/* The calling thread's id, read once: gettid is a system call. */
static __thread uint32_t my_tid;

/* In a forked child the forking thread's cached id is its parent's: forget it. */
static void forget_tid(void)
{
	my_tid = 0;
}

static void writer_open(void)
{
	const char *path = getenv(SC__REGION_TRACE_ENV);
	if (!path || !*path)
		return;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat st;
	void *m = MAP_FAILED;
	if (fstat(fd, &st) == 0 && st.st_size >= HEADER)
		m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return;
	trace_header *h = m;
	if (memcmp(h->magic, MAGIC, sizeof MAGIC) != 0 || h->capacity > (uint64_t)st.st_size) {
		munmap(m, (size_t)st.st_size);
		return;
	}
	writer = (sc__region_trace_writer){.h = h, .base = m, .capacity = h->capacity};
	if (pthread_atfork(NULL, NULL, forget_tid) != 0) {
		munmap(m, (size_t)st.st_size);
		return;
	}
	writer_ok = true;
}

sc__region_trace_writer *sc__region_trace_open(void)
{
	/* Most programs never have the variable: one getenv, once, and no mapping. */
	pthread_once(&writer_once, writer_open);
	return writer_ok ? &writer : NULL;
}

uint16_t sc__region_trace_table(sc__region_trace_writer *w)
{
	uint32_t id = __atomic_add_fetch(&w->h->last_table, 1, __ATOMIC_RELAXED);
	return id <= 0xffff ? (uint16_t)id : 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The offset of size free bytes, or 0 when the trace is full (then full_ns keeps the earliest
 * time of a record lost, t). */
static uint64_t reserve(sc__region_trace_writer *w, uint64_t size, uint64_t t)
{
	trace_header *h = w->h;
	if (__atomic_load_n(&h->used, __ATOMIC_RELAXED) + size <= w->capacity) {
		uint64_t off = __atomic_fetch_add(&h->used, size, __ATOMIC_RELAXED);
		if (off >= HEADER && off + size <= w->capacity)
			return off;
	}
	uint64_t cur = __atomic_load_n(&h->full_ns, __ATOMIC_RELAXED);
	while ((cur == 0 || t < cur) &&
	       !__atomic_compare_exchange_n(&h->full_ns, &cur, t, true, __ATOMIC_RELAXED,
	                                    __ATOMIC_RELAXED))
		;
	return 0;
}

static void put_head(unsigned char *p, uint32_t tag, uint16_t table, uint16_t word)
{
	uint64_t head;
	unsigned char b[8];
	memcpy(b, &tag, 4);
	memcpy(b + 4, &table, 2);
	memcpy(b + 6, &word, 2);
	memcpy(&head, b, 8);
	/* Last and whole: a reader never sees a head whose body is missing. */
	__atomic_store_n((uint64_t *)(void *)p, head, __ATOMIC_RELEASE);
}

void sc__region_trace_define(sc__region_trace_writer *w, uint16_t table, int entry, int parent,
                             const char *name)
{
	uint32_t len = (uint32_t)strnlen(name, NAME_MAX_);
	uint64_t conts = (len + NAME_CHUNK - 1) / NAME_CHUNK;
	uint64_t off = reserve(w, SLOT * (1 + conts), mono_ns());
	if (!off)
		return;
	unsigned char *p = w->base + off;
	for (uint64_t c = 0; c < conts; c++) {
		unsigned char *s = p + SLOT * (1 + c);
		uint32_t tag = TAG_CONT;
		memset(s + 4, 0, NAME_CHUNK);
		size_t at = (size_t)c * NAME_CHUNK;
		memcpy(s + 4, name + at, len - at < NAME_CHUNK ? len - at : NAME_CHUNK);
		memcpy(s, &tag, 4);
	}
	int32_t par = parent;
	memcpy(p + 8, &par, 4);
	memcpy(p + 12, &len, 4);
	put_head(p, TAG_DEF, table, (uint16_t)entry);
}

void sc__region_trace_event(sc__region_trace_writer *w, uint16_t table, int entry, bool end)
{
	uint64_t t = mono_ns();
	uint64_t off = reserve(w, SLOT, t);
	if (!off)
		return;
	if (!my_tid)
		my_tid = (uint32_t)syscall(SYS_gettid);
	unsigned char *p = w->base + off;
	memcpy(p + 8, &t, 8);
	put_head(p, my_tid, table, (uint16_t)((unsigned)entry | (end ? END_BIT : 0)));
}

/* ---- the reader and matcher (pure) ------------------------------------------------------ */

typedef struct def {
	uint32_t key; /* table << 16 | entry */
	int32_t parent;
	bool conflict; /* defined twice, differently */
	char name[NAME_MAX_ + 1];
	int32_t region; /* index in the profile's regions; -1 none */
} def;

typedef struct event {
	uint32_t tid;
	uint32_t key;
	bool end;
	uint64_t time_ns;
	size_t seq; /* file order: a thread's program order */
} event;

typedef struct trace {
	def *defs;
	size_t n_defs, cap_defs;
	event *events;
	size_t n_events, cap_events;
} trace;

static uint32_t key_of(uint16_t table, uint16_t entry)
{
	return (uint32_t)table << 16 | entry;
}

static int cmp_def(const void *a, const void *b)
{
	const def *x = a, *y = b;
	return x->key < y->key ? -1 : x->key > y->key;
}

static int cmp_event(const void *a, const void *b)
{
	const event *x = a, *y = b;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const def *find_def(const trace *t, uint32_t key)
{
	def probe = {.key = key};
	/* bsearch and qsort must not see a NULL array, even empty (C11 7.22.5). */
	return t->n_defs ? bsearch(&probe, t->defs, t->n_defs, sizeof *t->defs, cmp_def) : NULL;
}

/* Reads the slots of [HEADER, end) into t. */
static int read_slots(const unsigned char *buf, size_t end, trace *t, sc__region_trace_stats *st)
{
	for (size_t off = HEADER; off + SLOT <= end; off += SLOT) {
		const unsigned char *p = buf + off;
		uint32_t tag;
		uint16_t table, word;
		memcpy(&tag, p, 4);
		memcpy(&table, p + 4, 2);
		memcpy(&word, p + 6, 2);
		if (tag == TAG_CONT)
			continue; /* the rest of a definition cut short */
		if (tag == TAG_DEF && table == 0) {
			static const unsigned char zero[SLOT];
			if (memcmp(p, zero, SLOT) != 0)
				st->bad++;
			continue;
		}
		if (table == 0) {
			st->bad++;
			continue;
		}
		if (tag != TAG_DEF) {
			if (sc__cpu_reserve((void **)&t->events, t->n_events, &t->cap_events, 1,
			                    sizeof *t->events))
				return SC_ENOMEM;
			event *e = &t->events[t->n_events++];
			e->tid = tag;
			e->key = key_of(table, word & ~END_BIT);
			e->end = word & END_BIT;
			memcpy(&e->time_ns, p + 8, 8);
			e->seq = off;
			st->events++;
			continue;
		}
		int32_t parent;
		uint32_t len;
		memcpy(&parent, p + 8, 4);
		memcpy(&len, p + 12, 4);
		size_t conts = ((size_t)len + NAME_CHUNK - 1) / NAME_CHUNK;
		bool ok = len <= NAME_MAX_ && parent >= -1 && parent < 0x8000 &&
		          off + SLOT * (1 + conts) <= end;
		char name[NAME_MAX_ + 1] = "";
		for (size_t c = 0; ok && c < conts; c++) {
			const unsigned char *s = p + SLOT * (1 + c);
			uint32_t ctag;
			memcpy(&ctag, s, 4);
			ok = ctag == TAG_CONT;
			size_t at = c * NAME_CHUNK;
			if (ok)
				memcpy(name + at, s + 4,
				       len - at < NAME_CHUNK ? len - at : NAME_CHUNK);
		}
		if (!ok || strlen(name) != len) {
			st->bad++;
			continue;
		}
		if (sc__cpu_reserve((void **)&t->defs, t->n_defs, &t->cap_defs, 1, sizeof *t->defs))
			return SC_ENOMEM;
		def *d = &t->defs[t->n_defs++];
		*d = (def){.key = key_of(table, word), .parent = parent, .region = -1};
		memcpy(d->name, name, len + 1);
		st->definitions++;
		off += SLOT * conts;
	}
	return 0;
}

/* Sorts the definitions and folds duplicates: the same twice is one, different is a conflict. */
static void fold_defs(trace *t)
{
	if (t->n_defs > 1)
		qsort(t->defs, t->n_defs, sizeof *t->defs, cmp_def);
	size_t k = 0;
	for (size_t i = 0; i < t->n_defs; i++) {
		if (k && t->defs[k - 1].key == t->defs[i].key) {
			def *d = &t->defs[k - 1];
			if (d->parent != t->defs[i].parent || strcmp(d->name, t->defs[i].name) != 0)
				d->conflict = true;
			continue;
		}
		t->defs[k++] = t->defs[i];
	}
	t->n_defs = k;
}

/* Each definition's region among regions: its name, its parent's name and its depth, as the
 * channel identifies them. */
static void match_defs(trace *t, const sc_region_stats *regions, size_t n_regions)
{
	for (size_t i = 0; i < t->n_defs; i++) {
		def *d = &t->defs[i];
		if (d->conflict)
			continue;
		const char *parent = "";
		int depth = 0;
		bool ok = true;
		const def *up = d;
		while (ok && up->parent >= 0) {
			up = find_def(t, (d->key & 0xffff0000u) | (uint32_t)up->parent);
			ok = up && !up->conflict && ++depth <= 64;
			if (ok && depth == 1)
				parent = up->name;
		}
		for (size_t r = 0; ok && r < n_regions; r++)
			if (regions[r].depth == depth && strcmp(regions[r].name, d->name) == 0 &&
			    strcmp(regions[r].parent, parent) == 0) {
				d->region = (int32_t)r;
				break;
			}
	}
}

/* A sample as the replay orders them: by thread, then time. */
typedef struct sample_ref {
	uint32_t tid;
	uint64_t time_ns;
	size_t index;
} sample_ref;

static int cmp_sample(const void *a, const void *b)
{
	const sample_ref *x = a, *y = b;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->time_ns != y->time_ns)
		return x->time_ns < y->time_ns ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Applies e to the thread's stack of open regions (keys); an end removes the innermost frame of
 * the same region, and an end with none open is ignored. */
static int apply_event(const event *e, uint32_t **stack, size_t *depth, size_t *cap)
{
	if (!e->end) {
		if (sc__cpu_reserve((void **)stack, *depth, cap, 1, sizeof **stack))
			return SC_ENOMEM;
		(*stack)[(*depth)++] = e->key;
		return 0;
	}
	for (size_t d = *depth; d-- > 0;)
		if ((*stack)[d] == e->key) {
			memmove(*stack + d, *stack + d + 1, (*depth - d - 1) * sizeof **stack);
			(*depth)--;
			break;
		}
	return 0;
}

/* The sample's region: the innermost open frame's, or, when that one is not among the regions,
 * the nearest enclosing one that is (the unmatched one is counted). */
static void attribute(const trace *t, const uint32_t *stack, size_t depth, sc__cpu_sample *s,
                      sc__region_trace_stats *st)
{
	if (!depth)
		return;
	for (size_t d = depth; d-- > 0;) {
		const def *f = find_def(t, stack[d]);
		if (f && f->region >= 0) {
			s->region = f->region;
			st->attributed++;
			return;
		}
		if (d == depth - 1) {
			st->unmatched++;
			if (!st->unmatched_name[0])
				snprintf(st->unmatched_name, sizeof st->unmatched_name, "%s",
				         f ? f->name : "?");
		}
	}
}

static int replay(const trace *t, sc__cpu_raw *raw, sc__region_trace_stats *st)
{
	sample_ref *order = malloc((raw->n_samples ? raw->n_samples : 1) * sizeof *order);
	if (!order)
		return SC_ENOMEM;
	for (size_t i = 0; i < raw->n_samples; i++)
		order[i] = (sample_ref){raw->samples[i].tid, raw->samples[i].time_ns, i};
	if (raw->n_samples > 1)
		qsort(order, raw->n_samples, sizeof *order, cmp_sample);
	uint32_t *stack = NULL;
	size_t depth = 0, cap = 0, e = 0;
	uint32_t tid = 0;
	int rc = 0;
	for (size_t i = 0; !rc && i < raw->n_samples; i++) {
		sc__cpu_sample *s = &raw->samples[order[i].index];
		if (i == 0 || s->tid != tid) {
			tid = s->tid;
			depth = 0;
			while (e < t->n_events && t->events[e].tid < tid)
				e++;
		}
		while (!rc && e < t->n_events && t->events[e].tid == tid &&
		       t->events[e].time_ns <= s->time_ns)
			rc = apply_event(&t->events[e++], &stack, &depth, &cap);
		if (st->truncated && s->time_ns >= st->full_ns) {
			st->after_full++;
			continue;
		}
		attribute(t, stack, depth, s, st);
	}
	free(stack);
	free(order);
	return rc;
}

int sc__region_trace_apply(const void *buf, size_t len, sc__cpu_raw *raw,
                           const sc_region_stats *regions, size_t n_regions,
                           sc__region_trace_stats *st)
{
	*st = (sc__region_trace_stats){0};
	trace_header h;
	if (len < HEADER)
		return SC_EPARSE;
	memcpy(&h, buf, HEADER);
	if (memcmp(h.magic, MAGIC, sizeof MAGIC) != 0)
		return SC_EPARSE;
	size_t end = len;
	if (h.capacity < end)
		end = (size_t)h.capacity;
	if (h.used < end)
		end = (size_t)h.used;
	st->truncated = h.full_ns != 0;
	st->full_ns = h.full_ns;
	trace t = {0};
	int rc = read_slots(buf, end, &t, st);
	if (!rc) {
		fold_defs(&t);
		match_defs(&t, regions, n_regions);
		if (t.n_events > 1)
			qsort(t.events, t.n_events, sizeof *t.events, cmp_event);
		rc = replay(&t, raw, st);
	}
	free(t.defs);
	free(t.events);
	return rc;
}

/* ---- the collector's side -------------------------------------------------------------- */

extern char **environ;

struct sc__region_trace {
	char dir[256];
	char path[300];
	char *var;
	char **envp;
};

sc__region_trace *sc__region_trace_new(char *const *envp)
{
	sc__region_trace *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	const char *tmp = getenv("TMPDIR");
	snprintf(t->dir, sizeof t->dir, "%s/shotclock-trace-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(t->dir)) {
		free(t);
		return NULL;
	}
	snprintf(t->path, sizeof t->path, "%s/regions", t->dir);
	char *const *base = envp ? envp : environ;
	size_t n = 0;
	for (char *const *e = base; e && *e; e++)
		n++;
	trace_header h = {.capacity = SC__REGION_TRACE_BYTES, .used = HEADER};
	memcpy(h.magic, MAGIC, sizeof MAGIC);
	int fd = open(t->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && ftruncate(fd, (off_t)SC__REGION_TRACE_BYTES) == 0 &&
	          pwrite(fd, &h, sizeof h, 0) == (ssize_t)sizeof h;
	if (fd >= 0)
		close(fd);
	t->envp = ok ? calloc(n + 2, sizeof *t->envp) : NULL;
	if (!t->envp || asprintf(&t->var, SC__REGION_TRACE_ENV "=%s", t->path) < 0) {
		free(t->envp);
		unlink(t->path);
		rmdir(t->dir);
		free(t);
		return NULL;
	}
	size_t k = 0, skip = strlen(SC__REGION_TRACE_ENV "=");
	for (char *const *e = base; e && *e; e++)
		if (strncmp(*e, SC__REGION_TRACE_ENV "=", skip) != 0)
			t->envp[k++] = *e;
	t->envp[k] = t->var;
	return t;
}

char *const *sc__region_trace_envp(const sc__region_trace *t)
{
	return t ? t->envp : NULL;
}

void sc__region_trace_free(sc__region_trace *t)
{
	if (!t)
		return;
	unlink(t->path);
	rmdir(t->dir);
	free(t->var);
	free(t->envp);
	free(t);
}

int sc__region_trace_collect(sc__region_trace *t, sc__cpu_raw *raw, sc_profile *p)
{
	if (!t)
		return SC_EUNAVAILABLE;
	int rc = SC_EIO;
	int fd = open(t->path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	void *m = MAP_FAILED;
	if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size >= HEADER)
		m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (fd >= 0)
		close(fd);
	sc__region_trace_stats ts;
	if (m != MAP_FAILED) {
		rc = sc__region_trace_apply(m, (size_t)st.st_size, raw, p->regions, p->n_regions,
		                            &ts);
		munmap(m, (size_t)st.st_size);
	}
	if (!rc && !ts.definitions) {
		/* The program wrote nothing: its regions would all read 0 samples, which nothing
		 * measured. They stay unsampled. */
		sc__warning_push(p, "region-trace-empty",
		                 "check that the program enters its regions in every run",
		                 "the sampled run traced no region (the program did not enter any, "
		                 "or could not open the trace): the regions have no CPU figures");
		rc = SC_EUNAVAILABLE;
	} else if (!rc) {
		uint64_t counted = ts.attributed + ts.unmatched;
		if (ts.truncated)
			sc__warning_push(
			    p, "region-trace-full",
			    "profile fewer region entries under shotclock run (the trace holds "
			    "about "
			    "2 million)",
			    "the region trace filled during the sampled run after %llu begins and "
			    "ends: the regions' CPU figures count only the samples taken before it "
			    "filled (%llu later samples count for no region)",
			    (unsigned long long)ts.events, (unsigned long long)ts.after_full);
		if (ts.unmatched)
			sc__warning_push(p, "region-trace-unmatched",
			                 "enter the same regions in every run of the command",
			                 "%llu of %llu CPU samples in regions fell in regions the "
			                 "timed runs did "
			                 "not report (such as '%s'): they count for the nearest "
			                 "enclosing region "
			                 "that was reported, or none",
			                 (unsigned long long)ts.unmatched,
			                 (unsigned long long)counted, ts.unmatched_name);
		if (ts.bad)
			sc__warning_push(p, "region-trace-unreadable",
			                 "report it: the program's region trace was damaged",
			                 "%llu records of the region trace made no sense and were "
			                 "skipped: the regions' CPU figures may be short",
			                 (unsigned long long)ts.bad);
	} else if (rc != SC_ENOMEM) {
		sc__warning_push(p, "region-trace-unreadable",
		                 "report it: the program's region trace could not be read",
		                 "the region trace of the sampled run could not be read (%s): the "
		                 "regions have no CPU figures",
		                 sc_strerror(rc));
	}
	sc__region_trace_free(t);
	return rc;
}

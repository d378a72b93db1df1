/* shim_leaks.c: the leak scan at exit with sites=all: a conservative mark phase, as valgrind's and
 * LeakSanitizer's, from the roots (data and bss, TLS, stacks, registers) over the live blocks. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim.h"

struct blk {
	uint64_t ptr;
	uint64_t size;
};

struct range {
	uintptr_t lo, hi;
	int stack; /* the main thread's stack, "[stack]" */
};

struct scan {
	struct blk *b;
	uint8_t *mark;
	uint32_t *work;
	uint64_t n, filled, top;
	uint64_t lo, span; /* every block lies in [lo, lo + span) */
	struct range *maps;
	size_t nmaps, maps_bytes;
	int allocator_data; /* scanning the data of the object the real malloc lives in */
	size_t tcb_bytes;
};

static void *scratch(size_t bytes)
{
	void *m = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	               -1, 0);

	return m == MAP_FAILED ? NULL : m;
}

static void collect(uint64_t ptr, uint64_t size, void *arg)
{
	struct scan *sc = arg;

	if (sc->filled < sc->n) {
		sc->b[sc->filled].ptr = ptr;
		sc->b[sc->filled].size = size;
		sc->filled++;
	}
}

static void sift(struct blk *b, uint64_t i, uint64_t n)
{
	for (;;) {
		uint64_t c = 2 * i + 1;
		struct blk tmp;

		if (c >= n)
			return;
		if (c + 1 < n && b[c + 1].ptr > b[c].ptr)
			c++;
		if (b[i].ptr >= b[c].ptr)
			return;
		tmp = b[i];
		b[i] = b[c];
		b[c] = tmp;
		i = c;
	}
}

/* Heapsort: no allocation, no recursion, n log n whatever the order. */
static void sort_blocks(struct blk *b, uint64_t n)
{
	for (uint64_t i = n / 2; i-- > 0;)
		sift(b, i, n);
	for (uint64_t end = n; end-- > 1;) {
		struct blk tmp = b[0];

		b[0] = b[end];
		b[end] = tmp;
		sift(b, 0, end);
	}
}

/* The block holding address w (interior pointers count), or -1. */
static int64_t find_block(const struct scan *sc, uint64_t w)
{
	uint64_t lo = 0, hi = sc->n;

	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (sc->b[mid].ptr <= w)
			lo = mid;
		else
			hi = mid;
	}
	if (sc->b[lo].ptr <= w && w - sc->b[lo].ptr < (sc->b[lo].size ? sc->b[lo].size : 1))
		return (int64_t)lo;
	return -1;
}

/* glibc's arena (in libc's data) points at chunk headers: the free chunk or the top chunk that
 * follows a block starts 8 bytes before the block's usable end, which can lie inside the bytes
 * the block's owner asked for. Such a word says nothing about the block. */
static int is_chunk_header(const struct blk *b, uint64_t w)
{
	return sc__g.use_mallinfo && w > b->ptr &&
	       w == b->ptr + sc__real.usable((void *)(uintptr_t)b->ptr) - 8;
}

static void scan_words(struct scan *sc, uintptr_t lo, uintptr_t hi)
{
	for (uintptr_t a = (lo + 7) & ~(uintptr_t)7; a + 8 <= hi; a += 8) {
		uint64_t w = *(const volatile sc__word *)a;
		int64_t i;

		if (w - sc->lo >= sc->span)
			continue;
		i = find_block(sc, w);
		if (i >= 0 && sc->allocator_data && is_chunk_header(&sc->b[i], w))
			continue;
		if (i >= 0 && !sc->mark[i]) {
			sc->mark[i] = 1;
			sc->work[sc->top++] = (uint32_t)i;
		}
	}
}

/* Roots may border unmapped memory (a guard page, the end of a TCB's mapping): only what
 * /proc/self/maps says is readable is read. */
static void scan_root(struct scan *sc, uintptr_t lo, uintptr_t hi)
{
	for (size_t i = 0; i < sc->nmaps && sc->maps[i].lo < hi; i++) {
		uintptr_t a = sc->maps[i].lo > lo ? sc->maps[i].lo : lo;
		uintptr_t b = sc->maps[i].hi < hi ? sc->maps[i].hi : hi;

		if (a < b)
			scan_words(sc, a, b);
	}
}

/* A thread's stack holds its struct sc__tls (non-main threads keep static TLS there), whose
 * last_alloc would mark a block: skip it. */
static void scan_root_except(struct scan *sc, uintptr_t lo, uintptr_t hi, uintptr_t skip)
{
	uintptr_t skip_hi = skip + sizeof(struct sc__tls);

	if (skip >= hi || skip_hi <= lo) {
		scan_root(sc, lo, hi);
		return;
	}
	scan_root(sc, lo, skip);
	scan_root(sc, skip_hi, hi);
}

static const struct range *mapping_of(const struct scan *sc, uintptr_t a)
{
	for (size_t i = 0; i < sc->nmaps; i++)
		if (a >= sc->maps[i].lo && a < sc->maps[i].hi)
			return &sc->maps[i];
	return NULL;
}

static uintptr_t parse_hex(const char **s)
{
	uintptr_t v = 0;

	for (;; (*s)++) {
		char c = **s;

		if (c >= '0' && c <= '9')
			v = v * 16 + (uintptr_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (uintptr_t)(c - 'a' + 10);
		else
			return v;
	}
}

/* The readable mappings, from /proc/self/maps (kernel order: ascending addresses). Each line:
 * "lo-hi perms offset dev inode [path]". */
static int read_maps(struct scan *sc)
{
	size_t cap = 1 << 16, len = 0, lines = 0;
	char *buf = scratch(cap);
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	const char *s;

	if (buf == NULL || fd < 0) {
		if (fd >= 0)
			close(fd);
		if (buf != NULL)
			munmap(buf, cap);
		return -1;
	}
	for (;;) {
		ssize_t r;

		if (len == cap) {
			char *bigger = mremap(buf, cap, cap * 2, MREMAP_MAYMOVE);

			if (bigger == MAP_FAILED) {
				close(fd);
				munmap(buf, cap);
				return -1;
			}
			buf = bigger;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	sc->maps_bytes = (lines + 1) * sizeof *sc->maps;
	sc->maps = scratch(sc->maps_bytes);
	if (sc->maps == NULL) {
		munmap(buf, cap);
		return -1;
	}
	for (s = buf; s < buf + len;) {
		const char *eol = memchr(s, '\n', (size_t)(buf + len - s));
		struct range *m = &sc->maps[sc->nmaps];

		if (eol == NULL)
			eol = buf + len;
		m->lo = parse_hex(&s);
		if (*s == '-') {
			s++;
			m->hi = parse_hex(&s);
			if (*s == ' ' && s[1] == 'r' && m->hi > m->lo) {
				m->stack = eol - s >= 7 && memcmp(eol - 7, "[stack]", 7) == 0;
				sc->nmaps++;
			}
		}
		s = eol + 1;
	}
	munmap(buf, cap);
	return 0;
}

struct roots_walk {
	struct scan *sc;
};

/* Writable PT_LOAD segments (data, bss, GOT) and this thread's TLS block of every object but
 * the shim, whose tables would otherwise mark every block. dl_iterate_phdr holds the loader's
 * lock, so no object is unmapped while it is read. */
static int roots_cb(struct dl_phdr_info *info, size_t info_size, void *arg)
{
	struct roots_walk *w = arg;
	uintptr_t m = (uintptr_t)sc__real.malloc;

	(void)info_size;
	if (info->dlpi_addr == sc__g.self_base)
		return 0;
	w->sc->allocator_data = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t a = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && m - a < ph->p_memsz)
			w->sc->allocator_data = 1;
	}
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t a = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W))
			scan_root(w->sc, a, a + ph->p_memsz);
		else if (ph->p_type == PT_TLS && info->dlpi_tls_data != NULL)
			scan_root(w->sc, (uintptr_t)info->dlpi_tls_data,
			          (uintptr_t)info->dlpi_tls_data + ph->p_memsz);
	}
	w->sc->allocator_data = 0;
	return 0;
}

/* The exiting thread: its stack from stack_lo, where finalize_here (shim_life.c) spilled the
 * registers, to the top of the stack's mapping. The shim's own frames below stack_lo are left out:
 * they hold stale copies of block addresses (the table walk, the sort) that would mark lost blocks
 * reachable. A thread exiting on a signal stack also has its own stack read whole. */
static void scan_own_stack(struct sc__tls *t, struct scan *sc, uintptr_t stack_lo)
{
	const struct range *m = mapping_of(sc, stack_lo);
	const struct sc__thread *r = t->rec;

	if (m != NULL)
		scan_root_except(sc, stack_lo, m->hi, (uintptr_t)&sc__tls);
	if (r != NULL && r->stack_hi != 0 && (stack_lo < r->stack_lo || stack_lo >= r->stack_hi))
		scan_root_except(sc, r->stack_lo, r->stack_hi, (uintptr_t)&sc__tls);
	if (gettid() == getpid() && (m == NULL || !m->stack))
		for (size_t i = 0; i < sc->nmaps; i++)
			if (sc->maps[i].stack)
				scan_root(sc, sc->maps[i].lo, sc->maps[i].hi);
}

struct threads_walk {
	struct scan *sc;
	struct sc__thread *self;
};

static void other_thread(struct sc__thread *r, void *arg)
{
	struct threads_walk *w = arg;

	if (!r->in_use || r == w->self)
		return;
	if (r->tid == (uint32_t)getpid()) {
		/* The main thread, still running while another thread exits: its whole stack.
		 * Its static TLS lies elsewhere and is not scanned. */
		for (size_t i = 0; i < w->sc->nmaps; i++)
			if (w->sc->maps[i].stack)
				scan_root(w->sc, w->sc->maps[i].lo, w->sc->maps[i].hi);
	} else if (r->stack_hi != 0) {
		/* We cannot stop the thread to read its stack pointer: the whole stack is read,
		 * which can only find more blocks reachable. */
		scan_root_except(w->sc, r->stack_lo, r->stack_hi, r->tls_lo);
	}
}

/* The size of glibc's thread control block (struct pthread), which follows the thread pointer
 * on x86_64 and holds pointers to the dtv and to pthread key data; 4 KiB when unknown. */
static size_t tcb_size(void)
{
	const unsigned *size = dlsym(RTLD_DEFAULT, "_thread_db_sizeof_pthread");

	return size != NULL && *size > 0 && *size < (1u << 16) ? *size : 4096;
}

static void mark_all(struct sc__tls *t, struct scan *sc, uintptr_t stack_lo)
{
	struct roots_walk rw = {sc};
	struct threads_walk tw = {sc, t->rec};

	dl_iterate_phdr(roots_cb, &rw);
	scan_own_stack(t, sc, stack_lo);
#if defined(__x86_64__)
	{
		uintptr_t tp = (uintptr_t)__builtin_thread_pointer();

		scan_root(sc, tp, tp + sc->tcb_bytes);
	}
#endif
	sc__thread_each(other_thread, &tw);
	while (sc->top > 0) {
		const struct blk *b = &sc->b[sc->work[--sc->top]];

		scan_words(sc, b->ptr, b->ptr + b->size);
	}
}

int sc__leak_scan(struct sc__tls *t, uintptr_t stack_lo)
{
	struct scan sc;
	size_t bytes = 0;
	void *mem = NULL;
	int ran = -1;

	if (sc__track_overflowed() || sc__thread_rec(t) == NULL)
		return -1;
	memset(&sc, 0, sizeof sc);
	sc.tcb_bytes = tcb_size(); /* before the locks: dlsym may allocate */
	/* Freeze the world we can: no thread can free a remembered block (it must take a table
	 * lock first) or finish exiting (it must take the registry lock) while we read. */
	sc__spin_lock(&sc__reg_lock);
	sc__track_lock_all();
	sc.n = sc__track_count();
	if (sc.n >= UINT32_MAX)
		goto out;
	bytes = sc.n * (sizeof *sc.b + sizeof *sc.mark + sizeof *sc.work) + 64;
	mem = scratch(bytes);
	if (mem == NULL)
		goto out;
	sc.b = mem;
	sc.work = (uint32_t *)(sc.b + sc.n);
	sc.mark = (uint8_t *)(sc.work + sc.n);
	sc__track_each(collect, &sc);
	sc.n = sc.filled;
	if (sc.n > 0) {
		sort_blocks(sc.b, sc.n);
		sc.lo = sc.b[0].ptr;
		sc.span = sc.b[sc.n - 1].ptr + sc.b[sc.n - 1].size + 1 - sc.lo;
		if (read_maps(&sc) != 0)
			goto out;
		mark_all(t, &sc, stack_lo);
	}
	ran = 0;
out:
	sc__track_unlock_all();
	sc__spin_unlock(&sc__reg_lock);
	/* The records go out after the locks are dropped: other threads may move on. */
	for (uint64_t i = 0; ran == 0 && i < sc.n; i++) {
		struct heap_rec_leak r = {.h = {HEAP_REC_LEAK, sizeof r, sc.mark[i]},
		                          .ptr = sc.b[i].ptr,
		                          .size = sc.b[i].size};

		sc__emit(t, &r, sizeof r);
	}
	if (sc.maps != NULL)
		munmap(sc.maps, sc.maps_bytes);
	if (mem != NULL)
		munmap(mem, bytes);
	return ran;
}

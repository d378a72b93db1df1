/* test_heap_decode.c: the heap record decoder on batches built byte by byte: exact aggregates,
 * sampling weights, sites, modules, gaps, split feeding, every malformed case, and a stream
 * replayed from a fixture file. */
#include "check.h"
#include "internal.h"

#include "cpu_samples.h"
#include "heap_wire.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- building streams ------------------------------------------------------------------------ */

/* A record stream being written, as the shim would: batches of records, host byte order. */
typedef struct stream {
	uint8_t buf[1 << 16];
	size_t len;
	size_t batch_at; /* where the open batch starts */
} stream;

/* Appends n bytes one at a time, so that nothing depends on the layout of a C struct. */
static void put(stream *s, uint64_t value, size_t n)
{
	uint8_t bytes[8];
	memcpy(bytes, &value, sizeof bytes);
	const uint8_t *low = bytes;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	low = bytes + 8 - n;
#endif
	for (size_t i = 0; i < n && s->len < sizeof s->buf; i++)
		s->buf[s->len++] = low[i];
}

static void put32(stream *s, uint32_t v)
{
	put(s, v, 4);
}

static void put64(stream *s, uint64_t v)
{
	put(s, v, 8);
}

static void batch_begin_magic(stream *s, uint32_t magic, uint32_t pid, uint32_t seq)
{
	s->batch_at = s->len;
	put32(s, magic);
	put32(s, pid);
	put32(s, 0); /* length, set by batch_end */
	put32(s, seq);
}

static void batch_begin(stream *s, uint32_t pid, uint32_t seq)
{
	batch_begin_magic(s, HEAP_BATCH_MAGIC, pid, seq);
}

static void batch_end(stream *s)
{
	uint32_t length = (uint32_t)(s->len - s->batch_at - 16);
	memcpy(s->buf + s->batch_at + 8, &length, sizeof length);
}

static void rec(stream *s, uint16_t type, uint16_t size, uint32_t aux)
{
	put(s, type, 2);
	put(s, size, 2);
	put32(s, aux);
}

static void rec_hello(stream *s, uint32_t slot, uint32_t ppid, uint32_t flags,
                      uint64_t sample_bytes, uint64_t start_ns)
{
	rec(s, HEAP_REC_HELLO, 32, slot);
	put32(s, ppid);
	put32(s, flags);
	put64(s, sample_bytes);
	put64(s, start_ns);
}

static void rec_module(stream *s, uint64_t base, uint64_t start, uint64_t end, const char *path)
{
	size_t n = strlen(path) + 1, padded = (n + 7) / 8 * 8;
	rec(s, HEAP_REC_MODULE, (uint16_t)(32 + padded), (uint32_t)n);
	put64(s, base);
	put64(s, start);
	put64(s, end);
	for (size_t i = 0; i < padded; i++)
		put(s, i < n ? (uint8_t)path[i] : 0, 1);
}

static void rec_stack(stream *s, uint64_t id, uint32_t n, const uint64_t *frames)
{
	rec(s, HEAP_REC_STACK, (uint16_t)(16 + 8 * n), n);
	put64(s, id);
	for (uint32_t i = 0; i < n; i++)
		put64(s, frames[i]);
}

static void rec_alloc(stream *s, uint32_t thread, uint64_t ptr, uint64_t size, uint64_t stack,
                      uint64_t t_ns)
{
	rec(s, HEAP_REC_ALLOC, 40, thread);
	put64(s, ptr);
	put64(s, size);
	put64(s, stack);
	put64(s, t_ns);
}

static void rec_free(stream *s, uint32_t thread, uint64_t ptr)
{
	rec(s, HEAP_REC_FREE, 16, thread);
	put64(s, ptr);
}

static void rec_leak(stream *s, bool reachable, uint64_t ptr, uint64_t size)
{
	rec(s, HEAP_REC_LEAK, 24, reachable);
	put64(s, ptr);
	put64(s, size);
}

static void rec_exit(stream *s, uint32_t how, uint64_t end_ns)
{
	rec(s, HEAP_REC_EXIT, 16, how);
	put64(s, end_ns);
}

static void rec_cpu(stream *s, uint32_t tid, uint32_t periods, uint64_t t_ns, uint32_t n,
                    const uint64_t *frames)
{
	rec(s, HEAP_REC_CPU, (uint16_t)(24 + 8 * n), n);
	put32(s, tid);
	put32(s, periods);
	put64(s, t_ns);
	for (uint32_t i = 0; i < n; i++)
		put64(s, frames[i]);
}

/* A CPU record with the registers and stack copy after its frames (struct heap_cpu_stack): len
 * bytes of stack, the pattern 0x40, 0x41, ... (len a multiple of 8), and `extra` bytes more, as
 * a later version might append. */
static void rec_cpu_stack(stream *s, uint32_t tid, uint32_t periods, uint64_t t_ns, uint32_t n,
                          const uint64_t *frames, uint64_t rsp, uint64_t rbp, uint64_t rip,
                          uint32_t len, uint32_t extra)
{
	rec(s, HEAP_REC_CPU, (uint16_t)(24 + 8 * n + 32 + len + extra), n);
	put32(s, tid);
	put32(s, periods);
	put64(s, t_ns);
	for (uint32_t i = 0; i < n; i++)
		put64(s, frames[i]);
	put64(s, rsp);
	put64(s, rbp);
	put64(s, rip);
	put32(s, len);
	put32(s, 0);
	for (uint32_t i = 0; i < len; i++)
		put(s, (uint8_t)(0x40 + i), 1);
	for (uint32_t i = 0; i < extra; i++)
		put(s, 0xee, 1);
}

static void rec_cpu_state(stream *s, uint32_t state, int32_t error, uint64_t period_ns,
                          uint64_t t_ns)
{
	rec(s, HEAP_REC_CPU_STATE, 32, state);
	put32(s, (uint32_t)error);
	put32(s, 0);
	put64(s, period_ns);
	put64(s, t_ns);
}

/* ---- the counters file ----------------------------------------------------------------------- */

static struct heap_counters counters; /* 4 MiB: static */

static void counters_reset(uint64_t sample_bytes)
{
	memset(&counters, 0, sizeof counters);
	counters.magic = HEAP_COUNTERS_MAGIC;
	counters.version = HEAP_VERSION;
	counters.sample_bytes = sample_bytes;
}

static struct heap_process_slot *claim_process(uint32_t pid, uint32_t state, uint32_t flags)
{
	struct heap_process_slot *p = &counters.processes[counters.next_process++];
	*p = (struct heap_process_slot){
	    .pid = pid,
	    .ppid = 1,
	    .state = state,
	    .start_ns = 1000000000,
	    .end_ns = state == HEAP_PROCESS_EXITED ? 3000000000 : 0,
	    .arena_bytes = -1,
	    .in_use_bytes = -1,
	    .flags = flags,
	};
	return p;
}

/* A thread slot of the process in slot process_index, with its counts. */
static struct heap_thread_slot *claim_thread(size_t process_index, uint64_t allocations,
                                             uint64_t frees, uint64_t bytes)
{
	struct heap_thread_slot *t = &counters.threads[counters.next_thread++];
	t->process = (uint32_t)process_index + 1;
	t->tid = 1000 + counters.next_thread;
	t->allocations = allocations;
	t->frees = frees;
	t->bytes_allocated = bytes;
	counters.processes[process_index].threads++;
	return t;
}

/* ---- feeding and reading back ---------------------------------------------------------------- */

static char err[256];

/* Feeds s in chunks of chunk bytes (0: all at once), then the counters; returns the first
 * error. */
static int feed(sc__heap_agg *a, const stream *s, size_t chunk)
{
	err[0] = '\0';
	size_t step = chunk ? chunk : s->len;
	for (size_t at = 0; at < s->len; at += step) {
		size_t n = s->len - at < step ? s->len - at : step;
		int rc = sc__heap_agg_feed(a, s->buf + at, n, err, sizeof err);
		if (rc)
			return rc;
	}
	return 0;
}

/* The profile of pid after feeding s and the counters (the aggregate is freed). */
static int decode(const stream *s, size_t chunk, uint32_t pid, sc_heap_profile *out)
{
	sc__heap_agg *a = NULL;
	CHECK_INT(sc__heap_agg_new(&a), 0);
	int rc = feed(a, s, chunk);
	char cerr[128];
	CHECK_INT(sc__heap_agg_counters(a, &counters, sizeof counters, cerr, sizeof cerr), 0);
	CHECK_INT(sc__heap_agg_result(a, pid, out), 0);
	sc__heap_agg_free(a);
	return rc;
}

/* Relative tolerance for figures computed with expm1 and a few additions: a few ulps. */
#define REL             1e-12
#define CHECK_REL(a, b) CHECK_NEAR(a, b, fabs((double)(b)) * REL)

/* ---- counts from the counters file ----------------------------------------------------------- */

static void test_counts(void)
{
	counters_reset(4096);
	struct heap_process_slot *p = claim_process(100, HEAP_PROCESS_EXITED, 0);
	p->peak_live_bytes = 5 << 20;
	p->peak_ns = 1500000000;
	p->arena_bytes = 8 << 20;
	p->in_use_bytes = 6 << 20;
	struct heap_thread_slot *t0 = claim_thread(0, 1000, 900, 64000);
	struct heap_thread_slot *t1 = claim_thread(0, 500, 600, 32000);
	t0->usable_allocated = 80000;
	t0->usable_freed = 70000;
	t1->usable_allocated = 40000;
	t1->usable_freed = 45000;
	t0->temporary = 300;
	t1->temporary = 20;
	t0->size_buckets[0] = 10;
	t0->size_buckets[7] = 990;
	t1->size_buckets[7] = 500;
	/* A second process (a traced child) and threads past the slots (the overflow slot). */
	claim_process(101, HEAP_PROCESS_EXITED, HEAP_PROCESS_FLAG_FORKED);
	claim_thread(1, 7, 7, 7);
	counters.overflow_thread.allocations = 3;
	counters.overflow_thread.frees = 1;
	counters.overflow_thread.bytes_allocated = 48;
	counters.overflow_thread.usable_allocated = 72;
	counters.overflow_thread.size_buckets[5] = 3;

	stream s = {0};
	batch_begin(&s, 100, 0);
	rec_hello(&s, 0, 1, 0, 4096, 1000000000);
	rec_exit(&s, HEAP_EXIT_NORMAL, 3000000000);
	batch_end(&s);

	sc_heap_profile h;
	CHECK_INT(decode(&s, 0, 100, &h), 0);
	CHECK(h.available);
	CHECK_STR(h.reason, "");
	CHECK(h.complete);
	CHECK_STR(h.incomplete_reason, "");
	CHECK_STR(h.sites_mode, "sampled");
	CHECK_INT(h.sample_bytes, 4096);
	CHECK_INT(h.allocations, 1000 + 500 + 3);
	CHECK_INT(h.frees, 900 + 600 + 1);
	CHECK_INT(h.bytes_allocated, 64000 + 32000 + 48);
	CHECK_INT(h.temporary_allocations, 320);
	CHECK_INT(h.size_buckets[0], 10);
	CHECK_INT(h.size_buckets[5], 3);
	CHECK_INT(h.size_buckets[7], 1490);
	CHECK_STR(h.live_basis, "usable");
	CHECK_INT(h.peak_live_bytes, 5 << 20);
	CHECK_NEAR(h.peak_live_s, 0.5, 1e-15);
	/* Two threads: the other one can hide one flush threshold from the peak. */
	CHECK_INT(h.peak_live_error_bytes, 256 << 10);
	CHECK_INT(h.leaked_blocks, 1503 - 1501);
	CHECK_INT(h.leaked_bytes, (80000 + 40000 + 72) - (70000 + 45000));
	CHECK_INT(h.lost_blocks, -1);
	CHECK_INT(h.lost_bytes, -1);
	CHECK_INT(h.reachable_blocks, -1);
	CHECK_INT(h.reachable_bytes, -1);
	CHECK_INT(h.arena_bytes, 8 << 20);
	CHECK_INT(h.in_use_bytes, 6 << 20);
	CHECK_INT(h.processes, 2);
	CHECK_INT(h.n_sites, 0);
	CHECK(isnan(h.allocations_per_sample) && isnan(h.run_wall_s) && isnan(h.slowdown) &&
	      isnan(h.run_peak_rss_mb));
	sc__heap_profile_release(&h);

	/* The child as the root of a profile: its own thread, and the overflow slot, which goes to
	 * whichever process the profile is about. */
	CHECK_INT(decode(&s, 0, 101, &h), 0);
	CHECK(h.available);
	CHECK_INT(h.allocations, 7 + 3);
	CHECK_INT(h.peak_live_error_bytes, 0);
	/* Its records never came: the counters stand, the rest is incomplete. */
	CHECK(!h.complete);
	CHECK_STR(h.incomplete_reason, "none of the process's records arrived");
	sc__heap_profile_release(&h);

	/* Frees of blocks from before the shim started can outnumber allocations: never below 0. */
	t1->frees = 5000;
	t1->usable_freed = 1 << 20;
	CHECK_INT(decode(&s, 0, 100, &h), 0);
	CHECK_INT(h.leaked_blocks, 0);
	CHECK_INT(h.leaked_bytes, 0);
	sc__heap_profile_release(&h);
}

/* ---- why the heap was not measured ----------------------------------------------------------- */

static void test_unavailable(void)
{
	counters_reset(4096);
	stream s = {0};
	sc_heap_profile h;
	CHECK_INT(decode(&s, 0, 100, &h), 0);
	CHECK(!h.available);
	CHECK_STR(h.reason, "the shim did not start in the program (not dynamically linked, or "
	                    "LD_PRELOAD was refused)");
	CHECK_INT(h.processes, 0);
	/* Not measured is -1 (include/shotclock.h's rule), never a silent 0. */
	CHECK_INT(h.allocations, -1);
	sc__heap_profile_release(&h);

	struct heap_process_slot *p = claim_process(100, HEAP_PROCESS_DISABLED, 0);
	p->reason = HEAP_REASON_OWN_MALLOC;
	CHECK_INT(decode(&s, 0, 100, &h), 0);
	CHECK(!h.available);
	CHECK_STR(h.reason, "the program has its own malloc, so its allocations bypass the shim");
	CHECK_INT(h.processes, 0); /* a disabled process is not traced */
	sc__heap_profile_release(&h);

	p->reason = HEAP_REASON_SLOTS_FULL;
	CHECK_INT(decode(&s, 0, 100, &h), 0);
	CHECK_STR(h.reason, "more traced processes than the counters file has slots (64)");
	sc__heap_profile_release(&h);

	/* Another pid, and no counters at all. */
	CHECK_INT(decode(&s, 0, 555, &h), 0);
	CHECK(!h.available);
	sc__heap_profile_release(&h);
	sc__heap_agg *a = NULL;
	CHECK_INT(sc__heap_agg_new(&a), 0);
	CHECK_INT(sc__heap_agg_result(a, 100, &h), 0);
	CHECK(!h.available);
	CHECK_INT(sc__heap_agg_result(NULL, 100, &h), SC_EINVAL);
	CHECK_INT(sc__heap_agg_result(a, 100, NULL), SC_EINVAL);
	CHECK_INT(sc__heap_agg_feed(a, NULL, 1, NULL, 0), SC_EINVAL);
	CHECK_INT(sc__heap_agg_feed(a, NULL, 0, NULL, 0), 0);
	CHECK_INT(sc__heap_agg_new(NULL), SC_EINVAL);
	sc__heap_agg_free(a);
	sc__heap_agg_free(NULL);
}

/* ---- sampled sites: weights, errors, order --------------------------------------------------- */

static void test_sampled_weights(void)
{
	/* T = 1000 bytes; expected values from P(sampled) = 1 - exp(-size/T), evaluated
	 * independently (Python's math.expm1): weight 1/P, bytes size/P, and the relative error
	 * sqrt(sum size^2 (1-P)/P^2) / bytes. */
	counters_reset(1000);
	claim_process(200, HEAP_PROCESS_EXITED, 0);
	claim_thread(0, 4, 1, 102010);
	uint64_t fa[] = {0x1000}, fb[] = {0x2000}, fc[] = {0x3000};
	stream s = {0};
	batch_begin(&s, 200, 0);
	rec_hello(&s, 0, 1, 0, 1000, 1000000000);
	rec_stack(&s, 0xa, 1, fa);
	rec_stack(&s, 0xb, 1, fb);
	rec_stack(&s, 0xc, 1, fc);
	rec_alloc(&s, 0, 0x10000, 1000, 0xa, 1000000100);
	rec_alloc(&s, 0, 0x20000, 1000, 0xa, 1000000200);
	rec_alloc(&s, 0, 0x30000, 10, 0xb, 1000000300);
	rec_alloc(&s, 0, 0x40000, 100000, 0xc, 1000000400);
	rec_free(&s, 0, 0x10000);
	rec_free(&s, 0, 0x40000);
	rec_exit(&s, HEAP_EXIT_NORMAL, 2000000000);
	batch_end(&s);

	sc_heap_profile h;
	CHECK_INT(decode(&s, 0, 200, &h), 0);
	CHECK(h.complete);
	CHECK_INT(h.n_sites, 3);
	if (h.n_sites == 3) {
		/* Largest bytes first: C (100000, always sampled), A, B. */
		const sc_heap_site *c = &h.sites[0], *a = &h.sites[1], *b = &h.sites[2];
		CHECK_INT(c->frames[0].address, 0x3000);
		CHECK_INT(a->frames[0].address, 0x1000);
		CHECK_INT(b->frames[0].address, 0x2000);
		CHECK_REL(c->allocations, 1.0);
		CHECK_REL(c->bytes, 100000.0);
		CHECK_NEAR(c->bytes_error, 0, 0);
		CHECK_NEAR(c->leaked_blocks, 0, 0);
		CHECK_REL(a->allocations, 3.163953413738653);
		CHECK_REL(a->bytes, 3163.953413738653);
		CHECK_REL(a->bytes_error, 0.4288819424803534);
		/* One of A's two blocks is live at exit. */
		CHECK_REL(a->leaked_blocks, 1.5819767068693265);
		CHECK_REL(a->leaked_bytes, 1581.9767068693266);
		CHECK_REL(b->allocations, 100.50083333194443);
		CHECK_REL(b->bytes, 1005.0083333194444);
		CHECK_REL(b->bytes_error, 0.9950124791926822);
		CHECK_REL(b->leaked_bytes, 1005.0083333194444);
		/* No leak scan in sampled mode. */
		CHECK(isnan(a->lost_bytes));
	}
	sc__heap_profile_release(&h);
}

/* ---- frames: module and offset --------------------------------------------------------------- */

static void test_modules(void)
{
	counters_reset(0);
	claim_process(300, HEAP_PROCESS_EXITED, HEAP_PROCESS_FLAG_SITES_ALL);
	claim_thread(0, 1, 0, 24);
	uint64_t frames[] = {0x401234, 0x7f0000002345, 0x1234};
	uint64_t other[] = {0x999};
	stream s = {0};
	batch_begin(&s, 300, 0);
	rec_hello(&s, 0, 1, HEAP_PROCESS_FLAG_SITES_ALL, 0, 1000);
	rec_module(&s, 0x400000, 0x401000, 0x402000, "/usr/bin/prog");
	rec_module(&s, 0x7f0000000000, 0x7f0000001000, 0x7f0000100000, "/lib/libc.so.6");
	/* The same object announced again is kept once. */
	rec_module(&s, 0x400000, 0x401000, 0x402000, "/usr/bin/prog");
	rec_stack(&s, 77, 3, frames);
	/* The same id again, even with other frames: the first announcement stands. */
	rec_stack(&s, 77, 1, other);
	rec_alloc(&s, 0, 0x5000, 24, 77, 2000);
	/* A stack never announced: a site without frames. */
	rec_alloc(&s, 0, 0x6000, 8, 78, 3000);
	rec_exit(&s, HEAP_EXIT_NORMAL, 5000);
	batch_end(&s);

	sc_heap_profile h;
	CHECK_INT(decode(&s, 0, 300, &h), 0);
	CHECK_STR(h.sites_mode, "all");
	CHECK_INT(h.sample_bytes, 0);
	CHECK_INT(h.n_sites, 2);
	if (h.n_sites == 2) {
		const sc_heap_site *site = &h.sites[0];
		CHECK_INT(site->n_frames, 3);
		if (site->n_frames == 3) {
			CHECK_INT(site->frames[0].address, 0x401234);
			CHECK_STR(site->frames[0].module, "/usr/bin/prog");
			CHECK_INT(site->frames[0].offset, 0x1234);
			CHECK_STR(site->frames[1].module, "/lib/libc.so.6");
			CHECK_INT(site->frames[1].offset, 0x2345);
			CHECK(site->frames[2].module == NULL);
			CHECK_INT(site->frames[2].offset, 0);
			CHECK(site->frames[0].function == NULL && site->frames[0].file == NULL);
			CHECK_INT(site->frames[0].line, 0);
		}
		CHECK_NEAR(site->allocations, 1, 0);
		CHECK_NEAR(site->bytes, 24, 0);
		CHECK_NEAR(site->bytes_error, 0, 0);
		CHECK_INT(h.sites[1].n_frames, 0);
		CHECK(h.sites[1].frames == NULL);
	}
	sc__heap_profile_release(&h);
}

/* ---- sites=all: the exact live bytes, peak and leaks ----------------------------------------- */

static void build_all_mode(stream *s, uint32_t threads_hint)
{
	(void)threads_hint;
	const uint64_t t0 = 1000000000, ms = 1000000;
	uint64_t fa[] = {0xa0}, fb[] = {0xb0};
	batch_begin(s, 400, 0);
	rec_hello(s, 0, 1, HEAP_PROCESS_FLAG_SITES_ALL, 0, t0);
	rec_stack(s, 1, 1, fa);
	rec_stack(s, 2, 1, fb);
	rec_alloc(s, 0, 0x1000, 100, 1, t0 + 10 * ms); /* live 100 */
	rec_alloc(s, 0, 0x2000, 200, 2, t0 + 20 * ms); /* live 300: the peak */
	batch_end(s);
	batch_begin(s, 400, 1);
	rec_free(s, 0, 0x1000);                       /* live 200 */
	rec_free(s, 0, 0x9999);                       /* unknown: ignored */
	rec_alloc(s, 0, 0x3000, 50, 1, t0 + 30 * ms); /* live 250 */
	rec_alloc(s, 0, 0x4000, 40, 1, t0 + 40 * ms); /* live 290 */
	rec_alloc(s, 0, 0x4000, 30, 1, t0 + 50 * ms); /* its FREE was lost: live 280 */
	rec_leak(s, false, 0x2000, 200);
	rec_leak(s, true, 0x3000, 50);
	rec_leak(s, true, 0x4000, 30);
	rec_exit(s, HEAP_EXIT_NORMAL, t0 + 60 * ms);
	batch_end(s);
}

static void test_all_mode(void)
{
	counters_reset(0);
	struct heap_process_slot *p = claim_process(
	    400, HEAP_PROCESS_EXITED, HEAP_PROCESS_FLAG_SITES_ALL | HEAP_PROCESS_FLAG_LEAK_SCAN);
	p->peak_live_bytes = 123456; /* the usable-basis peak, not used with an exact stream */
	claim_thread(0, 5, 1, 420);
	stream s = {0};
	build_all_mode(&s, 1);
	sc_heap_profile h;
	CHECK_INT(decode(&s, 0, 400, &h), 0);
	CHECK(h.complete);
	CHECK_STR(h.live_basis, "requested");
	CHECK_INT(h.peak_live_bytes, 300);
	CHECK_NEAR(h.peak_live_s, 0.02, 1e-12);
	CHECK_INT(h.peak_live_error_bytes, 0);
	CHECK_INT(h.leaked_blocks, 3);
	CHECK_INT(h.leaked_bytes, 280);
	CHECK_INT(h.lost_blocks, 1);
	CHECK_INT(h.lost_bytes, 200);
	CHECK_INT(h.reachable_blocks, 2);
	CHECK_INT(h.reachable_bytes, 80);
	CHECK_INT(h.n_sites, 2);
	if (h.n_sites == 2) {
		/* Site 2: 200 bytes; site 1: 100 + 50 + 40 + 30 = 220 bytes, first. */
		CHECK_NEAR(h.sites[0].bytes, 220, 0);
		CHECK_NEAR(h.sites[0].allocations, 4, 0);
		CHECK_NEAR(h.sites[0].leaked_blocks, 2, 0);
		CHECK_NEAR(h.sites[0].leaked_bytes, 80, 0);
		CHECK_NEAR(h.sites[0].lost_bytes, 0, 0);
		CHECK_NEAR(h.sites[1].bytes, 200, 0);
		CHECK_NEAR(h.sites[1].leaked_bytes, 200, 0);
		CHECK_NEAR(h.sites[1].lost_bytes, 200, 0);
	}
	sc__heap_profile_release(&h);

	/* With several threads the stream's order is not time order: no bound is claimed. */
	p->threads = 3;
	CHECK_INT(decode(&s, 0, 400, &h), 0);
	CHECK_INT(h.peak_live_bytes, 300);
	CHECK_INT(h.peak_live_error_bytes, -1);
	sc__heap_profile_release(&h);
}

/* ---- several threads: batches out of time order ---------------------------------------------- */

static void test_thread_order(void)
{
	/* What happened: A allocates 0x300 (t 5), 0x100 (t 10) and 0x200 (t 11); B frees 0x100 and
	 * gets the address again (t 30), then frees 0x300; C allocates 0x300 (t 40). What arrives:
	 * C's batch, then B's, then A's. */
	counters_reset(0);
	struct heap_process_slot *p =
	    claim_process(800, HEAP_PROCESS_EXITED, HEAP_PROCESS_FLAG_SITES_ALL);
	claim_thread(0, 3, 0, 148);
	claim_thread(0, 1, 2, 64);
	claim_thread(0, 1, 0, 8);
	uint64_t f1[] = {0x10}, f2[] = {0x20}, f3[] = {0x30};
	stream s = {0};
	batch_begin(&s, 800, 0);
	rec_hello(&s, 0, 1, HEAP_PROCESS_FLAG_SITES_ALL, 0, 1);
	rec_stack(&s, 1, 1, f1);
	rec_stack(&s, 2, 1, f2);
	rec_stack(&s, 3, 1, f3);
	batch_end(&s);
	batch_begin(&s, 800, 3); /* C */
	rec_alloc(&s, 2, 0x300, 8, 3, 40);
	batch_end(&s);
	batch_begin(&s, 800, 2); /* B */
	rec_free(&s, 1, 0x100);
	rec_alloc(&s, 1, 0x100, 64, 2, 30);
	rec_free(&s, 1, 0x300);
	batch_end(&s);
	batch_begin(&s, 800, 1); /* A */
	rec_alloc(&s, 0, 0x300, 100, 1, 5);
	rec_alloc(&s, 0, 0x100, 32, 1, 10);
	rec_alloc(&s, 0, 0x200, 16, 1, 11);
	batch_end(&s);
	batch_begin(&s, 800, 4);
	rec_exit(&s, HEAP_EXIT_NORMAL, 50);
	batch_end(&s);
	sc_heap_profile h;
	CHECK_INT(decode(&s, 0, 800, &h), 0);
	CHECK(h.complete);
	CHECK_STR(h.live_basis, "requested");
	/* Live at exit: 0x100 as B got it, 0x200, and 0x300 as C got it; the same count as the
	 * counters give (5 allocations, 2 frees). */
	CHECK_INT(h.leaked_blocks, 3);
	CHECK_INT(h.leaked_blocks, h.allocations - h.frees);
	CHECK_INT(h.leaked_bytes, 64 + 16 + 8);
	CHECK_INT(h.peak_live_error_bytes, -1);
	CHECK_INT(h.n_sites, 3);
	if (h.n_sites == 3) {
		CHECK_INT(h.sites[0].frames[0].address, 0x10);
		CHECK_NEAR(h.sites[0].allocations, 3, 0);
		CHECK_NEAR(h.sites[0].bytes, 148, 0);
		CHECK_NEAR(h.sites[0].leaked_blocks, 1, 0);
		CHECK_NEAR(h.sites[0].leaked_bytes, 16, 0);
		CHECK_INT(h.sites[1].frames[0].address, 0x20);
		CHECK_NEAR(h.sites[1].leaked_bytes, 64, 0);
		CHECK_INT(h.sites[2].frames[0].address, 0x30);
		CHECK_NEAR(h.sites[2].leaked_bytes, 8, 0);
	}
	sc__heap_profile_release(&h);
	(void)p;
}

/* ---- lost batches ---------------------------------------------------------------------------- */

static void gap_stream(stream *s, const uint32_t *seqs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		batch_begin(s, 500, seqs[i]);
		if (seqs[i] == 0)
			rec_hello(s, 0, 1, HEAP_PROCESS_FLAG_SITES_ALL, 0, 1);
		if (i == n - 1)
			rec_exit(s, HEAP_EXIT_NORMAL, 2);
		batch_end(s);
	}
}

static void test_gaps(void)
{
	counters_reset(0);
	struct heap_process_slot *p =
	    claim_process(500, HEAP_PROCESS_EXITED, HEAP_PROCESS_FLAG_SITES_ALL);
	p->peak_live_bytes = 4096;
	claim_thread(0, 1, 0, 8);
	sc_heap_profile h;

	stream s = {0};
	gap_stream(&s, (const uint32_t[]){0, 1, 3}, 3);
	CHECK_INT(decode(&s, 0, 500, &h), 0);
	CHECK(!h.complete);
	CHECK_STR(h.incomplete_reason, "1 batch of records was lost");
	/* The stream no longer gives exact live bytes: the counters' usable bytes stand in. */
	CHECK_STR(h.live_basis, "usable");
	CHECK_INT(h.peak_live_bytes, 4096);
	sc__heap_profile_release(&h);

	s = (stream){0};
	gap_stream(&s, (const uint32_t[]){0, 5}, 2);
	CHECK_INT(decode(&s, 0, 500, &h), 0);
	CHECK_STR(h.incomplete_reason, "4 batches of records were lost");
	sc__heap_profile_release(&h);

	/* Threads race to write: out of order is not lost. */
	s = (stream){0};
	gap_stream(&s, (const uint32_t[]){0, 2, 1, 3}, 4);
	CHECK_INT(decode(&s, 0, 500, &h), 0);
	CHECK(h.complete);
	CHECK_STR(h.live_basis, "requested");
	sc__heap_profile_release(&h);

	/* The first batch lost: the rest cannot be weighed, and is not. */
	s = (stream){0};
	batch_begin(&s, 500, 1);
	rec_alloc(&s, 0, 0x10, 8, 1, 5);
	rec_exit(&s, HEAP_EXIT_NORMAL, 6);
	batch_end(&s);
	CHECK_INT(decode(&s, 0, 500, &h), 0);
	CHECK(!h.complete);
	CHECK_STR(h.incomplete_reason, "none of the process's records arrived");
	CHECK_INT(h.n_sites, 0);
	sc__heap_profile_release(&h);

	/* A process killed: no EXIT record, state still RUNNING. */
	p->state = HEAP_PROCESS_RUNNING;
	s = (stream){0};
	gap_stream(&s, (const uint32_t[]){0}, 1);
	CHECK_INT(decode(&s, 0, 500, &h), 0);
	CHECK(!h.complete);
	CHECK_STR(h.incomplete_reason, "the process did not exit normally");
	CHECK_INT(h.arena_bytes, -1);
	/* Its unwritten batches died with it, unseen: the counters' figures stand in. */
	CHECK_STR(h.live_basis, "usable");
	CHECK_INT(h.leaked_blocks, 1);
	sc__heap_profile_release(&h);
	p->state = HEAP_PROCESS_EXITED;
	s = (stream){0};
	batch_begin(&s, 500, 0);
	rec_hello(&s, 0, 1, HEAP_PROCESS_FLAG_SITES_ALL, 0, 1);
	batch_end(&s);
	CHECK_INT(decode(&s, 0, 500, &h), 0);
	CHECK_STR(h.incomplete_reason, "the process's EXIT record is missing");
	CHECK_STR(h.live_basis, "usable");
	sc__heap_profile_release(&h);

	/* The stream stopped inside a batch. */
	s = (stream){0};
	gap_stream(&s, (const uint32_t[]){0, 1}, 2);
	s.len -= 3;
	CHECK_INT(decode(&s, 0, 500, &h), 0);
	CHECK_STR(h.incomplete_reason, "the record stream ended inside a batch");
	sc__heap_profile_release(&h);
}

/* ---- exec: one pid, two images --------------------------------------------------------------- */

static void test_exec(void)
{
	counters_reset(0);
	claim_process(600, HEAP_PROCESS_EXITED, HEAP_PROCESS_FLAG_SITES_ALL); /* /bin/sh */
	claim_process(600, HEAP_PROCESS_EXITED, HEAP_PROCESS_FLAG_SITES_ALL); /* what it exec'd */
	claim_thread(0, 10, 10, 100);
	claim_thread(1, 3, 1, 48);
	uint64_t f[] = {0x77};
	stream s = {0};
	batch_begin(&s, 600, 0);
	rec_hello(&s, 0, 1, HEAP_PROCESS_FLAG_SITES_ALL, 0, 1);
	rec_stack(&s, 1, 1, f);
	rec_alloc(&s, 0, 0x10, 10, 1, 2);
	rec_exit(&s, HEAP_EXIT_EXEC, 3);
	batch_end(&s);
	batch_begin(&s, 600, 0);
	rec_hello(&s, 1, 1, HEAP_PROCESS_FLAG_SITES_ALL, 0, 4);
	rec_stack(&s, 2, 1, f);
	rec_alloc(&s, 0, 0x10, 16, 2, 5);
	rec_alloc(&s, 0, 0x20, 16, 2, 6);
	rec_alloc(&s, 0, 0x30, 16, 2, 7);
	rec_free(&s, 0, 0x20);
	rec_exit(&s, HEAP_EXIT_NORMAL, 8);
	batch_end(&s);
	sc_heap_profile h;
	CHECK_INT(decode(&s, 0, 600, &h), 0);
	CHECK(h.complete);
	/* Two images of one process. */
	CHECK_INT(h.processes, 1);
	CHECK_INT(h.allocations, 3);
	CHECK_INT(h.frees, 1);
	CHECK_INT(h.leaked_blocks, 2);
	CHECK_INT(h.leaked_bytes, 32);
	CHECK_INT(h.n_sites, 1);
	if (h.n_sites == 1)
		CHECK_NEAR(h.sites[0].allocations, 3, 0);
	sc__heap_profile_release(&h);
}

/* ---- split feeding --------------------------------------------------------------------------- */

static void check_same(const sc_heap_profile *a, const sc_heap_profile *b)
{
	CHECK(a->available == b->available && a->complete == b->complete);
	CHECK_STR(a->incomplete_reason, b->incomplete_reason);
	CHECK_INT(a->allocations, b->allocations);
	CHECK_INT(a->peak_live_bytes, b->peak_live_bytes);
	CHECK_INT(a->leaked_blocks, b->leaked_blocks);
	CHECK_INT(a->leaked_bytes, b->leaked_bytes);
	CHECK_INT(a->lost_bytes, b->lost_bytes);
	CHECK_INT(a->reachable_bytes, b->reachable_bytes);
	CHECK_INT(a->n_sites, b->n_sites);
	for (size_t i = 0; i < a->n_sites && i < b->n_sites; i++) {
		CHECK_NEAR(a->sites[i].bytes, b->sites[i].bytes, 0);
		CHECK_NEAR(a->sites[i].leaked_bytes, b->sites[i].leaked_bytes, 0);
		CHECK_INT(a->sites[i].n_frames, b->sites[i].n_frames);
	}
}

static void test_split(void)
{
	counters_reset(0);
	claim_process(400, HEAP_PROCESS_EXITED,
	              HEAP_PROCESS_FLAG_SITES_ALL | HEAP_PROCESS_FLAG_LEAK_SCAN);
	claim_thread(0, 5, 1, 420);
	stream s = {0};
	build_all_mode(&s, 1);
	sc_heap_profile whole, piece;
	CHECK_INT(decode(&s, 0, 400, &whole), 0);
	const size_t chunks[] = {1, 2, 3, 7, 15, 16, 17, 100};
	for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
		CHECK_INT(decode(&s, chunks[i], 400, &piece), 0);
		check_same(&whole, &piece);
		sc__heap_profile_release(&piece);
	}
	sc__heap_profile_release(&whole);
}

/* ---- malformed input ------------------------------------------------------------------------- */

/* Feeds s after one valid batch (so offsets are past it), expects SC_EPARSE and message, and
 * checks that the valid batch's records were kept. */
static void expect_error(const stream *bad, const char *message, int line)
{
	counters_reset(0);
	claim_process(700, HEAP_PROCESS_EXITED, HEAP_PROCESS_FLAG_SITES_ALL);
	claim_thread(0, 1, 0, 8);
	uint64_t f[] = {1};
	stream s = {0};
	batch_begin(&s, 700, 0);
	rec_hello(&s, 0, 1, HEAP_PROCESS_FLAG_SITES_ALL, 0, 1);
	rec_stack(&s, 5, 1, f);
	rec_alloc(&s, 0, 0x10, 8, 5, 2);
	batch_end(&s);
	size_t good = s.len; /* 16 + 32 + 24 + 40 = 112 */
	memcpy(s.buf + s.len, bad->buf, bad->len);
	s.len += bad->len;

	/* Whole and byte by byte: the same error. */
	const size_t chunks[] = {0, 1};
	for (size_t i = 0; i < 2; i++) {
		sc__heap_agg *a = NULL;
		CHECK_INT(sc__heap_agg_new(&a), 0);
		int rc = feed(a, &s, chunks[i]);
		if (rc != SC_EPARSE || strcmp(err, message) != 0)
			fprintf(stderr, "line %d: got %d \"%s\"\n", line, rc, err);
		CHECK_INT(rc, SC_EPARSE);
		CHECK_STR(err, message);
		/* Sticky: later bytes change nothing and get the same answer. */
		char again[256] = "";
		CHECK_INT(sc__heap_agg_feed(a, s.buf, good, again, sizeof again), SC_EPARSE);
		CHECK_STR(again, message);
		CHECK_INT(sc__heap_agg_counters(a, &counters, sizeof counters, NULL, 0), 0);
		sc_heap_profile h;
		CHECK_INT(sc__heap_agg_result(a, 700, &h), 0);
		CHECK(h.available && !h.complete);
		CHECK(strncmp(h.incomplete_reason, "record stream damaged: heap records, byte ",
		              42) == 0);
		CHECK_INT(h.n_sites, 1);
		CHECK_STR(h.live_basis, "usable");
		sc__heap_profile_release(&h);
		sc__heap_agg_free(a);
	}
}

#define EXPECT_ERROR(s, message) expect_error(s, message, __LINE__)

static void test_malformed(void)
{
	stream s = {0};
	const uint64_t frames[2] = {0x1000, 0x2000};
	batch_begin(&s, 700, 1);
	rec_cpu(&s, 700, 1, 5, 0, frames);
	batch_end(&s);
	EXPECT_ERROR(&s, "heap records, byte 128: CPU record with 0 frames (1 to 127 allowed)");

	s = (stream){0};
	batch_begin(&s, 700, 1);
	rec(&s, HEAP_REC_CPU, 32, 128);
	put32(&s, 700);
	put32(&s, 1);
	put64(&s, 5);
	put64(&s, 0x1000);
	batch_end(&s);
	EXPECT_ERROR(&s, "heap records, byte 128: CPU record with 128 frames (1 to 127 allowed)");

	s = (stream){0};
	batch_begin(&s, 700, 1);
	rec(&s, HEAP_REC_CPU, 32, 2); /* room for one frame only */
	put32(&s, 700);
	put32(&s, 1);
	put64(&s, 5);
	put64(&s, 0x1000);
	batch_end(&s);
	EXPECT_ERROR(&s, "heap records, byte 128: CPU record of 32 bytes cannot hold 2 frames");

	s = (stream){0};
	batch_begin(&s, 700, 1);
	rec(&s, HEAP_REC_CPU, 16, 1);
	put32(&s, 700);
	put32(&s, 1);
	batch_end(&s);
	EXPECT_ERROR(&s, "heap records, byte 128: CPU record of 16 bytes, shorter than its 24-byte "
	                 "minimum");

	s = (stream){0};
	batch_begin(&s, 700, 1);
	rec(&s, HEAP_REC_CPU_STATE, 24, HEAP_CPU_ON);
	put64(&s, 0);
	put64(&s, 1000000);
	batch_end(&s);
	EXPECT_ERROR(&s, "heap records, byte 128: CPU_STATE record of 24 bytes, shorter than its "
	                 "32-byte minimum");

	/* The registers and stack copy after the frames: cut short, too long, beyond the record. */
	s = (stream){0};
	batch_begin(&s, 700, 1);
	rec(&s, HEAP_REC_CPU, 40, 1);
	put32(&s, 700);
	put32(&s, 1);
	put64(&s, 5);
	put64(&s, 0x1000);
	put64(&s, 0x7ffc0000); /* rsp, and nothing more */
	batch_end(&s);
	EXPECT_ERROR(&s,
	             "heap records, byte 128: CPU record has 8 bytes after its 1 frames, too few "
	             "for the 32 of its registers");

	s = (stream){0};
	batch_begin(&s, 700, 1);
	rec_cpu_stack(&s, 700, 1, 5, 1, frames, 0x7ffc0000, 0x7ffc0100, 0x1000, 136, 0);
	batch_end(&s);
	EXPECT_ERROR(&s,
	             "heap records, byte 128: CPU record with a stack copy of 136 bytes (at most "
	             "128)");

	s = (stream){0};
	batch_begin(&s, 700, 1);
	rec_cpu_stack(&s, 700, 1, 5, 2, frames, 0x7ffc0000, 0x7ffc0100, 0x1000, 64, 0);
	batch_end(&s);
	/* The record (136 bytes) says 64 stack bytes but holds 56: its size and its batch's
	 * length shrunk by 8. */
	s.buf[s.batch_at + 16 + 2] = (uint8_t)(s.buf[s.batch_at + 16 + 2] - 8);
	s.buf[s.batch_at + 8] = (uint8_t)(s.buf[s.batch_at + 8] - 8);
	s.len -= 8;
	EXPECT_ERROR(&s,
	             "heap records, byte 128: CPU record of 128 bytes cannot hold 2 frames and 64 "
	             "stack bytes");

	/* A sample cut short by the end of the stream: the batch is never decoded. */
	s = (stream){0};
	batch_begin(&s, 700, 0);
	rec_hello(&s, 0, 1, 0, 4096, 1);
	rec_cpu(&s, 700, 1, 5, 2, frames);
	batch_end(&s);
	s.len -= 8;
	{
		sc__heap_agg *a = NULL;
		CHECK_INT(sc__heap_agg_new(&a), 0);
		CHECK_INT(feed(a, &s, 0), 0);
		sc__cpu_raw raw;
		sc__cpu_raw_init(&raw);
		CHECK_INT(sc__heap_agg_take_cpu(a, &raw), 0);
		CHECK_INT(raw.n_samples, 0);
		sc__cpu_raw_release(&raw);
		sc__heap_agg_free(a);
	}

	s = (stream){0};
	batch_begin_magic(&s, 0x12345678, 700, 1);
	batch_end(&s);
	EXPECT_ERROR(&s, "heap records, byte 112: batch magic 0x12345678 is not 0x42484353");

	s = (stream){0};
	batch_begin(&s, 700, 1);
	s.buf[8] = 0xf1; /* length 4081 */
	s.buf[9] = 0x0f;
	EXPECT_ERROR(&s, "heap records, byte 112: batch of 4081 bytes of records, more than the "
	                 "4080 allowed");

	s = (stream){0};
	batch_begin(&s, 700, 1);
	put32(&s, 0);
	batch_end(&s);
	EXPECT_ERROR(&s, "heap records, byte 128: 4 bytes left in the batch, too few for a record");

	s = (stream){0};
	batch_begin(&s, 700, 1);
	rec(&s, HEAP_REC_FREE, 12, 0);
	put64(&s, 0);
	batch_end(&s);
	EXPECT_ERROR(&s, "heap records, byte 128: record size 12 is not a multiple of 8");

	s = (stream){0};
	batch_begin(&s, 700, 1);
	rec(&s, 42, 0, 0);
	batch_end(&s);
	EXPECT_ERROR(&s, "heap records, byte 128: record size 0 is smaller than its 8-byte header");

	s = (stream){0};
	batch_begin(&s, 700, 1);
	rec_exit(&s, 1, 5);
	rec(&s, HEAP_REC_ALLOC, 40, 0);
	put64(&s, 0);
	batch_end(&s);
	EXPECT_ERROR(&s, "heap records, byte 144: record of 40 bytes overruns its batch (16 bytes "
	                 "left)");

	s = (stream){0};
	batch_begin(&s, 700, 1);
	rec(&s, HEAP_REC_ALLOC, 32, 0);
	put64(&s, 0x10);
	put64(&s, 8);
	put64(&s, 5);
	batch_end(&s);
	EXPECT_ERROR(&s, "heap records, byte 128: ALLOC record of 32 bytes, shorter than its "
	                 "40-byte minimum");

	s = (stream){0};
	batch_begin(&s, 700, 1);
	rec(&s, HEAP_REC_HELLO, 8, 0);
	batch_end(&s);
	EXPECT_ERROR(&s,
	             "heap records, byte 128: HELLO record of 8 bytes, shorter than its 32-byte "
	             "minimum");

	s = (stream){0};
	batch_begin(&s, 700, 1);
	rec(&s, HEAP_REC_STACK, 16, 0);
	put64(&s, 9);
	batch_end(&s);
	EXPECT_ERROR(&s, "heap records, byte 128: STACK record with 0 frames (1 to 64 allowed)");

	uint64_t many[65] = {0};
	s = (stream){0};
	batch_begin(&s, 700, 1);
	rec_stack(&s, 9, 65, many);
	batch_end(&s);
	EXPECT_ERROR(&s, "heap records, byte 128: STACK record with 65 frames (1 to 64 allowed)");

	s = (stream){0};
	batch_begin(&s, 700, 1);
	rec(&s, HEAP_REC_STACK, 32, 3);
	put64(&s, 9);
	put64(&s, 1);
	put64(&s, 2);
	batch_end(&s);
	EXPECT_ERROR(&s, "heap records, byte 128: STACK record of 32 bytes cannot hold 3 frames");

	s = (stream){0};
	batch_begin(&s, 700, 1);
	rec_module(&s, 0, 0, 0x1000, "/lib/x.so");
	/* The path takes the last 16 bytes: 9 characters, its NUL (aux = 10), 6 of padding. */
	s.buf[s.len - 7] = 'X';
	batch_end(&s);
	EXPECT_ERROR(&s, "heap records, byte 128: MODULE path is not NUL-terminated");

	s = (stream){0};
	batch_begin(&s, 700, 1);
	rec(&s, HEAP_REC_MODULE, 40, 9);
	put64(&s, 0);
	put64(&s, 0);
	put64(&s, 0);
	put64(&s, 0x6f732e782f62696c); /* "lib/x.so": 8 bytes, no NUL */
	batch_end(&s);
	EXPECT_ERROR(&s,
	             "heap records, byte 128: MODULE record of 40 bytes cannot hold a path of 9 "
	             "bytes");

	s = (stream){0};
	batch_begin(&s, 700, 1);
	rec(&s, HEAP_REC_MODULE, 40, 0);
	put64(&s, 0);
	put64(&s, 0);
	put64(&s, 0);
	put64(&s, 0);
	batch_end(&s);
	EXPECT_ERROR(&s,
	             "heap records, byte 128: MODULE record of 40 bytes cannot hold a path of 0 "
	             "bytes");

	/* A record type from a later version is skipped; what follows is applied. */
	counters_reset(0);
	claim_process(700, HEAP_PROCESS_EXITED, HEAP_PROCESS_FLAG_SITES_ALL);
	s = (stream){0};
	batch_begin(&s, 700, 0);
	rec_hello(&s, 0, 1, HEAP_PROCESS_FLAG_SITES_ALL, 0, 1);
	rec(&s, 99, 24, 7);
	put64(&s, 1);
	put64(&s, 2);
	rec_alloc(&s, 0, 0x10, 8, 5, 2);
	rec_exit(&s, HEAP_EXIT_NORMAL, 3);
	batch_end(&s);
	sc_heap_profile h;
	CHECK_INT(decode(&s, 0, 700, &h), 0);
	CHECK(h.complete);
	CHECK_INT(h.n_sites, 1);
	sc__heap_profile_release(&h);
}

static void test_bad_counters(void)
{
	sc__heap_agg *a = NULL;
	CHECK_INT(sc__heap_agg_new(&a), 0);
	char msg[128];
	counters_reset(0);
	CHECK_INT(sc__heap_agg_counters(a, &counters, 4096, msg, sizeof msg), SC_EPARSE);
	CHECK_STR(msg, "the heap counters file is 4096 bytes, not 4215808");
	CHECK_INT(sc__heap_agg_counters(a, &counters, 0, msg, sizeof msg), SC_EPARSE);
	counters.magic = 0xdeadbeef;
	CHECK_INT(sc__heap_agg_counters(a, &counters, sizeof counters, msg, sizeof msg), SC_EPARSE);
	CHECK_STR(msg, "the heap counters file has magic 0xdeadbeef, not 0x43484353");
	counters_reset(0);
	counters.version = 2;
	CHECK_INT(sc__heap_agg_counters(a, &counters, sizeof counters, msg, sizeof msg), SC_EPARSE);
	CHECK_STR(msg, "the heap counters file has version 2, not 1");
	CHECK_INT(sc__heap_agg_counters(a, (const char *)&counters + 1, sizeof counters - 8, msg,
	                                sizeof msg),
	          SC_EINVAL);
	/* Garbage in the slots: indexes out of range are ignored, not followed. */
	counters_reset(0);
	counters.next_process = 1000;
	counters.next_thread = 2;
	counters.threads[0].process = 9999;
	counters.threads[1].process = 1;
	counters.threads[1].allocations = 5;
	/* Beyond next_thread no slot was claimed: whatever is there is not counted. */
	counters.threads[2].process = 1;
	counters.threads[2].allocations = 1000;
	counters.processes[0] = (struct heap_process_slot){
	    .pid = 42, .state = HEAP_PROCESS_EXITED, .threads = UINT32_MAX};
	CHECK_INT(sc__heap_agg_counters(a, &counters, sizeof counters, NULL, 0), 0);
	sc_heap_profile h;
	CHECK_INT(sc__heap_agg_result(a, 42, &h), 0);
	CHECK_INT(h.allocations, 5);
	CHECK_INT(h.peak_live_error_bytes, ((int64_t)UINT32_MAX - 1) * (256 << 10));
	sc__heap_profile_release(&h);
	sc__heap_agg_free(a);
}

/* ---- CPU samples (the timer sampler) ----------------------------------------------------------
 */

/* pid 600 with two threads sampled, a forked child 601 with one sample, then 600 execs (a new
 * image, seq 0 again) and stands down when its program sets SIGPROF. */
static void build_cpu(stream *s)
{
	const uint64_t main_frames[] = {0x555555555189, 0x5555555551f0, 0x7ffff7dd0d90};
	const uint64_t worker_frames[] = {0x5555555551c4};
	const uint64_t child_frames[] = {0x555555555300, 0x5555555551f0};
	const uint64_t exec_frames[] = {0x400100, 0x400200};
	batch_begin(s, 600, 0);
	rec_hello(s, 0, 1, 0, 4096, 100);
	rec_module(s, 0x555555554000, 0x555555555000, 0x555555556000, "/bin/app");
	rec_module(s, 0x7ffff7da8000, 0x7ffff7dd0000, 0x7ffff7f45000, "/lib/libc.so.6");
	batch_end(s);
	batch_begin(s, 600, 1);
	rec_cpu_state(s, HEAP_CPU_ON, 0, 1003009, 150);
	batch_end(s);
	batch_begin(s, 600, 2);
	rec_cpu(s, 600, 1, 200, 3, main_frames);
	batch_end(s);
	batch_begin(s, 600, 3);
	rec_cpu(s, 602, 3, 300, 1, worker_frames);
	batch_end(s);
	batch_begin(s, 601, 0);
	rec_hello(s, 1, 600, HEAP_PROCESS_FLAG_FORKED, 4096, 350);
	rec_module(s, 0x555555554000, 0x555555555000, 0x555555556000, "/bin/app");
	rec_cpu_state(s, HEAP_CPU_ON, 0, 1003009, 360);
	rec_cpu(s, 601, 0, 400, 2, child_frames); /* periods 0 counts as 1 */
	rec_exit(s, HEAP_EXIT_NORMAL, 450);
	batch_end(s);
	batch_begin(s, 600, 4);
	rec_exit(s, HEAP_EXIT_EXEC, 500);
	batch_end(s);
	batch_begin(s, 600, 0);
	rec_hello(s, 2, 1, 0, 4096, 600);
	rec_module(s, 0, 0x400000, 0x401000, "/bin/other");
	rec_cpu_state(s, HEAP_CPU_ON, 0, 1003009, 610);
	rec_cpu(s, 600, 1, 700, 2, exec_frames);
	rec_cpu_state(s, HEAP_CPU_OFF_INSTALL, 0, 1003009, 800);
	rec_exit(s, HEAP_EXIT_NORMAL, 900);
	batch_end(s);
}

static void check_sample(const sc__cpu_raw *raw, size_t i, uint32_t pid, uint32_t tid,
                         uint64_t t_ns, const uint64_t *frames, uint32_t n, uint32_t weight)
{
	CHECK(i < raw->n_samples);
	if (i >= raw->n_samples)
		return;
	const sc__cpu_sample *c = &raw->samples[i];
	CHECK_INT(c->pid, pid);
	CHECK_INT(c->tid, tid);
	CHECK_INT(c->time_ns, t_ns);
	CHECK_INT(c->region, -1);
	CHECK_INT(c->n_frames, n);
	CHECK_INT(c->weight, weight);
	CHECK(c->user_index == SIZE_MAX);
	for (uint32_t j = 0; j < n && j < c->n_frames; j++)
		CHECK_INT(raw->frames[c->first_frame + j], frames[j]);
}

static void check_mapping(const sc__cpu_raw *raw, size_t i, uint32_t pid, uint64_t time_ns,
                          uint64_t base, uint64_t start, uint64_t end, const char *path)
{
	CHECK(i < raw->n_maps);
	if (i >= raw->n_maps)
		return;
	const sc__cpu_mapping *m = &raw->maps[i];
	CHECK_INT(m->pid, pid);
	CHECK_INT(m->time_ns, time_ns);
	CHECK_INT(m->start, start);
	CHECK_INT(m->end, end);
	CHECK_INT(m->pgoff, 0);
	CHECK(m->bias_known);
	CHECK_INT(m->bias, base);
	CHECK_STR(m->path, path);
}

static void test_cpu(void)
{
	static stream s;
	s = (stream){0};
	build_cpu(&s);
	const size_t chunks[] = {0, 7};
	for (size_t c = 0; c < 2; c++) {
		sc__heap_agg *a = NULL;
		CHECK_INT(sc__heap_agg_new(&a), 0);
		CHECK_INT(feed(a, &s, chunks[c]), 0);
		char why[200] = "";
		/* The last image of 600 stood down; the child sampled to its end. */
		CHECK_INT(sc__heap_agg_cpu_status(a, 600, why, sizeof why), SC_EUNAVAILABLE);
		CHECK_STR(why, "the program set its own SIGPROF action while running, so the timer "
		               "sampler stood down from then on");
		CHECK_INT(sc__heap_agg_cpu_status(a, 601, why, sizeof why), 0);
		CHECK_INT(sc__heap_agg_cpu_status(a, 999, why, sizeof why), SC_EUNAVAILABLE);
		CHECK_STR(why, "the heap shim did not start in the program, so the timer sampler "
		               "could not run");
		CHECK_INT(sc__heap_agg_cpu_status(NULL, 600, why, sizeof why), SC_EINVAL);

		sc__cpu_raw raw;
		sc__cpu_raw_init(&raw);
		CHECK_INT(sc__heap_agg_take_cpu(a, &raw), 0);
		/* A record of 3 periods is one sample weighing 3. */
		CHECK_INT(raw.n_samples, 4);
		CHECK_INT(sc__cpu_raw_weight(&raw), 6);
		const uint64_t main_frames[] = {0x555555555189, 0x5555555551f0, 0x7ffff7dd0d90};
		const uint64_t worker_frames[] = {0x5555555551c4};
		const uint64_t child_frames[] = {0x555555555300, 0x5555555551f0};
		const uint64_t exec_frames[] = {0x400100, 0x400200};
		check_sample(&raw, 0, 600, 600, 200, main_frames, 3, 1);
		check_sample(&raw, 1, 600, 602, 300, worker_frames, 1, 3);
		check_sample(&raw, 2, 601, 601, 400, child_frames, 2, 1);
		check_sample(&raw, 3, 600, 600, 700, exec_frames, 2, 1);
		/* Each image's objects from its start on, bias known. */
		CHECK_INT(raw.n_maps, 4);
		check_mapping(&raw, 0, 600, 100, 0x555555554000, 0x555555555000, 0x555555556000,
		              "/bin/app");
		check_mapping(&raw, 1, 600, 100, 0x7ffff7da8000, 0x7ffff7dd0000, 0x7ffff7f45000,
		              "/lib/libc.so.6");
		check_mapping(&raw, 2, 601, 350, 0x555555554000, 0x555555555000, 0x555555556000,
		              "/bin/app");
		check_mapping(&raw, 3, 600, 600, 0, 0x400000, 0x401000, "/bin/other");
		CHECK_INT(raw.n_processes, 3);
		if (raw.n_processes == 3) {
			CHECK_INT(raw.processes[0].pid, 600);
			CHECK_INT(raw.processes[0].ppid, 0);
			CHECK_INT(raw.processes[0].time_ns, 100);
			CHECK_INT(raw.processes[1].pid, 601);
			CHECK_INT(raw.processes[1].ppid, 600);
			CHECK_INT(raw.processes[1].time_ns, 350);
			CHECK_INT(raw.processes[2].pid, 600);
			CHECK_INT(raw.processes[2].ppid, 0);
			CHECK_INT(raw.processes[2].time_ns, 600);
		}
		sc__cpu_raw_release(&raw);
		/* The samples were moved: a second take adds none. */
		CHECK_INT(sc__heap_agg_take_cpu(a, &raw), 0);
		CHECK_INT(raw.n_samples, 0);
		sc__cpu_raw_release(&raw);
		CHECK_INT(sc__heap_agg_take_cpu(NULL, &raw), SC_EINVAL);
		sc__heap_agg_free(a);
	}

	/* The other states, and a process that never said. */
	const struct {
		uint32_t state;
		int32_t error;
		const char *why;
	} states[] = {
	    {HEAP_CPU_OFF_HANDLER, 0,
	     "the program has its own SIGPROF handler, so the timer sampler stood down"},
	    {HEAP_CPU_OFF_TIMER, EAGAIN,
	     "the timer sampler could not arm a CPU-time timer: Resource temporarily unavailable"},
	    {77, 0, "the timer sampler stopped (state 77)"},
	    {0, 0, "the heap shim did not start the timer sampler"},
	};
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
		s = (stream){0};
		batch_begin(&s, 700, 0);
		rec_hello(&s, 0, 1, 0, 4096, 1);
		if (states[i].state)
			rec_cpu_state(&s, states[i].state, states[i].error, 1000000, 2);
		batch_end(&s);
		sc__heap_agg *a = NULL;
		CHECK_INT(sc__heap_agg_new(&a), 0);
		CHECK_INT(feed(a, &s, 0), 0);
		char why[200] = "";
		CHECK_INT(sc__heap_agg_cpu_status(a, 700, why, sizeof why), SC_EUNAVAILABLE);
		CHECK_STR(why, states[i].why);
		sc__heap_agg_free(a);
	}
}

/* ---- a stream replayed from a file ----------------------------------------------------------- */

/*
 * tests/fixtures/heap/sampled_run.stream: a sampled run of one process (pid 4242, T = 4096) with
 * two threads, a forked child (pid 4243) and a module map, written by build_fixture below (run
 * this test with --write-fixtures to write it again). The file is the format's record: the test
 * checks that the generator still writes it byte for byte and that replaying it gives the
 * figures below.
 */
static void build_fixture(stream *s)
{
	const uint64_t t0 = 5000000000;
	uint64_t main_stack[] = {0x555555555189, 0x7ffff7dd0d90, 0x55555555509e};
	uint64_t worker_stack[] = {0x5555555551c4, 0x7ffff7e1cac3};
	batch_begin(s, 4242, 0);
	rec_hello(s, 0, 4200, 0, 4096, t0);
	rec_module(s, 0x555555554000, 0x555555555000, 0x555555556000, "/usr/local/bin/predict");
	rec_module(s, 0x7ffff7da8000, 0x7ffff7dd0000, 0x7ffff7f45000,
	           "/usr/lib/x86_64-linux-gnu/libc.so.6");
	rec_stack(s, 0x1111, 3, main_stack);
	rec_alloc(s, 0, 0x5555555592a0, 4096, 0x1111, t0 + 1000);
	rec_alloc(s, 0, 0x55555555a2b0, 100, 0x1111, t0 + 2000);
	batch_end(s);
	batch_begin(s, 4242, 1);
	rec_stack(s, 0x2222, 2, worker_stack);
	rec_alloc(s, 1, 0x7fffe8000b70, 65536, 0x2222, t0 + 3000);
	rec_free(s, 1, 0x7fffe8000b70);
	rec_alloc(s, 1, 0x7fffe8010b80, 8192, 0x2222, t0 + 4000);
	batch_end(s);
	/* The child, forked after the first batch: its own seq and slot. */
	batch_begin(s, 4243, 0);
	rec_hello(s, 1, 4242, HEAP_PROCESS_FLAG_FORKED, 4096, t0 + 5000);
	rec_exit(s, HEAP_EXIT_UNDERSCORE, t0 + 6000);
	batch_end(s);
	batch_begin(s, 4242, 2);
	rec_free(s, 0, 0x5555555592a0);
	rec_exit(s, HEAP_EXIT_NORMAL, t0 + 9000);
	batch_end(s);
}

static void fixture_counters(void)
{
	counters_reset(4096);
	struct heap_process_slot *p = claim_process(4242, HEAP_PROCESS_EXITED, 0);
	p->start_ns = 5000000000;
	p->peak_live_bytes = 81920;
	p->peak_ns = 5000003000;
	struct heap_thread_slot *t = claim_thread(0, 120, 100, 300000);
	t->usable_allocated = 310000;
	t->usable_freed = 250000;
	claim_thread(0, 30, 30, 90000);
	claim_process(4243, HEAP_PROCESS_EXITED, HEAP_PROCESS_FLAG_FORKED);
}

static const char *fixture_path(char *path, size_t cap)
{
	const char *dir = getenv("SC_FIXTURES");
	snprintf(path, cap, "%s/heap/sampled_run.stream", dir ? dir : "tests/fixtures");
	return path;
}

static void test_fixture(void)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	printf("skipped: the fixture is little-endian\n");
	return;
#endif
	static stream built, file;
	built = (stream){0};
	build_fixture(&built);
	char path[4096];
	FILE *fp = fopen(fixture_path(path, sizeof path), "rb");
	CHECK(fp != NULL);
	if (!fp)
		return;
	file.len = fread(file.buf, 1, sizeof file.buf, fp);
	fclose(fp);
	CHECK_INT(file.len, built.len);
	CHECK(file.len == built.len && memcmp(file.buf, built.buf, file.len) == 0);

	fixture_counters();
	sc_heap_profile h;
	CHECK_INT(decode(&file, 7, 4242, &h), 0);
	CHECK(h.available && h.complete);
	CHECK_INT(h.processes, 2);
	CHECK_INT(h.allocations, 150);
	CHECK_INT(h.leaked_blocks, 20);
	CHECK_INT(h.leaked_bytes, 60000);
	CHECK_INT(h.peak_live_bytes, 81920);
	CHECK_NEAR(h.peak_live_s, 3e-6, 1e-18);
	CHECK_INT(h.peak_live_error_bytes, 256 << 10);
	CHECK_INT(h.n_sites, 2);
	if (h.n_sites == 2) {
		/* Worker: 65536 and 8192 bytes, each weighing 1/(1 - exp(-size/4096)). */
		CHECK_REL(h.sites[0].bytes, 65536 / -expm1(-16.0) + 8192 / -expm1(-2.0));
		CHECK_REL(h.sites[0].leaked_bytes, 8192 / -expm1(-2.0));
		CHECK_INT(h.sites[0].n_frames, 2);
		CHECK_STR(h.sites[0].frames[1].module, "/usr/lib/x86_64-linux-gnu/libc.so.6");
		CHECK_INT(h.sites[0].frames[1].offset, 0x74ac3);
		/* Main: 4096 (freed) and 100 bytes (live at exit). */
		CHECK_REL(h.sites[1].allocations, 1 / -expm1(-1.0) + 1 / -expm1(-100 / 4096.0));
		CHECK_REL(h.sites[1].leaked_blocks, 1 / -expm1(-100 / 4096.0));
		CHECK_STR(h.sites[1].frames[0].module, "/usr/local/bin/predict");
		CHECK_INT(h.sites[1].frames[0].offset, 0x1189);
	}
	sc__heap_profile_release(&h);
	/* The child's own profile comes from the same stream. */
	CHECK_INT(decode(&file, 0, 4243, &h), 0);
	CHECK(h.available && h.complete);
	CHECK_INT(h.n_sites, 0);
	sc__heap_profile_release(&h);
}

/* ---- writing the fixture and the fuzzer's seeds ---------------------------------------------- */

static int write_file(const char *dir, const char *name, const stream *s)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *fp = fopen(path, "wb");
	if (!fp || fwrite(s->buf, 1, s->len, fp) != s->len || fclose(fp) != 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("wrote %s (%zu bytes)\n", path, s->len);
	return 0;
}

/* ---- CPU samples with their stack copy (the leaf fix-up) ------------------------------------ */

/* pid 610: a sample with the whole 128-byte copy, one whose copy the stack's end cut to 16 bytes,
 * one with registers but no bytes (rsp off the thread's stack), one from an older shim (frames
 * only) and one with 8 bytes a later version appended. */
static void build_cpu_stack(stream *s)
{
	const uint64_t leaf[] = {0x555555555189, 0x7ffff7dd0d90};
	batch_begin(s, 610, 0);
	rec_hello(s, 0, 1, 0, 4096, 100);
	rec_module(s, 0x555555554000, 0x555555555000, 0x555555556000, "/bin/app");
	rec_cpu_state(s, HEAP_CPU_ON, 0, 1003009, 150);
	batch_end(s);
	batch_begin(s, 610, 1);
	rec_cpu_stack(s, 610, 2, 200, 2, leaf, 0x7ffffffde0a8, 0x7ffffffde0d0, 0x555555555189, 128,
	              0);
	batch_end(s);
	batch_begin(s, 610, 2);
	rec_cpu_stack(s, 611, 1, 300, 1, leaf, 0x7ffff75feff0, 0, 0x555555555189, 16, 0);
	rec_cpu_stack(s, 611, 1, 400, 1, leaf, 0x7ffff0001000, 0x7ffff0001040, 0x555555555189, 0,
	              0);
	rec_cpu(s, 610, 1, 500, 2, leaf);
	rec_cpu_stack(s, 610, 1, 600, 2, leaf, 0x7ffffffde0a8, 0x7ffffffde0d0, 0x555555555189, 8,
	              8);
	batch_end(s);
}

/* Sample i carries a user stack with exactly these registers (DWARF numbering: rbp 6, rsp 7,
 * rip 16, every other one 0) and len bytes of the 0x40, 0x41, ... pattern. */
static void check_user_stack(const sc__cpu_raw *raw, size_t i, uint64_t rsp, uint64_t rbp,
                             uint64_t rip, uint32_t len)
{
	CHECK(i < raw->n_samples);
	if (i >= raw->n_samples)
		return;
	const sc__cpu_sample *c = &raw->samples[i];
	CHECK(c->user_index < raw->n_user);
	if (c->user_index >= raw->n_user)
		return;
	const sc__cpu_user_stack *u = &raw->user[c->user_index];
	for (size_t r = 0; r < SC__CPU_NREGS; r++) {
		uint64_t want = r == 6 ? rbp : r == 7 ? rsp : r == 16 ? rip : 0;
		if (u->regs[r] != want)
			fprintf(stderr, "sample %zu: regs[%zu] %#llx, expected %#llx\n", i, r,
			        (unsigned long long)u->regs[r], (unsigned long long)want);
		CHECK_INT(u->regs[r], want);
	}
	CHECK_INT(u->stack_len, len);
	bool bytes_ok = u->stack_off + u->stack_len <= raw->n_stack_bytes;
	for (uint32_t k = 0; bytes_ok && k < u->stack_len; k++)
		bytes_ok = raw->stack_bytes[u->stack_off + k] == (uint8_t)(0x40 + k);
	CHECK(bytes_ok);
}

static void test_cpu_stack(void)
{
	static stream s;
	s = (stream){0};
	build_cpu_stack(&s);
	/* The records' sizes: 24 + 16 (2 frames) + 32 + 128 = 200 with the whole copy; then 80
	 * (16 bytes), 64 (none), 40 (an older shim's) and 88 (8 bytes and 8 appended). The batch
	 * of HELLO, MODULE and CPU_STATE takes 128. */
	CHECK_INT(s.len, 128 + (16 + 200) + (16 + 80 + 64 + 40 + 88));
	const uint64_t leaf[] = {0x555555555189, 0x7ffff7dd0d90};
	const size_t chunks[] = {0, 1, 13};
	for (size_t c = 0; c < 3; c++) {
		sc__heap_agg *a = NULL;
		CHECK_INT(sc__heap_agg_new(&a), 0);
		CHECK_INT(feed(a, &s, chunks[c]), 0);
		sc__cpu_raw raw;
		sc__cpu_raw_init(&raw);
		CHECK_INT(sc__heap_agg_take_cpu(a, &raw), 0);
		CHECK_INT(raw.n_samples, 5);
		CHECK_INT(raw.n_user, 3);
		CHECK_INT(raw.n_stack_bytes, 128 + 16 + 8);
		CHECK_INT(sc__cpu_raw_weight(&raw), 6);
		for (size_t i = 0; i < raw.n_samples && i < 5; i++) {
			const sc__cpu_sample *x = &raw.samples[i];
			CHECK_INT(x->pid, 610);
			CHECK_INT(x->tid, i == 1 || i == 2 ? 611 : 610);
			CHECK_INT(x->time_ns, 200 + 100 * i);
			CHECK_INT(x->n_frames, i == 1 || i == 2 ? 1 : 2);
			CHECK_INT(x->weight, i == 0 ? 2 : 1);
			CHECK_INT(raw.frames[x->first_frame], leaf[0]);
		}
		check_user_stack(&raw, 0, 0x7ffffffde0a8, 0x7ffffffde0d0, 0x555555555189, 128);
		check_user_stack(&raw, 1, 0x7ffff75feff0, 0, 0x555555555189, 16);
		/* No bytes, nothing to read a return address from: no user stack; an older
		 * shim's record has none either. */
		if (raw.n_samples == 5) {
			CHECK(raw.samples[2].user_index == SIZE_MAX);
			CHECK(raw.samples[3].user_index == SIZE_MAX);
		}
		check_user_stack(&raw, 4, 0x7ffffffde0a8, 0x7ffffffde0d0, 0x555555555189, 8);
		sc__cpu_raw_release(&raw);
		sc__heap_agg_free(a);
	}

	/* take_cpu honours the caller's store: into one that already holds a sample the samples
	 * are appended; into one with a small bound they are thinned, their weight kept. */
	sc__heap_agg *a = NULL;
	CHECK_INT(sc__heap_agg_new(&a), 0);
	CHECK_INT(feed(a, &s, 0), 0);
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	CHECK_INT(sc__cpu_raw_add_sample(&raw, 1, 1, 1, leaf, 1, -1, 1), 0);
	CHECK_INT(sc__heap_agg_take_cpu(a, &raw), 0);
	CHECK_INT(raw.n_samples, 6);
	CHECK_INT(raw.n_user, 3);
	CHECK_INT(sc__cpu_raw_weight(&raw), 7);
	check_user_stack(&raw, 1, 0x7ffffffde0a8, 0x7ffffffde0d0, 0x555555555189, 128);
	sc__cpu_raw_release(&raw);
	sc__heap_agg_free(a);

	static stream many;
	many = (stream){0};
	batch_begin(&many, 610, 0);
	rec_hello(&many, 0, 1, 0, 4096, 100);
	batch_end(&many);
	for (uint32_t i = 0; i < 200; i++) {
		batch_begin(&many, 610, i + 1);
		rec_cpu_stack(&many, 610, 1, 200 + i, 2, leaf, 0x7ffffffde0a8, 0x7ffffffde0d0,
		              0x555555555189, 128, 0);
		batch_end(&many);
	}
	CHECK_INT(sc__heap_agg_new(&a), 0);
	CHECK_INT(feed(a, &many, 0), 0);
	sc__cpu_raw_init(&raw);
	raw.max_bytes = 4096;
	CHECK_INT(sc__heap_agg_take_cpu(a, &raw), 0);
	printf("200 samples with stack copies into a 4 KiB store: %zu kept, %zu bytes, one in %u\n",
	       raw.n_samples, sc__cpu_raw_bytes(&raw), raw.stride);
	CHECK(sc__cpu_raw_bytes(&raw) <= 4096);
	CHECK(raw.n_samples > 0 && raw.n_samples < 200);
	CHECK_INT(sc__cpu_raw_weight(&raw), 200);
	sc__cpu_raw_release(&raw);
	sc__heap_agg_free(a);
}

/* --write-fixtures FIXTURE_DIR CORPUS_DIR: the fixture file and the fuzzer's seed corpus. */
static int write_fixtures(const char *fixture_dir, const char *corpus_dir)
{
	static stream s;
	int rc = 0;
	s = (stream){0};
	build_fixture(&s);
	rc |= write_file(fixture_dir, "sampled_run.stream", &s);
	rc |= write_file(corpus_dir, "sampled_run", &s);
	s = (stream){0};
	build_all_mode(&s, 1);
	rc |= write_file(corpus_dir, "all_mode_leaks", &s);
	s = (stream){0};
	gap_stream(&s, (const uint32_t[]){0, 2, 1, 5}, 4);
	rc |= write_file(corpus_dir, "gaps", &s);
	s = (stream){0};
	batch_begin(&s, 9, 0);
	rec_hello(&s, 0, 1, 0, 512 << 10, 1);
	rec(&s, 99, 16, 0);
	put64(&s, 0);
	rec_module(&s, 0x1000, 0x2000, 0x3000, "/a");
	rec_exit(&s, HEAP_EXIT_NORMAL, 2);
	batch_end(&s);
	rc |= write_file(corpus_dir, "unknown_type", &s);
	s = (stream){0};
	build_cpu(&s);
	rc |= write_file(corpus_dir, "cpu_samples", &s);
	s = (stream){0};
	build_cpu_stack(&s);
	rc |= write_file(corpus_dir, "cpu_stack_copy", &s);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--write-fixtures") == 0)
		return write_fixtures(argv[2], argv[3]);
	test_counts();
	test_unavailable();
	test_sampled_weights();
	test_modules();
	test_all_mode();
	test_thread_order();
	test_gaps();
	test_exec();
	test_split();
	test_malformed();
	test_bad_counters();
	test_fixture();
	test_cpu();
	test_cpu_stack();
	return CHECK_DONE();
}

/* test_region_trace.c: the region trace's reader and matcher on hand-made bytes, and a round trip
 * through the writer that region.c calls. */
#define _GNU_SOURCE
#include "check.h"
#include "cpu_samples.h"
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- a trace built by hand, in the format region_trace.c documents ---------------------- */

typedef struct tbuf {
	unsigned char b[8192];
	size_t len;
} tbuf;

static void t_init(tbuf *t, uint64_t full_ns)
{
	memset(t, 0, sizeof *t);
	memcpy(t->b, "SCRTRC1", 8);
	uint64_t cap = sizeof t->b;
	memcpy(t->b + 8, &cap, 8);
	memcpy(t->b + 24, &full_ns, 8);
	t->len = 64;
}

/* Sets the header's used to the bytes written so far. */
static void t_seal(tbuf *t)
{
	uint64_t used = t->len;
	memcpy(t->b + 16, &used, 8);
}

static void t_head(tbuf *t, uint32_t tag, uint16_t table, uint16_t word)
{
	memcpy(t->b + t->len, &tag, 4);
	memcpy(t->b + t->len + 4, &table, 2);
	memcpy(t->b + t->len + 6, &word, 2);
}

static void t_event(tbuf *t, uint32_t tid, uint16_t table, uint16_t entry, int end, uint64_t ns)
{
	t_head(t, tid, table, (uint16_t)(entry | (end ? 0x8000 : 0)));
	memcpy(t->b + t->len + 8, &ns, 8);
	t->len += 16;
}

static void t_def(tbuf *t, uint16_t table, uint16_t entry, int32_t parent, const char *name)
{
	uint32_t len = (uint32_t)strlen(name);
	t_head(t, 0, table, entry);
	memcpy(t->b + t->len + 8, &parent, 4);
	memcpy(t->b + t->len + 12, &len, 4);
	t->len += 16;
	for (uint32_t at = 0; at < len; at += 12) {
		uint32_t tag = 0xffffffffu;
		memcpy(t->b + t->len, &tag, 4);
		memcpy(t->b + t->len + 4, name + at, len - at < 12 ? len - at : 12);
		t->len += 16;
	}
}

static sc_region_stats region(const char *name, const char *parent, int depth)
{
	sc_region_stats r = {.depth = depth, .cpu_samples = -1};
	snprintf(r.name, sizeof r.name, "%s", name);
	snprintf(r.parent, sizeof r.parent, "%s", parent);
	return r;
}

static void add(sc__cpu_raw *raw, uint32_t tid, uint64_t ns)
{
	uint64_t ip = 0x1000;
	CHECK_INT(sc__cpu_raw_add_sample(raw, 1, tid, ns, &ip, 1, -1, 1), 0);
}

/* The profile's regions: a, a > b (a long name, three continuation slots), and c never traced. */
#define LONG_B "b-with-a-name-longer-than-twelve-bytes"

static void regions3(sc_region_stats *r)
{
	r[0] = region("a", "", 0);
	r[1] = region(LONG_B, "a", 1);
	r[2] = region("c", "", 0);
}

/* Thread 100 (table 1): a [10, 40] holding b [20, 30]; thread 200 (table 2): a [15, 50]. */
static void two_threads(tbuf *t)
{
	t_def(t, 1, 0, -1, "a");
	t_event(t, 100, 1, 0, 0, 10);
	t_def(t, 2, 0, -1, "a");
	t_event(t, 200, 2, 0, 0, 15);
	t_def(t, 1, 1, 0, LONG_B);
	t_event(t, 100, 1, 1, 0, 20);
	t_event(t, 100, 1, 1, 1, 30);
	t_event(t, 100, 1, 0, 1, 40);
	t_event(t, 200, 2, 0, 1, 50);
}

static void test_nested_two_threads(void)
{
	tbuf t;
	t_init(&t, 0);
	two_threads(&t);
	t_seal(&t);
	sc_region_stats regs[3];
	regions3(regs);
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	/* Out of order on purpose: the matcher sorts by thread and time. */
	add(&raw, 200, 25);
	add(&raw, 100, 5);
	add(&raw, 100, 25);
	add(&raw, 100, 35);
	add(&raw, 100, 45);
	add(&raw, 200, 55);
	add(&raw, 300, 25); /* a thread that entered no region */
	sc__region_trace_stats st;
	CHECK_INT(sc__region_trace_apply(t.b, t.len, &raw, regs, 3, &st), 0);
	int32_t want[] = {0, -1, 1, 0, -1, -1, -1};
	for (size_t i = 0; i < 7; i++)
		CHECK_INT(raw.samples[i].region, want[i]);
	CHECK_INT(st.events, 6);
	CHECK_INT(st.definitions, 3);
	CHECK_INT(st.attributed, 3);
	CHECK_INT(st.unmatched, 0);
	CHECK_INT(st.bad, 0);
	CHECK(!st.truncated);

	/* Through the builder: a counts b's sample too (inclusive); c has none. */
	sc_cpu_profile prof = {0};
	sc__cpu_build_options bo = {"perf_event", "fp", 997, 1.0};
	CHECK_INT(sc__cpu_profile_build(&raw, &bo, &prof, regs, 3), 0);
	CHECK_INT(regs[0].cpu_samples, 3);
	CHECK_INT(regs[1].cpu_samples, 1);
	CHECK_INT(regs[2].cpu_samples, 0);
	sc__cpu_profile_release(&prof);
	sc__cpu_raw_release(&raw);
}

/* A region the profile does not have: its samples go to the nearest enclosing one, and count. */
static void test_unknown_region(void)
{
	tbuf t;
	t_init(&t, 0);
	t_def(&t, 1, 0, -1, "a");
	t_def(&t, 1, 1, 0, "zzz");
	t_def(&t, 1, 2, -1, "top-unknown");
	t_event(&t, 100, 1, 0, 0, 10);
	t_event(&t, 100, 1, 1, 0, 20);
	t_event(&t, 100, 1, 1, 1, 30);
	t_event(&t, 100, 1, 0, 1, 40);
	t_event(&t, 100, 1, 2, 0, 50);
	t_event(&t, 100, 1, 2, 1, 60);
	/* An event of an entry never defined, and an end with nothing open: ignored. */
	t_event(&t, 100, 1, 9, 0, 70);
	t_event(&t, 100, 1, 9, 1, 71);
	t_event(&t, 100, 1, 0, 1, 72);
	t_seal(&t);
	sc_region_stats regs[3];
	regions3(regs);
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	add(&raw, 100, 25);
	add(&raw, 100, 55);
	add(&raw, 100, 70);
	add(&raw, 100, 80);
	sc__region_trace_stats st;
	CHECK_INT(sc__region_trace_apply(t.b, t.len, &raw, regs, 3, &st), 0);
	CHECK_INT(raw.samples[0].region, 0); /* zzz inside a: a */
	CHECK_INT(raw.samples[1].region, -1);
	CHECK_INT(raw.samples[2].region, -1);
	CHECK_INT(raw.samples[3].region, -1);
	CHECK_INT(st.unmatched, 3);
	CHECK_INT(st.attributed, 1);
	CHECK_STR(st.unmatched_name, "zzz");
	sc__cpu_raw_release(&raw);
}

/* The trace filled at 32: samples from then on get no region, and the file's cut-off tail (a
 * partial slot) is not read. */
static void test_truncated(void)
{
	tbuf t;
	t_init(&t, 32);
	two_threads(&t);
	t_seal(&t);
	sc_region_stats regs[3];
	regions3(regs);
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	add(&raw, 100, 25);
	add(&raw, 100, 35);
	add(&raw, 200, 31);
	sc__region_trace_stats st;
	CHECK_INT(sc__region_trace_apply(t.b, t.len - 8, &raw, regs, 3, &st), 0);
	CHECK(st.truncated);
	CHECK_INT(st.full_ns, 32);
	CHECK_INT(st.events, 5); /* the last one is cut */
	CHECK_INT(raw.samples[0].region, 1);
	CHECK_INT(raw.samples[1].region, -1);
	CHECK_INT(raw.samples[2].region, 0);
	CHECK_INT(st.after_full, 1);

	/* used beyond the capacity (writers kept reserving once full): read to the capacity. */
	uint64_t used = 1u << 30;
	memcpy(t.b + 16, &used, 8);
	sc__cpu_raw_release(&raw);
	sc__cpu_raw_init(&raw);
	add(&raw, 100, 25);
	CHECK_INT(sc__region_trace_apply(t.b, t.len, &raw, regs, 3, &st), 0);
	CHECK_INT(raw.samples[0].region, 1);
	sc__cpu_raw_release(&raw);
}

/* Damage: not a trace; garbage slots, a hole, a definition cut short, two definitions of one
 * entry that differ. The reader skips what makes no sense and never attributes through it. */
static void test_damaged(void)
{
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	add(&raw, 100, 25);
	sc_region_stats regs[3];
	regions3(regs);
	sc__region_trace_stats st;
	CHECK_INT(sc__region_trace_apply("SCRTRC1", 8, &raw, regs, 3, &st), SC_EPARSE);
	unsigned char junk[128] = "not a trace at all";
	CHECK_INT(sc__region_trace_apply(junk, sizeof junk, &raw, regs, 3, &st), SC_EPARSE);
	CHECK_INT(raw.samples[0].region, -1);

	tbuf t;
	t_init(&t, 0);
	t.len += 16;         /* a hole */
	t_head(&t, 7, 0, 0); /* an event of table 0 */
	t.len += 16;
	t_def(&t, 1, 3, -1, "cut-short-name"); /* then its first continuation is overwritten */
	memset(t.b + t.len - 32, 0x41, 4);     /* the continuation's tag is no longer ~0 */
	t_def(&t, 1, 0, -1, "a");
	t_def(&t, 1, 0, -1, "a"); /* the same again: fine */
	t_def(&t, 1, 1, 0, "x");
	t_def(&t, 1, 1, 0, "y"); /* differs: entry 1 is nobody's */
	t_event(&t, 100, 1, 0, 0, 10);
	t_event(&t, 100, 1, 1, 0, 20);
	t_event(&t, 100, 1, 1, 1, 30);
	t_event(&t, 100, 1, 0, 1, 40);
	t_seal(&t);
	CHECK_INT(sc__region_trace_apply(t.b, t.len, &raw, regs, 3, &st), 0);
	CHECK(st.bad >= 2);
	CHECK_INT(raw.samples[0].region, 0); /* in x-or-y inside a: a */
	CHECK_INT(st.unmatched, 1);
	sc__cpu_raw_release(&raw);
}

/* The writer: a table made while SHOTCLOCK_REGION_TRACE is set logs its begins and ends; the
 * collector then attributes samples stamped between them. */
static void test_round_trip(void)
{
	sc__region_trace *tr = sc__region_trace_new(NULL);
	CHECK(tr != NULL);
	if (!tr)
		return;
	char *const *envp = sc__region_trace_envp(tr);
	size_t n = 0;
	while (envp[n + 1])
		n++;
	CHECK(strncmp(envp[n], SC__REGION_TRACE_ENV "=", strlen(SC__REGION_TRACE_ENV) + 1) == 0);
	setenv(SC__REGION_TRACE_ENV, envp[n] + strlen(SC__REGION_TRACE_ENV) + 1, 1);
	uint32_t tid = (uint32_t)syscall(SYS_gettid);
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);

	sc_profiler *p = sc_profiler_new();
	add(&raw, tid, sc__now_ns()); /* before any region */
	sc_region_begin(p, "outer");
	add(&raw, tid, sc__now_ns());
	sc_region_begin(p, "inner");
	add(&raw, tid, sc__now_ns());
	sc_region_end(p);
	sc_region_end(p);
	add(&raw, tid, sc__now_ns());
	sc_profiler_free(p);
	unsetenv(SC__REGION_TRACE_ENV);

	sc_profile prof = {0};
	sc_region_stats regs[2] = {region("outer", "", 0), region("inner", "outer", 1)};
	prof.regions = regs;
	prof.n_regions = 2;
	CHECK_INT(sc__region_trace_collect(tr, &raw, &prof), 0);
	CHECK_INT(raw.samples[0].region, -1);
	CHECK_INT(raw.samples[1].region, 0);
	CHECK_INT(raw.samples[2].region, 1);
	CHECK_INT(raw.samples[3].region, -1);
	CHECK_INT(prof.n_warnings, 0);
	sc__cpu_raw_release(&raw);
}

int main(void)
{
	test_nested_two_threads();
	test_unknown_region();
	test_truncated();
	test_damaged();
	test_round_trip();
	return CHECK_DONE();
}

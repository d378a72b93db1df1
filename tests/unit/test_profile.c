/* test_profile.c: in-process profiling: exact figures with a mock clock, a real 48 MiB workload. */
#include "check.h"
#include "internal.h"

#include <math.h>
#include <stdint.h>

/* A clock that advances exactly 1000 ns at every read, and by whatever a workload adds to it. */
typedef struct mock_clock {
	uint64_t now_ns;
} mock_clock;

static uint64_t mock_now(void *ctx)
{
	mock_clock *c = ctx;
	c->now_ns += 1000;
	return c->now_ns;
}

static sc_profiler *mock_profiler(mock_clock *c)
{
	sc_profiler *p = sc_profiler_new();
	if (p)
		sc__profiler_set_clock(p, (sc__clock){.now_ns = mock_now, .ctx = c});
	return p;
}

static bool has_unavailable(const sc_profile *p, const char *field)
{
	for (size_t i = 0; i < p->n_unavailable; i++)
		if (strcmp(p->unavailable[i].field, field) == 0)
			return true;
	return false;
}

static bool has_warning(const sc_profile *p, const char *id)
{
	for (size_t i = 0; i < p->n_warnings; i++)
		if (strcmp(p->warnings[i].id, id) == 0)
			return true;
	return false;
}

/* The workload of the comprehensive test: "works" for 1999999000 ns of mock time, so that with the
 * 1000 ns of the clock read that ends the call, the call takes exactly 2 s. */
typedef struct mock_work {
	mock_clock *clock;
	int result;
} mock_work;

static void *mock_workload(void *ctx)
{
	mock_work *w = ctx;
	w->clock->now_ns += 1999999000;
	return &w->result;
}

static void empty_sample(void *ctx, uint64_t index)
{
	uint64_t *calls = ctx;
	(void)index;
	(*calls)++;
}

static void test_samples_mock_clock(void)
{
	mock_clock c = {0};
	sc_profiler *p = mock_profiler(&c);
	CHECK(p != NULL);
	uint64_t calls = 0;
	sc_memory_profile mem;
	sc_time_profile t;
	CHECK_INT(sc_profile_samples(p, "mock-samples", empty_sample, &calls, 1000, &mem, &t), 0);
	CHECK_INT(calls, 1000);

	/* 1001 reads 1000 ns apart: the loop took 1 ms, and every sample exactly 1000 ns. Each of
	 * these is one division of exact integers, so equality is exact. */
	CHECK(t.total_time == 0.001);
	CHECK(t.avg_time_per_sample == 1e-6);
	CHECK(t.throughput_samples_per_sec == 1e6);
	CHECK_INT(t.n_samples, 1000);
	CHECK(t.latency.available);
	CHECK_STR(t.latency.source, "per-sample");
	CHECK_INT(t.latency.count, 1000);
	/* max and mean are exact in the histogram; percentiles are within its promised 1%
	 * relative error (1% of 0.001 ms = 0.00001 ms). */
	CHECK(t.latency.max_ms == 0.001);
	CHECK(t.latency.mean_ms == 0.001);
	CHECK_NEAR(t.latency.p50_ms, 0.001, 0.00001);
	CHECK_NEAR(t.latency.p99_ms, 0.001, 0.00001);
	CHECK_NEAR(t.latency.p999_ms, 0.001, 0.00001);
	CHECK_INT(sc_profiler_status(p), 0);

	/* The same through the report: kind, latency, and an empty but present timeline note. */
	sc_report *r = NULL;
	CHECK_INT(sc_report_create(p, &r), 0);
	CHECK(r != NULL && r->n_profiles == 1);
	if (r && r->n_profiles == 1) {
		const sc_profile *prof = &r->profiles[0];
		CHECK_STR(prof->kind, "samples");
		CHECK_STR(prof->name, "mock-samples");
		CHECK(prof->command == NULL);
		CHECK_INT(prof->total_time.n, 1);
		CHECK(prof->total_time.mean == 0.001);
		CHECK(isnan(prof->total_time.ci95_low) && isnan(prof->total_time.ci95_high));
		CHECK(has_unavailable(prof, "time.total_time.ci95"));
		CHECK(isnan(prof->timeline_interval_s));
		CHECK(has_unavailable(prof, "memory.timeline_interval_s"));
		CHECK(!has_unavailable(prof, "time.latency_ms"));
	}
	sc_report_free(r);
	sc_profiler_free(p);
}

static void test_comprehensive_mock_clock(void)
{
	mock_clock c = {0};
	sc_profiler *p = mock_profiler(&c);
	mock_work w = {.clock = &c};
	sc_memory_profile mem;
	sc_time_profile t;
	void *result = sc_profile_comprehensive(p, "mock-call", mock_workload, &w, 10000, &mem, &t);
	CHECK(result == &w.result);
	CHECK(t.total_time == 2.0);
	CHECK(t.avg_time_per_sample == 0.0002); /* 2e9 ns / (10000 * 1e9): one exact division */
	CHECK(t.throughput_samples_per_sec == 5000.0);
	CHECK_INT(t.n_samples, 10000);
	CHECK(!t.latency.available);
	CHECK_INT(sc_profiler_status(p), 0);

	/* A second profile in the same profiler: the report gets both, in order, as deep copies. */
	uint64_t calls = 0;
	CHECK_INT(sc_profile_samples(p, NULL, empty_sample, &calls, 10, NULL, NULL), 0);
	sc_report *r = NULL;
	CHECK_INT(sc_report_create(p, &r), 0);
	/* Freeing the profiler first: the report must not share its strings (ASan would see it). */
	sc_profiler_free(p);
	CHECK(r != NULL && r->n_profiles == 2);
	if (r && r->n_profiles == 2) {
		const sc_profile *call = &r->profiles[0], *samples = &r->profiles[1];
		CHECK_STR(call->name, "mock-call");
		CHECK_STR(call->kind, "function");
		CHECK(call->total_time.mean == 2.0);
		CHECK(call->throughput_samples_per_sec == 5000.0);
		CHECK(!call->latency.available);
		CHECK(has_unavailable(call, "time.latency_ms"));
		CHECK_STR(samples->name, "samples"); /* NULL name -> the kind */
		CHECK_STR(samples->kind, "samples");
		CHECK_INT(samples->n_samples, 10);
		CHECK(samples->total_time.mean == 10 * 1000 / 1e9);
	}
	sc_report_free(r);
}

static void test_bad_arguments(void)
{
	sc_profiler *p = sc_profiler_new();
	uint64_t calls = 0;
	CHECK_INT(sc_profile_samples(p, "x", NULL, &calls, 10, NULL, NULL), SC_EINVAL);
	CHECK_INT(sc_profile_samples(p, "x", empty_sample, &calls, 0, NULL, NULL), SC_EINVAL);
	CHECK_INT(calls, 0);
	CHECK_INT(sc_profiler_status(p), 0); /* samples returns its error; nothing was recorded */
	CHECK(sc_profile_comprehensive(p, "x", NULL, NULL, 1, NULL, NULL) == NULL);
	CHECK_INT(sc_profiler_status(p), SC_EINVAL);
	sc_report *r = NULL;
	CHECK_INT(sc_report_create(p, &r), 0);
	CHECK(r != NULL && r->n_profiles == 0);
	sc_report_free(r);
	CHECK_INT(sc_report_create(NULL, &r), SC_EINVAL);
	sc_profiler_free(p);
	sc_profiler_free(NULL); /* a no-op, as every _free(NULL) */
	sc_report_free(NULL);
	sc_profile_release(NULL);
}

/* Touches 48 MiB, page by page, and returns the buffer (freed by the test after profiling). */
#define TOUCH_BYTES (48u << 20)

static void *touch_48_mib(void *ctx)
{
	(void)ctx;
	unsigned char *buf = malloc(TOUCH_BYTES);
	if (buf)
		memset(buf, 0x5a, TOUCH_BYTES); /* not 0: malloc + memset(0) may become calloc */
	return buf;
}

static void test_real_memory(void)
{
	sc_profiler *p = sc_profiler_new();
	sc_memory_profile mem;
	sc_time_profile t;
	unsigned char *buf = sc_profile_comprehensive(p, "touch", touch_48_mib, NULL, 1, &mem, &t);
	CHECK(buf != NULL);
	CHECK(buf && buf[0] == 0x5a && buf[TOUCH_BYTES - 1] == 0x5a);
	free(buf);
	/*
	 * Every one of the 12288 pages was written, so RSS rose by 48 MiB during the call. The
	 * tolerance: malloc serves 48 MiB by mmap with a page of header (+4 KiB), page tables add
	 * ~100 KiB, and under AddressSanitizer the shadow of the buffer (1/8 of it, 6 MiB) may be
	 * written too; at most ~6.2 MiB above 48. Below 48, only pages of the process reclaimed
	 * during the call would subtract, at most a few MiB on a machine under memory pressure.
	 */
	CHECK(mem.memory_increase_mb >= 44 && mem.memory_increase_mb <= 56);
	CHECK(mem.peak_memory_mb >= mem.baseline_memory_mb + 44);
	/* With transparent huge pages the 48 MiB may take as few as 24 faults; at least one. */
	CHECK(mem.minor_faults > 0);
	CHECK(t.total_time > 0);
	CHECK(t.cpu_user_s + t.cpu_sys_s >= 0);
	/* Where the kernel refuses to reset the peak, the profile must say so. */
	sc_report *r = NULL;
	CHECK_INT(sc_report_create(p, &r), 0);
	if (r && r->n_profiles == 1)
		CHECK(r->profiles[0].memory.peak_reset ||
		      has_warning(&r->profiles[0], "peak-not-reset"));
	sc_report_free(r);
	sc_profiler_free(p);
}

/* With the real clock (the TSC on x86-64 where it is invariant): the per-sample times must add up
 * to the measured total, since the samples are chained and the tick length is measured over the
 * same loop. */
static void test_samples_real_clock(void)
{
	sc_profiler *p = sc_profiler_new();
	uint64_t calls = 0;
	sc_time_profile t;
	const uint64_t n = 100000;
	CHECK_INT(sc_profile_samples(p, "real", empty_sample, &calls, n, NULL, &t), 0);
	CHECK_INT(calls, n);
	CHECK_INT(t.latency.count, n);
	CHECK(t.latency.p50_ms <= t.latency.p99_ms && t.latency.p99_ms <= t.latency.max_ms);
	CHECK(t.total_time > 0);
	/* mean x n is the sum of the samples, which is the loop minus the one clock read before the
	 * first sample (tens of ns in a loop of at least ~1 ms): 1% covers it with a wide margin.
	 */
	double sum_s = t.latency.mean_ms * (double)n / 1e3;
	CHECK_NEAR(sum_s / t.total_time, 1.0, 0.01);
	sc_profiler_free(p);
}

/* sc_profiler_sample_cpu accepts (0, 10000] and 0 (off); an unsampled profile says why. */
static void test_cpu_not_sampled(void)
{
	sc_profiler *p = sc_profiler_new();
	CHECK_INT(sc_profiler_sample_cpu(NULL, 997), SC_EINVAL);
	CHECK_INT(sc_profiler_sample_cpu(p, -1), SC_EINVAL);
	CHECK_INT(sc_profiler_sample_cpu(p, 10000.5), SC_EINVAL);
	CHECK_INT(sc_profiler_sample_cpu(p, NAN), SC_EINVAL);
	CHECK_INT(sc_profiler_sample_cpu(p, INFINITY), SC_EINVAL);
	CHECK_INT(sc_profiler_sample_cpu(p, 10000), 0);
	CHECK_INT(sc_profiler_sample_cpu(p, 0), 0); /* off again */
	uint64_t calls = 0;
	CHECK_INT(sc_profile_samples(p, "off", empty_sample, &calls, 10, NULL, NULL), 0);
	sc_report *r = NULL;
	CHECK_INT(sc_report_create(p, &r), 0);
	CHECK(r && r->n_profiles == 1);
	if (r && r->n_profiles == 1) {
		const sc_cpu_profile *cpu = &r->profiles[0].cpu;
		CHECK(!cpu->available);
		CHECK_STR(cpu->reason, "not sampled (sc_profiler_sample_cpu was not called)");
		CHECK_INT(cpu->samples, 0);
		CHECK(cpu->hotspots == NULL);
	}
	sc_report_free(r);
	sc_profiler_free(p);
}

int main(void)
{
	test_real_memory(); /* first, while the process's earlier peak is smallest */
	test_samples_mock_clock();
	test_comprehensive_mock_clock();
	test_bad_arguments();
	test_samples_real_clock();
	test_cpu_not_sampled();
	return CHECK_DONE();
}

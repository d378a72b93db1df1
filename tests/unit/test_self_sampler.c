/* test_self_sampler.c: the in-process CPU sampler: shares, counts, regions, errno and SIGPROF. */
#define _GNU_SOURCE
#include "check.h"
#include "cpu_samples.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

/*
 * Two workloads with the same loop, each alone in a section of its own, so that the linker's
 * __start_ and __stop_ symbols give the exact address range of each and a sample's first frame
 * (the interrupted instruction, always exact) is classified without any symbolization. The
 * sampler fires on the thread's CPU time at regular intervals, so work done in sequence is
 * sampled almost exactly in proportion: the tolerances below are the issue's, with room to spare.
 */
#define SPIN(n)                                                                                    \
	do {                                                                                       \
		volatile uint64_t spin_v = 1;                                                      \
		for (uint64_t spin_i = 0; spin_i < (n); spin_i++)                                  \
			spin_v = spin_v * 6364136223846793005u + 1442695040888963407u;             \
	} while (0)

__attribute__((noinline, section("sc_work_a"))) static void work_a(uint64_t n)
{
	SPIN(n);
}

__attribute__((noinline, section("sc_work_b"))) static void work_b(uint64_t n)
{
	SPIN(n);
}

extern const char __start_sc_work_a[], __stop_sc_work_a[];
extern const char __start_sc_work_b[], __stop_sc_work_b[];

static uint64_t iters_per_ms; /* calibrated: how many loop iterations take 1 ms of CPU */

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void calibrate(void)
{
	uint64_t n = 1000000;
	for (;;) {
		double t0 = thread_cpu_s();
		work_a(n);
		double dt = thread_cpu_s() - t0;
		if (dt >= 0.02) {
			iters_per_ms = (uint64_t)((double)n / (dt * 1e3));
			return;
		}
		n *= 2;
	}
}

static bool in_range(uint64_t ip, const char *lo, const char *hi)
{
	return ip >= (uintptr_t)lo && ip < (uintptr_t)hi;
}

/* The weight of the samples whose first frame lies in work_a and in work_b. */
static void classify(const sc__cpu_raw *raw, size_t *a, size_t *b)
{
	*a = *b = 0;
	for (size_t i = 0; i < raw->n_samples; i++) {
		const sc__cpu_sample *s = &raw->samples[i];
		if (!s->n_frames)
			continue;
		uint64_t ip = raw->frames[s->first_frame];
		if (in_range(ip, __start_sc_work_a, __stop_sc_work_a))
			*a += s->weight;
		else if (in_range(ip, __start_sc_work_b, __stop_sc_work_b))
			*b += s->weight;
	}
}

/* 3:1 work in two functions gives self shares of 75% and 25% within 5 percentage points, and as
 * many samples as the thread's CPU time times the rate, within 10%. */
static void test_shares_and_count(void)
{
	sc__self_sampler *s;
	char why[256];
	int err = sc__self_sampler_start(997, NULL, &s, why, sizeof why);
	CHECK_INT(err, 0);
	if (err) {
		fprintf(stderr, "start: %s\n", why);
		return;
	}
	double t0 = thread_cpu_s();
	work_a(225 * iters_per_ms);
	work_b(75 * iters_per_ms);
	double cpu = thread_cpu_s() - t0;
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	CHECK_INT(sc__self_sampler_stop(s, &raw), 0);
	sc__self_sampler_free(s);
	size_t a, b;
	classify(&raw, &a, &b);
	double expected = cpu * 997;
	/* Counts are weights: a sample with timer overruns stands for 1 + overrun periods. */
	uint64_t weight = sc__cpu_raw_weight(&raw);
	printf("shares: %zu samples weighing %llu (%.0f expected from %.3f s CPU), work_a %zu, "
	       "work_b %zu, lost %llu\n",
	       raw.n_samples, (unsigned long long)weight, expected, cpu, a, b,
	       (unsigned long long)raw.lost);
	CHECK_NEAR((double)weight, expected, 0.10 * expected);
	CHECK(a + b >= weight * 95 / 100);
	CHECK(a + b > 0);
	if (a + b) {
		CHECK_NEAR(100.0 * (double)a / (double)(a + b), 75.0, 5.0);
		CHECK_NEAR(100.0 * (double)b / (double)(a + b), 25.0, 5.0);
	}
	CHECK_INT(raw.lost, 0);
	/* Every sample is this thread's, in this process. */
	bool own = true;
	for (size_t i = 0; i < raw.n_samples; i++)
		own = own && raw.samples[i].pid == (uint32_t)getpid() &&
		      raw.samples[i].tid == (uint32_t)gettid() && raw.samples[i].region == -1;
	CHECK(own);
	/* The main program's mapping holds the workloads, with its load bias and its path. */
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[len > 0 ? len : 0] = '\0';
	const sc__cpu_mapping *main_map = NULL;
	bool vdso = false;
	for (size_t i = 0; i < raw.n_maps; i++) {
		const sc__cpu_mapping *m = &raw.maps[i];
		if (m->start <= (uintptr_t)work_a && (uintptr_t)work_a < m->end)
			main_map = m;
		vdso = vdso || strcmp(m->path, "[vdso]") == 0;
	}
	CHECK(main_map != NULL);
	if (main_map) {
		CHECK_STR(main_map->path, exe);
		CHECK(main_map->bias_known);
		CHECK_INT(main_map->pid, getpid());
	}
	CHECK(vdso);
	sc__cpu_raw_release(&raw);
}

/* Twice the work gives twice the samples, within 10%. */
static void test_doubling(void)
{
	size_t counts[2] = {0, 0};
	for (int k = 0; k < 2; k++) {
		sc__self_sampler *s;
		if (sc__self_sampler_start(997, NULL, &s, NULL, 0) != 0) {
			CHECK(!"start");
			return;
		}
		work_a((uint64_t)(k + 1) * 100 * iters_per_ms);
		sc__cpu_raw raw;
		sc__cpu_raw_init(&raw);
		CHECK_INT(sc__self_sampler_stop(s, &raw), 0);
		sc__self_sampler_free(s);
		counts[k] = (size_t)sc__cpu_raw_weight(&raw);
		sc__cpu_raw_release(&raw);
	}
	printf("doubling: %zu then %zu samples\n", counts[0], counts[1]);
	CHECK(counts[0] > 0);
	if (counts[0])
		CHECK_NEAR((double)counts[1] / (double)counts[0], 2.0, 0.2);
}

/* Each sample carries the region open when it was taken, read from the slot. */
static void test_region_slot(void)
{
	static volatile int32_t slot = -1;
	sc__self_sampler *s;
	if (sc__self_sampler_start(997, &slot, &s, NULL, 0) != 0) {
		CHECK(!"start");
		return;
	}
	slot = 0;
	work_a(60 * iters_per_ms);
	slot = 1;
	work_b(30 * iters_per_ms);
	slot = -1;
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	CHECK_INT(sc__self_sampler_stop(s, &raw), 0);
	sc__self_sampler_free(s);
	size_t agree = 0, tagged = 0;
	for (size_t i = 0; i < raw.n_samples; i++) {
		const sc__cpu_sample *x = &raw.samples[i];
		uint64_t ip = x->n_frames ? raw.frames[x->first_frame] : 0;
		if (x->region >= 0)
			tagged += x->weight;
		if ((x->region == 0 && in_range(ip, __start_sc_work_a, __stop_sc_work_a)) ||
		    (x->region == 1 && in_range(ip, __start_sc_work_b, __stop_sc_work_b)))
			agree += x->weight;
	}
	uint64_t weight = sc__cpu_raw_weight(&raw);
	printf("regions: %zu samples weighing %llu, %zu tagged, %zu agree with their function\n",
	       raw.n_samples, (unsigned long long)weight, tagged, agree);
	CHECK(raw.n_samples > 0);
	CHECK(agree >= weight * 95 / 100);
	sc__cpu_raw_release(&raw);
}

/* The handler leaves errno as it found it, and system calls keep working under the signal. */
static void test_errno_and_syscalls(void)
{
	int fd = open("/dev/zero", O_RDONLY);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	sc__self_sampler *s;
	if (sc__self_sampler_start(997, NULL, &s, NULL, 0) != 0) {
		CHECK(!"start");
		close(fd);
		return;
	}
	static char buf[4096];
	size_t changed = 0, failed = 0, loops = 0;
	double t0 = thread_cpu_s();
	while (thread_cpu_s() - t0 < 0.1) {
		errno = EDOM;
		ssize_t got = read(fd, buf, sizeof buf);
		if (got <= 0)
			failed++;
		work_a(iters_per_ms / 8);
		if (errno != EDOM)
			changed++;
		loops++;
	}
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	CHECK_INT(sc__self_sampler_stop(s, &raw), 0);
	sc__self_sampler_free(s);
	printf("errno: %zu loops, %zu samples weighing %llu\n", loops, raw.n_samples,
	       (unsigned long long)sc__cpu_raw_weight(&raw));
	CHECK(sc__cpu_raw_weight(&raw) > 20);
	CHECK_INT(changed, 0);
	CHECK_INT(failed, 0);
	sc__cpu_raw_release(&raw);
	close(fd);
}

static volatile sig_atomic_t own_hits;

static void own_handler(int sig)
{
	(void)sig;
	own_hits++;
}

/* A program's own SIGPROF handler is left alone: start fails and says why. The disposition is
 * restored after a run, and one sampler runs at a time. */
static void test_sigprof_disposition(void)
{
	struct sigaction sa = {0}, now;
	sa.sa_handler = own_handler;
	sigemptyset(&sa.sa_mask);
	CHECK_INT(sigaction(SIGPROF, &sa, NULL), 0);
	sc__self_sampler *s = NULL;
	char why[256] = "";
	CHECK_INT(sc__self_sampler_start(997, NULL, &s, why, sizeof why), SC_EUNAVAILABLE);
	CHECK(s == NULL);
	CHECK(strstr(why, "SIGPROF") != NULL);
	sigaction(SIGPROF, NULL, &now);
	CHECK(now.sa_handler == own_handler);
	raise(SIGPROF);
	CHECK_INT(own_hits, 1);

	sa.sa_handler = SIG_DFL;
	CHECK_INT(sigaction(SIGPROF, &sa, NULL), 0);
	CHECK_INT(sc__self_sampler_start(997, NULL, &s, why, sizeof why), 0);
	sc__self_sampler *second = NULL;
	CHECK_INT(sc__self_sampler_start(997, NULL, &second, why, sizeof why), SC_EUNAVAILABLE);
	CHECK(second == NULL);
	work_a(20 * iters_per_ms);
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	CHECK_INT(sc__self_sampler_stop(s, &raw), 0);
	/* A second stop adds nothing more; free after stop is safe. */
	size_t n = raw.n_samples;
	CHECK_INT(sc__self_sampler_stop(s, &raw), 0);
	CHECK_INT(raw.n_samples, n);
	sc__self_sampler_free(s);
	sigaction(SIGPROF, NULL, &now);
	CHECK(now.sa_handler == SIG_DFL);
	sc__cpu_raw_release(&raw);
	/* Freed without a stop: the timer is gone and the handler restored all the same. */
	CHECK_INT(sc__self_sampler_start(10000, NULL, &s, why, sizeof why), 0);
	work_a(5 * iters_per_ms);
	sc__self_sampler_free(s);
	sigaction(SIGPROF, NULL, &now);
	CHECK(now.sa_handler == SIG_DFL);
	work_a(5 * iters_per_ms); /* a stray timer signal would end the process here */
	CHECK_INT(sc__self_sampler_start(0, NULL, &s, why, sizeof why), SC_EINVAL);
	CHECK_INT(sc__self_sampler_start(-5, NULL, &s, why, sizeof why), SC_EINVAL);
}

/* ---- through the C API: sc_profiler_sample_cpu, profiles and their regions ----------------- */

static bool named(const char *function, const char *name)
{
	/* The compiler may suffix a local function's symbol (work_a.part.0): the prefix names it.
	 */
	size_t n = strlen(name);
	return function && strncmp(function, name, n) == 0 &&
	       (function[n] == '\0' || function[n] == '.');
}

/* ---- the leaf's caller ---------------------------------------------------------------------- */

/* A leaf without a frame of its own: rbp stays its caller's, so the frame-pointer walk goes from
 * the leaf straight to its caller's caller. Built so whatever the flags (omit-frame-pointer), and
 * with nothing on the stack at -O2 but the return address, which the CFI finds at rsp. */
static volatile uint64_t leaf_sink;

__attribute__((noinline, optimize("omit-frame-pointer"))) static void frameless_leaf(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		leaf_sink += i;
}

/* The leaf's caller, with a frame (-fno-omit-frame-pointer): the walk skips it without the fix-up.
 * The call is not its last instruction, so it is no tail call. */
__attribute__((noinline)) static uint64_t leaf_caller(uint64_t n)
{
	frameless_leaf(n);
	return leaf_sink;
}

static bool last_named(const sc_cpu_stack *st, size_t from_end, const char *name)
{
	return st->n_frames > from_end && named(st->frames[st->n_frames - 1 - from_end], name);
}

/* The in-process sampler copies 128 bytes of stack with each sample, so the builder puts the
 * frameless leaf's caller back: every stack ending in frameless_leaf has leaf_caller right above
 * it, where the frame pointers alone say test_leaf_caller. */
static void test_leaf_caller(void)
{
	sc__self_sampler *s;
	char why[256];
	int err = sc__self_sampler_start(997, NULL, &s, why, sizeof why);
	CHECK_INT(err, 0);
	if (err) {
		fprintf(stderr, "start: %s\n", why);
		return;
	}
	uint64_t got = 0;
	for (int i = 0; i < 100; i++)
		got += leaf_caller(2 * iters_per_ms);
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	CHECK_INT(sc__self_sampler_stop(s, &raw), 0);
	sc__self_sampler_free(s);
	CHECK(got > 0 || leaf_sink == 0);
	/* Each sample carries its stack copy: rsp, rbp and rip, and 128 bytes from rsp up. */
	size_t copies = 0;
	bool regs_ok = true;
	for (size_t i = 0; i < raw.n_samples; i++) {
		const sc__cpu_sample *x = &raw.samples[i];
		if (x->user_index == SIZE_MAX)
			continue;
		const sc__cpu_user_stack *u = &raw.user[x->user_index];
		copies++;
		regs_ok = regs_ok && u->stack_len == 128 &&
		          u->regs[16] == raw.frames[x->first_frame] && u->regs[7] != 0 &&
		          u->regs[7] % 8 == 0;
	}
	CHECK_INT(copies, raw.n_samples);
	CHECK(regs_ok);
	sc__cpu_build_options o = {
	    .sampler = "timer", .call_graph = "fp", .rate_hz = 997, .duration_s = NAN};
	sc_cpu_profile cpu;
	CHECK_INT(sc__cpu_profile_build(&raw, &o, &cpu, NULL, 0), 0);
	sc__cpu_raw_release(&raw);
	uint64_t leaf = 0, under_caller = 0;
	for (size_t i = 0; i < cpu.n_stacks; i++) {
		const sc_cpu_stack *st = &cpu.stacks[i];
		if (!last_named(st, 0, "frameless_leaf"))
			continue;
		leaf += st->samples;
		if (last_named(st, 1, "leaf_caller"))
			under_caller += st->samples;
		else
			printf("leaf stack without its caller: %s <- %s (%llu)\n",
			       st->n_frames > 1 ? st->frames[st->n_frames - 2] : "-",
			       st->frames[st->n_frames - 1], (unsigned long long)st->samples);
	}
	printf("leaf: %llu samples in frameless_leaf, %llu with leaf_caller directly above\n",
	       (unsigned long long)leaf, (unsigned long long)under_caller);
	CHECK(leaf >= 100);
	CHECK_INT(under_caller, leaf);
	sc__cpu_profile_release(&cpu);
}

static const sc_region_stats *region_named(const sc_profile *p, const char *name)
{
	for (size_t i = 0; i < p->n_regions; i++)
		if (strcmp(p->regions[i].name, name) == 0)
			return &p->regions[i];
	return NULL;
}

static uint64_t light_ms = 50; /* the light region's CPU time; the heavy one's is twice it */

static void *two_regions(void *ctx)
{
	sc_profiler *p = ctx;
	SC_REGION(p, "heavy") work_a(2 * light_ms * iters_per_ms);
	SC_REGION(p, "light") work_b(light_ms * iters_per_ms);
	return NULL;
}

static void one_sample(void *ctx, uint64_t index)
{
	(void)ctx;
	(void)index;
	work_b(iters_per_ms / 2);
}

/* Two regions with 2:1 work: their CPU shares within 5 percentage points and the right function
 * on top of each; the profile's hotspots and sampler fields. */
static void test_profile_regions(void)
{
	sc_profiler *p = sc_profiler_new();
	CHECK_INT(sc_profiler_sample_cpu(p, 997), 0);
	sc_profile_comprehensive(p, "two regions", two_regions, p, 1, NULL, NULL);
	CHECK_INT(sc_profile_samples(p, "per sample", one_sample, NULL, 100, NULL, NULL), 0);
	sc_report *r = NULL;
	CHECK_INT(sc_report_create(p, &r), 0);
	sc_profiler_free(p);
	CHECK(r && r->n_profiles == 2);
	if (!r || r->n_profiles != 2) {
		sc_report_free(r);
		return;
	}
	const sc_profile *fn = &r->profiles[0];
	const sc_cpu_profile *cpu = &fn->cpu;
	CHECK(cpu->available);
	CHECK_STR(cpu->sampler, "timer");
	CHECK_STR(cpu->call_graph, "fp");
	CHECK(cpu->rate_hz == 997);
	CHECK(strstr(cpu->sampler_note, "in-process") != NULL);
	double cpu_time = fn->resources.cpu_user_s + fn->resources.cpu_sys_s;
	printf("profile: %llu samples for %.3f s of CPU, %zu hotspots, top %s\n",
	       (unsigned long long)cpu->samples, cpu_time, cpu->n_hotspots,
	       cpu->n_hotspots ? cpu->hotspots[0].function : "-");
	CHECK_NEAR((double)cpu->samples, cpu_time * 997, 0.10 * cpu_time * 997);
	CHECK_INT(cpu->threads, 1);
	CHECK(cpu->n_hotspots >= 2);
	if (cpu->n_hotspots >= 2) {
		CHECK(named(cpu->hotspots[0].function, "work_a"));
		CHECK(named(cpu->hotspots[1].function, "work_b"));
		CHECK_NEAR(cpu->hotspots[0].self_percent, 200.0 / 3, 5.0);
		CHECK_NEAR(cpu->hotspots[1].self_percent, 100.0 / 3, 5.0);
	}
	const sc_region_stats *heavy = region_named(fn, "heavy"),
	                      *light = region_named(fn, "light");
	CHECK(heavy && light);
	if (heavy && light) {
		printf("regions: heavy %lld samples %.1f%% %s, light %lld samples %.1f%% %s\n",
		       (long long)heavy->cpu_samples, heavy->cpu_percent, heavy->cpu_top_function,
		       (long long)light->cpu_samples, light->cpu_percent, light->cpu_top_function);
		CHECK_NEAR(heavy->cpu_percent, 200.0 / 3, 5.0);
		CHECK_NEAR(light->cpu_percent, 100.0 / 3, 5.0);
		CHECK(named(heavy->cpu_top_function, "work_a"));
		CHECK(named(light->cpu_top_function, "work_b"));
		CHECK(heavy->cpu_samples > light->cpu_samples && light->cpu_samples > 0);
	}
	const sc_cpu_profile *per = &r->profiles[1].cpu;
	CHECK(per->available && per->samples > 0);
	if (per->n_hotspots)
		CHECK(named(per->hotspots[0].function, "work_b"));
	sc_report_free(r);
}

/* With the program's own SIGPROF handler, the profile is measured all the same, its cpu section
 * says why it was not sampled, its regions are unsampled, and the handler stays. */
static void test_profile_own_handler(void)
{
	struct sigaction sa = {0}, now;
	sa.sa_handler = own_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPROF, &sa, NULL);
	sc_profiler *p = sc_profiler_new();
	CHECK_INT(sc_profiler_sample_cpu(p, 997), 0);
	light_ms = 5;
	sc_time_profile t;
	sc_profile_comprehensive(p, "own handler", two_regions, p, 1, NULL, &t);
	CHECK(t.total_time > 0);
	sc_report *r = NULL;
	CHECK_INT(sc_report_create(p, &r), 0);
	sc_profiler_free(p);
	if (r && r->n_profiles == 1) {
		const sc_profile *fn = &r->profiles[0];
		CHECK(!fn->cpu.available);
		CHECK(strstr(fn->cpu.reason, "SIGPROF") != NULL);
		const sc_region_stats *heavy = region_named(fn, "heavy");
		CHECK(heavy && heavy->cpu_samples == -1 && isnan(heavy->cpu_percent));
	} else {
		CHECK(!"one profile");
	}
	sc_report_free(r);
	sigaction(SIGPROF, NULL, &now);
	CHECK(now.sa_handler == own_handler);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPROF, &sa, NULL);
}

static void *inner_work(void *ctx)
{
	sc_profiler *p = ctx;
	SC_REGION(p, "inner") work_b(20 * iters_per_ms);
	return NULL;
}

static void *outer_work(void *ctx)
{
	sc_profiler *p = ctx;
	SC_REGION(p, "outer")
	{
		work_a(20 * iters_per_ms);
		sc_profile_comprehensive(p, "inner", inner_work, p, 1, NULL, NULL);
	}
	return NULL;
}

/* A profile nested in a sampled one is not sampled (one sampler at a time), and the samples taken
 * during it stay with the outer region open around it, not with the inner profile's regions. */
static void test_profile_nested(void)
{
	sc_profiler *p = sc_profiler_new();
	CHECK_INT(sc_profiler_sample_cpu(p, 997), 0);
	sc_profile_comprehensive(p, "outer", outer_work, p, 1, NULL, NULL);
	sc_report *r = NULL;
	CHECK_INT(sc_report_create(p, &r), 0);
	sc_profiler_free(p);
	const sc_profile *inner = NULL, *outer = NULL;
	for (size_t i = 0; r && i < r->n_profiles; i++) {
		if (strcmp(r->profiles[i].name, "inner") == 0)
			inner = &r->profiles[i];
		if (strcmp(r->profiles[i].name, "outer") == 0)
			outer = &r->profiles[i];
	}
	CHECK(inner && outer);
	if (inner && outer) {
		CHECK(!inner->cpu.available);
		CHECK(strstr(inner->cpu.reason, "another in-process CPU sampler") != NULL);
		CHECK(outer->cpu.available);
		const sc_region_stats *o = region_named(outer, "outer");
		CHECK(o && region_named(outer, "inner") == NULL);
		if (o)
			CHECK(o->cpu_percent >= 95.0); /* everything but the profiler's own edges */
	}
	sc_report_free(r);
}

int main(void)
{
	calibrate();
	test_shares_and_count();
	test_doubling();
	test_region_slot();
	test_errno_and_syscalls();
	test_sigprof_disposition();
	test_leaf_caller();
	test_profile_regions();
	test_profile_own_handler();
	test_profile_nested();
	return CHECK_DONE();
}

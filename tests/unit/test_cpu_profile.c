/* test_cpu_profile.c: the cpu profile builder on raw stores made from this test's own code. */
#define _GNU_SOURCE
#include "check.h"

#include "cpu_build.h"
#include "cpu_samples.h"

#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

/*
 * Every address here is one of this test's own functions, so the expected names, files and
 * declaration lines are known exactly (__FILE__, __LINE__). Return addresses come from
 * __builtin_return_address inside noinline functions; the asm barriers after each call keep the
 * compiler from turning a call into a jump, which would leave no return address to find.
 */

#define BARRIER() __asm__ volatile("" ::: "memory")

static uint32_t self_pid;
static uint32_t self_tid;

/* ---- functions to find ------------------------------------------------------------------- */

/* hot_a_here marks one instruction of hot_a, on a line known exactly: a sample's leaf there. */
extern const char hot_a_here[];

enum { LINE_HOT_A = __LINE__ + 1 };
__attribute__((noinline)) static int hot_a(int x)
{
	__asm__ volatile("hot_a_here: nop" ::: "memory");
	return x * 3 + 1;
}
enum { LINE_HOT_A_HERE = LINE_HOT_A + 2 }; /* the asm's line */

enum { LINE_HOT_B = __LINE__ + 1 };
__attribute__((noinline)) static int hot_b(int x)
{
	BARRIER();
	return x * 5 + 2;
}

static uint64_t ra_mid;   /* a return address inside caller_mid (its call of capture) */
static uint64_t ra_outer; /* a return address inside caller_outer (its call of caller_mid) */

__attribute__((noinline)) static void capture(void)
{
	ra_mid = (uint64_t)(uintptr_t)__builtin_return_address(0);
	BARRIER();
}

enum { LINE_CALLER_MID = __LINE__ + 1 };
__attribute__((noinline)) static void caller_mid(void)
{
	capture();
	ra_outer = (uint64_t)(uintptr_t)__builtin_return_address(0);
	BARRIER();
}

__attribute__((noinline)) static void caller_outer(void)
{
	caller_mid();
	BARRIER();
}

/* An inlined function: its code sits inside inl_outer, yet it is a frame of its own. */
static uint64_t ra_inlined; /* a return address inside inl_work's code within inl_outer */

__attribute__((noinline)) static void grab_ra(void)
{
	ra_inlined = (uint64_t)(uintptr_t)__builtin_return_address(0);
	BARRIER();
}

enum { LINE_INL_WORK = __LINE__ + 1 };
static inline __attribute__((always_inline)) int inl_work(int x)
{
	grab_ra();
	BARRIER();
	return x + 1;
}

__attribute__((noinline)) static int inl_outer(int x)
{
	int r = inl_work(x);
	BARRIER();
	return r * 2;
}

/*
 * Two leaves written in assembly, so that their frames are what the test says whatever the
 * compiler's flags. frameless_leaf never makes rbp its frame pointer (what GCC does with a leaf
 * even under -fno-omit-frame-pointer): at its first instruction the return address is at rsp + 0,
 * and at frameless_here, after it pushed rbx, at rsp + 8. framed_leaf does (push rbp; mov rsp,
 * rbp): at framed_here its frame is rbp-based. Each stores its return address for the test.
 */
void frameless_leaf(void);
void framed_leaf(void);
extern const char frameless_here[];
extern const char framed_here[];
uint64_t frameless_ra;
uint64_t framed_ra;
__asm__(".text\n"
        ".p2align 4\n"
        ".globl frameless_leaf\n"
        ".type frameless_leaf, @function\n"
        "frameless_leaf:\n"
        ".cfi_startproc\n"
        "	push %rbx\n"
        "	.cfi_def_cfa_offset 16\n"
        "	.cfi_offset %rbx, -16\n"
        ".globl frameless_here\n"
        "frameless_here:\n"
        "	mov 8(%rsp), %rax\n"
        "	mov %rax, frameless_ra(%rip)\n"
        "	pop %rbx\n"
        "	.cfi_def_cfa_offset 8\n"
        "	ret\n"
        ".cfi_endproc\n"
        ".size frameless_leaf, .-frameless_leaf\n"
        ".p2align 4\n"
        ".globl framed_leaf\n"
        ".type framed_leaf, @function\n"
        "framed_leaf:\n"
        ".cfi_startproc\n"
        "	push %rbp\n"
        "	.cfi_def_cfa_offset 16\n"
        "	.cfi_offset %rbp, -16\n"
        "	mov %rsp, %rbp\n"
        "	.cfi_def_cfa_register %rbp\n"
        ".globl framed_here\n"
        "framed_here:\n"
        "	mov 8(%rbp), %rax\n"
        "	mov %rax, framed_ra(%rip)\n"
        "	pop %rbp\n"
        "	.cfi_def_cfa %rsp, 8\n"
        "	ret\n"
        ".cfi_endproc\n"
        ".size framed_leaf, .-framed_leaf\n");

__attribute__((noinline)) static void leaf_caller(void)
{
	frameless_leaf();
	BARRIER();
	framed_leaf();
	BARRIER();
}

/* ---- this process's mappings, two ways ------------------------------------------------------ */

static char exe_path[4096];

static int add_phdr(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	sc__cpu_raw *raw = arg;
	const char *path = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : exe_path;
	if (path[0] != '/')
		return 0; /* the vdso: nothing on disk */
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uint64_t start = (info->dlpi_addr + ph->p_vaddr) & ~(uint64_t)4095;
		uint64_t end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
		CHECK_INT(sc__cpu_raw_add_mapping(raw, self_pid, 0, start, end,
		                                  ph->p_offset & ~(uint64_t)4095, true,
		                                  info->dlpi_addr, path),
		          0);
	}
	return 0;
}

static void maps_from_phdrs(sc__cpu_raw *raw)
{
	dl_iterate_phdr(add_phdr, raw);
}

/* The mappings as /proc/self/maps lists them: no bias, which the builder derives. */
static void maps_from_proc(sc__cpu_raw *raw)
{
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f != NULL);
	if (!f)
		return;
	char line[8192];
	while (fgets(line, sizeof line, f)) {
		unsigned long start, end, off;
		char perms[8];
		int pos = 0;
		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %n", &start, &end, perms, &off, &pos) <
		        4 ||
		    pos == 0)
			continue;
		char *path = line + pos;
		path[strcspn(path, "\n")] = '\0';
		if (path[0] != '/')
			continue;
		CHECK_INT(
		    sc__cpu_raw_add_mapping(raw, self_pid, 0, start, end, off, false, 0, path), 0);
	}
	fclose(f);
}

static const sc__cpu_build_options fp_options = {"perf_event", "fp", 1000.0, 2.0};

static uint64_t addr_of(int (*fn)(int))
{
	/* hot_a's samples fall on its marked instruction, whose line is known. */
	return fn == hot_a ? (uint64_t)(uintptr_t)hot_a_here : (uint64_t)(uintptr_t)fn;
}

static const sc_cpu_hotspot *hotspot(const sc_cpu_profile *p, const char *name)
{
	for (size_t i = 0; i < p->n_hotspots; i++)
		if (p->hotspots[i].function && strcmp(p->hotspots[i].function, name) == 0)
			return &p->hotspots[i];
	return NULL;
}

static bool stack_is(const sc_cpu_stack *s, const char *const *names, size_t n)
{
	if (s->n_frames != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(s->frames[i], names[i]) != 0)
			return false;
	return true;
}

/* Three samples in hot_a, one in hot_b, all called from caller_outer -> caller_mid. */
static void add_basic_samples(sc__cpu_raw *raw)
{
	for (int i = 0; i < 4; i++) {
		uint64_t frames[3] = {i < 3 ? addr_of(hot_a) : addr_of(hot_b), ra_mid, ra_outer};
		CHECK_INT(sc__cpu_raw_add_sample(raw, self_pid, self_tid, 0, frames, 3, -1, 1), 0);
	}
}

static void check_basic(const sc_cpu_profile *p)
{
	CHECK(p->available);
	CHECK_INT(p->samples, 4);
	CHECK_INT(p->threads, 1);
	CHECK_INT(p->processes, 1);
	CHECK_NEAR(p->cpu_s, 0.004, 1e-12);
	CHECK_STR(p->sampler, "perf_event");
	CHECK_STR(p->call_graph, "fp");
	CHECK_INT(p->n_hotspots, 4);
	if (p->n_hotspots < 4)
		return;
	/* By self samples, then total, then name: caller_mid and caller_outer tie on both. */
	CHECK_STR(p->hotspots[0].function, "hot_a");
	CHECK_STR(p->hotspots[1].function, "hot_b");
	CHECK_STR(p->hotspots[2].function, "caller_mid");
	CHECK_STR(p->hotspots[3].function, "caller_outer");
	const sc_cpu_hotspot *a = &p->hotspots[0];
	CHECK_INT(a->self_samples, 3);
	CHECK_INT(a->total_samples, 3);
	CHECK_NEAR(a->self_percent, 75.0, 1e-9);
	CHECK_STR(a->file, __FILE__);
	CHECK_INT(a->line, LINE_HOT_A);
	CHECK_STR(a->module, exe_path);
	CHECK_INT(a->n_lines, 1);
	if (a->n_lines) {
		CHECK_STR(a->lines[0].file, __FILE__);
		CHECK_INT(a->lines[0].line, LINE_HOT_A_HERE);
		CHECK_INT(a->lines[0].samples, 3);
		CHECK_NEAR(a->lines[0].percent, 75.0, 1e-9);
	}
	const sc_cpu_hotspot *mid = &p->hotspots[2];
	CHECK_INT(mid->self_samples, 0);
	CHECK_INT(mid->total_samples, 4);
	CHECK_NEAR(mid->total_percent, 100.0, 1e-9);
	CHECK_INT(mid->line, LINE_CALLER_MID);
	CHECK_INT(mid->n_lines, 0);
	CHECK_INT(p->hotspots[1].line, LINE_HOT_B);

	CHECK_INT(p->n_stacks, 2);
	if (p->n_stacks == 2) {
		const char *s0[] = {"caller_outer", "caller_mid", "hot_a"};
		const char *s1[] = {"caller_outer", "caller_mid", "hot_b"};
		CHECK(stack_is(&p->stacks[0], s0, 3));
		CHECK_INT(p->stacks[0].samples, 3);
		CHECK(stack_is(&p->stacks[1], s1, 3));
		CHECK_INT(p->stacks[1].samples, 1);
	}
}

/* Mappings with the bias known (dl_iterate_phdr) and derived (/proc/self/maps) agree. */
static void test_basic_both_mappings(void)
{
	for (int way = 0; way < 2; way++) {
		sc__cpu_raw raw;
		sc__cpu_raw_init(&raw);
		if (way == 0)
			maps_from_phdrs(&raw);
		else
			maps_from_proc(&raw);
		add_basic_samples(&raw);
		sc_cpu_profile p;
		CHECK_INT(sc__cpu_profile_build(&raw, &fp_options, &p, NULL, 0), 0);
		check_basic(&p);
		sc__cpu_profile_release(&p);
		CHECK(!p.available);
		sc__cpu_raw_release(&raw);
	}
}

/* A function deep in recursion counts once per sample in total. */
static void test_recursion(void)
{
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	maps_from_phdrs(&raw);
	uint64_t frames[6] = {addr_of(hot_a), ra_mid, ra_mid, ra_mid, ra_mid, ra_outer};
	CHECK_INT(sc__cpu_raw_add_sample(&raw, self_pid, self_tid, 0, frames, 6, -1, 1), 0);
	CHECK_INT(sc__cpu_raw_add_sample(&raw, self_pid, self_tid + 1, 0, frames, 6, -1, 1), 0);
	sc_cpu_profile p;
	CHECK_INT(sc__cpu_profile_build(&raw, &fp_options, &p, NULL, 0), 0);
	const sc_cpu_hotspot *mid = hotspot(&p, "caller_mid");
	CHECK(mid != NULL);
	if (mid)
		CHECK_INT(mid->total_samples, 2);
	CHECK_INT(p.threads, 2);
	CHECK_INT(p.n_stacks, 1);
	if (p.n_stacks == 1) {
		CHECK_INT(p.stacks[0].n_frames, 6);
		CHECK_INT(p.stacks[0].samples, 2);
	}
	sc__cpu_profile_release(&p);
	sc__cpu_raw_release(&raw);
}

/* Unknown modules, unmapped addresses and the cap on distinct stacks. */
static void test_unknown_and_cap(void)
{
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	const uint64_t base = 0x10000000;
	CHECK_INT(sc__cpu_raw_add_mapping(&raw, self_pid, 0, base, base + 0x1000000, 0, true, base,
	                                  "/nonexistent/libfake.so"),
	          0);
	/* One address three times, then 5002 distinct ones once: 5003 distinct stacks. */
	for (int i = 0; i < 3; i++) {
		uint64_t f = base + 0x10;
		CHECK_INT(sc__cpu_raw_add_sample(&raw, self_pid, self_tid, 0, &f, 1, -1, 1), 0);
	}
	for (uint64_t i = 0; i < 5002; i++) {
		uint64_t f = base + 0x100 + i;
		CHECK_INT(sc__cpu_raw_add_sample(&raw, self_pid, self_tid, 0, &f, 1, -1, 1), 0);
	}
	uint64_t nowhere = 0x7;
	CHECK_INT(sc__cpu_raw_add_sample(&raw, self_pid, self_tid, 0, &nowhere, 1, -1, 1), 0);
	CHECK_INT(sc__cpu_raw_add_sample(&raw, self_pid, self_tid, 0, NULL, 0, -1, 1), 0);
	raw.lost = 9;
	sc_cpu_profile p;
	CHECK_INT(sc__cpu_profile_build(&raw, &fp_options, &p, NULL, 0), 0);
	CHECK_INT(p.samples, 5007);
	CHECK_INT(p.lost_samples, 9);
	CHECK_INT(p.n_hotspots, SC_CPU_MAX_HOTSPOTS);
	if (p.n_hotspots) {
		CHECK_STR(p.hotspots[0].function, "libfake.so+0x10");
		CHECK_STR(p.hotspots[0].module, "/nonexistent/libfake.so");
		CHECK(p.hotspots[0].file == NULL);
		CHECK_INT(p.hotspots[0].line, 0);
		CHECK_INT(p.hotspots[0].self_samples, 3);
		/* The two samples with nothing to place: "[unknown]", no module. */
		CHECK_STR(p.hotspots[1].function, "[unknown]");
		CHECK(p.hotspots[1].module == NULL);
		CHECK_INT(p.hotspots[1].self_samples, 2);
	}
	/* 5002 distinct stacks: 4999 kept, the 4 smallest (by name, the last) summed. */
	CHECK_INT(p.n_stacks, SC_CPU_MAX_STACKS);
	if (p.n_stacks == SC_CPU_MAX_STACKS) {
		CHECK_STR(p.stacks[0].frames[0], "[other stacks]");
		CHECK_INT(p.stacks[0].samples, 5);
		CHECK_STR(p.stacks[1].frames[0], "libfake.so+0x10");
		CHECK_INT(p.stacks[1].samples, 3);
		CHECK_STR(p.stacks[2].frames[0], "[unknown]");
		CHECK_INT(p.stacks[2].samples, 2);
		CHECK_STR(p.stacks[3].frames[0], "libfake.so+0x100");
		uint64_t sum = 0;
		for (size_t i = 0; i < p.n_stacks; i++)
			sum += p.stacks[i].samples;
		CHECK_INT(sum, 5007);
	}
	sc__cpu_profile_release(&p);
	sc__cpu_raw_release(&raw);
}

/* Samples tagged with regions count for their region and its ancestors. */
static void test_regions(void)
{
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	maps_from_phdrs(&raw);
	int32_t tags[] = {1, 1, 0, 2, -1, 3};
	for (size_t i = 0; i < sizeof tags / sizeof *tags; i++) {
		uint64_t f = i < 2 || i == 4 ? addr_of(hot_a) : addr_of(hot_b);
		CHECK_INT(sc__cpu_raw_add_sample(&raw, self_pid, self_tid, 0, &f, 1, tags[i], 1),
		          0);
	}
	sc_region_stats regions[4] = {0};
	snprintf(regions[0].name, sizeof regions[0].name, "outer");
	snprintf(regions[1].name, sizeof regions[1].name, "inner");
	snprintf(regions[1].parent, sizeof regions[1].parent, "outer");
	regions[1].depth = 1;
	snprintf(regions[2].name, sizeof regions[2].name, "other");
	snprintf(regions[3].name, sizeof regions[3].name, "inner2");
	snprintf(regions[3].parent, sizeof regions[3].parent, "inner");
	regions[3].depth = 2;
	sc_cpu_profile p;
	CHECK_INT(sc__cpu_profile_build(&raw, &fp_options, &p, regions, 4), 0);
	/* outer: 1 own + inner's 2 + inner2's 1; inner: 2 + 1. */
	CHECK_INT(regions[0].cpu_samples, 4);
	CHECK_NEAR(regions[0].cpu_percent, 400.0 / 6, 1e-9);
	CHECK_STR(regions[0].cpu_top_function, "hot_a"); /* 2 of hot_a against 2 of hot_b: name */
	CHECK_INT(regions[1].cpu_samples, 3);
	CHECK_STR(regions[1].cpu_top_function, "hot_a");
	CHECK_INT(regions[2].cpu_samples, 1);
	CHECK_STR(regions[2].cpu_top_function, "hot_b");
	CHECK_INT(regions[3].cpu_samples, 1);
	CHECK_STR(regions[3].cpu_top_function, "hot_b");
	sc__cpu_profile_release(&p);

	/* No samples at all: available, zeros, empty top functions. */
	sc__cpu_raw empty;
	sc__cpu_raw_init(&empty);
	CHECK_INT(sc__cpu_profile_build(&empty, &fp_options, &p, regions, 4), 0);
	CHECK(p.available);
	CHECK_INT(p.samples, 0);
	CHECK_INT(p.n_hotspots, 0);
	CHECK_INT(p.n_stacks, 0);
	CHECK_INT(regions[0].cpu_samples, 0);
	CHECK_NEAR(regions[0].cpu_percent, 0.0, 0);
	CHECK_STR(regions[0].cpu_top_function, "");
	sc__cpu_profile_release(&p);
	sc__cpu_raw_release(&raw);
}

/*
 * Weights sum wherever samples are counted: a sample of weight 4 counts 4 in self, total, lines,
 * stacks, regions and the total; threads and processes stay distinct counts.
 */
static void test_weights(void)
{
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	maps_from_phdrs(&raw);
	uint64_t fa[3] = {addr_of(hot_a), ra_mid, ra_outer};
	uint64_t fb[3] = {addr_of(hot_b), ra_mid, ra_outer};
	CHECK_INT(sc__cpu_raw_add_sample(&raw, self_pid, self_tid, 0, fa, 3, 1, 4), 0);
	CHECK_INT(sc__cpu_raw_add_sample(&raw, self_pid, self_tid, 0, fb, 3, 0, 1), 0);
	CHECK_INT(sc__cpu_raw_add_sample(&raw, self_pid, self_tid + 1, 0, fa, 3, 2, 1), 0);
	sc_region_stats regions[3] = {0};
	snprintf(regions[0].name, sizeof regions[0].name, "outer");
	snprintf(regions[1].name, sizeof regions[1].name, "inner");
	snprintf(regions[1].parent, sizeof regions[1].parent, "outer");
	regions[1].depth = 1;
	snprintf(regions[2].name, sizeof regions[2].name, "other");
	sc_cpu_profile p;
	CHECK_INT(sc__cpu_profile_build(&raw, &fp_options, &p, regions, 3), 0);
	CHECK_INT(p.samples, 6);
	CHECK_NEAR(p.cpu_s, 0.006, 1e-12);
	CHECK_INT(p.threads, 2);
	CHECK_INT(p.processes, 1);
	CHECK_INT(p.kept_one_in, 1);
	CHECK_STR(p.sampler_note, "");
	const sc_cpu_hotspot *a = hotspot(&p, "hot_a"), *b = hotspot(&p, "hot_b");
	const sc_cpu_hotspot *mid = hotspot(&p, "caller_mid");
	CHECK(a && b && mid);
	if (a && b && mid) {
		CHECK_INT(a->self_samples, 5);
		CHECK_INT(a->total_samples, 5);
		CHECK_NEAR(a->self_percent, 500.0 / 6, 1e-9);
		CHECK_INT(a->n_lines, 1);
		if (a->n_lines) {
			CHECK_INT(a->lines[0].samples, 5);
			CHECK_NEAR(a->lines[0].percent, 500.0 / 6, 1e-9);
		}
		CHECK_INT(b->self_samples, 1);
		CHECK_INT(mid->self_samples, 0);
		CHECK_INT(mid->total_samples, 6);
		CHECK_NEAR(mid->total_percent, 100.0, 1e-9);
	}
	CHECK_INT(p.n_stacks, 2);
	if (p.n_stacks == 2) {
		const char *s0[] = {"caller_outer", "caller_mid", "hot_a"};
		CHECK(stack_is(&p.stacks[0], s0, 3));
		CHECK_INT(p.stacks[0].samples, 5);
		CHECK_INT(p.stacks[1].samples, 1);
	}
	/* outer: its own 1 (hot_b) and inner's 4 (hot_a); other: 1 (hot_a). */
	CHECK_INT(regions[0].cpu_samples, 5);
	CHECK_NEAR(regions[0].cpu_percent, 500.0 / 6, 1e-9);
	CHECK_STR(regions[0].cpu_top_function, "hot_a");
	CHECK_INT(regions[1].cpu_samples, 4);
	CHECK_STR(regions[1].cpu_top_function, "hot_a");
	CHECK_INT(regions[2].cpu_samples, 1);
	CHECK_NEAR(regions[2].cpu_percent, 100.0 / 6, 1e-9);
	sc__cpu_profile_release(&p);
	sc__cpu_raw_release(&raw);

	/* A store that thinned itself: the profile says so, and the total is still exact. */
	sc__cpu_raw_init(&raw);
	raw.max_bytes = 64 * 1024;
	maps_from_phdrs(&raw);
	for (int i = 0; i < 20000; i++)
		CHECK_INT(sc__cpu_raw_add_sample(&raw, self_pid, self_tid, 0, i % 4 == 3 ? fb : fa,
		                                 3, -1, 1),
		          0);
	CHECK(raw.stride > 1);
	CHECK_INT(sc__cpu_profile_build(&raw, &fp_options, &p, NULL, 0), 0);
	CHECK_INT(p.samples, 20000);
	CHECK_INT(p.kept_one_in, raw.stride);
	char note[200];
	snprintf(
	    note, sizeof note,
	    "the collector kept 1 in %u samples past 64 KiB, each weighing the %u it stands for",
	    (unsigned)raw.stride, (unsigned)raw.stride);
	CHECK_STR(p.sampler_note, note);
	a = hotspot(&p, "hot_a");
	CHECK(a != NULL);
	if (a) /* 75% within the bound test_cpu_raw.c justifies (fewer blocks here: 5 points) */
		CHECK_NEAR(a->self_percent, 75.0, 5.0);
	sc_cpu_profile q;
	CHECK_INT(sc__cpu_profile_copy(&q, &p), 0);
	CHECK_INT(q.kept_one_in, raw.stride);
	sc__cpu_profile_release(&q);
	sc__cpu_profile_release(&p);
	CHECK_INT(p.kept_one_in, 1);
	sc__cpu_raw_release(&raw);
}

/* A deep copy equals its source and outlives it. */
static void test_copy_release(void)
{
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	maps_from_phdrs(&raw);
	add_basic_samples(&raw);
	sc_cpu_profile p, q;
	CHECK_INT(sc__cpu_profile_build(&raw, &fp_options, &p, NULL, 0), 0);
	CHECK_INT(sc__cpu_profile_copy(&q, &p), 0);
	sc__cpu_profile_release(&p);
	check_basic(&q);
	sc__cpu_profile_release(&q);
	sc__cpu_profile_release(&q); /* twice is harmless */

	sc__cpu_profile_unavailable(&p, "perf_event_open: %s", "Permission denied");
	CHECK(!p.available);
	CHECK_STR(p.reason, "perf_event_open: Permission denied");
	CHECK_INT(sc__cpu_profile_copy(&q, &p), 0);
	CHECK_STR(q.reason, "perf_event_open: Permission denied");
	sc__cpu_profile_release(&q);
	sc__cpu_raw_release(&raw);
}

/* An address inside inlined code gives the inlined function as a frame of its own. */
static void test_inlined(void)
{
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	maps_from_phdrs(&raw);
	uint64_t frames[2] = {addr_of(hot_a), ra_inlined};
	CHECK_INT(sc__cpu_raw_add_sample(&raw, self_pid, self_tid, 0, frames, 2, -1, 1), 0);
	sc_cpu_profile p;
	CHECK_INT(sc__cpu_profile_build(&raw, &fp_options, &p, NULL, 0), 0);
	CHECK_INT(p.n_stacks, 1);
	if (p.n_stacks == 1) {
		const char *want[] = {"inl_outer", "inl_work", "hot_a"};
		CHECK(stack_is(&p.stacks[0], want, 3));
	}
	const sc_cpu_hotspot *w = hotspot(&p, "inl_work");
	CHECK(w != NULL);
	if (w) {
		CHECK_INT(w->line, LINE_INL_WORK);
		CHECK_STR(w->file, __FILE__);
		CHECK_INT(w->total_samples, 1);
	}
	sc__cpu_profile_release(&p);
	sc__cpu_raw_release(&raw);
}

/* ---- DWARF unwinding ---------------------------------------------------------------------- */

static uint64_t dw_regs[SC__CPU_NREGS];
static unsigned char dw_stack[SC__CPU_STACK_BYTES];
static size_t dw_len;

/* Reads the stack byte by byte past what the compiler knows about: ASan would object to a memcpy
 * over other frames' redzones. */
__attribute__((noinline, no_sanitize_address)) static void copy_stack(uint64_t sp)
{
	pthread_attr_t attr;
	void *lo = NULL;
	size_t size = 0;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstack(&attr, &lo, &size);
		pthread_attr_destroy(&attr);
	}
	uint64_t hi = (uint64_t)(uintptr_t)lo + size;
	dw_len = hi > sp ? hi - sp : 0;
	if (dw_len > sizeof dw_stack)
		dw_len = sizeof dw_stack;
	const volatile unsigned char *from = (const volatile unsigned char *)(uintptr_t)sp;
	for (size_t i = 0; i < dw_len; i++)
		dw_stack[i] = from[i];
}

/* The registers as they are at one instruction of dw_leaf: rip, rsp and rbp together, which is
 * what the CFI needs to find the caller's frame. */
__attribute__((noinline)) static void dw_leaf(void)
{
	uint64_t rip, rsp, rbp;
	__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
	                 : "=r"(rip), "=r"(rsp), "=r"(rbp));
	memset(dw_regs, 0, sizeof dw_regs);
	dw_regs[16] = rip;
	dw_regs[7] = rsp;
	dw_regs[6] = rbp;
	copy_stack(rsp);
	BARRIER();
}

/* Built without a frame pointer: a frame-pointer walk from dw_leaf would skip dw_outer. */
__attribute__((noinline, optimize("omit-frame-pointer"))) static void dw_mid(void)
{
	dw_leaf();
	BARRIER();
}

__attribute__((noinline)) static void dw_outer(void)
{
	dw_mid();
	BARRIER();
}

static void test_dwarf(void)
{
	dw_outer();
	CHECK(dw_len > 64);
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	maps_from_proc(&raw);
	CHECK_INT(sc__cpu_raw_add_sample(&raw, self_pid, self_tid, 0, &dw_regs[16], 1, -1, 1), 0);
	CHECK_INT(sc__cpu_raw_add_user_stack(&raw, dw_regs, dw_stack, dw_len), 0);
	sc__cpu_build_options o = {"perf_event", "dwarf", 997.0, NAN};
	sc_cpu_profile p;
	CHECK_INT(sc__cpu_profile_build(&raw, &o, &p, NULL, 0), 0);
	CHECK_STR(p.call_graph, "dwarf");
	CHECK_INT(p.n_stacks, 1);
	if (p.n_stacks == 1) {
		const sc_cpu_stack *s = &p.stacks[0];
		/* Innermost last: ... test_dwarf, dw_outer, dw_mid, dw_leaf. */
		CHECK(s->n_frames >= 4);
		if (s->n_frames >= 4) {
			size_t n = s->n_frames;
			CHECK_STR(s->frames[n - 1], "dw_leaf");
			CHECK_STR(s->frames[n - 2], "dw_mid");
			CHECK_STR(s->frames[n - 3], "dw_outer");
			CHECK_STR(s->frames[n - 4], "test_dwarf");
		}
	}
	sc__cpu_profile_release(&p);

	/* The same sample with frame pointers only has its IP: dw_leaf alone. */
	CHECK_INT(sc__cpu_profile_build(&raw, &fp_options, &p, NULL, 0), 0);
	CHECK_INT(p.n_stacks, 1);
	if (p.n_stacks == 1)
		CHECK_INT(p.stacks[0].n_frames, 1);
	sc__cpu_profile_release(&p);

	/* A frame-pointer walk over the same stack copy, as the samplers make it: dw_mid keeps no
	 * frame record, so dw_leaf's saved rbp is dw_outer's and the walk never sees dw_outer. */
	uint64_t fp_frames[64] = {dw_regs[16]};
	size_t n_fp = 1;
	uint64_t sp = dw_regs[7], fp = dw_regs[6];
	while (n_fp < 64 && fp >= sp && fp + 16 <= sp + dw_len && (fp & 7) == 0) {
		uint64_t next, ret;
		memcpy(&next, dw_stack + (fp - sp), 8);
		memcpy(&ret, dw_stack + (fp - sp) + 8, 8);
		if (!ret)
			break;
		fp_frames[n_fp++] = ret;
		if (next <= fp)
			break;
		fp = next;
	}
	sc__cpu_raw fp_raw;
	sc__cpu_raw_init(&fp_raw);
	maps_from_proc(&fp_raw);
	CHECK_INT(sc__cpu_raw_add_sample(&fp_raw, self_pid, self_tid, 0, fp_frames, n_fp, -1, 1),
	          0);
	CHECK_INT(sc__cpu_profile_build(&fp_raw, &fp_options, &p, NULL, 0), 0);
	CHECK_INT(p.n_stacks, 1);
	if (p.n_stacks == 1) {
		const sc_cpu_stack *s = &p.stacks[0];
		bool outer = false, test = false;
		for (size_t i = 0; i < s->n_frames; i++) {
			outer = outer || strcmp(s->frames[i], "dw_outer") == 0;
			test = test || strcmp(s->frames[i], "test_dwarf") == 0;
		}
		CHECK(!outer);
		CHECK(test);
		CHECK(s->n_frames >= 3 && strcmp(s->frames[s->n_frames - 2], "dw_mid") == 0);
	}
	sc__cpu_profile_release(&p);
	sc__cpu_raw_release(&fp_raw);
	sc__cpu_raw_release(&raw);
}

/* ---- the frame-pointer chain's missing caller -------------------------------------------- */

/* A fp sample at ip with the kernel's chain [ip, rest...] and a stack copy of len bytes holding
 * words[] from rsp upwards. */
static void add_fp_stack_sample(sc__cpu_raw *raw, uint64_t ip, const uint64_t *rest, size_t n_rest,
                                const uint64_t *words, size_t len)
{
	uint64_t frames[8] = {ip};
	for (size_t i = 0; i < n_rest && i + 1 < 8; i++)
		frames[i + 1] = rest[i];
	CHECK_INT(sc__cpu_raw_add_sample(raw, self_pid, self_tid, 0, frames, 1 + n_rest, -1, 1), 0);
	uint64_t regs[SC__CPU_NREGS] = {0};
	regs[6] = 0x7ffd00001000; /* rbp: the caller's frame, never read by the builder */
	regs[7] = 0x7ffd00000f00; /* rsp */
	regs[16] = ip;
	CHECK_INT(sc__cpu_raw_add_user_stack(raw, regs, words, len), 0);
}

/* The one stack of a profile built from raw with options o is names[0..n). */
static void check_one_stack(const sc__cpu_raw *raw, const sc__cpu_build_options *o,
                            const char *const *names, size_t n, int line)
{
	sc_cpu_profile p;
	CHECK_INT(sc__cpu_profile_build(raw, o, &p, NULL, 0), 0);
	CHECK_INT(p.n_stacks, 1);
	if (p.n_stacks == 1 && !stack_is(&p.stacks[0], names, n)) {
		fprintf(stderr, "line %d: stack", line);
		for (size_t i = 0; i < p.stacks[0].n_frames; i++)
			fprintf(stderr, " %s", p.stacks[0].frames[i]);
		fprintf(stderr, "\n");
		CHECK(0);
	}
	sc__cpu_profile_release(&p);
}

static void test_leaf_caller(void)
{
	leaf_caller();
	CHECK(frameless_ra != 0);
	CHECK(framed_ra != 0);
	const uint64_t here = (uint64_t)(uintptr_t)frameless_here;
	const uint64_t entry = (uint64_t)(uintptr_t)frameless_leaf;
	const uint64_t framed = (uint64_t)(uintptr_t)framed_here;
	const char *fixed[] = {"caller_outer", "leaf_caller", "frameless_leaf"};
	const char *as_is[] = {"caller_outer", "frameless_leaf"};
	for (int way = 0; way < 2; way++) {
		/* After the push: the slot is rsp + 8 (the CFA, rsp + 16, less 8). The kernel's
		 * chain goes on from the caller's caller (here caller_outer, for the test). */
		sc__cpu_raw raw;
		sc__cpu_raw_init(&raw);
		if (way == 0)
			maps_from_phdrs(&raw);
		else
			maps_from_proc(&raw);
		const uint64_t words[2] = {0x1111, frameless_ra};
		add_fp_stack_sample(&raw, here, &ra_outer, 1, words, sizeof words);
		check_one_stack(&raw, &fp_options, fixed, 3, __LINE__);
		sc__cpu_raw_release(&raw);
	}
	sc__cpu_raw raw;
	/* At the first instruction, before any push: the slot is rsp + 0. */
	sc__cpu_raw_init(&raw);
	maps_from_phdrs(&raw);
	const uint64_t at_entry[2] = {frameless_ra, 0x2222};
	add_fp_stack_sample(&raw, entry, &ra_outer, 1, at_entry, sizeof at_entry);
	check_one_stack(&raw, &fp_options, fixed, 3, __LINE__);
	sc__cpu_raw_release(&raw);
	/* A chain of the IP alone gets its caller too. */
	sc__cpu_raw_init(&raw);
	maps_from_phdrs(&raw);
	const uint64_t words[2] = {0x1111, frameless_ra};
	add_fp_stack_sample(&raw, here, NULL, 0, words, sizeof words);
	const char *two[] = {"leaf_caller", "frameless_leaf"};
	check_one_stack(&raw, &fp_options, two, 2, __LINE__);
	sc__cpu_raw_release(&raw);
	/* The caller already second in the chain stays once. */
	sc__cpu_raw_init(&raw);
	maps_from_phdrs(&raw);
	const uint64_t rest[2] = {frameless_ra, ra_outer};
	add_fp_stack_sample(&raw, here, rest, 2, words, sizeof words);
	check_one_stack(&raw, &fp_options, fixed, 3, __LINE__);
	sc__cpu_raw_release(&raw);
	/* The slot past the end of the copy: nothing to read, nothing changes. */
	sc__cpu_raw_init(&raw);
	maps_from_phdrs(&raw);
	add_fp_stack_sample(&raw, here, &ra_outer, 1, words, 12);
	check_one_stack(&raw, &fp_options, as_is, 2, __LINE__);
	sc__cpu_raw_release(&raw);
	/* A function with its frame pointer set up: its chain is right as it is, whatever the
	 * stack copy holds. */
	sc__cpu_raw_init(&raw);
	maps_from_phdrs(&raw);
	const uint64_t framed_words[2] = {0x7ffd00001000, framed_ra};
	add_fp_stack_sample(&raw, framed, &ra_outer, 1, framed_words, sizeof framed_words);
	const char *framed_stack[] = {"caller_outer", "framed_leaf"};
	check_one_stack(&raw, &fp_options, framed_stack, 2, __LINE__);
	sc__cpu_raw_release(&raw);
	/* Without a stack copy (the timer and in-process samplers): as recorded. */
	sc__cpu_raw_init(&raw);
	maps_from_phdrs(&raw);
	const uint64_t plain[2] = {here, ra_outer};
	CHECK_INT(sc__cpu_raw_add_sample(&raw, self_pid, self_tid, 0, plain, 2, -1, 1), 0);
	check_one_stack(&raw, &fp_options, as_is, 2, __LINE__);
	sc__cpu_raw_release(&raw);
	/* An address no mapping holds: "[unknown]", no CFI to ask, no crash. */
	sc__cpu_raw_init(&raw);
	add_fp_stack_sample(&raw, 0x10, NULL, 0, words, sizeof words);
	const char *unknown[] = {"[unknown]"};
	check_one_stack(&raw, &fp_options, unknown, 1, __LINE__);
	sc__cpu_raw_release(&raw);
	/* A chain already at the cap keeps the leaf and its caller, dropping the outermost. */
	sc__cpu_raw_init(&raw);
	maps_from_phdrs(&raw);
	uint64_t *deep = malloc(SC__CPU_MAX_FRAMES * sizeof *deep);
	deep[0] = here;
	for (size_t i = 1; i < SC__CPU_MAX_FRAMES; i++)
		deep[i] = i + 1 < SC__CPU_MAX_FRAMES ? ra_mid : ra_outer;
	CHECK_INT(
	    sc__cpu_raw_add_sample(&raw, self_pid, self_tid, 0, deep, SC__CPU_MAX_FRAMES, -1, 1),
	    0);
	uint64_t regs[SC__CPU_NREGS] = {0};
	regs[7] = 0x7ffd00000f00;
	regs[16] = here;
	CHECK_INT(sc__cpu_raw_add_user_stack(&raw, regs, words, sizeof words), 0);
	sc_cpu_profile p;
	CHECK_INT(sc__cpu_profile_build(&raw, &fp_options, &p, NULL, 0), 0);
	CHECK_INT(p.n_stacks, 1);
	if (p.n_stacks == 1) {
		const sc_cpu_stack *st = &p.stacks[0];
		CHECK_INT(st->n_frames, SC__CPU_MAX_FRAMES);
		CHECK_STR(st->frames[st->n_frames - 1], "frameless_leaf");
		CHECK_STR(st->frames[st->n_frames - 2], "leaf_caller");
		CHECK_STR(st->frames[0], "caller_mid");
	}
	sc__cpu_profile_release(&p);
	free(deep);
	sc__cpu_raw_release(&raw);
}

/* ---- processes: forks share, execs forget ------------------------------------------------- */

static void test_fork_exec(void)
{
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	const uint64_t base = 0x10000000;
	/* Parent 100 maps libA at 10; child 101 forks at 20 (sharing libA), execs at 30 and maps
	 * libB over the same addresses at 31. */
	CHECK_INT(sc__cpu_raw_add_mapping(&raw, 100, 10, base, base + 0x1000, 0, true, base,
	                                  "/nonexistent/libA.so"),
	          0);
	CHECK_INT(sc__cpu_raw_add_process(&raw, 101, 100, 20), 0);
	CHECK_INT(sc__cpu_raw_add_process(&raw, 101, 0, 30), 0);
	CHECK_INT(sc__cpu_raw_add_mapping(&raw, 101, 31, base, base + 0x1000, 0, true, base,
	                                  "/nonexistent/libB.so"),
	          0);
	/* A mapping the parent makes after the fork is not the child's. */
	CHECK_INT(sc__cpu_raw_add_mapping(&raw, 100, 25, base + 0x1000, base + 0x2000, 0, true,
	                                  base + 0x1000, "/nonexistent/libC.so"),
	          0);
	sc__cpu_maps *m;
	CHECK_INT(sc__cpu_maps_new(&raw, &m), 0);
	CHECK_INT(sc__cpu_maps_find(m, 100, 5, base + 1), -1); /* before it was mapped */
	CHECK_INT(sc__cpu_maps_find(m, 100, 15, base + 1), 0); /* the parent's own */
	CHECK_INT(sc__cpu_maps_find(m, 101, 22, base + 1), 0); /* the child, through the fork */
	CHECK_INT(sc__cpu_maps_find(m, 101, 29, base + 0x1001), -1); /* libC came after the fork */
	CHECK_INT(sc__cpu_maps_find(m, 100, 29, base + 0x1001), 2);
	CHECK_INT(sc__cpu_maps_find(m, 101, 30, base + 1), -1); /* exec'd: libA is gone */
	CHECK_INT(sc__cpu_maps_find(m, 101, 40, base + 1), 1);  /* libB */
	CHECK_INT(sc__cpu_maps_find(m, 101, 40, base + 0x1000), -1);
	size_t vis[8];
	CHECK_INT(sc__cpu_maps_visible(m, 101, 22, vis, 8), 1);
	CHECK_INT(sc__cpu_maps_visible(m, 100, 40, vis, 8), 2);
	sc__cpu_maps_free(m);
	sc__cpu_raw_release(&raw);
}

/* ---- how fast: 100,000 samples of 30 frames ------------------------------------------------ */

static double cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void test_speed(void)
{
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	maps_from_phdrs(&raw);
	/* 400 distinct addresses in this binary's code, combined into many distinct stacks. */
	uint64_t pool[400];
	uint64_t fns[] = {addr_of(hot_a),
	                  addr_of(hot_b),
	                  addr_of(inl_outer),
	                  ra_mid,
	                  ra_outer,
	                  ra_inlined,
	                  (uint64_t)(uintptr_t)test_regions,
	                  (uint64_t)(uintptr_t)test_recursion};
	for (size_t i = 0; i < 400; i++)
		pool[i] = fns[i % 8] + i / 8;
	uint64_t x = 88172645463325252ull;
	for (int s = 0; s < 100000; s++) {
		uint64_t frames[30];
		for (int k = 0; k < 30; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			frames[k] = pool[k < 25 ? (uint64_t)(k * 13) % 400 : x % 400];
		}
		CHECK_INT(sc__cpu_raw_add_sample(&raw, self_pid, self_tid, 0, frames, 30, -1, 1),
		          0);
	}
	/* The same mappings with one sample per distinct address: opening the modules and
	 * symbolizing, which the full build pays once too. CPU time, as the machine may be busy. */
	sc__cpu_raw once;
	sc__cpu_raw_init(&once);
	maps_from_phdrs(&once);
	for (size_t i = 0; i < 400; i++)
		CHECK_INT(sc__cpu_raw_add_sample(&once, self_pid, self_tid, 0, &pool[i], 1, -1, 1),
		          0);
	sc_cpu_profile p;
	double t0 = cpu_ms();
	CHECK_INT(sc__cpu_profile_build(&once, &fp_options, &p, NULL, 0), 0);
	double t1 = cpu_ms();
	sc__cpu_profile_release(&p);
	sc__cpu_raw_release(&once);
	CHECK_INT(sc__cpu_profile_build(&raw, &fp_options, &p, NULL, 0), 0);
	double t2 = cpu_ms();
	printf("build: opening modules and symbolizing 400 addresses %.1f ms CPU; 100000 samples x "
	       "30 frames (%zu stacks kept, %zu hotspots) %.1f ms CPU\n",
	       t1 - t0, p.n_stacks, p.n_hotspots, t2 - t1);
	CHECK_INT(p.samples, 100000);
	sc__cpu_profile_release(&p);

	/* The same samples with the perf sampler's 128-byte stack copy, their leaf in
	 * frameless_leaf: the fix-up's CFI lookup is made once per leaf location, so what it adds
	 * per sample is a read of the copy and one more frame. */
	sc__cpu_raw with_stack;
	sc__cpu_raw_init(&with_stack);
	maps_from_phdrs(&with_stack);
	uint64_t words[16], regs[SC__CPU_NREGS] = {0};
	for (size_t i = 0; i < 16; i++)
		words[i] = ra_mid;
	regs[7] = 0x7ffd00000f00;
	regs[16] = (uint64_t)(uintptr_t)frameless_here;
	for (size_t i = 0; i < raw.n_samples; i++) {
		const sc__cpu_sample *smp = &raw.samples[i];
		uint64_t frames[30];
		memcpy(frames, raw.frames + smp->first_frame, sizeof frames);
		frames[0] = regs[16];
		CHECK_INT(
		    sc__cpu_raw_add_sample(&with_stack, smp->pid, smp->tid, 0, frames, 30, -1, 1),
		    0);
		CHECK_INT(sc__cpu_raw_add_user_stack(&with_stack, regs, words, sizeof words), 0);
	}
	double t3 = cpu_ms();
	CHECK_INT(sc__cpu_profile_build(&with_stack, &fp_options, &p, NULL, 0), 0);
	double t4 = cpu_ms();
	printf("build: the same 100000 samples with a 128-byte stack copy each (leaf caller "
	       "fix-up) %.1f ms CPU\n",
	       t4 - t3);
	CHECK_INT(p.samples, 100000);
	/* The fix-up ran: every sample has caller_mid (ra_mid, from the copy) above its leaf. */
	const sc_cpu_hotspot *mid = hotspot(&p, "caller_mid");
	CHECK(mid != NULL);
	if (mid)
		CHECK_INT(mid->total_samples, 100000);
	sc__cpu_profile_release(&p);
	sc__cpu_raw_release(&with_stack);
	sc__cpu_raw_release(&raw);
}

int main(void)
{
	self_pid = (uint32_t)getpid();
	self_tid = (uint32_t)gettid();
	ssize_t n = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
	CHECK(n > 0);
	exe_path[n > 0 ? n : 0] = '\0';
	caller_outer();
	CHECK_INT(inl_outer(1), 4);
	CHECK_INT(hot_a(1) + hot_b(1), 11);

	test_basic_both_mappings();
	test_recursion();
	test_unknown_and_cap();
	test_regions();
	test_weights();
	test_copy_release();
	test_inlined();
	test_dwarf();
	test_leaf_caller();
	test_fork_exec();
	test_speed();
	return CHECK_DONE();
}

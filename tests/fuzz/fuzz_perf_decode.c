/* fuzz_perf_decode.c: libFuzzer harness feeding arbitrary bytes to the perf_event record decoder
 * under each record layout it may meet, then checking the raw store it filled. */
#include "cpu_samples.h"
#include "internal.h"

#include <linux/perf_event.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A violated promise of the decoder is a crash, which libFuzzer reports with the input. */
#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

#define BASE       (PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CALLCHAIN)
#define DWARF_MASK ((uint64_t)0x1ff | ((uint64_t)0xff << 16))

/* The input's first byte picks one: the sampler's two layouts, then layouts it never opens
 * but the decoder still walks (more fields, fields it cannot see past, no sample_id). */
static const sc__perf_layout layouts[] = {
    {BASE, 0, true},
    {BASE | PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER, DWARF_MASK, true},
    {PERF_SAMPLE_IP | PERF_SAMPLE_TID, 0, false},
    {BASE | PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_ADDR | PERF_SAMPLE_ID | PERF_SAMPLE_CPU |
         PERF_SAMPLE_PERIOD | PERF_SAMPLE_STREAM_ID | PERF_SAMPLE_RAW | PERF_SAMPLE_REGS_USER |
         PERF_SAMPLE_STACK_USER,
     0x3, true},
    {BASE | PERF_SAMPLE_READ | PERF_SAMPLE_BRANCH_STACK | PERF_SAMPLE_REGS_USER, ~(uint64_t)0,
     true},
};

static void check_raw(const sc__cpu_raw *r)
{
	REQUIRE(r->n_samples <= r->cap_samples && r->n_frames <= r->cap_frames);
	REQUIRE(r->n_user <= r->n_samples && r->n_stack_bytes <= r->cap_stack_bytes);
	for (size_t i = 0; i < r->n_samples; i++) {
		const sc__cpu_sample *s = &r->samples[i];
		REQUIRE(s->n_frames <= SC__CPU_MAX_FRAMES);
		REQUIRE(s->first_frame + s->n_frames <= r->n_frames);
		REQUIRE(s->region == -1);
		if (s->user_index != SIZE_MAX) {
			REQUIRE(s->user_index < r->n_user);
			const sc__cpu_user_stack *u = &r->user[s->user_index];
			REQUIRE(u->stack_off + u->stack_len <= r->n_stack_bytes);
		}
	}
	for (size_t i = 0; i < r->n_maps; i++) {
		REQUIRE(r->maps[i].path != NULL);
		REQUIRE(r->maps[i].end >= r->maps[i].start);
		REQUIRE(!r->maps[i].bias_known);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const sc__perf_layout *layout = &layouts[data[0] % (sizeof layouts / sizeof layouts[0])];
	/* The records start 8 bytes in, so that they are aligned as in a ring buffer copy, but the
	 * decoder must not depend on it: an odd selector byte shifts them by one. */
	size_t skip = data[0] & 0x80 ? 1 : 8;
	if (size < skip)
		return 0;
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	int rc = sc__perf_decode(data + skip, size - skip, layout, &raw);
	REQUIRE(rc == 0 || rc == SC_EPARSE || rc == SC_ENOMEM);
	check_raw(&raw);
	/* Decoding more appends: what came before is kept as it was. */
	size_t before = raw.n_samples, maps = raw.n_maps;
	rc = sc__perf_decode(data + skip, size - skip, layout, &raw);
	REQUIRE(rc == 0 || rc == SC_EPARSE || rc == SC_ENOMEM);
	REQUIRE(raw.n_samples >= before && raw.n_maps >= maps);
	check_raw(&raw);
	sc__cpu_raw_release(&raw);
	return 0;
}

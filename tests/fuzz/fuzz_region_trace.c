/* fuzz_region_trace.c: libFuzzer harness feeding arbitrary bytes to the region trace's reader and
 * matcher (the profiled program writes the trace), then checking the regions it gave the samples.
 */
#include "cpu_samples.h"
#include "internal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A violated promise of the matcher is a crash, which libFuzzer reports with the input. */
#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

static sc_region_stats region(const char *name, const char *parent, int depth)
{
	sc_region_stats r = {.depth = depth, .cpu_samples = -1};
	strcpy(r.name, name);
	strcpy(r.parent, parent);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sc_region_stats regs[3] = {region("a", "", 0), region("b", "a", 1), region("c", "", 0)};
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	/* Samples on the threads and at the times a small input names: tids 1..4, times 0..63. */
	for (uint32_t i = 0; i < 32; i++) {
		uint64_t ip = 0x1000;
		if (sc__cpu_raw_add_sample(&raw, 1, 1 + i % 4, i * 2, &ip, 1, -1, 1) != 0)
			abort();
	}
	sc__region_trace_stats st;
	int rc = sc__region_trace_apply(data, size, &raw, regs, 3, &st);
	REQUIRE(rc == 0 || rc == SC_EPARSE || rc == SC_ENOMEM);
	uint64_t given = 0;
	for (size_t i = 0; i < raw.n_samples; i++) {
		REQUIRE(raw.samples[i].region >= -1 && raw.samples[i].region < 3);
		given += raw.samples[i].region >= 0;
	}
	REQUIRE(rc != 0 || given == st.attributed);
	REQUIRE(rc != 0 || st.attributed + st.after_full <= raw.n_samples);
	REQUIRE(strlen(st.unmatched_name) < sizeof st.unmatched_name);
	sc__cpu_raw_release(&raw);
	return 0;
}

/* fuzz_heap_decode.c: libFuzzer harness feeding arbitrary bytes to the heap record decoder, split
 * in pieces, and to the counters reader, then checking the profile and the CPU samples it makes. */
#include "internal.h"

#include "cpu_samples.h"
#include "heap_wire.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A violated promise of the decoder is a crash, which libFuzzer reports with the input. */
#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

/* A counters file whose first bytes are the input: the header, then the process slots, where
 * the interesting fields are. Static: 4 MiB. */
static struct heap_counters counters;

/* Checks what a profile promises, whatever the input. */
static void check_profile(const sc_heap_profile *h)
{
	if (!h->available) {
		REQUIRE(h->reason[0] != '\0' && h->n_sites == 0);
		return;
	}
	REQUIRE(strlen(h->reason) < sizeof h->reason);
	REQUIRE(h->complete || h->incomplete_reason[0] != '\0');
	REQUIRE(h->allocations >= 0 && h->frees >= 0 && h->leaked_blocks >= 0);
	REQUIRE(h->lost_blocks >= -1 && h->reachable_blocks >= -1);
	REQUIRE(h->sites_mode && h->live_basis);
	for (size_t i = 0; i < h->n_sites; i++) {
		const sc_heap_site *s = &h->sites[i];
		REQUIRE(s->n_frames <= HEAP_MAX_FRAMES);
		REQUIRE(s->allocations >= 0 && s->bytes >= 0 && s->bytes_error >= 0);
		REQUIRE(!isnan(s->bytes) && !isnan(s->allocations));
		/* Largest bytes first. */
		REQUIRE(i == 0 || h->sites[i - 1].bytes >= s->bytes);
		for (size_t j = 0; j < s->n_frames; j++)
			REQUIRE(!s->frames[j].module ||
			        strlen(s->frames[j].module) < HEAP_BATCH_MAX);
	}
}

static void profile_of(const sc__heap_agg *a, uint32_t pid)
{
	sc_heap_profile h;
	if (sc__heap_agg_result(a, pid, &h) == 0) {
		check_profile(&h);
		sc__heap_profile_release(&h);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sc__heap_agg *a = NULL;
	if (sc__heap_agg_new(&a) != 0)
		return 0;
	/* The stream, whole and then again in pieces whose sizes come from the input, so that
	 * every split of a batch is reached; both must agree on success. */
	char err[200];
	int whole = sc__heap_agg_feed(a, data, size, err, sizeof err);
	REQUIRE(whole == 0 || whole == SC_EPARSE);
	if (whole)
		REQUIRE(strlen(err) > 0 && strlen(err) < sizeof err);

	sc__heap_agg *b = NULL;
	if (sc__heap_agg_new(&b) == 0) {
		int pieces = 0;
		size_t step = size ? 1 + data[0] % 23 : 1;
		for (size_t at = 0; at < size && !pieces; at += step)
			pieces = sc__heap_agg_feed(b, data + at,
			                           size - at < step ? size - at : step, NULL, 0);
		REQUIRE(pieces == whole);
		sc__heap_agg_free(b);
	}

	/* The counters: too short is refused; a full-size copy with the input over its start is
	 * read, once as it is and once with a valid header, so the slots' garbage reaches the
	 * result. */
	/* Only what the previous input wrote is cleared: 4 MiB per input would dominate the run. */
	static size_t dirty = sizeof counters;
	memset(&counters, 0, dirty);
	size_t n = size < sizeof counters ? size : sizeof counters;
	memcpy(&counters, data, n);
	size_t slot0_end = offsetof(struct heap_counters, processes) + sizeof counters.processes[0];
	dirty = n > slot0_end ? n : slot0_end;
	/* The input's next_thread would have every run sum up to 4 MiB of empty slots; the
	 * clamp to HEAP_MAX_THREADS is one line, and a few slots reach the summing code. */
	counters.next_thread %= 8;
	REQUIRE(sc__heap_agg_counters(a, &counters, size < sizeof counters ? size : 0, NULL, 0) ==
	        SC_EPARSE);
	(void)sc__heap_agg_counters(a, &counters, sizeof counters, err, sizeof err);
	counters.magic = HEAP_COUNTERS_MAGIC;
	counters.version = HEAP_VERSION;
	REQUIRE(sc__heap_agg_counters(a, &counters, sizeof counters, err, sizeof err) == 0);
	/* Also as the counters of the first pid the stream names, with a slot in every state. */
	uint32_t pid = 0;
	if (size >= 8)
		memcpy(&pid, data + 4, sizeof pid);
	for (uint32_t state = 0; state <= 4; state++) {
		counters.processes[0].pid = pid;
		counters.processes[0].state = state;
		counters.next_process = counters.next_process ? counters.next_process : 1;
		REQUIRE(sc__heap_agg_counters(a, &counters, sizeof counters, NULL, 0) == 0);
		profile_of(a, pid);
	}
	profile_of(a, counters.processes[1].pid);

	/* The CPU samples the stream carried, as the collector takes them: every frame count and
	 * mapping range must be what the store promises, and the status one line or nothing. */
	char why[200];
	int status = sc__heap_agg_cpu_status(a, pid, why, sizeof why);
	REQUIRE(status == 0 || (status == SC_EUNAVAILABLE && strlen(why) < sizeof why));
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	if (sc__heap_agg_take_cpu(a, &raw) == 0) {
		for (size_t i = 0; i < raw.n_samples; i++)
			REQUIRE(raw.samples[i].first_frame + raw.samples[i].n_frames <=
			            raw.n_frames &&
			        raw.samples[i].n_frames <= SC__CPU_MAX_FRAMES);
		for (size_t i = 0; i < raw.n_maps; i++)
			REQUIRE(raw.maps[i].path != NULL);
	}
	sc__cpu_raw_release(&raw);
	sc__heap_agg_free(a);
	return 0;
}

/* fuzz_procfs.c: libFuzzer harness feeding arbitrary text to every /proc parser of procfs.c. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A violated promise of a parser is a crash, which libFuzzer reports with the input. */
#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

/* Every field of a key-value file is a count or -1 (absent). */
static void require_counts(const int64_t *values, size_t n)
{
	for (size_t i = 0; i < n; i++)
		REQUIRE(values[i] >= -1);
}

static void check_status(const char *text)
{
	sc__proc_status st;
	if (sc__parse_proc_status(text, &st) == 0) {
		const int64_t v[] = {st.vm_peak_kb,
		                     st.vm_size_kb,
		                     st.vm_hwm_kb,
		                     st.vm_rss_kb,
		                     st.rss_anon_kb,
		                     st.rss_file_kb,
		                     st.rss_shmem_kb,
		                     st.threads,
		                     st.voluntary_ctxt_switches,
		                     st.nonvoluntary_ctxt_switches};
		require_counts(v, sizeof v / sizeof v[0]);
	}
}

static void check_io(const char *text)
{
	sc__proc_io io;
	if (sc__parse_proc_io(text, &io) == 0) {
		const int64_t v[] = {io.rchar,
		                     io.wchar,
		                     io.syscr,
		                     io.syscw,
		                     io.read_bytes,
		                     io.write_bytes,
		                     io.cancelled_write_bytes};
		require_counts(v, sizeof v / sizeof v[0]);
	}
}

static void check_meminfo(const char *text)
{
	sc__meminfo mi;
	if (sc__parse_meminfo(text, &mi) == 0)
		REQUIRE(mi.mem_total_kb >= 0 && mi.mem_available_kb >= -1);
}

static void check_cpuinfo(const char *text)
{
	/* A roomy buffer and a tiny one, to exercise truncation. */
	char model[128], tiny[4];
	if (sc__parse_cpuinfo_model(text, model, sizeof model) == 0)
		REQUIRE(strlen(model) < sizeof model);
	if (sc__parse_cpuinfo_model(text, tiny, sizeof tiny) == 0)
		REQUIRE(strlen(tiny) < sizeof tiny);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The parsers take NUL-terminated text; an exactly sized copy lets ASan catch any read past
	 * the terminator. Every parser sees every input, so the fixtures serve as seeds as they
	 * are. */
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	sc__proc_stat st;
	if (sc__parse_proc_stat(text, &st) == 0) {
		REQUIRE(st.pid > 0 && st.ppid >= 0 && st.pgrp >= 0);
		REQUIRE(strlen(st.comm) < sizeof st.comm);
		REQUIRE(st.num_threads >= 0 && st.rss >= 0);
	}
	sc__proc_statm sm;
	(void)sc__parse_proc_statm(text, &sm);
	check_status(text);
	check_io(text);
	check_meminfo(text);
	sc__loadavg la;
	if (sc__parse_loadavg(text, &la) == 0)
		REQUIRE(la.load[0] >= 0 && la.load[1] >= 0 && la.load[2] >= 0 && la.total >= 0);
	check_cpuinfo(text);

	free(text);
	return 0;
}

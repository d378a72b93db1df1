/* fuzz_report_read.c: libFuzzer harness feeding arbitrary bytes to the JSON report reader, then
 * checking and comparing whatever it accepts. */
#include "internal.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sc_report *r = NULL;
	char err[512];
	int rc =
	    sc__report_read_json_text((const char *)data, size, "fuzz.json", &r, err, sizeof err);
	if (rc != 0) {
		/* A refusal is one line naming the file. */
		if (rc == SC_EPARSE && (strncmp(err, "fuzz.json: ", 11) != 0 || strchr(err, '\n')))
			__builtin_trap();
		return 0;
	}
	/* What was read must survive the judges that use it: requirements and a baseline. */
	sc_requirements req;
	if (sc_requirements_parse("latency_ms<=1,throughput>=1,latency_p99_ms<=1,peak_memory_mb<=1,"
	                          "allocations_per_sample<=1,leaked_bytes<=1,cpu_utilization<=1",
	                          &req, NULL, NULL, 0) == 0)
		sc_report_check_requirements(r, &req);
	sc_report_compare_baseline(r, r, 0.05);
	sc_report_free(r);
	return 0;
}

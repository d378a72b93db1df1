/* fuzz_requirements.c: libFuzzer harness feeding arbitrary text to sc_requirements_parse. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	sc_requirements req;
	size_t pos = 0;
	char err[256];
	int rc = sc_requirements_parse(text, &req, &pos, err, sizeof err);
	if (rc == 0) {
		/* Every parsed limit is finite and not negative, every op one of the four. */
		REQUIRE(req.n >= 1 && req.n <= SC_MAX_REQUIREMENTS);
		for (size_t i = 0; i < req.n; i++) {
			REQUIRE(isfinite(req.items[i].limit) && req.items[i].limit >= 0);
			REQUIRE(req.items[i].op[0] == '<' || req.items[i].op[0] == '>');
		}
	} else {
		/* An error names a position inside the text and says something. */
		REQUIRE(rc == SC_EPARSE);
		REQUIRE(pos <= strlen(text));
		REQUIRE(strncmp(err, "position ", 9) == 0);
	}
	free(text);
	return 0;
}

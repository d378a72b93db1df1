/* churn.c: `churn SAMPLES ALLOCS` makes SAMPLES predictions, each allocating and immediately
 * freeing ALLOCS small blocks (a temporary per feature, say): allocation churn by construction,
 * ALLOCS allocations per sample (give shotclock -n SAMPLES), nearly all of them temporary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where the blocks' contents go, so the compiler keeps every allocation. */
static volatile unsigned sink;

int main(int argc, char **argv)
{
	long samples = argc == 3 ? atol(argv[1]) : -1;
	long allocs = argc == 3 ? atol(argv[2]) : -1;
	if (samples < 0 || allocs < 0) {
		fputs("usage: churn SAMPLES ALLOCS\n", stderr);
		return 2;
	}
	for (long s = 0; s < samples; s++) {
		for (long a = 0; a < allocs; a++) {
			char *p = malloc(32 + (size_t)(a % 8) * 16);
			if (!p)
				return 1;
			memset(p, (int)a, 32);
			sink += (unsigned char)p[a % 32];
			free(p);
		}
	}
	return 0;
}

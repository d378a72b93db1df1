/* fragmenting.c: `fragmenting MB` allocates MB MiB in 256-byte blocks, frees every other one and
 * keeps the rest until exit: the freed halves sit between live blocks, so the allocator can give
 * nothing back and holds about twice the memory in use (heap fragmentation by construction). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SMALL 256

int main(int argc, char **argv)
{
	long mb = argc == 2 ? atol(argv[1]) : -1;
	if (mb <= 0) {
		fputs("usage: fragmenting MB\n", stderr);
		return 2;
	}
	long n = mb * (1024 * 1024 / SMALL);
	char **blocks = malloc((size_t)n * sizeof *blocks);
	if (!blocks)
		return 1;
	for (long i = 0; i < n; i++) {
		blocks[i] = malloc(SMALL);
		if (!blocks[i])
			return 1;
		memset(blocks[i], (int)i, SMALL);
	}
	for (long i = 0; i < n; i += 2) {
		free(blocks[i]);
		blocks[i] = NULL;
	}
	/* The kept half stays live (reachable through blocks) until the process exits. */
	unsigned sum = 0;
	for (long i = 1; i < n; i += 2)
		sum += (unsigned char)blocks[i][0];
	return sum == 1 ? 1 : 0;
}

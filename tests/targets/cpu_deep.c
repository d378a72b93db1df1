/* cpu_deep.c: `cpu_deep [DEPTH]` recurses DEPTH frames deep (default 10000) and burns CPU at the
 * bottom. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * A stack far deeper than any sampler keeps: the frame-pointer walk (in the kernel or in the heap
 * shim's signal handler) must stop at its limit without running off the stack, and the profile
 * must still name the leaf (deep_bottom) exactly. The recursion does work after each call so the
 * compiler cannot turn it into a loop; the work is counted in iterations.
 */

#define ITERATIONS 60000000UL

static volatile unsigned long sink;

__attribute__((noinline)) static void deep_bottom(void)
{
	for (unsigned long i = 0; i < ITERATIONS; i++)
		sink += i;
}

__attribute__((noinline)) static unsigned long deep_recurse(long depth)
{
	if (depth <= 1) {
		deep_bottom();
		return 1;
	}
	unsigned long below = deep_recurse(depth - 1);
	/* Work after the call keeps this frame on the stack (no tail call). */
	sink += below;
	return below + 1;
}

int main(int argc, char **argv)
{
	long depth = 10000;
	if (argc == 2) {
		char *end;
		errno = 0;
		depth = strtol(argv[1], &end, 10);
		if (errno || end == argv[1] || *end)
			depth = -1;
	}
	if (argc > 2 || depth < 1 || depth > 100000) {
		fputs("usage: cpu_deep [DEPTH] (1..100000)\n", stderr);
		return 2;
	}
	printf("cpu_deep: %lu frames\n", deep_recurse(depth));
	return 0;
}

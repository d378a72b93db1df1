/* cpu_longjmp.c: `cpu_longjmp [JUMPS]` burns CPU three calls deep and longjmps out, JUMPS times
 * (default 2000). */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * A program that leaves functions without returning: the frames a sampler may be walking vanish
 * between two samples, and a sample can land while the stack is being unwound by longjmp. The
 * profile must stay valid (the leaf is lj_inner) and the program's result unchanged.
 */

#define ITERATIONS 50000UL

static jmp_buf back;
static volatile unsigned long sink;

__attribute__((noinline)) static void lj_inner(long jump)
{
	for (unsigned long i = 0; i < ITERATIONS; i++)
		sink += i;
	longjmp(back, (int)(jump % 7) + 1);
}

__attribute__((noinline)) static void lj_middle(long jump)
{
	lj_inner(jump);
	sink += 1; /* never reached; keeps the call from being a tail call */
}

__attribute__((noinline)) static void lj_outer(long jump)
{
	lj_middle(jump);
	sink += 1;
}

/* The count to reach; static, so longjmp cannot clobber it in a register. */
static long jumps = 2000;

int main(int argc, char **argv)
{
	if (argc == 2) {
		char *end;
		errno = 0;
		jumps = strtol(argv[1], &end, 10);
		if (errno || end == argv[1] || *end)
			jumps = -1;
	}
	if (argc > 2 || jumps < 0) {
		fputs("usage: cpu_longjmp [JUMPS]\n", stderr);
		return 2;
	}
	/* volatile: modified between setjmp and longjmp, so it must not live in a register. */
	volatile long done = 0;
	volatile long total = 0;
	while (done < jumps) {
		int v = setjmp(back);
		if (v == 0) {
			lj_outer(done);
		} else {
			total += v;
			done++;
		}
	}
	printf("cpu_longjmp: %ld jumps, total %ld\n", (long)done, (long)total);
	return 0;
}

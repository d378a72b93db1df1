/* heap_counts.c: a fixed sequence of allocation calls whose totals valgrind states exactly. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * valgrind --run-libc-freeres=no reports "9 allocs, 9 frees, 466 bytes allocated" for this
 * program: a moving realloc is one allocation and one free (valgrind moves every realloc),
 * realloc(p, 0) only frees, free(NULL) and a failed calloc are nothing. No stdio: its buffers
 * would add allocations of their own.
 */

/* Hands p to the compiler as if it were used, so that no allocation is optimised away. */
static void keep(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

static void fail(const char *what)
{
	write(STDERR_FILENO, what, strlen(what));
	write(STDERR_FILENO, "\n", 1);
	_exit(1);
}

/* valgrind 3.19's calloc returns NULL on overflow without setting errno; glibc (and so a shim
 * that forwards to it) sets ENOMEM. valgrind preloads its vgpreload_*.so objects. */
static int under_valgrind(void)
{
	const char *preload = getenv("LD_PRELOAD");
	return preload && strstr(preload, "vgpreload") != NULL;
}

int main(void)
{
	/* volatile: sizes the compiler cannot fold (a constant overflowing calloc would be refused
	 * at compile time). */
	volatile size_t huge = (size_t)-1, zero = 0;
	char *a = malloc(10);
	keep(a);
	char *b = realloc(a, 100);
	char *c = realloc(NULL, 7);
	free(NULL);
	char *d = calloc(3, 5);
	char *e = malloc(zero);
	keep(c);
	if (realloc(c, zero) != NULL)
		fail("heap_counts: realloc(p, 0) did not return NULL");
	void *f = NULL;
	if (posix_memalign(&f, 64, 33) != 0)
		fail("heap_counts: posix_memalign failed");
	char *g = aligned_alloc(64, 128);
	if (!b || !d || !g)
		fail("heap_counts: an allocation failed");
	keep(b);
	keep(d);
	keep(e);
	keep(f);
	keep(g);
	free(b);
	free(d);
	free(e);
	free(f);
	free(g);
	errno = 0;
	void *h = calloc(huge, 16);
	if (h != NULL || (errno != ENOMEM && !under_valgrind()))
		fail("heap_counts: calloc((size_t)-1, 16) did not fail with ENOMEM");
	char *i = malloc(123);
	keep(i);
	i = realloc(i, 50);
	if (!i)
		fail("heap_counts: realloc failed");
	keep(i);
	free(i);
	return 0;
}

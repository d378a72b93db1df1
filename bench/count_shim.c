/* count_shim.c: the cheapest possible heap interposer, a floor for the heap-profiling bench. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/*
 * LD_PRELOAD=libbench_count_shim.so counts allocations, frees and bytes with one atomic add per
 * figure and forwards to glibc's own entry points (no dlsym, so no bootstrap buffer). It records no
 * call site, streams nothing and reports nothing: whatever a real heap profiler costs above this
 * row is the price of what it records. bench/run prints it beside shotclock's shim, heaptrack and
 * massif; it is a reference, not a tool.
 */

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t count, size_t n);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static uint64_t allocations, frees, bytes;

static void count_alloc(size_t n)
{
	__atomic_fetch_add(&allocations, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&bytes, n, __ATOMIC_RELAXED);
}

static void count_free(void)
{
	__atomic_fetch_add(&frees, 1, __ATOMIC_RELAXED);
}

void *malloc(size_t n)
{
	void *p = __libc_malloc(n);
	if (p)
		count_alloc(n);
	return p;
}

void *calloc(size_t count, size_t n)
{
	void *p = __libc_calloc(count, n);
	if (p)
		count_alloc(count * n);
	return p;
}

void *realloc(void *old, size_t n)
{
	void *p = __libc_realloc(old, n);
	if (old && (p || n == 0))
		count_free();
	if (p)
		count_alloc(n);
	return p;
}

void free(void *p)
{
	if (p)
		count_free();
	__libc_free(p);
}

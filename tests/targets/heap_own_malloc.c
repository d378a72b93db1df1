/* heap_own_malloc.c: a program with its own malloc, free, calloc and realloc (a bump allocator
 * over a static arena), which every allocation in the process then uses: a heap shim that
 * interposes malloc never sees a call. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BYTES (8u << 20)

static _Alignas(16) unsigned char arena[ARENA_BYTES];
static size_t used;

/* Each block starts 16 bytes after its size, so that realloc knows what to copy. */
void *malloc(size_t n)
{
	size_t need = (n + 15) / 16 * 16 + 16;
	size_t at = __atomic_fetch_add(&used, need, __ATOMIC_RELAXED);
	if (n > ARENA_BYTES || at + need > ARENA_BYTES)
		return NULL;
	memcpy(arena + at, &n, sizeof n);
	return arena + at + 16;
}

void free(void *p)
{
	(void)p; /* a bump allocator never reuses memory */
}

void *calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return malloc(n * size); /* the static arena is zero and never reused */
}

void *realloc(void *p, size_t n)
{
	void *q = malloc(n);
	if (p && q) {
		size_t old;
		memcpy(&old, (unsigned char *)p - 16, sizeof old);
		memcpy(q, p, old < n ? old : n);
	}
	return q;
}

int main(void)
{
	for (int i = 0; i < 100; i++) {
		char *p = malloc(100);
		__asm__ volatile("" : : "r"(p) : "memory");
		p = realloc(p, 200);
		free(p);
	}
	return 0;
}

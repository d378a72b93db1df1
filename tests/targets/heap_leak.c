/* heap_leak.c: leaks one block of 1000 bytes through a lost pointer and keeps one of 2000 bytes
 * reachable through a global, after churn() allocated and freed 100 blocks of 50000 bytes. */
#include <stdlib.h>

char *still_reachable;

static void keep(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/* The most bytes allocated: the top site. */
__attribute__((noinline)) static void churn(void)
{
	for (int i = 0; i < 100; i++) {
		char *p = malloc(50000);
		keep(p);
		free(p);
	}
}

__attribute__((noinline)) static void grow_reachable(void)
{
	still_reachable = malloc(2000);
	keep(still_reachable);
}

/* The only copy of the pointer dies with this frame. */
__attribute__((noinline)) static void lose_block(void)
{
	char *p = malloc(1000);
	keep(p);
}

/* Overwrites the stack below main, where a stale copy of the lost pointer could linger and make
 * a conservative leak scan take it for reachable. */
__attribute__((noinline)) static void scrub_stack(void)
{
	volatile char junk[16384];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = 0;
}

int main(void)
{
	churn();
	grow_reachable();
	lose_block();
	scrub_stack();
	return 0;
}

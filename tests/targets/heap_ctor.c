/* heap_ctor.c: allocates in a constructor that runs as early as a program's can, frees in a
 * destructor: 3 blocks there, 2 in main, every one freed. */
#include <stdlib.h>

static void *early[3];

static void keep(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/* Priority 101 is the first a program may use (0-100 are the implementation's). */
__attribute__((constructor(101))) static void allocate_early(void)
{
	for (int i = 0; i < 3; i++) {
		early[i] = malloc(100 + (size_t)i);
		keep(early[i]);
	}
}

__attribute__((destructor(101))) static void free_late(void)
{
	for (int i = 0; i < 3; i++)
		free(early[i]);
}

int main(void)
{
	for (int i = 0; i < 2; i++) {
		void *p = malloc(1000);
		keep(p);
		free(p);
	}
	return early[0] && early[1] && early[2] ? 0 : 1;
}

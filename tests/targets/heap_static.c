/* heap_static.c: a statically linked program (built -static by tests/CMakeLists.txt), in which
 * no loader runs to preload a shim. */
#include <stdlib.h>

int main(void)
{
	for (int i = 0; i < 10; i++) {
		void *p = malloc(100);
		__asm__ volatile("" : : "r"(p) : "memory");
		free(p);
	}
	return 0;
}

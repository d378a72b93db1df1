/* heap_sigkill.c: `heap_sigkill [N]` allocates N blocks of 1000 bytes (default 100), frees none,
 * then dies by SIGKILL: nothing of its own runs at exit. */
#include <signal.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100;
	for (int i = 0; i < n; i++) {
		void *p = malloc(1000);
		__asm__ volatile("" : : "r"(p) : "memory");
	}
	raise(SIGKILL);
	return 1;
}

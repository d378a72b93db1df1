/* heap_exit_variants.c: `heap_exit_variants underscore|thread|return` allocates 10 blocks of 100
 * bytes and frees 4, then leaves by _exit(0) from main, exit(0) from a second thread while main
 * waits, or return 0 from main: 6 blocks, 600 bytes, live at exit in every case. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *blocks[10];

static void *exit_from_thread(void *arg)
{
	(void)arg;
	exit(0);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	for (int i = 0; i < 10; i++) {
		blocks[i] = malloc(100);
		__asm__ volatile("" : : "r"(blocks[i]) : "memory");
	}
	for (int i = 0; i < 4; i++)
		free(blocks[i]);
	if (strcmp(argv[1], "underscore") == 0)
		_exit(0);
	if (strcmp(argv[1], "thread") == 0) {
		pthread_t t;
		if (pthread_create(&t, NULL, exit_from_thread, NULL) != 0)
			return 1;
		/* The thread ends the process; main never gets past this. */
		pthread_join(t, NULL);
		return 1;
	}
	return strcmp(argv[1], "return") == 0 ? 0 : 2;
}

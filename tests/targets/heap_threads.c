/* heap_threads.c: `heap_threads [N]` runs 8 threads that each allocate N blocks (default
 * 1000000); every block is freed by the next thread, never by the one that allocated it. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 8
#define RING    1024 /* a power of two */

/* A single-producer single-consumer ring: thread i produces into rings[(i + 1) % THREADS] and
 * consumes its own rings[i], so each ring has one writer and one reader and needs no lock. */
typedef struct ring {
	_Atomic size_t head; /* next slot the producer fills */
	char pad0[64 - sizeof(size_t)];
	_Atomic size_t tail; /* next slot the consumer empties */
	char pad1[64 - sizeof(size_t)];
	void *slots[RING];
} ring;

static ring rings[THREADS];
static long per_thread = 1000000;

static void *worker(void *arg)
{
	size_t me = (size_t)(uintptr_t)arg;
	ring *out = &rings[(me + 1) % THREADS], *in = &rings[me];
	long made = 0, freed = 0;
	while (made < per_thread || freed < per_thread) {
		int progress = 0;
		/* Deterministic sizes: 16 to 79 bytes, the same sequence in every thread. */
		while (made < per_thread) {
			size_t h = atomic_load_explicit(&out->head, memory_order_relaxed);
			if (h - atomic_load_explicit(&out->tail, memory_order_acquire) == RING)
				break;
			void *p = malloc(16 + (size_t)(made % 64));
			if (!p)
				abort();
			out->slots[h % RING] = p;
			atomic_store_explicit(&out->head, h + 1, memory_order_release);
			made++;
			progress = 1;
		}
		for (;;) {
			size_t t = atomic_load_explicit(&in->tail, memory_order_relaxed);
			if (t == atomic_load_explicit(&in->head, memory_order_acquire))
				break;
			free(in->slots[t % RING]);
			atomic_store_explicit(&in->tail, t + 1, memory_order_release);
			freed++;
			progress = 1;
		}
		if (!progress)
			sched_yield();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		per_thread = atol(argv[1]);
	if (per_thread < 1) {
		fputs("usage: heap_threads [N >= 1]\n", stderr);
		return 2;
	}
	pthread_t t[THREADS];
	for (size_t i = 0; i < THREADS; i++) {
		if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i) != 0)
			return 1;
	}
	for (size_t i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	return 0;
}

/* compute_bound.c: a CPU-bound workload with no allocations, for the heap-profiling benchmark. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * The heap shim should cost nothing measurable here: the program makes no heap calls after
 * start-up, so whatever slowdown the instrumented run shows is the shim's fixed cost (loading,
 * setting up its counters and stream, the exit path) and any tax it puts on code that does not
 * allocate at all. The work is a small dense matrix product repeated over static storage (floating
 * point, cache resident) and an integer hash over the result, so both units are kept busy.
 *
 * Output: one checksum line on stdout, written with write(2) so that stdio allocates no buffer.
 * Usage: compute_bound [ROUNDS] (default 1500: about half a second on a 2020s x86-64 core).
 */

#define N 96

static double a[N][N], b[N][N], c[N][N];

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 1500;
	uint64_t h = 1469598103934665603u;

	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			a[i][j] = (double)((i * 31 + j * 17) % 97) / 97.0;
			b[i][j] = (double)((i * 13 + j * 29) % 89) / 89.0;
		}
	for (long r = 0; r < rounds; r++) {
		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++) {
				double s = 0;
				for (int k = 0; k < N; k++)
					s += a[i][k] * b[k][j];
				c[i][j] = s;
			}
		/* Feed the product back so no round can be skipped, and hash it (FNV-1a).
		 * The fractional part keeps the values in [0, 1): no overflow, and no
		 * denormals to slow a round down. */
		for (int i = 0; i < N; i++)
			for (int j = 0; j < N; j++) {
				a[i][j] = c[i][j] - (double)(int64_t)c[i][j];
				uint64_t bits = (uint64_t)(c[i][j] * 1e6);
				for (int k = 0; k < 8; k++) {
					h ^= (bits >> (8 * k)) & 0xff;
					h *= 1099511628211u;
				}
			}
	}

	char digits[24], line[32];
	int nd = 0, len = 0;
	do {
		digits[nd++] = (char)('0' + h % 10);
		h /= 10;
	} while (h);
	while (nd > 0)
		line[len++] = digits[--nd];
	line[len++] = '\n';
	if (write(1, line, (size_t)len) < 0)
		return 1;
	return 0;
}

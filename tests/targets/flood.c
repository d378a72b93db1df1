/* flood.c: `flood BYTES` writes BYTES bytes to stdout in 64 KiB writes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

int main(int argc, char **argv)
{
	char *end;
	errno = 0;
	long long total = argc == 2 ? strtoll(argv[1], &end, 10) : -1;
	if (argc != 2 || errno || end == argv[1] || *end || total < 0) {
		fputs("usage: flood BYTES\n", stderr);
		return 2;
	}
	static char chunk[CHUNK];
	memset(chunk, 'x', sizeof chunk);
	while (total > 0) {
		size_t n = total < CHUNK ? (size_t)total : CHUNK;
		ssize_t w = write(STDOUT_FILENO, chunk, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			perror("flood: write");
			return 1;
		}
		total -= w;
	}
	return 0;
}

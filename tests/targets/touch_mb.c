/* touch_mb.c: `touch_mb MB [HOLD_MS]`: touches MB MiB, holds it HOLD_MS ms, exits 0. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long parse_count(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	return errno || end == s || *end || v < 0 ? -1 : v;
}

static void sleep_ms(long ms)
{
	struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	long mb = argc >= 2 ? parse_count(argv[1]) : -1;
	long hold = argc == 3 ? parse_count(argv[2]) : 0;
	if (argc < 2 || argc > 3 || mb < 0 || hold < 0) {
		fputs("usage: touch_mb MB [HOLD_MS]\n", stderr);
		return 2;
	}
	size_t bytes = (size_t)mb << 20;
	/* Writing every byte (not just one per page) makes every page resident and private. */
	char *p = bytes ? malloc(bytes) : NULL;
	if (bytes && !p) {
		fputs("touch_mb: out of memory\n", stderr);
		return 1;
	}
	if (p)
		memset(p, 0x5a, bytes);
	sleep_ms(hold);
	/* Reading the memory back keeps the compiler from dropping the allocation. */
	int sum = bytes ? p[bytes - 1] : 0;
	free(p);
	return sum == 0x5a || bytes == 0 ? 0 : 1;
}

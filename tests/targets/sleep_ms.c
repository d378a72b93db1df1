/* sleep_ms.c: `sleep_ms MS` sleeps MS milliseconds and exits 0. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	char *end;
	errno = 0;
	long ms = argc == 2 ? strtol(argv[1], &end, 10) : -1;
	if (argc != 2 || errno || end == argv[1] || *end || ms < 0) {
		fputs("usage: sleep_ms MS\n", stderr);
		return 2;
	}
	struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		;
	return 0;
}

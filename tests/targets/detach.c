/* detach.c: a target whose child outlives it holding stdout and stderr: `detach SECONDS [PIDFILE]`.
 */

/*
 * The parent forks a child that sleeps SECONDS with the inherited stdout and stderr still open,
 * writes the child's pid to PIDFILE (so a test can kill it), and exits 0 at once. A profiler that
 * waited for end-of-file on the command's output, or for every process of the group, would hang
 * for SECONDS; one that waits for the command itself returns immediately.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char *end;
	long seconds = argc >= 2 ? strtol(argv[1], &end, 10) : -1;
	if (argc < 2 || argc > 3 || *end || seconds < 0) {
		fprintf(stderr, "usage: detach SECONDS [PIDFILE]\n");
		return 2;
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("detach: fork");
		return 1;
	}
	if (pid == 0) {
		struct timespec ts = {seconds, 0};
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
		}
		return 0;
	}
	if (argc == 3) {
		FILE *f = fopen(argv[2], "w");
		if (!f || fprintf(f, "%d\n", (int)pid) < 0 || fclose(f) != 0) {
			perror("detach: PIDFILE");
			return 1;
		}
	}
	return 0;
}

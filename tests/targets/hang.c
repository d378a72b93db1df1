/* hang.c: `hang [--grandchild PIDFILE]` sleeps forever, optionally with a grandchild too. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Writes the pid to PIDFILE atomically (a temporary file, then rename), so a reader that sees the
 * file sees the whole number. */
static int write_pid_file(const char *path)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return -1;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--grandchild") == 0) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("hang: fork");
			return 1;
		}
		/* The grandchild keeps stdout and stderr open, as a forgotten helper process would.
		 */
		if (pid == 0 && write_pid_file(argv[2]) != 0) {
			perror("hang: pid file");
			return 1;
		}
	} else if (argc != 1) {
		fputs("usage: hang [--grandchild PIDFILE]\n", stderr);
		return 2;
	}
	for (;;)
		pause();
}

/* cpu_fork_exec.c: `cpu_fork_exec [N]` burns CPU, then forks N children (default 3) that each exec
 * cpu_ratio (from the same directory) with a small argument, and waits for them. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Samplers follow a command's children: forked processes inherit perf events, and an exec'd
 * program gets the heap shim (and its timer) again through LD_PRELOAD. The profile must hold the
 * parent's own function (fork_parent_burn) and the children's work (cpu_ratio's work_three), the
 * children's output must arrive, and the parent's exit status must say whether every child
 * succeeded. The children's output goes through the same stdout; the parent flushes before it
 * forks so no line is written twice.
 */

#define ITERATIONS 20000000UL

__attribute__((noinline)) static unsigned long fork_parent_burn(void)
{
	volatile unsigned long acc = 0;
	for (unsigned long i = 0; i < ITERATIONS; i++)
		acc += i & 3;
	return acc;
}

int main(int argc, char **argv)
{
	long n = 3;
	if (argc == 2) {
		char *end;
		errno = 0;
		n = strtol(argv[1], &end, 10);
		if (errno || end == argv[1] || *end)
			n = -1;
	}
	if (argc > 2 || n < 0 || n > 64) {
		fputs("usage: cpu_fork_exec [N] (0..64)\n", stderr);
		return 2;
	}
	/* cpu_ratio sits beside this program; /proc/self/exe names it whatever the working
	 * directory. */
	char path[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", path, sizeof path - 16);
	if (len <= 0) {
		fputs("cpu_fork_exec: cannot read /proc/self/exe\n", stderr);
		return 1;
	}
	path[len] = '\0';
	char *slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "cpu_ratio");

	printf("cpu_fork_exec: parent %lu\n", fork_parent_burn());
	fflush(stdout);
	int failed = 0;
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			fputs("cpu_fork_exec: fork failed\n", stderr);
			return 1;
		}
		if (pid == 0) {
			execl(path, path, "500", (char *)NULL);
			_exit(127);
		}
		int status = 0;
		pid_t got;
		while ((got = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
			;
		if (got != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	printf("cpu_fork_exec: %ld children, %d failed\n", n, failed);
	return failed ? 1 : 0;
}

/* heap_exec.c: forks and execs itself as `heap_exec child`: the parent allocates 2 blocks, the
 * child 4 and prints its LD_PRELOAD and how many SHOTCLOCK_HEAP_* variables it sees. Exits with
 * the child's status. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void allocate(int n, size_t size)
{
	for (int i = 0; i < n; i++) {
		void *p = malloc(size);
		__asm__ volatile("" : : "r"(p) : "memory");
		free(p);
	}
}

static int child(void)
{
	allocate(4, 400);
	const char *preload = getenv("LD_PRELOAD");
	int heap_vars = 0;
	for (char **e = environ; *e; e++)
		heap_vars += strncmp(*e, "SHOTCLOCK_HEAP_", 15) == 0;
	printf("child LD_PRELOAD=%s\nchild SHOTCLOCK_HEAP_ variables=%d\n",
	       preload ? preload : "(unset)", heap_vars);
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return child();
	allocate(2, 100);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		char *args[] = {argv[0], "child", NULL};
		execv("/proc/self/exe", args);
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

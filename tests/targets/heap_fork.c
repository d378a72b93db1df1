/* heap_fork.c: fork without exec while a second thread allocates: the child allocates 5 blocks
 * and leaves with _exit; the parent allocates 3 blocks, the thread 1000, all freed. Exits 1 when
 * the child does not finish within 10 s (a shim lock inherited held would hang it). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void keep(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

static void *churn(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1000; i++) {
		void *p = malloc(64);
		keep(p);
		free(p);
	}
	return NULL;
}

int main(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, churn, NULL) != 0)
		return 1;
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		for (int i = 0; i < 5; i++) {
			void *p = malloc(200);
			keep(p);
			free(p);
		}
		_exit(0);
	}
	for (int i = 0; i < 3; i++) {
		void *p = malloc(300);
		keep(p);
		free(p);
	}
	pthread_join(t, NULL);
	int status = 0;
	for (int waited_ms = 0;; waited_ms += 10) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 || waited_ms >= 10000) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return 1;
		}
		nanosleep(&(struct timespec){0, 10000000}, NULL);
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

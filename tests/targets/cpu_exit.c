/* cpu_exit.c: `cpu_exit N` burns CPU, prints a line and exits with status N; `cpu_exit -SIG` dies
 * by signal SIG instead. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

/*
 * Sampling must not change how a command ends: the status, the signal and the output are the
 * program's own, and the samples taken before it ended are kept. The work before the end is
 * counted in iterations (about 50 ms).
 */

#define ITERATIONS 25000000UL

static volatile unsigned long sink;

__attribute__((noinline)) static void exit_burn(void)
{
	for (unsigned long i = 0; i < ITERATIONS; i++)
		sink += i;
}

int main(int argc, char **argv)
{
	char *end;
	errno = 0;
	long v = argc == 2 ? strtol(argv[1], &end, 10) : 0;
	if (argc != 2 || errno || end == argv[1] || *end || v > 255 || v < -64) {
		fputs("usage: cpu_exit N (0..255) | cpu_exit -SIG\n", stderr);
		return 2;
	}
	exit_burn();
	printf("cpu_exit: %ld\n", v);
	fflush(stdout);
	if (v >= 0)
		return (int)v;
	int sig = (int)-v;
	/* The default disposition, unblocked, so the signal really ends us; no core file. */
	struct rlimit no_core = {0, 0};
	setrlimit(RLIMIT_CORE, &no_core);
	signal(sig, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	fprintf(stderr, "cpu_exit: signal %d did not end the process\n", sig);
	return 1;
}

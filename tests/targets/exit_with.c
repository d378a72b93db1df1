/* exit_with.c: `exit_with N` exits with status N; `exit_with -SIG` dies by signal SIG. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

int main(int argc, char **argv)
{
	char *end;
	errno = 0;
	long v = argc == 2 ? strtol(argv[1], &end, 10) : 0;
	if (argc != 2 || errno || end == argv[1] || *end || v > 255 || v < -64) {
		fputs("usage: exit_with N (0..255) | exit_with -SIG\n", stderr);
		return 2;
	}
	if (v >= 0)
		return (int)v;
	int sig = (int)-v;
	/* The default disposition, unblocked, so the signal really ends us; no core file to litter
	 * the directory a test runs in. */
	struct rlimit no_core = {0, 0};
	setrlimit(RLIMIT_CORE, &no_core);
	signal(sig, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	fprintf(stderr, "exit_with: signal %d did not end the process\n", sig);
	return 1;
}

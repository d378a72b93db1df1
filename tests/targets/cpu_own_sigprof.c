/* cpu_own_sigprof.c: `cpu_own_sigprof sigaction|signal MS` profiles itself the old way: its own
 * SIGPROF handler (set with sigaction or signal) and setitimer(ITIMER_PROF), while it uses MS ms
 * of CPU time. Prints "handled N" and exits 0 when its handler ran, 1 when it never did. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t handled;
static int use_sigaction;
static volatile double work;

static void on_prof(int sig)
{
	/* Built as strict C11, signal() is glibc's __sysv_signal, which resets the action to the
	 * default before calling us: set it again, as such programs do. */
	if (!use_sigaction)
		signal(sig, on_prof);
	handled = handled + 1;
}

static long long cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	char *end;
	errno = 0;
	long ms = argc == 3 ? strtol(argv[2], &end, 10) : -1;
	if (argc != 3 || errno || end == argv[2] || *end || ms < 0 ||
	    (strcmp(argv[1], "sigaction") != 0 && strcmp(argv[1], "signal") != 0)) {
		fputs("usage: cpu_own_sigprof sigaction|signal MS\n", stderr);
		return 2;
	}
	use_sigaction = strcmp(argv[1], "sigaction") == 0;
	if (use_sigaction) {
		struct sigaction sa, old;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_prof;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		/* What a program finds before it sets anything: the default. */
		if (sigaction(SIGPROF, NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
		    (old.sa_flags & SA_SIGINFO)) {
			fputs("SIGPROF was not at its default action\n", stderr);
			return 3;
		}
		if (sigaction(SIGPROF, &sa, NULL) != 0)
			return 4;
	} else if (signal(SIGPROF, on_prof) != SIG_DFL) {
		fputs("SIGPROF was not at its default action\n", stderr);
		return 3;
	}
	struct itimerval it = {{0, 1000}, {0, 1000}};
	if (setitimer(ITIMER_PROF, &it, NULL) != 0)
		return 5;
	long long until = cpu_ns() + ms * 1000000;
	while (cpu_ns() < until) {
		double x = work;
		for (int i = 1; i < 10000; i++)
			x += 1.0 / i;
		work = x;
	}
	printf("handled %d\n", (int)handled);
	return handled > 0 ? 0 : 1;
}

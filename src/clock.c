/* clock.c: the monotonic clock, this process's CPU time and the invariant-TSC check. */
#include "internal.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

uint64_t sc__now_ns(void)
{
	/* glibc serves CLOCK_MONOTONIC from the vDSO, so this costs tens of ns and no system call.
	 * It cannot fail for a valid clock id and a valid pointer, so the result is not checked. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t clock_real_now(void *ctx)
{
	(void)ctx;
	return sc__now_ns();
}

sc__clock sc__clock_real(void)
{
	return (sc__clock){.now_ns = clock_real_now, .ctx = NULL};
}

void sc__cpu_self(double *user_s, double *sys_s)
{
	/* RUSAGE_SELF cannot fail; it covers every thread of this process, including ones that
	 * have exited, which is what a workload's CPU time should include. */
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	*user_s = sc__timeval_s(ru.ru_utime);
	*sys_s = sc__timeval_s(ru.ru_stime);
}

double sc__timeval_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

#if defined(__x86_64__)
/* The value of the first "flags" line of /proc/cpuinfo text ("flags\t\t: fpu vme ..."), or NULL.
 * Other lines ("vmx flags") also contain the word, so only a line that starts with it counts. */
static const char *cpuinfo_flags(const char *text)
{
	for (const char *line = text;;) {
		if (strncmp(line, "flags", 5) == 0) {
			const char *colon = line + 5 + strspn(line + 5, " \t");
			if (*colon == ':')
				return colon + 1;
		}
		line = strchr(line, '\n');
		if (!line)
			return NULL;
		line++;
	}
}

/* True when the space-separated list (ending at a newline or NUL) holds word as a whole word. */
static bool list_has_word(const char *list, const char *word)
{
	size_t word_len = strlen(word);
	while (*list && *list != '\n') {
		list += strspn(list, " \t");
		size_t len = strcspn(list, " \t\n");
		if (len == word_len && strncmp(list, word, len) == 0)
			return true;
		list += len;
	}
	return false;
}

/* 0: not decided yet; 1: no; 2: yes. Two threads deciding at once read the same file and store
 * the same answer, so a plain atomic suffices where pthread_once would add a dependency. */
static atomic_int tsc_state;

bool sc__tsc_usable(void)
{
	int state = atomic_load_explicit(&tsc_state, memory_order_relaxed);
	if (state == 0) {
		/* The TSC counts at one rate in every P-state (constant_tsc) and keeps counting in
		 * deep C-states (nonstop_tsc); only then do ticks convert to time at a fixed rate.
		 * The flags line of the first processor comes within the first few kB. */
		char text[16384];
		size_t len;
		const char *flags = NULL;
		if (sc__read_text_file("/proc/cpuinfo", text, sizeof text, &len) == 0)
			flags = cpuinfo_flags(text);
		bool usable = flags && list_has_word(flags, "constant_tsc") &&
		              list_has_word(flags, "nonstop_tsc");
		state = usable ? 2 : 1;
		atomic_store_explicit(&tsc_state, state, memory_order_relaxed);
	}
	return state == 2;
}
#else
bool sc__tsc_usable(void)
{
	/* Other architectures have no counter whose rate we can trust without a kernel interface;
	 * their callers use CLOCK_MONOTONIC. */
	return false;
}
#endif

/* targets.h: helpers the process-level unit tests share: target programs, a scratch directory,
 * waiting. */
#ifndef SC_TEST_TARGETS_H
#define SC_TEST_TARGETS_H

/* Every function is static inline: a test that leaves one unused still builds under -Werror
 * (-Wunused-function does not fire on inline functions). */

#include "check.h"
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The directory of the target programs (tests/targets), from $SC_TARGETS. */
static const char *targets;
/* This test's own directory under /tmp, made by targets_setup. Far smaller than the 4096 of a
 * path built on it, so that -Wformat-truncation can see scratch_path's result always fits. */
static char scratch[256];

/* The path of a target program (a static buffer per slot, so up to four can be used at once,
 * as in one argv). */
static inline char *target(const char *name)
{
	static char paths[4][4096];
	static int slot;
	char *p = paths[slot++ % 4];
	snprintf(p, sizeof paths[0], "%s/%s", targets, name);
	return p;
}

/* The path of name in the scratch directory (one static buffer). */
static inline char *scratch_path(const char *name)
{
	static char path[4096];
	snprintf(path, sizeof path, "%s/%s", scratch, name);
	return path;
}

static inline void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* The text of a small file (a static buffer); a failed read is a failed check and gives "". */
static inline char *read_file(const char *path)
{
	static char text[8192];
	CHECK_INT(sc__read_text_file(path, text, sizeof text, NULL), 0);
	return text;
}

/* Waits (at most 5 s) until path holds a pid, and returns it; -1 on timeout. */
static inline pid_t read_pid_file(const char *path)
{
	for (int i = 0; i < 500; i++) {
		char text[32];
		if (sc__read_text_file(path, text, sizeof text, NULL) == 0 && atoi(text) > 0)
			return atoi(text);
		sleep_ms(10);
	}
	return -1;
}

/* Whether pid is gone, not even a zombie (kill succeeds on a zombie), within 5 s. */
static inline bool gone(pid_t pid)
{
	for (int i = 0; i < 500; i++) {
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return true;
		sleep_ms(10);
	}
	return false;
}

/* Reads $SC_TARGETS, requires $SHOTCLOCK_SPAWNER (the tests run real commands through it) and
 * makes the scratch directory /tmp/<test_name>.XXXXXX. Returns 0, or prints one line and
 * returns 1 for main to return: without these the tests could only fail confusingly. */
static inline int targets_setup(const char *test_name)
{
	targets = getenv("SC_TARGETS");
	if (!targets || !getenv("SHOTCLOCK_SPAWNER")) {
		fprintf(stderr, "%s: SC_TARGETS and SHOTCLOCK_SPAWNER must be set\n", test_name);
		return 1;
	}
	snprintf(scratch, sizeof scratch, "/tmp/%s.XXXXXX", test_name);
	if (!mkdtemp(scratch)) {
		fprintf(stderr, "%s: mkdtemp %s: %s\n", test_name, scratch, strerror(errno));
		return 1;
	}
	return 0;
}

/* Removes the n scratch files named in files, then the scratch directory, which rmdir removes
 * only if nothing else was left there. */
static inline void targets_teardown(const char *const files[], size_t n)
{
	for (size_t i = 0; i < n; i++)
		unlink(scratch_path(files[i]));
	rmdir(scratch);
}

#endif

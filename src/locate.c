/* locate.c: finding a file shotclock ships beside its binary (the spawner, the heap shim). */
#include "internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A regular file that access() allows in mode, short enough for path. */
static bool try_candidate(const char *candidate, int mode, char *path, size_t cap)
{
	struct stat st;
	if (!candidate || strlen(candidate) >= cap || stat(candidate, &st) != 0 ||
	    !S_ISREG(st.st_mode) || access(candidate, mode) != 0)
		return false;
	strcpy(path, candidate);
	return true;
}

int sc__locate_helper(const char *env_name, const char *file_name, const char *install_path,
                      int mode, char *path, size_t cap)
{
	if (!path || cap == 0)
		return SC_EINVAL;
	if (try_candidate(getenv(env_name), mode, path, cap))
		return 0;
	/* Beside the running executable: the build tree and a relocated install both keep the
	 * helpers next to the shotclock binary. */
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		char beside[PATH_MAX + 32];
		if (slash) {
			*slash = '\0';
			snprintf(beside, sizeof beside, "%s/%s", exe, file_name);
			if (try_candidate(beside, mode, path, cap))
				return 0;
		}
	}
	if (try_candidate(install_path, mode, path, cap))
		return 0;
	return SC_ENOTFOUND;
}

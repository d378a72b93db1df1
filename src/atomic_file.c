/* atomic_file.c: writing a file through a temporary beside it and rename(2), never half-written. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The process's umask. /proc/self/status has carried it since Linux 4.7, and reading it there
 * changes nothing; the fallback, setting and restoring it with umask(2), briefly exposes other
 * threads creating files to a zero umask, so it is only used on kernels without the field.
 */
static mode_t current_umask(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	if (fp) {
		char line[256];
		unsigned int mask;
		while (fgets(line, sizeof line, fp)) {
			if (sscanf(line, "Umask: %o", &mask) == 1) {
				fclose(fp);
				return (mode_t)mask;
			}
		}
		fclose(fp);
	}
	mode_t mask = umask(0);
	umask(mask);
	return mask;
}

int sc__atomic_open(sc__atomic_file *af, const char *path)
{
	if (!af || !path)
		return SC_EINVAL;
	*af = (sc__atomic_file){0};
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (*base == '\0' || strlen(path) >= sizeof af->path)
		return SC_EINVAL;
	/* The temporary lives in the target's directory, since rename(2) is atomic only within one
	 * filesystem; the leading dot keeps it out of ordinary directory listings meanwhile. */
	int dir_len = slash ? (int)(slash - path) + 1 : 0; /* with its '/' */
	int n = snprintf(af->tmp_path, sizeof af->tmp_path, "%.*s.%s.XXXXXX", dir_len, path, base);
	if (n < 0 || (size_t)n >= sizeof af->tmp_path)
		return SC_EINVAL;
	snprintf(af->path, sizeof af->path, "%s", path);

	int fd = mkstemp(af->tmp_path);
	if (fd < 0) {
		af->tmp_path[0] = '\0';
		return SC_EIO;
	}
	af->fp = fdopen(fd, "w");
	if (!af->fp) {
		int err = errno;
		close(fd);
		unlink(af->tmp_path);
		af->tmp_path[0] = '\0';
		errno = err;
		return SC_EIO;
	}
	return 0;
}

int sc__atomic_commit(sc__atomic_file *af)
{
	if (!af || !af->fp)
		return SC_EINVAL;
	int fd = fileno(af->fp), err = 0;
	errno = 0;
	/* ferror catches a write that failed earlier, whose errno may be long gone: EIO then. */
	if (fflush(af->fp) != 0 || ferror(af->fp))
		err = errno ? errno : EIO;
	/* fsync before rename: otherwise a crash can leave the new name on an empty file. */
	else if (fsync(fd) != 0)
		err = errno;
	/* mkstemp creates the file 0600; a report is an ordinary file, so give it the mode open(2)
	 * would have given a new one. */
	else if (fchmod(fd, 0644 & ~current_umask()) != 0)
		err = errno;
	if (fclose(af->fp) != 0 && !err)
		err = errno;
	af->fp = NULL;
	if (!err && rename(af->tmp_path, af->path) != 0)
		err = errno;
	if (err) {
		unlink(af->tmp_path);
		af->tmp_path[0] = '\0';
		errno = err;
		return SC_EIO;
	}
	af->tmp_path[0] = '\0';
	return 0;
}

void sc__atomic_abort(sc__atomic_file *af)
{
	if (!af)
		return;
	/* The caller is usually reporting why it aborted; keep its errno. */
	int err = errno;
	if (af->fp)
		fclose(af->fp);
	af->fp = NULL;
	if (af->tmp_path[0])
		unlink(af->tmp_path);
	af->tmp_path[0] = '\0';
	errno = err;
}

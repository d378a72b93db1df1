/* test_atomic_file.c: commit replaces; a failure keeps the old file and leaves no temporary. */
#include "check.h"
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

/* How many entries dir holds besides . and ..; their names, for messages, into names. */
static int entries(char *names, size_t cap)
{
	DIR *d = opendir(dir);
	int n = 0;
	names[0] = '\0';
	for (struct dirent *e; d && (e = readdir(d));) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		strncat(names, e->d_name, cap - strlen(names) - 2);
		strcat(names, " ");
	}
	if (d)
		closedir(d);
	return n;
}

static char *path_in_dir(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
	return out;
}

/* The whole (small) file, or "" when it cannot be read. */
static const char *contents(const char *path)
{
	static char buf[256];
	buf[0] = '\0';
	FILE *fp = fopen(path, "r");
	if (fp) {
		size_t n = fread(buf, 1, sizeof buf - 1, fp);
		buf[n] = '\0';
		fclose(fp);
	}
	return buf;
}

static int write_atomically(const char *path, const char *text)
{
	sc__atomic_file af;
	int err = sc__atomic_open(&af, path);
	if (err)
		return err;
	fputs(text, af.fp);
	return sc__atomic_commit(&af);
}

static void test_commit_creates_and_replaces(void)
{
	char path[128], names[512];
	path_in_dir(path, sizeof path, "report.json");
	CHECK_INT(write_atomically(path, "first\n"), 0);
	CHECK_STR(contents(path), "first\n");
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644); /* umask 022 set in main */
	CHECK_INT(write_atomically(path, "second\n"), 0);
	CHECK_STR(contents(path), "second\n");
	CHECK_INT(entries(names, sizeof names), 1);
}

static void test_abort_keeps_old_file(void)
{
	char path[128], names[512];
	path_in_dir(path, sizeof path, "report.json");
	sc__atomic_file af;
	CHECK_INT(sc__atomic_open(&af, path), 0);
	fputs("half of a new", af.fp);
	CHECK_INT(entries(names, sizeof names), 2); /* the temporary is there meanwhile */
	errno = 1234;
	sc__atomic_abort(&af);
	CHECK_INT(errno, 1234); /* abort keeps the caller's errno */
	CHECK_STR(contents(path), "second\n");
	CHECK_INT(entries(names, sizeof names), 1);
}

static void test_failed_commit_keeps_old_file(void)
{
	char path[128], names[512];
	path_in_dir(path, sizeof path, "report.json");
	sc__atomic_file af;
	CHECK_INT(sc__atomic_open(&af, path), 0);
	fputs("never seen", af.fp);
	/* The descriptor goes away under the stream: flushing (or fsync) fails with EBADF. */
	close(fileno(af.fp));
	errno = 0;
	CHECK_INT(sc__atomic_commit(&af), SC_EIO);
	CHECK_INT(errno, EBADF);
	CHECK(af.fp == NULL);
	CHECK_STR(contents(path), "second\n");
	int n = entries(names, sizeof names);
	if (n != 1)
		fprintf(stderr, "left in %s: %s\n", dir, names);
	CHECK_INT(n, 1);
}

static void test_bad_directories(void)
{
	char path[128], names[512];
	/* A "directory" that is really a file. */
	path_in_dir(path, sizeof path, "report.json/inner.json");
	errno = 0;
	CHECK_INT(write_atomically(path, "x"), SC_EIO);
	CHECK_INT(errno, ENOTDIR);
	/* A directory that does not exist. */
	path_in_dir(path, sizeof path, "missing/inner.json");
	errno = 0;
	CHECK_INT(write_atomically(path, "x"), SC_EIO);
	CHECK_INT(errno, ENOENT);
	/* A path naming a directory: the rename fails, and the temporary goes. */
	CHECK_INT(mkdir(path_in_dir(path, sizeof path, "sub"), 0755), 0);
	CHECK_INT(write_atomically(path, "x"), SC_EIO);
	CHECK_INT(rmdir(path), 0);
	/* No file name at all. */
	sc__atomic_file af;
	CHECK_INT(sc__atomic_open(&af, ""), SC_EINVAL);
	path_in_dir(path, sizeof path, "");
	CHECK_INT(sc__atomic_open(&af, path), SC_EINVAL);
	CHECK_INT(entries(names, sizeof names), 1);
	CHECK_STR(contents(path_in_dir(path, sizeof path, "report.json")), "second\n");
}

static void test_relative_path(void)
{
	char cwd[4096], names[512];
	CHECK(getcwd(cwd, sizeof cwd) != NULL);
	CHECK_INT(chdir(dir), 0);
	CHECK_INT(write_atomically("plain.json", "relative\n"), 0);
	CHECK_STR(contents("plain.json"), "relative\n");
	CHECK_INT(unlink("plain.json"), 0);
	CHECK_INT(chdir(cwd), 0);
	CHECK_INT(entries(names, sizeof names), 1);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/sc-atomic-XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	umask(022);
	test_commit_creates_and_replaces();
	test_abort_keeps_old_file();
	test_failed_commit_keeps_old_file();
	test_bad_directories();
	test_relative_path();

	char path[128];
	path_in_dir(path, sizeof path, "report.json");
	unlink(path);
	CHECK_INT(rmdir(dir), 0);
	return CHECK_DONE();
}

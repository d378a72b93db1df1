/* test_sysinfo.c: sc_system_info_collect on the live machine, against sysconf, uname, statvfs and
 * /proc read independently. */
#define _GNU_SOURCE /* realpath(3) */
#include "check.h"
#include "shotclock.h"

#include <limits.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

/* The value of a "Key: N kB" line of /proc/meminfo, read with stdio rather than the parser under
 * test; -1 if absent. */
static long long meminfo_kb(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long long kb = -1;
	size_t key_len = strlen(key);
	while (f && fgets(line, sizeof line, f)) {
		if (strncmp(line, key, key_len) == 0 && line[key_len] == ':')
			kb = strtoll(line + key_len + 1, NULL, 10);
	}
	if (f)
		fclose(f);
	return kb;
}

static void test_live_machine(void)
{
	sc_system_info si;
	CHECK_INT(sc_system_info_collect(NULL, &si), 0);

	CHECK_INT(si.cpus, sysconf(_SC_NPROCESSORS_ONLN));

	struct utsname u;
	CHECK_INT(uname(&u), 0);
	char kernel[512];
	snprintf(kernel, sizeof kernel, "%s %s %s", u.sysname, u.release, u.machine);
	CHECK_STR(si.kernel, kernel);
	CHECK_STR(si.hostname, u.nodename);
#if defined(__x86_64__) || defined(__i386__)
	/* Every x86 kernel prints "model name". */
	CHECK(si.cpu_model[0] != '\0');
#endif

	/* MemTotal changes only with memory hot-plug, so it matches exactly. */
	CHECK(si.memory_total_mb == (double)meminfo_kb("MemTotal") / 1024.0);
	/* MemAvailable moves with every page the machine's processes touch; 10% of the total plus
	 * 256 MiB is far more than the tests running beside this one (the largest touches 64 MiB)
	 * allocate between the two reads. */
	CHECK_NEAR(si.memory_available_mb, (double)meminfo_kb("MemAvailable") / 1024.0,
	           0.1 * si.memory_total_mb + 256);
	CHECK(si.memory_available_mb <= si.memory_total_mb);

	for (int i = 0; i < 3; i++)
		CHECK(si.load_avg[i] >= 0 && isfinite(si.load_avg[i]));

	/* The working directory, as realpath gives it. */
	char cwd[PATH_MAX];
	CHECK(realpath(".", cwd) != NULL);
	CHECK_STR(si.disk_path, cwd);
	struct statvfs vfs;
	CHECK_INT(statvfs(".", &vfs), 0);
	double gib = 1073741824.0;
	/* The size of a mounted filesystem does not change. */
	CHECK(si.disk_total_gb == (double)vfs.f_blocks * (double)vfs.f_frsize / gib);
	/* Free space moves while other builds and tests write beside us; 2 GiB is more than they
	 * write in the instant between the two statvfs calls. */
	CHECK_NEAR(si.disk_free_gb, (double)vfs.f_bavail * (double)vfs.f_frsize / gib, 2.0);
	CHECK(si.disk_free_gb <= si.disk_total_gb);
	/* df(1)'s Use%: used / (used + available), the root-reserved blocks left out. */
	double used = (double)(vfs.f_blocks - vfs.f_bfree);
	double expected = 100.0 * used / (used + (double)vfs.f_bavail);
	/* The same 2 GiB of movement, as a share of the filesystem, plus a margin. */
	double tolerance = 100.0 * 2.0 / si.disk_total_gb + 0.01;
	CHECK_NEAR(si.disk_used_percent, expected, tolerance);
	CHECK(si.disk_used_percent >= 0 && si.disk_used_percent <= 100);
}

static void test_disk_path(void)
{
	sc_system_info si;
	/* "/proc/.." resolves to "/". */
	CHECK_INT(sc_system_info_collect("/proc/..", &si), 0);
	CHECK_STR(si.disk_path, "/");
	CHECK(si.disk_total_gb > 0);

	/* A path that does not exist: the disk figures are unavailable, the rest is still there. */
	CHECK_INT(sc_system_info_collect("/nonexistent/shotclock", &si), 0);
	CHECK_STR(si.disk_path, "");
	CHECK(isnan(si.disk_total_gb));
	CHECK(isnan(si.disk_free_gb));
	CHECK(isnan(si.disk_used_percent));
	CHECK(si.cpus >= 1);
	CHECK(si.memory_total_mb > 0);

	CHECK_INT(sc_system_info_collect(".", NULL), SC_EINVAL);
}

int main(void)
{
	test_live_machine();
	test_disk_path();
	return CHECK_DONE();
}

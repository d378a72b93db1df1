/* sysinfo.c: the system a report was measured on: CPUs, kernel, host, memory, load and disk. */
#define _GNU_SOURCE /* realpath(3) */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#define KB_PER_MB     1024.0
#define BYTES_PER_GIB 1073741824.0

/* Each collect_ function fills its fields of *out and returns whether it could. */

static bool collect_cpu_model(sc_system_info *out)
{
	/* /proc/cpuinfo has one block per CPU. "model name" is in the first block, ARM's "Hardware"
	 * and "Model" follow the last one; 64 KiB holds the blocks of about 300 ARM cores, and a
	 * cut-off file still yields the x86 model. */
	size_t cap = 64 * 1024;
	char *buf = malloc(cap);
	if (!buf)
		return false;
	bool ok = sc__read_text_file("/proc/cpuinfo", buf, cap, NULL) == 0 &&
	          sc__parse_cpuinfo_model(buf, out->cpu_model, sizeof out->cpu_model) == 0;
	free(buf);
	return ok;
}

static bool collect_uname(sc_system_info *out)
{
	struct utsname u;
	if (uname(&u) != 0)
		return false;
	/* The utsname fields hold up to 64 characters each; cut them so that all three fit. */
	snprintf(out->kernel, sizeof out->kernel, "%.41s %.41s %.41s", u.sysname, u.release,
	         u.machine);
	snprintf(out->hostname, sizeof out->hostname, "%.63s", u.nodename);
	return true;
}

static bool collect_memory(sc_system_info *out)
{
	char buf[16384]; /* /proc/meminfo is about 1.5 kB */
	sc__meminfo mi;
	if (sc__read_text_file("/proc/meminfo", buf, sizeof buf, NULL) != 0 ||
	    sc__parse_meminfo(buf, &mi) != 0)
		return false;
	out->memory_total_mb = (double)mi.mem_total_kb / KB_PER_MB;
	/* Kernels before 3.14 have no MemAvailable; estimating it is the kernel's job, not ours. */
	if (mi.mem_available_kb >= 0)
		out->memory_available_mb = (double)mi.mem_available_kb / KB_PER_MB;
	return true;
}

static bool collect_load(sc_system_info *out)
{
	char buf[256];
	sc__loadavg la;
	if (sc__read_text_file("/proc/loadavg", buf, sizeof buf, NULL) != 0 ||
	    sc__parse_loadavg(buf, &la) != 0)
		return false;
	memcpy(out->load_avg, la.load, sizeof out->load_avg);
	return true;
}

static bool collect_disk(const char *path, sc_system_info *out)
{
	char *real = realpath(path, NULL);
	if (!real)
		return false;
	struct statvfs vfs;
	bool ok = statvfs(real, &vfs) == 0;
	if (ok) {
		snprintf(out->disk_path, sizeof out->disk_path, "%s", real);
		double block = (double)vfs.f_frsize;
		/* As df(1) reports them: free is what an unprivileged user may still use (f_bavail,
		 * without the blocks reserved for root), and the used share leaves the reserved
		 * blocks out of the denominator, used / (used + available). */
		double used = (double)(vfs.f_blocks - vfs.f_bfree);
		double usable = used + (double)vfs.f_bavail;
		out->disk_total_gb = (double)vfs.f_blocks * block / BYTES_PER_GIB;
		out->disk_free_gb = (double)vfs.f_bavail * block / BYTES_PER_GIB;
		out->disk_used_percent = usable > 0 ? 100.0 * used / usable : NAN;
	}
	free(real);
	return ok;
}

int sc_system_info_collect(const char *disk_path, sc_system_info *out)
{
	if (!out)
		return SC_EINVAL;
	memset(out, 0, sizeof *out); /* the strings start empty */
	out->cpus = -1;
	out->memory_total_mb = NAN;
	out->memory_available_mb = NAN;
	for (int i = 0; i < 3; i++)
		out->load_avg[i] = NAN;
	out->disk_total_gb = NAN;
	out->disk_free_gb = NAN;
	out->disk_used_percent = NAN;

	int collected = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus > 0 && cpus <= INT32_MAX) {
		out->cpus = (int)cpus;
		collected++;
	}
	collected += collect_cpu_model(out);
	collected += collect_uname(out);
	collected += collect_memory(out);
	collected += collect_load(out);
	collected += collect_disk(disk_path ? disk_path : ".", out);
	return collected > 0 ? 0 : SC_EUNAVAILABLE;
}

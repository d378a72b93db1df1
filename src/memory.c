/* memory.c: this process's resident memory (VmRSS) and its peak (VmHWM), and resetting the peak. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

bool sc__self_reset_peak(void)
{
	/* Writing "5" to clear_refs sets mm->hiwater_rss to the current RSS (Linux >= 4.0,
	 * Documentation/filesystems/proc.rst and proc(5)); older kernels reject it with
	 * EINVAL, and some sandboxes do not provide the file. */
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n;
	do {
		n = write(fd, "5", 1);
	} while (n < 0 && errno == EINTR);
	close(fd);
	return n == 1;
}

int sc__self_rss(int64_t *rss_kb, int64_t *hwm_kb)
{
	if (!rss_kb || !hwm_kb)
		return SC_EINVAL;
	/* /proc/self/status is about 1.5 kB; the longest lines (Cpus_allowed on machines with
	 * thousands of CPUs) stay well under this buffer. */
	char buf[16384];
	int rc = sc__read_text_file("/proc/self/status", buf, sizeof buf, NULL);
	if (rc < 0)
		return rc;
	sc__proc_status st;
	rc = sc__parse_proc_status(buf, &st);
	if (rc < 0)
		return rc;
	/* A user process always has both lines; only kernel threads and zombies lack them. */
	if (st.vm_rss_kb < 0 || st.vm_hwm_kb < 0)
		return SC_EUNAVAILABLE;
	*rss_kb = st.vm_rss_kb;
	*hwm_kb = st.vm_hwm_kb;
	return 0;
}

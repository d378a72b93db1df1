/* test_procfs.c: every /proc parser on every fixture in tests/fixtures/proc, exact values, and
 * the errors for empty, truncated, garbage and overlong input. */
#include "check.h"
#include "internal.h"

#include <errno.h>
#include <unistd.h>

/* The largest fixture (cpuinfo_x86.txt) is 2.4 kB. */
static char text[65536];

/* Loads $SC_FIXTURES/proc/NAME into text; a missing fixture is a failed check and empty text. */
static const char *fixture(const char *name)
{
	const char *dir = getenv("SC_FIXTURES");
	char path[4096];
	snprintf(path, sizeof path, "%s/proc/%s", dir ? dir : "tests/fixtures", name);
	int rc = sc__read_text_file(path, text, sizeof text, NULL);
	if (rc != 0) {
		fprintf(stderr, "cannot read fixture %s: %s\n", path, sc_strerror(rc));
		text[0] = '\0';
	}
	CHECK_INT(rc, 0);
	return text;
}

static void test_read_text_file(void)
{
	char buf[16];
	size_t len = 99;
	CHECK_INT(sc__read_text_file("/nonexistent/shotclock", buf, sizeof buf, &len),
	          SC_ENOTFOUND);
	/* open(2) succeeds on a directory, read(2) fails with EISDIR. */
	CHECK_INT(sc__read_text_file("/", buf, sizeof buf, &len), SC_EIO);
	CHECK_INT(errno, EISDIR);
	CHECK_INT(sc__read_text_file("/proc/self/stat", buf, 0, &len), SC_EINVAL);

	/* A longer file is cut at cap - 1 and stays NUL-terminated. */
	const char *dir = getenv("SC_FIXTURES");
	char path[4096];
	snprintf(path, sizeof path, "%s/proc/loadavg.txt", dir ? dir : "tests/fixtures");
	CHECK_INT(sc__read_text_file(path, buf, 10, &len), 0);
	CHECK_INT(len, 9);
	CHECK_STR(buf, "0.26 0.18");
	CHECK_INT(sc__read_text_file(path, buf, sizeof buf, &len), 0);
	CHECK_INT(len, 15);

	/* The live file: size 0 in stat(2), read to the end anyway. */
	char live[4096];
	sc__proc_stat st;
	CHECK_INT(sc__read_text_file("/proc/self/stat", live, sizeof live, &len), 0);
	CHECK(len > 50);
	CHECK_INT(sc__parse_proc_stat(live, &st), 0);
	CHECK_INT(st.pid, getpid());
	CHECK_INT(st.ppid, getppid());
	CHECK(st.state == 'R');
}

static void test_stat_fixtures(void)
{
	sc__proc_stat st;
	/* A process of 4 threads that touched 32 MiB and burned 1.2 s of CPU (captured on
	 * Linux 6.18). */
	CHECK_INT(sc__parse_proc_stat(fixture("stat_threads.txt"), &st), 0);
	CHECK_INT(st.pid, 9933);
	CHECK_STR(st.comm, "shotclock-fixt");
	CHECK_INT(st.state, 'R');
	CHECK_INT(st.ppid, 9926);
	CHECK_INT(st.pgrp, 9926);
	CHECK_INT(st.minflt, 8278);
	CHECK_INT(st.majflt, 0);
	CHECK_INT(st.utime, 120);
	CHECK_INT(st.stime, 1);
	CHECK_INT(st.num_threads, 4);
	CHECK_INT(st.starttime, 74800);
	CHECK_INT(st.vsize, 36102144);
	CHECK_INT(st.rss, 2369);

	/* A kernel thread: parent 0, no memory. */
	CHECK_INT(sc__parse_proc_stat(fixture("stat_kthreadd.txt"), &st), 0);
	CHECK_INT(st.pid, 2);
	CHECK_STR(st.comm, "kthreadd");
	CHECK_INT(st.state, 'S');
	CHECK_INT(st.ppid, 0);
	CHECK_INT(st.pgrp, 0);
	CHECK_INT(st.num_threads, 1);
	CHECK_INT(st.starttime, 30);
	CHECK_INT(st.vsize, 0);
	CHECK_INT(st.rss, 0);

	/* A name with spaces and parentheses, and a real-time priority of -51 in field (18). */
	CHECK_INT(sc__parse_proc_stat(fixture("stat_weird_comm.txt"), &st), 0);
	CHECK_INT(st.pid, 4242);
	CHECK_STR(st.comm, "(my (weird) prog) x");
	CHECK_INT(st.state, 'S');
	CHECK_INT(st.ppid, 1);
	CHECK_INT(st.pgrp, 4242);
	CHECK_INT(st.minflt, 1200);
	CHECK_INT(st.majflt, 3);
	CHECK_INT(st.utime, 250);
	CHECK_INT(st.stime, 40);
	CHECK_INT(st.num_threads, 2);
	CHECK_INT(st.starttime, 123456);
	CHECK_INT(st.vsize, 10485760);
	CHECK_INT(st.rss, 512);

	/* Cut after field (13). */
	CHECK_INT(sc__parse_proc_stat(fixture("stat_truncated.txt"), &st), SC_EPARSE);
}

static void test_stat_errors(void)
{
	sc__proc_stat st = {0};
	/* The 24 fields a parse needs, and a line that is good up to (24) then goes wrong. */
	const char *good = "7 (a) S 1 7 7 0 -1 0 5 0 6 0 8 9 0 0 20 0 1 0 11 4096 3";
	CHECK_INT(sc__parse_proc_stat(good, &st), 0);
	CHECK_INT(st.rss, 3);
	CHECK_INT(st.majflt, 6);
	const char *bad[] = {
	    "",
	    "garbage",
	    "7",
	    "7 (a",
	    "7 (a)",
	    "7 (a) S",
	    "7 a S 1 7 7 0 -1 0 5 0 6 0 8 9 0 0 20 0 1 0 11 4096 3",     /* no parentheses */
	    "0 (a) S 1 7 7 0 -1 0 5 0 6 0 8 9 0 0 20 0 1 0 11 4096 3",   /* pid 0 */
	    "-7 (a) S 1 7 7 0 -1 0 5 0 6 0 8 9 0 0 20 0 1 0 11 4096 3",  /* negative pid */
	    "7 (a) 5 1 7 7 0 -1 0 5 0 6 0 8 9 0 0 20 0 1 0 11 4096 3",   /* state not a letter */
	    "7 (a) S 1 7 7 0 -1 0 5 0 6 0 8 9 0 0 20 0 1 0 11 4096",     /* (24) missing */
	    "7 (a) S 1 7 7 0 -1 0 5 0 6 0 -8 9 0 0 20 0 1 0 11 4096 3",  /* negative utime */
	    "7 (a) S -1 7 7 0 -1 0 5 0 6 0 8 9 0 0 20 0 1 0 11 4096 3",  /* negative ppid */
	    "7 (a) S 1 7 7 0 -1 0 5 0 6 0 8 9 0 0 20 0 1 0 11 4096 3x",  /* garbage after (24) */
	    "7 (a) S 1 7 7 0 -1 0 5 0 6 0 8 9 0 0 20 0 1 0 11 4096 - 3", /* lone sign */
	    "7 (a) S 1 7 7 0 -1 0 5 0 6 0 8  9 0 0 20 0 1 0 11 4096 3",  /* two spaces */
	    "7 (a) S 4294967296 7 7 0 -1 0 5 0 6 0 8 9 0 0 20 0 1 0 11 4096 3", /* ppid > INT_MAX */
	    "99999999999 (a) S 1 7 7 0 -1 0 5 0 6 0 8 9 0 0 20 0 1 0 11 4096 3", /* pid > INT_MAX */
	    /* utime of 2^64: one more than any field can hold */
	    "7 (a) S 1 7 7 0 -1 0 5 0 6 0 18446744073709551616 9 0 0 20 0 1 0 11 4096 3",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		st.pid = 12345;
		CHECK_INT(sc__parse_proc_stat(bad[i], &st), SC_EPARSE);
		CHECK_INT(st.pid, 12345); /* *out is untouched on error */
	}
	/* INT64_MAX and INT64_MIN are the limits of a field. */
	CHECK_INT(
	    sc__parse_proc_stat("7 (a) S 1 7 7 0 -9223372036854775808 0 5 0 6 0 8 9 0 0 20 0 1 "
	                        "0 11 4096 9223372036854775807",
	                        &st),
	    0);
	CHECK(st.rss == INT64_MAX);
	CHECK_INT(sc__parse_proc_stat(NULL, &st), SC_EINVAL);

	/* A name longer than comm[] (kernel worker names reach 64 bytes) is cut to 63 bytes. */
	char line[256];
	snprintf(line, sizeof line, "9 (%s) I 2 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 1 2",
	         "0123456789012345678901234567890123456789012345678901234567890123456789");
	CHECK_INT(sc__parse_proc_stat(line, &st), 0);
	CHECK_STR(st.comm, "012345678901234567890123456789012345678901234567890123456789012");
	CHECK_INT(st.state, 'I');
	CHECK_INT(st.rss, 0);
}

static void test_status(void)
{
	sc__proc_status st;
	CHECK_INT(sc__parse_proc_status(fixture("status_threads.txt"), &st), 0);
	CHECK_INT(st.vm_peak_kb, 51644);
	CHECK_INT(st.vm_size_kb, 35256);
	CHECK_INT(st.vm_hwm_kb, 25616);
	CHECK_INT(st.vm_rss_kb, 9492);
	CHECK_INT(st.rss_anon_kb, 8320);
	CHECK_INT(st.rss_file_kb, 1172);
	CHECK_INT(st.rss_shmem_kb, 0);
	CHECK_INT(st.threads, 4);
	CHECK_INT(st.voluntary_ctxt_switches, 0);
	CHECK_INT(st.nonvoluntary_ctxt_switches, 8);

	/* A kernel thread has no Vm* or Rss* lines. */
	CHECK_INT(sc__parse_proc_status(fixture("status_kthreadd.txt"), &st), 0);
	CHECK_INT(st.vm_peak_kb, -1);
	CHECK_INT(st.vm_size_kb, -1);
	CHECK_INT(st.vm_hwm_kb, -1);
	CHECK_INT(st.vm_rss_kb, -1);
	CHECK_INT(st.rss_anon_kb, -1);
	CHECK_INT(st.rss_file_kb, -1);
	CHECK_INT(st.rss_shmem_kb, -1);
	CHECK_INT(st.threads, 1);
	CHECK_INT(st.voluntary_ctxt_switches, 62);
	CHECK_INT(st.nonvoluntary_ctxt_switches, 0);

	/* Linux 3.10 (before 4.5): no RssAnon, RssFile, RssShmem. */
	CHECK_INT(sc__parse_proc_status(fixture("status_old_kernel.txt"), &st), 0);
	CHECK_INT(st.vm_peak_kb, 116700);
	CHECK_INT(st.vm_size_kb, 116604);
	CHECK_INT(st.vm_hwm_kb, 3300);
	CHECK_INT(st.vm_rss_kb, 3296);
	CHECK_INT(st.rss_anon_kb, -1);
	CHECK_INT(st.rss_file_kb, -1);
	CHECK_INT(st.rss_shmem_kb, -1);
	CHECK_INT(st.threads, 1);
	CHECK_INT(st.voluntary_ctxt_switches, 147);
	CHECK_INT(st.nonvoluntary_ctxt_switches, 12);

	/* The last line may lack its newline. */
	CHECK_INT(sc__parse_proc_status("Name:\tx\nVmRSS:\t  12 kB", &st), 0);
	CHECK_INT(st.vm_rss_kb, 12);
	CHECK_INT(st.vm_hwm_kb, -1);

	const char *bad[] = {
	    "",
	    "garbage\n",
	    "Name:\tx\n",                       /* none of the fields */
	    "VmRSS:\t12 kB\ngarbage\n",         /* a line without ':' */
	    "VmRSS:\t12 MB\n",                  /* unknown unit */
	    "VmRSS:\t-12 kB\n",                 /* negative */
	    "VmRSS:\t kB\n",                    /* no number */
	    "VmRSS:\t9223372036854775808 kB\n", /* INT64_MAX + 1 */
	    "Threads:\t4 5\n",                  /* two numbers */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_INT(sc__parse_proc_status(bad[i], &st), SC_EPARSE);
	}
}

static void test_statm(void)
{
	sc__proc_statm st;
	CHECK_INT(sc__parse_proc_statm(fixture("statm_threads.txt"), &st), 0);
	CHECK_INT(st.size, 8814);
	CHECK_INT(st.resident, 2373);
	CHECK_INT(st.shared, 293);
	CHECK_INT(st.text, 1);
	CHECK_INT(st.lib, 0);
	CHECK_INT(st.data, 8281);
	CHECK_INT(st.dt, 0);
	const char *bad[] = {"",
	                     "1 2 3\n",
	                     "1 2 3 4 5 6 7 8\n",
	                     "1 2 3 4 5 6 -7\n",
	                     "1 2 3 4 5 6 x\n",
	                     "1 2 3 4 5 6 18446744073709551616\n"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_INT(sc__parse_proc_statm(bad[i], &st), SC_EPARSE);
	}
}

static void test_io(void)
{
	sc__proc_io io;
	CHECK_INT(sc__parse_proc_io(fixture("io_threads.txt"), &io), 0);
	CHECK_INT(io.rchar, 38732);
	CHECK_INT(io.wchar, 34752);
	CHECK_INT(io.syscr, 21);
	CHECK_INT(io.syscw, 12);
	CHECK_INT(io.read_bytes, 0);
	CHECK_INT(io.write_bytes, 57344);
	CHECK_INT(io.cancelled_write_bytes, 49152);

	/* Nothing to read from a process we may not inspect: an error, *out untouched. */
	io.rchar = 777;
	CHECK_INT(sc__parse_proc_io(fixture("io_unreadable.txt"), &io), SC_EPARSE);
	CHECK_INT(io.rchar, 777);

	CHECK_INT(sc__parse_proc_io("rchar: 5\n", &io), 0);
	CHECK_INT(io.rchar, 5);
	CHECK_INT(io.wchar, -1);
	CHECK_INT(io.cancelled_write_bytes, -1);
	CHECK_INT(sc__parse_proc_io("rchar: 5x\n", &io), SC_EPARSE);
}

static void test_meminfo(void)
{
	sc__meminfo mi;
	CHECK_INT(sc__parse_meminfo(fixture("meminfo.txt"), &mi), 0);
	CHECK_INT(mi.mem_total_kb, 24684092);
	CHECK_INT(mi.mem_free_kb, 24273228);
	CHECK_INT(mi.mem_available_kb, 24359164);
	CHECK_INT(mi.buffers_kb, 1648);
	CHECK_INT(mi.cached_kb, 274512);
	CHECK_INT(mi.swap_total_kb, 0);
	CHECK_INT(mi.swap_free_kb, 0);

	/* Linux 3.10 (before 3.14): no MemAvailable. */
	CHECK_INT(sc__parse_meminfo(fixture("meminfo_old_kernel.txt"), &mi), 0);
	CHECK_INT(mi.mem_total_kb, 8056452);
	CHECK_INT(mi.mem_free_kb, 1422896);
	CHECK_INT(mi.mem_available_kb, -1);
	CHECK_INT(mi.buffers_kb, 312488);
	CHECK_INT(mi.cached_kb, 4811212);
	CHECK_INT(mi.swap_total_kb, 2097148);
	CHECK_INT(mi.swap_free_kb, 2091004);

	const char *bad[] = {"", "MemFree: 1 kB\n", "MemTotal:\n", "MemTotal: 1 kB\nnonsense\n"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_INT(sc__parse_meminfo(bad[i], &mi), SC_EPARSE);
	}
}

static void test_loadavg(void)
{
	sc__loadavg la;
	/* 26 / 100 is correctly rounded, so it is the very double the literal 0.26 is. */
	CHECK_INT(sc__parse_loadavg(fixture("loadavg.txt"), &la), 0);
	CHECK(la.load[0] == 0.26);
	CHECK(la.load[1] == 0.18);
	CHECK(la.load[2] == 0.08);
	CHECK_INT(la.running, 1);
	CHECK_INT(la.total, 88);
	CHECK_INT(la.last_pid, 10056);

	CHECK_INT(sc__parse_loadavg("123.50 7 0.05 12/3456 4194304", &la), 0);
	CHECK(la.load[0] == 123.5);
	CHECK(la.load[1] == 7.0);
	CHECK(la.load[2] == 0.05);
	CHECK_INT(la.total, 3456);
	CHECK_INT(la.last_pid, 4194304);

	const char *bad[] = {
	    "",
	    "0.26 0.18 0.08 1/88\n",
	    "0.26 0.18 1/88 5\n",
	    "0.26 0.18 0.08 1-88 5\n",
	    "0.26 0.18 0.08 1/88 5 6\n",
	    "-0.26 0.18 0.08 1/88 5\n",
	    "0. 0.18 0.08 1/88 5\n",
	    "0.1234567890123456789 0.18 0.08 1/88 5\n", /* 19 fraction digits */
	    "a b c d e\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_INT(sc__parse_loadavg(bad[i], &la), SC_EPARSE);
	}
}

static void test_cpuinfo(void)
{
	char model[128];
	CHECK_INT(sc__parse_cpuinfo_model(fixture("cpuinfo_x86.txt"), model, sizeof model), 0);
	CHECK_STR(model, "AMD EPYC");
	/* "Model" (the board) wins over "Hardware" (the SoC) on a Raspberry Pi. */
	CHECK_INT(sc__parse_cpuinfo_model(fixture("cpuinfo_arm64_rpi4.txt"), model, sizeof model),
	          0);
	CHECK_STR(model, "Raspberry Pi 4 Model B Rev 1.4");
	CHECK_INT(
	    sc__parse_cpuinfo_model(fixture("cpuinfo_arm64_hardware.txt"), model, sizeof model), 0);
	CHECK_STR(model, "Qualcomm Technologies, Inc SDM845");
	/* Mainline arm64: only the implementer and part codes. */
	CHECK_INT(sc__parse_cpuinfo_model(fixture("cpuinfo_arm64_server.txt"), model, sizeof model),
	          0);
	CHECK_STR(model, "ARM implementer 0x41 part 0xd0c");

	CHECK_INT(sc__parse_cpuinfo_model("system type\t\t: MediaTek MT7621\ncpu model\t\t: MIPS "
	                                  "1004Kc V2.15  \n",
	                                  model, sizeof model),
	          0);
	CHECK_STR(model, "MIPS 1004Kc V2.15");
	/* An empty value is skipped for a later non-empty one. */
	CHECK_INT(sc__parse_cpuinfo_model("model name\t:\nHardware\t: X\n", model, sizeof model),
	          0);
	CHECK_STR(model, "X");
	/* A small buffer gets the start of the name. */
	CHECK_INT(sc__parse_cpuinfo_model(fixture("cpuinfo_x86.txt"), model, 5), 0);
	CHECK_STR(model, "AMD ");

	strcpy(model, "untouched");
	CHECK_INT(sc__parse_cpuinfo_model("", model, sizeof model), SC_ENOTFOUND);
	CHECK_INT(sc__parse_cpuinfo_model("processor\t: 0\nCPU implementer\t: 0x41\n", model,
	                                  sizeof model),
	          SC_ENOTFOUND);
	CHECK_STR(model, "untouched");
	CHECK_INT(sc__parse_cpuinfo_model("model name: x", model, 0), SC_EINVAL);
}

int main(void)
{
	test_read_text_file();
	test_stat_fixtures();
	test_stat_errors();
	test_status();
	test_statm();
	test_io();
	test_meminfo();
	test_loadavg();
	test_cpuinfo();
	return CHECK_DONE();
}

/* procfs.c: reading /proc files and pure parsers of their text (proc(5)) into structs. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * The parsers below take NUL-terminated text and never read past the NUL, so fixture files test
 * them and a fuzzer reaches them. They are strict about the fields they use (a truncated file, a
 * missing field, a number with a sign it cannot have or too many digits is SC_EPARSE) and lenient
 * about the rest, which newer kernels extend. *out is written only when the parse succeeds.
 */

int sc__read_text_file(const char *path, char *buf, size_t cap, size_t *len)
{
	if (!path || !buf || cap == 0)
		return SC_EINVAL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? SC_ENOTFOUND : SC_EIO;
	/* /proc files report size 0 in stat(2) and may return less than asked per read(2), so read
	 * until end of file or until buf is full. */
	size_t used = 0;
	int rc = 0;
	while (used < cap - 1) {
		ssize_t n = read(fd, buf + used, cap - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* A process that exits between open and read gives ESRCH. */
			rc = errno == ENOENT || errno == ESRCH ? SC_ENOTFOUND : SC_EIO;
			break;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	int saved = errno;
	close(fd);
	errno = saved; /* SC_EIO promises that errno tells why. */
	buf[used] = '\0';
	if (len)
		*len = used;
	return rc;
}

/* ---- scanning helpers ----------------------------------------------------------------------- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* An unsigned decimal at *p (at least one digit, no sign) that is at most max; advances *p. */
static bool scan_u64(const char **p, uint64_t max, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	if (!is_digit(*s))
		return false;
	for (; is_digit(*s); s++) {
		uint64_t d = (uint64_t)(*s - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return true;
}

/* A decimal with an optional '-' that fits in int64_t; advances *p. */
static bool scan_i64(const char **p, int64_t *out)
{
	const char *s = *p;
	bool negative = *s == '-';
	uint64_t magnitude;
	if (negative)
		s++;
	if (!scan_u64(&s, negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &magnitude))
		return false;
	/* Negating through uint64_t keeps INT64_MIN representable without overflow. */
	*out = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
	*p = s;
	return true;
}

/* A non-negative decimal with an optional fraction ("0.74", as the kernel prints load averages);
 * at most 18 fraction digits so that the scale stays exact in a uint64_t. */
static bool scan_decimal(const char **p, double *out)
{
	uint64_t whole, fraction = 0, scale = 1;
	if (!scan_u64(p, UINT64_MAX, &whole))
		return false;
	if (**p == '.') {
		const char *s = *p + 1;
		if (!is_digit(*s))
			return false;
		for (; is_digit(*s); s++) {
			if (scale == 1000000000000000000u)
				return false;
			fraction = fraction * 10 + (uint64_t)(*s - '0');
			scale *= 10;
		}
		*p = s;
	}
	*out = (double)whole + (double)fraction / (double)scale;
	return true;
}

/* True when only blanks and at most one final newline remain. */
static bool at_end(const char *p)
{
	p = skip_blanks(p);
	if (*p == '\n')
		p++;
	return *p == '\0';
}

/* ---- /proc/PID/stat ------------------------------------------------------------------------ */

/* The last field of /proc/PID/stat that sc__proc_stat holds: (24) rss. */
#define STAT_LAST_FIELD 24

int sc__parse_proc_stat(const char *text, sc__proc_stat *out)
{
	if (!text || !out)
		return SC_EINVAL;
	sc__proc_stat st = {0};
	const char *p = text;
	uint64_t pid;

	/* (1) pid */
	if (!scan_u64(&p, INT_MAX, &pid) || pid == 0 || p[0] != ' ' || p[1] != '(')
		return SC_EPARSE;
	st.pid = (int)pid;

	/* (2) comm, in parentheses. The name itself may hold spaces and ')' (prctl(PR_SET_NAME)
	 * takes any bytes), so, as procps does, the name ends at the LAST ')' of the line: every
	 * later field is a number. A longer name than comm[] holds is truncated. */
	const char *name = p + 2;
	const char *close = strrchr(name, ')');
	if (!close)
		return SC_EPARSE;
	size_t name_len = (size_t)(close - name);
	if (name_len >= sizeof st.comm)
		name_len = sizeof st.comm - 1;
	memcpy(st.comm, name, name_len);
	p = close + 1;

	/* (3) state: one letter (R, S, D, Z, T, t, W, X, x, K, P, I depending on the kernel). */
	if (p[0] != ' ' || !((p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' && p[1] <= 'z')))
		return SC_EPARSE;
	st.state = p[1];
	p += 2;

	/* (4) to (24) are integers separated by one space; field[i] is proc(5)'s field (i). Signed
	 * ones such as (8) tpgid = -1 or (18) priority of a real-time task are negative. */
	int64_t field[STAT_LAST_FIELD + 1] = {0};
	for (int i = 4; i <= STAT_LAST_FIELD; i++) {
		if (*p != ' ')
			return SC_EPARSE;
		p++;
		if (!scan_i64(&p, &field[i]))
			return SC_EPARSE;
	}
	/* Later kernels append more fields; anything else after (24) is garbage. */
	if (*p != ' ' && *p != '\n' && *p != '\0')
		return SC_EPARSE;

	/* The fields kept are IDs and counts, which cannot be negative. */
	static const int kept[] = {4, 5, 10, 12, 14, 15, 20, 22, 23, 24};
	for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
		if (field[kept[i]] < 0)
			return SC_EPARSE;
	}
	if (field[4] > INT_MAX || field[5] > INT_MAX)
		return SC_EPARSE;
	st.ppid = (int)field[4];            /* (4) ppid */
	st.pgrp = (int)field[5];            /* (5) pgrp */
	st.minflt = (uint64_t)field[10];    /* (10) minflt */
	st.majflt = (uint64_t)field[12];    /* (12) majflt */
	st.utime = (uint64_t)field[14];     /* (14) utime, clock ticks */
	st.stime = (uint64_t)field[15];     /* (15) stime, clock ticks */
	st.num_threads = field[20];         /* (20) num_threads */
	st.starttime = (uint64_t)field[22]; /* (22) starttime, clock ticks since boot */
	st.vsize = (uint64_t)field[23];     /* (23) vsize, bytes */
	st.rss = field[STAT_LAST_FIELD];    /* (24) rss, pages */
	*out = st;
	return 0;
}

/* ---- /proc/PID/statm ----------------------------------------------------------------------- */

int sc__parse_proc_statm(const char *text, sc__proc_statm *out)
{
	if (!text || !out)
		return SC_EINVAL;
	sc__proc_statm st;
	/* proc(5): size resident shared text lib data dt, in pages, separated by single spaces. */
	uint64_t *field[] = {&st.size, &st.resident, &st.shared, &st.text,
	                     &st.lib,  &st.data,     &st.dt};
	const char *p = text;
	for (size_t i = 0; i < sizeof field / sizeof field[0]; i++) {
		if (i > 0 && *p++ != ' ')
			return SC_EPARSE;
		if (!scan_u64(&p, UINT64_MAX, field[i]))
			return SC_EPARSE;
	}
	if (!at_end(p))
		return SC_EPARSE;
	*out = st;
	return 0;
}

/* ---- "Key: value" files: /proc/PID/status, /proc/PID/io, /proc/meminfo ---------------------- */

/* A field these files hold, and where its value goes. */
typedef struct kv_field {
	const char *key;
	int64_t *value;
} kv_field;

/*
 * Every line is "Key:" and a value. The value of a key in fields[] must be a non-negative integer
 * with an optional "kB" unit; other keys' values are not looked at. Fields not in the text stay as
 * the caller set them (-1). Returns how many of fields[] were found, or SC_EPARSE.
 */
static int parse_key_values(const char *text, const kv_field *fields, size_t n_fields)
{
	int found = 0;
	const char *line = text;
	while (*line) {
		const char *end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		const char *colon = memchr(line, ':', (size_t)(end - line));
		if (!colon)
			return SC_EPARSE;
		size_t key_len = (size_t)(colon - line);
		for (size_t i = 0; i < n_fields; i++) {
			if (strlen(fields[i].key) != key_len ||
			    memcmp(fields[i].key, line, key_len))
				continue;
			const char *p = skip_blanks(colon + 1);
			uint64_t v;
			if (!scan_u64(&p, INT64_MAX, &v))
				return SC_EPARSE;
			p = skip_blanks(p);
			if (p[0] == 'k' && p[1] == 'B')
				p = skip_blanks(p + 2);
			if (p != end)
				return SC_EPARSE;
			*fields[i].value = (int64_t)v;
			found++;
			break;
		}
		line = *end ? end + 1 : end;
	}
	return found;
}

int sc__parse_proc_status(const char *text, sc__proc_status *out)
{
	if (!text || !out)
		return SC_EINVAL;
	sc__proc_status st = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
	/* proc(5) /proc/PID/status. Kernel threads and zombies have no Vm* lines; RssAnon, RssFile
	 * and RssShmem appeared in Linux 4.5. */
	const kv_field fields[] = {
	    {"VmPeak", &st.vm_peak_kb},
	    {"VmSize", &st.vm_size_kb},
	    {"VmHWM", &st.vm_hwm_kb},
	    {"VmRSS", &st.vm_rss_kb},
	    {"RssAnon", &st.rss_anon_kb},
	    {"RssFile", &st.rss_file_kb},
	    {"RssShmem", &st.rss_shmem_kb},
	    {"Threads", &st.threads},
	    {"voluntary_ctxt_switches", &st.voluntary_ctxt_switches},
	    {"nonvoluntary_ctxt_switches", &st.nonvoluntary_ctxt_switches},
	};
	/* Every kernel since 2.6 prints Threads and the context switches, so text with none of the
	 * fields is not a status file. */
	if (parse_key_values(text, fields, sizeof fields / sizeof fields[0]) <= 0)
		return SC_EPARSE;
	*out = st;
	return 0;
}

int sc__parse_proc_io(const char *text, sc__proc_io *out)
{
	if (!text || !out)
		return SC_EINVAL;
	sc__proc_io io = {-1, -1, -1, -1, -1, -1, -1};
	/* proc(5) /proc/PID/io. */
	const kv_field fields[] = {
	    {"rchar", &io.rchar},
	    {"wchar", &io.wchar},
	    {"syscr", &io.syscr},
	    {"syscw", &io.syscw},
	    {"read_bytes", &io.read_bytes},
	    {"write_bytes", &io.write_bytes},
	    {"cancelled_write_bytes", &io.cancelled_write_bytes},
	};
	/* Empty text (what a reader gets from a process it may not inspect) holds no figure. */
	if (parse_key_values(text, fields, sizeof fields / sizeof fields[0]) <= 0)
		return SC_EPARSE;
	*out = io;
	return 0;
}

int sc__parse_meminfo(const char *text, sc__meminfo *out)
{
	if (!text || !out)
		return SC_EINVAL;
	sc__meminfo mi = {-1, -1, -1, -1, -1, -1, -1};
	/* proc(5) /proc/meminfo. MemAvailable appeared in Linux 3.14. */
	const kv_field fields[] = {
	    {"MemTotal", &mi.mem_total_kb},
	    {"MemFree", &mi.mem_free_kb},
	    {"MemAvailable", &mi.mem_available_kb},
	    {"Buffers", &mi.buffers_kb},
	    {"Cached", &mi.cached_kb},
	    {"SwapTotal", &mi.swap_total_kb},
	    {"SwapFree", &mi.swap_free_kb},
	};
	/* MemTotal is the first line on every kernel; without it the text is not meminfo. */
	if (parse_key_values(text, fields, sizeof fields / sizeof fields[0]) < 0 ||
	    mi.mem_total_kb < 0)
		return SC_EPARSE;
	*out = mi;
	return 0;
}

/* ---- /proc/loadavg -------------------------------------------------------------------------- */

int sc__parse_loadavg(const char *text, sc__loadavg *out)
{
	if (!text || !out)
		return SC_EINVAL;
	sc__loadavg la;
	const char *p = text;
	uint64_t running, total, last_pid;
	/* proc(5): the 1, 5 and 15 minute load averages, "running/total" scheduling entities, and
	 * the most recently created PID: "0.74 0.21 0.08 1/90 9392". */
	for (int i = 0; i < 3; i++) {
		if (!scan_decimal(&p, &la.load[i]) || *p++ != ' ')
			return SC_EPARSE;
	}
	if (!scan_u64(&p, INT64_MAX, &running) || *p++ != '/' || !scan_u64(&p, INT64_MAX, &total) ||
	    *p++ != ' ' || !scan_u64(&p, INT64_MAX, &last_pid) || !at_end(p))
		return SC_EPARSE;
	la.running = (int64_t)running;
	la.total = (int64_t)total;
	la.last_pid = (int64_t)last_pid;
	*out = la;
	return 0;
}

/* ---- /proc/cpuinfo -------------------------------------------------------------------------- */

/*
 * The keys that name the CPU, best first: "model name" (x86, and 32-bit ARM), "Model" (the board,
 * printed by Raspberry Pi kernels), "Hardware" (the SoC, printed by 32-bit ARM and vendor arm64
 * kernels), "cpu model" (MIPS). Mainline arm64 kernels print none of them; then the model is
 * built from the first "CPU implementer" and "CPU part" codes (e.g. "ARM implementer 0x41 part
 * 0xd0c"), which identify the core as lscpu's tables do.
 */
static const char *const cpuinfo_model_keys[] = {"model name", "Model",           "Hardware",
                                                 "cpu model",  "CPU implementer", "CPU part"};
#define CPUINFO_NAMED_KEYS 4 /* the first four name the CPU; the last two are the fallback */
#define CPUINFO_N_KEYS     (sizeof cpuinfo_model_keys / sizeof cpuinfo_model_keys[0])

/* Copies [s, s + n) into dst[cap] (cap >= 1), truncating. */
static void copy_truncated(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

int sc__parse_cpuinfo_model(const char *text, char *model, size_t cap)
{
	if (!text || !model || cap == 0)
		return SC_EINVAL;
	/* The first non-empty value of each key, found in one pass. */
	const char *value[CPUINFO_N_KEYS] = {NULL};
	size_t value_len[CPUINFO_N_KEYS] = {0};
	const char *line = text;
	while (*line) {
		const char *end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		const char *colon = memchr(line, ':', (size_t)(end - line));
		if (colon) {
			/* "Key<tabs or spaces>: value"; blank lines and lines without ':' separate
			 * processors and carry nothing. */
			const char *key_end = colon;
			while (key_end > line && (key_end[-1] == ' ' || key_end[-1] == '\t'))
				key_end--;
			const char *v = skip_blanks(colon + 1);
			const char *v_end = end;
			while (v_end > v && (v_end[-1] == ' ' || v_end[-1] == '\t'))
				v_end--;
			size_t key_len = (size_t)(key_end - line);
			for (size_t i = 0; i < CPUINFO_N_KEYS; i++) {
				if (!value[i] && v_end > v &&
				    strlen(cpuinfo_model_keys[i]) == key_len &&
				    memcmp(cpuinfo_model_keys[i], line, key_len) == 0) {
					value[i] = v;
					value_len[i] = (size_t)(v_end - v);
				}
			}
		}
		line = *end ? end + 1 : end;
	}
	for (size_t i = 0; i < CPUINFO_NAMED_KEYS; i++) {
		if (value[i]) {
			copy_truncated(model, cap, value[i], value_len[i]);
			return 0;
		}
	}
	if (value[4] && value[5]) {
		/* The codes are short ("0x41"); longer values are cut so that both fit. */
		int implementer_len = value_len[4] < 16 ? (int)value_len[4] : 16;
		int part_len = value_len[5] < 16 ? (int)value_len[5] : 16;
		snprintf(model, cap, "ARM implementer %.*s part %.*s", implementer_len, value[4],
		         part_len, value[5]);
		return 0;
	}
	return SC_ENOTFOUND;
}

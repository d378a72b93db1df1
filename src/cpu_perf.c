/* cpu_perf.c: the perf_event_open cpu-clock sampler of a command, read from per-CPU ring buffers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cpu_samples.h"
#include "internal.h"

/* More CPUs than this in /sys/devices/system/cpu/online is taken for a malformed list. */
#define MAX_CPUS 8192

/* The perf x86-64 user registers the DWARF unwinder needs: AX BX CX DX SI DI BP SP IP (bits 0-8)
 * and R8..R15 (bits 16-23). The segment registers are refused by the kernel on x86-64. */
#define DWARF_REGS_MASK ((uint64_t)0x1ff | ((uint64_t)0xff << 16))

/* With frame pointers: BP, SP and IP (bits 6-8) and the top FP_STACK_BYTES of the stack, where a
 * function that has not set up its frame pointer keeps its return address, at rsp + 8 per register
 * it pushed (a leaf saving all six callee-saved registers: rsp + 48) plus any space it reserved.
 * The builder puts that caller back into the chain (cpu_profile.c, fix_leaf_caller). Measured on
 * a frameless leaf (cpu_ratio), sort and gzip (Debian's, built without frame pointers): the slot
 * is mostly at rsp + 0 to + 72, and 128 bytes hold every slot up to rsp + 120, where 64 would miss
 * gzip's + 72 and + 88 (6% of its samples). A function with a large frame (sort's hottest, + 8648)
 * is out of reach of any small copy and keeps the chain as it was. The kernel copies the bytes in
 * the sample's interrupt: 176 bytes more per record, no measurable time. */
#define FP_REGS_MASK   ((uint64_t)0x7 << 6)
#define FP_STACK_BYTES 128

/* How long the buffers must hold samples between two reads, with margin: the reader wakes at a
 * quarter full and at least every POLL_MS, so this is several times what it ever waits. */
#define BUFFERED_S 0.05
#define POLL_MS    20

typedef struct ring {
	int fd;
	void *base; /* the metadata page, then data_bytes of records */
	bool hung_up;
} ring;

struct sc__perf_sampler {
	ring *rings;
	size_t n_rings;
	size_t page;
	size_t data_bytes; /* a power of two */
	sc__perf_layout layout;
	int wake_fd; /* an eventfd: a write stops the reader */
	pthread_t reader;
	bool reader_running;
	unsigned char *copy; /* data_bytes: one buffer's records with the wrap undone */
	sc__cpu_raw raw;     /* the reader's until finish joins it */
	int err;             /* the first SC_ENOMEM met while decoding */
	uint64_t parse_errors;
	bool finished;
};

static long perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group,
                            unsigned long flags)
{
	return syscall(SYS_perf_event_open, attr, pid, cpu, group, flags);
}

/* Parses a CPU list ("0-3,8,10-11\n", cpulist format) into a sorted array. 0, SC_EPARSE or
 * SC_ENOMEM. */
static int parse_cpu_list(const char *text, int **cpus, size_t *n)
{
	*cpus = NULL;
	*n = 0;
	size_t cap = 0;
	const char *p = text;
	while (*p && *p != '\n') {
		char *end;
		long lo = strtol(p, &end, 10), hi = lo;
		if (end == p || lo < 0 || lo >= MAX_CPUS)
			goto bad;
		p = end;
		if (*p == '-') {
			hi = strtol(p + 1, &end, 10);
			if (end == p + 1 || hi < lo || hi >= MAX_CPUS)
				goto bad;
			p = end;
		}
		for (long c = lo; c <= hi; c++) {
			if (*n == cap) {
				size_t want = cap ? cap * 2 : 16;
				int *grown = realloc(*cpus, want * sizeof **cpus);
				if (!grown) {
					free(*cpus);
					*cpus = NULL;
					*n = 0;
					return SC_ENOMEM;
				}
				*cpus = grown;
				cap = want;
			}
			(*cpus)[(*n)++] = (int)c;
		}
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			goto bad;
	}
	if (*n == 0)
		goto bad;
	return 0;
bad:
	free(*cpus);
	*cpus = NULL;
	*n = 0;
	return SC_EPARSE;
}

/* Data pages per buffer: a power of two holding BUFFERED_S of samples at rate_hz, twice over. A
 * frame-pointer sample is under 1 KiB; a dwarf one carries SC__CPU_STACK_BYTES and the registers.
 * At least 128 pages, which with the metadata page is exactly the 516 KiB per CPU the kernel lets
 * an unprivileged user lock (kernel.perf_event_mlock_kb). */
static size_t data_pages(double rate_hz, bool dwarf, size_t page)
{
	double per_sample = dwarf ? SC__CPU_STACK_BYTES + 1024.0 : 1024.0;
	double want = 2 * rate_hz * BUFFERED_S * per_sample / (double)page;
	size_t pages = 128;
	/* At most 16 MiB per CPU (4 KiB pages), which holds 100 ms of dwarf samples at 10 kHz. */
	while ((double)pages < want && pages < ((size_t)1 << 12))
		pages *= 2;
	return pages;
}

static void close_rings(sc__perf_sampler *s)
{
	for (size_t i = 0; i < s->n_rings; i++) {
		if (s->rings[i].base)
			munmap(s->rings[i].base, s->page + s->data_bytes);
		if (s->rings[i].fd >= 0)
			close(s->rings[i].fd);
	}
	free(s->rings);
	s->rings = NULL;
	s->n_rings = 0;
}

/* Copies out whatever records ring r holds, hands the space back to the kernel and decodes
 * them. Called by the reader thread, or after it ended by finish. */
static void drain(sc__perf_sampler *s, ring *r)
{
	struct perf_event_mmap_page *meta = r->base;
	const unsigned char *data = (const unsigned char *)r->base + s->page;
	/* The acquire pairs with the kernel's store of data_head after it wrote the records. */
	uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = meta->data_tail;
	uint64_t len = head - tail;
	if (len == 0)
		return;
	if (len > s->data_bytes) {
		/* Impossible unless the kernel overwrote what was not read; start afresh. */
		__atomic_store_n(&meta->data_tail, head, __ATOMIC_RELEASE);
		s->parse_errors++;
		return;
	}
	/* Records may straddle the end of the buffer: copy in up to two pieces, wrap undone. */
	size_t mask = s->data_bytes - 1;
	size_t from = (size_t)(tail & mask);
	size_t first = s->data_bytes - from < len ? s->data_bytes - from : (size_t)len;
	memcpy(s->copy, data + from, first);
	memcpy(s->copy + first, data, (size_t)len - first);
	/* The release orders the copy before the kernel may write over the space. */
	__atomic_store_n(&meta->data_tail, head, __ATOMIC_RELEASE);
	int rc = sc__perf_decode(s->copy, (size_t)len, &s->layout, &s->raw);
	if (rc == SC_ENOMEM && !s->err)
		s->err = rc;
	else if (rc)
		s->parse_errors++;
}

static void *reader_main(void *arg)
{
	sc__perf_sampler *s = arg;
	size_t n = s->n_rings + 1;
	struct pollfd *fds = calloc(n, sizeof *fds);
	for (;;) {
		if (fds) {
			for (size_t i = 0; i < s->n_rings; i++)
				fds[i] =
				    (struct pollfd){.fd = s->rings[i].hung_up ? -1 : s->rings[i].fd,
				                    .events = POLLIN};
			fds[s->n_rings] = (struct pollfd){.fd = s->wake_fd, .events = POLLIN};
			poll(fds, n, POLL_MS);
			if (fds[s->n_rings].revents)
				break;
			/* An event whose task has exited reports POLLHUP for good: polling it
			 * again would spin, and finish drains it anyway. */
			for (size_t i = 0; i < s->n_rings; i++)
				if (fds[i].revents & (POLLHUP | POLLERR))
					s->rings[i].hung_up = true;
		} else {
			/* Without memory for the poll set, reading on a timer still works. */
			struct timespec ts = {0, POLL_MS * 1000000L};
			nanosleep(&ts, NULL);
			uint64_t v;
			if (read(s->wake_fd, &v, sizeof v) == (ssize_t)sizeof v)
				break;
		}
		for (size_t i = 0; i < s->n_rings; i++)
			drain(s, &s->rings[i]);
	}
	free(fds);
	return NULL;
}

/* Fills why with "perf_event_open: <reason>" for errno e. */
static void explain_open_error(int e, char *why, size_t why_cap)
{
	if (!why || !why_cap)
		return;
	if (e == EACCES || e == EPERM) {
		char level[32] = "";
		if (sc__read_text_file("/proc/sys/kernel/perf_event_paranoid", level, sizeof level,
		                       NULL) == 0)
			level[strcspn(level, "\n")] = '\0';
		if (level[0])
			snprintf(
			    why, why_cap,
			    "perf_event_open: Permission denied (kernel.perf_event_paranoid is %s)",
			    level);
		else
			snprintf(why, why_cap, "perf_event_open: Permission denied");
		return;
	}
	snprintf(why, why_cap, "perf_event_open: %s", strerror(e));
}

static void init_attr(struct perf_event_attr *a, const sc__perf_options *o)
{
	memset(a, 0, sizeof *a);
	a->size = sizeof *a;
	a->type = PERF_TYPE_SOFTWARE;
	a->config = PERF_COUNT_SW_CPU_CLOCK;
	/* A fixed period of CPU time (not frequency mode): every sample stands for the same time,
	 * so counts are proportional to CPU time without weighting. */
	double rate =
	    o && o->rate_hz > 0 && isfinite(o->rate_hz) ? o->rate_hz : SC__CPU_DEFAULT_RATE_HZ;
	double period = round(1e9 / rate);
	a->sample_period = period < 1000 ? 1000 : (uint64_t)period;
	a->sample_type =
	    PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CALLCHAIN;
	a->sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
	if (o && o->dwarf) {
		a->sample_regs_user = DWARF_REGS_MASK;
		a->sample_stack_user = SC__CPU_STACK_BYTES;
	} else {
		a->sample_regs_user = FP_REGS_MASK;
		a->sample_stack_user = FP_STACK_BYTES;
	}
	/* User space only: kernel.perf_event_paranoid 2 allows no more, and the profile is of the
	 * program's own code. */
	a->exclude_kernel = 1;
	a->exclude_hv = 1;
	a->exclude_callchain_kernel = 1;
	/* Disabled until the spawner's child execs the command, then on in it, its threads and
	 * its children. */
	a->inherit = 1;
	a->disabled = 1;
	a->enable_on_exec = 1;
	/* Side-band records: where code is mapped (so PIE and shared libraries symbolize after the
	 * process is gone), execs and forks. */
	a->mmap = 1;
	a->mmap2 = 1;
	a->comm = 1;
	a->comm_exec = 1;
	a->task = 1;
	a->sample_id_all = 1;
	/* The time of CLOCK_MONOTONIC, which the rest of the library reads. */
	a->use_clockid = 1;
	a->clockid = CLOCK_MONOTONIC;
	a->watermark = 1;
}

int sc__perf_sampler_start(pid_t pid, const sc__perf_options *o, sc__perf_sampler **out, char *why,
                           size_t why_cap)
{
	*out = NULL;
	if (why && why_cap)
		why[0] = '\0';
	char text[4096];
	int *cpus = NULL;
	size_t n_cpus = 0;
	int rc = sc__read_text_file("/sys/devices/system/cpu/online", text, sizeof text, NULL);
	if (rc == 0)
		rc = parse_cpu_list(text, &cpus, &n_cpus);
	if (rc == SC_ENOMEM)
		return rc;
	if (rc) {
		if (why && why_cap)
			snprintf(why, why_cap, "perf_event_open: cannot read the online CPUs");
		return SC_EUNAVAILABLE;
	}

	sc__perf_sampler *s = calloc(1, sizeof *s);
	if (!s) {
		free(cpus);
		return SC_ENOMEM;
	}
	sc__cpu_raw_init(&s->raw);
	s->wake_fd = -1;
	s->page = (size_t)sysconf(_SC_PAGESIZE);
	struct perf_event_attr attr;
	init_attr(&attr, o);
	s->layout = (sc__perf_layout){.sample_type = attr.sample_type,
	                              .sample_regs_user = attr.sample_regs_user,
	                              .sample_id_all = true};
	size_t pages = data_pages(o && o->rate_hz > 0 ? o->rate_hz : SC__CPU_DEFAULT_RATE_HZ,
	                          o && o->dwarf, s->page);
	/* Wake the reader at a quarter full. Should the buffers have to shrink below, the reader's
	 * POLL_MS timer still reads them in time. */
	attr.wakeup_watermark = (uint32_t)(pages * s->page / 4);
	s->rings = calloc(n_cpus, sizeof *s->rings);
	if (!s->rings) {
		rc = SC_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n_cpus; i++)
		s->rings[i].fd = -1;
	s->n_rings = n_cpus;

	for (size_t i = 0; i < n_cpus; i++) {
		/* One event per CPU: the kernel refuses mmap on an inherited event of a task on
		 * every CPU (cpu -1), and records go to the buffer of the CPU they happened on. */
		long fd = perf_event_open(&attr, pid, cpus[i], -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0 && i == 0 && (errno == EINVAL || errno == EOPNOTSUPP) &&
		    !(o && o->dwarf) && (attr.sample_type & PERF_SAMPLE_STACK_USER)) {
			/* A kernel that cannot copy user registers and stack still gives frame
			 * pointer chains: only the leaf's caller is then left to the chain. */
			attr.sample_type &=
			    ~(uint64_t)(PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER);
			attr.sample_regs_user = 0;
			attr.sample_stack_user = 0;
			s->layout.sample_type = attr.sample_type;
			s->layout.sample_regs_user = 0;
			fd = perf_event_open(&attr, pid, cpus[i], -1, PERF_FLAG_FD_CLOEXEC);
		}
		if (fd < 0) {
			explain_open_error(errno, why, why_cap);
			rc = SC_EUNAVAILABLE;
			goto fail;
		}
		s->rings[i].fd = (int)fd;
	}
	/* Every buffer the same size; a smaller one when the locked-memory limit refuses it. */
	for (;;) {
		s->data_bytes = pages * s->page;
		size_t i;
		int e = 0;
		for (i = 0; i < n_cpus; i++) {
			void *m = mmap(NULL, s->page + s->data_bytes, PROT_READ | PROT_WRITE,
			               MAP_SHARED, s->rings[i].fd, 0);
			if (m == MAP_FAILED) {
				e = errno;
				break;
			}
			s->rings[i].base = m;
		}
		if (i == n_cpus)
			break;
		for (size_t j = 0; j < i; j++) {
			munmap(s->rings[j].base, s->page + s->data_bytes);
			s->rings[j].base = NULL;
		}
		if ((e == EPERM || e == ENOMEM) && pages > 16) {
			pages /= 2;
			continue;
		}
		if (why && why_cap)
			snprintf(why, why_cap, "perf_event_open: mmap of the sample buffer: %s",
			         strerror(e));
		rc = SC_EUNAVAILABLE;
		goto fail;
	}
	s->copy = malloc(s->data_bytes);
	if (!s->copy) {
		rc = SC_ENOMEM;
		goto fail;
	}
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0) {
		if (why && why_cap)
			snprintf(why, why_cap, "perf_event_open: eventfd: %s", strerror(errno));
		rc = SC_EUNAVAILABLE;
		goto fail;
	}
	if (pthread_create(&s->reader, NULL, reader_main, s) != 0) {
		rc = SC_ENOMEM;
		goto fail;
	}
	s->reader_running = true;
	free(cpus);
	*out = s;
	return 0;
fail:
	free(cpus);
	sc__perf_sampler_free(s);
	return rc;
}

static void stop_reader(sc__perf_sampler *s)
{
	if (!s->reader_running)
		return;
	uint64_t one = 1;
	/* An eventfd write of 1 cannot fail short of overflowing its counter. */
	if (write(s->wake_fd, &one, sizeof one) < 0) {
	}
	pthread_join(s->reader, NULL);
	s->reader_running = false;
}

int sc__perf_sampler_finish(sc__perf_sampler *s, sc__cpu_raw *raw)
{
	if (s->finished)
		return 0;
	s->finished = true;
	/* The spawner keeps its events for the next run: stop them before the last read. */
	for (size_t i = 0; i < s->n_rings; i++)
		ioctl(s->rings[i].fd, PERF_EVENT_IOC_DISABLE, 0);
	stop_reader(s);
	for (size_t i = 0; i < s->n_rings; i++)
		drain(s, &s->rings[i]);
	int rc = s->err;
	if (rc == 0) {
		bool empty = raw->n_samples == 0 && raw->n_maps == 0 && raw->n_processes == 0 &&
		             raw->lost == 0;
		if (empty) {
			/* Nothing to keep in the caller's store: hand over the arrays as they are.
			 */
			sc__cpu_raw_release(raw);
			*raw = s->raw;
			sc__cpu_raw_init(&s->raw);
		} else {
			rc = sc__cpu_raw_append(raw, &s->raw);
		}
	}
	sc__cpu_raw_release(&s->raw);
	return rc;
}

void sc__perf_sampler_free(sc__perf_sampler *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_rings; i++)
		if (s->rings[i].fd >= 0)
			ioctl(s->rings[i].fd, PERF_EVENT_IOC_DISABLE, 0);
	stop_reader(s);
	close_rings(s);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	free(s->copy);
	sc__cpu_raw_release(&s->raw);
	free(s);
}

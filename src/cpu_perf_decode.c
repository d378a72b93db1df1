/* cpu_perf_decode.c: decoding perf_event ring buffer records into the raw CPU sample store. */
#include <linux/perf_event.h>
#include <stdint.h>
#include <string.h>

#include "cpu_samples.h"
#include "internal.h"

/*
 * The records are laid out as include/uapi/linux/perf_event.h describes under enum
 * perf_event_type. Every read goes through a cursor that checks the bytes are there, so a
 * truncated or lying record ends decoding with SC_EPARSE instead of reading past the buffer.
 * The buffer need not be aligned (a fuzzer's is not): fields are copied out with memcpy.
 */

/* Callchain entries at or above this are context markers (PERF_CONTEXT_USER, ...), not
 * addresses. */
#define CONTEXT_MARKER_MIN ((uint64_t)-4095)

/* The perf x86-64 register (enum perf_event_x86_regs) holding each DWARF register 0..16:
 * DWARF numbers rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip, perf numbers AX BX CX DX SI DI BP
 * SP IP FLAGS CS SS DS ES FS GS R8..R15. */
static const unsigned char perf_reg_of_dwarf[SC__CPU_NREGS] = {
    [0] = 0,   /* rax: AX */
    [1] = 3,   /* rdx: DX */
    [2] = 2,   /* rcx: CX */
    [3] = 1,   /* rbx: BX */
    [4] = 4,   /* rsi: SI */
    [5] = 5,   /* rdi: DI */
    [6] = 6,   /* rbp: BP */
    [7] = 7,   /* rsp: SP */
    [8] = 16,  /* r8: R8 */
    [9] = 17,  /* r9: R9 */
    [10] = 18, /* r10: R10 */
    [11] = 19, /* r11: R11 */
    [12] = 20, /* r12: R12 */
    [13] = 21, /* r13: R13 */
    [14] = 22, /* r14: R14 */
    [15] = 23, /* r15: R15 */
    [16] = 8,  /* rip: IP */
};

typedef struct cursor {
	const unsigned char *p;
	size_t left;
} cursor;

static int take(cursor *c, void *out, size_t n)
{
	if (n > c->left)
		return SC_EPARSE;
	if (out)
		memcpy(out, c->p, n);
	c->p += n;
	c->left -= n;
	return 0;
}

static int take_u64(cursor *c, uint64_t *v)
{
	return take(c, v, sizeof *v);
}

static int take_u32(cursor *c, uint32_t *v)
{
	return take(c, v, sizeof *v);
}

static int skip(cursor *c, size_t n)
{
	return take(c, NULL, n);
}

/* The time in a non-sample record's trailing sample_id (sample_id_all), 0 when the layout has
 * none. body_len is the record's length after its header; *id_start is where the sample_id
 * begins, so that a name in the record cannot run into it. */
static int sample_id_time(const unsigned char *body, size_t body_len, const sc__perf_layout *layout,
                          size_t *id_start, uint64_t *time_ns)
{
	*time_ns = 0;
	*id_start = body_len;
	if (!layout->sample_id_all)
		return 0;
	/* struct sample_id: { pid, tid } TID, time TIME, id ID, stream_id STREAM_ID, { cpu, res }
	 * CPU, id IDENTIFIER; each present field is 8 bytes. */
	static const uint64_t fields[] = {PERF_SAMPLE_TID, PERF_SAMPLE_TIME,
	                                  PERF_SAMPLE_ID,  PERF_SAMPLE_STREAM_ID,
	                                  PERF_SAMPLE_CPU, PERF_SAMPLE_IDENTIFIER};
	size_t size = 0;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (layout->sample_type & fields[i])
			size += 8;
	if (size > body_len)
		return SC_EPARSE;
	*id_start = body_len - size;
	if (layout->sample_type & PERF_SAMPLE_TIME) {
		size_t at = *id_start + ((layout->sample_type & PERF_SAMPLE_TID) ? 8 : 0);
		memcpy(time_ns, body + at, sizeof *time_ns);
	}
	return 0;
}

/* A NUL-terminated name inside [p, p + len); SC_EPARSE when it has no terminator there. */
static int name_in(const unsigned char *p, size_t len, const char **name)
{
	if (!memchr(p, '\0', len))
		return SC_EPARSE;
	*name = (const char *)p;
	return 0;
}

static int decode_sample(cursor *c, const sc__perf_layout *layout, sc__cpu_raw *raw)
{
	uint64_t st = layout->sample_type;
	uint64_t ip = 0, time_ns = 0;
	uint32_t pid = 0, tid = 0;
	bool have_ip = false;
	/* Kept innermost first, markers dropped; SC__CPU_MAX_FRAMES is all the store keeps. */
	uint64_t frames[SC__CPU_MAX_FRAMES];
	size_t n = 0;
	bool have_chain = false;
	int rc;

	if ((st & PERF_SAMPLE_IDENTIFIER) && (rc = skip(c, 8)))
		return rc;
	if (st & PERF_SAMPLE_IP) {
		if ((rc = take_u64(c, &ip)))
			return rc;
		have_ip = true;
	}
	if (st & PERF_SAMPLE_TID) {
		if ((rc = take_u32(c, &pid)) || (rc = take_u32(c, &tid)))
			return rc;
	}
	if ((st & PERF_SAMPLE_TIME) && (rc = take_u64(c, &time_ns)))
		return rc;
	static const uint64_t plain[] = {PERF_SAMPLE_ADDR, PERF_SAMPLE_ID, PERF_SAMPLE_STREAM_ID,
	                                 PERF_SAMPLE_CPU, PERF_SAMPLE_PERIOD};
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
		if ((st & plain[i]) && (rc = skip(c, 8)))
			return rc;
	/* PERF_SAMPLE_READ's size depends on the read_format the layout does not carry: what
	 * follows it cannot be found, so such a sample keeps what came before. */
	bool reachable = !(st & PERF_SAMPLE_READ);
	if (reachable && (st & PERF_SAMPLE_CALLCHAIN)) {
		uint64_t nr;
		if ((rc = take_u64(c, &nr)))
			return rc;
		if (nr > c->left / 8)
			return SC_EPARSE;
		have_chain = true;
		for (uint64_t i = 0; i < nr; i++) {
			uint64_t a = 0;
			take_u64(c, &a);
			if (a >= CONTEXT_MARKER_MIN || n == SC__CPU_MAX_FRAMES)
				continue;
			frames[n++] = a;
		}
	}
	if (reachable && (st & PERF_SAMPLE_RAW)) {
		uint32_t size;
		if ((rc = take_u32(c, &size)) || (rc = skip(c, size)))
			return rc;
	}
	/* PERF_SAMPLE_BRANCH_STACK's size depends on branch_sample_type: the same as READ. */
	if (st & PERF_SAMPLE_BRANCH_STACK)
		reachable = false;

	uint64_t regs[SC__CPU_NREGS] = {0};
	bool have_regs = false;
	if (reachable && (st & PERF_SAMPLE_REGS_USER)) {
		uint64_t abi;
		if ((rc = take_u64(c, &abi)))
			return rc;
		/* ABI_NONE: the sample caught no user registers (a kernel thread), and none follow.
		 */
		if (abi != PERF_SAMPLE_REGS_ABI_NONE) {
			uint64_t by_perf[64] = {0};
			for (unsigned bit = 0; bit < 64; bit++) {
				if (!(layout->sample_regs_user & ((uint64_t)1 << bit)))
					continue;
				if ((rc = take_u64(c, &by_perf[bit])))
					return rc;
			}
			for (size_t d = 0; d < SC__CPU_NREGS; d++)
				regs[d] = by_perf[perf_reg_of_dwarf[d]];
			have_regs = true;
		}
	}
	const unsigned char *stack = NULL;
	uint64_t stack_len = 0;
	if (reachable && (st & PERF_SAMPLE_STACK_USER)) {
		uint64_t size;
		if ((rc = take_u64(c, &size)))
			return rc;
		/* A size of 0 (nothing copied) has no data and no dyn_size after it. */
		if (size != 0) {
			if (size > c->left)
				return SC_EPARSE;
			stack = c->p;
			skip(c, (size_t)size);
			if ((rc = take_u64(c, &stack_len)))
				return rc;
			/* dyn_size: how much of the copy the kernel could actually read. */
			if (stack_len > size)
				return SC_EPARSE;
		}
	}

	/* Only a sample read whole is stored, so a truncated one leaves nothing half-added. The
	 * callchain's first address is the sampled IP; without one, the IP is all there is. */
	if ((!have_chain || n == 0) && have_ip)
		frames[n++] = ip;
	if ((rc = sc__cpu_raw_add_sample(raw, pid, tid, time_ns, frames, n, -1, 1)))
		return rc;
	/* Registers without a stack copy, or a stack without registers, cannot be unwound. */
	if (have_regs && stack)
		return sc__cpu_raw_add_user_stack(raw, regs, stack, (size_t)stack_len);
	return 0;
}

/* PERF_RECORD_MMAP and PERF_RECORD_MMAP2: { pid, tid, addr, len, pgoff, [MMAP2: maj, min, ino,
 * ino_generation or the build id (24 bytes), prot, flags], filename[], sample_id }. */
static int decode_mmap(const unsigned char *body, size_t len, bool mmap2,
                       const sc__perf_layout *layout, sc__cpu_raw *raw)
{
	uint64_t time_ns;
	size_t id_start;
	int rc = sample_id_time(body, len, layout, &id_start, &time_ns);
	if (rc)
		return rc;
	cursor c = {body, id_start};
	uint32_t pid, tid;
	uint64_t addr, size, pgoff;
	if ((rc = take_u32(&c, &pid)) || (rc = take_u32(&c, &tid)) || (rc = take_u64(&c, &addr)) ||
	    (rc = take_u64(&c, &size)) || (rc = take_u64(&c, &pgoff)))
		return rc;
	if (mmap2 && (rc = skip(&c, 24 + 8)))
		return rc;
	const char *name;
	if ((rc = name_in(c.p, c.left, &name)))
		return rc;
	uint64_t end = addr + size < addr ? UINT64_MAX : addr + size;
	return sc__cpu_raw_add_mapping(raw, pid, time_ns, addr, end, pgoff, false, 0, name);
}

/* PERF_RECORD_COMM: { pid, tid, comm[], sample_id }; an exec sets PERF_RECORD_MISC_COMM_EXEC. */
static int decode_comm(const unsigned char *body, size_t len, uint16_t misc,
                       const sc__perf_layout *layout, sc__cpu_raw *raw)
{
	uint64_t time_ns;
	size_t id_start;
	int rc = sample_id_time(body, len, layout, &id_start, &time_ns);
	if (rc)
		return rc;
	cursor c = {body, id_start};
	uint32_t pid, tid;
	const char *name;
	if ((rc = take_u32(&c, &pid)) || (rc = take_u32(&c, &tid)) ||
	    (rc = name_in(c.p, c.left, &name)))
		return rc;
	/* A thread renaming itself (prctl PR_SET_NAME) changes nothing the builder needs. */
	if (!(misc & PERF_RECORD_MISC_COMM_EXEC))
		return 0;
	return sc__cpu_raw_add_process(raw, pid, 0, time_ns);
}

/* PERF_RECORD_FORK: { pid, ppid, tid, ptid, time, sample_id }. */
static int decode_fork(const unsigned char *body, size_t len, const sc__perf_layout *layout,
                       sc__cpu_raw *raw)
{
	uint64_t id_time;
	size_t id_start;
	int rc = sample_id_time(body, len, layout, &id_start, &id_time);
	if (rc)
		return rc;
	cursor c = {body, id_start};
	uint32_t pid, ppid, tid, ptid;
	uint64_t time_ns;
	if ((rc = take_u32(&c, &pid)) || (rc = take_u32(&c, &ppid)) || (rc = take_u32(&c, &tid)) ||
	    (rc = take_u32(&c, &ptid)) || (rc = take_u64(&c, &time_ns)))
		return rc;
	/* A new thread (tid != pid) shares its process's mappings: nothing to record. */
	if (pid != tid)
		return 0;
	return sc__cpu_raw_add_process(raw, pid, ppid, time_ns);
}

/* PERF_RECORD_LOST: { id, lost, sample_id }. */
static int decode_lost(const unsigned char *body, size_t len, const sc__perf_layout *layout,
                       sc__cpu_raw *raw)
{
	uint64_t time_ns;
	size_t id_start;
	int rc = sample_id_time(body, len, layout, &id_start, &time_ns);
	if (rc)
		return rc;
	cursor c = {body, id_start};
	uint64_t lost;
	if ((rc = skip(&c, 8)) || (rc = take_u64(&c, &lost)))
		return rc;
	raw->lost = raw->lost + lost < raw->lost ? UINT64_MAX : raw->lost + lost;
	return 0;
}

int sc__perf_decode(const void *buf, size_t len, const sc__perf_layout *layout, sc__cpu_raw *raw)
{
	const unsigned char *p = buf;
	size_t at = 0;
	while (at < len) {
		struct perf_event_header h;
		if (len - at < sizeof h)
			return SC_EPARSE;
		memcpy(&h, p + at, sizeof h);
		/* The kernel pads every record to 8 bytes; a size below the header would loop. */
		if (h.size < sizeof h || h.size > len - at)
			return SC_EPARSE;
		const unsigned char *body = p + at + sizeof h;
		size_t body_len = h.size - sizeof h;
		int rc = 0;
		switch (h.type) {
		case PERF_RECORD_SAMPLE: {
			cursor c = {body, body_len};
			rc = decode_sample(&c, layout, raw);
			break;
		}
		case PERF_RECORD_MMAP:
		case PERF_RECORD_MMAP2:
			rc = decode_mmap(body, body_len, h.type == PERF_RECORD_MMAP2, layout, raw);
			break;
		case PERF_RECORD_COMM:
			rc = decode_comm(body, body_len, h.misc, layout, raw);
			break;
		case PERF_RECORD_FORK:
			rc = decode_fork(body, body_len, layout, raw);
			break;
		case PERF_RECORD_LOST:
			rc = decode_lost(body, body_len, layout, raw);
			break;
		default:
			/* EXIT, THROTTLE, ... and types newer than this code: skipped by size. */
			break;
		}
		if (rc)
			return rc;
		at += h.size;
	}
	return 0;
}

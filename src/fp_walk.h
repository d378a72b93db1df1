/* fp_walk.h: a frame-pointer stack walk that is safe inside a signal handler (x86-64). */
#ifndef SC_FP_WALK_H
#define SC_FP_WALK_H

/*
 * Shared by the heap shim's timer sampler (preload/shim_cpu.c) and the in-process sampler
 * (src/self_sampler.c). It never reads memory outside [stack_lo, stack_hi), the interrupted
 * thread's stack as found before sampling began (pthread_getattr_np), so a program built without
 * frame pointers gives a short or wrong chain, never a fault: the first frame is the interrupted
 * instruction itself and always exact. Each frame pointer must lie above the previous one and be
 * 8-byte aligned, which ends the walk at the outermost frame (rbp 0) and in any loop.
 */

#include <stddef.h>
#include <stdint.h>
#include <ucontext.h>

/* Walks from the interrupted context uc; writes at most max addresses to out (innermost first:
 * the IP, then return addresses) and returns how many. */
static inline size_t sc__fp_walk(const ucontext_t *uc, uintptr_t stack_lo, uintptr_t stack_hi,
                                 uint64_t *out, size_t max)
{
	if (max == 0)
		return 0;
	const mcontext_t *mc = &uc->uc_mcontext;
	uintptr_t ip = (uintptr_t)mc->gregs[REG_RIP];
	uintptr_t fp = (uintptr_t)mc->gregs[REG_RBP];
	uintptr_t sp = (uintptr_t)mc->gregs[REG_RSP];
	size_t n = 0;
	out[n++] = ip;
	uintptr_t lo = sp > stack_lo ? sp : stack_lo;
	while (n < max) {
		if (fp < lo || fp > stack_hi - 16 || (fp & 7) != 0)
			break;
		const uintptr_t *frame = (const uintptr_t *)fp;
		uintptr_t next = frame[0];
		uintptr_t ret = frame[1];
		if (ret == 0)
			break;
		out[n++] = ret;
		if (next <= fp)
			break;
		lo = fp + 16;
		fp = next;
	}
	return n;
}

#endif

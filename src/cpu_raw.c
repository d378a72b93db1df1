/* cpu_raw.c: the store of raw CPU samples, mappings and processes that every sampler fills. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_samples.h"
#include "internal.h"

/*
 * The memory bound. A sampler cannot know in advance how long a run lasts, so the store keeps at
 * most max_bytes of samples and, when they would pass it, halves its resolution instead of
 * failing or dropping the run's end: each pair of neighbouring stored samples becomes one, and
 * from then on each block of `stride` incoming samples is stored as one.
 *
 * Which one of a pair or block is kept is drawn with odds proportional to weight, and the kept
 * one carries the summed weight of all of them. That makes the total weight exact (the CPU time
 * stays right) and every function's, line's, stack's and region's weight an unbiased estimate of
 * its true one. Keeping simply every other sample would not be: a program whose work alternates
 * with the sampling rate (a loop of three calls of f and one of g, each a period long) would have
 * one of its functions vanish. The draws come from a fixed-seed generator so that a store filled
 * the same way thins the same way, and tests are deterministic.
 */

#define RNG_SEED 0x9e3779b97f4a7c15u

void sc__cpu_raw_init(sc__cpu_raw *r)
{
	*r = (sc__cpu_raw){.max_bytes = SC__CPU_RAW_MAX_BYTES, .stride = 1, .rng = RNG_SEED};
}

void sc__cpu_raw_release(sc__cpu_raw *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_maps; i++)
		free(r->maps[i].path);
	free(r->samples);
	free(r->frames);
	free(r->maps);
	free(r->processes);
	free(r->user);
	free(r->stack_bytes);
	sc__cpu_raw_init(r);
}

int sc__cpu_reserve(void **items, size_t n, size_t *cap, size_t more, size_t size)
{
	if (more <= *cap - n)
		return 0;
	size_t want = *cap ? *cap : 64;
	while (want - n < more) {
		if (want > SIZE_MAX / 2 / size)
			return SC_ENOMEM;
		want *= 2;
	}
	void *grown = realloc(*items, want * size);
	if (!grown)
		return SC_ENOMEM;
	*items = grown;
	*cap = want;
	return 0;
}

/* A sample zeroed rather than added reads as weighing one. */
static uint32_t weight_of(const sc__cpu_sample *s)
{
	return s->weight ? s->weight : 1;
}

size_t sc__cpu_raw_bytes(const sc__cpu_raw *r)
{
	return r->n_samples * sizeof *r->samples + r->n_frames * sizeof *r->frames +
	       r->n_user * sizeof *r->user + r->n_stack_bytes;
}

uint64_t sc__cpu_raw_weight(const sc__cpu_raw *r)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < r->n_samples; i++)
		sum += weight_of(&r->samples[i]);
	return sum;
}

/* A store zeroed rather than initialized reads as the defaults. */
static size_t max_bytes(const sc__cpu_raw *r)
{
	return r->max_bytes ? r->max_bytes : SC__CPU_RAW_MAX_BYTES;
}

static uint32_t stride(const sc__cpu_raw *r)
{
	return r->stride ? r->stride : 1;
}

static uint32_t add_weights(uint64_t a, uint64_t b)
{
	return a + b > UINT32_MAX ? UINT32_MAX : (uint32_t)(a + b);
}

/* True with probability part / whole (0 < part <= whole): xorshift64*, then a modulo whose bias
 * (whole / 2^64) is far below anything a profile shows. */
static bool draw(sc__cpu_raw *r, uint64_t part, uint64_t whole)
{
	uint64_t x = r->rng ? r->rng : RNG_SEED;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->rng = x;
	return (x * 0x2545f4914f6cdd1dull) % whole < part;
}

/* Removes the last stored sample, whose frames and user stack are the last ones stored (samples
 * are appended in order, and thinning keeps that order). */
static void pop_last(sc__cpu_raw *r)
{
	const sc__cpu_sample *s = &r->samples[--r->n_samples];
	r->n_frames = s->first_frame;
	if (s->user_index != SIZE_MAX) {
		r->n_user = s->user_index;
		r->n_stack_bytes = r->user[s->user_index].stack_off;
	}
}

/* Halves the stored samples: pairs (0, 1), (2, 3), ... become one each, drawn by weight. Every
 * stored sample but the last stands for `stride` incoming ones, so the pairs stand for twice that;
 * the last one's count (last_count) carries on, alone or with its partner's. */
static void thin(sc__cpu_raw *r)
{
	size_t n = r->n_samples, kept = 0, nf = 0, nu = 0, nb = 0;
	bool last_taken = false;
	uint32_t s = stride(r);
	for (size_t k = 0; k < n; k += 2) {
		size_t from = k;
		uint32_t w = weight_of(&r->samples[k]);
		if (k + 1 < n) {
			uint32_t w2 = weight_of(&r->samples[k + 1]);
			if (draw(r, w2, (uint64_t)w + w2))
				from = k + 1;
			w = add_weights(w, w2);
		}
		sc__cpu_sample x = r->samples[from];
		x.weight = w;
		/* Everything moves towards the front, in order: memmove within each array. */
		if (x.n_frames)
			memmove(r->frames + nf, r->frames + x.first_frame,
			        x.n_frames * sizeof *r->frames);
		x.first_frame = nf;
		nf += x.n_frames;
		if (x.user_index != SIZE_MAX) {
			sc__cpu_user_stack u = r->user[x.user_index];
			if (u.stack_len)
				memmove(r->stack_bytes + nb, r->stack_bytes + u.stack_off,
				        u.stack_len);
			u.stack_off = nb;
			nb += u.stack_len;
			r->user[nu] = u;
			x.user_index = nu++;
		}
		r->samples[kept++] = x;
		last_taken = from == n - 1 && r->last_taken;
	}
	/* An even count pairs the last sample with a complete one before it. */
	if (n % 2 == 0)
		r->last_count += s;
	r->n_samples = kept;
	r->n_frames = nf;
	r->n_user = nu;
	r->n_stack_bytes = nb;
	r->stride = s * 2;
	r->last_taken = last_taken;
}

/* Thins until the store fits again. When one sample is left and its user stack is what does not
 * fit, the stack goes and the sample keeps its frames. A stride of 2^31 (a cap smaller than two
 * samples, in practice never) stops thinning: the store then holds what it must. */
static void keep_bound(sc__cpu_raw *r)
{
	size_t cap = max_bytes(r);
	while (sc__cpu_raw_bytes(r) > cap && r->n_samples >= 2 && stride(r) <= UINT32_MAX / 2)
		thin(r);
	if (sc__cpu_raw_bytes(r) > cap && r->n_samples &&
	    r->samples[r->n_samples - 1].user_index != SIZE_MAX) {
		sc__cpu_sample *last = &r->samples[r->n_samples - 1];
		r->n_user = last->user_index;
		r->n_stack_bytes = r->user[last->user_index].stack_off;
		last->user_index = SIZE_MAX;
	}
}

int sc__cpu_raw_add_sample(sc__cpu_raw *r, uint32_t pid, uint32_t tid, uint64_t time_ns,
                           const uint64_t *frames, size_t n, int32_t region, uint32_t weight)
{
	if (n > SC__CPU_MAX_FRAMES)
		n = SC__CPU_MAX_FRAMES; /* the innermost ones: they carry the self time */
	if (weight == 0)
		weight = 1;
	/* Room first, so that a failure changes nothing (a replaced sample's space is reused). */
	if (sc__cpu_reserve((void **)&r->samples, r->n_samples, &r->cap_samples, 1,
	                    sizeof *r->samples) ||
	    sc__cpu_reserve((void **)&r->frames, r->n_frames, &r->cap_frames, n, sizeof *r->frames))
		return SC_ENOMEM;
	if (r->n_samples && r->last_count < stride(r)) {
		/* The last stored sample's block is still open: this one joins it, and replaces it
		 * with odds weight / (the block's weight with it), a weighted reservoir of one. */
		sc__cpu_sample *last = &r->samples[r->n_samples - 1];
		uint64_t before = weight_of(last);
		uint32_t sum = add_weights(before, weight);
		r->last_count++;
		if (!draw(r, weight, before + weight)) {
			last->weight = sum;
			r->last_taken = false;
			return 0;
		}
		pop_last(r);
		weight = sum;
	} else {
		r->last_count = 1;
	}
	if (n)
		memcpy(r->frames + r->n_frames, frames, n * sizeof *frames);
	r->samples[r->n_samples++] = (sc__cpu_sample){
	    .pid = pid,
	    .tid = tid,
	    .time_ns = time_ns,
	    .first_frame = r->n_frames,
	    .n_frames = (uint32_t)n,
	    .region = region,
	    .weight = weight,
	    .user_index = SIZE_MAX,
	};
	r->n_frames += n;
	r->last_taken = true;
	keep_bound(r);
	return 0;
}

int sc__cpu_raw_add_user_stack(sc__cpu_raw *r, const uint64_t regs[SC__CPU_NREGS],
                               const void *stack, size_t len)
{
	if (!r->n_samples)
		return SC_EINVAL;
	/* The sample was folded into another, or the copy could never fit. */
	if (!r->last_taken || len > max_bytes(r) || sizeof *r->user > max_bytes(r) - len)
		return 0;
	if (len > UINT32_MAX)
		len = UINT32_MAX;
	if (sc__cpu_reserve((void **)&r->user, r->n_user, &r->cap_user, 1, sizeof *r->user) ||
	    sc__cpu_reserve((void **)&r->stack_bytes, r->n_stack_bytes, &r->cap_stack_bytes, len,
	                    1))
		return SC_ENOMEM;
	sc__cpu_user_stack *u = &r->user[r->n_user];
	memcpy(u->regs, regs, sizeof u->regs);
	u->stack_off = r->n_stack_bytes;
	u->stack_len = (uint32_t)len;
	if (len)
		memcpy(r->stack_bytes + r->n_stack_bytes, stack, len);
	r->n_stack_bytes += len;
	r->samples[r->n_samples - 1].user_index = r->n_user++;
	keep_bound(r);
	return 0;
}

int sc__cpu_raw_add_mapping(sc__cpu_raw *r, uint32_t pid, uint64_t time_ns, uint64_t start,
                            uint64_t end, uint64_t pgoff, bool bias_known, uint64_t bias,
                            const char *path)
{
	if (sc__cpu_reserve((void **)&r->maps, r->n_maps, &r->cap_maps, 1, sizeof *r->maps))
		return SC_ENOMEM;
	char *copy = strdup(path ? path : "");
	if (!copy)
		return SC_ENOMEM;
	r->maps[r->n_maps++] = (sc__cpu_mapping){
	    .pid = pid,
	    .time_ns = time_ns,
	    .start = start,
	    .end = end,
	    .pgoff = pgoff,
	    .bias_known = bias_known,
	    .bias = bias,
	    .path = copy,
	};
	return 0;
}

int sc__cpu_raw_add_process(sc__cpu_raw *r, uint32_t pid, uint32_t ppid, uint64_t time_ns)
{
	if (sc__cpu_reserve((void **)&r->processes, r->n_processes, &r->cap_processes, 1,
	                    sizeof *r->processes))
		return SC_ENOMEM;
	r->processes[r->n_processes++] = (sc__cpu_process){pid, ppid, time_ns};
	return 0;
}

int sc__cpu_raw_append(sc__cpu_raw *dst, const sc__cpu_raw *src)
{
	int rc;
	for (size_t i = 0; i < src->n_samples; i++) {
		const sc__cpu_sample *x = &src->samples[i];
		if ((rc = sc__cpu_raw_add_sample(dst, x->pid, x->tid, x->time_ns,
		                                 src->frames + x->first_frame, x->n_frames,
		                                 x->region, x->weight)))
			return rc;
		if (x->user_index != SIZE_MAX) {
			const sc__cpu_user_stack *u = &src->user[x->user_index];
			if ((rc = sc__cpu_raw_add_user_stack(
			         dst, u->regs, src->stack_bytes + u->stack_off, u->stack_len)))
				return rc;
		}
	}
	for (size_t i = 0; i < src->n_maps; i++) {
		const sc__cpu_mapping *m = &src->maps[i];
		if ((rc = sc__cpu_raw_add_mapping(dst, m->pid, m->time_ns, m->start, m->end,
		                                  m->pgoff, m->bias_known, m->bias, m->path)))
			return rc;
	}
	for (size_t i = 0; i < src->n_processes; i++) {
		const sc__cpu_process *p = &src->processes[i];
		if ((rc = sc__cpu_raw_add_process(dst, p->pid, p->ppid, p->time_ns)))
			return rc;
	}
	dst->lost = dst->lost + src->lost < dst->lost ? UINT64_MAX : dst->lost + src->lost;
	/* A thinned source's samples each stood for several: dst goes on at that resolution and
	 * says so. Any grouping keeps the estimates unbiased; the stride only sets block sizes. */
	if (stride(src) > stride(dst)) {
		dst->stride = stride(src);
		dst->last_count = dst->stride;
	}
	return 0;
}

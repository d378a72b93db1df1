/* test_cpu_raw.c: the raw CPU sample store: weights, and the memory bound that thins it. */
#include "check.h"

#include "cpu_samples.h"

#include <stdint.h>
#include <string.h>

/* Weights are kept as given (0 reads as 1) and summed by sc__cpu_raw_weight. */
static void test_weights(void)
{
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	CHECK_INT(raw.stride, 1);
	CHECK(raw.max_bytes == SC__CPU_RAW_MAX_BYTES);
	uint64_t f = 0x401000;
	CHECK_INT(sc__cpu_raw_add_sample(&raw, 1, 1, 10, &f, 1, -1, 1), 0);
	CHECK_INT(sc__cpu_raw_add_sample(&raw, 1, 1, 20, &f, 1, -1, 4), 0);
	CHECK_INT(sc__cpu_raw_add_sample(&raw, 1, 1, 30, &f, 1, -1, 0), 0);
	CHECK_INT(raw.n_samples, 3);
	CHECK_INT(raw.samples[0].weight, 1);
	CHECK_INT(raw.samples[1].weight, 4);
	CHECK_INT(raw.samples[2].weight, 1);
	CHECK_INT(sc__cpu_raw_weight(&raw), 6);
	CHECK_INT(sc__cpu_raw_bytes(&raw), 3 * sizeof(sc__cpu_sample) + 3 * sizeof(uint64_t));
	sc__cpu_raw_release(&raw);
	CHECK_INT(raw.n_samples, 0);
	CHECK_INT(raw.stride, 1);
}

/*
 * Identical samples: the store never holds more than its cap, the stride grows by doublings, and
 * the total weight is exactly what was added, weights 1 to 4 included (every merge sums them).
 */
static void test_bound_and_total(void)
{
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	raw.max_bytes = 16384;
	uint64_t frames[3] = {0x401000, 0x402000, 0x403000};
	uint64_t added = 0;
	bool under = true;
	uint32_t last_stride = 1;
	bool doublings = true;
	for (uint32_t i = 0; i < 100000; i++) {
		uint32_t w = 1 + i % 4;
		CHECK_INT(sc__cpu_raw_add_sample(&raw, 7, 7, i, frames, 3, -1, w), 0);
		added += w;
		under = under && sc__cpu_raw_bytes(&raw) <= raw.max_bytes;
		if (raw.stride != last_stride) {
			doublings = doublings && raw.stride == 2 * last_stride;
			last_stride = raw.stride;
		}
	}
	printf("bound: %zu samples kept of 100000, stride %u, %zu bytes\n", raw.n_samples,
	       (unsigned)raw.stride, sc__cpu_raw_bytes(&raw));
	CHECK(under);
	CHECK(doublings);
	CHECK(raw.stride > 1);
	/* At least a quarter of the cap stays in use: thinning halves, and only when full. */
	CHECK(sc__cpu_raw_bytes(&raw) >= raw.max_bytes / 4);
	CHECK_INT(sc__cpu_raw_weight(&raw), added);
	/* The frames are those added, in place for every kept sample. */
	bool intact = true;
	for (size_t i = 0; i < raw.n_samples; i++) {
		const sc__cpu_sample *s = &raw.samples[i];
		intact = intact && s->n_frames == 3 &&
		         memcmp(raw.frames + s->first_frame, frames, sizeof frames) == 0;
	}
	CHECK(intact);
	sc__cpu_raw_release(&raw);
}

/*
 * A 3:1 interleaved input (f, f, f, g, f, f, f, g, ...), the worst case for keeping every other
 * sample, which would keep only f. Each stored sample stands for a block of `stride` consecutive
 * incoming samples (3/4 f exactly, the stride being a multiple of 4 here) and is f with odds
 * 3/4, so g's share is a binomial proportion over the n blocks: its standard deviation is
 * sqrt(0.1875 / n) (about 1.1 points for the ~1,500 blocks kept), and 4 points is over 3.5 of
 * them. The generator's seed is fixed, so the result is the same on every run.
 */
static void test_interleaved_shares(void)
{
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	raw.max_bytes = 128 * 1024;
	const uint64_t f = 0x401000, g = 0x402000;
	const uint32_t n = 400000;
	for (uint32_t i = 0; i < n; i++)
		CHECK_INT(sc__cpu_raw_add_sample(&raw, 7, 7, i, i % 4 == 3 ? &g : &f, 1, -1, 1), 0);
	uint64_t wf = 0, wg = 0;
	for (size_t i = 0; i < raw.n_samples; i++) {
		const sc__cpu_sample *s = &raw.samples[i];
		uint64_t ip = raw.frames[s->first_frame];
		if (ip == f)
			wf += s->weight;
		else if (ip == g)
			wg += s->weight;
	}
	double share_g = 100.0 * (double)wg / (double)(wf + wg);
	printf("interleaved: %zu kept, stride %u, f %llu, g %llu, g's share %.2f%%\n",
	       raw.n_samples, (unsigned)raw.stride, (unsigned long long)wf, (unsigned long long)wg,
	       share_g);
	CHECK(raw.stride >= 4);
	CHECK_INT(wf + wg, n);
	CHECK_NEAR(share_g, 25.0, 4.0);
	sc__cpu_raw_release(&raw);
}

/*
 * Distinct samples with user stacks: after thinning, every kept sample still has its own frames,
 * time, weight bookkeeping and user stack (registers and bytes), so the compaction moved each
 * piece with its sample, and a sample that lost its block's draw left no stack behind.
 */
static void test_contents_kept(void)
{
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	raw.max_bytes = 32768;
	const uint32_t n = 5000;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t frames[5];
		size_t nf = 1 + i % 5;
		for (size_t k = 0; k < nf; k++)
			frames[k] = 0x10000 * (uint64_t)(i + 1) + k;
		CHECK_INT(sc__cpu_raw_add_sample(&raw, 7, 7 + i % 3, i, frames, nf, -1, 1), 0);
		if (i % 2 == 0) {
			uint64_t regs[SC__CPU_NREGS] = {0};
			regs[0] = i;
			regs[7] = 0x7ffd0000 + i;
			unsigned char stack[64];
			size_t len = 16 + i % 48;
			memset(stack, (int)(i & 0xff), len);
			CHECK_INT(sc__cpu_raw_add_user_stack(&raw, regs, stack, len), 0);
		}
		CHECK(sc__cpu_raw_bytes(&raw) <= raw.max_bytes);
	}
	CHECK(raw.stride > 1);
	CHECK_INT(sc__cpu_raw_weight(&raw), n);
	bool ok = true;
	size_t with_stack = 0, prev_user = 0;
	for (size_t j = 0; j < raw.n_samples && ok; j++) {
		const sc__cpu_sample *s = &raw.samples[j];
		uint64_t i = s->time_ns;
		ok = s->n_frames == 1 + i % 5 && s->tid == 7 + i % 3;
		for (size_t k = 0; k < s->n_frames && ok; k++)
			ok = raw.frames[s->first_frame + k] == 0x10000 * (i + 1) + k;
		if (i % 2 == 0) {
			ok = ok && s->user_index < raw.n_user &&
			     (with_stack == 0 || s->user_index > prev_user);
			if (!ok)
				break;
			const sc__cpu_user_stack *u = &raw.user[s->user_index];
			ok = u->regs[0] == i && u->regs[7] == 0x7ffd0000 + i &&
			     u->stack_len == 16 + i % 48 &&
			     u->stack_off + u->stack_len <= raw.n_stack_bytes;
			for (size_t b = 0; b < u->stack_len && ok; b++)
				ok = raw.stack_bytes[u->stack_off + b] == (unsigned char)(i & 0xff);
			prev_user = s->user_index;
			with_stack++;
		} else {
			ok = s->user_index == SIZE_MAX;
		}
	}
	printf("contents: %zu kept (%zu with stacks, %zu stacks stored), stride %u\n",
	       raw.n_samples, with_stack, raw.n_user, (unsigned)raw.stride);
	CHECK(ok);
	CHECK_INT(with_stack, raw.n_user);
	sc__cpu_raw_release(&raw);
}

/* A user stack copy that could never fit is dropped; its sample keeps its frames. */
static void test_stack_too_big(void)
{
	sc__cpu_raw raw;
	sc__cpu_raw_init(&raw);
	raw.max_bytes = 1024;
	uint64_t frames[2] = {0x401000, 0x402000};
	uint64_t regs[SC__CPU_NREGS] = {0};
	static unsigned char stack[SC__CPU_STACK_BYTES];
	CHECK_INT(sc__cpu_raw_add_user_stack(&raw, regs, stack, 16), SC_EINVAL);
	CHECK_INT(sc__cpu_raw_add_sample(&raw, 7, 7, 1, frames, 2, -1, 1), 0);
	CHECK_INT(sc__cpu_raw_add_user_stack(&raw, regs, stack, sizeof stack), 0);
	CHECK_INT(raw.n_samples, 1);
	CHECK_INT(raw.n_user, 0);
	CHECK(raw.samples[0].user_index == SIZE_MAX);
	CHECK_INT(raw.samples[0].n_frames, 2);
	CHECK_INT(raw.frames[raw.samples[0].first_frame + 1], 0x402000);
	/* One that fits alone but not beside the frames: stored, then dropped by the bound. */
	CHECK_INT(sc__cpu_raw_add_user_stack(&raw, regs, stack, 1024 - sizeof(sc__cpu_user_stack)),
	          0);
	CHECK_INT(raw.n_samples, 1);
	CHECK_INT(raw.n_user, 0);
	CHECK_INT(raw.n_stack_bytes, 0);
	CHECK(raw.samples[0].user_index == SIZE_MAX);
	CHECK_INT(raw.samples[0].n_frames, 2);
	CHECK(sc__cpu_raw_bytes(&raw) <= raw.max_bytes);
	sc__cpu_raw_release(&raw);
}

/* Appending keeps weights, stacks and the coarser stride. */
static void test_append(void)
{
	sc__cpu_raw a, b;
	sc__cpu_raw_init(&a);
	sc__cpu_raw_init(&b);
	b.max_bytes = 4096;
	uint64_t f = 0x401000;
	for (uint32_t i = 0; i < 1000; i++)
		CHECK_INT(sc__cpu_raw_add_sample(&b, 2, 2, i, &f, 1, -1, 2), 0);
	CHECK(b.stride > 1);
	CHECK_INT(sc__cpu_raw_add_mapping(&b, 2, 0, 0x400000, 0x500000, 0, true, 0, "/bin/x"), 0);
	CHECK_INT(sc__cpu_raw_add_process(&b, 2, 1, 0), 0);
	b.lost = 3;
	CHECK_INT(sc__cpu_raw_add_sample(&a, 1, 1, 0, &f, 1, -1, 5), 0);
	CHECK_INT(sc__cpu_raw_append(&a, &b), 0);
	CHECK_INT(sc__cpu_raw_weight(&a), 2005);
	CHECK_INT(a.n_samples, 1 + b.n_samples);
	CHECK_INT(a.stride, b.stride);
	CHECK_INT(a.n_maps, 1);
	CHECK_INT(a.n_processes, 1);
	CHECK_INT(a.lost, 3);
	sc__cpu_raw_release(&a);
	sc__cpu_raw_release(&b);
}

int main(void)
{
	test_weights();
	test_bound_and_total();
	test_interleaved_shares();
	test_contents_kept();
	test_stack_too_big();
	test_append();
	return CHECK_DONE();
}

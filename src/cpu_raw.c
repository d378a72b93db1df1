/* cpu_raw.c: the store of raw CPU samples, mappings and processes that every sampler fills. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_samples.h"
#include "internal.h"

void sc__cpu_raw_init(sc__cpu_raw *r)
{
	*r = (sc__cpu_raw){0};
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

int sc__cpu_raw_add_sample(sc__cpu_raw *r, uint32_t pid, uint32_t tid, uint64_t time_ns,
                           const uint64_t *frames, size_t n, int32_t region)
{
	if (n > SC__CPU_MAX_FRAMES)
		n = SC__CPU_MAX_FRAMES; /* the innermost ones: they carry the self time */
	if (sc__cpu_reserve((void **)&r->samples, r->n_samples, &r->cap_samples, 1,
	                    sizeof *r->samples) ||
	    sc__cpu_reserve((void **)&r->frames, r->n_frames, &r->cap_frames, n, sizeof *r->frames))
		return SC_ENOMEM;
	if (n)
		memcpy(r->frames + r->n_frames, frames, n * sizeof *frames);
	r->samples[r->n_samples++] = (sc__cpu_sample){
	    .pid = pid,
	    .tid = tid,
	    .time_ns = time_ns,
	    .first_frame = r->n_frames,
	    .n_frames = (uint32_t)n,
	    .region = region,
	    .user_index = SIZE_MAX,
	};
	r->n_frames += n;
	return 0;
}

int sc__cpu_raw_add_user_stack(sc__cpu_raw *r, const uint64_t regs[SC__CPU_NREGS],
                               const void *stack, size_t len)
{
	if (!r->n_samples)
		return SC_EINVAL;
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

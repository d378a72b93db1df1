/* advise.c: recommendations for the findings of analyze.c, from the seed's optimisation tables. */
#include "internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/*
 * Every finding maps to one or more actions; the actions and their expected improvements are the
 * seed's ("Optimization Strategies" tables and "Troubleshooting" lists), so a user of the seed
 * recognises them. Where the seed names an action without a figure, expected says so rather than
 * inventing one. Recommendations are ranked by the share of the profile's time or memory their
 * finding concerns, largest first; a profile without findings gets one "healthy" entry that says
 * why, with the numbers.
 */

typedef struct action {
	const char *id;
	const char *text;
	const char *expected;
} action;

/* The seed's actions, each once. */
static const action BATCHING = {"batching",
                                "process predictions in batches (smaller batches when memory is "
                                "the problem, larger when per-call overhead is)",
                                "50-80% less memory (seed: high memory allocation)"};
static const action COMPRESSION = {"model-compression", "compress the model: pruning, quantization",
                                   "50-90% less memory (seed: large model size)"};
static const action FLOAT32 = {"float32", "use float32 instead of float64 for features and weights",
                               "up to 50% less memory in those arrays (half the bytes)"};
static const action OBJECT_POOL = {"object-pool",
                                   "reuse buffers through an object pool or arena instead of "
                                   "allocating per prediction",
                                   "20-40% less memory (seed: object pooling)"};
static const action IN_PLACE = {"in-place",
                                "use in-place operations and remove intermediate copies",
                                "30-60% less memory (seed: large intermediate arrays)"};
static const action SIMPLIFY = {"model-simplification",
                                "simplify the model (fewer features, shallower trees, a smaller "
                                "network)",
                                "2-10x faster (seed: slow predictions)"};
static const action VECTORIZE = {"vectorization",
                                 "vectorise: process whole arrays per call instead of one value "
                                 "at a time",
                                 "10-100x faster (seed: sequential processing)"};
static const action THREADS = {"multi-threading", "spread the work over the idle cores",
                               "2-4x faster (seed: CPU-bound)"};
static const action ASYNC_IO = {"async-io-caching",
                                "overlap I/O with computation (async I/O) and cache frequently "
                                "used data in memory",
                                "5-50x faster (seed: I/O-bound)"};
static const action COMPILED = {"compiled-model", "use a compiled model (ONNX Runtime, TensorRT)",
                                "not quantified by the seed (troubleshooting: low throughput)"};
static const action WARMUP = {"warm-up",
                              "warm up before serving, or keep a persistent process that "
                              "loads the model once",
                              "removes the first-run cost from every request after the first"};
static const action FIX_LEAK = {"fix-leak",
                                "release what each iteration allocates; the heap section's "
                                "\"top sites by leaked bytes\" say where",
                                "stops the growth (memory stays at its plateau)"};
static const action FEWER_THREADS = {"fewer-threads",
                                     "run no more busy threads than cores, and keep other "
                                     "programs off the machine while serving",
                                     "not quantified by the seed"};
static const action SAMPLING = {"sampling-profiling",
                                "profile a subset of the data first, with sampling-based "
                                "profiling, and offline rather than in production",
                                "lower profiling overhead (seed: profiling overhead too high)"};
/* The generic wording; hotspot() replaces it with the function, its line and its numbers. */
static const action HOTSPOT = {"optimise-hotspot",
                               "optimise the function that holds most of the CPU samples",
                               "halving its time saves at most half its share (Amdahl)"};
static const action QUIET = {"quiet-system",
                             "re-run on a quiet machine with more runs (-r) and --warmup",
                             "tighter figures: every finding becomes more certain"};

#define MAX_ACTIONS 3

typedef struct mapping {
	const char *finding;
	const action *actions[MAX_ACTIONS];
} mapping;

static const mapping map[] = {
    {"unstable-measurement", {&QUIET, &SAMPLING}},
    {"latency-requirement", {&SIMPLIFY, &COMPILED, &VECTORIZE}},
    {"throughput-requirement", {&VECTORIZE, &COMPILED, &THREADS}},
    {"memory-requirement", {&BATCHING, &FLOAT32, &COMPRESSION}},
    {"memory-high", {&BATCHING, &FLOAT32, &COMPRESSION}},
    {"memory-growth", {&FIX_LEAK}},
    {"allocation-churn", {&OBJECT_POOL, &IN_PLACE}},
    {"large-intermediates", {&IN_PLACE, &BATCHING, &FLOAT32}},
    {"heap-fragmentation", {&OBJECT_POOL}},
    {"cpu-bound", {&THREADS, &VECTORIZE}},
    {"io-bound", {&ASYNC_IO}},
    {"syscall-heavy", {&BATCHING, &ASYNC_IO}},
    {"page-fault-heavy", {&OBJECT_POOL, &IN_PLACE}},
    {"oversubscription", {&FEWER_THREADS}},
    {"tail-latency", {&OBJECT_POOL, &ASYNC_IO, &WARMUP}},
    {"cold-start", {&WARMUP}},
    {"dominant-component", {&SIMPLIFY, &COMPILED}},
    {"cpu-hotspot", {&HOTSPOT}},
};

static const mapping *mapping_for(const char *finding)
{
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].finding, finding) == 0)
			return &map[i];
	return NULL;
}

/* The action, answering finding b, whose message gives the numbers behind it. */
static void fill(sc_recommendation *rec, const action *a, const sc_bottleneck *b)
{
	snprintf(rec->id, sizeof rec->id, "%s", a->id);
	snprintf(rec->finding, sizeof rec->finding, "%s", b->id);
	snprintf(rec->profile, sizeof rec->profile, "%s", b->profile);
	snprintf(rec->action, sizeof rec->action, "%s", a->text);
	snprintf(rec->expected, sizeof rec->expected, "%s", a->expected);
	/* The message may be longer than evidence holds; its numbers come first. */
	snprintf(rec->evidence, sizeof rec->evidence, "%.*s", (int)sizeof rec->evidence - 1,
	         b->message);
	rec->share = b->share;
}

/* snprintf into a fixed field, truncating quietly: a long C++ name may not fit, and the start of
 * the text is what matters. */
static void put(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

/*
 * The cpu-hotspot action names the function, where it is and its hottest line; for a function of
 * a system library (memcpy, exp) the change is in the program's code that calls it. The expected
 * gain is an upper bound by Amdahl's law: halving the time of a function that holds share s of
 * the CPU time saves at most s/2 of it, and only if nothing else slows down.
 */
static void hotspot(sc_recommendation *rec, const sc_bottleneck *b, const sc_profile *p)
{
	const sc_cpu_profile *cpu = &p->cpu;
	if (!cpu->available || cpu->n_hotspots == 0 || !cpu->hotspots[0].function)
		return; /* the generic wording stays */
	const sc_cpu_hotspot *h = &cpu->hotspots[0];
	char subject[160], caller[160], line[120] = "";
	bool library =
	    sc__cpu_hotspot_words(cpu, h, subject, sizeof subject, caller, sizeof caller);
	if (h->n_lines > 0 && h->lines[0].file && h->lines[0].line > 0) {
		const char *slash = strrchr(h->lines[0].file, '/');
		put(line, sizeof line, "; its hottest line is %s:%d (%.0f%% of samples)",
		    slash ? slash + 1 : h->lines[0].file, h->lines[0].line, h->lines[0].percent);
	}
	if (caller[0])
		put(rec->action, sizeof rec->action,
		    "call %s less often, or on less data, from %s, its main caller: it holds "
		    "%.0f%% of CPU samples",
		    subject, caller, h->self_percent);
	else if (library)
		put(rec->action, sizeof rec->action,
		    "call %s less often, or on less data: it holds %.0f%% of CPU samples", subject,
		    h->self_percent);
	else
		put(rec->action, sizeof rec->action,
		    "optimise %s: it holds %.0f%% of CPU samples%s", subject, h->self_percent,
		    line);
	put(rec->expected, sizeof rec->expected,
	    "halving its time saves at most %.1f%% of the CPU time (Amdahl)", b->share * 50);
}

/* Why a profile without findings looks healthy, with the numbers the rules looked at. */
static void healthy(sc_recommendation *rec, const sc_report *r, const sc_profile *p)
{
	snprintf(rec->id, sizeof rec->id, "healthy");
	snprintf(rec->profile, sizeof rec->profile, "%s", p->name ? p->name : "");
	snprintf(rec->expected, sizeof rec->expected, "no change needed");
	char cv[48] = "", heap[64] = "", mem[64] = "";
	double c = p->total_time.n >= 2 && p->total_time.mean > 0
	               ? p->total_time.stddev / p->total_time.mean
	               : NAN;
	if (isfinite(c))
		snprintf(cv, sizeof cv, ", run times within %.1f%%", 100 * c);
	if (p->heap.available && p->heap.allocations >= 0)
		snprintf(heap, sizeof heap, ", %lld allocations per run",
		         (long long)p->heap.allocations);
	if (isfinite(p->memory.peak_memory_mb) && r->system.memory_total_mb > 0)
		snprintf(mem, sizeof mem, ", peak %.1f MB (%.1f%% of RAM)",
		         p->memory.peak_memory_mb,
		         100 * p->memory.peak_memory_mb / r->system.memory_total_mb);
	snprintf(rec->action, sizeof rec->action,
	         "the profile looks healthy: no rule found a bottleneck; keep it as the baseline");
	snprintf(rec->evidence, sizeof rec->evidence, "%.2f of %d cores busy%s%s%s",
	         p->resources.cpu_utilization, r->system.cpus, mem, heap, cv);
	rec->share = 0;
}

static int by_share(const void *a, const void *b)
{
	const sc_recommendation *x = a, *y = b;
	return (x->share < y->share) - (x->share > y->share);
}

int sc__advise(sc_report *r)
{
	size_t cap = r->n_bottlenecks * MAX_ACTIONS + r->n_profiles;
	sc_recommendation *recs = cap ? calloc(cap, sizeof *recs) : NULL;
	if (cap && !recs)
		return SC_ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < r->n_profiles; i++) {
		const sc_profile *p = &r->profiles[i];
		const char *name = p->name ? p->name : "";
		size_t first = n;
		for (size_t k = 0; k < r->n_bottlenecks; k++) {
			const sc_bottleneck *b = &r->bottlenecks[k];
			const mapping *m = sc__same_profile(b->profile, sizeof b->profile, name)
			                       ? mapping_for(b->id)
			                       : NULL;
			/* Two findings may call for one action (an object pool answers churn and
			 * fragmentation alike): each keeps its own entry, so every finding has its
			 * answer with its own numbers. */
			for (size_t a = 0; m && a < MAX_ACTIONS && m->actions[a]; a++) {
				fill(&recs[n], m->actions[a], b);
				if (m->actions[a] == &HOTSPOT)
					hotspot(&recs[n], b, p);
				n++;
			}
		}
		if (n == first)
			healthy(&recs[n++], r, p);
		/* Stable ranking: qsort is not stable, so equal shares keep rule order by index. */
		for (size_t j = first + 1; j < n; j++) {
			sc_recommendation x = recs[j];
			size_t k = j;
			while (k > first && by_share(&recs[k - 1], &x) > 0) {
				recs[k] = recs[k - 1];
				k--;
			}
			recs[k] = x;
		}
	}
	r->recommendations = recs;
	r->n_recommendations = n;
	return 0;
}

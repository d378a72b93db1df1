/* histogram.c: the fixed-memory log-linear latency histogram (the HdrHistogram idea). */
#include "internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Layout. With SUB_BITS = 7 every power of two from 2^8 up is split into 128 linear sub-buckets,
 * and the values below 2^8 get one bucket each (exact). A bucket's width is then at most 1/128 of
 * its lower bound, so its midpoint is within 1/256 (0.39%) of every value in it: every percentile
 * is within 0.4% of the exact one, well inside the 1% the header promises.
 *
 * Index of a value v (as in HdrHistogram): shift = (bit length of (v | 255)) - 8, which is 0 for
 * v < 256 and otherwise the number of low bits a bucket of v's power of two ignores; then
 * index = shift * 128 + (v >> shift). For shift = 0 that is v itself (0..255); for shift >= 1,
 * v >> shift lies in [128, 256), so each power of two takes the next 128 indices.
 */
#define SUB_BITS    7
#define SUB_COUNT   (1u << SUB_BITS)      /* linear sub-buckets per power of two */
#define SHIFT_MAX   (64 - (SUB_BITS + 1)) /* shift of the values in [2^63, 2^64) */
#define N_BUCKETS   ((SHIFT_MAX + 2) * SUB_COUNT)
#define EXACT_BELOW (2u * SUB_COUNT) /* values below this have a bucket each */

struct sc_histogram {
	uint64_t total;
	uint64_t min; /* UINT64_MAX while empty */
	uint64_t max;
	/* The exact sum for the mean: 2^64 values of up to 2^64 - 1 fit in 128 bits. */
	unsigned __int128 sum;
	uint64_t counts[N_BUCKETS];
};

static unsigned bucket_of(uint64_t v)
{
	/* v | (EXACT_BELOW - 1) is never 0, so __builtin_clzll is defined. */
	unsigned shift = (unsigned)(63 - __builtin_clzll(v | (EXACT_BELOW - 1))) - SUB_BITS;
	return shift * SUB_COUNT + (unsigned)(v >> shift);
}

/* The lowest value of bucket i and the bucket's width, the inverse of bucket_of. */
static void bucket_range(unsigned i, uint64_t *lowest, uint64_t *width)
{
	unsigned shift = i < EXACT_BELOW ? 0 : i / SUB_COUNT - 1;
	*lowest = (uint64_t)(i - shift * SUB_COUNT) << shift;
	*width = (uint64_t)1 << shift;
}

sc_histogram *sc_histogram_new(void)
{
	sc_histogram *h = malloc(sizeof *h);
	if (h)
		sc_histogram_reset(h);
	return h;
}

void sc_histogram_free(sc_histogram *h)
{
	free(h);
}

void sc_histogram_reset(sc_histogram *h)
{
	memset(h, 0, sizeof *h);
	h->min = UINT64_MAX;
}

void sc_histogram_record(sc_histogram *h, uint64_t value_ns)
{
	h->counts[bucket_of(value_ns)]++;
	h->total++;
	h->sum += value_ns;
	h->min = value_ns < h->min ? value_ns : h->min;
	h->max = value_ns > h->max ? value_ns : h->max;
}

uint64_t sc_histogram_count(const sc_histogram *h)
{
	return h->total;
}

uint64_t sc_histogram_min(const sc_histogram *h)
{
	return h->total ? h->min : 0;
}

uint64_t sc_histogram_max(const sc_histogram *h)
{
	return h->max;
}

double sc_histogram_mean(const sc_histogram *h)
{
	return h->total ? (double)h->sum / (double)h->total : 0;
}

uint64_t sc_histogram_percentile(const sc_histogram *h, double p)
{
	/* p at or below 0 (or NaN) is the exact minimum, p at or above 100 the exact maximum. */
	if (h->total == 0)
		return 0;
	if (!(p > 0))
		return h->min;
	if (p >= 100)
		return h->max;

	/*
	 * Nearest rank: the smallest value with at least ceil(p/100 * total) values at or below it.
	 * p is usually a decimal such as 99.9 that a double holds only to within half an ulp, so
	 * the product may land a few ulps above the integer it stands for (99.9% of 1000 values
	 * gives 999.0000000000001); shrinking it by 4 ulps first keeps ceil from adding a whole
	 * rank.
	 */
	double x = p / 100 * (double)h->total;
	double rank_d = ceil(x * (1 - 4 * DBL_EPSILON));
	uint64_t rank = rank_d < 1 ? 1 : rank_d >= (double)h->total ? h->total : (uint64_t)rank_d;

	uint64_t seen = 0;
	unsigned i = 0;
	for (; i < N_BUCKETS - 1; i++) {
		seen += h->counts[i];
		if (seen >= rank)
			break;
	}
	uint64_t lowest, width;
	bucket_range(i, &lowest, &width);
	uint64_t mid = lowest + (width - 1) / 2;
	return mid < h->min ? h->min : mid > h->max ? h->max : mid;
}

void sc_histogram_merge(sc_histogram *dst, const sc_histogram *src)
{
	for (unsigned i = 0; i < N_BUCKETS; i++)
		dst->counts[i] += src->counts[i];
	dst->total += src->total;
	dst->sum += src->sum;
	dst->min = src->min < dst->min ? src->min : dst->min;
	dst->max = src->max > dst->max ? src->max : dst->max;
}

void sc__histogram_record_n(sc_histogram *h, uint64_t value, uint64_t count)
{
	if (!count)
		return;
	h->counts[bucket_of(value)] += count;
	h->total += count;
	h->sum += (unsigned __int128)value * count;
	h->min = value < h->min ? value : h->min;
	h->max = value > h->max ? value : h->max;
}

void sc__histogram_each(const sc_histogram *h, sc__histogram_bucket_fn fn, void *ctx)
{
	for (unsigned i = 0; i < N_BUCKETS; i++) {
		if (!h->counts[i])
			continue;
		uint64_t lowest, width;
		bucket_range(i, &lowest, &width);
		uint64_t mid = lowest + (width - 1) / 2;
		/* The midpoint, kept inside what was recorded, as the percentiles report it. */
		fn(ctx, mid < h->min ? h->min : mid > h->max ? h->max : mid, h->counts[i]);
	}
}

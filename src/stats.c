/* stats.c: summary statistics of a sample: mean, spread, 95% interval, median, MAD, outliers. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Student's t quantile t(0.975, df): the half-width factor of a two-sided 95% interval.
 * Degrees of freedom 1..30 come from this table, computed to 17 significant digits by inverting
 * the regularized incomplete beta function with mpmath at 40 digits.
 */
static const double t975_table[31] = {
    NAN, /* df 0 does not exist */
    12.706204736174705,
    4.3026527297494639,
    3.1824463052837096,
    2.7764451051977944,
    2.5705818356363155,
    2.4469118511449700,
    2.3646242515927853,
    2.3060041352041667,
    2.2621571627982055,
    2.2281388519862747,
    2.2009851600916399,
    2.1788128296672289,
    2.1603686564627925,
    2.1447866879178038,
    2.1314495455597757,
    2.1199052992212547,
    2.1098155778333171,
    2.1009220402410385,
    2.0930240544083098,
    2.0859634472658648,
    2.0796138447276804,
    2.0738730679040262,
    2.0686576104190487,
    2.0638985616280258,
    2.0595385527532977,
    2.0555294386428732,
    2.0518305164802856,
    2.0484071417952452,
    2.0452296421327043,
    2.0422724563012383,
};

double sc__t975(double df)
{
	if (!(df >= 1))
		return NAN;
	/* A fractional df (Welch-Satterthwaite) is rounded down inside the table, which gives the
	 * larger quantile: the interval errs on the wide side. Beyond the table the expansion takes
	 * a real df as it is. */
	if (df < (double)(sizeof t975_table / sizeof t975_table[0]))
		return t975_table[(size_t)df];
	/*
	 * Beyond the table, the Cornish-Fisher expansion of the t quantile in powers of 1/df
	 * around the normal quantile z (Abramowitz and Stegun, Handbook of Mathematical Functions,
	 * 26.7.5). With four terms its relative error is 1.3e-8 at df = 31 and falls as df^-5.
	 */
	const double z = 1.959963984540054; /* the normal 0.975 quantile */
	const double z2 = z * z, v = df;
	const double g1 = z * (z2 + 1) / 4;
	const double g2 = z * ((5 * z2 + 16) * z2 + 3) / 96;
	const double g3 = z * (((3 * z2 + 19) * z2 + 17) * z2 - 15) / 384;
	const double g4 = z * ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) / 92160;
	return z + (g1 + (g2 + (g3 + g4 / v) / v) / v) / v;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double sc_percentile_sorted(const double *sorted, size_t n, double p)
{
	/* A p outside [0, 100] (or NaN) has no percentile; NAN says so without an error code. */
	if (n == 0 || !(p >= 0 && p <= 100))
		return NAN;
	/* Hyndman and Fan type 7: h = (n - 1) p, interpolating between the neighbours of h. */
	double h = (double)(n - 1) * (p / 100);
	size_t lo = (size_t)h;
	if (lo >= n - 1)
		return sorted[n - 1];
	return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

/*
 * Outliers by the modified z-score M = 0.6745 (x - median) / MAD, |M| > 3.5 (Iglewicz and
 * Hoaglin, "How to Detect and Handle Outliers", 1993; NIST/SEMATECH e-Handbook of Statistical
 * Methods, 1.3.5.17). When more than half the values equal the median the MAD is 0; then, as in
 * IBM's definition of the modified z-score (IBM Cognos Analytics documentation, "Modified
 * z-score"), M = (x - median) / (1.253314 MeanAD) with MeanAD the mean absolute deviation from
 * the median (1.253314 = sqrt(pi/2) makes MeanAD estimate the standard deviation of a normal
 * sample). When that is 0 too, every value equals the median and none is an outlier.
 */
static size_t count_outliers(const double *values, size_t n, double median, double mad)
{
	double scale; /* |M| = |x - median| / scale */
	if (mad > 0) {
		scale = mad / 0.6745;
	} else {
		double sum = 0;
		for (size_t i = 0; i < n; i++)
			sum += fabs(values[i] - median);
		scale = 1.253314 * (sum / (double)n);
		if (!(scale > 0))
			return 0;
	}
	size_t outliers = 0;
	for (size_t i = 0; i < n; i++)
		outliers += fabs(values[i] - median) / scale > 3.5;
	return outliers;
}

int sc_summarize(const double *values, size_t n, sc_summary *out)
{
	if (!values || n == 0 || !out)
		return SC_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!isfinite(values[i]))
			return SC_EINVAL;

	/*
	 * Mean and variance by the corrected two-pass algorithm (Chan, Golub and LeVeque,
	 * "Algorithms for computing the sample variance", 1983): the second pass sums deviations
	 * from the first-pass mean, and the sum of those deviations (zero in exact arithmetic)
	 * corrects the rounding error of the first pass.
	 */
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += values[i];
	double mean = sum / (double)n, dev_sum = 0, sq_sum = 0;
	for (size_t i = 0; i < n; i++) {
		double d = values[i] - mean;
		dev_sum += d;
		sq_sum += d * d;
	}
	mean += dev_sum / (double)n;
	double var = n > 1 ? (sq_sum - dev_sum * dev_sum / (double)n) / (double)(n - 1) : 0;
	/* Finite values whose sum or squares overflow a double cannot be summarised. */
	if (!isfinite(mean) || !isfinite(var))
		return SC_EINVAL;

	/* The caller's values stay as they are: order statistics come from a sorted copy. */
	double *work = malloc(n * sizeof *work);
	if (!work)
		return SC_ENOMEM;
	memcpy(work, values, n * sizeof *work);
	qsort(work, n, sizeof *work, compare_doubles);
	double min = work[0], max = work[n - 1];
	double median = sc_percentile_sorted(work, n, 50);
	/* The copy is reused for the absolute deviations, whose median is the MAD. */
	for (size_t i = 0; i < n; i++)
		work[i] = fabs(values[i] - median);
	qsort(work, n, sizeof *work, compare_doubles);
	double mad = sc_percentile_sorted(work, n, 50);
	free(work);

	double stddev = sqrt(var > 0 ? var : 0);
	double half = n > 1 ? sc__t975((double)(n - 1)) * stddev / sqrt((double)n) : 0;
	*out = (sc_summary){
	    .n = n,
	    .mean = mean,
	    .stddev = stddev,
	    .median = median,
	    .min = min,
	    .max = max,
	    .mad = mad,
	    .ci95_low = mean - half,
	    .ci95_high = mean + half,
	    .outliers = count_outliers(values, n, median, mad),
	};
	return 0;
}

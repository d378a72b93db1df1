/* metrics.c: how good predicted probabilities are: accuracy at 0.5, log-loss, Brier score, AUC. */
#include <math.h>
#include <stdlib.h>

#include "nba.h"

#define EPS 1e-15 /* log-loss clamps probabilities to [EPS, 1 - EPS], as scikit-learn did */

typedef struct ranked {
	float p;
	uint8_t y;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
	float pa = ((const ranked *)a)->p, pb = ((const ranked *)b)->p;
	return (pa > pb) - (pa < pb);
}

/* AUC by the rank-sum (Mann-Whitney) formula, (R+ - n+ (n+ + 1) / 2) / (n+ n-), where R+ sums the
 * positives' ranks and tied probabilities share their average rank (a tie counts one half).
 * NAN when a class is missing (the AUC is undefined) or memory runs out. */
static double auc(const float *proba, const uint8_t *y, size_t n)
{
	ranked *r = malloc((n ? n : 1) * sizeof *r);
	if (!r)
		return NAN;
	double n_pos = 0;
	for (size_t i = 0; i < n; i++) {
		r[i] = (ranked){proba[i], y[i] ? 1 : 0};
		n_pos += r[i].y;
	}
	double n_neg = (double)n - n_pos;
	if (n_pos == 0 || n_neg == 0) {
		free(r);
		return NAN;
	}
	qsort(r, n, sizeof *r, cmp_ranked);
	double rank_sum = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		double pos = 0;
		while (j < n && r[j].p == r[i].p)
			pos += r[j++].y;
		/* Rows i..j-1 (0-based) hold ranks i+1..j: their average is (i + 1 + j) / 2. */
		rank_sum += pos * ((double)(i + 1 + j) / 2);
		i = j;
	}
	free(r);
	return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg);
}

void nba_evaluate(const float *proba, const uint8_t *y, size_t n, nba_metrics *out)
{
	out->n = n;
	if (n == 0) {
		out->accuracy = out->log_loss = out->brier = out->auc = NAN;
		return;
	}
	double correct = 0, ll = 0, brier = 0;
	for (size_t i = 0; i < n; i++) {
		double p = proba[i], t = y[i] ? 1 : 0;
		correct += (p >= 0.5) == (y[i] != 0);
		double c = p < EPS ? EPS : p > 1 - EPS ? 1 - EPS : p;
		ll -= y[i] ? log(c) : log(1 - c);
		brier += (p - t) * (p - t);
	}
	out->accuracy = correct / (double)n;
	out->log_loss = ll / (double)n;
	out->brier = brier / (double)n;
	out->auc = auc(proba, y, n);
}

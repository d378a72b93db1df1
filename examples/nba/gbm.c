/* gbm.c: gradient-boosted trees for log-loss: from the base rate's log-odds, each shallow tree fits
 * the negative gradient and takes a shrunken Newton step; P(home win) = sigmoid(sum). */
#include <math.h>
#include <stdlib.h>

#include "model_internal.h"

/* 100 trees of depth 3 with shrinkage 0.1: enough to beat the baseline, and eight leaves a tree
 * keep a prediction to 300 node visits. */
#define GBM_TREES     100
#define GBM_MAX_DEPTH 3
#define GBM_MIN_LEAF  20.0
#define GBM_SHRINKAGE 0.1

static double sigmoid(double z)
{
	return 1.0 / (1.0 + exp(-z));
}

int nba__gbm_train(const nba_dataset *d, uint64_t seed, nba__ensemble *out)
{
	/* Every tree sees every row and every feature, so the result does not depend on the seed;
	 * it is accepted for the common training interface. */
	(void)seed;
	*out = (nba__ensemble){0};
	if (d->n == 0 || d->n > UINT32_MAX)
		return -1;
	uint32_t n = (uint32_t)d->n;
	nba__bins bins;
	if (nba__bins_build(d, &bins) < 0)
		return -1;
	double *f = malloc(n * sizeof *f), *one = malloc(n * sizeof *one);
	double *g = malloc(n * sizeof *g), *h = malloc(n * sizeof *h);
	uint32_t *rows = malloc(n * sizeof *rows);
	int rc = (f && one && g && h && rows) ? 0 : -1;
	if (rc == 0) {
		double pos = 0;
		for (uint32_t i = 0; i < n; i++)
			pos += d->y[i];
		double p0 = pos / n;
		/* A training set of one class has infinite log-odds; keep the start finite. */
		p0 = p0 < 1e-6 ? 1e-6 : p0 > 1 - 1e-6 ? 1 - 1e-6 : p0;
		out->base = (float)log(p0 / (1 - p0));
		for (uint32_t i = 0; i < n; i++) {
			f[i] = out->base;
			one[i] = 1;
		}
	}
	const nba__grow_params p = {NBA__GRADIENT, GBM_MAX_DEPTH, GBM_MIN_LEAF, NBA_N_FEATURES,
	                            GBM_SHRINKAGE};
	uint64_t rng = seed;
	for (int t = 0; t < GBM_TREES && rc == 0; t++) {
		for (uint32_t i = 0; i < n; i++) {
			double pi = sigmoid(f[i]);
			g[i] = d->y[i] -
			       pi; /* the negative gradient of the log-loss in the log-odds */
			h[i] = pi * (1 - pi);
			rows[i] = i;
		}
		rc = nba__tree_grow(out, &bins, one, g, h, rows, n, &p, &rng);
		if (rc == 0) {
			const nba__tree *tr = &out->trees[out->n_trees - 1];
			for (uint32_t i = 0; i < n; i++)
				f[i] += nba__tree_eval(out->nodes + tr->first, tr->depth,
				                       d->x + (size_t)i * NBA_N_FEATURES);
		}
	}
	free(f);
	free(one);
	free(g);
	free(h);
	free(rows);
	nba__bins_free(&bins);
	if (rc < 0)
		nba__ensemble_free(out);
	return rc;
}

void nba__gbm_predict(const nba__ensemble *e, const float *x, size_t n, float *proba)
{
	nba__ensemble_sum(e, x, n, proba);
	for (size_t i = 0; i < n; i++)
		proba[i] = 1.0f / (1.0f + expf(-proba[i]));
}

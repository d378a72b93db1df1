/* forest.c: the random forest: bagged Gini trees on random feature subsets; P(home win) is the
 * mean of the trees' leaf win fractions. */
#include <math.h>
#include <stdlib.h>

#include "model_internal.h"

/* Modest on purpose: 50 trees of depth <= 8 beat the home-team baseline on the generated league
 * and keep a prediction to a few hundred node visits (the prediction-speed requirement). */
#define RF_TREES     50
#define RF_MAX_DEPTH 8
#define RF_MIN_LEAF  5.0
#define RF_MTRY      4 /* sqrt(NBA_N_FEATURES), the usual choice for classification */

int nba__forest_train(const nba_dataset *d, uint64_t seed, nba__ensemble *out)
{
	*out = (nba__ensemble){0};
	if (d->n == 0 || d->n > UINT32_MAX)
		return -1;
	uint32_t n = (uint32_t)d->n;
	nba__bins bins;
	if (nba__bins_build(d, &bins) < 0)
		return -1;
	double *w = malloc(n * sizeof *w), *wy = malloc(n * sizeof *wy);
	uint32_t *rows = malloc(n * sizeof *rows);
	int rc = (w && wy && rows) ? 0 : -1;
	const nba__grow_params p = {NBA__GINI, RF_MAX_DEPTH, RF_MIN_LEAF, RF_MTRY, 1.0};
	uint64_t rng = seed ^ 0x5246u; /* "RF": a stream of its own for the same seed */
	for (int t = 0; t < RF_TREES && rc == 0; t++) {
		/* A bootstrap sample: n draws with replacement, kept as a weight per distinct row
		 * (its count), so a tree sees each row once however often it was drawn. */
		for (uint32_t i = 0; i < n; i++)
			w[i] = 0;
		for (uint32_t i = 0; i < n; i++)
			w[nba__rng_below(&rng, n)] += 1;
		uint32_t m = 0;
		for (uint32_t i = 0; i < n; i++) {
			wy[i] = d->y[i] ? w[i] : 0;
			if (w[i] > 0)
				rows[m++] = i;
		}
		rc = nba__tree_grow(out, &bins, w, wy, NULL, rows, m, &p, &rng);
	}
	free(w);
	free(wy);
	free(rows);
	nba__bins_free(&bins);
	if (rc < 0)
		nba__ensemble_free(out);
	return rc;
}

void nba__forest_predict(const nba__ensemble *e, const float *x, size_t n, float *proba)
{
	nba__ensemble_sum(e, x, n, proba);
	float inv = e->n_trees ? 1.0f / (float)e->n_trees : 0.0f;
	for (size_t i = 0; i < n; i++)
		proba[i] *= inv;
}

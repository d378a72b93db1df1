/* naive.c: the prediction path with the mistakes the seed's optimisation tables warn about. */
#include <stdio.h>
#include <stdlib.h>

#include "naive.h"

/*
 * This file is wrong on purpose: it is the "before" that shotclock's findings must name and the
 * optimised path in nba_predict.c must beat, measured. Its mistakes, each one the seed's table
 * lists:
 *
 *  - re-reading data per batch: every batch of NBA_NAIVE_BATCH games loads and parses the whole
 *    game log again, and replays the feature history from the first game (I/O and parsing that a
 *    cache would do once);
 *  - a malloc per row: every game's feature row is a fresh heap block, freed at once (allocation
 *    churn, which an object pool or one preallocated matrix removes);
 *  - float64 everywhere: the rows are double, twice the bytes of the float the models use, and
 *    are narrowed back into another fresh block before each prediction;
 *  - row-at-a-time prediction: one nba_model_predict_one call per game instead of one batch call.
 *
 * The results stay identical to the optimised path's: the features are computed by the same
 * nba_features_game in the same order, float -> double -> float is exact, and predict_one goes
 * through the batch code (model.c), so the tests can compare the two outputs byte for byte.
 */

/* One batch: games [lo, hi) of a freshly loaded league, predicted one row at a time. */
static int predict_batch(const nba_league *l, const nba_model *m, size_t lo, size_t hi,
                         float *proba, char *err, size_t err_cap)
{
	nba_features *f = nba_features_new(l->n_teams);
	if (!f)
		goto oom;
	for (size_t i = 0; i < hi; i++) {
		float x[NBA_N_FEATURES];
		nba_features_game(f, &l->games[i], x);
		double *row = malloc(NBA_N_FEATURES * sizeof *row);
		if (!row)
			goto oom;
		for (int j = 0; j < NBA_N_FEATURES; j++)
			row[j] = x[j];
		if (i >= lo) {
			float *narrow = malloc(NBA_N_FEATURES * sizeof *narrow);
			if (!narrow) {
				free(row);
				goto oom;
			}
			for (int j = 0; j < NBA_N_FEATURES; j++)
				narrow[j] = (float)row[j];
			proba[i - lo] = nba_model_predict_one(m, narrow);
			free(narrow);
		}
		free(row);
	}
	nba_features_free(f);
	return 0;
oom:
	nba_features_free(f);
	snprintf(err, err_cap, "out of memory");
	return -1;
}

int nba_naive_recommend(const char *csv_path, const nba_model *m, size_t first, size_t n,
                        double min_edge, double kelly_cap, nba_bet *bets, size_t *n_bets, char *err,
                        size_t err_cap)
{
	*n_bets = 0;
	for (size_t lo = first; lo < first + n; lo += NBA_NAIVE_BATCH) {
		size_t hi = lo + NBA_NAIVE_BATCH < first + n ? lo + NBA_NAIVE_BATCH : first + n;
		nba_league l;
		if (nba_load_csv(csv_path, &l, err, err_cap) < 0)
			return -1;
		if (l.n_games < hi) {
			snprintf(err, err_cap,
			         "%s: changed while it was read (%zu games, needed %zu)", csv_path,
			         l.n_games, hi);
			nba_league_free(&l);
			return -1;
		}
		float proba[NBA_NAIVE_BATCH];
		int rc = predict_batch(&l, m, lo, hi, proba, err, err_cap);
		if (rc == 0)
			*n_bets += nba_recommend(l.games + lo, proba, hi - lo, min_edge, kelly_cap,
			                         bets + *n_bets);
		nba_league_free(&l);
		if (rc < 0)
			return -1;
	}
	return 0;
}

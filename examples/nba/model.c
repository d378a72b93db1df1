/* model.c: the nba_model handle: training, names, and prediction dispatched once per batch. */
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

static const char *const short_names[] = {"lr", "rf", "gbm"};
/* The seed's names, so that its users recognise the comparison. */
static const char *const long_names[] = {"logistic_regression", "random_forest",
                                         "gradient_boosting"};
#define N_KINDS 3

nba_model *nba_model_train(nba_model_kind kind, const nba_dataset *d, uint64_t seed)
{
	nba_model *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->kind = kind;
	int rc = -1;
	switch (kind) {
	case NBA_MODEL_LR:
		rc = nba__logreg_train(d, &m->u.lr);
		break;
	case NBA_MODEL_RF:
		rc = nba__forest_train(d, seed, &m->u.ens);
		break;
	case NBA_MODEL_GBM:
		rc = nba__gbm_train(d, seed, &m->u.ens);
		break;
	}
	if (rc < 0) {
		free(m);
		return NULL;
	}
	return m;
}

void nba_model_free(nba_model *m)
{
	if (!m)
		return;
	if (m->kind != NBA_MODEL_LR)
		nba__ensemble_free(&m->u.ens);
	free(m);
}

nba_model_kind nba_model_kind_of(const nba_model *m)
{
	return m->kind;
}

const char *nba_model_short_name(nba_model_kind kind)
{
	return (unsigned)kind < N_KINDS ? short_names[kind] : "?";
}

const char *nba_model_long_name(nba_model_kind kind)
{
	return (unsigned)kind < N_KINDS ? long_names[kind] : "?";
}

int nba_model_kind_parse(const char *name)
{
	for (int k = 0; k < N_KINDS; k++)
		if (strcmp(name, short_names[k]) == 0 || strcmp(name, long_names[k]) == 0)
			return k;
	return -1;
}

/* One row goes through the batch path, so predict_one and predict agree to the bit. */
float nba_model_predict_one(const nba_model *m, const float *x)
{
	float p;
	nba_model_predict(m, x, 1, &p);
	return p;
}

void nba_model_predict(const nba_model *m, const float *x, size_t n, float *proba)
{
	switch (m->kind) {
	case NBA_MODEL_LR:
		nba__logreg_predict(&m->u.lr, x, n, proba);
		break;
	case NBA_MODEL_RF:
		nba__forest_predict(&m->u.ens, x, n, proba);
		break;
	case NBA_MODEL_GBM:
		nba__gbm_predict(&m->u.ens, x, n, proba);
		break;
	}
}

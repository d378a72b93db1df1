/* model_internal.h: what the model files share inside the nba library: the three models' layouts,
 * the tree node format, feature binning and the tree grower (not part of the nba.h contract). */
#ifndef NBA_MODEL_INTERNAL_H
#define NBA_MODEL_INTERNAL_H

#include "nba.h"

/* ---- logistic regression (logreg.c) ----------------------------------------------------- */

typedef struct nba__logreg {
	/* What the file stores: the training mean and sd of each feature and the weights of the
	 * standardised features. */
	float mean[NBA_N_FEATURES], sd[NBA_N_FEATURES], w[NBA_N_FEATURES], bias;
	/* Derived once (nba__logreg_prepare) so that prediction is one dot product on raw
	 * features: wx = w / sd, b0 = bias - sum(w * mean / sd). */
	float wx[NBA_N_FEATURES], b0;
} nba__logreg;

int nba__logreg_train(const nba_dataset *d, nba__logreg *out);
void nba__logreg_prepare(nba__logreg *lr);
void nba__logreg_predict(const nba__logreg *lr, const float *x, size_t n, float *proba);

/* ---- trees (tree.c) ------------------------------------------------------------------------ */

/* One node of a tree, 16 bytes. An internal node sends x to child[0] (left) when x[feature] <=
 * value, else to child[1] (right); indices are relative to the tree's first node, children after
 * their parent. A leaf has both children equal to its own index and feature 0, and value is its
 * output: a walk of exactly the tree's depth steps then needs no "is this a leaf" branch, since
 * leaves loop on themselves, and indexing child[] by the comparison needs no branch either (a
 * mispredicted branch per level would cost more than the rest of the walk). */
typedef struct nba__node {
	int32_t feature;
	float value;
	uint32_t child[2];
} nba__node;

typedef struct nba__tree {
	uint32_t first;   /* index of the root in the ensemble's node array */
	uint32_t n_nodes; /* nodes of this tree */
	uint32_t depth;   /* the deepest leaf's depth: the steps of a walk */
} nba__tree;

/* A forest (output = mean of the trees) or a boosted ensemble (output = sigmoid(base + sum)). */
typedef struct nba__ensemble {
	nba__tree *trees;
	nba__node *nodes;
	uint32_t n_trees, n_nodes;
	float base; /* boosting: the initial log-odds; 0 for a forest */
} nba__ensemble;

#define NBA__MAX_DEPTH 16
#define NBA__MAX_BINS  64

/* Each feature cut into at most NBA__MAX_BINS bins at thresholds taken from the training values;
 * a row's bin b of feature j satisfies x <= thr[j][b] and x > thr[j][b - 1], so a split "bins
 * 0..b go left" is exactly the node test x <= thr[j][b]. */
typedef struct nba__bins {
	int n_bins[NBA_N_FEATURES];
	float thr[NBA_N_FEATURES][NBA__MAX_BINS - 1];
	uint8_t *
	    code; /* bin of row i, feature j at code[j * n + i] (column-major: a split scans one) */
	size_t n;
} nba__bins;

int nba__bins_build(const nba_dataset *d, nba__bins *b);
void nba__bins_free(nba__bins *b);

/* How a tree scores splits and values its leaves, from per-row sums s0, s1, s2. */
typedef enum nba__criterion {
	NBA__GINI,     /* s0 = weight, s1 = weight * y; leaf = s1 / s0 */
	NBA__GRADIENT, /* s0 = 1, s1 = y - p, s2 = p (1 - p); split on squared error of s1, leaf =
	                  shrinkage * sum s1 / sum s2 (one Newton step) */
} nba__criterion;

typedef struct nba__grow_params {
	nba__criterion criterion;
	int max_depth;
	double min_leaf; /* least s0 on each side of a split */
	int mtry;        /* features tried per node (a random subset when < NBA_N_FEATURES) */
	double shrinkage;
} nba__grow_params;

/* Grows one tree on rows[0..n_rows) (reordered in place) and appends it to e. rng is the
 * caller's generator state (advanced). 0, or -1 when out of memory. */
int nba__tree_grow(nba__ensemble *e, const nba__bins *b, const double *s0, const double *s1,
                   const double *s2, uint32_t *rows, uint32_t n_rows, const nba__grow_params *p,
                   uint64_t *rng);
/* A tree's output for one row. */
static inline float nba__tree_eval(const nba__node *t, uint32_t depth, const float *x)
{
	uint32_t i = 0;
	for (uint32_t d = 0; d < depth; d++) {
		const nba__node *nd = &t[i];
		i = nd->child[!(x[nd->feature] <= nd->value)];
	}
	return t[i].value;
}
/* Checks one tree read from a file: indices in range, children after parents, one parent each,
 * every node reachable, leaves no deeper than depth and internal nodes shallower, finite values.
 * NULL when valid, else what is wrong (a static string). */
const char *nba__tree_check(const nba__node *t, uint32_t n_nodes, uint32_t depth);
/* sum[i] = base + the trees' outputs for row i, added in tree order (so one row alone and the
 * same row in a batch get the same bits). Trees walk a block of rows at a time: the tree stays in
 * L1 while the independent walks of different rows overlap in the pipeline. */
void nba__ensemble_sum(const nba__ensemble *e, const float *x, size_t n, float *sum);
void nba__ensemble_free(nba__ensemble *e);

/* The splitmix64 generator: small, fast, and the same stream on every platform. */
static inline uint64_t nba__rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
/* Uniform in [0, n) (n small: the modulo bias is below 2^-40). */
static inline uint32_t nba__rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(nba__rng_next(s) % n);
}

/* ---- random forest (forest.c) and gradient boosting (gbm.c) -------------------------------- */

int nba__forest_train(const nba_dataset *d, uint64_t seed, nba__ensemble *out);
void nba__forest_predict(const nba__ensemble *e, const float *x, size_t n, float *proba);
int nba__gbm_train(const nba_dataset *d, uint64_t seed, nba__ensemble *out);
void nba__gbm_predict(const nba__ensemble *e, const float *x, size_t n, float *proba);

/* ---- the model handle (model.c) ------------------------------------------------------------ */

struct nba_model {
	nba_model_kind kind;
	union {
		nba__logreg lr;
		nba__ensemble ens; /* NBA_MODEL_RF and NBA_MODEL_GBM */
	} u;
};

#endif

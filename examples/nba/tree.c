/* tree.c: decision trees shared by the random forest and gradient boosting: feature binning, the
 * histogram CART grower, and the validation of trees read from a model file. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

/* ---- binning ------------------------------------------------------------------------------- */

/* NaN sorts last, so the thresholds come from the finite values and a NaN always goes right,
 * the same way the node test (x <= value is false for NaN) sends it. */
static int cmp_float(const void *pa, const void *pb)
{
	float a = *(const float *)pa, b = *(const float *)pb;
	if (isnan(a) || isnan(b))
		return isnan(a) - isnan(b);
	return (a > b) - (a < b);
}

/* A threshold between two consecutive distinct values a < b: their midpoint when float rounding
 * keeps it strictly below b (so that b still goes right), else a itself. */
static float cut_between(float a, float b)
{
	float mid = a + (b - a) * 0.5f;
	return (mid >= a && mid < b && isfinite(mid)) ? mid : a;
}

static uint8_t bin_of(const float *thr, int n_thr, float x)
{
	/* The smallest b with x <= thr[b]; n_thr (the last bin) when there is none. */
	int lo = 0, hi = n_thr;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (x <= thr[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return (uint8_t)lo;
}

int nba__bins_build(const nba_dataset *d, nba__bins *b)
{
	size_t n = d->n;
	memset(b, 0, sizeof *b);
	b->n = n;
	b->code = malloc((n ? n : 1) * NBA_N_FEATURES);
	float *col = malloc((n ? n : 1) * sizeof *col);
	if (!b->code || !col) {
		free(col);
		nba__bins_free(b);
		return -1;
	}
	for (int j = 0; j < NBA_N_FEATURES; j++) {
		for (size_t i = 0; i < n; i++)
			col[i] = d->x[i * NBA_N_FEATURES + j];
		qsort(col, n, sizeof *col, cmp_float);
		size_t m = n;
		while (m > 0 && isnan(col[m - 1]))
			m--;
		/* Cut after the value at each quantile k / MAX_BINS, skipping repeats: a feature
		 * with few distinct values gets one bin per value. */
		int nt = 0;
		for (int k = 1; k < NBA__MAX_BINS && m > 0; k++) {
			size_t pos = (size_t)((double)k * (double)m / NBA__MAX_BINS);
			if (pos >= m)
				pos = m - 1;
			float v = col[pos];
			if (nt > 0 && v <= b->thr[j][nt - 1])
				continue;
			/* The next distinct value above v; none means v is the maximum. */
			size_t q = pos;
			while (q < m && col[q] <= v)
				q++;
			if (q >= m)
				break;
			float t = cut_between(v, col[q]);
			if (nt > 0 && t <= b->thr[j][nt - 1])
				continue;
			b->thr[j][nt++] = t;
		}
		b->n_bins[j] = nt + 1;
		uint8_t *code = b->code + (size_t)j * n;
		for (size_t i = 0; i < n; i++)
			code[i] = bin_of(b->thr[j], nt, d->x[i * NBA_N_FEATURES + j]);
	}
	free(col);
	return 0;
}

void nba__bins_free(nba__bins *b)
{
	free(b->code);
	b->code = NULL;
}

/* ---- growing ------------------------------------------------------------------------------ */

typedef struct grower {
	nba__ensemble *e;
	const nba__bins *b;
	const double *s[3];
	uint32_t *rows;
	const nba__grow_params *p;
	uint64_t *rng;
	uint32_t first, cap, depth;
	double hist[NBA__MAX_BINS][3];
} grower;

/* The criterion's score of a set of rows from its sums; a split is worth taking when the two
 * sides score more than the parent. Gini: sum over classes of count^2 / total (maximising it
 * minimises the weighted Gini impurity). Gradient: (sum s1)^2 / n (maximising it minimises the
 * squared error of the fitted residuals). */
static double score(nba__criterion c, const double t[3])
{
	if (t[0] <= 0)
		return 0;
	if (c == NBA__GINI)
		return (t[1] * t[1] + (t[0] - t[1]) * (t[0] - t[1])) / t[0];
	return t[1] * t[1] / t[0];
}

static float leaf_value(const grower *g, const double t[3])
{
	if (g->p->criterion == NBA__GINI)
		return t[0] > 0 ? (float)(t[1] / t[0]) : 0.5f;
	double v = t[1] / (t[2] > 1e-12 ? t[2] : 1e-12);
	/* A near-pure node has a tiny hessian and a huge Newton step; clamp as boosting libraries
	 * do, since one tree should never move a log-odds by more than a few units. */
	if (v > 4)
		v = 4;
	if (v < -4)
		v = -4;
	return (float)(g->p->shrinkage * v);
}

static int push_node(grower *g, uint32_t *idx)
{
	nba__ensemble *e = g->e;
	if (e->n_nodes == g->cap) {
		uint32_t cap = g->cap ? g->cap * 2 : 256;
		nba__node *nodes = realloc(e->nodes, (size_t)cap * sizeof *nodes);
		if (!nodes)
			return -1;
		e->nodes = nodes;
		g->cap = cap;
	}
	*idx = e->n_nodes++ - g->first;
	return 0;
}

static int grow(grower *g, uint32_t lo, uint32_t hi, uint32_t depth, uint32_t *out)
{
	const nba__grow_params *p = g->p;
	uint32_t idx;
	if (push_node(g, &idx) < 0)
		return -1;
	*out = idx;
	double tot[3] = {0, 0, 0};
	for (uint32_t k = lo; k < hi; k++) {
		uint32_t r = g->rows[k];
		for (int s = 0; s < 3; s++)
			tot[s] += g->s[s] ? g->s[s][r] : 0;
	}
	bool pure = p->criterion == NBA__GINI && (tot[1] <= 0 || tot[1] >= tot[0]);
	int best_f = -1, best_b = -1;
	double parent = score(p->criterion, tot);
	double best = parent + 1e-9 * fabs(parent) + 1e-12;
	if ((int)depth < p->max_depth && tot[0] >= 2 * p->min_leaf && !pure) {
		/* The features to try: a partial Fisher-Yates shuffle draws mtry of them. */
		int feats[NBA_N_FEATURES];
		for (int j = 0; j < NBA_N_FEATURES; j++)
			feats[j] = j;
		int mtry = p->mtry < NBA_N_FEATURES ? p->mtry : NBA_N_FEATURES;
		if (mtry < NBA_N_FEATURES) {
			for (int j = 0; j < mtry; j++) {
				int k =
				    j + (int)nba__rng_below(g->rng, (uint32_t)(NBA_N_FEATURES - j));
				int t = feats[j];
				feats[j] = feats[k];
				feats[k] = t;
			}
		}
		for (int fi = 0; fi < mtry; fi++) {
			int f = feats[fi];
			int nb = g->b->n_bins[f];
			if (nb < 2)
				continue;
			memset(g->hist, 0, sizeof g->hist[0] * (size_t)nb);
			const uint8_t *code = g->b->code + (size_t)f * g->b->n;
			for (uint32_t k = lo; k < hi; k++) {
				uint32_t r = g->rows[k];
				double *h = g->hist[code[r]];
				for (int s = 0; s < 3; s++)
					h[s] += g->s[s] ? g->s[s][r] : 0;
			}
			double left[3] = {0, 0, 0};
			for (int bb = 0; bb + 1 < nb; bb++) {
				double right[3];
				for (int s = 0; s < 3; s++) {
					left[s] += g->hist[bb][s];
					right[s] = tot[s] - left[s];
				}
				if (left[0] < p->min_leaf || right[0] < p->min_leaf)
					continue;
				double sc = score(p->criterion, left) + score(p->criterion, right);
				if (sc > best) {
					best = sc;
					best_f = f;
					best_b = bb;
				}
			}
		}
	}
	nba__node *nodes = g->e->nodes + g->first;
	if (best_f < 0) {
		nodes[idx] = (nba__node){0, leaf_value(g, tot), {idx, idx}};
		if (depth > g->depth)
			g->depth = depth;
		return 0;
	}
	/* Partition rows so the left child's come first. */
	const uint8_t *code = g->b->code + (size_t)best_f * g->b->n;
	uint32_t i = lo, j = hi;
	while (i < j) {
		if (code[g->rows[i]] <= best_b) {
			i++;
		} else {
			uint32_t t = g->rows[i];
			g->rows[i] = g->rows[--j];
			g->rows[j] = t;
		}
	}
	uint32_t l, r;
	if (grow(g, lo, i, depth + 1, &l) < 0 || grow(g, i, hi, depth + 1, &r) < 0)
		return -1;
	/* Re-fetch: the children's pushes may have moved the array. */
	nodes = g->e->nodes + g->first;
	nodes[idx] = (nba__node){best_f, g->b->thr[best_f][best_b], {l, r}};
	return 0;
}

int nba__tree_grow(nba__ensemble *e, const nba__bins *b, const double *s0, const double *s1,
                   const double *s2, uint32_t *rows, uint32_t n_rows, const nba__grow_params *p,
                   uint64_t *rng)
{
	nba__tree *trees = realloc(e->trees, (size_t)(e->n_trees + 1) * sizeof *trees);
	if (!trees)
		return -1;
	e->trees = trees;
	grower *g = malloc(sizeof *g);
	if (!g)
		return -1;
	*g = (grower){.e = e,
	              .b = b,
	              .s = {s0, s1, s2},
	              .rows = rows,
	              .p = p,
	              .rng = rng,
	              .first = e->n_nodes,
	              .cap = e->n_nodes};
	/* The ensemble does not keep its array's capacity, so each tree starts as if the array
	 * were full: its first node doubles it, and later ones double from there. */
	uint32_t root;
	int rc = grow(g, 0, n_rows, 0, &root);
	if (rc == 0)
		e->trees[e->n_trees++] = (nba__tree){g->first, e->n_nodes - g->first, g->depth};
	else
		e->n_nodes = g->first;
	free(g);
	return rc;
}

const char *nba__tree_check(const nba__node *t, uint32_t n_nodes, uint32_t depth)
{
	if (n_nodes == 0)
		return "no nodes";
	if (depth > NBA__MAX_DEPTH)
		return "depth out of range";
	uint8_t *d = malloc(n_nodes);
	if (!d)
		return "out of memory";
	memset(d, 0xff, n_nodes);
	const char *bad = NULL;
	d[0] = 0;
	/* Children come after their parents, so one pass in index order sees every parent before
	 * its children: a node not yet given a depth is unreachable. */
	for (uint32_t i = 0; i < n_nodes && !bad; i++) {
		const nba__node *nd = &t[i];
		if (d[i] == 0xff)
			bad = "node unreachable";
		else if (!isfinite(nd->value))
			bad = "value not finite";
		else if (nd->child[0] == i && nd->child[1] == i)
			bad = nd->feature == 0 ? NULL : "leaf with a feature";
		else if (nd->feature < 0 || nd->feature >= NBA_N_FEATURES)
			bad = "feature out of range";
		else if (nd->child[0] <= i || nd->child[1] <= i || nd->child[0] >= n_nodes ||
		         nd->child[1] >= n_nodes || nd->child[0] == nd->child[1])
			bad = "child index out of range";
		else if (d[nd->child[0]] != 0xff || d[nd->child[1]] != 0xff)
			bad = "node with two parents";
		else if (d[i] >= depth)
			bad = "internal node at the tree's depth";
		else
			d[nd->child[0]] = d[nd->child[1]] = (uint8_t)(d[i] + 1);
	}
	free(d);
	return bad;
}

/* Rows per block: 64 rows of features are 4 KiB, which sit in L1 beside the tree being walked. */
#define BLOCK 64

void nba__ensemble_sum(const nba__ensemble *e, const float *x, size_t n, float *sum)
{
	for (size_t lo = 0; lo < n; lo += BLOCK) {
		size_t m = n - lo < BLOCK ? n - lo : BLOCK;
		const float *xb = x + lo * NBA_N_FEATURES;
		float *sb = sum + lo;
		for (size_t r = 0; r < m; r++)
			sb[r] = e->base;
		for (uint32_t t = 0; t < e->n_trees; t++) {
			const nba__node *nodes = e->nodes + e->trees[t].first;
			uint32_t depth = e->trees[t].depth;
			for (size_t r = 0; r < m; r++)
				sb[r] += nba__tree_eval(nodes, depth, xb + r * NBA_N_FEATURES);
		}
	}
}

void nba__ensemble_free(nba__ensemble *e)
{
	free(e->trees);
	free(e->nodes);
	e->trees = NULL;
	e->nodes = NULL;
	e->n_trees = e->n_nodes = 0;
}

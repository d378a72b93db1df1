/* test_nba_models.c: the NBA pipeline's models, model file, metrics and bets, on synthetic data. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "nba.h"

/* ---- a synthetic league: y ~ Bernoulli(sigmoid(w . x)) from a fixed generator --------------- */

static uint64_t rng_state;

static double uniform(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return ((double)(z >> 11) + 0.5) / (double)(1ULL << 53);
}

static double normal(void)
{
	return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform());
}

/* Features shaped like the real ones: continuous differences, a small integer (rest days), a 0/1
 * flag (back-to-back), and a constant (home). A little non-linearity rewards the trees. */
static nba_dataset synthetic(size_t n, uint64_t seed)
{
	static const double w[NBA_N_FEATURES] = {0.8, -0.5, 0.3, 0, 0.2, 0,    -0.3, 0.1,
	                                         0,   0.4,  0,   0, 0.2, -0.4, 0,    0};
	nba_dataset d = {0};
	d.n = n;
	d.x = malloc(n * NBA_N_FEATURES * sizeof *d.x);
	d.y = malloc(n);
	d.true_prob = malloc(n * sizeof *d.true_prob);
	d.season = calloc(n, sizeof *d.season);
	rng_state = seed;
	for (size_t i = 0; i < n; i++) {
		float *x = d.x + i * NBA_N_FEATURES;
		double z = 0.25;
		for (int j = 0; j < NBA_N_FEATURES; j++) {
			x[j] = (float)normal();
			if (j == 9)
				x[j] = (float)(int)(uniform() * 4); /* rest days 0..3 */
			if (j == 13)
				x[j] = uniform() < 0.2f; /* back-to-back */
			if (j == 15)
				x[j] = 1; /* home */
			z += w[j] * x[j];
		}
		z += 0.3 * (x[0] * x[0] - 1);
		double p = 1 / (1 + exp(-z));
		d.true_prob[i] = p;
		d.y[i] = uniform() < p;
	}
	return d;
}

static void free_synthetic(nba_dataset *d)
{
	free(d->x);
	free(d->y);
	free(d->true_prob);
	free(d->season);
}

/* ---- metrics --------------------------------------------------------------------------------- */

static void test_metrics(void)
{
	/* Exactly representable probabilities, so the expected values are exact. Positives {0.5,
	 * 0.75}, negatives {0.5, 0.25}: of the 4 pairs, 3 ranked right and one tie (a half):
	 * AUC 3.5 / 4. Brier (0.25 + 0.25 + 0.0625 + 0.0625) / 4. At 0.5 the first row predicts a
	 * home win (right) and the second too (wrong): accuracy 3 / 4. */
	const float p[] = {0.5f, 0.5f, 0.25f, 0.75f};
	const uint8_t y[] = {1, 0, 0, 1};
	nba_metrics m;
	nba_evaluate(p, y, 4, &m);
	CHECK_INT(m.n, 4);
	CHECK_NEAR(m.accuracy, 0.75, 0);
	CHECK_NEAR(m.auc, 0.875, 1e-15);
	CHECK_NEAR(m.brier, 0.15625, 1e-15);
	CHECK_NEAR(m.log_loss, -(2 * log(0.5) + 2 * log(0.75)) / 4, 1e-15);
	CHECK_NEAR(m.log_loss, 0.4904146265058631, 1e-15);

	/* All tied: every pair counts one half. */
	const float q[] = {0.3f, 0.3f, 0.3f};
	const uint8_t yq[] = {1, 0, 1};
	nba_evaluate(q, yq, 3, &m);
	CHECK_NEAR(m.auc, 0.5, 0);

	/* A classic: positives {0.35, 0.8}, negatives {0.1, 0.4}; 3 of 4 pairs right. */
	const float r[] = {0.1f, 0.4f, 0.35f, 0.8f};
	const uint8_t yr[] = {0, 0, 1, 1};
	nba_evaluate(r, yr, 4, &m);
	CHECK_NEAR(m.auc, 0.75, 0);

	/* A certain, wrong prediction costs -log(1e-15), not infinity. */
	const float zero[] = {0.0f};
	const uint8_t one[] = {1};
	nba_evaluate(zero, one, 1, &m);
	CHECK_NEAR(m.log_loss, 34.538776394910684, 1e-9);
	CHECK(isnan(m.auc)); /* one class only: undefined */
	CHECK_NEAR(m.brier, 1, 0);
	CHECK_NEAR(m.accuracy, 0, 0);
}

/* ---- models ---------------------------------------------------------------------------------- */

static bool same_bits(const float *a, const float *b, size_t n)
{
	return memcmp(a, b, n * sizeof *a) == 0;
}

static void test_model(nba_model_kind kind, const nba_dataset *train, const nba_dataset *test,
                       const char *dir)
{
	const char *name = nba_model_short_name(kind);
	nba_model *m = nba_model_train(kind, train, 42);
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_INT(nba_model_kind_of(m), kind);
	float *p = malloc(test->n * sizeof *p), *p2 = malloc(test->n * sizeof *p2);
	nba_model_predict(m, test->x, test->n, p);

	/* Beats the constant baseline (the training base rate, which here is the home team's) on
	 * held-out rows, in accuracy and log-loss. */
	double rate = 0;
	for (size_t i = 0; i < train->n; i++)
		rate += train->y[i];
	rate /= (double)train->n;
	float *base = malloc(test->n * sizeof *base);
	for (size_t i = 0; i < test->n; i++)
		base[i] = (float)rate;
	nba_metrics mm, mb;
	nba_evaluate(p, test->y, test->n, &mm);
	nba_evaluate(base, test->y, test->n, &mb);
	printf("%-4s accuracy %.4f (baseline %.4f)  log-loss %.4f (%.4f)  brier %.4f (%.4f)  auc "
	       "%.4f\n",
	       name, mm.accuracy, mb.accuracy, mm.log_loss, mb.log_loss, mm.brier, mb.brier,
	       mm.auc);
	CHECK(mm.accuracy > mb.accuracy + 0.03);
	CHECK(mm.log_loss < mb.log_loss - 0.03);
	CHECK(mm.brier < mb.brier);
	CHECK(mm.auc > 0.7);

	/* Deterministic: a second training gives the same bits. */
	nba_model *again = nba_model_train(kind, train, 42);
	nba_model_predict(again, test->x, test->n, p2);
	CHECK(same_bits(p, p2, test->n));
	nba_model_free(again);

	/* One row at a time agrees with the batch exactly. */
	size_t diff = 0;
	for (size_t i = 0; i < test->n; i++) {
		float one = nba_model_predict_one(m, test->x + i * NBA_N_FEATURES);
		diff += memcmp(&one, &p[i], sizeof one) != 0;
	}
	CHECK_INT(diff, 0);

	/* Save, load: the same predictions, and saving the loaded model gives the same bytes. */
	char path[512], path2[512], err[512] = "";
	snprintf(path, sizeof path, "%s/%s.model", dir, name);
	snprintf(path2, sizeof path2, "%s/%s-again.model", dir, name);
	CHECK_INT(nba_model_save(m, path), 0);
	nba_model *l = nba_model_load(path, err, sizeof err);
	CHECK(l != NULL);
	if (!l)
		fprintf(stderr, "load: %s\n", err);
	if (l) {
		CHECK_INT(nba_model_kind_of(l), kind);
		memset(p2, 0, test->n * sizeof *p2);
		nba_model_predict(l, test->x, test->n, p2);
		CHECK(same_bits(p, p2, test->n));
		CHECK_INT(nba_model_save(l, path2), 0);
		FILE *a = fopen(path, "rb"), *b = fopen(path2, "rb");
		int ca, cb, same = 1;
		do {
			ca = getc(a);
			cb = getc(b);
			same &= ca == cb;
		} while (ca != EOF && cb != EOF);
		CHECK(same);
		fclose(a);
		fclose(b);
		nba_model_free(l);
	}
	free(p);
	free(p2);
	free(base);
	nba_model_free(m);
}

static void test_names(void)
{
	CHECK_STR(nba_model_short_name(NBA_MODEL_LR), "lr");
	CHECK_STR(nba_model_short_name(NBA_MODEL_RF), "rf");
	CHECK_STR(nba_model_short_name(NBA_MODEL_GBM), "gbm");
	CHECK_STR(nba_model_long_name(NBA_MODEL_LR), "logistic_regression");
	CHECK_STR(nba_model_long_name(NBA_MODEL_RF), "random_forest");
	CHECK_STR(nba_model_long_name(NBA_MODEL_GBM), "gradient_boosting");
	CHECK_INT(nba_model_kind_parse("gbm"), NBA_MODEL_GBM);
	CHECK_INT(nba_model_kind_parse("random_forest"), NBA_MODEL_RF);
	CHECK_INT(nba_model_kind_parse("svm"), -1);
}

/* ---- corrupt model files ------------------------------------------------------------------- */

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = malloc(1 << 20);
	*len = fread(p, 1, 1 << 20, f);
	fclose(f);
	return p;
}

static void spit(const char *path, const uint8_t *p, size_t len)
{
	FILE *f = fopen(path, "wb");
	fwrite(p, 1, len, f);
	fclose(f);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int k = 0; k < 4; k++)
		p[k] = (uint8_t)(v >> (8 * k));
}

/* Rewrites the trailing FNV-1a, so that a test reaches the checks behind the checksum. */
static void reseal(uint8_t *p, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i + 4 < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	put32(p + len - 4, h);
}

static void expect_load_error(const char *path, const uint8_t *p, size_t len, const char *want)
{
	char err[512] = "", full[1024];
	spit(path, p, len);
	nba_model *m = nba_model_load(path, err, sizeof err);
	CHECK(m == NULL);
	nba_model_free(m);
	snprintf(full, sizeof full, "%s: %s", path, want);
	CHECK_STR(err, full);
}

static void test_corrupt(const char *dir)
{
	char good[512], bad[512];
	snprintf(good, sizeof good, "%s/rf.model", dir);
	snprintf(bad, sizeof bad, "%s/bad.model", dir);
	size_t len;
	uint8_t *orig = slurp(good, &len), *p = malloc(len);

	memcpy(p, orig, len);
	char want[1024];
	snprintf(want, sizeof want, "truncated: %zu bytes, the header says %zu", len / 2, len);
	expect_load_error(bad, p, len / 2, want);
	expect_load_error(bad, p, 10, "truncated: 10 bytes, a model file has at least 28");
	expect_load_error(bad, p, 0, "truncated: 0 bytes, a model file has at least 28");

	memcpy(p, orig, len);
	p[0] = 'X';
	expect_load_error(bad, p, len, "not an NBA model file (bad magic)");

	memcpy(p, orig, len);
	p[100] ^= 1;
	expect_load_error(bad, p, len, "checksum mismatch: the file is corrupt");

	memcpy(p, orig, len);
	put32(p + 8, 7);
	expect_load_error(bad, p, len, "model file version 7, this build reads 1");

	memcpy(p, orig, len);
	put32(p + 12, 9);
	reseal(p, len);
	expect_load_error(bad, p, len, "unknown model kind 9");

	memcpy(p, orig, len);
	put32(p + 16, 99);
	reseal(p, len);
	expect_load_error(bad, p, len, "a model of 99 features, this build has 16");

	/* Absurd sizes, behind a valid checksum. */
	memcpy(p, orig, len);
	put32(p + 24 + 4, 0xffffffffu);
	reseal(p, len);
	expect_load_error(bad, p, len, "4294967295 trees, expected 1 to 100000");

	memcpy(p, orig, len);
	uint32_t trees = p[28] | p[29] << 8 | p[30] << 16 | (uint32_t)p[31] << 24;
	put32(p + 24 + 8, 0xffffffffu);
	reseal(p, len);
	snprintf(want, sizeof want,
	         "%u trees and 4294967295 nodes need %llu payload bytes, the file has %zu", trees,
	         12 + 8ULL * trees + 16ULL * 0xffffffffu, len - 28);
	expect_load_error(bad, p, len, want);

	/* The first tree's node count raised to more than the file's nodes. */
	memcpy(p, orig, len);
	put32(p + 36, 0x7fffffffu);
	reseal(p, len);
	expect_load_error(bad, p, len, "tree 0: 2147483647 nodes of depth 8 do not fit");

	/* The root's left child pointing at itself (or anywhere out of the tree). */
	size_t nodes_at = 24 + 12 + 8 * (size_t)trees;
	memcpy(p, orig, len);
	put32(p + nodes_at + 8, 0);
	reseal(p, len);
	expect_load_error(bad, p, len, "tree 0: child index out of range");

	memcpy(p, orig, len);
	put32(p + nodes_at, 16);
	reseal(p, len);
	expect_load_error(bad, p, len, "tree 0: feature out of range");

	char missing[512], err[512];
	snprintf(missing, sizeof missing, "%s/none.model", dir);
	CHECK(nba_model_load(missing, err, sizeof err) == NULL);
	snprintf(want, sizeof want, "%s: No such file or directory", missing);
	CHECK_STR(err, want);
	free(orig);
	free(p);
}

/* ---- bets ------------------------------------------------------------------------------------ */

static double implied(int ml)
{
	return ml < 0 ? -ml / (double)(-ml + 100) : 100 / (double)(ml + 100);
}

static void test_moneylines(void)
{
	rng_state = 7;
	double worst = 0;
	for (uint32_t id = 1; id <= 2000; id++) {
		nba_game g = {.game_id = id, .true_home_prob = 0.05 + 0.9 * uniform()};
		int h, a, h2, a2;
		nba_moneylines(&g, &h, &a);
		nba_moneylines(&g, &h2, &a2);
		CHECK(h == h2 && a == a2);
		CHECK(h <= -100 || h >= 100);
		CHECK(a <= -100 || a >= 100);
		double over = implied(h) + implied(a) - 1.045;
		if (fabs(over) > worst)
			worst = fabs(over);
	}
	/* American odds are whole numbers: each side's implied probability moves by at most
	 * 100 / 200^2 / 2 = 0.00125 in rounding, so the book sums to 1.045 within 0.0025. */
	CHECK(worst <= 0.0025);
	printf("moneylines: overround 1.045, worst rounding %.5f\n", worst);

	/* Without the generator's probability the home side is the favourite. */
	nba_game real = {.game_id = 3, .true_home_prob = NAN};
	int h, a;
	nba_moneylines(&real, &h, &a);
	CHECK(h < 0 && a > 0);
}

static void test_recommend(void)
{
	nba_game g[3] = {{.game_id = 11, .true_home_prob = 0.5},
	                 {.game_id = 12, .true_home_prob = 0.6},
	                 {.game_id = 13, .true_home_prob = 0.3}};
	int ml[3][2];
	for (int i = 0; i < 3; i++)
		nba_moneylines(&g[i], &ml[i][0], &ml[i][1]);
	nba_bet out[6];

	/* Game 11 at the book's price for the home side: implied = p * 1.045, no edge either side
	 * when the model agrees with the book's fair price. */
	float fair[3];
	for (int i = 0; i < 3; i++)
		fair[i] = (float)(implied(ml[i][0]) / (implied(ml[i][0]) + implied(ml[i][1])));
	CHECK_INT(nba_recommend(g, fair, 3, 0.0, 0.05, out), 0);

	/* One hand-computed case: game 11's book (a fair coin, its noise, a 4.5% margin) is +101
	 * home, -121 away. Home at +101: b = 1.01, implied 100 / 201; the model says 0.70, so the
	 * edge is 0.70 - 0.497512 = 0.202488 and Kelly f = (1.01 * 0.7 - 0.3) / 1.01
	 * = 0.407 / 1.01 = 0.402970. */
	CHECK_INT(ml[0][0], 101);
	CHECK_INT(ml[0][1], -121);
	float model[3] = {0.7f, fair[1], fair[2]};
	size_t k = nba_recommend(g, model, 3, 0.02, 1.0, out);
	CHECK_INT(k, 1);
	CHECK_INT(out[0].game_id, 11);
	CHECK(out[0].on_home);
	CHECK_INT(out[0].moneyline, 101);
	CHECK_NEAR(out[0].implied_prob, 0.4975124378109453, 1e-15);
	CHECK_NEAR(out[0].model_prob, 0.7, 1e-7); /* 0.7f in double */
	CHECK_NEAR(out[0].edge, 0.2024875621890547, 1e-7);
	CHECK_NEAR(out[0].stake, 0.40297029702970297, 1e-7);

	/* The cap holds; the away side is bet when the model likes it; one side per game. */
	float strong[3] = {0.99f, 0.05f, 0.3f};
	k = nba_recommend(g, strong, 3, 0.02, 0.05, out);
	CHECK_INT(k, 2);
	CHECK(out[0].on_home && out[0].stake == 0.05);
	CHECK(!out[1].on_home && out[1].game_id == 12 && out[1].stake == 0.05);
	CHECK_NEAR(out[1].model_prob, 0.95, 1e-7);

	/* An edge below min_edge is no bet. */
	CHECK_INT(nba_recommend(g, model, 3, 0.5, 0.05, out), 0);
}

/* ---- speed ----------------------------------------------------------------------------------- */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Rows per second of one batch predict of 100k rows on this thread: the best of 5 (reported, not
 * asserted: sanitizer builds and loaded CI machines are slower by design). */
static void report_speed(const nba_dataset *train)
{
	nba_dataset big = synthetic(100000, 99);
	float *p = malloc(big.n * sizeof *p);
	for (int k = 0; k < 3; k++) {
		nba_model *m = nba_model_train((nba_model_kind)k, train, 1);
		double best = 1e30;
		for (int rep = 0; rep < 5; rep++) {
			double t0 = now();
			nba_model_predict(m, big.x, big.n, p);
			double t = now() - t0;
			if (t < best)
				best = t;
		}
		printf("speed %-20s %12.0f rows/s (batch of %zu)\n",
		       nba_model_long_name((nba_model_kind)k), (double)big.n / best, big.n);
		nba_model_free(m);
	}
	free(p);
	free_synthetic(&big);
}

int main(void)
{
	char dir[] = "/tmp/test_nba_models.XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_metrics();
	test_names();
	nba_dataset all = synthetic(12000, 2024);
	nba_dataset train = all, test = all;
	train.n = 8000;
	test.x += 8000 * NBA_N_FEATURES;
	test.y += 8000;
	test.n = 4000;
	for (int k = 0; k < 3; k++)
		test_model((nba_model_kind)k, &train, &test, dir);
	test_corrupt(dir);
	test_moneylines();
	test_recommend();
	report_speed(&train);
	free_synthetic(&all);

	const char *names[] = {"lr", "rf", "gbm", "lr-again", "rf-again", "gbm-again", "bad"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char path[512];
		snprintf(path, sizeof path, "%s/%s.model", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
	return CHECK_DONE();
}

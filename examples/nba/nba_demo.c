/* nba_demo.c: nba-demo, the in-process half of `shotclock demo`: every example of the seed run on
 * the NBA pipeline through the public C API, printed section by section, and the report exported.
 */
#include "nba.h"
#include "shotclock.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The seed's quick start profiles this many predictions. */
#define QUICK_START_SAMPLES 10000
/* The league: seasons 0..SEASONS-2 train the models, the last one is the test set. */
#define SEASONS   3
#define DATA_SEED 2025
/* The seed's Pattern 2 and the latency requirement of its pipeline example. */
#define LEAK_ITERATIONS     10
#define LEAK_WARMUP         2
#define LATENCY_REQUIREMENT "latency_ms<=100"
#define PRODUCTION_REQUIRES                                                                        \
	"latency_ms<=100, latency_p99_ms<=100, throughput>=100, memory_increase_mb<=1000"
/* The deliberately leaking variant keeps this much per iteration; its pages are touched, so RSS
 * sees it too when the heap shim is not loaded. */
#define LEAK_BYTES_PER_ITERATION (1 << 20)
/* The naive pipeline re-reads the game log for every batch of this many games. */
#define NAIVE_BATCH 200
/* Betting thresholds of the postprocessing step. */
#define MIN_EDGE  0.02
#define KELLY_CAP 0.05

/* What every section shares: the data, the trained models and the report being assembled. */
typedef struct demo {
	const char *out_dir;
	bool quick;
	char csv_path[PATH_MAX];
	nba_league league;
	nba_dataset data;
	nba_dataset test;     /* the last season: a view into data */
	size_t test_first;    /* index of the test season's first game in league.games */
	nba_model *models[3]; /* indexed by nba_model_kind */
	float *proba;         /* one prediction per test game: the batch predictions' output */
	sc_report *all;       /* every section's profiles, exported at the end */
} demo;

static void heading(const char *title)
{
	printf("\n=== %s ===\n\n", title);
}

static int fail(const char *what, int rc)
{
	fprintf(stderr, "nba-demo: %s: %s\n", what, sc_strerror(rc));
	return 1;
}

/* Moves every profile of r into d->all and frees r: each section's report feeds the final one. */
static int keep_profiles(demo *d, sc_report *r)
{
	int rc = 0;
	for (size_t i = 0; i < r->n_profiles && rc == 0; i++) {
		rc = sc_report_add_profile(d->all, &r->profiles[i]);
	}
	sc_report_free(r);
	return rc;
}

static const sc_profile *find_profile(const sc_report *r, const char *name)
{
	for (size_t i = 0; i < r->n_profiles; i++) {
		if (r->profiles[i].name && strcmp(r->profiles[i].name, name) == 0) {
			return &r->profiles[i];
		}
	}
	return NULL;
}

static void print_memory_time(const sc_memory_profile *m, const sc_time_profile *t)
{
	printf("Memory Profile:\n");
	printf("  Baseline: %.1f MB\n", m->baseline_memory_mb);
	printf("  Peak: %.1f MB\n", m->peak_memory_mb);
	printf("  Increase: %.1f MB\n", m->memory_increase_mb);
	printf("\nTime Profile:\n");
	printf("  Total time: %.4f seconds\n", t->total_time);
	printf("  Throughput: %.1f predictions/sec\n", t->throughput_samples_per_sec);
	printf("  Avg time per prediction: %.4f ms\n", t->avg_time_per_sample * 1000);
}

static void print_findings(const sc_report *r, const char *profile)
{
	size_t shown = 0;
	for (size_t i = 0; i < r->n_bottlenecks; i++) {
		const sc_bottleneck *b = &r->bottlenecks[i];
		if (profile && strcmp(b->profile, profile) != 0) {
			continue;
		}
		if (shown++ == 0) {
			printf("\nBottlenecks Detected:\n");
		}
		printf("  %zu. [%s] %s\n", shown, b->id, b->message);
	}
	if (shown == 0) {
		printf("\nBottlenecks Detected: none\n");
	}
	shown = 0;
	printf("\nOptimization Recommendations:\n");
	for (size_t i = 0; i < r->n_recommendations; i++) {
		const sc_recommendation *rec = &r->recommendations[i];
		if (profile && strcmp(rec->profile, profile) != 0) {
			continue;
		}
		printf("  %zu. %s", ++shown, rec->action);
		if (rec->expected[0]) {
			printf(" (expected: %s)", rec->expected);
		}
		printf("\n");
	}
	if (shown == 0) {
		printf("  (none)\n");
	}
}

/* ---- setup: the league, its game log, the three models -------------------------------------- */

static int setup(demo *d)
{
	char path[PATH_MAX + 16];
	if (nba_generate(DATA_SEED, SEASONS, &d->league) != 0 ||
	    nba_dataset_build(&d->league, &d->data) != 0) {
		fprintf(stderr, "nba-demo: out of memory generating the league\n");
		return 1;
	}
	d->test = nba_dataset_seasons(&d->data, SEASONS - 1, SEASONS - 1);
	d->proba = malloc(d->test.n * sizeof *d->proba);
	if (!d->proba) {
		fprintf(stderr, "nba-demo: out of memory\n");
		return 1;
	}
	d->test_first = (size_t)(d->test.x - d->data.x) / NBA_N_FEATURES;
	nba_dataset train = nba_dataset_seasons(&d->data, 0, SEASONS - 2);
	snprintf(d->csv_path, sizeof d->csv_path, "%s/games.csv", d->out_dir);
	if (nba_write_csv(&d->league, d->csv_path) != 0) {
		fprintf(stderr, "nba-demo: %s: %s\n", d->csv_path, strerror(errno));
		return 1;
	}
	for (int k = NBA_MODEL_LR; k <= NBA_MODEL_GBM; k++) {
		d->models[k] = nba_model_train((nba_model_kind)k, &train, DATA_SEED);
		if (!d->models[k]) {
			fprintf(stderr, "nba-demo: out of memory training the models\n");
			return 1;
		}
		/* The files nba-predict reads in the last section of `shotclock demo`. */
		snprintf(path, sizeof path, "%s/%s.model", d->out_dir,
		         nba_model_short_name((nba_model_kind)k));
		if (nba_model_save(d->models[k], path) != 0) {
			fprintf(stderr, "nba-demo: %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	printf("League: %zu games over %d seasons (%zu in the test season), written to %s\n",
	       d->league.n_games, SEASONS, d->test.n, d->csv_path);
	printf("Models: lr, rf, gbm trained on seasons 1-%d, saved to %s/{lr,rf,gbm}.model\n",
	       SEASONS - 1, d->out_dir);
	return 0;
}

/* ---- workloads ------------------------------------------------------------------------------ */

/* Predictions of one model over rows of a dataset. */
typedef struct predict_ctx {
	const nba_model *model;
	const nba_dataset *rows;
	size_t n;     /* predictions to make: rows are reused in order when n > rows->n */
	float *proba; /* predict_batch's output: rows->n values, owned by the caller */
	void *leaked; /* the leaking variant's chain of kept blocks, freed after the check */
} predict_ctx;

/* The seed's prediction_workload: load the test data (a fresh matrix), then predict. */
static void *prediction_workload(void *ctx)
{
	predict_ctx *c = ctx;
	float *x = malloc(c->n * NBA_N_FEATURES * sizeof *x);
	float *proba = malloc(c->n * sizeof *proba);
	if (x && proba) {
		for (size_t i = 0; i < c->n; i++) {
			memcpy(x + i * NBA_N_FEATURES,
			       c->rows->x + (i % c->rows->n) * NBA_N_FEATURES,
			       NBA_N_FEATURES * sizeof *x);
		}
		nba_model_predict(c->model, x, c->n, proba);
	}
	free(x);
	free(proba);
	return NULL;
}

/* model.predict(X_test) into the caller's buffer: a batch that allocates nothing, so that its
 * memory stays flat from one call to the next (a buffer freed every call would show up as growth
 * under AddressSanitizer, whose quarantine holds freed blocks back). */
static void *predict_batch(void *ctx)
{
	predict_ctx *c = ctx;
	nba_model_predict(c->model, c->rows->x, c->rows->n, c->proba);
	return NULL;
}

/* The same batch that also keeps a block it never gives back (a cache that is never evicted): the
 * leak Pattern 2 must catch. The blocks are chained so that the demo can free them afterwards. */
static void *predict_batch_leaky(void *ctx)
{
	predict_ctx *c = ctx;
	predict_batch(ctx);
	void **block = malloc(LEAK_BYTES_PER_ITERATION);
	if (block) {
		memset(block, 0xab, LEAK_BYTES_PER_ITERATION);
		*block = c->leaked;
		c->leaked = block;
	}
	return NULL;
}

static void predict_one(void *ctx, uint64_t i)
{
	predict_ctx *c = ctx;
	volatile float p = nba_model_predict_one(c->model, c->rows->x + i * NBA_N_FEATURES);
	(void)p;
}

/* The pipeline's stages, run one by one (components) or together (the pipeline). */
typedef struct pipeline_ctx {
	const demo *d;
	const nba_model *model;
	nba_league league; /* data_loading's output */
	nba_dataset data;  /* feature_extraction's output */
	float *proba;      /* prediction's output */
	nba_bet *bets;     /* postprocessing's output */
	size_t n_bets;
	bool failed;
} pipeline_ctx;

static void *load_data(void *ctx)
{
	pipeline_ctx *c = ctx;
	char err[256];
	nba_league_free(&c->league);
	if (nba_load_csv(c->d->csv_path, &c->league, err, sizeof err) != 0) {
		fprintf(stderr, "nba-demo: %s\n", err);
		c->failed = true;
	}
	return NULL;
}

static void *extract_features(void *ctx)
{
	pipeline_ctx *c = ctx;
	nba_dataset_free(&c->data);
	if (nba_dataset_build(&c->league, &c->data) != 0) {
		c->failed = true;
	}
	return NULL;
}

static void *predict_all(void *ctx)
{
	pipeline_ctx *c = ctx;
	free(c->proba);
	c->proba = malloc((c->data.n ? c->data.n : 1) * sizeof *c->proba);
	if (!c->proba) {
		c->failed = true;
		return NULL;
	}
	nba_model_predict(c->model, c->data.x, c->data.n, c->proba);
	return NULL;
}

static void *postprocess(void *ctx)
{
	pipeline_ctx *c = ctx;
	free(c->bets);
	c->bets = malloc((2 * c->league.n_games + 1) * sizeof *c->bets);
	if (!c->bets || !c->proba) {
		c->failed = true;
		return NULL;
	}
	c->n_bets = nba_recommend(c->league.games, c->proba, c->league.n_games, MIN_EDGE, KELLY_CAP,
	                          c->bets);
	return NULL;
}

static void pipeline_release(pipeline_ctx *c)
{
	nba_league_free(&c->league);
	nba_dataset_free(&c->data);
	free(c->proba);
	free(c->bets);
}

/* The seed's nba_prediction_pipeline, each stage a region of the profile. */
static sc_profiler *pipeline_profiler;
static void *nba_prediction_pipeline(void *ctx)
{
	SC_REGION(pipeline_profiler, "data_loading")
	{
		load_data(ctx);
	}
	SC_REGION(pipeline_profiler, "feature_extraction")
	{
		extract_features(ctx);
	}
	SC_REGION(pipeline_profiler, "prediction")
	{
		predict_all(ctx);
	}
	SC_REGION(pipeline_profiler, "postprocessing")
	{
		postprocess(ctx);
	}
	return NULL;
}

/* ---- the naive and the optimised pipeline over the test season ------------------------------ */

typedef struct scoring_ctx {
	const demo *d;
	const nba_model *model;
	size_t n_bets;
	bool failed;
} scoring_ctx;

/*
 * Naive: for every batch of games the game log is read and parsed again and the features rebuilt
 * from scratch; then each game is scored on its own, its features copied one boxed double at a
 * time (the allocation per value that a list of Python floats makes) into a freshly allocated
 * row for the model; and the betting step runs game by game into a buffer of its own.
 */
static void *score_naive(void *ctx)
{
	scoring_ctx *c = ctx;
	const demo *d = c->d;
	char err[256];
	c->n_bets = 0;
	for (size_t first = 0; first < d->test.n && !c->failed; first += NAIVE_BATCH) {
		size_t end = first + NAIVE_BATCH < d->test.n ? first + NAIVE_BATCH : d->test.n;
		nba_league league = {0};
		nba_dataset data = {0};
		if (nba_load_csv(d->csv_path, &league, err, sizeof err) != 0 ||
		    nba_dataset_build(&league, &data) != 0 || league.n_games != d->league.n_games) {
			c->failed = true;
		}
		for (size_t i = first; i < end && !c->failed; i++) {
			size_t g = d->test_first + i;
			float *x = malloc(NBA_N_FEATURES * sizeof *x);
			if (!x) {
				c->failed = true;
				break;
			}
			for (int j = 0; j < NBA_N_FEATURES && !c->failed; j++) {
				double *value = malloc(sizeof *value);
				if (!value) {
					c->failed = true;
					break;
				}
				*value = data.x[g * NBA_N_FEATURES + j];
				x[j] = (float)*value;
				free(value);
			}
			float p = nba_model_predict_one(c->model, x);
			free(x);
			nba_bet *bets = malloc(2 * sizeof *bets);
			if (!bets) {
				c->failed = true;
				break;
			}
			c->n_bets +=
			    nba_recommend(&league.games[g], &p, 1, MIN_EDGE, KELLY_CAP, bets);
			free(bets);
		}
		nba_dataset_free(&data);
		nba_league_free(&league);
	}
	return NULL;
}

/* Optimised: the log read once, the features built once, one batch prediction in float, one
 * betting pass. */
static void *score_optimised(void *ctx)
{
	scoring_ctx *c = ctx;
	const demo *d = c->d;
	char err[256];
	nba_league league = {0};
	nba_dataset data = {0};
	size_t n = d->test.n;
	float *proba = malloc(n * sizeof *proba);
	nba_bet *bets = malloc(2 * n * sizeof *bets);
	if (!proba || !bets || nba_load_csv(d->csv_path, &league, err, sizeof err) != 0 ||
	    nba_dataset_build(&league, &data) != 0) {
		c->failed = true;
	} else {
		nba_model_predict(c->model, data.x + d->test_first * NBA_N_FEATURES, n, proba);
		c->n_bets = nba_recommend(&league.games[d->test_first], proba, n, MIN_EDGE,
		                          KELLY_CAP, bets);
	}
	free(proba);
	free(bets);
	nba_dataset_free(&data);
	nba_league_free(&league);
	return NULL;
}

/* ---- the sections --------------------------------------------------------------------------- */

/* Quick start (a profile of 10,000 predictions), then the report made from it. */
static int section_quick_start(demo *d)
{
	heading("Quick Start: profile 10,000 predictions");
	sc_profiler *p = sc_profiler_new();
	if (!p) {
		return fail("profiler", SC_ENOMEM);
	}
	predict_ctx c = {
	    .model = d->models[NBA_MODEL_GBM], .rows = &d->test, .n = QUICK_START_SAMPLES};
	sc_memory_profile mem;
	sc_time_profile tp;
	sc_profile_comprehensive(p, "prediction_workload", prediction_workload, &c,
	                         QUICK_START_SAMPLES, &mem, &tp);
	print_memory_time(&mem, &tp);

	heading("Performance Report: system stats, bottlenecks, recommendations");
	sc_report *r = NULL;
	int rc = sc_profiler_status(p);
	if (rc == 0) {
		rc = sc_report_create(p, &r);
	}
	if (rc == 0) {
		rc = sc_report_analyze(r, NULL);
	}
	sc_profiler_free(p);
	if (rc != 0) {
		sc_report_free(r);
		return fail("report", rc);
	}
	const sc_system_info *s = &r->system;
	printf("System Stats:\n");
	printf("  cpus: %.2f\n", (double)s->cpus);
	printf("  memory_total_mb: %.2f\n", s->memory_total_mb);
	printf("  memory_available_mb: %.2f\n", s->memory_available_mb);
	printf("  load_avg_1m: %.2f\n", s->load_avg[0]);
	printf("  disk_free_gb: %.2f\n", s->disk_free_gb);
	printf("  disk_used_percent: %.2f\n", s->disk_used_percent);
	print_findings(r, NULL);
	printf("\nReport: exported with every section's profiles at the end, to %s/report.json "
	       "(and .md, .html)\n",
	       d->out_dir);
	return keep_profiles(d, r) ? fail("report", SC_ENOMEM) : 0;
}

/* The seed's four components, each profiled on its own. */
static int section_components(demo *d)
{
	heading("Component Profiles: the pipeline's four steps");
	sc_profiler *p = sc_profiler_new();
	if (!p) {
		return fail("profiler", SC_ENOMEM);
	}
	static const struct {
		const char *name;
		sc_workload_fn fn;
	} steps[] = {
	    {"data_loading", load_data},
	    {"feature_extraction", extract_features},
	    {"prediction", predict_all},
	    {"postprocessing", postprocess},
	};
	pipeline_ctx c = {.d = d, .model = d->models[NBA_MODEL_GBM]};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0] && !c.failed; i++) {
		sc_memory_profile mem;
		sc_time_profile tp;
		sc_profile_comprehensive(p, steps[i].name, steps[i].fn, &c, d->league.n_games, &mem,
		                         &tp);
		printf("%s%s:\n", i ? "\n" : "", steps[i].name);
		printf("  Memory: %.1f MB\n", mem.memory_increase_mb);
		printf("  Time: %.4f s\n", tp.total_time);
		printf("  Throughput: %.1f samples/sec\n", tp.throughput_samples_per_sec);
	}
	if (!c.failed) {
		printf("\n(%zu games through each step; %zu bets recommended)\n", d->league.n_games,
		       c.n_bets);
	}
	pipeline_release(&c);
	sc_report *r = NULL;
	int rc = c.failed ? SC_EIO : sc_profiler_status(p);
	if (rc == 0) {
		rc = sc_report_create(p, &r);
	}
	sc_profiler_free(p);
	if (rc == 0) {
		rc = keep_profiles(d, r);
	}
	return rc ? fail("components", rc) : 0;
}

/* The whole pipeline, its steps as regions, against the seed's 100 ms latency requirement. */
static int section_pipeline(demo *d)
{
	heading("NBA Prediction Pipeline: latency requirement 100 ms per prediction");
	sc_profiler *p = sc_profiler_new();
	if (!p) {
		return fail("profiler", SC_ENOMEM);
	}
	pipeline_profiler = p;
	pipeline_ctx c = {.d = d, .model = d->models[NBA_MODEL_GBM]};
	sc_memory_profile mem;
	sc_time_profile tp;
	sc_profile_comprehensive(p, "nba_prediction_pipeline", nba_prediction_pipeline, &c,
	                         d->league.n_games, &mem, &tp);
	pipeline_release(&c);
	sc_requirements req;
	size_t pos;
	char err[128];
	sc_report *r = NULL;
	int rc = c.failed ? SC_EIO : sc_profiler_status(p);
	if (rc == 0) {
		rc = sc_requirements_parse(LATENCY_REQUIREMENT, &req, &pos, err, sizeof err);
	}
	if (rc == 0) {
		rc = sc_report_create(p, &r);
	}
	if (rc == 0) {
		rc = sc_report_analyze(r, &req);
	}
	if (rc == 0) {
		rc = sc_report_check_requirements(r, &req);
	}
	sc_profiler_free(p);
	if (rc != 0) {
		sc_report_free(r);
		return fail("pipeline", rc);
	}
	const sc_profile *prof = find_profile(r, "nba_prediction_pipeline");
	printf("%zu games: %.4f s, %.1f predictions/sec\n", d->league.n_games, tp.total_time,
	       tp.throughput_samples_per_sec);
	if (prof && prof->n_regions) {
		printf("\nWhere the time goes (regions):\n");
		for (size_t i = 0; i < prof->n_regions; i++) {
			const sc_region_stats *g = &prof->regions[i];
			printf("  %-20s %9.4f s  %5.1f%%\n", g->name, g->total_s, g->share * 100);
		}
	}
	double avg_latency_ms = tp.avg_time_per_sample * 1000;
	bool met = r->verdict && strcmp(r->verdict, "pass") == 0;
	printf("\n");
	if (!met) {
		printf("⚠️ Latency requirement not met:\n");
		printf("   Current: %.2f ms\n", avg_latency_ms);
		printf("   Required: 100 ms\n");
		printf("\nOptimization needed!\nRecommendations:\n");
		for (size_t i = 0; i < r->n_recommendations; i++) {
			printf("  - %s\n", r->recommendations[i].action);
		}
	} else {
		printf("✅ Latency requirement met: %.4f ms\n", avg_latency_ms);
	}
	return keep_profiles(d, r) ? fail("pipeline", SC_ENOMEM) : 0;
}

/* Pattern 1: the three models interleaved on the test season, sorted by throughput. */
static int section_compare_models(demo *d)
{
	heading("Pattern 1: Compare Model Performance (sorted by throughput)");
	sc_profiler *p = sc_profiler_new();
	if (!p) {
		return fail("profiler", SC_ENOMEM);
	}
	predict_ctx ctx[3];
	sc_candidate cand[3];
	for (int k = 0; k < 3; k++) {
		ctx[k] = (predict_ctx){
		    .model = d->models[k], .rows = &d->test, .n = d->test.n, .proba = d->proba};
		cand[k] =
		    (sc_candidate){nba_model_long_name((nba_model_kind)k), predict_batch, &ctx[k]};
	}
	size_t rounds = d->quick ? 30 : 300;
	sc_report *r = NULL;
	int rc = sc_compare(p, cand, 3, d->test.n, rounds);
	if (rc == 0) {
		rc = sc_profiler_status(p);
	}
	if (rc == 0) {
		rc = sc_report_create(p, &r);
	}
	if (rc == 0) {
		rc = sc_report_rank(r, "throughput");
	}
	sc_profiler_free(p);
	if (rc != 0) {
		sc_report_free(r);
		return fail("compare", rc);
	}
	printf("%zu predictions per call, %zu interleaved rounds\n\n", d->test.n, rounds);
	printf("   %-22s %10s %10s %16s   %s\n", "model", "memory_mb", "time_s", "throughput",
	       "relative speed");
	for (size_t i = 0; i < r->n_comparison; i++) {
		const sc_comparison_entry *e = &r->comparison[i];
		const sc_profile *prof = find_profile(r, e->profile);
		if (!prof) {
			continue;
		}
		printf("%zu  %-22s %10.1f %10.6f %16.1f   ", e->rank, e->profile,
		       prof->memory.memory_increase_mb, prof->total_time.mean,
		       prof->throughput_samples_per_sec);
		if (e->relative_speed == 1 || !isfinite(e->relative_speed)) {
			printf("fastest\n");
		} else {
			printf("%.2f ± %.2fx slower%s\n", e->relative_speed,
			       e->relative_speed_error, e->significant ? " (significant)" : "");
		}
	}
	return keep_profiles(d, r) ? fail("compare", SC_ENOMEM) : 0;
}

static void print_leak(const char *name, const sc_leak_result *res)
{
	bool leak = res->verdict && strcmp(res->verdict, "leak") == 0;
	printf("%s: verdict %s (basis: %s, %zu iterations after %zu warm-up)\n", name,
	       res->verdict ? res->verdict : "unknown", res->basis ? res->basis : "?",
	       res->iterations, res->warmup);
	printf("   growth: %.0f bytes/iteration (95%% CI %.0f … %.0f), %.0f bytes in all\n",
	       res->slope_bytes, res->slope_ci95_low, res->slope_ci95_high,
	       res->total_growth_bytes);
	printf("   %s\n", res->reason);
	printf("%s\n",
	       leak ? "⚠️ Potential memory leak detected!" : "✅ No memory leak detected");
}

/* Pattern 2: the batch prediction over 10 iterations, and a variant that leaks on purpose. */
static int section_leaks(demo *d)
{
	heading("Pattern 2: Identify Memory Leaks (10 iterations)");
	sc_profiler *p = sc_profiler_new();
	if (!p) {
		return fail("profiler", SC_ENOMEM);
	}
	predict_ctx c = {
	    .model = d->models[NBA_MODEL_GBM], .rows = &d->test, .n = d->test.n, .proba = d->proba};
	sc_leak_result clean, leaky;
	int rc = sc_leak_check(p, "predict_batch", predict_batch, &c, LEAK_WARMUP, LEAK_ITERATIONS,
	                       &clean);
	if (rc == 0) {
		rc = sc_leak_check(p, "predict_batch_leaky", predict_batch_leaky, &c, LEAK_WARMUP,
		                   LEAK_ITERATIONS, &leaky);
	}
	/* The leak was the point; the demo itself gives the memory back. */
	while (c.leaked) {
		void **block = c.leaked;
		c.leaked = *block;
		free(block);
	}
	sc_report *r = NULL;
	if (rc == 0) {
		rc = sc_profiler_status(p);
	}
	if (rc == 0) {
		rc = sc_report_create(p, &r);
	}
	sc_profiler_free(p);
	if (rc != 0) {
		sc_report_free(r);
		return fail("leak check", rc);
	}
	print_leak("predict_batch", &clean);
	printf("\n(the same batch keeping %d KiB per call, never freed:)\n",
	       LEAK_BYTES_PER_ITERATION / 1024);
	print_leak("predict_batch_leaky", &leaky);
	return keep_profiles(d, r) ? fail("leak check", SC_ENOMEM) : 0;
}

/* Pattern 3: every model, each prediction timed, against the seed's production requirements. */
static int section_production(demo *d)
{
	heading("Pattern 3: Production Readiness Check");
	sc_profiler *p = sc_profiler_new();
	if (!p) {
		return fail("profiler", SC_ENOMEM);
	}
	/* Named apart from Pattern 1's profiles of the same models: the final report holds both. */
	static const char *const names[3] = {"production_logistic_regression",
	                                     "production_random_forest",
	                                     "production_gradient_boosting"};
	int rc = 0;
	for (int k = 0; k < 3 && rc == 0; k++) {
		predict_ctx c = {.model = d->models[k], .rows = &d->test, .n = d->test.n};
		rc = sc_profile_samples(p, names[k], predict_one, &c, d->test.n, NULL, NULL);
	}
	sc_requirements req;
	size_t pos;
	char err[128];
	sc_report *r = NULL;
	if (rc == 0) {
		rc = sc_requirements_parse(PRODUCTION_REQUIRES, &req, &pos, err, sizeof err);
	}
	if (rc == 0) {
		rc = sc_report_create(p, &r);
	}
	if (rc == 0) {
		rc = sc_report_check_requirements(r, &req);
	}
	sc_profiler_free(p);
	if (rc != 0) {
		sc_report_free(r);
		return fail("production check", rc);
	}
	printf("Requirements: %s\n\n", PRODUCTION_REQUIRES);
	printf("  %-22s %-28s %14s  %s\n", "model", "check", "value", "status");
	for (size_t i = 0; i < r->n_profiles; i++) {
		const char *name = r->profiles[i].name;
		const char *under = strchr(name, '_'); /* "production_" off: the model's name */
		const char *model = under ? under + 1 : name;
		bool all = true;
		for (size_t j = 0; j < r->n_checks; j++) {
			const sc_check *ch = &r->checks[j];
			if (strcmp(ch->profile, name) != 0) {
				continue;
			}
			all = all && ch->pass;
			char value[32];
			if (strncmp(ch->metric, "latency", 7) == 0) {
				snprintf(value, sizeof value, "%.4f ms", ch->value);
			} else if (strcmp(ch->metric, "throughput") == 0) {
				snprintf(value, sizeof value, "%.0f /s", ch->value);
			} else {
				snprintf(value, sizeof value, "%.1f MB", ch->value);
			}
			printf("  %-22s %-28s %14s  %s\n", model, ch->name, value,
			       ch->pass ? "✅ PASS" : "❌ FAIL");
		}
		printf("  %-22s %s\n", "",
		       all ? "✅ Model ready for production!"
		           : "⚠️ Model NOT ready - optimization needed");
	}
	return keep_profiles(d, r) ? fail("production check", SC_ENOMEM) : 0;
}

/* The seed's optimisation tables, with the row this demo measures. */
static void print_strategy_tables(double speedup)
{
	printf("\nMemory Optimization:\n");
	printf(
	    "| Issue                     | Solution                       | Expected        |\n");
	printf(
	    "|---------------------------|--------------------------------|-----------------|\n");
	printf(
	    "| High memory allocation    | Batch processing               | 50-80%% less     |\n");
	printf(
	    "| Large model size          | Compression (prune, quantize)  | 50-90%% less     |\n");
	printf(
	    "| Excessive GC              | Object pooling                 | 20-40%% less     |\n");
	printf(
	    "| Large intermediate arrays | In-place operations            | 30-60%% less     |\n");
	printf("\nSpeed Optimization:\n");
	printf(
	    "| Issue                     | Solution                       | Expected        |\n");
	printf(
	    "|---------------------------|--------------------------------|-----------------|\n");
	printf(
	    "| Slow predictions          | Model simplification           | 2-10x faster    |\n");
	printf(
	    "| Sequential processing     | Vectorization                  | 10-100x faster  |\n");
	printf(
	    "| CPU-bound                 | Multi-threading                | 2-4x faster     |\n");
	printf(
	    "| I/O-bound                 | Async I/O, caching             | 5-50x faster    |\n");
	printf("\nMeasured here: reading the log once and scoring in float batches (caching + "
	       "vectorization) made the pipeline %.1fx faster.\n",
	       speedup);
}

/* The naive pipeline against the optimised one, and the findings that explain the gap. */
static int section_optimisation(demo *d)
{
	heading("Optimization: naive vs optimised pipeline");
	sc_profiler *p = sc_profiler_new();
	if (!p) {
		return fail("profiler", SC_ENOMEM);
	}
	scoring_ctx naive = {d, d->models[NBA_MODEL_GBM], 0, false};
	scoring_ctx fast = naive;
	sc_candidate cand[2] = {{"naive", score_naive, &naive},
	                        {"optimised", score_optimised, &fast}};
	size_t rounds = d->quick ? 5 : 20;
	sc_report *r = NULL;
	int rc = sc_compare(p, cand, 2, d->test.n, rounds);
	if (rc == 0 && (naive.failed || fast.failed)) {
		rc = SC_EIO;
	}
	if (rc == 0) {
		rc = sc_profiler_status(p);
	}
	if (rc == 0) {
		rc = sc_report_create(p, &r);
	}
	if (rc == 0) {
		rc = sc_report_rank(r, "throughput");
	}
	if (rc == 0) {
		rc = sc_report_analyze(r, NULL);
	}
	sc_profiler_free(p);
	if (rc != 0) {
		sc_report_free(r);
		return fail("optimisation", rc);
	}
	printf("naive: the log re-parsed every %d games, one game at a time, each feature a boxed "
	       "(malloc'd) double\n",
	       NAIVE_BATCH);
	printf("optimised: the log parsed once, one float batch prediction, one betting pass\n\n");
	printf("  %-10s %16s %12s %14s %14s\n", "pipeline", "throughput", "avg ms", "peak MB",
	       "allocs/pred");
	const sc_profile *pn = find_profile(r, "naive"), *po = find_profile(r, "optimised");
	for (size_t i = 0; i < r->n_comparison; i++) {
		const sc_profile *prof = find_profile(r, r->comparison[i].profile);
		if (!prof) {
			continue;
		}
		printf("  %-10s %16.1f %12.6f %14.1f ", prof->name,
		       prof->throughput_samples_per_sec, prof->avg_time_per_sample * 1000,
		       prof->memory.peak_memory_mb);
		if (prof->heap.available) {
			printf("%14.2f\n", prof->heap.allocations_per_sample);
		} else {
			printf("%14s\n", "n/a");
		}
	}
	double speedup = pn && po ? pn->avg_time_per_sample / po->avg_time_per_sample : NAN;
	printf("\nThe optimised pipeline is %.1fx faster (%zu bets either way).\n", speedup,
	       fast.n_bets);
	printf("\nFindings on the naive pipeline (sc_report_analyze):");
	print_findings(r, "naive");
	print_strategy_tables(speedup);
	return keep_profiles(d, r) ? fail("optimisation", SC_ENOMEM) : 0;
}

/* The report of every section, ranked by throughput, analysed and written in three formats. */
static int section_export(demo *d)
{
	heading("Report files");
	int rc = sc_report_rank(d->all, "throughput");
	if (rc == 0) {
		rc = sc_report_analyze(d->all, NULL);
	}
	if (rc != 0) {
		return fail("report", rc);
	}
	static const char *const formats[] = {"json", "md", "html"};
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		char path[PATH_MAX + 16];
		snprintf(path, sizeof path, "%s/report.%s", d->out_dir, formats[i]);
		rc = sc_report_export(d->all, formats[i], path);
		if (rc != 0) {
			fprintf(stderr, "nba-demo: %s: %s\n", path,
			        rc == SC_EIO ? strerror(errno) : sc_strerror(rc));
			return 1;
		}
		printf("  %s\n", path);
	}
	printf("(%zu profiles, %zu findings, %zu recommendations)\n", d->all->n_profiles,
	       d->all->n_bottlenecks, d->all->n_recommendations);
	return 0;
}

static const char usage[] =
    "Usage: nba-demo [--out DIR] [--quick]\n"
    "\n"
    "The seed's examples on the NBA win-prediction pipeline, profiled in-process with\n"
    "libshotclock. Writes DIR/games.csv, DIR/{lr,rf,gbm}.model and DIR/report.{json,md,html}.\n"
    "  --out DIR   where everything goes (default shotclock-demo; created if missing)\n"
    "  --quick     fewer rounds, for a run of a few seconds\n";

int main(int argc, char **argv)
{
	demo d = {.out_dir = "shotclock-demo"};
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
			d.out_dir = argv[++i];
		} else if (strcmp(argv[i], "--quick") == 0) {
			d.quick = true;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		} else {
			fprintf(stderr, "nba-demo: unexpected argument '%s'\n%s", argv[i], usage);
			return 2;
		}
	}
	if (d.out_dir[0] == '\0' || (mkdir(d.out_dir, 0777) != 0 && errno != EEXIST)) {
		fprintf(stderr, "nba-demo: cannot create '%s': %s\n", d.out_dir,
		        d.out_dir[0] ? strerror(errno) : "empty name");
		return 2;
	}
	int rc = sc_report_new(&d.all);
	if (rc != 0) {
		return fail("report", rc);
	}
	int status = setup(&d);
	int (*const sections[])(demo *) = {
	    section_quick_start, section_components, section_pipeline,     section_compare_models,
	    section_leaks,       section_production, section_optimisation, section_export,
	};
	for (size_t i = 0; i < sizeof sections / sizeof sections[0] && status == 0; i++) {
		status = sections[i](&d);
		fflush(stdout);
	}
	for (int k = 0; k < 3; k++) {
		nba_model_free(d.models[k]);
	}
	free(d.proba);
	nba_dataset_free(&d.data);
	nba_league_free(&d.league);
	sc_report_free(d.all);
	return status;
}

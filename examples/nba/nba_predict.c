/* nba_predict.c: the nba-predict program: a saved model and a game log in, recommended bets out. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "naive.h"
#include "nba.h"

#define USAGE                                                                                      \
	"usage: nba-predict --model lr|rf|gbm --models-dir DIR --data games.csv [--games N|all] "  \
	"[--repeat N] [--naive] [--min-edge X] [--timing] [-o FILE]"

/* The largest share of the bankroll one bet may take: Kelly stakes on an estimated probability
 * are too aggressive, and a cap keeps one mistaken edge from staking the bank. */
#define KELLY_CAP        0.05
#define DEFAULT_MIN_EDGE 0.02

typedef struct options {
	const char *model, *models_dir, *data, *out;
	size_t games; /* 0: the last season; SIZE_MAX: all */
	size_t
	    repeat; /* passes of the model over the games: a server's steady state, for profiling */
	bool naive, timing;
	double min_edge;
} options;

/* Every failure is one line on stderr and exit status 2: the caller gave something unusable. */
__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "nba-predict: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	return 2;
}

static int parse_args(int argc, char **argv, options *o)
{
	*o = (options){.min_edge = DEFAULT_MIN_EDGE, .repeat = 1};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = true;
		if (strcmp(a, "--naive") == 0) {
			o->naive = true;
			takes = false;
		} else if (strcmp(a, "--timing") == 0) {
			o->timing = true;
			takes = false;
		} else if (!v) {
			return fail("%s needs a value (" USAGE ")", a);
		} else if (strcmp(a, "--model") == 0) {
			o->model = v;
		} else if (strcmp(a, "--models-dir") == 0) {
			o->models_dir = v;
		} else if (strcmp(a, "--data") == 0) {
			o->data = v;
		} else if (strcmp(a, "-o") == 0) {
			o->out = v;
		} else if (strcmp(a, "--games") == 0) {
			char *end;
			errno = 0;
			unsigned long long g = strtoull(v, &end, 10);
			if (strcmp(v, "all") == 0)
				o->games = SIZE_MAX;
			else if (*v == '-' || !*v || *end || errno || g == 0 || g >= SIZE_MAX)
				return fail("--games needs a positive number or 'all', not '%.64s'",
				            v);
			else
				o->games = (size_t)g;
		} else if (strcmp(a, "--repeat") == 0) {
			char *end;
			errno = 0;
			unsigned long long r = strtoull(v, &end, 10);
			if (*v == '-' || !*v || *end || errno || r == 0 || r > 1000000000ull)
				return fail(
				    "--repeat needs a number from 1 to 1000000000, not '%.64s'", v);
			o->repeat = (size_t)r;
		} else if (strcmp(a, "--min-edge") == 0) {
			char *end;
			o->min_edge = strtod(v, &end);
			if (!*v || *end || !(o->min_edge >= 0 && o->min_edge < 1))
				return fail("--min-edge needs a number in [0, 1), not '%.64s'", v);
		} else {
			return fail("unknown argument '%.100s' (" USAGE ")", a);
		}
		i += takes;
	}
	if (!o->model || !o->models_dir || !o->data)
		return fail("%s", "--model, --models-dir and --data are required (" USAGE ")");
	if (nba_model_kind_parse(o->model) < 0)
		return fail("--model must be lr, rf or gbm, not '%.64s'", o->model);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The games to predict: the last o->games of the log, or by default its last season. */
static size_t first_predicted(const nba_league *l, size_t games)
{
	if (games == 0) {
		size_t i = l->n_games;
		while (i > 0 && l->games[i - 1].season == l->seasons - 1)
			i--;
		return i;
	}
	return games >= l->n_games ? 0 : l->n_games - games;
}

static int write_bets(const char *path, const nba_bet *bets, size_t n)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "game_id,side,moneyline,implied_prob,model_prob,edge,stake\n");
	for (size_t i = 0; i < n; i++) {
		const nba_bet *b = &bets[i];
		fprintf(f, "%u,%s,%+d,%.6f,%.6f,%.6f,%.6f\n", b->game_id,
		        b->on_home ? "home" : "away", b->moneyline, b->implied_prob, b->model_prob,
		        b->edge, b->stake);
	}
	int rc = ferror(f) ? -1 : 0;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

int main(int argc, char **argv)
{
	options o;
	if (parse_args(argc, argv, &o))
		return 2;
	double t0 = now_s();

	char path[PATH_MAX], err[512];
	snprintf(path, sizeof path, "%s/%s.model", o.models_dir,
	         nba_model_short_name((nba_model_kind)nba_model_kind_parse(o.model)));
	nba_model *m = nba_model_load(path, err, sizeof err);
	if (!m)
		return fail("%s", err);

	int rc = 0;
	nba_league l = {0};
	nba_dataset d = {0};
	nba_bet *bets = NULL;
	float *proba = NULL;
	size_t first = 0, n = 0, n_bets = 0;
	double t_load, t_features, t_predict, t_bets;
	if (nba_load_csv(o.data, &l, err, sizeof err) < 0) {
		rc = fail("%s", err);
		goto done;
	}
	first = first_predicted(&l, o.games);
	n = l.n_games - first;
	bets = malloc((2 * n + 1) * sizeof *bets);
	if (!bets) {
		rc = fail("%s", "out of memory");
		goto done;
	}
	t_load = now_s();
	if (o.naive) {
		/* The naive path reads the log again per batch; the load above only sized the job.
		 */
		for (size_t pass = 0; pass < o.repeat; pass++) {
			if (nba_naive_recommend(o.data, m, first, n, o.min_edge, KELLY_CAP, bets,
			                        &n_bets, err, sizeof err) < 0) {
				rc = fail("%s", err);
				goto done;
			}
		}
		/* Its time is all "predict": reading, features and bets are interleaved per batch.
		 */
		t_features = t_load;
		t_predict = t_bets = now_s();
	} else {
		/* The features of every game need the history before it, so all rows are built
		 * once; only the predicted games go through the model. */
		proba = malloc((n + 1) * sizeof *proba);
		if (!proba || nba_dataset_build(&l, &d) < 0) {
			rc = fail("%s", "out of memory");
			goto done;
		}
		t_features = now_s();
		/* Every pass gives the same probabilities: the last one's are the bets'. */
		for (size_t pass = 0; pass < o.repeat; pass++)
			nba_model_predict(m, d.x + first * NBA_N_FEATURES, n, proba);
		t_predict = now_s();
		/* The features are spent: gone before the bets are written, the two never add up
		 * in the peak. */
		nba_dataset_free(&d);
		n_bets = nba_recommend(l.games + first, proba, n, o.min_edge, KELLY_CAP, bets);
		t_bets = now_s();
	}

	double stake = 0;
	for (size_t i = 0; i < n_bets; i++)
		stake += bets[i].stake;
	if (o.out) {
		if (write_bets(o.out, bets, n_bets) < 0) {
			rc = fail("%s: %s", o.out, strerror(errno));
			goto done;
		}
	} else {
		printf("%zu games, %zu bets, total stake %.4f\n", n, n_bets, stake);
	}
	if (o.timing) {
		double t_end = now_s(), total = t_end - t0;
		fprintf(stderr,
		        "timing: %s%s load_s=%.6f features_s=%.6f predict_s=%.6f bets_s=%.6f "
		        "output_s=%.6f total_s=%.6f csv_games=%zu predicted=%zu repeat=%zu "
		        "predictions_per_s=%.0f pipeline_games_per_s=%.0f\n",
		        o.model, o.naive ? " naive" : "", t_load - t0, t_features - t_load,
		        t_predict - t_features, t_bets - t_predict, t_end - t_bets, total,
		        l.n_games, n, o.repeat,
		        t_predict > t_features ? (double)(n * o.repeat) / (t_predict - t_features)
		                               : NAN,
		        total > 0 ? (double)l.n_games / total : NAN);
	}
done:
	free(proba);
	free(bets);
	nba_dataset_free(&d);
	nba_league_free(&l);
	nba_model_free(m);
	return rc;
}

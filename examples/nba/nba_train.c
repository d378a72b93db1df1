/* nba_train.c: the nba-train program: generates a league, writes its game log, trains and
 * evaluates the three models, and saves them for nba-predict. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nba.h"

#define USAGE "usage: nba-train [--seasons N] [--seed S] --out DIR"

/* The season count the generator accepts here: two at least, one to train on and one to test. */
#define MIN_SEASONS 2
#define MAX_SEASONS 200

static int usage_error(const char *what)
{
	fprintf(stderr, "nba-train: %s (%s)\n", what, USAGE);
	return 2;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static void print_metrics(const char *name, const nba_metrics *m)
{
	printf("%-22s accuracy %.4f  log_loss %.4f  brier %.4f  auc %.4f  (%zu games)\n", name,
	       m->accuracy, m->log_loss, m->brier, m->auc, m->n);
}

int main(int argc, char **argv)
{
	uint64_t seasons = 3, seed = 42;
	const char *out = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--seasons") == 0) {
			if (!parse_u64(v, &seasons) || seasons < MIN_SEASONS ||
			    seasons > MAX_SEASONS)
				return usage_error("--seasons needs a number from 2 to 200");
			i++;
		} else if (strcmp(a, "--seed") == 0) {
			if (!parse_u64(v, &seed))
				return usage_error("--seed needs a non-negative number");
			i++;
		} else if (strcmp(a, "--out") == 0) {
			if (!v || !*v)
				return usage_error("--out needs a directory");
			out = v;
			i++;
		} else {
			char msg[160];
			snprintf(msg, sizeof msg, "unknown argument '%.100s'", a);
			return usage_error(msg);
		}
	}
	if (!out)
		return usage_error("--out is required");

	nba_league league;
	if (nba_generate(seed, (int)seasons, &league) < 0) {
		fprintf(stderr, "nba-train: out of memory generating the league\n");
		return 1;
	}
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/games.csv", out);
	if (nba_write_csv(&league, path) < 0) {
		fprintf(stderr, "nba-train: %s: %s\n", path, strerror(errno));
		nba_league_free(&league);
		return 2;
	}
	nba_dataset all;
	if (nba_dataset_build(&league, &all) < 0) {
		fprintf(stderr, "nba-train: out of memory building features\n");
		nba_league_free(&league);
		return 1;
	}
	int last = league.seasons - 1;
	nba_dataset train = nba_dataset_seasons(&all, 0, last - 1);
	nba_dataset test = nba_dataset_seasons(&all, last, last);
	printf("league: %d seasons, %zu games (seed %llu); train on seasons 0-%d (%zu games), "
	       "test on season %d (%zu games)\n",
	       league.seasons, league.n_games, (unsigned long long)seed, last - 1, train.n, last,
	       test.n);

	int rc = 0;
	float *proba = malloc((test.n ? test.n : 1) * sizeof *proba);
	if (!proba) {
		fprintf(stderr, "nba-train: out of memory\n");
		rc = 1;
		goto done;
	}
	/* The baseline every model must beat: the home team always wins, with the training
	 * seasons' home win rate as its probability. */
	size_t home_wins = 0;
	for (size_t i = 0; i < train.n; i++)
		home_wins += train.y[i];
	float base = train.n ? (float)home_wins / (float)train.n : 0.5f;
	for (size_t i = 0; i < test.n; i++)
		proba[i] = base;
	nba_metrics m;
	nba_evaluate(proba, test.y, test.n, &m);
	print_metrics("baseline_home_team", &m);

	for (int k = NBA_MODEL_LR; k <= NBA_MODEL_GBM; k++) {
		nba_model *model = nba_model_train((nba_model_kind)k, &train, seed);
		if (!model) {
			fprintf(stderr, "nba-train: out of memory training %s\n",
			        nba_model_short_name((nba_model_kind)k));
			rc = 1;
			goto done;
		}
		nba_model_predict(model, test.x, test.n, proba);
		nba_evaluate(proba, test.y, test.n, &m);
		print_metrics(nba_model_long_name((nba_model_kind)k), &m);
		snprintf(path, sizeof path, "%s/%s.model", out,
		         nba_model_short_name((nba_model_kind)k));
		if (nba_model_save(model, path) < 0) {
			fprintf(stderr, "nba-train: %s: %s\n", path, strerror(errno));
			nba_model_free(model);
			rc = 2;
			goto done;
		}
		nba_model_free(model);
	}
done:
	free(proba);
	nba_dataset_free(&all);
	nba_league_free(&league);
	return rc;
}

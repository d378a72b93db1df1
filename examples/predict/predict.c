/* predict.c: the bundled example workload: NBA win probabilities from a logistic-regression model.
 */

/*
 * shotclock-example-predict N
 *
 * A small but complete inference pipeline, deterministic from a fixed seed:
 *   1. data: simulate a league season (30 teams with hidden strengths, home advantage, noisy
 *      margins) as training history, then N further games to predict;
 *   2. features: for every game, from what was known before tip-off only: Elo ratings, each
 *      team's mean margin and win rate over its last 10 games, and days of rest;
 *   3. model: standardise the features and fit an L2-regularised logistic regression on the
 *      training season by Newton's method;
 *   4. prediction: the home team's win probability for each of the N games;
 *   5. post-processing: confident picks, accuracy, log-loss and a checksum of the probabilities.
 * It prints one line of results; the same N always gives the same line on the same machine.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEAMS          30
#define TRAIN_GAMES    4000
#define GAMES_PER_DAY  8
#define WINDOW         10 /* games in a team's rolling form */
#define FEATURES       7
#define HOME_ADVANTAGE 2.5  /* points, NBA-like */
#define MARGIN_SD      12.0 /* points: the spread of a game's margin around its expectation */
#define ELO_K          20.0
#define ELO_HOME       100.0
#define PARAMS         (FEATURES + 1) /* with the intercept */
#define FIT_ITERATIONS 25
#define FIT_L2         1e-3  /* ridge penalty per game: keeps the Hessian well conditioned */
#define FIT_TOLERANCE  1e-10 /* stop when no Newton step moves a parameter by more than this */
#define SEED           0x5eed5eed2025ULL
#define PI             3.14159265358979323846

typedef struct rng {
	uint64_t s;
} rng;

/* xorshift64* (Vigna, 2016): fast, and good enough to simulate games. */
static uint64_t rng_next(rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

/* Uniform in (0, 1). */
static double rng_uniform(rng *r)
{
	return ((double)(rng_next(r) >> 11) + 0.5) / 9007199254740992.0;
}

/* Standard normal by Box-Muller. */
static double rng_normal(rng *r)
{
	double u = rng_uniform(r), v = rng_uniform(r);
	return sqrt(-2.0 * log(u)) * cos(2.0 * PI * v);
}

typedef struct team {
	double strength; /* hidden: points better than an average team */
	double elo;
	double margins[WINDOW]; /* ring buffer of the last games' margins, from this team's side */
	int played;
	int last_day;
} team;

typedef struct game {
	int home, away, day;
	double x[FEATURES];
	int home_won;
} game;

/* Mean margin and win rate over a team's last WINDOW games (0 and 0.5 before its first game). */
static void form(const team *t, double *margin, double *win_rate)
{
	int n = t->played < WINDOW ? t->played : WINDOW;
	double sum = 0, wins = 0;
	for (int i = 0; i < n; i++) {
		sum += t->margins[i];
		wins += t->margins[i] > 0;
	}
	*margin = n ? sum / n : 0.0;
	*win_rate = n ? wins / n : 0.5;
}

static double rest_days(const team *t, int day)
{
	int rest = t->played ? day - t->last_day : 3;
	return rest > 3 ? 3.0 : (double)rest;
}

/* Plays games[from..to) in order: features from the past, then the result updates the past. */
static void simulate(team *teams, game *games, size_t from, size_t to, rng *r)
{
	for (size_t i = from; i < to; i++) {
		game *g = &games[i];
		g->day = (int)(i / GAMES_PER_DAY);
		g->home = (int)(rng_next(r) % TEAMS);
		do {
			g->away = (int)(rng_next(r) % TEAMS);
		} while (g->away == g->home);
		team *h = &teams[g->home], *a = &teams[g->away];

		double hm, hw, am, aw;
		form(h, &hm, &hw);
		form(a, &am, &aw);
		g->x[0] = (h->elo + ELO_HOME - a->elo) / 100.0;
		g->x[1] = hm;
		g->x[2] = am;
		g->x[3] = hw;
		g->x[4] = aw;
		g->x[5] = rest_days(h, g->day);
		g->x[6] = rest_days(a, g->day);

		double margin =
		    h->strength - a->strength + HOME_ADVANTAGE + MARGIN_SD * rng_normal(r);
		g->home_won = margin > 0;

		double expected = 1.0 / (1.0 + pow(10.0, -(h->elo + ELO_HOME - a->elo) / 400.0));
		double delta = ELO_K * (g->home_won - expected);
		h->elo += delta;
		a->elo -= delta;
		h->margins[h->played % WINDOW] = margin;
		a->margins[a->played % WINDOW] = -margin;
		h->played++;
		a->played++;
		h->last_day = a->last_day = g->day;
	}
}

static double sigmoid(double z)
{
	return 1.0 / (1.0 + exp(-z));
}

typedef struct model {
	double mean[FEATURES], sd[FEATURES];
	double w[FEATURES], b;
} model;

static double score(const model *m, const double *x)
{
	double z = m->b;
	for (int j = 0; j < FEATURES; j++) {
		z += m->w[j] * (x[j] - m->mean[j]) / m->sd[j];
	}
	return sigmoid(z);
}

/* Solves a x = g for the symmetric positive-definite a (n x n) by Cholesky; a is overwritten. */
static int solve_spd(double a[][PARAMS], double *x, const double *g, int n)
{
	for (int j = 0; j < n; j++) {
		double d = a[j][j];
		for (int k = 0; k < j; k++) {
			d -= a[j][k] * a[j][k];
		}
		if (d <= 0) {
			return -1;
		}
		a[j][j] = sqrt(d);
		for (int i = j + 1; i < n; i++) {
			double s = a[i][j];
			for (int k = 0; k < j; k++) {
				s -= a[i][k] * a[j][k];
			}
			a[i][j] = s / a[j][j];
		}
	}
	for (int i = 0; i < n; i++) { /* L y = g */
		double s = g[i];
		for (int k = 0; k < i; k++) {
			s -= a[i][k] * x[k];
		}
		x[i] = s / a[i][i];
	}
	for (int i = n - 1; i >= 0; i--) { /* L^T x = y */
		double s = x[i];
		for (int k = i + 1; k < n; k++) {
			s -= a[k][i] * x[k];
		}
		x[i] = s / a[i][i];
	}
	return 0;
}

/*
 * Standardises the features on the training games, then fits the L2-regularised logistic
 * regression by Newton's method (iteratively reweighted least squares), which converges in a
 * handful of iterations for a model this small.
 */
static int fit(model *m, const game *train, size_t n)
{
	memset(m, 0, sizeof *m);
	for (int j = 0; j < FEATURES; j++) {
		double s = 0, ss = 0;
		for (size_t i = 0; i < n; i++) {
			s += train[i].x[j];
		}
		m->mean[j] = s / n;
		for (size_t i = 0; i < n; i++) {
			double d = train[i].x[j] - m->mean[j];
			ss += d * d;
		}
		m->sd[j] = ss > 0 ? sqrt(ss / n) : 1.0;
	}
	for (int it = 0; it < FIT_ITERATIONS; it++) {
		/* Parameter 0 is the intercept, 1..FEATURES the weights of the standardised
		 * features. */
		double grad[PARAMS] = {0}, hess[PARAMS][PARAMS] = {{0}}, step[PARAMS];
		for (size_t i = 0; i < n; i++) {
			double z[PARAMS] = {1.0};
			for (int j = 0; j < FEATURES; j++) {
				z[j + 1] = (train[i].x[j] - m->mean[j]) / m->sd[j];
			}
			double p = score(m, train[i].x);
			double err = p - train[i].home_won, w = p * (1.0 - p);
			for (int a = 0; a < PARAMS; a++) {
				grad[a] += err * z[a];
				for (int b = 0; b <= a; b++) {
					hess[a][b] += w * z[a] * z[b];
				}
			}
		}
		for (int a = 1; a < PARAMS; a++) {
			grad[a] += FIT_L2 * n * m->w[a - 1];
			hess[a][a] += FIT_L2 * n;
		}
		if (solve_spd(hess, step, grad, PARAMS) != 0) {
			return -1;
		}
		double largest = 0;
		m->b -= step[0];
		for (int j = 0; j < FEATURES; j++) {
			m->w[j] -= step[j + 1];
			largest = fmax(largest, fabs(step[j + 1]));
		}
		if (fmax(largest, fabs(step[0])) < FIT_TOLERANCE) {
			break;
		}
	}
	return 0;
}

/* FNV-1a over the bytes of each probability: any change in any prediction changes it. */
static uint64_t checksum(const double *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const unsigned char *bytes = (const unsigned char *)p;
	for (size_t i = 0; i < n * sizeof *p; i++) {
		h = (h ^ bytes[i]) * 0x100000001b3ULL;
	}
	return h;
}

int main(int argc, char **argv)
{
	char *end;
	errno = 0;
	unsigned long long n = argc == 2 ? strtoull(argv[1], &end, 10) : 0;
	if (argc != 2 || argv[1][0] < '0' || argv[1][0] > '9' || *end || errno || n == 0 ||
	    n > 100000000ULL) {
		fprintf(stderr, "usage: %s N   (N games to predict, 1 to 100000000)\n", argv[0]);
		return 2;
	}

	rng r = {SEED};
	team teams[TEAMS] = {0};
	for (int t = 0; t < TEAMS; t++) {
		teams[t].strength = 5.0 * rng_normal(&r);
		teams[t].elo = 1500.0;
	}
	size_t total = TRAIN_GAMES + (size_t)n;
	game *games = malloc(total * sizeof *games);
	double *proba = malloc((size_t)n * sizeof *proba);
	if (!games || !proba) {
		fprintf(stderr, "%s: out of memory\n", argv[0]);
		return 1;
	}
	simulate(teams, games, 0, total, &r);

	model m;
	if (fit(&m, games, TRAIN_GAMES) != 0) {
		fprintf(stderr, "%s: the model could not be fitted\n", argv[0]);
		return 1;
	}

	const game *test = games + TRAIN_GAMES;
	for (size_t i = 0; i < n; i++) {
		proba[i] = score(&m, test[i].x);
	}

	size_t correct = 0, confident = 0;
	double log_loss = 0;
	for (size_t i = 0; i < n; i++) {
		double p = proba[i];
		correct += (p > 0.5) == test[i].home_won;
		confident += p > 0.6 || p < 0.4;
		log_loss -= test[i].home_won ? log(p) : log(1.0 - p);
	}
	printf("games %llu  accuracy %.4f  log_loss %.4f  confident_picks %zu  checksum %016" PRIx64
	       "\n",
	       n, (double)correct / n, log_loss / n, confident, checksum(proba, n));
	free(proba);
	free(games);
	return 0;
}

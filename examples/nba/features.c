/* features.c: each game's features from what was known before it, kept incrementally: per-team
 * rolling windows with running sums, rest, season records and Elo ratings. */

/*
 * Window statistics are ratios of sums over a team's last NBA_WINDOW games (the way team ratings
 * are quoted: a 140-possession blowout weighs more than a 90-possession grind), and every summed
 * quantity is an integer, so removing the game that leaves the window undoes its addition exactly
 * and the sums never drift, however long the history:
 *   possessions (one team) = FGA - OREB + TOV + 0.44 FTA, kept as 100x that (an integer);
 *   a game's possessions   = the mean of the two teams' estimates (Basketball-Reference's);
 *   ORtg = 100 PTS / game possessions, DRtg = 100 opponent PTS / game possessions,
 *   pace = game possessions per game, eFG% = (FGM + 0.5 FG3M) / FGA, TOV% = TOV / own
 *   possessions, ORB% = OREB / (OREB + opponent DREB), FT rate = FTM / FGA.
 * A team without a game in its window yet, or a zero denominator, takes the league-typical value
 * (the PRIOR_ constants), so the first games of a history have usable, unbiased features.
 *
 * Windows run across seasons (last season's form is the best guess for the opener); rest and the
 * home and road records start afresh with each season, and Elo regresses a quarter of the way to
 * 1500 (FiveThirtyEight's NBA Elo: K = 20, 100 points of home advantage, and the margin-of-
 * victory multiplier (MOV + 3)^0.8 / (7.5 + 0.006 winner's Elo edge)).
 */
#include "nba.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define REST_CAP   7 /* days; also the rest of a season's first game */
#define ELO_MEAN   1500.0
#define ELO_K      20.0
#define ELO_HOME   100.0
#define ELO_CARRY  0.75 /* kept across a summer; the rest regresses to the mean */
#define PRIOR_RTG  112.0
#define PRIOR_PACE 99.0
#define PRIOR_EFG  0.54
#define PRIOR_TOV  0.13
#define PRIOR_ORB  0.23
#define PRIOR_FTR  0.20

/* The summed quantities of one game, from one team's side. */
enum sum {
	S_PTS,
	S_OPP_PTS,
	S_FGA,
	S_FGM,
	S_FG3M,
	S_FTM,
	S_TOV,
	S_OREB,
	S_OPP_DREB,
	S_POSS100,  /* 100 x own possessions */
	S_GPOSS200, /* 200 x the game's possessions: the sum of both teams' S_POSS100 */
	S_WIN,
	N_SUMS
};

typedef struct team_state {
	int32_t ring[NBA_WINDOW][N_SUMS]; /* the window's games; head is the oldest when full */
	int64_t sum[N_SUMS];
	int head, n;
	double elo;
	int season; /* of the team's last game; -1 before its first */
	int32_t last_date;
	int home_games, home_wins, road_games, road_wins; /* this season */
} team_state;

struct nba_features {
	int n_teams;
	team_state team[NBA_TEAMS];
};

static const char *const feature_names[NBA_N_FEATURES] = {
    "ortg_diff",    "drtg_diff",    "pace_diff",   "efg_diff",      "tov_pct_diff", "orb_pct_diff",
    "ft_rate_diff", "home_rest",    "away_rest",   "home_b2b",      "away_b2b",     "elo_diff",
    "elo_prob",     "win_pct_diff", "margin_diff", "home_road_diff"};

const char *nba_feature_name(int i)
{
	return i >= 0 && i < NBA_N_FEATURES ? feature_names[i] : NULL;
}

nba_features *nba_features_new(int n_teams)
{
	if (n_teams < 0 || n_teams > NBA_TEAMS)
		return NULL;
	nba_features *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->n_teams = n_teams;
	for (int t = 0; t < NBA_TEAMS; t++) {
		f->team[t].elo = ELO_MEAN;
		f->team[t].season = -1;
	}
	return f;
}

void nba_features_free(nba_features *f)
{
	free(f);
}

static double ratio(int64_t num, int64_t den, double scale, double prior)
{
	return den > 0 ? scale * (double)num / (double)den : prior;
}

/* The window's rates of one team, in feature order: ORtg, DRtg, pace, eFG%, TOV%, ORB%, FT rate,
 * win share, mean margin. */
static void window_rates(const team_state *t, double r[9])
{
	const int64_t *s = t->sum;
	if (t->n == 0) {
		const double prior[9] = {PRIOR_RTG, PRIOR_RTG, PRIOR_PACE, PRIOR_EFG, PRIOR_TOV,
		                         PRIOR_ORB, PRIOR_FTR, 0.5,        0.0};
		memcpy(r, prior, sizeof prior);
		return;
	}
	r[0] = ratio(s[S_PTS], s[S_GPOSS200], 20000.0, PRIOR_RTG);
	r[1] = ratio(s[S_OPP_PTS], s[S_GPOSS200], 20000.0, PRIOR_RTG);
	r[2] = ratio(s[S_GPOSS200], 200 * (int64_t)t->n, 1.0, PRIOR_PACE);
	r[3] = ratio(2 * s[S_FGM] + s[S_FG3M], 2 * s[S_FGA], 1.0, PRIOR_EFG);
	r[4] = ratio(s[S_TOV], s[S_POSS100], 100.0, PRIOR_TOV);
	r[5] = ratio(s[S_OREB], s[S_OREB] + s[S_OPP_DREB], 1.0, PRIOR_ORB);
	r[6] = ratio(s[S_FTM], s[S_FGA], 1.0, PRIOR_FTR);
	r[7] = (double)s[S_WIN] / t->n;
	r[8] = (double)(s[S_PTS] - s[S_OPP_PTS]) / t->n;
}

/* Starts the team's season when g is its first game of one: records, and Elo's regression. */
static void enter_season(team_state *t, int season)
{
	if (t->season == season)
		return;
	if (t->season >= 0)
		t->elo = ELO_CARRY * t->elo + (1 - ELO_CARRY) * ELO_MEAN;
	t->season = season;
	t->home_games = t->home_wins = t->road_games = t->road_wins = 0;
}

/* Days off before the game (0 on the second night of a back-to-back), capped; a team's first
 * game of a season counts as fully rested. */
static int rest_days(const team_state *t, bool season_opener, int32_t date)
{
	if (season_opener)
		return REST_CAP;
	int32_t d = date - t->last_date - 1;
	return d < 0 ? 0 : d > REST_CAP ? REST_CAP : (int)d;
}

static int64_t poss100(const nba_team_line *b)
{
	return 100 * ((int64_t)b->fga - b->oreb + b->tov) + 44 * (int64_t)b->fta;
}

/* Folds one game, from team t's side, into its window: O(1), no allocation. */
static void window_push(team_state *t, const nba_team_line *own, const nba_team_line *opp)
{
	int32_t v[N_SUMS];
	v[S_PTS] = own->pts;
	v[S_OPP_PTS] = opp->pts;
	v[S_FGA] = own->fga;
	v[S_FGM] = own->fgm;
	v[S_FG3M] = own->fg3m;
	v[S_FTM] = own->ftm;
	v[S_TOV] = own->tov;
	v[S_OREB] = own->oreb;
	v[S_OPP_DREB] = opp->dreb;
	v[S_POSS100] = (int32_t)poss100(own);
	v[S_GPOSS200] = (int32_t)(poss100(own) + poss100(opp));
	v[S_WIN] = own->pts > opp->pts;
	int32_t *slot = t->ring[t->head];
	for (int k = 0; k < N_SUMS; k++) {
		if (t->n == NBA_WINDOW)
			t->sum[k] -= slot[k];
		slot[k] = v[k];
		t->sum[k] += v[k];
	}
	t->head = (t->head + 1) % NBA_WINDOW;
	if (t->n < NBA_WINDOW)
		t->n++;
}

void nba_features_game(nba_features *f, const nba_game *g, float x[NBA_N_FEATURES])
{
	team_state *h = &f->team[g->home], *a = &f->team[g->away];
	bool h_opener = h->season != g->season, a_opener = a->season != g->season;
	enter_season(h, g->season);
	enter_season(a, g->season);

	double rh[9], ra[9];
	window_rates(h, rh);
	window_rates(a, ra);
	for (int i = 0; i < 7; i++)
		x[i] = (float)(rh[i] - ra[i]);
	int h_rest = rest_days(h, h_opener, g->date), a_rest = rest_days(a, a_opener, g->date);
	x[7] = (float)h_rest;
	x[8] = (float)a_rest;
	x[9] = !h_opener && h_rest == 0;
	x[10] = !a_opener && a_rest == 0;
	double elo_edge = h->elo + ELO_HOME - a->elo;
	double expect = 1.0 / (1.0 + pow(10.0, -elo_edge / 400.0));
	x[11] = (float)elo_edge;
	x[12] = (float)expect;
	x[13] = (float)(rh[7] - ra[7]);
	x[14] = (float)(rh[8] - ra[8]);
	x[15] = (float)((h->home_wins + 1.0) / (h->home_games + 2.0) -
	                (a->road_wins + 1.0) / (a->road_games + 2.0));

	/* Then the result. */
	int margin = g->home_line.pts - g->away_line.pts;
	double winner_edge = g->home_win ? elo_edge : -elo_edge;
	/* FiveThirtyEight's damping shrinks the multiplier for expected wins; for a winner more
	 * than about 1,100 points below its opponent, which no real history reaches, the floor
	 * keeps the ratings finite whatever a file holds. */
	double damping = 7.5 + 0.006 * winner_edge;
	if (damping < 1.0)
		damping = 1.0;
	double mov = pow(fabs((double)margin) + 3.0, 0.8) / damping;
	double shift = ELO_K * mov * ((g->home_win ? 1.0 : 0.0) - expect);
	h->elo += shift;
	a->elo -= shift;
	window_push(h, &g->home_line, &g->away_line);
	window_push(a, &g->away_line, &g->home_line);
	h->home_games++;
	h->home_wins += g->home_win;
	a->road_games++;
	a->road_wins += !g->home_win;
	h->last_date = a->last_date = g->date;
}

int nba_dataset_build(const nba_league *l, nba_dataset *out)
{
	memset(out, 0, sizeof *out);
	size_t n = l->n_games, rows = n ? n : 1;
	nba_features *f = nba_features_new(l->n_teams);
	out->x = malloc(rows * NBA_N_FEATURES * sizeof *out->x);
	out->y = malloc(rows * sizeof *out->y);
	out->true_prob = malloc(rows * sizeof *out->true_prob);
	out->season = malloc(rows * sizeof *out->season);
	if (!f || !out->x || !out->y || !out->true_prob || !out->season) {
		nba_features_free(f);
		nba_dataset_free(out);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const nba_game *g = &l->games[i];
		nba_features_game(f, g, out->x + i * NBA_N_FEATURES);
		out->y[i] = g->home_win;
		out->true_prob[i] = g->true_home_prob;
		out->season[i] = g->season;
	}
	out->n = n;
	nba_features_free(f);
	return 0;
}

nba_dataset nba_dataset_seasons(const nba_dataset *d, int first, int last)
{
	/* Games are in date order, so a season range is one run of rows. */
	size_t lo = 0, hi;
	while (lo < d->n && d->season[lo] < first)
		lo++;
	hi = lo;
	while (hi < d->n && d->season[hi] <= last)
		hi++;
	nba_dataset v = {.n = hi - lo};
	if (d->x) {
		v.x = d->x + lo * NBA_N_FEATURES;
		v.y = d->y + lo;
		v.true_prob = d->true_prob + lo;
		v.season = d->season + lo;
	}
	return v;
}

void nba_dataset_free(nba_dataset *d)
{
	if (!d)
		return;
	free(d->x);
	free(d->y);
	free(d->true_prob);
	free(d->season);
	memset(d, 0, sizeof *d);
}

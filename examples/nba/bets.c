/* bets.c: the bookmaker's moneylines for a game and the bets a model's probabilities recommend
 * against them (edge over the implied probability, capped Kelly stake). */
#include <math.h>

#include "nba.h"

/* The bookmaker's overround: the two sides' implied probabilities sum to 1 + MARGIN, split in
 * proportion to the probabilities (a 4.5% book is typical of NBA moneylines). */
#define MARGIN 0.045
/* Without the generator's probability (a real game log), the book prices the home side at the
 * league's long-run home win rate, about 58%. */
#define HOME_EDGE 0.08
/* The bookmaker's own estimate is off by up to this much in log-odds, differently for each game:
 * the disagreement a better model can find. */
#define NOISE 0.25
/* No price shorter than 1 to 12 (the other side's probability keeps room for the margin too). */
#define P_MIN 0.07
#define P_MAX 0.93

/* A per-game uniform number in [-1, 1], the same on every run: the splitmix64 finaliser of the
 * game id. */
static double game_noise(uint32_t game_id)
{
	uint64_t z = (uint64_t)game_id + 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) / (double)(1ULL << 53) * 2 - 1;
}

/* American odds for an implied probability q in (0, 1): a favourite (q >= 0.5) is quoted as the
 * stake that wins 100 (negative), an underdog as what a stake of 100 wins (positive). */
static int american(double q)
{
	if (q >= 0.5)
		return -(int)lround(100 * q / (1 - q));
	return (int)lround(100 * (1 - q) / q);
}

static double implied(int ml)
{
	return ml < 0 ? -ml / (double)(-ml + 100) : 100 / (double)(ml + 100);
}

/* Net decimal odds b: what a stake of 1 wins. */
static double net_odds(int ml)
{
	return ml < 0 ? 100 / (double)-ml : ml / 100.0;
}

void nba_moneylines(const nba_game *g, int *home_ml, int *away_ml)
{
	double p = isnan(g->true_home_prob) ? 0.5 + HOME_EDGE : g->true_home_prob;
	p = p < P_MIN ? P_MIN : p > P_MAX ? P_MAX : p;
	double z = log(p / (1 - p)) + NOISE * game_noise(g->game_id);
	p = 1 / (1 + exp(-z));
	p = p < P_MIN ? P_MIN : p > P_MAX ? P_MAX : p;
	*home_ml = american(p * (1 + MARGIN));
	*away_ml = american((1 - p) * (1 + MARGIN));
}

size_t nba_recommend(const nba_game *games, const float *home_proba, size_t n, double min_edge,
                     double kelly_cap, nba_bet *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		double p = home_proba[i];
		if (!(p >= 0 && p <= 1))
			continue;
		int ml[2];
		nba_moneylines(&games[i], &ml[1], &ml[0]);
		/* Side 1 is home, side 0 away; bet at most one side, the one with the larger edge
		 * (both can exceed min_edge only when the model disagrees with itself). */
		double edge_home = p - implied(ml[1]), edge_away = (1 - p) - implied(ml[0]);
		int side = edge_home >= edge_away;
		double q = side ? p : 1 - p, edge = side ? edge_home : edge_away;
		if (!(edge > min_edge))
			continue;
		/* Kelly: f = (b q - (1 - q)) / b maximises the bankroll's growth at probability
		 * q; it is positive whenever the edge is, and capped since q is only an estimate.
		 */
		double b = net_odds(ml[side]);
		double f = (b * q - (1 - q)) / b;
		if (!(f > 0))
			continue;
		out[k++] = (nba_bet){.game_id = games[i].game_id,
		                     .on_home = side == 1,
		                     .moneyline = ml[side],
		                     .implied_prob = implied(ml[side]),
		                     .model_prob = q,
		                     .edge = edge,
		                     .stake = f < kelly_cap ? f : kelly_cap};
	}
	return k;
}

/* data.c: the generator of a deterministic NBA league history, and the league's release. */

/*
 * The generative model (every number below is a named constant further down):
 *
 * Teams. 30 teams with the real abbreviations, indexed in alphabetical order (the order the CSV
 * loader discovers them in, so that a written and re-read league is identical).
 *
 * Schedule. Each season has 1,230 games: every pair of teams meets twice, once at each arena
 * (870 games), and 360 more come from a circulant design over a per-season random order of the
 * teams: the team at position i hosts the teams at positions i+1 ... i+12 (mod 30). So every team
 * plays 82 games, 41 at home. Games are spread over about 170 days: day by day, a quota of
 * remaining games over remaining days is filled with the games whose teams have the most games
 * left, no team plays twice on a day or three days running, and a game that would put a team on
 * the second night of a back-to-back is taken only with probability 0.5, which gives about 14
 * back-to-backs per team and season, as real schedules do. Seasons open 364 days apart (52 weeks,
 * so always on a Tuesday, like the 2019-20 season on 2019-10-22, the first one).
 *
 * Strength. Team t has a strength s_t in points per game against an average team. At the first
 * season s_t ~ N(0, 3.5); across a summer s_t <- 0.6 s_t + N(0, 2.8) (stationary: sd 3.5); during
 * a season it is a random walk, s_t += N(0, 0.25) after each of its games (sd about 2.3 over 82).
 *
 * Margin. The home team's point margin is
 *     margin = s_home - s_away + 2.75 (home) - 1.5 [home on a back-to-back] + 1.5 [away on one]
 *              + 11.5 * Z,
 * and the home team wins when margin > 0, so true_home_prob = P(margin > 0) = erfc(-mu /
 * (11.5 sqrt 2)) / 2 with mu the margin's expectation. Z is an Irwin-Hall normal (the sum of 12
 * uniforms minus 6): plain IEEE arithmetic gives the same bytes on every platform, which libm's
 * log and cos in Box-Muller do not promise; its tails stop at 6 sd, which changes P(margin > 0)
 * by less than 1e-3. A rounded margin of 0 is a tie after regulation: overtime adds 8 to 13
 * points to the loser and the loser's plus 1 to 8 to the winner, so the winner stays the sign of
 * the margin and no game ends level.
 *
 * Pace and points. Team t plays at pace_t ~ 99 + N(0, 2.5) possessions per game (per season);
 * a game has (pace_home + pace_away) / 2 + N(0, 2.5) possessions, and 2.26 points per possession
 * for the two teams together, plus N(0, 8) points: the two scores follow from that total and the
 * margin.
 *
 * Box score. From a team's points and possessions: FTA ~ N(22, 5), FTM ~ 78 % of them, FG3A ~
 * N(35, 6), FG3M ~ 36 % of them, then two-pointers make up the rest so that PTS = 2 (FGM - FG3M)
 * + 3 FG3M + FTM exactly (free throws and threes give way when the points are too few or of the
 * wrong parity); TOV ~ N(13.5, 3) and OREB ~ N(10, 3), then FGA = possessions - TOV - 0.44 FTA
 * + OREB (the estimate the features use, so the generated pace is the one they see, and a team
 * that scores more in as many possessions shoots better), raised where the makes or offensive
 * rebounds need more misses, with TOV then recomputed from the same identity; AST about 60 % of
 * FGM; STL, BLK, PF, DREB around league averages. PLUS_MINUS is the points difference and WL
 * follows from the points.
 */
#include "nba.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SEASON_DAYS      170
#define FIRST_SEASON_DAY 18191 /* 2019-10-22, days since 1970-01-01 */
#define SEASON_STRIDE    364   /* days between openers: 52 weeks */
#define FIRST_SEASON_YY  19    /* the two-digit year in the first season's game ids */
#define MAX_SEASONS      80    /* game ids carry a two-digit year: more would repeat them */
#define EXTRA_HOSTED     12    /* circulant games each team hosts beyond the double round robin */

#define STRENGTH_SD      3.5
#define STRENGTH_CARRY   0.6
#define STRENGTH_SUMMER  2.8 /* sqrt(3.5^2 (1 - 0.6^2)) */
#define STRENGTH_DRIFT   0.25
#define HOME_ADVANTAGE   2.75
#define B2B_COST         1.5
#define MARGIN_SD        11.5
#define B2B_ACCEPT       0.5
#define PACE_MEAN        99.0
#define PACE_TEAM_SD     2.5
#define PACE_GAME_SD     2.5
#define POINTS_PER_POSS2 2.26 /* both teams' points per game possession */
#define TOTAL_SD         8.0
#define MIN_POINTS       60

static const char team_abbr[NBA_TEAMS][4] = {"ATL", "BKN", "BOS", "CHA", "CHI", "CLE", "DAL", "DEN",
                                             "DET", "GSW", "HOU", "IND", "LAC", "LAL", "MEM", "MIA",
                                             "MIL", "MIN", "NOP", "NYK", "OKC", "ORL", "PHI", "PHX",
                                             "POR", "SAC", "SAS", "TOR", "UTA", "WAS"};

/* xoshiro256** (Blackman and Vigna), seeded by splitmix64: fast, and the same stream on every
 * platform for a seed. */
typedef struct rng {
	uint64_t s[4];
} rng;

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

static void rng_seed(rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++) {
		uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		r->s[i] = z ^ (z >> 31);
	}
}

/* Uniform in [0, 1). */
static double rng_uniform(rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n): the multiply-shift map, whose bias for n <= 2^32 is far below anything a
 * simulated league could show. */
static int rng_below(rng *r, int n)
{
	return (int)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Standard normal by Irwin-Hall: only additions, so every platform gets the same bits. */
static double rng_normal(rng *r)
{
	double sum = 0;
	for (int i = 0; i < 12; i++)
		sum += rng_uniform(r);
	return sum - 6.0;
}

/* Rounds to the nearest integer, halves up: floor is exact in IEEE arithmetic. */
static int iround(double x)
{
	return (int)floor(x + 0.5);
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void shuffle_ints(rng *r, int *a, int n)
{
	for (int i = n - 1; i > 0; i--) {
		int j = rng_below(r, i + 1);
		int t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

typedef struct slot {
	int home, away, day, order;
	int priority; /* games left to the two teams; the scheduler serves the busiest first */
} slot;

static int by_priority(const void *pa, const void *pb)
{
	const slot *a = pa, *b = pb;
	if (a->priority != b->priority)
		return a->priority > b->priority ? -1 : 1;
	return (a->order > b->order) - (a->order < b->order);
}

static int by_day(const void *pa, const void *pb)
{
	const slot *a = pa, *b = pb;
	if (a->day != b->day)
		return (a->day > b->day) - (a->day < b->day);
	return (a->order > b->order) - (a->order < b->order);
}

/* Fills g[0 .. NBA_GAMES_PER_SEASON) with one season's pairings, in day order with day offsets
 * from the opener in ->day. */
static void schedule_season(rng *r, slot *g)
{
	int pos[NBA_TEAMS];
	for (int i = 0; i < NBA_TEAMS; i++)
		pos[i] = i;
	shuffle_ints(r, pos, NBA_TEAMS);

	int n = 0;
	for (int i = 0; i < NBA_TEAMS; i++)
		for (int j = 0; j < NBA_TEAMS; j++)
			if (i != j)
				g[n++] = (slot){.home = pos[i], .away = pos[j]};
	for (int i = 0; i < NBA_TEAMS; i++)
		for (int d = 1; d <= EXTRA_HOSTED; d++)
			g[n++] = (slot){.home = pos[i], .away = pos[(i + d) % NBA_TEAMS]};

	int order[NBA_GAMES_PER_SEASON];
	for (int i = 0; i < n; i++)
		order[i] = i;
	shuffle_ints(r, order, n);
	for (int i = 0; i < n; i++)
		g[i].order = order[i];

	int left[NBA_TEAMS], last[NBA_TEAMS], before[NBA_TEAMS];
	for (int t = 0; t < NBA_TEAMS; t++) {
		left[t] = 82;
		last[t] = before[t] = -10;
	}
	/* g[done ..] are the games not yet given a day. */
	int done = 0;
	for (int day = 0; done < n; day++) {
		int remaining_days = SEASON_DAYS - day > 1 ? SEASON_DAYS - day : 1;
		double share = (double)(n - done) / remaining_days;
		int quota = (int)(share + rng_uniform(r));
		for (int i = done; i < n; i++)
			g[i].priority = left[g[i].home] + left[g[i].away];
		qsort(g + done, (size_t)(n - done), sizeof *g, by_priority);
		int taken = 0;
		for (int i = done; i < n && taken < quota; i++) {
			int h = g[i].home, a = g[i].away;
			if (last[h] == day || last[a] == day)
				continue;
			if ((last[h] == day - 1 && before[h] == day - 2) ||
			    (last[a] == day - 1 && before[a] == day - 2))
				continue;
			if ((last[h] == day - 1 || last[a] == day - 1) &&
			    rng_uniform(r) >= B2B_ACCEPT)
				continue;
			before[h] = last[h];
			before[a] = last[a];
			last[h] = last[a] = day;
			left[h]--;
			left[a]--;
			g[i].day = day;
			slot t = g[i];
			g[i] = g[done + taken];
			g[done + taken] = t;
			taken++;
		}
		done += taken;
	}
	qsort(g, (size_t)n, sizeof *g, by_day);
}

/* One team's box score from its points and possessions; see the model at the top. */
static nba_team_line box_score(rng *r, int pts, double poss)
{
	nba_team_line b = {.pts = pts};
	int fta = clampi(iround(22 + 5 * rng_normal(r)), 5, 45);
	int ftm = clampi(iround(fta * (0.78 + 0.05 * rng_normal(r))), 0, fta);
	int fg3a = clampi(iround(35 + 6 * rng_normal(r)), 10, 60);
	int fg3m = clampi(iround(fg3a * (0.36 + 0.05 * rng_normal(r))), 0, fg3a);
	int rem = pts - 3 * fg3m - ftm;
	while (rem < 0) {
		if (fg3m > 0) {
			fg3m--;
			rem += 3;
		} else {
			ftm--;
			rem += 1;
		}
	}
	if (rem % 2) {
		if (ftm > 0) {
			ftm--;
			rem++;
		} else if (fg3m > 0) {
			fg3m--;
			rem += 3;
		} else {
			ftm++;
			rem--;
		}
	}
	if (fta < ftm)
		fta = ftm;
	int fg2m = rem / 2;
	/* Field goal attempts fill the possessions the turnovers and free throws leave, plus the
	 * second chances: shooting percentages are what the points make of them. */
	int tov = clampi(iround(13.5 + 3 * rng_normal(r)), 4, 28);
	int oreb = clampi(iround(10 + 3 * rng_normal(r)), 2, 25);
	int fga = iround(poss - tov - 0.44 * fta + oreb);
	int fgm = fg2m + fg3m;
	if (fga < fgm + oreb)
		fga = fgm + oreb;
	if (fga < fg2m + fg3a)
		fga = fg2m + fg3a;
	b.ftm = ftm;
	b.fta = fta;
	b.fg3m = fg3m;
	b.fg3a = fg3a;
	b.fgm = fgm;
	b.fga = fga;
	b.oreb = oreb;
	b.dreb = clampi(iround(34 + 4 * rng_normal(r)), 15, 60);
	/* Where the attempts had to grow for the points, turnovers give way to keep the identity.
	 */
	b.tov = clampi(iround(poss - fga + oreb - 0.44 * fta), 0, 40);
	b.ast = clampi(iround(0.6 * b.fgm + 2 * rng_normal(r)), 0, b.fgm);
	b.stl = clampi(iround(7.5 + 2.5 * rng_normal(r)), 0, 25);
	b.blk = clampi(iround(5 + 2 * rng_normal(r)), 0, 20);
	b.pf = clampi(iround(20 + 3.5 * rng_normal(r)), 5, 40);
	return b;
}

/* Plays one scheduled game: margin, points, box scores; advances the two strengths. */
static void play(rng *r, double *strength, const double *pace, const int *last_day, int day,
                 nba_game *g)
{
	int h = g->home, a = g->away;
	bool h_b2b = last_day[h] == day - 1, a_b2b = last_day[a] == day - 1;
	double mu = strength[h] - strength[a] + HOME_ADVANTAGE - (h_b2b ? B2B_COST : 0) +
	            (a_b2b ? B2B_COST : 0);
	double margin = mu + MARGIN_SD * rng_normal(r);
	g->true_home_prob = 0.5 * erfc(-mu / (MARGIN_SD * sqrt(2.0)));
	g->home_win = margin > 0;

	double poss = (pace[h] + pace[a]) / 2 + PACE_GAME_SD * rng_normal(r);
	double total = POINTS_PER_POSS2 * poss + TOTAL_SD * rng_normal(r);
	int m = iround(margin), home_pts, away_pts;
	if (m == 0) {
		int level = iround(total / 2);
		int loser = level + 8 + rng_below(r, 6);
		int winner = loser + 1 + rng_below(r, 8);
		home_pts = g->home_win ? winner : loser;
		away_pts = g->home_win ? loser : winner;
	} else {
		away_pts = iround((total - m) / 2);
		home_pts = away_pts + m;
	}
	int low = home_pts < away_pts ? home_pts : away_pts;
	if (low < MIN_POINTS) {
		home_pts += MIN_POINTS - low;
		away_pts += MIN_POINTS - low;
	}
	g->home_line = box_score(r, home_pts, poss + rng_normal(r));
	g->away_line = box_score(r, away_pts, poss + rng_normal(r));
	g->home_line.plus_minus = home_pts - away_pts;
	g->away_line.plus_minus = away_pts - home_pts;
	strength[h] += STRENGTH_DRIFT * rng_normal(r);
	strength[a] += STRENGTH_DRIFT * rng_normal(r);
}

int nba_generate(uint64_t seed, int seasons, nba_league *out)
{
	memset(out, 0, sizeof *out);
	if (seasons < 0 || seasons > MAX_SEASONS) {
		errno = EINVAL;
		return -1;
	}
	out->n_teams = NBA_TEAMS;
	memcpy(out->teams, team_abbr, sizeof team_abbr);
	out->seasons = seasons;
	if (seasons == 0)
		return 0;
	size_t n = (size_t)seasons * NBA_GAMES_PER_SEASON;
	out->games = calloc(n, sizeof *out->games);
	slot *sched = malloc(NBA_GAMES_PER_SEASON * sizeof *sched);
	if (!out->games || !sched) {
		free(sched);
		nba_league_free(out);
		errno = ENOMEM;
		return -1;
	}
	out->n_games = n;

	rng r;
	rng_seed(&r, seed);
	double strength[NBA_TEAMS], pace[NBA_TEAMS];
	for (int t = 0; t < NBA_TEAMS; t++)
		strength[t] = STRENGTH_SD * rng_normal(&r);
	for (int s = 0; s < seasons; s++) {
		if (s > 0)
			for (int t = 0; t < NBA_TEAMS; t++)
				strength[t] =
				    STRENGTH_CARRY * strength[t] + STRENGTH_SUMMER * rng_normal(&r);
		for (int t = 0; t < NBA_TEAMS; t++)
			pace[t] = PACE_MEAN + PACE_TEAM_SD * rng_normal(&r);
		schedule_season(&r, sched);
		int last_day[NBA_TEAMS];
		for (int t = 0; t < NBA_TEAMS; t++)
			last_day[t] = -10;
		int opener = FIRST_SEASON_DAY + s * SEASON_STRIDE;
		uint32_t id_base = 20000000u + (uint32_t)((FIRST_SEASON_YY + s) % 100) * 100000u;
		for (int i = 0; i < NBA_GAMES_PER_SEASON; i++) {
			nba_game *g = &out->games[(size_t)s * NBA_GAMES_PER_SEASON + (size_t)i];
			g->game_id = id_base + (uint32_t)i + 1;
			g->date = opener + sched[i].day;
			g->season = s;
			g->home = sched[i].home;
			g->away = sched[i].away;
			play(&r, strength, pace, last_day, sched[i].day, g);
			last_day[g->home] = last_day[g->away] = sched[i].day;
		}
	}
	free(sched);
	return 0;
}

void nba_league_free(nba_league *l)
{
	if (!l)
		return;
	free(l->games);
	memset(l, 0, sizeof *l);
}

/* test_nba_data.c: the NBA pipeline's data and features: the generator's schedule, box scores and
 * calibration, the CSV round trip and every rejection's exact message, and hand-computed features.
 */
#include "check.h"
#include "nba.h"

#include <malloc.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------------------ */

/* csv.c's read size (0: its default), so that records straddle the chunks of a small file. */
void nba_csv_set_chunk(size_t bytes);

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static char *temp_path(void)
{
	static char path[64];
	snprintf(path, sizeof path, "/tmp/test_nba_data.XXXXXX");
	int fd = mkstemp(path);
	if (fd >= 0)
		close(fd);
	return path;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static bool line_is_consistent(const nba_team_line *b, int opp_pts)
{
	return b->pts == 2 * (b->fgm - b->fg3m) + 3 * b->fg3m + b->ftm && b->fgm <= b->fga &&
	       b->fg3m <= b->fg3a && b->fg3a <= b->fga && b->fg3m <= b->fgm && b->ftm <= b->fta &&
	       b->plus_minus == b->pts - opp_pts && b->oreb <= b->fga - b->fgm && b->fgm >= 0 &&
	       b->ftm >= 0 && b->fg3m >= 0 && b->tov >= 0 && b->oreb >= 0;
}

/* ---- the generator ------------------------------------------------------------------------ */

static void test_schedule_and_box_scores(const nba_league *l)
{
	CHECK_INT(l->n_games, 5 * NBA_GAMES_PER_SEASON);
	CHECK_INT(l->n_teams, NBA_TEAMS);
	CHECK_INT(l->seasons, 5);
	int bad_lines = 0, bad_order = 0, b2b = 0;
	for (int s = 0; s < l->seasons; s++) {
		int games[NBA_TEAMS] = {0}, home[NBA_TEAMS] = {0}, last[NBA_TEAMS];
		for (int t = 0; t < NBA_TEAMS; t++)
			last[t] = -1000000;
		const nba_game *g0 = &l->games[(size_t)s * NBA_GAMES_PER_SEASON];
		for (int i = 0; i < NBA_GAMES_PER_SEASON; i++) {
			const nba_game *g = &g0[i];
			CHECK(g->season == s);
			games[g->home]++;
			games[g->away]++;
			home[g->home]++;
			b2b += (g->date - last[g->home] == 1) + (g->date - last[g->away] == 1);
			bad_order += g->date == last[g->home] || g->date == last[g->away];
			last[g->home] = last[g->away] = g->date;
			if (i > 0 && (g->date < g[-1].date ||
			              (g->date == g[-1].date && g->game_id <= g[-1].game_id)))
				bad_order++;
			bad_lines += !line_is_consistent(&g->home_line, g->away_line.pts) ||
			             !line_is_consistent(&g->away_line, g->home_line.pts) ||
			             g->home_line.pts == g->away_line.pts ||
			             g->home_win != (g->home_line.pts > g->away_line.pts) ||
			             g->home == g->away;
		}
		for (int t = 0; t < NBA_TEAMS; t++) {
			CHECK_INT(games[t], 82);
			CHECK_INT(home[t], 41);
		}
		/* About 170 days from the opener to the last game, like a real regular season. */
		int span = g0[NBA_GAMES_PER_SEASON - 1].date - g0[0].date;
		CHECK(span >= 160 && span <= 185);
		if (s > 0)
			CHECK(g0[0].date - g0[-1].date > 60);
	}
	CHECK_INT(bad_lines, 0);
	CHECK_INT(bad_order, 0); /* also: no team plays twice on one day */
	/* Real schedules give each team 12 to 16 back-to-backs a season. */
	double b2b_per_team = (double)b2b / (l->seasons * NBA_TEAMS);
	printf("back-to-backs per team and season: %.1f\n", b2b_per_team);
	CHECK(b2b_per_team >= 10 && b2b_per_team <= 18);
}

static void test_calibration(const nba_league *l)
{
	/* Home wins against the model's own probabilities. With n = 6,150 games and p near 0.59,
	 * the standard error of a win rate is 0.0063: 0.02 is a 3-sigma bound. */
	double wins = 0, prob = 0;
	for (size_t i = 0; i < l->n_games; i++) {
		wins += l->games[i].home_win;
		prob += l->games[i].true_home_prob;
	}
	double rate = wins / l->n_games, mean = prob / l->n_games;
	printf("home win rate %.4f, mean true_home_prob %.4f\n", rate, mean);
	CHECK(rate >= 0.56 && rate <= 0.63);
	CHECK_NEAR(rate, mean, 0.02);

	/* Binned by probability: each bin with 100 games or more must win at its mean probability
	 * within 4 standard errors (sqrt(p (1 - p) / n)), so that ten bins together stay below a
	 * 1e-3 false alarm for a calibrated generator, while a probability off by 0.05 in a bin of
	 * 600 games (3 standard errors... per bin, more across bins) shows. */
	enum { BINS = 10 };
	double bn[BINS] = {0}, bw[BINS] = {0}, bp[BINS] = {0};
	for (size_t i = 0; i < l->n_games; i++) {
		double p = l->games[i].true_home_prob;
		int b = (int)(p * BINS);
		b = b < 0 ? 0 : b >= BINS ? BINS - 1 : b;
		bn[b]++;
		bw[b] += l->games[i].home_win;
		bp[b] += p;
	}
	int bins_checked = 0;
	for (int b = 0; b < BINS; b++) {
		if (bn[b] < 100)
			continue;
		double p = bp[b] / bn[b], w = bw[b] / bn[b];
		printf("  bin %.1f-%.1f: n %5.0f, mean prob %.3f, win rate %.3f\n", b / 10.0,
		       (b + 1) / 10.0, bn[b], p, w);
		CHECK_NEAR(w, p, 4 * sqrt(p * (1 - p) / bn[b]));
		bins_checked++;
	}
	CHECK(bins_checked >= 5);
}

static void test_determinism(void)
{
	nba_league a, b, c;
	CHECK_INT(nba_generate(7, 2, &a), 0);
	CHECK_INT(nba_generate(7, 2, &b), 0);
	CHECK_INT(nba_generate(8, 2, &c), 0);
	char pa[64], pb[64], pc[64];
	snprintf(pa, sizeof pa, "%s", temp_path());
	snprintf(pb, sizeof pb, "%s", temp_path());
	snprintf(pc, sizeof pc, "%s", temp_path());
	CHECK_INT(nba_write_csv(&a, pa), 0);
	CHECK_INT(nba_write_csv(&b, pb), 0);
	CHECK_INT(nba_write_csv(&c, pc), 0);
	size_t na = 0, nb = 0, nc = 0;
	char *ta = read_all(pa, &na), *tb = read_all(pb, &nb), *tc = read_all(pc, &nc);
	CHECK(ta && tb && tc);
	CHECK(na > 100000 && na == nb && memcmp(ta, tb, na) == 0);
	CHECK(na != nc || memcmp(ta, tc, na) != 0);
	/* The first lines, as the format promises them. */
	CHECK(strncmp(ta,
	              "GAME_ID,GAME_DATE,TEAM_ABBREVIATION,MATCHUP,WL,PTS,FGM,FGA,FG3M,FG3A,"
	              "FTM,FTA,OREB,DREB,AST,TOV,STL,BLK,PF,PLUS_MINUS\n00219",
	              strlen("GAME_ID,GAME_DATE,TEAM_ABBREVIATION,MATCHUP,WL,PTS,FGM,FGA,FG3M,"
	                     "FG3A,FTM,FTA,OREB,DREB,AST,TOV,STL,BLK,PF,PLUS_MINUS\n00219")) == 0);
	free(ta);
	free(tb);
	free(tc);
	unlink(pa);
	unlink(pb);
	unlink(pc);
	nba_league_free(&a);
	nba_league_free(&b);
	nba_league_free(&c);
}

/* ---- the CSV round trip ------------------------------------------------------------------- */

static bool same_line(const nba_team_line *a, const nba_team_line *b)
{
	return memcmp(a, b, sizeof *a) == 0;
}

static void test_round_trip(const nba_league *l)
{
	char path[64];
	snprintf(path, sizeof path, "%s", temp_path());
	CHECK_INT(nba_write_csv(l, path), 0);
	nba_league r;
	char err[256] = "";
	CHECK_INT(nba_load_csv(path, &r, err, sizeof err), 0);
	CHECK_STR(err, "");
	CHECK_INT(r.n_games, l->n_games);
	CHECK_INT(r.n_teams, l->n_teams);
	CHECK_INT(r.seasons, l->seasons);
	for (int t = 0; t < r.n_teams; t++)
		CHECK_STR(r.teams[t], l->teams[t]);
	size_t diff = 0;
	for (size_t i = 0; i < r.n_games && i < l->n_games; i++) {
		const nba_game *a = &l->games[i], *b = &r.games[i];
		diff += a->game_id != b->game_id || a->date != b->date || a->season != b->season ||
		        a->home != b->home || a->away != b->away || a->home_win != b->home_win ||
		        !same_line(&a->home_line, &b->home_line) ||
		        !same_line(&a->away_line, &b->away_line) || !isnan(b->true_home_prob);
	}
	CHECK_INT(diff, 0);
	nba_league_free(&r);
	unlink(path);
}

/* Two games as the public team game log exports them: extra columns in the export's own order,
 * quoted names, CRLF line ends, the away row first in one game. */
static const char real_export[] =
    "SEASON_ID,TEAM_ID,TEAM_ABBREVIATION,TEAM_NAME,GAME_ID,GAME_DATE,MATCHUP,WL,MIN,FGM,FGA,"
    "FG_PCT,FG3M,FG3A,FG3_PCT,FTM,FTA,FT_PCT,OREB,DREB,REB,AST,STL,BLK,TOV,PF,PTS,PLUS_MINUS,"
    "VIDEO_AVAILABLE\r\n"
    "22023,1610612747,LAL,\"Los Angeles Lakers\",0022300061,2023-10-24,LAL @ DEN,L,240,41,90,"
    "0.456,10,29,0.345,15,20,0.75,11,31,42,23,5,4,12,16,107,-12,1\r\n"
    "22023,1610612743,DEN,\"Denver Nuggets\",0022300061,2023-10-24,DEN vs. LAL,W,240,48,91,"
    "0.527,14,34,0.412,9,12,0.75,9,33,42,29,9,6,12,15,119,12,1\r\n"
    "22023,1610612744,GSW,\"Golden State Warriors\",0022300062,2023-10-24,GSW vs. PHX,L,240,36,"
    "93,0.387,13,41,0.317,19,23,0.826,14,36,50,22,11,5,13,21,104,-4,1\r\n"
    "22023,1610612756,PHX,Phoenix Suns,0022300062,2023-10-24,PHX @ GSW,W,240,42,87,0.483,9,29,"
    "0.31,15,19,0.789,8,38,46,26,6,7,18,21,108,4,1\r\n";

static void test_real_export(void)
{
	nba_league l;
	char err[256] = "";
	CHECK_INT(nba_parse_csv(real_export, strlen(real_export), &l, err, sizeof err), 0);
	CHECK_STR(err, "");
	CHECK_INT(l.n_games, 2);
	CHECK_INT(l.n_teams, 4);
	CHECK_INT(l.seasons, 1);
	if (l.n_games == 2) {
		CHECK_STR(l.teams[0], "DEN");
		CHECK_STR(l.teams[1], "GSW");
		CHECK_STR(l.teams[2], "LAL");
		CHECK_STR(l.teams[3], "PHX");
		const nba_game *g = &l.games[0];
		CHECK_INT(g->game_id, 22300061);
		CHECK_INT(g->date, 19654); /* 2023-10-24 */
		CHECK_INT(g->home, 0);
		CHECK_INT(g->away, 2);
		CHECK(g->home_win);
		nba_team_line den = {119, 48, 91, 14, 34, 9, 12, 9, 33, 29, 12, 9, 6, 15, 12};
		nba_team_line lal = {107, 41, 90, 10, 29, 15, 20, 11, 31, 23, 12, 5, 4, 16, -12};
		CHECK(same_line(&g->home_line, &den));
		CHECK(same_line(&g->away_line, &lal));
		CHECK(isnan(g->true_home_prob));
		g = &l.games[1];
		CHECK_INT(g->game_id, 22300062);
		CHECK_INT(g->home, 1);
		CHECK_INT(g->away, 3);
		CHECK(!g->home_win);
		CHECK_INT(g->away_line.pts, 108);
		CHECK_INT(g->home_line.tov, 13);
	}
	nba_league_free(&l);
}

/* A file read in chunks of every size up to its own: quoted fields (one across a line end) and
 * CRLF line ends straddle the chunk edges, and the league is the one parsed from the text whole. */
static void test_chunk_boundaries(void)
{
	static const char text[] = "SEASON_ID,TEAM_ID,TEAM_ABBREVIATION,TEAM_NAME,GAME_ID,GAME_"
	                           "DATE,MATCHUP,WL,PTS,FGM,FGA,"
	                           "FG3M,FG3A,FTM,FTA,OREB,DREB,AST,TOV,STL,BLK,PF,PLUS_MINUS\r\n"
	                           "22023,1,LAL,\"Los Angeles\r\n\"\"Lakers\"\", "
	                           "LA\",0022300061,2023-10-24,LAL @ DEN,L,107,41,"
	                           "90,10,29,15,20,11,31,23,12,5,4,16,-12\r\n"
	                           "\r\n"
	                           "22023,2,DEN,\"Denver\nNuggets\",0022300061,2023-10-24,DEN vs. "
	                           "LAL,W,119,48,91,14,34,9,12,"
	                           "9,33,29,12,9,6,15,12\r\n"
	                           "22023,3,GSW,\"\",0022300062,2023-10-26,GSW vs. "
	                           "PHX,L,104,36,93,13,41,19,23,14,36,22,13,"
	                           "11,5,21,-4\n"
	                           "22023,4,PHX,Phoenix Suns,0022300062,2023-10-26,PHX @ "
	                           "GSW,W,108,42,87,9,29,15,19,8,38,26,"
	                           "18,6,7,21,4";
	nba_league whole, l;
	char err[256] = "";
	CHECK_INT(nba_parse_csv(text, strlen(text), &whole, err, sizeof err), 0);
	CHECK_STR(err, "");
	CHECK_INT(whole.n_games, 2);
	char *path = temp_path();
	write_text(path, text);
	for (size_t chunk = 1; chunk <= sizeof text; chunk++) {
		nba_csv_set_chunk(chunk);
		CHECK_INT(nba_load_csv(path, &l, err, sizeof err), 0);
		CHECK_INT(l.n_games, whole.n_games);
		CHECK_INT(l.n_teams, whole.n_teams);
		if (l.n_games == whole.n_games)
			CHECK(memcmp(l.games, whole.games, whole.n_games * sizeof *l.games) == 0 ||
			      whole.n_games == 0);
		CHECK(memcmp(l.teams, whole.teams, sizeof l.teams) == 0);
		nba_league_free(&l);
	}
	nba_csv_set_chunk(0);
	unlink(path);
	nba_league_free(&whole);
}

/* ---- rejections --------------------------------------------------------------------------- */

#define HEADER                                                                                     \
	"GAME_ID,GAME_DATE,TEAM_ABBREVIATION,MATCHUP,WL,PTS,FGM,FGA,FG3M,FG3A,FTM,FTA,OREB,DREB,"  \
	"AST,TOV,STL,BLK,PF,PLUS_MINUS\n"
#define DEN "0022300001,2023-10-24,DEN,DEN vs. LAL,W,119,48,91,14,34,9,12,9,33,29,12,9,6,15,12\n"
#define LAL "0022300001,2023-10-24,LAL,LAL @ DEN,L,107,41,90,10,29,15,20,11,31,23,12,5,4,16,-12\n"

static void expect_error(int line, const char *text, const char *want)
{
	nba_league l;
	char err[256] = "";
	int rc = nba_parse_csv(text, strlen(text), &l, err, sizeof err);
	if (rc != -1 || strcmp(err, want) != 0) {
		check_failures++;
		fprintf(stderr, "%s:%d: got %d \"%s\", expected \"%s\"\n", __FILE__, line, rc, err,
		        want);
	}
	check_count++;
	CHECK(l.games == NULL && l.n_games == 0);

	/* A file is read a chunk at a time: wherever the chunks end, the same message. */
	char *path = temp_path(), want_file[512];
	write_text(path, text);
	snprintf(want_file, sizeof want_file, "%s:%s", path, want);
	static const size_t chunks[] = {1, 2, 3, 5, 8, 13, 64, 0};
	for (size_t i = 0; i < sizeof chunks / sizeof *chunks; i++) {
		nba_csv_set_chunk(chunks[i]);
		rc = nba_load_csv(path, &l, err, sizeof err);
		if (rc != -1 || strcmp(err, want_file) != 0) {
			check_failures++;
			fprintf(stderr, "%s:%d: chunk %zu: got %d \"%s\", expected \"%s\"\n",
			        __FILE__, line, chunks[i], rc, err, want_file);
		}
		check_count++;
	}
	nba_csv_set_chunk(0);
	unlink(path);
}
#define EXPECT_ERROR(text, want) expect_error(__LINE__, text, want)

static void test_rejections(void)
{
	/* The valid base that the cases below each break in one place. */
	nba_league l;
	char err[256];
	const char *ok = HEADER DEN LAL;
	CHECK_INT(nba_parse_csv(ok, strlen(ok), &l, err, sizeof err), 0);
	nba_league_free(&l);

	EXPECT_ERROR("", "1:1: empty file");
	EXPECT_ERROR(HEADER, "2:1: no games after the header");
	EXPECT_ERROR("GAME_ID,TEAM_ABBREVIATION,MATCHUP,WL,PTS,FGM,FGA,FG3M,FG3A,FTM,FTA,OREB,DREB,"
	             "AST,TOV,STL,BLK,PF,PLUS_MINUS\n" DEN LAL,
	             "1:1: missing column GAME_DATE");
	EXPECT_ERROR("GAME_ID,PTS,GAME_DATE,TEAM_ABBREVIATION,MATCHUP,WL,PTS\n",
	             "1:52: duplicate column PTS (first at column 9)");
	EXPECT_ERROR(HEADER "0022300001,2023-10-24,DEN,DEN vs. LAL,W,1x2,48,91,14,34,9,12,9,33,29,"
	                    "12,9,6,15,12\n" LAL,
	             "2:41: PTS is not an integer: '1x2'");
	EXPECT_ERROR(HEADER "0022300001,2023-10-24,DEN,DEN vs. LAL,W,119,-48,91,14,34,9,12,9,33,29,"
	                    "12,9,6,15,12\n" LAL,
	             "2:45: FGM is not a count (it is negative): '-48'");
	EXPECT_ERROR(HEADER "0022300001,2023-13-24,DEN,DEN vs. LAL,W,119,48,91,14,34,9,12,9,33,29,"
	                    "12,9,6,15,12\n" LAL,
	             "2:12: GAME_DATE is not a date (YYYY-MM-DD): '2023-13-24'");
	EXPECT_ERROR(HEADER "0022300001,2023-02-29,DEN,DEN vs. LAL,W,119,48,91,14,34,9,12,9,33,29,"
	                    "12,9,6,15,12\n" LAL,
	             "2:12: GAME_DATE is not a date (YYYY-MM-DD): '2023-02-29'");
	EXPECT_ERROR(HEADER "0022300001,2023-10-24,DEN,DEN v LAL,W,119,48,91,14,34,9,12,9,33,29,12,"
	                    "9,6,15,12\n" LAL,
	             "2:27: MATCHUP is not 'TEAM vs. OPP' or 'TEAM @ OPP': 'DEN v LAL'");
	EXPECT_ERROR(HEADER "0022300001,2023-10-24,DEN,LAL vs. DEN,W,119,48,91,14,34,9,12,9,33,29,"
	                    "12,9,6,15,12\n" LAL,
	             "2:27: MATCHUP 'LAL vs. DEN' is not a game of TEAM_ABBREVIATION 'DEN'");
	EXPECT_ERROR(HEADER DEN, "2:1: game 22300001 has only one row");
	EXPECT_ERROR(HEADER DEN LAL DEN,
	             "4:1: game 22300001 has a third row (after lines 2 and 3)");
	EXPECT_ERROR(HEADER "0022300001,2023-10-24,DEN,DEN vs. LAL,W,118,48,91,14,34,9,12,9,33,29,"
	                    "12,9,6,15,12\n" LAL,
	             "2:41: PTS 118 is not 2*FGM + FG3M + FTM = 119");
	EXPECT_ERROR(HEADER "0022300001,2023-10-24,DEN,DEN vs. LAL,W,119,48,91,14,34,9,12,9,33,29,"
	                    "12,9,6,15\n" LAL,
	             "2:79: 19 fields, the header has 20");
	EXPECT_ERROR(HEADER DEN "0022300001,2023-10-24,LAL,LAL @ DEN,W,107,41,90,10,29,15,20,11,31,"
	                        "23,12,5,4,16,-12\n",
	             "3:37: WL 'W' disagrees with the score 107-119");
	EXPECT_ERROR(HEADER DEN "0022300001,2023-10-24,LAL,LAL @ DEN,L,107,41,90,10,29,15,20,11,31,"
	                        "23,12,5,4,16,-11\n",
	             "3:80: PLUS_MINUS -11 is not PTS 107 minus the opponent's 119");
	EXPECT_ERROR(HEADER DEN "0022300001,2023-10-25,LAL,LAL @ DEN,L,107,41,90,10,29,15,20,11,31,"
	                        "23,12,5,4,16,-12\n",
	             "3:12: game 22300001: GAME_DATE differs from line 2's");
	EXPECT_ERROR(HEADER DEN "0022300001,2023-10-24,LAL,LAL vs. DEN,L,107,41,90,10,29,15,20,11,"
	                        "31,23,12,5,4,16,-12\n",
	             "3:27: game 22300001: both rows are home ('vs.') rows (see line 2)");
	EXPECT_ERROR(HEADER DEN "0022300001,2023-10-24,LAL,LAL @ BOS,L,107,41,90,10,29,15,20,11,31,"
	                        "23,12,5,4,16,-12\n",
	             "3:27: game 22300001: MATCHUP does not mirror line 2's");
	EXPECT_ERROR(HEADER "0022300001,2023-10-24,\"DEN,DEN vs. LAL\n",
	             "2:23: unterminated quoted field");
	EXPECT_ERROR(HEADER "0022300001,2023-10-24,\"DEN\"x,DEN vs. LAL\n",
	             "2:28: text after a closing quote");
	EXPECT_ERROR(HEADER "0022300001,2023-10-24,D\xff,D\xff vs. LAL\n",
	             "2:23: TEAM_ABBREVIATION is not a team abbreviation: 'D?'");

	/* A 31st team. */
	char big[8192], *p = big;
	p += sprintf(p, "%s", HEADER);
	for (int i = 0; i < 16; i++) {
		p += sprintf(
		    p, "%d,2023-10-24,H%02d,H%02d vs. A%02d,W,2,1,1,0,0,0,0,0,0,0,0,0,0,0,2\n",
		    i + 1, i, i, i);
		p += sprintf(p,
		             "%d,2023-10-24,A%02d,A%02d @ H%02d,L,0,0,1,0,0,0,0,0,0,0,0,0,0,0,-2\n",
		             i + 1, i, i, i);
	}
	EXPECT_ERROR(big, "32:15: TEAM_ABBREVIATION: more than 30 teams: 'H15'");

	/* The loader names the file. */
	char path[64];
	snprintf(path, sizeof path, "%s", temp_path());
	FILE *f = fopen(path, "w");
	fputs(HEADER DEN
	      "0022300001,2023-10-24,LAL,LAL @ DEN,L,107,41,90,10,29,15,20,11,31,23,12,5,"
	      "4,16,-11\n",
	      f);
	fclose(f);
	char want[256];
	snprintf(want, sizeof want,
	         "%s:3:80: PLUS_MINUS -11 is not PTS 107 minus the opponent's 119", path);
	CHECK_INT(nba_load_csv(path, &l, err, sizeof err), -1);
	CHECK_STR(err, want);
	unlink(path);
	CHECK_INT(nba_load_csv("/nonexistent/nba.csv", &l, err, sizeof err), -1);
	CHECK_STR(err, "/nonexistent/nba.csv: No such file or directory");
}

/* ---- features ----------------------------------------------------------------------------- */

static nba_team_line box(int pts, int fgm, int fga, int fg3m, int ftm, int fta, int oreb, int dreb,
                         int tov)
{
	return (nba_team_line){.pts = pts,
	                       .fgm = fgm,
	                       .fga = fga,
	                       .fg3m = fg3m,
	                       .fg3a = fg3m + 10,
	                       .ftm = ftm,
	                       .fta = fta,
	                       .oreb = oreb,
	                       .dreb = dreb,
	                       .tov = tov};
}

static double poss(const nba_team_line *b)
{
	return b->fga - b->oreb + b->tov + 0.44 * b->fta;
}

static double elo_shift(double edge, int margin, bool home_win)
{
	double expect = 1.0 / (1.0 + pow(10.0, -edge / 400.0));
	double winner_edge = home_win ? edge : -edge;
	double mov = pow(fabs((double)margin) + 3.0, 0.8) / (7.5 + 0.006 * winner_edge);
	return 20.0 * mov * ((home_win ? 1.0 : 0.0) - expect);
}

/* Three games among teams 0, 1, 2, every feature worked out by hand from the box scores. */
static void test_features_by_hand(void)
{
	nba_game g[3] = {
	    {.game_id = 1, .date = 100, .home = 0, .away = 1, .home_win = true},
	    {.game_id = 2, .date = 101, .home = 2, .away = 0, .home_win = false},
	    {.game_id = 3, .date = 103, .home = 1, .away = 2, .home_win = true},
	};
	g[0].home_line = box(110, 40, 85, 12, 18, 22, 10, 35, 14);
	g[0].away_line = box(100, 38, 88, 10, 14, 20, 9, 32, 12);
	g[1].home_line = box(95, 35, 90, 9, 16, 18, 12, 30, 15);
	g[1].away_line = box(105, 40, 86, 11, 14, 19, 8, 36, 11);
	g[2].home_line = box(120, 45, 90, 15, 15, 20, 11, 38, 10);
	g[2].away_line = box(99, 37, 84, 8, 17, 24, 10, 29, 16);
	for (int i = 0; i < 3; i++) {
		g[i].home_line.plus_minus = g[i].home_line.pts - g[i].away_line.pts;
		g[i].away_line.plus_minus = -g[i].home_line.plus_minus;
		g[i].true_home_prob = NAN;
	}
	nba_features *f = nba_features_new(3);
	float x[3][NBA_N_FEATURES];
	for (int i = 0; i < 3; i++)
		nba_features_game(f, &g[i], x[i]);
	nba_features_free(f);

	/* Game 1: no history; both teams at the priors, fully rested, Elo level. */
	for (int k = 0; k < 7; k++)
		CHECK_NEAR(x[0][k], 0, 0);
	CHECK_NEAR(x[0][7], 7, 0);
	CHECK_NEAR(x[0][8], 7, 0);
	CHECK_NEAR(x[0][9], 0, 0);
	CHECK_NEAR(x[0][10], 0, 0);
	CHECK_NEAR(x[0][11], 100, 0);
	CHECK_NEAR(x[0][12], (float)(1 / (1 + pow(10, -0.25))), 0);
	CHECK_NEAR(x[0][13], 0, 0);
	CHECK_NEAR(x[0][14], 0, 0);
	CHECK_NEAR(x[0][15], 0, 0);

	/* Game 2: team 2 (home) has no games, team 0 (away) one: its window is game 1 from the home
	 * side. Features are floats, so the hand values are compared after the same rounding. */
	const nba_team_line *a = &g[0].home_line, *b = &g[0].away_line;
	double gp = (poss(a) + poss(b)) / 2;
	double ortg0 = 100 * a->pts / gp, drtg0 = 100 * b->pts / gp;
	double tol = 1e-4; /* float resolution at 100 is 8e-6; the ratios are formed differently */
	CHECK_NEAR(x[1][0], 112 - ortg0, tol);
	CHECK_NEAR(x[1][1], 112 - drtg0, tol);
	CHECK_NEAR(x[1][2], 99 - gp, tol);
	CHECK_NEAR(x[1][3], 0.54 - (a->fgm + 0.5 * a->fg3m) / a->fga, 1e-6);
	CHECK_NEAR(x[1][4], 0.13 - a->tov / poss(a), 1e-6);
	CHECK_NEAR(x[1][5], 0.23 - (double)a->oreb / (a->oreb + b->dreb), 1e-6);
	CHECK_NEAR(x[1][6], 0.20 - (double)a->ftm / a->fga, 1e-6);
	CHECK_NEAR(x[1][7], 7, 0); /* team 2's first game */
	CHECK_NEAR(x[1][8], 0, 0); /* team 0 played yesterday */
	CHECK_NEAR(x[1][9], 0, 0);
	CHECK_NEAR(x[1][10], 1, 0); /* ... a back-to-back */
	/* Elo after one game, exactly: the same arithmetic as the rating, to the last bit. */
	double elo0 = 1500 + elo_shift(100, 10, true);
	double edge = 1500 + 100 - elo0;
	CHECK_NEAR(x[1][11], (float)edge, 1e-9);
	CHECK_NEAR(x[1][12], (float)(1 / (1 + pow(10, -edge / 400))), 1e-9);
	CHECK_NEAR(x[1][13], 0.5 - 1.0, 0);
	CHECK_NEAR(x[1][14], 0 - 10, 0);
	CHECK_NEAR(x[1][15], 0.5 - 0.5, 0); /* team 0 has no road games yet */

	/* Game 3: team 1 (home) lost game 1 away, team 2 (away) lost game 2 at home. */
	const nba_team_line *c = &g[1].home_line, *d = &g[1].away_line;
	double gp1 = gp, gp2 = (poss(c) + poss(d)) / 2;
	CHECK_NEAR(x[2][0], 100 * b->pts / gp1 - 100 * c->pts / gp2, tol);
	CHECK_NEAR(x[2][1], 100 * a->pts / gp1 - 100 * d->pts / gp2, tol);
	CHECK_NEAR(x[2][2], gp1 - gp2, tol);
	CHECK_NEAR(x[2][7], 2, 0); /* days 100 -> 103: two days off */
	CHECK_NEAR(x[2][8], 1, 0); /* days 101 -> 103 */
	double elo1 = 1500 - elo_shift(100, 10, true);
	double elo2 = 1500 + elo_shift(1500 + 100 - elo0, -10, false);
	CHECK_NEAR(x[2][11], (float)(elo1 + 100 - elo2), 1e-9);
	CHECK_NEAR(x[2][13], 0, 0);
	CHECK_NEAR(x[2][14], -10 - -10, 0);
	/* Team 1's home record 0-0 (1/2), team 2's road record 0-0 (1/2). */
	CHECK_NEAR(x[2][15], 0, 0);
}

/* Fifteen games between two teams: after the tenth, the oldest game leaves the window, and the
 * features must equal ratios over the last ten games recomputed from scratch. */
static void test_window_slides(void)
{
	nba_features *f = nba_features_new(2);
	nba_game g[15];
	for (int i = 0; i < 15; i++) {
		g[i] = (nba_game){.game_id = (uint32_t)i + 1,
		                  .date = 200 + 2 * i,
		                  .home = i % 2,
		                  .away = 1 - i % 2};
		g[i].home_line = box(100 + 2 * i, 38 + i % 5, 85 + i % 7, 10 + i % 3,
		                     24 - 2 * (i % 5), 25, 8 + i % 4, 33, 12 + i % 3);
		g[i].home_line.pts =
		    2 * g[i].home_line.fgm + g[i].home_line.fg3m + g[i].home_line.ftm;
		g[i].away_line = box(0, 37, 86, 9, 17, 21, 11 - i % 3, 31 + i % 2, 14);
		g[i].away_line.pts = 2 * 37 + 9 + 17;
		g[i].home_win = g[i].home_line.pts > g[i].away_line.pts;
	}
	float x[NBA_N_FEATURES];
	for (int i = 0; i < 14; i++)
		nba_features_game(f, &g[i], x);
	nba_features_game(f, &g[14], x); /* home: team 0; its games 4 .. 13 form the window */
	double pts[2] = {0}, opp[2] = {0}, gposs[2] = {0}, fgm[2] = {0}, fg3m[2] = {0},
	       fga[2] = {0};
	for (int i = 4; i < 14; i++) {
		for (int side = 0; side < 2; side++) {
			const nba_team_line *own = side ? &g[i].away_line : &g[i].home_line;
			const nba_team_line *other = side ? &g[i].home_line : &g[i].away_line;
			int team = side ? g[i].away : g[i].home;
			pts[team] += own->pts;
			opp[team] += other->pts;
			gposs[team] += (poss(own) + poss(other)) / 2;
			fgm[team] += own->fgm;
			fg3m[team] += own->fg3m;
			fga[team] += own->fga;
		}
	}
	CHECK_NEAR(x[0], 100 * pts[0] / gposs[0] - 100 * pts[1] / gposs[1], 1e-4);
	CHECK_NEAR(x[1], 100 * opp[0] / gposs[0] - 100 * opp[1] / gposs[1], 1e-4);
	CHECK_NEAR(x[2], gposs[0] / 10 - gposs[1] / 10, 1e-4);
	CHECK_NEAR(x[3], (fgm[0] + 0.5 * fg3m[0]) / fga[0] - (fgm[1] + 0.5 * fg3m[1]) / fga[1],
	           1e-6);
	CHECK_NEAR(x[7], 1, 0); /* every other day */
	nba_features_free(f);
}

/* O(1) per game: the state is allocated once; folding in thousands of games allocates nothing
 * (glibc's count of bytes in use stays put) and the features stay finite. */
static void test_state_does_not_grow(const nba_league *l)
{
	nba_features *f = nba_features_new(l->n_teams);
	float x[NBA_N_FEATURES];
	struct mallinfo2 before = mallinfo2();
	int not_finite = 0;
	for (size_t i = 0; i < l->n_games; i++) {
		nba_features_game(f, &l->games[i], x);
		for (int k = 0; k < NBA_N_FEATURES; k++)
			not_finite += !isfinite(x[k]);
	}
	struct mallinfo2 after = mallinfo2();
	CHECK_INT(after.uordblks, before.uordblks);
	CHECK_INT(not_finite, 0);
	nba_features_free(f);

	for (int i = 0; i < NBA_N_FEATURES; i++)
		CHECK(nba_feature_name(i) && nba_feature_name(i)[0]);
	CHECK(nba_feature_name(NBA_N_FEATURES) == NULL);
	CHECK_STR(nba_feature_name(11), "elo_diff");
}

static void test_dataset(const nba_league *l)
{
	nba_dataset d;
	CHECK_INT(nba_dataset_build(l, &d), 0);
	CHECK_INT(d.n, l->n_games);
	size_t wrong = 0;
	for (size_t i = 0; i < d.n; i++)
		wrong += d.y[i] != l->games[i].home_win || d.season[i] != l->games[i].season ||
		         d.true_prob[i] != l->games[i].true_home_prob;
	CHECK_INT(wrong, 0);
	nba_dataset v = nba_dataset_seasons(&d, 1, 2);
	CHECK_INT(v.n, 2 * NBA_GAMES_PER_SEASON);
	CHECK(v.x == d.x + NBA_GAMES_PER_SEASON * NBA_N_FEATURES);
	CHECK(v.season[0] == 1 && v.season[v.n - 1] == 2);
	CHECK_INT(nba_dataset_seasons(&d, 9, 9).n, 0);
	/* Elo carries the strength the generator hides: the better-rated home team wins more. */
	size_t n_fav = 0, fav_wins = 0;
	for (size_t i = NBA_GAMES_PER_SEASON; i < d.n; i++)
		if (d.x[i * NBA_N_FEATURES + 12] > 0.6f) {
			n_fav++;
			fav_wins += d.y[i];
		}
	CHECK(n_fav > 500 && (double)fav_wins / n_fav > 0.62);
	nba_dataset_free(&d);
	CHECK(d.x == NULL && d.n == 0);
	nba_dataset_free(NULL);
}

int main(void)
{
	nba_league l;
	CHECK_INT(nba_generate(2025, 5, &l), 0);
	test_schedule_and_box_scores(&l);
	test_calibration(&l);
	test_determinism();
	test_round_trip(&l);
	test_real_export();
	test_chunk_boundaries();
	test_rejections();
	test_features_by_hand();
	test_window_slides();
	test_state_does_not_grow(&l);
	test_dataset(&l);
	nba_league_free(&l);
	nba_league_free(NULL);
	nba_league empty;
	CHECK_INT(nba_generate(1, -1, &empty), -1);
	return CHECK_DONE();
}

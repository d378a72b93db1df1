/* fuzz_nba_csv.c: libFuzzer harness for the NBA game log parser: any input is a league or one
 * "LINE:COL: what" error, and an accepted league keeps every promise of nba.h. */
#include "nba.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A violated promise of the parser is a crash, which libFuzzer reports with the input. */
#define REQUIRE(cond)                                                                              \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

static void check_line(const nba_team_line *b, int opp_pts)
{
	REQUIRE(b->pts == 2 * (b->fgm - b->fg3m) + 3 * b->fg3m + b->ftm);
	REQUIRE(b->fgm <= b->fga && b->fg3m <= b->fg3a && b->fg3a <= b->fga && b->ftm <= b->fta);
	REQUIRE(b->plus_minus == b->pts - opp_pts);
}

/* An error names a line and a column, both from 1, and stays one printable line. */
static void check_error(const char *err)
{
	unsigned line = 0, col = 0;
	int end = 0;
	REQUIRE(sscanf(err, "%u:%u: %n", &line, &col, &end) == 2 && end > 0);
	REQUIRE(line >= 1 && col >= 1 && err[end] != '\0');
	for (const char *p = err; *p; p++)
		REQUIRE((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The parser takes a length, not a terminator: an exactly sized copy lets ASan catch any
	 * read past the end. */
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	nba_league l;
	char err[256];
	if (nba_parse_csv(text, size, &l, err, sizeof err) == 0) {
		REQUIRE(l.n_games > 0 && l.n_teams >= 2 && l.n_teams <= NBA_TEAMS);
		REQUIRE(l.seasons >= 1);
		for (size_t i = 0; i < l.n_games; i++) {
			const nba_game *g = &l.games[i];
			REQUIRE(g->home >= 0 && g->home < l.n_teams && g->away >= 0 &&
			        g->away < l.n_teams && g->home != g->away);
			REQUIRE(g->season >= 0 && g->season < l.seasons);
			REQUIRE(i == 0 || g->date > g[-1].date ||
			        (g->date == g[-1].date && g->game_id > g[-1].game_id));
			REQUIRE(g->home_win == (g->home_line.pts > g->away_line.pts));
			check_line(&g->home_line, g->away_line.pts);
			check_line(&g->away_line, g->home_line.pts);
		}
		/* The features accept whatever the parser accepts. */
		nba_dataset d;
		if (nba_dataset_build(&l, &d) == 0) {
			REQUIRE(d.n == l.n_games);
			for (size_t i = 0; i < d.n * NBA_N_FEATURES; i++)
				REQUIRE(isfinite(d.x[i]));
			nba_dataset_free(&d);
		}
		nba_league_free(&l);
	} else {
		check_error(err);
		REQUIRE(l.games == NULL && l.n_games == 0);
	}
	/* A buffer too small for the message still gets a terminated prefix. */
	char tiny[8];
	if (nba_parse_csv(text, size, &l, tiny, sizeof tiny) == 0)
		nba_league_free(&l);
	else
		REQUIRE(strlen(tiny) < sizeof tiny);
	free(text);
	return 0;
}

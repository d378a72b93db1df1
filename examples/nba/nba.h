/* nba.h: the NBA win-prediction pipeline that `shotclock demo` profiles: data, features, models,
 * bets. Built on the C standard library only; shotclock's own API is used by the programs around
 * it (nba-predict, the demo), never in here. */
#ifndef NBA_H
#define NBA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- data: a generated league history (data.c) and the CSV game log (csv.c) ----------------- */

#define NBA_TEAMS            30
#define NBA_GAMES_PER_SEASON 1230

/* One row of a team game log (the column layout of the public NBA team game log): one team in
 * one game. */
typedef struct nba_team_line {
	int pts, fgm, fga, fg3m, fg3a, ftm, fta, oreb, dreb, ast, tov, stl, blk, pf, plus_minus;
} nba_team_line;

/* One game: the home and the away rows joined. */
typedef struct nba_game {
	uint32_t game_id;
	int32_t date;   /* days since 1970-01-01 */
	int season;     /* 0-based season index, in date order */
	int home, away; /* team indices into nba_league.teams */
	nba_team_line home_line, away_line;
	bool home_win;
	double
	    true_home_prob; /* the generator's probability; NAN for games loaded from a real log */
} nba_game;

typedef struct nba_league {
	nba_game *games; /* in date order */
	size_t n_games;
	char teams[NBA_TEAMS][4]; /* abbreviations, NUL-terminated */
	int n_teams;
	int seasons;
} nba_league;

/* A deterministic league history: `seasons` seasons of NBA_GAMES_PER_SEASON games among
 * NBA_TEAMS teams (docs in data.c: team strength drifting over a season, home advantage, rest
 * days and back-to-backs, pace, box scores consistent with the points). 0 or -1 (out of memory). */
int nba_generate(uint64_t seed, int seasons, nba_league *out);
void nba_league_free(nba_league *l);

/* The CSV game log: header GAME_ID,GAME_DATE,TEAM_ABBREVIATION,MATCHUP,WL,PTS,FGM,FGA,FG3M,FG3A,
 * FTM,FTA,OREB,DREB,AST,TOV,STL,BLK,PF,PLUS_MINUS; one row per team per game; MATCHUP "BOS vs.
 * NYK" (home) or "NYK @ BOS" (away); GAME_DATE YYYY-MM-DD. Returns 0 or -1 with errno. */
int nba_write_csv(const nba_league *l, const char *path);
/* Parses a game log (pure: the fuzzer's entry). Returns 0, or -1 with err = "LINE:COL: what is
 * wrong" (1-based line and column). Games need both rows; seasons split where two consecutive
 * dates are more than 60 days apart. */
int nba_parse_csv(const char *text, size_t len, nba_league *out, char *err, size_t err_cap);
/* Reads and parses path; err = "PATH:LINE:COL: ..." or "PATH: strerror". */
int nba_load_csv(const char *path, nba_league *out, char *err, size_t err_cap);

/* ---- features (features.c): incremental, O(1) per game ------------------------------------- */

#define NBA_N_FEATURES 16
#define NBA_WINDOW     10 /* rolling window, games */

typedef struct nba_features nba_features; /* per-team rolling windows and Elo ratings */

nba_features *nba_features_new(int n_teams);
void nba_features_free(nba_features *f);
/* Writes game g's features from what was known before it (home minus away differences of
 * offensive and defensive rating, pace, the four factors, rest, back-to-back, Elo, and home),
 * then folds g's result into the state. */
void nba_features_game(nba_features *f, const nba_game *g, float x[NBA_N_FEATURES]);
const char *nba_feature_name(int i);

/* Every game of a league as rows of features, with the label and the generator's probability. */
typedef struct nba_dataset {
	float *x;          /* n x NBA_N_FEATURES, row-major */
	uint8_t *y;        /* 1 when the home team won */
	double *true_prob; /* the generator's, or NAN */
	int *season;
	size_t n;
} nba_dataset;
int nba_dataset_build(const nba_league *l, nba_dataset *out);
/* The rows of seasons [first, last]: a view into d (no copy). */
nba_dataset nba_dataset_seasons(const nba_dataset *d, int first, int last);
void nba_dataset_free(nba_dataset *d);

/* ---- models (logreg.c, forest.c, gbm.c, model_io.c, metrics.c) --------------------------- */

typedef enum nba_model_kind { NBA_MODEL_LR, NBA_MODEL_RF, NBA_MODEL_GBM } nba_model_kind;

typedef struct nba_model nba_model;

/* Trains on d (deterministic for a seed). NULL when out of memory. */
nba_model *nba_model_train(nba_model_kind kind, const nba_dataset *d, uint64_t seed);
void nba_model_free(nba_model *m);
nba_model_kind nba_model_kind_of(const nba_model *m);
/* "lr", "rf", "gbm"; and back (-1 for an unknown name). */
const char *nba_model_short_name(nba_model_kind kind);
const char *nba_model_long_name(nba_model_kind kind); /* "logistic_regression", ... (the seed's) */
int nba_model_kind_parse(const char *name);
/* P(home win) of one row, and of n rows (x row-major). */
float nba_model_predict_one(const nba_model *m, const float *x);
void nba_model_predict(const nba_model *m, const float *x, size_t n, float *proba);
/* A versioned binary model file. Load: NULL with err on a bad file. */
int nba_model_save(const nba_model *m, const char *path);
nba_model *nba_model_load(const char *path, char *err, size_t err_cap);

typedef struct nba_metrics {
	double accuracy, log_loss, brier, auc;
	size_t n;
} nba_metrics;
void nba_evaluate(const float *proba, const uint8_t *y, size_t n, nba_metrics *out);

/* ---- bets (bets.c) ------------------------------------------------------------------------ */

typedef struct nba_bet {
	uint32_t game_id;
	bool on_home;
	int moneyline;       /* American odds, e.g. -150 or +130 */
	double implied_prob; /* from the moneyline, margin included */
	double model_prob;
	double edge;  /* model_prob - implied_prob */
	double stake; /* fraction of the bankroll: capped Kelly */
} nba_bet;

/* The bookmaker's moneylines for g: the generator's probability (or, without one, 0.5 + home
 * advantage) with a margin and deterministic noise per game. */
void nba_moneylines(const nba_game *g, int *home_ml, int *away_ml);
/* Bets where the model's edge exceeds min_edge; stakes are Kelly fractions capped at kelly_cap.
 * out has room for 2 * n; returns how many. */
size_t nba_recommend(const nba_game *games, const float *home_proba, size_t n, double min_edge,
                     double kelly_cap, nba_bet *out);

#endif

/* csv.c: the team game log as CSV: the writer, and a strict one-pass parser that names the line
 * and column of every problem. */

/*
 * The layout is the public NBA team game log: one row per team per game, columns found by their
 * header names so that a real export, with its extra columns (SEASON_ID, TEAM_ID, TEAM_NAME, MIN,
 * FG_PCT, ...) in its own order, loads as it is; unknown columns are skipped unread. Fields may be
 * quoted (RFC 4180: "" is a quote; a quoted field may span lines); lines may end in CRLF; a UTF-8
 * byte order mark is skipped; blank lines are ignored.
 *
 * The parser is strict where a real export is exact: a row whose points are not 2 FGM + FG3M +
 * FTM, whose makes exceed attempts, or whose PLUS_MINUS and WL disagree with the two teams'
 * points is corrupt, and rejected at its line and column rather than fed to a model.
 *
 * Speed: one pass over the buffer, integers and dates read by hand (no strtol, no strtod, no
 * sscanf), a few allocations per file whatever its length, sized from its count of newlines (or,
 * reading a file, from its size: their untouched pages cost no memory).
 *
 * Memory: nba_load_csv never holds the whole text. It reads a chunk at a time and parses the
 * complete records in it, carrying the incomplete last one over; a record (a quoted field may
 * span lines) that outgrows the chunk grows it. A game's first row waits in a small pool until
 * its second arrives; what stays per game id is a 16-byte slot, so the league itself (~160 bytes
 * a game) is most of the peak.
 */
#include "nba.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SEASON_GAP  60   /* days: a longer break between two game dates starts a new season */
#define MAX_COLUMNS 1024 /* a header wider than this is not a game log */
#define MAX_STAT    9999 /* no box-score number of one team in one game comes near this */
#define SHOW_MAX    40   /* bytes of a bad value quoted in an error */

enum column {
	C_GAME_ID,
	C_GAME_DATE,
	C_TEAM,
	C_MATCHUP,
	C_WL,
	C_PTS,
	C_FGM,
	C_FGA,
	C_FG3M,
	C_FG3A,
	C_FTM,
	C_FTA,
	C_OREB,
	C_DREB,
	C_AST,
	C_TOV,
	C_STL,
	C_BLK,
	C_PF,
	C_PLUS_MINUS,
	N_COLUMNS,
	C_IGNORED = N_COLUMNS,
};

static const char *const column_name[N_COLUMNS] = {"GAME_ID", "GAME_DATE", "TEAM_ABBREVIATION",
                                                   "MATCHUP", "WL",        "PTS",
                                                   "FGM",     "FGA",       "FG3M",
                                                   "FG3A",    "FTM",       "FTA",
                                                   "OREB",    "DREB",      "AST",
                                                   "TOV",     "STL",       "BLK",
                                                   "PF",      "PLUS_MINUS"};

/* Where each box-score column, C_PTS on, lands in a team line. */
static const size_t stat_offset[N_COLUMNS - C_PTS] = {
    offsetof(nba_team_line, pts),       offsetof(nba_team_line, fgm),
    offsetof(nba_team_line, fga),       offsetof(nba_team_line, fg3m),
    offsetof(nba_team_line, fg3a),      offsetof(nba_team_line, ftm),
    offsetof(nba_team_line, fta),       offsetof(nba_team_line, oreb),
    offsetof(nba_team_line, dreb),      offsetof(nba_team_line, ast),
    offsetof(nba_team_line, tov),       offsetof(nba_team_line, stl),
    offsetof(nba_team_line, blk),       offsetof(nba_team_line, pf),
    offsetof(nba_team_line, plus_minus)};

/* ---- dates: days since 1970-01-01 and back (H. Hinnant's civil calendar algorithms) ---------- */

static int32_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int32_t z, int *y, int *m, int *d)
{
	z += 719468;
	int32_t era = (z >= 0 ? z : z - 146096) / 146097;
	int doe = (int)(z - era * 146097);
	int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp + (mp < 10 ? 3 : -9);
	*y = (int)(yoe + era * 400) + (*m <= 2);
}

/* ---- the writer --------------------------------------------------------------------------- */

static void write_row(FILE *f, const nba_game *g, const char *team, const char *opp, bool home,
                      const nba_team_line *b, bool won)
{
	int y, m, d;
	civil_from_days(g->date, &y, &m, &d);
	fprintf(f,
	        "%010" PRIu32
	        ",%04d-%02d-%02d,%s,%s %s %s,%c,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,"
	        "%d,%d\n",
	        g->game_id, y, m, d, team, team, home ? "vs." : "@", opp, won ? 'W' : 'L', b->pts,
	        b->fgm, b->fga, b->fg3m, b->fg3a, b->ftm, b->fta, b->oreb, b->dreb, b->ast, b->tov,
	        b->stl, b->blk, b->pf, b->plus_minus);
}

int nba_write_csv(const nba_league *l, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	for (int c = 0; c < N_COLUMNS; c++)
		fprintf(f, "%s%c", column_name[c], c + 1 < N_COLUMNS ? ',' : '\n');
	for (size_t i = 0; i < l->n_games; i++) {
		const nba_game *g = &l->games[i];
		const char *home = l->teams[g->home], *away = l->teams[g->away];
		write_row(f, g, home, away, true, &g->home_line, g->home_win);
		write_row(f, g, away, home, false, &g->away_line, !g->home_win);
	}
	int failed = ferror(f);
	if (fclose(f) != 0 || failed) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}

/* ---- the parser --------------------------------------------------------------------------- */

/* One team's row, kept until the other row of its game arrives. */
typedef struct row {
	uint32_t game_id;
	int32_t date;
	int team, opp; /* discovery-order indices */
	bool home;
	bool won;
	nba_team_line line;
	size_t line_no;
	size_t col[N_COLUMNS]; /* 1-based column of each field, for errors found after the field */
} row;

/* What stays of a game id once seen: 16 bytes, not a row, so that the rows need not all be kept.
 * Line numbers fit 32 bits: a text of more lines is refused before any row is read. */
typedef struct slot {
	uint32_t game_id;
	uint32_t line_no, line_no2; /* of its first and second rows */
	uint32_t pending;           /* its first row's place in the pool + 1; 0 once joined */
} slot;

typedef struct parser {
	const char *p, *end, *line_start;
	size_t line;
	char *err;
	size_t err_cap;
	uint32_t team_key[NBA_TEAMS];
	int n_teams;
	uint8_t map[MAX_COLUMNS]; /* header field index -> column */
	size_t n_fields;
	size_t rows;
	slot *slots; /* one per game id, in order of first appearance */
	size_t n_slots, slots_cap;
	uint32_t *table; /* open addressing: game id -> slot + 1, at most half full */
	size_t table_mask;
	row *pool; /* first rows waiting for their second */
	size_t n_pool, pool_cap;
	uint32_t *pool_free; /* places in the pool free again */
	size_t n_free;
	nba_game *games;
	size_t n_games, games_cap;
} parser;

typedef struct field {
	const char *s;
	size_t n, col;
} field;

__attribute__((format(printf, 4, 5))) static int fail(parser *ps, size_t line, size_t col,
                                                      const char *fmt, ...)
{
	if (ps->err_cap == 0)
		return -1;
	int k = snprintf(ps->err, ps->err_cap, "%zu:%zu: ", line, col);
	if (k >= 0 && (size_t)k < ps->err_cap) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ps->err + k, ps->err_cap - (size_t)k, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A bad value as an error quotes it: at most SHOW_MAX bytes, anything unprintable as '?', so the
 * message stays one printable line whatever the input holds. */
static const char *show(const field *f, char buf[SHOW_MAX + 4])
{
	size_t n = f->n < SHOW_MAX ? f->n : SHOW_MAX, i;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)f->s[i];
		buf[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (f->n > SHOW_MAX)
		for (int k = 0; k < 3; k++)
			buf[i++] = '.';
	buf[i] = '\0';
	return buf;
}

static int fail_value(parser *ps, const field *f, enum column c, const char *what)
{
	char buf[SHOW_MAX + 4];
	return fail(ps, ps->line, f->col, "%s is not %s: '%s'", column_name[c], what, show(f, buf));
}

static int fail_oom(parser *ps)
{
	errno = ENOMEM;
	return fail(ps, 1, 1, "out of memory");
}

/* Doubles an array (at least 16 elements). */
static int grow(void **a, size_t *cap, size_t size)
{
	size_t ncap = *cap < 16 ? 16 : 2 * *cap;
	void *t = realloc(*a, ncap * size);
	if (!t)
		return -1;
	*a = t;
	*cap = ncap;
	return 0;
}

/* Reads the field at ps->p, leaving ps->p on the ',', line end or end of text after it. A quoted
 * field's value is the text between its quotes, "" left doubled: no column the parser reads may
 * hold a quote, so the value then fails its check, quoted as written. */
static int next_field(parser *ps, field *f)
{
	const char *p = ps->p, *end = ps->end;
	f->col = (size_t)(p - ps->line_start) + 1;
	if (p < end && *p == '"') {
		size_t quote_line = ps->line, quote_col = f->col;
		f->s = ++p;
		for (;;) {
			if (p == end)
				return fail(ps, quote_line, quote_col, "unterminated quoted field");
			if (*p == '"') {
				if (p + 1 < end && p[1] == '"') {
					p += 2;
					continue;
				}
				break;
			}
			if (*p == '\n') {
				ps->line++;
				ps->line_start = p + 1;
			}
			p++;
		}
		f->n = (size_t)(p - f->s);
		p++;
		if (p < end && *p != ',' && *p != '\n' && *p != '\r')
			return fail(ps, ps->line, (size_t)(p - ps->line_start) + 1,
			            "text after a closing quote");
	} else {
		f->s = p;
		while (p < end && *p != ',' && *p != '\n' && *p != '\r')
			p++;
		f->n = (size_t)(p - f->s);
	}
	ps->p = p;
	return 0;
}

/* After a record's last field: consumes its line end. */
static int end_record(parser *ps)
{
	const char *p = ps->p;
	if (p < ps->end && *p == '\r') {
		if (p + 1 < ps->end && p[1] != '\n')
			return fail(ps, ps->line, (size_t)(p - ps->line_start) + 1,
			            "carriage return inside a line");
		p++;
	}
	if (p < ps->end) {
		p++; /* the '\n' */
		ps->line++;
		ps->line_start = p;
	}
	ps->p = p;
	return 0;
}

static bool parse_uint(const field *f, int max_digits, uint64_t *v)
{
	if (f->n == 0 || f->n > (size_t)max_digits)
		return false;
	uint64_t x = 0;
	for (size_t i = 0; i < f->n; i++) {
		unsigned d = (unsigned)(unsigned char)f->s[i] - '0';
		if (d > 9)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

/* A box-score number: digits with a '-' for PLUS_MINUS only, at most MAX_STAT in size. */
static int parse_stat(parser *ps, const field *f, enum column c, int *out)
{
	field digits = *f;
	bool neg = false;
	if (digits.n > 0 && digits.s[0] == '-') {
		neg = true;
		digits.s++;
		digits.n--;
	}
	uint64_t v;
	if (!parse_uint(&digits, 12, &v))
		return fail_value(ps, f, c, "an integer");
	if (neg && c != C_PLUS_MINUS && v != 0)
		return fail_value(ps, f, c, "a count (it is negative)");
	if (v > MAX_STAT)
		return fail_value(ps, f, c, "a plausible number (it is too large)");
	*out = neg ? -(int)v : (int)v;
	return 0;
}

static bool parse_date(const field *f, int32_t *out)
{
	const char *s = f->s;
	if (f->n != 10 || s[4] != '-' || s[7] != '-')
		return false;
	field yf = {s, 4, 0}, mf = {s + 5, 2, 0}, df = {s + 8, 2, 0};
	uint64_t y, m, d;
	if (!parse_uint(&yf, 4, &y) || !parse_uint(&mf, 2, &m) || !parse_uint(&df, 2, &d))
		return false;
	static const int days_in[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > (uint64_t)days_in[m - 1])
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (m == 2 && d == 29 && !leap)
		return false;
	*out = days_from_civil((int)y, (int)m, (int)d);
	return true;
}

/* A team abbreviation (2 or 3 capitals or digits) packed into a key; 0 when it is not one. */
static uint32_t team_key(const char *s, size_t n)
{
	if (n < 2 || n > 3)
		return 0;
	uint32_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return 0;
		k = k << 8 | (uint8_t)c;
	}
	return k;
}

/* The team's discovery-order index, adding it when new; -1 past NBA_TEAMS. */
static int team_index(parser *ps, uint32_t key)
{
	for (int i = 0; i < ps->n_teams; i++)
		if (ps->team_key[i] == key)
			return i;
	if (ps->n_teams == NBA_TEAMS)
		return -1;
	ps->team_key[ps->n_teams] = key;
	return ps->n_teams++;
}

static int parse_team(parser *ps, const field *f, enum column c, uint32_t key, int *out)
{
	char buf[SHOW_MAX + 4];
	*out = team_index(ps, key);
	if (*out < 0)
		return fail(ps, ps->line, f->col, "%s: more than %d teams: '%s'", column_name[c],
		            NBA_TEAMS, show(f, buf));
	return 0;
}

/* MATCHUP: "TEAM vs. OPP" (at home) or "TEAM @ OPP"; TEAM is checked against the row's
 * TEAM_ABBREVIATION once the row is complete. */
static int parse_matchup(parser *ps, const field *f, uint32_t *team, row *r)
{
	const char *s = f->s, *sp = memchr(s, ' ', f->n);
	const char *what = "'TEAM vs. OPP' or 'TEAM @ OPP'";
	if (!sp)
		return fail_value(ps, f, C_MATCHUP, what);
	size_t rest = f->n - (size_t)(sp - s);
	const char *opp;
	if (rest > 5 && memcmp(sp, " vs. ", 5) == 0) {
		r->home = true;
		opp = sp + 5;
	} else if (rest > 3 && memcmp(sp, " @ ", 3) == 0) {
		r->home = false;
		opp = sp + 3;
	} else {
		return fail_value(ps, f, C_MATCHUP, what);
	}
	*team = team_key(s, (size_t)(sp - s));
	uint32_t okey = team_key(opp, (size_t)(s + f->n - opp));
	if (!*team || !okey)
		return fail_value(ps, f, C_MATCHUP, what);
	if (okey == *team)
		return fail_value(ps, f, C_MATCHUP, "a game between two teams");
	return parse_team(ps, f, C_MATCHUP, okey, &r->opp);
}

/* The identities every real box score satisfies. */
static int check_box(parser *ps, const row *r)
{
	const nba_team_line *b = &r->line;
	size_t ln = r->line_no;
	if (b->fgm > b->fga)
		return fail(ps, ln, r->col[C_FGM], "FGM %d exceeds FGA %d", b->fgm, b->fga);
	if (b->fg3m > b->fg3a)
		return fail(ps, ln, r->col[C_FG3M], "FG3M %d exceeds FG3A %d", b->fg3m, b->fg3a);
	if (b->fg3m > b->fgm)
		return fail(ps, ln, r->col[C_FG3M], "FG3M %d exceeds FGM %d", b->fg3m, b->fgm);
	if (b->fg3a > b->fga)
		return fail(ps, ln, r->col[C_FG3A], "FG3A %d exceeds FGA %d", b->fg3a, b->fga);
	if (b->ftm > b->fta)
		return fail(ps, ln, r->col[C_FTM], "FTM %d exceeds FTA %d", b->ftm, b->fta);
	int pts = 2 * b->fgm + b->fg3m + b->ftm;
	if (b->pts != pts)
		return fail(ps, ln, r->col[C_PTS], "PTS %d is not 2*FGM + FG3M + FTM = %d", b->pts,
		            pts);
	return 0;
}

/* One row's side of its game against the other row's points. */
static int check_result(parser *ps, const row *r, int opp_pts)
{
	const nba_team_line *b = &r->line;
	if (b->plus_minus != b->pts - opp_pts)
		return fail(ps, r->line_no, r->col[C_PLUS_MINUS],
		            "PLUS_MINUS %d is not PTS %d minus the opponent's %d", b->plus_minus,
		            b->pts, opp_pts);
	if (r->won != (b->pts > opp_pts))
		return fail(ps, r->line_no, r->col[C_WL], "WL '%c' disagrees with the score %d-%d",
		            r->won ? 'W' : 'L', b->pts, opp_pts);
	return 0;
}

/* The second row of a game: both rows must describe the same game from the two sides. */
static int join(parser *ps, row *first, const row *r)
{
	uint32_t id = r->game_id;
	if (r->date != first->date)
		return fail(ps, r->line_no, r->col[C_GAME_DATE],
		            "game %" PRIu32 ": GAME_DATE differs from line %zu's", id,
		            first->line_no);
	if (r->home == first->home)
		return fail(ps, r->line_no, r->col[C_MATCHUP],
		            "game %" PRIu32 ": both rows are %s rows (see line %zu)", id,
		            r->home ? "home ('vs.')" : "away ('@')", first->line_no);
	if (r->team != first->opp || r->opp != first->team)
		return fail(ps, r->line_no, r->col[C_MATCHUP],
		            "game %" PRIu32 ": MATCHUP does not mirror line %zu's", id,
		            first->line_no);
	if (r->line.pts == first->line.pts)
		return fail(ps, r->line_no, r->col[C_PTS], "game %" PRIu32 " ends level at %d", id,
		            r->line.pts);
	if (check_result(ps, r, first->line.pts) || check_result(ps, first, r->line.pts))
		return -1;
	const row *h = r->home ? r : first, *a = r->home ? first : r;
	if (ps->n_games == ps->games_cap &&
	    grow((void **)&ps->games, &ps->games_cap, sizeof *ps->games))
		return fail_oom(ps);
	nba_game *g = &ps->games[ps->n_games++];
	*g = (nba_game){.game_id = id,
	                .date = r->date,
	                .home = h->team,
	                .away = a->team,
	                .home_line = h->line,
	                .away_line = a->line,
	                .home_win = h->line.pts > a->line.pts,
	                .true_home_prob = NAN};
	return 0;
}

static size_t slot_hash(const parser *ps, uint32_t id)
{
	return (size_t)(((uint64_t)id * 0x9E3779B97F4A7C15ULL) >> 32) & ps->table_mask;
}

/* Doubles the table and refiles every slot: it grows with the game ids seen, so a file costs
 * table memory for its games only, not for a bound on them. */
static int grow_table(parser *ps)
{
	size_t cap = 2 * (ps->table_mask + 1);
	uint32_t *t = calloc(cap, sizeof *t);
	if (!t)
		return -1;
	free(ps->table);
	ps->table = t;
	ps->table_mask = cap - 1;
	for (size_t i = 0; i < ps->n_slots; i++) {
		size_t h = slot_hash(ps, ps->slots[i].game_id);
		while (t[h])
			h = (h + 1) & ps->table_mask;
		t[h] = (uint32_t)(i + 1);
	}
	return 0;
}

/* Files the row under its game id: the first row waits in the pool, the second is joined and
 * frees its place there. */
static int add_row(parser *ps, const row *r)
{
	size_t h = slot_hash(ps, r->game_id);
	while (ps->table[h]) {
		slot *s = &ps->slots[ps->table[h] - 1];
		if (s->game_id == r->game_id) {
			if (!s->pending)
				return fail(ps, r->line_no, r->col[C_GAME_ID],
				            "game %" PRIu32 " has a third row (after lines %" PRIu32
				            " and %" PRIu32 ")",
				            r->game_id, s->line_no, s->line_no2);
			uint32_t at = s->pending - 1;
			s->pending = 0;
			s->line_no2 = (uint32_t)r->line_no;
			ps->pool_free[ps->n_free++] = at;
			return join(ps, &ps->pool[at], r);
		}
		h = (h + 1) & ps->table_mask;
	}
	if (2 * (ps->n_slots + 1) > ps->table_mask + 1) {
		if (grow_table(ps))
			return fail_oom(ps);
		h = slot_hash(ps, r->game_id);
		while (ps->table[h])
			h = (h + 1) & ps->table_mask;
	}
	if (ps->n_slots == ps->slots_cap &&
	    grow((void **)&ps->slots, &ps->slots_cap, sizeof *ps->slots))
		return fail_oom(ps);
	uint32_t at;
	if (ps->n_free) {
		at = ps->pool_free[--ps->n_free];
	} else {
		if (ps->n_pool == ps->pool_cap) {
			size_t cap = ps->pool_cap;
			if (grow((void **)&ps->pool, &ps->pool_cap, sizeof *ps->pool))
				return fail_oom(ps);
			uint32_t *fr = realloc(ps->pool_free, ps->pool_cap * sizeof *fr);
			if (!fr) {
				ps->pool_cap = cap;
				return fail_oom(ps);
			}
			ps->pool_free = fr;
		}
		at = (uint32_t)ps->n_pool++;
	}
	ps->pool[at] = *r;
	ps->slots[ps->n_slots] =
	    (slot){.game_id = r->game_id, .line_no = (uint32_t)r->line_no, .pending = at + 1};
	ps->table[h] = (uint32_t)++ps->n_slots;
	return 0;
}

/* Reads one data record into r. */
static int parse_record(parser *ps, const uint8_t *map, size_t n_fields, row *r)
{
	uint32_t matchup_team = 0, team = 0;
	field mf = {0}, tf = {0};
	r->line_no = ps->line;
	for (size_t i = 0;; i++) {
		field f;
		if (next_field(ps, &f))
			return -1;
		if (i >= n_fields)
			return fail(ps, ps->line, f.col, "more fields than the header's %zu",
			            n_fields);
		enum column c = map[i];
		if (c < N_COLUMNS)
			r->col[c] = f.col;
		uint64_t v;
		int *stat = NULL;
		switch (c) {
		case C_GAME_ID:
			if (!parse_uint(&f, 10, &v) || v > UINT32_MAX)
				return fail_value(ps, &f, c, "a game id");
			r->game_id = (uint32_t)v;
			break;
		case C_GAME_DATE:
			if (!parse_date(&f, &r->date))
				return fail_value(ps, &f, c, "a date (YYYY-MM-DD)");
			break;
		case C_TEAM:
			team = team_key(f.s, f.n);
			if (!team)
				return fail_value(ps, &f, c, "a team abbreviation");
			if (parse_team(ps, &f, c, team, &r->team))
				return -1;
			tf = f;
			break;
		case C_MATCHUP:
			if (parse_matchup(ps, &f, &matchup_team, r))
				return -1;
			mf = f;
			break;
		case C_WL:
			if (f.n != 1 || (f.s[0] != 'W' && f.s[0] != 'L'))
				return fail_value(ps, &f, c, "W or L");
			r->won = f.s[0] == 'W';
			break;
		case C_IGNORED:
			break;
		default:
			stat = (int *)((char *)&r->line + stat_offset[c - C_PTS]);
			break;
		}
		if (stat && parse_stat(ps, &f, c, stat))
			return -1;
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (i + 1 < n_fields)
			return fail(ps, ps->line, (size_t)(ps->p - ps->line_start) + 1,
			            "%zu fields, the header has %zu", i + 1, n_fields);
		break;
	}
	if (matchup_team != team) {
		char buf[SHOW_MAX + 4], tbuf[SHOW_MAX + 4];
		return fail(ps, r->line_no, mf.col,
		            "MATCHUP '%s' is not a game of TEAM_ABBREVIATION '%s'", show(&mf, buf),
		            show(&tf, tbuf));
	}
	if (check_box(ps, r))
		return -1;
	return end_record(ps);
}

/* Reads the header into map (field index -> column) and checks every column is there once. */
static int parse_header(parser *ps, uint8_t *map, size_t *n_fields)
{
	size_t at[N_COLUMNS] = {0};
	size_t n = 0;
	for (;;) {
		field f;
		if (next_field(ps, &f))
			return -1;
		if (n == MAX_COLUMNS)
			return fail(ps, ps->line, f.col, "more than %d columns", MAX_COLUMNS);
		map[n] = C_IGNORED;
		for (int c = 0; c < N_COLUMNS; c++) {
			if (strlen(column_name[c]) == f.n &&
			    memcmp(column_name[c], f.s, f.n) == 0) {
				if (at[c])
					return fail(ps, ps->line, f.col,
					            "duplicate column %s (first at column %zu)",
					            column_name[c], at[c]);
				at[c] = f.col;
				map[n] = (uint8_t)c;
			}
		}
		n++;
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		break;
	}
	for (int c = 0; c < N_COLUMNS; c++)
		if (!at[c])
			return fail(ps, 1, 1, "missing column %s", column_name[c]);
	*n_fields = n;
	return end_record(ps);
}

static bool blank_line(const parser *ps)
{
	const char *p = ps->p;
	return *p == '\n' || (*p == '\r' && p + 1 < ps->end && p[1] == '\n');
}

static int by_date_then_id(const void *pa, const void *pb)
{
	const nba_game *a = pa, *b = pb;
	if (a->date != b->date)
		return (a->date > b->date) - (a->date < b->date);
	return (a->game_id > b->game_id) - (a->game_id < b->game_id);
}

/* Teams are numbered in alphabetical order: the same league gives the same indices however its
 * rows are ordered. */
static void number_teams(parser *ps, nba_league *out)
{
	int order[NBA_TEAMS], rank[NBA_TEAMS];
	for (int i = 0; i < ps->n_teams; i++)
		order[i] = i;
	for (int i = 1; i < ps->n_teams; i++)
		for (int j = i; j > 0 && ps->team_key[order[j - 1]] > ps->team_key[order[j]]; j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (int i = 0; i < ps->n_teams; i++) {
		rank[order[i]] = i;
		uint32_t k = ps->team_key[order[i]];
		char *name = out->teams[i];
		int n = 0;
		for (int shift = 24; shift >= 0; shift -= 8)
			if ((k >> shift) & 0xff)
				name[n++] = (char)((k >> shift) & 0xff);
		name[n] = '\0';
	}
	out->n_teams = ps->n_teams;
	for (size_t i = 0; i < ps->n_games; i++) {
		ps->games[i].home = rank[ps->games[i].home];
		ps->games[i].away = rank[ps->games[i].away];
	}
}

/* The BOM and the header, at the start of the first text given. */
static int parse_start(parser *ps)
{
	if (ps->end - ps->p >= 3 && memcmp(ps->p, "\xEF\xBB\xBF", 3) == 0)
		ps->p += 3;
	ps->line_start = ps->p;
	if (ps->p == ps->end)
		return fail(ps, 1, 1, "empty file");
	return parse_header(ps, ps->map, &ps->n_fields);
}

/* The first allocations, for at most max_rows rows: pages of the games never touched cost
 * nothing. */
static int parse_alloc(parser *ps, size_t max_rows)
{
	ps->table_mask = 1023;
	ps->table = calloc(ps->table_mask + 1, sizeof *ps->table);
	/* The slots grow as they fill: a block freed is the size the allocator then keeps back
	 * (glibc raises its mmap threshold to it), and the features come after. */
	ps->games_cap = max_rows / 2 + 1;
	ps->games = malloc(ps->games_cap * sizeof *ps->games);
	if (!ps->table || !ps->games)
		return fail_oom(ps);
	return 0;
}

/* Every record from ps->p to ps->end, which ends where a record does. */
static int parse_records(parser *ps)
{
	while (ps->p < ps->end) {
		if (blank_line(ps)) {
			if (end_record(ps))
				return -1;
			continue;
		}
		row r;
		memset(&r, 0, sizeof r);
		if (parse_record(ps, ps->map, ps->n_fields, &r) || add_row(ps, &r))
			return -1;
		ps->rows++;
	}
	return 0;
}

static int parse_finish(parser *ps, nba_league *out)
{
	if (ps->rows == 0)
		return fail(ps, ps->line, 1, "no games after the header");
	for (size_t i = 0; i < ps->n_slots; i++)
		if (ps->slots[i].pending) {
			const row *r = &ps->pool[ps->slots[i].pending - 1];
			return fail(ps, r->line_no, r->col[C_GAME_ID],
			            "game %" PRIu32 " has only one row", r->game_id);
		}
	/* The league is all that is kept: what only the parse needed goes before the sort. */
	free(ps->table);
	free(ps->slots);
	free(ps->pool);
	free(ps->pool_free);
	ps->table = NULL;
	ps->slots = NULL;
	ps->pool = NULL;
	ps->pool_free = NULL;

	number_teams(ps, out);
	bool sorted = true;
	for (size_t i = 1; i < ps->n_games && sorted; i++)
		sorted = by_date_then_id(&ps->games[i - 1], &ps->games[i]) < 0;
	if (!sorted)
		qsort(ps->games, ps->n_games, sizeof *ps->games, by_date_then_id);
	int season = 0;
	for (size_t i = 0; i < ps->n_games; i++) {
		if (i > 0 && ps->games[i].date - ps->games[i - 1].date > SEASON_GAP)
			season++;
		ps->games[i].season = season;
	}
	out->games = ps->games;
	out->n_games = ps->n_games;
	out->seasons = season + 1;
	ps->games = NULL;
	return 0;
}

static int parse(parser *ps, nba_league *out)
{
	if (parse_start(ps))
		return -1;
	/* Every row is on a line of its own: the newlines bound the rows, and so every array. */
	size_t max_rows = 1;
	for (const char *q = ps->p; (q = memchr(q, '\n', (size_t)(ps->end - q))); q++)
		max_rows++;
	if (max_rows >= UINT32_MAX / 2)
		return fail(ps, 1, 1, "more than %u lines", (unsigned)(UINT32_MAX / 2));
	if (parse_alloc(ps, max_rows) || parse_records(ps))
		return -1;
	return parse_finish(ps, out);
}

static void parser_free(parser *ps)
{
	free(ps->table);
	free(ps->slots);
	free(ps->pool);
	free(ps->pool_free);
	free(ps->games);
}

int nba_parse_csv(const char *text, size_t len, nba_league *out, char *err, size_t err_cap)
{
	memset(out, 0, sizeof *out);
	parser ps = {.p = text, .end = text + len, .line = 1, .err = err, .err_cap = err_cap};
	if (err_cap)
		err[0] = '\0';
	int rc = parse(&ps, out);
	parser_free(&ps);
	if (rc)
		nba_league_free(out);
	return rc;
}

/* ---- reading a file a chunk at a time ----------------------------------------------------- */

#define CHUNK ((size_t)256 << 10)

static size_t chunk_size = CHUNK;

/* For the tests: chunks small enough that records and quoted fields straddle their edges. */
void nba_csv_set_chunk(size_t bytes);
void nba_csv_set_chunk(size_t bytes)
{
	chunk_size = bytes ? bytes : CHUNK;
}

/* The end of the last record complete in b[from, n), or 0: where the parser, reading the same
 * bytes, would leave a record with its line end consumed, seeing nothing after it. It follows the
 * parser's lexing (a field quoted only when its first byte is a quote; "" within one) so that a
 * record is never cut; where the parser would stop with an error it resumes at the next newline,
 * past the byte that error looks at. */
static size_t complete_records(const char *b, size_t from, size_t n)
{
	if (!memchr(b + from, '"', n - from)) {
		/* No quotes: every '\n' ends a record (a lone '\r' before it is an error). */
		while (n > from && b[n - 1] != '\n')
			n--;
		return n > from ? n : 0;
	}
	size_t last = 0, i = from;
	for (;;) {
		if (i < n && b[i] == '"') {
			for (i++;; i++) {
				if (i + 1 >= n)
					return last; /* "" or a closing quote: the next byte says */
				if (b[i] == '"') {
					if (b[i + 1] != '"')
						break;
					i++;
				}
			}
			i++;
			if (b[i] != ',' && b[i] != '\n' && b[i] != '\r')
				goto resync;
		} else {
			while (i < n && b[i] != ',' && b[i] != '\n' && b[i] != '\r')
				i++;
			if (i == n)
				return last;
		}
		if (b[i] == ',') {
			i++;
			continue;
		}
		if (b[i] == '\r') {
			if (i + 1 == n)
				return last;
			if (b[i + 1] != '\n')
				goto resync;
			i++;
		}
		last = ++i;
		continue;
	resync:;
		const char *q = memchr(b + i, '\n', n - i);
		if (!q)
			return last;
		last = i = (size_t)(q - b) + 1;
	}
}

/* Parses f a chunk at a time; the size bounds the rows and so the arrays. */
static int load_stream(FILE *f, size_t size, parser *ps, nba_league *out)
{
	size_t cap = chunk_size, len = 0, from = 0;
	char *buf = malloc(cap);
	if (!buf)
		return fail_oom(ps);
	bool eof = false, started = false;
	int rc = -1;
	for (;;) {
		while (!eof && len < cap) {
			size_t k = fread(buf + len, 1, cap - len, f);
			len += k;
			if (k == 0) {
				if (ferror(f)) {
					rc = -2;
					goto done;
				}
				eof = true;
			}
		}
		if (!started && len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
			from = 3;
		size_t n = eof ? len : complete_records(buf, from, len);
		if (n == 0 && !eof) {
			/* One record fills the buffer: make room for the rest of it. */
			char *t = cap <= SIZE_MAX / 2 ? realloc(buf, 2 * cap) : NULL;
			if (!t) {
				fail_oom(ps);
				goto done;
			}
			buf = t;
			cap *= 2;
			continue;
		}
		ps->p = ps->line_start = buf;
		ps->end = buf + n;
		if (!started) {
			started = true;
			/* A valid row has a byte per field at least: 20 columns and 36 bytes of
			 * values.
			 */
			if (parse_start(ps) || parse_alloc(ps, size / 40 + 2))
				goto done;
		}
		if (parse_records(ps))
			goto done;
		memmove(buf, buf + n, len - n);
		len -= n;
		from = 0;
		if (eof && len == 0)
			break;
	}
	free(buf);
	buf = NULL;
	rc = parse_finish(ps, out);
done:
	free(buf);
	return rc;
}

/* The text read whole: a pipe has no size to bound the rows with, and a text too long for
 * 32-bit line numbers is refused by the counting in parse(). */
static int load_whole(FILE *f, char **text, size_t *len)
{
	size_t cap = 0;
	*text = NULL;
	*len = 0;
	/* The size is read from the file as it goes: a pipe or a growing file has none. */
	for (;;) {
		if (*len == cap) {
			size_t ncap = cap ? 2 * cap : 1 << 20;
			char *t = realloc(*text, ncap);
			if (!t) {
				errno = ENOMEM;
				return -1;
			}
			*text = t;
			cap = ncap;
		}
		size_t k = fread(*text + *len, 1, cap - *len, f);
		*len += k;
		if (k == 0)
			break;
	}
	return ferror(f) ? -1 : 0;
}

int nba_load_csv(const char *path, nba_league *out, char *err, size_t err_cap)
{
	memset(out, 0, sizeof *out);
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (f && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
	    (uint64_t)st.st_size < UINT32_MAX / 4) {
		char msg[256];
		msg[0] = '\0';
		parser ps = {.line = 1, .err = msg, .err_cap = sizeof msg};
		errno = 0;
		int rc = load_stream(f, (size_t)st.st_size, &ps, out);
		int e = errno;
		parser_free(&ps);
		fclose(f);
		if (rc == -2) {
			e = e ? e : EIO;
			snprintf(err, err_cap, "%s: %s", path, strerror(e));
		} else if (rc) {
			snprintf(err, err_cap, "%s:%s", path, msg);
		}
		if (rc) {
			nba_league_free(out);
			errno = e;
			return -1;
		}
		return 0;
	}
	char *text = NULL;
	size_t len = 0;
	if (!f || load_whole(f, &text, &len)) {
		int e = errno ? errno : EIO;
		snprintf(err, err_cap, "%s: %s", path, strerror(e));
		if (f)
			fclose(f);
		free(text);
		errno = e;
		return -1;
	}
	fclose(f);
	char msg[256];
	int rc = nba_parse_csv(text ? text : "", len, out, msg, sizeof msg);
	free(text);
	if (rc)
		snprintf(err, err_cap, "%s:%s", path, msg);
	return rc;
}

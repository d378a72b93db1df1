/* naive.h: the naive prediction path of nba-predict (--naive), kept for shotclock to diagnose. */
#ifndef NBA_NAIVE_H
#define NBA_NAIVE_H

#include <stddef.h>

#include "nba.h"

/* Games per batch of the naive path: each batch re-reads the whole game log. */
#define NBA_NAIVE_BATCH 64

/* Predicts games [first, first + n) of the game log at csv_path the naive way and recommends bets
 * on them: the same bets, in the same order, as nba_recommend over the optimised path's batch
 * predictions. bets has room for 2 * n; *n_bets receives how many. 0, or -1 with err set (a bad
 * file, or out of memory). */
int nba_naive_recommend(const char *csv_path, const nba_model *m, size_t first, size_t n,
                        double min_edge, double kelly_cap, nba_bet *bets, size_t *n_bets, char *err,
                        size_t err_cap);

#endif

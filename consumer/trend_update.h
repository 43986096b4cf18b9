/* trend_update: recompute the trends from the clusters stored in
 * PostgreSQL and store them: what the consumer does every trend.refresh.ms
 * and what `replay --rebuild` does once at the end.
 *
 * Over the window (window_s, event time) that ends at the latest event time
 * stored, with trend_config_default() otherwise. Inside a transaction the
 * caller opened on the store, it reads and writes in that transaction. */
#ifndef SHOAL_TREND_UPDATE_H
#define SHOAL_TREND_UPDATE_H

#include <stddef.h>

#include "store.h"

/* 0, with the number of trends stored and of clusters they were formed
 * from; -1 with err saying which step failed (nothing stored). */
int trend_update(store_t *s, long window_s, size_t *n_trends, size_t *n_clusters, char *err,
                 size_t errlen);

#endif

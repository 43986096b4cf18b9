/* trend_update: recompute the trends from the clusters stored in
 * PostgreSQL and store them: what the trend worker does every
 * trend.refresh.ms and what `replay --rebuild` does once at the end.
 *
 * Over the window (window_s, event time) that ends at the latest event time
 * stored, with trend_config_default() otherwise. Inside a transaction the
 * caller opened on the store, it reads and writes in that transaction. */
#ifndef SHOAL_TREND_UPDATE_H
#define SHOAL_TREND_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* 0, with the number of trends stored and of clusters they were formed
 * from; -1 with err saying which step failed (nothing stored). */
int trend_update(store_t *s, long window_s, size_t *n_trends, size_t *n_clusters, char *err,
                 size_t errlen);

/* The trend worker: trend_update() on a thread and a connection of its
 * own, every refresh_ms while events keep being persisted, so the
 * consumer's loop never waits for a recomputation (which grows with the
 * tables). Each outcome is logged ("trends updated" / "trends not
 * updated"); a failed one is tried again a period later. Its failures are
 * the database's, which the loop sees on its own connections. */
typedef struct trend_worker trend_worker_t;

/* Takes the store (destroyed with the worker). NULL with err when the
 * thread cannot start. */
trend_worker_t *trend_worker_new(store_t *store, long window_s, long refresh_ms, char *err,
                                 size_t errlen);
/* The loop's count of events persisted: a new value makes a computation
 * due once refresh_ms has passed since the last one. */
void trend_worker_note_persisted(trend_worker_t *w, uint64_t persisted);
/* trend.refresh.ms after a reload. */
void trend_worker_set_refresh(trend_worker_t *w, long refresh_ms);
/* Stops the thread and frees w (NULL is fine). With finish (a drain's
 * end), a computation in progress completes and, if events were persisted
 * after the last one, trends are computed once more on the caller's
 * thread; without it (a shutdown), a computation in progress is cancelled
 * within STORE_CANCEL_POLL_MS. */
void trend_worker_destroy(trend_worker_t *w, int finish);

#endif

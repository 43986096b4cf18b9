/* store: everything the consumer keeps in PostgreSQL, over libpq.
 *
 * store.c is the only module that knows SQL. Every statement is
 * parameterised (bulk rows travel by COPY, which carries data, not SQL).
 * Every call is bounded: connect_timeout on connect, statement_timeout on the
 * server, and a client-side deadline (statement timeout + grace) after which
 * the query is cancelled and the connection dropped.
 *
 * A store_t owns one connection and reconnects lazily after a failure. Not
 * thread-safe: one store per thread. */
#ifndef SHOAL_STORE_H
#define SHOAL_STORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "event.h"
#include "trend.h"

typedef enum {
    STORE_OK = 0,
    STORE_TRANSIENT, /* environment trouble: retry later, nothing committed */
    STORE_REJECTED,  /* some rows carry a data error (marked); nothing committed */
} store_rc_t;

typedef struct store store_t;

typedef struct {
    const char *topic;
    int32_t partition;
    int64_t next_offset; /* store_offsets_load: -1 when none is stored */
} store_offset_t;

typedef struct {
    const event_t *ev;             /* borrowed */
    const char *topic;
    int32_t partition;
    int64_t offset;
    const char *extraction_json;   /* NULL: none */
    const char *extracted_by;
    const char *extractor_version;
    int64_t cluster_id;            /* 0: none */
    const char *fetch_status;      /* fetch_status_name(), NULL when not fetched */
    int cluster_seq;               /* place in the batch's clustering order, from 1; 0: none */
    /* out */
    int reextract;                 /* 1: already stored; replace its extraction */
    int inserted;                  /* 1 when the row is new (not a re-delivery) */
    int rejected;                  /* 1 when this row alone fails (STORE_REJECTED) */
    char reject_sqlstate[6];
    char reject_msg[256];
} store_row_t;

typedef struct {
    const char *topic;
    int32_t partition;
    int64_t offset;
    const char *error_class, *error_stage, *error_message, *dlq_topic;
} store_dead_t;

/* What a batch did to the clusters. instance: the consumer instance's name,
 * recorded on the clusters it updates so that refreshes read only what
 * other instances changed. */
typedef struct {
    const cluster_merge_t *merges; /* applied in order, after the rows */
    size_t n_merges;
    const char *instance;
    /* The terms of the clusters the batch changed, as its engine left them
     * (cluster_engine_top_terms): each replaces its cluster's stored terms
     * (a cluster merged away keeps none). */
    const cluster_term_row_t *terms;
    size_t n_terms;
} store_cluster_ops_t;

/* Does not connect; the first call that needs the database does. */
store_t *store_new(const char *conninfo, int connect_timeout_s, long statement_timeout_ms,
                   const char *application_name);
void store_destroy(store_t *s);

/* A flag another thread sets to end this store's work: a statement in
 * progress is cancelled within STORE_CANCEL_POLL_MS (its connection
 * dropped), and no connection is made while it is set. The store of a
 * thread that must stop promptly (the trend worker) has one. */
#define STORE_CANCEL_POLL_MS 100
void store_set_cancel_flag(store_t *s, const atomic_int *flag);

/* Connects if not connected. */
store_rc_t store_connect(store_t *s, char *err, size_t errlen);
/* 0 from a lost connection or a failed connect until the next connect
 * succeeds; a store not used yet counts as reachable. */
int store_reachable(const store_t *s);
/* The SQLSTATE of the last failure ("" if none or none known). */
const char *store_last_sqlstate(const store_t *s);

/* Applies the embedded migrations not yet recorded in schema_migrations,
 * each in its own transaction, under a session advisory lock so that
 * replicas starting together apply each one exactly once. */
store_rc_t store_migrate(store_t *s, int *applied, char *err, size_t errlen);

/* Reads stored next offsets for (group, topic, partition) entries. */
store_rc_t store_offsets_load(store_t *s, const char *group, store_offset_t *offs, size_t n,
                              char *err, size_t errlen);

/* Sets each partition's stored next offset exactly (it may move backwards:
 * a replay), in one transaction. */
store_rc_t store_offsets_reset(store_t *s, const char *group, const store_offset_t *offs, size_t n,
                               char *err, size_t errlen);

/* One transaction (the one store_cluster_lock() began, if any): insert the
 * new rows (a cluster id merged away meanwhile is replaced by its survivor),
 * replace the extraction of the reextract ones (their tags and facts are
 * views of it, schema/009), add the new rows to their clusters' counts and
 * times, apply cl's merges and terms, record the dead letters, advance each
 * partition's next offset (never backwards), commit. The new rows must not
 * be stored yet: the caller looked them up while holding the clustering
 * lock, which every writer of events holds. A row stored all the same fails the batch
 * (STORE_TRANSIENT, nothing written). On a data error confined to rows,
 * marks them (rejected=1), rolls back and returns STORE_REJECTED: the
 * caller dead-letters them and calls again without them. Any failure rolls
 * back. */
store_rc_t store_batch_commit(store_t *s, const char *group, store_row_t *rows, size_t nrows,
                              const store_dead_t *dead, size_t ndead, const store_offset_t *offs,
                              size_t noffs, const store_cluster_ops_t *cl, char *err,
                              size_t errlen);

/* Which of these event ids are already stored: known[i] = 1 or 0. Lets a
 * re-delivered or replayed event skip extraction and clustering (and any paid
 * work) entirely. */
store_rc_t store_events_known(store_t *s, const char *const *ids, size_t n, unsigned char *known,
                              char *err, size_t errlen);

/* The same lookup in two steps, so that the caller works while the
 * database answers: _send() sends it and returns without waiting (the ids
 * are copied); _recv() waits for the answer, within the statement timeout,
 * and calls found() with each id stored. Nothing else runs on s in
 * between; a failed _recv() leaves s ready for the next statement. */
store_rc_t store_events_known_send(store_t *s, const char *const *ids, size_t n, char *err,
                                   size_t errlen);
store_rc_t store_events_known_recv(store_t *s, void (*found)(void *opaque, const char *id),
                                   void *opaque, char *err, size_t errlen);

/* Begins the transaction that the next store_batch_commit() finishes,
 * under the clustering lock: instances make their clustering decisions one
 * batch at a time, each after reading what the others wrote
 * (store_clusters_load), so concurrent instances do not found the same
 * story twice. The lock is the session's: it outlives the commit (and a
 * rollback) until store_cluster_release() or the end of the connection, so
 * a writer that keeps it may cluster its next batch while this one is
 * written, on clusters no other instance can change meanwhile. *fresh = 1
 * when it was taken now rather than held from before (the others' changes
 * must be read); *waiting = 1 when another session waits for it (the
 * holder should let it go after this batch). The wait is bounded by the
 * statement timeout. */
store_rc_t store_cluster_lock(store_t *s, int *fresh, int *waiting, char *err, size_t errlen);

/* Ends the transaction store_cluster_lock() began without committing; the
 * lock stays held. */
void store_cluster_unlock(store_t *s);

/* Ends any transaction and lets the clustering lock go, if held. */
void store_cluster_release(store_t *s);

/* Whether this session holds the clustering lock. */
int store_cluster_held(const store_t *s);

/* Called per cluster read; merged_into > 0 when the cluster was merged
 * away (then st has its id only). */
typedef void (*store_cluster_fn)(void *opaque, const cluster_state_t *st, int64_t merged_into);

/* Reads the clusters whose version is above *version and that were last
 * written by an instance other than exclude (NULL: any), each with its
 * max_terms heaviest terms, merged-away ones first (only when *version > 0:
 * a first read wants live clusters), then the most recently seen, at most
 * max_clusters. *version advances to the highest version stored. Exact
 * under store_cluster_lock(); without it (at startup) it may miss nothing
 * either, since versions are taken under that lock. fn's state is borrowed
 * for the call only. */
store_rc_t store_clusters_load(store_t *s, const char *exclude, int64_t *version,
                               long max_clusters, long max_terms, store_cluster_fn fn,
                               void *opaque, char *err, size_t errlen);

/* Trend inputs: summaries of the clusters active in the window that ends at
 * the latest event time stored. Owns everything the summaries point to. */
typedef struct store_trend_input store_trend_input_t;

store_rc_t store_trend_input_load(store_t *s, long window_s, store_trend_input_t **out,
                                  char *err, size_t errlen);
const trend_cluster_t *store_trend_input_clusters(const store_trend_input_t *in, size_t *n,
                                                  int64_t *latest_us);
void store_trend_input_free(store_trend_input_t *in);

/* Upserts the trends and their evidence in one transaction; trends not in
 * the list are marked inactive. Inside a transaction the caller opened (a
 * rebuild) it writes in that one, and a failure rolls it back. */
store_rc_t store_trends_save(store_t *s, const trend_list_t *l, char *err, size_t errlen);

/* The active trends as a JSON array (caller frees with free()), for the
 * trends command and the HTTP endpoint, each with last_event: the latest
 * event time of its clusters. since_us (INT64_MIN: any) keeps the trends
 * whose last_event is at or after it. */
store_rc_t store_trends_json(store_t *s, int64_t since_us, char **out, char *err, size_t errlen);

/* What the report charts, as one JSON object (caller frees with free()),
 * over the UTC days from window_s before the latest cluster activity to it:
 *   first_day (days since the epoch; null when nothing is stored), days,
 *   trends:   {key: [events per day of the active trend's clusters]},
 *   clusters: [{id, label, docs, sources, before (events before first_day),
 *               series: [events per day]}], the max_clusters with the most
 *             events in the period, most first,
 *   evidence: {cluster id: {sources: [{source, events}],
 *              facts: [{subject, predicate, object, amount, currency, events}]}}
 *             for every cluster of an active trend, at most max_facts facts
 *             each (the most reported). */
store_rc_t store_report_json(store_t *s, long window_s, long max_clusters, long max_facts,
                             char **out, char *err, size_t errlen);

/* ---- replay --rebuild: derived tables recomputed from stored events ----
 *
 * Exclusion: a PostgreSQL session advisory lock (REBUILD_LOCK_KEY in
 * store.c). With the guard on, every connection the store opens first takes
 * it shared (pg_try_advisory_lock_shared), so a consumer holds it for as long
 * as it can write; while a rebuild holds it exclusively, connecting fails as
 * a transient error "rebuild in progress", which the caller retries with its
 * usual bounded back-off. The rebuild takes it exclusively without waiting
 * (pg_try_advisory_lock) and is refused while any consumer connection lives.
 *
 * The rebuild is one transaction: store_rebuild_begin clears the derived
 * cluster state (clusters and their terms, events.cluster_id), pages walk the
 * events in the consumer's clustering order (batch.c), each page's results are written with
 * store_rebuild_write, trends are saved in the same transaction
 * (store_trends_save), and store_rebuild_commit makes it all visible at once;
 * readers see the old derived state until then. Any failure rolls it all
 * back. A connection lost midway is not reconnected: the rebuild fails. */

/* Consumers: turns the guard on (an open connection is closed, so that
 * every connection from now on holds the lock). */
void store_rebuild_guard(store_t *s);

/* One stored event, borrowed from its page. */
typedef struct {
    const char *id, *kind, *source, *title, *body, *lang; /* lang NULL when unknown */
    const char *repo_json, *tags_json;                    /* NULL when absent */
    const char *extraction_json, *extracted_by;           /* NULL when absent */
    int64_t published_us;                                 /* CLUSTER_TIME_NONE when unknown */
} store_stored_event_t;

typedef struct store_event_page store_event_page_t;

/* Takes the rebuild lock, opens the transaction and clears the derived
 * cluster state. STORE_REJECTED (err says why) when the lock is held
 * elsewhere: consumers are running, or another rebuild. */
store_rc_t store_rebuild_begin(store_t *s, char *err, size_t errlen);

/* Events per page of store_rebuild_next (a plain number: it is spelled
 * into the FETCH statement). */
#define STORE_REBUILD_PAGE 200

/* The next STORE_REBUILD_PAGE events at most, in the consumer's clustering
 * order (ingested_at, topic, partition, offset); a page of 0 events is the
 * end. Free each with store_event_page_free. */
store_rc_t store_rebuild_next(store_t *s, store_event_page_t **page, char *err, size_t errlen);
const store_stored_event_t *store_event_page_rows(const store_event_page_t *p, size_t *n);
void store_event_page_free(store_event_page_t *p);

/* Writes one page's results, as the consumer's batch would: each row's
 * extraction replaced (ev->id, extraction_json, extracted_by,
 * extractor_version), its cluster_id added to its cluster's count and
 * times, then cl's merges in order and its terms. */
store_rc_t store_rebuild_write(store_t *s, const store_row_t *rows, size_t n,
                               const store_cluster_ops_t *cl, char *err, size_t errlen);

/* Commits the rebuild and releases the lock. */
store_rc_t store_rebuild_commit(store_t *s, char *err, size_t errlen);

/* Rolls the rebuild back (if still open) and releases the lock. */
void store_rebuild_abort(store_t *s);

#endif

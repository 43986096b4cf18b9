#include "batch.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "event.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "workers.h"

/* ITEM_KNOWN: already stored (a re-delivery or a replay): no work, no row. */
typedef enum { ITEM_OK = 0, ITEM_DEAD, ITEM_KNOWN } item_state_t;

/* One extraction thread's scratch, kept across events. */
typedef struct {
    text_words_t tokens[2]; /* the extractor's tokens of the event in hand */
    extraction_text_t extraction; /* its extraction as text */
    uint64_t fallbacks; /* events it extracted for lack of an LLM answer, this pass */
} extract_scratch_t;

typedef struct {
    rd_kafka_message_t *msg; /* owned */
    event_t ev;
    uint64_t id_hash;        /* of ev.id, once decoded (mark_batch_duplicates) */
    item_state_t state;
    int dlq_acked;
    const char *err_class, *err_stage;
    char err_msg[256];
    int attempts;
    int handed_ok;           /* ITEM_OK when handed to the writer (read by the caller only) */
    int checked;             /* looked up in the store already */
    int lookup_sent;         /* in the lookup in flight */
    unsigned lookup_hold;    /* the writer's hold of the clustering lock then (0: none) */
    int reextract;           /* stored already; extracted again (--reextract) */
    char *extraction_json;   /* owned; NULL until extracted */
    /* Owned, what clustering and the row need of the extraction (its parsed
     * tree is not kept: two batches are in memory, one being written):
     * extracted_by, extractor_version, then the entity names, each
     * NUL-terminated. */
    char *extracted_meta;
    const char *extracted_by, *extractor_version; /* point into extracted_meta */
    size_t n_entities;
    const char *fetch_status; /* static name; NULL until fetched */
    char *fetched_text;       /* owned; ev.text points here once fetched */
    int64_t cluster_id;      /* 0 until clustered */
    int cluster_seq;         /* place in the batch's clustering order, from 1 */
    /* Owned, the words clustering reads, built ahead on the caller's
     * thread (cur_prepare) so that the writer only looks them up; freed
     * once clustered. */
    cluster_words_t words;
    int has_words;
} item_t;

/* A generation: the items of one batch and the engine merges made while
 * clustering them, written by the same transaction. */
typedef struct {
    item_t *items;
    size_t n, cap;
    cluster_merge_t *merges;
    size_t n_merges, merges_cap;
    int clustered; /* items clustered so far: the last cluster_seq given */
} gen_t;

/* The writer's state, under mu. */
typedef enum {
    WRITER_IDLE = 0, /* run is empty, or its failure was reported and it waits for a retry */
    WRITER_BUSY,     /* run is being written */
    WRITER_OK,       /* run is durable; its outcome not yet taken */
    WRITER_FAILED    /* run was not written; the failure not yet reported */
} writer_state_t;

struct batch {
    batch_stages_t st;
    char *group;
    char *dlq_topic; /* NULL: <topic>.dlq */
    int reextract;   /* extract.reextract: stored events are extracted again */
    long kafka_timeout_ms;
    long cluster_cache_max;
    int clusters_synced;    /* the first sync (the warm cache) is done */
    int64_t cluster_version; /* highest stored cluster version read into the engine */
    size_t clusters_read;   /* by the sync in progress */
    /* cur is filled and prepared (extracted) by the caller's thread; run is
     * clustered and written by the writer thread meanwhile, and kept after
     * a failure for the retry. The engine is the writer's once the startup
     * read (batch_clusters_sync) is done, except while it lends it to the
     * caller for clustering ahead (below). */
    gen_t cur, run;
    size_t cur_prepared; /* items of cur looked up and extracted ahead of the flush */
    /* The lookup in flight on lookup_store (stage_skip_known), and the
     * writer's hold when it was sent. */
    int lookup_inflight;
    unsigned lookup_sent_hold;
    pthread_t writer;
    int writer_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    writer_state_t wstate;
    int wquit;
    /* Clustering ahead (cur_cluster_ahead): while the writer holds the
     * clustering lock from one batch to the next, the caller clusters cur
     * as it is prepared, on an engine no other instance can change
     * meanwhile. hold: the number of the writer's current hold of the lock
     * (0: not held); ahead_ok: the engine is free for the caller (the
     * writer is past its clustering and nobody waits for the lock);
     * ahead_busy: the caller is clustering; cur_ahead: items of cur
     * clustered ahead, which keep the lock held until they are written. */
    unsigned hold, holds;
    int ahead_ok, ahead_busy;
    size_t cur_ahead;
    char werr[512];
    batch_stats_t wstats; /* the run's persisted, duplicates, dead */
    /* Caller-side scratch, reused across flushes. */
    const char **ids;
    unsigned char *known;
    size_t *dup_slots; /* mark_batch_duplicates' table */
    size_t dup_cap;
    extract_input_t *llm_in;
    size_t *todo; /* the items an extraction pass works on (LLM, built-in) */
    cJSON **llm_out;
    size_t scratch_cap;
    /* The built-in extraction runs on extract.threads threads (the caller's
     * and workers), each with its own scratch. */
    workers_t *workers;
    extract_scratch_t *xs;
    /* Writer-side scratch. */
    store_row_t *rows;
    store_dead_t *dead;
    dlq_letter_t *letters;
    char (*dlq_names)[256];
    const char **wids;
    unsigned char *wknown;
    size_t wscratch_cap;
    cluster_term_row_t *cterms; /* the terms of the clusters the run changed */
    size_t n_cterms, cterms_cap;
    store_offset_t *offs; /* the run's next offsets */
    size_t n_offs, offs_cap;
    /* Offsets made durable and not yet handed out by batch_flush(). */
    batch_offsets_t out;
    size_t out_cap;
    int out_taken;
    batch_stats_t stats;
};

static void *writer_main(void *arg);

batch_t *batch_new(const config_t *cfg, const batch_stages_t *stages, char *err, size_t errlen)
{
    batch_t *b = calloc(1, sizeof(*b));
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b->st = *stages;
    b->group = strdup(config_str(cfg, "group"));
    const char *dt = config_str(cfg, "dlq.topic");
    b->dlq_topic = *dt ? strdup(dt) : NULL;
    b->kafka_timeout_ms = config_int(cfg, "kafka.timeout.ms");
    b->reextract = config_bool(cfg, "extract.reextract");
    b->cluster_cache_max = config_int(cfg, "cluster.cache.max");
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    size_t nx = (size_t)config_int(cfg, "extract.threads");
    b->xs = calloc(nx, sizeof(*b->xs));
    if (!b->group || (*dt && !b->dlq_topic) || !b->xs) {
        snprintf(err, errlen, "out of memory");
        batch_destroy(b);
        return NULL;
    }
    for (size_t k = 0; k < nx; k++)
        b->xs[k].tokens[0].max = b->xs[k].tokens[1].max = cluster_engine_config(b->st.clusters)->max_body_tokens;
    if (!(b->workers = workers_new(nx, err, errlen))) {
        batch_destroy(b);
        return NULL;
    }
    int rc = pthread_create(&b->writer, NULL, writer_main, b);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the writer thread: %s", strerror(rc));
        batch_destroy(b);
        return NULL;
    }
    b->writer_started = 1;
    return b;
}

static void item_clear(item_t *it)
{
    free(it->extraction_json);
    free(it->extracted_meta);
    it->extracted_meta = NULL;
    it->extraction_json = NULL;
    free(it->fetched_text);
    it->fetched_text = NULL;
    cluster_words_free(&it->words);
    it->has_words = 0;
    event_clear(&it->ev);
    if (it->msg) rd_kafka_message_destroy(it->msg);
    it->msg = NULL;
}

static void gen_clear(gen_t *g)
{
    for (size_t i = 0; i < g->n; i++) item_clear(&g->items[i]);
    g->n = 0;
    g->n_merges = 0;
    g->clustered = 0;
}

static void gen_free(gen_t *g)
{
    gen_clear(g);
    free(g->items);
    free(g->merges);
}

/* Waits until the writer is not writing. Inside batch_flush(), serve (when
 * set) keeps the consumer alive once the wait passes a second; the writer's
 * work is bounded by the store's and the broker's timeouts. */
static void writer_wait(batch_t *b, int serve)
{
    long waited_ms = 0;
    pthread_mutex_lock(&b->mu);
    while (b->wstate == WRITER_BUSY) {
        struct timespec ts = clock_cond_deadline(100);
        if (pthread_cond_timedwait(&b->cv, &b->mu, &ts) == ETIMEDOUT) waited_ms += 100;
        if (serve && b->st.serve && waited_ms >= 1000 && b->wstate == WRITER_BUSY) {
            pthread_mutex_unlock(&b->mu);
            b->st.serve(b->st.serve_opaque);
            pthread_mutex_lock(&b->mu);
        }
    }
    pthread_mutex_unlock(&b->mu);
}

void batch_destroy(batch_t *b)
{
    if (!b) return;
    if (b->writer_started) {
        pthread_mutex_lock(&b->mu);
        b->wquit = 1;
        pthread_cond_broadcast(&b->cv);
        pthread_mutex_unlock(&b->mu);
        pthread_join(b->writer, NULL);
    }
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    gen_free(&b->cur);
    gen_free(&b->run);
    free(b->rows);
    free(b->dead);
    free(b->letters);
    free(b->dlq_names);
    free(b->wids);
    free(b->wknown);
    free(b->cterms);
    free(b->ids);
    free(b->known);
    free(b->dup_slots);
    free(b->llm_in);
    free(b->todo);
    free(b->llm_out);
    for (size_t k = 0; b->xs && b->workers && k < workers_count(b->workers); k++) {
        text_words_free(&b->xs[k].tokens[0]);
        text_words_free(&b->xs[k].tokens[1]);
        extraction_text_free(&b->xs[k].extraction);
    }
    workers_destroy(b->workers);
    free(b->xs);
    free(b->offs);
    free(b->out.topics);
    free(b->out.partitions);
    free(b->out.next);
    free(b->group);
    free(b->dlq_topic);
    free(b);
}

size_t batch_count(const batch_t *b) { return b->cur.n; }
size_t batch_pending(const batch_t *b) { return b->run.n; }
const batch_stats_t *batch_stats(const batch_t *b) { return &b->stats; }

int batch_writer_free(batch_t *b)
{
    pthread_mutex_lock(&b->mu);
    int free = b->run.n == 0 || b->wstate != WRITER_BUSY;
    pthread_mutex_unlock(&b->mu);
    return free;
}

static void mark_dead(item_t *it, const char *cls, const char *stage, const char *msg)
{
    it->state = ITEM_DEAD;
    it->dlq_acked = 0;
    it->err_class = cls;
    it->err_stage = stage;
    snprintf(it->err_msg, sizeof(it->err_msg), "%.255s", msg);
}

static uint64_t id_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

void batch_add(batch_t *b, rd_kafka_message_t *m)
{
    gen_t *g = &b->cur;
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 256;
        item_t *n = realloc(g->items, cap * sizeof(*n));
        if (!n) {
            /* Without room the message cannot be tracked; dropping it is safe
             * because its offset is not committed: it is re-delivered. */
            log_kv(LOG_ERROR, "out of memory growing a batch; message left for re-delivery", NULL);
            rd_kafka_message_destroy(m);
            return;
        }
        g->items = n;
        g->cap = cap;
    }
    item_t *it = &g->items[g->n++];
    memset(it, 0, sizeof(*it));
    it->msg = m;
    b->stats.consumed++;
    char err[256];
    event_err_t e = event_decode(m->payload, m->len, NULL, &it->ev, err, sizeof(err));
    if (e != EVENT_OK) mark_dead(it, event_err_class(e), event_err_stage(e), err);
    else it->id_hash = id_hash(it->ev.id);
}

static void gen_forget(gen_t *g, const rd_kafka_topic_partition_list_t *parts)
{
    size_t w = 0;
    for (size_t i = 0; i < g->n; i++) {
        item_t *it = &g->items[i];
        int drop = 0;
        for (int p = 0; p < parts->cnt && !drop; p++)
            drop = parts->elems[p].partition == it->msg->partition &&
                   strcmp(parts->elems[p].topic, rd_kafka_topic_name(it->msg->rkt)) == 0;
        if (drop) item_clear(it);
        else g->items[w++] = *it;
    }
    g->n = w;
}

static void run_taken(batch_t *b);

void batch_forget(batch_t *b, const rd_kafka_topic_partition_list_t *parts)
{
    gen_forget(&b->cur, parts);
    b->cur_prepared = 0; /* preparing again skips what is done */
    /* Items clustered ahead that go are counted in the engine and never
     * written (what a crash does too); the lock is kept for those left. */
    size_t ahead = 0;
    for (size_t i = 0; i < b->cur.n; i++) ahead += b->cur.items[i].state == ITEM_OK && b->cur.items[i].cluster_id;
    pthread_mutex_lock(&b->mu);
    b->cur_ahead = ahead;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    /* A run being written is let finish (its rows are idempotent and its
     * offsets only move forward); a failed one forgets these partitions. */
    writer_wait(b, 0);
    pthread_mutex_lock(&b->mu);
    writer_state_t st = b->wstate;
    pthread_mutex_unlock(&b->mu);
    if (st == WRITER_OK) run_taken(b);
    else gen_forget(&b->run, parts);
}

/* Grows the caller-side scratch to n items. */
static int reserve_scratch(batch_t *b, size_t n)
{
    if (n <= b->scratch_cap) return 0;
    const char **ids = realloc(b->ids, n * sizeof(*ids));
    if (ids) b->ids = ids;
    unsigned char *kn = realloc(b->known, n);
    if (kn) b->known = kn;
    extract_input_t *li = realloc(b->llm_in, n * sizeof(*li));
    if (li) b->llm_in = li;
    size_t *lx = realloc(b->todo, n * sizeof(*lx));
    if (lx) b->todo = lx;
    cJSON **lo = realloc(b->llm_out, n * sizeof(cJSON *));
    if (lo) b->llm_out = lo;
    if (!ids || !kn || !li || !lx || !lo) return -1;
    b->scratch_cap = n;
    return 0;
}

/* Grows the writer-side scratch to n items. */
static int reserve_wscratch(batch_t *b, size_t n)
{
    if (n <= b->wscratch_cap) return 0;
    store_row_t *r = realloc(b->rows, n * sizeof(*r));
    if (r) b->rows = r;
    store_dead_t *d = realloc(b->dead, n * sizeof(*d));
    if (d) b->dead = d;
    dlq_letter_t *l = realloc(b->letters, n * sizeof(*l));
    if (l) b->letters = l;
    char(*nm)[256] = realloc(b->dlq_names, n * sizeof(*nm));
    if (nm) b->dlq_names = nm;
    const char **ids = realloc(b->wids, n * sizeof(*ids));
    if (ids) b->wids = ids;
    unsigned char *k = realloc(b->wknown, n);
    if (k) b->wknown = k;
    if (!r || !d || !l || !nm || !ids || !k) return -1;
    b->wscratch_cap = n;
    return 0;
}

static const char *dlq_topic_for(batch_t *b, const gen_t *g, size_t i)
{
    if (b->dlq_topic) return b->dlq_topic;
    snprintf(b->dlq_names[i], sizeof(b->dlq_names[i]), "%s.dlq",
             rd_kafka_topic_name(g->items[i].msg->rkt));
    return b->dlq_names[i];
}

/* Dead letters not yet acknowledged go out now: they must be acknowledged
 * before the transaction that moves the offset past them. Writer side. */
static int send_dead_letters(batch_t *b, gen_t *g, char *err, size_t errlen)
{
    size_t nl = 0;
    for (size_t i = 0; i < g->n; i++) {
        item_t *it = &g->items[i];
        if (it->state != ITEM_DEAD || it->dlq_acked) continue;
        b->letters[nl++] = (dlq_letter_t){it->msg, dlq_topic_for(b, g, i), it->err_class,
                                          it->err_stage, it->err_msg, it->attempts};
    }
    if (nl == 0) return 0;
    if (dlq_send(b->st.dlq, b->letters, nl, b->kafka_timeout_ms, err, errlen) != 0) return -1;
    for (size_t i = 0; i < g->n; i++) {
        item_t *it = &g->items[i];
        if (it->state != ITEM_DEAD || it->dlq_acked) continue;
        it->dlq_acked = 1;
        const char *label[] = {it->err_class};
        metrics_add(METRIC_EVENTS_DEAD_LETTERED, label, 1);
        char part[16], off[24];
        snprintf(part, sizeof(part), "%d", it->msg->partition);
        snprintf(off, sizeof(off), "%lld", (long long)it->msg->offset);
        log_kv(LOG_WARN, "message dead-lettered", "topic", rd_kafka_topic_name(it->msg->rkt), "partition",
               part, "offset", off, "event_id", it->ev.id[0] ? it->ev.id : NULL, "error_class",
               it->err_class, "stage", it->err_stage, "error", it->err_msg, NULL);
    }
    return 0;
}

/* Events already stored skip every later stage: a re-delivery after a
 * crash, or a replay, costs one lookup per batch and no paid work.
 *
 * The same event twice in one batch (a producer retry, say), or in this
 * batch and the one being written (not yet visible to the lookup), is one
 * event: later copies are marked known, so it is extracted and clustered
 * once. Slots hold run items as 1..run.n, the batch's as run.n+1.. This
 * runs at every prepared chunk, over both batches: the ids are hashed once
 * (batch_add) and the table is kept. */
static int mark_batch_duplicates(batch_t *b)
{
    const gen_t *run = &b->run;
    gen_t *g = &b->cur;
    size_t cap = 16;
    while (cap < (run->n + g->n) * 2) cap *= 2;
    if (cap > b->dup_cap) {
        size_t *t = realloc(b->dup_slots, cap * sizeof(*t));
        if (!t) return -1;
        b->dup_slots = t;
        b->dup_cap = cap;
    }
    size_t *slots = b->dup_slots; /* 0 = empty */
    memset(slots, 0, cap * sizeof(*slots));
    for (size_t i = 0; i < run->n + g->n; i++) {
        item_t *it = i < run->n ? &run->items[i] : &g->items[i - run->n];
        if (i < run->n ? !it->handed_ok : it->state != ITEM_OK) continue;
        for (size_t h = it->id_hash & (cap - 1);; h = (h + 1) & (cap - 1)) {
            if (!slots[h]) {
                slots[h] = i + 1;
                break;
            }
            size_t j = slots[h] - 1;
            const item_t *first = j < run->n ? &run->items[j] : &g->items[j - run->n];
            if (strcmp(first->ev.id, it->ev.id) == 0) {
                it->state = ITEM_KNOWN;
                b->stats.duplicates++;
                break;
            }
        }
    }
    return 0;
}

/* The writer's current hold of the clustering lock (0: none). */
static unsigned hold_now(batch_t *b)
{
    pthread_mutex_lock(&b->mu);
    unsigned h = b->hold;
    pthread_mutex_unlock(&b->mu);
    return h;
}

/* Marks an item of the lookup in flight stored. */
static void lookup_found(void *opaque, const char *id)
{
    batch_t *b = opaque;
    for (size_t i = 0; i < b->cur.n; i++) {
        item_t *it = &b->cur.items[i];
        if (!it->lookup_sent || it->state != ITEM_OK || strcmp(it->ev.id, id) != 0) continue;
        if (b->reextract) {
            it->reextract = 1;
        } else {
            it->state = ITEM_KNOWN;
            b->stats.duplicates++;
        }
    }
}

/* Waits for the lookup in flight: its items are looked up (those stored
 * marked), or, when it failed, go again with the next one. */
static int lookup_recv(batch_t *b, char *err, size_t errlen)
{
    b->lookup_inflight = 0;
    int ok = store_events_known_recv(b->st.lookup_store, lookup_found, b, err, errlen) == STORE_OK;
    for (size_t i = 0; i < b->cur.n; i++) {
        item_t *it = &b->cur.items[i];
        if (!it->lookup_sent) continue;
        it->lookup_sent = 0;
        if (!ok) continue;
        it->checked = 1;
        it->lookup_hold = b->lookup_sent_hold;
    }
    return ok ? 0 : -1;
}

/* Stage skip known: items stored already are not extracted or clustered
 * again. The lookup of the items added since the last one is sent, and
 * the one before it, which had the time to add them, is collected: what
 * is extracted next is what that one covered, and the database answers
 * the new one meanwhile. final: every item is looked up on return. */
static int stage_skip_known(batch_t *b, int final, char *err, size_t errlen)
{
    if (mark_batch_duplicates(b) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (b->lookup_inflight && lookup_recv(b, err, errlen) != 0) return -1;
    size_t n = 0;
    for (size_t i = 0; i < b->cur.n; i++)
        if (b->cur.items[i].state == ITEM_OK && !b->cur.items[i].checked) b->ids[n++] = b->cur.items[i].ev.id;
    if (n == 0) return 0;
    /* Taken before the lookup: if the same hold still lasts when the item is
     * clustered ahead, no other writer stored anything in between. */
    b->lookup_sent_hold = hold_now(b);
    if (store_events_known_send(b->st.lookup_store, b->ids, n, err, errlen) != STORE_OK) return -1;
    b->lookup_inflight = 1;
    for (size_t i = 0; i < b->cur.n; i++)
        b->cur.items[i].lookup_sent = b->cur.items[i].state == ITEM_OK && !b->cur.items[i].checked;
    return final ? lookup_recv(b, err, errlen) : 0;
}

/* Stage fetch: one page at a time, bounded by fetch.timeout.ms each, with
 * the serve callback between pages. Returns -1 when it aborted the flush. */
static int stage_fetch(batch_t *b, char *err, size_t errlen)
{
    buf_t text = {0};
    int rc = 0;
    for (size_t i = 0; i < b->cur.n; i++) {
        item_t *it = &b->cur.items[i];
        if (it->state != ITEM_OK || !it->checked || it->reextract || it->fetch_status || it->extraction_json ||
            !it->ev.url || *it->ev.text)
            continue;
        batch_serve_t ask = b->st.serve ? b->st.serve(b->st.serve_opaque) : BATCH_SERVE_CONTINUE;
        if (ask == BATCH_SERVE_ABORT) {
            snprintf(err, errlen, "flush interrupted while fetching pages (rebalance)");
            rc = -1;
            break;
        }
        if (ask == BATCH_SERVE_FALLBACK) break; /* shutting down: store without the page */
        fetch_result_t res;
        buf_reset(&text);
        fetch_status_t st = fetch_page(b->st.fetcher, it->ev.url, b->st.fetch_req, &text, NULL, &res);
        it->fetch_status = fetch_status_name(st);
        if (st == FETCH_OK && (it->fetched_text = strdup(buf_cstr(&text)))) it->ev.text = it->fetched_text;
        else log_kv(LOG_INFO, "page not fetched; stored without it", "event_id", it->ev.id,
                    "fetch_status", it->fetch_status, "error", res.err, NULL);
        fetch_result_free(&res);
    }
    buf_free(&text);
    return rc;
}

static extract_input_t item_input(const item_t *it)
{
    return (extract_input_t){it->ev.kind, it->ev.title, it->ev.text, it->ev.source,
                             it->ev.lang, it->ev.repo, it->ev.tags};
}

#define ENTITIES_MAX 64

/* Gives the item its extraction: json and meta (taken: "by\0version\0"
 * then the n entity names, each NUL-terminated). -1 when either is NULL
 * (out of memory; both are freed). */
static int item_keep_extraction(item_t *it, char *json, char *meta, size_t n_entities)
{
    if (!json || !meta) {
        free(json);
        free(meta);
        return -1;
    }
    free(it->extracted_meta);
    it->extraction_json = json;
    it->extracted_meta = meta;
    it->extracted_by = meta;
    it->extractor_version = meta + strlen(meta) + 1;
    it->n_entities = n_entities;
    return 0;
}

/* Keeps what the item needs of x (an extraction object), then frees x.
 * -1 when out of memory (the item has no extraction then). */
static int item_set_extraction(item_t *it, cJSON *x)
{
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(x, "extracted_by");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(x, "extractor_version");
    const char *strs[2 + ENTITIES_MAX] = {cJSON_IsString(by) ? by->valuestring : "builtin",
                                          cJSON_IsString(ver) ? ver->valuestring : EXTRACTOR_BUILTIN_VERSION};
    size_t n = 2 + extraction_entity_names(x, strs + 2, ENTITIES_MAX), len = 0;
    for (size_t i = 0; i < n; i++) len += strlen(strs[i]) + 1;
    char *json = json_print_alloc(x), *meta = malloc(len + 1);
    if (meta) {
        char *p = meta;
        for (size_t i = 0; i < n; i++) p = stpcpy(p, strs[i]) + 1;
    }
    cJSON_Delete(x);
    return item_keep_extraction(it, json, meta, n - 2);
}

/* The same for the built-in extractor's text (extractor_run_text), copied. */
static int item_set_builtin_extraction(item_t *it, const extraction_text_t *t)
{
    static const char head[] = "builtin\0" EXTRACTOR_BUILTIN_VERSION;
    char *json = malloc(t->json.len + 1), *meta = malloc(sizeof(head) + t->names.len);
    if (json) memcpy(json, t->json.data, t->json.len + 1);
    if (meta) {
        memcpy(meta, head, sizeof(head));
        if (t->names.len) memcpy(meta + sizeof(head), t->names.data, t->names.len);
    }
    return item_keep_extraction(it, json, meta, t->n_names < ENTITIES_MAX ? t->n_names : ENTITIES_MAX);
}

static void llm_observe(batch_t *b, const llm_batch_stats_t *st)
{
    llm_counters_t c;
    llm_counters(b->st.llm, &c);
    metrics_set(METRIC_LLM_REQUESTS, NULL, (double)c.requests);
    for (int k = 0; k < LLM_FAIL_KINDS; k++) {
        if (!c.failures[k]) continue;
        const char *label[] = {llm_fail_name((llm_fail_t)k)};
        metrics_set(METRIC_LLM_ERRORS, label, (double)c.failures[k]);
    }
    metrics_set(METRIC_LLM_BREAKER_STATE, NULL, c.breaker_state);
    metrics_observe(METRIC_LLM_SECONDS, NULL, (double)st->elapsed_ms / 1000.0);
}

/* The LLM pass: every event not yet extracted is sent, concurrently, while
 * the serve callback keeps the consumer alive. Answers are kept on the
 * items (a retried batch does not pay for them again). Returns -1 when the
 * callback aborted the flush. */
static int stage_extract_llm(batch_t *b, char *err, size_t errlen)
{
    size_t n = 0;
    for (size_t i = 0; i < b->cur.n; i++) {
        item_t *it = &b->cur.items[i];
        if (it->state != ITEM_OK || !it->checked || it->extraction_json) continue;
        b->todo[n] = i;
        b->llm_in[n++] = item_input(it);
    }
    if (n == 0 || llm_batch_start(b->st.llm, b->llm_in, n, 0) != 0) return 0;
    batch_serve_t ask = BATCH_SERVE_CONTINUE;
    while (llm_batch_step(b->st.llm, 100) == 0) {
        ask = b->st.serve ? b->st.serve(b->st.serve_opaque) : BATCH_SERVE_CONTINUE;
        if (ask != BATCH_SERVE_CONTINUE) break;
    }
    llm_batch_stats_t st;
    llm_batch_finish(b->st.llm, b->llm_out, &st);
    llm_observe(b, &st);
    for (size_t k = 0; k < n; k++) {
        item_t *it = &b->cur.items[b->todo[k]];
        if (!b->llm_out[k]) continue;
        if (item_set_extraction(it, b->llm_out[k]) != 0) continue;
        b->stats.llm_extracted++;
    }
    if (ask == BATCH_SERVE_ABORT) {
        snprintf(err, errlen, "flush interrupted while waiting for the LLM (rebalance)");
        return -1;
    }
    return 0;
}

/* Looked up (and so extracted) first. */
static int item_needs_cluster(const item_t *it)
{
    return it->state == ITEM_OK && it->checked && !it->cluster_id && !it->reextract;
}

/* What clustering reads of an item; names has room for ENTITIES_MAX. */
static cluster_doc_t item_cluster_doc(const item_t *it, const char **names)
{
    const char *p = it->extractor_version;
    for (size_t k = 0; k < it->n_entities; k++) names[k] = p = p + strlen(p) + 1;
    return (cluster_doc_t){it->ev.id, it->ev.title, it->ev.text, it->ev.lang, names, it->n_entities,
                           it->ev.published_at_us, NULL};
}

/* An item's words to cluster, from the extractor's tokens of it when given
 * (tokens: NULL, or what extractor_run_text recorded for this item). */
static void item_build_words(batch_t *b, item_t *it, const text_words_t *tokens)
{
    if (it->has_words || !item_needs_cluster(it)) return;
    const char *names[ENTITIES_MAX];
    cluster_doc_t doc = item_cluster_doc(it, names);
    doc.tokens = tokens;
    it->has_words = cluster_words_build(cluster_engine_config(b->st.clusters), &doc, &it->words) == 0;
}

/* The built-in pass over b->todo[0 .. n), shared by the extraction
 * threads: each takes the next item until none is left. */
typedef struct {
    batch_t *b;
    size_t n;
    atomic_size_t next;
} extract_pass_t;

/* One thread's part of the pass (k: its scratch). Whatever happens to an
 * item is recorded on the item. */
static void extract_items(void *opaque, size_t k)
{
    extract_pass_t *p = opaque;
    batch_t *b = p->b;
    extract_scratch_t *x = &b->xs[k];
    for (size_t j; (j = atomic_fetch_add(&p->next, 1)) < p->n;) {
        item_t *it = &b->cur.items[b->todo[j]];
        extract_input_t in = item_input(it);
        char e[256];
        if (extractor_run_text(b->st.extractor, &in, x->tokens, &x->extraction, e, sizeof(e)) != 0) {
            mark_dead(it, "extract_failed", "extract", e);
            continue;
        }
        if (item_set_builtin_extraction(it, &x->extraction) != 0) {
            mark_dead(it, "extract_failed", "extract", "out of memory");
            continue;
        }
        x->fallbacks++;
        item_build_words(b, it, x->tokens);
    }
}

/* Stage extract: the LLM when configured, the built-in extractor for every
 * event still without an extraction (the default, and the fallback for any
 * LLM failure: the event is fine, the LLM failed). Once per event, kept
 * across retries of the batch. A failure of the built-in extractor on one
 * event's input is that event's permanent fault. The events are
 * independent: the built-in pass runs on extract.threads threads. */
static int stage_extract(batch_t *b, char *err, size_t errlen)
{
    if (b->st.llm && stage_extract_llm(b, err, errlen) != 0) return -1;
    extract_pass_t p = {.b = b};
    for (size_t i = 0; i < b->cur.n; i++) {
        const item_t *it = &b->cur.items[i];
        if (it->state == ITEM_OK && it->checked && !it->extraction_json) b->todo[p.n++] = i;
    }
    if (p.n == 0) return 0;
    atomic_init(&p.next, 0);
    size_t nx = workers_count(b->workers);
    for (size_t k = 0; k < nx; k++) b->xs[k].fallbacks = 0;
    /* a lone event is not worth waking the workers for */
    if (p.n == 1) extract_items(&p, 0);
    else workers_run(b->workers, extract_items, &p);
    for (size_t k = 0; k < nx && b->st.llm; k++) b->stats.llm_fallbacks += b->xs[k].fallbacks;
    return 0;
}

/* Kafka position order: topic, partition, offset. */
static int item_position_cmp(const void *a, const void *b)
{
    const rd_kafka_message_t *x = (*(item_t *const *)a)->msg, *y = (*(item_t *const *)b)->msg;
    int t = strcmp(rd_kafka_topic_name(x->rkt), rd_kafka_topic_name(y->rkt));
    if (t) return t;
    if (x->partition != y->partition) return x->partition < y->partition ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static void on_cluster_read(void *opaque, const cluster_state_t *st, int64_t merged_into)
{
    batch_t *b = opaque;
    char err[256];
    if (cluster_engine_sync(b->st.clusters, st, merged_into, err, sizeof(err)) == 0) b->clusters_read++;
}

/* Reads what changed in the store into the engine. */
static int clusters_sync(batch_t *b, store_t *store, size_t *read, char *err, size_t errlen)
{
    b->clusters_read = 0;
    int first = !b->clusters_synced;
    store_rc_t rc = store_clusters_load(store, first ? NULL : b->st.instance, &b->cluster_version,
                                        first ? b->cluster_cache_max : LONG_MAX, CLUSTER_TERMS_STORED,
                                        on_cluster_read, b, err, errlen);
    if (rc == STORE_OK) b->clusters_synced = 1;
    if (read) *read = b->clusters_read;
    return rc == STORE_OK ? 0 : -1;
}

int batch_clusters_sync(batch_t *b, size_t *read, char *err, size_t errlen)
{
    return clusters_sync(b, b->st.store, read, err, errlen);
}

/* A row for the writer to look up under its hold (stage_skip_stored). */
static int item_needs_lookup(const batch_t *b, const item_t *it)
{
    return it->state == ITEM_OK && !it->reextract && (!b->hold || it->lookup_hold != b->hold);
}

/* The words of the batch's events to cluster, on the caller's thread: the
 * writer, which clusters under the lock, then only looks them up. The
 * built-in extractor's events have theirs already (stage_extract); an item
 * without them (out of memory) is tokenised by the writer. */
static void stage_words(batch_t *b)
{
    for (size_t i = 0; i < b->cur.n; i++) item_build_words(b, &b->cur.items[i], NULL);
}

/* Stage cluster: each event joins or founds a story cluster, batch after
 * batch, and within what one call clusters by topic, partition and offset;
 * each row stores its place (cluster_seq, with ingested_at one per batch),
 * so `replay --rebuild` repeats the order (rebuild.h). The clusters' new
 * terms (collect_cluster_terms) are written in the rows' transaction.
 * Clustering happens under the clustering lock, on the engine brought up to
 * date with every other instance's writes: instances make their decisions
 * one batch at a time (clustering on an engine another instance may change
 * meanwhile would let two of them found the same story at the same time).
 * The writer clusters what is left of a batch (hold 0); the caller clusters
 * ahead, during the writer's hold, the items looked up in that same hold.
 * *n counts the items clustered. */
static int stage_cluster(batch_t *b, gen_t *g, unsigned hold, size_t *n, char *err, size_t errlen)
{
    item_t **ord = malloc((g->n ? g->n : 1) * sizeof(item_t *));
    if (!ord) {
        snprintf(err, errlen, "out of memory clustering");
        return -1;
    }
    /* Only the items this call clusters are ordered: clustering ahead
     * calls it once per prepared chunk. */
    size_t nord = 0;
    for (size_t i = 0; i < g->n; i++)
        if (item_needs_cluster(&g->items[i]) && (!hold || g->items[i].lookup_hold == hold)) ord[nord++] = &g->items[i];
    if (nord > 1) qsort(ord, nord, sizeof(item_t *), item_position_cmp);
    int rc = 0;
    *n = 0;
    for (size_t i = 0; i < nord && rc == 0; i++) {
        item_t *it = ord[i];
        const char *names[ENTITIES_MAX];
        cluster_doc_t doc = item_cluster_doc(it, names);
        cluster_result_t res;
        if ((it->has_words ? cluster_engine_add_words(b->st.clusters, &doc, &it->words, &res, err, errlen)
                           : cluster_engine_add(b->st.clusters, &doc, &res, err, errlen)) != 0) {
            rc = -1;
            break;
        }
        it->cluster_id = res.cluster_id;
        it->cluster_seq = ++g->clustered;
        (*n)++;
        cluster_words_free(&it->words);
        it->has_words = 0;
        for (size_t m = 0; m < res.n_merges && rc == 0; m++) {
            if (cluster_merges_append(&g->merges, &g->n_merges, &g->merges_cap, res.merges[m]) != 0) rc = -2;
            /* Events of this batch already placed in the absorbed cluster
             * follow it (their rows are written with the survivor's id). */
            for (size_t j = 0; j < g->n; j++)
                if (g->items[j].cluster_id == res.merges[m].from) g->items[j].cluster_id = res.merges[m].into;
        }
    }
    free(ord);
    if (rc == -2) snprintf(err, errlen, "out of memory clustering");
    return rc ? -1 : 0;
}

/* The rows to write that another writer may have stored since they were
 * looked up (a group sharing the database), looked up again under the
 * clustering lock: before the engine counts them a second time, and because
 * store_batch_commit inserts the rows without a conflict check. A row
 * looked up during the writer's current hold needs no second look: no
 * other writer stored anything since (and mark_batch_duplicates checked it
 * against the batch then being written). Writer side. */
static int stage_skip_stored(batch_t *b, gen_t *g, size_t *known, char *err, size_t errlen)
{
    size_t n = 0;
    for (size_t i = 0; i < g->n; i++)
        if (item_needs_lookup(b, &g->items[i])) b->wids[n++] = g->items[i].ev.id;
    if (n == 0) return 0;
    if (store_events_known(b->st.writer_store, b->wids, n, b->wknown, err, errlen) != STORE_OK) return -1;
    size_t k = 0;
    for (size_t i = 0; i < g->n; i++) {
        item_t *it = &g->items[i];
        if (!item_needs_lookup(b, it)) continue;
        if (b->wknown[k++]) {
            it->state = ITEM_KNOWN;
            (*known)++;
        } else {
            it->lookup_hold = b->hold;
        }
    }
    return 0;
}

/* The terms of the clusters the run changed (its events' clusters and its
 * merges' survivors), as the engine has them now, into b->cterms. Writer
 * side. */
static int collect_cluster_terms(batch_t *b, const gen_t *g)
{
    int64_t *ids = malloc((g->n + 1) * sizeof(*ids));
    if (!ids) return -1;
    for (size_t i = 0; i < g->n; i++) ids[i] = g->items[i].state == ITEM_OK ? g->items[i].cluster_id : 0;
    b->n_cterms = 0;
    int rc = cluster_engine_top_terms(b->st.clusters, ids, g->n, g->merges, g->n_merges, CLUSTER_TERMS_STORED,
                                      &b->cterms, &b->n_cterms, &b->cterms_cap);
    free(ids);
    return rc;
}

/* The run's next offset per partition, into b->offs. */
static int collect_offsets(batch_t *b, const gen_t *g)
{
    size_t n = 0;
    for (size_t i = 0; i < g->n; i++) {
        const char *topic = rd_kafka_topic_name(g->items[i].msg->rkt);
        int32_t p = g->items[i].msg->partition;
        int64_t next = g->items[i].msg->offset + 1;
        size_t k = 0;
        while (k < n && !(b->offs[k].partition == p && strcmp(b->offs[k].topic, topic) == 0)) k++;
        if (k == n) {
            if (n == b->offs_cap) {
                size_t cap = b->offs_cap ? b->offs_cap * 2 : 16;
                store_offset_t *o = realloc(b->offs, cap * sizeof(*o));
                if (!o) return -1;
                b->offs = o;
                b->offs_cap = cap;
            }
            b->offs[n++] = (store_offset_t){topic, p, next};
        } else if (next > b->offs[k].next_offset) {
            b->offs[k].next_offset = next;
        }
    }
    b->n_offs = n;
    return 0;
}

/* The engine back from the caller before the writer clusters: no more
 * clustering ahead until the writer lends it again. Writer side. */
static void engine_take(batch_t *b)
{
    pthread_mutex_lock(&b->mu);
    b->ahead_ok = 0;
    while (b->ahead_busy) pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
}

/* Clustering ahead, on the caller's thread, while the writer holds the
 * clustering lock and is past its own clustering (it writes the previous
 * batch meanwhile): what the writer would do for these items at the
 * batch's turn, taken off its path. An item qualifies once looked up in
 * the store during this same hold (a second lookup otherwise): together
 * with the in-memory check against the batch being written
 * (mark_batch_duplicates), nothing stored it since. What is left (not
 * prepared yet, or found stored now) the writer clusters after. */
static void cur_cluster_ahead(batch_t *b)
{
    pthread_mutex_lock(&b->mu);
    unsigned hold = b->ahead_ok ? b->hold : 0;
    b->ahead_busy = hold != 0;
    pthread_mutex_unlock(&b->mu);
    if (!hold) return;
    char err[512];
    size_t n = 0, done = 0;
    for (size_t i = 0; i < b->cur.n; i++)
        if (item_needs_cluster(&b->cur.items[i]) && b->cur.items[i].lookup_hold != hold)
            b->ids[n++] = b->cur.items[i].ev.id;
    if (n > 0 && store_events_known(b->st.store, b->ids, n, b->known, err, sizeof(err)) == STORE_OK) {
        size_t k = 0;
        for (size_t i = 0; i < b->cur.n; i++) {
            item_t *it = &b->cur.items[i];
            if (item_needs_cluster(it) && it->lookup_hold != hold && !b->known[k++]) it->lookup_hold = hold;
        }
    }
    if (stage_cluster(b, &b->cur, hold, &done, err, sizeof(err)) != 0)
        log_kv(LOG_DEBUG, "clustering ahead stopped; the writer clusters the rest", "error", err, NULL);
    pthread_mutex_lock(&b->mu);
    b->cur_ahead += done;
    b->ahead_busy = 0;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    b->stats.clustered_ahead += done;
    if (done) metrics_add(METRIC_EVENTS_CLUSTERED_AHEAD, NULL, (double)done);
}

/* Writes the run in one transaction: dead letters first (acknowledged),
 * then, when it has events to cluster or clustered ones, the clustering
 * lock, the other instances' changes read into the engine, the events
 * stored meanwhile skipped, the clustering and the changed clusters' terms
 * (this batch's rows also follow merges made meanwhile in the store), then
 * the rows, dead-letter mirror, merges, terms and next offsets.
 * Rows the database rejects become dead letters and the rest go again.
 * Writer side. */
static int run_write(batch_t *b, char *err, size_t errlen)
{
    gen_t *g = &b->run;
    memset(&b->wstats, 0, sizeof(b->wstats));
    if (reserve_wscratch(b, g->n) != 0 || collect_offsets(b, g) != 0) {
        snprintf(err, errlen, "out of memory preparing a batch");
        return -1;
    }
    size_t known = 0;
    for (int round = 0;; round++) {
        if (send_dead_letters(b, g, err, errlen) != 0) return -1;
        int unclustered = 0, clustered = g->n_merges > 0;
        for (size_t i = 0; i < g->n; i++) {
            unclustered |= item_needs_cluster(&g->items[i]);
            clustered |= g->items[i].state == ITEM_OK && g->items[i].cluster_id != 0;
        }
        /* Cluster writes are serialised across instances: the versions that
         * clusters_sync() reads past are then committed in order. */
        b->n_cterms = 0;
        if (clustered || unclustered) {
            engine_take(b);
            int fresh, waiting;
            if (store_cluster_lock(b->st.writer_store, &fresh, &waiting, err, errlen) != STORE_OK) return -1;
            if (fresh) {
                pthread_mutex_lock(&b->mu);
                if (++b->holds == 0) b->holds = 1; /* 0 means no hold */
                b->hold = b->holds;
                pthread_mutex_unlock(&b->mu);
            }
            /* Held from before, the lock kept every other writer out since
             * the last read. */
            int rc = fresh || !b->clusters_synced ? clusters_sync(b, b->st.writer_store, NULL, err, errlen) : 0;
            size_t nc = 0;
            if (rc == 0) rc = stage_skip_stored(b, g, &known, err, errlen);
            if (rc == 0 && unclustered) rc = stage_cluster(b, g, 0, &nc, err, errlen);
            if (rc == 0 && collect_cluster_terms(b, g) != 0) {
                snprintf(err, errlen, "out of memory collecting cluster terms");
                rc = -1;
            }
            if (rc != 0) {
                store_cluster_unlock(b->st.writer_store);
                return -1;
            }
            /* A waiting instance gets the lock after this batch: nothing is
             * clustered ahead that would keep it. */
            pthread_mutex_lock(&b->mu);
            b->ahead_ok = !waiting;
            pthread_mutex_unlock(&b->mu);
        }
        size_t nrows = 0, ndead = 0;
        for (size_t i = 0; i < g->n; i++) {
            item_t *it = &g->items[i];
            if (it->state == ITEM_KNOWN) continue;
            if (it->state == ITEM_DEAD) {
                b->dead[ndead++] = (store_dead_t){rd_kafka_topic_name(it->msg->rkt),
                                                  it->msg->partition, it->msg->offset,
                                                  it->err_class, it->err_stage, it->err_msg,
                                                  dlq_topic_for(b, g, i)};
                continue;
            }
            store_row_t *r = &b->rows[nrows++];
            memset(r, 0, sizeof(*r));
            r->ev = &it->ev;
            r->topic = rd_kafka_topic_name(it->msg->rkt);
            r->partition = it->msg->partition;
            r->offset = it->msg->offset;
            r->extraction_json = it->extraction_json;
            r->extracted_by = it->extracted_by;
            r->extractor_version = it->extractor_version;
            r->cluster_id = it->cluster_id;
            r->cluster_seq = it->cluster_seq;
            r->fetch_status = it->fetch_status;
            r->reextract = it->reextract;
        }
        store_cluster_ops_t ops = {g->merges, g->n_merges, b->st.instance, b->cterms, b->n_cterms};
        double t0 = clock_monotonic_s();
        store_rc_t rc = store_batch_commit(b->st.writer_store, b->group, b->rows, nrows, b->dead, ndead,
                                           b->offs, b->n_offs, &ops, err, errlen);
        metrics_observe(METRIC_PG_COMMIT_SECONDS, NULL, clock_monotonic_s() - t0);
        if (rc == STORE_OK) {
            size_t inserted = 0;
            for (size_t i = 0; i < nrows; i++) inserted += b->rows[i].inserted;
            b->wstats.persisted = inserted;
            b->wstats.duplicates = nrows - inserted + known;
            b->wstats.dead = ndead;
            return 0;
        }
        if (rc == STORE_TRANSIENT || round >= 3) return -1;
        /* STORE_REJECTED: the marked rows become dead letters; the rest go
         * through on the next round. */
        size_t r = 0;
        for (size_t i = 0; i < g->n; i++) {
            item_t *it = &g->items[i];
            if (it->state != ITEM_OK) continue;
            store_row_t *row = &b->rows[r++];
            if (!row->rejected) continue;
            char msg[300];
            snprintf(msg, sizeof(msg), "SQLSTATE %s: %s", row->reject_sqlstate, row->reject_msg);
            mark_dead(it, strcmp(row->reject_sqlstate, "57014") == 0 ? "statement_timeout" : "db_rejected",
                      "persist", msg);
            log_kv(LOG_WARN, "row rejected by the database; dead-lettering it", "event_id",
                   it->ev.id, "sqlstate", row->reject_sqlstate, NULL);
        }
    }
}

/* After a run: the clustering lock is kept while the caller clusters, or
 * has clustered, items of the next batch under it (they are written under
 * the same hold), and let go otherwise, after a failure in any case (the
 * retry takes it again and reads the others' changes). Writer side, with
 * mu held; unlocks it around the release. */
static void hold_settle(batch_t *b, int failed)
{
    if (!b->hold && !store_cluster_held(b->st.writer_store)) return;
    if (!failed && b->hold && (b->ahead_busy || b->cur_ahead > 0)) return;
    b->hold = 0;
    b->ahead_ok = 0;
    pthread_mutex_unlock(&b->mu);
    store_cluster_release(b->st.writer_store);
    pthread_mutex_lock(&b->mu);
}

static void *writer_main(void *arg)
{
    batch_t *b = arg;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (b->wstate != WRITER_BUSY && !b->wquit) {
            hold_settle(b, 0);
            if (b->wstate != WRITER_BUSY && !b->wquit) pthread_cond_wait(&b->cv, &b->mu);
        }
        if (b->wstate != WRITER_BUSY) break;
        pthread_mutex_unlock(&b->mu);
        char err[512];
        int rc = run_write(b, err, sizeof(err));
        pthread_mutex_lock(&b->mu);
        hold_settle(b, rc != 0);
        if (rc != 0) snprintf(b->werr, sizeof(b->werr), "%s", err);
        b->wstate = rc == 0 ? WRITER_OK : WRITER_FAILED;
        pthread_cond_broadcast(&b->cv);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

/* handed: the run is the batch that was cur (its items clustered ahead
 * are the run's now), not a retry. */
static void writer_start(batch_t *b, int handed)
{
    for (size_t i = 0; i < b->run.n; i++) b->run.items[i].attempts++;
    pthread_mutex_lock(&b->mu);
    if (handed) b->cur_ahead = 0;
    b->wstate = WRITER_BUSY;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

/* The run is durable: its counts join the totals, its offsets join those
 * not yet handed out, its items go. */
static void run_taken(batch_t *b)
{
    if (b->out_taken) {
        b->out.n = 0;
        b->out_taken = 0;
    }
    for (size_t k = 0; k < b->n_offs; k++) {
        const store_offset_t *o = &b->offs[k];
        size_t j = 0;
        while (j < b->out.n && !(b->out.partitions[j] == o->partition && strcmp(b->out.topics[j], o->topic) == 0))
            j++;
        if (j == b->out.n) {
            if (b->out.n == b->out_cap) {
                size_t cap = b->out_cap ? b->out_cap * 2 : 16;
                const char **t = realloc(b->out.topics, cap * sizeof(*t));
                if (t) b->out.topics = t;
                int32_t *pp = realloc(b->out.partitions, cap * sizeof(*pp));
                if (pp) b->out.partitions = pp;
                int64_t *nx = realloc(b->out.next, cap * sizeof(*nx));
                if (nx) b->out.next = nx;
                /* The Kafka mirror only: PostgreSQL has the offsets already. */
                if (!t || !pp || !nx) break;
                b->out_cap = cap;
            }
            b->out.topics[j] = o->topic;
            b->out.partitions[j] = o->partition;
            b->out.next[j] = o->next_offset;
            b->out.n++;
        } else if (o->next_offset > b->out.next[j]) {
            b->out.next[j] = o->next_offset;
        }
    }
    b->stats.persisted += b->wstats.persisted;
    b->stats.duplicates += b->wstats.duplicates;
    b->stats.dead += b->wstats.dead;
    gen_clear(&b->run);
    pthread_mutex_lock(&b->mu);
    b->wstate = WRITER_IDLE;
    pthread_mutex_unlock(&b->mu);
}

/* Brings the run to an end: waits for the writer; a failure is reported
 * once (-1, err), and the next call writes the run again. 0 when there is
 * no run left. */
static int run_settle(batch_t *b, char *err, size_t errlen)
{
    for (int again = 0; b->run.n > 0; again++) {
        writer_wait(b, 1);
        pthread_mutex_lock(&b->mu);
        writer_state_t st = b->wstate;
        if (st == WRITER_FAILED) {
            snprintf(err, errlen, "%s", b->werr);
            b->wstate = WRITER_IDLE;
        }
        pthread_mutex_unlock(&b->mu);
        if (st == WRITER_OK) {
            run_taken(b);
            return 0;
        }
        if (st == WRITER_FAILED || again) return -1;
        writer_start(b, 0); /* a run whose failure was reported: its retry */
    }
    return 0;
}

/* The batch being filled, up to extraction: duplicates and stored events
 * skipped, pages fetched, extracted. Each step skips what it did before. */
static int cur_prepare(batch_t *b, int final, char *err, size_t errlen)
{
    if (reserve_scratch(b, b->cur.n) != 0) {
        snprintf(err, errlen, "out of memory preparing a batch");
        return -1;
    }
    if (stage_skip_known(b, final, err, errlen) != 0) return -1;
    if (b->st.fetcher && stage_fetch(b, err, errlen) != 0) return -1;
    if (stage_extract(b, err, errlen) != 0) return -1;
    stage_words(b);
    b->cur_prepared = b->cur.n;
    cur_cluster_ahead(b);
    return 0;
}

size_t batch_unprepared(const batch_t *b) { return b->cur.n - b->cur_prepared; }

int batch_lookup_pending(const batch_t *b) { return b->lookup_inflight; }

void batch_prepare(batch_t *b, int all)
{
    if (b->st.llm || b->st.fetcher || (b->cur_prepared == b->cur.n && !b->lookup_inflight)) return;
    char err[512];
    if (cur_prepare(b, all, err, sizeof(err)) != 0)
        log_kv(LOG_DEBUG, "batch not prepared ahead; the flush tries again", "error", err, NULL);
}

int batch_flush(batch_t *b, int wait, batch_offsets_t *out, char *err, size_t errlen)
{
    out->n = 0;
    if (b->cur.n == 0 && b->run.n == 0) return 0;
    b->stats.flushes++;
    if (b->cur.n > 0 && cur_prepare(b, 1, err, errlen) != 0) goto transient;
    if (run_settle(b, err, errlen) != 0) goto transient;
    if (b->cur.n > 0) {
        gen_t t = b->run;
        b->run = b->cur;
        b->cur = t;
        b->cur_prepared = 0;
        for (size_t i = 0; i < b->run.n; i++) b->run.items[i].handed_ok = b->run.items[i].state == ITEM_OK;
        writer_start(b, 1);
        if (wait && run_settle(b, err, errlen) != 0) goto transient;
    }
    *out = b->out;
    b->out_taken = 1;
    return 0;

transient:
    b->stats.transient_failures++;
    return -1;
}

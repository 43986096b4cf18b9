/* batch: batches of messages through the stages.
 *
 *   add:   decode + validate each message as it arrives (permanent failures
 *          are marked for the dead-letter topic, never dropped);
 *   flush: extract (on extract.threads threads, the caller's among them:
 *          events are independent) -> hand the batch to the writer thread,
 *          which sends its dead letters (acknowledged) and writes it in one
 *          PostgreSQL transaction (the clustering lock, other instances'
 *          cluster changes read, cluster, rows, dead-letter mirror, next
 *          offsets),
 *          while the caller goes on polling and extracting the next batch.
 *          The next flush first waits for that transaction: batches are
 *          written in order, at most one at a time, and one flush hands
 *          back the offsets the previous made durable (for the Kafka
 *          mirror commit). While the writer keeps the clustering lock
 *          from one batch to the next (no other instance waits for it),
 *          the caller clusters the next batch as it prepares it, and the
 *          writer clusters only what is left.
 *
 * batch.c calls store.c and dlq.c and knows neither SQL nor the Kafka
 * protocol. A transient failure leaves the batch intact for a retry: its
 * offsets do not advance and nothing is dead-lettered because of it. */
#ifndef SHOAL_BATCH_H
#define SHOAL_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "cluster.h"
#include "config.h"
#include "dlq.h"
#include "extract/extract.h"
#include "extract/llm.h"
#include "fetch.h"
#include "store.h"

typedef struct batch batch_t;

typedef struct {
    uint64_t consumed, persisted, duplicates, dead, flushes, transient_failures;
    uint64_t llm_extracted, llm_fallbacks; /* events extracted by the LLM / by the fallback */
    uint64_t clustered_ahead;              /* events clustered while the previous batch was written */
} batch_stats_t;

/* Offsets made durable since the previous successful flush, for the Kafka
 * mirror. */
typedef struct {
    const char **topics;
    int32_t *partitions;
    int64_t *next;
    size_t n;
} batch_offsets_t;

/* What the serve callback asks of a flush waiting on the LLM. */
typedef enum {
    BATCH_SERVE_CONTINUE = 0,
    BATCH_SERVE_FALLBACK, /* stop waiting: unanswered events use the built-in extractor */
    BATCH_SERVE_ABORT     /* give the flush up (transient): the batch changed under it */
} batch_serve_t;

/* The stages a batch borrows; each must outlive the batch. */
typedef struct {
    store_t *store;        /* lookups repeated to cluster ahead, and the cluster cache read at startup */
    store_t *lookup_store; /* lookups sent ahead (batch_prepare), answered while it works */
    store_t *writer_store; /* the writer thread's own connection */
    dlq_t *dlq;            /* used by the writer thread only */
    const extractor_t *extractor;
    cluster_engine_t *clusters;
    const char *instance; /* this consumer's name, recorded on clusters */
    /* Optional. The LLM extractor: events it answers for are stored with its
     * extraction, the others with the built-in one (never dead-lettered for
     * an LLM failure). */
    llm_t *llm;
    /* Called about every 100 ms while LLM requests are in flight, so the
     * caller can keep polling Kafka (max.poll.interval.ms) with partitions
     * paused; NULL means wait for the LLM's own batch deadline. */
    batch_serve_t (*serve)(void *opaque);
    void *serve_opaque;
    /* Optional (fetch.enabled): events with a URL but no text get the page's
     * main text before extraction; the outcome is stored as fetch_status and
     * a failed fetch is never a dead letter. serve is called between pages. */
    fetcher_t *fetcher;
    const fetch_req_t *fetch_req;
} batch_stages_t;

/* Starts the writer thread. NULL with err when it cannot. */
batch_t *batch_new(const config_t *cfg, const batch_stages_t *stages, char *err, size_t errlen);
/* Waits for the batch being written, then stops the writer thread. */
void batch_destroy(batch_t *b);

/* Takes ownership of m. */
void batch_add(batch_t *b, rd_kafka_message_t *m);
/* Messages in the batch being filled. */
size_t batch_count(const batch_t *b);
/* Messages handed to the writer and not yet durable (being written, or
 * failed and waiting for the next flush to write them again). */
size_t batch_pending(const batch_t *b);
/* 1 when no batch is being written: a flush now would not wait for one. */
int batch_writer_free(batch_t *b);

/* Looks up and extracts the messages added since the last call, so that
 * the flush can hand the batch to the writer at once: called while the
 * writer is busy. Unless all (the caller has nothing else to do), the
 * lookup of the messages added last is left in flight, answered while the
 * caller polls and decodes more; the next call, or the flush, collects it
 * and extracts them. Only work that needs no waiting: with an LLM or page
 * fetching configured it does nothing (the flush waits for those while
 * polling). A failure is left to the flush, which does the same work and
 * reports it. */
void batch_prepare(batch_t *b, int all);
/* Messages of the batch being filled that batch_prepare() has not seen. */
size_t batch_unprepared(const batch_t *b);
/* 1 while a lookup batch_prepare() sent is in flight. */
int batch_lookup_pending(const batch_t *b);

/* Prepares the batch being filled, waits for the previous one to be
 * durable, and hands this one to the writer; with wait, also waits for it.
 * 0: *out has the offsets made durable meanwhile (valid until the next
 * call; the batch just handed over is not among them unless wait); -1:
 * transient failure, err says why, everything is kept for a retry (the
 * batch written before this one first). */
int batch_flush(batch_t *b, int wait, batch_offsets_t *out, char *err, size_t errlen);

/* Forgets the messages of these partitions (revoked or lost before they
 * could be made durable; their owner will process them again). A batch
 * being written is let finish first. */
void batch_forget(batch_t *b, const rd_kafka_topic_partition_list_t *parts);

const batch_stats_t *batch_stats(const batch_t *b);

/* Reads stored clusters into the clustering engine: at the first call the
 * cluster.cache.max most recently seen (a warm cache at startup), then the
 * clusters other instances changed since the previous call, merged-away
 * ones leaving the cache. Every flush calls it under the clustering lock
 * before clustering. *read (may be NULL): clusters read. 0, or -1 with err
 * (transient: the database). */
int batch_clusters_sync(batch_t *b, size_t *read, char *err, size_t errlen);

#endif

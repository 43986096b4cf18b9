/* rebuild: `shoal-consumer replay --rebuild` recomputes the derived tables
 * from the events stored in PostgreSQL, without Kafka: extraction (with its
 * tags and facts), story clusters and trends. For when the extraction or
 * clustering code or settings change.
 *
 *   extraction  events extracted by the built-in extractor (extracted_by
 *               'builtin' or none) are extracted again; any other extraction
 *               (the LLM's, paid work) is kept as stored, unless an LLM is
 *               given (--reextract): then it goes through the LLM again,
 *               and keeps the stored one where the LLM does not answer.
 *               Tags and facts follow the extraction (views of it).
 *   clusters    a fresh cluster engine (the caller's configuration, as the
 *               consumer builds it) sees the events in the order the
 *               consumer clusters them (batch by batch: ingested_at, then
 *               topic, partition, offset) and the results are written as
 *               the consumer's batches write them; so a rebuild of one
 *               uninterrupted single-instance run with the same settings
 *               reproduces its event -> cluster assignment.
 *   trends      recomputed from the new clusters (trend_update).
 *
 * All of it is one transaction under the rebuild lock (store.h): refused
 * while consumers run, and readers see the old or the new derived state,
 * never a mix. Events are read in pages, never all at once. */
#ifndef SHOAL_REBUILD_H
#define SHOAL_REBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "extract/extract.h"
#include "extract/llm.h"
#include "store.h"

typedef struct {
    store_t *store;
    const extractor_t *extractor;
    llm_t *llm;            /* NULL: LLM extractions are kept as stored */
    const cluster_config_t *clusters;
    const char *instance;  /* recorded on the clusters written (updated_by) */
    long trend_window_s;   /* trend.window.days in seconds */
} rebuild_opts_t;

typedef struct {
    uint64_t events;         /* events read (each exactly once) */
    uint64_t reextracted;    /* extracted again by the built-in extractor */
    uint64_t llm_reextracted;/* extracted again by the LLM (--reextract) */
    uint64_t kept;           /* other extractions kept as stored */
    uint64_t extract_failed; /* built-in failed now; stored extraction kept */
    uint64_t clusters;       /* clusters founded */
    uint64_t merges;
    size_t trends;
} rebuild_stats_t;

enum { REBUILD_OK = 0, REBUILD_FAILED = -1, REBUILD_BUSY = -2 };

/* REBUILD_OK: committed. REBUILD_BUSY: refused, the rebuild lock is held
 * (consumers running); nothing changed. REBUILD_FAILED: err says why;
 * rolled back, nothing changed. A shutdown signal (signals.h) between pages
 * is a failure too. */
int rebuild_run(const rebuild_opts_t *o, rebuild_stats_t *st, char *err, size_t errlen);

#endif

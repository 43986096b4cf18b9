/* source: the Kafka side of the consumer (librdkafka high-level consumer).
 *
 * Owns the rd_kafka_t, the subscription and the per-partition state. Offsets
 * are handled by hand: auto commit and auto offset store are off. On
 * assignment each partition starts at the offset stored in PostgreSQL
 * (hooks.load_offsets), which is the source of truth; a message below it is
 * dropped before the pipeline sees it. Kafka's committed offsets only mirror
 * PostgreSQL (source_commit_mirror), for lag tools.
 *
 * Rebalances: cooperative-sticky by default (incremental assign/unassign),
 * eager handled too. Before revoked partitions are given up,
 * hooks.on_revoke() must make their work durable or forget it; partitions
 * that were lost (the group moved on without us) are only forgotten, never
 * committed. */
#ifndef SHOAL_SOURCE_H
#define SHOAL_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "config.h"

typedef struct {
    /* Fill parts->elems[i].offset with the stored next offset, or leave
     * RD_KAFKA_OFFSET_INVALID when none is known. Returns 0, or -1 when the
     * store could not be read (then Kafka's committed offset is used). */
    int (*load_offsets)(void *opaque, rd_kafka_topic_partition_list_t *parts);
    /* lost = 1: the partitions are already someone else's. */
    void (*on_revoke)(void *opaque, const rd_kafka_topic_partition_list_t *parts, int lost);
    void *opaque;
} source_hooks_t;

typedef struct source source_t;

source_t *source_new(const config_t *cfg, const source_hooks_t *hooks, char *err, size_t errlen);
void source_destroy(source_t *s);

int source_subscribe(source_t *s, const char *topics_csv, char *err, size_t errlen);

/* The next message (caller destroys it with rd_kafka_message_destroy), or
 * NULL after timeout_ms. Partition EOFs and client errors are absorbed. */
rd_kafka_message_t *source_poll(source_t *s, int timeout_ms);

/* Pause or resume every assigned partition (transient-fault handling). */
void source_pause(source_t *s);
void source_resume(source_t *s);

/* Commits "next offset" for each (topic, partition) to Kafka, async. */
void source_commit_mirror(source_t *s, const char *const *topics, const int32_t *parts,
                          const int64_t *next, size_t n);

size_t source_assigned(const source_t *s);
/* 1 when something is assigned and every assigned partition is at its end. */
int source_caught_up(const source_t *s);
uint64_t source_rebalances(const source_t *s);
/* A fatal client error (e.g. fenced); returns 1 and the reason. */
int source_fatal(source_t *s, char *err, size_t errlen);

/* Leaves the group (the revoke hook runs for what is still assigned). */
void source_close(source_t *s);

#endif

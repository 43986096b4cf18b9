/* replay: rewind a group's stored offsets so the next run reprocesses.
 *
 * Targets: the beginning of each partition, the first offset at or after a
 * time (rd_kafka_offsets_for_times), or a fresh group. The new positions are
 * written to PostgreSQL (the source of truth) and mirrored to Kafka.
 *
 * Safety: the rewind is refused while the group has active members, when
 * the broker can say so (ListGroups/DescribeGroups). When it cannot, the
 * rewind proceeds with a warning; that is still safe for the data: rows are
 * idempotent by event id and a live member's next commit only moves the
 * offsets forward again (GREATEST), so the worst outcome is an incomplete
 * replay, never a lost or duplicated row. */
#ifndef SHOAL_REPLAY_H
#define SHOAL_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

typedef enum { REPLAY_FROM_BEGINNING = 1, REPLAY_FROM_TIMESTAMP, REPLAY_TO_GROUP } replay_mode_t;

typedef struct {
    replay_mode_t mode;
    int64_t timestamp_ms;  /* REPLAY_FROM_TIMESTAMP */
    const char *group;     /* the group whose offsets are reset (the new one for REPLAY_TO_GROUP) */
} replay_opts_t;

/* 0 done; -1 refused or failed, with err saying why. */
int replay_reset_offsets(const config_t *cfg, store_t *store, const replay_opts_t *o, char *err,
                         size_t errlen);

#endif

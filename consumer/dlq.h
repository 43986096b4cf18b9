/* dlq: the dead-letter producer.
 *
 * A dead letter keeps the original key, value, timestamp and headers, and
 * gains shoal.* headers saying what failed, where it came from and when.
 * The producer is idempotent with acks=all. dlq_send() returns only when
 * every letter of the call is acknowledged by the broker, or reports failure
 * (a transient fault: the caller retries; its source offsets must not move).
 *
 * A value larger than dlq.max.bytes is truncated, with shoal.original.size
 * and shoal.truncated headers, so an oversize message cannot stall a
 * partition. */
#ifndef SHOAL_DLQ_H
#define SHOAL_DLQ_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "config.h"

typedef struct dlq dlq_t;

typedef struct {
    const rd_kafka_message_t *msg; /* the original, borrowed */
    const char *dlq_topic;
    const char *error_class, *error_stage, *error_message;
    int attempts;
} dlq_letter_t;

dlq_t *dlq_new(const config_t *cfg, const char *group, char *err, size_t errlen);
void dlq_destroy(dlq_t *d);

/* Produces every letter and waits up to timeout_ms for all acknowledgements.
 * 0: all acknowledged. -1: at least one was not (err says why). */
int dlq_send(dlq_t *d, const dlq_letter_t *letters, size_t n, long timeout_ms, char *err,
             size_t errlen);

#endif

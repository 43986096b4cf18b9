/* kafka: shared librdkafka configuration for every client Shoal creates.
 *
 * Applies bootstrap servers, the caller's defaults, then the user's -X
 * pass-through properties (which win), and routes librdkafka's own log lines
 * through log.h. */
#ifndef SHOAL_KAFKA_H
#define SHOAL_KAFKA_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "config.h"

/* defaults: NULL-terminated key, value pairs applied before -X.
 * Returns a new conf the caller owns (or hands to rd_kafka_new), or NULL
 * with err naming the property that was refused. Topic-level "topic."
 * properties go to the default topic conf. */
rd_kafka_conf_t *kafka_conf_new(const config_t *cfg, const char *const *defaults, char *err,
                                size_t errlen);

/* The topics of a comma-separated list (the "topics" setting), each once
 * (librdkafka refuses a subscription that names a topic twice), in order,
 * blanks around names dropped (no topic name holds one), with
 * RD_KAFKA_PARTITION_UA. The caller destroys the list; NULL when out of
 * memory. */
rd_kafka_topic_partition_list_t *kafka_topics_parse(const char *csv);

#endif

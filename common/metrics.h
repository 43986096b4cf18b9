/* metrics: the process-wide Prometheus registry.
 *
 * Every metric Shoal exports is one row of SHOAL_METRICS below: its id, its
 * type, its exposition name, its label names (comma-separated, fixed for
 * the family) and its HELP text. To add or rename a metric, edit that
 * table only; metrics_init() checks the names and refuses a bad row.
 *
 * A family without labels has one series from the start (so it renders 0
 * before the first update). A labelled family gets a series per distinct
 * tuple of label values, created on first update, at most
 * METRICS_MAX_SERIES per family (updates beyond that are refused, so a bad
 * label cannot grow memory without bound).
 *
 * Histograms all measure seconds and share METRICS_SECONDS_BUCKETS.
 *
 * Thread safety: one mutex guards the whole registry, so the main loop,
 * librdkafka's callbacks and the HTTP thread may call anything here at any
 * time, and a scrape sees each histogram consistent (+Inf == _count).
 * Updates are a lock, a short lookup and an add: call them per batch or
 * per request freely.
 *
 * Values are numbers only; never put a secret (a connection string, a
 * key) into a label value.
 *
 * Before metrics_init() and after metrics_shutdown() every call is a
 * harmless no-op that returns -1, so code that updates metrics runs the
 * same in tools and tests that never initialise the registry. */
#ifndef SHOAL_METRICS_H
#define SHOAL_METRICS_H

#include <stddef.h>

#include "buf.h"

typedef enum { METRIC_COUNTER = 0, METRIC_GAUGE, METRIC_HISTOGRAM } metric_type_t;

/* Upper bounds, seconds: from a fast PostgreSQL commit to a slow LLM batch. */
#define METRICS_SECONDS_BUCKETS 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60

#define METRICS_MAX_SERIES 4096

/* X(id, type, name, labels, help) */
#define SHOAL_METRICS(X)                                                                          \
    X(METRIC_EVENTS_CONSUMED, METRIC_COUNTER, "shoal_events_consumed_total", "",                  \
      "Messages read from Kafka into a batch.")                                                   \
    X(METRIC_EVENTS_PERSISTED, METRIC_COUNTER, "shoal_events_persisted_total", "",                \
      "Events inserted into PostgreSQL as new rows.")                                             \
    X(METRIC_EVENTS_DUPLICATES, METRIC_COUNTER, "shoal_events_duplicates_total", "",              \
      "Events whose id was already stored (re-deliveries), skipped.")                             \
    X(METRIC_EVENTS_DEAD_LETTERED, METRIC_COUNTER, "shoal_events_dead_lettered_total", "class",   \
      "Messages sent to the dead-letter topic, by error class.")                                  \
    X(METRIC_EVENTS_CLUSTERED_AHEAD, METRIC_COUNTER, "shoal_events_clustered_ahead_total", "",   \
      "Events clustered by the main loop while the previous batch was written.")                  \
    X(METRIC_BATCH_RETRIES, METRIC_COUNTER, "shoal_batch_retries_total", "",                      \
      "Batch flushes that failed transiently and were retried.")                                  \
    X(METRIC_BATCH_SECONDS, METRIC_HISTOGRAM, "shoal_batch_duration_seconds", "",                 \
      "Time of one flush: extraction not done ahead, waiting for the batch being written.")      \
    X(METRIC_PG_COMMIT_SECONDS, METRIC_HISTOGRAM, "shoal_pg_commit_duration_seconds", "",         \
      "Time of one PostgreSQL batch transaction, commit included.")                               \
    X(METRIC_PG_ERRORS, METRIC_COUNTER, "shoal_pg_errors_total", "sqlstate_class",                \
      "PostgreSQL errors, by SQLSTATE class (first two characters; \"none\" when the connection broke).") \
    X(METRIC_LLM_REQUESTS, METRIC_COUNTER, "shoal_llm_requests_total", "",                        \
      "HTTP requests sent to the LLM extractor, retries included.")                               \
    X(METRIC_LLM_ERRORS, METRIC_COUNTER, "shoal_llm_errors_total", "kind",                        \
      "Failed LLM extractions, by kind (llm_fail_name()).")                                       \
    X(METRIC_LLM_SECONDS, METRIC_HISTOGRAM, "shoal_llm_batch_duration_seconds", "",               \
      "Time a batch waited for its LLM requests (they run concurrently).")                        \
    X(METRIC_LLM_BREAKER_STATE, METRIC_GAUGE, "shoal_llm_breaker_state", "",                      \
      "LLM circuit breaker: 0 closed, 1 open, 2 half-open.")                                      \
    X(METRIC_REBALANCES, METRIC_COUNTER, "shoal_rebalances_total", "",                            \
      "Consumer group rebalance callbacks (assign and revoke).")                                  \
    X(METRIC_ASSIGNED_PARTITIONS, METRIC_GAUGE, "shoal_assigned_partitions", "",                  \
      "Partitions currently assigned to this consumer.")                                          \
    X(METRIC_CONSUMER_LAG, METRIC_GAUGE, "shoal_consumer_lag", "topic,partition",                 \
      "Messages behind the partition's high watermark, from librdkafka statistics.")              \
    X(METRIC_START_TIME, METRIC_GAUGE, "process_start_time_seconds", "",                          \
      "Start time of the process since the Unix epoch, seconds.")                                 \
    X(METRIC_HEARTBEAT, METRIC_GAUGE, "shoal_main_loop_heartbeat_timestamp_seconds", "",          \
      "Last main-loop iteration, seconds since the Unix epoch.")

typedef enum {
#define METRICS_ENUM_ROW_(id, type, name, labels, help) id,
    SHOAL_METRICS(METRICS_ENUM_ROW_)
#undef METRICS_ENUM_ROW_
    METRIC_COUNT
} metric_id_t;

/* Builds the registry from SHOAL_METRICS and sets process_start_time_seconds
 * and the heartbeat to now: call it early in main(), before any thread
 * starts. Returns 0, or -1 with the reason in err (a malformed row, no
 * memory, already initialised). */
int metrics_init(char *err, size_t errlen);
/* Frees everything; the registry may be initialised again afterwards. */
void metrics_shutdown(void);

/* Updates. labels holds one value per label name of the family, in the
 * order of the row (NULL for a family without labels); the values are
 * copied. Each returns 0, or -1 when refused: not initialised, the wrong
 * type for the call, a negative or NaN counter increment, a NULL label
 * value, no memory, or METRICS_MAX_SERIES reached.
 *
 * add: counters (v >= 0) and gauges.
 * set: gauges; also counters that mirror a cumulative source (e.g.
 *      batch_stats_t), which must never decrease.
 * observe: histograms.
 * remove: hides a series from the output until it is updated again (e.g.
 *         the lag of a partition no longer assigned); labelled families
 *         only; 0 even when absent. */
int metrics_add(metric_id_t id, const char *const *labels, double v);
int metrics_set(metric_id_t id, const char *const *labels, double v);
int metrics_observe(metric_id_t id, const char *const *labels, double v);
int metrics_remove(metric_id_t id, const char *const *labels);

/* The current value of a counter or gauge series; -1 when there is none. */
int metrics_get(metric_id_t id, const char *const *labels, double *out);

/* The main loop calls this every iteration: sets the heartbeat gauge to the
 * wall clock and records a monotonic timestamp for /healthz. */
void metrics_heartbeat(void);
/* Milliseconds since the last metrics_heartbeat() (or metrics_init()), on
 * the monotonic clock; -1 when not initialised. */
long long metrics_heartbeat_age_ms(void);

/* Appends the text exposition format (version 0.0.4) of every family to
 * out: HELP and TYPE lines, then the family's samples (histograms as
 * cumulative _bucket{le=...} up to +Inf, _sum and _count). Returns 0, or -1
 * when not initialised or out ran out of memory. */
int metrics_render(buf_t *out);

/* Replaces the shoal_consumer_lag series with the consumer_lag of every
 * partition in a librdkafka statistics JSON document
 * (topics.<name>.partitions.<id>.consumer_lag), for real partitions only
 * (not the internal -1) and only where the lag is known (not -1); series of
 * partitions missing from the document are hidden. Returns the number of
 * series set, or -1 when the JSON cannot be parsed (then nothing changes)
 * or the registry is not initialised. Call it from the stats callback. */
int metrics_update_from_rdkafka_stats(const char *json);

#endif

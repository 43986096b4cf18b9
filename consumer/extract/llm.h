/* llm: the LLM extractor, over an OpenAI-compatible chat completions API
 * (POST {"model", "messages", "temperature": 0, "response_format":
 * {"type": "json_object"}} to e.g. https://host/v1/chat/completions).
 *
 * Each event becomes one request; the answer's choices[0].message.content
 * must be one JSON object (bare, or in ```json fences) that passes
 * extraction_validate() once "extracted_by" ("llm:<model>") and
 * "extractor_version" (LLM_EXTRACTOR_VERSION) are set by us. Anything else
 * fails that event's slot, and the caller falls back to the built-in
 * extractor for it. The LLM is an optional improvement, never a dependency:
 *
 * - A batch's requests run concurrently (curl multi), at most
 *   max_in_flight at once, so a batch costs about the slowest request, not
 *   the sum of them.
 * - 5xx, timeouts and connection errors are retried up to max_retries
 *   times with capped exponential back-off and jitter; a 429 waits for its
 *   Retry-After (capped at retry_after_cap_ms). Other 4xx, malformed and
 *   schema-violating answers are not retried (temperature 0 would give the
 *   same answer).
 * - Nothing outlives the batch deadline: request timeouts are clipped to
 *   it, and a retry that could not be sent before it is not attempted.
 * - A circuit breaker counts consecutive failed requests (5xx, 4xx other
 *   than 429, timeouts, connection errors; any 2xx answer counts as a
 *   success); once open, slots fail at once without a request until the
 *   cooldown lets one probe through.
 * - A request that dies on a pooled keep-alive connection before any
 *   response byte is resent once, at once, on a fresh connection.
 *
 * Ownership: llm_new() copies the configuration; one llm_t runs one batch
 * at a time and is not thread-safe. It keeps its connections alive between
 * batches. Results are new cJSON objects owned by the caller.
 *
 * The caller must have called http_global_init() (common/http.h). */
#ifndef SHOAL_LLM_H
#define SHOAL_LLM_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "extract.h"

/* Names this module's prompt and answer contract. */
#define LLM_EXTRACTOR_VERSION "llm-1"
#define LLM_MODEL_MAX 60 /* bytes: "llm:<model>" must fit extracted_by's 64 */

typedef struct {
    const char *url;           /* full endpoint URL, http or https; required */
    const char *model;         /* required, at most LLM_MODEL_MAX bytes */
    const char *api_key;       /* NULL or "" = send no Authorization header */
    int max_in_flight;         /* concurrent requests; default 4 */
    long timeout_ms;           /* per request, whole transfer; default 20000 */
    long connect_timeout_ms;   /* default 5000 */
    int max_retries;           /* after the first attempt; default 2 */
    long backoff_base_ms;      /* first retry waits base/2..base; default 250 */
    long backoff_max_ms;       /* default 4000 */
    int breaker_threshold;     /* consecutive failed requests; default 5 */
    long breaker_cooldown_ms;  /* default 30000 */
    long retry_after_cap_ms;   /* default 60000 */
    long batch_deadline_ms;    /* used when a call passes deadline_ms <= 0; default 30000 */
    size_t max_input_bytes;    /* title + text sent, cut at a UTF-8 boundary; default 16384 */
    size_t max_response_bytes; /* default 1 MiB */
    /* Tag names the model may use (e.g. from extractor_tag()); borrowed for
     * llm_new() only, may be NULL. */
    const char *const *tags;
    size_t ntags;
} llm_config_t;

void llm_config_default(llm_config_t *c);

/* Why a request, or a slot that never got a request, failed. */
typedef enum {
    LLM_FAIL_HTTP_5XX = 0,
    LLM_FAIL_HTTP_429,
    LLM_FAIL_HTTP_4XX,      /* any other non-2xx status */
    LLM_FAIL_TIMEOUT,
    LLM_FAIL_CONNECT,       /* refused, reset, DNS, TLS, empty reply */
    LLM_FAIL_INVALID_JSON,  /* body or content not the expected JSON, or too large */
    LLM_FAIL_SCHEMA,        /* content JSON fails extraction_validate() */
    LLM_FAIL_OTHER,         /* anything else libcurl reports (bad URL, no memory) */
    /* Slots, no request: */
    LLM_FAIL_BREAKER_OPEN,  /* the breaker was open */
    LLM_FAIL_DEADLINE,      /* no (re)try could be sent before the deadline, or finish came first */
    LLM_FAIL_KINDS
} llm_fail_t;

const char *llm_fail_name(llm_fail_t k); /* "http_5xx", "http_429", ... */

/* Cumulative since llm_new(). */
typedef struct {
    uint64_t requests;            /* HTTP requests sent, retries included */
    uint64_t successes;           /* requests that gave a valid extraction */
    uint64_t failures[LLM_FAIL_KINDS];
    uint64_t retries;             /* back-off retries after a failed request */
    uint64_t stale_retries;       /* resends after a dead keep-alive connection */
    uint64_t latency_ms_sum;      /* over completed requests */
    uint64_t latency_count;
    int breaker_state;            /* breaker_state_t (common/http.h), as of the call */
} llm_counters_t;

/* One batch. */
typedef struct {
    size_t ok, failed;  /* slots */
    uint64_t requests, retries;
    long elapsed_ms;
} llm_batch_stats_t;

typedef struct llm llm_t;

/* NULL with the reason in err on a bad configuration or no memory. */
llm_t *llm_new(const llm_config_t *cfg, char *err, size_t errlen);
void llm_destroy(llm_t *l);

/* Runs a whole batch: out gets n slots, each a new extraction object or
 * NULL where that event failed. Returns by deadline_ms from now (or the
 * configured batch deadline when deadline_ms <= 0) plus scheduling slack.
 * Returns 0, or -1 with nothing in out (all NULL) when the batch could not
 * start at all (no memory, a batch already running). stats may be NULL. */
int llm_extract_batch(llm_t *l, const extract_input_t *inputs, size_t n, cJSON **out,
                      long deadline_ms, llm_batch_stats_t *stats);

/* The same, in steps, so the caller can serve Kafka between them:
 *
 *   if (llm_batch_start(l, in, n, deadline_ms) == 0) {
 *       while (llm_batch_step(l, 100) == 0) rd_kafka_poll(...);
 *       llm_batch_finish(l, out, &stats);
 *   }
 *
 * start: inputs are borrowed until finish. Returns 0, or -1 (no memory, or
 * a batch is already running). n may be 0.
 * step: works for at most timeout_ms (0 = only what is ready now); returns
 * 1 once every slot is settled, else 0. The deadline is enforced here.
 * finish: fills out[0..n-1] (out may be NULL to discard), abandons any slot
 * not yet settled (LLM_FAIL_DEADLINE) and makes l ready for a new batch. */
int llm_batch_start(llm_t *l, const extract_input_t *inputs, size_t n, long deadline_ms);
int llm_batch_step(llm_t *l, long timeout_ms);
void llm_batch_finish(llm_t *l, cJSON **out, llm_batch_stats_t *stats);

void llm_counters(const llm_t *l, llm_counters_t *out);

/* Parses one chat completions response body (len bytes, no NUL needed):
 * choices[0].message.content as one JSON object, optionally fenced, then
 * sets "extracted_by" to "llm" and "extractor_version" to
 * LLM_EXTRACTOR_VERSION (whatever the model said) and validates it.
 * Returns 0 with a new object in *out, -1 when the body or content is not
 * the expected JSON, -2 when the object fails extraction_validate(); err
 * gets a one-line reason. Safe on any input. */
int llm_parse_response(const char *body, size_t len, cJSON **out, char *err, size_t errlen);

#endif

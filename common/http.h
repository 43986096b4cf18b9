/* http: libcurl helpers shared by every HTTP client in Shoal (the LLM
 * extractor, page fetching, the crawler).
 *
 * - http_easy_setup() applies the one safe baseline to an easy handle:
 *   connect and total timeouts, a low-speed abort, a body size cap, no
 *   signals, http/https only (also after redirects), bounded redirects.
 * - http_retry_after_ms() reads Retry-After in both of its forms.
 * - breaker_t is a circuit breaker over consecutive failures.
 * - http_stale_connection() recognises a request that died on a pooled
 *   keep-alive connection the server had already closed, so the caller
 *   can resend it once on a fresh connection (http_force_fresh()).
 *
 * Back-off between retries is fault_backoff_ms() (common/fault.h).
 *
 * Call http_global_init() once at startup, before any thread starts, and
 * http_global_cleanup() once at exit. */
#ifndef SHOAL_HTTP_H
#define SHOAL_HTTP_H

#include <stddef.h>
#include <time.h>

#include <curl/curl.h>

/* 0, or -1 with the reason in err (libcurl failed to initialise, or is
 * older than 7.85, which lacks CURLOPT_PROTOCOLS_STR). */
int http_global_init(char *err, size_t errlen);
void http_global_cleanup(void);

/* ---- Easy handle baseline -------------------------------------------- */

typedef struct {
    long connect_timeout_ms; /* TCP + TLS handshake; default 5000 */
    long timeout_ms;         /* whole transfer; default 20000 */
    long low_speed_bytes;    /* abort when slower than this many bytes/s ... */
    long low_speed_time_s;   /* ... for this many seconds; defaults 1 and 10 */
    size_t max_body;         /* response body cap in bytes; default 4 MiB */
    long max_redirects;      /* 0 (default) = do not follow redirects */
} http_opts_t;

void http_opts_default(http_opts_t *o);

/* A response body, always NUL-terminated when data is not NULL. The write
 * callback aborts the transfer (CURLE_WRITE_ERROR) and sets overflow when
 * the body would pass max (http_opts_t.max_body, set by http_easy_setup),
 * so a hostile server cannot exhaust memory. */
typedef struct {
    char *data;
    size_t len, cap, max;
    int overflow;
} http_body_t;

void http_body_init(http_body_t *b);
void http_body_clear(http_body_t *b); /* empties it, keeps the memory */
void http_body_free(http_body_t *b);

/* Applies opts to h and routes the response body into body (borrowed: it
 * must outlive the transfer), capped at opts->max_body: a larger announced
 * Content-Length fails with CURLE_FILESIZE_EXCEEDED, a larger body without
 * one with CURLE_WRITE_ERROR and overflow set. Returns 0, or -1 with the
 * failing option named in err. */
int http_easy_setup(CURL *h, const http_opts_t *opts, http_body_t *body, char *err,
                    size_t errlen);

/* ---- Retry-After ------------------------------------------------------ */

/* Parses a Retry-After value: delta-seconds ("120") or an HTTP-date ("Wed,
 * 21 Oct 2015 07:28:00 GMT", anything curl_getdate accepts), relative to
 * now. Returns the wait in ms, at most cap_ms (a date in the past gives 0),
 * or -1 when value is NULL, empty or neither form. */
long http_retry_after_parse(const char *value, time_t now, long cap_ms);

/* The Retry-After of the response h just received (as above, at the wall
 * clock's now), or -1 when it has none. */
long http_retry_after_ms(CURL *h, long cap_ms);

/* ---- Circuit breaker --------------------------------------------------- */

typedef enum { BREAKER_CLOSED = 0, BREAKER_OPEN, BREAKER_HALF_OPEN } breaker_state_t;

/* Milliseconds on any monotonic clock; injectable for tests. */
typedef long long (*breaker_clock_fn)(void *ctx);

/* closed: every request may go; threshold consecutive failures open it.
 * open: nothing may go until cooldown_ms has passed; then half-open.
 * half-open: exactly one probe may go; its success closes the breaker,
 * its failure opens it again for another cooldown.
 *
 * A plain struct so owners can embed it; no resources, nothing to destroy.
 * Not thread-safe: one owner drives it. */
typedef struct {
    int threshold;
    long cooldown_ms;
    breaker_clock_fn clock;
    void *clock_ctx;
    breaker_state_t state;
    int failures;        /* consecutive, while closed */
    long long opened_at; /* clock ms when it last opened */
    int probe_out;       /* half-open: the one probe is in flight */
} breaker_t;

/* clock NULL means clock_monotonic_ms. threshold < 1 is taken as 1. */
void breaker_init(breaker_t *b, int threshold, long cooldown_ms, breaker_clock_fn clock,
                  void *clock_ctx);

/* 1 when a request may be sent now. In half-open this hands out the single
 * probe, so the caller must report its outcome with breaker_success(),
 * breaker_failure() or breaker_release(). */
int breaker_allow(breaker_t *b);
void breaker_success(breaker_t *b);
void breaker_failure(breaker_t *b);
/* The request ended with no verdict on the server's health (e.g. a 429,
 * or the caller gave up on it): in half-open the probe is handed back. */
void breaker_release(breaker_t *b);

/* The state as of now (an open breaker whose cooldown has passed reports
 * half-open), for metrics and for callers deciding whether to wait. */
breaker_state_t breaker_state(const breaker_t *b);
const char *breaker_state_name(breaker_state_t s); /* "closed", "open", "half_open" */

/* ---- Stale keep-alive connections -------------------------------------- */

/* 1 when the transfer on h failed with rc at the connection level
 * (CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR) on a reused
 * connection (CURLINFO_NUM_CONNECTS == 0) before any response byte: the
 * server had closed the idle connection, so the request never reached it
 * and may be resent once on a fresh connection. */
int http_stale_connection(CURL *h, CURLcode rc);

/* Makes the next transfer on h open a new connection and not pool it. */
void http_force_fresh(CURL *h);

#endif

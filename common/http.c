#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

int http_global_init(char *err, size_t errlen)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    /* CURLOPT_PROTOCOLS_STR appeared in 7.85.0; without it the protocol
     * restriction could not be applied. */
    if (v->version_num < 0x075500) {
        snprintf(err, errlen, "libcurl %s is too old (7.85.0 or later needed)", v->version);
        return -1;
    }
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "curl_global_init: %s", curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

void http_global_cleanup(void) { curl_global_cleanup(); }

/* ---- Easy handle baseline -------------------------------------------- */

void http_opts_default(http_opts_t *o)
{
    o->connect_timeout_ms = 5000;
    o->timeout_ms = 20000;
    o->low_speed_bytes = 1;
    o->low_speed_time_s = 10;
    o->max_body = 4u << 20;
    o->max_redirects = 0;
}

void http_body_init(http_body_t *b) { memset(b, 0, sizeof *b); }

void http_body_clear(http_body_t *b)
{
    b->len = 0;
    b->overflow = 0;
    if (b->data) b->data[0] = '\0';
}

void http_body_free(http_body_t *b)
{
    free(b->data);
    http_body_init(b);
}

static size_t body_write(char *p, size_t size, size_t nmemb, void *ud)
{
    http_body_t *b = ud;
    size_t n = size * nmemb;
    if (n > b->max - b->len) {
        b->overflow = 1;
        return 0; /* anything but n aborts the transfer */
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

int http_easy_setup(CURL *h, const http_opts_t *o, http_body_t *body, char *err, size_t errlen)
{
    /* Stops at the first option libcurl refuses and names it. */
#define SET(opt, val)                                                                   \
    do {                                                                                \
        CURLcode rc_ = curl_easy_setopt(h, opt, val);                                   \
        if (rc_ != CURLE_OK) {                                                          \
            snprintf(err, errlen, "%s: %s", #opt, curl_easy_strerror(rc_));             \
            return -1;                                                                  \
        }                                                                               \
    } while (0)
    /* Signals would be unsafe with threads and would interrupt our own
     * syscalls; timeouts still work through the threaded resolver. */
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, o->timeout_ms);
    SET(CURLOPT_LOW_SPEED_LIMIT, o->low_speed_bytes);
    SET(CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s);
    /* URLs may come from crawled pages: never file://, gopher:// etc. */
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, o->max_redirects > 0 ? 1L : 0L);
    if (o->max_redirects > 0) SET(CURLOPT_MAXREDIRS, o->max_redirects);
    /* Also a cheap early refusal when the server announces a large body. */
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body);
    body->max = o->max_body;
    SET(CURLOPT_WRITEFUNCTION, body_write);
    SET(CURLOPT_WRITEDATA, body);
#undef SET
    return 0;
}

/* ---- Retry-After ------------------------------------------------------ */

long http_retry_after_parse(const char *value, time_t now, long cap_ms)
{
    if (!value) return -1;
    while (*value == ' ' || *value == '\t') value++;
    size_t n = strlen(value);
    while (n && (value[n - 1] == ' ' || value[n - 1] == '\t')) n--;
    if (n == 0) return -1;

    size_t digits = 0;
    while (digits < n && isdigit((unsigned char)value[digits])) digits++;
    if (digits == n) {
        /* delta-seconds; saturate instead of overflowing on huge values */
        long long ms = 0;
        for (size_t i = 0; i < n && ms <= cap_ms; i++) ms = ms * 10 + (value[i] - '0') * 1000LL;
        return ms > cap_ms ? cap_ms : (long)ms;
    }
    if (digits > 0) return -1; /* "12s", "1.5": neither form */

    char buf[128];
    if (n >= sizeof buf) return -1;
    memcpy(buf, value, n);
    buf[n] = '\0';
    time_t t = curl_getdate(buf, NULL);
    if (t == (time_t)-1) return -1;
    if (t <= now) return 0;
    long long ms = ((long long)t - (long long)now) * 1000;
    return ms > cap_ms ? cap_ms : (long)ms;
}

long http_retry_after_ms(CURL *h, long cap_ms)
{
    struct curl_header *hv = NULL;
    if (curl_easy_header(h, "Retry-After", 0, CURLH_HEADER, -1, &hv) != CURLHE_OK) return -1;
    return http_retry_after_parse(hv->value, time(NULL), cap_ms);
}

/* ---- Circuit breaker --------------------------------------------------- */

static long long default_clock(void *ctx)
{
    (void)ctx;
    return clock_monotonic_ms();
}

void breaker_init(breaker_t *b, int threshold, long cooldown_ms, breaker_clock_fn clock,
                  void *clock_ctx)
{
    memset(b, 0, sizeof *b);
    b->threshold = threshold < 1 ? 1 : threshold;
    b->cooldown_ms = cooldown_ms < 0 ? 0 : cooldown_ms;
    b->clock = clock ? clock : default_clock;
    b->clock_ctx = clock_ctx;
    b->state = BREAKER_CLOSED;
}

static int cooled(const breaker_t *b)
{
    return b->clock(b->clock_ctx) - b->opened_at >= b->cooldown_ms;
}

static void trip(breaker_t *b)
{
    b->state = BREAKER_OPEN;
    b->opened_at = b->clock(b->clock_ctx);
    b->probe_out = 0;
}

int breaker_allow(breaker_t *b)
{
    switch (b->state) {
    case BREAKER_CLOSED: return 1;
    case BREAKER_OPEN:
        if (!cooled(b)) return 0;
        b->state = BREAKER_HALF_OPEN;
        b->probe_out = 1;
        return 1;
    case BREAKER_HALF_OPEN:
        if (b->probe_out) return 0;
        b->probe_out = 1;
        return 1;
    }
    return 0;
}

void breaker_success(breaker_t *b)
{
    /* Any answer proves the server is up again, including a late one sent
     * before the breaker opened. */
    b->state = BREAKER_CLOSED;
    b->failures = 0;
    b->probe_out = 0;
}

void breaker_failure(breaker_t *b)
{
    switch (b->state) {
    case BREAKER_CLOSED:
        if (++b->failures >= b->threshold) trip(b);
        break;
    case BREAKER_HALF_OPEN: trip(b); break;
    case BREAKER_OPEN: break; /* a late result of an earlier request: the cooldown stands */
    }
}

void breaker_release(breaker_t *b)
{
    if (b->state == BREAKER_HALF_OPEN) b->probe_out = 0;
}

breaker_state_t breaker_state(const breaker_t *b)
{
    if (b->state == BREAKER_OPEN && cooled(b)) return BREAKER_HALF_OPEN;
    return b->state;
}

const char *breaker_state_name(breaker_state_t s)
{
    switch (s) {
    case BREAKER_CLOSED: return "closed";
    case BREAKER_OPEN: return "open";
    case BREAKER_HALF_OPEN: return "half_open";
    }
    return "?";
}

/* ---- Stale keep-alive connections -------------------------------------- */

int http_stale_connection(CURL *h, CURLcode rc)
{
    if (rc != CURLE_GOT_NOTHING && rc != CURLE_SEND_ERROR && rc != CURLE_RECV_ERROR) return 0;
    long connects = -1, code = -1, header_bytes = -1;
    curl_off_t body_bytes = -1;
    if (curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects) != CURLE_OK ||
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK ||
        curl_easy_getinfo(h, CURLINFO_HEADER_SIZE, &header_bytes) != CURLE_OK ||
        curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &body_bytes) != CURLE_OK)
        return 0;
    return connects == 0 && code == 0 && header_bytes == 0 && body_bytes == 0;
}

void http_force_fresh(CURL *h)
{
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
}

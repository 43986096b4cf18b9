/* event: decode and validate one crawled event (schema/event.schema.json).
 *
 * The producer and the consumer call the same event_decode(), so a line
 * the producer accepts is a message the consumer accepts.
 *
 * Ownership: event_decode() fills a caller-provided event_t. The event owns
 * its parsed cJSON tree; every string pointer in it is borrowed from that
 * tree and lives until event_clear().
 *
 * The tree is built in an arena of the event's own (a few blocks instead of
 * a malloc per node and string), so it is read-only: nothing may add to it,
 * detach from it or cJSON_Delete any part of it; event_clear() frees it
 * whole. To build on its values, cJSON_Duplicate them. */
#ifndef SHOAL_EVENT_H
#define SHOAL_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define EVENT_ID_MAX 200
#define EVENT_TIME_NONE INT64_MIN

typedef enum { EVENT_ARTICLE = 0, EVENT_REPO } event_kind_t;

/* Permanent failure classes. Each maps to a dead-letter error class. */
typedef enum {
    EVENT_OK = 0,
    EVENT_ERR_EMPTY,    /* zero-length message */
    EVENT_ERR_OVERSIZE, /* message or a field over its limit */
    EVENT_ERR_UTF8,     /* invalid UTF-8 or an embedded NUL */
    EVENT_ERR_JSON,     /* not parseable JSON, or nested too deep */
    EVENT_ERR_SCHEMA    /* parseable, but violates the event schema */
} event_err_t;

typedef struct {
    size_t max_message;  /* whole message, bytes */
    size_t max_title;
    size_t max_text;
    size_t max_url;
    size_t max_source;
    size_t max_tags;     /* count */
    size_t max_tag;      /* bytes per tag */
} event_limits_t;

extern const event_limits_t event_default_limits;

typedef struct event_arena event_arena_t;

typedef struct {
    cJSON *root;                 /* in arena, NULL after a failed decode */
    event_arena_t *arena;        /* owned: the memory of root's tree */
    char id[EVENT_ID_MAX + 1];   /* as given, or derived (see event_derive_id) */
    int id_derived;              /* 1 when the message carried no id */
    event_kind_t kind;
    const char *source;          /* never NULL after a successful decode */
    const char *url;             /* NULL when absent */
    const char *title;           /* "" when absent (repo events may lack one) */
    const char *text;            /* "" when absent */
    const char *lang;            /* NULL when absent */
    const cJSON *repo;           /* object or NULL */
    const cJSON *tags;           /* array of strings or NULL */
    int64_t published_at_us;     /* microseconds since epoch, or EVENT_TIME_NONE */
    int64_t crawled_at_us;       /* likewise */
} event_t;

/* Decode and validate len bytes (need not be NUL-terminated).
 * On failure returns the class, writes a one-line reason to err and leaves
 * ev cleared (nothing to free). lim may be NULL for the defaults. */
event_err_t event_decode(const char *buf, size_t len, const event_limits_t *lim,
                         event_t *ev, char *err, size_t errlen);
void event_clear(event_t *ev);

/* Stable names used in dead-letter headers and metrics. */
const char *event_err_class(event_err_t e);  /* "empty", "oversize", ... */
const char *event_err_stage(event_err_t e);  /* "decode" or "validate" */

/* Parse RFC 3339 ("2024-10-02T14:00:00Z", "...+02:00", fractional seconds).
 * Returns 0 and microseconds since the epoch, or -1. */
int event_parse_time(const char *s, int64_t *out_us);
/* Format microseconds since the epoch as RFC 3339 UTC into buf (>= 32). */
void event_format_time(int64_t us, char *buf, size_t buflen);

/* Canonical form of a URL for identity: lower-case scheme and host, no
 * fragment, no tracking parameters (utm_*, fbclid, gclid), no default port,
 * no trailing slash on a non-root path. Writes to out; returns 0, or -1 if
 * the URL is not http(s) or does not fit. */
int event_canonical_url(const char *url, char *out, size_t outlen);

/* The id an event gets when it carries none: "u-" + hex SHA-256 prefix of the
 * canonical URL, else "s-" + prefix of source "\n" title "\n" published_at.
 * Deterministic, so a re-crawl of the same item yields the same id. */
void event_derive_id(const char *source, const char *url, const char *title,
                     const char *published_at, char out[EVENT_ID_MAX + 1]);

#endif

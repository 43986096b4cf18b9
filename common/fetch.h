/* fetch: one bounded HTTP GET, shared by the crawler (feeds) and page
 * fetching (events with a URL but no text).
 *
 * Every bound comes from http_easy_setup() (common/http.h): connect and
 * total timeouts, a low-speed abort, a body cap, http/https only (also after
 * a redirect), at most max_redirects redirects. On top of it fetch adds
 * conditional GET (If-None-Match / If-Modified-Since), a content-type check,
 * Retry-After on 429/503, cancellation through a flag (a signal handler's
 * flag stops a transfer within ~100 ms), and a classified outcome.
 *
 * fetch_page() is the whole page path: GET, content-type check (HTML,
 * XHTML, plain text), charset to UTF-8, HTML to main text (common/html.h).
 *
 * A fetcher_t owns one curl easy handle, so consecutive requests to a host
 * reuse the connection. Not thread-safe: one owner per fetcher.
 * http_global_init() must have run. */
#ifndef SHOAL_FETCH_H
#define SHOAL_FETCH_H

#include <signal.h>
#include <stddef.h>

#include "buf.h"
#include "http.h"

typedef enum {
    FETCH_OK = 0,       /* 2xx with a body of an accepted type */
    FETCH_NOT_MODIFIED, /* 304 to a conditional request */
    FETCH_RETRY_LATER,  /* 429 or 503; retry_after_ms says when (-1: not said) */
    FETCH_HTTP_ERROR,   /* any other non-2xx (http_code says which) */
    FETCH_TOO_LARGE,    /* the body passed max_body */
    FETCH_TIMEOUT,      /* connect or total timeout, or too slow */
    FETCH_REDIRECTS,    /* more than max_redirects, or a loop */
    FETCH_BAD_TYPE,     /* content type not accepted (fetch_page: or not parseable) */
    FETCH_BAD_CHARSET,  /* unknown charset, or bytes invalid in it (fetch_page) */
    FETCH_BAD_URL,      /* not an http(s) URL, or redirected to another scheme */
    FETCH_NETWORK,      /* DNS, refused, reset, TLS ... */
    FETCH_CANCELLED     /* *cancel became non-zero */
} fetch_status_t;

typedef struct {
    http_opts_t http;            /* http_opts_default(), max_redirects 5 */
    const char *const *accept;   /* NULL-terminated content-type prefixes
                                    ("text/html"); NULL accepts any type */
    const char *etag;            /* sent as If-None-Match when non-empty */
    const char *last_modified;   /* sent as If-Modified-Since when non-empty */
    const char *user_agent;      /* default "shoal/<version>" */
    long retry_after_cap_ms;     /* Retry-After above this is cut; default 1 h */
    const volatile sig_atomic_t *cancel; /* may be NULL */
} fetch_req_t;

typedef struct {
    fetch_status_t status;
    long http_code;       /* last response's status, 0 when none */
    http_body_t body;     /* NUL-terminated; owned, freed by fetch_result_free */
    char content_type[128]; /* media type, lower case, without parameters */
    char charset[64];     /* charset parameter as sent, "" when absent */
    char etag[256];       /* validators of a 200, "" when absent or too long */
    char last_modified[64];
    long retry_after_ms;  /* FETCH_RETRY_LATER: the server's wait, or -1 */
    char err[256];        /* one line on any status but OK and NOT_MODIFIED */
} fetch_result_t;

typedef struct fetcher fetcher_t;

/* NULL with err filled when curl cannot create a handle. */
fetcher_t *fetcher_new(char *err, size_t errlen);
void fetcher_destroy(fetcher_t *f);

/* Defaults for req: the http.h baseline, 5 redirects, any type, no
 * validators, 1 h Retry-After cap, no cancel flag. */
void fetch_req_default(fetch_req_t *req);

/* GETs url. res is overwritten (call fetch_result_free() on it after each
 * call, whatever the status). Returns res->status. */
fetch_status_t fetcher_get(fetcher_t *f, const char *url, const fetch_req_t *req,
                           fetch_result_t *res);
void fetch_result_free(fetch_result_t *res);

/* Stable names for logs and fetch_status columns: "ok", "not_modified",
 * "retry_later", "http_error", "too_large", "timeout", "redirects",
 * "bad_type", "bad_charset", "bad_url", "network", "cancelled". */
const char *fetch_status_name(fetch_status_t s);

/* The page path: fetcher_get() accepting text/html, application/xhtml+xml
 * and text/plain (req->accept is ignored), then the charset (HTTP header,
 * else the document's <meta>, else UTF-8) converted to UTF-8, then for HTML
 * the main text without boilerplate (html_main_text). text receives the
 * text (NUL-terminated via buf_cstr), title the <title> (title may be NULL;
 * the title may stay empty). Threaded callers run html_global_init() first.
 * Returns the status; on FETCH_OK text is valid UTF-8. */
fetch_status_t fetch_page(fetcher_t *f, const char *url, const fetch_req_t *req, buf_t *text,
                          buf_t *title, fetch_result_t *res);

#endif

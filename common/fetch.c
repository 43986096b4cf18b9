#include "fetch.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "html.h"
#include "version.h"

struct fetcher {
    CURL *h;
};

fetcher_t *fetcher_new(char *err, size_t errlen)
{
    fetcher_t *f = calloc(1, sizeof *f);
    if (f) f->h = curl_easy_init();
    if (!f || !f->h) {
        free(f);
        snprintf(err, errlen, "cannot create a curl handle");
        return NULL;
    }
    return f;
}

void fetcher_destroy(fetcher_t *f)
{
    if (!f) return;
    curl_easy_cleanup(f->h);
    free(f);
}

void fetch_req_default(fetch_req_t *req)
{
    memset(req, 0, sizeof *req);
    http_opts_default(&req->http);
    req->http.max_redirects = 5;
    req->retry_after_cap_ms = 3600 * 1000L;
}

void fetch_result_free(fetch_result_t *res) { http_body_free(&res->body); }

const char *fetch_status_name(fetch_status_t s)
{
    static const char *const names[] = {"ok",        "not_modified", "retry_later", "http_error",
                                        "too_large", "timeout",      "redirects",   "bad_type",
                                        "bad_charset", "bad_url",    "network",     "cancelled"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    const volatile sig_atomic_t *cancel = ud;
    return cancel && *cancel ? 1 : 0;
}

/* The value of response header name of the last request, cut to fit. */
static void header_copy(CURL *h, const char *name, char *out, size_t outlen)
{
    struct curl_header *hv = NULL;
    out[0] = '\0';
    if (curl_easy_header(h, name, 0, CURLH_HEADER, -1, &hv) != CURLHE_OK || !hv->value) return;
    /* a cut validator would never match: better none */
    if (strlen(hv->value) < outlen) snprintf(out, outlen, "%s", hv->value);
}

/* "text/HTML; Charset=\"ISO-8859-1\"" -> type "text/html", charset "ISO-8859-1". */
static void split_content_type(const char *ct, fetch_result_t *res)
{
    res->content_type[0] = res->charset[0] = '\0';
    if (!ct) return;
    size_t i = 0;
    while (*ct && *ct != ';' && i + 1 < sizeof res->content_type) {
        if (!isspace((unsigned char)*ct)) res->content_type[i++] = (char)tolower((unsigned char)*ct);
        ct++;
    }
    res->content_type[i] = '\0';
    const char *cs = strcasestr(ct, "charset=");
    if (!cs) return;
    cs += 8;
    if (*cs == '"') cs++;
    i = 0;
    while (cs[i] && cs[i] != '"' && cs[i] != ';' && !isspace((unsigned char)cs[i]) &&
           i + 1 < sizeof res->charset) {
        res->charset[i] = cs[i];
        i++;
    }
    res->charset[i] = '\0';
}

static int type_accepted(const char *type, const char *const *accept)
{
    if (!accept) return 1;
    for (; *accept; accept++)
        if (strncmp(type, *accept, strlen(*accept)) == 0) return 1;
    return 0;
}

static fetch_status_t fail(fetch_result_t *res, fetch_status_t s, const char *fmt, const char *arg)
{
    res->status = s;
    snprintf(res->err, sizeof res->err, fmt, arg);
    return s;
}

static fetch_status_t classify(CURLcode rc, const fetch_result_t *res)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return FETCH_TIMEOUT;
    case CURLE_TOO_MANY_REDIRECTS: return FETCH_REDIRECTS;
    case CURLE_FILESIZE_EXCEEDED: return FETCH_TOO_LARGE;
    case CURLE_WRITE_ERROR: return res->body.overflow ? FETCH_TOO_LARGE : FETCH_NETWORK;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT: return FETCH_BAD_URL;
    case CURLE_ABORTED_BY_CALLBACK: return FETCH_CANCELLED;
    default: return FETCH_NETWORK;
    }
}

static CURLcode perform(fetcher_t *f, const char *url, const fetch_req_t *req,
                        fetch_result_t *res, struct curl_slist **hdrs, int fresh)
{
    CURL *h = f->h;
    /* reset clears the previous request's options but keeps the connection pool */
    curl_easy_reset(h);
    http_body_clear(&res->body);
    char err[200];
    if (http_easy_setup(h, &req->http, &res->body, err, sizeof err) != 0) {
        snprintf(res->err, sizeof res->err, "%s", err);
        return CURLE_FAILED_INIT;
    }
    if (fresh) http_force_fresh(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_USERAGENT, req->user_agent ? req->user_agent : "shoal/" SHOAL_VERSION);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* whatever curl can decode */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
    if (req->cancel) {
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)req->cancel);
    }
    return curl_easy_perform(h);
}

fetch_status_t fetcher_get(fetcher_t *f, const char *url, const fetch_req_t *req,
                           fetch_result_t *res)
{
    memset(res, 0, sizeof *res);
    http_body_init(&res->body);
    res->retry_after_ms = -1;
    struct curl_slist *hdrs = NULL, *tmp;
    char line[400];
    if (req->etag && *req->etag) {
        snprintf(line, sizeof line, "If-None-Match: %s", req->etag);
        if ((tmp = curl_slist_append(hdrs, line))) hdrs = tmp;
    }
    if (req->last_modified && *req->last_modified) {
        snprintf(line, sizeof line, "If-Modified-Since: %s", req->last_modified);
        if ((tmp = curl_slist_append(hdrs, line))) hdrs = tmp;
    }
    CURLcode rc = perform(f, url, req, res, &hdrs, 0);
    /* a pooled connection the server had closed: the request never arrived */
    if (http_stale_connection(f->h, rc)) rc = perform(f, url, req, res, &hdrs, 1);
    curl_slist_free_all(hdrs);
    if (rc == CURLE_FAILED_INIT && res->err[0]) return res->status = FETCH_NETWORK;
    if (rc != CURLE_OK) return fail(res, classify(rc, res), "%s", curl_easy_strerror(rc));

    curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &res->http_code);
    char *ct = NULL;
    curl_easy_getinfo(f->h, CURLINFO_CONTENT_TYPE, &ct);
    split_content_type(ct, res);
    char code[16];
    snprintf(code, sizeof code, "%ld", res->http_code);
    if (res->http_code == 304) return res->status = FETCH_NOT_MODIFIED;
    if (res->http_code == 429 || res->http_code == 503) {
        res->retry_after_ms = http_retry_after_ms(f->h, req->retry_after_cap_ms);
        return fail(res, FETCH_RETRY_LATER, "HTTP %s", code);
    }
    if (res->http_code >= 300 && res->http_code < 400)
        return fail(res, FETCH_REDIRECTS, "HTTP %s redirect not followed", code);
    if (res->http_code < 200 || res->http_code >= 300)
        return fail(res, FETCH_HTTP_ERROR, "HTTP %s", code);
    if (!type_accepted(res->content_type, req->accept))
        return fail(res, FETCH_BAD_TYPE, "content type \"%s\" not accepted",
                    res->content_type[0] ? res->content_type : "(none)");
    header_copy(f->h, "ETag", res->etag, sizeof res->etag);
    header_copy(f->h, "Last-Modified", res->last_modified, sizeof res->last_modified);
    return res->status = FETCH_OK;
}

fetch_status_t fetch_page(fetcher_t *f, const char *url, const fetch_req_t *req, buf_t *text,
                          buf_t *title, fetch_result_t *res)
{
    static const char *const page_types[] = {"text/html", "application/xhtml+xml", "text/plain",
                                             NULL};
    fetch_req_t r = *req;
    r.accept = page_types;
    if (fetcher_get(f, url, &r, res) != FETCH_OK) return res->status;

    char sniffed[64] = "";
    const char *charset = res->charset;
    int is_html = strcmp(res->content_type, "text/plain") != 0;
    if (!*charset && is_html && html_sniff_charset(res->body.data, res->body.len, sniffed,
                                                   sizeof sniffed) == 0)
        charset = sniffed;
    buf_t utf8 = {0};
    char err[200];
    int rc = html_to_utf8(res->body.data, res->body.len, charset, &utf8, err, sizeof err);
    if (rc == 0 && utf8.failed) {
        rc = -1;
        snprintf(err, sizeof err, "out of memory");
    }
    if (rc != 0) {
        buf_free(&utf8);
        return fail(res, FETCH_BAD_CHARSET, "%s", err);
    }
    if (is_html) {
        rc = html_main_text(utf8.data ? utf8.data : "", utf8.len, text, title, err, sizeof err);
    } else {
        buf_append(text, utf8.data, utf8.len);
        rc = text->failed ? -1 : 0;
        snprintf(err, sizeof err, "out of memory");
    }
    buf_free(&utf8);
    if (rc != 0) return fail(res, FETCH_BAD_TYPE, "%s", err);
    return res->status;
}

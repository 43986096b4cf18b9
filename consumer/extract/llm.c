#include "llm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fault.h"
#include "http.h"
#include "log.h"

/* ---- Response parsing --------------------------------------------------- */

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Narrows [*s, *s + *n) to the JSON inside optional ``` fences. */
static int unfence(const char **s, size_t *n)
{
    const char *p = *s, *e = *s + *n;
    while (p < e && is_ws(*p)) p++;
    while (e > p && is_ws(e[-1])) e--;
    if (e - p >= 6 && memcmp(p, "```", 3) == 0) {
        if (memcmp(e - 3, "```", 3) != 0) return -1;
        p += 3;
        e -= 3;
        while (p < e && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) p++; /* "json" */
    }
    *s = p;
    *n = (size_t)(e - p);
    return 0;
}

/* cJSON keeps duplicate keys and extraction_validate() looks only at the
 * first, while PostgreSQL's jsonb keeps the last: a duplicate could smuggle
 * an unchecked value past validation. Run after validation, which leaves
 * at most 10 distinct names in any object, so the scan stays linear. */
static int has_duplicate_keys(const cJSON *x)
{
    if (cJSON_IsObject(x)) {
        const cJSON *a, *b;
        int k = 0;
        cJSON_ArrayForEach(a, x)
        {
            if (++k > 16) return 1;
            for (b = x->child; b != a; b = b->next)
                if (strcmp(a->string, b->string) == 0) return 1;
        }
    }
    if (cJSON_IsObject(x) || cJSON_IsArray(x)) {
        const cJSON *c;
        cJSON_ArrayForEach(c, x) if (has_duplicate_keys(c)) return 1;
    }
    return 0;
}

static cJSON *parse_copy(const char *s, size_t n)
{
    /* cJSON may read one byte past the length it is given: parse a
     * NUL-terminated copy. Trailing non-space text is refused. */
    char *copy = malloc(n + 1);
    if (!copy) return NULL;
    memcpy(copy, s, n);
    copy[n] = '\0';
    cJSON *x = cJSON_ParseWithLengthOpts(copy, n + 1, NULL, 1);
    free(copy);
    return x;
}

int llm_parse_response(const char *body, size_t len, cJSON **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!body) {
        snprintf(err, errlen, "no response body");
        return -1;
    }
    cJSON *root = parse_copy(body, len);
    if (!root) {
        snprintf(err, errlen, "response body is not JSON");
        return -1;
    }
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(choices, 0), "message");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
    if (!cJSON_IsArray(choices) || !cJSON_IsString(content) || !content->valuestring) {
        cJSON_Delete(root);
        snprintf(err, errlen, "response has no choices[0].message.content string");
        return -1;
    }
    const char *s = content->valuestring;
    size_t n = strlen(s);
    cJSON *x = NULL;
    if (unfence(&s, &n) == 0) x = parse_copy(s, n);
    cJSON_Delete(root);
    if (!cJSON_IsObject(x)) {
        cJSON_Delete(x);
        snprintf(err, errlen, "content is not one JSON object");
        return -1;
    }
    /* These two name the extractor, which is ours to say, not the model's. */
    while (cJSON_GetObjectItemCaseSensitive(x, "extracted_by"))
        cJSON_DeleteItemFromObjectCaseSensitive(x, "extracted_by");
    while (cJSON_GetObjectItemCaseSensitive(x, "extractor_version"))
        cJSON_DeleteItemFromObjectCaseSensitive(x, "extractor_version");
    if (!cJSON_AddStringToObject(x, "extracted_by", "llm") ||
        !cJSON_AddStringToObject(x, "extractor_version", LLM_EXTRACTOR_VERSION)) {
        cJSON_Delete(x);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (extraction_validate(x, err, errlen) < 0) {
        cJSON_Delete(x);
        return -2;
    }
    if (has_duplicate_keys(x)) {
        cJSON_Delete(x);
        snprintf(err, errlen, "duplicate key in an object");
        return -2;
    }
    *out = x;
    return 0;
}

/* ---- The client ---------------------------------------------------------- */

static const char *const fail_names[LLM_FAIL_KINDS] = {
    "http_5xx", "http_429", "http_4xx", "timeout",      "connect",
    "invalid_json", "schema", "other",  "breaker_open", "deadline",
};

const char *llm_fail_name(llm_fail_t k)
{
    return (unsigned)k < LLM_FAIL_KINDS ? fail_names[k] : "?";
}

void llm_config_default(llm_config_t *c)
{
    memset(c, 0, sizeof *c);
    c->max_in_flight = 4;
    c->timeout_ms = 20000;
    c->connect_timeout_ms = 5000;
    c->max_retries = 2;
    c->backoff_base_ms = 250;
    c->backoff_max_ms = 4000;
    c->breaker_threshold = 5;
    c->breaker_cooldown_ms = 30000;
    c->retry_after_cap_ms = 60000;
    c->batch_deadline_ms = 30000;
    c->max_input_bytes = 16384;
    c->max_response_bytes = 1u << 20;
}

typedef enum { SLOT_WAITING = 0, SLOT_BACKOFF, SLOT_FLIGHT, SLOT_DONE } slot_state_t;

typedef struct {
    const extract_input_t *in;
    slot_state_t st;
    CURL *h;            /* while in flight */
    char *req;          /* request body, built at the first send, freed when done */
    size_t req_len;
    http_body_t body;
    int attempts;       /* requests sent, not counting a stale-connection resend */
    int stale_resent;
    long long ready_at; /* SLOT_BACKOFF: when the retry may go */
    long long sent_at;
    cJSON *result;
} slot_t;

struct llm {
    llm_config_t cfg; /* string fields point at the copies below */
    char *url, *model, *extracted_by, *system_prompt;
    struct curl_slist *headers; /* holds the API key: never logged */
    CURLM *multi;               /* owns the connection pool, kept across batches */
    breaker_t breaker;
    breaker_state_t logged_state;
    uint64_t seed;
    llm_counters_t c;

    int running;
    slot_t *slots;
    size_t n, settled, in_flight;
    long long started_at, deadline;
    llm_batch_stats_t bs;
};

/* Appends to a growing prompt; -1 on no memory. */
typedef struct {
    char *s;
    size_t len, cap;
} sbuf_t;

static int sb_add(sbuf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) return -1;
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

static int sb_puts(sbuf_t *b, const char *s) { return sb_add(b, s, strlen(s)); }

static char *build_system_prompt(const llm_config_t *cfg)
{
    sbuf_t b = {0};
    int rc = sb_puts(&b,
        "You extract structured facts from one news article or software repository event. "
        "Reply with one JSON object and nothing else, with exactly these keys:\n"
        "\"entities\": [{\"name\": string, \"type\": \"org\"|\"person\"|\"product\"|\"place\"|"
        "\"other\", \"count\": mentions, an integer >= 1}], most mentioned first;\n"
        "\"money\": [{\"text\": as written, \"value\": number, \"currency\": ISO 4217 code "
        "such as \"USD\"}];\n"
        "\"percentages\": [{\"text\": as written, \"value\": number}];\n"
        "\"dates\": [{\"text\": as written, \"value\": \"YYYY\", \"YYYY-MM\" or "
        "\"YYYY-MM-DD\", as precise as written}];\n"
        "\"facts\": [{\"subject\": string, \"predicate\": \"raised\"|\"acquired\"|"
        "\"released\"|\"outage\"|\"layoffs\", \"object\": string or null, \"amount\": number "
        "or null, \"currency\": ISO 4217 code or null}] where for raised the object is the "
        "lead investor, for acquired the company bought, for released the product or "
        "version, and outage and layoffs have a null object; layoffs may add \"count\" "
        "(jobs cut, an integer) and \"percent\" (of staff, 0-100);\n"
        "\"tags\": [distinct lower-case slugs of a-z, 0-9 and '-']");
    if (rc == 0 && cfg->tags && cfg->ntags) {
        rc = sb_puts(&b, ", only from: ");
        for (size_t i = 0; rc == 0 && i < cfg->ntags; i++) {
            if (i) rc = sb_puts(&b, ", ");
            if (rc == 0) rc = sb_puts(&b, cfg->tags[i]);
        }
    }
    if (rc == 0)
        rc = sb_puts(&b, ".\nUse an empty array when nothing applies. Every string is at most "
                         "200 characters. Add no other keys.");
    if (rc < 0) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 1;
    return 0;
}

static int build_headers(llm_t *l, char *err, size_t errlen)
{
    static const char *const fixed[] = {"Content-Type: application/json",
                                        "Accept: application/json",
                                        /* no 100-continue round trip before the body */
                                        "Expect:", NULL};
    for (int i = 0; fixed[i]; i++) {
        struct curl_slist *h = curl_slist_append(l->headers, fixed[i]);
        if (!h) goto oom;
        l->headers = h;
    }
    const char *key = l->cfg.api_key;
    if (key && *key) {
        size_t n = strlen("Authorization: Bearer ") + strlen(key) + 1;
        char *line = malloc(n);
        if (!line) goto oom;
        snprintf(line, n, "Authorization: Bearer %s", key);
        struct curl_slist *h = curl_slist_append(l->headers, line);
        explicit_bzero(line, n);
        free(line);
        if (!h) goto oom;
        l->headers = h;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

llm_t *llm_new(const llm_config_t *cfg, char *err, size_t errlen)
{
    if (!cfg->url || (strncmp(cfg->url, "http://", 7) != 0 && strncmp(cfg->url, "https://", 8) != 0)) {
        snprintf(err, errlen, "llm url must start with http:// or https://");
        return NULL;
    }
    if (!cfg->model || !*cfg->model || strlen(cfg->model) > LLM_MODEL_MAX || has_ctl(cfg->model)) {
        snprintf(err, errlen, "llm model must be 1 to %d printable bytes", LLM_MODEL_MAX);
        return NULL;
    }
    /* A newline in the key would inject headers; the key is not echoed. */
    if (cfg->api_key && has_ctl(cfg->api_key)) {
        snprintf(err, errlen, "llm api key contains control characters");
        return NULL;
    }
    if (cfg->max_in_flight < 1 || cfg->timeout_ms < 1 || cfg->connect_timeout_ms < 1 ||
        cfg->max_retries < 0 || cfg->backoff_base_ms < 1 || cfg->backoff_max_ms < cfg->backoff_base_ms ||
        cfg->breaker_threshold < 1 || cfg->breaker_cooldown_ms < 0 || cfg->retry_after_cap_ms < 0 ||
        cfg->batch_deadline_ms < 1 || cfg->max_input_bytes < 1 || cfg->max_response_bytes < 1) {
        snprintf(err, errlen, "llm config: a count or duration is out of range");
        return NULL;
    }

    llm_t *l = calloc(1, sizeof *l);
    if (!l) goto oom;
    l->cfg = *cfg;
    l->cfg.tags = NULL; /* borrowed for llm_new only */
    l->cfg.ntags = 0;
    l->url = strdup(cfg->url);
    l->model = strdup(cfg->model);
    l->extracted_by = malloc(strlen(cfg->model) + 5);
    l->system_prompt = build_system_prompt(cfg);
    l->multi = curl_multi_init();
    if (!l->url || !l->model || !l->extracted_by || !l->system_prompt || !l->multi) goto oom;
    sprintf(l->extracted_by, "llm:%s", cfg->model);
    l->cfg.url = l->url;
    l->cfg.model = l->model;
    if (build_headers(l, err, errlen) < 0) {
        llm_destroy(l);
        return NULL;
    }
    l->cfg.api_key = NULL; /* lives on only inside the header list */
    /* Keep a few idle connections per host for the next batch. */
    curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, (long)cfg->max_in_flight);
    breaker_init(&l->breaker, cfg->breaker_threshold, cfg->breaker_cooldown_ms, NULL, NULL);
    l->logged_state = BREAKER_CLOSED;
    l->seed = (uint64_t)clock_monotonic_ms() ^ (uint64_t)(uintptr_t)l;
    return l;
oom:
    llm_destroy(l);
    snprintf(err, errlen, "out of memory");
    return NULL;
}

/* Ends the slot's transfer, if any, and drops its response. */
static void drop_transfer(llm_t *l, slot_t *s)
{
    if (s->h) {
        curl_multi_remove_handle(l->multi, s->h);
        curl_easy_cleanup(s->h);
        s->h = NULL;
    }
    http_body_free(&s->body);
}

static void slot_release(llm_t *l, slot_t *s)
{
    drop_transfer(l, s);
    free(s->req);
    s->req = NULL;
}

void llm_destroy(llm_t *l)
{
    if (!l) return;
    if (l->running) llm_batch_finish(l, NULL, NULL);
    if (l->multi) curl_multi_cleanup(l->multi);
    curl_slist_free_all(l->headers);
    free(l->url);
    free(l->model);
    free(l->extracted_by);
    free(l->system_prompt);
    free(l);
}

void llm_counters(const llm_t *l, llm_counters_t *out)
{
    *out = l->c;
    out->breaker_state = (int)breaker_state(&l->breaker);
}

/* Longest prefix of s of at most max bytes that does not split a UTF-8
 * sequence. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max) return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
    return max;
}

static char *build_request(const llm_t *l, const extract_input_t *in, size_t *len)
{
    const char *title = in->title ? in->title : "", *text = in->text ? in->text : "";
    size_t budget = l->cfg.max_input_bytes;
    size_t tn = utf8_cut(title, strlen(title), budget);
    size_t xn = utf8_cut(text, strlen(text), budget - tn);
    sbuf_t u = {0};
    char *out = NULL;
    if (sb_puts(&u, "Title: ") < 0 || sb_add(&u, title, tn) < 0 || sb_puts(&u, "\n\n") < 0 ||
        sb_add(&u, text, xn) < 0) {
        free(u.s);
        return NULL;
    }

    cJSON *root = cJSON_CreateObject(), *msgs = NULL, *m = NULL, *rf = NULL;
    int ok = root && cJSON_AddStringToObject(root, "model", l->model) &&
             cJSON_AddNumberToObject(root, "temperature", 0) &&
             (rf = cJSON_AddObjectToObject(root, "response_format")) &&
             cJSON_AddStringToObject(rf, "type", "json_object") &&
             (msgs = cJSON_AddArrayToObject(root, "messages"));
    for (int i = 0; ok && i < 2; i++) {
        ok = (m = cJSON_CreateObject()) != NULL;
        if (ok) cJSON_AddItemToArray(msgs, m);
        ok = ok && cJSON_AddStringToObject(m, "role", i == 0 ? "system" : "user") &&
             cJSON_AddStringToObject(m, "content", i == 0 ? l->system_prompt : u.s);
    }
    if (ok) out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    free(u.s);
    if (out) *len = strlen(out);
    return out;
}

static void note_breaker(llm_t *l)
{
    breaker_state_t s = l->breaker.state;
    if (s == l->logged_state) return;
    if (s == BREAKER_OPEN) {
        char cool[24];
        snprintf(cool, sizeof cool, "%ld", l->cfg.breaker_cooldown_ms);
        log_kv(LOG_WARN, "llm breaker open: events use the built-in extractor", "model", l->model,
               "cooldown_ms", cool, NULL);
    } else if (s == BREAKER_CLOSED) {
        log_kv(LOG_INFO, "llm breaker closed", "model", l->model, NULL);
    }
    l->logged_state = s;
}

static void settle(llm_t *l, slot_t *s, cJSON *result)
{
    slot_release(l, s);
    s->result = result;
    s->st = SLOT_DONE;
    l->settled++;
    if (result) l->bs.ok++;
    else l->bs.failed++;
}

static void settle_failed(llm_t *l, slot_t *s, llm_fail_t slot_kind)
{
    l->c.failures[slot_kind]++;
    settle(l, s, NULL);
}

/* Clips a request's timeout so that it ends by the batch deadline. */
static long request_timeout(const llm_t *l, long long now)
{
    long long left = l->deadline - now;
    if (left < 1) left = 1;
    return left < l->cfg.timeout_ms ? (long)left : l->cfg.timeout_ms;
}

static int send_request(llm_t *l, slot_t *s, long long now, char *err, size_t errlen)
{
    CURL *h = NULL;
    if ((!s->req && !(s->req = build_request(l, s->in, &s->req_len))) || !(h = curl_easy_init())) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    http_opts_t o;
    http_opts_default(&o);
    o.connect_timeout_ms = l->cfg.connect_timeout_ms;
    o.timeout_ms = request_timeout(l, now);
    /* A non-streaming completion sends nothing until it is done: a stall
     * window shorter than the request timeout would cut every slow answer. */
    o.low_speed_time_s = (l->cfg.timeout_ms + 999) / 1000;
    o.max_body = l->cfg.max_response_bytes;
    http_body_init(&s->body);
    if (http_easy_setup(h, &o, &s->body, err, errlen) < 0) {
        curl_easy_cleanup(h);
        return -1;
    }
    if (curl_easy_setopt(h, CURLOPT_URL, l->url) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, l->headers) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, s->req) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->req_len) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_PRIVATE, s) != CURLE_OK ||
        curl_multi_add_handle(l->multi, h) != CURLM_OK) {
        snprintf(err, errlen, "libcurl refused the request");
        curl_easy_cleanup(h);
        return -1;
    }
    s->h = h;
    s->st = SLOT_FLIGHT;
    s->sent_at = now;
    if (s->attempts++ > 0) {
        l->c.retries++;
        l->bs.retries++;
    }
    l->c.requests++;
    l->bs.requests++;
    l->in_flight++;
    return 0;
}

/* Sends what may go now: slots not yet tried and retries whose back-off
 * has passed, up to max_in_flight, while the breaker allows. */
static void launch(llm_t *l, long long now)
{
    for (size_t i = 0; i < l->n && l->in_flight < (size_t)l->cfg.max_in_flight; i++) {
        slot_t *s = &l->slots[i];
        if (s->st != SLOT_WAITING && !(s->st == SLOT_BACKOFF && s->ready_at <= now)) continue;
        if (!breaker_allow(&l->breaker)) {
            /* half-open with its probe out: wait for the verdict */
            if (breaker_state(&l->breaker) == BREAKER_HALF_OPEN) break;
            settle_failed(l, s, LLM_FAIL_BREAKER_OPEN);
            continue;
        }
        char err[160];
        if (send_request(l, s, now, err, sizeof err) < 0) {
            breaker_release(&l->breaker);
            log_kv(LOG_WARN, "llm request not sent", "why", err, NULL);
            settle_failed(l, s, LLM_FAIL_OTHER);
        }
    }
}

static llm_fail_t classify_curl(CURLcode rc, const http_body_t *body)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return LLM_FAIL_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR: return LLM_FAIL_CONNECT;
    case CURLE_FILESIZE_EXCEEDED: return LLM_FAIL_INVALID_JSON;
    case CURLE_WRITE_ERROR: return body->overflow ? LLM_FAIL_INVALID_JSON : LLM_FAIL_OTHER;
    default: return LLM_FAIL_OTHER;
    }
}

/* Settles or schedules the retry of a slot whose request just ended. */
static void outcome(llm_t *l, slot_t *s, CURLcode rc, long long now)
{
    CURL *h = s->h;
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    llm_fail_t kind;
    int retry = 0;
    long wait_ms = -1;
    char why[200] = "";

    if (rc == CURLE_OK && code >= 200 && code < 300) {
        breaker_success(&l->breaker);
        cJSON *x = NULL;
        int r = llm_parse_response(s->body.data, s->body.len, &x, why, sizeof why);
        if (r == 0) {
            cJSON *by = cJSON_CreateString(l->extracted_by);
            if (by && cJSON_ReplaceItemInObjectCaseSensitive(x, "extracted_by", by)) {
                l->c.successes++;
                settle(l, s, x);
                return;
            }
            cJSON_Delete(by);
            cJSON_Delete(x);
            kind = LLM_FAIL_OTHER;
        } else {
            kind = r == -2 ? LLM_FAIL_SCHEMA : LLM_FAIL_INVALID_JSON;
        }
    } else if (rc == CURLE_OK && code == 429) {
        /* rate limited: the server is up, this says nothing of its health */
        breaker_release(&l->breaker);
        kind = LLM_FAIL_HTTP_429;
        retry = 1;
        wait_ms = http_retry_after_ms(h, l->cfg.retry_after_cap_ms);
    } else if (rc == CURLE_OK) {
        breaker_failure(&l->breaker);
        kind = code >= 500 ? LLM_FAIL_HTTP_5XX : LLM_FAIL_HTTP_4XX;
        retry = code >= 500;
        snprintf(why, sizeof why, "HTTP %ld", code);
    } else {
        kind = classify_curl(rc, &s->body);
        if (kind == LLM_FAIL_INVALID_JSON) breaker_success(&l->breaker); /* it answered */
        else breaker_failure(&l->breaker);
        retry = kind == LLM_FAIL_TIMEOUT || kind == LLM_FAIL_CONNECT;
        snprintf(why, sizeof why, "%s", curl_easy_strerror(rc));
    }
    l->c.failures[kind]++;
    note_breaker(l);

    if (retry && s->attempts <= l->cfg.max_retries) {
        long backoff = fault_backoff_ms(s->attempts - 1, l->cfg.backoff_base_ms,
                                        l->cfg.backoff_max_ms, &l->seed);
        if (wait_ms < backoff) wait_ms = backoff;
        /* a retry that cannot be sent before the deadline is not waited for */
        if (now + wait_ms < l->deadline) {
            drop_transfer(l, s); /* the request body stays for the retry */
            s->st = SLOT_BACKOFF;
            s->ready_at = now + wait_ms;
            log_kv(LOG_DEBUG, "llm request failed, will retry", "kind", llm_fail_name(kind),
                   "why", why, NULL);
            return;
        }
    }
    log_kv(LOG_DEBUG, "llm request failed", "kind", llm_fail_name(kind), "why", why, NULL);
    settle(l, s, NULL);
}

/* Takes in every finished transfer. */
static void harvest(llm_t *l)
{
    CURLMsg *m;
    int queued;
    while ((m = curl_multi_info_read(l->multi, &queued))) {
        if (m->msg != CURLMSG_DONE) continue;
        /* m dies with remove_handle: copy what is needed first */
        CURL *h = m->easy_handle;
        CURLcode rc = m->data.result;
        char *priv = NULL;
        curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv);
        slot_t *s = (slot_t *)priv;
        curl_multi_remove_handle(l->multi, h);
        long long now = clock_monotonic_ms();

        if (rc != CURLE_OK && !s->stale_resent && http_stale_connection(h, rc)) {
            /* The server closed the pooled connection as we reused it: the
             * request never arrived, so resend it now, once, on a new one. */
            s->stale_resent = 1;
            http_force_fresh(h);
            http_body_clear(&s->body);
            curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, request_timeout(l, now));
            if (curl_multi_add_handle(l->multi, h) == CURLM_OK) {
                l->c.requests++;
                l->c.stale_retries++;
                l->bs.requests++;
                s->sent_at = now;
                continue;
            }
        }
        l->c.latency_ms_sum += (uint64_t)(now - s->sent_at);
        l->c.latency_count++;
        l->in_flight--;
        outcome(l, s, rc, now);
    }
}

/* The deadline has come: whatever is unsettled fails now. */
static void expire(llm_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        slot_t *s = &l->slots[i];
        if (s->st == SLOT_DONE) continue;
        if (s->st == SLOT_FLIGHT) {
            l->in_flight--;
            breaker_failure(&l->breaker); /* too slow is a failure too */
            l->c.failures[LLM_FAIL_TIMEOUT]++;
            settle(l, s, NULL);
        } else {
            settle_failed(l, s, LLM_FAIL_DEADLINE);
        }
    }
    note_breaker(l);
}

int llm_batch_start(llm_t *l, const extract_input_t *inputs, size_t n, long deadline_ms)
{
    if (l->running) return -1;
    slot_t *slots = n ? calloc(n, sizeof *slots) : NULL;
    if (n && !slots) return -1;
    for (size_t i = 0; i < n; i++) {
        slots[i].in = &inputs[i];
        http_body_init(&slots[i].body);
    }
    l->slots = slots;
    l->n = n;
    l->settled = l->in_flight = 0;
    l->started_at = clock_monotonic_ms();
    l->deadline = l->started_at + (deadline_ms > 0 ? deadline_ms : l->cfg.batch_deadline_ms);
    memset(&l->bs, 0, sizeof l->bs);
    l->running = 1;
    return 0;
}

int llm_batch_step(llm_t *l, long timeout_ms)
{
    if (!l->running || l->settled == l->n) return 1;
    long long end = clock_monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        long long now = clock_monotonic_ms();
        if (now >= l->deadline) {
            expire(l);
            return 1;
        }
        launch(l, now);
        int running = 0;
        curl_multi_perform(l->multi, &running);
        harvest(l);
        if (l->settled == l->n) return 1;

        /* Sleep in curl until a socket is ready, a back-off ends, the
         * deadline comes or the caller's time is up. libcurl shortens the
         * wait itself for its own timers (and newly added transfers). */
        now = clock_monotonic_ms();
        if (now >= end) return 0;
        long long until = end < l->deadline ? end : l->deadline;
        for (size_t i = 0; i < l->n; i++)
            if (l->slots[i].st == SLOT_BACKOFF && l->slots[i].ready_at < until)
                until = l->slots[i].ready_at;
        long long wait = until - now;
        /* a finished transfer freed room for a slot that can go at once */
        if (l->in_flight < (size_t)l->cfg.max_in_flight &&
            breaker_state(&l->breaker) != BREAKER_HALF_OPEN)
            for (size_t i = 0; i < l->n && wait > 0; i++)
                if (l->slots[i].st == SLOT_WAITING) wait = 0;
        /* at most a second per wait keeps the int argument in range */
        curl_multi_poll(l->multi, NULL, 0, (int)(wait > 1000 ? 1000 : wait < 0 ? 0 : wait), NULL);
    }
}

void llm_batch_finish(llm_t *l, cJSON **out, llm_batch_stats_t *stats)
{
    if (!l->running) {
        if (stats) memset(stats, 0, sizeof *stats);
        return;
    }
    for (size_t i = 0; i < l->n; i++) {
        slot_t *s = &l->slots[i];
        if (s->st == SLOT_FLIGHT) {
            /* abandoned, not judged: the server may be fine */
            l->in_flight--;
            breaker_release(&l->breaker);
        }
        if (s->st != SLOT_DONE) settle_failed(l, s, LLM_FAIL_DEADLINE);
        if (out) out[i] = s->result;
        else cJSON_Delete(s->result);
        slot_release(l, s);
    }
    l->bs.elapsed_ms = (long)(clock_monotonic_ms() - l->started_at);
    if (stats) *stats = l->bs;
    free(l->slots);
    l->slots = NULL;
    l->n = 0;
    l->running = 0;
}

int llm_extract_batch(llm_t *l, const extract_input_t *inputs, size_t n, cJSON **out,
                      long deadline_ms, llm_batch_stats_t *stats)
{
    if (llm_batch_start(l, inputs, n, deadline_ms) < 0) {
        for (size_t i = 0; i < n; i++) out[i] = NULL;
        if (stats) memset(stats, 0, sizeof *stats);
        return -1;
    }
    /* step() itself returns at the deadline */
    while (!llm_batch_step(l, 1000)) {}
    llm_batch_finish(l, out, stats);
    return 0;
}

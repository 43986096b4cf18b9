#include "event.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sha256.h"

const event_limits_t event_default_limits = {
    .max_message = 1 << 20,
    .max_title = 2048,
    .max_text = 512 * 1024,
    .max_url = 4096,
    .max_source = 256,
    .max_tags = 64,
    .max_tag = 64,
};

const char *event_err_class(event_err_t e)
{
    switch (e) {
    case EVENT_OK: return "ok";
    case EVENT_ERR_EMPTY: return "empty";
    case EVENT_ERR_OVERSIZE: return "oversize";
    case EVENT_ERR_UTF8: return "invalid_utf8";
    case EVENT_ERR_JSON: return "invalid_json";
    case EVENT_ERR_SCHEMA: return "schema";
    }
    return "unknown";
}

const char *event_err_stage(event_err_t e)
{
    return (e == EVENT_ERR_SCHEMA || e == EVENT_ERR_OVERSIZE) ? "validate" : "decode";
}

/* Eight bytes at a time for the scans below: a word loaded from p, and
 * whether any of its bytes is zero (the classic bit trick: exact, as a
 * borrow only runs on from a byte that is zero itself). */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)
static uint64_t word_at(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}
static int word_has_zero(uint64_t v) { return ((v - ONES) & ~v & HIGHS) != 0; }

/* Strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF, and no
 * NUL byte (PostgreSQL text cannot hold one). Returns the offset of the first
 * bad byte, or len when all is well. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        /* Runs of ASCII without NUL, the bulk of a message, go by words. */
        if (i + 8 <= len) {
            uint64_t v = word_at(s + i);
            if (!(v & HIGHS) && !word_has_zero(v)) {
                i += 8;
                continue;
            }
        }
        unsigned char c = s[i];
        if (c == 0) return i;
        if (c < 0x80) { i++; continue; }
        size_t n;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
        else return i;
        if (n >= len - i) return i;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += n + 1;
    }
    return len;
}

/* cJSON decodes "\u0000" into a NUL and silently truncates the string, so
 * such escapes are found on the raw bytes, outside of any other escape. */
static int json_has_nul_escape(const char *s, size_t len)
{
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        if (!in_str) {
            if (s[i] == '"') in_str = 1;
            continue;
        }
        /* Inside a string only a quote or a backslash matters: words
         * without either are skipped. */
        if (i + 8 <= len) {
            uint64_t v = word_at((const unsigned char *)s + i);
            if (!word_has_zero(v ^ (ONES * '"')) && !word_has_zero(v ^ (ONES * '\\'))) {
                i += 7; /* and the loop's i++ */
                continue;
            }
        }
        if (s[i] == '"') { in_str = 0; continue; }
        if (s[i] != '\\') continue;
        if (i + 1 >= len) return 0;
        if (s[i + 1] == 'u' && i + 5 < len && memcmp(s + i + 2, "0000", 4) == 0) return 1;
        i++; /* skip the escaped character */
    }
    return 0;
}

/* ---- the tree's arena ----
 * cJSON allocates each node and string with its hooks, which are global:
 * they allocate from the arena of the event this thread is decoding, and
 * fall back to malloc and free everywhere else. Within a decode a free is
 * cJSON dropping part of a tree it is building (a parse error): its memory
 * goes with the arena. */

/* A block of an event's arena; the event holds the newest, which leads to
 * the older ones. */
struct event_arena {
    struct event_arena *next;
    size_t cap, used;
};

#define ARENA_ALIGN _Alignof(max_align_t)
#define ARENA_HEADER ((sizeof(event_arena_t) + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1))

/* The arena of the event being decoded on this thread, if any. */
static _Thread_local event_arena_t **decoding;

static int arena_add_block(event_arena_t **head, size_t cap)
{
    event_arena_t *b = malloc(ARENA_HEADER + cap);
    if (!b) return -1;
    *b = (event_arena_t){*head, cap, 0};
    *head = b;
    return 0;
}

static void *arena_alloc(event_arena_t **head, size_t n)
{
    n = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    event_arena_t *b = *head;
    if (b->cap - b->used < n) {
        size_t cap = b->cap * 2 > 4096 ? b->cap * 2 : 4096;
        if (arena_add_block(head, n > cap ? n : cap) != 0) return NULL;
        b = *head;
    }
    void *p = (unsigned char *)b + ARENA_HEADER + b->used;
    b->used += n;
    return p;
}

static void arena_destroy(event_arena_t *b)
{
    while (b) {
        event_arena_t *next = b->next;
        free(b);
        b = next;
    }
}

static void *tree_malloc(size_t n) { return decoding ? arena_alloc(decoding, n) : malloc(n); }

static void tree_free(void *p)
{
    if (!decoding) free(p);
}

/* Installed before main(), while no other thread can be using cJSON. With
 * hooks of its own, cJSON grows a printed buffer by a copy, not realloc:
 * prints here are small (LLM requests, JSON answers). */
__attribute__((constructor)) static void tree_hooks_install(void)
{
    cJSON_Hooks h = {tree_malloc, tree_free};
    cJSON_InitHooks(&h);
}

/* Parses len bytes into a tree in a new arena. The first block holds the
 * message's size (its strings, unescaped, take no more) and 16 nodes: a
 * whole article; a repo event's object takes a second. */
static cJSON *tree_parse(const char *buf, size_t len, const char **end, event_arena_t **arena)
{
    *arena = NULL;
    if (arena_add_block(arena, len + 16 * sizeof(cJSON)) != 0) return NULL;
    decoding = arena;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, end, 0);
    decoding = NULL;
    return root;
}

static event_err_t fail(event_t *ev, event_err_t e, char *err, size_t errlen, const char *fmt,
                        const char *a)
{
    snprintf(err, errlen, fmt, a);
    event_clear(ev);
    return e;
}

/* The members an event may have. */
enum {
    M_KIND, M_ID, M_SOURCE, M_URL, M_TITLE, M_TEXT, M_LANG, M_PUBLISHED_AT, M_CRAWLED_AT,
    M_REPO, M_TAGS, M_COUNT
};
static const char *const member_names[M_COUNT] = {
    "kind", "id", "source", "url", "title", "text", "lang", "published_at", "crawled_at",
    "repo", "tags",
};

static int member_index(const char *key)
{
    for (int k = 0; k < M_COUNT; k++)
        if (key[0] == member_names[k][0] && strcmp(key, member_names[k]) == 0) return k;
    return -1;
}

/* One pass over the event's members: each known one into members[], by
 * name. Returns -1 when a key occurs twice. An unknown key is compared with
 * the members after it, which events seldom have. */
static int event_members(const cJSON *root, const cJSON *members[M_COUNT])
{
    for (int k = 0; k < M_COUNT; k++) members[k] = NULL;
    for (const cJSON *m = root->child; m; m = m->next) {
        if (!m->string) continue;
        int k = member_index(m->string);
        if (k >= 0) {
            if (members[k]) return -1;
            members[k] = m;
            continue;
        }
        for (const cJSON *o = m->next; o; o = o->next)
            if (o->string && strcmp(o->string, m->string) == 0) return -1;
    }
    return 0;
}

/* An optional string member: absent and null give NULL. Returns -1 when
 * the member has another type, -2 when it is longer than max. */
static int opt_string(const cJSON *it, size_t max, const char **out)
{
    *out = NULL;
    if (!it || cJSON_IsNull(it)) return 0;
    if (!cJSON_IsString(it) || !it->valuestring) return -1;
    if (strlen(it->valuestring) > max) return -2;
    *out = it->valuestring;
    return 0;
}

static int valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > EVENT_ID_MAX) return 0;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        if (*p <= 0x20 || *p == 0x7F) return 0;
    return 1;
}

event_err_t event_decode(const char *buf, size_t len, const event_limits_t *lim, event_t *ev,
                         char *err, size_t errlen)
{
    if (!lim) lim = &event_default_limits;
    memset(ev, 0, sizeof(*ev));
    ev->published_at_us = ev->crawled_at_us = EVENT_TIME_NONE;

    if (!buf || len == 0) return fail(ev, EVENT_ERR_EMPTY, err, errlen, "%sempty message", "");
    if (len > lim->max_message) {
        char n[32];
        snprintf(n, sizeof(n), "%zu", len);
        return fail(ev, EVENT_ERR_OVERSIZE, err, errlen, "message of %s bytes is over the limit", n);
    }
    size_t bad = utf8_check((const unsigned char *)buf, len);
    if (bad != len) {
        char n[32];
        snprintf(n, sizeof(n), "%zu", bad);
        return fail(ev, EVENT_ERR_UTF8, err, errlen, "invalid UTF-8 or NUL at byte %s", n);
    }
    if (json_has_nul_escape(buf, len))
        return fail(ev, EVENT_ERR_UTF8, err, errlen, "%sstring contains an escaped NUL", "");

    const char *end = NULL;
    ev->root = tree_parse(buf, len, &end, &ev->arena);
    /* as when cJSON runs out of memory within the parse */
    if (!ev->arena) return fail(ev, EVENT_ERR_JSON, err, errlen, "%sout of memory parsing JSON", "");
    if (!ev->root) {
        char n[32];
        snprintf(n, sizeof(n), "%td", end ? end - buf : (ptrdiff_t)0);
        return fail(ev, EVENT_ERR_JSON, err, errlen, "invalid JSON near byte %s", n);
    }
    for (; end && end < buf + len; end++)
        if (!isspace((unsigned char)*end))
            return fail(ev, EVENT_ERR_JSON, err, errlen, "%strailing data after the JSON value", "");

    cJSON *root = ev->root;
    if (!cJSON_IsObject(root))
        return fail(ev, EVENT_ERR_SCHEMA, err, errlen, "%sevent is not a JSON object", "");
    const cJSON *members[M_COUNT];
    if (event_members(root, members) != 0)
        return fail(ev, EVENT_ERR_SCHEMA, err, errlen, "%sduplicate keys in the event", "");

    const char *kind = NULL, *id = NULL, *pub = NULL, *crawled = NULL;
    int r;
    if (opt_string(members[M_KIND], 32, &kind) != 0)
        return fail(ev, EVENT_ERR_SCHEMA, err, errlen, "%s\"kind\" must be a string", "");
    if (!kind || strcmp(kind, "article") == 0) ev->kind = EVENT_ARTICLE;
    else if (strcmp(kind, "repo_event") == 0) ev->kind = EVENT_REPO;
    else return fail(ev, EVENT_ERR_SCHEMA, err, errlen, "unknown kind \"%s\"", kind);

    struct { int member; size_t max; const char **out; } fields[] = {
        {M_ID, EVENT_ID_MAX, &id},
        {M_SOURCE, lim->max_source, &ev->source},
        {M_URL, lim->max_url, &ev->url},
        {M_TITLE, lim->max_title, &ev->title},
        {M_TEXT, lim->max_text, &ev->text},
        {M_LANG, 16, &ev->lang},
        {M_PUBLISHED_AT, 64, &pub},
        {M_CRAWLED_AT, 64, &crawled},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const char *key = member_names[fields[i].member];
        r = opt_string(members[fields[i].member], fields[i].max, fields[i].out);
        if (r == -1) return fail(ev, EVENT_ERR_SCHEMA, err, errlen, "\"%s\" must be a string", key);
        if (r == -2)
            return fail(ev, EVENT_ERR_OVERSIZE, err, errlen, "\"%s\" is over its size limit", key);
    }

    if (!ev->source || !ev->source[0])
        return fail(ev, EVENT_ERR_SCHEMA, err, errlen, "%s\"source\" is required", "");
    if (ev->kind == EVENT_ARTICLE && (!ev->title || !ev->title[0]))
        return fail(ev, EVENT_ERR_SCHEMA, err, errlen, "%s\"title\" is required for an article", "");
    if (!ev->title) ev->title = "";
    if (!ev->text) ev->text = "";

    if (ev->url) {
        char canon[4096 + 1];
        if (event_canonical_url(ev->url, canon, sizeof(canon)) != 0)
            return fail(ev, EVENT_ERR_SCHEMA, err, errlen, "%s\"url\" is not an http(s) URL", "");
    }
    if (pub && event_parse_time(pub, &ev->published_at_us) != 0)
        return fail(ev, EVENT_ERR_SCHEMA, err, errlen, "%s\"published_at\" is not RFC 3339", "");
    if (crawled && event_parse_time(crawled, &ev->crawled_at_us) != 0)
        return fail(ev, EVENT_ERR_SCHEMA, err, errlen, "%s\"crawled_at\" is not RFC 3339", "");

    const cJSON *repo = members[M_REPO];
    if (repo && !cJSON_IsNull(repo)) {
        if (!cJSON_IsObject(repo))
            return fail(ev, EVENT_ERR_SCHEMA, err, errlen, "%s\"repo\" must be an object", "");
        ev->repo = repo;
    }
    if (ev->kind == EVENT_REPO && !ev->repo)
        return fail(ev, EVENT_ERR_SCHEMA, err, errlen, "%s\"repo\" is required for a repo_event", "");

    const cJSON *tags = members[M_TAGS];
    if (tags && !cJSON_IsNull(tags)) {
        if (!cJSON_IsArray(tags))
            return fail(ev, EVENT_ERR_SCHEMA, err, errlen, "%s\"tags\" must be an array", "");
        size_t n = 0;
        for (const cJSON *t = tags->child; t; t = t->next, n++) {
            if (!cJSON_IsString(t) || !t->valuestring[0])
                return fail(ev, EVENT_ERR_SCHEMA, err, errlen, "%seach tag must be a non-empty string", "");
            if (strlen(t->valuestring) > lim->max_tag)
                return fail(ev, EVENT_ERR_OVERSIZE, err, errlen, "%sa tag is over its size limit", "");
        }
        if (n > lim->max_tags)
            return fail(ev, EVENT_ERR_OVERSIZE, err, errlen, "%stoo many tags", "");
        ev->tags = tags;
    }

    if (id) {
        if (!valid_id(id))
            return fail(ev, EVENT_ERR_SCHEMA, err, errlen,
                        "%s\"id\" must be 1-200 bytes without spaces or control characters", "");
        snprintf(ev->id, sizeof(ev->id), "%s", id);
    } else {
        event_derive_id(ev->source, ev->url, ev->title, pub, ev->id);
        ev->id_derived = 1;
    }
    if (err && errlen) err[0] = '\0';
    return EVENT_OK;
}

void event_clear(event_t *ev)
{
    arena_destroy(ev->arena);
    memset(ev, 0, sizeof(*ev));
    ev->published_at_us = ev->crawled_at_us = EVENT_TIME_NONE;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int event_parse_time(const char *s, int64_t *out_us)
{
    int y, mo, d, h, mi, sec;
    if (strlen(s) < 20) return -1;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
        digits(s + 17, 2, &sec))
        return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap) return -1;
    const char *p = s + 19;
    int64_t frac_us = 0;
    if (*p == '.') {
        p++;
        int nd = 0;
        int64_t scale = 100000;
        while (isdigit((unsigned char)*p)) {
            if (nd < 6) frac_us += (*p - '0') * scale;
            scale /= 10;
            nd++;
            p++;
        }
        if (nd == 0 || nd > 9) return -1;
    }
    int off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p) return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    int64_t t = (int64_t)timegm(&tm) - off;
    *out_us = t * 1000000 + frac_us;
    return 0;
}

void event_format_time(int64_t us, char *buf, size_t buflen)
{
    time_t t = (time_t)(us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    int64_t frac = us - (int64_t)t * 1000000;
    size_t n = strftime(buf, buflen, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac) snprintf(buf + n, buflen - n, ".%06lldZ", (long long)frac);
    else snprintf(buf + n, buflen - n, "Z");
}

static int is_tracking_param(const char *p, size_t n)
{
    return (n > 4 && strncmp(p, "utm_", 4) == 0) || (n == 6 && strncmp(p, "fbclid", 6) == 0) ||
           (n == 5 && strncmp(p, "gclid", 5) == 0);
}

int event_canonical_url(const char *url, char *out, size_t outlen)
{
    size_t o = 0;
    const char *p;
#define EMIT(c) do { if (o + 1 >= outlen) return -1; out[o++] = (c); } while (0)
    int https;
    if (strncasecmp(url, "http://", 7) == 0) { https = 0; p = url + 7; }
    else if (strncasecmp(url, "https://", 8) == 0) { https = 1; p = url + 8; }
    else return -1;
    for (const char *s = https ? "https://" : "http://"; *s; s++) EMIT(*s);

    const char *host = p;
    while (*p && *p != '/' && *p != '?' && *p != '#') p++;
    if (p == host) return -1;
    const char *colon = NULL;
    for (const char *q = host; q < p; q++) {
        if (*q == '@') return -1; /* credentials in URLs are not identities */
        if ((unsigned char)*q <= 0x20) return -1;
        if (*q == ':') colon = q;
    }
    const char *host_end = p;
    if (colon) {
        const char *port = colon + 1;
        if ((https && (size_t)(p - port) == 3 && strncmp(port, "443", 3) == 0) ||
            (!https && (size_t)(p - port) == 2 && strncmp(port, "80", 2) == 0))
            host_end = colon;
    }
    for (const char *q = host; q < host_end; q++) EMIT((char)tolower((unsigned char)*q));

    const char *path = p;
    while (*p && *p != '?' && *p != '#') p++;
    size_t plen = (size_t)(p - path);
    while (plen > 1 && path[plen - 1] == '/') plen--;
    if (plen == 0) EMIT('/');
    for (size_t i = 0; i < plen; i++) {
        if ((unsigned char)path[i] <= 0x20) return -1;
        EMIT(path[i]);
    }

    if (*p == '?') {
        p++;
        int first = 1;
        while (*p && *p != '#') {
            const char *param = p;
            while (*p && *p != '&' && *p != '#') p++;
            size_t n = (size_t)(p - param);
            size_t keylen = 0;
            while (keylen < n && param[keylen] != '=') keylen++;
            if (n > 0 && !is_tracking_param(param, keylen)) {
                EMIT(first ? '?' : '&');
                first = 0;
                for (size_t i = 0; i < n; i++) {
                    if ((unsigned char)param[i] <= 0x20) return -1;
                    EMIT(param[i]);
                }
            }
            if (*p == '&') p++;
        }
    }
    out[o] = '\0';
#undef EMIT
    return 0;
}

static void hex_id(const char *prefix, const unsigned char *digest, char out[EVENT_ID_MAX + 1])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = (size_t)snprintf(out, EVENT_ID_MAX + 1, "%s", prefix);
    for (int i = 0; i < 16; i++) {
        out[o++] = hex[digest[i] >> 4];
        out[o++] = hex[digest[i] & 15];
    }
    out[o] = '\0';
}

void event_derive_id(const char *source, const char *url, const char *title,
                     const char *published_at, char out[EVENT_ID_MAX + 1])
{
    sha256_t s;
    unsigned char d[32];
    char canon[4096 + 1];
    sha256_init(&s);
    if (url && event_canonical_url(url, canon, sizeof(canon)) == 0) {
        sha256_update(&s, canon, strlen(canon));
        sha256_final(&s, d);
        hex_id("u-", d, out);
        return;
    }
    const char *parts[] = {source ? source : "", title ? title : "", published_at ? published_at : ""};
    for (int i = 0; i < 3; i++) {
        sha256_update(&s, parts[i], strlen(parts[i]));
        sha256_update(&s, "\n", 1);
    }
    sha256_final(&s, d);
    hex_id("s-", d, out);
}

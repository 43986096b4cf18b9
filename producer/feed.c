#include "feed.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "buf.h"
#include "html.h"
#include "sha256.h"

#define NS_ATOM "http://www.w3.org/2005/Atom"
#define NS_CONTENT "http://purl.org/rss/1.0/modules/content/"
#define NS_DC "http://purl.org/dc/elements/1.1/"

/* ---- Item fields ------------------------------------------------------ */

/* What one RSS item, Atom entry or repository event contributes. Strings
 * are owned (malloc) and may be NULL. */
typedef struct {
    char *title, *url, *upstream_id, *text, *published; /* published: RFC 3339 */
    char *cats[16];
    size_t ncats;
    cJSON *repo; /* repository events: the upstream object, owned */
} item_t;

static void item_clear(item_t *it)
{
    free(it->title);
    free(it->url);
    free(it->upstream_id);
    free(it->text);
    free(it->published);
    for (size_t i = 0; i < it->ncats; i++) free(it->cats[i]);
    cJSON_Delete(it->repo);
    memset(it, 0, sizeof *it);
}

/* The buffer's string (the caller owns it), or NULL when memory ran out. */
static char *take(buf_t *b)
{
    if (buf_cstr(b)) return b->data;
    buf_free(b);
    return NULL;
}

/* Collapses white space runs to one space and trims; returns a copy. */
static char *collapse(const char *s)
{
    if (!s) return NULL;
    buf_t b = {0};
    int space = 0;
    for (; *s; s++) {
        if (isspace((unsigned char)*s)) {
            space = 1;
            continue;
        }
        if (space && b.len) buf_append(&b, " ", 1);
        space = 0;
        buf_append(&b, s, 1);
    }
    return take(&b);
}

/* Plain text of an HTML fragment (feeds carry escaped HTML). */
static char *html_text(const char *s)
{
    if (!s || !*s) return NULL;
    buf_t b = {0};
    char err[100];
    if (html_main_text(s, strlen(s), &b, NULL, err, sizeof err) == 0) return take(&b);
    buf_free(&b);
    return collapse(s);
}

/* Cuts s to at most max bytes at a UTF-8 character boundary. */
static void cut_utf8(char *s, size_t max)
{
    if (!s || strlen(s) <= max) return;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    s[n] = '\0';
}

static int64_t rfc3339_us(const char *s)
{
    int64_t us;
    return s && event_parse_time(s, &us) == 0 ? us : EVENT_TIME_NONE;
}

static char *format_time(int64_t us)
{
    if (us == EVENT_TIME_NONE) return NULL;
    char buf[40];
    event_format_time(us, buf, sizeof buf);
    return strdup(buf);
}

/* ---- XML helpers ------------------------------------------------------ */

static int is_el(const xmlNode *n, const char *ns, const char *name)
{
    if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, (const xmlChar *)name) != 0) return 0;
    if (!ns) return n->ns == NULL;
    return n->ns && n->ns->href && xmlStrcmp(n->ns->href, (const xmlChar *)ns) == 0;
}

static const xmlNode *child(const xmlNode *parent, const char *ns, const char *name)
{
    for (const xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
        if (is_el(c, ns, name)) return c;
    return NULL;
}

/* The element's text content (malloc), or NULL. */
static char *content(const xmlNode *n)
{
    if (!n) return NULL;
    xmlChar *c = xmlNodeGetContent(n);
    if (!c) return NULL;
    char *s = strdup((const char *)c);
    xmlFree(c);
    return s;
}

static char *content_collapsed(const xmlNode *n)
{
    char *raw = content(n), *s = collapse(raw);
    free(raw);
    if (s && !*s) {
        free(s);
        s = NULL;
    }
    return s;
}

static char *attr(const xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    if (!v) return NULL;
    char *s = strdup((const char *)v);
    xmlFree(v);
    return s;
}

static void add_cat(item_t *it, char *cat)
{
    if (cat && *cat && it->ncats < sizeof it->cats / sizeof it->cats[0]) it->cats[it->ncats++] = cat;
    else free(cat);
}

static void rss_item(const xmlNode *n, item_t *it)
{
    it->title = content_collapsed(child(n, NULL, "title"));
    it->url = content_collapsed(child(n, NULL, "link"));
    it->upstream_id = content_collapsed(child(n, NULL, "guid"));
    const xmlNode *body = child(n, NS_CONTENT, "encoded");
    if (!body) body = child(n, NULL, "description");
    char *raw = content(body);
    it->text = html_text(raw);
    free(raw);
    char *date = content_collapsed(child(n, NULL, "pubDate"));
    if (date) {
        /* RFC 822 dates, which curl_getdate reads */
        time_t t = curl_getdate(date, NULL);
        if (t != (time_t)-1) it->published = format_time((int64_t)t * 1000000);
        free(date);
    } else {
        date = content_collapsed(child(n, NS_DC, "date"));
        it->published = format_time(rfc3339_us(date));
        free(date);
    }
    for (const xmlNode *c = n->children; c; c = c->next)
        if (is_el(c, NULL, "category")) add_cat(it, content_collapsed(c));
}

static void atom_entry(const xmlNode *n, item_t *it)
{
    it->title = content_collapsed(child(n, NS_ATOM, "title"));
    it->upstream_id = content_collapsed(child(n, NS_ATOM, "id"));
    for (const xmlNode *c = n->children; c && !it->url; c = c->next) {
        if (!is_el(c, NS_ATOM, "link")) continue;
        char *rel = attr(c, "rel");
        if (!rel || strcmp(rel, "alternate") == 0) it->url = attr(c, "href");
        free(rel);
    }
    const xmlNode *body = child(n, NS_ATOM, "content");
    if (!body) body = child(n, NS_ATOM, "summary");
    if (body) {
        char *type = attr(body, "type");
        char *raw = content(body);
        /* type html is escaped markup; text and xhtml are already text */
        it->text = type && strcmp(type, "html") == 0 ? html_text(raw) : collapse(raw);
        free(raw);
        free(type);
    }
    char *date = content_collapsed(child(n, NS_ATOM, "published"));
    if (!date) date = content_collapsed(child(n, NS_ATOM, "updated"));
    it->published = format_time(rfc3339_us(date));
    free(date);
    for (const xmlNode *c = n->children; c; c = c->next)
        if (is_el(c, NS_ATOM, "category")) add_cat(it, attr(c, "term"));
}

/* ---- Repository events ------------------------------------------------ */

static const char *jstr(const cJSON *o, const char *k)
{
    if (!cJSON_IsObject(o)) return NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "o/r" or {"name": "o/r"} */
static const char *name_of(const cJSON *o, const char *k, const char *field)
{
    if (!cJSON_IsObject(o)) return NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : jstr(v, field);
}

static int safe_repo_name(const char *s)
{
    if (!s || !*s || strlen(s) > 200 || !strchr(s, '/')) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("-_./", *s)) return 0;
    return 1;
}

static void repo_event(const cJSON *ev, item_t *it)
{
    const char *type = jstr(ev, "type"), *repo = name_of(ev, "repo", "name"),
               *actor = name_of(ev, "actor", "login");
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(ev, "payload");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev, "id");
    char num[32];
    if (cJSON_IsString(id)) it->upstream_id = strdup(id->valuestring);
    else if (cJSON_IsNumber(id) && id->valuedouble >= 0 && id->valuedouble < 9e15) {
        snprintf(num, sizeof num, "%.0f", id->valuedouble);
        it->upstream_id = strdup(num);
    }
    if (safe_repo_name(repo)) {
        buf_t u = {0};
        buf_printf(&u, "https://github.com/%s", repo);
        it->url = take(&u);
    }
    buf_t t = {0};
    buf_printf(&t, "%s %s", repo ? repo : "?", type ? type : "event");
    if (actor) buf_printf(&t, " by %s", actor);
    it->title = take(&t);

    /* the human-readable part of the common event types */
    buf_t x = {0};
    const cJSON *commits = cJSON_GetObjectItemCaseSensitive(payload, "commits");
    if (!cJSON_IsArray(commits)) commits = NULL;
    const cJSON *c;
    cJSON_ArrayForEach(c, commits)
    {
        const char *m = jstr(c, "message");
        if (m) buf_printf(&x, "%s%s", x.len ? "\n" : "", m);
    }
    static const char *const parts[] = {"release", "issue", "pull_request", NULL};
    for (const char *const *p = parts; *p; p++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(payload, *p);
        const char *a = jstr(o, "name"), *b = jstr(o, "title"), *body = jstr(o, "body");
        if (a || b) buf_printf(&x, "%s%s", x.len ? "\n" : "", a ? a : b);
        if (body) buf_printf(&x, "\n%s", body);
    }
    it->text = x.len ? take(&x) : (buf_free(&x), (char *)NULL);
    it->published = format_time(rfc3339_us(jstr(ev, "created_at")));
    it->repo = cJSON_Duplicate(ev, 1);
}

/* ---- Items to events -------------------------------------------------- */

static void hash_id(const char *prefix, const char *source, const char *upstream,
                    char out[EVENT_ID_MAX + 1])
{
    sha256_t s;
    unsigned char d[32];
    sha256_init(&s);
    sha256_update(&s, source, strlen(source));
    sha256_update(&s, "\n", 1);
    sha256_update(&s, upstream, strlen(upstream));
    sha256_final(&s, d);
    int o = snprintf(out, EVENT_ID_MAX + 1, "%s", prefix);
    for (int i = 0; i < 16; i++) o += snprintf(out + o, (size_t)(EVENT_ID_MAX + 1 - o), "%02x", d[i]);
}

static int digits_only(const char *s)
{
    if (!s || !*s || strlen(s) > 30) return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return 0;
    return 1;
}

static void item_id(const feed_ctx_t *ctx, item_t *it, char id[EVENT_ID_MAX + 1])
{
    char canon[4097];
    if (it->url && event_canonical_url(it->url, canon, sizeof canon) != 0) {
        free(it->url); /* not an http(s) URL: the validator would refuse the event */
        it->url = NULL;
    }
    if (it->repo && digits_only(it->upstream_id)) snprintf(id, EVENT_ID_MAX + 1, "gh-%s", it->upstream_id);
    else if (it->url && !it->repo) event_derive_id(ctx->source, it->url, it->title, it->published, id);
    else if (it->upstream_id) hash_id("g-", ctx->source, it->upstream_id, id);
    else event_derive_id(ctx->source, NULL, it->title, it->published, id);
}

static int push(feed_t *f, const char *id, char *json)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        feed_item_t *v = realloc(f->items, cap * sizeof *v);
        if (!v) return -1;
        f->items = v;
        f->cap = cap;
    }
    feed_item_t *it = &f->items[f->n++];
    snprintf(it->id, sizeof it->id, "%s", id);
    it->json = json;
    it->len = strlen(json);
    return 0;
}

static void reject(feed_t *f, const char *why)
{
    if (!f->rejected++) snprintf(f->reject_reason, sizeof f->reject_reason, "%s", why);
}

static int add_tag(cJSON *tags, const char *t)
{
    if (!t || !*t || strlen(t) > event_default_limits.max_tag ||
        (size_t)cJSON_GetArraySize(tags) >= event_default_limits.max_tags)
        return 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, tags) if (strcmp(e->valuestring, t) == 0) return 0;
    return cJSON_AddItemToArray(tags, cJSON_CreateString(t)) ? 0 : -1;
}

/* Encodes, validates and appends one item. -1 only when memory ran out. */
static int emit_item(feed_t *f, const feed_ctx_t *ctx, item_t *it)
{
    const event_limits_t *lim = &event_default_limits;
    if (!it->title && it->text && !it->repo) {
        it->title = strdup(it->text); /* an RSS item may have only a description */
        cut_utf8(it->title, 120);
    }
    cut_utf8(it->title, lim->max_title);
    cut_utf8(it->text, lim->max_text);
    char id[EVENT_ID_MAX + 1];
    item_id(ctx, it, id);

    cJSON *o = cJSON_CreateObject();
    cJSON *tags = cJSON_CreateArray();
    char crawled[40];
    event_format_time(ctx->crawled_at_us, crawled, sizeof crawled);
    int bad = !o || !tags;
    if (!bad) {
        cJSON_AddStringToObject(o, "id", id);
        cJSON_AddStringToObject(o, "kind", it->repo ? "repo_event" : "article");
        cJSON_AddStringToObject(o, "source", ctx->source);
        if (it->url) cJSON_AddStringToObject(o, "url", it->url);
        if (it->title) cJSON_AddStringToObject(o, "title", it->title);
        if (it->text) cJSON_AddStringToObject(o, "text", it->text);
        if (it->published) cJSON_AddStringToObject(o, "published_at", it->published);
        cJSON_AddStringToObject(o, "crawled_at", crawled);
        for (size_t i = 0; i < ctx->ntags; i++) bad |= add_tag(tags, ctx->tags[i]);
        for (size_t i = 0; i < it->ncats; i++) bad |= add_tag(tags, it->cats[i]);
        if (cJSON_GetArraySize(tags) > 0) {
            cJSON_AddItemToObject(o, "tags", tags);
            tags = NULL;
        }
        if (it->repo) {
            cJSON_AddItemToObject(o, "repo", it->repo);
            it->repo = NULL;
        }
    }
    cJSON_Delete(tags);
    char *json = bad ? NULL : cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!json) return -1;

    event_t ev;
    char err[200];
    event_err_t e = event_decode(json, strlen(json), NULL, &ev, err, sizeof err);
    if (e != EVENT_OK) {
        reject(f, err);
        free(json);
        return 0;
    }
    event_clear(&ev);
    if (push(f, id, json) != 0) {
        free(json);
        return -1;
    }
    return 0;
}

static int parse_json(const char *body, size_t len, const feed_ctx_t *ctx, feed_t *f, char *err,
                      size_t errlen)
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsArray(root)) {
        cJSON_Delete(root);
        snprintf(err, errlen, "not a JSON array of repository events");
        return -1;
    }
    f->format = "json";
    int rc = 0;
    const cJSON *ev;
    cJSON_ArrayForEach(ev, root)
    {
        if (!cJSON_IsObject(ev) || !jstr(ev, "type") || !name_of(ev, "repo", "name")) {
            reject(f, "array element is not a repository event (type, repo)");
            continue;
        }
        item_t it = {0};
        repo_event(ev, &it);
        rc = emit_item(f, ctx, &it);
        item_clear(&it);
        if (rc != 0) break;
    }
    cJSON_Delete(root);
    if (rc != 0) snprintf(err, errlen, "out of memory");
    return rc;
}

static int parse_xml(const char *body, size_t len, const feed_ctx_t *ctx, feed_t *f, char *err,
                     size_t errlen)
{
    if (len > INT_MAX) {
        snprintf(err, errlen, "feed too large");
        return -1;
    }
    /* no network, no entity substitution, no DTD loading: a feed is data */
    xmlDocPtr doc = xmlReadMemory(body, (int)len, NULL, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                      XML_PARSE_NOCDATA);
    if (!doc) {
        const xmlError *e = xmlGetLastError();
        snprintf(err, errlen, "malformed XML%s%.*s", e && e->message ? ": " : "",
                 e && e->message ? (int)strcspn(e->message, "\n") : 0, e && e->message ? e->message : "");
        return -1;
    }
    const xmlNode *root = xmlDocGetRootElement(doc);
    const xmlNode *items = NULL;
    int atom = 0;
    if (root && is_el(root, NULL, "rss")) {
        f->format = "rss";
        items = child(root, NULL, "channel");
    } else if (root && is_el(root, NS_ATOM, "feed")) {
        f->format = "atom";
        items = root;
        atom = 1;
    } else {
        snprintf(err, errlen, "XML is neither RSS 2.0 nor Atom (root <%.40s>)",
                 root ? (const char *)root->name : "none");
        xmlFreeDoc(doc);
        return -1;
    }
    int rc = 0;
    for (const xmlNode *c = items ? items->children : NULL; c && rc == 0; c = c->next) {
        if (!(atom ? is_el(c, NS_ATOM, "entry") : is_el(c, NULL, "item"))) continue;
        item_t it = {0};
        if (atom) atom_entry(c, &it);
        else rss_item(c, &it);
        rc = emit_item(f, ctx, &it);
        item_clear(&it);
    }
    xmlFreeDoc(doc);
    if (rc != 0) snprintf(err, errlen, "out of memory");
    return rc;
}

int feed_parse(const char *body, size_t len, const feed_ctx_t *ctx, feed_t *out, char *err,
               size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    /* skip a UTF-8 byte order mark and leading white space */
    if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) i = 3;
    while (i < len && isspace((unsigned char)body[i])) i++;
    if (i == len) {
        snprintf(err, errlen, "empty body");
        return -1;
    }
    int rc = body[i] == '[' || body[i] == '{'
                 ? parse_json(body + i, len - i, ctx, out, err, errlen)
                 : parse_xml(body, len, ctx, out, err, errlen);
    if (rc != 0) feed_free(out);
    return rc;
}

void feed_free(feed_t *f)
{
    for (size_t i = 0; i < f->n; i++) free(f->items[i].json);
    free(f->items);
    memset(f, 0, sizeof *f);
}

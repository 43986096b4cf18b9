/* validate: extraction_validate, the C twin of schema/extraction.schema.json.
 * Keep the two in step: every bound here is a keyword there. */
#include "extract_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ex_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str, *e = s + n;
    while (s < e) {
        unsigned c = *s;
        size_t l;
        if (c == 0) return 0;
        if (c < 0x80) {
            s++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) l = 2;
        else if (c >= 0xE0 && c <= 0xEF) l = 3;
        else if (c >= 0xF0 && c <= 0xF4) l = 4;
        else return 0;
        if ((size_t)(e - s) < l) return 0;
        for (size_t k = 1; k < l; k++)
            if ((s[k] & 0xC0) != 0x80) return 0;
        if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) ||
            (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
            return 0;
        s += l;
    }
    return 1;
}

size_t ex_utf8_prefix(const char *s, size_t n, size_t max)
{
    if (n <= max) return n;
    while (max && ((unsigned char)s[max] & 0xC0) == 0x80) max--; /* back to a lead byte */
    return max;
}

typedef struct {
    char *err;
    size_t errlen;
} vctx_t;

static int fail(vctx_t *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(vctx_t *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->err, v->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Rejects keys not in allowed (NULL-terminated), repeated keys (cJSON keeps
 * both and lookups see the first, PostgreSQL's jsonb keeps the last: an
 * unchecked value could slip through) and missing required ones (the first
 * nreq of allowed). */
static int keys(vctx_t *v, const cJSON *o, const char *what, const char *const *allowed, int nreq)
{
    if (!cJSON_IsObject(o)) return fail(v, "%s: want an object", what);
    const cJSON *c, *d;
    cJSON_ArrayForEach(c, o)
    {
        int ok = 0;
        for (int i = 0; allowed[i] && !ok; i++) ok = strcmp(c->string, allowed[i]) == 0;
        if (!ok) return fail(v, "%s: unknown key \"%.40s\"", what, c->string);
        /* Only allowed names get here, so this is at most 10 x 10. */
        for (d = o->child; d != c; d = d->next)
            if (strcmp(d->string, c->string) == 0)
                return fail(v, "%s: repeated key \"%s\"", what, c->string);
    }
    for (int i = 0; i < nreq; i++)
        if (!cJSON_GetObjectItemCaseSensitive(o, allowed[i]))
            return fail(v, "%s: missing \"%s\"", what, allowed[i]);
    return 0;
}

static int string(vctx_t *v, const cJSON *s, const char *what, size_t minlen, size_t maxlen,
                  int nullable)
{
    if (!s || (nullable && cJSON_IsNull(s))) return 0;
    if (!cJSON_IsString(s) || !s->valuestring) return fail(v, "%s: want a string", what);
    size_t n = strlen(s->valuestring);
    if (n < minlen || n > maxlen) return fail(v, "%s: want %zu to %zu bytes", what, minlen, maxlen);
    if (!ex_utf8_valid(s->valuestring, n)) return fail(v, "%s: invalid UTF-8", what);
    return 0;
}

static int number(vctx_t *v, const cJSON *x, const char *what, double lo, double hi, int integer,
                  int nullable)
{
    if (!x || (nullable && cJSON_IsNull(x))) return 0;
    if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
        return fail(v, "%s: want a finite number", what);
    double d = x->valuedouble;
    if (d < lo || d > hi) return fail(v, "%s: want %g to %g", what, lo, hi);
    if (integer && d != floor(d)) return fail(v, "%s: want an integer", what);
    return 0;
}

/* ^[A-Z]{3}$ */
static int currency(vctx_t *v, const cJSON *x, const char *what, int nullable)
{
    if (!x || (nullable && cJSON_IsNull(x))) return 0;
    const char *s = cJSON_IsString(x) ? x->valuestring : NULL;
    if (!s || strlen(s) != 3 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' ||
        s[2] < 'A' || s[2] > 'Z')
        return fail(v, "%s: want a 3-letter upper-case ISO 4217 code", what);
    return 0;
}

/* ^[a-z0-9][a-z0-9-]*$, at most maxlen bytes */
static int slug(vctx_t *v, const cJSON *x, const char *what, size_t maxlen)
{
    const char *s = cJSON_IsString(x) ? x->valuestring : NULL;
    size_t n = s ? strlen(s) : 0;
    int ok = n >= 1 && n <= maxlen && s[0] != '-';
    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-';
    return ok ? 0 : fail(v, "%s: want [a-z0-9][a-z0-9-]{0,%zu}", what, maxlen - 1);
}

/* YYYY, YYYY-MM or YYYY-MM-DD with month 01-12 and day 01-31. */
static int iso_date(vctx_t *v, const cJSON *x, const char *what)
{
    const char *s = cJSON_IsString(x) ? x->valuestring : NULL;
    size_t n = s ? strlen(s) : 0;
    int ok = n == 4 || n == 7 || n == 10;
    for (size_t i = 0; ok && i < n; i++)
        ok = (i == 4 || i == 7) ? s[i] == '-' : (s[i] >= '0' && s[i] <= '9');
    if (ok && n >= 7) {
        int m = (s[5] - '0') * 10 + (s[6] - '0');
        ok = m >= 1 && m <= 12;
    }
    if (ok && n == 10) {
        int d = (s[8] - '0') * 10 + (s[9] - '0');
        ok = d >= 1 && d <= 31;
    }
    return ok ? 0 : fail(v, "%s: want YYYY, YYYY-MM or YYYY-MM-DD", what);
}

static int array(vctx_t *v, const cJSON *a, const char *what, int max)
{
    if (!cJSON_IsArray(a)) return fail(v, "%s: want an array", what);
    if (cJSON_GetArraySize(a) > max) return fail(v, "%s: more than %d items", what, max);
    return 0;
}

#define SMAX EXTRACTION_MAX_STRING
#define ITEM(o, k) cJSON_GetObjectItemCaseSensitive((o), (k))

static int entities(vctx_t *v, const cJSON *a)
{
    static const char *const allowed[] = {"name", "type", "count", NULL};
    if (array(v, a, "entities", EXTRACTION_MAX_ENTITIES) < 0) return -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        if (keys(v, e, "entities[]", allowed, 2) < 0 ||
            string(v, ITEM(e, "name"), "entities[].name", 1, SMAX, 0) < 0 ||
            number(v, ITEM(e, "count"), "entities[].count", 1, 1e9, 1, 0) < 0)
            return -1;
        const char *t = cJSON_IsString(ITEM(e, "type")) ? ITEM(e, "type")->valuestring : "";
        int ok = 0;
        for (int i = 0; i < ET_COUNT && !ok; i++) ok = strcmp(t, ex_etype_names[i]) == 0;
        if (!ok) return fail(v, "entities[].type: want org, person, product, place or other");
    }
    return 0;
}

static int amounts(vctx_t *v, const cJSON *a, const char *what, int kind)
{
    static const char *const allowed_money[] = {"value", "currency", "text", NULL};
    static const char *const allowed_other[] = {"value", "text", NULL};
    if (array(v, a, what, EXTRACTION_MAX_ITEMS) < 0) return -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        if (keys(v, e, what, kind == TK_MONEY ? allowed_money : allowed_other,
                 kind == TK_MONEY ? 2 : 1) < 0 ||
            string(v, ITEM(e, "text"), what, 1, SMAX, 0) < 0)
            return -1;
        const cJSON *val = ITEM(e, "value");
        if (kind == TK_MONEY && (number(v, val, what, 0, EXTRACTION_MAX_AMOUNT, 0, 0) < 0 ||
                                 currency(v, ITEM(e, "currency"), what, 0) < 0))
            return -1;
        if (kind == TK_PERCENT &&
            number(v, val, what, -EXTRACTION_MAX_PERCENT, EXTRACTION_MAX_PERCENT, 0, 0) < 0)
            return -1;
        if (kind == TK_DATE && iso_date(v, val, what) < 0) return -1;
    }
    return 0;
}

static int tags(vctx_t *v, const cJSON *a, const char *what, int max)
{
    if (array(v, a, what, max) < 0) return -1;
    const cJSON *t, *u;
    cJSON_ArrayForEach(t, a)
    {
        if (slug(v, t, what, 64) < 0) return -1;
        for (u = a->child; u != t; u = u->next)
            if (strcmp(u->valuestring, t->valuestring) == 0)
                return fail(v, "%s: duplicate \"%s\"", what, t->valuestring);
    }
    return 0;
}

static int facts(vctx_t *v, const cJSON *a)
{
    static const char *const allowed[] = {"subject", "predicate", "object", "amount",
                                          "currency", "count", "percent", NULL};
    static const char *const predicates[] = {"raised", "acquired", "released", "outage",
                                             "layoffs", NULL};
    if (array(v, a, "facts", EXTRACTION_MAX_ITEMS) < 0) return -1;
    const cJSON *f;
    cJSON_ArrayForEach(f, a)
    {
        if (keys(v, f, "facts[]", allowed, 2) < 0 ||
            string(v, ITEM(f, "subject"), "facts[].subject", 1, SMAX, 0) < 0 ||
            string(v, ITEM(f, "object"), "facts[].object", 1, SMAX, 1) < 0 ||
            number(v, ITEM(f, "amount"), "facts[].amount", 0, EXTRACTION_MAX_AMOUNT, 0, 1) < 0 ||
            currency(v, ITEM(f, "currency"), "facts[].currency", 1) < 0 ||
            number(v, ITEM(f, "count"), "facts[].count", 0, 1e9, 1, 1) < 0 ||
            number(v, ITEM(f, "percent"), "facts[].percent", 0, 100, 0, 1) < 0)
            return -1;
        const cJSON *p = ITEM(f, "predicate");
        int ok = 0;
        for (int i = 0; predicates[i] && !ok; i++)
            ok = cJSON_IsString(p) && strcmp(p->valuestring, predicates[i]) == 0;
        if (!ok) return fail(v, "facts[].predicate: want raised, acquired, released, outage or layoffs");
        if (cJSON_IsNumber(ITEM(f, "amount")) && !cJSON_IsString(ITEM(f, "currency")))
            return fail(v, "facts[]: an amount needs a currency");
    }
    return 0;
}

static int repo(vctx_t *v, const cJSON *r)
{
    static const char *const allowed[] = {"name", "action", "actor", "version", "topics", NULL};
    if (keys(v, r, "repo", allowed, 2) < 0 ||
        string(v, ITEM(r, "name"), "repo.name", 1, SMAX, 0) < 0 ||
        string(v, ITEM(r, "actor"), "repo.actor", 1, SMAX, 1) < 0 ||
        string(v, ITEM(r, "version"), "repo.version", 1, SMAX, 1) < 0)
        return -1;
    const cJSON *a = ITEM(r, "action");
    const char *s = cJSON_IsString(a) ? a->valuestring : "";
    size_t n = strlen(s);
    int ok = n >= 1 && n <= 32;
    for (size_t i = 0; ok && i < n; i++) ok = (s[i] >= 'a' && s[i] <= 'z') || s[i] == '_';
    if (!ok) return fail(v, "repo.action: want [a-z_]{1,32}");
    const cJSON *t = ITEM(r, "topics");
    return t ? tags(v, t, "repo.topics", EXTRACTION_MAX_ITEMS) : 0;
}

int extraction_validate(const cJSON *x, char *err, size_t errlen)
{
    static const char *const allowed[] = {"extracted_by", "extractor_version", "entities",
                                          "money", "percentages", "dates", "tags", "facts",
                                          "repo", "key_terms", NULL};
    vctx_t v = {err, errlen};
    if (keys(&v, x, "extraction", allowed, 8) < 0 ||
        string(&v, ITEM(x, "extracted_by"), "extracted_by", 1, 64, 0) < 0 ||
        string(&v, ITEM(x, "extractor_version"), "extractor_version", 1, 64, 0) < 0 ||
        entities(&v, ITEM(x, "entities")) < 0 ||
        amounts(&v, ITEM(x, "money"), "money[]", TK_MONEY) < 0 ||
        amounts(&v, ITEM(x, "percentages"), "percentages[]", TK_PERCENT) < 0 ||
        amounts(&v, ITEM(x, "dates"), "dates[]", TK_DATE) < 0 ||
        tags(&v, ITEM(x, "tags"), "tags", EXTRACTION_MAX_TAGS) < 0 ||
        facts(&v, ITEM(x, "facts")) < 0)
        return -1;
    const cJSON *r = ITEM(x, "repo"), *k = ITEM(x, "key_terms");
    if (r && repo(&v, r) < 0) return -1;
    if (k) {
        if (array(&v, k, "key_terms", EXTRACTION_MAX_ITEMS) < 0) return -1;
        const cJSON *t;
        cJSON_ArrayForEach(t, k) if (string(&v, t, "key_terms[]", 1, SMAX, 0) < 0) return -1;
    }
    return 0;
}

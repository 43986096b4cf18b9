/* test_generate: the synthetic event generator (producer/generate.c) and the
 * shipped JSONL corpora (tests/data/demo.jsonl, tests/data/trends-planted.jsonl).
 *
 * Run from the repository root (the corpora are opened by relative path). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../test.h"
#include "generate.h"

/* ------------------------------------------------------------ helpers --- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Strict UTF-8 without NUL or raw control bytes (a JSON line has none). */
static int utf8_clean(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x20) return 0;
        if (c < 0x80) { i++; continue; }
        size_t n;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
        else return 0;
        if (i + n >= len) return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n + 1;
    }
    return 1;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* RFC 3339 in UTC ("2024-10-02T14:05:00Z", optional fraction) to seconds. */
static int parse_utc(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, se, n = 0;
    if (strlen(s) < 20) return -1;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 || n != 19)
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') return -1;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (strcmp(p, "Z") != 0) return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return -1;
    *out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
    return 0;
}

static const char *str_member(const cJSON *o, const char *k)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

typedef struct {
    int kind_repo;
    int64_t published;
    size_t title_len, text_len;
    char source[256];
    char story[64]; /* generator only: the story id taken from the URL */
} info_t;

/* Checks one event line against the event format. Returns 1 if valid and
 * fills info; *id gets a malloc'd copy of the id. Prints why when invalid. */
static int check_event(const char *line, size_t len, const char *where, info_t *info, char **id)
{
    *id = NULL;
    memset(info, 0, sizeof(*info));
    if (!utf8_clean((const unsigned char *)line, len)) {
        fprintf(stderr, "%s: not clean UTF-8\n", where);
        return 0;
    }
    cJSON *root = cJSON_ParseWithLength(line, len);
    if (!root || !cJSON_IsObject(root)) {
        fprintf(stderr, "%s: not a JSON object\n", where);
        cJSON_Delete(root);
        return 0;
    }
    const char *why = NULL;
    const char *sid = str_member(root, "id"), *kind = str_member(root, "kind");
    const char *source = str_member(root, "source"), *url = str_member(root, "url");
    const char *title = str_member(root, "title"), *text = str_member(root, "text");
    const char *pub = str_member(root, "published_at"), *crawled = str_member(root, "crawled_at");
    const char *lang = str_member(root, "lang");
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(root, "tags");
    const cJSON *repo = cJSON_GetObjectItemCaseSensitive(root, "repo");
    int64_t pt = 0, ct = 0;

    if (!sid || !sid[0]) why = "id missing";
    else if (strpbrk(sid, " \t\r\n")) why = "id has whitespace";
    else if (!kind || (strcmp(kind, "article") != 0 && strcmp(kind, "repo_event") != 0))
        why = "kind";
    else if (!source || !source[0] || strlen(source) >= sizeof(info->source)) why = "source";
    else if (!url || strncmp(url, "https://", 8) != 0) why = "url";
    else if (!title || (strcmp(kind, "article") == 0 && !title[0])) why = "title";
    else if (strlen(title) > 1000) why = "title over 1000 bytes";
    else if (!text) why = "text";
    else if (!pub || parse_utc(pub, &pt) != 0) why = "published_at";
    else if (!crawled || parse_utc(crawled, &ct) != 0) why = "crawled_at";
    else if (ct < pt) why = "crawled_at before published_at";
    else if (!lang || strcmp(lang, "en") != 0) why = "lang";
    else if (tags && !cJSON_IsArray(tags)) why = "tags";
    else if (strcmp(kind, "repo_event") == 0) {
        const cJSON *rr = cJSON_GetObjectItemCaseSensitive(repo, "repo");
        const cJSON *actor = cJSON_GetObjectItemCaseSensitive(repo, "actor");
        if (!cJSON_IsObject(repo)) why = "repo missing";
        else if (!str_member(repo, "type")) why = "repo.type";
        else if (!cJSON_IsObject(rr) || !str_member(rr, "name") || !strchr(str_member(rr, "name"), '/'))
            why = "repo.repo.name";
        else if (!cJSON_IsObject(actor) || !str_member(actor, "login")) why = "repo.actor.login";
        else if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(repo, "payload")))
            why = "repo.payload";
        else if (!str_member(repo, "created_at")) why = "repo.created_at";
    } else if (repo && !cJSON_IsNull(repo)) {
        why = "article with a repo object";
    }
    if (!why && tags) {
        for (const cJSON *t = tags->child; t; t = t->next)
            if (!cJSON_IsString(t) || !t->valuestring[0]) why = "tag not a non-empty string";
    }
    if (why) {
        fprintf(stderr, "%s: %s\n", where, why);
        cJSON_Delete(root);
        return 0;
    }
    info->kind_repo = strcmp(kind, "repo_event") == 0;
    info->published = pt;
    info->title_len = strlen(title);
    info->text_len = strlen(text);
    snprintf(info->source, sizeof(info->source), "%s", source);
    /* Generator URLs end in "<category>-<company>-<story>-<i>". */
    const char *last = strrchr(url, '-');
    if (last && last > url) {
        const char *p = last - 1;
        while (p > url && *p != '-') p--;
        size_t n = (size_t)(last - p - 1);
        if (n < sizeof(info->story)) {
            memcpy(info->story, p + 1, n);
            info->story[n] = '\0';
        }
    }
    *id = strdup(sid);
    cJSON_Delete(root);
    return 1;
}

static size_t count_distinct(char **v, size_t n)
{
    if (n == 0) return 0;
    qsort(v, n, sizeof(*v), cmp_str);
    size_t d = 1;
    for (size_t k = 1; k < n; k++)
        if (strcmp(v[k], v[k - 1]) != 0) d++;
    return d;
}

/* ---------------------------------------------------------- generator --- */

static void test_determinism(void)
{
    generator_t *a = generator_new(7, 0), *b = generator_new(7, 0), *c = generator_new(8, 0);
    ASSERT_TRUE(a && b && c);
    static char x[GENERATOR_LINE_MAX], y[GENERATOR_LINE_MAX];
    int same = 1, differ = 0;
    for (uint64_t i = 0; i < 500; i++) {
        size_t lx = generator_event(a, i, x, sizeof(x));
        size_t ly = generator_event(b, i, y, sizeof(y));
        if (lx != ly || memcmp(x, y, lx) != 0) same = 0;
        size_t lz = generator_event(c, i, y, sizeof(y));
        /* the id carries the seed; compare the rest after it */
        const char *px = strchr(x, ','), *pz = strchr(y, ',');
        if (lz != lx || !px || !pz || strcmp(px, pz) != 0) differ++;
    }
    ASSERT_TRUE(same);
    ASSERT_INT_EQ(differ, 500);

    /* Order does not matter: event 123456 alone equals itself after others. */
    size_t l1 = generator_event(a, 123456, x, sizeof(x));
    for (uint64_t i = 0; i < 50; i++) generator_event(a, i * 977, y, sizeof(y));
    size_t l2 = generator_event(a, 123456, y, sizeof(y));
    ASSERT_INT_EQ(l1, l2);
    ASSERT_TRUE(memcmp(x, y, l1) == 0);

    /* A different story count gives a different stream. */
    generator_t *d = generator_new(7, 50);
    ASSERT_TRUE(d != NULL);
    generator_event(a, 1000, x, sizeof(x));
    generator_event(d, 1000, y, sizeof(y));
    ASSERT_TRUE(strcmp(x, y) != 0);
    generator_destroy(a);
    generator_destroy(b);
    generator_destroy(c);
    generator_destroy(d);
}

static void test_truncation(void)
{
    generator_t *g = generator_new(3, 0);
    static char full[GENERATOR_LINE_MAX], part[GENERATOR_LINE_MAX];
    for (uint64_t i = 0; i < 200; i++) {
        size_t n = generator_event(g, i, full, sizeof(full));
        ASSERT_TRUE(n > 0 && n < sizeof(full));
        if (strlen(full) != n) TEST_FAIL_("event %llu: strlen != return", (unsigned long long)i);
        ASSERT_INT_EQ(generator_event(g, i, NULL, 0), n);
        size_t caps[] = {1, 2, 17, n / 2, n, n + 1};
        for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
            size_t cap = caps[k];
            memset(part, 'x', sizeof(part));
            size_t r = generator_event(g, i, part, cap);
            if (r != n) TEST_FAIL_("event %llu cap %zu: %zu != %zu", (unsigned long long)i, cap, r, n);
            size_t stored = cap - 1 < n ? cap - 1 : n;
            if (part[stored] != '\0' || memcmp(part, full, stored) != 0 || part[cap] != 'x')
                TEST_FAIL_("event %llu cap %zu: bad truncated copy", (unsigned long long)i, cap);
        }
    }
    TEST_PASS_();
    generator_destroy(g);
}

static void test_stream(void)
{
    enum { COUNT = 10000 };
    uint64_t seed = 20241002;
    generator_t *g = generator_new(seed, 0);
    static char line[GENERATOR_LINE_MAX];
    char **ids = calloc(COUNT, sizeof(*ids));
    char **sources = calloc(COUNT, sizeof(*sources));
    char **stories = calloc(COUNT, sizeof(*stories));
    size_t bad = 0, repo = 0, articles = 0, bytes = 0, body = 0, out_of_order = 0;
    int64_t first = 0, last = 0;
    for (uint64_t i = 0; i < COUNT; i++) {
        size_t n = generator_event(g, i, line, sizeof(line));
        char where[64];
        snprintf(where, sizeof(where), "gen event %llu", (unsigned long long)i);
        info_t info;
        if (n >= sizeof(line) || !check_event(line, n, where, &info, &ids[i])) {
            bad++;
            ids[i] = strdup("");
            sources[i] = strdup("");
            stories[i] = strdup("");
            continue;
        }
        char expect[64];
        snprintf(expect, sizeof(expect), "gen-%llu-%llu", (unsigned long long)seed,
                 (unsigned long long)i);
        if (strcmp(ids[i], expect) != 0) TEST_FAIL_("id %s != %s", ids[i], expect);
        if (info.published != generator_event_time_us(g, i) / 1000000)
            TEST_FAIL_("event %llu: published_at != generator_event_time_us",
                       (unsigned long long)i);
        bytes += n;
        sources[i] = strdup(info.source);
        stories[i] = strdup(info.kind_repo ? "" : info.story);
        if (info.kind_repo) {
            repo++;
        } else {
            articles++;
            body += info.title_len + info.text_len;
        }
        if (i == 0) first = info.published;
        if (info.published + 3600 < last) out_of_order++; /* jitter only, never hours */
        if (info.published > last) last = info.published;
    }
    ASSERT_INT_EQ(bad, 0);
    ASSERT_INT_EQ(count_distinct(ids, COUNT), COUNT);

    double avg_line = (double)bytes / COUNT, avg_body = (double)body / (double)articles;
    printf("generator: %d events, avg line %.0f B, avg title+text %.0f B, %zu repo events\n",
           COUNT, avg_line, avg_body, repo);
    ASSERT_TRUE(avg_body > 800 && avg_body < 1300); /* ~1 KB articles */
    ASSERT_TRUE(avg_line > 900 && avg_line < 1700);
    ASSERT_TRUE(repo > COUNT * 3 / 100 && repo < COUNT * 7 / 100); /* ~5% */

    size_t nsrc = count_distinct(sources, COUNT);
    printf("generator: %zu distinct sources\n", nsrc);
    ASSERT_TRUE(nsrc >= 200);

    /* Event time moves forward (10k events at the default 2000 stories are
     * over a day) and stays roughly in order. */
    ASSERT_TRUE(last - first > 86400);
    ASSERT_INT_EQ(out_of_order, 0);

    /* Articles come in stories: most articles share their story with others. */
    qsort(stories, COUNT, sizeof(*stories), cmp_str);
    size_t in_multi = 0, nstories = 0;
    for (size_t a = 0; a < COUNT;) {
        size_t b = a;
        while (b < COUNT && strcmp(stories[a], stories[b]) == 0) b++;
        if (stories[a][0]) {
            nstories++;
            if (b - a >= 3) in_multi += b - a;
        }
        a = b;
    }
    printf("generator: %zu stories, %zu of %zu articles in stories of 3+\n", nstories, in_multi,
           articles);
    ASSERT_TRUE(nstories >= 500);
    ASSERT_TRUE(in_multi * 2 > articles);

    for (size_t k = 0; k < COUNT; k++) {
        free(ids[k]);
        free(sources[k]);
        free(stories[k]);
    }
    free(ids);
    free(sources);
    free(stories);
    generator_destroy(g);
}

/* Escaping: every line of a long stretch parses, including quotes in quotes
 * and paragraph breaks, and no line comes near the documented maximum. */
static void test_escaping_and_bounds(void)
{
    generator_t *g = generator_new(99, 300);
    static char line[GENERATOR_LINE_MAX];
    size_t bad = 0, quotes = 0, breaks = 0, maxlen = 0;
    for (uint64_t i = 1000000; i < 1020000; i++) {
        size_t n = generator_event(g, i, line, sizeof(line));
        if (n > maxlen) maxlen = n;
        cJSON *root = n < sizeof(line) ? cJSON_ParseWithLength(line, n) : NULL;
        if (!root) { bad++; continue; }
        const char *text = str_member(root, "text");
        if (text && strchr(text, '"')) quotes++;
        if (text && strstr(text, "\n\n")) breaks++;
        cJSON_Delete(root);
    }
    ASSERT_INT_EQ(bad, 0);
    ASSERT_TRUE(quotes > 1000);
    ASSERT_TRUE(breaks > 1000);
    ASSERT_TRUE(maxlen < GENERATOR_LINE_MAX / 2);
    generator_destroy(g);
}

/* ------------------------------------------------------------ corpora --- */

static void check_corpus(const char *path, size_t min_events, size_t min_sources)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        TEST_FAIL_("cannot open %s (run from the repository root)", path);
        return;
    }
    char *line = NULL;
    size_t cap = 0, n = 0, bad = 0, unordered = 0, repo = 0;
    ssize_t len;
    char **ids = NULL, **sources = NULL;
    int64_t prev = INT64_MIN;
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (len == 0) continue;
        char where[300];
        snprintf(where, sizeof(where), "%s:%zu", path, n + 1);
        ids = realloc(ids, (n + 1) * sizeof(*ids));
        sources = realloc(sources, (n + 1) * sizeof(*sources));
        info_t info;
        char *id = NULL;
        if (!check_event(line, (size_t)len, where, &info, &id)) {
            bad++;
            char tmp[32];
            snprintf(tmp, sizeof(tmp), "\x01invalid-%zu", n);
            id = strdup(tmp);
        }
        ids[n] = id;
        sources[n] = strdup(info.source);
        if (info.kind_repo) repo++;
        if (info.published < prev) unordered++;
        if (info.published > prev) prev = info.published;
        n++;
    }
    free(line);
    fclose(f);
    size_t nids = count_distinct(ids, n), nsrc = count_distinct(sources, n);
    printf("%s: %zu events, %zu distinct ids, %zu sources, %zu repo events\n", path, n, nids, nsrc,
           repo);
    ASSERT_INT_EQ(bad, 0);
    ASSERT_INT_EQ(nids, n);
    ASSERT_INT_EQ(unordered, 0); /* lines are in published_at order */
    ASSERT_TRUE(n >= min_events);
    ASSERT_TRUE(nsrc >= min_sources);
    for (size_t k = 0; k < n; k++) {
        free(ids[k]);
        free(sources[k]);
    }
    free(ids);
    free(sources);
}

int main(void)
{
    test_determinism();
    test_truncation();
    test_stream();
    test_escaping_and_bounds();
    check_corpus("tests/data/demo.jsonl", 240, 25);
    check_corpus("tests/data/trends-planted.jsonl", 120, 15);
    return TEST_DONE();
}

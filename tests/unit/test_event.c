/* Event decoding and validation: the table of bad inputs the foundation
 * promises to reject, each with its class, plus the good paths. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "test.h"

typedef struct {
    const char *name;
    const char *json;
    size_t len; /* 0: strlen(json) */
    event_err_t want;
} bad_case_t;

#define OK_FIELDS "\"source\":\"example.com\",\"title\":\"T\""

static const bad_case_t bad_cases[] = {
    {"empty message", "", 0, EVENT_ERR_EMPTY},
    {"whitespace only", "   ", 0, EVENT_ERR_JSON},
    {"not json", "hello", 0, EVENT_ERR_JSON},
    {"truncated object", "{\"source\":\"a\"", 0, EVENT_ERR_JSON},
    {"trailing garbage", "{" OK_FIELDS "} x", 0, EVENT_ERR_JSON},
    {"two objects", "{" OK_FIELDS "}{" OK_FIELDS "}", 0, EVENT_ERR_JSON},
    {"array at top", "[1,2,3]", 0, EVENT_ERR_SCHEMA},
    {"string at top", "\"event\"", 0, EVENT_ERR_SCHEMA},
    {"number at top", "42", 0, EVENT_ERR_SCHEMA},
    {"null at top", "null", 0, EVENT_ERR_SCHEMA},
    {"missing source", "{\"title\":\"T\"}", 0, EVENT_ERR_SCHEMA},
    {"empty source", "{\"source\":\"\",\"title\":\"T\"}", 0, EVENT_ERR_SCHEMA},
    {"missing title", "{\"source\":\"a\"}", 0, EVENT_ERR_SCHEMA},
    {"empty title", "{\"source\":\"a\",\"title\":\"\"}", 0, EVENT_ERR_SCHEMA},
    {"title is number", "{\"source\":\"a\",\"title\":5}", 0, EVENT_ERR_SCHEMA},
    {"source is object", "{\"source\":{},\"title\":\"T\"}", 0, EVENT_ERR_SCHEMA},
    {"text is array", "{" OK_FIELDS ",\"text\":[]}", 0, EVENT_ERR_SCHEMA},
    {"id is number", "{" OK_FIELDS ",\"id\":12}", 0, EVENT_ERR_SCHEMA},
    {"id empty", "{" OK_FIELDS ",\"id\":\"\"}", 0, EVENT_ERR_SCHEMA},
    {"id with space", "{" OK_FIELDS ",\"id\":\"a b\"}", 0, EVENT_ERR_SCHEMA},
    {"unknown kind", "{" OK_FIELDS ",\"kind\":\"tweet\"}", 0, EVENT_ERR_SCHEMA},
    {"kind is bool", "{" OK_FIELDS ",\"kind\":true}", 0, EVENT_ERR_SCHEMA},
    {"repo_event without repo", "{\"source\":\"gh\",\"kind\":\"repo_event\"}", 0, EVENT_ERR_SCHEMA},
    {"repo is string", "{" OK_FIELDS ",\"repo\":\"o/r\"}", 0, EVENT_ERR_SCHEMA},
    {"bad timestamp", "{" OK_FIELDS ",\"published_at\":\"yesterday\"}", 0, EVENT_ERR_SCHEMA},
    {"timestamp without zone", "{" OK_FIELDS ",\"published_at\":\"2024-10-02T10:00:00\"}", 0, EVENT_ERR_SCHEMA},
    {"timestamp month 13", "{" OK_FIELDS ",\"published_at\":\"2024-13-02T10:00:00Z\"}", 0, EVENT_ERR_SCHEMA},
    {"timestamp Feb 30", "{" OK_FIELDS ",\"published_at\":\"2024-02-30T10:00:00Z\"}", 0, EVENT_ERR_SCHEMA},
    {"timestamp is number", "{" OK_FIELDS ",\"published_at\":1727863200}", 0, EVENT_ERR_SCHEMA},
    {"crawled_at bad", "{" OK_FIELDS ",\"crawled_at\":\"2024-10-02 10:00\"}", 0, EVENT_ERR_SCHEMA},
    {"url not http", "{" OK_FIELDS ",\"url\":\"ftp://x/y\"}", 0, EVENT_ERR_SCHEMA},
    {"url javascript", "{" OK_FIELDS ",\"url\":\"javascript:alert(1)\"}", 0, EVENT_ERR_SCHEMA},
    {"url with credentials", "{" OK_FIELDS ",\"url\":\"https://u:p@host/x\"}", 0, EVENT_ERR_SCHEMA},
    {"tags not array", "{" OK_FIELDS ",\"tags\":\"ai\"}", 0, EVENT_ERR_SCHEMA},
    {"tag not string", "{" OK_FIELDS ",\"tags\":[\"ai\",3]}", 0, EVENT_ERR_SCHEMA},
    {"empty tag", "{" OK_FIELDS ",\"tags\":[\"\"]}", 0, EVENT_ERR_SCHEMA},
    {"duplicate keys", "{\"source\":\"a\",\"title\":\"T\",\"title\":\"U\"}", 0, EVENT_ERR_SCHEMA},
    {"duplicate unknown keys", "{" OK_FIELDS ",\"x\":1,\"y\":2,\"x\":3}", 0, EVENT_ERR_SCHEMA},
    {"duplicate key after an unknown", "{\"x\":1," OK_FIELDS ",\"source\":\"b\"}", 0, EVENT_ERR_SCHEMA},
    {"duplicate repo", "{" OK_FIELDS ",\"repo\":{},\"repo\":{}}", 0, EVENT_ERR_SCHEMA},
    {"invalid utf-8 byte", "{\"source\":\"a\",\"title\":\"caf\xe9\"}", 0, EVENT_ERR_UTF8},
    {"overlong utf-8", "{\"source\":\"a\",\"title\":\"\xc0\xaf\"}", 0, EVENT_ERR_UTF8},
    {"utf-8 surrogate", "{\"source\":\"a\",\"title\":\"\xed\xa0\x80\"}", 0, EVENT_ERR_UTF8},
    {"truncated utf-8 at end", "{\"source\":\"a\",\"title\":\"x\xe2\x82", 0, EVENT_ERR_UTF8},
    {"embedded NUL byte", "{\"source\":\"a\",\"title\":\"a\0b\"}", 26, EVENT_ERR_UTF8},
    {"escaped NUL", "{\"source\":\"a\",\"title\":\"a\\u0000b\"}", 0, EVENT_ERR_UTF8},
    {"lone surrogate escape", "{\"source\":\"a\",\"title\":\"\\ud800\"}", 0, EVENT_ERR_JSON},
};

static void test_bad_inputs(void)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const bad_case_t *c = &bad_cases[i];
        event_t ev;
        char err[256] = "";
        size_t len = c->len ? c->len : strlen(c->json);
        event_err_t got = event_decode(c->json, len, NULL, &ev, err, sizeof(err));
        if (got != c->want)
            fprintf(stderr, "case \"%s\": got %s (%s), want %s\n", c->name, event_err_class(got),
                    err, event_err_class(c->want));
        ASSERT_INT_EQ(got, c->want);
        ASSERT_TRUE(got == EVENT_OK || err[0] != '\0');
        ASSERT_TRUE(ev.root == NULL && ev.arena == NULL);
    }
}

static char *repeat(char c, size_t n, const char *prefix, const char *suffix)
{
    size_t pl = strlen(prefix), sl = strlen(suffix);
    char *s = malloc(pl + n + sl + 1);
    memcpy(s, prefix, pl);
    memset(s + pl, c, n);
    memcpy(s + pl + n, suffix, sl + 1);
    return s;
}

/* The decode error for a title of 40 'a's with what[0..n) written over it
 * at offset at (the scans go eight bytes at a time: every offset is tried). */
static event_err_t title_with(const char *what, size_t n, size_t at)
{
    char title[41], msg[128];
    memset(title, 'a', 40);
    title[40] = '\0';
    memcpy(title + at, what, n);
    size_t len = (size_t)snprintf(msg, sizeof(msg), "{\"source\":\"a\",\"title\":\"");
    memcpy(msg + len, title, 40);
    len += 40;
    len += (size_t)snprintf(msg + len, sizeof(msg) - len, "\",\"text\":\"bbbbbbbbbbbbbbbbbbbb\"}");
    event_t ev;
    char err[256];
    event_err_t got = event_decode(msg, len, NULL, &ev, err, sizeof(err));
    event_clear(&ev);
    return got;
}

static void test_bad_bytes_anywhere(void)
{
    int ok = 0, tried = 0;
    for (size_t at = 0; at + 6 <= 40; at++, tried++)
        ok += title_with("\xff", 1, at) == EVENT_ERR_UTF8 && title_with("\0", 1, at) == EVENT_ERR_UTF8 &&
              title_with("\xe2\x82", 2, at) == EVENT_ERR_UTF8 && title_with("\\u0000", 6, at) == EVENT_ERR_UTF8 &&
              title_with("\xc3\xa9", 2, at) == EVENT_OK && title_with("\\\\u000", 6, at) == EVENT_OK &&
              title_with("\\\"", 2, at) == EVENT_OK;
    ASSERT_INT_EQ(ok, tried);
}

static void test_size_limits(void)
{
    event_t ev;
    char err[256];
    char *big_title = repeat('x', 10 * 1024 * 1024, "{\"source\":\"a\",\"title\":\"", "\"}");
    ASSERT_INT_EQ(event_decode(big_title, strlen(big_title), NULL, &ev, err, sizeof(err)), EVENT_ERR_OVERSIZE);
    free(big_title);

    event_limits_t lim = event_default_limits;
    lim.max_message = 64 * 1024 * 1024;
    char *title3k = repeat('x', 3000, "{\"source\":\"a\",\"title\":\"", "\"}");
    ASSERT_INT_EQ(event_decode(title3k, strlen(title3k), &lim, &ev, err, sizeof(err)), EVENT_ERR_OVERSIZE);
    free(title3k);

    char *deep = repeat('[', 100000, "", "");
    ASSERT_INT_EQ(event_decode(deep, strlen(deep), NULL, &ev, err, sizeof(err)), EVENT_ERR_JSON);
    free(deep);

    char *tags = repeat('x', 0, "{\"source\":\"a\",\"title\":\"t\",\"tags\":[", "");
    size_t n = strlen(tags);
    tags = realloc(tags, n + 65 * 4 + 3);
    for (int i = 0; i < 65; i++) n += (size_t)sprintf(tags + n, "%s\"t\"", i ? "," : "");
    strcpy(tags + n, "]}");
    ASSERT_INT_EQ(event_decode(tags, strlen(tags), NULL, &ev, err, sizeof(err)), EVENT_ERR_OVERSIZE);
    free(tags);
}

static void test_good_event(void)
{
    const char *j = "{\"id\":\"demo-1\",\"kind\":\"article\",\"source\":\"reuters.com\","
                    "\"url\":\"https://www.Reuters.com/tech/openai/?utm_source=x&a=1#frag\","
                    "\"title\":\"OpenAI raises $6.6B\",\"text\":\"Body \\\"quoted\\\" caf\xc3\xa9\","
                    "\"published_at\":\"2024-10-02T14:05:00.250+02:00\",\"crawled_at\":null,"
                    "\"lang\":\"en\",\"tags\":[\"ai\",\"funding\"],\"gold_cluster\":\"extra ok\"}";
    event_t ev;
    char err[256];
    ASSERT_INT_EQ(event_decode(j, strlen(j), NULL, &ev, err, sizeof(err)), EVENT_OK);
    ASSERT_STR_EQ(ev.id, "demo-1");
    ASSERT_INT_EQ(ev.id_derived, 0);
    ASSERT_STR_EQ(ev.source, "reuters.com");
    ASSERT_STR_EQ(ev.title, "OpenAI raises $6.6B");
    ASSERT_STR_EQ(ev.text, "Body \"quoted\" caf\xc3\xa9");
    ASSERT_INT_EQ(ev.published_at_us, 1727870700250000LL);
    ASSERT_INT_EQ(ev.crawled_at_us, EVENT_TIME_NONE);
    ASSERT_TRUE(cJSON_GetArraySize(ev.tags) == 2);
    char t[40];
    event_format_time(ev.published_at_us, t, sizeof(t));
    ASSERT_STR_EQ(t, "2024-10-02T12:05:00.250000Z");
    event_clear(&ev);

    /* Unknown members anywhere, some named like known ones, are skipped. */
    const char *extra = "{\"titles\":1,\"t\":2,\"source\":\"s\",\"\":3,\"title\":\"T\","
                        "\"Source\":\"no\",\"text\":\"body\"}";
    ASSERT_INT_EQ(event_decode(extra, strlen(extra), NULL, &ev, err, sizeof(err)), EVENT_OK);
    ASSERT_STR_EQ(ev.source, "s");
    ASSERT_STR_EQ(ev.title, "T");
    ASSERT_STR_EQ(ev.text, "body");
    event_clear(&ev);

    const char *repo = "{\"kind\":\"repo_event\",\"source\":\"github\",\"repo\":{\"type\":\"ReleaseEvent\","
                       "\"repo\":{\"name\":\"o/r\"}}}";
    ASSERT_INT_EQ(event_decode(repo, strlen(repo), NULL, &ev, err, sizeof(err)), EVENT_OK);
    ASSERT_INT_EQ(ev.kind, EVENT_REPO);
    ASSERT_STR_EQ(ev.title, "");
    ASSERT_INT_EQ(ev.id_derived, 1);
    ASSERT_TRUE(strncmp(ev.id, "s-", 2) == 0);
    event_clear(&ev);
}

static void test_ids_and_urls(void)
{
    char c[512];
    ASSERT_INT_EQ(event_canonical_url("HTTPS://Example.COM:443/a/b/?utm_medium=x&q=1&fbclid=z#top", c, sizeof(c)), 0);
    ASSERT_STR_EQ(c, "https://example.com/a/b?q=1");
    ASSERT_INT_EQ(event_canonical_url("http://example.com", c, sizeof(c)), 0);
    ASSERT_STR_EQ(c, "http://example.com/");
    ASSERT_INT_EQ(event_canonical_url("mailto:x@y", c, sizeof(c)), -1);

    /* The same item crawled twice with different tracking noise keeps its id. */
    char a[EVENT_ID_MAX + 1], b[EVENT_ID_MAX + 1];
    event_derive_id("s", "https://example.com/story?utm_source=feed", "T1", NULL, a);
    event_derive_id("other", "https://EXAMPLE.com/story/#x", "T2", "2024-01-01T00:00:00Z", b);
    ASSERT_STR_EQ(a, b);
    ASSERT_TRUE(strncmp(a, "u-", 2) == 0 && strlen(a) == 34);
    event_derive_id("s", NULL, "T1", NULL, a);
    event_derive_id("s", NULL, "T2", NULL, b);
    ASSERT_TRUE(strcmp(a, b) != 0);

    const char *noid = "{\"source\":\"s\",\"title\":\"t\",\"url\":\"https://example.com/story\"}";
    event_t ev;
    char err[256];
    ASSERT_INT_EQ(event_decode(noid, strlen(noid), NULL, &ev, err, sizeof(err)), EVENT_OK);
    event_derive_id("s", "https://example.com/story", "", NULL, a);
    ASSERT_STR_EQ(ev.id, a);
    event_clear(&ev);
}

static void test_time(void)
{
    int64_t us;
    ASSERT_INT_EQ(event_parse_time("1970-01-01T00:00:00Z", &us), 0);
    ASSERT_INT_EQ(us, 0);
    ASSERT_INT_EQ(event_parse_time("2024-02-29T23:59:59-01:30", &us), 0);
    ASSERT_INT_EQ(us, 1709256599000000LL);
    ASSERT_INT_EQ(event_parse_time("2023-02-29T00:00:00Z", &us), -1);
    ASSERT_INT_EQ(event_parse_time("2024-10-02T10:00:00.Z", &us), -1);
    ASSERT_INT_EQ(event_parse_time("2024-10-02T10:00:00Zjunk", &us), -1);
}

/* A repo event of 400 members (its tree outgrows the arena's first block)
 * next to a second event and to trees cJSON builds outside a decode: each
 * keeps its own memory (the sanitizer build sees any mix-up or leak). */
static void test_tree_arena(void)
{
    buf_t j = {0};
    buf_puts(&j, "{\"kind\":\"repo_event\",\"source\":\"github\",\"repo\":{");
    for (int i = 0; i < 400; i++) buf_printf(&j, "%s\"k%d\":\"value %d\"", i ? "," : "", i, i);
    buf_puts(&j, "},\"tags\":[\"a\",\"b\"]}");
    ASSERT_TRUE(!j.failed);
    event_t ev, other;
    char err[256];
    ASSERT_INT_EQ(event_decode(j.data, j.len, NULL, &ev, err, sizeof(err)), EVENT_OK);
    const char *small = "{\"source\":\"s\",\"title\":\"second\"}";
    ASSERT_INT_EQ(event_decode(small, strlen(small), NULL, &other, err, sizeof(err)), EVENT_OK);
    cJSON *outside = cJSON_Parse("{\"x\":[1,2,3],\"y\":\"z\"}");
    ASSERT_TRUE(outside != NULL);
    char *printed = cJSON_PrintUnformatted(ev.repo);
    ASSERT_TRUE(printed != NULL && strstr(printed, "\"k399\":\"value 399\"") != NULL);
    cJSON_free(printed);
    cJSON_Delete(outside);
    event_clear(&other);
    ASSERT_INT_EQ(cJSON_GetArraySize(ev.repo), 400);
    const cJSON *last = cJSON_GetObjectItemCaseSensitive(ev.repo, "k399");
    ASSERT_TRUE(cJSON_IsString(last) && strcmp(last->valuestring, "value 399") == 0);
    ASSERT_INT_EQ(cJSON_GetArraySize(ev.tags), 2);
    event_clear(&ev);

    /* a parse that fails after hundreds of nodes: nothing left to free */
    buf_reset(&j);
    buf_puts(&j, "{\"source\":\"s\",\"title\":\"t\",\"x\":[");
    for (int i = 0; i < 500; i++) buf_printf(&j, "\"item %d\",", i);
    buf_puts(&j, "}");
    ASSERT_INT_EQ(event_decode(j.data, j.len, NULL, &ev, err, sizeof(err)), EVENT_ERR_JSON);
    ASSERT_TRUE(ev.root == NULL && ev.arena == NULL);
    buf_free(&j);
}

int main(void)
{
    test_bad_inputs();
    test_bad_bytes_anywhere();
    test_size_limits();
    test_good_event();
    test_tree_arena();
    test_ids_and_urls();
    test_time();
    return TEST_DONE();
}

/* Unit tests for producer/feed.c: RSS 2.0, Atom and repository-event JSON
 * to validated events, stable ids, malformed input. Table-driven: each case
 * is a document and what its items must be. */
#include "../test.h"
#include "feed.h"

#include <stdlib.h>

static int str_eq(const char *got, const char *want, const char *what)
{
    if (got && strcmp(got, want) == 0) return 1;
    fprintf(stderr, "  %s: got \"%s\", want \"%s\"\n", what, got ? got : "(null)", want);
    return 0;
}

#define RSS(items) "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>c</title>" items "</channel></rss>"
#define ATOM(entries) "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>f</title>" entries "</feed>"

/* 2024-10-02T10:00:00Z */
#define CRAWLED 1727863200000000LL

/* A field of item i of the parsed feed, as the validator sees it. */
static const char *field(const feed_t *f, size_t i, const char *name, char *out, size_t outlen)
{
    event_t ev;
    char err[200];
    out[0] = '\0';
    if (i >= f->n || event_decode(f->items[i].json, f->items[i].len, NULL, &ev, err, sizeof err) != EVENT_OK)
        return "(invalid)";
    if (!strcmp(name, "id")) snprintf(out, outlen, "%s", ev.id);
    else if (!strcmp(name, "kind")) snprintf(out, outlen, "%s", ev.kind == EVENT_REPO ? "repo_event" : "article");
    else if (!strcmp(name, "title")) snprintf(out, outlen, "%s", ev.title);
    else if (!strcmp(name, "text")) snprintf(out, outlen, "%s", ev.text);
    else if (!strcmp(name, "url")) snprintf(out, outlen, "%s", ev.url ? ev.url : "");
    else if (!strcmp(name, "published_at") && ev.published_at_us != EVENT_TIME_NONE)
        event_format_time(ev.published_at_us, out, outlen);
    else if (!strcmp(name, "tags") && ev.tags) {
        size_t o = 0;
        const cJSON *t;
        cJSON_ArrayForEach(t, ev.tags) o += (size_t)snprintf(out + o, outlen - o, "%s%s", o ? "," : "", t->valuestring);
    }
    event_clear(&ev);
    return out;
}

static void test_documents(void)
{
    static const struct {
        const char *name, *doc, *format;
        int rc;
        size_t n, rejected;
        const char *title0, *text0, *pub0, *tags0, *idprefix0;
    } cases[] = {
        {"rss", RSS("<item><title>Hello &amp; bye</title><link>https://ex.org/a?utm_source=x</link>"
                    "<description>&lt;p&gt;Body &lt;b&gt;bold&lt;/b&gt;&lt;/p&gt;&lt;script&gt;x()&lt;/script&gt;</description>"
                    "<pubDate>Wed, 02 Oct 2024 09:30:00 GMT</pubDate><category>World</category></item>"
                    "<item><title>Two</title><link>https://ex.org/b</link></item>"),
         "rss", 0, 2, 0, "Hello & bye", "Body bold", "2024-10-02T09:30:00Z", "src-tag,World", "u-"},
        {"rss content:encoded wins", RSS("<item xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">"
                    "<title>T</title><guid>g1</guid><description>short</description>"
                    "<content:encoded><![CDATA[<p>Full text</p>]]></content:encoded></item>"),
         "rss", 0, 1, 0, "T", "Full text", "", "src-tag", "g-"},
        {"rss dc:date", RSS("<item xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><title>T</title>"
                    "<link>http://ex.org/x</link><dc:date>2024-10-02T11:00:00+02:00</dc:date></item>"),
         "rss", 0, 1, 0, "T", "", "2024-10-02T09:00:00Z", "src-tag", "u-"},
        {"rss without title takes the text", RSS("<item><description>Only a description here</description>"
                    "<link>https://ex.org/c</link></item>"),
         "rss", 0, 1, 0, "Only a description here", "Only a description here", "", "src-tag", "u-"},
        {"rss empty item is rejected", RSS("<item><guid>x</guid></item><item><title>ok</title><guid>y</guid></item>"),
         "rss", 0, 1, 1, "ok", "", "", "src-tag", "g-"},
        {"rss non-http link dropped", RSS("<item><title>T</title><link>javascript:alert(1)</link><guid>z</guid></item>"),
         "rss", 0, 1, 0, "T", "", "", "src-tag", "g-"},
        {"rss latin-1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><channel><item><title>caf\xe9</title>"
                    "<guid>c</guid></item></channel></rss>",
         "rss", 0, 1, 0, "caf\xc3\xa9", "", "", "src-tag", "g-"},
        {"atom", ATOM("<entry><title>E1</title><id>urn:e1</id><link rel=\"self\" href=\"https://ex.org/self\"/>"
                      "<link rel=\"alternate\" href=\"https://ex.org/e1\"/><updated>2024-10-02T08:00:00Z</updated>"
                      "<published>2024-10-01T08:00:00Z</published><summary>plain &lt;b&gt;</summary>"
                      "<category term=\"ai\"/></entry>"),
         "atom", 0, 1, 0, "E1", "plain <b>", "2024-10-01T08:00:00Z", "src-tag,ai", "u-"},
        {"atom html content", ATOM("<entry><title type=\"html\">E2</title><id>urn:e2</id>"
                      "<updated>2024-10-02T08:00:00Z</updated><content type=\"html\">&lt;p&gt;Para&lt;/p&gt;&lt;nav&gt;menu&lt;/nav&gt;</content></entry>"),
         "atom", 0, 1, 0, "E2", "Para", "2024-10-02T08:00:00Z", "src-tag", "g-"},
        {"github events", "[{\"id\":\"42\",\"type\":\"PushEvent\",\"repo\":{\"name\":\"o/r\"},\"actor\":{\"login\":\"u\"},"
                          "\"payload\":{\"commits\":[{\"message\":\"Fix bug\"},{\"message\":\"Add test\"}]},"
                          "\"created_at\":\"2024-10-02T07:00:00Z\"},"
                          "{\"type\":\"WatchEvent\",\"repo\":\"o/r2\",\"actor\":\"v\",\"created_at\":\"2024-10-02T07:00:00Z\"},"
                          "{\"no\":\"type\"}, 7]",
         "json", 0, 2, 2, "o/r PushEvent by u", "Fix bug\nAdd test", "2024-10-02T07:00:00Z", "src-tag", "gh-42"},
        {"malformed xml", RSS("<item><title>broken</item>"), NULL, -1, 0, 0, NULL, NULL, NULL, NULL, NULL},
        {"html is not a feed", "<html><body>hi</body></html>", NULL, -1, 0, 0, NULL, NULL, NULL, NULL, NULL},
        {"json object", "{\"type\":\"PushEvent\"}", NULL, -1, 0, 0, NULL, NULL, NULL, NULL, NULL},
        {"json broken", "[{\"type\":", NULL, -1, 0, 0, NULL, NULL, NULL, NULL, NULL},
        {"empty", "  \n", NULL, -1, 0, 0, NULL, NULL, NULL, NULL, NULL},
        /* external entities are never loaded nor substituted */
        {"xxe", "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                "<rss><channel><item><title>a&x;b</title><guid>x</guid></item></channel></rss>",
         "rss", 0, 1, 0, "ab", "", "", "src-tag", "g-"},
    };
    const char *tags[] = {"src-tag"};
    feed_ctx_t ctx = {"example", tags, 1, CRAWLED};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        feed_t f;
        char err[200] = "", v[600];
        int rc = feed_parse(cases[i].doc, strlen(cases[i].doc), &ctx, &f, err, sizeof err);
        if (!ASSERT_TRUE(rc == cases[i].rc)) fprintf(stderr, "  case %s: rc %d %s\n", cases[i].name, rc, err);
        if (rc != 0) {
            ASSERT_TRUE(err[0] != '\0' && f.n == 0);
            continue;
        }
        if (!ASSERT_TRUE(str_eq(f.format, cases[i].format, cases[i].name))) {
            feed_free(&f);
            continue;
        }
        if (!ASSERT_TRUE(f.n == cases[i].n && f.rejected == cases[i].rejected))
            fprintf(stderr, "  case %s: n=%zu rejected=%zu (%s)\n", cases[i].name, f.n, f.rejected, f.reject_reason);
        if (f.n == 0) {
            feed_free(&f);
            continue;
        }
        ASSERT_TRUE(str_eq(field(&f, 0, "title", v, sizeof v), cases[i].title0, cases[i].name));
        ASSERT_TRUE(str_eq(field(&f, 0, "text", v, sizeof v), cases[i].text0, cases[i].name));
        ASSERT_TRUE(str_eq(field(&f, 0, "published_at", v, sizeof v), cases[i].pub0, cases[i].name));
        ASSERT_TRUE(str_eq(field(&f, 0, "tags", v, sizeof v), cases[i].tags0, cases[i].name));
        field(&f, 0, "id", v, sizeof v);
        ASSERT_TRUE(strncmp(v, cases[i].idprefix0, strlen(cases[i].idprefix0)) == 0 &&
                    str_eq(v, f.items[0].id, cases[i].name));
        feed_free(&f);
    }
}

/* The same item gets the same id whatever else changes; different items,
 * or the same upstream id from another source, do not. */
static void test_stable_ids(void)
{
    const char *a = RSS("<item><title>A</title><link>https://Ex.org/a?utm_source=rss#top</link></item>"
                        "<item><title>B</title><guid>guid-b</guid></item>");
    const char *b = RSS("<item><title>Edited title</title><link>https://ex.org/a</link>"
                        "<description>now with text</description></item>"
                        "<item><title>B again</title><guid>guid-b</guid><pubDate>Tue, 01 Oct 2024 00:00:00 GMT</pubDate></item>");
    feed_ctx_t c1 = {"example", NULL, 0, CRAWLED}, c2 = {"example", NULL, 0, CRAWLED + 3600000000LL},
               c3 = {"other", NULL, 0, CRAWLED};
    feed_t f1, f2, f3;
    char err[200];
    ASSERT_TRUE(feed_parse(a, strlen(a), &c1, &f1, err, sizeof err) == 0 && f1.n == 2);
    ASSERT_TRUE(feed_parse(b, strlen(b), &c2, &f2, err, sizeof err) == 0 && f2.n == 2);
    ASSERT_TRUE(feed_parse(a, strlen(a), &c3, &f3, err, sizeof err) == 0 && f3.n == 2);
    if (f1.n == 2 && f2.n == 2 && f3.n == 2) {
        ASSERT_TRUE(str_eq(f1.items[0].id, f2.items[0].id, "canonical URL id"));
        ASSERT_TRUE(str_eq(f1.items[1].id, f2.items[1].id, "guid id"));
        ASSERT_TRUE(strcmp(f1.items[0].id, f1.items[1].id) != 0);
        char want[EVENT_ID_MAX + 1];
        event_derive_id("example", "https://ex.org/a", "x", NULL, want);
        ASSERT_TRUE(str_eq(f1.items[0].id, want, "same id as the consumer derives"));
        ASSERT_TRUE(str_eq(f3.items[0].id, f1.items[0].id, "URL ids ignore the source"));
        ASSERT_TRUE(strcmp(f3.items[1].id, f1.items[1].id) != 0); /* guids are per source */
    }
    feed_free(&f1);
    feed_free(&f2);
    feed_free(&f3);
}

/* Over-long fields are cut at a character boundary and still validate. */
static void test_limits(void)
{
    size_t n = 3000;
    char *title = malloc(n * 2 + 1);
    for (size_t i = 0; i < n; i++) memcpy(title + 2 * i, "\xc3\xa9", 2);
    title[2 * n] = '\0';
    char *doc = malloc(2 * n + 200);
    snprintf(doc, 2 * n + 200, RSS("<item><title>%s</title><guid>long</guid></item>"), title);
    feed_ctx_t c = {"example", NULL, 0, CRAWLED};
    feed_t f;
    char err[200], v[4096];
    ASSERT_TRUE(feed_parse(doc, strlen(doc), &c, &f, err, sizeof err) == 0 && f.n == 1 && f.rejected == 0);
    if (f.n == 1) ASSERT_TRUE(strlen(field(&f, 0, "title", v, sizeof v)) == 2048);
    feed_free(&f);
    free(doc);
    free(title);
}

int main(void)
{
    test_documents();
    test_stable_ids();
    test_limits();
    return TEST_DONE();
}

/* Unit tests for common/html.c: main text without boilerplate, charset
 * conversion with iconv, and charset sniffing. Table-driven. */
#include "../test.h"
#include "html.h"

#include <stdlib.h>

static int str_eq(const char *got, const char *want, const char *what)
{
    if (got && strcmp(got, want) == 0) return 1;
    fprintf(stderr, "  %s: got \"%s\", want \"%s\"\n", what, got ? got : "(null)", want);
    return 0;
}

static void test_main_text(void)
{
    static const struct {
        const char *html, *text, *title;
    } cases[] = {
        /* boilerplate goes, blocks become lines */
        {"<html><head><title> A  page </title><script>var s='x';</script><style>p{}</style></head>"
         "<body><header>Site</header><nav><a href=/>Home</a></nav><h1>Headline</h1>"
         "<p>First para.</p><p>Second para.</p><aside>Related</aside><footer>(c)</footer></body></html>",
         "Headline\nFirst para.\nSecond para.", "A page"},
        /* <article> wins over the rest of the body */
        {"<body><p>Teaser elsewhere</p><article><p>Real story.</p></article><p>More teasers</p></body>",
         "Real story.", ""},
        /* then <main> */
        {"<body><div>Chrome</div><main><p>Main body.</p></main></body>", "Main body.", ""},
        /* inline elements do not break lines; white space collapses */
        {"<p>one <b>two</b>\n\n  <i>three</i></p>", "one two three", ""},
        /* entities decoded; role and hidden elements skipped */
        {"<body><div role=navigation>Menu</div><p hidden>secret</p><p>a &amp; b &lt;c&gt;</p></body>",
         "a & b <c>", ""},
        /* forms, noscript, iframes, svg */
        {"<body><form><button>Go</button></form><noscript>enable js</noscript>"
         "<iframe>frame</iframe><svg><text>logo</text></svg><p>kept</p></body>",
         "kept", ""},
        /* unclosed tags are recovered */
        {"<p>open <div>inner", "open\ninner", ""},
        {"", "", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_t text = {0}, title = {0};
        char err[200];
        int rc = html_main_text(cases[i].html, strlen(cases[i].html), &text, &title, err, sizeof err);
        ASSERT_TRUE(rc == 0);
        ASSERT_TRUE(str_eq(text.len ? buf_cstr(&text) : "", cases[i].text, "text"));
        ASSERT_TRUE(str_eq(title.len ? buf_cstr(&title) : "", cases[i].title, "title"));
        buf_free(&text);
        buf_free(&title);
    }
}

/* The walk is iterative: 200 levels keep their text, and a hostile page
 * nesting 200000 deep (past libxml2's own depth limit) still returns. */
static void test_deep_nesting(void)
{
    static const size_t depths[] = {200, 200000};
    for (size_t d = 0; d < 2; d++) {
        buf_t h = {0}, text = {0};
        for (size_t i = 0; i < depths[d]; i++) buf_puts(&h, "<div>");
        buf_puts(&h, "deep");
        char err[200];
        ASSERT_TRUE(html_main_text(h.data, h.len, &text, NULL, err, sizeof err) == 0);
        if (d == 0) ASSERT_TRUE(str_eq(text.len ? buf_cstr(&text) : "", "deep", "text"));
        buf_free(&h);
        buf_free(&text);
    }
}

static void test_to_utf8(void)
{
    static const struct {
        const char *in, *charset;
        int rc;
        const char *out;
    } cases[] = {
        {"caf\xe9", "ISO-8859-1", 0, "caf\xc3\xa9"},
        {"caf\xe9", "latin1", 0, "caf\xc3\xa9"},
        {"\x93q\x94 \x80", "windows-1252", 0, "\xe2\x80\x9cq\xe2\x80\x9d \xe2\x82\xac"},
        {"caf\xc3\xa9", NULL, 0, "caf\xc3\xa9"},
        {"caf\xc3\xa9", "utf-8", 0, "caf\xc3\xa9"},
        {"caf\xe9", "UTF-8", -1, NULL},        /* Latin-1 bytes that claim UTF-8 */
        {"ok \xc3", "UTF-8", -1, NULL},        /* truncated sequence */
        {"x", "no-such-charset", -1, NULL},
        {"", "UTF-8", 0, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_t out = {0};
        char err[200] = "";
        int rc = html_to_utf8(cases[i].in, strlen(cases[i].in), cases[i].charset, &out, err, sizeof err);
        if (!ASSERT_TRUE(rc == cases[i].rc)) fprintf(stderr, "  case %zu: rc %d (%s)\n", i, rc, err);
        if (cases[i].out) ASSERT_TRUE(str_eq(out.len ? buf_cstr(&out) : "", cases[i].out, "utf8"));
        else ASSERT_TRUE(err[0] != '\0');
        buf_free(&out);
    }
}

static void test_sniff(void)
{
    static const struct {
        const char *doc, *want; /* want NULL: none declared */
    } cases[] = {
        {"<html><head><meta charset=\"iso-8859-1\"></head>", "iso-8859-1"},
        {"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\">", "windows-1252"},
        {"<?xml version=\"1.0\" encoding='ISO-8859-15'?><rss/>", "ISO-8859-15"},
        {"<?xml version=\"1.0\"?><p>charset=koi8-r</p>", "koi8-r"},
        {"<html><body>no declaration</body></html>", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64] = "";
        int rc = html_sniff_charset(cases[i].doc, strlen(cases[i].doc), out, sizeof out);
        if (cases[i].want) ASSERT_TRUE(rc == 0 && str_eq(out, cases[i].want, "charset"));
        else ASSERT_TRUE(rc == -1);
    }
}

int main(void)
{
    test_main_text();
    test_deep_nesting();
    test_to_utf8();
    test_sniff();
    return TEST_DONE();
}

/* Unit tests for consumer/report (rendering only, no database) and
 * buf_html: every stored string lands escaped, charts have one mark per day,
 * no scripts or fetched resources, empty and unreadable input. */
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "buf.h"
#include "report.h"

#define HOSTILE "<script>alert(1)</script>"
#define HOSTILE_ESC "&lt;script&gt;alert(1)&lt;/script&gt;"

/* A trend whose every string carries markup, and its activity: three days
 * from 2024-10-08 (day 20004). */
static const char TRENDS[] =
    "[{\"key\":\"ai+funding\",\"title\":\"AI <b>funding</b> rising\",\"direction\":\"rising\","
    "\"score\":12.5,\"acceleration\":2,\"volume\":9,\"clusters\":2,\"independent\":2,\"sources\":5,"
    "\"tags\":[\"ai\",\"fund<i>ing\"],\"entities\":[\"O'Brien & Co\"],"
    "\"totals\":[{\"predicate\":\"raised\",\"currency\":\"USD\",\"total\":6.6e9,\"subjects\":2}],"
    "\"evidence\":[{\"cluster_id\":\"7\",\"label\":\"" HOSTILE "\",\"subject\":\"Sub\\\"ject\","
    "\"predicate\":\"raised\",\"amount\":6e9,\"currency\":\"USD\",\"events\":6,\"sources\":3,"
    "\"independent\":true},"
    "{\"cluster_id\":\"8\",\"label\":\"Plain label\",\"subject\":null,\"predicate\":null,"
    "\"amount\":null,\"currency\":null,\"events\":3,\"sources\":2,\"independent\":false}]}]";

static const char ACTIVITY[] =
    "{\"first_day\":20004,\"days\":3,\"trends\":{\"ai+funding\":[1,3,5]},"
    "\"clusters\":[{\"id\":\"7\",\"label\":\"" HOSTILE "\",\"docs\":6,\"sources\":3,\"before\":0,"
    "\"series\":[1,2,3]},{\"id\":\"8\",\"label\":\"Plain label\",\"docs\":4,\"sources\":2,\"before\":1,"
    "\"series\":[0,1,2]}],"
    "\"evidence\":{\"7\":{\"sources\":[{\"source\":\"evil<src>.example\",\"events\":2}],"
    "\"facts\":[{\"subject\":\"Acme <Corp>\",\"predicate\":\"raised\",\"object\":null,\"amount\":6e9,"
    "\"currency\":\"USD\",\"events\":4},{\"subject\":\"Acme\",\"predicate\":\"released\","
    "\"object\":\"v2 <beta>\",\"amount\":null,\"currency\":null,\"events\":1}]}}}";

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static void test_buf_html(void)
{
    buf_t b = {0};
    buf_html(&b, "a<b>&\"c'd");
    ASSERT_STR_EQ(buf_cstr(&b), "a&lt;b&gt;&amp;&quot;c&#39;d");
    buf_reset(&b);
    buf_html(&b, "");
    buf_html(&b, "plain");
    ASSERT_STR_EQ(buf_cstr(&b), "plain");
    buf_reset(&b);
    buf_copy_field(&b, "a\tb\\c\n"); /* shares the escaping loop */
    ASSERT_STR_EQ(buf_cstr(&b), "a\\tb\\\\c\\n");
    buf_reset(&b);
    buf_copy_field(&b, "\r\r\u00e9t\u00e9\\"); /* at both ends, in a row, beside UTF-8 */
    ASSERT_STR_EQ(buf_cstr(&b), "\\r\\r\u00e9t\u00e9\\\\");
    buf_free(&b);
}

static void test_render(void)
{
    buf_t b = {0};
    char err[256] = "";
    ASSERT_INT_EQ(report_render(TRENDS, ACTIVITY, 1728590000, &b, err, sizeof(err)), 0);
    const char *page = buf_cstr(&b);
    ASSERT_TRUE(page && strncmp(page, "<!DOCTYPE html>", 15) == 0);
    ASSERT_TRUE(strstr(page, "</html>") != NULL);
    /* Escaped wherever stored text appears; never raw. */
    ASSERT_TRUE(strstr(page, "AI &lt;b&gt;funding&lt;/b&gt; rising") != NULL);
    ASSERT_TRUE(strstr(page, "fund&lt;i&gt;ing") != NULL);
    ASSERT_TRUE(strstr(page, "O&#39;Brien &amp; Co") != NULL);
    ASSERT_TRUE(strstr(page, "Sub&quot;ject") != NULL);
    ASSERT_TRUE(strstr(page, "evil&lt;src&gt;.example (2)") != NULL);
    ASSERT_TRUE(strstr(page, "Acme &lt;Corp&gt; raised 6.0B USD (4)") != NULL);
    ASSERT_TRUE(strstr(page, "Acme released v2 &lt;beta&gt; (1)") != NULL);
    ASSERT_INT_EQ(count(page, HOSTILE_ESC), 4); /* evidence row, chart line title, legend, table */
    ASSERT_TRUE(strstr(page, "<script") == NULL);
    ASSERT_TRUE(strstr(page, "<b>") == NULL && strstr(page, "<i>") == NULL);
    ASSERT_TRUE(strstr(page, "src=") == NULL && strstr(page, "href=") == NULL && strstr(page, "url(") == NULL);
    /* Figures. */
    ASSERT_TRUE(strstr(page, "Total raised: 6.6B USD from 2 subjects") != NULL);
    ASSERT_TRUE(strstr(page, "raised 6.0B USD</td>") != NULL);
    ASSERT_INT_EQ(count(page, "<span class=\"ind\">independent</span>"), 1);
    ASSERT_TRUE(strstr(page, "Oct 08 2024 to Oct 10 2024 (UTC, 3 days)") != NULL);
    ASSERT_TRUE(strstr(page, "generated 2024-10-10 19:53 UTC") != NULL);
    /* The trend chart: one bar per day with its date and count. */
    ASSERT_TRUE(strstr(page, "<title>Tue Oct 08: 1 events</title>") != NULL);
    ASSERT_TRUE(strstr(page, "<title>Thu Oct 10: 5 events</title>") != NULL);
    ASSERT_INT_EQ(count(page, " events</title></rect>"), 3);
    /* Sizes: one line per cluster, cumulative from the events before. */
    ASSERT_INT_EQ(count(page, "<polyline"), 2);
    ASSERT_TRUE(strstr(page, "<li><span class=\"sw\" style=\"background:#0072B2\"></span>" HOSTILE_ESC " (6)</li>") != NULL);
    ASSERT_TRUE(strstr(page, "<td>Plain label</td><td class=\"n\">4</td><td class=\"n\">2</td><td class=\"n\">3</td>") != NULL);
    buf_free(&b);
}

static void test_empty_and_bad(void)
{
    buf_t b = {0};
    char err[256] = "";
    ASSERT_INT_EQ(report_render("[]", "{\"first_day\":null,\"days\":0,\"trends\":{},\"clusters\":[],"
                                      "\"evidence\":{}}", 0, &b, err, sizeof(err)), 0);
    const char *page = buf_cstr(&b);
    ASSERT_TRUE(strstr(page, "No current trends.") != NULL);
    ASSERT_TRUE(strstr(page, "No story clusters in the period.") != NULL);
    ASSERT_TRUE(strstr(page, "<svg") == NULL);
    buf_reset(&b);
    ASSERT_INT_EQ(report_render("{", "{}", 0, &b, err, sizeof(err)), -1);
    ASSERT_TRUE(strstr(err, "JSON") != NULL);
    ASSERT_INT_EQ(report_render("[]", "[]", 0, &b, err, sizeof(err)), -1);
    buf_free(&b);
}

int main(void)
{
    test_buf_html();
    test_render();
    test_empty_and_bad();
    return TEST_DONE();
}

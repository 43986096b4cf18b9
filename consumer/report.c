#include "report.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "trend.h"

#define DAY_S 86400
#define LINES_MAX 8 /* clusters drawn in the size chart; more would not be told apart */

/* Colour-blind-safe categorical palette (Okabe-Ito, with black swapped for grey). */
static const char *const PALETTE[LINES_MAX] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                                "#56B4E9", "#D55E00", "#F0E442", "#777777"};

static const char STYLE[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "margin:0;background:#f4f5f7;color:#1d2330;line-height:1.45}"
    "main{max-width:1180px;margin:0 auto;padding:24px}"
    "header{background:#1d2330;color:#fff;padding:20px 24px}"
    "header h1{margin:0 0 4px;font-size:26px}header p{margin:0;color:#c9d1e0}"
    "h2{font-size:20px;margin:28px 0 12px}"
    ".card{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:16px 20px;margin:0 0 20px}"
    ".card h3{margin:0 0 6px;font-size:19px}"
    ".dir{font-size:12px;font-weight:600;padding:2px 8px;border-radius:10px;vertical-align:middle;margin-left:8px}"
    ".rising{background:#d9f2e3;color:#136c36}.falling{background:#fde2e1;color:#9b1c1c}"
    ".steady{background:#e6e9ef;color:#3b4456}"
    ".stats{color:#4a5468;margin:0 0 8px}"
    ".chip{display:inline-block;background:#eef1f6;border-radius:4px;padding:1px 7px;margin:0 4px 4px 0;font-size:13px}"
    ".chip.ent{background:#fff4dc}"
    ".totals{font-weight:600;margin:6px 0}"
    ".row{display:flex;flex-wrap:wrap;gap:20px;align-items:flex-start}"
    "figure{margin:6px 0}figcaption{font-size:12px;color:#5b6579}"
    "table{border-collapse:collapse;width:100%;font-size:14px}"
    "th{text-align:left;color:#5b6579;font-weight:600;border-bottom:2px solid #dde1e8;padding:5px 6px}"
    "td{border-bottom:1px solid #eceef2;padding:5px 6px;vertical-align:top}"
    "td.n{text-align:right;white-space:nowrap}"
    ".ind{font-size:11px;color:#136c36;border:1px solid #9fd6b3;border-radius:3px;padding:0 4px;margin-left:6px}"
    ".src,.facts{font-size:12px;color:#5b6579}"
    ".sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}"
    ".legend{columns:2;font-size:13px;margin:6px 0 0;padding:0;list-style:none}"
    ".empty{color:#5b6579;font-style:italic}"
    "footer{color:#6b7488;font-size:12px;padding:8px 24px 28px;max-width:1180px;margin:0 auto}"
    "svg text{font-family:inherit;font-size:11px;fill:#5b6579}";

static const char *jstr(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static double jnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void put_text(buf_t *b, const char *s) { buf_html(b, s ? s : ""); }

static void day_label(int64_t day, const char *fmt, char *out, size_t outlen)
{
    time_t t = (time_t)(day * DAY_S);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, outlen, fmt, &tm)) snprintf(out, outlen, "?");
}

/* The smallest 1, 2 or 5 times a power of ten at or above v: a round axis top. */
static double nice_ceil(double v)
{
    if (v <= 1) return 1;
    double p = pow(10, floor(log10(v)));
    for (int i = 0; i < 3; i++) {
        double m = (double[]){1, 2, 5}[i] * p;
        if (m >= v) return m;
    }
    return 10 * p;
}

/* Plot geometry shared by the charts: a frame with gridlines and a day axis. */
typedef struct {
    double w, h, left, right, top, bottom, ymax;
    int days;
    int64_t first_day;
} plot_t;

static double plot_x(const plot_t *p, double slot) /* slot: 0..days, left edge of day i at i */
{
    return p->left + (p->w - p->left - p->right) * slot / (p->days ? p->days : 1);
}

static double plot_y(const plot_t *p, double v)
{
    return p->h - p->bottom - (p->h - p->top - p->bottom) * v / p->ymax;
}

static void svg_open(buf_t *b, double w, double h, const char *label)
{
    buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                  "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"",
               w, h, w, h);
    put_text(b, label);
    buf_puts(b, "\">");
}

static void plot_open(buf_t *b, const plot_t *p, const char *label)
{
    svg_open(b, p->w, p->h, label);
    for (int g = 0; g <= 2; g++) {
        double v = p->ymax * g / 2, y = plot_y(p, v);
        buf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>", p->left, y,
                   p->w - p->right, y, g ? "#e3e6ec" : "#9aa3b5");
        buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>", p->left - 5, y + 4, v);
    }
    int step = (p->days + 9) / 10; /* at most ten date labels */
    for (int i = 0; i < p->days; i += step ? step : 1) {
        char d[16];
        day_label(p->first_day + i, "%b %d", d, sizeof(d));
        buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
                   (plot_x(p, i) + plot_x(p, i + 1)) / 2, p->h - p->bottom + 15, d);
    }
}

static double series_max(const cJSON *series)
{
    double m = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, series) {
        if (v->valuedouble > m) m = v->valuedouble;
    }
    return m;
}

static double series_sum(const cJSON *series)
{
    double sum = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, series) {
        sum += v->valuedouble;
    }
    return sum;
}

/* A trend's events per day as bars, each with its date and count as a tooltip. */
static void bar_chart(buf_t *b, const cJSON *series, int64_t first_day, const char *label)
{
    plot_t p = {640, 170, 40, 10, 10, 24, nice_ceil(series_max(series)),
                cJSON_GetArraySize(series), first_day};
    plot_open(b, &p, label);
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, series) {
        double x0 = plot_x(&p, i), x1 = plot_x(&p, i + 1), y = plot_y(&p, v->valuedouble);
        char d[24];
        day_label(first_day + i, "%a %b %d", d, sizeof(d));
        buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" rx=\"2\">"
                      "<title>%s: %g events</title></rect>",
                   x0 + (x1 - x0) * 0.15, y, (x1 - x0) * 0.7, plot_y(&p, 0) - y, PALETTE[0], d,
                   v->valuedouble);
        if (v->valuedouble > 0)
            buf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>", (x0 + x1) / 2,
                       y - 3, v->valuedouble);
        i++;
    }
    buf_puts(b, "</svg>");
}

/* Cumulative size of each of the first LINES_MAX clusters, one line each. */
static void size_chart(buf_t *b, const cJSON *clusters, int64_t first_day, int days)
{
    double top = 0;
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, clusters) {
        if (n++ == LINES_MAX) break;
        double m = jnum(c, "before") + series_sum(cJSON_GetObjectItemCaseSensitive(c, "series"));
        if (m > top) top = m;
    }
    plot_t p = {1100, 300, 44, 16, 12, 24, nice_ceil(top), days, first_day};
    plot_open(b, &p, "Cluster sizes over time");
    n = 0;
    cJSON_ArrayForEach(c, clusters) {
        if (n == LINES_MAX) break;
        const char *colour = PALETTE[n++];
        double size = jnum(c, "before");
        buf_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2.5\" points=\"", colour);
        int i = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(c, "series")) {
            size += v->valuedouble;
            buf_printf(b, "%s%.1f,%.1f", i ? " " : "", (plot_x(&p, i) + plot_x(&p, i + 1)) / 2, plot_y(&p, size));
            i++;
        }
        buf_puts(b, "\"><title>");
        put_text(b, jstr(c, "label"));
        buf_puts(b, "</title></polyline>");
    }
    buf_puts(b, "</svg><ul class=\"legend\">");
    n = 0;
    cJSON_ArrayForEach(c, clusters) {
        if (n == LINES_MAX) break;
        buf_printf(b, "<li><span class=\"sw\" style=\"background:%s\"></span>", PALETTE[n++]);
        put_text(b, jstr(c, "label"));
        buf_printf(b, " (%g)</li>", jnum(c, "docs"));
    }
    buf_puts(b, "</ul>");
}

/* A small bar chart of events per day for a table cell. */
static void sparkline(buf_t *b, const cJSON *series)
{
    int n = cJSON_GetArraySize(series);
    double max = series_max(series), w = 160, h = 26, bw = n ? w / n : w;
    svg_open(b, w, h, "events per day");
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, series) {
        double bh = max > 0 ? (h - 2) * v->valuedouble / max : 0;
        if (v->valuedouble > 0 && bh < 1) bh = 1;
        if (bh > 0)
            buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
                       i * bw + bw * 0.1, h - bh, bw * 0.8, bh, PALETTE[4]);
        i++;
    }
    buf_puts(b, "</svg>");
}

static void put_amount(buf_t *b, const cJSON *o)
{
    const cJSON *amount = cJSON_GetObjectItemCaseSensitive(o, "amount");
    if (!cJSON_IsNumber(amount)) return;
    char m[64];
    trend_format_amount(amount->valuedouble, jstr(o, "currency"), m, sizeof(m));
    put_text(b, m);
}

static void put_chips(buf_t *b, const cJSON *arr, const char *cls)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) {
        buf_printf(b, "<span class=\"%s\">", cls);
        put_text(b, cJSON_GetStringValue(v));
        buf_puts(b, "</span>");
    }
}

/* The sources of a cluster, most events first: the first few by name. */
static void put_sources(buf_t *b, const cJSON *sources)
{
    int n = cJSON_GetArraySize(sources), shown = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, sources) {
        if (shown == 4) break;
        buf_puts(b, shown++ ? ", " : "");
        put_text(b, jstr(s, "source"));
        if (jnum(s, "events") > 1) buf_printf(b, " (%g)", jnum(s, "events"));
    }
    if (n > shown) buf_printf(b, " and %d more", n - shown);
}

static void put_facts(buf_t *b, const cJSON *facts)
{
    int i = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, facts) {
        buf_puts(b, i++ ? "; " : "");
        put_text(b, jstr(f, "subject"));
        buf_puts(b, " ");
        put_text(b, jstr(f, "predicate"));
        buf_puts(b, " ");
        if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(f, "amount"))) put_amount(b, f);
        else put_text(b, jstr(f, "object"));
        buf_printf(b, " (%g)", jnum(f, "events"));
    }
}

static void evidence_table(buf_t *b, const cJSON *trend, const cJSON *evidence_detail)
{
    buf_puts(b, "<table><thead><tr><th>Story cluster</th><th>Subject</th><th>Fact</th>"
                "<th class=\"n\">Events</th><th class=\"n\">Sources</th></tr></thead><tbody>");
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(trend, "evidence")) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(evidence_detail, jstr(e, "cluster_id"));
        buf_puts(b, "<tr><td>");
        put_text(b, jstr(e, "label"));
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "independent")))
            buf_puts(b, "<span class=\"ind\">independent</span>");
        const cJSON *sources = cJSON_GetObjectItemCaseSensitive(d, "sources");
        if (cJSON_GetArraySize(sources)) {
            buf_puts(b, "<div class=\"src\">");
            put_sources(b, sources);
            buf_puts(b, "</div>");
        }
        const cJSON *facts = cJSON_GetObjectItemCaseSensitive(d, "facts");
        if (cJSON_GetArraySize(facts)) {
            buf_puts(b, "<div class=\"facts\">Facts: ");
            put_facts(b, facts);
            buf_puts(b, "</div>");
        }
        buf_puts(b, "</td><td>");
        put_text(b, jstr(e, "subject"));
        buf_puts(b, "</td><td>");
        put_text(b, jstr(e, "predicate"));
        buf_puts(b, " ");
        put_amount(b, e);
        buf_printf(b, "</td><td class=\"n\">%g</td><td class=\"n\">%g</td></tr>", jnum(e, "events"),
                   jnum(e, "sources"));
    }
    buf_puts(b, "</tbody></table>");
}

static void trend_card(buf_t *b, const cJSON *t, const cJSON *activity)
{
    const char *dir = jstr(t, "direction");
    const char *cls = dir && (!strcmp(dir, "rising") || !strcmp(dir, "falling")) ? dir : "steady";
    buf_puts(b, "<article class=\"card\"><h3>");
    put_text(b, jstr(t, "title"));
    buf_printf(b, "<span class=\"dir %s\">", cls);
    put_text(b, dir);
    buf_printf(b, "</span></h3><p class=\"stats\">score %.2f &middot; %g independent of %g clusters "
                  "&middot; %g sources &middot; %g events in the window &middot; acceleration &times;%.2f</p><p>",
               jnum(t, "score"), jnum(t, "independent"), jnum(t, "clusters"), jnum(t, "sources"),
               jnum(t, "volume"), jnum(t, "acceleration"));
    put_chips(b, cJSON_GetObjectItemCaseSensitive(t, "tags"), "chip");
    put_chips(b, cJSON_GetObjectItemCaseSensitive(t, "entities"), "chip ent");
    buf_puts(b, "</p>");
    const cJSON *tot;
    cJSON_ArrayForEach(tot, cJSON_GetObjectItemCaseSensitive(t, "totals")) {
        if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(tot, "total"))) continue;
        char m[64];
        trend_format_amount(jnum(tot, "total"), jstr(tot, "currency"), m, sizeof(m));
        buf_puts(b, "<p class=\"totals\">Total ");
        put_text(b, jstr(tot, "predicate"));
        buf_puts(b, ": ");
        put_text(b, m);
        buf_printf(b, " from %g subjects</p>", jnum(tot, "subjects"));
    }
    const cJSON *series = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(activity, "trends"),
                                                           jstr(t, "key"));
    if (cJSON_GetArraySize(series)) {
        buf_puts(b, "<figure>");
        bar_chart(b, series, (int64_t)jnum(activity, "first_day"), jstr(t, "title"));
        buf_puts(b, "<figcaption>Events per day (UTC) in the trend&#39;s story clusters</figcaption></figure>");
    }
    evidence_table(b, t, cJSON_GetObjectItemCaseSensitive(activity, "evidence"));
    buf_puts(b, "</article>");
}

static void clusters_section(buf_t *b, const cJSON *activity)
{
    const cJSON *clusters = cJSON_GetObjectItemCaseSensitive(activity, "clusters");
    int64_t first_day = (int64_t)jnum(activity, "first_day");
    int days = (int)jnum(activity, "days");
    buf_puts(b, "<h2>Story clusters</h2><section class=\"card\">");
    if (!cJSON_GetArraySize(clusters)) {
        buf_puts(b, "<p class=\"empty\">No story clusters in the period.</p></section>");
        return;
    }
    buf_puts(b, "<figure>");
    size_chart(b, clusters, first_day, days);
    buf_puts(b, "<figcaption>Size (events) of the largest clusters at the end of each day</figcaption></figure>"
                "<table><thead><tr><th>Cluster</th><th class=\"n\">Size</th><th class=\"n\">Sources</th>"
                "<th class=\"n\">In period</th><th>Events per day</th></tr></thead><tbody>");
    const cJSON *c;
    cJSON_ArrayForEach(c, clusters) {
        const cJSON *series = cJSON_GetObjectItemCaseSensitive(c, "series");
        buf_puts(b, "<tr><td>");
        put_text(b, jstr(c, "label"));
        buf_printf(b, "</td><td class=\"n\">%g</td><td class=\"n\">%g</td><td class=\"n\">%g</td><td>",
                   jnum(c, "docs"), jnum(c, "sources"), series_sum(series));
        sparkline(b, series);
        buf_puts(b, "</td></tr>");
    }
    buf_puts(b, "</tbody></table></section>");
}

int report_render(const char *trends_json, const char *activity_json, time_t generated,
                  buf_t *out, char *err, size_t errlen)
{
    cJSON *trends = cJSON_Parse(trends_json), *activity = cJSON_Parse(activity_json);
    int rc = -1;
    if (!cJSON_IsArray(trends) || !cJSON_IsObject(activity)) {
        snprintf(err, errlen, "report input is not the expected JSON");
        goto out;
    }
    char from[32] = "-", to[32] = "-", gen[32];
    int days = (int)jnum(activity, "days");
    if (days > 0) {
        int64_t first = (int64_t)jnum(activity, "first_day");
        day_label(first, "%b %d %Y", from, sizeof(from));
        day_label(first + days - 1, "%b %d %Y", to, sizeof(to));
    }
    struct tm tm;
    if (!gmtime_r(&generated, &tm) || !strftime(gen, sizeof(gen), "%Y-%m-%d %H:%M UTC", &tm))
        snprintf(gen, sizeof(gen), "?");
    buf_printf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width\">"
                    "<title>Shoal report</title><style>%s</style></head><body>"
                    "<header><h1>Shoal: trends and stories</h1><p>%s to %s (UTC, %d days) &middot; "
                    "current trends: %d &middot; generated %s</p></header><main><h2>Current trends</h2>",
               STYLE, from, to, days, cJSON_GetArraySize(trends), gen);
    if (!cJSON_GetArraySize(trends)) buf_puts(out, "<p class=\"empty\">No current trends.</p>");
    const cJSON *t;
    cJSON_ArrayForEach(t, trends) {
        trend_card(out, t, activity);
    }
    clusters_section(out, activity);
    buf_puts(out, "</main><footer>Written by shoal-consumer report. A trend is a theme carried by "
                  "several independent story clusters; counts are events, by publication time."
                  "</footer></body></html>\n");
    if (out->failed) snprintf(err, errlen, "out of memory");
    else rc = 0;
out:
    cJSON_Delete(trends);
    cJSON_Delete(activity);
    return rc;
}

static int write_file(const char *path, const buf_t *b, char *err, size_t errlen)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
        snprintf(err, errlen, "path too long: %s", path);
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, errlen, "cannot create %s: %m", tmp);
        return -1;
    }
    int ok = fwrite(b->data, 1, b->len, f) == b->len;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write %s: %m", path);
        unlink(tmp);
        return -1;
    }
    return 0;
}

int report_write(store_t *s, long window_s, const char *path, char *err, size_t errlen)
{
    char *trends = NULL, *activity = NULL;
    buf_t page = {0};
    int rc = -1;
    if (store_trends_json(s, INT64_MIN, &trends, err, errlen) == STORE_OK &&
        store_report_json(s, window_s, REPORT_MAX_CLUSTERS, REPORT_MAX_FACTS, &activity, err, errlen) == STORE_OK) {
        rc = -2;
        if (report_render(trends, activity, time(NULL), &page, err, errlen) == 0 &&
            write_file(path, &page, err, errlen) == 0)
            rc = 0;
    }
    free(trends);
    free(activity);
    buf_free(&page);
    return rc;
}

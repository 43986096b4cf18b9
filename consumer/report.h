/* report: one self-contained HTML page of the current trends and the story
 * clusters behind them.
 *
 * The page holds each active trend (its figures, a chart of its events per
 * day, and its evidence: the supporting clusters, their sources and facts)
 * and the sizes of the largest clusters over time. Styles are inline CSS and
 * charts are inline SVG: no scripts, no fonts, images or links to fetch, so
 * it reads the same offline or as a mail attachment. Every stored string is
 * HTML-escaped (buf_html); tooltips are SVG <title> elements.
 *
 * Days are UTC days since the epoch, as store_report_json counts them. */
#ifndef SHOAL_REPORT_H
#define SHOAL_REPORT_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "store.h"

#define REPORT_MAX_CLUSTERS 30 /* clusters listed, by events in the period */
#define REPORT_MAX_FACTS 6     /* facts shown per evidence cluster */

/* Renders the page, appending to out. trends_json is store_trends_json's
 * array, activity_json store_report_json's object; generated is the time
 * printed as the page's date. Returns 0, or -1 with a reason in err
 * (unreadable input, out of memory). Pure: no I/O. */
int report_render(const char *trends_json, const char *activity_json, time_t generated,
                  buf_t *out, char *err, size_t errlen);

/* Reads what the page needs (trends over window_s), renders it and writes
 * it to path through a temporary file renamed into place, so a reader never
 * sees half a page. Returns 0; -1 when the database could not be read, -2
 * when the page could not be rendered or written; a reason in err. */
int report_write(store_t *s, long window_s, const char *path, char *err, size_t errlen);

#endif

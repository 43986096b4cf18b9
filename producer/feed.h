/* feed: one fetched feed body to validated events.
 *
 * Formats, recognised by content, not by URL or content type:
 *   - RSS 2.0 (<rss><channel><item>) and Atom (<feed xmlns=Atom><entry>),
 *     parsed with libxml2's XML parser: no network, no entity expansion.
 *     RSS: title, link, guid, description / content:encoded (HTML, reduced
 *     to text by html_main_text), pubDate (RFC 822) or dc:date, category.
 *     Atom: title, link (rel alternate or none), id, summary / content,
 *     published or updated, category term.
 *   - JSON: an array of GitHub-style repository events ({"id", "type",
 *     "repo": {"name"}, "actor": {"login"}, "payload", "created_at"});
 *     each becomes a kind "repo_event" event whose "repo" is the upstream
 *     object, url https://github.com/OWNER/NAME.
 *
 * Ids (stable across re-crawls; explicit in the event):
 *   - an item with a link: event_derive_id() of its URL, "u-" + hash of the
 *     canonical URL (the consumer derives the same id from the same URL);
 *   - else with an upstream id (RSS guid, Atom id): "g-" + hash of
 *     source "\n" upstream id;
 *   - a repository event: "gh-" + its numeric id, else "g-" as above;
 *   - else event_derive_id() of source, title and published_at.
 *
 * Every item is encoded with cJSON and checked with event_decode() (the
 * consumer's validator); one that fails is counted in rejected and left
 * out, the others stand. Titles and texts over the event limits are cut
 * at a UTF-8 boundary. */
#ifndef SHOAL_FEED_H
#define SHOAL_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

typedef struct {
    const char *source;        /* the events' "source"; required */
    const char *const *tags;   /* added to every item; may be NULL */
    size_t ntags;
    int64_t crawled_at_us;     /* the events' crawled_at */
} feed_ctx_t;

typedef struct {
    char id[EVENT_ID_MAX + 1];
    char *json; /* one validated event, NUL-terminated, owned */
    size_t len;
} feed_item_t;

typedef struct {
    const char *format;  /* "rss", "atom" or "json" after a successful parse */
    feed_item_t *items;  /* in document order */
    size_t n, cap;
    size_t rejected;     /* items that failed validation */
    char reject_reason[200]; /* the first one's reason */
} feed_t;

/* Parses body (len bytes, any encoding the XML declares) into out, which
 * must be zeroed or fresh from feed_free(). Returns 0, or -1 with err set
 * when the body is not a feed (malformed XML or JSON, an unknown root) or
 * memory ran out; on -1 out holds nothing. */
int feed_parse(const char *body, size_t len, const feed_ctx_t *ctx, feed_t *out, char *err,
               size_t errlen);
void feed_free(feed_t *f);

#endif

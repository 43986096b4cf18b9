/* generate: deterministic synthetic events for load tests and benchmarks.
 *
 * Event i of a generator depends only on (seed, n_stories, i), so a stream
 * can be produced in any order, split across threads or regenerated later
 * byte for byte. The generator is read-only after generator_new(), so
 * generator_event() may be called from several threads at once.
 *
 * What the stream looks like:
 *  - one JSON object per event in the format of schema/event.schema.json:
 *    id "gen-<seed>-<i>", kind, source (one of 320 publisher domains, a few
 *    large ones publishing most), url, title, text (title + text about 1 KB),
 *    published_at, crawled_at, lang "en", tags;
 *  - about 5% are "repo_event"s (source "github.com") with a GitHub-style
 *    "repo" object (ReleaseEvent, PushEvent, WatchEvent, IssuesEvent,
 *    PullRequestEvent, ForkEvent);
 *  - every event belongs to a story. A story has a category (funding,
 *    acquisition, outage, breach, layoffs, ..., sports, election, weather),
 *    a sector (AI, quantum computing, batteries, ...), companies, people,
 *    places and an amount, and every article of the story repeats those
 *    key words, so a clusterer can group them. Stories overlap in time: about
 *    n_stories are active at once, new ones keep starting (their ids never
 *    repeat), each gets about 8 events on average, most of them early in its
 *    life, which lasts about two days of event time;
 *  - published_at advances with i from 2024-10-01T00:00:00Z at a rate such
 *    that a story's life is two days (10.8 s per event for the default
 *    2000 stories), with a few minutes of jitter, so lines are only roughly in
 *    order, as from a real crawler. */
#ifndef SHOAL_GENERATE_H
#define SHOAL_GENERATE_H

#include <stddef.h>
#include <stdint.h>

typedef struct generator generator_t;

#define GENERATOR_DEFAULT_STORIES 2000

/* n_stories: stories active at the same time (0 = GENERATOR_DEFAULT_STORIES).
 * Returns NULL only when out of memory. */
generator_t *generator_new(uint64_t seed, size_t n_stories);
void generator_destroy(generator_t *g);

/* Writes the i-th event as one JSON line, without a trailing newline, into
 * buf, NUL-terminated when cap > 0. Returns the line's length in bytes (not
 * counting the NUL). As with snprintf, a return value >= cap means the line
 * did not fit: buf then holds a truncated prefix; call again with a buffer of
 * at least the returned length + 1. A buffer of GENERATOR_LINE_MAX bytes
 * always suffices. Deterministic for (seed, n_stories, i). */
size_t generator_event(const generator_t *g, uint64_t i, char *buf, size_t cap);

#define GENERATOR_LINE_MAX 8192

/* The published_at of event i, microseconds since the epoch (what the line
 * carries), for callers that pace a replay by event time. */
int64_t generator_event_time_us(const generator_t *g, uint64_t i);

#endif

/* crawl: `shoal-producer crawl`, feeds and repository-event endpoints to a
 * topic.
 *
 *   shoal-producer crawl -b BROKERS -t TOPIC --sources FILE [--interval S]
 *                        [--once] [--state FILE] [--host-delay-ms MS]
 *                        [--timeout-ms MS] [--max-body BYTES]
 *
 * Sources file: one source a line, '#' starts a comment:
 *     URL [NAME [TAG,TAG...]]
 * NAME is the events' "source" (default: the URL's host).
 *
 * A cycle polls every source that is due, one after another:
 *   - fetch (common/fetch.h) with If-None-Match / If-Modified-Since from
 *     the last successful poll, bounded by connect/total timeouts, a body
 *     cap (--max-body, default 4 MiB) and 5 redirects;
 *   - per host, requests start at least --host-delay-ms apart (default
 *     1000);
 *   - parse (producer/feed.h); items whose id is already published are
 *     skipped; the rest are produced keyed by id (idempotent producer,
 *     acks=all) and counted as published only on the broker's
 *     acknowledgement. The source's validators are kept only when every
 *     new item was acknowledged, so a 304 can never hide an unpublished
 *     item;
 *   - a failing source (network, HTTP error, malformed feed, failed
 *     delivery) backs off exponentially with jitter (fault_backoff_ms from
 *     --interval, capped at 64 intervals); a 429 or 503 waits at least its
 *     Retry-After. Sources are independent: one failing never stops
 *     another.
 * After each cycle one "crawl cycle" line goes to stderr: polled, new,
 * not_modified, failed, rejected (items the validator refused).
 *
 * Deduplication across restarts: a state file (--state, default
 * shoal-crawl.state), rewritten atomically (temp file, fsync, rename) after
 * every source that published or changed validators. It holds each
 * source's validators and the ids of the last 100000 published items
 * (memory keeps between 100000 and 200000). An
 * item is republished only if the file is lost or the item has aged out of
 * it; since its id is stable, the consumer stores it once anyway.
 *
 * SIGTERM/SIGINT (signals_install() by the caller): the transfer in flight
 * is cancelled, acknowledgements already due are awaited, the state is
 * saved, exit 0; shutdown.timeout.ms bounds it (watchdog). --once runs one
 * cycle and exits 0, or 7 (EXIT_INCOMPLETE) when any source failed. */
#ifndef SHOAL_CRAWL_H
#define SHOAL_CRAWL_H

/* The whole subcommand; argv[0] is "crawl". Returns an exit code
 * (signals.h), having logged why. */
int crawl_main(int argc, char **argv);

#endif

/* shoal-consumer: Kafka -> validate -> extract -> persist -> commit.
 *
 *   shoal-consumer [run] -b BROKERS -t TOPIC[,TOPIC] -g GROUP --db CONNINFO [--drain]
 *   shoal-consumer migrate --db CONNINFO
 *
 * Startup order: settings, signals, database (migrations), dead-letter
 * producer, consumer. The loop: poll, add to the batch, flush when full or
 * old, retry transient failures with paused partitions. Every exit logs why
 * and uses a code from signals.h. */
#include <getopt.h>
#include <malloc.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "clock.h"
#include "cluster.h"
#include "config.h"
#include "dlq.h"
#include "event.h"
#include "fault.h"
#include "http.h"
#include "html.h"
#include "httpd.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "signals.h"
#include "source.h"
#include "rebuild.h"
#include "replay.h"
#include "report.h"
#include "store.h"
#include "trend.h"
#include "trend_update.h"
#include "version.h"

typedef struct {
    config_t *cfg;
    store_t *store;  /* the main loop's connection */
    store_t *wstore; /* the batch writer thread's */
    store_t *lstore; /* the main loop's lookups sent ahead (batch_prepare) */
    trend_worker_t *trends;
    dlq_t *dlq;
    batch_t *batch;
    source_t *source;
    extractor_t *extractor;
    cluster_engine_t *clusters;
    httpd_t *http;
    llm_t *llm;
    fetcher_t *fetcher;
    fetch_req_t fetch_req;
    /* While a flush waits on the LLM: partitions revoked meanwhile, and
     * messages polled meanwhile (added to the batch after the flush). */
    int in_flush, in_revoke;
    rd_kafka_topic_partition_list_t *revoked;
    rd_kafka_message_t **held;
    size_t n_held, held_cap;
    long watchdog_ms, watchdog_at; /* systemd WATCHDOG=1 period and last ping */
    long observed_at;              /* last observe_loop() that did its work */
    char instance[300];
    uint64_t seed;
    /* The sources as at startup, read again on SIGHUP (reload_settings()),
     * and the loop's reloadable settings as now in effect. */
    const char *config_path;
    const config_flag_t *flags;
    size_t n_flags;
    long batch_size, batch_ms;
    int batch_eager;
} consumer_t;

/* A store on the db settings; each connection of the process is one. */
static store_t *store_from_config(const config_t *cfg, const char *application_name)
{
    return store_new(config_str(cfg, "db"), (int)config_int(cfg, "db.connect.timeout.s"),
                     config_int(cfg, "db.statement.timeout.ms"), application_name);
}

static int finish(int code, const char *why)
{
    char c[16];
    snprintf(c, sizeof(c), "%d", code);
    log_kv(code == EXIT_OK ? LOG_INFO : LOG_ERROR, "exiting", "reason", why, "exit_code", c, NULL);
    return code;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: shoal-consumer [run] [options]     consume, persist, commit\n"
            "       shoal-consumer migrate [options]   apply database migrations and exit\n"
            "       shoal-consumer trends [--since T] [--json]\n"
            "                                          print the current trends and their evidence;\n"
            "                                          T: RFC 3339 or a duration back from now (36h, 7d)\n"
            "       shoal-consumer report --html FILE  write the trends and clusters as one HTML page\n"
            "       shoal-consumer replay --from-beginning | --from-timestamp T | --to-group NEW\n"
            "                                          rewind stored offsets, then reprocess (--drain)\n"
            "         [--reextract]                    also extract events already stored again\n"
            "       shoal-consumer replay --rebuild    recompute extraction, clusters and trends from\n"
            "                                          the stored events (no Kafka; consumers stopped)\n"
            "         [--reextract]                    also send LLM extractions to the LLM again\n"
            "options:\n"
            "  -b, --brokers LIST      Kafka bootstrap servers (SHOAL_BROKERS)\n"
            "  -t, --topics LIST       topics, comma-separated (SHOAL_TOPICS)\n"
            "  -g, --group ID          consumer group (SHOAL_GROUP)\n"
            "      --db CONNINFO       PostgreSQL connection string (SHOAL_DB)\n"
            "      --drain             exit 0 once caught up and idle\n"
            "  -X KEY=VALUE            librdkafka property (topic.* for topic properties)\n"
            "      --set KEY=VALUE     any setting from the table\n"
            "      --config FILE       settings file (default /etc/shoal/shoal.conf if present)\n"
            "      --dump-config       print effective settings (secrets masked) and exit\n"
            "      --config-reference  print the settings table (Markdown) and exit\n"
            "      --log-level LEVEL   debug, info, warn, error\n"
            "  -h, --help              this help\n"
            "  -V, --version           print the version\n");
}

/* Waits for the database and applies migrations; bounded by startup.timeout.ms. */
static int startup_database(consumer_t *c)
{
    long deadline = clock_monotonic_ms() + config_int(c->cfg, "startup.timeout.ms");
    for (int attempt = 0;; attempt++) {
        char err[512];
        int applied;
        metrics_heartbeat();
        if (store_migrate(c->store, &applied, err, sizeof(err)) == STORE_OK) return 0;
        log_kv(LOG_WARN, "database not ready", "error", err, NULL);
        long delay = fault_backoff_ms(attempt, 500, 5000, &c->seed);
        if (signal_shutdown || clock_monotonic_ms() + delay > deadline) return -1;
        struct timespec ts = {delay / 1000, (delay % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* A warm cache at startup: the most recently seen clusters (and the
 * document frequencies they imply). Later flushes read only what other
 * instances changed. Without the database the cache starts cold. */
static void load_clusters(consumer_t *c)
{
    char err[512], n[24];
    size_t read = 0;
    if (batch_clusters_sync(c->batch, &read, err, sizeof(err)) != 0) {
        log_kv(LOG_WARN, "reading clusters from the database failed; starting with an empty cache", "error",
               err, NULL);
        return;
    }
    snprintf(n, sizeof(n), "%zu", read);
    log_kv(LOG_INFO, "clusters loaded", "clusters", n, NULL);
}

/* Cumulative batch counters mirrored into the registry. */
static void observe_batch(consumer_t *c)
{
    const batch_stats_t *s = batch_stats(c->batch);
    metrics_set(METRIC_EVENTS_CONSUMED, NULL, (double)s->consumed);
    metrics_set(METRIC_EVENTS_PERSISTED, NULL, (double)s->persisted);
    metrics_set(METRIC_EVENTS_DUPLICATES, NULL, (double)s->duplicates);
}

/* How often the loop looks whether the writer is done, while it is busy. */
#define WRITER_CHECK_MS 5
/* Messages extracted at a time while the writer is busy and more keep
 * coming (each time also one lookup of stored events). */
#define PREPARE_CHUNK 128

/* The liveness heartbeat (/healthz, systemd watchdog) and the group state
 * (/readyz, /metrics), at most every OBSERVE_MS: the loop turns once per
 * message, and these need only be fresh to a fraction of a second. */
#define OBSERVE_MS 100
static void observe_loop(consumer_t *c)
{
    long now = clock_monotonic_ms();
    if (now - c->observed_at < OBSERVE_MS) return;
    c->observed_at = now;
    metrics_heartbeat();
    size_t assigned = source_assigned(c->source);
    metrics_set(METRIC_ASSIGNED_PARTITIONS, NULL, (double)assigned);
    metrics_set(METRIC_REBALANCES, NULL, (double)source_rebalances(c->source));
    httpd_set_partitions_assigned(c->http, assigned > 0);
    if (c->watchdog_ms > 0 && now - c->watchdog_at >= c->watchdog_ms) {
        notify_send("WATCHDOG=1");
        c->watchdog_at = now;
    }
}

static void mirror_offsets(consumer_t *c, const batch_offsets_t *o)
{
    source_commit_mirror(c->source, o->topics, o->partitions, o->next, o->n);
}

/* Messages polled while a flush waited, minus those of revoked partitions. */
static void drop_held(consumer_t *c, const rd_kafka_topic_partition_list_t *parts)
{
    size_t w = 0;
    for (size_t i = 0; i < c->n_held; i++) {
        rd_kafka_message_t *m = c->held[i];
        if (rd_kafka_topic_partition_list_find(parts, rd_kafka_topic_name(m->rkt), m->partition))
            rd_kafka_message_destroy(m);
        else
            c->held[w++] = m;
    }
    c->n_held = w;
}

/* Keeps a message polled during a flush for the next batch; 0 or -1 (out
 * of memory: the message is dropped uncommitted, so it is re-delivered). */
static int hold_message(consumer_t *c, rd_kafka_message_t *m)
{
    if (c->n_held == c->held_cap) {
        size_t cap = c->held_cap ? c->held_cap * 2 : 64;
        rd_kafka_message_t **h = realloc(c->held, cap * sizeof(rd_kafka_message_t *));
        if (!h) {
            rd_kafka_message_destroy(m);
            return -1;
        }
        c->held = h;
        c->held_cap = cap;
    }
    c->held[c->n_held++] = m;
    return 0;
}

/* Keeps the group alive while a flush waits on the LLM: polling on,
 * heartbeat fresh. The next batch fills meanwhile (an LLM round costs its
 * latency, not its size), and the partitions pause once it is full. Inside
 * a rebalance callback (a revoke flushing) or after a shutdown signal it
 * stops the wait instead. */
static batch_serve_t serve_during_flush(void *opaque)
{
    consumer_t *c = opaque;
    if (c->in_revoke || signal_shutdown) return BATCH_SERVE_FALLBACK;
    do {
        if ((long)c->n_held >= c->batch_size) source_pause(c->source);
        rd_kafka_message_t *m = source_poll(c->source, 0);
        if (!m || hold_message(c, m) != 0) break;
    } while ((long)c->n_held < c->batch_size && !c->revoked);
    observe_loop(c);
    return c->revoked ? BATCH_SERVE_ABORT : BATCH_SERVE_CONTINUE;
}

/* After a flush: forget what was revoked during it, then queue what was
 * polled during it. */
static void settle_after_flush(consumer_t *c)
{
    if (c->revoked) {
        batch_forget(c->batch, c->revoked);
        drop_held(c, c->revoked);
        rd_kafka_topic_partition_list_destroy(c->revoked);
        c->revoked = NULL;
    }
    for (size_t i = 0; i < c->n_held; i++) batch_add(c->batch, c->held[i]);
    c->n_held = 0;
}

/* The loop's reloadable settings, read at the start and after each reload. */
static void read_loop_settings(consumer_t *c)
{
    c->batch_size = config_int(c->cfg, "batch.size");
    c->batch_ms = config_int(c->cfg, "batch.timeout.ms");
    /* With the LLM, a batch waits for the LLM in the loop's own thread and
     * the writer is free at every check: eager would send batches of one
     * message, one LLM round each. */
    c->batch_eager = config_bool(c->cfg, "batch.eager") && !c->llm;
    if (c->trends) trend_worker_set_refresh(c->trends, config_int(c->cfg, "trend.refresh.ms"));
}

/* After SIGHUP, from the main loop or between flush retries, never inside a
 * flush: config_reload() applies the changed reloadable settings, or keeps
 * everything when the sources cannot be read. A batch being filled keeps
 * its deadline; retry.backoff.* are read at each retry. */
static void reload_settings(consumer_t *c)
{
    signal_reload = 0;
    config_reload_t r;
    char err[512];
    if (config_reload(c->cfg, c->config_path, c->flags, c->n_flags, &r, err, sizeof(err)) == 0 &&
        r.applied)
        read_loop_settings(c);
}

/* Flushes until durable (with wait, everything so far; without, the batch
 * is handed to the writer), pausing the partitions between attempts while
 * still polling (so the group sees us alive). Gives up only when asked to
 * stop (returns -1), never by dead-lettering. */
static int flush_until_durable(consumer_t *c, long give_up_at, int wait)
{
    for (int attempt = 0;; attempt++) {
        char err[512], n[24];
        batch_offsets_t out;
        double t0 = clock_monotonic_s();
        snprintf(n, sizeof(n), "%zu", batch_count(c->batch));
        c->in_flush = 1;
        int ok = batch_flush(c->batch, wait, &out, err, sizeof(err)) == 0;
        c->in_flush = 0;
        if (ok) mirror_offsets(c, &out);
        settle_after_flush(c);
        metrics_observe(METRIC_BATCH_SECONDS, NULL, clock_monotonic_s() - t0);
        observe_batch(c);
        /* The main loop's sessions: its own, and its lookups' (the one a
         * flush uses first). */
        httpd_set_db_reachable(c->http, store_reachable(c->store) && store_reachable(c->lstore));
        if (ok) {
            source_resume(c->source);
            httpd_set_transient_fault(c->http, 0);
            if (attempt > 0) log_kv(LOG_INFO, "recovered from a transient failure", NULL);
            log_kv(LOG_DEBUG, "batch persisted", "messages", n, NULL);
            return 0;
        }
        metrics_add(METRIC_BATCH_RETRIES, NULL, 1);
        httpd_set_transient_fault(c->http, 1);
        char a[16];
        snprintf(a, sizeof(a), "%d", attempt + 1);
        log_kv(LOG_WARN, "batch not persisted; pausing and retrying", "error", err, "attempt", a, NULL);
        source_pause(c->source);
        long delay = fault_backoff_ms(attempt, config_int(c->cfg, "retry.backoff.ms"),
                                      config_int(c->cfg, "retry.backoff.max.ms"), &c->seed);
        long until = clock_monotonic_ms() + delay;
        while (clock_monotonic_ms() < until) {
            if ((give_up_at == 0 && signal_shutdown) || (give_up_at && clock_monotonic_ms() >= give_up_at))
                return -1;
            if (signal_reload) reload_settings(c);
            rd_kafka_message_t *m = source_poll(c->source, 100);
            if (m) batch_add(c->batch, m);
            observe_loop(c);
        }
        if (batch_count(c->batch) == 0 && !batch_pending(c->batch)) {
            source_resume(c->source);
            return 0; /* everything pending was revoked meanwhile */
        }
    }
}

static int hook_load_offsets(void *opaque, rd_kafka_topic_partition_list_t *parts)
{
    consumer_t *c = opaque;
    store_offset_t offs[parts->cnt > 0 ? parts->cnt : 1];
    for (int i = 0; i < parts->cnt; i++)
        offs[i] = (store_offset_t){parts->elems[i].topic, parts->elems[i].partition, -1};
    char err[512];
    if (store_offsets_load(c->store, config_str(c->cfg, "group"), offs, (size_t)parts->cnt, err,
                           sizeof(err)) != STORE_OK) {
        log_kv(LOG_WARN, "reading stored offsets failed", "error", err, NULL);
        return -1;
    }
    for (int i = 0; i < parts->cnt; i++)
        if (offs[i].next_offset >= 0) parts->elems[i].offset = offs[i].next_offset;
    return 0;
}

static void hook_on_revoke(void *opaque, const rd_kafka_topic_partition_list_t *parts, int lost)
{
    consumer_t *c = opaque;
    if (c->in_flush) {
        /* A flush is waiting on the LLM further up this stack: it is told
         * to give up, and these partitions are forgotten when it returns. */
        if (!c->revoked) c->revoked = rd_kafka_topic_partition_list_new(parts->cnt);
        for (int i = 0; i < parts->cnt; i++)
            rd_kafka_topic_partition_list_add(c->revoked, parts->elems[i].topic, parts->elems[i].partition);
        return;
    }
    c->in_revoke = 1;
    drop_held(c, parts);
    if ((batch_count(c->batch) > 0 || batch_pending(c->batch)) && !lost) {
        char err[512];
        batch_offsets_t out;
        if (batch_flush(c->batch, 1, &out, err, sizeof(err)) == 0) {
            mirror_offsets(c, &out);
            c->in_revoke = 0;
            return;
        }
        log_kv(LOG_WARN, "could not persist before giving partitions up; their owner redoes the work",
               "error", err, NULL);
    }
    batch_forget(c->batch, parts);
    c->in_revoke = 0;
}

static void log_progress(consumer_t *c)
{
    const batch_stats_t *s = batch_stats(c->batch);
    char a[24], b[24], d[24], e[24], f[24], g[24];
    snprintf(a, sizeof(a), "%llu", (unsigned long long)s->consumed);
    snprintf(b, sizeof(b), "%llu", (unsigned long long)s->persisted);
    snprintf(d, sizeof(d), "%llu", (unsigned long long)s->dead);
    snprintf(e, sizeof(e), "%llu", (unsigned long long)s->duplicates);
    snprintf(f, sizeof(f), "%zu", source_assigned(c->source));
    snprintf(g, sizeof(g), "%llu", (unsigned long long)s->clustered_ahead);
    log_kv(LOG_INFO, "progress", "consumed", a, "persisted", b, "dead_lettered", d, "duplicates", e,
           "clustered_ahead", g, "partitions", f, NULL);
}

static int run_loop(consumer_t *c, int drain)
{
    read_loop_settings(c);
    long idle_ms = config_int(c->cfg, "drain.idle.ms");
    uint64_t noted = 0; /* persisted count last told to the trend worker */
    long batch_deadline = 0, last_activity = clock_monotonic_ms(), last_progress = clock_monotonic_ms();
    char err[512];
    for (;;) {
        if (signal_shutdown) return -1;
        if (signal_reload) reload_settings(c);
        if (source_fatal(c->source, err, sizeof(err))) {
            log_kv(LOG_FATAL, "kafka client failed fatally", "error", err, NULL);
            return EXIT_FAILURE_RUNTIME;
        }
        long now = clock_monotonic_ms();
        int wait = 100;
        if (batch_count(c->batch) > 0) wait = (int)(batch_deadline > now ? batch_deadline - now : 0);
        /* A batch waiting for the writer goes the moment it is free, and a
         * written one's offsets are taken as soon as it is durable. */
        if ((batch_count(c->batch) > 0 || batch_pending(c->batch)) && wait > WRITER_CHECK_MS)
            wait = WRITER_CHECK_MS;
        rd_kafka_message_t *m = source_poll(c->source, wait);
        observe_loop(c);
        now = clock_monotonic_ms();
        if (m) {
            if (batch_count(c->batch) == 0) batch_deadline = now + c->batch_ms;
            batch_add(c->batch, m);
            last_activity = now;
        }
        /* A batch goes to the writer when it is full or old, or (eager) as
         * soon as the writer is free (like a group commit: batches are as
         * large as the load makes them, and a message waits for at most
         * one write before its own); with nothing to hand over, a written
         * batch is settled (its offsets committed) once the writer is done. */
        size_t n = batch_count(c->batch);
        int writer_free = batch_writer_free(c->batch);
        if ((n > 0 && ((long)n >= c->batch_size || now >= batch_deadline || (c->batch_eager && writer_free))) ||
            (n == 0 && batch_pending(c->batch) && writer_free)) {
            if (flush_until_durable(c, 0, 0) != 0) return -1;
        } else if (n > 0 && (batch_unprepared(c->batch) >= (m ? PREPARE_CHUNK : 1) ||
                             (!m && batch_lookup_pending(c->batch)))) {
            /* The writer is busy: the batch is extracted as it grows (in
             * chunks while messages keep coming, the rest, waiting for its
             * lookup, once none is waiting), not when it is handed. */
            batch_prepare(c->batch, !m);
        }
        if (batch_stats(c->batch)->persisted != noted) {
            noted = batch_stats(c->batch)->persisted;
            trend_worker_note_persisted(c->trends, noted);
        }
        int idle = batch_count(c->batch) == 0 && !batch_pending(c->batch);
        if (now - last_progress >= 10000) {
            log_progress(c);
            last_progress = now;
        }
        if (drain && idle && source_caught_up(c->source) &&
            now - last_activity >= idle_ms)
            return EXIT_OK;
    }
}

/* /trends runs on a server thread: it opens its own short-lived connection
 * rather than share the main loop's. */
static int serve_trends(void *opaque, buf_t *out, char *err, size_t errlen)
{
    const config_t *cfg = opaque;
    store_t *s = store_from_config(cfg, "shoal-consumer-http");
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *json = NULL;
    int rc = store_trends_json(s, INT64_MIN, &json, err, errlen) == STORE_OK ? 0 : -1;
    if (rc == 0) buf_puts(out, json);
    free(json);
    store_destroy(s);
    return rc;
}

/* The HTTP endpoint is optional: an empty or unusable http.listen warns and
 * the consumer runs without it. */
static void start_http(consumer_t *c)
{
    const char *listen = config_str(c->cfg, "http.listen");
    if (!*listen) {
        log_kv(LOG_WARN, "http.listen is empty; no /metrics, /healthz or /readyz", NULL);
        return;
    }
    httpd_config_t hc;
    httpd_config_default(&hc);
    hc.health_max_age_ms = config_int(c->cfg, "http.health.max.age.ms");
    char err[512];
    c->http = httpd_start(listen, &hc, err, sizeof(err));
    if (!c->http) {
        log_kv(LOG_WARN, "HTTP endpoint not started; running without it", "error", err, NULL);
        return;
    }
    httpd_set_trends_cb(c->http, serve_trends, c->cfg);
    char port[16];
    snprintf(port, sizeof(port), "%u", httpd_port(c->http));
    log_kv(LOG_INFO, "HTTP endpoint listening", "listen", listen, "port", port, NULL);
}

/* LLM extraction is optional: without llm.url, or with settings it cannot
 * use, the built-in extractor does all the work. */
static void start_llm(consumer_t *c)
{
    const char *url = config_str(c->cfg, "llm.url");
    if (!*url) return;
    llm_config_t lc;
    llm_config_default(&lc);
    lc.url = url;
    lc.model = config_str(c->cfg, "llm.model");
    lc.api_key = config_str(c->cfg, "llm.api.key");
    lc.max_in_flight = (int)config_int(c->cfg, "llm.max.inflight");
    lc.timeout_ms = config_int(c->cfg, "llm.timeout.ms");
    lc.connect_timeout_ms = config_int(c->cfg, "llm.connect.timeout.ms");
    lc.max_retries = (int)config_int(c->cfg, "llm.retries");
    lc.breaker_threshold = (int)config_int(c->cfg, "llm.breaker.threshold");
    lc.breaker_cooldown_ms = config_int(c->cfg, "llm.breaker.cooldown.ms");
    lc.batch_deadline_ms = config_int(c->cfg, "llm.batch.deadline.ms");
    const char *tags[128];
    size_t nt = 0;
    while (nt < 128 && (tags[nt] = extractor_tag(c->extractor, nt))) nt++;
    lc.tags = tags;
    lc.ntags = nt;
    char err[512];
    c->llm = llm_new(&lc, err, sizeof(err));
    if (!c->llm) {
        log_kv(LOG_WARN, "LLM extraction off; using the built-in extractor", "setting", "llm.url/llm.model",
               "error", err, NULL);
        return;
    }
    log_kv(LOG_INFO, "LLM extraction on; the built-in extractor is the fallback", "model", lc.model, NULL);
}

/* Page fetching is optional too: off by default (a fresh install needs no
 * network), and a fetcher that cannot be made only warns. */
static void start_fetcher(consumer_t *c)
{
    if (!config_bool(c->cfg, "fetch.enabled")) return;
    fetch_req_default(&c->fetch_req);
    c->fetch_req.http.timeout_ms = config_int(c->cfg, "fetch.timeout.ms");
    c->fetch_req.http.max_body = (size_t)config_int(c->cfg, "fetch.max.bytes");
    c->fetch_req.cancel = &signal_shutdown;
    char err[256];
    c->fetcher = fetcher_new(err, sizeof(err));
    if (!c->fetcher) log_kv(LOG_WARN, "page fetching off", "setting", "fetch.enabled", "error", err, NULL);
}

/* The built-in extractor, as extract.taxonomy and extract.gazetteer say. */
static int start_extractor(consumer_t *c, char *err, size_t errlen)
{
    const char *tax = config_str(c->cfg, "extract.taxonomy"), *gaz = config_str(c->cfg, "extract.gazetteer");
    char e[400];
    c->extractor = extractor_new(*tax ? tax : NULL, *gaz ? gaz : NULL, e, sizeof(e));
    if (!c->extractor) snprintf(err, errlen, "settings extract.taxonomy/extract.gazetteer: %s", e);
    return c->extractor ? 0 : -1;
}

/* The cluster engine's configuration from the cluster.* settings; 0 keeps
 * the tuned default (cluster_config_default). */
static void cluster_settings(const config_t *cfg, cluster_config_t *ccfg)
{
    static const struct {
        const char *setting;
        size_t field;
    } tuned[] = {
        {"cluster.threshold", offsetof(cluster_config_t, assign_threshold)},
        {"cluster.merge.threshold", offsetof(cluster_config_t, merge_threshold)},
        {"cluster.title.weight", offsetof(cluster_config_t, title_weight)},
        {"cluster.entity.weight", offsetof(cluster_config_t, entity_weight)},
        {"cluster.bigram.weight", offsetof(cluster_config_t, bigram_weight)},
        {"cluster.centroid.power", offsetof(cluster_config_t, centroid_power)},
    };
    cluster_config_default(ccfg);
    for (size_t i = 0; i < sizeof(tuned) / sizeof(tuned[0]); i++) {
        double v = config_float(cfg, tuned[i].setting);
        if (v > 0) memcpy((char *)ccfg + tuned[i].field, &v, sizeof(v));
    }
    ccfg->window_us = (int64_t)config_int(cfg, "cluster.window.hours") * 3600 * 1000000;
}

static int cmd_run(consumer_t *c, int drain)
{
    char err[512];
    /* Holds the rebuild lock shared on every connection: no rebuild while
     * this consumer can write (store.h). */
    store_rebuild_guard(c->store);
    start_http(c);
    if (startup_database(c) != 0)
        return finish(signal_shutdown ? EXIT_OK : EXIT_STARTUP,
                      signal_shutdown ? "signal during startup" : "database not reachable within startup.timeout.ms (setting db)");
    if (start_extractor(c, err, sizeof(err)) != 0) return finish(EXIT_USAGE, err);
    cluster_config_t ccfg;
    cluster_settings(c->cfg, &ccfg);
    c->clusters = cluster_engine_new(&ccfg, err, sizeof(err));
    if (!c->clusters) return finish(EXIT_USAGE, err);
    c->dlq = dlq_new(c->cfg, config_str(c->cfg, "group"), err, sizeof(err));
    if (!c->dlq) return finish(EXIT_USAGE, err);
    start_llm(c);
    start_fetcher(c);
    c->wstore = store_from_config(c->cfg, "shoal-consumer");
    c->lstore = store_from_config(c->cfg, "shoal-consumer");
    if (!c->wstore || !c->lstore) return finish(EXIT_FAILURE_RUNTIME, "out of memory");
    store_rebuild_guard(c->wstore);
    batch_stages_t stages = {.store = c->store,
                             .lookup_store = c->lstore,
                             .writer_store = c->wstore,
                             .dlq = c->dlq,
                             .extractor = c->extractor,
                             .clusters = c->clusters,
                             .instance = c->instance,
                             .llm = c->llm,
                             .serve = serve_during_flush,
                             .serve_opaque = c,
                             .fetcher = c->fetcher,
                             .fetch_req = &c->fetch_req};
    c->batch = batch_new(c->cfg, &stages, err, sizeof(err));
    if (!c->batch) return finish(EXIT_FAILURE_RUNTIME, err);
    store_t *tstore = store_from_config(c->cfg, "shoal-consumer");
    if (!tstore) return finish(EXIT_FAILURE_RUNTIME, "out of memory");
    store_rebuild_guard(tstore);
    c->trends = trend_worker_new(tstore, config_int(c->cfg, "trend.window.days") * 86400,
                                 config_int(c->cfg, "trend.refresh.ms"), err, sizeof(err));
    if (!c->trends) {
        store_destroy(tstore);
        return finish(EXIT_FAILURE_RUNTIME, err);
    }
    load_clusters(c);
    source_hooks_t hooks = {hook_load_offsets, hook_on_revoke, c};
    c->source = source_new(c->cfg, &hooks, err, sizeof(err));
    if (!c->source) return finish(EXIT_USAGE, err);
    if (source_subscribe(c->source, config_str(c->cfg, "topics"), err, sizeof(err)) != 0)
        return finish(EXIT_USAGE, err);
    httpd_set_db_reachable(c->http, 1);
    log_kv(LOG_INFO, "consumer started", "topics", config_str(c->cfg, "topics"), "group",
           config_str(c->cfg, "group"), "version", SHOAL_VERSION, NULL);
    if (notify_send("READY=1") != 0) log_kv(LOG_WARN, "could not notify systemd (NOTIFY_SOCKET)", NULL);
    c->watchdog_ms = notify_watchdog_interval_ms();
    c->watchdog_at = clock_monotonic_ms();

    int rc = run_loop(c, drain);
    /* A drain ends with trends up to date; a shutdown does not wait for them. */
    trend_worker_destroy(c->trends, rc == EXIT_OK);
    c->trends = NULL;
    const char *why = rc == EXIT_OK ? "drained: every assigned partition caught up and idle"
                      : rc > 0      ? "kafka client failed fatally"
                                    : "shutdown signal";
    if (rc < 0) {
        /* Graceful shutdown: bounded by the watchdog; leave a margin for
         * leaving the group. */
        long timeout = config_int(c->cfg, "shutdown.timeout.ms");
        signals_arm_shutdown_watchdog(timeout);
        char sig[16];
        snprintf(sig, sizeof(sig), "%d", (int)signal_shutdown);
        log_kv(LOG_INFO, "shutdown requested; draining", "signal", sig, NULL);
        notify_send("STOPPING=1");
        long give_up = clock_monotonic_ms() + timeout * 2 / 3;
        if ((batch_count(c->batch) > 0 || batch_pending(c->batch)) && flush_until_durable(c, give_up, 1) != 0) {
            char n[24];
            snprintf(n, sizeof(n), "%zu", batch_count(c->batch) + batch_pending(c->batch));
            log_kv(LOG_WARN, "shutting down with unpersisted messages; they will be re-delivered",
                   "messages", n, NULL);
        }
        rc = EXIT_OK;
    }
    log_progress(c);
    source_close(c->source);
    return finish(rc, why);
}

static void print_money(double v, const char *cur)
{
    char m[64];
    trend_format_amount(v, cur, m, sizeof(m));
    printf("%s", m);
}

/* --since T: RFC 3339, or a duration (N followed by s, m, h or d) back
 * from now. */
static int parse_since(const char *arg, int64_t *us)
{
    if (event_parse_time(arg, us) == 0) return 0;
    char *end;
    long long n = strtoll(arg, &end, 10);
    static const struct { char unit; int64_t us; } units[] = {
        {'s', 1000000LL}, {'m', 60000000LL}, {'h', 3600000000LL}, {'d', 86400000000LL}};
    if (end == arg || n < 0 || n > 100000 || !end[0] || end[1]) return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (*end != units[i].unit) continue;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        *us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - n * units[i].us;
        return 0;
    }
    return -1;
}

/* shoal-consumer trends [--since T] [--json]: the stored trends and their
 * evidence. */
static int cmd_trends(consumer_t *c, int64_t since_us, int json)
{
    char err[512], *text = NULL;
    if (store_trends_json(c->store, since_us, &text, err, sizeof(err)) != STORE_OK)
        return finish(EXIT_STARTUP, err);
    if (json) {
        printf("%s\n", text);
        free(text);
        return EXIT_OK;
    }
    cJSON *arr = cJSON_Parse(text);
    free(text);
    if (!cJSON_GetArraySize(arr)) printf("no trends yet\n");
    for (cJSON *t = arr ? arr->child : NULL; t; t = t->next) {
        printf("%s  [%s, score %.2f, %d independent clusters, %d sources, %d events]\n",
               cJSON_GetStringValue(cJSON_GetObjectItem(t, "title")),
               cJSON_GetStringValue(cJSON_GetObjectItem(t, "direction")),
               cJSON_GetNumberValue(cJSON_GetObjectItem(t, "score")),
               (int)cJSON_GetNumberValue(cJSON_GetObjectItem(t, "independent")),
               (int)cJSON_GetNumberValue(cJSON_GetObjectItem(t, "sources")),
               (int)cJSON_GetNumberValue(cJSON_GetObjectItem(t, "volume")));
        cJSON *tot;
        cJSON_ArrayForEach(tot, cJSON_GetObjectItem(t, "totals")) {
            if (!cJSON_GetObjectItem(tot, "total")) continue;
            printf("  total %s: ", cJSON_GetStringValue(cJSON_GetObjectItem(tot, "predicate")));
            print_money(cJSON_GetNumberValue(cJSON_GetObjectItem(tot, "total")),
                        cJSON_GetStringValue(cJSON_GetObjectItem(tot, "currency")));
            printf(" from %d subjects\n", (int)cJSON_GetNumberValue(cJSON_GetObjectItem(tot, "subjects")));
        }
        cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(t, "evidence")) {
            const char *subj = cJSON_GetStringValue(cJSON_GetObjectItem(e, "subject"));
            printf("  - %-14s ", subj ? subj : "?");
            cJSON *amount = cJSON_GetObjectItem(e, "amount");
            if (cJSON_IsNumber(amount)) {
                print_money(amount->valuedouble, cJSON_GetStringValue(cJSON_GetObjectItem(e, "currency")));
                printf("  ");
            }
            printf("\"%s\" (%d events, %d sources)\n",
                   cJSON_GetStringValue(cJSON_GetObjectItem(e, "label")),
                   (int)cJSON_GetNumberValue(cJSON_GetObjectItem(e, "events")),
                   (int)cJSON_GetNumberValue(cJSON_GetObjectItem(e, "sources")));
        }
    }
    cJSON_Delete(arr);
    return EXIT_OK;
}

/* shoal-consumer report --html FILE: one self-contained page (report.h). */
static int cmd_report(consumer_t *c, const char *html)
{
    char err[512];
    if (!html) return finish(EXIT_USAGE, "report needs --html FILE");
    int rc = report_write(c->store, config_int(c->cfg, "trend.window.days") * 86400, html, err, sizeof(err));
    if (rc != 0) return finish(rc == -1 ? EXIT_STARTUP : EXIT_FAILURE_RUNTIME, err);
    log_kv(LOG_INFO, "report written", "file", html, NULL);
    return EXIT_OK;
}

/* replay: rewind the stored offsets, then reprocess until caught up. Rows
 * already stored are skipped before extraction, so a replay repeats no
 * paid work and adds no duplicates. */
static int cmd_replay(consumer_t *c, replay_opts_t *o)
{
    char err[512];
    if (startup_database(c) != 0) return finish(EXIT_STARTUP, "database not reachable within startup.timeout.ms (setting db)");
    if (o->mode == REPLAY_TO_GROUP && config_set(c->cfg, "group", o->group, "flag", err, sizeof(err)) != 0)
        return finish(EXIT_USAGE, err);
    o->group = config_str(c->cfg, "group");
    if (replay_reset_offsets(c->cfg, c->store, o, err, sizeof(err)) != 0) return finish(EXIT_USAGE, err);
    log_kv(LOG_INFO, "offsets rewound; reprocessing", "group", o->group, NULL);
    return cmd_run(c, 1);
}

/* replay --rebuild: derived tables recomputed from the stored events, no
 * Kafka (rebuild.h). Refused (exit 2) while consumers run. */
static int cmd_rebuild(consumer_t *c)
{
    char err[700];
    int reextract = config_bool(c->cfg, "extract.reextract");
    if (reextract && !*config_str(c->cfg, "llm.url"))
        return finish(EXIT_USAGE, "--rebuild --reextract sends LLM extractions to the LLM again and needs llm.url "
                                  "(built-in extractions are redone anyway)");
    if (startup_database(c) != 0)
        return finish(EXIT_STARTUP, "database not reachable within startup.timeout.ms (setting db)");
    if (start_extractor(c, err, sizeof(err)) != 0) return finish(EXIT_USAGE, err);
    if (reextract) {
        start_llm(c);
        if (!c->llm) return finish(EXIT_USAGE, "settings llm.*: the LLM client cannot be made");
    }
    cluster_config_t ccfg;
    cluster_settings(c->cfg, &ccfg);
    rebuild_opts_t o = {c->store, c->extractor, reextract ? c->llm : NULL, &ccfg, c->instance,
                        config_int(c->cfg, "trend.window.days") * 86400};
    rebuild_stats_t st;
    int rc = rebuild_run(&o, &st, err, sizeof(err));
    if (rc == REBUILD_BUSY) return finish(EXIT_USAGE, err);
    if (rc != REBUILD_OK) {
        char e2[760];
        snprintf(e2, sizeof(e2), "rebuild failed and was rolled back: %s", err);
        return finish(EXIT_FAILURE_RUNTIME, e2);
    }
    char a[24], b[24], l[24], k[24], f[24], cl[24], m[24], t[24];
    snprintf(a, sizeof(a), "%llu", (unsigned long long)st.events);
    snprintf(b, sizeof(b), "%llu", (unsigned long long)st.reextracted);
    snprintf(l, sizeof(l), "%llu", (unsigned long long)st.llm_reextracted);
    snprintf(k, sizeof(k), "%llu", (unsigned long long)st.kept);
    snprintf(f, sizeof(f), "%llu", (unsigned long long)st.extract_failed);
    snprintf(cl, sizeof(cl), "%llu", (unsigned long long)st.clusters);
    snprintf(m, sizeof(m), "%llu", (unsigned long long)st.merges);
    snprintf(t, sizeof(t), "%zu", st.trends);
    log_kv(LOG_INFO, "rebuild committed", "events", a, "reextracted", b, "llm_reextracted", l, "kept", k, "extract_failed", f,
           "clusters", cl, "merges", m, "trends", t, NULL);
    return finish(EXIT_OK, "rebuild done");
}

static int cmd_migrate(consumer_t *c)
{
    long deadline = clock_monotonic_ms() + config_int(c->cfg, "startup.timeout.ms");
    for (int attempt = 0;; attempt++) {
        char err[512];
        int applied;
        if (store_migrate(c->store, &applied, err, sizeof(err)) == STORE_OK) {
            char n[16];
            snprintf(n, sizeof(n), "%d", applied);
            log_kv(LOG_INFO, "migrations up to date", "applied", n, NULL);
            return finish(EXIT_OK, "migrate done");
        }
        log_kv(LOG_WARN, "migration attempt failed", "error", err, NULL);
        long delay = fault_backoff_ms(attempt, 500, 5000, &c->seed);
        if (signal_shutdown) return finish(EXIT_OK, "signal during migrate");
        if (clock_monotonic_ms() + delay > deadline) return finish(EXIT_STARTUP, "migrations could not be applied within startup.timeout.ms");
        struct timespec ts = {delay / 1000, (delay % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int main(int argc, char **argv)
{
    log_set_component("consumer");
    /* No fastbins: each message frees its small JSON nodes and then asks for
     * a ~1 KB string, and with fastbins that request swept them all back
     * together (malloc_consolidate) every time. */
    mallopt(M_MXFAST, 0);
    if (signals_install() != 0) return finish(EXIT_FAILURE_RUNTIME, "cannot install signal handlers");
    char merr[256];
    if (metrics_init(merr, sizeof(merr)) != 0) return finish(EXIT_FAILURE_RUNTIME, merr);
    if (http_global_init(merr, sizeof(merr)) != 0) return finish(EXIT_FAILURE_RUNTIME, merr);
    html_global_init();

    static const struct option opts[] = {
        {"brokers", required_argument, 0, 'b'}, {"topics", required_argument, 0, 't'},
        {"topic", required_argument, 0, 't'},   {"group", required_argument, 0, 'g'},
        {"db", required_argument, 0, 'D'},      {"drain", no_argument, 0, 'd'},
        {"set", required_argument, 0, 's'},     {"config", required_argument, 0, 'c'},
        {"dump-config", no_argument, 0, 'P'},   {"config-reference", no_argument, 0, 'R'},
        {"log-level", required_argument, 0, 'L'}, {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},       {"json", no_argument, 0, 'J'},
        {"from-beginning", no_argument, 0, 'B'}, {"from-timestamp", required_argument, 0, 'T'},
        {"to-group", required_argument, 0, 'G'}, {"html", required_argument, 0, 'H'},
        {"reextract", no_argument, 0, 'E'},     {"since", required_argument, 0, 'S'},
        {"rebuild", no_argument, 0, 'Y'},
        {0, 0, 0, 0}};
    replay_opts_t replay = {0};
    config_flag_t pend[argc > 0 ? argc : 1];
    size_t np = 0;
    const char *config_path = NULL, *html = NULL;
    int drain = 0, dump = 0, json = 0, rebuild = 0, o;
    int64_t since_us = INT64_MIN;
    char err[512];
    while ((o = getopt_long(argc, argv, "b:t:g:X:hV", opts, NULL)) != -1) {
        switch (o) {
        case 'b': pend[np++] = (config_flag_t){"brokers", optarg}; break;
        case 't': pend[np++] = (config_flag_t){"topics", optarg}; break;
        case 'g': pend[np++] = (config_flag_t){"group", optarg}; break;
        case 'D': pend[np++] = (config_flag_t){"db", optarg}; break;
        case 'L': pend[np++] = (config_flag_t){"log.level", optarg}; break;
        case 'X': pend[np++] = (config_flag_t){NULL, optarg}; break;
        case 's': pend[np++] = (config_flag_t){"", optarg}; break;
        case 'd': drain = 1; break;
        case 'Y': rebuild = 1; break;
        case 'E': pend[np++] = (config_flag_t){"extract.reextract", "true"}; break;
        case 'J': json = 1; break;
        case 'S':
            if (parse_since(optarg, &since_us) != 0)
                return finish(EXIT_USAGE, "--since takes RFC 3339 or a duration such as 36h or 7d");
            break;
        case 'H': html = optarg; break;
        case 'B': replay.mode = REPLAY_FROM_BEGINNING; break;
        case 'G': replay.mode = REPLAY_TO_GROUP; replay.group = optarg; break;
        case 'T': {
            int64_t us;
            char *end;
            long long ms = strtoll(optarg, &end, 10);
            if (event_parse_time(optarg, &us) == 0) replay.timestamp_ms = us / 1000;
            else if (*optarg && !*end) replay.timestamp_ms = ms;
            else return finish(EXIT_USAGE, "--from-timestamp takes RFC 3339 or milliseconds since the epoch");
            replay.mode = REPLAY_FROM_TIMESTAMP;
            break;
        }
        case 'c': config_path = optarg; break;
        case 'P': dump = 1; break;
        case 'R': config_print_reference(stdout); return EXIT_OK;
        case 'V': printf("shoal-consumer %s\n", SHOAL_VERSION); return EXIT_OK;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return finish(EXIT_USAGE, "bad command line");
        }
    }
    const char *cmd = optind < argc ? argv[optind] : "run";
    if (strcmp(cmd, "run") != 0 && strcmp(cmd, "migrate") != 0 && strcmp(cmd, "trends") != 0 &&
        strcmp(cmd, "replay") != 0 && strcmp(cmd, "report") != 0) {
        usage(stderr);
        return finish(EXIT_USAGE, "unknown command");
    }

    consumer_t c = {0};
    c.seed = (uint64_t)clock_monotonic_ms() ^ (uint64_t)getpid();
    char host[256] = "unknown";
    gethostname(host, sizeof(host) - 1);
    snprintf(c.instance, sizeof(c.instance), "%s-%d", host, (int)getpid());
    c.cfg = config_new(CFG_CONSUMER);
    if (!c.cfg) return finish(EXIT_FAILURE_RUNTIME, "out of memory");
    int rc = EXIT_OK;
    if (config_load_with_flags(c.cfg, config_path, pend, np, err, sizeof(err)) != 0) {
        rc = finish(EXIT_USAGE, err);
        goto out;
    }
    c.config_path = config_path;
    c.flags = pend;
    c.n_flags = np;
    if (dump) {
        config_dump(c.cfg, stdout);
        goto out;
    }
    /* Kafka properties (-X) that cannot work stop startup now, naming the
     * property, not after the wait for the database. */
    rd_kafka_conf_t *probe = kafka_conf_new(c.cfg, NULL, err, sizeof(err));
    if (!probe) {
        rc = finish(EXIT_USAGE, err);
        goto out;
    }
    rd_kafka_conf_destroy(probe);
    c.store = store_from_config(c.cfg, "shoal-consumer");
    if (!c.store) {
        rc = finish(EXIT_FAILURE_RUNTIME, "out of memory");
        goto out;
    }
    if (strcmp(cmd, "migrate") == 0) rc = cmd_migrate(&c);
    else if (strcmp(cmd, "trends") == 0) rc = cmd_trends(&c, since_us, json);
    else if (strcmp(cmd, "report") == 0) rc = cmd_report(&c, html);
    else if (strcmp(cmd, "replay") == 0) {
        if (rebuild && replay.mode) rc = finish(EXIT_USAGE, "--rebuild does not take an offset target");
        else if (rebuild) rc = cmd_rebuild(&c);
        else if (!replay.mode) rc = finish(EXIT_USAGE, "replay needs --from-beginning, --from-timestamp T, --to-group NEW or --rebuild");
        else rc = cmd_replay(&c, &replay);
    }
    else rc = cmd_run(&c, drain);
out:
    httpd_stop(c.http);
    trend_worker_destroy(c.trends, 0);
    batch_destroy(c.batch); /* the writer may hold messages of the source */
    source_destroy(c.source);
    for (size_t i = 0; i < c.n_held; i++) rd_kafka_message_destroy(c.held[i]);
    free(c.held);
    if (c.revoked) rd_kafka_topic_partition_list_destroy(c.revoked);
    llm_destroy(c.llm);
    fetcher_destroy(c.fetcher);
    cluster_engine_destroy(c.clusters);
    extractor_destroy(c.extractor);
    dlq_destroy(c.dlq);
    store_destroy(c.wstore);
    store_destroy(c.lstore);
    store_destroy(c.store);
    config_destroy(c.cfg);
    metrics_shutdown();
    http_global_cleanup();
    return rc;
}

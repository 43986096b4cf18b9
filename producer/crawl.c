#include "crawl.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "clock.h"
#include "config.h"
#include "event.h"
#include "fault.h"
#include "feed.h"
#include "fetch.h"
#include "html.h"
#include "http.h"
#include "kafka.h"
#include "log.h"
#include "signals.h"

#define SEEN_KEEP 100000      /* ids kept in the state file */
#define STATE_MAGIC "shoal-crawl-state 1"
#define MAX_TAGS 16

/* ---- Published ids: insertion order plus an open-addressing index ---- */

typedef struct {
    char **ids;      /* in publication order, owned */
    size_t n, cap;
    size_t *slots;   /* index + 1 into ids; 0 = empty */
    size_t nslots;   /* power of two, > 2n */
} seen_t;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int seen_has(const seen_t *s, const char *id)
{
    if (!s->nslots) return 0;
    for (size_t i = hash_str(id) & (s->nslots - 1);; i = (i + 1) & (s->nslots - 1)) {
        if (!s->slots[i]) return 0;
        if (strcmp(s->ids[s->slots[i] - 1], id) == 0) return 1;
    }
}

static int seen_index(seen_t *s, size_t nslots)
{
    size_t *slots = calloc(nslots, sizeof *slots);
    if (!slots) return -1;
    for (size_t k = 0; k < s->n; k++) {
        size_t i = hash_str(s->ids[k]) & (nslots - 1);
        while (slots[i]) i = (i + 1) & (nslots - 1);
        slots[i] = k + 1;
    }
    free(s->slots);
    s->slots = slots;
    s->nslots = nslots;
    return 0;
}

/* Forgets all but the newest SEEN_KEEP ids, as the state file would, so a
 * long-running crawl stays bounded; amortised over SEEN_KEEP additions. */
static int seen_prune(seen_t *s)
{
    size_t drop = s->n - SEEN_KEEP;
    for (size_t i = 0; i < drop; i++) free(s->ids[i]);
    memmove(s->ids, s->ids + drop, SEEN_KEEP * sizeof *s->ids);
    s->n = SEEN_KEEP;
    return seen_index(s, s->nslots);
}

static int seen_add(seen_t *s, const char *id)
{
    if (seen_has(s, id)) return 0;
    if (s->n >= 2 * SEEN_KEEP && seen_prune(s) != 0) return -1;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        char **v = realloc(s->ids, cap * sizeof *v);
        if (!v) return -1;
        s->ids = v;
        s->cap = cap;
    }
    if ((s->n + 1) * 2 >= s->nslots && seen_index(s, s->nslots ? s->nslots * 2 : 2048) != 0)
        return -1;
    char *copy = strdup(id);
    if (!copy) return -1;
    s->ids[s->n++] = copy;
    size_t i = hash_str(id) & (s->nslots - 1);
    while (s->slots[i]) i = (i + 1) & (s->nslots - 1);
    s->slots[i] = s->n;
    return 0;
}

static void seen_free(seen_t *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->ids[i]);
    free(s->ids);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

/* ---- Sources ----------------------------------------------------------- */

typedef struct {
    char *line;             /* owned copy of the sources-file line; fields point into it */
    const char *url, *name;
    const char *tags[MAX_TAGS];
    size_t ntags;
    char host[256];
    char etag[256], last_modified[64];
    int failures;           /* consecutive */
    long long due_ms;       /* monotonic; 0 = now */
} source_t;

typedef struct {
    char host[256];
    long long last_ms;
} host_t;

typedef struct {
    config_t *cfg;
    const char *topic, *sources_path, *state_path;
    long interval_ms, host_delay_ms;
    int once;
    fetch_req_t req;
    fetcher_t *fetcher;
    rd_kafka_t *rk;
    source_t *src;
    size_t nsrc;
    host_t *hosts;
    size_t nhosts;
    seen_t seen;
    uint64_t seed;
    /* the settings' sources, read again on SIGHUP (log.level, log.format) */
    const char *config_path;
    config_flag_t *flags;
    size_t n_flags;
    /* the cycle's counters */
    unsigned long polled, fresh, not_modified, failed, rejected;
} crawl_t;

static void host_of(const char *url, char *out, size_t outlen)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    snprintf(out, outlen, "%.*s", (int)(n < outlen ? n : outlen - 1), p);
}

static int load_sources(crawl_t *c, char *err, size_t errlen)
{
    FILE *f = fopen(c->sources_path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", c->sources_path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, f) != -1) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *copy = strdup(line), *save = NULL;
        char *url = copy ? strtok_r(copy, " \t\r\n", &save) : NULL;
        if (!url) {
            free(copy);
            if (!copy) rc = -1;
            continue;
        }
        if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
            snprintf(err, errlen, "%s:%zu: not an http(s) URL", c->sources_path, lineno);
            free(copy);
            rc = -1;
            break;
        }
        source_t *v = realloc(c->src, (c->nsrc + 1) * sizeof *v);
        if (!v) {
            free(copy);
            rc = -1;
            break;
        }
        c->src = v;
        source_t *s = &c->src[c->nsrc++];
        memset(s, 0, sizeof *s);
        s->line = copy;
        s->url = url;
        host_of(url, s->host, sizeof s->host);
        s->name = strtok_r(NULL, " \t\r\n", &save);
        if (!s->name) s->name = s->host;
        char *tags = strtok_r(NULL, " \t\r\n", &save), *tsave = NULL;
        for (char *t = tags ? strtok_r(tags, ",", &tsave) : NULL; t && s->ntags < MAX_TAGS;
             t = strtok_r(NULL, ",", &tsave))
            s->tags[s->ntags++] = t;
    }
    free(line);
    fclose(f);
    if (rc == 0 && c->nsrc == 0) {
        snprintf(err, errlen, "%s lists no sources", c->sources_path);
        rc = -1;
    }
    if (rc != 0 && !*err) snprintf(err, errlen, "out of memory reading %s", c->sources_path);
    return rc;
}

/* ---- State file --------------------------------------------------------- */

/* Lines: the magic, then "V\tURL\tETAG\tLAST-MODIFIED" per source and
 * "P\tID" per published id, oldest first. Unknown lines are ignored, so an
 * older crawler can read a newer file. */
static int load_state(crawl_t *c, char *err, size_t errlen)
{
    FILE *f = fopen(c->state_path, "r");
    if (!f) {
        if (errno == ENOENT) return 0;
        snprintf(err, errlen, "cannot open %s: %s", c->state_path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int first = 1, rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) != -1) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        if (first) {
            first = 0;
            if (strcmp(line, STATE_MAGIC) != 0) {
                snprintf(err, errlen, "%s is not a crawl state file", c->state_path);
                rc = -1;
            }
            continue;
        }
        if (strncmp(line, "P\t", 2) == 0) {
            if (seen_add(&c->seen, line + 2) != 0) rc = -1;
        } else if (strncmp(line, "V\t", 2) == 0) {
            char *url = line + 2, *etag = strchr(url, '\t'), *lm = etag ? strchr(etag + 1, '\t') : NULL;
            if (!lm) continue;
            *etag++ = '\0';
            *lm++ = '\0';
            for (size_t i = 0; i < c->nsrc; i++) {
                if (strcmp(c->src[i].url, url) != 0) continue;
                snprintf(c->src[i].etag, sizeof c->src[i].etag, "%s", etag);
                snprintf(c->src[i].last_modified, sizeof c->src[i].last_modified, "%s", lm);
            }
        }
    }
    free(line);
    fclose(f);
    if (rc != 0 && !*err) snprintf(err, errlen, "out of memory reading %s", c->state_path);
    return rc;
}

static int save_state(crawl_t *c)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", c->state_path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        log_kv(LOG_ERROR, "cannot write the state file", "file", tmp, "error", strerror(errno), NULL);
        return -1;
    }
    fprintf(f, "%s\n", STATE_MAGIC);
    for (size_t i = 0; i < c->nsrc; i++) {
        const source_t *s = &c->src[i];
        /* a validator that would break the line format is not kept: the
         * cost is one full download, never a wrong 304 */
        if ((s->etag[0] || s->last_modified[0]) && !strpbrk(s->etag, "\t\r\n") &&
            !strpbrk(s->last_modified, "\t\r\n"))
            fprintf(f, "V\t%s\t%s\t%s\n", s->url, s->etag, s->last_modified);
    }
    for (size_t i = c->seen.n > SEEN_KEEP ? c->seen.n - SEEN_KEEP : 0; i < c->seen.n; i++)
        fprintf(f, "P\t%s\n", c->seen.ids[i]);
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, c->state_path) != 0) {
        log_kv(LOG_ERROR, "cannot write the state file", "file", c->state_path, "error",
               strerror(errno), NULL);
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* ---- Waiting ------------------------------------------------------------ */

/* Sleeps until the monotonic deadline, serving delivery reports and
 * reloading the settings after SIGHUP; returns early (-1) on a shutdown
 * signal. */
static int wait_until(crawl_t *c, long long deadline_ms)
{
    for (;;) {
        if (signal_shutdown) return -1;
        if (signal_reload) {
            signal_reload = 0;
            config_reload_t r;
            char err[512];
            config_reload(c->cfg, c->config_path, c->flags, c->n_flags, &r, err, sizeof err);
        }
        long long left = deadline_ms - clock_monotonic_ms();
        if (left <= 0) return 0;
        rd_kafka_poll(c->rk, (int)(left < 100 ? left : 100));
    }
}

static host_t *host_slot(crawl_t *c, const char *host)
{
    for (size_t i = 0; i < c->nhosts; i++)
        if (strcmp(c->hosts[i].host, host) == 0) return &c->hosts[i];
    host_t *v = realloc(c->hosts, (c->nhosts + 1) * sizeof *v);
    if (!v) return NULL;
    c->hosts = v;
    host_t *h = &c->hosts[c->nhosts++];
    snprintf(h->host, sizeof h->host, "%s", host);
    h->last_ms = -(1LL << 40);
    return h;
}

/* ---- Publishing ---------------------------------------------------------- */

typedef struct {
    int pending, acked, failed;
} batch_t;

typedef struct {
    batch_t *batch;
    int done; /* 1 acked, -1 failed */
} slot_t;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk, (void)opaque;
    slot_t *s = m->_private;
    if (!s) return;
    s->batch->pending--;
    if (m->err) {
        s->done = -1;
        s->batch->failed++;
        log_kv(LOG_ERROR, "item not delivered", "error", rd_kafka_err2str(m->err), NULL);
    } else {
        s->done = 1;
        s->batch->acked++;
    }
}

/* Produces the new items of f and waits for every acknowledgement (bounded
 * by message.timeout.ms, which librdkafka enforces). Returns the number
 * not delivered; acknowledged ids join seen. */
static size_t publish(crawl_t *c, const source_t *s, const feed_t *f, size_t *fresh)
{
    slot_t *slots = calloc(f->n ? f->n : 1, sizeof *slots);
    batch_t b = {0};
    size_t undelivered = 0;
    *fresh = 0;
    if (!slots) return f->n;
    for (size_t i = 0; i < f->n; i++) {
        const feed_item_t *it = &f->items[i];
        if (seen_has(&c->seen, it->id)) continue;
        int dup = 0; /* the same item twice in one document */
        for (size_t j = 0; j < i && !dup; j++) dup = slots[j].batch && !strcmp(f->items[j].id, it->id);
        if (dup) continue;
        slots[i].batch = &b;
        b.pending++;
        rd_kafka_resp_err_t r;
        while ((r = rd_kafka_producev(c->rk, RD_KAFKA_V_TOPIC(c->topic),
                                      RD_KAFKA_V_KEY(it->id, strlen(it->id)),
                                      RD_KAFKA_V_VALUE(it->json, it->len),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_OPAQUE(&slots[i]), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(c->rk, 100);
        if (r) {
            b.pending--;
            slots[i].batch = NULL;
            undelivered++;
            log_kv(LOG_ERROR, "produce failed", "source", s->name, "error", rd_kafka_err2str(r), NULL);
        }
    }
    /* Not interrupted by a signal: what is queued is awaited, and the
     * shutdown watchdog bounds that wait. */
    while (b.pending > 0) {
        if (signal_shutdown) signals_arm_shutdown_watchdog(config_int(c->cfg, "shutdown.timeout.ms"));
        rd_kafka_poll(c->rk, 100);
    }
    for (size_t i = 0; i < f->n; i++) {
        if (slots[i].done == 1) {
            (*fresh)++;
            if (seen_add(&c->seen, f->items[i].id) != 0) undelivered++;
        } else if (slots[i].done == -1) {
            undelivered++;
        }
    }
    free(slots);
    return undelivered;
}

/* ---- One source ------------------------------------------------------------ */

static void schedule_failure(crawl_t *c, source_t *s, long retry_after_ms)
{
    long cap = c->interval_ms > 6 * 3600 * 1000L / 64 ? 6 * 3600 * 1000L : c->interval_ms * 64;
    long wait = fault_backoff_ms(s->failures, c->interval_ms, cap, &c->seed);
    if (retry_after_ms > wait) wait = retry_after_ms;
    s->failures++;
    s->due_ms = clock_monotonic_ms() + wait;
    c->failed++;
    char w[24], n[16];
    snprintf(w, sizeof w, "%ld", wait);
    snprintf(n, sizeof n, "%d", s->failures);
    log_kv(LOG_INFO, "source backs off", "source", s->name, "url", s->url, "wait_ms", w,
           "consecutive_failures", n, NULL);
}

static void poll_source(crawl_t *c, source_t *s)
{
    host_t *h = host_slot(c, s->host);
    if (h && wait_until(c, h->last_ms + c->host_delay_ms) != 0) return;
    if (h) h->last_ms = clock_monotonic_ms();
    c->polled++;

    fetch_req_t req = c->req;
    req.etag = s->etag;
    req.last_modified = s->last_modified;
    fetch_result_t res;
    fetch_status_t st = fetcher_get(c->fetcher, s->url, &req, &res);
    if (st == FETCH_CANCELLED) {
        c->polled--;
        fetch_result_free(&res);
        return;
    }
    if (st == FETCH_NOT_MODIFIED) {
        c->not_modified++;
        s->failures = 0;
        s->due_ms = clock_monotonic_ms() + c->interval_ms;
        fetch_result_free(&res);
        return;
    }
    if (st != FETCH_OK) {
        log_kv(LOG_WARN, "source failed", "source", s->name, "url", s->url, "status",
               fetch_status_name(st), "error", res.err, NULL);
        schedule_failure(c, s, st == FETCH_RETRY_LATER ? res.retry_after_ms : -1);
        fetch_result_free(&res);
        return;
    }
    char err[256];
    feed_t f;
    feed_ctx_t ctx = {s->name, s->tags, s->ntags, 0};
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    ctx.crawled_at_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    if (feed_parse(res.body.data, res.body.len, &ctx, &f, err, sizeof err) != 0) {
        log_kv(LOG_WARN, "source failed", "source", s->name, "url", s->url, "status", "bad_feed",
               "error", err, NULL);
        schedule_failure(c, s, -1);
        fetch_result_free(&res);
        return;
    }
    if (f.rejected) {
        char n[24];
        snprintf(n, sizeof n, "%zu", f.rejected);
        log_kv(LOG_WARN, "items rejected by the validator", "source", s->name, "count", n,
               "first_reason", f.reject_reason, NULL);
        c->rejected += f.rejected;
    }
    size_t fresh = 0, undelivered = publish(c, s, &f, &fresh);
    c->fresh += fresh;
    int changed = fresh > 0;
    if (undelivered) {
        /* keep the old validators: the next poll must see these items again */
        log_kv(LOG_WARN, "source failed", "source", s->name, "url", s->url, "status",
               "not_delivered", NULL);
        schedule_failure(c, s, -1);
    } else {
        changed |= strcmp(s->etag, res.etag) != 0 || strcmp(s->last_modified, res.last_modified) != 0;
        snprintf(s->etag, sizeof s->etag, "%s", res.etag);
        snprintf(s->last_modified, sizeof s->last_modified, "%s", res.last_modified);
        s->failures = 0;
        s->due_ms = clock_monotonic_ms() + c->interval_ms;
    }
    if (changed) save_state(c);
    feed_free(&f);
    fetch_result_free(&res);
}

/* ---- The command ----------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: shoal-producer crawl -b BROKERS -t TOPIC --sources FILE [options]\n"
            "  polls RSS/Atom feeds and JSON repository-event endpoints, publishes new items\n"
            "options:\n"
            "      --sources FILE       one source a line: URL [NAME [TAG,TAG...]]\n"
            "      --interval S         seconds between polls of a source (default 300)\n"
            "      --once               one cycle, then exit (7 when a source failed)\n"
            "      --state FILE         published ids and validators (default shoal-crawl.state)\n"
            "      --host-delay-ms MS   least time between requests to one host (default 1000)\n"
            "      --timeout-ms MS      whole-request bound (default 20000)\n"
            "      --connect-timeout-ms MS  (default 5000)\n"
            "      --max-body BYTES     largest body accepted (default 4194304)\n"
            "  -b, --brokers LIST     Kafka bootstrap servers\n"
            "  -t, --topic TOPIC      target topic\n"
            "  -X KEY=VALUE           librdkafka property\n"
            "      --set KEY=VALUE    any setting\n"
            "      --config FILE      settings file\n"
            "  -h, --help             this help\n");
}

static int num_arg(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* 0; 1 after --help; -1 with err on a usage error. */
static int parse_args(crawl_t *c, int argc, char **argv, char *err, size_t errlen)
{
    static const struct option opts[] = {
        {"sources", required_argument, 0, 'S'},    {"interval", required_argument, 0, 'i'},
        {"once", no_argument, 0, 'o'},             {"state", required_argument, 0, 'f'},
        {"host-delay-ms", required_argument, 0, 'd'}, {"timeout-ms", required_argument, 0, 'T'},
        {"connect-timeout-ms", required_argument, 0, 'C'},
        {"max-body", required_argument, 0, 'm'},   {"brokers", required_argument, 0, 'b'},
        {"topic", required_argument, 0, 't'},      {"set", required_argument, 0, 's'},
        {"config", required_argument, 0, 'c'},     {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    c->flags = malloc((size_t)(argc > 0 ? argc : 1) * sizeof(*c->flags));
    if (!c->flags) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    config_flag_t *pend = c->flags;
    size_t np = 0;
    long long v;
    int o;
    optind = 1;
    opterr = 0;
    while ((o = getopt_long(argc, argv, "b:t:X:h", opts, NULL)) != -1) {
        const char *bad = NULL;
        switch (o) {
        case 'S': c->sources_path = optarg; break;
        case 'f': c->state_path = optarg; break;
        case 'o': c->once = 1; break;
        case 'i':
            if (num_arg(optarg, 1, 30 * 86400, &v)) bad = "--interval expects 1 to 2592000 seconds";
            else c->interval_ms = (long)v * 1000;
            break;
        case 'd':
            if (num_arg(optarg, 0, 3600000, &v)) bad = "--host-delay-ms expects 0 to 3600000";
            else c->host_delay_ms = (long)v;
            break;
        case 'T':
            if (num_arg(optarg, 100, 600000, &v)) bad = "--timeout-ms expects 100 to 600000";
            else c->req.http.timeout_ms = (long)v;
            break;
        case 'C':
            if (num_arg(optarg, 100, 600000, &v)) bad = "--connect-timeout-ms expects 100 to 600000";
            else c->req.http.connect_timeout_ms = (long)v;
            break;
        case 'm':
            if (num_arg(optarg, 1024, 1LL << 30, &v)) bad = "--max-body expects 1024 to 1073741824";
            else c->req.http.max_body = (size_t)v;
            break;
        case 'b': pend[np].name = "brokers"; pend[np++].value = optarg; break;
        case 't': pend[np].name = "topics"; pend[np++].value = optarg; break;
        case 'X': pend[np].name = NULL; pend[np++].value = optarg; break;
        case 's': pend[np].name = ""; pend[np++].value = optarg; break;
        case 'c': c->config_path = optarg; break;
        case 'h': usage(stdout); return 1;
        default: bad = "unknown option or missing value"; break;
        }
        if (bad) {
            snprintf(err, errlen, "%s", bad);
            return -1;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument: %s", argv[optind]);
        return -1;
    }
    if (!c->sources_path) {
        snprintf(err, errlen, "--sources FILE is required");
        return -1;
    }
    c->n_flags = np;
    if (config_load_with_flags(c->cfg, c->config_path, pend, np, err, errlen) != 0) return -1;
    c->topic = config_str(c->cfg, "topics");
    if (!*c->topic || strchr(c->topic, ',')) {
        snprintf(err, errlen, "-t must name one topic");
        return -1;
    }
    return 0;
}

static int make_producer(crawl_t *c, char *err, size_t errlen)
{
    char timeout[24];
    snprintf(timeout, sizeof timeout, "%ld", config_int(c->cfg, "kafka.timeout.ms") * 3);
    const char *defaults[] = {"enable.idempotence", "true", "acks", "all", "linger.ms", "20",
                              "message.timeout.ms", timeout, "client.id", "shoal-crawl", NULL};
    rd_kafka_conf_t *conf = kafka_conf_new(c->cfg, defaults, err, errlen);
    if (!conf) return -1;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    c->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
    return c->rk ? 0 : -1;
}

static void cycle_summary(crawl_t *c)
{
    char a[24], b[24], d[24], e[24], f[24];
    snprintf(a, sizeof a, "%lu", c->polled);
    snprintf(b, sizeof b, "%lu", c->fresh);
    snprintf(d, sizeof d, "%lu", c->not_modified);
    snprintf(e, sizeof e, "%lu", c->failed);
    snprintf(f, sizeof f, "%lu", c->rejected);
    log_kv(LOG_INFO, "crawl cycle", "polled", a, "new", b, "not_modified", d, "failed", e,
           "rejected", f, NULL);
}

static int run(crawl_t *c)
{
    int any_failed = 0;
    while (!signal_shutdown) {
        c->polled = c->fresh = c->not_modified = c->failed = c->rejected = 0;
        for (size_t i = 0; i < c->nsrc && !signal_shutdown; i++)
            if (c->src[i].due_ms <= clock_monotonic_ms()) poll_source(c, &c->src[i]);
        cycle_summary(c);
        any_failed |= c->failed > 0;
        if (c->once) break;
        long long next = c->src[0].due_ms;
        for (size_t i = 1; i < c->nsrc; i++)
            if (c->src[i].due_ms < next) next = c->src[i].due_ms;
        wait_until(c, next);
    }
    if (signal_shutdown) {
        signals_arm_shutdown_watchdog(config_int(c->cfg, "shutdown.timeout.ms"));
        log_kv(LOG_INFO, "stopping on a signal", NULL);
    }
    /* everything published was awaited; flush what the client still holds */
    rd_kafka_flush(c->rk, (int)config_int(c->cfg, "kafka.timeout.ms"));
    if (save_state(c) != 0) return EXIT_FAILURE_RUNTIME;
    return c->once && any_failed ? EXIT_INCOMPLETE : EXIT_OK;
}

int crawl_main(int argc, char **argv)
{
    char err[512] = "";
    crawl_t c = {0};
    c.interval_ms = 300 * 1000L;
    c.host_delay_ms = 1000;
    c.state_path = "shoal-crawl.state";
    c.seed = (uint64_t)time(NULL) ^ (uint64_t)getpid();
    fetch_req_default(&c.req);
    c.req.cancel = &signal_shutdown;
    int rc = EXIT_OK, http_ready = 0;
    c.cfg = config_new(CFG_PRODUCER);
    if (!c.cfg) {
        log_kv(LOG_ERROR, "out of memory", NULL);
        return EXIT_FAILURE_RUNTIME;
    }
    int parsed = parse_args(&c, argc, argv, err, sizeof err);
    if (parsed != 0) {
        if (parsed < 0) log_kv(LOG_ERROR, "bad command line (see crawl --help)", "error", err, NULL);
        rc = parsed < 0 ? EXIT_USAGE : EXIT_OK;
        goto out;
    }
    if (load_sources(&c, err, sizeof err) != 0 || load_state(&c, err, sizeof err) != 0) {
        log_kv(LOG_ERROR, "cannot start the crawl", "error", err, NULL);
        rc = EXIT_USAGE;
        goto out;
    }
    html_global_init();
    if (http_global_init(err, sizeof err) != 0 || !(http_ready = 1) ||
        !(c.fetcher = fetcher_new(err, sizeof err)) || make_producer(&c, err, sizeof err) != 0) {
        log_kv(LOG_ERROR, "cannot start the crawl", "error", err, NULL);
        rc = EXIT_FAILURE_RUNTIME;
        goto out;
    }
    char n[24], k[24];
    snprintf(n, sizeof n, "%zu", c.nsrc);
    snprintf(k, sizeof k, "%zu", c.seen.n);
    log_kv(LOG_INFO, "crawl starting", "sources", n, "known_items", k, "topic", c.topic, "state",
           c.state_path, NULL);
    rc = run(&c);
    log_kv(LOG_INFO, "exiting", "exit_code", rc == EXIT_OK ? "0" : rc == EXIT_INCOMPLETE ? "7" : "1",
           NULL);
out:
    if (c.rk) rd_kafka_destroy(c.rk);
    fetcher_destroy(c.fetcher);
    if (http_ready) http_global_cleanup();
    for (size_t i = 0; i < c.nsrc; i++) free(c.src[i].line);
    free(c.src);
    free(c.hosts);
    seen_free(&c.seen);
    free(c.flags);
    config_destroy(c.cfg);
    return rc;
}

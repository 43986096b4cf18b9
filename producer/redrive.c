#include "redrive.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "clock.h"
#include "kafka.h"
#include "log.h"
#include "signals.h"

/* Letters per batch: bounds both the work a failure makes a rerun repeat
 * and how long offsets wait for their commit. */
#define BATCH_MAX 500
#define COUNT_HEADER "shoal.redrive.count"

typedef struct {
    int32_t partition;
    int64_t next; /* offset to commit when the batch is acknowledged; -1: none */
    int eof;
} part_t;

typedef struct {
    const config_t *cfg;
    const redrive_opts_t *o;
    rd_kafka_t *consumer;
    rd_kafka_t *producer; /* NULL with --dry-run */
    part_t *parts;        /* the assigned partitions of o->from */
    size_t nparts, cap;
    size_t batch;         /* letters handled since the last end_batch() */
    size_t in_flight;     /* republishes still without a delivery report */
    int batch_failed;     /* a letter of this batch could not be re-driven */
    int stop;             /* stop reading: the run cannot complete */
    int assigned_once;
    long ack_wait_ms;
    unsigned long long read, republished, by_class, over_max, truncated, failed;
} redrive_t;

/* Keys and header values are bytes; what reaches stdout or a log line is
 * printable ASCII (see redrive.h), cut to fit out. */
static void escape(const void *data, size_t len, char *out, size_t outlen)
{
    const unsigned char *s = data;
    size_t o = 0;
    for (size_t i = 0; s && i < len; i++) {
        int plain = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\';
        if (o + (plain ? 1 : 4) >= outlen) break;
        if (plain) out[o++] = (char)s[i];
        else o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", s[i]);
    }
    out[o] = '\0';
}

/* The last value of header name as a C string. -1 when absent, null, or
 * not a string that fits: a cut topic name could name another topic. */
static int header_str(const rd_kafka_headers_t *h, const char *name, char *buf, size_t len)
{
    const void *v;
    size_t n;
    if (!h || rd_kafka_header_get_last(h, name, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR || !v ||
        n >= len || memchr(v, '\0', n))
        return -1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    return 0;
}

/* The letter's shoal.redrive.count: 0 when absent, -1 when unreadable. */
static long redrive_count(const rd_kafka_headers_t *h)
{
    const void *v;
    size_t n;
    if (!h || rd_kafka_header_get_last(h, COUNT_HEADER, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    char buf[24], *end;
    if (header_str(h, COUNT_HEADER, buf, sizeof(buf)) != 0 || buf[0] < '0' || buf[0] > '9')
        return -1;
    errno = 0;
    long c = strtol(buf, &end, 10);
    return errno || *end ? -1 : c;
}

static part_t *find_part(redrive_t *r, int32_t partition)
{
    for (size_t i = 0; i < r->nparts; i++)
        if (r->parts[i].partition == partition) return &r->parts[i];
    return NULL;
}

static int add_part(redrive_t *r, int32_t partition)
{
    part_t *p = find_part(r, partition);
    if (!p) {
        if (r->nparts == r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 8;
            part_t *n = realloc(r->parts, cap * sizeof(*n));
            if (!n) return -1;
            r->parts = n;
            r->cap = cap;
        }
        p = &r->parts[r->nparts++];
        p->partition = partition;
    }
    p->next = -1;
    p->eof = 0;
    return 0;
}

static void remove_part(redrive_t *r, int32_t partition)
{
    part_t *p = find_part(r, partition);
    if (p) *p = r->parts[--r->nparts];
}

static int caught_up(const redrive_t *r)
{
    if (r->nparts == 0) return 0;
    for (size_t i = 0; i < r->nparts; i++)
        if (!r->parts[i].eof) return 0;
    return 1;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    redrive_t *r = opaque;
    if (r->in_flight > 0) r->in_flight--;
    if (!m->err) {
        r->republished++;
        return;
    }
    r->failed++;
    r->batch_failed = 1;
    char key[256];
    escape(m->key, m->key_len, key, sizeof(key));
    log_kv(LOG_ERROR, "republish not acknowledged", "topic", rd_kafka_topic_name(m->rkt), "key",
           key, "error", rd_kafka_err2str(m->err), NULL);
}

/* Ends the batch: waits for its acknowledgements, then commits the offsets
 * of every letter handled, unless commit is 0 or a letter failed (then the
 * run stops: a rerun re-drives the batch). */
static void end_batch(redrive_t *r, int commit)
{
    long deadline = clock_monotonic_ms() + r->ack_wait_ms;
    while (r->in_flight > 0 && clock_monotonic_ms() < deadline) rd_kafka_poll(r->producer, 50);
    int ok = r->in_flight == 0 && !r->batch_failed;
    if (r->in_flight > 0)
        log_kv(LOG_ERROR, "republishes still unacknowledged after message.timeout.ms", NULL);
    if (!ok && !r->o->dry_run) {
        log_kv(LOG_ERROR, "batch not committed; a rerun re-drives it", NULL);
        r->stop = 1;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (size_t i = 0; i < r->nparts; i++) {
        if (r->parts[i].next >= 0 && ok && commit && !r->o->dry_run)
            rd_kafka_topic_partition_list_add(l, r->o->from, r->parts[i].partition)->offset =
                r->parts[i].next;
        r->parts[i].next = -1;
    }
    if (l->cnt > 0) {
        rd_kafka_resp_err_t e = rd_kafka_commit(r->consumer, l, 0);
        if (e) {
            log_kv(LOG_ERROR, "offset commit failed; a rerun re-drives the batch", "error",
                   rd_kafka_err2str(e), NULL);
            r->failed++;
            r->stop = 1;
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    r->batch = 0;
    r->batch_failed = 0;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    redrive_t *r = opaque;
    int coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) {
            if (add_part(r, parts->elems[i].partition) != 0) {
                log_kv(LOG_ERROR, "out of memory tracking partitions", NULL);
                r->stop = 1;
            }
        }
        r->assigned_once = 1;
        rd_kafka_error_t *e = coop ? rd_kafka_incremental_assign(rk, parts) : NULL;
        if (e) {
            log_kv(LOG_ERROR, "incremental assign failed", "error", rd_kafka_error_string(e), NULL);
            rd_kafka_error_destroy(e);
        }
        if (!coop) rd_kafka_assign(rk, parts);
        return;
    }
    /* What came from these partitions must be acknowledged and committed
     * before another member reads them again; a lost assignment can no
     * longer be committed to. After a failure nothing more is committed. */
    if (!r->stop) end_batch(r, !rd_kafka_assignment_lost(rk));
    for (int i = 0; i < parts->cnt; i++) remove_part(r, parts->elems[i].partition);
    if (coop) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
        if (e) rd_kafka_error_destroy(e);
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

/* Queues one republish. The headers are the letter's minus the shoal.*
 * namespace, plus the incremented count. */
static int republish(redrive_t *r, const rd_kafka_message_t *m, const rd_kafka_headers_t *h,
                     const char *target, long count, char *err, size_t errlen)
{
    rd_kafka_headers_t *out = rd_kafka_headers_new(8);
    const char *name;
    const void *v;
    size_t n;
    for (size_t i = 0; h && rd_kafka_header_get_all(h, i, &name, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR; i++)
        if (strncmp(name, "shoal.", 6) != 0) rd_kafka_header_add(out, name, -1, v, (ssize_t)n);
    char c[24];
    snprintf(c, sizeof(c), "%ld", count + 1);
    rd_kafka_header_add(out, COUNT_HEADER, -1, c, -1);
    /* The dead letter carries the original's timestamp, unless its topic
     * stamps append times: then the target's clock is as good. */
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype);
    if (tstype != RD_KAFKA_TIMESTAMP_CREATE_TIME || ts < 0) ts = 0;
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            r->producer, RD_KAFKA_V_TOPIC(target), RD_KAFKA_V_KEY(m->key, m->key_len),
            RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_HEADERS(out), RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(r->producer, 100);
            continue;
        }
        if (e) {
            rd_kafka_headers_destroy(out);
            snprintf(err, errlen, "produce: %s", rd_kafka_err2str(e));
            return -1;
        }
        r->in_flight++;
        return 0;
    }
}

/* Re-drives, lists or skips one letter; its offset becomes committable
 * unless it failed. */
static void handle(redrive_t *r, const rd_kafka_message_t *m, part_t *p)
{
    const redrive_opts_t *o = r->o;
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR) h = NULL;
    char cls[256] = "", flag[8], key[256], part[16], off[24], target[256] = "";
    int has_cls = header_str(h, "shoal.error.class", cls, sizeof(cls)) == 0;
    long count = redrive_count(h);
    escape(m->key, m->key_len, key, sizeof(key));
    snprintf(part, sizeof(part), "%" PRId32, m->partition);
    snprintf(off, sizeof(off), "%" PRId64, m->offset);
    r->read++;

    const char *skip = NULL;
    int expected = 0; /* skips by class are the point of --error-class, not news */
    if (o->error_class && (!has_cls || strcmp(cls, o->error_class) != 0)) {
        r->by_class++;
        skip = "error class not selected";
        expected = 1;
    } else if (header_str(h, "shoal.truncated", flag, sizeof(flag)) == 0 && !strcmp(flag, "true")) {
        r->truncated++;
        skip = "truncated: the original value is gone";
    } else if (count < 0 || count >= o->max_redrives) {
        r->over_max++;
        skip = count < 0 ? "unreadable " COUNT_HEADER : "re-driven --max-redrives times already";
    }
    if (skip) {
        log_kv(expected ? LOG_DEBUG : LOG_WARN, "dead letter skipped", "partition", part, "offset",
               off, "key", key, "class", cls, "reason", skip, NULL);
        p->next = m->offset + 1;
        return;
    }

    char err[300] = "";
    if (o->to) snprintf(target, sizeof(target), "%s", o->to);
    else if (header_str(h, "shoal.original.topic", target, sizeof(target)) != 0)
        snprintf(err, sizeof(err), "no shoal.original.topic header; name the target with --to");
    if (!err[0] && !strcmp(target, o->from))
        snprintf(err, sizeof(err), "target is the dead-letter topic itself");
    if (!err[0] && o->dry_run) {
        char c[256], t[256];
        escape(cls, strlen(cls), c, sizeof(c));
        escape(target, strlen(target), t, sizeof(t));
        printf("%s\t%s\t%s\t%s\t%s\n", part, off, c, t, key);
        r->republished++;
    } else if (!err[0]) {
        republish(r, m, h, target, count, err, sizeof(err));
    }
    if (err[0]) {
        r->failed++;
        r->batch_failed = 1;
        log_kv(LOG_ERROR, "dead letter cannot be re-driven", "partition", part, "offset", off,
               "key", key, "error", err, NULL);
        return;
    }
    p->next = m->offset + 1;
}

/* Returns an exit code when the run is over, 0 to go on. */
static int consume_one(redrive_t *r, rd_kafka_message_t *m)
{
    const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
    part_t *p = strcmp(topic, r->o->from) == 0 ? find_part(r, m->partition) : NULL;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (p) p->eof = 1;
        return 0;
    }
    if (m->err) {
        log_kv(LOG_WARN, "kafka consumer error", "error", rd_kafka_message_errstr(m), NULL);
        /* Waiting for the group would only end at startup.timeout.ms. */
        if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return EXIT_USAGE;
        return m->err == RD_KAFKA_RESP_ERR__FATAL ? EXIT_INCOMPLETE : 0;
    }
    if (!p) return 0; /* from a partition no longer ours */
    p->eof = 0;
    handle(r, m, p);
    r->batch++;
    return 0;
}

static int run_loop(redrive_t *r)
{
    long join_deadline = clock_monotonic_ms() + config_int(r->cfg, "startup.timeout.ms");
    while (!signal_shutdown && !r->stop) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r->consumer, 100);
        int rc = 0;
        if (m) {
            rc = consume_one(r, m);
            rd_kafka_message_destroy(m);
        }
        if (rc) return rc;
        int done = caught_up(r);
        if (r->batch > 0 && (r->batch >= BATCH_MAX || done || !m)) end_batch(r, 1);
        if (done && !r->stop) return EXIT_OK;
        if (!r->assigned_once && clock_monotonic_ms() > join_deadline) return EXIT_STARTUP;
    }
    if (signal_shutdown) {
        signals_arm_shutdown_watchdog(config_int(r->cfg, "shutdown.timeout.ms"));
        log_kv(LOG_INFO, "shutdown requested; finishing the batch in flight", NULL);
        if (r->batch > 0) end_batch(r, 1);
    }
    return EXIT_INCOMPLETE;
}

static rd_kafka_t *new_client(redrive_t *r, rd_kafka_type_t type, char *err, size_t errlen)
{
    char timeout[24];
    snprintf(timeout, sizeof(timeout), "%ld", config_int(r->cfg, "kafka.timeout.ms") * 3);
    const char *producer[] = {"enable.idempotence", "true", "acks", "all", "linger.ms", "5",
                              "message.timeout.ms", timeout, "client.id", "shoal-redrive", NULL};
    const char *consumer[] = {"group.id", r->o->group, "client.id", "shoal-redrive",
                              "enable.auto.commit", "false", "enable.auto.offset.store", "false",
                              "auto.offset.reset", "earliest", "enable.partition.eof", "true",
                              NULL};
    rd_kafka_conf_t *conf =
        kafka_conf_new(r->cfg, type == RD_KAFKA_PRODUCER ? producer : consumer, err, errlen);
    if (!conf) return NULL;
    if (type == RD_KAFKA_PRODUCER) rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    else rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_opaque(conf, r);
    char e[256];
    rd_kafka_t *rk = rd_kafka_new(type, conf, e, sizeof(e));
    if (!rk)
        snprintf(err, errlen, "kafka %s: %s", type == RD_KAFKA_PRODUCER ? "producer" : "consumer", e);
    return rk;
}

int redrive_run(const config_t *cfg, const redrive_opts_t *o)
{
    /* librdkafka reports every message by message.timeout.ms; the margin
     * covers the report's own way back. */
    redrive_t r = {.cfg = cfg, .o = o, .ack_wait_ms = config_int(cfg, "kafka.timeout.ms") * 3 + 5000};
    char err[512] = "";
    int rc = EXIT_OK;
    if (!o->dry_run && !(r.producer = new_client(&r, RD_KAFKA_PRODUCER, err, sizeof(err)))) {
        rc = EXIT_USAGE;
    } else if (!(r.consumer = new_client(&r, RD_KAFKA_CONSUMER, err, sizeof(err)))) {
        rc = EXIT_USAGE;
    } else {
        rd_kafka_poll_set_consumer(r.consumer);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, o->from, RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t e = rd_kafka_subscribe(r.consumer, l);
        rd_kafka_topic_partition_list_destroy(l);
        if (e) {
            snprintf(err, sizeof(err), "subscribe to %s: %s", o->from, rd_kafka_err2str(e));
            rc = EXIT_USAGE;
        } else {
            rc = run_loop(&r);
        }
    }
    const char *why = err[0]                      ? err
                      : rc == EXIT_USAGE          ? "the dead-letter topic does not exist"
                      : rc == EXIT_STARTUP        ? "no partition assigned within startup.timeout.ms"
                      : signal_shutdown           ? "interrupted by a signal"
                      : rc != EXIT_OK || r.failed ? "some dead letters were not re-driven"
                                                  : "caught up";
    if (rc == EXIT_OK && r.failed) rc = EXIT_INCOMPLETE;

    if (r.consumer) {
        rd_kafka_consumer_close(r.consumer);
        rd_kafka_destroy(r.consumer);
    }
    if (r.producer) {
        /* Only after a failure can reports be outstanding: purged, they
         * are counted as failed. */
        if (r.in_flight > 0) {
            rd_kafka_purge(r.producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
            rd_kafka_poll(r.producer, 100);
        }
        rd_kafka_destroy(r.producer);
    }
    free(r.parts);

    char n[6][24], code[16];
    unsigned long long v[6] = {r.read, r.republished, r.by_class, r.over_max, r.truncated,
                               r.failed + r.in_flight};
    for (int i = 0; i < 6; i++) snprintf(n[i], sizeof(n[i]), "%llu", v[i]);
    snprintf(code, sizeof(code), "%d", rc);
    log_kv(rc == EXIT_OK ? LOG_INFO : LOG_ERROR, "redrive summary", "from", o->from, "group",
           o->group, "dry_run", o->dry_run ? "true" : "false", "read", n[0],
           o->dry_run ? "would_republish" : "republished", n[1], "skipped_by_class", n[2],
           "skipped_over_max", n[3], "skipped_truncated", n[4], "failed", n[5], "reason", why,
           "exit_code", code, NULL);
    fflush(stdout);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: shoal-producer redrive --from TOPIC.dlq [options]\n"
            "  republishes dead letters to their original topic, then exits once caught up\n"
            "options:\n"
            "      --from TOPIC        dead-letter topic to read (required)\n"
            "      --to TOPIC          target topic (default: each letter's shoal.original.topic)\n"
            "      --error-class C     only letters of this shoal.error.class\n"
            "      --max-redrives N    skip letters re-driven N times already (default 3)\n"
            "      --dry-run           list what would be re-driven; produce and commit nothing\n"
            "  -g, --group ID          consumer group (default shoal-redrive)\n"
            "  -b, --brokers LIST      Kafka bootstrap servers\n"
            "  -X KEY=VALUE            librdkafka property, for both clients\n"
            "      --set KEY=VALUE     any setting\n"
            "      --config FILE       settings file\n"
            "  -h, --help              this help\n");
}

int redrive_parse_args(int argc, char **argv, redrive_opts_t *o, config_t *cfg, char *err,
                       size_t errlen)
{
    static const struct option opts[] = {
        {"from", required_argument, 0, 'f'},   {"to", required_argument, 0, 'T'},
        {"error-class", required_argument, 0, 'e'}, {"max-redrives", required_argument, 0, 'm'},
        {"dry-run", no_argument, 0, 'n'},      {"group", required_argument, 0, 'g'},
        {"brokers", required_argument, 0, 'b'}, {"set", required_argument, 0, 's'},
        {"config", required_argument, 0, 'c'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    *o = (redrive_opts_t){.group = "shoal-redrive", .max_redrives = 3};
    /* Client flags wait until the file and environment are loaded: flags win. */
    config_flag_t pend[argc > 0 ? argc : 1];
    size_t np = 0;
    const char *config_path = NULL, *max = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "b:g:X:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': o->from = optarg; break;
        case 'T': o->to = optarg; break;
        case 'e': o->error_class = optarg; break;
        case 'm': max = optarg; break;
        case 'n': o->dry_run = 1; break;
        case 'g': o->group = optarg; break;
        case 'b': pend[np].name = "brokers"; pend[np++].value = optarg; break;
        case 'X': pend[np].name = NULL; pend[np++].value = optarg; break;
        case 's': pend[np].name = ""; pend[np++].value = optarg; break;
        case 'c': config_path = optarg; break;
        case 'h': usage(stdout); return 1;
        default:
            snprintf(err, errlen, "unknown option or missing value: %s", argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument: %s", argv[optind]);
        return -1;
    }
    if (!o->from || !*o->from) {
        snprintf(err, errlen, "--from TOPIC is required");
        return -1;
    }
    if ((o->to && !*o->to) || (o->error_class && !*o->error_class) || !*o->group) {
        snprintf(err, errlen, "--to, --error-class and --group need a non-empty value");
        return -1;
    }
    if (o->to && !strcmp(o->to, o->from)) {
        snprintf(err, errlen, "--to names the dead-letter topic itself");
        return -1;
    }
    if (max) {
        char *end;
        errno = 0;
        o->max_redrives = strtol(max, &end, 10);
        if (errno || end == max || *end || o->max_redrives < 0 || o->max_redrives > 1000000) {
            snprintf(err, errlen, "--max-redrives expects an integer from 0 to 1000000");
            return -1;
        }
    }
    if (config_load_with_flags(cfg, config_path, pend, np, err, errlen) != 0) return -1;
    return 0;
}

int redrive_main(int argc, char **argv)
{
    char err[512];
    redrive_opts_t o;
    config_t *cfg = config_new(CFG_PRODUCER);
    if (!cfg) {
        log_kv(LOG_ERROR, "out of memory", NULL);
        return EXIT_FAILURE_RUNTIME;
    }
    int rc, parsed = redrive_parse_args(argc, argv, &o, cfg, err, sizeof(err));
    if (parsed < 0) {
        log_kv(LOG_ERROR, "bad command line (see redrive --help)", "error", err, "exit_code", "2",
               NULL);
        rc = EXIT_USAGE;
    } else {
        rc = parsed > 0 ? EXIT_OK : redrive_run(cfg, &o);
    }
    config_destroy(cfg);
    return rc;
}

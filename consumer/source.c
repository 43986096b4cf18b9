#include "source.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka.h"
#include "log.h"
#include "metrics.h"

typedef struct {
    char *topic;
    int32_t partition;
    int64_t floor; /* messages below this offset are already durable; -1 unknown */
    int eof;
} part_state_t;

struct source {
    rd_kafka_t *rk;
    source_hooks_t hooks;
    part_state_t *parts;
    size_t nparts, cap;
    uint64_t rebalances;
    int paused;
    int closed;
};

static part_state_t *find_part(source_t *s, const char *topic, int32_t p)
{
    for (size_t i = 0; i < s->nparts; i++)
        if (s->parts[i].partition == p && strcmp(s->parts[i].topic, topic) == 0) return &s->parts[i];
    return NULL;
}

static void add_part(source_t *s, const char *topic, int32_t p, int64_t floor)
{
    part_state_t *ps = find_part(s, topic, p);
    if (!ps) {
        if (s->nparts == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 16;
            part_state_t *n = realloc(s->parts, cap * sizeof(*n));
            if (!n) return; /* untracked: only drain detection and the floor are lost */
            s->parts = n;
            s->cap = cap;
        }
        ps = &s->parts[s->nparts++];
        ps->topic = strdup(topic);
        ps->partition = p;
    }
    ps->floor = floor;
    ps->eof = 0;
}

static void remove_part(source_t *s, const char *topic, int32_t p)
{
    part_state_t *ps = find_part(s, topic, p);
    if (!ps) return;
    free(ps->topic);
    *ps = s->parts[--s->nparts];
}

static int cooperative(rd_kafka_t *rk) { return strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0; }

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    source_t *s = opaque;
    s->rebalances++;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) parts->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
        if (s->hooks.load_offsets(s->hooks.opaque, parts) != 0)
            log_kv(LOG_WARN, "stored offsets unavailable at assignment; starting from Kafka's committed offsets", NULL);
        for (int i = 0; i < parts->cnt; i++) {
            rd_kafka_topic_partition_t *e = &parts->elems[i];
            add_part(s, e->topic, e->partition, e->offset >= 0 ? e->offset : -1);
            char p[16], o[24];
            snprintf(p, sizeof(p), "%" PRId32, e->partition);
            snprintf(o, sizeof(o), "%" PRId64, e->offset);
            log_kv(LOG_INFO, "partition assigned", "topic", e->topic, "partition", p,
                   "start_offset", e->offset >= 0 ? o : "committed", NULL);
        }
        rd_kafka_error_t *e2 = NULL;
        rd_kafka_resp_err_t e1 = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (cooperative(rk)) e2 = rd_kafka_incremental_assign(rk, parts);
        else e1 = rd_kafka_assign(rk, parts);
        if (e2) {
            log_kv(LOG_ERROR, "incremental assign failed", "error", rd_kafka_error_string(e2), NULL);
            rd_kafka_error_destroy(e2);
        } else if (e1) {
            log_kv(LOG_ERROR, "assign failed", "error", rd_kafka_err2str(e1), NULL);
        }
        if (s->paused) rd_kafka_pause_partitions(rk, parts);
        return;
    }
    int lost = rd_kafka_assignment_lost(rk);
    s->hooks.on_revoke(s->hooks.opaque, parts, lost);
    for (int i = 0; i < parts->cnt; i++) {
        char p[16];
        snprintf(p, sizeof(p), "%" PRId32, parts->elems[i].partition);
        log_kv(LOG_INFO, lost ? "partition lost" : "partition revoked", "topic",
               parts->elems[i].topic, "partition", p, NULL);
        remove_part(s, parts->elems[i].topic, parts->elems[i].partition);
    }
    /* librdkafka keeps a partition's pause across unassign and assign: one
     * revoked while paused (a retry in progress) would come back paused and
     * never be fetched again. Whether it starts paused is decided at assign. */
    rd_kafka_resume_partitions(rk, parts);
    if (cooperative(rk)) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
        if (e) rd_kafka_error_destroy(e);
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

/* Per-partition consumer lag for /metrics; runs on the polling thread. */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    (void)len;
    (void)opaque;
    metrics_update_from_rdkafka_stats(json);
    return 0; /* librdkafka frees json */
}

source_t *source_new(const config_t *cfg, const source_hooks_t *hooks, char *err, size_t errlen)
{
    source_t *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->hooks = *hooks;
    const char *defaults[] = {"group.id", config_str(cfg, "group"),
                              "client.id", "shoal-consumer",
                              "enable.auto.commit", "false",
                              "enable.auto.offset.store", "false",
                              "auto.offset.reset", "earliest",
                              "enable.partition.eof", "true",
                              "partition.assignment.strategy", "cooperative-sticky",
                              "statistics.interval.ms", "5000",
                              /* Prefetch: 16 MB is several seconds of work at
                               * full speed; librdkafka's 64 MB default was
                               * most of the process's peak RSS. */
                              "queued.max.messages.kbytes", "16384",
                              /* A broker answers a fetch when data arrives,
                               * or after this long; one that holds it the
                               * whole time (librdkafka's mock cluster does)
                               * would add up to librdkafka's 500 ms to each
                               * message's latency. */
                              "fetch.wait.max.ms", "100",
                              NULL};
    rd_kafka_conf_t *conf = kafka_conf_new(cfg, defaults, err, errlen);
    if (!conf) {
        free(s);
        return NULL;
    }
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_stats_cb(conf, on_stats);
    rd_kafka_conf_set_opaque(conf, s);
    char e[512];
    s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof(e));
    if (!s->rk) {
        snprintf(err, errlen, "kafka consumer: %s", e);
        free(s);
        return NULL;
    }
    rd_kafka_poll_set_consumer(s->rk);
    return s;
}

int source_subscribe(source_t *s, const char *topics_csv, char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t *l = kafka_topics_parse(topics_csv);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (l->cnt == 0) {
        rd_kafka_topic_partition_list_destroy(l);
        snprintf(err, errlen, "setting \"topics\" names no topic");
        return -1;
    }
    rd_kafka_resp_err_t e = rd_kafka_subscribe(s->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        snprintf(err, errlen, "subscribe: %s", rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

rd_kafka_message_t *source_poll(source_t *s, int timeout_ms)
{
    rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, timeout_ms);
    if (!m) return NULL;
    const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : NULL;
    part_state_t *ps = topic ? find_part(s, topic, m->partition) : NULL;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (ps) ps->eof = 1;
        rd_kafka_message_destroy(m);
        return NULL;
    }
    if (m->err) {
        /* Client-level errors are retried inside librdkafka; fatal ones
         * surface through source_fatal(). */
        log_kv(LOG_WARN, "kafka consumer error", "error", rd_kafka_message_errstr(m), NULL);
        rd_kafka_message_destroy(m);
        return NULL;
    }
    if (!ps) {
        /* Not (or no longer) ours: a stale message from a revoked partition. */
        rd_kafka_message_destroy(m);
        return NULL;
    }
    ps->eof = 0;
    if (ps->floor >= 0 && m->offset < ps->floor) {
        rd_kafka_message_destroy(m);
        return NULL;
    }
    return m;
}

static void pause_resume(source_t *s, int pause)
{
    rd_kafka_topic_partition_list_t *a = NULL;
    if (rd_kafka_assignment(s->rk, &a) == RD_KAFKA_RESP_ERR_NO_ERROR && a) {
        if (pause) rd_kafka_pause_partitions(s->rk, a);
        else rd_kafka_resume_partitions(s->rk, a);
        rd_kafka_topic_partition_list_destroy(a);
    }
    s->paused = pause;
}

void source_pause(source_t *s)
{
    if (!s->paused) pause_resume(s, 1);
}

void source_resume(source_t *s)
{
    if (s->paused) pause_resume(s, 0);
}

void source_commit_mirror(source_t *s, const char *const *topics, const int32_t *parts,
                          const int64_t *next, size_t n)
{
    if (n == 0) return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++) {
        part_state_t *ps = find_part(s, topics[i], parts[i]);
        if (ps && next[i] > ps->floor) ps->floor = next[i];
        rd_kafka_topic_partition_list_add(l, topics[i], parts[i])->offset = next[i];
    }
    rd_kafka_resp_err_t e = rd_kafka_commit(s->rk, l, 1);
    if (e) log_kv(LOG_DEBUG, "kafka offset mirror commit failed", "error", rd_kafka_err2str(e), NULL);
    rd_kafka_topic_partition_list_destroy(l);
}

size_t source_assigned(const source_t *s) { return s->nparts; }

int source_caught_up(const source_t *s)
{
    if (s->nparts == 0) return 0;
    for (size_t i = 0; i < s->nparts; i++)
        if (!s->parts[i].eof) return 0;
    return 1;
}

uint64_t source_rebalances(const source_t *s) { return s->rebalances; }

int source_fatal(source_t *s, char *err, size_t errlen)
{
    char e[512];
    rd_kafka_resp_err_t code = rd_kafka_fatal_error(s->rk, e, sizeof(e));
    if (!code) return 0;
    snprintf(err, errlen, "%s: %s", rd_kafka_err2name(code), e);
    return 1;
}

void source_close(source_t *s)
{
    if (s->closed) return;
    s->closed = 1;
    rd_kafka_resp_err_t e = rd_kafka_consumer_close(s->rk);
    if (e) log_kv(LOG_WARN, "leaving the consumer group failed", "error", rd_kafka_err2str(e), NULL);
}

void source_destroy(source_t *s)
{
    if (!s) return;
    if (s->rk) {
        source_close(s);
        rd_kafka_destroy(s->rk);
    }
    for (size_t i = 0; i < s->nparts; i++) free(s->parts[i].topic);
    free(s->parts);
    free(s);
}

#include "dlq.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "event.h"
#include "kafka.h"
#include "log.h"
#include "version.h"

#define DLQ_MAX_VALUE (900 * 1024)

struct dlq {
    rd_kafka_t *rk;
    char *group;
    char host[256];
    /* Acknowledgement slots of the current dlq_send() call. A delivery
     * report carries (generation, index); reports from an earlier call
     * that gave up are recognised by their generation and ignored. */
    uint64_t generation;
    int *status; /* 0 pending, 1 acked, -1 failed */
    size_t status_cap;
    char last_error[256];
};

#define SLOT_BITS 24

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    dlq_t *d = opaque;
    uintptr_t tag = (uintptr_t)m->_private;
    uint64_t gen = (uint64_t)(tag >> SLOT_BITS);
    size_t idx = (size_t)(tag & ((1u << SLOT_BITS) - 1));
    if (gen != (d->generation & ((UINTPTR_MAX >> SLOT_BITS))) || idx >= d->status_cap) return;
    if (m->err) {
        d->status[idx] = -1;
        snprintf(d->last_error, sizeof(d->last_error), "%s", rd_kafka_err2str(m->err));
    } else {
        d->status[idx] = 1;
    }
}

dlq_t *dlq_new(const config_t *cfg, const char *group, char *err, size_t errlen)
{
    dlq_t *d = calloc(1, sizeof(*d));
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->group = strdup(group);
    if (gethostname(d->host, sizeof(d->host) - 1) != 0) snprintf(d->host, sizeof(d->host), "unknown");
    char timeout[24];
    snprintf(timeout, sizeof(timeout), "%ld", config_int(cfg, "kafka.timeout.ms"));
    const char *defaults[] = {"enable.idempotence", "true", "acks", "all",
                              "linger.ms", "5", "message.timeout.ms", timeout,
                              "client.id", "shoal-dlq", NULL};
    rd_kafka_conf_t *conf = kafka_conf_new(cfg, defaults, err, errlen);
    if (!conf || !d->group) {
        if (conf) rd_kafka_conf_destroy(conf);
        dlq_destroy(d);
        return NULL;
    }
    /* Consumer-only -X properties are harmless warnings here, not errors. */
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, d);
    char e[512];
    d->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
    if (!d->rk) {
        snprintf(err, errlen, "dead-letter producer: %s", e);
        dlq_destroy(d);
        return NULL;
    }
    return d;
}

void dlq_destroy(dlq_t *d)
{
    if (!d) return;
    if (d->rk) {
        rd_kafka_flush(d->rk, 2000);
        rd_kafka_destroy(d->rk);
    }
    free(d->status);
    free(d->group);
    free(d);
}

static rd_kafka_headers_t *letter_headers(dlq_t *d, const dlq_letter_t *l, size_t orig_size,
                                          int truncated)
{
    const rd_kafka_message_t *m = l->msg;
    rd_kafka_headers_t *orig = NULL, *h;
    if (rd_kafka_message_headers(m, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR && orig)
        h = rd_kafka_headers_copy(orig);
    else
        h = rd_kafka_headers_new(16);
    char part[16], off[24], ts[40], attempts[16], failed_at[40], size[24];
    rd_kafka_timestamp_type_t tstype;
    int64_t tsms = rd_kafka_message_timestamp(m, &tstype);
    snprintf(part, sizeof(part), "%" PRId32, m->partition);
    snprintf(off, sizeof(off), "%" PRId64, m->offset);
    snprintf(ts, sizeof(ts), "%" PRId64, tsms);
    snprintf(attempts, sizeof(attempts), "%d", l->attempts);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    event_format_time((int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000, failed_at, sizeof(failed_at));
    snprintf(size, sizeof(size), "%zu", orig_size);
    const char *kv[][2] = {
        {"shoal.error.class", l->error_class},
        {"shoal.error.stage", l->error_stage},
        {"shoal.error.message", l->error_message},
        {"shoal.original.topic", rd_kafka_topic_name(m->rkt)},
        {"shoal.original.partition", part},
        {"shoal.original.offset", off},
        {"shoal.original.timestamp", ts},
        {"shoal.consumer.group", d->group},
        {"shoal.attempts", attempts},
        {"shoal.failed.at", failed_at},
        {"shoal.host", d->host},
        {"shoal.version", SHOAL_VERSION},
    };
    for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
        rd_kafka_header_add(h, kv[i][0], -1, kv[i][1], -1);
    if (truncated) {
        rd_kafka_header_add(h, "shoal.truncated", -1, "true", -1);
        rd_kafka_header_add(h, "shoal.original.size", -1, size, -1);
    }
    return h;
}

int dlq_send(dlq_t *d, const dlq_letter_t *letters, size_t n, long timeout_ms, char *err,
             size_t errlen)
{
    if (n == 0) return 0;
    if (n >= (1u << SLOT_BITS)) {
        snprintf(err, errlen, "too many dead letters in one call");
        return -1;
    }
    if (n > d->status_cap) {
        int *s = realloc(d->status, n * sizeof(*s));
        if (!s) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        d->status = s;
        d->status_cap = n;
    }
    d->generation++;
    uint64_t gen = d->generation & (UINTPTR_MAX >> SLOT_BITS);
    d->last_error[0] = '\0';
    for (size_t i = 0; i < n; i++) d->status[i] = 0;

    for (size_t i = 0; i < n; i++) {
        const rd_kafka_message_t *m = letters[i].msg;
        size_t len = m->len;
        int truncated = len > DLQ_MAX_VALUE;
        if (truncated) len = DLQ_MAX_VALUE;
        rd_kafka_headers_t *h = letter_headers(d, &letters[i], m->len, truncated);
        rd_kafka_timestamp_type_t tstype;
        int64_t tsms = rd_kafka_message_timestamp(m, &tstype);
        rd_kafka_resp_err_t e = rd_kafka_producev(
            d->rk, RD_KAFKA_V_TOPIC(letters[i].dlq_topic),
            RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_VALUE(m->payload, len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
            RD_KAFKA_V_TIMESTAMP(tsms > 0 ? tsms : 0),
            RD_KAFKA_V_OPAQUE((void *)(uintptr_t)((gen << SLOT_BITS) | i)), RD_KAFKA_V_END);
        if (e) {
            rd_kafka_headers_destroy(h);
            d->status[i] = -1;
            snprintf(d->last_error, sizeof(d->last_error), "%s", rd_kafka_err2str(e));
        }
    }

    long long t0 = clock_monotonic_ms();
    for (;;) {
        size_t pending = 0, failed = 0;
        for (size_t i = 0; i < n; i++) {
            if (d->status[i] == 0) pending++;
            else if (d->status[i] < 0) failed++;
        }
        if (pending == 0) {
            if (failed == 0) return 0;
            snprintf(err, errlen, "%zu of %zu dead letters not acknowledged: %s", failed, n,
                     d->last_error);
            return -1;
        }
        long el = (long)(clock_monotonic_ms() - t0);
        if (el >= timeout_ms) {
            snprintf(err, errlen, "%zu of %zu dead letters not acknowledged within %ld ms", pending,
                     n, timeout_ms);
            return -1;
        }
        rd_kafka_poll(d->rk, 50);
    }
}

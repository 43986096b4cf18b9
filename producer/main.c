/* shoal-producer: feeds topics.
 *
 *   shoal-producer -b BROKERS -t TOPIC [FILE ...]      JSONL from files or stdin
 *   shoal-producer -b BROKERS -t TOPIC --generate N --seed S
 *   ... --rate R   at most R messages per second (steady load, e.g. for latency)
 *
 * Each line is validated with the consumer's own validator and keyed by its
 * event id; the producer is idempotent (enable.idempotence=true). The exit
 * code is 0 only when every line was valid and acknowledged by the broker. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "clock.h"
#include "config.h"
#include "crawl.h"
#include "event.h"
#include "generate.h"
#include "kafka.h"
#include "log.h"
#include "redrive.h"
#include "signals.h"
#include "version.h"

typedef struct {
    config_t *cfg;
    rd_kafka_t *rk;
    const char *topic;
    unsigned long long read, rejected, queued, delivered, failed;
    long last_progress;
    double rate;                  /* messages per second; 0 = as fast as possible */
    unsigned long long paced;     /* messages released by pace() */
    long pace_start;
} producer_t;

static int finish(int code, const char *why)
{
    char c[16];
    snprintf(c, sizeof(c), "%d", code);
    log_kv(code == EXIT_OK ? LOG_INFO : LOG_ERROR, "exiting", "reason", why, "exit_code", c, NULL);
    return code;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    producer_t *p = opaque;
    if (m->err) {
        p->failed++;
        if (p->failed <= 10)
            log_kv(LOG_ERROR, "message not delivered", "error", rd_kafka_err2str(m->err), NULL);
    } else {
        p->delivered++;
    }
}

static void progress(producer_t *p, int force)
{
    long now = clock_monotonic_ms();
    if (!force && now - p->last_progress < 2000) return;
    p->last_progress = now;
    char a[24], b[24], c[24], d[24];
    snprintf(a, sizeof(a), "%llu", p->read);
    snprintf(b, sizeof(b), "%llu", p->rejected);
    snprintf(c, sizeof(c), "%llu", p->delivered);
    snprintf(d, sizeof(d), "%llu", p->failed);
    log_kv(LOG_INFO, force ? "summary" : "progress", "read", a, "rejected", b, "delivered", c,
           "failed", d, NULL);
}

/* With --rate, message k is not queued before start + k / rate seconds;
 * waiting serves delivery reports. The clock starts when the first message
 * has been acknowledged (or has failed, within message.timeout.ms): until
 * the client has joined the partitions to their leader, sometimes a second
 * after start-up, messages would queue and reach the broker as one burst
 * instead of as the steady load asked for. */
static void pace(producer_t *p)
{
    if (p->rate <= 0) return;
    if (p->paced == 1) {
        while (p->delivered + p->failed == 0 && !signal_shutdown) rd_kafka_poll(p->rk, 100);
        p->pace_start = clock_monotonic_ms() - (long)(1000.0 / p->rate);
    }
    long due = p->pace_start + (long)((double)p->paced++ * 1000.0 / p->rate);
    for (long now = clock_monotonic_ms(); now < due; now = clock_monotonic_ms()) rd_kafka_poll(p->rk, (int)(due - now));
}

/* Validates one line and queues it, keyed by its event id. */
static void produce_line(producer_t *p, const char *line, size_t len, const char *where)
{
    p->read++;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
    if (len == 0) {
        p->read--; /* blank lines are not events */
        return;
    }
    event_t ev;
    char err[256];
    event_err_t e = event_decode(line, len, NULL, &ev, err, sizeof(err));
    if (e != EVENT_OK) {
        p->rejected++;
        log_kv(LOG_WARN, "line rejected", "where", where, "class", event_err_class(e), "reason", err, NULL);
        return;
    }
    pace(p);
    for (;;) {
        rd_kafka_resp_err_t r = rd_kafka_producev(
            p->rk, RD_KAFKA_V_TOPIC(p->topic), RD_KAFKA_V_KEY(ev.id, strlen(ev.id)),
            RD_KAFKA_V_VALUE((void *)line, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_END);
        if (r == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(p->rk, 100);
            continue;
        }
        if (r) {
            p->failed++;
            log_kv(LOG_ERROR, "produce failed", "where", where, "error", rd_kafka_err2str(r), NULL);
        } else {
            p->queued++;
        }
        break;
    }
    event_clear(&ev);
    rd_kafka_poll(p->rk, 0);
    progress(p, 0);
}

static int produce_stream(producer_t *p, FILE *f, const char *name)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    char where[300];
    while (!signal_shutdown && (n = getline(&line, &cap, f)) != -1) {
        lineno++;
        snprintf(where, sizeof(where), "%.250s:%lu", name, lineno);
        produce_line(p, line, (size_t)n, where);
    }
    free(line);
    return ferror(f) ? -1 : 0;
}

static void produce_generated(producer_t *p, unsigned long long count, unsigned long long seed)
{
    generator_t *g = generator_new(seed, 0);
    if (!g) {
        log_kv(LOG_ERROR, "out of memory creating the generator", NULL);
        p->failed++;
        return;
    }
    size_t cap = 4096;
    char *buf = malloc(cap);
    for (unsigned long long i = 0; buf && i < count && !signal_shutdown; i++) {
        size_t n = generator_event(g, i, buf, cap);
        if (n >= cap) {
            char *nb = realloc(buf, n + 1);
            if (!nb) break;
            buf = nb;
            cap = n + 1;
            n = generator_event(g, i, buf, cap);
        }
        char where[64];
        snprintf(where, sizeof(where), "generated:%llu", i);
        produce_line(p, buf, n, where);
    }
    free(buf);
    generator_destroy(g);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: shoal-producer -b BROKERS -t TOPIC [FILE ...]   JSONL (stdin without FILE)\n"
            "       shoal-producer -b BROKERS -t TOPIC --generate N [--seed S]\n"
            "       (either form) --rate R   at most R messages per second\n"
            "       shoal-producer redrive -b BROKERS --from TOPIC.dlq [--error-class C] [--to TOPIC]\n"
            "                      [--max-redrives N] [--dry-run] [-g GROUP]\n"
            "       shoal-producer crawl -b BROKERS -t TOPIC --sources FILE [--interval S] [--once]\n"
            "options:\n"
            "  -X KEY=VALUE     librdkafka property\n"
            "  --config FILE    settings file\n"
            "  --set KEY=VALUE  any setting\n"
            "  -h, --help       this help\n");
}

int main(int argc, char **argv)
{
    log_set_component("producer");
    if (signals_install() != 0) return finish(EXIT_FAILURE_RUNTIME, "cannot install signal handlers");
    if (argc > 1 && strcmp(argv[1], "redrive") == 0) return redrive_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "crawl") == 0) return crawl_main(argc - 1, argv + 1);
    static const struct option opts[] = {
        {"brokers", required_argument, 0, 'b'}, {"topic", required_argument, 0, 't'},
        {"generate", required_argument, 0, 'n'}, {"seed", required_argument, 0, 'S'},
        {"config", required_argument, 0, 'c'},  {"set", required_argument, 0, 's'},
        {"help", no_argument, 0, 'h'},          {"version", no_argument, 0, 'V'},
        {"rate", required_argument, 0, 'r'},
        {0, 0, 0, 0}};
    const char *config_path = NULL;
    const char *pend_name[argc > 0 ? argc : 1], *pend_val[argc > 0 ? argc : 1];
    size_t np = 0;
    long long generate = -1;
    unsigned long long seed = 1;
    double rate = 0;
    int o;
    while ((o = getopt_long(argc, argv, "b:t:X:hV", opts, NULL)) != -1) {
        switch (o) {
        case 'b': pend_name[np] = "brokers"; pend_val[np++] = optarg; break;
        case 't': pend_name[np] = "topics"; pend_val[np++] = optarg; break;
        case 'X': pend_name[np] = NULL; pend_val[np++] = optarg; break;
        case 's': pend_name[np] = ""; pend_val[np++] = optarg; break;
        case 'c': config_path = optarg; break;
        case 'n': generate = strtoll(optarg, NULL, 10); break;
        case 'S': seed = strtoull(optarg, NULL, 10); break;
        case 'r':
            rate = strtod(optarg, NULL);
            if (!(rate > 0)) return finish(EXIT_USAGE, "--rate expects a positive number of messages per second");
            break;
        case 'V': printf("shoal-producer %s\n", SHOAL_VERSION); return EXIT_OK;
        case 'h': usage(stdout); return EXIT_OK;
        default: usage(stderr); return finish(EXIT_USAGE, "bad command line");
        }
    }
    producer_t p = {0};
    p.rate = rate;
    char err[512];
    int rc = EXIT_OK;
    p.cfg = config_new(CFG_PRODUCER);
    if (!p.cfg) return finish(EXIT_FAILURE_RUNTIME, "out of memory");
    if (config_load_sources(p.cfg, config_path, err, sizeof(err)) != 0) {
        rc = finish(EXIT_USAGE, err);
        goto out;
    }
    for (size_t i = 0; i < np; i++) {
        int r;
        if (!pend_name[i]) {
            r = config_add_kafka(p.cfg, pend_val[i], err, sizeof(err));
        } else if (!*pend_name[i]) {
            char kv[1024];
            snprintf(kv, sizeof(kv), "%s", pend_val[i]);
            char *eq = strchr(kv, '=');
            r = -1;
            snprintf(err, sizeof(err), "--set expects key=value");
            if (eq) {
                *eq = '\0';
                r = config_set(p.cfg, kv, eq + 1, "flag", err, sizeof(err));
            }
        } else {
            r = config_set(p.cfg, pend_name[i], pend_val[i], "flag", err, sizeof(err));
        }
        if (r != 0) {
            rc = finish(EXIT_USAGE, err);
            goto out;
        }
    }
    p.topic = config_str(p.cfg, "topics");
    if (strchr(p.topic, ',')) {
        rc = finish(EXIT_USAGE, "setting \"topics\" must name one topic for the producer");
        goto out;
    }
    char timeout[24];
    snprintf(timeout, sizeof(timeout), "%ld", config_int(p.cfg, "kafka.timeout.ms") * 3);
    const char *defaults[] = {"enable.idempotence", "true", "acks", "all", "linger.ms", "20",
                              "compression.type", "lz4", "message.timeout.ms", timeout,
                              "client.id", "shoal-producer", NULL};
    rd_kafka_conf_t *conf = kafka_conf_new(p.cfg, defaults, err, sizeof(err));
    if (!conf) {
        rc = finish(EXIT_USAGE, err);
        goto out;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &p);
    p.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!p.rk) {
        rc = finish(EXIT_USAGE, err);
        goto out;
    }
    p.last_progress = clock_monotonic_ms();

    if (generate >= 0) {
        produce_generated(&p, (unsigned long long)generate, seed);
    } else if (optind >= argc) {
        produce_stream(&p, stdin, "stdin");
    } else {
        for (int i = optind; i < argc && !signal_shutdown; i++) {
            FILE *f = fopen(argv[i], "r");
            if (!f) {
                log_kv(LOG_ERROR, "cannot open input", "file", argv[i], "error", strerror(errno), NULL);
                p.rejected++;
                continue;
            }
            if (produce_stream(&p, f, argv[i]) != 0)
                log_kv(LOG_ERROR, "read error", "file", argv[i], NULL);
            fclose(f);
        }
    }
    /* Everything queued must be acknowledged (or reported failed) before we
     * say how it went; librdkafka bounds this by message.timeout.ms. */
    long flush_deadline = clock_monotonic_ms() + config_int(p.cfg, "kafka.timeout.ms") * 3 + 5000;
    while (rd_kafka_outq_len(p.rk) > 0 && clock_monotonic_ms() < flush_deadline) {
        rd_kafka_poll(p.rk, 100);
        progress(&p, 0);
    }
    unsigned long long lost =
        p.delivered + p.failed < p.queued ? p.queued - p.delivered - p.failed : 0;
    progress(&p, 1);
    if (signal_shutdown) rc = finish(EXIT_INCOMPLETE, "interrupted by a signal");
    else if (p.rejected || p.failed || lost) rc = finish(EXIT_INCOMPLETE, "some lines were rejected or not delivered");
    else rc = finish(EXIT_OK, "all lines delivered");
out:
    if (p.rk) rd_kafka_destroy(p.rk);
    config_destroy(p.cfg);
    return rc;
}

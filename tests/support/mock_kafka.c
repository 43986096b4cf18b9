/* shoal-mock-kafka: librdkafka's mock cluster in a process of its own.
 *
 * Tests start this, read the bootstrap servers from its first stdout line
 * (or --bootstrap-file), and point consumers/producers in other processes at
 * it over TCP. Faults are injected by writing control commands to its stdin,
 * one per line; every command gets exactly one reply line on stdout, "ok ..."
 * or "err <reason>". Nothing else goes to stdout: logs go to stderr.
 *
 * It exits 0 on SIGTERM/SIGINT or when stdin reaches EOF, so a harness that
 * dies takes the mock with it. See mock_kafka.md for the command reference. */
#include "log.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_BROKERS 32
#define MAX_TOPICS 64
#define MAX_PARTITIONS 10000
#define MAX_API_KEY 99     /* numeric ApiKeys accepted (Kafka is at ~70) */
#define MAX_ERROR_COUNT 100000
#define MAX_ARGS 8
#define LINE_MAX_LEN 1024
#define POLL_MS 100        /* bounds how late a signal is noticed */
#define SETTLE_NS 5000000L /* see settle() */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

typedef struct {
    const char *name; /* points into topic_names[] (static storage) */
    int partitions;
} topic_spec_t;

/* Names copied out of "--topic NAME:PARTS", alive for the whole process. */
static char topic_names[MAX_TOPICS][256];

typedef struct {
    int brokers;
    int replication;
    const char *bootstrap_file; /* borrowed from argv, may be NULL */
    topic_spec_t topics[MAX_TOPICS];
    int ntopics;
} options_t;

typedef struct {
    rd_kafka_mock_cluster_t *mc;
    int brokers;
    int replication;
    const char *bootstrap; /* owned by mc */
} mock_t;

/* ---------------------------------------------------------------- parsing */

/* Whole-string base-10 integer in [min, max]; 0 ok, -1 otherwise. */
static int parse_int(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return -1;
    *out = v;
    return 0;
}

static const struct {
    const char *name;
    int16_t key;
} api_names[] = {
    {"Produce", 0},           {"Fetch", 1},
    {"ListOffsets", 2},       {"Metadata", 3},
    {"OffsetCommit", 8},      {"OffsetFetch", 9},
    {"FindCoordinator", 10},  {"JoinGroup", 11},
    {"Heartbeat", 12},        {"LeaveGroup", 13},
    {"SyncGroup", 14},        {"DescribeGroups", 15},
    {"ListGroups", 16},       {"SaslHandshake", 17},
    {"ApiVersions", 18},      {"CreateTopics", 19},
    {"DeleteTopics", 20},     {"DeleteRecords", 21},
    {"InitProducerId", 22},   {"OffsetForLeaderEpoch", 23},
    {"AddPartitionsToTxn", 24}, {"AddOffsetsToTxn", 25},
    {"EndTxn", 26},           {"TxnOffsetCommit", 28},
    {"DescribeConfigs", 32},  {"AlterConfigs", 33},
    {"SaslAuthenticate", 36}, {"CreatePartitions", 37},
    {"DeleteGroups", 42},     {"OffsetDelete", 47},
};

/* An API by protocol name (case-insensitive) or numeric ApiKey. */
static int parse_api(const char *s, int16_t *out)
{
    for (size_t i = 0; i < sizeof(api_names) / sizeof(api_names[0]); i++) {
        if (strcasecmp(s, api_names[i].name) == 0) {
            *out = api_names[i].key;
            return 0;
        }
    }
    long v;
    if (parse_int(s, 0, MAX_API_KEY, &v) != 0) return -1;
    *out = (int16_t)v;
    return 0;
}

/* An error by librdkafka name ("NOT_COORDINATOR", "_TRANSPORT", optionally
 * prefixed "RD_KAFKA_RESP_ERR_", case-insensitive) or numeric code. Names
 * come from librdkafka's own table so every code it knows is accepted. */
static int parse_err(const char *s, rd_kafka_resp_err_t *out)
{
    long v;
    if (parse_int(s, INT_MIN, INT_MAX, &v) == 0) {
        *out = (rd_kafka_resp_err_t)v;
        return 0;
    }
    if (strncasecmp(s, "RD_KAFKA_RESP_ERR_", 18) == 0) s += 18;
    /* Kafka renamed code 6; librdkafka's table still uses the old name. */
    if (strcasecmp(s, "NOT_LEADER_OR_FOLLOWER") == 0) {
        *out = RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION;
        return 0;
    }
    const struct rd_kafka_err_desc *descs;
    size_t n;
    rd_kafka_get_err_descs(&descs, &n);
    for (size_t i = 0; i < n; i++) {
        if (descs[i].name && strcasecmp(s, descs[i].name) == 0) {
            *out = descs[i].code;
            return 0;
        }
    }
    return -1;
}

/* A broker id in [1, brokers], or "all" meaning -1 (every broker). */
static int parse_broker(const mock_t *m, const char *s, int32_t *out)
{
    long v;
    if (strcmp(s, "all") == 0) {
        *out = -1;
        return 0;
    }
    if (parse_int(s, 1, m->brokers, &v) != 0) return -1;
    *out = (int32_t)v;
    return 0;
}

/* ---------------------------------------------------------------- output */

/* Writes all of buf to fd, retrying on EINTR and short writes. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* One reply line on stdout, written with a single write() so it is
 * visible to the reader at once (no stdio buffering to flush). */
static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void reply(const char *fmt, ...)
{
    char line[LINE_MAX_LEN + 128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t len = (size_t)n < sizeof(line) - 1 ? (size_t)n : sizeof(line) - 2;
    line[len++] = '\n';
    if (write_all(STDOUT_FILENO, line, len) != 0)
        log_warn("cannot write to stdout: %s", strerror(errno));
}

/* Atomic so a harness polling for the file never reads half of it. */
static int write_bootstrap_file(const char *path, const char *bootstrap)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
        log_error("bootstrap file path too long: %s", path);
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        log_error("cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    int bad = fprintf(f, "%s\n", bootstrap) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        log_error("cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- commands */

/* librdkafka's mock thread serves its command queue and only then drains
 * the wake-up pipe, so a command queued in between loses its wake-up and
 * waits for the thread's 1 s poll timeout (seen with 2.0.2 whenever
 * commands arrive back to back). Pausing after each command lets the
 * thread finish that round first; under heavy load a reply can still be
 * up to ~1 s late, but it is never lost. */
static void settle(void)
{
    struct timespec ts = {0, SETTLE_NS};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stop_signal)
        ;
}

static const char help_text[] =
    "commands: broker down|up ID|all; all down|up; rtt ID|all MS; "
    "error API ERR COUNT; broker-error ID API ERR COUNT [RTT_MS]; clear [API]; "
    "topic-error TOPIC ERR; create TOPIC PARTS; leader TOPIC PART BROKER; "
    "coordinator group|transaction KEY BROKER; bootstrap; help";

static void reply_result(rd_kafka_resp_err_t err, const char *what)
{
    if (err)
        reply("err %s: %s", what, rd_kafka_err2name(err));
    else
        reply("ok %s", what);
}

static void cmd_broker_state(mock_t *m, const char *state, const char *id_arg)
{
    int32_t id;
    int down = strcmp(state, "down") == 0;
    if (!down && strcmp(state, "up") != 0) {
        reply("err broker state must be down or up, not '%s'", state);
        return;
    }
    if (parse_broker(m, id_arg, &id) != 0) {
        reply("err bad broker id '%s' (1..%d or all)", id_arg, m->brokers);
        return;
    }
    rd_kafka_resp_err_t err = down ? rd_kafka_mock_broker_set_down(m->mc, id)
                                   : rd_kafka_mock_broker_set_up(m->mc, id);
    char what[64];
    snprintf(what, sizeof(what), "broker %s %s", id_arg, state);
    reply_result(err, what);
    if (!err) log_info("%s", what);
}

static void cmd_rtt(mock_t *m, const char *id_arg, const char *ms_arg)
{
    int32_t id;
    long ms;
    if (parse_broker(m, id_arg, &id) != 0) {
        reply("err bad broker id '%s' (1..%d or all)", id_arg, m->brokers);
        return;
    }
    if (parse_int(ms_arg, 0, 3600000, &ms) != 0) {
        reply("err bad rtt '%s' (0..3600000 ms)", ms_arg);
        return;
    }
    char what[64];
    snprintf(what, sizeof(what), "rtt %s %ld", id_arg, ms);
    reply_result(rd_kafka_mock_broker_set_rtt(m->mc, id, (int)ms), what);
}

/* Shared by "error" and "broker-error": parses API ERR COUNT. */
static int parse_error_args(char **argv, int16_t *api, rd_kafka_resp_err_t *err, long *count)
{
    if (parse_api(argv[0], api) != 0) {
        reply("err unknown api '%s' (name like Produce or ApiKey 0..%d)", argv[0], MAX_API_KEY);
        return -1;
    }
    if (parse_err(argv[1], err) != 0) {
        reply("err unknown error '%s' (name like NOT_COORDINATOR or code)", argv[1]);
        return -1;
    }
    if (parse_int(argv[2], 1, MAX_ERROR_COUNT, count) != 0) {
        reply("err bad count '%s' (1..%d)", argv[2], MAX_ERROR_COUNT);
        return -1;
    }
    return 0;
}

static void cmd_error(mock_t *m, char **argv)
{
    int16_t api;
    rd_kafka_resp_err_t err;
    long count;
    if (parse_error_args(argv, &api, &err, &count) != 0) return;

    rd_kafka_resp_err_t *errs = malloc((size_t)count * sizeof(*errs));
    if (!errs) {
        reply("err out of memory");
        return;
    }
    for (long i = 0; i < count; i++) errs[i] = err;
    rd_kafka_mock_push_request_errors_array(m->mc, api, (size_t)count, errs);
    free(errs);
    reply("ok error api %d %s x%ld", api, rd_kafka_err2name(err), count);
}

static void cmd_broker_error(mock_t *m, char **argv, int argc)
{
    int16_t api;
    rd_kafka_resp_err_t err;
    long count, rtt = 0;
    long id;
    /* "all" is not accepted: the librdkafka call takes one broker. */
    if (parse_int(argv[0], 1, m->brokers, &id) != 0) {
        reply("err bad broker id '%s' (1..%d)", argv[0], m->brokers);
        return;
    }
    if (parse_error_args(argv + 1, &api, &err, &count) != 0) return;
    if (argc > 4 && parse_int(argv[4], 0, 3600000, &rtt) != 0) {
        reply("err bad rtt '%s' (0..3600000 ms)", argv[4]);
        return;
    }
    /* The API is variadic in (err, rtt) pairs, so push one pair per call;
     * entries are consumed in push order. */
    for (long i = 0; i < count; i++) {
        rd_kafka_resp_err_t e = rd_kafka_mock_broker_push_request_error_rtts(
            m->mc, (int32_t)id, api, 1, err, (int)rtt);
        if (e) {
            reply("err broker-error after %ld pushed: %s", i, rd_kafka_err2name(e));
            return;
        }
    }
    reply("ok broker-error broker %ld api %d %s x%ld rtt %ld", id, api,
          rd_kafka_err2name(err), count, rtt);
}

/* Only the cluster-wide stacks filled by "error" can be cleared: librdkafka
 * has no call to clear per-broker ("broker-error") stacks. */
static void cmd_clear(mock_t *m, char **argv, int argc)
{
    int16_t api;
    if (argc > 0) {
        if (parse_api(argv[0], &api) != 0) {
            reply("err unknown api '%s'", argv[0]);
            return;
        }
        rd_kafka_mock_clear_request_errors(m->mc, api);
        reply("ok clear api %d", api);
        return;
    }
    for (int k = 0; k <= MAX_API_KEY; k++)
        rd_kafka_mock_clear_request_errors(m->mc, (int16_t)k);
    reply("ok clear all");
}

static void cmd_topic_error(mock_t *m, const char *topic, const char *err_arg)
{
    rd_kafka_resp_err_t err;
    if (parse_err(err_arg, &err) != 0) {
        reply("err unknown error '%s'", err_arg);
        return;
    }
    rd_kafka_mock_topic_set_error(m->mc, topic, err);
    reply("ok topic-error %s %s", topic, rd_kafka_err2name(err));
}

static rd_kafka_resp_err_t create_topic(mock_t *m, const char *topic, int partitions)
{
    rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(m->mc, topic, partitions, m->replication);
    if (!err)
        log_info("created topic %s with %d partitions (replication %d)", topic,
                 partitions, m->replication);
    return err;
}

static void cmd_create(mock_t *m, const char *topic, const char *parts_arg)
{
    long parts;
    if (parse_int(parts_arg, 1, MAX_PARTITIONS, &parts) != 0) {
        reply("err bad partition count '%s' (1..%d)", parts_arg, MAX_PARTITIONS);
        return;
    }
    char what[LINE_MAX_LEN + 32];
    snprintf(what, sizeof(what), "create %s %ld", topic, parts);
    reply_result(create_topic(m, topic, (int)parts), what);
}

static void cmd_leader(mock_t *m, const char *topic, const char *part_arg,
                       const char *broker_arg)
{
    long part, broker;
    if (parse_int(part_arg, 0, MAX_PARTITIONS - 1, &part) != 0) {
        reply("err bad partition '%s'", part_arg);
        return;
    }
    /* -1 is the mock's way of making a partition leaderless. */
    if (parse_int(broker_arg, -1, m->brokers, &broker) != 0 || broker == 0) {
        reply("err bad broker id '%s' (1..%d or -1 for none)", broker_arg, m->brokers);
        return;
    }
    char what[LINE_MAX_LEN + 64];
    snprintf(what, sizeof(what), "leader %s %ld %ld", topic, part, broker);
    reply_result(rd_kafka_mock_partition_set_leader(m->mc, topic, (int32_t)part,
                                                    (int32_t)broker),
                 what);
}

static void cmd_coordinator(mock_t *m, const char *type, const char *key,
                            const char *broker_arg)
{
    long broker;
    if (strcmp(type, "group") != 0 && strcmp(type, "transaction") != 0) {
        reply("err coordinator type must be group or transaction, not '%s'", type);
        return;
    }
    if (parse_int(broker_arg, 1, m->brokers, &broker) != 0) {
        reply("err bad broker id '%s' (1..%d)", broker_arg, m->brokers);
        return;
    }
    char what[LINE_MAX_LEN + 64];
    snprintf(what, sizeof(what), "coordinator %s %s %ld", type, key, broker);
    reply_result(rd_kafka_mock_coordinator_set(m->mc, type, key, (int32_t)broker), what);
}

/* Splits line in place on blanks; returns the number of words. */
static int split_words(char *line, char **argv, int max)
{
    int argc = 0;
    char *save;
    for (char *tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
        if (argc == max) return max + 1; /* too many: callers reject */
        argv[argc++] = tok;
    }
    return argc;
}

static int is(const char *a, const char *b) { return strcmp(a, b) == 0; }

static void handle_line(mock_t *m, char *line)
{
    char *argv[MAX_ARGS];
    int argc = split_words(line, argv, MAX_ARGS);
    if (argc == 0) return; /* blank lines are ignored, not answered */
    if (argc > MAX_ARGS) {
        reply("err too many words");
        return;
    }
    const char *c = argv[0];
    int n = argc - 1;

    if (is(c, "broker") && n == 2)
        cmd_broker_state(m, argv[1], argv[2]);
    else if (is(c, "all") && n == 1)
        cmd_broker_state(m, argv[1], "all");
    else if (is(c, "rtt") && n == 2)
        cmd_rtt(m, argv[1], argv[2]);
    else if (is(c, "error") && n == 3)
        cmd_error(m, argv + 1);
    else if (is(c, "broker-error") && (n == 4 || n == 5))
        cmd_broker_error(m, argv + 1, n);
    else if (is(c, "clear") && n <= 1)
        cmd_clear(m, argv + 1, n);
    else if (is(c, "topic-error") && n == 2)
        cmd_topic_error(m, argv[1], argv[2]);
    else if (is(c, "create") && n == 2)
        cmd_create(m, argv[1], argv[2]);
    else if (is(c, "leader") && n == 3)
        cmd_leader(m, argv[1], argv[2], argv[3]);
    else if (is(c, "coordinator") && n == 3)
        cmd_coordinator(m, argv[1], argv[2], argv[3]);
    else if (is(c, "bootstrap") && n == 0)
        reply("ok %s", m->bootstrap);
    else if (is(c, "help") && n == 0)
        reply("ok %s", help_text);
    else
        reply("err unknown command or wrong arguments: '%s' (try help)", c);
    settle();
}

/* ---------------------------------------------------------------- stdin */

typedef struct {
    char buf[LINE_MAX_LEN];
    size_t len;
    int discarding; /* inside an over-long line, dropping until '\n' */
} line_reader_t;

/* Reads what stdin has and runs every complete line.
 * Returns 1 at EOF, 0 otherwise (including transient errors). */
static int pump_stdin(mock_t *m, line_reader_t *r)
{
    char chunk[512];
    ssize_t got = read(STDIN_FILENO, chunk, sizeof(chunk));
    if (got == 0) return 1;
    if (got < 0) {
        if (errno == EINTR || errno == EAGAIN) return 0;
        log_error("reading stdin: %s", strerror(errno));
        return 1; /* cannot receive commands any more: treat as EOF */
    }
    for (ssize_t i = 0; i < got; i++) {
        char ch = chunk[i];
        if (ch == '\n') {
            if (r->discarding) {
                reply("err line longer than %d bytes", LINE_MAX_LEN - 1);
            } else {
                r->buf[r->len] = '\0';
                handle_line(m, r->buf);
            }
            r->len = 0;
            r->discarding = 0;
        } else if (!r->discarding) {
            if (r->len == sizeof(r->buf) - 1)
                r->discarding = 1;
            else
                r->buf[r->len++] = ch;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- startup */

static void usage(void)
{
    static const char text[] =
        "usage: shoal-mock-kafka [--brokers N] [--topic NAME:PARTS ...]\n"
        "                        [--replication N] [--bootstrap-file FILE]\n"
        "Prints the bootstrap servers on stdout, then reads control commands\n"
        "on stdin (send 'help'). Exits on SIGTERM/SIGINT or stdin EOF.\n";
    write_all(STDERR_FILENO, text, sizeof(text) - 1);
}

static int parse_topic_spec(const char *arg, topic_spec_t *out, char *name_buf, size_t cap)
{
    const char *colon = strrchr(arg, ':');
    long parts;
    if (!colon || colon == arg || (size_t)(colon - arg) >= cap ||
        parse_int(colon + 1, 1, MAX_PARTITIONS, &parts) != 0)
        return -1;
    memcpy(name_buf, arg, (size_t)(colon - arg));
    name_buf[colon - arg] = '\0';
    out->name = name_buf;
    out->partitions = (int)parts;
    return 0;
}

static int parse_args(int argc, char **argv, options_t *o)
{
    long v;
    int replication_set = 0;
    o->brokers = 3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (is(a, "--help") || is(a, "-h")) {
            usage();
            return 1;
        }
        if (!val) {
            log_error("missing value for %s", a);
            return -1;
        }
        i++;
        if (is(a, "--brokers")) {
            if (parse_int(val, 1, MAX_BROKERS, &v) != 0) {
                log_error("bad --brokers '%s' (1..%d)", val, MAX_BROKERS);
                return -1;
            }
            o->brokers = (int)v;
        } else if (is(a, "--replication")) {
            if (parse_int(val, 1, MAX_BROKERS, &v) != 0) {
                log_error("bad --replication '%s'", val);
                return -1;
            }
            o->replication = (int)v;
            replication_set = 1;
        } else if (is(a, "--topic")) {
            if (o->ntopics == MAX_TOPICS) {
                log_error("too many --topic (max %d)", MAX_TOPICS);
                return -1;
            }
            if (parse_topic_spec(val, &o->topics[o->ntopics], topic_names[o->ntopics],
                                 sizeof(topic_names[0])) != 0) {
                log_error("bad --topic '%s' (want NAME:PARTS, PARTS 1..%d)", val,
                          MAX_PARTITIONS);
                return -1;
            }
            o->ntopics++;
        } else if (is(a, "--bootstrap-file")) {
            o->bootstrap_file = val;
        } else {
            log_error("unknown option %s", a);
            return -1;
        }
    }
    /* Like a small real cluster: replicate up to 3 ways. */
    if (!replication_set) o->replication = o->brokers < 3 ? o->brokers : 3;
    if (o->replication > o->brokers) {
        log_error("--replication %d exceeds --brokers %d", o->replication, o->brokers);
        return -1;
    }
    return 0;
}

/* librdkafka logs (from its own threads) go through our one-line logger. */
static void rk_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    log_level_t lvl = level <= 3 ? LOG_ERROR : level == 4 ? LOG_WARN
                    : level <= 6 ? LOG_INFO : LOG_DEBUG;
    /* The handle only hosts the mock and never connects anywhere, so its
     * "no bootstrap.servers" configuration warning is expected noise. */
    if (strcmp(fac, "CONFWARN") == 0) lvl = LOG_DEBUG;
    if (LOG_ENABLED(lvl)) log_kv(lvl, buf, "source", "librdkafka", "facility", fac, NULL);
}

static rd_kafka_t *new_handle(void)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, rk_log);
    if (rd_kafka_conf_set(conf, "client.id", "shoal-mock-kafka", errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
        log_error("librdkafka config: %s", errstr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    /* On success rd_kafka_new takes ownership of conf; on failure we keep it. */
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        log_error("cannot create librdkafka handle: %s", errstr);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: poll() returns EINTR so the flag is seen at once. */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* A vanished reader must show up as a write error, not kill us. */
    signal(SIGPIPE, SIG_IGN);
}

static int serve(mock_t *m, rd_kafka_t *rk)
{
    line_reader_t reader = {.len = 0, .discarding = 0};
    struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
    while (!stop_signal) {
        rd_kafka_poll(rk, 0); /* serve any queued librdkafka events */
        int r = poll(&pfd, 1, POLL_MS);
        if (r < 0) {
            if (errno == EINTR) continue;
            log_error("poll(stdin): %s", strerror(errno));
            return 1;
        }
        if (r > 0 && pump_stdin(m, &reader)) {
            log_info("stdin closed, shutting down");
            return 0;
        }
    }
    log_info("received %s, shutting down", stop_signal == SIGTERM ? "SIGTERM" : "SIGINT");
    return 0;
}

int main(int argc, char **argv)
{
    options_t opt;
    memset(&opt, 0, sizeof(opt));
    log_set_component("mock-kafka");

    int pr = parse_args(argc, argv, &opt);
    if (pr != 0) {
        if (pr < 0) usage();
        return pr < 0 ? 2 : 0;
    }

    /* Block the stop signals while librdkafka starts its threads so they
     * inherit the mask and every SIGTERM/SIGINT lands on the main thread,
     * interrupting poll() at once. */
    sigset_t stopset, oldset;
    sigemptyset(&stopset);
    sigaddset(&stopset, SIGTERM);
    sigaddset(&stopset, SIGINT);
    install_signals();
    pthread_sigmask(SIG_BLOCK, &stopset, &oldset);

    int rc = 1;
    rd_kafka_t *rk = new_handle();
    rd_kafka_mock_cluster_t *mc = rk ? rd_kafka_mock_cluster_new(rk, opt.brokers) : NULL;
    pthread_sigmask(SIG_SETMASK, &oldset, NULL);
    if (!mc) {
        if (rk) log_error("cannot create mock cluster with %d brokers", opt.brokers);
        goto out;
    }

    mock_t m = {.mc = mc, .brokers = opt.brokers, .replication = opt.replication,
                .bootstrap = rd_kafka_mock_cluster_bootstraps(mc)};
    for (int i = 0; i < opt.ntopics; i++) {
        rd_kafka_resp_err_t err = create_topic(&m, opt.topics[i].name, opt.topics[i].partitions);
        settle();
        if (err) {
            log_error("cannot create topic %s: %s", opt.topics[i].name, rd_kafka_err2str(err));
            goto out;
        }
    }
    if (opt.bootstrap_file && write_bootstrap_file(opt.bootstrap_file, m.bootstrap) != 0)
        goto out;

    log_info("mock cluster up: %d brokers at %s", opt.brokers, m.bootstrap);
    reply("%s", m.bootstrap);
    rc = serve(&m, rk);

out:
    if (mc) rd_kafka_mock_cluster_destroy(mc);
    if (rk) rd_kafka_destroy(rk);
    if (rc) log_error("exiting with status %d", rc);
    return rc;
}

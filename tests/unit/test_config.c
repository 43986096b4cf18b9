/* Unit tests for config_reload() (common/config.c): the SIGHUP re-read with
 * startup's precedence, what is applied, what needs a restart, and that a
 * failed reload keeps everything; and how the "topics" setting is read
 * (kafka_topics_parse). */
#include "../test.h"
#include "config.h"
#include "kafka.h"
#include "log.h"

#include <stdlib.h>
#include <unistd.h>

static char path[64];

static void write_conf(const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

/* The origin config_dump() reports for one setting. */
static int origin_is(const config_t *c, const char *name, const char *want)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    config_dump(c, f);
    fclose(f);
    char needle[128];
    snprintf(needle, sizeof(needle), "\n%s = ", name);
    const char *at = strstr(text, needle);
    const char *hash = at ? strstr(at, "  # ") : NULL;
    int ok = hash && strncmp(hash + 4, want, strlen(want)) == 0;
    free(text);
    return ok;
}

/* The "topics" setting: each topic once, in order, blanks dropped. */
static void test_topics_parse(void)
{
    rd_kafka_topic_partition_list_t *l = kafka_topics_parse(" events , news,events,, news ,\tb\t");
    ASSERT_TRUE(l != NULL);
    if (!l) return;
    ASSERT_INT_EQ(l->cnt, 3);
    const char *want[] = {"events", "news", "b"};
    for (int i = 0; i < l->cnt && i < 3; i++) {
        ASSERT_TRUE(strcmp(l->elems[i].topic, want[i]) == 0);
        ASSERT_INT_EQ(l->elems[i].partition, RD_KAFKA_PARTITION_UA);
    }
    rd_kafka_topic_partition_list_destroy(l);
    l = kafka_topics_parse(" , ");
    ASSERT_TRUE(l != NULL && l->cnt == 0);
    if (l) rd_kafka_topic_partition_list_destroy(l);
}

int main(void)
{
    snprintf(path, sizeof(path), "/tmp/shoal_test_conf_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return 1;
    close(fd);
    setenv("SHOAL_RETRY_BACKOFF_MS", "500", 1);
    char err[512];
    config_reload_t r;

    write_conf("batch.size = 10\nlog.level = info\ngroup = g1\nretry.backoff.ms = 300\n"
               "kafka.client.id = a\n");
    config_t *c = config_new(CFG_CONSUMER);
    const config_flag_t flags[] = {{"batch.timeout.ms", "300"}, {"", "trend.refresh.ms=2000"}};
    ASSERT_INT_EQ(config_load_with_flags(c, path, flags, 2, err, sizeof(err)), 0);
    ASSERT_INT_EQ(config_int(c, "batch.size"), 10);

    /* Nothing changed: nothing applied, nothing to restart. */
    ASSERT_INT_EQ(config_reload(c, path, flags, 2, &r, err, sizeof(err)), 0);
    ASSERT_INT_EQ(r.applied, 0);
    ASSERT_INT_EQ(r.restart, 0);

    /* Reloadable changes are applied; the flags and the environment still
     * win over the file; group and a librdkafka property need a restart. */
    write_conf("batch.size = 20\nbatch.timeout.ms = 999\nlog.level = warn\ngroup = g2\n"
               "retry.backoff.ms = 400\nkafka.client.id = b\nretry.backoff.max.ms = 7000\n");
    ASSERT_INT_EQ(config_reload(c, path, flags, 2, &r, err, sizeof(err)), 0);
    ASSERT_INT_EQ(r.applied, 3); /* batch.size, log.level, retry.backoff.max.ms */
    ASSERT_INT_EQ(r.restart, 2); /* group, kafka.client.id */
    ASSERT_INT_EQ(config_int(c, "batch.size"), 20);
    ASSERT_INT_EQ(config_int(c, "retry.backoff.max.ms"), 7000);
    ASSERT_TRUE(origin_is(c, "retry.backoff.max.ms", path));
    ASSERT_INT_EQ(config_int(c, "batch.timeout.ms"), 300);
    ASSERT_INT_EQ(config_int(c, "trend.refresh.ms"), 2000);
    ASSERT_INT_EQ(config_int(c, "retry.backoff.ms"), 500);
    ASSERT_STR_EQ(config_str(c, "group"), "g1");
    ASSERT_STR_EQ(config_str(c, "log.level"), "warn");
    ASSERT_INT_EQ(log_min_level, LOG_WARN);
    const char *k, *v;
    config_kafka_get(c, config_kafka_count(c) - 1, &k, &v);
    ASSERT_STR_EQ(v, "a");

    /* An unknown key fails the reload as file:line and keeps everything,
     * the logger too, though the file set log.level before the bad line. */
    write_conf("log.level = debug\nbatch.size = 30\nbatch.sise = 5\n");
    ASSERT_INT_EQ(config_reload(c, path, flags, 2, &r, err, sizeof(err)), -1);
    ASSERT_TRUE(strstr(err, ":3: unknown setting \"batch.sise\"") != NULL);
    ASSERT_INT_EQ(config_int(c, "batch.size"), 20);
    ASSERT_STR_EQ(config_str(c, "log.level"), "warn");
    ASSERT_INT_EQ(log_min_level, LOG_WARN);

    /* So does an unreadable file. */
    char gone[80];
    snprintf(gone, sizeof(gone), "%s.missing", path);
    ASSERT_INT_EQ(config_reload(c, gone, flags, 2, &r, err, sizeof(err)), -1);
    ASSERT_TRUE(strstr(err, "No such file") != NULL);
    ASSERT_INT_EQ(config_int(c, "retry.backoff.max.ms"), 7000);

    /* A bad optional value falls back as at startup: the value below it
     * (here the default) is the one applied. */
    write_conf("batch.size = many\nlog.level = warn\ngroup = g1\nkafka.client.id = a\n");
    ASSERT_INT_EQ(config_reload(c, path, flags, 2, &r, err, sizeof(err)), 0);
    ASSERT_INT_EQ(config_int(c, "batch.size"), 2000);
    ASSERT_INT_EQ(config_int(c, "retry.backoff.max.ms"), 10000);
    ASSERT_INT_EQ(r.applied, 2);
    ASSERT_INT_EQ(r.restart, 0);

    /* Only this program's settings count: the producer ignores the
     * consumer's batch.size and group. */
    /* kafka.timeout.ms is a setting of the table, not the librdkafka
     * property timeout.ms. */
    size_t nk = config_kafka_count(c);
    ASSERT_INT_EQ(config_set(c, "kafka.timeout.ms", "7000", "flag", err, sizeof(err)), 0);
    ASSERT_INT_EQ(config_int(c, "kafka.timeout.ms"), 7000);
    ASSERT_INT_EQ(config_kafka_count(c), nk);
    ASSERT_INT_EQ(config_set(c, "kafka.socket.timeout.ms", "7000", "flag", err, sizeof(err)), 0);
    ASSERT_INT_EQ(config_kafka_count(c), nk + 1);

    config_t *p = config_new(CFG_PRODUCER);
    ASSERT_INT_EQ(config_load_with_flags(p, path, NULL, 0, err, sizeof(err)), 0);
    write_conf("batch.size = 7\nlog.level = warn\ngroup = g9\nkafka.client.id = a\n");
    ASSERT_INT_EQ(config_reload(p, path, NULL, 0, &r, err, sizeof(err)), 0);
    ASSERT_INT_EQ(r.applied + r.restart, 0);

    config_destroy(p);
    config_destroy(c);
    unlink(path);
    test_topics_parse();
    return TEST_DONE();
}

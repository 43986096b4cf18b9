#include "kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static void kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    log_level_t lv = level <= 3 ? LOG_ERROR : level <= 4 ? LOG_WARN : level <= 6 ? LOG_INFO : LOG_DEBUG;
    /* One -X list configures every client of the process (kcat style), so a
     * consumer property reaching the dead-letter producer is expected. */
    if (strstr(buf, "property and will be ignored by this")) lv = LOG_DEBUG;
    if (!LOG_ENABLED(lv)) return;
    log_kv(lv, buf, "facility", fac, "from", "librdkafka", NULL);
}

static int set_prop(rd_kafka_conf_t *conf, rd_kafka_topic_conf_t **tconf, const char *key,
                    const char *val, char *err, size_t errlen)
{
    char e[512];
    if (strncmp(key, "topic.", 6) == 0) {
        if (!*tconf) *tconf = rd_kafka_topic_conf_new();
        if (rd_kafka_topic_conf_set(*tconf, key + 6, val, e, sizeof(e)) != RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "kafka property %s: %s", key, e);
            return -1;
        }
        return 0;
    }
    if (rd_kafka_conf_set(conf, key, val, e, sizeof(e)) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "kafka property %s: %s", key, e);
        return -1;
    }
    return 0;
}

rd_kafka_conf_t *kafka_conf_new(const config_t *cfg, const char *const *defaults, char *err,
                                size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_topic_conf_t *tconf = NULL;
    rd_kafka_conf_set_log_cb(conf, kafka_log);
    if (set_prop(conf, &tconf, "bootstrap.servers", config_str(cfg, "brokers"), err, errlen) != 0)
        goto fail;
    for (const char *const *d = defaults; d && d[0]; d += 2)
        if (set_prop(conf, &tconf, d[0], d[1], err, errlen) != 0) goto fail;
    for (size_t i = 0; i < config_kafka_count(cfg); i++) {
        const char *k, *v;
        config_kafka_get(cfg, i, &k, &v);
        if (set_prop(conf, &tconf, k, v, err, errlen) != 0) goto fail;
    }
    if (tconf) rd_kafka_conf_set_default_topic_conf(conf, tconf);
    return conf;
fail:
    if (tconf) rd_kafka_topic_conf_destroy(tconf);
    rd_kafka_conf_destroy(conf);
    return NULL;
}

rd_kafka_topic_partition_list_t *kafka_topics_parse(const char *csv)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
    char *copy = strdup(csv ? csv : ""), *save = NULL;
    if (!l || !copy) {
        if (l) rd_kafka_topic_partition_list_destroy(l);
        free(copy);
        return NULL;
    }
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        t += strspn(t, " \t");
        size_t n = strlen(t);
        while (n && (t[n - 1] == ' ' || t[n - 1] == '\t')) t[--n] = '\0';
        if (n && !rd_kafka_topic_partition_list_find(l, t, RD_KAFKA_PARTITION_UA))
            rd_kafka_topic_partition_list_add(l, t, RD_KAFKA_PARTITION_UA);
    }
    free(copy);
    return l;
}

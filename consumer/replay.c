#include "replay.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka.h"
#include "log.h"

/* Active members of the group, or -1 when the broker cannot tell. */
static int group_members(rd_kafka_t *rk, const char *group, int timeout_ms)
{
    const struct rd_kafka_group_list *gl = NULL;
    if (rd_kafka_list_groups(rk, group, &gl, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
    int members = 0;
    for (int i = 0; i < gl->group_cnt; i++)
        if (strcmp(gl->groups[i].group, group) == 0) members += gl->groups[i].member_cnt;
    rd_kafka_group_list_destroy(gl);
    return members;
}

int replay_reset_offsets(const config_t *cfg, store_t *store, const replay_opts_t *o, char *err,
                         size_t errlen)
{
    int timeout = (int)config_int(cfg, "kafka.timeout.ms");
    const char *defaults[] = {"group.id", o->group, "enable.auto.commit", "false", NULL};
    rd_kafka_conf_t *conf = kafka_conf_new(cfg, defaults, err, errlen);
    if (!conf) return -1;
    char e[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof(e));
    if (!rk) {
        snprintf(err, errlen, "kafka client: %s", e);
        return -1;
    }
    int rc = -1;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(16);
    store_offset_t *offs = NULL;

    int members = group_members(rk, o->group, timeout);
    if (members > 0) {
        snprintf(err, errlen, "group %s has %d active members; stop them first (or replay --to-group NEW)",
                 o->group, members);
        goto out;
    }
    if (members < 0)
        log_kv(LOG_WARN, "the broker cannot list group members; replaying anyway (a live member can "
               "only make the replay incomplete, never lose or duplicate rows)", "group", o->group, NULL);

    rd_kafka_topic_partition_list_t *topics = kafka_topics_parse(config_str(cfg, "topics"));
    if (!topics) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (int i = 0; i < topics->cnt; i++) {
        const char *t = topics->elems[i].topic;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, t, NULL);
        const rd_kafka_metadata_t *md = NULL;
        rd_kafka_resp_err_t me = rd_kafka_metadata(rk, 0, rkt, &md, timeout);
        if (me == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1)
            for (int p = 0; p < md->topics[0].partition_cnt; p++)
                rd_kafka_topic_partition_list_add(parts, t, md->topics[0].partitions[p].id);
        if (md) rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        if (me) {
            snprintf(err, errlen, "metadata for topic %s: %s", t, rd_kafka_err2str(me));
            rd_kafka_topic_partition_list_destroy(topics);
            goto out;
        }
    }
    rd_kafka_topic_partition_list_destroy(topics);
    if (parts->cnt == 0) {
        snprintf(err, errlen, "setting \"topics\" names no partition");
        goto out;
    }

    if (o->mode == REPLAY_FROM_TIMESTAMP) {
        for (int i = 0; i < parts->cnt; i++) parts->elems[i].offset = o->timestamp_ms;
        rd_kafka_resp_err_t te = rd_kafka_offsets_for_times(rk, parts, timeout);
        if (te) {
            snprintf(err, errlen, "offsets for time: %s", rd_kafka_err2str(te));
            goto out;
        }
    }
    offs = calloc((size_t)parts->cnt, sizeof(*offs));
    if (!offs) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        int64_t lo, hi;
        rd_kafka_resp_err_t we = rd_kafka_query_watermark_offsets(rk, tp->topic, tp->partition, &lo, &hi, timeout);
        if (we) {
            snprintf(err, errlen, "watermarks of %s/%" PRId32 ": %s", tp->topic, tp->partition, rd_kafka_err2str(we));
            goto out;
        }
        /* offsets_for_times answers -1 when no message is at or after the
         * time: then there is nothing to replay in that partition. */
        int64_t at = o->mode == REPLAY_FROM_TIMESTAMP ? (tp->offset >= 0 ? tp->offset : hi) : lo;
        tp->offset = at;
        offs[i] = (store_offset_t){tp->topic, tp->partition, at};
        char p[16], from[24];
        snprintf(p, sizeof(p), "%" PRId32, tp->partition);
        snprintf(from, sizeof(from), "%" PRId64, at);
        log_kv(LOG_INFO, "replay position", "group", o->group, "topic", tp->topic, "partition", p,
               "next_offset", from, NULL);
    }
    if (store_offsets_reset(store, o->group, offs, (size_t)parts->cnt, err, errlen) != STORE_OK) goto out;
    /* The Kafka mirror follows; lag tools then show the replay's backlog. */
    rd_kafka_resp_err_t ce = rd_kafka_commit(rk, parts, 0);
    if (ce) log_kv(LOG_WARN, "mirroring replay offsets to Kafka failed", "error", rd_kafka_err2str(ce), NULL);
    rc = 0;
out:
    free(offs);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

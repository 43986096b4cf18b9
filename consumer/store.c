#include "store.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "buf.h"
#include "clock.h"
#include "fault.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "embedded.h"

/* Arbitrary constant: the advisory lock that serialises migrations. */
#define MIGRATION_LOCK_KEY "7385610301"
/* Another: the one that serialises clustering decisions across instances. */
#define CLUSTER_LOCK_KEY "7385610302"
/* And one that consumers hold shared, a rebuild exclusively. */
#define REBUILD_LOCK_KEY "7385610303"
/* Client-side grace on top of statement_timeout before we give up on the
 * server and cancel: covers a server that stopped answering altogether. */
#define CLIENT_GRACE_MS 5000

struct store {
    char *conninfo;
    char connect_timeout[16];
    char options[192];
    char *appname;
    long statement_timeout_ms;
    PGconn *conn;
    int lost;           /* the last connection broke, or none could be made */
    char sqlstate[6];
    int timeout_streak; /* batch writes ended by statement timeouts in a row */
    int rebuild_guard;  /* every connection holds the rebuild lock shared */
    int rebuild_locked; /* this connection holds it exclusively (a rebuild) */
    int cluster_held;   /* this session holds the clustering lock (store_cluster_lock) */
    const atomic_int *cancel; /* set by another thread: stop (store_set_cancel_flag) */
    buf_t copy;
};

static int rebuild_guard_take(store_t *s, char *err, size_t errlen);

/* The commutative cluster writes, one text for every statement that makes
 * them: a cluster's increment from the rows of ROWS (cluster_id,
 * published_at, title; $1 = the writing instance), as a CTE named cl.
 * Terms already staged in cluster_stage for a live cluster go into the
 * same row version (CLUSTER_TERMS_SET then finds them written): one new
 * version per cluster a batch touches instead of two. No terms staged (an
 * empty array) leaves the cluster's as they are. */
#define CLUSTERS_UPSERT_FROM(rows)                                                                  \
    "cl AS (INSERT INTO clusters (id, docs, first_seen, last_seen, label, updated_by, version, "    \
    "terms, weights) SELECT g.cluster_id, g.docs, g.first_seen, g.last_seen, g.label, $1, "         \
    "nextval('cluster_version'), coalesce(st.terms, '{}'), coalesce(st.weights, '{}') FROM "        \
    "(SELECT cluster_id, count(*) AS docs, min(published_at) AS first_seen, max(published_at) AS "  \
    "last_seen, min(title) AS label FROM " rows " WHERE cluster_id IS NOT NULL GROUP BY cluster_id) " \
    "g LEFT JOIN cluster_stage st ON st.cluster_id = g.cluster_id "                                 \
    "ON CONFLICT (id) DO UPDATE SET docs = clusters.docs + EXCLUDED.docs, "                         \
    "first_seen = LEAST(clusters.first_seen, EXCLUDED.first_seen), "                                \
    "last_seen = GREATEST(clusters.last_seen, EXCLUDED.last_seen), "                                \
    "terms = CASE WHEN clusters.merged_into IS NULL AND cardinality(EXCLUDED.terms) > 0 "          \
    "THEN EXCLUDED.terms ELSE clusters.terms END, "                                                 \
    "weights = CASE WHEN clusters.merged_into IS NULL AND cardinality(EXCLUDED.terms) > 0 "        \
    "THEN EXCLUDED.weights ELSE clusters.weights END, "                                             \
    "updated_by = EXCLUDED.updated_by, updated_at = now(), version = EXCLUDED.version)"
/* An event's cluster: events.cluster_id is the cluster it joined, and a
 * merge leaves it there and points the absorbed cluster at its survivor.
 * merged_into is always a live cluster (a merge repoints the clusters
 * merged into the one it absorbs), so one hop resolves it: CLUSTER_LIVE(m)
 * for the clusters row m of an event's cluster_id, CLUSTER_MEMBERS(id) for
 * the cluster ids whose events belong to the live cluster id. The view
 * event_clusters (schema/007) is the same rule for queries by hand. */
#define CLUSTER_LIVE(m) "coalesce(" m ".merged_into, " m ".id)"
#define CLUSTER_MEMBERS(id) "(SELECT id FROM clusters WHERE id = " id " OR merged_into = " id ")"
/* The terms staged in cluster_stage replace their clusters' (live ones:
 * the terms of a cluster merged away meanwhile are out of date) where the
 * batch's CLUSTERS_UPSERT_FROM has not written them already (a merge's
 * survivor without events of its own in the batch); like every cluster
 * write, it takes the next version ($1 = the writing instance). */
#define CLUSTER_TERMS_SET                                                                            \
    "UPDATE clusters c SET terms = s.terms, weights = s.weights, updated_by = $1, updated_at = now(), " \
    "version = nextval('cluster_version') FROM cluster_stage s WHERE c.id = s.cluster_id "           \
    "AND c.merged_into IS NULL AND (c.terms, c.weights) IS DISTINCT FROM (s.terms, s.weights)"

/* The columns of an events row, in the order row_values() fills them. */
#define EVENT_COLUMNS                                                                              \
    "id, kind, source, url, title, body, published_at, crawled_at, lang, repo, tags, "            \
    "kafka_topic, kafka_partition, kafka_offset, extraction, extracted_by, extractor_version, "  \
    "cluster_id, fetch_status, cluster_seq"

store_t *store_new(const char *conninfo, int connect_timeout_s, long statement_timeout_ms,
                   const char *application_name)
{
    store_t *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->conninfo = strdup(conninfo);
    s->appname = strdup(application_name);
    if (!s->conninfo || !s->appname) {
        store_destroy(s);
        return NULL;
    }
    snprintf(s->connect_timeout, sizeof(s->connect_timeout), "%d", connect_timeout_s);
    /* No JIT: the trend query's estimate passes the JIT threshold, so every
     * computation compiled it again, and a batch's short statements can
     * pass it too as their estimates grow (staging tables without
     * statistics, set-returning functions): one variant spent 28 ms of 73
     * compiling. Keepalives and a send timeout on the server's side too:
     * a consumer whose host vanishes without closing its connections (a
     * node lost) would otherwise keep its session, and with it the
     * clustering lock every other instance waits for, until the system
     * defaults give up (two hours idle, ~15 minutes of retransmissions on
     * Linux); this way it goes after about 30 s. */
    snprintf(s->options, sizeof(s->options),
             "-c statement_timeout=%ld -c jit=off -c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 "
             "-c tcp_keepalives_count=3 -c tcp_user_timeout=30000",
             statement_timeout_ms);
    s->statement_timeout_ms = statement_timeout_ms;
    return s;
}

void store_destroy(store_t *s)
{
    if (!s) return;
    if (s->conn) PQfinish(s->conn);
    free(s->conninfo);
    free(s->appname);
    buf_free(&s->copy);
    free(s);
}

static int store_connected(const store_t *s) { return s->conn && PQstatus(s->conn) == CONNECTION_OK; }
int store_reachable(const store_t *s) { return !s->lost; }
void store_set_cancel_flag(store_t *s, const atomic_int *flag) { s->cancel = flag; }
static int cancelled(const store_t *s) { return s->cancel && atomic_load(s->cancel); }
const char *store_last_sqlstate(const store_t *s) { return s->sqlstate; }

/* Until the next connect succeeds, s is not reachable. */
static void drop_connection(store_t *s)
{
    if (s->conn) PQfinish(s->conn);
    s->conn = NULL;
    s->lost = 1;
    s->cluster_held = 0; /* a session lock ends with its session */
}

/* Waits for the next result within the deadline. On a timeout, or when
 * the cancel flag is set, the query is cancelled and the connection
 * dropped (its state is unknown). */
static PGresult *wait_result(store_t *s, long deadline)
{
    long slice = s->cancel ? STORE_CANCEL_POLL_MS : 1000;
    while (PQisBusy(s->conn)) {
        long left = deadline - clock_monotonic_ms();
        int stop = cancelled(s);
        if (left <= 0 || stop) {
            PGcancel *c = PQgetCancel(s->conn);
            char e[256];
            if (c) {
                PQcancel(c, e, sizeof(e));
                PQfreeCancel(c);
            }
            if (!stop) log_kv(LOG_WARN, "database did not answer in time; dropping the connection", NULL);
            drop_connection(s);
            return NULL;
        }
        struct pollfd pfd = {PQsocket(s->conn), POLLIN, 0};
        int r = poll(&pfd, 1, (int)(left > slice ? slice : left));
        if (r < 0 && errno != EINTR) {
            drop_connection(s);
            return NULL;
        }
        if (r > 0 && !PQconsumeInput(s->conn)) {
            drop_connection(s);
            return NULL;
        }
    }
    return PQgetResult(s->conn);
}

/* Collects every result of the current command and returns the last one
 * (errors win over later NULL terminators). Stops at COPY IN. */
static PGresult *finish_command(store_t *s, long deadline)
{
    PGresult *last = NULL;
    for (;;) {
        if (!s->conn) break;
        PGresult *r = wait_result(s, deadline);
        if (!r) break;
        ExecStatusType st = PQresultStatus(r);
        if (last) {
            if (PQresultStatus(last) == PGRES_FATAL_ERROR) {
                PQclear(r);
                continue;
            }
            PQclear(last);
        }
        last = r;
        if (st == PGRES_COPY_IN) break;
    }
    return last;
}

/* Records the outcome of a result: 0 when it has status ok, else -1 with
 * sqlstate and err set. Clears r unless keep. */
static int check(store_t *s, PGresult *r, ExecStatusType ok, char *err, size_t errlen, int keep)
{
    if (r && PQresultStatus(r) == ok) {
        if (!keep) PQclear(r);
        return 0;
    }
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    snprintf(s->sqlstate, sizeof(s->sqlstate), "%s", state ? state : "");
    char cls[3] = "";
    snprintf(cls, sizeof(cls), "%s", state ? state : "");
    const char *label[] = {cls[0] ? cls : "none"};
    metrics_add(METRIC_PG_ERRORS, label, 1);
    const char *msg = r ? PQresultErrorMessage(r) : (s->conn ? PQerrorMessage(s->conn) : "");
    snprintf(err, errlen, "%s", msg && *msg ? msg : "connection lost");
    size_t n = strlen(err);
    while (n && (err[n - 1] == '\n' || err[n - 1] == ' ')) err[--n] = '\0';
    if (r) PQclear(r);
    if (s->conn && PQstatus(s->conn) != CONNECTION_OK) drop_connection(s);
    return -1;
}

/* Sends one parameterised statement; 0, or -1 (no connection, or it broke). */
static int send_params(store_t *s, const char *sql, int n, const char *const *params)
{
    return s->conn && PQsendQueryParams(s->conn, sql, n, NULL, params, NULL, NULL, 0) ? 0 : -1;
}

/* Waits for the statement sent, within the statement timeout. */
static PGresult *finish_statement(store_t *s)
{
    return s->conn ? finish_command(s, clock_monotonic_ms() + s->statement_timeout_ms + CLIENT_GRACE_MS) : NULL;
}

/* Runs one parameterised statement within the deadline. */
static PGresult *exec_params(store_t *s, const char *sql, int n, const char *const *params)
{
    return send_params(s, sql, n, params) == 0 ? finish_statement(s) : NULL;
}

static int exec_ok(store_t *s, const char *sql, int n, const char *const *params, char *err,
                   size_t errlen)
{
    PGresult *r = exec_params(s, sql, n, params);
    ExecStatusType want = PGRES_COMMAND_OK;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK) want = PGRES_TUPLES_OK;
    return check(s, r, want, err, errlen, 0);
}

/* Multi-statement text from our own migration files; takes no parameters. */
static int exec_script(store_t *s, const char *sql, char *err, size_t errlen)
{
    if (!s->conn || !PQsendQuery(s->conn, sql)) return check(s, NULL, PGRES_COMMAND_OK, err, errlen, 0);
    PGresult *r = finish_statement(s);
    ExecStatusType want = r && PQresultStatus(r) == PGRES_TUPLES_OK ? PGRES_TUPLES_OK : PGRES_COMMAND_OK;
    return check(s, r, want, err, errlen, 0);
}

static void rollback(store_t *s)
{
    char e[256];
    if (s->conn && PQtransactionStatus(s->conn) != PQTRANS_IDLE) exec_ok(s, "ROLLBACK", 0, NULL, e, sizeof(e));
}

store_rc_t store_connect(store_t *s, char *err, size_t errlen)
{
    s->sqlstate[0] = '\0';
    if (cancelled(s)) {
        snprintf(err, errlen, "cancelled");
        return STORE_TRANSIENT;
    }
    if (store_connected(s)) return STORE_OK;
    drop_connection(s);
    const char *keys[] = {"dbname", "connect_timeout", "options", "application_name",
                          "keepalives", "keepalives_idle", "keepalives_interval",
                          "keepalives_count", NULL};
    const char *vals[] = {s->conninfo, s->connect_timeout, s->options, s->appname,
                          "1", "10", "5", "3", NULL};
    s->conn = PQconnectdbParams(keys, vals, 1);
    if (!s->conn || PQstatus(s->conn) != CONNECTION_OK) {
        const char *m = s->conn ? PQerrorMessage(s->conn) : "out of memory";
        snprintf(err, errlen, "%s", m);
        size_t n = strlen(err);
        while (n && (err[n - 1] == '\n' || err[n - 1] == ' ')) err[--n] = '\0';
        drop_connection(s);
        return STORE_TRANSIENT;
    }
    if (s->rebuild_guard && rebuild_guard_take(s, err, errlen) != 0) {
        drop_connection(s);
        return STORE_TRANSIENT;
    }
    /* The staging table for COPY lives as long as the connection and empties
     * itself at every commit. */
    if (exec_ok(s,
                "CREATE TEMP TABLE IF NOT EXISTS cluster_stage (cluster_id bigint, terms text[], "
                "weights double precision[]) ON COMMIT DELETE ROWS",
                0, NULL, err, errlen) != 0) {
        drop_connection(s);
        return STORE_TRANSIENT;
    }
    s->lost = 0;
    return STORE_OK;
}

store_rc_t store_migrate(store_t *s, int *applied, char *err, size_t errlen)
{
    *applied = 0;
    if (store_connect(s, err, errlen) != STORE_OK) return STORE_TRANSIENT;
    if (exec_ok(s, "SELECT pg_advisory_lock(" MIGRATION_LOCK_KEY ")", 0, NULL, err, errlen) != 0)
        return STORE_TRANSIENT;
    store_rc_t rc = STORE_OK;
    if (exec_ok(s,
                "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
                0, NULL, err, errlen) != 0) {
        rc = STORE_TRANSIENT;
        goto unlock;
    }
    for (size_t i = 0; i < migrations_count; i++) {
        char ver[16];
        snprintf(ver, sizeof(ver), "%d", migrations[i].version);
        const char *p1[] = {ver};
        PGresult *r = exec_params(s, "SELECT 1 FROM schema_migrations WHERE version = $1", 1, p1);
        if (check(s, r, PGRES_TUPLES_OK, err, errlen, 1) != 0) {
            rc = STORE_TRANSIENT;
            goto unlock;
        }
        int done = PQntuples(r) > 0;
        PQclear(r);
        if (done) continue;
        const char *p2[] = {ver, migrations[i].name};
        if (exec_ok(s, "BEGIN", 0, NULL, err, errlen) != 0 ||
            exec_script(s, migrations[i].sql, err, errlen) != 0 ||
            exec_ok(s, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2, p2,
                    err, errlen) != 0 ||
            exec_ok(s, "COMMIT", 0, NULL, err, errlen) != 0) {
            rollback(s);
            char e2[600];
            snprintf(e2, sizeof(e2), "migration %s: %s", migrations[i].name, err);
            snprintf(err, errlen, "%s", e2);
            rc = STORE_TRANSIENT;
            goto unlock;
        }
        log_kv(LOG_INFO, "migration applied", "migration", migrations[i].name, NULL);
        (*applied)++;
    }
unlock:
    if (s->conn) {
        char e[256];
        exec_ok(s, "SELECT pg_advisory_unlock(" MIGRATION_LOCK_KEY ")", 0, NULL, e, sizeof(e));
    }
    /* Recreate the staging table now that events exists. */
    if (rc == STORE_OK) drop_connection(s);
    return rc;
}

store_rc_t store_offsets_load(store_t *s, const char *group, store_offset_t *offs, size_t n,
                              char *err, size_t errlen)
{
    if (store_connect(s, err, errlen) != STORE_OK) return STORE_TRANSIENT;
    for (size_t i = 0; i < n; i++) {
        char part[16];
        snprintf(part, sizeof(part), "%d", offs[i].partition);
        const char *p[] = {group, offs[i].topic, part};
        PGresult *r = exec_params(s,
                                  "SELECT next_offset FROM kafka_offsets WHERE consumer_group = $1 "
                                  "AND topic = $2 AND partition = $3",
                                  3, p);
        if (check(s, r, PGRES_TUPLES_OK, err, errlen, 1) != 0) return STORE_TRANSIENT;
        offs[i].next_offset = PQntuples(r) > 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
        PQclear(r);
    }
    return STORE_OK;
}

/* The row's values as text, in EVENT_COLUMNS order; NULL for SQL NULL.
 * Strings that need formatting live in scratch (caller frees). */
#define NCOLS 20
typedef struct {
    char pub[40], crawled[40], part[16], off[24], cluster[24], seq[16];
    char *repo, *tags;
} row_scratch_t;

static void row_values(const store_row_t *r, row_scratch_t *sc, const char *vals[NCOLS])
{
    const event_t *ev = r->ev;
    memset(sc, 0, sizeof(*sc));
    if (ev->published_at_us != EVENT_TIME_NONE) event_format_time(ev->published_at_us, sc->pub, sizeof(sc->pub));
    if (ev->crawled_at_us != EVENT_TIME_NONE) event_format_time(ev->crawled_at_us, sc->crawled, sizeof(sc->crawled));
    snprintf(sc->part, sizeof(sc->part), "%d", r->partition);
    snprintf(sc->off, sizeof(sc->off), "%lld", (long long)r->offset);
    snprintf(sc->cluster, sizeof(sc->cluster), "%lld", (long long)r->cluster_id);
    snprintf(sc->seq, sizeof(sc->seq), "%d", r->cluster_seq);
    sc->repo = ev->repo ? json_print_alloc(ev->repo) : NULL;
    sc->tags = ev->tags ? json_print_alloc(ev->tags) : NULL;
    const char *v[NCOLS] = {
        ev->id, ev->kind == EVENT_REPO ? "repo_event" : "article", ev->source, ev->url,
        ev->title, ev->text, sc->pub[0] ? sc->pub : NULL, sc->crawled[0] ? sc->crawled : NULL,
        ev->lang, sc->repo, sc->tags, r->topic, sc->part, sc->off, r->extraction_json,
        r->extracted_by, r->extractor_version, r->cluster_id ? sc->cluster : NULL, r->fetch_status,
        r->cluster_seq ? sc->seq : NULL};
    memcpy(vals, v, sizeof(v));
}

static void row_scratch_free(row_scratch_t *sc)
{
    free(sc->repo);
    free(sc->tags);
}

/* Appends one COPY text-format line. */
static void copy_line(buf_t *b, const char *const *v, int n)
{
    for (int c = 0; c < n; c++) {
        if (c) buf_append(b, "\t", 1);
        if (v[c]) buf_copy_field(b, v[c]);
        else buf_append(b, "\\N", 2);
    }
    buf_append(b, "\n", 1);
}

/* One element of a text[] literal: double-quoted, with " and \\ escaped. */
static void array_literal_item(buf_t *b, const char *item)
{
    buf_append(b, "\"", 1);
    for (const char *p = item;;) {
        size_t n = strcspn(p, "\"\\");
        buf_append(b, p, n);
        if (!p[n]) break;
        buf_append(b, "\\", 1);
        buf_append(b, p + n, 1);
        p += n + 1;
    }
    buf_append(b, "\"", 1);
}

/* A text[] literal of items[0..n). */
static void array_literal(buf_t *b, const char *const *items, size_t n)
{
    buf_append(b, "{", 1);
    for (size_t i = 0; i < n; i++) {
        if (i) buf_append(b, ",", 1);
        array_literal_item(b, items[i]);
    }
    buf_append(b, "}", 1);
}

/* COPY ... FROM STDIN: sql names the table and columns; fill(opaque, i, b)
 * appends line i (or nothing). Data goes out in chunks of about 256 KB:
 * this buffer and libpq's grow to the chunk size, and stay. */
static int copy_in(store_t *s, const char *sql, size_t n, void (*fill)(void *, size_t, buf_t *),
                   void *opaque, char *err, size_t errlen)
{
    long deadline = clock_monotonic_ms() + s->statement_timeout_ms + CLIENT_GRACE_MS;
    if (!PQsendQuery(s->conn, sql)) return check(s, NULL, PGRES_COPY_IN, err, errlen, 0);
    PGresult *r = finish_command(s, deadline);
    if (check(s, r, PGRES_COPY_IN, err, errlen, 0) != 0) return -1;
    buf_t *b = &s->copy;
    buf_reset(b);
    for (size_t i = 0; i < n; i++) {
        fill(opaque, i, b);
        if (b->len >= (1 << 18) || i + 1 == n) {
            if (b->failed || (b->len && PQputCopyData(s->conn, b->data, (int)b->len) != 1)) {
                PQputCopyEnd(s->conn, "client failed");
                snprintf(err, errlen, "COPY failed: %s", b->failed ? "out of memory" : PQerrorMessage(s->conn));
                finish_command(s, deadline);
                return -1;
            }
            buf_reset(b);
        }
    }
    if (PQputCopyEnd(s->conn, NULL) != 1) return check(s, NULL, PGRES_COMMAND_OK, err, errlen, 0);
    r = finish_command(s, deadline);
    return check(s, r, PGRES_COMMAND_OK, err, errlen, 0);
}

/* A row of the batch that store_batch_commit inserts; reextract rows are
 * stored already and get their extraction replaced. */
static int row_is_new(const store_row_t *r) { return !r->rejected && !r->reextract; }

typedef struct {
    const store_row_t *rows;
    size_t n;
} store_events_copy_t;

/* COPY's binary format (documented with COPY): big-endian integers. */
static void be_store(unsigned char *x, uint64_t v, int bytes)
{
    for (int k = 0; k < bytes; k++) x[k] = (unsigned char)(v >> (8 * (bytes - 1 - k)));
}

static void put_be(buf_t *b, uint64_t v, int bytes)
{
    unsigned char x[8];
    be_store(x, v, bytes);
    buf_append(b, x, (size_t)bytes);
}

/* The binary format's header, before the first tuple, and its trailer. */
static void put_copy_header(buf_t *b)
{
    buf_append(b, "PGCOPY\n\377\r\n\0", 11);
    put_be(b, 0, 4); /* flags */
    put_be(b, 0, 4); /* header extension */
}

static void put_copy_trailer(buf_t *b) { put_be(b, 0xFFFF, 2); }

#define FIELD_NULL 0xFFFFFFFFu
#define PG_EPOCH_US 946684800000000LL /* 2000-01-01 in Unix microseconds */

static void put_text(buf_t *b, const char *s)
{
    if (!s) {
        put_be(b, FIELD_NULL, 4);
        return;
    }
    size_t n = strlen(s);
    put_be(b, n, 4);
    buf_append(b, s, n);
}

/* A timestamptz: microseconds since 2000-01-01 UTC. */
static void put_time(buf_t *b, int64_t us)
{
    if (us == EVENT_TIME_NONE) {
        put_be(b, FIELD_NULL, 4);
        return;
    }
    put_be(b, 8, 4);
    put_be(b, (uint64_t)(us - PG_EPOCH_US), 8);
}

/* An int4 or int8 field; 0 is NULL when zero_null. */
static void put_int(buf_t *b, int64_t v, int bytes, int zero_null)
{
    if (zero_null && v == 0) {
        put_be(b, FIELD_NULL, 4);
        return;
    }
    put_be(b, (uint64_t)bytes, 4);
    put_be(b, (uint64_t)v, bytes);
}

/* A jsonb field: format version 1, then the text. */
static void put_jsonb_text(buf_t *b, const char *json)
{
    if (!json) {
        put_be(b, FIELD_NULL, 4);
        return;
    }
    size_t n = strlen(json);
    put_be(b, n + 1, 4);
    buf_append(b, "\1", 1);
    buf_append(b, json, n);
}

/* The same for a cJSON value, printed in place: its length is written once
 * the printing is done. */
static void put_jsonb(buf_t *b, const cJSON *v)
{
    if (!v) {
        put_be(b, FIELD_NULL, 4);
        return;
    }
    size_t at = b->len;
    put_be(b, 0, 4);
    buf_append(b, "\1", 1);
    json_print(b, v);
    if (b->failed) return;
    be_store((unsigned char *)b->data + at, b->len - at - 4, 4);
}

/* One events tuple per new row, in EVENT_COLUMNS order (call n is the
 * trailer). Binary, where the text format escaped every byte of the
 * bodies and printed the times, and the server scanned the bodies again
 * for delimiters and parsed the times back. */
static void fill_event(void *opaque, size_t i, buf_t *b)
{
    const store_events_copy_t *c = opaque;
    if (i == 0) put_copy_header(b);
    if (i == c->n) {
        put_copy_trailer(b);
        return;
    }
    const store_row_t *r = &c->rows[i];
    if (!row_is_new(r)) return;
    const event_t *ev = r->ev;
    put_be(b, NCOLS, 2);
    put_text(b, ev->id);
    put_text(b, ev->kind == EVENT_REPO ? "repo_event" : "article");
    put_text(b, ev->source);
    put_text(b, ev->url);
    put_text(b, ev->title);
    put_text(b, ev->text);
    put_time(b, ev->published_at_us);
    put_time(b, ev->crawled_at_us);
    put_text(b, ev->lang);
    put_jsonb(b, ev->repo);
    put_jsonb(b, ev->tags);
    put_text(b, r->topic);
    put_int(b, r->partition, 4, 0);
    put_int(b, r->offset, 8, 0);
    put_jsonb_text(b, r->extraction_json);
    put_text(b, r->extracted_by);
    put_text(b, r->extractor_version);
    put_int(b, r->cluster_id, 8, 1);
    put_text(b, r->fetch_status);
    put_int(b, r->cluster_seq, 4, 1);
}

/* The header of a one-dimensional array of n elements of type oid, in
 * binary, after its field length (payload bytes of the elements). */
static void put_array_header(buf_t *b, size_t payload, uint32_t oid, size_t n)
{
    put_be(b, 20 + payload, 4);
    put_be(b, 1, 4); /* dimensions */
    put_be(b, 0, 4); /* no NULLs */
    put_be(b, oid, 4);
    put_be(b, n, 4);
    put_be(b, 1, 4); /* lower bound */
}

#define TEXT_OID 25
#define FLOAT8_OID 701

/* The terms of the clusters being written, one binary COPY tuple per
 * cluster (cluster i is terms[start[i] .. start[i + 1]), call n is the
 * trailer): the weights travel as their 8 bytes, where the text format
 * printed each with 17 digits (13 % of the consumer's instructions)
 * and the server parsed them back. */
typedef struct {
    const cluster_term_row_t *terms;
    const size_t *start;
    size_t n;
} cluster_terms_copy_t;

static void fill_cluster_terms(void *opaque, size_t i, buf_t *b)
{
    cluster_terms_copy_t *c = opaque;
    if (i == 0) put_copy_header(b);
    if (i == c->n) {
        put_copy_trailer(b);
        return;
    }
    size_t from = c->start[i], to = c->start[i + 1], names = 0;
    for (size_t t = from; t < to; t++) names += 4 + strlen(c->terms[t].term);
    put_be(b, 3, 2);
    put_be(b, 8, 4);
    put_be(b, (uint64_t)c->terms[from].cluster_id, 8);
    put_array_header(b, names, TEXT_OID, to - from);
    for (size_t t = from; t < to; t++) {
        size_t len = strlen(c->terms[t].term);
        put_be(b, len, 4);
        buf_append(b, c->terms[t].term, len);
    }
    put_array_header(b, 12 * (to - from), FLOAT8_OID, to - from);
    for (size_t t = from; t < to; t++) {
        uint64_t bits;
        memcpy(&bits, &c->terms[t].weight, sizeof(bits));
        put_be(b, 8, 4);
        put_be(b, bits, 8);
    }
}

/* Stages the terms of the clusters in cl->terms (grouped by cluster,
 * heaviest first: cluster_engine_top_terms) in cluster_stage, inside the
 * caller's transaction, for CLUSTERS_UPSERT_FROM and CLUSTER_TERMS_SET. A
 * cluster's terms go as two arrays in one tuple: the server reads ~300
 * tuples per batch instead of ~20,000 lines and sorts nothing. */
static int cluster_terms_stage(store_t *s, const store_cluster_ops_t *cl, char *err, size_t errlen)
{
    if (!cl || cl->n_terms == 0) return 0;
    size_t *start = malloc((cl->n_terms + 1) * sizeof(*start)), n = 0;
    if (!start) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t t = 0; t < cl->n_terms; t++)
        if (t == 0 || cl->terms[t].cluster_id != cl->terms[t - 1].cluster_id) start[n++] = t;
    start[n] = cl->n_terms;
    cluster_terms_copy_t c = {cl->terms, start, n};
    int rc = copy_in(s, "COPY cluster_stage (cluster_id, terms, weights) FROM STDIN (FORMAT binary)", n + 1,
                     fill_cluster_terms, &c, err, errlen);
    free(start);
    return rc;
}

/* The staged terms the cluster counts did not carry. */
static int cluster_terms_set(store_t *s, const store_cluster_ops_t *cl, char *err, size_t errlen)
{
    if (!cl || cl->n_terms == 0) return 0;
    const char *p[] = {cl->instance ? cl->instance : ""};
    return exec_ok(s, CLUSTER_TERMS_SET, 1, p, err, errlen);
}

/* Stores each partition's next offset, inside the caller's transaction, in
 * one statement (a consumer of 60 partitions made 60 round trips per
 * batch). forward_only: an offset never moves back (a late or zombie
 * writer cannot undo progress); only a replay rewinds. A partition listed
 * twice keeps its highest offset (forward_only) or its last. */
static int offsets_write(store_t *s, const char *group, const store_offset_t *offs, size_t n,
                         int forward_only, char *err, size_t errlen)
{
    if (n == 0) return 0;
    const char *sql = forward_only
                          ? "INSERT INTO kafka_offsets (consumer_group, topic, partition, next_offset) "
                            "SELECT DISTINCT ON (t, p) $1, t, p, o FROM unnest($2::text[], $3::int[], "
                            "$4::bigint[]) WITH ORDINALITY AS x(t, p, o, i) ORDER BY t, p, o DESC "
                            "ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET next_offset = "
                            "GREATEST(kafka_offsets.next_offset, EXCLUDED.next_offset), updated_at = now()"
                          : "INSERT INTO kafka_offsets (consumer_group, topic, partition, next_offset) "
                            "SELECT DISTINCT ON (t, p) $1, t, p, o FROM unnest($2::text[], $3::int[], "
                            "$4::bigint[]) WITH ORDINALITY AS x(t, p, o, i) ORDER BY t, p, i DESC "
                            "ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET next_offset = "
                            "EXCLUDED.next_offset, updated_at = now()";
    /* Three array literals, one after the other, each NUL-terminated. */
    buf_t *b = &s->copy;
    buf_reset(b);
    size_t at[3];
    for (int col = 0; col < 3; col++) {
        at[col] = b->len;
        buf_puts(b, "{");
        for (size_t i = 0; i < n; i++) {
            if (i) buf_puts(b, ",");
            if (col == 0) array_literal_item(b, offs[i].topic);
            else buf_put_i64(b, col == 1 ? offs[i].partition : offs[i].next_offset);
        }
        buf_append(b, "}", 2);
    }
    if (b->failed) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *p[] = {group, b->data + at[0], b->data + at[1], b->data + at[2]};
    return exec_ok(s, sql, 4, p, err, errlen);
}

static const char INSERT_ONE[] =
    "INSERT INTO events (" EVENT_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
    "$12, $13, $14, $15, $16, $17, $18, $19, $20) ON CONFLICT (id) DO NOTHING";

/* Finds the rows that fail on their own: each in a savepoint, inside a
 * transaction that is rolled back. With timeouts_permanent, a row whose own
 * insert hits the statement timeout is one of them. Returns how many were
 * marked, or -1 when the database itself failed. */
static int isolate_rejects(store_t *s, store_row_t *rows, size_t nrows, int timeouts_permanent,
                           char *err, size_t errlen)
{
    int marked = 0;
    if (exec_ok(s, "BEGIN", 0, NULL, err, errlen) != 0) return -1;
    for (size_t i = 0; i < nrows; i++) {
        if (rows[i].rejected) continue;
        if (exec_ok(s, "SAVEPOINT row", 0, NULL, err, errlen) != 0) return -1;
        const char *v[NCOLS];
        row_scratch_t sc;
        row_values(&rows[i], &sc, v);
        PGresult *r = exec_params(s, INSERT_ONE, NCOLS, v);
        row_scratch_free(&sc);
        char e[512];
        if (check(s, r, PGRES_COMMAND_OK, e, sizeof(e), 0) == 0) {
            if (exec_ok(s, "RELEASE SAVEPOINT row", 0, NULL, err, errlen) != 0) return -1;
            continue;
        }
        int timed_out = strcmp(s->sqlstate, "57014") == 0;
        if (fault_classify_sqlstate(s->sqlstate) != FAULT_PERMANENT && !(timeouts_permanent && timed_out)) {
            snprintf(err, errlen, "%s", e);
            return -1;
        }
        rows[i].rejected = 1;
        snprintf(rows[i].reject_sqlstate, sizeof(rows[i].reject_sqlstate), "%s", s->sqlstate);
        snprintf(rows[i].reject_msg, sizeof(rows[i].reject_msg), "%.255s", e);
        marked++;
        if (exec_ok(s, "ROLLBACK TO SAVEPOINT row", 0, NULL, err, errlen) != 0) return -1;
    }
    rollback(s);
    return marked;
}

/* --reextract: a stored event's extraction is replaced, and its tags and
 * facts with it (views of it, schema/009). Its cluster stays: clustering
 * is not paid work and is not redone. An event deleted meanwhile is stored
 * again (*inserted = 1). */
static int extraction_replace(store_t *s, const store_row_t *r, int *inserted, char *err, size_t errlen)
{
    const char *p[] = {r->ev->id, r->extraction_json, r->extracted_by, r->extractor_version};
    PGresult *res = exec_params(s,
                                "UPDATE events SET extraction = $2::jsonb, extracted_by = $3, extractor_version = $4 "
                                "WHERE id = $1",
                                4, p);
    if (check(s, res, PGRES_COMMAND_OK, err, errlen, 1) != 0) return -1;
    *inserted = strcmp(PQcmdTuples(res), "0") == 0;
    PQclear(res);
    if (!*inserted) return 0;
    const char *v[NCOLS];
    row_scratch_t sc;
    row_values(r, &sc, v);
    int rc = exec_ok(s, INSERT_ONE, NCOLS, v, err, errlen);
    row_scratch_free(&sc);
    return rc;
}

/* A merge list as final pairs: every absorbed id with the survivor of its
 * whole chain. A cluster another instance merged away meanwhile keeps the
 * survivor the store gives it (fixed); the others merge into the lower id,
 * as the engine does. So every survivor is live in the store, and no
 * cluster is both absorbed and grown by the one statement. */
typedef struct {
    int64_t *id, *parent;
    unsigned char *fixed;
    size_t n;
} merge_sets_t;

static size_t merge_find(merge_sets_t *m, int64_t id)
{
    size_t i = 0;
    while (i < m->n && m->id[i] != id) i++;
    if (i == m->n) {
        m->id[i] = m->parent[i] = id;
        m->fixed[i] = 0;
        m->n++;
    }
    return i;
}

static int64_t merge_root(merge_sets_t *m, int64_t id)
{
    for (;;) {
        size_t i = merge_find(m, id);
        if (m->parent[i] == id) return id;
        id = m->parent[i];
    }
}

/* ids as a PostgreSQL array literal. */
static void merge_ids_literal(buf_t *b, const int64_t *ids, size_t n)
{
    buf_puts(b, "{");
    for (size_t i = 0; i < n; i++) {
        if (i) buf_puts(b, ",");
        buf_put_i64(b, ids[i]);
    }
    buf_puts(b, "}");
}

/* Which of the clusters in ids (a bigint[] literal) were merged away, and
 * into which: rows of (id, merged_into), or NULL with err. */
static PGresult *clusters_merged_away(store_t *s, const char *ids, char *err, size_t errlen)
{
    const char *p[] = {ids};
    PGresult *r = exec_params(s, "SELECT id, merged_into FROM clusters WHERE id = ANY($1::bigint[]) "
                                 "AND merged_into IS NOT NULL", 1, p);
    return check(s, r, PGRES_TUPLES_OK, err, errlen, 1) == 0 ? r : NULL;
}

/* Applies the engine's merges, inside the caller's transaction (under the
 * clustering lock), in one statement: the chains are resolved here, with
 * what the store says was merged away meanwhile, so each absorbed cluster
 * is written once, straight into its final, live survivor. */
static int cluster_merges_apply(store_t *s, const store_cluster_ops_t *cl, char *err, size_t errlen)
{
    if (cl->n_merges == 0) return 0;
    size_t cap = 3 * cl->n_merges; /* both ends of each merge, and their survivors in the store */
    merge_sets_t m = {malloc(cap * sizeof(int64_t)), malloc(cap * sizeof(int64_t)), malloc(cap), 0};
    buf_t src = {0}, dst = {0};
    int rc = -1;
    if (!m.id || !m.parent || !m.fixed) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < cl->n_merges; i++) {
        merge_find(&m, cl->merges[i].from);
        merge_find(&m, cl->merges[i].into);
    }
    merge_ids_literal(&src, m.id, m.n);
    if (src.failed) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    PGresult *r = clusters_merged_away(s, buf_cstr(&src), err, errlen);
    if (!r) goto out;
    for (int t = 0; t < PQntuples(r); t++) {
        size_t i = merge_find(&m, strtoll(PQgetvalue(r, t, 0), NULL, 10));
        m.parent[i] = strtoll(PQgetvalue(r, t, 1), NULL, 10);
        m.fixed[i] = 1;
        merge_find(&m, m.parent[i]);
    }
    PQclear(r);
    for (size_t i = 0; i < cl->n_merges; i++) {
        int64_t a = merge_root(&m, cl->merges[i].from), b = merge_root(&m, cl->merges[i].into);
        if (a != b) m.parent[merge_find(&m, a > b ? a : b)] = a < b ? a : b;
    }
    buf_reset(&src);
    buf_puts(&src, "{");
    buf_puts(&dst, "{");
    for (size_t i = 0; i < m.n; i++) {
        int64_t root = merge_root(&m, m.id[i]);
        if (root == m.id[i] || m.fixed[i]) continue;
        buf_printf(&src, "%s%lld", src.len > 1 ? "," : "", (long long)m.id[i]);
        buf_printf(&dst, "%s%lld", dst.len > 1 ? "," : "", (long long)root);
    }
    buf_puts(&src, "}");
    buf_puts(&dst, "}");
    if (src.failed || dst.failed) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    const char *p[] = {buf_cstr(&src), buf_cstr(&dst), cl->instance ? cl->instance : ""};
    /* The absorbed clusters' counts go to their survivors (whose terms the
     * batch writes after), the clusters merged into them before follow, and
     * they stay behind as pointers for their events (CLUSTER_LIVE) and for
     * late increments. The event rows are not rewritten: a merge of a large
     * cluster would rewrite thousands of them inside the batch. The ANY($1)
     * condition repeats the join so the planner reaches the rows through
     * the index. */
    rc = exec_ok(s,
                 "WITH m AS (SELECT src, dst FROM unnest($1::bigint[], $2::bigint[]) AS x(src, dst)), "
                 "gone AS (UPDATE clusters c SET merged_into = m.dst, terms = '{}', weights = '{}', "
                 "updated_by = $3, updated_at = now(), "
                 "version = nextval('cluster_version') FROM m WHERE c.id = m.src AND c.merged_into IS NULL "
                 "RETURNING m.dst, c.docs, c.first_seen, c.last_seen), "
                 "repoint AS (UPDATE clusters c SET merged_into = m.dst, updated_by = $3, updated_at = now(), "
                 "version = nextval('cluster_version') FROM m WHERE c.merged_into = m.src AND c.merged_into = ANY($1::bigint[])) "
                 "UPDATE clusters c SET docs = c.docs + g.docs, first_seen = LEAST(c.first_seen, g.first_seen), "
                 "last_seen = GREATEST(c.last_seen, g.last_seen), updated_by = $3, updated_at = now(), "
                 "version = nextval('cluster_version') FROM (SELECT dst, sum(docs) AS docs, min(first_seen) AS first_seen, "
                 "max(last_seen) AS last_seen FROM gone GROUP BY dst) g WHERE c.id = g.dst",
                 3, p, err, errlen);
out:
    free(m.id);
    free(m.parent);
    free(m.fixed);
    buf_free(&src);
    buf_free(&dst);
    return rc;
}

/* Rows clustered into a cluster merged away since (a retried batch, the
 * lock held by another instance in between) follow it to its survivor, so
 * that the batch's counts go to a live cluster. */
static int rows_follow_merges(store_t *s, store_row_t *rows, size_t n, char *err, size_t errlen)
{
    buf_t *b = &s->copy;
    buf_reset(b);
    buf_puts(b, "{");
    for (size_t i = 0; i < n; i++)
        if (!rows[i].rejected && !rows[i].reextract && rows[i].cluster_id) {
            if (b->len > 1) buf_puts(b, ",");
            buf_put_i64(b, rows[i].cluster_id);
        }
    buf_puts(b, "}");
    if (b->len == 2) return 0;
    const char *ids = buf_cstr(b);
    if (!ids) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    PGresult *r = clusters_merged_away(s, ids, err, errlen);
    if (!r) return -1;
    for (int t = 0; t < PQntuples(r); t++) {
        int64_t from = strtoll(PQgetvalue(r, t, 0), NULL, 10), into = strtoll(PQgetvalue(r, t, 1), NULL, 10);
        for (size_t i = 0; i < n; i++)
            if (rows[i].cluster_id == from) rows[i].cluster_id = into;
    }
    PQclear(r);
    return 0;
}

/* The cluster counts of the rows just stored (docs, times, the label of a
 * new cluster from their titles, compared as the database sorts text),
 * from the values the rows were stored with: every row COPYed is in. */
static int cluster_counts_write(store_t *s, const store_row_t *rows, size_t n, const char *instance, char *err,
                                size_t errlen)
{
    /* Three array literals, one after the other, each NUL-terminated. */
    buf_t *b = &s->copy;
    buf_reset(b);
    size_t at[3], k = 0;
    for (int col = 0; col < 3; col++) {
        at[col] = b->len;
        buf_puts(b, "{");
        k = 0;
        for (size_t i = 0; i < n; i++) {
            const store_row_t *r = &rows[i];
            if (!row_is_new(r) || !r->cluster_id) continue;
            if (k++) buf_puts(b, ",");
            if (col == 0) buf_put_i64(b, r->cluster_id);
            else if (col == 2) array_literal_item(b, r->ev->title);
            else if (r->ev->published_at_us == EVENT_TIME_NONE) buf_puts(b, "NULL");
            else buf_put_i64(b, r->ev->published_at_us);
        }
        buf_append(b, "}", 2);
    }
    if (k == 0) return 0;
    if (b->failed) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *p[] = {instance, b->data + at[0], b->data + at[1], b->data + at[2]};
    return exec_ok(s,
                   "WITH ins AS (SELECT cluster_id, to_timestamp(us / 1000000) + (us % 1000000) * "
                   "interval '1 microsecond' AS published_at, title FROM unnest($2::bigint[], $3::bigint[], "
                   "$4::text[]) AS x(cluster_id, us, title)), " CLUSTERS_UPSERT_FROM("ins") " SELECT 1",
                   4, p, err, errlen);
}

store_rc_t store_batch_commit(store_t *s, const char *group, store_row_t *rows, size_t nrows,
                              const store_dead_t *dead, size_t ndead, const store_offset_t *offs,
                              size_t noffs, const store_cluster_ops_t *cl, char *err,
                              size_t errlen)
{
    if (store_connect(s, err, errlen) != STORE_OK) return STORE_TRANSIENT;
    size_t live = 0;
    for (size_t i = 0; i < nrows; i++) {
        rows[i].inserted = 0;
        if (!rows[i].rejected) live++;
    }
    int in_rows = 0; /* did the failure happen while writing rows? */
    if (PQtransactionStatus(s->conn) != PQTRANS_INTRANS && exec_ok(s, "BEGIN", 0, NULL, err, errlen) != 0)
        goto fail;
    /* first, for the rows' cluster counts to carry them */
    if (cluster_terms_stage(s, cl, err, errlen) != 0) goto fail;
    if (live > 0) {
        in_rows = 1;
        /* The caller looked every new row up under the clustering lock this
         * session holds (store.h), so they go straight into events. A row
         * another writer stored all the same (one that writes without the
         * lock) fails the COPY with a unique violation: transient, and the
         * caller looks the rows up again before the retry. */
        static const char sql[] = "COPY events (" EVENT_COLUMNS ") FROM STDIN (FORMAT binary)";
        const char *instance = cl && cl->instance ? cl->instance : "";
        store_events_copy_t copy = {rows, nrows};
        if (rows_follow_merges(s, rows, nrows, err, errlen) != 0 ||
            copy_in(s, sql, nrows + 1, fill_event, &copy, err, errlen) != 0) {
            if (strcmp(s->sqlstate, "23505") == 0) in_rows = 0;
            goto fail;
        }
        for (size_t i = 0; i < nrows; i++) {
            rows[i].inserted = row_is_new(&rows[i]);
            if (rows[i].reextract && !rows[i].rejected &&
                extraction_replace(s, &rows[i], &rows[i].inserted, err, errlen) != 0)
                goto fail;
        }
        if (cluster_counts_write(s, rows, nrows, instance, err, errlen) != 0) goto fail;
        in_rows = 0;
    }
    for (size_t i = 0; i < ndead; i++) {
        char part[16], off[24];
        snprintf(part, sizeof(part), "%d", dead[i].partition);
        snprintf(off, sizeof(off), "%lld", (long long)dead[i].offset);
        const char *p[] = {group, dead[i].topic, part, off, dead[i].error_class,
                           dead[i].error_stage, dead[i].error_message, dead[i].dlq_topic};
        if (exec_ok(s,
                    "INSERT INTO dead_letters (consumer_group, topic, partition, kafka_offset, "
                    "error_class, error_stage, error_message, dlq_topic) VALUES ($1, $2, $3, $4, "
                    "$5, $6, $7, $8) ON CONFLICT DO NOTHING",
                    8, p, err, errlen) != 0)
            goto fail;
    }
    if (cl && (cluster_merges_apply(s, cl, err, errlen) != 0 || cluster_terms_set(s, cl, err, errlen) != 0))
        goto fail;
    if (offsets_write(s, group, offs, noffs, 1, err, errlen) != 0) goto fail;
    if (exec_ok(s, "COMMIT", 0, NULL, err, errlen) != 0) goto fail;
    s->timeout_streak = 0;
    return STORE_OK;

fail:
    rollback(s);
    /* FAULT_TIMEOUT_ATTEMPTS_MAX statement timeouts in a row: the rows are
     * tried one by one, and one that times out on its own is the cause. */
    s->timeout_streak = strcmp(s->sqlstate, "57014") == 0 ? s->timeout_streak + 1 : 0;
    int timeouts_permanent = s->timeout_streak >= FAULT_TIMEOUT_ATTEMPTS_MAX;
    char e2[512];
    if (in_rows && (fault_classify_sqlstate(s->sqlstate) == FAULT_PERMANENT || timeouts_permanent) &&
        store_connect(s, e2, sizeof(e2)) == STORE_OK) {
        int marked = isolate_rejects(s, rows, nrows, timeouts_permanent, e2, sizeof(e2));
        if (marked > 0) {
            s->timeout_streak = 0;
            return STORE_REJECTED;
        }
        if (marked < 0) snprintf(err, errlen, "%s", e2);
    }
    for (size_t i = 0; i < nrows; i++) rows[i].inserted = 0;
    return STORE_TRANSIENT;
}

/* One cluster being read row by row: its terms, copied out of each row's
 * result (which is freed before the next row arrives). */
typedef struct {
    cluster_state_t st;
    cluster_term_t *terms;
    size_t *offs;   /* term i starts at names.data + offs[i] */
    buf_t names;
    long max_terms;
    int64_t merged_into;
    store_cluster_fn fn;
    void *opaque;
} cluster_read_t;

static void cluster_read_emit(cluster_read_t *cr)
{
    if (!cr->st.id) return;
    for (size_t k = 0; k < cr->st.n_terms; k++) cr->terms[k].term = cr->names.data + cr->offs[k];
    cr->st.terms = cr->terms;
    cr->fn(cr->opaque, &cr->st, cr->merged_into);
    cr->st = (cluster_state_t){0};
    buf_reset(&cr->names);
}

/* A row of the cluster query: the next term of the cluster being read, or
 * the first row of the next cluster (the one read is handed on). */
static int cluster_read_row(void *opaque, const PGresult *r)
{
    cluster_read_t *cr = opaque;
    int64_t id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    if (id != cr->st.id) {
        cluster_read_emit(cr);
        cr->st.id = id;
        cr->merged_into = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
        cr->st.docs = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
        int64_t seen = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
        cr->st.last_seen_us = seen < 0 ? CLUSTER_TIME_NONE : seen;
    }
    if ((long)cr->st.n_terms < cr->max_terms && !PQgetisnull(r, 0, 3)) {
        cr->offs[cr->st.n_terms] = cr->names.len;
        buf_append(&cr->names, PQgetvalue(r, 0, 3), (size_t)PQgetlength(r, 0, 3) + 1);
        cr->terms[cr->st.n_terms++].weight = strtod(PQgetvalue(r, 0, 4), NULL);
    }
    return cr->names.failed ? -1 : 0;
}

/* Runs a query and hands its rows to fn one at a time (single-row mode:
 * each row's result is freed before the next arrives, so a large result is
 * never whole in memory, where libpq keeps a pointer and a length per value
 * on top of the values). fn returns 0, or -1 when out of memory. STORE_OK
 * once every row was handed over; otherwise STORE_TRANSIENT with err (`what`
 * names the rows in the message of a lost connection). */
static store_rc_t stream_rows(store_t *s, const char *sql, int n, const char *const *params,
                              const char *what, int (*fn)(void *opaque, const PGresult *r),
                              void *opaque, char *err, size_t errlen)
{
    long deadline = clock_monotonic_ms() + s->statement_timeout_ms + CLIENT_GRACE_MS;
    int sent = PQsendQueryParams(s->conn, sql, n, NULL, params, NULL, NULL, 0);
    if (!sent || !PQsetSingleRowMode(s->conn)) {
        check(s, NULL, PGRES_TUPLES_OK, err, errlen, 0);
        if (sent) finish_command(s, deadline);
        return STORE_TRANSIENT;
    }
    PGresult *r;
    while (s->conn && (r = wait_result(s, deadline)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_TUPLES_OK) { /* the end of the rows */
            PQclear(r);
            continue;
        }
        if (st != PGRES_SINGLE_TUPLE) {
            check(s, r, PGRES_TUPLES_OK, err, errlen, 0);
            finish_command(s, deadline);
            return STORE_TRANSIENT;
        }
        int stop = fn(opaque, r);
        PQclear(r);
        if (stop) {
            snprintf(err, errlen, "out of memory");
            finish_command(s, deadline);
            return STORE_TRANSIENT;
        }
    }
    if (!s->conn) {
        snprintf(err, errlen, "connection lost reading %s", what);
        return STORE_TRANSIENT;
    }
    return STORE_OK;
}

store_rc_t store_cluster_lock(store_t *s, int *fresh, int *waiting, char *err, size_t errlen)
{
    *fresh = *waiting = 0;
    if (store_connect(s, err, errlen) != STORE_OK) return STORE_TRANSIENT;
    char timeout[24];
    snprintf(timeout, sizeof(timeout), "%ldms", s->statement_timeout_ms);
    const char *p[] = {CLUSTER_LOCK_KEY, timeout};
    if (exec_ok(s, "BEGIN", 0, NULL, err, errlen) != 0) goto fail;
    /* lock_timeout rather than statement_timeout ends a long wait, so a busy
     * lock is not mistaken for a slow row (the statement-timeout rule). A
     * session lock outlives a rollback, so it is held from here on. */
    if (!s->cluster_held) {
        if (exec_ok(s, "SELECT set_config('lock_timeout', $2, true), pg_advisory_lock($1::bigint)", 2, p, err,
                    errlen) != 0)
            goto fail;
        s->cluster_held = 1;
        *fresh = 1;
    }
    PGresult *r = exec_params(s,
                              "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                              "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                              "AND classid = ($1::bigint >> 32)::oid AND objid = ($1::bigint & 4294967295)::oid "
                              "AND objsubid = 1)",
                              1, p);
    if (check(s, r, PGRES_TUPLES_OK, err, errlen, 1) != 0) goto fail;
    *waiting = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return STORE_OK;

fail:
    rollback(s);
    return STORE_TRANSIENT;
}

void store_cluster_release(store_t *s)
{
    if (!s->cluster_held) return;
    rollback(s);
    const char *p[] = {CLUSTER_LOCK_KEY};
    char e[256];
    /* On failure the connection goes, and the lock with its session. */
    if (exec_ok(s, "SELECT pg_advisory_unlock($1::bigint)", 1, p, e, sizeof(e)) != 0) drop_connection(s);
    s->cluster_held = 0;
}

int store_cluster_held(const store_t *s) { return s->cluster_held; }

void store_cluster_unlock(store_t *s) { rollback(s); }

store_rc_t store_clusters_load(store_t *s, const char *exclude, int64_t *version,
                               long max_clusters, long max_terms, store_cluster_fn fn,
                               void *opaque, char *err, size_t errlen)
{
    if (store_connect(s, err, errlen) != STORE_OK) return STORE_TRANSIENT;
    PGresult *top = exec_params(s, "SELECT coalesce(max(version), 0) FROM clusters", 0, NULL);
    if (check(s, top, PGRES_TUPLES_OK, err, errlen, 1) != 0) return STORE_TRANSIENT;
    int64_t upto = strtoll(PQgetvalue(top, 0, 0), NULL, 10);
    PQclear(top);
    if (upto <= *version) return STORE_OK;
    char since[24], until[24], maxc[24], maxt[24];
    snprintf(since, sizeof(since), "%lld", (long long)*version);
    snprintf(until, sizeof(until), "%lld", (long long)upto);
    snprintf(maxc, sizeof(maxc), "%ld", max_clusters);
    snprintf(maxt, sizeof(maxt), "%ld", max_terms);
    const char *p[] = {exclude ? exclude : "", since, until, maxc, maxt};
    cluster_read_t cr = {.max_terms = max_terms > 0 ? max_terms : 1, .fn = fn, .opaque = opaque};
    cr.terms = malloc(sizeof(*cr.terms) * (size_t)cr.max_terms);
    cr.offs = malloc(sizeof(*cr.offs) * (size_t)cr.max_terms);
    store_rc_t rc = STORE_TRANSIENT;
    if (!cr.terms || !cr.offs) snprintf(err, errlen, "out of memory");
    else
        rc = stream_rows(
            s,
            "SELECT c.id, c.docs, coalesce((extract(epoch FROM c.last_seen) * 1000000)::bigint, -1), "
            "t.term, t.weight, coalesce(c.merged_into, 0) "
            "FROM (SELECT id, docs, last_seen, merged_into, terms, weights FROM clusters WHERE version > $2::bigint "
            "AND version <= $3::bigint AND updated_by <> $1 AND ($2::bigint > 0 OR merged_into IS NULL) "
            "ORDER BY merged_into IS NULL, last_seen DESC NULLS LAST, id LIMIT $4::bigint) c "
            "LEFT JOIN LATERAL (SELECT term, weight FROM unnest(c.terms, c.weights) AS u(term, weight) "
            "ORDER BY weight DESC, term LIMIT $5::bigint) t ON true ORDER BY c.merged_into IS NULL, c.id, t.term",
            5, p, "clusters", cluster_read_row, &cr, err, errlen);
    if (rc == STORE_OK) {
        cluster_read_emit(&cr);
        *version = upto;
    }
    free(cr.terms);
    free(cr.offs);
    buf_free(&cr.names);
    return rc;
}

store_rc_t store_events_known_send(store_t *s, const char *const *ids, size_t n, char *err,
                                   size_t errlen)
{
    if (store_connect(s, err, errlen) != STORE_OK) return STORE_TRANSIENT;
    buf_t *b = &s->copy;
    buf_reset(b);
    array_literal(b, ids, n);
    const char *lit = buf_cstr(b);
    if (!lit) {
        snprintf(err, errlen, "out of memory");
        return STORE_TRANSIENT;
    }
    const char *p[] = {lit};
    if (send_params(s, "SELECT id FROM events WHERE id = ANY($1::text[])", 1, p) != 0) {
        check(s, NULL, PGRES_TUPLES_OK, err, errlen, 0);
        return STORE_TRANSIENT;
    }
    return STORE_OK;
}

store_rc_t store_events_known_recv(store_t *s, void (*found)(void *opaque, const char *id),
                                   void *opaque, char *err, size_t errlen)
{
    PGresult *r = finish_statement(s);
    if (check(s, r, PGRES_TUPLES_OK, err, errlen, 1) != 0) return STORE_TRANSIENT;
    for (int t = 0; t < PQntuples(r); t++) found(opaque, PQgetvalue(r, t, 0));
    PQclear(r);
    return STORE_OK;
}

typedef struct {
    const char *const *ids;
    size_t n;
    unsigned char *known;
} known_marks_t;

static void known_mark(void *opaque, const char *id)
{
    known_marks_t *m = opaque;
    for (size_t i = 0; i < m->n; i++)
        if (!m->known[i] && strcmp(m->ids[i], id) == 0) m->known[i] = 1;
}

store_rc_t store_events_known(store_t *s, const char *const *ids, size_t n, unsigned char *known,
                              char *err, size_t errlen)
{
    memset(known, 0, n);
    if (n == 0) return STORE_OK;
    known_marks_t m = {ids, n, known};
    if (store_events_known_send(s, ids, n, err, errlen) != STORE_OK) return STORE_TRANSIENT;
    return store_events_known_recv(s, known_mark, &m, err, errlen);
}

struct store_trend_input {
    buf_t text;                 /* every string, NUL-terminated */
    trend_cluster_t *clusters;
    size_t n;
    const char **strs;
    buf_t counts;               /* int, one per strs[i] */
    trend_fact_t *facts;
    buf_t times;                /* int64_t */
    int64_t latest_us;
};

void store_trend_input_free(store_trend_input_t *in)
{
    if (!in) return;
    buf_free(&in->text);
    free(in->clusters);
    free(in->strs);
    buf_free(&in->counts);
    free(in->facts);
    buf_free(&in->times);
    free(in);
}

#define NO_TEXT SIZE_MAX

/* The trend input while its rows arrive: strings as offsets into text
 * (which moves as it grows), each cluster's runs as first index and count;
 * pointers are made once every row is in. */
enum { RUN_ENTITIES, RUN_TERMS, RUN_SOURCES, RUN_TAGS, RUN_COUNT };
typedef struct {
    int64_t id;
    size_t label;
    size_t first[RUN_COUNT], n[RUN_COUNT];
    size_t first_fact, n_facts, first_time, n_times;
} trend_load_cluster_t;
typedef struct {
    size_t subject, predicate, currency;
    double amount;
} trend_load_fact_t;
typedef struct {
    store_trend_input_t *in;
    buf_t clusters, strs, facts; /* trend_load_cluster_t, size_t offsets, trend_load_fact_t */
} trend_load_t;

static size_t trend_load_text(trend_load_t *l, const PGresult *r, int col)
{
    if (PQgetisnull(r, 0, col)) return NO_TEXT;
    size_t off = l->in->text.len;
    buf_append(&l->in->text, PQgetvalue(r, 0, col), (size_t)PQgetlength(r, 0, col) + 1);
    return off;
}

static int trend_load_row(void *opaque, const PGresult *r)
{
    trend_load_t *l = opaque;
    store_trend_input_t *in = l->in;
    char k = PQgetvalue(r, 0, 1)[0];
    if (k == 'a') {
        trend_load_cluster_t c = {.id = strtoll(PQgetvalue(r, 0, 0), NULL, 10), .label = trend_load_text(l, r, 2)};
        buf_append(&l->clusters, &c, sizeof(c));
        return l->clusters.failed || in->text.failed ? -1 : 0;
    }
    size_t nc = l->clusters.len / sizeof(trend_load_cluster_t);
    if (nc == 0) return 0; /* rows arrive after their cluster's 'a' row */
    trend_load_cluster_t *c = (trend_load_cluster_t *)l->clusters.data + nc - 1;
    if (k == 'f') {
        trend_load_fact_t f = {trend_load_text(l, r, 2), trend_load_text(l, r, 6), trend_load_text(l, r, 5),
                               PQgetisnull(r, 0, 4) ? -1 : strtod(PQgetvalue(r, 0, 4), NULL)};
        if (!c->n_facts) c->first_fact = l->facts.len / sizeof(f);
        c->n_facts++;
        buf_append(&l->facts, &f, sizeof(f));
    } else if (k == 'p') {
        int64_t t = PQgetisnull(r, 0, 7) ? TREND_TIME_NONE : strtoll(PQgetvalue(r, 0, 7), NULL, 10);
        if (!c->n_times) c->first_time = in->times.len / sizeof(t);
        c->n_times++;
        buf_append(&in->times, &t, sizeof(t));
        if (t != TREND_TIME_NONE && t > in->latest_us) in->latest_us = t;
    } else if (!PQgetisnull(r, 0, 2)) {
        int run = k == 'e' ? RUN_ENTITIES : k == 'k' ? RUN_TERMS : k == 's' ? RUN_SOURCES : k == 't' ? RUN_TAGS : -1;
        if (run < 0) return 0;
        size_t off = trend_load_text(l, r, 2);
        int count = atoi(PQgetvalue(r, 0, 3));
        if (!c->n[run]) c->first[run] = l->strs.len / sizeof(off);
        c->n[run]++;
        buf_append(&l->strs, &off, sizeof(off));
        buf_append(&in->counts, &count, sizeof(count));
    }
    return l->facts.failed || l->strs.failed || in->times.failed || in->counts.failed || in->text.failed ? -1 : 0;
}

/* Every row is in: offsets and runs become the pointers trends_compute reads. */
static int trend_load_finish(trend_load_t *l)
{
    store_trend_input_t *in = l->in;
    const char *text = in->text.data;
#define TEXT_AT(off) ((off) == NO_TEXT ? NULL : text + (off))
#define RUN(v, run) (x->n[run] ? &(v)[x->first[run]] : NULL)
    size_t nc = l->clusters.len / sizeof(trend_load_cluster_t);
    size_t ns = l->strs.len / sizeof(size_t), nf = l->facts.len / sizeof(trend_load_fact_t);
    in->clusters = calloc(nc ? nc : 1, sizeof(*in->clusters));
    in->strs = malloc((ns ? ns : 1) * sizeof(*in->strs));
    in->facts = malloc((nf ? nf : 1) * sizeof(*in->facts));
    if (!in->clusters || !in->strs || !in->facts) return -1;
    const size_t *offs = (const size_t *)l->strs.data;
    for (size_t i = 0; i < ns; i++) in->strs[i] = text + offs[i];
    const trend_load_fact_t *lf = (const trend_load_fact_t *)l->facts.data;
    for (size_t i = 0; i < nf; i++)
        in->facts[i] = (trend_fact_t){TEXT_AT(lf[i].subject), TEXT_AT(lf[i].predicate), lf[i].amount,
                                      TEXT_AT(lf[i].currency)};
    const int *counts = (const int *)in->counts.data;
    const int64_t *times = (const int64_t *)in->times.data;
    const trend_load_cluster_t *lc = (const trend_load_cluster_t *)l->clusters.data;
    for (size_t i = 0; i < nc; i++) {
        trend_cluster_t *c = &in->clusters[i];
        const trend_load_cluster_t *x = &lc[i];
        c->cluster_id = x->id;
        c->label = TEXT_AT(x->label);
        c->entities = RUN(in->strs, RUN_ENTITIES);
        c->entity_counts = RUN(counts, RUN_ENTITIES);
        c->n_entities = x->n[RUN_ENTITIES];
        c->terms = RUN(in->strs, RUN_TERMS);
        c->term_counts = RUN(counts, RUN_TERMS);
        c->n_terms = x->n[RUN_TERMS];
        c->sources = RUN(in->strs, RUN_SOURCES);
        c->n_sources = x->n[RUN_SOURCES];
        c->tags = RUN(in->strs, RUN_TAGS);
        c->tag_counts = RUN(counts, RUN_TAGS);
        c->n_tags = x->n[RUN_TAGS];
        c->facts = x->n_facts ? &in->facts[x->first_fact] : NULL;
        c->n_facts = x->n_facts;
        c->event_times_us = x->n_times ? &times[x->first_time] : NULL;
        c->n_events = x->n_times;
    }
#undef RUN
#undef TEXT_AT
    in->n = nc;
    return 0;
}

const trend_cluster_t *store_trend_input_clusters(const store_trend_input_t *in, size_t *n,
                                                  int64_t *latest_us)
{
    *n = in->n;
    *latest_us = in->latest_us;
    return in->clusters;
}

store_rc_t store_trend_input_load(store_t *s, long window_s, store_trend_input_t **out,
                                  char *err, size_t errlen)
{
    *out = NULL;
    if (store_connect(s, err, errlen) != STORE_OK) return STORE_TRANSIENT;
    char win[24];
    snprintf(win, sizeof(win), "%ld", window_s);
    const char *p[] = {win};
    trend_load_t l = {.in = calloc(1, sizeof(*l.in))};
    if (!l.in) {
        snprintf(err, errlen, "out of memory");
        return STORE_TRANSIENT;
    }
    /* One row per cluster feature, grouped by cluster: a label (a, for a
     * cluster with events: one without can carry no theme),
     * organisations (e: the subjects that tell stories apart), facts (f),
     * key terms (k: what a theme is about), event times (p), sources (s)
     * and tags (t). The same summary tests/support/trend_eval.c builds.
     * Row by row: there are about as many rows as events in the window. */
    store_rc_t rc = stream_rows(
        s,
        "WITH lim AS (SELECT max(last_seen) AS latest FROM clusters WHERE merged_into IS NULL), "
        "c AS (SELECT id, label FROM clusters, lim WHERE merged_into IS NULL "
        "AND last_seen >= lim.latest - make_interval(secs => $1::double precision)), "
        "ev AS (SELECT e.id, c.id AS cluster_id, e.source, e.published_at, e.extraction FROM c "
        "JOIN clusters m ON " CLUSTER_LIVE("m") " = c.id JOIN events e ON e.cluster_id = m.id) "
        "SELECT id, 'a' AS k, label AS name, 0 AS n, NULL::double precision AS amount, NULL AS currency, "
        "NULL AS predicate, NULL::bigint AS t FROM c WHERE EXISTS (SELECT 1 FROM ev WHERE ev.cluster_id = c.id) "
        "UNION ALL SELECT cluster_id, 'e', x->>'name', count(*)::int, NULL, NULL, NULL, NULL FROM ev, "
        "jsonb_array_elements(coalesce(ev.extraction->'entities', '[]')) x WHERE x->>'name' IS NOT NULL "
        "AND x->>'type' = 'org' GROUP BY 1, 3 "
        "UNION ALL SELECT cluster_id, 'k', x, count(*)::int, NULL, NULL, NULL, NULL FROM ev, "
        "jsonb_array_elements_text(coalesce(ev.extraction->'key_terms', '[]')) x GROUP BY 1, 3 "
        "UNION ALL SELECT ev.cluster_id, 'f', f.subject, 1, f.amount, f.currency, f.predicate, NULL FROM ev, "
        "extraction_facts(ev.extraction) f "
        "UNION ALL SELECT cluster_id, 'p', NULL, 1, NULL, NULL, NULL, "
        "(extract(epoch FROM published_at) * 1000000)::bigint FROM ev "
        "UNION ALL SELECT cluster_id, 's', source, count(*)::int, NULL, NULL, NULL, NULL FROM ev GROUP BY 1, 3 "
        "UNION ALL SELECT ev.cluster_id, 't', t.tag, count(*)::int, NULL, NULL, NULL, NULL FROM ev, "
        "extraction_tags(ev.extraction) t GROUP BY 1, 3 "
        "ORDER BY 1, 2, 3",
        1, p, "the trend input", trend_load_row, &l, err, errlen);
    if (rc == STORE_OK && trend_load_finish(&l) != 0) {
        snprintf(err, errlen, "out of memory");
        rc = STORE_TRANSIENT;
    }
    buf_free(&l.clusters);
    buf_free(&l.strs);
    buf_free(&l.facts);
    if (rc != STORE_OK) store_trend_input_free(l.in);
    else *out = l.in;
    return rc;
}

static char *json_strings(char *const *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    char *s = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    return s;
}

static char *json_totals(const trend_t *t)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < t->n_totals; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "predicate", t->totals[i].predicate);
        if (t->totals[i].currency) {
            cJSON_AddStringToObject(o, "currency", t->totals[i].currency);
            cJSON_AddNumberToObject(o, "total", t->totals[i].total);
        }
        cJSON_AddNumberToObject(o, "subjects", (double)t->totals[i].n_subjects);
        cJSON_AddItemToArray(a, o);
    }
    char *s = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    return s;
}

static int save_trend(store_t *s, const trend_t *t, char *err, size_t errlen)
{
    char score[40], acc[40], vol[24], rec[24], ear[24], ncl[24], nind[24], nsrc[24];
    snprintf(score, sizeof(score), "%.6f", t->score);
    snprintf(acc, sizeof(acc), "%.6f", t->acceleration);
    snprintf(vol, sizeof(vol), "%zu", t->volume);
    snprintf(rec, sizeof(rec), "%zu", t->recent);
    snprintf(ear, sizeof(ear), "%zu", t->earlier);
    snprintf(ncl, sizeof(ncl), "%zu", t->n_clusters);
    snprintf(nind, sizeof(nind), "%zu", t->n_independent);
    snprintf(nsrc, sizeof(nsrc), "%zu", t->n_sources);
    char *tags = json_strings(t->tags, t->n_tags), *ents = json_strings(t->entities, t->n_entities);
    char *totals = json_totals(t);
    int rc = -1;
    if (tags && ents && totals) {
        const char *p[] = {t->key, t->title, trend_direction_name(t->direction), score, acc, vol,
                           rec, ear, ncl, nind, nsrc, tags, ents, totals};
        rc = exec_ok(s,
                     "INSERT INTO trends (key, title, direction, score, acceleration, volume, recent, "
                     "earlier, clusters, independent, sources, tags, entities, totals, active) VALUES "
                     "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, true) "
                     "ON CONFLICT (key) DO UPDATE SET title = EXCLUDED.title, direction = EXCLUDED.direction, "
                     "score = EXCLUDED.score, acceleration = EXCLUDED.acceleration, volume = EXCLUDED.volume, "
                     "recent = EXCLUDED.recent, earlier = EXCLUDED.earlier, clusters = EXCLUDED.clusters, "
                     "independent = EXCLUDED.independent, sources = EXCLUDED.sources, tags = EXCLUDED.tags, "
                     "entities = EXCLUDED.entities, totals = EXCLUDED.totals, active = true, updated_at = now()",
                     14, p, err, errlen);
    }
    cJSON_free(tags);
    cJSON_free(ents);
    cJSON_free(totals);
    if (rc != 0) return -1;
    const char *pk[] = {t->key};
    if (exec_ok(s, "DELETE FROM trend_clusters WHERE trend_key = $1", 1, pk, err, errlen) != 0) return -1;
    for (size_t i = 0; i < t->n_evidence; i++) {
        const trend_evidence_t *e = &t->evidence[i];
        char id[24], amount[40], events[24], sources[24];
        snprintf(id, sizeof(id), "%lld", (long long)e->cluster_id);
        snprintf(amount, sizeof(amount), "%.17g", e->amount);
        snprintf(events, sizeof(events), "%zu", e->events);
        snprintf(sources, sizeof(sources), "%zu", e->n_sources);
        const char *p[] = {t->key, id, e->label, e->subject, e->predicate,
                           e->amount >= 0 ? amount : NULL, e->currency, events, sources,
                           e->independent ? "true" : "false"};
        if (exec_ok(s,
                    "INSERT INTO trend_clusters (trend_key, cluster_id, label, subject, predicate, amount, "
                    "currency, events, sources, independent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    10, p, err, errlen) != 0)
            return -1;
    }
    return 0;
}

store_rc_t store_trends_save(store_t *s, const trend_list_t *l, char *err, size_t errlen)
{
    if (store_connect(s, err, errlen) != STORE_OK) return STORE_TRANSIENT;
    int own = PQtransactionStatus(s->conn) == PQTRANS_IDLE; /* else the caller's (a rebuild) */
    if ((own && exec_ok(s, "BEGIN", 0, NULL, err, errlen) != 0) ||
        exec_ok(s, "UPDATE trends SET active = false WHERE active", 0, NULL, err, errlen) != 0)
        goto fail;
    for (size_t i = 0; i < l->n; i++)
        if (save_trend(s, &l->items[i], err, errlen) != 0) goto fail;
    if (own && exec_ok(s, "COMMIT", 0, NULL, err, errlen) != 0) goto fail;
    return STORE_OK;
fail:
    rollback(s);
    return STORE_TRANSIENT;
}

/* Runs a query whose answer is one text value and returns a copy of it. */
static store_rc_t query_text(store_t *s, const char *sql, int n, const char *const *params,
                             char **out, char *err, size_t errlen)
{
    *out = NULL;
    if (store_connect(s, err, errlen) != STORE_OK) return STORE_TRANSIENT;
    PGresult *r = exec_params(s, sql, n, params);
    if (check(s, r, PGRES_TUPLES_OK, err, errlen, 1) != 0) return STORE_TRANSIENT;
    *out = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return STORE_TRANSIENT;
    }
    return STORE_OK;
}

store_rc_t store_trends_json(store_t *s, int64_t since_us, char **out, char *err, size_t errlen)
{
    char since[24];
    snprintf(since, sizeof(since), "%lld", (long long)since_us);
    const char *p[] = {since_us == INT64_MIN ? NULL : since};
    return query_text(
        s,
        "SELECT coalesce(jsonb_agg(x ORDER BY x.score DESC, x.key), '[]')::text FROM ("
        "SELECT t.key, t.title, t.direction, t.score, t.acceleration, t.volume, t.clusters, "
        "t.independent, t.sources, t.tags, t.entities, t.totals, t.updated_at, l.last_event, "
        "(SELECT coalesce(jsonb_agg(jsonb_build_object('cluster_id', tc.cluster_id::text, 'label', tc.label, "
        "'subject', tc.subject, 'predicate', tc.predicate, 'amount', tc.amount, 'currency', tc.currency, "
        "'events', tc.events, 'sources', tc.sources, 'independent', tc.independent) "
        "ORDER BY tc.events DESC, tc.cluster_id), '[]') FROM trend_clusters tc WHERE tc.trend_key = t.key) AS evidence "
        "FROM trends t CROSS JOIN LATERAL (SELECT max(c.last_seen) AS last_event FROM trend_clusters tc "
        "JOIN clusters c ON c.id = tc.cluster_id WHERE tc.trend_key = t.key) l "
        "WHERE t.active AND ($1::bigint IS NULL OR l.last_event >= to_timestamp($1::bigint / 1000000.0))) x",
        1, p, out, err, errlen);
}

/* Days are whole UTC days since the epoch, so buckets do not depend on the
 * session time zone. */
static const char REPORT_SQL[] =
    "WITH lim AS (SELECT floor(extract(epoch FROM max(last_seen) - make_interval(secs => $1::double precision)) "
    "/ 86400)::bigint AS first_day, floor(extract(epoch FROM max(last_seen)) / 86400)::bigint AS last_day "
    "FROM clusters WHERE merged_into IS NULL), "
    "days AS (SELECT generate_series(first_day, last_day) AS day FROM lim), "
    "cday AS (SELECT " CLUSTER_LIVE("m") " AS cluster_id, "
    "floor(extract(epoch FROM e.published_at) / 86400)::bigint AS day, "
    "count(*) AS n FROM events e JOIN clusters m ON m.id = e.cluster_id, lim "
    "WHERE e.published_at >= to_timestamp(lim.first_day * 86400.0) "
    "AND e.published_at < to_timestamp((lim.last_day + 1) * 86400.0) GROUP BY 1, 2), "
    "tday AS (SELECT tc.trend_key, cday.day, sum(cday.n) AS n FROM trends t "
    "JOIN trend_clusters tc ON tc.trend_key = t.key JOIN cday ON cday.cluster_id = tc.cluster_id "
    "WHERE t.active GROUP BY 1, 2), "
    "top AS (SELECT c.id, c.label, c.docs, sum(cday.n) AS n FROM clusters c JOIN cday ON cday.cluster_id = c.id "
    "WHERE c.merged_into IS NULL GROUP BY c.id ORDER BY n DESC, c.id LIMIT $2::bigint), "
    "evid AS (SELECT DISTINCT tc.cluster_id FROM trends t JOIN trend_clusters tc ON tc.trend_key = t.key "
    "WHERE t.active) "
    "SELECT jsonb_build_object('first_day', (SELECT first_day FROM lim), 'days', (SELECT count(*) FROM days), "
    "'trends', (SELECT coalesce(jsonb_object_agg(t.key, (SELECT coalesce(jsonb_agg(coalesce(tday.n, 0) "
    "ORDER BY d.day), '[]') FROM days d LEFT JOIN tday ON tday.trend_key = t.key AND tday.day = d.day)), '{}') "
    "FROM trends t WHERE t.active), "
    "'clusters', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', top.id::text, 'label', top.label, "
    "'docs', top.docs, "
    "'sources', (SELECT count(DISTINCT e.source) FROM events e WHERE e.cluster_id IN " CLUSTER_MEMBERS("top.id") "), "
    "'before', (SELECT count(*) FROM events e, lim WHERE e.cluster_id IN " CLUSTER_MEMBERS("top.id") " "
    "AND e.published_at < to_timestamp(lim.first_day * 86400.0)), "
    "'series', (SELECT jsonb_agg(coalesce(cday.n, 0) ORDER BY d.day) FROM days d "
    "LEFT JOIN cday ON cday.cluster_id = top.id AND cday.day = d.day)) ORDER BY top.n DESC, top.id), '[]') "
    "FROM top), "
    "'evidence', (SELECT coalesce(jsonb_object_agg(evid.cluster_id::text, jsonb_build_object("
    "'sources', (SELECT coalesce(jsonb_agg(jsonb_build_object('source', x.source, 'events', x.n) "
    "ORDER BY x.n DESC, x.source), '[]') FROM (SELECT e.source, count(*) AS n FROM events e "
    "WHERE e.cluster_id IN " CLUSTER_MEMBERS("evid.cluster_id") " GROUP BY e.source) x), "
    "'facts', (SELECT coalesce(jsonb_agg(jsonb_build_object('subject', f.subject, 'predicate', f.predicate, "
    "'object', f.object, 'amount', f.amount, 'currency', f.currency, 'events', f.n) "
    "ORDER BY f.n DESC, f.subject, f.predicate), '[]') FROM (SELECT fa.subject, fa.predicate, "
    "min(fa.object) AS object, fa.amount, fa.currency, count(*) AS n FROM facts fa "
    "JOIN events e ON e.id = fa.event_id WHERE e.cluster_id IN " CLUSTER_MEMBERS("evid.cluster_id") " "
    "GROUP BY fa.subject, fa.predicate, fa.amount, fa.currency "
    "ORDER BY n DESC, fa.subject, fa.predicate LIMIT $3::bigint) f))), '{}') FROM evid))::text";

store_rc_t store_report_json(store_t *s, long window_s, long max_clusters, long max_facts,
                             char **out, char *err, size_t errlen)
{
    char win[24], maxc[24], maxf[24];
    snprintf(win, sizeof(win), "%ld", window_s);
    snprintf(maxc, sizeof(maxc), "%ld", max_clusters);
    snprintf(maxf, sizeof(maxf), "%ld", max_facts);
    const char *p[] = {win, maxc, maxf};
    return query_text(s, REPORT_SQL, 3, p, out, err, errlen);
}

store_rc_t store_offsets_reset(store_t *s, const char *group, const store_offset_t *offs, size_t n,
                               char *err, size_t errlen)
{
    if (store_connect(s, err, errlen) != STORE_OK) return STORE_TRANSIENT;
    if (exec_ok(s, "BEGIN", 0, NULL, err, errlen) != 0 ||
        offsets_write(s, group, offs, n, 0, err, errlen) != 0)
        goto fail;
    if (exec_ok(s, "COMMIT", 0, NULL, err, errlen) != 0) goto fail;
    return STORE_OK;
fail:
    rollback(s);
    return STORE_TRANSIENT;
}

/* ---- replay --rebuild (store.h) ---------------------------------------- */
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

void store_rebuild_guard(store_t *s)
{
    s->rebuild_guard = 1;
    drop_connection(s); /* an open one was made without the lock */
}

/* 1 when the lock was granted, 0 when not, -1 on a database error. */
static int try_lock(store_t *s, const char *sql, char *err, size_t errlen)
{
    PGresult *r = exec_params(s, sql, 0, NULL);
    if (check(s, r, PGRES_TUPLES_OK, err, errlen, 1) != 0) return -1;
    int got = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return got;
}

static int rebuild_guard_take(store_t *s, char *err, size_t errlen)
{
    int got = try_lock(s, "SELECT pg_try_advisory_lock_shared(" REBUILD_LOCK_KEY ")", err, errlen);
    if (got == 0) snprintf(err, errlen, "rebuild in progress (replay --rebuild holds the rebuild lock)");
    return got == 1 ? 0 : -1;
}

/* Every rebuild step runs on the connection that holds the lock and the
 * transaction; a lost connection is not replaced behind the rebuild's back. */
static int in_rebuild(store_t *s, char *err, size_t errlen)
{
    if (s->conn && PQtransactionStatus(s->conn) == PQTRANS_INTRANS) return 0;
    snprintf(err, errlen, "the rebuild transaction was lost (connection dropped or aborted)");
    return -1;
}

struct store_event_page {
    PGresult *res;
    store_stored_event_t *rows;
    size_t n;
};

store_rc_t store_rebuild_begin(store_t *s, char *err, size_t errlen)
{
    if (store_connect(s, err, errlen) != STORE_OK) return STORE_TRANSIENT;
    int got = try_lock(s, "SELECT pg_try_advisory_lock(" REBUILD_LOCK_KEY ")", err, errlen);
    if (got < 0) return STORE_TRANSIENT;
    if (!got) {
        snprintf(err, errlen, "consumers are running (or another rebuild): the rebuild lock is held; "
                 "stop every shoal-consumer on this database first");
        return STORE_REJECTED;
    }
    s->rebuild_locked = 1;
    if (exec_ok(s, "BEGIN", 0, NULL, err, errlen) != 0 ||
        exec_ok(s,
                "CREATE TEMP TABLE IF NOT EXISTS rebuild_stage (event_id text, cluster_id bigint) "
                "ON COMMIT DELETE ROWS",
                0, NULL, err, errlen) != 0 ||
        exec_ok(s, "UPDATE events SET cluster_id = NULL WHERE cluster_id IS NOT NULL", 0, NULL, err, errlen) != 0 ||
        exec_ok(s, "DELETE FROM clusters", 0, NULL, err, errlen) != 0 ||
        /* The consumer's clustering order (batch.c stage_cluster): batch
         * after batch (ingested_at is the batch transaction's time), then
         * as stored (cluster_seq; NULL in rows from before it: by Kafka
         * position). A cursor: one sort, read in pages. */
        exec_ok(s,
                "DECLARE rebuild_events NO SCROLL CURSOR FOR SELECT id, kind, source, title, body, lang, "
                "repo::text, tags::text, extraction::text, extracted_by, "
                "(extract(epoch FROM published_at) * 1000000)::bigint FROM events "
                "ORDER BY ingested_at, cluster_seq, kafka_topic, kafka_partition, kafka_offset, id",
                0, NULL, err, errlen) != 0) {
        store_rebuild_abort(s);
        return STORE_TRANSIENT;
    }
    return STORE_OK;
}

store_rc_t store_rebuild_next(store_t *s, store_event_page_t **page, char *err, size_t errlen)
{
    *page = NULL;
    if (in_rebuild(s, err, errlen) != 0) return STORE_TRANSIENT;
    PGresult *r = exec_params(s, "FETCH " STRINGIFY(STORE_REBUILD_PAGE) " FROM rebuild_events", 0, NULL);
    if (check(s, r, PGRES_TUPLES_OK, err, errlen, 1) != 0) return STORE_TRANSIENT;
    store_event_page_t *pg = calloc(1, sizeof(*pg));
    size_t n = (size_t)PQntuples(r);
    if (pg) pg->rows = calloc(n ? n : 1, sizeof(*pg->rows));
    if (!pg || !pg->rows) {
        free(pg);
        PQclear(r);
        snprintf(err, errlen, "out of memory");
        return STORE_TRANSIENT;
    }
    pg->res = r;
    pg->n = n;
#define COL(c) (PQgetisnull(r, (int)i, c) ? NULL : PQgetvalue(r, (int)i, c))
    for (size_t i = 0; i < n; i++) {
        pg->rows[i] = (store_stored_event_t){COL(0), COL(1), COL(2), COL(3), COL(4), COL(5), COL(6),
                                             COL(7), COL(8), COL(9), CLUSTER_TIME_NONE};
        if (!PQgetisnull(r, (int)i, 10)) pg->rows[i].published_us = strtoll(PQgetvalue(r, (int)i, 10), NULL, 10);
    }
#undef COL
    *page = pg;
    return STORE_OK;
}

const store_stored_event_t *store_event_page_rows(const store_event_page_t *p, size_t *n)
{
    *n = p->n;
    return p->rows;
}

void store_event_page_free(store_event_page_t *p)
{
    if (!p) return;
    PQclear(p->res);
    free(p->rows);
    free(p);
}

static void fill_assignment(void *opaque, size_t i, buf_t *b)
{
    const store_row_t *r = &((const store_row_t *)opaque)[i];
    if (!r->cluster_id) return;
    char cid[24];
    snprintf(cid, sizeof(cid), "%lld", (long long)r->cluster_id);
    const char *v[] = {r->ev->id, cid};
    copy_line(b, v, 2);
}

store_rc_t store_rebuild_write(store_t *s, const store_row_t *rows, size_t n,
                               const store_cluster_ops_t *cl, char *err, size_t errlen)
{
    if (in_rebuild(s, err, errlen) != 0) return STORE_TRANSIENT;
    for (size_t i = 0; i < n; i++) {
        int inserted;
        if (extraction_replace(s, &rows[i], &inserted, err, errlen) != 0) goto fail;
    }
    /* copy_in's fill callbacks take a mutable opaque; they only read. */
    store_row_t *rw = (store_row_t *)rows;
    const char *p[] = {cl && cl->instance ? cl->instance : ""};
    /* The same cluster writes as the consumer's batch: one increment per
     * cluster for docs and times (label from the page's first titles), the
     * merges, then the terms the page left its clusters with. */
    if (copy_in(s, "COPY rebuild_stage (event_id, cluster_id) FROM STDIN", n, fill_assignment, rw, err,
                errlen) != 0 ||
        exec_ok(s,
                "WITH up AS (UPDATE events e SET cluster_id = r.cluster_id FROM rebuild_stage r "
                "WHERE e.id = r.event_id RETURNING e.cluster_id, e.published_at, e.title), "
                CLUSTERS_UPSERT_FROM("up") " SELECT 1",
                1, p, err, errlen) != 0 ||
        exec_ok(s, "DELETE FROM rebuild_stage", 0, NULL, err, errlen) != 0 ||
        (cl && (cluster_merges_apply(s, cl, err, errlen) != 0 || cluster_terms_stage(s, cl, err, errlen) != 0 ||
                cluster_terms_set(s, cl, err, errlen) != 0)) ||
        exec_ok(s, "DELETE FROM cluster_stage", 0, NULL, err, errlen) != 0)
        goto fail;
    return STORE_OK;
fail:
    store_rebuild_abort(s);
    return STORE_TRANSIENT;
}

store_rc_t store_rebuild_commit(store_t *s, char *err, size_t errlen)
{
    if (in_rebuild(s, err, errlen) != 0 || exec_ok(s, "COMMIT", 0, NULL, err, errlen) != 0) {
        store_rebuild_abort(s);
        return STORE_TRANSIENT;
    }
    store_rebuild_abort(s); /* nothing left to roll back: releases the lock */
    return STORE_OK;
}

void store_rebuild_abort(store_t *s)
{
    rollback(s);
    char e[256];
    if (s->conn && s->rebuild_locked)
        exec_ok(s, "SELECT pg_advisory_unlock(" REBUILD_LOCK_KEY ")", 0, NULL, e, sizeof(e));
    s->rebuild_locked = 0;
}

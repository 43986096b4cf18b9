#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "clock.h"

static const double bucket_bounds[] = {METRICS_SECONDS_BUCKETS};
#define NBUCKETS (sizeof(bucket_bounds) / sizeof(bucket_bounds[0]))

typedef struct {
    metric_type_t type;
    const char *name, *labels, *help;
} row_t;

static const row_t rows[METRIC_COUNT] = {
#define METRICS_TABLE_ROW_(id, type, name, labels, help) [id] = {type, name, labels, help},
    SHOAL_METRICS(METRICS_TABLE_ROW_)
#undef METRICS_TABLE_ROW_
};

typedef struct {
    char **values; /* one per label name, owned */
    int present;   /* 0: hidden by metrics_remove() or a stats update */
    double value;  /* counter, gauge */
    /* Histogram: per-bucket counts, not cumulative (the last is +Inf);
     * render accumulates, so an observation touches one slot. */
    uint64_t buckets[NBUCKETS + 1];
    double sum;
    uint64_t count;
} series_t;

typedef struct {
    const row_t *row;
    char **label_names; /* owned */
    size_t nlabels;
    series_t **series;  /* each allocated once, so pointers stay valid */
    size_t nseries, cap;
} family_t;

/* NULL when not initialised. Everything below is guarded by lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static family_t *families;
static long long heartbeat_mono_ms;

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- Registry --------------------------------------------------------- */

static void series_free(series_t *s, size_t nlabels)
{
    if (!s) return;
    for (size_t i = 0; i < nlabels && s->values; i++) free(s->values[i]);
    free(s->values);
    free(s);
}

static void family_free(family_t *f)
{
    for (size_t i = 0; i < f->nseries; i++) series_free(f->series[i], f->nlabels);
    free(f->series);
    for (size_t i = 0; i < f->nlabels; i++) free(f->label_names[i]);
    free(f->label_names);
}

static void registry_free(family_t *fams)
{
    if (!fams) return;
    for (size_t i = 0; i < METRIC_COUNT; i++) family_free(&fams[i]);
    free(fams);
}

static int valid_name(const char *s, int colon_ok)
{
    if (!*s) return 0;
    for (const char *p = s; *p; p++) {
        int alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
                    (colon_ok && *p == ':');
        if (!alpha && !(p > s && *p >= '0' && *p <= '9')) return 0;
    }
    return 1;
}

/* The series whose label values equal labels; created (present) when
 * create is set and it does not exist. NULL when refused. */
static series_t *series_get(family_t *f, const char *const *labels, int create)
{
    if (f->nlabels == 0) return f->series[0];
    if (!labels) return NULL;
    for (size_t k = 0; k < f->nlabels; k++)
        if (!labels[k]) return NULL;
    for (size_t i = 0; i < f->nseries; i++) {
        size_t k = 0;
        while (k < f->nlabels && strcmp(f->series[i]->values[k], labels[k]) == 0) k++;
        if (k == f->nlabels) return f->series[i];
    }
    if (!create || f->nseries >= METRICS_MAX_SERIES) return NULL;
    if (f->nseries == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        series_t **n = realloc(f->series, cap * sizeof(series_t *));
        if (!n) return NULL;
        f->series = n;
        f->cap = cap;
    }
    series_t *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->values = calloc(f->nlabels, sizeof(*s->values));
    if (!s->values) {
        free(s);
        return NULL;
    }
    for (size_t k = 0; k < f->nlabels; k++) {
        s->values[k] = strdup(labels[k]);
        if (!s->values[k]) {
            series_free(s, f->nlabels);
            return NULL;
        }
    }
    s->present = 1;
    f->series[f->nseries++] = s;
    return s;
}

/* Splits the row's comma-separated label names and checks the row. */
static int family_init(family_t *f, const row_t *row, char *err, size_t errlen)
{
    f->row = row;
    if (!row->name || !valid_name(row->name, 1)) {
        snprintf(err, errlen, "metrics: bad metric name \"%s\"", row->name ? row->name : "(null)");
        return -1;
    }
    for (const char *p = row->labels; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char **names = realloc(f->label_names, (f->nlabels + 1) * sizeof(*names));
        if (!names) goto nomem;
        f->label_names = names;
        if (!(names[f->nlabels] = strndup(p, n))) goto nomem;
        const char *l = names[f->nlabels++];
        /* "le" is the bucket label; "__" names are reserved by Prometheus. */
        if (!valid_name(l, 0) || strncmp(l, "__", 2) == 0 ||
            (row->type == METRIC_HISTOGRAM && strcmp(l, "le") == 0)) {
            snprintf(err, errlen, "metrics: %s: bad label name \"%s\"", row->name, l);
            return -1;
        }
        for (size_t k = 0; k + 1 < f->nlabels; k++) {
            if (strcmp(f->label_names[k], l) == 0) {
                snprintf(err, errlen, "metrics: %s: label \"%s\" twice", row->name, l);
                return -1;
            }
        }
        p += n + (end ? 1 : 0);
    }
    if (f->nlabels == 0) {
        f->series = calloc(1, sizeof(series_t *));
        if (!f->series || !(f->series[0] = calloc(1, sizeof(series_t)))) goto nomem;
        f->series[0]->present = 1;
        f->nseries = f->cap = 1;
    }
    return 0;
nomem:
    snprintf(err, errlen, "metrics: out of memory");
    return -1;
}

int metrics_init(char *err, size_t errlen)
{
    for (size_t i = 0; i < NBUCKETS; i++) {
        if (!isfinite(bucket_bounds[i]) || (i > 0 && bucket_bounds[i] <= bucket_bounds[i - 1])) {
            snprintf(err, errlen, "metrics: METRICS_SECONDS_BUCKETS must be finite and increasing");
            return -1;
        }
    }
    family_t *fams = calloc(METRIC_COUNT, sizeof(*fams));
    if (!fams) {
        snprintf(err, errlen, "metrics: out of memory");
        return -1;
    }
    for (size_t i = 0; i < METRIC_COUNT; i++) {
        if (family_init(&fams[i], &rows[i], err, errlen) != 0) {
            registry_free(fams);
            return -1;
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(rows[k].name, rows[i].name) == 0) {
                snprintf(err, errlen, "metrics: %s registered twice", rows[i].name);
                registry_free(fams);
                return -1;
            }
        }
    }
    pthread_mutex_lock(&lock);
    int busy = families != NULL;
    if (!busy) {
        families = fams;
        double now = wall_seconds();
        families[METRIC_START_TIME].series[0]->value = now;
        families[METRIC_HEARTBEAT].series[0]->value = now;
        heartbeat_mono_ms = clock_monotonic_ms();
    }
    pthread_mutex_unlock(&lock);
    if (busy) {
        snprintf(err, errlen, "metrics: already initialised");
        registry_free(fams);
        return -1;
    }
    return 0;
}

void metrics_shutdown(void)
{
    pthread_mutex_lock(&lock);
    family_t *fams = families;
    families = NULL;
    pthread_mutex_unlock(&lock);
    registry_free(fams);
}

/* ---- Updates ---------------------------------------------------------- */

typedef enum { OP_ADD, OP_SET, OP_OBSERVE, OP_REMOVE } op_t;

static int update(metric_id_t id, const char *const *labels, double v, op_t op)
{
    if ((unsigned)id >= METRIC_COUNT) return -1;
    metric_type_t type = rows[id].type;
    switch (op) {
    case OP_ADD:
        if (type == METRIC_HISTOGRAM || isnan(v) || (type == METRIC_COUNTER && v < 0)) return -1;
        break;
    case OP_SET:
        if (type == METRIC_HISTOGRAM || (type == METRIC_COUNTER && !(v >= 0))) return -1;
        break;
    case OP_OBSERVE:
        if (type != METRIC_HISTOGRAM || isnan(v)) return -1;
        break;
    case OP_REMOVE: break;
    }
    int rc = -1;
    pthread_mutex_lock(&lock);
    if (!families) goto out;
    series_t *s = series_get(&families[id], labels, op != OP_REMOVE);
    if (op == OP_REMOVE) {
        if (s && families[id].nlabels > 0) s->present = 0;
        rc = 0;
        goto out;
    }
    if (!s) goto out;
    s->present = 1;
    if (op == OP_ADD) s->value += v;
    else if (op == OP_SET) s->value = v;
    else {
        size_t b = 0;
        while (b < NBUCKETS && v > bucket_bounds[b]) b++;
        s->buckets[b]++;
        s->sum += v;
        s->count++;
    }
    rc = 0;
out:
    pthread_mutex_unlock(&lock);
    return rc;
}

int metrics_add(metric_id_t id, const char *const *labels, double v) { return update(id, labels, v, OP_ADD); }
int metrics_set(metric_id_t id, const char *const *labels, double v) { return update(id, labels, v, OP_SET); }
int metrics_observe(metric_id_t id, const char *const *labels, double v) { return update(id, labels, v, OP_OBSERVE); }
int metrics_remove(metric_id_t id, const char *const *labels) { return update(id, labels, 0, OP_REMOVE); }

int metrics_get(metric_id_t id, const char *const *labels, double *out)
{
    if ((unsigned)id >= METRIC_COUNT || rows[id].type == METRIC_HISTOGRAM) return -1;
    int rc = -1;
    pthread_mutex_lock(&lock);
    series_t *s = families ? series_get(&families[id], labels, 0) : NULL;
    if (s && s->present) {
        *out = s->value;
        rc = 0;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

void metrics_heartbeat(void)
{
    double wall = wall_seconds();
    long long mono = clock_monotonic_ms();
    pthread_mutex_lock(&lock);
    if (families) {
        families[METRIC_HEARTBEAT].series[0]->value = wall;
        heartbeat_mono_ms = mono;
    }
    pthread_mutex_unlock(&lock);
}

long long metrics_heartbeat_age_ms(void)
{
    long long now = clock_monotonic_ms(), age = -1;
    pthread_mutex_lock(&lock);
    if (families) age = now - heartbeat_mono_ms;
    pthread_mutex_unlock(&lock);
    return age;
}

/* ---- Exposition ------------------------------------------------------- */

/* Shortest of %.15g / %.17g that reads back as v; Prometheus spells the
 * non-finite values +Inf, -Inf and NaN. */
static void format_number(char out[32], double v)
{
    if (isnan(v)) snprintf(out, 32, "NaN");
    else if (isinf(v)) snprintf(out, 32, "%s", v > 0 ? "+Inf" : "-Inf");
    else {
        snprintf(out, 32, "%.15g", v);
        if (strtod(out, NULL) != v) snprintf(out, 32, "%.17g", v);
    }
}

static void put_number(buf_t *b, double v)
{
    char s[32];
    format_number(s, v);
    buf_puts(b, s);
}

/* HELP text escapes \ and newline; label values also escape ". */
static void put_escaped(buf_t *b, const char *s, int quote)
{
    const char *run = s;
    for (const char *p = s;; p++) {
        const char *esc;
        if (*p == '\\') esc = "\\\\";
        else if (*p == '\n') esc = "\\n";
        else if (*p == '"' && quote) esc = "\\\"";
        else if (*p == '\0') break;
        else continue;
        buf_append(b, run, (size_t)(p - run));
        buf_puts(b, esc);
        run = p + 1;
    }
    buf_puts(b, run);
}

/* {name="value",...[,le="bound"]}, or nothing when there are no labels. */
static void put_labels(buf_t *b, const family_t *f, const series_t *s, const char *le)
{
    if (f->nlabels == 0 && !le) return;
    buf_puts(b, "{");
    for (size_t k = 0; k < f->nlabels; k++) {
        buf_printf(b, "%s%s=\"", k ? "," : "", f->label_names[k]);
        put_escaped(b, s->values[k], 1);
        buf_puts(b, "\"");
    }
    if (le) buf_printf(b, "%sle=\"%s\"", f->nlabels ? "," : "", le);
    buf_puts(b, "}");
}

static void put_histogram(buf_t *b, const family_t *f, const series_t *s)
{
    const char *name = f->row->name;
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= NBUCKETS; i++) {
        char le[32] = "+Inf";
        if (i < NBUCKETS) format_number(le, bucket_bounds[i]);
        cumulative += s->buckets[i];
        buf_printf(b, "%s_bucket", name);
        put_labels(b, f, s, le);
        buf_printf(b, " %llu\n", (unsigned long long)cumulative);
    }
    buf_printf(b, "%s_sum", name);
    put_labels(b, f, s, NULL);
    buf_puts(b, " ");
    put_number(b, s->sum);
    buf_printf(b, "\n%s_count", name);
    put_labels(b, f, s, NULL);
    buf_printf(b, " %llu\n", (unsigned long long)s->count);
}

int metrics_render(buf_t *out)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    pthread_mutex_lock(&lock);
    if (!families) {
        pthread_mutex_unlock(&lock);
        return -1;
    }
    for (size_t i = 0; i < METRIC_COUNT; i++) {
        const family_t *f = &families[i];
        buf_printf(out, "# HELP %s ", f->row->name);
        put_escaped(out, f->row->help, 0);
        buf_printf(out, "\n# TYPE %s %s\n", f->row->name, type_names[f->row->type]);
        for (size_t j = 0; j < f->nseries; j++) {
            const series_t *s = f->series[j];
            if (!s->present) continue;
            if (f->row->type == METRIC_HISTOGRAM) {
                put_histogram(out, f, s);
                continue;
            }
            buf_puts(out, f->row->name);
            put_labels(out, f, s, NULL);
            buf_puts(out, " ");
            put_number(out, s->value);
            buf_puts(out, "\n");
        }
    }
    pthread_mutex_unlock(&lock);
    return out->failed ? -1 : 0;
}

/* ---- librdkafka statistics ------------------------------------------- */

int metrics_update_from_rdkafka_stats(const char *json)
{
    cJSON *root = json ? cJSON_Parse(json) : NULL;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return -1;
    }
    int n = -1;
    pthread_mutex_lock(&lock);
    if (!families) goto out;
    family_t *f = &families[METRIC_CONSUMER_LAG];
    if (f->nlabels != 2) goto out; /* the labels below: topic, partition */
    /* Hide everything, then show what this document reports: a partition
     * revoked since the last document must not keep its old lag. */
    for (size_t i = 0; i < f->nseries; i++) f->series[i]->present = 0;
    n = 0;
    const cJSON *topics = cJSON_GetObjectItemCaseSensitive(root, "topics"), *t;
    cJSON_ArrayForEach(t, topics)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "topic"), *p;
        const char *topic = cJSON_IsString(name) ? name->valuestring : t->string;
        if (!topic) continue;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(t, "partitions"))
        {
            const cJSON *part = cJSON_GetObjectItemCaseSensitive(p, "partition");
            const cJSON *lag = cJSON_GetObjectItemCaseSensitive(p, "consumer_lag");
            /* Partition -1 is librdkafka's internal UA queue; a lag of -1
             * means not known yet (not assigned, nothing committed). */
            if (!cJSON_IsNumber(part) || !cJSON_IsNumber(lag) || part->valuedouble < 0 ||
                part->valuedouble > INT32_MAX || lag->valuedouble < 0)
                continue;
            char pid[16];
            snprintf(pid, sizeof(pid), "%d", (int)part->valuedouble);
            const char *labels[] = {topic, pid};
            series_t *s = series_get(f, labels, 1);
            if (!s) continue;
            s->value = lag->valuedouble;
            s->present = 1;
            n++;
        }
    }
out:
    pthread_mutex_unlock(&lock);
    cJSON_Delete(root);
    return n;
}

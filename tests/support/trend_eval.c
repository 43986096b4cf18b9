/* trend_eval: the trend path in-process over a JSONL corpus of events.
 *
 *   trend_eval FILE [--window-days D] [--min-clusters N] [--min-sources N]
 *
 * Each line goes through the consumer's stages: event_decode, the built-in
 * extractor, the clustering engine (extracted entity names as cluster
 * entities). Then one summary per final cluster (after merges) feeds
 * trends_compute at the time of the last event, and the trends are printed:
 *
 *   trend KEY "TITLE" DIRECTION score=S acceleration=A events=N (recent R, earlier E)
 *         clusters=C independent=I sources=P
 *     tags: ... / terms: ... / entities: ...
 *     total PREDICATE AMOUNT CURRENCY from K subjects
 *     evidence cluster=ID subject="..." PREDICATE AMOUNT CURRENCY events=N sources=P
 *              [independent] "LABEL"
 *
 * The events' own "tags" are not given to the extractor: in the bundled
 * corpora they are the gold story labels, and trends must be found without
 * them. Exit status: 0, or 1 on a bad file or an internal error. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "event.h"
#include "extract/extract.h"
#include "trend.h"

typedef struct {
    event_t ev;
    cJSON *x;        /* extraction, owned */
    int64_t cluster; /* final, after merges */
    size_t line;
} item_t;

typedef struct {
    int64_t from, into;
} alias_t;

/* A (string, event) pair; counting distinct events per string. */
typedef struct {
    const char *s;
    size_t ev;
} occ_t;

/* A summary's arrays, kept apart so they can be freed. */
typedef struct {
    const char **sources, **tags, **terms, **entities;
    int *tag_counts, *term_counts, *entity_counts;
    trend_fact_t *facts;
    int64_t *times;
} arrays_t;

/* A test tool: running out of memory ends it. */
static void *xalloc(size_t n)
{
    void *p = calloc(n ? n : 1, 1);
    if (!p) abort();
    return p;
}

static void *xgrow(void *p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap) return p;
    *cap = *cap ? *cap * 2 : 256;
    if (*cap < need) *cap = need;
    p = realloc(p, *cap * sz);
    if (!p) abort();
    return p;
}

static int cmp_occ(const void *a, const void *b)
{
    const occ_t *p = a, *q = b;
    int d = strcmp(p->s, q->s);
    return d ? d : (p->ev > q->ev) - (p->ev < q->ev);
}

/* Distinct strings of occ[0..n) with the number of distinct events each. */
static size_t tally(occ_t *occ, size_t n, const char ***names, int **counts)
{
    qsort(occ, n, sizeof *occ, cmp_occ);
    *names = xalloc(n * sizeof **names);
    *counts = xalloc(n * sizeof **counts);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && !strcmp((*names)[k - 1], occ[i].s)) {
            if (occ[i].ev != occ[i - 1].ev) (*counts)[k - 1]++;
            continue;
        }
        (*names)[k] = occ[i].s;
        (*counts)[k++] = 1;
    }
    return k;
}

static int cmp_item_cluster(const void *a, const void *b)
{
    const item_t *p = a, *q = b;
    if (p->cluster != q->cluster) return p->cluster < q->cluster ? -1 : 1;
    return (p->line > q->line) - (p->line < q->line);
}

static int cmp_alias(const void *a, const void *b)
{
    int64_t x = ((const alias_t *)a)->from, y = ((const alias_t *)b)->from;
    return (x > y) - (x < y);
}

static int64_t resolve(const alias_t *al, size_t n, int64_t id)
{
    for (;;) {
        alias_t key = {id, 0};
        const alias_t *a = bsearch(&key, al, n, sizeof *al, cmp_alias);
        if (!a) return id;
        id = a->into; /* merges go into the lower id, so chains end */
    }
}

static const char *str_item(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The strings in array `key` of each event's extraction, tagged with the
 * event's index. With type, the array holds entities: their names of that
 * type. */
static size_t gather(const item_t *it, size_t n, const char *key, const char *type, occ_t **occ,
                     size_t *cap)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const cJSON *v;
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(it[i].x, key))
        {
            const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
            if (type) {
                const char *ty = str_item(v, "type");
                s = ty && !strcmp(ty, type) ? str_item(v, "name") : NULL;
            }
            if (!s) continue;
            *occ = xgrow(*occ, cap, m + 1, sizeof **occ);
            (*occ)[m++] = (occ_t){s, i};
        }
    }
    return m;
}

/* The cluster summary of events it[0..n), all in one cluster. */
static void summarise(const item_t *it, size_t n, trend_cluster_t *c, arrays_t *a)
{
    occ_t *occ = NULL;
    size_t cap = 0, m;
    memset(c, 0, sizeof *c);
    c->cluster_id = it[0].cluster;
    size_t first = 0;
    for (size_t i = 0; i < n; i++)
        if (it[i].ev.published_at_us < it[first].ev.published_at_us) first = i;
    c->label = it[first].ev.title;

    occ = xgrow(occ, &cap, n, sizeof *occ);
    for (size_t i = 0; i < n; i++) occ[i] = (occ_t){it[i].ev.source, i};
    int *ignored;
    c->n_sources = tally(occ, n, &a->sources, &ignored);
    free(ignored);
    c->sources = a->sources;

    m = gather(it, n, "tags", NULL, &occ, &cap);
    c->n_tags = tally(occ, m, &a->tags, &a->tag_counts);
    c->tags = a->tags;
    c->tag_counts = a->tag_counts;
    m = gather(it, n, "key_terms", NULL, &occ, &cap);
    c->n_terms = tally(occ, m, &a->terms, &a->term_counts);
    c->terms = a->terms;
    c->term_counts = a->term_counts;
    /* Organisations: the subject of a story without facts is one. */
    m = gather(it, n, "entities", "org", &occ, &cap);
    c->n_entities = tally(occ, m, &a->entities, &a->entity_counts);
    c->entities = a->entities;
    c->entity_counts = a->entity_counts;
    free(occ);

    size_t nf = 0;
    for (size_t i = 0; i < n; i++)
        nf += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(it[i].x, "facts"));
    a->facts = xalloc(nf * sizeof *a->facts);
    for (size_t i = 0; i < n; i++) {
        const cJSON *f;
        cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(it[i].x, "facts"))
        {
            const cJSON *amt = cJSON_GetObjectItemCaseSensitive(f, "amount");
            const char *cur = str_item(f, "currency");
            trend_fact_t tf = {str_item(f, "subject"), str_item(f, "predicate"), -1, NULL};
            if (cJSON_IsNumber(amt) && cur) {
                tf.amount = amt->valuedouble;
                tf.currency = cur;
            }
            if (tf.subject && tf.predicate) a->facts[c->n_facts++] = tf;
        }
    }
    c->facts = a->facts;
    a->times = xalloc(n * sizeof *a->times);
    for (size_t i = 0; i < n; i++)
        a->times[i] = it[i].ev.published_at_us == EVENT_TIME_NONE ? TREND_TIME_NONE
                                                                  : it[i].ev.published_at_us;
    c->event_times_us = a->times;
    c->n_events = n;
}

static void arrays_free(arrays_t *a)
{
    free(a->sources);
    free(a->tags);
    free(a->terms);
    free(a->entities);
    free(a->tag_counts);
    free(a->term_counts);
    free(a->entity_counts);
    free(a->facts);
    free(a->times);
}

/* 11.2e9 -> "11.2B". */
static const char *fmt_amount(double v, char *buf, size_t len)
{
    static const struct {
        double scale;
        const char *suffix;
    } units[] = {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}, {1, ""}};
    size_t u = 0;
    while (u + 1 < sizeof units / sizeof units[0] && v < units[u].scale) u++;
    snprintf(buf, len, "%.4g%s", v / units[u].scale, units[u].suffix);
    return buf;
}

static void print_names(const char *what, char *const *v, size_t n)
{
    printf("  %s:", what);
    for (size_t i = 0; i < n; i++) printf("%s %s", i ? "," : "", v[i]);
    printf("\n");
}

static void print_trend(const trend_t *t)
{
    char a[32];
    printf("trend %s \"%s\" %s score=%.2f acceleration=%.2f events=%zu (recent %zu, earlier %zu) "
           "clusters=%zu independent=%zu sources=%zu\n",
           t->key, t->title, trend_direction_name(t->direction), t->score, t->acceleration,
           t->volume, t->recent, t->earlier, t->n_clusters, t->n_independent, t->n_sources);
    print_names("tags", t->tags, t->n_tags);
    print_names("terms", t->terms, t->n_terms);
    print_names("entities", t->entities, t->n_entities);
    for (size_t k = 0; k < t->n_totals; k++) {
        const trend_total_t *s = &t->totals[k];
        if (s->currency)
            printf("  total %s %s %s from %zu subjects\n", s->predicate,
                   fmt_amount(s->total, a, sizeof a), s->currency, s->n_subjects);
        else printf("  total %s from %zu subjects\n", s->predicate, s->n_subjects);
    }
    for (size_t k = 0; k < t->n_evidence; k++) {
        const trend_evidence_t *e = &t->evidence[k];
        printf("  evidence cluster=%" PRId64 " subject=\"%s\"", e->cluster_id,
               e->subject ? e->subject : "");
        if (e->predicate) printf(" %s", e->predicate);
        if (e->amount >= 0) printf(" %s %s", fmt_amount(e->amount, a, sizeof a), e->currency);
        printf(" events=%zu sources=%zu%s \"%s\"\n", e->events, e->n_sources,
               e->independent ? " independent" : "", e->label ? e->label : "");
    }
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    trend_config_t cfg;
    trend_config_default(&cfg);
    int usage = 0;
    for (int i = 1; i < argc && !usage; i++) {
        if (!strcmp(argv[i], "--window-days") && i + 1 < argc)
            cfg.window_us = (int64_t)(strtod(argv[++i], NULL) * 86400e6);
        else if (!strcmp(argv[i], "--min-clusters") && i + 1 < argc)
            cfg.min_clusters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-sources") && i + 1 < argc)
            cfg.min_sources = atoi(argv[++i]);
        else if (!path && argv[i][0] != '-') path = argv[i];
        else usage = 1;
    }
    if (!path || usage) {
        fprintf(stderr, "usage: trend_eval FILE [--window-days D] [--min-clusters N] "
                        "[--min-sources N]\n");
        return 2;
    }
    char err[256];
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return 1;
    }
    extractor_t *x = extractor_new("schema/taxonomy.json", NULL, err, sizeof err);
    cluster_engine_t *eng = x ? cluster_engine_new(NULL, err, sizeof err) : NULL;
    if (!eng) {
        fprintf(stderr, "trend_eval: %s\n", err);
        extractor_destroy(x);
        fclose(f);
        return 1;
    }
    item_t *items = NULL;
    alias_t *al = NULL;
    size_t n = 0, cap = 0, nal = 0, capal = 0, lineno = 0, linecap = 0, bad = 0;
    char *line = NULL;
    ssize_t len;
    int64_t now = TREND_TIME_NONE;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &linecap, f)) > 0) {
        lineno++;
        if (len == 1 && line[0] == '\n') continue;
        items = xgrow(items, &cap, n + 1, sizeof *items);
        item_t *it = &items[n];
        memset(it, 0, sizeof *it);
        it->line = lineno;
        if (event_decode(line, (size_t)len, NULL, &it->ev, err, sizeof err) != EVENT_OK) {
            fprintf(stderr, "%s:%zu: %s\n", path, lineno, err);
            bad++;
            continue;
        }
        extract_input_t in = {.kind = (int)it->ev.kind, .title = it->ev.title, .text = it->ev.text,
                              .source = it->ev.source, .lang = it->ev.lang, .repo = it->ev.repo};
        if (!(it->x = extractor_run(x, &in, err, sizeof err))) {
            fprintf(stderr, "%s:%zu: extract: %s\n", path, lineno, err);
            event_clear(&it->ev);
            rc = 1;
            break;
        }
        const cJSON *ents = cJSON_GetObjectItemCaseSensitive(it->x, "entities"), *e;
        size_t ne = 0;
        const char **names = xalloc((size_t)cJSON_GetArraySize(ents) * sizeof *names);
        cJSON_ArrayForEach(e, ents) if (str_item(e, "name")) names[ne++] = str_item(e, "name");
        cluster_doc_t doc = {.id = it->ev.id, .title = it->ev.title, .text = it->ev.text,
                             .lang = it->ev.lang, .entities = names, .n_entities = ne,
                             .published_us = it->ev.published_at_us};
        cluster_result_t r;
        if (cluster_engine_add(eng, &doc, &r, err, sizeof err) < 0) {
            fprintf(stderr, "%s:%zu: cluster: %s\n", path, lineno, err);
            rc = 1;
        }
        free(names);
        n++;
        if (rc) break;
        it->cluster = r.cluster_id;
        for (size_t k = 0; k < r.n_merges; k++) {
            al = xgrow(al, &capal, nal + 1, sizeof *al);
            al[nal++] = (alias_t){r.merges[k].from, r.merges[k].into};
        }
        if (it->ev.published_at_us != EVENT_TIME_NONE &&
            (now == TREND_TIME_NONE || it->ev.published_at_us > now))
            now = it->ev.published_at_us;
    }
    free(line);
    fclose(f);
    cluster_engine_destroy(eng);
    extractor_destroy(x);

    trend_list_t *list = NULL;
    trend_cluster_t *cl = NULL;
    arrays_t *arr = NULL;
    size_t ncl = 0;
    if (rc == 0 && now == TREND_TIME_NONE) {
        fprintf(stderr, "%s: no event with a time\n", path);
        rc = 1;
    }
    if (rc == 0) {
        if (nal) qsort(al, nal, sizeof *al, cmp_alias);
        for (size_t i = 0; i < n && nal; i++) items[i].cluster = resolve(al, nal, items[i].cluster);
        qsort(items, n, sizeof *items, cmp_item_cluster);
        cl = xalloc(n * sizeof *cl);
        arr = xalloc(n * sizeof *arr);
        for (size_t i = 0, j; i < n; i = j) {
            for (j = i + 1; j < n && items[j].cluster == items[i].cluster; j++) {}
            summarise(items + i, j - i, &cl[ncl], &arr[ncl]);
            ncl++;
        }
        if (trends_compute(&cfg, cl, ncl, now, &list, err, sizeof err) < 0) {
            fprintf(stderr, "trends: %s\n", err);
            rc = 1;
        }
    }
    if (rc == 0) {
        char when[32];
        event_format_time(now, when, sizeof when);
        printf("%s: %zu events (%zu rejected), %zu clusters, at %s: %zu trends\n", path, n, bad,
               ncl, when, list->n);
        for (size_t k = 0; k < list->n; k++) print_trend(&list->items[k]);
    }
    trend_list_destroy(list);
    for (size_t k = 0; k < ncl; k++) arrays_free(&arr[k]);
    free(arr);
    free(cl);
    for (size_t i = 0; i < n; i++) {
        cJSON_Delete(items[i].x);
        event_clear(&items[i].ev);
    }
    free(items);
    free(al);
    return rc;
}

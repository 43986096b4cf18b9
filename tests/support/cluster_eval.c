/* cluster_eval: run the clustering engine in-process over a labelled JSONL
 * file, in file order, and score it against the gold clusters.
 *
 *   cluster_eval FILE [--pred OUT] [--set key=value ...] [--synthetic-clusters N]
 *
 * Lines: {"id", "title", "text", "published_at" (RFC 3339 or null), "source",
 * "gold_cluster"} and optionally "entities" (array of names). Prints B-cubed
 * and pairwise precision/recall/F1 and the throughput. --pred writes
 * {"id":..., "cluster":...} per line, the final cluster after merges.
 *
 * --score PRED scores an assignment made elsewhere instead (PRED: lines
 * {"id", "cluster"}, e.g. read back from PostgreSQL by `make eval`); events
 * of FILE missing from PRED count as singletons.
 *
 * --synthetic-clusters N first loads N synthetic active clusters whose terms
 * are drawn from the file's own word distribution (so real events walk
 * their posting lists), to measure how the cost per event grows with the
 * number of active clusters. Quality numbers are then not meaningful. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bcubed.h"
#include "clock.h"
#include "cluster.h"
#include "event.h"
#include "text.h"

typedef struct {
    char *id, *gold;
    int64_t cluster;
} item_t;

typedef struct {
    int64_t from, into;
} alias_t;

/* One pass over the file. */
typedef struct {
    item_t *items;
    size_t n, cap;
    alias_t *alias; /* merges seen */
    size_t na, capa;
    char **terms; /* every delta term, when counting document frequencies */
    size_t nterms, capterms;
    double secs; /* inside cluster_engine_add */
} run_t;

/* A test tool: running out of memory ends it. */
static void *xrealloc(void *p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap) return p;
    *cap = *cap ? *cap * 2 : 1024;
    if (*cap < need) *cap = need;
    p = realloc(p, *cap * sz);
    if (!p) abort();
    return p;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p) abort();
    return p;
}

typedef struct {
    const char *name;
    int is_double;
    size_t off;
} knob_t;

#define KNOB(f, d) {#f, d, offsetof(cluster_config_t, f)}
static const knob_t knobs[] = {
    KNOB(assign_threshold, 1), KNOB(merge_threshold, 1), KNOB(centroid_power, 1),
    KNOB(size_prior, 1),       KNOB(title_weight, 1),    KNOB(body_weight, 1),
    KNOB(entity_weight, 1),    KNOB(bigram_weight, 1),
    KNOB(max_body_tokens, 0),  KNOB(max_terms, 0),       KNOB(index_terms, 0),
    KNOB(query_terms, 0),      KNOB(max_postings, 0),    KNOB(max_candidates, 0),
};

static int set_knob(cluster_config_t *cfg, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq) return -1;
    for (size_t i = 0; i < sizeof knobs / sizeof knobs[0]; i++) {
        if (strlen(knobs[i].name) != (size_t)(eq - kv) || strncmp(knobs[i].name, kv, (size_t)(eq - kv)))
            continue;
        char *end;
        errno = 0;
        double v = strtod(eq + 1, &end);
        if (*end || errno || v < 0) return -1;
        if (knobs[i].is_double) *(double *)((char *)cfg + knobs[i].off) = v;
        else *(size_t *)((char *)cfg + knobs[i].off) = (size_t)v;
        return 0;
    }
    if (!strncmp(kv, "window_hours=", 13)) {
        cfg->window_us = (int64_t)(strtod(eq + 1, NULL) * 3600e6);
        return 0;
    }
    return -1;
}

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64*: deterministic across runs */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static int cmp_alias(const void *a, const void *b)
{
    int64_t x = ((const alias_t *)a)->from, y = ((const alias_t *)b)->from;
    return (x > y) - (x < y);
}

/* Loads n full-size clusters (100 terms, the default cap): 24 words sampled
 * from the file's titles, so common words are common here too and real
 * events walk their posting lists, and 76 from a made-up vocabulary of
 * 200,000 words, for a realistic vocabulary size. */
static int load_synthetic(cluster_engine_t *e, const char *path, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char *line = NULL, **words = NULL, err[256];
    size_t cap = 0, nw = 0, capw = 0;
    while (getline(&line, &cap, f) > 0) {
        cJSON *j = cJSON_Parse(line);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "title");
        if (cJSON_IsString(t)) {
            text_iter_t it;
            text_token_t tok;
            char w[64];
            text_iter_init(&it, t->valuestring, strlen(t->valuestring));
            while (text_iter_next(&it, &tok)) {
                size_t k = text_normalize(tok.start, tok.len, w, sizeof w);
                if (k < 2 || k >= sizeof w - 1 || text_is_stopword(w, k, "en")) continue;
                words = xrealloc(words, &capw, nw + 1, sizeof(*words));
                words[nw++] = xstrdup(w);
            }
        }
        cJSON_Delete(j);
    }
    free(line);
    fclose(f);
    uint64_t s = 0x9E3779B97F4A7C15ULL;
    enum { REAL = 24, MADE_UP = 76 };
    char names[MADE_UP][24];
    cluster_term_t terms[REAL + MADE_UP];
    int rc = 0;
    for (size_t c = 0; c < n && rc == 0 && nw; c++) {
        size_t k = 0;
        for (; k < REAL; k++)
            terms[k] = (cluster_term_t){words[rng_next(&s) % nw], 0.2 + (double)(rng_next(&s) % 800) / 1000};
        for (int m = 0; m < MADE_UP; m++, k++) {
            snprintf(names[m], sizeof names[m], "syn%" PRIu64, rng_next(&s) % 200000);
            terms[k] = (cluster_term_t){names[m], 0.2 + (double)(rng_next(&s) % 800) / 1000};
        }
        cluster_state_t st = {(int64_t)(rng_next(&s) >> 1) | 1, 3, CLUSTER_TIME_NONE, terms, k};
        rc = cluster_engine_load(e, &st, err, sizeof err);
        if (rc) fprintf(stderr, "synthetic: %s\n", err);
    }
    for (size_t i = 0; i < nw; i++) free(words[i]);
    free(words);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: cluster_eval FILE [--pred OUT] [--set key=value ...] "
                    "[--synthetic-clusters N] [--idf-prepass]\n       cluster_eval FILE --score PRED\nkeys:");
    for (size_t i = 0; i < sizeof knobs / sizeof knobs[0]; i++) fprintf(stderr, " %s", knobs[i].name);
    fprintf(stderr, " window_hours\n");
    return 2;
}

static int run_file(cluster_engine_t *e, const char *path, run_t *run, int count_df)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t lineno = 0, linecap = 0;
    char *line = NULL, err[256];
    int rc = 0;
    while (rc == 0 && getline(&line, &linecap, f) > 0) {
        lineno++;
        cJSON *j = cJSON_Parse(line);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
        const cJSON *gold = cJSON_GetObjectItemCaseSensitive(j, "gold_cluster");
        const cJSON *title = cJSON_GetObjectItemCaseSensitive(j, "title");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(j, "text");
        const cJSON *pub = cJSON_GetObjectItemCaseSensitive(j, "published_at");
        const cJSON *ents = cJSON_GetObjectItemCaseSensitive(j, "entities");
        if (!cJSON_IsString(id) || !cJSON_IsString(gold)) {
            fprintf(stderr, "%s:%zu: needs string id and gold_cluster\n", path, lineno);
            cJSON_Delete(j);
            rc = -1;
            break;
        }
        const char *ent[64];
        size_t nent = 0;
        const cJSON *x;
        cJSON_ArrayForEach(x, ents) if (cJSON_IsString(x) && nent < 64) ent[nent++] = x->valuestring;
        cluster_doc_t d = {.id = id->valuestring,
                           .title = cJSON_IsString(title) ? title->valuestring : NULL,
                           .text = cJSON_IsString(text) ? text->valuestring : NULL,
                           .entities = ent,
                           .n_entities = nent,
                           .published_us = CLUSTER_TIME_NONE};
        if (cJSON_IsString(pub) && event_parse_time(pub->valuestring, &d.published_us) < 0) {
            fprintf(stderr, "%s:%zu: bad published_at, ignored\n", path, lineno);
            d.published_us = CLUSTER_TIME_NONE;
        }
        cluster_result_t r;
        double t0 = clock_monotonic_s();
        if (cluster_engine_add(e, &d, &r, err, sizeof err) < 0) {
            fprintf(stderr, "%s:%zu: %s\n", path, lineno, err);
            rc = -1;
        }
        run->secs += clock_monotonic_s() - t0;
        run->items = xrealloc(run->items, &run->cap, run->n + 1, sizeof(item_t));
        run->items[run->n++] =
            (item_t){xstrdup(id->valuestring), xstrdup(gold->valuestring), r.cluster_id};
        for (size_t i = 0; i < r.n_merges; i++) {
            run->alias = xrealloc(run->alias, &run->capa, run->na + 1, sizeof(alias_t));
            run->alias[run->na++] = (alias_t){r.merges[i].from, r.merges[i].into};
        }
        for (size_t i = 0; count_df && i < r.delta.n_terms; i++) {
            run->terms = xrealloc(run->terms, &run->capterms, run->nterms + 1, sizeof(char *));
            run->terms[run->nterms++] = xstrdup(r.delta.terms[i].term);
        }
        cJSON_Delete(j);
    }
    free(line);
    fclose(f);
    return rc;
}

static void run_free(run_t *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].id);
        free(r->items[i].gold);
    }
    for (size_t i = 0; i < r->nterms; i++) free(r->terms[i]);
    free(r->items);
    free(r->alias);
    free(r->terms);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A background IDF table, as a long-running deployment would have: the
 * document frequencies of a first pass (each delta term is one count). */
static int seed_idf(cluster_engine_t *e, const cluster_config_t *cfg, const char *path)
{
    char err[256];
    run_t pre = {0};
    cluster_engine_t *p = cluster_engine_new(cfg, err, sizeof err);
    int rc = p ? run_file(p, path, &pre, 1) : -1;
    cluster_engine_destroy(p);
    if (rc == 0) {
        if (pre.nterms) qsort(pre.terms, pre.nterms, sizeof(char *), cmp_str);
        const char **uniq = malloc((pre.nterms + 1) * sizeof(*uniq));
        uint64_t *df = malloc((pre.nterms + 1) * sizeof(*df));
        if (!uniq || !df) abort();
        size_t k = 0;
        for (size_t i = 0; i < pre.nterms; i++) {
            if (k && !strcmp(uniq[k - 1], pre.terms[i])) df[k - 1]++;
            else uniq[k] = pre.terms[i], df[k++] = 1;
        }
        rc = cluster_engine_add_df(e, pre.n, uniq, df, k, err, sizeof err);
        if (rc) fprintf(stderr, "%s\n", err);
        free(uniq);
        free(df);
    }
    run_free(&pre);
    return rc;
}

/* Prints the scores of pred against gold (both n long). */
static int print_scores(const char *const *gold, const char *const *pred, size_t n, size_t merges)
{
    char err[256];
    bcubed_t b;
    if (bcubed_score(gold, pred, n, &b, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    printf("events %zu  gold clusters %zu  predicted %zu  merges %zu\n", b.n, b.n_gold, b.n_pred, merges);
    printf("B-cubed   P %.4f  R %.4f  F1 %.4f\n", b.precision, b.recall, b.f1);
    printf("pairwise  P %.4f  R %.4f  F1 %.4f\n", b.pair_precision, b.pair_recall, b.pair_f1);
    return 0;
}

typedef struct {
    char *id, *cluster;
} assign_t;

static int cmp_assign(const void *a, const void *b)
{
    return strcmp(((const assign_t *)a)->id, ((const assign_t *)b)->id);
}

/* --score: gold from path, the assignment from pred_path. */
static int score_file(const char *path, const char *pred_path)
{
    FILE *pf = fopen(pred_path, "r");
    if (!pf) {
        fprintf(stderr, "%s: %s\n", pred_path, strerror(errno));
        return 1;
    }
    assign_t *as = NULL;
    size_t na = 0, capa = 0, cap = 0;
    char *line = NULL;
    while (getline(&line, &cap, pf) > 0) {
        cJSON *j = cJSON_Parse(line);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
        const cJSON *cl = cJSON_GetObjectItemCaseSensitive(j, "cluster");
        if (cJSON_IsString(id) && cJSON_IsString(cl)) {
            as = xrealloc(as, &capa, na + 1, sizeof(*as));
            as[na++] = (assign_t){xstrdup(id->valuestring), xstrdup(cl->valuestring)};
        }
        cJSON_Delete(j);
    }
    fclose(pf);
    if (na) qsort(as, na, sizeof(*as), cmp_assign);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return 1;
    }
    char **gold = NULL, **pred = NULL;
    size_t n = 0, capg = 0, capp = 0, missing = 0;
    while (getline(&line, &cap, f) > 0) {
        cJSON *j = cJSON_Parse(line);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(j, "gold_cluster");
        if (cJSON_IsString(id) && cJSON_IsString(g)) {
            assign_t key = {id->valuestring, NULL};
            assign_t *a = na ? bsearch(&key, as, na, sizeof(*as), cmp_assign) : NULL;
            gold = xrealloc(gold, &capg, n + 1, sizeof(*gold));
            pred = xrealloc(pred, &capp, n + 1, sizeof(*pred));
            gold[n] = xstrdup(g->valuestring);
            pred[n++] = xstrdup(a ? a->cluster : id->valuestring); /* missing: a singleton */
            missing += !a;
        }
        cJSON_Delete(j);
    }
    free(line);
    fclose(f);
    if (missing) printf("missing from the assignment: %zu (scored as singletons)\n", missing);
    int rc = n && print_scores((const char *const *)gold, (const char *const *)pred, n, 0) == 0 ? 0 : 1;
    for (size_t i = 0; i < n; i++) {
        free(gold[i]);
        free(pred[i]);
    }
    for (size_t i = 0; i < na; i++) {
        free(as[i].id);
        free(as[i].cluster);
    }
    free(as);
    free(gold);
    free(pred);
    return rc;
}

int main(int argc, char **argv)
{
    const char *score_path = NULL;
    const char *path = NULL, *pred_path = NULL;
    size_t synthetic = 0;
    int prepass = 0;
    cluster_config_t cfg;
    cluster_config_default(&cfg);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--pred") && i + 1 < argc) pred_path = argv[++i];
        else if (!strcmp(argv[i], "--set") && i + 1 < argc) {
            if (set_knob(&cfg, argv[++i]) < 0) return usage();
        } else if (!strcmp(argv[i], "--synthetic-clusters") && i + 1 < argc)
            synthetic = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--idf-prepass")) prepass = 1;
        else if (!strcmp(argv[i], "--score") && i + 1 < argc) score_path = argv[++i];
        else if (argv[i][0] != '-' && !path) path = argv[i];
        else return usage();
    }
    if (!path) return usage();
    if (score_path) return score_file(path, score_path);

    char err[256];
    cluster_engine_t *e = cluster_engine_new(&cfg, err, sizeof err);
    if (!e) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (prepass && seed_idf(e, &cfg, path) < 0) {
        cluster_engine_destroy(e);
        return 1;
    }
    if (synthetic) {
        double t0 = clock_monotonic_s();
        if (load_synthetic(e, path, synthetic) < 0) {
            fprintf(stderr, "cannot load synthetic clusters from %s\n", path);
            cluster_engine_destroy(e);
            return 1;
        }
        printf("synthetic clusters %zu loaded in %.2f s, memory %.1f MB\n",
               cluster_engine_active(e), clock_monotonic_s() - t0, (double)cluster_engine_memory(e) / 1e6);
    }
    run_t run = {0};
    int rc = run_file(e, path, &run, 0) < 0 ? 1 : 0;
    if (rc == 0 && run.n) {
        /* a merge maps the absorbed id to a lower one, so chains end */
        if (run.na) qsort(run.alias, run.na, sizeof(alias_t), cmp_alias);
        char **pred = malloc(run.n * sizeof(*pred));
        const char **gold = malloc(run.n * sizeof(*gold));
        FILE *pf = pred_path ? fopen(pred_path, "w") : NULL;
        if (!pred || !gold) abort();
        if (pred_path && !pf) {
            fprintf(stderr, "%s: %s\n", pred_path, strerror(errno));
            rc = 1;
        }
        for (size_t i = 0; i < run.n; i++) {
            int64_t c = run.items[i].cluster;
            alias_t key = {c, 0}, *a;
            while (run.na && (a = bsearch(&key, run.alias, run.na, sizeof(alias_t), cmp_alias)))
                key.from = c = a->into;
            pred[i] = malloc(24);
            if (!pred[i]) abort();
            snprintf(pred[i], 24, "%" PRId64, c);
            gold[i] = run.items[i].gold;
            if (pf) {
                /* the id as a string: 63-bit ids do not survive a double */
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "id", run.items[i].id);
                cJSON_AddStringToObject(o, "cluster", pred[i]);
                char *s = cJSON_PrintUnformatted(o);
                fprintf(pf, "%s\n", s);
                cJSON_free(s);
                cJSON_Delete(o);
            }
        }
        if (pf) fclose(pf);
        if (print_scores(gold, (const char *const *)pred, run.n, run.na) < 0) {
            rc = 1;
        } else {
            printf("throughput %.0f events/s  active clusters %zu  memory %.1f MB\n",
                   run.secs > 0 ? (double)run.n / run.secs : 0.0, cluster_engine_active(e),
                   (double)cluster_engine_memory(e) / 1e6);
        }
        for (size_t i = 0; i < run.n; i++) free(pred[i]);
        free(pred);
        free(gold);
    }
    run_free(&run);
    cluster_engine_destroy(e);
    return rc;
}

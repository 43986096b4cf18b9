/* shoal-bench: the consumer's two CPU engines, in process, on generated
 * events (producer/generate.h), for `make bench` (bench/bench.sh).
 *
 *   shoal-bench extract N [SEED]          built-in extraction, N articles of ~2 KB
 *   shoal-bench cluster ACTIVE M [SEED]   clustering cost with ACTIVE active clusters
 *
 * Each prints one line of key=value pairs.
 *
 * extract: each article is a generated event's title with the bodies of
 * consecutive generated events appended until the text reaches 2 KB, so the
 * rules see realistic sentences, names and amounts. One thread: the rate is
 * per core.
 *
 * cluster: the clusters are real ones. The generator is asked for ACTIVE
 * stories in flight at once, and its events go through the extractor and
 * the engine until the engine holds ACTIVE active clusters; then the next M
 * events of the same stream are timed. Only cluster_engine_add is timed (the
 * extraction that supplies its entity names is not), as in the consumer's
 * cluster stage. Also reports the engine's own estimate of its memory and
 * the process's peak RSS (extractor, engine and generator together). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "cluster.h"
#include "event.h"
#include "extract/extract.h"
#include "generate.h"
#include "text.h"

#define ARTICLE_BYTES 2048

/* VmHWM of this process, in kB (0 if unknown). */
static long peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}

/* Decodes generated event i into ev (caller clears). */
static int gen_event(const generator_t *g, uint64_t i, char *line, event_t *ev)
{
    char err[256];
    size_t n = generator_event(g, i, line, GENERATOR_LINE_MAX);
    if (n >= GENERATOR_LINE_MAX || event_decode(line, n, NULL, ev, err, sizeof(err)) != EVENT_OK) {
        fprintf(stderr, "generated event %llu: %s\n", (unsigned long long)i,
                n >= GENERATOR_LINE_MAX ? "too long" : err);
        return -1;
    }
    return 0;
}

static int bench_extract(const extractor_t *x, uint64_t seed, long n)
{
    generator_t *g = generator_new(seed, 0);
    char *line = malloc(GENERATOR_LINE_MAX);
    char **titles = calloc((size_t)n, sizeof(*titles)), **texts = calloc((size_t)n, sizeof(*texts));
    if (!g || !line || !titles || !texts) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    /* Articles are built first, so only extraction is timed. */
    uint64_t next = 0;
    size_t bytes = 0;
    int rc = 0;
    for (long a = 0; a < n && rc == 0; a++) {
        buf_t body = {0};
        event_t ev;
        size_t want = ARTICLE_BYTES;
        while (rc == 0 && body.len < want) {
            if (gen_event(g, next++, line, &ev) != 0) {
                rc = 1;
                break;
            }
            if (ev.kind == EVENT_ARTICLE) {
                if (!titles[a]) {
                    titles[a] = strdup(ev.title);
                    want -= strlen(ev.title);
                }
                if (body.len) buf_append(&body, " ", 1);
                buf_puts(&body, ev.text);
            }
            event_clear(&ev);
        }
        /* Cut back to the last space within ~2 KB: the text stays valid UTF-8. */
        if (body.len > want && !body.failed) {
            size_t len = want;
            while (len > 0 && body.data[len] != ' ') len--;
            body.len = len;
        }
        const char *s = buf_cstr(&body);
        texts[a] = s ? strdup(s) : NULL;
        buf_free(&body);
        if (!titles[a] || !texts[a]) rc = 1;
        else bytes += strlen(titles[a]) + strlen(texts[a]);
    }
    double secs = 0;
    long done = 0;
    for (long a = 0; a < n && rc == 0; a++) {
        extract_input_t in = {EVENT_ARTICLE, titles[a], texts[a], "bench.example", "en", NULL, NULL};
        char err[256];
        double t0 = clock_monotonic_s();
        cJSON *out = extractor_run(x, &in, err, sizeof(err));
        secs += clock_monotonic_s() - t0;
        if (!out) {
            fprintf(stderr, "extract: %s\n", err);
            rc = 1;
        }
        cJSON_Delete(out);
        done++;
    }
    if (rc == 0)
        printf("docs=%ld avg_bytes=%.0f secs=%.3f docs_per_s=%.0f\n", done,
               done ? (double)bytes / (double)done : 0.0, secs, secs > 0 ? (double)done / secs : 0.0);
    for (long a = 0; a < n; a++) {
        free(titles[a]);
        free(texts[a]);
    }
    free(titles);
    free(texts);
    free(line);
    generator_destroy(g);
    return rc;
}

/* Extracts and clusters generated event i; *secs gets the time spent in
 * cluster_engine_add. */
static int cluster_one(const extractor_t *x, cluster_engine_t *e, const generator_t *g, uint64_t i,
                       char *line, double *secs)
{
    event_t ev;
    char err[256];
    if (gen_event(g, i, line, &ev) != 0) return -1;
    extract_input_t in = {ev.kind, ev.title, ev.text, ev.source, ev.lang, ev.repo, ev.tags};
    cJSON *xj = extractor_run(x, &in, err, sizeof(err));
    const char *names[64];
    size_t nn = 0;
    const cJSON *ents = cJSON_GetObjectItemCaseSensitive(xj, "entities"), *it;
    cJSON_ArrayForEach(it, ents) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (cJSON_IsString(name) && nn < 64) names[nn++] = name->valuestring;
    }
    cluster_doc_t doc = {ev.id, ev.title, ev.text, ev.lang, names, nn, ev.published_at_us, NULL};
    cluster_result_t res;
    double t0 = clock_monotonic_s();
    int rc = cluster_engine_add(e, &doc, &res, err, sizeof(err));
    *secs += clock_monotonic_s() - t0;
    if (rc != 0) fprintf(stderr, "cluster: %s\n", err);
    cJSON_Delete(xj);
    event_clear(&ev);
    return rc;
}

#define BG_TERMS 100 /* the engine's default cache per cluster */
#define BG_DOCS 3
#define BG_REAL 24

typedef struct {
    char w[48];
    double tf;
} word_t;

static int cmp_word(const void *a, const void *b)
{
    return strcmp(((const word_t *)a)->w, ((const word_t *)b)->w);
}

static int cmp_tf_desc(const void *a, const void *b)
{
    double x = ((const word_t *)a)->tf, y = ((const word_t *)b)->tf;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Adds the words of s (normalised, stopwords dropped), each weighing wt. */
static size_t add_words(word_t *v, size_t n, size_t cap, const char *s, double wt)
{
    text_iter_t it;
    text_token_t tok;
    text_iter_init(&it, s, strlen(s));
    while (n < cap && text_iter_next(&it, &tok)) {
        size_t k = text_normalize(tok.start, tok.len, v[n].w, sizeof(v[n].w));
        if (k < 2 || k >= sizeof(v[n].w) - 1 || text_is_stopword(v[n].w, k, "en")) continue;
        v[n++].tf = wt;
    }
    return n;
}

/* Loads n background clusters, as a restarted consumer loads clusters from
 * PostgreSQL: a state plus document frequencies. Each is a full cluster
 * (BG_TERMS terms): the BG_REAL most frequent words of one generated
 * article (title words counting double), so real events walk the same
 * posting lists, and the rest from a made-up vocabulary of 200,000 words,
 * for a realistic vocabulary size. Every weight is drawn from 0.2-1.0, as
 * tests/support/cluster_eval.c builds its synthetic clusters, so that the
 * background seldom attracts or merges with the measured events (that
 * would measure merging, not the number of clusters). They never close. */
static int load_background(cluster_engine_t *e, uint64_t seed, long n)
{
    generator_t *g = generator_new(seed, 0);
    char *line = malloc(GENERATOR_LINE_MAX), err[256];
    enum { CAP = 1024 };
    word_t *v = malloc(CAP * sizeof(*v));
    if (!g || !line || !v) return -1;
    int rc = 0;
    uint64_t rnd = seed;
    for (long c = 0; c < n && rc == 0; c++) {
        event_t ev;
        if (gen_event(g, (uint64_t)c, line, &ev) != 0) {
            rc = -1;
            break;
        }
        size_t nw = add_words(v, 0, CAP, ev.title, 2.0);
        nw = add_words(v, nw, CAP, ev.text, 1.0);
        qsort(v, nw, sizeof(*v), cmp_word);
        size_t k = 0;
        for (size_t i = 0; i < nw; i++) {
            if (k && strcmp(v[k - 1].w, v[i].w) == 0) v[k - 1].tf += v[i].tf;
            else v[k++] = v[i];
        }
        qsort(v, k, sizeof(*v), cmp_tf_desc);
        if (k > BG_REAL) k = BG_REAL;
        /* Weights as for the made-up words: which real words, not how
         * heavy, is what makes events walk the same posting lists. */
        for (size_t i = 0; i < k; i++) {
            rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
            v[i].tf = 0.2 + (double)((rnd >> 20) % 800) / 1000;
        }
        for (; k < BG_TERMS; k++) {
            rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
            snprintf(v[k].w, sizeof(v[k].w), "bg%llu", (unsigned long long)((rnd >> 33) % 200000));
            v[k].tf = 0.2 + (double)((rnd >> 20) % 800) / 1000;
        }
        /* Made-up words may repeat within a cluster: sum them. */
        qsort(v, k, sizeof(*v), cmp_word);
        size_t u = 0;
        for (size_t i = 0; i < k; i++) {
            if (u && strcmp(v[u - 1].w, v[i].w) == 0) v[u - 1].tf += v[i].tf;
            else v[u++] = v[i];
        }
        k = u;
        double norm = 0;
        for (size_t i = 0; i < k; i++) norm += v[i].tf * v[i].tf;
        norm = norm > 0 ? sqrt(norm) : 1;
        cluster_term_t terms[BG_TERMS];
        const char *names[BG_TERMS];
        uint64_t dfs[BG_TERMS];
        for (size_t i = 0; i < k; i++) {
            terms[i] = (cluster_term_t){v[i].w, BG_DOCS * v[i].tf / norm};
            names[i] = v[i].w;
            dfs[i] = BG_DOCS;
        }
        cluster_state_t st = {cluster_id_for_event(ev.id), BG_DOCS, CLUSTER_TIME_NONE, terms, k};
        if (cluster_engine_load(e, &st, err, sizeof(err)) != 0 ||
            cluster_engine_add_df(e, BG_DOCS, names, dfs, k, err, sizeof(err)) != 0) {
            fprintf(stderr, "background cluster: %s\n", err);
            rc = -1;
        }
        event_clear(&ev);
    }
    free(v);
    free(line);
    generator_destroy(g);
    return rc;
}

static int bench_cluster(const extractor_t *x, uint64_t seed, long active, long m)
{
    char err[256];
    generator_t *g = generator_new(seed, 0);
    cluster_engine_t *e = cluster_engine_new(NULL, err, sizeof(err));
    char *line = malloc(GENERATOR_LINE_MAX);
    if (!g || !e || !line) {
        fprintf(stderr, "%s\n", e ? "out of memory" : err);
        return 1;
    }
    /* Another seed: the background shares the vocabulary, not the events. */
    int rc = load_background(e, seed + 1000003, active) == 0 ? 0 : 1;
    size_t before = cluster_engine_active(e);
    double secs = 0;
    for (long k = 0; k < m && rc == 0; k++) rc = cluster_one(x, e, g, (uint64_t)k, line, &secs);
    if (rc == 0)
        printf("active_before=%zu events=%ld secs=%.3f events_per_s=%.0f active_after=%zu "
               "engine_mb=%.1f peak_rss_kb=%ld\n",
               before, m, secs, secs > 0 ? (double)m / secs : 0.0, cluster_engine_active(e),
               (double)cluster_engine_memory(e) / 1e6, peak_rss_kb());
    free(line);
    cluster_engine_destroy(e);
    generator_destroy(g);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: shoal-bench extract N [SEED]\n"
                    "       shoal-bench cluster ACTIVE M [SEED]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 3) return usage();
    int is_extract = strcmp(argv[1], "extract") == 0;
    if (!is_extract && (strcmp(argv[1], "cluster") != 0 || argc < 4)) return usage();
    int seed_arg = is_extract ? 3 : 4;
    uint64_t seed = argc > seed_arg ? strtoull(argv[seed_arg], NULL, 10) : 1;
    long a = strtol(argv[2], NULL, 10), b = is_extract ? 0 : strtol(argv[3], NULL, 10);
    if (a <= 0 || (!is_extract && b <= 0)) return usage();
    char err[256];
    extractor_t *x = extractor_new(NULL, NULL, err, sizeof(err));
    if (!x) {
        fprintf(stderr, "extractor: %s\n", err);
        return 1;
    }
    int rc = is_extract ? bench_extract(x, seed, a) : bench_cluster(x, seed, a, b);
    extractor_destroy(x);
    return rc;
}

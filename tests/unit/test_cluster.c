/* Unit tests for consumer/cluster: grouping, determinism, time windows,
 * merges and the increment/load API that shares state between engines. */
#include <stdlib.h>

#include "../test.h"
#include "cluster.h"
#include "event.h"
#include "extract/extract.h"
#include "generate.h"

#define HOUR INT64_C(3600000000)
#define T0 INT64_C(1700000000000000)

typedef struct {
    const char *id, *title;
} headline_t;

/* Two stories, interleaved. */
static const headline_t news[] = {
    {"n1", "Comcast agrees to buy Time Warner Cable for $45 billion"},
    {"n2", "Malaysia Airlines flight MH370 missing over South China Sea"},
    {"n3", "Comcast to acquire Time Warner Cable in $45 billion deal"},
    {"n4", "Search for missing Malaysia Airlines jet MH370 widens"},
    {"n5", "Regulators to review Comcast Time Warner Cable merger"},
    {"n6", "MH370: Malaysia Airlines plane search enters second week"},
};
#define NNEWS (sizeof news / sizeof news[0])

static cluster_engine_t *engine(void)
{
    char err[128];
    cluster_engine_t *e = cluster_engine_new(NULL, err, sizeof err);
    if (!e) fprintf(stderr, "%s\n", err);
    return e;
}

static int add(cluster_engine_t *e, const char *id, const char *title, int64_t t,
               cluster_result_t *r)
{
    char err[128];
    cluster_doc_t d = {.id = id, .title = title, .published_us = t};
    int rc = cluster_engine_add(e, &d, r, err, sizeof err);
    if (rc) fprintf(stderr, "add %s: %s\n", id, err);
    return rc;
}

/* Cluster of each headline after all merges seen so far. */
static void run_news(cluster_engine_t *e, int64_t out[NNEWS])
{
    for (size_t i = 0; i < NNEWS; i++) {
        cluster_result_t r;
        ASSERT_INT_EQ(add(e, news[i].id, news[i].title, CLUSTER_TIME_NONE, &r), 0);
        out[i] = r.n_merges ? r.merges[r.n_merges - 1].into : r.cluster_id;
        for (size_t k = 0; k < r.n_merges; k++)
            for (size_t j = 0; j < i; j++)
                if (out[j] == r.merges[k].from) out[j] = r.merges[k].into;
    }
}

static void test_grouping_and_determinism(void)
{
    int64_t a[NNEWS], b[NNEWS];
    cluster_engine_t *e1 = engine(), *e2 = engine();
    run_news(e1, a);
    run_news(e2, b);
    for (size_t i = 0; i < NNEWS; i++) ASSERT_INT_EQ(a[i], b[i]);
    /* same story together, different stories apart */
    ASSERT_INT_EQ(a[0], a[2]);
    ASSERT_INT_EQ(a[0], a[4]);
    ASSERT_INT_EQ(a[1], a[3]);
    ASSERT_INT_EQ(a[1], a[5]);
    ASSERT_TRUE(a[0] != a[1]);
    /* a founding event names its cluster */
    ASSERT_INT_EQ(a[0], cluster_id_for_event("n1"));
    ASSERT_INT_EQ(a[1], cluster_id_for_event("n2"));
    ASSERT_INT_EQ(cluster_engine_active(e1), 2);
    cluster_engine_destroy(e1);
    cluster_engine_destroy(e2);
}

static void test_ids_and_errors(void)
{
    ASSERT_TRUE(cluster_id_for_event("x") > 0);
    ASSERT_INT_EQ(cluster_id_for_event("x"), cluster_id_for_event("x"));
    ASSERT_TRUE(cluster_id_for_event("x") != cluster_id_for_event("y"));

    char err[128] = "";
    cluster_config_t cfg;
    cluster_config_default(&cfg);
    cfg.assign_threshold = 0;
    ASSERT_TRUE(cluster_engine_new(&cfg, err, sizeof err) == NULL);
    ASSERT_TRUE(err[0] != '\0');

    cluster_engine_t *e = engine();
    cluster_result_t r;
    cluster_doc_t d = {.title = "No id here", .published_us = CLUSTER_TIME_NONE};
    err[0] = '\0';
    ASSERT_INT_EQ(cluster_engine_add(e, &d, &r, err, sizeof err), -1);
    ASSERT_TRUE(err[0] != '\0');
    /* an event with no usable words still gets a cluster of its own */
    ASSERT_INT_EQ(add(e, "empty", "the of and", CLUSTER_TIME_NONE, &r), 0);
    ASSERT_INT_EQ(r.created, 1);
    ASSERT_INT_EQ(r.delta.n_terms, 0);
    cluster_engine_destroy(e);
}

static void test_time_window(void)
{
    cluster_engine_t *e = engine();
    cluster_result_t r;
    ASSERT_INT_EQ(add(e, "v1", "Volcano erupts in Iceland, flights grounded across Europe", T0, &r), 0);
    int64_t first = r.cluster_id;
    ASSERT_INT_EQ(add(e, "v2", "Iceland volcano eruption grounds flights in Europe", T0 + HOUR, &r), 0);
    ASSERT_INT_EQ(r.cluster_id, first);
    /* undated: joins, and keeps the clock where it is */
    ASSERT_INT_EQ(add(e, "v3", "Flights grounded as Iceland volcano erupts", CLUSTER_TIME_NONE, &r), 0);
    ASSERT_INT_EQ(r.cluster_id, first);
    ASSERT_INT_EQ(r.delta.last_seen_us, T0 + HOUR);
    cluster_state_t st;
    ASSERT_INT_EQ(cluster_engine_get(e, first, &st), 0);
    ASSERT_INT_EQ(st.docs, 3);
    ASSERT_INT_EQ(st.last_seen_us, T0 + HOUR);

    /* idle longer than the window (3 days) before the event: closed for it */
    ASSERT_INT_EQ(add(e, "v4", "Iceland volcano erupts again, flights grounded", T0 + 80 * HOUR, &r), 0);
    ASSERT_INT_EQ(r.created, 1);
    ASSERT_TRUE(r.cluster_id != first);
    int64_t second = r.cluster_id;
    /* within the window of the new cluster: joins it */
    ASSERT_INT_EQ(add(e, "v5", "Iceland volcano: flights grounded again", T0 + 90 * HOUR, &r), 0);
    ASSERT_INT_EQ(r.cluster_id, second);
    /* a late event (published long before the clock, as from a partition
     * consumed behind the others) still joins the cluster of its time */
    ASSERT_INT_EQ(add(e, "v6", "Volcano erupts in Iceland, flights grounded across Europe", T0 + 2 * HOUR, &r), 0);
    ASSERT_INT_EQ(r.cluster_id, first);
    /* (the late event bridged the two: they may have merged) */
    ASSERT_INT_EQ(cluster_engine_get(e, first, &st), 0);
    /* once the last 1024 events are all past its window, the cluster
     * leaves memory */
    for (int i = 0; i < 2100; i++) {
        char id[32], text[64];
        snprintf(id, sizeof id, "filler-%d", i);
        snprintf(text, sizeof text, "unrelated%d story%d", i, i);
        ASSERT_INT_EQ(add(e, id, text, T0 + 100 * HOUR + i * (150 * HOUR / 2100), &r), 0);
    }
    ASSERT_INT_EQ(cluster_engine_get(e, first, &st), -1);
    ASSERT_INT_EQ(cluster_engine_get(e, second, &st), -1);
    ASSERT_TRUE(cluster_engine_active(e) < 2100);
    cluster_engine_destroy(e);
}

static void test_merge(void)
{
    char err[128];
    cluster_engine_t *e = engine();
    const cluster_term_t terms[] = {{"volcano", 0.6}, {"iceland", 0.6}, {"eruption", 0.5}};
    cluster_state_t a = {10, 3, T0, terms, 3}, b = {20, 3, T0, terms, 3};
    ASSERT_INT_EQ(cluster_engine_load(e, &b, err, sizeof err), 0);
    ASSERT_INT_EQ(cluster_engine_load(e, &a, err, sizeof err), 0);

    /* the event ties between the equal twins (lower id wins), and the grown
     * cluster then absorbs its duplicate: the lower id survives */
    cluster_result_t r;
    ASSERT_INT_EQ(add(e, "m1", "Iceland volcano eruption", T0 + HOUR, &r), 0);
    ASSERT_INT_EQ(r.cluster_id, 10);
    ASSERT_INT_EQ(r.n_merges, 1);
    ASSERT_INT_EQ(r.merges[0].from, 20);
    ASSERT_INT_EQ(r.merges[0].into, 10);
    cluster_state_t st;
    ASSERT_INT_EQ(cluster_engine_get(e, 20, &st), -1);
    ASSERT_INT_EQ(cluster_engine_get(e, 10, &st), 0);
    ASSERT_INT_EQ(st.docs, 7);
    ASSERT_INT_EQ(st.last_seen_us, T0 + HOUR);

    /* explicit merge, as replayed from another instance: sums add */
    const cluster_term_t other[] = {{"volcano", 0.25}, {"ash", 1.0}};
    cluster_state_t c = {30, 4, T0 + 2 * HOUR, other, 2};
    ASSERT_INT_EQ(cluster_engine_load(e, &c, err, sizeof err), 0);
    ASSERT_INT_EQ(cluster_engine_get(e, 10, &st), 0);
    double volcano_before = 0;
    for (size_t i = 0; i < st.n_terms; i++)
        if (!strcmp(st.terms[i].term, "volcano")) volcano_before = st.terms[i].weight;
    ASSERT_INT_EQ(cluster_engine_merge(e, 30, 10, err, sizeof err), 0);
    ASSERT_INT_EQ(cluster_engine_get(e, 30, &st), -1);
    ASSERT_INT_EQ(cluster_engine_get(e, 10, &st), 0);
    ASSERT_INT_EQ(st.docs, 11);
    ASSERT_INT_EQ(st.last_seen_us, T0 + 2 * HOUR);
    int saw_ash = 0;
    for (size_t i = 0; i < st.n_terms; i++) {
        if (!strcmp(st.terms[i].term, "volcano")) ASSERT_NEAR(st.terms[i].weight, volcano_before + 0.25, 1e-6);
        saw_ash |= !strcmp(st.terms[i].term, "ash");
    }
    ASSERT_TRUE(saw_ash);
    ASSERT_INT_EQ(cluster_engine_merge(e, 10, 10, err, sizeof err), -1);
    ASSERT_INT_EQ(cluster_engine_merge(e, 999, 10, err, sizeof err), 0); /* not cached: no-op */
    cluster_engine_destroy(e);
}

static void assert_same_state(cluster_engine_t *x, cluster_engine_t *y, int64_t id)
{
    cluster_state_t a, b;
    ASSERT_INT_EQ(cluster_engine_get(x, id, &a), 0);
    /* a's terms are borrowed from x, b's from y: both stay valid here */
    ASSERT_INT_EQ(cluster_engine_get(y, id, &b), 0);
    ASSERT_INT_EQ(a.docs, b.docs);
    ASSERT_INT_EQ(a.last_seen_us, b.last_seen_us);
    ASSERT_INT_EQ(a.n_terms, b.n_terms);
    for (size_t i = 0; i < a.n_terms && i < b.n_terms; i++) {
        ASSERT_STR_EQ(a.terms[i].term, b.terms[i].term);
        ASSERT_NEAR(a.terms[i].weight, b.terms[i].weight, 1e-9);
    }
}

static void test_increments_round_trip(void)
{
    char err[128];
    cluster_engine_t *a = engine(), *b = engine(), *c = engine();
    int64_t ids[NNEWS];
    size_t nids = 0;
    for (size_t i = 0; i < NNEWS; i++) {
        cluster_result_t r;
        ASSERT_INT_EQ(add(a, news[i].id, news[i].title, T0 + (int64_t)i * HOUR, &r), 0);
        ASSERT_INT_EQ(r.delta.id, r.cluster_id);
        ASSERT_INT_EQ(r.delta.docs, 1);
        ASSERT_INT_EQ(r.delta.last_seen_us, T0 + (int64_t)i * HOUR);
        ASSERT_TRUE(r.delta.n_terms > 0);
        /* what a second instance would replay from the shared store */
        ASSERT_INT_EQ(cluster_engine_apply(b, &r.delta, err, sizeof err), 0);
        for (size_t k = 0; k < r.n_merges; k++)
            ASSERT_INT_EQ(cluster_engine_merge(b, r.merges[k].from, r.merges[k].into, err, sizeof err), 0);
        if (r.created) ids[nids++] = r.cluster_id;
    }
    ASSERT_INT_EQ(cluster_engine_active(a), cluster_engine_active(b));
    for (size_t i = 0; i < nids; i++) {
        cluster_state_t st;
        if (cluster_engine_get(a, ids[i], &st) < 0) continue; /* merged away */
        assert_same_state(a, b, ids[i]);
        /* a refresh from the store replaces what c had */
        const cluster_term_t stale[] = {{"stale", 1.0}};
        cluster_state_t old = {ids[i], 1, T0, stale, 1};
        ASSERT_INT_EQ(cluster_engine_load(c, &old, err, sizeof err), 0);
        ASSERT_INT_EQ(cluster_engine_get(a, ids[i], &st), 0);
        ASSERT_INT_EQ(cluster_engine_load(c, &st, err, sizeof err), 0);
        assert_same_state(a, c, ids[i]);
    }
    cluster_engine_destroy(a);
    cluster_engine_destroy(b);
    cluster_engine_destroy(c);
}

/* An event matching two one-term clusters equally well goes to the lower id,
 * unless seeded document frequencies say one of the terms is common. */
static int pick(int seed)
{
    char err[128];
    cluster_engine_t *e = engine();
    const cluster_term_t t1[] = {{"forecast", 1.0}}, t2[] = {{"apple", 1.0}};
    cluster_state_t a = {1, 1, CLUSTER_TIME_NONE, t1, 1}, b = {2, 1, CLUSTER_TIME_NONE, t2, 1};
    ASSERT_INT_EQ(cluster_engine_load(e, &a, err, sizeof err), 0);
    ASSERT_INT_EQ(cluster_engine_load(e, &b, err, sizeof err), 0);
    const char *terms[] = {"forecast"};
    const uint64_t dfs[] = {9000};
    if (seed) ASSERT_INT_EQ(cluster_engine_add_df(e, 10000, terms, dfs, 1, err, sizeof err), 0);
    cluster_result_t r;
    ASSERT_INT_EQ(add(e, "s1", "Apple forecast", CLUSTER_TIME_NONE, &r), 0);
    int64_t id = r.cluster_id;
    cluster_engine_destroy(e);
    return (int)id;
}

static void test_seeded_idf(void)
{
    ASSERT_INT_EQ(pick(0), 1);
    ASSERT_INT_EQ(pick(1), 2);
}

/* What a batch writes for the clusters it changed: each cached cluster's
 * heaviest terms, ties by term, once per cluster, clusters by id; one not
 * cached writes nothing. */
static void test_top_terms(void)
{
    char err[256];
    cluster_engine_t *e = cluster_engine_new(NULL, err, sizeof err);
    ASSERT_TRUE(e != NULL);
    cluster_term_t t1[] = {{"a", 0.5}, {"b", 0.5}, {"c", 0.9}, {"d", 0.1}};
    cluster_term_t t2[] = {{"x", 0.2}};
    cluster_state_t c1 = {1, 3, CLUSTER_TIME_NONE, t1, 4}, c2 = {2, 1, CLUSTER_TIME_NONE, t2, 1};
    ASSERT_INT_EQ(cluster_engine_load(e, &c1, err, sizeof err), 0);
    ASSERT_INT_EQ(cluster_engine_load(e, &c2, err, sizeof err), 0);
    const int64_t ids[] = {2, 1, 99, 2};
    cluster_term_row_t *rows = NULL;
    size_t n = 0, rcap = 0;
    ASSERT_INT_EQ(cluster_engine_top_terms(e, ids, 4, NULL, 0, 3, &rows, &n, &rcap), 0);
    ASSERT_INT_EQ(n, 4);
    ASSERT_INT_EQ(rows[0].cluster_id, 1);
    ASSERT_STR_EQ(rows[0].term, "c");
    ASSERT_STR_EQ(rows[1].term, "a");
    ASSERT_STR_EQ(rows[2].term, "b");
    ASSERT_TRUE(rows[1].weight == 0.5);
    ASSERT_INT_EQ(rows[3].cluster_id, 2);
    ASSERT_STR_EQ(rows[3].term, "x");
    /* Appends: a second call adds after the first. */
    ASSERT_INT_EQ(cluster_engine_top_terms(e, ids, 1, NULL, 0, CLUSTER_TERMS_STORED, &rows, &n, &rcap), 0);
    ASSERT_INT_EQ(n, 5);
    ASSERT_INT_EQ(rows[4].cluster_id, 2);
    ASSERT_INT_EQ(cluster_engine_top_terms(e, ids + 2, 1, NULL, 0, 3, &rows, &n, &rcap), 0);
    ASSERT_INT_EQ(n, 5);
    /* A merge's survivor counts as changed; an id 0 is none. */
    const int64_t none[] = {0};
    const cluster_merge_t m[] = {{2, 1}};
    ASSERT_INT_EQ(cluster_engine_top_terms(e, none, 1, m, 1, 1, &rows, &n, &rcap), 0);
    ASSERT_INT_EQ(n, 6);
    ASSERT_INT_EQ(rows[5].cluster_id, 1);
    ASSERT_STR_EQ(rows[5].term, "c");
    free(rows);
    cluster_engine_destroy(e);

    cluster_merge_t *v = NULL;
    size_t nm = 0, cap = 0;
    for (int64_t i = 1; i <= 40; i++) ASSERT_INT_EQ(cluster_merges_append(&v, &nm, &cap, (cluster_merge_t){i + 1, i}), 0);
    ASSERT_INT_EQ(nm, 40);
    ASSERT_TRUE(cap >= 40);
    ASSERT_INT_EQ(v[0].from, 2);
    ASSERT_INT_EQ(v[39].into, 40);
    free(v);
}

/* Words of one document built twice: tokenised by clustering, and from
 * the extractor's tokens (max recorded per field). 1 when the same. */
static int words_same_both_ways(const extractor_t *x, const cluster_config_t *cfg, const char *title,
                                const char *text, const char *lang, size_t max)
{
    char err[256];
    text_words_t tok[2] = {{.max = max}, {.max = max}};
    extract_input_t in = {0, title, text, "unit.example", lang, NULL, NULL};
    cJSON *xj = extractor_run_words(x, &in, tok, err, sizeof err);
    const char *names[64];
    size_t nn = xj ? extraction_entity_names(xj, names, 64) : 0;
    cluster_doc_t d = {"w1", title, text, lang, names, nn, CLUSTER_TIME_NONE, NULL};
    cluster_words_t plain = {0}, shared = {0};
    int ok = xj && cluster_words_build(cfg, &d, &plain) == 0;
    d.tokens = tok;
    ok = ok && cluster_words_build(cfg, &d, &shared) == 0 && plain.occ.len == shared.occ.len &&
         memcmp(plain.occ.data, shared.occ.data, plain.occ.len) == 0;
    if (!ok) fprintf(stderr, "  words differ: title \"%.60s\" (%zu vs %zu bytes)\n", title ? title : "(null)",
                     plain.occ.len, shared.occ.len);
    cluster_words_free(&plain);
    cluster_words_free(&shared);
    text_words_free(&tok[0]);
    text_words_free(&tok[1]);
    cJSON_Delete(xj);
    return ok;
}

/* Clustering reads the extractor's tokens of a field (one tokenizer pass)
 * and gets the very words it gets by tokenising the field itself. */
static void test_words_from_extractor_tokens(void)
{
    char err[256];
    extractor_t *x = extractor_new(NULL, NULL, err, sizeof err);
    cluster_config_t cfg;
    cluster_config_default(&cfg);
    ASSERT_TRUE(x != NULL);
    if (!x) return;

    /* Generated news and repo events: amounts, names, possessives. */
    generator_t *g = generator_new(7, 0);
    char *line = malloc(GENERATOR_LINE_MAX);
    int same = 0, n = 600;
    for (int i = 0; g && line && i < n; i++) {
        event_t ev;
        size_t k = generator_event(g, (uint64_t)i, line, GENERATOR_LINE_MAX);
        if (event_decode(line, k, NULL, &ev, err, sizeof err) != EVENT_OK) continue;
        same += words_same_both_ways(x, &cfg, ev.title, ev.text, ev.lang, cfg.max_body_tokens);
        event_clear(&ev);
    }
    ASSERT_INT_EQ(same, n);
    free(line);
    generator_destroy(g);

    /* Edge cases: words longer than clustering's buffer (ASCII and cut in
     * the middle of a character), stopwords inside amounts, other
     * languages, no title, more tokens than read. */
    char lng[300], body[4000];
    memset(lng, 'a', sizeof lng - 1);
    lng[sizeof lng - 1] = '\0';
    char mixed[200] = "";
    for (int i = 0; i < 40; i++) strcat(mixed, "\xc3\xa9" "a");
    snprintf(body, sizeof body, "The %s of %s and %.62s and %.63s and %.64s x. Anthropic's $4 billion of the round.",
             lng, mixed, lng, lng, lng);
    ASSERT_TRUE(words_same_both_ways(x, &cfg, "Longest words", body, NULL, cfg.max_body_tokens));
    ASSERT_TRUE(words_same_both_ways(x, &cfg, "Ein Titel über die Übernahme", "Der Preis von 5 Millionen Euro und die Firma.",
                                     "de", cfg.max_body_tokens));
    ASSERT_TRUE(words_same_both_ways(x, &cfg, NULL, "OpenAI raised $6.6 billion; the of and a in.", "xx",
                                     cfg.max_body_tokens));
    size_t o = 0;
    for (int i = 0; i < 400 && o + 20 < sizeof body; i++) o += (size_t)snprintf(body + o, sizeof body - o, "word%d the ", i);
    ASSERT_TRUE(words_same_both_ways(x, &cfg, "Many tokens", body, NULL, cfg.max_body_tokens));
    /* Fewer recorded than clustering reads: the field is tokenised again. */
    ASSERT_TRUE(words_same_both_ways(x, &cfg, "Many tokens", body, NULL, 50));
    /* A text cut at the extractor's scan limit is tokenised again too. */
    size_t big = EXTRACT_TEXT_SCAN + 64;
    char *huge = malloc(big + 1);
    if (huge) {
        memset(huge, ' ', big);
        memcpy(huge + EXTRACT_TEXT_SCAN - 6, "Mistral raises money", 20);
        huge[big] = '\0';
        ASSERT_TRUE(words_same_both_ways(x, &cfg, "Cut", huge, NULL, cfg.max_body_tokens));
        free(huge);
    }

    /* A title past its scan limit whose last token read by clustering
     * (the 200th) is cut there: the list holds max tokens, but not those. */
    char *longt = malloc(EXTRACT_TITLE_SCAN + 128);
    if (longt) {
        size_t o2 = 0;
        memset(longt, 'x', 89);
        o2 = 89;
        longt[o2++] = ' ';
        for (int i = 0; i < 198; i++) {
            memset(longt + o2, 'a' + i % 26, 19);
            o2 += 19;
            longt[o2++] = ' ';
        }
        memset(longt + o2, ' ', EXTRACT_TITLE_SCAN - 26 - o2);
        o2 = EXTRACT_TITLE_SCAN - 26;
        memset(longt + o2, 'q', 60);
        longt[o2 + 60] = '\0';
        ASSERT_TRUE(cfg.max_body_tokens == 200 && words_same_both_ways(x, &cfg, longt, "Body.", NULL, 200));
        free(longt);
    }

    /* The recorded tokens are what is read: a changed form shows up. */
    text_words_t tok[2] = {{.max = cfg.max_body_tokens}, {.max = cfg.max_body_tokens}};
    extract_input_t in = {0, "Quantum chips", "Quantum chips ship.", NULL, NULL, NULL, NULL};
    cJSON *xj = extractor_run_words(x, &in, tok, err, sizeof err);
    ASSERT_TRUE(xj && tok[0].n == 2 && tok[0].complete);
    if (xj && tok[0].n == 2) {
        memcpy(tok[0].norms.data + tok[0].w[0].norm, "zzzzzzz", 7);
        cluster_doc_t d = {"w2", "Quantum chips", "Quantum chips ship.", NULL, NULL, 0, CLUSTER_TIME_NONE, tok};
        cluster_words_t w = {0};
        ASSERT_TRUE(cluster_words_build(&cfg, &d, &w) == 0 && memmem(w.occ.data, w.occ.len, "zzzzzzz", 7));
        cluster_words_free(&w);
    }
    text_words_free(&tok[0]);
    text_words_free(&tok[1]);
    cJSON_Delete(xj);
    extractor_destroy(x);
}

int main(void)
{
    test_grouping_and_determinism();
    test_ids_and_errors();
    test_time_window();
    test_merge();
    test_increments_round_trip();
    test_seeded_idf();
    test_top_terms();
    test_words_from_extractor_tokens();
    return TEST_DONE();
}

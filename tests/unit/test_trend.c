/* Unit tests for consumer/trend: hand-built cluster summaries, no I/O.
 * Independence (sources and subjects), the minimum of clusters, direction,
 * the window, restated themes, fact totals, determinism and bad input. */
#include <stdint.h>
#include <stdlib.h>

#include "../test.h"
#include "trend.h"

#define HOUR INT64_C(3600000000)
#define DAY (24 * HOUR)
#define NOW INT64_C(1728595860000000) /* 2024-10-10T21:31:00Z */
#define MAXEV 64

/* A story: its subject raised `amount` USD (0: no fact), reported by each
 * source in turn, per_day[d] events on day d of the week ending at NOW
 * (d = 6 is the last day). */
typedef struct {
    int64_t id;
    const char *subject;
    double amount;
    const char *sources[6];
    const char *tags[3];
    const char *terms[3];
    int per_day[7];
} spec_t;

typedef struct {
    trend_cluster_t c;
    const char *sources[6], *tags[3], *terms[3], *entities[1];
    int tag_counts[3], term_counts[3], entity_counts[1];
    trend_fact_t facts[MAXEV];
    int64_t times[MAXEV];
} built_t;

static size_t count_set(const char *const *v, size_t cap)
{
    size_t n = 0;
    while (n < cap && v[n]) n++;
    return n;
}

/* day_shift moves every event that many days back (negative: forward). */
static void build(const spec_t *s, built_t *b, int day_shift)
{
    memset(b, 0, sizeof *b);
    size_t n = 0;
    for (int d = 0; d < 7; d++)
        for (int k = 0; k < s->per_day[d] && n < MAXEV; k++)
            b->times[n++] = NOW - (6 - d + day_shift) * DAY - (k + 1) * HOUR;
    b->c.cluster_id = s->id;
    b->c.label = s->subject;
    b->c.n_sources = count_set(s->sources, 6);
    memcpy(b->sources, s->sources, sizeof b->sources);
    b->c.sources = b->sources;
    b->c.n_tags = count_set(s->tags, 3);
    b->c.n_terms = count_set(s->terms, 3);
    memcpy(b->tags, s->tags, sizeof b->tags);
    memcpy(b->terms, s->terms, sizeof b->terms);
    for (size_t i = 0; i < 3; i++) b->tag_counts[i] = b->term_counts[i] = (int)n;
    b->c.tags = b->tags;
    b->c.tag_counts = b->tag_counts;
    b->c.terms = b->terms;
    b->c.term_counts = b->term_counts;
    b->entities[0] = s->subject;
    b->entity_counts[0] = (int)n;
    b->c.entities = b->entities;
    b->c.entity_counts = b->entity_counts;
    b->c.n_entities = 1;
    if (s->amount > 0) {
        for (size_t i = 0; i < n; i++)
            b->facts[i] = (trend_fact_t){s->subject, "raised", s->amount, "USD"};
        b->c.facts = b->facts;
        b->c.n_facts = n;
    }
    b->c.event_times_us = b->times;
    b->c.n_events = n;
}

#define RISING_WEEK {0, 1, 1, 2, 2, 3, 4}

static const spec_t openai = {101, "OpenAI", 6.6e9, {"a.com", "b.com", "c.com"},
                              {"ai", "funding"}, {"company"}, RISING_WEEK};
static const spec_t anthropic = {102, "Anthropic", 4e9, {"d.com", "e.com"},
                                 {"ai", "funding"}, {"company"}, RISING_WEEK};
static const spec_t mistral = {103, "Mistral AI", 0.6e9, {"f.com", "g.com"},
                               {"ai", "funding"}, {"company"}, RISING_WEEK};
/* Unrelated stories: another tag pair, one story each. */
static const spec_t storm = {104, "Storm Orla", 0, {"h.com", "i.com"}, {"weather"},
                             {"storm", "orla"}, {3, 3, 3, 3, 0, 0, 0}};
static const spec_t cup = {105, "Harbor City", 0, {"a.com"}, {"sports"},
                           {"cup", "final"}, {0, 0, 2, 2, 0, 0, 0}};

static trend_list_t *run(const spec_t *const *specs, size_t n, const trend_config_t *cfg,
                         int day_shift)
{
    built_t *b = calloc(n ? n : 1, sizeof *b);
    trend_cluster_t *c = calloc(n ? n : 1, sizeof *c);
    trend_list_t *l = NULL;
    char err[128] = "";
    for (size_t i = 0; i < n; i++) {
        build(specs[i], &b[i], day_shift);
        c[i] = b[i].c;
    }
    if (trends_compute(cfg, c, n, NOW, &l, err, sizeof err) < 0)
        fprintf(stderr, "trends: %s\n", err);
    ASSERT_TRUE(l != NULL);
    free(c);
    free(b);
    return l;
}

static void test_ai_funding(void)
{
    const spec_t *s[] = {&openai, &anthropic, &mistral, &storm, &cup};
    trend_list_t *l = run(s, 5, NULL, 0);
    if (!l) return;
    ASSERT_INT_EQ(l->n, 1);
    if (l->n == 1) {
        const trend_t *t = &l->items[0];
        ASSERT_STR_EQ(t->key, "ai+funding");
        ASSERT_STR_EQ(t->title, "AI funding rising");
        ASSERT_INT_EQ(t->direction, TREND_RISING);
        ASSERT_TRUE(t->acceleration > 1.25);
        ASSERT_INT_EQ(t->n_clusters, 3);
        ASSERT_INT_EQ(t->n_independent, 3);
        ASSERT_INT_EQ(t->n_sources, 7);
        ASSERT_INT_EQ(t->volume, 3 * 13);
        ASSERT_INT_EQ(t->n_tags, 2);
        ASSERT_INT_EQ(t->n_terms, 1);
        if (t->n_terms == 1) ASSERT_STR_EQ(t->terms[0], "company");
        ASSERT_INT_EQ(t->n_totals, 1);
        if (t->n_totals == 1) {
            ASSERT_STR_EQ(t->totals[0].predicate, "raised");
            ASSERT_STR_EQ(t->totals[0].currency, "USD");
            ASSERT_NEAR(t->totals[0].total, 11.2e9, 1);
            ASSERT_INT_EQ(t->totals[0].n_subjects, 3);
        }
        ASSERT_INT_EQ(t->n_evidence, 3);
        for (size_t i = 0; i < t->n_evidence; i++) {
            ASSERT_TRUE(t->evidence[i].independent);
            ASSERT_STR_EQ(t->evidence[i].predicate, "raised");
        }
        /* Equal events: by cluster id. */
        if (t->n_evidence == 3) {
            ASSERT_STR_EQ(t->evidence[0].subject, "OpenAI");
            ASSERT_NEAR(t->evidence[0].amount, 6.6e9, 1);
            ASSERT_STR_EQ(t->evidence[2].subject, "Mistral AI");
        }
        ASSERT_TRUE(t->n_entities >= 3);
    }
    trend_list_destroy(l);
}

static void expect_none(const spec_t *const *s, size_t n, const char *why)
{
    trend_list_t *l = run(s, n, NULL, 0);
    if (!l) return;
    if (l->n) TEST_FAIL_("%s: got trend %s", why, l->items[0].key);
    else TEST_PASS_();
    trend_list_destroy(l);
}

static void test_one_source(void)
{
    spec_t a = openai, b = anthropic, c = mistral;
    a.sources[0] = b.sources[0] = c.sources[0] = "wire.example";
    a.sources[1] = b.sources[1] = c.sources[1] = NULL;
    a.sources[2] = NULL;
    const spec_t *s[] = {&a, &b, &c};
    expect_none(s, 3, "one source");
    /* Two clusters fed only by one publisher count once: 2 independent. */
    c.sources[0] = "other.example";
    expect_none(s, 3, "a source feeding two clusters");
}

static void test_two_clusters(void)
{
    const spec_t *s[] = {&openai, &anthropic, &storm};
    expect_none(s, 3, "two clusters");
}

static void test_same_subject(void)
{
    spec_t b = anthropic, c = mistral;
    b.subject = c.subject = "openai"; /* subjects compare case-insensitively */
    const spec_t *s[] = {&openai, &b, &c};
    expect_none(s, 3, "one subject thrice");
}

static void test_repeated_subject_counts_once(void)
{
    spec_t again = openai;
    again.id = 110;
    again.sources[0] = "x.com";
    again.sources[1] = again.sources[2] = NULL;
    const spec_t *s[] = {&openai, &again, &anthropic, &mistral};
    trend_list_t *l = run(s, 4, NULL, 0);
    if (!l) return;
    ASSERT_INT_EQ(l->n, 1);
    if (l->n == 1) {
        const trend_t *t = &l->items[0];
        ASSERT_INT_EQ(t->n_clusters, 4);
        ASSERT_INT_EQ(t->n_independent, 3);
        ASSERT_INT_EQ(t->totals[0].n_subjects, 3);
        ASSERT_NEAR(t->totals[0].total, 11.2e9, 1);
        size_t indep = 0;
        for (size_t i = 0; i < t->n_evidence; i++) indep += (size_t)t->evidence[i].independent;
        ASSERT_INT_EQ(indep, 3);
    }
    trend_list_destroy(l);
}

static void test_direction(void)
{
    spec_t a = openai, b = anthropic, c = mistral;
    const spec_t *s[] = {&a, &b, &c};
    /* Days 0-2 are the older half of the window, days 3-6 the newer. */
    int falling[7] = {4, 3, 2, 2, 1, 1, 0}, steady[7] = {2, 1, 1, 1, 1, 1, 1};
    memcpy(a.per_day, falling, sizeof falling);
    memcpy(b.per_day, falling, sizeof falling);
    memcpy(c.per_day, falling, sizeof falling);
    trend_list_t *l = run(s, 3, NULL, 0);
    if (l && l->n == 1) {
        ASSERT_INT_EQ(l->items[0].direction, TREND_FALLING);
        ASSERT_STR_EQ(l->items[0].title, "AI funding falling");
    } else ASSERT_TRUE(0);
    trend_list_destroy(l);
    memcpy(a.per_day, steady, sizeof steady);
    memcpy(b.per_day, steady, sizeof steady);
    memcpy(c.per_day, steady, sizeof steady);
    l = run(s, 3, NULL, 0);
    if (l && l->n == 1) ASSERT_INT_EQ(l->items[0].direction, TREND_STEADY);
    else ASSERT_TRUE(0);
    trend_list_destroy(l);
}

static void test_window(void)
{
    const spec_t *s[] = {&openai, &anthropic, &mistral};
    trend_list_t *l = run(s, 3, NULL, 7); /* a week older: all out of the window */
    if (l) ASSERT_INT_EQ(l->n, 0);
    trend_list_destroy(l);
    l = run(s, 3, NULL, -7); /* after now: not seen yet */
    if (l) ASSERT_INT_EQ(l->n, 0);
    trend_list_destroy(l);
    trend_config_t cfg;
    trend_config_default(&cfg);
    cfg.window_us = 21 * DAY;
    l = run(s, 3, &cfg, 7);
    if (l) ASSERT_INT_EQ(l->n, 1);
    trend_list_destroy(l);
}

/* A key term ("quantum") joined with a tag, when no second tag is shared. */
static void test_term_theme(void)
{
    spec_t a = openai, b = anthropic, c = mistral;
    a.tags[0] = b.tags[0] = c.tags[0] = "funding";
    a.tags[1] = b.tags[1] = c.tags[1] = NULL;
    a.terms[0] = b.terms[0] = c.terms[0] = "quantum";
    const spec_t *s[] = {&a, &b, &c};
    trend_list_t *l = run(s, 3, NULL, 0);
    if (l && l->n == 1) {
        ASSERT_STR_EQ(l->items[0].key, "funding+quantum");
        ASSERT_STR_EQ(l->items[0].title, "Quantum funding rising");
    } else ASSERT_TRUE(0);
    trend_list_destroy(l);
}

/* ai+funding, ai+company and company+funding have the same clusters: one
 * trend, the all-tag theme. A fourth cluster with company+funding only does
 * not make that a trend of its own. */
static void test_restatement(void)
{
    spec_t d = {120, "Pennyworth", 45e6, {"p.com", "q.com"}, {"funding"}, {"company"}, RISING_WEEK};
    const spec_t *s[] = {&openai, &anthropic, &mistral, &d};
    trend_list_t *l = run(s, 4, NULL, 0);
    if (l) {
        ASSERT_INT_EQ(l->n, 1);
        if (l->n) ASSERT_STR_EQ(l->items[0].key, "ai+funding");
    }
    trend_list_destroy(l);
}

/* The most reported amount stands for the cluster; a stray number does not. */
static void test_amount_mode(void)
{
    built_t b[3];
    trend_cluster_t c[3];
    const spec_t *s[] = {&openai, &anthropic, &mistral};
    for (int i = 0; i < 3; i++) {
        build(s[i], &b[i], 0);
        c[i] = b[i].c;
    }
    b[0].facts[0].amount = 157e9; /* the valuation, misread once */
    b[0].facts[1].amount = -1;    /* a mention without an amount */
    b[0].facts[1].currency = NULL;
    trend_list_t *l = NULL;
    char err[128];
    ASSERT_INT_EQ(trends_compute(NULL, c, 3, NOW, &l, err, sizeof err), 0);
    if (l && l->n == 1) ASSERT_NEAR(l->items[0].totals[0].total, 11.2e9, 1);
    else ASSERT_TRUE(0);
    trend_list_destroy(l);
}

/* Everything a trend carries, as text, to compare runs. */
static void dump(const trend_list_t *l, char *buf, size_t len)
{
    size_t o = 0;
#define PUT(...) (o += (size_t)snprintf(buf + o, o < len ? len - o : 0, __VA_ARGS__))
    for (size_t i = 0; i < l->n; i++) {
        const trend_t *t = &l->items[i];
        PUT("%s|%s|%.9g|%.9g|%zu|%zu|%zu\n", t->key, t->title, t->score, t->acceleration,
            t->volume, t->n_independent, t->n_sources);
        for (size_t k = 0; k < t->n_tags; k++) PUT("tag %s\n", t->tags[k]);
        for (size_t k = 0; k < t->n_terms; k++) PUT("term %s\n", t->terms[k]);
        for (size_t k = 0; k < t->n_entities; k++) PUT("ent %s\n", t->entities[k]);
        for (size_t k = 0; k < t->n_totals; k++)
            PUT("total %s %s %.9g %zu\n", t->totals[k].predicate, t->totals[k].currency,
                t->totals[k].total, t->totals[k].n_subjects);
        for (size_t k = 0; k < t->n_evidence; k++)
            PUT("ev %lld %s %d\n", (long long)t->evidence[k].cluster_id, t->evidence[k].subject,
                t->evidence[k].independent);
    }
#undef PUT
}

static void test_determinism(void)
{
    /* Two trends (ai+funding, storm+weather-like) in two input orders. */
    spec_t w1 = {201, "Storm Orla", 0, {"h.com"}, {"weather"}, {"storm"}, {0, 0, 1, 1, 1, 1, 1}};
    spec_t w2 = {202, "Storm Pia", 0, {"i.com"}, {"weather"}, {"storm"}, {1, 1, 1, 1, 1, 0, 0}};
    spec_t w3 = {203, "Storm Quin", 0, {"j.com"}, {"weather"}, {"storm"}, {0, 1, 1, 1, 0, 0, 0}};
    const spec_t *fwd[] = {&openai, &anthropic, &mistral, &w1, &w2, &w3, &cup};
    const spec_t *rev[] = {&cup, &w3, &w2, &w1, &mistral, &anthropic, &openai};
    static char a[8192], b[8192], c[8192];
    trend_list_t *l1 = run(fwd, 7, NULL, 0), *l2 = run(rev, 7, NULL, 0), *l3 = run(fwd, 7, NULL, 0);
    if (!l1 || !l2 || !l3) goto out;
    ASSERT_INT_EQ(l1->n, 2);
    dump(l1, a, sizeof a);
    dump(l2, b, sizeof b);
    dump(l3, c, sizeof c);
    ASSERT_STR_EQ(a, b);
    ASSERT_STR_EQ(a, c);
    if (l1->n == 2) {
        ASSERT_TRUE(l1->items[0].score >= l1->items[1].score);
        ASSERT_STR_EQ(l1->items[1].key, "storm+weather");
        ASSERT_STR_EQ(l1->items[1].title, "Storm weather steady");
    }
out:
    trend_list_destroy(l1);
    trend_list_destroy(l2);
    trend_list_destroy(l3);
}

static void test_errors(void)
{
    char err[128];
    trend_list_t *l = NULL;
    trend_config_t cfg;
    trend_config_default(&cfg);
    cfg.min_clusters = 0;
    err[0] = 0;
    ASSERT_INT_EQ(trends_compute(&cfg, NULL, 0, NOW, &l, err, sizeof err), -1);
    ASSERT_TRUE(err[0] != 0 && l == NULL);
    trend_config_default(&cfg);
    cfg.min_tag_share = 1.5;
    ASSERT_INT_EQ(trends_compute(&cfg, NULL, 0, NOW, &l, err, sizeof err), -1);

    built_t b[2];
    trend_cluster_t c[2];
    build(&openai, &b[0], 0);
    build(&anthropic, &b[1], 0);
    c[0] = b[0].c;
    c[1] = b[1].c;
    c[1].cluster_id = c[0].cluster_id;
    ASSERT_INT_EQ(trends_compute(NULL, c, 2, NOW, &l, err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "duplicate") != NULL);
    c[1] = b[1].c;
    b[1].facts[0].currency = NULL;
    ASSERT_INT_EQ(trends_compute(NULL, c, 2, NOW, &l, err, sizeof err), -1);
    ASSERT_TRUE(strstr(err, "currency") != NULL);
    b[1].facts[0].currency = "USD";
    c[1].tag_counts = NULL;
    ASSERT_INT_EQ(trends_compute(NULL, c, 2, NOW, &l, err, sizeof err), -1);
    ASSERT_TRUE(l == NULL);

    /* No clusters: an empty list, not an error. */
    ASSERT_INT_EQ(trends_compute(NULL, NULL, 0, NOW, &l, err, sizeof err), 0);
    if (l) ASSERT_INT_EQ(l->n, 0);
    trend_list_destroy(l);
}

int main(void)
{
    test_ai_funding();
    test_one_source();
    test_two_clusters();
    test_same_subject();
    test_repeated_subject_counts_once();
    test_direction();
    test_window();
    test_term_theme();
    test_restatement();
    test_amount_mode();
    test_determinism();
    test_errors();
    return TEST_DONE();
}

/* trend: themes carried by several independent stories at once.
 *
 * Input is one summary per story cluster (built by the caller from the
 * events, extractions and cluster ids it stores); output is the list of
 * current trends. Pure computation: no I/O, no global state.
 *
 * Features. A name is a feature of a cluster when it is a substantial share
 * of the cluster's events: a domain tag on at least min_tag_share of them,
 * or a key term on at least min_term_share (key terms are a short per-event
 * selection, so a theme word is often crowded out by names: a lower bar).
 *
 * Themes. A candidate theme is a pair of features of one cluster, at least
 * one of them a domain tag there ("ai" + "funding", "funding" + "quantum"),
 * or two key terms each on at least min_tag_share of its events ("airline"
 * + "strike"): tags come from a curated vocabulary, so anchoring on one, or
 * else demanding more of plain words, keeps pairs of incidental words
 * ("five" + "years") out. Its supporting clusters are the clusters with
 * events in the window that have the pair that way. The key is the two
 * names, sorted, joined by '+'; the title puts a term before a tag (a tag
 * names the broad category, a term narrows it: "Quantum funding rising").
 *
 * Independence. Each cluster has a subject: its most frequent fact subject,
 * else its most frequent entity (none: it cannot count). The independent
 * clusters of a theme are the largest set of supporting clusters with
 * pairwise distinct subjects that can each be credited to a different
 * publisher (a bipartite matching of subjects to sources). So a subject
 * covered by several clusters counts once, and so does one source feeding
 * many clusters. A theme is a trend when it has at least min_clusters
 * independent clusters and min_sources distinct sources.
 *
 * Scoring. volume = events of the supporting clusters in the window;
 * acceleration = (events in the newer half of the window + 1) / (events in
 * the older half + 1), so a theme born inside the window is not infinitely
 * fast; direction is rising at >= rise_ratio, falling at <= 1/rise_ratio,
 * else steady. score = independent clusters * ln(1 + on-theme volume) *
 * sqrt(acceleration clamped to [1/4, 4]), where on-theme volume weights each
 * cluster's events by the smaller share of the theme's two features.
 *
 * Overlap. Themes are taken in order: those with more names that are tags
 * (in most of their clusters) first, as tags are assigned precisely and key
 * terms include incidental words ("company"), then best score. One whose
 * supporting clusters not in a trend taken before it fall short of the
 * thresholds restates that trend and is dropped. The list is then sorted by
 * score desc, key asc.
 *
 * Facts. Per supporting cluster, its subject's facts are grouped by
 * predicate; a group's amount is the most reported one (ties: the smaller)
 * in its most reported currency, so one misread number does not count.
 * Totals per (predicate, currency) add one amount per distinct subject (the
 * cluster reporting it most wins), e.g. raised 11.2e9 USD from 3 subjects.
 *
 * Determinism: the same clusters in any order give the same list.
 *
 * Cost: O(P log P) for P feature pairs (at most 120 per cluster), plus a
 * matching per candidate theme that has min_clusters clusters or more. */
#ifndef SHOAL_TREND_H
#define SHOAL_TREND_H

#include <stddef.h>
#include <stdint.h>

#define TREND_TIME_NONE INT64_MIN  /* an event without a time (same as EVENT_TIME_NONE) */
#define TREND_MAX_FEATURES 16      /* per cluster, the highest shares */
#define TREND_MAX_NAMES 8          /* tags, terms and entities listed per trend */

typedef struct {
    const char *subject, *predicate; /* required */
    double amount;                   /* < 0: none stated */
    const char *currency;            /* with an amount: ISO 4217 code */
} trend_fact_t;

/* One story cluster. Every pointer is borrowed for the call; arrays may be
 * NULL when their count is 0. tag_counts[i] (and term, entity counts) is the
 * number of the cluster's events carrying tags[i]. */
typedef struct {
    int64_t cluster_id;                                 /* unique in the input */
    const char *label;                                  /* representative title, may be NULL */
    const char *const *sources;   size_t n_sources;     /* publishers of any of its events */
    const char *const *tags;      const int *tag_counts;    size_t n_tags;
    const char *const *terms;     const int *term_counts;   size_t n_terms;
    const char *const *entities;  const int *entity_counts; size_t n_entities;
    const trend_fact_t *facts;    size_t n_facts;       /* one per fact per event */
    const int64_t *event_times_us; size_t n_events;     /* all; TREND_TIME_NONE if unknown */
} trend_cluster_t;

typedef struct {
    int64_t window_us;      /* evidence window ending at now (7 days) */
    int min_clusters;       /* independent clusters (3) */
    int min_sources;        /* distinct publishers over the supporting clusters (3) */
    double min_tag_share;   /* (0.5) */
    double min_term_share;  /* (0.25) */
    double rise_ratio;      /* acceleration that counts as rising (1.25) */
} trend_config_t;

void trend_config_default(trend_config_t *c);

typedef enum { TREND_STEADY = 0, TREND_RISING, TREND_FALLING } trend_direction_t;

const char *trend_direction_name(trend_direction_t d); /* "steady", "rising", "falling" */

/* An amount for people: "6.6B USD", "600.0M EUR", "45.0" (no currency). */
void trend_format_amount(double v, const char *currency, char *out, size_t outlen);

typedef struct {
    char *predicate;
    char *currency;     /* NULL for facts without amounts */
    double total;       /* 0 without amounts */
    size_t n_subjects;
} trend_total_t;

/* A supporting cluster. */
typedef struct {
    int64_t cluster_id;
    char *label;        /* NULL if none */
    char *subject;      /* NULL if none */
    char *predicate;    /* the subject's most reported fact; NULL if none */
    double amount;      /* its amount, < 0 if none */
    char *currency;
    size_t events;      /* in the window */
    size_t n_sources;
    int independent;    /* 1: in the independent set */
} trend_evidence_t;

typedef struct {
    char *key;          /* the theme's two names, sorted, joined by '+': "ai+funding" */
    char *title;        /* "AI funding rising" */
    /* The theme's names, then others that are features of at least half the
     * supporting clusters: tags if tags in at least half, else terms. */
    char **tags;        size_t n_tags;
    char **terms;       size_t n_terms;
    char **entities;    size_t n_entities; /* subjects, then by clusters naming them */
    double score, acceleration;
    trend_direction_t direction;
    size_t volume, recent, earlier;        /* events in the window, its newer and older half */
    size_t n_clusters, n_independent, n_sources;
    trend_total_t *totals; size_t n_totals;         /* by subjects desc, predicate, currency */
    trend_evidence_t *evidence; size_t n_evidence;  /* by events desc, cluster id */
} trend_t;

typedef struct {
    trend_t *items;     /* score desc, key asc */
    size_t n;
} trend_list_t;

/* Computes the trends at now_us. cfg NULL = defaults. Returns 0 and a list
 * the caller frees with trend_list_destroy (possibly empty), or -1 and a
 * one-line reason in err (bad configuration or input, out of memory). */
int trends_compute(const trend_config_t *cfg, const trend_cluster_t *clusters, size_t n,
                   int64_t now_us, trend_list_t **out, char *err, size_t errlen);

void trend_list_destroy(trend_list_t *l);

#endif

#include "trend.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NO_SUBJECT UINT32_MAX

void trend_config_default(trend_config_t *c)
{
    c->window_us = INT64_C(7) * 24 * 3600 * 1000000;
    c->min_clusters = 3;
    c->min_sources = 3;
    c->min_tag_share = 0.5;
    c->min_term_share = 0.25;
    c->rise_ratio = 1.25;
}

const char *trend_direction_name(trend_direction_t d)
{
    return d == TREND_RISING ? "rising" : d == TREND_FALLING ? "falling" : "steady";
}

void trend_format_amount(double v, const char *currency, char *out, size_t outlen)
{
    const char *unit = "";
    if (v >= 1e9) { v /= 1e9; unit = "B"; }
    else if (v >= 1e6) { v /= 1e6; unit = "M"; }
    else if (v >= 1e3) { v /= 1e3; unit = "K"; }
    snprintf(out, outlen, "%.1f%s%s%s", v, unit, currency ? " " : "", currency ? currency : "");
}

typedef struct {
    uint32_t name; /* index into the sorted name table */
    float share;
    int is_tag;
} feat_t;

/* A cluster with events in the window. */
typedef struct {
    const trend_cluster_t *in;
    size_t events, recent, earlier;
    uint32_t subject;      /* interned, case-insensitive; NO_SUBJECT if none */
    const char *subj_name; /* this cluster's spelling */
    uint32_t *src;         /* interned sources, sorted, distinct */
    size_t nsrc;
    feat_t feat[TREND_MAX_FEATURES]; /* sorted by name */
    size_t nfeat;
    int claimed;           /* supports a trend already taken */
} cl_t;

/* Cluster ci has the pair (a, b), a < b; share = the smaller of the two. */
typedef struct {
    uint32_t a, b, ci;
    float share;
    uint8_t a_tag, b_tag; /* as tags in this cluster */
} triple_t;

/* A theme that passed on its whole support: triples [first, first + n). */
typedef struct {
    size_t first, n;
    int tags; /* how many of its names are tags in at least half its clusters */
    double score;
    char *key;
} cand_t;

typedef struct {
    const trend_config_t *cfg;
    int64_t now;
    cl_t *cl; /* sorted by cluster id */
    size_t ncl;
    const char **names; /* tags and terms, sorted, distinct */
    size_t nnames;
    size_t nsources;
    /* Matching state, indexed by source id. Entries are valid only when
     * their stamp is current, so nothing is cleared between themes. */
    uint32_t *match;     /* subject group the source is credited to */
    uint64_t *match_at, *seen_at;
    uint64_t stamp, eval, dfs;
    /* Per-theme scratch, ncl entries each (grp: ncl + 1). */
    uint32_t *sel;       /* cluster indices under evaluation */
    uint64_t *ord;       /* subject << 32 | cluster index */
    uint32_t *grp;       /* subject group starts in ord */
    char *err;
    size_t errlen;
} ctx_t;

static int fail(ctx_t *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (x->errlen) vsnprintf(x->err, x->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int oom(ctx_t *x) { return fail(x, "out of memory"); }

/* ---- Input checks ------------------------------------------------------ */

static int check_cfg(ctx_t *x, const trend_config_t *c)
{
    if (c->window_us <= 0) return fail(x, "window_us must be > 0");
    if (c->min_clusters < 1 || c->min_sources < 1)
        return fail(x, "min_clusters and min_sources must be >= 1");
    if (!(c->min_tag_share > 0 && c->min_tag_share <= 1) ||
        !(c->min_term_share > 0 && c->min_term_share <= 1))
        return fail(x, "shares must be in (0, 1]");
    if (!(c->rise_ratio >= 1)) return fail(x, "rise_ratio must be >= 1");
    return 0;
}

/* counted: counts are required (NULL for the sources, which have none). */
static int check_names(ctx_t *x, const trend_cluster_t *c, const char *what,
                       const char *const *v, int counted, const int *counts, size_t n)
{
    if (n && (!v || (counted && !counts)))
        return fail(x, "cluster %lld: %s missing", (long long)c->cluster_id, what);
    for (size_t i = 0; i < n; i++)
        if (!v[i] || (counted && counts[i] < 0))
            return fail(x, "cluster %lld: bad %s[%zu]", (long long)c->cluster_id, what, i);
    return 0;
}

static int check_cluster(ctx_t *x, const trend_cluster_t *c)
{
    if (check_names(x, c, "sources", c->sources, 0, NULL, c->n_sources) < 0 ||
        check_names(x, c, "tags", c->tags, 1, c->tag_counts, c->n_tags) < 0 ||
        check_names(x, c, "terms", c->terms, 1, c->term_counts, c->n_terms) < 0 ||
        check_names(x, c, "entities", c->entities, 1, c->entity_counts, c->n_entities) < 0)
        return -1;
    if ((c->n_facts && !c->facts) || (c->n_events && !c->event_times_us))
        return fail(x, "cluster %lld: facts or event times missing", (long long)c->cluster_id);
    for (size_t i = 0; i < c->n_facts; i++) {
        const trend_fact_t *f = &c->facts[i];
        if (!f->subject || !f->predicate)
            return fail(x, "cluster %lld: fact %zu without subject or predicate",
                        (long long)c->cluster_id, i);
        if (f->amount >= 0 && !f->currency)
            return fail(x, "cluster %lld: fact %zu has an amount but no currency",
                        (long long)c->cluster_id, i);
    }
    return 0;
}

static int has_amount(const trend_fact_t *f) { return f->amount >= 0; } /* false for NaN */

/* ---- Interning ----------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = ((const cl_t *)a)->in->cluster_id, y = ((const cl_t *)b)->in->cluster_id;
    return (x > y) - (x < y);
}

/* Sorts and dedups v in place; returns the distinct count. */
static size_t sort_unique(const char **v, size_t n)
{
    if (!n) return 0;
    qsort(v, n, sizeof *v, cmp_str);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i], v[k - 1]) != 0) v[k++] = v[i];
    return k;
}

static uint32_t lookup(const char **table, size_t n, const char *s)
{
    const char **p = bsearch(&s, table, n, sizeof *table, cmp_str);
    return (uint32_t)(p - table); /* every name looked up was interned */
}

/* ---- Per-cluster preparation ------------------------------------------- */

static void count_window(ctx_t *x, cl_t *c)
{
    int64_t lo = x->now - x->cfg->window_us, mid = x->now - x->cfg->window_us / 2;
    for (size_t i = 0; i < c->in->n_events; i++) {
        int64_t t = c->in->event_times_us[i];
        if (t == TREND_TIME_NONE || t <= lo || t > x->now) continue;
        c->events++;
        if (t > mid) c->recent++;
        else c->earlier++;
    }
}

static int cmp_feat_rank(const void *a, const void *b)
{
    const feat_t *p = a, *q = b;
    if (p->share != q->share) return p->share > q->share ? -1 : 1;
    return (p->name > q->name) - (p->name < q->name);
}

static int cmp_feat_name(const void *a, const void *b)
{
    const feat_t *p = a, *q = b;
    return (p->name > q->name) - (p->name < q->name);
}

/* Qualifying tags and terms, the TREND_MAX_FEATURES highest shares kept. A
 * name qualifying as both is one feature, a tag. */
static int build_features(ctx_t *x, cl_t *c)
{
    const trend_cluster_t *in = c->in;
    size_t cap = in->n_tags + in->n_terms, n = 0;
    if (!cap || !in->n_events) return 0;
    feat_t *f = malloc(cap * sizeof *f);
    if (!f) return oom(x);
    for (int pass = 0; pass < 2; pass++) {
        const char *const *v = pass ? in->terms : in->tags;
        const int *cnt = pass ? in->term_counts : in->tag_counts;
        size_t m = pass ? in->n_terms : in->n_tags;
        double bar = pass ? x->cfg->min_term_share : x->cfg->min_tag_share;
        for (size_t i = 0; i < m; i++) {
            double share = (double)cnt[i] / (double)in->n_events;
            if (share > 1) share = 1;
            if (share >= bar)
                f[n++] = (feat_t){lookup(x->names, x->nnames, v[i]), (float)share, !pass};
        }
    }
    /* One feature per name: a tag if either was, the larger share. */
    qsort(f, n, sizeof *f, cmp_feat_name);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && f[k - 1].name == f[i].name) {
            f[k - 1].is_tag |= f[i].is_tag;
            if (f[i].share > f[k - 1].share) f[k - 1].share = f[i].share;
        } else f[k++] = f[i];
    }
    qsort(f, k, sizeof *f, cmp_feat_rank);
    c->nfeat = k < TREND_MAX_FEATURES ? k : TREND_MAX_FEATURES;
    memcpy(c->feat, f, c->nfeat * sizeof *f);
    qsort(c->feat, c->nfeat, sizeof *f, cmp_feat_name);
    free(f);
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int build_sources(ctx_t *x, cl_t *c, const char **table)
{
    if (!c->in->n_sources) return 0;
    c->src = malloc(c->in->n_sources * sizeof *c->src);
    if (!c->src) return oom(x);
    for (size_t i = 0; i < c->in->n_sources; i++)
        c->src[i] = lookup(table, x->nsources, c->in->sources[i]);
    qsort(c->src, c->in->n_sources, sizeof *c->src, cmp_u32);
    size_t k = 1;
    for (size_t i = 1; i < c->in->n_sources; i++)
        if (c->src[i] != c->src[k - 1]) c->src[k++] = c->src[i];
    c->nsrc = k;
    return 0;
}

/* Case-insensitive first, so equal subjects sort together; then exact, so
 * the order never depends on the input's. */
static int cmp_name_ci(const char *a, const char *b)
{
    int d = strcasecmp(a, b);
    return d ? d : strcmp(a, b);
}

static int cmp_fact_subject(const void *a, const void *b)
{
    return cmp_name_ci((*(const trend_fact_t *const *)a)->subject,
                       (*(const trend_fact_t *const *)b)->subject);
}

/* Most frequent fact subject, else the most mentioned entity. */
static int pick_subject(ctx_t *x, cl_t *c)
{
    const trend_cluster_t *in = c->in;
    if (in->n_facts) {
        const trend_fact_t **v = malloc(in->n_facts * sizeof(trend_fact_t *));
        if (!v) return oom(x);
        for (size_t i = 0; i < in->n_facts; i++) v[i] = &in->facts[i];
        qsort(v, in->n_facts, sizeof(trend_fact_t *), cmp_fact_subject);
        size_t best = 0, best_n = 0;
        for (size_t i = 0, j; i < in->n_facts; i = j) {
            for (j = i + 1; j < in->n_facts && !strcasecmp(v[j]->subject, v[i]->subject); j++) {}
            if (j - i > best_n) {
                best = i;
                best_n = j - i;
            }
        }
        c->subj_name = v[best]->subject;
        free(v);
        return 0;
    }
    size_t best = in->n_entities;
    for (size_t i = 0; i < in->n_entities; i++) {
        if (in->entity_counts[i] <= 0) continue;
        if (best == in->n_entities || in->entity_counts[i] > in->entity_counts[best] ||
            (in->entity_counts[i] == in->entity_counts[best] &&
             cmp_name_ci(in->entities[i], in->entities[best]) < 0))
            best = i;
    }
    if (best < in->n_entities) c->subj_name = in->entities[best];
    return 0;
}

static int cmp_cl_subject(const void *a, const void *b)
{
    return cmp_name_ci((*(cl_t *const *)a)->subj_name, (*(cl_t *const *)b)->subj_name);
}

static int intern_subjects(ctx_t *x)
{
    cl_t **v = malloc((x->ncl ? x->ncl : 1) * sizeof(cl_t *));
    if (!v) return oom(x);
    size_t n = 0;
    for (size_t i = 0; i < x->ncl; i++)
        if (x->cl[i].subj_name) v[n++] = &x->cl[i];
    qsort(v, n, sizeof(cl_t *), cmp_cl_subject);
    uint32_t id = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && strcasecmp(v[i]->subj_name, v[i - 1]->subj_name) != 0) id++;
        v[i]->subject = id;
    }
    free(v);
    return 0;
}

/* ---- Independence -------------------------------------------------------- */

/* Kuhn's augmenting path from subject group g, whose clusters are
 * ord[grp[g] .. grp[g + 1]). Recursion depth is bounded by the groups. */
static int augment(ctx_t *x, uint32_t g)
{
    for (uint32_t k = x->grp[g]; k < x->grp[g + 1]; k++) {
        const cl_t *c = &x->cl[(uint32_t)x->ord[k]];
        for (size_t s = 0; s < c->nsrc; s++) {
            uint32_t p = c->src[s];
            if (x->seen_at[p] == x->dfs) continue;
            x->seen_at[p] = x->dfs;
            if (x->match_at[p] != x->eval || augment(x, x->match[p])) {
                x->match_at[p] = x->eval;
                x->match[p] = g;
                return 1;
            }
        }
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

typedef struct {
    size_t indep, sources;
} support_t;

/* Distinct sources and independent clusters of the clusters sel[0..n).
 * With indep_flag, sets indep_flag[ci] = 1 for one cluster per matched
 * subject: the first (by id) that carries the publisher it was credited to. */
static support_t evaluate(ctx_t *x, size_t n, int *indep_flag)
{
    support_t r = {0, 0};
    uint64_t mark = ++x->stamp;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const cl_t *c = &x->cl[x->sel[i]];
        for (size_t s = 0; s < c->nsrc; s++)
            if (x->seen_at[c->src[s]] != mark) {
                x->seen_at[c->src[s]] = mark;
                r.sources++;
            }
        if (c->subject != NO_SUBJECT) x->ord[m++] = (uint64_t)c->subject << 32 | x->sel[i];
    }
    /* Grouped by subject, clusters in id order within a group. */
    qsort(x->ord, m, sizeof *x->ord, cmp_u64);
    uint32_t ng = 0;
    for (size_t k = 0; k < m; k++)
        if (!k || x->ord[k] >> 32 != x->ord[k - 1] >> 32) x->grp[ng++] = (uint32_t)k;
    x->grp[ng] = (uint32_t)m;
    x->eval = ++x->stamp;
    for (uint32_t g = 0; g < ng; g++) {
        x->dfs = ++x->stamp;
        r.indep += (size_t)augment(x, g);
    }
    if (!indep_flag) return r;
    for (uint32_t g = 0; g < ng; g++) {
        int done = 0;
        for (uint32_t k = x->grp[g]; k < x->grp[g + 1] && !done; k++) {
            const cl_t *c = &x->cl[(uint32_t)x->ord[k]];
            for (size_t s = 0; s < c->nsrc && !done; s++)
                if (x->match_at[c->src[s]] == x->eval && x->match[c->src[s]] == g)
                    done = indep_flag[(uint32_t)x->ord[k]] = 1;
        }
    }
    return r;
}

static int passes(const ctx_t *x, support_t s)
{
    return s.indep >= (size_t)x->cfg->min_clusters && s.sources >= (size_t)x->cfg->min_sources;
}

/* ---- Themes -------------------------------------------------------------- */

static int cmp_triple(const void *a, const void *b)
{
    const triple_t *p = a, *q = b;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    if (p->b != q->b) return p->b < q->b ? -1 : 1;
    return (p->ci > q->ci) - (p->ci < q->ci);
}

static int make_triples(ctx_t *x, triple_t **out, size_t *nout)
{
    size_t n = 0;
    for (size_t i = 0; i < x->ncl; i++)
        if (x->cl[i].nfeat > 1) n += x->cl[i].nfeat * (x->cl[i].nfeat - 1) / 2;
    triple_t *t = malloc((n ? n : 1) * sizeof *t);
    if (!t) return oom(x);
    n = 0;
    for (size_t i = 0; i < x->ncl; i++) {
        const cl_t *c = &x->cl[i];
        for (size_t p = 0; p < c->nfeat; p++)
            for (size_t q = p + 1; q < c->nfeat; q++) {
                const feat_t *fp = &c->feat[p], *fq = &c->feat[q];
                float s = fp->share < fq->share ? fp->share : fq->share;
                /* Without a curated tag, both words must mark most events. */
                if (!fp->is_tag && !fq->is_tag && s < x->cfg->min_tag_share) continue;
                t[n++] = (triple_t){fp->name, fq->name, (uint32_t)i, s, (uint8_t)fp->is_tag,
                                    (uint8_t)fq->is_tag};
            }
    }
    qsort(t, n, sizeof *t, cmp_triple);
    *out = t;
    *nout = n;
    return 0;
}

typedef struct {
    size_t volume, recent, earlier;
    double acceleration, score;
    trend_direction_t direction;
} stats_t;

static stats_t theme_stats(const ctx_t *x, const triple_t *t, size_t n, size_t indep)
{
    stats_t s = {0};
    double on_theme = 0;
    for (size_t i = 0; i < n; i++) {
        const cl_t *c = &x->cl[t[i].ci];
        s.volume += c->events;
        s.recent += c->recent;
        s.earlier += c->earlier;
        on_theme += (double)c->events * t[i].share;
    }
    s.acceleration = ((double)s.recent + 1) / ((double)s.earlier + 1);
    s.direction = s.acceleration >= x->cfg->rise_ratio       ? TREND_RISING
                  : s.acceleration <= 1 / x->cfg->rise_ratio ? TREND_FALLING
                                                             : TREND_STEADY;
    double a = s.acceleration < 0.25 ? 0.25 : s.acceleration > 4 ? 4 : s.acceleration;
    s.score = (double)indep * log1p(on_theme) * sqrt(a);
    return s;
}

static char *make_key(const ctx_t *x, uint32_t a, uint32_t b)
{
    size_t la = strlen(x->names[a]), lb = strlen(x->names[b]);
    char *k = malloc(la + lb + 2);
    if (!k) return NULL;
    memcpy(k, x->names[a], la);
    k[la] = '+';
    memcpy(k + la + 1, x->names[b], lb + 1);
    return k;
}

static int cmp_cand(const void *a, const void *b)
{
    const cand_t *p = a, *q = b;
    if (p->score != q->score) return p->score > q->score ? -1 : 1;
    return strcmp(p->key, q->key);
}

/* Selection order: curated vocabulary first (tags are assigned precisely,
 * key terms include incidental words), then the output order. */
static int cmp_pick(const void *a, const void *b)
{
    const cand_t *p = a, *q = b;
    return p->tags != q->tags ? q->tags - p->tags : cmp_cand(a, b);
}

/* Themes that pass on their whole support, in selection order. */
static int find_candidates(ctx_t *x, const triple_t *t, size_t nt, cand_t **out, size_t *nout)
{
    cand_t *v = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0, j; i < nt; i = j) {
        for (j = i + 1; j < nt && t[j].a == t[i].a && t[j].b == t[i].b; j++) {}
        if (j - i < (size_t)x->cfg->min_clusters) continue;
        for (size_t k = i; k < j; k++) x->sel[k - i] = t[k].ci;
        support_t s = evaluate(x, j - i, NULL);
        if (!passes(x, s)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            cand_t *nv = realloc(v, cap * sizeof *v);
            if (!nv) goto nomem;
            v = nv;
        }
        size_t ta = 0, tb = 0;
        for (size_t k = i; k < j; k++) {
            ta += t[k].a_tag;
            tb += t[k].b_tag;
        }
        v[n] = (cand_t){i, j - i, (2 * ta >= j - i) + (2 * tb >= j - i),
                        theme_stats(x, t + i, j - i, s.indep).score, make_key(x, t[i].a, t[i].b)};
        if (!v[n++].key) goto nomem;
    }
    if (n) qsort(v, n, sizeof *v, cmp_pick);
    *out = v;
    *nout = n;
    return 0;
nomem:
    for (size_t k = 0; k < n; k++) free(v[k].key);
    free(v);
    return oom(x);
}

/* ---- Output -------------------------------------------------------------- */

static int dup_str(char **dst, const char *s)
{
    *dst = s ? strdup(s) : NULL;
    return s && !*dst ? -1 : 0;
}

typedef struct {
    uint32_t name;
    size_t n, tags; /* clusters where it qualifies; as a tag */
    int theme;      /* one of the theme's two names */
} tally_t;

static int cmp_tally_name(const void *a, const void *b)
{
    const tally_t *p = a, *q = b;
    return (p->name > q->name) - (p->name < q->name);
}

static int cmp_tally_rank(const void *a, const void *b)
{
    const tally_t *p = a, *q = b;
    if (p->theme != q->theme) return q->theme - p->theme;
    if (p->n != q->n) return p->n > q->n ? -1 : 1;
    return (p->name > q->name) - (p->name < q->name);
}

static int is_tag_tally(const tally_t *t, size_t nclusters) { return 2 * t->tags >= nclusters; }

/* Appends a word to dst; "ai" -> "AI": a two-letter name reads as an
 * acronym. The first letter of dst is capitalised. */
static void put_word(char *dst, size_t *len, const char *w)
{
    size_t n = strlen(w);
    int acronym = n <= 2, first = *len == 0;
    for (size_t i = 0; i < n; i++) acronym &= isalpha((unsigned char)w[i]) != 0;
    if (!first) dst[(*len)++] = ' ';
    for (size_t i = 0; i < n; i++, (*len)++)
        dst[*len] = acronym || (first && i == 0) ? (char)toupper((unsigned char)w[i]) : w[i];
    dst[*len] = 0;
}

/* Tags and terms shared by at least half the supporting clusters, the
 * theme's own first; the title puts terms before tags ("quantum funding"):
 * a tag names the broad category, a term narrows it. */
static int describe(ctx_t *x, const triple_t *t, size_t n, trend_t *out)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += x->cl[t[i].ci].nfeat;
    tally_t *v = malloc((total ? total : 1) * sizeof *v);
    if (!v) return -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const cl_t *c = &x->cl[t[i].ci];
        for (size_t f = 0; f < c->nfeat; f++)
            v[m++] = (tally_t){c->feat[f].name, 1, (size_t)c->feat[f].is_tag,
                               c->feat[f].name == t[0].a || c->feat[f].name == t[0].b};
    }
    qsort(v, m, sizeof *v, cmp_tally_name);
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (k && v[k - 1].name == v[i].name) {
            v[k - 1].n++;
            v[k - 1].tags += v[i].tags;
        } else v[k++] = v[i];
    }
    qsort(v, k, sizeof *v, cmp_tally_rank);
    int rc = 0;
    out->tags = calloc(TREND_MAX_NAMES, sizeof *out->tags);
    out->terms = calloc(TREND_MAX_NAMES, sizeof *out->terms);
    if (!out->tags || !out->terms) rc = -1;
    const tally_t *theme[2] = {NULL, NULL};
    for (size_t i = 0; i < k && rc == 0 && 2 * v[i].n >= n; i++) {
        int tag = is_tag_tally(&v[i], n);
        char ***list = tag ? &out->tags : &out->terms;
        size_t *len = tag ? &out->n_tags : &out->n_terms;
        if (*len < TREND_MAX_NAMES) rc = dup_str(&(*list)[(*len)++], x->names[v[i].name]);
        if (v[i].theme) theme[theme[0] != NULL] = &v[i];
    }
    /* make_triples pairs two distinct names of every supporting cluster, so
     * both are found; without them there is no title to write. */
    if (rc == 0 && (!theme[0] || !theme[1])) rc = -1;
    if (rc == 0) {
        /* theme[] is in name order; a term goes before a tag. */
        if (!is_tag_tally(theme[1], n) && is_tag_tally(theme[0], n)) {
            const tally_t *swap = theme[0];
            theme[0] = theme[1];
            theme[1] = swap;
        }
        const char *a = x->names[theme[0]->name], *b = x->names[theme[1]->name];
        const char *dir = trend_direction_name(out->direction);
        if (!(out->title = malloc(strlen(a) + strlen(b) + strlen(dir) + 3))) rc = -1;
        else {
            size_t len = 0;
            put_word(out->title, &len, a);
            put_word(out->title, &len, b);
            put_word(out->title, &len, dir);
        }
    }
    free(v);
    return rc;
}

typedef struct {
    const char *name;
    size_t clusters;
    long mentions;
    uint32_t ci;
    int subject; /* some cluster's subject */
} ent_t;

static int cmp_ent_name(const void *a, const void *b)
{
    const ent_t *p = a, *q = b;
    int d = strcmp(p->name, q->name);
    return d ? d : (p->ci > q->ci) - (p->ci < q->ci);
}

static int cmp_ent_rank(const void *a, const void *b)
{
    const ent_t *p = a, *q = b;
    if (p->subject != q->subject) return q->subject - p->subject;
    if (p->clusters != q->clusters) return p->clusters > q->clusters ? -1 : 1;
    if (p->mentions != q->mentions) return p->mentions > q->mentions ? -1 : 1;
    return strcmp(p->name, q->name);
}

/* The clusters' subjects, then entities by the number of supporting clusters
 * naming them, then mentions. */
static int key_entities(ctx_t *x, const triple_t *t, size_t n, trend_t *out)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += x->cl[t[i].ci].in->n_entities;
    if (!total) return 0;
    ent_t *v = malloc(total * sizeof *v);
    if (!v) return -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const cl_t *c = &x->cl[t[i].ci];
        for (size_t e = 0; e < c->in->n_entities; e++)
            if (c->in->entity_counts[e] > 0)
                v[m++] = (ent_t){c->in->entities[e], 1, c->in->entity_counts[e], t[i].ci,
                                 c->subj_name && !strcasecmp(c->subj_name, c->in->entities[e])};
    }
    qsort(v, m, sizeof *v, cmp_ent_name);
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (k && !strcmp(v[k - 1].name, v[i].name)) {
            v[k - 1].clusters += v[i].ci != v[k - 1].ci;
            v[k - 1].mentions += v[i].mentions;
            v[k - 1].ci = v[i].ci;
            v[k - 1].subject |= v[i].subject;
        } else v[k++] = v[i];
    }
    qsort(v, k, sizeof *v, cmp_ent_rank);
    int rc = 0;
    size_t keep = k < TREND_MAX_NAMES ? k : TREND_MAX_NAMES;
    out->entities = calloc(keep ? keep : 1, sizeof *out->entities);
    if (!out->entities) rc = -1;
    for (size_t i = 0; i < keep && rc == 0; i++)
        rc = dup_str(&out->entities[out->n_entities++], v[i].name);
    free(v);
    return rc;
}

/* One predicate of a cluster's subject: how often reported, and the most
 * reported amount in the most reported currency. */
typedef struct {
    const char *predicate, *currency; /* currency NULL without amounts */
    size_t n;
    double amount;                    /* < 0 without amounts */
} group_t;

static const char *currency_of(const trend_fact_t *f) { return has_amount(f) ? f->currency : NULL; }

static int cmp_opt_str(const char *a, const char *b)
{
    if (!a || !b) return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int cmp_fact(const void *a, const void *b)
{
    const trend_fact_t *p = *(const trend_fact_t *const *)a, *q = *(const trend_fact_t *const *)b;
    int d = strcmp(p->predicate, q->predicate);
    if (!d) d = cmp_opt_str(currency_of(p), currency_of(q));
    if (!d && has_amount(p) && has_amount(q)) d = (p->amount > q->amount) - (p->amount < q->amount);
    return d;
}

/* Groups by predicate, sorted by predicate. */
static int subject_groups(const cl_t *c, group_t **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    const trend_cluster_t *in = c->in;
    if (!c->subj_name || !in->n_facts) return 0;
    const trend_fact_t **v = malloc(in->n_facts * sizeof(trend_fact_t *));
    group_t *g = malloc(in->n_facts * sizeof *g);
    if (!v || !g) {
        free(v);
        free(g);
        return -1;
    }
    size_t m = 0, ng = 0;
    for (size_t i = 0; i < in->n_facts; i++)
        if (!strcasecmp(in->facts[i].subject, c->subj_name)) v[m++] = &in->facts[i];
    qsort(v, m, sizeof(trend_fact_t *), cmp_fact);
    for (size_t i = 0, j; i < m; i = j) {
        for (j = i + 1; j < m && !strcmp(v[j]->predicate, v[i]->predicate); j++) {}
        group_t gr = {v[i]->predicate, NULL, j - i, -1};
        size_t best_cur = 0;
        /* Currency runs, then amount runs inside them (sorted ascending, so
         * a tie keeps the smaller amount). */
        for (size_t a = i, b; a < j; a = b) {
            for (b = a + 1; b < j && !cmp_opt_str(currency_of(v[b]), currency_of(v[a])); b++) {}
            if (!currency_of(v[a]) || b - a <= best_cur) continue;
            best_cur = b - a;
            gr.currency = v[a]->currency;
            size_t best_amt = 0;
            for (size_t p = a, q; p < b; p = q) {
                for (q = p + 1; q < b && v[q]->amount == v[p]->amount; q++) {}
                if (q - p > best_amt) {
                    best_amt = q - p;
                    gr.amount = v[p]->amount;
                }
            }
        }
        g[ng++] = gr;
    }
    free(v);
    *out = g;
    *nout = ng;
    return 0;
}

typedef struct {
    const char *predicate, *currency;
    uint32_t subject;
    size_t n;
    int64_t id;
    double amount;
} fact_row_t;

static int cmp_fact_row(const void *a, const void *b)
{
    const fact_row_t *p = a, *q = b;
    int d = strcmp(p->predicate, q->predicate);
    if (!d) d = cmp_opt_str(p->currency, q->currency);
    if (!d && p->subject != q->subject) d = p->subject < q->subject ? -1 : 1;
    if (!d && p->n != q->n) d = p->n > q->n ? -1 : 1;
    if (!d) d = (p->id > q->id) - (p->id < q->id);
    return d;
}

static int cmp_total(const void *a, const void *b)
{
    const trend_total_t *p = a, *q = b;
    if (p->n_subjects != q->n_subjects) return p->n_subjects > q->n_subjects ? -1 : 1;
    int d = strcmp(p->predicate, q->predicate);
    return d ? d : cmp_opt_str(p->currency, q->currency);
}

static int cmp_evidence(const void *a, const void *b)
{
    const trend_evidence_t *p = a, *q = b;
    if (p->events != q->events) return p->events > q->events ? -1 : 1;
    return (p->cluster_id > q->cluster_id) - (p->cluster_id < q->cluster_id);
}

/* Evidence rows, and fact totals with one amount per subject, predicate
 * and currency. */
static int facts_and_evidence(ctx_t *x, const triple_t *t, size_t n, const int *indep, trend_t *out)
{
    size_t nrows = 0, caprows = 0;
    fact_row_t *rows = NULL;
    int rc = 0;
    out->evidence = calloc(n, sizeof *out->evidence);
    if (!out->evidence) return -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const cl_t *c = &x->cl[t[i].ci];
        trend_evidence_t *e = &out->evidence[out->n_evidence++];
        *e = (trend_evidence_t){.cluster_id = c->in->cluster_id, .amount = -1, .events = c->events,
                                .n_sources = c->nsrc, .independent = indep[t[i].ci]};
        group_t *g;
        size_t ng, best = 0;
        if (dup_str(&e->label, c->in->label) < 0 || dup_str(&e->subject, c->subj_name) < 0 ||
            subject_groups(c, &g, &ng) < 0) {
            rc = -1;
            break;
        }
        for (size_t k = 1; k < ng; k++)
            if (g[k].n > g[best].n) best = k;
        if (ng) {
            e->amount = g[best].amount;
            rc = dup_str(&e->predicate, g[best].predicate) |
                 dup_str(&e->currency, g[best].currency);
        }
        if (rc == 0 && nrows + ng > caprows) {
            caprows = (nrows + ng) * 2;
            fact_row_t *nr = realloc(rows, caprows * sizeof *rows);
            if (!nr) rc = -1;
            else rows = nr;
        }
        for (size_t k = 0; k < ng && rc == 0; k++)
            rows[nrows++] = (fact_row_t){g[k].predicate, g[k].currency, c->subject, g[k].n,
                                         c->in->cluster_id, g[k].amount};
        free(g);
    }
    if (rc == 0 && nrows) {
        qsort(rows, nrows, sizeof *rows, cmp_fact_row);
        out->totals = calloc(nrows, sizeof *out->totals);
        if (!out->totals) rc = -1;
        for (size_t i = 0; i < nrows && rc == 0; i++) {
            const fact_row_t *r = &rows[i];
            if (i && !strcmp(r->predicate, rows[i - 1].predicate) &&
                !cmp_opt_str(r->currency, rows[i - 1].currency)) {
                if (r->subject == rows[i - 1].subject) continue; /* a subject counts once */
            } else {
                trend_total_t *tt = &out->totals[out->n_totals++];
                rc = dup_str(&tt->predicate, r->predicate) | dup_str(&tt->currency, r->currency);
            }
            trend_total_t *tt = &out->totals[out->n_totals - 1];
            tt->n_subjects++;
            if (r->amount >= 0) tt->total += r->amount;
        }
        if (rc == 0) qsort(out->totals, out->n_totals, sizeof *out->totals, cmp_total);
    }
    if (rc == 0) qsort(out->evidence, out->n_evidence, sizeof *out->evidence, cmp_evidence);
    free(rows);
    return rc;
}

static int build_trend(ctx_t *x, const triple_t *t, size_t n, const cand_t *cand, int *indep,
                       trend_t *out)
{
    for (size_t i = 0; i < n; i++) {
        x->sel[i] = t[i].ci;
        indep[t[i].ci] = 0;
    }
    support_t s = evaluate(x, n, indep);
    stats_t st = theme_stats(x, t, n, s.indep);
    out->score = st.score;
    out->acceleration = st.acceleration;
    out->direction = st.direction;
    out->volume = st.volume;
    out->recent = st.recent;
    out->earlier = st.earlier;
    out->n_clusters = n;
    out->n_independent = s.indep;
    out->n_sources = s.sources;
    if (dup_str(&out->key, cand->key) < 0 || describe(x, t, n, out) < 0 ||
        key_entities(x, t, n, out) < 0 || facts_and_evidence(x, t, n, indep, out) < 0)
        return oom(x);
    return 0;
}

static int cmp_trend(const void *a, const void *b)
{
    const trend_t *p = a, *q = b;
    if (p->score != q->score) return p->score > q->score ? -1 : 1;
    return strcmp(p->key, q->key);
}

static void free_strs(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

void trend_list_destroy(trend_list_t *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) {
        trend_t *t = &l->items[i];
        free(t->key);
        free(t->title);
        free_strs(t->tags, t->n_tags);
        free_strs(t->terms, t->n_terms);
        free_strs(t->entities, t->n_entities);
        for (size_t k = 0; k < t->n_totals; k++) {
            free(t->totals[k].predicate);
            free(t->totals[k].currency);
        }
        free(t->totals);
        for (size_t k = 0; k < t->n_evidence; k++) {
            trend_evidence_t *e = &t->evidence[k];
            free(e->label);
            free(e->subject);
            free(e->predicate);
            free(e->currency);
        }
        free(t->evidence);
    }
    free(l->items);
    free(l);
}

/* ---- Entry point ----------------------------------------------------------- */

/* Every tag and term (which == 0) or source (1) of the window's clusters. */
static const char **collect(ctx_t *x, int which, size_t *nout)
{
    size_t n = 0;
    for (size_t i = 0; i < x->ncl; i++) {
        const trend_cluster_t *c = x->cl[i].in;
        n += which ? c->n_sources : c->n_tags + c->n_terms;
    }
    const char **v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return NULL;
    n = 0;
    for (size_t i = 0; i < x->ncl; i++) {
        const trend_cluster_t *c = x->cl[i].in;
        if (which) {
            for (size_t k = 0; k < c->n_sources; k++) v[n++] = c->sources[k];
            continue;
        }
        for (size_t k = 0; k < c->n_tags; k++) v[n++] = c->tags[k];
        for (size_t k = 0; k < c->n_terms; k++) v[n++] = c->terms[k];
    }
    *nout = sort_unique(v, n);
    return v;
}

static int prepare(ctx_t *x, const trend_cluster_t *clusters, size_t n)
{
    x->cl = calloc(n ? n : 1, sizeof *x->cl);
    if (!x->cl) return oom(x);
    for (size_t i = 0; i < n; i++) {
        if (check_cluster(x, &clusters[i]) < 0) return -1;
        cl_t c = {.in = &clusters[i], .subject = NO_SUBJECT};
        count_window(x, &c);
        if (c.events) x->cl[x->ncl++] = c;
    }
    qsort(x->cl, x->ncl, sizeof *x->cl, cmp_i64);
    for (size_t i = 1; i < x->ncl; i++)
        if (x->cl[i].in->cluster_id == x->cl[i - 1].in->cluster_id)
            return fail(x, "duplicate cluster id %lld", (long long)x->cl[i].in->cluster_id);
    const char **sources = collect(x, 1, &x->nsources);
    if (!sources || !(x->names = collect(x, 0, &x->nnames))) {
        free(sources);
        return oom(x);
    }
    int rc = 0;
    for (size_t i = 0; i < x->ncl && rc == 0; i++)
        rc = build_features(x, &x->cl[i]) < 0 || build_sources(x, &x->cl[i], sources) < 0 ||
                     pick_subject(x, &x->cl[i]) < 0
                 ? -1
                 : 0;
    free(sources);
    if (rc < 0 || intern_subjects(x) < 0) return -1;
    size_t ns = x->nsources ? x->nsources : 1, nc = x->ncl ? x->ncl : 1;
    x->match = malloc(ns * sizeof *x->match);
    x->match_at = calloc(ns, sizeof *x->match_at);
    x->seen_at = calloc(ns, sizeof *x->seen_at);
    x->sel = malloc(nc * sizeof *x->sel);
    x->ord = malloc(nc * sizeof *x->ord);
    x->grp = malloc((nc + 1) * sizeof *x->grp);
    if (!x->match || !x->match_at || !x->seen_at || !x->sel || !x->ord || !x->grp) return oom(x);
    return 0;
}

static void ctx_free(ctx_t *x)
{
    if (x->cl)
        for (size_t i = 0; i < x->ncl; i++) free(x->cl[i].src);
    free(x->cl);
    free(x->names);
    free(x->match);
    free(x->match_at);
    free(x->seen_at);
    free(x->sel);
    free(x->ord);
    free(x->grp);
}

int trends_compute(const trend_config_t *cfg, const trend_cluster_t *clusters, size_t n,
                   int64_t now_us, trend_list_t **out, char *err, size_t errlen)
{
    trend_config_t def;
    if (!cfg) {
        trend_config_default(&def);
        cfg = &def;
    }
    ctx_t x = {.cfg = cfg, .now = now_us, .err = err, .errlen = errlen};
    if (!out) return fail(&x, "no output pointer");
    *out = NULL;
    if (check_cfg(&x, cfg) < 0) return -1;
    if (now_us < INT64_MIN + cfg->window_us) return fail(&x, "now_us out of range");
    if (n && !clusters) return fail(&x, "no clusters");
    triple_t *t = NULL;
    cand_t *cand = NULL;
    size_t nt = 0, nc = 0, nacc = 0;
    size_t *acc = NULL;
    int *indep = NULL;
    trend_list_t *l = NULL;
    int rc = -1;
    if (prepare(&x, clusters, n) < 0 || make_triples(&x, &t, &nt) < 0 ||
        find_candidates(&x, t, nt, &cand, &nc) < 0)
        goto done;
    acc = malloc((nc ? nc : 1) * sizeof *acc);
    indep = calloc(x.ncl ? x.ncl : 1, sizeof *indep);
    l = calloc(1, sizeof *l);
    if (!acc || !indep || !l) {
        oom(&x);
        goto done;
    }
    /* A theme must stand on clusters no theme taken before it took. */
    for (size_t k = 0; k < nc; k++) {
        const triple_t *tt = t + cand[k].first;
        size_t m = 0;
        for (size_t i = 0; i < cand[k].n; i++)
            if (!x.cl[tt[i].ci].claimed) x.sel[m++] = tt[i].ci;
        if (m < (size_t)cfg->min_clusters || !passes(&x, evaluate(&x, m, NULL))) continue;
        acc[nacc++] = k;
        for (size_t i = 0; i < cand[k].n; i++) x.cl[tt[i].ci].claimed = 1;
    }
    if (nacc && !(l->items = calloc(nacc, sizeof *l->items))) {
        oom(&x);
        goto done;
    }
    for (size_t k = 0; k < nacc; k++) {
        const cand_t *c = &cand[acc[k]];
        if (build_trend(&x, t + c->first, c->n, c, indep, &l->items[l->n++]) < 0) goto done;
    }
    if (l->n) qsort(l->items, l->n, sizeof *l->items, cmp_trend);
    *out = l;
    l = NULL;
    rc = 0;
done:
    trend_list_destroy(l);
    for (size_t k = 0; k < nc; k++) free(cand[k].key);
    free(cand);
    free(t);
    free(acc);
    free(indep);
    ctx_free(&x);
    return rc;
}

#include "cluster.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "text.h"

/* Longer normalised words are noise (URLs, hashes); skipping them also means
 * a term is never cut inside a UTF-8 sequence. */
#define WORD_MAX 64
#define TERM_MAX (2 * WORD_MAX + 2)
#define NO_TERM UINT32_MAX
#define ARENA_BLOCK 65536
#define MAX_MERGES 4 /* per event */
#define TIME_RING 1024
#define LDF_TABLE 4096 /* document frequencies whose log1p is looked up */
#define TF_TABLE 256   /* occurrence counts whose 1 + log is looked up */

enum { F_TITLE, F_BODY, F_ENTITY, F_TITLE_BI, F_BODY_BI, F_COUNT };

typedef struct {
    const char *str; /* in the arena, never moves */
    uint32_t len;
    float ldf;       /* log(1 + df), so IDF needs no log per lookup */
    uint64_t df;
    uint32_t *post;  /* slots of clusters indexed under this term */
    uint32_t npost, cappost;
} term_t;

typedef struct {
    uint32_t term;
    double w;
} tw_t;

/* A cached weight sum: float halves the memory per cluster, and the exact
 * sums live in the shared store anyway. */
typedef struct {
    uint32_t term;
    float w;
} cw_t;

typedef struct {
    int64_t id; /* 0 = free slot */
    int64_t docs;
    int64_t last_seen;
    cw_t *tw; /* IDF-free weight sums, sorted by term id */
    uint32_t n, cap;
    /* Norm of the IDF-weighted sums, cached: recomputing it touches the IDF
     * of every term, and IDF drifts slowly. norm_at = documents seen then. */
    double norm;
    uint64_t norm_at;
    uint32_t *ix; /* terms this cluster is indexed under */
    uint32_t nix;
} cl_t;

/* An event's occurrences of one term, per field (build_vector). */
typedef struct {
    uint32_t term; /* term id + 1; 0: empty */
    uint32_t count[F_COUNT];
} tf_t;

typedef struct {
    uint32_t term;
    double w;   /* value kept */
    double key; /* sort key */
} ranked_t;

typedef struct {
    uint32_t slot;
    double score;
} cand_t;

typedef struct arena_block {
    struct arena_block *next;
    size_t used;
    char data[];
} arena_block_t;

typedef struct {
    int64_t id;
    uint32_t slot;
} idmap_entry_t;

/* A term of an event to look up: its bytes (a word pair's are at offset
 * pair in the engine's pairs until all are spelled out), length, hash and
 * field. */
typedef struct {
    const char *s;
    size_t pair;
    uint64_t h;
    uint32_t n;
    uint32_t field;
} look_t;

struct cluster_engine {
    cluster_config_t cfg;
    double fw[F_COUNT];

    /* vocabulary: open addressing on term strings, values are term id + 1 */
    term_t *terms;
    uint32_t nterms, capterms;
    uint32_t *vhash;
    size_t vcap;
    arena_block_t *arena;
    size_t arena_bytes;

    uint64_t ndocs;
    double lnn1; /* log(1 + ndocs) */

    /* clusters */
    cl_t *cl;
    uint32_t ncl, capcl;
    uint32_t *freelist;
    uint32_t nfree;
    size_t active;
    idmap_entry_t *idmap; /* open addressing on id, backward-shift deletion */
    size_t idcap;

    /* candidate accumulation, per slot */
    double *acc;
    uint32_t *stamp;
    uint32_t gen;
    uint32_t *touched;
    size_t ntouched, captouched;
    cand_t *cand;

    int64_t now, last_sweep;
    int64_t ring[TIME_RING]; /* the last event times seen, for the watermark */
    size_t ring_at, nring;

    /* per-call scratch */
    cluster_words_t words;
    tf_t *tf;       /* the event's terms: open addressing on term id */
    size_t captf;
    uint32_t *tfused; /* the slots of tf in use */
    size_t captfused;
    uint64_t *tkeys, *tkeys_tmp; /* term id, tf slot: sorted by term (tkeys_tmp: the radix sort's other buffer) */
    size_t captkeys, captkeys_tmp;
    look_t *look; /* an event's terms to look up (build_vector) */
    size_t caplook;
    buf_t pairs;  /* its word pairs, spelled out */
    uint64_t *keys;
    size_t capkeys;
    ranked_t *rk;
    size_t caprk;
    /* ldf of the document frequencies most terms have: df_add took a
     * log1p per term of every event */
    float ldf_small[LDF_TABLE];
    double tf_small[TF_TABLE]; /* 1 + log(count) */
    tw_t *qtab; /* the query's terms for cosine: open addressing, term + 1 (0: empty) */
    size_t *qused; /* the slots of qtab in use */
    size_t capqtab, nqused;
    tw_t *vec, *qvec, *mbuf;
    size_t capvec, capq, capm;
    cluster_term_t *out;
    size_t capout;
    cluster_merge_t *merges;
    size_t nmerges, capmerges;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Grows *p to hold at least need elements of size sz. */
static int grow(void *pp, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need) n *= 2;
    void *q = realloc(*(void **)pp, n * sz);
    if (!q) return -1;
    *(void **)pp = q;
    *cap = n;
    return 0;
}

void cluster_config_default(cluster_config_t *c)
{
    c->assign_threshold = 0.22;
    c->merge_threshold = 0.22;
    c->centroid_power = 0.75;
    c->size_prior = 0.03;
    c->title_weight = 3.0;
    c->body_weight = 1.0;
    c->entity_weight = 2.0;
    c->bigram_weight = 0.5;
    c->max_body_tokens = 200;
    c->max_terms = 100;
    c->index_terms = 12;
    c->query_terms = 12;
    c->max_postings = 64;
    c->max_candidates = 24;
    c->window_us = INT64_C(3) * 24 * 3600 * 1000000;
}

/* ---- hashing ---- */

/* Eight bytes per step (FNV-1a's multiply per byte was a chain of 3-cycle
 * steps, on every word of every event); the value only places terms in
 * this process's table. */
static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n, w;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 31;
    }
    /* The last 0-7 bytes, zero-padded, without a memcpy of variable length
     * (its size dispatch mispredicted): from two overlapping words, or from
     * the first, middle and last bytes. */
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        w = (uint64_t)a | ((uint64_t)b >> (8 * (8 - n))) << 32;
    } else {
        const unsigned char *u = (const unsigned char *)s;
        w = n ? (uint64_t)u[0] | ((uint64_t)u[n / 2] << 8 & (0 - (uint64_t)(n >= 2))) |
                    ((uint64_t)u[n - 1] << 16 & (0 - (uint64_t)(n >= 3)))
              : 0;
    }
    h = (h ^ w) * 0x94D049BB133111EBULL;
    return h ^ (h >> 29);
}

static uint64_t hash_id(int64_t id)
{
    uint64_t x = (uint64_t)id * 0x9E3779B97F4A7C15ULL;
    return x ^ (x >> 31);
}

static int term_weight_desc(const cluster_term_t *a, const cluster_term_t *b)
{
    return a->weight < b->weight ? 1 : a->weight > b->weight ? -1 : strcmp(a->term, b->term);
}

static int id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t idmap_get(const cluster_engine_t *e, int64_t id);

/* cluster_engine_get's state, its terms in the engine's order (term id). */
static int cluster_state_read(cluster_engine_t *e, int64_t id, cluster_state_t *out)
{
    uint32_t slot = idmap_get(e, id);
    if (slot == NO_TERM) return -1;
    const cl_t *c = &e->cl[slot];
    if (grow(&e->out, &e->capout, c->n, sizeof(cluster_term_t)) < 0) return -1;
    for (uint32_t i = 0; i < c->n; i++)
        e->out[i] = (cluster_term_t){e->terms[c->tw[i].term].str, c->tw[i].w};
    *out = (cluster_state_t){c->id, c->docs, c->last_seen, e->out, c->n};
    return 0;
}

/* The at most k heaviest of in[0..n) into out, heaviest first (ties: by
 * term, a total order, so in's order does not matter): the first k sorted
 * by insertion, then each later one inserted if it beats the k-th (most
 * lose at once). */
static void top_terms_select(const cluster_term_t *in, size_t n, size_t k, cluster_term_t *out)
{
    if (k) memcpy(out, in, k * sizeof(*out));
    for (size_t i = 1; k && i < n; i++) {
        cluster_term_t x = i < k ? out[i] : in[i];
        if (i >= k && term_weight_desc(&x, &out[k - 1]) >= 0) continue;
        size_t j = i < k ? i : k - 1;
        for (; j > 0 && term_weight_desc(&x, &out[j - 1]) < 0; j--) out[j] = out[j - 1];
        out[j] = x;
    }
}

int cluster_engine_top_terms(cluster_engine_t *e, const int64_t *ids, size_t n, const cluster_merge_t *merges,
                             size_t n_merges, size_t max, cluster_term_row_t **rows, size_t *n_rows,
                             size_t *cap)
{
    int64_t *sorted = malloc((n + n_merges + 1) * sizeof(*sorted));
    cluster_term_t *top = malloc((max ? max : 1) * sizeof(*top));
    size_t start = *n_rows;
    int rc = -1;
    if (!sorted || !top) goto out;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (ids[i]) sorted[k++] = ids[i];
    for (size_t m = 0; m < n_merges; m++) sorted[k++] = merges[m].into;
    n = k;
    qsort(sorted, n, sizeof(*sorted), id_cmp);
    for (size_t i = 0; i < n; i++) {
        cluster_state_t st;
        if ((i > 0 && sorted[i] == sorted[i - 1]) || cluster_state_read(e, sorted[i], &st) != 0) continue;
        size_t k = st.n_terms < max ? st.n_terms : max;
        top_terms_select(st.terms, st.n_terms, k, top);
        if (*n_rows + k > *cap && grow(rows, cap, *n_rows + k, sizeof(**rows)) < 0) goto out;
        for (size_t t = 0; t < k; t++) (*rows)[(*n_rows)++] = (cluster_term_row_t){st.id, top[t].term, top[t].weight};
    }
    rc = 0;
out:
    if (rc != 0) *n_rows = start;
    free(sorted);
    free(top);
    return rc;
}

int cluster_merges_append(cluster_merge_t **v, size_t *n, size_t *cap, cluster_merge_t m)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        cluster_merge_t *nv = realloc(*v, c * sizeof(*nv));
        if (!nv) return -1;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = m;
    return 0;
}

int64_t cluster_id_for_event(const char *event_id)
{
    sha256_t s;
    unsigned char d[32];
    sha256_init(&s);
    sha256_update(&s, event_id, strlen(event_id));
    sha256_final(&s, d);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | d[i];
    int64_t id = (int64_t)(v >> 1);
    return id ? id : 1; /* 0 marks a free slot */
}

/* ---- vocabulary ---- */

static const char *arena_put(cluster_engine_t *e, const char *s, size_t n)
{
    arena_block_t *b = e->arena;
    if (!b || b->used + n + 1 > ARENA_BLOCK) {
        b = malloc(sizeof(*b) + ARENA_BLOCK);
        if (!b) return NULL;
        b->next = e->arena;
        b->used = 0;
        e->arena = b;
        e->arena_bytes += sizeof(*b) + ARENA_BLOCK;
    }
    char *p = b->data + b->used;
    memcpy(p, s, n);
    p[n] = '\0';
    b->used += n + 1;
    return p;
}

/* h: hash_bytes(s, n). */
static uint32_t term_find(const cluster_engine_t *e, const char *s, size_t n, uint64_t h)
{
    if (!e->vcap) return NO_TERM;
    size_t mask = e->vcap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        uint32_t v = e->vhash[i];
        if (!v) return NO_TERM;
        const term_t *t = &e->terms[v - 1];
        if (t->len == n && memcmp(t->str, s, n) == 0) return v - 1;
    }
}

static int vhash_grow(cluster_engine_t *e)
{
    size_t ncap = e->vcap ? e->vcap * 2 : 1024;
    uint32_t *h = calloc(ncap, sizeof(*h));
    if (!h) return -1;
    for (uint32_t id = 0; id < e->nterms; id++) {
        size_t i = hash_bytes(e->terms[id].str, e->terms[id].len) & (ncap - 1);
        while (h[i]) i = (i + 1) & (ncap - 1);
        h[i] = id + 1;
    }
    free(e->vhash);
    e->vhash = h;
    e->vcap = ncap;
    return 0;
}

/* Term id for s (h: hash_bytes(s, n)), added to the vocabulary if new;
 * NO_TERM when out of memory. */
static uint32_t term_intern_hashed(cluster_engine_t *e, const char *s, size_t n, uint64_t h)
{
    uint32_t id = term_find(e, s, n, h);
    if (id != NO_TERM) return id;
    if (e->nterms == NO_TERM - 1) return NO_TERM;
    if ((e->nterms + 1) * 2 > e->vcap && vhash_grow(e) < 0) return NO_TERM;
    size_t cap = e->capterms;
    if (grow(&e->terms, &cap, (size_t)e->nterms + 1, sizeof(term_t)) < 0) return NO_TERM;
    e->capterms = (uint32_t)cap;
    const char *str = arena_put(e, s, n);
    if (!str) return NO_TERM;
    id = e->nterms++;
    e->terms[id] = (term_t){.str = str, .len = (uint32_t)n};
    size_t mask = e->vcap - 1, i = h & mask;
    while (e->vhash[i]) i = (i + 1) & mask;
    e->vhash[i] = id + 1;
    return id;
}

static uint32_t term_intern(cluster_engine_t *e, const char *s, size_t n)
{
    return term_intern_hashed(e, s, n, hash_bytes(s, n));
}

static void df_add(cluster_engine_t *e, uint32_t t, uint64_t k)
{
    uint64_t df = e->terms[t].df += k;
    e->terms[t].ldf = df < LDF_TABLE ? e->ldf_small[df] : (float)log1p((double)df);
}

static double idf(const cluster_engine_t *e, uint32_t t)
{
    /* Smoothed: an unseen term gets log(1 + N) + 1, a term in every
     * document still keeps weight 1. */
    return e->lnn1 - e->terms[t].ldf + 1.0;
}

/* ---- cluster id map ---- */

static uint32_t idmap_get(const cluster_engine_t *e, int64_t id)
{
    if (!e->idcap) return NO_TERM;
    size_t mask = e->idcap - 1;
    for (size_t i = hash_id(id) & mask;; i = (i + 1) & mask) {
        if (!e->idmap[i].id) return NO_TERM;
        if (e->idmap[i].id == id) return e->idmap[i].slot;
    }
}

static void idmap_insert_raw(idmap_entry_t *m, size_t cap, int64_t id, uint32_t slot)
{
    size_t i = hash_id(id) & (cap - 1);
    while (m[i].id) i = (i + 1) & (cap - 1);
    m[i].id = id;
    m[i].slot = slot;
}

static int idmap_put(cluster_engine_t *e, int64_t id, uint32_t slot)
{
    if ((e->active + 1) * 2 > e->idcap) {
        size_t ncap = e->idcap ? e->idcap * 2 : 1024;
        idmap_entry_t *m = calloc(ncap, sizeof(*m));
        if (!m) return -1;
        for (size_t i = 0; i < e->idcap; i++)
            if (e->idmap[i].id) idmap_insert_raw(m, ncap, e->idmap[i].id, e->idmap[i].slot);
        free(e->idmap);
        e->idmap = m;
        e->idcap = ncap;
    }
    idmap_insert_raw(e->idmap, e->idcap, id, slot);
    return 0;
}

static void idmap_del(cluster_engine_t *e, int64_t id)
{
    size_t mask = e->idcap - 1, i = hash_id(id) & mask;
    while (e->idmap[i].id != id) i = (i + 1) & mask;
    /* backward-shift deletion keeps probe chains intact without tombstones */
    for (size_t j = i;;) {
        e->idmap[i].id = 0;
        for (;;) {
            j = (j + 1) & mask;
            if (!e->idmap[j].id) return;
            size_t home = hash_id(e->idmap[j].id) & mask;
            if (i <= j ? (i < home && home <= j) : (i < home || home <= j)) continue;
            break;
        }
        e->idmap[i] = e->idmap[j];
        i = j;
    }
}

/* ---- inverted index ---- */

static void post_remove(cluster_engine_t *e, uint32_t t, uint32_t slot)
{
    term_t *tm = &e->terms[t];
    for (uint32_t i = 0; i < tm->npost; i++)
        if (tm->post[i] == slot) {
            tm->post[i] = tm->post[--tm->npost];
            return;
        }
}

/* 1 if indexed, 0 if the term's list is full, -1 out of memory. */
static int post_add(cluster_engine_t *e, uint32_t t, uint32_t slot)
{
    term_t *tm = &e->terms[t];
    if (tm->npost >= e->cfg.max_postings) return 0;
    if (tm->npost == tm->cappost) {
        /* most terms index a handful of clusters: start small */
        uint32_t cap = tm->cappost ? tm->cappost * 2 : 4;
        uint32_t *p = realloc(tm->post, cap * sizeof(uint32_t));
        if (!p) return -1;
        tm->post = p;
        tm->cappost = cap;
    }
    tm->post[tm->npost++] = slot;
    return 1;
}

/* qsort, but fine with an empty (possibly NULL) array. */
static void sort(void *base, size_t n, size_t sz, int (*cmp)(const void *, const void *))
{
    if (n > 1) qsort(base, n, sz, cmp);
}

/* Sorts numbers ascending (quicksort, then insertion below 16), with the
 * comparisons inline: qsort's callback per comparison cost more than the
 * comparing. Equal numbers are identical, so no stability is needed. */
static void sort_u64(uint64_t *a, size_t n)
{
    while (n > 16) {
        /* first <= middle <= last: the middle is the pivot, the ends stop
         * the scans */
        size_t m = n / 2, i = 0, j = n - 1;
        uint64_t t;
        if (a[m] < a[0]) t = a[m], a[m] = a[0], a[0] = t;
        if (a[j] < a[m]) t = a[j], a[j] = a[m], a[m] = t;
        if (a[m] < a[0]) t = a[m], a[m] = a[0], a[0] = t;
        uint64_t p = a[m];
        for (;;) {
            while (a[++i] < p) continue;
            while (p < a[--j]) continue;
            if (i >= j) break;
            t = a[i], a[i] = a[j], a[j] = t;
        }
        /* a[0..i) <= p <= a[i..n), neither empty; recurse into the smaller */
        if (i < n - i) {
            sort_u64(a, i);
            a += i;
            n -= i;
        } else {
            sort_u64(a + i, n - i);
            n = i;
        }
    }
    for (size_t i = 1; i < n; i++) {
        uint64_t x = a[i];
        size_t j = i;
        for (; j > 0 && x < a[j - 1]; j--) a[j] = a[j - 1];
        a[j] = x;
    }
}

/* A centroid weight sum as compared (centroid_power); the default 0.75
 * by two square roots, several times cheaper than pow(). */
static double centroid_weight(const cluster_engine_t *e, double w)
{
    double p = e->cfg.centroid_power;
    if (p == 1.0) return w;
    if (p == 0.75) return sqrt(w * sqrt(w));
    return pow(w, p);
}

/* Best first: higher key, then lower term id. A total order (the terms
 * ranked together are distinct), so any selection gives what a sort would. */
static int ranked_before(const ranked_t *x, const ranked_t *y)
{
    return x->key != y->key ? x->key > y->key : x->term < y->term;
}

/* Moves the k best of e->rk[0..n) to its front, best first (the rest is
 * left in no order); returns min(k, n). Insertion into the kept prefix:
 * k is small, and most terms lose to the current k-th at once. */
static size_t top_ranked(cluster_engine_t *e, size_t n, size_t k)
{
    if (k > n) k = n;
    size_t m = 0;
    double low = -INFINITY; /* the k-th's key once k are kept: lower keys lose at once */
    for (size_t i = 0; i < n; i++) {
        if (e->rk[i].key < low) continue;
        ranked_t r = e->rk[i];
        if (m == k && !ranked_before(&r, &e->rk[k - 1])) continue;
        size_t j = m < k ? m++ : k - 1;
        for (; j > 0 && ranked_before(&r, &e->rk[j - 1]); j--) e->rk[j] = e->rk[j - 1];
        e->rk[j] = r;
        if (m == k && k) low = e->rk[k - 1].key;
    }
    return k;
}

/* The k-th largest (from 0) of a[0..n), k < n, by selection: a is
 * reordered. Partitions without branches on the values (masks): a
 * quickselect that compared ranked terms mispredicted about half its
 * comparisons. */
static uint64_t nth_largest(uint64_t *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        uint64_t x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi - 1];
        uint64_t p = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y)); /* median of 3 */
        size_t gt = lo, eq;
        for (size_t i = lo; i < hi; i++) { /* a[lo .. gt) > p */
            uint64_t v = a[i], w = a[gt], c = v > p, m = 0 - c;
            a[i] = (w & m) | (v & ~m);
            a[gt] = (v & m) | (w & ~m);
            gt += c;
        }
        if (k < gt) {
            hi = gt;
            continue;
        }
        eq = gt;
        for (size_t i = gt; i < hi; i++) { /* a[gt .. eq) == p */
            uint64_t v = a[i], w = a[eq], c = v == p, m = 0 - c;
            a[i] = (w & m) | (v & ~m);
            a[eq] = (v & m) | (w & ~m);
            eq += c;
        }
        if (k < eq) return p;
        lo = eq;
    }
    return a[lo];
}

/* A rank key's bits: ordered as the keys are (they are >= 0). */
static uint64_t key_bits(double key)
{
    uint64_t b;
    memcpy(&b, &key, sizeof(b));
    return b;
}

/* A cluster term's rank: its TF-IDF weight. */
static ranked_t rank_of(const cluster_engine_t *e, tw_t t)
{
    return (ranked_t){t.term, t.w, t.w * idf(e, t.term)};
}

/* Ranks a cluster's terms by TF-IDF weight into e->rk (in input order)
 * and returns the norm of those weights, or -1 when out of memory. */
static double rank_cluster(cluster_engine_t *e, const tw_t *tw, size_t n)
{
    if (grow(&e->rk, &e->caprk, n, sizeof(ranked_t)) < 0) return -1;
    double norm = 0;
    for (size_t i = 0; i < n; i++) {
        e->rk[i] = rank_of(e, tw[i]);
        double d = centroid_weight(e, tw[i].w) * idf(e, tw[i].term);
        norm += d * d;
    }
    return sqrt(norm);
}

/* Indexes the cluster under its current top index_terms terms, updating
 * only the posting lists that change. */
static int reindex(cluster_engine_t *e, uint32_t slot)
{
    cl_t *c = &e->cl[slot];
    double norm = rank_cluster(e, e->mbuf, c->n); /* mbuf: c's terms, as doubles */
    if (norm < 0) return -1;
    c->norm = norm;
    c->norm_at = e->ndocs;
    size_t k = top_ranked(e, c->n, e->cfg.index_terms);
    uint32_t keep = 0;
    for (uint32_t i = 0; i < c->nix; i++) {
        int still = 0;
        for (size_t j = 0; j < k && !still; j++) still = e->rk[j].term == c->ix[i];
        if (still) c->ix[keep++] = c->ix[i];
        else post_remove(e, c->ix[i], slot);
    }
    c->nix = keep;
    for (size_t j = 0; j < k; j++) {
        int have = 0;
        for (uint32_t i = 0; i < keep && !have; i++) have = c->ix[i] == e->rk[j].term;
        if (have) continue;
        int r = post_add(e, e->rk[j].term, slot);
        if (r < 0) return -1;
        if (r) c->ix[c->nix++] = e->rk[j].term;
    }
    return 0;
}

/* ---- clusters ---- */

static int slot_new(cluster_engine_t *e, int64_t id, uint32_t *out)
{
    uint32_t slot;
    if (e->nfree) {
        slot = e->freelist[--e->nfree];
    } else {
        if (e->ncl == e->capcl) {
            /* the per-slot arrays grow together, to the same capacity */
            size_t cap = e->capcl ? (size_t)e->capcl * 2 : 256;
            if (cap > NO_TERM / 2) return -1;
            cl_t *cl = realloc(e->cl, cap * sizeof(*cl));
            if (cl) e->cl = cl;
            double *acc = cl ? realloc(e->acc, cap * sizeof(*acc)) : NULL;
            if (acc) e->acc = acc;
            uint32_t *st = acc ? realloc(e->stamp, cap * sizeof(*st)) : NULL;
            if (st) e->stamp = st;
            uint32_t *fl = st ? realloc(e->freelist, cap * sizeof(*fl)) : NULL;
            if (!fl) return -1;
            e->freelist = fl;
            e->capcl = (uint32_t)cap;
        }
        slot = e->ncl++;
        e->stamp[slot] = 0;
    }
    cl_t *c = &e->cl[slot];
    memset(c, 0, sizeof(*c));
    c->ix = malloc(e->cfg.index_terms * sizeof(uint32_t));
    if (!c->ix || idmap_put(e, id, slot) < 0) {
        free(c->ix);
        e->freelist[e->nfree++] = slot;
        return -1;
    }
    c->id = id;
    c->last_seen = CLUSTER_TIME_NONE;
    e->active++;
    *out = slot;
    return 0;
}

static void slot_free(cluster_engine_t *e, uint32_t slot)
{
    cl_t *c = &e->cl[slot];
    for (uint32_t i = 0; i < c->nix; i++) post_remove(e, c->ix[i], slot);
    idmap_del(e, c->id);
    free(c->tw);
    free(c->ix);
    memset(c, 0, sizeof(*c));
    e->freelist[e->nfree++] = slot;
    e->active--;
}

/* c.sums (+)= add (both sorted by term id), then keep the top max_terms by
 * TF-IDF weight. replace: the result is add alone. */
static int cluster_set_terms(cluster_engine_t *e, uint32_t slot, const tw_t *add, size_t na,
                             int replace)
{
    cl_t *c = &e->cl[slot];
    size_t nc = replace ? 0 : c->n;
    if (grow(&e->mbuf, &e->capm, nc + na, sizeof(tw_t)) < 0) return -1;
    size_t i = 0, j = 0, n = 0;
    while (i < nc || j < na) {
        if (j == na || (i < nc && c->tw[i].term < add[j].term)) {
            e->mbuf[n++] = (tw_t){c->tw[i].term, c->tw[i].w};
            i++;
        } else if (i == nc || add[j].term < c->tw[i].term) {
            e->mbuf[n++] = add[j++];
        } else {
            e->mbuf[n++] = (tw_t){c->tw[i].term, (double)c->tw[i].w + add[j].w};
            i++, j++;
        }
    }
    if (n > e->cfg.max_terms) {
        /* Keep the terms ranked at or above the max_terms-th (ranked_before:
         * key, then term id), in term order: the max_terms-th largest key,
         * then, when it is shared, the term id at which the terms sharing it
         * stop counting. keys[0 .. n) follow mbuf; the selection reorders
         * the copy at keys + n. */
        size_t max = e->cfg.max_terms;
        if (grow(&e->keys, &e->capkeys, 2 * n, sizeof(uint64_t)) < 0) return -1;
        uint64_t *keys = e->keys;
        for (size_t k = 0; k < n; k++) keys[k] = keys[n + k] = key_bits(rank_of(e, e->mbuf[k]).key);
        uint64_t last = nth_largest(keys + n, n, max - 1);
        size_t above = 0, at = 0;
        for (size_t k = 0; k < n; k++) {
            above += keys[k] > last;
            at += keys[k] == last;
        }
        uint32_t upto = UINT32_MAX; /* the last term id kept at key last */
        if (above + at > max) {
            size_t m = 0;
            for (size_t k = 0; k < n; k++)
                if (keys[k] == last) keys[n + m++] = e->mbuf[k].term;
            sort_u64(keys + n, m);
            upto = (uint32_t)keys[n + (max - above) - 1];
        }
        size_t kept = 0;
        for (size_t k = 0; k < n; k++) {
            e->mbuf[kept] = e->mbuf[k];
            kept += (keys[k] > last) | ((keys[k] == last) & (e->mbuf[k].term <= upto));
        }
        n = kept;
    }
    if (n > c->cap || n * 2 < c->cap) {
        cw_t *p = realloc(c->tw, (n ? n : 1) * sizeof(cw_t));
        if (!p) return -1;
        c->tw = p;
        c->cap = (uint32_t)(n ? n : 1);
    }
    for (size_t k = 0; k < n; k++) {
        c->tw[k] = (cw_t){e->mbuf[k].term, (float)e->mbuf[k].w};
        e->mbuf[k].w = c->tw[k].w; /* rank what is stored */
    }
    c->n = (uint32_t)n;
    return reindex(e, slot);
}

/* Closed for something at time at (an event, or a grown cluster's last
 * activity): idle longer than the window before it. A late event (at before
 * the cluster's last activity) may still join: partitions are consumed out
 * of step, and a backlog arrives partition by partition. */
static int closed_at(const cluster_engine_t *e, const cl_t *c, int64_t at)
{
    return at != CLUSTER_TIME_NONE && c->last_seen != CLUSTER_TIME_NONE && at - c->last_seen > e->cfg.window_us;
}

/* The earliest of the last TIME_RING event times: how late events still
 * arrive. Memory is reclaimed behind it, not behind the latest time, so a
 * disordered stream (a backlog, a shuffled file) keeps what it may join. */
static int64_t watermark(const cluster_engine_t *e)
{
    int64_t w = e->now;
    for (size_t i = 0; i < e->nring; i++)
        if (e->ring[i] < w) w = e->ring[i];
    return w;
}

/* Every window/8 of event time, the clusters closed for the watermark
 * leave memory. */
static void advance_clock(cluster_engine_t *e, int64_t t)
{
    if (t == CLUSTER_TIME_NONE) return;
    e->ring[e->ring_at] = t;
    e->ring_at = (e->ring_at + 1) % TIME_RING;
    if (e->nring < TIME_RING) e->nring++;
    if (e->now != CLUSTER_TIME_NONE && t <= e->now) return;
    e->now = t;
    if (e->last_sweep == CLUSTER_TIME_NONE) e->last_sweep = t;
    if (t - e->last_sweep < e->cfg.window_us / 8) return;
    e->last_sweep = t;
    int64_t w = watermark(e);
    for (uint32_t s = 0; s < e->ncl; s++)
        if (e->cl[s].id && closed_at(e, &e->cl[s], w)) slot_free(e, s);
}

/* ---- scoring ---- */

/* Slot of term t in a query table of mask + 1 slots. */
static size_t qtab_home(uint32_t t, size_t mask) { return (size_t)((t * 0x9E3779B1u) >> 16) & mask; }

/* Puts q into e->qtab (a power of two, at least four times its size, so
 * that a term not in q is mostly told at the first probe) for cosine: each
 * candidate then reads its own terms only, where a merge of the two sorted
 * lists stepped through both. The slots used are recorded and emptied by
 * the next call, instead of clearing the whole table. Returns the mask, or
 * 0 when out of memory. */
static size_t qtab_fill(cluster_engine_t *e, const tw_t *q, size_t nq)
{
    size_t cap = 64;
    while (cap < 4 * nq) cap *= 2;
    if (cap > e->capqtab) {
        tw_t *t = calloc(cap, sizeof(tw_t));
        size_t *u = malloc(cap * sizeof(size_t));
        if (!t || !u) {
            free(t);
            free(u);
            return 0;
        }
        free(e->qtab);
        free(e->qused);
        e->qtab = t;
        e->qused = u;
        e->capqtab = cap;
        e->nqused = 0;
    }
    for (size_t i = 0; i < e->nqused; i++) e->qtab[e->qused[i]].term = 0;
    e->nqused = 0;
    size_t mask = e->capqtab - 1;
    for (size_t i = 0; i < nq; i++) {
        size_t h = qtab_home(q[i].term, mask);
        while (e->qtab[h].term) h = (h + 1) & mask;
        e->qtab[h] = (tw_t){q[i].term + 1, q[i].w};
        e->qused[e->nqused++] = h;
    }
    return mask;
}

/* cosine(q, cluster), q in e->qtab (qtab_fill, mask): q holds weight *
 * IDF^2 (so the cluster side needs no IDF lookup) and qnorm the norm of
 * weight * IDF. The products are summed in the cluster's term order, the
 * order a merge of the sorted lists adds them in. The cluster's norm is
 * refreshed once the document count has grown by 1/32 since it was
 * taken. */
static double cosine(cluster_engine_t *e, size_t mask, double qnorm, cl_t *c)
{
    double dot = 0;
    for (uint32_t j = 0; j < c->n; j++) {
        uint32_t t = c->tw[j].term + 1;
        for (size_t h = qtab_home(t - 1, mask);; h = (h + 1) & mask) {
            uint32_t k = e->qtab[h].term;
            if (k == t) {
                dot += e->qtab[h].w * centroid_weight(e, c->tw[j].w);
                break;
            }
            if (!k) break;
        }
    }
    if (dot <= 0) return 0;
    if (e->ndocs - c->norm_at > e->ndocs / 32) {
        double cn = 0;
        for (uint32_t j = 0; j < c->n; j++) {
            double w = centroid_weight(e, c->tw[j].w) * idf(e, c->tw[j].term);
            cn += w * w;
        }
        c->norm = sqrt(cn);
        c->norm_at = e->ndocs;
    }
    return dot / (qnorm * c->norm);
}

/* Up to max_candidates slots sharing index terms with the top query_terms
 * terms of q, best overlap first, into e->cand. */
static int candidates(cluster_engine_t *e, const tw_t *q, size_t nq, uint32_t exclude,
                      size_t *ncand)
{
    if (grow(&e->rk, &e->caprk, nq, sizeof(ranked_t)) < 0) return -1;
    for (size_t i = 0; i < nq; i++) {
        double w = q[i].w / idf(e, q[i].term); /* TF-IDF weight */
        e->rk[i] = (ranked_t){q[i].term, w, w};
    }
    size_t nuse = top_ranked(e, nq, e->cfg.query_terms);

    if (++e->gen == 0) { /* wrapped: old stamps could collide */
        memset(e->stamp, 0, e->ncl * sizeof(uint32_t));
        e->gen = 1;
    }
    e->ntouched = 0;
    for (size_t k = 0; k < nuse; k++) {
        const term_t *t = &e->terms[e->rk[k].term];
        for (uint32_t p = 0; p < t->npost; p++) {
            uint32_t s = t->post[p];
            if (s == exclude) continue;
            if (e->stamp[s] != e->gen) {
                if (grow(&e->touched, &e->captouched, e->ntouched + 1, sizeof(uint32_t)) < 0)
                    return -1;
                e->stamp[s] = e->gen;
                e->acc[s] = 0;
                e->touched[e->ntouched++] = s;
            }
            e->acc[s] += e->rk[k].w;
        }
    }
    /* Bounded insertion: most touched clusters lose to the current worst.
     * Ties (common: equal overlaps) go to the lower slot, which is as
     * deterministic as the id and needs no cache miss to read. */
    size_t n = 0, m = e->cfg.max_candidates;
    for (size_t k = 0; k < e->ntouched; k++) {
        uint32_t s = e->touched[k];
        cand_t cd = {s, e->acc[s]};
        if (n == m && (cd.score < e->cand[n - 1].score ||
                       (cd.score == e->cand[n - 1].score && s > e->cand[n - 1].slot)))
            continue;
        size_t i = n < m ? n++ : n - 1;
        while (i > 0 && (e->cand[i - 1].score < cd.score ||
                         (e->cand[i - 1].score == cd.score && e->cand[i - 1].slot > s))) {
            e->cand[i] = e->cand[i - 1];
            i--;
        }
        e->cand[i] = cd;
    }
    *ncand = n;
    return 0;
}

/* Best candidate not closed at time at, by exact cosine plus prior *
 * log(docs); ties go to the lower id. *best is the score, *cos the cosine
 * of that candidate. */
static uint32_t best_match(cluster_engine_t *e, const tw_t *q, size_t nq, double qnorm, int64_t at,
                           uint32_t exclude, double prior, double *best, double *cos, int *rc)
{
    size_t nc;
    *best = *cos = 0;
    *rc = candidates(e, q, nq, exclude, &nc);
    if (*rc < 0) return NO_TERM;
    uint32_t bs = NO_TERM;
    size_t mask = nc ? qtab_fill(e, q, nq) : 0;
    if (nc && !mask) {
        *rc = -1;
        return NO_TERM;
    }
    for (size_t k = 0; k < nc; k++) {
        cl_t *c = &e->cl[e->cand[k].slot];
        if (closed_at(e, c, at)) continue;
        double cs = cosine(e, mask, qnorm, c);
        double s = cs > 0 ? cs + prior * log((double)(c->docs > 1 ? c->docs : 1)) : 0;
        if (s > *best || (s == *best && bs != NO_TERM && c->id < e->cl[bs].id)) {
            *best = s;
            *cos = cs;
            bs = e->cand[k].slot;
        }
    }
    return bs;
}

/* ---- event vectors ---- */

/* Light plural stemming, so "talks"/"talk" and "companies"/"company" meet. */
static size_t stem(char *w, size_t n)
{
    if (n > 4 && memcmp(w + n - 3, "ies", 3) == 0) {
        w[n - 3] = 'y';
        w[n - 2] = '\0';
        return n - 2;
    }
    if (n > 3 && w[n - 1] == 's' && w[n - 2] != 's' && w[n - 2] != 'u' && w[n - 2] != 'i' &&
        (w[0] < '0' || w[0] > '9')) {
        w[n - 1] = '\0';
        return n - 1;
    }
    return n;
}

static int only_spaces(const char *a, const char *b)
{
    for (; a < b; a++)
        if (*a != ' ' && *a != '\t') return 0;
    return 1;
}

/* One occurrence: its field, then the term's length and bytes (n < TERM_MAX
 * < 256), or for an adjacent pair length 0: the pair is the two words
 * pushed last. */
static void words_push(cluster_words_t *w, int field, const char *s, size_t n)
{
    unsigned char *p = (unsigned char *)buf_extend(&w->occ, 2 + n);
    if (!p) return;
    p[0] = (unsigned char)field;
    p[1] = (unsigned char)n;
    if (n) memcpy(p + 2, s, n);
}

/* Where add_word is within a field. */
typedef struct {
    size_t nprev;         /* length of the last word pushed, 0 after a skipped token */
    const char *prev_end; /* end of the previous token */
} field_pos_t;

/* One token of a field, normalised to w (n bytes, NUL-terminated, room for
 * WORD_MAX): a unigram occurrence in field uni, and with the word before it
 * an adjacent content-word pair (no stopword or punctuation between) in bi. */
static void add_word(const cluster_config_t *cfg, cluster_words_t *wo, field_pos_t *pos, const text_token_t *tok,
                     char *w, size_t n, int stop, int uni, int bi)
{
    int adjacent = pos->prev_end && pos->nprev && only_spaces(pos->prev_end, tok->start);
    pos->prev_end = tok->start + tok->len;
    if (n == 0 || n >= WORD_MAX - 1 || stop || (n == 1 && !(tok->flags & TOKEN_NUMERIC))) {
        pos->nprev = 0;
        return;
    }
    n = stem(w, n);
    words_push(wo, uni, w, n);
    /* The pair is the two words before it: stored by reference. */
    if (adjacent && cfg->bigram_weight > 0) words_push(wo, bi, NULL, 0);
    pos->nprev = n;
}

/* The words of s (up to max tokens), tokenised here. */
static void add_text(const cluster_config_t *cfg, cluster_words_t *wo, const char *s, size_t max, int uni,
                     int bi, const char *lang)
{
    text_iter_t it;
    text_token_t tok;
    char w[WORD_MAX];
    field_pos_t pos = {0, NULL};
    size_t ntok = 0;
    text_iter_init(&it, s, strlen(s));
    while (ntok++ < max && text_iter_next(&it, &tok)) {
        size_t n = text_normalize(tok.start, tok.len, w, sizeof(w));
        add_word(cfg, wo, &pos, &tok, w, n, n < sizeof(w) - 1 && text_is_stopword(w, n, lang), uni, bi);
    }
}

/* The same from the extractor's tokens. A form too long for w is
 * normalised again into w, where it is cut the way add_text cuts it. */
static void add_tokens(const cluster_config_t *cfg, cluster_words_t *wo, const text_words_t *ws, size_t max,
                       int uni, int bi, const char *lang)
{
    char w[WORD_MAX];
    field_pos_t pos = {0, NULL};
    for (size_t i = 0; i < ws->n && i < max; i++) {
        const text_word_t *t = &ws->w[i];
        size_t n = t->nlen;
        int stop = t->stop;
        if (n < sizeof(w)) memcpy(w, ws->norms.data + t->norm, n + 1);
        else {
            n = text_normalize(t->tok.start, t->tok.len, w, sizeof(w));
            stop = n < sizeof(w) - 1 && text_is_stopword(w, n, lang);
        }
        add_word(cfg, wo, &pos, &t->tok, w, n, stop, uni, bi);
    }
}

/* Whether a field's recorded tokens stand for tokenising s (see cluster_doc_t). */
static int tokens_usable(const text_words_t *ws, const char *s, size_t max)
{
    return ws->text == s && ws->complete && (ws->n < ws->max || ws->max >= max);
}

/* "e:" + the entity's normalised words joined by spaces; skipped if empty
 * or too long. */
static void add_entity(cluster_words_t *wo, const char *name)
{
    text_iter_t it;
    text_token_t tok;
    char buf[TERM_MAX], w[WORD_MAX];
    size_t n = 2;
    buf[0] = 'e';
    buf[1] = ':';
    text_iter_init(&it, name, strlen(name));
    while (text_iter_next(&it, &tok)) {
        size_t k = text_normalize(tok.start, tok.len, w, sizeof(w));
        if (k == 0) continue;
        if (k >= sizeof(w) - 1 || n + 1 + k >= sizeof(buf)) return;
        if (n > 2) buf[n++] = ' ';
        memcpy(buf + n, w, k);
        n += k;
    }
    if (n > 2) words_push(wo, F_ENTITY, buf, n);
}

int cluster_words_build(const cluster_config_t *cfg, const cluster_doc_t *d, cluster_words_t *w)
{
    const char *lang = d->lang ? d->lang : "en";
    buf_reset(&w->occ);
    w->occ.failed = 0;
    const char *field[2] = {d->title, d->text};
    static const int uni[2] = {F_TITLE, F_BODY}, bi[2] = {F_TITLE_BI, F_BODY_BI};
    for (int f = 0; f < 2; f++) {
        if (!field[f]) continue;
        if (d->tokens && tokens_usable(&d->tokens[f], field[f], cfg->max_body_tokens))
            add_tokens(cfg, w, &d->tokens[f], cfg->max_body_tokens, uni[f], bi[f], lang);
        else add_text(cfg, w, field[f], cfg->max_body_tokens, uni[f], bi[f], lang);
    }
    for (size_t i = 0; i < d->n_entities; i++)
        if (d->entities[i]) add_entity(w, d->entities[i]);
    return w->occ.failed ? -1 : 0;
}

void cluster_words_free(cluster_words_t *w)
{
    buf_free(&w->occ);
}

/* Sorts e->tkeys[0 .. n) by term id (the high half; the terms are
 * distinct, so the order is what any sort gives): least significant digit
 * first, a byte per pass, over the bits a term id below e->nterms can set.
 * Quicksort's comparisons of these keys mispredicted about half the time
 * (5 % of the consumer's main-thread cycles); counting does not branch on
 * them. */
static int sort_tkeys(cluster_engine_t *e, size_t n)
{
    if (n < 64) {
        sort_u64(e->tkeys, n);
        return 0;
    }
    if (grow(&e->tkeys_tmp, &e->captkeys_tmp, n, sizeof(uint64_t)) < 0) return -1;
    int bits = 0;
    for (uint32_t t = e->nterms; t; t >>= 1) bits++;
    /* As many passes as bytes, with digits of equal width: 19 bits take
     * three passes of 128 buckets rather than 256, 256 and 8. */
    int passes = (bits + 7) / 8, width = passes ? (bits + passes - 1) / passes : 0;
    uint64_t *a = e->tkeys, *b = e->tkeys_tmp, mask = ((uint64_t)1 << width) - 1;
    for (int shift = 32; shift < 32 + bits; shift += width) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++) count[((a[i] >> shift) & mask) + 1]++;
        for (uint64_t d = 1; d <= mask; d++) count[d] += count[d - 1];
        for (size_t i = 0; i < n; i++) b[count[(a[i] >> shift) & mask]++] = a[i];
        uint64_t *t = a;
        a = b;
        b = t;
    }
    if (a != e->tkeys) memcpy(e->tkeys, a, n * sizeof(uint64_t));
    return 0;
}

/* The tf slot of term t (e->tf has room: at least twice the event's
 * occurrences), new and zeroed when t is not there yet. */
static tf_t *tf_slot(cluster_engine_t *e, uint32_t t, size_t *nused)
{
    size_t mask = e->captf - 1;
    for (size_t h = qtab_home(t, mask);; h = (h + 1) & mask) {
        tf_t *f = &e->tf[h];
        if (f->term == t + 1) return f;
        if (!f->term) {
            memset(f, 0, sizeof(*f));
            f->term = t + 1;
            e->tfused[(*nused)++] = (uint32_t)h;
            return f;
        }
    }
}

/* How many terms ahead build_vector asks for the vocabulary's memory it
 * will read: its tables are far larger than the caches, and a lookup that
 * waits for each of its reads in turn (slot, term, string) stalls on all. */
#define LOOK_AHEAD 8

/* Builds e->vec from the event's words: its L2-normalised field-weighted
 * sublinear term frequencies, sorted by term id. The terms are spelled out
 * and hashed first, so that each lookup finds the memory it reads already
 * on its way. */
static int build_vector(cluster_engine_t *e, const cluster_words_t *words, size_t *nvec)
{
    buf_reset(&e->pairs);
    const unsigned char *p = (const unsigned char *)words->occ.data, *end = p + words->occ.len;
    const char *last[2] = {"", ""};
    size_t nlast[2] = {0, 0}, nlook = 0;
    while (p < end) {
        if (grow(&e->look, &e->caplook, nlook + 1, sizeof(look_t)) < 0) return -1;
        look_t *l = &e->look[nlook++];
        l->field = p[0];
        l->s = (const char *)p + 2;
        l->n = p[1];
        if (l->n == 0) { /* the pair of the two words before */
            l->s = NULL;
            l->pair = e->pairs.len;
            l->n = (uint32_t)(nlast[0] + 1 + nlast[1]);
            char *d = buf_extend(&e->pairs, l->n);
            if (!d) return -1;
            memcpy(d, last[0], nlast[0]);
            d[nlast[0]] = ' ';
            memcpy(d + nlast[0] + 1, last[1], nlast[1]);
            l->h = hash_bytes(d, l->n);
        } else {
            last[0] = last[1];
            nlast[0] = nlast[1];
            last[1] = l->s;
            nlast[1] = l->n;
            l->h = hash_bytes(l->s, l->n);
        }
        if (e->vcap) __builtin_prefetch(&e->vhash[l->h & (e->vcap - 1)]);
        p += 2 + p[1];
    }
    for (size_t i = 0; i < nlook; i++) {
        look_t *l = &e->look[i];
        if (!l->s) l->s = e->pairs.data + l->pair;
    }
    /* Occurrences are counted per term and field in e->tf as the terms are
     * looked up, then the distinct terms sorted: fewer keys than sorting
     * every occurrence by (term, field). */
    size_t cap = 64, ntf = 0;
    while (cap < 2 * nlook) cap *= 2;
    if (cap > e->captf) {
        tf_t *t = calloc(cap, sizeof(*t));
        if (!t) return -1;
        free(e->tf);
        e->tf = t;
        e->captf = cap;
    }
    if (grow(&e->tfused, &e->captfused, nlook, sizeof(uint32_t)) < 0) return -1;
    int rc = 0;
    for (size_t i = 0; i < nlook && rc == 0; i++) {
        if (i + LOOK_AHEAD < nlook && e->vcap) {
            uint32_t v = e->vhash[e->look[i + LOOK_AHEAD].h & (e->vcap - 1)];
            if (v) __builtin_prefetch(&e->terms[v - 1]);
        }
        if (i + LOOK_AHEAD / 2 < nlook && e->vcap) {
            uint32_t v = e->vhash[e->look[i + LOOK_AHEAD / 2].h & (e->vcap - 1)];
            if (v) __builtin_prefetch(e->terms[v - 1].str);
        }
        const look_t *l = &e->look[i];
        uint32_t t = term_intern_hashed(e, l->s, l->n, l->h);
        if (t == NO_TERM) rc = -1;
        else tf_slot(e, t, &ntf)->count[l->field]++;
    }
    if (rc == 0 && (grow(&e->tkeys, &e->captkeys, ntf, sizeof(uint64_t)) < 0 ||
                    grow(&e->vec, &e->capvec, ntf, sizeof(tw_t)) < 0))
        rc = -1;
    for (size_t k = 0; k < ntf && rc == 0; k++)
        e->tkeys[k] = (uint64_t)(e->tf[e->tfused[k]].term - 1) << 32 | e->tfused[k];
    if (rc == 0) rc = sort_tkeys(e, ntf);
    size_t n = 0;
    double norm = 0;
    for (size_t k = 0; k < ntf && rc == 0; k++) {
        const tf_t *f = &e->tf[(uint32_t)e->tkeys[k]];
        double w = 0;
        for (int field = 0; field < F_COUNT; field++) {
            uint32_t c = f->count[field];
            if (c) w += e->fw[field] * (c < TF_TABLE ? e->tf_small[c] : 1.0 + log((double)c));
        }
        if (w > 0) {
            e->vec[n++] = (tw_t){f->term - 1, w};
            norm += w * w;
        }
    }
    for (size_t k = 0; k < ntf; k++) e->tf[e->tfused[k]].term = 0; /* emptied, even after a failure */
    if (rc < 0) return -1;
    norm = sqrt(norm);
    for (size_t i = 0; i < n; i++) e->vec[i].w /= norm;
    *nvec = n;
    return 0;
}

/* e->qvec = v with weights times IDF^2 (see cosine); returns the norm of
 * v with weights times IDF. */
static double idf_weight(cluster_engine_t *e, const tw_t *v, size_t n)
{
    double norm = 0;
    for (size_t i = 0; i < n; i++) {
        double f = idf(e, v[i].term), w = v[i].w * f;
        e->qvec[i] = (tw_t){v[i].term, w * f};
        norm += w * w;
    }
    return sqrt(norm);
}

/* ---- public ---- */

cluster_engine_t *cluster_engine_new(const cluster_config_t *cfg, char *err, size_t errlen)
{
    cluster_config_t c;
    if (cfg) c = *cfg;
    else cluster_config_default(&c);
    if (!(c.assign_threshold > 0 && c.assign_threshold <= 1) ||
        !(c.merge_threshold > 0 && c.merge_threshold <= 1)) {
        fail(err, errlen, "cluster: thresholds must be in (0, 1]");
        return NULL;
    }
    if (!(c.centroid_power > 0 && c.centroid_power <= 1)) {
        fail(err, errlen, "cluster: centroid_power must be in (0, 1]");
        return NULL;
    }
    if (!(c.title_weight >= 0 && c.body_weight >= 0 && c.entity_weight >= 0 &&
          c.bigram_weight >= 0 && c.size_prior >= 0)) {
        fail(err, errlen, "cluster: weights and size_prior must be >= 0");
        return NULL;
    }
    if (!c.max_terms || !c.index_terms || c.index_terms > c.max_terms || !c.query_terms ||
        !c.max_postings || c.max_postings > UINT32_MAX / 2 || !c.max_candidates ||
        c.window_us <= 0 || c.max_terms > UINT32_MAX / 2) {
        fail(err, errlen, "cluster: max_terms, index_terms (<= max_terms), query_terms, "
                          "max_postings, max_candidates and window must be > 0");
        return NULL;
    }
    cluster_engine_t *e = calloc(1, sizeof(*e));
    if (e) e->cand = malloc(c.max_candidates * sizeof(cand_t));
    if (!e || !e->cand) {
        free(e);
        fail(err, errlen, "cluster: out of memory");
        return NULL;
    }
    e->cfg = c;
    e->fw[F_TITLE] = c.title_weight;
    e->fw[F_BODY] = c.body_weight;
    e->fw[F_ENTITY] = c.entity_weight;
    e->fw[F_TITLE_BI] = c.title_weight * c.bigram_weight;
    e->fw[F_BODY_BI] = c.body_weight * c.bigram_weight;
    e->now = e->last_sweep = CLUSTER_TIME_NONE;
    for (size_t df = 0; df < LDF_TABLE; df++) e->ldf_small[df] = (float)log1p((double)df);
    for (size_t c = 1; c < TF_TABLE; c++) e->tf_small[c] = 1.0 + log((double)c);
    return e;
}

void cluster_engine_destroy(cluster_engine_t *e)
{
    if (!e) return;
    for (uint32_t i = 0; i < e->nterms; i++) free(e->terms[i].post);
    for (uint32_t s = 0; s < e->ncl; s++) {
        free(e->cl[s].tw);
        free(e->cl[s].ix);
    }
    while (e->arena) {
        arena_block_t *b = e->arena;
        e->arena = b->next;
        free(b);
    }
    free(e->terms);
    free(e->vhash);
    free(e->cl);
    free(e->freelist);
    free(e->idmap);
    free(e->acc);
    free(e->stamp);
    free(e->touched);
    free(e->cand);
    cluster_words_free(&e->words);
    free(e->tf);
    free(e->tfused);
    free(e->tkeys);
    free(e->tkeys_tmp);
    free(e->look);
    buf_free(&e->pairs);
    free(e->keys);
    free(e->rk);
    free(e->qtab);
    free(e->qused);
    free(e->vec);
    free(e->qvec);
    free(e->mbuf);
    free(e->out);
    free(e->merges);
    free(e);
}

/* e->vec = the cached sums of a cluster, as doubles. */
static int cluster_vector(cluster_engine_t *e, uint32_t slot)
{
    const cl_t *c = &e->cl[slot];
    if (grow(&e->vec, &e->capvec, c->n, sizeof(tw_t)) < 0) return -1;
    for (uint32_t i = 0; i < c->n; i++) e->vec[i] = (tw_t){c->tw[i].term, c->tw[i].w};
    return 0;
}

static int merge_push(cluster_engine_t *e, cluster_merge_t m)
{
    if (grow(&e->merges, &e->capmerges, e->nmerges + 1, sizeof(m)) < 0) return -1;
    e->merges[e->nmerges++] = m;
    return 0;
}

/* Slot into takes slot from's sums (what the shared store does on a merge)
 * and from leaves the cache. */
static int absorb(cluster_engine_t *e, uint32_t into, uint32_t from)
{
    if (cluster_vector(e, from) < 0 || cluster_set_terms(e, into, e->vec, e->cl[from].n, 0) < 0)
        return -1;
    e->cl[into].docs += e->cl[from].docs;
    if (e->cl[from].last_seen > e->cl[into].last_seen) e->cl[into].last_seen = e->cl[from].last_seen;
    slot_free(e, from);
    return 0;
}

/* Compares slot's centroid with the others, merging while the best match
 * passes merge_threshold, at most max times (bounded, so the cost per event
 * is); the lower id survives. Merges are appended to e->merges. Returns 0,
 * or -1 when out of memory. */
static int merge_similar(cluster_engine_t *e, uint32_t slot, size_t max)
{
    for (size_t k = 0; k < max && e->cl[slot].n; k++) {
        cl_t *c = &e->cl[slot];
        int rc = 0;
        if (cluster_vector(e, slot) < 0 || grow(&e->qvec, &e->capq, c->n, sizeof(tw_t)) < 0) return -1;
        double cn = idf_weight(e, e->vec, c->n), sim, unused;
        uint32_t other = best_match(e, e->qvec, c->n, cn, c->last_seen, slot, 0, &sim, &unused, &rc);
        if (rc < 0) return -1;
        if (other == NO_TERM || sim < e->cfg.merge_threshold) break;
        int64_t ida = c->id, idb = e->cl[other].id;
        uint32_t into = ida < idb ? slot : other, from = ida < idb ? other : slot;
        if (absorb(e, into, from) < 0) return -1;
        slot = into;
        if (merge_push(e, (cluster_merge_t){ida < idb ? idb : ida, ida < idb ? ida : idb}) < 0) return -1;
    }
    return 0;
}

int cluster_engine_add(cluster_engine_t *e, const cluster_doc_t *d, cluster_result_t *out,
                       char *err, size_t errlen)
{
    if (cluster_words_build(&e->cfg, d, &e->words) < 0) {
        memset(out, 0, sizeof(*out));
        return fail(err, errlen, "cluster: out of memory");
    }
    return cluster_engine_add_words(e, d, &e->words, out, err, errlen);
}

const cluster_config_t *cluster_engine_config(const cluster_engine_t *e)
{
    return &e->cfg;
}

int cluster_engine_add_words(cluster_engine_t *e, const cluster_doc_t *d, const cluster_words_t *w,
                             cluster_result_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (!d->id || !d->id[0]) return fail(err, errlen, "cluster: event has no id");
    size_t n;
    if (build_vector(e, w, &n) < 0) return fail(err, errlen, "cluster: out of memory");
    if (grow(&e->qvec, &e->capq, n, sizeof(tw_t)) < 0 ||
        grow(&e->out, &e->capout, n, sizeof(cluster_term_t)) < 0)
        return fail(err, errlen, "cluster: out of memory");

    /* the event counts in its own document frequencies */
    e->ndocs++;
    e->lnn1 = log1p((double)e->ndocs);
    for (size_t i = 0; i < n; i++) df_add(e, e->vec[i].term, 1);
    advance_clock(e, d->published_us);
    int64_t when = d->published_us != CLUSTER_TIME_NONE ? d->published_us : e->now;

    double qnorm = idf_weight(e, e->vec, n), best = 0, cos = 0;
    int rc = 0;
    uint32_t slot =
        n ? best_match(e, e->qvec, n, qnorm, when, NO_TERM, e->cfg.size_prior, &best, &cos, &rc) : NO_TERM;
    if (rc < 0) return fail(err, errlen, "cluster: out of memory");
    if (slot == NO_TERM || best < e->cfg.assign_threshold) {
        int64_t id = cluster_id_for_event(d->id);
        slot = idmap_get(e, id); /* a replayed founding event finds its cluster */
        if (slot == NO_TERM) {
            if (slot_new(e, id, &slot) < 0) return fail(err, errlen, "cluster: out of memory");
            out->created = 1;
        }
        cos = 0;
    }
    if (cluster_set_terms(e, slot, e->vec, n, 0) < 0)
        return fail(err, errlen, "cluster: out of memory");
    cl_t *c = &e->cl[slot];
    c->docs++;
    if (when > c->last_seen) c->last_seen = when;

    out->cluster_id = c->id;
    out->similarity = cos;
    for (size_t i = 0; i < n; i++) e->out[i] = (cluster_term_t){e->terms[e->vec[i].term].str, e->vec[i].w};
    out->delta = (cluster_state_t){c->id, 1, when, e->out, n};

    /* A grown cluster may now duplicate others. A new cluster cannot (its
     * centroid is the event, which matched nothing). */
    e->nmerges = 0;
    if (!out->created && merge_similar(e, slot, MAX_MERGES) < 0)
        return fail(err, errlen, "cluster: out of memory");
    out->merges = e->merges;
    out->n_merges = e->nmerges;
    return 0;
}

/* Interns a state's terms into e->vec (sorted, duplicates summed). */
static int intern_state(cluster_engine_t *e, const cluster_state_t *st, size_t *nout)
{
    if (st->n_terms > UINT32_MAX || grow(&e->vec, &e->capvec, st->n_terms, sizeof(tw_t)) < 0 ||
        grow(&e->keys, &e->capkeys, st->n_terms, sizeof(uint64_t)) < 0)
        return -1;
    /* term id, then input position: duplicates are summed in input order */
    for (size_t i = 0; i < st->n_terms; i++) {
        uint32_t t = term_intern(e, st->terms[i].term, strlen(st->terms[i].term));
        if (t == NO_TERM) return -1;
        e->keys[i] = (uint64_t)t << 32 | i;
    }
    sort_u64(e->keys, st->n_terms);
    size_t n = 0;
    for (size_t i = 0; i < st->n_terms; i++) {
        uint32_t t = (uint32_t)(e->keys[i] >> 32);
        double w = st->terms[(uint32_t)e->keys[i]].weight;
        if (n && e->vec[n - 1].term == t) e->vec[n - 1].w += w;
        else e->vec[n++] = (tw_t){t, w};
    }
    *nout = n;
    return 0;
}

static int put_state(cluster_engine_t *e, const cluster_state_t *st, int replace, char *err,
                     size_t errlen)
{
    if (st->id <= 0) return fail(err, errlen, "cluster: id must be > 0");
    size_t n;
    if (intern_state(e, st, &n) < 0) return fail(err, errlen, "cluster: out of memory");
    uint32_t slot = idmap_get(e, st->id);
    if (slot == NO_TERM) {
        if (slot_new(e, st->id, &slot) < 0) return fail(err, errlen, "cluster: out of memory");
        replace = 1;
    }
    if (cluster_set_terms(e, slot, e->vec, n, replace) < 0)
        return fail(err, errlen, "cluster: out of memory");
    cl_t *c = &e->cl[slot];
    c->docs = replace ? st->docs : c->docs + st->docs;
    if (replace || st->last_seen_us > c->last_seen) c->last_seen = st->last_seen_us;
    return 0;
}

int cluster_engine_apply(cluster_engine_t *e, const cluster_state_t *delta, char *err,
                         size_t errlen)
{
    return put_state(e, delta, 0, err, errlen);
}

int cluster_engine_load(cluster_engine_t *e, const cluster_state_t *st, char *err, size_t errlen)
{
    return put_state(e, st, 1, err, errlen);
}

int cluster_engine_merge(cluster_engine_t *e, int64_t from, int64_t into, char *err,
                         size_t errlen)
{
    if (from <= 0 || into <= 0 || from == into)
        return fail(err, errlen, "cluster: merge needs two distinct ids > 0");
    uint32_t a = idmap_get(e, into), b = idmap_get(e, from);
    if (b == NO_TERM) return 0;
    if (a == NO_TERM) {
        slot_free(e, b); /* into is not cached: a later load brings the sum */
        return 0;
    }
    return absorb(e, a, b) < 0 ? fail(err, errlen, "cluster: out of memory") : 0;
}

int cluster_engine_sync(cluster_engine_t *e, const cluster_state_t *st, int64_t merged_into,
                        char *err, size_t errlen)
{
    if (merged_into > 0) return cluster_engine_merge(e, st->id, merged_into, err, errlen);
    uint32_t slot = idmap_get(e, st->id);
    int64_t before = slot == NO_TERM ? 0 : e->cl[slot].docs;
    if (put_state(e, st, 1, err, errlen) < 0) return -1;
    if (st->docs <= before) return 0;
    uint64_t gained = (uint64_t)(st->docs - before);
    for (size_t i = 0; i < st->n_terms; i++) {
        uint32_t t = term_intern(e, st->terms[i].term, strlen(st->terms[i].term));
        if (t == NO_TERM) return fail(err, errlen, "cluster: out of memory");
        df_add(e, t, gained);
    }
    e->ndocs += gained;
    e->lnn1 = log1p((double)e->ndocs);
    return 0;
}

int cluster_engine_add_df(cluster_engine_t *e, uint64_t n_docs, const char *const *terms,
                          const uint64_t *dfs, size_t n_terms, char *err, size_t errlen)
{
    for (size_t i = 0; i < n_terms; i++) {
        uint32_t t = term_intern(e, terms[i], strlen(terms[i]));
        if (t == NO_TERM) return fail(err, errlen, "cluster: out of memory");
        df_add(e, t, dfs[i]);
    }
    e->ndocs += n_docs;
    e->lnn1 = log1p((double)e->ndocs);
    return 0;
}

static int cmp_out(const void *a, const void *b)
{
    return strcmp(((const cluster_term_t *)a)->term, ((const cluster_term_t *)b)->term);
}

int cluster_engine_get(cluster_engine_t *e, int64_t id, cluster_state_t *out)
{
    if (cluster_state_read(e, id, out) != 0) return -1;
    sort(e->out, out->n_terms, sizeof(cluster_term_t), cmp_out);
    return 0;
}

size_t cluster_engine_active(const cluster_engine_t *e)
{
    return e->active;
}

size_t cluster_engine_memory(const cluster_engine_t *e)
{
    size_t b = sizeof(*e) + e->arena_bytes + e->capterms * sizeof(term_t) +
               e->vcap * sizeof(uint32_t) + e->capcl * (sizeof(cl_t) + sizeof(double) + 2 * sizeof(uint32_t)) +
               e->idcap * sizeof(idmap_entry_t);
    for (uint32_t i = 0; i < e->nterms; i++) b += e->terms[i].cappost * sizeof(uint32_t);
    for (uint32_t s = 0; s < e->ncl; s++)
        if (e->cl[s].id) b += e->cl[s].cap * sizeof(cw_t) + e->cfg.index_terms * sizeof(uint32_t);
    return b;
}

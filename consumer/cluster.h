/* cluster: online, single-pass story clustering of events.
 *
 * Each event becomes a sparse TF-IDF vector over normalised words (common/
 * text.h, stopwords dropped, plural "s" stripped), adjacent-word bigrams and
 * caller-supplied entity names, with title words and entities weighted above
 * body words. IDF is online (document frequencies counted as events arrive,
 * smoothed) and may be seeded from a background table. The event joins the
 * best active cluster when its cosine similarity (plus a small prior for
 * big clusters) reaches assign_threshold, else founds a new one; a cluster
 * that grows is merged with any other whose centroid it now resembles. Candidates come from an inverted
 * index on each cluster's top centroid terms with bounded posting lists, so
 * the cost per event does not grow with the number of active clusters.
 *
 * Shared state. A cluster is a document count, a last-seen time (a max) and
 * per-term weight sums. The weights are IDF-free (each event adds its
 * L2-normalised, field-weighted term frequencies); IDF is applied when
 * comparing, so the sums stay valid as document frequencies drift. The
 * engine keeps each cluster's top max_terms terms by current TF-IDF weight;
 * the store keeps the heaviest of those as the engine that last changed the
 * cluster left them (cluster_engine_top_terms; writers take turns and read
 * each other's changes first), and the count and times as increments.
 *
 * Terms are strings: a unigram "word", a bigram "word1 word2", an entity
 * "e:name" (name normalised word by word, joined with single spaces).
 *
 * Cluster ids are derived from the founding event's id (63-bit hash, > 0),
 * so two engines founding a cluster for the same event agree on its id.
 *
 * Time is event time: the engine clock is the latest published time seen.
 * Events without one do not advance it (they count as seen at the current
 * clock). A cluster is closed for an event published more than window_us
 * after the cluster's last event: it is not joined. A late event (published
 * before a cluster's last event, as when partitions are consumed out of
 * step) may still join. Clusters closed for the earliest of the last 1024
 * event times (a watermark that trails a disordered stream) are dropped from
 * memory. Clusters that never saw a time never close.
 *
 * Determinism: the same configuration and the same call sequence give the
 * same assignments and ids (ties go to the lower cluster id).
 *
 * Not thread-safe: one engine per thread. cluster_words_build() needs no
 * engine, and cluster_engine_config() reads what never changes, so both may
 * run on another thread than the engine's. */
#ifndef SHOAL_CLUSTER_H
#define SHOAL_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "text.h"

#define CLUSTER_TIME_NONE INT64_MIN /* same value as EVENT_TIME_NONE */

typedef struct {
    double assign_threshold; /* min cosine(event, centroid) to join a cluster */
    double merge_threshold;  /* min cosine(centroid, centroid) to merge two clusters */
    /* A centroid's weight sums are raised to this power when compared (1:
     * plain sums). Below 1 it is sublinear, like term frequencies: a big
     * story's most repeated words do not drown the rarer ones its later
     * articles share. */
    double centroid_power;
    /* Added to the cosine, times log(docs), when choosing and accepting a
     * cluster for an event: a big story's centroid is diffuse, so its true
     * members score lower, and it is likelier to get the next event (the
     * "rich get richer" prior of a Chinese restaurant process). */
    double size_prior;
    double title_weight;     /* per-occurrence weight of a title word */
    double body_weight;      /* ... of a body word */
    double entity_weight;    /* ... of a caller-supplied entity */
    double bigram_weight;    /* multiplier for bigrams relative to their field; 0 = none */
    size_t max_body_tokens;  /* body tokens read (the lead carries the story) */
    size_t max_terms;        /* terms cached per cluster (top by TF-IDF weight) */
    size_t index_terms;      /* top terms per cluster put in the inverted index */
    size_t query_terms;      /* top event terms used to look up candidates */
    size_t max_postings;     /* clusters per index term; a full term indexes no more */
    size_t max_candidates;   /* clusters scored exactly per event */
    int64_t window_us;       /* idle time (event time) after which a cluster closes */
} cluster_config_t;

/* Tuned defaults (see tests/support/cluster_eval.c). */
void cluster_config_default(cluster_config_t *cfg);

typedef struct {
    const char *term; /* see "Terms" above */
    double weight;
} cluster_term_t;

/* A cluster's state, or an increment to it (every field adds, last_seen_us
 * takes the max). */
typedef struct {
    int64_t id;
    int64_t docs;
    int64_t last_seen_us; /* CLUSTER_TIME_NONE if never seen with a time */
    const cluster_term_t *terms;
    size_t n_terms;
} cluster_state_t;

typedef struct {
    int64_t from, into;
} cluster_merge_t;

typedef struct {
    const char *id;                /* event id, required (seeds the cluster id) */
    const char *title;             /* may be NULL */
    const char *text;              /* body, may be NULL */
    const char *lang;              /* stopword language, NULL = "en" */
    const char *const *entities;   /* names from the extractor, may be NULL */
    size_t n_entities;
    int64_t published_us;          /* CLUSTER_TIME_NONE when unknown */
    /* The extractor's tokens of title and text (extractor_run_words), or
     * NULL; a list is used when it is of this title or text, complete and
     * at least cluster.max_body_tokens long or all of it. */
    const text_words_t *tokens;
} cluster_doc_t;

/* An event's words as clustering reads them, in order: tokens normalised,
 * stopwords dropped, plurals stemmed, adjacent pairs, entity names. What
 * cluster_engine_add derives from the text before it touches the engine;
 * it depends on the configuration alone, so a caller may build it ahead
 * (on another thread) and hand it to cluster_engine_add_words. Zeroed is
 * empty; the owner calls cluster_words_free(). */
typedef struct {
    buf_t occ; /* per occurrence: its field, the term's length, its bytes */
} cluster_words_t;

/* Replaces w's content with the words of doc. 0, or -1 when out of memory. */
int cluster_words_build(const cluster_config_t *cfg, const cluster_doc_t *doc, cluster_words_t *w);
void cluster_words_free(cluster_words_t *w);

typedef struct {
    int64_t cluster_id;  /* cluster the increment was added to */
    int created;         /* 1: this event founded cluster_id */
    double similarity;   /* cosine to cluster_id before adding (without the
                          * size prior); 0 when created */
    /* The increment added to cluster_id: docs 1, the event time, and the
     * event's terms. Every term is also one document-frequency count.
     * Borrowed: valid until the next call on the engine. */
    cluster_state_t delta;
    /* Merges that followed, in order (at most a few): each absorbed `from`
     * into `into`, the lower id. The event belongs to the last survivor.
     * Borrowed like delta. */
    const cluster_merge_t *merges;
    size_t n_merges;
} cluster_result_t;

typedef struct cluster_engine cluster_engine_t;

/* cfg NULL = defaults. Returns NULL with a message on a bad configuration
 * or out of memory. */
cluster_engine_t *cluster_engine_new(const cluster_config_t *cfg, char *err, size_t errlen);
void cluster_engine_destroy(cluster_engine_t *e);

/* Clusters one event. Returns 0, or -1 with a message (no id, out of
 * memory); on -1 the engine is unchanged apart from document frequencies. */
int cluster_engine_add(cluster_engine_t *e, const cluster_doc_t *doc, cluster_result_t *out,
                       char *err, size_t errlen);

/* cluster_engine_add with the event's words built ahead, by
 * cluster_words_build on this engine's configuration: the same result. */
int cluster_engine_add_words(cluster_engine_t *e, const cluster_doc_t *doc, const cluster_words_t *w,
                             cluster_result_t *out, char *err, size_t errlen);

/* The configuration the engine was made with (defaults filled in). */
const cluster_config_t *cluster_engine_config(const cluster_engine_t *e);

/* Adds an increment (e.g. another engine's result.delta) to the cached
 * cluster, creating it if absent. Does not touch document frequencies. */
int cluster_engine_apply(cluster_engine_t *e, const cluster_state_t *delta, char *err,
                         size_t errlen);

/* Replaces the cached state of a cluster (creating it if absent), e.g. after
 * reading it back from the database. */
int cluster_engine_load(cluster_engine_t *e, const cluster_state_t *st, char *err, size_t errlen);

/* Cluster from is absorbed into cluster into: into gets from's sums, and
 * from leaves the cache. Either may be absent from the cache (then only
 * what is cached changes). */
int cluster_engine_merge(cluster_engine_t *e, int64_t from, int64_t into, char *err,
                         size_t errlen);

/* Brings the cache up to date with a cluster as stored (merged_into > 0:
 * it was merged away into merged_into, and only st->id is read). A stored
 * state replaces the cached one, and the documents it gained since then
 * count in the IDF statistics as containing its terms (an estimate: the
 * stored increments carry no per-document counts). */
int cluster_engine_sync(cluster_engine_t *e, const cluster_state_t *st, int64_t merged_into,
                        char *err, size_t errlen);

/* Adds to the IDF statistics: n_docs documents, and dfs[i] documents
 * containing terms[i]. Seeds a background table, or shares counts between
 * engines. */
int cluster_engine_add_df(cluster_engine_t *e, uint64_t n_docs, const char *const *terms,
                          const uint64_t *dfs, size_t n_terms, char *err, size_t errlen);

/* Snapshot of a cached cluster, terms sorted by term string. Borrowed:
 * valid until the next call on the engine. Returns 0, or -1 if not cached. */
int cluster_engine_get(cluster_engine_t *e, int64_t id, cluster_state_t *out);

/* The terms of a cluster the store keeps, heaviest first: what another
 * instance or a restart reads back into its cache. */
#define CLUSTER_TERMS_STORED 64

/* One term of a cluster as the store writes it. */
typedef struct {
    int64_t cluster_id;
    const char *term; /* the engine's: valid while the engine lives */
    double weight;
} cluster_term_row_t;

/* Appends the at most max heaviest terms (ties: by term) of each cached
 * cluster among ids[0..n) (0: none) and the survivors of merges[0..n_merges)
 * to *rows (*n_rows used of *cap, growable), by cluster id, heaviest first:
 * the state a batch leaves its clusters in. A cluster listed twice counts
 * once; one not cached adds nothing. Returns 0, or -1 when out of memory
 * (*n_rows unchanged). */
int cluster_engine_top_terms(cluster_engine_t *e, const int64_t *ids, size_t n, const cluster_merge_t *merges,
                             size_t n_merges, size_t max, cluster_term_row_t **rows, size_t *n_rows,
                             size_t *cap);

/* Appends m to a growable array of merges (*n used of *cap), e.g. those
 * not yet written. Returns 0, or -1 when out of memory (array unchanged). */
int cluster_merges_append(cluster_merge_t **v, size_t *n, size_t *cap, cluster_merge_t m);

/* The cluster id an event id founds (what cluster_engine_add uses). */
int64_t cluster_id_for_event(const char *event_id);

size_t cluster_engine_active(const cluster_engine_t *e); /* clusters cached */
size_t cluster_engine_memory(const cluster_engine_t *e); /* bytes held, approximate */

#endif

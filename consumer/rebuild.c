#include "rebuild.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "json.h"
#include "log.h"
#include "signals.h"
#include "trend_update.h"

typedef struct {
    event_t ev;              /* only the id: what the store rows need */
    cJSON *repo, *tags;      /* owned: the extractors' input */
    int to_llm;              /* an LLM extraction, to be redone (--reextract) */
    cJSON *extraction;       /* owned */
    char *extraction_json;   /* owned */
} slot_t;

typedef struct {
    const rebuild_opts_t *o;
    rebuild_stats_t *st;
    cluster_engine_t *engine;
    slot_t *slots;
    store_row_t *rows;
    extract_input_t *llm_in; /* the page's LLM requests ... */
    size_t *llm_idx;         /* ... their slots ... */
    cJSON **llm_out;         /* ... and answers */
    cluster_merge_t *merges;
    size_t n_merges, merges_cap;
    cluster_term_row_t *terms; /* the page's clusters' terms after it */
    size_t n_terms, terms_cap;
} rebuild_t;

static void slots_clear(slot_t *sl, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cJSON_Delete(sl[i].repo);
        cJSON_Delete(sl[i].tags);
        cJSON_Delete(sl[i].extraction);
        free(sl[i].extraction_json);
        memset(&sl[i], 0, sizeof(sl[i]));
    }
}

static extract_input_t slot_input(const store_stored_event_t *e, const slot_t *sl)
{
    return (extract_input_t){strcmp(e->kind, "repo_event") == 0 ? EVENT_REPO : EVENT_ARTICLE,
                             e->title, e->body, e->source, e->lang, sl->repo, sl->tags};
}

/* The extraction the event keeps: the built-in extractor's again for events
 * it extracted, the stored one for any other extractor's (paid work; with
 * an LLM to redo it, the stored one until the LLM answers). */
static cJSON *extraction_for(rebuild_t *r, const store_stored_event_t *e, slot_t *sl, char *err,
                             size_t errlen)
{
    int builtin = !e->extracted_by || strcmp(e->extracted_by, "builtin") == 0;
    cJSON *stored = e->extraction_json ? cJSON_Parse(e->extraction_json) : NULL;
    sl->repo = e->repo_json ? cJSON_Parse(e->repo_json) : NULL;
    sl->tags = e->tags_json ? cJSON_Parse(e->tags_json) : NULL;
    if (!builtin) {
        if (!stored) snprintf(err, errlen, "event %s: stored extraction unreadable", e->id);
        else if (r->o->llm) sl->to_llm = 1;
        else r->st->kept++;
        return stored;
    }
    extract_input_t in = slot_input(e, sl);
    char xe[256];
    cJSON *x = extractor_run(r->o->extractor, &in, xe, sizeof(xe));
    if (x) {
        cJSON_Delete(stored);
        r->st->reextracted++;
        return x;
    }
    /* The event was stored, so it was extracted once: keep that rather
     * than lose the event's tags and facts to a new failure. */
    log_kv(LOG_WARN, "built-in extraction failed; keeping the stored one", "event_id", e->id, "error", xe, NULL);
    r->st->extract_failed++;
    if (!stored) snprintf(err, errlen, "event %s: extraction failed (%s) and none stored", e->id, xe);
    return stored;
}

/* --reextract: the page's LLM extractions go through the LLM again, all at
 * once (bounded by llm.batch.deadline.ms); one it does not answer keeps the
 * stored extraction. */
static void reextract_llm(rebuild_t *r, const store_stored_event_t *evs, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!r->slots[i].to_llm) continue;
        r->llm_idx[k] = i;
        r->llm_in[k++] = slot_input(&evs[i], &r->slots[i]);
    }
    if (k == 0) return;
    llm_extract_batch(r->o->llm, r->llm_in, k, r->llm_out, 0, NULL);
    for (size_t j = 0; j < k; j++) {
        slot_t *sl = &r->slots[r->llm_idx[j]];
        if (!r->llm_out[j]) {
            r->st->kept++;
            continue;
        }
        cJSON_Delete(sl->extraction);
        sl->extraction = r->llm_out[j];
        r->st->llm_reextracted++;
    }
}

/* One page through extraction and clustering, in order, then one write.
 * Like the consumer's batch: events of the page already placed in a cluster
 * that is merged away follow the survivor, and merges go after the rows. */
static int rebuild_page(rebuild_t *r, const store_stored_event_t *evs, size_t n, char *err, size_t errlen)
{
    r->n_merges = 0;
    int rc = -1;
    for (size_t i = 0; i < n; i++) {
        snprintf(r->slots[i].ev.id, sizeof(r->slots[i].ev.id), "%s", evs[i].id);
        if (!(r->slots[i].extraction = extraction_for(r, &evs[i], &r->slots[i], err, errlen))) goto out;
    }
    if (r->o->llm) reextract_llm(r, evs, n);
    for (size_t i = 0; i < n; i++) {
        const store_stored_event_t *e = &evs[i];
        slot_t *sl = &r->slots[i];
        sl->extraction_json = json_print_alloc(sl->extraction);
        if (!sl->extraction_json) goto oom;
        const cJSON *by = cJSON_GetObjectItemCaseSensitive(sl->extraction, "extracted_by");
        const cJSON *ver = cJSON_GetObjectItemCaseSensitive(sl->extraction, "extractor_version");
        const char *names[64];
        size_t nn = extraction_entity_names(sl->extraction, names, 64);
        cluster_doc_t doc = {e->id, e->title, e->body, e->lang, names, nn, e->published_us, NULL};
        cluster_result_t res;
        if (cluster_engine_add(r->engine, &doc, &res, err, errlen) != 0) goto out;
        r->st->clusters += res.created ? 1 : 0;
        r->rows[i] = (store_row_t){.ev = &sl->ev,
                                   .extraction_json = sl->extraction_json,
                                   .extracted_by = cJSON_IsString(by) ? by->valuestring : "builtin",
                                   .extractor_version = cJSON_IsString(ver) ? ver->valuestring
                                                                            : EXTRACTOR_BUILTIN_VERSION,
                                   .cluster_id = res.cluster_id};
        for (size_t m = 0; m < res.n_merges; m++) {
            if (cluster_merges_append(&r->merges, &r->n_merges, &r->merges_cap, res.merges[m]) != 0) goto oom;
            for (size_t j = 0; j <= i; j++)
                if (r->rows[j].cluster_id == res.merges[m].from) r->rows[j].cluster_id = res.merges[m].into;
        }
    }
    r->st->merges += r->n_merges;
    r->st->events += n;
    /* The clusters the page changed: its events' and its merges' survivors. */
    int64_t ids[STORE_REBUILD_PAGE];
    for (size_t i = 0; i < n; i++) ids[i] = r->rows[i].cluster_id;
    r->n_terms = 0;
    if (cluster_engine_top_terms(r->engine, ids, n, r->merges, r->n_merges, CLUSTER_TERMS_STORED, &r->terms,
                                 &r->n_terms, &r->terms_cap) != 0)
        goto oom;
    store_cluster_ops_t ops = {r->merges, r->n_merges, r->o->instance, r->terms, r->n_terms};
    rc = store_rebuild_write(r->o->store, r->rows, n, &ops, err, errlen) == STORE_OK ? 0 : -1;
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
out:
    slots_clear(r->slots, n);
    return rc;
}

int rebuild_run(const rebuild_opts_t *o, rebuild_stats_t *st, char *err, size_t errlen)
{
    memset(st, 0, sizeof(*st));
    rebuild_t r = {.o = o, .st = st};
    r.engine = cluster_engine_new(o->clusters, err, errlen);
    r.slots = calloc(STORE_REBUILD_PAGE, sizeof(*r.slots));
    r.rows = calloc(STORE_REBUILD_PAGE, sizeof(*r.rows));
    r.llm_in = calloc(STORE_REBUILD_PAGE, sizeof(*r.llm_in));
    r.llm_idx = calloc(STORE_REBUILD_PAGE, sizeof(*r.llm_idx));
    r.llm_out = calloc(STORE_REBUILD_PAGE, sizeof(cJSON *));
    int rc = REBUILD_FAILED;
    if (!r.engine || !r.slots || !r.rows || !r.llm_in || !r.llm_idx || !r.llm_out) {
        if (r.engine) snprintf(err, errlen, "out of memory");
        goto done;
    }
    store_rc_t b = store_rebuild_begin(o->store, err, errlen);
    if (b != STORE_OK) {
        rc = b == STORE_REJECTED ? REBUILD_BUSY : REBUILD_FAILED;
        goto done;
    }
    log_kv(LOG_INFO, "rebuild started: derived cluster state cleared (not yet visible)", NULL);
    for (;;) {
        if (signal_shutdown) {
            snprintf(err, errlen, "interrupted by a signal");
            goto abort;
        }
        store_event_page_t *page;
        if (store_rebuild_next(o->store, &page, err, errlen) != STORE_OK) goto abort;
        size_t n;
        const store_stored_event_t *evs = store_event_page_rows(page, &n);
        int prc = n ? rebuild_page(&r, evs, n, err, errlen) : 0;
        store_event_page_free(page);
        if (prc != 0) goto abort;
        if (n == 0) break;
        if (st->events % (STORE_REBUILD_PAGE * 20) == 0) {
            char ne[24];
            snprintf(ne, sizeof(ne), "%llu", (unsigned long long)st->events);
            log_kv(LOG_INFO, "rebuild progress", "events", ne, NULL);
        }
    }
    size_t ncl;
    if (trend_update(o->store, o->trend_window_s, &st->trends, &ncl, err, errlen) != 0) goto abort;
    if (store_rebuild_commit(o->store, err, errlen) != STORE_OK) goto done;
    rc = REBUILD_OK;
    goto done;
abort:
    store_rebuild_abort(o->store);
done:
    cluster_engine_destroy(r.engine);
    free(r.slots);
    free(r.rows);
    free(r.llm_in);
    free(r.llm_idx);
    free(r.llm_out);
    free(r.merges);
    free(r.terms);
    return rc;
}

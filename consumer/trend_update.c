#include "trend_update.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "trend.h"

int trend_update(store_t *s, long window_s, size_t *n_trends, size_t *n_clusters, char *err,
                 size_t errlen)
{
    char e[512];
    store_trend_input_t *in = NULL;
    if (store_trend_input_load(s, window_s, &in, e, sizeof(e)) != STORE_OK) {
        snprintf(err, errlen, "trend inputs unavailable: %s", e);
        return -1;
    }
    int64_t latest;
    const trend_cluster_t *cl = store_trend_input_clusters(in, n_clusters, &latest);
    trend_config_t tc;
    trend_config_default(&tc);
    tc.window_us = (int64_t)window_s * 1000000;
    trend_list_t *list = NULL;
    int rc = -1;
    if (trends_compute(&tc, cl, *n_clusters, latest, &list, e, sizeof(e)) != 0)
        snprintf(err, errlen, "trend computation failed: %s", e);
    else if (store_trends_save(s, list, e, sizeof(e)) != STORE_OK)
        snprintf(err, errlen, "storing trends failed: %s", e);
    else {
        *n_trends = list->n;
        rc = 0;
    }
    trend_list_destroy(list);
    store_trend_input_free(in);
    return rc;
}

struct trend_worker {
    store_t *store;
    long window_s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int cancel; /* the store's cancel flag */
    /* Under mu: */
    long refresh_ms;
    uint64_t persisted, covered; /* events persisted; as of the last computation */
    int quit;
};

/* One computation, logged either way; 0 when the trends were stored. */
static int trend_refresh(store_t *s, long window_s)
{
    char err[700];
    size_t nt, ncl;
    if (trend_update(s, window_s, &nt, &ncl, err, sizeof(err)) != 0) {
        log_kv(LOG_WARN, "trends not updated", "error", err, NULL);
        return -1;
    }
    char a[24], b[24];
    snprintf(a, sizeof(a), "%zu", nt);
    snprintf(b, sizeof(b), "%zu", ncl);
    log_kv(LOG_INFO, "trends updated", "trends", a, "clusters", b, NULL);
    return 0;
}

static void *worker_main(void *arg)
{
    trend_worker_t *w = arg;
    long last = clock_monotonic_ms();
    pthread_mutex_lock(&w->mu);
    while (!w->quit) {
        long wait = last + w->refresh_ms - clock_monotonic_ms();
        if (w->persisted == w->covered || wait > 0) {
            /* Woken by quit; the due time is checked at least every second
             * (a new count or refresh period is picked up then). */
            if (wait <= 0 || wait > 1000) wait = 1000;
            struct timespec ts = clock_cond_deadline(wait);
            pthread_cond_timedwait(&w->cv, &w->mu, &ts);
            continue;
        }
        uint64_t target = w->persisted;
        pthread_mutex_unlock(&w->mu);
        int ok = trend_refresh(w->store, w->window_s) == 0;
        pthread_mutex_lock(&w->mu);
        if (ok) w->covered = target;
        last = clock_monotonic_ms();
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

trend_worker_t *trend_worker_new(store_t *store, long window_s, long refresh_ms, char *err,
                                 size_t errlen)
{
    trend_worker_t *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->store = store;
    w->window_s = window_s;
    w->refresh_ms = refresh_ms;
    atomic_init(&w->cancel, 0);
    store_set_cancel_flag(store, &w->cancel);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the trend thread: %s", strerror(rc));
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        return NULL;
    }
    return w;
}

void trend_worker_note_persisted(trend_worker_t *w, uint64_t persisted)
{
    pthread_mutex_lock(&w->mu);
    w->persisted = persisted;
    pthread_mutex_unlock(&w->mu);
}

void trend_worker_set_refresh(trend_worker_t *w, long refresh_ms)
{
    pthread_mutex_lock(&w->mu);
    w->refresh_ms = refresh_ms;
    pthread_mutex_unlock(&w->mu);
}

void trend_worker_destroy(trend_worker_t *w, int finish)
{
    if (!w) return;
    if (!finish) atomic_store(&w->cancel, 1);
    pthread_mutex_lock(&w->mu);
    w->quit = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    if (finish && w->persisted != w->covered) trend_refresh(w->store, w->window_s);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    store_destroy(w->store);
    free(w);
}

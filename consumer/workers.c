#include "workers.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct workers {
    size_t n;
    pthread_t *threads; /* n - 1 */
    size_t started;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned long job; /* number of the job posted last */
    size_t running;    /* workers still in it */
    int quit;
    workers_fn fn;
    void *opaque;
};

typedef struct {
    workers_t *w;
    size_t k;
} worker_arg_t;

static void *worker_main(void *arg)
{
    worker_arg_t a = *(worker_arg_t *)arg;
    free(arg);
    workers_t *w = a.w;
    unsigned long seen = 0;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->quit && w->job == seen) pthread_cond_wait(&w->go, &w->mu);
        if (w->quit) break;
        seen = w->job;
        workers_fn fn = w->fn;
        void *opaque = w->opaque;
        pthread_mutex_unlock(&w->mu);
        fn(opaque, a.k);
        pthread_mutex_lock(&w->mu);
        if (--w->running == 0) pthread_cond_signal(&w->done);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

workers_t *workers_new(size_t n, char *err, size_t errlen)
{
    workers_t *w = calloc(1, sizeof(*w));
    if (!w || n == 0) {
        free(w);
        snprintf(err, errlen, n ? "out of memory" : "no threads asked for");
        return NULL;
    }
    w->n = n;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->go, NULL);
    pthread_cond_init(&w->done, NULL);
    if (n > 1 && !(w->threads = calloc(n - 1, sizeof(*w->threads)))) {
        snprintf(err, errlen, "out of memory");
        workers_destroy(w);
        return NULL;
    }
    for (size_t k = 1; k < n; k++) {
        worker_arg_t *a = malloc(sizeof(*a));
        int rc = a ? 0 : -1;
        if (a) {
            *a = (worker_arg_t){w, k};
            rc = pthread_create(&w->threads[k - 1], NULL, worker_main, a);
            if (rc != 0) free(a);
        }
        if (rc != 0) {
            snprintf(err, errlen, "cannot start worker thread %zu: %s", k, a ? strerror(rc) : "out of memory");
            workers_destroy(w);
            return NULL;
        }
        w->started++;
    }
    return w;
}

void workers_destroy(workers_t *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->quit = 1;
    pthread_cond_broadcast(&w->go);
    pthread_mutex_unlock(&w->mu);
    for (size_t i = 0; i < w->started; i++) pthread_join(w->threads[i], NULL);
    pthread_cond_destroy(&w->go);
    pthread_cond_destroy(&w->done);
    pthread_mutex_destroy(&w->mu);
    free(w->threads);
    free(w);
}

size_t workers_count(const workers_t *w) { return w->n; }

void workers_run(workers_t *w, workers_fn fn, void *opaque)
{
    if (w->n > 1) {
        pthread_mutex_lock(&w->mu);
        w->fn = fn;
        w->opaque = opaque;
        w->running = w->n - 1;
        w->job++;
        pthread_cond_broadcast(&w->go);
        pthread_mutex_unlock(&w->mu);
    }
    fn(opaque, 0);
    if (w->n > 1) {
        pthread_mutex_lock(&w->mu);
        while (w->running > 0) pthread_cond_wait(&w->done, &w->mu);
        pthread_mutex_unlock(&w->mu);
    }
}

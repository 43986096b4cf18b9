/* Unit tests for consumer/workers.c: every call of a job runs once per
 * thread, the caller's as k = 0, and the job is over when workers_run
 * returns; items shared through an atomic index are each taken once. */
#include "../test.h"
#include "workers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define ITEMS 1000
#define THREADS_MAX 8

typedef struct {
    pthread_t caller;
    atomic_size_t next;
    atomic_int calls;
    atomic_int per_k[THREADS_MAX];
    atomic_int on_caller[THREADS_MAX]; /* call k ran on the caller's thread */
    int taken_by[ITEMS];              /* k + 1 of the thread that took item i */
    atomic_int taken[ITEMS];
    long item_ns; /* work per item */
} job_t;

static void take_items(void *opaque, size_t k)
{
    job_t *j = opaque;
    atomic_fetch_add(&j->per_k[k], 1);
    if (pthread_equal(pthread_self(), j->caller)) atomic_fetch_add(&j->on_caller[k], 1);
    for (size_t i; (i = atomic_fetch_add(&j->next, 1)) < ITEMS;) {
        atomic_fetch_add(&j->taken[i], 1);
        j->taken_by[i] = (int)k + 1;
        if (j->item_ns) nanosleep(&(struct timespec){0, j->item_ns}, NULL);
    }
    atomic_fetch_add(&j->calls, 1); /* last: workers_run must wait for it */
}

static void job_init(job_t *j, long item_ns)
{
    memset(j, 0, sizeof(*j));
    j->caller = pthread_self();
    atomic_init(&j->next, 0);
    j->item_ns = item_ns;
}

/* One job on w: each thread called once, k = 0 the caller, every item
 * taken once. Returns how many items threads other than the caller took. */
static int run_and_check(workers_t *w, job_t *j)
{
    size_t n = workers_count(w);
    workers_run(w, take_items, j);
    ASSERT_INT_EQ(atomic_load(&j->calls), n);
    int once = 1, others = 0;
    for (size_t k = 0; k < n; k++) {
        once &= atomic_load(&j->per_k[k]) == 1;
        once &= atomic_load(&j->on_caller[k]) == (k == 0);
    }
    ASSERT_TRUE(once);
    int each = 1;
    for (size_t i = 0; i < ITEMS; i++) {
        each &= atomic_load(&j->taken[i]) == 1 && j->taken_by[i] >= 1 && j->taken_by[i] <= (int)n;
        others += j->taken_by[i] > 1;
    }
    ASSERT_TRUE(each);
    return others;
}

static void test_one_thread(void)
{
    char err[128];
    workers_t *w = workers_new(1, err, sizeof(err));
    ASSERT_TRUE(w != NULL);
    if (!w) return;
    ASSERT_INT_EQ(workers_count(w), 1);
    job_t *j = malloc(sizeof(*j));
    job_init(j, 0);
    ASSERT_INT_EQ(run_and_check(w, j), 0); /* the caller took them all */
    free(j);
    workers_destroy(w);
}

static void test_many_jobs(void)
{
    char err[128];
    workers_t *w = workers_new(4, err, sizeof(err));
    ASSERT_TRUE(w != NULL);
    if (!w) return;
    job_t *j = malloc(sizeof(*j));
    /* back to back: a worker must see each job once, never an old one again */
    int ok = 1;
    for (int round = 0; round < 300 && ok; round++) {
        job_init(j, 0);
        int before = test_failed;
        run_and_check(w, j);
        ok = test_failed == before;
    }
    ASSERT_TRUE(ok);
    /* slow items: the workers take their share */
    job_init(j, 200000);
    ASSERT_TRUE(run_and_check(w, j) > 0);
    free(j);
    workers_destroy(w);
}

static void test_edges(void)
{
    char err[128] = "";
    ASSERT_TRUE(workers_new(0, err, sizeof(err)) == NULL);
    ASSERT_TRUE(err[0] != '\0');
    workers_destroy(NULL);
    /* destroyed without ever running a job */
    workers_t *w = workers_new(3, err, sizeof(err));
    ASSERT_TRUE(w != NULL);
    workers_destroy(w);
}

int main(void)
{
    test_one_thread();
    test_many_jobs();
    test_edges();
    return TEST_DONE();
}

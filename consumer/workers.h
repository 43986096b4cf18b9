/* workers: threads that share one job at a time with their caller, for
 * CPU work on independent items (extracting a batch's events).
 *
 * workers_run(w, fn, opaque) calls fn(opaque, k) once on each of the n
 * threads, k = 0 on the caller's own and 1 .. n - 1 on the workers, and
 * returns when every call has returned. fn shares the items out itself
 * (an atomic index) and must not fail in a way the caller cannot see: it
 * records each item's outcome on the item. Between jobs the workers sleep.
 * One caller at a time. */
#ifndef SHOAL_WORKERS_H
#define SHOAL_WORKERS_H

#include <stddef.h>

typedef struct workers workers_t;
typedef void (*workers_fn)(void *opaque, size_t k);

/* n >= 1 threads in all, n - 1 of them started here. NULL with err when a
 * thread cannot start (those started are stopped). */
workers_t *workers_new(size_t n, char *err, size_t errlen);
/* Stops and joins the workers (none is in a job then); NULL is fine. */
void workers_destroy(workers_t *w);
size_t workers_count(const workers_t *w);
void workers_run(workers_t *w, workers_fn fn, void *opaque);

#endif

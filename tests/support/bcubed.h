/* bcubed: score a predicted clustering against gold labels.
 *
 * Labels are strings, so the same code scores clusters from the in-process
 * evaluator (ids printed as text) and clusters read back from PostgreSQL.
 * Items are matched by position: gold[i] and pred[i] label item i. */
#ifndef SHOAL_BCUBED_H
#define SHOAL_BCUBED_H

#include <stddef.h>

typedef struct {
    size_t n, n_gold, n_pred; /* items, distinct gold and predicted clusters */
    double precision, recall, f1; /* B-cubed (Bagga & Baldwin), item-averaged */
    /* Over item pairs; with no predicted (or gold) pairs the precision (or
     * recall) is 1: no pair was put together wrongly (or missed). */
    double pair_precision, pair_recall, pair_f1;
} bcubed_t;

/* Returns 0, or -1 with a message (n == 0, a NULL label, out of memory). */
int bcubed_score(const char *const *gold, const char *const *pred, size_t n, bcubed_t *out,
                 char *err, size_t errlen);

#endif

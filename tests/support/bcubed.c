#include "bcubed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t i;
} lab_t;

typedef struct {
    size_t g, p;
} cell_t;

static int cmp_lab(const void *a, const void *b)
{
    const lab_t *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

static int cmp_cell(const void *a, const void *b)
{
    const cell_t *x = a, *y = b;
    if (x->g != y->g) return x->g < y->g ? -1 : 1;
    return (x->p > y->p) - (x->p < y->p);
}

/* Dense label numbers 0..k-1 into code[], cluster sizes into *sizes. */
static int number(const char *const *lab, size_t n, lab_t *tmp, size_t *code, size_t **sizes,
                  size_t *k)
{
    for (size_t i = 0; i < n; i++) tmp[i] = (lab_t){lab[i], i};
    qsort(tmp, n, sizeof(*tmp), cmp_lab);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(tmp[i].s, tmp[i - 1].s)) m++;
        code[tmp[i].i] = m;
    }
    *k = m + 1;
    *sizes = calloc(*k, sizeof(size_t));
    if (!*sizes) return -1;
    for (size_t i = 0; i < n; i++) (*sizes)[code[i]]++;
    return 0;
}

static double pairs(size_t k)
{
    return (double)k * (double)(k - 1) / 2.0;
}

static double f1(double p, double r)
{
    return p + r > 0 ? 2 * p * r / (p + r) : 0;
}

int bcubed_score(const char *const *gold, const char *const *pred, size_t n, bcubed_t *out,
                 char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (!n) {
        snprintf(err, errlen, "bcubed: no items");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!gold[i] || !pred[i]) {
            snprintf(err, errlen, "bcubed: item %zu has no label", i);
            return -1;
        }
    lab_t *tmp = malloc(n * sizeof(*tmp));
    size_t *gc = malloc(n * sizeof(*gc)), *pc = malloc(n * sizeof(*pc));
    cell_t *cells = malloc(n * sizeof(*cells));
    size_t *gsize = NULL, *psize = NULL, kg = 0, kp = 0;
    int rc = -1;
    if (!tmp || !gc || !pc || !cells || number(gold, n, tmp, gc, &gsize, &kg) < 0 ||
        number(pred, n, tmp, pc, &psize, &kp) < 0) {
        snprintf(err, errlen, "bcubed: out of memory");
        goto done;
    }
    /* Each (gold, pred) cell of the contingency table with c items adds
     * c * c/|pred| to precision and c * c/|gold| to recall. */
    for (size_t i = 0; i < n; i++) cells[i] = (cell_t){gc[i], pc[i]};
    qsort(cells, n, sizeof(*cells), cmp_cell);
    double p = 0, r = 0, tp = 0, gp = 0, pp = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && cells[j].g == cells[i].g && cells[j].p == cells[i].p) j++;
        double c = (double)(j - i);
        p += c * c / (double)psize[cells[i].p];
        r += c * c / (double)gsize[cells[i].g];
        tp += pairs(j - i);
        i = j;
    }
    for (size_t g = 0; g < kg; g++) gp += pairs(gsize[g]);
    for (size_t q = 0; q < kp; q++) pp += pairs(psize[q]);
    out->n = n;
    out->n_gold = kg;
    out->n_pred = kp;
    out->precision = p / (double)n;
    out->recall = r / (double)n;
    out->f1 = f1(out->precision, out->recall);
    out->pair_precision = pp > 0 ? tp / pp : 1;
    out->pair_recall = gp > 0 ? tp / gp : 1;
    out->pair_f1 = f1(out->pair_precision, out->pair_recall);
    rc = 0;
done:
    free(tmp);
    free(gc);
    free(pc);
    free(cells);
    free(gsize);
    free(psize);
    return rc;
}

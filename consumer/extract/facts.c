/* facts: subject-predicate-object triples from verb patterns.
 *
 * Each pattern is anchored on a verb class (lexicon.c) and looks a few
 * tokens either side, within the sentence, for entity mentions and amounts:
 *
 *   raised    X raises/secures/closes [a, fresh, ...] <money> [... from|by Y];
 *             Y invests <money> in X
 *   acquired  X acquires/buys Y [... <money>];  Y acquired by X;
 *             X's acquisition of Y
 *   released  X releases/launches/unveils/rolls out Y
 *   outage    X [suffers] outage;  outage at/hits X;  X [is|goes] down
 *   layoffs   X cuts|slashes <number|percent> ... jobs;  X lays off ...;
 *             X layoffs / layoffs at X
 *
 * Requiring the amount right after a funding verb is what keeps "raises
 * concerns" out; requiring an entity object keeps "buys back shares" out. */
#include "extract_int.h"

#include <math.h>
#include <string.h>

typedef struct {
    ex_doc_t *d;
    ex_field_t *f;
    uint64_t h_out, h_to, h_in;
} ctx_t;

static const ex_tok_t *tk(const ctx_t *c, size_t i) { return &c->f->tok[i]; }

/* Nearest mention ending before token i, at most maxd tokens back, same
 * sentence. Returns the mention index or -1. */
static int32_t left_mention(const ctx_t *c, size_t i, size_t maxd)
{
    for (size_t k = 1; k <= maxd && k <= i; k++) {
        const ex_tok_t *t = tk(c, i - k);
        if (t->sent != tk(c, i)->sent) break;
        if (t->mention >= 0) return t->mention;
    }
    return -1;
}

/* First mention starting after token i within maxd tokens. With
 * words_only, an amount or number on the way ends the search ("buys $4B of
 * bonds"); so does a token with any of the stop bits. */
static int32_t right_mention(const ctx_t *c, size_t i, size_t maxd, int words_only,
                             uint32_t stop)
{
    for (size_t k = i + 1; k <= i + maxd && k < c->f->ntok; k++) {
        const ex_tok_t *t = tk(c, k);
        if (t->sent != tk(c, i)->sent) break;
        if (t->mention >= 0) return t->mention;
        if ((words_only && t->kind != TK_WORD) || (t->info & stop)) break;
    }
    return -1;
}

/* First token of kind within (i, i+maxd], only fillers/stopwords before it
 * when strict. Returns its index or -1. */
static long find_kind(const ctx_t *c, size_t i, size_t maxd, int kind1, int kind2, int strict)
{
    for (size_t k = i + 1; k <= i + maxd && k < c->f->ntok; k++) {
        const ex_tok_t *t = tk(c, k);
        if (t->sent != tk(c, i)->sent) break;
        if (t->kind == kind1 || t->kind == kind2) return (long)k;
        if (strict && !(t->kind == TK_WORD && ((t->info & W_FILLER) || (t->flags & TF_STOP))))
            break;
    }
    return -1;
}

/* First token with any of the info bits within (i, i+maxd], same sentence. */
static long find_info(const ctx_t *c, size_t i, size_t maxd, uint32_t bits)
{
    for (size_t k = i + 1; k <= i + maxd && k < c->f->ntok; k++) {
        const ex_tok_t *t = tk(c, k);
        if (t->sent != tk(c, i)->sent) break;
        if (t->kind == TK_WORD && (t->info & bits)) return (long)k;
    }
    return -1;
}

static int32_t ent_of(const ctx_t *c, int32_t mention)
{
    return mention < 0 ? -1 : ex_entity_root(c->d, c->d->men[mention].entity);
}

static int same(double a, double b) { return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b)); }

/* Adds a fact, folding it into an earlier one about the same subject and
 * predicate when nothing conflicts (the title and the lede often repeat). */
static void add_fact(ex_doc_t *d, const ex_fact_t *nf)
{
    for (size_t i = 0; i < d->nfact; i++) {
        ex_fact_t *f = &d->fact[i];
        if (strcmp(f->predicate, nf->predicate) != 0 || f->subject != nf->subject ||
            strcmp(f->subject_text, nf->subject_text) != 0)
            continue;
        if (f->object >= 0 && nf->object >= 0 && f->object != nf->object) continue;
        if (f->amount >= 0 && nf->amount >= 0 &&
            (!same(f->amount, nf->amount) || strcmp(f->currency, nf->currency) != 0))
            continue;
        if (f->object < 0 && !f->object_text[0]) {
            f->object = nf->object;
            memcpy(f->object_text, nf->object_text, sizeof f->object_text);
        }
        if (f->amount < 0) {
            f->amount = nf->amount;
            memcpy(f->currency, nf->currency, sizeof f->currency);
        }
        if (f->count < 0) f->count = nf->count;
        if (f->percent < 0) f->percent = nf->percent;
        return;
    }
    if (d->nfact < EX_MAX_FACTS) d->fact[d->nfact++] = *nf;
}

static void fact_init(ex_fact_t *f, const char *predicate, int32_t subject)
{
    memset(f, 0, sizeof *f);
    f->predicate = predicate;
    f->subject = subject;
    f->object = -1;
    f->amount = f->count = f->percent = -1;
}

static void set_amount(const ctx_t *c, ex_fact_t *f, long tok)
{
    const ex_span_t *sp = &c->f->span[tk(c, (size_t)tok)->span];
    f->amount = sp->value;
    memcpy(f->currency, sp->currency, sizeof f->currency);
}

/* Subjects of business facts are organisations or people, never places. */
static int agent(const ctx_t *c, int32_t e) { return e >= 0 && c->d->ent[e].type != ET_PLACE; }

static void funding(const ctx_t *c, size_t i)
{
    long m = find_kind(c, i, 6, TK_MONEY, TK_MONEY, 1);
    int32_t subj = ent_of(c, left_mention(c, i, 8));
    if (m < 0 || !agent(c, subj)) return;
    ex_fact_t f;
    fact_init(&f, "raised", subj);
    set_amount(c, &f, m);
    long by = find_info(c, (size_t)m, 12, W_FROM | W_BY);
    if (by >= 0) {
        int32_t obj = ent_of(c, right_mention(c, (size_t)by, 3, 1, 0));
        if (obj != subj) f.object = obj;
    }
    add_fact(c->d, &f);
}

/* "Y invests $Z in X": X raised $Z, from Y. */
static void investment(const ctx_t *c, size_t i)
{
    long m = find_kind(c, i, 6, TK_MONEY, TK_MONEY, 1);
    if (m < 0 || (size_t)m + 1 >= c->f->ntok || tk(c, (size_t)m + 1)->hash != c->h_in) return;
    int32_t subj = ent_of(c, right_mention(c, (size_t)m + 1, 3, 1, 0));
    int32_t investor = ent_of(c, left_mention(c, i, 8));
    if (subj < 0 || c->d->ent[subj].type != ET_ORG || subj == investor) return;
    ex_fact_t f;
    fact_init(&f, "raised", subj);
    set_amount(c, &f, m);
    f.object = investor;
    add_fact(c->d, &f);
}

static void acquisition(const ctx_t *c, size_t i, int noun)
{
    int32_t subj, obj;
    long after;
    if (noun) {
        /* "X's acquisition of Y [by Z]" */
        long of = find_info(c, i, 1, W_OF);
        if (of < 0) return;
        int32_t om = right_mention(c, (size_t)of, 3, 1, 0);
        if (om < 0) return;
        obj = ent_of(c, om);
        after = c->d->men[om].last;
        long by = find_info(c, (size_t)after, 1, W_BY);
        subj = ent_of(c, by >= 0 ? right_mention(c, (size_t)by, 2, 1, 0) : left_mention(c, i, 6));
    } else if (i + 1 < c->f->ntok && (tk(c, i + 1)->info & W_BY)) {
        /* "Y acquired by X" */
        int32_t sm = right_mention(c, i + 1, 3, 1, 0);
        subj = ent_of(c, sm);
        obj = ent_of(c, left_mention(c, i, 4));
        after = sm >= 0 ? c->d->men[sm].last : (long)i;
    } else {
        int32_t om = right_mention(c, i, 5, 1, W_PREP);
        obj = ent_of(c, om);
        subj = ent_of(c, left_mention(c, i, 8));
        after = om >= 0 ? c->d->men[om].last : (long)i;
    }
    if (!agent(c, subj) || obj < 0 || subj == obj) return;
    ex_fact_t f;
    fact_init(&f, "acquired", subj);
    f.object = obj;
    long m = find_kind(c, (size_t)after, 8, TK_MONEY, TK_MONEY, 0);
    if (m < 0 && noun && i >= 1 && tk(c, i - 1)->kind == TK_MONEY) m = (long)i - 1; /* "$4B acquisition" */
    if (m >= 0) set_amount(c, &f, m);
    add_fact(c->d, &f);
}

static void release(const ctx_t *c, size_t i, size_t verb_end)
{
    /* "X launches Y", not "Y released with Z". */
    int32_t om = right_mention(c, verb_end, 5, 1, W_PREP);
    int32_t obj = ent_of(c, om), subj = ent_of(c, left_mention(c, i, 8));
    if (!agent(c, subj) || obj < 0 || subj == obj) return;
    ex_entity_t *o = &c->d->ent[obj];
    if (o->weak) {
        o->type = ET_PRODUCT; /* what gets launched is a product */
        o->weak = 0;
    }
    ex_fact_t f;
    fact_init(&f, "released", subj);
    f.object = obj;
    add_fact(c->d, &f);
}

static void outage_fact(const ctx_t *c, int32_t subj)
{
    if (subj < 0) return;
    ex_fact_t f;
    fact_init(&f, "outage", subj);
    add_fact(c->d, &f);
}

static void outage(const ctx_t *c, size_t i)
{
    int32_t m = left_mention(c, i, 4);
    if (m < 0 && i + 1 < c->f->ntok && (tk(c, i + 1)->info & W_AT))
        m = right_mention(c, i + 1, 3, 1, 0); /* "outage at AWS", "outage hits Slack" */
    outage_fact(c, ent_of(c, m));
}

/* "X down", "X is down", "X goes down": but not a price ("shares of X are
 * down 3%", "X is down from ..."). */
static void down(const ctx_t *c, size_t i)
{
    if (i + 1 < c->f->ntok && tk(c, i + 1)->sent == tk(c, i)->sent) {
        const ex_tok_t *n = tk(c, i + 1);
        if (n->kind != TK_WORD || (n->info & W_FROM) || n->hash == c->h_to) return;
    }
    int32_t m = -1;
    if (i >= 1 && tk(c, i - 1)->mention >= 0) {
        m = tk(c, i - 1)->mention;
    } else if (i >= 2 && (tk(c, i - 1)->info & W_BE)) {
        m = left_mention(c, i - 1, 2);
    }
    if (m < 0) return;
    /* "Shares of X are down", "X stock is down". */
    size_t first = c->d->men[m].first;
    for (size_t k = first >= 3 ? first - 3 : 0; k < i; k++)
        if (tk(c, k)->info & W_MARKET) return;
    outage_fact(c, ent_of(c, m));
}

static void layoffs(const ctx_t *c, size_t i, int lay)
{
    size_t start = i;
    if (lay) {
        if (i + 1 >= c->f->ntok || !(tk(c, i + 1)->info & W_OFF)) return; /* "lays off" */
        start = i + 1;
    }
    long q = find_kind(c, start, 4, TK_NUMBER, TK_PERCENT, 1);
    if (q >= 0) {
        /* A cut of what? Jobs: "cuts 1,000 jobs", "10% of its workforce". */
        if (!lay && find_info(c, (size_t)q, 4, W_JOBS) < 0) return;
    } else if (find_info(c, start, 3, W_JOBS) < 0) {
        return; /* "cuts prices" */
    }
    int32_t subj = ent_of(c, left_mention(c, i, 8));
    if (!agent(c, subj)) return;
    ex_fact_t f;
    fact_init(&f, "layoffs", subj);
    if (q >= 0) {
        /* Out-of-range numbers ("cut 150% of costs") are dropped, not the fact. */
        const ex_span_t *sp = &c->f->span[tk(c, (size_t)q)->span];
        if (sp->kind == TK_PERCENT) f.percent = sp->value <= 100 ? sp->value : -1;
        else f.count = sp->value <= 1e9 ? floor(sp->value) : -1;
    }
    add_fact(c->d, &f);
}

static void layoffs_noun(const ctx_t *c, size_t i)
{
    int32_t m = left_mention(c, i, 6);
    if (m < 0 && i + 1 < c->f->ntok && (tk(c, i + 1)->info & W_AT)) m = right_mention(c, i + 1, 3, 1, 0);
    int32_t subj = ent_of(c, m);
    if (!agent(c, subj)) return;
    ex_fact_t f;
    fact_init(&f, "layoffs", subj);
    if (i >= 1 && tk(c, i - 1)->kind == TK_NUMBER) { /* "1,000 layoffs" */
        double v = c->f->span[tk(c, i - 1)->span].value;
        if (v <= 1e9) f.count = floor(v);
    }
    add_fact(c->d, &f);
}

void ex_facts(ex_doc_t *d)
{
    for (int fi = 0; fi < 2; fi++) {
        ctx_t c = {d, &d->f[fi], ex_hash("out", 3), ex_hash("to", 2), ex_hash("in", 2)};
        for (size_t i = 0; i < c.f->ntok; i++) {
            const ex_tok_t *t = tk(&c, i);
            uint32_t v = t->info;
            if (t->kind != TK_WORD || !(v & EX_VERBS)) continue;
            if (v & V_FUND) funding(&c, i);
            if (v & V_INVEST) investment(&c, i);
            if (v & V_ACQ) acquisition(&c, i, 0);
            if (v & V_ACQ_N) acquisition(&c, i, 1);
            if (v & V_REL) release(&c, i, i);
            if ((v & V_OUT) && i + 1 < c.f->ntok && tk(&c, i + 1)->hash == c.h_out)
                release(&c, i, i + 1); /* "rolls out" */
            if (v & V_OUTAGE) outage(&c, i);
            if (v & V_DOWN) down(&c, i);
            if (v & V_CUT) layoffs(&c, i, 0);
            if (v & V_LAY) layoffs(&c, i, 1);
            if (v & V_LAYOFFS) layoffs_noun(&c, i);
        }
    }
}

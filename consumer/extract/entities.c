/* entities: names from runs of capitalised words.
 *
 * A run is a sequence of capitalised tokens in one sentence separated only
 * by blanks (or "&", or the dot of an initial), optionally bridged by "of",
 * "de", ... and ending in a version number ("Llama 3"). Leading titles,
 * stopwords and demonyms are stripped ("CEO Sam Altman", "French AI startup
 * Mistral"); a title makes the rest a person. The type comes from, in
 * order: the gazetteer and built-in names, a title, an organisation suffix,
 * a version or odd casing (product), a known company's name plus more words
 * (product), a common first name (person); otherwise organisation, marked
 * weak so that facts may refine it. */
#include "extract_int.h"

#include <stdlib.h>
#include <string.h>

static int is_upper_ascii(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static int is_space(unsigned char c) { return c == ' ' || c == '\t'; }

static const ex_tok_t *tk(const ex_field_t *f, size_t i) { return &f->tok[i]; }

/* Can this token be part of a name? */
static int cap_word(const ex_field_t *f, size_t i)
{
    const ex_tok_t *t = tk(f, i);
    if (t->kind != TK_WORD || t->end - t->start > EX_WORD_MAX) return 0;
    if (!(t->flags & (TOKEN_CAPITALIZED | TOKEN_ALLCAPS | TF_MIXED))) return 0;
    if (t->flags & TF_QUAL) return 0;
    if (t->info & W_CALENDAR) return 0;
    /* At a sentence start and in Title Case headlines a capital says
     * nothing, so common words there are just words. */
    if (((t->flags & TOKEN_SENT_START) || f->titlecase) && !(t->flags & (TOKEN_ALLCAPS | TF_MIXED)) &&
        (t->info & W_LEX || t->flags & TF_STOP) && !(t->info & W_NAME1))
        return 0;
    return 1;
}

/* A version number that may end a name: "Llama 3", "Claude 3.5", "v2". */
static int version_tok(const ex_field_t *f, size_t i)
{
    const ex_tok_t *t = tk(f, i);
    if (t->kind == TK_NUMBER) {
        double v = f->span[t->span].value;
        return v < 100 && t->end - t->start <= 5;
    }
    return t->kind == TK_WORD && (t->flags & TOKEN_NUMERIC) && t->end - t->start <= 8;
}

/* Only blanks, "&" or an initial's dot between tokens a and b. */
static int gap_ok(const ex_field_t *f, size_t a, size_t b)
{
    const unsigned char *s = (const unsigned char *)f->s;
    uint32_t p = tk(f, a)->end, e = tk(f, b)->start;
    if (tk(f, a)->sent != tk(f, b)->sent || e <= p || e - p > 3) return 0;
    if (e - p <= 2 && s[p] == '.' && tk(f, a)->end - tk(f, a)->start == 1 &&
        is_upper_ascii(s[tk(f, a)->start]))
        p++; /* "U.S. Treasury", "John F. Kennedy" */
    for (; p < e; p++)
        if (!is_space(s[p]) && s[p] != '&') return 0;
    return 1;
}

static uint64_t tok_key_hash(const ex_field_t *f, size_t i)
{
    const ex_tok_t *t = tk(f, i);
    return t->kind == TK_WORD ? t->hash : ex_word_hash(f->s + t->start, t->end - t->start);
}

/* The name as written, blanks collapsed, possessive dropped, capped. */
static void build_name(const ex_field_t *f, size_t j, size_t k, char *out)
{
    const char *s = f->s;
    size_t a = tk(f, j)->start, e = tk(f, k)->end, o = 0;
    if (tk(f, k)->flags & TF_POSS) e -= ((unsigned char)s[e - 2] == '\'') ? 2 : 4;
    e = a + ex_utf8_prefix(s + a, e - a, EX_NAME_MAX);
    for (size_t p = a; p < e; p++) {
        if (is_space((unsigned char)s[p])) {
            if (o && out[o - 1] != ' ') out[o++] = ' ';
        } else {
            out[o++] = s[p];
        }
    }
    out[o] = '\0';
}

static ex_etype_t known_type(const ex_doc_t *d, uint64_t key, int *known)
{
    const int32_t *v = ex_map_find(&d->x->names, key);
    *known = v != NULL;
    return v ? (ex_etype_t)*v : ET_ORG;
}

static int add_entity(ex_doc_t *d, int fi, size_t j, size_t k, uint64_t key, ex_etype_t type,
                      int weak)
{
    const ex_field_t *f = &d->f[fi];
    uint32_t order = (fi == EX_FIELD_TITLE ? 0 : 1u << 24) + (uint32_t)j;
    int32_t *slot = ex_map_find(&d->ent_index, key);
    int32_t e;
    if (slot) {
        e = *slot;
        ex_entity_t *en = &d->ent[e];
        en->count++;
        if (order < en->order) en->order = order;
        if (en->weak && !weak) {
            en->type = (uint8_t)type;
            en->weak = 0;
        }
    } else {
        if (d->nent == EX_MAX_CANDIDATES) return 0; /* hostile input: later names are ignored */
        if (d->nent == d->capent) {
            size_t c = d->capent ? d->capent * 2 : 32;
            ex_entity_t *ne = realloc(d->ent, c * sizeof *ne);
            if (!ne) return -1;
            d->ent = ne;
            d->capent = c;
        }
        e = (int32_t)d->nent;
        if (!ex_map_put(&d->ent_index, key, e)) return -1;
        ex_entity_t *en = &d->ent[d->nent++];
        build_name(f, j, k, en->name);
        en->key = key;
        en->first_key = ex_key_add(EX_KEY_SEED, tok_key_hash(f, j));
        en->last_key = ex_key_add(EX_KEY_SEED, tok_key_hash(f, k));
        en->count = 1;
        en->order = order;
        en->type = (uint8_t)type;
        en->weak = (uint8_t)weak;
        en->ntok = (uint8_t)(k - j + 1);
        en->suffixed = k > j && f->tok[k].kind == TK_WORD && (f->tok[k].info & W_SUFFIX);
        en->merged = -1;
    }

    if (d->nmen == d->capmen) {
        size_t c = d->capmen ? d->capmen * 2 : 64;
        ex_mention_t *m = realloc(d->men, c * sizeof *m);
        if (!m) return -1;
        d->men = m;
        d->capmen = c;
    }
    ex_mention_t *m = &d->men[d->nmen];
    m->field = (uint8_t)fi;
    m->first = (uint32_t)j;
    m->last = (uint32_t)k;
    m->entity = e;
    for (size_t i = j; i <= k; i++) d->f[fi].tok[i].mention = (int32_t)d->nmen;
    d->nmen++;
    return 0;
}

static int digit_count(const ex_field_t *f, size_t i)
{
    int n = 0;
    for (uint32_t p = tk(f, i)->start; p < tk(f, i)->end; p++) n += f->s[p] >= '0' && f->s[p] <= '9';
    return n;
}

/* "Q3", "H1": a letter and digits is a period or a part number, not a name. */
static int letter_digits(const ex_field_t *f, size_t i)
{
    const ex_tok_t *t = tk(f, i);
    const char *s = f->s;
    if (t->end - t->start < 2 || !is_upper_ascii((unsigned char)s[t->start])) return 0;
    for (uint32_t p = t->start + 1; p < t->end; p++)
        if (s[p] < '0' || s[p] > '9') return 0;
    return 1;
}

static uint64_t run_key(const ex_field_t *f, size_t j, size_t k)
{
    uint64_t key = EX_KEY_SEED;
    for (size_t i = j; i <= k; i++) key = ex_key_add(key, tok_key_hash(f, i));
    return key;
}

/* Decides whether tokens j..k name something, and what. */
static int process_run(ex_doc_t *d, int fi, size_t j, size_t k, int first_run)
{
    const ex_field_t *f = &d->f[fi];
    int person_hint = 0;

    for (; j <= k; j++) {
        const ex_tok_t *t = tk(f, j);
        if (t->kind != TK_WORD) continue;
        if (t->info & W_TITLE) {
            person_hint = 1;
            continue;
        }
        int plain = !(t->flags & (TOKEN_ALLCAPS | TF_MIXED));
        if (!((t->flags & TF_STOP && plain) || (t->info & W_CONNECT) ||
              ((t->info & W_NONENT) && j < k) ||
              ((t->info & W_LEX) && plain && j < k &&
               ((t->flags & TOKEN_SENT_START) || f->titlecase))))
            break;
        /* "European Commission", "New York Times" are listed whole. */
        if (ex_map_find(&d->x->names, run_key(f, j, k))) break;
    }
    for (; k >= j && k != (size_t)-1; k--) {
        const ex_tok_t *t = tk(f, k);
        if (!(t->kind == TK_WORD && ((t->flags & TF_STOP && !(t->flags & TOKEN_ALLCAPS)) ||
                                     (t->info & (W_CONNECT | W_TITLE)))))
            break;
    }
    if (k == (size_t)-1 || j > k) return 0;

    const ex_tok_t *first = tk(f, j), *last = tk(f, k);
    size_t n = k - j + 1;
    if (first->kind != TK_WORD) return 0;

    uint64_t key = run_key(f, j, k);
    int has_version = 0;
    for (size_t i = j + 1; i <= k; i++)
        if (version_tok(f, i)) has_version = 1;

    int known;
    ex_etype_t type = known_type(d, key, &known);
    if (known) return add_entity(d, fi, j, k, key, type, 0);

    /* One word that is a class word, a stopword ("IT"), a number, a period
     * ("Q3") or a letter ("Series B") is not a name unless listed. */
    if (n == 1 && ((first->info & (W_NONENT | W_SUFFIX)) || (first->flags & TF_STOP) ||
                   (first->flags & TOKEN_NUMERIC) || letter_digits(f, j) ||
                   first->end - first->start == 1 ||
                   ((first->info & W_LEX) && ((first->flags & TOKEN_SENT_START) || f->titlecase))))
        return 0;
    if (!ex_map_find(&d->ent_index, key)) {
        if (n == 1 && (first->flags & TOKEN_SENT_START)) {
            /* "Investors ..." at a sentence start: a name only if never
             * seen in lower case. */
            if (ex_casing(d, first->hash) == 2) return 0;
        }
        if (f->titlecase && !first_run) {
            /* In a Title Case headline a run needs support: casing seen in
             * the body, an odd casing, or a suffix. */
            int support = (last->kind == TK_WORD && (last->info & W_SUFFIX)) || has_version;
            for (size_t i = j; i <= k && !support; i++) {
                const ex_tok_t *t = tk(f, i);
                if ((t->flags & (TOKEN_ALLCAPS | TF_MIXED)) || (ex_casing(d, t->hash) & 1))
                    support = 1;
            }
            if (!support) return 0;
        }
    }

    int first_known, weak = 0;
    ex_etype_t first_type = known_type(d, ex_key_add(EX_KEY_SEED, first->hash), &first_known);
    if (person_hint) {
        type = ET_PERSON;
    } else if (n >= 2 && last->kind == TK_WORD && (last->info & W_SUFFIX)) {
        type = ET_ORG;
    } else if (n == 1 && digit_count(f, j) >= 4) {
        type = ET_OTHER; /* "CVE-2024-21887" */
    } else if (has_version || (n == 1 && (first->flags & TF_MIXED))) {
        type = ET_PRODUCT;
    } else if (n >= 2 && first_known && (first_type == ET_ORG || first_type == ET_PRODUCT)) {
        type = ET_PRODUCT; /* "Google Cloud", "Apple Intelligence" */
    } else if (n >= 2 && n <= 3 && ((first->info & W_FIRST) ||
                                    (k + 1 < f->ntok && (tk(f, k + 1)->info & W_SAID)))) {
        type = ET_PERSON;
    } else {
        type = ET_ORG; /* a guess: facts may refine it */
        weak = 1;
    }
    return add_entity(d, fi, j, k, key, type, weak);
}

static int runs(ex_doc_t *d, int fi)
{
    const ex_field_t *f = &d->f[fi];
    int first_run = 1;
    for (size_t i = 0; i < f->ntok;) {
        if (!cap_word(f, i)) {
            /* Only the headline's opening name gets the benefit of the doubt. */
            if (tk(f, i)->kind != TK_WORD || !(tk(f, i)->flags & TF_STOP)) first_run = 0;
            i++;
            continue;
        }
        size_t k = i, n = 1;
        while (k + 1 < f->ntok && n < EX_MAX_RUN && !(tk(f, k)->flags & TF_POSS)) {
            size_t x = k + 1;
            if (!gap_ok(f, k, x)) break;
            if (cap_word(f, x)) {
                /* A title ends the name before it: "OpenAI CEO Sam Altman". */
                if ((tk(f, x)->info & W_TITLE) && !(tk(f, k)->info & W_TITLE)) break;
                k = x;
                n++;
            } else if ((tk(f, x)->info & W_CONNECT) && tk(f, x)->kind == TK_WORD &&
                       !(tk(f, x)->flags & TOKEN_CAPITALIZED) && !(tk(f, k)->info & W_TITLE) &&
                       n + 2 <= EX_MAX_RUN && x + 1 < f->ntok && cap_word(f, x + 1) &&
                       gap_ok(f, x, x + 1)) {
                k = x + 1; /* "Bank of America" */
                n += 2;
            } else if (version_tok(f, x) && tk(f, k)->kind == TK_WORD) {
                k = x;
                n++;
            } else {
                break;
            }
        }
        /* "San Francisco-based": the run is part of a modifier. */
        int modifier = k + 1 < f->ntok && (tk(f, k + 1)->flags & TF_QUAL) && gap_ok(f, k, k + 1);
        if (!modifier && process_run(d, fi, i, k, first_run) < 0) return -1;
        first_run = 0;
        i = k + 1;
    }
    return 0;
}

int32_t ex_entity_root(const ex_doc_t *d, int32_t e)
{
    /* Merges point one level deep (at a multi-word root), so this ends. */
    while (e >= 0 && d->ent[e].merged >= 0) e = d->ent[e].merged;
    return e;
}

/* Folds a one-word name into the full name it abbreviates: "Mistral" into
 * "Mistral AI" (an organisation with a suffix; "Google" is not "Google
 * DeepMind"), "Altman" into "Sam Altman". */
static int merge_short_names(ex_doc_t *d)
{
    int singles = 0, multis = 0;
    for (size_t i = 0; i < d->nent; i++) {
        singles |= d->ent[i].ntok == 1;
        multis |= d->ent[i].ntok > 1;
    }
    if (!singles || !multis) return 0;
    ex_map_t by_first, by_last;
    if (ex_map_init(&by_first, d->nent) < 0) return -1;
    if (ex_map_init(&by_last, d->nent) < 0) {
        ex_map_free(&by_first);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < d->nent && !rc; i++) {
        const ex_entity_t *e = &d->ent[i];
        if (e->ntok < 2) continue;
        int32_t *v = NULL;
        if (e->type == ET_ORG && e->suffixed) v = ex_map_put(&by_first, e->first_key, (int32_t)i);
        else if (e->type == ET_PERSON) v = ex_map_put(&by_last, e->last_key, (int32_t)i);
        else continue;
        if (!v) rc = -1;
        else if (d->ent[*v].count < e->count) *v = (int32_t)i; /* the most frequent wins */
    }
    for (size_t i = 0; i < d->nent && !rc; i++) {
        ex_entity_t *e = &d->ent[i];
        if (e->ntok != 1) continue;
        const int32_t *t = NULL;
        if (e->type == ET_ORG) t = ex_map_find(&by_first, e->key);
        if (!t && (e->type == ET_PERSON || e->weak)) t = ex_map_find(&by_last, e->key);
        if (!t) continue;
        ex_entity_t *root = &d->ent[*t];
        e->merged = *t;
        root->count += e->count;
        if (e->order < root->order) root->order = e->order;
    }
    ex_map_free(&by_first);
    ex_map_free(&by_last);
    return rc;
}

int ex_entities(ex_doc_t *d)
{
    /* The body first: its casing is the evidence for a Title Case title. */
    if (runs(d, EX_FIELD_TEXT) < 0 || runs(d, EX_FIELD_TITLE) < 0) return -1;
    return merge_short_names(d);
}

/* extract: extractor lifecycle and one run (see extract.h, extract_int.h). */
#include "extract_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "text.h"

extractor_t *extractor_new(const char *taxonomy_path, const char *gazetteer_path, char *err,
                           size_t errlen)
{
    extractor_t *x = calloc(1, sizeof *x);
    if (!x || ex_map_init(&x->words, 1024) < 0 || ex_map_init(&x->names, 512) < 0 ||
        ex_lexicon_load(&x->words, &x->names) < 0) {
        snprintf(err, errlen, "extractor: out of memory");
        extractor_destroy(x);
        return NULL;
    }
    /* The gazetteer before the taxonomy: names it lists are not common words. */
    if ((gazetteer_path && ex_gazetteer_load(&x->words, &x->names, gazetteer_path, err, errlen) < 0) ||
        ex_taxonomy_load(&x->tax, taxonomy_path, &x->words, &x->names, err, errlen) < 0) {
        extractor_destroy(x);
        return NULL;
    }
    for (int k = TK_MONEY; k <= TK_DATE; k++) x->placeholder[k] = ex_placeholder_hash(k);
    return x;
}

void extractor_destroy(extractor_t *x)
{
    if (!x) return;
    ex_taxonomy_free(&x->tax);
    ex_map_free(&x->words);
    ex_map_free(&x->names);
    free(x);
}

const char *extractor_tag(const extractor_t *x, size_t i)
{
    return i < x->tax.ntags ? x->tax.tags[i] : NULL;
}

/* ---- Spans -------------------------------------------------------------- */

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_alnum(unsigned char c)
{
    return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* May a number start at s[i]? Not inside a word, a version ("v1.2", "1.2.3"),
 * an identifier ("COVID-19", "A/B-2") or a time ("10:30"). */
static int number_start(const unsigned char *s, size_t i)
{
    if (i == 0) return 1;
    unsigned char p = s[i - 1];
    if (is_alnum(p) || p == '_' || p == '-' || p == '\'' || p == '/' || p == '#' || p == '@')
        return 0;
    if ((p == '.' || p == ',' || p == ':') && i >= 2 && is_digit(s[i - 2])) return 0;
    return 1;
}

/* May a word (a month, a currency code) start at s[i]? */
static int word_start(const unsigned char *s, size_t i)
{
    if (i == 0) return 1;
    unsigned char p = s[i - 1];
    return !is_alnum(p) && p < 0x80 && p != '_' && p != '-' && p != '\'';
}

static int push_span(ex_field_t *f, size_t *cap, const ex_span_t *sp)
{
    if (f->nspan == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        ex_span_t *n = realloc(f->span, c * sizeof *n);
        if (!n) return -1;
        f->span = n;
        *cap = c;
    }
    f->span[f->nspan++] = *sp;
    return 0;
}

/* Bytes an amount or a date can start with: digits, capitals (months,
 * currency codes), '$' and the lead bytes of "€", "£", "¥", "₹", "₩". */
static const unsigned char may_start[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
    ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
    ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1,
    ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['$'] = 1, [0xC2] = 1, [0xE2] = 1,
};

/* One left-to-right pass; every parser reads a bounded number of bytes and
 * a match skips past itself, so this is linear. */
static int scan_spans(ex_field_t *f)
{
    const unsigned char *s = (const unsigned char *)f->s;
    size_t len = f->len, cap = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (!may_start[c]) continue; /* lower-case letters, blanks, punctuation */
        int digit = is_digit(c), upper = c >= 'A' && c <= 'Z';
        if (digit ? !number_start(s, i) : upper && !word_start(s, i)) continue;
        const char *p = f->s + i;
        size_t rest = len - i, n = 0;
        ex_span_t sp;
        money_t m;
        memset(&sp, 0, sizeof sp);
        if (date_parse(p, rest, sp.date, &n)) {
            sp.kind = TK_DATE;
        } else if (money_parse(p, rest, &m, &n)) {
            sp.kind = TK_MONEY;
            sp.value = m.value;
            memcpy(sp.currency, m.currency, sizeof sp.currency);
        } else if (digit && percent_parse(p, rest, &sp.value, &n)) {
            sp.kind = TK_PERCENT;
        } else if (digit) {
            ex_number_t num;
            n = ex_number_parse(p, rest, &num);
            if (n && n < rest && is_alnum(s[i + n])) n = 0; /* "4o", "15th" */
            if (n) {
                sp.kind = TK_NUMBER;
                sp.value = ex_number_value(&num, 0);
            }
        }
        if (!n) continue;
        sp.start = (uint32_t)i;
        sp.end = (uint32_t)(i + n);
        if (push_span(f, &cap, &sp) < 0) return -1;
        i += n - 1;
    }
    return 0;
}

/* ---- Tokens ------------------------------------------------------------- */

static int ends_possessive(const char *s, size_t n)
{
    if (n > 2 && (s[n - 1] | 0x20) == 's' && s[n - 2] == '\'') return 1;
    return n > 4 && (s[n - 1] | 0x20) == 's' && (unsigned char)s[n - 4] == 0xE2 &&
           (unsigned char)s[n - 3] == 0x80 && (unsigned char)s[n - 2] == 0x99;
}

/* Casing that capital flags miss: "iPhone", "eBay" (TF_MIXED) and the
 * capitalised modifier "Amazon-backed" (TF_QUAL). */
static int shape_flags(const char *s, size_t n, int flags)
{
    int out = 0;
    if (s[0] >= 'a' && s[0] <= 'z') {
        for (size_t i = 1; i < n; i++)
            if (s[i] >= 'A' && s[i] <= 'Z') {
                out |= TF_MIXED;
                break;
            }
    }
    if (flags & TOKEN_CAPITALIZED) {
        const char *h = memrchr(s, '-', n);
        if (h && h + 1 < s + n && h[1] >= 'a' && h[1] <= 'z') out |= TF_QUAL;
    }
    return out;
}

/* How stopwords are found for the doc's language. */
enum { STOP_NONE, STOP_CACHED, STOP_CALL };

/* Tokens of f into its ex_tok_t array, and when words is given, each token
 * with its normalised form for clustering (text_words_t). */
static int build_field(ex_doc_t *d, ex_field_t *f, int stop_mode, text_words_t *words)
{
    if (scan_spans(f) < 0) return -1;
    size_t cap = f->len / 4 + 16;
    f->tok = malloc(cap * sizeof *f->tok);
    if (!f->tok) return -1;
    f->ntok = 0;

    text_iter_t it;
    text_token_t t;
    size_t k = 0;           /* next span */
    long emitted = -1;      /* last span turned into a token */
    uint32_t sent = 0;
    int any = 0;
    text_iter_init(&it, f->s, f->len);
    while (text_iter_next(&it, &t)) {
        uint32_t ts = (uint32_t)(t.start - f->s), te = ts + (uint32_t)t.len;
        if ((t.flags & TOKEN_SENT_START) && any) sent++;
        any = 1;
        while (k < f->nspan && f->span[k].end <= ts) k++;
        char norm[EX_WORD_MAX * 2 + 1];
        size_t nl = 0;
        int in_span = k < f->nspan && f->span[k].start <= ts;
        if (words || !in_span) nl = text_normalize(t.start, t.len, norm, sizeof norm);
        /* An amount's words are not looked up below: their stopword test is here. */
        if (words && in_span)
            text_words_push(words, &t, norm, nl, stop_mode != STOP_NONE && text_is_stopword(norm, nl, d->lang));
        if (f->ntok == cap) {
            ex_tok_t *n = realloc(f->tok, cap * 2 * sizeof *n);
            if (!n) return -1;
            f->tok = n;
            cap *= 2;
        }
        ex_tok_t *o = &f->tok[f->ntok];
        o->sent = sent;
        o->mention = -1;
        o->info = 0;
        if (in_span) {
            /* Inside an amount: the first token stands for all of it. */
            if ((long)k == emitted) continue;
            emitted = (long)k;
            o->start = f->span[k].start;
            o->end = f->span[k].end;
            o->kind = f->span[k].kind;
            o->span = (int32_t)k;
            o->hash = d->x->placeholder[o->kind];
            o->flags = (uint16_t)((t.flags & TOKEN_SENT_START) | TOKEN_NUMERIC);
            f->ntok++;
            continue;
        }
        o->start = ts;
        o->end = te;
        o->kind = TK_WORD;
        o->span = -1;
        o->hash = ex_hash(norm, nl);
        int flags = t.flags | shape_flags(t.start, t.len, t.flags);
        if (ends_possessive(t.start, t.len)) flags |= TF_POSS;
        if (t.len <= EX_WORD_MAX) {
            const int32_t *info = ex_map_find(&d->x->words, o->hash);
            if (info) o->info = (uint32_t)*info;
        }
        if (stop_mode == STOP_CACHED ? (o->info & W_STOP) != 0
                                     : stop_mode == STOP_CALL && text_is_stopword(norm, nl, d->lang))
            flags |= TF_STOP;
        o->flags = (uint16_t)flags;
        f->ntok++;
        if (words) text_words_push(words, &t, norm, nl, (flags & TF_STOP) != 0);
    }
    return 0;
}

/* A Title Case Headline has most of its non-stopwords capitalised, common
 * words among them ("Raises", "New", "From"); a headline that is just
 * names ("Google DeepMind CEO Demis Hassabis wins ...") is not one. */
static void detect_titlecase(ex_field_t *f)
{
    int words = 0, caps = 0, common = 0;
    for (size_t i = 1; i < f->ntok; i++) {
        const ex_tok_t *t = &f->tok[i];
        if (t->kind != TK_WORD || (t->flags & TOKEN_NUMERIC)) continue;
        int cap = (t->flags & TOKEN_CAPITALIZED) && !(t->flags & TOKEN_ALLCAPS);
        if (cap && ((t->info & W_LEX) || (t->flags & TF_STOP))) common++;
        if (t->flags & TF_STOP) continue;
        words++;
        caps += cap || (t->flags & TOKEN_ALLCAPS);
    }
    f->titlecase = common > 0 && words >= 3 && caps * 4 >= words * 3;
}

/* Verbs and function words say little about the topic. */
#define TERM_SKIP (EX_VERBS | W_CALENDAR | W_FILLER | W_SAID | W_BE | W_TITLE | W_AT)
#define WORDS_MAX 4096 /* distinct words tracked per doc */

/* One pass over the content words of a field: casing evidence (unless the
 * field is a Title Case headline, whose capitals mean nothing) and key-term
 * scores, in one table since both are keyed by the word. */
static int collect_words(ex_doc_t *d, int fi)
{
    const ex_field_t *f = &d->f[fi];
    for (size_t i = 0; i < f->ntok; i++) {
        const ex_tok_t *t = &f->tok[i];
        if (t->kind != TK_WORD || (t->flags & (TF_STOP | TOKEN_NUMERIC))) continue;
        int32_t *v = ex_map_find(&d->seen, t->hash);
        if (!v) {
            if (d->nwords == WORDS_MAX) continue;
            if (d->nwords == d->capwords) {
                size_t c = d->capwords ? d->capwords * 2 : 128;
                ex_word_t *w = realloc(d->words, c * sizeof *w);
                if (!w) return -1;
                d->words = w;
                d->capwords = c;
            }
            if (!(v = ex_map_put(&d->seen, t->hash, (int32_t)d->nwords))) return -1;
            d->words[d->nwords++] = (ex_word_t){0, (uint32_t)i, (uint8_t)fi, 0};
        }
        ex_word_t *w = &d->words[*v];
        if (!(t->flags & TOKEN_SENT_START) && !f->titlecase)
            w->casing |= (t->flags & (TOKEN_CAPITALIZED | TOKEN_ALLCAPS | TF_MIXED)) ? 1 : 2;
        if (!(t->info & TERM_SKIP) && t->end - t->start >= 3 && t->end - t->start <= 32)
            w->score += fi == EX_FIELD_TITLE ? 2 : 1;
    }
    return 0;
}

int ex_casing(const ex_doc_t *d, uint64_t hash)
{
    const int32_t *v = ex_map_find(&d->seen, hash);
    return v ? d->words[*v].casing : 0;
}

/* ---- Output ------------------------------------------------------------- */

/* The object is written as text, in the form json_print gives it (json.h):
 * building a cJSON tree, printing it and freeing it cost about a tenth of
 * the consumer's instructions. Each member after the first is written with
 * the comma before it; keys are constants needing no escapes. */
static void out_key(buf_t *b, const char *key)
{
    buf_append(b, ",\"", 2);
    buf_puts(b, key);
    buf_append(b, "\":", 2);
}

static void out_string(buf_t *b, const char *key, const char *s)
{
    out_key(b, key);
    if (s) buf_json_string(b, s);
    else buf_append(b, "null", 4);
}

static void out_number(buf_t *b, const char *key, double v)
{
    out_key(b, key);
    json_print_number(b, v);
}

/* A count, amount or percent not stated (< 0) is null. */
static void out_optional(buf_t *b, const char *key, double v)
{
    if (v >= 0) out_number(b, key, v);
    else out_string(b, key, NULL);
}

/* Opens element i of an array: [ before the first, a comma before others. */
static void out_element(buf_t *b, size_t i) { buf_append(b, i ? "," : "[", 1); }

/* Closes an array of n elements. */
static void out_array_end(buf_t *b, size_t n) { buf_append(b, n ? "]" : "[]", n ? 1 : 2); }

static int cmp_entity(const void *a, const void *b, void *arg)
{
    const ex_entity_t *ent = arg;
    const ex_entity_t *x = &ent[*(const int32_t *)a], *y = &ent[*(const int32_t *)b];
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Entities, most mentioned first; their names also go to out->names. */
static int out_entities(const ex_doc_t *d, extraction_text_t *out)
{
    buf_t *b = &out->json;
    int32_t *idx = malloc((d->nent + 1) * sizeof *idx);
    if (!idx) return -1;
    size_t n = 0;
    for (size_t i = 0; i < d->nent; i++)
        if (d->ent[i].merged < 0) idx[n++] = (int32_t)i;
    qsort_r(idx, n, sizeof *idx, cmp_entity, d->ent);
    if (n > EX_MAX_ENTITIES) n = EX_MAX_ENTITIES;
    out_key(b, "entities");
    for (size_t i = 0; i < n; i++) {
        const ex_entity_t *e = &d->ent[idx[i]];
        out_element(b, i);
        buf_append(b, "{\"name\":", 8);
        buf_json_string(b, e->name);
        out_string(b, "type", ex_etype_names[e->type]);
        out_number(b, "count", e->count);
        buf_append(b, "}", 1);
        buf_append(&out->names, e->name, strlen(e->name) + 1);
    }
    out_array_end(b, n);
    out->n_names = n;
    free(idx);
    return 0;
}

/* Money, percentages and dates in order of appearance, each value once. */
static void out_spans(const ex_doc_t *d, buf_t *b, const char *key, int kind)
{
    const ex_span_t *seen[EX_MAX_AMOUNTS];
    size_t n = 0;
    out_key(b, key);
    for (int fi = 0; fi < 2; fi++) {
        const ex_field_t *f = &d->f[fi];
        for (size_t i = 0; i < f->nspan && n < EX_MAX_AMOUNTS; i++) {
            const ex_span_t *sp = &f->span[i];
            if (sp->kind != kind) continue;
            int dup = 0;
            for (size_t j = 0; j < n && !dup; j++)
                dup = kind == TK_DATE ? strcmp(seen[j]->date, sp->date) == 0
                                      : seen[j]->value == sp->value &&
                                            strcmp(seen[j]->currency, sp->currency) == 0;
            if (dup) continue;
            char text[128];
            size_t tl = ex_utf8_prefix(f->s + sp->start, sp->end - sp->start, sizeof text - 1);
            memcpy(text, f->s + sp->start, tl);
            text[tl] = '\0';
            out_element(b, n);
            seen[n++] = sp;
            buf_append(b, "{\"text\":", 8);
            buf_json_string(b, text);
            if (kind == TK_DATE) out_string(b, "value", sp->date);
            else out_number(b, "value", sp->value);
            if (kind == TK_MONEY) out_string(b, "currency", sp->currency);
            buf_append(b, "}", 1);
        }
    }
    out_array_end(b, n);
}

static void out_facts(const ex_doc_t *d, buf_t *b)
{
    out_key(b, "facts");
    for (size_t i = 0; i < d->nfact; i++) {
        const ex_fact_t *f = &d->fact[i];
        const char *subj = f->subject >= 0 ? d->ent[f->subject].name : f->subject_text;
        const char *obj = f->object >= 0 ? d->ent[ex_entity_root(d, f->object)].name
                          : f->object_text[0] ? f->object_text
                                              : NULL;
        out_element(b, i);
        buf_append(b, "{\"subject\":", 11);
        buf_json_string(b, subj);
        out_string(b, "predicate", f->predicate);
        out_string(b, "object", obj);
        out_optional(b, "amount", f->amount);
        out_string(b, "currency", f->amount >= 0 ? f->currency : NULL);
        if (!strcmp(f->predicate, "layoffs")) {
            out_optional(b, "count", f->count);
            out_optional(b, "percent", f->percent);
        }
        buf_append(b, "}", 1);
    }
    out_array_end(b, d->nfact);
}

/* The most frequent content words (title words count double), for search
 * and clustering. A selection of the top few: no sort needed. */
static void out_key_terms(ex_doc_t *d, buf_t *b)
{
    size_t n = 0;
    out_key(b, "key_terms");
    for (; n < EX_MAX_KEY_TERMS; n++) {
        ex_word_t *best = NULL;
        for (size_t i = 0; i < d->nwords; i++)
            if (d->words[i].score >= 2 && (!best || d->words[i].score > best->score))
                best = &d->words[i];
        if (!best) break;
        const ex_tok_t *t = &d->f[best->field].tok[best->tok];
        char norm[EX_WORD_MAX * 2 + 1];
        text_normalize(d->f[best->field].s + t->start, t->end - t->start, norm, sizeof norm);
        best->score = 0;
        out_element(b, n);
        buf_json_string(b, norm);
    }
    out_array_end(b, n);
}

/* The tags (the taxonomy's, then a repository event's), and that event's
 * repo section: ex_repo works on small cJSON values, printed here. */
static int out_tags_repo(ex_doc_t *d, const extract_input_t *in, buf_t *b)
{
    cJSON *tags = cJSON_CreateArray(), *holder = cJSON_CreateObject();
    int ok = tags && holder;
    /* References: the tree is printed before the extractor can go. */
    for (size_t i = 0; ok && i < d->x->tax.ntags; i++)
        if (ex_tag_on(d, i)) {
            cJSON *v = cJSON_CreateStringReference(d->x->tax.tags[i]);
            ok = v && cJSON_AddItemToArray(tags, v);
            if (!ok) cJSON_Delete(v);
        }
    /* The repo section adds tags and a fact, so it comes before facts. */
    ok = ok && (in->kind != 1 || ex_repo(d, in->repo, holder, tags) == 0);
    if (ok) {
        out_key(b, "tags");
        json_print(b, tags);
        const cJSON *repo = cJSON_GetObjectItemCaseSensitive(holder, "repo");
        if (repo) {
            out_key(b, "repo");
            json_print(b, repo);
        }
    }
    cJSON_Delete(tags);
    cJSON_Delete(holder);
    return ok ? 0 : -1;
}

static int write_output(ex_doc_t *d, const extract_input_t *in, extraction_text_t *out)
{
    buf_t *b = &out->json;
    buf_puts(b, "{\"extracted_by\":\"builtin\"");
    out_string(b, "extractor_version", EXTRACTOR_BUILTIN_VERSION);
    if (out_entities(d, out) != 0) return -1;
    out_spans(d, b, "money", TK_MONEY);
    out_spans(d, b, "percentages", TK_PERCENT);
    out_spans(d, b, "dates", TK_DATE);
    if (out_tags_repo(d, in, b) != 0) return -1;
    out_facts(d, b);
    out_key_terms(d, b);
    buf_append(b, "}", 1);
    return b->failed || out->names.failed || !buf_cstr(b) ? -1 : 0;
}

/* ---- Run ---------------------------------------------------------------- */

static void doc_free(ex_doc_t *d)
{
    for (int i = 0; i < 2; i++) {
        free(d->f[i].tok);
        free(d->f[i].span);
    }
    free(d->ent);
    free(d->men);
    free(d->tag_score);
    free(d->words);
    ex_map_free(&d->ent_index);
    ex_map_free(&d->seen);
}

cJSON *extractor_run(const extractor_t *x, const extract_input_t *in, char *err, size_t errlen)
{
    return extractor_run_words(x, in, NULL, err, errlen);
}

cJSON *extractor_run_words(const extractor_t *x, const extract_input_t *in, text_words_t words[2], char *err,
                           size_t errlen)
{
    extraction_text_t t = {0};
    cJSON *o = NULL;
    if (extractor_run_text(x, in, words, &t, err, errlen) == 0 &&
        !(o = cJSON_ParseWithLength(t.json.data, t.json.len)))
        snprintf(err, errlen, "extractor: out of memory");
    extraction_text_free(&t);
    return o;
}

int extractor_run_text(const extractor_t *x, const extract_input_t *in, text_words_t words[2],
                       extraction_text_t *out, char *err, size_t errlen)
{
    ex_doc_t d;
    memset(&d, 0, sizeof d);
    d.x = x;
    d.lang = in->lang;
    const char *title = in->title ? in->title : "", *text = in->text ? in->text : "";
    d.f[EX_FIELD_TITLE].s = title;
    d.f[EX_FIELD_TITLE].len = strnlen(title, EXTRACT_TITLE_SCAN);
    d.f[EX_FIELD_TEXT].s = text;
    d.f[EX_FIELD_TEXT].len = strnlen(text, EXTRACT_TEXT_SCAN);
    for (int i = 0; words && i < 2; i++) text_words_reset(&words[i], d.f[i].s);
    buf_reset(&out->json);
    buf_reset(&out->names);
    out->n_names = 0;

    int rc = -1;
    size_t words_guess = (d.f[0].len + d.f[1].len) / 24 + 16; /* distinct words; the map grows */
    const char *stop = text_stopword(in->lang, 0);
    int stop_mode = !stop ? STOP_NONE : stop == text_stopword("en", 0) ? STOP_CACHED : STOP_CALL;
    d.tag_score = calloc(x->tax.ntags, sizeof *d.tag_score);
    if (d.tag_score && ex_map_init(&d.ent_index, 64) == 0 &&
        ex_map_init(&d.seen, words_guess < WORDS_MAX ? words_guess : WORDS_MAX) == 0 &&
        build_field(&d, &d.f[EX_FIELD_TITLE], stop_mode, words ? &words[EX_FIELD_TITLE] : NULL) == 0 &&
        build_field(&d, &d.f[EX_FIELD_TEXT], stop_mode, words ? &words[EX_FIELD_TEXT] : NULL) == 0) {
        detect_titlecase(&d.f[EX_FIELD_TITLE]);
        if (collect_words(&d, EX_FIELD_TITLE) == 0 && collect_words(&d, EX_FIELD_TEXT) == 0 &&
            ex_entities(&d) == 0) {
            ex_facts(&d);
            ex_tags(&d, in->tags);
            rc = write_output(&d, in, out);
        }
    }
    /* A field cut at its scan limit: clustering reads past it. */
    for (int i = 0; words && i < 2; i++)
        if (d.f[i].s[d.f[i].len]) text_words_cut(&words[i]);
    doc_free(&d);
    if (rc != 0) snprintf(err, errlen, "extractor: out of memory");
    return rc;
}

void extraction_text_free(extraction_text_t *t)
{
    buf_free(&t->json);
    buf_free(&t->names);
}

size_t extraction_entity_names(const cJSON *x, const char **names, size_t max)
{
    size_t n = 0;
    const cJSON *ents = cJSON_GetObjectItemCaseSensitive(x, "entities");
    for (const cJSON *e = ents ? ents->child : NULL; e && n < max; e = e->next) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
        if (cJSON_IsString(name)) names[n++] = name->valuestring;
    }
    return n;
}

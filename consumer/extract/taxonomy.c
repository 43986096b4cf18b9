/* taxonomy: domain tags from phrase matches.
 *
 * Phrases are stored as sequences of word hashes and indexed by their first
 * word, so matching a document costs one hash probe per token plus a compare
 * per phrase that starts with that word (not one scan per phrase). */
#include "extract_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "text.h"

#define TAX_FILE_MAX (4u << 20)
/* A tag needs a title match, a feed tag, two body mentions or one body match
 * of a multi-word phrase: one passing "AI" in a long article is not enough. */
#define TAG_THRESHOLD 2
#define TAX_PHRASE_TOKENS 8

static const char *const placeholders[] = {NULL, "<money>", "<percent>", "<number>", "<date>"};

uint64_t ex_placeholder_hash(int kind)
{
    return ex_hash(placeholders[kind], strlen(placeholders[kind]));
}

static char *read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "taxonomy %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(TAX_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, TAX_FILE_MAX + 1, f) : 0;
    int bad = !buf || ferror(f) || n > TAX_FILE_MAX;
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "taxonomy %s: %s", path,
                 !buf ? "out of memory" : n > TAX_FILE_MAX ? "file too large" : "read error");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static int valid_tag_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 32 || s[0] == '-') return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

/* Splits a phrase into word hashes: placeholders by name, other pieces
 * through the shared tokenizer. Returns the count, 0 for an empty phrase,
 * -1 when it has too many words. */
static int phrase_hashes(const char *phrase, uint64_t out[TAX_PHRASE_TOKENS])
{
    int n = 0;
    const char *p = phrase;
    while (*p) {
        size_t len = strcspn(p, " ");
        int kind = 0;
        for (int k = TK_MONEY; k <= TK_DATE; k++)
            if (strlen(placeholders[k]) == len && memcmp(p, placeholders[k], len) == 0) kind = k;
        if (kind) {
            if (n == TAX_PHRASE_TOKENS) return -1;
            out[n++] = ex_placeholder_hash(kind);
        } else {
            text_iter_t it;
            text_token_t t;
            text_iter_init(&it, p, len);
            while (text_iter_next(&it, &t)) {
                if (n == TAX_PHRASE_TOKENS) return -1;
                out[n++] = ex_word_hash(t.start, t.len);
            }
        }
        p += len;
        while (*p == ' ') p++;
    }
    return n;
}

static int add_phrase(ex_taxonomy_t *t, const uint64_t *h, int n, size_t tag, size_t *cap_p,
                      size_t *cap_h)
{
    if (t->nphrases == *cap_p) {
        size_t c = *cap_p ? *cap_p * 2 : 256;
        ex_phrase_t *np = realloc(t->phrases, c * sizeof *np);
        if (!np) return -1;
        t->phrases = np;
        *cap_p = c;
    }
    if (t->nhashes + (size_t)n > *cap_h) {
        size_t c = *cap_h ? *cap_h * 2 : 1024;
        while (c < t->nhashes + (size_t)n) c *= 2;
        uint64_t *nh = realloc(t->hashes, c * sizeof *nh);
        if (!nh) return -1;
        t->hashes = nh;
        *cap_h = c;
    }
    ex_phrase_t *ph = &t->phrases[t->nphrases];
    ph->first = (uint32_t)t->nhashes;
    ph->ntok = (uint16_t)n;
    ph->tag = (uint16_t)tag;
    memcpy(t->hashes + t->nhashes, h, (size_t)n * sizeof *h);
    t->nhashes += (size_t)n;

    int32_t *head = ex_map_put(&t->index, h[0], -1);
    if (!head) return -1;
    /* Append at the chain's end so matches report in file order. */
    ph->next = -1;
    if (*head < 0) {
        *head = (int32_t)t->nphrases;
    } else {
        int32_t i = *head;
        while (t->phrases[i].next >= 0) i = t->phrases[i].next;
        t->phrases[i].next = (int32_t)t->nphrases;
    }
    t->nphrases++;
    return 0;
}

int ex_taxonomy_load(ex_taxonomy_t *t, const char *path, ex_map_t *words, const ex_map_t *names,
                     char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    char *buf = path ? read_file(path, err, errlen) : strdup(embedded_taxonomy_json);
    if (!path) path = "(built in)";
    if (!buf) return -1;
    cJSON *root = cJSON_Parse(buf);
    free(buf);
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(root, "tags");
    if (!cJSON_IsObject(tags)) {
        snprintf(err, errlen, "taxonomy %s: %s", path,
                 root ? "want {\"tags\": {\"name\": [\"phrase\", ...]}}" : "invalid JSON");
        cJSON_Delete(root);
        return -1;
    }
    size_t ntags = (size_t)cJSON_GetArraySize(tags), cap_p = 0, cap_h = 0;
    if (ntags == 0 || ntags > EXTRACTION_MAX_TAGS) {
        snprintf(err, errlen, "taxonomy %s: want 1 to %d tags", path, EXTRACTION_MAX_TAGS);
        cJSON_Delete(root);
        return -1;
    }
    t->tags = calloc(ntags, sizeof *t->tags);
    if (!t->tags || ex_map_init(&t->index, 1024) < 0) goto oom;

    const cJSON *tag;
    cJSON_ArrayForEach(tag, tags)
    {
        if (!valid_tag_name(tag->string) || !cJSON_IsArray(tag)) {
            snprintf(err, errlen, "taxonomy %s: tag \"%.40s\": want a name [a-z0-9-]{1,32} "
                     "and an array of phrases", path, tag->string);
            goto fail;
        }
        for (size_t i = 0; i < t->ntags; i++)
            if (strcmp(t->tags[i], tag->string) == 0) {
                snprintf(err, errlen, "taxonomy %s: duplicate tag \"%s\"", path, tag->string);
                goto fail;
            }
        if (!(t->tags[t->ntags] = strdup(tag->string))) goto oom;
        t->ntags++;

        const cJSON *ph;
        cJSON_ArrayForEach(ph, tag)
        {
            uint64_t h[TAX_PHRASE_TOKENS];
            int n = cJSON_IsString(ph) ? phrase_hashes(ph->valuestring, h) : -1;
            if (n <= 0) {
                snprintf(err, errlen, "taxonomy %s: tag \"%s\": bad phrase (want a string of "
                         "1 to %d words)", path, tag->string, TAX_PHRASE_TOKENS);
                goto fail;
            }
            if (add_phrase(t, h, n, t->ntags - 1, &cap_p, &cap_h) < 0) goto oom;
            /* One-word phrases are ordinary words, not names ("Launches"). */
            if (n == 1 && !ex_map_find(names, ex_key_add(EX_KEY_SEED, h[0]))) {
                int32_t *v = ex_map_put(words, h[0], 0);
                if (!v) goto oom;
                *v |= W_LEX;
            }
        }
    }
    cJSON_Delete(root);
    return 0;
oom:
    snprintf(err, errlen, "taxonomy: out of memory");
fail:
    cJSON_Delete(root);
    ex_taxonomy_free(t);
    return -1;
}

void ex_taxonomy_free(ex_taxonomy_t *t)
{
    for (size_t i = 0; t->tags && i < t->ntags; i++) free(t->tags[i]);
    free(t->tags);
    free(t->phrases);
    free(t->hashes);
    ex_map_free(&t->index);
    memset(t, 0, sizeof *t);
}

/* Adds weight to every tag with a phrase starting at each token. */
static void match_tokens(const ex_taxonomy_t *t, const ex_tok_t *tok, size_t ntok,
                         unsigned *score, unsigned w_single, unsigned w_multi)
{
    for (size_t i = 0; i < ntok; i++) {
        const int32_t *head = ex_map_find(&t->index, tok[i].hash);
        for (int32_t p = head ? *head : -1; p >= 0; p = t->phrases[p].next) {
            const ex_phrase_t *ph = &t->phrases[p];
            if (i + ph->ntok > ntok) continue;
            size_t k = 1;
            while (k < ph->ntok && tok[i + k].hash == t->hashes[ph->first + k]) k++;
            if (k == ph->ntok) score[ph->tag] += ph->ntok > 1 ? w_multi : w_single;
        }
    }
}


/* The tag each fact predicate implies ("ChatGPT down" is an outage even
 * though "down" alone is too vague to be a phrase). */
static const char *const fact_tags[][2] = {{"raised", "funding"},   {"acquired", "acquisition"},
                                           {"released", "release"}, {"outage", "outage"},
                                           {"layoffs", "layoffs"}};

void ex_tags(ex_doc_t *d, const cJSON *feed_tags)
{
    const ex_taxonomy_t *t = &d->x->tax;
    match_tokens(t, d->f[EX_FIELD_TITLE].tok, d->f[EX_FIELD_TITLE].ntok, d->tag_score, 2, 2);
    match_tokens(t, d->f[EX_FIELD_TEXT].tok, d->f[EX_FIELD_TEXT].ntok, d->tag_score, 1, 2);
    for (size_t k = 0; k < sizeof fact_tags / sizeof fact_tags[0] && d->nfact; k++) {
        size_t g = 0;
        while (g < t->ntags && strcmp(t->tags[g], fact_tags[k][1]) != 0) g++;
        for (size_t i = 0; i < d->nfact && g < t->ntags; i++)
            if (strcmp(d->fact[i].predicate, fact_tags[k][0]) == 0) d->tag_score[g] += TAG_THRESHOLD;
    }

    /* Feed tags count as much as the title. */
    const cJSON *ft;
    int seen = 0;
    cJSON_ArrayForEach(ft, feed_tags)
    {
        if (cJSON_IsString(ft) && ++seen <= 32)
            ex_tags_text(d, ft->valuestring, strnlen(ft->valuestring, 128), 2);
    }
}

void ex_tags_text(ex_doc_t *d, const char *s, size_t len, unsigned weight)
{
    const ex_taxonomy_t *t = &d->x->tax;
    ex_tok_t tok[16];
    size_t n = 0;
    text_iter_t it;
    text_token_t tt;
    text_iter_init(&it, s, len);
    while (n < 16 && text_iter_next(&it, &tt)) tok[n++].hash = ex_word_hash(tt.start, tt.len);
    match_tokens(t, tok, n, d->tag_score, weight, weight);
    /* A label that is a tag's own name counts too ("Security"). */
    char norm[64];
    text_normalize(s, len, norm, sizeof norm);
    for (size_t i = 0; i < t->ntags; i++)
        if (strcmp(norm, t->tags[i]) == 0) d->tag_score[i] += weight;
}

int ex_tag_on(const ex_doc_t *d, size_t i) { return d->tag_score[i] >= TAG_THRESHOLD; }

/* map: word hashing and an open-addressing hash map for the extractor. */
#include "extract_int.h"

#include <stdlib.h>

#include "text.h"

uint64_t ex_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h ? h : 1; /* 0 marks an empty map slot */
}

uint64_t ex_key_add(uint64_t key, uint64_t h)
{
    key = (key ^ h) * 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return key ? key : 1;
}

uint64_t ex_word_hash(const char *s, size_t n)
{
    char buf[EX_WORD_MAX * 2 + 1];
    size_t l = text_normalize(s, n, buf, sizeof buf);
    return ex_hash(buf, l);
}

/* Slot of key: its own or the empty one where it would go. cap is a power of
 * two and the table is at most half full, so the probe ends. */
static size_t slot_of(const ex_map_t *m, uint64_t key)
{
    size_t mask = m->cap - 1, i = (size_t)(key ^ (key >> 29)) & mask;
    while (m->keys[i] && m->keys[i] != key) i = (i + 1) & mask;
    return i;
}

int ex_map_init(ex_map_t *m, size_t expected)
{
    size_t cap = 16;
    while (cap < expected * 2) cap *= 2;
    m->keys = calloc(cap, sizeof *m->keys);
    m->vals = malloc(cap * sizeof *m->vals);
    m->cap = cap;
    m->n = 0;
    if (!m->keys || !m->vals) {
        ex_map_free(m);
        return -1;
    }
    return 0;
}

void ex_map_free(ex_map_t *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->n = 0;
}

int32_t *ex_map_find(const ex_map_t *m, uint64_t key)
{
    if (!m->cap) return NULL;
    size_t i = slot_of(m, key);
    return m->keys[i] ? &m->vals[i] : NULL;
}

static int grow(ex_map_t *m)
{
    ex_map_t g;
    if (ex_map_init(&g, m->cap) < 0) return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = slot_of(&g, m->keys[i]);
        g.keys[j] = m->keys[i];
        g.vals[j] = m->vals[i];
    }
    /* Field by field, n unchanged: clang's analyzer reads `*m = g` here
     * as a later use of the freed arrays. */
    free(m->keys);
    free(m->vals);
    m->keys = g.keys;
    m->vals = g.vals;
    m->cap = g.cap;
    return 0;
}

int32_t *ex_map_put(ex_map_t *m, uint64_t key, int32_t init)
{
    if ((m->n + 1) * 2 > m->cap && grow(m) < 0) return NULL;
    size_t i = slot_of(m, key);
    if (!m->keys[i]) {
        m->keys[i] = key;
        m->vals[i] = init;
        m->n++;
    }
    return &m->vals[i];
}

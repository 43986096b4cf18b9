/* text: UTF-8 word tokenisation, normalisation and stopwords, shared by
 * extraction and clustering (one tokenizer, so both see the same words).
 *
 * Nothing here allocates but text_words_t; tokens point into the caller's
 * text. */
#ifndef SHOAL_TEXT_H
#define SHOAL_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum {
    TOKEN_CAPITALIZED = 1 << 0, /* first letter upper case ("Anthropic") */
    TOKEN_ALLCAPS     = 1 << 1, /* every letter upper case, >= 2 letters ("AI", "USD") */
    TOKEN_NUMERIC     = 1 << 2, /* starts with a digit ("6.6", "2024", "600m") */
    TOKEN_SENT_START  = 1 << 3  /* first token of a sentence */
};

typedef struct {
    const char *start; /* into the text given to text_iter_init */
    size_t len;        /* bytes */
    int flags;
} text_token_t;

typedef struct {
    const char *p, *end;
    int sentence_start;
} text_iter_t;

/* Tokens are runs of letters/digits (any script, decoded from UTF-8), with
 * inner apostrophes, hyphens and decimal points kept ("don't", "state-backed",
 * "6.6"). Invalid UTF-8 bytes are treated as separators, never read past end. */
void text_iter_init(text_iter_t *it, const char *s, size_t len);
int text_iter_next(text_iter_t *it, text_token_t *tok); /* 1 = token, 0 = end */

/* Lower-case fold (ASCII, Latin-1 supplement, Latin Extended-A, Greek and
 * Cyrillic basics) with a possessive "'s" stripped. Writes a NUL-terminated
 * string of at most outlen-1 bytes and returns its length. */
size_t text_normalize(const char *s, size_t len, char *out, size_t outlen);

/* Is a normalised word a stopword in lang ("en"; NULL means "en").
 * Unknown languages have no stopwords. */
int text_is_stopword(const char *norm, size_t len, const char *lang);

/* The i-th stopword of lang (from 0), NULL past the end or for a language
 * without a list; for callers that fold stopwords into their own tables.
 * Languages sharing a list return the same pointers, so comparing
 * text_stopword(a, 0) with text_stopword(b, 0) tells whether a and b do. */
const char *text_stopword(const char *lang, size_t i);

/* ---- One tokenizer pass for two readers --------------------------------
 * The extractor tokenises and normalises a field anyway; it records the
 * first `max` tokens here, and clustering reads them instead of going over
 * the text again (that second pass was a tenth of the consumer's
 * instructions). The owner sets max, reuses the struct from document to
 * document, and frees it with text_words_free(). */
typedef struct {
    text_token_t tok;
    uint32_t norm;    /* offset of its text_normalize() form in norms, NUL-terminated */
    uint16_t nlen;    /* that form's length */
    uint8_t stop;     /* a stopword of the document's language */
} text_word_t;

typedef struct {
    size_t max;       /* tokens to record, set by the owner */
    const char *text; /* the field the tokens are from */
    int complete;     /* 1: the first min(max, all) tokens of the whole text */
    text_word_t *w;
    size_t n, cap;
    buf_t norms;
} text_words_t;

/* Starts recording the tokens of text; complete unless cut (below) or out
 * of memory. */
void text_words_reset(text_words_t *ws, const char *text);
/* Records a token and its normalised form (norm, nlen) when fewer than max
 * are recorded; out of memory leaves the list incomplete. */
void text_words_push(text_words_t *ws, const text_token_t *tok, const char *norm, size_t nlen, int stop);
/* The reader tokenised less than the whole text (a scan limit): the list
 * does not stand for it, even with max tokens (the last one may be cut, or
 * joined differently, at the limit). */
void text_words_cut(text_words_t *ws);
void text_words_free(text_words_t *ws);

#endif

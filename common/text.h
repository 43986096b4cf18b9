/* text: UTF-8 word tokenisation, normalisation and stopwords, shared by
 * extraction and clustering (one tokenizer, so both see the same words).
 *
 * Nothing here allocates; tokens point into the caller's text. */
#ifndef SHOAL_TEXT_H
#define SHOAL_TEXT_H

#include <stddef.h>

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

#endif

/* extract: the built-in extractor (rules, no network). Turns an article or a
 * repository event into entities, amounts, dates, domain tags and simple
 * facts, as one JSON object described by schema/extraction.schema.json:
 *
 *   {"extracted_by":"builtin", "extractor_version":"builtin-1",
 *    "entities":[{"name","type","count"}], "money":[{"text","value","currency"}],
 *    "percentages":[{"text","value"}], "dates":[{"text","value"}],
 *    "tags":["ai",...], "facts":[{"subject","predicate","object","amount",
 *    "currency"[,"count","percent"]}], "repo":{...} (repo events only),
 *    "key_terms":[...]}
 *
 * Fact predicates: raised (object = lead investor when stated), acquired
 * (object = the company bought), released (object = the product or version),
 * outage, layoffs (count of jobs or percent of staff when stated).
 *
 * Ownership: extractor_new() loads the taxonomy and gazetteer once; the
 * extractor is then read-only, so one may be shared by many threads calling
 * extractor_run() at once. Every cJSON returned is owned by the caller.
 *
 * Hostile input: only the first EXTRACT_TITLE_SCAN bytes of the title and
 * EXTRACT_TEXT_SCAN bytes of the text are analysed, every output list is
 * capped, and all passes are linear in the analysed input. */
#ifndef SHOAL_EXTRACT_H
#define SHOAL_EXTRACT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "text.h"

#define EXTRACTOR_BUILTIN_VERSION "builtin-1"

#define EXTRACT_TITLE_SCAN (4u * 1024)
#define EXTRACT_TEXT_SCAN (256u * 1024)

/* Bounds enforced by extraction_validate (the built-in stays well inside). */
#define EXTRACTION_MAX_ENTITIES 200
#define EXTRACTION_MAX_ITEMS 100   /* money, percentages, dates, facts, key_terms, topics */
#define EXTRACTION_MAX_TAGS 64
#define EXTRACTION_MAX_STRING 512  /* bytes, any string */
#define EXTRACTION_MAX_AMOUNT 1e18 /* money values and fact amounts, >= 0 */
#define EXTRACTION_MAX_PERCENT 1e6 /* |percentage| */

typedef struct extractor extractor_t;

typedef struct {
    int kind;                  /* 0 = article, 1 = repo event (event_kind_t values) */
    const char *title, *text;  /* UTF-8, NUL-terminated, may be "" or NULL */
    const char *source;        /* may be NULL; not used by the rules yet */
    const char *lang;          /* NULL means "en" */
    const cJSON *repo;         /* borrowed; GitHub-style event object, may be NULL */
    const cJSON *tags;         /* borrowed array of strings (feed tags), may be NULL */
} extract_input_t;

/* Loads the taxonomy (JSON: {"tags": {"name": ["phrase", ...], ...}}; NULL
 * means the copy of schema/taxonomy.json built into the binary) and the
 * optional gazetteer (NULL, or a file of "Name<TAB>type" lines, type one of
 * org|person|product|place|other; '#' starts a comment line). Returns NULL
 * and a one-line reason in err on failure. */
extractor_t *extractor_new(const char *taxonomy_path, const char *gazetteer_path, char *err,
                           size_t errlen);
void extractor_destroy(extractor_t *x);

/* The taxonomy's tag names, in file order; NULL when i is past the end
 * (e.g. to tell an LLM which tags it may use). */
const char *extractor_tag(const extractor_t *x, size_t i);

/* Thread-safe on a shared extractor. Returns a new object the caller frees
 * with cJSON_Delete, or NULL with err set (out of memory, bad input). */
cJSON *extractor_run(const extractor_t *x, const extract_input_t *in, char *err, size_t errlen);

/* extractor_run, also recording the title's tokens in words[0] and the
 * text's in words[1] (text.h), for clustering to read instead of
 * tokenising the fields again. The caller owns words and sets their max. */
cJSON *extractor_run_words(const extractor_t *x, const extract_input_t *in, text_words_t words[2], char *err,
                           size_t errlen);

/* An extraction as text: what the consumer stores and clusters with. */
typedef struct {
    buf_t json;     /* the object, as json_print prints it (json.h), NUL-terminated */
    buf_t names;    /* its entity names in order, each NUL-terminated */
    size_t n_names;
} extraction_text_t;

/* extractor_run_words, writing the object as text into out without
 * building a cJSON tree (extractor_run_words parses this text). out's
 * buffers are reset first and kept for the next call; the caller frees them
 * with extraction_text_free. 0, or -1 with err (out of memory). */
int extractor_run_text(const extractor_t *x, const extract_input_t *in, text_words_t words[2],
                       extraction_text_t *out, char *err, size_t errlen);
void extraction_text_free(extraction_text_t *t);

/* The entity names of an extraction object (any extractor's), at most max,
 * borrowed from x: what the cluster engine gets as an event's entities. */
size_t extraction_entity_names(const cJSON *x, const char **names, size_t max);

/* Checks an extraction object (e.g. one an LLM returned) against the rules of
 * schema/extraction.schema.json: types, required keys, no unknown keys,
 * bounds, valid UTF-8. Returns 0, or -1 with the first problem in err. */
int extraction_validate(const cJSON *x, char *err, size_t errlen);

/* ---- Low-level parsers, exposed for tests and fuzzing. ----------------
 * Each looks at most len bytes of s (no NUL needed) and matches only at s:
 * the caller checks what precedes. On a match it returns 1 and sets
 * *consumed to the bytes matched; else it returns 0 and leaves out alone. */

typedef struct {
    double value;     /* 0 to EXTRACTION_MAX_AMOUNT */
    char currency[4]; /* ISO 4217, e.g. "USD" */
} money_t;

/* "$6.6B", "$600 million", "€2bn", "£3.5 million", "USD 4 billion",
 * "4bn dollars", "US$1.5bn", "¥500m", "$5-million". A bare number is not
 * money: a currency sign, code or word is required. */
int money_parse(const char *s, size_t len, money_t *out, size_t *consumed);

/* "12%", "12.5 %", "40 percent", "3 per cent", "7 pct"; at most
 * EXTRACTION_MAX_PERCENT. */
int percent_parse(const char *s, size_t len, double *out, size_t *consumed);

/* "2024-10-02", "October 2, 2024", "Oct. 2 2024", "2 Oct 2024",
 * "2nd October 2024" -> "2024-10-02"; "Oct. 2024", "October 2024" ->
 * "2024-10". Years 1900-2100; days checked against the month. */
int date_parse(const char *s, size_t len, char out[11], size_t *consumed);

#endif

/* extract_int: internals shared by the extractor's files (not a public API).
 *
 * One run works on a doc: for each field (title, text) the raw bytes are
 * scanned for amounts, dates and numbers ("spans"), then tokenised with
 * common/text.h; the tokens inside a span collapse into one token of the
 * span's kind. Every later pass (tags, entities, facts) walks that token
 * array, looking words up by a 64-bit hash of their normalised form. */
#ifndef SHOAL_EXTRACT_INT_H
#define SHOAL_EXTRACT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "extract.h"
#include "text.h"

/* Output caps (well inside the extraction_validate bounds). */
#define EX_MAX_ENTITIES 50
#define EX_MAX_CANDIDATES 1024 /* distinct entity names tracked per doc */
#define EX_MAX_AMOUNTS 32      /* money, percentages, dates, each */
#define EX_MAX_FACTS 16
#define EX_MAX_KEY_TERMS 10
#define EX_MAX_REPO_TOPICS 20
#define EX_MAX_RUN 6    /* tokens in one entity name */
#define EX_NAME_MAX 160 /* bytes in one entity name */
#define EX_WORD_MAX 64  /* longer tokens are never names or phrase words */

/* ---- Hashing and a small hash map ------------------------------------- */

uint64_t ex_hash(const char *s, size_t n);      /* FNV-1a, never 0 */
/* Key of a multi-word name: ex_key_add(...ex_key_add(EX_KEY_SEED, h1)..., hn)
 * over its words' ex_word_hash; built-in names, the gazetteer and runs of
 * capitalised words in text all meet on it. */
uint64_t ex_key_add(uint64_t key, uint64_t h);
#define EX_KEY_SEED 0x9E3779B97F4A7C15ull

/* Open addressing, 64-bit keys (0 = empty), int32 values, no deletion. */
typedef struct {
    uint64_t *keys;
    int32_t *vals;
    size_t cap, n;
} ex_map_t;

int ex_map_init(ex_map_t *m, size_t expected); /* 0 or -1 (no memory) */
void ex_map_free(ex_map_t *m);
int32_t *ex_map_find(const ex_map_t *m, uint64_t key);      /* NULL if absent */
int32_t *ex_map_put(ex_map_t *m, uint64_t key, int32_t init); /* existing or new slot; NULL = OOM */

/* Hash of a token's normalised form (text_normalize, capped at EX_WORD_MAX). */
uint64_t ex_word_hash(const char *s, size_t n);

/* ---- Numbers (money.c) ------------------------------------------------- */

typedef struct {
    int64_t mant; /* all digits, without separators */
    int frac;     /* digits after the decimal point */
} ex_number_t;

/* Digits with optional thousands groups ("1,000,000") and decimals, at most
 * 15 digits, not followed by another digit or ".digit" (a version). Returns
 * the bytes used, 0 if no number. */
size_t ex_number_parse(const char *s, size_t len, ex_number_t *out);
/* The number times 10^exp10, exact for the scales used (66 * 10^8, not 6.6 * 1e9). */
double ex_number_value(const ex_number_t *n, int exp10);

/* ---- Word classes (lexicon.c) ------------------------------------------ */

enum {
    W_LEX = 1 << 0,      /* a common word: never a name on its own at a sentence start */
    W_TITLE = 1 << 1,    /* person title: "CEO", "President", "Dr" */
    W_SUFFIX = 1 << 2,   /* organisation suffix: "Inc", "Labs", "AI" */
    W_NONENT = 1 << 3,   /* never an entity alone: demonyms, "AI", "CEO" */
    W_CALENDAR = 1 << 4, /* month and weekday names */
    W_CONNECT = 1 << 5,  /* inside names: "of", "de", "von" */
    W_FIRST = 1 << 6,    /* common first name */
    W_SAID = 1 << 7,     /* "said", "told": a person usually precedes */
    W_FILLER = 1 << 8,   /* may sit between a verb and its amount: "a", "fresh" */
    W_FROM = 1 << 9,     /* "from": introduces an investor */
    W_JOBS = 1 << 10,    /* "jobs", "staff", "workforce" */
    W_BE = 1 << 11,      /* "is", "was", "goes": before "down" */
    W_MARKET = 1 << 12,  /* "shares", "stock": "down" is a price move */
    W_AT = 1 << 13,      /* "at", "hits": "outage at X", "layoffs at X" */
    W_OF = 1 << 14,
    W_OFF = 1 << 15,
    W_BY = 1 << 16,
    W_STOP = 1 << 17,    /* English stopword (text.h), cached to skip a search per token */
    W_NAME1 = 1 << 18,   /* first word of a listed multi-word name ("New" York) */
    W_PREP = 1 << 19,    /* preposition: ends the search for a verb's object */
    /* Verb classes for facts. */
    V_FUND = 1 << 20,    /* raises, secures, closes */
    V_ACQ = 1 << 21,     /* acquires, buys */
    V_ACQ_N = 1 << 22,   /* acquisition (noun) */
    V_REL = 1 << 23,     /* releases, launches, unveils */
    V_OUTAGE = 1 << 24,  /* outage (noun) */
    V_DOWN = 1 << 25,    /* "down" */
    V_CUT = 1 << 26,     /* cuts, slashes, eliminates (jobs) */
    V_LAY = 1 << 27,     /* lays (off) */
    V_LAYOFFS = 1 << 28, /* layoffs (noun) */
    V_OUT = 1 << 29,     /* "rolls out": a release when after "rolls" */
    V_INVEST = 1 << 30   /* invests <money> in X: X raised */
};

#define EX_VERBS 0xFFF00000u /* every V_ bit */

/* Entity types, in output order of the "type" enum. */
typedef enum { ET_ORG = 0, ET_PERSON, ET_PRODUCT, ET_PLACE, ET_OTHER, ET_COUNT } ex_etype_t;
extern const char *const ex_etype_names[ET_COUNT];

/* Fills words (hash -> W_ and V_ bits) and names (name key -> type) with the
 * built-in lists. Names first, so a word that is also a known name is not
 * marked W_LEX. */
int ex_lexicon_load(ex_map_t *words, ex_map_t *names);
/* Adds one "Name<TAB>type" gazetteer file to names (overriding built-ins). */
int ex_gazetteer_load(ex_map_t *words, ex_map_t *names, const char *path, char *err,
                      size_t errlen);

/* ---- Taxonomy (taxonomy.c) --------------------------------------------- */

typedef struct {
    uint32_t first;  /* index of its first hash in tax->hashes */
    uint16_t ntok;
    uint16_t tag;
    int32_t next;    /* next phrase with the same first word, or -1 */
} ex_phrase_t;

typedef struct {
    char **tags;
    size_t ntags;
    ex_phrase_t *phrases;
    size_t nphrases;
    uint64_t *hashes;
    size_t nhashes;
    ex_map_t index;  /* first word hash -> first phrase */
} ex_taxonomy_t;

/* Placeholder word hashes: "<money>", "<percent>", "<number>", "<date>" in a
 * phrase match the token of that kind. */
uint64_t ex_placeholder_hash(int kind);

int ex_taxonomy_load(ex_taxonomy_t *t, const char *path, ex_map_t *words, const ex_map_t *names,
                     char *err, size_t errlen);
void ex_taxonomy_free(ex_taxonomy_t *t);

/* ---- The extractor and one run ------------------------------------------ */

struct extractor {
    ex_taxonomy_t tax;
    ex_map_t words;
    ex_map_t names;
    uint64_t placeholder[5]; /* ex_placeholder_hash by token kind */
};

enum { TK_WORD = 0, TK_MONEY, TK_PERCENT, TK_NUMBER, TK_DATE };

/* Extra token flags beside TOKEN_* from text.h. */
enum {
    TF_STOP = 1 << 4,  /* stopword */
    TF_POSS = 1 << 5,  /* ends in "'s" */
    TF_MIXED = 1 << 6, /* "iPhone", "eBay": lower then upper */
    TF_QUAL = 1 << 7   /* "Amazon-backed", "Paris-based": a capitalised modifier */
};

typedef struct {
    uint32_t start, end; /* bytes in the field */
    uint8_t kind;
    double value;
    char currency[4];
    char date[11];
} ex_span_t;

typedef struct {
    uint32_t start, end; /* surface bytes in the field */
    uint32_t sent;       /* sentence number */
    uint32_t info;       /* W_* / V_* bits of the word */
    int32_t span;        /* index into the field's spans, or -1 for a word */
    int32_t mention;     /* entity mention covering this token, or -1 */
    uint64_t hash;       /* word hash, or the span kind's placeholder hash */
    uint16_t flags;      /* TOKEN_* | TF_* */
    uint8_t kind;        /* TK_* */
} ex_tok_t;

typedef struct {
    const char *s;
    size_t len; /* analysed prefix */
    ex_tok_t *tok;
    size_t ntok;
    ex_span_t *span;
    size_t nspan;
    int titlecase; /* a Title Case Headline: capitals say little there */
} ex_field_t;

typedef struct {
    char name[EX_NAME_MAX + 1];
    uint64_t key, first_key, last_key; /* whole name, first word, last word */
    uint32_t count;
    uint32_t order;  /* first seen (title before text) */
    uint8_t type;
    uint8_t weak;    /* type was a guess: facts may refine it */
    uint8_t ntok;
    uint8_t suffixed; /* several words, the last an organisation suffix */
    int32_t merged;  /* index of the entity this one was folded into, or -1 */
} ex_entity_t;

typedef struct {
    uint8_t field;
    uint32_t first, last; /* token range */
    int32_t entity;
} ex_mention_t;

typedef struct {
    int32_t subject;    /* entity index */
    const char *predicate;
    int32_t object;     /* entity index or -1 */
    char object_text[EX_NAME_MAX + 1]; /* when the object is not an entity (a version) */
    double amount;      /* < 0: none */
    char currency[4];
    double count;       /* < 0: none */
    double percent;     /* < 0: none */
    char subject_text[EX_NAME_MAX + 1]; /* when the subject is not an entity (a repo) */
} ex_fact_t;

/* A distinct content word of the doc: casing evidence and key-term score. */
typedef struct {
    uint32_t score;  /* title 2, body 1 per occurrence */
    uint32_t tok;    /* first occurrence */
    uint8_t field;
    uint8_t casing;  /* 1 capitalised mid-sentence, 2 lower case */
} ex_word_t;

typedef struct {
    const extractor_t *x;
    const char *lang;
    ex_field_t f[2]; /* 0 title, 1 text */
    ex_entity_t *ent;
    size_t nent, capent;
    ex_map_t ent_index;  /* name key -> entity */
    ex_map_t seen;       /* word hash -> index into words */
    ex_word_t *words;
    size_t nwords, capwords;
    ex_mention_t *men;
    size_t nmen, capmen;
    ex_fact_t fact[EX_MAX_FACTS];
    size_t nfact;
    unsigned *tag_score; /* per taxonomy tag */
} ex_doc_t;

enum { EX_FIELD_TITLE = 0, EX_FIELD_TEXT = 1 };

int ex_entities(ex_doc_t *d);     /* 0 or -1 (no memory) */
void ex_facts(ex_doc_t *d);
void ex_tags(ex_doc_t *d, const cJSON *feed_tags);
int ex_tag_on(const ex_doc_t *d, size_t tag);
/* Matches a short label (feed tag, repo topic) with the given weight. */
void ex_tags_text(ex_doc_t *d, const char *s, size_t len, unsigned weight);
/* Adds "repo" to out and repo tags/facts to d; 0 or -1 (no memory). */
int ex_repo(ex_doc_t *d, const cJSON *repo, cJSON *out, cJSON *tags);

/* Casing bits seen for a word hash (ex_word_t.casing), 0 if never seen. */
int ex_casing(const ex_doc_t *d, uint64_t hash);

/* Canonical entity after merges. */
int32_t ex_entity_root(const ex_doc_t *d, int32_t e);

/* Valid UTF-8 without NUL (validate.c). */
int ex_utf8_valid(const char *s, size_t n);
/* Copies at most max bytes of s, cut at a character boundary. */
size_t ex_utf8_prefix(const char *s, size_t n, size_t max);

#endif

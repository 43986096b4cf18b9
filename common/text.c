/* text: the shared tokenizer (see text.h). Byte-level and table-driven for
 * ASCII, decoding UTF-8 only where needed; nothing allocates. */
#include "text.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- UTF-8 ------------------------------------------------------------ */

/* Decodes one code point at p (p < end). Returns its byte length, or 0 for an
 * invalid sequence (overlong, surrogate, > U+10FFFF, truncated), which callers
 * treat as a one-byte separator. */
static size_t utf8_decode(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
    unsigned c = p[0];
    size_t avail = (size_t)(end - p);
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        if (avail < 2 || (p[1] & 0xC0) != 0x80) return 0;
        *cp = ((uint32_t)(c & 0x1F) << 6) | (p[1] & 0x3F);
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && p[1] < 0xA0) return 0; /* overlong */
        if (c == 0xED && p[1] > 0x9F) return 0; /* surrogate */
        *cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90) return 0; /* overlong */
        if (c == 0xF4 && p[1] > 0x8F) return 0; /* > U+10FFFF */
        *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
              ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
        return 4;
    }
    return 0;
}

static size_t utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---- Character classes ------------------------------------------------ */

/* Is cp part of a word? There is no Unicode table here: every non-ASCII code
 * point counts as a letter except the blocks that hold punctuation, spaces,
 * symbols, currency signs, emoji and private use. That is right for the
 * scripts news arrives in and costs a few compares. */
static int is_word_cp(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z');
    if (cp < 0xC0) return cp == 0xAA || cp == 0xB5 || cp == 0xBA;
    if (cp == 0xD7 || cp == 0xF7) return 0;
    if (cp < 0x2000) {
        switch (cp) {
        case 0x037E: case 0x0387:                       /* Greek punctuation */
        case 0x0589: case 0x05BE: case 0x05C0: case 0x05C3:
        case 0x060C: case 0x061B: case 0x061F: case 0x06D4:
        case 0x0964: case 0x0965: case 0x0E3F: case 0x1680:
            return 0;
        default:
            return 1;
        }
    }
    if (cp < 0x2C00) return 0; /* punctuation, super/subscripts, currency, symbols, arrows, math, shapes */
    if (cp >= 0x2E00 && cp <= 0x2E7F) return 0;
    if (cp >= 0x3000 && cp <= 0x303F) return cp >= 0x3005 && cp <= 0x3007;
    if (cp >= 0xD800 && cp <= 0xF8FF) return 0; /* surrogates (never decoded), private use */
    if (cp >= 0xFE00 && cp <= 0xFE6F) return 0; /* variation selectors, CJK compatibility forms */
    if (cp == 0xFEFF) return 0;
    if (cp >= 0xFF00 && cp <= 0xFF65) /* fullwidth: keep digits and letters */
        return (cp >= 0xFF10 && cp <= 0xFF19) || (cp >= 0xFF21 && cp <= 0xFF3A) ||
               (cp >= 0xFF41 && cp <= 0xFF5A);
    if (cp >= 0xFFF0 && cp <= 0xFFFF) return 0;
    if (cp >= 0x1F000 && cp <= 0x1FAFF) return 0; /* emoji and pictographs */
    if (cp >= 0xE0000) return 0;                  /* tags, private use planes */
    return 1;
}

/* Lower-case mapping for the ranges text.h promises; identity elsewhere. */
static uint32_t fold_cp(uint32_t cp)
{
    if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    if (cp < 0x100) return (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) ? cp + 32 : cp;
    if (cp < 0x180) {
        if (cp == 0x130) return 'i';
        if (cp == 0x178) return 0xFF;
        if ((cp < 0x130 || (cp >= 0x132 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177)) &&
            !(cp & 1))
            return cp + 1;
        if (((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E)) && (cp & 1))
            return cp + 1;
        return cp;
    }
    if (cp >= 0x386 && cp <= 0x3AB) {
        if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) return cp + 32;
        if (cp == 0x386) return 0x3AC;
        if (cp >= 0x388 && cp <= 0x38A) return cp + 37;
        if (cp == 0x38C) return 0x3CC;
        if (cp == 0x38E || cp == 0x38F) return cp + 63;
        return cp;
    }
    if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 32;
    return cp;
}

/* Has a lower-case letter in the folded ranges (so "every letter upper" can
 * ignore caseless scripts). */
static int is_lower_cp(uint32_t cp)
{
    if (cp < 0x80) return cp >= 'a' && cp <= 'z';
    if (cp < 0x100) return cp >= 0xDF && cp != 0xF7;
    if (cp < 0x180) return fold_cp(cp) == cp;
    if (cp >= 0x3AC && cp <= 0x3CE) return 1;
    if (cp >= 0x430 && cp <= 0x45F) return 1;
    return 0;
}

static int is_upper_cp(uint32_t cp) { return fold_cp(cp) != cp; }

static int is_digit_byte(unsigned char c) { return c >= '0' && c <= '9'; }

/* ASCII fast path: most news text is ASCII, and a table lookup per byte is
 * what keeps tokenising at memory speed. */
enum { C_WORD = 1, C_UPPER = 2, C_LOWER = 4 };
#define C_U (C_WORD | C_UPPER)
#define C_L (C_WORD | C_LOWER)
/* 256 entries, the bytes from 0x80 in no class: one lookup tells an ASCII
 * word byte from anything else. */
static const unsigned char ascii_class[256] = {
    ['0'] = C_WORD, ['1'] = C_WORD, ['2'] = C_WORD, ['3'] = C_WORD, ['4'] = C_WORD,
    ['5'] = C_WORD, ['6'] = C_WORD, ['7'] = C_WORD, ['8'] = C_WORD, ['9'] = C_WORD,
    ['A'] = C_U, ['B'] = C_U, ['C'] = C_U, ['D'] = C_U, ['E'] = C_U, ['F'] = C_U, ['G'] = C_U,
    ['H'] = C_U, ['I'] = C_U, ['J'] = C_U, ['K'] = C_U, ['L'] = C_U, ['M'] = C_U, ['N'] = C_U,
    ['O'] = C_U, ['P'] = C_U, ['Q'] = C_U, ['R'] = C_U, ['S'] = C_U, ['T'] = C_U, ['U'] = C_U,
    ['V'] = C_U, ['W'] = C_U, ['X'] = C_U, ['Y'] = C_U, ['Z'] = C_U,
    ['a'] = C_L, ['b'] = C_L, ['c'] = C_L, ['d'] = C_L, ['e'] = C_L, ['f'] = C_L, ['g'] = C_L,
    ['h'] = C_L, ['i'] = C_L, ['j'] = C_L, ['k'] = C_L, ['l'] = C_L, ['m'] = C_L, ['n'] = C_L,
    ['o'] = C_L, ['p'] = C_L, ['q'] = C_L, ['r'] = C_L, ['s'] = C_L, ['t'] = C_L, ['u'] = C_L,
    ['v'] = C_L, ['w'] = C_L, ['x'] = C_L, ['y'] = C_L, ['z'] = C_L,
};

/* ---- Iterator --------------------------------------------------------- */

void text_iter_init(text_iter_t *it, const char *s, size_t len)
{
    it->p = s;
    it->end = s + len;
    it->sentence_start = 1;
}

/* Word char at p? Writes its length to *n (0 if not a word char). */
static int word_at(const unsigned char *p, const unsigned char *end, size_t *n)
{
    uint32_t cp;
    if (p >= end) {
        *n = 0;
        return 0;
    }
    if (*p < 0x80) {
        *n = 1;
        return ascii_class[*p] & C_WORD;
    }
    *n = utf8_decode(p, end, &cp);
    return *n && is_word_cp(cp);
}

/* Length of an inner joiner at p (apostrophe, hyphen, decimal point) when the
 * characters on both sides allow it, else 0. prev is the last byte of the
 * token so far. */
static size_t joiner_at(const unsigned char *p, const unsigned char *end, unsigned char prev)
{
    size_t jl = 0, wl;
    if (*p == '\'' || *p == '-') jl = 1;
    else if (*p == '.') {
        /* Only between digits: "6.6", "v1.2.0", never "end.Next". */
        return (is_digit_byte(prev) && p + 1 < end && is_digit_byte(p[1])) ? 1 : 0;
    } else if (end - p >= 3 && p[0] == 0xE2 && p[1] == 0x80 &&
               (p[2] == 0x99 || p[2] == 0x90 || p[2] == 0x91))
        jl = 3; /* U+2019 right single quote, U+2010/2011 hyphens */
    if (!jl) return 0;
    return word_at(p + jl, end, &wl) ? jl : 0;
}

/* Abbreviations whose trailing period does not end a sentence: titles and
 * month names ("Dr. Amodei", "Oct. 2024") plus single letters ("U.S.",
 * "John F. Kennedy"). Kept tiny on purpose; a miss only costs one flag. */
static int is_abbrev(const char *s, size_t n)
{
    static const char *const abbr[] = {
        "Mr", "Mrs", "Ms", "Dr", "Prof", "Sr", "Jr", "St", "Mt", "Gen", "Gov", "Sen",
        "Rep", "Lt", "Col", "Capt", "Sgt", "vs", "No", "Jan", "Feb", "Mar", "Apr", "Jun",
        "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec", NULL};
    if (n == 1) return ((unsigned char)s[0] | 0x20) >= 'a' && ((unsigned char)s[0] | 0x20) <= 'z';
    if (n > 4) return 0; /* none above is longer */
    for (int i = 0; abbr[i]; i++)
        if (abbr[i][0] == s[0] && strncmp(abbr[i], s, n) == 0 && abbr[i][n] == '\0') return 1;
    return 0;
}

static int is_space_byte(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Skips a run of sentence terminators and closing quotes/brackets starting at
 * p; returns the new position and whether a sentence ended (the run is
 * followed by white space or the end). Consuming the whole run keeps
 * "!!!!..." linear. */
static const unsigned char *skip_terminators(const unsigned char *p, const unsigned char *end,
                                             int *ended)
{
    while (p < end) {
        if (*p == '.' || *p == '!' || *p == '?' || *p == '"' || *p == '\'' || *p == ')' ||
            *p == ']') {
            p++;
        } else if (end - p >= 3 && p[0] == 0xE2 && p[1] == 0x80 &&
                   (p[2] == 0x9D || p[2] == 0x99 || p[2] == 0xA6)) {
            p += 3; /* closing quotes, ellipsis */
        } else {
            break;
        }
    }
    *ended = (p >= end || is_space_byte(*p));
    return p;
}

int text_iter_next(text_iter_t *it, text_token_t *tok)
{
    const unsigned char *p = (const unsigned char *)it->p;
    const unsigned char *end = (const unsigned char *)it->end;
    size_t n;

    /* Separators. */
    while (p < end) {
        if (*p < 0x80) {
            if (ascii_class[*p] & C_WORD) break;
            n = 1;
        } else if (word_at(p, end, &n)) {
            break;
        }
        if (*p == '.' || *p == '!' || *p == '?') {
            int ended;
            p = skip_terminators(p, end, &ended);
            if (ended) it->sentence_start = 1;
            continue;
        }
        if (*p == '\n') it->sentence_start = 1; /* headlines and list items end at a line break */
        else if (end - p >= 3 && p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x82)
            it->sentence_start = 1; /* U+3002 ideographic full stop */
        p += n ? n : 1;
    }
    if (p >= end) {
        it->p = it->end;
        return 0;
    }

    const unsigned char *start = p;
    int flags = it->sentence_start ? TOKEN_SENT_START : 0;
    int upper = 0, lower = 0, first_upper; /* upper, lower: the letters beyond ASCII */
    unsigned seen = 0;                      /* the classes of its ASCII bytes */
    it->sentence_start = 0;
    if (is_digit_byte(*p)) flags |= TOKEN_NUMERIC;
    if (*p < 0x80) {
        first_upper = (ascii_class[*p] & C_UPPER) != 0;
    } else {
        uint32_t cp;
        utf8_decode(p, end, &cp); /* a word character: valid */
        first_upper = is_upper_cp(cp);
    }

    for (;;) {
        /* The common case first: a run of ASCII letters and digits. */
        for (unsigned cls; p < end && ((cls = ascii_class[*p]) & C_WORD); p++) seen |= cls;
        if (p < end && *p >= 0x80) {
            uint32_t cp;
            size_t l = utf8_decode(p, end, &cp);
            if (l && is_word_cp(cp)) {
                upper += is_upper_cp(cp);
                lower += is_lower_cp(cp);
                p += l;
                continue;
            }
        }
        if (p < end) {
            size_t jl = joiner_at(p, end, p[-1]);
            if (jl) {
                p += jl;
                continue;
            }
        }
        break;
    }

    if (first_upper) flags |= TOKEN_CAPITALIZED;
    if (lower == 0 && !(seen & C_LOWER)) {
        /* No lower case (an acronym, a number): its capitals are counted
         * now, which most tokens never need. */
        for (const unsigned char *q = start; q < p; q++) upper += (ascii_class[*q] & C_UPPER) != 0;
        if (upper >= 2) flags |= TOKEN_ALLCAPS;
    }
    tok->start = (const char *)start;
    tok->len = (size_t)(p - start);
    tok->flags = flags;

    if (p < end && *p == '.' && is_abbrev(tok->start, tok->len)) p++;
    it->p = (const char *)p;
    return 1;
}

/* ---- Normalisation ---------------------------------------------------- */

size_t text_normalize(const char *s, size_t len, char *out, size_t outlen)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + len;
    size_t o = 0;

    if (!outlen) return 0;
    /* Possessive: "Anthropic's" and "Anthropic’s" index as "anthropic". */
    if (len > 2 && (p[len - 1] | 0x20) == 's') {
        if (p[len - 2] == '\'') end -= 2;
        else if (len > 4 && p[len - 4] == 0xE2 && p[len - 3] == 0x80 && p[len - 2] == 0x99)
            end -= 4;
    }
    while (p < end) {
        if (*p < 0x80) {
            /* A run of ASCII, as far as out has room, lowercased without a
             * branch per byte: an upper-case letter gains 32. */
            size_t room = outlen - 1 - o;
            if (!room) break;
            const unsigned char *stop = (size_t)(end - p) < room ? end : p + room;
            const unsigned char *from = p;
            char *q = out + o;
            do {
                unsigned char c = *p++;
                *q++ = (char)(c + (ascii_class[c] & C_UPPER) * (32 / C_UPPER));
            } while (p < stop && *p < 0x80);
            o += (size_t)(p - from);
            continue;
        }
        uint32_t cp;
        size_t l = utf8_decode(p, end, &cp);
        if (!l) {
            p++; /* invalid byte: dropped */
            continue;
        }
        p += l;
        if (cp == 0x2019) cp = '\'';
        else if (cp == 0x2010 || cp == 0x2011) cp = '-';
        else cp = fold_cp(cp);
        char enc[4];
        size_t el = utf8_encode(cp, enc);
        if (o + el > outlen - 1) break; /* never split a character */
        memcpy(out + o, enc, el);
        o += el;
    }
    out[o] = '\0';
    return o;
}

/* ---- One pass, two readers ------------------------------------------- */

void text_words_reset(text_words_t *ws, const char *text)
{
    ws->text = text;
    ws->complete = 1;
    ws->n = 0;
    buf_reset(&ws->norms);
}

void text_words_push(text_words_t *ws, const text_token_t *tok, const char *norm, size_t nlen, int stop)
{
    if (ws->n >= ws->max || !ws->complete) return;
    if (ws->n == ws->cap) {
        size_t cap = ws->cap ? ws->cap * 2 : 256;
        text_word_t *w = realloc(ws->w, cap * sizeof(*w));
        if (!w) {
            ws->complete = 0;
            return;
        }
        ws->w = w;
        ws->cap = cap;
    }
    if (nlen > UINT16_MAX || ws->norms.len > UINT32_MAX) {
        ws->complete = 0;
        return;
    }
    text_word_t *w = &ws->w[ws->n];
    w->tok = *tok;
    w->norm = (uint32_t)ws->norms.len;
    w->nlen = (uint16_t)nlen;
    w->stop = stop != 0;
    buf_append(&ws->norms, norm, nlen + 1);
    if (ws->norms.failed) ws->complete = 0;
    else ws->n++;
}

void text_words_cut(text_words_t *ws) { ws->complete = 0; }

void text_words_free(text_words_t *ws)
{
    free(ws->w);
    buf_free(&ws->norms);
    ws->w = NULL;
    ws->n = ws->cap = 0;
}

/* ---- Stopwords -------------------------------------------------------- */

/* Each language is a byte-sorted array, looked up through a hash set built
 * on first use; adding a language is adding a row to stop_langs. */
typedef struct {
    const char *w;
    unsigned char len;
} stopword_t;
#define W(s) {s, sizeof(s) - 1}

static const stopword_t stop_en[] = {
    W("a"), W("about"), W("above"), W("after"), W("again"), W("against"), W("all"), W("almost"),
    W("also"), W("although"), W("am"), W("among"), W("an"), W("and"), W("another"), W("any"),
    W("are"), W("aren't"), W("around"), W("as"), W("at"), W("be"), W("because"), W("been"),
    W("before"), W("being"), W("below"), W("between"), W("both"), W("but"), W("by"), W("can"),
    W("can't"), W("cannot"), W("could"), W("couldn't"), W("did"), W("didn't"), W("do"),
    W("does"), W("doesn't"), W("doing"), W("don't"), W("down"), W("during"), W("each"),
    W("either"), W("else"), W("ever"), W("every"), W("few"), W("for"), W("from"), W("further"),
    W("had"), W("hadn't"), W("has"), W("hasn't"), W("have"), W("haven't"), W("having"), W("he"),
    W("he'd"), W("he'll"), W("her"), W("here"), W("hers"), W("herself"), W("him"), W("himself"),
    W("his"), W("how"), W("however"), W("i"), W("i'd"), W("i'll"), W("i'm"), W("i've"), W("if"),
    W("in"), W("into"), W("is"), W("isn't"), W("it"), W("its"), W("itself"), W("just"),
    W("least"), W("less"), W("let"), W("like"), W("many"), W("may"), W("me"), W("might"),
    W("more"), W("most"), W("much"), W("must"), W("mustn't"), W("my"), W("myself"),
    W("neither"), W("no"), W("nor"), W("not"), W("now"), W("of"), W("off"), W("often"), W("on"),
    W("once"), W("one"), W("only"), W("or"), W("other"), W("others"), W("our"), W("ours"),
    W("ourselves"), W("out"), W("over"), W("own"), W("per"), W("perhaps"), W("rather"),
    W("same"), W("shall"), W("shan't"), W("she"), W("she'd"), W("she'll"), W("should"),
    W("shouldn't"), W("since"), W("so"), W("some"), W("still"), W("such"), W("than"), W("that"),
    W("the"), W("their"), W("theirs"), W("them"), W("themselves"), W("then"), W("there"),
    W("these"), W("they"), W("they'd"), W("they'll"), W("they're"), W("they've"), W("this"),
    W("those"), W("though"), W("through"), W("thus"), W("to"), W("too"), W("under"), W("until"),
    W("up"), W("upon"), W("us"), W("very"), W("via"), W("was"), W("wasn't"), W("we"), W("we'd"),
    W("we'll"), W("we're"), W("we've"), W("were"), W("weren't"), W("what"), W("when"),
    W("where"), W("whether"), W("which"), W("while"), W("who"), W("whom"), W("whose"), W("why"),
    W("will"), W("with"), W("within"), W("without"), W("won't"), W("would"), W("wouldn't"),
    W("yet"), W("you"), W("you'd"), W("you'll"), W("you're"), W("you've"), W("your"),
    W("yours"), W("yourself"), W("yourselves"),
};
#undef W

static const struct {
    const char *lang;
    const stopword_t *words;
    size_t n;
    size_t maxlen; /* quick reject: at least the longest word's length */
} stop_langs[] = {
    {"en", stop_en, sizeof stop_en / sizeof stop_en[0], 10},
};

/* Matches the primary subtag: "en", "EN", "en-US" and "en_GB" are English. */
static int lang_matches(const char *want, const char *lang)
{
    size_t i = 0;
    for (; want[i]; i++)
        if (((unsigned char)lang[i] | 0x20) != (unsigned char)want[i]) return 0;
    return lang[i] == '\0' || lang[i] == '-' || lang[i] == '_';
}

static int stop_lang(const char *lang)
{
    if (!lang) lang = "en";
    for (size_t l = 0; l < sizeof stop_langs / sizeof stop_langs[0]; l++)
        if (lang_matches(stop_langs[l].lang, lang)) return (int)l;
    return -1;
}

const char *text_stopword(const char *lang, size_t i)
{
    int l = stop_lang(lang);
    return l >= 0 && i < stop_langs[l].n ? stop_langs[l].words[i].w : NULL;
}

/* Most tokens are not stopwords: a probe or two settles one, where
 * bisection compared about eight strings (6 % of the consumer's work). */
#define NLANGS (sizeof stop_langs / sizeof stop_langs[0])
#define STOP_SLOTS 512 /* a power of two, over twice the longest list */
static uint16_t stop_slots[NLANGS][STOP_SLOTS]; /* word index + 1; 0: empty */
static pthread_once_t stop_once = PTHREAD_ONCE_INIT;

static size_t stop_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h & (STOP_SLOTS - 1);
}

static void stop_index(void)
{
    for (size_t l = 0; l < NLANGS; l++)
        for (size_t i = 0; i < stop_langs[l].n; i++) {
            size_t h = stop_hash(stop_langs[l].words[i].w, stop_langs[l].words[i].len);
            while (stop_slots[l][h]) h = (h + 1) & (STOP_SLOTS - 1);
            stop_slots[l][h] = (uint16_t)(i + 1);
        }
}

int text_is_stopword(const char *norm, size_t len, const char *lang)
{
    int l = stop_lang(lang);
    if (l < 0 || len == 0 || len > stop_langs[l].maxlen) return 0;
    pthread_once(&stop_once, stop_index);
    for (size_t h = stop_hash(norm, len); stop_slots[l][h]; h = (h + 1) & (STOP_SLOTS - 1)) {
        const stopword_t *w = &stop_langs[l].words[stop_slots[l][h] - 1];
        if (w->len == len && memcmp(w->w, norm, len) == 0) return 1;
    }
    return 0;
}

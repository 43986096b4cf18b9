/* money: numbers, money amounts and percentages at a given position.
 *
 * Values are computed from an integer mantissa and a decimal exponent so
 * "$6.6B" is exactly 6.6e9 (66 * 10^8), not 6.6 * 1e9 with rounding error.
 * Every parser reads a bounded number of bytes, so scanning a text calls them
 * at each word start without going quadratic. */
#include "extract_int.h"

#include <math.h>
#include <string.h>

#define MAX_DIGITS 15 /* exact in a double */

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_alnum(unsigned char c)
{
    return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

size_t ex_number_parse(const char *s, size_t len, ex_number_t *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    int digits = 0;
    int64_t mant = 0;

    while (i < len && is_digit(p[i])) {
        if (++digits > MAX_DIGITS) return 0;
        mant = mant * 10 + (p[i++] - '0');
    }
    if (!digits) return 0;
    /* Thousands groups only after a lead group of 1-3 digits ("1,000,000"). */
    if (digits <= 3) {
        while (i + 3 < len && p[i] == ',' && is_digit(p[i + 1]) && is_digit(p[i + 2]) &&
               is_digit(p[i + 3]) && (i + 4 >= len || !is_digit(p[i + 4]))) {
            if ((digits += 3) > MAX_DIGITS) return 0;
            mant = mant * 1000 + (p[i + 1] - '0') * 100 + (p[i + 2] - '0') * 10 + (p[i + 3] - '0');
            i += 4;
        }
    }
    int frac = 0;
    if (i + 1 < len && p[i] == '.' && is_digit(p[i + 1])) {
        i++;
        while (i < len && is_digit(p[i])) {
            if (++digits > MAX_DIGITS) return 0;
            mant = mant * 10 + (p[i++] - '0');
            frac++;
        }
    }
    /* "1.2.0" is a version and "123abc" an identifier, not numbers. */
    if (i < len && (is_digit(p[i]) || (p[i] == '.' && i + 1 < len && is_digit(p[i + 1]))))
        return 0;
    out->mant = mant;
    out->frac = frac;
    return i;
}

double ex_number_value(const ex_number_t *n, int exp10)
{
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,
                                   1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
                                   1e18, 1e19, 1e20, 1e21, 1e22};
    int e = exp10 - n->frac; /* |e| <= 15 + 12 by construction of the callers */
    if (e >= 0) return (double)n->mant * pow10[e > 22 ? 22 : e];
    return (double)n->mant / pow10[-e > 22 ? 22 : -e];
}

/* Case-insensitive literal w (n bytes) at s[i..] that ends at a word
 * boundary. Returns n or 0. */
static size_t word_at(const char *s, size_t len, size_t i, const char *w, size_t n)
{
    if (i + n > len) return 0;
    for (size_t k = 0; k < n; k++) {
        unsigned char a = (unsigned char)s[i + k], b = (unsigned char)w[k];
        if (a != b && !((b | 0x20) >= 'a' && (b | 0x20) <= 'z' && (a | 0x20) == (b | 0x20)))
            return 0;
    }
    if (i + n < len && is_alnum((unsigned char)s[i + n])) return 0;
    return n;
}

/* One blank between parts: a space, a no-break space or a narrow one. */
static size_t blank_at(const char *s, size_t len, size_t i)
{
    if (i < len && s[i] == ' ') return 1;
    if (i + 1 < len && (unsigned char)s[i] == 0xC2 && (unsigned char)s[i + 1] == 0xA0) return 2;
    if (i + 2 < len && (unsigned char)s[i] == 0xE2 && (unsigned char)s[i + 1] == 0x80 &&
        (unsigned char)s[i + 2] == 0xAF)
        return 3;
    return 0;
}

#define LIT(s) s, sizeof(s) - 1 /* a literal and its length */

static const struct {
    const char *word;
    size_t len;
    int exp10;
    int attached_only; /* single letters only right after the digits: "$4B", not "$4 B" */
} scales[] = {
    {LIT("thousand"), 3, 0}, {LIT("million"), 6, 0}, {LIT("billion"), 9, 0},
    {LIT("trillion"), 12, 0}, {LIT("mln"), 6, 0},    {LIT("bln"), 9, 0},
    {LIT("trn"), 12, 0},     {LIT("mn"), 6, 0},      {LIT("bn"), 9, 0},
    {LIT("tn"), 12, 0},      {LIT("k"), 3, 1},       {LIT("m"), 6, 1},
    {LIT("b"), 9, 1},        {LIT("t"), 12, 1},
};

/* A scale word at s[i..], attached or after one blank (or a hyphen before a
 * spelled-out word: "$5-million"). Returns bytes consumed and its exponent. */
static size_t scale_at(const char *s, size_t len, size_t i, int *exp10)
{
    if (i >= len) return 0;
    for (size_t k = 0; k < sizeof scales / sizeof scales[0]; k++) {
        size_t n = word_at(s, len, i, scales[k].word, scales[k].len);
        if (n) {
            *exp10 = scales[k].exp10;
            return n;
        }
    }
    size_t b = blank_at(s, len, i);
    if (!b && i < len && s[i] == '-') b = 1;
    if (!b) return 0;
    for (size_t k = 0; k < sizeof scales / sizeof scales[0]; k++) {
        size_t n;
        if (scales[k].attached_only) continue;
        if ((n = word_at(s, len, i + b, scales[k].word, scales[k].len))) {
            *exp10 = scales[k].exp10;
            return b + n;
        }
    }
    return 0;
}

static const struct {
    const char *sym;
    size_t len;
    const char *cur;
} symbols[] = {
    {LIT("US$"), "USD"}, {LIT("HK$"), "HKD"}, {LIT("NZ$"), "NZD"}, {LIT("C$"), "CAD"},
    {LIT("A$"), "AUD"},  {LIT("S$"), "SGD"},  {LIT("R$"), "BRL"},  {LIT("$"), "USD"},
    {LIT("\xe2\x82\xac"), "EUR"}, {LIT("\xc2\xa3"), "GBP"}, {LIT("\xc2\xa5"), "JPY"},
    {LIT("\xe2\x82\xb9"), "INR"}, {LIT("\xe2\x82\xa9"), "KRW"},
};

/* Upper-case ISO codes accepted before or after a number. */
static const char *const codes[] = {"USD", "EUR", "GBP", "JPY", "CNY", "INR", "CAD", "AUD",
                                    "CHF", "KRW", "SEK", "NOK", "DKK", "HKD", "SGD", "BRL",
                                    "MXN", "ZAR", "RMB"};

static const char *code_at(const char *s, size_t len, size_t i)
{
    if (i + 3 > len || s[i] < 'A' || s[i] > 'Z' || s[i + 1] < 'A' || s[i + 1] > 'Z') return NULL;
    if (i + 3 < len && is_alnum((unsigned char)s[i + 3])) return NULL;
    for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++)
        if (memcmp(s + i, codes[k], 3) == 0) return strcmp(codes[k], "RMB") ? codes[k] : "CNY";
    return NULL;
}

/* Currency words after a number. Ambiguous ones ("5 pounds" of flour,
 * "won") count only after a scale ("10 million pounds"). */
static const struct {
    const char *word;
    size_t len;
    const char *cur;
    int needs_scale;
} suffixes[] = {
    {LIT("us dollars"), "USD", 0},   {LIT("dollars"), "USD", 0},  {LIT("dollar"), "USD", 1},
    {LIT("euros"), "EUR", 0},        {LIT("euro"), "EUR", 1},
    {LIT("pounds sterling"), "GBP", 0}, {LIT("pounds"), "GBP", 1}, {LIT("sterling"), "GBP", 1},
    {LIT("yen"), "JPY", 0},          {LIT("yuan"), "CNY", 0},     {LIT("renminbi"), "CNY", 0},
    {LIT("rupees"), "INR", 0},       {LIT("swiss francs"), "CHF", 0}, {LIT("won"), "KRW", 1},
};

int money_parse(const char *s, size_t len, money_t *out, size_t *consumed)
{
    const char *cur = NULL;
    size_t i = 0;

    if (!len) return 0;
    /* Cheap rejects first: this runs at every word start of every text. */
    unsigned char c0 = (unsigned char)s[0];
    if (!is_digit(c0) && (!c0 || !strchr("$UHNCASRJEGIKMDBZ\xe2\xc2", c0))) return 0;
    for (size_t k = 0; k < sizeof symbols / sizeof symbols[0] && !cur && !is_digit(c0); k++) {
        size_t n = symbols[k].len;
        if (symbols[k].sym[0] == s[0] && n <= len && memcmp(s, symbols[k].sym, n) == 0) {
            cur = symbols[k].cur;
            i = n;
            i += blank_at(s, len, i); /* "€ 600" */
        }
    }
    if (!cur && !is_digit(c0) && (cur = code_at(s, len, 0))) {
        i = 3;
        i += blank_at(s, len, i);
    }

    ex_number_t num;
    size_t n = ex_number_parse(s + i, len - i, &num);
    if (!n) return 0;
    i += n;

    int exp10 = 0;
    i += scale_at(s, len, i, &exp10);

    if (!cur) {
        size_t b = blank_at(s, len, i);
        const char *c = code_at(s, len, i + b);
        if (c) {
            cur = c;
            i += b + 3;
        } else {
            for (size_t k = 0; k < sizeof suffixes / sizeof suffixes[0]; k++) {
                size_t w;
                if (suffixes[k].needs_scale && !exp10) continue;
                if ((w = word_at(s, len, i + b, suffixes[k].word, suffixes[k].len))) {
                    cur = suffixes[k].cur;
                    i += b + w;
                    break;
                }
            }
        }
        if (!cur) return 0;
    }
    /* "$4Bees", "$5x": the amount must end at a word boundary. */
    if (i < len && is_alnum((unsigned char)s[i])) return 0;

    double v = ex_number_value(&num, exp10);
    if (!isfinite(v) || v < 0 || v > EXTRACTION_MAX_AMOUNT) return 0;
    out->value = v;
    memcpy(out->currency, cur, 4);
    *consumed = i;
    return 1;
}

int percent_parse(const char *s, size_t len, double *out, size_t *consumed)
{
    ex_number_t num;
    size_t i = ex_number_parse(s, len, &num);
    if (!i) return 0;
    size_t b = blank_at(s, len, i), w = 0;
    if (i + b < len && s[i + b] == '%') w = 1;
    else if (!(w = word_at(s, len, i + b, LIT("percent"))) &&
             !(w = word_at(s, len, i + b, LIT("per cent"))))
        w = word_at(s, len, i + b, LIT("pct"));
    if (!w && i < len && s[i] == '-' && (w = word_at(s, len, i + 1, LIT("percent")))) b = 1;
    if (!w) return 0;
    double v = ex_number_value(&num, 0);
    if (v > EXTRACTION_MAX_PERCENT) return 0;
    *out = v;
    *consumed = i + b + w;
    return 1;
}

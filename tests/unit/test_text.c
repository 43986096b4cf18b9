/* Unit tests for common/text.c: tokenisation, flags, folding, stopwords. */
#include "../test.h"
#include "text.h"

#include <stdlib.h>

/* test.h's ASSERT_*_EQ expand to statements that trip -Wunused-value under
 * -Werror, so these wrap ASSERT_TRUE and print the values on a mismatch. */
static int str_eq(const char *got, const char *want)
{
    if (strcmp(got, want) == 0) return 1;
    fprintf(stderr, "  got \"%s\", want \"%s\"\n", got, want);
    return 0;
}
static int int_eq(long long got, long long want)
{
    if (got == want) return 1;
    fprintf(stderr, "  got %lld, want %lld\n", got, want);
    return 0;
}
#define CHECK_STR(a, b) ASSERT_TRUE(str_eq((a), (b)))
#define CHECK_INT(a, b) ASSERT_TRUE(int_eq((a), (b)))

/* Tokenises s and joins the tokens with '|' into out. */
static const char *tokens(const char *s, char *out, size_t outlen)
{
    text_iter_t it;
    text_token_t t;
    size_t o = 0;
    out[0] = '\0';
    text_iter_init(&it, s, strlen(s));
    while (text_iter_next(&it, &t)) {
        if (o && o + 1 < outlen) out[o++] = '|';
        for (size_t i = 0; i < t.len && o + 1 < outlen; i++) out[o++] = t.start[i];
        out[o] = '\0';
    }
    return out;
}

/* Flags of the n-th token (0-based), or -1. */
static int flags_of(const char *s, int n)
{
    text_iter_t it;
    text_token_t t;
    text_iter_init(&it, s, strlen(s));
    for (int i = 0; text_iter_next(&it, &t); i++)
        if (i == n) return t.flags;
    return -1;
}

static const char *norm(const char *s, char *out, size_t outlen)
{
    text_normalize(s, strlen(s), out, outlen);
    return out;
}

static void test_tokens(void)
{
    char b[512];
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"Anthropic raises $4B from Amazon.", "Anthropic|raises|4B|from|Amazon"},
        {"OpenAI's $6.6 billion round", "OpenAI's|6.6|billion|round"},
        {"state-backed firm doesn't care", "state-backed|firm|doesn't|care"},
        {"don\xe2\x80\x99t stop", "don\xe2\x80\x99t|stop"},
        {"v1.2.0 released; see example.com.", "v1.2.0|released|see|example|com"},
        {"end. Next", "end|Next"},
        {"-leading and trailing- 'quoted'", "leading|and|trailing|quoted"},
        {"Zürich und Köln", "Zürich|und|Köln"},
        {"Москва — столица", "Москва|столица"},
        {"emoji\xf0\x9f\x9a\x80rocket", "emoji|rocket"},
        {"bad\xff\xfe" "bytes\xc3", "bad|bytes"},
        {"overlong \xc0\xaf slash \xed\xa0\x80 surrogate", "overlong|slash|surrogate"},
        {"€600 million", "600|million"},
        {"COVID-19 and iPhone 15", "COVID-19|and|iPhone|15"},
        {"", ""},
        {"...!!!", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_STR(tokens(cases[i].in, b, sizeof b), cases[i].want);
}

static void test_flags(void)
{
    const char *s = "Anthropic and AI labs. The 2024 iPhone? Yes\nNew line";
    CHECK_INT(flags_of(s, 0), TOKEN_CAPITALIZED | TOKEN_SENT_START);
    CHECK_INT(flags_of(s, 1), 0);
    CHECK_INT(flags_of(s, 2), TOKEN_CAPITALIZED | TOKEN_ALLCAPS);
    CHECK_INT(flags_of(s, 4), TOKEN_CAPITALIZED | TOKEN_SENT_START);
    CHECK_INT(flags_of(s, 5), TOKEN_NUMERIC);
    CHECK_INT(flags_of(s, 6), 0);
    CHECK_INT(flags_of(s, 7), TOKEN_CAPITALIZED | TOKEN_SENT_START);
    CHECK_INT(flags_of(s, 8), TOKEN_CAPITALIZED | TOKEN_SENT_START);
    /* Abbreviations do not end sentences. */
    CHECK_INT(flags_of("Dr. Amodei said", 1), TOKEN_CAPITALIZED);
    CHECK_INT(flags_of("the U.S. Treasury", 3), TOKEN_CAPITALIZED);
    CHECK_INT(flags_of("due Sept. Then", 2), TOKEN_CAPITALIZED);
    CHECK_INT(flags_of("due Sep. Then", 2), TOKEN_CAPITALIZED);
    /* Only whole abbreviations: a longer or shorter word ends the sentence. */
    CHECK_INT(flags_of("due Septs. Then", 2), TOKEN_CAPITALIZED | TOKEN_SENT_START);
    CHECK_INT(flags_of("due Se. Then", 2), TOKEN_CAPITALIZED | TOKEN_SENT_START);
    CHECK_INT(flags_of("\"Done.\" Then", 1), TOKEN_CAPITALIZED | TOKEN_SENT_START);
    CHECK_INT(flags_of("ÉCOLE", 0), TOKEN_CAPITALIZED | TOKEN_ALLCAPS | TOKEN_SENT_START);
    CHECK_INT(flags_of("x Ölkonzern", 1), TOKEN_CAPITALIZED);
    CHECK_INT(flags_of("x A", 1), TOKEN_CAPITALIZED); /* one letter is not ALLCAPS */
    /* Capitals counted across ASCII, beyond it and joiners; any lower case
     * letter, ASCII or not, rules ALLCAPS out. */
    CHECK_INT(flags_of("x 7UP", 1), TOKEN_NUMERIC | TOKEN_ALLCAPS);
    CHECK_INT(flags_of("x \xc3\x89" "A", 1), TOKEN_CAPITALIZED | TOKEN_ALLCAPS);
    CHECK_INT(flags_of("x A\xc3\x89", 1), TOKEN_CAPITALIZED | TOKEN_ALLCAPS);
    CHECK_INT(flags_of("x A\xc3\xa9", 1), TOKEN_CAPITALIZED);
    CHECK_INT(flags_of("x \xc3\x89\xc3\x89" "b", 1), TOKEN_CAPITALIZED);
    CHECK_INT(flags_of("x U-S", 1), TOKEN_CAPITALIZED | TOKEN_ALLCAPS);
    CHECK_INT(flags_of("x 2024", 1), TOKEN_NUMERIC);
}

static void test_normalize(void)
{
    char b[64];
    CHECK_STR(norm("Anthropic's", b, sizeof b), "anthropic");
    CHECK_STR(norm("OpenAI\xe2\x80\x99s", b, sizeof b), "openai");
    CHECK_STR(norm("DON\xe2\x80\x99T", b, sizeof b), "don't");
    CHECK_STR(norm("ÀÉÎÕÜ", b, sizeof b), "àéîõü");
    CHECK_STR(norm("ŁÓDŹ", b, sizeof b), "łódź");
    CHECK_STR(norm("İstanbul", b, sizeof b), "istanbul");
    CHECK_STR(norm("ΑΘΗΝΑ Ά", b, sizeof b), "αθηνα ά");
    CHECK_STR(norm("МОСКВА Ёж", b, sizeof b), "москва ёж");
    CHECK_STR(norm("Ÿ", b, sizeof b), "ÿ");
    CHECK_STR(norm("state\xe2\x80\x90" "backed", b, sizeof b), "state-backed");
    CHECK_STR(norm("'s", b, sizeof b), "'s"); /* nothing left to strip to */
    /* Truncation never splits a character. */
    char small[4];
    CHECK_INT(text_normalize("aéé", 5, small, sizeof small), 3);
    CHECK_STR(small, "aé");
    CHECK_INT(text_normalize("abc", 3, small, 1), 0);
    CHECK_STR(small, "");
    CHECK_INT(text_normalize("ABCDEFG", 7, small, sizeof small), 3);
    CHECK_STR(small, "abc");
    CHECK_STR(norm("Abc\xc3\x89" "Def\xc3\x89", b, 9), "abc\xc3\xa9" "def");
    CHECK_INT(text_normalize("\xc3\x89" "ABC", 5, small, sizeof small), 3);
    CHECK_STR(small, "\xc3\xa9" "a");
    CHECK_STR(norm("aB\xff" "Cd", b, sizeof b), "abcd"); /* an invalid byte is dropped */
    /* Every ASCII byte: A-Z lowered, the others as they are. */
    char all[127], want[128], got[128];
    for (int c = 1; c < 128; c++) {
        all[c - 1] = (char)c;
        want[c - 1] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    want[127] = '\0';
    CHECK_INT(text_normalize(all, sizeof all, got, sizeof got), 127);
    ASSERT_TRUE(memcmp(got, want, sizeof want) == 0);
}

static void test_stopwords(void)
{
    ASSERT_TRUE(text_is_stopword("the", 3, NULL));
    ASSERT_TRUE(text_is_stopword("the", 3, "en"));
    ASSERT_TRUE(text_is_stopword("the", 3, "en-US"));
    ASSERT_TRUE(text_is_stopword("the", 3, "EN_gb"));
    ASSERT_TRUE(text_is_stopword("a", 1, "en"));
    ASSERT_TRUE(text_is_stopword("yourselves", 10, "en"));
    ASSERT_TRUE(text_is_stopword("don't", 5, "en"));
    ASSERT_TRUE(text_is_stopword("thereby", 5, "en")); /* length-limited: "there" */
    ASSERT_TRUE(!text_is_stopword("anthropic", 9, "en"));
    ASSERT_TRUE(!text_is_stopword("th", 2, "en"));
    ASSERT_TRUE(!text_is_stopword("the", 3, "de"));
    ASSERT_TRUE(!text_is_stopword("the", 3, "e"));
    ASSERT_TRUE(!text_is_stopword("the", 3, "eng"));
}

/* The enumeration: sorted (as the source keeps it), each one found through
 * the hash set, and shared between the spellings of a language. */
static void test_stopword_list(void)
{
    size_t n = 0;
    int sorted = 1, found = 1;
    const char *prev = NULL, *w;
    for (; (w = text_stopword("en", n)); n++) {
        if (prev && strcmp(prev, w) >= 0) sorted = 0;
        found &= text_is_stopword(w, strlen(w), "en");
        prev = w;
    }
    ASSERT_TRUE(n > 100);
    ASSERT_TRUE(sorted);
    ASSERT_TRUE(found);
    ASSERT_TRUE(text_stopword("en-GB", 0) == text_stopword(NULL, 0));
    ASSERT_TRUE(text_stopword("de", 0) == NULL);
    ASSERT_TRUE(text_stopword("en", n) == NULL);
}

/* Hostile input: long runs of separators and joiners stay linear and in
 * bounds (ASan checks the bounds). */
static void test_hostile(void)
{
    size_t n = 1 << 20;
    char *s = malloc(n);
    ASSERT_TRUE(s != NULL);
    if (!s) return;
    for (size_t i = 0; i < n; i++) s[i] = "a-'.!1\xe2"[i % 7];
    text_iter_t it;
    text_token_t t;
    size_t count = 0, bytes = 0;
    int inside = 1;
    text_iter_init(&it, s, n);
    while (text_iter_next(&it, &t)) {
        count++;
        bytes += t.len;
        inside &= t.start >= s && t.start + t.len <= s + n;
    }
    ASSERT_TRUE(inside);
    ASSERT_TRUE(count > 0 && bytes <= n);
    memset(s, '!', n);
    text_iter_init(&it, s, n);
    CHECK_INT(text_iter_next(&it, &t), 0);
    free(s);
}

int main(void)
{
    test_tokens();
    test_flags();
    test_normalize();
    test_stopwords();
    test_stopword_list();
    test_hostile();
    return TEST_DONE();
}

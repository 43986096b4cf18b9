/* dates: calendar dates written the common English ways, as ISO 8601. */
#include "extract_int.h"

#include <string.h>

static const char *const month_names[12] = {"january", "february", "march",     "april",
                                            "may",     "june",     "july",      "august",
                                            "september", "october", "november", "december"};

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_alnum(unsigned char c)
{
    return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* Case-insensitive prefix match of w (lower case) at s[i..]. */
static int prefix_ci(const char *s, size_t len, size_t i, const char *w, size_t n)
{
    if (i + n > len) return 0;
    for (size_t k = 0; k < n; k++)
        if (((unsigned char)s[i + k] | 0x20) != (unsigned char)w[k]) return 0;
    return 1;
}

/* A month name (full, 3 letters, or "Sept") at s, capitalised, with an
 * abbreviation's dot. Returns bytes and sets *month 1-12, or 0. */
static size_t month_at(const char *s, size_t len, int *month)
{
    /* Capitalised only: "may 2024" is more often a verb than a month. */
    if (!len || !s[0] || !strchr("JFMASOND", s[0])) return 0;
    for (int m = 0; m < 12; m++) {
        const char *w = month_names[m];
        if (w[0] != (s[0] | 0x20)) continue;
        size_t full = strlen(w), n = 0;
        if (prefix_ci(s, len, 0, w, full)) n = full;
        else if (m == 8 && prefix_ci(s, len, 0, w, 4)) n = 4; /* "Sept" */
        else if (prefix_ci(s, len, 0, w, 3)) n = 3;
        if (!n || (n < len && is_alnum((unsigned char)s[n]))) continue;
        *month = m + 1;
        if (n < full && n < len && s[n] == '.') n++; /* "Oct." */
        return n;
    }
    return 0;
}

/* Exactly k digits at s[i..], not followed by another digit. */
static int digits_at(const char *s, size_t len, size_t i, int k, int *v)
{
    int x = 0;
    if (i + (size_t)k > len) return 0;
    for (int j = 0; j < k; j++) {
        if (!is_digit((unsigned char)s[i + j])) return 0;
        x = x * 10 + (s[i + j] - '0');
    }
    if (i + (size_t)k < len && is_digit((unsigned char)s[i + k])) return 0;
    *v = x;
    return 1;
}

/* A day: 1-2 digits with an optional ordinal suffix. Returns bytes or 0. */
static size_t day_at(const char *s, size_t len, size_t i, int *day)
{
    size_t n;
    if (digits_at(s, len, i, 2, day)) n = 2;
    else if (digits_at(s, len, i, 1, day)) n = 1;
    else return 0;
    static const char *const ords[] = {"st", "nd", "rd", "th"};
    for (int k = 0; k < 4; k++)
        if (prefix_ci(s, len, i + n, ords[k], 2)) {
            n += 2;
            break;
        }
    if (i + n < len && is_alnum((unsigned char)s[i + n])) return 0;
    return n;
}

static size_t blanks(const char *s, size_t len, size_t i)
{
    size_t n = 0;
    while (i + n < len && n < 3 && s[i + n] == ' ') n++;
    return n;
}

/* A year 1900-2100 at s[i..] ending at a word boundary ("2024," but not
 * "2024.5" or "20245"). */
static int year_at(const char *s, size_t len, size_t i, int *y)
{
    if (!digits_at(s, len, i, 4, y) || *y < 1900 || *y > 2100) return 0;
    size_t e = i + 4;
    if (e < len && is_alnum((unsigned char)s[e])) return 0;
    if (e + 1 < len && (s[e] == '.' || s[e] == ',') && is_digit((unsigned char)s[e + 1])) return 0;
    return 1;
}

static int valid_day(int y, int m, int d)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return 0;
    if (m == 2 && d == 29) return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return 1;
}

static void put2(char *o, int v)
{
    o[0] = (char)('0' + v / 10);
    o[1] = (char)('0' + v % 10);
}

/* "YYYY-MM-DD", or "YYYY-MM" when the day is 0. */
static int emit(char out[11], int y, int m, int d, size_t n, size_t *consumed)
{
    if (d && !valid_day(y, m, d)) return 0;
    put2(out, y / 100);
    put2(out + 2, y % 100);
    out[4] = '-';
    put2(out + 5, m);
    if (d) {
        out[7] = '-';
        put2(out + 8, d);
        out[10] = '\0';
    } else {
        out[7] = '\0';
    }
    *consumed = n;
    return 1;
}

int date_parse(const char *s, size_t len, char out[11], size_t *consumed)
{
    int y, m, d;
    size_t i;

    if (!len) return 0;
    if (is_digit((unsigned char)s[0])) {
        /* ISO 8601 date, possibly the head of a timestamp ("...T14:00Z"). */
        if (len >= 10 && digits_at(s, len, 0, 4, &y) && s[4] == '-' &&
            digits_at(s, len, 5, 2, &m) && s[7] == '-' && digits_at(s, len, 8, 2, &d)) {
            if (len > 10 && is_alnum((unsigned char)s[10]) &&
                !(s[10] == 'T' && len > 11 && is_digit((unsigned char)s[11])))
                return 0;
            if (y < 1900 || y > 2100) return 0;
            return emit(out, y, m, d, 10, consumed);
        }
        /* "2 Oct 2024", "2nd October, 2024" */
        if (!(i = day_at(s, len, 0, &d))) return 0;
        size_t b = blanks(s, len, i), n;
        if (!b || !(n = month_at(s + i + b, len - i - b, &m))) return 0;
        i += b + n;
        if (i < len && s[i] == ',') i++;
        if (!(b = blanks(s, len, i)) || !year_at(s, len, i + b, &y)) return 0;
        return emit(out, y, m, d, i + b + 4, consumed);
    }

    /* "October 2, 2024", "Oct. 2 2024", "October 2nd, 2024", "Oct. 2024" */
    if (!(i = month_at(s, len, &m))) return 0;
    size_t b = blanks(s, len, i), n;
    if (!b) return 0;
    i += b;
    if (year_at(s, len, i, &y)) return emit(out, y, m, 0, i + 4, consumed);
    if (!(n = day_at(s, len, i, &d))) return 0;
    i += n;
    if (i < len && s[i] == ',') i++;
    if (!(b = blanks(s, len, i)) || !year_at(s, len, i + b, &y)) return 0;
    return emit(out, y, m, d, i + b + 4, consumed);
}

#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int buf_grow(buf_t *b, size_t extra)
{
    if (b->failed) return -1;
    if (b->len + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->failed = 1;
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

void buf_reset(buf_t *b)
{
    b->len = 0;
    b->failed = 0;
}

void buf_free(buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void buf_puts(buf_t *b, const char *s) { buf_append(b, s, strlen(s)); }

void buf_put_i64(buf_t *b, int64_t v)
{
    char s[24], *p = s + sizeof(s); /* digits backwards from the end */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--p = '-';
    buf_append(b, p, (size_t)(s + sizeof(s) - p));
}

void buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || buf_room(b, (size_t)n) != 0) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Appends s, replacing each byte of specials by what esc maps it to; the
 * runs between them go in one copy (strcspn scans them word-wise). */
static void append_escaped(buf_t *b, const char *s, const char *specials, const char *(*esc)(char c))
{
    for (;;) {
        size_t n = strcspn(s, specials);
        buf_append(b, s, n);
        s += n;
        if (!*s) return;
        buf_puts(b, esc(*s++));
    }
}

static const char *copy_escape(char c)
{
    switch (c) {
    case '\\': return "\\\\";
    case '\t': return "\\t";
    case '\n': return "\\n";
    case '\r': return "\\r";
    default: return "";
    }
}

static const char *html_escape(char c)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    default: return "";
    }
}

/* JSON string escapes: the two that must be, short forms where JSON has
 * them, \u00XX for the other control characters; NULL for bytes that go as
 * they are. A table, as strcspn builds its own for every call. */
static const char *const json_escapes[256] = {
    "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
    "\\b",     "\\t",     "\\n",     "\\u000b", "\\f",     "\\r",     "\\u000e", "\\u000f",
    "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
    "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
    ['"'] = "\\\"", ['\\'] = "\\\\"};

const char *json_escape_byte(unsigned char c) { return json_escapes[c]; }

void buf_copy_field(buf_t *b, const char *s) { append_escaped(b, s, "\\\t\n\r", copy_escape); }

void buf_json_string(buf_t *b, const char *s)
{
    size_t n = strlen(s);
    if (buf_room(b, n * 6 + 2) != 0) return; /* each byte escaped at most as \u00XX */
    char *o = b->data + b->len;
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const char *e = json_escape_byte(*p);
        if (!e) *o++ = (char)*p;
        else o = stpcpy(o, e);
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
}

void buf_html(buf_t *b, const char *s) { append_escaped(b, s, "&<>\"'", html_escape); }

const char *buf_cstr(buf_t *b)
{
    if (buf_room(b, 0) != 0) return NULL;
    b->data[b->len] = '\0';
    return b->data;
}

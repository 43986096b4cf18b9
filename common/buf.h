/* buf: a growable byte buffer. The owner calls buf_free(); a failed
 * allocation sets `failed` and further appends are ignored, so callers check
 * once at the end instead of after every append. */
#ifndef SHOAL_BUF_H
#define SHOAL_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    char *data;
    size_t len, cap;
    int failed;
} buf_t;

void buf_reset(buf_t *b);  /* len = 0, keeps the memory */
void buf_free(buf_t *b);

/* Room for extra more bytes and a NUL: 0, or -1 with failed set. The
 * common case (room already there) is inline: appends run once per word,
 * field and number on the hot path; buf_grow is the rest. */
int buf_grow(buf_t *b, size_t extra);
static inline int buf_room(buf_t *b, size_t extra)
{
    return !b->failed && b->len + extra + 1 <= b->cap ? 0 : buf_grow(b, extra);
}

static inline void buf_append(buf_t *b, const void *p, size_t n)
{
    if (buf_room(b, n) != 0) return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* Adds n bytes at the end for the caller to fill; NULL when out of memory. */
static inline char *buf_extend(buf_t *b, size_t n)
{
    if (buf_room(b, n) != 0) return NULL;
    b->len += n;
    return b->data + b->len - n;
}
void buf_puts(buf_t *b, const char *s);
/* Appends v in decimal, without printf's cost. */
void buf_put_i64(buf_t *b, int64_t v);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s escaped for PostgreSQL COPY text format (\\, \t, \n, \r). */
void buf_copy_field(buf_t *b, const char *s);
/* Appends s as a JSON string: quoted, with " \\ and control characters
 * escaped; other bytes (UTF-8 included) as they are. */
void buf_json_string(buf_t *b, const char *s);
/* What byte c becomes inside a JSON string ("\\n", "\\u0001", ...), or NULL
 * when it goes as it is; the one escape table (the log writes with it too). */
const char *json_escape_byte(unsigned char c);
/* Appends s escaped for HTML text and quoted attribute values (& < > " '). */
void buf_html(buf_t *b, const char *s);
/* NUL-terminates without counting the NUL in len; returns data or NULL on failure. */
const char *buf_cstr(buf_t *b);

#endif

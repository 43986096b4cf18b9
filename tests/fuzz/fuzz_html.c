/* libFuzzer target: the page-text extractor html_main_text() (common/html.h)
 * on any bytes, not only valid UTF-8 (libxml2's HTML parser sees what a
 * server sends when html_to_utf8() is skipped or wrong), and
 * html_sniff_charset() on the same bytes. Checks besides the sanitizers:
 * the text and title are NUL-terminated with no NUL inside, have no leading,
 * trailing or doubled white space (runs become one space or one line break),
 * are valid UTF-8 when the input is (html_to_utf8() round-trips them
 * unchanged; callers convert with html_to_utf8() first, so invalid input
 * bytes may pass through), and grow by at most 4 bytes per input byte, as
 * html.h says; a failure has a message; the sniffed charset is
 * NUL-terminated inside its buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Output of one writer: separators only between visible bytes, one at a time. */
static void check_text(buf_t *b, size_t size, int utf8_in)
{
    if (b->len == 0) return;
    const char *s = buf_cstr(b);
    if (!s || strlen(s) != b->len || b->len > 4 * size) abort();
    for (size_t i = 0; i < b->len; i++) {
        int sep = s[i] == ' ' || s[i] == '\n';
        if (sep && (i == 0 || i + 1 == b->len || s[i + 1] == ' ' || s[i + 1] == '\n')) abort();
        if (!sep && strchr("\t\r\v\f", s[i])) abort();
    }
    if (!utf8_in) return;
    buf_t copy = {0};
    char err[128];
    if (html_to_utf8(s, b->len, NULL, &copy, err, sizeof(err)) != 0 || copy.len != b->len ||
        memcmp(copy.data, s, b->len) != 0)
        abort();
    buf_free(&copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int inited;
    if (!inited) {
        html_global_init();
        inited = 1;
    }
    /* An exact-size heap copy, so a read past len is caught by ASan. */
    char *in = malloc(size ? size : 1);
    if (!in) return 0;
    memcpy(in, data, size);

    char cs[16];
    memset(cs, 'x', sizeof(cs));
    if (html_sniff_charset(in, size, cs, sizeof(cs)) == 0 && (strnlen(cs, sizeof(cs)) == 0 ||
                                                              strnlen(cs, sizeof(cs)) == sizeof(cs)))
        abort();

    buf_t text = {0}, title = {0};
    char err[128];
    err[0] = '\0';
    if (html_main_text(in, size, &text, &title, err, sizeof(err)) != 0) {
        if (!err[0]) abort();
    } else {
        buf_t copy = {0};
        int utf8_in = html_to_utf8(in, size, NULL, &copy, err, sizeof(err)) == 0;
        buf_free(&copy);
        check_text(&text, size, utf8_in);
        check_text(&title, size, utf8_in);
    }
    buf_free(&text);
    buf_free(&title);
    free(in);
    return 0;
}

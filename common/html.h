/* html: bytes of a web page or feed fragment to plain UTF-8 text.
 *
 * - html_sniff_charset() finds the charset a document declares for itself
 *   (<meta charset>, <meta http-equiv content="...charset=...">, or an XML
 *   declaration's encoding), for when the HTTP header names none.
 * - html_to_utf8() converts with iconv; invalid input is an error, never
 *   silently replaced, so a page that lies about its charset is reported.
 * - html_main_text() parses with libxml2's HTML parser (never string
 *   matching) and keeps the main text: the first <article>, else <main>,
 *   else <body>, without boilerplate elements (nav, header, footer, aside,
 *   script, style, noscript, form, iframe, svg, template, button, select,
 *   figure captions) nor elements with role navigation/banner/contentinfo.
 *   Blocks become lines, runs of white space one space.
 *
 * Nothing here logs; errors are return codes plus a one-line message.
 * Thread-safe once html_global_init() has run (libxml2 initialises its
 * globals lazily, which is racy when threads do it first). */
#ifndef SHOAL_HTML_H
#define SHOAL_HTML_H

#include <stddef.h>

#include "buf.h"

/* Call once at startup, before any thread parses (also covers the XML
 * parser used for feeds). */
void html_global_init(void);

/* Writes the declared charset (as declared, NUL-terminated) to out and
 * returns 0, or -1 when the first 2048 bytes declare none. */
int html_sniff_charset(const char *in, size_t len, char *out, size_t outlen);

/* Appends in (len bytes in charset; NULL or "" means UTF-8) converted to
 * UTF-8 to out. Returns 0, or -1 with err set when the charset is unknown,
 * the input is invalid in it, or memory ran out (out->failed). */
int html_to_utf8(const char *in, size_t len, const char *charset, buf_t *out, char *err,
                 size_t errlen);

/* Appends the main text of the UTF-8 HTML document (or fragment) to text
 * and its <title> to title (title may be NULL: not wanted). Returns 0, or -1 with err
 * set when the parser could not build a document or memory ran out.
 * Each grows by at most 4 bytes per input byte (its bytes come from the
 * input, entities never expand, one separator at most per visible byte; the
 * rest is headroom for libxml2's repair of invalid bytes) and is valid
 * UTF-8 when the input is. */
int html_main_text(const char *utf8, size_t len, buf_t *text, buf_t *title, char *err,
                   size_t errlen);

#endif

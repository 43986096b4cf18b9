#include "html.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

void html_global_init(void) { xmlInitParser(); }

/* ---- Charset --------------------------------------------------------- */

/* Copies the token after key= (quotes optional) from hay into out. */
static int take_value(const char *hay, const char *key, char *out, size_t outlen)
{
    const char *p = strcasestr(hay, key);
    if (!p) return -1;
    p += strlen(key);
    while (*p == ' ') p++;
    if (*p == '"' || *p == '\'') p++;
    size_t i = 0;
    while (p[i] && (isalnum((unsigned char)p[i]) || strchr("-_.:", p[i])) && i + 1 < outlen) {
        out[i] = p[i];
        i++;
    }
    out[i] = '\0';
    return i ? 0 : -1;
}

int html_sniff_charset(const char *in, size_t len, char *out, size_t outlen)
{
    /* the HTML spec's prescan looks at the first 1024 bytes; feeds put the
     * XML declaration first. NULs end strcasestr early, so they go. */
    char head[2049];
    size_t n = len < sizeof head - 1 ? len : sizeof head - 1;
    for (size_t i = 0; i < n; i++) head[i] = in[i] ? in[i] : ' ';
    head[n] = '\0';
    if (strncmp(head, "<?xml", 5) == 0) {
        char *end = strstr(head, "?>");
        if (end) {
            *end = '\0';
            if (take_value(head, "encoding=", out, outlen) == 0) return 0;
            *end = '?';
        }
    }
    return take_value(head, "charset=", out, outlen);
}

int html_to_utf8(const char *in, size_t len, const char *charset, buf_t *out, char *err,
                 size_t errlen)
{
    if (!charset || !*charset) charset = "UTF-8";
    /* even UTF-8 goes through iconv: it is the validation */
    iconv_t cd = iconv_open("UTF-8", charset);
    if (cd == (iconv_t)-1) {
        snprintf(err, errlen, "unknown charset \"%.60s\"", charset);
        return -1;
    }
    char *ip = (char *)in;
    size_t ileft = len;
    int rc = 0;
    while (ileft > 0) {
        char chunk[4096], *op = chunk;
        size_t oleft = sizeof chunk;
        size_t r = iconv(cd, &ip, &ileft, &op, &oleft);
        buf_append(out, chunk, sizeof chunk - oleft);
        if (r == (size_t)-1 && errno != E2BIG) {
            snprintf(err, errlen, "bytes invalid in charset \"%.60s\" at offset %zu", charset,
                     (size_t)(ip - in));
            rc = -1;
            break;
        }
    }
    iconv_close(cd);
    if (rc == 0 && out->failed) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    return rc;
}

/* ---- Main text -------------------------------------------------------- */

typedef struct {
    buf_t *out;
    int space, newline; /* separators owed before the next visible byte */
} writer_t;

static void emit(writer_t *w, const char *s)
{
    for (; s && *s; s++) {
        if (isspace((unsigned char)*s)) {
            w->space = 1;
            continue;
        }
        if (w->out->len > 0) {
            if (w->newline) buf_append(w->out, "\n", 1);
            else if (w->space) buf_append(w->out, " ", 1);
        }
        w->space = w->newline = 0;
        buf_append(w->out, s, 1);
    }
}

static int name_in(const xmlNode *n, const char *const *names)
{
    for (; *names; names++)
        if (xmlStrcasecmp(n->name, (const xmlChar *)*names) == 0) return 1;
    return 0;
}

static int is_boilerplate(const xmlNode *n)
{
    static const char *const skip[] = {"nav",    "header",   "footer", "aside", "script",
                                       "style",  "noscript", "form",   "iframe", "svg",
                                       "template", "button", "select", "figcaption", "head",
                                       NULL};
    static const char *const roles[] = {"navigation", "banner", "contentinfo", "complementary",
                                        NULL};
    if (name_in(n, skip)) return 1;
    xmlChar *role = xmlGetProp(n, (const xmlChar *)"role");
    int bad = 0;
    if (role) {
        for (const char *const *r = roles; *r && !bad; r++)
            bad = xmlStrcasecmp(role, (const xmlChar *)*r) == 0;
        xmlFree(role);
    }
    return bad || xmlHasProp(n, (const xmlChar *)"hidden") != NULL;
}

static int is_block(const xmlNode *n)
{
    static const char *const blocks[] = {
        "p",  "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
        "table", "section", "article", "main", "blockquote", "pre", "dd", "dt", "dl", "hr",
        "body", NULL};
    return name_in(n, blocks);
}

/* Depth-first without recursion: a hostile page nests deeper than a stack. */
static const xmlNode *find_element(const xmlNode *start, const char *name)
{
    const xmlNode *n = start;
    while (n) {
        if (n->type == XML_ELEMENT_NODE && xmlStrcasecmp(n->name, (const xmlChar *)name) == 0)
            return n;
        if (n->children && n->type == XML_ELEMENT_NODE) {
            n = n->children;
            continue;
        }
        while (n && n != start && !n->next) n = n->parent;
        if (!n || n == start) break;
        n = n->next;
    }
    return NULL;
}

static void walk(const xmlNode *start, writer_t *w)
{
    const xmlNode *n = start->children;
    while (n) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            emit(w, (const char *)n->content);
        } else if (n->type == XML_ELEMENT_NODE && !is_boilerplate(n)) {
            if (is_block(n)) w->newline = 1;
            if (n->children) {
                n = n->children;
                continue;
            }
        }
        /* leave finished nodes, closing blocks on the way up */
        while (n != start) {
            if (n->type == XML_ELEMENT_NODE && is_block(n)) w->newline = 1;
            if (n->next) break;
            n = n->parent;
        }
        n = n == start ? NULL : n->next;
    }
}

int html_main_text(const char *utf8, size_t len, buf_t *text, buf_t *title, char *err,
                   size_t errlen)
{
    if (len == 0) return 0;
    if (len > INT_MAX) {
        snprintf(err, errlen, "document too large");
        return -1;
    }
    htmlDocPtr doc = htmlReadMemory(utf8, (int)len, NULL, "UTF-8",
                                    HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                        HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    if (!doc) {
        snprintf(err, errlen, "not parseable as HTML");
        return -1;
    }
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (root) {
        const xmlNode *t = title ? find_element(root, "title") : NULL;
        if (t) {
            writer_t tw = {title, 0, 0};
            walk(t, &tw);
        }
        const xmlNode *main = find_element(root, "article");
        if (!main) main = find_element(root, "main");
        if (!main) main = find_element(root, "body");
        if (!main) main = root;
        writer_t w = {text, 0, 0};
        walk(main, &w);
    }
    xmlFreeDoc(doc);
    if (text->failed || (title && title->failed)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

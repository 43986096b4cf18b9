#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

volatile int log_min_level = LOG_INFO;
/* May be switched by a reload while other threads log: each line reads
 * the format once, so a line is never half one format, half the other. */
static volatile log_format_t log_format = LOG_FORMAT_JSON;
static const char *log_component = "shoal";

static const char *const level_names[] = {"debug", "info", "warn", "error", "fatal"};

void log_set_level(log_level_t lvl) { log_min_level = (int)lvl; }
void log_set_format(log_format_t fmt) { log_format = fmt; }
void log_set_component(const char *name) { log_component = name; }

int log_parse_level(const char *s, log_level_t *out)
{
    for (int i = 0; i <= LOG_FATAL; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (log_level_t)i;
            return 0;
        }
    }
    return -1;
}

int log_parse_format(const char *s, log_format_t *out)
{
    if (strcmp(s, "json") == 0) { *out = LOG_FORMAT_JSON; return 0; }
    if (strcmp(s, "logfmt") == 0) { *out = LOG_FORMAT_LOGFMT; return 0; }
    return -1;
}

/* A bounded appender: output is truncated (never overflowed) when a line
 * exceeds the buffer. */
typedef struct {
    char *buf;
    size_t cap, len;
} line_t;

static void put_raw(line_t *l, const char *s, size_t n)
{
    if (l->len >= l->cap) return;
    size_t room = l->cap - l->len;
    if (n > room) n = room;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void put_str(line_t *l, const char *s) { put_raw(l, s, strlen(s)); }

static void put_escaped(line_t *l, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const char *e = json_escape_byte(*p);
        if (e) put_str(l, e);
        else put_raw(l, (const char *)p, 1);
    }
}

static int needs_quotes(const char *s)
{
    if (!*s) return 1;
    for (; *s; s++)
        if (*s == ' ' || *s == '"' || *s == '=' || (unsigned char)*s < 0x20) return 1;
    return 0;
}

static void put_field(line_t *l, log_format_t fmt, const char *key, const char *val, int first)
{
    if (fmt == LOG_FORMAT_JSON) {
        put_str(l, first ? "\"" : ",\"");
        put_escaped(l, key);
        put_str(l, "\":\"");
        put_escaped(l, val ? val : "");
        put_str(l, "\"");
    } else {
        if (!first) put_str(l, " ");
        put_str(l, key);
        put_str(l, "=");
        if (val && !needs_quotes(val)) {
            put_str(l, val);
        } else {
            put_str(l, "\"");
            put_escaped(l, val ? val : "");
            put_str(l, "\"");
        }
    }
}

static void log_emit(log_level_t lvl, const char *msg, va_list *kv)
{
    char buf[8192];
    line_t l = {buf, sizeof(buf) - 2, 0};
    struct timespec ts;
    struct tm tm;
    char tbuf[40];

    log_format_t fmt = log_format;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(tbuf + n, sizeof(tbuf) - n, ".%03ldZ", ts.tv_nsec / 1000000);

    if (fmt == LOG_FORMAT_JSON) put_str(&l, "{");
    put_field(&l, fmt, "ts", tbuf, 1);
    put_field(&l, fmt, "level", level_names[lvl], 0);
    put_field(&l, fmt, "component", log_component, 0);
    put_field(&l, fmt, "msg", msg, 0);
    if (kv) {
        const char *k;
        while ((k = va_arg(*kv, const char *)) != NULL) {
            const char *v = va_arg(*kv, const char *);
            put_field(&l, fmt, k, v, 0);
        }
    }
    if (fmt == LOG_FORMAT_JSON) put_str(&l, "}");
    l.buf[l.len++] = '\n';

    /* One write per line; retry only on EINTR so a line is never split by
     * our own doing. */
    ssize_t w;
    do {
        w = write(STDERR_FILENO, l.buf, l.len);
    } while (w < 0 && errno == EINTR);
}

void log_kv(log_level_t lvl, const char *msg, ...)
{
    if (!LOG_ENABLED(lvl)) return;
    va_list ap;
    va_start(ap, msg);
    log_emit(lvl, msg, &ap);
    va_end(ap);
}

void log_msg(log_level_t lvl, const char *fmt, ...)
{
    if (!LOG_ENABLED(lvl)) return;
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_emit(lvl, msg, NULL);
}

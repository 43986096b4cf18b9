/* log: the one logging function.
 *
 * Every line is formatted into a stack buffer and emitted with a single
 * write(2) to stderr, so lines from threads never interleave and nothing
 * is lost to stdio buffering when the process is killed. No locks are
 * taken, so it is safe to call from any thread (but not from a signal
 * handler: handlers only set flags, see signals.h).
 *
 * The level is checked before any formatting happens. */
#ifndef SHOAL_LOG_H
#define SHOAL_LOG_H

#include <stdarg.h>
#include <stdint.h>

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_FATAL } log_level_t;
typedef enum { LOG_FORMAT_JSON = 0, LOG_FORMAT_LOGFMT } log_format_t;

extern volatile int log_min_level;

void log_set_level(log_level_t lvl);
int log_parse_level(const char *s, log_level_t *out); /* 0 ok, -1 unknown */
void log_set_format(log_format_t fmt);
int log_parse_format(const char *s, log_format_t *out);
/* A short name added to every line ("consumer", "producer", ...). Borrowed. */
void log_set_component(const char *name);

/* Structured fields: pass pairs of (key, value) strings terminated by NULL,
 * after the message format arguments are consumed via the fmt string:
 *   log_kv(LOG_INFO, "batch committed", "partition", "3", "rows", "500", NULL);
 * For printf-style messages without fields use log_msg(). */
void log_kv(log_level_t lvl, const char *msg, ...);
void log_msg(log_level_t lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG_ENABLED(lvl) ((int)(lvl) >= log_min_level)
#define log_debug(...) do { if (LOG_ENABLED(LOG_DEBUG)) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...)  do { if (LOG_ENABLED(LOG_INFO))  log_msg(LOG_INFO, __VA_ARGS__); } while (0)
#define log_warn(...)  do { if (LOG_ENABLED(LOG_WARN))  log_msg(LOG_WARN, __VA_ARGS__); } while (0)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_fatal(...) log_msg(LOG_FATAL, __VA_ARGS__)

#endif

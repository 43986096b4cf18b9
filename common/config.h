/* config: one declarative table of every setting, and its sources.
 *
 * Priority, lowest first: the table's default, the config file
 * (--config, else /etc/shoal/shoal.conf when present), SHOAL_* environment
 * variables (name upper-cased, '.' -> '_': db.statement.timeout.ms ->
 * SHOAL_DB_STATEMENT_TIMEOUT_MS), then command-line flags. A secret may also
 * come from a file named by SHOAL_<NAME>_FILE; so may the librdkafka
 * secrets sasl.password, ssl.key.password and sasl.oauthbearer.client.secret
 * (SHOAL_KAFKA_SASL_PASSWORD, SHOAL_KAFKA_SASL_PASSWORD_FILE, ...).
 *
 * "-X key=value" collects librdkafka properties verbatim (kcat style);
 * "topic."-prefixed keys are topic properties.
 *
 * Degradation rules: an unknown key in a file is an error reported as
 * file:line; an empty or malformed value of an optional setting logs a
 * warning and keeps the default; a required setting that cannot work is an
 * error that names it. */
#ifndef SHOAL_CONFIG_H
#define SHOAL_CONFIG_H

#include <stddef.h>
#include <stdio.h>

typedef enum { CFG_STR = 0, CFG_INT, CFG_BOOL, CFG_SECRET, CFG_FLOAT } cfg_type_t;

enum { CFG_CONSUMER = 1, CFG_PRODUCER = 2, CFG_BOTH = 3 };

typedef struct {
    const char *name;
    cfg_type_t type;
    const char *def;   /* default, as text */
    long min, max;     /* bounds for CFG_INT and CFG_FLOAT */
    int reloadable;    /* may change without a restart (documented; SIGHUP reload) */
    int programs;      /* CFG_CONSUMER | CFG_PRODUCER */
    const char *doc;
} cfg_def_t;

extern const cfg_def_t config_table[];
extern const size_t config_table_len;

typedef struct config config_t;

config_t *config_new(int program);
void config_destroy(config_t *c);

/* Sets one value from a named origin ("default", "file:line", "env", "flag").
 * Returns 0 (possibly after a logged warning and falling back to the default
 * for a bad optional value) or -1 for an unknown key, with err naming it. */
int config_set(config_t *c, const char *name, const char *value, const char *origin,
               char *err, size_t errlen);
/* Reads "key = value" lines; '#' starts a comment. Keys starting with
 * "kafka." are librdkafka properties ("kafka.security.protocol = ssl"). */
int config_load_file(config_t *c, const char *path, char *err, size_t errlen);
/* Applies SHOAL_* variables (and SHOAL_*_FILE for secrets). */
int config_load_env(config_t *c, char *err, size_t errlen);
/* Defaults, then the file (path, or /etc/shoal/shoal.conf when present and
 * path is NULL), then the environment. Flags are applied by the caller. */
int config_load_sources(config_t *c, const char *path, char *err, size_t errlen);
/* Adds one "-X key=value" librdkafka property. */
int config_add_kafka(config_t *c, const char *kv, char *err, size_t errlen);
/* One command-line flag, applied after config_load_sources(): name NULL is
 * -X KEY=VALUE, "" is --set KEY=VALUE, else the setting name (-b: "brokers"). */
int config_apply_flag(config_t *c, const char *name, const char *value, char *err,
                      size_t errlen);

/* Flags collected while parsing a command line, applied once the sources
 * are loaded so that they win. name as for config_apply_flag(). */
typedef struct {
    const char *name, *value;
} config_flag_t;

/* config_load_sources(c, path), then every flag in order. */
int config_load_with_flags(config_t *c, const char *path, const config_flag_t *flags, size_t n,
                           char *err, size_t errlen);

/* What a config_reload() did. */
typedef struct {
    size_t applied; /* reloadable settings that changed, now in effect */
    size_t restart; /* other settings (or librdkafka properties) that changed; not applied */
} config_reload_t;

/* SIGHUP: re-reads every source exactly as at startup, with
 * config_load_with_flags(path, flags) into a fresh configuration (the
 * environment is the process's own, so as at startup; the flags still win).
 * Then, for this program's settings, each changed reloadable one is applied
 * to c and logged once with its old and new value (masked as by
 * config_dump()); each other change is logged as needing a restart and
 * left as it is. When reading fails (unreadable file, unknown key as
 * file:line, a missing secret file) c stays entirely as it was, the error
 * is logged and returned in err, and -1 is returned. The logger's level and
 * format follow c afterwards, either way. */
int config_reload(config_t *c, const char *path, const config_flag_t *flags, size_t n,
                  config_reload_t *out, char *err, size_t errlen);

const char *config_str(const config_t *c, const char *name); /* never NULL */
long config_int(const config_t *c, const char *name);
int config_bool(const config_t *c, const char *name);
double config_float(const config_t *c, const char *name);

/* librdkafka pass-through properties, in the order given. */
size_t config_kafka_count(const config_t *c);
void config_kafka_get(const config_t *c, size_t i, const char **key, const char **val);

/* Effective values with their origin; secrets (and secret-looking kafka
 * properties such as sasl.password) are masked. */
void config_dump(const config_t *c, FILE *out);
/* The reference table in Markdown, generated from config_table. */
void config_print_reference(FILE *out);

/* Is this key (a setting or a librdkafka property) a secret to mask? */
int config_key_is_secret(const char *key);

#endif

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* The table. Keep it sorted by area; README's reference is generated from it
 * (tests/e2e checks that the README matches `shoal-consumer --config-reference`). */
const cfg_def_t config_table[] = {
    {"brokers", CFG_STR, "localhost:9092", 0, 0, 0, CFG_BOTH, "Kafka bootstrap servers (-b)."},
    {"topics", CFG_STR, "events", 0, 0, 0, CFG_BOTH, "Topic(s) to consume, comma-separated; the producer's target topic (-t)."},
    {"group", CFG_STR, "shoal", 0, 0, 0, CFG_CONSUMER, "Consumer group id (-g)."},
    {"db", CFG_SECRET, "postgresql:///shoal", 0, 0, 0, CFG_CONSUMER, "PostgreSQL connection string (--db); sslmode etc. pass through."},
    {"db.connect.timeout.s", CFG_INT, "5", 1, 300, 0, CFG_CONSUMER, "libpq connect_timeout, seconds."},
    {"db.statement.timeout.ms", CFG_INT, "30000", 100, 3600000, 0, CFG_CONSUMER, "PostgreSQL statement_timeout for every statement."},
    {"dlq.topic", CFG_STR, "", 0, 0, 0, CFG_CONSUMER, "Dead-letter topic; empty means <topic>.dlq."},
    {"batch.size", CFG_INT, "2000", 1, 100000, 1, CFG_CONSUMER, "Most messages in one batch (one transaction)."},
    {"batch.timeout.ms", CFG_INT, "200", 1, 60000, 1, CFG_CONSUMER, "Longest wait to fill a batch."},
    {"batch.eager", CFG_BOOL, "true", 0, 0, 1, CFG_CONSUMER, "A batch also goes as soon as the writer is free (batches grow with the load); false: only when full or after batch.timeout.ms. Not with llm.url set (an LLM round costs its latency whatever the batch size)."},
    {"retry.backoff.ms", CFG_INT, "200", 10, 60000, 1, CFG_CONSUMER, "First back-off after a transient failure; doubles, with jitter."},
    {"retry.backoff.max.ms", CFG_INT, "10000", 100, 600000, 1, CFG_CONSUMER, "Cap of the transient-failure back-off."},
    {"shutdown.timeout.ms", CFG_INT, "20000", 1000, 600000, 0, CFG_BOTH, "Bound on a graceful shutdown after SIGTERM/SIGINT."},
    {"drain.idle.ms", CFG_INT, "2000", 100, 600000, 0, CFG_CONSUMER, "With --drain: exit once caught up and idle this long."},
    {"startup.timeout.ms", CFG_INT, "60000", 1000, 86400000, 0, CFG_BOTH, "How long startup waits for PostgreSQL before exiting with code 3."},
    {"kafka.timeout.ms", CFG_INT, "10000", 100, 600000, 0, CFG_BOTH, "Bound on librdkafka calls (metadata, commit, flush)."},
    {"extract.taxonomy", CFG_STR, "", 0, 0, 0, CFG_CONSUMER, "Taxonomy JSON file for domain tags; empty means the one built in (schema/taxonomy.json)."},
    {"extract.gazetteer", CFG_STR, "", 0, 0, 0, CFG_CONSUMER, "Optional gazetteer file (Name<TAB>type lines) for entities."},
    {"extract.threads", CFG_INT, "2", 1, 64, 0, CFG_CONSUMER, "Threads of the built-in extractor, the consumer's main thread among them (its busiest work; events are independent)."},
    {"cluster.threshold", CFG_FLOAT, "0", 0, 1, 0, CFG_CONSUMER, "Similarity to join a story cluster; 0 means the tuned default."},
    {"cluster.merge.threshold", CFG_FLOAT, "0", 0, 1, 0, CFG_CONSUMER, "Similarity of two clusters' centroids to merge them; 0 means the tuned default."},
    {"cluster.title.weight", CFG_FLOAT, "0", 0, 100, 0, CFG_CONSUMER, "Weight of a title word, a body word weighing 1; 0 means the tuned default."},
    {"cluster.entity.weight", CFG_FLOAT, "0", 0, 100, 0, CFG_CONSUMER, "Weight of an extracted entity, a body word weighing 1; 0 means the tuned default."},
    {"cluster.bigram.weight", CFG_FLOAT, "0", 0, 10, 0, CFG_CONSUMER, "Weight of a word pair relative to its field's words; 0 means the tuned default."},
    {"cluster.centroid.power", CFG_FLOAT, "0", 0, 1, 0, CFG_CONSUMER, "Power a cluster's term sums are raised to when compared (1: plain sums); 0 means the tuned default."},
    {"cluster.window.hours", CFG_INT, "72", 1, 8760, 0, CFG_CONSUMER, "Clusters idle this long in event time close."},
    {"cluster.cache.max", CFG_INT, "50000", 100, 10000000, 0, CFG_CONSUMER, "Most recent clusters loaded from PostgreSQL at startup."},
    {"trend.window.days", CFG_INT, "7", 1, 365, 0, CFG_CONSUMER, "Trends are formed from clusters active in this window (event time)."},
    {"trend.refresh.ms", CFG_INT, "30000", 1000, 86400000, 1, CFG_CONSUMER, "How often trends are recomputed and stored, on their own thread, while events keep being persisted."},
    {"llm.url", CFG_STR, "", 0, 0, 0, CFG_CONSUMER, "OpenAI-compatible chat completions URL for LLM extraction; empty uses only the built-in extractor."},
    {"llm.model", CFG_STR, "gpt-4o-mini", 0, 0, 0, CFG_CONSUMER, "Model name sent to llm.url."},
    {"llm.api.key", CFG_SECRET, "", 0, 0, 0, CFG_CONSUMER, "Bearer token for llm.url (SHOAL_LLM_API_KEY); empty sends none."},
    {"llm.max.inflight", CFG_INT, "4", 1, 256, 0, CFG_CONSUMER, "Concurrent LLM requests per batch."},
    {"llm.timeout.ms", CFG_INT, "20000", 100, 600000, 0, CFG_CONSUMER, "Whole-request timeout of one LLM call."},
    {"llm.connect.timeout.ms", CFG_INT, "5000", 100, 60000, 0, CFG_CONSUMER, "Connect timeout of one LLM call."},
    {"llm.retries", CFG_INT, "2", 0, 10, 0, CFG_CONSUMER, "Retries of a failed LLM call (5xx, timeout, connection), with back-off and jitter."},
    {"llm.breaker.threshold", CFG_INT, "5", 1, 1000, 0, CFG_CONSUMER, "Consecutive LLM failures that open the circuit breaker."},
    {"llm.breaker.cooldown.ms", CFG_INT, "30000", 100, 3600000, 0, CFG_CONSUMER, "How long the open breaker waits before probing the LLM again."},
    {"llm.batch.deadline.ms", CFG_INT, "30000", 100, 600000, 0, CFG_CONSUMER, "Longest a batch waits for the LLM; unanswered events use the built-in extractor."},
    {"extract.reextract", CFG_BOOL, "false", 0, 0, 0, CFG_CONSUMER, "Extract events already stored again (--reextract), replacing their extraction, tags and facts; paid work is otherwise never repeated."},
    {"fetch.enabled", CFG_BOOL, "false", 0, 0, 0, CFG_CONSUMER, "Fetch the page of an event that has a URL but no text (http/https, HTML or plain text)."},
    {"fetch.timeout.ms", CFG_INT, "10000", 100, 120000, 0, CFG_CONSUMER, "Whole-request timeout of one page fetch."},
    {"fetch.max.bytes", CFG_INT, "2097152", 1024, 67108864, 0, CFG_CONSUMER, "Largest page body fetched; a larger one is recorded as too_large."},
    {"http.listen", CFG_STR, "127.0.0.1:9464", 0, 0, 0, CFG_CONSUMER, "HTTP endpoint for /metrics, /healthz, /readyz and /trends, HOST:PORT; empty disables it."},
    {"http.health.max.age.ms", CFG_INT, "30000", 1000, 3600000, 0, CFG_CONSUMER, "/healthz fails once the main loop has not turned for this long."},
    {"log.level", CFG_STR, "info", 0, 0, 1, CFG_BOTH, "debug, info, warn or error."},
    {"log.format", CFG_STR, "json", 0, 0, 1, CFG_BOTH, "json or logfmt."},
};
const size_t config_table_len = sizeof(config_table) / sizeof(config_table[0]);

typedef struct {
    char *value;
    char origin[64];
} cfg_val_t;

struct config {
    int program;
    cfg_val_t vals[sizeof(config_table) / sizeof(config_table[0])];
    char **kafka_keys, **kafka_vals;
    size_t kafka_n, kafka_cap;
};

static long find(const char *name)
{
    for (size_t i = 0; i < config_table_len; i++)
        if (strcmp(config_table[i].name, name) == 0) return (long)i;
    return -1;
}

static void set_value(cfg_val_t *v, const char *value, const char *origin)
{
    char *copy = strdup(value);
    if (!copy) return; /* keep the previous value: out of memory at startup is logged by the caller's checks */
    free(v->value);
    v->value = copy;
    snprintf(v->origin, sizeof(v->origin), "%s", origin);
}

config_t *config_new(int program)
{
    config_t *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    c->program = program;
    for (size_t i = 0; i < config_table_len; i++) set_value(&c->vals[i], config_table[i].def, "default");
    return c;
}

void config_destroy(config_t *c)
{
    if (!c) return;
    for (size_t i = 0; i < config_table_len; i++) free(c->vals[i].value);
    for (size_t i = 0; i < c->kafka_n; i++) {
        free(c->kafka_keys[i]);
        free(c->kafka_vals[i]);
    }
    free(c->kafka_keys);
    free(c->kafka_vals);
    free(c);
}

static int parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end) return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    if (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes") || !strcmp(s, "on")) { *out = 1; return 0; }
    if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "no") || !strcmp(s, "off")) { *out = 0; return 0; }
    return -1;
}

/* Checks a value against its type; returns NULL when fine, else why not. */
static const char *value_problem(const cfg_def_t *d, const char *value)
{
    long l;
    int b;
    if (d->type == CFG_INT) {
        if (parse_long(value, &l) != 0) return "not an integer";
        if (l < d->min || l > d->max) return "out of range";
    } else if (d->type == CFG_FLOAT) {
        char *end;
        errno = 0;
        double f = strtod(value, &end);
        if (errno || end == value || *end) return "not a number";
        if (f < (double)d->min || f > (double)d->max) return "out of range";
    } else if (d->type == CFG_BOOL) {
        if (parse_bool(value, &b) != 0) return "not a boolean";
    } else if (!strcmp(d->name, "log.level")) {
        log_level_t lv;
        if (log_parse_level(value, &lv) != 0) return "not a log level";
    } else if (!strcmp(d->name, "log.format")) {
        log_format_t f;
        if (log_parse_format(value, &f) != 0) return "not a log format";
    }
    return NULL;
}

int config_set(config_t *c, const char *name, const char *value, const char *origin, char *err,
               size_t errlen)
{
    long i = find(name);
    if (i < 0 && strncmp(name, "kafka.", 6) == 0) { /* kafka.timeout.ms is a setting */
        char kv[4096];
        snprintf(kv, sizeof(kv), "%s=%s", name + 6, value);
        return config_add_kafka(c, kv, err, errlen);
    }
    if (i < 0) {
        snprintf(err, errlen, "%s: unknown setting \"%s\"", origin, name);
        return -1;
    }
    const cfg_def_t *d = &config_table[i];
    if (!*value) {
        if (d->def[0]) {
            log_kv(LOG_WARN, "empty setting ignored, using the default", "setting", name, "origin",
                   origin, "default", d->type == CFG_SECRET ? "***" : d->def, NULL);
            return 0;
        }
    } else {
        const char *why = value_problem(d, value);
        if (why) {
            log_kv(LOG_WARN, "bad setting ignored, keeping the previous value", "setting", name,
                   "origin", origin, "problem", why, "value",
                   d->type == CFG_SECRET ? "***" : value, NULL);
            return 0;
        }
    }
    set_value(&c->vals[i], value, origin);
    if (!strcmp(name, "log.level")) {
        log_level_t lv;
        if (log_parse_level(value, &lv) == 0) log_set_level(lv);
    } else if (!strcmp(name, "log.format")) {
        log_format_t f;
        if (log_parse_format(value, &f) == 0) log_set_format(f);
    }
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

int config_load_file(config_t *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "config file %s: %s", path, strerror(errno));
        return -1;
    }
    char line[8192];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *s = trim(line);
        if (!*s) continue;
        char *eq = strchr(s, '=');
        char origin[300];
        snprintf(origin, sizeof(origin), "%s:%d", path, lineno);
        if (!eq) {
            snprintf(err, errlen, "%s: expected \"key = value\"", origin);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = '\0';
            val++;
        }
        if (config_set(c, key, val, origin, err, errlen) != 0) {
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

static void env_name(const char *name, char *out, size_t outlen)
{
    size_t o = (size_t)snprintf(out, outlen, "SHOAL_");
    for (const char *p = name; *p && o + 1 < outlen; p++)
        out[o++] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
    out[o] = '\0';
}

static int read_secret_file(const char *path, char **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "secret file %s: %s", path, strerror(errno));
        return -1;
    }
    char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
    *out = strdup(buf);
    return *out ? 0 : -1;
}

int config_load_env(config_t *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < config_table_len; i++) {
        char name[128], fname[140];
        env_name(config_table[i].name, name, sizeof(name));
        snprintf(fname, sizeof(fname), "%s_FILE", name);
        const char *v = getenv(name);
        if (v && config_set(c, config_table[i].name, v, "env", err, errlen) != 0) return -1;
        const char *fp = getenv(fname);
        if (fp && config_table[i].type == CFG_SECRET) {
            char *secret;
            if (read_secret_file(fp, &secret, err, errlen) != 0) return -1;
            int rc = config_set(c, config_table[i].name, secret, "env-file", err, errlen);
            free(secret);
            if (rc != 0) return -1;
        }
    }
    /* librdkafka secrets, too, so they need be neither on a command line
     * (visible in ps) nor in a config file: SHOAL_KAFKA_SASL_PASSWORD[_FILE]. */
    static const char *const kafka_secrets[] = {"kafka.sasl.password", "kafka.ssl.key.password",
                                                "kafka.sasl.oauthbearer.client.secret"};
    for (size_t i = 0; i < sizeof(kafka_secrets) / sizeof(kafka_secrets[0]); i++) {
        char name[128], fname[140];
        env_name(kafka_secrets[i], name, sizeof(name));
        snprintf(fname, sizeof(fname), "%s_FILE", name);
        const char *v = getenv(name), *fp = getenv(fname);
        char *secret = NULL;
        if (fp && read_secret_file(fp, &secret, err, errlen) != 0) return -1;
        if (!secret && !v) continue;
        int rc = config_set(c, kafka_secrets[i], secret ? secret : v, "env", err, errlen);
        free(secret);
        if (rc != 0) return -1;
    }
    return 0;
}

int config_add_kafka(config_t *c, const char *kv, char *err, size_t errlen)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) {
        snprintf(err, errlen, "-X expects key=value, got \"%.60s\"", kv);
        return -1;
    }
    if (c->kafka_n == c->kafka_cap) {
        size_t cap = c->kafka_cap ? c->kafka_cap * 2 : 16;
        char **k = realloc(c->kafka_keys, cap * sizeof(*k));
        if (!k) goto oom;
        c->kafka_keys = k;
        char **v = realloc(c->kafka_vals, cap * sizeof(*v));
        if (!v) goto oom;
        c->kafka_vals = v;
        c->kafka_cap = cap;
    }
    c->kafka_keys[c->kafka_n] = strndup(kv, (size_t)(eq - kv));
    c->kafka_vals[c->kafka_n] = strdup(eq + 1);
    if (!c->kafka_keys[c->kafka_n] || !c->kafka_vals[c->kafka_n]) {
        free(c->kafka_keys[c->kafka_n]);
        free(c->kafka_vals[c->kafka_n]);
        goto oom;
    }
    c->kafka_n++;
    return 0;
oom:
    snprintf(err, errlen, "out of memory adding -X %.60s", kv);
    return -1;
}

const char *config_str(const config_t *c, const char *name)
{
    long i = find(name);
    return i < 0 || !c->vals[i].value ? "" : c->vals[i].value;
}

long config_int(const config_t *c, const char *name)
{
    long v = 0;
    if (parse_long(config_str(c, name), &v) != 0) {
        long i = find(name);
        if (i >= 0) parse_long(config_table[i].def, &v);
    }
    return v;
}

int config_bool(const config_t *c, const char *name)
{
    int b = 0;
    parse_bool(config_str(c, name), &b);
    return b;
}

double config_float(const config_t *c, const char *name)
{
    return strtod(config_str(c, name), NULL);
}

size_t config_kafka_count(const config_t *c) { return c->kafka_n; }

void config_kafka_get(const config_t *c, size_t i, const char **key, const char **val)
{
    *key = c->kafka_keys[i];
    *val = c->kafka_vals[i];
}

int config_key_is_secret(const char *key)
{
    long i = find(key);
    if (i >= 0) return config_table[i].type == CFG_SECRET;
    return strstr(key, "password") || strstr(key, "secret") || strstr(key, "key.pem") ||
           strstr(key, "token") || strstr(key, "api.key") || strstr(key, "sasl.oauthbearer.config");
}

/* A value as it may be shown: secrets masked. */
static const char *shown(size_t i, const config_t *c)
{
    const char *v = c->vals[i].value ? c->vals[i].value : "";
    return config_table[i].type == CFG_SECRET && *v ? "***" : v;
}

static const char *kafka_shown(const char *key, const char *val)
{
    return config_key_is_secret(key) ? "***" : val;
}

void config_dump(const config_t *c, FILE *out)
{
    for (size_t i = 0; i < config_table_len; i++) {
        if (!(config_table[i].programs & c->program)) continue;
        fprintf(out, "%s = %s  # %s\n", config_table[i].name, shown(i, c), c->vals[i].origin);
    }
    for (size_t i = 0; i < c->kafka_n; i++)
        fprintf(out, "kafka.%s = %s  # -X\n", c->kafka_keys[i],
                kafka_shown(c->kafka_keys[i], c->kafka_vals[i]));
}

void config_print_reference(FILE *out)
{
    static const char *const types[] = {"string", "int", "bool", "secret", "float"};
    fprintf(out, "| setting | environment | type | default | reload | meaning |\n");
    fprintf(out, "|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < config_table_len; i++) {
        const cfg_def_t *d = &config_table[i];
        char env[128];
        env_name(d->name, env, sizeof(env));
        fprintf(out, "| `%s` | `%s` | %s | `%s` | %s | %s |\n", d->name, env, types[d->type],
                d->def, d->reloadable ? "yes" : "no", d->doc);
    }
}

int config_load_sources(config_t *c, const char *path, char *err, size_t errlen)
{
    static const char system_path[] = "/etc/shoal/shoal.conf";
    if (path) {
        if (config_load_file(c, path, err, errlen) != 0) return -1;
    } else {
        FILE *f = fopen(system_path, "r");
        if (f) {
            fclose(f);
            if (config_load_file(c, system_path, err, errlen) != 0) return -1;
        }
    }
    return config_load_env(c, err, errlen);
}

int config_apply_flag(config_t *c, const char *name, const char *value, char *err, size_t errlen)
{
    if (!name) return config_add_kafka(c, value, err, errlen);
    if (*name) return config_set(c, name, value, "flag", err, errlen);
    const char *eq = strchr(value, '=');
    if (!eq || eq == value) {
        snprintf(err, errlen, "--set expects key=value");
        return -1;
    }
    char key[256];
    snprintf(key, sizeof(key), "%.*s", (int)(eq - value), value);
    return config_set(c, key, eq + 1, "flag", err, errlen);
}

int config_load_with_flags(config_t *c, const char *path, const config_flag_t *flags, size_t n,
                           char *err, size_t errlen)
{
    if (config_load_sources(c, path, err, errlen) != 0) return -1;
    for (size_t i = 0; i < n; i++)
        if (config_apply_flag(c, flags[i].name, flags[i].value, err, errlen) != 0) return -1;
    return 0;
}

/* The logger's level and format as c says (config_set() switches them as it
 * goes, also while a reload reads sources it may then reject). */
static void apply_logger(const config_t *c)
{
    log_level_t lv;
    log_format_t f;
    if (log_parse_level(config_str(c, "log.level"), &lv) == 0) log_set_level(lv);
    if (log_parse_format(config_str(c, "log.format"), &f) == 0) log_set_format(f);
}

/* The effective value of a librdkafka property (the last one given wins),
 * or NULL. */
static const char *kafka_value(const config_t *c, const char *key)
{
    for (size_t i = c->kafka_n; i-- > 0;)
        if (strcmp(c->kafka_keys[i], key) == 0) return c->kafka_vals[i];
    return NULL;
}

/* Warns about each librdkafka property whose effective value differs
 * between the running and the re-read configuration; returns how many. */
static size_t kafka_changes(const config_t *running, const config_t *fresh)
{
    size_t n = 0;
    for (int removed = 0; removed < 2; removed++) {
        const config_t *a = removed ? running : fresh, *b = removed ? fresh : running;
        for (size_t i = 0; i < a->kafka_n; i++) {
            const char *key = a->kafka_keys[i], *va = a->kafka_vals[i];
            if (!va || kafka_value(a, key) != va) continue; /* overridden by a later one */
            const char *vb = kafka_value(b, key);
            if (removed ? vb != NULL : vb && strcmp(va, vb) == 0) continue;
            const char *was = removed ? va : vb, *now = removed ? NULL : va;
            char name[300];
            snprintf(name, sizeof(name), "kafka.%s", key);
            log_kv(LOG_WARN, "setting changed but needs a restart; keeping the running value",
                   "setting", name, "running", was ? kafka_shown(key, was) : "(unset)", "new",
                   now ? kafka_shown(key, now) : "(unset)", NULL);
            n++;
        }
    }
    return n;
}

int config_reload(config_t *c, const char *path, const config_flag_t *flags, size_t n,
                  config_reload_t *out, char *err, size_t errlen)
{
    *out = (config_reload_t){0, 0};
    config_t *fresh = config_new(c->program);
    if (!fresh) {
        snprintf(err, errlen, "out of memory");
    } else if (config_load_with_flags(fresh, path, flags, n, err, errlen) == 0) {
        /* While the changes are logged, the more verbose of the two levels
         * holds, so a change of log.level itself is seen either way. */
        apply_logger(c);
        log_level_t was, now;
        if (log_parse_level(config_str(c, "log.level"), &was) == 0 &&
            log_parse_level(config_str(fresh, "log.level"), &now) == 0 && now < was)
            log_set_level(now);
        for (size_t i = 0; i < config_table_len; i++) {
            const cfg_def_t *d = &config_table[i];
            if (!(d->programs & c->program)) continue;
            if (strcmp(config_str(c, d->name), config_str(fresh, d->name)) == 0) {
                if (d->reloadable) /* same value, maybe from another source now */
                    snprintf(c->vals[i].origin, sizeof(c->vals[i].origin), "%s", fresh->vals[i].origin);
                continue;
            }
            if (!d->reloadable) {
                log_kv(LOG_WARN, "setting changed but needs a restart; keeping the running value",
                       "setting", d->name, "running", shown(i, c), "new", shown(i, fresh), NULL);
                out->restart++;
                continue;
            }
            log_kv(LOG_INFO, "setting reloaded", "setting", d->name, "old", shown(i, c), "new",
                   shown(i, fresh), "origin", fresh->vals[i].origin, NULL);
            set_value(&c->vals[i], fresh->vals[i].value, fresh->vals[i].origin);
            out->applied++;
        }
        out->restart += kafka_changes(c, fresh);
        char a[24], r[24];
        snprintf(a, sizeof(a), "%zu", out->applied);
        snprintf(r, sizeof(r), "%zu", out->restart);
        log_kv(LOG_INFO, "configuration reloaded", "applied", a, "need_restart", r, NULL);
        apply_logger(c);
        config_destroy(fresh);
        return 0;
    }
    config_destroy(fresh);
    apply_logger(c);
    log_kv(LOG_ERROR, "configuration reload failed; keeping the running configuration", "error",
           err, NULL);
    return -1;
}

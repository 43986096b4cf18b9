#include "httpd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "log.h"
#include "metrics.h"

struct httpd {
    struct MHD_Daemon *daemon;
    httpd_config_t cfg;
    unsigned port;
    atomic_int assigned, db_ok, transient;
    /* Guards the callback pair and serialises its calls. */
    pthread_mutex_t trends_lock;
    httpd_trends_fn trends_fn;
    void *trends_opaque;
    /* While MHD_start_daemon() runs, libmicrohttpd's messages are kept for
     * the caller's error instead of being logged. */
    pthread_mutex_t log_lock;
    int starting;
    char start_error[256];
};

void httpd_config_default(httpd_config_t *c)
{
    c->health_max_age_ms = 30000;
    c->connection_limit = 16;
    c->connection_timeout_s = 10;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    httpd_t *h = cls;
    char msg[256];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\r\n")] = '\0';
    pthread_mutex_lock(&h->log_lock);
    int starting = h->starting;
    if (starting) snprintf(h->start_error, sizeof(h->start_error), "%s", msg);
    pthread_mutex_unlock(&h->log_lock);
    if (!starting) log_kv(LOG_WARN, "http server", "error", msg, NULL);
}

/* "HOST:PORT": HOST an IPv4 address, "localhost", or empty for any. */
static int parse_listen(const char *s, struct sockaddr_in *sa, char *err, size_t errlen)
{
    const char *colon = s ? strrchr(s, ':') : NULL;
    char host[64];
    size_t hlen = colon ? (size_t)(colon - s) : 0;
    const char *port = colon ? colon + 1 : "";
    size_t plen = strlen(port);
    if (!colon || hlen >= sizeof(host) || plen == 0 || plen > 5 || strspn(port, "0123456789") != plen ||
        atol(port) > 65535) {
        snprintf(err, errlen, "http.listen \"%s\": expected HOST:PORT with an IPv4 host, e.g. %s",
                 s ? s : "", HTTPD_DEFAULT_LISTEN);
        return -1;
    }
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)atol(port));
    if (hlen == 0) sa->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (strcmp(host, "localhost") == 0) sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        snprintf(err, errlen, "http.listen \"%s\": \"%s\" is not an IPv4 address", s, host);
        return -1;
    }
    return 0;
}

/* ---- Responses -------------------------------------------------------- */

#define TYPE_JSON "application/json"

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             const char *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* Sends and frees obj (NULL: the allocation failed somewhere). */
static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status, cJSON *obj)
{
    char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    if (!text) return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory\n", 14);
    enum MHD_Result rc = reply(c, status, TYPE_JSON, text, strlen(text));
    free(text);
    return rc;
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *why)
{
    cJSON *o = cJSON_CreateObject();
    if (o && !cJSON_AddStringToObject(o, "error", why)) {
        cJSON_Delete(o);
        o = NULL;
    }
    return reply_json(c, status, o);
}

static enum MHD_Result serve_metrics(struct MHD_Connection *c)
{
    buf_t b = {0};
    enum MHD_Result rc;
    if (metrics_render(&b) != 0)
        rc = reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "metrics unavailable\n", 20);
    else
        rc = reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    buf_free(&b);
    return rc;
}

static enum MHD_Result serve_healthz(httpd_t *h, struct MHD_Connection *c)
{
    long long age = metrics_heartbeat_age_ms();
    int ok = age >= 0 && age <= h->cfg.health_max_age_ms;
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddStringToObject(o, "status", ok ? "ok" : "unhealthy");
        if (age < 0) cJSON_AddStringToObject(o, "reason", "metrics registry not initialised");
        else {
            if (!ok) cJSON_AddStringToObject(o, "reason", "main loop heartbeat is stale");
            cJSON_AddNumberToObject(o, "heartbeat_age_ms", (double)age);
            cJSON_AddNumberToObject(o, "max_age_ms", (double)h->cfg.health_max_age_ms);
        }
    }
    return reply_json(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, o);
}

static enum MHD_Result serve_readyz(httpd_t *h, struct MHD_Connection *c)
{
    int assigned = atomic_load(&h->assigned), db = atomic_load(&h->db_ok);
    int transient = atomic_load(&h->transient);
    int ok = assigned && db && !transient;
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddStringToObject(o, "status", ok ? "ready" : "not_ready");
        cJSON_AddBoolToObject(o, "partitions_assigned", assigned);
        cJSON_AddBoolToObject(o, "database_reachable", db);
        cJSON_AddBoolToObject(o, "transient_fault", transient);
        if (!ok) {
            cJSON *why = cJSON_AddArrayToObject(o, "reasons");
            if (!assigned) cJSON_AddItemToArray(why, cJSON_CreateString("no partitions assigned"));
            if (!db) cJSON_AddItemToArray(why, cJSON_CreateString("database not reachable"));
            if (transient) cJSON_AddItemToArray(why, cJSON_CreateString("retrying a transient fault"));
        }
    }
    return reply_json(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, o);
}

static enum MHD_Result serve_trends(httpd_t *h, struct MHD_Connection *c)
{
    buf_t b = {0};
    char err[256] = "";
    int rc = -1, configured;
    pthread_mutex_lock(&h->trends_lock);
    configured = h->trends_fn != NULL;
    if (configured) rc = h->trends_fn(h->trends_opaque, &b, err, sizeof(err));
    pthread_mutex_unlock(&h->trends_lock);
    enum MHD_Result r;
    if (!configured) r = reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no trends source configured");
    else if (rc != 0) r = reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, *err ? err : "trends unavailable");
    else if (b.failed) r = reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    else r = reply(c, MHD_HTTP_OK, TYPE_JSON, b.data ? b.data : "", b.len);
    buf_free(&b);
    return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    httpd_t *h = cls;
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)req_cls;
    /* libmicrohttpd sends no body for HEAD by itself. */
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD");
    if (strcmp(url, "/metrics") == 0) return serve_metrics(c);
    if (strcmp(url, "/healthz") == 0) return serve_healthz(h, c);
    if (strcmp(url, "/readyz") == 0) return serve_readyz(h, c);
    if (strcmp(url, "/trends") == 0) return serve_trends(h, c);
    return reply_error(c, MHD_HTTP_NOT_FOUND, "not found");
}

/* ---- Lifecycle -------------------------------------------------------- */

httpd_t *httpd_start(const char *listen, const httpd_config_t *cfg, char *err, size_t errlen)
{
    struct sockaddr_in sa;
    if (parse_listen(listen, &sa, err, errlen) != 0) return NULL;
    httpd_t *h = calloc(1, sizeof(*h));
    if (!h) {
        snprintf(err, errlen, "http.listen %s: out of memory", listen);
        return NULL;
    }
    httpd_config_default(&h->cfg);
    if (cfg && cfg->health_max_age_ms > 0) h->cfg.health_max_age_ms = cfg->health_max_age_ms;
    if (cfg && cfg->connection_limit > 0) h->cfg.connection_limit = cfg->connection_limit;
    if (cfg && cfg->connection_timeout_s > 0) h->cfg.connection_timeout_s = cfg->connection_timeout_s;
    pthread_mutex_init(&h->trends_lock, NULL);
    pthread_mutex_init(&h->log_lock, NULL);
    h->starting = 1;

    /* The server's threads inherit this mask: asynchronous signals stay
     * with the main thread. Faults stay deliverable so a crash in a server
     * thread is still reported (and sanitizers still see it). */
    sigset_t block, old;
    sigfillset(&block);
    sigdelset(&block, SIGSEGV);
    sigdelset(&block, SIGBUS);
    sigdelset(&block, SIGFPE);
    sigdelset(&block, SIGILL);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    /* Thread per connection, polling with poll() (MHD_USE_AUTO), so
     * descriptor numbers above FD_SETSIZE are fine. The logger must be the
     * first option to catch messages from the start itself. */
    h->daemon = MHD_start_daemon(
        MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT,
        h->cfg.connection_limit, MHD_OPTION_CONNECTION_TIMEOUT, h->cfg.connection_timeout_s,
        MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_mutex_lock(&h->log_lock);
    h->starting = 0;
    pthread_mutex_unlock(&h->log_lock);

    if (!h->daemon) {
        snprintf(err, errlen, "http.listen %s: cannot serve: %s", listen,
                 *h->start_error ? h->start_error : "libmicrohttpd failed to start");
        httpd_stop(h);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : ntohs(sa.sin_port);
    return h;
}

void httpd_stop(httpd_t *h)
{
    if (!h) return;
    if (h->daemon) MHD_stop_daemon(h->daemon);
    pthread_mutex_destroy(&h->trends_lock);
    pthread_mutex_destroy(&h->log_lock);
    free(h);
}

unsigned httpd_port(const httpd_t *h) { return h ? h->port : 0; }

void httpd_set_trends_cb(httpd_t *h, httpd_trends_fn fn, void *opaque)
{
    if (!h) return;
    pthread_mutex_lock(&h->trends_lock);
    h->trends_fn = fn;
    h->trends_opaque = opaque;
    pthread_mutex_unlock(&h->trends_lock);
}

void httpd_set_partitions_assigned(httpd_t *h, int yes)
{
    if (h) atomic_store(&h->assigned, yes ? 1 : 0);
}

void httpd_set_db_reachable(httpd_t *h, int yes)
{
    if (h) atomic_store(&h->db_ok, yes ? 1 : 0);
}

void httpd_set_transient_fault(httpd_t *h, int yes)
{
    if (h) atomic_store(&h->transient, yes ? 1 : 0);
}

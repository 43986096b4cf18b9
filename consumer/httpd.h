/* httpd: the consumer's HTTP endpoint (libmicrohttpd), setting http.listen.
 *
 *   GET /metrics  Prometheus text format 0.0.4 (metrics_render()).
 *   GET /healthz  200 while the main loop's heartbeat (metrics_heartbeat())
 *                 is younger than health_max_age_ms, else 503; JSON body.
 *   GET /readyz   200 when partitions are assigned AND the database is
 *                 reachable AND no transient fault is being retried, else
 *                 503; the JSON body says which condition is false.
 *   GET /trends   the JSON the trends callback writes; 503 without one or
 *                 when it fails.
 *   HEAD is served like GET without the body; other methods get 405, other
 *   paths 404. Query strings are ignored.
 *
 * Threads: one thread per connection (at most connection_limit at once,
 * idle ones closed after connection_timeout_s), so a slow /trends never
 * holds up a /healthz probe. The server's threads start with every signal
 * blocked: signals reach the main thread, whose loop watches the flags.
 *
 * Readiness starts false on all three counts (nothing assigned, database
 * not known reachable); the main loop reports each change with the setters,
 * which are lock-free and may be called with h == NULL (no server), so the
 * caller need not care whether the endpoint started.
 *
 * The registry (metrics.h) must be initialised before httpd_start() and
 * shut down only after httpd_stop(). */
#ifndef SHOAL_HTTPD_H
#define SHOAL_HTTPD_H

#include <stddef.h>

#include "buf.h"

#define HTTPD_DEFAULT_LISTEN "127.0.0.1:9464"

typedef struct {
    long health_max_age_ms;         /* default 30000 */
    unsigned connection_limit;      /* concurrent connections; default 16 */
    unsigned connection_timeout_s;  /* idle connection closed after; default 10 */
} httpd_config_t;

void httpd_config_default(httpd_config_t *c);

/* Writes a JSON document into out (which arrives empty) and returns 0, or
 * returns -1 with a one-line reason in err (served as 503).
 *
 * It runs on a server thread, concurrently with the main loop, so it must
 * be thread-safe with respect to everything the main loop touches: e.g.
 * open its own short-lived libpq connection rather than borrow the
 * consumer's. Calls are serialised (one at a time), which also bounds the
 * connections it opens to one. */
typedef int (*httpd_trends_fn)(void *opaque, buf_t *out, char *err, size_t errlen);

typedef struct httpd httpd_t;

/* Binds listen ("HOST:PORT", HOST an IPv4 address or "localhost", empty
 * for every interface; PORT 0 picks a free port, see httpd_port()) and
 * starts serving. cfg NULL means the defaults. Returns NULL with a reason
 * naming http.listen in err when the address is malformed or cannot be
 * bound. */
httpd_t *httpd_start(const char *listen, const httpd_config_t *cfg, char *err, size_t errlen);
/* Stops serving (waits for requests in progress) and frees h. NULL is fine. */
void httpd_stop(httpd_t *h);

/* The bound port (the chosen one when listen asked for port 0). */
unsigned httpd_port(const httpd_t *h);

/* Registers (fn NULL: removes) the /trends callback; opaque is borrowed and
 * must stay valid until the callback is replaced or httpd_stop() returns.
 * Waits for a call in progress to finish. */
void httpd_set_trends_cb(httpd_t *h, httpd_trends_fn fn, void *opaque);

/* Readiness inputs, 0 or 1. */
void httpd_set_partitions_assigned(httpd_t *h, int yes);
void httpd_set_db_reachable(httpd_t *h, int yes);
void httpd_set_transient_fault(httpd_t *h, int yes);

#endif

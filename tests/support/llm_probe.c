/* llm_probe: drives consumer/extract/llm.c against tests/support/fake_llm.py
 * (tests/e2e/30_llm.sh builds and runs it).
 *
 *   llm_probe BASE_URL SCENARIO...    e.g. llm_probe http://127.0.0.1:4242 ok hang
 *
 * Each scenario sets the fake's mode through POST /control, runs batches,
 * and checks the slots, the timing, the client's counters and the fake's
 * GET /stats. Prints "PASS name" or "FAIL name: why" per check; exits 1 if
 * any failed. The "parse" and "refused" scenarios need no server. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "extract/llm.h"
#include "clock.h"
#include "http.h"
#include "log.h"

#define BIG_TEXT (16u << 20)

static const char *base;
static int failures;

static void check(int ok, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void check(int ok, const char *name, const char *fmt, ...)
{
    if (ok) {
        printf("PASS %s\n", name);
    } else {
        va_list ap;
        va_start(ap, fmt);
        printf("FAIL %s: ", name);
        vprintf(fmt, ap);
        printf("\n");
        va_end(ap);
        failures++;
    }
    fflush(stdout);
}

/* One blocking request to the fake's control plane; the parsed JSON answer
 * (caller frees) or NULL. */
static cJSON *fake_call(const char *path, const char *post)
{
    char url[256], err[128];
    snprintf(url, sizeof url, "%s%s", base, path);
    http_opts_t o;
    http_opts_default(&o);
    o.timeout_ms = 5000;
    http_body_t b;
    http_body_init(&b);
    cJSON *x = NULL;
    CURL *h = curl_easy_init();
    if (h && http_easy_setup(h, &o, &b, err, sizeof err) == 0) {
        curl_easy_setopt(h, CURLOPT_URL, url);
        if (post) curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
        CURLcode rc = curl_easy_perform(h);
        if (rc == CURLE_OK && b.data) x = cJSON_Parse(b.data);
        else fprintf(stderr, "llm_probe: %s: %s\n", url, curl_easy_strerror(rc));
    }
    curl_easy_cleanup(h);
    http_body_free(&b);
    return x;
}

static void fake_mode(const char *mode)
{
    char body[128];
    snprintf(body, sizeof body, "{\"mode\":\"%s\",\"reset\":true}", mode);
    cJSON_Delete(fake_call("/control", body));
}

/* A number from GET /stats, or -1. */
static double fake_stat(const char *key)
{
    cJSON *s = fake_call("/stats", NULL);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, key);
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
    cJSON_Delete(s);
    return d;
}

/* Seconds between the fake's first two arrivals, or -1. */
static double fake_arrival_gap(void)
{
    cJSON *s = fake_call("/stats", NULL);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(s, "arrivals");
    double d = -1;
    if (cJSON_GetArraySize(a) >= 2)
        d = cJSON_GetArrayItem(a, 1)->valuedouble - cJSON_GetArrayItem(a, 0)->valuedouble;
    cJSON_Delete(s);
    return d;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {}
}

static llm_config_t config(void)
{
    static char url[256];
    snprintf(url, sizeof url, "%s/v1/chat/completions", base);
    llm_config_t c;
    llm_config_default(&c);
    c.url = url;
    c.model = "fake-model";
    c.api_key = "sk-probe-not-a-secret";
    c.backoff_base_ms = 20;
    c.backoff_max_ms = 100;
    return c;
}

static llm_t *client(const llm_config_t *c)
{
    char err[200];
    llm_t *l = llm_new(c, err, sizeof err);
    if (!l) {
        printf("FAIL llm_new: %s\n", err);
        exit(1);
    }
    return l;
}

#define MAX_IN 16
static extract_input_t inputs[MAX_IN];

static void make_inputs(size_t n, const char *text)
{
    static char titles[MAX_IN][64];
    for (size_t i = 0; i < n; i++) {
        snprintf(titles[i], sizeof titles[i], "Acme Robotics raises money from Bolt Ventures %zu", i);
        inputs[i] = (extract_input_t){.kind = 0, .title = titles[i], .text = text};
    }
}

/* Runs one batch; returns the slots that succeeded and frees the results.
 * *ms gets the wall time. */
static size_t run(llm_t *l, size_t n, long deadline_ms, long long *ms, cJSON **keep_first)
{
    cJSON *out[MAX_IN];
    llm_batch_stats_t st;
    long long t0 = clock_monotonic_ms();
    llm_extract_batch(l, inputs, n, out, deadline_ms, &st);
    *ms = clock_monotonic_ms() - t0;
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        if (out[i]) ok++;
        if (i == 0 && keep_first) *keep_first = out[i];
        else cJSON_Delete(out[i]);
    }
    return ok;
}

static void scenario_ok(void)
{
    fake_mode("ok");
    llm_config_t c = config();
    llm_t *l = client(&c);
    make_inputs(3, "Acme Robotics said the round values it at two billion.");
    long long ms;
    cJSON *first = NULL;
    size_t ok = run(l, 3, 5000, &ms, &first);
    check(ok == 3, "ok.slots", "%zu of 3 succeeded", ok);
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(first, "extracted_by");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(first, "extractor_version");
    check(cJSON_IsString(by) && strcmp(by->valuestring, "llm:fake-model") == 0 &&
              cJSON_IsString(ver) && strcmp(ver->valuestring, LLM_EXTRACTOR_VERSION) == 0,
          "ok.extracted_by", "extracted_by/extractor_version not set");
    char *s = first ? cJSON_PrintUnformatted(first) : NULL;
    check(s && strstr(s, "\"name\":\"Acme\"") && strstr(s, "\"name\":\"Bolt\""), "ok.entities",
          "entities not from the prompt: %s", s ? s : "(null)");
    free(s);
    cJSON_Delete(first);
    check(fake_stat("requests") == 3, "ok.requests", "fake saw %g requests, want 3",
          fake_stat("requests"));
    llm_counters_t k;
    llm_counters(l, &k);
    check(k.requests == 3 && k.successes == 3 && k.latency_count == 3, "ok.counters",
          "requests %llu successes %llu latency_count %llu", (unsigned long long)k.requests,
          (unsigned long long)k.successes, (unsigned long long)k.latency_count);
    llm_destroy(l);
}

static void scenario_hang(void)
{
    fake_mode("hang");
    llm_config_t c = config();
    c.timeout_ms = 20000; /* the deadline, not the request timeout, must end it */
    llm_t *l = client(&c);
    make_inputs(2, "");
    long long ms;
    size_t ok = run(l, 2, 1500, &ms, NULL);
    check(ok == 0, "hang.slots", "%zu slots succeeded against a hanging server", ok);
    check(ms >= 1400 && ms < 2500, "hang.bounded", "batch took %lld ms, deadline 1500", ms);
    llm_counters_t k;
    llm_counters(l, &k);
    check(k.failures[LLM_FAIL_TIMEOUT] >= 2, "hang.counted", "timeouts %llu",
          (unsigned long long)k.failures[LLM_FAIL_TIMEOUT]);
    llm_destroy(l);
}

static void scenario_429(void)
{
    fake_mode("429:1");
    llm_config_t c = config();
    llm_t *l = client(&c);
    make_inputs(1, "");
    long long ms;
    size_t ok = run(l, 1, 10000, &ms, NULL);
    double gap = fake_arrival_gap();
    check(ok == 1, "429.retried", "slot failed");
    check(gap >= 2.0 && gap < 3.0, "429.retry_after", "second attempt %.3f s after the first", gap);
    llm_counters_t k;
    llm_counters(l, &k);
    check(k.failures[LLM_FAIL_HTTP_429] == 1 && k.retries == 1, "429.counters",
          "http_429 %llu retries %llu", (unsigned long long)k.failures[LLM_FAIL_HTTP_429],
          (unsigned long long)k.retries);

    /* a Retry-After past the deadline is not waited for */
    fake_mode("429:1");
    ok = run(l, 1, 1000, &ms, NULL);
    check(ok == 0 && ms < 500, "429.deadline", "slot %s after %lld ms (deadline 1000, Retry-After 2 s)",
          ok ? "succeeded" : "failed", ms);
    check(fake_stat("requests") == 1, "429.deadline_requests", "fake saw %g requests, want 1",
          fake_stat("requests"));
    llm_destroy(l);
}

static void scenario_breaker(void)
{
    fake_mode("500");
    llm_config_t c = config();
    c.breaker_threshold = 3;
    c.breaker_cooldown_ms = 1500;
    c.max_retries = 1;
    c.max_in_flight = 1; /* one at a time: the request count is exact */
    llm_t *l = client(&c);
    make_inputs(4, "");
    long long ms;
    size_t ok = run(l, 4, 10000, &ms, NULL);
    llm_counters_t k;
    llm_counters(l, &k);
    check(ok == 0, "breaker.500", "%zu slots succeeded against 500", ok);
    check(fake_stat("requests") == 3, "breaker.opens", "fake saw %g requests, want 3 (threshold)",
          fake_stat("requests"));
    check(k.breaker_state == BREAKER_OPEN && k.failures[LLM_FAIL_HTTP_5XX] == 3 &&
              k.failures[LLM_FAIL_BREAKER_OPEN] == 3,
          "breaker.state", "state %s, http_5xx %llu, breaker_open %llu",
          breaker_state_name((breaker_state_t)k.breaker_state),
          (unsigned long long)k.failures[LLM_FAIL_HTTP_5XX],
          (unsigned long long)k.failures[LLM_FAIL_BREAKER_OPEN]);

    /* while open: slots fail at once and nothing is sent */
    ok = run(l, 4, 10000, &ms, NULL);
    check(ok == 0 && ms < 200, "breaker.fail_fast", "%zu ok after %lld ms", ok, ms);
    check(fake_stat("requests") == 3, "breaker.no_requests", "fake saw %g requests, want 3",
          fake_stat("requests"));

    /* the server recovers; after the cooldown one probe closes it */
    fake_mode("ok");
    sleep_ms(1600);
    llm_counters(l, &k);
    check(k.breaker_state == BREAKER_HALF_OPEN, "breaker.half_open", "state %s after the cooldown",
          breaker_state_name((breaker_state_t)k.breaker_state));
    ok = run(l, 4, 10000, &ms, NULL);
    llm_counters(l, &k);
    check(ok == 4 && k.breaker_state == BREAKER_CLOSED, "breaker.closes", "%zu ok, state %s", ok,
          breaker_state_name((breaker_state_t)k.breaker_state));
    check(fake_stat("requests") == 4, "breaker.probe_requests", "fake saw %g requests, want 4",
          fake_stat("requests"));
    llm_destroy(l);
}

static void scenario_bad_content(const char *mode, llm_fail_t kind)
{
    char name[64];
    fake_mode(mode);
    llm_config_t c = config();
    llm_t *l = client(&c);
    make_inputs(2, "");
    long long ms;
    size_t ok = run(l, 2, 5000, &ms, NULL);
    llm_counters_t k;
    llm_counters(l, &k);
    snprintf(name, sizeof name, "%s.null_slots", mode);
    check(ok == 0, name, "%zu slots succeeded", ok);
    snprintf(name, sizeof name, "%s.counted", mode);
    check(k.failures[kind] == 2 && k.retries == 0 && k.breaker_state == BREAKER_CLOSED, name,
          "%s %llu (want 2), retries %llu, breaker %s", llm_fail_name(kind),
          (unsigned long long)k.failures[kind], (unsigned long long)k.retries,
          breaker_state_name((breaker_state_t)k.breaker_state));
    snprintf(name, sizeof name, "%s.requests", mode);
    check(fake_stat("requests") == 2, name, "fake saw %g requests, want 2 (no retries)",
          fake_stat("requests"));
    llm_destroy(l);
}

/* name: check prefix; text: the body of each event; want_ours: the resend
 * must be llm.c's own (else libcurl's internal one also passes). */
static void scenario_close_idle(const char *name, const char *text, int want_ours)
{
    char n[64];
    fake_mode("close-idle");
    llm_config_t c = config();
    c.max_input_bytes = BIG_TEXT + 1024;
    llm_t *l = client(&c);
    make_inputs(1, text);
    long long ms;
    size_t ok1 = run(l, 1, 5000, &ms, NULL);
    sleep_ms(1300);
    size_t ok2 = run(l, 1, 5000, &ms, NULL);
    llm_counters_t k;
    llm_counters(l, &k);
    snprintf(n, sizeof n, "%s.after_idle", name);
    check(ok1 == 1 && ok2 == 1, n, "first %zu, after the idle gap %zu", ok1, ok2);
    double dropped = fake_stat("dropped"), conns = fake_stat("connections"),
           reqs = fake_stat("requests");
    snprintf(n, sizeof n, "%s.one_fresh_retry", name);
    /* stats connections also counts the probe's own control connections */
    check(dropped == 1 && reqs == 3, n, "fake dropped %g, saw %g requests on %g connections", dropped,
          reqs, conns);
    snprintf(n, sizeof n, "%s.counters", name);
    check(k.failures[LLM_FAIL_CONNECT] == 0 && (!want_ours || k.stale_retries == 1), n,
          "connect failures %llu, stale retries %llu", (unsigned long long)k.failures[LLM_FAIL_CONNECT],
          (unsigned long long)k.stale_retries);
    llm_destroy(l);
}

static void scenario_concurrency(void)
{
    fake_mode("slow:1");
    llm_config_t c = config();
    c.max_in_flight = 4;
    llm_t *l = client(&c);
    make_inputs(8, "");
    long long ms;
    size_t ok = run(l, 8, 20000, &ms, NULL);
    check(ok == 8, "concurrency.slots", "%zu of 8 succeeded", ok);
    check(ms >= 1900 && ms < 5000, "concurrency.time", "8 x 1 s at 4 in flight took %lld ms", ms);
    check(fake_stat("max_in_flight") == 4, "concurrency.limit", "fake saw %g at once, want 4",
          fake_stat("max_in_flight"));
    llm_destroy(l);
}

/* The stepping API returns to the caller while requests are pending. */
static void scenario_step(void)
{
    fake_mode("slow:1");
    llm_config_t c = config();
    llm_t *l = client(&c);
    make_inputs(2, "");
    cJSON *out[2];
    llm_batch_stats_t st;
    int steps = 0;
    long long worst = 0, t0 = clock_monotonic_ms();
    check(llm_batch_start(l, inputs, 2, 5000) == 0, "step.start", "start refused");
    check(llm_batch_start(l, inputs, 2, 5000) == -1, "step.one_batch", "a second start was accepted");
    for (;;) {
        long long s = clock_monotonic_ms();
        int done = llm_batch_step(l, 50);
        if (clock_monotonic_ms() - s > worst) worst = clock_monotonic_ms() - s;
        if (done) break;
        steps++;
    }
    llm_batch_finish(l, out, &st);
    long long ms = clock_monotonic_ms() - t0;
    check(out[0] && out[1] && st.ok == 2, "step.slots", "ok %zu", st.ok);
    check(steps >= 10 && worst < 400, "step.returns", "%d unfinished steps, longest %lld ms", steps,
          worst);
    check(ms < 2000, "step.concurrent", "took %lld ms", ms);
    cJSON_Delete(out[0]);
    cJSON_Delete(out[1]);

    /* finish before done abandons the slots */
    check(llm_batch_start(l, inputs, 2, 5000) == 0 && llm_batch_step(l, 0) == 0, "step.pending",
          "batch settled at once");
    llm_batch_finish(l, out, &st);
    llm_counters_t k;
    llm_counters(l, &k);
    check(!out[0] && !out[1] && st.failed == 2 && k.failures[LLM_FAIL_DEADLINE] == 2 &&
              k.breaker_state == BREAKER_CLOSED,
          "step.abandon", "failed %zu deadline %llu", st.failed,
          (unsigned long long)k.failures[LLM_FAIL_DEADLINE]);
    llm_destroy(l);
}

static void scenario_refused(void)
{
    llm_config_t c;
    llm_config_default(&c);
    c.url = "http://127.0.0.1:1/v1/chat/completions"; /* nothing listens on port 1 */
    c.model = "m";
    c.backoff_base_ms = 20;
    c.backoff_max_ms = 50;
    c.breaker_threshold = 100; /* this counts retries, not the breaker */
    llm_t *l = client(&c);
    make_inputs(2, "");
    long long ms;
    size_t ok = run(l, 2, 5000, &ms, NULL);
    llm_counters_t k;
    llm_counters(l, &k);
    check(ok == 0 && ms < 1000, "refused.fast", "%zu ok after %lld ms", ok, ms);
    check(k.failures[LLM_FAIL_CONNECT] == 6 && k.retries == 4, "refused.retried",
          "connect %llu retries %llu (want 6 and 4)", (unsigned long long)k.failures[LLM_FAIL_CONNECT],
          (unsigned long long)k.retries);
    llm_destroy(l);
}

/* Parses a completions body whose content is the given string. */
static int parse_content(const char *content, cJSON **out, char *err, size_t errlen)
{
    cJSON *root = cJSON_CreateObject(), *choices = cJSON_AddArrayToObject(root, "choices");
    cJSON *choice = cJSON_CreateObject(), *msg = cJSON_AddObjectToObject(choice, "message");
    cJSON_AddItemToArray(choices, choice);
    cJSON_AddStringToObject(msg, "content", content);
    char *body = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    /* an exact-size copy without a NUL: the parser must stay inside it */
    size_t n = strlen(body);
    char *exact = malloc(n);
    memcpy(exact, body, n);
    free(body);
    int rc = llm_parse_response(exact, n, out, err, errlen);
    free(exact);
    return rc;
}

static void scenario_parse(void)
{
    static const char valid[] = "{\"entities\":[{\"name\":\"Acme\",\"type\":\"org\",\"count\":2}],"
                                "\"money\":[],\"percentages\":[],\"dates\":[],\"tags\":[\"ai\"],"
                                "\"facts\":[]}";
    static const struct {
        const char *name, *content;
        int want;
    } cases[] = {
        {"parse.bare", valid, 0},
        {"parse.fenced", "```json\n{\"entities\":[],\"money\":[],\"percentages\":[],\"dates\":[],"
                         "\"tags\":[],\"facts\":[]}\n```\n",
         0},
        {"parse.fenced_plain", "  ```\n{\"entities\":[],\"money\":[],\"percentages\":[],\"dates\":[],"
                               "\"tags\":[],\"facts\":[]}```",
         0},
        {"parse.model_names_itself", "{\"extracted_by\":\"gpt\",\"extractor_version\":\"x\","
                                     "\"entities\":[],\"money\":[],\"percentages\":[],\"dates\":[],"
                                     "\"tags\":[],\"facts\":[]}",
         0},
        {"parse.prose", "Here you go: {}", -1},
        {"parse.trailing", "{\"entities\":[],\"money\":[],\"percentages\":[],\"dates\":[],"
                           "\"tags\":[],\"facts\":[]} and more",
         -1},
        {"parse.unclosed_fence", "```json\n{}", -1},
        {"parse.array", "[]", -1},
        {"parse.missing_key", "{\"entities\":[]}", -2},
        {"parse.bad_type", "{\"entities\":[{\"name\":\"A\",\"type\":\"alien\"}],\"money\":[],"
                           "\"percentages\":[],\"dates\":[],\"tags\":[],\"facts\":[]}",
         -2},
        {"parse.duplicate_key", "{\"entities\":[],\"money\":[],\"percentages\":[],\"dates\":[],"
                                "\"tags\":[],\"facts\":[],\"tags\":[\"NOT A SLUG\"]}",
         -2},
    };
    char err[200];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *x = NULL;
        err[0] = '\0';
        int rc = parse_content(cases[i].content, &x, err, sizeof err);
        int ok = rc == cases[i].want && (rc == 0) == (x != NULL);
        if (ok && x) {
            const cJSON *by = cJSON_GetObjectItemCaseSensitive(x, "extracted_by");
            ok = cJSON_IsString(by) && strcmp(by->valuestring, "llm") == 0;
        }
        check(ok, cases[i].name, "rc %d (want %d): %s", rc, cases[i].want, err);
        cJSON_Delete(x);
    }
    static const char *const bodies[] = {"", "{", "null", "{\"choices\":[]}",
                                         "{\"choices\":[{\"message\":{\"content\":null}}]}",
                                         "{\"choices\":{\"message\":{\"content\":\"{}\"}}}"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        cJSON *x = NULL;
        int rc = llm_parse_response(bodies[i], strlen(bodies[i]), &x, err, sizeof err);
        check(rc == -1 && !x, "parse.bad_body", "body %s: rc %d", bodies[i], rc);
    }
}

int main(int argc, char **argv)
{
    char err[128];
    if (argc < 3) {
        fprintf(stderr, "usage: llm_probe BASE_URL SCENARIO...\n");
        return 2;
    }
    if (http_global_init(err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    log_set_level(getenv("LLM_PROBE_DEBUG") ? LOG_DEBUG : LOG_WARN);
    log_set_component("llm_probe");
    base = argv[1];
    char *big = NULL;
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "ok") == 0) scenario_ok();
        else if (strcmp(s, "hang") == 0) scenario_hang();
        else if (strcmp(s, "429") == 0) scenario_429();
        else if (strcmp(s, "breaker") == 0) scenario_breaker();
        else if (strcmp(s, "malformed") == 0) scenario_bad_content("malformed", LLM_FAIL_INVALID_JSON);
        else if (strcmp(s, "schema") == 0) scenario_bad_content("schema", LLM_FAIL_SCHEMA);
        else if (strcmp(s, "close-idle") == 0) scenario_close_idle("close-idle", "Short text.", 0);
        else if (strcmp(s, "close-idle-large") == 0) {
            /* A body larger than the socket buffers on both ends keeps
             * libcurl sending when the dropped connection resets, and a
             * send failure mid-upload is the case libcurl does not retry
             * by itself (a reset seen while reading the answer it does):
             * ours must. */
            big = malloc(BIG_TEXT + 1);
            memset(big, 'a', BIG_TEXT);
            big[BIG_TEXT] = '\0';
            scenario_close_idle("close-idle-large", big, 1);
            free(big);
        }
        else if (strcmp(s, "concurrency") == 0) scenario_concurrency();
        else if (strcmp(s, "step") == 0) scenario_step();
        else if (strcmp(s, "refused") == 0) scenario_refused();
        else if (strcmp(s, "parse") == 0) scenario_parse();
        else {
            printf("FAIL %s: unknown scenario\n", s);
            failures++;
        }
    }
    http_global_cleanup();
    return failures ? 1 : 0;
}

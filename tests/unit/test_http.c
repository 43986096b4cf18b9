/* Unit tests for common/http.c: Retry-After in both forms, the circuit
 * breaker on an injected clock, and the easy-handle baseline (body cap,
 * protocol restriction after a redirect) against a one-shot local server. */
#include "../test.h"
#include "http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

/* As in test_text.c: test.h's ASSERT_*_EQ trip -Wunused-value under
 * -Werror, so this wraps ASSERT_TRUE and prints the values on a mismatch. */
static int int_eq(long long got, long long want)
{
    if (got == want) return 1;
    fprintf(stderr, "  got %lld, want %lld\n", got, want);
    return 0;
}
#define CHECK_INT(a, b) ASSERT_TRUE(int_eq((a), (b)))

/* Wed, 21 Oct 2015 07:28:00 GMT */
#define T_2015 ((time_t)1445412480)

static void test_retry_after_seconds(void)
{
    CHECK_INT(http_retry_after_parse("2", 0, 60000), 2000);
    CHECK_INT(http_retry_after_parse(" 120 ", 0, 600000), 120000);
    CHECK_INT(http_retry_after_parse("0", 0, 60000), 0);
    CHECK_INT(http_retry_after_parse("120", 0, 60000), 60000); /* capped */
    CHECK_INT(http_retry_after_parse("99999999999999999999999999", 0, 60000), 60000);
    CHECK_INT(http_retry_after_parse(NULL, 0, 60000), -1);
    CHECK_INT(http_retry_after_parse("", 0, 60000), -1);
    CHECK_INT(http_retry_after_parse("   ", 0, 60000), -1);
    CHECK_INT(http_retry_after_parse("-3", 0, 60000), -1);
    CHECK_INT(http_retry_after_parse("1.5", 0, 60000), -1);
    CHECK_INT(http_retry_after_parse("12s", 0, 60000), -1);
    CHECK_INT(http_retry_after_parse("soon", 0, 60000), -1);
}

static void test_retry_after_date(void)
{
    /* the three HTTP-date forms of RFC 9110 */
    CHECK_INT(http_retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", T_2015 - 30, 60000), 30000);
    CHECK_INT(http_retry_after_parse("Wednesday, 21-Oct-15 07:28:00 GMT", T_2015 - 5, 60000), 5000);
    CHECK_INT(http_retry_after_parse("Wed Oct 21 07:28:00 2015", T_2015 - 1, 60000), 1000);
    /* in the past: go now */
    CHECK_INT(http_retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", T_2015 + 100, 60000), 0);
    CHECK_INT(http_retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", T_2015, 60000), 0);
    /* far ahead: capped */
    CHECK_INT(http_retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", T_2015 - 86400, 60000), 60000);
    CHECK_INT(http_retry_after_parse("Fri, 31 Dec 9999 23:59:59 GMT", T_2015, 60000), 60000);
}

typedef struct {
    long long now;
} fake_clock_t;

static long long fake_now(void *ctx) { return ((fake_clock_t *)ctx)->now; }

static void test_breaker(void)
{
    fake_clock_t clk = {1000};
    breaker_t b;
    breaker_init(&b, 3, 500, fake_now, &clk);
    CHECK_INT(breaker_state(&b), BREAKER_CLOSED);

    /* a success resets the count of consecutive failures */
    breaker_failure(&b);
    breaker_failure(&b);
    breaker_success(&b);
    breaker_failure(&b);
    breaker_failure(&b);
    CHECK_INT(breaker_state(&b), BREAKER_CLOSED);
    ASSERT_TRUE(breaker_allow(&b));

    /* the third in a row opens it: nothing may go */
    breaker_failure(&b);
    CHECK_INT(breaker_state(&b), BREAKER_OPEN);
    ASSERT_TRUE(!breaker_allow(&b));
    clk.now += 499;
    ASSERT_TRUE(!breaker_allow(&b));
    CHECK_INT(breaker_state(&b), BREAKER_OPEN);

    /* after the cooldown: half-open, exactly one probe */
    clk.now += 1;
    CHECK_INT(breaker_state(&b), BREAKER_HALF_OPEN);
    ASSERT_TRUE(breaker_allow(&b));
    ASSERT_TRUE(!breaker_allow(&b));
    CHECK_INT(breaker_state(&b), BREAKER_HALF_OPEN);

    /* the probe fails: open again for a whole cooldown */
    breaker_failure(&b);
    CHECK_INT(breaker_state(&b), BREAKER_OPEN);
    clk.now += 300;
    ASSERT_TRUE(!breaker_allow(&b));
    clk.now += 200;
    ASSERT_TRUE(breaker_allow(&b));

    /* a probe released without a verdict (e.g. 429) is handed out again */
    breaker_release(&b);
    CHECK_INT(breaker_state(&b), BREAKER_HALF_OPEN);
    ASSERT_TRUE(breaker_allow(&b));
    ASSERT_TRUE(!breaker_allow(&b));

    /* the probe succeeds: closed, with a fresh count */
    breaker_success(&b);
    CHECK_INT(breaker_state(&b), BREAKER_CLOSED);
    ASSERT_TRUE(breaker_allow(&b));
    ASSERT_TRUE(breaker_allow(&b));
    breaker_failure(&b);
    breaker_failure(&b);
    CHECK_INT(breaker_state(&b), BREAKER_CLOSED);

    /* late failures while open do not extend the cooldown */
    breaker_failure(&b);
    CHECK_INT(breaker_state(&b), BREAKER_OPEN);
    clk.now += 400;
    breaker_failure(&b);
    clk.now += 100;
    CHECK_INT(breaker_state(&b), BREAKER_HALF_OPEN);

    ASSERT_STR_EQ(breaker_state_name(BREAKER_CLOSED), "closed");
    ASSERT_STR_EQ(breaker_state_name(BREAKER_OPEN), "open");
    ASSERT_STR_EQ(breaker_state_name(BREAKER_HALF_OPEN), "half_open");

    /* a threshold below 1 means 1 */
    breaker_init(&b, 0, 10, fake_now, &clk);
    breaker_failure(&b);
    CHECK_INT(breaker_state(&b), BREAKER_OPEN);
}

/* A local server that answers one connection with a canned response. */
typedef struct {
    int fd;
    const char *response;
} canned_t;

static void *serve_once(void *arg)
{
    canned_t *c = arg;
    int s = accept(c->fd, NULL, NULL);
    if (s < 0) return NULL;
    char buf[4096];
    ssize_t got = read(s, buf, sizeof buf); /* the request; small enough for one read */
    (void)got;
    size_t n = strlen(c->response), off = 0;
    while (off < n) {
        ssize_t w = write(s, c->response + off, n - off);
        if (w <= 0) break;
        off += (size_t)w;
    }
    close(s);
    return NULL;
}

/* Runs one GET against a server answering response; returns the curl code. */
static CURLcode fetch_canned(const char *response, const http_opts_t *o, http_body_t *body,
                             long *code)
{
    canned_t c = {socket(AF_INET, SOCK_STREAM, 0), response};
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (c.fd < 0 || bind(c.fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(c.fd, (struct sockaddr *)&a, &alen) < 0 || listen(c.fd, 1) < 0) {
        fprintf(stderr, "  cannot listen on loopback\n");
        return CURLE_FAILED_INIT;
    }
    pthread_t t;
    pthread_create(&t, NULL, serve_once, &c);
    char url[64], err[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", ntohs(a.sin_port));
    CURL *h = curl_easy_init();
    CURLcode rc = CURLE_FAILED_INIT;
    if (h && http_easy_setup(h, o, body, err, sizeof err) == 0) {
        curl_easy_setopt(h, CURLOPT_URL, url);
        rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
    }
    curl_easy_cleanup(h);
    shutdown(c.fd, SHUT_RDWR); /* unblocks accept() if curl never connected */
    pthread_join(t, NULL);
    close(c.fd);
    return rc;
}

static void test_easy_baseline(void)
{
    http_opts_t o;
    http_opts_default(&o);
    o.timeout_ms = 5000;
    o.max_body = 64;
    http_body_t b;
    long code = 0;

    http_body_init(&b);
    CURLcode rc = fetch_canned("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
                               &o, &b, &code);
    CHECK_INT(rc, CURLE_OK);
    CHECK_INT(code, 200);
    ASSERT_STR_EQ(b.data, "hello");
    CHECK_INT(b.overflow, 0);

    /* a body over the cap aborts the transfer (no length announced, so it
     * is the write callback that stops it) */
    char big[512];
    snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n%0200d", 7);
    http_body_clear(&b);
    rc = fetch_canned(big, &o, &b, &code);
    CHECK_INT(rc, CURLE_WRITE_ERROR);
    CHECK_INT(b.overflow, 1);
    ASSERT_TRUE(b.len <= 64);

    /* ... and an announced one is refused before it is read */
    http_body_clear(&b);
    rc = fetch_canned("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\nx",
                      &o, &b, &code);
    CHECK_INT(rc, CURLE_FILESIZE_EXCEEDED);

    /* redirects: not followed by default; followed, but never off http(s) */
    const char *to_file = "HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\n"
                          "Content-Length: 0\r\nConnection: close\r\n\r\n";
    http_body_clear(&b);
    rc = fetch_canned(to_file, &o, &b, &code);
    CHECK_INT(rc, CURLE_OK);
    CHECK_INT(code, 302);
    o.max_redirects = 3;
    http_body_clear(&b);
    rc = fetch_canned(to_file, &o, &b, &code);
    CHECK_INT(rc, CURLE_UNSUPPORTED_PROTOCOL);
    CHECK_INT(b.len, 0);
    http_body_free(&b);

    /* and never a non-http URL in the first place */
    CURL *h = curl_easy_init();
    char err[128];
    http_body_init(&b);
    ASSERT_TRUE(h && http_easy_setup(h, &o, &b, err, sizeof err) == 0);
    curl_easy_setopt(h, CURLOPT_URL, "file:///etc/hostname");
    CHECK_INT(curl_easy_perform(h), CURLE_UNSUPPORTED_PROTOCOL);
    /* only connection-level failures can be a stale pooled connection */
    ASSERT_TRUE(!http_stale_connection(h, CURLE_UNSUPPORTED_PROTOCOL));
    curl_easy_cleanup(h);
    http_body_free(&b);
}

int main(void)
{
    char err[128];
    if (http_global_init(err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    test_retry_after_seconds();
    test_retry_after_date();
    test_breaker();
    test_easy_baseline();
    http_global_cleanup();
    return TEST_DONE();
}

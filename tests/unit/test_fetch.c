/* Unit tests for common/fetch.c against tests/support/fake_site.py (run
 * with /usr/bin/python3 on a free loopback port, stopped at the end): the
 * page path (main text, charsets, wrong type, bad charset) and every bound
 * (slow, huge, redirect loop, 429 with Retry-After, cancellation), plus
 * conditional GET. Run from the repository root (tests/run.sh does). */
#include "../test.h"
#include "clock.h"
#include "fetch.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int str_has(const char *hay, const char *needle, int want)
{
    int has = hay && strstr(hay, needle) != NULL;
    if (has == want) return 1;
    fprintf(stderr, "  \"%s\" %s \"%s\"\n", hay ? hay : "(null)", want ? "lacks" : "has", needle);
    return 0;
}

static pid_t site_pid;

/* Starts the fake site; returns its port, or 0. */
static int site_start(void)
{
    int fd[2];
    if (pipe(fd) != 0) return 0;
    site_pid = fork();
    if (site_pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execl("/usr/bin/python3", "python3", "tests/support/fake_site.py", (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    FILE *f = fdopen(fd[0], "r");
    char line[32] = "";
    int port = f && fgets(line, sizeof line, f) ? atoi(line) : 0;
    if (f) fclose(f);
    return port;
}

static void site_stop(void)
{
    if (site_pid > 0) {
        kill(site_pid, SIGTERM);
        waitpid(site_pid, NULL, 0);
    }
}

static char base[64];

static const char *url(const char *path)
{
    static char u[128];
    snprintf(u, sizeof u, "%s%s", base, path);
    return u;
}

static void test_pages(fetcher_t *f)
{
    static const struct {
        const char *path;
        fetch_status_t status;
        const char *has, *lacks; /* in the text on FETCH_OK */
    } cases[] = {
        {"/page.html", FETCH_OK, "First paragraph of the article.\nSecond paragraph, caf\xc3\xa9", "Menu item"},
        {"/page.html", FETCH_OK, "Big headline", "script text"},
        {"/page.html", FETCH_OK, "included.", "Copyright footer"},
        {"/page.html", FETCH_OK, "Big", "Site header"},
        {"/page.html", FETCH_OK, "Big", "Related links"},
        {"/latin1.html", FETCH_OK, "caf\xc3\xa9 included", "caf\xe9"},
        {"/meta-latin1.html", FETCH_OK, "caf\xc3\xa9 included", "caf\xe9"},
        {"/badcharset.html", FETCH_BAD_CHARSET, NULL, NULL},
        {"/image.png", FETCH_BAD_TYPE, NULL, NULL},
        {"/loop", FETCH_REDIRECTS, NULL, NULL},
        {"/huge", FETCH_TOO_LARGE, NULL, NULL},
        {"/slow", FETCH_TIMEOUT, NULL, NULL},
        {"/nowhere", FETCH_HTTP_ERROR, NULL, NULL},
    };
    fetch_req_t req;
    fetch_req_default(&req);
    req.http.timeout_ms = 2000;
    req.http.max_body = 1 << 20;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_t text = {0}, title = {0};
        fetch_result_t res;
        long long t0 = clock_monotonic_ms();
        fetch_status_t st = fetch_page(f, url(cases[i].path), &req, &text, &title, &res);
        long long took = clock_monotonic_ms() - t0;
        if (!ASSERT_TRUE(st == cases[i].status && res.status == st))
            fprintf(stderr, "  %s: %s (%s)\n", cases[i].path, fetch_status_name(st), res.err);
        if (st == FETCH_OK) {
            ASSERT_TRUE(str_has(buf_cstr(&text), cases[i].has, 1));
            ASSERT_TRUE(str_has(buf_cstr(&text), cases[i].lacks, 0));
            ASSERT_TRUE(str_has(buf_cstr(&title), "Fake page", 1));
        } else {
            ASSERT_TRUE(res.err[0] != '\0');
        }
        /* the slow page is cut by the total timeout, not waited out (30 s) */
        if (cases[i].status == FETCH_TIMEOUT) ASSERT_TRUE(took < 25000);
        fetch_result_free(&res);
        buf_free(&text);
        buf_free(&title);
    }
}

static void test_get(fetcher_t *f)
{
    fetch_req_t req;
    fetch_req_default(&req);
    fetch_result_t res;

    /* a feed is not a page type, but plain fetcher_get takes any type */
    ASSERT_TRUE(fetcher_get(f, url("/rss"), &req, &res) == FETCH_OK);
    ASSERT_TRUE(res.etag[0] == '"' && res.last_modified[0] != '\0');
    ASSERT_TRUE(strcmp(res.content_type, "application/rss+xml") == 0 && strcmp(res.charset, "utf-8") == 0);
    char etag[256], lm[64];
    snprintf(etag, sizeof etag, "%s", res.etag);
    snprintf(lm, sizeof lm, "%s", res.last_modified);
    fetch_result_free(&res);

    req.etag = etag;
    ASSERT_TRUE(fetcher_get(f, url("/rss"), &req, &res) == FETCH_NOT_MODIFIED);
    fetch_result_free(&res);
    req.etag = NULL;
    req.last_modified = lm;
    ASSERT_TRUE(fetcher_get(f, url("/rss"), &req, &res) == FETCH_NOT_MODIFIED);
    fetch_result_free(&res);
    req.last_modified = NULL;

    /* the type check of plain GETs */
    static const char *const html_only[] = {"text/html", NULL};
    req.accept = html_only;
    ASSERT_TRUE(fetcher_get(f, url("/rss"), &req, &res) == FETCH_BAD_TYPE);
    fetch_result_free(&res);
    req.accept = NULL;

    ASSERT_TRUE(fetcher_get(f, url("/429"), &req, &res) == FETCH_RETRY_LATER);
    ASSERT_TRUE(res.http_code == 429 && res.retry_after_ms == 3000);
    fetch_result_free(&res);
    req.retry_after_cap_ms = 1000;
    ASSERT_TRUE(fetcher_get(f, url("/429"), &req, &res) == FETCH_RETRY_LATER && res.retry_after_ms == 1000);
    fetch_result_free(&res);

    ASSERT_TRUE(fetcher_get(f, "ftp://127.0.0.1/x", &req, &res) == FETCH_BAD_URL);
    fetch_result_free(&res);

    /* a set cancel flag stops a transfer that would hang for 30 s */
    volatile sig_atomic_t stop = 1;
    req.cancel = &stop;
    long long t0 = clock_monotonic_ms();
    ASSERT_TRUE(fetcher_get(f, url("/slow"), &req, &res) == FETCH_CANCELLED);
    ASSERT_TRUE(clock_monotonic_ms() - t0 < 25000);
    fetch_result_free(&res);
}

int main(void)
{
    char err[200];
    int port = site_start();
    if (!ASSERT_TRUE(port > 0) || !ASSERT_TRUE(http_global_init(err, sizeof err) == 0)) {
        site_stop();
        return TEST_DONE();
    }
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    fetcher_t *f = fetcher_new(err, sizeof err);
    if (ASSERT_TRUE(f != NULL)) {
        test_pages(f);
        test_get(f);
    }
    fetcher_destroy(f);
    http_global_cleanup();
    site_stop();
    return TEST_DONE();
}

/* test.h: minimal assertions for unit tests.
 *
 * Each check prints file:line and the values on failure. A unit test binary
 * ends with TEST_DONE(), which prints "N passed, N failed" and returns the
 * exit status (1 if anything failed). tests/run.sh adds up the binaries. */
#ifndef SHOAL_TEST_H
#define SHOAL_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int test_passed, test_failed;

static int test_check(int ok, const char *file, int line, const char *expr)
{
    if (ok) test_passed++;
    else {
        test_failed++;
        fprintf(stderr, "FAIL %s:%d: %s\n", file, line, expr);
    }
    return ok;
}
#define TEST_PASS_() (test_passed++)
#define TEST_FAIL_(fmt, ...) \
    (test_failed++, fprintf(stderr, "FAIL %s:%d: " fmt "\n", __FILE__, __LINE__, __VA_ARGS__))

#define ASSERT_TRUE(c) test_check(!!(c), __FILE__, __LINE__, #c)
#define ASSERT_INT_EQ(a, b)                                                              \
    do {                                                                                 \
        long long a_ = (long long)(a), b_ = (long long)(b);                              \
        if (a_ == b_) TEST_PASS_();                                                      \
        else TEST_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);                       \
    } while (0)
#define ASSERT_STR_EQ(a, b)                                                              \
    do {                                                                                 \
        const char *a_ = (a), *b_ = (b);                                                 \
        if (a_ && b_ && strcmp(a_, b_) == 0) TEST_PASS_();                               \
        else TEST_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)",        \
                        b_ ? b_ : "(null)");                                             \
    } while (0)
#define ASSERT_NEAR(a, b, eps)                                                           \
    do {                                                                                 \
        double a_ = (double)(a), b_ = (double)(b);                                       \
        if (fabs(a_ - b_) <= (eps)) TEST_PASS_();                                        \
        else TEST_FAIL_("%s ~= %s: %g != %g", #a, #b, a_, b_);                           \
    } while (0)

#define TEST_DONE()                                                                      \
    (printf("%d passed, %d failed\n", test_passed, test_failed), test_failed ? 1 : 0)

#endif

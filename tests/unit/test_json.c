/* Unit tests for common/json.c: the printer gives the text cJSON gives, and
 * every number reads back to the same double. */
#include "../test.h"
#include "json.h"
#include "log.h"

#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static int str_eq(const char *got, const char *want)
{
    if (got && want && strcmp(got, want) == 0) return 1;
    fprintf(stderr, "  got  %s\n  want %s\n", got ? got : "(null)", want ? want : "(null)");
    return 0;
}
#define CHECK_STR(a, b) ASSERT_TRUE(str_eq((a), (b)))

/* item printed by json_print_alloc; item is deleted. The result is a
 * static copy, valid until the next call. */
static const char *printed(cJSON *item)
{
    static char out[4096];
    char *s = json_print_alloc(item);
    cJSON_Delete(item);
    snprintf(out, sizeof(out), "%s", s ? s : "(null)");
    free(s);
    return out;
}

static cJSON *num(double d) { return cJSON_CreateNumber(d); }

static void test_scalars(void)
{
    CHECK_STR(printed(cJSON_CreateNull()), "null");
    CHECK_STR(printed(cJSON_CreateTrue()), "true");
    CHECK_STR(printed(cJSON_CreateFalse()), "false");
    CHECK_STR(printed(cJSON_CreateRaw("{\"raw\":1}")), "{\"raw\":1}");
    CHECK_STR(printed(cJSON_CreateString("")), "\"\"");
    CHECK_STR(printed(cJSON_CreateString("Wójcik, 東京 ✓")), "\"Wójcik, 東京 ✓\"");
    CHECK_STR(printed(cJSON_CreateString("say \"hi\" \\ now")), "\"say \\\"hi\\\" \\\\ now\"");
    CHECK_STR(printed(cJSON_CreateString("a\bb\fc\nd\re\tf\x01g\x1fh\x7f")),
              "\"a\\bb\\fc\\nd\\re\\tf\\u0001g\\u001fh\x7f\"");
}

static void test_numbers(void)
{
    CHECK_STR(printed(num(0)), "0");
    CHECK_STR(printed(num(-0.0)), "0");
    CHECK_STR(printed(num(42)), "42");
    CHECK_STR(printed(num(-7)), "-7");
    CHECK_STR(printed(num(6600000000.0)), "6600000000");
    CHECK_STR(printed(num(9007199254740991.0)), "9007199254740991");
    CHECK_STR(printed(num(-9007199254740991.0)), "-9007199254740991");
    CHECK_STR(printed(num(9007199254740992.0)), "9007199254740992");
    CHECK_STR(printed(num(1e300)), "1e+300");
    CHECK_STR(printed(num(4.5)), "4.5");
    CHECK_STR(printed(num(0.1)), "0.1");
    CHECK_STR(printed(num(-2.5e-7)), "-2.5e-07");
    CHECK_STR(printed(num(1.0 / 3.0)), "0.33333333333333331");
    CHECK_STR(printed(num(DBL_MIN)), "2.2250738585072014e-308");
    CHECK_STR(printed(num(NAN)), "null");
    CHECK_STR(printed(num(INFINITY)), "null");
    CHECK_STR(printed(num(-INFINITY)), "null");
}

static void test_containers(void)
{
    CHECK_STR(printed(cJSON_CreateArray()), "[]");
    CHECK_STR(printed(cJSON_CreateObject()), "{}");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObjectCS(o, "a\"b", cJSON_CreateArray());
    cJSON *in = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "x", in);
    cJSON_AddNullToObject(in, "n");
    cJSON *arr = cJSON_AddArrayToObject(o, "list");
    cJSON_AddItemToArray(arr, num(1));
    cJSON_AddItemToArray(arr, cJSON_CreateString("two"));
    cJSON_AddItemToArray(arr, cJSON_CreateObject());
    CHECK_STR(printed(o), "{\"a\\\"b\":[],\"x\":{\"n\":null},\"list\":[1,\"two\",{}]}");
}

/* A deterministic generator for random trees. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_u64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Numbers cJSON prints the way json_print does: integers within int range
 * and fractions exact in 15 digits. */
static double plain_number(void)
{
    uint64_t r = next_u64();
    switch (r % 3) {
    case 0: return (double)(int32_t)(r >> 16);
    case 1: return (double)((int64_t)(r >> 20) % 100000) / 8.0;
    default: return (double)(r % 1000);
    }
}

/* Any finite double, from its bits. */
static double any_number(void)
{
    double d;
    do {
        uint64_t bits = next_u64();
        memcpy(&d, &bits, sizeof(d));
    } while (!isfinite(d));
    return d;
}

static cJSON *random_tree(int depth, double (*number)(void))
{
    static const char *const strs[] = {"", "plain", "quote\"", "back\\slash", "tab\there",
                                       "line\nbreak", "\x01\x02\x1e", "Müller €5", "日本"};
    uint64_t r = next_u64();
    int kind = depth <= 0 ? (int)(r % 5) : (int)(r % 7);
    if (kind == 0) return cJSON_CreateNull();
    if (kind == 1) return cJSON_CreateBool(r & 0x100);
    if (kind == 2 || kind == 3) return cJSON_CreateNumber(number());
    if (kind == 4) return cJSON_CreateString(strs[(r >> 8) % (sizeof(strs) / sizeof(*strs))]);
    cJSON *c = kind == 5 ? cJSON_CreateArray() : cJSON_CreateObject();
    int n = (int)((r >> 8) % 5);
    for (int i = 0; i < n; i++) {
        cJSON *child = random_tree(depth - 1, number);
        if (kind == 5) cJSON_AddItemToArray(c, child);
        else cJSON_AddItemToObject(c, strs[(r >> (12 + i)) % (sizeof(strs) / sizeof(*strs))], child);
    }
    return c;
}

/* Same shape, same strings, and numbers equal to the bit. */
static int same_tree(const cJSON *a, const cJSON *b)
{
    if (!a || !b || (a->type & 0xFF) != (b->type & 0xFF)) return 0;
    if ((a->string == NULL) != (b->string == NULL) || (a->string && strcmp(a->string, b->string) != 0))
        return 0;
    if (cJSON_IsNumber(a)) return memcmp(&a->valuedouble, &b->valuedouble, sizeof(double)) == 0;
    if (cJSON_IsString(a)) return strcmp(a->valuestring, b->valuestring) == 0;
    const cJSON *x = a->child, *y = b->child;
    for (; x && y; x = x->next, y = y->next)
        if (!same_tree(x, y)) return 0;
    return !x && !y;
}

static void test_as_cjson_prints(void)
{
    int same_text = 0, trees = 2000;
    for (int i = 0; i < trees; i++) {
        cJSON *t = random_tree(4, plain_number);
        char *ours = json_print_alloc(t), *theirs = cJSON_PrintUnformatted(t);
        same_text += ours && theirs && strcmp(ours, theirs) == 0;
        if (ours && theirs && strcmp(ours, theirs) != 0) str_eq(ours, theirs);
        free(ours);
        cJSON_free(theirs);
        cJSON_Delete(t);
    }
    ASSERT_INT_EQ(same_text, trees);
}

static void test_reads_back(void)
{
    int same = 0, trees = 2000;
    for (int i = 0; i < trees; i++) {
        cJSON *t = random_tree(4, any_number);
        char *s = json_print_alloc(t);
        cJSON *back = s ? cJSON_Parse(s) : NULL;
        same += same_tree(t, back);
        free(s);
        cJSON_Delete(back);
        cJSON_Delete(t);
    }
    ASSERT_INT_EQ(same, trees);
}

/* The log escapes with the same table: a JSON log line carrying every
 * escape reads back to the value it was given. */
static void test_log_line_escapes(void)
{
    static const char value[] = "say \"hi\" \\ a\bb\fc\nd\re\tf\x01g\x1fh Müller";
    char path[] = "/tmp/shoal-test-log.XXXXXX";
    int fd = mkstemp(path), saved = dup(2);
    ASSERT_TRUE(fd >= 0 && saved >= 0);
    if (fd < 0 || saved < 0) return;
    dup2(fd, 2);
    log_set_format(LOG_FORMAT_JSON);
    log_kv(LOG_ERROR, "escapes", "value", value, NULL);
    dup2(saved, 2);
    close(saved);
    char line[1024] = "";
    ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
    close(fd);
    unlink(path);
    line[n > 0 ? n : 0] = '\0';
    cJSON *o = cJSON_Parse(line);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "value");
    ASSERT_TRUE(cJSON_IsString(v) && strcmp(v->valuestring, value) == 0);
    ASSERT_TRUE(strstr(line, "\\b") && strstr(line, "\\u0001"));
    cJSON_Delete(o);
}

/* buf_extend: room at the end that the caller fills, kept across growth. */
static void test_buf_extend(void)
{
    buf_t b = {0};
    for (int i = 0; i < 300; i++) {
        char *p = buf_extend(&b, 3);
        ASSERT_TRUE(p != NULL);
        if (!p) break;
        p[0] = 'a' + i % 26;
        p[1] = '-';
        p[2] = '0' + i % 10;
    }
    ASSERT_TRUE(b.len == 900);
    int same = 1;
    for (int i = 0; i < 300 && b.data; i++)
        same &= b.data[3 * i] == 'a' + i % 26 && b.data[3 * i + 1] == '-' && b.data[3 * i + 2] == '0' + i % 10;
    ASSERT_TRUE(same);
    ASSERT_TRUE(buf_extend(&b, 0) == b.data + 900);
    b.failed = 1;
    ASSERT_TRUE(buf_extend(&b, 1) == NULL && b.len == 900);
    buf_free(&b);
}

/* buf_put_i64 gives what printf's %lld gives, to both ends of the range. */
static void test_buf_put_i64(void)
{
    const int64_t v[] = {0, 7, -7, 10, -10, 1234567890123, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    buf_t b = {0};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char want[32];
        snprintf(want, sizeof(want), "%lld", (long long)v[i]);
        buf_reset(&b);
        buf_put_i64(&b, v[i]);
        CHECK_STR(buf_cstr(&b), want);
    }
    buf_free(&b);
}

int main(void)
{
    test_buf_extend();
    test_buf_put_i64();
    test_scalars();
    test_numbers();
    test_containers();
    test_as_cjson_prints();
    test_reads_back();
    test_log_line_escapes();
    return TEST_DONE();
}

/* libFuzzer target: the low-level amount parsers of consumer/extract
 * (money, percentages, dates). Each must stay within len bytes, need no
 * NUL, and only report values inside the documented bounds. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extract/extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size heap copy, so a read past len is caught by ASan. */
    char *s = malloc(size ? size : 1);
    if (!s) return 0;
    memcpy(s, data, size);
    size_t n = 0;
    money_t m;
    if (money_parse(s, size, &m, &n)) {
        if (n == 0 || n > size || !(m.value >= 0 && m.value <= EXTRACTION_MAX_AMOUNT) ||
            strlen(m.currency) != 3)
            abort();
    }
    double p;
    if (percent_parse(s, size, &p, &n)) {
        if (n == 0 || n > size || !isfinite(p) || p > EXTRACTION_MAX_PERCENT) abort();
    }
    char d[11];
    if (date_parse(s, size, d, &n)) {
        size_t dl = strnlen(d, sizeof(d));
        if (n == 0 || n > size || (dl != 7 && dl != 10)) abort();
    }
    free(s);
    return 0;
}

/* libFuzzer target: llm_parse_response() on any response body, then the
 * validated extraction it returns is serialised (as the consumer stores it). */
#include <stdint.h>
#include <stdlib.h>

#include "extract/llm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *x = NULL;
    char err[256];
    int r = llm_parse_response((const char *)data, size, &x, err, sizeof(err));
    if (r == 0) {
        if (!x) abort();
        char *s = cJSON_PrintUnformatted(x);
        free(s);
        cJSON_Delete(x);
    } else if (x || (r != -1 && r != -2)) {
        abort();
    }
    return 0;
}

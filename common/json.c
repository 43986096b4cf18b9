#include "json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

void json_print_number(buf_t *b, double d)
{
    char s[32];
    size_t n;
    if (!isfinite(d)) {
        buf_append(b, "null", 4);
        return;
    }
    if (d == floor(d) && fabs(d) < 9007199254740992.0) {
        buf_put_i64(b, (int64_t)d);
        return;
    }
    n = (size_t)snprintf(s, sizeof(s), "%1.15g", d);
    if (strtod(s, NULL) != d) n = (size_t)snprintf(s, sizeof(s), "%1.17g", d);
    buf_append(b, s, n);
}

void json_print(buf_t *b, const cJSON *item)
{
    const cJSON *c;
    switch (item->type & 0xFF) {
    case cJSON_False: buf_append(b, "false", 5); break;
    case cJSON_True: buf_append(b, "true", 4); break;
    case cJSON_Number: json_print_number(b, item->valuedouble); break;
    case cJSON_String: buf_json_string(b, item->valuestring ? item->valuestring : ""); break;
    case cJSON_Raw: buf_puts(b, item->valuestring ? item->valuestring : ""); break;
    case cJSON_Array:
        buf_append(b, "[", 1);
        for (c = item->child; c; c = c->next) {
            if (c != item->child) buf_append(b, ",", 1);
            json_print(b, c);
        }
        buf_append(b, "]", 1);
        break;
    case cJSON_Object:
        buf_append(b, "{", 1);
        for (c = item->child; c; c = c->next) {
            if (c != item->child) buf_append(b, ",", 1);
            buf_json_string(b, c->string ? c->string : "");
            buf_append(b, ":", 1);
            json_print(b, c);
        }
        buf_append(b, "}", 1);
        break;
    default: buf_append(b, "null", 4); break;
    }
}

char *json_print_alloc(const cJSON *item)
{
    buf_t b = {0};
    json_print(&b, item);
    if (!buf_cstr(&b)) {
        buf_free(&b);
        return NULL;
    }
    return b.data;
}

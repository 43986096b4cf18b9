/* json: compact printing of cJSON trees into a buf_t.
 *
 * What cJSON_PrintUnformatted prints, but every number reads back to the
 * same double: whole numbers below 2^53 print as integers, others as %.15g
 * when that reads back exactly and as %.17g otherwise (cJSON settles for
 * %.15g when it is merely close); NaN and infinities print as null. It
 * does without cJSON's sprintf and sscanf per number and its buffer
 * reallocations: printing the extraction that way was 8 % of the
 * consumer's instructions. */
#ifndef SHOAL_JSON_H
#define SHOAL_JSON_H

#include <cjson/cJSON.h>

#include "buf.h"

/* Appends d to b as json_print prints a number. */
void json_print_number(buf_t *b, double d);

/* Appends item to b; on allocation failure b->failed is set. */
void json_print(buf_t *b, const cJSON *item);

/* item as a malloc'd NUL-terminated string (the caller frees it), or NULL
 * when out of memory. */
char *json_print_alloc(const cJSON *item);

#endif

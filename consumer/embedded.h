/* embedded: schema files carried inside the binary (schema/embed.sh), so
 * there is no path to get wrong in a container or a fresh checkout.
 *
 * migrations: schema/NNN_name.sql, forward-only, applied in version order.
 * embedded_taxonomy_json: schema/taxonomy.json, the default taxonomy. */
#ifndef SHOAL_EMBEDDED_H
#define SHOAL_EMBEDDED_H

#include <stddef.h>

typedef struct {
    int version;
    const char *name;
    const char *sql;
} migration_t;

extern const migration_t migrations[];
extern const size_t migrations_count;
extern const char embedded_taxonomy_json[];

#endif

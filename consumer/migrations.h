/* migrations: the schema/NNN_name.sql files, embedded at build time
 * (schema/embed.sh). Forward-only, applied in version order. */
#ifndef SHOAL_MIGRATIONS_H
#define SHOAL_MIGRATIONS_H

#include <stddef.h>

typedef struct {
    int version;
    const char *name;
    const char *sql;
} migration_t;

extern const migration_t migrations[];
extern const size_t migrations_count;

#endif

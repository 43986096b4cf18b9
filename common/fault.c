#include "fault.h"

#include <string.h>

const fault_rule_t fault_sqlstate_rules[] = {
    {"22*", FAULT_PERMANENT, "data exception: a value this row carries is invalid"},
    {"23*", FAULT_PERMANENT, "integrity constraint violation by this row"},
    {"08*", FAULT_TRANSIENT, "connection exception"},
    {"40001", FAULT_TRANSIENT, "serialization failure"},
    {"40P01", FAULT_TRANSIENT, "deadlock detected"},
    {"53*", FAULT_TRANSIENT, "insufficient resources"},
    {"57014", FAULT_TRANSIENT, "statement timeout (permanent after FAULT_TIMEOUT_ATTEMPTS_MAX on one message)"},
    {"57P*", FAULT_TRANSIENT, "server shutting down or starting up"},
    {"55P03", FAULT_TRANSIENT, "lock not available"},
    {"58*", FAULT_TRANSIENT, "system error (I/O) on the server"},
    {"XX*", FAULT_TRANSIENT, "internal error on the server"},
    {"*", FAULT_TRANSIENT, "anything else is presumed the environment's, never the message's"},
    {NULL, FAULT_TRANSIENT, NULL},
};

fault_kind_t fault_classify_sqlstate(const char *sqlstate)
{
    if (!sqlstate || !*sqlstate) return FAULT_TRANSIENT;
    for (const fault_rule_t *r = fault_sqlstate_rules; r->pattern; r++) {
        size_t n = strlen(r->pattern);
        if (r->pattern[n - 1] == '*') {
            if (strncmp(sqlstate, r->pattern, n - 1) == 0) return r->kind;
        } else if (strcmp(sqlstate, r->pattern) == 0) {
            return r->kind;
        }
    }
    return FAULT_TRANSIENT;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

long fault_backoff_ms(int attempt, long base_ms, long cap_ms, uint64_t *seed)
{
    long hi = base_ms;
    for (int i = 0; i < attempt && hi < cap_ms; i++) hi *= 2;
    if (hi > cap_ms) hi = cap_ms;
    long lo = base_ms / 2;
    if (hi <= lo) return hi;
    return lo + (long)(splitmix64(seed) % (uint64_t)(hi - lo + 1));
}

/* fault: the one table of which failures are permanent and which transient.
 *
 * Permanent faults are confined to one message: it is dead-lettered and the
 * partition moves on. Transient faults are the environment's: the batch is
 * retried with capped exponential back-off and jitter, the partitions pause,
 * offsets do not advance, and nothing is dead-lettered.
 *
 * README "Failure handling" renders this table; keep them in step. */
#ifndef SHOAL_FAULT_H
#define SHOAL_FAULT_H

#include <stdint.h>

typedef enum { FAULT_TRANSIENT = 0, FAULT_PERMANENT } fault_kind_t;

typedef struct {
    const char *pattern;  /* SQLSTATE, or a class prefix ending in '*' */
    fault_kind_t kind;
    const char *why;
} fault_rule_t;

extern const fault_rule_t fault_sqlstate_rules[];

/* Classifies a PostgreSQL SQLSTATE (NULL or "" when the connection broke
 * before the server answered: transient). */
fault_kind_t fault_classify_sqlstate(const char *sqlstate);

/* A statement timeout (57014) on the same message this many times in a row
 * makes it permanent: the message, not the database, is the problem. */
#define FAULT_TIMEOUT_ATTEMPTS_MAX 3

/* Capped exponential back-off with full jitter: a random delay in
 * [base/2, min(cap, base * 2^attempt)] ms. seed is caller state. */
long fault_backoff_ms(int attempt, long base_ms, long cap_ms, uint64_t *seed);

#endif

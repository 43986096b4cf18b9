/* redrive: `shoal-producer redrive`, dead letters back to their topic.
 *
 *   shoal-producer redrive --from TOPIC.dlq [--error-class C] [--to TOPIC]
 *                          [--max-redrives N] [--dry-run] [-g GROUP]
 *
 * Reads the dead-letter topic with a consumer group (default shoal-redrive)
 * until every assigned partition is at its end, then exits with a summary
 * on stderr. Each dead letter is either
 *   - republished to --to, else to its shoal.original.topic header, with the
 *     original key, value, timestamp and non-shoal headers. Every header in
 *     the "shoal." namespace is Shoal's own diagnostics and is dropped; one
 *     shoal.redrive.count = (the letter's count, 0 when absent) + 1 is added.
 *     The consumer copies a message's headers into its dead letter, so the
 *     count survives a failed re-drive and bounds redrive loops;
 *   - or skipped, in this order: shoal.error.class differs from
 *     --error-class; shoal.truncated (the original value is gone); the count
 *     (or an unreadable one) has reached --max-redrives (default 3).
 * Skipped letters are handled: their offsets are committed like the others.
 *
 * Delivery: idempotent producer, acks=all. Work goes in batches; a batch's
 * offsets are committed (synchronously) only after every republish in it is
 * acknowledged. A failed delivery, a letter with no target topic or a failed
 * commit stops the run without committing that batch, so a rerun re-drives
 * it: at least once, a duplicate is possible, a loss is not. A partition
 * lost to a rebalance is not committed either.
 *
 * --dry-run produces and commits nothing; stdout gets one tab-separated line
 * per letter that would be re-driven: partition, offset, error class,
 * target topic, key (bytes outside printable ASCII, and '\', as \xNN; an
 * absent value is an empty field).
 *
 * SIGTERM/SIGINT (signals_install() by the caller): stop reading, finish the
 * batch in flight (acks, then commit), leave the group; bounded by
 * shutdown.timeout.ms. Nothing calls exit(). */
#ifndef SHOAL_REDRIVE_H
#define SHOAL_REDRIVE_H

#include <stddef.h>

#include "config.h"

typedef struct {
    const char *from;        /* dead-letter topic; required */
    const char *to;          /* target override; NULL: each letter's shoal.original.topic */
    const char *error_class; /* re-drive only this shoal.error.class; NULL: every class */
    const char *group;       /* consumer group, default "shoal-redrive" */
    long max_redrives;       /* skip letters whose shoal.redrive.count >= this */
    int dry_run;
} redrive_opts_t;

/* Parses the subcommand's arguments; argv[0] is "redrive" (the strings are
 * borrowed by o, so argv must outlive it). Client flags (-b, -X, --set,
 * --config) go to cfg, applied after config_load_sources() (defaults,
 * file, environment), the priority every command uses.
 * Returns 0; 1 when --help was printed to stdout; -1 on a usage error with
 * err saying why. */
int redrive_parse_args(int argc, char **argv, redrive_opts_t *o, config_t *cfg, char *err,
                       size_t errlen);

/* Runs one re-drive to the end of the dead-letter topic. Returns an exit
 * code from signals.h: EXIT_OK when everything read was re-driven or
 * skipped and committed (or listed, with --dry-run); EXIT_INCOMPLETE when a
 * delivery or commit failed, a letter had no target, or a signal stopped
 * it; EXIT_USAGE when a client cannot be configured or the topic does not
 * exist; EXIT_STARTUP when no partition was assigned within
 * startup.timeout.ms. */
int redrive_run(const config_t *cfg, const redrive_opts_t *o);

/* The whole subcommand (parse, settings, run), for shoal-producer's main:
 * returns the exit code, having logged why. */
int redrive_main(int argc, char **argv);

#endif

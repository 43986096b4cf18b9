/* signals: flag-only handlers and the shutdown deadline.
 *
 * The first SIGTERM/SIGINT only sets a flag; the main loop notices it, drains
 * and exits. A second one means "now": its handler writes one constant line
 * with write(2) and calls _exit(EXIT_SECOND_SIGNAL), both async-signal-safe.
 * Nothing in a handler takes a lock or touches stdio.
 *
 * SIGHUP only sets signal_reload. A program with settings to reload reads
 * and clears it between units of work (the consumer between batches, never
 * inside a flush); the others never read it, which makes SIGHUP harmless
 * instead of its default action, termination. Its handler restarts
 * interrupted system calls (SA_RESTART) so a reload request does not cut
 * short a blocking read.
 *
 * The shutdown watchdog bounds a graceful shutdown: once armed, a thread
 * waits for the deadline and, if the process is still running, logs why and
 * _exit()s with EXIT_SHUTDOWN_TIMEOUT, so a hung call cannot outlive the
 * orchestrator's grace period. */
#ifndef SHOAL_SIGNALS_H
#define SHOAL_SIGNALS_H

#include <signal.h>

/* Documented exit codes (README "Exit codes"). */
enum {
    EXIT_OK = 0,
    EXIT_FAILURE_RUNTIME = 1, /* an unrecoverable runtime error, logged */
    EXIT_USAGE = 2,           /* bad flags or a setting that cannot work */
    EXIT_STARTUP = 3,         /* a dependency could not be reached in time at startup */
    EXIT_SHUTDOWN_TIMEOUT = 4,/* graceful shutdown overran shutdown.timeout.ms */
    EXIT_SECOND_SIGNAL = 5,   /* a second SIGTERM/SIGINT forced an immediate exit */
    EXIT_THREAD_FAILED = 6,   /* a worker thread reported a fatal error */
    EXIT_INCOMPLETE = 7       /* producer: some messages were rejected or not delivered */
};

extern volatile sig_atomic_t signal_shutdown; /* 0, or the first signal number */
extern volatile sig_atomic_t signal_reload;   /* 1 after SIGHUP until the reader clears it */

/* Installs the handlers for SIGTERM, SIGINT and SIGHUP and ignores SIGPIPE. */
int signals_install(void);

/* Arms the watchdog: exit(EXIT_SHUTDOWN_TIMEOUT) after timeout_ms unless
 * the process has exited first. Safe to call more than once (first wins). */
int signals_arm_shutdown_watchdog(long timeout_ms);

#endif

/* notify: the systemd readiness protocol (sd_notify) without libsystemd.
 *
 * Under a Type=notify unit systemd sets NOTIFY_SOCKET (a filesystem path, or
 * "@name" for the abstract namespace) and, with WatchdogSec=, WATCHDOG_USEC.
 * Outside systemd both are absent and every call here is a no-op, so the
 * program runs the same everywhere. */
#ifndef SHOAL_NOTIFY_H
#define SHOAL_NOTIFY_H

/* Sends one state string ("READY=1", "STOPPING=1", "WATCHDOG=1", ...) as a
 * single datagram. Returns 0 when sent or when there is no NOTIFY_SOCKET,
 * -1 when it could not be sent (the caller logs and carries on). */
int notify_send(const char *state);

/* Half the watchdog period systemd asked for, in milliseconds (how often to
 * send WATCHDOG=1), or 0 when no watchdog is configured. */
long notify_watchdog_interval_ms(void);

#endif

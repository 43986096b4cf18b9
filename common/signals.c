#include "signals.h"

#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

volatile sig_atomic_t signal_shutdown = 0;
volatile sig_atomic_t signal_reload = 0;

static void on_signal(int sig)
{
    if (signal_shutdown) {
        static const char msg[] =
            "{\"level\":\"fatal\",\"msg\":\"second signal: exiting at once without draining\"}\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
        (void)w;
        _exit(EXIT_SECOND_SIGNAL);
    }
    signal_shutdown = sig;
}

static void on_hangup(int sig)
{
    (void)sig;
    signal_reload = 1;
}

int signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0) return -1;
    sa.sa_handler = on_hangup;
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGHUP, &sa, NULL) != 0) return -1;
    sa.sa_flags = 0;
    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL);
}

static long watchdog_ms;

static void *watchdog_main(void *arg)
{
    (void)arg;
    struct timespec ts = {watchdog_ms / 1000, (watchdog_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
    log_kv(LOG_FATAL, "graceful shutdown overran its timeout, exiting", "exit_code", "4", NULL);
    _exit(EXIT_SHUTDOWN_TIMEOUT);
    return NULL;
}

int signals_arm_shutdown_watchdog(long timeout_ms)
{
    static int armed;
    if (armed) return 0;
    armed = 1;
    watchdog_ms = timeout_ms;
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &attr, watchdog_main, NULL);
    pthread_attr_destroy(&attr);
    return rc == 0 ? 0 : -1;
}

/* clock: the one monotonic clock for deadlines, back-off and durations
 * (never the wall clock, which can jump). */
#ifndef SHOAL_CLOCK_H
#define SHOAL_CLOCK_H

#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC. */
long long clock_monotonic_ms(void);
/* Seconds on CLOCK_MONOTONIC, for durations. */
double clock_monotonic_s(void);
/* The wall-clock instant ms from now, for pthread_cond_timedwait (whose
 * condition variables, as created here, time out on CLOCK_REALTIME). */
struct timespec clock_cond_deadline(long ms);

#endif

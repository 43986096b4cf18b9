/* clock: the one monotonic clock for deadlines, back-off and durations
 * (never the wall clock, which can jump). */
#ifndef SHOAL_CLOCK_H
#define SHOAL_CLOCK_H

/* Milliseconds on CLOCK_MONOTONIC. */
long long clock_monotonic_ms(void);
/* Seconds on CLOCK_MONOTONIC, for durations. */
double clock_monotonic_s(void);

#endif

/* libFuzzer target: event_decode() (decode and schema validation) on any
 * bytes. A decoded event must satisfy the contract of common/event.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    event_t ev;
    char err[256];
    event_err_t e = event_decode((const char *)data, size, NULL, &ev, err, sizeof(err));
    if (e == EVENT_OK) {
        /* Touch every borrowed string so ASan sees a dangling one. */
        if (!ev.source || !ev.title || !ev.text || strlen(ev.id) > EVENT_ID_MAX) abort();
        (void)strlen(ev.source);
        (void)strlen(ev.title);
        (void)strlen(ev.text);
        if (ev.url) {
            char canon[4200];
            (void)event_canonical_url(ev.url, canon, sizeof(canon));
        }
        if (ev.published_at_us != EVENT_TIME_NONE) {
            char t[40];
            event_format_time(ev.published_at_us, t, sizeof(t));
        }
        event_clear(&ev);
    } else {
        if (!err[0] || ev.root) abort(); /* a reason, and nothing left to free */
        (void)event_err_class(e);
    }
    return 0;
}

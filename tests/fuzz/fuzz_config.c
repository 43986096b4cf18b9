/* libFuzzer target: the config-file parser (config_load_file) on any file
 * content, then --dump-config output of what it accepted. The content goes
 * through a memfd so each run reads a fresh "file" without touching disk. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fd = -1;
static char path[64];
static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fd < 0) {
        fd = memfd_create("fuzz-config", 0);
        if (fd < 0) abort();
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        devnull = fopen("/dev/null", "w");
        if (!devnull) abort();
    }
    /* Rejected values are logged as warnings; keep the fuzzer's output readable. */
    log_set_level(LOG_FATAL);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size) abort();
    config_t *c = config_new(CFG_BOTH);
    if (!c) return 0;
    char err[512];
    err[0] = '\0';
    if (config_load_file(c, path, err, sizeof(err)) != 0 && !err[0]) abort();
    config_dump(c, devnull);
    (void)config_int(c, "batch.size");
    (void)config_float(c, "cluster.threshold");
    config_destroy(c);
    return 0;
}

#include "test_util.h"

#include <softiommu/log.h>

#include <stdio.h>
#include <string.h>

static void capture_fn(void *ctx, enum sio_log_level level, const char *msg)
{
    struct log_capture *lc = ctx;
    (void)level;
    if (lc->n < sizeof(lc->lines) / sizeof(lc->lines[0]))
        snprintf(lc->lines[lc->n++], sizeof(lc->lines[0]), "%s", msg);
}

void log_capture_start(struct log_capture *lc)
{
    memset(lc, 0, sizeof(*lc));
    sio_log_set_handler(capture_fn, lc);
}

void log_capture_stop(void)
{
    sio_log_set_handler(NULL, NULL);
}

int log_capture_has(const struct log_capture *lc, const char *needle)
{
    for (unsigned i = 0; i < lc->n; i++)
        if (strstr(lc->lines[i], needle))
            return 1;
    return 0;
}

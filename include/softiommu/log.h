/* softiommu/log.h: every message the library prints goes through one hook.
 *
 * The embedder supplies a callback; the default writes "softiommu: <msg>" lines to stderr.
 * This hook is the library's only process-wide setting (it belongs to the embedding process,
 * not to any unit); everything else hangs off a handle. */
#ifndef SOFTIOMMU_LOG_H
#define SOFTIOMMU_LOG_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

enum sio_log_level {
    SIO_LOG_ERR = 0,
    SIO_LOG_WARN = 1,
    SIO_LOG_INFO = 2,
    SIO_LOG_DEBUG = 3,
};

/* msg is one line without the trailing newline. */
typedef void (*sio_log_fn)(void *ctx, enum sio_log_level level, const char *msg);

/* Install fn (NULL restores the stderr default). Messages above max_level are dropped
 * before formatting. Thread-safe. */
void sio_log_set_handler(sio_log_fn fn, void *ctx);
void sio_log_set_level(enum sio_log_level max_level);
enum sio_log_level sio_log_get_level(void);

void sio_logf(enum sio_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sio_vlogf(enum sio_log_level level, const char *fmt, va_list ap);

#ifdef __cplusplus
}
#endif
#endif

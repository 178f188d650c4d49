#include <softiommu/log.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static sio_log_fn log_fn;
static void *log_ctx;
static atomic_int log_level = SIO_LOG_INFO;

void sio_log_set_handler(sio_log_fn fn, void *ctx)
{
    pthread_mutex_lock(&log_lock);
    log_fn = fn;
    log_ctx = ctx;
    pthread_mutex_unlock(&log_lock);
}

void sio_log_set_level(enum sio_log_level max_level)
{
    atomic_store(&log_level, (int)max_level);
}

enum sio_log_level sio_log_get_level(void)
{
    return (enum sio_log_level)atomic_load(&log_level);
}

void sio_vlogf(enum sio_log_level level, const char *fmt, va_list ap)
{
    if ((int)level > atomic_load(&log_level))
        return;
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    pthread_mutex_lock(&log_lock);
    if (log_fn)
        log_fn(log_ctx, level, msg);
    else
        fprintf(stderr, "softiommu: %s\n", msg);
    pthread_mutex_unlock(&log_lock);
}

void sio_logf(enum sio_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sio_vlogf(level, fmt, ap);
    va_end(ap);
}

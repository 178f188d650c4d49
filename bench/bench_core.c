/* Framework and the foundation's baseline benchmark. */
#include "bench.h"

#include <softiommu/err.h>
#include <softiommu/mem.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

double bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

double bench_target_ms(void)
{
    const char *env = getenv("SIO_BENCH_MS");
    double ms = env ? atof(env) : 200.0;
    return ms > 0 ? ms : 200.0;
}

void bench_extra(struct bench_result *r, const char *name, double value)
{
    if (r->nextra < BENCH_MAX_EXTRA) {
        r->extra[r->nextra].name = name;
        r->extra[r->nextra].value = value;
        r->nextra++;
    }
}

void bench_measure(bench_op_fn op, void *ctx, struct bench_result *r)
{
    double target = bench_target_ms() * 1e6;
    uint64_t n = 1;
    double t;
    /* Calibrate: grow the batch until it lasts a tenth of the target. */
    for (;;) {
        double t0 = bench_now_ns();
        op(ctx, n);
        t = bench_now_ns() - t0;
        if (t >= target / 10 || n >= (1ULL << 40))
            break;
        n *= (t < target / 1000) ? 16 : 2;
    }
    uint64_t batch = (uint64_t)((double)n * (target / 3) / (t > 1 ? t : 1));
    if (batch < 1)
        batch = 1;
    double best = -1;
    uint64_t total = 0;
    for (int trial = 0; trial < 3; trial++) {
        double t0 = bench_now_ns();
        op(ctx, batch);
        double dt = bench_now_ns() - t0;
        total += batch;
        double per = dt / (double)batch;
        if (best < 0 || per < best)
            best = per;
    }
    r->ns_per_op = best;
    r->ops = total;
}

/* ---- memcpy4k: the baseline every data-path benchmark is compared with ------------------ */

struct memcpy_ctx {
    struct sio_pmem *pm;
    const struct sio_mem_ops *ops;
    uint8_t buf[4096];
};

static void memcpy_op(void *vctx, uint64_t n)
{
    struct memcpy_ctx *c = vctx;
    for (uint64_t i = 0; i < n; i++) {
        c->ops->read(c->pm, 0x1000, c->buf, sizeof(c->buf));
        c->ops->write(c->pm, 0x3000, c->buf, sizeof(c->buf));
    }
}

int bench_memcpy4k(struct bench_result *r)
{
    struct memcpy_ctx *c = calloc(1, sizeof(*c));
    if (!c)
        return SIO_ENOMEM;
    c->pm = sio_pmem_create(1ULL << 20);
    c->ops = sio_pmem_ops();
    if (!c->pm) {
        free(c);
        return SIO_ENOMEM;
    }
    memset(c->buf, 0xa5, sizeof(c->buf));
    c->ops->write(c->pm, 0x1000, c->buf, sizeof(c->buf));
    c->ops->write(c->pm, 0x3000, c->buf, sizeof(c->buf));
    bench_measure(memcpy_op, c, r);
    sio_pmem_destroy(c->pm);
    free(c);
    return 0;
}

/* The DMA API from several threads at once, on every backend (also run under ThreadSanitizer).
 * Four threads share one DMA context; two of them share a device, so per-device mapping
 * records, swiotlb areas, IOVA magazines, VT-d page tables and the flush queue all see
 * concurrent callers. Every transfer is checked end to end through the device side (the VT-d
 * model's translation with vtd), and in strict mode a device must never reach an IOVA after
 * its unmap returned. */
#define FX_HAVE_VTD
#include "test_dma_fixture.h"

#include <softiommu/log.h>

#include <pthread.h>

#define NTHREADS 4
#define ROUNDS   400
#define PGSZ     4096ULL

struct worker {
    struct fx *f;
    struct sio_dma_dev *dev;
    int exclusive; /* the only thread on its device: a freed IOVA cannot be reused behind it */
    unsigned id;
    int errors;
    int stale;
};

static void *worker_fn(void *arg)
{
    struct worker *w = arg;
    struct fx *f = w->f;
    /* Each thread owns 64 pages of low RAM (and 64 above 4 GiB). */
    const uint64_t mine = FX_BUF_LOW + 0x1000000ULL * (w->id + 1);
    const uint64_t mine_hi = FX_BUF_HIGH + 0x1000000ULL * (w->id + 1);
    unsigned seed = 1234 + w->id;
    uint8_t buf[2 * 4096], want[2 * 4096];
    for (unsigned r = 0; r < ROUNDS; r++) {
        seed = seed * 1103515245u + 12345u;
        unsigned pick = (seed >> 16) % 64;
        uint64_t pa = ((seed >> 8) & 1) && f->desc->kind != FX_NOMMU ? mine_hi : mine;
        pa += pick * PGSZ;
        uint64_t len = 1 + (seed >> 4) % (2 * PGSZ - 1);
        if (pa + len > (pa & ~0xFFFFFFULL) + 64 * PGSZ)
            len = (pa & ~0xFFFFFFULL) + 64 * PGSZ - pa;
        uint8_t s = (uint8_t)(w->id * 50 + r);
        switch (r % 3) {
        case 0: { /* CPU -> device */
            fx_fill(f, pa, (size_t)len, s);
            uint64_t dma;
            if (sio_dma_map_single(w->dev, pa, len, SIO_DMA_TO_DEVICE, &dma)) {
                w->errors++;
                break;
            }
            fx_pattern(want, (size_t)len, s);
            if (fx_dev_dma(f, w->dev, dma, buf, (size_t)len, SIO_READ) ||
                memcmp(buf, want, (size_t)len))
                w->errors++;
            if (sio_dma_unmap_single(w->dev, dma, len, SIO_DMA_TO_DEVICE))
                w->errors++;
            /* Strict: the translation is gone the moment unmap returns. */
            if (f->desc->kind == FX_VTD_STRICT && w->exclusive &&
                fx_dev_dma(f, w->dev, dma, buf, 1, SIO_READ) == 0)
                w->stale++;
            break;
        }
        case 1: { /* device -> CPU, scatter/gather over two scattered pages */
            struct sio_sg sg[2] = {{.pa = mine + (pick ^ 1) * PGSZ, .len = PGSZ},
                                   {.pa = mine + ((pick + 7) % 64) * PGSZ, .len = PGSZ}};
            if (sg[0].pa == sg[1].pa)
                sg[1].pa = mine + ((pick + 9) % 64) * PGSZ;
            unsigned count;
            if (sio_dma_map_sg(w->dev, sg, 2, SIO_DMA_FROM_DEVICE, &count)) {
                w->errors++;
                break;
            }
            fx_pattern(buf, sizeof(buf), s);
            uint64_t off = 0;
            for (unsigned i = 0; i < count; i++) {
                if (fx_dev_dma(f, w->dev, sg[i].dma_address, buf + off, (size_t)sg[i].dma_length,
                               SIO_WRITE))
                    w->errors++;
                off += sg[i].dma_length;
            }
            if (sio_dma_unmap_sg(w->dev, sg, 2, SIO_DMA_FROM_DEVICE))
                w->errors++;
            uint8_t got[4096];
            sio_mem_read(&f->mem, sg[1].pa, got, PGSZ);
            if (memcmp(got, buf + PGSZ, PGSZ))
                w->errors++;
            break;
        }
        default: { /* coherent */
            uint64_t cpu, dma;
            if (sio_dma_alloc_coherent(w->dev, PGSZ, &cpu, &dma)) {
                w->errors++;
                break;
            }
            fx_pattern(buf, 64, s);
            if (fx_dev_dma(f, w->dev, dma, buf, 64, SIO_WRITE) || !fx_check(f, cpu, 64, s))
                w->errors++;
            if (sio_dma_free_coherent(w->dev, PGSZ, cpu, dma))
                w->errors++;
            break;
        }
        }
    }
    return NULL;
}

static void run(enum fx_backend kind, const char *name)
{
    struct fx_desc desc = {kind, name, 0, 0};
    struct fx *f = fx_create(&desc);
    assert_non_null(f->dma);
    /* Threads 0 and 1 share a 32-bit device; threads 2 and 3 have one each. */
    struct sio_dma_dev *devs[3] = {sio_dma_dev_create(f->dma, 0x0010, 0xFFFFFFFF),
                                   sio_dma_dev_create(f->dma, 0x0018, UINT64_MAX),
                                   sio_dma_dev_create(f->dma, 0x0020, UINT64_MAX)};
    for (unsigned i = 0; i < 3; i++)
        assert_non_null(devs[i]);
    pthread_t th[NTHREADS];
    struct worker w[NTHREADS];
    for (unsigned t = 0; t < NTHREADS; t++) {
        w[t] = (struct worker){f, devs[t < 2 ? 0 : t - 1], t >= 2, t, 0, 0};
        pthread_create(&th[t], NULL, worker_fn, &w[t]);
    }
    for (unsigned t = 0; t < NTHREADS; t++) {
        pthread_join(th[t], NULL);
        if (w[t].errors || w[t].stale)
            fail_msg("%s: thread %u: %d errors, %d stale translations", name, t, w[t].errors,
                     w[t].stale);
    }
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(sio_dma_dev_live(devs[i]), 0);
        assert_int_equal(sio_dma_dev_destroy(devs[i]), 0);
    }
    fx_destroy(f);
}

static void test_mt_nommu(void **state)
{
    (void)state;
    /* nommu with a 32-bit device: the high buffers are not used for it (see worker_fn). */
    run(FX_NOMMU, "nommu");
}

static void test_mt_swiotlb(void **state)
{
    (void)state;
    run(FX_SWIOTLB, "swiotlb");
    run(FX_SWIOTLB_FORCE, "swiotlb-force");
}

static void test_mt_vtd(void **state)
{
    (void)state;
    struct log_capture lc; /* strict's probes after unmap fault by design */
    log_capture_start(&lc);
    run(FX_VTD_STRICT, "vtd-strict");
    run(FX_VTD_LAZY, "vtd-lazy");
    log_capture_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mt_nommu),
        cmocka_unit_test(test_mt_swiotlb),
        cmocka_unit_test(test_mt_vtd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

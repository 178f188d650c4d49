/* Host-side benchmarks: the DMA API over each backend and the IOVA allocator.
 *
 *   map_unmap_strict / map_unmap_lazy  vtd backend over the VT-d model: map 4 KiB, the device
 *                                      writes 4 KiB through the unit, unmap (strict: a
 *                                      page-selective invalidation per unmap; lazy: the flush
 *                                      queue, one domain-selective flush per 256 unmaps). The
 *                                      device also holds a coherent ring, as drivers do.
 *   map_unmap_nommu                    the same cycle with no IOMMU (the device writes pmem)
 *   swiotlb_bounce4k                   swiotlb (force): one 4 KiB bounce (map copies the
 *                                      buffer into the pool, unmap frees the slot)
 *   iova_live1k / iova_live1m          IOVA alloc+free pairs (1..8 pages, cycling) with 10^3 /
 *                                      10^6 other live allocations left in a fragmented space
 *                                      (every other range freed: as many free ranges in the
 *                                      tree as live ones); the extra "tree_ns" is the same pair
 *                                      for 64 pages, a size no magazine serves */
#include "bench.h"

#include <softiommu/dma.h>
#include <softiommu/err.h>
#include <softiommu/iova.h>
#include <softiommu/log.h>
#include <softiommu/mem.h>
#include <softiommu/vtd.h>
#include <softiommu/vtd_driver.h>

#include <stdlib.h>
#include <string.h>

#define PG        4096ULL
#define BUF_PA    0x10000000ULL
#define TABLES_PA 0x20000000ULL
#define COH_PA    0x40000000ULL
#define POOL_PA   0x80000000ULL

struct dma_bench {
    struct sio_pmem *pm;
    struct sio_vtd *vtd;
    struct sio_vtd_drv *drv;
    struct sio_dma *dma;
    struct sio_dma_dev *dev;
    uint64_t ring_cpu, ring_dma;
    uint8_t data[4096];
    int errors;
};

enum backend { B_NOMMU, B_SWIOTLB, B_VTD_STRICT, B_VTD_LAZY };

static void dma_bench_free(struct dma_bench *b)
{
    if (b->ring_cpu)
        sio_dma_free_coherent(b->dev, PG, b->ring_cpu, b->ring_dma);
    if (b->dev)
        sio_dma_dev_destroy(b->dev);
    sio_dma_destroy(b->dma);
    sio_vtd_drv_destroy(b->drv);
    sio_vtd_destroy(b->vtd);
    sio_pmem_destroy(b->pm);
    free(b);
}

static struct dma_bench *dma_bench_new(enum backend be)
{
    struct dma_bench *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->pm = sio_pmem_create(16ULL << 30);
    if (!b->pm)
        goto fail;
    struct sio_dma_config cfg = {.mem = sio_pmem_ops(),
                                 .mem_ctx = b->pm,
                                 .coherent_base = COH_PA,
                                 .coherent_size = 64ULL << 20};
    struct sio_swiotlb_config scfg = {POOL_PA, 64ULL << 20, 0, 1};
    struct sio_dma_vtd_config vcfg = {NULL, be == B_VTD_STRICT};
    const struct sio_dma_ops *ops = sio_dma_nommu_ops();
    if (be == B_SWIOTLB) {
        ops = sio_dma_swiotlb_ops();
        cfg.backend_cfg = &scfg;
        /* Back the pool with real pages first, as RAM would be (sparse pmem allocates a page
         * on its first write, which is not what a bounce costs). */
        static const uint8_t zero[4096];
        for (uint64_t pa = POOL_PA; pa < POOL_PA + scfg.size; pa += PG)
            sio_pmem_ops()->write(b->pm, pa, zero, PG);
    } else if (be == B_VTD_STRICT || be == B_VTD_LAZY) {
        struct sio_vtd_config hw = {.aw_bits = 48};
        b->vtd = sio_vtd_create(&hw, sio_pmem_ops(), b->pm, NULL, NULL);
        struct sio_vtd_drv_config dc = {TABLES_PA, 16ULL << 20, be == B_VTD_STRICT};
        if (!b->vtd ||
            !(b->drv = sio_vtd_drv_create(&dc, sio_vtd_mmio_ops(), b->vtd, sio_pmem_ops(), b->pm)))
            goto fail;
        vcfg.drv = b->drv;
        ops = sio_dma_vtd_ops();
        cfg.backend_cfg = &vcfg;
    }
    b->dma = sio_dma_create(ops, &cfg);
    if (!b->dma || !(b->dev = sio_dma_dev_create(b->dma, 0x0010, UINT64_MAX)))
        goto fail;
    /* Like any real driver the device owns a coherent descriptor ring for its lifetime, so the
     * streaming mappings are not the only thing in its address space. */
    if (sio_dma_alloc_coherent(b->dev, PG, &b->ring_cpu, &b->ring_dma))
        goto fail;
    memset(b->data, 0x5a, sizeof(b->data));
    /* Touch the buffer pages so the first iterations do not pay for allocation. */
    for (unsigned i = 0; i < 16; i++)
        sio_pmem_ops()->write(b->pm, BUF_PA + i * PG, b->data, PG);
    return b;
fail:
    dma_bench_free(b);
    return NULL;
}

/* map 4 KiB, device writes it (through the unit when there is one), unmap. */
static void map_unmap_op(void *ctx, uint64_t n)
{
    struct dma_bench *b = ctx;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t pa = BUF_PA + (i & 15) * PG, dma;
        if (sio_dma_map_single(b->dev, pa, PG, SIO_DMA_FROM_DEVICE, &dma)) {
            b->errors++;
            continue;
        }
        if (b->vtd) {
            if (sio_vtd_dma(b->vtd, 0x0010, dma, b->data, PG, SIO_WRITE))
                b->errors++;
        } else {
            sio_pmem_ops()->write(b->pm, dma, b->data, PG);
        }
        if (sio_dma_unmap_single(b->dev, dma, PG, SIO_DMA_FROM_DEVICE))
            b->errors++;
    }
}

static int run_dma(enum backend be, bench_op_fn op, struct bench_result *r)
{
    struct dma_bench *b = dma_bench_new(be);
    if (!b)
        return SIO_ENOMEM;
    bench_measure(op, b, r);
    if (b->drv) {
        /* Invalidations per operation, counted over a fixed extra run. */
        struct sio_vtd_drv_stats s0, s1;
        sio_vtd_drv_get_stats(b->drv, &s0);
        op(b, 4096);
        sio_vtd_drv_get_stats(b->drv, &s1);
        bench_extra(r, "iotlb_psi_per_op", (double)(s1.iotlb_page - s0.iotlb_page) / 4096);
        bench_extra(r, "iotlb_dsi_per_op", (double)(s1.iotlb_domain - s0.iotlb_domain) / 4096);
    }
    int rc = b->errors ? SIO_EIO : 0;
    dma_bench_free(b);
    return rc;
}

int bench_map_unmap_strict(struct bench_result *r)
{
    return run_dma(B_VTD_STRICT, map_unmap_op, r);
}

int bench_map_unmap_lazy(struct bench_result *r)
{
    return run_dma(B_VTD_LAZY, map_unmap_op, r);
}

int bench_map_unmap_nommu(struct bench_result *r)
{
    return run_dma(B_NOMMU, map_unmap_op, r);
}

/* One 4 KiB bounce: map copies the buffer into a pool slot (TO_DEVICE), unmap releases the
 * slot (nothing to copy back). The same data movement as memcpy4k, plus the bookkeeping. */
static void bounce_op(void *ctx, uint64_t n)
{
    struct dma_bench *b = ctx;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t dma;
        if (sio_dma_map_single(b->dev, BUF_PA, PG, SIO_DMA_TO_DEVICE, &dma) ||
            sio_dma_unmap_single(b->dev, dma, PG, SIO_DMA_TO_DEVICE))
            b->errors++;
    }
}

int bench_swiotlb_bounce4k(struct bench_result *r)
{
    return run_dma(B_SWIOTLB, bounce_op, r);
}

/* ---- IOVA allocator ----------------------------------------------------------------------- */

struct iova_bench {
    struct sio_iova *a;
    uint64_t pages; /* 64 for the tree figure, else cycling 1, 2, 4, 8 */
    int errors;
};

static void iova_op(void *ctx, uint64_t n)
{
    struct iova_bench *b = ctx;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t pages = b->pages ? b->pages : 1ULL << (i & 3), v;
        if (sio_iova_alloc(b->a, pages * PG, UINT64_MAX, &v) || sio_iova_free(b->a, v, pages * PG))
            b->errors++;
    }
}

static int run_iova(uint64_t live, struct bench_result *r)
{
    struct iova_bench b = {sio_iova_create(PG, 1ULL << 48), 0, 0};
    uint64_t *v = malloc(sizeof(uint64_t) * 2 * live);
    if (!b.a || !v) {
        sio_iova_destroy(b.a);
        free(v);
        return SIO_ENOMEM;
    }
    /* 2N single pages, every other one freed: N live ranges and N one-page holes. */
    for (uint64_t i = 0; i < 2 * live; i++)
        if (sio_iova_alloc(b.a, PG, UINT64_MAX, &v[i]))
            b.errors++;
    for (uint64_t i = 0; i < 2 * live; i += 2)
        sio_iova_free(b.a, v[i], PG);
    sio_iova_drain(b.a);
    bench_measure(iova_op, &b, r);
    struct sio_iova_stats st;
    sio_iova_get_stats(b.a, &st);
    bench_extra(r, "free_ranges", (double)st.free_ranges);
    bench_extra(r, "tree_height", (double)st.tree_height);
    struct bench_result tree = {0};
    b.pages = 64;
    bench_measure(iova_op, &b, &tree);
    bench_extra(r, "tree_ns", tree.ns_per_op);
    int rc = b.errors ? SIO_EIO : 0;
    sio_iova_destroy(b.a);
    free(v);
    return rc;
}

int bench_iova_live1k(struct bench_result *r)
{
    return run_iova(1000, r);
}

int bench_iova_live1m(struct bench_result *r)
{
    return run_iova(1000000, r);
}

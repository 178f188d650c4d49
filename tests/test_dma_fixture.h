/* Shared fixture of the DMA API tests: one machine (sparse RAM, optionally a VT-d unit and its
 * driver) and a DMA context over one backend, plus the device side of a transfer. Included by
 * test_dma*.c and test_mt_dma*.c only. */
#ifndef TEST_DMA_FIXTURE_H
#define TEST_DMA_FIXTURE_H

#include "test_util.h"

#include <softiommu/dma.h>
#include <softiommu/err.h>
#include <softiommu/mem.h>
#include <softiommu/vtd.h>
#include <softiommu/vtd_driver.h>

#include <stdlib.h>
#include <string.h>

/* Physical memory map of the test machine. */
#define FX_RAM_SIZE    (16ULL << 30)
#define FX_TABLES      0x20000000ULL /* VT-d driver tables, 16 MiB */
#define FX_TABLES_SIZE (16ULL << 20)
#define FX_COH_LOW     0x40000000ULL  /* coherent region below 4 GiB, 64 MiB */
#define FX_COH_HIGH    0x300000000ULL /* coherent region above 4 GiB (12 GiB), 64 MiB */
#define FX_COH_SIZE    (64ULL << 20)
#define FX_POOL        0x80000000ULL /* swiotlb pool, 4 MiB */
#define FX_POOL_SIZE   (4ULL << 20)
#define FX_BUF_LOW     0x10000000ULL  /* driver buffers below 4 GiB */
#define FX_BUF_HIGH    0x200000000ULL /* driver buffers above 4 GiB (8 GiB) */

enum fx_backend { FX_NOMMU, FX_SWIOTLB, FX_SWIOTLB_FORCE, FX_VTD_STRICT, FX_VTD_LAZY };

struct fx_desc {
    enum fx_backend kind;
    const char *name;
    int high_coherent; /* coherent region above 4 GiB */
    uint64_t vtd_features;
};

struct fx {
    const struct fx_desc *desc;
    struct sio_pmem *pm;
    struct sio_mem mem;
    struct sio_vtd *vtd;
    struct sio_vtd_drv *drv;
    struct sio_dma *dma;
};

static inline int fx_is_vtd(const struct fx *f)
{
    return f->desc->kind == FX_VTD_STRICT || f->desc->kind == FX_VTD_LAZY;
}

static inline struct fx *fx_create(const struct fx_desc *desc)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->desc = desc;
    f->pm = sio_pmem_create(FX_RAM_SIZE);
    f->mem.ops = sio_pmem_ops();
    f->mem.ctx = f->pm;
    struct sio_dma_config cfg = {
        .mem = sio_pmem_ops(),
        .mem_ctx = f->pm,
        .coherent_base = desc->high_coherent ? FX_COH_HIGH : FX_COH_LOW,
        .coherent_size = FX_COH_SIZE,
    };
    struct sio_swiotlb_config scfg = {FX_POOL, FX_POOL_SIZE, 0, desc->kind == FX_SWIOTLB_FORCE};
    const struct sio_dma_ops *ops = sio_dma_nommu_ops();
    if (desc->kind == FX_SWIOTLB || desc->kind == FX_SWIOTLB_FORCE) {
        ops = sio_dma_swiotlb_ops();
        cfg.backend_cfg = &scfg;
    } else if (fx_is_vtd(f)) {
#ifdef FX_HAVE_VTD
        static struct sio_dma_vtd_config vcfg; /* read only during sio_dma_create */
        vcfg = (struct sio_dma_vtd_config){NULL, desc->kind == FX_VTD_STRICT};
        struct sio_vtd_config hw = {.aw_bits = 48, .features = desc->vtd_features};
        f->vtd = sio_vtd_create(&hw, sio_pmem_ops(), f->pm, NULL, NULL);
        if (!f->vtd)
            return f;
        struct sio_vtd_drv_config dc = {FX_TABLES, FX_TABLES_SIZE, desc->kind == FX_VTD_STRICT};
        f->drv = sio_vtd_drv_create(&dc, sio_vtd_mmio_ops(), f->vtd, sio_pmem_ops(), f->pm);
        if (!f->drv)
            return f;
        vcfg.drv = f->drv;
        ops = sio_dma_vtd_ops();
        cfg.backend_cfg = &vcfg;
#else
        return f;
#endif
    }
    f->dma = sio_dma_create(ops, &cfg);
    return f;
}

static inline void fx_destroy(struct fx *f)
{
    if (!f)
        return;
    sio_dma_destroy(f->dma);
#ifdef FX_HAVE_VTD
    sio_vtd_drv_destroy(f->drv);
    sio_vtd_destroy(f->vtd);
#endif
    sio_pmem_destroy(f->pm);
    free(f);
}

/* The device side: a DMA of len bytes at handle dma. Without an IOMMU the device drives the
 * address on the bus itself, so it can only emit addresses within its mask; with VT-d the
 * unit translates (or faults). Returns 0, or nonzero (a fault reason, or -1). */
static inline int fx_dev_dma(struct fx *f, struct sio_dma_dev *dev, uint64_t dma, void *buf,
                             size_t len, unsigned access)
{
#ifdef FX_HAVE_VTD
    if (fx_is_vtd(f))
        return sio_vtd_dma(f->vtd, sio_dma_dev_sid(dev), dma, buf, len, access);
#endif
    if (dma + len - 1 > sio_dma_get_mask(dev))
        return -1;
    return access == SIO_WRITE ? sio_mem_write(&f->mem, dma, buf, len)
                               : sio_mem_read(&f->mem, dma, buf, len);
}

static inline void fx_fill(struct fx *f, uint64_t pa, size_t len, uint8_t seed)
{
    uint8_t *b = malloc(len);
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)(seed + i * 13);
    sio_mem_write(&f->mem, pa, b, len);
    free(b);
}

/* 1 when [pa, pa+len) holds the fx_fill pattern for seed. */
static inline int fx_check(struct fx *f, uint64_t pa, size_t len, uint8_t seed)
{
    uint8_t *b = malloc(len);
    int ok = sio_mem_read(&f->mem, pa, b, len) == 0;
    for (size_t i = 0; ok && i < len; i++)
        ok = b[i] == (uint8_t)(seed + i * 13);
    free(b);
    return ok;
}

static inline void fx_pattern(uint8_t *b, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)(seed + i * 13);
}

#endif

/* vtd DMA backend: the DMA API over the VT-d driver (softiommu/vtd_driver.h), the way Linux's
 * iommu-dma sits on intel-iommu.
 *
 * Each device gets its own DMA domain, attached when the device is created, with its own IOVA
 * allocator (softiommu/iova.h) over [4 KiB, the domain's limit) minus the interrupt window
 * 0xFEE00000-0xFEEFFFFF (writes there are interrupt requests, never memory). A mapping takes an
 * IOVA range below the device's DMA mask that covers the buffer's pages, maps it with the
 * permission the direction allows (TO_DEVICE: read, FROM_DEVICE: write, BIDIRECTIONAL: both),
 * and hands out IOVA + the buffer's offset in its page. An unmap clears the range; the IOVA
 * goes back to the allocator only through the driver's release callback, i.e. after the
 * IOTLB invalidation (at once in strict mode, at the flush-queue flush in lazy mode).
 *
 * A scatter/gather list of physically scattered pages gets one IOVA range with the pieces laid
 * end to end, so a list of whole pages is a single DMA segment. Coherent buffers are pages of
 * the coherent region anywhere in RAM, mapped read/write below the coherent mask. The platform
 * is cache-coherent, so syncs have nothing to do. */
#include <softiommu/dma.h>
#include <softiommu/err.h>
#include <softiommu/iova.h>
#include <softiommu/log.h>
#include <softiommu/vtd_driver.h>

#include <stdlib.h>

#define PAGE      4096ULL
#define MSI_START 0xFEE00000ULL
#define MSI_END   0xFEF00000ULL

struct vtd_be {
    struct sio_vtd_drv *drv;
    int strict;
};

struct vtd_dev {
    struct sio_domain *dom;
    struct sio_iova *iova;
    uint64_t limit; /* last usable IOVA byte of the domain */
};

static int vtd_init(struct sio_dma *dma, const void *vcfg, void **priv)
{
    (void)dma;
    const struct sio_dma_vtd_config *cfg = vcfg;
    if (!cfg || !cfg->drv)
        return SIO_EINVAL;
    struct vtd_be *be = calloc(1, sizeof(*be));
    if (!be)
        return SIO_ENOMEM;
    be->drv = cfg->drv;
    be->strict = cfg->strict;
    *priv = be;
    return 0;
}

static void vtd_fini(struct sio_dma *dma, void *priv)
{
    (void)dma;
    free(priv);
}

static void release_iova(void *ctx, uint64_t iova, uint64_t size)
{
    struct vtd_dev *vd = ctx;
    int rc = sio_iova_free(vd->iova, iova, size);
    if (rc)
        sio_logf(SIO_LOG_ERR, "DMA-API: vtd: IOVA 0x%llx+0x%llx could not be returned: %s",
                 (unsigned long long)iova, (unsigned long long)size, sio_strerror(rc));
}

static int vtd_dev_attach(struct sio_dma_dev *dev)
{
    struct vtd_be *be = sio_dma_priv(sio_dma_dev_ctx(dev));
    struct vtd_dev *vd = calloc(1, sizeof(*vd));
    if (!vd)
        return SIO_ENOMEM;
    vd->dom = sio_vtd_drv_domain_alloc(be->drv);
    if (!vd->dom) {
        free(vd);
        return SIO_ENOSPC;
    }
    if (be->strict >= 0)
        sio_vtd_drv_domain_set_strict(vd->dom, be->strict);
    uint64_t end = sio_vtd_drv_domain_limit(vd->dom);
    vd->limit = end - 1;
    vd->iova = sio_iova_create(PAGE, end);
    int rc = vd->iova ? 0 : SIO_ENOMEM;
    if (!rc && end > MSI_START)
        rc = sio_iova_reserve(vd->iova, MSI_START, MSI_END < end ? MSI_END : end);
    if (!rc) {
        sio_vtd_drv_domain_set_release(vd->dom, release_iova, vd);
        rc = sio_vtd_drv_attach(vd->dom, sio_dma_dev_sid(dev));
    }
    if (rc) {
        sio_vtd_drv_domain_free(vd->dom);
        sio_iova_destroy(vd->iova);
        free(vd);
        return rc;
    }
    sio_dma_dev_set_priv(dev, vd);
    return 0;
}

static void vtd_dev_detach(struct sio_dma_dev *dev)
{
    struct vtd_dev *vd = sio_dma_dev_priv(dev);
    sio_vtd_drv_detach(vd->dom, sio_dma_dev_sid(dev));
    /* Frees the domain after its flush queue drained into release_iova. */
    sio_vtd_drv_domain_free(vd->dom);
    sio_iova_destroy(vd->iova);
    free(vd);
}

static unsigned perm_of(enum sio_dma_dir dir)
{
    switch (dir) {
    case SIO_DMA_TO_DEVICE:
        return SIO_READ;
    case SIO_DMA_FROM_DEVICE:
        return SIO_WRITE;
    default:
        return SIO_READ | SIO_WRITE;
    }
}

static uint64_t span_of(uint64_t pa, uint64_t len)
{
    return ((pa & (PAGE - 1)) + len + PAGE - 1) & ~(PAGE - 1);
}

static int iova_get(struct vtd_dev *vd, uint64_t size, uint64_t mask, uint64_t *iova)
{
    return sio_iova_alloc(vd->iova, size, mask < vd->limit ? mask : vd->limit, iova);
}

static int vtd_map(struct sio_dma_dev *dev, struct sio_dma_mapping *m)
{
    struct vtd_dev *vd = sio_dma_dev_priv(dev);
    uint64_t span = span_of(m->pa, m->len), iova;
    int rc = iova_get(vd, span, sio_dma_get_mask(dev), &iova);
    if (rc)
        return rc;
    rc = sio_vtd_drv_map(vd->dom, iova, m->pa & ~(PAGE - 1), span, perm_of(m->dir));
    if (rc) {
        sio_iova_free(vd->iova, iova, span);
        return rc;
    }
    m->dma = iova + (m->pa & (PAGE - 1));
    m->priv = span;
    return 0;
}

static int vtd_unmap(struct sio_dma_dev *dev, const struct sio_dma_mapping *m)
{
    struct vtd_dev *vd = sio_dma_dev_priv(dev);
    /* The IOVA comes back through release_iova once no stale translation can remain. */
    return sio_vtd_drv_unmap(vd->dom, m->dma & ~(PAGE - 1), m->priv);
}

static int vtd_map_sg(struct sio_dma_dev *dev, struct sio_sg *sg, struct sio_dma_mapping *m)
{
    struct vtd_dev *vd = sio_dma_dev_priv(dev);
    uint64_t total = 0, iova;
    for (unsigned i = 0; i < m->nents; i++)
        total += span_of(sg[i].pa, sg[i].len);
    int rc = iova_get(vd, total, sio_dma_get_mask(dev), &iova);
    if (rc)
        return rc;
    unsigned perm = perm_of(m->dir), seg = 0;
    uint64_t at = iova;
    for (unsigned i = 0; i < m->nents; i++) {
        uint64_t span = span_of(sg[i].pa, sg[i].len);
        rc = sio_vtd_drv_map(vd->dom, at, sg[i].pa & ~(PAGE - 1), span, perm);
        if (rc) {
            /* Unmapping the whole allocation (holes are skipped) releases it as one range. */
            if (at > iova)
                sio_vtd_drv_unmap(vd->dom, iova, total);
            else
                sio_iova_free(vd->iova, iova, total);
            return rc;
        }
        uint64_t dma = at + (sg[i].pa & (PAGE - 1));
        /* Pieces that meet at a page boundary are one segment for the device. */
        if (seg && sg[seg - 1].dma_address + sg[seg - 1].dma_length == dma) {
            sg[seg - 1].dma_length += sg[i].len;
        } else {
            sg[seg].dma_address = dma;
            sg[seg].dma_length = sg[i].len;
            seg++;
        }
        at += span;
    }
    m->count = seg;
    m->dma = sg[0].dma_address;
    m->priv = total;
    return 0;
}

static int vtd_unmap_sg(struct sio_dma_dev *dev, const struct sio_dma_mapping *m)
{
    struct vtd_dev *vd = sio_dma_dev_priv(dev);
    return sio_vtd_drv_unmap(vd->dom, m->dma & ~(PAGE - 1), m->priv);
}

static int vtd_alloc_coherent(struct sio_dma_dev *dev, struct sio_dma_mapping *m)
{
    struct sio_dma *ctx = sio_dma_dev_ctx(dev);
    struct vtd_dev *vd = sio_dma_dev_priv(dev);
    uint64_t span = span_of(0, m->len), iova;
    int rc = sio_dma_pages_alloc(ctx, span, UINT64_MAX, &m->pa);
    if (rc)
        return rc;
    if (sio_mem_zero(sio_dma_mem(ctx), m->pa, (size_t)span)) {
        sio_dma_pages_free(ctx, m->pa, span);
        return SIO_EFAULT;
    }
    rc = iova_get(vd, span, sio_dma_get_coherent_mask(dev), &iova);
    if (!rc) {
        rc = sio_vtd_drv_map(vd->dom, iova, m->pa, span, SIO_READ | SIO_WRITE);
        if (rc)
            sio_iova_free(vd->iova, iova, span);
    }
    if (rc) {
        sio_dma_pages_free(ctx, m->pa, span);
        return rc;
    }
    m->dma = iova;
    m->priv = span;
    return 0;
}

static int vtd_free_coherent(struct sio_dma_dev *dev, const struct sio_dma_mapping *m)
{
    struct vtd_dev *vd = sio_dma_dev_priv(dev);
    int rc = sio_vtd_drv_unmap(vd->dom, m->dma, m->priv);
    /* Strict: the device can no longer reach the pages. Lazy: a stale translation may remain
     * until the flush, exactly as Linux's iommu-dma frees coherent pages in lazy mode. */
    int rc2 = sio_dma_pages_free(sio_dma_dev_ctx(dev), m->pa, m->priv);
    return rc ? rc : rc2;
}

static const struct sio_dma_ops vtd_ops = {
    .name = "vtd",
    .init = vtd_init,
    .fini = vtd_fini,
    .dev_attach = vtd_dev_attach,
    .dev_detach = vtd_dev_detach,
    .map = vtd_map,
    .unmap = vtd_unmap,
    .map_sg = vtd_map_sg,
    .unmap_sg = vtd_unmap_sg,
    .alloc_coherent = vtd_alloc_coherent,
    .free_coherent = vtd_free_coherent,
};

const struct sio_dma_ops *sio_dma_vtd_ops(void)
{
    return &vtd_ops;
}

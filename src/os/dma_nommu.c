/* nommu DMA backend: no IOMMU, no bounce buffers. The device uses the CPU's physical address
 * directly, so a buffer the device cannot address (any byte above its DMA mask) is an error:
 * SIO_EMASK. Scatter/gather pieces that happen to be physically contiguous merge into one
 * segment; coherent buffers come from the core's page allocator below the coherent mask. */
#include <softiommu/dma.h>
#include <softiommu/err.h>

static int nommu_init(struct sio_dma *dma, const void *cfg, void **priv)
{
    (void)dma;
    (void)cfg;
    *priv = NULL;
    return 0;
}

static int nommu_map(struct sio_dma_dev *dev, struct sio_dma_mapping *m)
{
    if (m->pa + m->len - 1 > sio_dma_get_mask(dev))
        return SIO_EMASK;
    m->dma = m->pa;
    return 0;
}

static int nommu_unmap(struct sio_dma_dev *dev, const struct sio_dma_mapping *m)
{
    (void)dev;
    (void)m;
    return 0;
}

static int nommu_map_sg(struct sio_dma_dev *dev, struct sio_sg *sg, struct sio_dma_mapping *m)
{
    uint64_t mask = sio_dma_get_mask(dev);
    for (unsigned i = 0; i < m->nents; i++)
        if (sg[i].pa + sg[i].len - 1 > mask)
            return SIO_EMASK;
    /* Segments are written over the list's front as Linux does; read each piece before its
     * entry can be overwritten (segment j <= piece i always). */
    unsigned seg = 0;
    for (unsigned i = 0; i < m->nents; i++) {
        uint64_t pa = sg[i].pa, len = sg[i].len;
        if (i > 0 && sg[seg - 1].dma_address + sg[seg - 1].dma_length == pa) {
            sg[seg - 1].dma_length += len;
            continue;
        }
        sg[seg].dma_address = pa;
        sg[seg].dma_length = len;
        seg++;
    }
    m->count = seg;
    m->dma = sg[0].dma_address;
    return 0;
}

static int nommu_unmap_sg(struct sio_dma_dev *dev, const struct sio_dma_mapping *m)
{
    (void)dev;
    (void)m;
    return 0;
}

static const struct sio_dma_ops nommu_ops = {
    .name = "nommu",
    .init = nommu_init,
    .map = nommu_map,
    .unmap = nommu_unmap,
    .map_sg = nommu_map_sg,
    .unmap_sg = nommu_unmap_sg,
};

const struct sio_dma_ops *sio_dma_nommu_ops(void)
{
    return &nommu_ops;
}

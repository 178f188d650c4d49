/* A conventional PCI device whose DMA engine has 32-bit address registers: it can only name
 * bus addresses below 4 GiB. A 64-bit store to SRC lands in SRC and DST, as two 32-bit
 * registers would take it. */
#include <softiommu/pcidev.h>
#include <softiommu/err.h>

#include <stdlib.h>

#define DMA32_MAX_LEN 65536

struct sio_dma32 {
    struct sio_pci_fn *fn;
    uint32_t src, dst, len, status;
    int32_t result;
    uint8_t buf[DMA32_MAX_LEN];
};

struct sio_pci_fn_desc sio_dma32_desc(void)
{
    struct sio_pci_fn_desc d = {0};
    d.vendor = SIO_DMA32_VENDOR;
    d.device = SIO_DMA32_DEVICE;
    d.class_code = 0x018000; /* mass storage, other */
    d.pcie_type = SIO_PCIE_NONE;
    d.msi = 1;
    d.bar_size[0] = 0x1000;
    return d;
}

static void run(struct sio_dma32 *d)
{
    int rc = 0;
    if (d->len > DMA32_MAX_LEN)
        rc = SIO_ERANGE;
    if (!rc)
        rc = sio_pci_fn_dma(d->fn, d->src, d->buf, d->len, SIO_READ);
    if (!rc)
        rc = sio_pci_fn_dma(d->fn, d->dst, d->buf, d->len, SIO_WRITE);
    d->status = rc ? 1 : 0;
    d->result = rc;
    sio_pci_fn_msi(d->fn);
}

static uint64_t dma32_read(void *dev, unsigned bar, uint64_t off, unsigned size)
{
    struct sio_dma32 *d = dev;
    if (bar != 0 || size != 4)
        return 0;
    switch (off) {
    case SIO_DMA32_SRC:
        return d->src;
    case SIO_DMA32_DST:
        return d->dst;
    case SIO_DMA32_LEN:
        return d->len;
    case SIO_DMA32_STATUS:
        return d->status;
    case SIO_DMA32_RESULT:
        return (uint32_t)d->result;
    default:
        return 0;
    }
}

static void write32(struct sio_dma32 *d, uint64_t off, uint32_t v)
{
    switch (off) {
    case SIO_DMA32_SRC:
        d->src = v;
        break;
    case SIO_DMA32_DST:
        d->dst = v;
        break;
    case SIO_DMA32_LEN:
        d->len = v;
        break;
    case SIO_DMA32_CMD:
        if (v & 1)
            run(d);
        break;
    default:
        break;
    }
}

static void dma32_write(void *dev, unsigned bar, uint64_t off, uint64_t val, unsigned size)
{
    struct sio_dma32 *d = dev;
    if (bar != 0)
        return;
    if (size == 4) {
        write32(d, off, (uint32_t)val);
    } else if (size == 8) {
        write32(d, off, (uint32_t)val);
        write32(d, off + 4, (uint32_t)(val >> 32));
    }
}

static const struct sio_pci_fn_ops dma32_ops = {dma32_read, dma32_write};

struct sio_dma32 *sio_dma32_attach(struct sio_pci_fn *fn, struct sio_dma_port port)
{
    if (!fn)
        return NULL;
    struct sio_dma32 *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->fn = fn;
    sio_pci_fn_attach(fn, &dma32_ops, d, port);
    return d;
}

void sio_dma32_destroy(struct sio_dma32 *d)
{
    if (!d)
        return;
    struct sio_dma_port none = {NULL, NULL};
    sio_pci_fn_attach(d->fn, NULL, NULL, none);
    free(d);
}

/* The DMA port of a machine without an IOMMU: a device's bus address is a host-physical
 * address, and an MSI is delivered exactly as the device wrote it. */
#include <softiommu/pcidev.h>
#include <softiommu/err.h>

#include <string.h>

static int nommu_dma(void *ctx, uint16_t rid, uint64_t addr, void *buf, size_t len, unsigned access)
{
    struct sio_nommu_port *p = ctx;
    (void)rid;
    p->st.dma_requests++;
    int rc = (access & SIO_WRITE) ? sio_mem_write(&p->mem, addr, buf, len)
                                  : sio_mem_read(&p->mem, addr, buf, len);
    if (rc) {
        p->st.dma_blocked++;
        return SIO_EFAULT;
    }
    p->st.dma_bytes += len;
    return 0;
}

/* Compatibility-format MSI (Intel SDM "message address/data"): address 31:20 = 0xFEE,
 * destination APIC id in 19:12; vector in data 7:0. Anything else is an ordinary write. */
static int nommu_msi(void *ctx, uint16_t rid, uint64_t addr, uint32_t data)
{
    struct sio_nommu_port *p = ctx;
    if ((addr >> 20) != 0xFEE) {
        uint8_t b[4] = {(uint8_t)data, (uint8_t)(data >> 8), (uint8_t)(data >> 16),
                        (uint8_t)(data >> 24)};
        return nommu_dma(ctx, rid, addr, b, sizeof(b), SIO_WRITE);
    }
    p->st.msis++;
    struct sio_irq irq = {data & 0xFF, (uint32_t)((addr >> 12) & 0xFF), 0};
    if (p->sink)
        p->sink(p->sink_ctx, rid, &irq);
    return 0;
}

static const struct sio_dma_port_ops nommu_ops = {nommu_dma, nommu_msi};

void sio_nommu_port_init(struct sio_nommu_port *p, const struct sio_mem_ops *mem, void *mem_ctx,
                         sio_irq_sink_fn sink, void *sink_ctx)
{
    memset(p, 0, sizeof(*p));
    p->mem.ops = mem;
    p->mem.ctx = mem_ctx;
    p->sink = sink;
    p->sink_ctx = sink_ctx;
}

struct sio_dma_port sio_nommu_port(struct sio_nommu_port *p)
{
    struct sio_dma_port port = {&nommu_ops, p};
    return port;
}

/* The DMA port through a VT-d unit: every request is presented to the unit with the
 * requester id the fabric delivered (sio_vtd_dma), every interrupt-window write goes through
 * interrupt remapping (sio_vtd_msi). */
#include <softiommu/pcidev.h>
#include <softiommu/err.h>

#include <string.h>

static int vtd_port_dma(void *ctx, uint16_t rid, uint64_t addr, void *buf, size_t len,
                        unsigned access)
{
    struct sio_vtd_port *p = ctx;
    p->st.dma_requests++;
    int rc = sio_vtd_dma(p->vtd, rid, addr, buf, len, access);
    if (rc) {
        p->st.dma_blocked++;
        if (rc > 0)
            p->st.last_fault = (unsigned)rc;
        return rc;
    }
    p->st.dma_bytes += len;
    return 0;
}

static int vtd_port_msi(void *ctx, uint16_t rid, uint64_t addr, uint32_t data)
{
    struct sio_vtd_port *p = ctx;
    if ((addr >> 20) != 0xFEE) {
        uint8_t b[4] = {(uint8_t)data, (uint8_t)(data >> 8), (uint8_t)(data >> 16),
                        (uint8_t)(data >> 24)};
        return vtd_port_dma(ctx, rid, addr, b, sizeof(b), SIO_WRITE);
    }
    p->st.msis++;
    struct sio_irq irq;
    memset(&irq, 0, sizeof(irq));
    int rc = sio_vtd_msi(p->vtd, rid, addr, data, &irq);
    if (rc) {
        p->st.msis_blocked++;
        if (rc > 0)
            p->st.last_fault = (unsigned)rc;
        return rc;
    }
    if (p->sink)
        p->sink(p->sink_ctx, rid, &irq);
    return 0;
}

static const struct sio_dma_port_ops vtd_port_ops = {vtd_port_dma, vtd_port_msi};

void sio_vtd_port_init(struct sio_vtd_port *p, struct sio_vtd *vtd, sio_irq_sink_fn sink,
                       void *sink_ctx)
{
    memset(p, 0, sizeof(*p));
    p->vtd = vtd;
    p->sink = sink;
    p->sink_ctx = sink_ctx;
}

struct sio_dma_port sio_vtd_port(struct sio_vtd_port *p)
{
    struct sio_dma_port port = {&vtd_port_ops, p};
    return port;
}

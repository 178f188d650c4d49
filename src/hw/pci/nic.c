/* An emulated NIC with RX and TX descriptor rings in BAR0, e1000-like. All of its memory
 * traffic (descriptors, packet data, write-backs) and its interrupts go through the
 * function's DMA port; it never touches memory any other way. */
#include <softiommu/pcidev.h>
#include <softiommu/bits.h>
#include <softiommu/err.h>

#include <stdlib.h>
#include <string.h>

struct sio_nic {
    struct sio_pci_fn *fn;
    sio_nic_wire_fn wire;
    void *wire_ctx;
    uint32_t ctrl, icr, ims;
    uint32_t rdbal, rdbah, rdlen, rdh, rdt;
    uint32_t tdbal, tdbah, tdlen, tdh, tdt;
    struct sio_nic_stats st;
    uint8_t frame[SIO_NIC_MAX_FRAME];
};

struct sio_pci_fn_desc sio_nic_desc(uint16_t total_vfs)
{
    struct sio_pci_fn_desc d = {0};
    d.vendor = SIO_NIC_VENDOR;
    d.device = SIO_NIC_DEVICE;
    d.class_code = 0x020000; /* network controller, Ethernet */
    d.pcie_type = SIO_PCIE_ENDPOINT;
    d.msi = 1;
    d.bar_size[0] = SIO_NIC_BAR0_SIZE;
    d.bar64 = 1u << 0;
    if (total_vfs) {
        /* As the 82576 does: VFs from routing id +0x80, stride 2, each with its own BAR0;
         * the PF's ACS capability (internal peer-to-peer goes upstream) keeps them apart. */
        d.total_vfs = total_vfs;
        d.vf_offset = 0x80;
        d.vf_stride = 2;
        d.vf_device = SIO_NIC_VF_DEVICE;
        d.vf_bar0_size = SIO_NIC_BAR0_SIZE;
        d.acs = 1;
    }
    return d;
}

static uint64_t rd_base(const struct sio_nic *n)
{
    return (uint64_t)n->rdbah << 32 | n->rdbal;
}

static uint64_t td_base(const struct sio_nic *n)
{
    return (uint64_t)n->tdbah << 32 | n->tdbal;
}

static void raise_irq(struct sio_nic *n, uint32_t cause)
{
    n->icr |= cause;
    if (!(n->ims & cause))
        return;
    int rc = sio_pci_fn_msi(n->fn);
    if (rc == 0)
        n->st.msis++;
    else if (rc != SIO_ESTATE) /* ESTATE: MSI not enabled by software, nothing sent */
        n->st.msis_failed++;
}

static int dma(struct sio_nic *n, uint64_t addr, void *buf, size_t len, unsigned access)
{
    int rc = sio_pci_fn_dma(n->fn, addr, buf, len, access);
    if (rc) {
        n->st.dma_errors++;
        n->st.last_dma_result = rc;
        n->st.last_fault_addr = addr;
    }
    return rc;
}

int sio_nic_receive(struct sio_nic *n, const void *frame, size_t len)
{
    if (!(n->ctrl & SIO_NIC_CTRL_RXEN) || n->rdlen == 0 || n->rdh == n->rdt) {
        n->st.rx_dropped++;
        raise_irq(n, SIO_NIC_ICR_RXNOBUF);
        return SIO_ENOSPC;
    }
    uint64_t da = rd_base(n) + (uint64_t)n->rdh * SIO_NIC_DESC_SIZE;
    uint8_t d[SIO_NIC_DESC_SIZE];
    int rc = dma(n, da, d, sizeof(d), SIO_READ);
    if (rc) {
        raise_irq(n, SIO_NIC_ICR_DMAERR);
        return rc;
    }
    uint64_t buf = sio_ld64le(d + SIO_NIC_DESC_ADDR);
    size_t bufsz = sio_ld16le(d + SIO_NIC_DESC_BUFSZ);
    if (bufsz == 0)
        bufsz = 2048;
    int result = 0;
    uint8_t sta = SIO_NIC_STA_DD;
    if (len > bufsz || len > SIO_NIC_MAX_FRAME) {
        sta |= SIO_NIC_STA_ERR;
        sio_st16le(d + SIO_NIC_DESC_LEN, 0);
        result = SIO_ERANGE;
        n->st.rx_dropped++;
    } else {
        memcpy(n->frame, frame, len);
        rc = dma(n, buf, n->frame, len, SIO_WRITE);
        if (rc) {
            sta |= SIO_NIC_STA_ERR;
            sio_st16le(d + SIO_NIC_DESC_LEN, 0);
            result = rc;
        } else {
            sta |= SIO_NIC_STA_EOP;
            sio_st16le(d + SIO_NIC_DESC_LEN, (uint16_t)len);
            n->st.rx_packets++;
            n->st.rx_bytes += len;
        }
    }
    d[SIO_NIC_DESC_STA] = sta;
    dma(n, da, d, sizeof(d), SIO_WRITE);
    n->rdh = (n->rdh + 1) % n->rdlen;
    raise_irq(n, result ? SIO_NIC_ICR_DMAERR : SIO_NIC_ICR_RX);
    return result;
}

/* Sends everything between TDH and TDT; one interrupt for the batch. */
static void transmit(struct sio_nic *n)
{
    if (!(n->ctrl & SIO_NIC_CTRL_TXEN) || n->tdlen == 0)
        return;
    unsigned done = 0, errors = 0;
    while (n->tdh != n->tdt) {
        uint64_t da = td_base(n) + (uint64_t)n->tdh * SIO_NIC_DESC_SIZE;
        uint8_t d[SIO_NIC_DESC_SIZE];
        if (dma(n, da, d, sizeof(d), SIO_READ)) {
            errors++;
            break; /* cannot even read the ring: stop where we are */
        }
        uint64_t buf = sio_ld64le(d + SIO_NIC_DESC_ADDR);
        size_t len = sio_ld16le(d + SIO_NIC_DESC_LEN);
        uint8_t sta = SIO_NIC_STA_DD;
        if (len > SIO_NIC_MAX_FRAME || dma(n, buf, n->frame, len, SIO_READ)) {
            sta |= SIO_NIC_STA_ERR;
            errors++;
        } else {
            if (n->wire)
                n->wire(n->wire_ctx, n->frame, len);
            n->st.tx_packets++;
            n->st.tx_bytes += len;
        }
        d[SIO_NIC_DESC_STA] = sta;
        dma(n, da, d, sizeof(d), SIO_WRITE);
        n->tdh = (n->tdh + 1) % n->tdlen;
        done++;
    }
    if (errors)
        raise_irq(n, SIO_NIC_ICR_DMAERR);
    if (done)
        raise_irq(n, SIO_NIC_ICR_TX);
}

static void nic_reset(struct sio_nic *n)
{
    n->ctrl = n->icr = n->ims = 0;
    n->rdbal = n->rdbah = n->rdlen = n->rdh = n->rdt = 0;
    n->tdbal = n->tdbah = n->tdlen = n->tdh = n->tdt = 0;
}

static uint32_t *reg(struct sio_nic *n, uint64_t off)
{
    switch (off) {
    case SIO_NIC_CTRL:
        return &n->ctrl;
    case SIO_NIC_IMS:
        return &n->ims;
    case SIO_NIC_RDBAL:
        return &n->rdbal;
    case SIO_NIC_RDBAH:
        return &n->rdbah;
    case SIO_NIC_RDLEN:
        return &n->rdlen;
    case SIO_NIC_RDH:
        return &n->rdh;
    case SIO_NIC_RDT:
        return &n->rdt;
    case SIO_NIC_TDBAL:
        return &n->tdbal;
    case SIO_NIC_TDBAH:
        return &n->tdbah;
    case SIO_NIC_TDLEN:
        return &n->tdlen;
    case SIO_NIC_TDH:
        return &n->tdh;
    case SIO_NIC_TDT:
        return &n->tdt;
    default:
        return NULL;
    }
}

static uint64_t nic_mmio_read(void *dev, unsigned bar, uint64_t off, unsigned size)
{
    struct sio_nic *n = dev;
    if (bar != 0 || size != 4)
        return 0;
    if (off == SIO_NIC_ICR) {
        uint32_t v = n->icr;
        n->icr = 0;
        return v;
    }
    if (off == SIO_NIC_STATUS)
        return n->ctrl & (SIO_NIC_CTRL_RXEN | SIO_NIC_CTRL_TXEN);
    uint32_t *r = reg(n, off);
    return r ? *r : 0;
}

static void nic_mmio_write(void *dev, unsigned bar, uint64_t off, uint64_t val, unsigned size)
{
    struct sio_nic *n = dev;
    if (bar != 0 || size != 4)
        return;
    uint32_t v = (uint32_t)val;
    if (off == SIO_NIC_CTRL && (v & SIO_NIC_CTRL_RST)) {
        nic_reset(n);
        return;
    }
    uint32_t *r = reg(n, off);
    if (!r)
        return;
    if (off == SIO_NIC_RDBAL || off == SIO_NIC_TDBAL)
        v &= ~0xFu; /* rings are 16-byte aligned */
    if ((off == SIO_NIC_RDH || off == SIO_NIC_RDT) && n->rdlen)
        v %= n->rdlen;
    if ((off == SIO_NIC_TDH || off == SIO_NIC_TDT) && n->tdlen)
        v %= n->tdlen;
    if ((off == SIO_NIC_RDLEN || off == SIO_NIC_TDLEN) && v > 65536)
        v = 65536;
    *r = v;
    if (off == SIO_NIC_TDT)
        transmit(n);
}

static const struct sio_pci_fn_ops nic_ops = {nic_mmio_read, nic_mmio_write};

struct sio_nic *sio_nic_attach(struct sio_pci_fn *fn, struct sio_dma_port port,
                               sio_nic_wire_fn wire, void *wire_ctx)
{
    if (!fn)
        return NULL;
    struct sio_nic *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->fn = fn;
    n->wire = wire;
    n->wire_ctx = wire_ctx;
    sio_pci_fn_attach(fn, &nic_ops, n, port);
    return n;
}

void sio_nic_destroy(struct sio_nic *n)
{
    if (!n)
        return;
    struct sio_dma_port none = {NULL, NULL};
    sio_pci_fn_attach(n->fn, NULL, NULL, none);
    free(n);
}

void sio_nic_get_stats(struct sio_nic *n, struct sio_nic_stats *out)
{
    *out = n->st;
}

struct sio_pci_fn *sio_nic_fn(struct sio_nic *n)
{
    return n->fn;
}

/* The emulated devices through a port with no IOMMU (and through a port that refuses some
 * addresses, standing in for an IOMMU's verdict): the NIC's RX/TX rings, descriptor
 * write-back, MSIs, DMA errors; the 32-bit device's address registers; the rogue device. */
#include "test_util.h"

#include <softiommu/bits.h>
#include <softiommu/err.h>
#include <softiommu/pcidev.h>

#include <stdlib.h>
#include <string.h>

struct irq_log {
    unsigned n;
    uint16_t rid;
    struct sio_irq last;
};

static void sink(void *ctx, uint16_t rid, const struct sio_irq *irq)
{
    struct irq_log *l = ctx;
    l->n++;
    l->rid = rid;
    l->last = *irq;
}

/* A port in front of the nommu port that refuses [deny_lo, deny_hi) with fault 5 / 6. */
struct deny_port {
    struct sio_nommu_port *inner;
    uint64_t deny_lo, deny_hi;
};

static int deny_dma(void *ctx, uint16_t rid, uint64_t addr, void *buf, size_t len, unsigned access)
{
    struct deny_port *d = ctx;
    if (addr < d->deny_hi && addr + len > d->deny_lo)
        return (access & SIO_WRITE) ? 5 : 6;
    struct sio_dma_port in = sio_nommu_port(d->inner);
    return in.ops->dma(in.ctx, rid, addr, buf, len, access);
}

static int deny_msi(void *ctx, uint16_t rid, uint64_t addr, uint32_t data)
{
    struct deny_port *d = ctx;
    struct sio_dma_port in = sio_nommu_port(d->inner);
    return in.ops->msi(in.ctx, rid, addr, data);
}

static const struct sio_dma_port_ops deny_ops = {deny_dma, deny_msi};

struct wire {
    unsigned n;
    size_t len[16];
    uint8_t data[16][256];
};

static void wire_fn(void *ctx, const void *frame, size_t len)
{
    struct wire *w = ctx;
    if (w->n < 16 && len <= 256) {
        w->len[w->n] = len;
        memcpy(w->data[w->n], frame, len);
    }
    w->n++;
}

struct rig {
    struct sio_pmem *pm;
    struct sio_mem mem;
    struct sio_pci_topo *t;
    struct sio_nommu_port np;
    struct deny_port dp;
    struct irq_log irqs;
    struct wire wire;
    struct sio_pci_fn *fn;
    struct sio_nic *nic;
};

#define BAR 0xFEB00000ULL

static void nic_w(struct rig *r, unsigned off, uint32_t v)
{
    assert_int_equal(sio_pci_mmio_write(r->t, BAR + off, v, 4), 0);
}

static uint32_t nic_r(struct rig *r, unsigned off)
{
    uint64_t v;
    assert_int_equal(sio_pci_mmio_read(r->t, BAR + off, 4, &v), 0);
    return (uint32_t)v;
}

static struct rig *rig_new(int deny)
{
    struct rig *r = calloc(1, sizeof(*r));
    r->pm = sio_pmem_create(1ULL << 33);
    r->mem.ops = sio_pmem_ops();
    r->mem.ctx = r->pm;
    r->t = sio_pci_topo_create(0);
    sio_nommu_port_init(&r->np, sio_pmem_ops(), r->pm, sink, &r->irqs);
    struct sio_dma_port port = sio_nommu_port(&r->np);
    if (deny) {
        r->dp.inner = &r->np;
        r->dp.deny_lo = 0x80000000;
        r->dp.deny_hi = 0x100000000ULL;
        port.ops = &deny_ops;
        port.ctx = &r->dp;
    }
    struct sio_pci_fn_desc d = sio_nic_desc(0);
    assert_int_equal(sio_pci_add(r->t, 0, 2, 0, &d, &r->fn), 0);
    r->nic = sio_nic_attach(r->fn, port, wire_fn, &r->wire);
    uint16_t rid = 0x10;
    sio_pci_cfg_write(r->t, rid, SIO_PCI_BAR0, (uint32_t)BAR, 4);
    sio_pci_cfg_write(r->t, rid, SIO_PCI_COMMAND, SIO_PCI_CMD_MEM | SIO_PCI_CMD_MASTER, 2);
    /* MSI: destination APIC 1, vector 0x41 (compatibility format). */
    sio_pci_cfg_write(r->t, rid, 0x80 + SIO_PCI_MSI_ADDR_LO, 0xFEE01000, 4);
    sio_pci_cfg_write(r->t, rid, 0x80 + SIO_PCI_MSI_DATA_64, 0x41, 2);
    sio_pci_cfg_write(r->t, rid, 0x80 + SIO_PCI_MSI_FLAGS, 1, 2);
    return r;
}

static void rig_free(struct rig *r)
{
    sio_nic_destroy(r->nic);
    sio_pci_topo_destroy(r->t);
    sio_pmem_destroy(r->pm);
    free(r);
}

/* RX ring of 8 at 0x10000, buffers at 0x20000 + i*2048 (size 2048). */
static void rx_setup(struct rig *r, unsigned post)
{
    for (unsigned i = 0; i < 8; i++) {
        uint8_t d[16] = {0};
        sio_st64le(d, 0x20000 + i * 2048);
        sio_st16le(d + SIO_NIC_DESC_BUFSZ, 2048);
        assert_int_equal(sio_mem_write(&r->mem, 0x10000 + 16 * i, d, 16), 0);
    }
    nic_w(r, SIO_NIC_RDBAL, 0x10000);
    nic_w(r, SIO_NIC_RDBAH, 0);
    nic_w(r, SIO_NIC_RDLEN, 8);
    nic_w(r, SIO_NIC_RDH, 0);
    nic_w(r, SIO_NIC_RDT, post);
    nic_w(r, SIO_NIC_IMS, 0xF);
    nic_w(r, SIO_NIC_CTRL, SIO_NIC_CTRL_RXEN | SIO_NIC_CTRL_TXEN);
}

static void test_nic_rx(void **state)
{
    (void)state;
    struct rig *r = rig_new(0);
    rx_setup(r, 7);
    uint8_t frame[100];
    for (int k = 0; k < 3; k++) {
        for (unsigned i = 0; i < sizeof(frame); i++)
            frame[i] = (uint8_t)(i * 7 + k);
        assert_int_equal(sio_nic_receive(r->nic, frame, 60 + 20 * k), 0);
        uint8_t got[100];
        assert_int_equal(sio_mem_read(&r->mem, 0x20000 + k * 2048, got, 60 + 20 * k), 0);
        assert_memory_equal(got, frame, 60 + 20 * k);
        uint8_t d[16];
        assert_int_equal(sio_mem_read(&r->mem, 0x10000 + 16 * k, d, 16), 0);
        assert_int_equal(sio_ld16le(d + SIO_NIC_DESC_LEN), 60 + 20 * k);
        assert_int_equal(d[SIO_NIC_DESC_STA], SIO_NIC_STA_DD | SIO_NIC_STA_EOP);
    }
    assert_int_equal(nic_r(r, SIO_NIC_RDH), 3);
    /* One MSI per packet, as programmed: APIC 1, vector 0x41, from 00:02.0. */
    assert_int_equal(r->irqs.n, 3);
    assert_int_equal(r->irqs.rid, 0x10);
    assert_int_equal(r->irqs.last.vector, 0x41);
    assert_int_equal(r->irqs.last.dest, 1);
    assert_int_equal(nic_r(r, SIO_NIC_ICR), SIO_NIC_ICR_RX);
    assert_int_equal(nic_r(r, SIO_NIC_ICR), 0); /* read clears */
    /* The ring runs dry at RDT. */
    for (int k = 3; k < 7; k++)
        assert_int_equal(sio_nic_receive(r->nic, frame, 64), 0);
    assert_int_equal(sio_nic_receive(r->nic, frame, 64), SIO_ENOSPC);
    struct sio_nic_stats st;
    sio_nic_get_stats(r->nic, &st);
    assert_int_equal(st.rx_packets, 7);
    assert_int_equal(st.rx_bytes, 60 + 80 + 100 + 4 * 64);
    assert_int_equal(st.rx_dropped, 1);
    /* Too big for the buffer: consumed with ERR, nothing written. */
    nic_w(r, SIO_NIC_RDT, 0);
    uint8_t big[3000] = {0};
    assert_int_equal(sio_nic_receive(r->nic, big, sizeof(big)), SIO_ERANGE);
    uint8_t d[16];
    assert_int_equal(sio_mem_read(&r->mem, 0x10000 + 16 * 7, d, 16), 0);
    assert_int_equal(d[SIO_NIC_DESC_STA], SIO_NIC_STA_DD | SIO_NIC_STA_ERR);
    /* MSI disabled by software: no interrupt, but the work still happens. */
    unsigned before = r->irqs.n;
    sio_pci_cfg_write(r->t, 0x10, 0x80 + SIO_PCI_MSI_FLAGS, 0, 2);
    nic_w(r, SIO_NIC_RDT, 1);
    assert_int_equal(sio_nic_receive(r->nic, frame, 64), 0);
    assert_int_equal(r->irqs.n, before);
    rig_free(r);
}

static void test_nic_tx(void **state)
{
    (void)state;
    struct rig *r = rig_new(0);
    rx_setup(r, 0);
    /* Three frames in buffers at 0x40000 + i*0x1000; TX ring of 4 at 0x11000. */
    for (unsigned i = 0; i < 3; i++) {
        uint8_t buf[200];
        memset(buf, 0xA0 + i, sizeof(buf));
        assert_int_equal(sio_mem_write(&r->mem, 0x40000 + i * 0x1000, buf, 50 + i * 50), 0);
        uint8_t d[16] = {0};
        sio_st64le(d, 0x40000 + i * 0x1000);
        sio_st16le(d + SIO_NIC_DESC_LEN, (uint16_t)(50 + i * 50));
        d[SIO_NIC_DESC_CMD] = 0x09; /* EOP | RS */
        assert_int_equal(sio_mem_write(&r->mem, 0x11000 + 16 * i, d, 16), 0);
    }
    nic_w(r, SIO_NIC_TDBAL, 0x11000);
    nic_w(r, SIO_NIC_TDLEN, 4);
    nic_w(r, SIO_NIC_TDH, 0);
    nic_w(r, SIO_NIC_TDT, 3);
    assert_int_equal(r->wire.n, 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(r->wire.len[i], 50 + i * 50);
        assert_int_equal(r->wire.data[i][0], 0xA0 + i);
        assert_int_equal(r->wire.data[i][r->wire.len[i] - 1], 0xA0 + i);
        uint8_t d[16];
        assert_int_equal(sio_mem_read(&r->mem, 0x11000 + 16 * i, d, 16), 0);
        assert_int_equal(d[SIO_NIC_DESC_STA], SIO_NIC_STA_DD);
    }
    assert_int_equal(nic_r(r, SIO_NIC_TDH), 3);
    assert_int_equal(r->irqs.n, 1); /* one interrupt for the batch */
    struct sio_nic_stats st;
    sio_nic_get_stats(r->nic, &st);
    assert_int_equal(st.tx_packets, 3);
    assert_int_equal(st.tx_bytes, 50 + 100 + 150);
    /* Wrap-around: TDT 3 -> 1 sends slots 3 and 0. */
    nic_w(r, SIO_NIC_TDT, 1);
    assert_int_equal(r->wire.n, 5);
    /* Reset clears the registers. */
    nic_w(r, SIO_NIC_CTRL, SIO_NIC_CTRL_RST);
    assert_int_equal(nic_r(r, SIO_NIC_TDLEN), 0);
    assert_int_equal(nic_r(r, SIO_NIC_STATUS), 0);
    rig_free(r);
}

static void test_nic_dma_fault(void **state)
{
    (void)state;
    struct rig *r = rig_new(1); /* [2 GiB, 4 GiB) refused */
    rx_setup(r, 2);
    /* Point descriptor 0's buffer into the refused range. */
    uint8_t d[16] = {0};
    sio_st64le(d, 0x81000000);
    sio_st16le(d + SIO_NIC_DESC_BUFSZ, 2048);
    assert_int_equal(sio_mem_write(&r->mem, 0x10000, d, 16), 0);
    uint8_t frame[64];
    memset(frame, 0xEE, sizeof(frame));
    assert_int_equal(sio_nic_receive(r->nic, frame, sizeof(frame)), 5);
    assert_int_equal(sio_mem_read(&r->mem, 0x10000, d, 16), 0);
    assert_int_equal(d[SIO_NIC_DESC_STA], SIO_NIC_STA_DD | SIO_NIC_STA_ERR);
    assert_int_equal(sio_ld16le(d + SIO_NIC_DESC_LEN), 0);
    struct sio_nic_stats st;
    sio_nic_get_stats(r->nic, &st);
    assert_int_equal(st.dma_errors, 1);
    assert_int_equal(st.last_dma_result, 5);
    assert_int_equal(st.last_fault_addr, 0x81000000ULL);
    assert_int_equal(st.rx_packets, 0);
    assert_int_equal(nic_r(r, SIO_NIC_ICR), SIO_NIC_ICR_DMAERR);
    /* The next descriptor is fine. */
    assert_int_equal(sio_nic_receive(r->nic, frame, sizeof(frame)), 0);
    /* A ring in refused memory: nothing consumed. */
    nic_w(r, SIO_NIC_RDBAL, 0x90000000);
    nic_w(r, SIO_NIC_RDT, 4);
    assert_int_equal(sio_nic_receive(r->nic, frame, sizeof(frame)), 6);
    assert_int_equal(nic_r(r, SIO_NIC_RDH), 2);
    rig_free(r);
}

/* The 32-bit DMA engine at 00:06.0 behind a port with no IOMMU over ram bytes of memory,
 * BAR0 at 0xFEC00000, memory decoding and bus mastering on. */
struct d32 {
    struct sio_pmem *pm;
    struct sio_pci_topo *t;
    struct sio_nommu_port np;
    struct sio_dma32 *dev;
};

static void d32_new(struct d32 *x, uint64_t ram)
{
    x->pm = sio_pmem_create(ram);
    x->t = sio_pci_topo_create(0);
    sio_nommu_port_init(&x->np, sio_pmem_ops(), x->pm, NULL, NULL);
    struct sio_pci_fn_desc d = sio_dma32_desc();
    struct sio_pci_fn *f;
    assert_int_equal(sio_pci_add(x->t, 0, 6, 0, &d, &f), 0);
    x->dev = sio_dma32_attach(f, sio_nommu_port(&x->np));
    sio_pci_cfg_write(x->t, 0x30, SIO_PCI_BAR0, 0xFEC00000, 4);
    sio_pci_cfg_write(x->t, 0x30, SIO_PCI_COMMAND, SIO_PCI_CMD_MEM | SIO_PCI_CMD_MASTER, 2);
}

static void d32_free(struct d32 *x)
{
    sio_dma32_destroy(x->dev);
    sio_pci_topo_destroy(x->t);
    sio_pmem_destroy(x->pm);
}

/* Writes SRC, DST, LEN and CMD = 1 (start) through BAR0, all four in that order. Returns 0
 * when every MMIO write was accepted, else the first refusal. */
static int d32_start(struct d32 *x, uint32_t src, uint32_t dst, uint32_t len)
{
    int r[4];
    r[0] = sio_pci_mmio_write(x->t, 0xFEC00000 + SIO_DMA32_SRC, src, 4);
    r[1] = sio_pci_mmio_write(x->t, 0xFEC00000 + SIO_DMA32_DST, dst, 4);
    r[2] = sio_pci_mmio_write(x->t, 0xFEC00000 + SIO_DMA32_LEN, len, 4);
    r[3] = sio_pci_mmio_write(x->t, 0xFEC00000 + SIO_DMA32_CMD, 1, 4);
    for (unsigned i = 0; i < 4; i++)
        if (r[i])
            return r[i];
    return 0;
}

static void test_dma32(void **state)
{
    (void)state;
    struct d32 x;
    d32_new(&x, 1ULL << 33);
    struct sio_pci_topo *t = x.t;
    struct sio_mem mem = {sio_pmem_ops(), x.pm};
    assert_int_equal(sio_mem_write(&mem, 0x3000, "thirty-two bits", 16), 0);
    assert_int_equal(d32_start(&x, 0x3000, 0x7000, 16), 0);
    char out[16];
    assert_int_equal(sio_mem_read(&mem, 0x7000, out, 16), 0);
    assert_string_equal(out, "thirty-two bits");
    uint64_t v;
    assert_int_equal(sio_pci_mmio_read(t, 0xFEC00000 + SIO_DMA32_STATUS, 4, &v), 0);
    assert_int_equal(v, 0);
    /* A 64-bit address cannot be expressed: a 64-bit store to SRC fills SRC and DST. */
    assert_int_equal(sio_pci_mmio_write(t, 0xFEC00000 + SIO_DMA32_SRC, 0x100002000ULL, 8), 0);
    assert_int_equal(sio_pci_mmio_read(t, 0xFEC00000 + SIO_DMA32_SRC, 4, &v), 0);
    assert_int_equal(v, 0x2000);
    assert_int_equal(sio_pci_mmio_read(t, 0xFEC00000 + SIO_DMA32_DST, 4, &v), 0);
    assert_int_equal(v, 0x1);
    d32_free(&x);
}

static void test_dma32_error(void **state)
{
    (void)state;
    struct d32 x;
    d32_new(&x, 1ULL << 20); /* 1 MiB of RAM only */
    struct sio_pci_topo *t = x.t;
    (void)d32_start(&x, 0x1000, 0x200000, 64); /* the copy's outcome is read back below */
    uint64_t v;
    sio_pci_mmio_read(t, 0xFEC00000 + SIO_DMA32_STATUS, 4, &v);
    assert_int_equal(v, 1);
    sio_pci_mmio_read(t, 0xFEC00000 + SIO_DMA32_RESULT, 4, &v);
    assert_int_equal((int32_t)v, SIO_EFAULT);
    assert_int_equal(x.np.st.dma_blocked, 1);
    d32_free(&x);
}

static void test_rogue_nommu(void **state)
{
    (void)state;
    /* Without an IOMMU a rogue device reads and writes anything: the danger itself. */
    struct sio_pmem *pm = sio_pmem_create(1ULL << 33);
    struct sio_mem mem = {sio_pmem_ops(), pm};
    struct sio_pci_topo *t = sio_pci_topo_create(0);
    struct sio_nommu_port np;
    struct irq_log irqs = {0};
    sio_nommu_port_init(&np, sio_pmem_ops(), pm, sink, &irqs);
    struct sio_pci_fn_desc d = sio_rogue_desc();
    struct sio_pci_fn *f;
    assert_int_equal(sio_pci_add(t, 0, 7, 0, &d, &f), 0);
    struct sio_rogue *r = sio_rogue_attach(f, sio_nommu_port(&np));
    sio_pci_cfg_write(t, 0x38, SIO_PCI_COMMAND, SIO_PCI_CMD_MASTER, 2);
    assert_int_equal(sio_mem_write(&mem, 0x123456000ULL, "secret", 7), 0);
    char got[7];
    assert_int_equal(sio_rogue_dma(r, 0x123456000ULL, got, 7, SIO_READ), 0);
    assert_string_equal(got, "secret");
    assert_int_equal(sio_rogue_dma(r, 0x123456000ULL, "pwned!", 7, SIO_WRITE), 0);
    assert_int_equal(sio_mem_read(&mem, 0x123456000ULL, got, 7), 0);
    assert_string_equal(got, "pwned!");
    /* Any interrupt it likes: vector 0x80 to APIC 3. */
    assert_int_equal(sio_rogue_msi(r, 0xFEE03000, 0x80), 0);
    assert_int_equal(irqs.n, 1);
    assert_int_equal(irqs.last.vector, 0x80);
    assert_int_equal(irqs.last.dest, 3);
    /* Outside the interrupt window an "MSI" is an ordinary write. */
    assert_int_equal(sio_rogue_msi(r, 0x5000, 0xAABBCCDD), 0);
    uint32_t w;
    assert_int_equal(sio_mem_read32(&mem, 0x5000, &w), 0);
    assert_int_equal(w, 0xAABBCCDD);
    struct sio_rogue_stats st;
    sio_rogue_get_stats(r, &st);
    assert_int_equal(st.attempts, 4);
    assert_int_equal(st.succeeded, 4);
    sio_rogue_destroy(r);
    sio_pci_topo_destroy(t);
    sio_pmem_destroy(pm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nic_rx),        cmocka_unit_test(test_nic_tx),
        cmocka_unit_test(test_nic_dma_fault), cmocka_unit_test(test_dma32),
        cmocka_unit_test(test_dma32_error),   cmocka_unit_test(test_rogue_nommu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

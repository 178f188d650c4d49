/* PCI topology: configuration space as software sees it (headers, BAR sizing, capability
 * chains, SR-IOV), bus numbering, requester-id aliasing by bridges, ACS Source Validation,
 * Bus Master Enable, BAR decoding. Expected values come from the PCI/PCIe/SR-IOV specs. */
#include "test_machine.h"
#include "test_util.h"

#include <softiommu/err.h>
#include <softiommu/pcidev.h>

#include <stdlib.h>
#include <string.h>

/* A port that records what reached it. */
struct rec_port {
    unsigned n;
    uint16_t rid[16];
    uint64_t addr[16];
};

static int rec_dma(void *ctx, uint16_t rid, uint64_t addr, void *buf, size_t len, unsigned access)
{
    struct rec_port *r = ctx;
    (void)buf;
    (void)len;
    (void)access;
    if (r->n < 16) {
        r->rid[r->n] = rid;
        r->addr[r->n] = addr;
    }
    r->n++;
    return 0;
}

static int rec_msi(void *ctx, uint16_t rid, uint64_t addr, uint32_t data)
{
    (void)data;
    return rec_dma(ctx, rid, addr, NULL, 4, SIO_WRITE);
}

static const struct sio_dma_port_ops rec_ops = {rec_dma, rec_msi};

static struct sio_pci_fn_desc ep(uint16_t vendor, uint16_t device)
{
    struct sio_pci_fn_desc d = {0};
    d.vendor = vendor;
    d.device = device;
    d.class_code = 0x020000;
    d.pcie_type = SIO_PCIE_ENDPOINT;
    d.bar_size[0] = 0x1000;
    return d;
}

static struct sio_pci_fn_desc bridge(int type, unsigned sec, int acs)
{
    return tm_bridge(0x1234, type, sec, acs);
}

static void test_header_and_bars(void **state)
{
    (void)state;
    struct sio_pci_topo *t = sio_pci_topo_create(0);
    struct sio_pci_fn_desc d = sio_nic_desc(0);
    struct sio_pci_fn *f;
    assert_int_equal(sio_pci_add(t, 0, 2, 0, &d, &f), 0);
    uint16_t rid = 0x0010; /* 00:02.0 */
    assert_int_equal(sio_pci_fn_rid(f), rid);
    assert_int_equal(sio_pci_cfg_read(t, rid, 0, 4), 0x10D38086u);
    assert_int_equal(sio_pci_cfg_read(t, rid, SIO_PCI_CLASS_REVISION, 4) >> 8, 0x020000);
    assert_int_equal(sio_pci_cfg_read(t, rid, SIO_PCI_HEADER_TYPE, 1), 0);
    /* Absent functions read all ones; misaligned reads too. */
    assert_int_equal(sio_pci_cfg_read(t, 0x0018, 0, 4), 0xFFFFFFFFu);
    assert_int_equal(sio_pci_cfg_read(t, 0x0018, 0, 2), 0xFFFF);
    assert_int_equal(sio_pci_cfg_read(t, rid, 1, 2), 0xFFFF);
    /* 64-bit 16 KiB BAR: type bits 2:1 = 10; sizing reads back ~(16K-1) | 4 and all-ones. */
    assert_int_equal(sio_pci_cfg_read(t, rid, SIO_PCI_BAR0, 4), 0x4);
    sio_pci_cfg_write(t, rid, SIO_PCI_BAR0, 0xFFFFFFFF, 4);
    sio_pci_cfg_write(t, rid, SIO_PCI_BAR0 + 4, 0xFFFFFFFF, 4);
    assert_int_equal(sio_pci_cfg_read(t, rid, SIO_PCI_BAR0, 4), 0xFFFFC004u);
    assert_int_equal(sio_pci_cfg_read(t, rid, SIO_PCI_BAR0 + 4, 4), 0xFFFFFFFFu);
    sio_pci_cfg_write(t, rid, SIO_PCI_BAR0, 0xFE000000, 4);
    sio_pci_cfg_write(t, rid, SIO_PCI_BAR0 + 4, 0, 4);
    assert_int_equal(sio_pci_cfg_read(t, rid, SIO_PCI_BAR0, 4), 0xFE000004u);
    assert_int_equal(sio_pci_fn_bar_addr(f, 0), 0xFE000000ULL);
    /* Read-only registers ignore writes. */
    sio_pci_cfg_write(t, rid, 0, 0x12345678, 4);
    assert_int_equal(sio_pci_cfg_read(t, rid, 0, 4), 0x10D38086u);
    /* Capabilities: status bit 4, pointer at 0x34 -> PCIe (0x10) -> MSI (0x05) -> end. */
    assert_true(sio_pci_cfg_read(t, rid, SIO_PCI_STATUS, 2) & SIO_PCI_STATUS_CAPS);
    unsigned p = sio_pci_cfg_read(t, rid, SIO_PCI_CAP_PTR, 1);
    assert_int_equal(sio_pci_cfg_read(t, rid, p, 1), SIO_PCI_CAP_ID_EXP);
    assert_int_equal((sio_pci_cfg_read(t, rid, p + 2, 2) >> 4) & 0xF, SIO_PCIE_ENDPOINT);
    p = sio_pci_cfg_read(t, rid, p + 1, 1);
    assert_int_equal(sio_pci_cfg_read(t, rid, p, 1), SIO_PCI_CAP_ID_MSI);
    assert_int_equal(sio_pci_cfg_read(t, rid, p + 1, 1), 0);
    /* Bad descriptors. */
    struct sio_pci_fn_desc bad = ep(1, 2);
    bad.bar_size[0] = 0x1800; /* not a power of two */
    assert_int_equal(sio_pci_add(t, 0, 3, 0, &bad, NULL), SIO_EINVAL);
    assert_int_equal(sio_pci_add(t, 0, 2, 0, &d, NULL), SIO_EEXIST);
    assert_int_equal(sio_pci_add(t, 0, 32, 0, &d, NULL), SIO_EINVAL);
    assert_int_equal(sio_pci_add(t, 5, 0, 0, &d, NULL), SIO_ENOENT);
    sio_pci_topo_destroy(t);
}

static void test_multifunction(void **state)
{
    (void)state;
    struct sio_pci_topo *t = sio_pci_topo_create(0);
    struct sio_pci_fn_desc d = ep(0x8086, 1);
    assert_int_equal(sio_pci_add(t, 0, 4, 1, &d, NULL), SIO_ENOENT); /* function 0 first */
    assert_int_equal(sio_pci_add(t, 0, 4, 0, &d, NULL), 0);
    assert_int_equal(sio_pci_cfg_read(t, sio_sid(0, 4, 0), SIO_PCI_HEADER_TYPE, 1), 0x00);
    assert_int_equal(sio_pci_add(t, 0, 4, 3, &d, NULL), 0);
    assert_int_equal(sio_pci_cfg_read(t, sio_sid(0, 4, 0), SIO_PCI_HEADER_TYPE, 1), 0x80);
    assert_int_equal(sio_pci_cfg_read(t, sio_sid(0, 4, 3), 0, 2), 0x8086);
    sio_pci_topo_destroy(t);
}

static void test_bridges_and_aliases(void **state)
{
    (void)state;
    struct sio_pci_topo *t = sio_pci_topo_create(0);
    struct sio_pci_fn_desc rp = bridge(SIO_PCIE_ROOT_PORT, 1, 1);
    struct sio_pci_fn_desc pb = bridge(SIO_PCIE_PCI_BRIDGE, 2, 0);
    struct sio_pci_fn *frp, *fpb, *a, *b, *c, *cb, *x;
    assert_int_equal(sio_pci_add(t, 0, 0x1c, 0, &rp, &frp), 0);
    assert_int_equal(sio_pci_add(t, 1, 0, 0, &pb, &fpb), 0);
    struct sio_pci_fn_desc conv = ep(0x10EC, 0x8139);
    conv.pcie_type = SIO_PCIE_NONE;
    assert_int_equal(sio_pci_add(t, 2, 3, 0, &conv, &a), 0);
    assert_int_equal(sio_pci_add(t, 2, 4, 0, &conv, &b), 0);
    /* Header type 1 and the bus numbers (the root port's range grew to cover bus 2). */
    uint16_t rprid = sio_sid(0, 0x1c, 0);
    assert_int_equal(sio_pci_cfg_read(t, rprid, SIO_PCI_HEADER_TYPE, 1), 1);
    assert_int_equal(sio_pci_cfg_read(t, rprid, SIO_PCI_PRIMARY_BUS, 1), 0);
    assert_int_equal(sio_pci_cfg_read(t, rprid, SIO_PCI_SECONDARY_BUS, 1), 1);
    assert_int_equal(sio_pci_cfg_read(t, rprid, SIO_PCI_SUBORDINATE, 1), 2);
    assert_int_equal(sio_pci_cfg_read(t, sio_sid(1, 0, 0), SIO_PCI_SUBORDINATE, 1), 2);
    /* Behind the PCIe-to-PCI bridge both devices carry (secondary bus 2, 00.0). */
    assert_int_equal(sio_pci_fn_wire_rid(a), 0x0200);
    assert_int_equal(sio_pci_fn_wire_rid(b), 0x0200);
    assert_int_equal(sio_pci_fn_wire_rid(fpb), 0x0100);
    /* A conventional PCI-to-PCI bridge below forwards as itself; the PCIe-to-PCI bridge above
     * then takes over: the top-most alias wins. */
    struct sio_pci_fn_desc pcib = bridge(SIO_PCIE_NONE, 3, 0);
    assert_int_equal(sio_pci_add(t, 2, 5, 0, &pcib, &cb), 0);
    assert_int_equal(sio_pci_add(t, 3, 0, 0, &conv, &c), 0);
    assert_int_equal(sio_pci_fn_wire_rid(c), 0x0200);
    /* A conventional bridge straight under a root port: its own id. */
    struct sio_pci_fn_desc rp2 = bridge(SIO_PCIE_ROOT_PORT, 4, 1);
    assert_int_equal(sio_pci_add(t, 0, 0x1d, 0, &rp2, NULL), 0);
    struct sio_pci_fn_desc pcib2 = bridge(SIO_PCIE_NONE, 5, 0);
    struct sio_pci_fn *cb2;
    assert_int_equal(sio_pci_add(t, 4, 0, 0, &pcib2, &cb2), 0);
    assert_int_equal(sio_pci_add(t, 5, 1, 0, &conv, &x), 0);
    assert_int_equal(sio_pci_fn_wire_rid(x), sio_sid(4, 0, 0));
    /* The requests really carry those ids. */
    struct rec_port rec = {0};
    struct sio_dma_port port = {&rec_ops, &rec};
    sio_pci_fn_attach(a, NULL, NULL, port);
    uint8_t buf[4];
    assert_int_equal(sio_pci_fn_dma(a, 0x1000, buf, 4, SIO_READ), SIO_EPERM); /* no BME */
    assert_int_equal(rec.n, 0);
    sio_pci_cfg_write(t, sio_pci_fn_rid(a), SIO_PCI_COMMAND, SIO_PCI_CMD_MASTER, 2);
    assert_int_equal(sio_pci_fn_dma(a, 0x1000, buf, 4, SIO_READ), 0);
    assert_int_equal(rec.n, 1);
    assert_int_equal(rec.rid[0], 0x0200);
    /* Bus numbering rules. */
    struct sio_pci_fn_desc bad = bridge(SIO_PCIE_ROOT_PORT, 2, 0);
    assert_int_equal(sio_pci_add(t, 0, 0x1e, 0, &bad, NULL), SIO_EINVAL); /* bus 2 taken */
    bad = bridge(SIO_PCIE_DOWNSTREAM, 1, 0);
    assert_int_equal(sio_pci_add(t, 2, 9, 0, &bad, NULL), SIO_EINVAL); /* not below its bus */
    bad = bridge(SIO_PCIE_ROOT_PORT, 7, 0);
    assert_int_equal(sio_pci_add(t, 1, 9, 0, &bad, NULL), SIO_EINVAL); /* root port off bus 0 */
    /* Under the first root port, bus 6 would make its range 1..6 swallow buses 4 and 5. */
    struct sio_pci_fn_desc pcib3 = bridge(SIO_PCIE_NONE, 6, 0);
    assert_int_equal(sio_pci_add(t, 2, 9, 0, &pcib3, NULL), SIO_EINVAL);
    sio_pci_topo_destroy(t);
}

static void test_acs_source_validation(void **state)
{
    (void)state;
    struct sio_pci_topo *t = sio_pci_topo_create(0);
    struct sio_pci_fn_desc rp = bridge(SIO_PCIE_ROOT_PORT, 1, 1);
    struct sio_pci_fn_desc rd = sio_rogue_desc();
    struct sio_pci_fn *frp, *fr;
    assert_int_equal(sio_pci_add(t, 0, 0x1c, 0, &rp, &frp), 0);
    assert_int_equal(sio_pci_add(t, 1, 0, 0, &rd, &fr), 0);
    struct rec_port rec = {0};
    struct sio_dma_port port = {&rec_ops, &rec};
    struct sio_rogue *r = sio_rogue_attach(fr, port);
    sio_pci_cfg_write(t, 0x0100, SIO_PCI_COMMAND, SIO_PCI_CMD_MASTER, 2);
    /* ACS capability at 0x100: ID 0x000D, version 1; SV|RR|CR|UF advertised, off at reset. */
    uint16_t rprid = sio_sid(0, 0x1c, 0);
    assert_int_equal(sio_pci_cfg_read(t, rprid, 0x100, 4) & 0xFFFFF, 0x1000D);
    assert_int_equal(sio_pci_cfg_read(t, rprid, 0x100 + SIO_PCI_ACS_CAP, 2), 0x1D);
    assert_int_equal(sio_pci_cfg_read(t, rprid, 0x100 + SIO_PCI_ACS_CTRL, 2), 0);
    uint8_t buf[8] = {0};
    /* Spoofing 00:02.0 without source validation: the request carries the forged id. */
    sio_pci_fn_spoof_rid(fr, 0x0010);
    assert_int_equal(sio_rogue_dma(r, 0x5000, buf, 8, SIO_WRITE), 0);
    assert_int_equal(rec.rid[0], 0x0010);
    /* With SV enabled on the root port, a requester id outside buses 1..1 is dropped. */
    sio_pci_cfg_write(t, rprid, 0x100 + SIO_PCI_ACS_CTRL, 0xFFFF, 2);
    assert_int_equal(sio_pci_cfg_read(t, rprid, 0x100 + SIO_PCI_ACS_CTRL, 2), 0x1D);
    assert_int_equal(sio_rogue_dma(r, 0x5000, buf, 8, SIO_WRITE), SIO_EPERM);
    assert_int_equal(sio_rogue_msi(r, 0xFEE00000, 0x30), SIO_EPERM);
    assert_int_equal(rec.n, 1);
    /* Its own id (or another on bus 1) passes. */
    sio_pci_fn_spoof_rid(fr, 0x0108);
    assert_int_equal(sio_rogue_dma(r, 0x5000, buf, 8, SIO_WRITE), 0);
    assert_int_equal(rec.rid[1], 0x0108);
    sio_pci_fn_spoof_rid(fr, 0);
    assert_int_equal(sio_rogue_msi(r, 0xFEE00000, 0x30), 0);
    assert_int_equal(rec.rid[2], 0x0100);
    struct sio_rogue_stats st;
    sio_rogue_get_stats(r, &st);
    assert_int_equal(st.attempts, 5);
    assert_int_equal(st.blocked, 2);
    assert_int_equal(st.succeeded, 3);
    sio_rogue_destroy(r);
    sio_pci_topo_destroy(t);
}

/* Walks the extended capability list for id; 0 when absent. */
static unsigned find_ecap(struct sio_pci_topo *t, uint16_t rid, unsigned id)
{
    unsigned off = 0x100;
    for (int guard = 0; off && guard < 64; guard++) {
        uint32_t h = sio_pci_cfg_read(t, rid, off, 4);
        if ((h & 0xFFFF) == id)
            return off;
        off = h >> 20;
    }
    return 0;
}

static void test_sriov(void **state)
{
    (void)state;
    struct sio_pci_topo *t = sio_pci_topo_create(0);
    struct sio_pci_fn_desc rp = bridge(SIO_PCIE_ROOT_PORT, 3, 1);
    assert_int_equal(sio_pci_add(t, 0, 1, 0, &rp, NULL), 0);
    struct sio_pci_fn_desc d = sio_nic_desc(4);
    struct sio_pci_fn *pf;
    assert_int_equal(sio_pci_add(t, 3, 0, 0, &d, &pf), 0);
    uint16_t prid = 0x0300;
    unsigned s = find_ecap(t, prid, SIO_PCI_EXT_CAP_SRIOV);
    assert_int_not_equal(s, 0);
    assert_int_equal(find_ecap(t, prid, SIO_PCI_EXT_CAP_ACS), 0x100);
    assert_int_equal(sio_pci_cfg_read(t, prid, s + SIO_PCI_SRIOV_TOTAL_VF, 2), 4);
    assert_int_equal(sio_pci_cfg_read(t, prid, s + SIO_PCI_SRIOV_VF_OFFSET, 2), 0x80);
    assert_int_equal(sio_pci_cfg_read(t, prid, s + SIO_PCI_SRIOV_VF_STRIDE, 2), 2);
    assert_int_equal(sio_pci_cfg_read(t, prid, s + SIO_PCI_SRIOV_VF_DID, 2), SIO_NIC_VF_DEVICE);
    /* Too many VFs: VF Enable does not stick. */
    sio_pci_cfg_write(t, prid, s + SIO_PCI_SRIOV_NUM_VF, 5, 2);
    sio_pci_cfg_write(t, prid, s + SIO_PCI_SRIOV_CTRL, SIO_PCI_SRIOV_VFE, 2);
    assert_int_equal(sio_pci_cfg_read(t, prid, s + SIO_PCI_SRIOV_CTRL, 2), 0);
    assert_null(sio_pci_fn_by_rid(t, 0x0380));
    /* Three VFs: routing ids 0x300 + 0x80 + 2*(n-1) = 03:10.0, 03:10.2, 03:10.4. */
    sio_pci_cfg_write(t, prid, s + SIO_PCI_SRIOV_NUM_VF, 3, 2);
    sio_pci_cfg_write(t, prid, s + SIO_PCI_SRIOV_CTRL, SIO_PCI_SRIOV_VFE, 2);
    assert_int_equal(sio_pci_cfg_read(t, prid, s + SIO_PCI_SRIOV_CTRL, 2), SIO_PCI_SRIOV_VFE);
    static const uint16_t vfrid[3] = {0x0380, 0x0382, 0x0384};
    for (int i = 0; i < 3; i++) {
        struct sio_pci_fn *vf = sio_pci_fn_by_rid(t, vfrid[i]);
        assert_non_null(vf);
        assert_true(sio_pci_fn_is_vf(vf));
        assert_ptr_equal(sio_pci_fn_pf(vf), pf);
        /* A VF's Vendor/Device ID registers read FFFFh, but the function is there: its
         * PCI Express capability answers. */
        assert_int_equal(sio_pci_cfg_read(t, vfrid[i], 0, 4), 0xFFFFFFFFu);
        unsigned p = sio_pci_cfg_read(t, vfrid[i], SIO_PCI_CAP_PTR, 1);
        assert_int_equal(sio_pci_cfg_read(t, vfrid[i], p, 1), SIO_PCI_CAP_ID_EXP);
        assert_int_equal(sio_pci_fn_wire_rid(vf), vfrid[i]);
    }
    assert_null(sio_pci_fn_by_rid(t, 0x0381));
    assert_null(sio_pci_fn_by_rid(t, 0x0386));
    /* NumVFs is read-only while VF Enable is set. */
    sio_pci_cfg_write(t, prid, s + SIO_PCI_SRIOV_NUM_VF, 4, 2);
    assert_int_equal(sio_pci_cfg_read(t, prid, s + SIO_PCI_SRIOV_NUM_VF, 2), 3);
    /* VF BARs: each VF gets its slice of the PF's VF BAR0 (16 KiB each). */
    sio_pci_cfg_write(t, prid, s + SIO_PCI_SRIOV_BAR0, 0xE0000000, 4);
    sio_pci_cfg_write(t, prid, s + SIO_PCI_SRIOV_BAR0 + 4, 0, 4);
    struct sio_pci_fn *vf1 = sio_pci_fn_by_rid(t, 0x0382);
    assert_int_equal(sio_pci_fn_bar_addr(vf1, 0), 0xE0004000ULL);
    struct sio_dma_port none = {NULL, NULL};
    struct sio_nic *nic = sio_nic_attach(vf1, none, NULL, NULL);
    uint64_t v;
    assert_int_equal(sio_pci_mmio_write(t, 0xE0004000 + SIO_NIC_RDLEN, 64, 4), SIO_ENOENT);
    sio_pci_cfg_write(t, prid, SIO_PCI_COMMAND, SIO_PCI_CMD_MEM, 2);
    sio_pci_cfg_write(t, prid, s + SIO_PCI_SRIOV_CTRL, SIO_PCI_SRIOV_VFE | SIO_PCI_SRIOV_VF_MSE, 2);
    assert_int_equal(sio_pci_mmio_write(t, 0xE0004000 + SIO_NIC_RDLEN, 64, 4), 0);
    assert_int_equal(sio_pci_mmio_read(t, 0xE0004000 + SIO_NIC_RDLEN, 4, &v), 0);
    assert_int_equal(v, 64);
    assert_int_equal(sio_pci_mmio_read(t, 0xE0000000 + SIO_NIC_RDLEN, 4, &v), SIO_ENOENT);
    assert_int_equal(v, 0xFFFFFFFFu);
    sio_nic_destroy(nic);
    /* Disable: the VFs vanish. */
    sio_pci_cfg_write(t, prid, s + SIO_PCI_SRIOV_CTRL, 0, 2);
    assert_null(sio_pci_fn_by_rid(t, 0x0380));
    sio_pci_topo_destroy(t);
}

static void test_bar_decode(void **state)
{
    (void)state;
    struct sio_pci_topo *t = sio_pci_topo_create(0);
    struct sio_pci_fn_desc d = sio_nic_desc(0);
    struct sio_pci_fn *f;
    assert_int_equal(sio_pci_add(t, 0, 3, 0, &d, &f), 0);
    struct sio_dma_port none = {NULL, NULL};
    struct sio_nic *nic = sio_nic_attach(f, none, NULL, NULL);
    sio_pci_cfg_write(t, 0x18, SIO_PCI_BAR0, 0xFEB00000, 4);
    /* Memory Space Enable off: nothing decodes. */
    assert_int_equal(sio_pci_mmio_write(t, 0xFEB00000 + SIO_NIC_TDLEN, 8, 4), SIO_ENOENT);
    sio_pci_cfg_write(t, 0x18, SIO_PCI_COMMAND, SIO_PCI_CMD_MEM, 2);
    assert_int_equal(sio_pci_mmio_write(t, 0xFEB00000 + SIO_NIC_TDLEN, 8, 4), 0);
    uint64_t v;
    assert_int_equal(sio_pci_mmio_read(t, 0xFEB00000 + SIO_NIC_TDLEN, 4, &v), 0);
    assert_int_equal(v, 8);
    /* Past the end of the 16 KiB BAR. */
    assert_int_equal(sio_pci_mmio_read(t, 0xFEB04000, 4, &v), SIO_ENOENT);
    assert_int_equal(sio_pci_mmio_read(t, 0xFEB03FFE, 4, &v), SIO_ENOENT);
    sio_nic_destroy(nic);
    sio_pci_topo_destroy(t);
}

static void test_cfg_ops(void **state)
{
    (void)state;
    struct sio_pci_topo *t = sio_pci_topo_create(0);
    struct sio_pci_fn_desc d = sio_dma32_desc();
    assert_int_equal(sio_pci_add(t, 0, 6, 0, &d, NULL), 0);
    const struct sio_pci_cfg_ops *ops = sio_pci_topo_cfg_ops();
    assert_int_equal(ops->read(t, 0x30, 0, 4), 0x00321234u);
    ops->write(t, 0x30, SIO_PCI_COMMAND, 0xFFFF, 2);
    /* Only Memory Space, Bus Master and INTx Disable are writable here. */
    assert_int_equal(ops->read(t, 0x30, SIO_PCI_COMMAND, 2), 0x0406);
    /* A conventional PCI function has no PCI Express capability: the chain starts at MSI. */
    unsigned p = ops->read(t, 0x30, SIO_PCI_CAP_PTR, 1);
    assert_int_equal(ops->read(t, 0x30, p, 1), SIO_PCI_CAP_ID_MSI);
    assert_int_equal(ops->read(t, 0x30, 0x100, 4), 0);
    sio_pci_topo_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_and_bars),
        cmocka_unit_test(test_multifunction),
        cmocka_unit_test(test_bridges_and_aliases),
        cmocka_unit_test(test_acs_source_validation),
        cmocka_unit_test(test_sriov),
        cmocka_unit_test(test_bar_decode),
        cmocka_unit_test(test_cfg_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

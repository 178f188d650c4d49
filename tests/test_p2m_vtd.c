/* A P2M written in its VT-d-shareable form is walked by the VT-d model as a second-level table
 * (VT-d 2: R/W at bits 0/1, PS at 7, address 51:12 are common to both formats), giving the
 * same host addresses as the CPU's EPT walk; and a device's DMA through the VT-d port lands
 * where the guest's own accesses land. The root and context entries are written here by hand
 * from the VT-d 2 layouts (the hypervisor itself only ever goes through the host driver). */
#include "test_util.h"

#include <softiommu/err.h>
#include <softiommu/hv.h>
#include <softiommu/pcidev.h>
#include <softiommu/vtd.h>

#include <stdlib.h>
#include <string.h>

#define G         (1ULL << 30)
#define ROOT_TBL  0x01000000ULL
#define CTX_TBL   0x01001000ULL
#define POOL_BASE 0x02000000ULL
#define SID       0x0300 /* 03:00.0 */

struct rig {
    struct sio_pmem *pm;
    struct sio_mem mem;
    struct sio_vtd *u;
    struct sio_pgpool *pool;
    struct sio_p2m *p2m;
};

static void mmio_w32(struct sio_vtd *u, uint64_t off, uint32_t v)
{
    sio_vtd_mmio_write(u, off, v, 4);
}

static struct rig *rig_new(void)
{
    struct rig *r = calloc(1, sizeof(*r));
    r->pm = sio_pmem_create(1ULL << 40);
    r->mem.ops = sio_pmem_ops();
    r->mem.ctx = r->pm;
    struct sio_vtd_config cfg = {0}; /* 48-bit: SAGAW has AW=2 (4 levels), 2M and 1G pages */
    r->u = sio_vtd_create(&cfg, sio_pmem_ops(), r->pm, NULL, NULL);
    assert_non_null(r->u);
    r->pool = sio_pgpool_create(sio_pmem_ops(), r->pm, POOL_BASE, 1ULL << 20);
    struct sio_p2m_config pc = {.flags = SIO_P2M_VTD_SHARED};
    r->p2m = sio_p2m_create(r->pool, &pc);
    assert_non_null(r->p2m);
    /* VT-d 2 root entry for bus 3: CTP | P. */
    assert_int_equal(sio_mem_write64(&r->mem, ROOT_TBL + 16 * 3, CTX_TBL | 1), 0);
    /* Context entry for devfn 0: lo = SLPTPTR | TT=00 | P; hi = DID 7 (87:72) | AW 2 (66:64). */
    assert_int_equal(sio_mem_write64(&r->mem, CTX_TBL, sio_p2m_root(r->p2m) | 1), 0);
    assert_int_equal(sio_mem_write64(&r->mem, CTX_TBL + 8, (7ULL << 8) | 2), 0);
    sio_vtd_mmio_write(r->u, 0x20, ROOT_TBL, 8); /* RTADDR, legacy mode */
    mmio_w32(r->u, 0x18, 1u << 30);              /* SRTP */
    assert_true(sio_vtd_mmio_read(r->u, 0x1c, 4) & (1u << 30));
    mmio_w32(r->u, 0x18, 1u << 31); /* TE */
    assert_true(sio_vtd_mmio_read(r->u, 0x1c, 4) & (1u << 31));
    return r;
}

static void rig_free(struct rig *r)
{
    sio_vtd_destroy(r->u);
    sio_p2m_destroy(r->p2m);
    sio_pgpool_destroy(r->pool);
    sio_pmem_destroy(r->pm);
    free(r);
}

static void test_shared_walk_agrees(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    /* GPA 0 .. 1G+2M+4K -> HPA 4G..: one 1 GiB, one 2 MiB and one 4 KiB leaf, RW. */
    assert_int_equal(sio_p2m_map(r->p2m, 0, 4 * G, G + 0x201000, SIO_RW, SIO_MT_UC), 0);
    /* A read-only page at GPA 2G -> HPA 9G. */
    assert_int_equal(sio_p2m_map(r->p2m, 2 * G, 9 * G, 0x1000, SIO_READ, SIO_MT_UC), 0);
    static const uint64_t probes[] = {
        0, 0x1234, G - 8, G, G + 0x1FFFFF, G + 0x200000, G + 0x200FFF, 2 * G + 0x10};
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        uint64_t cpu;
        struct sio_xlate x;
        assert_int_equal(sio_p2m_translate(r->p2m, probes[i], SIO_READ, &cpu, NULL), 0);
        assert_int_equal(sio_vtd_translate(r->u, SID, probes[i], SIO_READ, &x), 0);
        assert_int_equal(x.pa, cpu); /* the unit returns the full address */
    }
    struct sio_xlate x;
    assert_int_equal(sio_vtd_translate(r->u, SID, G, SIO_WRITE, &x), 0);
    assert_int_equal(x.page_size, 2ULL << 20);
    assert_int_equal(sio_vtd_translate(r->u, SID, 0x5000, SIO_WRITE, &x), 0);
    assert_int_equal(x.page_size, G);
    /* Both walks refuse the same things: a write to the read-only page (VT-d reason 0x5,
     * EPT violation), an address nothing maps. */
    assert_int_equal(sio_vtd_translate(r->u, SID, 2 * G, SIO_WRITE, &x), 0x5);
    assert_int_equal(sio_p2m_translate(r->p2m, 2 * G, SIO_WRITE, NULL, NULL), 48);
    assert_int_equal(sio_vtd_translate(r->u, SID, G + 0x201000, SIO_READ, &x), 0x6);
    assert_int_equal(sio_p2m_translate(r->p2m, G + 0x201000, SIO_READ, NULL, NULL), 48);
    /* No entry the hypervisor wrote tripped a VT-d reserved-bit check (reason 0xC). */
    struct sio_vtd_stats st;
    sio_vtd_get_stats(r->u, &st);
    assert_int_equal(st.faults, 2);
    rig_free(r);
}

static void test_device_dma_lands_where_guest_reads(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    assert_int_equal(sio_p2m_map(r->p2m, 0, 6 * G, 0x400000, SIO_RW, SIO_MT_UC), 0);
    /* A NIC at 03:00.0 whose DMA goes through the unit: its bus addresses are GPAs. */
    struct sio_pci_topo *t = sio_pci_topo_create(0);
    struct sio_pci_fn_desc rp = {0};
    rp.vendor = 0x8086;
    rp.pcie_type = SIO_PCIE_ROOT_PORT;
    rp.bridge = 1;
    rp.secondary_bus = 3;
    assert_int_equal(sio_pci_add(t, 0, 0x1c, 0, &rp, NULL), 0);
    struct sio_pci_fn_desc nd = sio_rogue_desc();
    struct sio_pci_fn *f;
    assert_int_equal(sio_pci_add(t, 3, 0, 0, &nd, &f), 0);
    struct sio_vtd_port vp;
    sio_vtd_port_init(&vp, r->u, NULL, NULL);
    struct sio_rogue *dev = sio_rogue_attach(f, sio_vtd_port(&vp));
    sio_pci_cfg_write(t, SID, SIO_PCI_COMMAND, SIO_PCI_CMD_MASTER, 2);
    assert_int_equal(sio_rogue_dma(dev, 0x123400, "through the P2M", 16, SIO_WRITE), 0);
    char back[16];
    assert_int_equal(sio_p2m_read(r->p2m, 0x123400, back, 16, NULL), 0);
    assert_string_equal(back, "through the P2M");
    assert_int_equal(sio_mem_read(&r->mem, 6 * G + 0x123400, back, 16), 0);
    assert_string_equal(back, "through the P2M");
    /* Beyond the guest's 4 MiB: blocked, nothing written anywhere. */
    assert_int_equal(sio_rogue_dma(dev, 0x400000, "x", 1, SIO_WRITE), 0x5);
    assert_int_equal(vp.st.dma_blocked, 1);
    assert_int_equal(vp.st.last_fault, 0x5);
    sio_rogue_destroy(dev);
    sio_pci_topo_destroy(t);
    rig_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_walk_agrees),
        cmocka_unit_test(test_device_dma_lands_where_guest_reads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

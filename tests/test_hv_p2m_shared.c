/* A VM's P2M shared with the VT-d unit (as Xen's iommu_hap_pt_share): the host driver's
 * domain on a caller-owned second-level table (sio_vtd_drv_domain_alloc_shared: no table page
 * of its own, map/unmap refused, the owner's invalidation call), and the hypervisor giving an
 * assigned device the VM's EPT itself. Checked through the VT-d model: the device's DMA lands
 * on the VM's host pages, a GPA the VM gives up faults once the hypervisor has invalidated,
 * and no page-table page is duplicated in the driver's table range. Expected context entries
 * and page counts are worked out here from VT-d 2. */
#include "test_machine.h"
#include "test_util.h"

#include <softiommu/err.h>
#include <softiommu/hv.h>
#include <softiommu/log.h>
#include <softiommu/pcidev.h>
#include <softiommu/vtd.h>
#include <softiommu/vtd_driver.h>
#include <softiommu/vtd_ir.h>

#include <stdlib.h>
#include <string.h>

#define GiB      (1ULL << 30)
#define MiB      (1ULL << 20)
#define DRV_BASE 0x10000000ULL /* host driver tables: 16 MiB */
#define DRV_SIZE (16 * MiB)
#define HV_BASE  0x20000000ULL /* hypervisor pool (EPT pages): 4 MiB */
#define HV_SIZE  (4 * MiB)
#define RID_A    0x0100 /* 01:00.0, a rogue device (DMA where told) behind root port 00:1c.0 */
#define RID_B    0x0200 /* 02:00.0 behind 00:1d.0 */

struct rig {
    struct sio_pmem *pm;
    struct sio_mem mem;
    struct sio_vtd *u;
    struct sio_vtd_drv *drv;
    struct sio_pci_topo *t;
    struct sio_vtd_port port;
    struct sio_hv *hv;
    struct sio_rogue *da, *db;
};

static struct log_capture logs;

static struct rig *rig_new(unsigned aw_bits, uint64_t features)
{
    log_capture_start(&logs);
    struct rig *r = calloc(1, sizeof(*r));
    r->pm = sio_pmem_create(8 * GiB);
    r->mem = (struct sio_mem){sio_pmem_ops(), r->pm};
    struct sio_vtd_config vc = {0};
    vc.aw_bits = aw_bits;
    vc.features = features;
    r->u = sio_vtd_create(&vc, sio_pmem_ops(), r->pm, NULL, NULL);
    assert_non_null(r->u);
    struct sio_vtd_drv_config dc = {DRV_BASE, DRV_SIZE, 1};
    r->drv = sio_vtd_drv_create(&dc, sio_vtd_mmio_ops(), r->u, sio_pmem_ops(), r->pm);
    assert_non_null(r->drv);
    r->t = sio_pci_topo_create(0);
    sio_vtd_port_init(&r->port, r->u, NULL, NULL);
    struct sio_pci_fn_desc rp = tm_bridge(0, SIO_PCIE_ROOT_PORT, 1, 1);
    assert_int_equal(sio_pci_add(r->t, 0, 0x1c, 0, &rp, NULL), 0);
    rp.secondary_bus = 2;
    assert_int_equal(sio_pci_add(r->t, 0, 0x1d, 0, &rp, NULL), 0);
    struct sio_pci_fn_desc dd = sio_rogue_desc();
    struct sio_pci_fn *fa, *fb;
    assert_int_equal(sio_pci_add(r->t, 1, 0, 0, &dd, &fa), 0);
    assert_int_equal(sio_pci_add(r->t, 2, 0, 0, &dd, &fb), 0);
    r->da = sio_rogue_attach(fa, sio_vtd_port(&r->port));
    r->db = sio_rogue_attach(fb, sio_vtd_port(&r->port));
    struct sio_hv_config hc = tm_hv_config(r->pm, HV_BASE, HV_SIZE, r->drv, r->t);
    r->hv = sio_hv_create(&hc);
    assert_non_null(r->hv);
    return r;
}

static void rig_free(struct rig *r)
{
    sio_hv_destroy(r->hv);
    sio_vtd_drv_destroy(r->drv);
    sio_rogue_destroy(r->da);
    sio_rogue_destroy(r->db);
    sio_pci_topo_destroy(r->t);
    sio_vtd_destroy(r->u);
    sio_pmem_destroy(r->pm);
    free(r);
    log_capture_stop();
}

static uint64_t drv_pages(struct rig *r)
{
    struct sio_vtd_drv_info di;
    sio_vtd_drv_get_info(r->drv, &di);
    return di.table_pages_used;
}

static void bus_master(struct rig *r, uint16_t rid)
{
    sio_pci_cfg_write(r->t, rid, SIO_PCI_COMMAND, SIO_PCI_CMD_MASTER, 2);
}

/* VM "A" (one vCPU, P2M flags) with GPA [0, ram) backed by host [1 GiB, 1 GiB + ram). */
static struct sio_vm *vm_a(struct rig *r, unsigned flags, uint64_t ram)
{
    struct sio_vm_config ca = {"A", 1, flags};
    struct sio_vm *a = sio_vm_create(r->hv, &ca);
    assert_non_null(a);
    assert_int_equal(sio_vm_add_ram(a, 0, 1 * GiB, ram), 0);
    return a;
}

static int dev_rw(struct sio_rogue *d, uint64_t addr, uint32_t *v, unsigned access)
{
    return sio_rogue_dma(d, addr, v, sizeof(*v), access);
}

/* The context entry (VT-d 2) the unit will use for sid, read as the unit reads it. */
static void context_of(struct rig *r, uint16_t sid, uint64_t *lo, uint64_t *hi)
{
    uint64_t root = sio_vtd_mmio_read(r->u, 0x20, 8) & ~0xFFFULL, re;
    assert_int_equal(sio_mem_read64(&r->mem, root + 16ULL * (sid >> 8), &re), 0);
    assert_int_equal(re & 1, 1);
    uint64_t ce = (re & ~0xFFFULL) + 16ULL * (sid & 0xFF);
    assert_int_equal(sio_mem_read64(&r->mem, ce, lo), 0);
    assert_int_equal(sio_mem_read64(&r->mem, ce + 8, hi), 0);
}

/* ---- the driver's shared domain ----------------------------------------------------------- */

static void test_driver_shared_domain(void **state)
{
    (void)state;
    struct rig *r = rig_new(48, 0);
    struct sio_pgpool *pool = sio_pgpool_create(sio_pmem_ops(), r->pm, 0x30000000, 4 * MiB);
    struct sio_p2m_config pc = {.flags = SIO_P2M_VTD_SHARED};
    struct sio_p2m *p2m = sio_p2m_create(pool, &pc);
    /* GPA 0 .. 2 MiB + 8 KiB -> HPA 3 GiB: one 2 MiB leaf and two 4 KiB leaves. */
    assert_int_equal(sio_p2m_map(p2m, 0, 3 * GiB, 2 * MiB + 0x2000, SIO_RW, SIO_MT_UC), 0);
    uint64_t pool0 = sio_pgpool_used(pool);
    uint64_t used0 = drv_pages(r);
    struct sio_domain *dom = sio_vtd_drv_domain_alloc_shared(r->drv, sio_p2m_root(p2m), 4);
    assert_non_null(dom);
    assert_true(sio_vtd_drv_domain_is_shared(dom));
    assert_int_equal(drv_pages(r), used0); /* no table page of its own */
    assert_int_equal(sio_vtd_drv_domain_limit(dom), 1ULL << 48);
    assert_int_equal(sio_vtd_drv_attach(dom, RID_A), 0);
    assert_int_equal(drv_pages(r), used0 + 1); /* bus 1's context table, nothing else */
    /* Context entry: lo = SLPTPTR (the P2M root) | TT 00 | P; hi = DID 87:72 | AW 2 (4 levels). */
    uint64_t lo, hi;
    context_of(r, RID_A, &lo, &hi);
    assert_int_equal(lo, sio_p2m_root(p2m) | 1);
    assert_int_equal(hi, ((uint64_t)sio_vtd_drv_domain_id(dom) << 8) | 2);
    /* DMA through the unit lands where the P2M says. */
    uint32_t v = 0xFEEDF00D, back = 0;
    assert_int_equal(sio_vtd_dma(r->u, RID_A, 0x201234, &v, 4, SIO_WRITE), 0);
    assert_int_equal(sio_mem_read32(&r->mem, 3 * GiB + 0x201234, &back), 0);
    assert_int_equal(back, 0xFEEDF00D);
    uint64_t pa;
    assert_int_equal(sio_vtd_drv_iova_to_phys(dom, 0x201008, &pa), 0);
    assert_int_equal(pa, 3 * GiB + 0x201008);
    assert_int_equal(sio_vtd_drv_iova_to_phys(dom, 0x1FF008, &pa), 0); /* in the 2 MiB leaf */
    assert_int_equal(pa, 3 * GiB + 0x1FF008);
    assert_int_equal(sio_vtd_drv_iova_to_phys(dom, 0x202000, &pa), SIO_ENOENT);
    /* The owner edits the table: the driver refuses to. */
    assert_int_equal(sio_vtd_drv_map(dom, 0x400000, 4 * GiB, 0x1000, SIO_READ), SIO_EPERM);
    assert_int_equal(sio_vtd_drv_unmap(dom, 0, 0x1000), SIO_EPERM);
    /* Levels must be ones the unit walks: a 48-bit unit lists 39 and 48 bits (3 and 4). */
    struct sio_domain *d3 = sio_vtd_drv_domain_alloc_shared(r->drv, sio_p2m_root(p2m), 3);
    assert_non_null(d3);
    assert_int_equal(sio_vtd_drv_domain_limit(d3), 1ULL << 39);
    assert_int_equal(sio_vtd_drv_domain_free(d3), 0);
    assert_null(sio_vtd_drv_domain_alloc_shared(r->drv, sio_p2m_root(p2m), 5));
    assert_true(log_capture_has(&logs, "cannot share a 5-level table"));
    assert_null(sio_vtd_drv_domain_alloc_shared(r->drv, sio_p2m_root(p2m), 2));
    assert_null(sio_vtd_drv_domain_alloc_shared(r->drv, sio_p2m_root(p2m) | 0x800, 4));
    assert_null(sio_vtd_drv_domain_alloc_shared(r->drv, 0, 4));
    /* Freeing: refused while attached; afterwards the P2M is untouched (its pages are the
     * owner's) and the device is blocked. */
    assert_int_equal(sio_vtd_drv_domain_free(dom), SIO_EBUSY);
    assert_int_equal(sio_vtd_drv_detach(dom, RID_A), 0);
    assert_int_equal(sio_vtd_drv_domain_free(dom), 0);
    assert_int_equal(sio_pgpool_used(pool), pool0);
    assert_int_equal(sio_p2m_translate(p2m, 0x201234, SIO_READ, &pa, NULL), 0);
    assert_int_equal(pa, 3 * GiB + 0x201234);
    assert_int_equal(sio_vtd_dma(r->u, RID_A, 0x201234, &v, 4, SIO_READ), 0x2);
    sio_p2m_destroy(p2m);
    sio_pgpool_destroy(pool);
    rig_free(r);
}

/* The unit caches what it walked: after the owner unmaps, the device keeps its stale
 * translation until the owner's invalidation call, and faults afterwards. */
static void test_driver_shared_invalidate(void **state)
{
    (void)state;
    struct rig *r = rig_new(48, 0);
    struct sio_pgpool *pool = sio_pgpool_create(sio_pmem_ops(), r->pm, 0x30000000, 4 * MiB);
    struct sio_p2m_config pc = {.flags = SIO_P2M_VTD_SHARED};
    struct sio_p2m *p2m = sio_p2m_create(pool, &pc);
    assert_int_equal(sio_p2m_map(p2m, 0, 3 * GiB, 4 * MiB, SIO_RW, SIO_MT_UC), 0);
    struct sio_domain *dom = sio_vtd_drv_domain_alloc_shared(r->drv, sio_p2m_root(p2m), 4);
    assert_int_equal(sio_vtd_drv_attach(dom, RID_A), 0);
    uint32_t v;
    assert_int_equal(sio_vtd_dma(r->u, RID_A, 0x1000, &v, 4, SIO_READ), 0);
    assert_int_equal(sio_vtd_dma(r->u, RID_A, 0x201000, &v, 4, SIO_READ), 0);
    assert_int_equal(sio_p2m_unmap(p2m, 0, 2 * MiB), 0);
    assert_int_equal(sio_vtd_dma(r->u, RID_A, 0x1000, &v, 4, SIO_READ), 0); /* stale */
    struct sio_vtd_drv_stats s0, s1;
    sio_vtd_drv_get_stats(r->drv, &s0);
    assert_int_equal(sio_vtd_drv_domain_invalidate(dom, 0, 2 * MiB), 0);
    sio_vtd_drv_get_stats(r->drv, &s1);
    assert_int_equal(s1.iotlb_page - s0.iotlb_page, 1); /* one page-selective, AM 9 */
    assert_int_equal(sio_vtd_dma(r->u, RID_A, 0x1000, &v, 4, SIO_READ), 0x6);
    assert_int_equal(sio_vtd_dma(r->u, RID_A, 0x201000, &v, 4, SIO_READ), 0);
    /* Size 0: the whole domain. */
    assert_int_equal(sio_p2m_unmap(p2m, 2 * MiB, 2 * MiB), 0);
    assert_int_equal(sio_vtd_drv_domain_invalidate(dom, 0, 0), 0);
    sio_vtd_drv_get_stats(r->drv, &s0);
    assert_int_equal(s0.iotlb_domain - s1.iotlb_domain, 1);
    assert_int_equal(sio_vtd_dma(r->u, RID_A, 0x201000, &v, 4, SIO_READ), 0x6);
    assert_int_equal(sio_vtd_drv_domain_invalidate(NULL, 0, 0), SIO_EINVAL);
    assert_int_equal(sio_vtd_drv_detach(dom, RID_A), 0);
    assert_int_equal(sio_vtd_drv_domain_free(dom), 0);
    sio_p2m_destroy(p2m);
    sio_pgpool_destroy(pool);
    rig_free(r);
}

/* ---- the hypervisor ------------------------------------------------------------------------ */

static void test_hv_assign_shared(void **state)
{
    (void)state;
    struct rig *r = rig_new(48, 0);
    struct sio_vm_config ca = {"A", 1, SIO_P2M_VTD_SHARED}, cb = {"B", 1, 0};
    struct sio_vm *a = sio_vm_create(r->hv, &ca), *b = sio_vm_create(r->hv, &cb);
    assert_int_equal(sio_vm_add_ram(a, 0, 1 * GiB, 1 * GiB), 0);
    assert_int_equal(sio_vm_add_ram(b, 0, 2 * GiB, 1 * GiB), 0);
    uint64_t p0 = drv_pages(r);
    assert_int_equal(sio_hv_assign(a, RID_A), 0);
    uint64_t p1 = drv_pages(r);
    assert_int_equal(sio_hv_assign(b, RID_B), 0);
    uint64_t p2 = drv_pages(r);
    /* A's devices walk A's EPT: the driver took bus 1's context table and nothing else. B's
     * separate tables: bus 2's context table, the domain's PML4 and one PDPT holding a 1 GiB
     * leaf (VT-d 2, 48-bit: 4 levels). */
    assert_int_equal(p1 - p0, 1);
    assert_int_equal(p2 - p1, 3);
    assert_true(sio_vm_p2m_shared(a));
    assert_false(sio_vm_p2m_shared(b));
    assert_true(sio_vtd_drv_domain_is_shared(sio_vm_domain(a)));
    uint64_t lo, hi;
    context_of(r, RID_A, &lo, &hi);
    assert_int_equal(lo & ~0xFFFULL, sio_p2m_root(sio_vm_p2m(a)));
    /* The device's DMA lands on A's host pages; the guest reads it through its EPT. */
    bus_master(r, RID_A);
    bus_master(r, RID_B);
    const char msg[] = "written through the EPT";
    assert_int_equal(sio_rogue_dma(r->da, 0x123400, (void *)msg, sizeof(msg), SIO_WRITE), 0);
    char back[sizeof(msg)];
    assert_int_equal(sio_mem_read(&r->mem, 1 * GiB + 0x123400, back, sizeof(back)), 0);
    assert_string_equal(back, msg);
    memset(back, 0, sizeof(back));
    assert_int_equal(sio_vm_read(a, 0x123400, back, sizeof(back)), 0);
    assert_string_equal(back, msg);
    /* Beyond A's RAM: blocked. B's device on B's pages, not A's. */
    uint32_t v = 1;
    assert_int_equal(dev_rw(r->da, 1 * GiB, &v, SIO_WRITE), 0x5);
    assert_int_equal(dev_rw(r->db, 0x123400, &v, SIO_WRITE), 0);
    uint32_t w;
    assert_int_equal(sio_mem_read32(&r->mem, 2 * GiB + 0x123400, &w), 0);
    assert_int_equal(w, 1);
    /* Not one reserved-bit fault from the EPT entries (0xC): the shared form has no X/EMT. */
    struct sio_vtd_stats vs;
    sio_vtd_get_stats(r->u, &vs);
    assert_int_equal(vs.faults, 1);
    rig_free(r);
}

/* The VM gives 2 MiB of its RAM back: once sio_vm_remove_ram returns, the device faults there,
 * even though it had just used (and the unit cached) the translation. */
static void test_hv_remove_ram_faults(void **state)
{
    (void)state;
    for (int shared = 1; shared >= 0; shared--) {
        struct rig *r = rig_new(48, 0);
        struct sio_vm *a = vm_a(r, shared ? SIO_P2M_VTD_SHARED : 0, 1 * GiB);
        assert_int_equal(sio_hv_assign(a, RID_A), 0);
        bus_master(r, RID_A);
        uint32_t v = 7;
        assert_int_equal(dev_rw(r->da, 0x200000, &v, SIO_WRITE), 0);
        assert_int_equal(dev_rw(r->da, 0x400000, &v, SIO_WRITE), 0);
        assert_int_equal(sio_vm_remove_ram(a, 0x200000, 2 * MiB), 0);
        assert_int_equal(dev_rw(r->da, 0x200000, &v, SIO_WRITE), 0x5);
        assert_int_equal(dev_rw(r->da, 0x3FFFFC, &v, SIO_READ), 0x6);
        assert_int_equal(dev_rw(r->da, 0x400000, &v, SIO_WRITE), 0); /* the rest stays */
        assert_int_equal(dev_rw(r->da, 0x1FFFFC, &v, SIO_WRITE), 0);
        assert_int_equal(sio_vm_read(a, 0x200000, &v, 4), 48); /* EPT violation for the guest */
        /* The host range is free again: another VM may have it. */
        struct sio_vm_config cb = {"B", 1, 0};
        struct sio_vm *b = sio_vm_create(r->hv, &cb);
        assert_int_equal(sio_vm_add_ram(b, 0, 1 * GiB + 0x200000, 2 * MiB), 0);
        assert_int_equal(sio_vm_add_ram(b, 4 * MiB, 1 * GiB + 0x400000, 2 * MiB), SIO_EOWNED);
        /* Refusals: not inside one region, unaligned. */
        assert_int_equal(sio_vm_remove_ram(a, 0x100000, 2 * MiB), SIO_ENOENT);
        assert_int_equal(sio_vm_remove_ram(a, 0x401000, 0x800), SIO_EINVAL);
        /* RAM given back later is reachable again (the hypervisor tells the unit). */
        assert_int_equal(sio_vm_add_ram(a, 0x200000, 3 * GiB, 2 * MiB), 0);
        assert_int_equal(dev_rw(r->da, 0x200000, &v, SIO_WRITE), 0);
        uint32_t w = 0;
        assert_int_equal(sio_mem_read32(&r->mem, 3 * GiB, &w), 0);
        assert_int_equal(w, 7);
        rig_free(r);
    }
}

/* Deassignment frees the shared domain but not the EPT: the guest keeps its memory, the
 * device loses it; assigning again uses the same table. */
static void test_hv_deassign_shared(void **state)
{
    (void)state;
    struct rig *r = rig_new(48, 0);
    struct sio_vm *a = vm_a(r, SIO_P2M_VTD_SHARED, 64 * MiB);
    struct sio_p2m_stats ps0, ps1;
    sio_p2m_get_stats(sio_vm_p2m(a), &ps0);
    assert_int_equal(sio_hv_assign(a, RID_A), 0);
    bus_master(r, RID_A);
    uint32_t v = 9;
    assert_int_equal(dev_rw(r->da, 0x5000, &v, SIO_WRITE), 0);
    assert_int_equal(sio_hv_deassign(a, RID_A), 0);
    assert_null(sio_vm_domain(a));
    sio_p2m_get_stats(sio_vm_p2m(a), &ps1);
    assert_int_equal(ps1.table_pages, ps0.table_pages);
    uint32_t w = 0;
    assert_int_equal(sio_vm_read(a, 0x5000, &w, 4), 0);
    assert_int_equal(w, 9);
    bus_master(r, RID_A);
    assert_int_not_equal(dev_rw(r->da, 0x5000, &v, SIO_WRITE), 0);
    assert_int_equal(sio_hv_assign(a, RID_A), 0);
    bus_master(r, RID_A);
    assert_int_equal(dev_rw(r->da, 0x5000, &v, SIO_READ), 0);
    rig_free(r);
}

/* A unit without 1 GiB pages: the hypervisor keeps 1 GiB leaves out of a shared P2M, since
 * the unit would take PS at level 3 for a reserved bit (0xC). */
static void test_hv_shared_leaf_sizes(void **state)
{
    (void)state;
    struct rig *r = rig_new(48, SIO_VTD_F_DEFAULT & ~SIO_VTD_F_SP1G);
    struct sio_vm *a = vm_a(r, SIO_P2M_VTD_SHARED, 1 * GiB);
    struct sio_p2m_stats ps;
    sio_p2m_get_stats(sio_vm_p2m(a), &ps);
    assert_int_equal(ps.leaves_1g, 0);
    assert_int_equal(ps.leaves_2m, 512);
    assert_int_equal(sio_hv_assign(a, RID_A), 0);
    assert_true(sio_vm_p2m_shared(a));
    bus_master(r, RID_A);
    uint32_t v = 3;
    assert_int_equal(dev_rw(r->da, 0x3FF00000, &v, SIO_WRITE), 0);
    struct sio_xlate x;
    assert_int_equal(sio_vtd_translate(r->u, RID_A, 0x3FF00000, SIO_READ, &x), 0);
    assert_int_equal(x.pa, 1 * GiB + 0x3FF00000);
    assert_int_equal(x.page_size, 2 * MiB);
    rig_free(r);
}

/* A 39-bit unit cannot walk the EPT's 4 levels: the VM's devices get separate tables. */
static void test_hv_shared_fallback(void **state)
{
    (void)state;
    struct rig *r = rig_new(39, 0);
    struct sio_vm *a = vm_a(r, SIO_P2M_VTD_SHARED, 16 * MiB);
    uint64_t p0 = drv_pages(r);
    assert_int_equal(sio_hv_assign(a, RID_A), 0);
    assert_false(sio_vm_p2m_shared(a));
    assert_false(sio_vtd_drv_domain_is_shared(sio_vm_domain(a)));
    assert_true(drv_pages(r) > p0 + 1);
    assert_true(log_capture_has(&logs, "cannot walk a 4-level table"));
    bus_master(r, RID_A);
    uint32_t v = 5, w = 0;
    assert_int_equal(dev_rw(r->da, 0x800000, &v, SIO_WRITE), 0);
    assert_int_equal(sio_mem_read32(&r->mem, 1 * GiB + 0x800000, &w), 0);
    assert_int_equal(w, 5);
    rig_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_driver_shared_domain),
        cmocka_unit_test(test_driver_shared_invalidate),
        cmocka_unit_test(test_hv_assign_shared),
        cmocka_unit_test(test_hv_remove_ram_faults),
        cmocka_unit_test(test_hv_deassign_shared),
        cmocka_unit_test(test_hv_shared_leaf_sizes),
        cmocka_unit_test(test_hv_shared_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

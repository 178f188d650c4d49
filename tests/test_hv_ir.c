/* Interrupts of assigned devices through interrupt remapping: remapped to a host vector the
 * hypervisor forwards to the owner's vCPU, or posted straight into that vCPU's
 * posted-interrupt descriptor; a device sending another device's interrupt message is stopped
 * by the IRTE's source-id check; a device behind a PCIe-to-PCI bridge is checked by bus range;
 * a device given back cannot interrupt anyone.
 *
 * The IRTEs are the host driver's (softiommu/vtd_ir.h): the hypervisor is given a driver with
 * interrupt remapping on and picks its sio_hv_ir_ops up by itself. What the driver wrote is
 * read back from the table and compared with entries built here from the VT-d 6 layouts. */
#include "test_machine.h"
#include "test_util.h"

#include <softiommu/err.h>
#include <softiommu/hv.h>
#include <softiommu/log.h>
#include <softiommu/pcidev.h>
#include <softiommu/vtd.h>
#include <softiommu/vtd_driver.h>
#include <softiommu/vtd_ir.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRV_BASE  0x10000000ULL /* the host driver's tables */
#define DRV_SIZE  (4ULL << 20)
#define HV_BASE   0x20000000ULL
#define RID_NIC   0x0100 /* 01:00.0 behind root port 00:1c.0 */
#define RID_EVIL  0x0200 /* 02:00.0 behind root port 00:1d.0 */
#define RID_OLD   0x0408 /* 04:01.0, conventional PCI behind the PCIe-to-PCI bridge 03:00.0 */
#define RID_ALIAS 0x0400 /* what the bridge puts on its requests: secondary bus 4, devfn 0 */

/* ---- the machine ------------------------------------------------------------------------- */

struct rig {
    struct sio_pmem *pm;
    struct sio_mem mem;
    struct sio_vtd *u;
    struct sio_vtd_drv *drv;
    struct sio_irq_ops unit_irq;
    struct sio_pci_topo *t;
    struct sio_vtd_port port;
    struct sio_hv *hv;
    struct sio_vm *a, *c;
    struct sio_nic *nic;
    struct sio_rogue *evil;
    struct sio_pci_fn *old;
};

static void unit_msi(void *ctx, uint64_t addr, uint32_t data)
{
    struct rig *r = ctx;
    if (r->hv)
        sio_hv_unit_msi(r->hv, addr, data);
}

static struct log_capture logs;

static struct rig *rig_new_ex(int posting, int x2apic)
{
    log_capture_start(&logs);
    struct rig *r = calloc(1, sizeof(*r));
    r->pm = sio_pmem_create(1ULL << 30);
    r->mem = (struct sio_mem){sio_pmem_ops(), r->pm};
    r->unit_irq.msi = unit_msi;
    struct sio_vtd_config vc = {0}; /* defaults: QI, IR, EIM, PI */
    if (!posting)
        vc.features = SIO_VTD_F_DEFAULT & ~SIO_VTD_F_PI;
    r->u = sio_vtd_create(&vc, sio_pmem_ops(), r->pm, &r->unit_irq, r);
    assert_non_null(r->u);
    struct sio_vtd_drv_config dc = {DRV_BASE, DRV_SIZE, 1};
    r->drv = sio_vtd_drv_create(&dc, sio_vtd_mmio_ops(), r->u, sio_pmem_ops(), r->pm);
    assert_non_null(r->drv);
    struct sio_vtd_ir_config ic = {256, x2apic};
    assert_int_equal(sio_vtd_drv_ir_enable(r->drv, &ic), 0);
    r->t = sio_pci_topo_create(0);
    struct sio_pci_fn_desc rp = tm_bridge(0, SIO_PCIE_ROOT_PORT, 1, 1);
    assert_int_equal(sio_pci_add(r->t, 0, 0x1c, 0, &rp, NULL), 0);
    rp.secondary_bus = 2;
    assert_int_equal(sio_pci_add(r->t, 0, 0x1d, 0, &rp, NULL), 0);
    rp.secondary_bus = 3;
    assert_int_equal(sio_pci_add(r->t, 0, 0x1e, 0, &rp, NULL), 0);
    struct sio_pci_fn_desc br = tm_bridge(0, SIO_PCIE_PCI_BRIDGE, 4, 0);
    assert_int_equal(sio_pci_add(r->t, 3, 0, 0, &br, NULL), 0);
    struct sio_pci_fn_desc nd = sio_nic_desc(0), ed = sio_rogue_desc(), od = sio_rogue_desc();
    od.pcie_type = SIO_PCIE_NONE;
    od.msi = 1;
    struct sio_pci_fn *fn, *fe;
    assert_int_equal(sio_pci_add(r->t, 1, 0, 0, &nd, &fn), 0);
    assert_int_equal(sio_pci_add(r->t, 2, 0, 0, &ed, &fe), 0);
    assert_int_equal(sio_pci_add(r->t, 4, 1, 0, &od, &r->old), 0);
    r->nic = sio_nic_attach(fn, sio_vtd_port(&r->port), NULL, NULL);
    r->evil = sio_rogue_attach(fe, sio_vtd_port(&r->port));
    sio_pci_fn_set_port(r->old, sio_vtd_port(&r->port));
    /* no hc.ir: the hypervisor takes the driver's */
    struct sio_hv_config hc = tm_hv_config(r->pm, HV_BASE, 1 << 20, r->drv, r->t);
    r->hv = sio_hv_create(&hc);
    assert_non_null(r->hv);
    sio_vtd_port_init(&r->port, r->u, sio_hv_irq_sink, r->hv);
    struct sio_vm_config ca = {"A", 4, 0}, cc = {"C", 2, 0};
    r->a = sio_vm_create(r->hv, &ca);
    r->c = sio_vm_create(r->hv, &cc);
    assert_int_equal(sio_vm_add_ram(r->a, 0, 0x4000000, 0x100000), 0);
    assert_int_equal(sio_vm_add_ram(r->c, 0, 0x8000000, 0x100000), 0);
    assert_int_equal(sio_hv_assign(r->a, RID_NIC), 0);
    assert_int_equal(sio_hv_assign(r->c, RID_EVIL), 0);
    sio_pci_cfg_write(r->t, RID_NIC, SIO_PCI_COMMAND, SIO_PCI_CMD_MASTER, 2);
    sio_pci_cfg_write(r->t, RID_EVIL, SIO_PCI_COMMAND, SIO_PCI_CMD_MASTER, 2);
    return r;
}

static struct rig *rig_new(int posting)
{
    return rig_new_ex(posting, 0);
}

static void rig_free(struct rig *r)
{
    struct sio_hv *hv = r->hv;
    r->hv = NULL;
    sio_hv_destroy(hv);
    struct sio_vtd_ir_info ii;
    sio_vtd_drv_ir_get_info(r->drv, &ii);
    assert_int_equal(ii.used, 0); /* every route's IRTE was given back */
    sio_vtd_drv_destroy(r->drv);
    sio_nic_destroy(r->nic);
    sio_rogue_destroy(r->evil);
    sio_pci_topo_destroy(r->t);
    sio_vtd_destroy(r->u);
    sio_pmem_destroy(r->pm);
    free(r);
    log_capture_stop();
}

static struct sio_pci_fn *nicfn(struct rig *r)
{
    return sio_pci_fn_by_rid(r->t, RID_NIC);
}

static void msi_message(struct rig *r, uint16_t rid, uint64_t *addr, uint32_t *data)
{
    *addr = sio_pci_cfg_read(r->t, rid, 0x80 + SIO_PCI_MSI_ADDR_LO, 4) |
            (uint64_t)sio_pci_cfg_read(r->t, rid, 0x80 + SIO_PCI_MSI_ADDR_HI, 4) << 32;
    *data = sio_pci_cfg_read(r->t, rid, 0x80 + SIO_PCI_MSI_DATA_64, 2);
}

/* The IRTE behind the device's programmed MSI, read from the driver's table. */
static struct sio_u128 irte_of(struct rig *r, uint16_t rid, uint16_t *index)
{
    uint64_t addr;
    uint32_t data;
    msi_message(r, rid, &addr, &data);
    uint16_t i;
    assert_int_equal(sio_vtd_ir_msi_index(addr, data, &i), 0);
    struct sio_vtd_ir_info ii;
    sio_vtd_drv_ir_get_info(r->drv, &ii);
    struct sio_u128 e;
    assert_int_equal(sio_mem_read64(&r->mem, ii.table_pa + 16ULL * i, &e.lo), 0);
    assert_int_equal(sio_mem_read64(&r->mem, ii.table_pa + 16ULL * i + 8, &e.hi), 0);
    if (index)
        *index = i;
    return e;
}

static unsigned irtes_used(struct rig *r)
{
    struct sio_vtd_ir_info ii;
    sio_vtd_drv_ir_get_info(r->drv, &ii);
    return ii.used;
}

static void test_remapped_to_vcpu(void **state)
{
    (void)state;
    struct rig *r = rig_new(0);
    assert_int_equal(sio_hv_msi_route(r->a, RID_NIC, 3, 0x41), 0);
    assert_int_equal(irtes_used(r), 1);
    uint64_t addr;
    uint32_t data;
    msi_message(r, RID_NIC, &addr, &data);
    assert_int_equal(addr & 0xFFF00010, 0xFEE00010); /* remappable format (bit 4) */
    /* The IRTE (VT-d 6, remapped): P, RH (bit 3), fixed, physical, edge, a host vector the
     * hypervisor chose (0x30, its first) in 23:16, APIC 3 in DST 15:8 (bits 47:40); hi: SID
     * 01:00.0, SQ 00, SVT 01. */
    uint16_t idx;
    struct sio_u128 e = irte_of(r, RID_NIC, &idx);
    assert_int_equal(e.lo, 0x0000030000300009ULL);
    assert_int_equal(e.hi, (1ULL << 18) | RID_NIC);
    assert_int_equal(sio_pci_fn_msi(nicfn(r)), 0);
    assert_int_equal(sio_pci_fn_msi(nicfn(r)), 0);
    struct sio_vm_stats st;
    sio_vm_get_stats(r->a, &st);
    assert_int_equal(st.irqs, 2);
    assert_int_equal(st.irqs_remapped, 2);
    assert_int_equal(st.irqs_per_vcpu[3], 2);
    assert_int_equal(st.last_vector, 0x41);
    struct sio_vtd_ext_stats xs;
    sio_vtd_get_ext_stats(r->u, &xs);
    assert_int_equal(xs.msi_remapped, 2);
    assert_int_equal(xs.msi_blocked, 0);
    /* Rerouting releases the old IRTE (cleared, IEC invalidated) before taking one for the
     * new route: the same index and host vector come back, now to APIC 1. */
    struct sio_vtd_drv_stats ds;
    sio_vtd_drv_get_stats(r->drv, &ds);
    assert_int_equal(ds.iec_index, 1);
    assert_int_equal(sio_hv_msi_route(r->a, RID_NIC, 1, 0x42), 0);
    assert_int_equal(irtes_used(r), 1);
    sio_vtd_drv_get_stats(r->drv, &ds);
    assert_int_equal(ds.iec_index, 3); /* release, then the new entry */
    uint16_t idx2;
    e = irte_of(r, RID_NIC, &idx2);
    assert_int_equal(idx2, idx);
    assert_int_equal(e.lo, 0x0000010000300009ULL);
    assert_int_equal(sio_pci_fn_msi(nicfn(r)), 0);
    sio_vm_get_stats(r->a, &st);
    assert_int_equal(st.irqs_per_vcpu[1], 1);
    assert_int_equal(st.last_vector, 0x42);
    /* Refusals. */
    assert_int_equal(sio_hv_msi_route(r->c, RID_NIC, 0, 0x41), SIO_EOWNED);
    assert_int_equal(sio_hv_msi_route(r->a, RID_NIC, 4, 0x41), SIO_EINVAL);
    assert_int_equal(sio_hv_msi_route(r->a, RID_NIC, 0, 0x0F), SIO_EINVAL);
    rig_free(r);
}

static void test_posted_to_vcpu(void **state)
{
    (void)state;
    struct rig *r = rig_new(1);
    assert_int_equal(sio_hv_msi_route(r->a, RID_NIC, 2, 0x52), 0);
    /* The descriptor as the hypervisor set it up: NV 0xF2, NDST = APIC 2 in 15:8. */
    uint64_t pid = sio_vm_vcpu_pid(r->a, 2), ctl;
    assert_int_equal(pid & 63, 0);
    assert_int_equal(sio_mem_read64(&r->mem, pid + 32, &ctl), 0);
    assert_int_equal(ctl, (0xF2ULL << 16) | (0x200ULL << 32));
    /* The IRTE (VT-d 6, posted): P, IM (15), virtual vector 0x52 in 23:16, PDA[31:6] in 63:38,
     * PDA[63:32] in 127:96 (0 here), not urgent; hi: SID 01:00.0, SVT 01. */
    struct sio_u128 e = irte_of(r, RID_NIC, NULL);
    assert_int_equal(e.lo, ((pid >> 6) << 38) | (0x52ULL << 16) | (1u << 15) | 1);
    assert_int_equal(e.hi, (1ULL << 18) | RID_NIC);
    /* The NIC interrupts: posted into A's vCPU 2, the notification fetches it at once. */
    assert_int_equal(sio_pci_fn_msi(nicfn(r)), 0);
    struct sio_vm_stats st;
    sio_vm_get_stats(r->a, &st);
    assert_int_equal(st.irqs, 1);
    assert_int_equal(st.irqs_posted, 1);
    assert_int_equal(st.irqs_per_vcpu[2], 1);
    assert_int_equal(st.last_vector, 0x52);
    uint64_t pir;
    assert_int_equal(sio_mem_read64(&r->mem, pid + 8, &pir), 0); /* PIR bits 127:64 hold 0x52 */
    assert_int_equal(pir, 0);
    assert_int_equal(sio_mem_read64(&r->mem, pid + 32, &ctl), 0);
    assert_int_equal(ctl & 1, 0); /* ON cleared */
    /* C's vCPUs saw nothing; nothing reached the host. */
    struct sio_vm_stats sc;
    sio_vm_get_stats(r->c, &sc);
    assert_int_equal(sc.irqs, 0);
    assert_int_equal(sio_hv_host_irqs(r->hv), 0);
    struct sio_vtd_ext_stats xs;
    sio_vtd_get_ext_stats(r->u, &xs);
    assert_int_equal(xs.msi_posted, 1);
    assert_int_equal(xs.pi_notifications, 1);
    /* While the descriptor has ON set, more interrupts only set PIR bits (no notification);
     * the next VM entry (poll) takes them. */
    assert_int_equal(sio_mem_write64(&r->mem, pid + 32, ctl | 1), 0);
    assert_int_equal(sio_pci_fn_msi(nicfn(r)), 0);
    sio_vm_get_stats(r->a, &st);
    assert_int_equal(st.irqs, 1);
    assert_int_equal(sio_vm_vcpu_poll(r->a, 2), 1);
    sio_vm_get_stats(r->a, &st);
    assert_int_equal(st.irqs, 2);
    assert_int_equal(sio_vm_vcpu_poll(r->a, 2), 0);
    rig_free(r);
}

/* x2APIC mode (IRTA.EIME): the descriptors carry the 32-bit APIC id in NDST and remapped
 * entries the whole 32-bit destination. */
static void test_x2apic_mode(void **state)
{
    (void)state;
    for (int posting = 1; posting >= 0; posting--) {
        struct rig *r = rig_new_ex(posting, 1);
        assert_int_equal(sio_hv_msi_route(r->a, RID_NIC, 3, 0x57), 0);
        struct sio_u128 e = irte_of(r, RID_NIC, NULL);
        if (posting) {
            uint64_t ctl;
            assert_int_equal(sio_mem_read64(&r->mem, sio_vm_vcpu_pid(r->a, 3) + 32, &ctl), 0);
            assert_int_equal(ctl, (0xF2ULL << 16) | (3ULL << 32)); /* NDST = 3 */
        } else {
            assert_int_equal(e.lo >> 32, 3); /* DST 63:32 = APIC 3 */
        }
        assert_int_equal(sio_pci_fn_msi(nicfn(r)), 0);
        struct sio_vm_stats st;
        sio_vm_get_stats(r->a, &st);
        assert_int_equal(st.irqs_per_vcpu[3], 1);
        assert_int_equal(st.last_vector, 0x57);
        assert_int_equal(posting ? st.irqs_posted : st.irqs_remapped, 1);
        rig_free(r);
    }
}

static void test_spoofed_source_blocked(void **state)
{
    (void)state;
    for (int posted = 0; posted < 2; posted++) {
        struct rig *r = rig_new(posted);
        assert_int_equal(sio_hv_msi_route(r->a, RID_NIC, 0, 0x61), 0);
        uint64_t addr;
        uint32_t data;
        msi_message(r, RID_NIC, &addr, &data);
        uint16_t idx;
        irte_of(r, RID_NIC, &idx);
        /* C's device sends A's NIC's interrupt message: the IRTE wants source 01:00.0. */
        assert_int_equal(sio_rogue_msi(r->evil, addr, data), 0x26);
        /* A compatibility-format message does not get around remapping either (VT-d 6:
         * blocked with IRE=1 while CFI is clear). */
        assert_int_equal(sio_rogue_msi(r->evil, 0xFEE00000, 0x61), 0x25);
        struct sio_vm_stats sa;
        sio_vm_get_stats(r->a, &sa);
        assert_int_equal(sa.irqs, 0);
        assert_int_equal(r->port.st.msis_blocked, 2);
        struct sio_vtd_ext_stats xs;
        sio_vtd_get_ext_stats(r->u, &xs);
        assert_int_equal(xs.msi_blocked, 2);
        /* The host driver services the faults and prints them as Linux does. */
        assert_int_equal(sio_vtd_drv_service_faults(r->drv), 2);
        char line[200];
        snprintf(line, sizeof(line),
                 "DMAR: [INTR-REMAP] Request device [0000:02:00.0] fault index 0x%x [fault reason "
                 "0x26] Blocked an interrupt request due to source-id verification failure",
                 idx);
        assert_true(log_capture_has(&logs, line));
        /* The real NIC still gets through. */
        assert_int_equal(sio_pci_fn_msi(nicfn(r)), 0);
        sio_vm_get_stats(r->a, &sa);
        assert_int_equal(sa.irqs, 1);
        rig_free(r);
    }
}

/* A conventional PCI device behind a PCIe-to-PCI bridge reaches the unit with the bridge's
 * secondary bus and devfn 0: its IRTE checks the bus range (SVT=10), as Linux does. */
static void test_bridged_device_bus_range(void **state)
{
    (void)state;
    struct rig *r = rig_new(1);
    assert_int_equal(sio_pci_fn_wire_rid(r->old), RID_ALIAS);
    assert_int_equal(sio_hv_assign(r->a, RID_OLD), 0);
    sio_pci_cfg_write(r->t, RID_OLD, SIO_PCI_COMMAND, SIO_PCI_CMD_MASTER, 2);
    assert_int_equal(sio_hv_msi_route(r->a, RID_OLD, 1, 0x66), 0);
    /* hi: SID = first bus 4 << 8 | last bus 4, SQ 00, SVT 10 (bits 83:82). */
    struct sio_u128 e = irte_of(r, RID_OLD, NULL);
    assert_int_equal(e.hi, (2ULL << 18) | 0x0404);
    assert_int_equal(sio_pci_fn_msi(r->old), 0);
    struct sio_vm_stats st;
    sio_vm_get_stats(r->a, &st);
    assert_int_equal(st.irqs_per_vcpu[1], 1);
    assert_int_equal(st.last_vector, 0x66);
    uint64_t addr;
    uint32_t data;
    msi_message(r, RID_OLD, &addr, &data);
    assert_int_equal(sio_rogue_msi(r->evil, addr, data), 0x26); /* bus 2 is not 4..4 */
    rig_free(r);
}

static void test_deassign_releases_routes(void **state)
{
    (void)state;
    struct rig *r = rig_new(1);
    assert_int_equal(sio_hv_msi_route(r->a, RID_NIC, 1, 0x70), 0);
    uint64_t addr;
    uint32_t data;
    msi_message(r, RID_NIC, &addr, &data);
    assert_int_equal(sio_pci_fn_msi(nicfn(r)), 0); /* the unit caches the entry */
    assert_int_equal(irtes_used(r), 1);
    assert_int_equal(sio_hv_deassign(r->a, RID_NIC), 0);
    assert_int_equal(irtes_used(r), 0);
    /* Someone turns bus mastering and MSI back on with the old message: the IRTE is gone
     * (VT-d 6, reason 0x22), nothing reaches A. */
    sio_pci_cfg_write(r->t, RID_NIC, SIO_PCI_COMMAND, SIO_PCI_CMD_MASTER, 2);
    sio_pci_cfg_write(r->t, RID_NIC, 0x80 + SIO_PCI_MSI_FLAGS, 1, 2);
    assert_int_equal(sio_pci_fn_msi(nicfn(r)), 0x22);
    struct sio_vm_stats st;
    sio_vm_get_stats(r->a, &st);
    assert_int_equal(st.irqs, 1);
    assert_int_equal(sio_hv_msi_route(r->a, RID_NIC, 1, 0x70), SIO_EOWNED);
    rig_free(r);
}

/* Without remapping in the driver the hypervisor falls back to compatibility format. */
static void test_driver_without_ir(void **state)
{
    (void)state;
    struct rig *r = rig_new(1);
    sio_hv_destroy(r->hv);
    sio_vtd_drv_ir_disable(r->drv);
    assert_null(sio_hv_vtd_ir_ops(r->drv));
    struct sio_hv_config hc = tm_hv_config(r->pm, HV_BASE, 1 << 20, r->drv, r->t);
    r->hv = sio_hv_create(&hc);
    sio_vtd_port_init(&r->port, r->u, sio_hv_irq_sink, r->hv);
    struct sio_vm_config ca = {"A", 2, 0};
    r->a = sio_vm_create(r->hv, &ca);
    assert_int_equal(sio_vm_add_ram(r->a, 0, 0x4000000, 0x100000), 0);
    assert_int_equal(sio_hv_assign(r->a, RID_NIC), 0);
    sio_pci_cfg_write(r->t, RID_NIC, SIO_PCI_COMMAND, SIO_PCI_CMD_MASTER, 2);
    assert_int_equal(sio_hv_msi_route(r->a, RID_NIC, 1, 0x44), 0);
    uint64_t addr;
    uint32_t data;
    msi_message(r, RID_NIC, &addr, &data);
    assert_int_equal(addr, 0xFEE01000ULL); /* compatibility format, APIC 1 */
    assert_int_equal(data, 0x44);
    assert_int_equal(sio_pci_fn_msi(nicfn(r)), 0);
    struct sio_vm_stats st;
    sio_vm_get_stats(r->a, &st);
    assert_int_equal(st.irqs_per_vcpu[1], 1);
    rig_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remapped_to_vcpu),
        cmocka_unit_test(test_posted_to_vcpu),
        cmocka_unit_test(test_x2apic_mode),
        cmocka_unit_test(test_spoofed_source_blocked),
        cmocka_unit_test(test_bridged_device_bus_range),
        cmocka_unit_test(test_deassign_releases_routes),
        cmocka_unit_test(test_driver_without_ir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

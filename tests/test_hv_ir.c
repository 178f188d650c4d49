/* Interrupts of assigned devices through interrupt remapping: remapped to a host vector the
 * hypervisor forwards to the owner's vCPU, or posted straight into that vCPU's
 * posted-interrupt descriptor; a device sending another device's interrupt message is stopped
 * by the IRTE's source-id check; a device given back cannot interrupt anyone.
 *
 * The IRTEs are written by a small interrupt-remapping driver in this file (the role the host
 * driver should take: see docs/hypervisor.md), from the VT-d 5 and 6 layouts as numbers, and
 * programmed the way Linux does: queued invalidation, IRTA, SIRTP, global IEC, IRE. DMA
 * remapping stays off here: interrupt remapping does not depend on it. */
#include "test_util.h"

#include <softiommu/err.h>
#include <softiommu/hv.h>
#include <softiommu/log.h>
#include <softiommu/pcidev.h>
#include <softiommu/vtd.h>

#include <stdlib.h>
#include <string.h>

#define IR_BASE  0x10000000ULL /* queue, table, status word */
#define HV_BASE  0x20000000ULL
#define RID_NIC  0x0100
#define RID_EVIL 0x0200

/* ---- the test's interrupt-remapping driver --------------------------------------------------- */

struct irb {
    struct sio_vtd *u;
    struct sio_mem mem;
    uint64_t iq, irt, status;
    unsigned tail;
    uint32_t gcmd;
    uint8_t used[256];
    int can_post;
    unsigned remaps, posts, releases;
};

static void w32(struct irb *b, uint64_t off, uint32_t v)
{
    sio_vtd_mmio_write(b->u, off, v, 4);
}

static void poll_gsts(struct irb *b, uint32_t bit)
{
    for (int i = 0; i < 1000; i++)
        if (sio_vtd_mmio_read(b->u, 0x1C, 4) & bit)
            return;
    fail_msg("GSTS bit 0x%x never set", bit);
}

/* Descriptors, then a wait descriptor (type 5, SW=1) writing 2 to the status word; poll it. */
static void submit(struct irb *b, const uint64_t *qw, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint64_t pa = b->iq + 16ULL * b->tail;
        assert_int_equal(sio_mem_write64(&b->mem, pa, qw[2 * i]), 0);
        assert_int_equal(sio_mem_write64(&b->mem, pa + 8, qw[2 * i + 1]), 0);
        b->tail = (b->tail + 1) % 256;
    }
    assert_int_equal(sio_mem_write32(&b->mem, b->status, 1), 0);
    uint64_t pa = b->iq + 16ULL * b->tail;
    assert_int_equal(sio_mem_write64(&b->mem, pa, 5 | (1u << 5) | (2ULL << 32)), 0);
    assert_int_equal(sio_mem_write64(&b->mem, pa + 8, b->status), 0);
    b->tail = (b->tail + 1) % 256;
    w32(b, 0x88, b->tail << 4); /* IQT */
    uint32_t st = 0;
    for (int i = 0; i < 1000 && st != 2; i++)
        sio_mem_read32(&b->mem, b->status, &st);
    assert_int_equal(st, 2);
}

static void iec_index(struct irb *b, unsigned idx)
{
    uint64_t d[2] = {4 | (1u << 4) | ((uint64_t)idx << 32), 0}; /* type 4, G=1 (index) */
    submit(b, d, 1);
}

static void irb_init(struct irb *b, struct sio_vtd *u, struct sio_pmem *pm)
{
    memset(b, 0, sizeof(*b));
    b->u = u;
    b->mem.ops = sio_pmem_ops();
    b->mem.ctx = pm;
    b->iq = IR_BASE;
    b->irt = IR_BASE + 0x1000; /* 256 entries = IRTA.S 7 */
    b->status = IR_BASE + 0x2000;
    assert_int_equal(sio_mem_zero(&b->mem, IR_BASE, 0x3000), 0);
    w32(b, 0x88, 0);                       /* IQT */
    sio_vtd_mmio_write(u, 0x90, b->iq, 8); /* IQA: QS 0 (256 descriptors) */
    b->gcmd |= 1u << 26;                   /* QIE */
    w32(b, 0x18, b->gcmd);
    poll_gsts(b, 1u << 26);
    sio_vtd_mmio_write(u, 0xB8, b->irt | 7, 8); /* IRTA, xAPIC mode */
    w32(b, 0x18, b->gcmd | (1u << 24));         /* SIRTP */
    poll_gsts(b, 1u << 24);
    uint64_t gl[2] = {4, 0}; /* global IEC */
    submit(b, gl, 1);
    b->gcmd |= 1u << 25; /* IRE */
    w32(b, 0x18, b->gcmd);
    poll_gsts(b, 1u << 25);
}

static int take_index(struct irb *b)
{
    for (unsigned i = 0; i < 256; i++)
        if (!b->used[i]) {
            b->used[i] = 1;
            return (int)i;
        }
    return -1;
}

/* IRTE, remapped format (VT-d 6): P, vector 23:16, DST[15:8] at 47:40 (xAPIC), SID 79:64,
 * SQ 81:80 = 0, SVT 83:82 = 01. Upper half first, present bit last. */
static int irb_remap(void *ctx, uint16_t sid, uint8_t vector, uint32_t dest, uint64_t *addr,
                     uint32_t *data)
{
    struct irb *b = ctx;
    int i = take_index(b);
    if (i < 0)
        return SIO_ENOSPC;
    uint64_t e = b->irt + 16ULL * (unsigned)i;
    sio_mem_write64(&b->mem, e + 8, sid | (1ULL << 18));
    sio_mem_write64(&b->mem, e, 1 | ((uint64_t)vector << 16) | ((uint64_t)(dest & 0xFF) << 40));
    iec_index(b, (unsigned)i);
    sio_vtd_msi_remappable((uint16_t)i, 0, 0, addr, data);
    b->remaps++;
    return 0;
}

/* IRTE, posted format: P, IM (15), virtual vector 23:16, PDA[31:6] at 63:38, PDA[63:32] at
 * 127:96, SID/SQ/SVT as above. */
static int irb_post(void *ctx, uint16_t sid, uint8_t vv, uint64_t pda, uint64_t *addr,
                    uint32_t *data)
{
    struct irb *b = ctx;
    int i = take_index(b);
    if (i < 0)
        return SIO_ENOSPC;
    uint64_t e = b->irt + 16ULL * (unsigned)i;
    sio_mem_write64(&b->mem, e + 8, sid | (1ULL << 18) | ((pda >> 32) << 32));
    sio_mem_write64(&b->mem, e,
                    1 | (1u << 15) | ((uint64_t)vv << 16) | (((pda >> 6) & 0x3FFFFFF) << 38));
    iec_index(b, (unsigned)i);
    sio_vtd_msi_remappable((uint16_t)i, 0, 0, addr, data);
    b->posts++;
    return 0;
}

static void irb_release(void *ctx, uint64_t addr, uint32_t data)
{
    struct irb *b = ctx;
    (void)data;
    unsigned i = (unsigned)(((addr >> 5) & 0x7FFF) | (((addr >> 2) & 1) << 15));
    if (i >= 256)
        return;
    sio_mem_write64(&b->mem, b->irt + 16ULL * i, 0);
    sio_mem_write64(&b->mem, b->irt + 16ULL * i + 8, 0);
    iec_index(b, i);
    b->used[i] = 0;
    b->releases++;
}

static const struct sio_hv_ir_ops remap_only = {irb_remap, NULL, irb_release};
static const struct sio_hv_ir_ops with_posting = {irb_remap, irb_post, irb_release};

/* ---- the machine ------------------------------------------------------------------------- */

struct rig {
    struct sio_pmem *pm;
    struct sio_vtd *u;
    struct sio_irq_ops unit_irq;
    struct sio_pci_topo *t;
    struct sio_vtd_port port;
    struct irb irb;
    struct sio_hv *hv;
    struct sio_vm *a, *c;
    struct sio_nic *nic;
    struct sio_rogue *evil;
};

static void unit_msi(void *ctx, uint64_t addr, uint32_t data)
{
    struct rig *r = ctx;
    if (r->hv)
        sio_hv_unit_msi(r->hv, addr, data);
}

static struct log_capture logs;

static struct rig *rig_new(const struct sio_hv_ir_ops *ir)
{
    log_capture_start(&logs);
    struct rig *r = calloc(1, sizeof(*r));
    r->pm = sio_pmem_create(1ULL << 30);
    r->unit_irq.msi = unit_msi;
    struct sio_vtd_config vc = {0}; /* defaults: QI, IR, PI */
    r->u = sio_vtd_create(&vc, sio_pmem_ops(), r->pm, &r->unit_irq, r);
    assert_non_null(r->u);
    irb_init(&r->irb, r->u, r->pm);
    r->t = sio_pci_topo_create(0);
    struct sio_pci_fn_desc rp = {0};
    rp.vendor = 0x8086;
    rp.class_code = 0x060400;
    rp.pcie_type = SIO_PCIE_ROOT_PORT;
    rp.bridge = 1;
    rp.acs = 1;
    rp.secondary_bus = 1;
    assert_int_equal(sio_pci_add(r->t, 0, 0x1c, 0, &rp, NULL), 0);
    rp.secondary_bus = 2;
    assert_int_equal(sio_pci_add(r->t, 0, 0x1d, 0, &rp, NULL), 0);
    struct sio_pci_fn_desc nd = sio_nic_desc(0), ed = sio_rogue_desc();
    struct sio_pci_fn *fn, *fe;
    assert_int_equal(sio_pci_add(r->t, 1, 0, 0, &nd, &fn), 0);
    assert_int_equal(sio_pci_add(r->t, 2, 0, 0, &ed, &fe), 0);
    r->nic = sio_nic_attach(fn, sio_vtd_port(&r->port), NULL, NULL);
    r->evil = sio_rogue_attach(fe, sio_vtd_port(&r->port));
    struct sio_hv_config hc = {0};
    hc.mem = sio_pmem_ops();
    hc.mem_ctx = r->pm;
    hc.table_base = HV_BASE;
    hc.table_size = 1 << 20;
    hc.pci = sio_pci_topo_cfg_ops();
    hc.pci_ctx = r->t;
    hc.flags = SIO_HV_UNSAFE_NOIOMMU; /* DMA remapping is not what this test is about */
    hc.ir = ir;
    hc.ir_ctx = &r->irb;
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

static void rig_free(struct rig *r)
{
    struct sio_hv *hv = r->hv;
    r->hv = NULL;
    sio_hv_destroy(hv);
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

static void nic_msi_message(struct rig *r, uint64_t *addr, uint32_t *data)
{
    *addr = sio_pci_cfg_read(r->t, RID_NIC, 0x80 + SIO_PCI_MSI_ADDR_LO, 4) |
            (uint64_t)sio_pci_cfg_read(r->t, RID_NIC, 0x80 + SIO_PCI_MSI_ADDR_HI, 4) << 32;
    *data = sio_pci_cfg_read(r->t, RID_NIC, 0x80 + SIO_PCI_MSI_DATA_64, 2);
}

static void test_remapped_to_vcpu(void **state)
{
    (void)state;
    struct rig *r = rig_new(&remap_only);
    assert_int_equal(sio_hv_msi_route(r->a, RID_NIC, 3, 0x41), 0);
    assert_int_equal(r->irb.remaps, 1);
    uint64_t addr;
    uint32_t data;
    nic_msi_message(r, &addr, &data);
    assert_int_equal(addr & 0xFFF00010, 0xFEE00010); /* remappable format (bit 4) */
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
    /* Rerouting releases the old IRTE. */
    assert_int_equal(sio_hv_msi_route(r->a, RID_NIC, 1, 0x42), 0);
    assert_int_equal(r->irb.releases, 1);
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
    struct rig *r = rig_new(&with_posting);
    assert_int_equal(sio_hv_msi_route(r->a, RID_NIC, 2, 0x52), 0);
    assert_int_equal(r->irb.posts, 1);
    /* The descriptor as the hypervisor set it up: NV 0xF2, NDST = APIC 2 in 15:8. */
    struct sio_mem m = {sio_pmem_ops(), r->pm};
    uint64_t pid = sio_vm_vcpu_pid(r->a, 2), ctl;
    assert_int_equal(pid & 63, 0);
    assert_int_equal(sio_mem_read64(&m, pid + 32, &ctl), 0);
    assert_int_equal(ctl, (0xF2ULL << 16) | (0x200ULL << 32));
    /* The NIC interrupts: posted into A's vCPU 2, the notification fetches it at once. */
    assert_int_equal(sio_pci_fn_msi(nicfn(r)), 0);
    struct sio_vm_stats st;
    sio_vm_get_stats(r->a, &st);
    assert_int_equal(st.irqs, 1);
    assert_int_equal(st.irqs_posted, 1);
    assert_int_equal(st.irqs_per_vcpu[2], 1);
    assert_int_equal(st.last_vector, 0x52);
    uint64_t pir;
    assert_int_equal(sio_mem_read64(&m, pid + 8, &pir), 0); /* PIR bits 127:64 hold 0x52 */
    assert_int_equal(pir, 0);
    assert_int_equal(sio_mem_read64(&m, pid + 32, &ctl), 0);
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
    assert_int_equal(sio_mem_write64(&m, pid + 32, ctl | 1), 0);
    assert_int_equal(sio_pci_fn_msi(nicfn(r)), 0);
    sio_vm_get_stats(r->a, &st);
    assert_int_equal(st.irqs, 1);
    assert_int_equal(sio_vm_vcpu_poll(r->a, 2), 1);
    sio_vm_get_stats(r->a, &st);
    assert_int_equal(st.irqs, 2);
    assert_int_equal(sio_vm_vcpu_poll(r->a, 2), 0);
    rig_free(r);
}

static void test_spoofed_source_blocked(void **state)
{
    (void)state;
    for (int posted = 0; posted < 2; posted++) {
        struct rig *r = rig_new(posted ? &with_posting : &remap_only);
        assert_int_equal(sio_hv_msi_route(r->a, RID_NIC, 0, 0x61), 0);
        uint64_t addr;
        uint32_t data;
        nic_msi_message(r, &addr, &data);
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
        /* The real NIC still gets through. */
        assert_int_equal(sio_pci_fn_msi(nicfn(r)), 0);
        sio_vm_get_stats(r->a, &sa);
        assert_int_equal(sa.irqs, 1);
        rig_free(r);
    }
}

static void test_deassign_releases_routes(void **state)
{
    (void)state;
    struct rig *r = rig_new(&with_posting);
    assert_int_equal(sio_hv_msi_route(r->a, RID_NIC, 1, 0x70), 0);
    uint64_t addr;
    uint32_t data;
    nic_msi_message(r, &addr, &data);
    assert_int_equal(sio_hv_deassign(r->a, RID_NIC), 0);
    assert_int_equal(r->irb.releases, 1);
    /* Someone turns bus mastering and MSI back on with the old message: the IRTE is gone
     * (VT-d 6, reason 0x22), nothing reaches A. */
    sio_pci_cfg_write(r->t, RID_NIC, SIO_PCI_COMMAND, SIO_PCI_CMD_MASTER, 2);
    sio_pci_cfg_write(r->t, RID_NIC, 0x80 + SIO_PCI_MSI_FLAGS, 1, 2);
    assert_int_equal(sio_pci_fn_msi(nicfn(r)), 0x22);
    struct sio_vm_stats st;
    sio_vm_get_stats(r->a, &st);
    assert_int_equal(st.irqs, 0);
    assert_int_equal(sio_hv_msi_route(r->a, RID_NIC, 1, 0x70), SIO_EOWNED);
    rig_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remapped_to_vcpu),
        cmocka_unit_test(test_posted_to_vcpu),
        cmocka_unit_test(test_spoofed_source_blocked),
        cmocka_unit_test(test_deassign_releases_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Interrupt remapping in the host driver (VT-d 6), driving the VT-d model through its MMIO ops
 * and memory only. The register writes of the enable sequence are recorded and compared with
 * Linux's order (QI, IRTA, SIRTP, global IEC, IRE, CFI clear); IRTEs are read back from the
 * table in memory and compared field by field with entries built here from the VT-d 6
 * layouts; every interrupt is then sent through the model with sio_vtd_msi: remapped, posted,
 * multi-MSI, a spoofed source id (0x26), a released entry (0x22). */
#include "test_util.h"
#include "test_vtd_drv_fake.h" /* struct wmem (writes outside the tables counted), msi_last */

#include <softiommu/err.h>
#include <softiommu/log.h>
#include <softiommu/vtd.h>
#include <softiommu/vtd_driver.h>
#include <softiommu/vtd_ir.h>

#include <stdlib.h>
#include <string.h>

#define TB  0x40000000ULL /* driver tables: 4 MiB at 1 GiB */
#define TS  (4ULL << 20)
#define SID 0x0310 /* 03:02.0 */

/* Register offsets and GCMD/GSTS bits, as numbers from VT-d 1. */
#define R_GCMD  0x18
#define R_GSTS  0x1C
#define R_CAP   0x08
#define R_ECAP  0x10
#define R_IQT   0x88
#define R_IQA   0x90
#define R_IRTA  0xB8
#define B_TE    (1u << 31)
#define B_QIE   (1u << 26)
#define B_IRE   (1u << 25)
#define B_SIRTP (1u << 24)
#define B_CFI   (1u << 23)

/* ---- a recording MMIO wrapper around the model ---------------------------------------------- */

struct wr {
    uint64_t off, val;
    unsigned size;
};

struct rec {
    struct sio_vtd *u;
    uint64_t cap_or, ecap_or, ecap_clear; /* what CAP/ECAP read as, on top of the model */
    struct wr w[256];
    unsigned n;
    uint64_t iqa; /* last IQA written: where the queue is */
    struct sio_pmem *pm;
    uint64_t iq_desc[64][2]; /* descriptors the unit was given, in order */
    unsigned ndesc, iq_tail;
};

static uint64_t rec_read(void *ctx, uint64_t off, unsigned size)
{
    struct rec *r = ctx;
    uint64_t v = sio_vtd_mmio_read(r->u, off, size);
    if (off == R_CAP && size == 8)
        v |= r->cap_or;
    if (off == R_ECAP && size == 8)
        v = (v & ~r->ecap_clear) | r->ecap_or;
    return v;
}

static void rec_write(void *ctx, uint64_t off, uint64_t val, unsigned size)
{
    struct rec *r = ctx;
    if (r->n < 256)
        r->w[r->n++] = (struct wr){off, val, size};
    if (off == R_IQA)
        r->iqa = val;
    if (off == R_IQT) {
        /* Note every descriptor between the old and the new tail (128-bit, one 4 KiB page). */
        struct sio_mem m = {sio_pmem_ops(), r->pm};
        unsigned tail = (unsigned)(val >> 4) % 256;
        for (unsigned i = r->iq_tail; i != tail; i = (i + 1) % 256) {
            uint64_t base = (r->iqa & ~0xFFFULL) + 16ULL * i;
            if (r->ndesc < 64) {
                sio_mem_read64(&m, base, &r->iq_desc[r->ndesc][0]);
                sio_mem_read64(&m, base + 8, &r->iq_desc[r->ndesc][1]);
                r->ndesc++;
            }
        }
        r->iq_tail = tail;
    }
    sio_vtd_mmio_write(r->u, off, val, size);
}

static const struct sio_mmio_ops rec_ops = {rec_read, rec_write};

/* ---- the machine ------------------------------------------------------------------------- */

struct env {
    struct sio_pmem *pm;
    struct sio_mem mem;
    struct wmem wm;
    struct sio_vtd *u;
    struct rec rec;
    struct sio_vtd_drv *drv;
    struct msi_last msi;
};

static struct log_capture logs;

/* A unit with features (0: defaults), its driver; cap_or/ecap_or/ecap_clear bend CAP/ECAP. */
static struct env *env_new_ex(uint64_t features, uint64_t cap_or, uint64_t ecap_or,
                              uint64_t ecap_clear, uint64_t table_size)
{
    log_capture_start(&logs);
    struct env *e = calloc(1, sizeof(*e));
    e->pm = sio_pmem_create(1ULL << 40);
    e->mem = (struct sio_mem){sio_pmem_ops(), e->pm};
    e->wm = (struct wmem){e->pm, TB, TB + table_size, 0, {0}, 0};
    struct sio_vtd_config hw = {.aw_bits = 48, .features = features};
    e->u = sio_vtd_create(&hw, sio_pmem_ops(), e->pm, &msi_last_ops, &e->msi);
    assert_non_null(e->u);
    e->rec.u = e->u;
    e->rec.pm = e->pm;
    e->rec.cap_or = cap_or;
    e->rec.ecap_or = ecap_or;
    e->rec.ecap_clear = ecap_clear;
    struct sio_vtd_drv_config cfg = {TB, table_size, 1};
    e->drv = sio_vtd_drv_create(&cfg, &rec_ops, &e->rec, &wm_ops, &e->wm);
    assert_non_null(e->drv);
    return e;
}

static struct env *env_new(uint64_t features)
{
    return env_new_ex(features, 0, 0, 0, TS);
}

static void env_free(struct env *e)
{
    sio_vtd_drv_destroy(e->drv);
    assert_int_equal(e->wm.outside, 0);
    /* The driver left remapping off, as Linux does at shutdown. */
    assert_int_equal(sio_vtd_mmio_read(e->u, R_GSTS, 4) & B_IRE, 0);
    sio_vtd_destroy(e->u);
    sio_pmem_destroy(e->pm);
    free(e);
    log_capture_stop();
}

static void ir_on(struct env *e, unsigned entries, int x2apic)
{
    struct sio_vtd_ir_config c = {entries, x2apic};
    assert_int_equal(sio_vtd_drv_ir_enable(e->drv, &c), 0);
}

static struct sio_u128 irte_at(struct env *e, uint16_t index)
{
    struct sio_vtd_ir_info info;
    sio_vtd_drv_ir_get_info(e->drv, &info);
    struct sio_u128 v;
    assert_int_equal(sio_mem_read64(&e->mem, info.table_pa + 16ULL * index, &v.lo), 0);
    assert_int_equal(sio_mem_read64(&e->mem, info.table_pa + 16ULL * index + 8, &v.hi), 0);
    return v;
}

static struct sio_vtd_irte_remap remap_entry(uint8_t vector, uint32_t dest, uint16_t sid)
{
    struct sio_vtd_irte_remap r;
    memset(&r, 0, sizeof(r));
    r.vector = vector;
    r.dest = dest;
    r.src = sio_vtd_ir_source_sid(sid);
    return r;
}

/* ---- the enable sequence ------------------------------------------------------------------- */

static void test_enable_order(void **state)
{
    (void)state;
    struct env *e = env_new(0);
    /* A firmware let compatibility-format interrupts through (CFI) before the OS came. */
    sio_vtd_mmio_write(e->u, R_GCMD, (sio_vtd_mmio_read(e->u, R_GSTS, 4) & 0x96FFFFFFu) | B_CFI, 4);
    assert_true(sio_vtd_mmio_read(e->u, R_GSTS, 4) & B_CFI);
    e->rec.n = 0;
    e->rec.ndesc = 0;
    ir_on(e, 256, 0);
    struct sio_vtd_ir_info info;
    sio_vtd_drv_ir_get_info(e->drv, &info);
    assert_true(info.enabled);
    assert_false(info.x2apic);
    assert_int_equal(info.entries, 256);
    assert_true(info.table_pa >= TB && info.table_pa + 4096 <= TB + TS);
    assert_int_equal(info.table_pa & 0xFFF, 0);
    /* Exactly these writes, in this order (VT-d 6, Linux's enable order): IRTA = base | S
     * (256 entries: S = 7), SIRTP, the queue tail (global IEC + wait), IRE, CFI cleared. TE
     * and QIE (bring-up) are kept in every GCMD write; SIRTP is a one-shot, not kept. */
    assert_int_equal(e->rec.n, 5);
    assert_int_equal(e->rec.w[0].off, R_IRTA);
    assert_int_equal(e->rec.w[0].size, 8);
    assert_int_equal(e->rec.w[0].val, info.table_pa | 7);
    assert_int_equal(e->rec.w[1].off, R_GCMD);
    assert_int_equal(e->rec.w[1].val, B_TE | B_QIE | B_CFI | B_SIRTP);
    assert_int_equal(e->rec.w[2].off, R_IQT);
    assert_int_equal(e->rec.w[3].off, R_GCMD);
    assert_int_equal(e->rec.w[3].val, B_TE | B_QIE | B_CFI | B_IRE);
    assert_int_equal(e->rec.w[4].off, R_GCMD);
    assert_int_equal(e->rec.w[4].val, B_TE | B_QIE | B_IRE);
    /* What that tail move gave the unit: a global IEC descriptor (type 4, G=0), then a wait
     * (type 5) with SW=1 (bit 5) and FN=1 (bit 6). */
    assert_int_equal(e->rec.ndesc, 2);
    assert_int_equal(e->rec.iq_desc[0][0], 0x4);
    assert_int_equal(e->rec.iq_desc[0][1], 0);
    assert_int_equal(e->rec.iq_desc[1][0] & 0xFFF, 0x5 | (1u << 5) | (1u << 6));
    uint32_t gsts = (uint32_t)sio_vtd_mmio_read(e->u, R_GSTS, 4);
    assert_int_equal(gsts & (B_IRE | B_CFI | (1u << 24)), B_IRE | (1u << 24)); /* IRES, IRTPS */
    /* Twice is refused. */
    assert_int_equal(sio_vtd_drv_ir_enable(e->drv, NULL), SIO_EEXIST);
    struct sio_vtd_drv_stats st;
    sio_vtd_drv_get_stats(e->drv, &st);
    assert_int_equal(st.iec_global, 1);
    env_free(e);
}

static void test_enable_x2apic_and_esirtps(void **state)
{
    (void)state;
    /* x2APIC: EIME (bit 11) with 1024 entries (S = 9). The unit claims ESIRTPS (CAP bit 62),
     * so SIRTP flushes the IEC itself: no queue work between SIRTP and IRE. */
    struct env *e = env_new_ex(0, 1ULL << 62, 0, 0, TS);
    e->rec.n = 0;
    e->rec.ndesc = 0;
    ir_on(e, 1024, 1);
    struct sio_vtd_ir_info info;
    sio_vtd_drv_ir_get_info(e->drv, &info);
    assert_true(info.x2apic);
    assert_true(info.esirtps);
    assert_int_equal(e->rec.n, 3);
    assert_int_equal(e->rec.w[0].off, R_IRTA);
    assert_int_equal(e->rec.w[0].val, info.table_pa | (1u << 11) | 9);
    assert_int_equal(e->rec.w[1].val, B_TE | B_QIE | B_SIRTP);
    assert_int_equal(e->rec.w[2].val, B_TE | B_QIE | B_IRE);
    assert_int_equal(e->rec.ndesc, 0);
    /* 1024 entries = 16 KiB, one contiguous run inside the table range. */
    assert_true(info.table_pa >= TB && info.table_pa + 16384 <= TB + TS);
    env_free(e);
}

static void test_x2apic_without_eim(void **state)
{
    (void)state;
    struct env *e = env_new(SIO_VTD_F_EXPLICIT | SIO_VTD_F_QI | SIO_VTD_F_IR);
    e->rec.n = 0;
    ir_on(e, 256, 1);
    struct sio_vtd_ir_info info;
    sio_vtd_drv_ir_get_info(e->drv, &info);
    assert_false(info.x2apic); /* no ECAP.EIM: xAPIC mode, said so */
    assert_false(info.posted);
    assert_int_equal(e->rec.w[0].val, info.table_pa | 7);
    assert_true(log_capture_has(&logs, "no ECAP.EIM"));
    env_free(e);
}

static void test_refusals(void **state)
{
    (void)state;
    /* No ECAP.IR. */
    struct env *e = env_new(SIO_VTD_F_EXPLICIT | SIO_VTD_F_QI);
    e->rec.n = 0;
    assert_int_equal(sio_vtd_drv_ir_enable(e->drv, NULL), SIO_ENOTSUP);
    assert_true(log_capture_has(&logs, "ECAP.IR = 0"));
    assert_int_equal(e->rec.n, 0); /* nothing written */
    uint16_t idx;
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 1, &idx), SIO_ESTATE);
    env_free(e);
    /* ECAP.IR claimed (bit 3) by a unit without queued invalidation: refused, since the
     * interrupt entry cache has no register interface. */
    e = env_new_ex(SIO_VTD_F_EXPLICIT, 0, 1ULL << 3, 0, TS);
    e->rec.n = 0;
    assert_int_equal(sio_vtd_drv_ir_enable(e->drv, NULL), SIO_ENOTSUP);
    assert_true(log_capture_has(&logs, "ECAP.QI = 0"));
    assert_int_equal(e->rec.n, 0);
    env_free(e);
    /* Bad sizes; a table that does not fit the range. */
    e = env_new_ex(0, 0, 0, 0, 64 * 4096);
    struct sio_vtd_ir_config c = {3, 0};
    assert_int_equal(sio_vtd_drv_ir_enable(e->drv, &c), SIO_EINVAL);
    c.entries = 1;
    assert_int_equal(sio_vtd_drv_ir_enable(e->drv, &c), SIO_EINVAL);
    c.entries = 131072;
    assert_int_equal(sio_vtd_drv_ir_enable(e->drv, &c), SIO_EINVAL);
    c.entries = 65536; /* 1 MiB of IRTEs in a 256 KiB range */
    assert_int_equal(sio_vtd_drv_ir_enable(e->drv, &c), SIO_ENOSPC);
    assert_int_equal(sio_vtd_mmio_read(e->u, R_GSTS, 4) & B_IRE, 0);
    c.entries = 2048; /* 8 pages: fits */
    assert_int_equal(sio_vtd_drv_ir_enable(e->drv, &c), 0);
    env_free(e);
}

static void test_firmware_left_ir_on(void **state)
{
    (void)state;
    struct env *e = env_new(0);
    /* An earlier owner's table at 0x9000000 with remapping on. */
    sio_vtd_mmio_write(e->u, R_IRTA, 0x9000000 | 3, 8);
    uint32_t g = (uint32_t)sio_vtd_mmio_read(e->u, R_GSTS, 4) & 0x96FFFFFFu;
    sio_vtd_mmio_write(e->u, R_GCMD, g | B_SIRTP, 4);
    sio_vtd_mmio_write(e->u, R_GCMD, g | B_IRE, 4);
    assert_true(sio_vtd_mmio_read(e->u, R_GSTS, 4) & B_IRE);
    e->rec.n = 0;
    ir_on(e, 256, 0);
    assert_true(log_capture_has(&logs, "left enabled"));
    /* First write: IRE off; then the usual sequence. */
    assert_int_equal(e->rec.w[0].off, R_GCMD);
    assert_int_equal(e->rec.w[0].val & B_IRE, 0);
    assert_int_equal(e->rec.w[1].off, R_IRTA);
    struct sio_vtd_ir_info info;
    sio_vtd_drv_ir_get_info(e->drv, &info);
    assert_int_equal(sio_vtd_mmio_read(e->u, R_IRTA, 8), info.table_pa | 7);
    env_free(e);
}

/* ---- IRTEs, by hand from VT-d 6 ------------------------------------------------------------- */

static void test_remapped_irte_xapic(void **state)
{
    (void)state;
    struct env *e = env_new(0);
    ir_on(e, 256, 0);
    uint16_t idx;
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 1, &idx), 0);
    assert_int_equal(idx, 0);
    struct sio_vtd_irte_remap r = remap_entry(0x45, 0x07, SID);
    r.dlm = SIO_IRQ_DLM_LOWEST;
    r.level = 1;
    r.logical = 1;
    r.rh = 1;
    assert_int_equal(sio_vtd_drv_ir_set_remap(e->drv, idx, &r), 0);
    /* lo: P 0 | DM 2 | RH 3 | TM 4 | DLM 7:5 = 001 | V 23:16 = 0x45 | DST[15:8] (47:40) = 7
     * hi: SID 79:64 = 0x0310 | SQ 81:80 = 00 | SVT 83:82 = 01 */
    struct sio_u128 v = irte_at(e, idx);
    assert_int_equal(v.lo, 0x000007000045003DULL);
    assert_int_equal(v.hi, 0x0000000000040310ULL);
    /* Through the unit. */
    uint64_t addr;
    uint32_t data;
    assert_int_equal(sio_vtd_drv_ir_msi(e->drv, idx, 0, &addr, &data), 0);
    /* 0xFEE | handle 19:5 = 0 | format 4 | SHV 3; data = subhandle 0 */
    assert_int_equal(addr, 0xFEE00018ULL);
    assert_int_equal(data, 0);
    struct sio_irq irq;
    assert_int_equal(sio_vtd_msi(e->u, SID, addr, data, &irq), 0);
    assert_int_equal(irq.vector, 0x45);
    assert_int_equal(irq.dest, 7);
    assert_true(irq.flags & SIO_IRQ_REMAPPED);
    assert_true(irq.flags & SIO_IRQ_LEVEL);
    assert_true(irq.flags & SIO_IRQ_LOGICAL);
    assert_true(irq.flags & SIO_IRQ_RH);
    assert_int_equal(SIO_IRQ_DLM(irq.flags), SIO_IRQ_DLM_LOWEST);
    /* Fill the table: the last entry is 255 (handle 19:5 = 0xFF), then nothing is left. */
    for (unsigned i = 1; i < 256; i++)
        assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 1, &idx), 0);
    assert_int_equal(idx, 255);
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 1, &idx), SIO_ENOSPC);
    r = remap_entry(0xEE, 0xFF, SID);
    assert_int_equal(sio_vtd_drv_ir_set_remap(e->drv, 255, &r), 0);
    v = irte_at(e, 255);
    assert_int_equal(v.lo, 0x0000FF0000EE0001ULL);
    assert_int_equal(sio_vtd_drv_ir_msi(e->drv, 255, 0, &addr, &data), 0);
    assert_int_equal(addr, 0xFEE00000ULL | (255u << 5) | 0x18);
    assert_int_equal(sio_vtd_msi(e->u, SID, addr, data, &irq), 0);
    assert_int_equal(irq.vector, 0xEE);
    assert_int_equal(irq.dest, 0xFF);
    /* Refusals: a destination above 8 bits in xAPIC mode, reserved delivery modes, SVT 11,
     * a reversed bus range, an index never allocated, a subhandle outside the block. */
    r = remap_entry(0x40, 0x100, SID);
    assert_int_equal(sio_vtd_drv_ir_set_remap(e->drv, 0, &r), SIO_EINVAL);
    r = remap_entry(0x40, 1, SID);
    r.dlm = 3;
    assert_int_equal(sio_vtd_drv_ir_set_remap(e->drv, 0, &r), SIO_EINVAL);
    r.dlm = 6;
    assert_int_equal(sio_vtd_drv_ir_set_remap(e->drv, 0, &r), SIO_EINVAL);
    r.dlm = 0;
    r.src.svt = 3;
    assert_int_equal(sio_vtd_drv_ir_set_remap(e->drv, 0, &r), SIO_EINVAL);
    r.src = sio_vtd_ir_source_bus(5, 3);
    assert_int_equal(sio_vtd_drv_ir_set_remap(e->drv, 0, &r), SIO_EINVAL);
    assert_int_equal(sio_vtd_drv_ir_free(e->drv, 7, 1), 0);
    r = remap_entry(0x40, 1, SID);
    assert_int_equal(sio_vtd_drv_ir_set_remap(e->drv, 7, &r), SIO_ENOENT);
    assert_int_equal(sio_vtd_drv_ir_msi(e->drv, 0, 1, &addr, &data), SIO_EINVAL);
    /* The entry is unchanged by the refused calls. */
    v = irte_at(e, 0);
    assert_int_equal(v.lo, 0x000007000045003DULL);
    env_free(e);
}

static void test_remapped_irte_x2apic(void **state)
{
    (void)state;
    struct env *e = env_new(0);
    ir_on(e, 256, 1);
    uint16_t idx;
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 1, &idx), 0);
    struct sio_vtd_irte_remap r = remap_entry(0x61, 0x12345678, SID);
    r.rh = 1;
    assert_int_equal(sio_vtd_drv_ir_set_remap(e->drv, idx, &r), 0);
    /* x2APIC: the whole of DST 63:32 is the APIC id. */
    struct sio_u128 v = irte_at(e, idx);
    assert_int_equal(v.lo, 0x1234567800610009ULL);
    assert_int_equal(v.hi, 0x0000000000040310ULL);
    uint64_t addr;
    uint32_t data;
    assert_int_equal(sio_vtd_drv_ir_msi(e->drv, idx, 0, &addr, &data), 0);
    struct sio_irq irq;
    assert_int_equal(sio_vtd_msi(e->u, SID, addr, data, &irq), 0);
    assert_int_equal(irq.vector, 0x61);
    assert_int_equal(irq.dest, 0x12345678);
    assert_true(irq.flags & SIO_IRQ_X2APIC);
    /* EIME=1: compatibility-format interrupts are always blocked (0x25). */
    assert_int_equal(sio_vtd_msi(e->u, SID, 0xFEE00000, 0x61, &irq), 0x25);
    env_free(e);
}

static void test_source_checks(void **state)
{
    (void)state;
    struct env *e = env_new(0);
    ir_on(e, 256, 0);
    uint16_t a, b, c;
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 1, &a), 0);
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 1, &b), 0);
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 1, &c), 0);
    /* a: exactly 03:02.0. b: a device behind a PCIe-to-PCI bridge whose secondary bus is 4 and
     * subordinate 5 (SVT 10: SID = 04 << 8 | 05). c: any function of device 03:02 (SQ 11). */
    struct sio_vtd_irte_remap r = remap_entry(0x30, 1, SID);
    assert_int_equal(sio_vtd_drv_ir_set_remap(e->drv, a, &r), 0);
    r.src = sio_vtd_ir_source_bus(4, 5);
    assert_int_equal(sio_vtd_drv_ir_set_remap(e->drv, b, &r), 0);
    assert_int_equal(irte_at(e, b).hi, (2ULL << 18) | 0x0405);
    r.src = sio_vtd_ir_source_sid(SID);
    r.src.sq = SIO_VTD_SQ_IGN_2_0;
    assert_int_equal(sio_vtd_drv_ir_set_remap(e->drv, c, &r), 0);
    assert_int_equal(irte_at(e, c).hi, (1ULL << 18) | (3ULL << 16) | SID);
    uint64_t addr;
    uint32_t data;
    struct sio_irq irq;
    assert_int_equal(sio_vtd_drv_ir_msi(e->drv, a, 0, &addr, &data), 0);
    assert_int_equal(sio_vtd_msi(e->u, SID, addr, data, &irq), 0);
    assert_int_equal(sio_vtd_msi(e->u, SID + 1, addr, data, &irq), 0x26);
    assert_int_equal(sio_vtd_drv_ir_msi(e->drv, b, 0, &addr, &data), 0);
    assert_int_equal(sio_vtd_msi(e->u, 0x0400, addr, data, &irq), 0); /* the bridge's id */
    assert_int_equal(sio_vtd_msi(e->u, 0x0508, addr, data, &irq), 0);
    assert_int_equal(sio_vtd_msi(e->u, 0x0300, addr, data, &irq), 0x26);
    assert_int_equal(sio_vtd_msi(e->u, 0x0600, addr, data, &irq), 0x26);
    assert_int_equal(sio_vtd_drv_ir_msi(e->drv, c, 0, &addr, &data), 0);
    assert_int_equal(sio_vtd_msi(e->u, 0x0317, addr, data, &irq), 0);    /* 03:02.7 */
    assert_int_equal(sio_vtd_msi(e->u, 0x0318, addr, data, &irq), 0x26); /* 03:03.0 */
    env_free(e);
}

/* A device sends another device's interrupt message: blocked with 0x26, and the driver's
 * fault service prints Linux's INTR-REMAP line. Compatibility format is blocked too (0x25):
 * the enable sequence left CFI clear. */
static void test_spoofed_source_fault_line(void **state)
{
    (void)state;
    struct env *e = env_new(0);
    ir_on(e, 256, 0);
    uint16_t idx, idx2;
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 1, &idx), 0);
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 1, &idx2), 0);
    assert_int_equal(idx2, 1);
    struct sio_vtd_irte_remap r = remap_entry(0x41, 2, 0x0100);
    assert_int_equal(sio_vtd_drv_ir_set_remap(e->drv, idx2, &r), 0);
    uint64_t addr;
    uint32_t data;
    assert_int_equal(sio_vtd_drv_ir_msi(e->drv, idx2, 0, &addr, &data), 0);
    struct sio_irq irq;
    assert_int_equal(sio_vtd_msi(e->u, 0x0200, addr, data, &irq), 0x26);
    assert_int_equal(sio_vtd_msi(e->u, 0x0200, 0xFEE00000, 0x41, &irq), 0x25);
    assert_int_equal(e->msi.n, 1); /* one fault event (IP set by the first) */
    assert_int_equal(sio_vtd_drv_service_faults(e->drv), 2);
    assert_true(log_capture_has(
        &logs, "DMAR: [INTR-REMAP] Request device [0000:02:00.0] fault index 0x1 [fault reason "
               "0x26] Blocked an interrupt request due to source-id verification failure"));
    assert_true(log_capture_has(
        &logs, "DMAR: [INTR-REMAP] Request device [0000:02:00.0] fault index 0x0 [fault reason "
               "0x25] Blocked a compatibility format interrupt request"));
    assert_int_equal(sio_vtd_drv_fault_count(e->drv, 0x0200), 2);
    /* The right device still gets through. */
    assert_int_equal(sio_vtd_msi(e->u, 0x0100, addr, data, &irq), 0);
    assert_int_equal(irq.vector, 0x41);
    env_free(e);
}

static void test_posted_irte(void **state)
{
    (void)state;
    struct env *e = env_new(0);
    ir_on(e, 256, 0);
    struct sio_vtd_ir_info info;
    sio_vtd_drv_ir_get_info(e->drv, &info);
    assert_true(info.posted);
    uint16_t idx;
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 1, &idx), 0);
    /* A descriptor above 4 GiB: NV 0xF2, NDST = APIC 3 (xAPIC: NDST 15:8 = bits 47:40 of the
     * control qword), ON = SN = 0. */
    const uint64_t pda = 0x12345678C0ULL;
    assert_int_equal(sio_mem_zero(&e->mem, pda, 64), 0);
    assert_int_equal(sio_mem_write64(&e->mem, pda + 32, (0xF2ULL << 16) | (0x03ULL << 40)), 0);
    struct sio_vtd_irte_post p;
    memset(&p, 0, sizeof(p));
    p.vvector = 0x52;
    p.pda = pda;
    p.urgent = 1;
    p.src = sio_vtd_ir_source_sid(SID);
    assert_int_equal(sio_vtd_drv_ir_set_posted(e->drv, idx, &p), 0);
    /* lo: P | URG 14 | IM 15 | VV 23:16 = 0x52 | PDA[31:6] at 63:38 (0x345678C0 >> 6 = 0xD159E3)
     * hi: SID | SVT 01 | PDA[63:32] = 0x12 at 127:96 */
    struct sio_u128 v = irte_at(e, idx);
    assert_int_equal(v.lo, (0xD159E3ULL << 38) | (0x52ULL << 16) | (1u << 15) | (1u << 14) | 1);
    assert_int_equal(v.hi, (0x12ULL << 32) | (1ULL << 18) | SID);
    uint64_t addr;
    uint32_t data;
    assert_int_equal(sio_vtd_drv_ir_msi(e->drv, idx, 0, &addr, &data), 0);
    struct sio_irq irq;
    assert_int_equal(sio_vtd_msi(e->u, SID, addr, data, &irq), 0);
    assert_true(irq.flags & SIO_IRQ_POSTED);
    assert_true(irq.flags & SIO_IRQ_NOTIFIED);
    assert_int_equal(irq.vector, 0x52);
    /* PIR bit 0x52 (qword 1, bit 18), ON set, and the notification: vector 0xF2 to APIC 3. */
    uint64_t pir1, ctl;
    assert_int_equal(sio_mem_read64(&e->mem, pda + 8, &pir1), 0);
    assert_int_equal(pir1, 1ULL << (0x52 - 64));
    assert_int_equal(sio_mem_read64(&e->mem, pda + 32, &ctl), 0);
    assert_int_equal(ctl & 1, 1);
    assert_int_equal(e->msi.n, 1);
    assert_int_equal(e->msi.addr, 0xFEE03000ULL);
    assert_int_equal(e->msi.data, 0xF2);
    /* Spoofed source: blocked before any posting. */
    assert_int_equal(sio_vtd_msi(e->u, SID + 8, addr, data, &irq), 0x26);
    /* Refusals: a misaligned descriptor. */
    p.pda = pda + 32;
    assert_int_equal(sio_vtd_drv_ir_set_posted(e->drv, idx, &p), SIO_EINVAL);
    env_free(e);
    /* A unit without posting (no CAP.PI): refused, nothing written. */
    e = env_new(SIO_VTD_F_DEFAULT & ~SIO_VTD_F_PI);
    ir_on(e, 256, 0);
    sio_vtd_drv_ir_get_info(e->drv, &info);
    assert_false(info.posted);
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 1, &idx), 0);
    p.pda = pda;
    assert_int_equal(sio_vtd_drv_ir_set_posted(e->drv, idx, &p), SIO_ENOTSUP);
    v = irte_at(e, idx);
    assert_int_equal(v.lo | v.hi, 0);
    env_free(e);
}

static void test_multi_msi(void **state)
{
    (void)state;
    struct env *e = env_new(0);
    ir_on(e, 256, 0);
    uint16_t one, four, eight, two;
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 1, &one), 0);
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 4, &four), 0);
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 8, &eight), 0);
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 2, &two), 0);
    /* Naturally aligned blocks, lowest first: 0 | 4-7 | 8-15 | 2-3. */
    assert_int_equal(one, 0);
    assert_int_equal(four, 4);
    assert_int_equal(eight, 8);
    assert_int_equal(two, 2);
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 3, &two), SIO_EINVAL);
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 0, &two), SIO_EINVAL);
    for (unsigned n = 0; n < 4; n++) {
        struct sio_vtd_irte_remap r = remap_entry((uint8_t)(0x50 + n), 1, SID);
        assert_int_equal(sio_vtd_drv_ir_set_remap(e->drv, (uint16_t)(four + n), &r), 0);
    }
    struct sio_irq irq;
    for (unsigned n = 0; n < 4; n++) {
        uint64_t addr;
        uint32_t data;
        assert_int_equal(sio_vtd_drv_ir_msi(e->drv, four, n, &addr, &data), 0);
        /* Every vector names the block (handle 4, SHV) and its number as subhandle. */
        assert_int_equal(addr, 0xFEE00000ULL | (4u << 5) | 0x18);
        assert_int_equal(data, n);
        assert_int_equal(sio_vtd_msi(e->u, SID, addr, data, &irq), 0);
        assert_int_equal(irq.vector, 0x50 + n);
    }
    uint64_t addr;
    uint32_t data;
    assert_int_equal(sio_vtd_drv_ir_msi(e->drv, four, 4, &addr, &data), SIO_EINVAL);
    assert_int_equal(sio_vtd_drv_ir_msi(e->drv, (uint16_t)(four + 1), 0, &addr, &data),
                     SIO_EINVAL); /* not a block's first entry */
    uint16_t got;
    assert_int_equal(sio_vtd_ir_msi_index(0xFEE00000ULL | (4u << 5) | 0x18, 3, &got), 0);
    assert_int_equal(got, 7);
    assert_int_equal(sio_vtd_ir_msi_index(0xFEE00000ULL | (0x7FFFu << 5) | 0x14, 0, &got), 0);
    assert_int_equal(got, 0xFFFF); /* handle bit 15 in address bit 2 */
    assert_int_equal(sio_vtd_ir_msi_index(0xFEE00000ULL, 0, &got), SIO_EINVAL);
    /* Freeing the block: one IEC invalidation with IM=2 covers all four (the unit had them
     * cached: any left would still deliver). Wrong sizes are refused. */
    assert_int_equal(sio_vtd_drv_ir_free(e->drv, four, 2), SIO_ENOENT);
    assert_int_equal(sio_vtd_drv_ir_free(e->drv, (uint16_t)(four + 1), 1), SIO_ENOENT);
    struct sio_vtd_drv_stats s0, s1;
    sio_vtd_drv_get_stats(e->drv, &s0);
    e->rec.ndesc = 0;
    assert_int_equal(sio_vtd_drv_ir_free(e->drv, four, 4), 0);
    sio_vtd_drv_get_stats(e->drv, &s1);
    assert_int_equal(s1.iec_index - s0.iec_index, 1);
    /* type 4, G=1 (bit 4), IM 31:27 = 2, IIDX 47:32 = 4 */
    assert_int_equal(e->rec.ndesc, 2);
    assert_int_equal(e->rec.iq_desc[0][0], 0x4 | (1u << 4) | (2u << 27) | (4ULL << 32));
    for (unsigned n = 0; n < 4; n++) {
        assert_int_equal(irte_at(e, (uint16_t)(four + n)).lo, 0);
        assert_int_equal(sio_vtd_msi(e->u, SID, 0xFEE00018ULL | (4u << 5), n, &irq), 0x22);
    }
    /* The block is free again. */
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 4, &got), 0);
    assert_int_equal(got, 4);
    struct sio_vtd_ir_info info;
    sio_vtd_drv_ir_get_info(e->drv, &info);
    assert_int_equal(info.used, 1 + 4 + 8 + 2);
    env_free(e);
    /* A unit whose IEC invalidation covers at most 2^2 entries (ECAP.MHMV = 2): no block of 8. */
    e = env_new_ex(0, 0, 2ULL << 20, 0xFULL << 20, TS);
    ir_on(e, 256, 0);
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 4, &got), 0);
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 8, &got), SIO_EINVAL);
    assert_true(log_capture_has(&logs, "MHMV 2"));
    env_free(e);
}

/* An entry changed in place is seen at once (index-selective IEC after every change); a
 * released entry is not present (0x22) even though the unit had cached it. */
static void test_update_and_release(void **state)
{
    (void)state;
    struct env *e = env_new(0);
    ir_on(e, 256, 0);
    uint16_t idx;
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 1, &idx), 0);
    struct sio_vtd_irte_remap r = remap_entry(0x70, 1, SID);
    assert_int_equal(sio_vtd_drv_ir_set_remap(e->drv, idx, &r), 0);
    uint64_t addr;
    uint32_t data;
    assert_int_equal(sio_vtd_drv_ir_msi(e->drv, idx, 0, &addr, &data), 0);
    struct sio_irq irq;
    assert_int_equal(sio_vtd_msi(e->u, SID, addr, data, &irq), 0);
    assert_int_equal(irq.vector, 0x70);
    r.vector = 0x71;
    r.dest = 2;
    assert_int_equal(sio_vtd_drv_ir_set_remap(e->drv, idx, &r), 0);
    assert_int_equal(sio_vtd_msi(e->u, SID, addr, data, &irq), 0);
    assert_int_equal(irq.vector, 0x71);
    assert_int_equal(irq.dest, 2);
    /* The upper half changes (another requester): the new one is checked at once. */
    r.src = sio_vtd_ir_source_sid(0x0500);
    assert_int_equal(sio_vtd_drv_ir_set_remap(e->drv, idx, &r), 0);
    assert_int_equal(sio_vtd_msi(e->u, SID, addr, data, &irq), 0x26);
    assert_int_equal(sio_vtd_msi(e->u, 0x0500, addr, data, &irq), 0);
    assert_int_equal(sio_vtd_msi(e->u, 0x0500, addr, data, &irq), 0);
    struct sio_vtd_ext_stats xs;
    sio_vtd_get_ext_stats(e->u, &xs);
    assert_true(xs.iec_hits > 0); /* the cache was in use all along */
    struct sio_vtd_drv_stats ds;
    sio_vtd_drv_get_stats(e->drv, &ds);
    assert_int_equal(ds.iec_index, 3);
    assert_int_equal(sio_vtd_drv_ir_free(e->drv, idx, 1), 0);
    struct sio_u128 v = irte_at(e, idx);
    assert_int_equal(v.lo | v.hi, 0);
    assert_int_equal(sio_vtd_msi(e->u, 0x0500, addr, data, &irq), 0x22);
    assert_int_equal(sio_vtd_drv_ir_free(e->drv, idx, 1), SIO_ENOENT); /* twice */
    env_free(e);
}

static void test_disable_and_reenable(void **state)
{
    (void)state;
    struct env *e = env_new(0);
    ir_on(e, 256, 0);
    struct sio_vtd_drv_info di0, di1;
    sio_vtd_drv_get_info(e->drv, &di0);
    sio_vtd_drv_ir_disable(e->drv);
    assert_int_equal(sio_vtd_mmio_read(e->u, R_GSTS, 4) & B_IRE, 0);
    sio_vtd_drv_get_info(e->drv, &di1);
    assert_int_equal(di0.table_pages_used - di1.table_pages_used, 1); /* the table went back */
    uint16_t idx;
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 1, &idx), SIO_ESTATE);
    struct sio_irq irq;
    /* IRE=0: everything passes as compatibility format. */
    assert_int_equal(sio_vtd_msi(e->u, SID, 0xFEE02000, 0x33, &irq), 0);
    assert_int_equal(irq.dest, 2);
    ir_on(e, 512, 0);
    assert_int_equal(sio_vtd_drv_ir_alloc(e->drv, 1, &idx), 0);
    struct sio_vtd_irte_remap r = remap_entry(0x34, 5, SID);
    assert_int_equal(sio_vtd_drv_ir_set_remap(e->drv, idx, &r), 0);
    uint64_t addr;
    uint32_t data;
    assert_int_equal(sio_vtd_drv_ir_msi(e->drv, idx, 0, &addr, &data), 0);
    assert_int_equal(sio_vtd_msi(e->u, SID, addr, data, &irq), 0);
    assert_int_equal(irq.vector, 0x34);
    env_free(e); /* destroy turns remapping off (checked there) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enable_order),
        cmocka_unit_test(test_enable_x2apic_and_esirtps),
        cmocka_unit_test(test_x2apic_without_eim),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_firmware_left_ir_on),
        cmocka_unit_test(test_remapped_irte_xapic),
        cmocka_unit_test(test_remapped_irte_x2apic),
        cmocka_unit_test(test_source_checks),
        cmocka_unit_test(test_spoofed_source_fault_line),
        cmocka_unit_test(test_posted_irte),
        cmocka_unit_test(test_multi_msi),
        cmocka_unit_test(test_update_and_release),
        cmocka_unit_test(test_disable_and_reenable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

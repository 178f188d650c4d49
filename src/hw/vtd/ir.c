/* Interrupt remapping (VT-d 6; registers VT-d 1; cache VT-d 7): IRTA latched by SIRTP, IRE,
 * CFI, EIME; sio_vtd_msi for remappable and compatibility-format requests; the interrupt entry
 * cache; the IOAPIC/MSI format helpers.
 *
 * A remappable request is checked in this order, each failure a fault recorded with the
 * interrupt index in FI 63:48 (VT-d 4):
 *   0x20  upper address bits set, or data 31:16 set with SHV=1
 *   0x21  index (handle, + subhandle with SHV) >= 2^(IRTA.S+1)
 *   0x23  the IRTE cannot be read
 *   0x22  IRTE P=0
 *   0x24  IRTE reserved bits: remapped format 14:12, 31:24, 127:84 and, with EIME=0, DST 31:16
 *         and 7:0; IM=1 without CAP.PI; posted format 7:2, 13:12, 37:24, 95:84 and PDA bits at
 *         or above the host address width; SVT=11; the reserved delivery modes 011 and 110
 *   0x26  source-id check (SVT 01 with the SQ mask, SVT 10 bus range [SID 15:8, SID 7:0])
 * then a posted IRTE goes to posted.c (0x27/0x28 for descriptor errors).
 *
 * FPD (decision, the digest leaves it open): IRTE.FPD suppresses the faults found in or
 * after a read IRTE — 0x22, 0x24, 0x26 and 0x28 — the ones the VT-d fault table calls
 * qualified; 0x20, 0x21, 0x23, 0x25 and 0x27 are always recorded (there is no entry, or no
 * entry whose FPD could be trusted).
 *
 * Compatibility format (address bit 4 = 0) with IRE=1: blocked (0x25) with EIME=1, else
 * passed through only while CFIS=1. With IRE=0 every request passes as compatibility format.
 *
 * The interrupt entry cache holds present IRTEs that passed the reserved-bit checks, raw (128
 * bits), tagged by index; every use re-runs the checks, so EIME or PI changes cannot make a
 * cached entry lie. It is invalidated only by type-4 descriptors: SIRTP alone does not flush
 * it (no CAP.ESIRTPS), which is why Linux follows SIRTP with a global IEC. Lookups are
 * lock-free (a seqlock per set, as in cache.c). */
#include "vtd_ext.h"

#include <softiommu/err.h>

#include <stdlib.h>
#include <string.h>

#define IR_DEFAULT_IEC 256
#define IR_MHMV        15

/* The latched state, one atomic word read by sio_vtd_msi: IRTA as latched (63:12 base,
 * 11 EIME, 3:0 S) with the status bits in IRTA's reserved bits 10:4. */
#define ST_IRES (1ULL << 4)
#define ST_CFIS (1ULL << 5)

/* ---- interrupt entry cache ------------------------------------------------------------------ */

#define IEC_WAYS 2
struct iec_set {
    _Atomic uint64_t seq;           /* odd while a writer owns the set */
    _Atomic uint64_t tag[IEC_WAYS]; /* index + 1; 0 = empty */
    _Atomic uint64_t lo[IEC_WAYS], hi[IEC_WAYS];
    _Atomic uint64_t hand;
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct iec_set) == 64, "an IEC set is one cache line");

struct vtd_ir {
    _Atomic uint64_t state;
    struct iec_set *sets;
    uint32_t nsets, mask; /* nsets: a power of two, 0 = no cache */
    _Atomic uint64_t gen; /* bumped by every invalidation (stale-insert guard) */
    _Atomic uint64_t remapped, compat, blocked, hits, misses, evictions, inv_global, inv_index;
};

static int iec_init(struct vtd_ir *ir, unsigned entries)
{
    if (entries == SIO_VTD_CACHE_OFF)
        return 0;
    if (!entries)
        entries = IR_DEFAULT_IEC;
    if (entries > (1u << 16))
        entries = 1u << 16; /* the table never has more */
    uint32_t n = 1;
    while (n * 2 * IEC_WAYS <= entries)
        n *= 2;
    ir->sets = aligned_alloc(64, (size_t)n * sizeof(struct iec_set));
    if (!ir->sets)
        return SIO_ENOMEM;
    memset(ir->sets, 0, (size_t)n * sizeof(struct iec_set));
    ir->nsets = n;
    ir->mask = n - 1;
    return 0;
}

static inline int iec_lookup(const struct vtd_ir *ir, uint32_t index, struct sio_u128 *e)
{
    if (!ir->nsets)
        return 0;
    const struct iec_set *s = &ir->sets[index & ir->mask];
    uint64_t tag = (uint64_t)index + 1;
    for (;;) {
        uint64_t s1 = atomic_load_explicit(&s->seq, memory_order_acquire);
        int hit = 0;
        uint64_t lo = 0, hi = 0;
        for (unsigned w = 0; w < IEC_WAYS; w++) {
            if (atomic_load_explicit(&s->tag[w], memory_order_relaxed) == tag) {
                lo = atomic_load_explicit(&s->lo[w], memory_order_relaxed);
                hi = atomic_load_explicit(&s->hi[w], memory_order_relaxed);
                hit = 1;
                break;
            }
        }
        atomic_thread_fence(memory_order_acquire);
        if (!(s1 & 1) && atomic_load_explicit(&s->seq, memory_order_relaxed) == s1) {
            e->lo = lo;
            e->hi = hi;
            return hit;
        }
    }
}

static uint64_t set_lock(struct iec_set *s)
{
    for (;;) {
        uint64_t q = atomic_load_explicit(&s->seq, memory_order_relaxed);
        if (!(q & 1) && atomic_compare_exchange_weak_explicit(
                            &s->seq, &q, q + 1, memory_order_acquire, memory_order_relaxed)) {
            atomic_thread_fence(memory_order_release);
            return q;
        }
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
}

static void set_unlock(struct iec_set *s, uint64_t q)
{
    atomic_store_explicit(&s->seq, q + 2, memory_order_release);
}

static void iec_insert(struct vtd_ir *ir, uint32_t index, struct sio_u128 e, uint64_t gen)
{
    if (!ir->nsets)
        return;
    struct iec_set *s = &ir->sets[index & ir->mask];
    uint64_t tag = (uint64_t)index + 1;
    uint64_t q = set_lock(s);
    if (atomic_load_explicit(&ir->gen, memory_order_acquire) != gen) {
        set_unlock(s, q); /* invalidated while we read the table: keep nothing */
        return;
    }
    unsigned way = IEC_WAYS;
    for (unsigned w = 0; w < IEC_WAYS && way == IEC_WAYS; w++)
        if (atomic_load_explicit(&s->tag[w], memory_order_relaxed) == tag)
            way = w;
    for (unsigned w = 0; w < IEC_WAYS && way == IEC_WAYS; w++)
        if (!atomic_load_explicit(&s->tag[w], memory_order_relaxed))
            way = w;
    if (way == IEC_WAYS) { /* full: replace the oldest (FIFO) */
        uint64_t h = atomic_load_explicit(&s->hand, memory_order_relaxed);
        way = (unsigned)(h % IEC_WAYS);
        atomic_store_explicit(&s->hand, h + 1, memory_order_relaxed);
        VTD_XCOUNT(ir->evictions);
    }
    atomic_store_explicit(&s->lo[way], e.lo, memory_order_relaxed);
    atomic_store_explicit(&s->hi[way], e.hi, memory_order_relaxed);
    atomic_store_explicit(&s->tag[way], tag, memory_order_relaxed);
    set_unlock(s, q);
}

/* Drops the entries of s with first <= index <= last. */
static void iec_set_drop(struct iec_set *s, uint32_t first, uint32_t last)
{
    uint64_t q = set_lock(s);
    for (unsigned w = 0; w < IEC_WAYS; w++) {
        uint64_t t = atomic_load_explicit(&s->tag[w], memory_order_relaxed);
        if (t && t - 1 >= first && t - 1 <= last)
            atomic_store_explicit(&s->tag[w], 0, memory_order_relaxed);
    }
    set_unlock(s, q);
}

void vtd_ir_inv_iec(struct sio_vtd *u, int global, uint32_t index, unsigned im)
{
    struct vtd_ir *ir = VTD_IR(u);
    if (!ir)
        return; /* no interrupt remapping: nothing cached */
    atomic_fetch_add_explicit(&ir->gen, 1, memory_order_seq_cst);
    uint32_t first = 0, last = 0xFFFF;
    if (global) {
        atomic_fetch_add_explicit(&ir->inv_global, 1, memory_order_relaxed);
    } else {
        /* 2^IM entries: the naturally aligned block holding IIDX (VT-d 5). */
        uint32_t count = 1u << im;
        first = index & ~(count - 1);
        last = first + count - 1;
        atomic_fetch_add_explicit(&ir->inv_index, 1, memory_order_relaxed);
    }
    if (!ir->nsets)
        return;
    if (last - first + 1 >= ir->nsets) {
        for (uint32_t i = 0; i < ir->nsets; i++)
            iec_set_drop(&ir->sets[i], first, last);
    } else {
        for (uint32_t i = first; i <= last; i++)
            iec_set_drop(&ir->sets[i & ir->mask], first, last);
    }
}

/* ---- request handling ----------------------------------------------------------------------- */

static int ir_fault(struct sio_vtd *u, uint16_t sid, uint32_t index, unsigned reason, int fpd)
{
    struct vtd_fault f = {0};
    f.sid = sid;
    f.reason = (uint8_t)reason;
    f.fpd = (uint8_t)fpd;
    f.access = SIO_WRITE; /* an interrupt request is a write */
    f.addr = (uint64_t)(index & 0xFFFF) << 48;
    f.irq = 1;
    VTD_XCOUNT(VTD_IR(u)->blocked);
    vtd_fault_report(u, &f);
    return (int)reason;
}

/* A compatibility-format request as the interrupt controller sees it (VT-d 6). */
static int compat(struct vtd_ir *ir, uint64_t addr, uint32_t data, struct sio_irq *out)
{
    out->vector = (uint32_t)sio_get64(data, SIO_VTD_MSI_D_VECTOR);
    out->dest = (uint32_t)sio_get64(addr, SIO_VTD_MSI_DEST);
    unsigned f = (unsigned)sio_get64(data, SIO_VTD_MSI_D_DLM) << SIO_IRQ_DLM_SHIFT;
    if (sio_get64(data, SIO_VTD_MSI_D_TM))
        f |= SIO_IRQ_LEVEL;
    if (sio_get64(addr, SIO_VTD_MSI_DM))
        f |= SIO_IRQ_LOGICAL;
    if (sio_get64(addr, SIO_VTD_MSI_RH))
        f |= SIO_IRQ_RH;
    out->flags = f;
    VTD_XCOUNT(ir->compat);
    return 0;
}

/* Reserved bits of a present IRTE (VT-d 6); 1 when any is set. */
static int irte_rsvd(const struct sio_vtd *u, struct sio_u128 e, int eime)
{
    if (sio_get128(e, SIO_VTD_IRTE_SVT) == 3) /* SVT 11 is a reserved value */
        return 1;
    if (sio_get128(e, SIO_VTD_IRTE_IM)) {
        if (!(u->features & SIO_VTD_F_PI))
            return 1; /* IM is reserved without posted interrupts */
        if ((e.lo & SIO_VTD_PIRTE_RSVD_LO) || (e.hi & SIO_VTD_PIRTE_RSVD_HI))
            return 1;
        uint64_t pda = (sio_get64(e.lo, 63, 38) << 6) | (e.hi & sio_mask64(63, 32));
        return (pda >> u->haw) != 0;
    }
    if ((e.lo & SIO_VTD_IRTE_RSVD_LO) || (e.hi & SIO_VTD_IRTE_RSVD_HI))
        return 1;
    if (!eime && (e.lo & SIO_VTD_IRTE_RSVD_XAPIC))
        return 1;
    unsigned dlm = (unsigned)sio_get64(e.lo, SIO_VTD_IRTE_DLM);
    return dlm == 3 || dlm == 6;
}

/* Source validation (VT-d 6); 1 when the requester may use the entry. */
static int sid_ok(struct sio_u128 e, uint16_t sid)
{
    unsigned svt = (unsigned)sio_get128(e, SIO_VTD_IRTE_SVT);
    uint16_t esid = (uint16_t)sio_get128(e, SIO_VTD_IRTE_SID);
    if (svt == SIO_VTD_SVT_SID) {
        static const uint16_t ignore[4] = {0, 0x4, 0x6, 0x7}; /* SQ: bits not compared */
        uint16_t mask = (uint16_t)~ignore[sio_get128(e, SIO_VTD_IRTE_SQ)];
        return ((sid ^ esid) & mask) == 0;
    }
    if (svt == SIO_VTD_SVT_BUS) { /* SID 15:8 first bus, 7:0 last bus */
        unsigned bus = sid >> 8;
        return bus >= (unsigned)(esid >> 8) && bus <= (unsigned)(esid & 0xff);
    }
    return 1; /* SVT 00: no check */
}

static int ir_msi(struct sio_vtd *u, uint16_t sid, uint64_t addr, uint32_t data,
                  struct sio_irq *out)
{
    struct vtd_ir *ir = VTD_IR(u);
    if (!out || (addr & 0xFFF00000u) != SIO_VTD_MSI_ADDR_BASE)
        return SIO_EINVAL;
    uint64_t st = atomic_load_explicit(&ir->state, memory_order_acquire);
    int eime = (int)sio_get64(st, SIO_VTD_IRTA_EIME);
    if (!(st & ST_IRES))
        return compat(ir, addr, data, out); /* remapping off: everything passes */
    if (!sio_get64(addr, SIO_VTD_MSI_FORMAT)) {
        if (eime || !(st & ST_CFIS))
            return ir_fault(u, sid, 0, SIO_VTD_FR_IR_COMPAT, 0);
        return compat(ir, addr, data, out);
    }
    int shv = (int)sio_get64(addr, SIO_VTD_MSI_SHV);
    uint32_t index = (uint32_t)(sio_get64(addr, SIO_VTD_MSI_HANDLE_LO) |
                                (sio_get64(addr, SIO_VTD_MSI_HANDLE_HI) << 15));
    if (shv)
        index += (uint32_t)sio_get64(data, SIO_VTD_MSI_SUBHANDLE);
    if ((addr >> 32) || (shv && (data & SIO_VTD_MSI_DATA_RSVD)))
        return ir_fault(u, sid, index, SIO_VTD_FR_IR_REQ_RSVD, 0);
    if (index >= (2u << sio_get64(st, SIO_VTD_IRTA_S)))
        return ir_fault(u, sid, index, SIO_VTD_FR_IR_INDEX, 0);
    struct sio_u128 e;
    if (iec_lookup(ir, index, &e)) {
        VTD_XCOUNT(ir->hits);
    } else {
        VTD_XCOUNT(ir->misses);
        uint64_t gen = atomic_load_explicit(&ir->gen, memory_order_acquire);
        if (vtd_mem_read128(u, (st & sio_mask64(63, 12)) + 16ULL * index, &e))
            return ir_fault(u, sid, index, SIO_VTD_FR_IR_FETCH, 0);
        if (!sio_get128(e, SIO_VTD_IRTE_P))
            return ir_fault(u, sid, index, SIO_VTD_FR_IR_NP, (int)sio_get128(e, SIO_VTD_IRTE_FPD));
        if (!irte_rsvd(u, e, eime))
            iec_insert(ir, index, e, gen);
    }
    int fpd = (int)sio_get128(e, SIO_VTD_IRTE_FPD);
    if (!sio_get128(e, SIO_VTD_IRTE_P)) /* cached entries are present; kept for clarity */
        return ir_fault(u, sid, index, SIO_VTD_FR_IR_NP, fpd);
    if (irte_rsvd(u, e, eime))
        return ir_fault(u, sid, index, SIO_VTD_FR_IR_RSVD, fpd);
    if (!sid_ok(e, sid))
        return ir_fault(u, sid, index, SIO_VTD_FR_IR_SID, fpd);
    if (sio_get128(e, SIO_VTD_IRTE_IM)) {
        int fr = vtd_pi_post(u, e.lo, e.hi, eime, out);
        if (fr)
            return ir_fault(u, sid, index, (unsigned)fr, fpd);
        return 0;
    }
    out->vector = (uint32_t)sio_get64(e.lo, SIO_VTD_IRTE_V);
    unsigned f =
        SIO_IRQ_REMAPPED | ((unsigned)sio_get64(e.lo, SIO_VTD_IRTE_DLM) << SIO_IRQ_DLM_SHIFT);
    if (eime) {
        out->dest = (uint32_t)sio_get64(e.lo, SIO_VTD_IRTE_DST);
        f |= SIO_IRQ_X2APIC;
    } else {
        out->dest = (uint32_t)sio_get64(e.lo, SIO_VTD_IRTE_DST_XAPIC);
    }
    if (sio_get64(e.lo, SIO_VTD_IRTE_TM))
        f |= SIO_IRQ_LEVEL;
    if (sio_get64(e.lo, SIO_VTD_IRTE_DM))
        f |= SIO_IRQ_LOGICAL;
    if (sio_get64(e.lo, SIO_VTD_IRTE_RH))
        f |= SIO_IRQ_RH;
    out->flags = f;
    VTD_XCOUNT(ir->remapped);
    return 0;
}

/* ---- registers and commands ----------------------------------------------------------------- */

/* IRTA (VT-d 1): 63:12 base, 11 EIME (with ECAP.EIM), 3:0 S; latched by SIRTP. */
static const struct vtd_reg_def ir_regs[] = {
    {"IRTA", SIO_VTD_REG_IRTA, 8, 0, 0, 0xFFFFFFFFFFFFF80FULL, 0, NULL},
};

/* GCMD (VT-d 1): SIRTP latches IRTA (IRTPS reads 1 from then on); IRE and CFI are level bits
 * whose status follows at once. */
static void ir_gcmd(struct sio_vtd *u, uint32_t cmd, struct vtd_ev *ev)
{
    (void)ev;
    struct vtd_ir *ir = VTD_IR(u);
    struct vtd_reg *gs = vtd_reg_at(u, SIO_VTD_REG_GSTS);
    uint64_t st = atomic_load_explicit(&ir->state, memory_order_relaxed);
    uint32_t sts = (uint32_t)gs->val;
    if (cmd & SIO_VTD_GCMD_SIRTP) {
        uint64_t irta = vtd_reg_get(u, SIO_VTD_REG_IRTA);
        st = (st & (ST_IRES | ST_CFIS)) |
             (irta & (sio_mask64(63, 12) | sio_mask64(11, 11) | sio_mask64(3, 0)));
        sts |= SIO_VTD_GSTS_IRTPS;
    }
    if ((cmd ^ sts) & SIO_VTD_GCMD_IRE) {
        sts ^= SIO_VTD_GSTS_IRES;
        st ^= ST_IRES;
    }
    if ((cmd ^ sts) & SIO_VTD_GCMD_CFI) {
        sts ^= SIO_VTD_GSTS_CFIS;
        st ^= ST_CFIS;
    }
    gs->val = sts;
    atomic_store_explicit(&ir->state, st, memory_order_release);
}

/* ---- module --------------------------------------------------------------------------------- */

static void ir_caps(struct sio_vtd *u, uint64_t features, uint64_t *cap, uint64_t *ecap)
{
    (void)u;
    (void)cap;
    if (!(features & SIO_VTD_F_IR))
        return;
    *ecap = sio_set64(*ecap, SIO_VTD_ECAP_IR, 1);
    *ecap = sio_set64(*ecap, SIO_VTD_ECAP_EIM, (features & SIO_VTD_F_EIM) != 0);
    *ecap = sio_set64(*ecap, SIO_VTD_ECAP_MHMV, IR_MHMV);
}

static int ir_init(struct sio_vtd *u)
{
    struct vtd_ir *ir = aligned_alloc(64, (sizeof(*ir) + 63) & ~(size_t)63);
    if (!ir)
        return SIO_ENOMEM;
    memset(ir, 0, sizeof(*ir));
    u->mod[VTD_MOD_ir] = ir;
    if (!(u->features & SIO_VTD_F_EIM)) /* EIME is reserved without ECAP.EIM */
        vtd_reg_at(u, SIO_VTD_REG_IRTA)->rw &= ~sio_mask64(11, 11);
    return iec_init(ir, u->cfg.iec_entries);
}

static void ir_fini(struct sio_vtd *u)
{
    struct vtd_ir *ir = VTD_IR(u);
    if (ir)
        free(ir->sets);
    free(ir);
    u->mod[VTD_MOD_ir] = NULL;
}

static void ir_reset(struct sio_vtd *u)
{
    struct vtd_ir *ir = VTD_IR(u);
    atomic_store(&ir->state, 0);
    vtd_ir_inv_iec(u, 1, 0, 0);
#define Z(n) atomic_store_explicit(&ir->n, 0, memory_order_relaxed);
    Z(remapped) Z(compat) Z(blocked) Z(hits) Z(misses) Z(evictions) Z(inv_global) Z(inv_index)
#undef Z
}

void vtd_ir_stats(struct sio_vtd *u, struct sio_vtd_ext_stats *s)
{
    struct vtd_ir *ir = VTD_IR(u);
    if (!ir)
        return;
#define L(n) atomic_load_explicit(&ir->n, memory_order_relaxed)
    s->msi_remapped = L(remapped);
    s->msi_compat = L(compat);
    s->msi_blocked = L(blocked);
    s->iec_hits = L(hits);
    s->iec_misses = L(misses);
    s->iec_evictions = L(evictions);
    s->iec_inv_global = L(inv_global);
    s->iec_inv_index = L(inv_index);
#undef L
    s->iec_capacity = (uint64_t)ir->nsets * IEC_WAYS;
}

const struct vtd_module vtd_module_ir = {
    .name = "ir",
    .features = SIO_VTD_F_IR | SIO_VTD_F_EIM,
    .caps = ir_caps,
    .regs = ir_regs,
    .nregs = 1,
    .init = ir_init,
    .fini = ir_fini,
    .reset = ir_reset,
    .gcmd_bits = SIO_VTD_GCMD_IRE | SIO_VTD_GCMD_SIRTP | SIO_VTD_GCMD_CFI,
    .gcmd = ir_gcmd,
    .msi = ir_msi,
};

/* ---- format helpers (VT-d 6) ---------------------------------------------------------------- */

uint64_t sio_vtd_ioapic_rte(uint16_t index, uint8_t vector, int level, int active_low, int masked)
{
    uint64_t r = 0;
    r = sio_set64(r, SIO_VTD_RTE_VECTOR, vector);
    r = sio_set64(r, SIO_VTD_RTE_INDEX_HI, index >> 15);
    r = sio_set64(r, SIO_VTD_RTE_POLARITY, active_low ? 1 : 0);
    r = sio_set64(r, SIO_VTD_RTE_TRIGGER, level ? 1 : 0);
    r = sio_set64(r, SIO_VTD_RTE_MASK, masked ? 1 : 0);
    r = sio_set64(r, SIO_VTD_RTE_FORMAT, 1);
    r = sio_set64(r, SIO_VTD_RTE_INDEX_LO, index & 0x7FFF);
    return r;
}

void sio_vtd_msi_remappable(uint16_t handle, int shv, uint16_t subhandle, uint64_t *addr,
                            uint32_t *data)
{
    uint64_t a = SIO_VTD_MSI_ADDR_BASE;
    a = sio_set64(a, SIO_VTD_MSI_HANDLE_LO, handle & 0x7FFF);
    a = sio_set64(a, SIO_VTD_MSI_FORMAT, 1);
    a = sio_set64(a, SIO_VTD_MSI_SHV, shv ? 1 : 0);
    a = sio_set64(a, SIO_VTD_MSI_HANDLE_HI, handle >> 15);
    *addr = a;
    *data = shv ? subhandle : 0;
}

void sio_vtd_ioapic_rte_msi(uint64_t rte, uint64_t *addr, uint32_t *data)
{
    uint16_t index = (uint16_t)(sio_get64(rte, SIO_VTD_RTE_INDEX_LO) |
                                (sio_get64(rte, SIO_VTD_RTE_INDEX_HI) << 15));
    sio_vtd_msi_remappable(index, 0, 0, addr, data);
    uint32_t d = (uint32_t)sio_get64(rte, SIO_VTD_RTE_VECTOR);
    d = (uint32_t)sio_set64(d, SIO_VTD_MSI_D_TM, sio_get64(rte, SIO_VTD_RTE_TRIGGER));
    *data = d;
}

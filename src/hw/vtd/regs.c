/* The VT-d register file (VT-d 1), described as data: every row gives its offset, width,
 * reset value and which bits are read-write, write-1-to-clear or read-only; behaviour beyond
 * the masks (commands, invalidations, status) lives in small per-row write hooks.
 *
 * Access rules: 4- and 8-byte accesses at 4-byte-aligned offsets. A 4-byte access to a
 * 64-bit register touches one half; an 8-byte access that does not start a 64-bit register is
 * split into two 4-byte accesses (low, then high). Offsets that name no register read 0 and
 * ignore writes, as do misaligned offsets and other sizes. */
#include "vtd_internal.h"

/* ---- hooks ------------------------------------------------------------------------------ */

/* GCMD (VT-d 1): one command per write in principle, but a driver that writes
 * GSTS | bit (re-issuing the one-shot bits every time) must work too: level bits (TE and
 * module-owned QIE/IRE/CFI) act only on a change, one-shot bits (SRTP, WBF, SIRTP) act every
 * time they are written as 1, which for SRTP re-latches the same RTADDR and for WBF is a
 * harmless flush. */
static void gcmd_write(struct sio_vtd *u, struct vtd_reg *r, uint64_t old, uint64_t written,
                       uint64_t bytes, struct vtd_ev *ev)
{
    (void)old;
    (void)bytes;
    uint32_t cmd = (uint32_t)written;
    struct vtd_reg *gs = vtd_reg_at(u, SIO_VTD_REG_GSTS);
    uint32_t sts = (uint32_t)gs->val;
    r->val = 0; /* write-only: nothing is stored */
    /* SRTP first, so that TE set in the same write uses the newly latched table. */
    if (cmd & SIO_VTD_GCMD_SRTP) {
        uint64_t rta = vtd_reg_get(u, SIO_VTD_REG_RTADDR) & sio_mask64(63, 12);
        atomic_store_explicit(&u->root, rta, memory_order_release);
        sts |= SIO_VTD_GSTS_RTPS; /* latched at once: RTPS reads 1 from now on */
    }
    if ((cmd ^ sts) & SIO_VTD_GCMD_TE) {
        if (cmd & SIO_VTD_GCMD_TE)
            sts |= SIO_VTD_GSTS_TES;
        else
            sts &= ~SIO_VTD_GSTS_TES;
        atomic_store_explicit(&u->te, (cmd & SIO_VTD_GCMD_TE) ? 1u : 0u, memory_order_release);
    }
    if ((cmd & SIO_VTD_GCMD_WBF) && (u->features & SIO_VTD_F_RWBF)) {
        /* The model has no write buffer: the flush completes at once (WBFS never reads 1). */
        VTD_COUNT(u, wbf);
    }
    gs->val = sts;
    /* Bits owned by modules (QIE, IRE, SIRTP, CFI, ...). */
    (void)ev;
#define VTD_GCMD_MOD_(n)                                                                           \
    if (vtd_module_##n.gcmd && (u->features & vtd_module_##n.features) &&                          \
        (((cmd ^ (uint32_t)gs->val) | cmd) & vtd_module_##n.gcmd_bits))                            \
        vtd_module_##n.gcmd(u, cmd, ev);
    VTD_MODULES(VTD_GCMD_MOD_)
#undef VTD_GCMD_MOD_
}

/* CCMD (VT-d 1, 5): writing ICC=1 runs the context-cache invalidation at once; CAIG reports
 * the granularity performed and ICC reads 0 again. */
static void ccmd_write(struct sio_vtd *u, struct vtd_reg *r, uint64_t old, uint64_t written,
                       uint64_t bytes, struct vtd_ev *ev)
{
    (void)old;
    (void)ev;
    if (!(bytes & SIO_VTD_CCMD_ICC_BIT) || !(written & SIO_VTD_CCMD_ICC_BIT))
        return;
    uint64_t v = r->val;
    unsigned caig = 0;
    if (!atomic_load_explicit(&u->qie, memory_order_relaxed))
        caig = vtd_inv_context(
            u, (unsigned)sio_get64(v, SIO_VTD_CCMD_CIRG), (uint16_t)sio_get64(v, SIO_VTD_CCMD_DID),
            (uint16_t)sio_get64(v, SIO_VTD_CCMD_SID), (unsigned)sio_get64(v, SIO_VTD_CCMD_FM));
    if (!caig)
        VTD_COUNT(u, inv_rejected);
    v = sio_set64(v, SIO_VTD_CCMD_CAIG, caig);
    r->val = v & ~SIO_VTD_CCMD_ICC_BIT;
}

/* IOTLB register (VT-d 1, 5): writing IVT=1 runs the invalidation described by IIRG, DID and
 * (page-selective) the IVA register; IAIG reports what was done and IVT reads 0 again. */
static void iotlb_write(struct sio_vtd *u, struct vtd_reg *r, uint64_t old, uint64_t written,
                        uint64_t bytes, struct vtd_ev *ev)
{
    (void)old;
    (void)ev;
    if (!(bytes & SIO_VTD_IOTLB_IVT_BIT) || !(written & SIO_VTD_IOTLB_IVT_BIT))
        return;
    uint64_t v = r->val;
    uint64_t iva = vtd_reg_get(u, (uint32_t)SIO_VTD_IVA_OFF(VTD_IRO));
    unsigned iaig = 0;
    if (!atomic_load_explicit(&u->qie, memory_order_relaxed))
        iaig = vtd_inv_iotlb(u, (unsigned)sio_get64(v, SIO_VTD_IOTLB_IIRG),
                             (uint16_t)sio_get64(v, SIO_VTD_IOTLB_DID), iva & sio_mask64(63, 12),
                             (unsigned)sio_get64(iva, SIO_VTD_IVA_AM),
                             (unsigned)sio_get64(iva, SIO_VTD_IVA_IH));
    if (!iaig)
        VTD_COUNT(u, inv_rejected);
    v = sio_set64(v, SIO_VTD_IOTLB_IAIG, iaig);
    r->val = v & ~SIO_VTD_IOTLB_IVT_BIT;
}

static void fsts_write(struct sio_vtd *u, struct vtd_reg *r, uint64_t old, uint64_t written,
                       uint64_t bytes, struct vtd_ev *ev)
{
    (void)written;
    (void)bytes;
    vtd_fsts_cleared(u);
    /* Modules resume after their errors are cleared (QI: IQE/ITE). */
    uint32_t cleared = (uint32_t)(old & ~r->val);
    (void)cleared;
    (void)ev;
#define VTD_FSTS_MOD_(n)                                                                           \
    if (cleared && vtd_module_##n.fsts_cleared && (u->features & vtd_module_##n.features))         \
        vtd_module_##n.fsts_cleared(u, cleared, ev);
    VTD_MODULES(VTD_FSTS_MOD_)
#undef VTD_FSTS_MOD_
}

static void fectl_write(struct sio_vtd *u, struct vtd_reg *r, uint64_t old, uint64_t written,
                        uint64_t bytes, struct vtd_ev *ev)
{
    (void)r;
    (void)old;
    (void)written;
    (void)bytes;
    vtd_event_ctl_written(u, &vtd_fault_event, ev);
}

static void frcd_hi_write(struct sio_vtd *u, struct vtd_reg *r, uint64_t old, uint64_t written,
                          uint64_t bytes, struct vtd_ev *ev)
{
    (void)written;
    (void)bytes;
    if ((old ^ r->val) & (1ULL << 63))
        vtd_fault_records_changed(u, ev);
}

/* ---- the table ---------------------------------------------------------------------------- */

#define M32 0xFFFFFFFFULL
/* Masks of the command registers, from the field ranges of vtd_regs.h (tests check them). */
#define CCMD_RW_C  0x60000003FFFFFFFFULL /* 62:61 CIRG, 33:32 FM, 31:16 SID, 15:0 DID */
#define IOTLB_RW_C 0x3003FFFF00000000ULL /* 61:60 IIRG, 49 DR, 48 DW, 47:32 DID */
#define IVA_RW_C   0xFFFFFFFFFFFFF07FULL /* 63:12 ADDR, 6 IH, 5:0 AM */

const struct vtd_reg_def vtd_core_regs[] = {
    /* name      offset                 size wo reset  rw          w1c   hook */
    {"VER", SIO_VTD_REG_VER, 4, 0, VTD_VER, 0, 0, NULL},
    {"CAP", SIO_VTD_REG_CAP, 8, 0, 0, 0, 0, NULL},   /* reset: from the config */
    {"ECAP", SIO_VTD_REG_ECAP, 8, 0, 0, 0, 0, NULL}, /* reset: from the config */
    {"GCMD", SIO_VTD_REG_GCMD, 4, 1, 0, 0, 0, gcmd_write},
    {"GSTS", SIO_VTD_REG_GSTS, 4, 0, 0, 0, 0, NULL},
    /* TTM (11:10) is reserved without scalable mode: only the address is writable. */
    {"RTADDR", SIO_VTD_REG_RTADDR, 8, 0, 0, 0xFFFFFFFFFFFFF000ULL, 0, NULL},
    {"CCMD", SIO_VTD_REG_CCMD, 8, 0, 0, CCMD_RW_C, 0, ccmd_write},
    /* PFO and the queued-invalidation errors are RW1C; PPF and FRI are computed. */
    {"FSTS", SIO_VTD_REG_FSTS, 4, 0, 0, 0,
     SIO_VTD_FSTS_PFO | SIO_VTD_FSTS_IQE | SIO_VTD_FSTS_ICE | SIO_VTD_FSTS_ITE, fsts_write},
    {"FECTL", SIO_VTD_REG_FECTL, 4, 0, SIO_VTD_FECTL_IM, SIO_VTD_FECTL_IM, 0, fectl_write},
    /* FEDATA 31:16 (EIMD) is reserved without EIM. */
    {"FEDATA", SIO_VTD_REG_FEDATA, 4, 0, 0, 0xFFFF, 0, NULL},
    {"FEADDR", SIO_VTD_REG_FEADDR, 4, 0, 0, 0xFFFFFFFC, 0, NULL},
    {"FEUADDR", SIO_VTD_REG_FEUADDR, 4, 0, 0, M32, 0, NULL},
};
const unsigned vtd_core_nregs = sizeof(vtd_core_regs) / sizeof(vtd_core_regs[0]);

/* Rows the unit places itself (IRO and FRO decide their offsets). */
const struct vtd_reg_def vtd_iva_def = {"IVA", 0, 8, 0, 0, IVA_RW_C, 0, NULL};
const struct vtd_reg_def vtd_iotlb_def = {"IOTLB", 0, 8, 0, 0, IOTLB_RW_C, 0, iotlb_write};
const struct vtd_reg_def vtd_frcd_lo_def = {"FRCD_LO", 0, 8, 0, 0, 0, 0, NULL};
const struct vtd_reg_def vtd_frcd_hi_def = {"FRCD_HI", 0, 8, 0, 0, 0, 1ULL << 63, frcd_hi_write};

/* One-shot command bits, by row (VT-d 1): written as 1 they start something that completes at
 * once; they are never stored, so they read 0. GCMD's level bits (TE, QIE, IRE, CFI) are not
 * one-shot: their state shows in GSTS. */
static const struct {
    uint32_t off;
    uint64_t mask;
} vtd_oneshot_rows[] = {
    {SIO_VTD_REG_GCMD,
     SIO_VTD_GCMD_SRTP | SIO_VTD_GCMD_SFL | SIO_VTD_GCMD_WBF | SIO_VTD_GCMD_SIRTP},
    {SIO_VTD_REG_CCMD, SIO_VTD_CCMD_ICC_BIT},
};

uint64_t vtd_reg_oneshot(const struct vtd_reg_def *def, uint32_t off)
{
    if (def == &vtd_iotlb_def)
        return SIO_VTD_IOTLB_IVT_BIT;
    if (def < vtd_core_regs || def >= vtd_core_regs + vtd_core_nregs)
        return 0;
    for (size_t i = 0; i < sizeof(vtd_oneshot_rows) / sizeof(vtd_oneshot_rows[0]); i++)
        if (vtd_oneshot_rows[i].off == off)
            return vtd_oneshot_rows[i].mask;
    return 0;
}

/* ---- access engine ------------------------------------------------------------------------ */

struct vtd_reg *vtd_reg_at(struct sio_vtd *u, uint32_t off)
{
    if (off >= u->window || (off & 3))
        return NULL;
    unsigned s = u->slot[off / 4];
    if (!s || u->regs[s - 1].off != off)
        return NULL;
    return &u->regs[s - 1];
}

uint64_t vtd_reg_get(struct sio_vtd *u, uint32_t off)
{
    struct vtd_reg *r = vtd_reg_at(u, off);
    return r ? r->val : 0;
}

void vtd_reg_set(struct sio_vtd *u, uint32_t off, uint64_t val)
{
    struct vtd_reg *r = vtd_reg_at(u, off);
    if (r)
        r->val = val;
}

/* The row covering off (any byte of it), or NULL. */
static struct vtd_reg *reg_covering(struct sio_vtd *u, uint64_t off)
{
    if (off >= u->window)
        return NULL;
    unsigned s = u->slot[off / 4];
    return s ? &u->regs[s - 1] : NULL;
}

static uint32_t read32(struct sio_vtd *u, uint64_t off)
{
    struct vtd_reg *r = reg_covering(u, off);
    if (!r || r->def->wo)
        return 0;
    unsigned shift = (unsigned)(off - r->off) * 8;
    return (uint32_t)(r->val >> shift);
}

static void apply(struct sio_vtd *u, struct vtd_reg *r, uint64_t v, uint64_t bytes,
                  struct vtd_ev *ev)
{
    uint64_t old = r->val;
    uint64_t nv = (old & ~(r->rw & bytes)) | (v & r->rw & bytes);
    nv &= ~(v & r->w1c & bytes);
    nv &= ~r->oneshot;
    r->val = nv;
    if (r->def->write)
        r->def->write(u, r, old, v & bytes, bytes, ev);
}

static void write32(struct sio_vtd *u, uint64_t off, uint32_t v, struct vtd_ev *ev)
{
    struct vtd_reg *r = reg_covering(u, off);
    if (!r)
        return;
    unsigned shift = (unsigned)(off - r->off) * 8;
    apply(u, r, (uint64_t)v << shift, 0xFFFFFFFFULL << shift, ev);
}

uint64_t vtd_regs_read(struct sio_vtd *u, uint64_t off, unsigned size)
{
    if ((size != 4 && size != 8) || (off & 3) || off >= u->window)
        return 0;
    if (size == 4)
        return read32(u, off);
    struct vtd_reg *r = reg_covering(u, off);
    if (r && r->size == 8 && r->off == off)
        return r->def->wo ? 0 : r->val;
    return (uint64_t)read32(u, off) | ((uint64_t)read32(u, off + 4) << 32);
}

void vtd_regs_write(struct sio_vtd *u, uint64_t off, uint64_t val, unsigned size, struct vtd_ev *ev)
{
    if ((size != 4 && size != 8) || (off & 3) || off >= u->window)
        return;
    if (size == 4) {
        write32(u, off, (uint32_t)val, ev);
        return;
    }
    struct vtd_reg *r = reg_covering(u, off);
    if (r && r->size == 8 && r->off == off) {
        apply(u, r, val, ~0ULL, ev);
        return;
    }
    write32(u, off, (uint32_t)val, ev);
    write32(u, off + 4, (uint32_t)(val >> 32), ev);
}

/* VT-d driver: interrupt remapping (VT-d 6; registers VT-d 1; invalidation VT-d 5).
 *
 * The table: 2^(S+1) 128-bit IRTEs in physically contiguous pages of the driver's table range
 * (IRTA holds one base address), zeroed when taken. Enable, in Linux's order
 * (intel_setup_irq_remapping, iommu_set_irq_remapping, iommu_enable_irq_remapping):
 *   1. queued invalidation is on (bring-up enabled it; without ECAP.QI the unit is refused:
 *      the interrupt entry cache has no register interface);
 *   2. IRTA = base | EIME (x2APIC mode, when asked for and ECAP.EIM) | S;
 *   3. GCMD.SIRTP, poll GSTS.IRTPS;
 *   4. unless CAP.ESIRTPS, a global IEC invalidation through the queue (the unit may hold
 *      entries of an earlier table);
 *   5. GCMD.IRE, poll GSTS.IRES;
 *   6. if GSTS.CFIS (a firmware let compatibility-format interrupts through), clear CFI and
 *      poll until CFIS reads 0: with remapping on, only remappable interrupts are delivered.
 * GCMD is written one command at a time as (GSTS & 0x96FFFFFF) | bit, under the invalidation
 * lock so a concurrent write-buffer flush cannot write back a stale IRE.
 *
 * IRTEs are allocated from a bitmap, singly or as naturally aligned blocks of 2^k entries
 * (multi-MSI: the device adds the vector number as the subhandle, and one index-selective IEC
 * invalidation with IM=k covers the block, so k <= ECAP.MHMV). Every change of an entry is
 * followed by an index-selective IEC descriptor and a wait descriptor whose status write is
 * polled (Linux's qi_submit_sync): when a call returns, the unit uses the new entry.
 *
 * Writing an entry: a not-present entry gets its upper half first and its lower half, with the
 * present bit, last. A present entry whose upper half does not change is rewritten with one
 * 64-bit store of the lower half. A present entry whose upper half changes too is made not
 * present first, so the unit never walks a mix of old and new halves (an interrupt missing the
 * IEC in that window faults 0x22; Linux avoids that window with cmpxchg16b, which memory ops
 * cannot offer); the hypervisor never does this - it takes a fresh entry and releases the old.
 *
 * Lock order: ir_lock -> inval_lock. */
#include "vtd_drv_internal.h"

#include <softiommu/log.h>
#include <softiommu/vtd_ir.h>

#include <stdlib.h>
#include <string.h>

#define IR_DEFAULT_ENTRIES 256
#define IR_MAX_ENTRIES     65536

struct vtd_irq_remap {
    uint64_t base;    /* the table */
    unsigned npages;  /* table pages */
    unsigned entries; /* 2^(S+1) */
    unsigned s;       /* IRTA.S */
    int eime, pi;     /* x2APIC mode; the unit posts */
    unsigned mhmv;    /* largest IEC invalidation order */
    unsigned used;    /* entries allocated */
    uint64_t *map;    /* allocated entries */
    uint8_t *head;    /* at a block's first entry: its order + 1; else 0 */
};

/* ---- contiguous table pages --------------------------------------------------------------- */

/* Takes n physically contiguous pages of the table range (the lowest run free) and zeroes
 * them. The page stack is rebuilt without them: IRTA can hold only one base address. */
static int tbl_alloc_contig(struct sio_vtd_drv *d, unsigned n, uint64_t *pa)
{
    struct vtd_tbl *t = &d->tbl;
    uint8_t *free_pg = calloc(t->npages ? t->npages : 1, 1);
    if (!free_pg)
        return SIO_ENOMEM;
    pthread_mutex_lock(&t->lock);
    for (uint32_t i = 0; i < t->nfree; i++)
        free_pg[t->free_stack[i]] = 1;
    uint32_t run = 0, start = 0;
    int found = 0;
    for (uint32_t i = 0; i < t->npages && !found; i++) {
        run = free_pg[i] ? run + 1 : 0;
        if (run == n) {
            start = i + 1 - n;
            found = 1;
        }
    }
    if (found) {
        uint32_t k = 0;
        for (uint32_t i = 0; i < t->nfree; i++) {
            uint32_t p = t->free_stack[i];
            if (p < start || p >= start + n)
                t->free_stack[k++] = p;
        }
        t->nfree = k;
    }
    pthread_mutex_unlock(&t->lock);
    free(free_pg);
    if (!found)
        return SIO_ENOSPC;
    *pa = t->base + (uint64_t)start * VTD_PAGE;
    if (sio_mem_zero(&d->mem, *pa, (size_t)n * VTD_PAGE)) {
        for (unsigned i = 0; i < n; i++)
            vtd_tbl_free(d, *pa + (uint64_t)i * VTD_PAGE);
        return SIO_EFAULT;
    }
    return 0;
}

static void ir_release(struct sio_vtd_drv *d, struct vtd_irq_remap *ir)
{
    if (!ir)
        return;
    if (ir->base)
        for (unsigned i = 0; i < ir->npages; i++)
            vtd_tbl_free(d, ir->base + (uint64_t)i * VTD_PAGE);
    free(ir->map);
    free(ir->head);
    free(ir);
}

/* ---- GCMD under the invalidation lock ----------------------------------------------------- */

static int gcmd_level(struct sio_vtd_drv *d, uint32_t bit, int on)
{
    pthread_mutex_lock(&d->inval_lock);
    int rc = vtd_gcmd_level(d, bit, on);
    pthread_mutex_unlock(&d->inval_lock);
    return rc;
}

static int gcmd_oneshot(struct sio_vtd_drv *d, uint32_t bit)
{
    pthread_mutex_lock(&d->inval_lock);
    int rc = vtd_gcmd_oneshot(d, bit);
    pthread_mutex_unlock(&d->inval_lock);
    return rc;
}

/* ---- enable / disable --------------------------------------------------------------------- */

static int ir_refuse(const char *why)
{
    sio_logf(SIO_LOG_ERR, "DMAR-IR: cannot enable interrupt remapping: %s", why);
    return SIO_ENOTSUP;
}

int sio_vtd_drv_ir_enable(struct sio_vtd_drv *d, const struct sio_vtd_ir_config *cfg)
{
    if (!d)
        return SIO_EINVAL;
    unsigned entries = cfg && cfg->entries ? cfg->entries : IR_DEFAULT_ENTRIES;
    if (entries < 2 || entries > IR_MAX_ENTRIES || (entries & (entries - 1))) {
        sio_logf(SIO_LOG_ERR, "DMAR-IR: %u entries: need a power of two from 2 to %u", entries,
                 IR_MAX_ENTRIES);
        return SIO_EINVAL;
    }
    if (!sio_get64(d->ecap, SIO_VTD_ECAP_IR))
        return ir_refuse("the unit does not remap interrupts (ECAP.IR = 0)");
    if (!d->qi)
        return ir_refuse("no queued invalidation (ECAP.QI = 0): the interrupt entry cache can "
                         "only be invalidated through the queue");
    int want_x2 = cfg && cfg->x2apic;
    int eim = (int)sio_get64(d->ecap, SIO_VTD_ECAP_EIM);
    if (want_x2 && !eim)
        sio_logf(SIO_LOG_WARN, "DMAR-IR: x2APIC mode asked for, but the unit has no ECAP.EIM: "
                               "xAPIC mode (8-bit destinations)");
    pthread_mutex_lock(&d->ir_lock);
    if (d->ir) {
        pthread_mutex_unlock(&d->ir_lock);
        return SIO_EEXIST;
    }
    struct vtd_irq_remap *ir = calloc(1, sizeof(*ir));
    int rc = ir ? 0 : SIO_ENOMEM;
    if (!rc) {
        ir->entries = entries;
        ir->s = (unsigned)__builtin_ctz(entries) - 1;
        ir->eime = want_x2 && eim;
        ir->pi = (int)sio_get64(d->cap, SIO_VTD_CAP_PI);
        ir->mhmv = (unsigned)sio_get64(d->ecap, SIO_VTD_ECAP_MHMV);
        ir->npages = (unsigned)((16ULL * entries + VTD_PAGE - 1) / VTD_PAGE);
        ir->map = calloc((entries + 63) / 64, sizeof(uint64_t));
        ir->head = calloc(entries, 1);
        if (!ir->map || !ir->head)
            rc = SIO_ENOMEM;
    }
    /* A firmware (or an earlier owner) left remapping on: off first, as Linux does when it
     * does not take the old table over. */
    if (!rc && (vtd_rd32(d, SIO_VTD_REG_GSTS) & SIO_VTD_GSTS_IRES)) {
        sio_logf(SIO_LOG_WARN, "DMAR-IR: interrupt remapping was left enabled; disabling it");
        rc = gcmd_level(d, SIO_VTD_GCMD_IRE, 0);
    }
    if (!rc && (rc = tbl_alloc_contig(d, ir->npages, &ir->base)) != 0)
        sio_logf(SIO_LOG_ERR, "DMAR-IR: no %u contiguous table pages for %u IRTEs: %s", ir->npages,
                 entries, sio_strerror(rc));
    if (!rc) {
        /* VT-d 1 IRTA: 63:12 base, 11 EIME, 3:0 S. */
        uint64_t irta = ir->base & sio_mask64(63, 12);
        irta = sio_set64(irta, SIO_VTD_IRTA_EIME, (uint64_t)ir->eime);
        irta = sio_set64(irta, SIO_VTD_IRTA_S, ir->s);
        vtd_wr64(d, SIO_VTD_REG_IRTA, irta);
        rc = gcmd_oneshot(d, SIO_VTD_GCMD_SIRTP);
    }
    /* VT-d 5: after SIRTP, a global IEC invalidation, unless SIRTP already flushed it. */
    if (!rc && !sio_get64(d->cap, SIO_VTD_CAP_ESIRTPS))
        rc = vtd_inv_iec_global(d);
    if (!rc)
        rc = gcmd_level(d, SIO_VTD_GCMD_IRE, 1);
    if (!rc && (vtd_rd32(d, SIO_VTD_REG_GSTS) & SIO_VTD_GSTS_CFIS))
        rc = gcmd_level(d, SIO_VTD_GCMD_CFI, 0); /* block compatibility-format interrupts */
    if (rc) {
        if (vtd_rd32(d, SIO_VTD_REG_GSTS) & SIO_VTD_GSTS_IRES)
            gcmd_level(d, SIO_VTD_GCMD_IRE, 0);
        ir_release(d, ir);
        pthread_mutex_unlock(&d->ir_lock);
        sio_logf(SIO_LOG_ERR, "DMAR-IR: enabling interrupt remapping failed: %s", sio_strerror(rc));
        return rc;
    }
    d->ir = ir;
    pthread_mutex_unlock(&d->ir_lock);
    sio_logf(SIO_LOG_INFO, "DMAR-IR: Enabled IRQ remapping in %s mode (%u entries at 0x%llx%s)",
             ir->eime ? "x2apic" : "xapic", entries, (unsigned long long)ir->base,
             ir->pi ? ", posted interrupts" : "");
    return 0;
}

void sio_vtd_drv_ir_disable(struct sio_vtd_drv *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->ir_lock);
    struct vtd_irq_remap *ir = d->ir;
    if (ir) {
        /* IRE off, IRES polled; the next enable flushes whatever the IEC still holds. */
        gcmd_level(d, SIO_VTD_GCMD_IRE, 0);
        d->ir = NULL;
        ir_release(d, ir);
    }
    pthread_mutex_unlock(&d->ir_lock);
}

void vtd_ir_fini(struct sio_vtd_drv *d)
{
    sio_vtd_drv_ir_disable(d);
}

void sio_vtd_drv_ir_get_info(struct sio_vtd_drv *d, struct sio_vtd_ir_info *o)
{
    memset(o, 0, sizeof(*o));
    o->posted = (int)sio_get64(d->cap, SIO_VTD_CAP_PI) && sio_get64(d->ecap, SIO_VTD_ECAP_IR);
    o->esirtps = (int)sio_get64(d->cap, SIO_VTD_CAP_ESIRTPS);
    o->mhmv = (unsigned)sio_get64(d->ecap, SIO_VTD_ECAP_MHMV);
    pthread_mutex_lock(&d->ir_lock);
    if (d->ir) {
        o->enabled = 1;
        o->x2apic = d->ir->eime;
        o->entries = d->ir->entries;
        o->used = d->ir->used;
        o->table_pa = d->ir->base;
    }
    pthread_mutex_unlock(&d->ir_lock);
}

/* ---- allocation --------------------------------------------------------------------------- */

static int range_free(const uint64_t *map, unsigned first, unsigned n)
{
    for (unsigned i = first; i < first + n;) {
        if ((i & 63) == 0 && first + n - i >= 64) {
            if (map[i / 64])
                return 0;
            i += 64;
        } else {
            if (map[i / 64] & (1ULL << (i & 63)))
                return 0;
            i++;
        }
    }
    return 1;
}

static void range_set(uint64_t *map, unsigned first, unsigned n, int on)
{
    for (unsigned i = first; i < first + n; i++) {
        if (on)
            map[i / 64] |= 1ULL << (i & 63);
        else
            map[i / 64] &= ~(1ULL << (i & 63));
    }
}

int sio_vtd_drv_ir_alloc(struct sio_vtd_drv *d, unsigned count, uint16_t *index)
{
    if (!d || !index || !count || (count & (count - 1)))
        return SIO_EINVAL;
    unsigned order = (unsigned)__builtin_ctz(count);
    pthread_mutex_lock(&d->ir_lock);
    struct vtd_irq_remap *ir = d->ir;
    int rc = SIO_ENOSPC;
    if (!ir) {
        rc = SIO_ESTATE;
    } else if (order > ir->mhmv) {
        /* One IEC invalidation (IM <= MHMV) must cover the block (Linux refuses the same). */
        sio_logf(SIO_LOG_ERR,
                 "DMAR-IR: a block of %u IRTEs exceeds the unit's handle mask (MHMV %u)", count,
                 ir->mhmv);
        rc = SIO_EINVAL;
    } else if (count <= ir->entries) {
        for (unsigned i = 0; i + count <= ir->entries; i += count) {
            if (range_free(ir->map, i, count)) {
                range_set(ir->map, i, count, 1);
                ir->head[i] = (uint8_t)(order + 1);
                ir->used += count;
                *index = (uint16_t)i;
                rc = 0;
                break;
            }
        }
    }
    pthread_mutex_unlock(&d->ir_lock);
    return rc;
}

static int irte_read(struct sio_vtd_drv *d, uint16_t index, struct sio_u128 *e)
{
    uint64_t pa = d->ir->base + 16ULL * index;
    if (sio_mem_read64(&d->mem, pa, &e->lo) || sio_mem_read64(&d->mem, pa + 8, &e->hi))
        return SIO_EFAULT;
    return 0;
}

/* Writes one IRTE (see the top of the file for the order), ir_lock held. */
static int irte_write(struct sio_vtd_drv *d, uint16_t index, struct sio_u128 e)
{
    uint64_t pa = d->ir->base + 16ULL * index;
    struct sio_u128 old;
    if (irte_read(d, index, &old))
        return SIO_EFAULT;
    int rc = 0;
    if (!sio_get128(old, SIO_VTD_IRTE_P)) {
        rc = sio_mem_write64(&d->mem, pa + 8, e.hi) || sio_mem_write64(&d->mem, pa, e.lo);
    } else if (old.hi == e.hi) {
        rc = sio_mem_write64(&d->mem, pa, e.lo);
    } else {
        rc = sio_mem_write64(&d->mem, pa, sio_set64(old.lo, SIO_VTD_IRTE_P, 0)) ||
             sio_mem_write64(&d->mem, pa + 8, e.hi) || sio_mem_write64(&d->mem, pa, e.lo);
    }
    return rc ? SIO_EFAULT : 0;
}

/* The entry at index must be allocated; ir_lock held. */
static int allocated(struct vtd_irq_remap *ir, uint16_t index)
{
    return index < ir->entries && (ir->map[index / 64] & (1ULL << (index & 63)));
}

int sio_vtd_drv_ir_free(struct sio_vtd_drv *d, uint16_t index, unsigned count)
{
    if (!d || !count || (count & (count - 1)))
        return SIO_EINVAL;
    unsigned order = (unsigned)__builtin_ctz(count);
    pthread_mutex_lock(&d->ir_lock);
    struct vtd_irq_remap *ir = d->ir;
    int rc = 0;
    if (!ir)
        rc = SIO_ESTATE;
    else if (index >= ir->entries || ir->head[index] != order + 1)
        rc = SIO_ENOENT;
    for (unsigned i = 0; i < count && !rc; i++) {
        /* Present bit first (the low qword), then the rest: Linux's clear_entries. */
        uint64_t pa = ir->base + 16ULL * (index + i);
        if (sio_mem_write64(&d->mem, pa, 0) || sio_mem_write64(&d->mem, pa + 8, 0))
            rc = SIO_EFAULT;
    }
    if (!rc)
        rc = vtd_inv_iec_index(d, index, order);
    if (!rc) {
        range_set(ir->map, index, count, 0);
        ir->head[index] = 0;
        ir->used -= count;
    } else if (rc != SIO_ENOENT && rc != SIO_ESTATE) {
        /* The unit may still hold the entries: they stay allocated (and not present). */
        sio_logf(SIO_LOG_ERR, "DMAR-IR: releasing IRTE 0x%x failed (%s); entry kept", index,
                 sio_strerror(rc));
    }
    pthread_mutex_unlock(&d->ir_lock);
    return rc;
}

/* ---- programming -------------------------------------------------------------------------- */

static int source_ok(const struct sio_vtd_ir_source *s)
{
    return s->svt <= SIO_VTD_SVT_BUS && s->sq <= SIO_VTD_SQ_IGN_2_0 &&
           (s->svt != SIO_VTD_SVT_BUS || (s->sid >> 8) <= (s->sid & 0xFF));
}

/* VT-d 6: SID 79:64, SQ 81:80, SVT 83:82, in either format. */
static struct sio_u128 set_source(struct sio_u128 e, const struct sio_vtd_ir_source *s)
{
    e = sio_set128(e, SIO_VTD_IRTE_SID, s->sid);
    e = sio_set128(e, SIO_VTD_IRTE_SQ, s->svt == SIO_VTD_SVT_SID ? s->sq : 0);
    e = sio_set128(e, SIO_VTD_IRTE_SVT, s->svt);
    return e;
}

/* Writes the entry, then the index-selective IEC invalidation, ir_lock held. */
static int commit(struct sio_vtd_drv *d, uint16_t index, struct sio_u128 e)
{
    int rc = irte_write(d, index, e);
    if (!rc)
        rc = vtd_inv_iec_index(d, index, 0);
    return rc;
}

int sio_vtd_drv_ir_set_remap(struct sio_vtd_drv *d, uint16_t index,
                             const struct sio_vtd_irte_remap *r)
{
    if (!d || !r || !source_ok(&r->src))
        return SIO_EINVAL;
    /* VT-d 6: delivery modes 011 and 110 are reserved. */
    if (r->dlm > 7 || r->dlm == 3 || r->dlm == 6)
        return SIO_EINVAL;
    pthread_mutex_lock(&d->ir_lock);
    struct vtd_irq_remap *ir = d->ir;
    int rc = 0;
    if (!ir)
        rc = SIO_ESTATE;
    else if (!allocated(ir, index))
        rc = SIO_ENOENT;
    else if (!ir->eime && r->dest > 0xFF)
        rc = SIO_EINVAL; /* xAPIC: an 8-bit APIC id in DST 15:8, the rest reserved */
    if (!rc) {
        struct sio_u128 e = {0, 0};
        e = sio_set128(e, SIO_VTD_IRTE_P, 1);
        e = sio_set128(e, SIO_VTD_IRTE_FPD, r->fpd ? 1 : 0);
        e = sio_set128(e, SIO_VTD_IRTE_DM, r->logical ? 1 : 0);
        e = sio_set128(e, SIO_VTD_IRTE_RH, r->rh ? 1 : 0);
        e = sio_set128(e, SIO_VTD_IRTE_TM, r->level ? 1 : 0);
        e = sio_set128(e, SIO_VTD_IRTE_DLM, r->dlm);
        e = sio_set128(e, SIO_VTD_IRTE_IM, 0);
        e = sio_set128(e, SIO_VTD_IRTE_V, r->vector);
        if (ir->eime)
            e = sio_set128(e, SIO_VTD_IRTE_DST, r->dest);
        else
            e = sio_set128(e, SIO_VTD_IRTE_DST_XAPIC, r->dest);
        e = set_source(e, &r->src);
        rc = commit(d, index, e);
    }
    pthread_mutex_unlock(&d->ir_lock);
    return rc;
}

int sio_vtd_drv_ir_set_posted(struct sio_vtd_drv *d, uint16_t index,
                              const struct sio_vtd_irte_post *p)
{
    if (!d || !p || !source_ok(&p->src) || (p->pda & 63) || p->pda >= (1ULL << 52))
        return SIO_EINVAL;
    pthread_mutex_lock(&d->ir_lock);
    struct vtd_irq_remap *ir = d->ir;
    int rc = 0;
    if (!ir)
        rc = SIO_ESTATE;
    else if (!ir->pi)
        rc = SIO_ENOTSUP; /* posted format needs CAP.PI (reserved bits otherwise: 0x24) */
    else if (!allocated(ir, index))
        rc = SIO_ENOENT;
    if (!rc) {
        /* VT-d 6 posted format: P, FPD, URG 14, IM 15 = 1, VV 23:16, PDA[31:6] 63:38,
         * PDA[63:32] 127:96; 7:2 (no DM/RH/TM/DLM) stay 0. */
        struct sio_u128 e = {0, 0};
        e = sio_set128(e, SIO_VTD_IRTE_P, 1);
        e = sio_set128(e, SIO_VTD_IRTE_FPD, p->fpd ? 1 : 0);
        e = sio_set128(e, SIO_VTD_PIRTE_URG, p->urgent ? 1 : 0);
        e = sio_set128(e, SIO_VTD_IRTE_IM, 1);
        e = sio_set128(e, SIO_VTD_PIRTE_VV, p->vvector);
        e = sio_set128(e, SIO_VTD_PIRTE_PDA_LO, (p->pda >> 6) & 0x3FFFFFF);
        e = sio_set128(e, SIO_VTD_PIRTE_PDA_HI, p->pda >> 32);
        e = set_source(e, &p->src);
        rc = commit(d, index, e);
    }
    pthread_mutex_unlock(&d->ir_lock);
    return rc;
}

int sio_vtd_drv_ir_msi(struct sio_vtd_drv *d, uint16_t index, unsigned n, uint64_t *addr,
                       uint32_t *data)
{
    if (!d || !addr || !data)
        return SIO_EINVAL;
    pthread_mutex_lock(&d->ir_lock);
    struct vtd_irq_remap *ir = d->ir;
    int rc = 0;
    if (!ir)
        rc = SIO_ESTATE;
    else if (index >= ir->entries || !ir->head[index] || n >= (1u << (ir->head[index] - 1)))
        rc = SIO_EINVAL;
    pthread_mutex_unlock(&d->ir_lock);
    if (rc)
        return rc;
    /* Linux's MSI composition: handle = the block's first index, SHV = 1, subhandle = n. */
    sio_vtd_msi_remappable(index, 1, (uint16_t)n, addr, data);
    return 0;
}

int sio_vtd_ir_msi_index(uint64_t addr, uint32_t data, uint16_t *index)
{
    if (!index || (addr >> 20) != (SIO_VTD_MSI_ADDR_BASE >> 20) ||
        !sio_get64(addr, SIO_VTD_MSI_FORMAT))
        return SIO_EINVAL;
    uint32_t i = (uint32_t)(sio_get64(addr, SIO_VTD_MSI_HANDLE_LO) |
                            sio_get64(addr, SIO_VTD_MSI_HANDLE_HI) << 15);
    if (sio_get64(addr, SIO_VTD_MSI_SHV))
        i += (uint32_t)sio_get64(data, SIO_VTD_MSI_SUBHANDLE);
    if (i > 0xFFFF)
        return SIO_EINVAL;
    *index = (uint16_t)i;
    return 0;
}

/* One VT-d remapping unit: creation from struct sio_vtd_config (which features are
 * advertised in CAP/ECAP, VT-d 1), the register window, reset, the MMIO entry points and
 * the counters. */
#include "vtd_internal.h"

#include <softiommu/err.h>
#include <softiommu/log.h>
#include <softiommu/vtd_driver.h>

#include <stdlib.h>
#include <string.h>

static const struct vtd_module *const vtd_modules[] = {
#define VTD_MOD_PTR_(n) &vtd_module_##n,
    VTD_MODULES(VTD_MOD_PTR_)
#undef VTD_MOD_PTR_
        NULL};

/* ---- capabilities --------------------------------------------------------------------------- */

static uint64_t implemented_features(void)
{
    uint64_t f = VTD_CORE_FEATURES;
    for (const struct vtd_module *const *m = vtd_modules; *m; m++)
        f |= (*m)->features;
    return f;
}

static void compute_caps(struct sio_vtd *u, unsigned aw_bits)
{
    uint64_t f = u->features, cap = 0, ecap = 0;
    cap = sio_set64(cap, SIO_VTD_CAP_ND, VTD_ND);
    cap = sio_set64(cap, SIO_VTD_CAP_RWBF, (f & SIO_VTD_F_RWBF) != 0);
    cap = sio_set64(cap, SIO_VTD_CAP_CM, (f & SIO_VTD_F_CM) != 0);
    /* SAGAW bit n = AW value n: 39-bit is 1, 48-bit 2, 57-bit 3 (VT-d 1, 2). */
    unsigned sagaw = 1u << 1;
    if (aw_bits >= 48)
        sagaw |= 1u << 2;
    if (aw_bits >= 57)
        sagaw |= 1u << 3;
    u->sagaw = sagaw;
    cap = sio_set64(cap, SIO_VTD_CAP_SAGAW, sagaw);
    cap = sio_set64(cap, SIO_VTD_CAP_MGAW, aw_bits - 1);
    cap = sio_set64(cap, SIO_VTD_CAP_ZLR, (f & SIO_VTD_F_ZLR) != 0);
    cap = sio_set64(cap, SIO_VTD_CAP_FRO, VTD_FRO);
    unsigned sllps = 0;
    if (f & SIO_VTD_F_SP2M)
        sllps |= SIO_VTD_SLLPS_2M;
    if (f & SIO_VTD_F_SP1G)
        sllps |= SIO_VTD_SLLPS_1G;
    u->sllps = sllps;
    cap = sio_set64(cap, SIO_VTD_CAP_SLLPS, sllps);
    cap = sio_set64(cap, SIO_VTD_CAP_PSI, (f & SIO_VTD_F_PSI) != 0);
    cap = sio_set64(cap, SIO_VTD_CAP_NFR, u->nfr - 1);
    if (f & SIO_VTD_F_PSI)
        cap = sio_set64(cap, SIO_VTD_CAP_MAMV, VTD_MAMV);
    ecap = sio_set64(ecap, SIO_VTD_ECAP_C, (f & SIO_VTD_F_C) != 0);
    ecap = sio_set64(ecap, SIO_VTD_ECAP_PT, (f & SIO_VTD_F_PT) != 0);
    ecap = sio_set64(ecap, SIO_VTD_ECAP_SC, (f & SIO_VTD_F_SC) != 0);
    ecap = sio_set64(ecap, SIO_VTD_ECAP_IRO, VTD_IRO);
    for (const struct vtd_module *const *m = vtd_modules; *m; m++)
        if ((*m)->caps && (f & (*m)->features))
            (*m)->caps(u, f, &cap, &ecap);
    u->cap = cap;
    u->ecap = ecap;
}

static void compute_rsvd(struct sio_vtd *u)
{
    uint64_t addr = u->haw < 52 ? sio_mask64(51, u->haw) : 0;
    uint64_t snp = SIO_VTD_SL_SNP, tm = SIO_VTD_SL_TM;
    uint64_t leaf =
        addr | ((u->features & SIO_VTD_F_SC) ? 0 : snp) | ((u->features & SIO_VTD_F_DT) ? 0 : tm);
    uint64_t nonleaf = addr | snp | tm;
    memset(u->rsvd, 0, sizeof(u->rsvd));
    u->rsvd[1][1] = leaf;
    u->rsvd[2][0] = nonleaf;
    u->rsvd[2][1] = leaf | sio_mask64(20, 12);
    u->rsvd[3][0] = nonleaf;
    u->rsvd[3][1] = leaf | sio_mask64(29, 12);
    u->rsvd[4][0] = nonleaf | SIO_VTD_SL_PS;
    u->rsvd[5][0] = nonleaf | SIO_VTD_SL_PS;
}

/* ---- register window ------------------------------------------------------------------------ */

static void add_row(struct sio_vtd *u, const struct vtd_reg_def *def, uint32_t off, unsigned index)
{
    struct vtd_reg *r = &u->regs[u->nregs++];
    r->def = def;
    r->off = off;
    r->size = def->size;
    r->index = (uint16_t)index;
    r->reset = def->reset;
    r->rw = def->rw;
    r->w1c = def->w1c;
    r->oneshot = vtd_reg_oneshot(def, off);
    r->val = def->reset;
}

static int build_regs(struct sio_vtd *u)
{
    unsigned n = vtd_core_nregs + 2 + 2 * u->nfr;
    for (const struct vtd_module *const *m = vtd_modules; *m; m++)
        if (u->features & (*m)->features)
            n += (*m)->nregs;
    u->regs = calloc(n, sizeof(*u->regs));
    if (!u->regs)
        return SIO_ENOMEM;
    for (unsigned i = 0; i < vtd_core_nregs; i++)
        add_row(u, &vtd_core_regs[i], vtd_core_regs[i].off, 0);
    add_row(u, &vtd_iva_def, (uint32_t)SIO_VTD_IVA_OFF(VTD_IRO), 0);
    add_row(u, &vtd_iotlb_def, (uint32_t)SIO_VTD_IOTLB_OFF(VTD_IRO), 0);
    unsigned first_frcd = u->nregs;
    for (unsigned i = 0; i < u->nfr; i++) {
        add_row(u, &vtd_frcd_lo_def, (uint32_t)SIO_VTD_FRCD_OFF(VTD_FRO, i), i);
        add_row(u, &vtd_frcd_hi_def, (uint32_t)SIO_VTD_FRCD_OFF(VTD_FRO, i) + 8, i);
    }
    u->frcd = &u->regs[first_frcd];
    for (const struct vtd_module *const *m = vtd_modules; *m; m++)
        if (u->features & (*m)->features)
            for (unsigned i = 0; i < (*m)->nregs; i++)
                add_row(u, &(*m)->regs[i], (*m)->regs[i].off, 0);
    uint32_t end = 0;
    for (unsigned i = 0; i < u->nregs; i++) {
        struct vtd_reg *r = &u->regs[i];
        if (r->off + r->size > end)
            end = r->off + r->size;
        if (i < vtd_core_nregs && r->off == SIO_VTD_REG_CAP)
            r->reset = r->val = u->cap;
        if (i < vtd_core_nregs && r->off == SIO_VTD_REG_ECAP)
            r->reset = r->val = u->ecap;
    }
    u->window = (end + 4095) & ~4095u;
    u->slot = calloc(u->window / 4, sizeof(*u->slot));
    if (!u->slot)
        return SIO_ENOMEM;
    for (unsigned i = 0; i < u->nregs; i++) {
        struct vtd_reg *r = &u->regs[i];
        for (uint32_t o = r->off; o < r->off + r->size; o += 4) {
            if (u->slot[o / 4]) {
                sio_logf(SIO_LOG_ERR, "vtd: register %s at 0x%x overlaps %s", r->def->name, r->off,
                         u->regs[u->slot[o / 4] - 1].def->name);
                return SIO_EEXIST;
            }
            u->slot[o / 4] = (uint16_t)(i + 1);
        }
    }
    return 0;
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

void sio_vtd_destroy(struct sio_vtd *u)
{
    if (!u)
        return;
    for (const struct vtd_module *const *m = vtd_modules; *m; m++)
        if ((*m)->fini && (u->features & (*m)->features))
            (*m)->fini(u);
    vtd_cache_fini(&u->ctxc);
    vtd_cache_fini(&u->iotlb);
    vtd_cache_fini(&u->psc);
    free(u->slot);
    free(u->regs);
    pthread_mutex_destroy(&u->didmap.lock);
    pthread_mutex_destroy(&u->lock);
    free(u);
}

static unsigned cache_size(unsigned v, unsigned def)
{
    return v ? v : def;
}

struct sio_vtd *sio_vtd_create(const struct sio_vtd_config *cfg, const struct sio_mem_ops *mem,
                               void *mem_ctx, const struct sio_irq_ops *irq, void *irq_ctx)
{
    static const struct sio_vtd_config zero;
    if (!cfg)
        cfg = &zero;
    if (!mem || !mem->read || !mem->write)
        return NULL;
    unsigned aw = cfg->aw_bits ? cfg->aw_bits : 48;
    unsigned nfr = cfg->nfr ? cfg->nfr : 8;
    if ((aw != 39 && aw != 48 && aw != 57) || nfr > 256)
        return NULL;
    unsigned haw = cfg->haw_bits ? cfg->haw_bits : (aw < 52 ? aw : 52);
    if (haw < 32 || haw > 52)
        return NULL;
    uint64_t req = cfg->features;
    if (req & SIO_VTD_F_EXPLICIT)
        req &= ~SIO_VTD_F_EXPLICIT;
    else if (!req)
        req = SIO_VTD_F_DEFAULT;

    struct sio_vtd *u = aligned_alloc(128, (sizeof(struct sio_vtd) + 127) & ~(size_t)127);
    if (!u)
        return NULL;
    memset(u, 0, sizeof(*u));
    if (pthread_mutex_init(&u->lock, NULL)) {
        free(u);
        return NULL;
    }
    if (pthread_mutex_init(&u->didmap.lock, NULL)) {
        pthread_mutex_destroy(&u->lock);
        free(u);
        return NULL;
    }
    u->mem.ops = mem;
    u->mem.ctx = mem_ctx;
    u->mem_ptr = mem->ptr;
    u->irq = irq;
    u->irq_ctx = irq_ctx;
    /* Only what is implemented is advertised; 1 GiB pages need 2 MiB ones (SLLPS 0011). */
    u->features = req & implemented_features();
    if (!(u->features & SIO_VTD_F_SP2M))
        u->features &= ~SIO_VTD_F_SP1G;
    /* ECAP dependencies (VT-d 1): QI=0 forces DT and IR off; IR=0 forces EIM and PI off. */
    if (!(u->features & SIO_VTD_F_QI))
        u->features &= ~(SIO_VTD_F_DT | SIO_VTD_F_IR);
    if (!(u->features & SIO_VTD_F_IR))
        u->features &= ~(SIO_VTD_F_EIM | SIO_VTD_F_PI);
    u->cfg = *cfg;
    u->mgaw = aw;
    u->haw = haw;
    u->haw_mask = sio_mask64(haw - 1, 12);
    u->nfr = nfr;
    u->cm = (u->features & SIO_VTD_F_CM) != 0;
    compute_caps(u, aw);
    compute_rsvd(u);
    int rc = build_regs(u);
    if (!rc)
        rc = vtd_cache_init(&u->ctxc, cache_size(cfg->ctx_entries, 256), 0);
    if (!rc)
        rc = vtd_cache_init(&u->iotlb, cache_size(cfg->iotlb_entries, 1024), 3);
    if (!rc)
        rc = vtd_cache_init(&u->psc, cache_size(cfg->psc_entries, 512), 7);
    for (const struct vtd_module *const *m = vtd_modules; *m && !rc; m++)
        if ((*m)->init && (u->features & (*m)->features))
            rc = (*m)->init(u);
    if (rc) {
        sio_vtd_destroy(u);
        return NULL;
    }
    return u;
}

void sio_vtd_reset(struct sio_vtd *u)
{
    pthread_mutex_lock(&u->lock);
    for (unsigned i = 0; i < u->nregs; i++)
        u->regs[i].val = u->regs[i].reset;
    u->fault_next = 0;
    atomic_store(&u->te, 0);
    atomic_store(&u->root, 0);
    atomic_store(&u->qie, 0);
    vtd_didmap_reset(u); /* before the generation moves: see vtd_didmap */
    atomic_fetch_add(&u->inv_gen, 1);
    vtd_cache_clear(&u->ctxc);
    vtd_cache_clear(&u->iotlb);
    vtd_cache_clear(&u->psc);
    for (unsigned i = 0; i < VTD_STRIPES; i++) {
#define VTD_STRIPE_ZERO_(n) atomic_store(&u->stripe[i].n, 0);
        VTD_STRIPE_COUNTERS(VTD_STRIPE_ZERO_)
#undef VTD_STRIPE_ZERO_
    }
#define VTD_CTR_ZERO_(n) atomic_store(&u->ctr.n, 0);
    VTD_COUNTERS(VTD_CTR_ZERO_)
#undef VTD_CTR_ZERO_
    for (const struct vtd_module *const *m = vtd_modules; *m; m++)
        if ((*m)->reset && (u->features & (*m)->features))
            (*m)->reset(u);
    pthread_mutex_unlock(&u->lock);
}

/* ---- MMIO ----------------------------------------------------------------------------------- */

uint64_t sio_vtd_mmio_read(struct sio_vtd *u, uint64_t offset, unsigned size)
{
    struct vtd_ev ev = {0};
    pthread_mutex_lock(&u->lock);
    for (const struct vtd_module *const *m = vtd_modules; *m; m++)
        if ((*m)->poll && (u->features & (*m)->features))
            (*m)->poll(u, &ev); /* time-outs become visible to a polling driver */
    uint64_t v = vtd_regs_read(u, offset, size);
    pthread_mutex_unlock(&u->lock);
    vtd_ev_flush(u, &ev);
    return v;
}

void vtd_modules_deferred(struct sio_vtd *u)
{
    for (const struct vtd_module *const *m = vtd_modules; *m; m++)
        if ((*m)->deferred && (u->features & (*m)->features))
            (*m)->deferred(u);
}

void sio_vtd_mmio_write(struct sio_vtd *u, uint64_t offset, uint64_t value, unsigned size)
{
    struct vtd_ev ev = {0};
    pthread_mutex_lock(&u->lock);
    vtd_regs_write(u, offset, value, size, &ev);
    pthread_mutex_unlock(&u->lock);
    vtd_ev_flush(u, &ev);
}

static uint64_t ops_read(void *ctx, uint64_t offset, unsigned size)
{
    return sio_vtd_mmio_read(ctx, offset, size);
}

static void ops_write(void *ctx, uint64_t offset, uint64_t value, unsigned size)
{
    sio_vtd_mmio_write(ctx, offset, value, size);
}

static const struct sio_mmio_ops vtd_mmio_ops = {ops_read, ops_write};

const struct sio_mmio_ops *sio_vtd_mmio_ops(void)
{
    return &vtd_mmio_ops;
}

/* ---- interrupts ----------------------------------------------------------------------------- */

int sio_vtd_msi(struct sio_vtd *u, uint16_t sid, uint64_t addr, uint32_t data, struct sio_irq *out)
{
    for (const struct vtd_module *const *m = vtd_modules; *m; m++)
        if ((*m)->msi && (u->features & (*m)->features))
            return (*m)->msi(u, sid, addr, data, out);
    /* No interrupt remapping: the request passes as a compatibility-format MSI. */
    if ((addr >> 20) != (SIO_VTD_MSI_ADDR_BASE >> 20))
        return SIO_EINVAL;
    out->vector = data & 0xff;
    out->dest = (uint32_t)((addr >> 12) & 0xff);
    out->flags = 0;
    return 0;
}

/* ---- counters ------------------------------------------------------------------------------- */

void sio_vtd_get_stats(struct sio_vtd *u, struct sio_vtd_stats *s)
{
    memset(s, 0, sizeof(*s));
    struct {
#define VTD_STRIPE_SUM_FIELD_(n) uint64_t n;
        VTD_STRIPE_COUNTERS(VTD_STRIPE_SUM_FIELD_)
#undef VTD_STRIPE_SUM_FIELD_
    } t = {0};
    for (unsigned i = 0; i < VTD_STRIPES; i++) {
#define VTD_STRIPE_SUM_(n) t.n += atomic_load_explicit(&u->stripe[i].n, memory_order_relaxed);
        VTD_STRIPE_COUNTERS(VTD_STRIPE_SUM_)
#undef VTD_STRIPE_SUM_
    }
#define L(n) atomic_load_explicit(&u->ctr.n, memory_order_relaxed)
    s->translations = t.hits + t.passthrough + t.translations_slow;
    s->passthrough = t.passthrough + t.passthrough_slow;
    s->iotlb_hits = t.hits + t.hits_slow;
    s->iotlb_misses = t.iotlb_misses;
    s->ctx_hits = t.passthrough + t.ctx_hits_slow; /* IOTLB hits need no context */
    s->ctx_misses = t.ctx_misses;
    s->psc_hits = t.psc_hits;
    s->psc_misses = t.psc_misses;
    s->walks = t.walks;
    s->faults = L(faults);
    s->faults_recorded = L(faults_recorded);
    s->faults_fpd = L(faults_fpd);
    s->faults_overflow = L(faults_overflow);
    s->fault_events = L(fault_events);
    s->inv_ctx_global = L(inv_ctx_global);
    s->inv_ctx_domain = L(inv_ctx_domain);
    s->inv_ctx_device = L(inv_ctx_device);
    s->inv_iotlb_global = L(inv_iotlb_global);
    s->inv_iotlb_domain = L(inv_iotlb_domain);
    s->inv_iotlb_page = L(inv_iotlb_page);
    s->inv_rejected = L(inv_rejected);
    s->wbf = L(wbf);
#undef L
    s->iotlb_evictions = t.iotlb_evictions;
    s->ctx_evictions = t.ctx_evictions;
    s->psc_evictions = t.psc_evictions;
    s->iotlb_capacity = vtd_cache_capacity(&u->iotlb);
    s->ctx_capacity = vtd_cache_capacity(&u->ctxc);
    s->psc_capacity = vtd_cache_capacity(&u->psc);
}

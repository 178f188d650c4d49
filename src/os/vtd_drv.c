/* VT-d driver: bring-up, fault servicing, domains, device attach/detach, pass-through.
 *
 * The driver programs a unit only through its sio_mmio_ops and the tables it writes through
 * sio_mem_ops, the way a kernel drives silicon, so it drives our model, another emulator or
 * real registers alike. Bring-up follows Linux (VT-d 1, 5):
 *   1. read VER, CAP, ECAP; refuse what we cannot drive (no SAGAW in 30..57 bits, reserved
 *      ND, no register layout, register invalidation gone (major >= 6) and no QI);
 *   2. pick the address width: the largest AW that SAGAW lists, up to 57 bits;
 *   3. if firmware left translation or the queue on, turn them off;
 *   4. queued invalidation on when ECAP.QI (IQT=0, IQA, QIE);
 *   5. a zeroed root table, RTADDR (legacy TTM=00), SRTP and wait for RTPS;
 *   6. unless CAP.ESRTPS: global context-cache, then global IOTLB invalidation;
 *   7. fault events: old records serviced, FEDATA/FEADDR/FEUADDR, FECTL.IM cleared;
 *   8. write-buffer flush when CAP.RWBF; translation enable (TE) last, wait for TES; then
 *      protected memory regions a firmware left on are turned off (PMEN.EPM, Linux).
 * From then on every device without a context entry is blocked (fault 0x1/0x2).
 *
 * Attach writes the context entry's upper half (AW, DID) and then the lower half with the
 * present bit: the unit never sees a present entry with a stale DID. Under CM=1 a new entry
 * is followed by a device-selective context-cache invalidation with DID 0 (the tag of
 * faulting translations) and a domain-selective IOTLB one (Linux); under CM=0 only a write-buffer
 * flush (RWBF). Detach clears the present bit first, then invalidates the context cache for
 * the device and then the IOTLB for the domain, in that order (VT-d 5: a context-cache
 * invalidation must be followed by an IOTLB one). DID 0 is never handed out. */
#include "vtd_drv_internal.h"

#include <softiommu/log.h>
#include <softiommu/pci.h>
#include <softiommu/vtd_ir.h>

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIN_TABLE_PAGES 8
#define DEFAULT_POLL    10000000u

/* ---- MMIO --------------------------------------------------------------------------------- */

uint32_t vtd_rd32(struct sio_vtd_drv *d, uint64_t off)
{
    return (uint32_t)d->mmio->read(d->mmio_ctx, off, 4);
}

uint64_t vtd_rd64(struct sio_vtd_drv *d, uint64_t off)
{
    return d->mmio->read(d->mmio_ctx, off, 8);
}

void vtd_wr32(struct sio_vtd_drv *d, uint64_t off, uint32_t v)
{
    d->mmio->write(d->mmio_ctx, off, v, 4);
}

void vtd_wr64(struct sio_vtd_drv *d, uint64_t off, uint64_t v)
{
    d->mmio->write(d->mmio_ctx, off, v, 8);
}

double vtd_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Reads a register of `size` bytes until (value & mask) == want, at most poll_limit + 1
 * times, yielding every 256 reads; *last gets the final value either way. */
static int vtd_poll(struct sio_vtd_drv *d, uint64_t off, unsigned size, uint64_t mask,
                    uint64_t want, uint64_t *last)
{
    uint64_t v = 0;
    int rc = SIO_ETIMEDOUT;
    for (unsigned i = 0; i <= d->poll_limit; i++) {
        v = size == 4 ? vtd_rd32(d, off) : vtd_rd64(d, off);
        if ((v & mask) == want) {
            rc = 0;
            break;
        }
        if ((i & 255) == 255)
            sched_yield();
    }
    if (last)
        *last = v;
    return rc;
}

int vtd_poll32(struct sio_vtd_drv *d, uint64_t off, uint32_t mask, uint32_t want, uint32_t *last)
{
    uint64_t v;
    int rc = vtd_poll(d, off, 4, mask, want, &v);
    if (last)
        *last = (uint32_t)v;
    return rc;
}

int vtd_poll64(struct sio_vtd_drv *d, uint64_t off, uint64_t mask, uint64_t want, uint64_t *last)
{
    return vtd_poll(d, off, 8, mask, want, last);
}

int vtd_gcmd_level(struct sio_vtd_drv *d, uint32_t bit, int on)
{
    uint32_t v = vtd_rd32(d, SIO_VTD_REG_GSTS) & SIO_VTD_GSTS_ONESHOT_MASK;
    v = on ? (v | bit) : (v & ~bit);
    vtd_wr32(d, SIO_VTD_REG_GCMD, v);
    uint32_t last;
    int rc = vtd_poll32(d, SIO_VTD_REG_GSTS, bit, on ? bit : 0, &last);
    if (rc)
        sio_logf(SIO_LOG_ERR, "DMAR: GCMD 0x%08x: status never followed (GSTS 0x%08x)", v, last);
    return rc;
}

int vtd_gcmd_oneshot(struct sio_vtd_drv *d, uint32_t bit)
{
    uint32_t v = (vtd_rd32(d, SIO_VTD_REG_GSTS) & SIO_VTD_GSTS_ONESHOT_MASK) | bit;
    vtd_wr32(d, SIO_VTD_REG_GCMD, v);
    uint32_t last;
    int rc;
    if (bit == SIO_VTD_GCMD_SRTP)
        rc = vtd_poll32(d, SIO_VTD_REG_GSTS, SIO_VTD_GSTS_RTPS, SIO_VTD_GSTS_RTPS, &last);
    else if (bit == SIO_VTD_GCMD_SIRTP)
        rc = vtd_poll32(d, SIO_VTD_REG_GSTS, SIO_VTD_GSTS_IRTPS, SIO_VTD_GSTS_IRTPS, &last);
    else /* WBF: busy while WBFS is set */
        rc = vtd_poll32(d, SIO_VTD_REG_GSTS, SIO_VTD_GSTS_WBFS, 0, &last);
    if (rc)
        sio_logf(SIO_LOG_ERR, "DMAR: GCMD 0x%08x never completed (GSTS 0x%08x)", v, last);
    return rc;
}

/* ---- faults ------------------------------------------------------------------------------- */

static void fault_count_inc(struct sio_vtd_drv *d, uint16_t sid)
{
    unsigned bus = sio_sid_bus(sid);
    if (!d->fault_count[bus])
        d->fault_count[bus] = calloc(256, sizeof(uint64_t));
    if (d->fault_count[bus])
        d->fault_count[bus][sio_sid_devfn(sid)]++;
}

int sio_vtd_drv_service_faults(struct sio_vtd_drv *d)
{
    if (!d)
        return SIO_EINVAL;
    pthread_mutex_lock(&d->fault_lock);
    uint32_t fsts = vtd_rd32(d, SIO_VTD_REG_FSTS);
    int n = 0;
    if (fsts & SIO_VTD_FSTS_PPF) {
        unsigned i = (unsigned)sio_get64(fsts, SIO_VTD_FSTS_FRI) % d->nfr;
        /* At most one pass over the records, starting at FRI (VT-d 1, Linux's loop). */
        for (unsigned k = 0; k < d->nfr; k++) {
            uint64_t off = d->fro_off + 16ULL * i;
            struct sio_u128 r;
            r.hi = vtd_rd64(d, off + 8);
            if (!sio_get128(r, SIO_VTD_FRCD_F))
                break;
            r.lo = vtd_rd64(d, off);
            struct sio_vtd_fault f;
            sio_vtd_fault_decode(r.hi, r.lo, &f);
            uint16_t sid = f.sid;
            char line[192];
            sio_vtd_fault_format(&f, d->opt.segment, line, sizeof(line));
            sio_logf(SIO_LOG_ERR, "%s", line);
            fault_count_inc(d, sid);
            n++;
            /* F is RW1C in the record's top dword (bit 127 = bit 31 at +12). */
            vtd_wr32(d, off + 12, 1u << 31);
            i = (i + 1) % d->nfr;
        }
    }
    if (fsts & SIO_VTD_FSTS_PFO)
        sio_logf(SIO_LOG_WARN, "DMAR: primary fault overflow: faults were dropped");
    vtd_wr32(d, SIO_VTD_REG_FSTS, SIO_VTD_FSTS_PFO | SIO_VTD_FSTS_PPF | SIO_VTD_FSTS_PRO);
    pthread_mutex_unlock(&d->fault_lock);
    atomic_fetch_add_explicit(&d->st_faults, (uint64_t)n, memory_order_relaxed);
    return n;
}

uint64_t sio_vtd_drv_fault_count(struct sio_vtd_drv *d, uint16_t sid)
{
    pthread_mutex_lock(&d->fault_lock);
    uint64_t *b = d->fault_count[sio_sid_bus(sid)];
    uint64_t n = b ? b[sio_sid_devfn(sid)] : 0;
    pthread_mutex_unlock(&d->fault_lock);
    return n;
}

/* ---- bring-up ----------------------------------------------------------------------------- */

static int refuse(const char *why, unsigned long long v)
{
    sio_logf(SIO_LOG_ERR, "DMAR: cannot drive this unit: %s (0x%llx)", why, v);
    return SIO_ENOTSUP;
}

static int decode_caps(struct sio_vtd_drv *d)
{
    d->ver = vtd_rd32(d, SIO_VTD_REG_VER);
    d->cap = vtd_rd64(d, SIO_VTD_REG_CAP);
    d->ecap = vtd_rd64(d, SIO_VTD_REG_ECAP);
    uint64_t cap = d->cap, ecap = d->ecap;
    if (cap == 0 || cap == ~0ULL)
        return refuse("no VT-d unit answers (CAP)", (unsigned long long)cap);
    /* VT-d 2: the largest AW SAGAW lists, up to 57 bits (Linux's default domain width). */
    unsigned sagaw = (unsigned)sio_get64(cap, SIO_VTD_CAP_SAGAW);
    int aw = -1;
    for (int a = 3; a >= 0; a--)
        if (sagaw & (1u << a)) {
            aw = a;
            break;
        }
    if (aw < 0)
        return refuse("SAGAW lists no 30/39/48/57-bit width", sagaw);
    d->aw = (unsigned)aw;
    d->sagaw = sagaw;
    d->levels = sio_vtd_aw_levels(d->aw);
    d->mgaw = (unsigned)sio_get64(cap, SIO_VTD_CAP_MGAW) + 1;
    if (d->mgaw < 30)
        return refuse("MGAW below 30 bits", d->mgaw);
    unsigned agaw = sio_vtd_aw_bits(d->aw);
    d->width = agaw < d->mgaw ? agaw : d->mgaw;
    unsigned nd = (unsigned)sio_get64(cap, SIO_VTD_CAP_ND);
    if (nd == 7)
        return refuse("reserved ND", nd);
    d->ndomains = 1u << (4 + 2 * nd);
    d->fro_off = sio_get64(cap, SIO_VTD_CAP_FRO) * 16;
    uint64_t iro = sio_get64(ecap, SIO_VTD_ECAP_IRO) * 16;
    if (!d->fro_off || !iro)
        return refuse("fault-recording or IOTLB register offset is 0", d->fro_off | iro);
    d->iva_off = SIO_VTD_IVA_OFF(iro / 16);
    d->iotlb_off = SIO_VTD_IOTLB_OFF(iro / 16);
    d->nfr = (unsigned)sio_get64(cap, SIO_VTD_CAP_NFR) + 1;
    d->mamv = (unsigned)sio_get64(cap, SIO_VTD_CAP_MAMV);
    unsigned sllps = (unsigned)sio_get64(cap, SIO_VTD_CAP_SLLPS);
    d->sp2m = (sllps & SIO_VTD_SLLPS_2M) != 0;
    d->sp1g = (sllps & SIO_VTD_SLLPS_1G) != 0 && d->sp2m;
    d->cm = (int)sio_get64(cap, SIO_VTD_CAP_CM);
    d->rwbf = (int)sio_get64(cap, SIO_VTD_CAP_RWBF);
    d->psi = (int)sio_get64(cap, SIO_VTD_CAP_PSI);
    d->drd = (int)sio_get64(cap, SIO_VTD_CAP_DRD);
    d->dwd = (int)sio_get64(cap, SIO_VTD_CAP_DWD);
    d->esrtps = (int)sio_get64(cap, SIO_VTD_CAP_ESRTPS);
    d->qi = (int)sio_get64(ecap, SIO_VTD_ECAP_QI);
    d->pt = (int)sio_get64(ecap, SIO_VTD_ECAP_PT);
    /* VT-d 5: register invalidation is rejected on major version >= 6. */
    if (sio_get64(d->ver, SIO_VTD_VER_MAJOR) >= 6 && !d->qi)
        return refuse("major version >= 6 without queued invalidation", d->ver);
    return 0;
}

static void log_unit(struct sio_vtd_drv *d)
{
    sio_logf(SIO_LOG_DEBUG,
             "DMAR: unit ver %llu:%llu cap 0x%016llx ecap 0x%016llx: %u-bit %u-level domains, "
             "%s invalidation%s%s%s%s",
             (unsigned long long)sio_get64(d->ver, SIO_VTD_VER_MAJOR),
             (unsigned long long)sio_get64(d->ver, SIO_VTD_VER_MINOR), (unsigned long long)d->cap,
             (unsigned long long)d->ecap, d->width, d->levels, d->qi ? "queued" : "register",
             d->cm ? ", caching mode" : "", d->rwbf ? ", RWBF" : "", d->sp2m ? ", 2M" : "",
             d->sp1g ? "+1G pages" : (d->sp2m ? " pages" : ""));
}

static void drv_free(struct sio_vtd_drv *d)
{
    for (unsigned b = 0; b < 256; b++) {
        free(d->owner[b]);
        free(d->fault_count[b]);
    }
    free(d->did_map);
    vtd_tbl_fini(&d->tbl);
    pthread_mutex_destroy(&d->lock);
    pthread_mutex_destroy(&d->inval_lock);
    pthread_mutex_destroy(&d->fault_lock);
    pthread_mutex_destroy(&d->ir_lock);
    pthread_mutex_destroy(&d->fq_mtx);
    pthread_cond_destroy(&d->fq_cond);
    free(d);
}

static int bring_up(struct sio_vtd_drv *d)
{
    int rc;
    uint32_t gsts = vtd_rd32(d, SIO_VTD_REG_GSTS);
    if (gsts & SIO_VTD_GSTS_TES) {
        sio_logf(SIO_LOG_WARN, "DMAR: translation was left enabled; disabling it first");
        if ((rc = vtd_gcmd_level(d, SIO_VTD_GCMD_TE, 0)))
            return rc;
    }
    if (gsts & SIO_VTD_GSTS_QIES)
        vtd_qi_disable(d);
    if ((rc = vtd_tbl_alloc(d, &d->root)))
        return rc;
    if (d->qi) {
        if ((rc = vtd_tbl_alloc(d, &d->iq_base)) || (rc = vtd_tbl_alloc(d, &d->status_pa)))
            return rc;
        if ((rc = vtd_qi_enable(d)))
            return rc;
    }
    vtd_wr64(d, SIO_VTD_REG_RTADDR, sio_set64(d->root, SIO_VTD_RTADDR_TTM, 0));
    if ((rc = vtd_gcmd_oneshot(d, SIO_VTD_GCMD_SRTP)))
        return rc;
    if (!d->esrtps) {
        if ((rc = vtd_inv_context_global(d)) || (rc = vtd_inv_iotlb_global(d)))
            return rc;
    }
    /* Fault events: clear what an earlier owner left, then program and unmask the MSI. */
    sio_vtd_drv_service_faults(d);
    vtd_wr32(d, SIO_VTD_REG_FEDATA, d->opt.fault_msi_data);
    vtd_wr32(d, SIO_VTD_REG_FEADDR, (uint32_t)d->opt.fault_msi_addr & ~3u);
    vtd_wr32(d, SIO_VTD_REG_FEUADDR, (uint32_t)(d->opt.fault_msi_addr >> 32));
    vtd_wr32(d, SIO_VTD_REG_FECTL, 0);
    if ((rc = vtd_flush_write_buffer(d)))
        return rc;
    if ((rc = vtd_gcmd_level(d, SIO_VTD_GCMD_TE, 1)))
        return rc;
    /* Protected memory regions firmware may have left enabled are off once translation is
     * on (Linux): poll PRS after clearing EPM (VT-d 1). */
    if ((sio_get64(d->cap, SIO_VTD_CAP_PLMR) || sio_get64(d->cap, SIO_VTD_CAP_PHMR)) &&
        (vtd_rd32(d, SIO_VTD_REG_PMEN) & SIO_VTD_PMEN_EPM)) {
        vtd_wr32(d, SIO_VTD_REG_PMEN, 0);
        uint32_t last;
        if (vtd_poll32(d, SIO_VTD_REG_PMEN, SIO_VTD_PMEN_PRS, 0, &last))
            sio_logf(SIO_LOG_WARN, "DMAR: protected memory regions did not turn off");
    }
    return 0;
}

struct sio_vtd_drv *sio_vtd_drv_create(const struct sio_vtd_drv_config *cfg,
                                       const struct sio_mmio_ops *mmio, void *mmio_ctx,
                                       const struct sio_mem_ops *mem, void *mem_ctx)
{
    return sio_vtd_drv_create_ex(cfg, NULL, mmio, mmio_ctx, mem, mem_ctx);
}

struct sio_vtd_drv *sio_vtd_drv_create_ex(const struct sio_vtd_drv_config *cfg,
                                          const struct sio_vtd_drv_options *opt,
                                          const struct sio_mmio_ops *mmio, void *mmio_ctx,
                                          const struct sio_mem_ops *mem, void *mem_ctx)
{
    if (!cfg || !mmio || !mmio->read || !mmio->write || !mem || !mem->read || !mem->write)
        return NULL;
    if ((cfg->table_base | cfg->table_size) & (VTD_PAGE - 1) ||
        cfg->table_size < MIN_TABLE_PAGES * VTD_PAGE ||
        cfg->table_base + cfg->table_size < cfg->table_base ||
        cfg->table_size / VTD_PAGE > UINT32_MAX) {
        sio_logf(SIO_LOG_ERR,
                 "DMAR: table range 0x%llx+0x%llx must be page aligned and hold at least %u "
                 "pages",
                 (unsigned long long)cfg->table_base, (unsigned long long)cfg->table_size,
                 MIN_TABLE_PAGES);
        return NULL;
    }
    struct sio_vtd_drv *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->mmio = mmio;
    d->mmio_ctx = mmio_ctx;
    d->mem.ops = mem;
    d->mem.ctx = mem_ctx;
    d->cfg = *cfg;
    if (opt)
        d->opt = *opt;
    if (!d->opt.fq_entries)
        d->opt.fq_entries = 256;
    if (!d->opt.fq_timeout_us)
        d->opt.fq_timeout_us = 10000;
    if (!d->opt.identity_size)
        d->opt.identity_size = 1ULL << 32;
    if (!d->opt.fault_msi_addr)
        d->opt.fault_msi_addr = 0xFEE00000ULL;
    d->poll_limit = d->opt.poll_limit ? d->opt.poll_limit : DEFAULT_POLL;
    pthread_mutex_init(&d->lock, NULL);
    pthread_mutex_init(&d->inval_lock, NULL);
    pthread_mutex_init(&d->fault_lock, NULL);
    pthread_mutex_init(&d->ir_lock, NULL);
    pthread_mutex_init(&d->fq_mtx, NULL);
    pthread_cond_init(&d->fq_cond, NULL);
    if (vtd_tbl_init(&d->tbl, cfg->table_base, cfg->table_size)) {
        free(d);
        return NULL;
    }
    int rc = decode_caps(d);
    if (!rc) {
        d->did_map = calloc((d->ndomains + 63) / 64, sizeof(uint64_t));
        if (!d->did_map)
            rc = SIO_ENOMEM;
        else
            d->did_map[0] |= 1; /* DID 0: tag of faulting translations under CM (Linux) */
    }
    if (!rc) {
        log_unit(d);
        rc = bring_up(d);
        if (rc) {
            sio_logf(SIO_LOG_ERR, "DMAR: bring-up failed: %s", sio_strerror(rc));
            if (vtd_rd32(d, SIO_VTD_REG_GSTS) & SIO_VTD_GSTS_QIES)
                vtd_qi_disable(d);
        }
    }
    if (rc) {
        drv_free(d);
        return NULL;
    }
    return d;
}

/* ---- domains ------------------------------------------------------------------------------ */

/* d->lock held. */
static struct sio_domain *domain_new(struct sio_vtd_drv *d, enum vtd_dom_type type)
{
    unsigned did = 0;
    for (unsigned w = 0; w < (d->ndomains + 63) / 64 && !did; w++)
        if (~d->did_map[w])
            did = w * 64 + (unsigned)__builtin_ctzll(~d->did_map[w]);
    if (!did || did >= d->ndomains) {
        sio_logf(SIO_LOG_ERR, "DMAR: out of domain ids (%u)", d->ndomains);
        return NULL;
    }
    struct sio_domain *dom = calloc(1, sizeof(*dom));
    if (!dom)
        return NULL;
    dom->drv = d;
    dom->did = (uint16_t)did;
    dom->type = type;
    dom->aw = d->aw;
    dom->levels = d->levels;
    dom->width = d->width;
    if (type == VTD_DOM_DMA && vtd_tbl_alloc(d, &dom->pgd)) {
        free(dom);
        return NULL;
    }
    d->did_map[did / 64] |= 1ULL << (did % 64);
    pthread_mutex_init(&dom->lock, NULL);
    atomic_init(&dom->strict, d->cfg.strict ? 1 : 0);
    dom->next = d->domains;
    if (dom->next)
        dom->next->prev = dom;
    d->domains = dom;
    return dom;
}

struct sio_domain *sio_vtd_drv_domain_alloc(struct sio_vtd_drv *d)
{
    if (!d)
        return NULL;
    pthread_mutex_lock(&d->lock);
    struct sio_domain *dom = domain_new(d, VTD_DOM_DMA);
    pthread_mutex_unlock(&d->lock);
    return dom;
}

/* d->lock held; the domain has no devices. */
static void domain_destroy(struct sio_domain *dom, int release)
{
    struct sio_vtd_drv *d = dom->drv;
    pthread_mutex_lock(&dom->lock);
    if (!release)
        dom->release = NULL; /* its owner may be gone: drop the queue without calls */
    if (vtd_fq_flush(dom))
        sio_logf(SIO_LOG_ERR, "DMAR: domain %u: final flush failed", dom->did);
    /* Stale IOTLB entries of this DID must not meet its next owner. */
    if (release && dom->type != VTD_DOM_PT)
        vtd_inv_iotlb_domain(d, dom->did);
    pthread_mutex_unlock(&dom->lock);
    if (dom->prev)
        dom->prev->next = dom->next;
    else
        d->domains = dom->next;
    if (dom->next)
        dom->next->prev = dom->prev;
    d->did_map[dom->did / 64] &= ~(1ULL << (dom->did % 64));
    if (d->identity == dom)
        d->identity = NULL;
    if (dom->type == VTD_DOM_DMA)
        vtd_pt_free_all(dom); /* a shared domain's table is its owner's */
    vtd_fq_fini(&dom->fq);
    pthread_mutex_destroy(&dom->lock);
    free(dom);
}

int sio_vtd_drv_domain_free(struct sio_domain *dom)
{
    if (!dom)
        return SIO_EINVAL;
    struct sio_vtd_drv *d = dom->drv;
    pthread_mutex_lock(&d->lock);
    if (dom->ndev) {
        pthread_mutex_unlock(&d->lock);
        return SIO_EBUSY;
    }
    domain_destroy(dom, 1);
    pthread_mutex_unlock(&d->lock);
    return 0;
}

uint16_t sio_vtd_drv_domain_id(const struct sio_domain *dom)
{
    return dom->did;
}

uint64_t sio_vtd_drv_domain_limit(const struct sio_domain *dom)
{
    return 1ULL << dom->width;
}

int sio_vtd_drv_domain_set_strict(struct sio_domain *dom, int strict)
{
    if (!dom)
        return SIO_EINVAL;
    pthread_mutex_lock(&dom->lock);
    atomic_store(&dom->strict, strict ? 1 : 0);
    /* Leaving lazy mode: nothing may stay queued behind a strict domain's back. */
    int rc = strict ? vtd_fq_flush(dom) : 0;
    pthread_mutex_unlock(&dom->lock);
    return rc;
}

void sio_vtd_drv_domain_set_release(struct sio_domain *dom, sio_vtd_release_fn fn, void *ctx)
{
    pthread_mutex_lock(&dom->lock);
    dom->release = fn;
    dom->release_ctx = ctx;
    pthread_mutex_unlock(&dom->lock);
}

int sio_vtd_drv_flush(struct sio_domain *dom)
{
    if (!dom)
        return SIO_EINVAL;
    pthread_mutex_lock(&dom->lock);
    int rc = vtd_fq_flush(dom);
    pthread_mutex_unlock(&dom->lock);
    return rc;
}

/* ---- domains on a table someone else owns ------------------------------------------------- */

struct sio_domain *sio_vtd_drv_domain_alloc_shared(struct sio_vtd_drv *d, uint64_t root_pa,
                                                   unsigned levels)
{
    if (!d)
        return NULL;
    /* VT-d 2: AW = levels - 2, and only an AW that SAGAW lists may be put in a context entry
     * (fault 0x3 otherwise); the table's top level is then walked from root_pa. */
    unsigned aw = levels - 2;
    if (levels < 3 || levels > 5 || !(d->sagaw & (1u << aw))) {
        sio_logf(SIO_LOG_ERR, "DMAR: cannot share a %u-level table: the unit walks SAGAW 0x%x (%s)",
                 levels, d->sagaw, "levels must match an address width the unit supports");
        return NULL;
    }
    if (!root_pa || (root_pa & (VTD_PAGE - 1)) || root_pa >= (1ULL << 52)) {
        sio_logf(SIO_LOG_ERR, "DMAR: shared table root 0x%llx is not a 4 KiB page",
                 (unsigned long long)root_pa);
        return NULL;
    }
    pthread_mutex_lock(&d->lock);
    struct sio_domain *dom = domain_new(d, VTD_DOM_SHARED);
    if (dom) {
        dom->pgd = root_pa;
        dom->aw = aw;
        dom->levels = levels;
        unsigned agaw = sio_vtd_aw_bits(aw);
        dom->width = agaw < d->mgaw ? agaw : d->mgaw;
    }
    pthread_mutex_unlock(&d->lock);
    return dom;
}

int sio_vtd_drv_domain_is_shared(const struct sio_domain *dom)
{
    return dom && dom->type == VTD_DOM_SHARED;
}

int sio_vtd_drv_domain_invalidate(struct sio_domain *dom, uint64_t iova, uint64_t size)
{
    if (!dom || dom->type == VTD_DOM_PT)
        return SIO_EINVAL;
    struct sio_vtd_drv *d = dom->drv;
    /* RWBF: entries the owner wrote must leave the write buffer before the unit walks. */
    int rc = vtd_flush_write_buffer(d);
    if (rc)
        return rc;
    if (!size)
        return vtd_inv_iotlb_domain(d, dom->did);
    if (iova + size < iova)
        return SIO_EINVAL;
    /* IH=0: the owner may have freed or replaced table pages, not only leaves. */
    return vtd_inv_iotlb_range(d, dom->did, iova, size, 0);
}

/* The walk of a shared table (VT-d 2), reading the owner's entries as the unit would. */
static int shared_lookup(struct sio_domain *dom, uint64_t iova, uint64_t *pa)
{
    struct sio_vtd_drv *d = dom->drv;
    if (iova >> dom->width)
        return SIO_ENOENT;
    uint64_t table = dom->pgd;
    for (unsigned l = dom->levels; l >= 1; l--) {
        uint64_t e;
        if (sio_mem_read64(&d->mem, table + 8ULL * sio_vtd_sl_index(iova, l), &e))
            return SIO_EFAULT;
        if (!(e & (SIO_VTD_SL_R | SIO_VTD_SL_W)))
            return SIO_ENOENT;
        uint64_t addr = e & 0x000FFFFFFFFFF000ULL;
        if (l == 1 || (l <= 3 && (e & SIO_VTD_SL_PS))) {
            uint64_t sz = sio_vtd_level_size(l);
            *pa = (addr & ~(sz - 1)) | (iova & (sz - 1));
            return 0;
        }
        table = addr;
    }
    return SIO_ENOENT;
}

/* ---- context entries ---------------------------------------------------------------------- */

static struct sio_domain **owner_slot(struct sio_vtd_drv *d, uint16_t sid, int alloc)
{
    unsigned bus = sio_sid_bus(sid);
    if (!d->owner[bus]) {
        if (!alloc)
            return NULL;
        d->owner[bus] = calloc(256, sizeof(struct sio_domain *));
        if (!d->owner[bus])
            return NULL;
    }
    return &d->owner[bus][sio_sid_devfn(sid)];
}

/* The context table of sid's bus, created (and the root entry made present) on demand. */
static int context_table(struct sio_vtd_drv *d, uint16_t sid, uint64_t *ctp)
{
    uint64_t re_pa = d->root + 16ULL * sio_sid_bus(sid);
    uint64_t lo;
    if (sio_mem_read64(&d->mem, re_pa, &lo))
        return SIO_EFAULT;
    if (sio_get64(lo, SIO_VTD_ROOT_P)) {
        *ctp = lo & sio_mask64(63, 12);
        return 0;
    }
    uint64_t ct;
    int rc = vtd_tbl_alloc(d, &ct);
    if (rc)
        return rc;
    lo = sio_set64(ct, SIO_VTD_ROOT_P, 1);
    if (sio_mem_write64(&d->mem, re_pa + 8, 0) || sio_mem_write64(&d->mem, re_pa, lo)) {
        vtd_tbl_free(d, ct);
        return SIO_EFAULT;
    }
    *ctp = ct;
    return 0;
}

/* d->lock held. */
static int attach_locked(struct sio_domain *dom, uint16_t sid)
{
    struct sio_vtd_drv *d = dom->drv;
    struct sio_domain **slot = owner_slot(d, sid, 1);
    if (!slot)
        return SIO_ENOMEM;
    if (*slot)
        return *slot == dom ? SIO_EEXIST : SIO_EBUSY;
    uint64_t ct;
    int rc = context_table(d, sid, &ct);
    if (rc)
        return rc;
    /* VT-d 2, context entry: hi = AW 66:64, DID 87:72; lo = P, FPD=0, TT, SLPTPTR. */
    struct sio_u128 ce = {0, 0};
    ce = sio_set128(ce, SIO_VTD_CTX_AW, dom->aw);
    ce = sio_set128(ce, SIO_VTD_CTX_DID, dom->did);
    if (dom->type == VTD_DOM_PT) {
        ce = sio_set128(ce, SIO_VTD_CTX_TT, SIO_VTD_TT_PASSTHROUGH);
    } else {
        ce = sio_set128(ce, SIO_VTD_CTX_TT, SIO_VTD_TT_SLPT);
        ce.lo |= dom->pgd & sio_mask64(63, 12);
    }
    ce = sio_set128(ce, SIO_VTD_CTX_P, 1);
    uint64_t ce_pa = ct + 16ULL * sio_sid_devfn(sid);
    /* Upper half first, present bit last. */
    if (sio_mem_write64(&d->mem, ce_pa + 8, ce.hi) || sio_mem_write64(&d->mem, ce_pa, ce.lo))
        return SIO_EFAULT;
    if (d->cm) {
        /* VT-d 7, CM=1: not-present entries may be cached (tagged DID 0). */
        rc = vtd_inv_context_device(d, 0, sid);
        if (!rc)
            rc = vtd_inv_iotlb_domain(d, dom->did);
    } else {
        rc = vtd_flush_write_buffer(d);
    }
    if (rc) {
        sio_mem_write64(&d->mem, ce_pa, 0);
        sio_mem_write64(&d->mem, ce_pa + 8, 0);
        return rc;
    }
    *slot = dom;
    dom->ndev++;
    return 0;
}

int sio_vtd_drv_attach(struct sio_domain *dom, uint16_t sid)
{
    if (!dom)
        return SIO_EINVAL;
    pthread_mutex_lock(&dom->drv->lock);
    int rc = attach_locked(dom, sid);
    pthread_mutex_unlock(&dom->drv->lock);
    return rc;
}

/* d->lock held; clears the context entry and invalidates, context cache first. */
static int detach_locked(struct sio_domain *dom, uint16_t sid)
{
    struct sio_vtd_drv *d = dom->drv;
    struct sio_domain **slot = owner_slot(d, sid, 0);
    if (!slot || *slot != dom)
        return SIO_ENOENT;
    uint64_t lo;
    uint64_t re_pa = d->root + 16ULL * sio_sid_bus(sid);
    if (sio_mem_read64(&d->mem, re_pa, &lo))
        return SIO_EFAULT;
    uint64_t ce_pa = (lo & sio_mask64(63, 12)) + 16ULL * sio_sid_devfn(sid);
    if (sio_mem_write64(&d->mem, ce_pa, 0) || sio_mem_write64(&d->mem, ce_pa + 8, 0))
        return SIO_EFAULT;
    int rc = vtd_inv_context_device(d, dom->did, sid);
    int rc2 = vtd_inv_iotlb_domain(d, dom->did);
    *slot = NULL;
    dom->ndev--;
    return rc ? rc : rc2;
}

int sio_vtd_drv_detach(struct sio_domain *dom, uint16_t sid)
{
    if (!dom)
        return SIO_EINVAL;
    pthread_mutex_lock(&dom->drv->lock);
    int rc = detach_locked(dom, sid);
    pthread_mutex_unlock(&dom->drv->lock);
    return rc;
}

struct sio_domain *sio_vtd_drv_device_domain(struct sio_vtd_drv *d, uint16_t sid)
{
    pthread_mutex_lock(&d->lock);
    struct sio_domain **slot = owner_slot(d, sid, 0);
    struct sio_domain *dom = slot ? *slot : NULL;
    pthread_mutex_unlock(&d->lock);
    return dom;
}

int sio_vtd_drv_passthrough(struct sio_vtd_drv *d, uint16_t sid)
{
    if (!d)
        return SIO_EINVAL;
    pthread_mutex_lock(&d->lock);
    struct sio_domain **slot = owner_slot(d, sid, 0);
    int rc = 0;
    if (slot && *slot) {
        rc = *slot == d->identity ? SIO_EEXIST : SIO_EBUSY;
        pthread_mutex_unlock(&d->lock);
        return rc;
    }
    if (!d->identity) {
        /* TT=10 when the unit has pass-through; otherwise a domain mapping RAM 1:1. */
        struct sio_domain *id = domain_new(d, d->pt ? VTD_DOM_PT : VTD_DOM_DMA);
        if (!id) {
            pthread_mutex_unlock(&d->lock);
            return SIO_ENOSPC;
        }
        id->identity = 1;
        if (!d->pt) {
            uint64_t size = d->opt.identity_size & ~(VTD_PAGE - 1);
            uint64_t lim = 1ULL << d->width;
            if (size > lim)
                size = lim;
            pthread_mutex_lock(&id->lock);
            rc = vtd_pt_map(id, 0, 0, size, SIO_READ | SIO_WRITE);
            pthread_mutex_unlock(&id->lock);
            if (rc) {
                sio_logf(SIO_LOG_ERR, "DMAR: identity map of 0x%llx bytes failed: %s",
                         (unsigned long long)size, sio_strerror(rc));
                domain_destroy(id, 0);
                pthread_mutex_unlock(&d->lock);
                return rc;
            }
            if (d->cm)
                vtd_inv_iotlb_domain(d, id->did);
        }
        d->identity = id;
    }
    rc = attach_locked(d->identity, sid);
    pthread_mutex_unlock(&d->lock);
    return rc;
}

/* ---- map / unmap -------------------------------------------------------------------------- */

static int range_ok(struct sio_domain *dom, uint64_t iova, uint64_t size)
{
    uint64_t lim = 1ULL << dom->drv->width;
    return size && !((iova | size) & (VTD_PAGE - 1)) && iova < lim && size <= lim - iova;
}

int sio_vtd_drv_map(struct sio_domain *dom, uint64_t iova, uint64_t pa, uint64_t size,
                    unsigned perm)
{
    if (dom && dom->type == VTD_DOM_SHARED)
        return SIO_EPERM; /* its owner edits the table */
    if (!dom || dom->type != VTD_DOM_DMA || !range_ok(dom, iova, size) || (pa & (VTD_PAGE - 1)) ||
        pa + size > (1ULL << 52) || pa + size < pa || !perm ||
        (perm & ~(unsigned)(SIO_READ | SIO_WRITE)))
        return SIO_EINVAL;
    struct sio_vtd_drv *d = dom->drv;
    pthread_mutex_lock(&dom->lock);
    int rc = vtd_pt_map(dom, iova, pa, size, perm);
    pthread_mutex_unlock(&dom->lock);
    if (rc)
        return rc;
    /* VT-d 7: under CM=1 even not-present -> present needs an invalidation (the vIOMMU rule);
     * under CM=0 at most a write-buffer flush. */
    if (d->cm)
        return vtd_inv_iotlb_range(d, dom->did, iova, size, 0);
    return vtd_flush_write_buffer(d);
}

int sio_vtd_drv_unmap(struct sio_domain *dom, uint64_t iova, uint64_t size)
{
    if (dom && dom->type == VTD_DOM_SHARED)
        return SIO_EPERM;
    if (!dom || dom->type != VTD_DOM_DMA || !range_ok(dom, iova, size))
        return SIO_EINVAL;
    struct sio_vtd_drv *d = dom->drv;
    struct vtd_freelist fl = {0};
    uint64_t fs = UINT64_MAX, fe = 0;
    pthread_mutex_lock(&dom->lock);
    int strict = atomic_load_explicit(&dom->strict, memory_order_relaxed);
    if (!strict) {
        /* Lazy: clear the leaves, leave emptied tables linked (the flush prunes them) and
         * queue the range; its IOVA is released after the flush. */
        int emptied = 0;
        int rc = vtd_pt_unmap(dom, iova, size, NULL, &fs, &fe, &emptied);
        int r = fe > fs ? vtd_fq_push(dom, iova, size, emptied) : 0;
        pthread_mutex_unlock(&dom->lock);
        return rc ? rc : r;
    }
    int rc = vtd_pt_unmap(dom, iova, size, &fl, &fs, &fe, NULL);
    if (fe <= fs) { /* nothing was cleared */
        pthread_mutex_unlock(&dom->lock);
        vtd_freelist_release(d, &fl);
        return rc;
    }
    /* A table this unmap unlinked may sit in the unit's paging-structure cache. Until that is
     * invalidated, a new table linked at the same place would be shadowed by the stale one
     * (CM=0 gives no invalidation for not-present -> present): so when tables went away the
     * invalidation completes before another map can take the domain lock. With only leaves
     * cleared, nothing another thread may map can be shadowed (its IOVAs are not these). */
    int hold = fl.n != 0;
    sio_vtd_release_fn release = dom->release;
    void *release_ctx = dom->release_ctx;
    if (!hold)
        pthread_mutex_unlock(&dom->lock);
    /* IH=1 only when no table page went away (VT-d 5: PDE caches may then be kept). */
    int r = vtd_inv_iotlb_range(d, dom->did, fs, fe - fs, fl.n == 0);
    if (hold)
        pthread_mutex_unlock(&dom->lock);
    if (r) {
        /* The unit may still hold the old translation: keep the pages and the range. */
        sio_logf(SIO_LOG_ERR, "DMAR: domain %u: unmap invalidation failed; range held", dom->did);
        free(fl.pages);
        return r;
    }
    vtd_freelist_release(d, &fl);
    if (release)
        release(release_ctx, iova, size);
    return rc;
}

int sio_vtd_drv_iova_to_phys(struct sio_domain *dom, uint64_t iova, uint64_t *pa)
{
    if (!dom || !pa)
        return SIO_EINVAL;
    if (dom->type == VTD_DOM_PT) {
        *pa = iova;
        return 0;
    }
    if (dom->type == VTD_DOM_SHARED)
        return shared_lookup(dom, iova, pa);
    pthread_mutex_lock(&dom->lock);
    int rc = vtd_pt_lookup(dom, iova, pa, NULL, NULL);
    pthread_mutex_unlock(&dom->lock);
    return rc;
}

/* ---- info, stats, dump, teardown ---------------------------------------------------------- */

void sio_vtd_drv_get_info(struct sio_vtd_drv *d, struct sio_vtd_drv_info *o)
{
    memset(o, 0, sizeof(*o));
    o->aw = d->aw;
    o->levels = d->levels;
    o->width = d->width;
    o->nfr = d->nfr;
    o->mamv = d->mamv;
    o->ndomains = d->ndomains;
    o->qi = d->qi;
    o->cm = d->cm;
    o->rwbf = d->rwbf;
    o->pt = d->pt;
    o->psi = d->psi;
    o->sp2m = d->sp2m;
    o->sp1g = d->sp1g;
    o->esrtps = d->esrtps;
    o->sagaw = d->sagaw;
    o->table_pages = d->tbl.npages;
    o->table_pages_used = vtd_tbl_used(d);
}

void sio_vtd_drv_get_stats(struct sio_vtd_drv *d, struct sio_vtd_drv_stats *o)
{
    o->cc_global = atomic_load(&d->st_cc_global);
    o->cc_domain = atomic_load(&d->st_cc_domain);
    o->cc_device = atomic_load(&d->st_cc_device);
    o->iotlb_global = atomic_load(&d->st_iotlb_global);
    o->iotlb_domain = atomic_load(&d->st_iotlb_domain);
    o->iotlb_page = atomic_load(&d->st_iotlb_page);
    o->qi_waits = atomic_load(&d->st_qi_waits);
    o->wbf = atomic_load(&d->st_wbf);
    o->fq_flushes = atomic_load(&d->st_fq_flushes);
    o->faults = atomic_load(&d->st_faults);
    o->iec_global = atomic_load(&d->st_iec_global);
    o->iec_index = atomic_load(&d->st_iec_index);
}

void sio_vtd_drv_dump(struct sio_domain *dom, uint16_t sid, uint64_t iova)
{
    struct sio_vtd_drv *d = dom->drv;
    char bdf[SIO_BDF_STRLEN];
    sio_bdf_format(sio_bdf_from_sid(d->opt.segment, sid), bdf);
    sio_logf(SIO_LOG_INFO, "DMAR: walk of 0x%llx for [%s] in domain %u (%u levels)",
             (unsigned long long)iova, bdf, dom->did, d->levels);
    pthread_mutex_lock(&d->lock);
    uint64_t re_pa = d->root + 16ULL * sio_sid_bus(sid), re = 0, ce_lo = 0, ce_hi = 0;
    sio_mem_read64(&d->mem, re_pa, &re);
    sio_logf(SIO_LOG_INFO, "DMAR:  root[0x%02x] @0x%llx = 0x%016llx", sio_sid_bus(sid),
             (unsigned long long)re_pa, (unsigned long long)re);
    if (re & 1) {
        uint64_t ce_pa = (re & sio_mask64(63, 12)) + 16ULL * sio_sid_devfn(sid);
        sio_mem_read64(&d->mem, ce_pa, &ce_lo);
        sio_mem_read64(&d->mem, ce_pa + 8, &ce_hi);
        sio_logf(SIO_LOG_INFO, "DMAR:  context[0x%02x] @0x%llx = hi 0x%016llx lo 0x%016llx",
                 sio_sid_devfn(sid), (unsigned long long)ce_pa, (unsigned long long)ce_hi,
                 (unsigned long long)ce_lo);
    }
    pthread_mutex_unlock(&d->lock);
    if (dom->type == VTD_DOM_PT)
        return;
    pthread_mutex_lock(&dom->lock);
    uint64_t table = dom->pgd;
    for (unsigned l = dom->levels; l >= 1; l--) {
        unsigned idx = sio_vtd_sl_index(iova, l);
        uint64_t e = 0;
        sio_mem_read64(&d->mem, table + 8ULL * idx, &e);
        sio_logf(SIO_LOG_INFO, "DMAR:  L%u[0x%03x] @0x%llx = 0x%016llx", l, idx,
                 (unsigned long long)(table + 8ULL * idx), (unsigned long long)e);
        if (!(e & 3) || l == 1 || (e & SIO_VTD_SL_PS))
            break;
        table = e & 0x000FFFFFFFFFF000ULL;
    }
    pthread_mutex_unlock(&dom->lock);
}

void sio_vtd_drv_destroy(struct sio_vtd_drv *d)
{
    if (!d)
        return;
    vtd_fq_thread_stop(d);
    pthread_mutex_lock(&d->lock);
    /* Detach every device (context entries cleared), then one global flush. */
    for (unsigned b = 0; b < 256; b++) {
        if (!d->owner[b])
            continue;
        for (unsigned df = 0; df < 256; df++) {
            struct sio_domain *dom = d->owner[b][df];
            if (!dom)
                continue;
            uint64_t re, ce_pa;
            if (!sio_mem_read64(&d->mem, d->root + 16ULL * b, &re)) {
                ce_pa = (re & sio_mask64(63, 12)) + 16ULL * df;
                sio_mem_write64(&d->mem, ce_pa, 0);
                sio_mem_write64(&d->mem, ce_pa + 8, 0);
            }
            d->owner[b][df] = NULL;
            dom->ndev--;
        }
    }
    vtd_inv_context_global(d);
    vtd_inv_iotlb_global(d);
    /* Owners of domains still allocated (e.g. a DMA context) may be gone: no release calls. */
    while (d->domains)
        domain_destroy(d->domains, 0);
    pthread_mutex_unlock(&d->lock);
    /* Like Linux at shutdown: interrupt remapping off, translation off, then the queue. */
    vtd_ir_fini(d);
    vtd_gcmd_level(d, SIO_VTD_GCMD_TE, 0);
    if (d->qi)
        vtd_qi_disable(d);
    drv_free(d);
}

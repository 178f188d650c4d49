/* VT-d driver: invalidation (VT-d 5, 7) and the lazy flush queue.
 *
 * Two interfaces, chosen once at bring-up: the invalidation queue when ECAP.QI is set, the
 * CCMD and IOTLB/IVA registers otherwise. Both are serialised by inval_lock.
 *
 * Register interface: CCMD is written with ICC=1 and polled until the unit clears ICC; CAIG=0
 * means the request was refused. For the IOTLB, a page-selective request writes IVA (address,
 * IH, AM) first, then the IOTLB register with IVT=1 (plus DR/DW when CAP.DRD/DWD), polled until
 * IVT clears; IAIG=0 is a refusal (a page-selective one is retried domain-selective).
 *
 * Queue: one 4 KiB page of 256 128-bit descriptors (IQA.QS=0, DW=0) in table memory, and one
 * status word. A submission writes its descriptors at the tail, then a wait descriptor
 * (SW=1, FN=1, status data = a fresh sequence number, status address = the status word), moves
 * IQT, and polls the status word. While polling, FSTS.IQE means the unit stopped at a bad
 * descriptor (IQH points at it): it is overwritten with the wait descriptor, IQE is cleared
 * and the submission fails with SIO_EIO, as Linux does.
 *
 * Lazy mode queues each unmap with the table pages it emptied. When the queue holds
 * opt.fq_entries unmaps or its oldest is opt.fq_timeout_us old (checked on every unmap and by a
 * timer thread), one domain-selective IOTLB invalidation covers them all; only then are the
 * pages freed and the ranges released to their owner: an IOVA is never reused while a stale
 * translation for it can remain cached. */
#include "vtd_drv_internal.h"

#include <softiommu/log.h>

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IQ_ENTRIES 256

/* ---- register interface ------------------------------------------------------------------- */

static int reg_ccmd(struct sio_vtd_drv *d, unsigned cirg, uint16_t did, uint16_t sid)
{
    uint64_t v = SIO_VTD_CCMD_ICC_BIT;
    v = sio_set64(v, SIO_VTD_CCMD_CIRG, cirg);
    v = sio_set64(v, SIO_VTD_CCMD_DID, did);
    v = sio_set64(v, SIO_VTD_CCMD_SID, sid);
    v = sio_set64(v, SIO_VTD_CCMD_FM, 0);
    pthread_mutex_lock(&d->inval_lock);
    vtd_wr64(d, SIO_VTD_REG_CCMD, v);
    uint64_t last = 0;
    int rc = vtd_poll64(d, SIO_VTD_REG_CCMD, SIO_VTD_CCMD_ICC_BIT, 0, &last);
    pthread_mutex_unlock(&d->inval_lock);
    if (rc) {
        sio_logf(SIO_LOG_ERR, "DMAR: context-cache invalidation timed out (CCMD 0x%llx)",
                 (unsigned long long)last);
        return rc;
    }
    if (!sio_get64(last, SIO_VTD_CCMD_CAIG)) {
        sio_logf(SIO_LOG_ERR, "DMAR: context-cache invalidation refused (CAIG=0, CCMD 0x%llx)",
                 (unsigned long long)last);
        return SIO_EIO;
    }
    return 0;
}

static int reg_iotlb(struct sio_vtd_drv *d, unsigned iirg, uint16_t did, uint64_t addr, unsigned am,
                     int ih)
{
    uint64_t v = SIO_VTD_IOTLB_IVT_BIT;
    v = sio_set64(v, SIO_VTD_IOTLB_IIRG, iirg);
    v = sio_set64(v, SIO_VTD_IOTLB_DID, iirg == SIO_VTD_IOTLB_GLOBAL ? 0 : did);
    v = sio_set64(v, SIO_VTD_IOTLB_DR, d->drd);
    v = sio_set64(v, SIO_VTD_IOTLB_DW, d->dwd);
    pthread_mutex_lock(&d->inval_lock);
    if (iirg == SIO_VTD_IOTLB_PAGE) {
        uint64_t iva = addr & sio_mask64(63, 12);
        iva = sio_set64(iva, SIO_VTD_IVA_IH, ih ? 1 : 0);
        iva = sio_set64(iva, SIO_VTD_IVA_AM, am);
        vtd_wr64(d, d->iva_off, iva);
    }
    vtd_wr64(d, d->iotlb_off, v);
    uint64_t last = 0;
    int rc = vtd_poll64(d, d->iotlb_off, SIO_VTD_IOTLB_IVT_BIT, 0, &last);
    pthread_mutex_unlock(&d->inval_lock);
    if (rc) {
        sio_logf(SIO_LOG_ERR, "DMAR: IOTLB invalidation timed out (IOTLB 0x%llx)",
                 (unsigned long long)last);
        return rc;
    }
    if (!sio_get64(last, SIO_VTD_IOTLB_IAIG)) {
        if (iirg == SIO_VTD_IOTLB_PAGE)
            return reg_iotlb(d, SIO_VTD_IOTLB_DOMAIN, did, 0, 0, 0);
        sio_logf(SIO_LOG_ERR, "DMAR: IOTLB invalidation refused (IAIG=0, IOTLB 0x%llx)",
                 (unsigned long long)last);
        return SIO_EIO;
    }
    return 0;
}

/* ---- queued invalidation ------------------------------------------------------------------ */

static struct sio_u128 desc_type(unsigned type)
{
    struct sio_u128 q = {0, 0};
    q.lo = sio_set64(q.lo, SIO_VTD_DESC_TYPE_LO, type & 0xf);
    q.lo = sio_set64(q.lo, SIO_VTD_DESC_TYPE_HI, type >> 4);
    return q;
}

static int qi_write(struct sio_vtd_drv *d, unsigned slot, struct sio_u128 q)
{
    uint8_t b[16];
    sio_st128le(b, q);
    return sio_mem_write(&d->mem, d->iq_base + 16ULL * slot, b, 16) ? SIO_EFAULT : 0;
}

/* Free slots as of the last IQH read; IQH is read again only when that is not enough (the
 * unit only ever moves the head forward, so the estimate is never too high). */
static unsigned qi_free_slots(struct sio_vtd_drv *d, int reread)
{
    if (reread) {
        unsigned head =
            (unsigned)(sio_get64(vtd_rd64(d, SIO_VTD_REG_IQH), SIO_VTD_IQ_OFFSET)) % d->iq_entries;
        d->iq_head = head;
    }
    return (d->iq_head + d->iq_entries - d->iq_tail - 1) % d->iq_entries;
}

/* Submits n descriptors plus a wait descriptor and polls its status write. */
static int qi_submit(struct sio_vtd_drv *d, const struct sio_u128 *desc, unsigned n)
{
    pthread_mutex_lock(&d->inval_lock);
    int rc = 0;
    /* Room for the descriptors, the wait, and the one slot kept free. */
    unsigned tries = 0;
    while (qi_free_slots(d, tries > 0) < n + 2) {
        if (++tries > d->poll_limit) {
            pthread_mutex_unlock(&d->inval_lock);
            sio_logf(SIO_LOG_ERR, "DMAR: invalidation queue never drained");
            return SIO_ETIMEDOUT;
        }
        if ((tries & 255) == 0)
            sched_yield();
    }
    for (unsigned i = 0; i < n && !rc; i++) {
        rc = qi_write(d, d->iq_tail, desc[i]);
        d->iq_tail = (d->iq_tail + 1) % d->iq_entries;
    }
    if (++d->qi_seq == 0)
        d->qi_seq = 1;
    uint32_t seq = d->qi_seq;
    struct sio_u128 w = desc_type(SIO_VTD_DESC_WAIT);
    w.lo = sio_set64(w.lo, SIO_VTD_WAIT_SW, 1);
    w.lo = sio_set64(w.lo, SIO_VTD_WAIT_FN, 1);
    w.lo = sio_set64(w.lo, SIO_VTD_WAIT_SDATA, seq);
    w.hi = sio_set64(w.hi, SIO_VTD_WAIT_SADDR, d->status_pa >> 2);
    unsigned wslot = d->iq_tail;
    if (!rc)
        rc = qi_write(d, wslot, w);
    d->iq_tail = (d->iq_tail + 1) % d->iq_entries;
    if (rc) {
        /* Could not write our own queue: leave IQT where it was (the unit never sees it). */
        d->iq_tail = (wslot + d->iq_entries - n) % d->iq_entries;
        pthread_mutex_unlock(&d->inval_lock);
        return rc;
    }
    vtd_wr64(d, SIO_VTD_REG_IQT, (uint64_t)d->iq_tail << 4);
    int err = 0;
    for (unsigned t = 0;; t++) {
        uint32_t st = 0;
        if (sio_mem_read32(&d->mem, d->status_pa, &st) == 0 && st == seq)
            break;
        uint32_t fsts = vtd_rd32(d, SIO_VTD_REG_FSTS);
        if (fsts & SIO_VTD_FSTS_IQE) {
            uint64_t head = sio_get64(vtd_rd64(d, SIO_VTD_REG_IQH), SIO_VTD_IQ_OFFSET);
            uint64_t iqeI = sio_get64(vtd_rd64(d, SIO_VTD_REG_IQERCD), SIO_VTD_IQERCD_IQEI);
            sio_logf(SIO_LOG_ERR,
                     "DMAR: invalidation queue error (IQEI %llu) at descriptor %llu; skipped",
                     (unsigned long long)iqeI, (unsigned long long)head);
            /* Replace the bad descriptor by our wait so the queue completes past it. */
            qi_write(d, (unsigned)(head % d->iq_entries), w);
            vtd_wr32(d, SIO_VTD_REG_FSTS, SIO_VTD_FSTS_IQE);
            err = SIO_EIO;
        }
        if (fsts & (SIO_VTD_FSTS_ITE | SIO_VTD_FSTS_ICE)) {
            sio_logf(SIO_LOG_ERR, "DMAR: invalidation %s error",
                     (fsts & SIO_VTD_FSTS_ITE) ? "time-out" : "completion");
            vtd_wr32(d, SIO_VTD_REG_FSTS, fsts & (SIO_VTD_FSTS_ITE | SIO_VTD_FSTS_ICE));
            err = SIO_EIO;
        }
        if (t >= d->poll_limit) {
            sio_logf(SIO_LOG_ERR, "DMAR: invalidation wait descriptor never completed");
            err = SIO_ETIMEDOUT;
            break;
        }
        if ((t & 255) == 255)
            sched_yield();
    }
    pthread_mutex_unlock(&d->inval_lock);
    if (!err)
        atomic_fetch_add_explicit(&d->st_qi_waits, 1, memory_order_relaxed);
    return err;
}

int vtd_qi_enable(struct sio_vtd_drv *d)
{
    d->iq_entries = IQ_ENTRIES;
    d->iq_tail = 0;
    d->iq_head = 0;
    d->qi_seq = 0;
    if (sio_mem_write32(&d->mem, d->status_pa, 0))
        return SIO_EFAULT;
    /* VT-d 5, QI setup: IQT=0, IQA (base, QS=0: one page, DW=0: 128-bit), QIE, poll QIES. */
    vtd_wr64(d, SIO_VTD_REG_IQT, 0);
    uint64_t iqa = d->iq_base & sio_mask64(63, 12);
    iqa = sio_set64(iqa, SIO_VTD_IQA_QS, 0);
    iqa = sio_set64(iqa, SIO_VTD_IQA_DW, 0);
    vtd_wr64(d, SIO_VTD_REG_IQA, iqa);
    return vtd_gcmd_level(d, SIO_VTD_GCMD_QIE, 1);
}

void vtd_qi_disable(struct sio_vtd_drv *d)
{
    /* VT-d 5, teardown: wait until IQH == IQT, clear QIE, poll QIES=0. */
    uint64_t tail = vtd_rd64(d, SIO_VTD_REG_IQT) & sio_mask64(18, 4);
    vtd_poll64(d, SIO_VTD_REG_IQH, sio_mask64(18, 4), tail, NULL);
    vtd_gcmd_level(d, SIO_VTD_GCMD_QIE, 0);
}

/* ---- the operations ----------------------------------------------------------------------- */

static void count(atomic_uint_fast64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

int vtd_inv_context_global(struct sio_vtd_drv *d)
{
    count(&d->st_cc_global);
    if (!d->qi)
        return reg_ccmd(d, SIO_VTD_CTX_GLOBAL, 0, 0);
    struct sio_u128 q = desc_type(SIO_VTD_DESC_CC);
    q.lo = sio_set64(q.lo, SIO_VTD_CC_G, SIO_VTD_CTX_GLOBAL);
    return qi_submit(d, &q, 1);
}

int vtd_inv_context_device(struct sio_vtd_drv *d, uint16_t did, uint16_t sid)
{
    count(&d->st_cc_device);
    if (!d->qi)
        return reg_ccmd(d, SIO_VTD_CTX_DEVICE, did, sid);
    struct sio_u128 q = desc_type(SIO_VTD_DESC_CC);
    q.lo = sio_set64(q.lo, SIO_VTD_CC_G, SIO_VTD_CTX_DEVICE);
    q.lo = sio_set64(q.lo, SIO_VTD_CC_DID, did);
    q.lo = sio_set64(q.lo, SIO_VTD_CC_SID, sid);
    q.lo = sio_set64(q.lo, SIO_VTD_CC_FM, 0);
    return qi_submit(d, &q, 1);
}

static struct sio_u128 iotlb_desc(struct sio_vtd_drv *d, unsigned g, uint16_t did)
{
    struct sio_u128 q = desc_type(SIO_VTD_DESC_IOTLB);
    q.lo = sio_set64(q.lo, SIO_VTD_IOTLBD_G, g);
    q.lo = sio_set64(q.lo, SIO_VTD_IOTLBD_DR, d->drd);
    q.lo = sio_set64(q.lo, SIO_VTD_IOTLBD_DW, d->dwd);
    q.lo = sio_set64(q.lo, SIO_VTD_IOTLBD_DID, g == SIO_VTD_IOTLB_GLOBAL ? 0 : did);
    return q;
}

int vtd_inv_iotlb_global(struct sio_vtd_drv *d)
{
    count(&d->st_iotlb_global);
    if (!d->qi)
        return reg_iotlb(d, SIO_VTD_IOTLB_GLOBAL, 0, 0, 0, 0);
    struct sio_u128 q = iotlb_desc(d, SIO_VTD_IOTLB_GLOBAL, 0);
    return qi_submit(d, &q, 1);
}

int vtd_inv_iotlb_domain(struct sio_vtd_drv *d, uint16_t did)
{
    count(&d->st_iotlb_domain);
    if (!d->qi)
        return reg_iotlb(d, SIO_VTD_IOTLB_DOMAIN, did, 0, 0, 0);
    struct sio_u128 q = iotlb_desc(d, SIO_VTD_IOTLB_DOMAIN, did);
    return qi_submit(d, &q, 1);
}

unsigned vtd_psi_am(uint64_t addr, uint64_t size, uint64_t *base)
{
    uint64_t first = addr >> VTD_PAGE_SHIFT;
    uint64_t last = (addr + (size ? size : 1) - 1) >> VTD_PAGE_SHIFT;
    unsigned am = 0;
    while (am < 52 && (first >> am) != (last >> am))
        am++;
    *base = (first >> am) << am << VTD_PAGE_SHIFT;
    return am;
}

int vtd_inv_iotlb_range(struct sio_vtd_drv *d, uint16_t did, uint64_t addr, uint64_t size, int ih)
{
    uint64_t base;
    unsigned am = vtd_psi_am(addr, size, &base);
    if (!d->psi || am > d->mamv)
        return vtd_inv_iotlb_domain(d, did);
    count(&d->st_iotlb_page);
    if (!d->qi)
        return reg_iotlb(d, SIO_VTD_IOTLB_PAGE, did, base, am, ih);
    struct sio_u128 q = iotlb_desc(d, SIO_VTD_IOTLB_PAGE, did);
    q.hi = base & sio_mask64(63, 12);
    q.hi = sio_set64(q.hi, SIO_VTD_IOTLBD_IH, ih ? 1 : 0);
    q.hi = sio_set64(q.hi, SIO_VTD_IOTLBD_AM, am);
    return qi_submit(d, &q, 1);
}

int vtd_qi_submit(struct sio_vtd_drv *d, const struct sio_u128 *desc, unsigned n)
{
    return d->qi ? qi_submit(d, desc, n) : SIO_ENOTSUP;
}

/* VT-d 5 type 4: G=0 global; G=1 the aligned block of 2^IM entries holding IIDX. The IEC has
 * no register interface (VT-d 5), so this needs the queue. */
int vtd_inv_iec_global(struct sio_vtd_drv *d)
{
    count(&d->st_iec_global);
    struct sio_u128 q = desc_type(SIO_VTD_DESC_IEC);
    q.lo = sio_set64(q.lo, SIO_VTD_IEC_G, 0);
    return vtd_qi_submit(d, &q, 1);
}

int vtd_inv_iec_index(struct sio_vtd_drv *d, uint16_t index, unsigned im)
{
    count(&d->st_iec_index);
    struct sio_u128 q = desc_type(SIO_VTD_DESC_IEC);
    q.lo = sio_set64(q.lo, SIO_VTD_IEC_G, 1);
    q.lo = sio_set64(q.lo, SIO_VTD_IEC_IM, im);
    q.lo = sio_set64(q.lo, SIO_VTD_IEC_IIDX, index);
    return vtd_qi_submit(d, &q, 1);
}

int vtd_flush_write_buffer(struct sio_vtd_drv *d)
{
    if (!d->rwbf)
        return 0;
    count(&d->st_wbf);
    pthread_mutex_lock(&d->inval_lock);
    int rc = vtd_gcmd_oneshot(d, SIO_VTD_GCMD_WBF);
    pthread_mutex_unlock(&d->inval_lock);
    return rc;
}

/* ---- flush queue -------------------------------------------------------------------------- */

void vtd_fq_fini(struct vtd_fq *fq)
{
    free(fq->e);
    memset(fq, 0, sizeof(*fq));
}

int vtd_fq_flush(struct sio_domain *dom)
{
    struct vtd_fq *fq = &dom->fq;
    if (!fq->n)
        return 0;
    struct sio_vtd_drv *d = dom->drv;
    /* Tables the queued unmaps left empty are unlinked now, before the invalidation, and no
     * map can link a new one in between (we hold the domain lock): the domain-selective flush
     * below drops the IOTLB and paging-structure entries of both. */
    struct vtd_freelist fl = {0};
    for (unsigned i = 0; i < fq->n; i++)
        if (fq->e[i].prune)
            vtd_pt_prune(dom, fq->e[i].iova, fq->e[i].size, &fl);
    int rc = vtd_inv_iotlb_domain(d, dom->did);
    if (rc) {
        /* Nothing may be reused while it can still be cached: keep the ranges queued and the
         * unlinked pages out of circulation. */
        sio_logf(SIO_LOG_ERR, "DMAR: domain %u: flush-queue invalidation failed", dom->did);
        free(fl.pages);
        return rc;
    }
    count(&d->st_fq_flushes);
    vtd_freelist_release(d, &fl);
    for (unsigned i = 0; i < fq->n; i++)
        if (dom->release)
            dom->release(dom->release_ctx, fq->e[i].iova, fq->e[i].size);
    fq->n = 0;
    return 0;
}

static double fq_timeout_ns(struct sio_vtd_drv *d)
{
    return (double)d->opt.fq_timeout_us * 1e3;
}

static void *fq_thread_fn(void *arg)
{
    struct sio_vtd_drv *d = arg;
    /* Look ten times per timeout: a queued unmap waits at most 1.1 timeouts. */
    long period_ns = (long)(fq_timeout_ns(d) / 10);
    if (period_ns < 100000)
        period_ns = 100000;
    pthread_mutex_lock(&d->fq_mtx);
    while (!d->fq_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += period_ns;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&d->fq_cond, &d->fq_mtx, &ts);
        if (d->fq_stop)
            break;
        pthread_mutex_unlock(&d->fq_mtx);
        double now = vtd_now_ns();
        pthread_mutex_lock(&d->lock);
        for (struct sio_domain *dom = d->domains; dom; dom = dom->next) {
            pthread_mutex_lock(&dom->lock);
            if (dom->fq.n && now - dom->fq.oldest_ns >= fq_timeout_ns(d))
                vtd_fq_flush(dom);
            pthread_mutex_unlock(&dom->lock);
        }
        pthread_mutex_unlock(&d->lock);
        pthread_mutex_lock(&d->fq_mtx);
    }
    pthread_mutex_unlock(&d->fq_mtx);
    return NULL;
}

static void fq_thread_start(struct sio_vtd_drv *d)
{
    if (atomic_load_explicit(&d->fq_thread_on, memory_order_acquire))
        return;
    pthread_mutex_lock(&d->fq_mtx);
    if (!atomic_load(&d->fq_thread_on) && !d->fq_stop) {
        if (pthread_create(&d->fq_thread, NULL, fq_thread_fn, d) == 0)
            atomic_store_explicit(&d->fq_thread_on, 1, memory_order_release);
        else
            sio_logf(SIO_LOG_WARN, "DMAR: no flush-queue timer thread; age checked on unmap only");
    }
    pthread_mutex_unlock(&d->fq_mtx);
}

void vtd_fq_thread_stop(struct sio_vtd_drv *d)
{
    pthread_mutex_lock(&d->fq_mtx);
    d->fq_stop = 1;
    int on = atomic_load(&d->fq_thread_on);
    pthread_cond_broadcast(&d->fq_cond);
    pthread_mutex_unlock(&d->fq_mtx);
    if (on)
        pthread_join(d->fq_thread, NULL);
}

int vtd_fq_push(struct sio_domain *dom, uint64_t iova, uint64_t size, int prune)
{
    struct sio_vtd_drv *d = dom->drv;
    struct vtd_fq *fq = &dom->fq;
    if (!fq->e) {
        fq->cap = d->opt.fq_entries;
        fq->e = calloc(fq->cap, sizeof(*fq->e));
        if (!fq->e)
            return SIO_ENOMEM;
    }
    /* Full, or (checked every few pushes; the timer thread checks too) too old: flush first
     * so the new entry always fits. */
    if (fq->n == fq->cap || (fq->n && fq->n % VTD_FQ_AGE_EVERY == 0 &&
                             vtd_now_ns() - fq->oldest_ns >= fq_timeout_ns(d))) {
        int rc = vtd_fq_flush(dom);
        if (rc)
            return rc;
    }
    fq->e[fq->n].iova = iova;
    fq->e[fq->n].size = size;
    fq->e[fq->n].prune = prune;
    if (++fq->n == 1)
        fq->oldest_ns = vtd_now_ns();
    int rc = 0;
    if (fq->n == fq->cap)
        rc = vtd_fq_flush(dom);
    fq_thread_start(d);
    return rc;
}

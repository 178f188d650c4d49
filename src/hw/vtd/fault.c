/* Fault recording and fault events (VT-d 1 FSTS/FECTL/FRCD, VT-d 4 reasons). Decoding and
 * printing a record the way Linux does are pure format functions, shared with the host
 * driver: src/fmt/vtd_fault.c.
 *
 * Recording: records are written in circular order starting at record 0. When the next
 * record still holds a fault (F=1), PFO is set and the new fault is dropped; while PFO is set
 * nothing new is recorded. Nothing recorded is ever overwritten. PPF is the OR of the F bits
 * and FRI names the oldest pending record (the first F=1 record found going round from the
 * next write position), so a driver that starts at FRI and walks forward sees every pending
 * record in order.
 *
 * Qualified faults (VT-d 4: 0x2-0x7, 0xC, 0xD) are not recorded when the governing context
 * entry has FPD=1; the request is still blocked. Non-qualified ones (0x1, 0x8-0xB) always
 * are. */
#include "vtd_internal.h"

#include <stdio.h>

const struct vtd_event_src vtd_fault_event = {SIO_VTD_REG_FECTL, SIO_VTD_REG_FEDATA,
                                              SIO_VTD_REG_FEADDR, SIO_VTD_REG_FEUADDR};

/* ---- deferred MSIs -------------------------------------------------------------------------- */

void vtd_ev_msi(struct vtd_ev *ev, uint64_t addr, uint32_t data)
{
    if (ev->n < VTD_EV_MAX) {
        ev->msi[ev->n].addr = addr;
        ev->msi[ev->n].data = data;
        ev->n++;
    }
}

void vtd_ev_flush(struct sio_vtd *u, struct vtd_ev *ev)
{
    for (unsigned i = 0; i < ev->n; i++)
        if (u->irq && u->irq->msi)
            u->irq->msi(u->irq_ctx, ev->msi[i].addr, ev->msi[i].data);
    ev->n = 0;
    if (ev->deferred) {
        ev->deferred = 0;
        vtd_modules_deferred(u);
    }
}

/* ---- event registers (VT-d 1: the IM/IP rules) ---------------------------------------------- */

static void event_send(struct sio_vtd *u, const struct vtd_event_src *src, struct vtd_ev *ev)
{
    uint64_t addr = (vtd_reg_get(u, src->uaddr) << 32) | (vtd_reg_get(u, src->addr) & 0xFFFFFFFC);
    vtd_ev_msi(ev, addr, (uint32_t)vtd_reg_get(u, src->data));
    if (src == &vtd_fault_event)
        VTD_COUNT(u, fault_events);
}

void vtd_event_raise(struct sio_vtd *u, const struct vtd_event_src *src, struct vtd_ev *ev)
{
    struct vtd_reg *ctl = vtd_reg_at(u, src->ctl);
    if (!ctl)
        return;
    if (ctl->val & SIO_VTD_FECTL_IM) {
        ctl->val |= SIO_VTD_FECTL_IP; /* held until IM clears or the status goes away */
    } else {
        event_send(u, src, ev);
        ctl->val &= ~(uint64_t)SIO_VTD_FECTL_IP;
    }
}

void vtd_event_ctl_written(struct sio_vtd *u, const struct vtd_event_src *src, struct vtd_ev *ev)
{
    struct vtd_reg *ctl = vtd_reg_at(u, src->ctl);
    if (!ctl)
        return;
    if (!(ctl->val & SIO_VTD_FECTL_IM) && (ctl->val & SIO_VTD_FECTL_IP)) {
        event_send(u, src, ev);
        ctl->val &= ~(uint64_t)SIO_VTD_FECTL_IP;
    }
}

void vtd_event_drop(struct sio_vtd *u, const struct vtd_event_src *src)
{
    struct vtd_reg *ctl = vtd_reg_at(u, src->ctl);
    if (ctl)
        ctl->val &= ~(uint64_t)SIO_VTD_FECTL_IP;
}

void vtd_fsts_set(struct sio_vtd *u, uint32_t bits, struct vtd_ev *ev)
{
    struct vtd_reg *fs = vtd_reg_at(u, SIO_VTD_REG_FSTS);
    uint32_t was = (uint32_t)fs->val & VTD_FSTS_STATUS;
    fs->val |= bits;
    /* A status bit set while none was: a new interrupt condition. */
    if (!was && (bits & VTD_FSTS_STATUS))
        vtd_event_raise(u, &vtd_fault_event, ev);
}

void vtd_fsts_cleared(struct sio_vtd *u)
{
    if (!(vtd_reg_get(u, SIO_VTD_REG_FSTS) & VTD_FSTS_STATUS))
        vtd_event_drop(u, &vtd_fault_event);
}

/* ---- fault records -------------------------------------------------------------------------- */

static struct vtd_reg *frcd_hi(struct sio_vtd *u, unsigned i)
{
    return &u->frcd[2 * i + 1];
}

void vtd_fault_records_changed(struct sio_vtd *u, struct vtd_ev *ev)
{
    struct vtd_reg *fs = vtd_reg_at(u, SIO_VTD_REG_FSTS);
    int found = 0;
    unsigned fri = 0;
    for (unsigned k = 0; k < u->nfr; k++) {
        unsigned i = (u->fault_next + k) % u->nfr;
        if (frcd_hi(u, i)->val >> 63) {
            fri = i;
            found = 1;
            break;
        }
    }
    if (found) {
        fs->val = sio_set64(fs->val, SIO_VTD_FSTS_FRI, fri);
        if (!(fs->val & SIO_VTD_FSTS_PPF))
            vtd_fsts_set(u, SIO_VTD_FSTS_PPF, ev);
    } else {
        fs->val &= ~(uint64_t)SIO_VTD_FSTS_PPF;
        vtd_fsts_cleared(u);
    }
}

static void to_public(const struct vtd_fault *f, struct sio_vtd_fault *p)
{
    *p = (struct sio_vtd_fault){0};
    p->addr = f->irq ? f->addr : (f->addr & ~0xFFFULL);
    p->sid = f->sid;
    p->reason = f->reason;
    p->read = f->irq ? 0 : ((f->access & SIO_READ) != 0);
    p->t2 = (!f->irq && (f->access & SIO_READ) && (f->access & SIO_WRITE)) ? 1 : 0;
    p->at = (f->access & SIO_AT_TRANSLATED) ? 2 : (f->access & SIO_AT_TRANSLATION_REQ) ? 1 : 0;
    p->pending = 1;
}

static struct sio_u128 encode(const struct sio_vtd_fault *p)
{
    struct sio_u128 v = {0, 0};
    v.lo = p->addr & ~0xFFFULL;
    v = sio_set128(v, SIO_VTD_FRCD_SID, p->sid);
    v = sio_set128(v, SIO_VTD_FRCD_T2, p->t2);
    v = sio_set128(v, SIO_VTD_FRCD_FR, p->reason);
    v = sio_set128(v, SIO_VTD_FRCD_AT, p->at);
    v = sio_set128(v, SIO_VTD_FRCD_T1, p->read);
    v = sio_set128(v, SIO_VTD_FRCD_F, 1);
    return v;
}

int vtd_fault_report(struct sio_vtd *u, const struct vtd_fault *f)
{
    struct sio_vtd_fault pub;
    to_public(f, &pub);
    int recorded = 0;
    VTD_COUNT(u, faults);
    if (sio_vtd_fault_qualified(f->reason) && f->fpd) {
        VTD_COUNT(u, faults_fpd);
    } else {
        struct vtd_ev ev = {0};
        pthread_mutex_lock(&u->lock);
        struct vtd_reg *fs = vtd_reg_at(u, SIO_VTD_REG_FSTS);
        if (fs->val & SIO_VTD_FSTS_PFO) {
            VTD_COUNT(u, faults_overflow); /* nothing is recorded while PFO is set */
        } else if (frcd_hi(u, u->fault_next)->val >> 63) {
            vtd_fsts_set(u, SIO_VTD_FSTS_PFO, &ev); /* next record still full: overflow */
            VTD_COUNT(u, faults_overflow);
        } else {
            struct sio_u128 v = encode(&pub);
            u->frcd[2 * u->fault_next].val = v.lo;
            frcd_hi(u, u->fault_next)->val = v.hi;
            u->fault_next = (u->fault_next + 1) % u->nfr;
            vtd_fault_records_changed(u, &ev);
            VTD_COUNT(u, faults_recorded);
            recorded = 1;
        }
        pthread_mutex_unlock(&u->lock);
        vtd_ev_flush(u, &ev);
    }
    /* A consistent (fn, ctx) pair: the setter clears fn first, so a pair read between two
     * identical fn loads belongs together. */
    for (;;) {
        sio_vtd_fault_fn fn = atomic_load_explicit(&u->fault_fn, memory_order_acquire);
        if (!fn)
            break;
        void *ctx = atomic_load_explicit(&u->fault_ctx, memory_order_acquire);
        if (atomic_load_explicit(&u->fault_fn, memory_order_acquire) == fn) {
            fn(ctx, &pub, recorded);
            break;
        }
    }
    return recorded;
}

void sio_vtd_set_fault_hook(struct sio_vtd *u, sio_vtd_fault_fn fn, void *ctx)
{
    pthread_mutex_lock(&u->lock);
    atomic_store_explicit(&u->fault_fn, NULL, memory_order_seq_cst);
    atomic_store_explicit(&u->fault_ctx, ctx, memory_order_seq_cst);
    atomic_store_explicit(&u->fault_fn, fn, memory_order_seq_cst);
    pthread_mutex_unlock(&u->lock);
}

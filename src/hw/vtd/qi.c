/* Queued invalidation (VT-d 5; registers VT-d 1): IQH/IQT/IQA, ICS and the invalidation-
 * completion event (IECTL/IEDATA/IEADDR/IEUADDR), IQERCD, and the descriptors of legacy mode.
 *
 * Processing: when IQT is written (or QI is enabled, or a queue error is cleared), descriptors
 * are fetched from IQH towards IQT and executed in order, each to completion, under u->lock;
 * IQH advances past each completed descriptor. So a wait descriptor always completes after
 * every earlier descriptor (FN=1 and FN=0 behave alike: the model never runs ahead).
 *
 * Errors (VT-d 5):
 *  - IQE: IQT beyond the queue (IQEI 1), a descriptor that cannot be fetched (2), an invalid
 *    type (3: 0, 6-8 without scalable mode, 3 without ECAP.DT, 9 and up), a reserved field set
 *    (4), 256-bit descriptors without scalable mode (5), a tail not 256-bit aligned (6). IQH is
 *    left on the offending descriptor and nothing more is fetched until software clears
 *    FSTS.IQE; then processing resumes at IQH (Linux overwrites the bad slot with a wait
 *    descriptor first).
 *  - ITE: a device-TLB invalidation that the device does not complete within
 *    config.devtlb_timeout_us (or that it refuses, or sent to a SID with no device
 *    registered): ITESID = the SID, a wait descriptor that was waiting for it is aborted
 *    (no status write, no interrupt, IQH moves past it), and fetching stops until ITE is
 *    cleared.
 *  - ICE: a completion whose ITag names no outstanding request of that SID: ICESID = the SID.
 *    Fetching goes on.
 *
 * Decisions where the digest is silent (docs/vtd-qi-ir.md):
 *  - A granularity of 0 in a context-cache or IOTLB descriptor, AM > MAMV in a page-selective
 *    IOTLB descriptor, IM > MHMV in an index-selective IEC descriptor and PD=1 without
 *    ECAP.PDS are reserved-field errors (IQEI 4). DR/DW are ignored (no write buffer).
 *  - A status write to memory the embedder does not back is IQEI 2, IQH on the wait.
 *  - Device-TLB invalidations run concurrently: the queue goes on past a type-3 descriptor and
 *    only a wait descriptor waits for the completions (as the spec's "wait completes after all
 *    earlier descriptors" asks). 32 ITags per unit; when all are in use the queue stalls on
 *    the next type-3 descriptor until one completes.
 *  - Time-outs are checked on every MMIO read (a driver polling FSTS, as Linux does, sees ITE
 *    in time) and whenever the queue runs.
 *
 * Devices are called without u->lock: the queue marks the request and the thread that moved
 * the queue delivers it after unlocking (vtd_ev.deferred -> qi_deferred), then resumes the
 * queue with the answer. */
#include "vtd_ext.h"

#include <softiommu/err.h>
#include <softiommu/log.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QI_ITAGS           32
#define QI_DEFAULT_TIMEOUT 1000000u /* us */
#define QI_MHMV            15       /* ECAP.MHMV the IR module advertises */

enum { SLOT_FREE = 0, SLOT_TO_CALL, SLOT_CALLING, SLOT_WAITING };

struct qi_slot {
    uint8_t state;
    uint64_t gen;      /* changes whenever the slot is freed: stale answers are ignored */
    uint64_t deadline; /* ns, CLOCK_MONOTONIC */
    struct sio_vtd_devtlb_inv inv;
};

struct vtd_qi {
    struct qi_slot slot[QI_ITAGS];
    unsigned busy;        /* slots not free */
    uint64_t gen;         /* slot generation source */
    int calling;          /* a thread is delivering requests to devices */
    int wait_stalled;     /* IQH is on a wait descriptor waiting for completions */
    uint64_t timeout_ns;  /* device-TLB completion time-out */
    uint64_t next_expiry; /* earliest deadline of a waiting slot (UINT64_MAX: none) */
    _Atomic uint64_t descriptors, waits, iqe, ite, ice, devtlb_invs, devtlb_timeouts;
};

const struct vtd_event_src vtd_qi_event = {SIO_VTD_REG_IECTL, SIO_VTD_REG_IEDATA,
                                           SIO_VTD_REG_IEADDR, SIO_VTD_REG_IEUADDR};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void count(_Atomic uint64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* ---- errors --------------------------------------------------------------------------------- */

static void set_iqercd(struct sio_vtd *u, unsigned hi, unsigned lo, uint64_t v)
{
    struct vtd_reg *r = vtd_reg_at(u, SIO_VTD_REG_IQERCD);
    r->val = sio_set64(r->val, hi, lo, v);
}

static void qi_iqe(struct sio_vtd *u, unsigned iqei, struct vtd_ev *ev)
{
    set_iqercd(u, SIO_VTD_IQERCD_IQEI, iqei);
    vtd_fsts_set(u, SIO_VTD_FSTS_IQE, ev);
    count(&VTD_QI(u)->iqe);
}

static void slot_free(struct vtd_qi *q, unsigned i)
{
    if (q->slot[i].state != SLOT_FREE) {
        q->slot[i].state = SLOT_FREE;
        q->slot[i].gen = ++q->gen;
        q->busy--;
    }
}

static uint32_t iq_head(struct sio_vtd *u)
{
    return (uint32_t)sio_get64(vtd_reg_get(u, SIO_VTD_REG_IQH), SIO_VTD_IQ_OFFSET);
}

static unsigned iq_entries(uint64_t iqa)
{
    return 1u << (sio_get64(iqa, SIO_VTD_IQA_QS) + 8);
}

static void set_head(struct sio_vtd *u, uint32_t head)
{
    vtd_reg_set(u, SIO_VTD_REG_IQH, sio_set64(0, SIO_VTD_IQ_OFFSET, head));
}

/* The device of slot i did not answer in time: ITE (VT-d 5). */
static void qi_timeout(struct sio_vtd *u, unsigned i, struct vtd_ev *ev)
{
    struct vtd_qi *q = VTD_QI(u);
    uint16_t sid = q->slot[i].inv.sid;
    slot_free(q, i);
    count(&q->devtlb_timeouts);
    sio_logf(SIO_LOG_DEBUG, "vtd: device-TLB invalidation to %04x timed out (ITag %u)", sid,
             q->slot[i].inv.itag);
    if (vtd_reg_get(u, SIO_VTD_REG_FSTS) & SIO_VTD_FSTS_ITE)
        return; /* already reported; ITESID keeps the first */
    set_iqercd(u, SIO_VTD_IQERCD_ITESID, sid);
    /* The wait descriptor that was pending is aborted: no status write, no interrupt. */
    if (q->wait_stalled) {
        uint64_t iqa = vtd_reg_get(u, SIO_VTD_REG_IQA);
        set_head(u, (iq_head(u) + 1) & (iq_entries(iqa) - 1));
        q->wait_stalled = 0;
    }
    vtd_fsts_set(u, SIO_VTD_FSTS_ITE, ev);
    count(&q->ite);
}

static void check_timeouts(struct sio_vtd *u, struct vtd_ev *ev)
{
    struct vtd_qi *q = VTD_QI(u);
    if (!q->busy || q->next_expiry == UINT64_MAX)
        return;
    uint64_t now = now_ns();
    if (now < q->next_expiry)
        return;
    uint64_t next = UINT64_MAX;
    for (unsigned i = 0; i < QI_ITAGS; i++) {
        struct qi_slot *s = &q->slot[i];
        if (s->state != SLOT_WAITING)
            continue;
        if (s->deadline <= now)
            qi_timeout(u, i, ev);
        else if (s->deadline < next)
            next = s->deadline;
    }
    q->next_expiry = next;
}

/* ---- descriptors (VT-d 5) ------------------------------------------------------------------- */

enum { DONE = 0, STALL = 1 }; /* or -IQEI */

static int desc_cc(struct sio_vtd *u, struct sio_u128 d)
{
    if ((d.lo & SIO_VTD_CC_RSVD_LO) || d.hi)
        return -SIO_VTD_IQEI_RSVD;
    unsigned g = (unsigned)sio_get64(d.lo, SIO_VTD_CC_G);
    if (!g)
        return -SIO_VTD_IQEI_RSVD;
    vtd_inv_context(u, g, (uint16_t)sio_get64(d.lo, SIO_VTD_CC_DID),
                    (uint16_t)sio_get64(d.lo, SIO_VTD_CC_SID),
                    (unsigned)sio_get64(d.lo, SIO_VTD_CC_FM));
    return DONE;
}

static int desc_iotlb(struct sio_vtd *u, struct sio_u128 d)
{
    if ((d.lo & SIO_VTD_IOTLBD_RSVD_LO) || (d.hi & SIO_VTD_IOTLBD_RSVD_HI))
        return -SIO_VTD_IQEI_RSVD;
    unsigned g = (unsigned)sio_get64(d.lo, SIO_VTD_IOTLBD_G);
    unsigned am = (unsigned)sio_get64(d.hi, SIO_VTD_IOTLBD_AM);
    if (!g || (g == SIO_VTD_IOTLB_PAGE && (u->features & SIO_VTD_F_PSI) && am > VTD_MAMV))
        return -SIO_VTD_IQEI_RSVD;
    /* DR/DW (drain reads/writes) need nothing: the model has no buffers. */
    vtd_inv_iotlb(u, g, (uint16_t)sio_get64(d.lo, SIO_VTD_IOTLBD_DID), d.hi & sio_mask64(63, 12),
                  am, (unsigned)sio_get64(d.hi, SIO_VTD_IOTLBD_IH));
    return DONE;
}

static int desc_devtlb(struct sio_vtd *u, struct sio_u128 d, struct vtd_ev *ev)
{
    struct vtd_qi *q = VTD_QI(u);
    if (!(u->features & SIO_VTD_F_DT))
        return -SIO_VTD_IQEI_BAD_TYPE;
    if ((d.lo & SIO_VTD_DEVTLB_RSVD_LO) || (d.hi & SIO_VTD_DEVTLB_RSVD_HI))
        return -SIO_VTD_IQEI_RSVD;
    unsigned i = 0;
    while (i < QI_ITAGS && q->slot[i].state != SLOT_FREE)
        i++;
    if (i == QI_ITAGS)
        return STALL; /* every ITag outstanding: wait for a completion */
    struct qi_slot *s = &q->slot[i];
    memset(&s->inv, 0, sizeof(s->inv));
    s->inv.sid = (uint16_t)sio_get64(d.lo, SIO_VTD_DEVTLB_SID);
    s->inv.pfsid = (uint16_t)(sio_get64(d.lo, SIO_VTD_DEVTLB_PFSID_LO) |
                              (sio_get64(d.lo, SIO_VTD_DEVTLB_PFSID_HI) << 4));
    s->inv.mip = (unsigned)sio_get64(d.lo, SIO_VTD_DEVTLB_MIP);
    s->inv.raw = d.hi;
    sio_ats_range_decode(d.hi & sio_mask64(63, 12), (int)sio_get64(d.hi, SIO_VTD_DEVTLB_S),
                         &s->inv.addr, &s->inv.last);
    s->inv.itag = i;
    s->state = SLOT_TO_CALL;
    s->deadline = now_ns() + q->timeout_ns;
    q->busy++;
    count(&q->devtlb_invs);
    ev->deferred = 1; /* delivered once u->lock is released */
    return DONE;
}

static int desc_iec(struct sio_vtd *u, struct sio_u128 d)
{
    if ((d.lo & SIO_VTD_IEC_RSVD_LO) || d.hi)
        return -SIO_VTD_IQEI_RSVD;
    int global = !sio_get64(d.lo, SIO_VTD_IEC_G);
    unsigned im = (unsigned)sio_get64(d.lo, SIO_VTD_IEC_IM);
    if (!global && im > QI_MHMV)
        return -SIO_VTD_IQEI_RSVD;
    vtd_ir_inv_iec(u, global, (uint32_t)sio_get64(d.lo, SIO_VTD_IEC_IIDX), im);
    return DONE;
}

static int desc_wait(struct sio_vtd *u, struct sio_u128 d, struct vtd_ev *ev)
{
    struct vtd_qi *q = VTD_QI(u);
    if ((d.lo & SIO_VTD_WAIT_RSVD_LO) || (d.hi & SIO_VTD_WAIT_RSVD_HI) ||
        sio_get64(d.lo, SIO_VTD_WAIT_PD)) /* page-request drain needs ECAP.PDS */
        return -SIO_VTD_IQEI_RSVD;
    if (q->busy) { /* earlier device-TLB invalidations not complete yet */
        q->wait_stalled = 1;
        return STALL;
    }
    q->wait_stalled = 0;
    if (sio_get64(d.lo, SIO_VTD_WAIT_SW)) {
        uint32_t data = (uint32_t)sio_get64(d.lo, SIO_VTD_WAIT_SDATA);
        if (sio_mem_write32(&u->mem, d.hi & sio_mask64(63, 2), data))
            return -SIO_VTD_IQEI_FETCH;
    }
    if (sio_get64(d.lo, SIO_VTD_WAIT_IF)) {
        /* ICS.IWC; a new condition only if IWC was clear (VT-d 5, the IECTL rules). */
        struct vtd_reg *ics = vtd_reg_at(u, SIO_VTD_REG_ICS);
        if (!(ics->val & SIO_VTD_ICS_IWC)) {
            ics->val |= SIO_VTD_ICS_IWC;
            vtd_event_raise(u, &vtd_qi_event, ev);
        }
    }
    count(&q->waits);
    return DONE;
}

static int desc_exec(struct sio_vtd *u, struct sio_u128 d, struct vtd_ev *ev)
{
    unsigned type = (unsigned)(sio_get64(d.lo, SIO_VTD_DESC_TYPE_HI) << 4 |
                               sio_get64(d.lo, SIO_VTD_DESC_TYPE_LO));
    switch (type) {
    case SIO_VTD_DESC_CC:
        return desc_cc(u, d);
    case SIO_VTD_DESC_IOTLB:
        return desc_iotlb(u, d);
    case SIO_VTD_DESC_DEVTLB:
        return desc_devtlb(u, d, ev);
    case SIO_VTD_DESC_IEC:
        return desc_iec(u, d);
    case SIO_VTD_DESC_WAIT:
        return desc_wait(u, d, ev);
    default: /* 0; 6-8 need scalable mode; 9, 0xA need page requests; the rest are undefined */
        return -SIO_VTD_IQEI_BAD_TYPE;
    }
}

/* Runs the queue from IQH towards IQT. u->lock held. */
static void qi_run(struct sio_vtd *u, struct vtd_ev *ev)
{
    struct vtd_qi *q = VTD_QI(u);
    if (!(vtd_reg_get(u, SIO_VTD_REG_GSTS) & SIO_VTD_GSTS_QIES))
        return;
    check_timeouts(u, ev);
    if (vtd_reg_get(u, SIO_VTD_REG_FSTS) & (SIO_VTD_FSTS_IQE | SIO_VTD_FSTS_ITE))
        return; /* fetching stopped until software clears the error */
    uint64_t iqa = vtd_reg_get(u, SIO_VTD_REG_IQA);
    uint64_t iqt = vtd_reg_get(u, SIO_VTD_REG_IQT);
    unsigned n = iq_entries(iqa);
    uint32_t head = iq_head(u), tail = (uint32_t)sio_get64(iqt, SIO_VTD_IQ_OFFSET);
    int dw = (int)sio_get64(iqa, SIO_VTD_IQA_DW);
    /* With 256-bit descriptors the queue holds half as many, and IQT bit 4 must be 0. */
    if ((dw ? tail >> 1 : tail) >= n) {
        qi_iqe(u, SIO_VTD_IQEI_BAD_TAIL, ev);
        return;
    }
    if (dw && (tail & 1)) {
        qi_iqe(u, SIO_VTD_IQEI_TAIL_ALIGN, ev);
        return;
    }
    if (head == tail)
        return;
    if (dw) { /* 256-bit descriptors need scalable mode (ECAP.SMTS), which this unit lacks */
        qi_iqe(u, SIO_VTD_IQEI_BAD_DW, ev);
        return;
    }
    uint64_t base = iqa & sio_mask64(63, 12);
    while (head != tail) {
        struct sio_u128 d;
        if (vtd_mem_read128(u, base + 16ULL * head, &d)) {
            qi_iqe(u, SIO_VTD_IQEI_FETCH, ev);
            return;
        }
        int r = desc_exec(u, d, ev);
        if (r == STALL)
            return;
        if (r < 0) {
            qi_iqe(u, (unsigned)-r, ev);
            return;
        }
        count(&q->descriptors);
        head = (head + 1) & (n - 1);
        set_head(u, head);
    }
}

/* ---- device-TLB requests, delivered without u->lock ---------------------------------------- */

static void qi_deferred(struct sio_vtd *u)
{
    struct vtd_qi *q = VTD_QI(u);
    struct vtd_ev ev = {0};
    pthread_mutex_lock(&u->lock);
    if (q->calling) { /* another thread is delivering: it will see our requests too */
        pthread_mutex_unlock(&u->lock);
        return;
    }
    q->calling = 1;
    for (;;) {
        unsigned i = 0;
        while (i < QI_ITAGS && q->slot[i].state != SLOT_TO_CALL)
            i++;
        if (i == QI_ITAGS)
            break;
        struct qi_slot *s = &q->slot[i];
        s->state = SLOT_CALLING;
        uint64_t gen = s->gen;
        struct sio_vtd_devtlb_inv inv = s->inv;
        pthread_mutex_unlock(&u->lock);
        ev.deferred = 0;
        vtd_ev_flush(u, &ev);
        int rc = vtd_ats_deliver(u, &inv);
        pthread_mutex_lock(&u->lock);
        if (s->gen == gen && s->state == SLOT_CALLING) {
            if (rc == SIO_VTD_DEVTLB_DONE) {
                slot_free(q, i);
            } else if (rc == SIO_VTD_DEVTLB_PENDING) {
                s->state = SLOT_WAITING;
                if (s->deadline < q->next_expiry)
                    q->next_expiry = s->deadline;
            } else {
                qi_timeout(u, i, &ev); /* the device will never answer */
            }
        }
        qi_run(u, &ev);
    }
    q->calling = 0;
    pthread_mutex_unlock(&u->lock);
    ev.deferred = 0;
    vtd_ev_flush(u, &ev);
}

int vtd_qi_devtlb_complete(struct sio_vtd *u, uint16_t sid, uint32_t itags)
{
    struct vtd_qi *q = VTD_QI(u);
    if (!q)
        return SIO_ENOTSUP;
    struct vtd_ev ev = {0};
    int rc = 0;
    pthread_mutex_lock(&u->lock);
    check_timeouts(u, &ev);
    for (unsigned i = 0; i < QI_ITAGS; i++) {
        if (!(itags & (1u << i)))
            continue;
        struct qi_slot *s = &q->slot[i];
        if ((s->state == SLOT_CALLING || s->state == SLOT_WAITING) && s->inv.sid == sid) {
            slot_free(q, i);
        } else if (!rc) {
            /* A completion nobody asked for (VT-d 5, ICE). */
            rc = SIO_ENOENT;
            set_iqercd(u, SIO_VTD_IQERCD_ICESID, sid);
            vtd_fsts_set(u, SIO_VTD_FSTS_ICE, &ev);
            count(&q->ice);
        }
    }
    qi_run(u, &ev);
    pthread_mutex_unlock(&u->lock);
    vtd_ev_flush(u, &ev);
    return rc;
}

/* ---- registers ------------------------------------------------------------------------------ */

static void iqt_write(struct sio_vtd *u, struct vtd_reg *r, uint64_t old, uint64_t written,
                      uint64_t bytes, struct vtd_ev *ev)
{
    (void)r;
    (void)old;
    (void)written;
    (void)bytes;
    qi_run(u, ev);
}

/* IQA may change only while QI is off (VT-d 1). */
static void iqa_write(struct sio_vtd *u, struct vtd_reg *r, uint64_t old, uint64_t written,
                      uint64_t bytes, struct vtd_ev *ev)
{
    (void)written;
    (void)bytes;
    (void)ev;
    if (vtd_reg_get(u, SIO_VTD_REG_GSTS) & SIO_VTD_GSTS_QIES)
        r->val = old;
}

static void ics_write(struct sio_vtd *u, struct vtd_reg *r, uint64_t old, uint64_t written,
                      uint64_t bytes, struct vtd_ev *ev)
{
    (void)old;
    (void)written;
    (void)bytes;
    (void)ev;
    if (!(r->val & SIO_VTD_ICS_IWC))
        vtd_event_drop(u, &vtd_qi_event); /* the only status behind the event is gone */
}

static void iectl_write(struct sio_vtd *u, struct vtd_reg *r, uint64_t old, uint64_t written,
                        uint64_t bytes, struct vtd_ev *ev)
{
    (void)r;
    (void)old;
    (void)written;
    (void)bytes;
    vtd_event_ctl_written(u, &vtd_qi_event, ev);
}

static const struct vtd_reg_def qi_regs[] = {
    /* name     offset              size wo reset             rw                   w1c  hook */
    {"IQH", SIO_VTD_REG_IQH, 8, 0, 0, 0, 0, NULL},
    {"IQT", SIO_VTD_REG_IQT, 8, 0, 0, SIO_VTD_IQ_OFFSET_RW, 0, iqt_write},
    {"IQA", SIO_VTD_REG_IQA, 8, 0, 0, SIO_VTD_IQA_RW, 0, iqa_write},
    {"ICS", SIO_VTD_REG_ICS, 4, 0, 0, 0, SIO_VTD_ICS_IWC, ics_write},
    {"IECTL", SIO_VTD_REG_IECTL, 4, 0, SIO_VTD_IECTL_IM, SIO_VTD_IECTL_IM, 0, iectl_write},
    {"IEDATA", SIO_VTD_REG_IEDATA, 4, 0, 0, 0xFFFF, 0, NULL},
    {"IEADDR", SIO_VTD_REG_IEADDR, 4, 0, 0, 0xFFFFFFFC, 0, NULL},
    {"IEUADDR", SIO_VTD_REG_IEUADDR, 4, 0, 0, 0xFFFFFFFF, 0, NULL},
    {"IQERCD", SIO_VTD_REG_IQERCD, 8, 0, 0, 0, 0, NULL},
};

/* ---- module --------------------------------------------------------------------------------- */

static void drop_requests(struct vtd_qi *q)
{
    for (unsigned i = 0; i < QI_ITAGS; i++)
        slot_free(q, i);
    q->wait_stalled = 0;
    q->next_expiry = UINT64_MAX;
}

/* GCMD.QIE (level, VT-d 1): QIES follows; disabling resets IQH to 0 and forgets outstanding
 * device-TLB requests; enabling runs whatever lies between IQH and IQT. */
static void qi_gcmd(struct sio_vtd *u, uint32_t cmd, struct vtd_ev *ev)
{
    struct vtd_reg *gs = vtd_reg_at(u, SIO_VTD_REG_GSTS);
    if (!((cmd ^ (uint32_t)gs->val) & SIO_VTD_GCMD_QIE))
        return;
    if (cmd & SIO_VTD_GCMD_QIE) {
        gs->val |= SIO_VTD_GSTS_QIES;
        atomic_store_explicit(&u->qie, 1, memory_order_release);
        qi_run(u, ev);
    } else {
        gs->val &= ~(uint64_t)SIO_VTD_GSTS_QIES;
        atomic_store_explicit(&u->qie, 0, memory_order_release);
        set_head(u, 0);
        drop_requests(VTD_QI(u));
    }
}

/* IQE or ITE cleared: fetching resumes at IQH (VT-d 5). */
static void qi_fsts_cleared(struct sio_vtd *u, uint32_t cleared, struct vtd_ev *ev)
{
    if (cleared & (SIO_VTD_FSTS_IQE | SIO_VTD_FSTS_ITE))
        qi_run(u, ev);
}

static void qi_poll(struct sio_vtd *u, struct vtd_ev *ev)
{
    struct vtd_qi *q = VTD_QI(u);
    if (q->busy) {
        check_timeouts(u, ev);
        qi_run(u, ev); /* a time-out may have freed the queue */
    }
}

static void qi_caps(struct sio_vtd *u, uint64_t features, uint64_t *cap, uint64_t *ecap)
{
    (void)u;
    (void)cap;
    if (features & SIO_VTD_F_QI)
        *ecap = sio_set64(*ecap, SIO_VTD_ECAP_QI, 1);
}

static int qi_init(struct sio_vtd *u)
{
    struct vtd_qi *q = calloc(1, sizeof(*q));
    if (!q)
        return SIO_ENOMEM;
    unsigned us = u->cfg.devtlb_timeout_us ? u->cfg.devtlb_timeout_us : QI_DEFAULT_TIMEOUT;
    q->timeout_ns = (uint64_t)us * 1000;
    q->next_expiry = UINT64_MAX;
    u->mod[VTD_MOD_qi] = q;
    return 0;
}

static void qi_fini(struct sio_vtd *u)
{
    free(u->mod[VTD_MOD_qi]);
    u->mod[VTD_MOD_qi] = NULL;
}

static void qi_reset(struct sio_vtd *u)
{
    struct vtd_qi *q = VTD_QI(u);
    drop_requests(q);
#define Z(n) atomic_store_explicit(&q->n, 0, memory_order_relaxed);
    Z(descriptors) Z(waits) Z(iqe) Z(ite) Z(ice) Z(devtlb_invs) Z(devtlb_timeouts)
#undef Z
}

void vtd_qi_stats(struct sio_vtd *u, struct sio_vtd_ext_stats *s)
{
    struct vtd_qi *q = VTD_QI(u);
    if (!q)
        return;
#define L(n) atomic_load_explicit(&q->n, memory_order_relaxed)
    s->qi_descriptors = L(descriptors);
    s->qi_waits = L(waits);
    s->qi_iqe = L(iqe);
    s->qi_ite = L(ite);
    s->qi_ice = L(ice);
    s->devtlb_invs = L(devtlb_invs);
    s->devtlb_timeouts = L(devtlb_timeouts);
#undef L
}

void sio_vtd_get_ext_stats(struct sio_vtd *u, struct sio_vtd_ext_stats *out)
{
    memset(out, 0, sizeof(*out));
    vtd_qi_stats(u, out);
    vtd_ir_stats(u, out);
    vtd_pi_stats(u, out);
    vtd_ats_stats(u, out);
}

const struct vtd_module vtd_module_qi = {
    .name = "qi",
    .features = SIO_VTD_F_QI,
    .caps = qi_caps,
    .regs = qi_regs,
    .nregs = sizeof(qi_regs) / sizeof(qi_regs[0]),
    .init = qi_init,
    .fini = qi_fini,
    .reset = qi_reset,
    .gcmd_bits = SIO_VTD_GCMD_QIE,
    .gcmd = qi_gcmd,
    .fsts_cleared = qi_fsts_cleared,
    .poll = qi_poll,
    .deferred = qi_deferred,
};

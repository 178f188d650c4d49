/* Posted interrupts (VT-d 6; CAP.PI): a present, checked posted-format IRTE (IM=1) sends its
 * interrupt to a 64-byte posted-interrupt descriptor (PID) in memory instead of a CPU.
 *
 * Posting (VT-d 6; the digest marks the flow unverified, it is the one Linux and Xen rely on):
 *   1. set PIR[virtual vector];
 *   2. if ON=0 and (URG=1 or SN=0): set ON and send the notification event, vector NV to
 *      NDST (xAPIC: the APIC id in NDST 15:8; x2APIC, i.e. IRTA.EIME=1: all 32 bits);
 *      otherwise no event (ON=1: one is already pending; SN=1: suppressed while the vCPU is
 *      not running, unless the IRTE is urgent).
 * The notification goes out through sio_irq_ops as a compatibility-format MSI: address
 * 0xFEE00000 | dest[7:0] << 12 with dest[31:8] in address bits 63:40 (the x2APIC extended
 * destination convention), data = NV (fixed, edge, physical).
 *
 * Atomicity: a CPU (the VMM side) clears ON and harvests PIR concurrently, so when the
 * embedder's memory gives a host pointer the descriptor is updated with atomic instructions:
 * PIR with an atomic OR, then ON with a compare-and-swap, so whoever sees ON=1 finds the bit.
 * Without a host pointer the descriptor is read and written back through the memory ops under
 * a per-unit mutex (atomic against the model's own posting only).
 *
 * Errors (VBox's reasons, VT-d 4): 0x27 the descriptor cannot be read or written; 0x28 its
 * reserved bits (271:258, 287:280, 511:320) are set — nothing is changed then. */
#include "vtd_ext.h"

#include <softiommu/err.h>

#include <stdlib.h>

struct vtd_pi {
    pthread_mutex_t lock; /* read-modify-write through the memory ops */
    _Atomic uint64_t posted, notifications;
};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PI_HOST_ATOMICS 1 /* descriptor words can be used in place */
#else
#define PI_HOST_ATOMICS 0
#endif

/* Returns 0, or the fault reason; *ctl_out is the control qword after the update. */
static int post_atomic(uint64_t *w, unsigned vv, int urg, uint64_t *ctl_out, int *notify)
{
    uint64_t ctl = __atomic_load_n(&w[SIO_VTD_PID_CTL_QW], __ATOMIC_ACQUIRE);
    if ((ctl & SIO_VTD_PID_CTL_RSVD) || __atomic_load_n(&w[5], __ATOMIC_RELAXED) ||
        __atomic_load_n(&w[6], __ATOMIC_RELAXED) || __atomic_load_n(&w[7], __ATOMIC_RELAXED))
        return SIO_VTD_FR_IR_PID_RSVD;
    __atomic_fetch_or(&w[vv / 64], 1ULL << (vv % 64), __ATOMIC_SEQ_CST);
    for (;;) {
        ctl = __atomic_load_n(&w[SIO_VTD_PID_CTL_QW], __ATOMIC_SEQ_CST);
        int on = (int)sio_get64(ctl, SIO_VTD_PID_ON), sn = (int)sio_get64(ctl, SIO_VTD_PID_SN);
        *notify = !on && (urg || !sn);
        if (!*notify)
            break;
        uint64_t want = sio_set64(ctl, SIO_VTD_PID_ON, 1);
        if (__atomic_compare_exchange_n(&w[SIO_VTD_PID_CTL_QW], &ctl, want, 0, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST)) {
            ctl = want;
            break;
        }
    }
    *ctl_out = ctl;
    return 0;
}

static int post_ops(struct sio_vtd *u, struct vtd_pi *pi, uint64_t pda, unsigned vv, int urg,
                    uint64_t *ctl_out, int *notify)
{
    uint8_t b[SIO_VTD_PID_SIZE];
    int fr = 0;
    pthread_mutex_lock(&pi->lock);
    if (sio_mem_read(&u->mem, pda, b, sizeof(b))) {
        fr = SIO_VTD_FR_IR_PID_FETCH;
        goto out;
    }
    uint64_t w[8];
    for (unsigned i = 0; i < 8; i++)
        w[i] = sio_ld64le(b + 8 * i);
    uint64_t ctl = w[SIO_VTD_PID_CTL_QW];
    if ((ctl & SIO_VTD_PID_CTL_RSVD) || w[5] || w[6] || w[7]) {
        fr = SIO_VTD_FR_IR_PID_RSVD;
        goto out;
    }
    w[vv / 64] |= 1ULL << (vv % 64);
    *notify = !sio_get64(ctl, SIO_VTD_PID_ON) && (urg || !sio_get64(ctl, SIO_VTD_PID_SN));
    if (*notify)
        ctl = sio_set64(ctl, SIO_VTD_PID_ON, 1);
    w[SIO_VTD_PID_CTL_QW] = ctl;
    /* PIR word first, then the control word (ON last). */
    uint8_t pw[8], cw[8];
    sio_st64le(pw, w[vv / 64]);
    sio_st64le(cw, ctl);
    if (sio_mem_write(&u->mem, pda + 8 * (vv / 64), pw, 8) ||
        sio_mem_write(&u->mem, pda + 8 * SIO_VTD_PID_CTL_QW, cw, 8)) {
        fr = SIO_VTD_FR_IR_PID_FETCH;
        goto out;
    }
    *ctl_out = ctl;
out:
    pthread_mutex_unlock(&pi->lock);
    return fr;
}

int vtd_pi_post(struct sio_vtd *u, uint64_t lo, uint64_t hi, int x2apic, struct sio_irq *out)
{
    struct vtd_pi *pi = VTD_PI(u);
    uint64_t pda = (sio_get64(lo, SIO_VTD_PIRTE_PDA_LO) << 6) | (hi & sio_mask64(63, 32));
    unsigned vv = (unsigned)sio_get64(lo, SIO_VTD_PIRTE_VV);
    int urg = (int)sio_get64(lo, SIO_VTD_PIRTE_URG);
    uint64_t ctl = 0;
    int notify = 0, fr;
    void *p =
        (PI_HOST_ATOMICS && u->mem_ptr) ? u->mem_ptr(u->mem.ctx, pda, SIO_VTD_PID_SIZE) : NULL;
    if (p && ((uintptr_t)p & 7) == 0)
        fr = post_atomic(p, vv, urg, &ctl, &notify);
    else
        fr = post_ops(u, pi, pda, vv, urg, &ctl, &notify);
    if (fr)
        return fr;
    uint32_t ndst = (uint32_t)sio_get64(ctl, SIO_VTD_PID_NDST);
    uint32_t dest = x2apic ? ndst : (ndst >> 8) & 0xFF;
    out->vector = vv;
    out->dest = dest;
    out->flags = SIO_IRQ_POSTED | (notify ? SIO_IRQ_NOTIFIED : 0) | (urg ? SIO_IRQ_URGENT : 0) |
                 (x2apic ? SIO_IRQ_X2APIC : 0);
    VTD_XCOUNT(pi->posted);
    if (notify) {
        uint64_t addr =
            SIO_VTD_MSI_ADDR_BASE | ((uint64_t)(dest & 0xFF) << 12) | ((uint64_t)(dest >> 8) << 40);
        VTD_XCOUNT(pi->notifications);
        if (u->irq && u->irq->msi)
            u->irq->msi(u->irq_ctx, addr, (uint32_t)sio_get64(ctl, SIO_VTD_PID_NV));
    }
    return 0;
}

/* ---- module --------------------------------------------------------------------------------- */

static void pi_caps(struct sio_vtd *u, uint64_t features, uint64_t *cap, uint64_t *ecap)
{
    (void)u;
    (void)ecap;
    if (features & SIO_VTD_F_PI)
        *cap = sio_set64(*cap, SIO_VTD_CAP_PI, 1);
}

static int pi_init(struct sio_vtd *u)
{
    struct vtd_pi *pi = calloc(1, sizeof(*pi));
    if (!pi)
        return SIO_ENOMEM;
    if (pthread_mutex_init(&pi->lock, NULL)) {
        free(pi);
        return SIO_ENOMEM;
    }
    u->mod[VTD_MOD_pi] = pi;
    return 0;
}

static void pi_fini(struct sio_vtd *u)
{
    struct vtd_pi *pi = VTD_PI(u);
    if (pi)
        pthread_mutex_destroy(&pi->lock);
    free(pi);
    u->mod[VTD_MOD_pi] = NULL;
}

static void pi_reset(struct sio_vtd *u)
{
    struct vtd_pi *pi = VTD_PI(u);
    atomic_store_explicit(&pi->posted, 0, memory_order_relaxed);
    atomic_store_explicit(&pi->notifications, 0, memory_order_relaxed);
}

void vtd_pi_stats(struct sio_vtd *u, struct sio_vtd_ext_stats *s)
{
    struct vtd_pi *pi = VTD_PI(u);
    if (!pi)
        return;
    s->msi_posted = atomic_load_explicit(&pi->posted, memory_order_relaxed);
    s->pi_notifications = atomic_load_explicit(&pi->notifications, memory_order_relaxed);
}

const struct vtd_module vtd_module_pi = {
    .name = "pi",
    .features = SIO_VTD_F_PI,
    .caps = pi_caps,
    .init = pi_init,
    .fini = pi_fini,
    .reset = pi_reset,
};

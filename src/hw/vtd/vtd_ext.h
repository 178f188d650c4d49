/* Internal interface between the VT-d model's extension modules (issue 4):
 *   qi.c      queued invalidation (VT-d 5): the IQ registers, descriptor processing, IQE/ITE/ICE,
 *             the invalidation-completion event (IECTL), device-TLB invalidation bookkeeping
 *   ir.c      interrupt remapping (VT-d 6): IRTA/SIRTP/IRE/CFI, sio_vtd_msi, the interrupt
 *             entry cache (VT-d 7), the IOAPIC/MSI format helpers
 *   posted.c  posted interrupts (VT-d 6): CAP.PI, posting into the posted-interrupt descriptor
 *   ats.c     ATS (VT-d 2 TT=01, VT-d 5 type 3): ECAP.DT, translation requests, the per-device
 *             device-TLB invalidation callbacks
 * Each file defines one const struct vtd_module (see vtd_internal.h); this header carries what
 * they call in each other. Not for os/ or hv/. */
#ifndef SIO_HW_VTD_EXT_H
#define SIO_HW_VTD_EXT_H

#include "vtd_internal.h"

/* ---- qi.c ----------------------------------------------------------------------------------- */

/* The invalidation-completion event (IECTL/IEDATA/IEADDR/IEUADDR), driven by ICS.IWC. */
extern const struct vtd_event_src vtd_qi_event;
void vtd_qi_stats(struct sio_vtd *u, struct sio_vtd_ext_stats *s);
/* A device-TLB invalidation completion from a device (ats.c forwards the public call). */
int vtd_qi_devtlb_complete(struct sio_vtd *u, uint16_t sid, uint32_t itags);

/* ---- ir.c ----------------------------------------------------------------------------------- */

/* Interrupt entry cache invalidation (VT-d 5 type 4): everything, or the 2^im entries of the
 * naturally aligned block holding index. u->lock held (no-op without IR). */
void vtd_ir_inv_iec(struct sio_vtd *u, int global, uint32_t index, unsigned im);
void vtd_ir_stats(struct sio_vtd *u, struct sio_vtd_ext_stats *s);

/* ---- posted.c ------------------------------------------------------------------------------- */

/* Posts the interrupt of a present, checked posted-format IRTE (VT-d 6) into its descriptor and
 * sends the notification event when the rules ask for it. x2apic: IRTA.EIME (NDST format).
 * Returns 0 (out filled) or the fault reason (0x27 PID not accessible, 0x28 PID reserved
 * bits). Called without u->lock. */
int vtd_pi_post(struct sio_vtd *u, uint64_t lo, uint64_t hi, int x2apic, struct sio_irq *out);
void vtd_pi_stats(struct sio_vtd *u, struct sio_vtd_ext_stats *s);

/* ---- ats.c ---------------------------------------------------------------------------------- */

/* Delivers one device-TLB invalidation request to the device's registered callback. Called
 * without u->lock. Returns the callback's answer (SIO_VTD_DEVTLB_DONE / _PENDING), or -1 when
 * no device answers (nothing registered for the SID). */
int vtd_ats_deliver(struct sio_vtd *u, const struct sio_vtd_devtlb_inv *inv);
void vtd_ats_stats(struct sio_vtd *u, struct sio_vtd_ext_stats *s);

/* ---- shared helpers ------------------------------------------------------------------------- */

static inline int vtd_mem_read128(struct sio_vtd *u, uint64_t pa, struct sio_u128 *v)
{
    if (u->mem_ptr) {
        const void *p = u->mem_ptr(u->mem.ctx, pa, 16);
        if (p) {
            *v = sio_ld128le(p);
            return 0;
        }
    }
    uint8_t b[16];
    if (sio_mem_read(&u->mem, pa, b, 16))
        return -1;
    *v = sio_ld128le(b);
    return 0;
}

/* Module state, NULL when the module's features are not advertised. */
#define VTD_QI(u)  ((struct vtd_qi *)(u)->mod[VTD_MOD_qi])
#define VTD_IR(u)  ((struct vtd_ir *)(u)->mod[VTD_MOD_ir])
#define VTD_PI(u)  ((struct vtd_pi *)(u)->mod[VTD_MOD_pi])
#define VTD_ATS(u) ((struct vtd_ats *)(u)->mod[VTD_MOD_ats])

/* Bumps a statistics counter without a locked instruction (see vtd_stripe_inc). */
#define VTD_XCOUNT(c) vtd_stripe_inc(&(c))

#endif

/* softiommu/vtd_ir.h: interrupt remapping in the host VT-d driver (VT-d 6), and second-level
 * tables owned by someone else (a hypervisor's P2M shared with the unit).
 *
 * Interrupt remapping is programmed the way Linux's intel/irq_remapping.c does it: a table of
 * 2^(S+1) 128-bit IRTEs in the driver's table range, queued invalidation on, IRTA (base, S,
 * EIME when the unit has ECAP.EIM and x2APIC mode is asked for), SIRTP and IRTPS polled, a
 * global interrupt-entry-cache invalidation through the queue (unless CAP.ESIRTPS), IRE and
 * IRES polled, and CFI cleared if a firmware left it set. IRTEs are allocated singly or as
 * naturally aligned blocks of 2^k for multi-MSI; every IRTE change is followed by an
 * index-selective IEC invalidation and a wait descriptor whose status write is polled (Linux's
 * qi_submit_sync). Interrupt remapping needs queued invalidation: a unit without ECAP.QI or
 * ECAP.IR is refused. See docs/host-driver.md. */
#ifndef SOFTIOMMU_VTD_IR_H
#define SOFTIOMMU_VTD_IR_H

#include <softiommu/vtd_driver.h>
#include <softiommu/vtd_regs.h>

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- interrupt remapping ------------------------------------------------------------------ */

struct sio_vtd_ir_config {
    unsigned entries; /* IRTEs, a power of two from 2 to 65536 (0: 256); IRTA.S = log2 - 1 */
    int x2apic;       /* x2APIC mode (IRTA.EIME, 32-bit destinations) when the unit has EIM */
};

/* Turns interrupt remapping on (the sequence above). 0, or: SIO_ENOTSUP (no ECAP.IR, or no
 * queued invalidation: the IEC can only be invalidated through the queue), SIO_EEXIST
 * (already on), SIO_EINVAL (entries not a power of two in range), SIO_ENOSPC (the table range
 * has no contiguous room for the table), SIO_ETIMEDOUT (a status bit never followed). Each
 * refusal is logged with its reason. If a firmware left IRE on, it is turned off first. */
int sio_vtd_drv_ir_enable(struct sio_vtd_drv *, const struct sio_vtd_ir_config *cfg);
/* IRE off (IRES polled) and the table given back; every IRTE is forgotten. Also done by
 * sio_vtd_drv_destroy. */
void sio_vtd_drv_ir_disable(struct sio_vtd_drv *);

struct sio_vtd_ir_info {
    int enabled;
    int x2apic;        /* IRTA.EIME was set */
    int posted;        /* the unit can post (CAP.PI): sio_vtd_drv_ir_set_posted works */
    int esirtps;       /* SIRTP flushes the IEC itself (CAP.ESIRTPS) */
    unsigned mhmv;     /* largest block order an IEC invalidation covers (ECAP.MHMV) */
    unsigned entries;  /* table size */
    unsigned used;     /* IRTEs allocated */
    uint64_t table_pa; /* the table's physical address (IRTE i at table_pa + 16 i) */
};
void sio_vtd_drv_ir_get_info(struct sio_vtd_drv *, struct sio_vtd_ir_info *out);

/* Allocates count IRTEs (a power of two; above 1 a naturally aligned block, as multi-MSI
 * needs, at most 2^MHMV entries so one IEC invalidation covers it) and returns the first
 * index. The entries are not
 * present until programmed. SIO_EINVAL (bad count), SIO_ENOSPC (no such block free),
 * SIO_ESTATE (interrupt remapping is off). */
int sio_vtd_drv_ir_alloc(struct sio_vtd_drv *, unsigned count, uint16_t *index);
/* Makes every IRTE of the block at index not present (P=0, the whole entry cleared), one
 * index-selective IEC invalidation for the block, then frees it. SIO_ENOENT when index is not
 * the first entry of a block of count entries. */
int sio_vtd_drv_ir_free(struct sio_vtd_drv *, uint16_t index, unsigned count);

/* Source validation of an IRTE (VT-d 6: SVT, SQ, SID). SVT values (vtd_regs.h):
 * SIO_VTD_SVT_NONE no check; SIO_VTD_SVT_SID requester id == sid under the SQ mask;
 * SIO_VTD_SVT_BUS requester's bus in [sid 15:8, sid 7:0] (behind a PCIe-to-PCI bridge). */
enum {
    SIO_VTD_SQ_ALL = 0,     /* compare all 16 bits */
    SIO_VTD_SQ_IGN_2 = 1,   /* ignore bit 2 */
    SIO_VTD_SQ_IGN_2_1 = 2, /* ignore bits 2:1 */
    SIO_VTD_SQ_IGN_2_0 = 3, /* ignore bits 2:0 (a whole device's functions) */
};
struct sio_vtd_ir_source {
    unsigned svt; /* SIO_VTD_SVT_* */
    unsigned sq;  /* SIO_VTD_SQ_* (SVT_SID only) */
    uint16_t sid; /* SVT_SID: the requester id; SVT_BUS: first bus << 8 | last bus */
};
/* The usual checks (Linux's set_msi_sid): exactly this requester id, or only the bus range
 * [first, last] for a device whose requests carry a PCIe-to-PCI bridge's id. */
static inline struct sio_vtd_ir_source sio_vtd_ir_source_sid(uint16_t sid)
{
    struct sio_vtd_ir_source s = {SIO_VTD_SVT_SID, SIO_VTD_SQ_ALL, sid};
    return s;
}
static inline struct sio_vtd_ir_source sio_vtd_ir_source_bus(uint8_t first, uint8_t last)
{
    struct sio_vtd_ir_source s = {SIO_VTD_SVT_BUS, 0, (uint16_t)((unsigned)first << 8 | last)};
    return s;
}

/* A remapped-format IRTE (IM=0). */
struct sio_vtd_irte_remap {
    uint8_t vector;
    uint32_t dest; /* APIC id: 8 bits (written to DST 15:8) in xAPIC mode, 32 in x2APIC mode */
    unsigned dlm;  /* delivery mode SIO_IRQ_DLM_* (FIXED, LOWEST, SMI, NMI, INIT, EXTINT) */
    int level;     /* TM: level-triggered */
    int logical;   /* DM: logical destination */
    int rh;        /* redirection hint (Linux sets it) */
    int fpd;       /* fault processing disable */
    struct sio_vtd_ir_source src;
};
/* A posted-format IRTE (IM=1; needs CAP.PI). */
struct sio_vtd_irte_post {
    uint8_t vvector; /* the virtual vector set in the descriptor's PIR */
    uint64_t pda;    /* the 64-byte aligned posted-interrupt descriptor */
    int urgent;      /* URG: notify even while the descriptor has SN set */
    int fpd;
    struct sio_vtd_ir_source src;
};
/* Writes IRTE index (which must be allocated) and invalidates its IEC entry before returning.
 * A not-present entry is written upper half first and the present bit last. SIO_EINVAL (bad
 * field: a destination above 255 in xAPIC mode, a reserved delivery mode, SVT 11, a PDA not
 * 64-byte aligned), SIO_ENOENT (index not allocated), SIO_ENOTSUP (posting without CAP.PI). */
int sio_vtd_drv_ir_set_remap(struct sio_vtd_drv *, uint16_t index,
                             const struct sio_vtd_irte_remap *e);
int sio_vtd_drv_ir_set_posted(struct sio_vtd_drv *, uint16_t index,
                              const struct sio_vtd_irte_post *e);
/* The remappable MSI (VT-d 6) vector n of the block at index sends, as Linux composes it:
 * handle = index, SHV = 1, subhandle = n (data 15:0). SIO_EINVAL when n is outside the block. */
int sio_vtd_drv_ir_msi(struct sio_vtd_drv *, uint16_t index, unsigned n, uint64_t *addr,
                       uint32_t *data);
/* The IRTE index a remappable MSI names (handle, plus the subhandle when SHV); SIO_EINVAL for
 * a message that is not in remappable format. */
int sio_vtd_ir_msi_index(uint64_t addr, uint32_t data, uint16_t *index);

/* ---- second-level tables owned by the caller ---------------------------------------------- */

/* A domain whose second-level table is not the driver's: root_pa is the top-level table of a
 * levels-deep VT-d second-level table (VT-d 2: R/W at bits 0/1, PS at bit 7, address 51:12;
 * bits 6:2, where EPT keeps X and the memory type, reserved) that the caller owns and edits
 * (e.g. a P2M written with SIO_P2M_VTD_SHARED). levels must be one the unit walks (SAGAW:
 * 3 for 39-bit, 4 for 48-bit, 5 for 57-bit), and the caller must only use leaf sizes the unit
 * supports (sio_vtd_drv_get_info: sp2m, sp1g). The driver writes no page-table page for it:
 * sio_vtd_drv_map/unmap refuse it (SIO_EPERM); after changing the table, the owner calls
 * sio_vtd_drv_domain_invalidate. Attach, detach and free work as for any domain (free
 * invalidates the domain; the table itself is left to its owner). NULL (logged) when the
 * unit cannot walk that many levels, root_pa is not 4 KiB aligned, or no domain id is left. */
struct sio_domain *sio_vtd_drv_domain_alloc_shared(struct sio_vtd_drv *, uint64_t root_pa,
                                                   unsigned levels);
/* 1 for a domain from sio_vtd_drv_domain_alloc_shared. */
int sio_vtd_drv_domain_is_shared(const struct sio_domain *);
/* The IOTLB and paging-structure caches of the domain forget [iova, iova+size):
 * page-selective with the smallest covering address mask (domain-selective when the unit
 * lacks PSI or the range is too large), or the whole domain when size is 0. Completed when it
 * returns. For any DMA or shared domain. */
int sio_vtd_drv_domain_invalidate(struct sio_domain *, uint64_t iova, uint64_t size);

#ifdef __cplusplus
}
#endif
#endif

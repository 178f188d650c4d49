/* softiommu/vtd.h: one VT-d remapping unit (one DRHD), the embeddable hardware model.
 *
 * A VMM embeds it: software programs it only through sio_vtd_mmio_read/write and the tables
 * it writes to memory (reached through the embedder's sio_mem_ops), exactly as on silicon;
 * devices present DMA requests with sio_vtd_translate/sio_vtd_dma and interrupts with
 * sio_vtd_msi. Behaviour follows the VT-d digest (shared/spec/vtd.md). */
#ifndef SOFTIOMMU_VTD_H
#define SOFTIOMMU_VTD_H

#include <softiommu/mem.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sio_irq_ops {
    void (*msi)(void *ctx, uint64_t addr, uint32_t data);
};

/* Feature bits for struct sio_vtd_config.features. Each is advertised in CAP/ECAP only when
 * requested and implemented. */
#define SIO_VTD_F_QI   (1ULL << 0)  /* queued invalidation (ECAP.QI) */
#define SIO_VTD_F_IR   (1ULL << 1)  /* interrupt remapping (ECAP.IR; needs QI) */
#define SIO_VTD_F_EIM  (1ULL << 2)  /* x2APIC extended interrupt mode (ECAP.EIM; needs IR) */
#define SIO_VTD_F_PT   (1ULL << 3)  /* pass-through TT=10 (ECAP.PT) */
#define SIO_VTD_F_DT   (1ULL << 4)  /* device-TLB / ATS (ECAP.DT; needs QI) */
#define SIO_VTD_F_SC   (1ULL << 5)  /* snoop control (ECAP.SC) */
#define SIO_VTD_F_CM   (1ULL << 6)  /* caching mode (CAP.CM): the vIOMMU rule */
#define SIO_VTD_F_SP2M (1ULL << 7)  /* 2 MiB second-level superpages (CAP.SLLPS bit 0) */
#define SIO_VTD_F_SP1G (1ULL << 8)  /* 1 GiB second-level superpages (CAP.SLLPS bit 1) */
#define SIO_VTD_F_PI   (1ULL << 9)  /* posted interrupts (CAP.PI; needs IR) */
#define SIO_VTD_F_RWBF (1ULL << 10) /* write-buffer flushing required (CAP.RWBF) */
#define SIO_VTD_F_PSI  (1ULL << 11) /* page-selective IOTLB invalidation (CAP.PSI) */
#define SIO_VTD_F_ZLR  (1ULL << 12) /* zero-length reads (CAP.ZLR) */
#define SIO_VTD_F_C    (1ULL << 13) /* page-walk coherency (ECAP.C) */
/* With this bit set, features means exactly the bits given (so 0 features can be asked
 * for); without it, features == 0 selects SIO_VTD_F_DEFAULT. */
#define SIO_VTD_F_EXPLICIT (1ULL << 63)
#define SIO_VTD_F_DEFAULT                                                                          \
    (SIO_VTD_F_QI | SIO_VTD_F_IR | SIO_VTD_F_EIM | SIO_VTD_F_PT | SIO_VTD_F_DT | SIO_VTD_F_SC |    \
     SIO_VTD_F_SP2M | SIO_VTD_F_SP1G | SIO_VTD_F_PI | SIO_VTD_F_PSI | SIO_VTD_F_ZLR | SIO_VTD_F_C)

/* A cache size meaning "this cache is not built" (every lookup misses). */
#define SIO_VTD_CACHE_OFF (~0u)

struct sio_vtd_config {     /* zero-initialised = sensible defaults */
    unsigned aw_bits;       /* 39, 48 or 57 supported guest address width (0: 48) */
    unsigned nfr;           /* number of fault recording registers (0: 8; 1..256) */
    unsigned iotlb_entries; /* model cache size (0: 1024; SIO_VTD_CACHE_OFF: none) */
    uint64_t features;      /* SIO_VTD_F_* (0: SIO_VTD_F_DEFAULT) */
    /* Extensions (0 = default). */
    unsigned haw_bits;          /* host address width: table and page addresses at or above it are
                                   reserved bits (0: aw_bits; at most 52) */
    unsigned ctx_entries;       /* context-cache size (0: 256; SIO_VTD_CACHE_OFF: none) */
    unsigned psc_entries;       /* paging-structure-cache size (0: 512; SIO_VTD_CACHE_OFF: none) */
    unsigned iec_entries;       /* interrupt-entry-cache size (0: 256; SIO_VTD_CACHE_OFF: none) */
    unsigned devtlb_timeout_us; /* how long a device may take to complete a device-TLB
                                   invalidation before ITE (0: 1000000, one second) */
};

struct sio_vtd;

/* NULL when the configuration is invalid (e.g. aw_bits not 39/48/57, nfr > 256) or memory
 * runs out. mem and irq are borrowed for the unit's lifetime; irq may be NULL (no MSIs). */
struct sio_vtd *sio_vtd_create(const struct sio_vtd_config *cfg, const struct sio_mem_ops *mem,
                               void *mem_ctx, const struct sio_irq_ops *irq, void *irq_ctx);
void sio_vtd_destroy(struct sio_vtd *);
/* size 4 or 8; offset naturally aligned. Unknown offsets read 0 and ignore writes. */
uint64_t sio_vtd_mmio_read(struct sio_vtd *, uint64_t offset, unsigned size);
void sio_vtd_mmio_write(struct sio_vtd *, uint64_t offset, uint64_t value, unsigned size);

enum { SIO_READ = 1, SIO_WRITE = 2 };
/* Optional request attributes or'ed into `access` (PCIe address type, VT-d 2 "TT"): an ATS
 * translation request (AT=01) or an already-translated request (AT=10). Legacy TT=00 and
 * TT=10 contexts block both with fault 0xD. SIO_READ|SIO_WRITE together is an AtomicOp
 * (needs both permissions). */
#define SIO_AT_TRANSLATION_REQ (1u << 4)
#define SIO_AT_TRANSLATED      (1u << 5)

struct sio_xlate {
    uint64_t pa;
    uint64_t page_size;
    unsigned perm;
    unsigned fault_reason;
};

/* Translate one DMA request. Returns 0, or the VT-d fault reason code (also recorded in the
 * fault registers, as the hardware would). */
int sio_vtd_translate(struct sio_vtd *, uint16_t sid, uint64_t iova, unsigned access,
                      struct sio_xlate *out);
/* A whole DMA transfer of len bytes, split at page boundaries; nothing is written past the
 * first faulting page. Returns 0 or a fault reason. */
int sio_vtd_dma(struct sio_vtd *, uint16_t sid, uint64_t iova, void *buf, size_t len,
                unsigned access);

/* ---- Extensions ------------------------------------------------------------------------- */

/* Counters, all since create/reset. Safe to call while other threads translate (the values
 * are then a recent snapshot). */
struct sio_vtd_stats {
    uint64_t translations; /* requests presented (sio_vtd_translate and each page of dma) */
    uint64_t passthrough;  /* answered untranslated: TE=0 or TT=10 */
    uint64_t iotlb_hits, iotlb_misses;
    uint64_t ctx_hits, ctx_misses; /* context cache */
    uint64_t psc_hits, psc_misses; /* paging-structure caches (one per IOTLB-missing walk) */
    uint64_t walks;                /* context/second-level walks through memory */
    uint64_t faults;               /* requests that faulted (recorded or not) */
    uint64_t faults_recorded;      /* written to a fault recording register */
    uint64_t faults_fpd;           /* qualified faults suppressed by FPD=1 */
    uint64_t faults_overflow;      /* dropped: next record full, or PFO already set */
    uint64_t fault_events;         /* fault-event MSIs sent */
    uint64_t inv_ctx_global, inv_ctx_domain, inv_ctx_device;
    uint64_t inv_iotlb_global, inv_iotlb_domain, inv_iotlb_page;
    uint64_t inv_rejected; /* invalidation requests answered with xAIG = 00 */
    uint64_t wbf;          /* write-buffer flushes (GCMD.WBF) */
    uint64_t iotlb_evictions, ctx_evictions, psc_evictions; /* replaced to make room */
    uint64_t iotlb_capacity, ctx_capacity, psc_capacity;    /* entries each cache holds */
};
void sio_vtd_get_stats(struct sio_vtd *, struct sio_vtd_stats *out);

/* Power-on reset: every register back to its reset value, caches emptied, TE off. */
void sio_vtd_reset(struct sio_vtd *);

/* A decoded 128-bit fault recording register (VT-d 1 FRCD). */
struct sio_vtd_fault {
    uint64_t addr;     /* FI: the faulting page address (bits 63:12 of the record) */
    uint16_t sid;      /* source-id of the request */
    uint8_t reason;    /* FR */
    uint8_t read;      /* T1: 1 read, 0 write */
    uint8_t t2;        /* T2 (page request / AtomicOp with T1) */
    uint8_t at;        /* AT: 0 untranslated, 1 translation request, 2 translated */
    uint8_t priv, exe; /* PRIV, EXE */
    uint8_t pasid_present;
    uint32_t pasid;
    uint8_t pending; /* F */
};
void sio_vtd_fault_decode(uint64_t hi, uint64_t lo, struct sio_vtd_fault *out);
/* The record as Linux prints it, e.g. "DMAR: [DMA Write NO_PASID] Request device
 * [0000:00:02.0] fault addr 0x80000000 [fault reason 0x05] PTE Write access is not set";
 * interrupt-remapping reasons print as "[INTR-REMAP] ... fault index 0x..". No newline.
 * Returns snprintf's count. */
int sio_vtd_fault_format(const struct sio_vtd_fault *f, uint16_t segment, char *buf, size_t len);
/* Linux's string for a fault reason ("Unknown" when it has none). Never NULL. */
const char *sio_vtd_fault_reason_str(unsigned reason);
/* 1 when VT-d 4 calls the reason qualified (suppressed by FPD=1), else 0. */
int sio_vtd_fault_qualified(unsigned reason);

/* Observer of every fault the unit detects (recorded == 0: suppressed by FPD or dropped on
 * overflow). Called from the faulting thread, after the registers are updated, with no lock
 * held; fn may call back into the unit. NULL removes it. */
typedef void (*sio_vtd_fault_fn)(void *ctx, const struct sio_vtd_fault *f, int recorded);
void sio_vtd_set_fault_hook(struct sio_vtd *, sio_vtd_fault_fn fn, void *ctx);

/* Debug walk: text lines (root -> context -> each level -> result) for one request, as the
 * hardware would walk it from memory now (caches neither used nor changed, no fault
 * recorded). buf is NUL-terminated and truncated to len. Returns the fault reason the walk
 * ends in, 0 when it translates. */
int sio_vtd_walk_dump(struct sio_vtd *, uint16_t sid, uint64_t iova, unsigned access, char *buf,
                      size_t len);

/* An interrupt request from a device: remapped (or blocked) per the IRTE. */
#define SIO_IRQ_POSTED (1u << 0)
struct sio_irq {
    uint32_t vector;
    uint32_t dest;
    unsigned flags; /* SIO_IRQ_POSTED, ... */
};
int sio_vtd_msi(struct sio_vtd *, uint16_t sid, uint64_t addr, uint32_t data, struct sio_irq *out);

/* ---- Interrupt remapping (VT-d 6) ------------------------------------------------------- */

/* sio_vtd_msi returns 0 when the interrupt is delivered (out filled), the interrupt-remapping
 * fault reason (0x20-0x28) when it is blocked (recorded in the fault registers unless the
 * IRTE's FPD suppresses it), or SIO_EINVAL when addr is not an interrupt address
 * (0xFEEx_xxxx) or out is NULL.
 *
 * out->vector is the vector to deliver, out->dest the destination APIC id: the 8-bit xAPIC id
 * (IRTE DST[15:8]) or, with IRTA.EIME, the 32-bit x2APIC id; for compatibility-format
 * interrupts passed through, the 8-bit id of address bits 19:12. For a posted interrupt
 * (SIO_IRQ_POSTED) the interrupt went to the posted-interrupt descriptor: vector is the
 * virtual vector recorded in PIR, dest the descriptor's notification destination, and
 * SIO_IRQ_NOTIFIED says whether the notification event (vector NV) was sent through
 * sio_irq_ops. The other flags describe the interrupt: */
#define SIO_IRQ_REMAPPED   (1u << 1) /* translated through a remapped-format IRTE */
#define SIO_IRQ_LEVEL      (1u << 2) /* trigger mode level (TM=1) */
#define SIO_IRQ_LOGICAL    (1u << 3) /* destination mode logical (DM=1) */
#define SIO_IRQ_RH         (1u << 4) /* redirection hint */
#define SIO_IRQ_X2APIC     (1u << 5) /* dest is a 32-bit x2APIC id */
#define SIO_IRQ_NOTIFIED   (1u << 6) /* posted: the notification event was sent */
#define SIO_IRQ_URGENT     (1u << 7) /* posted: the IRTE's URG bit */
#define SIO_IRQ_DLM_SHIFT  8         /* delivery mode, 3 bits: */
#define SIO_IRQ_DLM(flags) (((flags) >> SIO_IRQ_DLM_SHIFT) & 7u)
enum {
    SIO_IRQ_DLM_FIXED = 0,
    SIO_IRQ_DLM_LOWEST = 1,
    SIO_IRQ_DLM_SMI = 2,
    SIO_IRQ_DLM_NMI = 4,
    SIO_IRQ_DLM_INIT = 5,
    SIO_IRQ_DLM_EXTINT = 7,
};

/* Format helpers for drivers and tests (pure functions, VT-d 6).
 * A remappable IOAPIC redirection-table entry for IRTE `index`: vector 7:0 (Linux puts the
 * pin number there; the IRTE's vector is what is delivered), polarity 13 (active_low), trigger
 * 15 (level), mask 16, format 48 = 1, index[15] in 11 and index[14:0] in 63:49. */
uint64_t sio_vtd_ioapic_rte(uint16_t index, uint8_t vector, int level, int active_low, int masked);
/* The interrupt message an IOAPIC sends for a remappable RTE: handle = the RTE's index,
 * SHV = 0; data carries the RTE's vector and trigger mode (ignored by remapping). */
void sio_vtd_ioapic_rte_msi(uint64_t rte, uint64_t *addr, uint32_t *data);
/* Remappable MSI address/data (VT-d 6): address 0xFEE | handle[14:0] in 19:5 | format 4 |
 * SHV 3 | handle[15] in 2; data = the subhandle when shv (multi-MSI vector n uses subhandle
 * n), else 0. */
void sio_vtd_msi_remappable(uint16_t handle, int shv, uint16_t subhandle, uint64_t *addr,
                            uint32_t *data);

/* ---- ATS and device-TLBs (VT-d 2 TT=01, VT-d 5 type 3; PCIe ATS) ------------------------ */

/* What a PCIe ATS translation completion carries. */
enum { SIO_ATS_SC = 0, SIO_ATS_UR = 1, SIO_ATS_CA = 4 }; /* completion status */
struct sio_vtd_ats_completion {
    unsigned status; /* SIO_ATS_SC, or SIO_ATS_UR / SIO_ATS_CA (no translation) */
    uint64_t addr;   /* translated address of the first byte of the range (SC) */
    uint64_t size;   /* bytes the translation covers, naturally aligned: 4 KiB, 2 MiB, 1 GiB */
    unsigned perm;   /* SIO_READ | SIO_WRITE granted; 0 with SC: no access (not present) */
    uint64_t entry;  /* the completion's data entry: address 63:12 with the size in the S-bit
                        encoding (bit 11), W bit 1, R bit 0 */
    unsigned fault_reason; /* the VT-d fault behind UR/CA (recorded as usual), else 0 */
};
/* Flags of a translation request. */
#define SIO_ATS_NW (1u << 0) /* no write: the device asks for read access only */
/* A device's ATS translation request (AT=01) for iova. Allowed when the device's context
 * entry has TT=01 (needs ECAP.DT); TT=00/10 answer UR with fault 0xD recorded. A page that is
 * not present, or an address beyond the domain's width, completes successfully with no
 * permission (nothing recorded: the device may ask again or use PRI); table errors answer CA.
 * Returns 0 (status SC) or the fault reason. Translated requests (AT=10) that use the result
 * are presented with sio_vtd_translate(..., access | SIO_AT_TRANSLATED, ...). */
int sio_vtd_ats_translate(struct sio_vtd *, uint16_t sid, uint64_t iova, unsigned flags,
                          struct sio_vtd_ats_completion *out);

/* A device-TLB invalidation request (type-3 descriptor), as delivered to the device. */
struct sio_vtd_devtlb_inv {
    uint16_t sid;   /* the device */
    uint16_t pfsid; /* physical-function SID field of the descriptor (ignored without DIT) */
    unsigned mip;   /* max invalidations pending (the device's queue depth hint) */
    uint64_t addr;  /* first byte of the range to invalidate */
    uint64_t last;  /* last byte (inclusive); S=0: addr + 4095 */
    uint64_t raw;   /* descriptor bits 127:64 as written: ADDR 63:12 | S (bit 0) */
    unsigned itag;  /* invalidation tag, 0..31, to complete with */
};
/* A device's answer. */
#define SIO_VTD_DEVTLB_DONE    0 /* invalidated: the completion is sent now */
#define SIO_VTD_DEVTLB_PENDING 1 /* will answer later with sio_vtd_devtlb_complete */
/* Any other value: the device never answers (the unit reports ITE at once). */
typedef int (*sio_vtd_devtlb_fn)(void *ctx, const struct sio_vtd_devtlb_inv *inv);
/* Registers (fn NULL: removes) the device-TLB of the device sid: every type-3 descriptor for
 * sid is delivered to fn, from the thread that moved the queue, with no lock held. A SID with
 * nothing registered never answers (ITE). SIO_ENOTSUP without ECAP.DT. */
int sio_vtd_devtlb_register(struct sio_vtd *, uint16_t sid, sio_vtd_devtlb_fn fn, void *ctx);
/* The device's invalidation completion for the ITags in the bit vector itags. An ITag with no
 * outstanding request from sid is an invalidation completion error (FSTS.ICE, ICESID = sid):
 * returns SIO_ENOENT then, else 0. */
int sio_vtd_devtlb_complete(struct sio_vtd *, uint16_t sid, uint32_t itags);
/* The PCIe ATS size encoding (S bit): S=0 is one 4 KiB page at addr 63:12; S=1 gives the size
 * by the lowest 0 bit of addr at or above bit 12 (bit 12 clear: 8 KiB, 13 clear with 12 set:
 * 16 KiB, ...). Decodes to [*first, *last]; encodes a naturally aligned power-of-two range of
 * at least 4 KiB as address bits 63:12 and returns S (0 or 1) in *s. */
void sio_ats_range_decode(uint64_t addr, int s, uint64_t *first, uint64_t *last);
uint64_t sio_ats_range_encode(uint64_t first, uint64_t size, int *s);

/* ---- Counters of queued invalidation, interrupt remapping, posting and ATS ---------------- */
struct sio_vtd_ext_stats {
    uint64_t qi_descriptors;         /* descriptors completed */
    uint64_t qi_waits;               /* wait descriptors completed */
    uint64_t qi_iqe, qi_ite, qi_ice; /* queue errors */
    uint64_t devtlb_invs;            /* device-TLB invalidations sent to devices */
    uint64_t devtlb_timeouts;        /* ... that never completed (ITE) */
    uint64_t msi_remapped;           /* interrupts delivered through a remapped-format IRTE */
    uint64_t msi_compat;             /* compatibility-format interrupts passed through */
    uint64_t msi_posted;             /* interrupts posted */
    uint64_t msi_blocked;            /* interrupts blocked by a fault */
    uint64_t pi_notifications;       /* notification events sent */
    uint64_t iec_hits, iec_misses, iec_evictions, iec_capacity;
    uint64_t iec_inv_global, iec_inv_index;
    uint64_t ats_requests; /* translation requests */
};
void sio_vtd_get_ext_stats(struct sio_vtd *, struct sio_vtd_ext_stats *out);

#ifdef __cplusplus
}
#endif
#endif

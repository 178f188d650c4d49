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
    unsigned haw_bits;    /* host address width: table and page addresses at or above it are
                             reserved bits (0: aw_bits; at most 52) */
    unsigned ctx_entries; /* context-cache size (0: 256; SIO_VTD_CACHE_OFF: none) */
    unsigned psc_entries; /* paging-structure-cache size (0: 512; SIO_VTD_CACHE_OFF: none) */
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

#ifdef __cplusplus
}
#endif
#endif

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

struct sio_vtd_config {     /* zero-initialised = sensible defaults */
    unsigned aw_bits;       /* 39, 48 or 57 supported guest address width (0: 48) */
    unsigned nfr;           /* number of fault recording registers (0: 8; 1..256) */
    unsigned iotlb_entries; /* model cache size (0: 1024) */
    uint64_t features;      /* SIO_VTD_F_* (0: SIO_VTD_F_DEFAULT) */
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

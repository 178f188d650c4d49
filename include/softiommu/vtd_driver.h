/* softiommu/vtd_driver.h: the host VT-d driver. It programs ANY VT-d unit through these ops
 * (our model, another emulator, real registers), never through model internals.
 *
 * The driver brings a unit up the way Linux does (CAP/ECAP, address width from SAGAW, root
 * table, SRTP, global context-cache then IOTLB invalidation unless ESRTPS, fault events,
 * translation enable last), keeps its root, context and second-level tables in the table
 * range it is given, and invalidates through the invalidation queue when ECAP.QI is set and
 * through the CCMD/IOTLB registers otherwise. See docs/host-driver.md. Interrupt remapping and
 * domains on caller-owned (shared) second-level tables: softiommu/vtd_ir.h. */
#ifndef SOFTIOMMU_VTD_DRIVER_H
#define SOFTIOMMU_VTD_DRIVER_H

#include <softiommu/mem.h>
#include <softiommu/vtd.h>

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sio_mmio_ops {
    uint64_t (*read)(void *ctx, uint64_t offset, unsigned size);
    void (*write)(void *ctx, uint64_t offset, uint64_t value, unsigned size);
};

struct sio_vtd_drv_config {
    uint64_t table_base, table_size; /* physical range the driver may use for its tables */
    int strict;                      /* 1: invalidate on every unmap; 0: flush queue */
};

/* Further settings for sio_vtd_drv_create_ex; zero (or a NULL pointer) selects each default. */
struct sio_vtd_drv_options {
    uint16_t segment;        /* PCI segment of the unit's devices (messages only) */
    uint64_t fault_msi_addr; /* fault-event MSI address (0: 0xFEE00000) */
    uint32_t fault_msi_data; /* fault-event MSI data (vector) */
    uint64_t identity_size;  /* RAM mapped 1:1 for pass-through without ECAP.PT (0: 4 GiB) */
    unsigned fq_entries;     /* lazy mode: flush when this many unmaps are queued (0: 256) */
    unsigned fq_timeout_us;  /* lazy mode: flush when the oldest is this old (0: 10000) */
    unsigned poll_limit;     /* register/queue polls before SIO_ETIMEDOUT (0: 10^7) */
};

struct sio_vtd_drv;
struct sio_domain;

/* NULL when the unit cannot be driven (logged with the reason: no supported address width,
 * register invalidation unavailable and no QI, table range too small, a command that never
 * completes, ...). */
struct sio_vtd_drv *sio_vtd_drv_create(const struct sio_vtd_drv_config *cfg,
                                       const struct sio_mmio_ops *mmio, void *mmio_ctx,
                                       const struct sio_mem_ops *mem, void *mem_ctx);
struct sio_vtd_drv *sio_vtd_drv_create_ex(const struct sio_vtd_drv_config *cfg,
                                          const struct sio_vtd_drv_options *opt,
                                          const struct sio_mmio_ops *mmio, void *mmio_ctx,
                                          const struct sio_mem_ops *mem, void *mem_ctx);
/* Detaches every device, frees every domain, turns translation and the queue off. Destroy
 * the users of its domains (e.g. a vtd DMA context) first: no release callback runs here. */
void sio_vtd_drv_destroy(struct sio_vtd_drv *);
struct sio_domain *sio_vtd_drv_domain_alloc(struct sio_vtd_drv *); /* NULL on failure */
int sio_vtd_drv_attach(struct sio_domain *, uint16_t sid);         /* 0 or -sio_err */
int sio_vtd_drv_detach(struct sio_domain *, uint16_t sid);
int sio_vtd_drv_map(struct sio_domain *, uint64_t iova, uint64_t pa, uint64_t size, unsigned perm);
int sio_vtd_drv_unmap(struct sio_domain *, uint64_t iova, uint64_t size);
int sio_vtd_drv_passthrough(struct sio_vtd_drv *, uint16_t sid); /* iommu=pt for one device */
int sio_vtd_drv_domain_free(struct sio_domain *);                /* error while devices attached */
int sio_vtd_drv_service_faults(struct sio_vtd_drv *); /* log + clear pending faults; count */

/* ops whose ctx is a struct sio_vtd *: driver + model in one line. */
const struct sio_mmio_ops *sio_vtd_mmio_ops(void);

/* ---- extensions ----------------------------------------------------------------------- */

/* The physical address iova translates to in the domain's tables. 0, or SIO_ENOENT. */
int sio_vtd_drv_iova_to_phys(struct sio_domain *, uint64_t iova, uint64_t *pa);
uint16_t sio_vtd_drv_domain_id(const struct sio_domain *);
/* IOVAs of the domain lie in [0, sio_vtd_drv_domain_limit()). */
uint64_t sio_vtd_drv_domain_limit(const struct sio_domain *);
/* Per-domain invalidation policy, like iommu.strict (default: the config's strict). */
int sio_vtd_drv_domain_set_strict(struct sio_domain *, int strict);
/* Called for each unmapped range once no translation of it can remain cached: inside
 * sio_vtd_drv_unmap in strict mode, after the flush-queue flush in lazy mode (possibly on the
 * driver's timer thread, with the domain's lock held: it must not call the driver for this
 * domain). An IOVA allocator returns ranges here, so no IOVA is reused while stale. */
typedef void (*sio_vtd_release_fn)(void *ctx, uint64_t iova, uint64_t size);
void sio_vtd_drv_domain_set_release(struct sio_domain *, sio_vtd_release_fn fn, void *ctx);
/* Lazy mode: invalidate and release everything queued now. */
int sio_vtd_drv_flush(struct sio_domain *);
/* The domain a device is attached to (the pass-through domain included), or NULL. */
struct sio_domain *sio_vtd_drv_device_domain(struct sio_vtd_drv *, uint16_t sid);
/* Faults serviced so far for one device. */
uint64_t sio_vtd_drv_fault_count(struct sio_vtd_drv *, uint16_t sid);

struct sio_vtd_drv_info {
    unsigned aw;        /* context-entry AW value used for domains (VT-d 2) */
    unsigned levels;    /* page-table levels */
    unsigned width;     /* IOVA bits: min(AGAW, MGAW+1) */
    unsigned nfr, mamv; /* fault records; max address-mask value */
    unsigned ndomains;  /* from CAP.ND */
    int qi, cm, rwbf, pt, psi, sp2m, sp1g, esrtps;
    uint64_t table_pages, table_pages_used;
    unsigned sagaw; /* CAP.SAGAW: bit n set = AW n (n + 2 levels) can be walked */
};
void sio_vtd_drv_get_info(struct sio_vtd_drv *, struct sio_vtd_drv_info *out);

struct sio_vtd_drv_stats {
    uint64_t cc_global, cc_domain, cc_device;        /* context-cache invalidations */
    uint64_t iotlb_global, iotlb_domain, iotlb_page; /* IOTLB invalidations */
    uint64_t qi_waits;                               /* wait descriptors completed */
    uint64_t wbf;                                    /* write-buffer flushes */
    uint64_t fq_flushes;                             /* lazy flush-queue flushes */
    uint64_t faults;                                 /* fault records serviced */
    uint64_t iec_global, iec_index; /* interrupt-entry-cache invalidations (vtd_ir.h) */
};
void sio_vtd_drv_get_stats(struct sio_vtd_drv *, struct sio_vtd_drv_stats *out);

/* Logs the walk of iova in the domain: context entry, then each level's entry (Xen-style). */
void sio_vtd_drv_dump(struct sio_domain *, uint16_t sid, uint64_t iova);

#ifdef __cplusplus
}
#endif
#endif

/* softiommu/vtd_driver.h: the host VT-d driver. It programs ANY VT-d unit through these ops
 * (our model, another emulator, real registers), never through model internals. */
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

struct sio_vtd_drv;
struct sio_domain;

struct sio_vtd_drv *sio_vtd_drv_create(const struct sio_vtd_drv_config *cfg,
                                       const struct sio_mmio_ops *mmio, void *mmio_ctx,
                                       const struct sio_mem_ops *mem, void *mem_ctx);
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

#ifdef __cplusplus
}
#endif
#endif

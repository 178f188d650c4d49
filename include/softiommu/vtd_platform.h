/* softiommu/vtd_platform.h: bring the VT-d driver up the way firmware tells a kernel to, from
 * an ACPI DMAR table (VT-d 8).
 *
 * One driver instance per DRHD, in the order a kernel searches them (units with explicit
 * device scopes first, INCLUDE_PCI_ALL last); every device listed in an RMRR gets its
 * reserved region identity-mapped from the start, in every domain it is later attached to
 * through the platform, and again when it is detached; ATSR/SATC decide which devices may
 * use ATS. The embedder says where each unit's registers are: the platform programs units
 * only through the MMIO ops that lookup returns, like the driver it is built on. */
#ifndef SOFTIOMMU_VTD_PLATFORM_H
#define SOFTIOMMU_VTD_PLATFORM_H

#include <softiommu/acpi.h>
#include <softiommu/vtd_driver.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* For a DRHD's register base: the MMIO ops and context of the unit there. 0, or -1 when no
 * unit lives at that address. */
typedef int (*sio_vtd_unit_lookup_fn)(void *ctx, uint16_t segment, uint64_t reg_base,
                                      const struct sio_mmio_ops **ops, void **mmio_ctx);

struct sio_vtd_platform_config {
    uint64_t table_base, table_size; /* split evenly among the units (4 KiB granules) */
    int strict;                      /* as sio_vtd_drv_config.strict */
    /* Bridges with their secondary buses, to resolve multi-hop device-scope paths (VT-d 8);
     * may be NULL when every scope is a single hop. */
    const struct sio_pci_bridge *bridges;
    size_t nbridges;
};

struct sio_vtd_platform;

/* Parses the DMAR, brings up one driver per DRHD and identity-maps every RMRR for its
 * devices. Returns 0, or: SIO_EPARSE (malformed table; err says where), SIO_ENOENT (a DRHD
 * whose register base has no unit), SIO_ENOTSUP (a unit the driver refuses), SIO_ENOSPC (the
 * table range is too small for the units), SIO_ENOMEM. err (may be NULL) gets a one-line
 * reason for every failure. */
int sio_vtd_platform_create(const void *dmar, size_t len, const struct sio_vtd_platform_config *cfg,
                            sio_vtd_unit_lookup_fn lookup, void *lookup_ctx,
                            const struct sio_mem_ops *mem, void *mem_ctx,
                            struct sio_vtd_platform **out, struct sio_acpi_error *err);
/* Tears down every unit's driver (their domains included). */
void sio_vtd_platform_destroy(struct sio_vtd_platform *);

size_t sio_vtd_platform_nunits(const struct sio_vtd_platform *);
/* Unit i in search order: its driver and DRHD view. */
struct sio_vtd_drv *sio_vtd_platform_unit_drv(const struct sio_vtd_platform *, size_t i);
const struct sio_dmar_unit *sio_vtd_platform_unit(const struct sio_vtd_platform *, size_t i);
/* The driver of the unit that translates the device's requests, or NULL when none does. */
struct sio_vtd_drv *sio_vtd_platform_drv_for(const struct sio_vtd_platform *, uint16_t seg,
                                             uint16_t sid);

/* A DMA domain on the unit that covers the device (NULL: no unit, or out of domains). */
struct sio_domain *sio_vtd_platform_domain_alloc(struct sio_vtd_platform *, uint16_t seg,
                                                 uint16_t sid);
/* Attach the device to dom (allocated by sio_vtd_platform_domain_alloc for a device of the
 * same unit): the device's RMRRs are identity-mapped into dom first, so firmware-owned DMA
 * (USB legacy emulation, graphics stolen memory) keeps working. SIO_EINVAL when dom belongs
 * to another unit; otherwise as sio_vtd_drv_attach. */
int sio_vtd_platform_attach(struct sio_vtd_platform *, struct sio_domain *dom, uint16_t seg,
                            uint16_t sid);
/* Detach the device from dom; a device with RMRRs goes back to its identity domain. */
int sio_vtd_platform_detach(struct sio_vtd_platform *, struct sio_domain *dom, uint16_t seg,
                            uint16_t sid);
/* 1 when ATSR/SATC let the device use ATS (legacy mode), 0 when not (why: the reason). */
int sio_vtd_platform_ats_allowed(const struct sio_vtd_platform *, uint16_t seg, uint16_t sid,
                                 const char **why);
/* Devices given an RMRR identity domain at bring-up, and RMRRs skipped as malformed. */
size_t sio_vtd_platform_rmrr_devices(const struct sio_vtd_platform *);
size_t sio_vtd_platform_rmrr_skipped(const struct sio_vtd_platform *);

#ifdef __cplusplus
}
#endif
#endif

/* Building blocks for the tests that put a machine together from PCI functions, a VT-d unit
 * and the hypervisor: a bridge's descriptor and the hypervisor's configuration over host
 * pmem and an emulated PCI hierarchy. Each test keeps its own layout; only these shapes are
 * shared. */
#ifndef SIO_TEST_MACHINE_H
#define SIO_TEST_MACHINE_H

#include <softiommu/hv.h>
#include <softiommu/mem.h>
#include <softiommu/pcidev.h>

#include <stdint.h>

/* A PCI-to-PCI bridge (class 06/04/00) of PCIe port type `type` (SIO_PCIE_NONE: a
 * conventional one) with secondary bus `sec`, ACS capability when acs != 0. */
static inline struct sio_pci_fn_desc tm_bridge(uint16_t device, int type, unsigned sec, int acs)
{
    struct sio_pci_fn_desc d = {0};
    d.vendor = 0x8086;
    d.device = device;
    d.class_code = 0x060400;
    d.pcie_type = type;
    d.bridge = 1;
    d.secondary_bus = (uint8_t)sec;
    d.acs = acs;
    return d;
}

/* The hypervisor over host memory pm (its own tables in [table_base, +table_size)), the
 * VT-d driver iommu (NULL: none) and the PCI hierarchy t. Everything else zero. */
static inline struct sio_hv_config tm_hv_config(struct sio_pmem *pm, uint64_t table_base,
                                                uint64_t table_size, struct sio_vtd_drv *iommu,
                                                struct sio_pci_topo *t)
{
    struct sio_hv_config hc = {0};
    hc.mem = sio_pmem_ops();
    hc.mem_ctx = pm;
    hc.table_base = table_base;
    hc.table_size = table_size;
    hc.iommu = iommu;
    hc.pci = sio_pci_topo_cfg_ops();
    hc.pci_ctx = t;
    return hc;
}

#endif

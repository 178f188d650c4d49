/* A whole machine for the hypervisor tests: sparse host RAM, one VT-d unit driven by the host
 * driver, a PCI hierarchy with emulated devices whose DMA goes through the unit, and the
 * hypervisor with three VMs.
 *
 *   00:00.0 host bridge (RCiEP)          00:1f.0 storage controller (RCiEP, 32-bit DMA)
 *   00:1c.0 root port (ACS) -> 01:00.0 NIC
 *   00:1c.1 root port (ACS) -> 02:00.0 NIC
 *   00:1d.0 root port (ACS) -> 03:00.0 PCIe-to-PCI bridge -> 04:01.0 32-bit DMA engine,
 *                                                            04:02.0 rogue (conventional)
 *   00:1e.0 root port (ACS) -> 05:00.0 SR-IOV NIC PF (ACS; VFs at 05:10.0, 05:10.2, ...)
 *   00:1b.0 root port (ACS) -> 06:00.0 rogue (PCIe)
 *
 * VM i (0, 1, 2 = "A", "B", "C") has GPA [0, 256 MiB) backed by host [i GiB, i GiB + 256 MiB).
 */
#ifndef SIO_TEST_HV_PLATFORM_H
#define SIO_TEST_HV_PLATFORM_H

#include "test_machine.h"
#include "test_util.h"

#include <softiommu/err.h>
#include <softiommu/hv.h>
#include <softiommu/pcidev.h>
#include <softiommu/vtd.h>
#include <softiommu/vtd_driver.h>

#include <stdlib.h>
#include <string.h>

#define P_GiB      (1ULL << 30)
#define P_RAM_SIZE (256ULL << 20)
#define P_DRV_BASE (6 * P_GiB) /* host driver tables */
#define P_DRV_SIZE (64ULL << 20)
#define P_HV_BASE  (7 * P_GiB) /* hypervisor tables (EPT) */
#define P_HV_SIZE  (16ULL << 20)
#define P_NVM      3

#define RID_HOSTBR  0x0000
#define RID_STORAGE 0x00F8 /* 00:1f.0 */
#define RID_NIC1    0x0100
#define RID_NIC2    0x0200
#define RID_PCIBR   0x0300
#define RID_DMA32   0x0408 /* 04:01.0 */
#define RID_ROGUE2  0x0410 /* 04:02.0 */
#define RID_PF      0x0500
#define RID_VF0     0x0580
#define RID_VF1     0x0582
#define RID_ROGUE   0x0600

struct plat {
    struct sio_pmem *pm;
    struct sio_mem mem;
    struct sio_vtd *u;
    struct sio_vtd_drv *drv;
    struct sio_pci_topo *t;
    struct sio_vtd_port port;
    struct sio_hv *hv;
    struct sio_vm *vm[P_NVM];
    struct sio_nic *nic1, *nic2, *pfnic;
    struct sio_dma32 *dma32, *storage;
    struct sio_rogue *rogue, *rogue2;
};

static inline uint64_t plat_vm_hpa(unsigned i)
{
    return (uint64_t)i * P_GiB;
}

static inline void plat_add(struct plat *p, unsigned bus, unsigned dev, unsigned fn,
                            struct sio_pci_fn_desc d, struct sio_pci_fn **f)
{
    assert_int_equal(sio_pci_add(p->t, bus, dev, fn, &d, f), 0);
}

/* The platform's bridges: root ports have ACS, the PCIe-to-PCI bridge has not. */
static inline struct sio_pci_fn_desc plat_port(unsigned sec, int type)
{
    return tm_bridge(0xA110, type, sec, type == SIO_PCIE_ROOT_PORT);
}

/* Builds the machine; vtd_features 0 = the model's defaults. */
static inline struct plat *plat_new(uint64_t vtd_features)
{
    struct plat *p = calloc(1, sizeof(*p));
    p->pm = sio_pmem_create(8 * P_GiB);
    p->mem.ops = sio_pmem_ops();
    p->mem.ctx = p->pm;
    struct sio_vtd_config vc = {0};
    vc.features = vtd_features;
    p->u = sio_vtd_create(&vc, sio_pmem_ops(), p->pm, NULL, NULL);
    assert_non_null(p->u);
    struct sio_vtd_drv_config dc = {0};
    dc.table_base = P_DRV_BASE;
    dc.table_size = P_DRV_SIZE;
    dc.strict = 1;
    p->drv = sio_vtd_drv_create(&dc, sio_vtd_mmio_ops(), p->u, sio_pmem_ops(), p->pm);
    assert_non_null(p->drv);
    p->t = sio_pci_topo_create(0);
    sio_vtd_port_init(&p->port, p->u, NULL, NULL);
    struct sio_dma_port port = sio_vtd_port(&p->port);
    struct sio_pci_fn *f;
    struct sio_pci_fn_desc d = {0};
    d.vendor = 0x8086;
    d.device = 0x29C0;
    d.class_code = 0x060000;
    d.pcie_type = SIO_PCIE_RCIEP;
    plat_add(p, 0, 0, 0, d, NULL);
    d = sio_dma32_desc();
    d.pcie_type = SIO_PCIE_RCIEP;
    plat_add(p, 0, 0x1f, 0, d, &f);
    p->storage = sio_dma32_attach(f, port);
    plat_add(p, 0, 0x1c, 0, plat_port(1, SIO_PCIE_ROOT_PORT), NULL);
    plat_add(p, 0, 0x1c, 1, plat_port(2, SIO_PCIE_ROOT_PORT), NULL);
    plat_add(p, 0, 0x1d, 0, plat_port(3, SIO_PCIE_ROOT_PORT), NULL);
    plat_add(p, 0, 0x1e, 0, plat_port(5, SIO_PCIE_ROOT_PORT), NULL);
    plat_add(p, 0, 0x1b, 0, plat_port(6, SIO_PCIE_ROOT_PORT), NULL);
    plat_add(p, 1, 0, 0, sio_nic_desc(0), &f);
    p->nic1 = sio_nic_attach(f, port, NULL, NULL);
    plat_add(p, 2, 0, 0, sio_nic_desc(0), &f);
    p->nic2 = sio_nic_attach(f, port, NULL, NULL);
    plat_add(p, 3, 0, 0, plat_port(4, SIO_PCIE_PCI_BRIDGE), NULL);
    plat_add(p, 4, 1, 0, sio_dma32_desc(), &f);
    p->dma32 = sio_dma32_attach(f, port);
    d = sio_rogue_desc();
    d.pcie_type = SIO_PCIE_NONE;
    plat_add(p, 4, 2, 0, d, &f);
    p->rogue2 = sio_rogue_attach(f, port);
    plat_add(p, 5, 0, 0, sio_nic_desc(4), &f);
    p->pfnic = sio_nic_attach(f, port, NULL, NULL);
    plat_add(p, 6, 0, 0, sio_rogue_desc(), &f);
    p->rogue = sio_rogue_attach(f, port);
    struct sio_hv_config hc = tm_hv_config(p->pm, P_HV_BASE, P_HV_SIZE, p->drv, p->t);
    p->hv = sio_hv_create(&hc);
    assert_non_null(p->hv);
    static const char *names[P_NVM] = {"A", "B", "C"};
    for (unsigned i = 0; i < P_NVM; i++) {
        struct sio_vm_config vmc = {names[i], 4, 0};
        p->vm[i] = sio_vm_create(p->hv, &vmc);
        assert_non_null(p->vm[i]);
        assert_int_equal(sio_vm_add_ram(p->vm[i], 0, plat_vm_hpa(i), P_RAM_SIZE), 0);
    }
    return p;
}

static inline void plat_free(struct plat *p)
{
    sio_hv_destroy(p->hv);
    sio_vtd_drv_destroy(p->drv);
    sio_nic_destroy(p->nic1);
    sio_nic_destroy(p->nic2);
    sio_nic_destroy(p->pfnic);
    sio_dma32_destroy(p->dma32);
    sio_dma32_destroy(p->storage);
    sio_rogue_destroy(p->rogue);
    sio_rogue_destroy(p->rogue2);
    sio_pci_topo_destroy(p->t);
    sio_vtd_destroy(p->u);
    sio_pmem_destroy(p->pm);
    free(p);
}

/* What a guest driver does before its device may DMA: set Bus Master Enable. */
static inline void plat_bus_master(struct plat *p, uint16_t rid)
{
    uint32_t cmd = sio_pci_cfg_read(p->t, rid, SIO_PCI_COMMAND, 2);
    sio_pci_cfg_write(p->t, rid, SIO_PCI_COMMAND, cmd | SIO_PCI_CMD_MASTER | SIO_PCI_CMD_MEM, 2);
}

/* FNV-1a over host memory [pa, pa+len). */
static inline uint64_t plat_checksum(struct plat *p, uint64_t pa, size_t len)
{
    uint8_t buf[4096];
    uint64_t h = 1469598103934665603ULL;
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
        assert_int_equal(sio_mem_read(&p->mem, pa + done, buf, n), 0);
        for (size_t i = 0; i < n; i++)
            h = (h ^ buf[i]) * 1099511628211ULL;
        done += n;
    }
    return h;
}

#endif

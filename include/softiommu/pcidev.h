/* softiommu/pcidev.h: a PCI hierarchy and the emulated devices that do DMA in it.
 *
 * The topology (sio_pci_topo) holds functions by requester id: endpoints, multi-function
 * devices, PCIe root ports and switch ports, PCIe-to-PCI and conventional PCI bridges, SR-IOV
 * physical functions whose virtual functions appear when software enables them. Each function
 * has a real configuration space (4 KiB: type 0/1 header, BARs with sizing, the PCI Express,
 * MSI, ACS and SR-IOV capabilities); software sees the hierarchy only through configuration
 * reads and writes (sio_pci_cfg_ops), the way an OS enumerates a bus.
 *
 * Devices reach memory and raise interrupts only through a pluggable DMA port
 * (sio_dma_port): the same NIC can DMA through a VT-d unit or straight to memory. The fabric
 * between a device and its port does what PCIe does: requests from behind a PCIe-to-PCI bridge
 * carry the bridge's requester id (secondary bus, device 0, function 0), a function without
 * Bus Master Enable cannot DMA, and ports with ACS Source Validation drop requests whose
 * requester id does not belong below them. */
#ifndef SOFTIOMMU_PCIDEV_H
#define SOFTIOMMU_PCIDEV_H

#include <softiommu/mem.h>
#include <softiommu/pci.h>
#include <softiommu/vtd.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- DMA ports ----------------------------------------------------------------------------- */

/* Where a device's memory requests and MSI writes go. Each returns 0, a VT-d fault reason
 * (> 0) when an IOMMU blocked the request, or a negative sio_err (SIO_EFAULT: no memory at
 * that address). */
struct sio_dma_port_ops {
    int (*dma)(void *ctx, uint16_t rid, uint64_t addr, void *buf, size_t len, unsigned access);
    int (*msi)(void *ctx, uint16_t rid, uint64_t addr, uint32_t data);
};
struct sio_dma_port {
    const struct sio_dma_port_ops *ops;
    void *ctx;
};

/* Where interrupts end up once the platform has decoded (or remapped) them. */
typedef void (*sio_irq_sink_fn)(void *ctx, uint16_t rid, const struct sio_irq *irq);

struct sio_port_stats {
    uint64_t dma_requests, dma_bytes, dma_blocked; /* blocked: IOMMU fault or unbacked */
    uint64_t msis, msis_blocked;
    unsigned last_fault; /* last VT-d fault reason seen (0: none) */
};

/* No IOMMU: bus addresses are host-physical addresses, MSIs are delivered as written
 * (compatibility format: destination APIC id = address bits 19:12, vector = data bits 7:0). */
struct sio_nommu_port {
    struct sio_mem mem;
    sio_irq_sink_fn sink;
    void *sink_ctx;
    struct sio_port_stats st;
};
void sio_nommu_port_init(struct sio_nommu_port *, const struct sio_mem_ops *mem, void *mem_ctx,
                         sio_irq_sink_fn sink, void *sink_ctx);
struct sio_dma_port sio_nommu_port(struct sio_nommu_port *);

/* Through a VT-d unit: sio_vtd_dma and sio_vtd_msi. */
struct sio_vtd_port {
    struct sio_vtd *vtd;
    sio_irq_sink_fn sink;
    void *sink_ctx;
    struct sio_port_stats st;
};
void sio_vtd_port_init(struct sio_vtd_port *, struct sio_vtd *vtd, sio_irq_sink_fn sink,
                       void *sink_ctx);
struct sio_dma_port sio_vtd_port(struct sio_vtd_port *);

/* ---- configuration space ------------------------------------------------------------------ */

#define SIO_PCI_CFG_SIZE 4096

/* Configuration-space offsets and values (PCI Local Bus 3.0, PCIe Base 6 "configuration
 * space", SR-IOV 1.1). */
#define SIO_PCI_VENDOR_ID      0x00
#define SIO_PCI_DEVICE_ID      0x02
#define SIO_PCI_COMMAND        0x04 /* 16 */
#define SIO_PCI_STATUS         0x06 /* 16 */
#define SIO_PCI_CLASS_REVISION 0x08 /* 32: class code 31:8, revision 7:0 */
#define SIO_PCI_HEADER_TYPE    0x0E /* 8: 6:0 layout, 7 multi-function */
#define SIO_PCI_BAR0           0x10
#define SIO_PCI_PRIMARY_BUS    0x18 /* type 1 */
#define SIO_PCI_SECONDARY_BUS  0x19
#define SIO_PCI_SUBORDINATE    0x1A
#define SIO_PCI_CAP_PTR        0x34
#define SIO_PCI_INT_LINE       0x3C
#define SIO_PCI_CMD_MEM        (1u << 1)
#define SIO_PCI_CMD_MASTER     (1u << 2)
#define SIO_PCI_STATUS_CAPS    (1u << 4)
#define SIO_PCI_HDR_MF         0x80
#define SIO_PCI_BAR_MEM64      0x4 /* bits 2:1 = 10 */
#define SIO_PCI_BAR_PREFETCH   0x8
#define SIO_PCI_CAP_ID_MSI     0x05
#define SIO_PCI_CAP_ID_EXP     0x10
#define SIO_PCI_EXP_FLAGS      0x02 /* PCIe Capabilities register: 7:4 device/port type */
#define SIO_PCI_MSI_FLAGS      0x02 /* Message Control: 0 enable, 7 64-bit */
#define SIO_PCI_MSI_ADDR_LO    0x04
#define SIO_PCI_MSI_ADDR_HI    0x08
#define SIO_PCI_MSI_DATA_64    0x0C
#define SIO_PCI_EXT_CAP_START  0x100
#define SIO_PCI_EXT_CAP_ACS    0x000D
#define SIO_PCI_EXT_CAP_SRIOV  0x0010
#define SIO_PCI_ACS_CAP        0x04      /* 16 */
#define SIO_PCI_ACS_CTRL       0x06      /* 16 */
#define SIO_PCI_ACS_SV         (1u << 0) /* source validation */
#define SIO_PCI_ACS_TB         (1u << 1) /* translation blocking */
#define SIO_PCI_ACS_RR         (1u << 2) /* P2P request redirect */
#define SIO_PCI_ACS_CR         (1u << 3) /* P2P completion redirect */
#define SIO_PCI_ACS_UF         (1u << 4) /* upstream forwarding */
#define SIO_PCI_ACS_ISOLATE                                                                        \
    (SIO_PCI_ACS_SV | SIO_PCI_ACS_RR | SIO_PCI_ACS_CR | SIO_PCI_ACS_UF) /* what Linux requires */
#define SIO_PCI_SRIOV_CTRL      0x08 /* 16: 0 VF Enable, 3 VF MSE, 4 ARI */
#define SIO_PCI_SRIOV_TOTAL_VF  0x0E
#define SIO_PCI_SRIOV_NUM_VF    0x10
#define SIO_PCI_SRIOV_VF_OFFSET 0x14
#define SIO_PCI_SRIOV_VF_STRIDE 0x16
#define SIO_PCI_SRIOV_VF_DID    0x1A
#define SIO_PCI_SRIOV_BAR0      0x24
#define SIO_PCI_SRIOV_VFE       (1u << 0)
#define SIO_PCI_SRIOV_VF_MSE    (1u << 3)

/* PCI Express Capabilities register, Device/Port Type (PCIe Base "PCI Express Capabilities"). */
enum sio_pcie_type {
    SIO_PCIE_NONE = -1, /* conventional PCI: no PCI Express capability */
    SIO_PCIE_ENDPOINT = 0,
    SIO_PCIE_LEGACY_ENDPOINT = 1,
    SIO_PCIE_ROOT_PORT = 4,
    SIO_PCIE_UPSTREAM = 5,
    SIO_PCIE_DOWNSTREAM = 6,
    SIO_PCIE_PCI_BRIDGE = 7,  /* PCIe-to-PCI/PCI-X bridge */
    SIO_PCIE_PCIE_BRIDGE = 8, /* PCI/PCI-X-to-PCIe bridge */
    SIO_PCIE_RCIEP = 9,       /* root-complex integrated endpoint */
};

/* ---- topology ----------------------------------------------------------------------------- */

struct sio_pci_topo;
struct sio_pci_fn;

/* What a function is. Zero-initialised fields mean "none". */
struct sio_pci_fn_desc {
    uint16_t vendor, device;
    uint32_t class_code; /* base << 16 | sub << 8 | prog-if */
    int pcie_type;       /* enum sio_pcie_type; SIO_PCIE_NONE for conventional PCI */
    int bridge;          /* type 1 header; then secondary_bus is the bus it opens */
    uint8_t secondary_bus;
    int acs;              /* ACS capability with SV, RR, CR, UF (enabled by software) */
    int msi;              /* MSI capability (64-bit address) */
    uint64_t bar_size[6]; /* memory BARs: power of two >= 16, 0 = none; 64-bit BARs when
                             bar64 is set take two slots (the next size must be 0) */
    unsigned bar64;       /* bit i: BAR i is 64-bit */
    /* SR-IOV (physical function) when total_vfs > 0. */
    uint16_t total_vfs, vf_offset, vf_stride, vf_device;
    uint64_t vf_bar0_size; /* each VF's BAR0 (64-bit) */
};

struct sio_pci_fn_ops {
    /* BAR accesses (size 1, 2, 4 or 8); offsets are within the BAR. */
    uint64_t (*mmio_read)(void *dev, unsigned bar, uint64_t off, unsigned size);
    void (*mmio_write)(void *dev, unsigned bar, uint64_t off, uint64_t val, unsigned size);
};

/* A hierarchy in segment seg with bus 0 as its root bus. NULL when out of memory. */
struct sio_pci_topo *sio_pci_topo_create(uint16_t seg);
void sio_pci_topo_destroy(struct sio_pci_topo *);

/* Adds a function at bus:dev.fn. The bus must exist (bus 0, or a bridge's secondary bus);
 * a bridge's secondary bus must be new and greater than its own bus. Function 0 of a slot
 * must be added before the others (adding fn > 0 marks function 0 multi-function).
 * SIO_EEXIST, SIO_ENOENT (no such bus / no fn 0), SIO_EINVAL (bad descriptor). */
int sio_pci_add(struct sio_pci_topo *, unsigned bus, unsigned dev, unsigned fn,
                const struct sio_pci_fn_desc *d, struct sio_pci_fn **out);

struct sio_pci_fn *sio_pci_fn_by_rid(struct sio_pci_topo *, uint16_t rid);
uint16_t sio_pci_fn_rid(const struct sio_pci_fn *);
struct sio_bdf sio_pci_fn_bdf(const struct sio_pci_fn *);
int sio_pci_fn_is_vf(const struct sio_pci_fn *);
struct sio_pci_fn *sio_pci_fn_pf(struct sio_pci_fn *); /* a VF's PF; NULL otherwise */
struct sio_pci_topo *sio_pci_fn_topo(struct sio_pci_fn *);
/* The requester id the function's DMA carries when it reaches the root complex: its own, or
 * the id of the bridge that took the transaction over (the top-most one on the path, as
 * Linux's pci_for_each_dma_alias ends). */
uint16_t sio_pci_fn_wire_rid(struct sio_pci_fn *);

/* Attach a device model: its BAR handlers and its DMA port. */
void sio_pci_fn_attach(struct sio_pci_fn *, const struct sio_pci_fn_ops *ops, void *dev,
                       struct sio_dma_port port);
void sio_pci_fn_set_port(struct sio_pci_fn *, struct sio_dma_port port);

/* Configuration access as software sees it: absent functions read all ones and ignore
 * writes; size 1, 2 or 4 at a naturally aligned offset below 4096. VFs appear when their PF's
 * SR-IOV control has VF Enable set with NumVFs in 1..TotalVFs (and vanish when it is
 * cleared). */
uint32_t sio_pci_cfg_read(struct sio_pci_topo *, uint16_t rid, unsigned off, unsigned size);
void sio_pci_cfg_write(struct sio_pci_topo *, uint16_t rid, unsigned off, uint32_t val,
                       unsigned size);
struct sio_pci_cfg_ops {
    uint32_t (*read)(void *ctx, uint16_t rid, unsigned off, unsigned size);
    void (*write)(void *ctx, uint16_t rid, unsigned off, uint32_t val, unsigned size);
};
const struct sio_pci_cfg_ops *sio_pci_topo_cfg_ops(void); /* ctx = the struct sio_pci_topo * */

/* A memory access by a CPU to bus address addr: routed to the function whose memory BAR
 * (Memory Space enabled) or VF BAR (VF MSE) holds it. 0, or SIO_ENOENT when nothing decodes
 * it (reads then return all ones). */
int sio_pci_mmio_read(struct sio_pci_topo *, uint64_t addr, unsigned size, uint64_t *val);
int sio_pci_mmio_write(struct sio_pci_topo *, uint64_t addr, uint64_t val, unsigned size);
/* The address a BAR was programmed with (VFs: their slice of the PF's VF BAR). */
uint64_t sio_pci_fn_bar_addr(struct sio_pci_fn *, unsigned bar);

/* ---- what devices call -------------------------------------------------------------------- */

/* A DMA request from the function: refused with SIO_EPERM when Bus Master Enable is clear or
 * an ACS Source Validation port drops it, SIO_ENOENT without a port; otherwise the port's
 * answer. */
int sio_pci_fn_dma(struct sio_pci_fn *, uint64_t addr, void *buf, size_t len, unsigned access);
/* Raise the function's MSI (vector offset 0): nothing happens (returns SIO_ESTATE) unless
 * software enabled MSI in the capability; otherwise the port's answer. */
int sio_pci_fn_msi(struct sio_pci_fn *);
/* A plain memory write of data to addr, which the platform treats as an MSI when addr is in
 * the interrupt window: what a device that ignores its MSI capability can do. */
int sio_pci_fn_msi_write(struct sio_pci_fn *, uint64_t addr, uint32_t data);
/* A rogue function may put another requester id on its requests (0: its own). */
void sio_pci_fn_spoof_rid(struct sio_pci_fn *, uint16_t rid);

/* ---- emulated devices --------------------------------------------------------------------- */

/* A NIC with RX and TX descriptor rings (16-byte descriptors, e1000-like) in BAR0.
 * RX: the driver posts empty buffers and advances RDT; a packet from the wire is DMA-written
 * to the buffer at RDH, the descriptor written back (length, DD|EOP), RDH advanced, an MSI
 * raised. TX: the driver fills descriptors and advances TDT; the device DMA-reads each, hands
 * the bytes to the wire, writes back DD and raises an MSI. A faulting DMA sets ERR in the
 * descriptor when it can and counts a DMA error; nothing is written past the fault. */
#define SIO_NIC_VENDOR      0x8086
#define SIO_NIC_DEVICE      0x10D3 /* an 82574-like id */
#define SIO_NIC_VF_DEVICE   0x10CA
#define SIO_NIC_BAR0_SIZE   0x4000
#define SIO_NIC_CTRL        0x00 /* 0 RX enable, 1 TX enable, 31 reset */
#define SIO_NIC_STATUS      0x04
#define SIO_NIC_ICR         0x08 /* read clears: 0 RX, 1 TX, 2 DMA error, 3 RX no buffer */
#define SIO_NIC_IMS         0x0C /* interrupt mask set (1 = raise an MSI for that cause) */
#define SIO_NIC_RDBAL       0x10
#define SIO_NIC_RDBAH       0x14
#define SIO_NIC_RDLEN       0x18 /* descriptors in the ring */
#define SIO_NIC_RDH         0x1C
#define SIO_NIC_RDT         0x20
#define SIO_NIC_TDBAL       0x30
#define SIO_NIC_TDBAH       0x34
#define SIO_NIC_TDLEN       0x38
#define SIO_NIC_TDH         0x3C
#define SIO_NIC_TDT         0x40
#define SIO_NIC_CTRL_RXEN   (1u << 0)
#define SIO_NIC_CTRL_TXEN   (1u << 1)
#define SIO_NIC_CTRL_RST    (1u << 31)
#define SIO_NIC_ICR_RX      (1u << 0)
#define SIO_NIC_ICR_TX      (1u << 1)
#define SIO_NIC_ICR_DMAERR  (1u << 2)
#define SIO_NIC_ICR_RXNOBUF (1u << 3)
/* Descriptor: bytes 0-7 buffer address; 8-9 length (TX: driver, RX: device); 10-11 RX buffer
 * size (driver); 12 status (0 DD, 1 EOP, 7 ERR); 13 TX command (0 EOP, 3 RS). */
#define SIO_NIC_DESC_SIZE  16
#define SIO_NIC_DESC_ADDR  0
#define SIO_NIC_DESC_LEN   8
#define SIO_NIC_DESC_BUFSZ 10
#define SIO_NIC_DESC_STA   12
#define SIO_NIC_DESC_CMD   13
#define SIO_NIC_STA_DD     (1u << 0)
#define SIO_NIC_STA_EOP    (1u << 1)
#define SIO_NIC_STA_ERR    (1u << 7)
#define SIO_NIC_MAX_FRAME  9216

struct sio_nic_stats {
    uint64_t rx_packets, rx_bytes, rx_dropped;
    uint64_t tx_packets, tx_bytes;
    uint64_t dma_errors;
    uint64_t msis, msis_failed;
    int last_dma_result; /* last failing DMA: fault reason (> 0) or sio_err */
    uint64_t last_fault_addr;
};
typedef void (*sio_nic_wire_fn)(void *ctx, const void *frame, size_t len);

struct sio_nic;
/* A NIC model on fn (with BAR0 of SIO_NIC_BAR0_SIZE). Transmitted frames go to wire. */
struct sio_nic *sio_nic_attach(struct sio_pci_fn *fn, struct sio_dma_port port,
                               sio_nic_wire_fn wire, void *wire_ctx);
void sio_nic_destroy(struct sio_nic *);
/* The standard descriptor for a NIC function (and for an SR-IOV PF with total_vfs VFs). */
struct sio_pci_fn_desc sio_nic_desc(uint16_t total_vfs);
/* A frame arrives from the wire. 0 when delivered, SIO_ENOSPC when no buffer was posted (or
 * RX disabled), SIO_ERANGE when bigger than the buffer, or the failing DMA's result. */
int sio_nic_receive(struct sio_nic *, const void *frame, size_t len);
void sio_nic_get_stats(struct sio_nic *, struct sio_nic_stats *out);
struct sio_pci_fn *sio_nic_fn(struct sio_nic *);

/* A device whose DMA engine has 32-bit address registers (a conventional PCI card without
 * dual-address cycles): it copies LEN bytes from SRC to DST, both 32-bit bus addresses. */
#define SIO_DMA32_VENDOR 0x1234
#define SIO_DMA32_DEVICE 0x0032
#define SIO_DMA32_SRC    0x00
#define SIO_DMA32_DST    0x04
#define SIO_DMA32_LEN    0x08
#define SIO_DMA32_CMD    0x0C /* write 1: start */
#define SIO_DMA32_STATUS 0x10 /* 0 idle/done, 1 error; RESULT holds the failing DMA's result */
#define SIO_DMA32_RESULT 0x14
struct sio_dma32;
struct sio_dma32 *sio_dma32_attach(struct sio_pci_fn *fn, struct sio_dma_port port);
void sio_dma32_destroy(struct sio_dma32 *);
struct sio_pci_fn_desc sio_dma32_desc(void);

/* A rogue device: it DMAs wherever it is told, to addresses nobody gave it, and can raise
 * MSIs with any address/data. Every attempt is recorded. */
struct sio_rogue_stats {
    uint64_t attempts, succeeded, blocked;
    int last_result;
};
struct sio_rogue;
struct sio_rogue *sio_rogue_attach(struct sio_pci_fn *fn, struct sio_dma_port port);
void sio_rogue_destroy(struct sio_rogue *);
struct sio_pci_fn_desc sio_rogue_desc(void);
/* One attempt: the port's answer (0 = it got through). */
int sio_rogue_dma(struct sio_rogue *, uint64_t addr, void *buf, size_t len, unsigned access);
int sio_rogue_msi(struct sio_rogue *, uint64_t addr, uint32_t data);
void sio_rogue_get_stats(struct sio_rogue *, struct sio_rogue_stats *out);

#ifdef __cplusplus
}
#endif
#endif

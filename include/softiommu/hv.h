/* softiommu/hv.h: the hypervisor layer.
 *
 * Host memory for the hypervisor's own tables (sio_pgpool), a VM's guest-physical to
 * host-physical map written as a real Intel EPT table (sio_p2m), VMs with guest RAM, device
 * assignment of whole IOMMU groups through the host VT-d driver, and the Xen-style IOMMU
 * hypercalls. docs/hypervisor.md tells the story; the EPT bit names live in src/hv/ept.h. */
#ifndef SOFTIOMMU_HV_H
#define SOFTIOMMU_HV_H

#include <softiommu/mem.h>
#include <softiommu/vtd.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- host pages for hypervisor tables ------------------------------------------------------ */

/* A pool of 4 KiB host-physical pages [base, base + size) that the hypervisor writes its
 * tables into (through mem). Pages are zeroed when handed out. NULL on bad arguments
 * (unaligned, empty, more than 2^32 pages) or out of memory. */
struct sio_pgpool;
struct sio_pgpool *sio_pgpool_create(const struct sio_mem_ops *mem, void *mem_ctx, uint64_t base,
                                     uint64_t size);
void sio_pgpool_destroy(struct sio_pgpool *);
/* 0 with *pa set to a zeroed page; SIO_ENOSPC when the pool is empty; SIO_EFAULT when the
 * page cannot be written. */
int sio_pgpool_alloc(struct sio_pgpool *, uint64_t *pa);
/* 0, or SIO_EINVAL for an address the pool never handed out (including a double free). */
int sio_pgpool_free(struct sio_pgpool *, uint64_t pa);
uint64_t sio_pgpool_used(struct sio_pgpool *); /* pages handed out */
const struct sio_mem *sio_pgpool_mem(const struct sio_pgpool *);

/* ---- P2M: guest-physical -> host-physical, as an EPT table in host memory ------------------ */

enum { SIO_EXEC = 4 }; /* with SIO_READ / SIO_WRITE of vtd.h: an access or a permission */
#define SIO_RW  (SIO_READ | SIO_WRITE)
#define SIO_RWX (SIO_READ | SIO_WRITE | SIO_EXEC)

/* EPT memory types for sio_p2m_map (SDM EPT). */
enum { SIO_MT_UC = 0, SIO_MT_WC = 1, SIO_MT_WT = 4, SIO_MT_WP = 5, SIO_MT_WB = 6 };

#define SIO_P2M_NO_2M (1u << 0) /* never use 2 MiB leaves */
#define SIO_P2M_NO_1G (1u << 1) /* never use 1 GiB leaves */
/* Write only what a legacy VT-d second-level walk also accepts (R, W, PS, address; no X, no
 * memory type), so that the table can be shared with an IOMMU domain as Xen does. Execute
 * permission and memory types are then refused by sio_p2m_map (SIO_ENOTSUP). */
#define SIO_P2M_VTD_SHARED (1u << 2)

struct sio_p2m_config {
    unsigned maxphyaddr; /* host physical address width, 36..52 (0: 46) */
    unsigned flags;      /* SIO_P2M_* */
    unsigned fault_log;  /* most recent EPT faults kept (0: 16) */
};

/* What an EPT violation or misconfiguration VM exit reports. */
struct sio_ept_fault {
    unsigned exit_reason; /* 48 EPT violation, 49 EPT misconfiguration (SDM basic exit reasons) */
    unsigned access;      /* SIO_READ, SIO_WRITE or SIO_EXEC */
    unsigned level;       /* level of the entry the walk stopped at: 4 PML4 .. 1 PT */
    uint64_t gpa;
    uint64_t qual;  /* exit qualification for EPT violations (SDM EPT); 0 for misconfigs */
    uint64_t entry; /* the entry the walk stopped at */
};

struct sio_p2m_stats {
    uint64_t translations; /* walks done */
    uint64_t violations, misconfigs;
    uint64_t table_pages;                     /* 4 KiB table pages, including the root */
    uint64_t leaves_4k, leaves_2m, leaves_1g; /* leaf entries present */
};

struct sio_p2m;
/* An empty P2M whose table pages come from pool. NULL on bad config or no memory. */
struct sio_p2m *sio_p2m_create(struct sio_pgpool *pool, const struct sio_p2m_config *cfg);
/* Frees every table page back to the pool. */
void sio_p2m_destroy(struct sio_p2m *);

/* Map [gpa, gpa+size) to [hpa, hpa+size) with perm (SIO_READ|SIO_WRITE|SIO_EXEC) and memory
 * type mt, using 1 GiB and 2 MiB leaves wherever both addresses are aligned. All arguments
 * 4 KiB aligned, size > 0. Write without read is refused (an EPT misconfiguration), as is
 * anything already mapped in the range (SIO_EEXIST: nothing is changed then), an address
 * beyond 48 bits (guest) or MAXPHYADDR (host) (SIO_ERANGE), a reserved memory type
 * (SIO_EINVAL), and X or a memory type other than UC in a VT-d shared table (SIO_ENOTSUP).
 * SIO_ENOSPC when the pool runs out: what was mapped stays mapped. */
int sio_p2m_map(struct sio_p2m *, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned perm,
                unsigned mt);
/* Unmap every page in [gpa, gpa+size), splitting large leaves that straddle the edges and
 * freeing table pages left empty. SIO_ENOTMAPPED when nothing in the range was mapped. */
int sio_p2m_unmap(struct sio_p2m *, uint64_t gpa, uint64_t size);

/* Translate one access as the CPU's EPT walk does. Returns 0 with *hpa set (may be NULL), or
 * SIO_EXIT_EPT_VIOLATION (48) / SIO_EXIT_EPT_MISCONFIG (49) with *fault filled (may be NULL);
 * every fault is counted and kept in the fault log. */
int sio_p2m_translate(struct sio_p2m *, uint64_t gpa, unsigned access, uint64_t *hpa,
                      struct sio_ept_fault *fault);
/* Guest memory as the guest sees it: len bytes at gpa, page by page through the walk. 0, an
 * exit reason (48/49, nothing beyond the faulting page touched), or SIO_EFAULT when host
 * memory is not backed. */
int sio_p2m_read(struct sio_p2m *, uint64_t gpa, void *buf, size_t len,
                 struct sio_ept_fault *fault);
int sio_p2m_write(struct sio_p2m *, uint64_t gpa, const void *buf, size_t len,
                  struct sio_ept_fault *fault);

/* The EPTP a VMCS would hold: PML4 address, 4-level walk, write-back paging structures. */
uint64_t sio_p2m_eptp(const struct sio_p2m *);
/* The PML4 table's host-physical address (what a shared VT-d context entry points at). */
uint64_t sio_p2m_root(const struct sio_p2m *);
unsigned sio_p2m_flags(const struct sio_p2m *);
void sio_p2m_get_stats(struct sio_p2m *, struct sio_p2m_stats *out);
/* Copies up to max of the most recent faults, oldest first; returns how many. */
unsigned sio_p2m_faults(struct sio_p2m *, struct sio_ept_fault *out, unsigned max);

/* ---- the host's view of PCI: enumeration and IOMMU groups ---------------------------------- */

/* One function as enumeration found it through configuration reads. */
struct sio_pci_dev_info {
    uint16_t rid;
    uint16_t vendor, device; /* VFs: the PF's vendor and the SR-IOV VF Device ID */
    uint32_t class_code;
    int pcie_type; /* PCI Express Device/Port Type, or -1 for conventional PCI */
    int bridge;    /* type 1 header */
    uint8_t secondary, subordinate;
    int multifunction; /* its slot's function 0 has the multi-function bit */
    int is_vf;
    uint16_t pf_rid;     /* VFs: their PF */
    int has_parent;      /* 0 on the root bus */
    uint16_t parent_rid; /* the bridge above */
    int acs_isolated;    /* ACS with SV, RR, CR and UF enabled */
    uint16_t dma_alias;  /* requester id its DMA carries at the root complex */
    unsigned group;      /* IOMMU group number */
};

#define SIO_ENUM_ENABLE_ACS (1u << 0) /* enable ACS SV|RR|CR|UF where implemented (Linux does) */

struct sio_pci_cfg_ops;
struct sio_pci_enum;
/* Scans bus 0 and every bus behind a bridge, function 0 then (multi-function) 1..7, follows
 * the capability lists, lists the VFs of enabled SR-IOV PFs, and computes IOMMU groups (see
 * docs/hypervisor.md for the rules and their ACS assumptions). NULL when out of memory. */
struct sio_pci_enum *sio_pci_enumerate(const struct sio_pci_cfg_ops *cfg, void *cfg_ctx,
                                       uint16_t seg, unsigned flags);
void sio_pci_enum_destroy(struct sio_pci_enum *);
unsigned sio_pci_enum_count(const struct sio_pci_enum *);
const struct sio_pci_dev_info *sio_pci_enum_dev(const struct sio_pci_enum *, unsigned i);
const struct sio_pci_dev_info *sio_pci_enum_find(const struct sio_pci_enum *, uint16_t rid);
unsigned sio_pci_enum_ngroups(const struct sio_pci_enum *);
/* The members of a group (in enumeration order); returns how many there are, writing at most
 * max of them. */
unsigned sio_pci_enum_group(const struct sio_pci_enum *, unsigned group, uint16_t *rids,
                            unsigned max);
/* Enable num VFs on an SR-IOV PF through its capability (num 0 disables). 0, SIO_ENOENT (no
 * such function or no SR-IOV), SIO_ERANGE (num above TotalVFs), SIO_EIO (VF Enable did not
 * stick). Enumerate again afterwards. */
int sio_pci_sriov_enable(const struct sio_pci_cfg_ops *cfg, void *cfg_ctx, uint16_t pf_rid,
                         unsigned num);

/* ---- the hypervisor: VMs, device assignment, hypercalls ------------------------------------ */

struct sio_vtd_drv;
struct sio_domain;
struct sio_hv;
struct sio_vm;

/* Without an IOMMU a device given to a VM can reach all of host memory: the hypervisor
 * refuses to assign anything unless this flag says the machine's owner accepts that (the
 * equivalent of VFIO's no-IOMMU mode). */
#define SIO_HV_UNSAFE_NOIOMMU (1u << 0)

/* Which requesters an IRTE accepts (VT-d 6 source validation), decided as Linux's
 * set_msi_sid does: the requester id the unit sees (SVT=01, SQ=00: all 16 bits), or, for a
 * device behind a PCIe-to-PCI bridge (whose requests carry the bridge's secondary bus with
 * devfn 0), only the bus: the requester's bus must lie in [first_bus, last_bus] (SVT=10). */
struct sio_hv_irq_src {
    uint16_t sid;  /* the requester id the unit sees (the DMA alias) */
    int bus_range; /* check the bus range instead of sid */
    uint8_t first_bus, last_bus;
};

/* Interrupt remapping as the owner of the unit's interrupt-remapping table offers it (the
 * host driver; the hypervisor never writes an IRTE itself). Each call writes the IRTE,
 * invalidates the interrupt entry cache, and returns the remappable MSI address/data the
 * device must send. IRTEs check the source (src). */
struct sio_hv_ir_ops {
    /* Remapped format: deliver `vector` to physical APIC `dest`. */
    int (*remap)(void *ctx, const struct sio_hv_irq_src *src, uint8_t vector, uint32_t dest,
                 uint64_t *addr, uint32_t *data);
    /* Posted format: set virtual vector `vvector` in the posted-interrupt descriptor at pda.
     * NULL when the unit cannot post (no CAP.PI). */
    int (*post)(void *ctx, const struct sio_hv_irq_src *src, uint8_t vvector, uint64_t pda,
                uint64_t *addr, uint32_t *data);
    /* The IRTE behind addr/data is no longer used: make it not present (and invalidate). */
    void (*release)(void *ctx, uint64_t addr, uint32_t data);
};

/* The host driver's interrupt remapping (softiommu/vtd_ir.h) as sio_hv_ir_ops, ctx = the
 * driver: remapped IRTEs (fixed, physical, RH as Linux), posted IRTEs when the unit can post.
 * NULL when the driver has interrupt remapping off. sio_hv_create uses it by itself when its
 * config names a driver with remapping on and no other ir. */
const struct sio_hv_ir_ops *sio_hv_vtd_ir_ops(struct sio_vtd_drv *drv);

struct sio_hv_config {
    const struct sio_mem_ops *mem; /* host physical memory */
    void *mem_ctx;
    uint64_t table_base, table_size;   /* host pages for the hypervisor's own tables (P2Ms) */
    struct sio_vtd_drv *iommu;         /* the host VT-d driver; NULL: no IOMMU */
    const struct sio_pci_cfg_ops *pci; /* configuration access to the PCI hierarchy */
    void *pci_ctx;
    uint16_t segment;
    unsigned flags;                 /* SIO_HV_* */
    const struct sio_hv_ir_ops *ir; /* NULL: the driver's (sio_hv_vtd_ir_ops) if it remaps
                                       interrupts, else compatibility-format MSIs */
    void *ir_ctx;
};

/* Enumerates PCI (enabling ACS) and computes IOMMU groups. NULL on bad config / no memory. */
struct sio_hv *sio_hv_create(const struct sio_hv_config *cfg);
/* Destroys every VM (deassigning its devices) and releases host claims. */
void sio_hv_destroy(struct sio_hv *);
/* Why the last call on this hypervisor or one of its VMs was refused, in words that name
 * the device and its owner ("0000:01:00.0 is assigned to VM 'A'"). "" after a success. */
const char *sio_hv_last_error(struct sio_hv *);
/* Enumerate again (after SR-IOV VFs were enabled). Ownership is kept; SIO_EBUSY when an
 * assigned device vanished. */
int sio_hv_rescan(struct sio_hv *);
const struct sio_pci_enum *sio_hv_pci(struct sio_hv *);
int sio_hv_has_iommu(const struct sio_hv *);

/* The host keeps a device for itself. passthrough = 1 is iommu=pt for it (identity, through
 * the driver's pass-through domain); 0 records the claim and leaves its DMA domain to the
 * host's DMA API. SIO_EOWNED when a VM owns it. */
int sio_hv_host_claim(struct sio_hv *, uint16_t rid, int passthrough);
int sio_hv_host_release(struct sio_hv *, uint16_t rid);

enum sio_owner_kind { SIO_OWNER_NONE = 0, SIO_OWNER_HOST = 1, SIO_OWNER_VM = 2 };
/* Who owns a device; *vm is set for SIO_OWNER_VM (may be NULL). */
enum sio_owner_kind sio_hv_owner(struct sio_hv *, uint16_t rid, struct sio_vm **vm);

struct sio_vm_config {
    const char *name;   /* shown in messages; copied */
    unsigned vcpus;     /* 1..64 (0: 1) */
    unsigned p2m_flags; /* SIO_P2M_* for the VM's EPT; SIO_P2M_VTD_SHARED: the VM's devices
                           use the EPT itself as their second-level table (see below) */
};
struct sio_vm *sio_vm_create(struct sio_hv *, const struct sio_vm_config *cfg);
/* Deassigns every device of the VM, then frees its memory map. */
void sio_vm_destroy(struct sio_vm *);
const char *sio_vm_name(const struct sio_vm *);
struct sio_p2m *sio_vm_p2m(struct sio_vm *);
struct sio_hv *sio_vm_hv(struct sio_vm *);

/* Give the VM guest RAM [gpa, gpa+size) backed by host [hpa, hpa+size) (4 KiB aligned). The
 * host range must not be another VM's RAM or the hypervisor's table pages (SIO_EOWNED, the
 * owner named); a GPA already in use is SIO_EEXIST. With devices assigned, the new RAM is
 * also mapped for them. */
int sio_vm_add_ram(struct sio_vm *, uint64_t gpa, uint64_t hpa, uint64_t size);
/* Take guest RAM [gpa, gpa+size) away from the VM (a balloon, a hot-unplug): it leaves the
 * EPT and the VM's IOMMU domain, and when this returns no device of the VM can reach it any
 * more (the IOMMU's caches invalidated). The range must lie inside one region given with
 * sio_vm_add_ram (SIO_ENOENT otherwise); the host pages are free again. */
int sio_vm_remove_ram(struct sio_vm *, uint64_t gpa, uint64_t size);
/* The guest's own memory accesses, through its EPT: 0, or an EPT exit reason (48/49). */
int sio_vm_read(struct sio_vm *, uint64_t gpa, void *buf, size_t len);
int sio_vm_write(struct sio_vm *, uint64_t gpa, const void *buf, size_t len);

/* Assign the IOMMU group of device rid to the VM. Every endpoint of the group becomes the
 * VM's; every requester id they can use (their own and their DMA alias) is attached to the
 * VM's IOMMU domain, in which all of the VM's RAM is mapped GPA -> HPA, so a guest that knows
 * nothing about the IOMMU programs its devices with guest-physical addresses. With a P2M made
 * SIO_P2M_VTD_SHARED the domain is the EPT itself (sio_vtd_drv_domain_alloc_shared on
 * sio_p2m_root, 4 levels), when the unit can walk it (48-bit AGAW in SAGAW; the P2M is told to
 * use only the large pages the unit supports); otherwise the VM gets separate tables. Refusals:
 * SIO_ENOENT (no such device), SIO_EINVAL (a bridge), SIO_EEXIST (already this VM's),
 * SIO_EOWNED (the device or a group member belongs to someone else: the message names the
 * owner), SIO_EGROUP (the group is not viable: a member is used by the host), SIO_ENOTSUP
 * (no IOMMU, and unsafe assignment not allowed). */
int sio_hv_assign(struct sio_vm *, uint16_t rid);
/* Take the group back: each requester id is detached (the driver invalidates the context
 * cache and the IOTLB before returning), bus mastering and MSI are turned off, the group is
 * free again; when the VM has no device left its IOMMU domain is emptied and freed. SIO_EPERM
 * when the VM does not own the device. */
int sio_hv_deassign(struct sio_vm *, uint16_t rid);
/* Devices the VM owns; returns the count, writing at most max rids. */
unsigned sio_vm_devices(struct sio_vm *, uint16_t *rids, unsigned max);
/* The VM's IOMMU domain (NULL before its first assignment), and whether it is the shared P2M. */
struct sio_domain *sio_vm_domain(struct sio_vm *);
int sio_vm_p2m_shared(struct sio_vm *);

/* ---- hypercalls (the Xen IOMMU interface of a guest that knows about the IOMMU) ------------ */

enum sio_hc_op {
    SIO_HC_IOMMU_DETECTED = 1,  /* -> 1 when the platform has an IOMMU, else 0 */
    SIO_HC_IOSPACE_CREATE = 2,  /* rid: the device gets its own, empty I/O space */
    SIO_HC_IOSPACE_DESTROY = 3, /* rid: back to the VM's GPA -> HPA space */
    SIO_HC_MAP = 4,             /* rid, bus_addr, gpa, size, perm: map guest memory */
    SIO_HC_UNMAP = 5,           /* rid, bus_addr, size */
};
struct sio_hypercall {
    unsigned op;
    uint16_t rid;
    uint64_t bus_addr, gpa, size;
    unsigned perm; /* SIO_READ | SIO_WRITE */
};
/* Returns >= 0 on success, or a negative sio_err when refused: SIO_EINVAL (bad op or
 * arguments), SIO_EOWNED (the caller does not own the device), SIO_EPERM (the memory is not
 * the caller's, or asks for more access than the caller has), SIO_ENOENT (no I/O space),
 * SIO_EEXIST (I/O space exists / already mapped), SIO_EGROUP (the device shares its requester
 * id with another), SIO_ENOTSUP (no IOMMU). Every refusal is counted and explained in
 * sio_hv_last_error. */
long sio_hv_hypercall(struct sio_vm *caller, const struct sio_hypercall *hc);

struct sio_vm_stats {
    uint64_t hypercalls, hc_refused;
    uint64_t hc_refused_by_err[32]; /* index -err (e.g. [-SIO_EPERM]) */
    uint64_t assigns, deassigns;
    uint64_t irqs; /* interrupts delivered to the VM's vCPUs */
    uint64_t irqs_per_vcpu[64];
    uint32_t last_vector;
    unsigned last_vcpu;
    uint64_t irqs_posted;   /* ... of which taken from posted-interrupt descriptors */
    uint64_t irqs_remapped; /* ... of which forwarded from a remapped host vector */
};
void sio_vm_get_stats(struct sio_vm *, struct sio_vm_stats *out);

/* ---- interrupts ---------------------------------------------------------------------------- */

/* Where the platform hands an interrupt the IOMMU (or, without one, the bus) delivered:
 * the hypervisor finds the VM that owns the requester and injects the vector into the vCPU
 * the destination names (dest modulo the VM's vCPUs). Interrupts from devices no VM owns go
 * to the host (counted). 0, or SIO_ENOENT when nobody owns the requester. */
int sio_hv_deliver_irq(struct sio_hv *, uint16_t rid, const struct sio_irq *irq);
/* sio_irq_sink_fn-compatible adapter: ctx is the struct sio_hv *. */
void sio_hv_irq_sink(void *ctx, uint16_t rid, const struct sio_irq *irq);
uint64_t sio_hv_host_irqs(struct sio_hv *);

/* The guest programs its device's MSI to raise `vector` on its vCPU `vcpu`. With interrupt
 * remapping the hypervisor asks for a posted IRTE into that vCPU's posted-interrupt
 * descriptor when the unit can post, otherwise a remapped IRTE to a host vector it allocates
 * and forwards; without it, a compatibility-format MSI to APIC `vcpu`. It then writes the
 * device's MSI capability (address, data, enable). A previous route of the device is
 * released. SIO_EOWNED (not the VM's device), SIO_EINVAL (vcpu, vector < 16, no MSI
 * capability), SIO_ENOSPC (no host vector left), or the backend's error. Deassignment
 * releases the routes of the group. */
int sio_hv_msi_route(struct sio_vm *, uint16_t rid, unsigned vcpu, uint8_t vector);

/* What the unit's sio_irq_ops.msi receives (ctx = the struct sio_hv *): posted-interrupt
 * notification events, which make the hypervisor take the pending vectors of the vCPU the
 * destination names, and anything else (fault events), counted as the host's. */
void sio_hv_unit_msi(void *ctx, uint64_t addr, uint32_t data);
/* What a VM entry does with posted interrupts: move the vCPU's posted vectors (PIR) into the
 * vCPU, clearing ON; returns how many vectors were taken. */
unsigned sio_vm_vcpu_poll(struct sio_vm *, unsigned vcpu);
/* Host-physical address of a vCPU's 64-byte posted-interrupt descriptor. */
uint64_t sio_vm_vcpu_pid(struct sio_vm *, unsigned vcpu);
/* The notification vector the hypervisor writes into every descriptor (Linux's
 * POSTED_INTR_VECTOR) and the physical APIC id a vCPU runs on here (its index). */
#define SIO_HV_PI_VECTOR 0xF2

#ifdef __cplusplus
}
#endif
#endif

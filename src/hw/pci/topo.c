/* A PCI hierarchy: functions with real configuration spaces, bridges that open buses, SR-IOV
 * virtual functions created when software enables them, BAR decoding, and the fabric that
 * carries a function's DMA to its port (requester-id aliasing by bridges, ACS Source
 * Validation, Bus Master Enable).
 *
 * Configuration space is bytes plus a per-byte write mask: a write changes exactly the
 * writable bits, so BAR sizing (write all ones, read back the size mask) falls out of the
 * mask, as on hardware. A few registers have side effects, handled after the masked write. */
#include <softiommu/pcidev.h>
#include <softiommu/bits.h>
#include <softiommu/err.h>

#include <stdlib.h>
#include <string.h>

/* Capability placement in every function we build. */
#define CAP_EXP    0x40 /* PCI Express capability, 0x3C bytes (v2) */
#define CAP_MSI    0x80 /* MSI, 64-bit: 14 bytes */
#define ECAP_ACS   0x100
#define ECAP_SRIOV 0x140

struct sio_pci_fn {
    struct sio_pci_topo *topo;
    uint16_t rid;
    struct sio_pci_fn_desc d;
    uint8_t cfg[SIO_PCI_CFG_SIZE];
    uint8_t wmask[SIO_PCI_CFG_SIZE];
    unsigned msi_cap, exp_cap, acs_cap, sriov_cap;
    struct sio_pci_fn *parent; /* the bridge whose secondary bus holds this function */
    struct sio_pci_fn *pf;     /* VFs: their PF */
    struct sio_pci_fn **vfs;   /* PFs: enabled VFs */
    unsigned nvfs;
    unsigned vf_index; /* VFs: 0-based */
    const struct sio_pci_fn_ops *ops;
    void *dev;
    struct sio_dma_port port;
    uint16_t spoof;
    int spoofing;
};

struct sio_pci_topo {
    uint16_t seg;
    struct sio_pci_fn **by_rid;        /* 65536 slots */
    struct sio_pci_fn *bus_owner[256]; /* the bridge that opens bus b (NULL for bus 0) */
    uint8_t bus_exists[256];
    struct sio_pci_fn **all; /* every function, in creation order */
    unsigned nall, capall;
};

/* ---- little-endian config accessors -------------------------------------------------------- */

static uint32_t cfg_get(const struct sio_pci_fn *f, unsigned off, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)f->cfg[off + i] << (8 * i);
    return v;
}

static void cfg_set(struct sio_pci_fn *f, unsigned off, unsigned size, uint32_t v)
{
    for (unsigned i = 0; i < size; i++)
        f->cfg[off + i] = (uint8_t)(v >> (8 * i));
}

static void wm_set(struct sio_pci_fn *f, unsigned off, unsigned size, uint32_t m)
{
    for (unsigned i = 0; i < size; i++)
        f->wmask[off + i] = (uint8_t)(m >> (8 * i));
}

/* ---- building functions ------------------------------------------------------------------- */

struct sio_pci_topo *sio_pci_topo_create(uint16_t seg)
{
    struct sio_pci_topo *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->by_rid = calloc(65536, sizeof(*t->by_rid));
    if (!t->by_rid) {
        free(t);
        return NULL;
    }
    t->seg = seg;
    t->bus_exists[0] = 1;
    return t;
}

static void fn_free(struct sio_pci_fn *f)
{
    free(f->vfs);
    free(f);
}

void sio_pci_topo_destroy(struct sio_pci_topo *t)
{
    if (!t)
        return;
    for (unsigned i = 0; i < t->nall; i++)
        fn_free(t->all[i]);
    free(t->all);
    free(t->by_rid);
    free(t);
}

static int topo_track(struct sio_pci_topo *t, struct sio_pci_fn *f)
{
    if (t->nall == t->capall) {
        unsigned cap = t->capall ? t->capall * 2 : 32;
        struct sio_pci_fn **n = realloc(t->all, cap * sizeof(*n));
        if (!n)
            return SIO_ENOMEM;
        t->all = n;
        t->capall = cap;
    }
    t->all[t->nall++] = f;
    t->by_rid[f->rid] = f;
    return 0;
}

static void topo_untrack(struct sio_pci_topo *t, struct sio_pci_fn *f)
{
    for (unsigned i = 0; i < t->nall; i++) {
        if (t->all[i] == f) {
            memmove(&t->all[i], &t->all[i + 1], (t->nall - i - 1) * sizeof(*t->all));
            t->nall--;
            break;
        }
    }
    if (t->by_rid[f->rid] == f)
        t->by_rid[f->rid] = NULL;
}

static void build_caps(struct sio_pci_fn *f, int vf)
{
    unsigned last = 0; /* offset of the previous capability's "next" byte */
    if (f->d.pcie_type != SIO_PCIE_NONE) {
        f->exp_cap = CAP_EXP;
        cfg_set(f, CAP_EXP, 1, SIO_PCI_CAP_ID_EXP);
        /* PCIe Capabilities: version 2, device/port type in 7:4, Slot Implemented (bit 8)
         * for root and downstream ports. */
        uint32_t flags = 2 | ((unsigned)f->d.pcie_type << 4);
        if (f->d.pcie_type == SIO_PCIE_ROOT_PORT || f->d.pcie_type == SIO_PCIE_DOWNSTREAM)
            flags |= 1u << 8;
        cfg_set(f, CAP_EXP + SIO_PCI_EXP_FLAGS, 2, flags);
        cfg_set(f, SIO_PCI_CAP_PTR, 1, CAP_EXP);
        last = CAP_EXP + 1;
    }
    if (f->d.msi) {
        f->msi_cap = CAP_MSI;
        cfg_set(f, CAP_MSI, 1, SIO_PCI_CAP_ID_MSI);
        cfg_set(f, CAP_MSI + SIO_PCI_MSI_FLAGS, 2, 1u << 7); /* 64-bit address capable */
        wm_set(f, CAP_MSI + SIO_PCI_MSI_FLAGS, 2, 0x0001);   /* MSI Enable */
        wm_set(f, CAP_MSI + SIO_PCI_MSI_ADDR_LO, 4, 0xFFFFFFFCu);
        wm_set(f, CAP_MSI + SIO_PCI_MSI_ADDR_HI, 4, 0xFFFFFFFFu);
        wm_set(f, CAP_MSI + SIO_PCI_MSI_DATA_64, 2, 0xFFFF);
        if (last)
            cfg_set(f, last, 1, CAP_MSI);
        else
            cfg_set(f, SIO_PCI_CAP_PTR, 1, CAP_MSI);
        last = CAP_MSI + 1;
    }
    if (last)
        cfg_set(f, SIO_PCI_STATUS, 2, SIO_PCI_STATUS_CAPS);
    if (vf || f->d.pcie_type == SIO_PCIE_NONE)
        return;
    /* Extended capabilities: header = ID 15:0, version 19:16, next 31:20. */
    unsigned prev = 0;
    if (f->d.acs) {
        f->acs_cap = ECAP_ACS;
        cfg_set(f, ECAP_ACS, 4, SIO_PCI_EXT_CAP_ACS | (1u << 16));
        cfg_set(f, ECAP_ACS + SIO_PCI_ACS_CAP, 2, SIO_PCI_ACS_ISOLATE);
        wm_set(f, ECAP_ACS + SIO_PCI_ACS_CTRL, 2, SIO_PCI_ACS_ISOLATE);
        prev = ECAP_ACS;
    }
    if (f->d.total_vfs) {
        /* Extended capabilities start at 0x100: SR-IOV goes there when there is no ACS. */
        unsigned s = prev ? ECAP_SRIOV : ECAP_ACS;
        f->sriov_cap = s;
        cfg_set(f, s, 4, SIO_PCI_EXT_CAP_SRIOV | (1u << 16));
        if (prev)
            cfg_set(f, prev, 4, cfg_get(f, prev, 4) | (s << 20));
        wm_set(f, s + SIO_PCI_SRIOV_CTRL, 2, SIO_PCI_SRIOV_VFE | SIO_PCI_SRIOV_VF_MSE);
        cfg_set(f, s + 0x0C, 2, f->d.total_vfs); /* InitialVFs */
        cfg_set(f, s + SIO_PCI_SRIOV_TOTAL_VF, 2, f->d.total_vfs);
        wm_set(f, s + SIO_PCI_SRIOV_NUM_VF, 2, 0xFFFF);
        cfg_set(f, s + 0x12, 1, f->rid & 7); /* Function Dependency Link */
        cfg_set(f, s + SIO_PCI_SRIOV_VF_OFFSET, 2, f->d.vf_offset);
        cfg_set(f, s + SIO_PCI_SRIOV_VF_STRIDE, 2, f->d.vf_stride);
        cfg_set(f, s + SIO_PCI_SRIOV_VF_DID, 2, f->d.vf_device);
        cfg_set(f, s + 0x1C, 4, 0x553); /* supported page sizes: 4K, 8K, 64K, 256K, 1M, 4M */
        cfg_set(f, s + 0x20, 4, 0x1);   /* system page size: 4K */
        wm_set(f, s + 0x20, 4, 0x553);
        if (f->d.vf_bar0_size) {
            uint64_t sz = f->d.vf_bar0_size;
            cfg_set(f, s + SIO_PCI_SRIOV_BAR0, 4, SIO_PCI_BAR_MEM64);
            wm_set(f, s + SIO_PCI_SRIOV_BAR0, 4, (uint32_t)(~(sz - 1) & ~0xFULL));
            wm_set(f, s + SIO_PCI_SRIOV_BAR0 + 4, 4, (uint32_t)(~(sz - 1) >> 32));
        }
    }
}

static void build_bars(struct sio_pci_fn *f)
{
    for (unsigned i = 0; i < 6; i++) {
        uint64_t sz = f->d.bar_size[i];
        if (!sz)
            continue;
        unsigned off = SIO_PCI_BAR0 + 4 * i;
        int is64 = (f->d.bar64 >> i) & 1;
        cfg_set(f, off, 4, is64 ? SIO_PCI_BAR_MEM64 : 0);
        wm_set(f, off, 4, (uint32_t)(~(sz - 1) & ~0xFULL));
        if (is64) {
            wm_set(f, off + 4, 4, (uint32_t)(~(sz - 1) >> 32));
            i++;
        }
    }
}

static int desc_valid(const struct sio_pci_fn_desc *d, unsigned bus)
{
    if (d->pcie_type < SIO_PCIE_NONE || d->pcie_type > SIO_PCIE_RCIEP)
        return 0;
    if (d->pcie_type == SIO_PCIE_RCIEP && bus != 0)
        return 0;
    int bridge_type = d->pcie_type == SIO_PCIE_ROOT_PORT || d->pcie_type == SIO_PCIE_UPSTREAM ||
                      d->pcie_type == SIO_PCIE_DOWNSTREAM || d->pcie_type == SIO_PCIE_PCI_BRIDGE ||
                      d->pcie_type == SIO_PCIE_PCIE_BRIDGE;
    if (d->pcie_type != SIO_PCIE_NONE && !!d->bridge != bridge_type)
        return 0;
    if (d->bridge && (d->total_vfs || d->secondary_bus <= bus))
        return 0;
    if (d->pcie_type == SIO_PCIE_ROOT_PORT && bus != 0)
        return 0;
    for (unsigned i = 0; i < 6; i++) {
        uint64_t sz = d->bar_size[i];
        if (sz && (sz < 16 || (sz & (sz - 1))))
            return 0;
        if (d->bridge && i >= 2 && sz)
            return 0;
        if ((d->bar64 >> i) & 1) {
            if (i == 5 || d->bar_size[i + 1] || !sz)
                return 0;
            i++;
        } else if (sz > (1ULL << 31)) {
            return 0;
        }
    }
    if (d->total_vfs) {
        if (d->pcie_type == SIO_PCIE_NONE || d->vf_offset == 0 ||
            (d->total_vfs > 1 && !d->vf_stride))
            return 0;
        uint64_t s = d->vf_bar0_size;
        if (s && (s < 16 || (s & (s - 1))))
            return 0;
    }
    return 1;
}

/* A new bridge on `bus` opening `sec`: sec must not be claimed by any bridge that is not an
 * ancestor, and widening the ancestors' ranges must not swallow other buses. */
static int sec_bus_ok(struct sio_pci_topo *t, unsigned bus, unsigned sec)
{
    if (t->bus_exists[sec])
        return 0;
    for (unsigned i = 0; i < t->nall; i++) {
        struct sio_pci_fn *b = t->all[i];
        if (!b->d.bridge)
            continue;
        int ancestor = 0;
        for (struct sio_pci_fn *a = t->bus_owner[bus]; a; a = a->parent)
            if (a == b)
                ancestor = 1;
        unsigned bs = b->cfg[SIO_PCI_SECONDARY_BUS], bsub = b->cfg[SIO_PCI_SUBORDINATE];
        if (!ancestor && sec >= bs && sec <= bsub)
            return 0;
        if (ancestor && sec > bsub)
            for (unsigned x = bsub + 1; x < sec; x++)
                if (t->bus_exists[x])
                    return 0;
    }
    return 1;
}

static struct sio_pci_fn *fn_new(struct sio_pci_topo *t, uint16_t rid,
                                 const struct sio_pci_fn_desc *d)
{
    struct sio_pci_fn *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->topo = t;
    f->rid = rid;
    f->d = *d;
    return f;
}

int sio_pci_add(struct sio_pci_topo *t, unsigned bus, unsigned dev, unsigned fn,
                const struct sio_pci_fn_desc *d, struct sio_pci_fn **out)
{
    if (!t || !d || bus > 255 || dev > 31 || fn > 7 || !desc_valid(d, bus))
        return SIO_EINVAL;
    if (!t->bus_exists[bus])
        return SIO_ENOENT;
    uint16_t rid = sio_sid(bus, dev, fn);
    if (t->by_rid[rid])
        return SIO_EEXIST;
    struct sio_pci_fn *f0 = t->by_rid[sio_sid(bus, dev, 0)];
    if (fn > 0 && !f0)
        return SIO_ENOENT;
    if (d->bridge && !sec_bus_ok(t, bus, d->secondary_bus))
        return SIO_EINVAL;
    /* A VF of an enabled PF may already sit at this id. */
    struct sio_pci_fn *f = fn_new(t, rid, d);
    if (!f)
        return SIO_ENOMEM;
    f->parent = t->bus_owner[bus];
    /* Type 0/1 header. */
    cfg_set(f, SIO_PCI_VENDOR_ID, 2, d->vendor);
    cfg_set(f, SIO_PCI_DEVICE_ID, 2, d->device);
    cfg_set(f, SIO_PCI_CLASS_REVISION, 4, (d->class_code & 0xFFFFFF) << 8 | 0x01);
    cfg_set(f, SIO_PCI_HEADER_TYPE, 1, d->bridge ? 1 : 0);
    wm_set(f, SIO_PCI_COMMAND, 2, SIO_PCI_CMD_MEM | SIO_PCI_CMD_MASTER | (1u << 10));
    wm_set(f, 0x0C, 1, 0xFF); /* cache line size */
    wm_set(f, SIO_PCI_INT_LINE, 1, 0xFF);
    if (d->bridge) {
        /* Bus numbers are fixed at creation (the topology is the firmware's enumeration). */
        cfg_set(f, SIO_PCI_PRIMARY_BUS, 1, bus);
        cfg_set(f, SIO_PCI_SECONDARY_BUS, 1, d->secondary_bus);
        cfg_set(f, SIO_PCI_SUBORDINATE, 1, d->secondary_bus);
        wm_set(f, 0x20, 4, 0xFFF0FFF0u); /* memory base/limit */
        wm_set(f, 0x3E, 2, 0x0FFF);      /* bridge control */
    }
    build_bars(f);
    build_caps(f, 0);
    int rc = topo_track(t, f);
    if (rc) {
        fn_free(f);
        return rc;
    }
    if (fn > 0)
        f0->cfg[SIO_PCI_HEADER_TYPE] |= SIO_PCI_HDR_MF;
    if (d->bridge) {
        unsigned sec = d->secondary_bus;
        t->bus_exists[sec] = 1;
        t->bus_owner[sec] = f;
        for (struct sio_pci_fn *a = f->parent; a; a = a->parent)
            if (a->cfg[SIO_PCI_SUBORDINATE] < sec)
                a->cfg[SIO_PCI_SUBORDINATE] = (uint8_t)sec;
    }
    if (out)
        *out = f;
    return 0;
}

/* ---- SR-IOV ------------------------------------------------------------------------------- */

static void vfs_disable(struct sio_pci_fn *pf)
{
    for (unsigned i = 0; i < pf->nvfs; i++) {
        topo_untrack(pf->topo, pf->vfs[i]);
        fn_free(pf->vfs[i]);
    }
    free(pf->vfs);
    pf->vfs = NULL;
    pf->nvfs = 0;
}

/* VF n (1-based) has Routing ID PF + First VF Offset + (n-1) * VF Stride (SR-IOV 1.1). */
static int vfs_enable(struct sio_pci_fn *pf)
{
    unsigned s = pf->sriov_cap;
    unsigned num = cfg_get(pf, s + SIO_PCI_SRIOV_NUM_VF, 2);
    unsigned off = cfg_get(pf, s + SIO_PCI_SRIOV_VF_OFFSET, 2);
    unsigned stride = cfg_get(pf, s + SIO_PCI_SRIOV_VF_STRIDE, 2);
    if (num == 0 || num > pf->d.total_vfs)
        return SIO_EINVAL;
    for (unsigned i = 0; i < num; i++) {
        uint32_t rid = pf->rid + off + i * stride;
        if (rid > 0xFFFF || (rid >> 8) != (unsigned)(pf->rid >> 8) || pf->topo->by_rid[rid])
            return SIO_EINVAL; /* VFs stay on the PF's bus here */
    }
    pf->vfs = calloc(num, sizeof(*pf->vfs));
    if (!pf->vfs)
        return SIO_ENOMEM;
    struct sio_pci_fn_desc vd = {0};
    vd.vendor = 0xFFFF; /* a VF's Vendor and Device ID registers read FFFFh */
    vd.device = 0xFFFF;
    vd.class_code = pf->d.class_code;
    vd.pcie_type = SIO_PCIE_ENDPOINT;
    vd.msi = 1;
    for (unsigned i = 0; i < num; i++) {
        struct sio_pci_fn *v = fn_new(pf->topo, (uint16_t)(pf->rid + off + i * stride), &vd);
        if (!v || topo_track(pf->topo, v)) {
            free(v);
            vfs_disable(pf);
            return SIO_ENOMEM;
        }
        v->parent = pf->parent;
        v->pf = pf;
        v->port = pf->port; /* same device, same path to memory; a VF model may replace it */
        v->vf_index = i;
        cfg_set(v, SIO_PCI_VENDOR_ID, 2, 0xFFFF);
        cfg_set(v, SIO_PCI_DEVICE_ID, 2, 0xFFFF);
        cfg_set(v, SIO_PCI_CLASS_REVISION, 4, (pf->d.class_code & 0xFFFFFF) << 8 | 0x01);
        wm_set(v, SIO_PCI_COMMAND, 2, SIO_PCI_CMD_MASTER); /* VF memory space: PF's VF MSE */
        build_caps(v, 1);
        pf->vfs[pf->nvfs++] = v;
    }
    return 0;
}

/* ---- configuration access ----------------------------------------------------------------- */

static int cfg_args_ok(unsigned off, unsigned size)
{
    return (size == 1 || size == 2 || size == 4) && off < SIO_PCI_CFG_SIZE && !(off & (size - 1));
}

uint32_t sio_pci_cfg_read(struct sio_pci_topo *t, uint16_t rid, unsigned off, unsigned size)
{
    uint32_t ones = size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    if (!cfg_args_ok(off, size))
        return ones;
    struct sio_pci_fn *f = t->by_rid[rid];
    if (!f)
        return ones;
    return cfg_get(f, off, size);
}

void sio_pci_cfg_write(struct sio_pci_topo *t, uint16_t rid, unsigned off, uint32_t val,
                       unsigned size)
{
    if (!cfg_args_ok(off, size))
        return;
    struct sio_pci_fn *f = t->by_rid[rid];
    if (!f)
        return;
    unsigned s = f->sriov_cap;
    uint32_t old_ctrl = s ? cfg_get(f, s + SIO_PCI_SRIOV_CTRL, 2) : 0;
    uint32_t old_num = s ? cfg_get(f, s + SIO_PCI_SRIOV_NUM_VF, 2) : 0;
    for (unsigned i = 0; i < size; i++) {
        uint8_t m = f->wmask[off + i];
        uint8_t b = (uint8_t)(val >> (8 * i));
        f->cfg[off + i] = (uint8_t)((f->cfg[off + i] & ~m) | (b & m));
    }
    if (!s)
        return;
    uint32_t ctrl = cfg_get(f, s + SIO_PCI_SRIOV_CTRL, 2);
    if (old_ctrl & SIO_PCI_SRIOV_VFE) /* NumVFs is read-only while VF Enable is set */
        cfg_set(f, s + SIO_PCI_SRIOV_NUM_VF, 2, old_num);
    if ((ctrl ^ old_ctrl) & SIO_PCI_SRIOV_VFE) {
        if (ctrl & SIO_PCI_SRIOV_VFE) {
            if (vfs_enable(f) != 0) /* an impossible configuration: VF Enable does not stick */
                cfg_set(f, s + SIO_PCI_SRIOV_CTRL, 2, ctrl & ~SIO_PCI_SRIOV_VFE);
        } else {
            vfs_disable(f);
        }
    }
}

static uint32_t cfg_ops_read(void *ctx, uint16_t rid, unsigned off, unsigned size)
{
    return sio_pci_cfg_read(ctx, rid, off, size);
}

static void cfg_ops_write(void *ctx, uint16_t rid, unsigned off, uint32_t val, unsigned size)
{
    sio_pci_cfg_write(ctx, rid, off, val, size);
}

const struct sio_pci_cfg_ops *sio_pci_topo_cfg_ops(void)
{
    static const struct sio_pci_cfg_ops ops = {cfg_ops_read, cfg_ops_write};
    return &ops;
}

/* ---- accessors ---------------------------------------------------------------------------- */

struct sio_pci_fn *sio_pci_fn_by_rid(struct sio_pci_topo *t, uint16_t rid)
{
    return t->by_rid[rid];
}

uint16_t sio_pci_fn_rid(const struct sio_pci_fn *f)
{
    return f->rid;
}

struct sio_bdf sio_pci_fn_bdf(const struct sio_pci_fn *f)
{
    return sio_bdf_from_sid(f->topo->seg, f->rid);
}

int sio_pci_fn_is_vf(const struct sio_pci_fn *f)
{
    return f->pf != NULL;
}

struct sio_pci_fn *sio_pci_fn_pf(struct sio_pci_fn *f)
{
    return f->pf;
}

struct sio_pci_topo *sio_pci_fn_topo(struct sio_pci_fn *f)
{
    return f->topo;
}

void sio_pci_fn_attach(struct sio_pci_fn *f, const struct sio_pci_fn_ops *ops, void *dev,
                       struct sio_dma_port port)
{
    f->ops = ops;
    f->dev = dev;
    f->port = port;
}

void sio_pci_fn_set_port(struct sio_pci_fn *f, struct sio_dma_port port)
{
    f->port = port;
}

void sio_pci_fn_spoof_rid(struct sio_pci_fn *f, uint16_t rid)
{
    f->spoof = rid;
    f->spoofing = rid != 0;
}

/* ---- BAR decoding -------------------------------------------------------------------------- */

uint64_t sio_pci_fn_bar_addr(struct sio_pci_fn *f, unsigned bar)
{
    if (bar > 5)
        return 0;
    if (f->pf) {
        struct sio_pci_fn *pf = f->pf;
        unsigned o = pf->sriov_cap + SIO_PCI_SRIOV_BAR0;
        if (bar != 0 || !pf->d.vf_bar0_size)
            return 0;
        uint64_t base = (cfg_get(pf, o, 4) & ~0xFu) | (uint64_t)cfg_get(pf, o + 4, 4) << 32;
        return base + f->vf_index * pf->d.vf_bar0_size;
    }
    unsigned off = SIO_PCI_BAR0 + 4 * bar;
    uint64_t a = cfg_get(f, off, 4) & ~0xFu;
    if ((f->d.bar64 >> bar) & 1)
        a |= (uint64_t)cfg_get(f, off + 4, 4) << 32;
    return a;
}

static uint64_t bar_size(struct sio_pci_fn *f, unsigned bar)
{
    if (f->pf)
        return bar == 0 ? f->pf->d.vf_bar0_size : 0;
    return f->d.bar_size[bar];
}

static int bar_decodes(struct sio_pci_fn *f)
{
    if (f->pf) {
        struct sio_pci_fn *pf = f->pf;
        return (cfg_get(pf, pf->sriov_cap + SIO_PCI_SRIOV_CTRL, 2) & SIO_PCI_SRIOV_VF_MSE) &&
               (cfg_get(pf, SIO_PCI_COMMAND, 2) & SIO_PCI_CMD_MEM);
    }
    return (cfg_get(f, SIO_PCI_COMMAND, 2) & SIO_PCI_CMD_MEM) != 0;
}

static struct sio_pci_fn *decode(struct sio_pci_topo *t, uint64_t addr, unsigned size,
                                 unsigned *bar, uint64_t *off)
{
    for (unsigned i = 0; i < t->nall; i++) {
        struct sio_pci_fn *f = t->all[i];
        if (!f->ops || !bar_decodes(f))
            continue;
        for (unsigned b = 0; b < 6; b++) {
            uint64_t sz = bar_size(f, b), base = sio_pci_fn_bar_addr(f, b);
            if (!sz || base == 0)
                continue;
            if (addr >= base && addr - base < sz && addr - base + size <= sz) {
                *bar = b;
                *off = addr - base;
                return f;
            }
        }
    }
    return NULL;
}

int sio_pci_mmio_read(struct sio_pci_topo *t, uint64_t addr, unsigned size, uint64_t *val)
{
    unsigned bar;
    uint64_t off;
    struct sio_pci_fn *f = decode(t, addr, size, &bar, &off);
    if (!f || !f->ops->mmio_read) {
        *val = size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
        return SIO_ENOENT;
    }
    *val = f->ops->mmio_read(f->dev, bar, off, size);
    return 0;
}

int sio_pci_mmio_write(struct sio_pci_topo *t, uint64_t addr, uint64_t val, unsigned size)
{
    unsigned bar;
    uint64_t off;
    struct sio_pci_fn *f = decode(t, addr, size, &bar, &off);
    if (!f || !f->ops->mmio_write)
        return SIO_ENOENT;
    f->ops->mmio_write(f->dev, bar, off, val, size);
    return 0;
}

/* ---- the fabric --------------------------------------------------------------------------- */

/* The requester id after every bridge on the way up, or -1 when an ACS Source Validation port
 * drops the request (PCIe Base "ACS Source Validation": the requester's bus must lie in the
 * port's secondary..subordinate range). */
static int fabric_rid(struct sio_pci_fn *f, uint16_t claimed)
{
    int rid = claimed;
    for (struct sio_pci_fn *b = f->parent; b; b = b->parent) {
        unsigned sec = b->cfg[SIO_PCI_SECONDARY_BUS], sub = b->cfg[SIO_PCI_SUBORDINATE];
        int port = b->d.pcie_type == SIO_PCIE_ROOT_PORT || b->d.pcie_type == SIO_PCIE_DOWNSTREAM;
        if (port && b->acs_cap && (cfg_get(b, b->acs_cap + SIO_PCI_ACS_CTRL, 2) & SIO_PCI_ACS_SV)) {
            unsigned rbus = (unsigned)rid >> 8;
            if (rbus < sec || rbus > sub)
                return -1;
        }
        if (b->d.pcie_type == SIO_PCIE_PCI_BRIDGE)
            rid = sio_sid(sec, 0, 0); /* the bridge takes ownership: secondary bus, 00.0 */
        else if (b->d.pcie_type == SIO_PCIE_NONE)
            rid = b->rid; /* a conventional PCI bridge forwards as itself */
    }
    return rid;
}

uint16_t sio_pci_fn_wire_rid(struct sio_pci_fn *f)
{
    int r = fabric_rid(f, f->rid);
    return r < 0 ? f->rid : (uint16_t)r;
}

static int bus_master(struct sio_pci_fn *f)
{
    return (cfg_get(f, SIO_PCI_COMMAND, 2) & SIO_PCI_CMD_MASTER) != 0;
}

int sio_pci_fn_dma(struct sio_pci_fn *f, uint64_t addr, void *buf, size_t len, unsigned access)
{
    if (!bus_master(f))
        return SIO_EPERM;
    if (!f->port.ops)
        return SIO_ENOENT;
    int rid = fabric_rid(f, f->spoofing ? f->spoof : f->rid);
    if (rid < 0)
        return SIO_EPERM;
    return f->port.ops->dma(f->port.ctx, (uint16_t)rid, addr, buf, len, access);
}

static int send_msi(struct sio_pci_fn *f, uint64_t addr, uint32_t data)
{
    if (!bus_master(f))
        return SIO_EPERM;
    if (!f->port.ops || !f->port.ops->msi)
        return SIO_ENOENT;
    int rid = fabric_rid(f, f->spoofing ? f->spoof : f->rid);
    if (rid < 0)
        return SIO_EPERM;
    return f->port.ops->msi(f->port.ctx, (uint16_t)rid, addr, data);
}

int sio_pci_fn_msi(struct sio_pci_fn *f)
{
    unsigned c = f->msi_cap;
    if (!c || !(cfg_get(f, c + SIO_PCI_MSI_FLAGS, 2) & 1))
        return SIO_ESTATE;
    uint64_t addr = cfg_get(f, c + SIO_PCI_MSI_ADDR_LO, 4) |
                    (uint64_t)cfg_get(f, c + SIO_PCI_MSI_ADDR_HI, 4) << 32;
    uint32_t data = cfg_get(f, c + SIO_PCI_MSI_DATA_64, 2);
    return send_msi(f, addr, data);
}

int sio_pci_fn_msi_write(struct sio_pci_fn *f, uint64_t addr, uint32_t data)
{
    return send_msi(f, addr, data);
}

/* The host's view of PCI, found the way an OS finds it: configuration reads only. Then IOMMU
 * groups, the smallest sets of functions the IOMMU can keep apart, computed from that view.
 *
 * Grouping rules (after Linux's pci_device_group; docs/hypervisor.md has the reasoning):
 *  1. Upstream isolation: walking up from a function, every bridge whose path to the root is
 *     not ACS-isolating joins the function's group (peers below it can reach each other
 *     without passing the IOMMU). Root and downstream ports isolate only with ACS SV, RR, CR
 *     and UF enabled; conventional PCI bridges never do; other PCIe functions do unless they
 *     are multi-function without ACS.
 *  2. DMA aliases: a function behind a PCIe-to-PCI bridge or a conventional PCI bridge is seen
 *     by the IOMMU with that bridge's requester id, so it shares the bridge's group.
 *  3. Multi-function slots: functions of one slot without ACS may talk to each other inside
 *     the device; they share a group.
 *  4. SR-IOV: VFs have their own requester ids, but only a PF with ACS enabled promises that
 *     its VFs cannot reach each other inside the device; otherwise PF and VFs share a group. */
#include <softiommu/hv.h>
#include <softiommu/err.h>
#include <softiommu/pcidev.h>

#include <stdlib.h>
#include <string.h>

#define NONE_IDX 0xFFFFFFFFu

struct sio_pci_enum {
    struct sio_pci_dev_info *dev;
    unsigned n, cap;
    uint32_t *idx_by_rid; /* 65536 entries, NONE_IDX when absent */
    uint32_t *uf;         /* union-find parents */
    uint8_t *path_iso;    /* per function: it and every bridge above it isolate */
    uint32_t *scratch;    /* per function, for numbering */
    unsigned ngroups;
    const struct sio_pci_cfg_ops *cfg;
    void *ctx;
    uint8_t bus_seen[256];
};

static uint32_t rd(struct sio_pci_enum *e, uint16_t rid, unsigned off, unsigned size)
{
    return e->cfg->read(e->ctx, rid, off, size);
}

/* Offset of standard capability id, 0 when absent (a bounded walk: lists may be garbage). */
static unsigned find_cap(struct sio_pci_enum *e, uint16_t rid, unsigned id)
{
    if (!(rd(e, rid, SIO_PCI_STATUS, 2) & SIO_PCI_STATUS_CAPS))
        return 0;
    unsigned p = rd(e, rid, SIO_PCI_CAP_PTR, 1) & 0xFC;
    for (int guard = 0; p >= 0x40 && guard < 48; guard++) {
        if (rd(e, rid, p, 1) == id)
            return p;
        p = rd(e, rid, p + 1, 1) & 0xFC;
    }
    return 0;
}

static unsigned find_ecap(struct sio_pci_enum *e, uint16_t rid, unsigned id)
{
    unsigned p = SIO_PCI_EXT_CAP_START;
    for (int guard = 0; p >= SIO_PCI_EXT_CAP_START && p < SIO_PCI_CFG_SIZE && guard < 96; guard++) {
        uint32_t h = rd(e, rid, p, 4);
        if (h == 0 || h == 0xFFFFFFFFu)
            return 0;
        if ((h & 0xFFFF) == id)
            return p;
        p = (h >> 20) & 0xFFC;
    }
    return 0;
}

static struct sio_pci_dev_info *add(struct sio_pci_enum *e, uint16_t rid)
{
    if (e->idx_by_rid[rid] != NONE_IDX)
        return NULL; /* already listed (a malformed hierarchy naming it twice) */
    if (e->n == e->cap) {
        unsigned cap = e->cap ? e->cap * 2 : 32;
        struct sio_pci_dev_info *nd = realloc(e->dev, cap * sizeof(*nd));
        if (!nd)
            return NULL;
        e->dev = nd;
        e->cap = cap;
    }
    struct sio_pci_dev_info *d = &e->dev[e->n];
    memset(d, 0, sizeof(*d));
    d->rid = rid;
    e->idx_by_rid[rid] = e->n++;
    return d;
}

static void probe_fn(struct sio_pci_enum *e, uint16_t rid, int has_parent, uint16_t parent_rid,
                     int mf, unsigned flags);

/* Scans one bus; the bridge above it (if any) is named by requester id, since e->dev moves
 * as it grows. */
static void scan_bus(struct sio_pci_enum *e, unsigned bus, int has_parent, uint16_t parent_rid,
                     unsigned flags)
{
    if (e->bus_seen[bus])
        return;
    e->bus_seen[bus] = 1;
    for (unsigned dev = 0; dev < 32; dev++) {
        uint16_t rid0 = sio_sid(bus, dev, 0);
        if (rd(e, rid0, SIO_PCI_VENDOR_ID, 2) == 0xFFFF)
            continue;
        int mf = (rd(e, rid0, SIO_PCI_HEADER_TYPE, 1) & SIO_PCI_HDR_MF) != 0;
        for (unsigned fn = 0; fn < (mf ? 8u : 1u); fn++) {
            uint16_t rid = sio_sid(bus, dev, fn);
            if (rd(e, rid, SIO_PCI_VENDOR_ID, 2) == 0xFFFF)
                continue;
            probe_fn(e, rid, has_parent, parent_rid, mf, flags);
        }
    }
}

static void probe_fn(struct sio_pci_enum *e, uint16_t rid, int has_parent, uint16_t parent_rid,
                     int mf, unsigned flags)
{
    struct sio_pci_dev_info *d = add(e, rid);
    if (!d)
        return;
    d->vendor = (uint16_t)rd(e, rid, SIO_PCI_VENDOR_ID, 2);
    d->device = (uint16_t)rd(e, rid, SIO_PCI_DEVICE_ID, 2);
    d->class_code = rd(e, rid, SIO_PCI_CLASS_REVISION, 4) >> 8;
    d->multifunction = mf;
    d->has_parent = has_parent;
    d->parent_rid = parent_rid;
    d->bridge = (rd(e, rid, SIO_PCI_HEADER_TYPE, 1) & 0x7F) == 1;
    unsigned exp = find_cap(e, rid, SIO_PCI_CAP_ID_EXP);
    d->pcie_type = exp ? (int)((rd(e, rid, exp + SIO_PCI_EXP_FLAGS, 2) >> 4) & 0xF) : -1;
    unsigned acs = exp ? find_ecap(e, rid, SIO_PCI_EXT_CAP_ACS) : 0;
    if (acs) {
        uint32_t capbits = rd(e, rid, acs + SIO_PCI_ACS_CAP, 2);
        if (flags & SIO_ENUM_ENABLE_ACS) {
            uint32_t ctrl = rd(e, rid, acs + SIO_PCI_ACS_CTRL, 2);
            e->cfg->write(e->ctx, rid, acs + SIO_PCI_ACS_CTRL,
                          ctrl | (capbits & SIO_PCI_ACS_ISOLATE), 2);
        }
        uint32_t ctrl = rd(e, rid, acs + SIO_PCI_ACS_CTRL, 2);
        d->acs_isolated = (ctrl & SIO_PCI_ACS_ISOLATE) == SIO_PCI_ACS_ISOLATE;
    }
    unsigned sriov = exp ? find_ecap(e, rid, SIO_PCI_EXT_CAP_SRIOV) : 0;
    if (sriov && (rd(e, rid, sriov + SIO_PCI_SRIOV_CTRL, 2) & SIO_PCI_SRIOV_VFE)) {
        /* VF n: PF + First VF Offset + (n-1) * VF Stride (SR-IOV 1.1). */
        uint32_t num = rd(e, rid, sriov + SIO_PCI_SRIOV_NUM_VF, 2);
        uint32_t off = rd(e, rid, sriov + SIO_PCI_SRIOV_VF_OFFSET, 2);
        uint32_t stride = rd(e, rid, sriov + SIO_PCI_SRIOV_VF_STRIDE, 2);
        uint16_t vf_did = (uint16_t)rd(e, rid, sriov + SIO_PCI_SRIOV_VF_DID, 2);
        struct sio_pci_dev_info pfcopy = *d;
        for (uint32_t i = 0; i < num; i++) {
            uint32_t vrid = rid + off + i * stride;
            if (vrid > 0xFFFF)
                break;
            struct sio_pci_dev_info *v = add(e, (uint16_t)vrid);
            if (!v)
                continue;
            v->vendor = pfcopy.vendor;
            v->device = vf_did;
            v->class_code = pfcopy.class_code;
            v->pcie_type = SIO_PCIE_ENDPOINT;
            v->is_vf = 1;
            v->pf_rid = rid;
            v->has_parent = has_parent;
            v->parent_rid = parent_rid;
        }
        d = &e->dev[e->idx_by_rid[rid]];
    }
    if (d->bridge) {
        d->secondary = (uint8_t)rd(e, rid, SIO_PCI_SECONDARY_BUS, 1);
        d->subordinate = (uint8_t)rd(e, rid, SIO_PCI_SUBORDINATE, 1);
        unsigned sec = d->secondary;
        if (sec > sio_sid_bus(rid))
            scan_bus(e, sec, 1, rid, flags);
    }
}

/* ---- groups ------------------------------------------------------------------------------- */

static uint32_t uf_find(struct sio_pci_enum *e, uint32_t x)
{
    while (e->uf[x] != x) {
        e->uf[x] = e->uf[e->uf[x]];
        x = e->uf[x];
    }
    return x;
}

static void uf_union(struct sio_pci_enum *e, uint32_t a, uint32_t b)
{
    a = uf_find(e, a);
    b = uf_find(e, b);
    if (a == b)
        return;
    if (a < b) /* the earliest-enumerated member is the root: stable group numbers */
        e->uf[b] = a;
    else
        e->uf[a] = b;
}

static const struct sio_pci_dev_info *parent_of(const struct sio_pci_enum *e,
                                                const struct sio_pci_dev_info *d)
{
    if (!d->has_parent || e->idx_by_rid[d->parent_rid] == NONE_IDX)
        return NULL;
    return &e->dev[e->idx_by_rid[d->parent_rid]];
}

static int isolating(const struct sio_pci_dev_info *b)
{
    if (b->pcie_type < 0)
        return 0;
    if (b->pcie_type == SIO_PCIE_ROOT_PORT || b->pcie_type == SIO_PCIE_DOWNSTREAM)
        return b->acs_isolated;
    if (b->multifunction && !b->is_vf)
        return b->acs_isolated;
    return 1;
}

static int isolating_path(const struct sio_pci_enum *e, const struct sio_pci_dev_info *b)
{
    for (int guard = 0; b && guard < 256; guard++, b = parent_of(e, b))
        if (!isolating(b))
            return 0;
    return 1;
}

static int aliasing_bridge(const struct sio_pci_dev_info *b)
{
    return b->bridge && (b->pcie_type == SIO_PCIE_PCI_BRIDGE || b->pcie_type < 0);
}

static void compute_groups(struct sio_pci_enum *e)
{
    /* Parents are listed before their children, so one pass in order fills path_iso. */
    for (uint32_t i = 0; i < e->n; i++) {
        const struct sio_pci_dev_info *d = &e->dev[i];
        const struct sio_pci_dev_info *pd = parent_of(e, d);
        uint32_t pi = pd ? e->idx_by_rid[pd->rid] : NONE_IDX;
        int above = pd == NULL ? 1 : pi < i ? e->path_iso[pi] : isolating_path(e, pd);
        e->path_iso[i] = (uint8_t)(isolating(d) && above);
        e->uf[i] = i;
    }
    for (uint32_t i = 0; i < e->n; i++) {
        struct sio_pci_dev_info *d = &e->dev[i];
        /* DMA alias: the top-most aliasing bridge's id wins. */
        d->dma_alias = d->rid;
        int guard = 0;
        for (const struct sio_pci_dev_info *b = parent_of(e, d); b && guard < 256;
             b = parent_of(e, b), guard++) {
            if (b->pcie_type == SIO_PCIE_PCI_BRIDGE)
                d->dma_alias = sio_sid(b->secondary, 0, 0);
            else if (b->bridge && b->pcie_type < 0)
                d->dma_alias = b->rid;
        }
        /* Rules 1 and 2. */
        int isolated = 0;
        guard = 0;
        for (const struct sio_pci_dev_info *b = parent_of(e, d); b && guard < 256;
             b = parent_of(e, b), guard++) {
            uint32_t bi = e->idx_by_rid[b->rid];
            if (aliasing_bridge(b))
                uf_union(e, i, bi);
            if (!isolated && e->path_iso[bi])
                isolated = 1;
            if (!isolated)
                uf_union(e, i, bi);
        }
        /* Rule 4. */
        if (d->is_vf && e->idx_by_rid[d->pf_rid] != NONE_IDX &&
            !e->dev[e->idx_by_rid[d->pf_rid]].acs_isolated)
            uf_union(e, i, e->idx_by_rid[d->pf_rid]);
    }
    /* Rule 3: one pass, remembering the first function without ACS of each slot. */
    uint32_t *slot_first = malloc(sizeof(uint32_t) * 8192);
    if (slot_first) {
        memset(slot_first, 0xFF, sizeof(uint32_t) * 8192);
        for (uint32_t i = 0; i < e->n; i++) {
            const struct sio_pci_dev_info *a = &e->dev[i];
            if (!a->multifunction || a->is_vf || a->acs_isolated)
                continue;
            uint32_t *first = &slot_first[a->rid >> 3];
            if (*first == NONE_IDX)
                *first = i;
            else
                uf_union(e, *first, i);
        }
        free(slot_first);
    }
    /* Number the groups in enumeration order of their first member. */
    uint32_t *num = e->scratch;
    e->ngroups = 0;
    for (uint32_t i = 0; i < e->n; i++)
        num[i] = NONE_IDX;
    for (uint32_t i = 0; i < e->n; i++) {
        uint32_t r = uf_find(e, i);
        if (num[r] == NONE_IDX)
            num[r] = e->ngroups++;
        e->dev[i].group = num[r];
    }
}

struct sio_pci_enum *sio_pci_enumerate(const struct sio_pci_cfg_ops *cfg, void *cfg_ctx,
                                       uint16_t seg, unsigned flags)
{
    (void)seg;
    if (!cfg)
        return NULL;
    struct sio_pci_enum *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->cfg = cfg;
    e->ctx = cfg_ctx;
    e->idx_by_rid = malloc(65536 * sizeof(uint32_t));
    if (!e->idx_by_rid) {
        free(e);
        return NULL;
    }
    memset(e->idx_by_rid, 0xFF, 65536 * sizeof(uint32_t));
    scan_bus(e, 0, 0, 0, flags);
    size_t n = e->n ? e->n : 1;
    e->uf = malloc(sizeof(uint32_t) * n);
    e->scratch = malloc(sizeof(uint32_t) * n);
    e->path_iso = malloc(n);
    if (!e->uf || !e->scratch || !e->path_iso) {
        sio_pci_enum_destroy(e);
        return NULL;
    }
    compute_groups(e);
    return e;
}

void sio_pci_enum_destroy(struct sio_pci_enum *e)
{
    if (!e)
        return;
    free(e->dev);
    free(e->idx_by_rid);
    free(e->uf);
    free(e->scratch);
    free(e->path_iso);
    free(e);
}

unsigned sio_pci_enum_count(const struct sio_pci_enum *e)
{
    return e->n;
}

const struct sio_pci_dev_info *sio_pci_enum_dev(const struct sio_pci_enum *e, unsigned i)
{
    return i < e->n ? &e->dev[i] : NULL;
}

const struct sio_pci_dev_info *sio_pci_enum_find(const struct sio_pci_enum *e, uint16_t rid)
{
    uint32_t i = e->idx_by_rid[rid];
    return i == NONE_IDX ? NULL : &e->dev[i];
}

unsigned sio_pci_enum_ngroups(const struct sio_pci_enum *e)
{
    return e->ngroups;
}

unsigned sio_pci_enum_group(const struct sio_pci_enum *e, unsigned group, uint16_t *rids,
                            unsigned max)
{
    unsigned n = 0;
    for (unsigned i = 0; i < e->n; i++) {
        if (e->dev[i].group != group)
            continue;
        if (n < max)
            rids[n] = e->dev[i].rid;
        n++;
    }
    return n;
}

int sio_pci_sriov_enable(const struct sio_pci_cfg_ops *cfg, void *cfg_ctx, uint16_t pf_rid,
                         unsigned num)
{
    struct sio_pci_enum tmp = {0};
    tmp.cfg = cfg;
    tmp.ctx = cfg_ctx;
    if (rd(&tmp, pf_rid, SIO_PCI_VENDOR_ID, 2) == 0xFFFF)
        return SIO_ENOENT;
    unsigned s = find_ecap(&tmp, pf_rid, SIO_PCI_EXT_CAP_SRIOV);
    if (!s)
        return SIO_ENOENT;
    if (num > rd(&tmp, pf_rid, s + SIO_PCI_SRIOV_TOTAL_VF, 2))
        return SIO_ERANGE;
    uint32_t ctrl = rd(&tmp, pf_rid, s + SIO_PCI_SRIOV_CTRL, 2);
    /* NumVFs may change only while VF Enable is clear. */
    cfg->write(cfg_ctx, pf_rid, s + SIO_PCI_SRIOV_CTRL, ctrl & ~SIO_PCI_SRIOV_VFE, 2);
    if (num == 0)
        return 0;
    cfg->write(cfg_ctx, pf_rid, s + SIO_PCI_SRIOV_NUM_VF, num, 2);
    cfg->write(cfg_ctx, pf_rid, s + SIO_PCI_SRIOV_CTRL,
               ctrl | SIO_PCI_SRIOV_VFE | SIO_PCI_SRIOV_VF_MSE, 2);
    if (!(rd(&tmp, pf_rid, s + SIO_PCI_SRIOV_CTRL, 2) & SIO_PCI_SRIOV_VFE))
        return SIO_EIO;
    return 0;
}

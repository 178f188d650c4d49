/* The hypervisor: VMs with guest RAM (an EPT P2M each), exclusive ownership of devices by
 * IOMMU group, assignment through the host VT-d driver's public API only, the Xen-style IOMMU
 * hypercalls, and interrupt delivery to vCPUs.
 *
 * Every IOMMU table change goes through sio_vtd_drv_*: the hypervisor never writes a context
 * entry or a page-table entry itself. A VM that does not know about the IOMMU gets one domain
 * in which all its RAM is mapped GPA -> HPA; a device whose guest asks for it (hypercall) gets
 * its own empty I/O space instead, filled only with memory the guest owns. */
#include <softiommu/hv.h>
#include <softiommu/err.h>
#include <softiommu/log.h>
#include <softiommu/pci.h>
#include <softiommu/pcidev.h>
#include <softiommu/vtd_driver.h>
#include <softiommu/vtd_ir.h>
#include <softiommu/vtd_regs.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG        4096ULL
#define MAX_VCPUS 64
#define NRID      65536

struct ram {
    uint64_t gpa, hpa, size;
};

struct iomap {
    uint64_t bus, size, gpa;
};

/* A device's own I/O space, created by hypercall. */
struct iospace {
    uint16_t rid;
    struct sio_domain *dom;
    struct iomap *maps;
    unsigned nmaps, capmaps;
    struct iospace *next;
};

struct sio_vm {
    struct sio_hv *hv;
    char name[32];
    unsigned vcpus;
    struct sio_p2m *p2m;
    struct ram *ram;
    unsigned nram, capram;
    struct sio_domain *dom; /* GPA -> HPA; NULL until the first assignment */
    int dom_shared;         /* dom is the P2M itself (sio_vtd_drv_domain_alloc_shared) */
    unsigned ndev;
    struct iospace *ios;
    uint64_t pid_page; /* one pool page: a 64-byte posted-interrupt descriptor per vCPU */
    struct sio_vm_stats st;
    struct sio_vm *next;
};

/* An MSI route set up for a guest (sio_hv_msi_route). */
struct route {
    uint16_t rid;
    struct sio_vm *vm;
    unsigned vcpu;
    uint8_t gvec, hvec; /* hvec: host vector of a remapped route, 0 otherwise */
    int ir;             /* an IRTE was set up (release it) */
    uint64_t addr;
    uint32_t data;
};

#define HVEC_FIRST 0x30
#define HVEC_LAST  0xEF

struct sio_hv {
    struct sio_hv_config cfg;
    struct sio_mem mem;
    struct sio_pgpool *pool;
    struct sio_pci_enum *pci;
    pthread_mutex_t lock;
    uint8_t *kind;         /* enum sio_owner_kind per requester id */
    struct sio_vm **owner; /* per requester id */
    uint8_t *host_pt;      /* host claim in pass-through */
    struct sio_vm *vms;
    uint64_t host_irqs;
    struct route *routes;
    unsigned nroutes, caproutes;
    struct route *hvec[256]; /* host vector -> the route it forwards */
    char err[256];
    int x2apic; /* the unit's remapping is in x2APIC mode: 32-bit NDST in descriptors */
};

/* ---- helpers ------------------------------------------------------------------------------ */

static const char *bdf(struct sio_hv *hv, uint16_t rid, char *buf)
{
    return sio_bdf_format(sio_bdf_from_sid(hv->cfg.segment, rid), buf);
}

__attribute__((format(printf, 3, 4))) static int refuse(struct sio_hv *hv, int err, const char *fmt,
                                                        ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(hv->err, sizeof(hv->err), fmt, ap);
    va_end(ap);
    sio_logf(SIO_LOG_DEBUG, "hv: %s (%s)", hv->err, sio_errname(err));
    return err;
}

static int ok(struct sio_hv *hv)
{
    hv->err[0] = 0;
    return 0;
}

static const char *owner_words(struct sio_hv *hv, uint16_t rid, char *buf, size_t len)
{
    if (hv->kind[rid] == SIO_OWNER_VM)
        snprintf(buf, len, "assigned to VM '%s'", hv->owner[rid]->name);
    else if (hv->kind[rid] == SIO_OWNER_HOST)
        snprintf(buf, len, "in use by the host%s", hv->host_pt[rid] ? " (pass-through)" : "");
    else
        snprintf(buf, len, "free");
    return buf;
}

/* Requester ids the IOMMU may see from one endpoint: its own and its DMA alias (as Linux's
 * domain_context_mapping covers every alias). */
static unsigned dev_sids(struct sio_hv *hv, uint16_t rid, uint16_t out[2])
{
    const struct sio_pci_dev_info *d = sio_pci_enum_find(hv->pci, rid);
    out[0] = rid;
    if (!d || d->dma_alias == rid)
        return 1;
    out[1] = d->dma_alias;
    return 2;
}

/* A group as assignment sees it: its endpoints (bridges stay with the host; they do not DMA
 * for a guest) and every requester id they use, without duplicates. Groups can be large (an
 * SR-IOV device without ACS brings all its VFs), so the arrays are sized to fit. */
struct members {
    uint16_t *eps, *sids;
    unsigned neps, nsids;
};

static void members_put(struct members *m)
{
    free(m->eps);
    free(m->sids);
    memset(m, 0, sizeof(*m));
}

static int members_get(struct sio_hv *hv, uint16_t rid, struct members *m)
{
    memset(m, 0, sizeof(*m));
    const struct sio_pci_dev_info *d = sio_pci_enum_find(hv->pci, rid);
    unsigned total = sio_pci_enum_group(hv->pci, d->group, NULL, 0);
    uint8_t *seen = calloc(NRID / 8, 1);
    m->eps = malloc(sizeof(uint16_t) * (total ? total : 1));
    m->sids = malloc(sizeof(uint16_t) * 2 * (total ? total : 1));
    if (!seen || !m->eps || !m->sids) {
        free(seen);
        members_put(m);
        return SIO_ENOMEM;
    }
    sio_pci_enum_group(hv->pci, d->group, m->eps, total);
    for (unsigned i = 0; i < total; i++) {
        uint16_t r = m->eps[i];
        if (sio_pci_enum_find(hv->pci, r)->bridge)
            continue;
        m->eps[m->neps++] = r;
        uint16_t c[2];
        unsigned n = dev_sids(hv, r, c);
        for (unsigned j = 0; j < n; j++) {
            if (!(seen[c[j] / 8] & (1u << (c[j] % 8)))) {
                seen[c[j] / 8] |= (uint8_t)(1u << (c[j] % 8));
                m->sids[m->nsids++] = c[j];
            }
        }
    }
    free(seen);
    return 0;
}

/* ---- the hypervisor ------------------------------------------------------------------------ */

struct sio_hv *sio_hv_create(const struct sio_hv_config *cfg)
{
    if (!cfg || !cfg->mem || !cfg->pci || !cfg->table_size)
        return NULL;
    struct sio_hv *hv = calloc(1, sizeof(*hv));
    if (!hv)
        return NULL;
    hv->cfg = *cfg;
    if (!hv->cfg.ir && cfg->iommu && (hv->cfg.ir = sio_hv_vtd_ir_ops(cfg->iommu)) != NULL) {
        hv->cfg.ir_ctx = cfg->iommu; /* the host driver remaps interrupts: use it */
        struct sio_vtd_ir_info ii;
        sio_vtd_drv_ir_get_info(cfg->iommu, &ii);
        hv->x2apic = ii.x2apic;
    }
    hv->mem.ops = cfg->mem;
    hv->mem.ctx = cfg->mem_ctx;
    hv->pool = sio_pgpool_create(cfg->mem, cfg->mem_ctx, cfg->table_base, cfg->table_size);
    hv->kind = calloc(NRID, 1);
    hv->host_pt = calloc(NRID, 1);
    hv->owner = calloc(NRID, sizeof(*hv->owner));
    hv->pci = sio_pci_enumerate(cfg->pci, cfg->pci_ctx, cfg->segment,
                                cfg->iommu ? SIO_ENUM_ENABLE_ACS : 0);
    if (!hv->pool || !hv->kind || !hv->host_pt || !hv->owner || !hv->pci) {
        sio_pci_enum_destroy(hv->pci);
        sio_pgpool_destroy(hv->pool);
        free(hv->kind);
        free(hv->host_pt);
        free(hv->owner);
        free(hv);
        return NULL;
    }
    pthread_mutex_init(&hv->lock, NULL);
    return hv;
}

void sio_hv_destroy(struct sio_hv *hv)
{
    if (!hv)
        return;
    while (hv->vms)
        sio_vm_destroy(hv->vms);
    for (unsigned rid = 0; rid < NRID; rid++)
        if (hv->kind[rid] == SIO_OWNER_HOST)
            sio_hv_host_release(hv, (uint16_t)rid);
    pthread_mutex_destroy(&hv->lock);
    free(hv->routes);
    sio_pci_enum_destroy(hv->pci);
    sio_pgpool_destroy(hv->pool);
    free(hv->kind);
    free(hv->host_pt);
    free(hv->owner);
    free(hv);
}

const char *sio_hv_last_error(struct sio_hv *hv)
{
    return hv->err;
}

const struct sio_pci_enum *sio_hv_pci(struct sio_hv *hv)
{
    return hv->pci;
}

int sio_hv_has_iommu(const struct sio_hv *hv)
{
    return hv->cfg.iommu != NULL;
}

int sio_hv_rescan(struct sio_hv *hv)
{
    pthread_mutex_lock(&hv->lock);
    struct sio_pci_enum *e = sio_pci_enumerate(hv->cfg.pci, hv->cfg.pci_ctx, hv->cfg.segment,
                                               hv->cfg.iommu ? SIO_ENUM_ENABLE_ACS : 0);
    int rc = 0;
    if (!e) {
        rc = SIO_ENOMEM;
    } else {
        char b[SIO_BDF_STRLEN], b2[SIO_BDF_STRLEN], w[64];
        for (unsigned rid = 0; rid < NRID && !rc; rid++) {
            if (hv->kind[rid] != SIO_OWNER_NONE && !sio_pci_enum_find(e, (uint16_t)rid))
                rc = refuse(hv, SIO_EBUSY, "%s vanished while %s", bdf(hv, (uint16_t)rid, b),
                            owner_words(hv, (uint16_t)rid, w, sizeof(w)));
        }
        /* A group that holds a VM's device must still be that VM's alone: a function that
         * joined it (VFs of a PF without ACS, say) would otherwise be assignable elsewhere. */
        unsigned n = sio_pci_enum_count(e), ng = sio_pci_enum_ngroups(e);
        uint16_t *holder = rc ? NULL : calloc(ng ? ng : 1, sizeof(uint16_t));
        uint8_t *held = rc ? NULL : calloc(ng ? ng : 1, 1);
        if (!rc && (!holder || !held))
            rc = SIO_ENOMEM;
        for (unsigned i = 0; i < n && !rc; i++) {
            const struct sio_pci_dev_info *d = sio_pci_enum_dev(e, i);
            if (!d->bridge && hv->kind[d->rid] == SIO_OWNER_VM && !held[d->group]) {
                held[d->group] = 1;
                holder[d->group] = d->rid;
            }
        }
        for (unsigned i = 0; i < n && !rc; i++) {
            const struct sio_pci_dev_info *d = sio_pci_enum_dev(e, i);
            if (d->bridge || !held[d->group])
                continue;
            uint16_t h = holder[d->group];
            if (hv->kind[d->rid] != SIO_OWNER_VM || hv->owner[d->rid] != hv->owner[h])
                rc = refuse(hv, SIO_EGROUP,
                            "%s would join the IOMMU group of %s, which is assigned to VM '%s': "
                            "deassign it first",
                            bdf(hv, d->rid, b), bdf(hv, h, b2), hv->owner[h]->name);
        }
        free(holder);
        free(held);
        if (rc) {
            sio_pci_enum_destroy(e);
        } else {
            sio_pci_enum_destroy(hv->pci);
            hv->pci = e;
            ok(hv);
        }
    }
    pthread_mutex_unlock(&hv->lock);
    return rc;
}

enum sio_owner_kind sio_hv_owner(struct sio_hv *hv, uint16_t rid, struct sio_vm **vm)
{
    pthread_mutex_lock(&hv->lock);
    enum sio_owner_kind k = (enum sio_owner_kind)hv->kind[rid];
    if (vm)
        *vm = k == SIO_OWNER_VM ? hv->owner[rid] : NULL;
    pthread_mutex_unlock(&hv->lock);
    return k;
}

int sio_hv_host_claim(struct sio_hv *hv, uint16_t rid, int passthrough)
{
    char b[SIO_BDF_STRLEN], w[64];
    pthread_mutex_lock(&hv->lock);
    int rc = 0;
    const struct sio_pci_dev_info *d = sio_pci_enum_find(hv->pci, rid);
    if (!d)
        rc = refuse(hv, SIO_ENOENT, "no device %s", bdf(hv, rid, b));
    else if (hv->kind[rid] == SIO_OWNER_VM)
        rc =
            refuse(hv, SIO_EOWNED, "%s is %s", bdf(hv, rid, b), owner_words(hv, rid, w, sizeof(w)));
    else if (passthrough && !hv->cfg.iommu)
        rc = refuse(hv, SIO_ENOTSUP, "no IOMMU: pass-through is all there is");
    if (!rc && passthrough && !hv->host_pt[rid]) {
        uint16_t sids[2];
        unsigned n = dev_sids(hv, rid, sids);
        for (unsigned i = 0; i < n && !rc; i++) {
            rc = sio_vtd_drv_passthrough(hv->cfg.iommu, sids[i]);
            if (rc == SIO_EBUSY && sids[i] != rid)
                rc = 0; /* an alias already in pass-through for a sibling behind the bridge */
        }
        if (rc)
            refuse(hv, rc, "the IOMMU driver refused pass-through for %s: %s", bdf(hv, rid, b),
                   sio_strerror(rc));
        else
            hv->host_pt[rid] = 1;
    }
    if (!rc) {
        hv->kind[rid] = SIO_OWNER_HOST;
        ok(hv);
    }
    pthread_mutex_unlock(&hv->lock);
    return rc;
}

int sio_hv_host_release(struct sio_hv *hv, uint16_t rid)
{
    pthread_mutex_lock(&hv->lock);
    int rc = 0;
    if (hv->kind[rid] != SIO_OWNER_HOST) {
        char b[SIO_BDF_STRLEN];
        rc = refuse(hv, SIO_EPERM, "%s is not the host's", bdf(hv, rid, b));
    } else {
        if (hv->host_pt[rid] && hv->cfg.iommu) {
            uint16_t sids[2];
            unsigned n = dev_sids(hv, rid, sids);
            for (unsigned i = 0; i < n; i++) {
                struct sio_domain *pt = sio_vtd_drv_device_domain(hv->cfg.iommu, sids[i]);
                if (pt)
                    sio_vtd_drv_detach(pt, sids[i]);
            }
        }
        hv->host_pt[rid] = 0;
        hv->kind[rid] = SIO_OWNER_NONE;
        ok(hv);
    }
    pthread_mutex_unlock(&hv->lock);
    return rc;
}

uint64_t sio_hv_host_irqs(struct sio_hv *hv)
{
    pthread_mutex_lock(&hv->lock);
    uint64_t n = hv->host_irqs;
    pthread_mutex_unlock(&hv->lock);
    return n;
}

/* ---- VMs ---------------------------------------------------------------------------------- */

struct sio_vm *sio_vm_create(struct sio_hv *hv, const struct sio_vm_config *cfg)
{
    struct sio_vm_config def = {"vm", 1, 0};
    if (!cfg)
        cfg = &def;
    unsigned vcpus = cfg->vcpus ? cfg->vcpus : 1;
    if (vcpus > MAX_VCPUS)
        return NULL;
    struct sio_vm *vm = calloc(1, sizeof(*vm));
    if (!vm)
        return NULL;
    struct sio_p2m_config pc = {0};
    pc.flags = cfg->p2m_flags;
    if ((pc.flags & SIO_P2M_VTD_SHARED) && hv->cfg.iommu) {
        /* The unit will walk this table: only the large pages it supports (VT-d 2 SLLPS). */
        struct sio_vtd_drv_info di;
        sio_vtd_drv_get_info(hv->cfg.iommu, &di);
        if (!di.sp2m)
            pc.flags |= SIO_P2M_NO_2M;
        if (!di.sp1g)
            pc.flags |= SIO_P2M_NO_1G;
    }
    /* Pool pages are taken under the lock only: a page a shared P2M just freed cannot be
     * reused before the IOMMU invalidation that follows (sio_vm_remove_ram). */
    pthread_mutex_lock(&hv->lock);
    vm->p2m = sio_p2m_create(hv->pool, &pc);
    pthread_mutex_unlock(&hv->lock);
    if (!vm->p2m) {
        free(vm);
        return NULL;
    }
    vm->hv = hv;
    vm->vcpus = vcpus;
    snprintf(vm->name, sizeof(vm->name), "%s", cfg->name ? cfg->name : "vm");
    /* Posted-interrupt descriptors (VT-d 6): NV = our notification vector, NDST = the APIC the
     * vCPU runs on (xAPIC: id in NDST 15:8), SN = 0, ON = 0, PIR empty (the page is zeroed). */
    pthread_mutex_lock(&hv->lock);
    int prc = sio_pgpool_alloc(hv->pool, &vm->pid_page);
    pthread_mutex_unlock(&hv->lock);
    if (prc != 0) {
        sio_p2m_destroy(vm->p2m);
        free(vm);
        return NULL;
    }
    for (unsigned i = 0; i < vcpus; i++) {
        uint64_t ctl = sio_set64(0, SIO_VTD_PID_NV, SIO_HV_PI_VECTOR);
        /* NDST as the unit reads it (VT-d 6): xAPIC id in 15:8, or the 32-bit x2APIC id. */
        ctl = sio_set64(ctl, SIO_VTD_PID_NDST, hv->x2apic ? (uint64_t)i : (uint64_t)i << 8);
        sio_mem_write64(&hv->mem, sio_vm_vcpu_pid(vm, i) + 8 * SIO_VTD_PID_CTL_QW, ctl);
    }
    pthread_mutex_lock(&hv->lock);
    vm->next = hv->vms;
    hv->vms = vm;
    pthread_mutex_unlock(&hv->lock);
    return vm;
}

const char *sio_vm_name(const struct sio_vm *vm)
{
    return vm->name;
}

struct sio_p2m *sio_vm_p2m(struct sio_vm *vm)
{
    return vm->p2m;
}

struct sio_hv *sio_vm_hv(struct sio_vm *vm)
{
    return vm->hv;
}

/* Maps all of the VM's RAM into dom (GPA -> HPA, read/write). */
static int map_all_ram(struct sio_vm *vm, struct sio_domain *dom)
{
    for (unsigned i = 0; i < vm->nram; i++) {
        int rc = sio_vtd_drv_map(dom, vm->ram[i].gpa, vm->ram[i].hpa, vm->ram[i].size,
                                 SIO_READ | SIO_WRITE);
        if (rc) {
            for (unsigned j = 0; j < i; j++)
                sio_vtd_drv_unmap(dom, vm->ram[j].gpa, vm->ram[j].size);
            return rc;
        }
    }
    return 0;
}

static void unmap_all_ram(struct sio_vm *vm, struct sio_domain *dom)
{
    for (unsigned i = 0; i < vm->nram; i++)
        sio_vtd_drv_unmap(dom, vm->ram[i].gpa, vm->ram[i].size);
}

int sio_vm_add_ram(struct sio_vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size)
{
    struct sio_hv *hv = vm->hv;
    if (!size || ((gpa | hpa | size) & (PG - 1)) || hpa + size < hpa || gpa + size < gpa)
        return refuse(hv, SIO_EINVAL, "RAM must be 4 KiB aligned and non-empty");
    pthread_mutex_lock(&hv->lock);
    int rc = 0;
    uint64_t tb = hv->cfg.table_base, te = tb + hv->cfg.table_size;
    if (hpa < te && hpa + size > tb)
        rc = refuse(hv, SIO_EOWNED,
                    "host memory 0x%llx-0x%llx overlaps the hypervisor's table pages",
                    (unsigned long long)hpa, (unsigned long long)(hpa + size - 1));
    for (struct sio_vm *o = hv->vms; o && !rc; o = o->next) {
        for (unsigned i = 0; i < o->nram && !rc; i++) {
            const struct ram *r = &o->ram[i];
            if (hpa < r->hpa + r->size && hpa + size > r->hpa)
                rc = refuse(hv, SIO_EOWNED, "host memory 0x%llx-0x%llx is RAM of VM '%s'",
                            (unsigned long long)hpa, (unsigned long long)(hpa + size - 1), o->name);
        }
    }
    if (!rc && vm->nram == vm->capram) {
        unsigned cap = vm->capram ? vm->capram * 2 : 4;
        struct ram *n = realloc(vm->ram, cap * sizeof(*n));
        if (!n)
            rc = SIO_ENOMEM;
        else {
            vm->ram = n;
            vm->capram = cap;
        }
    }
    if (!rc) {
        unsigned flags = sio_p2m_flags(vm->p2m);
        int shared = (flags & SIO_P2M_VTD_SHARED) != 0;
        rc = sio_p2m_map(vm->p2m, gpa, hpa, size, shared ? SIO_RW : SIO_RWX,
                         shared ? SIO_MT_UC : SIO_MT_WB);
        if (rc == SIO_EEXIST)
            refuse(hv, rc, "GPA 0x%llx-0x%llx of VM '%s' is already in use",
                   (unsigned long long)gpa, (unsigned long long)(gpa + size - 1), vm->name);
        else if (rc)
            refuse(hv, rc, "cannot map GPA 0x%llx in VM '%s': %s", (unsigned long long)gpa,
                   vm->name, sio_strerror(rc));
    }
    if (!rc && vm->dom && vm->dom_shared) {
        /* The EPT is the devices' table: the unit is told it changed (needed under CM=1). */
        rc = sio_vtd_drv_domain_invalidate(vm->dom, gpa, size);
        if (rc) {
            sio_p2m_unmap(vm->p2m, gpa, size);
            refuse(hv, rc, "the IOMMU could not be told about the new RAM: %s", sio_strerror(rc));
        }
    } else if (!rc && vm->dom) {
        rc = sio_vtd_drv_map(vm->dom, gpa, hpa, size, SIO_READ | SIO_WRITE);
        if (rc) {
            sio_p2m_unmap(vm->p2m, gpa, size);
            refuse(hv, rc, "the IOMMU driver could not map the new RAM: %s", sio_strerror(rc));
        }
    }
    if (!rc) {
        vm->ram[vm->nram].gpa = gpa;
        vm->ram[vm->nram].hpa = hpa;
        vm->ram[vm->nram].size = size;
        vm->nram++;
        ok(hv);
    }
    pthread_mutex_unlock(&hv->lock);
    return rc;
}

/* With the lock held: device-private I/O-space mappings of [gpa, gpa+size) go away. */
static void unmap_iospaces(struct sio_vm *vm, uint64_t gpa, uint64_t size)
{
    for (struct iospace *s = vm->ios; s; s = s->next) {
        for (unsigned i = 0; i < s->nmaps;) {
            struct iomap *m = &s->maps[i];
            if (m->gpa < gpa + size && gpa < m->gpa + m->size) {
                sio_vtd_drv_unmap(s->dom, m->bus, m->size);
                sio_vtd_drv_flush(s->dom);
                *m = s->maps[--s->nmaps];
            } else {
                i++;
            }
        }
    }
}

int sio_vm_remove_ram(struct sio_vm *vm, uint64_t gpa, uint64_t size)
{
    struct sio_hv *hv = vm->hv;
    if (!size || ((gpa | size) & (PG - 1)) || gpa + size < gpa)
        return refuse(hv, SIO_EINVAL, "RAM must be 4 KiB aligned and non-empty");
    pthread_mutex_lock(&hv->lock);
    int rc = 0;
    unsigned i = 0;
    while (i < vm->nram && !(gpa >= vm->ram[i].gpa && gpa - vm->ram[i].gpa < vm->ram[i].size &&
                             size <= vm->ram[i].size - (gpa - vm->ram[i].gpa)))
        i++;
    if (i == vm->nram)
        rc = refuse(hv, SIO_ENOENT, "GPA 0x%llx-0x%llx is not within one RAM region of VM '%s'",
                    (unsigned long long)gpa, (unsigned long long)(gpa + size - 1), vm->name);
    /* Room for a region split in two. */
    if (!rc && vm->nram == vm->capram) {
        struct ram *n = realloc(vm->ram, (vm->capram * 2) * sizeof(*n));
        if (!n)
            rc = refuse(hv, SIO_ENOMEM, "out of memory");
        else {
            vm->ram = n;
            vm->capram *= 2;
        }
    }
    if (!rc) {
        /* The guest's view first, then the devices': with a shared P2M the EPT change is the
         * IOMMU's too, and the invalidation makes the unit forget it (tables the unmap freed
         * included: no pool page is handed out before this, we hold the lock). */
        sio_p2m_unmap(vm->p2m, gpa, size);
        if (vm->dom && vm->dom_shared) {
            rc = sio_vtd_drv_domain_invalidate(vm->dom, gpa, size);
        } else if (vm->dom) {
            int r = sio_vtd_drv_unmap(vm->dom, gpa, size);
            rc = sio_vtd_drv_flush(vm->dom); /* lazy domains too: nothing stale on return */
            if (r && r != SIO_ENOENT && !rc)
                rc = r;
        }
        unmap_iospaces(vm, gpa, size);
        if (rc)
            refuse(hv, rc, "the IOMMU invalidation failed: %s", sio_strerror(rc));
        struct ram r = vm->ram[i];
        uint64_t head = gpa - r.gpa, tail = r.size - head - size;
        if (head && tail) {
            memmove(&vm->ram[i + 2], &vm->ram[i + 1], (vm->nram - i - 1) * sizeof(r));
            vm->ram[i].size = head;
            vm->ram[i + 1] = (struct ram){gpa + size, r.hpa + head + size, tail};
            vm->nram++;
        } else if (head) {
            vm->ram[i].size = head;
        } else if (tail) {
            vm->ram[i] = (struct ram){gpa + size, r.hpa + size, tail};
        } else {
            vm->ram[i] = vm->ram[--vm->nram];
        }
        if (!rc)
            ok(hv);
    }
    pthread_mutex_unlock(&hv->lock);
    return rc;
}

int sio_vm_read(struct sio_vm *vm, uint64_t gpa, void *buf, size_t len)
{
    return sio_p2m_read(vm->p2m, gpa, buf, len, NULL);
}

int sio_vm_write(struct sio_vm *vm, uint64_t gpa, const void *buf, size_t len)
{
    return sio_p2m_write(vm->p2m, gpa, buf, len, NULL);
}

/* ---- assignment --------------------------------------------------------------------------- */

static struct iospace *find_ios(struct sio_vm *vm, uint16_t rid)
{
    for (struct iospace *s = vm->ios; s; s = s->next)
        if (s->rid == rid)
            return s;
    return NULL;
}

/* Bus mastering, memory decoding and MSI off: a device given back cannot go on DMAing or
 * interrupting with what its last owner programmed. */
static void quiesce(struct sio_hv *hv, uint16_t rid)
{
    const struct sio_pci_cfg_ops *c = hv->cfg.pci;
    uint32_t cmd = c->read(hv->cfg.pci_ctx, rid, SIO_PCI_COMMAND, 2);
    c->write(hv->cfg.pci_ctx, rid, SIO_PCI_COMMAND,
             cmd & ~(uint32_t)(SIO_PCI_CMD_MASTER | SIO_PCI_CMD_MEM), 2);
    if (!(c->read(hv->cfg.pci_ctx, rid, SIO_PCI_STATUS, 2) & SIO_PCI_STATUS_CAPS))
        return;
    unsigned p = c->read(hv->cfg.pci_ctx, rid, SIO_PCI_CAP_PTR, 1) & 0xFC;
    for (int guard = 0; p >= 0x40 && guard < 48; guard++) {
        if (c->read(hv->cfg.pci_ctx, rid, p, 1) == SIO_PCI_CAP_ID_MSI) {
            uint32_t f = c->read(hv->cfg.pci_ctx, rid, p + SIO_PCI_MSI_FLAGS, 2);
            c->write(hv->cfg.pci_ctx, rid, p + SIO_PCI_MSI_FLAGS, f & ~1u, 2);
            break;
        }
        p = c->read(hv->cfg.pci_ctx, rid, p + 1, 1) & 0xFC;
    }
}

static void free_vm_domain(struct sio_vm *vm)
{
    if (!vm->dom)
        return;
    if (!vm->dom_shared)
        unmap_all_ram(vm, vm->dom);
    sio_vtd_drv_domain_free(vm->dom); /* invalidates the domain; a shared P2M stays the VM's */
    vm->dom = NULL;
    vm->dom_shared = 0;
}

/* The VM's first IOMMU domain: its EPT itself when the P2M is shared and the unit can walk a
 * 4-level table (Xen's iommu_hap_pt_share), otherwise the driver's own tables with all the
 * VM's RAM mapped. Lock held. */
static int make_vm_domain(struct sio_vm *vm)
{
    struct sio_hv *hv = vm->hv;
    if (sio_p2m_flags(vm->p2m) & SIO_P2M_VTD_SHARED) {
        struct sio_vtd_drv_info di;
        sio_vtd_drv_get_info(hv->cfg.iommu, &di);
        if (di.sagaw & (1u << 2)) { /* AW 2: 48-bit, 4 levels, the EPT's depth */
            vm->dom = sio_vtd_drv_domain_alloc_shared(hv->cfg.iommu, sio_p2m_root(vm->p2m), 4);
            if (!vm->dom)
                return refuse(hv, SIO_ENOMEM, "the IOMMU driver has no domain for VM '%s'",
                              vm->name);
            vm->dom_shared = 1;
            return 0;
        }
        sio_logf(SIO_LOG_WARN,
                 "hv: VM '%s': the IOMMU cannot walk a 4-level table (SAGAW 0x%x); its devices "
                 "get separate tables",
                 vm->name, di.sagaw);
    }
    vm->dom = sio_vtd_drv_domain_alloc(hv->cfg.iommu);
    if (!vm->dom)
        return refuse(hv, SIO_ENOMEM, "the IOMMU driver has no domain for VM '%s'", vm->name);
    int rc = map_all_ram(vm, vm->dom);
    if (rc) {
        sio_vtd_drv_domain_free(vm->dom);
        vm->dom = NULL;
        return refuse(hv, rc, "mapping VM '%s' RAM for its devices failed: %s", vm->name,
                      sio_strerror(rc));
    }
    return 0;
}

struct sio_domain *sio_vm_domain(struct sio_vm *vm)
{
    pthread_mutex_lock(&vm->hv->lock);
    struct sio_domain *d = vm->dom;
    pthread_mutex_unlock(&vm->hv->lock);
    return d;
}

int sio_vm_p2m_shared(struct sio_vm *vm)
{
    pthread_mutex_lock(&vm->hv->lock);
    int s = vm->dom_shared;
    pthread_mutex_unlock(&vm->hv->lock);
    return s;
}

int sio_hv_assign(struct sio_vm *vm, uint16_t rid)
{
    struct sio_hv *hv = vm->hv;
    char b[SIO_BDF_STRLEN], b2[SIO_BDF_STRLEN], w[64];
    pthread_mutex_lock(&hv->lock);
    int rc = 0;
    const struct sio_pci_dev_info *d = sio_pci_enum_find(hv->pci, rid);
    struct members g = {0};
    if (!d)
        rc = refuse(hv, SIO_ENOENT, "no device %s", bdf(hv, rid, b));
    else if (d->bridge)
        rc = refuse(hv, SIO_EINVAL, "%s is a bridge; bridges stay with the host", bdf(hv, rid, b));
    else if (hv->kind[rid] == SIO_OWNER_VM && hv->owner[rid] == vm)
        rc = refuse(hv, SIO_EEXIST, "%s is already assigned to VM '%s'", bdf(hv, rid, b), vm->name);
    else if (hv->kind[rid] != SIO_OWNER_NONE)
        rc =
            refuse(hv, SIO_EOWNED, "%s is %s", bdf(hv, rid, b), owner_words(hv, rid, w, sizeof(w)));
    if (!rc && (rc = members_get(hv, rid, &g)) != 0)
        refuse(hv, rc, "out of memory");
    if (!rc) {
        for (unsigned i = 0; i < g.neps && !rc; i++) {
            uint16_t m = g.eps[i];
            if (hv->kind[m] == SIO_OWNER_VM && hv->owner[m] != vm)
                rc = refuse(hv, SIO_EOWNED, "%s shares IOMMU group %u with %s, which is %s",
                            bdf(hv, rid, b), d->group, bdf(hv, m, b2),
                            owner_words(hv, m, w, sizeof(w)));
            else if (hv->kind[m] == SIO_OWNER_HOST)
                rc = refuse(hv, SIO_EGROUP,
                            "IOMMU group %u of %s is not viable: %s is in use by the host",
                            d->group, bdf(hv, rid, b), bdf(hv, m, b2));
        }
    }
    if (!rc && !hv->cfg.iommu && !(hv->cfg.flags & SIO_HV_UNSAFE_NOIOMMU))
        rc = refuse(hv, SIO_ENOTSUP, "no IOMMU: %s could reach all of host memory from VM '%s'",
                    bdf(hv, rid, b), vm->name);
    int new_dom = 0;
    if (!rc && hv->cfg.iommu) {
        if (!vm->dom) {
            rc = make_vm_domain(vm);
            new_dom = rc == 0;
        }
        for (unsigned i = 0; i < g.nsids && !rc; i++) {
            rc = sio_vtd_drv_attach(vm->dom, g.sids[i]);
            if (rc) {
                refuse(hv, rc, "the IOMMU driver could not attach %s: %s", bdf(hv, g.sids[i], b),
                       sio_strerror(rc));
                for (unsigned j = 0; j < i; j++)
                    sio_vtd_drv_detach(vm->dom, g.sids[j]);
            }
        }
        if (rc && new_dom)
            free_vm_domain(vm);
    }
    if (!rc) {
        for (unsigned i = 0; i < g.neps; i++) {
            hv->kind[g.eps[i]] = SIO_OWNER_VM;
            hv->owner[g.eps[i]] = vm;
        }
        vm->ndev += g.neps;
        vm->st.assigns++;
        ok(hv);
    }
    members_put(&g);
    pthread_mutex_unlock(&hv->lock);
    return rc;
}

/* ---- interrupt routes ----------------------------------------------------------------------- */

uint64_t sio_vm_vcpu_pid(struct sio_vm *vm, unsigned vcpu)
{
    return vm->pid_page + (uint64_t)SIO_VTD_PID_SIZE * vcpu;
}

static struct route *route_find(struct sio_hv *hv, uint16_t rid)
{
    for (unsigned i = 0; i < hv->nroutes; i++)
        if (hv->routes[i].rid == rid)
            return &hv->routes[i];
    return NULL;
}

/* Hands the IRTE and the host vector of rid's route back, with the lock held. */
static void route_release(struct sio_hv *hv, uint16_t rid)
{
    struct route *r = route_find(hv, rid);
    if (!r)
        return;
    if (r->ir && hv->cfg.ir && hv->cfg.ir->release)
        hv->cfg.ir->release(hv->cfg.ir_ctx, r->addr, r->data);
    if (r->hvec)
        hv->hvec[r->hvec] = NULL;
    unsigned i = (unsigned)(r - hv->routes);
    hv->routes[i] = hv->routes[--hv->nroutes];
    if (i < hv->nroutes && hv->routes[i].hvec) /* it moved: its vector entry follows */
        hv->hvec[hv->routes[i].hvec] = &hv->routes[i];
}

static unsigned find_msi_cap(struct sio_hv *hv, uint16_t rid)
{
    const struct sio_pci_cfg_ops *c = hv->cfg.pci;
    if (!(c->read(hv->cfg.pci_ctx, rid, SIO_PCI_STATUS, 2) & SIO_PCI_STATUS_CAPS))
        return 0;
    unsigned p = c->read(hv->cfg.pci_ctx, rid, SIO_PCI_CAP_PTR, 1) & 0xFC;
    for (int guard = 0; p >= 0x40 && guard < 48; guard++) {
        if (c->read(hv->cfg.pci_ctx, rid, p, 1) == SIO_PCI_CAP_ID_MSI)
            return p;
        p = c->read(hv->cfg.pci_ctx, rid, p + 1, 1) & 0xFC;
    }
    return 0;
}

/* What the IRTE of rid's interrupts checks (Linux's set_msi_sid): the unit sees the requester
 * id the fabric delivers, the DMA alias; when the top-most aliasing bridge is a PCIe-to-PCI
 * bridge, that alias is only its secondary bus (devfn 0), so the bus range from there to the
 * device's own bus is checked instead (SVT=10). */
static void irq_source(struct sio_hv *hv, uint16_t rid, struct sio_hv_irq_src *src)
{
    memset(src, 0, sizeof(*src));
    const struct sio_pci_dev_info *d = sio_pci_enum_find(hv->pci, rid);
    src->sid = d ? d->dma_alias : rid;
    const struct sio_pci_dev_info *top = NULL;
    int guard = 0;
    for (const struct sio_pci_dev_info *b =
             d && d->has_parent ? sio_pci_enum_find(hv->pci, d->parent_rid) : NULL;
         b && guard < 256;
         b = b->has_parent ? sio_pci_enum_find(hv->pci, b->parent_rid) : NULL, guard++)
        if (b->bridge && (b->pcie_type == SIO_PCIE_PCI_BRIDGE || b->pcie_type < 0))
            top = b;
    if (top && top->pcie_type == SIO_PCIE_PCI_BRIDGE && src->sid == sio_sid(top->secondary, 0, 0) &&
        top->secondary <= sio_sid_bus(rid)) {
        src->bus_range = 1;
        src->first_bus = top->secondary;
        src->last_bus = (uint8_t)sio_sid_bus(rid);
    }
}

/* One vector into a vCPU: the injection, as far as this model goes. */
static void inject(struct sio_vm *vm, unsigned vcpu, uint32_t vector)
{
    vm->st.irqs++;
    vm->st.irqs_per_vcpu[vcpu]++;
    vm->st.last_vector = vector;
    vm->st.last_vcpu = vcpu;
}

int sio_hv_msi_route(struct sio_vm *vm, uint16_t rid, unsigned vcpu, uint8_t vector)
{
    struct sio_hv *hv = vm->hv;
    char b[SIO_BDF_STRLEN], w[64];
    pthread_mutex_lock(&hv->lock);
    int rc = 0;
    unsigned msi = 0;
    if (hv->kind[rid] != SIO_OWNER_VM || hv->owner[rid] != vm)
        rc = refuse(hv, SIO_EOWNED, "VM '%s' does not own %s (it is %s)", vm->name, bdf(hv, rid, b),
                    owner_words(hv, rid, w, sizeof(w)));
    else if (vcpu >= vm->vcpus || vector < 16)
        rc = refuse(hv, SIO_EINVAL, "VM '%s' has no vCPU %u, or vector 0x%x is reserved", vm->name,
                    vcpu, vector);
    else if ((msi = find_msi_cap(hv, rid)) == 0)
        rc = refuse(hv, SIO_EINVAL, "%s has no MSI capability", bdf(hv, rid, b));
    if (!rc && hv->nroutes == hv->caproutes) {
        unsigned cap = hv->caproutes ? hv->caproutes * 2 : 16;
        struct route *n = realloc(hv->routes, cap * sizeof(*n));
        if (!n) {
            rc = SIO_ENOMEM;
        } else {
            hv->routes = n;
            hv->caproutes = cap;
            for (unsigned i = 0; i < hv->nroutes; i++) /* the array moved */
                if (n[i].hvec)
                    hv->hvec[n[i].hvec] = &n[i];
        }
    }
    struct route r = {0};
    if (!rc) {
        route_release(hv, rid);
        r.rid = rid;
        r.vm = vm;
        r.vcpu = vcpu;
        r.gvec = vector;
        struct sio_hv_irq_src src;
        irq_source(hv, rid, &src);
        const struct sio_hv_ir_ops *ir = hv->cfg.ir;
        if (ir && ir->post) {
            rc =
                ir->post(hv->cfg.ir_ctx, &src, vector, sio_vm_vcpu_pid(vm, vcpu), &r.addr, &r.data);
            r.ir = rc == 0;
        } else if (ir) {
            for (unsigned v = HVEC_FIRST; v <= HVEC_LAST && !r.hvec; v++)
                if (!hv->hvec[v])
                    r.hvec = (uint8_t)v;
            if (!r.hvec)
                rc = SIO_ENOSPC;
            else
                rc = ir->remap(hv->cfg.ir_ctx, &src, r.hvec, vcpu, &r.addr, &r.data);
            r.ir = rc == 0;
        } else {
            r.addr = SIO_VTD_MSI_ADDR_BASE | ((uint64_t)vcpu << 12);
            r.data = vector;
        }
        if (rc)
            refuse(hv, rc, "no interrupt route for %s: %s", bdf(hv, rid, b), sio_strerror(rc));
    }
    if (!rc) {
        hv->routes[hv->nroutes] = r;
        if (r.hvec)
            hv->hvec[r.hvec] = &hv->routes[hv->nroutes];
        hv->nroutes++;
        const struct sio_pci_cfg_ops *c = hv->cfg.pci;
        c->write(hv->cfg.pci_ctx, rid, msi + SIO_PCI_MSI_ADDR_LO, (uint32_t)r.addr, 4);
        c->write(hv->cfg.pci_ctx, rid, msi + SIO_PCI_MSI_ADDR_HI, (uint32_t)(r.addr >> 32), 4);
        c->write(hv->cfg.pci_ctx, rid, msi + SIO_PCI_MSI_DATA_64, r.data & 0xFFFF, 2);
        uint32_t f = c->read(hv->cfg.pci_ctx, rid, msi + SIO_PCI_MSI_FLAGS, 2);
        c->write(hv->cfg.pci_ctx, rid, msi + SIO_PCI_MSI_FLAGS, f | 1u, 2);
        ok(hv);
    }
    pthread_mutex_unlock(&hv->lock);
    return rc;
}

/* Takes the vCPU's posted vectors, with the lock held. */
static unsigned poll_locked(struct sio_vm *vm, unsigned vcpu)
{
    struct sio_hv *hv = vm->hv;
    uint64_t pid = sio_vm_vcpu_pid(vm, vcpu), ctl;
    unsigned n = 0;
    for (unsigned q = 0; q < 4; q++) {
        uint64_t pir;
        if (sio_mem_read64(&hv->mem, pid + 8 * q, &pir) || !pir)
            continue;
        sio_mem_write64(&hv->mem, pid + 8 * q, 0);
        for (unsigned bit = 0; bit < 64; bit++) {
            if (pir & (1ULL << bit)) {
                inject(vm, vcpu, 64 * q + bit);
                vm->st.irqs_posted++;
                n++;
            }
        }
    }
    if (sio_mem_read64(&hv->mem, pid + 8 * SIO_VTD_PID_CTL_QW, &ctl) == 0 &&
        sio_get64(ctl, SIO_VTD_PID_ON))
        sio_mem_write64(&hv->mem, pid + 8 * SIO_VTD_PID_CTL_QW, sio_set64(ctl, SIO_VTD_PID_ON, 0));
    return n;
}

unsigned sio_vm_vcpu_poll(struct sio_vm *vm, unsigned vcpu)
{
    if (vcpu >= vm->vcpus)
        return 0;
    pthread_mutex_lock(&vm->hv->lock);
    unsigned n = poll_locked(vm, vcpu);
    pthread_mutex_unlock(&vm->hv->lock);
    return n;
}

void sio_hv_unit_msi(void *ctx, uint64_t addr, uint32_t data)
{
    struct sio_hv *hv = ctx;
    pthread_mutex_lock(&hv->lock);
    if ((data & 0xFF) == SIO_HV_PI_VECTOR && (addr >> 20) == (SIO_VTD_MSI_ADDR_BASE >> 20)) {
        /* A notification to the physical CPU in address bits 19:12: every vCPU that runs
         * there takes what was posted to it. */
        unsigned cpu = (unsigned)((addr >> 12) & 0xFF);
        for (struct sio_vm *vm = hv->vms; vm; vm = vm->next)
            if (cpu < vm->vcpus)
                poll_locked(vm, cpu);
    } else {
        hv->host_irqs++;
    }
    pthread_mutex_unlock(&hv->lock);
}

static void iospace_free(struct sio_vm *vm, struct iospace *s);

/* With the lock held: give back rid's group. */
static int deassign_locked(struct sio_vm *vm, uint16_t rid)
{
    struct sio_hv *hv = vm->hv;
    char b[SIO_BDF_STRLEN], w[64];
    if (hv->kind[rid] != SIO_OWNER_VM || hv->owner[rid] != vm)
        return refuse(hv, SIO_EPERM, "%s is not VM '%s''s to give back: it is %s", bdf(hv, rid, b),
                      vm->name, owner_words(hv, rid, w, sizeof(w)));
    struct members g;
    int rc = members_get(hv, rid, &g);
    if (rc)
        return refuse(hv, rc, "out of memory");
    /* First make sure nothing the guest set up can still reach memory or its vCPUs. */
    for (unsigned i = 0; i < g.neps; i++) {
        quiesce(hv, g.eps[i]);
        route_release(hv, g.eps[i]);
    }
    if (hv->cfg.iommu) {
        for (unsigned i = 0; i < g.neps; i++) {
            struct iospace *s = find_ios(vm, g.eps[i]);
            if (s)
                iospace_free(vm, s); /* detaches it from its I/O space */
        }
        /* Ids that went to an I/O space are no longer in the VM's domain: the driver refuses
         * those detaches, harmlessly. */
        for (unsigned i = 0; i < g.nsids && vm->dom; i++)
            sio_vtd_drv_detach(vm->dom, g.sids[i]);
    }
    for (unsigned i = 0; i < g.neps; i++) {
        hv->kind[g.eps[i]] = SIO_OWNER_NONE;
        hv->owner[g.eps[i]] = NULL;
    }
    vm->ndev -= g.neps;
    members_put(&g);
    vm->st.deassigns++;
    if (vm->ndev == 0)
        free_vm_domain(vm);
    return ok(hv);
}

int sio_hv_deassign(struct sio_vm *vm, uint16_t rid)
{
    pthread_mutex_lock(&vm->hv->lock);
    int rc = deassign_locked(vm, rid);
    pthread_mutex_unlock(&vm->hv->lock);
    return rc;
}

unsigned sio_vm_devices(struct sio_vm *vm, uint16_t *rids, unsigned max)
{
    struct sio_hv *hv = vm->hv;
    pthread_mutex_lock(&hv->lock);
    unsigned n = 0;
    for (unsigned rid = 0; rid < NRID; rid++) {
        if (hv->kind[rid] == SIO_OWNER_VM && hv->owner[rid] == vm) {
            if (n < max)
                rids[n] = (uint16_t)rid;
            n++;
        }
    }
    pthread_mutex_unlock(&hv->lock);
    return n;
}

void sio_vm_destroy(struct sio_vm *vm)
{
    if (!vm)
        return;
    struct sio_hv *hv = vm->hv;
    pthread_mutex_lock(&hv->lock);
    for (unsigned rid = 0; rid < NRID; rid++)
        if (hv->kind[rid] == SIO_OWNER_VM && hv->owner[rid] == vm)
            deassign_locked(vm, (uint16_t)rid);
    free_vm_domain(vm);
    for (struct sio_vm **pp = &hv->vms; *pp; pp = &(*pp)->next) {
        if (*pp == vm) {
            *pp = vm->next;
            break;
        }
    }
    pthread_mutex_unlock(&hv->lock);
    sio_pgpool_free(hv->pool, vm->pid_page);
    sio_p2m_destroy(vm->p2m);
    free(vm->ram);
    free(vm);
}

void sio_vm_get_stats(struct sio_vm *vm, struct sio_vm_stats *out)
{
    pthread_mutex_lock(&vm->hv->lock);
    *out = vm->st;
    pthread_mutex_unlock(&vm->hv->lock);
}

/* ---- hypercalls --------------------------------------------------------------------------- */

static void iospace_free(struct sio_vm *vm, struct iospace *s)
{
    struct sio_hv *hv = vm->hv;
    uint16_t sids[2];
    unsigned n = dev_sids(hv, s->rid, sids);
    for (unsigned i = 0; i < n; i++)
        sio_vtd_drv_detach(s->dom, sids[i]); /* refused for an id never attached: fine */
    for (unsigned i = 0; i < s->nmaps; i++)
        sio_vtd_drv_unmap(s->dom, s->maps[i].bus, s->maps[i].size);
    sio_vtd_drv_domain_free(s->dom);
    for (struct iospace **pp = &vm->ios; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    free(s->maps);
    free(s);
}

/* The host range of guest memory [gpa, gpa+size) if it lies in one RAM region of the VM. */
static int guest_range(struct sio_vm *vm, uint64_t gpa, uint64_t size, uint64_t *hpa)
{
    for (unsigned i = 0; i < vm->nram; i++) {
        const struct ram *r = &vm->ram[i];
        if (gpa >= r->gpa && gpa - r->gpa < r->size && size <= r->size - (gpa - r->gpa)) {
            *hpa = r->hpa + (gpa - r->gpa);
            return 0;
        }
    }
    return SIO_EPERM;
}

static long hc_locked(struct sio_vm *vm, const struct sio_hypercall *hc)
{
    struct sio_hv *hv = vm->hv;
    char b[SIO_BDF_STRLEN], w[64];
    if (hc->op == SIO_HC_IOMMU_DETECTED)
        return ok(hv), hv->cfg.iommu ? 1 : 0;
    if (hc->op < SIO_HC_IOSPACE_CREATE || hc->op > SIO_HC_UNMAP)
        return refuse(hv, SIO_EINVAL, "unknown hypercall %u", hc->op);
    uint16_t rid = hc->rid;
    if (hv->kind[rid] != SIO_OWNER_VM || hv->owner[rid] != vm)
        return refuse(hv, SIO_EOWNED, "VM '%s' does not own %s (it is %s)", vm->name,
                      bdf(hv, rid, b), owner_words(hv, rid, w, sizeof(w)));
    if (!hv->cfg.iommu)
        return refuse(hv, SIO_ENOTSUP, "no IOMMU: there are no I/O spaces");
    struct iospace *s = find_ios(vm, rid);
    switch (hc->op) {
    case SIO_HC_IOSPACE_CREATE: {
        if (s)
            return refuse(hv, SIO_EEXIST, "%s already has its own I/O space", bdf(hv, rid, b));
        /* The space is per requester id: refuse when another endpoint carries the same. */
        const struct sio_pci_dev_info *d = sio_pci_enum_find(hv->pci, rid);
        struct members g;
        if (members_get(hv, rid, &g))
            return refuse(hv, SIO_ENOMEM, "out of memory");
        for (unsigned i = 0; i < g.neps; i++) {
            const struct sio_pci_dev_info *m = sio_pci_enum_find(hv->pci, g.eps[i]);
            if (g.eps[i] != rid && m->dma_alias == d->dma_alias) {
                char b2[SIO_BDF_STRLEN];
                long r = refuse(hv, SIO_EGROUP,
                                "%s cannot have its own I/O space: its DMA carries the "
                                "requester id of %s, as does %s's",
                                bdf(hv, rid, b), bdf(hv, d->dma_alias, w), bdf(hv, g.eps[i], b2));
                members_put(&g);
                return r;
            }
        }
        members_put(&g);
        s = calloc(1, sizeof(*s));
        if (!s)
            return SIO_ENOMEM;
        s->rid = rid;
        s->dom = sio_vtd_drv_domain_alloc(hv->cfg.iommu);
        if (!s->dom) {
            free(s);
            return refuse(hv, SIO_ENOMEM, "the IOMMU driver has no domain left");
        }
        uint16_t sids[2];
        unsigned n = dev_sids(hv, rid, sids);
        int rc = 0;
        for (unsigned i = 0; i < n && !rc; i++) {
            if (vm->dom)
                sio_vtd_drv_detach(vm->dom, sids[i]);
            rc = sio_vtd_drv_attach(s->dom, sids[i]);
        }
        s->next = vm->ios;
        vm->ios = s;
        if (rc) {
            iospace_free(vm, s);
            for (unsigned i = 0; i < n; i++)
                sio_vtd_drv_attach(vm->dom, sids[i]);
            return refuse(hv, rc, "attaching %s to its I/O space failed: %s", bdf(hv, rid, b),
                          sio_strerror(rc));
        }
        return ok(hv);
    }
    case SIO_HC_IOSPACE_DESTROY: {
        if (!s)
            return refuse(hv, SIO_ENOENT, "%s has no I/O space of its own", bdf(hv, rid, b));
        iospace_free(vm, s);
        uint16_t sids[2];
        unsigned n = dev_sids(hv, rid, sids);
        int rc = 0;
        for (unsigned i = 0; i < n && vm->dom; i++) {
            int r = sio_vtd_drv_attach(vm->dom, sids[i]);
            if (r && !rc)
                rc = r;
        }
        return rc ? refuse(hv, rc, "re-attaching %s failed", bdf(hv, rid, b)) : ok(hv);
    }
    case SIO_HC_MAP: {
        if (!s)
            return refuse(hv, SIO_ENOENT, "%s has no I/O space: create one first", bdf(hv, rid, b));
        if (!hc->size || ((hc->bus_addr | hc->gpa | hc->size) & (PG - 1)) || !hc->perm ||
            (hc->perm & ~(unsigned)(SIO_READ | SIO_WRITE)))
            return refuse(hv, SIO_EINVAL, "map needs 4 KiB-aligned addresses and R/W perm");
        uint64_t hpa;
        if (guest_range(vm, hc->gpa, hc->size, &hpa))
            return refuse(hv, SIO_EPERM, "GPA 0x%llx-0x%llx is not memory of VM '%s'",
                          (unsigned long long)hc->gpa, (unsigned long long)(hc->gpa + hc->size - 1),
                          vm->name);
        for (unsigned i = 0; i < s->nmaps; i++)
            if (hc->bus_addr < s->maps[i].bus + s->maps[i].size &&
                hc->bus_addr + hc->size > s->maps[i].bus)
                return refuse(hv, SIO_EEXIST, "bus address 0x%llx is already mapped",
                              (unsigned long long)hc->bus_addr);
        if (s->nmaps == s->capmaps) {
            unsigned cap = s->capmaps ? s->capmaps * 2 : 8;
            struct iomap *nm = realloc(s->maps, cap * sizeof(*nm));
            if (!nm)
                return SIO_ENOMEM;
            s->maps = nm;
            s->capmaps = cap;
        }
        int rc = sio_vtd_drv_map(s->dom, hc->bus_addr, hpa, hc->size, hc->perm);
        if (rc)
            return refuse(hv, rc, "the IOMMU driver refused the mapping: %s", sio_strerror(rc));
        s->maps[s->nmaps].bus = hc->bus_addr;
        s->maps[s->nmaps].size = hc->size;
        s->maps[s->nmaps].gpa = hc->gpa;
        s->nmaps++;
        return ok(hv);
    }
    case SIO_HC_UNMAP: {
        if (!s)
            return refuse(hv, SIO_ENOENT, "%s has no I/O space", bdf(hv, rid, b));
        for (unsigned i = 0; i < s->nmaps; i++) {
            if (s->maps[i].bus == hc->bus_addr && s->maps[i].size == hc->size) {
                int rc = sio_vtd_drv_unmap(s->dom, hc->bus_addr, hc->size);
                s->maps[i] = s->maps[--s->nmaps];
                return rc ? refuse(hv, rc, "unmap failed: %s", sio_strerror(rc)) : ok(hv);
            }
        }
        return refuse(hv, SIO_ENOTMAPPED,
                      "bus address 0x%llx (+0x%llx) is not a mapping %s has made",
                      (unsigned long long)hc->bus_addr, (unsigned long long)hc->size, vm->name);
    }
    default:
        return refuse(hv, SIO_EINVAL, "unknown hypercall %u", hc->op);
    }
}

long sio_hv_hypercall(struct sio_vm *caller, const struct sio_hypercall *hc)
{
    struct sio_hv *hv = caller->hv;
    pthread_mutex_lock(&hv->lock);
    caller->st.hypercalls++;
    long rc = hc ? hc_locked(caller, hc) : refuse(hv, SIO_EINVAL, "no hypercall");
    if (rc < 0) {
        caller->st.hc_refused++;
        if (-rc < 32)
            caller->st.hc_refused_by_err[-rc]++;
    }
    pthread_mutex_unlock(&hv->lock);
    return rc;
}

/* ---- interrupts --------------------------------------------------------------------------- */

int sio_hv_deliver_irq(struct sio_hv *hv, uint16_t rid, const struct sio_irq *irq)
{
    pthread_mutex_lock(&hv->lock);
    int rc = 0;
    if (irq->flags & SIO_IRQ_POSTED) {
        /* Already in a vCPU's descriptor; the notification event (if any) fetches it. */
    } else if (irq->flags & SIO_IRQ_REMAPPED) {
        /* The IRTE, which checked the source id, chose the host vector: it names the route. */
        struct route *r = irq->vector < 256 ? hv->hvec[irq->vector] : NULL;
        if (r) {
            inject(r->vm, r->vcpu, r->gvec);
            r->vm->st.irqs_remapped++;
        } else {
            hv->host_irqs++;
        }
    } else if (hv->kind[rid] == SIO_OWNER_VM) {
        struct sio_vm *vm = hv->owner[rid];
        inject(vm, irq->dest % vm->vcpus, irq->vector);
    } else {
        hv->host_irqs++;
        rc = hv->kind[rid] == SIO_OWNER_HOST ? 0 : SIO_ENOENT;
    }
    pthread_mutex_unlock(&hv->lock);
    return rc;
}

void sio_hv_irq_sink(void *ctx, uint16_t rid, const struct sio_irq *irq)
{
    sio_hv_deliver_irq(ctx, rid, irq);
}

/* Bringing the VT-d driver up from an ACPI DMAR table, as a kernel does at boot (VT-d 8).
 *
 * - One driver per DRHD, in the platform view's search order (explicit scopes first,
 *   INCLUDE_PCI_ALL last), each given an equal share of the table range.
 * - RMRRs (VT-d 8): every device an RMRR names gets a DMA domain of its own in which its
 *   reserved regions are mapped 1:1, read/write, before translation could block them. One
 *   domain per device rather than one shared identity domain, so that a device reaches only
 *   its own reserved regions. The regions follow the device into every domain it is attached
 *   to through the platform, and the device returns to its RMRR domain when detached.
 *   An RMRR whose base or limit+1 is not 4 KiB-aligned, or whose limit is below its base, is a
 *   firmware bug: skipped with a warning and counted (Linux also refuses to map it).
 * - ATS: the platform view's answer (ATSR/SATC), for legacy mode. */
#include <softiommu/err.h>
#include <softiommu/log.h>
#include <softiommu/pci.h>
#include <softiommu/vtd_platform.h>

#include "core/grow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAT_MAX_RMRR_PER_DEV 16

struct plat_unit {
    struct sio_vtd_drv *drv;
    const struct sio_dmar_unit *info;
};

struct plat_dom {
    struct sio_domain *dom;
    size_t unit;
};

struct plat_rmrr_dev {
    uint16_t seg, sid;
    size_t unit;
    struct sio_domain *identity; /* the device's RMRR domain */
};

struct sio_vtd_platform {
    struct sio_dmar *dmar;
    struct sio_dmar_platform *view;
    struct plat_unit *units;
    size_t nunits;
    struct plat_dom *doms;
    size_t ndoms, capdoms;
    struct plat_rmrr_dev *rdev;
    size_t nrdev, caprdev;
    size_t rmrr_skipped;
};

static void set_err(struct sio_acpi_error *err, uint32_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(struct sio_acpi_error *err, uint32_t off, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    err->offset = off;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}

static int rmrr_well_formed(const struct sio_dmar_struct *r)
{
    return (r->base & 0xfff) == 0 && ((r->limit + 1) & 0xfff) == 0 && r->limit > r->base;
}

static int remember_domain(struct sio_vtd_platform *p, struct sio_domain *dom, size_t unit)
{
    if (sio_grow((void **)&p->doms, &p->capdoms, p->ndoms, sizeof(*p->doms), 16))
        return SIO_ENOMEM;
    p->doms[p->ndoms++] = (struct plat_dom){dom, unit};
    return 0;
}

static int domain_unit(const struct sio_vtd_platform *p, const struct sio_domain *dom)
{
    for (size_t i = 0; i < p->ndoms; i++)
        if (p->doms[i].dom == dom)
            return (int)p->doms[i].unit;
    return -1;
}

static struct plat_rmrr_dev *rmrr_dev(struct sio_vtd_platform *p, uint16_t seg, uint16_t sid)
{
    for (size_t i = 0; i < p->nrdev; i++)
        if (p->rdev[i].seg == seg && p->rdev[i].sid == sid)
            return &p->rdev[i];
    return NULL;
}

/* Map the device's well-formed RMRRs 1:1 into dom. A region already mapped there 1:1 (the
 * device's own identity domain, or a domain shared by two devices of one RMRR) is fine. */
static int map_rmrrs(struct sio_vtd_platform *p, struct sio_domain *dom, uint16_t seg, uint16_t sid)
{
    const struct sio_dmar_struct *r[PLAT_MAX_RMRR_PER_DEV];
    size_t n = sio_dmar_platform_rmrrs_for(p->view, seg, sid, r, PLAT_MAX_RMRR_PER_DEV);
    if (n > PLAT_MAX_RMRR_PER_DEV)
        n = PLAT_MAX_RMRR_PER_DEV;
    for (size_t i = 0; i < n; i++) {
        if (!rmrr_well_formed(r[i]))
            continue;
        uint64_t size = r[i]->limit - r[i]->base + 1;
        int rc = sio_vtd_drv_map(dom, r[i]->base, r[i]->base, size, SIO_READ | SIO_WRITE);
        if (rc == SIO_EEXIST) {
            uint64_t pa;
            if (sio_vtd_drv_iova_to_phys(dom, r[i]->base, &pa) == 0 && pa == r[i]->base)
                continue;
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int rmrr_bringup_device(struct sio_vtd_platform *p, uint16_t seg, uint16_t sid)
{
    int u = sio_dmar_platform_unit_for(p->view, seg, sid);
    if (u < 0)
        return 0; /* no unit translates it: nothing to keep reachable */
    if (sio_grow((void **)&p->rdev, &p->caprdev, p->nrdev, sizeof(*p->rdev), 8))
        return SIO_ENOMEM;
    struct sio_domain *dom = sio_vtd_drv_domain_alloc(p->units[u].drv);
    if (!dom)
        return SIO_ENOSPC;
    int rc = remember_domain(p, dom, (size_t)u);
    if (!rc)
        rc = map_rmrrs(p, dom, seg, sid);
    if (!rc)
        rc = sio_vtd_drv_attach(dom, sid);
    if (rc)
        return rc;
    p->rdev[p->nrdev++] = (struct plat_rmrr_dev){seg, sid, (size_t)u, dom};
    return 0;
}

/* Every requester id of every unit's segment that some RMRR holds. Scanning ids (rather than
 * scope entries) also covers sub-hierarchy scopes, whose devices are every id below the
 * bridge. */
static int rmrr_bringup(struct sio_vtd_platform *p)
{
    int any = 0;
    for (size_t i = 0; i < p->dmar->nst; i++) {
        const struct sio_dmar_struct *s = &p->dmar->st[i];
        if (s->type != SIO_DMAR_RMRR)
            continue;
        any = 1;
        if (!rmrr_well_formed(s)) {
            p->rmrr_skipped++;
            sio_logf(SIO_LOG_WARN,
                     "DMAR: RMRR at table offset 0x%x [0x%llx-0x%llx] is not 4 KiB-aligned: "
                     "not mapped",
                     s->offset, (unsigned long long)s->base, (unsigned long long)s->limit);
        }
    }
    if (!any)
        return 0;
    for (size_t u = 0; u < p->nunits; u++) {
        uint16_t seg = p->units[u].info->segment;
        int seen = 0; /* each segment once */
        for (size_t v = 0; v < u; v++)
            seen |= p->units[v].info->segment == seg;
        if (seen)
            continue;
        for (uint32_t sid = 0; sid <= 0xffff; sid++) {
            const struct sio_dmar_struct *r;
            if (!sio_dmar_platform_rmrrs_for(p->view, seg, (uint16_t)sid, &r, 1))
                continue;
            int rc = rmrr_bringup_device(p, seg, (uint16_t)sid);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int sio_vtd_platform_create(const void *dmar, size_t len, const struct sio_vtd_platform_config *cfg,
                            sio_vtd_unit_lookup_fn lookup, void *lookup_ctx,
                            const struct sio_mem_ops *mem, void *mem_ctx,
                            struct sio_vtd_platform **out, struct sio_acpi_error *err)
{
    if (!dmar || !cfg || !lookup || !mem || !out) {
        set_err(err, 0, "missing argument");
        return SIO_EINVAL;
    }
    *out = NULL;
    struct sio_vtd_platform *p = calloc(1, sizeof(*p));
    if (!p) {
        set_err(err, 0, "out of memory");
        return SIO_ENOMEM;
    }
    struct sio_acpi_error perr = {0, ""};
    int rc = sio_dmar_parse(dmar, len, 0, &p->dmar, &perr);
    if (rc) {
        set_err(err, perr.offset, "DMAR: %s", perr.msg);
        rc = SIO_EPARSE;
        goto fail;
    }
    rc = sio_dmar_platform_create(p->dmar, cfg->bridges, cfg->nbridges, &p->view);
    if (rc) {
        set_err(err, 0, "DMAR: cannot build the platform view: %s", sio_strerror(rc));
        goto fail;
    }
    p->nunits = sio_dmar_platform_nunits(p->view);
    if (p->nunits == 0) {
        set_err(err, 0, "DMAR: no DRHD: the table describes no remapping unit");
        rc = SIO_ENOENT;
        goto fail;
    }
    p->units = calloc(p->nunits, sizeof(*p->units));
    if (!p->units) {
        rc = SIO_ENOMEM;
        set_err(err, 0, "out of memory");
        goto fail;
    }
    uint64_t share = (cfg->table_size / p->nunits) & ~0xfffULL;
    for (size_t i = 0; i < p->nunits; i++) {
        const struct sio_dmar_unit *info = sio_dmar_platform_unit(p->view, i);
        p->units[i].info = info;
        const struct sio_mmio_ops *ops = NULL;
        void *mctx = NULL;
        if (lookup(lookup_ctx, info->segment, info->reg_base, &ops, &mctx) || !ops) {
            set_err(err, info->drhd->offset,
                    "DMAR: DRHD %u (segment %u) at register base 0x%llx: no unit there", info->seq,
                    info->segment, (unsigned long long)info->reg_base);
            rc = SIO_ENOENT;
            goto fail;
        }
        if (share == 0) {
            set_err(err, 0, "table range of %llu bytes is too small for %zu units",
                    (unsigned long long)cfg->table_size, p->nunits);
            rc = SIO_ENOSPC;
            goto fail;
        }
        struct sio_vtd_drv_config dc = {cfg->table_base + i * share, share, cfg->strict};
        struct sio_vtd_drv_options opt = {0};
        opt.segment = info->segment;
        p->units[i].drv = sio_vtd_drv_create_ex(&dc, &opt, ops, mctx, mem, mem_ctx);
        if (!p->units[i].drv) {
            set_err(err, info->drhd->offset,
                    "DMAR: DRHD %u at register base 0x%llx: the driver cannot drive this unit "
                    "(see the log)",
                    info->seq, (unsigned long long)info->reg_base);
            rc = SIO_ENOTSUP;
            goto fail;
        }
    }
    rc = rmrr_bringup(p);
    if (rc) {
        set_err(err, 0, "DMAR: RMRR identity mapping failed: %s", sio_strerror(rc));
        goto fail;
    }
    *out = p;
    return 0;
fail:
    sio_vtd_platform_destroy(p);
    return rc;
}

void sio_vtd_platform_destroy(struct sio_vtd_platform *p)
{
    if (!p)
        return;
    for (size_t i = 0; p->units && i < p->nunits; i++)
        sio_vtd_drv_destroy(p->units[i].drv); /* frees every domain of the unit */
    free(p->units);
    free(p->doms);
    free(p->rdev);
    sio_dmar_platform_destroy(p->view);
    sio_dmar_free(p->dmar);
    free(p);
}

size_t sio_vtd_platform_nunits(const struct sio_vtd_platform *p)
{
    return p->nunits;
}

struct sio_vtd_drv *sio_vtd_platform_unit_drv(const struct sio_vtd_platform *p, size_t i)
{
    return i < p->nunits ? p->units[i].drv : NULL;
}

const struct sio_dmar_unit *sio_vtd_platform_unit(const struct sio_vtd_platform *p, size_t i)
{
    return i < p->nunits ? p->units[i].info : NULL;
}

struct sio_vtd_drv *sio_vtd_platform_drv_for(const struct sio_vtd_platform *p, uint16_t seg,
                                             uint16_t sid)
{
    int u = sio_dmar_platform_unit_for(p->view, seg, sid);
    return u < 0 ? NULL : p->units[u].drv;
}

struct sio_domain *sio_vtd_platform_domain_alloc(struct sio_vtd_platform *p, uint16_t seg,
                                                 uint16_t sid)
{
    int u = sio_dmar_platform_unit_for(p->view, seg, sid);
    if (u < 0)
        return NULL;
    struct sio_domain *dom = sio_vtd_drv_domain_alloc(p->units[u].drv);
    if (dom && remember_domain(p, dom, (size_t)u)) {
        sio_vtd_drv_domain_free(dom);
        return NULL;
    }
    return dom;
}

int sio_vtd_platform_attach(struct sio_vtd_platform *p, struct sio_domain *dom, uint16_t seg,
                            uint16_t sid)
{
    int u = sio_dmar_platform_unit_for(p->view, seg, sid);
    if (u < 0)
        return SIO_ENOENT;
    if (domain_unit(p, dom) != u)
        return SIO_EINVAL;
    struct plat_rmrr_dev *rd = rmrr_dev(p, seg, sid);
    if (rd && rd->identity == dom)
        return SIO_EEXIST;
    int rc = map_rmrrs(p, dom, seg, sid);
    if (rc)
        return rc;
    if (rd) {
        /* Leave the identity domain only now that the regions are in place in dom. */
        rc = sio_vtd_drv_detach(rd->identity, sid);
        if (rc)
            return rc;
    }
    rc = sio_vtd_drv_attach(dom, sid);
    if (rc && rd)
        sio_vtd_drv_attach(rd->identity, sid); /* back where it was */
    return rc;
}

int sio_vtd_platform_detach(struct sio_vtd_platform *p, struct sio_domain *dom, uint16_t seg,
                            uint16_t sid)
{
    int rc = sio_vtd_drv_detach(dom, sid);
    if (rc)
        return rc;
    struct plat_rmrr_dev *rd = rmrr_dev(p, seg, sid);
    if (rd && rd->identity != dom)
        rc = sio_vtd_drv_attach(rd->identity, sid);
    return rc;
}

int sio_vtd_platform_ats_allowed(const struct sio_vtd_platform *p, uint16_t seg, uint16_t sid,
                                 const char **why)
{
    return sio_dmar_platform_ats_allowed(p->view, seg, sid, 0, why);
}

size_t sio_vtd_platform_rmrr_devices(const struct sio_vtd_platform *p)
{
    return p->nrdev;
}

size_t sio_vtd_platform_rmrr_skipped(const struct sio_vtd_platform *p)
{
    return p->rmrr_skipped;
}

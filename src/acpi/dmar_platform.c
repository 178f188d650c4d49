/* The DMAR platform view: what a kernel derives from the table to bring its VT-d units up.
 *
 * Every device scope is resolved to a requester id the way VT-d 8 describes the path walk: start
 * at the scope's bus; each hop but the last names a bridge whose secondary bus is the next bus;
 * the last hop is the device. Bridges come from a caller-supplied topology (what PCI config space
 * would say). A bridge scope covers the bridge and every bus below it.
 *
 * Lookups follow Linux (drivers/iommu/intel/dmar.c, iommu.c): units with explicit scopes first,
 * INCLUDE_PCI_ALL units last; RMRRs apply to the devices their scopes cover; ATS per
 * dmar_ats_supported(). */
#include "acpi_int.h"

#include <softiommu/err.h>
#include <softiommu/pci.h>

#include <stdlib.h>
#include <string.h>

struct rscope {
    uint16_t seg;
    uint16_t sid; /* the device the path ends at */
    uint8_t type; /* enum sio_dmar_scope_type */
    uint8_t enum_id;
    uint8_t has_range; /* bridge scope with a known bus range below it */
    uint8_t sec, sub;
    size_t owner; /* index of the structure in the record */
};

struct sio_dmar_platform {
    const struct sio_dmar *d;
    struct sio_dmar_unit *units;
    size_t nunits;
    struct rscope *rs;
    size_t nrs;
    struct sio_pci_bridge *br;
    size_t nbr;
    size_t unresolved;
};

static const struct sio_pci_bridge *find_bridge(const struct sio_dmar_platform *p, uint16_t seg,
                                                unsigned bus, unsigned dev, unsigned fn)
{
    for (size_t i = 0; i < p->nbr; i++) {
        const struct sio_pci_bridge *b = &p->br[i];
        if (b->seg == seg && b->bus == bus && b->dev == dev && b->fn == fn)
            return b;
    }
    return NULL;
}

/* The bridge directly above bus `bus` of segment seg: the one with the narrowest bus range that
 * holds it. NULL: bus is a root bus. */
static const struct sio_pci_bridge *parent_of_bus(const struct sio_dmar_platform *p, uint16_t seg,
                                                  unsigned bus)
{
    const struct sio_pci_bridge *best = NULL;
    for (size_t i = 0; i < p->nbr; i++) {
        const struct sio_pci_bridge *b = &p->br[i];
        if (b->seg != seg || bus < b->secondary || bus > b->subordinate)
            continue;
        if (!best || b->subordinate - b->secondary < best->subordinate - best->secondary)
            best = b;
    }
    return best;
}

static int resolve(struct sio_dmar_platform *p, const struct sio_dmar_struct *s, size_t owner)
{
    for (size_t i = 0; i < s->nscopes; i++) {
        const struct sio_dmar_scope *sc = &s->scopes[i];
        if (sc->npath == 0 || sc->npath > SIO_DMAR_MAX_HOPS) {
            p->unresolved++;
            continue;
        }
        unsigned bus = sc->bus;
        int ok = 1;
        for (unsigned h = 0; h + 1 < sc->npath; h++) {
            const struct sio_pci_bridge *b =
                find_bridge(p, s->segment, bus, sc->path[h].dev, sc->path[h].fn);
            if (!b) {
                ok = 0;
                break;
            }
            bus = b->secondary;
        }
        if (!ok) {
            p->unresolved++;
            continue;
        }
        struct rscope *r = acpi_push((void **)&p->rs, &p->nrs, sizeof(*p->rs));
        if (!r)
            return SIO_ENOMEM;
        const struct sio_dmar_hop *last = &sc->path[sc->npath - 1];
        r->seg = s->segment;
        r->sid = sio_sid(bus, last->dev, last->fn);
        r->type = sc->type;
        r->enum_id = sc->enum_id;
        r->owner = owner;
        if (sc->type == SIO_DMAR_SCOPE_BRIDGE) {
            const struct sio_pci_bridge *b = find_bridge(p, s->segment, bus, last->dev, last->fn);
            if (b) {
                r->has_range = 1;
                r->sec = b->secondary;
                r->sub = b->subordinate;
            }
        }
    }
    return 0;
}

int sio_dmar_platform_create(const struct sio_dmar *d, const struct sio_pci_bridge *bridges,
                             size_t nbridges, struct sio_dmar_platform **out)
{
    if (!d || !out || (nbridges && !bridges))
        return SIO_EINVAL;
    *out = NULL;
    struct sio_dmar_platform *p = calloc(1, sizeof(*p));
    if (!p)
        return SIO_ENOMEM;
    p->d = d;
    if (nbridges) {
        p->br = malloc(nbridges * sizeof(*bridges));
        if (!p->br) {
            free(p);
            return SIO_ENOMEM;
        }
        memcpy(p->br, bridges, nbridges * sizeof(*bridges));
        p->nbr = nbridges;
    }
    size_t ndrhd = 0;
    for (size_t i = 0; i < d->nst; i++)
        ndrhd += d->st[i].type == SIO_DMAR_DRHD;
    p->units = calloc(ndrhd ? ndrhd : 1, sizeof(*p->units));
    if (!p->units) {
        sio_dmar_platform_destroy(p);
        return SIO_ENOMEM;
    }
    /* Explicit-scope units first, INCLUDE_PCI_ALL units after them; each group in table
     * order. seq is the DRHD's position in the table (Linux's dmar<seq>). */
    for (int pass = 0; pass < 2; pass++) {
        unsigned seq = 0;
        for (size_t i = 0; i < d->nst; i++) {
            const struct sio_dmar_struct *s = &d->st[i];
            if (s->type != SIO_DMAR_DRHD)
                continue;
            int all = (s->flags & SIO_DRHD_INCLUDE_PCI_ALL) != 0;
            if (all == pass) {
                struct sio_dmar_unit *u = &p->units[p->nunits++];
                u->seq = seq;
                u->segment = s->segment;
                u->reg_base = s->base;
                u->reg_size = 4096ULL << (s->size & 0xf);
                u->include_all = all;
                u->drhd = s;
            }
            seq++;
        }
    }
    for (size_t i = 0; i < d->nst; i++) {
        const struct sio_dmar_struct *s = &d->st[i];
        if (s->type == SIO_DMAR_RHSA || s->type == SIO_DMAR_ANDD || s->type > SIO_DMAR_SIDP)
            continue;
        if (resolve(p, s, i)) {
            sio_dmar_platform_destroy(p);
            return SIO_ENOMEM;
        }
    }
    *out = p;
    return 0;
}

void sio_dmar_platform_destroy(struct sio_dmar_platform *p)
{
    if (!p)
        return;
    free(p->units);
    free(p->rs);
    free(p->br);
    free(p);
}

size_t sio_dmar_platform_nunits(const struct sio_dmar_platform *p)
{
    return p ? p->nunits : 0;
}

const struct sio_dmar_unit *sio_dmar_platform_unit(const struct sio_dmar_platform *p, size_t i)
{
    return p && i < p->nunits ? &p->units[i] : NULL;
}

size_t sio_dmar_platform_unresolved(const struct sio_dmar_platform *p)
{
    return p ? p->unresolved : 0;
}

/* Does resolved scope r hold PCI device seg:sid for DMA purposes? */
static int covers(const struct rscope *r, uint16_t seg, uint16_t sid)
{
    if (r->seg != seg)
        return 0;
    if (r->type != SIO_DMAR_SCOPE_ENDPOINT && r->type != SIO_DMAR_SCOPE_BRIDGE)
        return 0;
    if (r->sid == sid)
        return 1;
    unsigned bus = sio_sid_bus(sid);
    return r->type == SIO_DMAR_SCOPE_BRIDGE && r->has_range && bus >= r->sec && bus <= r->sub;
}

static int owner_covers(const struct sio_dmar_platform *p, size_t owner, uint16_t seg, uint16_t sid)
{
    for (size_t i = 0; i < p->nrs; i++)
        if (p->rs[i].owner == owner && covers(&p->rs[i], seg, sid))
            return 1;
    return 0;
}

static size_t index_of(const struct sio_dmar_platform *p, const struct sio_dmar_struct *s)
{
    return (size_t)(s - p->d->st);
}

int sio_dmar_platform_unit_for(const struct sio_dmar_platform *p, uint16_t seg, uint16_t sid)
{
    if (!p)
        return SIO_EINVAL;
    for (size_t u = 0; u < p->nunits; u++) {
        const struct sio_dmar_unit *un = &p->units[u];
        if (un->include_all) {
            if (un->segment == seg)
                return (int)u;
        } else if (owner_covers(p, index_of(p, un->drhd), seg, sid)) {
            return (int)u;
        }
    }
    return SIO_ENOENT;
}

size_t sio_dmar_platform_rmrrs_for(const struct sio_dmar_platform *p, uint16_t seg, uint16_t sid,
                                   const struct sio_dmar_struct **out, size_t max)
{
    size_t n = 0;
    if (!p)
        return 0;
    for (size_t i = 0; i < p->d->nst; i++) {
        const struct sio_dmar_struct *s = &p->d->st[i];
        if (s->type != SIO_DMAR_RMRR || s->segment != seg || !owner_covers(p, i, seg, sid))
            continue;
        if (out && n < max)
            out[n] = s;
        n++;
    }
    return n;
}

int sio_dmar_platform_ats_allowed(const struct sio_dmar_platform *p, uint16_t seg, uint16_t sid,
                                  int scalable, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!p) {
        *why = "no platform";
        return 0;
    }
    /* A SATC lists SoC-integrated devices with an ATC. */
    for (size_t i = 0; i < p->d->nst; i++) {
        const struct sio_dmar_struct *s = &p->d->st[i];
        if (s->type != SIO_DMAR_SATC || s->segment != seg || !owner_covers(p, i, seg, sid))
            continue;
        if ((s->flags & SIO_SATC_ATC_REQUIRED) && !scalable) {
            *why = "in a SATC with ATC_REQUIRED: in legacy mode the hardware enables ATS itself, "
                   "the OS must not";
            return 0;
        }
        *why = "listed in a SATC";
        return 1;
    }
    /* Walk up to the root port. */
    const struct sio_pci_bridge *b = parent_of_bus(p, seg, sio_sid_bus(sid));
    if (!b) {
        *why = "root-complex integrated device (no bridge above it)";
        return 1;
    }
    for (unsigned guard = 0; b && guard < 256; guard++) {
        if (b->kind == SIO_PCI_BRIDGE_PCI) {
            *why = "behind a conventional PCI bridge: no ATS";
            return 0;
        }
        if (b->kind == SIO_PCI_BRIDGE_ROOT_PORT)
            break;
        const struct sio_pci_bridge *up = parent_of_bus(p, seg, b->bus);
        if (!up) {
            *why = "no root port above it (integrated hierarchy)";
            return 1;
        }
        b = up;
    }
    if (!b || b->kind != SIO_PCI_BRIDGE_ROOT_PORT) {
        *why = "bridge topology loops";
        return 0;
    }
    uint16_t rp = sio_sid(b->bus, b->dev, b->fn);
    for (size_t i = 0; i < p->d->nst; i++) {
        const struct sio_dmar_struct *s = &p->d->st[i];
        if (s->type != SIO_DMAR_ATSR || s->segment != seg)
            continue;
        for (size_t j = 0; j < p->nrs; j++)
            if (p->rs[j].owner == i && p->rs[j].seg == seg && p->rs[j].sid == rp) {
                *why = "its root port is in an ATSR";
                return 1;
            }
        if (s->flags & SIO_ATSR_ALL_PORTS) {
            *why = "an ATSR covers all root ports of the segment";
            return 1;
        }
    }
    *why = "its root port is in no ATSR";
    return 0;
}

static int irq_sid(const struct sio_dmar_platform *p, uint8_t type, uint8_t id, uint16_t *seg,
                   uint16_t *sid)
{
    if (!p)
        return SIO_EINVAL;
    for (size_t i = 0; i < p->nrs; i++) {
        const struct rscope *r = &p->rs[i];
        if (r->type == type && r->enum_id == id && p->d->st[r->owner].type == SIO_DMAR_DRHD) {
            if (seg)
                *seg = r->seg;
            if (sid)
                *sid = r->sid;
            return 0;
        }
    }
    return SIO_ENOENT;
}

int sio_dmar_platform_ioapic_sid(const struct sio_dmar_platform *p, uint8_t id, uint16_t *seg,
                                 uint16_t *sid)
{
    return irq_sid(p, SIO_DMAR_SCOPE_IOAPIC, id, seg, sid);
}

int sio_dmar_platform_hpet_sid(const struct sio_dmar_platform *p, uint8_t id, uint16_t *seg,
                               uint16_t *sid)
{
    return irq_sid(p, SIO_DMAR_SCOPE_HPET, id, seg, sid);
}

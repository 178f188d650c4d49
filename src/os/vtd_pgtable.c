/* VT-d driver: table memory and second-level page tables (VT-d 2).
 *
 * Every table the driver writes lives in [table_base, table_base + table_size): a stack of free
 * 4 KiB pages, each zeroed through the memory ops when taken. Page-table pages carry a count
 * of present entries so an unmap can tell when a table became empty: the page is unlinked from
 * its parent and goes on a free list that is released only after the IOTLB (and with it the
 * paging-structure caches) has been invalidated, so the unit can never walk a reused page.
 *
 * Entries (VT-d 2, legacy second level): bit 0 R, bit 1 W (present if either), bit 7 PS for a
 * leaf above level 1, 51:12 the address. Non-leaf entries carry R|W (permissions AND across
 * levels, so the leaf decides). Leaves are as large as alignment, length and CAP.SLLPS allow:
 * 1 GiB at level 3, 2 MiB at level 2, 4 KiB at level 1. Unmapping part of a superpage splits it
 * into a table of the next size down first. */
#include "vtd_drv_internal.h"

#include <softiommu/log.h>

#include <stdlib.h>
#include <string.h>

#define PTE_PRESENT (SIO_VTD_SL_R | SIO_VTD_SL_W)
#define PTE_ADDR    0x000FFFFFFFFFF000ULL /* 51:12 */

/* ---- table memory ------------------------------------------------------------------------- */

int vtd_tbl_init(struct vtd_tbl *t, uint64_t base, uint64_t size)
{
    memset(t, 0, sizeof(*t));
    t->base = base;
    t->npages = (uint32_t)(size / VTD_PAGE);
    t->free_stack = malloc(sizeof(uint32_t) * t->npages);
    t->count = calloc(t->npages, sizeof(uint16_t));
    if (!t->free_stack || !t->count) {
        free(t->free_stack);
        free(t->count);
        return SIO_ENOMEM;
    }
    /* Lowest pages first. */
    for (uint32_t i = 0; i < t->npages; i++)
        t->free_stack[i] = t->npages - 1 - i;
    t->nfree = t->npages;
    pthread_mutex_init(&t->lock, NULL);
    return 0;
}

void vtd_tbl_fini(struct vtd_tbl *t)
{
    free(t->free_stack);
    free(t->count);
    pthread_mutex_destroy(&t->lock);
}

int vtd_tbl_alloc(struct sio_vtd_drv *d, uint64_t *pa)
{
    struct vtd_tbl *t = &d->tbl;
    pthread_mutex_lock(&t->lock);
    if (!t->nfree) {
        pthread_mutex_unlock(&t->lock);
        return SIO_ENOSPC;
    }
    uint32_t idx = t->free_stack[--t->nfree];
    pthread_mutex_unlock(&t->lock);
    t->count[idx] = 0;
    *pa = t->base + (uint64_t)idx * VTD_PAGE;
    /* The driver assumes nothing about the memory it is given. */
    if (sio_mem_zero(&d->mem, *pa, VTD_PAGE)) {
        vtd_tbl_free(d, *pa);
        return SIO_EFAULT;
    }
    return 0;
}

void vtd_tbl_free(struct sio_vtd_drv *d, uint64_t pa)
{
    struct vtd_tbl *t = &d->tbl;
    pthread_mutex_lock(&t->lock);
    t->free_stack[t->nfree++] = (uint32_t)((pa - t->base) / VTD_PAGE);
    pthread_mutex_unlock(&t->lock);
}

uint32_t vtd_tbl_used(struct sio_vtd_drv *d)
{
    pthread_mutex_lock(&d->tbl.lock);
    uint32_t used = d->tbl.npages - d->tbl.nfree;
    pthread_mutex_unlock(&d->tbl.lock);
    return used;
}

static uint16_t *cnt(struct sio_vtd_drv *d, uint64_t table)
{
    return &d->tbl.count[(table - d->tbl.base) / VTD_PAGE];
}

static int in_tables(struct sio_vtd_drv *d, uint64_t pa)
{
    return pa >= d->tbl.base && pa < d->tbl.base + (uint64_t)d->tbl.npages * VTD_PAGE;
}

static int freelist_add(struct vtd_freelist *fl, uint64_t pa)
{
    if (fl->n == fl->cap) {
        unsigned ncap = fl->cap ? fl->cap * 2 : 8;
        uint64_t *np = realloc(fl->pages, sizeof(uint64_t) * ncap);
        if (!np)
            return SIO_ENOMEM;
        fl->pages = np;
        fl->cap = ncap;
    }
    fl->pages[fl->n++] = pa;
    return 0;
}

void vtd_freelist_release(struct sio_vtd_drv *d, struct vtd_freelist *fl)
{
    for (unsigned i = 0; i < fl->n; i++)
        vtd_tbl_free(d, fl->pages[i]);
    free(fl->pages);
    memset(fl, 0, sizeof(*fl));
}

/* ---- entries ------------------------------------------------------------------------------ */

static int pte_rd(struct sio_vtd_drv *d, uint64_t table, unsigned idx, uint64_t *v)
{
    return sio_mem_read64(&d->mem, table + 8ULL * idx, v) ? SIO_EFAULT : 0;
}

static int pte_wr(struct sio_vtd_drv *d, uint64_t table, unsigned idx, uint64_t v)
{
    return sio_mem_write64(&d->mem, table + 8ULL * idx, v) ? SIO_EFAULT : 0;
}

static int is_leaf(uint64_t e, unsigned level)
{
    return level == 1 || (e & SIO_VTD_SL_PS);
}

/* The largest leaf level usable at iova/pa for the remaining size. */
static unsigned leaf_level(struct sio_vtd_drv *d, uint64_t iova, uint64_t pa, uint64_t size)
{
    for (unsigned l = 3; l >= 2; l--) {
        if (l > d->levels || (l == 3 && !d->sp1g) || (l == 2 && !d->sp2m))
            continue;
        uint64_t sz = sio_vtd_level_size(l);
        if (!((iova | pa) & (sz - 1)) && size >= sz)
            return l;
    }
    return 1;
}

/* ---- map ---------------------------------------------------------------------------------- */

int vtd_pt_map(struct sio_domain *dom, uint64_t iova, uint64_t pa, uint64_t size, unsigned perm)
{
    struct sio_vtd_drv *d = dom->drv;
    uint64_t flags =
        ((perm & SIO_READ) ? SIO_VTD_SL_R : 0) | ((perm & SIO_WRITE) ? SIO_VTD_SL_W : 0);
    uint64_t done = 0;
    int rc = 0;
    while (done < size) {
        uint64_t va = iova + done, p = pa + done;
        unsigned lvl = leaf_level(d, va, p, size - done);
        uint64_t table = dom->pgd, e;
        for (unsigned l = d->levels; l > lvl; l--) {
            unsigned idx = sio_vtd_sl_index(va, l);
            if ((rc = pte_rd(d, table, idx, &e)))
                goto undo;
            if (!(e & PTE_PRESENT)) {
                uint64_t nt;
                if ((rc = vtd_tbl_alloc(d, &nt)))
                    goto undo;
                e = nt | SIO_VTD_SL_R | SIO_VTD_SL_W;
                if ((rc = pte_wr(d, table, idx, e))) {
                    vtd_tbl_free(d, nt);
                    goto undo;
                }
                (*cnt(d, table))++;
            } else if (e & SIO_VTD_SL_PS) {
                rc = SIO_EEXIST; /* a superpage already covers va */
                goto undo;
            }
            table = e & PTE_ADDR;
            if (!in_tables(d, table)) {
                rc = SIO_EFAULT; /* our own entry was overwritten by someone else */
                goto undo;
            }
        }
        unsigned idx = sio_vtd_sl_index(va, lvl);
        if ((rc = pte_rd(d, table, idx, &e)))
            goto undo;
        if (e & PTE_PRESENT) {
            rc = SIO_EEXIST;
            goto undo;
        }
        if ((rc = pte_wr(d, table, idx, (p & PTE_ADDR) | flags | (lvl > 1 ? SIO_VTD_SL_PS : 0))))
            goto undo;
        (*cnt(d, table))++;
        done += sio_vtd_level_size(lvl);
    }
    return 0;
undo:
    if (done) {
        /* Take back what this call mapped; the unit may have cached it already. */
        struct vtd_freelist fl = {0};
        uint64_t fs = UINT64_MAX, fe = 0;
        vtd_pt_unmap(dom, iova, done, &fl, &fs, &fe, NULL);
        if (fe > fs)
            vtd_inv_iotlb_range(d, dom->did, fs, fe - fs, fl.n == 0);
        vtd_freelist_release(d, &fl);
    }
    return rc;
}

/* ---- unmap -------------------------------------------------------------------------------- */

struct unmap_ctx {
    struct sio_domain *dom;
    struct vtd_freelist *fl;
    uint64_t fs, fe;
    int found, emptied;
};

static void widen(struct unmap_ctx *u, uint64_t s, uint64_t e)
{
    if (s < u->fs)
        u->fs = s;
    if (e > u->fe)
        u->fe = e;
}

/* Replaces the superpage leaf e (at level lvl, covering [es, es+size)) with a table of the
 * next size down holding the same translations. */
static int split(struct sio_vtd_drv *d, uint64_t table, unsigned idx, uint64_t e, unsigned lvl,
                 uint64_t *child)
{
    uint64_t nt;
    int rc = vtd_tbl_alloc(d, &nt);
    if (rc)
        return rc;
    uint64_t csz = sio_vtd_level_size(lvl - 1);
    uint64_t keep = e & (PTE_PRESENT | SIO_VTD_SL_SNP | SIO_VTD_SL_TM);
    uint64_t base = e & PTE_ADDR & ~(sio_vtd_level_size(lvl) - 1);
    for (unsigned i = 0; i < 512 && !rc; i++)
        rc = pte_wr(d, nt, i, (base + i * csz) | keep | (lvl - 1 > 1 ? SIO_VTD_SL_PS : 0));
    if (!rc)
        rc = pte_wr(d, table, idx, nt | SIO_VTD_SL_R | SIO_VTD_SL_W);
    if (rc) {
        vtd_tbl_free(d, nt);
        return rc;
    }
    *cnt(d, nt) = 512;
    *child = nt;
    return 0;
}

static int unmap_level(struct unmap_ctx *u, uint64_t table, unsigned lvl, uint64_t s, uint64_t e)
{
    struct sio_vtd_drv *d = u->dom->drv;
    uint64_t size = sio_vtd_level_size(lvl);
    int rc = 0;
    for (uint64_t a = s; a < e && !rc;) {
        unsigned idx = sio_vtd_sl_index(a, lvl);
        uint64_t es = a & ~(size - 1), ee = es + size;
        uint64_t nx = ee < e ? ee : e;
        uint64_t ent;
        if ((rc = pte_rd(d, table, idx, &ent)))
            break;
        if (ent & PTE_PRESENT) {
            if (is_leaf(ent, lvl) && (lvl == 1 || (a == es && nx == ee))) {
                u->found = 1;
                if ((rc = pte_wr(d, table, idx, 0)))
                    break;
                (*cnt(d, table))--;
                widen(u, es, ee);
            } else {
                uint64_t child = ent & PTE_ADDR;
                if (is_leaf(ent, lvl)) {
                    /* Part of a superpage: the IOTLB may hold all of it. */
                    u->found = 1;
                    widen(u, es, ee);
                    if ((rc = split(d, table, idx, ent, lvl, &child)))
                        break;
                } else if (!in_tables(d, child)) {
                    rc = SIO_EFAULT;
                    break;
                }
                rc = unmap_level(u, child, lvl - 1, a, nx);
                if (*cnt(d, child) == 0)
                    u->emptied = 1;
                /* Out of memory for the list: the empty table just stays linked. */
                if (u->fl && *cnt(d, child) == 0 && !freelist_add(u->fl, child)) {
                    int r2 = pte_wr(d, table, idx, 0);
                    if (r2)
                        u->fl->n--;
                    else
                        (*cnt(d, table))--;
                    if (!rc)
                        rc = r2;
                }
            }
        }
        a = nx;
    }
    return rc;
}

int vtd_pt_unmap(struct sio_domain *dom, uint64_t iova, uint64_t size, struct vtd_freelist *fl,
                 uint64_t *fs, uint64_t *fe, int *emptied)
{
    struct unmap_ctx u = {dom, fl, *fs, *fe, 0, 0};
    int rc = unmap_level(&u, dom->pgd, dom->drv->levels, iova, iova + size);
    *fs = u.fs;
    *fe = u.fe;
    if (emptied)
        *emptied = u.emptied;
    if (!rc && !u.found)
        rc = SIO_ENOENT;
    return rc;
}

static int prune_level(struct sio_vtd_drv *d, uint64_t table, unsigned lvl, uint64_t s, uint64_t e,
                       struct vtd_freelist *fl)
{
    uint64_t size = sio_vtd_level_size(lvl);
    int rc = 0;
    for (uint64_t a = s; a < e && !rc;) {
        unsigned idx = sio_vtd_sl_index(a, lvl);
        uint64_t ee = (a & ~(size - 1)) + size, nx = ee < e ? ee : e, ent;
        if ((rc = pte_rd(d, table, idx, &ent)))
            break;
        if ((ent & PTE_PRESENT) && !is_leaf(ent, lvl)) {
            uint64_t child = ent & PTE_ADDR;
            if (!in_tables(d, child))
                return SIO_EFAULT;
            if (lvl > 2)
                rc = prune_level(d, child, lvl - 1, a, nx, fl);
            /* Out of memory for the list: the empty table just stays linked. */
            if (!rc && *cnt(d, child) == 0 && !freelist_add(fl, child)) {
                if ((rc = pte_wr(d, table, idx, 0)))
                    fl->n--;
                else
                    (*cnt(d, table))--;
            }
        }
        a = nx;
    }
    return rc;
}

int vtd_pt_prune(struct sio_domain *dom, uint64_t iova, uint64_t size, struct vtd_freelist *fl)
{
    return prune_level(dom->drv, dom->pgd, dom->drv->levels, iova, iova + size, fl);
}

int vtd_pt_lookup(struct sio_domain *dom, uint64_t iova, uint64_t *pa, uint64_t *pte,
                  unsigned *level)
{
    struct sio_vtd_drv *d = dom->drv;
    uint64_t table = dom->pgd;
    for (unsigned l = d->levels; l >= 1; l--) {
        uint64_t e;
        if (pte_rd(d, table, sio_vtd_sl_index(iova, l), &e))
            return SIO_EFAULT;
        if (!(e & PTE_PRESENT))
            return SIO_ENOENT;
        if (is_leaf(e, l)) {
            uint64_t sz = sio_vtd_level_size(l);
            *pa = (e & PTE_ADDR & ~(sz - 1)) | (iova & (sz - 1));
            if (pte)
                *pte = e;
            if (level)
                *level = l;
            return 0;
        }
        table = e & PTE_ADDR;
        if (!in_tables(d, table))
            return SIO_EFAULT;
    }
    return SIO_ENOENT;
}

static void free_level(struct sio_vtd_drv *d, uint64_t table, unsigned lvl)
{
    if (lvl > 1) {
        for (unsigned i = 0; i < 512; i++) {
            uint64_t e;
            if (pte_rd(d, table, i, &e) || !(e & PTE_PRESENT) || (e & SIO_VTD_SL_PS))
                continue;
            uint64_t child = e & PTE_ADDR;
            if (in_tables(d, child))
                free_level(d, child, lvl - 1);
        }
    }
    vtd_tbl_free(d, table);
}

void vtd_pt_free_all(struct sio_domain *dom)
{
    if (dom->pgd)
        free_level(dom->drv, dom->pgd, dom->drv->levels);
    dom->pgd = 0;
}

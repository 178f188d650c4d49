/* DMA API core: contexts, devices, the per-device mapping records that catch driver mistakes
 * (never mapped, double unmap, wrong size or direction, leaks), and the dispatch to the
 * backend's const ops table (softiommu/dma.h).
 *
 * Each device keeps its live mappings in an open-addressing hash table keyed by DMA handle
 * (linear probing, backward-shift deletion, grown at half load), under one mutex held only
 * for the lookup itself: backends run outside it. Recently unmapped handles sit in a small
 * ring, consulted only on the error path, to tell a double unmap from a handle that was never
 * mapped; a handle that has fallen out of the ring reads as never mapped. */
#include <softiommu/dma.h>
#include <softiommu/err.h>
#include <softiommu/iova.h>
#include <softiommu/log.h>
#include <softiommu/pci.h>

#include "os_lock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define DEAD_RING 256
#define PAGE      4096ULL

struct sio_dma_dev {
    struct sio_dma *dma;
    uint16_t sid;
    _Atomic uint64_t mask, cmask;
    void *priv;
    struct os_lock lock; /* the mapping records */
    struct sio_dma_mapping *tab;
    uint8_t *used;
    size_t cap, n; /* cap is a power of two */
    uint64_t dead[DEAD_RING];
    unsigned dead_pos, dead_n;
    struct sio_dma_dev *next, *prev;
};

struct sio_dma {
    const struct sio_dma_ops *ops;
    void *priv;
    struct sio_mem mem;
    struct sio_iova *coherent; /* page allocator of the coherent region, or NULL */
    pthread_mutex_t lock;      /* the device list */
    struct sio_dma_dev *devs;
};

/* ---- mapping table ------------------------------------------------------------------------ */

static size_t slot_of(uint64_t key, size_t cap)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 20) & (cap - 1);
}

static int tab_grow(struct sio_dma_dev *d)
{
    size_t ncap = d->cap ? d->cap * 2 : 64;
    struct sio_dma_mapping *nt = calloc(ncap, sizeof(*nt));
    uint8_t *nu = calloc(ncap, 1);
    if (!nt || !nu) {
        free(nt);
        free(nu);
        return SIO_ENOMEM;
    }
    for (size_t i = 0; i < d->cap; i++) {
        if (!d->used[i])
            continue;
        size_t j = slot_of(d->tab[i].dma, ncap);
        while (nu[j])
            j = (j + 1) & (ncap - 1);
        nt[j] = d->tab[i];
        nu[j] = 1;
    }
    free(d->tab);
    free(d->used);
    d->tab = nt;
    d->used = nu;
    d->cap = ncap;
    return 0;
}

/* Lock held. Duplicate keys are allowed (nommu maps one buffer twice at the same handle). */
static int tab_insert(struct sio_dma_dev *d, const struct sio_dma_mapping *m)
{
    if ((d->n + 1) * 2 > d->cap) {
        int rc = tab_grow(d);
        if (rc)
            return rc;
    }
    size_t j = slot_of(m->dma, d->cap);
    while (d->used[j])
        j = (j + 1) & (d->cap - 1);
    d->tab[j] = *m;
    d->used[j] = 1;
    d->n++;
    return 0;
}

static long tab_find(struct sio_dma_dev *d, uint64_t key)
{
    if (!d->cap)
        return -1;
    for (size_t j = slot_of(key, d->cap); d->used[j]; j = (j + 1) & (d->cap - 1))
        if (d->tab[j].dma == key)
            return (long)j;
    return -1;
}

/* Backward-shift deletion keeps every probe chain unbroken without tombstones. */
static void tab_remove(struct sio_dma_dev *d, size_t i)
{
    size_t mask = d->cap - 1;
    d->used[i] = 0;
    d->n--;
    for (size_t j = (i + 1) & mask; d->used[j]; j = (j + 1) & mask) {
        size_t k = slot_of(d->tab[j].dma, d->cap);
        /* Entry j may move into the hole at i unless its home k lies cyclically in (i, j]. */
        int stays = (i <= j) ? (i < k && k <= j) : (i < k || k <= j);
        if (stays)
            continue;
        d->tab[i] = d->tab[j];
        d->used[i] = 1;
        d->used[j] = 0;
        i = j;
    }
}

static void dead_push(struct sio_dma_dev *d, uint64_t key)
{
    d->dead[d->dead_pos] = key;
    d->dead_pos = (d->dead_pos + 1) % DEAD_RING;
    if (d->dead_n < DEAD_RING)
        d->dead_n++;
}

static int dead_has(const struct sio_dma_dev *d, uint64_t key)
{
    for (unsigned i = 0; i < d->dead_n; i++)
        if (d->dead[i] == key)
            return 1;
    return 0;
}

static const char *dir_name(enum sio_dma_dir dir)
{
    switch (dir) {
    case SIO_DMA_TO_DEVICE:
        return "DMA_TO_DEVICE";
    case SIO_DMA_FROM_DEVICE:
        return "DMA_FROM_DEVICE";
    default:
        return "DMA_BIDIRECTIONAL";
    }
}

static const char *kind_name(enum sio_dma_kind k)
{
    return k == SIO_DMA_KIND_SG         ? "scatter-gather"
           : k == SIO_DMA_KIND_COHERENT ? "coherent"
                                        : "single";
}

static int dir_ok(enum sio_dma_dir dir)
{
    return dir == SIO_DMA_BIDIRECTIONAL || dir == SIO_DMA_TO_DEVICE || dir == SIO_DMA_FROM_DEVICE;
}

/* Takes the record for key out of the table after checking it matches kind/len/dir.
 * len == 0 or dir < 0 skips those checks. */
static int take_record(struct sio_dma_dev *d, uint64_t key, enum sio_dma_kind kind, uint64_t len,
                       int dir, struct sio_dma_mapping *out)
{
    os_lock(&d->lock);
    long i = tab_find(d, key);
    int rc = 0;
    if (i < 0) {
        rc = dead_has(d, key) ? SIO_EDOUBLE : SIO_ENOTMAPPED;
    } else {
        const struct sio_dma_mapping *m = &d->tab[i];
        if (m->kind != kind || (len && m->len != len) || (dir >= 0 && (int)m->dir != dir)) {
            char bdf[SIO_BDF_STRLEN];
            sio_logf(SIO_LOG_ERR,
                     "DMA-API: device [%s] freeing DMA memory 0x%llx as %s %s len %llu, mapped "
                     "as %s %s len %llu",
                     sio_bdf_format(sio_bdf_from_sid(0, d->sid), bdf), (unsigned long long)key,
                     kind_name(kind), dir >= 0 ? dir_name((enum sio_dma_dir)dir) : "",
                     (unsigned long long)len, kind_name(m->kind), dir_name(m->dir),
                     (unsigned long long)m->len);
            rc = SIO_EINVAL;
        } else {
            *out = *m;
            tab_remove(d, (size_t)i);
            dead_push(d, key);
        }
    }
    os_unlock(&d->lock);
    return rc;
}

static int put_record(struct sio_dma_dev *d, const struct sio_dma_mapping *m)
{
    os_lock(&d->lock);
    int rc = tab_insert(d, m);
    os_unlock(&d->lock);
    return rc;
}

/* ---- backend helpers ---------------------------------------------------------------------- */

const struct sio_mem *sio_dma_mem(const struct sio_dma *dma)
{
    return &dma->mem;
}
void *sio_dma_priv(const struct sio_dma *dma)
{
    return dma->priv;
}
struct sio_dma *sio_dma_dev_ctx(const struct sio_dma_dev *dev)
{
    return dev->dma;
}
void *sio_dma_dev_priv(const struct sio_dma_dev *dev)
{
    return dev->priv;
}
void sio_dma_dev_set_priv(struct sio_dma_dev *dev, void *priv)
{
    dev->priv = priv;
}

int sio_dma_pages_alloc(struct sio_dma *dma, uint64_t size, uint64_t limit, uint64_t *pa)
{
    if (!dma->coherent)
        return SIO_ENOSPC;
    return sio_iova_alloc(dma->coherent, size, limit, pa);
}

int sio_dma_pages_free(struct sio_dma *dma, uint64_t pa, uint64_t size)
{
    if (!dma->coherent)
        return SIO_EINVAL;
    return sio_iova_free(dma->coherent, pa, size);
}

int sio_dma_copy(const struct sio_dma *dma, uint64_t dst, uint64_t src, uint64_t len)
{
    const struct sio_mem *m = &dma->mem;
    uint8_t buf[4096];
    while (len) {
        uint64_t chunk = len;
        if (chunk > PAGE - (src & (PAGE - 1)))
            chunk = PAGE - (src & (PAGE - 1));
        if (chunk > PAGE - (dst & (PAGE - 1)))
            chunk = PAGE - (dst & (PAGE - 1));
        void *ps = NULL, *pd = NULL;
        if (m->ops->ptr) {
            ps = m->ops->ptr(m->ctx, src, (size_t)chunk);
            pd = ps ? m->ops->ptr(m->ctx, dst, (size_t)chunk) : NULL;
        }
        if (ps && pd) {
            if ((uint8_t *)pd + chunk <= (uint8_t *)ps || (uint8_t *)ps + chunk <= (uint8_t *)pd)
                memcpy(pd, ps, (size_t)chunk);
            else
                memmove(pd, ps, (size_t)chunk);
        } else if (sio_mem_read(m, src, buf, (size_t)chunk) ||
                   sio_mem_write(m, dst, buf, (size_t)chunk)) {
            return SIO_EFAULT;
        }
        src += chunk;
        dst += chunk;
        len -= chunk;
    }
    return 0;
}

/* ---- contexts and devices ----------------------------------------------------------------- */

struct sio_dma *sio_dma_create(const struct sio_dma_ops *ops, const struct sio_dma_config *cfg)
{
    if (!ops || !cfg || !cfg->mem || !ops->map || !ops->unmap || !ops->init)
        return NULL;
    if ((cfg->coherent_base | cfg->coherent_size) & (PAGE - 1))
        return NULL;
    struct sio_dma *dma = calloc(1, sizeof(*dma));
    if (!dma)
        return NULL;
    dma->ops = ops;
    dma->mem.ops = cfg->mem;
    dma->mem.ctx = cfg->mem_ctx;
    pthread_mutex_init(&dma->lock, NULL);
    if (cfg->coherent_size) {
        dma->coherent =
            sio_iova_create(cfg->coherent_base, cfg->coherent_base + cfg->coherent_size);
        if (!dma->coherent)
            goto fail;
    }
    if (ops->init(dma, cfg->backend_cfg, &dma->priv))
        goto fail;
    return dma;
fail:
    sio_iova_destroy(dma->coherent);
    pthread_mutex_destroy(&dma->lock);
    free(dma);
    return NULL;
}

int sio_dma_destroy(struct sio_dma *dma)
{
    if (!dma)
        return 0;
    int rc = 0;
    for (;;) {
        pthread_mutex_lock(&dma->lock);
        struct sio_dma_dev *d = dma->devs;
        pthread_mutex_unlock(&dma->lock);
        if (!d)
            break;
        char bdf[SIO_BDF_STRLEN];
        sio_logf(SIO_LOG_WARN, "DMA-API: %s context destroyed with device [%s] still present",
                 dma->ops->name, sio_bdf_format(sio_bdf_from_sid(0, d->sid), bdf));
        sio_dma_dev_destroy(d);
        rc = SIO_ELEAK;
    }
    if (dma->ops->fini)
        dma->ops->fini(dma, dma->priv);
    sio_iova_destroy(dma->coherent);
    pthread_mutex_destroy(&dma->lock);
    free(dma);
    return rc;
}

const char *sio_dma_backend_name(const struct sio_dma *dma)
{
    return dma->ops->name;
}

struct sio_dma_dev *sio_dma_dev_create(struct sio_dma *dma, uint16_t sid, uint64_t dma_mask)
{
    if (!dma || dma_mask < PAGE - 1)
        return NULL;
    struct sio_dma_dev *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->dma = dma;
    d->sid = sid;
    atomic_init(&d->mask, dma_mask);
    atomic_init(&d->cmask, dma_mask);
    os_lock_init(&d->lock);
    if (dma->ops->dev_attach && dma->ops->dev_attach(d)) {
        free(d);
        return NULL;
    }
    pthread_mutex_lock(&dma->lock);
    d->next = dma->devs;
    if (d->next)
        d->next->prev = d;
    dma->devs = d;
    pthread_mutex_unlock(&dma->lock);
    return d;
}

static void release_mapping(struct sio_dma_dev *d, struct sio_dma_mapping *m);

int sio_dma_dev_destroy(struct sio_dma_dev *d)
{
    if (!d)
        return 0;
    struct sio_dma *dma = d->dma;
    pthread_mutex_lock(&dma->lock);
    if (d->prev)
        d->prev->next = d->next;
    else
        dma->devs = d->next;
    if (d->next)
        d->next->prev = d->prev;
    pthread_mutex_unlock(&dma->lock);

    char bdf[SIO_BDF_STRLEN];
    sio_bdf_format(sio_bdf_from_sid(0, d->sid), bdf);
    uint64_t leaks = 0;
    for (size_t i = 0; i < d->cap; i++) {
        if (!d->used[i])
            continue;
        struct sio_dma_mapping m = d->tab[i];
        leaks++;
        sio_logf(SIO_LOG_ERR,
                 "DMA-API: device [%s] (%s) leaked %s mapping: dma 0x%llx len %llu %s, cpu 0x%llx",
                 bdf, dma->ops->name, kind_name(m.kind), (unsigned long long)m.dma,
                 (unsigned long long)m.len, dir_name(m.dir), (unsigned long long)m.pa);
        release_mapping(d, &m);
    }
    if (leaks)
        sio_logf(SIO_LOG_ERR, "DMA-API: device [%s] (%s) leaked %llu mapping%s at teardown", bdf,
                 dma->ops->name, (unsigned long long)leaks, leaks == 1 ? "" : "s");
    if (dma->ops->dev_detach)
        dma->ops->dev_detach(d);
    free(d->tab);
    free(d->used);
    free(d);
    return leaks ? SIO_ELEAK : 0;
}

int sio_dma_set_mask(struct sio_dma_dev *d, uint64_t mask)
{
    if (!d || mask < PAGE - 1)
        return SIO_EINVAL;
    atomic_store(&d->mask, mask);
    return 0;
}

int sio_dma_set_coherent_mask(struct sio_dma_dev *d, uint64_t mask)
{
    if (!d || mask < PAGE - 1)
        return SIO_EINVAL;
    atomic_store(&d->cmask, mask);
    return 0;
}

uint64_t sio_dma_get_mask(const struct sio_dma_dev *d)
{
    return atomic_load(&((struct sio_dma_dev *)d)->mask);
}

uint64_t sio_dma_get_coherent_mask(const struct sio_dma_dev *d)
{
    return atomic_load(&((struct sio_dma_dev *)d)->cmask);
}

uint16_t sio_dma_dev_sid(const struct sio_dma_dev *d)
{
    return d->sid;
}

uint64_t sio_dma_dev_live(struct sio_dma_dev *d)
{
    os_lock(&d->lock);
    uint64_t n = d->n;
    os_unlock(&d->lock);
    return n;
}

/* ---- streaming mappings ------------------------------------------------------------------- */

int sio_dma_map_single(struct sio_dma_dev *d, uint64_t pa, uint64_t len, enum sio_dma_dir dir,
                       uint64_t *dma)
{
    if (!d || !dma || !len || !dir_ok(dir) || pa + len < pa)
        return SIO_EINVAL;
    struct sio_dma_mapping m = {.pa = pa, .len = len, .dir = dir, .kind = SIO_DMA_KIND_SINGLE};
    int rc = d->dma->ops->map(d, &m);
    if (rc)
        return rc;
    rc = put_record(d, &m);
    if (rc) {
        d->dma->ops->unmap(d, &m);
        return rc;
    }
    *dma = m.dma;
    return 0;
}

int sio_dma_unmap_single(struct sio_dma_dev *d, uint64_t dma, uint64_t len, enum sio_dma_dir dir)
{
    if (!d || !dir_ok(dir))
        return SIO_EINVAL;
    struct sio_dma_mapping m;
    int rc = take_record(d, dma, SIO_DMA_KIND_SINGLE, len, (int)dir, &m);
    if (rc)
        return rc;
    return d->dma->ops->unmap(d, &m);
}

/* Fallback for backends without map_sg: each piece its own mapping and segment. */
static int map_sg_pieces(struct sio_dma_dev *d, struct sio_sg *sg, struct sio_dma_mapping *m)
{
    for (unsigned i = 0; i < m->nents; i++) {
        struct sio_dma_mapping p = {
            .pa = sg[i].pa, .len = sg[i].len, .dir = m->dir, .kind = SIO_DMA_KIND_SINGLE};
        int rc = d->dma->ops->map(d, &p);
        if (rc) {
            while (i-- > 0) {
                struct sio_dma_mapping q = {.dma = sg[i].dma_address,
                                            .pa = sg[i].pa,
                                            .len = sg[i].len,
                                            .dir = m->dir,
                                            .kind = SIO_DMA_KIND_SINGLE};
                d->dma->ops->unmap(d, &q);
            }
            return rc;
        }
        sg[i].dma_address = p.dma;
        sg[i].dma_length = sg[i].len;
    }
    m->count = m->nents;
    m->dma = sg[0].dma_address;
    return 0;
}

static int unmap_sg_pieces(struct sio_dma_dev *d, const struct sio_dma_mapping *m)
{
    int rc = 0;
    for (unsigned i = 0; i < m->nents; i++) {
        struct sio_dma_mapping q = {.dma = m->sgl[i].dma_address,
                                    .pa = m->sgl[i].pa,
                                    .len = m->sgl[i].len,
                                    .dir = m->dir,
                                    .kind = SIO_DMA_KIND_SINGLE};
        int r = d->dma->ops->unmap(d, &q);
        if (r && !rc)
            rc = r;
    }
    return rc;
}

static int backend_unmap_sg(struct sio_dma_dev *d, const struct sio_dma_mapping *m)
{
    return d->dma->ops->unmap_sg ? d->dma->ops->unmap_sg(d, m) : unmap_sg_pieces(d, m);
}

int sio_dma_map_sg(struct sio_dma_dev *d, struct sio_sg *sg, unsigned nents, enum sio_dma_dir dir,
                   unsigned *count)
{
    if (!d || !sg || !nents || !count || !dir_ok(dir))
        return SIO_EINVAL;
    uint64_t total = 0;
    for (unsigned i = 0; i < nents; i++) {
        if (!sg[i].len || sg[i].pa + sg[i].len < sg[i].pa || total + sg[i].len < total)
            return SIO_EINVAL;
        total += sg[i].len;
    }
    struct sio_dma_mapping m = {.len = total, .dir = dir, .kind = SIO_DMA_KIND_SG, .nents = nents};
    int rc = d->dma->ops->map_sg ? d->dma->ops->map_sg(d, sg, &m) : map_sg_pieces(d, sg, &m);
    if (rc)
        return rc;
    /* The core's copy of the list, as mapped: unmap and sync use it, and it survives a driver
     * that reuses its list before unmapping (a leak is still released correctly). */
    struct sio_sg *copy = malloc(sizeof(*copy) * nents);
    if (copy) {
        memcpy(copy, sg, sizeof(*copy) * nents);
        m.sgl = copy;
        rc = put_record(d, &m);
    } else {
        rc = SIO_ENOMEM;
    }
    if (rc) {
        m.sgl = sg;
        backend_unmap_sg(d, &m);
        free(copy);
        return rc;
    }
    *count = m.count;
    return 0;
}

int sio_dma_unmap_sg(struct sio_dma_dev *d, struct sio_sg *sg, unsigned nents, enum sio_dma_dir dir)
{
    if (!d || !sg || !nents || !dir_ok(dir))
        return SIO_EINVAL;
    struct sio_dma_mapping m;
    os_lock(&d->lock);
    long i = tab_find(d, sg[0].dma_address);
    int rc = 0;
    if (i < 0)
        rc = dead_has(d, sg[0].dma_address) ? SIO_EDOUBLE : SIO_ENOTMAPPED;
    else if (d->tab[i].kind != SIO_DMA_KIND_SG || d->tab[i].nents != nents || d->tab[i].dir != dir)
        rc = SIO_EINVAL;
    if (rc) {
        os_unlock(&d->lock);
        return rc;
    }
    m = d->tab[i];
    tab_remove(d, (size_t)i);
    dead_push(d, m.dma);
    os_unlock(&d->lock);
    rc = backend_unmap_sg(d, &m);
    free((void *)m.sgl);
    return rc;
}

/* ---- coherent buffers --------------------------------------------------------------------- */

int sio_dma_alloc_coherent(struct sio_dma_dev *d, uint64_t size, uint64_t *cpu_pa, uint64_t *dma)
{
    if (!d || !size || !cpu_pa || !dma)
        return SIO_EINVAL;
    struct sio_dma_mapping m = {
        .len = size, .dir = SIO_DMA_BIDIRECTIONAL, .kind = SIO_DMA_KIND_COHERENT};
    const struct sio_dma_ops *ops = d->dma->ops;
    int rc;
    if (ops->alloc_coherent) {
        rc = ops->alloc_coherent(d, &m);
    } else {
        rc = sio_dma_pages_alloc(d->dma, size, sio_dma_get_coherent_mask(d), &m.pa);
        if (!rc && sio_mem_zero(&d->dma->mem, m.pa, (size_t)size)) {
            sio_dma_pages_free(d->dma, m.pa, size);
            rc = SIO_EFAULT;
        }
        m.dma = m.pa;
    }
    if (rc)
        return rc;
    rc = put_record(d, &m);
    if (rc) {
        if (ops->free_coherent)
            ops->free_coherent(d, &m);
        else
            sio_dma_pages_free(d->dma, m.pa, size);
        return rc;
    }
    *cpu_pa = m.pa;
    *dma = m.dma;
    return 0;
}

int sio_dma_free_coherent(struct sio_dma_dev *d, uint64_t size, uint64_t cpu_pa, uint64_t dma)
{
    if (!d)
        return SIO_EINVAL;
    os_lock(&d->lock);
    long i = tab_find(d, dma);
    int rc = 0;
    if (i < 0)
        rc = dead_has(d, dma) ? SIO_EDOUBLE : SIO_ENOTMAPPED;
    else if (d->tab[i].kind != SIO_DMA_KIND_COHERENT || d->tab[i].len != size ||
             d->tab[i].pa != cpu_pa)
        rc = SIO_EINVAL;
    if (rc) {
        os_unlock(&d->lock);
        return rc;
    }
    struct sio_dma_mapping m = d->tab[i];
    tab_remove(d, (size_t)i);
    dead_push(d, dma);
    os_unlock(&d->lock);
    if (d->dma->ops->free_coherent)
        return d->dma->ops->free_coherent(d, &m);
    return sio_dma_pages_free(d->dma, m.pa, m.len);
}

static void release_mapping(struct sio_dma_dev *d, struct sio_dma_mapping *m)
{
    const struct sio_dma_ops *ops = d->dma->ops;
    switch (m->kind) {
    case SIO_DMA_KIND_SG:
        backend_unmap_sg(d, m);
        free((void *)m->sgl);
        break;
    case SIO_DMA_KIND_COHERENT:
        if (ops->free_coherent)
            ops->free_coherent(d, m);
        else
            sio_dma_pages_free(d->dma, m->pa, m->len);
        break;
    default:
        ops->unmap(d, m);
        break;
    }
}

/* ---- syncs -------------------------------------------------------------------------------- */

/* Copies the record for key (a live mapping of the given kind) without removing it. */
static int peek_record(struct sio_dma_dev *d, uint64_t key, enum sio_dma_kind kind,
                       struct sio_dma_mapping *out)
{
    os_lock(&d->lock);
    long i = tab_find(d, key);
    int rc = 0;
    if (i < 0)
        rc = dead_has(d, key) ? SIO_EDOUBLE : SIO_ENOTMAPPED;
    else if (d->tab[i].kind != kind)
        rc = SIO_EINVAL;
    else
        *out = d->tab[i];
    os_unlock(&d->lock);
    return rc;
}

static int sync_dir_ok(const struct sio_dma_mapping *m, enum sio_dma_dir dir)
{
    return dir_ok(dir) && (m->dir == SIO_DMA_BIDIRECTIONAL || m->dir == dir);
}

static int sync_single(struct sio_dma_dev *d, uint64_t dma, uint64_t off, uint64_t len,
                       enum sio_dma_dir dir, int to_device)
{
    if (!d || !len)
        return SIO_EINVAL;
    struct sio_dma_mapping m;
    int rc = peek_record(d, dma, SIO_DMA_KIND_SINGLE, &m);
    if (rc)
        return rc;
    if (off > m.len || len > m.len - off || !sync_dir_ok(&m, dir))
        return SIO_EINVAL;
    if (!d->dma->ops->sync)
        return 0;
    return d->dma->ops->sync(d, &m, 0, off, len, dir, to_device);
}

int sio_dma_sync_single_for_cpu(struct sio_dma_dev *d, uint64_t dma, uint64_t len,
                                enum sio_dma_dir dir)
{
    return sync_single(d, dma, 0, len, dir, 0);
}

int sio_dma_sync_single_for_device(struct sio_dma_dev *d, uint64_t dma, uint64_t len,
                                   enum sio_dma_dir dir)
{
    return sync_single(d, dma, 0, len, dir, 1);
}

int sio_dma_sync_single_range_for_cpu(struct sio_dma_dev *d, uint64_t dma, uint64_t offset,
                                      uint64_t len, enum sio_dma_dir dir)
{
    return sync_single(d, dma, offset, len, dir, 0);
}

int sio_dma_sync_single_range_for_device(struct sio_dma_dev *d, uint64_t dma, uint64_t offset,
                                         uint64_t len, enum sio_dma_dir dir)
{
    return sync_single(d, dma, offset, len, dir, 1);
}

static int sync_sg(struct sio_dma_dev *d, struct sio_sg *sg, unsigned nents, enum sio_dma_dir dir,
                   int to_device)
{
    if (!d || !sg || !nents)
        return SIO_EINVAL;
    struct sio_dma_mapping m;
    int rc = peek_record(d, sg[0].dma_address, SIO_DMA_KIND_SG, &m);
    if (rc)
        return rc;
    if (m.nents != nents || !sync_dir_ok(&m, dir))
        return SIO_EINVAL;
    if (!d->dma->ops->sync)
        return 0;
    /* The list copy stays valid: only an unmap (by this same driver) frees it. */
    for (unsigned i = 0; i < nents && !rc; i++)
        rc = d->dma->ops->sync(d, &m, i, 0, m.sgl[i].len, dir, to_device);
    return rc;
}

int sio_dma_sync_sg_for_cpu(struct sio_dma_dev *d, struct sio_sg *sg, unsigned nents,
                            enum sio_dma_dir dir)
{
    return sync_sg(d, sg, nents, dir, 0);
}

int sio_dma_sync_sg_for_device(struct sio_dma_dev *d, struct sio_sg *sg, unsigned nents,
                               enum sio_dma_dir dir)
{
    return sync_sg(d, sg, nents, dir, 1);
}

/* swiotlb DMA backend: bounce buffering, the way a device with a narrow DMA mask reaches
 * memory above it without an IOMMU (Linux kernel/dma/swiotlb.c is the model).
 *
 * The pool is a physically contiguous range below 4 GiB cut into 2 KiB slots. It is split into
 * areas, each with its own lock, free-slot bitmap and search cursor; a mapping starts in the
 * area of the CPU it runs on and moves to the next area only when that one is full, so CPUs do
 * not contend. The search is first-fit from a cursor that a free moves back to the slot it
 * released, so the slots just used (still in the CPU's caches) are the next ones handed out. A
 * mapping the device can reach directly (every byte at or below its mask) is not bounced unless the
 * pool was configured with force. Mappings of a page or more start on a page boundary.
 *
 * Copies, by direction (the CPU side is the original buffer, the device side the bounce slot):
 *   map                  original -> bounce, always: for DMA_FROM_DEVICE too, so a device
 *                        that writes only part of the buffer cannot make stale pool contents
 *                        appear in the original on unmap (Linux's info-leak fix, 2022);
 *   unmap, sync_for_cpu  bounce -> original for FROM_DEVICE and BIDIRECTIONAL;
 *   sync_for_device      original -> bounce for TO_DEVICE and BIDIRECTIONAL.
 * Coherent buffers come from the core's pages below the coherent mask, or from the pool when
 * there are none the device can reach. */
#include <softiommu/dma.h>
#include <softiommu/err.h>

#include "os_lock.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLOT       SIO_SWIOTLB_SLOT_SIZE
#define SLOT_SHIFT 11
#define PAGE       4096ULL
#define MAX_AREAS  64

struct area {
    struct os_lock lock;
    unsigned first, nslots; /* global slot index range [first, first+nslots) */
    unsigned cursor;        /* next search start, relative to first */
    unsigned used;
    uint64_t *bitmap; /* bit set = slot in use; relative to first */
} __attribute__((aligned(64)));

struct swiotlb {
    uint64_t base, size;
    unsigned nslots, nareas;
    int force;
    struct area *areas;
};

/* A piece is bounced when its handle differs from its CPU address (a direct mapping's handle
 * is the address itself; a slot can never hold the original buffer it bounces). A coherent
 * buffer carved out of the pool is marked in its record's priv. */
#define P_POOL 1u

static int bit_get(const uint64_t *bm, unsigned i)
{
    return (int)((bm[i / 64] >> (i % 64)) & 1);
}

static void bits_set(uint64_t *bm, unsigned i, unsigned n, int v)
{
    for (unsigned k = i; k < i + n; k++) {
        if (v)
            bm[k / 64] |= 1ULL << (k % 64);
        else
            bm[k / 64] &= ~(1ULL << (k % 64));
    }
}

/* First run of n free slots in [lo, hi) (area-relative) starting at a multiple of align. */
static long find_run(const struct area *a, unsigned lo, unsigned hi, unsigned n, unsigned align)
{
    unsigned i = (lo + align - 1) / align * align;
    while (i + n <= hi) {
        /* Skip whole words that are full. */
        if (a->bitmap[i / 64] == ~0ULL) {
            i = (i / 64 + 1) * 64;
            i = (i + align - 1) / align * align;
            continue;
        }
        unsigned k = 0;
        while (k < n && !bit_get(a->bitmap, i + k))
            k++;
        if (k == n)
            return (long)i;
        i = (i + k + 1 + align - 1) / align * align;
    }
    return -1;
}

/* n free slots starting at a multiple of align, all at or below mask. Returns the global slot
 * index or -1. */
static long slots_alloc(struct swiotlb *s, unsigned n, unsigned align, uint64_t mask)
{
    /* Highest usable global slot end under the mask. */
    uint64_t top = s->nslots;
    if (s->base + s->size - 1 > mask) {
        uint64_t reach = (mask + 1 - s->base) >> SLOT_SHIFT; /* slots wholly below mask+1 */
        top = reach < top ? reach : top;
    }
    int c = sched_getcpu();
    unsigned start = (unsigned)(c < 0 ? 0 : c) % s->nareas;
    for (unsigned t = 0; t < s->nareas; t++) {
        struct area *a = &s->areas[(start + t) % s->nareas];
        if (a->first >= top)
            continue;
        unsigned hi = (uint64_t)a->first + a->nslots <= top ? a->nslots : (unsigned)top - a->first;
        os_lock(&a->lock);
        long i = -1;
        if (a->nslots - a->used >= n) {
            unsigned cur = a->cursor < hi ? a->cursor : 0;
            i = find_run(a, cur, hi, n, align);
            if (i < 0 && cur)
                i = find_run(a, 0, cur + n - 1 < hi ? cur + n - 1 : hi, n, align);
        }
        if (i >= 0) {
            bits_set(a->bitmap, (unsigned)i, n, 1);
            a->used += n;
            a->cursor = (unsigned)i + n;
        }
        os_unlock(&a->lock);
        if (i >= 0)
            return (long)a->first + i;
    }
    return -1;
}

static void slots_free(struct swiotlb *s, unsigned slot, unsigned n)
{
    unsigned per = s->areas[0].nslots;
    struct area *a = &s->areas[slot / per];
    os_lock(&a->lock);
    bits_set(a->bitmap, slot - a->first, n, 0);
    a->used -= n;
    /* Search from the lowest slot freed lately: recently used slots are reused first and stay
     * in the CPU's caches (Linux's next-fit cursor walks the whole pool, cold). */
    if (slot - a->first < a->cursor)
        a->cursor = slot - a->first;
    os_unlock(&a->lock);
}

static unsigned nslots_for(uint64_t len)
{
    return (unsigned)((len + SLOT - 1) / SLOT);
}

static int swiotlb_init(struct sio_dma *dma, const void *vcfg, void **priv)
{
    (void)dma;
    const struct sio_swiotlb_config *cfg = vcfg;
    struct sio_swiotlb_config def = {SIO_SWIOTLB_DEFAULT_BASE, SIO_SWIOTLB_DEFAULT_SIZE, 0, 0};
    if (!cfg || !cfg->size) {
        if (cfg)
            def.force = cfg->force, def.nareas = cfg->nareas;
        cfg = &def;
    }
    if ((cfg->base | cfg->size) & (PAGE - 1) || cfg->base + cfg->size > (1ULL << 32) ||
        cfg->base + cfg->size < cfg->base || cfg->nareas > MAX_AREAS)
        return SIO_EINVAL;
    unsigned nareas = cfg->nareas;
    if (!nareas) {
        long n = sysconf(_SC_NPROCESSORS_CONF);
        nareas = 1;
        while (nareas < (unsigned)(n < 1 ? 1 : n) && nareas < MAX_AREAS)
            nareas *= 2;
    }
    uint64_t nslots = cfg->size / SLOT;
    while (nareas > 1 && nslots / nareas < 256)
        nareas /= 2;
    /* Every area gets the same number of slots, a multiple of 64 (whole bitmap words). */
    unsigned per = (unsigned)(nslots / nareas) & ~63u;
    if (!per)
        return SIO_EINVAL;
    struct swiotlb *s = calloc(1, sizeof(*s));
    if (!s)
        return SIO_ENOMEM;
    s->base = cfg->base;
    s->nslots = per * nareas;
    s->size = (uint64_t)s->nslots * SLOT;
    s->nareas = nareas;
    s->force = cfg->force;
    s->areas = aligned_alloc(64, sizeof(struct area) * nareas);
    if (!s->areas) {
        free(s);
        return SIO_ENOMEM;
    }
    memset(s->areas, 0, sizeof(struct area) * nareas);
    for (unsigned i = 0; i < nareas; i++) {
        struct area *a = &s->areas[i];
        os_lock_init(&a->lock);
        a->first = i * per;
        a->nslots = per;
        a->bitmap = calloc(per / 64, sizeof(uint64_t));
        if (!a->bitmap) {
            for (unsigned j = 0; j <= i; j++)
                free(s->areas[j].bitmap);
            free(s->areas);
            free(s);
            return SIO_ENOMEM;
        }
    }
    *priv = s;
    return 0;
}

static void swiotlb_fini(struct sio_dma *dma, void *priv)
{
    (void)dma;
    struct swiotlb *s = priv;
    for (unsigned i = 0; i < s->nareas; i++)
        free(s->areas[i].bitmap);
    free(s->areas);
    free(s);
}

static struct swiotlb *tlb_of(struct sio_dma_dev *dev)
{
    return sio_dma_priv(sio_dma_dev_ctx(dev));
}

/* Maps one piece: direct when reachable (and not forced), else bounced. */
static int map_piece(struct sio_dma_dev *dev, uint64_t pa, uint64_t len, uint64_t *dma)
{
    struct swiotlb *s = tlb_of(dev);
    uint64_t mask = sio_dma_get_mask(dev);
    if (!s->force && pa + len - 1 <= mask) {
        *dma = pa;
        return 0;
    }
    if (len > SIO_SWIOTLB_MAX_MAPPING)
        return SIO_ERANGE;
    if (s->base + len - 1 > mask)
        return SIO_EMASK; /* not even the pool's first slots are reachable */
    unsigned n = nslots_for(len);
    long slot = slots_alloc(s, n, len >= PAGE ? (unsigned)(PAGE / SLOT) : 1, mask);
    if (slot < 0)
        return SIO_EPOOL;
    uint64_t tlb = s->base + ((uint64_t)slot << SLOT_SHIFT);
    int rc = sio_dma_copy(sio_dma_dev_ctx(dev), tlb, pa, len);
    if (rc) {
        slots_free(s, (unsigned)slot, n);
        return rc;
    }
    *dma = tlb;
    return 0;
}

static int unmap_piece(struct sio_dma_dev *dev, uint64_t dma, uint64_t pa, uint64_t len,
                       enum sio_dma_dir dir)
{
    struct swiotlb *s = tlb_of(dev);
    if (dma == pa)
        return 0;
    int rc = 0;
    if (dir == SIO_DMA_FROM_DEVICE || dir == SIO_DMA_BIDIRECTIONAL)
        rc = sio_dma_copy(sio_dma_dev_ctx(dev), pa, dma, len);
    slots_free(s, (unsigned)((dma - s->base) >> SLOT_SHIFT), nslots_for(len));
    return rc;
}

static int swiotlb_map(struct sio_dma_dev *dev, struct sio_dma_mapping *m)
{
    return map_piece(dev, m->pa, m->len, &m->dma);
}

static int swiotlb_unmap(struct sio_dma_dev *dev, const struct sio_dma_mapping *m)
{
    return unmap_piece(dev, m->dma, m->pa, m->len, m->dir);
}

static int swiotlb_map_sg(struct sio_dma_dev *dev, struct sio_sg *sg, struct sio_dma_mapping *m)
{
    for (unsigned i = 0; i < m->nents; i++) {
        int rc = map_piece(dev, sg[i].pa, sg[i].len, &sg[i].dma_address);
        if (rc) {
            /* Undo without copying back: nothing was transferred. */
            while (i-- > 0)
                unmap_piece(dev, sg[i].dma_address, sg[i].pa, sg[i].len, SIO_DMA_TO_DEVICE);
            return rc;
        }
        sg[i].dma_length = sg[i].len;
    }
    m->count = m->nents;
    m->dma = sg[0].dma_address;
    return 0;
}

static int swiotlb_unmap_sg(struct sio_dma_dev *dev, const struct sio_dma_mapping *m)
{
    int rc = 0;
    for (unsigned i = 0; i < m->nents; i++) {
        int r = unmap_piece(dev, m->sgl[i].dma_address, m->sgl[i].pa, m->sgl[i].len, m->dir);
        if (r && !rc)
            rc = r;
    }
    return rc;
}

static int swiotlb_sync(struct sio_dma_dev *dev, const struct sio_dma_mapping *m, unsigned piece,
                        uint64_t off, uint64_t len, enum sio_dma_dir dir, int to_device)
{
    uint64_t dma = m->kind == SIO_DMA_KIND_SG ? m->sgl[piece].dma_address : m->dma;
    uint64_t pa = m->kind == SIO_DMA_KIND_SG ? m->sgl[piece].pa : m->pa;
    if (dma == pa)
        return 0; /* not bounced: the device works on the original */
    struct sio_dma *ctx = sio_dma_dev_ctx(dev);
    if (to_device) {
        if (dir == SIO_DMA_TO_DEVICE || dir == SIO_DMA_BIDIRECTIONAL)
            return sio_dma_copy(ctx, dma + off, pa + off, len);
    } else {
        if (dir == SIO_DMA_FROM_DEVICE || dir == SIO_DMA_BIDIRECTIONAL)
            return sio_dma_copy(ctx, pa + off, dma + off, len);
    }
    return 0;
}

static int swiotlb_free_coherent(struct sio_dma_dev *dev, const struct sio_dma_mapping *m);

static int swiotlb_alloc_coherent(struct sio_dma_dev *dev, struct sio_dma_mapping *m)
{
    struct sio_dma *ctx = sio_dma_dev_ctx(dev);
    uint64_t cmask = sio_dma_get_coherent_mask(dev);
    int rc = sio_dma_pages_alloc(ctx, m->len, cmask, &m->pa);
    if (!rc) {
        m->priv = 0;
    } else {
        /* No reachable RAM: carve the buffer out of the pool, page aligned. */
        struct swiotlb *s = tlb_of(dev);
        if (m->len > SIO_SWIOTLB_MAX_MAPPING)
            return rc == SIO_EMASK ? SIO_EMASK : SIO_ERANGE;
        if (s->base + m->len - 1 > cmask)
            return SIO_EMASK;
        long slot = slots_alloc(s, nslots_for(m->len), (unsigned)(PAGE / SLOT), cmask);
        if (slot < 0)
            return SIO_EPOOL;
        m->pa = s->base + ((uint64_t)slot << SLOT_SHIFT);
        m->priv = P_POOL;
    }
    m->dma = m->pa;
    if (sio_mem_zero(sio_dma_mem(ctx), m->pa, (size_t)m->len)) {
        swiotlb_free_coherent(dev, m);
        return SIO_EFAULT;
    }
    return 0;
}

static int swiotlb_free_coherent(struct sio_dma_dev *dev, const struct sio_dma_mapping *m)
{
    if (m->priv & P_POOL) {
        struct swiotlb *s = tlb_of(dev);
        slots_free(s, (unsigned)((m->pa - s->base) >> SLOT_SHIFT), nslots_for(m->len));
        return 0;
    }
    return sio_dma_pages_free(sio_dma_dev_ctx(dev), m->pa, m->len);
}

static const struct sio_dma_ops swiotlb_ops = {
    .name = "swiotlb",
    .init = swiotlb_init,
    .fini = swiotlb_fini,
    .map = swiotlb_map,
    .unmap = swiotlb_unmap,
    .map_sg = swiotlb_map_sg,
    .unmap_sg = swiotlb_unmap_sg,
    .alloc_coherent = swiotlb_alloc_coherent,
    .free_coherent = swiotlb_free_coherent,
    .sync = swiotlb_sync,
};

const struct sio_dma_ops *sio_dma_swiotlb_ops(void)
{
    return &swiotlb_ops;
}

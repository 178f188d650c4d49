/* The default sparse physical memory of the embedding contract.
 *
 * A radix tree of 512-way nodes over 4 KiB pages, like a page table: memory is spent only on
 * pages that were written and the nodes above them. Lookups are lock-free: every slot is an
 * atomic pointer, and a new node or page is published with compare-and-swap (the loser of a
 * race frees its copy), so any number of threads may read and write at once. */
#include <softiommu/mem.h>
#include <softiommu/bits.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define PG_SHIFT      12
#define PG_SIZE       (1ULL << PG_SHIFT)
#define NODE_BITS     9
#define NODE_SLOTS    (1u << NODE_BITS)
#define PMEM_MAX_SIZE (1ULL << 52)

struct node {
    _Atomic(void *) slot[NODE_SLOTS];
};

struct sio_pmem {
    uint64_t size;
    unsigned levels; /* node levels above the pages: 1 covers 512 pages */
    struct node *root;
    atomic_uint_fast64_t pages;
};

struct sio_pmem *sio_pmem_create(uint64_t size_bytes)
{
    if (size_bytes == 0 || size_bytes > PMEM_MAX_SIZE)
        return NULL;
    struct sio_pmem *pm = calloc(1, sizeof(*pm));
    if (!pm)
        return NULL;
    pm->size = size_bytes;
    uint64_t npages = (size_bytes + PG_SIZE - 1) >> PG_SHIFT;
    pm->levels = 1;
    while (pm->levels * NODE_BITS < 64 && (npages - 1) >> (pm->levels * NODE_BITS))
        pm->levels++;
    pm->root = calloc(1, sizeof(struct node));
    if (!pm->root) {
        free(pm);
        return NULL;
    }
    atomic_init(&pm->pages, 0);
    return pm;
}

static void node_free(struct node *n, unsigned level)
{
    for (unsigned i = 0; i < NODE_SLOTS; i++) {
        void *p = atomic_load_explicit(&n->slot[i], memory_order_relaxed);
        if (!p)
            continue;
        if (level > 1)
            node_free(p, level - 1);
        else
            free(p);
    }
    free(n);
}

void sio_pmem_destroy(struct sio_pmem *pm)
{
    if (!pm)
        return;
    node_free(pm->root, pm->levels);
    free(pm);
}

uint64_t sio_pmem_size(const struct sio_pmem *pm)
{
    return pm->size;
}

uint64_t sio_pmem_pages(const struct sio_pmem *pm)
{
    return atomic_load_explicit(&((struct sio_pmem *)pm)->pages, memory_order_relaxed);
}

/* Publish a freshly zeroed object in *slot unless someone else was first; returns the winner. */
static void *slot_install(_Atomic(void *) *slot, size_t bytes, int *installed)
{
    void *fresh = aligned_alloc(PG_SIZE, bytes);
    if (!fresh)
        return NULL;
    memset(fresh, 0, bytes);
    void *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(slot, &expected, fresh, memory_order_acq_rel,
                                                memory_order_acquire)) {
        *installed = 1;
        return fresh;
    }
    free(fresh);
    return expected;
}

/* The host page for page number pfn, or NULL; allocates on the way when alloc is set. */
static uint8_t *page_lookup(struct sio_pmem *pm, uint64_t pfn, int alloc)
{
    struct node *n = pm->root;
    for (unsigned level = pm->levels; level >= 1; level--) {
        unsigned idx = (unsigned)((pfn >> ((level - 1) * NODE_BITS)) & (NODE_SLOTS - 1));
        void *next = atomic_load_explicit(&n->slot[idx], memory_order_acquire);
        if (!next) {
            if (!alloc)
                return NULL;
            int installed = 0;
            size_t bytes = level > 1 ? sizeof(struct node) : PG_SIZE;
            next = slot_install(&n->slot[idx], bytes, &installed);
            if (!next)
                return NULL;
            if (installed && level == 1)
                atomic_fetch_add_explicit(&pm->pages, 1, memory_order_relaxed);
        }
        if (level == 1)
            return next;
        n = next;
    }
    return NULL;
}

static int in_range(const struct sio_pmem *pm, uint64_t pa, size_t len)
{
    return pa <= pm->size && (uint64_t)len <= pm->size - pa;
}

static int pmem_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
    struct sio_pmem *pm = ctx;
    if (!in_range(pm, pa, len))
        return -1;
    uint8_t *out = buf;
    while (len) {
        uint64_t off = pa & (PG_SIZE - 1);
        size_t chunk = (size_t)(PG_SIZE - off) < len ? (size_t)(PG_SIZE - off) : len;
        const uint8_t *pg = page_lookup(pm, pa >> PG_SHIFT, 0);
        if (pg)
            memcpy(out, pg + off, chunk);
        else
            memset(out, 0, chunk);
        out += chunk;
        pa += chunk;
        len -= chunk;
    }
    return 0;
}

static int pmem_write(void *ctx, uint64_t pa, const void *buf, size_t len)
{
    struct sio_pmem *pm = ctx;
    if (!in_range(pm, pa, len))
        return -1;
    const uint8_t *in = buf;
    while (len) {
        uint64_t off = pa & (PG_SIZE - 1);
        size_t chunk = (size_t)(PG_SIZE - off) < len ? (size_t)(PG_SIZE - off) : len;
        uint8_t *pg = page_lookup(pm, pa >> PG_SHIFT, 1);
        if (!pg)
            return -1; /* host out of memory: report as unbacked rather than crash */
        memcpy(pg + off, in, chunk);
        in += chunk;
        pa += chunk;
        len -= chunk;
    }
    return 0;
}

static void *pmem_ptr(void *ctx, uint64_t pa, size_t len)
{
    struct sio_pmem *pm = ctx;
    if (len == 0 || !in_range(pm, pa, len))
        return NULL;
    if ((pa >> PG_SHIFT) != ((pa + len - 1) >> PG_SHIFT))
        return NULL;
    uint8_t *pg = page_lookup(pm, pa >> PG_SHIFT, 0);
    return pg ? pg + (pa & (PG_SIZE - 1)) : NULL;
}

static const struct sio_mem_ops pmem_ops = {
    .read = pmem_read,
    .write = pmem_write,
    .ptr = pmem_ptr,
};

const struct sio_mem_ops *sio_pmem_ops(void)
{
    return &pmem_ops;
}

/* ---- generic accessors over any sio_mem_ops ---------------------------------------------- */

int sio_mem_read64(const struct sio_mem *m, uint64_t pa, uint64_t *v)
{
    uint8_t b[8];
    if (m->ops->read(m->ctx, pa, b, 8))
        return -1;
    *v = sio_ld64le(b);
    return 0;
}

int sio_mem_write64(const struct sio_mem *m, uint64_t pa, uint64_t v)
{
    uint8_t b[8];
    sio_st64le(b, v);
    return m->ops->write(m->ctx, pa, b, 8);
}

int sio_mem_read32(const struct sio_mem *m, uint64_t pa, uint32_t *v)
{
    uint8_t b[4];
    if (m->ops->read(m->ctx, pa, b, 4))
        return -1;
    *v = sio_ld32le(b);
    return 0;
}

int sio_mem_write32(const struct sio_mem *m, uint64_t pa, uint32_t v)
{
    uint8_t b[4];
    sio_st32le(b, v);
    return m->ops->write(m->ctx, pa, b, 4);
}

int sio_mem_zero(const struct sio_mem *m, uint64_t pa, size_t len)
{
    static const uint8_t zeros[4096];
    while (len) {
        size_t chunk = len < sizeof(zeros) ? len : sizeof(zeros);
        if (m->ops->write(m->ctx, pa, zeros, chunk))
            return -1;
        pa += chunk;
        len -= chunk;
    }
    return 0;
}

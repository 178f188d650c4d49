/* Host pages for the hypervisor's tables: a fixed range of host-physical memory handed out a
 * 4 KiB page at a time from a stack of free page numbers (O(1) both ways). A bitmap of pages
 * in use catches frees of pages never handed out, and double frees. */
#include <softiommu/hv.h>
#include <softiommu/err.h>

#include <pthread.h>
#include <stdlib.h>

#define PG 4096ULL

struct sio_pgpool {
    struct sio_mem mem;
    uint64_t base;
    uint32_t npages;
    uint32_t nfree;
    uint32_t *free_stack; /* page indexes; top at nfree - 1 */
    uint64_t *inuse;      /* bitmap */
    pthread_mutex_t lock;
};

struct sio_pgpool *sio_pgpool_create(const struct sio_mem_ops *mem, void *mem_ctx, uint64_t base,
                                     uint64_t size)
{
    if (!mem || (base & (PG - 1)) || (size & (PG - 1)) || size == 0 || size / PG > UINT32_MAX ||
        base + size < base)
        return NULL;
    struct sio_pgpool *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->mem.ops = mem;
    p->mem.ctx = mem_ctx;
    p->base = base;
    p->npages = (uint32_t)(size / PG);
    p->free_stack = malloc(sizeof(uint32_t) * p->npages);
    p->inuse = calloc((p->npages + 63) / 64, sizeof(uint64_t));
    if (!p->free_stack || !p->inuse) {
        free(p->free_stack);
        free(p->inuse);
        free(p);
        return NULL;
    }
    /* Lowest addresses on top, so tables fill the pool from its base. */
    for (uint32_t i = 0; i < p->npages; i++)
        p->free_stack[i] = p->npages - 1 - i;
    p->nfree = p->npages;
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

void sio_pgpool_destroy(struct sio_pgpool *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->lock);
    free(p->free_stack);
    free(p->inuse);
    free(p);
}

int sio_pgpool_alloc(struct sio_pgpool *p, uint64_t *pa)
{
    pthread_mutex_lock(&p->lock);
    if (p->nfree == 0) {
        pthread_mutex_unlock(&p->lock);
        return SIO_ENOSPC;
    }
    uint32_t idx = p->free_stack[--p->nfree];
    p->inuse[idx / 64] |= 1ULL << (idx % 64);
    pthread_mutex_unlock(&p->lock);
    uint64_t addr = p->base + (uint64_t)idx * PG;
    if (sio_mem_zero(&p->mem, addr, PG) != 0) {
        sio_pgpool_free(p, addr);
        return SIO_EFAULT;
    }
    *pa = addr;
    return 0;
}

int sio_pgpool_free(struct sio_pgpool *p, uint64_t pa)
{
    if (pa < p->base || (pa & (PG - 1)) || (pa - p->base) / PG >= p->npages)
        return SIO_EINVAL;
    uint32_t idx = (uint32_t)((pa - p->base) / PG);
    pthread_mutex_lock(&p->lock);
    if (!(p->inuse[idx / 64] & (1ULL << (idx % 64)))) {
        pthread_mutex_unlock(&p->lock);
        return SIO_EINVAL;
    }
    p->inuse[idx / 64] &= ~(1ULL << (idx % 64));
    p->free_stack[p->nfree++] = idx;
    pthread_mutex_unlock(&p->lock);
    return 0;
}

uint64_t sio_pgpool_used(struct sio_pgpool *p)
{
    pthread_mutex_lock(&p->lock);
    uint64_t used = p->npages - p->nfree;
    pthread_mutex_unlock(&p->lock);
    return used;
}

const struct sio_mem *sio_pgpool_mem(const struct sio_pgpool *p)
{
    return &p->mem;
}

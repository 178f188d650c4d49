/* softiommu/iova.h: an I/O virtual address allocator.
 *
 * One allocator hands out ranges of one address space (an IOMMU domain, or any range of page
 * frames). Shape after Bonwick's magazines and Linux's iova.c: each CPU slot keeps, per size
 * class (1, 2, 4 ... 32 pages), a loaded and a previous magazine of recently freed ranges; a
 * shared depot per size class holds full magazines; behind them an AVL tree of free ranges,
 * augmented with the largest naturally aligned power-of-two block each subtree can supply,
 * answers everything else in O(log n). No path is linear in the number of ranges.
 *
 * Ranges are a power-of-two number of 4 KiB pages, naturally aligned (size 3 pages takes 4),
 * which is what lets a device-side invalidation cover a mapping with one address mask. Every
 * operation is safe from several threads at once. */
#ifndef SOFTIOMMU_IOVA_H
#define SOFTIOMMU_IOVA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIO_IOVA_PAGE_SHIFT 12
#define SIO_IOVA_PAGE_SIZE  (1ULL << SIO_IOVA_PAGE_SHIFT)
/* Size classes served by the per-CPU magazines: 2^0 .. 2^(SIO_IOVA_CACHE_CLASSES-1) pages. */
#define SIO_IOVA_CACHE_CLASSES 6

struct sio_iova;

/* An allocator for addresses [base, end): both 4 KiB aligned, base < end <= 2^63.
 * NULL on bad arguments or out of memory. */
struct sio_iova *sio_iova_create(uint64_t base, uint64_t end);
/* Frees everything, including ranges still handed out. */
void sio_iova_destroy(struct sio_iova *);

/* Take [start, end) out of circulation (e.g. the interrupt window 0xFEE00000-0xFEEFFFFF):
 * the free parts of it are never handed out. Meant for set-up time. 0 or SIO_EINVAL. */
int sio_iova_reserve(struct sio_iova *, uint64_t start, uint64_t end);

/* Allocates size bytes (rounded up to a power-of-two number of pages, naturally aligned)
 * whose last byte is at or below limit (a DMA mask: 0xFFFFFFFF for a 32-bit device), as high
 * as possible. *out receives the address. 0, SIO_EINVAL (size 0), SIO_EMASK (the limit is
 * below the whole space) or SIO_ENOSPC (no room below the limit). */
int sio_iova_alloc(struct sio_iova *, uint64_t size, uint64_t limit, uint64_t *out);
/* Returns a range from sio_iova_alloc (same size). 0, or SIO_EINVAL for an address outside
 * the space or misaligned for the size; a range found already free in the tree is
 * SIO_EDOUBLE (ranges held in a magazine are not checked: callers track their mappings). */
int sio_iova_free(struct sio_iova *, uint64_t addr, uint64_t size);

/* Empties every magazine and the depot back into the tree. */
void sio_iova_drain(struct sio_iova *);

struct sio_iova_stats {
    uint64_t pages_in_use;  /* handed out and not yet returned */
    uint64_t free_ranges;   /* nodes of the free-range tree */
    uint64_t cached_ranges; /* ranges sitting in magazines and the depot */
    uint64_t alloc_cached;  /* allocations served by a magazine or the depot */
    uint64_t alloc_tree;    /* allocations served by the tree */
    uint64_t free_cached;   /* frees absorbed by a magazine or the depot */
    uint64_t free_tree;     /* frees that went to the tree */
    unsigned tree_height;   /* AVL height (O(log n) check) */
};
void sio_iova_get_stats(struct sio_iova *, struct sio_iova_stats *out);

#ifdef __cplusplus
}
#endif
#endif

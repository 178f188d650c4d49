/* Internal (not installed): growing a heap array by doubling. */
#ifndef SIO_CORE_GROW_H
#define SIO_CORE_GROW_H

#include <softiommu/err.h>

#include <stddef.h>
#include <stdlib.h>

/* Make room for element n of *arr (elements of elem bytes, capacity *cap): doubles the
 * capacity, starting at first. 0, or SIO_ENOMEM with *arr and *cap unchanged. */
static inline int sio_grow(void **arr, size_t *cap, size_t n, size_t elem, size_t first)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : first;
    void *na = realloc(*arr, ncap * elem);
    if (!na)
        return SIO_ENOMEM;
    *arr = na;
    *cap = ncap;
    return 0;
}

#endif

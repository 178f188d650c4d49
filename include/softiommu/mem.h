/* softiommu/mem.h: how hardware touches memory. The embedder owns memory.
 *
 * Every table fetch, descriptor read, status write and DMA of a hardware model goes through a
 * struct sio_mem_ops. softiommu ships one implementation, sio_pmem: sparse RAM whose 4 KiB
 * pages are allocated on first write. */
#ifndef SOFTIOMMU_MEM_H
#define SOFTIOMMU_MEM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sio_mem_ops {
    /* 0, or -1 when [pa, pa+len) is not backed (nothing is read or written then). */
    int (*read)(void *ctx, uint64_t pa, void *buf, size_t len);
    int (*write)(void *ctx, uint64_t pa, const void *buf, size_t len);
    /* Optional fast path: a host pointer valid for [pa, pa+len), or NULL. */
    void *(*ptr)(void *ctx, uint64_t pa, size_t len);
};

struct sio_pmem;

/* Default sparse RAM of size_bytes (any size up to 2^52). Untouched memory reads as zero and
 * costs nothing; accesses beyond the size fail with -1 and write nothing; accesses may cross
 * page boundaries; ptr() answers only for a range inside one already-allocated page.
 * All operations are safe from several threads at once. NULL on failure. */
struct sio_pmem *sio_pmem_create(uint64_t size_bytes);
void sio_pmem_destroy(struct sio_pmem *);
const struct sio_mem_ops *sio_pmem_ops(void); /* ctx = the struct sio_pmem * */

uint64_t sio_pmem_size(const struct sio_pmem *);
/* Number of 4 KiB pages allocated so far (what the memory really costs). */
uint64_t sio_pmem_pages(const struct sio_pmem *);

/* A memory handle as components keep it: ops + ctx. */
struct sio_mem {
    const struct sio_mem_ops *ops;
    void *ctx;
};

/* Convenience accessors over a struct sio_mem, using ptr() when the embedder provides it.
 * Return 0, or -1 when not backed. Values are little-endian in memory. */
static inline int sio_mem_read(const struct sio_mem *m, uint64_t pa, void *buf, size_t len)
{
    return m->ops->read(m->ctx, pa, buf, len);
}
static inline int sio_mem_write(const struct sio_mem *m, uint64_t pa, const void *buf, size_t len)
{
    return m->ops->write(m->ctx, pa, buf, len);
}
int sio_mem_read64(const struct sio_mem *m, uint64_t pa, uint64_t *v);
int sio_mem_write64(const struct sio_mem *m, uint64_t pa, uint64_t v);
int sio_mem_read32(const struct sio_mem *m, uint64_t pa, uint32_t *v);
int sio_mem_write32(const struct sio_mem *m, uint64_t pa, uint32_t v);
/* Write len zero bytes. */
int sio_mem_zero(const struct sio_mem *m, uint64_t pa, size_t len);

#ifdef __cplusplus
}
#endif
#endif

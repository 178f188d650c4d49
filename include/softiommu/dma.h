/* softiommu/dma.h: the DMA API device drivers call, over interchangeable backends.
 *
 * Shape after Linux's dma-mapping API and its dma_map_ops: a driver maps a CPU buffer (a
 * physical address in the embedder's memory) for a device and gets back the address the
 * device must use (a "DMA handle"); when the transfer is over it unmaps it. What the handle
 * is depends on the backend behind the device's DMA context:
 *   nommu    the physical address itself (an address beyond the device's mask is an error);
 *   swiotlb  a bounce buffer below 4 GiB when the device cannot reach the buffer (or always,
 *            with force), with copies on map, unmap and sync as the direction requires;
 *   vtd      an I/O virtual address in a DMA domain of the VT-d driver (softiommu/vtd_driver.h)
 *            the device is attached to, translated by the unit.
 * Further backends (GART, Calgary, ...) are one more const struct sio_dma_ops: the second half
 * of this header is the interface a backend implements and the helpers it may use.
 *
 * The core checks every call the way Linux's dma-debug does: unmapping an address that was
 * never mapped (SIO_ENOTMAPPED), unmapping twice (SIO_EDOUBLE), with another size or
 * direction (SIO_EINVAL); a mask no backend resource can satisfy is SIO_EMASK, a full bounce
 * pool SIO_EPOOL. Mappings still live when a device goes away are logged and released, and
 * the teardown returns SIO_ELEAK. All calls are safe from several threads at once. */
#ifndef SOFTIOMMU_DMA_H
#define SOFTIOMMU_DMA_H

#include <softiommu/mem.h>

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum sio_dma_dir {
    SIO_DMA_BIDIRECTIONAL = 0,
    SIO_DMA_TO_DEVICE = 1,   /* the device reads the buffer */
    SIO_DMA_FROM_DEVICE = 2, /* the device writes the buffer */
};

/* One piece of a scatter/gather list. The caller fills pa and len; map_sg fills dma_address
 * and dma_length of the first *count entries with the DMA segments (an IOMMU backend merges
 * physically scattered pages into one contiguous segment). */
struct sio_sg {
    uint64_t pa, len;
    uint64_t dma_address, dma_length;
};

struct sio_dma;     /* a DMA context: one backend instance over one memory */
struct sio_dma_dev; /* a device as the DMA API sees it */
struct sio_dma_ops; /* a backend */
struct sio_vtd_drv;

struct sio_dma_config {
    const struct sio_mem_ops *mem; /* the memory CPU buffers live in */
    void *mem_ctx;
    /* RAM alloc_coherent may hand out as CPU buffers ([base, base+size), page aligned);
     * size 0: alloc_coherent fails with SIO_ENOSPC (swiotlb may still serve from its pool). */
    uint64_t coherent_base, coherent_size;
    const void *backend_cfg; /* the backend's own configuration, or NULL for its defaults */
};

/* ---- backends ------------------------------------------------------------------------- */
const struct sio_dma_ops *sio_dma_nommu_ops(void);
const struct sio_dma_ops *sio_dma_swiotlb_ops(void);
const struct sio_dma_ops *sio_dma_vtd_ops(void);

/* backend_cfg of swiotlb. NULL or size 0: SIO_SWIOTLB_DEFAULT_SIZE at SIO_SWIOTLB_DEFAULT_BASE. */
struct sio_swiotlb_config {
    uint64_t base, size; /* the bounce pool: page aligned, entirely below 4 GiB */
    unsigned nareas;     /* areas with their own lock (0: one per CPU, rounded to a power of 2) */
    int force;           /* 1: bounce every mapping, even those the device could reach */
};
#define SIO_SWIOTLB_DEFAULT_BASE 0x80000000ULL
#define SIO_SWIOTLB_DEFAULT_SIZE (64ULL << 20)
#define SIO_SWIOTLB_SLOT_SIZE    2048ULL
#define SIO_SWIOTLB_MAX_MAPPING  (256ULL << 10) /* 128 slots, as Linux's IO_TLB_SEGSIZE */

/* backend_cfg of vtd (required). Each device gets its own DMA domain, attached on
 * sio_dma_dev_create and freed on sio_dma_dev_destroy. */
struct sio_dma_vtd_config {
    struct sio_vtd_drv *drv;
    int strict; /* -1: the driver's default; 0: lazy flush queue; 1: strict */
};

/* ---- contexts and devices ------------------------------------------------------------- */
struct sio_dma *sio_dma_create(const struct sio_dma_ops *ops, const struct sio_dma_config *cfg);
/* Destroys devices still present (reporting their leaks). 0, or SIO_ELEAK. */
int sio_dma_destroy(struct sio_dma *);
const char *sio_dma_backend_name(const struct sio_dma *);

/* A device with source-id sid (bus<<8 | dev<<3 | fn), streaming and coherent masks both set
 * to dma_mask (e.g. 0xFFFFFFFF for a 32-bit device). NULL when the backend refuses it (vtd:
 * no domain could be allocated or attached). */
struct sio_dma_dev *sio_dma_dev_create(struct sio_dma *, uint16_t sid, uint64_t dma_mask);
/* Logs every mapping still live ("leaked"), releases it, then the device.
 * 0, or SIO_ELEAK when there were leaks. */
int sio_dma_dev_destroy(struct sio_dma_dev *);
int sio_dma_set_mask(struct sio_dma_dev *, uint64_t mask);          /* streaming mappings */
int sio_dma_set_coherent_mask(struct sio_dma_dev *, uint64_t mask); /* alloc_coherent */
uint64_t sio_dma_get_mask(const struct sio_dma_dev *);
uint64_t sio_dma_get_coherent_mask(const struct sio_dma_dev *);
uint16_t sio_dma_dev_sid(const struct sio_dma_dev *);
/* Live mappings of the device (singles, sg lists and coherent buffers count one each). */
uint64_t sio_dma_dev_live(struct sio_dma_dev *);

/* ---- the API drivers call ------------------------------------------------------------- */
int sio_dma_map_single(struct sio_dma_dev *, uint64_t pa, uint64_t len, enum sio_dma_dir dir,
                       uint64_t *dma);
int sio_dma_unmap_single(struct sio_dma_dev *, uint64_t dma, uint64_t len, enum sio_dma_dir dir);
/* Maps nents pieces; *count receives the number of DMA segments written into sg[0..count).
 * Unmap with the same list and nents. */
int sio_dma_map_sg(struct sio_dma_dev *, struct sio_sg *sg, unsigned nents, enum sio_dma_dir dir,
                   unsigned *count);
int sio_dma_unmap_sg(struct sio_dma_dev *, struct sio_sg *sg, unsigned nents, enum sio_dma_dir dir);
/* A zeroed buffer both the CPU (at *cpu_pa) and the device (at *dma) use without syncs. */
int sio_dma_alloc_coherent(struct sio_dma_dev *, uint64_t size, uint64_t *cpu_pa, uint64_t *dma);
int sio_dma_free_coherent(struct sio_dma_dev *, uint64_t size, uint64_t cpu_pa, uint64_t dma);
/* Ownership transfers of a streaming mapping (dma as returned by map_single, len <= its
 * length); the _range forms start offset bytes into the mapping. */
int sio_dma_sync_single_for_cpu(struct sio_dma_dev *, uint64_t dma, uint64_t len,
                                enum sio_dma_dir dir);
int sio_dma_sync_single_for_device(struct sio_dma_dev *, uint64_t dma, uint64_t len,
                                   enum sio_dma_dir dir);
int sio_dma_sync_single_range_for_cpu(struct sio_dma_dev *, uint64_t dma, uint64_t offset,
                                      uint64_t len, enum sio_dma_dir dir);
int sio_dma_sync_single_range_for_device(struct sio_dma_dev *, uint64_t dma, uint64_t offset,
                                         uint64_t len, enum sio_dma_dir dir);
int sio_dma_sync_sg_for_cpu(struct sio_dma_dev *, struct sio_sg *sg, unsigned nents,
                            enum sio_dma_dir dir);
int sio_dma_sync_sg_for_device(struct sio_dma_dev *, struct sio_sg *sg, unsigned nents,
                               enum sio_dma_dir dir);

/* ---- writing a backend ---------------------------------------------------------------- */

enum sio_dma_kind { SIO_DMA_KIND_SINGLE = 1, SIO_DMA_KIND_SG = 2, SIO_DMA_KIND_COHERENT = 3 };

/* What the core records for each live mapping. A backend's map fills dma (and may keep a word
 * of its own in priv); the same record comes back on unmap and sync. */
struct sio_dma_mapping {
    uint64_t dma;  /* the handle (sg: sg[0].dma_address) */
    uint64_t len;  /* bytes (sg: sum of the pieces) */
    uint64_t pa;   /* CPU address (single, coherent) */
    uint64_t priv; /* backend's own */
    enum sio_dma_dir dir;
    enum sio_dma_kind kind;
    unsigned nents, count;    /* sg: pieces, DMA segments */
    const struct sio_sg *sgl; /* sg: the core's copy of the list as mapped (for unmap/sync) */
};

struct sio_dma_ops {
    const char *name;
    /* Context set-up: parse backend_cfg, return the backend's state in *priv. */
    int (*init)(struct sio_dma *, const void *backend_cfg, void **priv);
    void (*fini)(struct sio_dma *, void *priv);
    /* Optional: per-device set-up/tear-down (sio_dma_dev_set_priv for state). */
    int (*dev_attach)(struct sio_dma_dev *);
    void (*dev_detach)(struct sio_dma_dev *);
    /* Required: m->pa, len, dir set; fill m->dma. */
    int (*map)(struct sio_dma_dev *, struct sio_dma_mapping *m);
    int (*unmap)(struct sio_dma_dev *, const struct sio_dma_mapping *m);
    /* Optional: fill sg[0..m->count) segments and m->dma. NULL: the core maps each piece with
     * map (one segment each, m->priv unused) and unmaps each with unmap. */
    int (*map_sg)(struct sio_dma_dev *, struct sio_sg *sg, struct sio_dma_mapping *m);
    int (*unmap_sg)(struct sio_dma_dev *, const struct sio_dma_mapping *m); /* list: m->sgl */
    /* Optional: m->len set; fill m->pa and m->dma with a zeroed buffer. NULL: the core takes
     * pages below the coherent mask from the coherent region and uses dma = pa. */
    int (*alloc_coherent)(struct sio_dma_dev *, struct sio_dma_mapping *m);
    int (*free_coherent)(struct sio_dma_dev *, const struct sio_dma_mapping *m);
    /* Optional (NULL: coherent, nothing to copy): bytes [off, off+len) of a single mapping,
     * or of piece `piece` of an sg mapping (m->sgl[piece]). to_device 1: for_device, 0:
     * for_cpu. */
    int (*sync)(struct sio_dma_dev *, const struct sio_dma_mapping *m, unsigned piece, uint64_t off,
                uint64_t len, enum sio_dma_dir dir, int to_device);
};

const struct sio_mem *sio_dma_mem(const struct sio_dma *);
void *sio_dma_priv(const struct sio_dma *);
struct sio_dma *sio_dma_dev_ctx(const struct sio_dma_dev *);
void *sio_dma_dev_priv(const struct sio_dma_dev *);
void sio_dma_dev_set_priv(struct sio_dma_dev *, void *priv);
/* Pages of the coherent region: size bytes (rounded to a power of two pages, naturally
 * aligned) ending at or below limit. 0, SIO_ENOSPC, SIO_EMASK. */
int sio_dma_pages_alloc(struct sio_dma *, uint64_t size, uint64_t limit, uint64_t *pa);
int sio_dma_pages_free(struct sio_dma *, uint64_t pa, uint64_t size);
/* Copies len bytes between physical addresses of the context's memory (host pointers when the
 * memory offers them). 0 or SIO_EFAULT. */
int sio_dma_copy(const struct sio_dma *, uint64_t dst, uint64_t src, uint64_t len);

#ifdef __cplusplus
}
#endif
#endif

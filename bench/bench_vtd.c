/* VT-d model benchmarks: the translation fast path (IOTLB hit), a full 4-level walk, scaling
 * over device threads, and the cost the unit adds to a 1500-byte device write.
 *
 * Every benchmark builds its own unit over pmem with hand-written tables (root -> context ->
 * 4-level second-level table, VT-d 2) and brings it up the way Linux does. */
#include "bench.h"

#include <softiommu/err.h>
#include <softiommu/mem.h>
#include <softiommu/vtd.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define B_SID    0x0010 /* 00:02.0 */
#define B_DID    1
#define B_IOVA   0x40000000ULL
#define B_FRAME  0x08000000ULL
#define B_MEM    (1ULL << 30)
#define B_NPAGES 4096 /* 16 MiB of 4K mappings */

struct bvtd {
    struct sio_pmem *pm;
    const struct sio_mem_ops *ops;
    struct sio_vtd *u;
    uint64_t next;
};

static uint64_t b_page(struct bvtd *b)
{
    uint64_t pa = b->next;
    b->next += 4096;
    sio_mem_zero(&(struct sio_mem){b->ops, b->pm}, pa, 4096);
    return pa;
}

static void b_w64(struct bvtd *b, uint64_t pa, uint64_t v)
{
    sio_mem_write64(&(struct sio_mem){b->ops, b->pm}, pa, v);
}

/* npages 4K pages from B_IOVA to B_FRAME + i*4K, RW, for sids[0..nsid). */
static int b_setup(struct bvtd *b, const struct sio_vtd_config *cfg, unsigned npages,
                   const uint16_t *sids, unsigned nsid)
{
    memset(b, 0, sizeof(*b));
    b->pm = sio_pmem_create(B_MEM);
    if (!b->pm)
        return SIO_ENOMEM;
    b->ops = sio_pmem_ops();
    b->next = 0x100000;
    b->u = sio_vtd_create(cfg, b->ops, b->pm, NULL, NULL);
    if (!b->u) {
        sio_pmem_destroy(b->pm);
        return SIO_ENOMEM;
    }
    uint64_t root = b_page(b), ctxt = b_page(b), top = b_page(b);
    uint64_t pdpt = b_page(b), pd = b_page(b);
    b_w64(b, root, ctxt | 1);
    for (unsigned s = 0; s < nsid; s++) {
        b_w64(b, ctxt + 16 * (sids[s] & 0xff), top | 1);
        b_w64(b, ctxt + 16 * (sids[s] & 0xff) + 8, ((uint64_t)B_DID << 8) | 2); /* AW 48 */
    }
    b_w64(b, top + 8 * ((B_IOVA >> 39) & 511), pdpt | 3);
    b_w64(b, pdpt + 8 * ((B_IOVA >> 30) & 511), pd | 3);
    for (unsigned i = 0; i < npages; i += 512) {
        uint64_t pt = b_page(b);
        b_w64(b, pd + 8 * (((B_IOVA >> 21) + i / 512) & 511), pt | 3);
        for (unsigned k = 0; k < 512 && i + k < npages; k++)
            b_w64(b, pt + 8 * k, (B_FRAME + 4096ULL * (i + k)) | 3);
    }
    /* Linux's bring-up: RTADDR, SRTP, global context + IOTLB flush, TE. */
    sio_vtd_mmio_write(b->u, 0x20, root, 8);
    sio_vtd_mmio_write(b->u, 0x18, 0x40000000u, 4);
    sio_vtd_mmio_write(b->u, 0x28, (1ULL << 63) | (1ULL << 61), 8);
    sio_vtd_mmio_write(b->u, 0xf8, (1ULL << 63) | (1ULL << 60), 8);
    sio_vtd_mmio_write(b->u, 0x18, 0x80000000u, 4);
    return 0;
}

static void b_teardown(struct bvtd *b)
{
    sio_vtd_destroy(b->u);
    sio_pmem_destroy(b->pm);
}

/* ---- translate_hit ----------------------------------------------------------------------- */

struct xl_ctx {
    struct sio_vtd *u;
    uint16_t sid;
    unsigned mask; /* pages cycled: mask + 1 */
    unsigned stride;
    uint64_t sink;
};

static void xl_op(void *vctx, uint64_t n)
{
    struct xl_ctx *c = vctx;
    struct sio_xlate x;
    uint64_t sink = 0;
    unsigned p = 0;
    for (uint64_t i = 0; i < n; i++) {
        sio_vtd_translate(c->u, c->sid, B_IOVA + ((uint64_t)(p & c->mask) << 12), SIO_READ, &x);
        sink += x.pa;
        p += c->stride;
    }
    c->sink += sink;
}

int bench_translate_hit(struct bench_result *r)
{
    struct bvtd b;
    uint16_t sid = B_SID;
    int rc = b_setup(&b, NULL, 64, &sid, 1);
    if (rc)
        return rc;
    struct xl_ctx c = {b.u, B_SID, 63, 1, 0};
    xl_op(&c, 1024); /* warm: every page cached */
    bench_measure(xl_op, &c, r);
    b_teardown(&b);
    return 0;
}

/* ---- translate_walk4 --------------------------------------------------------------------- */

/* 4096 pages cycled through the IOTLB (768 entries by default), so every request misses it
 * and walks the 4-level table (and inserts the result). Tables are warm: in the host's
 * caches, and the unit's paging-structure caches hold the upper levels as on hardware, so a
 * walk reads the PTE from memory. walk4_nopsc turns those caches off: four reads per walk. */
static int bench_walk(struct bench_result *r, const struct sio_vtd_config *cfg)
{
    struct bvtd b;
    uint16_t sid = B_SID;
    int rc = b_setup(&b, cfg, B_NPAGES, &sid, 1);
    if (rc)
        return rc;
    struct xl_ctx c = {b.u, B_SID, B_NPAGES - 1, 1, 0};
    xl_op(&c, 2 * B_NPAGES);
    struct sio_vtd_stats s0, s1;
    sio_vtd_get_stats(b.u, &s0);
    bench_measure(xl_op, &c, r);
    sio_vtd_get_stats(b.u, &s1);
    double n = (double)(s1.translations - s0.translations);
    bench_extra(r, "iotlb_miss_rate", (double)(s1.iotlb_misses - s0.iotlb_misses) / n);
    bench_extra(r, "psc_hit_rate", (double)(s1.psc_hits - s0.psc_hits) / n);
    b_teardown(&b);
    return 0;
}

int bench_translate_walk4(struct bench_result *r)
{
    return bench_walk(r, NULL);
}

int bench_translate_walk4_nopsc(struct bench_result *r)
{
    struct sio_vtd_config cfg = {.psc_entries = SIO_VTD_CACHE_OFF};
    return bench_walk(r, &cfg);
}

/* ---- translate_mt1 / translate_mt2 -------------------------------------------------------- */

struct mt_ctx {
    struct sio_vtd *u;
    unsigned nthreads;
    struct xl_ctx per[2];
};

struct mt_arg {
    struct xl_ctx *c;
    uint64_t n;
};

static void *mt_worker(void *arg)
{
    struct mt_arg *a = arg;
    xl_op(a->c, a->n);
    return NULL;
}

/* n translations in total, split over the threads; the time is the whole's. */
static void mt_op(void *vctx, uint64_t n)
{
    struct mt_ctx *c = vctx;
    pthread_t th[2];
    struct mt_arg a[2];
    for (unsigned t = 0; t < c->nthreads; t++) {
        a[t].c = &c->per[t];
        a[t].n = n / c->nthreads;
        pthread_create(&th[t], NULL, mt_worker, &a[t]);
    }
    for (unsigned t = 0; t < c->nthreads; t++)
        pthread_join(th[t], NULL);
}

static int bench_mt(struct bench_result *r, unsigned nthreads)
{
    struct bvtd b;
    const uint16_t sids[2] = {B_SID, 0x0018}; /* two devices of one domain */
    int rc = b_setup(&b, NULL, 64, sids, 2);
    if (rc)
        return rc;
    struct mt_ctx c = {b.u, nthreads, {{b.u, sids[0], 63, 1, 0}, {b.u, sids[1], 63, 1, 0}}};
    xl_op(&c.per[0], 256);
    xl_op(&c.per[1], 256);
    bench_measure(mt_op, &c, r);
    bench_extra(r, "threads", nthreads);
    b_teardown(&b);
    return 0;
}

int bench_translate_mt1(struct bench_result *r)
{
    return bench_mt(r, 1);
}

int bench_translate_mt2(struct bench_result *r)
{
    return bench_mt(r, 2);
}

/* ---- dma1500 ------------------------------------------------------------------------------ */

struct dma_ctx {
    struct bvtd *b;
    uint8_t buf[1500];
};

static void dma_vtd_op(void *vctx, uint64_t n)
{
    struct dma_ctx *c = vctx;
    for (uint64_t i = 0; i < n; i++)
        sio_vtd_dma(c->b->u, B_SID, B_IOVA + 0x100, c->buf, sizeof(c->buf), SIO_WRITE);
}

static void dma_nommu_op(void *vctx, uint64_t n)
{
    struct dma_ctx *c = vctx;
    for (uint64_t i = 0; i < n; i++)
        c->b->ops->write(c->b->pm, B_FRAME + 0x100, c->buf, sizeof(c->buf));
}

static int bench_dma(struct bench_result *r, int vtd)
{
    struct bvtd b;
    uint16_t sid = B_SID;
    int rc = b_setup(&b, NULL, 64, &sid, 1);
    if (rc)
        return rc;
    struct dma_ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        b_teardown(&b);
        return SIO_ENOMEM;
    }
    c->b = &b;
    memset(c->buf, 0xa5, sizeof(c->buf));
    /* Same destination both ways: iova B_IOVA + 0x100 is pa B_FRAME + 0x100. */
    if (sio_vtd_dma(b.u, B_SID, B_IOVA + 0x100, c->buf, sizeof(c->buf), SIO_WRITE)) {
        free(c);
        b_teardown(&b);
        return SIO_EIO;
    }
    bench_measure(vtd ? dma_vtd_op : dma_nommu_op, c, r);
    free(c);
    b_teardown(&b);
    return 0;
}

int bench_dma1500_vtd_hit(struct bench_result *r)
{
    return bench_dma(r, 1);
}

int bench_dma1500_nommu(struct bench_result *r)
{
    return bench_dma(r, 0);
}

/* The DMA API: every call against every backend through one shared table (rows: API tests,
 * columns: nommu, swiotlb, swiotlb with force, vtd strict, vtd lazy). The device side of each
 * transfer goes through fx_dev_dma: straight to memory without an IOMMU, through the VT-d
 * model's translation with one. Where backends must differ (a 32-bit device and a buffer above
 * 4 GiB: nommu refuses, swiotlb bounces, vtd remaps) the expectation is spelled out per
 * backend. */
#define FX_HAVE_VTD
#include "test_dma_fixture.h"

#include <softiommu/log.h>

#define PGSZ 4096ULL

static const struct fx_desc backends[] = {
    {FX_NOMMU, "nommu", 0, 0},
    {FX_SWIOTLB, "swiotlb", 0, 0},
    {FX_SWIOTLB_FORCE, "swiotlb-force", 0, 0},
#ifdef FX_HAVE_VTD
    {FX_VTD_STRICT, "vtd-strict", 0, 0},
    {FX_VTD_LAZY, "vtd-lazy", 0, 0},
#endif
};

struct tstate {
    struct fx *f;
    struct sio_dma_dev *dev;
};

static int setup(void **state)
{
    const struct fx_desc *d = *state;
    struct tstate *t = calloc(1, sizeof(*t));
    t->f = fx_create(d);
    if (!t->f->dma)
        return -1;
    t->dev = sio_dma_dev_create(t->f->dma, 0x0010 /* 00:02.0 */, UINT64_MAX);
    if (!t->dev)
        return -1;
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct tstate *t = *state;
    /* Every test releases what it maps: a leak here fails the test. */
    int rc = sio_dma_dev_destroy(t->dev);
    fx_destroy(t->f);
    free(t);
    return rc;
}

static enum fx_backend kind(const struct tstate *t)
{
    return t->f->desc->kind;
}

static int bounces(const struct tstate *t)
{
    return kind(t) == FX_SWIOTLB_FORCE;
}

static int in_pool(uint64_t dma, uint64_t len)
{
    return dma >= FX_POOL && dma + len <= FX_POOL + FX_POOL_SIZE;
}

/* The handle each backend must return for a low buffer the device can reach. */
static void check_handle(const struct tstate *t, uint64_t pa, uint64_t len, uint64_t dma)
{
    switch (kind(t)) {
    case FX_NOMMU:
    case FX_SWIOTLB:
        assert_true(dma == pa); /* reachable: used in place */
        break;
    case FX_SWIOTLB_FORCE:
        assert_true(in_pool(dma, len));
        break;
    default:
        /* An IOVA keeps the buffer's offset in its page. */
        assert_int_equal(dma & (PGSZ - 1), pa & (PGSZ - 1));
        break;
    }
}

/* The CPU fills [pa, pa + len) with pattern seed, then maps it for dir: the handle. */
static uint64_t fill_and_map(const struct tstate *t, uint64_t pa, uint64_t len, uint8_t seed,
                             enum sio_dma_dir dir)
{
    fx_fill(t->f, pa, len, seed);
    uint64_t dma;
    assert_int_equal(sio_dma_map_single(t->dev, pa, len, dir, &dma), 0);
    return dma;
}

static void t_map_to_device(void **state)
{
    struct tstate *t = *state;
    const uint64_t pa = FX_BUF_LOW + 0x3123, len = 5000; /* crosses two page boundaries */
    uint64_t dma = fill_and_map(t, pa, len, 1, SIO_DMA_TO_DEVICE);
    check_handle(t, pa, len, dma);
    uint8_t got[5000], want[5000];
    fx_pattern(want, len, 1);
    assert_int_equal(fx_dev_dma(t->f, t->dev, dma, got, len, SIO_READ), 0);
    assert_memory_equal(got, want, len);
    assert_int_equal(sio_dma_dev_live(t->dev), 1);
    assert_int_equal(sio_dma_unmap_single(t->dev, dma, len, SIO_DMA_TO_DEVICE), 0);
    assert_int_equal(sio_dma_dev_live(t->dev), 0);
}

static void t_map_from_device(void **state)
{
    struct tstate *t = *state;
    const uint64_t pa = FX_BUF_LOW + 0x8000, len = 3 * PGSZ;
    uint64_t dma = fill_and_map(t, pa, len, 0, SIO_DMA_FROM_DEVICE);
    check_handle(t, pa, len, dma);
    uint8_t buf[3 * 4096];
    fx_pattern(buf, len, 42);
    assert_int_equal(fx_dev_dma(t->f, t->dev, dma, buf, len, SIO_WRITE), 0);
    assert_int_equal(sio_dma_unmap_single(t->dev, dma, len, SIO_DMA_FROM_DEVICE), 0);
    assert_true(fx_check(t->f, pa, len, 42)); /* the CPU sees what the device wrote */
}

/* The direction is a promise: a device writing into a TO_DEVICE mapping. */
static void t_direction_respected(void **state)
{
    struct tstate *t = *state;
    const uint64_t pa = FX_BUF_LOW + 0x20000, len = PGSZ;
    uint64_t dma = fill_and_map(t, pa, len, 5, SIO_DMA_TO_DEVICE);
    uint8_t buf[4096];
    fx_pattern(buf, len, 99);
    int rc = fx_dev_dma(t->f, t->dev, dma, buf, len, SIO_WRITE);
    assert_int_equal(sio_dma_unmap_single(t->dev, dma, len, SIO_DMA_TO_DEVICE), 0);
    switch (kind(t)) {
    case FX_NOMMU:
    case FX_SWIOTLB:
        /* No isolation without an IOMMU: the write lands in the buffer. */
        assert_int_equal(rc, 0);
        assert_true(fx_check(t->f, pa, len, 99));
        break;
    case FX_SWIOTLB_FORCE:
        /* It lands in the bounce slot, which unmap does not copy back for TO_DEVICE. */
        assert_int_equal(rc, 0);
        assert_true(fx_check(t->f, pa, len, 5));
        break;
    default:
        /* The mapping has no write permission: fault 0x5, memory untouched. */
        assert_int_equal(rc, 0x5);
        assert_true(fx_check(t->f, pa, len, 5));
        break;
    }
}

static void t_bidir_sync(void **state)
{
    struct tstate *t = *state;
    const uint64_t pa = FX_BUF_LOW + 0x40000, len = 2 * PGSZ;
    uint64_t dma = fill_and_map(t, pa, len, 3, SIO_DMA_BIDIRECTIONAL);
    check_handle(t, pa, len, dma);
    uint8_t buf[2 * 4096], want[2 * 4096];
    /* The device sees what the CPU wrote before the map. */
    fx_pattern(want, len, 3);
    assert_int_equal(fx_dev_dma(t->f, t->dev, dma, buf, len, SIO_READ), 0);
    assert_memory_equal(buf, want, len);
    /* Device writes, CPU takes ownership and sees it. */
    fx_pattern(buf, len, 17);
    assert_int_equal(fx_dev_dma(t->f, t->dev, dma, buf, len, SIO_WRITE), 0);
    assert_int_equal(sio_dma_sync_single_for_cpu(t->dev, dma, len, SIO_DMA_BIDIRECTIONAL), 0);
    assert_true(fx_check(t->f, pa, len, 17));
    /* CPU writes, gives it back, device sees it. */
    fx_fill(t->f, pa, len, 200);
    assert_int_equal(sio_dma_sync_single_for_device(t->dev, dma, len, SIO_DMA_BIDIRECTIONAL), 0);
    fx_pattern(want, len, 200);
    assert_int_equal(fx_dev_dma(t->f, t->dev, dma, buf, len, SIO_READ), 0);
    assert_memory_equal(buf, want, len);
    /* Syncs beyond the mapping, or in a direction it was not mapped for, are refused. */
    assert_int_equal(sio_dma_sync_single_for_cpu(t->dev, dma, len + 1, SIO_DMA_BIDIRECTIONAL),
                     SIO_EINVAL);
    assert_int_equal(sio_dma_unmap_single(t->dev, dma, len, SIO_DMA_BIDIRECTIONAL), 0);
    assert_int_equal(sio_dma_sync_single_for_cpu(t->dev, dma, len, SIO_DMA_BIDIRECTIONAL),
                     SIO_EDOUBLE);
    /* A TO_DEVICE mapping cannot be synced as FROM_DEVICE. */
    assert_int_equal(sio_dma_map_single(t->dev, pa, len, SIO_DMA_TO_DEVICE, &dma), 0);
    assert_int_equal(sio_dma_sync_single_for_cpu(t->dev, dma, len, SIO_DMA_FROM_DEVICE),
                     SIO_EINVAL);
    assert_int_equal(sio_dma_sync_single_for_device(t->dev, dma, len, SIO_DMA_TO_DEVICE), 0);
    assert_int_equal(sio_dma_unmap_single(t->dev, dma, len, SIO_DMA_TO_DEVICE), 0);
}

static void t_sync_range(void **state)
{
    struct tstate *t = *state;
    const uint64_t pa = FX_BUF_LOW + 0x60000, len = 2 * PGSZ;
    uint64_t dma = fill_and_map(t, pa, len, 8, SIO_DMA_FROM_DEVICE);
    uint8_t buf[4096];
    fx_pattern(buf, PGSZ, 77);
    assert_int_equal(fx_dev_dma(t->f, t->dev, dma + PGSZ, buf, PGSZ, SIO_WRITE), 0);
    assert_int_equal(
        sio_dma_sync_single_range_for_cpu(t->dev, dma, PGSZ, PGSZ, SIO_DMA_FROM_DEVICE), 0);
    assert_true(fx_check(t->f, pa + PGSZ, PGSZ, 77));
    assert_true(fx_check(t->f, pa, PGSZ, 8)); /* the first half was not touched */
    assert_int_equal(
        sio_dma_sync_single_range_for_cpu(t->dev, dma, PGSZ, PGSZ + 1, SIO_DMA_FROM_DEVICE),
        SIO_EINVAL);
    assert_int_equal(sio_dma_unmap_single(t->dev, dma, len, SIO_DMA_FROM_DEVICE), 0);
}

static void t_map_sg(void **state)
{
    struct tstate *t = *state;
    /* Four physically scattered pages, out of order. */
    const uint64_t pages[4] = {FX_BUF_LOW + 0x110000, FX_BUF_LOW + 0x150000, FX_BUF_LOW + 0x120000,
                               FX_BUF_LOW + 0x190000};
    struct sio_sg sg[4];
    for (int i = 0; i < 4; i++) {
        fx_fill(t->f, pages[i], PGSZ, 0);
        sg[i] = (struct sio_sg){.pa = pages[i], .len = PGSZ};
    }
    unsigned count = 0;
    assert_int_equal(sio_dma_map_sg(t->dev, sg, 4, SIO_DMA_FROM_DEVICE, &count), 0);
    if (fx_is_vtd(t->f)) {
        /* One contiguous IOVA range covers all four pages. */
        assert_int_equal(count, 1);
        assert_true(sg[0].dma_length == 4 * PGSZ);
    } else {
        assert_int_equal(count, 4);
        for (int i = 0; i < 4; i++) {
            assert_true(sg[i].dma_length == PGSZ);
            if (bounces(t))
                assert_true(in_pool(sg[i].dma_address, PGSZ));
            else
                assert_true(sg[i].dma_address == pages[i]);
        }
    }
    /* The device writes one stream across the segments it was given. */
    uint8_t stream[4 * 4096];
    fx_pattern(stream, sizeof(stream), 61);
    uint64_t off = 0;
    for (unsigned s = 0; s < count; s++) {
        assert_int_equal(fx_dev_dma(t->f, t->dev, sg[s].dma_address, stream + off,
                                    (size_t)sg[s].dma_length, SIO_WRITE),
                         0);
        off += sg[s].dma_length;
    }
    assert_true(off == sizeof(stream));
    assert_int_equal(sio_dma_sync_sg_for_cpu(t->dev, sg, 4, SIO_DMA_FROM_DEVICE), 0);
    assert_int_equal(sio_dma_unmap_sg(t->dev, sg, 4, SIO_DMA_FROM_DEVICE), 0);
    for (int i = 0; i < 4; i++) {
        uint8_t got[4096];
        sio_mem_read(&t->f->mem, pages[i], got, PGSZ);
        assert_memory_equal(got, stream + i * PGSZ, PGSZ);
    }
    assert_int_equal(sio_dma_unmap_sg(t->dev, sg, 4, SIO_DMA_FROM_DEVICE), SIO_EDOUBLE);

    /* Two physically contiguous pieces: nommu and vtd give one segment, swiotlb two. */
    struct sio_sg c[2] = {{.pa = FX_BUF_LOW + 0x30000, .len = PGSZ},
                          {.pa = FX_BUF_LOW + 0x31000, .len = PGSZ}};
    assert_int_equal(sio_dma_map_sg(t->dev, c, 2, SIO_DMA_TO_DEVICE, &count), 0);
    if (kind(t) == FX_NOMMU || fx_is_vtd(t->f)) {
        assert_int_equal(count, 1);
        assert_true(c[0].dma_length == 2 * PGSZ);
    } else {
        assert_int_equal(count, 2);
    }
    assert_int_equal(sio_dma_unmap_sg(t->dev, c, 2, SIO_DMA_BIDIRECTIONAL), SIO_EINVAL);
    assert_int_equal(sio_dma_unmap_sg(t->dev, c, 2, SIO_DMA_TO_DEVICE), 0);
}

static void t_coherent(void **state)
{
    struct tstate *t = *state;
    uint64_t cpu, dma, cpu2, dma2;
    assert_int_equal(sio_dma_alloc_coherent(t->dev, 2 * PGSZ, &cpu, &dma), 0);
    assert_true(cpu >= FX_COH_LOW && cpu + 2 * PGSZ <= FX_COH_LOW + FX_COH_SIZE);
    /* Dirty it, free it, get it again: it comes back zeroed. */
    fx_fill(t->f, cpu, 2 * PGSZ, 1);
    assert_int_equal(sio_dma_free_coherent(t->dev, 2 * PGSZ, cpu, dma), 0);
    assert_int_equal(sio_dma_alloc_coherent(t->dev, 2 * PGSZ, &cpu2, &dma2), 0);
    uint8_t zero[8192] = {0}, got[8192];
    sio_mem_read(&t->f->mem, cpu2, got, sizeof(got));
    assert_memory_equal(got, zero, sizeof(got));
    if (!fx_is_vtd(t->f))
        assert_true(dma2 == cpu2);
    /* No syncs: what the device writes the CPU reads, and the other way round. */
    uint8_t buf[8192];
    fx_pattern(buf, sizeof(buf), 4);
    assert_int_equal(fx_dev_dma(t->f, t->dev, dma2, buf, sizeof(buf), SIO_WRITE), 0);
    assert_true(fx_check(t->f, cpu2, sizeof(buf), 4));
    fx_fill(t->f, cpu2, 100, 9);
    assert_int_equal(fx_dev_dma(t->f, t->dev, dma2, buf, 100, SIO_READ), 0);
    uint8_t want[100];
    fx_pattern(want, 100, 9);
    assert_memory_equal(buf, want, 100);
    assert_int_equal(sio_dma_free_coherent(t->dev, 4 * PGSZ, cpu2, dma2), SIO_EINVAL);
    assert_int_equal(sio_dma_free_coherent(t->dev, 2 * PGSZ, cpu2, dma2), 0);
    assert_int_equal(sio_dma_free_coherent(t->dev, 2 * PGSZ, cpu2, dma2), SIO_EDOUBLE);
}

static void t_errors(void **state)
{
    struct tstate *t = *state;
    const uint64_t pa = FX_BUF_LOW + 0x70000;
    uint64_t dma;
    /* Never mapped. */
    assert_int_equal(sio_dma_unmap_single(t->dev, 0x12345000, PGSZ, SIO_DMA_TO_DEVICE),
                     SIO_ENOTMAPPED);
    struct sio_sg sg = {.pa = pa, .dma_address = 0x777000, .len = PGSZ};
    assert_int_equal(sio_dma_unmap_sg(t->dev, &sg, 1, SIO_DMA_TO_DEVICE), SIO_ENOTMAPPED);
    assert_int_equal(sio_dma_free_coherent(t->dev, PGSZ, pa, 0x999000), SIO_ENOTMAPPED);
    assert_int_equal(sio_dma_sync_single_for_cpu(t->dev, 0x555000, PGSZ, SIO_DMA_TO_DEVICE),
                     SIO_ENOTMAPPED);
    /* Bad arguments. */
    assert_int_equal(sio_dma_map_single(t->dev, pa, 0, SIO_DMA_TO_DEVICE, &dma), SIO_EINVAL);
    assert_int_equal(sio_dma_map_single(t->dev, pa, PGSZ, (enum sio_dma_dir)7, &dma), SIO_EINVAL);
    /* Wrong size, wrong direction, wrong kind: refused, and the mapping stays live. */
    assert_int_equal(sio_dma_map_single(t->dev, pa, PGSZ, SIO_DMA_TO_DEVICE, &dma), 0);
    assert_int_equal(sio_dma_unmap_single(t->dev, dma, 2 * PGSZ, SIO_DMA_TO_DEVICE), SIO_EINVAL);
    assert_int_equal(sio_dma_unmap_single(t->dev, dma, PGSZ, SIO_DMA_FROM_DEVICE), SIO_EINVAL);
    sg.dma_address = dma;
    assert_int_equal(sio_dma_unmap_sg(t->dev, &sg, 1, SIO_DMA_TO_DEVICE), SIO_EINVAL);
    assert_int_equal(sio_dma_free_coherent(t->dev, PGSZ, pa, dma), SIO_EINVAL);
    assert_int_equal(sio_dma_dev_live(t->dev), 1);
    /* Right call, then a double unmap. */
    assert_int_equal(sio_dma_unmap_single(t->dev, dma, PGSZ, SIO_DMA_TO_DEVICE), 0);
    assert_int_equal(sio_dma_unmap_single(t->dev, dma, PGSZ, SIO_DMA_TO_DEVICE), SIO_EDOUBLE);
    assert_int_equal(sio_dma_dev_live(t->dev), 0);
    /* The distinct codes have distinct strings. */
    assert_string_not_equal(sio_strerror(SIO_ENOTMAPPED), sio_strerror(SIO_EDOUBLE));
}

static void t_leak_reported(void **state)
{
    struct tstate *t = *state;
    struct sio_dma_dev *d2 = sio_dma_dev_create(t->f->dma, 0x0018 /* 00:03.0 */, UINT64_MAX);
    assert_non_null(d2);
    uint64_t dma, cpu, cdma;
    assert_int_equal(sio_dma_map_single(d2, FX_BUF_LOW + 0x90000, PGSZ, SIO_DMA_TO_DEVICE, &dma),
                     0);
    assert_int_equal(sio_dma_alloc_coherent(d2, PGSZ, &cpu, &cdma), 0);
    struct log_capture lc;
    log_capture_start(&lc);
    int rc = sio_dma_dev_destroy(d2);
    log_capture_stop();
    assert_int_equal(rc, SIO_ELEAK);
    assert_true(log_capture_has(&lc, "device [0000:00:03.0]"));
    assert_true(log_capture_has(&lc, "leaked single mapping"));
    assert_true(log_capture_has(&lc, "leaked coherent mapping"));
    assert_true(log_capture_has(&lc, "leaked 2 mappings"));
    /* The leaked resources were released: a new device can use them all again. */
    struct sio_dma_dev *d3 = sio_dma_dev_create(t->f->dma, 0x0018, UINT64_MAX);
    assert_non_null(d3);
    assert_int_equal(sio_dma_dev_destroy(d3), 0);
}

/* A 32-bit device and a buffer above 4 GiB: the case swiotlb and IOMMUs exist for. */
static void t_32bit_device_high_buffer(void **state)
{
    struct tstate *t = *state;
    struct sio_dma_dev *d = sio_dma_dev_create(t->f->dma, 0x0020, 0xFFFFFFFF);
    assert_non_null(d);
    const uint64_t pa = FX_BUF_HIGH + 0x5000, len = 2 * PGSZ;
    fx_fill(t->f, pa, len, 11);
    uint64_t dma;
    int rc = sio_dma_map_single(d, pa, len, SIO_DMA_BIDIRECTIONAL, &dma);
    if (kind(t) == FX_NOMMU) {
        assert_int_equal(rc, SIO_EMASK);
    } else {
        assert_int_equal(rc, 0);
        assert_true(dma + len - 1 <= 0xFFFFFFFF);
        if (!fx_is_vtd(t->f))
            assert_true(in_pool(dma, len));
        uint8_t buf[8192], want[8192];
        fx_pattern(want, len, 11);
        assert_int_equal(fx_dev_dma(t->f, d, dma, buf, len, SIO_READ), 0);
        assert_memory_equal(buf, want, len);
        fx_pattern(buf, len, 12);
        assert_int_equal(fx_dev_dma(t->f, d, dma, buf, len, SIO_WRITE), 0);
        assert_int_equal(sio_dma_unmap_single(d, dma, len, SIO_DMA_BIDIRECTIONAL), 0);
        assert_true(fx_check(t->f, pa, len, 12));
    }
    /* Scatter/gather with one piece above 4 GiB. */
    struct sio_sg sg[2] = {{.pa = FX_BUF_LOW + 0xA0000, .len = PGSZ}, {.pa = pa, .len = PGSZ}};
    unsigned count;
    rc = sio_dma_map_sg(d, sg, 2, SIO_DMA_TO_DEVICE, &count);
    if (kind(t) == FX_NOMMU) {
        assert_int_equal(rc, SIO_EMASK);
    } else {
        assert_int_equal(rc, 0);
        for (unsigned s = 0; s < count; s++)
            assert_true(sg[s].dma_address + sg[s].dma_length - 1 <= 0xFFFFFFFF);
        assert_int_equal(sio_dma_unmap_sg(d, sg, 2, SIO_DMA_TO_DEVICE), 0);
    }
    assert_int_equal(sio_dma_dev_destroy(d), 0);

    /* Coherent memory when all RAM the allocator may hand out lies above 4 GiB. */
    struct fx_desc hd = *t->f->desc;
    hd.high_coherent = 1;
    struct fx *hf = fx_create(&hd);
    assert_non_null(hf->dma);
    d = sio_dma_dev_create(hf->dma, 0x0020, 0xFFFFFFFF);
    uint64_t cpu, cdma;
    rc = sio_dma_alloc_coherent(d, PGSZ, &cpu, &cdma);
    if (kind(t) == FX_NOMMU) {
        assert_int_equal(rc, SIO_EMASK);
    } else {
        assert_int_equal(rc, 0);
        assert_true(cdma + PGSZ - 1 <= 0xFFFFFFFF);
        if (!fx_is_vtd(hf))
            assert_true(in_pool(cdma, PGSZ) && cpu == cdma); /* carved from the pool */
        else
            assert_true(cpu >= FX_COH_HIGH); /* high RAM, remapped low */
        uint8_t buf[64];
        fx_pattern(buf, 64, 21);
        assert_int_equal(fx_dev_dma(hf, d, cdma, buf, 64, SIO_WRITE), 0);
        assert_true(fx_check(hf, cpu, 64, 21));
        assert_int_equal(sio_dma_free_coherent(d, PGSZ, cpu, cdma), 0);
    }
    assert_int_equal(sio_dma_dev_destroy(d), 0);
    fx_destroy(hf);
}

/* A mask nothing can satisfy without an IOMMU: 1 MiB (the pool sits at 2 GiB). */
static void t_mask_unsatisfiable(void **state)
{
    struct tstate *t = *state;
    struct sio_dma_dev *d = sio_dma_dev_create(t->f->dma, 0x0028, 0xFFFFF);
    assert_non_null(d);
    uint64_t dma;
    int rc = sio_dma_map_single(d, FX_BUF_LOW, PGSZ, SIO_DMA_TO_DEVICE, &dma);
    if (fx_is_vtd(t->f)) {
        assert_int_equal(rc, 0); /* the IOVA space has room below 1 MiB */
        assert_true(dma + PGSZ - 1 <= 0xFFFFF);
        assert_int_equal(sio_dma_unmap_single(d, dma, PGSZ, SIO_DMA_TO_DEVICE), 0);
    } else {
        assert_int_equal(rc, SIO_EMASK);
    }
    assert_int_equal(sio_dma_set_mask(d, 0x100), SIO_EINVAL);
    assert_int_equal(sio_dma_dev_destroy(d), 0);
}

/* swiotlb's pool (4 MiB) holds sixteen 256 KiB bounces. */
static void t_pool_exhausted(void **state)
{
    struct tstate *t = *state;
    const uint64_t chunk = 256 << 10;
    uint64_t dma[17];
    for (int i = 0; i < 16; i++)
        assert_int_equal(
            sio_dma_map_single(t->dev, FX_BUF_LOW + i * chunk, chunk, SIO_DMA_TO_DEVICE, &dma[i]),
            0);
    int rc =
        sio_dma_map_single(t->dev, FX_BUF_LOW + 16 * chunk, chunk, SIO_DMA_TO_DEVICE, &dma[16]);
    if (bounces(t)) {
        assert_int_equal(rc, SIO_EPOOL);
        /* One unmap makes room again. */
        assert_int_equal(sio_dma_unmap_single(t->dev, dma[3], chunk, SIO_DMA_TO_DEVICE), 0);
        assert_int_equal(
            sio_dma_map_single(t->dev, FX_BUF_LOW + 16 * chunk, chunk, SIO_DMA_TO_DEVICE, &dma[3]),
            0);
        /* Larger than one bounce can be. */
        uint64_t x;
        assert_int_equal(sio_dma_map_single(t->dev, FX_BUF_LOW, chunk + 1, SIO_DMA_TO_DEVICE, &x),
                         SIO_ERANGE);
    } else {
        assert_int_equal(rc, 0);
        assert_int_equal(sio_dma_unmap_single(t->dev, dma[16], chunk, SIO_DMA_TO_DEVICE), 0);
    }
    for (int i = 0; i < 16; i++)
        assert_int_equal(sio_dma_unmap_single(t->dev, dma[i], chunk, SIO_DMA_TO_DEVICE), 0);
}

#define ROW(fn) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, (void *)d)

static int run_backend(const struct fx_desc *d)
{
    const struct CMUnitTest tests[] = {
        ROW(t_map_to_device),
        ROW(t_map_from_device),
        ROW(t_direction_respected),
        ROW(t_bidir_sync),
        ROW(t_sync_range),
        ROW(t_map_sg),
        ROW(t_coherent),
        ROW(t_errors),
        ROW(t_leak_reported),
        ROW(t_32bit_device_high_buffer),
        ROW(t_mask_unsatisfiable),
        ROW(t_pool_exhausted),
    };
    return _cmocka_run_group_tests(d->name, tests, sizeof(tests) / sizeof(tests[0]), NULL, NULL);
}

/* ---- backend-specific ---------------------------------------------------------------------- */

static void test_swiotlb_config(void **state)
{
    (void)state;
    struct sio_pmem *pm = sio_pmem_create(FX_RAM_SIZE);
    struct sio_dma_config cfg = {.mem = sio_pmem_ops(), .mem_ctx = pm};
    /* A pool that reaches above 4 GiB, or is misaligned, is refused. */
    struct sio_swiotlb_config bad = {0xFFF00000, 2 << 20, 0, 0};
    cfg.backend_cfg = &bad;
    assert_null(sio_dma_create(sio_dma_swiotlb_ops(), &cfg));
    bad = (struct sio_swiotlb_config){0x80000800, 1 << 20, 0, 0};
    assert_null(sio_dma_create(sio_dma_swiotlb_ops(), &cfg));
    /* Defaults: a 64 MiB pool at 2 GiB. */
    cfg.backend_cfg = NULL;
    struct sio_dma *dma = sio_dma_create(sio_dma_swiotlb_ops(), &cfg);
    assert_non_null(dma);
    assert_string_equal(sio_dma_backend_name(dma), "swiotlb");
    struct sio_dma_dev *d = sio_dma_dev_create(dma, 1, 0xFFFFFFFF);
    uint64_t h;
    assert_int_equal(sio_dma_map_single(d, FX_BUF_HIGH, 100, SIO_DMA_TO_DEVICE, &h), 0);
    assert_true(h >= SIO_SWIOTLB_DEFAULT_BASE &&
                h < SIO_SWIOTLB_DEFAULT_BASE + SIO_SWIOTLB_DEFAULT_SIZE);
    assert_true(h % SIO_SWIOTLB_SLOT_SIZE == 0);
    uint64_t h2;
    /* A page-sized bounce starts on a page boundary. */
    assert_int_equal(sio_dma_map_single(d, FX_BUF_HIGH + 0x1000, 4096, SIO_DMA_TO_DEVICE, &h2), 0);
    assert_true(h2 % 4096 == 0);
    assert_int_equal(sio_dma_unmap_single(d, h, 100, SIO_DMA_TO_DEVICE), 0);
    assert_int_equal(sio_dma_unmap_single(d, h2, 4096, SIO_DMA_TO_DEVICE), 0);
    assert_int_equal(sio_dma_dev_destroy(d), 0);
    /* Destroying a context with a device left in it reports the device. */
    d = sio_dma_dev_create(dma, 2, 0xFFFFFFFF);
    assert_non_null(d);
    struct log_capture lc;
    log_capture_start(&lc);
    assert_int_equal(sio_dma_destroy(dma), SIO_ELEAK);
    log_capture_stop();
    assert_true(log_capture_has(&lc, "still present"));
    sio_pmem_destroy(pm);
}

/* FROM_DEVICE map fills the bounce slot from the original: stale pool data never reaches the
 * original when the device writes only part of the buffer. */
static void test_swiotlb_no_stale_leak(void **state)
{
    (void)state;
    struct fx_desc desc = {FX_SWIOTLB_FORCE, "swiotlb-force", 0, 0};
    struct fx *f = fx_create(&desc);
    struct sio_dma_dev *d = sio_dma_dev_create(f->dma, 1, UINT64_MAX);
    uint64_t h;
    /* Someone else's data passes through the pool first. */
    fx_fill(f, FX_BUF_LOW, 4096, 66);
    assert_int_equal(sio_dma_map_single(d, FX_BUF_LOW, 4096, SIO_DMA_TO_DEVICE, &h), 0);
    assert_int_equal(sio_dma_unmap_single(d, h, 4096, SIO_DMA_TO_DEVICE), 0);
    /* Our buffer: the device writes only its first 16 bytes. */
    fx_fill(f, FX_BUF_LOW + 0x10000, 4096, 1);
    uint64_t h2;
    assert_int_equal(sio_dma_map_single(d, FX_BUF_LOW + 0x10000, 4096, SIO_DMA_FROM_DEVICE, &h2),
                     0);
    uint8_t w[16];
    fx_pattern(w, 16, 90);
    assert_int_equal(fx_dev_dma(f, d, h2, w, 16, SIO_WRITE), 0);
    assert_int_equal(sio_dma_unmap_single(d, h2, 4096, SIO_DMA_FROM_DEVICE), 0);
    assert_true(fx_check(f, FX_BUF_LOW + 0x10000, 16, 90));
    uint8_t rest[4096 - 16], want[4096];
    fx_pattern(want, 4096, 1);
    sio_mem_read(&f->mem, FX_BUF_LOW + 0x10000 + 16, rest, sizeof(rest));
    assert_memory_equal(rest, want + 16, sizeof(rest));
    assert_int_equal(sio_dma_dev_destroy(d), 0);
    fx_destroy(f);
}

int main(void)
{
    int failed = 0;
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        failed += run_backend(&backends[i]);
    const struct CMUnitTest specific[] = {
        cmocka_unit_test(test_swiotlb_config),
        cmocka_unit_test(test_swiotlb_no_stale_leak),
    };
    failed += cmocka_run_group_tests_name("backend-specific", specific, NULL, NULL);
    return failed;
}

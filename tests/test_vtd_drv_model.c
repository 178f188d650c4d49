/* The VT-d driver driving the VT-d model through sio_vtd_mmio_ops() and memory only, across
 * every unit configuration the model can express (39/48/57 bits; with and without QI, CM,
 * RWBF, PSI, pass-through, 2M/1G pages). Checked by DMA through the model: translations land
 * where they should, unattached devices are blocked, a strict unmap leaves nothing reachable
 * (the model's IOTLB caches, so a missing invalidation shows), under CM=1 a mapping made
 * after a faulting access is seen, the lazy stale window stays inside its bounds, faults are
 * serviced in Linux's format after the fault-event MSI. */
#include "test_util.h"
#include "test_vtd_drv_fake.h" /* struct wmem (writes outside the tables counted), msi_last */

#include <softiommu/err.h>
#include <softiommu/log.h>
#include <softiommu/vtd.h>
#include <softiommu/vtd_driver.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define TB  0x40000000ULL /* tables: 16 MiB at 1 GiB */
#define TS  (16ULL << 20)
#define PG  0x1000ULL
#define SID 0x0010 /* 00:02.0 */

struct env {
    struct sio_pmem *pm;
    struct wmem wm;
    struct sio_vtd *vtd;
    struct sio_vtd_drv *drv;
    struct msi_last msi;
};

static struct env *env_new(unsigned aw, uint64_t features, int strict,
                           const struct sio_vtd_drv_options *opt)
{
    struct env *e = calloc(1, sizeof(*e));
    e->pm = sio_pmem_create(1ULL << 40);
    e->wm = (struct wmem){e->pm, TB, TB + TS, 0, {0}, 0};
    struct sio_vtd_config hw = {.aw_bits = aw, .features = features};
    e->vtd = sio_vtd_create(&hw, sio_pmem_ops(), e->pm, &msi_last_ops, &e->msi);
    assert_non_null(e->vtd);
    struct sio_vtd_drv_config cfg = {TB, TS, strict};
    e->drv = sio_vtd_drv_create_ex(&cfg, opt, sio_vtd_mmio_ops(), e->vtd, &wm_ops, &e->wm);
    return e;
}

static void env_free(struct env *e)
{
    sio_vtd_drv_destroy(e->drv);
    assert_int_equal(e->wm.outside, 0);
    sio_vtd_destroy(e->vtd);
    sio_pmem_destroy(e->pm);
    free(e);
}

static int dev_write(struct env *e, uint16_t sid, uint64_t iova, uint32_t v)
{
    return sio_vtd_dma(e->vtd, sid, iova, &v, 4, SIO_WRITE);
}

static int dev_read(struct env *e, uint16_t sid, uint64_t iova, uint32_t *v)
{
    return sio_vtd_dma(e->vtd, sid, iova, v, 4, SIO_READ);
}

static uint32_t ram32(struct env *e, uint64_t pa)
{
    uint32_t v = 0;
    struct sio_mem m = {sio_pmem_ops(), e->pm};
    sio_mem_read32(&m, pa, &v);
    return v;
}

/* ---- every configuration ------------------------------------------------------------------ */

struct cfgrow {
    unsigned aw;
    uint64_t features;
    const char *name;
};

#define X SIO_VTD_F_EXPLICIT
static const struct cfgrow rows[] = {
    {39, X, "39-bit, nothing"},
    {48, X, "48-bit, nothing"},
    {57, X, "57-bit, nothing"},
    {48, X | SIO_VTD_F_PSI, "48 PSI"},
    {48, X | SIO_VTD_F_QI | SIO_VTD_F_PSI, "48 QI"},
    {39, X | SIO_VTD_F_CM | SIO_VTD_F_PSI, "39 CM"},
    {57, X | SIO_VTD_F_CM, "57 CM no PSI"},
    {48, X | SIO_VTD_F_RWBF, "48 RWBF"},
    {48, X | SIO_VTD_F_SP2M | SIO_VTD_F_PSI, "48 2M"},
    {48, X | SIO_VTD_F_SP2M | SIO_VTD_F_SP1G | SIO_VTD_F_PSI, "48 2M+1G"},
    {39, X | SIO_VTD_F_SP2M | SIO_VTD_F_SP1G | SIO_VTD_F_CM | SIO_VTD_F_RWBF, "39 1G CM RWBF"},
    {48, X | SIO_VTD_F_PT, "48 PT"},
    {48, 0, "48 default features"},
    {57, SIO_VTD_F_DEFAULT | SIO_VTD_F_CM | SIO_VTD_F_RWBF, "57 everything"},
};

static void exercise(const struct cfgrow *r, int strict)
{
    /* Without ECAP.PT pass-through is a 1:1 domain; 256 MiB of it keeps the test quick. */
    struct sio_vtd_drv_options opt = {.identity_size = 256ULL << 20};
    struct env *e = env_new(r->aw, r->features, strict, &opt);
    if (!e->drv)
        fail_msg("driver refused unit '%s'", r->name);
    struct sio_vtd_drv_info info;
    sio_vtd_drv_get_info(e->drv, &info);
    assert_int_equal(info.width, r->aw);
    const uint16_t other = 0x0028; /* 00:05.0, never attached */
    /* Before anything is attached, every device is blocked (no context entry). */
    uint32_t v;
    assert_int_not_equal(dev_read(e, SID, 0x1000, &v), 0);

    struct sio_domain *dom = sio_vtd_drv_domain_alloc(e->drv);
    assert_non_null(dom);
    assert_int_equal(sio_vtd_drv_attach(dom, SID), 0);
    /* Under CM=1 a faulting (not-present) translation may be cached: touch first, then map. */
    const uint64_t iova = (1ULL << (r->aw - 1)) + 0x345000; /* high in the space */
    const uint64_t pa = 0x7654000;
    assert_int_not_equal(dev_write(e, SID, iova + PG + 8, 1), 0);
    assert_int_equal(sio_vtd_drv_map(dom, iova, pa, 4 * PG, SIO_READ | SIO_WRITE), 0);
    assert_int_equal(dev_write(e, SID, iova + PG + 8, 0xC0FFEE), 0);
    assert_int_equal(ram32(e, pa + PG + 8), 0xC0FFEE);
    assert_int_equal(dev_read(e, SID, iova + PG + 8, &v), 0);
    assert_int_equal(v, 0xC0FFEE);
    assert_int_not_equal(dev_read(e, other, iova, &v), 0); /* other device: blocked */
    /* A superpage-sized, aligned mapping (whatever leaves the unit allows). */
    const uint64_t big = 1ULL << 30;
    assert_int_equal(sio_vtd_drv_map(dom, big, 0x80000000, 4ULL << 20, SIO_READ), 0);
    assert_int_equal(dev_read(e, SID, big + 0x3FFFF0, &v), 0);
    assert_int_not_equal(dev_write(e, SID, big, 1), 0); /* read-only */
    /* Strict: once unmap returns, the (cached) translation is gone. */
    if (strict) {
        assert_int_equal(sio_vtd_drv_unmap(dom, iova + PG, PG), 0);
        assert_int_not_equal(dev_read(e, SID, iova + PG + 8, &v), 0);
        assert_int_equal(dev_read(e, SID, iova + 2 * PG, &v), 0); /* neighbour untouched */
        /* Partial unmap of the 4 MiB read-only range (splits a superpage if there is one). */
        assert_int_equal(dev_read(e, SID, big + 0x201000, &v), 0);
        assert_int_equal(sio_vtd_drv_unmap(dom, big + 0x201000, PG), 0);
        assert_int_not_equal(dev_read(e, SID, big + 0x201000, &v), 0);
        assert_int_equal(dev_read(e, SID, big + 0x202000, &v), 0);
    }
    /* Detach: the context-cache invalidation must make the device blocked again. */
    assert_int_equal(sio_vtd_drv_detach(dom, SID), 0);
    assert_int_not_equal(dev_read(e, SID, iova + 2 * PG, &v), 0);
    assert_int_equal(sio_vtd_drv_domain_free(dom), 0);
    /* Pass-through: the device reaches physical addresses unchanged. */
    assert_int_equal(sio_vtd_drv_passthrough(e->drv, other), 0);
    assert_int_equal(dev_write(e, other, 0x123458, 0xAB), 0);
    assert_int_equal(ram32(e, 0x123458), 0xAB);
    /* Faults so far were recorded by the unit; service them. */
    assert_true(sio_vtd_drv_service_faults(e->drv) > 0);
    assert_int_equal(sio_vtd_drv_service_faults(e->drv), 0);
    env_free(e);
}

static void test_every_config_strict(void **state)
{
    (void)state;
    struct log_capture lc; /* the serviced faults are expected: keep them off the console */
    log_capture_start(&lc);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        exercise(&rows[i], 1);
    log_capture_stop();
    assert_true(log_capture_has(&lc, "[fault reason 0x01] Present bit in root entry is clear"));
    assert_true(log_capture_has(&lc, "[fault reason 0x02] Present bit in context entry is clear"));
}

static void test_every_config_lazy(void **state)
{
    (void)state;
    struct log_capture lc;
    log_capture_start(&lc);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        exercise(&rows[i], 0);
    log_capture_stop();
}

/* ---- strict never lets the device use an unmapped IOVA ------------------------------------ */

static void test_strict_no_window(void **state)
{
    (void)state;
    struct env *e = env_new(48, 0, 1, NULL);
    struct sio_domain *dom = sio_vtd_drv_domain_alloc(e->drv);
    sio_vtd_drv_attach(dom, SID);
    struct sio_vtd_stats st0, st1;
    sio_vtd_get_stats(e->vtd, &st0);
    unsigned used_after = 0;
    for (unsigned i = 0; i < 2000; i++) {
        uint64_t iova = 0x100000000ULL + (uint64_t)(i % 37) * PG;
        assert_int_equal(sio_vtd_drv_map(dom, iova, 0x200000 + (i % 5) * PG, PG, SIO_WRITE), 0);
        assert_int_equal(dev_write(e, SID, iova, i), 0); /* warms the IOTLB */
        assert_int_equal(sio_vtd_drv_unmap(dom, iova, PG), 0);
        used_after += dev_write(e, SID, iova, 0xBAD) == 0;
    }
    assert_int_equal(used_after, 0);
    struct log_capture lc;
    log_capture_start(&lc);
    sio_vtd_drv_service_faults(e->drv);
    log_capture_stop();
    sio_vtd_get_stats(e->vtd, &st1);
    assert_true(st1.iotlb_hits > st0.iotlb_hits || st1.iotlb_misses > st0.iotlb_misses);
    assert_true(st1.inv_iotlb_page + st1.inv_iotlb_domain >= st0.inv_iotlb_page + 2000);
    env_free(e);
}

/* ---- lazy: the stale window is measured and bounded --------------------------------------- */

static void test_lazy_stale_window(void **state)
{
    (void)state;
    struct sio_vtd_drv_options opt = {.fq_entries = 64, .fq_timeout_us = 5000};
    struct env *e = env_new(48, 0, 0, &opt);
    struct sio_domain *dom = sio_vtd_drv_domain_alloc(e->drv);
    sio_vtd_drv_attach(dom, SID);
    /* Entry bound: after each unmap, count how many unmapped pages the device can still use.
     * Never more than 64 (the queue's size) ... and the window really exists (the IOTLB
     * holds translations until the flush) or this test measures nothing. */
    enum { N = 200 };
    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(
            sio_vtd_drv_map(dom, 0x10000000 + i * PG, 0x300000 + i * PG, PG, SIO_WRITE), 0);
        assert_int_equal(dev_write(e, SID, 0x10000000 + i * PG, i), 0);
    }
    unsigned max_stale = 0;
    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(sio_vtd_drv_unmap(dom, 0x10000000 + i * PG, PG), 0);
        unsigned stale = 0;
        for (unsigned j = 0; j <= i; j++) {
            struct sio_xlate x;
            if (sio_vtd_translate(e->vtd, SID, 0x10000000 + j * PG, SIO_WRITE, &x) == 0)
                stale++;
        }
        if (stale > max_stale)
            max_stale = stale;
    }
    printf("lazy window: at most %u stale translations (bound 64)\n", max_stale);
    assert_true(max_stale > 0 && max_stale <= 64);
    struct log_capture lc;
    log_capture_start(&lc);
    sio_vtd_drv_service_faults(e->drv);
    log_capture_stop();
    /* Time bound: one unmap of a cached translation; poll until the device faults. */
    assert_int_equal(sio_vtd_drv_flush(dom), 0); /* empty queue, so the clock starts below */
    assert_int_equal(sio_vtd_drv_map(dom, 0x20000000, 0x400000, PG, SIO_WRITE), 0);
    assert_int_equal(dev_write(e, SID, 0x20000000, 1), 0); /* cached in the IOTLB */
    struct timespec t0, t1;
    assert_int_equal(sio_vtd_drv_unmap(dom, 0x20000000, PG), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double ms = 0;
    int stale_seen = 0;
    for (;;) {
        struct sio_xlate x;
        int fr = sio_vtd_translate(e->vtd, SID, 0x20000000, SIO_WRITE, &x);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
        if (fr)
            break;
        stale_seen = 1;
        if (ms > 2000)
            break;
        usleep(100);
    }
    printf("lazy window: stale for %.2f ms (bound 5 ms + timer period)\n", ms);
    assert_true(stale_seen);
    assert_true(ms >= 4.0 && ms < 100.0);
    log_capture_start(&lc);
    sio_vtd_drv_service_faults(e->drv);
    log_capture_stop();
    env_free(e);
}

/* ---- faults end to end -------------------------------------------------------------------- */

static void test_fault_event_and_log(void **state)
{
    (void)state;
    struct sio_vtd_drv_options opt = {.fault_msi_addr = 0xFEE01000, .fault_msi_data = 0x41};
    struct env *e = env_new(48, 0, 1, &opt);
    struct sio_domain *dom = sio_vtd_drv_domain_alloc(e->drv);
    sio_vtd_drv_attach(dom, SID);
    sio_vtd_drv_map(dom, 0x80000000, 0x5000, PG, SIO_READ);
    unsigned msi0 = e->msi.n;
    assert_int_equal(dev_write(e, SID, 0x80000000, 7), 0x5);
    /* The unit raised the fault event with the MSI the driver programmed. */
    assert_int_equal(e->msi.n, msi0 + 1);
    assert_true(e->msi.addr == 0xFEE01000 && e->msi.data == 0x41);
    struct log_capture lc;
    log_capture_start(&lc);
    assert_int_equal(sio_vtd_drv_service_faults(e->drv), 1);
    log_capture_stop();
    assert_true(log_capture_has(&lc, "DMAR: [DMA Write NO_PASID] Request device [0000:00:02.0] "
                                     "fault addr 0x80000000 [fault reason 0x05] PTE Write access "
                                     "is not set"));
    assert_int_equal(sio_vtd_drv_fault_count(e->drv, SID), 1);
    /* Serviced and cleared: a second fault raises a second event. */
    uint32_t v;
    assert_int_equal(dev_read(e, SID, 0x90000000, &v), 0x6); /* not present: R=0 */
    assert_true(e->msi.n >= msi0 + 2);
    log_capture_start(&lc);
    assert_true(sio_vtd_drv_service_faults(e->drv) >= 1);
    log_capture_stop();
    assert_true(log_capture_has(&lc, "[DMA Read NO_PASID] Request device [0000:00:02.0] fault "
                                     "addr 0x90000000"));
    assert_int_equal(sio_vtd_drv_fault_count(e->drv, SID), 2);
    env_free(e);
}

/* ---- invalidation interface --------------------------------------------------------------- */

static void test_invalidation_interface(void **state)
{
    (void)state;
    struct env *e = env_new(48, SIO_VTD_F_DEFAULT, 1, NULL);
    struct sio_vtd_drv_info info;
    sio_vtd_drv_get_info(e->drv, &info);
    uint64_t ecap = sio_vtd_mmio_read(e->vtd, SIO_VTD_REG_ECAP, 8);
    /* The driver follows the unit: queue when advertised, registers otherwise. */
    assert_int_equal(info.qi, (int)sio_get64(ecap, SIO_VTD_ECAP_QI));
    struct sio_domain *dom = sio_vtd_drv_domain_alloc(e->drv);
    sio_vtd_drv_attach(dom, SID);
    struct sio_vtd_stats st0, st1;
    sio_vtd_get_stats(e->vtd, &st0);
    sio_vtd_drv_map(dom, 0x10000, 0x10000, PG, SIO_READ);
    sio_vtd_drv_unmap(dom, 0x10000, PG);
    sio_vtd_get_stats(e->vtd, &st1);
    assert_int_equal(st1.inv_iotlb_page, st0.inv_iotlb_page + 1);
    assert_int_equal(st1.inv_rejected, 0);
    if (!info.qi)
        printf("note: the model does not advertise ECAP.QI yet; register invalidation tested, "
               "queued invalidation only against the fake unit (test_vtd_drv)\n");
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_config_strict), cmocka_unit_test(test_every_config_lazy),
        cmocka_unit_test(test_strict_no_window),    cmocka_unit_test(test_lazy_stale_window),
        cmocka_unit_test(test_fault_event_and_log), cmocka_unit_test(test_invalidation_interface),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* VT-d model: the caches (VT-d 7) and their invalidation (VT-d 5). Every granularity is
 * shown stale before (a cached translation stays in use after memory changed) and fresh
 * after (the right invalidation makes the new table contents visible). */
#include "test_vtd_tables.h"

#define SA  0x0010 /* 00:02.0 */
#define SA1 0x0011 /* 00:02.1 */
#define SB  0x0018 /* 00:03.0 */

struct dom {
    uint64_t top;
    unsigned did;
};

static struct dom new_dom(struct vt *t, unsigned did)
{
    struct dom d = {vt_page(t), did};
    return d;
}

static void attach(struct vt *t, uint16_t sid, struct dom d)
{
    vt_ctx_entry(t, sid, ctx_lo(d.top, 0, 0), ctx_hi(2, d.did));
}

static void start(struct vt *t, const struct sio_vtd_config *cfg)
{
    vt_init(t, cfg);
    t->root = vt_page(t);
}

/* ---- context cache ----------------------------------------------------------------------- */

/* Each device starts on domain "old" (0x2000 unmapped) and is moved to "new" (0x2000
 * mapped): while its context entry is cached, 0x2000 still faults. The IOTLB is keyed by
 * source-id, so pages a device already translated keep their IOTLB entries until an IOTLB
 * invalidation (software must issue one after a context-cache flush, VT-d 5): the context
 * cache is observed through pages that miss the IOTLB. */
static void test_context_invalidation_granularities(void **state)
{
    (void)state;
    struct vt t;
    start(&t, NULL);
    struct dom old = new_dom(&t, 1), nw = new_dom(&t, 2), other = new_dom(&t, 3);
    vt_map(&t, old.top, 4, 0x1000, 0x11000, 1, 3);
    vt_map(&t, nw.top, 4, 0x1000, 0x21000, 1, 3);
    vt_map(&t, nw.top, 4, 0x2000, 0x22000, 1, 3);
    vt_map(&t, other.top, 4, 0x1000, 0x31000, 1, 3);
    for (uint64_t p = 0x3000; p <= 0x5000; p += 0x1000) {
        vt_map(&t, old.top, 4, p, 0x10000 + p, 1, 3);
        vt_map(&t, nw.top, 4, p, 0x20000 + p, 1, 3);
    }
    attach(&t, SA, old);
    attach(&t, SA1, old);
    attach(&t, SB, other);
    vt_linux_bringup(&t);
    for (uint16_t sid = SA; sid <= SA1; sid++)
        expect_xlate(&t, sid, 0x1000, SIO_READ, 0, 0x11000);
    expect_xlate(&t, SB, 0x1000, SIO_READ, 0, 0x31000);
    attach(&t, SA, nw);
    attach(&t, SA1, nw);
    attach(&t, SB, nw);
    /* Stale: cached context entries still name the old domains. */
    expect_xlate(&t, SA, 0x2000, SIO_READ, 0x6, 0);
    expect_xlate(&t, SA1, 0x2000, SIO_READ, 0x6, 0);
    expect_xlate(&t, SB, 0x2000, SIO_READ, 0x6, 0);
    /* Device-selective, SA only (FM 00). */
    assert_int_equal(vt_ccmd(&t, CCMD_DEVICE | ((uint64_t)SA << 16) | 1), 3);
    expect_xlate(&t, SA, 0x2000, SIO_READ, 0, 0x22000);
    expect_xlate(&t, SA1, 0x2000, SIO_READ, 0x6, 0);
    /* Domain-selective for DID 3: SB's entry goes, SA1 (DID 1) stays stale. */
    assert_int_equal(vt_ccmd(&t, CCMD_DOMAIN | 3), 2);
    expect_xlate(&t, SB, 0x2000, SIO_READ, 0, 0x22000);
    expect_xlate(&t, SA1, 0x2000, SIO_READ, 0x6, 0);
    /* Device-selective with FM 11 (SID bits 2:0 masked) on function 0 reaches function 1. */
    assert_int_equal(vt_ccmd(&t, CCMD_DEVICE | (3ULL << 32) | ((uint64_t)SA << 16) | 1), 3);
    expect_xlate(&t, SA1, 0x2000, SIO_READ, 0, 0x22000);
    /* Global: SA (its DID 2 context cached again) goes back to "old"; the cached context is
     * used until flushed. */
    expect_xlate(&t, SA, 0x5000, SIO_READ, 0, 0x25000);
    attach(&t, SA, old);
    expect_xlate(&t, SA, 0x3000, SIO_READ, 0, 0x23000);
    assert_int_equal(vt_ccmd(&t, CCMD_GLOBAL), 1);
    expect_xlate(&t, SA, 0x4000, SIO_READ, 0, 0x14000);
    /* Pages SA already translated stay in the IOTLB until it is flushed, as the spec lets
     * hardware do; Linux's sequence (context flush, then the old domain's IOTLB) ends it. */
    expect_xlate(&t, SA, 0x3000, SIO_READ, 0, 0x23000);
    assert_int_equal(vt_iotlb(&t, 0, IOTLB_DOMAIN | (2ULL << 32)), 2);
    expect_xlate(&t, SA, 0x3000, SIO_READ, 0, 0x13000);
    vt_fini(&t);
}

/* ---- IOTLB --------------------------------------------------------------------------------- */

static void test_iotlb_global_and_domain(void **state)
{
    (void)state;
    struct vt t;
    start(&t, NULL);
    struct dom d1 = new_dom(&t, 1), d3 = new_dom(&t, 3);
    uint64_t pa = vt_map(&t, d1.top, 4, 0x1000, 0x11000, 1, 3);
    uint64_t pb = vt_map(&t, d3.top, 4, 0x1000, 0x31000, 1, 3);
    attach(&t, SA, d1);
    attach(&t, SB, d3);
    vt_linux_bringup(&t);
    expect_xlate(&t, SA, 0x1000, SIO_WRITE, 0, 0x11000);
    expect_xlate(&t, SB, 0x1000, SIO_WRITE, 0, 0x31000);
    vt_w64(&t, pa, 0x12000 | 3);
    vt_w64(&t, pb, 0x32000 | 3);
    expect_xlate(&t, SA, 0x1000, SIO_WRITE, 0, 0x11000); /* stale */
    expect_xlate(&t, SB, 0x1000, SIO_WRITE, 0, 0x31000);
    assert_int_equal(vt_iotlb(&t, 0, IOTLB_DOMAIN | (1ULL << 32)), 2);
    expect_xlate(&t, SA, 0x1000, SIO_WRITE, 0, 0x12000); /* fresh */
    expect_xlate(&t, SB, 0x1000, SIO_WRITE, 0, 0x31000); /* other domain still stale */
    assert_int_equal(vt_iotlb(&t, 0, IOTLB_GLOBAL), 1);
    expect_xlate(&t, SB, 0x1000, SIO_WRITE, 0, 0x32000);
    /* Removing a mapping is also invisible until invalidated. */
    expect_xlate(&t, SA, 0x1000, SIO_READ, 0, 0x12000);
    vt_w64(&t, pa, 0);
    expect_xlate(&t, SA, 0x1000, SIO_READ, 0, 0x12000);
    assert_int_equal(vt_iotlb(&t, 0, IOTLB_DOMAIN | (1ULL << 32)), 2);
    expect_xlate(&t, SA, 0x1000, SIO_READ, 0x6, 0);
    vt_fini(&t);
}

static void test_iotlb_page_selective(void **state)
{
    (void)state;
    struct vt t;
    start(&t, NULL);
    struct dom d = new_dom(&t, 1);
    uint64_t e[4];
    for (unsigned i = 0; i < 4; i++)
        e[i] = vt_map(&t, d.top, 4, 0x10000 + 0x1000 * i, 0x100000 * (i + 1), 1, 3);
    attach(&t, SA, d);
    vt_linux_bringup(&t);
    for (unsigned i = 0; i < 4; i++)
        expect_xlate(&t, SA, 0x10000 + 0x1000 * i, SIO_READ, 0, 0x100000 * (i + 1));
    for (unsigned i = 0; i < 4; i++)
        vt_w64(&t, e[i], (0x1000000 + 0x100000 * i) | 3);
    /* AM 0 at 0x11000: that page only. */
    assert_int_equal(vt_iotlb(&t, 0x11000, IOTLB_PAGE | (1ULL << 32)), 3);
    expect_xlate(&t, SA, 0x10000, SIO_READ, 0, 0x100000);
    expect_xlate(&t, SA, 0x11000, SIO_READ, 0, 0x1100000);
    expect_xlate(&t, SA, 0x12000, SIO_READ, 0, 0x300000);
    /* A PSI for another domain changes nothing here. */
    assert_int_equal(vt_iotlb(&t, 0x10000 | 2, IOTLB_PAGE | (2ULL << 32)), 3);
    expect_xlate(&t, SA, 0x10000, SIO_READ, 0, 0x100000);
    /* AM 1 with a misaligned address: the aligned 2-page block 0x12000-0x13fff. */
    assert_int_equal(vt_iotlb(&t, 0x13000 | 1, IOTLB_PAGE | (1ULL << 32)), 3);
    expect_xlate(&t, SA, 0x12000, SIO_READ, 0, 0x1200000);
    expect_xlate(&t, SA, 0x13000, SIO_READ, 0, 0x1300000);
    expect_xlate(&t, SA, 0x10000, SIO_READ, 0, 0x100000);
    /* AM 2 at 0x10000 covers the rest. */
    assert_int_equal(vt_iotlb(&t, 0x10000 | 2, IOTLB_PAGE | (1ULL << 32)), 3);
    expect_xlate(&t, SA, 0x10000, SIO_READ, 0, 0x1000000);
    vt_fini(&t);
}

static void test_psi_superpage_is_one_entry(void **state)
{
    (void)state;
    struct vt t;
    start(&t, NULL);
    struct dom d = new_dom(&t, 1);
    uint64_t pde = vt_map(&t, d.top, 4, 0x200000, 0x40000000, 2, 3);
    attach(&t, SA, d);
    vt_linux_bringup(&t);
    /* Every page of the 2M mapping hits one IOTLB entry after the first walk. */
    struct sio_vtd_stats s0, s1;
    expect_xlate(&t, SA, 0x200000, SIO_READ, 0, 0x40000000);
    sio_vtd_get_stats(t.u, &s0);
    for (unsigned i = 0; i < 512; i++)
        expect_xlate(&t, SA, 0x200000 + 0x1000 * i + 5, SIO_READ, 0, 0x40000000 + 0x1000 * i + 5);
    sio_vtd_get_stats(t.u, &s1);
    assert_int_equal(s1.walks, s0.walks);
    assert_int_equal(s1.iotlb_hits - s0.iotlb_hits, 512);
    /* A PSI of one 4K page inside it drops the whole 2M entry. */
    vt_w64(&t, pde, 0x80000000 | 0x80 | 3);
    expect_xlate(&t, SA, 0x3ff000, SIO_READ, 0, 0x401ff000);
    assert_int_equal(vt_iotlb(&t, 0x345000, IOTLB_PAGE | (1ULL << 32)), 3);
    expect_xlate(&t, SA, 0x3ff000, SIO_READ, 0, 0x801ff000);
    vt_fini(&t);
}

/* IH=1 says only leaves changed: cached paging-structure entries may stay. */
static void test_psi_ih_keeps_paging_structures(void **state)
{
    (void)state;
    struct vt t;
    start(&t, NULL);
    struct dom d = new_dom(&t, 1);
    vt_map(&t, d.top, 4, 0x1000, 0x11000, 1, 3);
    attach(&t, SA, d);
    vt_linux_bringup(&t);
    expect_xlate(&t, SA, 0x1000, SIO_READ, 0, 0x11000);
    /* Point the PDE at a new page table mapping 0x1000 elsewhere (a non-leaf change). */
    uint64_t pt = vt_page(&t);
    vt_w64(&t, pt + 8, 0x77000 | 3);
    uint64_t pde = vt_entry_addr(&t, d.top, 4, 0x1000, 2);
    vt_w64(&t, pde, pt | 3);
    assert_int_equal(vt_iotlb(&t, 0x1000 | (1 << 6), IOTLB_PAGE | (1ULL << 32)), 3); /* IH */
    expect_xlate(&t, SA, 0x1000, SIO_READ, 0, 0x11000); /* the cached PDE is still used */
    assert_int_equal(vt_iotlb(&t, 0x1000, IOTLB_PAGE | (1ULL << 32)), 3);
    expect_xlate(&t, SA, 0x1000, SIO_READ, 0, 0x77000);
    struct sio_vtd_stats s;
    sio_vtd_get_stats(t.u, &s);
    assert_true(s.psc_hits >= 1);
    vt_fini(&t);
}

/* ---- caching mode ------------------------------------------------------------------------ */

static void test_cm0_never_caches_faults(void **state)
{
    (void)state;
    struct vt t;
    start(&t, NULL);
    struct dom d = new_dom(&t, 1);
    attach(&t, SA, d);
    vt_linux_bringup(&t);
    /* Not present -> present needs no invalidation with CM=0 (VT-d 7). */
    expect_xlate(&t, SA, 0x5000, SIO_WRITE, 0x5, 0);
    vt_map(&t, d.top, 4, 0x5000, 0x55000, 1, 1);
    expect_xlate(&t, SA, 0x5000, SIO_READ, 0, 0x55000);
    /* A write to the read-only page faults... and after W is added, works at once. */
    expect_xlate(&t, SA, 0x5000, SIO_WRITE, 0x5, 0);
    vt_map(&t, d.top, 4, 0x5000, 0x55000, 1, 3);
    expect_xlate(&t, SA, 0x5000, SIO_WRITE, 0, 0x55000);
    /* A not-present context entry is not cached either. */
    expect_xlate(&t, SB, 0x5000, SIO_READ, 0x2, 0);
    attach(&t, SB, d);
    expect_xlate(&t, SB, 0x5000, SIO_READ, 0, 0x55000);
    vt_fini(&t);
}

static void test_cm1_caches_not_present(void **state)
{
    (void)state;
    struct vt t;
    struct sio_vtd_config c = {.features = SIO_VTD_F_DEFAULT | SIO_VTD_F_CM};
    start(&t, &c);
    struct dom d = new_dom(&t, 1);
    attach(&t, SA, d);
    vt_linux_bringup(&t);
    expect_xlate(&t, SA, 0x5000, SIO_READ, 0x6, 0);
    vt_map(&t, d.top, 4, 0x5000, 0x55000, 1, 3);
    expect_xlate(&t, SA, 0x5000, SIO_READ, 0x6, 0); /* the cached not-present entry */
    /* The fault from the cache is still recorded like any other. */
    uint64_t hi, lo;
    vt_frcd(&t, 1, &hi, &lo);
    assert_int_equal(hi, frcd_hi(SA, 6, 1));
    assert_int_equal(vt_iotlb(&t, 0x5000, IOTLB_PAGE | (1ULL << 32)), 3);
    expect_xlate(&t, SA, 0x5000, SIO_READ, 0, 0x55000);
    /* Not-present context entry: Linux under CM=1 flushes the device with DID 0. */
    expect_xlate(&t, SB, 0x5000, SIO_READ, 0x2, 0);
    attach(&t, SB, d);
    expect_xlate(&t, SB, 0x5000, SIO_READ, 0x2, 0);
    assert_int_equal(vt_ccmd(&t, CCMD_DEVICE | ((uint64_t)SB << 16) | 0), 3);
    expect_xlate(&t, SB, 0x5000, SIO_READ, 0, 0x55000);
    /* CM=1: raised permissions need invalidation too. */
    vt_map(&t, d.top, 4, 0x6000, 0x66000, 1, 1);
    assert_int_equal(vt_iotlb(&t, 0x6000, IOTLB_PAGE | (1ULL << 32)), 3);
    expect_xlate(&t, SA, 0x6000, SIO_WRITE, 0x5, 0);
    vt_map(&t, d.top, 4, 0x6000, 0x66000, 1, 3);
    expect_xlate(&t, SA, 0x6000, SIO_WRITE, 0x5, 0);
    assert_int_equal(vt_iotlb(&t, 0x6000, IOTLB_PAGE | (1ULL << 32)), 3);
    expect_xlate(&t, SA, 0x6000, SIO_WRITE, 0, 0x66000);
    vt_fini(&t);
}

/* ---- bounded size, replacement, counters ------------------------------------------------- */

static void test_bounded_with_replacement(void **state)
{
    (void)state;
    struct vt t;
    struct sio_vtd_config c = {.iotlb_entries = 6, .ctx_entries = 2, .psc_entries = 3};
    start(&t, &c);
    struct dom d = new_dom(&t, 1);
    for (unsigned i = 0; i < 100; i++)
        vt_map(&t, d.top, 4, 0x100000ULL * i, 0x10000000 + 0x1000ULL * i, 1, 3);
    attach(&t, SA, d);
    attach(&t, SA1, d);
    attach(&t, SB, d);
    vt_linux_bringup(&t);
    struct sio_vtd_stats s;
    sio_vtd_get_stats(t.u, &s);
    assert_int_equal(s.iotlb_capacity, 6);
    assert_int_equal(s.ctx_capacity, 2);
    assert_int_equal(s.psc_capacity, 3);
    for (unsigned i = 0; i < 100; i++)
        expect_xlate(&t, SA, 0x100000ULL * i, SIO_READ, 0, 0x10000000 + 0x1000ULL * i);
    sio_vtd_get_stats(t.u, &s);
    assert_int_equal(s.iotlb_misses, 100);
    assert_int_equal(s.iotlb_evictions, 100 - 6);
    /* Full, yet the newest entry is still there: one entry was replaced at a time. */
    uint64_t hits = s.iotlb_hits;
    expect_xlate(&t, SA, 0x100000ULL * 99, SIO_READ, 0, 0x10000000 + 0x1000ULL * 99);
    sio_vtd_get_stats(t.u, &s);
    assert_int_equal(s.iotlb_hits, hits + 1);
    /* The oldest is gone: walked again. */
    expect_xlate(&t, SA, 0, SIO_READ, 0, 0x10000000);
    sio_vtd_get_stats(t.u, &s);
    assert_int_equal(s.iotlb_misses, 101);
    /* Three devices through a 2-entry context cache: evictions, and all still translate. */
    expect_xlate(&t, SA1, 0x100000, SIO_READ, 0, 0x10001000);
    expect_xlate(&t, SB, 0x200000, SIO_READ, 0, 0x10002000);
    sio_vtd_get_stats(t.u, &s);
    assert_true(s.ctx_evictions >= 1);
    assert_true(s.psc_evictions >= 1);
    vt_fini(&t);
}

static void test_counters(void **state)
{
    (void)state;
    struct vt t;
    start(&t, NULL);
    struct dom d = new_dom(&t, 1);
    vt_map(&t, d.top, 4, 0x1000, 0x11000, 1, 3);
    vt_map(&t, d.top, 4, 0x2000, 0x12000, 1, 3);
    attach(&t, SA, d);
    vt_ctx_entry(&t, SB, ctx_lo(0, 2, 0), ctx_hi(2, 9)); /* pass-through */
    vt_linux_bringup(&t);
    expect_xlate(&t, SA, 0x1000, SIO_READ, 0, 0x11000); /* ctx miss, IOTLB miss, full walk */
    expect_xlate(&t, SA, 0x1000, SIO_READ, 0, 0x11000); /* IOTLB hit */
    expect_xlate(&t, SA, 0x2000, SIO_READ, 0, 0x12000); /* ctx hit, IOTLB miss, PDE cached */
    expect_xlate(&t, SA, 0x3000, SIO_READ, 0x6, 0);     /* another walk, faults */
    expect_xlate(&t, SB, 0x3000, SIO_READ, 0, 0x3000);  /* ctx miss, pass-through */
    expect_xlate(&t, SB, 0x4000, SIO_READ, 0, 0x4000);  /* ctx hit, pass-through */
    struct sio_vtd_stats s;
    sio_vtd_get_stats(t.u, &s);
    assert_int_equal(s.translations, 6);
    assert_int_equal(s.iotlb_hits, 1);
    assert_int_equal(s.iotlb_misses, 3);
    assert_int_equal(s.ctx_hits, 3); /* the IOTLB hit needed no context lookup */
    assert_int_equal(s.ctx_misses, 2);
    assert_int_equal(s.walks, 3);
    assert_int_equal(s.psc_misses, 1);
    assert_int_equal(s.psc_hits, 2);
    assert_int_equal(s.passthrough, 2);
    assert_int_equal(s.faults, 1);
    assert_int_equal(s.faults_recorded, 1);
    assert_int_equal(s.inv_ctx_global, 1);
    assert_int_equal(s.inv_iotlb_global, 1);
    /* TE off: pass-through, counted. */
    wr32(&t, R_GCMD, 0);
    expect_xlate(&t, SA, 0x1000, SIO_READ, 0, 0x1000);
    sio_vtd_get_stats(t.u, &s);
    assert_int_equal(s.translations, 7);
    assert_int_equal(s.passthrough, 3);
    vt_fini(&t);
}

static void test_caches_off(void **state)
{
    (void)state;
    struct vt t;
    struct sio_vtd_config c = {.iotlb_entries = SIO_VTD_CACHE_OFF,
                               .ctx_entries = SIO_VTD_CACHE_OFF,
                               .psc_entries = SIO_VTD_CACHE_OFF};
    start(&t, &c);
    struct dom d = new_dom(&t, 1);
    uint64_t e = vt_map(&t, d.top, 4, 0x1000, 0x11000, 1, 3);
    attach(&t, SA, d);
    vt_linux_bringup(&t);
    expect_xlate(&t, SA, 0x1000, SIO_READ, 0, 0x11000);
    vt_w64(&t, e, 0x12000 | 3);
    expect_xlate(&t, SA, 0x1000, SIO_READ, 0, 0x12000); /* nothing cached: seen at once */
    struct sio_vtd_stats s;
    sio_vtd_get_stats(t.u, &s);
    assert_int_equal(s.iotlb_capacity, 0);
    assert_int_equal(s.walks, 2);
    assert_int_equal(s.ctx_misses, 2);
    vt_fini(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_context_invalidation_granularities),
        cmocka_unit_test(test_iotlb_global_and_domain),
        cmocka_unit_test(test_iotlb_page_selective),
        cmocka_unit_test(test_psi_superpage_is_one_entry),
        cmocka_unit_test(test_psi_ih_keeps_paging_structures),
        cmocka_unit_test(test_cm0_never_caches_faults),
        cmocka_unit_test(test_cm1_caches_not_present),
        cmocka_unit_test(test_bounded_with_replacement),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_caches_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* VT-d model: page-selective IOTLB invalidation when the IOTLB is keyed by source-id (VT-d 5,
 * 7). A PSI names a domain-id; the model finds that domain's entries through the source-ids
 * that filled them, or by scanning the cache when it cannot say. Each case shows the
 * translation stale before the invalidation and fresh after, for every device involved, and
 * untouched for devices of other domains. */
#include "test_vtd_tables.h"

#include <softiommu/pci.h>

static void start(struct vt *t)
{
    vt_init(t, NULL);
    t->root = vt_page(t);
}

static void attach(struct vt *t, uint16_t sid, uint64_t top, unsigned did)
{
    vt_ctx_entry(t, sid, ctx_lo(top, 0, 0), ctx_hi(2, did));
}

static uint64_t psi(struct vt *t, unsigned did, uint64_t addr, unsigned am)
{
    return vt_iotlb(t, addr | am, IOTLB_PAGE | ((uint64_t)did << 32));
}

/* Six devices in one domain: more than the map keeps per domain-id, so the model scans. */
static void test_psi_domain_with_many_devices(void **state)
{
    (void)state;
    struct vt t;
    start(&t);
    uint64_t top = vt_page(&t), other = vt_page(&t);
    uint64_t pte = vt_map(&t, top, 4, 0x1000, 0x100000, 1, 3);
    vt_map(&t, other, 4, 0x1000, 0x900000, 1, 3);
    for (unsigned f = 0; f < 6; f++)
        attach(&t, sio_sid(1, 0, f), top, 5);
    attach(&t, sio_sid(2, 0, 0), other, 6);
    vt_linux_bringup(&t);
    for (unsigned f = 0; f < 6; f++)
        expect_xlate(&t, sio_sid(1, 0, f), 0x1000, SIO_READ, 0, 0x100000);
    expect_xlate(&t, sio_sid(2, 0, 0), 0x1000, SIO_READ, 0, 0x900000);
    vt_w64(&t, pte, 0x200000 | 3);
    for (unsigned f = 0; f < 6; f++)
        expect_xlate(&t, sio_sid(1, 0, f), 0x1000, SIO_READ, 0, 0x100000); /* stale */
    assert_int_equal(psi(&t, 5, 0x1000, 0), 3);
    for (unsigned f = 0; f < 6; f++)
        expect_xlate(&t, sio_sid(1, 0, f), 0x1000, SIO_READ, 0, 0x200000); /* fresh */
    /* The other domain's entry was not touched (its memory changed too, still stale). */
    vt_w64(&t, vt_entry_addr(&t, other, 4, 0x1000, 1), 0xa00000 | 3);
    expect_xlate(&t, sio_sid(2, 0, 0), 0x1000, SIO_READ, 0, 0x900000);
    vt_fini(&t);
}

/* Domain-ids 1 and 257 share a slot of the model's map: each PSI still reaches exactly its
 * own domain's entries. */
static void test_psi_domains_sharing_a_slot(void **state)
{
    (void)state;
    struct vt t;
    start(&t);
    uint64_t a = vt_page(&t), b = vt_page(&t);
    uint64_t pa = vt_map(&t, a, 4, 0x5000, 0x110000, 1, 3);
    uint64_t pb = vt_map(&t, b, 4, 0x5000, 0x120000, 1, 3);
    const uint16_t sa = sio_sid(0, 4, 0), sb = sio_sid(0, 5, 0);
    attach(&t, sa, a, 1);
    attach(&t, sb, b, 257);
    vt_linux_bringup(&t);
    expect_xlate(&t, sa, 0x5000, SIO_WRITE, 0, 0x110000);
    expect_xlate(&t, sb, 0x5000, SIO_WRITE, 0, 0x120000);
    vt_w64(&t, pa, 0x210000 | 3);
    vt_w64(&t, pb, 0x220000 | 3);
    assert_int_equal(psi(&t, 1, 0x5000, 0), 3);
    expect_xlate(&t, sa, 0x5000, SIO_WRITE, 0, 0x210000);
    expect_xlate(&t, sb, 0x5000, SIO_WRITE, 0, 0x120000); /* DID 257: still stale */
    assert_int_equal(psi(&t, 257, 0x5000, 0), 3);
    expect_xlate(&t, sb, 0x5000, SIO_WRITE, 0, 0x220000);
    vt_fini(&t);
}

/* After a global invalidation the model forgets which devices a domain had; translations
 * cached afterwards must still be found by a PSI. */
static void test_psi_after_global_flush(void **state)
{
    (void)state;
    struct vt t;
    start(&t);
    uint64_t top = vt_page(&t);
    uint64_t pte = vt_map(&t, top, 4, 0x7000, 0x130000, 1, 3);
    const uint16_t s = sio_sid(3, 1, 0);
    attach(&t, s, top, 9);
    vt_linux_bringup(&t);
    expect_xlate(&t, s, 0x7000, SIO_READ, 0, 0x130000);
    assert_int_equal(vt_iotlb(&t, 0, IOTLB_GLOBAL), 1);
    expect_xlate(&t, s, 0x7000, SIO_READ, 0, 0x130000); /* cached again */
    vt_w64(&t, pte, 0x230000 | 3);
    expect_xlate(&t, s, 0x7000, SIO_READ, 0, 0x130000);
    assert_int_equal(psi(&t, 9, 0x7000, 0), 3);
    expect_xlate(&t, s, 0x7000, SIO_READ, 0, 0x230000);
    vt_fini(&t);
}

/* A block of 2^9 pages (AM = 9) with entries spread over it, and a 2 MiB superpage entry of
 * the same domain covering part of a block: everything inside goes, nothing outside. */
static void test_psi_large_block(void **state)
{
    (void)state;
    struct vt t;
    start(&t);
    uint64_t top = vt_page(&t);
    uint64_t pte[8];
    const uint16_t s = sio_sid(0, 6, 0);
    for (unsigned i = 0; i < 8; i++)
        pte[i] = vt_map(&t, top, 4, 0x400000 + 0x40000ULL * i, 0x1000000 + 0x1000ULL * i, 1, 3);
    uint64_t outside = vt_map(&t, top, 4, 0x600000, 0x1800000, 1, 3);
    uint64_t pde = vt_map(&t, top, 4, 0x800000, 0x40000000, 2, 3);
    attach(&t, s, top, 4);
    vt_linux_bringup(&t);
    for (unsigned i = 0; i < 8; i++)
        expect_xlate(&t, s, 0x400000 + 0x40000ULL * i, SIO_READ, 0, 0x1000000 + 0x1000ULL * i);
    expect_xlate(&t, s, 0x600000, SIO_READ, 0, 0x1800000);
    expect_xlate(&t, s, 0x9ff000, SIO_READ, 0, 0x401ff000);
    for (unsigned i = 0; i < 8; i++)
        vt_w64(&t, pte[i], (0x2000000 + 0x1000ULL * i) | 3);
    vt_w64(&t, outside, 0x2800000 | 3);
    vt_w64(&t, pde, 0x80000000 | 0x80 | 3);
    /* 0x400000 with AM 9: the 2 MiB block 0x400000-0x5fffff. */
    assert_int_equal(psi(&t, 4, 0x400000, 9), 3);
    for (unsigned i = 0; i < 8; i++)
        expect_xlate(&t, s, 0x400000 + 0x40000ULL * i, SIO_READ, 0, 0x2000000 + 0x1000ULL * i);
    expect_xlate(&t, s, 0x600000, SIO_READ, 0, 0x1800000);  /* outside: stale */
    expect_xlate(&t, s, 0x9ff000, SIO_READ, 0, 0x401ff000); /* superpage outside: stale */
    /* One 4 KiB page inside the superpage takes the whole 2 MiB entry. */
    assert_int_equal(psi(&t, 4, 0x812000, 0), 3);
    expect_xlate(&t, s, 0x9ff000, SIO_READ, 0, 0x801ff000);
    vt_fini(&t);
}

/* A domain-selective request for a domain with nothing cached completes (IAIG = domain) and
 * leaves the other domains' entries alone. */
static void test_dsi_of_an_empty_domain(void **state)
{
    (void)state;
    struct vt t;
    start(&t);
    uint64_t top = vt_page(&t);
    uint64_t pte = vt_map(&t, top, 4, 0x3000, 0x140000, 1, 3);
    const uint16_t s = sio_sid(0, 7, 0);
    attach(&t, s, top, 2);
    vt_linux_bringup(&t);
    expect_xlate(&t, s, 0x3000, SIO_READ, 0, 0x140000);
    vt_w64(&t, pte, 0x240000 | 3);
    assert_int_equal(vt_iotlb(&t, 0, IOTLB_DOMAIN | (77ULL << 32)), 2);
    expect_xlate(&t, s, 0x3000, SIO_READ, 0, 0x140000);
    assert_int_equal(vt_iotlb(&t, 0, IOTLB_DOMAIN | (2ULL << 32)), 2);
    expect_xlate(&t, s, 0x3000, SIO_READ, 0, 0x240000);
    vt_fini(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_psi_domain_with_many_devices),
        cmocka_unit_test(test_psi_domains_sharing_a_slot),
        cmocka_unit_test(test_psi_after_global_flush),
        cmocka_unit_test(test_psi_large_block),
        cmocka_unit_test(test_dsi_of_an_empty_domain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

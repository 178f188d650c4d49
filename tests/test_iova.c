/* IOVA allocator: placement, alignment, limits, coalescing, magazines, errors, and a
 * randomised cross-check against a page bitmap. Expected addresses are worked out by hand
 * from the contract (power-of-two sizes, natural alignment, highest fit below the limit). */
#include "test_util.h"

#include <softiommu/err.h>
#include <softiommu/iova.h>

#include <stdlib.h>
#include <string.h>

#define PG 0x1000ULL

static void test_top_down_aligned(void **state)
{
    (void)state;
    struct sio_iova *a = sio_iova_create(PG, 1ULL << 32);
    assert_non_null(a);
    uint64_t v;
    /* One page: the highest page below 4 GiB. */
    assert_int_equal(sio_iova_alloc(a, PG, 0xFFFFFFFF, &v), 0);
    assert_true(v == 0xFFFFF000);
    assert_int_equal(sio_iova_alloc(a, 100, 0xFFFFFFFF, &v), 0); /* 100 bytes: one page */
    assert_true(v == 0xFFFFE000);
    /* Two pages, 8 KiB aligned: 0xFFFFC000. */
    assert_int_equal(sio_iova_alloc(a, 2 * PG, 0xFFFFFFFF, &v), 0);
    assert_true(v == 0xFFFFC000);
    /* Three pages round up to four, 16 KiB aligned: 0xFFFF8000. */
    assert_int_equal(sio_iova_alloc(a, 3 * PG, 0xFFFFFFFF, &v), 0);
    assert_true(v == 0xFFFF8000);
    /* A lower limit: highest page at or below 0x0FFFFFFF. */
    assert_int_equal(sio_iova_alloc(a, PG, 0x0FFFFFFF, &v), 0);
    assert_true(v == 0x0FFFF000);
    /* A limit inside a page: that page would end past it, so the next one down (0x0FFFF000
     * is taken already). */
    assert_int_equal(sio_iova_alloc(a, PG, 0x10000800, &v), 0);
    assert_true(v == 0x0FFFE000);
    sio_iova_destroy(a);
}

static void test_alignment_holes(void **state)
{
    (void)state;
    /* Pages 1..8. An aligned 4-page block fits only at pages 4..7. */
    struct sio_iova *a = sio_iova_create(PG, 9 * PG);
    uint64_t v;
    assert_int_equal(sio_iova_alloc(a, 4 * PG, UINT64_MAX, &v), 0);
    assert_true(v == 4 * PG);
    /* Left free: 1, 2, 3, 8. No aligned 4-block remains. */
    assert_int_equal(sio_iova_alloc(a, 4 * PG, UINT64_MAX, &v), SIO_ENOSPC);
    /* Two pages: aligned pair 2..3. */
    assert_int_equal(sio_iova_alloc(a, 2 * PG, UINT64_MAX, &v), 0);
    assert_true(v == 2 * PG);
    /* Singles: highest first, 8 then 1. */
    assert_int_equal(sio_iova_alloc(a, PG, UINT64_MAX, &v), 0);
    assert_true(v == 8 * PG);
    assert_int_equal(sio_iova_alloc(a, PG, UINT64_MAX, &v), 0);
    assert_true(v == 1 * PG);
    assert_int_equal(sio_iova_alloc(a, PG, UINT64_MAX, &v), SIO_ENOSPC);
    sio_iova_destroy(a);
}

static void test_mask_and_errors(void **state)
{
    (void)state;
    /* A space entirely above 4 GiB cannot serve a 32-bit device at all. */
    struct sio_iova *a = sio_iova_create(1ULL << 32, 1ULL << 40);
    uint64_t v;
    assert_int_equal(sio_iova_alloc(a, PG, 0xFFFFFFFF, &v), SIO_EMASK);
    assert_int_equal(sio_iova_alloc(a, 0, UINT64_MAX, &v), SIO_EINVAL);
    /* Frees outside the space or misaligned for their size. */
    assert_int_equal(sio_iova_free(a, 0x1000, PG), SIO_EINVAL);
    assert_int_equal(sio_iova_free(a, (1ULL << 32) + PG, 2 * PG), SIO_EINVAL);
    assert_int_equal(sio_iova_free(a, (1ULL << 32) + 0x10, PG), SIO_EINVAL);
    assert_int_equal(sio_iova_free(a, 1ULL << 40, PG), SIO_EINVAL);
    sio_iova_destroy(a);
    /* Bad spaces. */
    assert_null(sio_iova_create(0x1000, 0x1000));
    assert_null(sio_iova_create(0x1001, 0x3000));
    assert_null(sio_iova_create(0, (1ULL << 63) + PG));
}

static void test_double_free_tree(void **state)
{
    (void)state;
    struct sio_iova *a = sio_iova_create(0, 1ULL << 30);
    uint64_t v, w;
    /* 64 pages: above the cached size classes, so frees go straight to the tree. */
    assert_int_equal(sio_iova_alloc(a, 64 * PG, UINT64_MAX, &v), 0);
    assert_true(v == (1ULL << 30) - 64 * PG);
    assert_int_equal(sio_iova_alloc(a, 64 * PG, UINT64_MAX, &w), 0);
    assert_true(w == (1ULL << 30) - 128 * PG);
    assert_int_equal(sio_iova_free(a, v, 64 * PG), 0);
    assert_int_equal(sio_iova_free(a, v, 64 * PG), SIO_EDOUBLE);
    /* A range overlapping free space partly ([w, w+128 pages) holds live w and free v) is
     * also caught. */
    assert_int_equal(sio_iova_free(a, w, 128 * PG), SIO_EDOUBLE);
    assert_int_equal(sio_iova_free(a, w, 64 * PG), 0);
    struct sio_iova_stats st;
    sio_iova_get_stats(a, &st);
    assert_int_equal(st.free_ranges, 1); /* coalesced back into one range */
    assert_int_equal(st.pages_in_use, 0);
    sio_iova_destroy(a);
}

static void test_reserve(void **state)
{
    (void)state;
    struct sio_iova *a = sio_iova_create(PG, 1ULL << 32);
    assert_int_equal(sio_iova_reserve(a, 0xFEE00000, 0xFEF00000), 0);
    uint64_t v;
    /* Below the interrupt window's end: the highest page is just under the window. */
    assert_int_equal(sio_iova_alloc(a, PG, 0xFEEFFFFF, &v), 0);
    assert_true(v == 0xFEDFF000);
    /* 1 MiB aligned block below 4 GiB: 0xFFF00000 is free (window ends at 0xFEF00000). */
    assert_int_equal(sio_iova_alloc(a, 1 << 20, 0xFFFFFFFF, &v), 0);
    assert_true(v == 0xFFF00000);
    /* Drain everything: no address in the window is ever handed out. */
    for (int i = 0; i < 300; i++) {
        assert_int_equal(sio_iova_alloc(a, PG, 0xFFFFFFFF, &v), 0);
        assert_false(v >= 0xFEE00000 && v < 0xFEF00000);
    }
    assert_int_equal(sio_iova_reserve(a, 5, 5), SIO_EINVAL);
    sio_iova_destroy(a);
}

static void test_magazines(void **state)
{
    (void)state;
    struct sio_iova *a = sio_iova_create(0, 1ULL << 40);
    uint64_t v, w;
    assert_int_equal(sio_iova_alloc(a, PG, UINT64_MAX, &v), 0);
    assert_true(v == (1ULL << 40) - PG);
    assert_int_equal(sio_iova_free(a, v, PG), 0);
    /* The freed range sits in this CPU's magazine and comes straight back. */
    assert_int_equal(sio_iova_alloc(a, PG, UINT64_MAX, &w), 0);
    assert_true(w == v);
    struct sio_iova_stats st;
    sio_iova_get_stats(a, &st);
    assert_true(st.alloc_cached >= 1);
    assert_int_equal(st.pages_in_use, 1);
    assert_int_equal(sio_iova_free(a, w, PG), 0);
    /* A 32-bit device must not be handed the cached high range. */
    assert_int_equal(sio_iova_alloc(a, PG, 0xFFFFFFFF, &w), 0);
    assert_true(w == 0xFFFFF000);
    /* Many frees overflow loaded, prev and depot magazines without losing a range. */
    enum { N = 64 * 40 };
    uint64_t *x = malloc(N * sizeof(*x));
    for (int i = 0; i < N; i++)
        assert_int_equal(sio_iova_alloc(a, 2 * PG, UINT64_MAX, &x[i]), 0);
    for (int i = 0; i < N; i++)
        assert_int_equal(sio_iova_free(a, x[i], 2 * PG), 0);
    sio_iova_get_stats(a, &st);
    assert_int_equal(st.pages_in_use, 1); /* only w */
    assert_true(st.free_tree > 0 || st.cached_ranges > 0);
    sio_iova_drain(a);
    sio_iova_get_stats(a, &st);
    assert_int_equal(st.cached_ranges, 0);
    /* Everything but w merged: [0, w) and [w+PG, 2^40). */
    assert_int_equal(st.free_ranges, 2);
    free(x);
    sio_iova_destroy(a);
}

static void test_exhaustion_drains_caches(void **state)
{
    (void)state;
    /* 16 pages. Free singles into magazines, then ask for a 16-page block: the allocator must
     * pull the cached ranges back into the tree rather than fail. */
    struct sio_iova *a = sio_iova_create(0, 16 * PG);
    uint64_t v[16], big;
    for (int i = 0; i < 16; i++)
        assert_int_equal(sio_iova_alloc(a, PG, UINT64_MAX, &v[i]), 0);
    assert_int_equal(sio_iova_alloc(a, PG, UINT64_MAX, &big), SIO_ENOSPC);
    for (int i = 0; i < 16; i++)
        assert_int_equal(sio_iova_free(a, v[i], PG), 0);
    assert_int_equal(sio_iova_alloc(a, 16 * PG, UINT64_MAX, &big), 0);
    assert_true(big == 0);
    sio_iova_destroy(a);
}

/* Reference model: a bitmap of 1024 pages. */
#define RPAGES 1024
static int ref_fits(const unsigned char *used, unsigned k, uint64_t lim_pages)
{
    uint64_t sz = 1ULL << k;
    for (uint64_t x = 0; x + sz <= RPAGES && x + sz <= lim_pages; x += sz) {
        uint64_t i;
        for (i = 0; i < sz && !used[x + i]; i++)
            ;
        if (i == sz)
            return 1;
    }
    return 0;
}

static void test_random_vs_bitmap(void **state)
{
    (void)state;
    struct sio_iova *a = sio_iova_create(0, RPAGES * PG);
    unsigned char used[RPAGES];
    memset(used, 0, sizeof(used));
    struct {
        uint64_t addr;
        unsigned k;
    } live[RPAGES];
    unsigned nlive = 0;
    unsigned seed = 12345;
    for (int step = 0; step < 20000; step++) {
        seed = seed * 1103515245u + 12345u;
        unsigned r = (seed >> 16) & 0x7fff;
        if (nlive && (r % 3 == 0 || nlive > 300)) {
            unsigned i = r % nlive;
            uint64_t p = live[i].addr / PG;
            for (uint64_t j = 0; j < (1ULL << live[i].k); j++)
                used[p + j] = 0;
            assert_int_equal(sio_iova_free(a, live[i].addr, (1ULL << live[i].k) * PG), 0);
            live[i] = live[--nlive];
            continue;
        }
        unsigned k = (r >> 2) % 8;
        uint64_t lim_pages = (r & 1) ? RPAGES : 256 + (r % 700);
        uint64_t v;
        int rc = sio_iova_alloc(a, (1ULL << k) * PG - (r % 7), lim_pages * PG - 1, &v);
        if (rc) {
            assert_int_equal(rc, SIO_ENOSPC);
            assert_false(ref_fits(used, k, lim_pages)); /* failed only when nothing fits */
            continue;
        }
        uint64_t p = v / PG;
        assert_int_equal(p & ((1ULL << k) - 1), 0); /* naturally aligned */
        assert_true(p + (1ULL << k) <= lim_pages);  /* under the limit */
        for (uint64_t j = 0; j < (1ULL << k); j++) {
            assert_int_equal(used[p + j], 0); /* never overlaps a live range */
            used[p + j] = 1;
        }
        live[nlive].addr = v;
        live[nlive].k = k;
        nlive++;
    }
    while (nlive) {
        nlive--;
        assert_int_equal(sio_iova_free(a, live[nlive].addr, (1ULL << live[nlive].k) * PG), 0);
    }
    sio_iova_drain(a);
    struct sio_iova_stats st;
    sio_iova_get_stats(a, &st);
    assert_int_equal(st.free_ranges, 1);
    assert_int_equal(st.pages_in_use, 0);
    sio_iova_destroy(a);
}

static void test_tree_height_logarithmic(void **state)
{
    (void)state;
    /* 2^17 single pages allocated, every other one freed (bypassing the magazines with a
     * drain): 2^16 separate free ranges. An AVL tree of n nodes is at most 1.44 log2(n) + 2
     * high: <= 25 for 2^16 (+1 for the range above). */
    enum { N = 1 << 17 };
    struct sio_iova *a = sio_iova_create(0, 1ULL << 40);
    uint64_t *v = malloc(N * sizeof(*v));
    for (int i = 0; i < N; i++)
        assert_int_equal(sio_iova_alloc(a, PG, UINT64_MAX, &v[i]), 0);
    for (int i = 0; i < N; i += 2)
        assert_int_equal(sio_iova_free(a, v[i], PG), 0);
    sio_iova_drain(a);
    struct sio_iova_stats st;
    sio_iova_get_stats(a, &st);
    assert_int_equal(st.free_ranges, N / 2 + 1);
    assert_true(st.tree_height <= 26);
    /* A 2-page block cannot use any of the single-page holes: it comes from below them all. */
    uint64_t w;
    assert_int_equal(sio_iova_alloc(a, 2 * PG, UINT64_MAX, &w), 0);
    assert_true(w == (1ULL << 40) - (uint64_t)N * PG - 2 * PG);
    /* A single page reuses the highest hole: allocation went top down, so that is v[0]. */
    assert_int_equal(sio_iova_alloc(a, PG, UINT64_MAX, &w), 0);
    assert_true(w == v[0]);
    free(v);
    sio_iova_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_top_down_aligned),
        cmocka_unit_test(test_alignment_holes),
        cmocka_unit_test(test_mask_and_errors),
        cmocka_unit_test(test_double_free_tree),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_magazines),
        cmocka_unit_test(test_exhaustion_drains_caches),
        cmocka_unit_test(test_random_vs_bitmap),
        cmocka_unit_test(test_tree_height_logarithmic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

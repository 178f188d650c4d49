/* sio_pmem: the contract's default sparse memory. */
#include "test_util.h"

#include <softiommu/mem.h>

#include <stdlib.h>
#include <string.h>

static void test_untouched_reads_zero(void **state)
{
    (void)state;
    struct sio_pmem *pm = sio_pmem_create(1ULL << 30);
    const struct sio_mem_ops *ops = sio_pmem_ops();
    uint8_t buf[64];
    memset(buf, 0xcc, sizeof(buf));
    assert_int_equal(ops->read(pm, 0x12345678, buf, sizeof(buf)), 0);
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0);
    assert_int_equal(sio_pmem_pages(pm), 0); /* reading allocates nothing */
    assert_null(ops->ptr(pm, 0x1000, 8));    /* no page, no pointer */
    sio_pmem_destroy(pm);
}

static void test_write_read_cross_page(void **state)
{
    (void)state;
    struct sio_pmem *pm = sio_pmem_create(1ULL << 24);
    const struct sio_mem_ops *ops = sio_pmem_ops();
    uint8_t in[10000], out[10000];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i * 7 + 3);
    /* Starts 100 bytes before a page boundary and spans three more pages. */
    uint64_t pa = 0x5000 - 100;
    assert_int_equal(ops->write(pm, pa, in, sizeof(in)), 0);
    assert_int_equal(sio_pmem_pages(pm), 4); /* 0x4000..0x7fff */
    memset(out, 0, sizeof(out));
    assert_int_equal(ops->read(pm, pa, out, sizeof(out)), 0);
    assert_memory_equal(in, out, sizeof(in));
    /* Bytes next to the written range are still zero. */
    uint8_t edge[2];
    assert_int_equal(ops->read(pm, pa - 1, edge, 1), 0);
    assert_int_equal(edge[0], 0);
    assert_int_equal(ops->read(pm, pa + sizeof(in), edge, 1), 0);
    assert_int_equal(edge[0], 0);
    sio_pmem_destroy(pm);
}

static void test_out_of_range(void **state)
{
    (void)state;
    const uint64_t size = 0x10000;
    struct sio_pmem *pm = sio_pmem_create(size);
    const struct sio_mem_ops *ops = sio_pmem_ops();
    uint8_t buf[16] = {1, 2, 3};
    /* Last byte is in range, one past is not. */
    assert_int_equal(ops->write(pm, size - 1, buf, 1), 0);
    assert_int_equal(ops->write(pm, size, buf, 1), -1);
    assert_int_equal(ops->read(pm, size, buf, 1), -1);
    /* A straddling write fails whole and writes nothing. */
    uint64_t before = sio_pmem_pages(pm);
    assert_int_equal(ops->write(pm, size - 8, buf, 16), -1);
    assert_int_equal(sio_pmem_pages(pm), before);
    uint8_t check[8];
    assert_int_equal(ops->read(pm, size - 8, check, 7), 0);
    for (int i = 0; i < 7; i++)
        assert_int_equal(check[i], 0);
    /* Wrap-around addresses. */
    assert_int_equal(ops->read(pm, ~0ULL, buf, 2), -1);
    assert_int_equal(ops->write(pm, ~0ULL - 4, buf, 16), -1);
    assert_null(ops->ptr(pm, size - 4, 8));
    /* Sizes that cannot be created. */
    assert_null(sio_pmem_create(0));
    assert_null(sio_pmem_create(1ULL << 53));
    sio_pmem_destroy(pm);
}

static void test_ptr(void **state)
{
    (void)state;
    struct sio_pmem *pm = sio_pmem_create(1ULL << 24);
    const struct sio_mem_ops *ops = sio_pmem_ops();
    uint64_t v = 0x1122334455667788ULL;
    assert_int_equal(ops->write(pm, 0x2008, &v, 8), 0);
    uint8_t *p = ops->ptr(pm, 0x2008, 8);
    assert_non_null(p);
    assert_memory_equal(p, &v, 8);
    /* The pointer aliases the memory: a write through it is seen by read. */
    p[0] = 0x99;
    uint8_t b;
    ops->read(pm, 0x2008, &b, 1);
    assert_int_equal(b, 0x99);
    /* Whole page is one allocation; a range crossing into the next page is not. */
    assert_non_null(ops->ptr(pm, 0x2000, 4096));
    assert_null(ops->ptr(pm, 0x2ff8, 16));
    assert_null(ops->ptr(pm, 0x3000, 8)); /* next page untouched */
    assert_null(ops->ptr(pm, 0x2000, 0));
    sio_pmem_destroy(pm);
}

static void test_sparse_64g(void **state)
{
    (void)state;
    /* A 64 GiB memory costs only the pages touched. */
    struct sio_pmem *pm = sio_pmem_create(64ULL << 30);
    assert_non_null(pm);
    const struct sio_mem_ops *ops = sio_pmem_ops();
    uint64_t addrs[] = {0, 1ULL << 30, 17ULL << 30, (64ULL << 30) - 8};
    for (unsigned i = 0; i < 4; i++) {
        uint64_t v = addrs[i] ^ 0xdeadbeef;
        assert_int_equal(ops->write(pm, addrs[i], &v, 8), 0);
    }
    assert_int_equal(sio_pmem_pages(pm), 4);
    for (unsigned i = 0; i < 4; i++) {
        uint64_t v = 0;
        assert_int_equal(ops->read(pm, addrs[i], &v, 8), 0);
        assert_int_equal(v, addrs[i] ^ 0xdeadbeef);
    }
    sio_pmem_destroy(pm);
}

static void test_mem_helpers(void **state)
{
    (void)state;
    struct sio_pmem *pm = sio_pmem_create(1ULL << 20);
    struct sio_mem m = {sio_pmem_ops(), pm};
    assert_int_equal(sio_mem_write64(&m, 0x100, 0x0102030405060708ULL), 0);
    uint8_t raw[8];
    sio_mem_read(&m, 0x100, raw, 8);
    assert_int_equal(raw[0], 0x08); /* little-endian in memory */
    assert_int_equal(raw[7], 0x01);
    uint32_t w;
    assert_int_equal(sio_mem_read32(&m, 0x104, &w), 0);
    assert_int_equal(w, 0x01020304);
    assert_int_equal(sio_mem_zero(&m, 0x100, 8), 0);
    uint64_t q = 1;
    assert_int_equal(sio_mem_read64(&m, 0x100, &q), 0);
    assert_int_equal(q, 0);
    assert_int_equal(sio_mem_read64(&m, (1ULL << 20) - 4, &q), -1);
    sio_pmem_destroy(pm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_untouched_reads_zero), cmocka_unit_test(test_write_read_cross_page),
        cmocka_unit_test(test_out_of_range),         cmocka_unit_test(test_ptr),
        cmocka_unit_test(test_sparse_64g),           cmocka_unit_test(test_mem_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

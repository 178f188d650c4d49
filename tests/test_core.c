/* Foundation: field helpers, error strings, log hook. Expected values are worked out by hand
 * from the bit positions, not taken from the code. */
#include "test_util.h"

#include <softiommu/bits.h>
#include <softiommu/err.h>
#include <softiommu/log.h>

#include <string.h>

static void test_mask(void **state)
{
    (void)state;
    assert_int_equal(sio_mask64(0, 0), 0x1);
    assert_int_equal(sio_mask64(7, 4), 0xf0);
    assert_int_equal(sio_mask64(63, 12), 0xfffffffffffff000ULL);
    assert_int_equal(sio_mask64(63, 0), ~0ULL);
    assert_int_equal(sio_mask64(63, 63), 0x8000000000000000ULL);
    assert_int_equal(sio_mask64(21, 16), 0x3f0000);
}

static void test_get_set(void **state)
{
    (void)state;
    /* CAP with MGAW=47 (bits 21:16) and SAGAW=0b0100 (bits 12:8). */
    uint64_t cap = 0;
    cap = sio_set64(cap, 21, 16, 47);
    cap = sio_set64(cap, 12, 8, 4);
    assert_int_equal(cap, (47ULL << 16) | (4ULL << 8));
    assert_int_equal(sio_get64(cap, 21, 16), 47);
    assert_int_equal(sio_get64(cap, 12, 8), 4);
    /* Values wider than the field are truncated, neighbours untouched. */
    cap = sio_set64(cap, 12, 8, 0xff);
    assert_int_equal(sio_get64(cap, 12, 8), 0x1f);
    assert_int_equal(sio_get64(cap, 21, 16), 47);
    assert_int_equal(sio_bit64(0x80, 7), 1);
    assert_int_equal(sio_bit64(0x80, 6), 0);
    assert_int_equal(sio_get64(~0ULL, 63, 0), ~0ULL);
}

static void test_le(void **state)
{
    (void)state;
    uint8_t b[16];
    sio_st64le(b, 0x0123456789abcdefULL);
    static const uint8_t want[8] = {0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01};
    assert_memory_equal(b, want, 8);
    assert_int_equal(sio_ld64le(b), 0x0123456789abcdefULL);
    assert_int_equal(sio_ld32le(b + 1), 0x6789abcd);
    assert_int_equal(sio_ld16le(b), 0xcdef);
    sio_st16le(b, 0xbeef);
    assert_int_equal(b[0], 0xef);
    assert_int_equal(b[1], 0xbe);

    struct sio_u128 v = {0x1111222233334444ULL, 0x5555666677778888ULL};
    sio_st128le(b, v);
    assert_int_equal(b[0], 0x44);
    assert_int_equal(b[8], 0x88);
    assert_int_equal(b[15], 0x55);
    struct sio_u128 r = sio_ld128le(b);
    assert_int_equal(r.lo, v.lo);
    assert_int_equal(r.hi, v.hi);
}

static void test_128_fields(void **state)
{
    (void)state;
    /* Context entry: DID at 87:72, AW at 66:64, P at bit 0. */
    struct sio_u128 ce = {0, 0};
    ce = sio_set128(ce, 87, 72, 0xabcd);
    ce = sio_set128(ce, 66, 64, 2);
    ce = sio_set128(ce, 0, 0, 1);
    assert_int_equal(ce.lo, 1);
    assert_int_equal(ce.hi, (0xabcdULL << 8) | 2);
    assert_int_equal(sio_get128(ce, 87, 72), 0xabcd);
    assert_int_equal(sio_get128(ce, 66, 64), 2);
    /* A field straddling bit 64: bits 71:56. */
    struct sio_u128 s = {0, 0};
    s = sio_set128(s, 71, 56, 0xa55a);
    assert_int_equal(s.lo, 0x5aULL << 56);
    assert_int_equal(s.hi, 0xa5);
    assert_int_equal(sio_get128(s, 71, 56), 0xa55a);
    /* The fault record's F bit is 127. */
    struct sio_u128 f = sio_set128((struct sio_u128){0, 0}, 127, 127, 1);
    assert_int_equal(f.hi, 0x8000000000000000ULL);
}

static void test_errors(void **state)
{
    (void)state;
    assert_int_equal(SIO_OK, 0);
    assert_true(SIO_EINVAL < 0);
    assert_string_equal(sio_strerror(SIO_OK), "success");
    assert_string_equal(sio_strerror(SIO_EBUSY), "busy: object in use");
    /* Either sign names the same error. */
    assert_string_equal(sio_strerror(-SIO_EBUSY), sio_strerror(SIO_EBUSY));
    assert_string_equal(sio_errname(SIO_EMASK), "SIO_EMASK");
    assert_string_equal(sio_strerror(-12345), "unknown error");
    /* Every code has a distinct, non-empty string. */
    static const int codes[] = {
#define CODE_(name, val, str) name,
        SIO_ERROR_LIST(CODE_)
#undef CODE_
    };
    size_t n = sizeof(codes) / sizeof(codes[0]);
    assert_true(n > 20);
    for (size_t i = 0; i < n; i++) {
        assert_true(strlen(sio_strerror(codes[i])) > 0);
        for (size_t j = i + 1; j < n; j++) {
            assert_int_not_equal(codes[i], codes[j]);
            assert_string_not_equal(sio_strerror(codes[i]), sio_strerror(codes[j]));
        }
    }
}

static void test_log_hook(void **state)
{
    (void)state;
    struct log_capture lc;
    log_capture_start(&lc);
    sio_logf(SIO_LOG_INFO, "hello %d", 42);
    sio_log_set_level(SIO_LOG_WARN);
    sio_logf(SIO_LOG_INFO, "dropped");
    sio_logf(SIO_LOG_ERR, "kept");
    sio_log_set_level(SIO_LOG_INFO);
    log_capture_stop();
    assert_int_equal(lc.n, 2);
    assert_string_equal(lc.lines[0], "hello 42");
    assert_string_equal(lc.lines[1], "kept");
    assert_false(log_capture_has(&lc, "dropped"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mask),   cmocka_unit_test(test_get_set),
        cmocka_unit_test(test_le),     cmocka_unit_test(test_128_fields),
        cmocka_unit_test(test_errors), cmocka_unit_test(test_log_hook),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

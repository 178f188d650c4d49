/* BDF parsing and printing, source-id arithmetic (VT-d 2: bus<<8 | dev<<3 | fn). */
#include "test_util.h"

#include <softiommu/err.h>
#include <softiommu/pci.h>

#include <stdio.h>
#include <string.h>

static void test_sid(void **state)
{
    (void)state;
    assert_int_equal(sio_sid(0, 2, 0), 0x0010);
    assert_int_equal(sio_sid(0x3a, 0x1f, 7), 0x3aff);
    assert_int_equal(sio_sid(1, 0, 1), 0x0101);
    assert_int_equal(sio_sid_bus(0x3aff), 0x3a);
    assert_int_equal(sio_sid_dev(0x3aff), 0x1f);
    assert_int_equal(sio_sid_fn(0x3aff), 7);
    assert_int_equal(sio_sid_devfn(0x3aff), 0xff);
}

static void test_parse_good(void **state)
{
    (void)state;
    struct sio_bdf b;
    assert_int_equal(sio_bdf_parse("0000:00:02.0", &b, NULL, 0), 0);
    assert_int_equal(b.seg, 0);
    assert_int_equal(b.bus, 0);
    assert_int_equal(b.dev, 2);
    assert_int_equal(b.fn, 0);
    assert_int_equal(sio_bdf_sid(b), 0x10);
    assert_int_equal(sio_bdf_parse("3a:1f.7", &b, NULL, 0), 0);
    assert_int_equal(b.bus, 0x3a);
    assert_int_equal(b.dev, 0x1f);
    assert_int_equal(b.fn, 7);
    assert_int_equal(sio_bdf_parse("ABCD:FF:1E.6", &b, NULL, 0), 0);
    assert_int_equal(b.seg, 0xabcd);
    assert_int_equal(b.bus, 0xff);
    assert_int_equal(b.dev, 0x1e);
    assert_int_equal(b.fn, 6);
}

static void test_parse_bad(void **state)
{
    (void)state;
    static const char *bad[] = {"",          "00:02",    "00:20.0",      "00:02.8",
                                "0:0:0:0.0", "00:02.0x", "xx:02.0",      "00000:00:02.0",
                                "000:02.0",  "00:02.",   ":00:02.0",     "00;02.0",
                                "00:02.0 ",  "1:2:3",    "0000:100:00.0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sio_bdf b;
        char err[128] = "";
        int rc = sio_bdf_parse(bad[i], &b, err, sizeof(err));
        if (rc != SIO_EPARSE)
            fail_msg("'%s' parsed", bad[i]);
        /* The message names the offending text. */
        char quoted[64];
        snprintf(quoted, sizeof(quoted), "'%s'", bad[i]);
        assert_non_null(strstr(err, quoted));
    }
}

static void test_format(void **state)
{
    (void)state;
    char buf[SIO_BDF_STRLEN];
    struct sio_bdf b = {0, 0, 2, 0};
    assert_string_equal(sio_bdf_format(b, buf), "0000:00:02.0");
    b = sio_bdf_from_sid(1, 0x3aff);
    assert_string_equal(sio_bdf_format(b, buf), "0001:3a:1f.7");
    /* Round trip over every source-id. */
    for (unsigned sid = 0; sid < 0x10000; sid++) {
        struct sio_bdf in = sio_bdf_from_sid(0, (uint16_t)sid), out;
        sio_bdf_format(in, buf);
        assert_int_equal(sio_bdf_parse(buf, &out, NULL, 0), 0);
        assert_int_equal(sio_bdf_sid(out), sid);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sid),
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* VT-d model: the register file (VT-d 1). Expected values are computed by hand from the
 * field positions of the digest. */
#include "test_vtd_tables.h"

#include <softiommu/vtd_driver.h>

/* CAP of the default configuration (48-bit, 8 records, default features), by field:
 *   ND 6 (2:0)            0x0000000000000006
 *   SAGAW 39+48 (12:8)    0x0000000000000600   (bits 9 and 10)
 *   MGAW 47 (21:16)       0x00000000002F0000
 *   ZLR (22)              0x0000000000400000
 *   FRO 0x22 (33:24)      0x0000000022000000
 *   SLLPS 2M+1G (37:34)   0x0000000C00000000
 *   PSI (39)              0x0000008000000000
 *   NFR 7 (47:40)         0x0000070000000000
 *   MAMV 18 (53:48)       0x0012000000000000
 *   PI (59)               0x0800000000000000
 * and RWBF, CM, PLMR, PHMR clear. */
#define CAP_DEFAULT 0x0812078C226F0606ULL
/* ECAP: C (0), QI (1), DT (2), IR (3), EIM (4), PT (6), SC (7), IRO 0xF (17:8),
 * MHMV 15 (23:20). */
#define ECAP_DEFAULT 0x0000000000F00FDFULL

static void test_reset_values(void **state)
{
    (void)state;
    struct vt t;
    vt_init(&t, NULL);
    assert_int_equal(rd32(&t, R_VER), 0x10);
    assert_int_equal(rd64(&t, R_CAP), CAP_DEFAULT);
    assert_int_equal(rd64(&t, R_ECAP), ECAP_DEFAULT);
    assert_int_equal(rd32(&t, R_GSTS), 0);
    assert_int_equal(rd64(&t, R_RTADDR), 0);
    assert_int_equal(rd64(&t, R_CCMD), 0);
    assert_int_equal(rd32(&t, R_FSTS), 0);
    assert_int_equal(rd32(&t, R_FECTL), FECTL_IM); /* IM is 1 at reset */
    for (unsigned i = 0; i < 8; i++) {
        assert_int_equal(rd64(&t, R_FRCD + 16 * i), 0);
        assert_int_equal(rd64(&t, R_FRCD + 16 * i + 8), 0);
    }
    vt_fini(&t);
}

static void test_caps_from_config(void **state)
{
    (void)state;
    struct vt t;
    /* 39-bit, explicit features PT|CM|SP2M|RWBF, 1 record. */
    struct sio_vtd_config c = {.aw_bits = 39,
                               .nfr = 1,
                               .features = SIO_VTD_F_EXPLICIT | SIO_VTD_F_PT | SIO_VTD_F_CM |
                                           SIO_VTD_F_SP2M | SIO_VTD_F_RWBF};
    vt_init(&t, &c);
    uint64_t cap = rd64(&t, R_CAP);
    assert_int_equal(cap & 7, 6);                     /* ND */
    assert_int_equal((cap >> 4) & 1, 1);              /* RWBF */
    assert_int_equal((cap >> 7) & 1, 1);              /* CM */
    assert_int_equal((cap >> 8) & 0x1f, 0x2);         /* SAGAW: 39-bit only */
    assert_int_equal((cap >> 16) & 0x3f, 38);         /* MGAW */
    assert_int_equal((cap >> 22) & 1, 0);             /* ZLR */
    assert_int_equal((cap >> 34) & 0xf, 1);           /* SLLPS: 2M only */
    assert_int_equal((cap >> 39) & 1, 0);             /* PSI */
    assert_int_equal((cap >> 40) & 0xff, 0);          /* NFR - 1 */
    assert_int_equal((cap >> 48) & 0x3f, 0);          /* MAMV: 0 without PSI */
    assert_int_equal(rd64(&t, R_ECAP), 0x40 | 0xF00); /* PT, IRO; no C, no SC */
    vt_fini(&t);

    /* 57-bit: SAGAW 39|48|57; 1G without 2M is not a valid SLLPS, so neither is shown. */
    struct sio_vtd_config c57 = {.aw_bits = 57,
                                 .nfr = 256,
                                 .features = SIO_VTD_F_EXPLICIT | SIO_VTD_F_SP1G | SIO_VTD_F_QI |
                                             SIO_VTD_F_IR | SIO_VTD_F_DT | SIO_VTD_F_PI};
    vt_init(&t, &c57);
    cap = rd64(&t, R_CAP);
    assert_int_equal((cap >> 8) & 0x1f, 0xE);
    assert_int_equal((cap >> 16) & 0x3f, 56);
    assert_int_equal((cap >> 34) & 0xf, 0);
    assert_int_equal((cap >> 40) & 0xff, 255);
    assert_int_equal((cap >> 59) & 1, 1);         /* PI */
    assert_int_equal(rd64(&t, R_ECAP), 0xF00F0E); /* QI, DT, IR (no EIM), IRO, MHMV */
    /* The last of 256 records is inside the window and reads 0. */
    assert_int_equal(rd64(&t, R_FRCD + 16 * 255 + 8), 0);
    vt_fini(&t);
}

static void test_bad_configs(void **state)
{
    (void)state;
    struct sio_pmem *pm = sio_pmem_create(1 << 20);
    const struct sio_mem_ops *ops = sio_pmem_ops();
    struct sio_vtd_config c = {.aw_bits = 40};
    assert_null(sio_vtd_create(&c, ops, pm, NULL, NULL));
    c = (struct sio_vtd_config){.nfr = 257};
    assert_null(sio_vtd_create(&c, ops, pm, NULL, NULL));
    c = (struct sio_vtd_config){.haw_bits = 60};
    assert_null(sio_vtd_create(&c, ops, pm, NULL, NULL));
    assert_null(sio_vtd_create(NULL, NULL, pm, NULL, NULL));
    struct sio_vtd *u = sio_vtd_create(NULL, ops, pm, NULL, NULL); /* NULL cfg: defaults */
    assert_non_null(u);
    sio_vtd_destroy(u);
    sio_pmem_destroy(pm);
}

static void test_unknown_and_bad_accesses(void **state)
{
    (void)state;
    struct vt t;
    vt_init(&t, NULL);
    /* 8-byte slots with no register in either half (0x58 AFLOG, 0x68 PMR: not implemented;
     * 0x80-0xb8 are the queue and IR registers, test_vtd_qi/test_vtd_ir), and 4-byte holes
     * between registers. */
    static const uint64_t unknown64[] = {0x48,  0x50,  0x58,  0x60,  0x68,   0x70,   0x78,
                                         0x100, 0x200, 0x2a0, 0xff8, 0x1000, 0x10000};
    static const uint64_t unknown32[] = {0x04, 0x30, 0x4c, 0x98, 0xec, 0x2a4};
    for (size_t i = 0; i < sizeof(unknown64) / sizeof(unknown64[0]); i++) {
        wr64(&t, unknown64[i], ~0ULL);
        assert_int_equal(rd64(&t, unknown64[i]), 0);
        assert_int_equal(rd32(&t, unknown64[i]), 0);
    }
    for (size_t i = 0; i < sizeof(unknown32) / sizeof(unknown32[0]); i++) {
        wr32(&t, unknown32[i], ~0u);
        assert_int_equal(rd32(&t, unknown32[i]), 0);
    }
    /* Wrong sizes and misaligned offsets do nothing. */
    sio_vtd_mmio_write(t.u, R_FEDATA, 0x1234, 2);
    sio_vtd_mmio_write(t.u, R_FEDATA + 1, 0x1234, 4);
    assert_int_equal(rd32(&t, R_FEDATA), 0);
    assert_int_equal(sio_vtd_mmio_read(t.u, R_VER, 2), 0);
    assert_int_equal(sio_vtd_mmio_read(t.u, R_VER + 2, 4), 0);
    /* Nothing else changed. */
    assert_int_equal(rd64(&t, R_CAP), CAP_DEFAULT);
    assert_int_equal(rd32(&t, R_GSTS), 0);
    vt_fini(&t);
}

static void test_ro_and_masks(void **state)
{
    (void)state;
    struct vt t;
    vt_init(&t, NULL);
    wr64(&t, R_CAP, 0);
    wr64(&t, R_ECAP, ~0ULL);
    wr32(&t, R_VER, 0xff);
    wr32(&t, R_GSTS, ~0u);
    assert_int_equal(rd64(&t, R_CAP), CAP_DEFAULT);
    assert_int_equal(rd64(&t, R_ECAP), ECAP_DEFAULT);
    assert_int_equal(rd32(&t, R_VER), 0x10);
    assert_int_equal(rd32(&t, R_GSTS), 0);
    /* RTADDR: 63:12 writable; 11:10 (TTM) reserved without scalable mode; 9:0 reserved. */
    wr64(&t, R_RTADDR, 0x123456789abcdfffULL);
    assert_int_equal(rd64(&t, R_RTADDR), 0x123456789abcd000ULL);
    /* FEDATA 15:0 (31:16 reserved without EIM), FEADDR 31:2, FEUADDR 31:0. */
    wr32(&t, R_FEDATA, 0xdeadbeef);
    wr32(&t, R_FEADDR, 0xfee01003);
    wr32(&t, R_FEUADDR, 0x87654321);
    assert_int_equal(rd32(&t, R_FEDATA), 0xbeef);
    assert_int_equal(rd32(&t, R_FEADDR), 0xfee01000);
    assert_int_equal(rd32(&t, R_FEUADDR), 0x87654321);
    /* FECTL: IM is RW, IP is RO. */
    wr32(&t, R_FECTL, FECTL_IP);
    assert_int_equal(rd32(&t, R_FECTL), 0);
    wr32(&t, R_FECTL, FECTL_IM);
    assert_int_equal(rd32(&t, R_FECTL), FECTL_IM);
    /* FSTS: PPF (RO) and FRI (RO) cannot be written; PFO is write-1-to-clear. */
    wr32(&t, R_FSTS, 0xffff);
    assert_int_equal(rd32(&t, R_FSTS), 0);
    /* GCMD is write-only: reads are 0. */
    wr32(&t, R_GCMD, GCMD_SRTP);
    assert_int_equal(rd32(&t, R_GCMD), 0);
    /* CCMD: reserved 58:34 and the RO CAIG read 0 whatever is written (ICC left 0 here). */
    wr64(&t, R_CCMD, 0x7FFFFFFFFFFFFFFFULL & ~CCMD_ICC);
    assert_int_equal(rd64(&t, R_CCMD), 0x6000000300000000ULL | 0xFFFFFFFFULL);
    /* IVA: 11:7 reserved. IOTLB (IVT 0): 59:50, 56:50, 31:0 reserved, IAIG RO. */
    wr64(&t, R_IVA, ~0ULL);
    assert_int_equal(rd64(&t, R_IVA), 0xFFFFFFFFFFFFF07FULL);
    wr64(&t, R_IOTLB, ~0ULL & ~IOTLB_IVT);
    assert_int_equal(rd64(&t, R_IOTLB), 0x3003FFFF00000000ULL);
    vt_fini(&t);
}

static void test_64bit_halves(void **state)
{
    (void)state;
    struct vt t;
    vt_init(&t, NULL);
    wr32(&t, R_RTADDR, 0x12345000);
    wr32(&t, R_RTADDR + 4, 0x9);
    assert_int_equal(rd64(&t, R_RTADDR), 0x912345000ULL);
    assert_int_equal(rd32(&t, R_RTADDR), 0x12345000);
    assert_int_equal(rd32(&t, R_RTADDR + 4), 0x9);
    /* A high-half write leaves the low half alone. */
    wr32(&t, R_RTADDR + 4, 0x1);
    assert_int_equal(rd64(&t, R_RTADDR), 0x112345000ULL);
    /* CAP halves. */
    assert_int_equal(rd32(&t, R_CAP), (uint32_t)CAP_DEFAULT);
    assert_int_equal(rd32(&t, R_CAP + 4), (uint32_t)(CAP_DEFAULT >> 32));
    /* An 8-byte access to two 32-bit registers acts on both (FEDATA, FEADDR). */
    wr64(&t, R_FEDATA, 0xfee00000000000aaULL);
    assert_int_equal(rd32(&t, R_FEDATA), 0xaa);
    assert_int_equal(rd32(&t, R_FEADDR), 0xfee00000);
    assert_int_equal(rd64(&t, R_FEDATA), 0xfee00000000000aaULL);
    /* CCMD written as two halves: the command runs when the half with ICC is written. */
    wr32(&t, R_CCMD, 0x00100005); /* SID 0x10, DID 5 */
    assert_int_equal(rd64(&t, R_CCMD), 0x00100005);
    wr32(&t, R_CCMD + 4, (uint32_t)((CCMD_ICC | CCMD_DOMAIN) >> 32));
    uint64_t c = rd64(&t, R_CCMD);
    assert_int_equal(c >> 63, 0);      /* ICC clear: done */
    assert_int_equal(CCMD_CAIG(c), 2); /* domain-selective performed */
    assert_int_equal(c & 0xffffffff, 0x00100005);
    vt_fini(&t);
}

static void test_gcmd_srtp_te_wbf(void **state)
{
    (void)state;
    struct sio_vtd_config c = {.features = SIO_VTD_F_DEFAULT | SIO_VTD_F_RWBF};
    struct vt t;
    vt_init(&t, &c);
    wr64(&t, R_RTADDR, 0x5000);
    wr32(&t, R_GCMD, GCMD_SRTP);
    assert_int_equal(rd32(&t, R_GSTS), 0x40000000); /* RTPS */
    wr32(&t, R_GCMD, GCMD_TE);
    /* The write above has SRTP clear: RTPS stays (status of the last latch), TE on. */
    assert_int_equal(rd32(&t, R_GSTS), 0xC0000000);
    wr32(&t, R_GCMD, GCMD_WBF | GCMD_TE);
    assert_int_equal(rd32(&t, R_GSTS) & 0x08000000, 0); /* WBFS: flush done at once */
    struct sio_vtd_stats s;
    sio_vtd_get_stats(t.u, &s);
    assert_int_equal(s.wbf, 1);
    wr32(&t, R_GCMD, 0);
    assert_int_equal(rd32(&t, R_GSTS), 0x40000000); /* TE off */
    vt_fini(&t);
}

static void test_ccmd_granularities(void **state)
{
    (void)state;
    struct vt t;
    vt_init(&t, NULL);
    assert_int_equal(vt_ccmd(&t, CCMD_GLOBAL), 1);
    assert_int_equal(vt_ccmd(&t, CCMD_DOMAIN | 7), 2);
    assert_int_equal(vt_ccmd(&t, CCMD_DEVICE | (3ULL << 32) | (0x0010ULL << 16) | 7), 3);
    assert_int_equal(vt_ccmd(&t, 0), 0); /* CIRG 00: invalid, CAIG 00 */
    struct sio_vtd_stats s;
    sio_vtd_get_stats(t.u, &s);
    assert_int_equal(s.inv_ctx_global, 1);
    assert_int_equal(s.inv_ctx_domain, 1);
    assert_int_equal(s.inv_ctx_device, 1);
    assert_int_equal(s.inv_rejected, 1);
    vt_fini(&t);
}

static void test_iotlb_granularities(void **state)
{
    (void)state;
    struct vt t;
    vt_init(&t, NULL);
    assert_int_equal(vt_iotlb(&t, 0, IOTLB_GLOBAL), 1);
    assert_int_equal(vt_iotlb(&t, 0, IOTLB_DOMAIN | (9ULL << 32)), 2);
    assert_int_equal(vt_iotlb(&t, 0x200000 | 9, IOTLB_PAGE | (9ULL << 32)), 3);
    assert_int_equal(vt_iotlb(&t, 0x40000000 | 18, IOTLB_PAGE | (9ULL << 32)), 3); /* AM=MAMV */
    assert_int_equal(vt_iotlb(&t, 19, IOTLB_PAGE | (9ULL << 32)), 0); /* AM > MAMV: error */
    assert_int_equal(vt_iotlb(&t, 0, 0), 0);                          /* IIRG 00 */
    struct sio_vtd_stats s;
    sio_vtd_get_stats(t.u, &s);
    assert_int_equal(s.inv_iotlb_global, 1);
    assert_int_equal(s.inv_iotlb_domain, 1);
    assert_int_equal(s.inv_iotlb_page, 2);
    assert_int_equal(s.inv_rejected, 2);
    vt_fini(&t);

    /* Without PSI a page-selective request is performed domain-selectively (IAIG 10). */
    struct sio_vtd_config c = {.features = SIO_VTD_F_EXPLICIT | SIO_VTD_F_SP2M};
    vt_init(&t, &c);
    assert_int_equal(vt_iotlb(&t, 0x1000, IOTLB_PAGE | (1ULL << 32)), 2);
    vt_fini(&t);
}

/* kvm-unit-tests writes GCMD = GSTS | bit, re-issuing SRTP (GSTS.RTPS has SRTP's position)
 * with every later command. */
static void test_gsts_or_bit_idiom(void **state)
{
    (void)state;
    struct vt t;
    vt_init(&t, NULL);
    uint64_t slpt = vt_one_device(&t, 0x0010, 0, 2, 1);
    vt_map(&t, slpt, 4, 0x1000, 0x7000, 1, 3);
    wr64(&t, R_RTADDR, t.root);
    wr32(&t, R_GCMD, rd32(&t, R_GSTS) | GCMD_SRTP);
    assert_int_equal(rd32(&t, R_GSTS), 0x40000000);
    wr64(&t, R_CCMD, CCMD_ICC | CCMD_GLOBAL);
    wr64(&t, R_IOTLB, IOTLB_IVT | IOTLB_GLOBAL);
    wr32(&t, R_GCMD, rd32(&t, R_GSTS) | GCMD_TE); /* = SRTP | TE */
    assert_int_equal(rd32(&t, R_GSTS), 0xC0000000);
    expect_xlate(&t, 0x0010, 0x1234, SIO_READ, 0, 0x7234);
    /* Again: the one-shot re-issue is harmless. */
    wr32(&t, R_GCMD, rd32(&t, R_GSTS) | GCMD_WBF);
    assert_int_equal(rd32(&t, R_GSTS), 0xC0000000);
    expect_xlate(&t, 0x0010, 0x1234, SIO_WRITE, 0, 0x7234);
    vt_fini(&t);
}

static void test_linux_bringup_and_reset(void **state)
{
    (void)state;
    struct vt t;
    vt_init(&t, NULL);
    uint64_t slpt = vt_one_device(&t, 0x0310, 0, 2, 42);
    vt_map(&t, slpt, 4, 0x80000000, 0x123456000, 1, 1);
    /* Before TE: untranslated. */
    expect_xlate(&t, 0x0310, 0x80000000, SIO_READ, 0, 0x80000000);
    vt_linux_bringup(&t);
    expect_xlate(&t, 0x0310, 0x80000010, SIO_READ, 0, 0x123456010);
    /* A device with no context entry is blocked (0x2) once TE is on. */
    expect_xlate(&t, 0x0318, 0x80000000, SIO_READ, 2, 0);
    /* The driver sees the unit through the mmio ops too. */
    const struct sio_mmio_ops *ops = sio_vtd_mmio_ops();
    assert_int_equal(ops->read(t.u, R_GSTS, 4), 0xC0000000);
    assert_int_equal(ops->read(t.u, R_CAP, 8), CAP_DEFAULT);
    ops->write(t.u, R_FEDATA, 0x44, 4);
    assert_int_equal(rd32(&t, R_FEDATA), 0x44);
    /* Reset: back to power-on values, translation off. */
    sio_vtd_reset(t.u);
    assert_int_equal(rd32(&t, R_GSTS), 0);
    assert_int_equal(rd64(&t, R_RTADDR), 0);
    assert_int_equal(rd32(&t, R_FEDATA), 0);
    assert_int_equal(rd32(&t, R_FECTL), FECTL_IM);
    assert_int_equal(rd32(&t, R_FSTS), 0);
    assert_int_equal(rd64(&t, R_FRCD + 8), 0); /* the 0x2 fault above is gone */
    expect_xlate(&t, 0x0318, 0x5000, SIO_WRITE, 0, 0x5000);
    vt_fini(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_values),
        cmocka_unit_test(test_caps_from_config),
        cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_unknown_and_bad_accesses),
        cmocka_unit_test(test_ro_and_masks),
        cmocka_unit_test(test_64bit_halves),
        cmocka_unit_test(test_gcmd_srtp_te_wbf),
        cmocka_unit_test(test_ccmd_granularities),
        cmocka_unit_test(test_iotlb_granularities),
        cmocka_unit_test(test_gsts_or_bit_idiom),
        cmocka_unit_test(test_linux_bringup_and_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

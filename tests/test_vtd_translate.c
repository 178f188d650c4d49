/* VT-d model: legacy-mode translation (VT-d 2) and its fault reasons (VT-d 4), against
 * hand-built tables. */
#include "test_vtd_tables.h"

#include <softiommu/err.h>

#define SID 0x0110 /* 01:02.0 */

/* A unit with TE on, an empty root table and one SL table top for SID with context AW. */
static uint64_t setup(struct vt *t, const struct sio_vtd_config *cfg, unsigned aw, unsigned did)
{
    vt_init(t, cfg);
    uint64_t top = vt_one_device(t, SID, 0, aw, did);
    vt_linux_bringup(t);
    return top;
}

/* ---- table-driven: AW x page size x permission x access -------------------------------- */

static void test_aw_pagesize_perm_matrix(void **state)
{
    (void)state;
    struct sio_vtd_config cfg = {.aw_bits = 57};
    /* An iova with index bits set at every level the AW has. */
    static const uint64_t iovas[4] = {0, 0x5123456789ULL, 0x7e5123456789ULL, 0x1a57e5123456789ULL};
    unsigned cases = 0;
    for (unsigned aw = 1; aw <= 3; aw++) {
        for (unsigned leaf = 1; leaf <= 3; leaf++) {
            for (unsigned perm = 1; perm <= 3; perm++) {
                for (unsigned access = 1; access <= 3; access++) {
                    struct vt t;
                    uint64_t top = setup(&t, &cfg, aw, 7);
                    uint64_t iova = iovas[aw];
                    uint64_t size = 1ULL << (12 + 9 * (leaf - 1));
                    uint64_t pa = 0x3c0000000ULL; /* 1G-aligned, so good for every size */
                    vt_map(&t, top, aw + 2, iova, pa, leaf, perm);
                    int want = 0;
                    if ((access & 2) && !(perm & 2))
                        want = 0x5;
                    else if ((access & 1) && !(perm & 1))
                        want = 0x6;
                    struct sio_xlate x;
                    expect_xlate(&t, SID, iova, access, want, pa + (iova & (size - 1)));
                    vt_xlate(&t, SID, iova, access, &x);
                    if (!want) {
                        assert_int_equal(x.page_size, size);
                        assert_int_equal(x.perm, perm);
                    } else {
                        assert_int_equal(x.fault_reason, want);
                    }
                    /* Twice: the second answer comes from the IOTLB and must agree. */
                    expect_xlate(&t, SID, iova, access, want, pa + (iova & (size - 1)));
                    vt_fini(&t);
                    cases++;
                }
            }
        }
    }
    assert_int_equal(cases, 81);
}

static void test_perms_anded_across_levels(void **state)
{
    (void)state;
    struct vt t;
    uint64_t top = setup(&t, NULL, 2, 1);
    vt_map(&t, top, 4, 0x200000, 0x900000, 1, 3);
    /* Drop W from the PDPTE: the RW leaf below becomes read-only. */
    uint64_t pdpte = vt_entry_addr(&t, top, 4, 0x200000, 3);
    vt_w64(&t, pdpte, vt_r64(&t, pdpte) & ~2ULL);
    expect_xlate(&t, SID, 0x200000, SIO_READ, 0, 0x900000);
    expect_xlate(&t, SID, 0x200008, SIO_WRITE, 0x5, 0);
    /* R from the PML4E only, W from the PDPTE only: nothing is left. */
    uint64_t pml4e = vt_entry_addr(&t, top, 4, 0x200000, 4);
    vt_w64(&t, pml4e, (vt_r64(&t, pml4e) & ~3ULL) | 1);
    vt_w64(&t, pdpte, (vt_r64(&t, pdpte) & ~3ULL) | 2);
    assert_int_equal(vt_iotlb(&t, 0, IOTLB_GLOBAL), 1); /* permissions were lowered */
    expect_xlate(&t, SID, 0x200000, SIO_READ, 0x6, 0);
    expect_xlate(&t, SID, 0x200000, SIO_WRITE, 0x5, 0);
    vt_fini(&t);
}

static void test_not_present_levels(void **state)
{
    (void)state;
    struct vt t;
    uint64_t top = setup(&t, NULL, 2, 1);
    /* Empty PML4: reads fault 0x6, writes 0x5 (VT-d 2: R=W=0 is not present). */
    expect_xlate(&t, SID, 0x1000, SIO_READ, 0x6, 0);
    expect_xlate(&t, SID, 0x1000, SIO_WRITE, 0x5, 0);
    vt_map(&t, top, 4, 0x1000, 0x5000, 1, 3);
    /* Not present at the leaf of a neighbour page. */
    expect_xlate(&t, SID, 0x2000, SIO_READ, 0x6, 0);
    expect_xlate(&t, SID, 0x1000, SIO_READ, 0, 0x5000);
    vt_fini(&t);
}

static void test_te_off_and_passthrough(void **state)
{
    (void)state;
    struct vt t;
    vt_init(&t, NULL);
    /* TE=0: untranslated, whatever the tables say (none exist). */
    expect_xlate(&t, SID, 0xdead0000, SIO_WRITE, 0, 0xdead0000);
    t.root = vt_page(&t);
    vt_ctx_entry(&t, SID, ctx_lo(0, 2, 0), ctx_hi(2, 3)); /* TT=10 */
    vt_linux_bringup(&t);
    expect_xlate(&t, SID, 0xfeed1234, SIO_READ | SIO_WRITE, 0, 0xfeed1234);
    /* Pass-through does not check the input width against the AW. */
    expect_xlate(&t, SID, 1ULL << 50, SIO_READ, 0, 1ULL << 50);
    vt_fini(&t);

    /* Without ECAP.PT, TT=10 is an invalid context entry. */
    struct sio_vtd_config c = {.features = SIO_VTD_F_EXPLICIT | SIO_VTD_F_SP2M};
    vt_init(&t, &c);
    t.root = vt_page(&t);
    vt_ctx_entry(&t, SID, ctx_lo(0, 2, 0), ctx_hi(2, 3));
    vt_linux_bringup(&t);
    expect_xlate(&t, SID, 0x1000, SIO_READ, 0x3, 0);
    vt_fini(&t);
}

static void test_invalid_context(void **state)
{
    (void)state;
    struct vt t;
    uint64_t top = setup(&t, NULL, 2, 1); /* 48-bit unit: SAGAW = 39, 48 */
    vt_map(&t, top, 4, 0x1000, 0x5000, 1, 3);
    uint64_t ct = vt_ctx_table(&t, SID >> 8);
    uint64_t ce = ct + 16 * (SID & 0xff);
    struct {
        uint64_t lo, hi;
        int fr;
        const char *what;
    } cases[] = {
        {ctx_lo(top, 0, 0), ctx_hi(2, 1), 0, "valid"},
        {ctx_lo(top, 1, 0), ctx_hi(2, 1), 0, "TT=01 with DT (the default)"},
        {ctx_lo(top, 3, 0), ctx_hi(2, 1), 0x3, "TT=11"},
        {ctx_lo(top, 0, 0), ctx_hi(3, 1), 0x3, "AW 57-bit not in SAGAW"},
        {ctx_lo(top, 0, 0), ctx_hi(0, 1), 0x3, "AW 30-bit not in SAGAW"},
        {ctx_lo(top, 0, 0), ctx_hi(5, 1), 0x3, "AW reserved value"},
        {ctx_lo(top, 0, 0) | 0x10, ctx_hi(2, 1), 0xB, "lo bit 4 reserved"},
        {ctx_lo(top, 0, 0) | 0x800, ctx_hi(2, 1), 0xB, "lo bit 11 reserved"},
        {ctx_lo(top, 0, 0), ctx_hi(2, 1) | 0x80, 0xB, "bit 71 reserved"},
        {ctx_lo(top, 0, 0), ctx_hi(2, 1) | (1ULL << 24), 0xB, "bit 88 reserved"},
        {ctx_lo(top, 0, 0), ctx_hi(2, 1) | (1ULL << 63), 0xB, "bit 127 reserved"},
        {ctx_lo(top | (1ULL << 48), 0, 0), ctx_hi(2, 1), 0xB, "SLPTPTR at HAW"},
        {ctx_lo(top, 0, 0), ctx_hi(2, 1) | 0x78, 0, "70:67 available, ignored"},
        {0, ctx_hi(2, 1), 0x2, "not present"},
        {0x10, ~0ULL, 0x2, "not present: other bits not checked"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vt_w64(&t, ce, cases[i].lo);
        vt_w64(&t, ce + 8, cases[i].hi);
        /* A context change is followed by context and IOTLB flushes (VT-d 5). */
        assert_int_equal(vt_ccmd(&t, CCMD_GLOBAL), 1);
        assert_int_equal(vt_iotlb(&t, 0, IOTLB_GLOBAL), 1);
        struct sio_xlate x;
        int fr = vt_xlate(&t, SID, 0x1000, SIO_READ, &x);
        if (fr != cases[i].fr) {
            print_message("case '%s': fr 0x%x, want 0x%x\n", cases[i].what, fr, cases[i].fr);
            vt_dump(&t, SID, 0x1000, SIO_READ);
            fail();
        }
    }
    vt_fini(&t);
    /* Without DT (ECAP.DT=0), TT=01 is an invalid context entry. */
    struct sio_vtd_config nodt = {.features = SIO_VTD_F_DEFAULT & ~SIO_VTD_F_DT};
    top = setup(&t, &nodt, 2, 1);
    vt_map(&t, top, 4, 0x1000, 0x5000, 1, 3);
    vt_ctx_entry(&t, SID, ctx_lo(top, 1, 0), ctx_hi(2, 1));
    assert_int_equal(vt_ccmd(&t, CCMD_GLOBAL), 1);
    expect_xlate(&t, SID, 0x1000, SIO_READ, 0x3, 0);
    vt_fini(&t);
}

static void test_root_faults(void **state)
{
    (void)state;
    struct vt t;
    uint64_t top = setup(&t, NULL, 2, 1);
    vt_map(&t, top, 4, 0x1000, 0x5000, 1, 3);
    uint64_t re = t.root + 16 * (SID >> 8);
    uint64_t ct = vt_r64(&t, re) & ~0xfffULL;
    struct {
        uint64_t lo, hi;
        int fr;
    } cases[] = {
        {ct | 1, 0, 0},
        {0, 0, 0x1},
        {ct, 0, 0x1},                      /* P=0 */
        {ct | 0xFFE, 0, 0x1},              /* P=0: reserved bits not looked at */
        {ct | 1 | 2, 0, 0xA},              /* bit 1 */
        {ct | 1 | 0x800, 0, 0xA},          /* bit 11 */
        {ct | 1, 1, 0xA},                  /* bit 64 */
        {ct | 1, 1ULL << 63, 0xA},         /* bit 127 */
        {(ct | (1ULL << 50)) | 1, 0, 0xA}, /* CTP above HAW (48) */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vt_w64(&t, re, cases[i].lo);
        vt_w64(&t, re + 8, cases[i].hi);
        assert_int_equal(vt_ccmd(&t, CCMD_GLOBAL), 1);
        assert_int_equal(vt_iotlb(&t, 0, IOTLB_GLOBAL), 1);
        expect_xlate(&t, SID, 0x1000, SIO_READ, cases[i].fr, 0x5000);
    }
    vt_fini(&t);
}

static void test_fetch_errors(void **state)
{
    (void)state;
    struct vt t;
    const uint64_t mem = 16ULL << 20; /* memory ends at 16 MiB */
    vt_init_mem(&t, NULL, mem);
    uint64_t top = vt_one_device(&t, SID, 0, 2, 1);
    vt_map(&t, top, 4, 0x1000, 0x5000, 1, 3);
    vt_linux_bringup(&t);
    expect_xlate(&t, SID, 0x1000, SIO_READ, 0, 0x5000);
    /* SL table pointer beyond memory: 0x7. */
    uint64_t pml4e = vt_entry_addr(&t, top, 4, 0x1000, 4);
    uint64_t saved = vt_r64(&t, pml4e);
    vt_w64(&t, pml4e, mem | 3);
    assert_int_equal(vt_iotlb(&t, 0, IOTLB_GLOBAL), 1); /* also drops the cached PML4E */
    expect_xlate(&t, SID, 0x1000, SIO_READ, 0x7, 0);
    vt_w64(&t, pml4e, saved);
    /* SLPTPTR beyond memory: 0x7 too. */
    vt_ctx_entry(&t, SID, ctx_lo(mem + 0x10000, 0, 0), ctx_hi(2, 1));
    assert_int_equal(vt_ccmd(&t, CCMD_GLOBAL), 1);
    assert_int_equal(vt_iotlb(&t, 0, IOTLB_GLOBAL), 1);
    expect_xlate(&t, SID, 0x1000, SIO_READ, 0x7, 0);
    /* Context table beyond memory: 0x9. */
    vt_root_entry(&t, SID >> 8, (mem + 0x20000) | 1, 0);
    assert_int_equal(vt_ccmd(&t, CCMD_GLOBAL), 1);
    expect_xlate(&t, SID, 0x1000, SIO_READ, 0x9, 0);
    /* Root table beyond memory: 0x8. */
    wr64(&t, R_RTADDR, mem + 0x40000);
    wr32(&t, R_GCMD, GCMD_SRTP | GCMD_TE);
    assert_int_equal(vt_ccmd(&t, CCMD_GLOBAL), 1);
    expect_xlate(&t, SID, 0x1000, SIO_READ, 0x8, 0);
    vt_fini(&t);
}

static void test_sl_reserved_bits(void **state)
{
    (void)state;
    struct vt t;
    const uint64_t iova = 0x40201000; /* PML4 0, PDPT 1, PD 1, PT 1 */
    struct {
        unsigned level; /* entry to alter */
        uint64_t set;   /* bits or'ed in */
        int fr;
        const char *what;
    } cases[] = {
        {4, 1ULL << 7, 0xC, "PS in a PML4E"},
        {4, 1ULL << 11, 0xC, "SNP in a non-leaf"},
        {3, 1ULL << 62, 0xC, "TM in a non-leaf"},
        {2, 1ULL << 11, 0xC, "SNP in a PDE"},
        {1, 1ULL << 62, 0, "TM in a leaf with DT (the default)"},
        {1, 1ULL << 48, 0xC, "leaf address at HAW (48)"},
        {3, 1ULL << 51, 0xC, "table address bit 51"},
        {1, 0x7CULL, 0, "bits 6:2 ignored"},
        {1, 0x780ULL, 0, "bits 10:7 ignored in a 4K leaf"},
        {2, 0x700ULL, 0, "bits 10:8 ignored in a PDE"},
        {1, 0xBFF0000000000000ULL, 0, "bits 63, 61:52 ignored"},
        {1, 1ULL << 11, 0, "SNP in a leaf with SC"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t top = setup(&t, NULL, 2, 1);
        vt_map(&t, top, 4, iova, 0x7000000, 1, 3);
        uint64_t ea = vt_entry_addr(&t, top, 4, iova, cases[i].level);
        vt_w64(&t, ea, vt_r64(&t, ea) | cases[i].set);
        struct sio_xlate x;
        int fr = vt_xlate(&t, SID, iova, SIO_READ, &x);
        if (fr != cases[i].fr) {
            print_message("case '%s': fr 0x%x, want 0x%x\n", cases[i].what, fr, cases[i].fr);
            vt_dump(&t, SID, iova, SIO_READ);
            fail();
        }
        vt_fini(&t);
    }
    /* Without SC, SNP in a leaf is reserved. */
    struct sio_vtd_config nosc = {.features = SIO_VTD_F_EXPLICIT | SIO_VTD_F_SP2M};
    uint64_t top = setup(&t, &nosc, 2, 1);
    vt_map(&t, top, 4, iova, 0x7000000, 1, 3);
    uint64_t ea = vt_entry_addr(&t, top, 4, iova, 1);
    vt_w64(&t, ea, vt_r64(&t, ea) | (1ULL << 11));
    expect_xlate(&t, SID, iova, SIO_READ, 0xC, 0);
    vt_fini(&t);
    /* Without DT, TM in a leaf is reserved. */
    top = setup(&t, &nosc, 2, 1);
    vt_map(&t, top, 4, iova, 0x7000000, 1, 3);
    ea = vt_entry_addr(&t, top, 4, iova, 1);
    vt_w64(&t, ea, vt_r64(&t, ea) | (1ULL << 62));
    expect_xlate(&t, SID, iova, SIO_READ, 0xC, 0);
    vt_fini(&t);
    /* A smaller HAW moves the reserved boundary: bit 40 is reserved with HAW 40. */
    struct sio_vtd_config haw = {.haw_bits = 40};
    top = setup(&t, &haw, 2, 1);
    vt_map(&t, top, 4, iova, 1ULL << 39, 1, 3);
    expect_xlate(&t, SID, iova, SIO_READ, 0, 1ULL << 39);
    vt_map(&t, top, 4, iova + 4096, 1ULL << 40, 1, 3);
    expect_xlate(&t, SID, iova + 4096, SIO_READ, 0xC, 0);
    vt_fini(&t);
}

static void test_superpages(void **state)
{
    (void)state;
    struct vt t;
    uint64_t top = setup(&t, NULL, 2, 1);
    /* 2M with address bits 20:12 set, 1G with bits 29:12 set: reserved. */
    uint64_t pde = vt_map(&t, top, 4, 0x600000, 0x40000000 | 0x1000, 2, 3);
    expect_xlate(&t, SID, 0x600000, SIO_READ, 0xC, 0);
    vt_w64(&t, pde, 0x40000000 | 0x80 | 3);
    expect_xlate(&t, SID, 0x6abcde, SIO_READ, 0, 0x400abcde);
    vt_map(&t, top, 4, 0x80000000, 0x140000000 | 0x200000, 3, 3);
    expect_xlate(&t, SID, 0x80000000, SIO_READ, 0xC, 0);
    vt_fini(&t);
    /* Without SLLPS 2M, PS=1 in a PDE is 0xC; without 1G, in a PDPTE. */
    struct sio_vtd_config c2 = {.features = SIO_VTD_F_EXPLICIT | SIO_VTD_F_SP2M};
    top = setup(&t, &c2, 2, 1);
    vt_map(&t, top, 4, 0x600000, 0x40000000, 2, 3);
    expect_xlate(&t, SID, 0x600000, SIO_READ, 0, 0x40000000);
    vt_map(&t, top, 4, 0x80000000, 0x140000000, 3, 3);
    expect_xlate(&t, SID, 0x80000000, SIO_READ, 0xC, 0);
    vt_fini(&t);
    struct sio_vtd_config c0 = {.features = SIO_VTD_F_EXPLICIT};
    top = setup(&t, &c0, 2, 1);
    vt_map(&t, top, 4, 0x600000, 0x40000000, 2, 3);
    expect_xlate(&t, SID, 0x600000, SIO_READ, 0xC, 0);
    vt_fini(&t);
}

static void test_address_width(void **state)
{
    (void)state;
    struct vt t;
    struct sio_vtd_config c = {.aw_bits = 48};
    uint64_t top = setup(&t, &c, 1, 1); /* context AW 39-bit (3 levels) */
    vt_map(&t, top, 3, (1ULL << 39) - 4096, 0x5000, 1, 3);
    expect_xlate(&t, SID, (1ULL << 39) - 1, SIO_READ, 0, 0x5fff);
    expect_xlate(&t, SID, 1ULL << 39, SIO_READ, 0x4, 0);
    expect_xlate(&t, SID, ~0ULL, SIO_WRITE, 0x4, 0);
    vt_fini(&t);
}

static void test_ats_blocked(void **state)
{
    (void)state;
    struct vt t;
    uint64_t top = setup(&t, NULL, 2, 1);
    vt_map(&t, top, 4, 0x1000, 0x5000, 1, 3);
    expect_xlate(&t, SID, 0x1000, SIO_READ | SIO_AT_TRANSLATION_REQ, 0xD, 0);
    expect_xlate(&t, SID, 0x1000, SIO_WRITE | SIO_AT_TRANSLATED, 0xD, 0);
    expect_xlate(&t, SID, 0x1000, SIO_READ, 0, 0x5000);
    vt_fini(&t);
}

static void test_bad_requests(void **state)
{
    (void)state;
    struct vt t;
    setup(&t, NULL, 2, 1);
    struct sio_xlate x;
    uint8_t b[4] = {0};
    assert_int_equal(sio_vtd_translate(t.u, SID, 0, 0, &x), SIO_EINVAL);
    assert_int_equal(sio_vtd_translate(t.u, SID, 0, SIO_READ | 0x100, &x), SIO_EINVAL);
    assert_int_equal(sio_vtd_dma(t.u, SID, 0, b, 4, SIO_READ | SIO_WRITE), SIO_EINVAL);
    assert_int_equal(sio_vtd_dma(t.u, SID, 0, NULL, 4, SIO_READ), SIO_EINVAL);
    struct sio_vtd_stats s;
    sio_vtd_get_stats(t.u, &s);
    assert_int_equal(s.faults, 0);
    vt_fini(&t);
}

static void test_dma_split_and_stop(void **state)
{
    (void)state;
    struct vt t;
    uint64_t top = setup(&t, NULL, 2, 1);
    /* iova pages 0x10000, 0x11000 -> scattered frames; 0x12000 read-only; 0x13000 absent. */
    vt_map(&t, top, 4, 0x10000, 0xA000000, 1, 3);
    vt_map(&t, top, 4, 0x11000, 0x5000000, 1, 3);
    vt_map(&t, top, 4, 0x12000, 0x9000000, 1, 1);
    uint8_t buf[3 * 4096], back[4096];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 13 + 1);
    /* Starts 100 bytes before the first boundary: 100 + 4096 bytes over 2 pages. */
    assert_int_equal(sio_vtd_dma(t.u, SID, 0x10000 + 4096 - 100, buf, 4196, SIO_WRITE), 0);
    assert_int_equal(t.ops->read(t.pm, 0xA000000 + 4096 - 100, back, 100), 0);
    assert_memory_equal(back, buf, 100);
    assert_int_equal(t.ops->read(t.pm, 0x5000000, back, 4096), 0);
    assert_memory_equal(back, buf + 100, 4096);
    /* Reading it back through the unit. */
    uint8_t in[4296];
    assert_int_equal(sio_vtd_dma(t.u, SID, 0x10000 + 4096 - 100, in, 4196, SIO_READ), 0);
    assert_memory_equal(in, buf, 4196);
    /* A write that reaches the read-only page faults there: the page before is written,
     * the read-only frame is not. */
    memset(buf, 0x77, sizeof(buf));
    assert_int_equal(sio_vtd_dma(t.u, SID, 0x11000, buf, 8192, SIO_WRITE), 0x5);
    assert_int_equal(t.ops->read(t.pm, 0x5000000, back, 4096), 0);
    for (int i = 0; i < 4096; i++)
        assert_int_equal(back[i], 0x77);
    assert_int_equal(t.ops->read(t.pm, 0x9000000, back, 4096), 0);
    for (int i = 0; i < 4096; i++)
        assert_int_equal(back[i], 0);
    /* A read into the absent page faults with 0x6 after the mapped part was read. */
    memset(in, 0, sizeof(in));
    assert_int_equal(sio_vtd_dma(t.u, SID, 0x12000, in, 4096, SIO_READ), 0);
    assert_int_equal(sio_vtd_dma(t.u, SID, 0x12ff0, in, 32, SIO_READ), 0x6);
    vt_fini(&t);
}

static void test_dma_superpage_and_unbacked(void **state)
{
    (void)state;
    struct vt t;
    vt_init_mem(&t, NULL, 1ULL << 31);
    uint64_t top = vt_one_device(&t, SID, 0, 2, 1);
    vt_linux_bringup(&t);
    vt_map(&t, top, 4, 0x200000, 0x40000000, 2, 3);
    static uint8_t big[3 << 20];
    memset(big, 0x5a, sizeof(big));
    /* 2 MiB page: one translation covers the whole transfer up to the next 2M boundary. */
    struct sio_vtd_stats s0, s1;
    sio_vtd_get_stats(t.u, &s0);
    assert_int_equal(sio_vtd_dma(t.u, SID, 0x200000, big, 2 << 20, SIO_WRITE), 0);
    sio_vtd_get_stats(t.u, &s1);
    assert_int_equal(s1.translations - s0.translations, 1);
    /* Past the 2M page nothing is mapped: fault 0x5 after exactly 2 MiB. */
    assert_int_equal(sio_vtd_dma(t.u, SID, 0x200000, big, 3 << 20, SIO_WRITE), 0x5);
    /* Mapped to memory the embedder does not back: an error, not a fault. */
    vt_map(&t, top, 4, 0x10000, 1ULL << 40, 1, 3);
    assert_int_equal(sio_vtd_dma(t.u, SID, 0x10000, big, 16, SIO_WRITE), SIO_EFAULT);
    vt_fini(&t);
}

static void test_zero_length_read(void **state)
{
    (void)state;
    struct vt t;
    uint64_t top = setup(&t, NULL, 2, 1);     /* ZLR advertised by default */
    vt_map(&t, top, 4, 0x1000, 0x5000, 1, 2); /* write-only */
    assert_int_equal(sio_vtd_dma(t.u, SID, 0x1000, NULL, 0, SIO_READ), 0);
    assert_int_equal(sio_vtd_dma(t.u, SID, 0x1000, (uint8_t[1]){0}, 1, SIO_READ), 0x6);
    vt_fini(&t);
    struct sio_vtd_config c = {.features = SIO_VTD_F_EXPLICIT | SIO_VTD_F_SP2M};
    top = setup(&t, &c, 2, 1);
    vt_map(&t, top, 4, 0x1000, 0x5000, 1, 2);
    assert_int_equal(sio_vtd_dma(t.u, SID, 0x1000, NULL, 0, SIO_READ), 0x6);
    vt_fini(&t);
}

static void test_walk_dump(void **state)
{
    (void)state;
    struct vt t;
    uint64_t top = setup(&t, NULL, 2, 5);
    vt_map(&t, top, 4, 0x80000000, 0x123000, 1, 1);
    char buf[4096];
    assert_int_equal(sio_vtd_walk_dump(t.u, SID, 0x80000000, SIO_WRITE, buf, sizeof(buf)), 0x5);
    assert_non_null(strstr(buf, "walk 0000:01:02.0 iova 0x80000000 write"));
    assert_non_null(strstr(buf, "root[01]"));
    assert_non_null(strstr(buf, "context[10]"));
    assert_non_null(strstr(buf, "DID=5"));
    assert_non_null(strstr(buf, "L4 PML4E[000]"));
    assert_non_null(strstr(buf, "L3 PDPTE[002]"));
    assert_non_null(strstr(buf, "L2 PDE[000]"));
    assert_non_null(strstr(buf, "L1 PTE[000]"));
    assert_non_null(strstr(buf, "result: fault 0x05 PTE Write access is not set"));
    assert_int_equal(sio_vtd_walk_dump(t.u, SID, 0x80000abc, SIO_READ, buf, sizeof(buf)), 0);
    assert_non_null(strstr(buf, "result: pa 0x123abc page 4K perm R-"));
    /* The dump neither records faults nor fills caches. */
    struct sio_vtd_stats s;
    sio_vtd_get_stats(t.u, &s);
    assert_int_equal(s.faults, 0);
    assert_int_equal(s.walks, 0);
    assert_int_equal(rd32(&t, R_FSTS), 0);
    /* Truncation is safe. */
    char small[16];
    sio_vtd_walk_dump(t.u, SID, 0x80000000, SIO_READ, small, sizeof(small));
    assert_int_equal(strlen(small), sizeof(small) - 1);
    vt_fini(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aw_pagesize_perm_matrix),
        cmocka_unit_test(test_perms_anded_across_levels),
        cmocka_unit_test(test_not_present_levels),
        cmocka_unit_test(test_te_off_and_passthrough),
        cmocka_unit_test(test_invalid_context),
        cmocka_unit_test(test_root_faults),
        cmocka_unit_test(test_fetch_errors),
        cmocka_unit_test(test_sl_reserved_bits),
        cmocka_unit_test(test_superpages),
        cmocka_unit_test(test_address_width),
        cmocka_unit_test(test_ats_blocked),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_dma_split_and_stop),
        cmocka_unit_test(test_dma_superpage_and_unbacked),
        cmocka_unit_test(test_zero_length_read),
        cmocka_unit_test(test_walk_dump),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

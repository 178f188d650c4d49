/* VT-d model: fault recording registers, FSTS, the fault event (IM/IP) rules, FPD, and the
 * Linux-format fault line (VT-d 1, 4). */
#include "test_vtd_tables.h"

#define SID  0x0010 /* 00:02.0 */
#define SID2 0x0318 /* 03:03.0 */

/* A unit with TE on; SID has a 4-level table with 0x1000 RW, 0x80000000 read-only. */
static uint64_t setup(struct vt *t, const struct sio_vtd_config *cfg, unsigned fpd)
{
    vt_init(t, cfg);
    uint64_t top = vt_one_device(t, SID, fpd, 2, 1);
    vt_map(t, top, 4, 0x1000, 0x5000, 1, 3);
    vt_map(t, top, 4, 0x80000000, 0x6000, 1, 1);
    vt_linux_bringup(t);
    return top;
}

static void flush_all(struct vt *t)
{
    assert_int_equal(vt_ccmd(t, CCMD_GLOBAL), 1);
    assert_int_equal(vt_iotlb(t, 0, IOTLB_GLOBAL), 1);
}

/* ---- every reason, and what its record holds ------------------------------------------- */

struct scenario {
    unsigned fr;
    uint16_t sid;
    uint64_t iova;
    unsigned access;
    void (*prepare)(struct vt *t, uint64_t top);
};

static void p_none(struct vt *t, uint64_t top)
{
    (void)t;
    (void)top;
}
static void p_root_np(struct vt *t, uint64_t top)
{
    (void)top;
    vt_root_entry(t, SID2 >> 8, 0, 0);
}
static void p_ctx_np(struct vt *t, uint64_t top)
{
    (void)top;
    vt_ctx_entry(t, SID2, 0, 0);
}
static void p_ctx_tt(struct vt *t, uint64_t top)
{
    vt_ctx_entry(t, SID2, ctx_lo(top, 3, 0), ctx_hi(2, 1));
}
static void p_sl_fetch(struct vt *t, uint64_t top)
{
    (void)top;
    vt_ctx_entry(t, SID2, ctx_lo(1ULL << 40, 0, 0), ctx_hi(2, 1)); /* beyond pmem (64 GiB) */
}
static void p_root_fetch(struct vt *t, uint64_t top)
{
    (void)top;
    wr64(t, R_RTADDR, 1ULL << 40);
    wr32(t, R_GCMD, GCMD_SRTP | GCMD_TE);
}
static void p_ctx_fetch(struct vt *t, uint64_t top)
{
    (void)top;
    vt_root_entry(t, SID2 >> 8, (1ULL << 40) | 1, 0);
}
static void p_root_rsvd(struct vt *t, uint64_t top)
{
    (void)top;
    uint64_t ct = vt_ctx_table(t, SID2 >> 8);
    vt_root_entry(t, SID2 >> 8, ct | 1, 0x4);
}
static void p_ctx_rsvd(struct vt *t, uint64_t top)
{
    vt_ctx_entry(t, SID2, ctx_lo(top, 0, 0) | 0x100, ctx_hi(2, 1));
}
static void p_sl_rsvd(struct vt *t, uint64_t top)
{
    uint64_t ea = vt_entry_addr(t, top, 4, 0x1000, 1);
    vt_w64(t, ea, vt_r64(t, ea) | (1ULL << 50)); /* address bit above HAW 48 */
}

static void test_each_reason_recorded(void **state)
{
    (void)state;
    const struct scenario sc[] = {
        {0x1, SID2, 0x1000, SIO_READ, p_root_np},
        {0x2, SID2, 0x2000, SIO_WRITE, p_ctx_np},
        {0x3, SID2, 0x3000, SIO_READ, p_ctx_tt},
        {0x4, SID, 1ULL << 48, SIO_WRITE, p_none},
        {0x5, SID, 0x80000123, SIO_WRITE, p_none},
        {0x6, SID, 0x7000, SIO_READ, p_none},
        {0x7, SID2, 0x4000, SIO_WRITE, p_sl_fetch},
        {0x8, SID, 0x5000, SIO_READ, p_root_fetch},
        {0x9, SID2, 0x6000, SIO_READ, p_ctx_fetch},
        {0xA, SID2, 0x7000, SIO_WRITE, p_root_rsvd},
        {0xB, SID2, 0x8000, SIO_READ, p_ctx_rsvd},
        {0xC, SID, 0x1000, SIO_READ, p_sl_rsvd},
        {0xD, SID, 0x1000, SIO_READ | SIO_AT_TRANSLATION_REQ, p_none},
    };
    for (size_t i = 0; i < sizeof(sc) / sizeof(sc[0]); i++) {
        struct vt t;
        struct sio_vtd_config c = {.nfr = 4};
        uint64_t top = setup(&t, &c, 0);
        sc[i].prepare(&t, top);
        flush_all(&t);
        struct sio_xlate x;
        int fr = vt_xlate(&t, sc[i].sid, sc[i].iova, sc[i].access, &x);
        if (fr != (int)sc[i].fr) {
            print_message("reason 0x%x: got 0x%x\n", sc[i].fr, fr);
            vt_dump(&t, sc[i].sid, sc[i].iova, sc[i].access);
            fail();
        }
        assert_int_equal(x.fault_reason, sc[i].fr);
        uint64_t hi, lo;
        vt_frcd(&t, 0, &hi, &lo);
        uint64_t want_hi = frcd_hi(sc[i].sid, sc[i].fr, sc[i].access & SIO_READ);
        if (sc[i].access & SIO_AT_TRANSLATION_REQ)
            want_hi |= 1ULL << 60; /* AT = 01 in 125:124 */
        assert_int_equal(hi, want_hi);
        assert_int_equal(lo, sc[i].iova & ~0xfffULL);
        /* PPF set, FRI 0, nothing in the other records. */
        assert_int_equal(rd32(&t, R_FSTS), FSTS_PPF);
        vt_frcd(&t, 1, &hi, &lo);
        assert_int_equal(hi, 0);
        vt_fini(&t);
    }
}

static void test_fpd_suppresses_only_qualified(void **state)
{
    (void)state;
    struct vt t;
    uint64_t top = setup(&t, NULL, 1); /* SID's context has FPD=1 */
    /* Qualified: blocked, not recorded. */
    expect_xlate(&t, SID, 0x80000000, SIO_WRITE, 0x5, 0);
    expect_xlate(&t, SID, 0x9000, SIO_READ, 0x6, 0);
    expect_xlate(&t, SID, 1ULL << 50, SIO_READ, 0x4, 0);
    expect_xlate(&t, SID, 0x1000, SIO_READ | SIO_AT_TRANSLATED, 0xD, 0);
    assert_int_equal(rd32(&t, R_FSTS), 0);
    assert_int_equal(rd64(&t, R_FRCD + 8), 0);
    /* A not-present context entry with FPD=1: 0x2 is qualified, not recorded either. */
    vt_ctx_entry(&t, SID2, 0x2, 0);
    expect_xlate(&t, SID2, 0x1000, SIO_READ, 0x2, 0);
    assert_int_equal(rd32(&t, R_FSTS), 0);
    /* Non-qualified: reserved bits in the same FPD=1 context entry are recorded (0xB). */
    vt_ctx_entry(&t, SID, ctx_lo(top, 0, 1) | 0x20, ctx_hi(2, 1));
    flush_all(&t);
    expect_xlate(&t, SID, 0x1000, SIO_READ, 0xB, 0);
    uint64_t hi, lo;
    vt_frcd(&t, 0, &hi, &lo);
    assert_int_equal(hi, frcd_hi(SID, 0xB, 1));
    struct sio_vtd_stats s;
    sio_vtd_get_stats(t.u, &s);
    assert_int_equal(s.faults, 6);
    assert_int_equal(s.faults_fpd, 5);
    assert_int_equal(s.faults_recorded, 1);
    vt_fini(&t);
}

/* ---- overflow, FRI, and the Linux service loop ----------------------------------------- */

static void fault_at(struct vt *t, uint64_t page)
{
    expect_xlate(t, SID, page, SIO_READ, 0x6, 0);
}

static void test_overflow_never_overwrites(void **state)
{
    (void)state;
    struct vt t;
    struct sio_vtd_config c = {.nfr = 4};
    setup(&t, &c, 0);
    for (unsigned i = 0; i < 4; i++)
        fault_at(&t, 0x100000 + 0x1000 * i);
    assert_int_equal(rd32(&t, R_FSTS), FSTS_PPF); /* FRI 0 */
    /* Fifth fault: record 0 is still full -> PFO, fault dropped. */
    fault_at(&t, 0x200000);
    assert_int_equal(rd32(&t, R_FSTS), FSTS_PPF | FSTS_PFO);
    for (unsigned i = 0; i < 4; i++) {
        uint64_t hi, lo;
        vt_frcd(&t, i, &hi, &lo);
        assert_int_equal(hi, frcd_hi(SID, 6, 1));
        assert_int_equal(lo, 0x100000 + 0x1000 * i);
    }
    /* Clear record 0 (32-bit write of F to the top dword, as Linux does): FRI moves to the
     * oldest pending record, 1. PFO is still set, so the next fault is dropped although
     * record 0 is free. */
    wr32(&t, R_FRCD + 12, 0x80000000u);
    assert_int_equal(rd32(&t, R_FSTS), FSTS_PPF | FSTS_PFO | (1u << 8));
    fault_at(&t, 0x300000);
    /* Record 0 keeps the served fault's fields, F clear: not overwritten. */
    assert_int_equal(rd64(&t, R_FRCD + 8), frcd_hi(SID, 6, 1) & ~(1ULL << 63));
    assert_int_equal(rd64(&t, R_FRCD), 0x100000);
    /* Clear PFO: the next fault goes to record 0 (the circular position after 3). */
    wr32(&t, R_FSTS, FSTS_PFO);
    assert_int_equal(rd32(&t, R_FSTS), FSTS_PPF | (1u << 8));
    fault_at(&t, 0x400000);
    uint64_t hi, lo;
    vt_frcd(&t, 0, &hi, &lo);
    assert_int_equal(lo, 0x400000);
    /* FRI still names record 1, the oldest. Next fault: record 1 is full -> PFO again. */
    assert_int_equal((rd32(&t, R_FSTS) >> 8) & 0xff, 1);
    fault_at(&t, 0x500000);
    assert_int_equal(rd32(&t, R_FSTS) & FSTS_PFO, FSTS_PFO);
    vt_frcd(&t, 1, &hi, &lo);
    assert_int_equal(lo, 0x101000);
    struct sio_vtd_stats s;
    sio_vtd_get_stats(t.u, &s);
    assert_int_equal(s.faults, 8);
    assert_int_equal(s.faults_recorded, 5);
    assert_int_equal(s.faults_overflow, 3);
    vt_fini(&t);
}

/* Linux's dmar_fault(): from FRI, read the top dword, stop at F=0, decode, clear F, advance
 * modulo NFR; finally write PFO|PPF|PRO to FSTS. Returns the records seen, in order. */
static unsigned linux_service(struct vt *t, unsigned nfr, uint64_t *addrs)
{
    unsigned n = 0;
    uint32_t fsts = rd32(t, R_FSTS);
    if (fsts & FSTS_PPF) {
        unsigned i = (fsts >> 8) & 0xff;
        for (;;) {
            uint32_t top = rd32(t, R_FRCD + 16 * i + 12);
            if (!(top & 0x80000000u))
                break;
            addrs[n++] = rd64(t, R_FRCD + 16 * i);
            wr32(t, R_FRCD + 16 * i + 12, 0x80000000u);
            i = (i + 1) % nfr;
        }
    }
    wr32(t, R_FSTS, FSTS_PFO | FSTS_PPF | 0x80);
    return n;
}

static void test_linux_service_loop(void **state)
{
    (void)state;
    struct vt t;
    struct sio_vtd_config c = {.nfr = 3};
    setup(&t, &c, 0);
    uint64_t seen[8];
    /* Two faults, served; then three more wrap around the ring and are served in order. */
    fault_at(&t, 0x10000);
    fault_at(&t, 0x11000);
    assert_int_equal(linux_service(&t, 3, seen), 2);
    assert_int_equal(seen[0], 0x10000);
    assert_int_equal(seen[1], 0x11000);
    assert_int_equal(rd32(&t, R_FSTS) & 0xff, 0); /* FRI: only valid with PPF */
    fault_at(&t, 0x12000);                        /* record 2 */
    fault_at(&t, 0x13000);                        /* record 0 */
    fault_at(&t, 0x14000);                        /* record 1 */
    assert_int_equal((rd32(&t, R_FSTS) >> 8) & 0xff, 2);
    assert_int_equal(linux_service(&t, 3, seen), 3);
    assert_int_equal(seen[0], 0x12000);
    assert_int_equal(seen[1], 0x13000);
    assert_int_equal(seen[2], 0x14000);
    assert_int_equal(rd32(&t, R_FSTS) & 0xff, 0); /* FRI: only valid with PPF */
    vt_fini(&t);
}

/* ---- fault events: IM/IP (VT-d 1) --------------------------------------------------------- */

static void program_event(struct vt *t)
{
    wr32(t, R_FEDATA, 0x4041);
    wr32(t, R_FEADDR, 0xfee0100c);
    wr32(t, R_FEUADDR, 0x1);
}

static void expect_msi(struct vt *t, unsigned n)
{
    assert_int_equal(t->msis.n, n);
    if (n) {
        assert_int_equal(t->msis.addr[n - 1], 0x1fee0100cULL);
        assert_int_equal(t->msis.data[n - 1], 0x4041);
    }
}

static void test_event_masked_then_unmasked(void **state)
{
    (void)state;
    struct vt t;
    setup(&t, NULL, 0);
    program_event(&t);
    /* IM=1 at reset: the first fault sets IP and sends nothing. */
    fault_at(&t, 0x10000);
    expect_msi(&t, 0);
    assert_int_equal(rd32(&t, R_FECTL), FECTL_IM | FECTL_IP);
    /* More faults while PPF is set are not new conditions. */
    fault_at(&t, 0x11000);
    /* Unmasking delivers the held event once and clears IP. */
    wr32(&t, R_FECTL, 0);
    expect_msi(&t, 1);
    assert_int_equal(rd32(&t, R_FECTL), 0);
    /* IM=0, PPF still set: another fault is not a new condition. */
    fault_at(&t, 0x12000);
    expect_msi(&t, 1);
    /* Everything cleared, then a fault: a new condition, sent at once. */
    uint64_t seen[8];
    assert_int_equal(linux_service(&t, 8, seen), 3);
    fault_at(&t, 0x13000);
    expect_msi(&t, 2);
    assert_int_equal(rd32(&t, R_FECTL), 0);
    vt_fini(&t);
}

static void test_event_dropped_when_status_clears(void **state)
{
    (void)state;
    struct vt t;
    setup(&t, NULL, 0);
    program_event(&t);
    fault_at(&t, 0x10000);
    assert_int_equal(rd32(&t, R_FECTL), FECTL_IM | FECTL_IP);
    /* Software serves the fault while masked: IP goes away, unmasking sends nothing. */
    wr32(&t, R_FRCD + 12, 0x80000000u);
    assert_int_equal(rd32(&t, R_FSTS), 0);
    assert_int_equal(rd32(&t, R_FECTL), FECTL_IM);
    wr32(&t, R_FECTL, 0);
    expect_msi(&t, 0);
    vt_fini(&t);
}

static void test_event_pfo_not_new(void **state)
{
    (void)state;
    struct vt t;
    struct sio_vtd_config c = {.nfr = 1};
    setup(&t, &c, 0);
    program_event(&t);
    wr32(&t, R_FECTL, 0);
    fault_at(&t, 0x10000);
    expect_msi(&t, 1);
    fault_at(&t, 0x11000); /* overflow: PFO joins PPF, no new condition */
    assert_int_equal(rd32(&t, R_FSTS), FSTS_PPF | FSTS_PFO);
    expect_msi(&t, 1);
    /* Clearing the record leaves PFO: still a status, the next fault is dropped silently. */
    wr32(&t, R_FRCD + 12, 0x80000000u);
    fault_at(&t, 0x12000);
    expect_msi(&t, 1);
    assert_int_equal(rd32(&t, R_FSTS), FSTS_PFO);
    /* PFO cleared too: the next fault is a new condition. */
    wr32(&t, R_FSTS, FSTS_PFO);
    fault_at(&t, 0x13000);
    expect_msi(&t, 2);
    vt_fini(&t);
}

/* The interrupt handler may call straight back into the unit (no lock is held). */
struct reentrant {
    struct vt *t;
    unsigned calls;
    uint32_t fsts;
};
static void reentrant_msi(void *ctx, uint64_t addr, uint32_t data)
{
    (void)addr;
    (void)data;
    struct reentrant *r = ctx;
    r->calls++;
    r->fsts = rd32(r->t, R_FSTS);
    wr32(r->t, R_FRCD + 12, 0x80000000u); /* serve it */
}

static void test_event_handler_reenters(void **state)
{
    (void)state;
    struct vt t;
    setup(&t, NULL, 0);
    sio_vtd_destroy(t.u);
    struct reentrant r = {&t, 0, 0};
    struct sio_irq_ops ops = {reentrant_msi};
    t.u = sio_vtd_create(NULL, t.ops, t.pm, &ops, &r);
    vt_linux_bringup(&t);
    wr32(&t, R_FECTL, 0);
    expect_xlate(&t, SID, 0x80000000, SIO_WRITE, 0x5, 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.fsts, FSTS_PPF);
    assert_int_equal(rd32(&t, R_FSTS), 0);
    vt_fini(&t);
}

/* ---- decode and the Linux line ------------------------------------------------------------ */

static void test_linux_format(void **state)
{
    (void)state;
    struct vt t;
    setup(&t, NULL, 0);
    /* DESIGN.md's line: device 00:02.0 writes to the read-only page at 0x80000000. */
    expect_xlate(&t, SID, 0x80000000, SIO_WRITE, 0x5, 0);
    uint64_t hi, lo;
    vt_frcd(&t, 0, &hi, &lo);
    struct sio_vtd_fault f;
    sio_vtd_fault_decode(hi, lo, &f);
    assert_int_equal(f.sid, SID);
    assert_int_equal(f.reason, 5);
    assert_int_equal(f.read, 0);
    assert_int_equal(f.pending, 1);
    char line[256];
    sio_vtd_fault_format(&f, 0, line, sizeof(line));
    assert_string_equal(line, "DMAR: [DMA Write NO_PASID] Request device [0000:00:02.0] fault "
                              "addr 0x80000000 [fault reason 0x05] PTE Write access is not set");
    /* A read, on another segment. */
    expect_xlate(&t, SID, 0x7000, SIO_READ, 0x6, 0);
    vt_frcd(&t, 1, &hi, &lo);
    sio_vtd_fault_decode(hi, lo, &f);
    sio_vtd_fault_format(&f, 1, line, sizeof(line));
    assert_string_equal(line, "DMAR: [DMA Read NO_PASID] Request device [0001:00:02.0] fault "
                              "addr 0x7000 [fault reason 0x06] PTE Read access is not set");
    vt_fini(&t);

    /* Hand-built records: an interrupt-remapping fault (index in FI 63:48), a PASID one,
     * reason 0 and an unknown reason. */
    sio_vtd_fault_decode((1ULL << 63) | (0x22ULL << 32) | 0xf8, 0x001fULL << 48, &f);
    sio_vtd_fault_format(&f, 0, line, sizeof(line));
    assert_string_equal(line, "DMAR: [INTR-REMAP] Request device [0000:00:1f.0] fault index "
                              "0x1f [fault reason 0x22] Present field in the IRTE entry is clear");
    /* PP (95) and PV (123:104) = 0x12345, T1 read. */
    sio_vtd_fault_decode((1ULL << 63) | (1ULL << 62) | (0x12345ULL << 40) | (0x06ULL << 32) |
                             (1ULL << 31) | 0x0101,
                         0xabc000, &f);
    assert_int_equal(f.pasid_present, 1);
    assert_int_equal(f.pasid, 0x12345);
    sio_vtd_fault_format(&f, 0, line, sizeof(line));
    assert_string_equal(line, "DMAR: [DMA Read PASID 0x12345] Request device [0000:01:00.1] "
                              "fault addr 0xabc000 [fault reason 0x06] PTE Read access is not set");
    sio_vtd_fault_decode(0, 0x1fff, &f);
    assert_int_equal(f.addr, 0x1000);
    assert_int_equal(f.pending, 0);
    sio_vtd_fault_format(&f, 0, line, sizeof(line));
    assert_non_null(strstr(line, "[fault reason 0x00] Software"));
    sio_vtd_fault_decode(0x77ULL << 32, 0, &f);
    sio_vtd_fault_format(&f, 0, line, sizeof(line));
    assert_non_null(strstr(line, "[fault reason 0x77] Unknown"));
    /* Truncation never overflows. */
    char tiny[8];
    assert_true(sio_vtd_fault_format(&f, 0, tiny, sizeof(tiny)) > 8);
    assert_int_equal(strlen(tiny), 7);
}

static void test_decode_every_field(void **state)
{
    (void)state;
    /* F, T1, AT=10, PV=0xfffff, FR=0x0c, PP, EXE, PRIV, T2, SID=0xbeef; FI with low bits
     * (reserved 11:0) set, which decoding drops. */
    uint64_t hi = (1ULL << 63) | (1ULL << 62) | (2ULL << 60) | (0xfffffULL << 40) |
                  (0x0cULL << 32) | (1ULL << 31) | (1ULL << 30) | (1ULL << 29) | (1ULL << 28) |
                  0xbeef;
    struct sio_vtd_fault f;
    sio_vtd_fault_decode(hi, 0xfedcba9876543fffULL, &f);
    assert_int_equal(f.addr, 0xfedcba9876543000ULL);
    assert_int_equal(f.sid, 0xbeef);
    assert_int_equal(f.reason, 0x0c);
    assert_int_equal(f.read, 1);
    assert_int_equal(f.t2, 1);
    assert_int_equal(f.at, 2);
    assert_int_equal(f.priv, 1);
    assert_int_equal(f.exe, 1);
    assert_int_equal(f.pasid_present, 1);
    assert_int_equal(f.pasid, 0xfffff);
    assert_int_equal(f.pending, 1);
    assert_int_equal(sio_vtd_fault_qualified(0x1), 0);
    assert_int_equal(sio_vtd_fault_qualified(0x2), 1);
    assert_int_equal(sio_vtd_fault_qualified(0x7), 1);
    assert_int_equal(sio_vtd_fault_qualified(0x8), 0);
    assert_int_equal(sio_vtd_fault_qualified(0xB), 0);
    assert_int_equal(sio_vtd_fault_qualified(0xC), 1);
    assert_int_equal(sio_vtd_fault_qualified(0xD), 1);
    assert_string_equal(sio_vtd_fault_reason_str(0x1), "Present bit in root entry is clear");
    assert_string_equal(sio_vtd_fault_reason_str(0xD),
                        "PCE for translation request specifies blocking");
}

/* ---- the fault observer ------------------------------------------------------------------ */

struct seen {
    unsigned n, recorded;
    struct sio_vtd_fault last;
};
static void observer(void *ctx, const struct sio_vtd_fault *f, int recorded)
{
    struct seen *s = ctx;
    s->n++;
    s->recorded += recorded ? 1 : 0;
    s->last = *f;
}

static void test_fault_hook(void **state)
{
    (void)state;
    struct vt t;
    setup(&t, NULL, 0);
    struct seen s = {0};
    sio_vtd_set_fault_hook(t.u, observer, &s);
    expect_xlate(&t, SID, 0x80000000, SIO_WRITE, 0x5, 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.recorded, 1);
    assert_int_equal(s.last.reason, 5);
    assert_int_equal(s.last.addr, 0x80000000);
    /* An FPD=1 device: observed but not recorded. */
    vt_ctx_entry(&t, SID2, 0x2, 0);
    expect_xlate(&t, SID2, 0x1000, SIO_READ, 0x2, 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.recorded, 1);
    assert_int_equal(s.last.sid, SID2);
    sio_vtd_set_fault_hook(t.u, NULL, NULL);
    expect_xlate(&t, SID2, 0x1000, SIO_READ, 0x2, 0);
    assert_int_equal(s.n, 2);
    vt_fini(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_reason_recorded),
        cmocka_unit_test(test_fpd_suppresses_only_qualified),
        cmocka_unit_test(test_overflow_never_overwrites),
        cmocka_unit_test(test_linux_service_loop),
        cmocka_unit_test(test_event_masked_then_unmasked),
        cmocka_unit_test(test_event_dropped_when_status_clears),
        cmocka_unit_test(test_event_pfo_not_new),
        cmocka_unit_test(test_event_handler_reenters),
        cmocka_unit_test(test_linux_format),
        cmocka_unit_test(test_decode_every_field),
        cmocka_unit_test(test_fault_hook),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

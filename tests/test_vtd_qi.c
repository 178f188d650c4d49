/* VT-d model: queued invalidation (VT-d 5; registers VT-d 1). Every descriptor, register value
 * and error code below is written from the digest's bit positions. */
#include "test_vtd_qi.h"

#define SID 0x0010 /* 00:02.0 */

/* Linux's order (init_dmars): QI first, then the root table, global context-cache and IOTLB
 * invalidation through the queue, TE. SID gets a 4-level table with 0x1000 -> 0x5000 RW. */
static uint64_t qt_bringup(struct qt *q, const struct sio_vtd_config *cfg)
{
    qt_init(q, cfg, 0);
    struct vt *t = &q->t;
    uint64_t top = vt_one_device(t, SID, 0, 2, 1);
    vt_map(t, top, 4, 0x1000, 0x5000, 1, 3);
    wr64(t, R_RTADDR, t->root);
    wr32(t, R_GCMD, q->gcmd | GCMD_SRTP);
    vt_poll(t, R_GSTS, 4, 0x40000000u, 0x40000000u);
    struct sio_u128 d[2] = {d_cc(1, 0, 0, 0), d_iotlb(1, 0, 0, 0, 0)};
    assert_int_equal(qt_submit_sync(q, d, 2), 0);
    q->gcmd |= GCMD_TE;
    wr32(t, R_GCMD, q->gcmd);
    vt_poll(t, R_GSTS, 4, GSTS_TES, GSTS_TES);
    return top;
}

/* ---- registers ----------------------------------------------------------------------------- */

static void test_registers(void **state)
{
    (void)state;
    struct vt t;
    vt_init(&t, NULL);
    /* ECAP.QI (bit 1) is advertised by default. */
    assert_int_equal((rd64(&t, R_ECAP) >> 1) & 1, 1);
    /* Reset values: IECTL.IM (31) set, everything else 0. */
    assert_int_equal(rd64(&t, R_IQH), 0);
    assert_int_equal(rd64(&t, R_IQT), 0);
    assert_int_equal(rd64(&t, R_IQA), 0);
    assert_int_equal(rd32(&t, R_ICS), 0);
    assert_int_equal(rd32(&t, R_IECTL), 0x80000000u);
    assert_int_equal(rd32(&t, R_IEDATA), 0);
    assert_int_equal(rd64(&t, R_IQERCD), 0);
    /* Writable bits: IQA 63:12 | 11 (DW) | 2:0 (QS); IQT 18:4; IQH read-only; IEDATA 15:0;
     * IEADDR 31:2; IEUADDR 31:0; IECTL only IM; ICS.IWC write-1-to-clear. */
    wr64(&t, R_IQA, ~0ULL);
    assert_int_equal(rd64(&t, R_IQA), 0xFFFFFFFFFFFFF807ULL);
    wr64(&t, R_IQA, 0);
    wr64(&t, R_IQT, ~0ULL);
    assert_int_equal(rd64(&t, R_IQT), 0x7FFF0);
    wr64(&t, R_IQT, 0);
    wr64(&t, R_IQH, ~0ULL);
    assert_int_equal(rd64(&t, R_IQH), 0);
    wr32(&t, R_IEDATA, ~0u);
    assert_int_equal(rd32(&t, R_IEDATA), 0xFFFF);
    wr32(&t, R_IEADDR, ~0u);
    assert_int_equal(rd32(&t, R_IEADDR), 0xFFFFFFFC);
    wr32(&t, R_IEUADDR, ~0u);
    assert_int_equal(rd32(&t, R_IEUADDR), 0xFFFFFFFF);
    wr32(&t, R_IECTL, ~0u);
    assert_int_equal(rd32(&t, R_IECTL), 0x80000000u);
    wr32(&t, R_IECTL, 0);
    assert_int_equal(rd32(&t, R_IECTL), 0);
    wr32(&t, R_ICS, ~0u);
    assert_int_equal(rd32(&t, R_ICS), 0);
    wr64(&t, R_IQERCD, ~0ULL);
    assert_int_equal(rd64(&t, R_IQERCD), 0);
    vt_fini(&t);

    /* Without QI: no ECAP.QI, no queue registers, and IR/DT go too (VT-d 1 dependencies). */
    struct sio_vtd_config noqi = {.features = SIO_VTD_F_DEFAULT & ~SIO_VTD_F_QI};
    vt_init(&t, &noqi);
    uint64_t ecap = rd64(&t, R_ECAP);
    assert_int_equal(ecap & 0x1E, 0);                 /* QI 1, DT 2, IR 3, EIM 4 */
    assert_int_equal((rd64(&t, R_CAP) >> 59) & 1, 0); /* PI */
    wr64(&t, R_IQA, 0x1000);
    assert_int_equal(rd64(&t, R_IQA), 0);
    wr32(&t, R_GCMD, GCMD_QIE);
    assert_int_equal(rd32(&t, R_GSTS), 0);
    vt_fini(&t);
}

static void test_enable_disable(void **state)
{
    (void)state;
    struct qt q;
    qt_init(&q, NULL, 0);
    uint64_t iqa = rd64(&q.t, R_IQA);
    assert_int_equal(iqa, q.base);
    /* IQA is frozen while QIE=1. */
    wr64(&q.t, R_IQA, 0x7000 | 3);
    assert_int_equal(rd64(&q.t, R_IQA), iqa);
    /* Advance the head with two waits, then disable: IQH goes back to 0 (IQT is kept). */
    qt_put(&q, d_wait(0, 1, 0, 7, q.status));
    qt_put(&q, d_wait(0, 0, 0, 0, 0));
    qt_kick(&q);
    assert_int_equal(vt_r32(&q.t, q.status), 7);
    assert_int_equal(rd64(&q.t, R_IQH), 2 << 4);
    q.gcmd &= ~GCMD_QIE;
    wr32(&q.t, R_GCMD, q.gcmd);
    vt_poll(&q.t, R_GSTS, 4, GSTS_QIES, 0);
    assert_int_equal(rd64(&q.t, R_IQH), 0);
    assert_int_equal(rd64(&q.t, R_IQT), 2 << 4);
    /* Now IQA is writable again. */
    wr64(&q.t, R_IQA, 0x7000 | 3);
    assert_int_equal(rd64(&q.t, R_IQA), 0x7003);
    /* IQT written while QIE=0 is not processed until QI is enabled. */
    wr64(&q.t, R_IQA, q.base);
    q.tail = 0;
    qt_put(&q, d_wait(0, 1, 0, 9, q.status));
    qt_kick(&q);
    assert_int_equal(vt_r32(&q.t, q.status), 7);
    q.gcmd |= GCMD_QIE;
    wr32(&q.t, R_GCMD, q.gcmd);
    assert_int_equal(vt_r32(&q.t, q.status), 9);
    assert_int_equal(rd64(&q.t, R_IQH), 1 << 4);
    qt_fini(&q);
}

/* ---- Linux's qi_submit_sync and the invalidations ------------------------------------------- */

static void test_linux_submit_sync(void **state)
{
    (void)state;
    struct qt q;
    uint64_t top = qt_bringup(&q, NULL);
    struct vt *t = &q.t;
    expect_xlate(t, SID, 0x1000, SIO_WRITE, 0, 0x5000);
    /* Remap the page: the IOTLB still answers with the old frame. */
    uint64_t pte = vt_entry_addr(t, top, 4, 0x1000, 1);
    vt_w64(t, pte, 0x9000 | 3);
    expect_xlate(t, SID, 0x1000, SIO_WRITE, 0, 0x5000);
    /* One page-selective invalidation (G=3, DID 1, AM 0) + wait, polled. */
    struct sio_u128 d = d_iotlb(3, 1, 0x1000, 0, 0);
    assert_int_equal(qt_submit_sync(&q, &d, 1), 0);
    expect_xlate(t, SID, 0x1000, SIO_WRITE, 0, 0x9000);
    assert_int_equal(rd64(t, R_IQH), rd64(t, R_IQT));
    /* Domain-selective (G=2) and device-selective context-cache (G=3, FM 0). */
    vt_w64(t, pte, 0xA000 | 3);
    d = d_iotlb(2, 1, 0, 0, 0);
    assert_int_equal(qt_submit_sync(&q, &d, 1), 0);
    expect_xlate(t, SID, 0x1000, SIO_WRITE, 0, 0xA000);
    vt_ctx_entry(t, SID, 0, 0);
    expect_xlate(t, SID, 0x1000, SIO_WRITE, 0, 0xA000); /* cached context, cached IOTLB */
    struct sio_u128 two[2] = {d_cc(3, 1, SID, 0), d_iotlb(2, 1, 0, 0, 0)};
    assert_int_equal(qt_submit_sync(&q, two, 2), 0);
    expect_xlate(t, SID, 0x1000, SIO_WRITE, 0x2, 0);
    struct sio_vtd_ext_stats st;
    sio_vtd_get_ext_stats(t->u, &st);
    assert_int_equal(st.qi_waits, 4);
    assert_int_equal(st.qi_descriptors, 4 + 2 + 1 + 1 + 2);
    assert_int_equal(st.qi_iqe, 0);
    qt_fini(&q);
}

/* VT-d 5: with QI on, CCMD and IOTLB register invalidations are refused (CAIG/IAIG = 0). */
static void test_register_invalidation_refused(void **state)
{
    (void)state;
    struct qt q;
    qt_bringup(&q, NULL);
    struct vt *t = &q.t;
    assert_int_equal(vt_ccmd(t, CCMD_GLOBAL), 0);
    assert_int_equal(vt_iotlb(t, 0, IOTLB_GLOBAL), 0);
    q.gcmd &= ~GCMD_QIE;
    wr32(t, R_GCMD, q.gcmd);
    vt_poll(t, R_GSTS, 4, GSTS_QIES, 0);
    assert_int_equal(vt_ccmd(t, CCMD_GLOBAL), 1);
    assert_int_equal(vt_iotlb(t, 0, IOTLB_GLOBAL), 1);
    qt_fini(&q);
}

/* In order: a wait between two invalidations writes its status before the second runs, and a
 * queue that wraps keeps going. */
static void test_order_and_wrap(void **state)
{
    (void)state;
    struct qt q;
    qt_init(&q, NULL, 0);
    /* 600 waits, each writing its own number to its own word, submitted in batches of 7 so the
     * 256-entry ring wraps twice. */
    uint64_t words = vt_page(&q.t);
    vt_page(&q.t);
    unsigned next = 0;
    while (next < 600) {
        for (unsigned k = 0; k < 7 && next < 600; k++, next++)
            qt_put(&q, d_wait(0, 1, 0, 1000 + next, words + 4ULL * next));
        qt_kick(&q);
        assert_int_equal(qt_head(&q), q.tail);
    }
    for (unsigned i = 0; i < 600; i++)
        assert_int_equal(vt_r32(&q.t, words + 4ULL * i), 1000 + i);
    /* QS=1: 512 entries, so index 300 is a valid tail. */
    qt_fini(&q);
    qt_init(&q, NULL, 1);
    for (unsigned i = 0; i < 300; i++)
        qt_put(&q, d_wait(0, 0, 1, 0, 0));
    qt_kick(&q);
    assert_int_equal(rd32(&q.t, R_FSTS), 0);
    assert_int_equal(qt_head(&q), 300);
    qt_fini(&q);
}

/* ---- the wait descriptor's interrupt (ICS.IWC, IECTL rules) --------------------------------- */

static void test_wait_interrupt(void **state)
{
    (void)state;
    struct qt q;
    qt_init(&q, NULL, 0);
    struct vt *t = &q.t;
    wr32(t, R_IEDATA, 0x51);
    wr32(t, R_IEADDR, 0xFEE02000);
    wr32(t, R_IEUADDR, 0);
    /* IM=1 (reset): IWC and IP set, nothing sent. */
    qt_put(&q, d_wait(1, 0, 0, 0, 0));
    qt_kick(&q);
    assert_int_equal(rd32(t, R_ICS), ICS_IWC);
    assert_int_equal(rd32(t, R_IECTL), 0xC0000000u);
    assert_int_equal(t->msis.n, 0);
    /* Clearing IM sends the held event and clears IP. */
    wr32(t, R_IECTL, 0);
    assert_int_equal(t->msis.n, 1);
    assert_int_equal(t->msis.addr[0], 0xFEE02000);
    assert_int_equal(t->msis.data[0], 0x51);
    assert_int_equal(rd32(t, R_IECTL), 0);
    /* IWC still set: another IF=1 wait is no new condition. */
    qt_put(&q, d_wait(1, 0, 0, 0, 0));
    qt_kick(&q);
    assert_int_equal(t->msis.n, 1);
    /* Clear IWC; the next one interrupts at once (IM=0). */
    wr32(t, R_ICS, ICS_IWC);
    assert_int_equal(rd32(t, R_ICS), 0);
    qt_put(&q, d_wait(1, 1, 0, 3, q.status));
    qt_kick(&q);
    assert_int_equal(t->msis.n, 2);
    assert_int_equal(vt_r32(t, q.status), 3);
    /* IM=1 again: held, then IWC cleared by software: the held event is dropped. */
    wr32(t, R_ICS, ICS_IWC);
    wr32(t, R_IECTL, 0x80000000u);
    qt_put(&q, d_wait(1, 0, 0, 0, 0));
    qt_kick(&q);
    assert_int_equal(rd32(t, R_IECTL), 0xC0000000u);
    wr32(t, R_ICS, ICS_IWC);
    assert_int_equal(rd32(t, R_IECTL), 0x80000000u);
    wr32(t, R_IECTL, 0);
    assert_int_equal(t->msis.n, 2);
    /* The fault event is not involved. */
    assert_int_equal(rd32(t, R_FSTS), 0);
    qt_fini(&q);
}

/* ---- queue errors (IQE) -----------------------------------------------------------------------
 */

struct bad {
    struct sio_u128 d;
    unsigned iqei;
    const char *what;
};

/* Submits good wait, bad descriptor, good wait: the first completes, the unit stops on the bad
 * one with IQE, the right IQEI, IQH on it and a fault event; more tail writes fetch nothing;
 * Linux's recovery (copy the wait over the bad slot, clear IQE) resumes the queue. */
static void check_bad(const struct bad *b)
{
    struct qt q;
    qt_init(&q, NULL, 0);
    struct vt *t = &q.t;
    wr32(t, R_FEDATA, 0x61);
    wr32(t, R_FEADDR, 0xFEE00000);
    wr32(t, R_FECTL, 0);
    uint64_t st2 = q.status + 4, st3 = q.status + 8;
    qt_put(&q, d_wait(0, 0, 0, 0, 0)); /* slot 0 */
    qt_put(&q, d_wait(0, 1, 0, 11, q.status));
    unsigned bad_slot = q.tail;
    qt_put(&q, b->d);
    qt_put(&q, d_wait(0, 1, 0, 22, st2));
    qt_kick(&q);
    uint32_t fsts = rd32(t, R_FSTS);
    if (!(fsts & FSTS_IQE) || IQEI(rd64(t, R_IQERCD)) != b->iqei) {
        print_message("%s: FSTS 0x%x IQERCD 0x%llx, want IQE with IQEI %u\n", b->what, fsts,
                      (unsigned long long)rd64(t, R_IQERCD), b->iqei);
        fail();
    }
    assert_int_equal(qt_head(&q), bad_slot);
    assert_int_equal(vt_r32(t, q.status), 11);
    assert_int_equal(vt_r32(t, st2), 0);
    assert_int_equal(t->msis.n, 1); /* fault event: IQE is a new condition */
    assert_int_equal(t->msis.data[0], 0x61);
    /* Stopped: another descriptor and tail move do nothing. */
    qt_put(&q, d_wait(0, 1, 0, 33, st3));
    qt_kick(&q);
    assert_int_equal(vt_r32(t, st3), 0);
    assert_int_equal(qt_head(&q), bad_slot);
    /* Recovery: overwrite the bad slot with a wait, clear IQE: fetching resumes there. */
    vt_w64(t, q.base + 16ULL * bad_slot, d_wait(0, 0, 0, 0, 0).lo);
    vt_w64(t, q.base + 16ULL * bad_slot + 8, 0);
    wr32(t, R_FSTS, FSTS_IQE);
    assert_int_equal(rd32(t, R_FSTS), 0);
    assert_int_equal(vt_r32(t, st2), 22);
    assert_int_equal(vt_r32(t, st3), 33);
    assert_int_equal(qt_head(&q), q.tail);
    qt_fini(&q);
}

static void test_iqe_each_descriptor_error(void **state)
{
    (void)state;
    const struct bad bads[] = {
        /* invalid types (IQEI 3) */
        {{0, 0}, 3, "type 0"},
        {{6 | 2 << 4, 0}, 3, "type 6 (PASID-IOTLB) without scalable mode"},
        {{7, 0}, 3, "type 7 (PASID-cache)"},
        {{8, 0}, 3, "type 8 (PASID device-TLB)"},
        {{9, 0}, 3, "type 9 (page-group response)"},
        {{0xF, 0}, 3, "type 0xF"},
        {{5 | 1ULL << 9, 0}, 3, "type 0x15 (type bits 11:9)"},
        /* reserved fields (IQEI 4) */
        {{1 | 1 << 4 | 1ULL << 6, 0}, 4, "context-cache bit 6"},
        {{1 | 1 << 4 | 1ULL << 12, 0}, 4, "context-cache bit 12"},
        {{1 | 1 << 4 | 1ULL << 50, 0}, 4, "context-cache bit 50"},
        {{1 | 1 << 4, 1}, 4, "context-cache qword 1"},
        {{1, 0}, 4, "context-cache granularity 0"},
        {{2 | 1 << 4 | 1ULL << 8, 0}, 4, "IOTLB bit 8"},
        {{2 | 1 << 4 | 1ULL << 40, 0}, 4, "IOTLB bit 40"},
        {{2 | 1 << 4, 1ULL << 7}, 4, "IOTLB qword 1 bit 7"},
        {{2, 0}, 4, "IOTLB granularity 0"},
        {{2 | 3 << 4 | 1ULL << 16, 19}, 4, "IOTLB PSI with AM 19 > MAMV 18"},
        {{4 | 1ULL << 5, 0}, 4, "IEC bit 5"},
        {{4 | 1ULL << 20, 0}, 4, "IEC bit 20"},
        {{4 | 1ULL << 48, 0}, 4, "IEC bit 48"},
        {{4, 1ULL << 63}, 4, "IEC qword 1"},
        {{4 | 1 << 4 | 16ULL << 27, 0}, 4, "IEC IM 16 > MHMV 15"},
        {{5 | 1ULL << 8, 0}, 4, "wait bit 8"},
        {{5 | 1ULL << 20, 0}, 4, "wait bit 20"},
        {{5 | 1ULL << 5, 0x1001}, 4, "wait status address bit 0"},
        {{5 | 1ULL << 7, 0}, 4, "wait PD without ECAP.PDS"},
        {{3 | 1ULL << 32 | 1ULL << 4, 0}, 4, "device-TLB bit 4"},
        {{3 | 1ULL << 32 | 1ULL << 25, 0}, 4, "device-TLB bit 25"},
        {{3 | 1ULL << 32 | 1ULL << 49, 0}, 4, "device-TLB bit 49"},
        {{3 | 1ULL << 32, 1ULL << 5}, 4, "device-TLB qword 1 bit 5"},
        /* a status write nowhere (IQEI 2 is our choice for a failed queue memory access) */
        {{5 | 1ULL << 5 | 1ULL << 32, 1ULL << 44}, 2, "wait status address not backed"},
    };
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
        check_bad(&bads[i]);
}

/* The device-TLB descriptor is an invalid type when the unit has no device-TLB support. */
static void test_devtlb_without_dt(void **state)
{
    (void)state;
    struct qt q;
    struct sio_vtd_config c = {.features = SIO_VTD_F_DEFAULT & ~SIO_VTD_F_DT};
    qt_init(&q, &c, 0);
    assert_int_equal((rd64(&q.t, R_ECAP) >> 2) & 1, 0);
    qt_put(&q, d_devtlb(SID, 0, 0x1000, 0));
    qt_kick(&q);
    assert_int_equal(rd32(&q.t, R_FSTS) & FSTS_IQE, FSTS_IQE);
    assert_int_equal(IQEI(rd64(&q.t, R_IQERCD)), 3);
    qt_fini(&q);
}

/* Errors of the queue itself: tail beyond the queue (1), descriptors not readable (2),
 * 256-bit descriptors without scalable mode (5), misaligned 256-bit tail (6). */
static void test_iqe_queue_errors(void **state)
{
    (void)state;
    struct qt q;
    qt_init(&q, NULL, 0);
    struct vt *t = &q.t;
    /* Tail at index 256 of a 256-entry queue. */
    wr32(t, R_IQT, 256 << 4);
    assert_int_equal(rd32(t, R_FSTS), FSTS_IQE);
    assert_int_equal(IQEI(rd64(t, R_IQERCD)), 1);
    assert_int_equal(qt_head(&q), 0);
    /* Clearing IQE with the tail still bad: IQE again. */
    wr32(t, R_FSTS, FSTS_IQE);
    assert_int_equal(rd32(t, R_FSTS), FSTS_IQE);
    /* Fix the tail, then clear: the queue runs. */
    qt_put(&q, d_wait(0, 1, 0, 5, q.status));
    qt_kick(&q);
    assert_int_equal(vt_r32(t, q.status), 0); /* still stopped */
    wr32(t, R_FSTS, FSTS_IQE);
    assert_int_equal(rd32(t, R_FSTS), 0);
    assert_int_equal(vt_r32(t, q.status), 5);
    qt_fini(&q);

    /* A queue in memory the embedder does not back (beyond 64 GiB): IQEI 2, IQH stays 0. */
    memset(&q, 0, sizeof(q));
    vt_init(&q.t, NULL);
    t = &q.t;
    wr64(t, R_IQA, 1ULL << 40);
    wr32(t, R_GCMD, GCMD_QIE);
    wr32(t, R_IQT, 1 << 4);
    assert_int_equal(rd32(t, R_FSTS), FSTS_IQE);
    assert_int_equal(IQEI(rd64(t, R_IQERCD)), 2);
    assert_int_equal(rd64(t, R_IQH), 0);
    vt_fini(t);

    /* DW=1 (IQA bit 11) without scalable mode: IQEI 5 at the first fetch; with IQT bit 4 set
     * (not a 256-bit boundary): IQEI 6. */
    memset(&q, 0, sizeof(q));
    vt_init(&q.t, NULL);
    t = &q.t;
    uint64_t base = vt_page(t);
    wr64(t, R_IQA, base | (1ULL << 11));
    wr32(t, R_GCMD, GCMD_QIE);
    assert_int_equal(rd32(t, R_FSTS), 0); /* empty queue: nothing fetched */
    wr32(t, R_IQT, 2 << 4);
    assert_int_equal(rd32(t, R_FSTS), FSTS_IQE);
    assert_int_equal(IQEI(rd64(t, R_IQERCD)), 5);
    wr32(t, R_IQT, 3 << 4);
    wr32(t, R_FSTS, FSTS_IQE);
    assert_int_equal(rd32(t, R_FSTS), FSTS_IQE);
    assert_int_equal(IQEI(rd64(t, R_IQERCD)), 6);
    vt_fini(t);
}

/* A full batch with an error in the middle: descriptors before it take effect, after it not. */
static void test_iqe_stops_invalidation(void **state)
{
    (void)state;
    struct qt q;
    uint64_t top = qt_bringup(&q, NULL);
    struct vt *t = &q.t;
    expect_xlate(t, SID, 0x1000, SIO_READ, 0, 0x5000);
    vt_w64(t, vt_entry_addr(t, top, 4, 0x1000, 1), 0x8000 | 3);
    qt_put(&q, d_cc(1, 0, 0, 0));
    qt_put(&q, (struct sio_u128){0x2 | 3 << 4 | 1ULL << 16 | 1ULL << 12, 0x1000}); /* bit 12 */
    qt_put(&q, d_iotlb(3, 1, 0x1000, 0, 0));
    qt_kick(&q);
    assert_int_equal(IQEI(rd64(t, R_IQERCD)), 4);
    expect_xlate(t, SID, 0x1000, SIO_READ, 0, 0x5000); /* the PSI after it did not run */
    qt_fini(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registers),
        cmocka_unit_test(test_enable_disable),
        cmocka_unit_test(test_linux_submit_sync),
        cmocka_unit_test(test_register_invalidation_refused),
        cmocka_unit_test(test_order_and_wrap),
        cmocka_unit_test(test_wait_interrupt),
        cmocka_unit_test(test_iqe_each_descriptor_error),
        cmocka_unit_test(test_devtlb_without_dt),
        cmocka_unit_test(test_iqe_queue_errors),
        cmocka_unit_test(test_iqe_stops_invalidation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

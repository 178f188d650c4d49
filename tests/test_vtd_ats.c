/* VT-d model: ATS and device-TLBs (ECAP.DT; VT-d 2 TT=01, VT-d 5 type 3 and ITE/ICE). */
#include "test_vtd_qi.h"

#include <time.h>

#define SID_ATS 0x0010 /* 00:02.0, context TT=01 */
#define SID_OLD 0x0018 /* 00:03.0, context TT=00 */
#define SID_PT  0x0020 /* 00:04.0, context TT=10 */
#define SID_NP  0x0028 /* 00:05.0, no context */

struct at {
    struct qt q;
    uint64_t top;
};

/* QI, root table, contexts, TE (Linux order). SID_ATS and SID_OLD share one 4-level table:
 * 0x1000 -> 0x5000 RW, 0x2000 -> 0x6000 R, 2M at 0x40000000 -> 0x80000000 RW. */
static void at_setup(struct at *a, const struct sio_vtd_config *cfg)
{
    qt_init(&a->q, cfg, 0);
    struct vt *t = &a->q.t;
    t->root = vt_page(t);
    a->top = vt_page(t);
    vt_ctx_entry(t, SID_ATS, ctx_lo(a->top, 1, 0), ctx_hi(2, 1));
    vt_ctx_entry(t, SID_OLD, ctx_lo(a->top, 0, 0), ctx_hi(2, 2));
    vt_ctx_entry(t, SID_PT, ctx_lo(0, 2, 0), ctx_hi(2, 3));
    vt_map(t, a->top, 4, 0x1000, 0x5000, 1, 3);
    vt_map(t, a->top, 4, 0x2000, 0x6000, 1, 1);
    vt_map(t, a->top, 4, 0x40000000, 0x80000000, 2, 3);
    wr64(t, R_RTADDR, t->root);
    wr32(t, R_GCMD, a->q.gcmd | GCMD_SRTP);
    struct sio_u128 d[2] = {d_cc(1, 0, 0, 0), d_iotlb(1, 0, 0, 0, 0)};
    assert_int_equal(qt_submit_sync(&a->q, d, 2), 0);
    a->q.gcmd |= GCMD_TE;
    wr32(t, R_GCMD, a->q.gcmd);
    wr32(t, R_FECTL, 0);
}

static int ats(struct at *a, uint16_t sid, uint64_t iova, unsigned flags,
               struct sio_vtd_ats_completion *c)
{
    return sio_vtd_ats_translate(a->q.t.u, sid, iova, flags, c);
}

/* ---- the S-bit encoding ---------------------------------------------------------------------- */

static void test_size_encoding(void **state)
{
    (void)state;
    uint64_t f, l;
    sio_ats_range_decode(0x5000, 0, &f, &l);
    assert_int_equal(f, 0x5000);
    assert_int_equal(l, 0x5FFF);
    sio_ats_range_decode(0x2000, 1, &f, &l); /* bit 12 clear: 8 KiB */
    assert_int_equal(f, 0x2000);
    assert_int_equal(l, 0x3FFF);
    sio_ats_range_decode(0x1000, 1, &f, &l); /* bit 12 set, 13 clear: 16 KiB */
    assert_int_equal(f, 0);
    assert_int_equal(l, 0x3FFF);
    sio_ats_range_decode(0x400FF000, 1, &f, &l); /* bits 19:12 set, 20 clear: 2 MiB */
    assert_int_equal(f, 0x40000000);
    assert_int_equal(l, 0x401FFFFF);
    sio_ats_range_decode(0x7FFFFFFFFFFFF000ULL, 1, &f, &l); /* lowest 0 at 63: everything */
    assert_int_equal(f, 0);
    assert_int_equal(l, ~0ULL);
    sio_ats_range_decode(~0ULL, 1, &f, &l);
    assert_int_equal(f, 0);
    assert_int_equal(l, ~0ULL);
    int s;
    assert_int_equal(sio_ats_range_encode(0x5000, 4096, &s), 0x5000);
    assert_int_equal(s, 0);
    assert_int_equal(sio_ats_range_encode(0x2000, 8192, &s), 0x2000);
    assert_int_equal(s, 1);
    assert_int_equal(sio_ats_range_encode(0x40000000, 2 << 20, &s), 0x400FF000);
    assert_int_equal(s, 1);
    assert_int_equal(sio_ats_range_encode(0x40000000, 1 << 30, &s), 0x5FFFF000);
}

/* ---- translation requests ---------------------------------------------------------------------
 */

static void test_translation_requests(void **state)
{
    (void)state;
    struct at a;
    at_setup(&a, NULL);
    struct vt *t = &a.q.t;
    assert_int_equal((rd64(t, R_ECAP) >> 2) & 1, 1); /* ECAP.DT */
    struct sio_vtd_ats_completion c;
    /* A 4K RW page: entry = address | R (0) | W (1), S = 0. */
    assert_int_equal(ats(&a, SID_ATS, 0x1234, 0, &c), 0);
    assert_int_equal(c.status, SIO_ATS_SC);
    assert_int_equal(c.addr, 0x5000);
    assert_int_equal(c.size, 4096);
    assert_int_equal(c.perm, SIO_READ | SIO_WRITE);
    assert_int_equal(c.entry, 0x5003);
    /* No-write request: R only. */
    assert_int_equal(ats(&a, SID_ATS, 0x1000, SIO_ATS_NW, &c), 0);
    assert_int_equal(c.entry, 0x5001);
    /* A read-only page. */
    assert_int_equal(ats(&a, SID_ATS, 0x2FFF, 0, &c), 0);
    assert_int_equal(c.perm, SIO_READ);
    assert_int_equal(c.entry, 0x6001);
    /* A 2M page: address 0x80000000 with bits 19:12 set and S (11). */
    assert_int_equal(ats(&a, SID_ATS, 0x40123456, 0, &c), 0);
    assert_int_equal(c.addr, 0x80000000);
    assert_int_equal(c.size, 2 << 20);
    assert_int_equal(c.entry, 0x800FF000ULL | 1 << 11 | 3);
    /* Not present, and beyond the 48-bit width: success without access, nothing recorded. */
    assert_int_equal(ats(&a, SID_ATS, 0x3000, 0, &c), 0);
    assert_int_equal(c.status, SIO_ATS_SC);
    assert_int_equal(c.perm, 0);
    assert_int_equal(c.entry, 0);
    assert_int_equal(ats(&a, SID_ATS, 1ULL << 48, 0, &c), 0);
    assert_int_equal(c.perm, 0);
    assert_int_equal(rd32(t, R_FSTS), 0);
    /* TT=00 and TT=10: unsupported request, fault 0xD recorded as a translation request
     * (AT 01 in bits 125:124, a read: T 126). */
    assert_int_equal(ats(&a, SID_OLD, 0x1000, 0, &c), 0xD);
    assert_int_equal(c.status, SIO_ATS_UR);
    assert_int_equal(c.fault_reason, 0xD);
    uint64_t hi, lo;
    vt_frcd(t, 0, &hi, &lo);
    assert_int_equal(lo, 0x1000);
    assert_int_equal(hi, (1ULL << 63) | (1ULL << 62) | (1ULL << 60) | 0xDULL << 32 | SID_OLD);
    assert_int_equal(ats(&a, SID_PT, 0x1000, 0, &c), 0xD);
    assert_int_equal(c.status, SIO_ATS_UR);
    /* No context: UR with 0x2. */
    assert_int_equal(ats(&a, SID_NP, 0x1000, 0, &c), 0x2);
    assert_int_equal(c.status, SIO_ATS_UR);
    /* A reserved bit in the leaf (address bit 50, above HAW 48): completer abort, 0xC. */
    uint64_t pte = vt_entry_addr(t, a.top, 4, 0x1000, 1);
    vt_w64(t, pte, vt_r64(t, pte) | 1ULL << 50);
    struct sio_u128 inv = d_iotlb(2, 1, 0, 0, 0);
    assert_int_equal(qt_submit_sync(&a.q, &inv, 1), 0);
    assert_int_equal(ats(&a, SID_ATS, 0x1000, 0, &c), 0xC);
    assert_int_equal(c.status, SIO_ATS_CA);
    /* TM (bit 62) is not reserved with DT. */
    vt_w64(t, pte, 0x5000 | 3 | 1ULL << 62);
    assert_int_equal(qt_submit_sync(&a.q, &inv, 1), 0);
    assert_int_equal(ats(&a, SID_ATS, 0x1000, 0, &c), 0);
    /* TE=0: no translation to give, nothing recorded. */
    a.q.gcmd &= ~GCMD_TE;
    wr32(t, R_GCMD, a.q.gcmd);
    for (unsigned i = 0; i < 8; i++)
        wr32(t, R_FRCD + 16 * i + 12, 0x80000000u);
    assert_int_equal(ats(&a, SID_ATS, 0x1000, 0, &c), 0);
    assert_int_equal(c.status, SIO_ATS_UR);
    assert_int_equal(rd32(t, R_FSTS) & FSTS_PPF, 0);
    assert_int_equal(ats(&a, SID_ATS, 0x1000, 4, &c), SIO_EINVAL);
    struct sio_vtd_ext_stats st;
    sio_vtd_get_ext_stats(t->u, &st);
    assert_int_equal(st.ats_requests, 12); /* the invalid call is not one */
    qt_fini(&a.q);
}

/* Translated requests (AT=10) pass only from a TT=01 device: a device cannot reach memory it
 * was never given by claiming its address is already translated (Thunderclap). */
static void test_translated_requests(void **state)
{
    (void)state;
    struct at a;
    at_setup(&a, NULL);
    struct vt *t = &a.q.t;
    struct sio_xlate x;
    expect_xlate(t, SID_ATS, 0x5000, SIO_WRITE | SIO_AT_TRANSLATED, 0, 0x5000);
    uint32_t v = 0xCAFE;
    assert_int_equal(sio_vtd_dma(t->u, SID_ATS, 0x5000, &v, 4, SIO_WRITE | SIO_AT_TRANSLATED), 0);
    assert_int_equal(vt_r32(t, 0x5000), 0xCAFE);
    /* The TT=00 device aims a "translated" write at 0x9000 (never mapped for it). */
    const uint64_t secret = 0x9000;
    vt_w32(t, secret, 0x5EC7E7);
    v = 0xBAD;
    assert_int_equal(sio_vtd_dma(t->u, SID_OLD, secret, &v, 4, SIO_WRITE | SIO_AT_TRANSLATED), 0xD);
    assert_int_equal(vt_r32(t, secret), 0x5EC7E7);
    assert_int_equal(vt_xlate(t, SID_OLD, secret, SIO_READ | SIO_AT_TRANSLATED, &x), 0xD);
    /* Recorded: write, AT = 10 (translated), reason 0xD. */
    uint64_t hi, lo;
    vt_frcd(t, 0, &hi, &lo);
    assert_int_equal(lo, secret);
    assert_int_equal(hi, (1ULL << 63) | (2ULL << 60) | 0xDULL << 32 | SID_OLD);
    vt_frcd(t, 1, &hi, &lo);
    assert_int_equal(hi, (1ULL << 63) | (1ULL << 62) | (2ULL << 60) | 0xDULL << 32 | SID_OLD);
    /* Pass-through (TT=10) devices and devices without a context are blocked the same way. */
    assert_int_equal(vt_xlate(t, SID_PT, secret, SIO_WRITE | SIO_AT_TRANSLATED, &x), 0xD);
    assert_int_equal(vt_xlate(t, SID_NP, secret, SIO_WRITE | SIO_AT_TRANSLATED, &x), 0x2);
    /* Untranslated requests of the TT=01 device are translated as usual. */
    expect_xlate(t, SID_ATS, 0x1000, SIO_WRITE, 0, 0x5000);
    expect_xlate(t, SID_ATS, 0x2000, SIO_WRITE, 0x5, 0);
    qt_fini(&a.q);

    /* Without DT, TT=01 is an invalid context (0x3): nothing gets through. */
    struct sio_vtd_config nodt = {.features = SIO_VTD_F_DEFAULT & ~SIO_VTD_F_DT};
    at_setup(&a, &nodt);
    t = &a.q.t;
    assert_int_equal(vt_xlate(t, SID_ATS, 0x5000, SIO_WRITE | SIO_AT_TRANSLATED, &x), 0x3);
    assert_int_equal(vt_xlate(t, SID_ATS, 0x1000, SIO_WRITE, &x), 0x3);
    struct sio_vtd_ats_completion c;
    assert_int_equal(ats(&a, SID_ATS, 0x1000, 0, &c), 0x3);
    assert_int_equal(c.status, SIO_ATS_UR);
    assert_int_equal(sio_vtd_devtlb_register(t->u, SID_ATS, NULL, NULL), SIO_ENOTSUP);
    qt_fini(&a.q);
}

/* ---- device-TLB invalidation -------------------------------------------------------------------
 */

#define INV_MAX 64
struct dev {
    struct sio_vtd *u;
    int answer; /* what the callback returns */
    int complete_inside;
    unsigned n;
    struct sio_vtd_devtlb_inv inv[INV_MAX];
};

static int dev_cb(void *ctx, const struct sio_vtd_devtlb_inv *inv)
{
    struct dev *d = ctx;
    if (d->n < INV_MAX)
        d->inv[d->n] = *inv;
    d->n++;
    if (d->complete_inside) /* answer from inside the call (re-entering the unit) */
        assert_int_equal(sio_vtd_devtlb_complete(d->u, inv->sid, 1u << inv->itag), 0);
    return d->answer;
}

/* at_setup, and dv as SID_ATS's device-TLB answering every invalidation with `answer`. */
static struct vt *at_setup_dev(struct at *a, const struct sio_vtd_config *cfg, struct dev *dv,
                               int answer)
{
    at_setup(a, cfg);
    *dv = (struct dev){.u = a->q.t.u, .answer = answer};
    assert_int_equal(sio_vtd_devtlb_register(dv->u, SID_ATS, dev_cb, dv), 0);
    return &a->q.t;
}

/* Queues a wait descriptor (SW, interrupt flag iflag) that writes 2 to the status word, which
 * reads 1 until it does; returns the wait's slot. */
static unsigned put_status_wait(struct at *a, unsigned iflag)
{
    vt_w32(&a->q.t, a->q.status, 1);
    unsigned slot = a->q.tail;
    qt_put(&a->q, d_wait(iflag, 1, 0, 2, a->q.status));
    return slot;
}

static void test_devtlb_delivery(void **state)
{
    (void)state;
    struct at a;
    struct dev dv;
    struct vt *t = at_setup_dev(&a, NULL, &dv, SIO_VTD_DEVTLB_DONE);
    /* S=0 page 0x5000, queue depth (MIP) 4, PFSID 0x123 (15:12 = 3, 63:52 = 0x12). */
    struct sio_u128 d[4] = {
        {d_devtlb(SID_ATS, 4, 0x5000, 0).lo | 3ULL << 12 | 0x12ULL << 52, 0x5000},
        d_devtlb(SID_ATS, 0, 0x2000, 1),                /* 8K */
        d_devtlb(SID_ATS, 0, 0x400FF000, 1),            /* 2M */
        d_devtlb(SID_ATS, 0, 0x7FFFFFFFFFFFF000ULL, 1), /* everything */
    };
    assert_int_equal(qt_submit_sync(&a.q, d, 4), 0);
    assert_int_equal(dv.n, 4);
    assert_int_equal(dv.inv[0].sid, SID_ATS);
    assert_int_equal(dv.inv[0].mip, 4);
    assert_int_equal(dv.inv[0].pfsid, 0x123);
    assert_int_equal(dv.inv[0].addr, 0x5000);
    assert_int_equal(dv.inv[0].last, 0x5FFF);
    assert_int_equal(dv.inv[0].raw, 0x5000);
    assert_int_equal(dv.inv[1].addr, 0x2000);
    assert_int_equal(dv.inv[1].last, 0x3FFF);
    assert_int_equal(dv.inv[1].raw, 0x2001);
    assert_int_equal(dv.inv[2].addr, 0x40000000);
    assert_int_equal(dv.inv[2].last, 0x401FFFFF);
    assert_int_equal(dv.inv[3].addr, 0);
    assert_int_equal(dv.inv[3].last, ~0ULL);
    assert_true(dv.inv[0].itag < 32);
    /* Answered from inside the callback. */
    dv.answer = SIO_VTD_DEVTLB_PENDING;
    dv.complete_inside = 1;
    struct sio_u128 one = d_devtlb(SID_ATS, 0, 0x1000, 0);
    assert_int_equal(qt_submit_sync(&a.q, &one, 1), 0);
    assert_int_equal(dv.n, 5);
    assert_int_equal(rd32(t, R_FSTS), 0);
    struct sio_vtd_ext_stats st;
    sio_vtd_get_ext_stats(t->u, &st);
    assert_int_equal(st.devtlb_invs, 5);
    assert_int_equal(st.devtlb_timeouts, 0);
    /* Unregistered: nothing delivered any more, the next invalidation times out. */
    assert_int_equal(sio_vtd_devtlb_register(t->u, SID_ATS, NULL, NULL), 0);
    assert_int_equal(qt_submit_sync(&a.q, &one, 1), FSTS_ITE);
    assert_int_equal(dv.n, 5);
    qt_fini(&a.q);
}

/* A pending invalidation holds the wait descriptor after it; a completion with an ITag nobody
 * used is ICE; the right one releases the wait. */
static void test_devtlb_pending_and_ice(void **state)
{
    (void)state;
    struct at a;
    struct dev dv;
    struct vt *t = at_setup_dev(&a, NULL, &dv, SIO_VTD_DEVTLB_PENDING);
    unsigned first = a.q.tail;
    qt_put(&a.q, d_devtlb(SID_ATS, 0, 0x5000, 0));
    put_status_wait(&a, 0);
    qt_kick(&a.q);
    assert_int_equal(dv.n, 1);
    assert_int_equal(vt_r32(t, a.q.status), 1); /* not yet */
    assert_int_equal(qt_head(&a.q), first + 1); /* on the wait */
    unsigned itag = dv.inv[0].itag;
    /* A wrong ITag, and the right ITag from another SID: both ICE, ICESID = the sender. */
    assert_int_equal(sio_vtd_devtlb_complete(t->u, SID_ATS, 1u << ((itag + 1) % 32)), SIO_ENOENT);
    assert_int_equal(rd32(t, R_FSTS), FSTS_ICE);
    assert_int_equal(ICESID(rd64(t, R_IQERCD)), SID_ATS);
    assert_int_equal(t->msis.n, 1); /* fault event */
    wr32(t, R_FSTS, FSTS_ICE);
    assert_int_equal(sio_vtd_devtlb_complete(t->u, SID_OLD, 1u << itag), SIO_ENOENT);
    assert_int_equal(ICESID(rd64(t, R_IQERCD)), SID_OLD);
    wr32(t, R_FSTS, FSTS_ICE);
    assert_int_equal(vt_r32(t, a.q.status), 1); /* ICE does not stop or release anything */
    assert_int_equal(sio_vtd_devtlb_complete(t->u, SID_ATS, 1u << itag), 0);
    assert_int_equal(vt_r32(t, a.q.status), 2);
    assert_int_equal(qt_head(&a.q), a.q.tail);
    /* Completed twice: the second is ICE. */
    assert_int_equal(sio_vtd_devtlb_complete(t->u, SID_ATS, 1u << itag), SIO_ENOENT);
    struct sio_vtd_ext_stats st;
    sio_vtd_get_ext_stats(t->u, &st);
    assert_int_equal(st.qi_ice, 3);
    qt_fini(&a.q);
}

/* A device that never answers: ITE with ITESID, the waiting wait descriptor aborted (no status
 * write, IQH past it), nothing fetched until ITE is cleared, then the queue goes on. */
static void test_devtlb_ite(void **state)
{
    (void)state;
    struct at a;
    struct dev dv;
    struct vt *t = at_setup_dev(&a, NULL, &dv, -1);
    /* Linux's pairs: descriptor at an even slot, its wait at the odd one. */
    unsigned first = a.q.tail;
    qt_put(&a.q, d_devtlb(SID_ATS, 0, 0x5000, 0));
    unsigned wait_slot = put_status_wait(&a, 1);
    qt_kick(&a.q);
    uint32_t fsts = rd32(t, R_FSTS);
    assert_int_equal(fsts, FSTS_ITE);
    assert_int_equal(ITESID(rd64(t, R_IQERCD)), SID_ATS);
    assert_int_equal(vt_r32(t, a.q.status), 1);     /* aborted: no status write */
    assert_int_equal(rd32(t, R_ICS), 0);            /* and no IWC */
    assert_int_equal(qt_head(&a.q), wait_slot + 1); /* Linux: head - 1 is the wait */
    assert_int_equal(t->msis.n, 1);                 /* the fault event */
    (void)first;
    /* Stopped until ITE is cleared. */
    uint64_t st2 = a.q.status + 4;
    qt_put(&a.q, d_wait(0, 1, 0, 7, st2));
    qt_kick(&a.q);
    assert_int_equal(vt_r32(t, st2), 0);
    wr32(t, R_FSTS, FSTS_ITE);
    assert_int_equal(vt_r32(t, st2), 7);
    assert_int_equal(rd32(t, R_FSTS), 0);
    /* Unregistered SID: the same. */
    struct sio_u128 d = d_devtlb(SID_OLD, 0, 0x5000, 0);
    assert_int_equal(qt_submit_sync(&a.q, &d, 1), FSTS_ITE);
    assert_int_equal(ITESID(rd64(t, R_IQERCD)), SID_OLD);
    wr32(t, R_FSTS, FSTS_ITE);
    struct sio_vtd_ext_stats st;
    sio_vtd_get_ext_stats(t->u, &st);
    assert_int_equal(st.qi_ite, 2);
    assert_int_equal(st.devtlb_timeouts, 2);
    qt_fini(&a.q);
}

/* A device that says it will answer but does not, within config.devtlb_timeout_us. */
static void test_devtlb_timeout(void **state)
{
    (void)state;
    struct at a;
    struct sio_vtd_config c = {.devtlb_timeout_us = 2000};
    struct dev dv;
    struct vt *t = at_setup_dev(&a, &c, &dv, SIO_VTD_DEVTLB_PENDING);
    qt_put(&a.q, d_devtlb(SID_ATS, 0, 0x5000, 0));
    put_status_wait(&a, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    qt_kick(&a.q);
    /* Linux's polling loop: status word, then FSTS. */
    uint32_t fsts = 0;
    for (int i = 0; i < 100000 && !fsts; i++) {
        assert_int_equal(vt_r32(t, a.q.status), 1);
        fsts = rd32(t, R_FSTS);
        struct timespec ns = {0, 50000};
        nanosleep(&ns, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_int_equal(fsts, FSTS_ITE);
    assert_true(ms >= 2.0);
    assert_int_equal(ITESID(rd64(t, R_IQERCD)), SID_ATS);
    assert_int_equal(vt_r32(t, a.q.status), 1);
    /* The late completion names nothing outstanding any more: ICE. */
    assert_int_equal(sio_vtd_devtlb_complete(t->u, SID_ATS, 1u << dv.inv[0].itag), SIO_ENOENT);
    assert_int_equal(rd32(t, R_FSTS), FSTS_ITE | FSTS_ICE);
    qt_fini(&a.q);
}

/* 32 ITags: the 33rd device-TLB descriptor waits for a completion. */
static void test_itag_exhaustion(void **state)
{
    (void)state;
    struct at a;
    struct dev dv;
    struct vt *t = at_setup_dev(&a, NULL, &dv, SIO_VTD_DEVTLB_PENDING);
    unsigned first = a.q.tail;
    for (unsigned i = 0; i < 33; i++)
        qt_put(&a.q, d_devtlb(SID_ATS, 0, 0x1000ULL * i, 0));
    put_status_wait(&a, 0);
    qt_kick(&a.q);
    assert_int_equal(dv.n, 32);
    assert_int_equal(qt_head(&a.q), first + 32);
    uint32_t seen = 0;
    for (unsigned i = 0; i < 32; i++)
        seen |= 1u << dv.inv[i].itag;
    assert_int_equal(seen, 0xFFFFFFFFu); /* every ITag once */
    /* Free ITag 5: the 33rd goes out with it; the wait still waits. */
    assert_int_equal(sio_vtd_devtlb_complete(t->u, SID_ATS, 1u << 5), 0);
    assert_int_equal(dv.n, 33);
    assert_int_equal(dv.inv[32].itag, 5);
    assert_int_equal(dv.inv[32].addr, 32 * 0x1000);
    assert_int_equal(qt_head(&a.q), first + 33);
    assert_int_equal(vt_r32(t, a.q.status), 1);
    /* All completed at once: the wait completes. */
    assert_int_equal(sio_vtd_devtlb_complete(t->u, SID_ATS, 0xFFFFFFFFu), 0);
    assert_int_equal(vt_r32(t, a.q.status), 2);
    assert_int_equal(rd32(t, R_FSTS), 0);
    /* Disabling QI forgets outstanding requests. */
    qt_put(&a.q, d_devtlb(SID_ATS, 0, 0, 0));
    qt_kick(&a.q);
    a.q.gcmd &= ~GCMD_QIE;
    wr32(t, R_GCMD, a.q.gcmd);
    assert_int_equal(sio_vtd_devtlb_complete(t->u, SID_ATS, 1u << dv.inv[33].itag), SIO_ENOENT);
    qt_fini(&a.q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_encoding),          cmocka_unit_test(test_translation_requests),
        cmocka_unit_test(test_translated_requests),    cmocka_unit_test(test_devtlb_delivery),
        cmocka_unit_test(test_devtlb_pending_and_ice), cmocka_unit_test(test_devtlb_ite),
        cmocka_unit_test(test_devtlb_timeout),         cmocka_unit_test(test_itag_exhaustion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* VT-d model: interrupt remapping (VT-d 6; registers VT-d 1; faults VT-d 4; cache VT-d 7).
 * IRTEs, MSI addresses and expected records are built here from the digest's bit positions. */
#include "test_vtd_qi.h"

#define SID   0x0010 /* 00:02.0 */
#define SID_B 0x0318 /* 03:03.0 */

struct irt {
    struct qt q;
    uint64_t irt;
};

/* QI + IR on (Linux order) with a 2^(s+1)-entry table; FECTL IM cleared so faults send. */
static void ir_setup(struct irt *r, const struct sio_vtd_config *cfg, unsigned s, int eime)
{
    qt_init(&r->q, cfg, 0);
    r->irt = 0x10000000; /* 256 MiB: up to the full 1 MiB table */
    qt_ir_enable(&r->q, r->irt, s, eime);
    wr32(&r->q.t, R_FEDATA, 0x62);
    wr32(&r->q.t, R_FEADDR, 0xFEE00000);
    wr32(&r->q.t, R_FECTL, 0);
}

static int msi(struct irt *r, uint16_t sid, uint64_t addr, uint32_t data, struct sio_irq *o)
{
    memset(o, 0xAB, sizeof(*o));
    return sio_vtd_msi(r->q.t.u, sid, addr, data, o);
}

/* ---- registers and the Linux sequence -------------------------------------------------------- */

static void test_caps_and_registers(void **state)
{
    (void)state;
    struct vt t;
    vt_init(&t, NULL);
    uint64_t ecap = rd64(&t, R_ECAP);
    assert_int_equal((ecap >> 3) & 1, 1);     /* IR */
    assert_int_equal((ecap >> 4) & 1, 1);     /* EIM */
    assert_int_equal((ecap >> 20) & 0xf, 15); /* MHMV */
    /* IRTA: 63:12 address, 11 EIME, 3:0 S; 10:4 reserved. */
    wr64(&t, R_IRTA, ~0ULL);
    assert_int_equal(rd64(&t, R_IRTA), 0xFFFFFFFFFFFFF80FULL);
    /* GCMD: SIRTP sets IRTPS; IRE and CFI are levels. */
    wr32(&t, R_GCMD, GCMD_SIRTP);
    assert_int_equal(rd32(&t, R_GSTS), GSTS_IRTPS);
    wr32(&t, R_GCMD, GCMD_IRE | GCMD_CFI);
    assert_int_equal(rd32(&t, R_GSTS), GSTS_IRTPS | GSTS_IRES | GSTS_CFIS);
    wr32(&t, R_GCMD, GCMD_IRE);
    assert_int_equal(rd32(&t, R_GSTS), GSTS_IRTPS | GSTS_IRES);
    wr32(&t, R_GCMD, 0);
    assert_int_equal(rd32(&t, R_GSTS), GSTS_IRTPS);
    vt_fini(&t);
    /* Without EIM the EIME bit is reserved; without IR no IRTA and no IR bits. */
    struct sio_vtd_config noeim = {.features = SIO_VTD_F_DEFAULT & ~SIO_VTD_F_EIM};
    vt_init(&t, &noeim);
    assert_int_equal((rd64(&t, R_ECAP) >> 3) & 3, 1);
    wr64(&t, R_IRTA, ~0ULL);
    assert_int_equal(rd64(&t, R_IRTA), 0xFFFFFFFFFFFFF00FULL);
    vt_fini(&t);
    struct sio_vtd_config noir = {.features = SIO_VTD_F_DEFAULT & ~SIO_VTD_F_IR};
    vt_init(&t, &noir);
    assert_int_equal((rd64(&t, R_ECAP) >> 3) & 3, 0);
    assert_int_equal((rd64(&t, R_CAP) >> 59) & 1, 0); /* PI needs IR */
    assert_int_equal((rd64(&t, R_ECAP) >> 1) & 1, 1); /* QI stays */
    wr64(&t, R_IRTA, ~0ULL);
    assert_int_equal(rd64(&t, R_IRTA), 0);
    wr32(&t, R_GCMD, GCMD_IRE);
    assert_int_equal(rd32(&t, R_GSTS), 0);
    /* Without IR a remappable-looking MSI passes as compatibility format. */
    struct sio_irq o;
    assert_int_equal(sio_vtd_msi(t.u, SID, 0xFEE03000, 0x8031, &o), 0);
    assert_int_equal(o.vector, 0x31);
    assert_int_equal(o.dest, 3);
    vt_fini(&t);
}

static void test_linux_enable_and_remap(void **state)
{
    (void)state;
    struct irt r;
    /* Linux: S = 0xF, the full 64K-entry table. */
    ir_setup(&r, NULL, 0xF, 0);
    struct vt *t = &r.q.t;
    assert_int_equal(rd32(t, R_GSTS), GSTS_QIES | GSTS_IRES | GSTS_IRTPS);
    /* Linux's IRTE for an MSI: vector 0x41, APIC id 3 (DST 15:8), fixed, edge, physical, RH=1
     * (Linux sets it), SVT 01 SQ 00 with the device's SID. */
    struct irte_f f = {.vector = 0x41, .dst = 3 << 8, .rh = 1, .svt = 1, .sid = SID};
    qt_irte_update(&r.q, r.irt, 5, irte_remap(&f));
    uint64_t a;
    uint32_t d;
    sio_vtd_msi_remappable(5, 0, 0, &a, &d);
    assert_int_equal(a, 0xFEE000B0); /* 5 << 5 | 1 << 4 */
    assert_int_equal(d, 0);
    struct sio_irq o;
    assert_int_equal(msi(&r, SID, a, d, &o), 0);
    assert_int_equal(o.vector, 0x41);
    assert_int_equal(o.dest, 3);
    assert_int_equal(o.flags, SIO_IRQ_REMAPPED | SIO_IRQ_RH);
    /* Level, logical, lowest priority. */
    f = (struct irte_f){
        .vector = 0x99, .dst = 0xA5 << 8, .dlm = 1, .tm = 1, .dm = 1, .svt = 1, .sid = SID};
    qt_irte_update(&r.q, r.irt, 0x8001, irte_remap(&f));
    sio_vtd_msi_remappable(0x8001, 0, 0, &a, &d);
    assert_int_equal(a, 0xFEE00000 | 1 << 5 | 1 << 4 | 1 << 2); /* handle[15] in bit 2 */
    assert_int_equal(msi(&r, SID, a, d, &o), 0);
    assert_int_equal(o.vector, 0x99);
    assert_int_equal(o.dest, 0xA5);
    assert_int_equal(o.flags, SIO_IRQ_REMAPPED | SIO_IRQ_LEVEL | SIO_IRQ_LOGICAL |
                                  (SIO_IRQ_DLM_LOWEST << SIO_IRQ_DLM_SHIFT));
    assert_int_equal(SIO_IRQ_DLM(o.flags), 1);
    /* NMI, SMI, INIT, ExtINT delivery modes come through. */
    static const unsigned dlms[] = {2, 4, 5, 7};
    for (unsigned i = 0; i < 4; i++) {
        f = (struct irte_f){.vector = 0x20, .dst = 1 << 8, .dlm = dlms[i], .svt = 0};
        qt_irte_update(&r.q, r.irt, 6, irte_remap(&f));
        assert_int_equal(msi(&r, SID, msi_addr(6, 0), 0, &o), 0);
        assert_int_equal(SIO_IRQ_DLM(o.flags), dlms[i]);
    }
    struct sio_vtd_ext_stats st;
    sio_vtd_get_ext_stats(t->u, &st);
    assert_int_equal(st.msi_remapped, 6);
    assert_int_equal(st.msi_blocked, 0);
    qt_fini(&r.q);
}

static void test_x2apic(void **state)
{
    (void)state;
    struct irt r;
    ir_setup(&r, NULL, 7, 1);
    /* EIME=1: DST is the whole 32-bit x2APIC id. */
    struct irte_f f = {.vector = 0x55, .dst = 0x00012345, .svt = 1, .sid = SID};
    qt_irte_update(&r.q, r.irt, 10, irte_remap(&f));
    struct sio_irq o;
    assert_int_equal(msi(&r, SID, msi_addr(10, 0), 0, &o), 0);
    assert_int_equal(o.vector, 0x55);
    assert_int_equal(o.dest, 0x12345);
    assert_int_equal(o.flags, SIO_IRQ_REMAPPED | SIO_IRQ_X2APIC);
    /* The same entry with EIME=0 has reserved DST bits (7:0 = 0x45, 31:16 = 0x1). */
    qt_fini(&r.q);
    ir_setup(&r, NULL, 7, 0);
    qt_irte_update(&r.q, r.irt, 10, irte_remap(&f));
    assert_int_equal(msi(&r, SID, msi_addr(10, 0), 0, &o), 0x24);
    f.dst = 0x00002300; /* only DST[15:8]: fine */
    qt_irte_update(&r.q, r.irt, 10, irte_remap(&f));
    assert_int_equal(msi(&r, SID, msi_addr(10, 0), 0, &o), 0);
    assert_int_equal(o.dest, 0x23);
    qt_fini(&r.q);
}

/* ---- faults ---------------------------------------------------------------------------------- */

/* FRCD of an interrupt-remapping fault (VT-d 1, 4): lo = index << 48; hi = F | FR << 32 |
 * SID (T = 0: an interrupt request is a write). */
static void expect_ir_record(struct vt *t, unsigned rec, unsigned sid, unsigned fr, unsigned index)
{
    uint64_t hi, lo;
    vt_frcd(t, rec, &hi, &lo);
    assert_int_equal(lo, (uint64_t)index << 48);
    assert_int_equal(hi, (1ULL << 63) | (uint64_t)fr << 32 | sid);
}

static void clear_records(struct vt *t)
{
    for (unsigned i = 0; i < 8; i++)
        wr32(t, R_FRCD + 16 * i + 12, 0x80000000u);
    wr32(t, R_FSTS, FSTS_PFO);
}

struct ir_case {
    unsigned fr;
    unsigned index; /* what FI records */
    uint64_t addr;
    uint32_t data;
    uint16_t sid;
    struct sio_u128 e; /* written at index (when the index is in the table) */
    const char *what;
};

static void run_fault_cases(struct irt *r, const struct ir_case *c, size_t n)
{
    struct vt *t = &r->q.t;
    for (size_t i = 0; i < n; i++) {
        clear_records(t);
        unsigned before = t->msis.n;
        if (c[i].index < 256)
            qt_irte_update(&r->q, r->irt, c[i].index, c[i].e);
        struct sio_irq o;
        int rc = msi(r, c[i].sid, c[i].addr, c[i].data, &o);
        if (rc != (int)c[i].fr) {
            print_message("%s: got %d, want 0x%x\n", c[i].what, rc, c[i].fr);
            fail();
        }
        /* Recorded in the next record after the previous case's; find it through FRI. */
        uint32_t fsts = rd32(t, R_FSTS);
        assert_int_equal(fsts & FSTS_PPF, FSTS_PPF);
        expect_ir_record(t, (fsts >> 8) & 0xff, c[i].sid, c[i].fr, c[i].index & 0xffff);
        assert_int_equal(t->msis.n, before + 1); /* the fault event */
        assert_int_equal(t->msis.data[t->msis.n - 1], 0x62);
    }
}

static void test_each_fault(void **state)
{
    (void)state;
    struct irt r;
    ir_setup(&r, NULL, 7, 0); /* 256 entries */
    struct irte_f ok = {.vector = 0x30, .dst = 2 << 8, .svt = 1, .sid = SID};
    struct sio_u128 good = irte_remap(&ok), e;
    const struct ir_case cases[] = {
        {0x20, 3, msi_addr(3, 0) | 1ULL << 32, 0, SID, good, "upper address bits"},
        {0x20, 4 + 1, msi_addr(4, 1), 0x10001, SID, good, "SHV with data 31:16 set"},
        {0x21, 256, msi_addr(256, 0), 0, SID, good, "index 256 >= 2^(7+1)"},
        {0x21, 300, msi_addr(250, 1), 50, SID, good, "handle 250 + subhandle 50"},
        {0x22, 7, msi_addr(7, 0), 0, SID, (struct sio_u128){good.lo & ~1ULL, good.hi}, "P=0"},
        {0x24, 8, msi_addr(8, 0), 0, SID, (struct sio_u128){good.lo | 1ULL << 12, good.hi},
         "bit 12"},
        {0x24, 8, msi_addr(8, 0), 0, SID, (struct sio_u128){good.lo | 1ULL << 24, good.hi},
         "bit 24"},
        {0x24, 8, msi_addr(8, 0), 0, SID, (struct sio_u128){good.lo, good.hi | 1ULL << 20},
         "bit 84"},
        {0x24, 8, msi_addr(8, 0), 0, SID, (struct sio_u128){good.lo, good.hi | 1ULL << 63},
         "bit 127"},
        {0x24, 8, msi_addr(8, 0), 0, SID, (struct sio_u128){good.lo | 1ULL << 32, good.hi},
         "DST bit 0 with EIME=0"},
        {0x24, 8, msi_addr(8, 0), 0, SID, (struct sio_u128){good.lo | 1ULL << 63, good.hi},
         "DST bit 31 with EIME=0"},
        {0x24, 8, msi_addr(8, 0), 0, SID, (struct sio_u128){good.lo | 3ULL << 5, good.hi},
         "delivery mode 011"},
        {0x24, 8, msi_addr(8, 0), 0, SID, (struct sio_u128){good.lo | 6ULL << 5, good.hi},
         "delivery mode 110"},
        {0x24, 8, msi_addr(8, 0), 0, SID, (struct sio_u128){good.lo, good.hi | 3ULL << 18},
         "SVT 11"},
        {0x26, 9, msi_addr(9, 0), 0, SID_B, good, "SID mismatch"},
    };
    run_fault_cases(&r, cases, sizeof(cases) / sizeof(cases[0]));
    (void)e;
    /* 0x25: compatibility format while CFIS=0. Its record carries index 0. */
    clear_records(&r.q.t);
    struct sio_irq o;
    assert_int_equal(msi(&r, SID, 0xFEE01000, 0x41, &o), 0x25);
    uint32_t fsts = rd32(&r.q.t, R_FSTS);
    expect_ir_record(&r.q.t, (fsts >> 8) & 0xff, SID, 0x25, 0);
    /* The line Linux prints for one of them. */
    uint64_t hi, lo;
    vt_frcd(&r.q.t, (fsts >> 8) & 0xff, &hi, &lo);
    struct sio_vtd_fault f;
    sio_vtd_fault_decode(hi, lo, &f);
    char line[256];
    sio_vtd_fault_format(&f, 0, line, sizeof(line));
    assert_string_equal(line, "DMAR: [INTR-REMAP] Request device [0000:00:02.0] fault index 0x0 "
                              "[fault reason 0x25] Blocked a compatibility format interrupt "
                              "request");
    qt_fini(&r.q);

    /* 0x23: the table is not readable (IRTA beyond the 64 GiB of memory). */
    qt_init(&r.q, NULL, 0);
    r.irt = 1ULL << 40;
    qt_ir_enable(&r.q, r.irt, 7, 0);
    wr32(&r.q.t, R_FECTL, 0);
    assert_int_equal(msi(&r, SID, msi_addr(1, 0), 0, &o), 0x23);
    expect_ir_record(&r.q.t, 0, SID, 0x23, 1);
    qt_fini(&r.q);
}

/* IRTE.FPD suppresses the faults found in a read entry (0x22, 0x24, 0x26): blocked, not
 * recorded. The others are recorded whatever the entry says. */
static void test_fpd(void **state)
{
    (void)state;
    struct irt r;
    ir_setup(&r, NULL, 7, 0);
    struct vt *t = &r.q.t;
    struct irte_f ok = {.vector = 0x30, .dst = 2 << 8, .svt = 1, .sid = SID, .fpd = 1};
    struct sio_u128 good = irte_remap(&ok);
    struct sio_irq o;
    qt_irte_update(&r.q, r.irt, 1, (struct sio_u128){2, 0}); /* P=0, FPD=1 */
    assert_int_equal(msi(&r, SID, msi_addr(1, 0), 0, &o), 0x22);
    qt_irte_update(&r.q, r.irt, 2, (struct sio_u128){good.lo | 1ULL << 13, good.hi});
    assert_int_equal(msi(&r, SID, msi_addr(2, 0), 0, &o), 0x24);
    qt_irte_update(&r.q, r.irt, 3, good);
    assert_int_equal(msi(&r, SID_B, msi_addr(3, 0), 0, &o), 0x26);
    assert_int_equal(rd32(t, R_FSTS), 0);
    assert_int_equal(t->msis.n, 0);
    /* Index beyond the table: recorded (there is no entry). */
    assert_int_equal(msi(&r, SID, msi_addr(999, 0), 0, &o), 0x21);
    assert_int_equal(rd32(t, R_FSTS) & FSTS_PPF, FSTS_PPF);
    struct sio_vtd_stats s;
    sio_vtd_get_stats(t->u, &s);
    assert_int_equal(s.faults_fpd, 3);
    assert_int_equal(s.faults_recorded, 1);
    /* The entry itself is fine for its own SID. */
    assert_int_equal(msi(&r, SID, msi_addr(3, 0), 0, &o), 0);
    qt_fini(&r.q);
}

/* ---- multi-MSI, source validation ------------------------------------------------------------ */

static void test_multi_msi_shv(void **state)
{
    (void)state;
    struct irt r;
    ir_setup(&r, NULL, 7, 0);
    /* Linux: a block of 4 at index 8 (aligned), handle 8, SHV=1, subhandle = vector number. */
    for (unsigned i = 0; i < 4; i++) {
        struct irte_f f = {.vector = 0x60 + i, .dst = (i + 1) << 8, .svt = 1, .sid = SID};
        irte_write(&r.q.t, r.irt, 8 + i, irte_remap(&f));
    }
    struct sio_u128 iec = d_iec(1, 2, 8); /* 4 entries from 8 */
    assert_int_equal(qt_submit_sync(&r.q, &iec, 1), 0);
    for (unsigned i = 0; i < 4; i++) {
        uint64_t a;
        uint32_t d;
        sio_vtd_msi_remappable(8, 1, (uint16_t)i, &a, &d);
        assert_int_equal(a, 0xFEE00000 | 8 << 5 | 1 << 4 | 1 << 3);
        assert_int_equal(d, i);
        struct sio_irq o;
        assert_int_equal(msi(&r, SID, a, d, &o), 0);
        assert_int_equal(o.vector, 0x60 + i);
        assert_int_equal(o.dest, i + 1);
    }
    /* Subhandle 4 reaches index 12, not present. */
    struct sio_irq o;
    assert_int_equal(msi(&r, SID, msi_addr(8, 1), 4, &o), 0x22);
    /* SHV=0: the data is ignored and the handle alone is the index. */
    assert_int_equal(msi(&r, SID, msi_addr(9, 0), 0xFFFF0003, &o), 0);
    assert_int_equal(o.vector, 0x61);
    qt_fini(&r.q);
}

static void test_source_validation(void **state)
{
    (void)state;
    struct irt r;
    ir_setup(&r, NULL, 7, 0);
    const uint16_t base = 0x1238; /* 12:07.0 */
    struct {
        unsigned svt, sq;
        uint16_t esid; /* the IRTE's SID field */
        uint16_t req;  /* the requester */
        int ok;
    } c[] = {
        {0, 0, 0, 0xFFFF, 1},          /* no check */
        {1, 0, base, base, 1},         /* all 16 bits */
        {1, 0, base, base ^ 1, 0},     /* function 1 */
        {1, 0, base, base ^ 0x100, 0}, /* another bus */
        {1, 1, base, base ^ 4, 1},     /* SQ 01: bit 2 ignored */
        {1, 1, base, base ^ 2, 0},     /* ... bit 1 is not */
        {1, 2, base, base ^ 6, 1},     /* SQ 10: bits 2:1 ignored */
        {1, 2, base, base ^ 1, 0},     /* ... bit 0 is not */
        {1, 3, base, base ^ 7, 1},     /* SQ 11: bits 2:0 ignored (Linux's HPET) */
        {1, 3, base, base ^ 8, 0},     /* ... the device number is not */
        {2, 0, 0x0204, 0x0200, 1},     /* SVT 10: bus 2 in [2, 4] */
        {2, 0, 0x0204, 0x03FF, 1},     /* bus 3 */
        {2, 0, 0x0204, 0x0410, 1},     /* bus 4 */
        {2, 0, 0x0204, 0x0110, 0},     /* bus 1 */
        {2, 0, 0x0204, 0x0500, 0},     /* bus 5 */
        {2, 0, 0x0402, 0x0300, 0},     /* [4, 2]: empty (QEMU swaps the bytes) */
        {2, 3, 0x0303, 0x0308, 1},     /* SQ ignored with SVT 10 */
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct irte_f f = {
            .vector = 0x70, .dst = 1 << 8, .svt = c[i].svt, .sq = c[i].sq, .sid = c[i].esid};
        qt_irte_update(&r.q, r.irt, 20, irte_remap(&f));
        struct sio_irq o;
        int rc = msi(&r, c[i].req, msi_addr(20, 0), 0, &o);
        if (rc != (c[i].ok ? 0 : 0x26)) {
            print_message("case %zu: SVT %u SQ %u SID %04x requester %04x: got 0x%x\n", i, c[i].svt,
                          c[i].sq, c[i].esid, c[i].req, rc);
            fail();
        }
    }
    qt_fini(&r.q);
}

/* ---- compatibility format -------------------------------------------------------------------- */

static void test_compat_format(void **state)
{
    (void)state;
    struct qt q;
    qt_init(&q, NULL, 0);
    struct vt *t = &q.t;
    struct sio_irq o;
    /* IRE=0: everything passes as compatibility format (address 19:12 dest, 3 RH, 2 DM; data
     * 7:0 vector, 10:8 delivery mode, 15 trigger). */
    uint64_t a = 0xFEE00000 | 0x7E << 12 | 1 << 3 | 1 << 2;
    uint32_t d = 0x8000 | 1 << 8 | 0x33;
    assert_int_equal(sio_vtd_msi(t->u, SID, a, d, &o), 0);
    assert_int_equal(o.vector, 0x33);
    assert_int_equal(o.dest, 0x7E);
    assert_int_equal(o.flags, SIO_IRQ_LEVEL | SIO_IRQ_LOGICAL | SIO_IRQ_RH |
                                  (SIO_IRQ_DLM_LOWEST << SIO_IRQ_DLM_SHIFT));
    assert_int_equal(sio_vtd_msi(t->u, SID, 0xFED00000, 0, &o), SIO_EINVAL); /* not 0xFEE */
    assert_int_equal(sio_vtd_msi(t->u, SID, 0xFEE00000, 0, NULL), SIO_EINVAL);
    /* IRE=1 with CFI=1 and EIME=0: passed through (CFIS=1 kept: Linux would clear it). */
    uint64_t irt = vt_page(t);
    wr64(t, R_IRTA, irt | 7);
    wr32(t, R_GCMD, q.gcmd | GCMD_SIRTP);
    q.gcmd |= GCMD_IRE | GCMD_CFI;
    wr32(t, R_GCMD, q.gcmd);
    assert_int_equal(rd32(t, R_GSTS) & (GSTS_IRES | GSTS_CFIS), GSTS_IRES | GSTS_CFIS);
    assert_int_equal(sio_vtd_msi(t->u, SID, 0xFEE05000, 0x42, &o), 0);
    assert_int_equal(o.vector, 0x42);
    assert_int_equal(o.dest, 5);
    assert_int_equal(o.flags & SIO_IRQ_REMAPPED, 0);
    /* CFI=0: blocked. */
    q.gcmd &= ~GCMD_CFI;
    wr32(t, R_GCMD, q.gcmd);
    assert_int_equal(sio_vtd_msi(t->u, SID, 0xFEE05000, 0x42, &o), 0x25);
    /* EIME=1 (x2APIC mode): blocked even with CFI=1 (VT-d 6; QEMU lets it through). */
    q.gcmd &= ~GCMD_IRE;
    wr32(t, R_GCMD, q.gcmd);
    wr64(t, R_IRTA, irt | 1 << 11 | 7);
    wr32(t, R_GCMD, q.gcmd | GCMD_SIRTP);
    q.gcmd |= GCMD_IRE | GCMD_CFI;
    wr32(t, R_GCMD, q.gcmd);
    assert_int_equal(sio_vtd_msi(t->u, SID, 0xFEE05000, 0x42, &o), 0x25);
    struct sio_vtd_ext_stats st;
    sio_vtd_get_ext_stats(t->u, &st);
    assert_int_equal(st.msi_compat, 2);
    assert_int_equal(st.msi_blocked, 2);
    qt_fini(&q);
}

/* ---- IOAPIC ---------------------------------------------------------------------------------- */

static void test_ioapic_rte(void **state)
{
    (void)state;
    /* Index 0x8123, vector (Linux: the pin) 9, level, active low, unmasked:
     * 9 | index[15] << 11 | 1 << 13 | 1 << 15 | 1 << 48 | 0x123 << 49. */
    uint64_t rte = sio_vtd_ioapic_rte(0x8123, 9, 1, 1, 0);
    assert_int_equal(rte, 9 | 1ULL << 11 | 1ULL << 13 | 1ULL << 15 | 1ULL << 48 | 0x123ULL << 49);
    assert_int_equal(sio_vtd_ioapic_rte(1, 0, 0, 0, 1), 1ULL << 16 | 1ULL << 48 | 1ULL << 49);
    uint64_t a;
    uint32_t d;
    sio_vtd_ioapic_rte_msi(rte, &a, &d);
    assert_int_equal(a, 0xFEE00000 | 0x123 << 5 | 1 << 4 | 1 << 2); /* SHV 0 */
    assert_int_equal(d, 0x8009);
    /* Through the unit: the IOAPIC at 00:1f.0 with Linux's SVT 01 / SQ 00 entry; the IRTE's
     * vector is what is delivered. */
    struct irt r;
    ir_setup(&r, NULL, 0xF, 0);
    struct irte_f f = {.vector = 0x39, .dst = 0 << 8, .tm = 1, .svt = 1, .sid = 0x00F8};
    qt_irte_update(&r.q, r.irt, 0x8123, irte_remap(&f));
    struct sio_irq o;
    assert_int_equal(msi(&r, 0x00F8, a, d, &o), 0);
    assert_int_equal(o.vector, 0x39);
    assert_int_equal(o.flags, SIO_IRQ_REMAPPED | SIO_IRQ_LEVEL);
    assert_int_equal(msi(&r, 0x00F9, a, d, &o), 0x26);
    qt_fini(&r.q);
}

/* ---- the interrupt entry cache ----------------------------------------------------------------
 */

static void test_iec(void **state)
{
    (void)state;
    struct irt r;
    ir_setup(&r, NULL, 7, 0);
    struct vt *t = &r.q.t;
    struct sio_irq o;
    for (unsigned i = 8; i < 13; i++) {
        struct irte_f f = {.vector = 0x10 + i, .dst = 1 << 8};
        irte_write(t, r.irt, i, irte_remap(&f));
        assert_int_equal(msi(&r, SID, msi_addr(i, 0), 0, &o), 0); /* now cached */
    }
    /* Changed in memory: the cached entries still answer (VT-d 7). */
    for (unsigned i = 8; i < 13; i++) {
        struct irte_f f = {.vector = 0x80 + i, .dst = 1 << 8};
        irte_write(t, r.irt, i, irte_remap(&f));
    }
    assert_int_equal(msi(&r, SID, msi_addr(9, 0), 0, &o), 0);
    assert_int_equal(o.vector, 0x19);
    /* Index-selective, IIDX 9 with IM 0: only 9. */
    struct sio_u128 d = d_iec(1, 0, 9);
    assert_int_equal(qt_submit_sync(&r.q, &d, 1), 0);
    assert_int_equal(msi(&r, SID, msi_addr(9, 0), 0, &o), 0);
    assert_int_equal(o.vector, 0x89);
    assert_int_equal(msi(&r, SID, msi_addr(10, 0), 0, &o), 0);
    assert_int_equal(o.vector, 0x1A);
    /* IIDX 10 with IM 2: the aligned block 8..11; 12 stays stale. */
    d = d_iec(1, 2, 10);
    assert_int_equal(qt_submit_sync(&r.q, &d, 1), 0);
    for (unsigned i = 8; i < 12; i++) {
        assert_int_equal(msi(&r, SID, msi_addr(i, 0), 0, &o), 0);
        assert_int_equal(o.vector, 0x80 + i);
    }
    assert_int_equal(msi(&r, SID, msi_addr(12, 0), 0, &o), 0);
    assert_int_equal(o.vector, 0x1C);
    /* A present entry made not-present is still cached until invalidated. */
    irte_write(t, r.irt, 12, (struct sio_u128){0, 0});
    assert_int_equal(msi(&r, SID, msi_addr(12, 0), 0, &o), 0);
    /* SIRTP to a new (empty) table does not flush the cache (no ESIRTPS); the global IEC
     * Linux sends next does. */
    uint64_t irt2 = vt_page(t);
    wr64(t, R_IRTA, irt2 | 7);
    wr32(t, R_GCMD, r.q.gcmd | GCMD_SIRTP);
    assert_int_equal(msi(&r, SID, msi_addr(8, 0), 0, &o), 0);
    assert_int_equal(o.vector, 0x88);
    d = d_iec(0, 0, 0);
    assert_int_equal(qt_submit_sync(&r.q, &d, 1), 0);
    assert_int_equal(msi(&r, SID, msi_addr(8, 0), 0, &o), 0x22);
    struct sio_vtd_ext_stats st;
    sio_vtd_get_ext_stats(t->u, &st);
    assert_int_equal(st.iec_inv_global, 2); /* enable + this one */
    assert_int_equal(st.iec_inv_index, 2);
    assert_int_equal(st.iec_capacity, 256);
    qt_fini(&r.q);

    /* Bounded: 4 entries; 10 distinct indexes evict, every answer stays right. */
    struct sio_vtd_config small = {.iec_entries = 4};
    ir_setup(&r, &small, 7, 0);
    t = &r.q.t;
    for (unsigned i = 0; i < 10; i++) {
        struct irte_f f = {.vector = 0x40 + i, .dst = 1 << 8};
        irte_write(t, r.irt, i, irte_remap(&f));
    }
    for (unsigned k = 0; k < 3; k++)
        for (unsigned i = 0; i < 10; i++) {
            assert_int_equal(msi(&r, SID, msi_addr(i, 0), 0, &o), 0);
            assert_int_equal(o.vector, 0x40 + i);
        }
    sio_vtd_get_ext_stats(t->u, &st);
    assert_int_equal(st.iec_capacity, 4);
    assert_true(st.iec_evictions > 0);
    assert_int_equal(st.iec_hits + st.iec_misses, 30);
    qt_fini(&r.q);

    /* No cache at all: every change is seen at once. */
    struct sio_vtd_config none = {.iec_entries = SIO_VTD_CACHE_OFF};
    ir_setup(&r, &none, 7, 0);
    struct irte_f f = {.vector = 0x44, .dst = 1 << 8};
    irte_write(&r.q.t, r.irt, 1, irte_remap(&f));
    assert_int_equal(msi(&r, SID, msi_addr(1, 0), 0, &o), 0);
    f.vector = 0x45;
    irte_write(&r.q.t, r.irt, 1, irte_remap(&f));
    assert_int_equal(msi(&r, SID, msi_addr(1, 0), 0, &o), 0);
    assert_int_equal(o.vector, 0x45);
    qt_fini(&r.q);
}

static void test_reset(void **state)
{
    (void)state;
    struct irt r;
    ir_setup(&r, NULL, 7, 0);
    sio_vtd_reset(r.q.t.u);
    assert_int_equal(rd32(&r.q.t, R_GSTS), 0);
    assert_int_equal(rd64(&r.q.t, R_IRTA), 0);
    struct sio_irq o;
    /* IR off again: remappable-looking requests pass as compatibility format. */
    assert_int_equal(msi(&r, SID, 0xFEE01000, 0x22, &o), 0);
    assert_int_equal(o.vector, 0x22);
    qt_fini(&r.q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caps_and_registers),
        cmocka_unit_test(test_linux_enable_and_remap),
        cmocka_unit_test(test_x2apic),
        cmocka_unit_test(test_each_fault),
        cmocka_unit_test(test_fpd),
        cmocka_unit_test(test_multi_msi_shv),
        cmocka_unit_test(test_source_validation),
        cmocka_unit_test(test_compat_format),
        cmocka_unit_test(test_ioapic_rte),
        cmocka_unit_test(test_iec),
        cmocka_unit_test(test_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

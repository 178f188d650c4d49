/* VT-d model: posted interrupts (VT-d 6, CAP.PI). Posted IRTEs and descriptors are built
 * from the digest's bit positions: PID = PIR 255:0, ON 256, SN 257, NV 279:272, NDST
 * 319:288. */
#include "test_vtd_qi.h"

#define SID 0x0010

/* Control qword (bits 319:256) of a PID. */
static uint64_t pid_ctl(unsigned on, unsigned sn, unsigned nv, uint32_t ndst)
{
    return (uint64_t)on | (uint64_t)sn << 1 | (uint64_t)nv << 16 | (uint64_t)ndst << 32;
}

struct pit {
    struct qt q;
    uint64_t irt, pid;
};

static void pi_setup(struct pit *p, const struct sio_vtd_config *cfg, int eime)
{
    qt_init(&p->q, cfg, 0);
    p->irt = vt_page(&p->q.t);
    p->pid = vt_page(&p->q.t) + 0x40; /* 64-byte aligned, not page aligned */
    qt_ir_enable(&p->q, p->irt, 7, eime);
    wr32(&p->q.t, R_FECTL, 0);
}

static uint64_t pir_word(struct pit *p, unsigned i)
{
    return vt_r64(&p->q.t, p->pid + 8 * i);
}

static void check_posting(struct pit *p)
{
    struct vt *t = &p->q.t;
    /* Vector 0x45, not urgent; descriptor: ON=0, SN=0, NV 0xF2, NDST APIC id 7 (15:8). */
    qt_irte_update(&p->q, p->irt, 3, irte_posted(0x45, p->pid, 0, 1, 0, SID));
    vt_w64(t, p->pid + 32, pid_ctl(0, 0, 0xF2, 7 << 8));
    struct sio_irq o;
    assert_int_equal(sio_vtd_msi(t->u, SID, msi_addr(3, 0), 0, &o), 0);
    /* PIR bit 0x45 = word 1 bit 5; ON set; notification NV to APIC 7. */
    assert_int_equal(pir_word(p, 1), 1ULL << 5);
    assert_int_equal(pir_word(p, 0), 0);
    assert_int_equal(vt_r64(t, p->pid + 32), pid_ctl(1, 0, 0xF2, 7 << 8));
    assert_int_equal(t->msis.n, 1);
    assert_int_equal(t->msis.addr[0], 0xFEE07000);
    assert_int_equal(t->msis.data[0], 0xF2);
    assert_int_equal(o.vector, 0x45);
    assert_int_equal(o.dest, 7);
    assert_int_equal(o.flags, SIO_IRQ_POSTED | SIO_IRQ_NOTIFIED);
    /* ON already set: the bit is added, no second notification. */
    qt_irte_update(&p->q, p->irt, 4, irte_posted(0xC0, p->pid, 0, 1, 0, SID));
    assert_int_equal(sio_vtd_msi(t->u, SID, msi_addr(4, 0), 0, &o), 0);
    assert_int_equal(pir_word(p, 3), 1ULL << 0);
    assert_int_equal(t->msis.n, 1);
    assert_int_equal(o.flags, SIO_IRQ_POSTED);
    /* The vCPU side harvests: ON cleared, PIR emptied. SN=1 (vCPU not running): posted,
     * no ON, no notification. */
    for (unsigned i = 0; i < 4; i++)
        vt_w64(t, p->pid + 8 * i, 0);
    vt_w64(t, p->pid + 32, pid_ctl(0, 1, 0xF2, 7 << 8));
    assert_int_equal(sio_vtd_msi(t->u, SID, msi_addr(3, 0), 0, &o), 0);
    assert_int_equal(pir_word(p, 1), 1ULL << 5);
    assert_int_equal(vt_r64(t, p->pid + 32), pid_ctl(0, 1, 0xF2, 7 << 8));
    assert_int_equal(t->msis.n, 1);
    assert_int_equal(o.flags, SIO_IRQ_POSTED);
    /* Urgent (IRTE bit 14) with SN=1: notified, ON set. */
    qt_irte_update(&p->q, p->irt, 5, irte_posted(0x46, p->pid, 1, 1, 0, SID));
    assert_int_equal(sio_vtd_msi(t->u, SID, msi_addr(5, 0), 0, &o), 0);
    assert_int_equal(pir_word(p, 1), 3ULL << 5);
    assert_int_equal(vt_r64(t, p->pid + 32), pid_ctl(1, 1, 0xF2, 7 << 8));
    assert_int_equal(t->msis.n, 2);
    assert_int_equal(o.flags, SIO_IRQ_POSTED | SIO_IRQ_NOTIFIED | SIO_IRQ_URGENT);
    /* SN cleared again, ON still 1: nothing new. */
    vt_w64(t, p->pid + 32, pid_ctl(1, 0, 0xF2, 7 << 8));
    assert_int_equal(sio_vtd_msi(t->u, SID, msi_addr(3, 0), 0, &o), 0);
    assert_int_equal(t->msis.n, 2);
    /* Source validation applies to posted entries too. */
    assert_int_equal(sio_vtd_msi(t->u, SID + 1, msi_addr(3, 0), 0, &o), 0x26);
    struct sio_vtd_ext_stats st;
    sio_vtd_get_ext_stats(t->u, &st);
    assert_int_equal(st.msi_posted, 5);
    assert_int_equal(st.pi_notifications, 2);
}

static void test_posting(void **state)
{
    (void)state;
    struct pit p;
    pi_setup(&p, NULL, 0);
    assert_int_equal((rd64(&p.q.t, R_CAP) >> 59) & 1, 1); /* CAP.PI */
    check_posting(&p);
    qt_fini(&p.q);
}

/* The same through memory ops without a host pointer (read-modify-write path). */
static int np_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
    return sio_pmem_ops()->read(ctx, pa, buf, len);
}
static int np_write(void *ctx, uint64_t pa, const void *buf, size_t len)
{
    return sio_pmem_ops()->write(ctx, pa, buf, len);
}
static const struct sio_mem_ops no_ptr_ops = {np_read, np_write, NULL};

static void test_posting_without_host_pointer(void **state)
{
    (void)state;
    struct pit p;
    memset(&p, 0, sizeof(p));
    struct vt *t = &p.q.t;
    t->pm = sio_pmem_create(1ULL << 36);
    t->ops = &no_ptr_ops;
    t->irq.msi = msi_log_fn;
    t->u = sio_vtd_create(NULL, t->ops, t->pm, &t->irq, &t->msis);
    assert_non_null(t->u);
    t->next_page = 0x100000;
    qt_enable(&p.q, 0);
    p.irt = vt_page(t);
    p.pid = vt_page(t) + 0x40;
    qt_ir_enable(&p.q, p.irt, 7, 0);
    wr32(t, R_FECTL, 0);
    check_posting(&p);
    qt_fini(&p.q);
}

static void test_x2apic_notification(void **state)
{
    (void)state;
    struct pit p;
    pi_setup(&p, NULL, 1);
    struct vt *t = &p.q.t;
    /* x2APIC (EIME=1): NDST is the 32-bit id 0x123456: address 19:12 = 0x56, 63:40 =
     * 0x1234. */
    qt_irte_update(&p.q, p.irt, 1, irte_posted(0x21, p.pid, 0, 0, 0, 0));
    vt_w64(t, p.pid + 32, pid_ctl(0, 0, 0xE0, 0x123456));
    struct sio_irq o;
    assert_int_equal(sio_vtd_msi(t->u, SID, msi_addr(1, 0), 0, &o), 0);
    assert_int_equal(o.dest, 0x123456);
    assert_int_equal(o.flags, SIO_IRQ_POSTED | SIO_IRQ_NOTIFIED | SIO_IRQ_X2APIC);
    assert_int_equal(t->msis.n, 1);
    assert_int_equal(t->msis.addr[0], 0xFEE56000ULL | 0x1234ULL << 40);
    assert_int_equal(t->msis.data[0], 0xE0);
    assert_int_equal(pir_word(&p, 0), 1ULL << 0x21);
    qt_fini(&p.q);
}

static void test_posted_faults(void **state)
{
    (void)state;
    struct pit p;
    pi_setup(&p, NULL, 0);
    struct vt *t = &p.q.t;
    struct sio_irq o;
    struct sio_u128 e = irte_posted(0x50, p.pid, 0, 0, 0, 0);
    /* Posted-format reserved bits 7:2, 13:12, 37:24, 95:84: 0x24. */
    static const struct {
        uint64_t lo, hi;
    } rsvd[] = {{1ULL << 2, 0},  {1ULL << 7, 0},  {1ULL << 12, 0}, {1ULL << 24, 0},
                {1ULL << 37, 0}, {0, 1ULL << 20}, {0, 1ULL << 31}};
    for (size_t i = 0; i < sizeof(rsvd) / sizeof(rsvd[0]); i++) {
        qt_irte_update(&p.q, p.irt, 2, (struct sio_u128){e.lo | rsvd[i].lo, e.hi | rsvd[i].hi});
        assert_int_equal(sio_vtd_msi(t->u, SID, msi_addr(2, 0), 0, &o), 0x24);
    }
    /* A descriptor address at or above the host address width (48): 0x24. */
    qt_irte_update(&p.q, p.irt, 2, irte_posted(0x50, 1ULL << 50, 0, 0, 0, 0));
    assert_int_equal(sio_vtd_msi(t->u, SID, msi_addr(2, 0), 0, &o), 0x24);
    /* Descriptor reserved bits (271:258, 287:280, 511:320): 0x28, nothing posted. */
    static const struct {
        unsigned off;
        uint64_t v;
    } bad[] = {{32, 1ULL << 2}, {32, 1ULL << 15}, {32, 1ULL << 24}, {40, 1}, {56, 1ULL << 63}};
    qt_irte_update(&p.q, p.irt, 2, e);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (unsigned w = 0; w < 8; w++)
            vt_w64(t, p.pid + 8 * w, 0);
        vt_w64(t, p.pid + bad[i].off, vt_r64(t, p.pid + bad[i].off) | bad[i].v);
        assert_int_equal(sio_vtd_msi(t->u, SID, msi_addr(2, 0), 0, &o), 0x28);
        assert_int_equal(pir_word(&p, 1), 0);
    }
    /* A descriptor in memory nobody backs (beyond 64 GiB): 0x27, recorded with the index. */
    for (unsigned i = 0; i < 8; i++)
        wr32(t, R_FRCD + 16 * i + 12, 0x80000000u);
    wr32(t, R_FSTS, 1);
    qt_irte_update(&p.q, p.irt, 6, irte_posted(0x50, 1ULL << 40, 0, 0, 0, 0));
    assert_int_equal(sio_vtd_msi(t->u, SID, msi_addr(6, 0), 0, &o), 0x27);
    uint32_t fsts = rd32(t, R_FSTS);
    uint64_t hi, lo;
    vt_frcd(t, (fsts >> 8) & 0xff, &hi, &lo);
    assert_int_equal(lo, 6ULL << 48);
    assert_int_equal(hi, (1ULL << 63) | 0x27ULL << 32 | SID);
    assert_int_equal(t->msis.n > 0, 1);
    qt_fini(&p.q);

    /* Without CAP.PI, IM=1 is a reserved bit: 0x24. */
    struct sio_vtd_config nopi = {.features = SIO_VTD_F_DEFAULT & ~SIO_VTD_F_PI};
    pi_setup(&p, &nopi, 0);
    assert_int_equal((rd64(&p.q.t, R_CAP) >> 59) & 1, 0);
    qt_irte_update(&p.q, p.irt, 2, irte_posted(0x50, p.pid, 0, 0, 0, 0));
    assert_int_equal(sio_vtd_msi(p.q.t.u, SID, msi_addr(2, 0), 0, &o), 0x24);
    qt_fini(&p.q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_posting),
        cmocka_unit_test(test_posting_without_host_pointer),
        cmocka_unit_test(test_x2apic_notification),
        cmocka_unit_test(test_posted_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

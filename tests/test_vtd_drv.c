/* The VT-d driver against a fake register file (tests/test_vtd_drv_fake.h): bring-up order,
 * invalidation interfaces and their order, context entries and second-level tables walked by
 * hand from memory with expected values computed from VT-d 2, refusal of units it cannot drive,
 * fault servicing in Linux's format, domains, pass-through, strict and lazy unmaps. The driver
 * against the real model is tests/test_vtd_drv_model.c. */
#include "test_util.h"
#include "test_vtd_drv_fake.h"

#include <softiommu/err.h>
#include <softiommu/log.h>
#include <softiommu/vtd_driver.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define TB   0x1000000ULL /* table range: 16 MiB at 16 MiB */
#define TS   0x1000000ULL
#define PG   0x1000ULL
#define SID  0x0010 /* 00:02.0 */
#define SID2 0x0118 /* 01:03.0 */

struct env {
    struct sio_pmem *pm;
    struct wmem wm;
    struct fake fk;
    struct sio_vtd_drv *drv;
    struct sio_vtd_drv_config cfg;
};

struct unit {
    unsigned sagaw, mgaw;
    int qi, cm, rwbf;
    unsigned sllps;
    int pt, psi;
    unsigned mamv;
};

/* 48-bit, 4-level, QI, PSI with MAMV 9, 2M+1G pages, pass-through. */
static const struct unit U48 = {0x4, 48, 1, 0, 0, 3, 1, 1, 9};
/* 48-bit, 4-level, register invalidation, PSI with MAMV 9, nothing else. */
static const struct unit U48_BARE = {0x4, 48, 0, 0, 0, 0, 0, 1, 9};

/* (Re)sets the fake to a fresh unit u: every register and the event log as at power-on. */
static void env_set_unit(struct env *e, const struct unit *u)
{
    struct sio_mem um = {sio_pmem_ops(), e->pm};
    fk_init(&e->fk, &um, u->sagaw, u->mgaw, u->qi, u->cm, u->rwbf, u->sllps, u->pt, u->psi,
            u->mamv);
}

/* The unit u over ram bytes of memory, no driver yet: a test may bend e->fk first. */
static struct env *env_unit(const struct unit *u, uint64_t ram)
{
    struct env *e = calloc(1, sizeof(*e));
    e->pm = sio_pmem_create(ram);
    e->wm = (struct wmem){e->pm, TB, TB + TS, 0, {0}, 0};
    env_set_unit(e, u);
    return e;
}

/* Brings the driver up on the unit over the table range [TB, TB + TS); NULL if it refused. */
static struct sio_vtd_drv *env_start(struct env *e, int strict)
{
    e->cfg = (struct sio_vtd_drv_config){TB, TS, strict};
    e->drv = sio_vtd_drv_create(&e->cfg, &fk_ops, &e->fk, &wm_ops, &e->wm);
    return e->drv;
}

static struct env *env_new(const struct unit *u, int strict)
{
    struct env *e = env_unit(u, 16ULL << 30);
    env_start(e, strict);
    return e;
}

static void env_free(struct env *e)
{
    sio_vtd_drv_destroy(e->drv);
    /* Nothing the driver wrote, ever, left its table range. */
    assert_int_equal(e->wm.outside, 0);
    sio_pmem_destroy(e->pm);
    free(e);
}

static uint64_t rd64(struct env *e, uint64_t pa)
{
    uint64_t v = 0;
    struct sio_mem m = {sio_pmem_ops(), e->pm};
    sio_mem_read64(&m, pa, &v);
    return v;
}

/* Context entry of sid, read the way the unit would: RTADDR -> root[bus] -> context[devfn]. */
static void ctx_entry(struct env *e, uint16_t sid, uint64_t *lo, uint64_t *hi)
{
    uint64_t root = e->fk.rtaddr & ~0xFFFULL;
    uint64_t re = rd64(e, root + 16ULL * (sid >> 8));
    assert_true(re & 1); /* root entry present */
    uint64_t ctp = re & 0x000FFFFFFFFFF000ULL;
    *lo = rd64(e, ctp + 16ULL * (sid & 0xff));
    *hi = rd64(e, ctp + 16ULL * (sid & 0xff) + 8);
}

/* The entry at level `level` for iova, walking from the context entry's SLPTPTR. */
static uint64_t walk(struct env *e, uint16_t sid, uint64_t iova, unsigned levels, unsigned level)
{
    uint64_t lo, hi;
    ctx_entry(e, sid, &lo, &hi);
    uint64_t table = lo & 0x000FFFFFFFFFF000ULL;
    for (unsigned l = levels;; l--) {
        uint64_t ent = rd64(e, table + 8ULL * ((iova >> (12 + 9 * (l - 1))) & 0x1ff));
        if (l == level)
            return ent;
        if (!(ent & 3))
            return 0;
        table = ent & 0x000FFFFFFFFFF000ULL;
    }
}

/* A new domain with sid attached to it. */
static struct sio_domain *dom_attached(struct env *e, uint16_t sid)
{
    struct sio_domain *dom = sio_vtd_drv_domain_alloc(e->drv);
    assert_non_null(dom);
    assert_int_equal(sio_vtd_drv_attach(dom, sid), 0);
    return dom;
}

static int find_ev(struct env *e, unsigned from, int kind, uint64_t a)
{
    for (unsigned i = from; i < e->fk.nev; i++)
        if (e->fk.ev[i].kind == kind && e->fk.ev[i].a == a)
            return (int)i;
    return -1;
}

/* ---- bring-up ----------------------------------------------------------------------------- */

static void test_bringup_register_invalidation(void **state)
{
    (void)state;
    struct unit u = U48;
    u.qi = 0;
    struct env *e = env_new(&u, 1);
    assert_non_null(e->drv);
    struct fake *f = &e->fk;
    /* Order: RTADDR, SRTP, global CC, global IOTLB, FECTL unmask, TE last. */
    int rt = find_ev(e, 0, EV_RTADDR, f->rtaddr);
    int srtp = -1, te = -1;
    for (unsigned i = 0; i < f->nev; i++) {
        if (f->ev[i].kind == EV_GCMD && (f->ev[i].a & SIO_VTD_GCMD_SRTP))
            srtp = (int)i;
        if (f->ev[i].kind == EV_GCMD && (f->ev[i].a & SIO_VTD_GCMD_TE))
            te = (int)i;
    }
    int cc = find_ev(e, 0, EV_CC, 1), tlb = find_ev(e, 0, EV_IOTLB, 1);
    int fe = find_ev(e, 0, EV_FECTL, 0);
    assert_true(rt >= 0 && srtp > rt && cc > srtp && tlb > cc && fe > tlb && te > fe);
    assert_int_equal(te, (int)f->nev - 1); /* translation enable is the very last command */
    assert_false(f->ev[cc].qi);            /* through CCMD, not a queue */
    assert_int_equal(f->multi_cmd, 0);     /* one command per GCMD write */
    /* The root table is in the table range, page aligned, TTM=00. */
    assert_true(f->rtaddr >= TB && f->rtaddr < TB + TS && (f->rtaddr & 0xFFF) == 0);
    assert_true(f->gsts & SIO_VTD_GSTS_TES);
    /* Fault-event MSI programmed and unmasked (defaults: 0xFEE00000, data 0). */
    assert_true(f->feaddr == 0xFEE00000 && f->feuaddr == 0 && f->fectl == 0);
    struct sio_vtd_drv_info info;
    sio_vtd_drv_get_info(e->drv, &info);
    assert_int_equal(info.aw, 2);
    assert_int_equal(info.levels, 4);
    assert_int_equal(info.width, 48);
    assert_int_equal(info.qi, 0);
    env_free(e);
}

static void test_bringup_qi(void **state)
{
    (void)state;
    struct env *e = env_new(&U48, 1);
    assert_non_null(e->drv);
    struct fake *f = &e->fk;
    /* IQA programmed before QIE; QIE before SRTP; invalidations as descriptors, each followed
     * by a wait descriptor whose status write the driver waited for. */
    int iqa = find_ev(e, 0, EV_IQA, f->iqa);
    assert_true(iqa >= 0);
    uint64_t qbase = f->iqa & ~0xFFFULL;
    assert_true(qbase >= TB && qbase < TB + TS);
    assert_int_equal(sio_get64(f->iqa, SIO_VTD_IQA_QS), 0);
    assert_int_equal(sio_get64(f->iqa, SIO_VTD_IQA_DW), 0);
    int qie = -1, srtp = -1;
    for (unsigned i = 0; i < f->nev; i++) {
        if (f->ev[i].kind == EV_GCMD && (f->ev[i].a & SIO_VTD_GCMD_QIE) && qie < 0)
            qie = (int)i;
        if (f->ev[i].kind == EV_GCMD && (f->ev[i].a & SIO_VTD_GCMD_SRTP))
            srtp = (int)i;
    }
    assert_true(iqa < qie && qie < srtp);
    int cc = find_ev(e, 0, EV_CC, 1);
    assert_true(cc > srtp && f->ev[cc].qi);
    assert_int_equal(f->ev[cc + 1].kind, EV_WAIT);
    int tlb = find_ev(e, 0, EV_IOTLB, 1);
    assert_true(tlb > cc && f->ev[tlb].qi);
    assert_int_equal(f->ev[tlb + 1].kind, EV_WAIT);
    uint64_t status = f->ev[tlb + 1].b;
    assert_true(status >= TB && status < TB + TS);
    struct sio_vtd_drv_stats st;
    sio_vtd_drv_get_stats(e->drv, &st);
    assert_int_equal(st.qi_waits, 2);
    env_free(e);
    /* Teardown turned translation and the queue off. */
}

static void test_bringup_esrtps_skips_global(void **state)
{
    (void)state;
    struct env *e = env_unit(&U48_BARE, 1ULL << 30);
    struct fake *f = &e->fk;
    f->cap |= 1ULL << 63; /* ESRTPS: SRTP flushes everything itself */
    assert_non_null(env_start(e, 1));
    for (unsigned i = 0; i < f->nev; i++)
        assert_true(f->ev[i].kind != EV_CC && f->ev[i].kind != EV_IOTLB);
    env_free(e);
}

static void test_bringup_disables_pmr(void **state)
{
    (void)state;
    /* Firmware left the protected low-memory region on: it is off after bring-up. */
    struct env *e = env_unit(&U48_BARE, 1ULL << 30);
    struct fake *f = &e->fk;
    f->cap |= 1ULL << 5; /* PLMR */
    f->pmen = SIO_VTD_PMEN_EPM | SIO_VTD_PMEN_PRS;
    assert_non_null(env_start(e, 1));
    assert_int_equal(f->pmen, 0);
    env_free(e);
}

static void test_refuses_units(void **state)
{
    (void)state;
    struct log_capture lc;
    struct unit u = U48;
    /* No supported SAGAW. */
    u.sagaw = 0x10; /* only the 64-bit/6-level bit */
    log_capture_start(&lc);
    struct env *e = env_new(&u, 1);
    log_capture_stop();
    assert_null(e->drv);
    assert_true(log_capture_has(&lc, "SAGAW"));
    env_free(e);
    /* Major version 6 without QI: register invalidation is gone. */
    e = env_unit(&U48_BARE, 1ULL << 30);
    struct fake *f = &e->fk;
    f->ver = 0x60;
    log_capture_start(&lc);
    assert_null(env_start(e, 1));
    log_capture_stop();
    assert_true(log_capture_has(&lc, "without queued invalidation"));
    /* A unit whose GSTS never follows: bring-up times out instead of hanging. */
    env_set_unit(e, &U48_BARE);
    f->stuck_gsts = 1;
    struct sio_vtd_drv_options opt = {.poll_limit = 1000};
    log_capture_start(&lc);
    assert_null(sio_vtd_drv_create_ex(&e->cfg, &opt, &fk_ops, f, &wm_ops, &e->wm));
    log_capture_stop();
    assert_true(log_capture_has(&lc, "never completed") || log_capture_has(&lc, "never followed"));
    /* Table range too small or misaligned. */
    env_set_unit(e, &U48_BARE);
    struct sio_vtd_drv_config cfg = {TB, 4 * PG, 1};
    log_capture_start(&lc);
    assert_null(sio_vtd_drv_create(&cfg, &fk_ops, f, &wm_ops, &e->wm));
    cfg = (struct sio_vtd_drv_config){TB + 8, TS, 1};
    assert_null(sio_vtd_drv_create(&cfg, &fk_ops, f, &wm_ops, &e->wm));
    log_capture_stop();
    /* Nothing there at all. */
    env_set_unit(e, &U48_BARE);
    f->cap = 0;
    log_capture_start(&lc);
    assert_null(env_start(e, 1));
    log_capture_stop();
    env_free(e); /* and nothing was written outside the table range */
}

/* ---- context entries and page tables, checked against VT-d 2 by hand ----------------------- */

static void test_context_and_tables_by_hand(void **state)
{
    (void)state;
    struct env *e = env_new(&U48, 1);
    struct sio_domain *dom = sio_vtd_drv_domain_alloc(e->drv);
    assert_non_null(dom);
    uint16_t did = sio_vtd_drv_domain_id(dom);
    assert_int_equal(did, 1); /* DID 0 is reserved */
    assert_int_equal(sio_vtd_drv_attach(dom, SID), 0);
    uint64_t lo, hi;
    ctx_entry(e, SID, &lo, &hi);
    /* lo: P=1, FPD=0, TT=00, SLPTPTR in the table range; hi: AW=2 (48-bit), DID at 87:72. */
    assert_int_equal(lo & 0xFFF, 0x1);
    assert_true((lo & ~0xFFFULL) >= TB && (lo & ~0xFFFULL) < TB + TS);
    assert_true(hi == (2ULL | ((uint64_t)did << 8)));
    /* 0x12345000 -> 0xABCDE000, 4 KiB, R|W. Indices by hand: L4 = bits 47:39 = 0, L3 = 38:30
     * = 0, L2 = 29:21 = 0x91, L1 = 20:12 = 0x145. */
    assert_int_equal(sio_vtd_drv_map(dom, 0x12345000, 0xABCDE000, PG, SIO_READ | SIO_WRITE), 0);
    uint64_t l4 = rd64(e, (lo & ~0xFFFULL) + 8 * 0);
    assert_int_equal(l4 & 3, 3); /* non-leaf: R|W */
    uint64_t l3 = rd64(e, (l4 & ~0xFFFULL) + 8 * 0);
    uint64_t l2 = rd64(e, (l3 & ~0xFFFULL) + 8 * 0x91);
    uint64_t l1 = rd64(e, (l2 & ~0xFFFULL) + 8 * 0x145);
    assert_true(l1 == (0xABCDE000ULL | 3));
    assert_int_equal(l2 & SIO_VTD_SL_PS, 0);
    /* Read-only mapping: R only, no W. */
    assert_int_equal(sio_vtd_drv_map(dom, 0x12346000, 0x5000, PG, SIO_READ), 0);
    assert_true(walk(e, SID, 0x12346000, 4, 1) == (0x5000ULL | 1));
    uint64_t pa;
    assert_int_equal(sio_vtd_drv_iova_to_phys(dom, 0x12345abc, &pa), 0);
    assert_true(pa == 0xABCDEabcULL);
    assert_int_equal(sio_vtd_drv_iova_to_phys(dom, 0x12347000, &pa), SIO_ENOENT);
    /* The context entry's upper half is written before the lower (present) half. */
    e->wm.nw = 0;
    assert_int_equal(sio_vtd_drv_attach(dom, SID + 1), 0);
    uint64_t ce_pa = 0;
    for (unsigned i = 0; i + 1 < e->wm.nw; i++)
        if (e->wm.wlog[i] % 16 == 8 && e->wm.wlog[i + 1] == e->wm.wlog[i] - 8)
            ce_pa = e->wm.wlog[i + 1];
    assert_true(ce_pa != 0);
    /* Double map, misaligned, beyond 48 bits, bad permission. */
    assert_int_equal(sio_vtd_drv_map(dom, 0x12345000, 0x1000, PG, SIO_READ), SIO_EEXIST);
    assert_int_equal(sio_vtd_drv_map(dom, 0x12345800, 0x1000, PG, SIO_READ), SIO_EINVAL);
    assert_int_equal(sio_vtd_drv_map(dom, 1ULL << 48, 0x1000, PG, SIO_READ), SIO_EINVAL);
    assert_int_equal(sio_vtd_drv_map(dom, 0x1000, 0x1000, PG, 0), SIO_EINVAL);
    assert_int_equal(sio_vtd_drv_map(dom, 0x1000, 0x1000, PG, 4), SIO_EINVAL);
    /* A busy domain cannot be freed. */
    assert_int_equal(sio_vtd_drv_domain_free(dom), SIO_EBUSY);
    assert_int_equal(sio_vtd_drv_attach(dom, SID), SIO_EEXIST);
    struct sio_domain *other = sio_vtd_drv_domain_alloc(e->drv);
    assert_int_equal(sio_vtd_drv_attach(other, SID), SIO_EBUSY);
    assert_int_equal(sio_vtd_drv_detach(other, SID), SIO_ENOENT);
    assert_int_equal(sio_vtd_drv_domain_free(other), 0);
    env_free(e); /* destroy releases the domain still allocated */
}

static void test_three_and_five_levels(void **state)
{
    (void)state;
    /* 39-bit unit: AW=1, three levels; L3 index of 0x40000000 is 1. */
    struct unit u = {0x2, 39, 0, 0, 0, 0, 0, 1, 9};
    struct env *e = env_new(&u, 1);
    struct sio_domain *dom = dom_attached(e, SID);
    uint64_t lo, hi;
    ctx_entry(e, SID, &lo, &hi);
    assert_int_equal(hi & 7, 1);
    assert_int_equal(sio_vtd_drv_map(dom, 0x40000000, 0x7000, PG, SIO_WRITE), 0);
    assert_true(walk(e, SID, 0x40000000, 3, 1) == (0x7000ULL | 2));
    uint64_t l3 = rd64(e, (lo & ~0xFFFULL) + 8 * 1);
    assert_int_equal(l3 & 3, 3);
    assert_int_equal(sio_vtd_drv_map(dom, 1ULL << 39, 0x7000, PG, SIO_WRITE), SIO_EINVAL);
    env_free(e);
    /* 57-bit unit: AW=3, five levels; PML5 index of 1<<48 is 1. */
    u = (struct unit){0xE, 57, 1, 0, 0, 0, 0, 1, 9};
    e = env_new(&u, 1);
    dom = dom_attached(e, SID);
    ctx_entry(e, SID, &lo, &hi);
    assert_int_equal(hi & 7, 3);
    assert_int_equal(sio_vtd_drv_map(dom, 1ULL << 48, 0x9000, PG, SIO_READ), 0);
    assert_int_equal(rd64(e, (lo & ~0xFFFULL) + 8 * 1) & 3, 3);
    assert_true(walk(e, SID, 1ULL << 48, 5, 1) == (0x9000ULL | 1));
    env_free(e);
    /* SAGAW lists 39 and 48 but MGAW is 40: 4 levels, yet IOVAs stop at 2^40. */
    u = (struct unit){0x6, 40, 0, 0, 0, 0, 0, 1, 9};
    e = env_new(&u, 1);
    struct sio_vtd_drv_info info;
    sio_vtd_drv_get_info(e->drv, &info);
    assert_int_equal(info.levels, 4);
    assert_int_equal(info.width, 40);
    dom = sio_vtd_drv_domain_alloc(e->drv);
    assert_true(sio_vtd_drv_domain_limit(dom) == 1ULL << 40);
    assert_int_equal(sio_vtd_drv_map(dom, 1ULL << 40, 0, PG, SIO_READ), SIO_EINVAL);
    env_free(e);
}

static void test_superpages(void **state)
{
    (void)state;
    struct env *e = env_new(&U48, 1);
    struct sio_domain *dom = dom_attached(e, SID);
    /* 4 MiB at 2M-aligned iova and pa: two PDEs with PS (bit 7), no L1 table. */
    assert_int_equal(sio_vtd_drv_map(dom, 0x40200000, 0x80400000, 4 << 20, SIO_READ), 0);
    uint64_t pde = walk(e, SID, 0x40200000, 4, 2);
    assert_true(pde == (0x80400000ULL | SIO_VTD_SL_PS | 1));
    assert_true(walk(e, SID, 0x40400000, 4, 2) == (0x80600000ULL | SIO_VTD_SL_PS | 1));
    /* 1 GiB at 1G-aligned: a PDPTE with PS. */
    assert_int_equal(sio_vtd_drv_map(dom, 0x80000000, 0x140000000, 1 << 30, SIO_READ | SIO_WRITE),
                     0);
    assert_true(walk(e, SID, 0x80000000, 4, 3) == (0x140000000ULL | SIO_VTD_SL_PS | 3));
    /* 2M-aligned iova, 4K-aligned pa: must use 4K pages. */
    assert_int_equal(sio_vtd_drv_map(dom, 0x1000000, 0x3001000, 2 << 20, SIO_READ), 0);
    assert_int_equal(walk(e, SID, 0x1000000, 4, 2) & SIO_VTD_SL_PS, 0);
    assert_true(walk(e, SID, 0x11FF000, 4, 1) == (0x3200000ULL | 1)); /* 0x3001000 + 0x1FF000 */
    /* Superpage over an existing table or mapping: EEXIST. */
    assert_int_equal(sio_vtd_drv_map(dom, 0x1000000, 0x3000000, 2 << 20, SIO_READ), SIO_EEXIST);
    /* Unmapping one 4K page out of a 2M page splits it: the rest still translates, and the
     * invalidation covers the whole 2M page (AM >= 9 at 0x40200000). */
    unsigned ev0 = e->fk.nev;
    assert_int_equal(sio_vtd_drv_unmap(dom, 0x40201000, PG), 0);
    uint64_t pa;
    assert_int_equal(sio_vtd_drv_iova_to_phys(dom, 0x40201000, &pa), SIO_ENOENT);
    assert_int_equal(sio_vtd_drv_iova_to_phys(dom, 0x40200000, &pa), 0);
    assert_true(pa == 0x80400000);
    assert_int_equal(sio_vtd_drv_iova_to_phys(dom, 0x403FF123, &pa), 0);
    assert_true(pa == 0x805FF123);
    assert_int_equal(walk(e, SID, 0x40200000, 4, 2) & SIO_VTD_SL_PS, 0); /* now a table */
    assert_true(walk(e, SID, 0x40202000, 4, 1) == (0x80402000ULL | 1));
    int t = find_ev(e, ev0, EV_IOTLB, 3);
    assert_true(t >= 0);
    assert_true((e->fk.ev[t].c & ~0xFFFULL) == 0x40200000);
    assert_true((e->fk.ev[t].c & 0x3F) >= 9);
    env_free(e);
    /* A unit without SLLPS: 4K leaves only, even for aligned 2M. */
    struct unit u = U48;
    u.sllps = 0;
    e = env_new(&u, 1);
    dom = dom_attached(e, SID);
    assert_int_equal(sio_vtd_drv_map(dom, 0x200000, 0x200000, 2 << 20, SIO_READ), 0);
    assert_int_equal(walk(e, SID, 0x200000, 4, 2) & SIO_VTD_SL_PS, 0);
    assert_true(walk(e, SID, 0x3FF000, 4, 1) == (0x3FF000ULL | 1));
    env_free(e);
}

static void test_unmap_frees_tables_and_psi(void **state)
{
    (void)state;
    struct env *e = env_new(&U48, 1);
    struct sio_domain *dom = dom_attached(e, SID);
    struct sio_vtd_drv_info info;
    sio_vtd_drv_get_info(e->drv, &info);
    uint64_t base = info.table_pages_used;
    /* One page far away: L3, L2 and L1 tables appear (3 pages). */
    assert_int_equal(sio_vtd_drv_map(dom, 0x7F0000000000ULL, 0x1000, PG, SIO_READ), 0);
    sio_vtd_drv_get_info(e->drv, &info);
    assert_int_equal(info.table_pages_used, base + 3);
    assert_int_equal(sio_vtd_drv_unmap(dom, 0x7F0000000000ULL, PG), 0);
    sio_vtd_drv_get_info(e->drv, &info);
    assert_int_equal(info.table_pages_used, base); /* all three freed */
    uint64_t lo, hi;
    ctx_entry(e, SID, &lo, &hi);
    assert_int_equal(rd64(e, (lo & ~0xFFFULL) + 8 * 0xFE), 0); /* L4 entry cleared */
    /* Smallest covering AM: pages 5..7 -> AM 2 at 0x4000 (aligned block of 4 pages), IH=1
     * because page 1 keeps the L1 table alive. */
    assert_int_equal(sio_vtd_drv_map(dom, 0x1000, 0x1000, 8 * PG, SIO_READ), 0);
    unsigned ev0 = e->fk.nev;
    assert_int_equal(sio_vtd_drv_unmap(dom, 0x5000, 3 * PG), 0);
    int t = find_ev(e, ev0, EV_IOTLB, 3);
    assert_true(t >= 0);
    uint16_t did = sio_vtd_drv_domain_id(dom);
    assert_true(e->fk.ev[t].b == did);
    assert_true(e->fk.ev[t].c == (0x4000ULL | (1 << 6) | 2));
    /* Unmapping what is left empties the tables: IH=0 then. */
    ev0 = e->fk.nev;
    assert_int_equal(sio_vtd_drv_unmap(dom, 0x1000, 4 * PG), 0);
    assert_int_equal(sio_vtd_drv_unmap(dom, 0x8000, PG), 0);
    t = find_ev(e, ev0 + 1, EV_IOTLB, 3);
    assert_true(t >= 0 && (e->fk.ev[t].c & (1 << 6)) == 0);
    assert_int_equal(sio_vtd_drv_unmap(dom, 0x8000, PG), SIO_ENOENT);
    /* Past MAMV (9): 1024 pages need AM 10 -> domain-selective. */
    assert_int_equal(sio_vtd_drv_map(dom, 0x400000, 0x400000, 1024 * PG, SIO_READ), 0);
    ev0 = e->fk.nev;
    assert_int_equal(sio_vtd_drv_unmap(dom, 0x400000, 1024 * PG), 0);
    assert_true(find_ev(e, ev0, EV_IOTLB, 2) >= 0);
    assert_true(find_ev(e, ev0, EV_IOTLB, 3) < 0);
    sio_vtd_drv_get_info(e->drv, &info);
    assert_int_equal(info.table_pages_used, base);
    env_free(e);
    /* A unit without PSI always gets domain-selective. */
    struct unit u = U48;
    u.psi = 0;
    u.qi = 0;
    e = env_new(&u, 1);
    dom = dom_attached(e, SID);
    sio_vtd_drv_map(dom, 0x1000, 0x1000, PG, SIO_READ);
    ev0 = e->fk.nev;
    sio_vtd_drv_unmap(dom, 0x1000, PG);
    assert_true(find_ev(e, ev0, EV_IOTLB, 2) >= 0 && find_ev(e, ev0, EV_IOTLB, 3) < 0);
    env_free(e);
}

/* ---- attach / detach, caching mode, write buffer ------------------------------------------ */

static void test_detach_order(void **state)
{
    (void)state;
    for (int qi = 0; qi <= 1; qi++) {
        struct unit u = U48;
        u.qi = qi;
        struct env *e = env_new(&u, 1);
        struct sio_domain *dom = sio_vtd_drv_domain_alloc(e->drv);
        uint16_t did = sio_vtd_drv_domain_id(dom);
        assert_int_equal(sio_vtd_drv_attach(dom, SID2), 0);
        unsigned ev0 = e->fk.nev;
        assert_int_equal(sio_vtd_drv_detach(dom, SID2), 0);
        /* Context entry not present, then device-selective CC (DID, SID), then IOTLB DSI. */
        uint64_t lo, hi;
        ctx_entry(e, SID2, &lo, &hi);
        assert_true(lo == 0 && hi == 0);
        int cc = find_ev(e, ev0, EV_CC, 3);
        int tlb = find_ev(e, ev0, EV_IOTLB, 2);
        assert_true(cc >= 0 && tlb > cc);
        assert_true(e->fk.ev[cc].b == (did | ((uint64_t)SID2 << 16)));
        assert_true(e->fk.ev[tlb].b == did);
        assert_int_equal(e->fk.ev[cc].qi, qi);
        assert_int_equal(sio_vtd_drv_detach(dom, SID2), SIO_ENOENT);
        assert_int_equal(sio_vtd_drv_domain_free(dom), 0);
        env_free(e);
    }
}

static void test_caching_mode_and_rwbf(void **state)
{
    (void)state;
    /* CM=1: a new context entry -> CC device-selective with DID 0, then IOTLB DSI; every new
     * mapping -> IOTLB PSI. */
    struct unit u = U48;
    u.cm = 1;
    struct env *e = env_new(&u, 1);
    struct sio_domain *dom = sio_vtd_drv_domain_alloc(e->drv);
    uint16_t did = sio_vtd_drv_domain_id(dom);
    unsigned ev0 = e->fk.nev;
    assert_int_equal(sio_vtd_drv_attach(dom, SID), 0);
    int cc = find_ev(e, ev0, EV_CC, 3);
    assert_true(cc >= 0 && e->fk.ev[cc].b == ((uint64_t)SID << 16)); /* DID 0 */
    int dsi = find_ev(e, cc, EV_IOTLB, 2);
    assert_true(dsi > cc && e->fk.ev[dsi].b == did);
    ev0 = e->fk.nev;
    assert_int_equal(sio_vtd_drv_map(dom, 0x3000, 0x9000, PG, SIO_READ), 0);
    int psi = find_ev(e, ev0, EV_IOTLB, 3);
    assert_true(psi >= 0 && (e->fk.ev[psi].c & ~0xFFFULL) == 0x3000);
    env_free(e);
    /* CM=0: a mapping needs nothing... */
    e = env_new(&U48, 1);
    dom = dom_attached(e, SID);
    ev0 = e->fk.nev;
    assert_int_equal(sio_vtd_drv_map(dom, 0x3000, 0x9000, PG, SIO_READ), 0);
    assert_int_equal(e->fk.nev, ev0);
    env_free(e);
    /* ...except a write-buffer flush when RWBF. */
    u = U48;
    u.rwbf = 1;
    e = env_new(&u, 1);
    dom = dom_attached(e, SID);
    unsigned w0 = e->fk.wbf;
    assert_int_equal(sio_vtd_drv_map(dom, 0x3000, 0x9000, PG, SIO_READ), 0);
    assert_int_equal(e->fk.wbf, w0 + 1);
    env_free(e);
}

static void test_passthrough(void **state)
{
    (void)state;
    /* With ECAP.PT: TT=10, AW = the largest supported, no tables. */
    struct env *e = env_new(&U48, 1);
    assert_int_equal(sio_vtd_drv_passthrough(e->drv, SID), 0);
    uint64_t lo, hi;
    ctx_entry(e, SID, &lo, &hi);
    assert_int_equal(lo & 0xF, 1 | (2 << 2));
    assert_int_equal(hi & 7, 2);
    struct sio_domain *id = sio_vtd_drv_device_domain(e->drv, SID);
    assert_non_null(id);
    assert_int_equal(sio_vtd_drv_passthrough(e->drv, SID), SIO_EEXIST);
    /* Busy both ways. */
    struct sio_domain *dom = sio_vtd_drv_domain_alloc(e->drv);
    assert_int_equal(sio_vtd_drv_attach(dom, SID), SIO_EBUSY);
    assert_int_equal(sio_vtd_drv_attach(dom, SID2), 0);
    assert_int_equal(sio_vtd_drv_passthrough(e->drv, SID2), SIO_EBUSY);
    /* Detach from the pass-through domain, then a DMA domain may have it. */
    assert_int_equal(sio_vtd_drv_detach(id, SID), 0);
    assert_int_equal(sio_vtd_drv_attach(dom, SID), 0);
    env_free(e);
    /* Without ECAP.PT: a DMA domain mapping RAM 1:1 (TT=00), with 1G pages here. */
    struct unit u = U48;
    u.pt = 0;
    e = env_new(&u, 1);
    assert_int_equal(sio_vtd_drv_passthrough(e->drv, SID), 0);
    ctx_entry(e, SID, &lo, &hi);
    assert_int_equal(lo & 0xF, 1);
    id = sio_vtd_drv_device_domain(e->drv, SID);
    uint64_t pa;
    assert_int_equal(sio_vtd_drv_iova_to_phys(id, 0xDEADB000, &pa), 0);
    assert_true(pa == 0xDEADB000);
    assert_true(walk(e, SID, 0x40000000, 4, 3) == (0x40000000ULL | SIO_VTD_SL_PS | 3));
    assert_int_equal(sio_vtd_drv_iova_to_phys(id, 1ULL << 32, &pa), SIO_ENOENT);
    env_free(e);
}

static void test_domain_ids(void **state)
{
    (void)state;
    struct unit u = U48_BARE;
    u.qi = 1;
    u.pt = 1;
    struct env *e = env_unit(&u, 1ULL << 30);
    e->fk.cap = sio_set64(e->fk.cap, SIO_VTD_CAP_ND, 0); /* 16 domain ids, 0 reserved */
    struct sio_vtd_drv *d = env_start(e, 1);
    struct sio_domain *doms[16];
    for (int i = 0; i < 15; i++) {
        doms[i] = sio_vtd_drv_domain_alloc(d);
        assert_non_null(doms[i]);
        assert_int_equal(sio_vtd_drv_domain_id(doms[i]), i + 1);
    }
    struct log_capture lc;
    log_capture_start(&lc);
    assert_null(sio_vtd_drv_domain_alloc(d));
    log_capture_stop();
    assert_int_equal(sio_vtd_drv_domain_free(doms[6]), 0);
    doms[15] = sio_vtd_drv_domain_alloc(d);
    assert_int_equal(sio_vtd_drv_domain_id(doms[15]), 7); /* reused */
    env_free(e);
}

/* ---- faults ------------------------------------------------------------------------------- */

static void set_record(struct fake *f, unsigned i, uint16_t sid, unsigned fr, int read,
                       uint64_t addr)
{
    struct sio_u128 r = {0, 0};
    r = sio_set128(r, SIO_VTD_FRCD_FI, addr >> 12);
    r = sio_set128(r, SIO_VTD_FRCD_SID, sid);
    r = sio_set128(r, SIO_VTD_FRCD_FR, fr);
    r = sio_set128(r, SIO_VTD_FRCD_T1, read);
    r = sio_set128(r, SIO_VTD_FRCD_F, 1);
    f->frcd[i][0] = r.lo;
    f->frcd[i][1] = r.hi;
}

static void test_fault_servicing(void **state)
{
    (void)state;
    struct env *e = env_new(&U48, 1);
    struct fake *f = &e->fk;
    /* Records 3 and 0 pending (circular), FRI = 3, plus an overflow. */
    set_record(f, 3, 0x0010, 0x05, 0, 0x80000000);
    set_record(f, 0, 0x0118, 0x06, 1, 0x12345000);
    f->fri = 3;
    f->fsts |= SIO_VTD_FSTS_PFO;
    fk_ppf(f);
    struct log_capture lc;
    log_capture_start(&lc);
    int n = sio_vtd_drv_service_faults(e->drv);
    log_capture_stop();
    assert_int_equal(n, 2);
    assert_true(log_capture_has(&lc, "DMAR: [DMA Write NO_PASID] Request device [0000:00:02.0] "
                                     "fault addr 0x80000000 [fault reason 0x05] PTE Write access "
                                     "is not set"));
    assert_true(log_capture_has(&lc, "DMAR: [DMA Read NO_PASID] Request device [0000:01:03.0] "
                                     "fault addr 0x12345000 [fault reason 0x06] PTE Read access "
                                     "is not set"));
    assert_true(log_capture_has(&lc, "overflow"));
    /* F cleared in both records, PFO cleared, PPF follows. */
    assert_int_equal(f->frcd[3][1] >> 63, 0);
    assert_int_equal(f->frcd[0][1] >> 63, 0);
    assert_int_equal(f->fsts & (SIO_VTD_FSTS_PFO | SIO_VTD_FSTS_PPF), 0);
    assert_int_equal(sio_vtd_drv_fault_count(e->drv, 0x0010), 1);
    assert_int_equal(sio_vtd_drv_fault_count(e->drv, 0x0118), 1);
    assert_int_equal(sio_vtd_drv_fault_count(e->drv, 0x0011), 0);
    /* Nothing pending: nothing logged. */
    assert_int_equal(sio_vtd_drv_service_faults(e->drv), 0);
    /* An interrupt-remapping fault prints its index. */
    set_record(f, 1, 0x00F8, 0x22, 0, 0);
    f->frcd[1][0] = sio_set64(0, SIO_VTD_FRCD_IRIDX, 0x2a);
    f->fri = 1;
    fk_ppf(f);
    log_capture_start(&lc);
    assert_int_equal(sio_vtd_drv_service_faults(e->drv), 1);
    log_capture_stop();
    assert_true(log_capture_has(&lc, "DMAR: [INTR-REMAP] Request device [0000:00:1f.0] fault "
                                     "index 0x2a [fault reason 0x22] Present field in the IRTE "
                                     "entry is clear"));
    env_free(e);
}

/* ---- strict and lazy ---------------------------------------------------------------------- */

struct released {
    uint64_t iova[1024], size[1024];
    _Atomic unsigned n; /* the flush-queue timer thread releases too */
    unsigned nev_at[1024];
    struct fake *f;
};

static void on_release(void *ctx, uint64_t iova, uint64_t size)
{
    struct released *r = ctx;
    unsigned n = atomic_load(&r->n);
    if (n < 1024) {
        r->iova[n] = iova;
        r->size[n] = size;
        r->nev_at[n] = r->f->nev;
        atomic_store(&r->n, n + 1);
    }
}

/* Records the ranges dom gives back, with the event count at each; the caller frees it. */
static struct released *track_releases(struct env *e, struct sio_domain *dom)
{
    struct released *r = calloc(1, sizeof(*r));
    r->f = &e->fk;
    sio_vtd_drv_domain_set_release(dom, on_release, r);
    return r;
}

/* ---- invalidation errors ------------------------------------------------------------------ */

static void test_invalidation_errors(void **state)
{
    (void)state;
    /* Queue: the unit flags the IOTLB descriptor invalid (IQE, IQH left on it). The driver
     * overwrites it with its wait descriptor, clears IQE, the queue completes; the unmap fails
     * and its range is held back (never released while it may be cached). */
    struct env *e = env_new(&U48, 1);
    struct sio_domain *dom = dom_attached(e, SID);
    struct released *r = track_releases(e, dom);
    assert_int_equal(sio_vtd_drv_map(dom, 0x5000, 0x5000, PG, SIO_READ), 0);
    e->fk.iqe_next = 1;
    struct log_capture lc;
    log_capture_start(&lc);
    assert_int_equal(sio_vtd_drv_unmap(dom, 0x5000, PG), SIO_EIO);
    log_capture_stop();
    assert_true(log_capture_has(&lc, "invalidation queue error (IQEI 4)"));
    assert_int_equal(e->fk.fsts & SIO_VTD_FSTS_IQE, 0);
    assert_true(e->fk.iqh == e->fk.iqt); /* the queue drained past the bad slot */
    assert_int_equal(atomic_load(&r->n), 0);
    /* The queue works again afterwards. */
    assert_int_equal(sio_vtd_drv_map(dom, 0x6000, 0x6000, PG, SIO_READ), 0);
    assert_int_equal(sio_vtd_drv_unmap(dom, 0x6000, PG), 0);
    assert_int_equal(atomic_load(&r->n), 1);
    env_free(e);
    free(r);
    /* Registers: a refused page-selective request (IAIG=00) is retried domain-selective. */
    struct unit u = U48;
    u.qi = 0;
    e = env_new(&u, 1);
    dom = dom_attached(e, SID);
    sio_vtd_drv_map(dom, 0x5000, 0x5000, PG, SIO_READ);
    e->fk.refuse_psi = 1;
    unsigned ev0 = e->fk.nev;
    assert_int_equal(sio_vtd_drv_unmap(dom, 0x5000, PG), 0);
    int psi = find_ev(e, ev0, EV_IOTLB, 3), dsi = find_ev(e, ev0, EV_IOTLB, 2);
    assert_true(psi >= 0 && dsi > psi);
    env_free(e);
}

static void test_strict_releases_after_invalidation(void **state)
{
    (void)state;
    struct env *e = env_new(&U48, 1);
    struct sio_domain *dom = dom_attached(e, SID);
    struct released *r = track_releases(e, dom);
    sio_vtd_drv_map(dom, 0x10000, 0x10000, 2 * PG, SIO_READ);
    unsigned ev0 = e->fk.nev;
    assert_int_equal(sio_vtd_drv_unmap(dom, 0x10000, 2 * PG), 0);
    /* Released inside unmap, after the PSI and its wait completed. */
    assert_int_equal(r->n, 1);
    assert_true(r->iova[0] == 0x10000 && r->size[0] == 2 * PG);
    int psi = find_ev(e, ev0, EV_IOTLB, 3);
    assert_true(psi >= 0 && e->fk.ev[psi + 1].kind == EV_WAIT);
    assert_true(r->nev_at[0] >= (unsigned)psi + 2);
    env_free(e);
    free(r);
}

static void test_lazy_queue_bounds(void **state)
{
    (void)state;
    struct env *e = env_new(&U48, 0);
    struct sio_domain *dom = dom_attached(e, SID);
    struct released *r = track_releases(e, dom);
    /* Entry bound: 255 unmaps wait; the 256th flushes (one DSI) and releases all. */
    for (unsigned i = 0; i < 256; i++)
        sio_vtd_drv_map(dom, 0x100000 + i * PG, 0x100000 + i * PG, PG, SIO_READ);
    unsigned ev0 = e->fk.nev;
    for (unsigned i = 0; i < 255; i++)
        assert_int_equal(sio_vtd_drv_unmap(dom, 0x100000 + i * PG, PG), 0);
    assert_int_equal(r->n, 0);
    assert_true(find_ev(e, ev0, EV_IOTLB, 3) < 0); /* no per-unmap invalidation */
    assert_int_equal(sio_vtd_drv_unmap(dom, 0x100000 + 255 * PG, PG), 0);
    assert_int_equal(r->n, 256);
    int dsi = find_ev(e, ev0, EV_IOTLB, 2);
    assert_true(dsi >= 0 && r->nev_at[0] > (unsigned)dsi);
    /* Time bound: one unmap is released by the timer within 10 ms (+ slack). */
    sio_vtd_drv_map(dom, 0x900000, 0x900000, PG, SIO_READ);
    assert_int_equal(sio_vtd_drv_unmap(dom, 0x900000, PG), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    double ms = 0;
    while (r->n == 256 && ms < 2000) {
        usleep(200);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    }
    assert_int_equal(r->n, 257);
    assert_true(ms >= 9.0 && ms < 200.0);
    /* An explicit flush and switching to strict drain the queue too. */
    sio_vtd_drv_map(dom, 0x900000, 0x900000, PG, SIO_READ);
    sio_vtd_drv_unmap(dom, 0x900000, PG);
    assert_int_equal(sio_vtd_drv_flush(dom), 0);
    assert_int_equal(r->n, 258);
    sio_vtd_drv_map(dom, 0x900000, 0x900000, PG, SIO_READ);
    sio_vtd_drv_unmap(dom, 0x900000, PG);
    assert_int_equal(sio_vtd_drv_domain_set_strict(dom, 1), 0);
    assert_int_equal(r->n, 259);
    env_free(e);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bringup_register_invalidation),
        cmocka_unit_test(test_bringup_qi),
        cmocka_unit_test(test_bringup_esrtps_skips_global),
        cmocka_unit_test(test_bringup_disables_pmr),
        cmocka_unit_test(test_refuses_units),
        cmocka_unit_test(test_context_and_tables_by_hand),
        cmocka_unit_test(test_three_and_five_levels),
        cmocka_unit_test(test_superpages),
        cmocka_unit_test(test_unmap_frees_tables_and_psi),
        cmocka_unit_test(test_detach_order),
        cmocka_unit_test(test_caching_mode_and_rwbf),
        cmocka_unit_test(test_passthrough),
        cmocka_unit_test(test_domain_ids),
        cmocka_unit_test(test_fault_servicing),
        cmocka_unit_test(test_invalidation_errors),
        cmocka_unit_test(test_strict_releases_after_invalidation),
        cmocka_unit_test(test_lazy_queue_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

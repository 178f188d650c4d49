/* VT-d model: the lean IOTLB-miss path (translate.c walk_lean) against the general walk.
 *
 * A unit with paging-structure caches finishes most IOTLB misses on a short path: cached
 * context, PDE from the paging-structure cache, one PTE read. A unit without them always takes
 * the general walk (VT-d 2). Both units get identical tables; every PTE is random (present or
 * not, any R/W, reserved bits, PS, address bits beyond the host width) and every request a
 * random read, write or both, under PDEs granting R, W or RW. The two units must agree on
 * everything a caller or driver can see: the result, the fault recorded, whether the
 * translation was cached, and every counter but the paging-structure cache's own. */
#include "test_vtd_tables.h"

#define SID    0x0010 /* 00:02.0 */
#define DID    7
#define REGION 0x40000000ULL /* three 2 MiB regions from here, one per PDE permission */
#define TRIALS 500

struct pair {
    struct vt lean, general;
    uint64_t top; /* same address in both */
};

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64*: a fixed sequence, so a failure names a reproducible trial. */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static uint64_t setup_one(struct vt *t, const struct sio_vtd_config *cfg)
{
    vt_init(t, cfg);
    uint64_t top = vt_one_device(t, SID, 0, 2, DID); /* 4 levels, AW=48 */
    /* Page 0 of each region maps; translating it fills the PSC with the region's PDE. */
    for (unsigned r = 0; r < 3; r++)
        vt_map(t, top, 4, REGION + 0x200000ULL * r, 0x1000000ULL + 0x1000ULL * r, 1, 3);
    /* The PDEs grant R, W and RW (non-leaf permissions AND into the leaf's, VT-d 2). */
    for (unsigned r = 0; r < 3; r++) {
        uint64_t ea = vt_entry_addr(t, top, 4, REGION + 0x200000ULL * r, 2);
        vt_w64(t, ea, (vt_r64(t, ea) & ~3ULL) | (r + 1));
    }
    vt_linux_bringup(t);
    return top;
}

static void setup(struct pair *p)
{
    struct sio_vtd_config off = {.psc_entries = SIO_VTD_CACHE_OFF};
    p->top = setup_one(&p->lean, NULL);
    /* Same allocation order: every table sits at the same address in both. */
    assert_int_equal(setup_one(&p->general, &off), p->top);
}

static void same_stats(struct sio_vtd *a, struct sio_vtd *b, unsigned trial)
{
    struct sio_vtd_stats x, y;
    sio_vtd_get_stats(a, &x);
    sio_vtd_get_stats(b, &y);
#define SAME(f)                                                                                    \
    do {                                                                                           \
        if (x.f != y.f)                                                                            \
            fail_msg("trial %u: %s %llu (lean) != %llu (general)", trial, #f,                      \
                     (unsigned long long)x.f, (unsigned long long)y.f);                            \
    } while (0)
    SAME(translations);
    SAME(iotlb_hits);
    SAME(iotlb_misses);
    SAME(ctx_hits);
    SAME(ctx_misses);
    SAME(walks);
    SAME(faults);
    SAME(faults_recorded);
    SAME(iotlb_evictions);
#undef SAME
}

static void same_xlate(struct pair *p, uint64_t iova, unsigned access, unsigned trial)
{
    struct sio_xlate a, b;
    int ra = sio_vtd_translate(p->lean.u, SID, iova, access, &a);
    int rb = sio_vtd_translate(p->general.u, SID, iova, access, &b);
    if (ra != rb || a.pa != b.pa || a.page_size != b.page_size || a.perm != b.perm ||
        a.fault_reason != b.fault_reason)
        fail_msg("trial %u iova 0x%llx access %u: lean rc %d pa 0x%llx perm %u fr 0x%x, general "
                 "rc %d pa 0x%llx perm %u fr 0x%x",
                 trial, (unsigned long long)iova, access, ra, (unsigned long long)a.pa, a.perm,
                 a.fault_reason, rb, (unsigned long long)b.pa, b.perm, b.fault_reason);
    same_stats(p->lean.u, p->general.u, trial);
}

static void drain_faults(struct vt *t)
{
    /* Clear every fault record and PFO so each trial's fault is recorded, not dropped. */
    for (unsigned i = 0; i < 8; i++)
        wr64(t, 0x220 + 16 * i + 8, 1ULL << 63);
    wr32(t, R_FSTS, 0x7f);
}

static void test_lean_matches_general(void **state)
{
    (void)state;
    struct pair p;
    setup(&p);
    for (unsigned r = 0; r < 3; r++)
        same_xlate(&p, REGION + 0x200000ULL * r, SIO_READ | SIO_WRITE, r);
    struct sio_vtd_stats s0;
    sio_vtd_get_stats(p.lean.u, &s0);
    uint64_t seed = 0x5eed1ea4;
    unsigned ok = 0;
    for (unsigned i = 0; i < TRIALS; i++) {
        unsigned region = (unsigned)(rng_next(&seed) % 3);
        unsigned page = 1 + (unsigned)(rng_next(&seed) % 511);
        uint64_t iova = REGION + 0x200000ULL * region + 0x1000ULL * page;
        uint64_t e = rng_next(&seed);
        switch (rng_next(&seed) % 4) {
        case 0: /* clean: a frame below the host width, R/W random, no other bit */
            e = (e & 0x0000000FFFFFF003ULL);
            break;
        case 1: /* clean frame, random low bits (X/EMT/IPAT, PS, SNP, ignored 8-10) */
            e = (e & 0x0000000FFFFFFFFFULL);
            break;
        case 2: /* clean frame, random high bits (ignored 52-61, TM 62, 63) */
            e = (e & 0xFFF0000FFFFFF003ULL);
            break;
        default: /* anything at all */
            break;
        }
        unsigned access = 1 + (unsigned)(rng_next(&seed) % 3);
        uint64_t slot = vt_entry_addr(&p.lean, p.top, 4, iova, 1);
        vt_w64(&p.lean, slot, e);
        vt_w64(&p.general, slot, e);
        drain_faults(&p.lean);
        drain_faults(&p.general);
        same_xlate(&p, iova, access, i);
        /* Again: cached (or not) alike, and a second access type on the same page. */
        same_xlate(&p, iova, access, i);
        same_xlate(&p, iova, 1 + (access % 3), i);
        if ((e & 3) && !(e & 0x0000F00000000000ULL))
            ok++;
    }
    /* The lean path really ran: most walks found the PDE in the PSC. */
    struct sio_vtd_stats s1;
    sio_vtd_get_stats(p.lean.u, &s1);
    assert_true(s1.psc_hits - s0.psc_hits >= TRIALS);
    assert_true(ok > TRIALS / 4);
    vt_fini(&p.lean);
    vt_fini(&p.general);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lean_matches_general),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

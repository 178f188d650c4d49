/* Legacy-mode DMA translation (VT-d 2): root table -> context entry -> second-level tables,
 * with the context cache, IOTLB and paging-structure caches in front (VT-d 7), faults
 * reported per VT-d 4, and the debug walk that prints every step.
 *
 * Decisions where the digest leaves room (documented in docs/vtd-model.md):
 *  - TT=01 (device-TLB) is an invalid context entry (0x3) while DT is not advertised; TT=10
 *    is invalid (0x3) without PT; TT=11 always.
 *  - ATS translation requests and translated requests are blocked (0xD) under TT=00 and 10.
 *  - Context-entry checks in order: P (0x2), fixed reserved bits (0xB), TT (0x3), AW against
 *    SAGAW (0x3), then for TT=00 SLPTPTR bits at or above HAW (0xB).
 *  - A second-level entry with R=W=0 is not present: 0x5 for a write, 0x6 for a read, at any
 *    level. A present entry's reserved bits (0xC) are checked before permissions. Bits 6:2
 *    (X/EMT/IPAT, only meaningful in extended/scalable formats), 8-10, 52-61 and 63 are
 *    ignored; reserved are: address bits at or above HAW; bit 7 in PML5E/PML4E; SNP (11) in
 *    non-leaf entries and in leaves without ECAP.SC; TM (62) without DT; a superpage's
 *    address bits below its size. PS=1 in a PDPE/PDE without the matching SLLPS bit is 0xC.
 *  - Permissions are ANDed over every level. With CM=0, an IOTLB entry that does not allow
 *    the access is not trusted: the walk is redone (so raised permissions are seen at once,
 *    and the fault, if any, comes from memory). With CM=1 (VT-d 7) not-present context
 *    entries and not-present second-level entries are cached as faults, and a cached entry
 *    is final until invalidated. */
#include "vtd_internal.h"

#include <softiommu/err.h>
#include <softiommu/pci.h>

#include <stdarg.h>
#include <stdio.h>

#define ACCESS_RW     (SIO_READ | SIO_WRITE)
#define ACCESS_AT     (SIO_AT_TRANSLATION_REQ | SIO_AT_TRANSLATED)
#define ACCESS_ZLR    (1u << 8) /* internal: a zero-length read (sio_vtd_dma with len 0) */
#define ACCESS_VALID  (ACCESS_RW | ACCESS_AT)
#define VTD_ADDR_MASK 0x000FFFFFFFFFF000ULL /* bits 51:12 */
#define SL_PERM(e)    ((unsigned)((e)&3))

/* ---- the debug trace ------------------------------------------------------------------------ */

struct trace {
    char *buf;
    size_t len, pos;
};

static void tracef(struct trace *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tracef(struct trace *t, const char *fmt, ...)
{
    if (!t || !t->buf || t->pos + 1 >= t->len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->pos, t->len - t->pos, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->pos = (t->pos + (size_t)n < t->len) ? t->pos + (size_t)n : t->len - 1;
}

/* Trace arguments are only evaluated when tracing, so the real walk pays nothing. */
#define TRACE(t, ...)                                                                              \
    do {                                                                                           \
        if (t)                                                                                     \
            tracef(t, __VA_ARGS__);                                                                \
    } while (0)

static const char *perm_str(unsigned p)
{
    static const char *const s[] = {"--", "R-", "-W", "RW"};
    return s[p & 3];
}

/* ---- context ------------------------------------------------------------------------------- */

static int read128(struct sio_vtd *u, uint64_t pa, struct sio_u128 *v)
{
    if (u->mem_ptr) {
        const void *p = u->mem_ptr(u->mem.ctx, pa, 16);
        if (p) {
            *v = sio_ld128le(p);
            return 0;
        }
    }
    uint8_t b[16];
    if (sio_mem_read(&u->mem, pa, b, 16))
        return -1;
    *v = sio_ld128le(b);
    return 0;
}

/* Root and context entry for sid, from memory (VT-d 2). Returns 0 or the fault reason; c->fpd
 * is valid whenever the context entry was read. */
static inline __attribute__((always_inline)) int ctx_fetch(struct sio_vtd *u, uint16_t sid,
                                                           struct vtd_ctx *c, struct trace *t)
{
    uint64_t rta = atomic_load_explicit(&u->root, memory_order_acquire);
    struct sio_u128 re, ce;
    uint64_t hawm = u->haw_mask;
    c->fpd = 0;
    uint64_t ra = rta + 16ULL * sio_sid_bus(sid);
    if (read128(u, ra, &re)) {
        TRACE(t, "  root[%02x] @0x%llx: not readable\n", sio_sid_bus(sid), (unsigned long long)ra);
        return SIO_VTD_FR_ROOT_FETCH;
    }
    TRACE(t, "  root[%02x] @0x%llx: 0x%016llx 0x%016llx P=%u CTP=0x%llx\n", sio_sid_bus(sid),
          (unsigned long long)ra, (unsigned long long)re.hi, (unsigned long long)re.lo,
          (unsigned)(re.lo & 1), (unsigned long long)(re.lo & sio_mask64(63, 12)));
    if (!sio_get128(re, SIO_VTD_ROOT_P))
        return SIO_VTD_FR_ROOT_NP;
    if ((re.lo & (SIO_VTD_ROOT_RSVD_LO | (sio_mask64(63, 12) & ~hawm))) || re.hi)
        return SIO_VTD_FR_ROOT_RSVD;
    uint64_t ca = (re.lo & sio_mask64(63, 12)) + 16ULL * sio_sid_devfn(sid);
    if (read128(u, ca, &ce)) {
        TRACE(t, "  context[%02x] @0x%llx: not readable\n", sio_sid_devfn(sid),
              (unsigned long long)ca);
        return SIO_VTD_FR_CTX_FETCH;
    }
    c->fpd = (uint8_t)sio_get128(ce, SIO_VTD_CTX_FPD);
    c->tt = (uint8_t)sio_get128(ce, SIO_VTD_CTX_TT);
    c->aw = (uint8_t)sio_get128(ce, SIO_VTD_CTX_AW);
    c->did = (uint16_t)sio_get128(ce, SIO_VTD_CTX_DID);
    c->slptptr = ce.lo & sio_mask64(63, 12);
    TRACE(t,
          "  context[%02x] @0x%llx: 0x%016llx 0x%016llx P=%u FPD=%u TT=%u AW=%u DID=%u "
          "SLPTPTR=0x%llx\n",
          sio_sid_devfn(sid), (unsigned long long)ca, (unsigned long long)ce.hi,
          (unsigned long long)ce.lo, (unsigned)(ce.lo & 1), c->fpd, c->tt, c->aw, c->did,
          (unsigned long long)c->slptptr);
    if (!sio_get128(ce, SIO_VTD_CTX_P))
        return SIO_VTD_FR_CTX_NP;
    if ((ce.lo & SIO_VTD_CTX_RSVD_LO) || (ce.hi & SIO_VTD_CTX_RSVD_HI))
        return SIO_VTD_FR_CTX_RSVD;
    if (c->tt == SIO_VTD_TT_SLPT_DEVTLB && !(u->features & SIO_VTD_F_DT))
        return SIO_VTD_FR_CTX_INVALID;
    if (c->tt == SIO_VTD_TT_PASSTHROUGH && !(u->features & SIO_VTD_F_PT))
        return SIO_VTD_FR_CTX_INVALID;
    if (c->tt == 3)
        return SIO_VTD_FR_CTX_INVALID;
    if (c->aw > 4 || !(u->sagaw & (1u << c->aw)))
        return SIO_VTD_FR_CTX_INVALID;
    if (c->tt != SIO_VTD_TT_PASSTHROUGH && (c->slptptr & ~hawm))
        return SIO_VTD_FR_CTX_RSVD;
    return 0;
}

static uint64_t ctx_pack(const struct vtd_ctx *c)
{
    uint64_t d = 0;
    d = sio_set64(d, VTD_CCD_FPD, c->fpd);
    d = sio_set64(d, VTD_CCD_TT, c->tt);
    d = sio_set64(d, VTD_CCD_AW, c->aw);
    d = sio_set64(d, VTD_CCD_DID, c->did);
    d = sio_set64(d, VTD_CCD_SLPT, c->slptptr >> 12);
    return d;
}

static void ctx_unpack(uint64_t d, struct vtd_ctx *c)
{
    c->fpd = (uint8_t)sio_get64(d, VTD_CCD_FPD);
    c->tt = (uint8_t)sio_get64(d, VTD_CCD_TT);
    c->aw = (uint8_t)sio_get64(d, VTD_CCD_AW);
    c->did = (uint16_t)sio_get64(d, VTD_CCD_DID);
    c->slptptr = sio_get64(d, VTD_CCD_SLPT) << 12;
}

/* The context for sid through the context cache; known: the fast path already found the
 * cache entry *cd. */
static int ctx_get(struct sio_vtd *u, struct vtd_stripe *st, uint16_t sid, struct vtd_ctx *c,
                   uint64_t gen, const uint64_t *known)
{
    uint64_t d;
    if (known || vtd_cache_lookup(&u->ctxc, VTD_CC_TAG(sid), &d)) {
        if (known)
            d = *known;
        VTD_SCOUNT(st, ctx_hits_slow);
        if (sio_get64(d, VTD_CCD_FAULT)) {
            c->fpd = (uint8_t)sio_get64(d, VTD_CCD_FPD);
            return (int)sio_get64(d, VTD_CCD_FR);
        }
        ctx_unpack(d, c);
        return 0;
    }
    VTD_SCOUNT(st, ctx_misses);
    int fr = ctx_fetch(u, sid, c, NULL);
    if (!fr) {
        d = ctx_pack(c);
    } else if (fr == SIO_VTD_FR_CTX_NP && u->cm) {
        /* CM=1: a not-present context entry may be cached (VT-d 7). */
        d = sio_set64(0, VTD_CCD_FAULT, 1);
        d = sio_set64(d, VTD_CCD_FR, (uint64_t)fr);
        d = sio_set64(d, VTD_CCD_FPD, c->fpd);
    } else {
        return fr;
    }
    if (vtd_cache_insert(&u->ctxc, VTD_CC_TAG(sid), d, &u->inv_gen, gen))
        VTD_SCOUNT(st, ctx_evictions);
    return fr;
}

/* ---- second level --------------------------------------------------------------------------- */

static int perm_fault(unsigned need, unsigned have)
{
    if ((need & SIO_WRITE) && !(have & SIO_WRITE))
        return SIO_VTD_FR_NO_WRITE;
    return SIO_VTD_FR_NO_READ;
}

/* Is `have` enough for the request? */
static int perm_ok(const struct sio_vtd *u, unsigned access, unsigned have)
{
    unsigned need = access & ACCESS_RW;
    if ((have & need) == need || (access & VTD_ACCESS_PROBE)) /* ATS: whatever the page has */
        return 1;
    /* ZLR (VT-d 2): a zero-length read of a write-only page is allowed. */
    return (access & ACCESS_ZLR) && need == SIO_READ && (have & SIO_WRITE) &&
           (u->features & SIO_VTD_F_ZLR);
}

struct walk_out {
    uint64_t pa; /* page frame */
    unsigned level, perm;
};

static const char *const level_name[6] = {"", "PTE", "PDE", "PDPTE", "PML4E", "PML5E"};

/* A walk's result into the IOTLB (frame and perm 0: a cached not-present entry, CM=1 only).
 * The DID map is noted first, as struct vtd_didmap requires. */
static inline void iotlb_fill(struct sio_vtd *u, struct vtd_stripe *st, uint16_t sid, uint16_t did,
                              uint64_t iova, unsigned level, uint64_t frame, unsigned perm,
                              uint64_t gen)
{
    vtd_didmap_note(u, did, sid);
    if (vtd_cache_insert(&u->iotlb, vtd_iotlb_tag(sid, iova, level),
                         vtd_iotlb_data(frame, did, perm), &u->inv_gen, gen))
        VTD_SCOUNT(st, iotlb_evictions);
}

/* The input-address width a context allows: its AGAW, capped by MGAW (VT-d 2). */
static inline unsigned input_width(const struct sio_vtd *u, unsigned aw)
{
    return sio_vtd_aw_bits(aw) < u->mgaw ? sio_vtd_aw_bits(aw) : u->mgaw;
}

/* Second-level walk (VT-d 2) for a TT=00 context. Returns 0 or the fault reason. */
static inline __attribute__((always_inline)) int
sl_walk(struct sio_vtd *u, struct vtd_stripe *st, uint16_t sid, const struct vtd_ctx *c,
        uint64_t iova, unsigned access, struct walk_out *o, uint64_t gen, struct trace *t)
{
    unsigned levels = sio_vtd_aw_levels(c->aw);
    unsigned level = levels, perm = 3;
    uint64_t table = c->slptptr;
    if (!t && u->psc.nsets) {
        /* Deepest cached paging-structure entry first: a PDE skips three levels. */
        int hit = 0;
        for (unsigned l = 2; l <= levels; l++) {
            uint64_t d;
            if (atomic_load_explicit(&u->psc.nlevel[l], memory_order_relaxed) &&
                vtd_cache_lookup(&u->psc, vtd_psc_tag(c->did, iova, l), &d)) {
                table = d & VTD_ADDR_MASK;
                perm = SL_PERM(d);
                level = l - 1;
                hit = 1;
                break;
            }
        }
        if (hit)
            VTD_SCOUNT(st, psc_hits);
        else
            VTD_SCOUNT(st, psc_misses);
    }
    if (!t)
        VTD_SCOUNT(st, walks);
    for (;; level--) {
        unsigned idx = sio_vtd_sl_index(iova, level);
        uint64_t ea = table + 8ULL * idx, e;
        if (vtd_mem_read64(u, ea, &e)) {
            TRACE(t, "  L%u %s[%03x] @0x%llx: not readable\n", level, level_name[level], idx,
                  (unsigned long long)ea);
            return SIO_VTD_FR_SL_FETCH;
        }
        int leaf = level == 1 || ((level == 2 || level == 3) && (e & SIO_VTD_SL_PS));
        TRACE(t, "  L%u %s[%03x] @0x%llx: 0x%016llx %s%s -> 0x%llx\n", level, level_name[level],
              idx, (unsigned long long)ea, (unsigned long long)e, perm_str(SL_PERM(e)),
              leaf && level > 1 ? " PS" : "", (unsigned long long)(e & VTD_ADDR_MASK));
        if (!SL_PERM(e)) {
            /* Not present (VT-d 2): a permission fault. CM=1 may cache it (as a 4K entry). */
            if (u->cm && !t)
                iotlb_fill(u, st, sid, c->did, iova, 1, 0, 0, gen);
            return perm_fault(access, 0);
        }
        if (e & u->rsvd[level][leaf])
            return SIO_VTD_FR_SL_RSVD;
        if (leaf && level > 1 && !(u->sllps & (1u << (level - 2))))
            return SIO_VTD_FR_SL_RSVD; /* PS=1 without SLLPS support */
        perm &= SL_PERM(e);
        if (leaf) {
            o->pa = e & VTD_ADDR_MASK & ~(sio_vtd_level_size(level) - 1);
            o->level = level;
            o->perm = perm;
            if (!t && perm)
                iotlb_fill(u, st, sid, c->did, iova, level, o->pa, perm, gen);
            if (!perm_ok(u, access, perm))
                return perm_fault(access, perm);
            return 0;
        }
        table = e & VTD_ADDR_MASK;
        if (!t && perm && u->psc.nsets &&
            vtd_cache_insert(&u->psc, vtd_psc_tag(c->did, iova, level), table | perm, &u->inv_gen,
                             gen))
            VTD_SCOUNT(st, psc_evictions);
    }
}

/* ---- translate ------------------------------------------------------------------------------ */

static inline int xlate_pass(struct sio_xlate *out, uint64_t iova)
{
    out->pa = iova;
    out->page_size = 4096;
    out->perm = SIO_READ | SIO_WRITE;
    out->fault_reason = 0;
    return 0;
}

/* An IOTLB lookup over the page sizes present; 1 and *d on a hit. */
static inline int iotlb_lookup(const struct sio_vtd *u, uint16_t sid, uint64_t iova, uint64_t *d,
                               unsigned *level)
{
    if (vtd_cache_lookup(&u->iotlb, vtd_iotlb_tag(sid, iova, 1), d)) {
        *level = 1;
        return 1;
    }
    for (unsigned l = 2; l <= 3; l++)
        if (atomic_load_explicit(&u->iotlb.nlevel[l], memory_order_relaxed) &&
            vtd_cache_lookup(&u->iotlb, vtd_iotlb_tag(sid, iova, l), d)) {
            *level = l;
            return 1;
        }
    return 0;
}

static inline void xlate_out(struct sio_xlate *out, uint64_t frame, unsigned level, unsigned perm,
                             uint64_t iova)
{
    uint64_t size = sio_vtd_level_size(level);
    out->pa = frame | (iova & (size - 1));
    out->page_size = size;
    out->perm = perm;
    out->fault_reason = 0;
}

static int fault(struct sio_vtd *u, uint16_t sid, uint64_t iova, unsigned access, int fr,
                 unsigned fpd, struct sio_xlate *out)
{
    if ((access & VTD_ACCESS_PROBE) &&
        (fr == SIO_VTD_FR_ADDR_BEYOND || fr == SIO_VTD_FR_NO_WRITE || fr == SIO_VTD_FR_NO_READ)) {
        *out = (struct sio_xlate){0, 0, 0, (unsigned)fr}; /* ATS: no access, not a fault */
        return fr;
    }
    struct vtd_fault f = {sid, (uint8_t)fr, (uint8_t)fpd, access & ACCESS_VALID, iova, 0};
    vtd_fault_report(u, &f);
    if (out) {
        out->pa = 0;
        out->page_size = 0;
        out->perm = 0;
        out->fault_reason = (unsigned)fr;
    }
    return fr;
}

/* What the fast path already learned, so the slow path does not repeat it. */
#define SEEN_TE   1u /* TE was on (and the request passed the fast path's checks) */
#define SEEN_MISS 2u /* the IOTLB missed */
#define SEEN_CTX  4u /* ... and the context cache held *cd */

/* The common IOTLB miss, finished without the general walk: a plain read or write, the
 * context cached with TT=00, the paging-structure cache holding the PDE, and a present 4K PTE
 * that grants the access. It reads, checks, counts and inserts exactly what sl_walk would for
 * that case; any other outcome (including every fault) returns -1 having changed nothing, and
 * the general path starts over. cd is the cached context, gen the generation read before it. */
static inline __attribute__((always_inline)) int walk_lean(struct sio_vtd *u, struct vtd_stripe *st,
                                                           uint16_t sid, uint64_t iova,
                                                           unsigned access, uint64_t cd,
                                                           uint64_t gen, struct sio_xlate *out)
{
    unsigned width = input_width(u, (unsigned)sio_get64(cd, VTD_CCD_AW));
    uint16_t did = (uint16_t)sio_get64(cd, VTD_CCD_DID);
    uint64_t pde, e;
    if ((width < 64 && (iova >> width)) ||
        !atomic_load_explicit(&u->psc.nlevel[2], memory_order_relaxed) ||
        !vtd_cache_lookup(&u->psc, vtd_psc_tag(did, iova, 2), &pde) ||
        vtd_mem_read64(u, (pde & VTD_ADDR_MASK) + 8ULL * sio_vtd_sl_index(iova, 1), &e))
        return -1;
    unsigned perm = SL_PERM(pde) & SL_PERM(e);
    if (!SL_PERM(e) || (e & u->rsvd[1][1]) || (perm & access) != access)
        return -1;
    VTD_SCOUNT(st, translations_slow);
    VTD_SCOUNT(st, ctx_hits_slow);
    VTD_SCOUNT(st, iotlb_misses);
    VTD_SCOUNT(st, psc_hits);
    VTD_SCOUNT(st, walks);
    uint64_t frame = e & VTD_ADDR_MASK;
    iotlb_fill(u, st, sid, did, iova, 1, frame, perm, gen);
    xlate_out(out, frame, 1, perm, iova);
    return 0;
}

/* Everything but the fast path. With SEEN_MISS, gen is the generation the fast path read
 * before its context-cache lookup. */
static __attribute__((noinline)) int xlate_slow(struct sio_vtd *u, struct vtd_stripe *st,
                                                uint16_t sid, uint64_t iova, unsigned access,
                                                struct sio_xlate *out, unsigned seen, uint64_t cd,
                                                uint64_t gen)
{
    if ((seen & SEEN_CTX) && !(cd & 1) && sio_get64(cd, VTD_CCD_TT) == SIO_VTD_TT_SLPT &&
        !walk_lean(u, st, sid, iova, access, cd, gen, out))
        return 0;
    VTD_SCOUNT(st, translations_slow);
    if (!(seen & SEEN_TE) && !atomic_load_explicit(&u->te, memory_order_acquire)) {
        VTD_SCOUNT(st, passthrough_slow);
        return xlate_pass(out, iova);
    }
    /* Read before anything that may be cached below (see cache.c, "Stale inserts"). */
    if (!(seen & SEEN_MISS))
        gen = atomic_load_explicit(&u->inv_gen, memory_order_acquire);
    struct vtd_ctx c = {0};
    int fr = ctx_get(u, st, sid, &c, gen, (seen & SEEN_CTX) ? &cd : NULL);
    if (fr)
        return fault(u, sid, iova, access, fr, c.fpd, out);
    if (access & ACCESS_AT) {
        /* ATS (VT-d 2): only TT=01 (needs ECAP.DT) lets a device send translation requests
         * and translated requests; TT=00/10 block both, recorded, so claiming an address is
         * already translated never bypasses translation. Translated requests under TT=01
         * carry host addresses (ats.c). */
        if (c.tt != SIO_VTD_TT_SLPT_DEVTLB)
            return fault(u, sid, iova, access, SIO_VTD_FR_BLOCKED, c.fpd, out);
        if (access & SIO_AT_TRANSLATED)
            return xlate_pass(out, iova);
    }
    if (c.tt == SIO_VTD_TT_PASSTHROUGH) {
        VTD_SCOUNT(st, passthrough_slow);
        return xlate_pass(out, iova);
    }
    unsigned width = input_width(u, c.aw);
    if (width < 64 && (iova >> width))
        return fault(u, sid, iova, access, SIO_VTD_FR_ADDR_BEYOND, c.fpd, out);
    uint64_t d;
    unsigned level;
    if (!(seen & SEEN_MISS) && iotlb_lookup(u, sid, iova, &d, &level)) {
        if (perm_ok(u, access, SL_PERM(d))) {
            VTD_SCOUNT(st, hits_slow);
            xlate_out(out, d & VTD_IOTLB_FRAME, level, SL_PERM(d), iova);
            return 0;
        }
        if (u->cm) { /* CM=1: the cached entry (or cached not-present) is final */
            VTD_SCOUNT(st, hits_slow);
            return fault(u, sid, iova, access, perm_fault(access, SL_PERM(d)), c.fpd, out);
        }
    }
    VTD_SCOUNT(st, iotlb_misses);
    struct walk_out w;
    fr = sl_walk(u, st, sid, &c, iova, access, &w, gen, NULL);
    if (fr)
        return fault(u, sid, iova, access, fr, c.fpd, out);
    xlate_out(out, w.pa, w.level, w.perm, iova);
    return 0;
}

/* The fast path: TE on, IOTLB hit with enough permission (or a cached pass-through context).
 * No lock, no allocation, no locked instruction, no shared write but the stripe's counter. */
static inline __attribute__((always_inline)) int
xlate(struct sio_vtd *u, uint16_t sid, uint64_t iova, unsigned access, struct sio_xlate *out)
{
    struct vtd_stripe *st = vtd_stripe_of(u->stripe, sid);
    uint64_t d = 0, gen = 0;
    unsigned seen = 0;
    if (__builtin_expect(!(access & ~ACCESS_RW) && !(iova >> u->mgaw), 1) &&
        atomic_load_explicit(&u->te, memory_order_acquire)) {
        unsigned level;
        seen = SEEN_TE;
        if (iotlb_lookup(u, sid, iova, &d, &level)) {
            if (__builtin_expect((SL_PERM(d) & access) == access, 1)) {
                VTD_SCOUNT(st, hits);
                xlate_out(out, d & VTD_IOTLB_FRAME, level, SL_PERM(d), iova);
                return 0;
            }
        } else {
            seen |= SEEN_MISS;
            /* The generation comes before the context lookup: a walk that uses this context
             * must not insert anything once an invalidation has begun after it was read. */
            gen = atomic_load_explicit(&u->inv_gen, memory_order_acquire);
            if (vtd_cache_lookup(&u->ctxc, VTD_CC_TAG(sid), &d)) {
                seen |= SEEN_CTX;
                if (!(d & 1) && sio_get64(d, VTD_CCD_TT) == SIO_VTD_TT_PASSTHROUGH) {
                    VTD_SCOUNT(st, passthrough);
                    return xlate_pass(out, iova);
                }
            }
        }
    }
    return xlate_slow(u, st, sid, iova, access, out, seen, d, gen);
}

int vtd_translate(struct sio_vtd *u, uint16_t sid, uint64_t iova, unsigned access,
                  struct sio_xlate *out)
{
    return xlate(u, sid, iova, access, out);
}

int sio_vtd_translate(struct sio_vtd *u, uint16_t sid, uint64_t iova, unsigned access,
                      struct sio_xlate *out)
{
    struct sio_xlate tmp;
    if (!out)
        out = &tmp;
    if (!(access & ACCESS_RW) || (access & ~ACCESS_VALID))
        return SIO_EINVAL;
    return xlate(u, sid, iova, access, out);
}

int sio_vtd_dma(struct sio_vtd *u, uint16_t sid, uint64_t iova, void *buf, size_t len,
                unsigned access)
{
    unsigned rw = access & ACCESS_RW;
    if ((rw != SIO_READ && rw != SIO_WRITE) || (access & ~ACCESS_VALID) || (len && !buf))
        return SIO_EINVAL;
    struct sio_xlate x;
    if (len == 0) /* a zero-length request still translates (and may fault) */
        return xlate(u, sid, iova, access | (rw == SIO_READ ? ACCESS_ZLR : 0), &x);
    uint8_t *p = buf;
    while (len) {
        int fr = xlate(u, sid, iova, access, &x);
        if (fr)
            return fr;
        uint64_t room = x.page_size - (iova & (x.page_size - 1));
        size_t chunk = room < len ? (size_t)room : len;
        int rc = rw == SIO_WRITE ? u->mem.ops->write(u->mem.ctx, x.pa, p, chunk)
                                 : u->mem.ops->read(u->mem.ctx, x.pa, p, chunk);
        if (rc)
            return SIO_EFAULT; /* translated to memory the embedder does not back */
        iova += chunk;
        p += chunk;
        len -= chunk;
    }
    return 0;
}

/* ---- debug walk ----------------------------------------------------------------------------- */

int sio_vtd_walk_dump(struct sio_vtd *u, uint16_t sid, uint64_t iova, unsigned access, char *buf,
                      size_t len)
{
    struct trace tr = {buf, len, 0}, *t = &tr;
    if (buf && len)
        buf[0] = 0;
    char dev[SIO_BDF_STRLEN];
    sio_bdf_format(sio_bdf_from_sid(0, sid), dev);
    unsigned rw = access & ACCESS_RW;
    tracef(t, "walk %s iova 0x%llx %s: TE=%u root table 0x%llx\n", dev, (unsigned long long)iova,
           rw == ACCESS_RW   ? "atomic"
           : rw == SIO_WRITE ? "write"
                             : "read",
           (unsigned)atomic_load(&u->te), (unsigned long long)atomic_load(&u->root));
    int fr = 0;
    struct walk_out w = {0, 1, 3};
    if (!atomic_load(&u->te)) {
        tracef(t, "  result: pass-through (TE=0), pa 0x%llx\n", (unsigned long long)iova);
        return 0;
    }
    struct vtd_ctx c = {0};
    fr = ctx_fetch(u, sid, &c, t);
    if (!fr && (access & ACCESS_AT) && c.tt != SIO_VTD_TT_SLPT_DEVTLB)
        fr = SIO_VTD_FR_BLOCKED;
    if (!fr && (access & SIO_AT_TRANSLATED)) {
        tracef(t, "  result: translated request (TT=01), pa 0x%llx\n", (unsigned long long)iova);
        return 0;
    }
    if (!fr && c.tt == SIO_VTD_TT_PASSTHROUGH) {
        tracef(t, "  result: pass-through (TT=10), pa 0x%llx\n", (unsigned long long)iova);
        return 0;
    }
    if (!fr) {
        unsigned width = input_width(u, c.aw);
        tracef(t, "  %u-level table, %u-bit input\n", sio_vtd_aw_levels(c.aw), width);
        if (width < 64 && (iova >> width))
            fr = SIO_VTD_FR_ADDR_BEYOND;
        else
            fr = sl_walk(u, u->stripe, sid, &c, iova, access | (rw ? 0 : SIO_READ), &w, 0, t);
    }
    if (fr) {
        int q = sio_vtd_fault_qualified((unsigned)fr);
        tracef(t, "  result: fault 0x%02x %s%s\n", fr, sio_vtd_fault_reason_str((unsigned)fr),
               q && c.fpd ? " (FPD=1: not recorded)" : "");
    } else {
        uint64_t size = sio_vtd_level_size(w.level);
        tracef(t, "  result: pa 0x%llx page %s perm %s\n",
               (unsigned long long)(w.pa | (iova & (size - 1))),
               w.level == 1   ? "4K"
               : w.level == 2 ? "2M"
                              : "1G",
               perm_str(w.perm));
    }
    return fr;
}

/* Internal interface of the VT-d model (src/hw/vtd/). Not installed, not for os/ or hv/.
 *
 * Files, one per concern:
 *   unit.c       create/destroy/reset, CAP/ECAP from the config, mmio ops, stats, modules
 *   regs.c       the register file as data (VT-d 1) and its access engine; GCMD, CCMD,
 *                IVA/IOTLB, FSTS, FECTL and FRCD behaviour
 *   fault.c      fault recording (VT-d 1 FRCD, VT-d 4), fault events (IM/IP), decode/format
 *   cache.c      the lock-free set-associative caches: context cache, IOTLB, paging-
 *                structure caches, and their invalidation (VT-d 5, 7)
 *   translate.c  root -> context -> second-level walk (VT-d 2), sio_vtd_translate/_dma,
 *                the debug walk
 *
 * Extending (issue 4: QI, IR, DT, PI, ...): add a file that defines
 *   const struct vtd_module vtd_module_NAME = {...};
 * and append X(NAME) to VTD_MODULES below. A module contributes register rows, the
 * SIO_VTD_F_* features it implements and their CAP/ECAP bits, GCMD bits, an MSI handler and
 * per-unit state (u->mod[VTD_MOD_NAME]); everything else it needs (invalidate a cache, record
 * a fault, raise an event, read memory) is a function declared here.
 *
 * Locking:
 *   u->lock     the register file, fault recording, event state. Never held while calling
 *               the embedder's irq/fault callbacks (events are queued in a struct vtd_ev
 *               and delivered by vtd_ev_flush after unlocking).
 *   caches      no lock for lookups; each set is a seqlock whose odd value is also the
 *               writer's lock (insert and invalidate take it with a CAS).
 *   u->te, u->root, u->qie  atomics read by the translation path.
 * Lock order: u->lock, then a cache set. The translation path never takes u->lock except
 * to record a fault, after it has released every set. */
#ifndef SIO_HW_VTD_INTERNAL_H
#define SIO_HW_VTD_INTERNAL_H

#include <softiommu/mem.h>
#include <softiommu/vtd.h>
#include <softiommu/vtd_regs.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct sio_vtd;

/* ---- deferred side effects ----------------------------------------------------------------- */

#define VTD_EV_MAX 4
struct vtd_ev { /* MSIs to send once u->lock is released */
    unsigned n;
    unsigned deferred; /* a module has work to do without u->lock (vtd_module.deferred) */
    struct {
        uint64_t addr;
        uint32_t data;
    } msi[VTD_EV_MAX];
};
void vtd_ev_msi(struct vtd_ev *ev, uint64_t addr, uint32_t data);
/* Sends the queued MSIs through the unit's sio_irq_ops, then runs the modules' deferred work
 * if ev->deferred (call without u->lock). */
void vtd_ev_flush(struct sio_vtd *u, struct vtd_ev *ev);
void vtd_modules_deferred(struct sio_vtd *u);

/* ---- register file (VT-d 1) ----------------------------------------------------------------- */

struct vtd_reg;
/* Called with u->lock held after a write has been applied through the row's masks:
 * old/new are the stored values before and after, written is the raw value (positioned as in
 * the full register) and bytes the mask of bytes the access covered. The hook may change
 * r->val further (e.g. clear ICC when an invalidation completes). */
typedef void (*vtd_reg_write_fn)(struct sio_vtd *u, struct vtd_reg *r, uint64_t old,
                                 uint64_t written, uint64_t bytes, struct vtd_ev *ev);

/* One row of the register file, as data. Bits in neither rw nor w1c are read-only; one-shot
 * command bits (vtd_reg_oneshot) act when written as 1 and are never stored. */
struct vtd_reg_def {
    const char *name;
    uint32_t off;   /* offset (ignored for rows placed by the unit, e.g. FRCD/IVA) */
    uint8_t size;   /* 4 or 8 */
    uint8_t wo;     /* 1: write-only command register, reads return 0 (GCMD) */
    uint64_t reset; /* reset value (CAP/ECAP: computed per unit) */
    uint64_t rw;    /* software-writable bits */
    uint64_t w1c;   /* write-1-to-clear bits */
    vtd_reg_write_fn write;
};

/* A row as instantiated in one unit: masks are per unit so a module may widen them. */
struct vtd_reg {
    const struct vtd_reg_def *def;
    uint32_t off;
    uint8_t size;
    uint16_t index; /* e.g. fault record number */
    uint64_t val, reset, rw, w1c;
    uint64_t oneshot; /* command bits: passed to the hook when written as 1, read back 0 */
};

/* The row at exactly this offset, or NULL. */
struct vtd_reg *vtd_reg_at(struct sio_vtd *u, uint32_t off);
/* Stored value of the row at off (0 when absent); u->lock held. */
uint64_t vtd_reg_get(struct sio_vtd *u, uint32_t off);
void vtd_reg_set(struct sio_vtd *u, uint32_t off, uint64_t val);
/* One-shot bits of a row (GCMD SRTP/SFL/WBF/SIRTP, CCMD ICC, IOTLB IVT), from a table in
 * regs.c. */
uint64_t vtd_reg_oneshot(const struct vtd_reg_def *def, uint32_t off);
/* The core's rows (regs.c). */
extern const struct vtd_reg_def vtd_core_regs[];
extern const unsigned vtd_core_nregs;
extern const struct vtd_reg_def vtd_frcd_lo_def, vtd_frcd_hi_def, vtd_iva_def, vtd_iotlb_def;
uint64_t vtd_regs_read(struct sio_vtd *u, uint64_t off, unsigned size);
void vtd_regs_write(struct sio_vtd *u, uint64_t off, uint64_t val, unsigned size,
                    struct vtd_ev *ev);

/* ---- events (VT-d 1 FECTL; IECTL/PECTL work the same way) ---------------------------------- */

struct vtd_event_src {
    uint32_t ctl, data, addr, uaddr; /* register offsets */
};
extern const struct vtd_event_src vtd_fault_event;
/* A new interrupt condition: IM=0 sends the MSI, IM=1 sets IP and holds it. */
void vtd_event_raise(struct sio_vtd *u, const struct vtd_event_src *src, struct vtd_ev *ev);
/* After the control register was written: IM=0 with IP=1 sends and clears IP. */
void vtd_event_ctl_written(struct sio_vtd *u, const struct vtd_event_src *src, struct vtd_ev *ev);
/* Every status that could raise the event is clear: a held event is dropped (IP=0). */
void vtd_event_drop(struct sio_vtd *u, const struct vtd_event_src *src);

/* FSTS status bits that form one interrupt condition (VT-d 1). */
#define VTD_FSTS_STATUS                                                                            \
    (SIO_VTD_FSTS_PFO | SIO_VTD_FSTS_PPF | SIO_VTD_FSTS_AFO | SIO_VTD_FSTS_APF |                   \
     SIO_VTD_FSTS_IQE | SIO_VTD_FSTS_ICE | SIO_VTD_FSTS_ITE | SIO_VTD_FSTS_PRO)
/* Set FSTS bits; a new condition (no status bit was set before) raises the fault event. */
void vtd_fsts_set(struct sio_vtd *u, uint32_t bits, struct vtd_ev *ev);
/* After status bits were cleared: drops a held event when nothing is left. */
void vtd_fsts_cleared(struct sio_vtd *u);

/* ---- faults (VT-d 1 FRCD, VT-d 4) ----------------------------------------------------------- */

struct vtd_fault {
    uint16_t sid;
    uint8_t reason;
    uint8_t fpd;     /* governing entry's FPD (qualified faults only) */
    unsigned access; /* SIO_READ/SIO_WRITE | SIO_AT_* */
    uint64_t addr;   /* request address (DMA) or, with irq set, the interrupt index << 48 */
    uint8_t irq;     /* interrupt-remapping fault (FI holds the index) */
};
/* Records (or suppresses/drops) one fault; takes u->lock, delivers events and calls the
 * fault hook. Returns 1 when a record was written. */
int vtd_fault_report(struct sio_vtd *u, const struct vtd_fault *f);
/* After F bits changed: recompute FSTS.PPF and FRI (may raise or drop the event); u->lock
 * held. */
void vtd_fault_records_changed(struct sio_vtd *u, struct vtd_ev *ev);

/* ---- caches (VT-d 7) ------------------------------------------------------------------------ */

#define VTD_WAYS 3
/* One set = one cache line: a seqlock, VTD_WAYS tags and data words. tag 0 = empty. */
struct vtd_set {
    _Atomic uint64_t seq; /* odd while a writer owns the set */
    _Atomic uint64_t tag[VTD_WAYS];
    _Atomic uint64_t data[VTD_WAYS];
    _Atomic uint64_t hand; /* FIFO replacement position; only touched by the set's writer */
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct vtd_set) == 64, "a cache set is one cache line");

struct vtd_cache {
    struct vtd_set *sets;
    uint32_t nsets; /* a power of two; 0: cache not built */
    uint32_t mask;  /* nsets - 1 */
    uint32_t ways;
    uint64_t level_mask; /* tag bits holding the entry's level (0: no level accounting) */
    /* Entries per level >= 2 currently present (IOTLB: 2M/1G; PSC: 2-5), so a lookup can
     * skip levels that hold nothing. Never too low while an entry of that level exists.
     * Level 1 is not counted (4K entries are always looked for). */
    _Atomic uint32_t nlevel[6];
};

int vtd_cache_init(struct vtd_cache *c, unsigned entries, uint64_t level_mask);
void vtd_cache_fini(struct vtd_cache *c);
uint64_t vtd_cache_capacity(const struct vtd_cache *c);
/* Lock-free lookup: 1 and *data on a hit, 0 on a miss. Allocates nothing, takes no lock. */
static inline uint32_t vtd_cache_index(const struct vtd_cache *c, uint64_t tag)
{
    return (uint32_t)((tag * 0x9E3779B97F4A7C15ULL) >> 40) & c->mask;
}
static inline int vtd_cache_lookup(const struct vtd_cache *c, uint64_t tag, uint64_t *data)
{
    if (!c->nsets)
        return 0;
    const struct vtd_set *s = &c->sets[vtd_cache_index(c, tag)];
    for (;;) {
        uint64_t s1 = atomic_load_explicit(&s->seq, memory_order_acquire);
        int hit = 0;
        uint64_t d = 0;
        for (unsigned w = 0; w < VTD_WAYS; w++) {
            if (atomic_load_explicit(&s->tag[w], memory_order_relaxed) == tag) {
                d = atomic_load_explicit(&s->data[w], memory_order_relaxed);
                hit = 1;
                break;
            }
        }
        atomic_thread_fence(memory_order_acquire);
        if (!(s1 & 1) && atomic_load_explicit(&s->seq, memory_order_relaxed) == s1) {
            *data = d;
            return hit;
        }
        /* A writer was inside the set: look again. */
    }
}
/* Insert or replace (tag, data) unless an invalidation ran since *gen was read. Returns 1
 * when another entry was evicted to make room. */
int vtd_cache_insert(struct vtd_cache *c, uint64_t tag, uint64_t data,
                     const _Atomic uint64_t *inv_gen, uint64_t gen);
/* Remove every entry for which match(tag, data, arg) is true (NULL: every entry). Sets with
 * nothing to remove are only read, not locked. The caller bumped u->inv_gen first. */
typedef int (*vtd_cache_match_fn)(uint64_t tag, uint64_t data, const void *arg);
void vtd_cache_invalidate(struct vtd_cache *c, vtd_cache_match_fn match, const void *arg);
/* The same, limited to the one set a tag maps to (page- and device-selective requests). */
void vtd_cache_invalidate_set(struct vtd_cache *c, uint64_t tag, vtd_cache_match_fn match,
                              const void *arg);
/* Empty the whole cache. */
void vtd_cache_clear(struct vtd_cache *c);

/* Context-cache entry (tag = sid << 1 | 1): the fields of a valid context entry, or a cached
 * fault (CM=1 only; its DID field reads 0, the tag Linux gives faulting entries). */
#define VTD_CC_TAG(sid) (((uint64_t)(sid) << 1) | 1)
#define VTD_CCD_FAULT   SIO_F(0, 0) /* 1: cached fault, reason in FR */
#define VTD_CCD_FPD     SIO_F(1, 1) /* both kinds */
#define VTD_CCD_TT      SIO_F(3, 2) /* valid entries: */
#define VTD_CCD_AW      SIO_F(6, 4)
#define VTD_CCD_DID     SIO_F(22, 7)
#define VTD_CCD_SLPT    SIO_F(62, 23) /* SLPTPTR bits 51:12 */
#define VTD_CCD_FR      SIO_F(63, 56) /* cached faults: the reason */

/* IOTLB entry. Tagged by source-id, page and level (1: 4K, 2: 2M, 3: 1G), as QEMU's is, so a
 * hit is one lookup with no context-cache lookup before it; the entry records the domain-id
 * it was filled under, which is what domain- and page-selective invalidations match.
 *   tag  = vpn << 19 | sid << 3 | level      (vpn = iova >> (12 + 9 * (level - 1)))
 *   data = DID[15:4] << 52 | frame (51:12) | DID[3:0] << 8 | W << 1 | R
 * R = W = 0 is a cached not-present entry (CM=1 only). Requests at or above 2^MGAW never
 * reach a tag (they fault first), so the vpn always fits. */
static inline uint64_t vtd_iotlb_tag(uint16_t sid, uint64_t iova, unsigned level)
{
    return ((iova >> (12 + 9 * (level - 1))) << 19) | ((uint64_t)sid << 3) | level;
}
static inline uint64_t vtd_iotlb_data(uint64_t frame, uint16_t did, unsigned perm)
{
    return ((uint64_t)(did >> 4) << 52) | frame | ((uint64_t)(did & 0xf) << 8) | (perm & 3);
}
static inline uint16_t vtd_iotlb_did(uint64_t data)
{
    return (uint16_t)(((data >> 52) << 4) | ((data >> 8) & 0xf));
}
#define VTD_IOTLB_FRAME 0x000FFFFFFFFFF000ULL
/* Paging-structure cache: tag = prefix << 19 | did << 3 | level (2..5: the entry's level);
 * data = next-table address | W << 1 | R (permissions ANDed down to this entry). */
static inline uint64_t vtd_psc_tag(uint16_t did, uint64_t iova, unsigned level)
{
    return ((iova >> (12 + 9 * (level - 1))) << 19) | ((uint64_t)did << 3) | level;
}

/* Which source-ids filled IOTLB entries under a domain-id, so that a page-selective
 * invalidation (which names a DID, while entries are keyed by source-id) visits only the sets
 * of those source-ids' pages instead of the whole IOTLB. A direct-mapped table of slots keyed
 * by DID; a slot shared by two DIDs, or holding more source-ids than it has room for, turns
 * into VTD_DIDMAP_ALL (those DIDs are invalidated by a scan). The map only grows, until a
 * global IOTLB invalidation empties it together with the IOTLB.
 * Ordering: vtd_didmap_note runs before the insert's generation check (seq_cst), and every
 * invalidation bumps the generation before vtd_didmap_sids reads the map (seq_cst): either
 * the invalidation sees the source-id, or the insert sees the new generation and gives up.
 * Slot updates are serialised by a mutex, taken only the first time a pair is seen. */
#define VTD_DIDMAP_SLOTS 256
#define VTD_DIDMAP_SIDS  4
#define VTD_DIDMAP_ALL   0xffffffffu
struct vtd_didmap_slot {
    _Atomic uint32_t key; /* did + 1; 0: empty; VTD_DIDMAP_ALL */
    _Atomic uint32_t n;   /* source-ids recorded */
    _Atomic uint16_t sid[VTD_DIDMAP_SIDS];
};
struct vtd_didmap {
    pthread_mutex_t lock;
    struct vtd_didmap_slot slot[VTD_DIDMAP_SLOTS];
};
static inline int vtd_didmap_has(const struct vtd_didmap_slot *sl, uint32_t key, uint16_t sid)
{
    if (atomic_load_explicit(&sl->key, memory_order_seq_cst) != key)
        return 0;
    uint32_t n = atomic_load_explicit(&sl->n, memory_order_seq_cst);
    for (uint32_t i = 0; i < n; i++)
        if (atomic_load_explicit(&sl->sid[i], memory_order_relaxed) == sid)
            return 1;
    return 0;
}
/* Records (did, sid) under the map's mutex; vtd_didmap_note calls it the first time only. */
void vtd_didmap_add(struct sio_vtd *u, uint16_t did, uint16_t sid);
/* Before every IOTLB insert (defined below struct sio_vtd). */
static inline void vtd_didmap_note(struct sio_vtd *u, uint16_t did, uint16_t sid);
/* Empties the map; call before bumping the generation of a global IOTLB invalidation. */
void vtd_didmap_reset(struct sio_vtd *u);

/* Invalidations (register-based now, queued by a module later). Each returns the actual
 * granularity performed (the xAIG value), 0 when the request is invalid. u->lock held. */
unsigned vtd_inv_context(struct sio_vtd *u, unsigned gran, uint16_t did, uint16_t sid, unsigned fm);
unsigned vtd_inv_iotlb(struct sio_vtd *u, unsigned gran, uint16_t did, uint64_t addr, unsigned am,
                       unsigned ih);

/* ---- translation ---------------------------------------------------------------------------- */

/* sio_vtd_translate with internal access flags. VTD_ACCESS_PROBE (an ATS translation request,
 * with SIO_READ | SIO_AT_TRANSLATION_REQ): no permission is required, out->perm gets the
 * page's permissions, and a not-present page or an address beyond the width (0x4, 0x5, 0x6)
 * is returned without being recorded. */
#define VTD_ACCESS_PROBE (1u << 9)
int vtd_translate(struct sio_vtd *u, uint16_t sid, uint64_t iova, unsigned access,
                  struct sio_xlate *out);

/* Reads one 8-byte little-endian table word; 0 or -1 (not backed). */
static inline int vtd_mem_read64(struct sio_vtd *u, uint64_t pa, uint64_t *v);
/* The context fields the walk needs, decoded. */
struct vtd_ctx {
    uint16_t did;
    uint8_t aw, tt, fpd;
    uint64_t slptptr;
};

/* ---- counters ------------------------------------------------------------------------------- */

/* Translation-path counters are striped by source-id, so device threads do not share a
 * cache line, and are bumped without a locked instruction (vtd_stripe_inc). Rare events
 * (faults, invalidations) use plain atomic adds in struct vtd_counters. */
#define VTD_STRIPES 16
#define VTD_STRIPE_COUNTERS(X)                                                                     \
    X(hits)              /* IOTLB hits on the fast path (no context lookup needed)  */             \
    X(passthrough)       /* TE=0 / TT=10 answered on the fast path */                              \
    X(translations_slow) /* requests that left the fast path */                                    \
    X(hits_slow)         /* ... and were answered by the IOTLB after all */                        \
    X(passthrough_slow)                                                                            \
    X(ctx_hits_slow)                                                                               \
    X(ctx_misses)                                                                                  \
    X(iotlb_misses)                                                                                \
    X(psc_hits) X(psc_misses) X(walks) X(iotlb_evictions) X(ctx_evictions) X(psc_evictions)
/* 128-byte aligned: adjacent-line prefetchers fetch 128-byte pairs of lines. */
struct vtd_stripe {
#define VTD_STRIPE_FIELD_(n) _Atomic uint64_t n;
    VTD_STRIPE_COUNTERS(VTD_STRIPE_FIELD_)
#undef VTD_STRIPE_FIELD_
} __attribute__((aligned(128)));
static inline void vtd_stripe_inc(_Atomic uint64_t *c)
{
    /* Not an RMW: a relaxed load/store pair (no bus lock). Two threads on the same stripe at
     * the same instant may lose a count; nothing else can. */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}
#define VTD_SCOUNT(st, n) vtd_stripe_inc(&(st)->n)
static inline struct vtd_stripe *vtd_stripe_of(struct vtd_stripe *stripes, uint16_t sid)
{
    return &stripes[((uint32_t)sid * 0x9E37u >> 12) & (VTD_STRIPES - 1)];
}

#define VTD_COUNTERS(X)                                                                            \
    X(faults)                                                                                      \
    X(faults_recorded)                                                                             \
    X(faults_fpd)                                                                                  \
    X(faults_overflow)                                                                             \
    X(fault_events)                                                                                \
    X(inv_ctx_global)                                                                              \
    X(inv_ctx_domain)                                                                              \
    X(inv_ctx_device)                                                                              \
    X(inv_iotlb_global) X(inv_iotlb_domain) X(inv_iotlb_page) X(inv_rejected) X(wbf)
struct vtd_counters {
#define VTD_CTR_FIELD_(n) _Atomic uint64_t n;
    VTD_COUNTERS(VTD_CTR_FIELD_)
#undef VTD_CTR_FIELD_
};
#define VTD_COUNT(u, n) atomic_fetch_add_explicit(&(u)->ctr.n, 1, memory_order_relaxed)

/* ---- modules (issue 4 and later) ------------------------------------------------------------ */

struct vtd_module {
    const char *name;
    uint64_t features; /* SIO_VTD_F_* this module implements */
    /* Sets the CAP/ECAP bits of the (requested & implemented) features. */
    void (*caps)(struct sio_vtd *u, uint64_t features, uint64_t *cap, uint64_t *ecap);
    const struct vtd_reg_def *regs; /* rows at fixed offsets */
    unsigned nregs;
    int (*init)(struct sio_vtd *u); /* 0 or -sio_err; state in u->mod[] */
    void (*fini)(struct sio_vtd *u);
    void (*reset)(struct sio_vtd *u); /* after the register file is reset */
    uint32_t gcmd_bits;               /* GCMD bits it owns (level and one-shot) */
    void (*gcmd)(struct sio_vtd *u, uint32_t cmd, struct vtd_ev *ev); /* u->lock held */
    int (*msi)(struct sio_vtd *u, uint16_t sid, uint64_t addr, uint32_t data, struct sio_irq *out);
    /* FSTS bits were cleared by software (u->lock held). */
    void (*fsts_cleared)(struct sio_vtd *u, uint32_t cleared, struct vtd_ev *ev);
    /* Before every MMIO read, u->lock held: time-based behaviour (time-outs). */
    void (*poll)(struct sio_vtd *u, struct vtd_ev *ev);
    /* Work that must run without u->lock (calls into device models), requested by setting
     * ev->deferred; run by vtd_ev_flush. */
    void (*deferred)(struct sio_vtd *u);
};
/* Append X(name) per module; each defines const struct vtd_module vtd_module_<name>.
 * qi: queued invalidation; ir: interrupt remapping; pi: posted interrupts; ats: device-TLBs
 * (see vtd_ext.h). */
#define VTD_MODULES(X)   X(qi) X(ir) X(pi) X(ats)
#define VTD_MOD_DECL_(n) extern const struct vtd_module vtd_module_##n;
VTD_MODULES(VTD_MOD_DECL_)
#undef VTD_MOD_DECL_
enum {
#define VTD_MOD_ENUM_(n) VTD_MOD_##n,
    VTD_MODULES(VTD_MOD_ENUM_)
#undef VTD_MOD_ENUM_
        VTD_NMODULES
};

/* Features the core implements itself. */
#define VTD_CORE_FEATURES                                                                          \
    (SIO_VTD_F_PT | SIO_VTD_F_SC | SIO_VTD_F_CM | SIO_VTD_F_SP2M | SIO_VTD_F_SP1G |                \
     SIO_VTD_F_RWBF | SIO_VTD_F_PSI | SIO_VTD_F_ZLR | SIO_VTD_F_C)

/* Fixed placement (QEMU uses the same: IVA at 0xF0, FRCD0 at 0x220). */
#define VTD_IRO  0x0F
#define VTD_FRO  0x22
#define VTD_MAMV 18 /* PSI up to 2^18 pages (1 GiB) */
#define VTD_ND   6  /* 2^16 domain ids: every DID bit implemented */
#define VTD_VER  0x10

/* ---- the unit ------------------------------------------------------------------------------- */

struct sio_vtd {
    /* Immutable after create. */
    struct sio_mem mem;
    void *(*mem_ptr)(void *ctx, uint64_t pa, size_t len); /* mem.ops->ptr or NULL */
    const struct sio_irq_ops *irq;
    void *irq_ctx;
    uint64_t features; /* advertised SIO_VTD_F_* */
    unsigned mgaw;     /* CAP.MGAW + 1 */
    unsigned haw;      /* host address width */
    uint64_t haw_mask; /* address bits below haw, 4K-aligned part */
    unsigned sagaw;    /* CAP.SAGAW */
    unsigned nfr;
    unsigned sllps;
    int cm; /* caching mode */
    uint64_t cap, ecap;
    uint32_t window;           /* register window size in bytes */
    uint64_t rsvd[6][2];       /* second-level reserved bits by [level][leaf] (VT-d 2) */
    struct sio_vtd_config cfg; /* as given to sio_vtd_create (modules read their sizes) */

    /* Translation state read without u->lock. */
    _Atomic uint32_t te;   /* GSTS.TES */
    _Atomic uint64_t root; /* latched RTADDR (root table address) */
    _Atomic uint32_t qie;  /* set by the QI module: register invalidation rejected */
    _Atomic uint64_t inv_gen;
    struct vtd_cache ctxc, iotlb, psc;
    struct vtd_didmap didmap; /* DID -> source-ids with IOTLB entries */

    /* Register file, under lock. */
    pthread_mutex_t lock;
    struct vtd_reg *regs;
    unsigned nregs;
    uint16_t *slot;       /* window/4 entries: row index + 1, or 0 */
    struct vtd_reg *frcd; /* fault record i: frcd[2i] (bits 63:0), frcd[2i+1] (127:64) */
    unsigned fault_next;  /* record the next fault goes to */

    /* Fault observer (atomic pair updated under lock). */
    _Atomic(sio_vtd_fault_fn) fault_fn;
    _Atomic(void *) fault_ctx;

    struct vtd_stripe stripe[VTD_STRIPES];
    struct vtd_counters ctr;
    void *mod[VTD_NMODULES > 0 ? VTD_NMODULES : 1];
};

static inline int vtd_mem_read64(struct sio_vtd *u, uint64_t pa, uint64_t *v)
{
    if (u->mem_ptr) {
        const void *p = u->mem_ptr(u->mem.ctx, pa, 8);
        if (p) {
            *v = sio_ld64le(p);
            return 0;
        }
    }
    return sio_mem_read64(&u->mem, pa, v);
}

/* The common case is lock-free and inline: the pair is already recorded, or the slot already
 * means "scan". */
static inline void vtd_didmap_note(struct sio_vtd *u, uint16_t did, uint16_t sid)
{
    const struct vtd_didmap_slot *sl = &u->didmap.slot[did % VTD_DIDMAP_SLOTS];
    if (atomic_load_explicit(&sl->key, memory_order_seq_cst) == VTD_DIDMAP_ALL ||
        vtd_didmap_has(sl, (uint32_t)did + 1, sid))
        return;
    vtd_didmap_add(u, did, sid);
}

#endif

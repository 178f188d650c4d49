/* The unit's caches (VT-d 7): context cache, IOTLB and paging-structure caches, all built on
 * one set-associative structure, and the invalidations that empty them (VT-d 5).
 *
 * Each cache has a power-of-two number of sets of VTD_WAYS entries (so a cache configured for
 * N entries holds VTD_WAYS * 2^k <= N, as sio_vtd_get_stats reports); a set is one cache line
 * holding a sequence counter, the tags and the data words. Lookups take no lock and write nothing:
 * they read the counter, the tags and data, and the counter again (a seqlock), retrying when a
 * writer was inside. Writers (inserts after a walk, invalidations) own a set by moving its
 * counter to an odd value with a compare-and-swap. When a set is full the oldest-inserted way
 * is replaced (FIFO, one hand per set): one entry is evicted, never the whole cache.
 *
 * Stale inserts: a walk that started before an invalidation must not leave its (possibly
 * stale) result behind once the invalidation has completed. Every invalidation bumps
 * u->inv_gen (seq_cst) before it looks at any set; an insert takes its set (a seq_cst CAS
 * that makes the counter odd) and then reads the generation (seq_cst), giving up if it moved
 * since the walk began. An invalidation reads each set lock-free (counter, tags, counter) and
 * takes it only when the set is being written or holds an entry to remove. By the seq_cst
 * order, either the insert sees the new generation, or the invalidation sees the set odd or
 * the new tag, takes the set and removes the entry; readers never see a set while it is odd.
 */
#include "vtd_internal.h"

#include <softiommu/err.h>

#include <stdlib.h>
#include <string.h>

#define VTD_CACHE_MAX (1u << 22)

int vtd_cache_init(struct vtd_cache *c, unsigned entries, uint64_t level_mask)
{
    memset(c, 0, sizeof(*c));
    c->level_mask = level_mask;
    if (entries == SIO_VTD_CACHE_OFF)
        return 0;
    if (entries == 0 || entries > VTD_CACHE_MAX)
        return SIO_EINVAL;
    /* The largest power-of-two number of sets that fits: capacity <= entries. */
    c->ways = entries < VTD_WAYS ? entries : VTD_WAYS;
    c->nsets = 1;
    while (c->nsets * 2 <= entries / c->ways)
        c->nsets *= 2;
    c->mask = c->nsets - 1;
    c->sets = aligned_alloc(64, (size_t)c->nsets * sizeof(struct vtd_set));
    if (!c->sets) {
        c->nsets = 0;
        return SIO_ENOMEM;
    }
    memset(c->sets, 0, (size_t)c->nsets * sizeof(struct vtd_set));
    return 0;
}

void vtd_cache_fini(struct vtd_cache *c)
{
    free(c->sets);
    c->sets = NULL;
    c->nsets = 0;
}

uint64_t vtd_cache_capacity(const struct vtd_cache *c)
{
    return (uint64_t)c->nsets * c->ways;
}

static uint64_t set_lock(struct vtd_set *s)
{
    for (;;) {
        uint64_t q = atomic_load_explicit(&s->seq, memory_order_relaxed);
        if (!(q & 1) && atomic_compare_exchange_weak_explicit(
                            &s->seq, &q, q + 1, memory_order_seq_cst, memory_order_relaxed)) {
            /* Readers that see any store below also see the odd counter. */
            atomic_thread_fence(memory_order_release);
            return q;
        }
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
}

static void set_unlock(struct vtd_set *s, uint64_t q)
{
    atomic_store_explicit(&s->seq, q + 2, memory_order_release);
}

static unsigned tag_level(const struct vtd_cache *c, uint64_t tag)
{
    return (unsigned)(tag & c->level_mask);
}

static void level_add(struct vtd_cache *c, uint64_t tag, int delta)
{
    unsigned l = tag_level(c, tag);
    if (l >= 2)
        atomic_fetch_add_explicit(&c->nlevel[l], (uint32_t)delta, memory_order_relaxed);
}

int vtd_cache_insert(struct vtd_cache *c, uint64_t tag, uint64_t data,
                     const _Atomic uint64_t *inv_gen, uint64_t gen)
{
    int evicted = 0;
    if (!c->nsets)
        return 0;
    struct vtd_set *s = &c->sets[vtd_cache_index(c, tag)];
    uint64_t q = set_lock(s);
    if (atomic_load_explicit(inv_gen, memory_order_seq_cst) != gen) {
        set_unlock(s, q); /* an invalidation ran during the walk: keep nothing */
        return 0;
    }
    unsigned way = c->ways, empty = c->ways;
    for (unsigned w = 0; w < c->ways; w++) {
        uint64_t t = atomic_load_explicit(&s->tag[w], memory_order_relaxed);
        if (t == tag) {
            way = w;
            break;
        }
        if (!t && empty == c->ways)
            empty = w;
    }
    if (way == c->ways) {
        if (empty < c->ways) {
            way = empty;
        } else {
            uint64_t h = atomic_load_explicit(&s->hand, memory_order_relaxed);
            way = (unsigned)(h % c->ways);
            atomic_store_explicit(&s->hand, h + 1, memory_order_relaxed);
            level_add(c, atomic_load_explicit(&s->tag[way], memory_order_relaxed), -1);
            evicted = 1;
        }
        level_add(c, tag, 1);
    }
    atomic_store_explicit(&s->data[way], data, memory_order_relaxed);
    atomic_store_explicit(&s->tag[way], tag, memory_order_relaxed);
    set_unlock(s, q);
    return evicted;
}

/* Does the set hold something to remove? Read lock-free; a set being written counts as yes. */
static int set_wants(const struct vtd_cache *c, struct vtd_set *s, vtd_cache_match_fn match,
                     const void *arg)
{
    uint64_t s1 = atomic_load_explicit(&s->seq, memory_order_seq_cst);
    if (s1 & 1)
        return 1;
    int want = 0;
    for (unsigned w = 0; w < c->ways && !want; w++) {
        uint64_t t = atomic_load_explicit(&s->tag[w], memory_order_relaxed);
        if (t && (!match || match(t, atomic_load_explicit(&s->data[w], memory_order_relaxed), arg)))
            want = 1;
    }
    atomic_thread_fence(memory_order_acquire);
    return want || atomic_load_explicit(&s->seq, memory_order_relaxed) != s1;
}

static void set_invalidate(struct vtd_cache *c, struct vtd_set *s, vtd_cache_match_fn match,
                           const void *arg)
{
    if (!set_wants(c, s, match, arg))
        return;
    uint64_t q = set_lock(s);
    for (unsigned w = 0; w < c->ways; w++) {
        uint64_t t = atomic_load_explicit(&s->tag[w], memory_order_relaxed);
        if (!t ||
            (match && !match(t, atomic_load_explicit(&s->data[w], memory_order_relaxed), arg)))
            continue;
        atomic_store_explicit(&s->tag[w], 0, memory_order_relaxed);
        level_add(c, t, -1);
    }
    set_unlock(s, q);
}

void vtd_cache_invalidate(struct vtd_cache *c, vtd_cache_match_fn match, const void *arg)
{
    for (uint32_t i = 0; i < c->nsets; i++)
        set_invalidate(c, &c->sets[i], match, arg);
}

void vtd_cache_invalidate_set(struct vtd_cache *c, uint64_t tag, vtd_cache_match_fn match,
                              const void *arg)
{
    if (c->nsets)
        set_invalidate(c, &c->sets[vtd_cache_index(c, tag)], match, arg);
}

void vtd_cache_clear(struct vtd_cache *c)
{
    vtd_cache_invalidate(c, NULL, NULL);
}

/* ---- invalidation requests (VT-d 5) --------------------------------------------------------- */

static void bump_gen(struct sio_vtd *u)
{
    atomic_fetch_add_explicit(&u->inv_gen, 1, memory_order_seq_cst);
}

/* ---- domain-id -> source-ids (see struct vtd_didmap) ------------------------------------------
 */

void vtd_didmap_add(struct sio_vtd *u, uint16_t did, uint16_t sid)
{
    struct vtd_didmap_slot *sl = &u->didmap.slot[did % VTD_DIDMAP_SLOTS];
    uint32_t key = (uint32_t)did + 1;
    pthread_mutex_lock(&u->didmap.lock);
    uint32_t k = atomic_load_explicit(&sl->key, memory_order_relaxed);
    if (k == 0) {
        atomic_store_explicit(&sl->n, 0, memory_order_relaxed);
        atomic_store_explicit(&sl->key, key, memory_order_seq_cst);
        k = key;
    }
    if (k == key && !vtd_didmap_has(sl, key, sid)) {
        uint32_t n = atomic_load_explicit(&sl->n, memory_order_relaxed);
        if (n < VTD_DIDMAP_SIDS) {
            atomic_store_explicit(&sl->sid[n], sid, memory_order_relaxed);
            atomic_store_explicit(&sl->n, n + 1, memory_order_seq_cst); /* publishes sid[n] */
        } else {
            atomic_store_explicit(&sl->key, VTD_DIDMAP_ALL, memory_order_seq_cst);
        }
    } else if (k != key) {
        atomic_store_explicit(&sl->key, VTD_DIDMAP_ALL, memory_order_seq_cst); /* shared slot */
    }
    pthread_mutex_unlock(&u->didmap.lock);
}

void vtd_didmap_reset(struct sio_vtd *u)
{
    pthread_mutex_lock(&u->didmap.lock);
    for (unsigned i = 0; i < VTD_DIDMAP_SLOTS; i++)
        atomic_store_explicit(&u->didmap.slot[i].key, 0, memory_order_seq_cst);
    pthread_mutex_unlock(&u->didmap.lock);
}

/* The source-ids with IOTLB entries under did: their count (0: none cached), or -1 when the
 * map cannot say (the cache must be scanned). Call after bumping the generation. */
static int didmap_sids(struct sio_vtd *u, uint16_t did, uint16_t sids[VTD_DIDMAP_SIDS])
{
    const struct vtd_didmap_slot *sl = &u->didmap.slot[did % VTD_DIDMAP_SLOTS];
    uint32_t k = atomic_load_explicit(&sl->key, memory_order_seq_cst);
    if (k == 0)
        return 0;
    if (k != (uint32_t)did + 1)
        return k == VTD_DIDMAP_ALL ? -1 : 0; /* another DID's slot: nothing of ours */
    uint32_t n = atomic_load_explicit(&sl->n, memory_order_seq_cst);
    for (uint32_t i = 0; i < n; i++)
        sids[i] = atomic_load_explicit(&sl->sid[i], memory_order_relaxed);
    return (int)n;
}

static int match_tag(uint64_t tag, uint64_t data, const void *arg)
{
    (void)data;
    return tag == *(const uint64_t *)arg;
}

static int match_ctx_did(uint64_t tag, uint64_t data, const void *arg)
{
    (void)tag;
    /* Cached faults carry DID 0, the tag Linux uses for them under CM=1. */
    return sio_get64(data, VTD_CCD_DID) == *(const uint16_t *)arg;
}

unsigned vtd_inv_context(struct sio_vtd *u, unsigned gran, uint16_t did, uint16_t sid, unsigned fm)
{
    bump_gen(u);
    switch (gran) {
    case SIO_VTD_CTX_GLOBAL:
        vtd_cache_clear(&u->ctxc);
        VTD_COUNT(u, inv_ctx_global);
        return SIO_VTD_CTX_GLOBAL;
    case SIO_VTD_CTX_DOMAIN:
        vtd_cache_invalidate(&u->ctxc, match_ctx_did, &did);
        VTD_COUNT(u, inv_ctx_domain);
        return SIO_VTD_CTX_DOMAIN;
    case SIO_VTD_CTX_DEVICE: {
        /* FM masks SID bits 2, 2:1 or 2:0 (functions of one device). Every context entry of
         * those source-ids goes, whatever DID it holds: the DID of a device-selective
         * request names the domain the entry had, and dropping more is always allowed. */
        uint16_t mask = (uint16_t)(fm == 0 ? 0 : fm == 1 ? 4 : fm == 2 ? 6 : 7);
        uint16_t base = sid & (uint16_t)~mask;
        for (unsigned f = 0; f <= mask; f++) {
            if (f & ~mask)
                continue;
            uint64_t tag = VTD_CC_TAG(base | f);
            vtd_cache_invalidate_set(&u->ctxc, tag, match_tag, &tag);
        }
        VTD_COUNT(u, inv_ctx_device);
        return SIO_VTD_CTX_DEVICE;
    }
    default:
        return 0; /* CIRG 00 is invalid */
    }
}

struct range_arg {
    uint16_t did;
    uint64_t first, last; /* inclusive byte range */
};

/* IOTLB entries by the domain-id they were filled under. */
static int iotlb_match_did(uint64_t tag, uint64_t data, const void *arg)
{
    (void)tag;
    return vtd_iotlb_did(data) == ((const struct range_arg *)arg)->did;
}

static int overlaps(uint64_t pfx, unsigned level, const struct range_arg *a)
{
    uint64_t start = pfx << (12 + 9 * (level - 1));
    uint64_t end = start + (sio_vtd_level_size(level) - 1);
    return start <= a->last && end >= a->first;
}

static int iotlb_match_range(uint64_t tag, uint64_t data, const void *arg)
{
    return iotlb_match_did(tag, data, arg) && overlaps(tag >> 19, (unsigned)(tag & 3), arg);
}

static int psc_match_did(uint64_t tag, uint64_t data, const void *arg)
{
    (void)data;
    return ((tag >> 3) & 0xffff) == ((const struct range_arg *)arg)->did;
}

static int psc_match_range(uint64_t tag, uint64_t data, const void *arg)
{
    return psc_match_did(tag, data, arg) && overlaps(tag >> 19, (unsigned)(tag & 7), arg);
}

/* Paging-structure entries of one domain overlapping [first, last]: small ranges visit only
 * the sets their tags map to; large ones scan the cache. */
static void psc_inv_range(struct vtd_cache *c, const struct range_arg *a)
{
    uint64_t total = 0;
    for (unsigned l = 2; l <= 5; l++) {
        unsigned shift = 12 + 9 * (l - 1);
        total += (a->last >> shift) - (a->first >> shift) + 1;
    }
    if (total > c->nsets / 4 + 8) {
        vtd_cache_invalidate(c, psc_match_range, a);
        return;
    }
    for (unsigned l = 2; l <= 5; l++) {
        unsigned shift = 12 + 9 * (l - 1);
        for (uint64_t p = a->first >> shift; p <= a->last >> shift; p++) {
            uint64_t tag = vtd_psc_tag(a->did, p << shift, l);
            vtd_cache_invalidate_set(c, tag, match_tag, &tag);
        }
    }
}

/* IOTLB entries of one domain overlapping [first, last]. Entries are keyed by source-id, so
 * with the source-ids the domain's entries were filled by (vtd_didmap) a small range visits
 * only the sets its (source-id, page, level) tags map to; otherwise the cache is scanned. */
static void iotlb_inv_range(struct sio_vtd *u, const struct range_arg *a)
{
    struct vtd_cache *c = &u->iotlb;
    uint16_t sids[VTD_DIDMAP_SIDS];
    int n = didmap_sids(u, a->did, sids);
    if (n == 0 || !c->nsets)
        return; /* nothing was ever cached under this domain-id */
    if (n > 0) {
        uint64_t probes = 0;
        for (unsigned l = 1; l <= 3; l++) {
            unsigned shift = 12 + 9 * (l - 1);
            probes += (a->last >> shift) - (a->first >> shift) + 1;
        }
        if (probes * (uint64_t)n <= c->nsets / 4 + 8) {
            for (int i = 0; i < n; i++) {
                for (unsigned l = 1; l <= 3; l++) {
                    unsigned shift = 12 + 9 * (l - 1);
                    for (uint64_t p = a->first >> shift; p <= a->last >> shift; p++) {
                        uint64_t tag = vtd_iotlb_tag(sids[i], p << shift, l);
                        vtd_cache_invalidate_set(c, tag, iotlb_match_range, a);
                    }
                }
            }
            return;
        }
    }
    vtd_cache_invalidate(c, iotlb_match_range, a);
}

unsigned vtd_inv_iotlb(struct sio_vtd *u, unsigned gran, uint16_t did, uint64_t addr, unsigned am,
                       unsigned ih)
{
    if (gran == SIO_VTD_IOTLB_PAGE && !(u->features & SIO_VTD_F_PSI))
        gran = SIO_VTD_IOTLB_DOMAIN; /* no PSI: the domain goes (coarser is allowed) */
    if (gran == SIO_VTD_IOTLB_PAGE && am > VTD_MAMV)
        return 0; /* AM beyond MAMV: error, nothing done */
    if (gran < SIO_VTD_IOTLB_GLOBAL || gran > SIO_VTD_IOTLB_PAGE)
        return 0;
    if (gran == SIO_VTD_IOTLB_GLOBAL) {
        vtd_didmap_reset(u); /* before the generation moves: see struct vtd_didmap */
        bump_gen(u);
        vtd_cache_clear(&u->iotlb);
        vtd_cache_clear(&u->psc);
        VTD_COUNT(u, inv_iotlb_global);
        return SIO_VTD_IOTLB_GLOBAL;
    }
    bump_gen(u);
    if (gran == SIO_VTD_IOTLB_DOMAIN) {
        struct range_arg a = {did, 0, ~0ULL};
        uint16_t sids[VTD_DIDMAP_SIDS];
        if (didmap_sids(u, did, sids) != 0) /* else nothing was cached under this DID */
            vtd_cache_invalidate(&u->iotlb, iotlb_match_did, &a);
        vtd_cache_invalidate(&u->psc, psc_match_did, &a);
        VTD_COUNT(u, inv_iotlb_domain);
        return SIO_VTD_IOTLB_DOMAIN;
    }
    /* Page-selective: 2^AM pages; the address's low AM page bits are ignored (the mask), so
     * the naturally aligned block containing addr goes. Superpage entries overlapping it go
     * too; the paging-structure entries above it unless IH=1 (only leaves changed). */
    uint64_t size = 4096ULL << am;
    struct range_arg a = {did, addr & ~(size - 1), (addr & ~(size - 1)) + size - 1};
    iotlb_inv_range(u, &a);
    if (!ih)
        psc_inv_range(&u->psc, &a);
    VTD_COUNT(u, inv_iotlb_page);
    return SIO_VTD_IOTLB_PAGE;
}

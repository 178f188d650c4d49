/* IOVA allocator: per-CPU magazines per size class, a shared depot, and an augmented AVL
 * tree of free ranges (see softiommu/iova.h for the contract).
 *
 * The tree holds maximal free ranges [start, end) of page frames, keyed by start. Each node
 * knows the largest order k such that a naturally aligned block of 2^k pages fits inside its
 * range ("ord"), and the maximum of that over its subtree ("maxord"). An allocation of order
 * k below a limit walks one root-to-leaf path to find the highest node that lies wholly below
 * the limit and can host the block (or the single node straddling the limit, clipped), then
 * one more path down inside the chosen subtree: O(log n). Frees coalesce with both neighbours
 * in O(log n) and detect overlap (a double free) on the way.
 *
 * In front of the tree, each CPU slot holds a loaded and a previous magazine per size class
 * (Bonwick): a free pushes onto the loaded magazine, an allocation pops from it; when both are
 * full a free moves the loaded one to the depot, when both are empty an allocation takes a full
 * one from the depot. A magazine is scanned (at most SIO_IOVA_MAG_SIZE entries, a constant) for
 * an entry below the caller's limit, so a 32-bit device never gets a cached high address. */
#include <softiommu/iova.h>
#include <softiommu/err.h>

#include "os_lock.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAG_SIZE    64
#define DEPOT_MAX   32
#define MAX_CPUS    64
#define MAX_ORDER   52 /* 2^52 pages = 2^64 bytes: nothing bigger can exist */
#define NCLASS      SIO_IOVA_CACHE_CLASSES
#define CACHE_ALIGN 64

struct rnode {
    uint64_t start, end; /* free page frames [start, end) */
    struct rnode *l, *r;
    int h;
    int ord, maxord;
};

struct mag {
    unsigned n;
    uint64_t pfn[MAG_SIZE];
};

struct cpu_cache {
    struct os_lock lock;
    struct mag *loaded[NCLASS], *prev[NCLASS];
    int64_t in_use; /* pages handed out from this slot's magazines minus pages freed into them */
    uint64_t alloc_cached, free_cached;
} __attribute__((aligned(CACHE_ALIGN)));

struct depot {
    struct os_lock lock;
    unsigned n;
    struct mag *m[DEPOT_MAX];
};

struct sio_iova {
    uint64_t base_pfn, end_pfn;
    /* The tree and its counters, under tree_lock. */
    pthread_mutex_t tree_lock;
    struct rnode *root;
    struct rnode *node_pool; /* spare nodes, linked through l */
    uint64_t nranges;
    int64_t tree_in_use;
    uint64_t alloc_tree, free_tree;
    struct depot depot[NCLASS];
    unsigned ncpu;
    struct cpu_cache *cpu;
};

/* ---- range helpers ------------------------------------------------------------------------ */

static unsigned floor_log2(uint64_t v)
{
    return 63u - (unsigned)__builtin_clzll(v);
}

/* Largest k with an aligned 2^k block inside [s, e); -1 when empty. A range of length L
 * holds an aligned block of 2^(floor(log2 L) - 1) pages always, so two tries suffice. */
static int range_order(uint64_t s, uint64_t e)
{
    if (e <= s)
        return -1;
    int k = (int)floor_log2(e - s);
    for (; k > 0; k--) {
        uint64_t sz = 1ULL << k;
        uint64_t x = (s + sz - 1) & ~(sz - 1);
        if (x >= s && x + sz <= e)
            return k;
    }
    return 0;
}

/* ---- AVL tree of free ranges -------------------------------------------------------------- */

static int ht(const struct rnode *n)
{
    return n ? n->h : 0;
}
static int mo(const struct rnode *n)
{
    return n ? n->maxord : -1;
}
static int imax(int a, int b)
{
    return a > b ? a : b;
}

static void upd(struct rnode *n)
{
    n->h = 1 + imax(ht(n->l), ht(n->r));
    n->maxord = imax(n->ord, imax(mo(n->l), mo(n->r)));
}

static struct rnode *rot_right(struct rnode *y)
{
    struct rnode *x = y->l;
    y->l = x->r;
    x->r = y;
    upd(y);
    upd(x);
    return x;
}

static struct rnode *rot_left(struct rnode *x)
{
    struct rnode *y = x->r;
    x->r = y->l;
    y->l = x;
    upd(x);
    upd(y);
    return y;
}

static struct rnode *rebalance(struct rnode *n)
{
    upd(n);
    int b = ht(n->l) - ht(n->r);
    if (b > 1) {
        if (ht(n->l->l) < ht(n->l->r))
            n->l = rot_left(n->l);
        return rot_right(n);
    }
    if (b < -1) {
        if (ht(n->r->r) < ht(n->r->l))
            n->r = rot_right(n->r);
        return rot_left(n);
    }
    return n;
}

static struct rnode *avl_insert(struct rnode *t, struct rnode *n)
{
    if (!t) {
        n->l = n->r = NULL;
        upd(n);
        return n;
    }
    if (n->start < t->start)
        t->l = avl_insert(t->l, n);
    else
        t->r = avl_insert(t->r, n);
    return rebalance(t);
}

static struct rnode *avl_remove_min(struct rnode *t, struct rnode **min)
{
    if (!t->l) {
        *min = t;
        return t->r;
    }
    t->l = avl_remove_min(t->l, min);
    return rebalance(t);
}

static struct rnode *avl_delete(struct rnode *t, uint64_t start)
{
    if (!t)
        return NULL;
    if (start < t->start) {
        t->l = avl_delete(t->l, start);
    } else if (start > t->start) {
        t->r = avl_delete(t->r, start);
    } else {
        struct rnode *l = t->l, *r = t->r, *m;
        if (!r)
            return l;
        r = avl_remove_min(r, &m);
        m->l = l;
        m->r = r;
        return rebalance(m);
    }
    return rebalance(t);
}

static struct rnode *node_get(struct sio_iova *a)
{
    struct rnode *n = a->node_pool;
    if (n) {
        a->node_pool = n->l;
        return n;
    }
    return malloc(sizeof(*n));
}

static void node_put(struct sio_iova *a, struct rnode *n)
{
    n->l = a->node_pool;
    a->node_pool = n;
}

static int tree_add(struct sio_iova *a, uint64_t s, uint64_t e)
{
    struct rnode *n = node_get(a);
    if (!n)
        return SIO_ENOMEM;
    n->start = s;
    n->end = e;
    n->ord = range_order(s, e);
    a->root = avl_insert(a->root, n);
    a->nranges++;
    return 0;
}

static void tree_remove(struct sio_iova *a, struct rnode *n)
{
    a->root = avl_delete(a->root, n->start);
    a->nranges--;
    node_put(a, n);
}

/* Node with the largest start <= key, and node with the smallest start > key. */
static void tree_neighbours(struct sio_iova *a, uint64_t key, struct rnode **pred,
                            struct rnode **succ)
{
    *pred = *succ = NULL;
    for (struct rnode *x = a->root; x;) {
        if (x->start <= key) {
            *pred = x;
            x = x->r;
        } else {
            *succ = x;
            x = x->l;
        }
    }
}

/* Returns [s, e) to the tree, merging with adjacent free ranges. Tree lock held. */
static int tree_free(struct sio_iova *a, uint64_t s, uint64_t e)
{
    struct rnode *pred, *succ;
    tree_neighbours(a, s, &pred, &succ);
    if ((pred && pred->end > s) || (succ && succ->start < e))
        return SIO_EDOUBLE;
    uint64_t ns = s, ne = e;
    if (pred && pred->end == s) {
        ns = pred->start;
        tree_remove(a, pred);
    }
    if (succ && succ->start == e) {
        ne = succ->end;
        tree_remove(a, succ);
    }
    return tree_add(a, ns, ne);
}

/* Highest naturally aligned block of 2^k pages inside [s, min(e, lim)), or UINT64_MAX. */
static uint64_t fit_top(uint64_t s, uint64_t e, uint64_t lim, unsigned k)
{
    uint64_t top = e < lim ? e : lim;
    uint64_t sz = 1ULL << k;
    if (top <= s || top - s < sz)
        return UINT64_MAX;
    uint64_t x = (top - sz) & ~(sz - 1);
    return x >= s ? x : UINT64_MAX;
}

/* Allocates an aligned block of 2^k pages ending at or below page lim (exclusive), as high
 * as possible. Tree lock held. UINT64_MAX when nothing fits. */
static uint64_t tree_alloc(struct sio_iova *a, unsigned k, uint64_t lim)
{
    struct rnode *cand = NULL, *straddle = NULL;
    int cand_is_subtree = 0;
    /* Keep a spare node pooled so the split below never needs memory it cannot get. */
    struct rnode *spare = node_get(a);
    if (!spare)
        return UINT64_MAX;
    node_put(a, spare);
    for (struct rnode *x = a->root; x;) {
        if (x->end <= lim) {
            /* x and its whole left subtree lie below the limit; anything found further right
             * is higher, so it overrides what is recorded here. */
            if (x->ord >= (int)k) {
                cand = x;
                cand_is_subtree = 0;
            } else if (mo(x->l) >= (int)k) {
                cand = x->l;
                cand_is_subtree = 1;
            }
            x = x->r;
        } else {
            if (x->start < lim)
                straddle = x;
            x = x->l;
        }
    }
    struct rnode *pick = NULL;
    uint64_t pfn = UINT64_MAX;
    if (straddle)
        pfn = fit_top(straddle->start, straddle->end, lim, k);
    if (pfn != UINT64_MAX) {
        pick = straddle;
    } else if (cand) {
        pick = cand;
        if (cand_is_subtree) {
            for (;;) {
                if (mo(pick->r) >= (int)k)
                    pick = pick->r;
                else if (pick->ord >= (int)k)
                    break;
                else
                    pick = pick->l;
            }
        }
        pfn = fit_top(pick->start, pick->end, lim, k);
    }
    if (!pick || pfn == UINT64_MAX)
        return UINT64_MAX;
    uint64_t s = pick->start, e = pick->end, sz = 1ULL << k;
    tree_remove(a, pick);
    /* Up to two remainders, built from the removed node and the spare: cannot fail. */
    if (s < pfn)
        (void)tree_add(a, s, pfn);
    if (pfn + sz < e)
        (void)tree_add(a, pfn + sz, e);
    return pfn;
}

/* ---- magazines ---------------------------------------------------------------------------- */

static struct cpu_cache *cpu_slot(struct sio_iova *a)
{
    int c = sched_getcpu();
    if (c < 0)
        c = 0;
    return &a->cpu[(unsigned)c % a->ncpu];
}

/* Pops an entry whose block of 2^k pages ends at or below lim. */
static int mag_pop(struct mag *m, unsigned k, uint64_t lim, uint64_t *pfn)
{
    if (!m)
        return 0;
    for (unsigned i = m->n; i-- > 0;) {
        if (m->pfn[i] + (1ULL << k) <= lim) {
            *pfn = m->pfn[i];
            m->pfn[i] = m->pfn[--m->n];
            return 1;
        }
    }
    return 0;
}

static int mag_empty(const struct mag *m)
{
    return !m || m->n == 0;
}

/* Every entry of m back to the tree (tree lock taken here). */
static void mag_to_tree(struct sio_iova *a, struct mag *m, unsigned k)
{
    if (!m || !m->n)
        return;
    pthread_mutex_lock(&a->tree_lock);
    for (unsigned i = 0; i < m->n; i++)
        (void)tree_free(a, m->pfn[i], m->pfn[i] + (1ULL << k));
    pthread_mutex_unlock(&a->tree_lock);
    m->n = 0;
}

static int cache_alloc(struct sio_iova *a, unsigned k, uint64_t lim, uint64_t *pfn)
{
    struct cpu_cache *c = cpu_slot(a);
    int hit = 0;
    os_lock(&c->lock);
    if (mag_pop(c->loaded[k], k, lim, pfn)) {
        hit = 1;
    } else if (mag_pop(c->prev[k], k, lim, pfn)) {
        hit = 1;
        if (mag_empty(c->loaded[k])) {
            struct mag *t = c->loaded[k];
            c->loaded[k] = c->prev[k];
            c->prev[k] = t;
        }
    } else if (mag_empty(c->loaded[k]) && mag_empty(c->prev[k])) {
        struct depot *d = &a->depot[k];
        struct mag *full = NULL;
        os_lock(&d->lock);
        if (d->n)
            full = d->m[--d->n];
        os_unlock(&d->lock);
        if (full) {
            free(c->loaded[k]);
            c->loaded[k] = full;
            hit = mag_pop(full, k, lim, pfn);
        }
    }
    if (hit) {
        c->in_use += (int64_t)1 << k;
        c->alloc_cached++;
    }
    os_unlock(&c->lock);
    return hit;
}

static int cache_free(struct sio_iova *a, unsigned k, uint64_t pfn)
{
    struct cpu_cache *c = cpu_slot(a);
    os_lock(&c->lock);
    if (!c->loaded[k] && !(c->loaded[k] = calloc(1, sizeof(struct mag))))
        goto fail;
    if (c->loaded[k]->n == MAG_SIZE) {
        if (mag_empty(c->prev[k])) {
            if (!c->prev[k] && !(c->prev[k] = calloc(1, sizeof(struct mag))))
                goto fail;
            struct mag *t = c->loaded[k];
            c->loaded[k] = c->prev[k];
            c->prev[k] = t;
        } else {
            /* Both full: the loaded one goes to the depot, or back to the tree if the depot
             * is full too (amortised: one tree pass per MAG_SIZE frees at worst). */
            struct depot *d = &a->depot[k];
            struct mag *fresh = calloc(1, sizeof(struct mag));
            int moved = 0;
            if (fresh) {
                os_lock(&d->lock);
                if (d->n < DEPOT_MAX) {
                    d->m[d->n++] = c->loaded[k];
                    moved = 1;
                }
                os_unlock(&d->lock);
            }
            if (moved) {
                c->loaded[k] = fresh;
            } else {
                free(fresh);
                mag_to_tree(a, c->loaded[k], k);
            }
        }
    }
    struct mag *m = c->loaded[k];
    m->pfn[m->n++] = pfn;
    c->in_use -= (int64_t)1 << k;
    c->free_cached++;
    os_unlock(&c->lock);
    return 1;
fail:
    os_unlock(&c->lock);
    return 0;
}

/* ---- public API --------------------------------------------------------------------------- */

struct sio_iova *sio_iova_create(uint64_t base, uint64_t end)
{
    if ((base | end) & (SIO_IOVA_PAGE_SIZE - 1) || base >= end || end > (1ULL << 63))
        return NULL;
    struct sio_iova *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->base_pfn = base >> SIO_IOVA_PAGE_SHIFT;
    a->end_pfn = end >> SIO_IOVA_PAGE_SHIFT;
    long n = sysconf(_SC_NPROCESSORS_CONF);
    a->ncpu = n < 1 ? 1 : n > MAX_CPUS ? MAX_CPUS : (unsigned)n;
    a->cpu = aligned_alloc(CACHE_ALIGN, sizeof(struct cpu_cache) * a->ncpu);
    if (!a->cpu) {
        free(a);
        return NULL;
    }
    memset(a->cpu, 0, sizeof(struct cpu_cache) * a->ncpu);
    pthread_mutex_init(&a->tree_lock, NULL);
    for (unsigned i = 0; i < a->ncpu; i++)
        os_lock_init(&a->cpu[i].lock);
    for (unsigned k = 0; k < NCLASS; k++)
        os_lock_init(&a->depot[k].lock);
    if (tree_add(a, a->base_pfn, a->end_pfn)) {
        sio_iova_destroy(a);
        return NULL;
    }
    return a;
}

static void tree_destroy(struct rnode *n)
{
    if (!n)
        return;
    tree_destroy(n->l);
    tree_destroy(n->r);
    free(n);
}

void sio_iova_destroy(struct sio_iova *a)
{
    if (!a)
        return;
    for (unsigned i = 0; i < a->ncpu; i++) {
        for (unsigned k = 0; k < NCLASS; k++) {
            free(a->cpu[i].loaded[k]);
            free(a->cpu[i].prev[k]);
        }
    }
    for (unsigned k = 0; k < NCLASS; k++) {
        for (unsigned j = 0; j < a->depot[k].n; j++)
            free(a->depot[k].m[j]);
    }
    tree_destroy(a->root);
    while (a->node_pool) {
        struct rnode *n = a->node_pool;
        a->node_pool = n->l;
        free(n);
    }
    pthread_mutex_destroy(&a->tree_lock);
    free(a->cpu);
    free(a);
}

int sio_iova_reserve(struct sio_iova *a, uint64_t start, uint64_t end)
{
    if (!a || start >= end)
        return SIO_EINVAL;
    uint64_t s = start >> SIO_IOVA_PAGE_SHIFT;
    uint64_t e = (end + SIO_IOVA_PAGE_SIZE - 1) >> SIO_IOVA_PAGE_SHIFT;
    if (end > UINT64_MAX - SIO_IOVA_PAGE_SIZE)
        e = UINT64_MAX >> SIO_IOVA_PAGE_SHIFT;
    int rc = 0;
    pthread_mutex_lock(&a->tree_lock);
    /* Each pass removes the free range overlapping [s, e) with the lowest start; at most
     * one partial range sits on each side, the rest are wholly inside. */
    for (;;) {
        struct rnode *pred, *succ, *x;
        tree_neighbours(a, s, &pred, &succ);
        x = (pred && pred->end > s) ? pred : (succ && succ->start < e) ? succ : NULL;
        if (!x)
            break;
        uint64_t xs = x->start, xe = x->end;
        tree_remove(a, x);
        if (xs < s)
            rc = tree_add(a, xs, s);
        if (!rc && xe > e)
            rc = tree_add(a, e, xe);
        if (rc)
            break;
    }
    pthread_mutex_unlock(&a->tree_lock);
    return rc;
}

static int size_order(uint64_t size, unsigned *k)
{
    if (size == 0)
        return SIO_EINVAL;
    uint64_t pages = (size >> SIO_IOVA_PAGE_SHIFT) + ((size & (SIO_IOVA_PAGE_SIZE - 1)) != 0);
    unsigned o = pages <= 1 ? 0 : floor_log2(pages - 1) + 1;
    if (o > MAX_ORDER)
        return SIO_ENOSPC;
    *k = o;
    return 0;
}

int sio_iova_alloc(struct sio_iova *a, uint64_t size, uint64_t limit, uint64_t *out)
{
    unsigned k;
    int rc = size_order(size, &k);
    if (rc)
        return rc;
    /* First page frame not allowed: the block's last byte must be <= limit. */
    uint64_t lim = limit == UINT64_MAX ? (UINT64_MAX >> SIO_IOVA_PAGE_SHIFT) + 1
                                       : (limit + 1) >> SIO_IOVA_PAGE_SHIFT;
    if (lim > a->end_pfn)
        lim = a->end_pfn;
    if (lim <= a->base_pfn)
        return SIO_EMASK;
    uint64_t pfn;
    if (k < NCLASS && cache_alloc(a, k, lim, &pfn)) {
        *out = pfn << SIO_IOVA_PAGE_SHIFT;
        return 0;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        pthread_mutex_lock(&a->tree_lock);
        pfn = tree_alloc(a, k, lim);
        if (pfn != UINT64_MAX) {
            a->tree_in_use += (int64_t)1 << k;
            a->alloc_tree++;
        }
        pthread_mutex_unlock(&a->tree_lock);
        if (pfn != UINT64_MAX) {
            *out = pfn << SIO_IOVA_PAGE_SHIFT;
            return 0;
        }
        /* Ranges may be parked in magazines: flush them all and try once more. */
        if (attempt == 0)
            sio_iova_drain(a);
    }
    return SIO_ENOSPC;
}

int sio_iova_free(struct sio_iova *a, uint64_t addr, uint64_t size)
{
    unsigned k;
    int rc = size_order(size, &k);
    if (rc)
        return SIO_EINVAL;
    uint64_t pfn = addr >> SIO_IOVA_PAGE_SHIFT;
    if ((addr & (SIO_IOVA_PAGE_SIZE - 1)) || (pfn & ((1ULL << k) - 1)) || pfn < a->base_pfn ||
        pfn >= a->end_pfn || a->end_pfn - pfn < (1ULL << k))
        return SIO_EINVAL;
    if (k < NCLASS && cache_free(a, k, pfn))
        return 0;
    pthread_mutex_lock(&a->tree_lock);
    rc = tree_free(a, pfn, pfn + (1ULL << k));
    if (!rc) {
        a->tree_in_use -= (int64_t)1 << k;
        a->free_tree++;
    }
    pthread_mutex_unlock(&a->tree_lock);
    return rc;
}

void sio_iova_drain(struct sio_iova *a)
{
    for (unsigned i = 0; i < a->ncpu; i++) {
        struct cpu_cache *c = &a->cpu[i];
        os_lock(&c->lock);
        for (unsigned k = 0; k < NCLASS; k++) {
            mag_to_tree(a, c->loaded[k], k);
            mag_to_tree(a, c->prev[k], k);
        }
        os_unlock(&c->lock);
    }
    for (unsigned k = 0; k < NCLASS; k++) {
        struct depot *d = &a->depot[k];
        os_lock(&d->lock);
        while (d->n) {
            struct mag *m = d->m[--d->n];
            mag_to_tree(a, m, k);
            free(m);
        }
        os_unlock(&d->lock);
    }
}

void sio_iova_get_stats(struct sio_iova *a, struct sio_iova_stats *out)
{
    memset(out, 0, sizeof(*out));
    int64_t in_use = 0;
    for (unsigned i = 0; i < a->ncpu; i++) {
        struct cpu_cache *c = &a->cpu[i];
        os_lock(&c->lock);
        in_use += c->in_use;
        out->alloc_cached += c->alloc_cached;
        out->free_cached += c->free_cached;
        for (unsigned k = 0; k < NCLASS; k++)
            out->cached_ranges +=
                (c->loaded[k] ? c->loaded[k]->n : 0) + (c->prev[k] ? c->prev[k]->n : 0);
        os_unlock(&c->lock);
    }
    for (unsigned k = 0; k < NCLASS; k++) {
        os_lock(&a->depot[k].lock);
        for (unsigned j = 0; j < a->depot[k].n; j++)
            out->cached_ranges += a->depot[k].m[j]->n;
        os_unlock(&a->depot[k].lock);
    }
    pthread_mutex_lock(&a->tree_lock);
    in_use += a->tree_in_use;
    out->free_ranges = a->nranges;
    out->alloc_tree = a->alloc_tree;
    out->free_tree = a->free_tree;
    out->tree_height = (unsigned)ht(a->root);
    pthread_mutex_unlock(&a->tree_lock);
    out->pages_in_use = in_use > 0 ? (uint64_t)in_use : 0;
}

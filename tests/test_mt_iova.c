/* IOVA allocator under concurrent threads (also run under ThreadSanitizer). Every thread
 * allocates and frees ranges of mixed sizes, some below a 32-bit limit; an ownership array
 * (one atomic owner per page) proves no page is ever handed to two live ranges at once. */
#include "test_util.h"

#include <softiommu/err.h>
#include <softiommu/iova.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define NTHREADS 4
#define SPACE    (1ULL << 34) /* 16 GiB: pages above and below 4 GiB */
#define PG       0x1000ULL
#define HELD     64
#define STEPS    20000

/* Owners are tracked only for the top 1 GiB below 4 GiB and the top 1 GiB of the space,
 * where every allocation lands (top-down). */
#define WIN   (1ULL << 30)
#define NWIN  (WIN / PG)
#define LOW0  ((1ULL << 32) - WIN)
#define HIGH0 (SPACE - WIN)

struct shared {
    struct sio_iova *a;
    _Atomic unsigned owner[2][NWIN];
};

struct worker {
    struct shared *sh;
    unsigned id;
    int errors;
    int outside;
};

static _Atomic unsigned *owner_of(struct shared *sh, uint64_t addr, int *ok)
{
    *ok = 1;
    if (addr >= LOW0 && addr < (1ULL << 32))
        return &sh->owner[0][(addr - LOW0) / PG];
    if (addr >= HIGH0 && addr < SPACE)
        return &sh->owner[1][(addr - HIGH0) / PG];
    *ok = 0;
    return NULL;
}

static void claim(struct worker *w, uint64_t addr, uint64_t pages, unsigned who)
{
    for (uint64_t i = 0; i < pages; i++) {
        int ok;
        _Atomic unsigned *o = owner_of(w->sh, addr + i * PG, &ok);
        if (!ok) {
            w->outside++;
            continue;
        }
        unsigned expect = who ? 0 : w->id + 1;
        if (!atomic_compare_exchange_strong(o, &expect, who))
            w->errors++;
    }
}

static void *worker_fn(void *arg)
{
    struct worker *w = arg;
    uint64_t addr[HELD], pages[HELD];
    unsigned n = 0, seed = 77 + w->id;
    for (unsigned step = 0; step < STEPS; step++) {
        seed = seed * 1103515245u + 12345u;
        unsigned r = seed >> 16;
        if (n == HELD || (n && (r & 1))) {
            unsigned i = r % n;
            claim(w, addr[i], pages[i], 0);
            if (sio_iova_free(w->sh->a, addr[i], pages[i] * PG))
                w->errors++;
            addr[i] = addr[n - 1];
            pages[i] = pages[n - 1];
            n--;
            continue;
        }
        uint64_t p = 1ULL << ((r >> 1) % 7); /* 1..64 pages: cached classes and the tree */
        uint64_t limit = (r & 8) ? 0xFFFFFFFFULL : UINT64_MAX;
        uint64_t v;
        if (sio_iova_alloc(w->sh->a, p * PG, limit, &v)) {
            w->errors++;
            continue;
        }
        if ((v / PG) % p || v + p * PG - 1 > limit)
            w->errors++;
        claim(w, v, p, w->id + 1);
        addr[n] = v;
        pages[n] = p;
        n++;
    }
    while (n) {
        n--;
        claim(w, addr[n], pages[n], 0);
        if (sio_iova_free(w->sh->a, addr[n], pages[n] * PG))
            w->errors++;
    }
    return NULL;
}

static void test_concurrent_alloc_free(void **state)
{
    (void)state;
    struct shared *sh = calloc(1, sizeof(*sh));
    sh->a = sio_iova_create(PG, SPACE);
    assert_non_null(sh->a);
    pthread_t th[NTHREADS];
    struct worker w[NTHREADS];
    for (unsigned t = 0; t < NTHREADS; t++) {
        w[t] = (struct worker){sh, t, 0, 0};
        pthread_create(&th[t], NULL, worker_fn, &w[t]);
    }
    for (unsigned t = 0; t < NTHREADS; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(w[t].errors, 0);
        assert_int_equal(w[t].outside, 0);
    }
    struct sio_iova_stats st;
    sio_iova_get_stats(sh->a, &st);
    assert_int_equal(st.pages_in_use, 0);
    assert_true(st.alloc_cached > 0 && st.alloc_tree > 0);
    sio_iova_drain(sh->a);
    sio_iova_get_stats(sh->a, &st);
    assert_int_equal(st.free_ranges, 1);
    sio_iova_destroy(sh->a);
    free(sh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_alloc_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

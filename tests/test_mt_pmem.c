/* sio_pmem under concurrent writers and readers (also run under ThreadSanitizer). Each thread
 * owns a stripe of 8-byte slots spread over shared pages, so pages are allocated concurrently
 * and every thread's data must survive the races on page and node installation. */
#include "test_util.h"

#include <softiommu/mem.h>

#include <pthread.h>

#define NTHREADS 4
#define SLOTS    4096

struct worker {
    struct sio_pmem *pm;
    unsigned id;
    int errors;
};

static uint64_t slot_addr(unsigned thread, unsigned i)
{
    /* Threads interleave inside the same pages: slot i of thread t is 8 bytes at offset
     * t*8 of page (i % 1024) in 8 MiB chunk (i / 1024), so every page is shared by all
     * threads and chunks need new radix nodes too. */
    return ((uint64_t)(i % 1024) << 12) + ((uint64_t)(i / 1024) << 23) + thread * 8;
}

static void *writer(void *arg)
{
    struct worker *w = arg;
    const struct sio_mem_ops *ops = sio_pmem_ops();
    for (unsigned i = 0; i < SLOTS; i++) {
        uint64_t v = ((uint64_t)w->id << 32) | i;
        if (ops->write(w->pm, slot_addr(w->id, i), &v, 8))
            w->errors++;
    }
    for (unsigned i = 0; i < SLOTS; i++) {
        uint64_t v = 0;
        if (ops->read(w->pm, slot_addr(w->id, i), &v, 8) || v != (((uint64_t)w->id << 32) | i))
            w->errors++;
    }
    return NULL;
}

static void test_concurrent_writers(void **state)
{
    (void)state;
    struct sio_pmem *pm = sio_pmem_create(1ULL << 33);
    pthread_t th[NTHREADS];
    struct worker w[NTHREADS];
    for (unsigned t = 0; t < NTHREADS; t++) {
        w[t] = (struct worker){pm, t, 0};
        pthread_create(&th[t], NULL, writer, &w[t]);
    }
    for (unsigned t = 0; t < NTHREADS; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(w[t].errors, 0);
    }
    /* 1024 distinct pages in each of 4 chunks; every page allocated exactly once. */
    assert_int_equal(sio_pmem_pages(pm), 4096);
    sio_pmem_destroy(pm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_writers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

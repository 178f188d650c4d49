/* VT-d model under concurrency (also the ThreadSanitizer suite): device threads translate
 * while a driver thread rewrites page tables and invalidates through the registers, and a
 * third thread keeps faulting so fault recording runs against register traffic.
 *
 * Memory here is an embedder's RAM whose 8-byte words are read and written atomically (as a
 * CPU and an IOMMU see real memory), so the model's table reads race with the driver's
 * table writes only as they would on hardware.
 *
 * The property checked is the architectural one: once an invalidation has completed (the
 * driver saw IVT clear), no translation that starts afterwards returns the old page. Every
 * page i is remapped through frames F(i, 0), F(i, 1), ...; the driver publishes version v
 * only after the PSI for it completed; a device thread that read published version p before
 * translating must get a version >= p (it may get p + 1: the table already says so). */
#include "test_amem.h"
#include "test_vtd_tables.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define NPAGES      32
#define ROUNDS      1500
#define MEM_SIZE    (64ULL << 20)
#define SID         0x0010
#define SID_BAD     0x0020 /* a device with no context entry: every request faults */
#define DID         3
#define IOVA(i)     (0x40000000ULL + ((uint64_t)(i) << 12))
#define FRAME(i, v) (0x100000000ULL + ((uint64_t)(i) << 24) + ((uint64_t)(v) << 12))

static const struct sio_mem_ops amem_ops = {am_read, am_write, NULL};

/* ---- the shared scene -------------------------------------------------------------------- */

struct scene {
    struct amem mem;
    struct sio_vtd *u;
    uint64_t pte[NPAGES]; /* address of each page's leaf entry */
    _Atomic unsigned published[NPAGES];
    _Atomic int stop;
    _Atomic unsigned long translated, stale, bogus;
    uint64_t next_table;
};

static uint64_t table_page(struct scene *s)
{
    uint64_t pa = s->next_table;
    s->next_table += 4096;
    return pa;
}

static void build(struct scene *s)
{
    amem_init(&s->mem, MEM_SIZE);
    s->next_table = 0x100000;
    uint64_t root = table_page(s), ctxt = table_page(s), top = table_page(s);
    am_w64(&s->mem, root, ctxt | 1);
    am_w64(&s->mem, ctxt + 16 * (SID & 0xff), top | 1);
    am_w64(&s->mem, ctxt + 16 * (SID & 0xff) + 8, ((uint64_t)DID << 8) | 2);
    /* Pages 0x40000000 + i*4K: PML4[0] -> PDPT[1] -> PD[0] -> PT[i]. */
    uint64_t pdpt = table_page(s), pd = table_page(s), pt = table_page(s);
    am_w64(&s->mem, top, pdpt | 3);
    am_w64(&s->mem, pdpt + 8, pd | 3);
    am_w64(&s->mem, pd, pt | 3);
    for (unsigned i = 0; i < NPAGES; i++) {
        s->pte[i] = pt + 8 * i;
        am_w64(&s->mem, s->pte[i], FRAME(i, 0) | 3);
        atomic_init(&s->published[i], 0);
    }
    struct sio_vtd_config c = {.iotlb_entries = 12, .ctx_entries = 4, .psc_entries = 6};
    s->u = sio_vtd_create(&c, &amem_ops, &s->mem, NULL, NULL);
    assert_non_null(s->u);
    sio_vtd_mmio_write(s->u, 0x20, root, 8);
    sio_vtd_mmio_write(s->u, 0x18, 0x40000000u, 4);
    sio_vtd_mmio_write(s->u, 0x28, CCMD_ICC | CCMD_GLOBAL, 8);
    sio_vtd_mmio_write(s->u, 0xf8, IOTLB_IVT | IOTLB_GLOBAL, 8);
    sio_vtd_mmio_write(s->u, 0x18, 0xC0000000u, 4);
}

static void *device(void *arg)
{
    struct scene *s = arg;
    unsigned seed = 12345;
    while (!atomic_load_explicit(&s->stop, memory_order_acquire)) {
        seed = seed * 1103515245u + 12345u;
        unsigned i = (seed >> 8) % NPAGES;
        unsigned before = atomic_load_explicit(&s->published[i], memory_order_acquire);
        struct sio_xlate x;
        int fr = sio_vtd_translate(s->u, SID, IOVA(i) + 0x10, SIO_READ, &x);
        unsigned after = atomic_load_explicit(&s->published[i], memory_order_acquire);
        atomic_fetch_add_explicit(&s->translated, 1, memory_order_relaxed);
        uint64_t v = (x.pa - 0x10 - FRAME(i, 0)) >> 12;
        if (fr || x.pa < FRAME(i, 0) || ((x.pa - 0x10) & 0xfff) || v > after + 1)
            atomic_fetch_add_explicit(&s->bogus, 1, memory_order_relaxed);
        else if (v < before)
            atomic_fetch_add_explicit(&s->stale, 1, memory_order_relaxed);
    }
    return NULL;
}

static void *rogue(void *arg)
{
    struct scene *s = arg;
    uint64_t n = 0;
    /* At least 64 requests whatever the scheduler does, so faults are always recorded
     * concurrently with the driver (the test asserts it); then until told to stop. */
    while (n < 64 || !atomic_load_explicit(&s->stop, memory_order_acquire)) {
        struct sio_xlate x;
        int fr = sio_vtd_translate(s->u, SID_BAD, 0x1000 * (n++ & 63), SIO_WRITE, &x);
        if (fr != 0x2)
            atomic_fetch_add_explicit(&s->bogus, 1, memory_order_relaxed);
    }
    return NULL;
}

/* Let the device threads run: wait (bounded) until they made n more translations. */
static void let_devices_run(struct scene *s, unsigned long n)
{
    unsigned long start = atomic_load_explicit(&s->translated, memory_order_relaxed);
    for (unsigned spin = 0; spin < 200000; spin++) {
        if (atomic_load_explicit(&s->translated, memory_order_relaxed) - start >= n)
            return;
        if (spin % 64 == 63)
            sched_yield();
    }
}

static void driver(struct scene *s)
{
    let_devices_run(s, 1000);
    for (unsigned r = 0; r < ROUNDS; r++) {
        if (r % 64 == 0)
            let_devices_run(s, 64);
        unsigned i = r % NPAGES;
        unsigned v = atomic_load_explicit(&s->published[i], memory_order_relaxed) + 1;
        am_w64(&s->mem, s->pte[i], FRAME(i, v) | 3);
        /* Mostly page-selective; now and then domain, global, or a context flush too. */
        if (r % 50 == 49) {
            sio_vtd_mmio_write(s->u, 0x28, CCMD_ICC | CCMD_GLOBAL, 8);
            sio_vtd_mmio_write(s->u, 0xf8, IOTLB_IVT | IOTLB_GLOBAL, 8);
        } else if (r % 7 == 6) {
            sio_vtd_mmio_write(s->u, 0xf8, IOTLB_IVT | IOTLB_DOMAIN | ((uint64_t)DID << 32), 8);
        } else {
            sio_vtd_mmio_write(s->u, 0xf0, IOVA(i), 8);
            sio_vtd_mmio_write(s->u, 0xf8, IOTLB_IVT | IOTLB_PAGE | ((uint64_t)DID << 32), 8);
        }
        uint64_t done = sio_vtd_mmio_read(s->u, 0xf8, 8);
        assert_int_equal(done >> 63, 0);
        assert_true(IOTLB_IAIG(done) != 0);
        atomic_store_explicit(&s->published[i], v, memory_order_release);
        /* Serve the rogue device's faults now and then, as an interrupt handler would. */
        if (r % 16 == 0) {
            for (unsigned k = 0; k < 8; k++)
                sio_vtd_mmio_write(s->u, 0x220 + 16 * k + 12, 0x80000000u, 4);
            sio_vtd_mmio_write(s->u, 0x34, 0x83, 4);
            struct sio_vtd_stats st;
            sio_vtd_get_stats(s->u, &st);
        }
    }
}

static void test_translate_while_invalidate(void **state)
{
    (void)state;
    struct scene *s = calloc(1, sizeof(*s));
    build(s);
    pthread_t dev[2], bad;
    for (int k = 0; k < 2; k++)
        assert_int_equal(pthread_create(&dev[k], NULL, device, s), 0);
    assert_int_equal(pthread_create(&bad, NULL, rogue, s), 0);
    driver(s);
    atomic_store_explicit(&s->stop, 1, memory_order_release);
    for (int k = 0; k < 2; k++)
        pthread_join(dev[k], NULL);
    pthread_join(bad, NULL);
    print_message("translations %lu, stale %lu, bogus %lu\n", atomic_load(&s->translated),
                  atomic_load(&s->stale), atomic_load(&s->bogus));
    assert_int_equal(atomic_load(&s->bogus), 0);
    assert_int_equal(atomic_load(&s->stale), 0);
    assert_true(atomic_load(&s->translated) > 0);
    /* After everything settled, every page translates to its last version. */
    for (unsigned i = 0; i < NPAGES; i++) {
        struct sio_xlate x;
        assert_int_equal(sio_vtd_translate(s->u, SID, IOVA(i), SIO_READ, &x), 0);
        assert_int_equal(x.pa, FRAME(i, atomic_load(&s->published[i])));
        assert_int_equal(am_r64(&s->mem, s->pte[i]) & ~3ULL, x.pa);
    }
    struct sio_vtd_stats st;
    sio_vtd_get_stats(s->u, &st);
    assert_true(st.faults > 0);
    assert_true(st.iotlb_evictions > 0);
    sio_vtd_destroy(s->u);
    free(s->mem.w);
    free(s);
}

/* Many threads hitting the same cached translations at once (the lock-free path). */
struct hitter {
    struct sio_vtd *u;
    unsigned long ok;
};
static void *hit_loop(void *arg)
{
    struct hitter *h = arg;
    for (unsigned n = 0; n < 20000; n++) {
        struct sio_xlate x;
        unsigned i = n % NPAGES;
        if (sio_vtd_translate(h->u, SID, IOVA(i), SIO_READ, &x) == 0 && x.pa == FRAME(i, 0))
            h->ok++;
    }
    return NULL;
}

static void test_parallel_hits(void **state)
{
    (void)state;
    struct scene *s = calloc(1, sizeof(*s));
    build(s);
    pthread_t th[4];
    struct hitter h[4];
    for (int k = 0; k < 4; k++) {
        h[k] = (struct hitter){s->u, 0};
        assert_int_equal(pthread_create(&th[k], NULL, hit_loop, &h[k]), 0);
    }
    for (int k = 0; k < 4; k++) {
        pthread_join(th[k], NULL);
        assert_int_equal(h[k].ok, 20000);
    }
    struct sio_vtd_stats st;
    sio_vtd_get_stats(s->u, &st);
    /* Hit counts may lose a count when threads share a source-id; misses never do. */
    assert_true(st.iotlb_misses >= NPAGES);
    assert_true(st.translations <= 80000);
    sio_vtd_destroy(s->u);
    free(s->mem.w);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_translate_while_invalidate),
        cmocka_unit_test(test_parallel_hits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Interrupt remapping, posting and queued invalidation under concurrency (also run under
 * ThreadSanitizer):
 *  - device threads remap MSIs while a driver thread rewrites IRTEs and invalidates them with
 *    index-selective IEC descriptors through the queue: once the driver saw an invalidation's
 *    wait complete, no remap that starts afterwards returns the old entry (VT-d 5, 7);
 *  - device threads post interrupts into one posted-interrupt descriptor while a CPU thread
 *    takes notifications and harvests PIR the way KVM does (clear ON, exchange PIR words):
 *    no posted vector is lost;
 *  - device-TLB invalidations answered asynchronously by a device thread complete every wait.
 *
 * Memory is an embedder's RAM of atomic 8-byte words (as CPU and IOMMU see real memory); only
 * the posted-interrupt descriptor is also offered as a host pointer, so the model posts with
 * atomic instructions and the CPU side harvests with them. */
#include "test_amem.h"
#include "test_vtd_qi.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define MEM_SIZE (16ULL << 20)
#define SID      0x0010
#define IRT      0x200000ULL
#define QB       0x100000ULL
#define QSTATUS  0x101000ULL
#define PIDPA    0x300000ULL
#define NIDX     8
#define ROUNDS   400

/* Only the posted-interrupt descriptor is reachable by pointer (atomics on both sides). */
static void *am_ptr(void *ctx, uint64_t pa, size_t len)
{
    struct amem *m = ctx;
    if (pa >= PIDPA && pa + len <= PIDPA + 64)
        return (void *)&m->w[pa / 8];
    return NULL;
}

static const struct sio_mem_ops amem_ops = {am_read, am_write, am_ptr};

struct env {
    struct amem mem;
    struct sio_vtd *u;
    struct sio_irq_ops irq;
    _Atomic unsigned notifications;
    unsigned tail;
    uint32_t seq;
    _Atomic int stop;
    _Atomic unsigned errors; /* threads count failures; the main thread asserts */
    _Atomic uint64_t published[NIDX];
};

static void count_msi(void *ctx, uint64_t addr, uint32_t data)
{
    (void)addr;
    (void)data;
    atomic_fetch_add(&((struct env *)ctx)->notifications, 1);
}

static struct env *env_new(const struct sio_vtd_config *cfg)
{
    struct env *e = calloc(1, sizeof(*e));
    amem_init(&e->mem, MEM_SIZE);
    e->irq.msi = count_msi;
    e->u = sio_vtd_create(cfg, &amem_ops, &e->mem, &e->irq, e);
    assert_non_null(e->u);
    /* QI, then Linux's IR enable (S = 7). */
    sio_vtd_mmio_write(e->u, R_IQT, 0, 8);
    sio_vtd_mmio_write(e->u, R_IQA, QB, 8);
    sio_vtd_mmio_write(e->u, R_GCMD, GCMD_QIE, 4);
    sio_vtd_mmio_write(e->u, R_IRTA, IRT | 7, 8);
    sio_vtd_mmio_write(e->u, R_GCMD, GCMD_QIE | GCMD_SIRTP, 4);
    sio_vtd_mmio_write(e->u, R_GCMD, GCMD_QIE | GCMD_IRE, 4);
    return e;
}

static void env_free(struct env *e)
{
    sio_vtd_destroy(e->u);
    free(e->mem.w);
    free(e);
}

/* qi_submit_sync: one descriptor + a wait, status polled (the driver thread only). */
static void submit(struct env *e, uint64_t lo, uint64_t hi)
{
    am_w64(&e->mem, QB + 16ULL * e->tail, lo);
    am_w64(&e->mem, QB + 16ULL * e->tail + 8, hi);
    e->tail = (e->tail + 1) % 256;
    uint32_t seq = ++e->seq;
    am_w64(&e->mem, QB + 16ULL * e->tail, 5 | 1ULL << 5 | (uint64_t)seq << 32);
    am_w64(&e->mem, QB + 16ULL * e->tail + 8, QSTATUS);
    e->tail = (e->tail + 1) % 256;
    sio_vtd_mmio_write(e->u, R_IQT, (uint64_t)e->tail << 4, 4);
    for (;;) {
        if ((uint32_t)am_r64(&e->mem, QSTATUS) == seq)
            return;
        uint32_t f = (uint32_t)sio_vtd_mmio_read(e->u, R_FSTS, 4);
        assert_int_equal(f & (FSTS_IQE | FSTS_ITE | FSTS_ICE), 0);
        sched_yield();
    }
}

/* ---- remapping while entries change -------------------------------------------------------- */

#define VEC(g) (0x20 + (int)((g) % 200))

static void write_irte(struct env *e, unsigned i, uint64_t g)
{
    /* Remapped format: P, vector, APIC id 1 (DST 15:8), no source check. */
    am_w64(&e->mem, IRT + 16ULL * i + 8, 0);
    am_w64(&e->mem, IRT + 16ULL * i, 1 | (uint64_t)VEC(g) << 16 | 1ULL << 40);
}

struct dev_arg {
    struct env *e;
    unsigned seed;
    _Atomic unsigned long done;
};

static void *remap_thread(void *p)
{
    struct dev_arg *a = p;
    unsigned x = a->seed;
    while (!atomic_load(&a->e->stop)) {
        x = x * 1103515245 + 12345;
        unsigned i = (x >> 16) % NIDX;
        uint64_t seen = atomic_load_explicit(&a->e->published[i], memory_order_acquire);
        struct sio_irq o;
        int rc = sio_vtd_msi(a->e->u, SID, msi_addr(i, 0), 0, &o);
        /* Generation of the vector seen, relative to the one published before asking: never
         * older (its invalidation had completed). */
        int d = ((int)o.vector - VEC(seen) + 200) % 200;
        if (rc != 0 || d >= 100)
            atomic_fetch_add(&a->e->errors, 1);
        atomic_fetch_add(&a->done, 1);
    }
    return NULL;
}

static void test_remap_while_invalidating(void **state)
{
    (void)state;
    struct env *e = env_new(NULL);
    for (unsigned i = 0; i < NIDX; i++)
        write_irte(e, i, 0);
    submit(e, 4, 0); /* global IEC */
    struct dev_arg a[2] = {{e, 1, 0}, {e, 2, 0}};
    pthread_t th[2];
    for (int k = 0; k < 2; k++)
        pthread_create(&th[k], NULL, remap_thread, &a[k]);
    while (!atomic_load(&a[0].done) || !atomic_load(&a[1].done))
        sched_yield(); /* both devices busy before the entries start changing */
    for (uint64_t g = 1; g <= ROUNDS; g++) {
        unsigned i = (unsigned)(g % NIDX);
        uint64_t gen = atomic_load(&e->published[i]) + 1;
        write_irte(e, i, gen);
        submit(e, 4 | 1 << 4 | (uint64_t)i << 32, 0); /* index-selective, IM 0 */
        atomic_store_explicit(&e->published[i], gen, memory_order_release);
        if (g % 50 == 0)
            submit(e, 4, 0); /* and a global one now and then */
    }
    atomic_store(&e->stop, 1);
    for (int k = 0; k < 2; k++)
        pthread_join(th[k], NULL);
    printf("remaps during %d IRTE changes: %lu + %lu\n", ROUNDS, atomic_load(&a[0].done),
           atomic_load(&a[1].done));
    assert_int_equal(atomic_load(&e->errors), 0);
    env_free(e);
}

/* ---- posting against a harvesting CPU ------------------------------------------------------ */

struct post_arg {
    struct env *e;
    unsigned first; /* IRTE indexes first, first + 1 */
    unsigned n;
};

static void *post_thread(void *p)
{
    struct post_arg *a = p;
    for (unsigned k = 0; k < a->n; k++) {
        struct sio_irq o;
        int rc = sio_vtd_msi(a->e->u, SID, msi_addr(a->first + (k & 1), 0), 0, &o);
        if (rc != 0 || !(o.flags & SIO_IRQ_POSTED))
            atomic_fetch_add(&a->e->errors, 1);
    }
    return NULL;
}

struct cpu_arg {
    struct env *e;
    uint64_t seen[4]; /* PIR bits harvested */
};

static void harvest(struct env *e, uint64_t *seen)
{
    _Atomic uint64_t *w = &e->mem.w[PIDPA / 8];
    /* KVM: clear ON first, then take PIR word by word. */
    atomic_fetch_and(&w[4], ~1ULL);
    for (unsigned i = 0; i < 4; i++)
        seen[i] |= atomic_exchange(&w[i], 0);
}

static void *cpu_thread(void *p)
{
    struct cpu_arg *a = p;
    unsigned taken = 0, spins = 0;
    while (!atomic_load(&a->e->stop)) {
        unsigned n = atomic_load(&a->e->notifications);
        if (n != taken) {
            taken = n;
            harvest(a->e, a->seen);
        }
        if (++spins % 64 == 0) /* the vCPU blocks and wakes: SN toggles */
            atomic_fetch_xor(&a->e->mem.w[PIDPA / 8 + 4], 2ULL);
    }
    return NULL;
}

static void test_posting_with_harvester(void **state)
{
    (void)state;
    struct env *e = env_new(NULL);
    /* PID: NV 0xF2, NDST APIC id 5 (15:8). Four posted IRTEs, vectors 0x40-0x43, the last
     * two urgent. */
    am_w64(&e->mem, PIDPA + 32, 0xF2ULL << 16 | (5ULL << 8) << 32);
    for (unsigned i = 0; i < 4; i++) {
        uint64_t lo = 1 | (uint64_t)(i >= 2) << 14 | 1ULL << 15 | (uint64_t)(0x40 + i) << 16 |
                      ((PIDPA >> 6) & 0x3FFFFFF) << 38;
        am_w64(&e->mem, IRT + 16ULL * i + 8, 0);
        am_w64(&e->mem, IRT + 16ULL * i, lo);
    }
    submit(e, 4, 0);
    struct cpu_arg c = {e, {0}};
    struct post_arg a[2] = {{e, 0, 3000}, {e, 2, 3000}};
    pthread_t cpu, th[2];
    pthread_create(&cpu, NULL, cpu_thread, &c);
    for (int k = 0; k < 2; k++)
        pthread_create(&th[k], NULL, post_thread, &a[k]);
    for (int k = 0; k < 2; k++)
        pthread_join(th[k], NULL);
    atomic_store(&e->stop, 1);
    pthread_join(cpu, NULL);
    harvest(e, c.seen);
    /* Every vector that was posted was found in PIR. */
    assert_int_equal(c.seen[1], 0xFULL); /* 0x40-0x43 = word 1 bits 0-3 */
    assert_int_equal(c.seen[0] | c.seen[2] | c.seen[3], 0);
    unsigned n = atomic_load(&e->notifications);
    assert_true(n >= 1 && n <= 6000);
    assert_int_equal(atomic_load(&e->errors), 0);
    env_free(e);
}

/* ---- device-TLB invalidations completed by another thread ---------------------------------- */

struct devq {
    struct env *e;
    _Atomic uint32_t owed; /* ITags to complete */
    _Atomic unsigned delivered;
};

static int devtlb_cb(void *ctx, const struct sio_vtd_devtlb_inv *inv)
{
    struct devq *d = ctx;
    atomic_fetch_or(&d->owed, 1u << inv->itag);
    atomic_fetch_add(&d->delivered, 1);
    return SIO_VTD_DEVTLB_PENDING;
}

static void *device_thread(void *p)
{
    struct devq *d = p;
    while (!atomic_load(&d->e->stop)) {
        uint32_t owed = atomic_exchange(&d->owed, 0);
        if (owed && sio_vtd_devtlb_complete(d->e->u, SID, owed) != 0)
            atomic_fetch_add(&d->e->errors, 1);
        sched_yield();
    }
    return NULL;
}

static void test_devtlb_async_completion(void **state)
{
    (void)state;
    struct env *e = env_new(NULL);
    struct devq d = {e, 0, 0};
    assert_int_equal(sio_vtd_devtlb_register(e->u, SID, devtlb_cb, &d), 0);
    pthread_t th;
    pthread_create(&th, NULL, device_thread, &d);
    for (unsigned k = 0; k < ROUNDS; k++)
        submit(e, 3 | (uint64_t)SID << 32, 0x1000ULL * k); /* type 3, S=0 */
    atomic_store(&e->stop, 1);
    pthread_join(th, NULL);
    assert_int_equal(atomic_load(&d.delivered), ROUNDS);
    struct sio_vtd_ext_stats st;
    sio_vtd_get_ext_stats(e->u, &st);
    assert_int_equal(st.qi_waits, ROUNDS);
    assert_int_equal(st.qi_ite + st.qi_ice, 0);
    assert_int_equal(atomic_load(&e->errors), 0);
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remap_while_invalidating),
        cmocka_unit_test(test_posting_with_harvester),
        cmocka_unit_test(test_devtlb_async_completion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

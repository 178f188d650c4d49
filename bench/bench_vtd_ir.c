/* VT-d model benchmarks for queued invalidation and interrupt remapping:
 *   qi_iotlb_psi   what Linux's qi_submit_sync costs for one page-selective IOTLB
 *                  invalidation: two descriptors written to the queue, IQT written, the
 *                  wait's status word polled
 *   msi_remap_hit  one remappable MSI translated through a cached IRTE (sio_vtd_msi)
 * Every unit is built over pmem and programmed through its registers as Linux does. */
#include "bench.h"

#include <softiommu/bits.h>
#include <softiommu/err.h>
#include <softiommu/mem.h>
#include <softiommu/vtd.h>

#include <stdlib.h>
#include <string.h>

#define Q_BASE   0x100000ULL /* invalidation queue (256 x 128-bit) */
#define Q_STATUS 0x101000ULL /* wait status word */
#define Q_IRT    0x102000ULL /* interrupt remapping table (256 entries) */
#define Q_MEM    (1ULL << 28)

struct bq {
    struct sio_pmem *pm;
    struct sio_mem mem;
    struct sio_vtd *u;
    unsigned tail;
    uint32_t seq;
    int failed;
};

static int bq_setup(struct bq *b)
{
    memset(b, 0, sizeof(*b));
    b->pm = sio_pmem_create(Q_MEM);
    if (!b->pm)
        return SIO_ENOMEM;
    b->mem = (struct sio_mem){sio_pmem_ops(), b->pm};
    b->u = sio_vtd_create(NULL, b->mem.ops, b->pm, NULL, NULL);
    if (!b->u) {
        sio_pmem_destroy(b->pm);
        return SIO_ENOMEM;
    }
    sio_mem_zero(&b->mem, Q_BASE, 0x3000);
    /* dmar_enable_qi: IQT = 0, IQA = base (QS 0, 128-bit), QIE (GCMD bit 26). */
    sio_vtd_mmio_write(b->u, 0x88, 0, 8);
    sio_vtd_mmio_write(b->u, 0x90, Q_BASE, 8);
    sio_vtd_mmio_write(b->u, 0x18, 1u << 26, 4);
    return 0;
}

static void bq_fini(struct bq *b)
{
    sio_vtd_destroy(b->u);
    sio_pmem_destroy(b->pm);
}

static void bq_put(struct bq *b, uint64_t lo, uint64_t hi)
{
    uint8_t d[16];
    sio_st64le(d, lo);
    sio_st64le(d + 8, hi);
    sio_mem_write(&b->mem, Q_BASE + 16ULL * b->tail, d, 16);
    b->tail = (b->tail + 1) % 256;
}

/* Descriptors + a wait (type 5, SW) writing a fresh number, IQT, poll the status word. */
static void bq_submit(struct bq *b, uint64_t lo, uint64_t hi)
{
    bq_put(b, lo, hi);
    uint32_t seq = ++b->seq;
    bq_put(b, 5 | 1ULL << 5 | (uint64_t)seq << 32, Q_STATUS);
    sio_vtd_mmio_write(b->u, 0x88, (uint64_t)b->tail << 4, 4);
    for (unsigned i = 0;; i++) {
        uint32_t st = 0;
        sio_mem_read32(&b->mem, Q_STATUS, &st);
        if (st == seq)
            return;
        if (i > 1000000) {
            b->failed = 1;
            return;
        }
    }
}

static void op_psi(void *ctx, uint64_t n)
{
    struct bq *b = ctx;
    /* Type 2, G=3 (page-selective), DID 1; address 0x40000000, AM 0, IH 0. */
    const uint64_t lo = 2 | 3 << 4 | 1ULL << 16, hi = 0x40000000;
    for (uint64_t i = 0; i < n; i++)
        bq_submit(b, lo, hi);
}

int bench_qi_iotlb_psi(struct bench_result *r)
{
    struct bq b;
    int rc = bq_setup(&b);
    if (rc)
        return rc;
    bench_measure(op_psi, &b, r);
    rc = b.failed ? SIO_ETIMEDOUT : 0;
    bq_fini(&b);
    return rc;
}

struct bmsi {
    struct sio_vtd *u;
    uint64_t addr;
    uint32_t sum;
    int bad;
};

static void op_msi(void *ctx, uint64_t n)
{
    struct bmsi *m = ctx;
    struct sio_irq o;
    for (uint64_t i = 0; i < n; i++) {
        if (sio_vtd_msi(m->u, 0x0010, m->addr, 0, &o))
            m->bad = 1;
        m->sum += o.vector;
    }
}

int bench_msi_remap_hit(struct bench_result *r)
{
    struct bq b;
    int rc = bq_setup(&b);
    if (rc)
        return rc;
    /* IRTE 5: vector 0x41, APIC id 3 (DST 15:8), SVT 01 / SQ 00 for 00:02.0 (Linux's MSI
     * entry). Linux's enable: IRTA (S = 7), SIRTP, global IEC, IRE. */
    sio_mem_write64(&b.mem, Q_IRT + 16 * 5, 1 | 1ULL << 3 | 0x41ULL << 16 | 3ULL << 40);
    sio_mem_write64(&b.mem, Q_IRT + 16 * 5 + 8, 0x0010 | 1ULL << 18);
    sio_vtd_mmio_write(b.u, 0xb8, Q_IRT | 7, 8);
    sio_vtd_mmio_write(b.u, 0x18, 1u << 26 | 1u << 24, 4);
    bq_submit(&b, 4, 0);
    sio_vtd_mmio_write(b.u, 0x18, 1u << 26 | 1u << 25, 4);
    struct bmsi m = {b.u, 0xFEE00000 | 5 << 5 | 1 << 4, 0, 0};
    struct sio_irq o;
    rc = sio_vtd_msi(b.u, 0x0010, m.addr, 0, &o); /* now cached */
    if (!rc && o.vector != 0x41)
        rc = SIO_EIO;
    if (!rc) {
        bench_measure(op_msi, &m, r);
        if (m.bad)
            rc = SIO_EIO;
    }
    struct sio_vtd_ext_stats st;
    sio_vtd_get_ext_stats(b.u, &st);
    if (!rc && st.iec_misses != 1)
        rc = SIO_EIO; /* every measured remap must have hit the entry cache */
    bq_fini(&b);
    return rc;
}

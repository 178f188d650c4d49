/* Helpers for the queued-invalidation, interrupt-remapping, posted-interrupt and ATS tests:
 * register offsets and bits, descriptors and IRTEs, all written from the spec's bit positions
 * (VT-d 1, 5, 6) as plain numbers, never through the model's code. */
#ifndef SIO_TEST_VTD_QI_H
#define SIO_TEST_VTD_QI_H

#include "test_vtd_tables.h"

#include <softiommu/bits.h>
#include <softiommu/err.h>

enum {
    R_IQH = 0x80,
    R_IQT = 0x88,
    R_IQA = 0x90,
    R_ICS = 0x9c,
    R_IECTL = 0xa0,
    R_IEDATA = 0xa4,
    R_IEADDR = 0xa8,
    R_IEUADDR = 0xac,
    R_IQERCD = 0xb0,
    R_IRTA = 0xb8,
};
#define GCMD_QIE   (1u << 26)
#define GCMD_IRE   (1u << 25)
#define GCMD_SIRTP (1u << 24)
#define GCMD_CFI   (1u << 23)
#define GSTS_TES   (1u << 31)
#define GSTS_QIES  (1u << 26)
#define GSTS_IRES  (1u << 25)
#define GSTS_IRTPS (1u << 24)
#define GSTS_CFIS  (1u << 23)
#define FSTS_IQE   (1u << 4)
#define FSTS_ICE   (1u << 5)
#define FSTS_ITE   (1u << 6)
#define ICS_IWC    1u
#define IQEI(v)    ((unsigned)((v)&0xf))
#define ITESID(v)  ((unsigned)(((v) >> 32) & 0xffff))
#define ICESID(v)  ((unsigned)(((v) >> 48) & 0xffff))

/* Descriptors (VT-d 5): type in 3:0 (and 11:9). */
static inline struct sio_u128 d_cc(unsigned g, unsigned did, unsigned sid, unsigned fm)
{
    struct sio_u128 d = {
        1 | (uint64_t)g << 4 | (uint64_t)did << 16 | (uint64_t)sid << 32 | (uint64_t)fm << 48, 0};
    return d;
}
static inline struct sio_u128 d_iotlb(unsigned g, unsigned did, uint64_t addr, unsigned am,
                                      unsigned ih)
{
    struct sio_u128 d = {2 | (uint64_t)g << 4 | (uint64_t)did << 16, addr | (uint64_t)ih << 6 | am};
    return d;
}
static inline struct sio_u128 d_devtlb(unsigned sid, unsigned mip, uint64_t addr, unsigned s)
{
    struct sio_u128 d = {3 | (uint64_t)mip << 16 | (uint64_t)sid << 32, addr | s};
    return d;
}
/* g: 0 global, 1 index-selective. */
static inline struct sio_u128 d_iec(unsigned g, unsigned im, unsigned idx)
{
    struct sio_u128 d = {4 | (uint64_t)g << 4 | (uint64_t)im << 27 | (uint64_t)idx << 32, 0};
    return d;
}
static inline struct sio_u128 d_wait(unsigned iflag, unsigned sw, unsigned fn, uint32_t data,
                                     uint64_t addr)
{
    struct sio_u128 d = {5 | (uint64_t)iflag << 4 | (uint64_t)sw << 5 | (uint64_t)fn << 6 |
                             (uint64_t)data << 32,
                         addr};
    return d;
}

/* A unit with its invalidation queue: 2^qs pages at base, software's tail, a status word. */
struct qt {
    struct vt t;
    uint64_t base, status;
    unsigned n, tail;
    uint32_t gcmd; /* Linux's shadow of the level bits */
};

static inline uint32_t vt_r32(struct vt *t, uint64_t pa)
{
    uint32_t v = 0;
    assert_int_equal(sio_mem_read32(&(struct sio_mem){t->ops, t->pm}, pa, &v), 0);
    return v;
}
static inline void vt_w32(struct vt *t, uint64_t pa, uint32_t v)
{
    assert_int_equal(sio_mem_write32(&(struct sio_mem){t->ops, t->pm}, pa, v), 0);
}

/* Linux dmar_enable_qi: IQT=0, IQA (base | QS), QIE, poll QIES. */
static inline void qt_enable(struct qt *q, unsigned qs)
{
    q->base = vt_page(&q->t);
    for (unsigned i = 1; i < (1u << qs); i++)
        vt_page(&q->t); /* contiguous: the allocator bumps */
    q->status = vt_page(&q->t);
    q->n = 256u << qs;
    q->tail = 0;
    wr32(&q->t, R_IQT, 0);
    wr64(&q->t, R_IQA, q->base | qs);
    q->gcmd |= GCMD_QIE;
    wr32(&q->t, R_GCMD, q->gcmd);
    vt_poll(&q->t, R_GSTS, 4, GSTS_QIES, GSTS_QIES);
}

static inline void qt_init(struct qt *q, const struct sio_vtd_config *cfg, unsigned qs)
{
    memset(q, 0, sizeof(*q));
    vt_init(&q->t, cfg);
    qt_enable(q, qs);
}

static inline void qt_put(struct qt *q, struct sio_u128 d)
{
    uint64_t pa = q->base + 16ULL * q->tail;
    vt_w64(&q->t, pa, d.lo);
    vt_w64(&q->t, pa + 8, d.hi);
    q->tail = (q->tail + 1) % q->n;
}

/* Moves IQT to software's tail (a 32-bit write, as Linux's writel). */
static inline void qt_kick(struct qt *q)
{
    wr32(&q->t, R_IQT, q->tail << 4);
}

static inline unsigned qt_head(struct qt *q)
{
    return (unsigned)((rd64(&q->t, R_IQH) >> 4) & 0x7fff);
}

/* Linux qi_submit_sync: descriptors, a wait with SW=1 writing QI_DONE (2) over QI_IN_USE (1)
 * in the status word, IQT, then poll the status word (and FSTS for queue errors). Returns 0
 * when the wait completed, or the FSTS error bits seen. */
static inline uint32_t qt_submit_sync(struct qt *q, const struct sio_u128 *d, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        qt_put(q, d[i]);
    vt_w32(&q->t, q->status, 1);
    qt_put(q, d_wait(0, 1, 0, 2, q->status));
    qt_kick(q);
    for (int i = 0; i < 1000; i++) {
        if (vt_r32(&q->t, q->status) == 2)
            return 0;
        uint32_t f = rd32(&q->t, R_FSTS) & (FSTS_IQE | FSTS_ITE | FSTS_ICE);
        if (f)
            return f;
    }
    fail_msg("wait descriptor never completed");
    return ~0u;
}

/* ---- interrupt remapping (VT-d 6) --------------------------------------------------------- */

/* Remapped-format IRTE: lo = P 0 | FPD 1 | DM 2 | RH 3 | TM 4 | DLM 7:5 | V 23:16 | DST 63:32;
 * hi = SID 79:64 | SQ 81:80 | SVT 83:82. */
struct irte_f {
    unsigned vector;
    uint32_t dst; /* the DST field as written: xAPIC id << 8, or the x2APIC id */
    unsigned dlm, tm, dm, rh, fpd;
    unsigned svt, sq, sid;
};
static inline struct sio_u128 irte_remap(const struct irte_f *f)
{
    struct sio_u128 e;
    e.lo = 1 | (uint64_t)f->fpd << 1 | (uint64_t)f->dm << 2 | (uint64_t)f->rh << 3 |
           (uint64_t)f->tm << 4 | (uint64_t)f->dlm << 5 | (uint64_t)f->vector << 16 |
           (uint64_t)f->dst << 32;
    e.hi = (uint64_t)f->sid | (uint64_t)f->sq << 16 | (uint64_t)f->svt << 18;
    return e;
}
/* Posted-format IRTE: lo = P | FPD 1 | URG 14 | IM 15 | VV 23:16 | PDA[31:6] in 63:38;
 * hi = SID/SQ/SVT | PDA[63:32] in 127:96. */
static inline struct sio_u128 irte_posted(unsigned vv, uint64_t pda, unsigned urg, unsigned svt,
                                          unsigned sq, unsigned sid)
{
    struct sio_u128 e;
    e.lo = 1 | (uint64_t)urg << 14 | 1ULL << 15 | (uint64_t)vv << 16 |
           ((pda >> 6) & 0x3FFFFFFULL) << 38;
    e.hi = (uint64_t)sid | (uint64_t)sq << 16 | (uint64_t)svt << 18 | (pda >> 32) << 32;
    return e;
}

static inline void irte_write(struct vt *t, uint64_t irt, unsigned index, struct sio_u128 e)
{
    vt_w64(t, irt + 16ULL * index, e.lo);
    vt_w64(t, irt + 16ULL * index + 8, e.hi);
}

/* Linux's interrupt-remapping enable (VT-d 6): IRTA = base | EIME << 11 | S, SIRTP and poll
 * IRTPS, global IEC through the queue, IRE and poll IRES, then CFI cleared if CFIS is set. */
static inline void qt_ir_enable(struct qt *q, uint64_t irt, unsigned s, int eime)
{
    struct vt *t = &q->t;
    wr64(t, R_IRTA, irt | (uint64_t)(eime ? 1 : 0) << 11 | s);
    wr32(t, R_GCMD, q->gcmd | GCMD_SIRTP);
    vt_poll(t, R_GSTS, 4, GSTS_IRTPS, GSTS_IRTPS);
    struct sio_u128 iec = d_iec(0, 0, 0);
    assert_int_equal(qt_submit_sync(q, &iec, 1), 0);
    q->gcmd |= GCMD_IRE;
    wr32(t, R_GCMD, q->gcmd);
    uint32_t sts = (uint32_t)vt_poll(t, R_GSTS, 4, GSTS_IRES, GSTS_IRES);
    if (sts & GSTS_CFIS) {
        q->gcmd &= ~GCMD_CFI;
        wr32(t, R_GCMD, q->gcmd);
        vt_poll(t, R_GSTS, 4, GSTS_CFIS, 0);
    }
}

/* Linux's modify_irte: write the entry, then an index-selective IEC (IM = mask) + wait. */
static inline void qt_irte_update(struct qt *q, uint64_t irt, unsigned index, struct sio_u128 e)
{
    irte_write(&q->t, irt, index, e);
    struct sio_u128 iec = d_iec(1, 0, index);
    assert_int_equal(qt_submit_sync(q, &iec, 1), 0);
}

/* The remappable MSI for a handle, hand-built: 0xFEE | handle[14:0] << 5 | 1 << 4 | SHV << 3 |
 * handle[15] << 2. */
static inline uint64_t msi_addr(unsigned handle, unsigned shv)
{
    return 0xFEE00000ULL | (uint64_t)(handle & 0x7FFF) << 5 | 1u << 4 | (uint64_t)shv << 3 |
           (uint64_t)(handle >> 15) << 2;
}

static inline void qt_fini(struct qt *q)
{
    vt_fini(&q->t);
}

#endif

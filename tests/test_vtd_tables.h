/* Helpers for the VT-d model tests: a unit over pmem, MMIO shorthands, and hand-built
 * translation tables. Every table entry is written here from the spec's bit positions
 * (VT-d 2) as plain numbers, never through the model's own code, so the tests check the
 * model against the spec and not against itself. */
#ifndef SIO_TEST_VTD_TABLES_H
#define SIO_TEST_VTD_TABLES_H

#include "test_util.h"

#include <softiommu/mem.h>
#include <softiommu/vtd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Register offsets, written out (VT-d 1). */
enum {
    R_VER = 0x00,
    R_CAP = 0x08,
    R_ECAP = 0x10,
    R_GCMD = 0x18,
    R_GSTS = 0x1c,
    R_RTADDR = 0x20,
    R_CCMD = 0x28,
    R_FSTS = 0x34,
    R_FECTL = 0x38,
    R_FEDATA = 0x3c,
    R_FEADDR = 0x40,
    R_FEUADDR = 0x44,
    R_IVA = 0xf0,   /* IRO 0xF */
    R_IOTLB = 0xf8, /* IRO*16 + 8 */
    R_FRCD = 0x220, /* FRO 0x22 */
};
#define GCMD_TE   0x80000000u
#define GCMD_SRTP 0x40000000u
#define GCMD_WBF  0x08000000u
#define FECTL_IM  0x80000000u
#define FECTL_IP  0x40000000u
#define FSTS_PFO  0x1u
#define FSTS_PPF  0x2u
#define CCMD_ICC  (1ULL << 63)
#define IOTLB_IVT (1ULL << 63)
/* CCMD CIRG (62:61) and IOTLB IIRG (61:60). */
#define CCMD_GLOBAL   (1ULL << 61)
#define CCMD_DOMAIN   (2ULL << 61)
#define CCMD_DEVICE   (3ULL << 61)
#define IOTLB_GLOBAL  (1ULL << 60)
#define IOTLB_DOMAIN  (2ULL << 60)
#define IOTLB_PAGE    (3ULL << 60)
#define CCMD_CAIG(v)  (((v) >> 59) & 3)
#define IOTLB_IAIG(v) (((v) >> 57) & 3)

#define MSI_LOG_MAX 16
struct msi_log {
    unsigned n;
    uint64_t addr[MSI_LOG_MAX];
    uint32_t data[MSI_LOG_MAX];
};

static inline void msi_log_fn(void *ctx, uint64_t addr, uint32_t data)
{
    struct msi_log *l = ctx;
    if (l->n < MSI_LOG_MAX) {
        l->addr[l->n] = addr;
        l->data[l->n] = data;
    }
    l->n++;
}

struct vt {
    struct sio_pmem *pm;
    const struct sio_mem_ops *ops;
    struct sio_vtd *u;
    struct sio_irq_ops irq;
    struct msi_log msis;
    uint64_t next_page; /* bump allocator for table pages */
    uint64_t root;      /* root table */
};

static inline void vt_init_mem(struct vt *t, const struct sio_vtd_config *cfg, uint64_t mem_size)
{
    memset(t, 0, sizeof(*t));
    t->pm = sio_pmem_create(mem_size);
    assert_non_null(t->pm);
    t->ops = sio_pmem_ops();
    t->irq.msi = msi_log_fn;
    t->u = sio_vtd_create(cfg, t->ops, t->pm, &t->irq, &t->msis);
    assert_non_null(t->u);
    t->next_page = 0x100000; /* tables from 1 MiB up */
    t->root = 0;
}

static inline void vt_init(struct vt *t, const struct sio_vtd_config *cfg)
{
    vt_init_mem(t, cfg, 1ULL << 36);
}

static inline void vt_fini(struct vt *t)
{
    sio_vtd_destroy(t->u);
    sio_pmem_destroy(t->pm);
}

static inline uint64_t vt_page(struct vt *t)
{
    uint64_t pa = t->next_page;
    t->next_page += 4096;
    assert_int_equal(sio_mem_zero(&(struct sio_mem){t->ops, t->pm}, pa, 4096), 0);
    return pa;
}

static inline void vt_w64(struct vt *t, uint64_t pa, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    assert_int_equal(t->ops->write(t->pm, pa, b, 8), 0);
}

static inline uint64_t vt_r64(struct vt *t, uint64_t pa)
{
    uint8_t b[8];
    assert_int_equal(t->ops->read(t->pm, pa, b, 8), 0);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

static inline uint64_t rd64(struct vt *t, uint64_t off)
{
    return sio_vtd_mmio_read(t->u, off, 8);
}
static inline uint32_t rd32(struct vt *t, uint64_t off)
{
    return (uint32_t)sio_vtd_mmio_read(t->u, off, 4);
}
static inline void wr64(struct vt *t, uint64_t off, uint64_t v)
{
    sio_vtd_mmio_write(t->u, off, v, 8);
}
static inline void wr32(struct vt *t, uint64_t off, uint32_t v)
{
    sio_vtd_mmio_write(t->u, off, v, 4);
}

/* Root entry (VT-d 2): lo = CTP | P. */
static inline void vt_root_entry(struct vt *t, unsigned bus, uint64_t lo, uint64_t hi)
{
    vt_w64(t, t->root + 16 * bus, lo);
    vt_w64(t, t->root + 16 * bus + 8, hi);
}
/* Context entry: lo = SLPTPTR | TT << 2 | FPD << 1 | P; hi = DID << 8 | AW. */
static inline uint64_t ctx_lo(uint64_t slpt, unsigned tt, unsigned fpd)
{
    return slpt | ((uint64_t)tt << 2) | ((uint64_t)fpd << 1) | 1;
}
static inline uint64_t ctx_hi(unsigned aw, unsigned did)
{
    return ((uint64_t)did << 8) | aw;
}

/* The context table of a bus, created (and hooked into the root table) on first use. */
static inline uint64_t vt_ctx_table(struct vt *t, unsigned bus)
{
    uint64_t lo = vt_r64(t, t->root + 16 * bus);
    if (lo & 1)
        return lo & ~0xfffULL;
    uint64_t ct = vt_page(t);
    vt_root_entry(t, bus, ct | 1, 0);
    return ct;
}

static inline void vt_ctx_entry(struct vt *t, uint16_t sid, uint64_t lo, uint64_t hi)
{
    uint64_t ct = vt_ctx_table(t, sid >> 8);
    vt_w64(t, ct + 16 * (sid & 0xff), lo);
    vt_w64(t, ct + 16 * (sid & 0xff) + 8, hi);
}

/* A fresh root table and sid's context entry (TT=00, FPD fpd, AW aw, DID did) pointing at a
 * fresh, empty second-level table, whose address is returned. Pages are taken in this order:
 * root table, second-level table, the bus's context table. */
static inline uint64_t vt_one_device(struct vt *t, uint16_t sid, unsigned fpd, unsigned aw,
                                     unsigned did)
{
    t->root = vt_page(t);
    uint64_t top = vt_page(t);
    vt_ctx_entry(t, sid, ctx_lo(top, 0, fpd), ctx_hi(aw, did));
    return top;
}

/* Map iova -> pa in the second-level table rooted at top (levels 3, 4 or 5) with a leaf at
 * leaf_level (1: 4K, 2: 2M, 3: 1G). Non-leaf entries are created R|W; perm is the leaf's R/W
 * bits (R = 1, W = 2). Returns the leaf entry's address. */
static inline uint64_t vt_map(struct vt *t, uint64_t top, unsigned levels, uint64_t iova,
                              uint64_t pa, unsigned leaf_level, unsigned perm)
{
    uint64_t table = top;
    for (unsigned l = levels; l > leaf_level; l--) {
        uint64_t ea = table + 8 * ((iova >> (12 + 9 * (l - 1))) & 0x1ff);
        uint64_t e = vt_r64(t, ea);
        if (!(e & 3)) {
            e = vt_page(t) | 3;
            vt_w64(t, ea, e);
        }
        table = e & 0x000ffffffffff000ULL;
    }
    uint64_t ea = table + 8 * ((iova >> (12 + 9 * (leaf_level - 1))) & 0x1ff);
    vt_w64(t, ea, pa | perm | (leaf_level > 1 ? 0x80 : 0));
    return ea;
}

/* Address of the entry at `level` on iova's path (which must exist down to that level). */
static inline uint64_t vt_entry_addr(struct vt *t, uint64_t top, unsigned levels, uint64_t iova,
                                     unsigned level)
{
    uint64_t table = top;
    for (unsigned l = levels; l > level; l--)
        table =
            vt_r64(t, table + 8 * ((iova >> (12 + 9 * (l - 1))) & 0x1ff)) & 0x000ffffffffff000ULL;
    return table + 8 * ((iova >> (12 + 9 * (level - 1))) & 0x1ff);
}

/* Spin on a register as a driver would, with a bound. */
static inline uint64_t vt_poll(struct vt *t, uint64_t off, unsigned size, uint64_t mask,
                               uint64_t want)
{
    uint64_t v = 0;
    for (int i = 0; i < 1000; i++) {
        v = sio_vtd_mmio_read(t->u, off, size);
        if ((v & mask) == want)
            return v;
    }
    fail_msg("register 0x%llx never reached 0x%llx under mask 0x%llx (last 0x%llx)",
             (unsigned long long)off, (unsigned long long)want, (unsigned long long)mask,
             (unsigned long long)v);
    return v;
}

/* Linux's bring-up (intel-iommu init_dmars): root table address, SRTP and wait for RTPS,
 * global context-cache flush, global IOTLB flush, then TE and wait for TES. Linux keeps a
 * shadow of the level bits and writes shadow | command. */
static inline void vt_linux_bringup(struct vt *t)
{
    if (!t->root)
        t->root = vt_page(t);
    wr64(t, R_RTADDR, t->root);
    wr32(t, R_GCMD, GCMD_SRTP);
    vt_poll(t, R_GSTS, 4, 0x40000000u, 0x40000000u);
    wr64(t, R_CCMD, CCMD_ICC | CCMD_GLOBAL);
    uint64_t c = vt_poll(t, R_CCMD, 8, CCMD_ICC, 0);
    assert_int_equal(CCMD_CAIG(c), 1);
    wr64(t, R_IVA, 0);
    wr64(t, R_IOTLB, IOTLB_IVT | IOTLB_GLOBAL);
    uint64_t i = vt_poll(t, R_IOTLB, 8, IOTLB_IVT, 0);
    assert_int_equal(IOTLB_IAIG(i), 1);
    wr32(t, R_GCMD, GCMD_TE);
    vt_poll(t, R_GSTS, 4, 0x80000000u, 0x80000000u);
}

static inline unsigned vt_ccmd(struct vt *t, uint64_t cmd)
{
    wr64(t, R_CCMD, CCMD_ICC | cmd);
    return (unsigned)CCMD_CAIG(vt_poll(t, R_CCMD, 8, CCMD_ICC, 0));
}

static inline unsigned vt_iotlb(struct vt *t, uint64_t iva, uint64_t cmd)
{
    wr64(t, R_IVA, iva);
    wr64(t, R_IOTLB, IOTLB_IVT | cmd);
    return (unsigned)IOTLB_IAIG(vt_poll(t, R_IOTLB, 8, IOTLB_IVT, 0));
}

/* Translate and, on an unexpected result, print the debug walk. */
static inline int vt_xlate(struct vt *t, uint16_t sid, uint64_t iova, unsigned access,
                           struct sio_xlate *x)
{
    return sio_vtd_translate(t->u, sid, iova, access, x);
}

static inline void vt_dump(struct vt *t, uint16_t sid, uint64_t iova, unsigned access)
{
    char buf[4096];
    sio_vtd_walk_dump(t->u, sid, iova, access, buf, sizeof(buf));
    print_message("%s", buf);
}

#define expect_xlate(t, sid, iova, access, want_fr, want_pa)                                       \
    do {                                                                                           \
        struct sio_xlate x_;                                                                       \
        int fr_ = vt_xlate((t), (sid), (iova), (access), &x_);                                     \
        if (fr_ != (int)(want_fr) || (!fr_ && x_.pa != (uint64_t)(want_pa))) {                     \
            print_message("translate sid %04x iova 0x%llx access %u: got fr %d pa 0x%llx, want "   \
                          "fr %d pa 0x%llx\n",                                                     \
                          (unsigned)(sid), (unsigned long long)(iova), (unsigned)(access), fr_,    \
                          (unsigned long long)x_.pa, (int)(want_fr),                               \
                          (unsigned long long)(want_pa));                                          \
            vt_dump((t), (sid), (iova), (access));                                                 \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* Fault record i as (hi, lo). */
static inline void vt_frcd(struct vt *t, unsigned i, uint64_t *hi, uint64_t *lo)
{
    *lo = rd64(t, R_FRCD + 16 * i);
    *hi = rd64(t, R_FRCD + 16 * i + 8);
}
/* Expected FRCD hi for a legacy DMA fault (VT-d 1): F | T1(read) | FR | SID. */
static inline uint64_t frcd_hi(unsigned sid, unsigned fr, int read)
{
    return (1ULL << 63) | ((uint64_t)(read ? 1 : 0) << 62) | ((uint64_t)fr << 32) | sid;
}

#endif

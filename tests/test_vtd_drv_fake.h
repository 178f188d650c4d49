/* A minimal VT-d register file written for the driver tests: it is not the model, just enough
 * silicon to watch what the driver does. GCMD/GSTS, RTADDR, CCMD, IVA/IOTLB, FSTS, FECTL group,
 * fault records, and an invalidation queue that executes context, IOTLB and wait descriptors
 * when IQT moves. Every command it receives goes into an event log the tests check order on.
 * Register layout: IRO = 0x50 (IVA 0x500, IOTLB 0x508), FRO = 0x40 (FRCD[i] at 0x400 + 16 i).
 * Also the driver tests' memory (struct wmem) and MSI recorder (struct msi_last).
 * Included only by tests/test_vtd_drv*.c. */
#ifndef TEST_VTD_DRV_FAKE_H
#define TEST_VTD_DRV_FAKE_H

#include <softiommu/mem.h>
#include <softiommu/vtd.h> /* struct sio_irq_ops */
#include <softiommu/vtd_driver.h>
#include <softiommu/vtd_regs.h>

#include <string.h>

#define FK_IRO  0x50
#define FK_FRO  0x40
#define FK_NFR  4
#define FK_IVA  0x500
#define FK_TLB  0x508
#define FK_FRCD 0x400

enum fk_ev {
    EV_GCMD = 1, /* a: value written */
    EV_RTADDR,   /* a: value */
    EV_CC,       /* a: granularity, b: did | sid << 16 (register or descriptor) */
    EV_IOTLB,    /* a: granularity, b: did, c: IVA (addr | IH << 6 | AM) */
    EV_WAIT,     /* a: status data, b: status address */
    EV_FECTL,    /* a: value */
    EV_IQA,      /* a: value */
};

struct fk_event {
    int kind;
    uint64_t a, b, c;
    int qi; /* came through the queue */
};

struct fake {
    uint32_t ver;
    uint64_t cap, ecap;
    uint32_t gsts;
    uint64_t rtaddr, ccmd, iva, iotlb;
    uint32_t fsts, fectl, fedata, feaddr, feuaddr, pmen;
    uint64_t iqa, iqt, iqh, iqercd;
    uint64_t frcd[FK_NFR][2];
    unsigned fri;
    struct sio_mem mem; /* what the unit reads its queue from */
    int stuck_gsts;     /* GSTS never follows GCMD */
    int iqe_next;       /* the next IOTLB descriptor is reported as an invalid descriptor */
    int refuse_psi;     /* page-selective register invalidations answer IAIG=00 */
    int multi_cmd;      /* GCMD writes that changed more than one command */
    unsigned wbf;
    struct fk_event ev[4096];
    unsigned nev;
};

static inline void fk_log(struct fake *f, int kind, uint64_t a, uint64_t b, uint64_t c, int qi)
{
    if (f->nev < sizeof(f->ev) / sizeof(f->ev[0]))
        f->ev[f->nev++] = (struct fk_event){kind, a, b, c, qi};
}

/* CAP/ECAP for a unit: aw_mask = SAGAW bits, the rest as named. */
static inline void fk_init(struct fake *f, const struct sio_mem *mem, unsigned sagaw, unsigned mgaw,
                           int qi, int cm, int rwbf, unsigned sllps, int pt, int psi, unsigned mamv)
{
    memset(f, 0, sizeof(*f));
    f->mem = *mem;
    f->ver = 0x10;
    uint64_t cap = 0;
    cap = sio_set64(cap, SIO_VTD_CAP_ND, 2); /* 256 domains */
    cap = sio_set64(cap, SIO_VTD_CAP_RWBF, rwbf);
    cap = sio_set64(cap, SIO_VTD_CAP_CM, cm);
    cap = sio_set64(cap, SIO_VTD_CAP_SAGAW, sagaw);
    cap = sio_set64(cap, SIO_VTD_CAP_MGAW, mgaw - 1);
    cap = sio_set64(cap, SIO_VTD_CAP_FRO, FK_FRO);
    cap = sio_set64(cap, SIO_VTD_CAP_SLLPS, sllps);
    cap = sio_set64(cap, SIO_VTD_CAP_PSI, psi);
    cap = sio_set64(cap, SIO_VTD_CAP_NFR, FK_NFR - 1);
    cap = sio_set64(cap, SIO_VTD_CAP_MAMV, mamv);
    f->cap = cap;
    uint64_t ecap = 0;
    ecap = sio_set64(ecap, SIO_VTD_ECAP_QI, qi);
    ecap = sio_set64(ecap, SIO_VTD_ECAP_PT, pt);
    ecap = sio_set64(ecap, SIO_VTD_ECAP_IRO, FK_IRO);
    f->ecap = ecap;
    f->fectl = SIO_VTD_FECTL_IM;
}

static inline void fk_ppf(struct fake *f)
{
    int any = 0;
    for (int i = 0; i < FK_NFR; i++)
        any |= (int)(f->frcd[i][1] >> 63);
    f->fsts = (f->fsts & ~SIO_VTD_FSTS_PPF) | (any ? SIO_VTD_FSTS_PPF : 0);
    f->fsts = (uint32_t)sio_set64(f->fsts, SIO_VTD_FSTS_FRI, f->fri);
}

static inline void fk_run_queue(struct fake *f)
{
    uint64_t base = f->iqa & sio_mask64(63, 12);
    unsigned n = 256u << sio_get64(f->iqa, SIO_VTD_IQA_QS);
    while (f->iqh != f->iqt && !(f->fsts & SIO_VTD_FSTS_IQE)) {
        unsigned slot = (unsigned)(f->iqh >> 4) % n;
        uint8_t b[16];
        sio_mem_read(&f->mem, base + 16ULL * slot, b, 16);
        struct sio_u128 q = sio_ld128le(b);
        unsigned type = (unsigned)(sio_get64(q.lo, SIO_VTD_DESC_TYPE_LO) |
                                   (sio_get64(q.lo, SIO_VTD_DESC_TYPE_HI) << 4));
        switch (type) {
        case SIO_VTD_DESC_CC:
            fk_log(f, EV_CC, sio_get64(q.lo, SIO_VTD_CC_G),
                   sio_get64(q.lo, SIO_VTD_CC_DID) | (sio_get64(q.lo, SIO_VTD_CC_SID) << 16), 0, 1);
            break;
        case SIO_VTD_DESC_IOTLB:
            if (f->iqe_next) {
                f->iqe_next = 0;
                f->fsts |= SIO_VTD_FSTS_IQE;
                f->iqercd = SIO_VTD_IQEI_RSVD;
                return; /* IQH stays on the bad descriptor */
            }
            fk_log(f, EV_IOTLB, sio_get64(q.lo, SIO_VTD_IOTLBD_G),
                   sio_get64(q.lo, SIO_VTD_IOTLBD_DID), q.hi, 1);
            break;
        case SIO_VTD_DESC_WAIT: {
            uint64_t addr = sio_get64(q.hi, SIO_VTD_WAIT_SADDR) << 2;
            uint32_t data = (uint32_t)sio_get64(q.lo, SIO_VTD_WAIT_SDATA);
            fk_log(f, EV_WAIT, data, addr, 0, 1);
            if (sio_get64(q.lo, SIO_VTD_WAIT_SW))
                sio_mem_write32(&f->mem, addr, data);
            break;
        }
        default:
            f->fsts |= SIO_VTD_FSTS_IQE;
            f->iqercd = SIO_VTD_IQEI_BAD_TYPE;
            return;
        }
        f->iqh = ((f->iqh >> 4) + 1) % n << 4;
    }
}

static inline uint64_t fk_read(void *ctx, uint64_t off, unsigned size)
{
    struct fake *f = ctx;
    (void)size;
    if (off >= FK_FRCD && off < FK_FRCD + 16 * FK_NFR) {
        unsigned i = (unsigned)(off - FK_FRCD) / 16, sub = (unsigned)(off - FK_FRCD) % 16;
        return sub == 0 ? f->frcd[i][0] : sub == 8 ? f->frcd[i][1] : f->frcd[i][1] >> 32;
    }
    switch (off) {
    case SIO_VTD_REG_VER:
        return f->ver;
    case SIO_VTD_REG_CAP:
        return f->cap;
    case SIO_VTD_REG_ECAP:
        return f->ecap;
    case SIO_VTD_REG_GSTS:
        return f->gsts;
    case SIO_VTD_REG_RTADDR:
        return f->rtaddr;
    case SIO_VTD_REG_CCMD:
        return f->ccmd;
    case SIO_VTD_REG_FSTS:
        return f->fsts;
    case SIO_VTD_REG_FECTL:
        return f->fectl;
    case SIO_VTD_REG_PMEN:
        return f->pmen;
    case SIO_VTD_REG_IQH:
        return f->iqh;
    case SIO_VTD_REG_IQT:
        return f->iqt;
    case SIO_VTD_REG_IQA:
        return f->iqa;
    case SIO_VTD_REG_IQERCD:
        return f->iqercd;
    case FK_IVA:
        return f->iva;
    case FK_TLB:
        return f->iotlb;
    }
    return 0;
}

static inline void fk_write(void *ctx, uint64_t off, uint64_t v, unsigned size)
{
    struct fake *f = ctx;
    (void)size;
    if (off >= FK_FRCD && off < FK_FRCD + 16 * FK_NFR) {
        unsigned i = (unsigned)(off - FK_FRCD) / 16, sub = (unsigned)(off - FK_FRCD) % 16;
        if (sub == 12 && (v & (1u << 31)))
            f->frcd[i][1] &= ~(1ULL << 63); /* F is RW1C */
        fk_ppf(f);
        return;
    }
    switch (off) {
    case SIO_VTD_REG_GCMD: {
        fk_log(f, EV_GCMD, v, 0, 0, 0);
        uint32_t cmd = (uint32_t)v, old = f->gsts;
        uint32_t level = SIO_VTD_GCMD_TE | SIO_VTD_GCMD_QIE | SIO_VTD_GCMD_IRE | SIO_VTD_GCMD_CFI;
        unsigned changes = (unsigned)__builtin_popcount((cmd ^ old) & level) +
                           (unsigned)__builtin_popcount(
                               cmd & (SIO_VTD_GCMD_SRTP | SIO_VTD_GCMD_WBF | SIO_VTD_GCMD_SIRTP));
        if (changes > 1)
            f->multi_cmd++;
        if (f->stuck_gsts)
            return;
        f->gsts = (old & ~level) | (cmd & level);
        if (cmd & SIO_VTD_GCMD_SRTP)
            f->gsts |= SIO_VTD_GSTS_RTPS;
        if (cmd & SIO_VTD_GCMD_WBF)
            f->wbf++;
        if (!(f->gsts & SIO_VTD_GSTS_QIES))
            f->iqh = 0;
        break;
    }
    case SIO_VTD_REG_RTADDR:
        f->rtaddr = v;
        fk_log(f, EV_RTADDR, v, 0, 0, 0);
        break;
    case SIO_VTD_REG_CCMD:
        if (v & SIO_VTD_CCMD_ICC_BIT) {
            uint64_t g = sio_get64(v, SIO_VTD_CCMD_CIRG);
            fk_log(f, EV_CC, g,
                   sio_get64(v, SIO_VTD_CCMD_DID) | (sio_get64(v, SIO_VTD_CCMD_SID) << 16), 0, 0);
            v = sio_set64(v & ~SIO_VTD_CCMD_ICC_BIT, SIO_VTD_CCMD_CAIG, g);
        }
        f->ccmd = v;
        break;
    case FK_IVA:
        f->iva = v;
        break;
    case FK_TLB:
        if (v & SIO_VTD_IOTLB_IVT_BIT) {
            uint64_t g = sio_get64(v, SIO_VTD_IOTLB_IIRG);
            fk_log(f, EV_IOTLB, g, sio_get64(v, SIO_VTD_IOTLB_DID), g == 3 ? f->iva : 0, 0);
            v = sio_set64(v & ~SIO_VTD_IOTLB_IVT_BIT, SIO_VTD_IOTLB_IAIG,
                          (g == 3 && f->refuse_psi) ? 0 : g);
        }
        f->iotlb = v;
        break;
    case SIO_VTD_REG_FSTS:
        f->fsts &= ~((uint32_t)v &
                     (SIO_VTD_FSTS_PFO | SIO_VTD_FSTS_IQE | SIO_VTD_FSTS_ICE | SIO_VTD_FSTS_ITE));
        fk_ppf(f);
        if (f->gsts & SIO_VTD_GSTS_QIES)
            fk_run_queue(f); /* IQE cleared: fetching resumes at IQH */
        break;
    case SIO_VTD_REG_FECTL:
        f->fectl = (uint32_t)v & SIO_VTD_FECTL_IM;
        fk_log(f, EV_FECTL, v, 0, 0, 0);
        break;
    case SIO_VTD_REG_FEDATA:
        f->fedata = (uint32_t)v;
        break;
    case SIO_VTD_REG_PMEN: /* PRS follows EPM at once */
        f->pmen = ((uint32_t)v & SIO_VTD_PMEN_EPM) | (((uint32_t)v >> 31) & SIO_VTD_PMEN_PRS);
        break;
    case SIO_VTD_REG_FEADDR:
        f->feaddr = (uint32_t)v;
        break;
    case SIO_VTD_REG_FEUADDR:
        f->feuaddr = (uint32_t)v;
        break;
    case SIO_VTD_REG_IQA:
        f->iqa = v;
        fk_log(f, EV_IQA, v, 0, 0, 0);
        break;
    case SIO_VTD_REG_IQT:
        f->iqt = v & sio_mask64(18, 4);
        if (f->gsts & SIO_VTD_GSTS_QIES)
            fk_run_queue(f);
        break;
    }
}

static const struct sio_mmio_ops fk_ops = {fk_read, fk_write};

/* Memory as the driver sees it: pmem, plus a check that every write lands in the table range
 * and a log of written addresses (ordering of entry halves). */
struct wmem {
    struct sio_pmem *pm;
    uint64_t lo, hi;
    unsigned outside;
    uint64_t wlog[64];
    unsigned nw;
};

static inline int wm_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
    struct wmem *w = ctx;
    return sio_pmem_ops()->read(w->pm, pa, buf, len);
}

static inline int wm_write(void *ctx, uint64_t pa, const void *buf, size_t len)
{
    struct wmem *w = ctx;
    if (pa < w->lo || pa + len > w->hi)
        w->outside++;
    w->wlog[w->nw++ % 64] = pa;
    return sio_pmem_ops()->write(w->pm, pa, buf, len);
}

static const struct sio_mem_ops wm_ops = {wm_read, wm_write, NULL};

/* The interrupt side of a unit under the driver: how many MSIs it sent and the last one. */
struct msi_last {
    unsigned n;
    uint64_t addr;
    uint32_t data;
};

static inline void msi_last_fn(void *ctx, uint64_t addr, uint32_t data)
{
    struct msi_last *m = ctx;
    m->n++;
    m->addr = addr;
    m->data = data;
}

static const struct sio_irq_ops msi_last_ops = {msi_last_fn};

#endif

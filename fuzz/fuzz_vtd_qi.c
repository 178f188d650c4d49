/* Fuzz target: the invalidation queue (VT-d 5) fed arbitrary descriptor streams and register
 * traffic. Nothing may crash or leak, and the queue registers must stay consistent: IQH always
 * names a slot inside the queue IQA describes (0 while QI is off), IQEI is a defined code,
 * and a clean queue (no IQE/ITE) that software tops up with a wait descriptor completes it.
 *
 * Input: byte 0 configuration (bit 0: no DT, bit 1: no IR, bit 2: CM, bit 4: QS=1), byte 1
 * the device-TLB's answer (0 done, 1 pending, 2 none), then 17-byte records: an operation
 * byte and 16 bytes of operand. */
#include <softiommu/err.h>
#include <softiommu/mem.h>
#include <softiommu/vtd.h>
#include <softiommu/vtd_regs.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define QBASE  0x10000ULL
#define STATUS 0x30000ULL
#define DEVSID 0x0010

struct fz {
    struct sio_vtd *u;
    struct sio_pmem *pm;
    int answer;
    uint32_t pending; /* ITags the device owes a completion for */
    unsigned msis;
};

static void fz_msi(void *ctx, uint64_t addr, uint32_t data)
{
    (void)addr;
    (void)data;
    ((struct fz *)ctx)->msis++;
}

static int fz_dev(void *ctx, const struct sio_vtd_devtlb_inv *inv)
{
    struct fz *f = ctx;
    if (inv->sid != DEVSID || inv->itag >= 32 || inv->last < inv->addr)
        abort();
    if (f->answer == 1) {
        f->pending |= 1u << inv->itag;
        return SIO_VTD_DEVTLB_PENDING;
    }
    return f->answer == 0 ? SIO_VTD_DEVTLB_DONE : -1;
}

static uint64_t ld64(const uint8_t *p)
{
    return sio_ld64le(p);
}

static void check(struct fz *f)
{
    uint32_t gsts = (uint32_t)sio_vtd_mmio_read(f->u, SIO_VTD_REG_GSTS, 4);
    uint64_t iqa = sio_vtd_mmio_read(f->u, SIO_VTD_REG_IQA, 8);
    uint64_t iqh = sio_vtd_mmio_read(f->u, SIO_VTD_REG_IQH, 8);
    uint64_t iqercd = sio_vtd_mmio_read(f->u, SIO_VTD_REG_IQERCD, 8);
    unsigned n = 256u << sio_get64(iqa, SIO_VTD_IQA_QS);
    if (iqh & ~SIO_VTD_IQ_OFFSET_RW)
        abort();
    if (!(gsts & SIO_VTD_GSTS_QIES) && iqh)
        abort();
    if ((gsts & SIO_VTD_GSTS_QIES) && (iqh >> 4) >= n)
        abort();
    if (sio_get64(iqercd, SIO_VTD_IQERCD_IQEI) > 7)
        abort();
}

static void wr(struct fz *f, uint64_t off, uint64_t v, unsigned size)
{
    sio_vtd_mmio_write(f->u, off, v, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct fz f = {0};
    struct sio_vtd_config cfg = {.features = SIO_VTD_F_DEFAULT,
                                 .devtlb_timeout_us = 20,
                                 .iec_entries = 8,
                                 .iotlb_entries = 16};
    if (data[0] & 1)
        cfg.features &= ~SIO_VTD_F_DT;
    if (data[0] & 2)
        cfg.features &= ~SIO_VTD_F_IR;
    if (data[0] & 4)
        cfg.features |= SIO_VTD_F_CM;
    unsigned qs = (data[0] >> 4) & 1;
    f.answer = data[1] % 3;
    f.pm = sio_pmem_create(1ULL << 30);
    struct sio_irq_ops irq = {fz_msi};
    f.u = sio_vtd_create(&cfg, sio_pmem_ops(), f.pm, &irq, &f);
    if (!f.u)
        abort();
    if (cfg.features & SIO_VTD_F_DT)
        sio_vtd_devtlb_register(f.u, DEVSID, fz_dev, &f);
    struct sio_mem m = {sio_pmem_ops(), f.pm};
    unsigned n = 256u << qs, tail = 0;
    wr(&f, SIO_VTD_REG_IQT, 0, 8);
    wr(&f, SIO_VTD_REG_IQA, QBASE | qs, 8);
    wr(&f, SIO_VTD_REG_GCMD, SIO_VTD_GCMD_QIE, 4);
    static const uint32_t regs[] = {SIO_VTD_REG_IQA,    SIO_VTD_REG_ICS,    SIO_VTD_REG_IECTL,
                                    SIO_VTD_REG_IEDATA, SIO_VTD_REG_IEADDR, SIO_VTD_REG_FSTS,
                                    SIO_VTD_REG_FECTL,  SIO_VTD_REG_IQERCD, SIO_VTD_REG_IQH,
                                    SIO_VTD_REG_CCMD,   SIO_VTD_REG_IRTA,   SIO_VTD_REG_IQT};
    for (size_t p = 2; p + 17 <= size; p += 17) {
        const uint8_t *d = data + p + 1;
        uint64_t lo = ld64(d), hi = ld64(d + 8);
        switch (data[p] % 8) {
        case 0: /* raw descriptor at the tail */
        case 1: /* a descriptor of a valid type (1-5) with the operand's other bits */
            if (data[p] % 8 == 1) {
                lo = (lo & ~0xE0FULL) | (1 + (lo >> 60) % 5);
                if ((lo & 0xF) == 5)
                    hi = STATUS + (hi & 0xFFC); /* status writes land in memory */
                if ((lo & 0xF) == 3)
                    lo = (lo & ~0xFFFF00000000ULL) | (uint64_t)DEVSID << 32;
            }
            sio_mem_write64(&m, QBASE + 16ULL * tail, lo);
            sio_mem_write64(&m, QBASE + 16ULL * tail + 8, hi);
            tail = (tail + 1) % n;
            break;
        case 2:
            wr(&f, SIO_VTD_REG_IQT, (uint64_t)tail << 4, 4);
            break;
        case 3:
            wr(&f, SIO_VTD_REG_IQT, lo, 8);
            break;
        case 4: /* software clears errors (as Linux does after IQE/ITE) */
            wr(&f, SIO_VTD_REG_FSTS, (uint32_t)lo, 4);
            break;
        case 5: /* the device answers (maybe with ITags it does not owe) */
            sio_vtd_devtlb_complete(f.u, (lo & 1) ? DEVSID : (uint16_t)(lo >> 8),
                                    (hi & 1) ? f.pending : (uint32_t)(hi >> 32));
            f.pending = 0;
            break;
        case 6:
            wr(&f, regs[lo % (sizeof(regs) / sizeof(regs[0]))], hi, (lo & 0x100) ? 4 : 8);
            break;
        case 7: /* QI off and on again, or a global command */
            wr(&f, SIO_VTD_REG_GCMD, (uint32_t)hi & 0xFF800000u, 4);
            if (lo & 1) {
                wr(&f, SIO_VTD_REG_GCMD, SIO_VTD_GCMD_QIE, 4);
                tail = (unsigned)(sio_vtd_mmio_read(f.u, SIO_VTD_REG_IQT, 8) >> 4) % n;
            }
            break;
        }
        check(&f);
    }
    /* A clean, enabled queue with valid registers completes a final wait. */
    uint64_t iqa = sio_vtd_mmio_read(f.u, SIO_VTD_REG_IQA, 8);
    uint32_t gsts = (uint32_t)sio_vtd_mmio_read(f.u, SIO_VTD_REG_GSTS, 4);
    if (f.answer != 1 && (gsts & SIO_VTD_GSTS_QIES) && iqa == (QBASE | qs)) {
        wr(&f, SIO_VTD_REG_FSTS, SIO_VTD_FSTS_IQE | SIO_VTD_FSTS_ITE | SIO_VTD_FSTS_ICE, 4);
        uint32_t head = (uint32_t)(sio_vtd_mmio_read(f.u, SIO_VTD_REG_IQH, 8) >> 4);
        uint32_t fsts = (uint32_t)sio_vtd_mmio_read(f.u, SIO_VTD_REG_FSTS, 4);
        uint64_t iqt = sio_vtd_mmio_read(f.u, SIO_VTD_REG_IQT, 8);
        if (!(fsts & (SIO_VTD_FSTS_IQE | SIO_VTD_FSTS_ITE)) && (iqt >> 4) == head) {
            uint64_t w = 5 | 1ULL << 5 | 0xD0D0ULL << 32;
            sio_mem_write32(&m, STATUS + 0x1000, 0);
            sio_mem_write64(&m, QBASE + 16ULL * head, w);
            sio_mem_write64(&m, QBASE + 16ULL * head + 8, STATUS + 0x1000);
            wr(&f, SIO_VTD_REG_IQT, (uint64_t)((head + 1) % n) << 4, 8);
            uint32_t st = 0;
            sio_mem_read32(&m, STATUS + 0x1000, &st);
            if (st != 0xD0D0)
                abort();
        }
    }
    sio_vtd_destroy(f.u);
    sio_pmem_destroy(f.pm);
    return 0;
}

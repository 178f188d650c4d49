/* Fuzz target: interrupt remapping (VT-d 6) with arbitrary IRTEs, posted-interrupt descriptors
 * and MSI requests. Nothing may crash; every answer must be 0, an interrupt-remapping fault
 * reason (0x20-0x28) or SIO_EINVAL; a delivered remapped interrupt must carry the vector and
 * destination an independent decode of the entry gives; a posted one must leave its PIR bit
 * set; and asking again (now through the interrupt entry cache) must give the same answer.
 *
 * Input: byte 0 flags (bit 0 EIME, bit 1 CFI, bit 2 IRE off, bit 3 no PI, bit 4 posted entries
 * point at the fuzzed descriptor (else at unbacked memory), bit 5 no entry cache), byte 1 IRTA.S
 * (low 4 bits), then 8 IRTEs (16 bytes each, written at indexes 0-7 and, the last, at 0x8000), a
 * 64-byte posted-interrupt descriptor, then 14-byte requests: SID (2), address 31:0 (4), data (4),
 * address 63:32 (4). */
#include <softiommu/err.h>
#include <softiommu/mem.h>
#include <softiommu/vtd.h>
#include <softiommu/vtd_regs.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define IRT 0x100000ULL
#define IQ  0x10000ULL
#define PID 0x20040ULL

static void no_msi(void *ctx, uint64_t addr, uint32_t data)
{
    (void)addr;
    (void)data;
    (*(unsigned *)ctx)++;
}

static void wr(struct sio_vtd *u, uint64_t off, uint64_t v, unsigned size)
{
    sio_vtd_mmio_write(u, off, v, size);
}

/* The index a remappable request names (VT-d 6), computed here independently. */
static uint32_t req_index(uint64_t addr, uint32_t data)
{
    uint32_t h = (uint32_t)((addr >> 5) & 0x7FFF) | (uint32_t)((addr >> 2) & 1) << 15;
    if (addr & 8)
        h += data & 0xFFFF;
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const size_t head = 2 + 8 * 16 + 64;
    if (size < head)
        return 0;
    uint8_t fl = data[0];
    unsigned s = data[1] & 0xF;
    struct sio_vtd_config cfg = {.features = SIO_VTD_F_DEFAULT,
                                 .iec_entries = (fl & 0x20) ? SIO_VTD_CACHE_OFF : 4};
    if (fl & 8)
        cfg.features &= ~SIO_VTD_F_PI;
    struct sio_pmem *pm = sio_pmem_create(1ULL << 30);
    unsigned msis = 0;
    struct sio_irq_ops irq = {no_msi};
    struct sio_vtd *u = sio_vtd_create(&cfg, sio_pmem_ops(), pm, &irq, &msis);
    if (!u)
        abort();
    struct sio_mem m = {sio_pmem_ops(), pm};
    const uint8_t *e = data + 2;
    for (unsigned i = 0; i < 8; i++) {
        uint64_t lo = sio_ld64le(e + 16 * i), hi = sio_ld64le(e + 16 * i + 8);
        if (lo & (1ULL << 15)) {
            /* Posted: aim at the descriptor, or beyond memory (0x27), never at the tables
             * this harness checks against. */
            lo = (lo & ~(0x3FFFFFFULL << 38)) | ((PID >> 6) & 0x3FFFFFF) << 38;
            hi = (hi & 0xFFFFFFFFULL) | ((fl & 0x10) ? 0 : 1ULL << 32);
        }
        uint64_t at = IRT + 16ULL * (i == 7 ? 0x8000 : i);
        sio_mem_write64(&m, at, lo);
        sio_mem_write64(&m, at + 8, hi);
    }
    sio_mem_write(&m, PID, data + 2 + 128, 64);
    /* Linux's enable: QI, IRTA, SIRTP, global IEC, IRE, CFI as asked. */
    wr(u, SIO_VTD_REG_IQT, 0, 8);
    wr(u, SIO_VTD_REG_IQA, IQ, 8);
    uint32_t gcmd = SIO_VTD_GCMD_QIE;
    wr(u, SIO_VTD_REG_GCMD, gcmd, 4);
    wr(u, SIO_VTD_REG_IRTA, IRT | ((fl & 1) ? 1ULL << 11 : 0) | s, 8);
    wr(u, SIO_VTD_REG_GCMD, gcmd | SIO_VTD_GCMD_SIRTP, 4);
    sio_mem_write64(&m, IQ, 4);
    sio_mem_write64(&m, IQ + 8, 0);
    wr(u, SIO_VTD_REG_IQT, 1 << 4, 4);
    if (!(fl & 4))
        gcmd |= SIO_VTD_GCMD_IRE;
    if (fl & 2)
        gcmd |= SIO_VTD_GCMD_CFI;
    wr(u, SIO_VTD_REG_GCMD, gcmd, 4);
    int eime = fl & 1, ire = !(fl & 4);
    for (size_t p = head; p + 14 <= size; p += 14) {
        const uint8_t *r = data + p;
        uint16_t sid = sio_ld16le(r);
        uint64_t addr = sio_ld32le(r + 2) | (uint64_t)sio_ld32le(r + 10) << 32;
        if (r[13] & 0x80) /* mostly interrupt addresses */
            addr = (addr & ~0xFFF00000ULL) | 0xFEE00000ULL;
        uint32_t dw = sio_ld32le(r + 6);
        struct sio_irq o, o2;
        int rc = sio_vtd_msi(u, sid, addr, dw, &o);
        if (rc != 0 && rc != SIO_EINVAL && (rc < 0x20 || rc > 0x28))
            abort();
        if ((addr & 0xFFF00000u) != 0xFEE00000u && rc != SIO_EINVAL)
            abort();
        if (rc == 0 && (o.flags & SIO_IRQ_REMAPPED)) {
            if (!ire || !(addr & 0x10))
                abort();
            uint32_t idx = req_index(addr, dw);
            uint64_t lo = 0;
            sio_mem_read64(&m, IRT + 16ULL * idx, &lo);
            if (o.vector != ((lo >> 16) & 0xFF))
                abort();
            uint32_t dst = (uint32_t)(lo >> 32);
            if (o.dest != (eime ? dst : (dst >> 8) & 0xFF))
                abort();
        }
        if (rc == 0 && (o.flags & SIO_IRQ_POSTED)) {
            uint64_t w = 0;
            sio_mem_read64(&m, PID + 8 * (o.vector / 64), &w);
            if (!((w >> (o.vector % 64)) & 1))
                abort();
        }
        int rc2 = sio_vtd_msi(u, sid, addr, dw, &o2);
        if (rc2 != rc || (rc == 0 && (o2.vector != o.vector || o2.dest != o.dest)))
            abort();
    }
    sio_vtd_destroy(u);
    sio_pmem_destroy(pm);
    return 0;
}

/* Fuzz target: the VT-d model under arbitrary register writes and arbitrary table memory.
 *
 * The input is a program. Byte 0 picks the configuration (address width, fault records,
 * features, cache sizes); then each operation is an opcode byte and its operands:
 *   0 MMIO write   off:2 size:1 value:8        4 DMA          sid:2 iova:8 len:2 access:1
 *   1 MMIO read    off:2 size:1                5 debug walk   sid:2 iova:8 access:1
 *   2 memory write pa:3 value:8 (8-aligned)    6 bring-up     (Linux's sequence, root at 0)
 *   3 translate    sid:2 iova:8 access:1       7 table entry  level:1 index:2 value:8
 *   8 reset / stats
 * Memory is 16 MiB, so many table pointers fall outside it (fetch errors). Whatever happens,
 * the model must not crash, and its registers must stay coherent: a translation returns 0, a
 * VT-d fault reason or SIO_EINVAL; FSTS.PPF is the OR of the records' F bits; FRI names a
 * pending record while PPF is set; ICC and IVT always read 0. */
#include <softiommu/err.h>
#include <softiommu/mem.h>
#include <softiommu/vtd.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MEM_SIZE (16u << 20)

struct input {
    const uint8_t *p;
    size_t n;
};

static uint64_t take(struct input *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        uint8_t b = 0;
        if (in->n) {
            b = *in->p++;
            in->n--;
        }
        v |= (uint64_t)b << (8 * i);
    }
    return v;
}

static void msi_sink(void *ctx, uint64_t addr, uint32_t data)
{
    (void)addr;
    (void)data;
    (*(unsigned *)ctx)++;
}

static void check_registers(struct sio_vtd *u, unsigned nfr)
{
    uint32_t fsts = (uint32_t)sio_vtd_mmio_read(u, 0x34, 4);
    int any = 0;
    for (unsigned i = 0; i < nfr; i++) {
        uint64_t hi = sio_vtd_mmio_read(u, 0x220 + 16 * i + 8, 8);
        uint64_t lo = sio_vtd_mmio_read(u, 0x220 + 16 * i, 8);
        if (hi >> 63)
            any = 1;
        struct sio_vtd_fault f;
        char line[256];
        sio_vtd_fault_decode(hi, lo, &f);
        sio_vtd_fault_format(&f, 0, line, sizeof(line));
    }
    if (!!(fsts & 2) != any)
        abort(); /* PPF must be the OR of the F bits */
    if (fsts & 2) {
        unsigned fri = (fsts >> 8) & 0xff;
        if (fri >= nfr || !(sio_vtd_mmio_read(u, 0x220 + 16 * fri + 8, 8) >> 63))
            abort(); /* FRI must name a pending record */
    }
    if (sio_vtd_mmio_read(u, 0x28, 8) >> 63 || sio_vtd_mmio_read(u, 0xf8, 8) >> 63)
        abort(); /* invalidations complete at once */
}

static void check_result(int fr)
{
    if (fr != 0 && fr != SIO_EINVAL && fr != SIO_EFAULT && (fr < 1 || fr > 0xD))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    uint8_t sel = (uint8_t)take(&in, 1);
    static const unsigned aws[4] = {48, 39, 57, 48};
    struct sio_vtd_config cfg = {.aw_bits = aws[sel & 3],
                                 .nfr = 1u + ((sel >> 2) & 7),
                                 .iotlb_entries = (sel & 0x20) ? 4 : 0,
                                 .ctx_entries = (sel & 0x20) ? 2 : 0,
                                 .psc_entries = (sel & 0x20) ? 3 : 0};
    cfg.features = SIO_VTD_F_DEFAULT;
    if (sel & 0x40)
        cfg.features |= SIO_VTD_F_CM | SIO_VTD_F_RWBF;
    if (sel & 0x80)
        cfg.features = SIO_VTD_F_EXPLICIT | SIO_VTD_F_ZLR; /* no superpages, PT, PSI, SC */
    struct sio_pmem *pm = sio_pmem_create(MEM_SIZE);
    if (!pm)
        return 0;
    unsigned msis = 0;
    struct sio_irq_ops irq = {msi_sink};
    struct sio_vtd *u = sio_vtd_create(&cfg, sio_pmem_ops(), pm, &irq, &msis);
    if (!u) {
        sio_pmem_destroy(pm);
        return 0;
    }
    const struct sio_mem_ops *ops = sio_pmem_ops();
    uint8_t *buf = malloc(65536);
    unsigned steps = 0;
    while (in.n && buf && steps++ < 512) {
        uint8_t op = (uint8_t)take(&in, 1);
        switch (op % 9) {
        case 0: {
            uint64_t off = take(&in, 2) & 0x1ffc;
            unsigned sz = (take(&in, 1) & 1) ? 8 : 4;
            sio_vtd_mmio_write(u, off, take(&in, 8), sz);
            break;
        }
        case 1: {
            uint64_t off = take(&in, 2) & 0x1fff; /* misaligned offsets too */
            sio_vtd_mmio_read(u, off, (take(&in, 1) & 1) ? 8 : 4);
            break;
        }
        case 2: {
            uint64_t pa = (take(&in, 3) & (MEM_SIZE - 1)) & ~7ULL;
            uint64_t v = take(&in, 8);
            ops->write(pm, pa, &v, 8);
            break;
        }
        case 3: {
            uint16_t sid = (uint16_t)take(&in, 2);
            uint64_t iova = take(&in, 8);
            unsigned access = (unsigned)take(&in, 1) & 0x33;
            struct sio_xlate x;
            int fr = sio_vtd_translate(u, sid, iova, access, &x);
            check_result(fr);
            if (fr > 0 && x.fault_reason != (unsigned)fr)
                abort();
            if (fr == 0 &&
                (x.page_size < 4096 || (x.pa & (x.page_size - 1)) != (iova & (x.page_size - 1))))
                abort();
            break;
        }
        case 4: {
            uint16_t sid = (uint16_t)take(&in, 2);
            uint64_t iova = take(&in, 8);
            size_t len = (size_t)take(&in, 2);
            unsigned access = (take(&in, 1) & 1) ? SIO_WRITE : SIO_READ;
            check_result(sio_vtd_dma(u, sid, iova, buf, len, access));
            break;
        }
        case 5: {
            char text[1024];
            uint16_t sid = (uint16_t)take(&in, 2);
            uint64_t iova = take(&in, 8);
            check_result(
                sio_vtd_walk_dump(u, sid, iova, (unsigned)take(&in, 1) & 3, text, sizeof(text)));
            break;
        }
        case 6:
            /* Root table at 0, SRTP, global flushes, TE: gets the fuzzer past bring-up. */
            sio_vtd_mmio_write(u, 0x20, 0, 8);
            sio_vtd_mmio_write(u, 0x18, 0x40000000u, 4);
            sio_vtd_mmio_write(u, 0x28, (1ULL << 63) | (1ULL << 61), 8);
            sio_vtd_mmio_write(u, 0xf8, (1ULL << 63) | (1ULL << 60), 8);
            sio_vtd_mmio_write(u, 0x18, 0x80000000u, 4);
            break;
        case 7: {
            /* A table entry in a small fixed layout: root at 0, context tables at 0x1000 +
             * bus*0x1000 (first 16 buses), second-level pages from 0x100000. */
            unsigned level = (unsigned)take(&in, 1) % 6;
            unsigned index = (unsigned)take(&in, 2) & 0x1ff;
            uint64_t v = take(&in, 8);
            uint64_t base = level == 0 ? 0 : 0x100000 + 0x1000ULL * level;
            ops->write(pm, base + 8 * index, &v, 8);
            break;
        }
        default:
            if (take(&in, 1) & 1) {
                sio_vtd_reset(u);
            } else {
                struct sio_vtd_stats st;
                sio_vtd_get_stats(u, &st);
                if (st.faults < st.faults_recorded + st.faults_fpd)
                    abort();
            }
            break;
        }
        check_registers(u, cfg.nfr);
    }
    free(buf);
    sio_vtd_destroy(u);
    sio_pmem_destroy(pm);
    return 0;
}

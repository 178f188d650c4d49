/* Fuzz target: the EPT walk and the P2M's map/unmap/destroy over arbitrary table memory.
 *
 * Input: byte 0 picks the P2M flags; bytes 1..32 are 8 probes (gpa bits, access); the rest is
 * written over the table pages (root first). Entries may point anywhere: into the pool,
 * outside it, at unbacked memory. Every walk must end in a translation or an EPT exit, and
 * unmap/destroy must stay within the pool's pages, whatever the tables say. */
#include <softiommu/hv.h>
#include <softiommu/mem.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define POOL_BASE 0x100000ULL
#define POOL_SIZE (64 * 4096ULL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 33)
        return 0;
    struct sio_pmem *pm = sio_pmem_create(64ULL << 20);
    struct sio_pgpool *pool = sio_pgpool_create(sio_pmem_ops(), pm, POOL_BASE, POOL_SIZE);
    struct sio_p2m_config cfg = {0};
    cfg.flags = data[0] & (SIO_P2M_NO_2M | SIO_P2M_NO_1G | SIO_P2M_VTD_SHARED);
    cfg.fault_log = 4;
    struct sio_p2m *p = sio_p2m_create(pool, &cfg);
    if (!p)
        abort();
    /* A legitimate mapping first, so the tables have real structure before the damage. */
    sio_p2m_map(p, 0x200000, 0x800000, 0x201000, SIO_RW, SIO_MT_UC);
    size_t img = size - 33;
    if (img > POOL_SIZE)
        img = POOL_SIZE;
    struct sio_mem m = {sio_pmem_ops(), pm};
    sio_mem_write(&m, sio_p2m_root(p), data + 33, img);
    for (int i = 0; i < 8; i++) {
        const uint8_t *q = data + 1 + 4 * i;
        uint64_t gpa = ((uint64_t)q[0] << 40 | (uint64_t)q[1] << 30 | (uint64_t)q[2] << 21 |
                        (uint64_t)(q[3] & 0xF0) << 8) &
                       ((1ULL << 49) - 1);
        unsigned access = 1u << (q[3] % 3);
        uint64_t hpa = 0;
        struct sio_ept_fault f;
        int rc = sio_p2m_translate(p, gpa, access, &hpa, &f);
        if (rc != 0 && rc != 48 && rc != 49 && rc < 0)
            abort();
        uint8_t buf[32];
        sio_p2m_read(p, gpa + 0xFF0, buf, sizeof(buf), NULL);
        sio_p2m_write(p, gpa, buf, 8, NULL);
        /* Bounded ranges: map may meet garbage, unmap may split it. */
        sio_p2m_map(p, gpa & ~0xFFFULL, 0x2000000, 0x3000, SIO_RW, SIO_MT_UC);
        sio_p2m_unmap(p, gpa & ~0x1FFFFFULL, 0x400000);
    }
    struct sio_p2m_stats st;
    sio_p2m_get_stats(p, &st);
    struct sio_ept_fault log[4];
    sio_p2m_faults(p, log, 4);
    sio_p2m_destroy(p);
    sio_pgpool_destroy(pool);
    sio_pmem_destroy(pm);
    return 0;
}

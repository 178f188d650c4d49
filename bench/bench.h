/* Benchmark framework behind `softiommu bench`. Benchmarks are separate programs from the
 * tests: they time, the tests assert. Each benchmark fills a result with ns per operation. */
#ifndef SIO_BENCH_H
#define SIO_BENCH_H

#include <stdint.h>

#define BENCH_MAX_EXTRA 4

struct bench_result {
    double ns_per_op;
    uint64_t ops;
    /* Optional extra figures (e.g. page-table bytes), printed and put in the JSON. */
    unsigned nextra;
    struct {
        const char *name;
        double value;
    } extra[BENCH_MAX_EXTRA];
};

/* One timed operation batch: run the operation n times. */
typedef void (*bench_op_fn)(void *ctx, uint64_t n);

/* Calibrates n so that a batch lasts about the target time (SIO_BENCH_MS, default 200 ms),
 * runs three batches and keeps the fastest. */
void bench_measure(bench_op_fn op, void *ctx, struct bench_result *r);
double bench_now_ns(void);
double bench_target_ms(void);
void bench_extra(struct bench_result *r, const char *name, double value);

/* Every benchmark: X(name, "description"). Implemented as int bench_NAME(struct bench_result *)
 * returning 0, or a negative sio_err when it could not run. */
#define BENCH_LIST(X)                                                                              \
    X(memcpy4k, "copy 4 KiB between two pmem pages through the contract's read/write")             \
    X(translate_hit, "VT-d: one translation answered by the IOTLB")                                \
    X(translate_walk4, "VT-d: IOTLB miss, 4-level walk (tables, paging-structure caches warm)")    \
    X(translate_walk4_nopsc, "VT-d: IOTLB miss, 4-level walk with all four levels from memory")    \
    X(translate_mt1, "VT-d: IOTLB-hit translations on 1 thread (ns per translation)")              \
    X(translate_mt2, "VT-d: IOTLB-hit translations on 2 threads (ns per translation, total)")      \
    X(dma1500_vtd_hit, "VT-d: a 1500-byte device write through the unit, IOTLB hit")               \
    X(dma1500_nommu, "the same 1500-byte write straight to pmem")                                  \
    X(assign_4g_2m, "hv: assign a device to a VM with 4 GiB mapped with 2 MiB pages (time)")       \
    X(map_unmap_strict, "vtd strict: map 4 KiB, device writes it through the unit, unmap")         \
    X(map_unmap_lazy, "vtd lazy (flush queue): map 4 KiB, device write through the unit, unmap")   \
    X(map_unmap_nommu, "nommu: map 4 KiB, device writes it to memory, unmap")                      \
    X(swiotlb_bounce4k, "swiotlb: one 4 KiB bounce (map copies into the pool, unmap frees it)")    \
    X(iova_live1k, "IOVA alloc+free pair, 10^3 other live allocations")                            \
    X(iova_live1m, "IOVA alloc+free pair, 10^6 other live allocations")                            \
    X(qi_iotlb_psi, "VT-d QI: one page-selective IOTLB invalidation + wait, status polled")        \
    X(msi_remap_hit, "VT-d IR: remap one MSI with its IRTE in the interrupt entry cache")

/* Ratios the issues set targets for: R(numerator, denominator, limit, "what it means").
 * The bench prints numerator/denominator and whether it is within the limit. */
#define BENCH_RATIOS(R)                                                                            \
    R(translate_walk4, translate_hit, 3.0, "VT-d: a 4-level walk costs at most 3 IOTLB hits")      \
    R(translate_mt2, translate_mt1, 0.56, "VT-d: 2 threads give >= 1.8x the translations/s")       \
    R(dma1500_vtd_hit, dma1500_nommu, 1.10, "VT-d: translation adds <= 10% to a 1500-byte write")  \
    R(map_unmap_strict, map_unmap_lazy, 2.0, "DMA: strict throughput >= 0.5x lazy")                \
    R(swiotlb_bounce4k, memcpy4k, 1.5, "DMA: a 4 KiB bounce costs <= 1.5 plain 4 KiB copies")      \
    R(iova_live1m, iova_live1k, 1.2, "IOVA: 10^6 live allocations cost <= 1.2x 10^3 live")

#define BENCH_DECLARE_(name, desc) int bench_##name(struct bench_result *r);
BENCH_LIST(BENCH_DECLARE_)
#undef BENCH_DECLARE_

#endif

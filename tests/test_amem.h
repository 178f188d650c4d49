/* Memory for the concurrency tests: an embedder's RAM whose 8-byte words are read and
 * written atomically, as a CPU and an IOMMU see real memory. The model's reads race with a
 * driver thread's writes only as they would on hardware, and ThreadSanitizer sees every
 * access as an atomic one. Each test builds its own struct sio_mem_ops from am_read and
 * am_write (adding a ptr hook where it offers host pointers). */
#ifndef SIO_TEST_AMEM_H
#define SIO_TEST_AMEM_H

#include "test_util.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

struct amem {
    _Atomic uint64_t *w;
    uint64_t size;
};

/* size bytes of zeroed words. */
static inline void amem_init(struct amem *m, uint64_t size)
{
    m->size = size;
    m->w = calloc(size / 8, sizeof(*m->w));
    assert_non_null(m->w);
}

static inline int am_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
    struct amem *m = ctx;
    if (pa > m->size || len > m->size - pa)
        return -1;
    uint8_t *out = buf;
    while (len) {
        uint64_t word = atomic_load_explicit(&m->w[pa / 8], memory_order_acquire);
        unsigned off = (unsigned)(pa & 7), n = 8 - off < len ? 8 - off : (unsigned)len;
        for (unsigned k = 0; k < n; k++)
            out[k] = (uint8_t)(word >> (8 * (off + k)));
        out += n;
        pa += n;
        len -= n;
    }
    return 0;
}

static inline int am_write(void *ctx, uint64_t pa, const void *buf, size_t len)
{
    struct amem *m = ctx;
    if (pa > m->size || len > m->size - pa)
        return -1;
    const uint8_t *in = buf;
    while (len) {
        unsigned off = (unsigned)(pa & 7), n = 8 - off < len ? 8 - off : (unsigned)len;
        _Atomic uint64_t *w = &m->w[pa / 8];
        uint64_t old = atomic_load_explicit(w, memory_order_relaxed), nw;
        do {
            nw = old;
            for (unsigned k = 0; k < n; k++) {
                nw &= ~(0xffULL << (8 * (off + k)));
                nw |= (uint64_t)in[k] << (8 * (off + k));
            }
        } while (!atomic_compare_exchange_weak_explicit(w, &old, nw, memory_order_release,
                                                        memory_order_relaxed));
        in += n;
        pa += n;
        len -= n;
    }
    return 0;
}

/* One aligned word, as the driver side stores and loads table entries. */
static inline void am_w64(struct amem *m, uint64_t pa, uint64_t v)
{
    atomic_store_explicit(&m->w[pa / 8], v, memory_order_release);
}
static inline uint64_t am_r64(struct amem *m, uint64_t pa)
{
    return atomic_load_explicit(&m->w[pa / 8], memory_order_acquire);
}

#endif

/* softiommu/bits.h: field helpers for hardware formats.
 *
 * Registers and in-memory tables are arrays of little-endian 64-bit words. Fields are named
 * by their absolute bit range hi:lo, exactly as the spec tables write them ("63:12 CTP").
 * These helpers are the only way softiommu touches hardware bits: no C bitfields, whose layout
 * is compiler-defined. */
#ifndef SOFTIOMMU_BITS_H
#define SOFTIOMMU_BITS_H

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Mask of bits hi..lo inclusive (0 <= lo <= hi <= 63). */
static inline uint64_t sio_mask64(unsigned hi, unsigned lo)
{
    return ((hi >= 63) ? ~0ULL : ((1ULL << (hi + 1)) - 1)) & ~((1ULL << lo) - 1);
}

/* Field hi:lo of v, shifted down to bit 0. */
static inline uint64_t sio_get64(uint64_t v, unsigned hi, unsigned lo)
{
    return (v & sio_mask64(hi, lo)) >> lo;
}

/* v with field hi:lo replaced by x (x's bits beyond the field's width are dropped). */
static inline uint64_t sio_set64(uint64_t v, unsigned hi, unsigned lo, uint64_t x)
{
    uint64_t m = sio_mask64(hi, lo);
    return (v & ~m) | ((x << lo) & m);
}

static inline int sio_bit64(uint64_t v, unsigned n)
{
    return (int)((v >> n) & 1);
}

/* Little-endian loads and stores from byte buffers (no alignment needed). */
static inline uint16_t sio_ld16le(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return (uint16_t)(b[0] | (b[1] << 8));
}
static inline uint32_t sio_ld32le(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}
static inline uint64_t sio_ld64le(const void *p)
{
    const uint8_t *b = (const uint8_t *)p;
    return (uint64_t)sio_ld32le(b) | ((uint64_t)sio_ld32le(b + 4) << 32);
}
static inline void sio_st16le(void *p, uint16_t v)
{
    uint8_t *b = (uint8_t *)p;
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
}
static inline void sio_st32le(void *p, uint32_t v)
{
    uint8_t *b = (uint8_t *)p;
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}
static inline void sio_st64le(void *p, uint64_t v)
{
    sio_st32le(p, (uint32_t)v);
    sio_st32le((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

/* A 128-bit hardware entry (root/context entry, IRTE, fault record, QI descriptor):
 * lo holds bits 63:0, hi holds bits 127:64. */
struct sio_u128 {
    uint64_t lo, hi;
};

static inline struct sio_u128 sio_ld128le(const void *p)
{
    struct sio_u128 v;
    v.lo = sio_ld64le(p);
    v.hi = sio_ld64le((const uint8_t *)p + 8);
    return v;
}
static inline void sio_st128le(void *p, struct sio_u128 v)
{
    sio_st64le(p, v.lo);
    sio_st64le((uint8_t *)p + 8, v.hi);
}

/* Field hi:lo (absolute bit numbers 0..127, width <= 64) of a 128-bit entry. */
static inline uint64_t sio_get128(struct sio_u128 v, unsigned hi, unsigned lo)
{
    if (hi < 64)
        return sio_get64(v.lo, hi, lo);
    if (lo >= 64)
        return sio_get64(v.hi, hi - 64, lo - 64);
    /* The field straddles bit 64. */
    uint64_t low = v.lo >> lo;
    uint64_t high = sio_get64(v.hi, hi - 64, 0);
    return low | (high << (64 - lo));
}

static inline struct sio_u128 sio_set128(struct sio_u128 v, unsigned hi, unsigned lo, uint64_t x)
{
    if (hi < 64) {
        v.lo = sio_set64(v.lo, hi, lo, x);
    } else if (lo >= 64) {
        v.hi = sio_set64(v.hi, hi - 64, lo - 64, x);
    } else {
        v.lo = sio_set64(v.lo, 63, lo, x);
        v.hi = sio_set64(v.hi, hi - 64, 0, x >> (64 - lo));
    }
    return v;
}

#ifdef __cplusplus
}
#endif
#endif

/* softiommu/pci.h: PCI identity. A device is named by segment:bus:device.function (a BDF,
 * printed the way lspci prints it) and, on the wire, by its 16-bit requester/source id. */
#ifndef SOFTIOMMU_PCI_H
#define SOFTIOMMU_PCI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sio_bdf {
    uint16_t seg;
    uint8_t bus;
    uint8_t dev; /* 0..31 */
    uint8_t fn;  /* 0..7 */
};

/* VT-d 2: source-id = bus<<8 | dev<<3 | fn. */
static inline uint16_t sio_sid(unsigned bus, unsigned dev, unsigned fn)
{
    return (uint16_t)(((bus & 0xff) << 8) | ((dev & 0x1f) << 3) | (fn & 7));
}
static inline unsigned sio_sid_bus(uint16_t sid)
{
    return sid >> 8;
}
static inline unsigned sio_sid_dev(uint16_t sid)
{
    return (sid >> 3) & 0x1f;
}
static inline unsigned sio_sid_fn(uint16_t sid)
{
    return sid & 7;
}
static inline unsigned sio_sid_devfn(uint16_t sid)
{
    return sid & 0xff;
}
static inline uint16_t sio_bdf_sid(struct sio_bdf b)
{
    return sio_sid(b.bus, b.dev, b.fn);
}
static inline struct sio_bdf sio_bdf_from_sid(uint16_t seg, uint16_t sid)
{
    struct sio_bdf b = {seg, (uint8_t)sio_sid_bus(sid), (uint8_t)sio_sid_dev(sid),
                        (uint8_t)sio_sid_fn(sid)};
    return b;
}

/* "0000:00:02.0" plus NUL. */
#define SIO_BDF_STRLEN 13

/* Parse "DDDD:BB:DD.F" or "BB:DD.F" (hex, as lspci prints; segment defaults to 0).
 * Returns 0, or SIO_EPARSE with a one-line reason naming the text in err (if err != NULL). */
int sio_bdf_parse(const char *text, struct sio_bdf *out, char *err, size_t errlen);
/* Writes "0000:00:02.0" into buf (at least SIO_BDF_STRLEN bytes); returns buf. */
char *sio_bdf_format(struct sio_bdf b, char *buf);

#ifdef __cplusplus
}
#endif
#endif

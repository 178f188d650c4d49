/* What the DMAR and IVRS fuzz targets share (a header, not a fuzz_*.c, so that it is no target
 * of its own): the decoder must agree with the parser, and every input is tried as it is, with
 * the checksum ignored, and as a table body behind a valid signature, length and checksum, so
 * that mutations reach the subtable walk. */
#ifndef SIO_FUZZ_ACPI_COMMON_H
#define SIO_FUZZ_ACPI_COMMON_H

#include <softiommu/acpi.h>
#include <softiommu/bits.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline void fuzz_acpi_on_field(void *ctx, const struct sio_acpi_field *f)
{
    if (!f->text)
        abort();
    (*(size_t *)ctx)++;
}

/* The decoder picks the table by signature: when that is kind, it must return what the parser
 * returned (rc). */
static inline void fuzz_acpi_decode_agrees(const uint8_t *b, size_t len, unsigned flags,
                                           enum sio_acpi_kind kind, int rc)
{
    struct sio_acpi_error err;
    size_t nf = 0;
    if (sio_acpi_identify(b, len) == kind &&
        sio_acpi_decode(b, len, flags, fuzz_acpi_on_field, &nf, &err) != rc)
        abort();
}

/* check(data) as given, with SIO_ACPI_IGNORE_CHECKSUM, and (inputs of at least header_len
 * bytes, below 1 MB) as a copy signed sig with its length and checksum made right. */
static inline int fuzz_acpi_run(const uint8_t *data, size_t size, const char *sig,
                                size_t header_len,
                                void (*check)(const uint8_t *b, size_t len, unsigned flags))
{
    check(data, size, 0);
    check(data, size, SIO_ACPI_IGNORE_CHECKSUM);
    if (size >= header_len && size < (1u << 20)) {
        uint8_t *c = malloc(size);
        if (!c)
            return 0;
        memcpy(c, data, size);
        memcpy(c, sig, 4);
        sio_st32le(c + 4, (uint32_t)size);
        uint8_t s = 0;
        c[9] = 0;
        for (size_t i = 0; i < size; i++)
            s = (uint8_t)(s + c[i]);
        c[9] = (uint8_t)(0x100 - s);
        check(c, size, 0);
        free(c);
    }
    return 0;
}

#endif

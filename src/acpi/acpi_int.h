/* Internal helpers shared by the DMAR and IVRS code: error and note records, the ACPI header
 * check, array growth, and the field emitter behind sio_acpi_decode. */
#ifndef SIO_ACPI_INT_H
#define SIO_ACPI_INT_H

#include <softiommu/acpi.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Fill err (may be NULL) with offset and a formatted one-line message. */
void acpi_seterr(struct sio_acpi_error *err, uint32_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Append a note; 0 or SIO_ENOMEM. notes may be NULL (decode-only walks): then nothing is kept. */
struct acpi_notes {
    struct sio_acpi_note **v;
    size_t *n;
};
int acpi_note(struct acpi_notes *nl, uint32_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Make room for element n (0-based) in an array that holds n elements: grows by doubling.
 * Returns 0 or SIO_ENOMEM. The new element is zeroed. */
int acpi_grow(void **arr, size_t n, size_t elem);

/* Validate the standard header of a table with signature sig whose own fixed header is min_len
 * bytes. Sets *tlen to the table length. Checksum is checked unless SIO_ACPI_IGNORE_CHECKSUM
 * (then a bad one is noted). Returns 0 or a negative enum sio_err with err filled. */
int acpi_check_header(const uint8_t *b, size_t len, const char *sig, uint32_t min_len,
                      unsigned flags, uint32_t *tlen, struct acpi_notes *nl,
                      struct sio_acpi_error *err);
void acpi_read_header(const uint8_t *b, struct sio_acpi_header *h);
void acpi_write_header(uint8_t *b, const struct sio_acpi_header *h, uint32_t length);
/* Set the checksum byte (offset 9) so that the len bytes sum to 0. */
void acpi_fix_checksum(uint8_t *b, size_t len);
uint8_t acpi_sum(const uint8_t *b, size_t len);
/* A header with our defaults: signature, revision, OEM "SFTIOM"/"SOFTIOMU". */
void acpi_default_header(struct sio_acpi_header *h, const char *sig, uint8_t revision);
int acpi_header_equal(const struct sio_acpi_header *a, const struct sio_acpi_header *b);

/* ---- field emitter ---- */
struct acpi_em {
    sio_acpi_field_fn fn; /* NULL: emit nothing */
    void *ctx;
    const uint8_t *tab; /* the table; fields are read from it by offset */
};

/* Integer field of width 1, 2, 3, 4 or 8 bytes, printed as width*2 hex digits. */
void em_uint(struct acpi_em *em, uint32_t off, unsigned width, unsigned depth, int group,
             const char *name, const char *note);
/* Bits decoded from the previous field: value printed as a hex digit string. */
void em_bits(struct acpi_em *em, uint32_t off, unsigned depth, const char *name, uint64_t v);
/* Quoted characters: NAME4/6/8 style (stops at NUL, non-printables shown as spaces). */
void em_name(struct acpi_em *em, uint32_t off, unsigned width, unsigned depth, int group,
             const char *name, const char *note);
/* A byte array "00 00 00". */
void em_bytes(struct acpi_em *em, uint32_t off, unsigned width, unsigned depth, int group,
              const char *name);
/* One DMAR scope hop "DD,FF". */
void em_path(struct acpi_em *em, uint32_t off, unsigned depth, const char *name);
/* A "**** ..." comment line. */
void em_comment(struct acpi_em *em, uint32_t off, unsigned depth, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The common table header fields (signature .. creator revision), with the table's title. */
void em_header(struct acpi_em *em, const char *title);

int acpi_dmar_walk(const uint8_t *b, size_t len, unsigned flags, struct sio_dmar *model,
                   struct acpi_em *em, struct sio_acpi_error *err);
int acpi_ivrs_walk(const uint8_t *b, size_t len, unsigned flags, struct sio_ivrs *model,
                   struct acpi_em *em, struct sio_acpi_error *err);

#endif

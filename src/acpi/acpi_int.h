/* Internal helpers shared by the DMAR and IVRS code: error and note records, the ACPI header
 * check, array growth, the field emitter behind sio_acpi_decode, and the walk, parse, generate
 * and compare engine both formats plug into. */
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
/* Append one element to an array of *n: acpi_grow, then count it. Returns the new (zeroed)
 * element, or NULL when out of memory. */
void *acpi_push(void **arr, size_t *n, size_t elem);

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

/* ---- the engine DMAR and IVRS share (acpi_table.c) ----
 * Both tables are the ACPI header, a header of the format's own up to a fixed length, then
 * subtables that each begin with a type and a 16-bit length at byte 2. Walking them (bounds,
 * errors, unknown types kept as raw bytes), parsing into a record, generating and comparing
 * records is the same for both; a struct acpi_format says what differs. A record (struct
 * sio_dmar, struct sio_ivrs) starts with its struct sio_acpi_header (static-asserted where the
 * format is defined). */

/* One walk over a table's bytes. */
struct acpi_walk {
    const uint8_t *b;
    void *rec; /* the record being filled; NULL: validate and emit only */
    struct acpi_em *em;
    struct acpi_notes nl; /* the record's notes (nothing kept without a record) */
    struct sio_acpi_error *err;
};

/* What generation and comparison need to know of a record's subtable i. */
struct acpi_sub {
    unsigned type;
    int known;          /* a type the format defines; else it is kept as raw bytes */
    const uint8_t *raw; /* unknown type: the whole subtable (type and length included) */
    uint16_t raw_len;
};

struct acpi_format {
    const char *sig;     /* "DMAR" */
    const char *title;   /* iasl's annotation of the signature */
    uint32_t header_len; /* bytes before the first subtable */
    /* How errors and notes name a subtable: "structure 1", "structure at 0x30 (type 5)",
     * "subtable at 0x30 (type 0x10)". */
    const char *noun;
    int type_hex;        /* type printed as 0x%02X, else as %u */
    unsigned type_bytes; /* 2: a 16-bit type; 1: a type byte (byte 1 is then the format's) */
    /* Names a subtable by its type where the messages of a format do so ("DRHD at 0x30"); NULL:
     * by noun and type number. */
    const char *(*type_name)(unsigned type);

    size_t rec_size;
    struct acpi_notes (*notes)(void *rec);
    void (*free)(void *rec);

    /* The walk. walk_header: bytes 36..header_len into w->rec (if any) and out as fields.
     * walk_sub: one subtable whose type and length were checked to lie inside the table.
     * walk_end (may be NULL): after the last one. Both return 0, SIO_EPARSE (err filled) or
     * SIO_ENOMEM. */
    void (*walk_header)(struct acpi_walk *w);
    int (*walk_sub)(struct acpi_walk *w, uint32_t off, unsigned type, uint16_t slen);
    int (*walk_end)(struct acpi_walk *w);

    /* Generation and comparison. sub_size, check_sub, put_sub and sub_equal are only asked
     * about subtables of a known type; put_sub writes everything but the type and length. */
    size_t (*nsub)(const void *rec);
    struct acpi_sub (*sub)(const void *rec, size_t i);
    size_t (*sub_size)(const void *rec, size_t i);
    int (*check_sub)(const void *rec, size_t i, uint32_t at, struct sio_acpi_error *err);
    void (*put_header)(const void *rec, uint8_t *b);
    void (*put_sub)(const void *rec, size_t i, uint8_t *p);
    int (*header_equal)(const void *a, const void *b); /* the format's own header fields */
    int (*sub_equal)(const void *a, const void *b, size_t i);
};

extern const struct acpi_format acpi_dmar_format, acpi_ivrs_format;

/* Validate the table and, as asked, fill rec (may be NULL) and emit fields (em may be NULL).
 * Returns 0 or a negative enum sio_err with err filled. */
int acpi_walk(const struct acpi_format *f, const uint8_t *b, size_t len, unsigned flags, void *rec,
              struct acpi_em *em, struct sio_acpi_error *err);
/* An unknown subtable type: a comment line and, with a record, a note. 0 or SIO_ENOMEM. */
int acpi_walk_unknown(const struct acpi_format *f, struct acpi_walk *w, uint32_t off, unsigned type,
                      uint16_t slen);
/* sio_dmar_parse / sio_ivrs_parse: *out (set unless buf or out is NULL) is a new record or NULL. */
int acpi_parse(const struct acpi_format *f, const void *buf, size_t len, unsigned flags, void **out,
               struct sio_acpi_error *err);
int acpi_generate(const struct acpi_format *f, const void *rec, uint8_t **out, size_t *len,
                  struct sio_acpi_error *err);
int acpi_equal(const struct acpi_format *f, const void *a, const void *b);

#endif

/* What DMAR and IVRS share: the standard ACPI header (ACPI spec 5.2.6: signature, length,
 * checksum over the whole table), errors and notes, and the field emitter that turns a walk over
 * the bytes into iasl-style fields. */
#include "acpi_int.h"

#include <softiommu/bits.h>
#include <softiommu/err.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void acpi_seterr(struct sio_acpi_error *err, uint32_t offset, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    err->offset = offset;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}

int acpi_grow(void **arr, size_t n, size_t elem)
{
    /* Capacity is implicit: the next power of two at or above n. */
    if (n == 0 || (n & (n - 1)) == 0) {
        size_t cap = n ? 2 * n : 4;
        if (cap > SIZE_MAX / elem)
            return SIO_ENOMEM;
        void *p = realloc(*arr, cap * elem);
        if (!p)
            return SIO_ENOMEM;
        *arr = p;
    }
    memset((uint8_t *)*arr + n * elem, 0, elem);
    return 0;
}

void *acpi_push(void **arr, size_t *n, size_t elem)
{
    if (acpi_grow(arr, *n, elem))
        return NULL;
    return (uint8_t *)*arr + (*n)++ * elem;
}

int acpi_note(struct acpi_notes *nl, uint32_t offset, const char *fmt, ...)
{
    if (!nl || !nl->v)
        return 0;
    struct sio_acpi_note *n = acpi_push((void **)nl->v, nl->n, sizeof(struct sio_acpi_note));
    if (!n)
        return SIO_ENOMEM;
    va_list ap;
    va_start(ap, fmt);
    n->offset = offset;
    vsnprintf(n->msg, sizeof(n->msg), fmt, ap);
    va_end(ap);
    return 0;
}

uint8_t acpi_sum(const uint8_t *b, size_t len)
{
    uint8_t s = 0;
    for (size_t i = 0; i < len; i++)
        s = (uint8_t)(s + b[i]);
    return s;
}

void acpi_fix_checksum(uint8_t *b, size_t len)
{
    b[9] = 0;
    b[9] = (uint8_t)(0x100 - acpi_sum(b, len));
}

/* The signature as a string for messages: up to 4 bytes, unprintable ones as '?'. */
static void sig_text(const uint8_t *b, size_t len, char out[5])
{
    size_t i = 0;
    for (; i < 4 && i < len; i++)
        out[i] = (b[i] >= 0x20 && b[i] < 0x7f) ? (char)b[i] : '?';
    out[i] = 0;
}

int acpi_check_header(const uint8_t *b, size_t len, const char *sig, uint32_t min_len,
                      unsigned flags, uint32_t *tlen, struct acpi_notes *nl,
                      struct sio_acpi_error *err)
{
    if (len < 4 || memcmp(b, sig, 4) != 0) {
        char got[5];
        sig_text(b, len, got);
        acpi_seterr(err, 0, "signature is \"%s\", not \"%s\"", got, sig);
        return len < 4 ? SIO_ETRUNC : SIO_EPARSE;
    }
    if (len < SIO_ACPI_HEADER_LEN) {
        acpi_seterr(err, (uint32_t)len, "only %zu bytes: the ACPI table header alone is %u", len,
                    SIO_ACPI_HEADER_LEN);
        return SIO_ETRUNC;
    }
    uint32_t l = sio_ld32le(b + 4);
    if (l < min_len) {
        acpi_seterr(err, 4, "table length %" PRIu32 " is below the %" PRIu32 "-byte %s header", l,
                    min_len, sig);
        return SIO_EPARSE;
    }
    if (l > len) {
        acpi_seterr(err, 4,
                    "table length says %" PRIu32 " bytes but only %zu are present (truncated)", l,
                    len);
        return SIO_ETRUNC;
    }
    uint8_t s = acpi_sum(b, l);
    if (s != 0) {
        uint8_t want = (uint8_t)(b[9] - s);
        if (!(flags & SIO_ACPI_IGNORE_CHECKSUM)) {
            acpi_seterr(err, 9,
                        "checksum 0x%02X is wrong: the table sums to 0x%02X, checksum should be "
                        "0x%02X",
                        b[9], s, want);
            return SIO_ECHECKSUM;
        }
        if (acpi_note(nl, 9, "checksum 0x%02X is wrong (should be 0x%02X); ignored", b[9], want))
            return SIO_ENOMEM;
    }
    if (len > l && acpi_note(nl, l, "%zu bytes after the table's end ignored", len - l))
        return SIO_ENOMEM;
    *tlen = l;
    return 0;
}

void acpi_read_header(const uint8_t *b, struct sio_acpi_header *h)
{
    memcpy(h->signature, b, 4);
    h->length = sio_ld32le(b + 4);
    h->revision = b[8];
    h->checksum = b[9];
    memcpy(h->oem_id, b + 10, 6);
    memcpy(h->oem_table_id, b + 16, 8);
    h->oem_revision = sio_ld32le(b + 24);
    memcpy(h->creator_id, b + 28, 4);
    h->creator_revision = sio_ld32le(b + 32);
}

void acpi_write_header(uint8_t *b, const struct sio_acpi_header *h, uint32_t length)
{
    memcpy(b, h->signature, 4);
    sio_st32le(b + 4, length);
    b[8] = h->revision;
    b[9] = 0;
    memcpy(b + 10, h->oem_id, 6);
    memcpy(b + 16, h->oem_table_id, 8);
    sio_st32le(b + 24, h->oem_revision);
    memcpy(b + 28, h->creator_id, 4);
    sio_st32le(b + 32, h->creator_revision);
}

void acpi_default_header(struct sio_acpi_header *h, const char *sig, uint8_t revision)
{
    memset(h, 0, sizeof(*h));
    memcpy(h->signature, sig, 4);
    h->revision = revision;
    memcpy(h->oem_id, "SFTIOM", 6);
    memcpy(h->oem_table_id, "SOFTIOMU", 8);
    h->oem_revision = 1;
    memcpy(h->creator_id, "SIO ", 4);
    h->creator_revision = 1;
}

int acpi_header_equal(const struct sio_acpi_header *a, const struct sio_acpi_header *b)
{
    return !memcmp(a->signature, b->signature, 4) && a->revision == b->revision &&
           !memcmp(a->oem_id, b->oem_id, 6) && !memcmp(a->oem_table_id, b->oem_table_id, 8) &&
           a->oem_revision == b->oem_revision && !memcmp(a->creator_id, b->creator_id, 4) &&
           a->creator_revision == b->creator_revision;
}

enum sio_acpi_kind sio_acpi_identify(const void *buf, size_t len)
{
    if (!buf || len < 4)
        return SIO_ACPI_UNKNOWN;
    if (!memcmp(buf, "DMAR", 4))
        return SIO_ACPI_DMAR;
    if (!memcmp(buf, "IVRS", 4))
        return SIO_ACPI_IVRS;
    return SIO_ACPI_UNKNOWN;
}

/* ---- the emitter ---- */

static uint64_t ld_le(const uint8_t *p, unsigned width)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void send(struct acpi_em *em, struct sio_acpi_field *f)
{
    em->fn(em->ctx, f);
}

void em_uint(struct acpi_em *em, uint32_t off, unsigned width, unsigned depth, int group,
             const char *name, const char *note)
{
    if (!em || !em->fn)
        return;
    char text[24];
    uint64_t v = ld_le(em->tab + off, width);
    snprintf(text, sizeof(text), "%0*" PRIX64, (int)(2 * width), v);
    struct sio_acpi_field f = {SIO_ACPI_FIELD_UINT, off, width, depth, group, name, text, note, v,
                               em->tab + off};
    send(em, &f);
}

void em_bits(struct acpi_em *em, uint32_t off, unsigned depth, const char *name, uint64_t v)
{
    if (!em || !em->fn)
        return;
    char text[24];
    snprintf(text, sizeof(text), "%" PRIX64, v);
    struct sio_acpi_field f = {SIO_ACPI_FIELD_BITS, off, 0, depth, 0, name, text, NULL, v, NULL};
    send(em, &f);
}

void em_name(struct acpi_em *em, uint32_t off, unsigned width, unsigned depth, int group,
             const char *name, const char *note)
{
    if (!em || !em->fn)
        return;
    /* iasl stops at a NUL and shows other unprintable bytes as spaces. */
    char text[300];
    size_t n = 0;
    text[n++] = '"';
    for (unsigned i = 0; i < width && n < sizeof(text) - 2; i++) {
        uint8_t c = em->tab[off + i];
        if (!c)
            break;
        text[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
    }
    text[n++] = '"';
    text[n] = 0;
    struct sio_acpi_field f = {SIO_ACPI_FIELD_STRING, off, width, depth, group, name, text, note, 0,
                               em->tab + off};
    send(em, &f);
}

void em_bytes(struct acpi_em *em, uint32_t off, unsigned width, unsigned depth, int group,
              const char *name)
{
    if (!em || !em->fn)
        return;
    char text[3 * 64 + 1] = "";
    size_t n = 0;
    for (unsigned i = 0; i < width && i < 64; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, i ? " %02X" : "%02X", em->tab[off + i]);
    struct sio_acpi_field f = {SIO_ACPI_FIELD_BYTES, off, width, depth, group, name, text, NULL, 0,
                               em->tab + off};
    send(em, &f);
}

void em_path(struct acpi_em *em, uint32_t off, unsigned depth, const char *name)
{
    if (!em || !em->fn)
        return;
    char text[8];
    uint8_t d = em->tab[off], fn = em->tab[off + 1];
    snprintf(text, sizeof(text), "%02X,%02X", d, fn);
    struct sio_acpi_field f = {SIO_ACPI_FIELD_PATH,   off,          2, depth, 0, name, text, NULL,
                               (uint64_t)d << 8 | fn, em->tab + off};
    send(em, &f);
}

void em_comment(struct acpi_em *em, uint32_t off, unsigned depth, const char *fmt, ...)
{
    if (!em || !em->fn)
        return;
    char text[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    struct sio_acpi_field f = {SIO_ACPI_FIELD_COMMENT, off, 0, depth, 0, NULL, text, NULL, 0, NULL};
    send(em, &f);
}

void em_header(struct acpi_em *em, const char *title)
{
    em_name(em, 0, 4, 0, 1, "Signature", title);
    em_uint(em, 4, 4, 0, 0, "Table Length", NULL);
    em_uint(em, 8, 1, 0, 0, "Revision", NULL);
    em_uint(em, 9, 1, 0, 0, "Checksum", NULL);
    em_name(em, 10, 6, 0, 0, "Oem ID", NULL);
    em_name(em, 16, 8, 0, 0, "Oem Table ID", NULL);
    em_uint(em, 24, 4, 0, 0, "Oem Revision", NULL);
    em_name(em, 28, 4, 0, 0, "Asl Compiler ID", NULL);
    em_uint(em, 32, 4, 0, 0, "Asl Compiler Revision", NULL);
}

/* ---- decode and print ---- */

int sio_acpi_decode(const void *buf, size_t len, unsigned flags, sio_acpi_field_fn fn, void *ctx,
                    struct sio_acpi_error *err)
{
    if (!buf) {
        acpi_seterr(err, 0, "no table");
        return SIO_EINVAL;
    }
    struct acpi_em em = {fn, ctx, buf};
    switch (sio_acpi_identify(buf, len)) {
    case SIO_ACPI_DMAR:
        return acpi_walk(&acpi_dmar_format, buf, len, flags, NULL, &em, err);
    case SIO_ACPI_IVRS:
        return acpi_walk(&acpi_ivrs_format, buf, len, flags, NULL, &em, err);
    default: {
        const uint8_t *b = buf;
        if (len < 4) {
            acpi_seterr(err, 0, "only %zu bytes: too short for a table signature", len);
            return SIO_ETRUNC;
        }
        char sig[5];
        sig_text(b, len, sig);
        acpi_seterr(err, 0, "signature \"%s\" is neither DMAR nor IVRS", sig);
        return SIO_EPARSE;
    }
    }
}

static void print_field(void *ctx, const struct sio_acpi_field *f)
{
    FILE *out = ctx;
    switch (f->kind) {
    case SIO_ACPI_FIELD_COMMENT:
        fprintf(out, "\n%s\n", f->text);
        return;
    case SIO_ACPI_FIELD_BITS:
        fprintf(out, "%44s : %s\n", f->name, f->text);
        return;
    case SIO_ACPI_FIELD_PATH:
        fputc('\n', out);
        break;
    default:
        if (f->group && !(f->depth == 0 && f->offset == 0))
            fputc('\n', out);
        break;
    }
    fprintf(out, "[%03" PRIX32 "h %04" PRIu32 " %03" PRIX32 "h] %27s : %s", f->offset, f->offset,
            f->width, f->name, f->text);
    if (f->note)
        fprintf(out, f->kind == SIO_ACPI_FIELD_STRING ? "    [%s]" : " [%s]", f->note);
    fputc('\n', out);
}

int sio_acpi_print(const void *buf, size_t len, unsigned flags, FILE *out,
                   struct sio_acpi_error *err)
{
    /* Validate first so that a malformed table prints nothing. */
    int rc = sio_acpi_decode(buf, len, flags, NULL, NULL, err);
    if (rc)
        return rc;
    return sio_acpi_decode(buf, len, flags, print_field, out, err);
}

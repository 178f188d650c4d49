/* The engine DMAR and IVRS share: a table is the ACPI header, a format header, then subtables of
 * (type, 16-bit length at byte 2, body). The walk that bounds-checks every subtable before the
 * format looks inside it, parsing into a record, generating a table from one (unknown types
 * written back as their raw bytes, type and length stamped, checksum computed) and comparing two
 * records are written once here; struct acpi_format (acpi_int.h) holds what each format adds. */
#include "acpi_int.h"

#include <softiommu/bits.h>
#include <softiommu/err.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A record's ACPI header: every record begins with it. */
static const struct sio_acpi_header *rec_hdr(const void *rec)
{
    return rec;
}

/* A subtable's type as the format's messages print it. */
static void type_text(const struct acpi_format *f, unsigned type, char *buf, size_t n)
{
    snprintf(buf, n, f->type_hex ? "0x%02X" : "%u", type);
}

int acpi_walk_unknown(const struct acpi_format *f, struct acpi_walk *w, uint32_t off, unsigned type,
                      uint16_t slen)
{
    em_comment(w->em, off, 1, "**** Unknown %s subtable type 0x%X", f->sig, type);
    if (!w->rec)
        return 0;
    char tt[12];
    type_text(f, type, tt, sizeof(tt));
    return acpi_note(&w->nl, off, "unknown %s type %s (%u bytes) skipped", f->noun, tt, slen);
}

int acpi_walk(const struct acpi_format *f, const uint8_t *b, size_t len, unsigned flags, void *rec,
              struct acpi_em *em, struct sio_acpi_error *err)
{
    struct acpi_walk w = {b, rec, em, {NULL, NULL}, err};
    if (rec)
        w.nl = f->notes(rec);
    uint32_t tlen;
    int rc = acpi_check_header(b, len, f->sig, f->header_len, flags, &tlen, &w.nl, err);
    if (rc)
        return rc;
    if (rec)
        acpi_read_header(b, (struct sio_acpi_header *)rec);
    em_header(em, f->title);
    f->walk_header(&w);

    uint32_t off = f->header_len;
    while (off < tlen) {
        if (tlen - off < 4) {
            acpi_seterr(err, off,
                        "%" PRIu32 " stray byte(s) at 0x%" PRIX32
                        ": too short for a %s header (4 bytes)",
                        tlen - off, off, f->noun);
            return SIO_EPARSE;
        }
        unsigned type = f->type_bytes == 2 ? sio_ld16le(b + off) : b[off];
        uint16_t slen = sio_ld16le(b + off + 2);
        char tt[12];
        type_text(f, type, tt, sizeof(tt));
        if (slen < 4) {
            acpi_seterr(err, off + 2,
                        "%s at 0x%" PRIX32 " (type %s): length %u is below the 4-byte %s header",
                        f->noun, off, tt, slen, f->noun);
            return SIO_EPARSE;
        }
        if (slen > tlen - off) {
            if (f->type_name)
                acpi_seterr(err, off + 2,
                            "%s at 0x%" PRIX32
                            ": length %u runs past the end of the table (%" PRIu32 " bytes left)",
                            f->type_name(type), off, slen, tlen - off);
            else
                acpi_seterr(err, off + 2,
                            "%s at 0x%" PRIX32 " (type %s): length %u runs past the end of the "
                            "table (%" PRIu32 " bytes left)",
                            f->noun, off, tt, slen, tlen - off);
            return SIO_EPARSE;
        }
        rc = f->walk_sub(&w, off, type, slen);
        if (rc) {
            if (rc == SIO_ENOMEM)
                acpi_seterr(err, off, "out of memory");
            return rc;
        }
        off += slen;
    }
    rc = f->walk_end ? f->walk_end(&w) : 0;
    if (rc == SIO_ENOMEM)
        acpi_seterr(err, 0, "out of memory");
    return rc;
}

int acpi_parse(const struct acpi_format *f, const void *buf, size_t len, unsigned flags, void **out,
               struct sio_acpi_error *err)
{
    if (!buf || !out) {
        acpi_seterr(err, 0, "no table");
        return SIO_EINVAL;
    }
    *out = NULL;
    void *rec = calloc(1, f->rec_size);
    if (!rec) {
        acpi_seterr(err, 0, "out of memory");
        return SIO_ENOMEM;
    }
    int rc = acpi_walk(f, buf, len, flags, rec, NULL, err);
    if (rc) {
        f->free(rec);
        return rc;
    }
    *out = rec;
    return 0;
}

static size_t sub_size(const struct acpi_format *f, const void *rec, size_t i,
                       const struct acpi_sub *s)
{
    return s->known ? f->sub_size(rec, i) : s->raw_len;
}

int acpi_generate(const struct acpi_format *f, const void *rec, uint8_t **out, size_t *len,
                  struct sio_acpi_error *err)
{
    if (!rec || !out || !len) {
        acpi_seterr(err, 0, "no record");
        return SIO_EINVAL;
    }
    size_t nsub = f->nsub(rec), total = f->header_len;
    for (size_t i = 0; i < nsub; i++) {
        struct acpi_sub s = f->sub(rec, i);
        size_t n = sub_size(f, rec, i, &s);
        if (!s.known && (s.raw_len < 4 || !s.raw)) {
            char tt[12];
            type_text(f, s.type, tt, sizeof(tt));
            acpi_seterr(err, (uint32_t)total, "%s %zu: unknown type %s without raw bytes", f->noun,
                        i, tt);
            return SIO_EINVAL;
        }
        int rc = s.known ? f->check_sub(rec, i, (uint32_t)total, err) : 0;
        if (rc)
            return rc;
        if (n > 0xffff) {
            if (f->type_name)
                acpi_seterr(err, (uint32_t)total,
                            "%s %zu (%s): %zu bytes do not fit its 16-bit length", f->noun, i,
                            f->type_name(s.type), n);
            else
                acpi_seterr(err, (uint32_t)total, "%s %zu: %zu bytes do not fit its 16-bit length",
                            f->noun, i, n);
            return SIO_EINVAL;
        }
        total += n;
        if (total > UINT32_MAX) {
            acpi_seterr(err, 4, "table would exceed 4 GB");
            return SIO_EINVAL;
        }
    }
    uint8_t *b = calloc(1, total);
    if (!b) {
        acpi_seterr(err, 0, "out of memory");
        return SIO_ENOMEM;
    }
    acpi_write_header(b, rec_hdr(rec), (uint32_t)total);
    f->put_header(rec, b);
    size_t o = f->header_len;
    for (size_t i = 0; i < nsub; i++) {
        struct acpi_sub s = f->sub(rec, i);
        uint8_t *p = b + o;
        size_t n = sub_size(f, rec, i, &s);
        if (s.known)
            f->put_sub(rec, i, p);
        else
            memcpy(p, s.raw, n);
        if (f->type_bytes == 2)
            sio_st16le(p, (uint16_t)s.type);
        else
            p[0] = (uint8_t)s.type;
        sio_st16le(p + 2, (uint16_t)n);
        o += n;
    }
    acpi_fix_checksum(b, total);
    *out = b;
    *len = total;
    return 0;
}

int acpi_equal(const struct acpi_format *f, const void *a, const void *b)
{
    if (!a || !b)
        return a == b;
    size_t nsub = f->nsub(a);
    if (!acpi_header_equal(rec_hdr(a), rec_hdr(b)) || !f->header_equal(a, b) || nsub != f->nsub(b))
        return 0;
    for (size_t i = 0; i < nsub; i++) {
        struct acpi_sub sa = f->sub(a, i), sb = f->sub(b, i);
        if (sa.type != sb.type)
            return 0;
        if (!sa.known) {
            if (sa.raw_len != sb.raw_len || (sa.raw_len && memcmp(sa.raw, sb.raw, sa.raw_len)))
                return 0;
        } else if (!f->sub_equal(a, b, i)) {
            return 0;
        }
    }
    return 1;
}

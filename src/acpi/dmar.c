/* The DMAR table (VT-d 8): one walk over the bytes that validates every structure's bounds and,
 * as asked, fills the record (sio_dmar_parse) and/or emits iasl-style fields (sio_acpi_decode).
 * Also the record's builders, comparison and the generator. */
#include "acpi_int.h"

#include <softiommu/bits.h>
#include <softiommu/err.h>

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(offsetof(struct sio_dmar, hdr) == 0, "the engine finds a record's header first");

/* iasl's annotations for structure and scope types. */
static const char *const sub_titles[] = {
    "Hardware Unit Definition",          "Reserved Memory Region",
    "Root Port ATS Capability",          "Remapping Hardware Static Affinity",
    "ACPI Namespace Device Declaration", "SoC Integrated Address Translation Cache",
    "SoC Integrated Device Property",
};
static const char *const scope_titles[] = {
    "Reserved value", "PCI Endpoint Device",         "PCI Bridge Device",
    "IOAPIC Device",  "Message-capable HPET Device", "Namespace Device",
};
static const char *const short_names[] = {"DRHD", "RMRR", "ATSR", "RHSA", "ANDD", "SATC", "SIDP"};
static const char *const scope_short[] = {"reserved", "PCI endpoint", "PCI bridge",
                                          "IOAPIC",   "HPET",         "ACPI namespace device"};

#define NTYPES (sizeof(short_names) / sizeof(short_names[0]))

const char *sio_dmar_type_name(unsigned type)
{
    return type < NTYPES ? short_names[type] : "unknown";
}

const char *sio_dmar_scope_type_name(unsigned type)
{
    return type < 6 ? scope_short[type] : "unknown";
}

/* VT-d 8: each structure's fixed part; scopes follow it (0: the type has no scopes). */
static const struct {
    uint16_t fixed;
    uint16_t scopes_at;
} layout[] = {
    [SIO_DMAR_DRHD] = {16, 16}, [SIO_DMAR_RMRR] = {24, 24}, [SIO_DMAR_ATSR] = {8, 8},
    [SIO_DMAR_RHSA] = {20, 0},  [SIO_DMAR_ANDD] = {9, 0},   [SIO_DMAR_SATC] = {8, 8},
    [SIO_DMAR_SIDP] = {8, 8},
};

/* The fields of each fixed part after type and length, as iasl shows them (VT-d 8). bits: a
 * line decoding the field's low bits (mask) below it. ANDD's device name follows its fields. */
static const struct field {
    uint8_t off, width;
    const char *name;
    const char *bits;
    uint8_t mask;
} fixed_fields[][4] = {
    [SIO_DMAR_DRHD] = {{4, 1, "Flags", NULL, 0},
                       {5, 1, "Size (decoded below)", "Size (pages, log2)", 0xf},
                       {6, 2, "PCI Segment Number", NULL, 0},
                       {8, 8, "Register Base Address", NULL, 0}},
    [SIO_DMAR_RMRR] = {{4, 2, "Reserved", NULL, 0},
                       {6, 2, "PCI Segment Number", NULL, 0},
                       {8, 8, "Base Address", NULL, 0},
                       {16, 8, "End Address (limit)", NULL, 0}},
    [SIO_DMAR_ATSR] = {{4, 1, "Flags", NULL, 0},
                       {5, 1, "Reserved", NULL, 0},
                       {6, 2, "PCI Segment Number", NULL, 0}},
    [SIO_DMAR_RHSA] = {{4, 4, "Reserved", NULL, 0},
                       {8, 8, "Base Address", NULL, 0},
                       {16, 4, "Proximity Domain", NULL, 0}},
    [SIO_DMAR_ANDD] = {{4, 3, "Reserved", NULL, 0}, {7, 1, "Device Number", NULL, 0}},
    [SIO_DMAR_SATC] = {{4, 1, "Flags", NULL, 0},
                       {5, 1, "Reserved", NULL, 0},
                       {6, 2, "PCI Segment Number", NULL, 0}},
    [SIO_DMAR_SIDP] = {{4, 2, "Reserved", NULL, 0}, {6, 2, "PCI Segment Number", NULL, 0}},
};

static int walk_scopes(struct acpi_walk *w, uint32_t s_off, uint32_t s_len, unsigned type,
                       struct sio_dmar_struct *st)
{
    const uint8_t *b = w->b;
    uint32_t o = s_off + layout[type].scopes_at, end = s_off + s_len;
    const char *sn = short_names[type];
    while (o < end) {
        if (end - o < 2) {
            acpi_seterr(w->err, o,
                        "device scope at 0x%" PRIX32 ": only 1 byte left in the %s at 0x%" PRIX32,
                        o, sn, s_off);
            return SIO_EPARSE;
        }
        uint8_t stype = b[o], elen = b[o + 1];
        if (elen < 6) {
            acpi_seterr(w->err, o + 1,
                        "device scope at 0x%" PRIX32 ": length %u is below the 6-byte scope "
                        "header",
                        o, elen);
            return SIO_EPARSE;
        }
        if (elen > end - o) {
            acpi_seterr(w->err, o + 1,
                        "device scope at 0x%" PRIX32 ": length %u runs past the end of its %s "
                        "at 0x%" PRIX32 " (%" PRIu32 " bytes left)",
                        o, elen, sn, s_off, end - o);
            return SIO_EPARSE;
        }
        unsigned hops = (elen - 6u) / 2u;
        em_uint(w->em, o, 1, 2, 1, "Device Scope Type",
                stype < 6 ? scope_titles[stype] : "Unknown Scope Type");
        em_uint(w->em, o + 1, 1, 2, 0, "Entry Length", NULL);
        em_uint(w->em, o + 2, 1, 2, 0, "Flags", NULL);
        em_uint(w->em, o + 3, 1, 2, 0, "Reserved", NULL);
        em_uint(w->em, o + 4, 1, 2, 0, "Enumeration ID", NULL);
        em_uint(w->em, o + 5, 1, 2, 0, "PCI Bus Number", NULL);
        for (unsigned h = 0; h < hops; h++)
            em_path(w->em, o + 6 + 2 * h, 2, "PCI Path");
        if (w->rec) {
            int rc = 0;
            if (stype == 0 || stype > SIO_DMAR_SCOPE_NAMESPACE)
                rc |= acpi_note(&w->nl, o, "device scope type %u is not defined; kept", stype);
            if (elen & 1)
                rc |= acpi_note(&w->nl, o + 1, "device scope length %u is odd: last byte ignored",
                                elen);
            if (hops == 0)
                rc |= acpi_note(&w->nl, o, "device scope at 0x%" PRIX32 " has no path", o);
            struct sio_dmar_scope *sc;
            if (rc || !(sc = acpi_push((void **)&st->scopes, &st->nscopes, sizeof(*st->scopes))))
                return SIO_ENOMEM;
            sc->type = stype;
            sc->flags = b[o + 2];
            sc->enum_id = b[o + 4];
            sc->bus = b[o + 5];
            sc->npath = (uint8_t)hops;
            sc->offset = o;
            for (unsigned h = 0; h < hops; h++) {
                sc->path[h].dev = b[o + 6 + 2 * h];
                sc->path[h].fn = b[o + 7 + 2 * h];
            }
        }
        o += elen;
    }
    return 0;
}

static int walk_struct(struct acpi_walk *w, uint32_t off, unsigned type, uint16_t slen)
{
    const uint8_t *b = w->b;
    struct acpi_em *em = w->em;
    struct sio_dmar *m = w->rec;
    em_uint(em, off, 2, 1, 1, "Subtable Type",
            type < NTYPES ? sub_titles[type] : "Unknown Subtable Type");
    em_uint(em, off + 2, 2, 1, 0, "Length", NULL);
    if (type >= NTYPES) {
        struct sio_dmar_struct *st;
        int rc = acpi_walk_unknown(&acpi_dmar_format, w, off, type, slen);
        if (rc || !m)
            return rc;
        if (!(st = acpi_push((void **)&m->st, &m->nst, sizeof(*m->st))))
            return SIO_ENOMEM;
        st->type = (uint16_t)type;
        st->offset = off;
        st->raw = malloc(slen);
        if (!st->raw)
            return SIO_ENOMEM;
        memcpy(st->raw, b + off, slen);
        st->raw_len = slen;
        return 0;
    }
    if (slen < layout[type].fixed) {
        acpi_seterr(w->err, off + 2,
                    "%s at 0x%" PRIX32 ": length %u is below its %u-byte fixed part",
                    short_names[type], off, slen, layout[type].fixed);
        return SIO_EPARSE;
    }
    const uint8_t *s = b + off;
    uint32_t name_len = 0;
    if (type == SIO_DMAR_ANDD) {
        /* Linux rejects an ANDD whose object path is not terminated inside the structure. */
        const uint8_t *nul = memchr(s + 8, 0, slen - 8u);
        if (!nul) {
            acpi_seterr(w->err, off + 8,
                        "ANDD at 0x%" PRIX32 ": device name is not NUL-terminated within the "
                        "structure's %u bytes",
                        off, slen);
            return SIO_EPARSE;
        }
        name_len = (uint32_t)(nul - (s + 8)) + 1;
    }

    const struct field *fl = fixed_fields[type];
    for (const struct field *f = fl; f < fl + 4 && f->name; f++) {
        em_uint(em, off + f->off, f->width, 1, 0, f->name, NULL);
        if (f->bits)
            em_bits(em, off + f->off, 1, f->bits, s[f->off] & f->mask);
    }
    if (type == SIO_DMAR_ANDD)
        em_name(em, off + 8, name_len, 1, 0, "Device Name", NULL);

    struct sio_dmar_struct *st = NULL;
    if (m) {
        if (!(st = acpi_push((void **)&m->st, &m->nst, sizeof(*m->st))))
            return SIO_ENOMEM;
        st->type = (uint16_t)type;
        st->offset = off;
        switch (type) {
        case SIO_DMAR_DRHD:
            st->flags = s[4];
            st->size = s[5];
            st->segment = sio_ld16le(s + 6);
            st->base = sio_ld64le(s + 8);
            break;
        case SIO_DMAR_RMRR:
            st->segment = sio_ld16le(s + 6);
            st->base = sio_ld64le(s + 8);
            st->limit = sio_ld64le(s + 16);
            break;
        case SIO_DMAR_ATSR:
        case SIO_DMAR_SATC:
            st->flags = s[4];
            st->segment = sio_ld16le(s + 6);
            break;
        case SIO_DMAR_SIDP:
            st->segment = sio_ld16le(s + 6);
            break;
        case SIO_DMAR_RHSA:
            st->base = sio_ld64le(s + 8);
            st->proximity = sio_ld32le(s + 16);
            if (slen > 20 &&
                acpi_note(&w->nl, off + 20, "RHSA at 0x%" PRIX32 ": %u bytes after its 20 ignored",
                          off, slen - 20u))
                return SIO_ENOMEM;
            break;
        case SIO_DMAR_ANDD:
            st->acpi_dev = s[7];
            st->acpi_name = malloc(name_len);
            if (!st->acpi_name)
                return SIO_ENOMEM;
            memcpy(st->acpi_name, s + 8, name_len);
            st->acpi_name_len = (uint16_t)(slen - 8u);
            break;
        }
    }
    if (layout[type].scopes_at)
        return walk_scopes(w, off, slen, type, st);
    return 0;
}

static void walk_header(struct acpi_walk *w)
{
    struct sio_dmar *m = w->rec;
    if (m) {
        m->haw = w->b[36];
        m->flags = w->b[37];
    }
    em_uint(w->em, 36, 1, 0, 1, "Host Address Width", NULL);
    em_uint(w->em, 37, 1, 0, 0, "Flags", NULL);
    em_bytes(w->em, 38, 10, 0, 0, "Reserved");
}

/* Firmware bugs Linux warns about (drivers/iommu/intel/dmar.c), as notes. */
static int lint(struct acpi_walk *w)
{
    struct sio_dmar *m = w->rec;
    struct acpi_notes *nl = &w->nl;
    if (!m)
        return 0;
    int rc = 0;
    if (m->haw < 11)
        rc |= acpi_note(nl, 36, "host address width %u bits is below 12: Linux refuses the DMAR",
                        m->haw + 1u);
    if (m->flags & ~7u)
        rc |= acpi_note(nl, 37, "reserved DMAR flag bits set: 0x%02X", m->flags);
    for (size_t i = 0; i < m->nst; i++) {
        const struct sio_dmar_struct *s = &m->st[i];
        if (s->type == SIO_DMAR_DRHD) {
            if (s->base == 0 || s->base == ~0ULL)
                rc |= acpi_note(nl, s->offset + 8,
                                "DRHD at 0x%" PRIX32 ": register base 0x%" PRIX64
                                " is invalid (firmware bug)",
                                s->offset, s->base);
            else if (s->base & 0xfff)
                rc |= acpi_note(nl, s->offset + 8,
                                "DRHD at 0x%" PRIX32 ": register base 0x%" PRIX64
                                " is not 4 KB aligned",
                                s->offset, s->base);
            for (size_t j = 0; j < i; j++)
                if (m->st[j].type == SIO_DMAR_DRHD && (m->st[j].flags & s->flags & 1) &&
                    m->st[j].segment == s->segment)
                    rc |= acpi_note(nl, s->offset + 4,
                                    "second INCLUDE_PCI_ALL unit for segment %u at 0x%" PRIX32,
                                    s->segment, s->offset);
        } else if (s->type == SIO_DMAR_RMRR) {
            if ((s->base & 0xfff) || ((s->limit + 1) & 0xfff) || s->limit < s->base)
                rc |= acpi_note(nl, s->offset + 8,
                                "RMRR at 0x%" PRIX32 ": bad region [0x%" PRIX64 "-0x%" PRIX64
                                "] (firmware bug: not 4 KB aligned or ends before it starts)",
                                s->offset, s->base, s->limit);
        }
    }
    return rc ? SIO_ENOMEM : 0;
}

/* ---- the record ---- */

int sio_dmar_parse(const void *buf, size_t len, unsigned flags, struct sio_dmar **out,
                   struct sio_acpi_error *err)
{
    void *rec = NULL;
    int rc = acpi_parse(&acpi_dmar_format, buf, len, flags, out ? &rec : NULL, err);
    if (out && buf)
        *out = rec;
    return rc;
}

void sio_dmar_free(struct sio_dmar *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nst; i++) {
        free(d->st[i].scopes);
        free(d->st[i].acpi_name);
        free(d->st[i].raw);
    }
    free(d->st);
    free(d->notes);
    free(d);
}

struct sio_dmar *sio_dmar_new(unsigned haw_bits, uint8_t flags)
{
    if (haw_bits < 1 || haw_bits > 256)
        return NULL;
    struct sio_dmar *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    acpi_default_header(&d->hdr, "DMAR", 1);
    d->haw = (uint8_t)(haw_bits - 1);
    d->flags = flags;
    return d;
}

struct sio_dmar_struct *sio_dmar_add(struct sio_dmar *d, uint16_t type)
{
    struct sio_dmar_struct *s = d ? acpi_push((void **)&d->st, &d->nst, sizeof(*d->st)) : NULL;
    if (s)
        s->type = type;
    return s;
}

int sio_dmar_add_scope(struct sio_dmar_struct *s, uint8_t type, uint8_t enum_id, uint8_t bus,
                       const struct sio_dmar_hop *path, unsigned npath)
{
    if (!s || npath < 1 || npath > SIO_DMAR_MAX_HOPS || !path)
        return SIO_EINVAL;
    struct sio_dmar_scope *sc = acpi_push((void **)&s->scopes, &s->nscopes, sizeof(*s->scopes));
    if (!sc)
        return SIO_ENOMEM;
    sc->type = type;
    sc->enum_id = enum_id;
    sc->bus = bus;
    sc->npath = (uint8_t)npath;
    memcpy(sc->path, path, npath * sizeof(*path));
    return 0;
}

int sio_dmar_set_name(struct sio_dmar_struct *s, const char *name)
{
    if (!s || !name)
        return SIO_EINVAL;
    char *c = strdup(name);
    if (!c)
        return SIO_ENOMEM;
    free(s->acpi_name);
    s->acpi_name = c;
    return 0;
}

static size_t name_space(const struct sio_dmar_struct *s)
{
    size_t need = (s->acpi_name ? strlen(s->acpi_name) : 0) + 1;
    return s->acpi_name_len ? s->acpi_name_len : need;
}

/* ---- what the engine asks of a record ---- */

static const struct sio_dmar_struct *rec_struct(const void *rec, size_t i)
{
    const struct sio_dmar *d = rec;
    return &d->st[i];
}

static struct acpi_notes rec_notes(void *rec)
{
    struct sio_dmar *d = rec;
    return (struct acpi_notes){&d->notes, &d->nnotes};
}

static void rec_free(void *rec)
{
    sio_dmar_free(rec);
}

static size_t rec_nsub(const void *rec)
{
    const struct sio_dmar *d = rec;
    return d->nst;
}

static struct acpi_sub rec_sub(const void *rec, size_t i)
{
    const struct sio_dmar_struct *s = rec_struct(rec, i);
    return (struct acpi_sub){s->type, s->type < NTYPES, s->raw, s->raw_len};
}

/* ---- comparison ---- */

static int header_equal(const void *ra, const void *rb)
{
    const struct sio_dmar *a = ra, *b = rb;
    return a->haw == b->haw && a->flags == b->flags;
}

static int scope_equal(const struct sio_dmar_scope *a, const struct sio_dmar_scope *b)
{
    if (a->type != b->type || a->flags != b->flags || a->enum_id != b->enum_id ||
        a->bus != b->bus || a->npath != b->npath)
        return 0;
    for (unsigned h = 0; h < a->npath && h < SIO_DMAR_MAX_HOPS; h++)
        if (a->path[h].dev != b->path[h].dev || a->path[h].fn != b->path[h].fn)
            return 0;
    return 1;
}

static int struct_equal(const void *ra, const void *rb, size_t i)
{
    const struct sio_dmar_struct *a = rec_struct(ra, i), *b = rec_struct(rb, i);
    if (a->flags != b->flags || a->size != b->size || a->segment != b->segment ||
        a->base != b->base || a->limit != b->limit || a->proximity != b->proximity ||
        a->acpi_dev != b->acpi_dev || a->nscopes != b->nscopes)
        return 0;
    if (a->type == SIO_DMAR_ANDD) {
        const char *na = a->acpi_name ? a->acpi_name : "", *nb = b->acpi_name ? b->acpi_name : "";
        if (strcmp(na, nb) || name_space(a) != name_space(b))
            return 0;
    }
    for (size_t j = 0; j < a->nscopes; j++)
        if (!scope_equal(&a->scopes[j], &b->scopes[j]))
            return 0;
    return 1;
}

int sio_dmar_equal(const struct sio_dmar *a, const struct sio_dmar *b)
{
    return acpi_equal(&acpi_dmar_format, a, b);
}

/* ---- the generator ---- */

static size_t struct_size(const void *rec, size_t i)
{
    const struct sio_dmar_struct *s = rec_struct(rec, i);
    if (s->type == SIO_DMAR_ANDD)
        return 8 + name_space(s);
    size_t n = layout[s->type].fixed;
    if (layout[s->type].scopes_at)
        for (size_t j = 0; j < s->nscopes; j++)
            n += 6 + 2u * s->scopes[j].npath;
    return n;
}

static int check_struct(const void *rec, size_t i, uint32_t at, struct sio_acpi_error *err)
{
    const struct sio_dmar_struct *s = rec_struct(rec, i);
    if (s->type == SIO_DMAR_ANDD && name_space(s) < (s->acpi_name ? strlen(s->acpi_name) : 0) + 1) {
        acpi_seterr(err, at, "structure %zu: ANDD name longer than its space", i);
        return SIO_EINVAL;
    }
    for (size_t j = 0; layout[s->type].scopes_at && j < s->nscopes; j++)
        if (s->scopes[j].npath > SIO_DMAR_MAX_HOPS) {
            acpi_seterr(err, at, "structure %zu, scope %zu: %u hops (max %u)", i, j,
                        s->scopes[j].npath, SIO_DMAR_MAX_HOPS);
            return SIO_EINVAL;
        }
    return 0;
}

static void put_header(const void *rec, uint8_t *b)
{
    const struct sio_dmar *d = rec;
    b[36] = d->haw;
    b[37] = d->flags;
}

static void put_struct(const void *rec, size_t i, uint8_t *p)
{
    const struct sio_dmar_struct *s = rec_struct(rec, i);
    switch (s->type) {
    case SIO_DMAR_DRHD:
        p[4] = s->flags;
        p[5] = s->size;
        sio_st16le(p + 6, s->segment);
        sio_st64le(p + 8, s->base);
        break;
    case SIO_DMAR_RMRR:
        sio_st16le(p + 6, s->segment);
        sio_st64le(p + 8, s->base);
        sio_st64le(p + 16, s->limit);
        break;
    case SIO_DMAR_ATSR:
    case SIO_DMAR_SATC:
        p[4] = s->flags;
        sio_st16le(p + 6, s->segment);
        break;
    case SIO_DMAR_SIDP:
        sio_st16le(p + 6, s->segment);
        break;
    case SIO_DMAR_RHSA:
        sio_st64le(p + 8, s->base);
        sio_st32le(p + 16, s->proximity);
        break;
    case SIO_DMAR_ANDD:
        p[7] = s->acpi_dev;
        if (s->acpi_name)
            memcpy(p + 8, s->acpi_name, strlen(s->acpi_name));
        break;
    }
    if (layout[s->type].scopes_at) {
        uint8_t *q = p + layout[s->type].scopes_at;
        for (size_t j = 0; j < s->nscopes; j++) {
            const struct sio_dmar_scope *sc = &s->scopes[j];
            q[0] = sc->type;
            q[1] = (uint8_t)(6 + 2 * sc->npath);
            q[2] = sc->flags;
            q[4] = sc->enum_id;
            q[5] = sc->bus;
            for (unsigned h = 0; h < sc->npath; h++) {
                q[6 + 2 * h] = sc->path[h].dev;
                q[7 + 2 * h] = sc->path[h].fn;
            }
            q += q[1];
        }
    }
}

int sio_dmar_generate(const struct sio_dmar *d, uint8_t **out, size_t *len,
                      struct sio_acpi_error *err)
{
    return acpi_generate(&acpi_dmar_format, d, out, len, err);
}

const struct acpi_format acpi_dmar_format = {
    .sig = "DMAR",
    .title = "DMA Remapping Table",
    .header_len = SIO_DMAR_HEADER_LEN,
    .noun = "structure",
    .type_hex = 0,
    .type_bytes = 2,
    .type_name = sio_dmar_type_name,
    .rec_size = sizeof(struct sio_dmar),
    .notes = rec_notes,
    .free = rec_free,
    .walk_header = walk_header,
    .walk_sub = walk_struct,
    .walk_end = lint,
    .nsub = rec_nsub,
    .sub = rec_sub,
    .sub_size = struct_size,
    .check_sub = check_struct,
    .put_header = put_header,
    .put_sub = put_struct,
    .header_equal = header_equal,
    .sub_equal = struct_equal,
};

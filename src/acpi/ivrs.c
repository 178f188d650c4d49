/* The IVRS table (AMD I/O Virtualization Technology spec; digest: spec/amd-gart-calgary.md 3.6):
 * one walk that validates every subtable and device entry against its bounds and, as asked, fills
 * the record and/or emits iasl-style fields. Also builders, comparison and the generator. */
#include "acpi_int.h"

#include <softiommu/bits.h>
#include <softiommu/err.h>

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(offsetof(struct sio_ivrs, hdr) == 0, "the engine finds a record's header first");

#define IVHD10_LEN 24u /* IVHD type 0x10 header */
#define IVHD11_LEN 40u /* IVHD types 0x11 and 0x40 header: + EFR and EFR2 images */
#define IVMD_LEN   32u
#define HID_FIXED  22u /* ACPI HID entry before its UID */

static int is_ivhd(unsigned t)
{
    return t == SIO_IVRS_IVHD_10 || t == SIO_IVRS_IVHD_11 || t == SIO_IVRS_IVHD_40;
}

static int is_ivmd(unsigned t)
{
    return t >= SIO_IVRS_IVMD_ALL && t <= SIO_IVRS_IVMD_RANGE;
}

static uint32_t ivhd_hdr_len(unsigned t)
{
    return t == SIO_IVRS_IVHD_10 ? IVHD10_LEN : IVHD11_LEN;
}

static const char *sub_title(unsigned t)
{
    if (t == SIO_IVRS_IVHD_40)
        return "Hardware Definition Block - Mixed Format (IVHD)";
    if (is_ivhd(t))
        return "Hardware Definition Block (IVHD)";
    if (is_ivmd(t))
        return "Memory Definition Block (IVMD)";
    return "Unknown/Reserved Subtable Type";
}

static const char *entry_title(unsigned t)
{
    switch (t) {
    case SIO_IVHD_DEV_ALL:
        return "Device Entry: Select All Devices";
    case SIO_IVHD_DEV_SELECT:
        return "Device Entry: Select One Device";
    case SIO_IVHD_DEV_RANGE_START:
        return "Device Entry: Start of Range";
    case SIO_IVHD_DEV_RANGE_END:
        return "Device Entry: End of Range";
    case SIO_IVHD_DEV_ALIAS_SELECT:
        return "Device Entry: Alias Select";
    case SIO_IVHD_DEV_ALIAS_RANGE:
        return "Device Entry: Alias Start of Range";
    case SIO_IVHD_DEV_EXT_SELECT:
        return "Device Entry: Extended Select";
    case SIO_IVHD_DEV_EXT_RANGE:
        return "Device Entry: Extended Start of Range";
    case SIO_IVHD_DEV_SPECIAL:
        return "Device Entry: Special Device";
    case SIO_IVHD_DEV_ACPI_HID:
        return "Device Entry: ACPI HID Named Device";
    default:
        return "Unknown/Reserved Device Entry Type";
    }
}

static int known_entry(unsigned t)
{
    return t <= SIO_IVHD_DEV_RANGE_END || t == SIO_IVHD_DEV_PAD8 ||
           t == SIO_IVHD_DEV_ALIAS_SELECT || t == SIO_IVHD_DEV_ALIAS_RANGE ||
           t == SIO_IVHD_DEV_EXT_SELECT || t == SIO_IVHD_DEV_EXT_RANGE ||
           t == SIO_IVHD_DEV_SPECIAL || t == SIO_IVHD_DEV_ACPI_HID;
}

/* AMD IOMMU spec: the type's top two bits give the size: 00 4 bytes, 01 8 bytes, 1x variable. */
size_t sio_ivhd_entry_size(const struct sio_ivhd_entry *e)
{
    if (e->type < 0x40)
        return 4;
    if (e->type < 0x80)
        return 8;
    if (e->type == SIO_IVHD_DEV_ACPI_HID)
        return HID_FIXED + e->uid_len;
    return 0;
}

/* iasl prints an 8-byte ACPI id as a string when its first three bytes are letters, else as an
 * integer (ACPICA UtIsIdInteger). */
static void em_acpi_id(struct acpi_em *em, uint32_t off, const char *name)
{
    if (!em || !em->fn)
        return;
    const uint8_t *p = em->tab + off;
    int alpha = 1;
    for (int i = 0; i < 3; i++)
        if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z')))
            alpha = 0;
    if (alpha)
        em_name(em, off, 8, 2, 0, name, NULL);
    else
        em_uint(em, off, 8, 2, 0, name, NULL);
}

static void em_setting(struct acpi_em *em, uint32_t off, uint8_t v)
{
    em_uint(em, off, 1, 2, 0, "Data Setting (decoded below)", NULL);
    em_bits(em, off, 2, "INITPass", v & 1);
    em_bits(em, off, 2, "EIntPass", (v >> 1) & 1);
    em_bits(em, off, 2, "NMIPass", (v >> 2) & 1);
    em_bits(em, off, 2, "Reserved", (v >> 3) & 1);
    em_bits(em, off, 2, "System MGMT", (v >> 4) & 3);
    em_bits(em, off, 2, "LINT0 Pass", (v >> 6) & 1);
    em_bits(em, off, 2, "LINT1 Pass", (v >> 7) & 1);
}

static int walk_entries(struct acpi_walk *w, uint32_t s_off, uint32_t s_len, unsigned stype,
                        struct sio_ivrs_sub *sub)
{
    const uint8_t *b = w->b;
    struct acpi_em *em = w->em;
    uint32_t o = s_off + ivhd_hdr_len(stype), end = s_off + s_len;
    while (o < end) {
        uint8_t t = b[o];
        uint32_t size = t < 0x40 ? 4 : t < 0x80 ? 8 : t == SIO_IVHD_DEV_ACPI_HID ? HID_FIXED : 0;
        if (size == 0) {
            /* A variable-length type we do not know: its length cannot be found, so the rest of
             * this IVHD cannot be followed (Linux stops there too). */
            em_comment(em, o, 2,
                       "**** Unknown IVRS device entry type 0x%02X at offset 0x%04" PRIX32
                       ": variable length, rest of this IVHD skipped",
                       t, o);
            if (acpi_note(&w->nl, o,
                          "IVHD at 0x%" PRIX32 ": device entry type 0x%02X at 0x%" PRIX32
                          " has an unknown length; %" PRIu32 " bytes skipped",
                          s_off, t, o, end - o))
                return SIO_ENOMEM;
            return 0;
        }
        if (size > end - o) {
            acpi_seterr(w->err, o,
                        "device entry at 0x%" PRIX32 " (type 0x%02X, %" PRIu32
                        " bytes) runs past the end of its IVHD at 0x%" PRIX32 " (%" PRIu32
                        " bytes left)",
                        o, t, size, s_off, end - o);
            return SIO_EPARSE;
        }
        if (t == SIO_IVHD_DEV_ACPI_HID) {
            size += b[o + 21];
            if (size > end - o) {
                acpi_seterr(w->err, o + 21,
                            "ACPI HID entry at 0x%" PRIX32 ": UID length %u runs past the end "
                            "of its IVHD at 0x%" PRIX32 " (%" PRIu32 " bytes left)",
                            o, b[o + 21], s_off, end - o);
                return SIO_EPARSE;
            }
        }
        if (!known_entry(t))
            em_comment(em, o, 2,
                       "**** Unknown IVRS device entry type/length: 0x%02X/0x%" PRIX32
                       " at offset 0x%04" PRIX32 ": (header below)",
                       t, size, o);
        em_uint(em, o, 1, 2, 1, "Subtable Type", entry_title(t));
        em_uint(em, o + 1, 2, 2, 0, "Device ID", NULL);
        em_setting(em, o + 3, b[o + 3]);
        switch (t) {
        case SIO_IVHD_DEV_ALIAS_SELECT:
        case SIO_IVHD_DEV_ALIAS_RANGE:
            em_uint(em, o + 4, 1, 2, 0, "Reserved", NULL);
            em_uint(em, o + 5, 2, 2, 0, "Source Used Device ID", NULL);
            em_uint(em, o + 7, 1, 2, 0, "Reserved", NULL);
            break;
        case SIO_IVHD_DEV_PAD8:
        case SIO_IVHD_DEV_EXT_SELECT:
        case SIO_IVHD_DEV_EXT_RANGE:
            em_uint(em, o + 4, 4, 2, 0, "Extended Data", NULL);
            break;
        case SIO_IVHD_DEV_SPECIAL:
            em_uint(em, o + 4, 1, 2, 0, "Handle", NULL);
            em_uint(em, o + 5, 2, 2, 0, "Source Used Device ID", NULL);
            em_uint(em, o + 7, 1, 2, 0, "Variety", NULL);
            break;
        case SIO_IVHD_DEV_ACPI_HID: {
            uint8_t fmt = b[o + 20], ulen = b[o + 21];
            em_acpi_id(em, o + 4, "ACPI HID");
            em_acpi_id(em, o + 12, "ACPI CID");
            em_uint(em, o + 20, 1, 2, 0, "UID Format", NULL);
            em_uint(em, o + 21, 1, 2, 0, "UID Length", NULL);
            if (ulen) {
                if (fmt == 1 && ulen <= 8)
                    em_uint(em, o + 22, ulen, 2, 0, "UID", NULL);
                else if (fmt == 2)
                    em_name(em, o + 22, ulen, 2, 0, "UID", NULL);
                else
                    em_bytes(em, o + 22, ulen, 2, 0, "UID");
            }
            break;
        }
        default:
            if (size == 8)
                em_uint(em, o + 4, 4, 2, 0, "Extended Data", NULL);
            break;
        }
        if (sub) {
            int rc = 0;
            if (!known_entry(t))
                rc = acpi_note(&w->nl, o,
                               "unknown IVHD device entry type 0x%02X (%" PRIu32 " bytes) kept", t,
                               size);
            if (t == SIO_IVHD_DEV_ACPI_HID && b[o + 20] == 0 && b[o + 21] != 0)
                rc |= acpi_note(&w->nl, o + 21,
                                "ACPI HID entry at 0x%" PRIX32
                                ": UID length %u with UID format 0 (none) (firmware bug)",
                                o, b[o + 21]);
            struct sio_ivhd_entry *e;
            if (rc ||
                !(e = acpi_push((void **)&sub->entries, &sub->nentries, sizeof(*sub->entries))))
                return SIO_ENOMEM;
            e->type = t;
            e->devid = sio_ld16le(b + o + 1);
            e->setting = b[o + 3];
            e->offset = o;
            if (t == SIO_IVHD_DEV_ALIAS_SELECT || t == SIO_IVHD_DEV_ALIAS_RANGE) {
                e->alias = sio_ld16le(b + o + 5);
            } else if (t == SIO_IVHD_DEV_SPECIAL) {
                e->handle = b[o + 4];
                e->alias = sio_ld16le(b + o + 5);
                e->variety = b[o + 7];
            } else if (t == SIO_IVHD_DEV_ACPI_HID) {
                memcpy(e->hid, b + o + 4, 8);
                memcpy(e->cid, b + o + 12, 8);
                e->uid_format = b[o + 20];
                e->uid_len = b[o + 21];
                memcpy(e->uid, b + o + 22, e->uid_len);
            } else if (size == 8) {
                e->ext = sio_ld32le(b + o + 4);
            }
        }
        o += size;
    }
    return 0;
}

static int walk_sub(struct acpi_walk *w, uint32_t off, unsigned type, uint16_t slen)
{
    const uint8_t *b = w->b, *s = b + off;
    struct acpi_em *em = w->em;
    struct sio_ivrs *m = w->rec;
    if (!is_ivhd(type) && !is_ivmd(type)) {
        struct sio_ivrs_sub *u;
        int rc = acpi_walk_unknown(&acpi_ivrs_format, w, off, type, slen);
        if (rc || !m)
            return rc;
        if (!(u = acpi_push((void **)&m->sub, &m->nsub, sizeof(*m->sub))))
            return SIO_ENOMEM;
        u->type = (uint8_t)type;
        u->offset = off;
        u->raw = malloc(slen);
        if (!u->raw)
            return SIO_ENOMEM;
        memcpy(u->raw, s, slen);
        u->raw_len = slen;
        return 0;
    }
    uint32_t fixed = is_ivhd(type) ? ivhd_hdr_len(type) : IVMD_LEN;
    if (slen < fixed) {
        acpi_seterr(w->err, off + 2,
                    "%s type 0x%02X at 0x%" PRIX32 ": length %u is below its %" PRIu32
                    "-byte fixed part",
                    is_ivhd(type) ? "IVHD" : "IVMD", type, off, slen, fixed);
        return SIO_EPARSE;
    }
    uint8_t fl = s[1];
    em_uint(em, off, 1, 1, 1, "Subtable Type", sub_title(type));
    em_uint(em, off + 1, 1, 1, 0, "Flags (decoded below)", NULL);
    if (is_ivhd(type)) {
        static const char *const bits[] = {"HtTunEn",          "PassPW",        "ResPassPW",
                                           "Isoc Control",     "Iotlb Support", "Coherent",
                                           "Prefetch Support", "PPR Support"};
        for (unsigned i = 0; i < 8; i++)
            em_bits(em, off + 1, 1, bits[i], (fl >> i) & 1);
    } else {
        static const char *const bits[] = {"Unity", "Readable", "Writeable", "Exclusion Range"};
        for (unsigned i = 0; i < 4; i++)
            em_bits(em, off + 1, 1, bits[i], (fl >> i) & 1);
    }
    em_uint(em, off + 2, 2, 1, 0, "Length", NULL);
    em_uint(em, off + 4, 2, 1, 0, "DeviceId", NULL);
    if (is_ivhd(type)) {
        em_uint(em, off + 6, 2, 1, 0, "Capability Offset", NULL);
        em_uint(em, off + 8, 8, 1, 0, "Base Address", NULL);
        em_uint(em, off + 16, 2, 1, 0, "PCI Segment Group", NULL);
        em_uint(em, off + 18, 2, 1, 0, "Virtualization Info", NULL);
        if (type == SIO_IVRS_IVHD_10) {
            em_uint(em, off + 20, 4, 1, 0, "Feature Reporting", NULL);
        } else {
            em_uint(em, off + 20, 4, 1, 0, "Attributes", NULL);
            em_uint(em, off + 24, 8, 1, 0, "EFR Image", NULL);
            em_uint(em, off + 32, 8, 1, 0, "Reserved", NULL);
        }
    } else {
        em_uint(em, off + 6, 2, 1, 0, "Auxiliary Data", NULL);
        em_uint(em, off + 8, 8, 1, 0, "Reserved", NULL);
        em_uint(em, off + 16, 8, 1, 0, "Start Address", NULL);
        em_uint(em, off + 24, 8, 1, 0, "Memory Length", NULL);
    }
    struct sio_ivrs_sub *u = NULL;
    if (m) {
        if (!(u = acpi_push((void **)&m->sub, &m->nsub, sizeof(*m->sub))))
            return SIO_ENOMEM;
        u->type = (uint8_t)type;
        u->flags = fl;
        u->devid = sio_ld16le(s + 4);
        u->offset = off;
        if (is_ivhd(type)) {
            u->cap_offset = sio_ld16le(s + 6);
            u->base = sio_ld64le(s + 8);
            u->segment = sio_ld16le(s + 16);
            u->info = sio_ld16le(s + 18);
            u->attr = sio_ld32le(s + 20);
            if (type != SIO_IVRS_IVHD_10) {
                u->efr = sio_ld64le(s + 24);
                u->efr2 = sio_ld64le(s + 32);
            }
        } else {
            u->aux = sio_ld16le(s + 6);
            u->segment = sio_ld16le(s + 8);
            u->start = sio_ld64le(s + 16);
            u->mem_len = sio_ld64le(s + 24);
            int rc = 0;
            if (slen > IVMD_LEN)
                rc |= acpi_note(&w->nl, off + IVMD_LEN,
                                "IVMD at 0x%" PRIX32 ": %u bytes after its 32 ignored", off,
                                slen - IVMD_LEN);
            if (sio_ld16le(s + 10) || sio_ld32le(s + 12))
                rc |= acpi_note(&w->nl, off + 10,
                                "IVMD at 0x%" PRIX32 ": reserved bytes 10-15 are not zero", off);
            if (rc)
                return SIO_ENOMEM;
        }
    }
    if (is_ivhd(type))
        return walk_entries(w, off, slen, type, u);
    return 0;
}

static void walk_header(struct acpi_walk *w)
{
    struct sio_ivrs *m = w->rec;
    if (m) {
        m->ivinfo = sio_ld32le(w->b + 36);
        m->reserved = sio_ld64le(w->b + 40);
    }
    em_uint(w->em, 36, 4, 0, 1, "Virtualization Info", NULL);
    em_uint(w->em, 40, 8, 0, 0, "Reserved", NULL);
}

/* ---- the record ---- */

int sio_ivrs_parse(const void *buf, size_t len, unsigned flags, struct sio_ivrs **out,
                   struct sio_acpi_error *err)
{
    void *rec = NULL;
    int rc = acpi_parse(&acpi_ivrs_format, buf, len, flags, out ? &rec : NULL, err);
    if (out && buf)
        *out = rec;
    return rc;
}

void sio_ivrs_free(struct sio_ivrs *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->nsub; i++) {
        free(v->sub[i].entries);
        free(v->sub[i].raw);
    }
    free(v->sub);
    free(v->notes);
    free(v);
}

struct sio_ivrs *sio_ivrs_new(uint32_t ivinfo)
{
    struct sio_ivrs *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    acpi_default_header(&v->hdr, "IVRS", 2);
    v->ivinfo = ivinfo;
    return v;
}

struct sio_ivrs_sub *sio_ivrs_add(struct sio_ivrs *v, uint8_t type)
{
    struct sio_ivrs_sub *s = v ? acpi_push((void **)&v->sub, &v->nsub, sizeof(*v->sub)) : NULL;
    if (s)
        s->type = type;
    return s;
}

int sio_ivrs_add_entry(struct sio_ivrs_sub *s, const struct sio_ivhd_entry *e)
{
    if (!s || !e || !is_ivhd(s->type) || sio_ivhd_entry_size(e) == 0)
        return SIO_EINVAL;
    struct sio_ivhd_entry *n = acpi_push((void **)&s->entries, &s->nentries, sizeof(*s->entries));
    if (!n)
        return SIO_ENOMEM;
    *n = *e;
    n->offset = 0;
    return 0;
}

/* ---- what the engine asks of a record ---- */

static const struct sio_ivrs_sub *rec_sub_at(const void *rec, size_t i)
{
    const struct sio_ivrs *v = rec;
    return &v->sub[i];
}

static struct acpi_notes rec_notes(void *rec)
{
    struct sio_ivrs *v = rec;
    return (struct acpi_notes){&v->notes, &v->nnotes};
}

static void rec_free(void *rec)
{
    sio_ivrs_free(rec);
}

static size_t rec_nsub(const void *rec)
{
    const struct sio_ivrs *v = rec;
    return v->nsub;
}

static struct acpi_sub rec_sub(const void *rec, size_t i)
{
    const struct sio_ivrs_sub *s = rec_sub_at(rec, i);
    return (struct acpi_sub){s->type, is_ivhd(s->type) || is_ivmd(s->type), s->raw, s->raw_len};
}

/* ---- comparison ---- */

static int header_equal(const void *ra, const void *rb)
{
    const struct sio_ivrs *a = ra, *b = rb;
    return a->ivinfo == b->ivinfo && a->reserved == b->reserved;
}

static int entry_equal(const struct sio_ivhd_entry *a, const struct sio_ivhd_entry *b)
{
    if (a->type != b->type || a->setting != b->setting || a->devid != b->devid ||
        a->alias != b->alias || a->handle != b->handle || a->variety != b->variety ||
        a->ext != b->ext)
        return 0;
    if (a->type != SIO_IVHD_DEV_ACPI_HID)
        return 1;
    return !memcmp(a->hid, b->hid, 8) && !memcmp(a->cid, b->cid, 8) &&
           a->uid_format == b->uid_format && a->uid_len == b->uid_len &&
           !memcmp(a->uid, b->uid, a->uid_len);
}

static int sub_equal(const void *ra, const void *rb, size_t i)
{
    const struct sio_ivrs_sub *a = rec_sub_at(ra, i), *b = rec_sub_at(rb, i);
    if (a->flags != b->flags || a->devid != b->devid || a->cap_offset != b->cap_offset ||
        a->base != b->base || a->segment != b->segment || a->info != b->info ||
        a->attr != b->attr || a->efr != b->efr || a->efr2 != b->efr2 || a->aux != b->aux ||
        a->start != b->start || a->mem_len != b->mem_len || a->nentries != b->nentries)
        return 0;
    for (size_t j = 0; j < a->nentries; j++)
        if (!entry_equal(&a->entries[j], &b->entries[j]))
            return 0;
    return 1;
}

int sio_ivrs_equal(const struct sio_ivrs *a, const struct sio_ivrs *b)
{
    return acpi_equal(&acpi_ivrs_format, a, b);
}

/* ---- the generator ---- */

static size_t sub_size(const void *rec, size_t i)
{
    const struct sio_ivrs_sub *s = rec_sub_at(rec, i);
    if (is_ivmd(s->type))
        return IVMD_LEN;
    size_t n = ivhd_hdr_len(s->type);
    for (size_t j = 0; j < s->nentries; j++)
        n += sio_ivhd_entry_size(&s->entries[j]);
    return n;
}

static int check_sub(const void *rec, size_t i, uint32_t at, struct sio_acpi_error *err)
{
    const struct sio_ivrs_sub *s = rec_sub_at(rec, i);
    for (size_t j = 0; is_ivhd(s->type) && j < s->nentries; j++)
        if (sio_ivhd_entry_size(&s->entries[j]) == 0) {
            acpi_seterr(err, at, "subtable %zu, entry %zu: type 0x%02X has no known length", i, j,
                        s->entries[j].type);
            return SIO_EINVAL;
        }
    return 0;
}

static void put_header(const void *rec, uint8_t *b)
{
    const struct sio_ivrs *v = rec;
    sio_st32le(b + 36, v->ivinfo);
    sio_st64le(b + 40, v->reserved);
}

static void put_entry(uint8_t *p, const struct sio_ivhd_entry *e)
{
    p[0] = e->type;
    sio_st16le(p + 1, e->devid);
    p[3] = e->setting;
    switch (e->type) {
    case SIO_IVHD_DEV_ALIAS_SELECT:
    case SIO_IVHD_DEV_ALIAS_RANGE:
        sio_st16le(p + 5, e->alias);
        break;
    case SIO_IVHD_DEV_SPECIAL:
        p[4] = e->handle;
        sio_st16le(p + 5, e->alias);
        p[7] = e->variety;
        break;
    case SIO_IVHD_DEV_ACPI_HID:
        memcpy(p + 4, e->hid, 8);
        memcpy(p + 12, e->cid, 8);
        p[20] = e->uid_format;
        p[21] = e->uid_len;
        memcpy(p + 22, e->uid, e->uid_len);
        break;
    default:
        if (e->type >= 0x40)
            sio_st32le(p + 4, e->ext);
        break;
    }
}

static void put_sub(const void *rec, size_t i, uint8_t *p)
{
    const struct sio_ivrs_sub *s = rec_sub_at(rec, i);
    p[1] = s->flags;
    sio_st16le(p + 4, s->devid);
    if (is_ivhd(s->type)) {
        sio_st16le(p + 6, s->cap_offset);
        sio_st64le(p + 8, s->base);
        sio_st16le(p + 16, s->segment);
        sio_st16le(p + 18, s->info);
        sio_st32le(p + 20, s->attr);
        if (s->type != SIO_IVRS_IVHD_10) {
            sio_st64le(p + 24, s->efr);
            sio_st64le(p + 32, s->efr2);
        }
        size_t q = ivhd_hdr_len(s->type);
        for (size_t j = 0; j < s->nentries; j++) {
            put_entry(p + q, &s->entries[j]);
            q += sio_ivhd_entry_size(&s->entries[j]);
        }
    } else {
        sio_st16le(p + 6, s->aux);
        sio_st16le(p + 8, s->segment);
        sio_st64le(p + 16, s->start);
        sio_st64le(p + 24, s->mem_len);
    }
}

int sio_ivrs_generate(const struct sio_ivrs *v, uint8_t **out, size_t *len,
                      struct sio_acpi_error *err)
{
    return acpi_generate(&acpi_ivrs_format, v, out, len, err);
}

const struct acpi_format acpi_ivrs_format = {
    .sig = "IVRS",
    .title = "I/O Virtualization Reporting Structure",
    .header_len = SIO_IVRS_HEADER_LEN,
    .noun = "subtable",
    .type_hex = 1,
    .type_bytes = 1,
    .type_name = NULL,
    .rec_size = sizeof(struct sio_ivrs),
    .notes = rec_notes,
    .free = rec_free,
    .walk_header = walk_header,
    .walk_sub = walk_sub,
    .walk_end = NULL,
    .nsub = rec_nsub,
    .sub = rec_sub,
    .sub_size = sub_size,
    .check_sub = check_sub,
    .put_header = put_header,
    .put_sub = put_sub,
    .header_equal = header_equal,
    .sub_equal = sub_equal,
};

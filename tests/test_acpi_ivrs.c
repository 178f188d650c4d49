/* IVRS (AMD IOMMU spec; digest: spec/amd-gart-calgary.md 3.6): real tables decoded by hand
 * from their bytes, the generator's layout, round trips, truncated and corrupted tables, unknown
 * subtables and device entries. */
#include "test_acpi.h"

#include <softiommu/acpi.h>
#include <softiommu/bits.h>
#include <softiommu/err.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Supermicro H8DGU (SR5690): one IVHD 0x10 and 22 device entries, read off the raw bytes. */
static void test_parse_sr5690(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = test_acpi_load("ivrs_supermicro_h8dgu_sr5690", &len);
    struct sio_ivrs *v;
    struct sio_acpi_error err;
    assert_int_equal(sio_ivrs_parse(b, len, 0, &v, &err), 0);
    assert_int_equal(v->hdr.length, 0xB0);
    assert_int_equal(v->hdr.revision, 1);
    assert_int_equal(v->hdr.checksum, 0x43);
    assert_memory_equal(v->hdr.oem_id, "AMD  ", 5);
    assert_int_equal(v->ivinfo, 0x00203400);
    assert_int_equal(v->nsub, 1);
    assert_int_equal(v->nnotes, 0);
    const struct sio_ivrs_sub *h = &v->sub[0];
    assert_int_equal(h->type, SIO_IVRS_IVHD_10);
    assert_int_equal(h->flags, 0x3E);
    assert_int_equal(h->devid, 0x0002);
    assert_int_equal(h->cap_offset, 0x40);
    assert_int_equal(h->base, 0xF6000000);
    assert_int_equal(h->segment, 0);
    assert_int_equal(h->info, 0x1300);
    assert_int_equal(h->attr, 0);
    assert_int_equal(h->nentries, 22);
    assert_int_equal(h->entries[0].type, SIO_IVHD_DEV_RANGE_START);
    assert_int_equal(h->entries[0].devid, 0x0000);
    assert_int_equal(h->entries[1].type, SIO_IVHD_DEV_RANGE_END);
    assert_int_equal(h->entries[1].devid, 0x0002);
    assert_int_equal(h->entries[12].type, SIO_IVHD_DEV_SELECT);
    assert_int_equal(h->entries[12].devid, 0x00A0);
    assert_int_equal(h->entries[12].setting, 0xD7);
    assert_int_equal(h->entries[15].type, SIO_IVHD_DEV_PAD4);
    const struct sio_ivhd_entry *a = &h->entries[16];
    assert_int_equal(a->type, SIO_IVHD_DEV_ALIAS_RANGE);
    assert_int_equal(a->devid, 0x0100);
    assert_int_equal(a->alias, 0x00A4);
    assert_int_equal(a->offset, 0x88);
    const struct sio_ivhd_entry *sp = &h->entries[21];
    assert_int_equal(sp->type, SIO_IVHD_DEV_SPECIAL);
    assert_int_equal(sp->handle, 1);
    assert_int_equal(sp->alias, 0x0001);
    assert_int_equal(sp->variety, 1);            /* IOAPIC */
    assert_int_equal(h->entries[20].variety, 2); /* HPET */
    sio_ivrs_free(v);
    free(b);
}

/* ThinkPad T14 Gen 3: IVHD 0x10, 0x11, an IVMD, IVHD 0x40 with ACPI HID entries, then a
 * subtable type 0x51 no spec we know defines: skipped by its length and reported. */
static void test_parse_t14(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = test_acpi_load("ivrs_lenovo_thinkpad_t14_gen3_rembrandt", &len);
    struct sio_ivrs *v;
    assert_int_equal(sio_ivrs_parse(b, len, 0, &v, NULL), 0);
    assert_int_equal(v->nsub, 5);
    assert_int_equal(v->sub[0].type, 0x10);
    assert_int_equal(v->sub[0].attr, 0x80048F6E);
    assert_int_equal(v->sub[1].type, 0x11);
    assert_int_equal(v->sub[1].attr, 0x00040200);
    assert_int_equal(v->sub[1].efr, 0x246577EFA2254AFAULL);
    assert_int_equal(v->sub[1].efr2, 0);
    const struct sio_ivrs_sub *m = &v->sub[2];
    assert_int_equal(m->type, SIO_IVRS_IVMD_ONE);
    assert_int_equal(m->flags, SIO_IVMD_EXCLUSION);
    assert_int_equal(m->devid, 0x0300);
    assert_int_equal(m->start, 0x7132F000);
    assert_int_equal(m->mem_len, 0x26000);
    const struct sio_ivrs_sub *h = &v->sub[3];
    assert_int_equal(h->type, SIO_IVRS_IVHD_40);
    assert_int_equal(h->offset, 0xF0);
    assert_int_equal(h->nentries, 12);
    const struct sio_ivhd_entry *e = &h->entries[8];
    assert_int_equal(e->type, SIO_IVHD_DEV_ACPI_HID);
    assert_int_equal(e->offset, 0x148);
    assert_int_equal(e->devid, 0x00A5);
    assert_int_equal(e->setting, 0x40);
    assert_memory_equal(e->hid, "AMDI0020", 8);
    assert_memory_equal(e->cid, "\0\0\0\0\0\0\0\0", 8);
    assert_int_equal(e->uid_format, 2);
    assert_int_equal(e->uid_len, 9);
    assert_memory_equal(e->uid, "\\_SB.FUR0", 9);
    assert_int_equal(sio_ivhd_entry_size(e), 31);
    assert_int_equal(h->entries[11].offset, 0x1A5);
    assert_int_equal(v->sub[4].type, 0x51);
    assert_int_equal(v->sub[4].offset, 0x1C4);
    assert_int_equal(v->sub[4].raw_len, 0x20);
    assert_true(test_acpi_has_note(v, "unknown subtable type 0x51 (32 bytes) skipped"));
    sio_ivrs_free(v);
    free(b);
}

static struct sio_ivrs *build(void)
{
    struct sio_ivrs *v = sio_ivrs_new(0x00203041);
    assert_non_null(v);
    struct sio_ivrs_sub *h = sio_ivrs_add(v, SIO_IVRS_IVHD_40);
    h->flags = SIO_IVHD_COHERENT | SIO_IVHD_IOTLB_SUP;
    h->devid = 0x0002;
    h->cap_offset = 0x40;
    h->base = 0xFD200000;
    h->attr = 0x00040200;
    h->efr = 0x246577EFA2254AFAULL;
    struct sio_ivhd_entry e;
    memset(&e, 0, sizeof(e));
    e.type = SIO_IVHD_DEV_SELECT;
    e.devid = 0x0010;
    assert_int_equal(sio_ivrs_add_entry(h, &e), 0);
    e.type = SIO_IVHD_DEV_RANGE_START;
    e.devid = 0x0100;
    assert_int_equal(sio_ivrs_add_entry(h, &e), 0);
    e.type = SIO_IVHD_DEV_RANGE_END;
    e.devid = 0x01FF;
    assert_int_equal(sio_ivrs_add_entry(h, &e), 0);
    memset(&e, 0, sizeof(e));
    e.type = SIO_IVHD_DEV_ALIAS_RANGE;
    e.devid = 0xFF00;
    e.alias = 0x00A5;
    assert_int_equal(sio_ivrs_add_entry(h, &e), 0);
    memset(&e, 0, sizeof(e));
    e.type = SIO_IVHD_DEV_RANGE_END;
    e.devid = 0xFFFF;
    assert_int_equal(sio_ivrs_add_entry(h, &e), 0);
    e.type = SIO_IVHD_DEV_SPECIAL;
    e.devid = 0;
    e.setting = 0xD7;
    e.handle = 0x21;
    e.alias = 0x00A0;
    e.variety = 1;
    assert_int_equal(sio_ivrs_add_entry(h, &e), 0);
    memset(&e, 0, sizeof(e));
    e.type = SIO_IVHD_DEV_EXT_SELECT;
    e.devid = 0x0300;
    e.ext = 0x80000000u; /* ATS disabled */
    assert_int_equal(sio_ivrs_add_entry(h, &e), 0);
    memset(&e, 0, sizeof(e));
    e.type = SIO_IVHD_DEV_ACPI_HID;
    e.devid = 0x00A5;
    e.setting = 0x40;
    memcpy(e.hid, "AMDI0020", 8);
    e.uid_format = 2;
    e.uid_len = 9;
    memcpy(e.uid, "\\_SB.FUR0", 9);
    assert_int_equal(sio_ivrs_add_entry(h, &e), 0);
    struct sio_ivrs_sub *m = sio_ivrs_add(v, SIO_IVRS_IVMD_ALL);
    m->flags = SIO_IVMD_UNITY | SIO_IVMD_READ | SIO_IVMD_WRITE;
    m->start = 0x7D900000;
    m->mem_len = 0x100000;
    m = sio_ivrs_add(v, SIO_IVRS_IVMD_RANGE);
    m->flags = SIO_IVMD_EXCLUSION;
    m->devid = 0x0100;
    m->aux = 0x01FF;
    m->start = 0x75E00000;
    m->mem_len = 0x20000;
    return v;
}

static void test_generate_layout(void **state)
{
    (void)state;
    struct sio_ivrs *v = build();
    uint8_t *b;
    size_t len;
    assert_int_equal(sio_ivrs_generate(v, &b, &len, NULL), 0);
    /* 48 + IVHD (40 + 4+4+4 + 8 + 4 + 8 + 8 + 22+9) + 2 IVMD of 32 */
    assert_int_equal(len, 48 + 111 + 64);
    assert_int_equal(sio_ld32le(b + 4), len);
    uint8_t s = 0;
    for (size_t i = 0; i < len; i++)
        s = (uint8_t)(s + b[i]);
    assert_int_equal(s, 0);
    assert_memory_equal(b, "IVRS", 4);
    assert_int_equal(b[8], 2);
    assert_int_equal(sio_ld32le(b + 36), 0x00203041);
    /* IVHD at 48: 40 30 6F 00 02 00 40 00, base, ..., attributes at +20, EFR at +24 */
    static const uint8_t ivhd[] = {0x40, 0x30, 111, 0, 0x02, 0, 0x40, 0, 0, 0, 0x20, 0xFD};
    assert_memory_equal(b + 48, ivhd, sizeof(ivhd));
    assert_int_equal(sio_ld32le(b + 68), 0x00040200);
    assert_int_equal(sio_ld64le(b + 72), 0x246577EFA2254AFAULL);
    /* entries from 88: select 02 10 00 00, start 03 00 01 00, end 04 FF 01 00 */
    static const uint8_t first[] = {2, 0x10, 0, 0, 3, 0, 1, 0, 4, 0xFF, 1, 0};
    assert_memory_equal(b + 88, first, sizeof(first));
    /* alias range at 100: 43 00 FF 00 00 A5 00 00 */
    static const uint8_t alias[] = {0x43, 0, 0xFF, 0, 0, 0xA5, 0, 0};
    assert_memory_equal(b + 100, alias, 8);
    /* special at 112: 48 00 00 D7 21 A0 00 01 */
    static const uint8_t special[] = {0x48, 0, 0, 0xD7, 0x21, 0xA0, 0, 1};
    assert_memory_equal(b + 112, special, 8);
    /* extended select at 120: 46 00 03 00, then 00 00 00 80 */
    static const uint8_t ext[] = {0x46, 0, 3, 0, 0, 0, 0, 0x80};
    assert_memory_equal(b + 120, ext, 8);
    /* HID at 128: F0 A5 00 40 "AMDI0020" 8x00 02 09 "\_SB.FUR0" */
    assert_int_equal(b[128], 0xF0);
    assert_memory_equal(b + 132, "AMDI0020", 8);
    assert_int_equal(b[148], 2);
    assert_int_equal(b[149], 9);
    assert_memory_equal(b + 150, "\\_SB.FUR0", 9);
    /* IVMD 0x20 at 159, IVMD 0x22 at 191 */
    assert_int_equal(b[159], 0x20);
    assert_int_equal(b[160], 7);
    assert_int_equal(sio_ld16le(b + 161), 32);
    assert_int_equal(sio_ld64le(b + 159 + 16), 0x7D900000);
    assert_int_equal(b[191], 0x22);
    assert_int_equal(sio_ld16le(b + 191 + 4), 0x0100);
    assert_int_equal(sio_ld16le(b + 191 + 6), 0x01FF);
    assert_int_equal(sio_ld64le(b + 191 + 24), 0x20000);
    free(b);
    sio_ivrs_free(v);
}

static void test_roundtrip_generated(void **state)
{
    (void)state;
    struct sio_ivrs *v = build(), *p;
    uint8_t *b;
    size_t len;
    assert_int_equal(sio_ivrs_generate(v, &b, &len, NULL), 0);
    assert_int_equal(sio_ivrs_parse(b, len, 0, &p, NULL), 0);
    assert_true(sio_ivrs_equal(v, p));
    assert_int_equal(p->nnotes, 0);
    p->sub[0].entries[7].uid[3] = 'b';
    assert_false(sio_ivrs_equal(v, p));
    p->sub[0].entries[7].uid[3] = 'B';
    assert_true(sio_ivrs_equal(v, p));
    p->sub[2].aux++;
    assert_false(sio_ivrs_equal(v, p));
    free(b);
    sio_ivrs_free(p);

    /* an entry with no known length cannot be generated; nor added to a non-IVHD */
    struct sio_ivhd_entry e;
    memset(&e, 0, sizeof(e));
    e.type = 0x85;
    assert_int_equal(sio_ivrs_add_entry(&v->sub[0], &e), SIO_EINVAL);
    e.type = SIO_IVHD_DEV_SELECT;
    assert_int_equal(sio_ivrs_add_entry(&v->sub[1], &e), SIO_EINVAL);
    sio_ivrs_free(v);
}

static void test_roundtrip_real_tables(void **state)
{
    (void)state;
    static const char *const names[] = {
        "ivrs_asus_rog_zenith2_threadripper_4iommu", "ivrs_asus_zenbook_s16_um5606wa_strix",
        "ivrs_lenovo_thinkpad_t14_gen3_rembrandt", "ivrs_supermicro_h8dgu_sr5690"};
    for (size_t i = 0; i < 4; i++) {
        size_t len, glen;
        uint8_t *b = test_acpi_load(names[i], &len), *g;
        struct sio_ivrs *v, *v2;
        assert_int_equal(sio_ivrs_parse(b, len, 0, &v, NULL), 0);
        assert_int_equal(sio_ivrs_generate(v, &g, &glen, NULL), 0);
        if (glen != len || memcmp(g, b, len))
            fail_msg("%s: generate(parse(x)) != x", names[i]);
        assert_int_equal(sio_ivrs_parse(g, glen, 0, &v2, NULL), 0);
        assert_true(sio_ivrs_equal(v, v2));
        sio_ivrs_free(v);
        sio_ivrs_free(v2);
        free(g);
        free(b);
    }
}

static void test_truncated(void **state)
{
    (void)state;
    static const char *const names[] = {"ivrs_lenovo_thinkpad_t14_gen3_rembrandt",
                                        "ivrs_supermicro_h8dgu_sr5690"};
    for (size_t t = 0; t < 2; t++) {
        size_t len;
        uint8_t *b = test_acpi_load(names[t], &len);
        struct sio_ivrs *full;
        assert_int_equal(sio_ivrs_parse(b, len, 0, &full, NULL), 0);
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *c = malloc(cut ? cut : 1);
            memcpy(c, b, cut);
            struct sio_ivrs *v = NULL;
            struct sio_acpi_error err;
            assert_int_equal(sio_ivrs_parse(c, cut, 0, &v, &err), SIO_ETRUNC);
            assert_null(v);
            if (cut >= SIO_IVRS_HEADER_LEN) {
                sio_st32le(c + 4, (uint32_t)cut);
                test_acpi_fix(c, cut);
                int boundary = cut == SIO_IVRS_HEADER_LEN;
                for (size_t i = 0; i < full->nsub; i++)
                    boundary |= full->sub[i].offset == cut;
                int rc = sio_ivrs_parse(c, cut, 0, &v, &err);
                if (boundary) {
                    assert_int_equal(rc, 0);
                    sio_ivrs_free(v);
                } else {
                    assert_int_equal(rc, SIO_EPARSE);
                    assert_true(err.offset < cut);
                }
            }
            free(c);
        }
        sio_ivrs_free(full);
        free(b);
    }
}

static void count_field(void *ctx, const struct sio_acpi_field *f)
{
    (void)f;
    (*(size_t *)ctx)++;
}

static void test_corrupted(void **state)
{
    (void)state;
    static const char *const names[] = {
        "ivrs_asus_rog_zenith2_threadripper_4iommu", "ivrs_asus_zenbook_s16_um5606wa_strix",
        "ivrs_lenovo_thinkpad_t14_gen3_rembrandt", "ivrs_supermicro_h8dgu_sr5690"};
    size_t accepted = 0, refused = 0;
    for (size_t t = 0; t < 4; t++) {
        size_t len;
        uint8_t *b = test_acpi_load(names[t], &len);
        for (size_t i = 0; i < len; i++) {
            static const uint8_t vals[] = {0x00, 0xFF, 0x80, 0xF0};
            for (size_t k = 0; k < 4; k++) {
                uint8_t *c = malloc(len);
                memcpy(c, b, len);
                c[i] = vals[k];
                if (i != 9)
                    test_acpi_fix(c, len);
                struct sio_ivrs *v = NULL;
                struct sio_acpi_error err = {0, ""}, err2;
                int rc = sio_ivrs_parse(c, len, 0, &v, &err);
                size_t nf = 0;
                assert_int_equal(sio_acpi_decode(c, len, 0, count_field, &nf, &err2), rc);
                if (rc == 0) {
                    uint8_t *g;
                    size_t glen;
                    struct sio_ivrs *v2;
                    assert_int_equal(sio_ivrs_generate(v, &g, &glen, NULL), 0);
                    assert_int_equal(sio_ivrs_parse(g, glen, 0, &v2, NULL), 0);
                    assert_true(sio_ivrs_equal(v, v2));
                    sio_ivrs_free(v2);
                    free(g);
                    sio_ivrs_free(v);
                    accepted++;
                } else {
                    assert_true(rc == SIO_EPARSE || rc == SIO_ETRUNC || rc == SIO_ECHECKSUM);
                    assert_true(err.msg[0] != 0);
                    assert_true(err.offset <= len);
                    refused++;
                }
                free(c);
            }
        }
        free(b);
    }
    assert_true(accepted > 1000);
    assert_true(refused > 50);
}

static void expect_error(const uint8_t *orig, size_t len, size_t at, const uint8_t *bytes, size_t n,
                         uint32_t want_off, const char *want_msg)
{
    uint8_t *c = malloc(len);
    memcpy(c, orig, len);
    memcpy(c + at, bytes, n);
    test_acpi_fix(c, len);
    struct sio_ivrs *v = NULL;
    struct sio_acpi_error err = {0, ""};
    int rc = sio_ivrs_parse(c, len, 0, &v, &err);
    if (rc != SIO_EPARSE || err.offset != want_off || !strstr(err.msg, want_msg))
        fail_msg("edit at 0x%zx: rc %d offset 0x%x '%s'; want offset 0x%x '%s'", at, rc, err.offset,
                 err.msg, want_off, want_msg);
    free(c);
}

static void test_errors_name_offset(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = test_acpi_load("ivrs_lenovo_thinkpad_t14_gen3_rembrandt", &len);
    /* IVHD 0x11 at 0x78 shortened below its 40-byte header */
    expect_error(b, len, 0x7A, (const uint8_t[]){0x20, 0}, 2, 0x7A,
                 "IVHD type 0x11 at 0x78: length 32 is below its 40-byte fixed part");
    /* first IVHD's length made to end inside its last 8-byte entry (0x70..0x77) */
    expect_error(b, len, 0x32, (const uint8_t[]){0x44, 0}, 2, 0x70,
                 "device entry at 0x70 (type 0x48, 8 bytes) runs past the end of its IVHD at "
                 "0x30 (4 bytes left)");
    /* UID length of the last HID entry (0x1A5, UID at 0x1BB) too long for its IVHD */
    expect_error(b, len, 0x1BA, (const uint8_t[]){10}, 1, 0x1BA,
                 "ACPI HID entry at 0x1A5: UID length 10 runs past the end of its IVHD at 0xF0");
    expect_error(b, len, 0x1C6, (const uint8_t[]){0, 0}, 2, 0x1C6,
                 "subtable at 0x1C4 (type 0x51): length 0 is below the 4-byte subtable header");
    expect_error(b, len, 0xD2, (const uint8_t[]){0x18, 0}, 2, 0xD2,
                 "IVMD type 0x21 at 0xD0: length 24 is below its 32-byte fixed part");
    expect_error(b, len, 0xF2, (const uint8_t[]){0xF5, 0}, 2, 0xF2,
                 "subtable at 0xF0 (type 0x40): length 245 runs past the end of the table");
    free(b);
}

/* Unknown device entries: a fixed-size one is kept (its size is in its type), a variable one
 * ends the walk of its IVHD, reported. */
static void test_unknown_entries(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = test_acpi_load("ivrs_supermicro_h8dgu_sr5690", &len);
    struct sio_ivrs *v;
    b[0x84] = 0x05; /* the pad entry becomes an undefined 4-byte type */
    b[0x88] = 0x44; /* the alias range start becomes an undefined 8-byte type */
    test_acpi_fix(b, len);
    assert_int_equal(sio_ivrs_parse(b, len, 0, &v, NULL), 0);
    assert_int_equal(v->sub[0].nentries, 22);
    assert_int_equal(v->sub[0].entries[16].type, 0x44);
    assert_int_equal(v->sub[0].entries[16].ext, 0x0000A400); /* bytes 4-7: 00 A4 00 00 */
    assert_true(test_acpi_has_note(v, "unknown IVHD device entry type 0x05 (4 bytes) kept"));
    assert_true(test_acpi_has_note(v, "unknown IVHD device entry type 0x44 (8 bytes) kept"));
    sio_ivrs_free(v);
    b[0x88] = 0x85; /* variable length, unknown: the rest of the IVHD is skipped */
    test_acpi_fix(b, len);
    assert_int_equal(sio_ivrs_parse(b, len, 0, &v, NULL), 0);
    assert_int_equal(v->sub[0].nentries, 16);
    assert_true(test_acpi_has_note(v,
                                   "device entry type 0x85 at 0x88 has an unknown length; 40 bytes "
                                   "skipped"));
    char *out = NULL;
    size_t olen = 0;
    FILE *mem = open_memstream(&out, &olen);
    assert_int_equal(sio_acpi_print(b, len, 0, mem, NULL), 0);
    fclose(mem);
    assert_non_null(strstr(out, "**** Unknown IVRS device entry type 0x85 at offset 0x0088"));
    assert_non_null(strstr(out, "**** Unknown IVRS device entry type/length: 0x05/0x4"));
    free(out);
    sio_ivrs_free(v);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_sr5690),
        cmocka_unit_test(test_parse_t14),
        cmocka_unit_test(test_generate_layout),
        cmocka_unit_test(test_roundtrip_generated),
        cmocka_unit_test(test_roundtrip_real_tables),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_corrupted),
        cmocka_unit_test(test_errors_name_offset),
        cmocka_unit_test(test_unknown_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* DMAR (VT-d 8): parsing a real table into the record (values read off its hex dump by hand),
 * generation and round trips, truncated and corrupted tables (errors naming the offset, never a
 * crash), unknown structure types skipped and reported, firmware-bug notes. */
#include "test_acpi.h"

#include <softiommu/acpi.h>
#include <softiommu/bits.h>
#include <softiommu/err.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The MacBook Pro 14,3 table, decoded by hand from its bytes (see its .dsl raw dump). */
static void test_parse_apple(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = test_acpi_load("dmar_apple_macbookpro14_3_andd", &len);
    struct sio_dmar *d;
    struct sio_acpi_error err;
    assert_int_equal(sio_dmar_parse(b, len, 0, &d, &err), 0);
    assert_memory_equal(d->hdr.signature, "DMAR", 4);
    assert_int_equal(d->hdr.length, 0x160);
    assert_int_equal(d->hdr.revision, 1);
    assert_int_equal(d->hdr.checksum, 0x01);
    assert_memory_equal(d->hdr.oem_id, "APPLE ", 6);
    assert_memory_equal(d->hdr.oem_table_id, "KBL \0\0\0\0", 8);
    assert_int_equal(d->haw, 0x26);
    assert_int_equal(sio_dmar_haw_bits(d), 39);
    assert_int_equal(d->flags, SIO_DMAR_INTR_REMAP);
    assert_int_equal(d->nst, 9); /* 2 DRHD, 1 RMRR, 6 ANDD */
    assert_int_equal(d->nnotes, 0);

    const struct sio_dmar_struct *s = &d->st[0];
    assert_int_equal(s->type, SIO_DMAR_DRHD);
    assert_int_equal(s->offset, 0x30);
    assert_int_equal(s->flags, 0);
    assert_int_equal(s->segment, 0);
    assert_int_equal(s->base, 0xFED90000);
    assert_int_equal(s->nscopes, 1);
    assert_int_equal(s->scopes[0].type, SIO_DMAR_SCOPE_ENDPOINT);
    assert_int_equal(s->scopes[0].bus, 0);
    assert_int_equal(s->scopes[0].npath, 1);
    assert_int_equal(s->scopes[0].path[0].dev, 2);
    assert_int_equal(s->scopes[0].path[0].fn, 0);

    s = &d->st[1];
    assert_int_equal(s->type, SIO_DMAR_DRHD);
    assert_int_equal(s->flags, SIO_DRHD_INCLUDE_PCI_ALL);
    assert_int_equal(s->base, 0xFED91000);
    assert_int_equal(s->nscopes, 8);
    assert_int_equal(s->scopes[0].type, SIO_DMAR_SCOPE_IOAPIC);
    assert_int_equal(s->scopes[0].enum_id, 2);
    assert_int_equal(s->scopes[0].bus, 0xF0);
    assert_int_equal(s->scopes[0].path[0].dev, 0x1F);
    assert_int_equal(s->scopes[1].type, SIO_DMAR_SCOPE_HPET);
    assert_int_equal(s->scopes[2].type, SIO_DMAR_SCOPE_NAMESPACE);
    assert_int_equal(s->scopes[2].enum_id, 1);
    assert_int_equal(s->scopes[2].path[0].dev, 0x15);
    assert_int_equal(s->scopes[7].enum_id, 0x0B);
    assert_int_equal(s->scopes[7].offset, 0x90);

    s = &d->st[2];
    assert_int_equal(s->type, SIO_DMAR_RMRR);
    assert_int_equal(s->base, 0x7B800000);
    assert_int_equal(s->limit, 0x7FFFFFFF);
    assert_int_equal(s->nscopes, 1);
    assert_int_equal(s->scopes[0].path[0].dev, 2);

    s = &d->st[3];
    assert_int_equal(s->type, SIO_DMAR_ANDD);
    assert_int_equal(s->acpi_dev, 1);
    assert_string_equal(s->acpi_name, "\\_SB.PCI0.I2C0");
    assert_int_equal(s->acpi_name_len, 0x1C - 8);
    assert_string_equal(d->st[8].acpi_name, "\\_SB.PCI0.UA02");
    assert_int_equal(d->st[8].acpi_dev, 0x0B);
    sio_dmar_free(d);
    free(b);
}

/* A two-hop scope (HP DL380e Gen8, RMRR at 0x108: endpoint behind bridge 00:1C.7). */
static void test_parse_multihop(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = test_acpi_load("dmar_hp_proliant_dl380e_gen8", &len);
    struct sio_dmar *d;
    assert_int_equal(sio_dmar_parse(b, len, 0, &d, NULL), 0);
    const struct sio_dmar_scope *sc = NULL;
    for (size_t i = 0; i < d->nst && !sc; i++)
        for (size_t j = 0; j < d->st[i].nscopes; j++)
            if (d->st[i].scopes[j].offset == 0x128)
                sc = &d->st[i].scopes[j];
    assert_non_null(sc);
    assert_int_equal(sc->type, SIO_DMAR_SCOPE_ENDPOINT);
    assert_int_equal(sc->npath, 2);
    assert_int_equal(sc->path[0].dev, 0x1C);
    assert_int_equal(sc->path[0].fn, 7);
    assert_int_equal(sc->path[1].dev, 0);
    assert_int_equal(sc->path[1].fn, 0);
    sio_dmar_free(d);
    free(b);
}

/* A platform described by hand; the expected bytes below are counted from VT-d 8's layouts. */
static struct sio_dmar *build_platform(void)
{
    struct sio_dmar *d = sio_dmar_new(46, SIO_DMAR_INTR_REMAP | SIO_DMAR_X2APIC_OPT_OUT);
    assert_non_null(d);
    struct sio_dmar_hop gpu[] = {{2, 0}}, rp[] = {{0x1c, 0}}, lpc[] = {{0x1f, 0}},
                        usb[] = {{0x1c, 0}, {0, 0}};
    struct sio_dmar_struct *s = sio_dmar_add(d, SIO_DMAR_DRHD); /* unit A: the GPU alone */
    s->base = 0xFED90000;
    assert_int_equal(sio_dmar_add_scope(s, SIO_DMAR_SCOPE_ENDPOINT, 0, 0, gpu, 1), 0);
    s = sio_dmar_add(d, SIO_DMAR_DRHD); /* unit C: everything else (listed before B) */
    s->flags = SIO_DRHD_INCLUDE_PCI_ALL;
    s->base = 0xFED91000;
    s->size = 1;
    assert_int_equal(sio_dmar_add_scope(s, SIO_DMAR_SCOPE_IOAPIC, 8, 0xF0, lpc, 1), 0);
    assert_int_equal(sio_dmar_add_scope(s, SIO_DMAR_SCOPE_HPET, 0, 0, lpc, 1), 0);
    s = sio_dmar_add(d, SIO_DMAR_DRHD); /* unit B: root port 00:1c.0 and all below it */
    s->base = 0xFED92000;
    assert_int_equal(sio_dmar_add_scope(s, SIO_DMAR_SCOPE_BRIDGE, 0, 0, rp, 1), 0);
    s = sio_dmar_add(d, SIO_DMAR_RMRR);
    s->base = 0x7B800000;
    s->limit = 0x7FFFFFFF;
    assert_int_equal(sio_dmar_add_scope(s, SIO_DMAR_SCOPE_ENDPOINT, 0, 0, gpu, 1), 0);
    s = sio_dmar_add(d, SIO_DMAR_RMRR); /* a USB controller at 02:00.0, two hops */
    s->base = 0xDD000000;
    s->limit = 0xDD0FFFFF;
    assert_int_equal(sio_dmar_add_scope(s, SIO_DMAR_SCOPE_ENDPOINT, 0, 0, usb, 2), 0);
    s = sio_dmar_add(d, SIO_DMAR_ATSR);
    assert_int_equal(sio_dmar_add_scope(s, SIO_DMAR_SCOPE_BRIDGE, 0, 0, rp, 1), 0);
    s = sio_dmar_add(d, SIO_DMAR_RHSA);
    s->base = 0xFED90000;
    s->proximity = 1;
    s = sio_dmar_add(d, SIO_DMAR_ANDD);
    s->acpi_dev = 1;
    assert_int_equal(sio_dmar_set_name(s, "\\_SB.PCI0.I2C0"), 0);
    s = sio_dmar_add(d, SIO_DMAR_SATC);
    s->flags = SIO_SATC_ATC_REQUIRED;
    assert_int_equal(sio_dmar_add_scope(s, SIO_DMAR_SCOPE_ENDPOINT, 0, 0, gpu, 1), 0);
    s = sio_dmar_add(d, SIO_DMAR_SIDP);
    assert_int_equal(sio_dmar_add_scope(s, SIO_DMAR_SCOPE_ENDPOINT, 0, 0, gpu, 1), 0);
    s->scopes[0].flags = 0x1F;
    return d;
}

static void test_generate_layout(void **state)
{
    (void)state;
    struct sio_dmar *d = build_platform();
    uint8_t *b;
    size_t len;
    assert_int_equal(sio_dmar_generate(d, &b, &len, NULL), 0);
    /* 48 header + DRHD A 16+8 + C 16+8+8 + B 16+8 + RMRR 24+8 + RMRR 24+10 + ATSR 8+8 + RHSA 20
     * + ANDD 8+15 + SATC 8+8 + SIDP 8+8 */
    assert_int_equal(len, 285);
    assert_int_equal(sio_ld32le(b + 4), 285);
    assert_int_equal(test_acpi_sum(b, len), 0);
    assert_memory_equal(b, "DMAR", 4);
    assert_int_equal(b[36], 45); /* HAW - 1 */
    assert_int_equal(b[37], 3);
    /* DRHD A at 48: type 0, length 24, base, then the scope 01 08 00 00 00 00 02 00 */
    static const uint8_t drhd_a[] = {0, 0, 24, 0, 0, 0, 0, 0, 0x00, 0x00, 0xD9, 0xFE,
                                     0, 0, 0,  0, 1, 8, 0, 0, 0,    0,    2,    0};
    assert_memory_equal(b + 48, drhd_a, sizeof(drhd_a));
    /* DRHD C at 72: flags INCLUDE_PCI_ALL, size 1; IOAPIC scope 03 08 00 00 08 F0 1F 00 */
    assert_int_equal(sio_ld16le(b + 74), 32);
    assert_int_equal(b[76], 1);
    assert_int_equal(b[77], 1);
    static const uint8_t ioapic[] = {3, 8, 0, 0, 8, 0xF0, 0x1F, 0};
    assert_memory_equal(b + 88, ioapic, 8);
    /* RMRR 2 at 160: its two-hop scope is 10 bytes: 01 0A 00 00 00 00 1C 00 00 00 */
    assert_int_equal(sio_ld16le(b + 160), SIO_DMAR_RMRR);
    assert_int_equal(sio_ld16le(b + 162), 34);
    assert_int_equal(sio_ld64le(b + 168), 0xDD000000);
    assert_int_equal(sio_ld64le(b + 176), 0xDD0FFFFF);
    static const uint8_t usb[] = {1, 10, 0, 0, 0, 0, 0x1C, 0, 0, 0};
    assert_memory_equal(b + 184, usb, 10);
    /* ANDD at 230: length 23, device number at +7, name at +8 */
    assert_int_equal(sio_ld16le(b + 230), SIO_DMAR_ANDD);
    assert_int_equal(sio_ld16le(b + 232), 23);
    assert_int_equal(b[237], 1);
    assert_string_equal((const char *)b + 238, "\\_SB.PCI0.I2C0");
    /* SIDP last, its scope flags kept */
    assert_int_equal(sio_ld16le(b + 269), SIO_DMAR_SIDP);
    assert_int_equal(b[277 + 2], 0x1F);
    free(b);
    sio_dmar_free(d);
}

static void test_roundtrip_generated(void **state)
{
    (void)state;
    struct sio_dmar *d = build_platform(), *p;
    uint8_t *b, *b2;
    size_t len, len2;
    assert_int_equal(sio_dmar_generate(d, &b, &len, NULL), 0);
    struct sio_acpi_error err;
    assert_int_equal(sio_dmar_parse(b, len, 0, &p, &err), 0);
    assert_true(sio_dmar_equal(d, p));
    assert_true(sio_dmar_equal(p, d));
    assert_int_equal(p->nnotes, 0);
    /* and the bytes of a second generation are the same */
    assert_int_equal(sio_dmar_generate(p, &b2, &len2, NULL), 0);
    assert_int_equal(len2, len);
    assert_memory_equal(b, b2, len);
    /* equality is not vacuous: one field changed anywhere is seen */
    p->st[4].scopes[0].path[1].fn = 1;
    assert_false(sio_dmar_equal(d, p));
    p->st[4].scopes[0].path[1].fn = 0;
    p->st[7].acpi_name[5] = 'X';
    assert_false(sio_dmar_equal(d, p));
    p->st[7].acpi_name[5] = 'P';
    assert_true(sio_dmar_equal(d, p));
    p->hdr.oem_revision++;
    assert_false(sio_dmar_equal(d, p));
    free(b);
    free(b2);
    sio_dmar_free(p);
    sio_dmar_free(d);
}

static void test_generate_refuses(void **state)
{
    (void)state;
    struct sio_dmar *d = sio_dmar_new(39, 0);
    struct sio_dmar_struct *s = sio_dmar_add(d, SIO_DMAR_DRHD);
    struct sio_dmar_hop hop = {1, 0};
    /* 16 + 8190 * 8 = 65536: the DRHD's 16-bit length cannot hold that many scopes */
    for (int i = 0; i < 8190; i++)
        assert_int_equal(sio_dmar_add_scope(s, SIO_DMAR_SCOPE_ENDPOINT, 0, 0, &hop, 1), 0);
    uint8_t *b = NULL;
    size_t len = 0;
    struct sio_acpi_error err;
    assert_int_equal(sio_dmar_generate(d, &b, &len, &err), SIO_EINVAL);
    assert_non_null(strstr(err.msg, "16-bit length"));
    assert_null(b);
    s->nscopes--; /* one fewer fits exactly */
    assert_int_equal(sio_dmar_generate(d, &b, &len, &err), 0);
    assert_int_equal(len, 48 + 16 + 8189 * 8);
    assert_int_equal(sio_ld16le(b + 50), 16 + 8189 * 8);
    free(b);
    assert_int_equal(sio_dmar_add_scope(s, 1, 0, 0, &hop, 0), SIO_EINVAL);
    assert_int_equal(sio_dmar_add_scope(s, 1, 0, 0, &hop, SIO_DMAR_MAX_HOPS + 1), SIO_EINVAL);
    sio_dmar_free(d);
    assert_null(sio_dmar_new(0, 0));
}

/* Every DMAR in the shared set: parse then generate gives back the very same bytes. */
static void test_roundtrip_real_tables(void **state)
{
    (void)state;
    DIR *dir = opendir(ACPI_DIR);
    assert_non_null(dir);
    char base[256];
    unsigned n = 0;
    while (test_acpi_next(dir, "dmar_", base)) {
        size_t len, glen;
        uint8_t *b = test_acpi_load(base, &len), *g;
        struct sio_dmar *d, *d2;
        assert_int_equal(sio_dmar_parse(b, len, 0, &d, NULL), 0);
        assert_int_equal(sio_dmar_generate(d, &g, &glen, NULL), 0);
        if (glen != len || memcmp(g, b, len))
            fail_msg("%s: generate(parse(x)) != x", base);
        assert_int_equal(sio_dmar_parse(g, glen, 0, &d2, NULL), 0);
        assert_true(sio_dmar_equal(d, d2));
        sio_dmar_free(d);
        sio_dmar_free(d2);
        free(g);
        free(b);
        n++;
    }
    closedir(dir);
    assert_int_equal(n, 15);
}

/* Cut each table short (header length lowered to the cut, checksum fixed): it parses exactly
 * when the cut falls between two structures, otherwise it is refused with an offset inside it;
 * plain prefixes (length field untouched) are all "truncated". */
static void test_truncated(void **state)
{
    (void)state;
    static const char *const names[] = {
        "dmar_apple_macbookpro14_3_andd", "dmar_hp_proliant_dl380e_gen8",
        "dmar_samsung_960qha_lnl_satc", "dmar_dell_poweredge_r820_4socket_snbep"};
    for (size_t t = 0; t < sizeof(names) / sizeof(names[0]); t++) {
        size_t len;
        uint8_t *b = test_acpi_load(names[t], &len);
        struct sio_dmar *full;
        assert_int_equal(sio_dmar_parse(b, len, 0, &full, NULL), 0);
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *c = malloc(cut ? cut : 1);
            memcpy(c, b, cut);
            struct sio_dmar *d = NULL;
            struct sio_acpi_error err;
            int rc = sio_dmar_parse(c, cut, 0, &d, &err);
            assert_int_equal(rc, SIO_ETRUNC);
            assert_null(d);
            assert_true(err.msg[0] != 0);
            if (cut >= SIO_DMAR_HEADER_LEN) {
                sio_st32le(c + 4, (uint32_t)cut);
                test_acpi_fix(c, cut);
                int boundary = cut == SIO_DMAR_HEADER_LEN;
                for (size_t i = 0; i < full->nst; i++)
                    boundary |= full->st[i].offset == cut;
                rc = sio_dmar_parse(c, cut, 0, &d, &err);
                if (boundary) {
                    assert_int_equal(rc, 0);
                    sio_dmar_free(d);
                } else {
                    assert_int_equal(rc, SIO_EPARSE);
                    assert_true(err.offset < cut);
                }
            }
            free(c);
        }
        sio_dmar_free(full);
        free(b);
    }
}

/* Corrupt every byte of every DMAR three ways (checksum fixed so the damage reaches the
 * structure walk). Nothing crashes (ASan/UBSan watch); the decoder agrees with the parser; what
 * is accepted generates and re-parses to the same record. */
static void null_field(void *ctx, const struct sio_acpi_field *f)
{
    (*(size_t *)ctx)++;
    assert_non_null(f->text);
}

static void test_corrupted(void **state)
{
    (void)state;
    DIR *dir = opendir(ACPI_DIR);
    assert_non_null(dir);
    char base[256];
    size_t accepted = 0, refused = 0;
    while (test_acpi_next(dir, "dmar_", base)) {
        size_t len;
        uint8_t *b = test_acpi_load(base, &len);
        for (size_t i = 0; i < len; i++) {
            static const uint8_t vals[] = {0x00, 0xFF, 0x01};
            for (size_t k = 0; k < 3; k++) {
                uint8_t *c = malloc(len);
                memcpy(c, b, len);
                c[i] = (uint8_t)(k == 2 ? c[i] ^ 0x80 : vals[k]);
                if (i != 9)
                    test_acpi_fix(c, len);
                struct sio_dmar *d = NULL;
                struct sio_acpi_error err = {0, ""};
                int rc = sio_dmar_parse(c, len, 0, &d, &err);
                size_t nf = 0;
                struct sio_acpi_error err2;
                int rc2 = sio_acpi_decode(c, len, 0, null_field, &nf, &err2);
                assert_int_equal(rc, rc2);
                if (rc == 0) {
                    uint8_t *g;
                    size_t glen;
                    struct sio_dmar *d2;
                    assert_int_equal(sio_dmar_generate(d, &g, &glen, NULL), 0);
                    assert_int_equal(sio_dmar_parse(g, glen, 0, &d2, NULL), 0);
                    assert_true(sio_dmar_equal(d, d2));
                    sio_dmar_free(d2);
                    free(g);
                    sio_dmar_free(d);
                    accepted++;
                } else {
                    assert_true(rc == SIO_EPARSE || rc == SIO_ETRUNC || rc == SIO_ECHECKSUM);
                    assert_true(err.msg[0] != 0);
                    assert_true(err.offset <= len);
                    assert_int_equal(err.offset, err2.offset);
                    refused++;
                }
                free(c);
            }
        }
        free(b);
    }
    closedir(dir);
    assert_true(accepted > 1000);
    assert_true(refused > 100);
}

/* Targeted damage to the Apple table: each error names the right offset and problem. */
static void expect_error(const uint8_t *orig, size_t len, size_t at, const uint8_t *bytes, size_t n,
                         int want_rc, uint32_t want_off, const char *want_msg)
{
    uint8_t *c = malloc(len);
    memcpy(c, orig, len);
    memcpy(c + at, bytes, n);
    if (at != 9)
        test_acpi_fix(c, len);
    struct sio_dmar *d = NULL;
    struct sio_acpi_error err = {0, ""};
    int rc = sio_dmar_parse(c, len, 0, &d, &err);
    if (rc != want_rc || err.offset != want_off || !strstr(err.msg, want_msg))
        fail_msg("edit at 0x%zx: rc %d offset 0x%x '%s'; want rc %d offset 0x%x '%s'", at, rc,
                 err.offset, err.msg, want_rc, want_off, want_msg);
    assert_null(d);
    free(c);
}

static void test_errors_name_offset(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = test_acpi_load("dmar_apple_macbookpro14_3_andd", &len);
    expect_error(b, len, 0x32, (const uint8_t[]){0, 0}, 2, SIO_EPARSE, 0x32,
                 "length 0 is below the 4-byte structure header");
    expect_error(b, len, 0x32, (const uint8_t[]){12, 0}, 2, SIO_EPARSE, 0x32,
                 "DRHD at 0x30: length 12 is below its 16-byte fixed part");
    expect_error(b, len, 0x41, (const uint8_t[]){4}, 1, SIO_EPARSE, 0x41,
                 "device scope at 0x40: length 4 is below the 6-byte scope header");
    expect_error(b, len, 0x41, (const uint8_t[]){10}, 1, SIO_EPARSE, 0x41,
                 "runs past the end of its DRHD at 0x30");
    /* last ANDD (0x144, 28 bytes) claims 4 more than the table has */
    expect_error(b, len, 0x146, (const uint8_t[]){0x20, 0}, 2, SIO_EPARSE, 0x146,
                 "ANDD at 0x144: length 32 runs past the end of the table (28 bytes left)");
    static const uint8_t as[20] = {'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A',
                                   'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A'};
    expect_error(b, len, 0xC0, as, 20, SIO_EPARSE, 0xC0, "not NUL-terminated");
    expect_error(b, len, 9, (const uint8_t[]){0x02}, 1, SIO_ECHECKSUM, 9,
                 "checksum 0x02 is wrong: the table sums to 0x01, checksum should be 0x01");
    expect_error(b, len, 0, (const uint8_t *)"DMAX", 4, SIO_EPARSE, 0, "\"DMAX\"");
    expect_error(b, len, 4, (const uint8_t[]){40, 0, 0, 0}, 4, SIO_EPARSE, 4,
                 "table length 40 is below the 48-byte DMAR header");
    expect_error(b, len, 4, (const uint8_t[]){0x61, 1, 0, 0}, 4, SIO_ETRUNC, 4,
                 "353 bytes but only 352");

    /* The same wrong checksum is accepted, and noted, on request. */
    uint8_t *c = malloc(len + 5);
    memcpy(c, b, len);
    c[9] ^= 0x10;
    struct sio_dmar *d;
    assert_int_equal(sio_dmar_parse(c, len, SIO_ACPI_IGNORE_CHECKSUM, &d, NULL), 0);
    assert_true(test_acpi_has_note(d, "checksum 0x11 is wrong (should be 0x01)"));
    sio_dmar_free(d);
    /* Bytes beyond the table's length are not part of it: noted. */
    c[9] ^= 0x10;
    memset(c + len, 0xEE, 5);
    assert_int_equal(sio_dmar_parse(c, len + 5, 0, &d, NULL), 0);
    assert_true(test_acpi_has_note(d, "5 bytes after the table's end ignored"));
    sio_dmar_free(d);
    /* ...but inside it, three stray bytes cannot be a structure. */
    sio_st32le(c + 4, (uint32_t)len + 3);
    test_acpi_fix(c, len + 3);
    struct sio_acpi_error err;
    assert_int_equal(sio_dmar_parse(c, len + 3, 0, &d, &err), SIO_EPARSE);
    assert_int_equal(err.offset, len);
    assert_non_null(strstr(err.msg, "3 stray byte(s)"));
    free(c);
    free(b);
}

/* A structure type from a future VT-d spec is skipped by its length, reported, kept raw. */
static void test_unknown_type_skipped(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = test_acpi_load("dmar_apple_macbookpro14_3_andd", &len);
    static const uint8_t unk[12] = {9, 0, 12, 0, 0xAA, 0xBB, 0xCC, 0xDD, 1, 2, 3, 4};
    size_t nlen = len + sizeof(unk);
    uint8_t *c = malloc(nlen);
    memcpy(c, b, 0x48); /* header + first DRHD */
    memcpy(c + 0x48, unk, sizeof(unk));
    memcpy(c + 0x48 + sizeof(unk), b + 0x48, len - 0x48);
    sio_st32le(c + 4, (uint32_t)nlen);
    test_acpi_fix(c, nlen);
    struct sio_dmar *d;
    assert_int_equal(sio_dmar_parse(c, nlen, 0, &d, NULL), 0);
    assert_int_equal(d->nst, 10);
    assert_int_equal(d->st[1].type, 9);
    assert_int_equal(d->st[1].raw_len, 12);
    assert_memory_equal(d->st[1].raw, unk, 12);
    assert_true(test_acpi_has_note(d, "unknown structure type 9 (12 bytes) skipped"));
    /* the structures after it are still found */
    assert_int_equal(d->st[2].type, SIO_DMAR_DRHD);
    assert_int_equal(d->st[2].offset, 0x48 + 12);
    assert_string_equal(d->st[9].acpi_name, "\\_SB.PCI0.UA02");
    /* printed as iasl would, and kept through generation */
    char *out = NULL;
    size_t olen = 0;
    FILE *mem = open_memstream(&out, &olen);
    assert_int_equal(sio_acpi_print(c, nlen, 0, mem, NULL), 0);
    fclose(mem);
    assert_non_null(strstr(out, "**** Unknown DMAR subtable type 0x9"));
    assert_non_null(strstr(out, "0009 [Unknown Subtable Type]"));
    free(out);
    uint8_t *g;
    size_t glen;
    assert_int_equal(sio_dmar_generate(d, &g, &glen, NULL), 0);
    assert_int_equal(glen, nlen);
    assert_memory_equal(g, c, nlen);
    free(g);
    sio_dmar_free(d);
    free(c);
    free(b);
}

static void test_firmware_bug_notes(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = test_acpi_load("dmar_apple_macbookpro14_3_andd", &len);
    struct sio_dmar *d;
    sio_st64le(b + 0xA0, 0x7B800800); /* RMRR base not page aligned */
    sio_st64le(b + 0x38, 0);          /* first DRHD at address zero */
    b[0x40] = 7;                      /* a scope type the spec does not define */
    test_acpi_fix(b, len);
    assert_int_equal(sio_dmar_parse(b, len, 0, &d, NULL), 0);
    assert_true(test_acpi_has_note(d, "RMRR at 0x98: bad region [0x7B800800-0x7FFFFFFF]"));
    assert_true(test_acpi_has_note(d, "DRHD at 0x30: register base 0x0 is invalid"));
    assert_true(test_acpi_has_note(d, "device scope type 7 is not defined"));
    assert_int_equal(d->nnotes, 3);
    sio_dmar_free(d);
    free(b);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(sio_dmar_type_name(SIO_DMAR_DRHD), "DRHD");
    assert_string_equal(sio_dmar_type_name(SIO_DMAR_SIDP), "SIDP");
    assert_string_equal(sio_dmar_type_name(77), "unknown");
    assert_string_equal(sio_dmar_scope_type_name(SIO_DMAR_SCOPE_BRIDGE), "PCI bridge");
    uint8_t x[4] = {'I', 'V', 'R', 'S'};
    assert_int_equal(sio_acpi_identify(x, 4), SIO_ACPI_IVRS);
    assert_int_equal(sio_acpi_identify(x, 3), SIO_ACPI_UNKNOWN);
    assert_int_equal(sio_acpi_identify("DMAR", 4), SIO_ACPI_DMAR);
    assert_int_equal(sio_acpi_identify("FACP", 4), SIO_ACPI_UNKNOWN);
    struct sio_acpi_error err;
    assert_int_equal(sio_acpi_decode("FACPxxxx", 8, 0, NULL, NULL, &err), SIO_EPARSE);
    assert_non_null(strstr(err.msg, "\"FACP\" is neither DMAR nor IVRS"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_apple),        cmocka_unit_test(test_parse_multihop),
        cmocka_unit_test(test_generate_layout),    cmocka_unit_test(test_roundtrip_generated),
        cmocka_unit_test(test_generate_refuses),   cmocka_unit_test(test_roundtrip_real_tables),
        cmocka_unit_test(test_truncated),          cmocka_unit_test(test_corrupted),
        cmocka_unit_test(test_errors_name_offset), cmocka_unit_test(test_unknown_type_skipped),
        cmocka_unit_test(test_firmware_bug_notes), cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

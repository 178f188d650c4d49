/* Fuzz target: the DMAR parser, decoder, generator and platform view. Any bytes are refused or
 * accepted without a crash; the decoder agrees with the parser; what is accepted generates and
 * re-parses to the same record. The input is also tried as a table body with a valid signature,
 * length and checksum, so that mutations reach the structure walk. */
#include <softiommu/acpi.h>
#include <softiommu/bits.h>
#include <softiommu/pci.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_field(void *ctx, const struct sio_acpi_field *f)
{
    if (!f->text)
        abort();
    (*(size_t *)ctx)++;
}

static void check(const uint8_t *b, size_t len, unsigned flags)
{
    struct sio_dmar *d = NULL, *d2 = NULL;
    struct sio_acpi_error err;
    int rc = sio_dmar_parse(b, len, flags, &d, &err);
    size_t nf = 0;
    /* the decoder picks the table by signature: it must agree when that is DMAR */
    if (sio_acpi_identify(b, len) == SIO_ACPI_DMAR &&
        sio_acpi_decode(b, len, flags, on_field, &nf, &err) != rc)
        abort();
    if (rc)
        return;
    uint8_t *g;
    size_t glen;
    if (sio_dmar_generate(d, &g, &glen, &err) == 0) {
        if (sio_dmar_parse(g, glen, 0, &d2, &err) != 0 || !sio_dmar_equal(d, d2))
            abort();
        sio_dmar_free(d2);
        free(g);
    }
    struct sio_dmar_platform *p;
    if (sio_dmar_platform_create(d, NULL, 0, &p) == 0) {
        for (size_t i = 0; i < d->nst; i++)
            for (size_t j = 0; j < d->st[i].nscopes; j++) {
                const struct sio_dmar_scope *sc = &d->st[i].scopes[j];
                uint16_t sid = sio_sid(sc->bus, sc->npath ? sc->path[0].dev : 0,
                                       sc->npath ? sc->path[0].fn : 0);
                const struct sio_dmar_struct *r[2];
                sio_dmar_platform_unit_for(p, d->st[i].segment, sid);
                sio_dmar_platform_rmrrs_for(p, d->st[i].segment, sid, r, 2);
                sio_dmar_platform_ats_allowed(p, d->st[i].segment, sid, 0, NULL);
                sio_dmar_platform_ioapic_sid(p, sc->enum_id, NULL, NULL);
            }
        sio_dmar_platform_destroy(p);
    }
    sio_dmar_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size, 0);
    check(data, size, SIO_ACPI_IGNORE_CHECKSUM);
    if (size >= SIO_DMAR_HEADER_LEN && size < (1u << 20)) {
        uint8_t *c = malloc(size);
        if (!c)
            return 0;
        memcpy(c, data, size);
        memcpy(c, "DMAR", 4);
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

/* Fuzz target: the DMAR parser, decoder, generator and platform view. Any bytes are refused or
 * accepted without a crash; the decoder agrees with the parser; what is accepted generates and
 * re-parses to the same record. The input is also tried as a table body with a valid signature,
 * length and checksum, so that mutations reach the structure walk. */
#include "fuzz_acpi_common.h"

#include <softiommu/acpi.h>
#include <softiommu/pci.h>

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *b, size_t len, unsigned flags)
{
    struct sio_dmar *d = NULL, *d2 = NULL;
    struct sio_acpi_error err;
    int rc = sio_dmar_parse(b, len, flags, &d, &err);
    fuzz_acpi_decode_agrees(b, len, flags, SIO_ACPI_DMAR, rc);
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
    return fuzz_acpi_run(data, size, "DMAR", SIO_DMAR_HEADER_LEN, check);
}

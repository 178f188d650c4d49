/* Fuzz target: the IVRS parser, decoder and generator. Any bytes are refused or accepted without
 * a crash; the decoder agrees with the parser; what is accepted generates and re-parses to the
 * same record. The input is also tried as a table body with a valid signature, length and
 * checksum, so that mutations reach the subtable and device-entry walk. */
#include "fuzz_acpi_common.h"

#include <softiommu/acpi.h>

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *b, size_t len, unsigned flags)
{
    struct sio_ivrs *v = NULL, *v2 = NULL;
    struct sio_acpi_error err;
    int rc = sio_ivrs_parse(b, len, flags, &v, &err);
    fuzz_acpi_decode_agrees(b, len, flags, SIO_ACPI_IVRS, rc);
    if (rc)
        return;
    for (size_t i = 0; i < v->nsub; i++)
        for (size_t j = 0; j < v->sub[i].nentries; j++)
            if (sio_ivhd_entry_size(&v->sub[i].entries[j]) == 0)
                abort();
    uint8_t *g;
    size_t glen;
    if (sio_ivrs_generate(v, &g, &glen, &err) == 0) {
        if (sio_ivrs_parse(g, glen, 0, &v2, &err) != 0 || !sio_ivrs_equal(v, v2))
            abort();
        sio_ivrs_free(v2);
        free(g);
    }
    sio_ivrs_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_acpi_run(data, size, "IVRS", SIO_IVRS_HEADER_LEN, check);
}

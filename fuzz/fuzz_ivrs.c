/* Fuzz target: the IVRS parser, decoder and generator. Any bytes are refused or accepted without
 * a crash; the decoder agrees with the parser; what is accepted generates and re-parses to the
 * same record. The input is also tried as a table body with a valid signature, length and
 * checksum, so that mutations reach the subtable and device-entry walk. */
#include <softiommu/acpi.h>
#include <softiommu/bits.h>

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
    struct sio_ivrs *v = NULL, *v2 = NULL;
    struct sio_acpi_error err;
    int rc = sio_ivrs_parse(b, len, flags, &v, &err);
    size_t nf = 0;
    /* the decoder picks the table by signature: it must agree when that is IVRS */
    if (sio_acpi_identify(b, len) == SIO_ACPI_IVRS &&
        sio_acpi_decode(b, len, flags, on_field, &nf, &err) != rc)
        abort();
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
    check(data, size, 0);
    check(data, size, SIO_ACPI_IGNORE_CHECKSUM);
    if (size >= SIO_IVRS_HEADER_LEN && size < (1u << 20)) {
        uint8_t *c = malloc(size);
        if (!c)
            return 0;
        memcpy(c, data, size);
        memcpy(c, "IVRS", 4);
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

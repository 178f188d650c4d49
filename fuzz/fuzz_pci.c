/* Fuzz target: the BDF text parser must accept or reject any bytes without crashing, and what
 * it accepts must print and re-parse to the same device. */
#include <softiommu/pci.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[64];
    if (size >= sizeof(text))
        size = sizeof(text) - 1;
    memcpy(text, data, size);
    text[size] = 0;
    struct sio_bdf b, again;
    char err[160];
    if (sio_bdf_parse(text, &b, err, sizeof(err)) == 0) {
        char buf[SIO_BDF_STRLEN];
        sio_bdf_format(b, buf);
        if (sio_bdf_parse(buf, &again, NULL, 0) != 0 || again.seg != b.seg ||
            sio_bdf_sid(again) != sio_bdf_sid(b))
            abort();
    }
    return 0;
}

/* Smallest program against an installed softiommu: compiled in the install test with nothing
 * but `cc $(pkg-config --cflags --libs softiommu) pmem_hello.c`. */
#include <softiommu/err.h>
#include <softiommu/mem.h>
#include <softiommu/pci.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    struct sio_pmem *pm = sio_pmem_create(64ULL << 30); /* 64 GiB, costs only touched pages */
    const struct sio_mem_ops *ops = sio_pmem_ops();
    const char msg[] = "hello, DMA";
    char back[sizeof(msg)] = {0};
    if (!pm || ops->write(pm, 0x100000000ULL, msg, sizeof(msg)) ||
        ops->read(pm, 0x100000000ULL, back, sizeof(back)) || strcmp(msg, back)) {
        fprintf(stderr, "pmem round trip failed\n");
        return 1;
    }
    struct sio_bdf b;
    char buf[SIO_BDF_STRLEN];
    if (sio_bdf_parse("00:02.0", &b, NULL, 0))
        return 1;
    printf("softiommu %s: %s via pmem (%llu page), device %s sid 0x%04x\n", sio_version(), back,
           (unsigned long long)sio_pmem_pages(pm), sio_bdf_format(b, buf), sio_bdf_sid(b));
    sio_pmem_destroy(pm);
    return 0;
}

/* The README's embedding example, kept identical to it by tests/cli/readme.sh. */
#include <softiommu/vtd.h>
#include <softiommu/vtd_driver.h>
#include <stdio.h>

int main(void)
{
    struct sio_pmem *ram = sio_pmem_create(1ULL << 32); /* 4 GiB sparse RAM */
    struct sio_vtd_config cfg = {0};                    /* defaults: 48-bit */
    struct sio_vtd *unit = sio_vtd_create(&cfg, sio_pmem_ops(), ram, NULL, NULL);
    struct sio_vtd_drv_config dc = {.table_base = 0xF0000000, .table_size = 16 << 20, .strict = 1};
    struct sio_vtd_drv *drv =
        sio_vtd_drv_create(&dc, sio_vtd_mmio_ops(), unit, sio_pmem_ops(), ram);
    struct sio_domain *dom = sio_vtd_drv_domain_alloc(drv);
    sio_vtd_drv_attach(dom, 0x0010); /* 00:02.0 */
    sio_vtd_drv_map(dom, 0x100000, 0x2000000, 4096, SIO_READ | SIO_WRITE);
    char pkt[64] = "hello";
    int ok = sio_vtd_dma(unit, 0x0010, 0x100000, pkt, sizeof pkt, SIO_WRITE);  /* 0: landed */
    int bad = sio_vtd_dma(unit, 0x0010, 0x200000, pkt, sizeof pkt, SIO_WRITE); /* never mapped */
    printf("mapped write: %d, unmapped write: fault reason 0x%x\n", ok, bad);  /* 0, 0x5 */
    sio_vtd_drv_service_faults(drv); /* logs the fault the way Linux prints it */
    sio_vtd_drv_destroy(drv);
    sio_vtd_destroy(unit);
    sio_pmem_destroy(ram);
    return 0;
}

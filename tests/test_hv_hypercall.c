/* The Xen-style IOMMU hypercalls: what a guest that knows about the IOMMU may do (its own
 * device, its own memory) and every refusal, counted by reason. */
#include "test_hv_platform.h"

#include <softiommu/log.h>

static struct log_capture logs;

static int setup(void **state)
{
    log_capture_start(&logs);
    *state = plat_new(0);
    return 0;
}

static int teardown(void **state)
{
    plat_free(*state);
    log_capture_stop();
    return 0;
}

static long hc(struct sio_vm *vm, unsigned op, uint16_t rid, uint64_t bus, uint64_t gpa,
               uint64_t size, unsigned perm)
{
    struct sio_hypercall h = {op, rid, bus, gpa, size, perm};
    return sio_hv_hypercall(vm, &h);
}

static int dma(struct plat *p, uint16_t rid, uint64_t addr, void *buf, size_t len, unsigned access)
{
    return sio_pci_fn_dma(sio_pci_fn_by_rid(p->t, rid), addr, buf, len, access);
}

static void test_iospace_lifecycle(void **state)
{
    struct plat *p = *state;
    struct sio_vm *a = p->vm[0];
    assert_int_equal(hc(a, SIO_HC_IOMMU_DETECTED, 0, 0, 0, 0, 0), 1);
    assert_int_equal(sio_hv_assign(a, RID_NIC1), 0);
    plat_bus_master(p, RID_NIC1);
    assert_int_equal(dma(p, RID_NIC1, 0x1000, "gpa", 4, SIO_WRITE), 0); /* GPA space */
    /* Its own I/O space: empty, so the device reaches nothing. */
    assert_int_equal(hc(a, SIO_HC_IOSPACE_CREATE, RID_NIC1, 0, 0, 0, 0), 0);
    assert_int_equal(dma(p, RID_NIC1, 0x1000, "x", 1, SIO_WRITE), 0x5);
    /* Map two pages of A's RAM (GPA 0x5000) at bus address 1 MiB, read/write. */
    assert_int_equal(hc(a, SIO_HC_MAP, RID_NIC1, 0x100000, 0x5000, 0x2000, SIO_RW), 0);
    assert_int_equal(dma(p, RID_NIC1, 0x101FF0, "mapped", 7, SIO_WRITE), 0);
    char got[7];
    assert_int_equal(sio_vm_read(a, 0x6FF0, got, 7), 0);
    assert_string_equal(got, "mapped");
    assert_int_equal(dma(p, RID_NIC1, 0x102000, "x", 1, SIO_WRITE), 0x5);
    /* Read-only mapping: reads pass, writes fault. */
    assert_int_equal(hc(a, SIO_HC_MAP, RID_NIC1, 0x200000, 0x8000, 0x1000, SIO_READ), 0);
    assert_int_equal(dma(p, RID_NIC1, 0x200000, got, 4, SIO_READ), 0);
    assert_int_equal(dma(p, RID_NIC1, 0x200000, "x", 1, SIO_WRITE), 0x5);
    /* Unmap: strict, so the warm IOTLB entry is gone when the call returns. */
    assert_int_equal(hc(a, SIO_HC_UNMAP, RID_NIC1, 0x100000, 0, 0x2000, 0), 0);
    assert_int_equal(dma(p, RID_NIC1, 0x101FF0, "x", 1, SIO_WRITE), 0x5);
    /* Destroy: back to the full GPA space. */
    assert_int_equal(hc(a, SIO_HC_IOSPACE_DESTROY, RID_NIC1, 0, 0, 0, 0), 0);
    assert_int_equal(dma(p, RID_NIC1, 0x1000, "gpa2", 5, SIO_WRITE), 0);
    assert_int_equal(sio_vm_read(a, 0x1000, got, 5), 0);
    assert_string_equal(got, "gpa2");
    /* Deassigning with an I/O space in place removes it and its mappings. */
    assert_int_equal(hc(a, SIO_HC_IOSPACE_CREATE, RID_NIC1, 0, 0, 0, 0), 0);
    assert_int_equal(hc(a, SIO_HC_MAP, RID_NIC1, 0x100000, 0x5000, 0x1000, SIO_RW), 0);
    assert_int_equal(sio_hv_deassign(a, RID_NIC1), 0);
    assert_null(sio_vtd_drv_device_domain(p->drv, RID_NIC1));
    plat_bus_master(p, RID_NIC1);
    int r = dma(p, RID_NIC1, 0x100000, "x", 1, SIO_WRITE);
    assert_true(r == 0x1 || r == 0x2);
    struct sio_vm_stats st;
    sio_vm_get_stats(a, &st);
    assert_int_equal(st.hypercalls, 8);
    assert_int_equal(st.hc_refused, 0);
}

static void test_refusals(void **state)
{
    struct plat *p = *state;
    struct sio_vm *a = p->vm[0], *b = p->vm[1];
    assert_int_equal(sio_hv_assign(a, RID_NIC1), 0);
    assert_int_equal(sio_hv_assign(a, RID_NIC2), 0);
    assert_int_equal(sio_hv_assign(a, RID_DMA32), 0); /* with 04:02.0: one requester id */
    /* B acts on A's device: refused whatever it asks. */
    assert_int_equal(hc(b, SIO_HC_IOSPACE_CREATE, RID_NIC1, 0, 0, 0, 0), SIO_EOWNED);
    assert_non_null(strstr(sio_hv_last_error(p->hv), "VM 'B' does not own 0000:01:00.0"));
    assert_non_null(strstr(sio_hv_last_error(p->hv), "assigned to VM 'A'"));
    assert_int_equal(hc(b, SIO_HC_MAP, RID_NIC1, 0, 0, 0x1000, SIO_RW), SIO_EOWNED);
    assert_int_equal(hc(b, SIO_HC_UNMAP, RID_NIC1, 0, 0, 0x1000, 0), SIO_EOWNED);
    assert_int_equal(hc(b, SIO_HC_IOSPACE_CREATE, RID_ROGUE, 0, 0, 0, 0), SIO_EOWNED);
    assert_non_null(strstr(sio_hv_last_error(p->hv), "it is free"));
    /* A on its own device, but not its memory. */
    assert_int_equal(hc(a, SIO_HC_IOSPACE_CREATE, RID_NIC1, 0, 0, 0, 0), 0);
    assert_int_equal(hc(a, SIO_HC_MAP, RID_NIC1, 0, P_RAM_SIZE, 0x1000, SIO_RW), SIO_EPERM);
    assert_non_null(strstr(sio_hv_last_error(p->hv), "is not memory of VM 'A'"));
    /* B's host memory as a "GPA": still not A's memory. */
    assert_int_equal(hc(a, SIO_HC_MAP, RID_NIC1, 0, plat_vm_hpa(1), 0x1000, SIO_RW), SIO_EPERM);
    /* Straddling the end of A's RAM. */
    assert_int_equal(hc(a, SIO_HC_MAP, RID_NIC1, 0, P_RAM_SIZE - 0x1000, 0x2000, SIO_RW),
                     SIO_EPERM);
    /* Bad arguments. */
    assert_int_equal(hc(a, SIO_HC_MAP, RID_NIC1, 0x800, 0, 0x1000, SIO_RW), SIO_EINVAL);
    assert_int_equal(hc(a, SIO_HC_MAP, RID_NIC1, 0, 0, 0, SIO_RW), SIO_EINVAL);
    assert_int_equal(hc(a, SIO_HC_MAP, RID_NIC1, 0, 0, 0x1000, 0), SIO_EINVAL);
    assert_int_equal(hc(a, SIO_HC_MAP, RID_NIC1, 0, 0, 0x1000, 4), SIO_EINVAL);
    assert_int_equal(hc(a, 99, RID_NIC1, 0, 0, 0, 0), SIO_EINVAL);
    /* Twice. */
    assert_int_equal(hc(a, SIO_HC_IOSPACE_CREATE, RID_NIC1, 0, 0, 0, 0), SIO_EEXIST);
    assert_int_equal(hc(a, SIO_HC_MAP, RID_NIC1, 0x10000, 0, 0x2000, SIO_RW), 0);
    assert_int_equal(hc(a, SIO_HC_MAP, RID_NIC1, 0x11000, 0x4000, 0x1000, SIO_RW), SIO_EEXIST);
    /* Unmapping what was never mapped (or only part of a mapping). */
    assert_int_equal(hc(a, SIO_HC_UNMAP, RID_NIC1, 0x30000, 0, 0x1000, 0), SIO_ENOTMAPPED);
    assert_int_equal(hc(a, SIO_HC_UNMAP, RID_NIC1, 0x10000, 0, 0x1000, 0), SIO_ENOTMAPPED);
    /* No I/O space on NIC2. */
    assert_int_equal(hc(a, SIO_HC_MAP, RID_NIC2, 0, 0, 0x1000, SIO_RW), SIO_ENOENT);
    assert_int_equal(hc(a, SIO_HC_IOSPACE_DESTROY, RID_NIC2, 0, 0, 0, 0), SIO_ENOENT);
    /* 04:01.0 shares its requester id (04:00.0, the bridge's) with 04:02.0. */
    assert_int_equal(hc(a, SIO_HC_IOSPACE_CREATE, RID_DMA32, 0, 0, 0, 0), SIO_EGROUP);
    assert_string_equal(sio_hv_last_error(p->hv),
                        "0000:04:01.0 cannot have its own I/O space: its DMA carries the "
                        "requester id of 0000:04:00.0, as does 0000:04:02.0's");
    /* Nothing refused changed anything: NIC1's space holds only the one mapping. */
    plat_bus_master(p, RID_NIC1);
    assert_int_equal(dma(p, RID_NIC1, 0x10000, "ok", 3, SIO_WRITE), 0);
    assert_int_equal(dma(p, RID_NIC1, 0x0, "x", 1, SIO_WRITE), 0x5);
    /* Counted, by reason. */
    struct sio_vm_stats sa, sb;
    sio_vm_get_stats(a, &sa);
    sio_vm_get_stats(b, &sb);
    assert_int_equal(sb.hypercalls, 4);
    assert_int_equal(sb.hc_refused, 4);
    assert_int_equal(sb.hc_refused_by_err[-SIO_EOWNED], 4);
    assert_int_equal(sa.hc_refused, 15);
    assert_int_equal(sa.hc_refused_by_err[-SIO_EPERM], 3);
    assert_int_equal(sa.hc_refused_by_err[-SIO_EINVAL], 5);
    assert_int_equal(sa.hc_refused_by_err[-SIO_EEXIST], 2);
    assert_int_equal(sa.hc_refused_by_err[-SIO_ENOTMAPPED], 2);
    assert_int_equal(sa.hc_refused_by_err[-SIO_ENOENT], 2);
    assert_int_equal(sa.hc_refused_by_err[-SIO_EGROUP], 1);
    assert_int_equal(sa.hypercalls, 17);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_iospace_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

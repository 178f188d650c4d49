/* Device assignment through the host driver: ownership and the errors that name the owner,
 * whole-group assignment (devices behind a PCIe-to-PCI bridge go together), VFs in different
 * VMs, deassignment that leaves nothing reachable, iommu=pt for a host device, RAM ownership. */
#include "test_hv_platform.h"

#include <softiommu/log.h>

#include <string.h>

static struct log_capture logs;

static int setup(void **state)
{
    log_capture_start(&logs); /* fault lines and refusals stay out of the test output */
    *state = plat_new(0);
    return 0;
}

static int teardown(void **state)
{
    plat_free(*state);
    log_capture_stop();
    return 0;
}

static int dma(struct plat *p, uint16_t rid, uint64_t addr, void *buf, size_t len, unsigned access)
{
    struct sio_pci_fn *f = sio_pci_fn_by_rid(p->t, rid);
    assert_non_null(f);
    return sio_pci_fn_dma(f, addr, buf, len, access);
}

/* Host memory at pa holds the string want, its NUL included. */
static void expect_host_str(struct plat *p, uint64_t pa, const char *want)
{
    char got[16];
    size_t n = strlen(want) + 1;
    assert_true(n <= sizeof(got));
    assert_int_equal(sio_mem_read(&p->mem, pa, got, n), 0);
    assert_string_equal(got, want);
}

static void test_assign_and_ownership(void **state)
{
    struct plat *p = *state;
    struct sio_vm *a = p->vm[0], *b = p->vm[1];
    assert_int_equal(sio_hv_assign(a, RID_NIC1), 0);
    struct sio_vm *who = NULL;
    assert_int_equal(sio_hv_owner(p->hv, RID_NIC1, &who), SIO_OWNER_VM);
    assert_ptr_equal(who, a);
    plat_bus_master(p, RID_NIC1);
    /* Guest-physical addresses work unchanged: GPA 0x1000 of A is host 0x1000. */
    assert_int_equal(dma(p, RID_NIC1, 0x1000, "to A", 5, SIO_WRITE), 0);
    char got[5];
    expect_host_str(p, plat_vm_hpa(0) + 0x1000, "to A");
    /* The guest reads the same bytes through its EPT. */
    memset(got, 0, sizeof(got));
    assert_int_equal(sio_vm_read(a, 0x1000, got, 5), 0);
    assert_string_equal(got, "to A");
    /* Past A's 256 MiB: not mapped, a write fault (VT-d reason 5). */
    assert_int_equal(dma(p, RID_NIC1, P_RAM_SIZE, "x", 1, SIO_WRITE), 0x5);
    assert_int_equal(dma(p, RID_NIC1, P_GiB + 0x1000, got, 1, SIO_READ), 0x6);
    /* Exclusive: B cannot take it, and the refusal names the owner. */
    assert_int_equal(sio_hv_assign(b, RID_NIC1), SIO_EOWNED);
    assert_non_null(strstr(sio_hv_last_error(p->hv), "0000:01:00.0"));
    assert_non_null(strstr(sio_hv_last_error(p->hv), "assigned to VM 'A'"));
    assert_int_equal(sio_hv_assign(a, RID_NIC1), SIO_EEXIST);
    assert_int_equal(sio_hv_assign(a, RID_PCIBR), SIO_EINVAL);
    assert_int_equal(sio_hv_assign(a, 0x0E00), SIO_ENOENT);
    assert_int_equal(sio_hv_deassign(b, RID_NIC1), SIO_EPERM);
    assert_non_null(strstr(sio_hv_last_error(p->hv), "assigned to VM 'A'"));
    uint16_t devs[4];
    assert_int_equal(sio_vm_devices(a, devs, 4), 1);
    assert_int_equal(devs[0], RID_NIC1);
    assert_int_equal(sio_vm_devices(b, devs, 4), 0);
    /* A second device of A shares A's IOMMU domain. */
    assert_int_equal(sio_hv_assign(a, RID_NIC2), 0);
    assert_ptr_equal(sio_vtd_drv_device_domain(p->drv, RID_NIC1),
                     sio_vtd_drv_device_domain(p->drv, RID_NIC2));
    /* ... and B's device gets another. */
    assert_int_equal(sio_hv_assign(b, RID_ROGUE), 0);
    assert_ptr_not_equal(sio_vtd_drv_device_domain(p->drv, RID_NIC1),
                         sio_vtd_drv_device_domain(p->drv, RID_ROGUE));
}

static void test_group_behind_bridge(void **state)
{
    struct plat *p = *state;
    struct sio_vm *a = p->vm[0], *b = p->vm[1], *c = p->vm[2];
    /* 04:01.0 and 04:02.0 sit behind the PCIe-to-PCI bridge: one group, assigned together. */
    const struct sio_pci_dev_info *d1 = sio_pci_enum_find(sio_hv_pci(p->hv), RID_DMA32);
    const struct sio_pci_dev_info *d2 = sio_pci_enum_find(sio_hv_pci(p->hv), RID_ROGUE2);
    assert_int_equal(d1->group, d2->group);
    assert_int_equal(d1->dma_alias, 0x0400);
    /* The host holds one member: the group is not viable. */
    assert_int_equal(sio_hv_host_claim(p->hv, RID_ROGUE2, 0), 0);
    assert_int_equal(sio_hv_assign(b, RID_DMA32), SIO_EGROUP);
    assert_non_null(strstr(sio_hv_last_error(p->hv), "0000:04:02.0 is in use by the host"));
    assert_int_equal(sio_hv_owner(p->hv, RID_DMA32, NULL), SIO_OWNER_NONE);
    assert_int_equal(sio_hv_host_release(p->hv, RID_ROGUE2), 0);
    assert_int_equal(sio_hv_assign(b, RID_DMA32), 0);
    struct sio_vm *who;
    assert_int_equal(sio_hv_owner(p->hv, RID_ROGUE2, &who), SIO_OWNER_VM);
    assert_ptr_equal(who, b);
    assert_int_equal(sio_hv_owner(p->hv, RID_PCIBR, NULL), SIO_OWNER_NONE);
    /* The other member cannot go elsewhere. */
    assert_int_equal(sio_hv_assign(c, RID_ROGUE2), SIO_EOWNED);
    assert_non_null(strstr(sio_hv_last_error(p->hv), "assigned to VM 'B'"));
    /* Both reach B's memory (through the alias 04:00.0), nobody else's. */
    plat_bus_master(p, RID_ROGUE2);
    assert_int_equal(sio_rogue_dma(p->rogue2, 0x2000, "bridged", 8, SIO_WRITE), 0);
    expect_host_str(p, plat_vm_hpa(1) + 0x2000, "bridged");
    assert_int_equal(sio_rogue_dma(p->rogue2, plat_vm_hpa(2) + 0x2000, "x", 1, SIO_WRITE), 0x5);
    /* Giving one back gives the group back. */
    assert_int_equal(sio_hv_deassign(b, RID_ROGUE2), 0);
    assert_int_equal(sio_hv_owner(p->hv, RID_DMA32, NULL), SIO_OWNER_NONE);
    assert_int_equal(sio_hv_assign(a, RID_ROGUE2), 0);
    assert_int_equal(sio_hv_owner(p->hv, RID_DMA32, &who), SIO_OWNER_VM);
    assert_ptr_equal(who, a);
}

static void test_vfs_in_different_vms(void **state)
{
    struct plat *p = *state;
    struct sio_vm *a = p->vm[0], *b = p->vm[1];
    assert_int_equal(sio_pci_sriov_enable(sio_pci_topo_cfg_ops(), p->t, RID_PF, 2), 0);
    assert_int_equal(sio_hv_rescan(p->hv), 0);
    const struct sio_pci_enum *e = sio_hv_pci(p->hv);
    assert_non_null(sio_pci_enum_find(e, RID_VF0));
    assert_int_not_equal(sio_pci_enum_find(e, RID_VF0)->group,
                         sio_pci_enum_find(e, RID_VF1)->group);
    assert_int_equal(sio_hv_assign(a, RID_VF0), 0);
    assert_int_equal(sio_hv_assign(b, RID_VF1), 0);
    plat_bus_master(p, RID_VF0);
    plat_bus_master(p, RID_VF1);
    plat_bus_master(p, RID_PF);
    /* The same bus address lands in each VF's own VM. */
    assert_int_equal(dma(p, RID_VF0, 0x3000, "vf0", 4, SIO_WRITE), 0);
    assert_int_equal(dma(p, RID_VF1, 0x3000, "vf1", 4, SIO_WRITE), 0);
    expect_host_str(p, plat_vm_hpa(0) + 0x3000, "vf0");
    expect_host_str(p, plat_vm_hpa(1) + 0x3000, "vf1");
    /* Neither reaches the other VM's host memory; the unassigned PF reaches nothing. */
    assert_int_equal(dma(p, RID_VF0, plat_vm_hpa(1) + 0x3000, "x", 1, SIO_WRITE), 0x5);
    assert_int_equal(dma(p, RID_VF1, plat_vm_hpa(2) + 0x3000, "x", 1, SIO_WRITE), 0x5);
    int r = dma(p, RID_PF, 0x3000, "x", 1, SIO_WRITE);
    assert_true(r == 0x1 || r == 0x2);
    /* VFs cannot vanish while assigned. */
    assert_int_equal(sio_pci_sriov_enable(sio_pci_topo_cfg_ops(), p->t, RID_PF, 0), 0);
    assert_int_equal(sio_hv_rescan(p->hv), SIO_EBUSY);
    assert_non_null(strstr(sio_hv_last_error(p->hv), "0000:05:10.0 vanished"));
}

static void test_deassign_leaves_nothing(void **state)
{
    struct plat *p = *state;
    struct sio_vm *a = p->vm[0], *b = p->vm[1];
    struct sio_vtd_drv_info before, mid, after;
    sio_vtd_drv_get_info(p->drv, &before);
    assert_int_equal(sio_hv_assign(a, RID_NIC1), 0);
    sio_vtd_drv_get_info(p->drv, &mid);
    assert_true(mid.table_pages_used > before.table_pages_used);
    plat_bus_master(p, RID_NIC1);
    /* Warm the IOTLB with a translation of A's page. */
    assert_int_equal(dma(p, RID_NIC1, 0x4000, "warm", 5, SIO_WRITE), 0);
    assert_int_equal(sio_hv_deassign(a, RID_NIC1), 0);
    /* Quiesced: bus mastering and MSI off. */
    assert_false(sio_pci_cfg_read(p->t, RID_NIC1, SIO_PCI_COMMAND, 2) & SIO_PCI_CMD_MASTER);
    assert_int_equal(dma(p, RID_NIC1, 0x4000, "x", 1, SIO_WRITE), SIO_EPERM);
    /* Even a device that turns bus mastering back on reaches nothing: no context entry, and
     * nothing stale in the IOTLB. */
    plat_bus_master(p, RID_NIC1);
    uint64_t sum = plat_checksum(p, plat_vm_hpa(0), 0x10000);
    for (uint64_t a2 = 0; a2 < P_RAM_SIZE; a2 += 16 << 20) {
        int r = dma(p, RID_NIC1, a2 + 0x4000, "stale", 6, SIO_WRITE);
        assert_true(r == 0x1 || r == 0x2); /* root or context entry not present */
    }
    assert_int_equal(plat_checksum(p, plat_vm_hpa(0), 0x10000), sum);
    assert_null(sio_vtd_drv_device_domain(p->drv, RID_NIC1));
    /* A's domain is gone with its page-table pages (the driver may keep the context table
     * of bus 1: that is not a mapping); a second round trip leaks nothing. */
    sio_vtd_drv_get_info(p->drv, &after);
    assert_true(after.table_pages_used < mid.table_pages_used);
    assert_int_equal(sio_hv_assign(a, RID_NIC1), 0);
    assert_int_equal(sio_hv_deassign(a, RID_NIC1), 0);
    struct sio_vtd_drv_info again;
    sio_vtd_drv_get_info(p->drv, &again);
    assert_int_equal(again.table_pages_used, after.table_pages_used);
    /* Now B may have it: the same bus address is B's memory. */
    assert_int_equal(sio_hv_assign(b, RID_NIC1), 0);
    plat_bus_master(p, RID_NIC1);
    assert_int_equal(dma(p, RID_NIC1, 0x4000, "to B", 5, SIO_WRITE), 0);
    expect_host_str(p, plat_vm_hpa(1) + 0x4000, "to B");
    expect_host_str(p, plat_vm_hpa(0) + 0x4000, "warm");
    struct sio_vm_stats st;
    sio_vm_get_stats(a, &st);
    assert_int_equal(st.assigns, 2);
    assert_int_equal(st.deassigns, 2);
}

static void test_host_passthrough(void **state)
{
    struct plat *p = *state;
    /* iommu=pt for the host's storage controller: it DMAs to host addresses 1:1. */
    assert_int_equal(sio_hv_host_claim(p->hv, RID_STORAGE, 1), 0);
    plat_bus_master(p, RID_STORAGE);
    uint64_t host_pa = 5 * P_GiB + 0x7000;
    assert_int_equal(dma(p, RID_STORAGE, host_pa, "host", 5, SIO_WRITE), 0);
    expect_host_str(p, host_pa, "host");
    struct sio_xlate x;
    assert_int_equal(sio_vtd_translate(p->u, RID_STORAGE, host_pa, SIO_READ, &x), 0);
    assert_int_equal(x.pa, host_pa);
    /* Not assignable while the host has it. */
    assert_int_equal(sio_hv_assign(p->vm[2], RID_STORAGE), SIO_EOWNED);
    assert_non_null(strstr(sio_hv_last_error(p->hv), "in use by the host (pass-through)"));
    assert_int_equal(sio_hv_host_release(p->hv, RID_STORAGE), 0);
    int r = dma(p, RID_STORAGE, host_pa, "x", 1, SIO_WRITE);
    assert_true(r == 0x1 || r == 0x2);
    assert_int_equal(sio_hv_assign(p->vm[2], RID_STORAGE), 0);
    assert_int_equal(sio_hv_host_claim(p->hv, RID_STORAGE, 1), SIO_EOWNED);
}

static void test_ram_ownership(void **state)
{
    struct plat *p = *state;
    struct sio_vm *b = p->vm[1];
    assert_int_equal(sio_vm_add_ram(b, 0x40000000, plat_vm_hpa(0) + 0x100000, 0x100000),
                     SIO_EOWNED);
    assert_non_null(strstr(sio_hv_last_error(p->hv), "RAM of VM 'A'"));
    assert_int_equal(sio_vm_add_ram(b, 0x40000000, P_HV_BASE, 0x1000), SIO_EOWNED);
    assert_non_null(strstr(sio_hv_last_error(p->hv), "hypervisor's table pages"));
    assert_int_equal(sio_vm_add_ram(b, 0x1000, 4 * P_GiB, 0x1000), SIO_EEXIST);
    assert_int_equal(sio_vm_add_ram(b, 0x800, 4 * P_GiB, 0x1000), SIO_EINVAL);
    /* RAM added after an assignment is reachable by the VM's devices too. */
    assert_int_equal(sio_hv_assign(b, RID_NIC2), 0);
    plat_bus_master(p, RID_NIC2);
    assert_int_equal(dma(p, RID_NIC2, 0x40000000, "x", 1, SIO_WRITE), 0x5);
    assert_int_equal(sio_vm_add_ram(b, 0x40000000, 4 * P_GiB, 0x200000), 0);
    assert_int_equal(dma(p, RID_NIC2, 0x40000000, "more", 5, SIO_WRITE), 0);
    expect_host_str(p, 4 * P_GiB, "more");
}

static void test_group_grows_while_assigned(void **state)
{
    struct plat *p = *state;
    /* An SR-IOV PF without ACS on its own root port: its VFs will share its group. */
    struct sio_pci_fn_desc rp = plat_port(8, SIO_PCIE_ROOT_PORT);
    plat_add(p, 0, 0x19, 0, rp, NULL);
    struct sio_pci_fn_desc pf = sio_nic_desc(4);
    pf.acs = 0;
    plat_add(p, 8, 0, 0, pf, NULL);
    assert_int_equal(sio_hv_rescan(p->hv), 0);
    assert_int_equal(sio_hv_assign(p->vm[0], 0x0800), 0);
    /* The host enables VFs behind the assignment: they would land in A's group unowned. */
    assert_int_equal(sio_pci_sriov_enable(sio_pci_topo_cfg_ops(), p->t, 0x0800, 2), 0);
    assert_int_equal(sio_hv_rescan(p->hv), SIO_EGROUP);
    assert_string_equal(sio_hv_last_error(p->hv),
                        "0000:08:10.0 would join the IOMMU group of 0000:08:00.0, which is "
                        "assigned to VM 'A': deassign it first");
    /* The old view stays: the VFs are unknown, so nobody can be given them. */
    assert_int_equal(sio_hv_assign(p->vm[1], 0x0880), SIO_ENOENT);
    assert_int_equal(sio_hv_deassign(p->vm[0], 0x0800), 0);
    assert_int_equal(sio_hv_rescan(p->hv), 0);
    assert_int_equal(sio_hv_assign(p->vm[1], 0x0880), 0);
    assert_int_equal(sio_vm_devices(p->vm[1], NULL, 0), 3); /* PF and both VFs */
}

static void test_large_group(void **state)
{
    struct plat *p = *state;
    /* A root port without ACS opening bus 7, with 32 multi-function devices of 8 functions
     * each and no ACS anywhere: one group of 257 (the port and 256 endpoints). */
    struct sio_pci_fn_desc rp = plat_port(7, SIO_PCIE_ROOT_PORT);
    rp.acs = 0;
    plat_add(p, 0, 0x1a, 0, rp, NULL);
    struct sio_pci_fn_desc d = sio_rogue_desc();
    struct sio_pci_fn *last = NULL;
    for (unsigned dev = 0; dev < 32; dev++)
        for (unsigned fn = 0; fn < 8; fn++)
            plat_add(p, 7, dev, fn, d, &last);
    sio_pci_fn_set_port(last, sio_vtd_port(&p->port));
    assert_int_equal(sio_hv_rescan(p->hv), 0);
    const struct sio_pci_enum *e = sio_hv_pci(p->hv);
    unsigned g = sio_pci_enum_find(e, sio_sid(7, 5, 3))->group;
    assert_int_equal(sio_pci_enum_group(e, g, NULL, 0), 257);
    assert_int_equal(sio_hv_assign(p->vm[0], sio_sid(7, 5, 3)), 0);
    assert_int_equal(sio_vm_devices(p->vm[0], NULL, 0), 256);
    assert_int_equal(sio_hv_assign(p->vm[1], sio_sid(7, 31, 7)), SIO_EOWNED);
    assert_non_null(strstr(sio_hv_last_error(p->hv), "0000:07:1f.7 is assigned to VM 'A'"));
    plat_bus_master(p, sio_sid(7, 31, 7));
    assert_int_equal(dma(p, sio_sid(7, 31, 7), 0x9000, "far", 4, SIO_WRITE), 0);
    expect_host_str(p, plat_vm_hpa(0) + 0x9000, "far");
    assert_int_equal(sio_hv_deassign(p->vm[0], sio_sid(7, 0, 0)), 0);
    assert_int_equal(sio_vm_devices(p->vm[0], NULL, 0), 0);
    assert_int_equal(sio_hv_assign(p->vm[1], sio_sid(7, 31, 7)), 0);
    assert_int_equal(sio_vm_devices(p->vm[1], NULL, 0), 256);
}

static void test_no_iommu(void **state)
{
    (void)state;
    struct sio_pmem *pm = sio_pmem_create(P_GiB);
    struct sio_pci_topo *t = sio_pci_topo_create(0);
    struct sio_pci_fn_desc d = sio_nic_desc(0);
    assert_int_equal(sio_pci_add(t, 0, 2, 0, &d, NULL), 0);
    struct sio_hv_config hc = tm_hv_config(pm, 512 << 20, 1 << 20, NULL, t); /* no IOMMU */
    struct sio_hv *hv = sio_hv_create(&hc);
    struct sio_vm *vm = sio_vm_create(hv, NULL);
    assert_int_equal(sio_hv_assign(vm, 0x10), SIO_ENOTSUP);
    assert_non_null(strstr(sio_hv_last_error(hv), "could reach all of host memory"));
    struct sio_hypercall hcall = {SIO_HC_IOMMU_DETECTED, 0, 0, 0, 0, 0};
    assert_int_equal(sio_hv_hypercall(vm, &hcall), 0);
    sio_hv_destroy(hv);
    hc.flags = SIO_HV_UNSAFE_NOIOMMU;
    hv = sio_hv_create(&hc);
    vm = sio_vm_create(hv, NULL);
    assert_int_equal(sio_hv_assign(vm, 0x10), 0);
    hcall.op = SIO_HC_IOSPACE_CREATE;
    hcall.rid = 0x10;
    assert_int_equal(sio_hv_hypercall(vm, &hcall), SIO_ENOTSUP);
    sio_hv_destroy(hv);
    sio_pci_topo_destroy(t);
    sio_pmem_destroy(pm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_assign_and_ownership, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_behind_bridge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vfs_in_different_vms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deassign_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_passthrough, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ram_ownership, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_grows_while_assigned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_group, setup, teardown),
        cmocka_unit_test(test_no_iommu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Interrupts from assigned devices reach the owning VM's vCPU named by the MSI's destination;
 * a device given back cannot interrupt its old owner; the host's devices interrupt the host.
 * (Compatibility-format MSIs through a unit without interrupt remapping.) */
#include "test_hv_platform.h"

#include <softiommu/log.h>

static struct log_capture logs;

static int setup(void **state)
{
    log_capture_start(&logs);
    struct plat *p = plat_new(0);
    /* Interrupts the unit delivers go to the hypervisor. */
    sio_vtd_port_init(&p->port, p->u, sio_hv_irq_sink, p->hv);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    plat_free(*state);
    log_capture_stop();
    return 0;
}

/* The guest programs its device's MSI capability: APIC destination and vector. */
static void program_msi(struct plat *p, uint16_t rid, unsigned dest, unsigned vector)
{
    sio_pci_cfg_write(p->t, rid, 0x80 + SIO_PCI_MSI_ADDR_LO, 0xFEE00000u | (dest << 12), 4);
    sio_pci_cfg_write(p->t, rid, 0x80 + SIO_PCI_MSI_DATA_64, vector, 2);
    sio_pci_cfg_write(p->t, rid, 0x80 + SIO_PCI_MSI_FLAGS, 1, 2);
}

/* NIC1 assigned to vm, bus mastering, its MSI programmed to (dest, vector): its function. */
static struct sio_pci_fn *nic1_assigned(struct plat *p, struct sio_vm *vm, unsigned dest,
                                        unsigned vector)
{
    assert_int_equal(sio_hv_assign(vm, RID_NIC1), 0);
    plat_bus_master(p, RID_NIC1);
    program_msi(p, RID_NIC1, dest, vector);
    return sio_pci_fn_by_rid(p->t, RID_NIC1);
}

static void test_msi_reaches_owner_vcpu(void **state)
{
    struct plat *p = *state;
    struct sio_vm *a = p->vm[0];
    struct sio_pci_fn *f = nic1_assigned(p, a, 2, 0x45);
    assert_int_equal(sio_pci_fn_msi(f), 0);
    assert_int_equal(sio_pci_fn_msi(f), 0);
    struct sio_vm_stats st;
    sio_vm_get_stats(a, &st);
    assert_int_equal(st.irqs, 2);
    assert_int_equal(st.irqs_per_vcpu[2], 2);
    assert_int_equal(st.irqs_per_vcpu[0], 0);
    assert_int_equal(st.last_vector, 0x45);
    assert_int_equal(st.last_vcpu, 2);
    /* Destination 5 on a 4-vCPU VM wraps to vCPU 1. */
    program_msi(p, RID_NIC1, 5, 0x46);
    assert_int_equal(sio_pci_fn_msi(f), 0);
    sio_vm_get_stats(a, &st);
    assert_int_equal(st.irqs_per_vcpu[1], 1);
    /* Nothing went to the other VMs or the host. */
    struct sio_vm_stats sb;
    sio_vm_get_stats(p->vm[1], &sb);
    assert_int_equal(sb.irqs, 0);
    assert_int_equal(sio_hv_host_irqs(p->hv), 0);
}

static void test_deassigned_device_cannot_interrupt(void **state)
{
    struct plat *p = *state;
    struct sio_vm *a = p->vm[0];
    struct sio_pci_fn *f = nic1_assigned(p, a, 0, 0x50);
    assert_int_equal(sio_pci_fn_msi(f), 0);
    assert_int_equal(sio_hv_deassign(a, RID_NIC1), 0);
    /* Deassign turned MSI off: the device has nothing to send. */
    assert_int_equal(sio_pci_fn_msi(f), SIO_ESTATE);
    /* Re-enabled behind everyone's back: it reaches nobody's vCPU. */
    plat_bus_master(p, RID_NIC1);
    program_msi(p, RID_NIC1, 0, 0x50);
    assert_int_equal(sio_pci_fn_msi(f), 0);
    struct sio_vm_stats st;
    sio_vm_get_stats(a, &st);
    assert_int_equal(st.irqs, 1);
    assert_int_equal(sio_hv_host_irqs(p->hv), 1); /* counted as the host's (spurious) */
}

static void test_host_device_interrupts_host(void **state)
{
    struct plat *p = *state;
    assert_int_equal(sio_hv_host_claim(p->hv, RID_STORAGE, 1), 0);
    plat_bus_master(p, RID_STORAGE);
    program_msi(p, RID_STORAGE, 0, 0x60);
    assert_int_equal(sio_pci_fn_msi(sio_pci_fn_by_rid(p->t, RID_STORAGE)), 0);
    assert_int_equal(sio_hv_host_irqs(p->hv), 1);
    for (unsigned v = 0; v < P_NVM; v++) {
        struct sio_vm_stats st;
        sio_vm_get_stats(p->vm[v], &st);
        assert_int_equal(st.irqs, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_msi_reaches_owner_vcpu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deassigned_device_cannot_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_device_interrupts_host, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

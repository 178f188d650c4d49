/* Enumeration through configuration reads and IOMMU groups. The expected groups are worked
 * out by hand from the rules in src/hv/pci_enum.c (after Linux's pci_device_group): which
 * functions can reach each other without passing the IOMMU, or look alike to it. */
#include "test_machine.h"
#include "test_util.h"

#include <softiommu/err.h>
#include <softiommu/hv.h>
#include <softiommu/pcidev.h>

#include <stdlib.h>

static struct sio_pci_fn_desc ep(int pcie_type, uint32_t class_code, int acs)
{
    struct sio_pci_fn_desc d = {0};
    d.vendor = 0x8086;
    d.device = 0x1111;
    d.class_code = class_code;
    d.pcie_type = pcie_type;
    d.acs = acs;
    d.msi = 1;
    d.bar_size[0] = 0x1000;
    return d;
}

static struct sio_pci_fn_desc br(int type, unsigned sec, int acs)
{
    return tm_bridge(0x2222, type, sec, acs);
}

#define R(b, d, f) sio_sid(b, d, f)

/* The platform of the test (see each line), added in this order. */
static struct sio_pci_topo *platform(void)
{
    struct sio_pci_fn_desc pf_no_acs = sio_nic_desc(4);
    pf_no_acs.acs = 0;
    const struct {
        unsigned bus, dev, fn;
        struct sio_pci_fn_desc d;
    } fns[] = {
        {0, 0, 0, ep(SIO_PCIE_RCIEP, 0x060000, 0)}, /* 00:00.0 host bridge */
        {0, 2, 0, ep(SIO_PCIE_RCIEP, 0x030000, 0)}, /* 00:02.0 integrated graphics */
        /* 00:1c.0 root port with ACS -> 01:00.0 NIC; 00:1c.1 root port without ACS -> a
         * two-function device 02:00.0/.1 without ACS. */
        {0, 0x1c, 0, br(SIO_PCIE_ROOT_PORT, 1, 1)},
        {1, 0, 0, sio_nic_desc(0)},
        {0, 0x1c, 1, br(SIO_PCIE_ROOT_PORT, 2, 0)},
        {2, 0, 0, ep(SIO_PCIE_ENDPOINT, 0x010600, 0)},
        {2, 0, 1, ep(SIO_PCIE_ENDPOINT, 0x010600, 0)},
        /* 00:1d.0 root port (ACS) -> 03:00.0 PCIe-to-PCI bridge -> 04:01.0, 04:02.0. */
        {0, 0x1d, 0, br(SIO_PCIE_ROOT_PORT, 3, 1)},
        {3, 0, 0, br(SIO_PCIE_PCI_BRIDGE, 4, 0)},
        {4, 1, 0, ep(SIO_PCIE_NONE, 0x040100, 0)},
        {4, 2, 0, ep(SIO_PCIE_NONE, 0x040100, 0)},
        /* 00:1e.0 root port (ACS) -> a two-function device with ACS on each function. */
        {0, 0x1e, 0, br(SIO_PCIE_ROOT_PORT, 5, 1)},
        {5, 0, 0, ep(SIO_PCIE_ENDPOINT, 0x020000, 1)},
        {5, 0, 1, ep(SIO_PCIE_ENDPOINT, 0x020000, 1)},
        /* 00:1f.0 root port (ACS) -> SR-IOV PF with ACS; 00:1b.0 -> SR-IOV PF without ACS. */
        {0, 0x1f, 0, br(SIO_PCIE_ROOT_PORT, 6, 1)},
        {6, 0, 0, sio_nic_desc(4)},
        {0, 0x1b, 0, br(SIO_PCIE_ROOT_PORT, 7, 1)},
        {7, 0, 0, pf_no_acs},
        /* 00:01.0 root port (ACS) -> switch: upstream 08:00.0 -> downstream 09:00.0 (ACS) ->
         * 0a:00.0; downstream 09:01.0 (no ACS) -> 0b:00.0. */
        {0, 1, 0, br(SIO_PCIE_ROOT_PORT, 8, 1)},
        {8, 0, 0, br(SIO_PCIE_UPSTREAM, 9, 0)},
        {9, 0, 0, br(SIO_PCIE_DOWNSTREAM, 10, 1)},
        {10, 0, 0, ep(SIO_PCIE_ENDPOINT, 0x020000, 0)},
        {9, 1, 0, br(SIO_PCIE_DOWNSTREAM, 11, 0)},
        {11, 0, 0, ep(SIO_PCIE_ENDPOINT, 0x020000, 0)},
    };
    struct sio_pci_topo *t = sio_pci_topo_create(0);
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
        int rc = sio_pci_add(t, fns[i].bus, fns[i].dev, fns[i].fn, &fns[i].d, NULL);
        if (rc != 0)
            fail_msg("adding %02x:%02x.%x: %d", fns[i].bus, fns[i].dev, fns[i].fn, rc);
    }
    /* Two VFs on each PF, through the capability as a PF driver does it. */
    assert_int_equal(sio_pci_sriov_enable(sio_pci_topo_cfg_ops(), t, R(6, 0, 0), 2), 0);
    assert_int_equal(sio_pci_sriov_enable(sio_pci_topo_cfg_ops(), t, R(7, 0, 0), 2), 0);
    return t;
}

static unsigned grp(const struct sio_pci_enum *e, uint16_t rid)
{
    const struct sio_pci_dev_info *d = sio_pci_enum_find(e, rid);
    if (!d)
        fail_msg("rid %04x not enumerated", rid);
    return d->group;
}

static void same(const struct sio_pci_enum *e, uint16_t a, uint16_t b)
{
    if (grp(e, a) != grp(e, b))
        fail_msg("%04x and %04x should share a group", a, b);
}

static void apart(const struct sio_pci_enum *e, uint16_t a, uint16_t b)
{
    if (grp(e, a) == grp(e, b))
        fail_msg("%04x and %04x should be in different groups", a, b);
}

static unsigned group_size(const struct sio_pci_enum *e, uint16_t rid)
{
    return sio_pci_enum_group(e, grp(e, rid), NULL, 0);
}

static void test_enumeration(void **state)
{
    (void)state;
    struct sio_pci_topo *t = platform();
    struct sio_pci_enum *e = sio_pci_enumerate(sio_pci_topo_cfg_ops(), t, 0, SIO_ENUM_ENABLE_ACS);
    assert_non_null(e);
    /* 24 functions + 4 VFs. */
    assert_int_equal(sio_pci_enum_count(e), 28);
    const struct sio_pci_dev_info *d = sio_pci_enum_find(e, R(3, 0, 0));
    assert_int_equal(d->pcie_type, SIO_PCIE_PCI_BRIDGE);
    assert_true(d->bridge);
    assert_int_equal(d->secondary, 4);
    assert_int_equal(d->subordinate, 4);
    assert_int_equal(sio_pci_enum_find(e, R(0, 0x1d, 0))->subordinate, 4);
    assert_int_equal(sio_pci_enum_find(e, R(0, 1, 0))->subordinate, 11);
    d = sio_pci_enum_find(e, R(4, 1, 0));
    assert_int_equal(d->pcie_type, -1);
    assert_int_equal(d->parent_rid, R(3, 0, 0));
    assert_int_equal(d->dma_alias, R(4, 0, 0)); /* the bridge's secondary bus, 00.0 */
    assert_true(sio_pci_enum_find(e, R(2, 0, 1))->multifunction);
    assert_true(sio_pci_enum_find(e, R(0, 0x1c, 1))->multifunction);
    assert_false(sio_pci_enum_find(e, R(1, 0, 0))->multifunction);
    /* VFs found through the PF's SR-IOV capability: 06:10.0 and 06:10.2. */
    d = sio_pci_enum_find(e, 0x0680);
    assert_non_null(d);
    assert_true(d->is_vf);
    assert_int_equal(d->pf_rid, 0x0600);
    assert_int_equal(d->vendor, 0x8086);
    assert_int_equal(d->device, SIO_NIC_VF_DEVICE);
    assert_int_equal(d->parent_rid, R(0, 0x1f, 0));
    assert_non_null(sio_pci_enum_find(e, 0x0682));
    assert_null(sio_pci_enum_find(e, 0x0684));
    /* ACS enabled where implemented. */
    assert_true(sio_pci_enum_find(e, R(0, 0x1c, 0))->acs_isolated);
    assert_false(sio_pci_enum_find(e, R(0, 0x1c, 1))->acs_isolated);
    /* The OS's idea of each function's DMA alias matches what the fabric really sends. */
    for (unsigned i = 0; i < sio_pci_enum_count(e); i++) {
        d = sio_pci_enum_dev(e, i);
        struct sio_pci_fn *f = sio_pci_fn_by_rid(t, d->rid);
        assert_non_null(f);
        assert_int_equal(d->dma_alias, sio_pci_fn_wire_rid(f));
    }
    sio_pci_enum_destroy(e);
    sio_pci_topo_destroy(t);
}

static void test_groups_with_acs(void **state)
{
    (void)state;
    struct sio_pci_topo *t = platform();
    struct sio_pci_enum *e = sio_pci_enumerate(sio_pci_topo_cfg_ops(), t, 0, SIO_ENUM_ENABLE_ACS);
    /* Integrated endpoints and the ACS root port's NIC stand alone. */
    assert_int_equal(group_size(e, R(0, 0, 0)), 1);
    assert_int_equal(group_size(e, R(0, 2, 0)), 1);
    assert_int_equal(group_size(e, R(0, 0x1c, 0)), 1);
    assert_int_equal(group_size(e, R(1, 0, 0)), 1);
    /* Root port without ACS: it and both functions below it. */
    same(e, R(0, 0x1c, 1), R(2, 0, 0));
    same(e, R(2, 0, 0), R(2, 0, 1));
    assert_int_equal(group_size(e, R(2, 0, 0)), 3);
    apart(e, R(0, 0x1c, 0), R(0, 0x1c, 1)); /* one slot, but 1c.0 has ACS */
    /* Behind the PCIe-to-PCI bridge: the bridge and both devices, nothing else. */
    same(e, R(3, 0, 0), R(4, 1, 0));
    same(e, R(4, 1, 0), R(4, 2, 0));
    assert_int_equal(group_size(e, R(4, 1, 0)), 3);
    apart(e, R(0, 0x1d, 0), R(3, 0, 0));
    /* Multi-function with ACS: each function alone. */
    apart(e, R(5, 0, 0), R(5, 0, 1));
    assert_int_equal(group_size(e, R(5, 0, 1)), 1);
    /* SR-IOV with ACS: PF and each VF alone. */
    apart(e, 0x0600, 0x0680);
    apart(e, 0x0680, 0x0682);
    assert_int_equal(group_size(e, 0x0682), 1);
    /* SR-IOV without ACS: PF and VFs together. */
    same(e, 0x0700, 0x0780);
    same(e, 0x0780, 0x0782);
    assert_int_equal(group_size(e, 0x0700), 3);
    /* Switch: ACS downstream port isolates its endpoint; the other port does not. */
    assert_int_equal(group_size(e, R(8, 0, 0)), 1);
    assert_int_equal(group_size(e, R(9, 0, 0)), 1);
    assert_int_equal(group_size(e, R(10, 0, 0)), 1);
    same(e, R(9, 1, 0), R(11, 0, 0));
    assert_int_equal(group_size(e, R(11, 0, 0)), 2);
    /* 00.0, 02.0, 1c.0, 01:00.0, {1c.1 + 02:00.x}, 1d.0, {03:00.0 + 04:0x.0}, 1e.0, 05:00.0,
     * 05:00.1, 1f.0, 06:00.0, two VFs, 1b.0, {07:00.0 + VFs}, 01.0, 08:00.0, 09:00.0,
     * 0a:00.0, {09:01.0 + 0b:00.0}: 21 groups. */
    assert_int_equal(sio_pci_enum_ngroups(e), 21);
    uint16_t members[4];
    assert_int_equal(sio_pci_enum_group(e, grp(e, R(4, 2, 0)), members, 4), 3);
    assert_int_equal(members[0], R(3, 0, 0));
    assert_int_equal(members[1], R(4, 1, 0));
    assert_int_equal(members[2], R(4, 2, 0));
    sio_pci_enum_destroy(e);
    sio_pci_topo_destroy(t);
}

static void test_groups_without_acs_enabled(void **state)
{
    (void)state;
    /* Nobody enabled ACS: no root or downstream port isolates anything. */
    struct sio_pci_topo *t = platform();
    struct sio_pci_enum *e = sio_pci_enumerate(sio_pci_topo_cfg_ops(), t, 0, 0);
    assert_false(sio_pci_enum_find(e, R(0, 0x1c, 0))->acs_isolated);
    same(e, R(0, 0x1c, 0), R(1, 0, 0));
    /* 1c.0 and 1c.1 are one multi-function slot without (enabled) ACS. */
    same(e, R(1, 0, 0), R(2, 0, 1));
    same(e, R(5, 0, 0), R(5, 0, 1));
    same(e, 0x0600, 0x0682);
    /* The whole switch joins its root port. */
    same(e, R(0, 1, 0), R(10, 0, 0));
    same(e, R(10, 0, 0), R(11, 0, 0));
    /* Integrated endpoints on the root bus are still alone. */
    assert_int_equal(group_size(e, R(0, 2, 0)), 1);
    sio_pci_enum_destroy(e);
    sio_pci_topo_destroy(t);
}

static void test_sriov_enable_errors(void **state)
{
    (void)state;
    struct sio_pci_topo *t = platform();
    const struct sio_pci_cfg_ops *ops = sio_pci_topo_cfg_ops();
    assert_int_equal(sio_pci_sriov_enable(ops, t, R(1, 0, 0), 1), SIO_ENOENT); /* no SR-IOV */
    assert_int_equal(sio_pci_sriov_enable(ops, t, R(0x20, 0, 0), 1), SIO_ENOENT);
    assert_int_equal(sio_pci_sriov_enable(ops, t, R(6, 0, 0), 5), SIO_ERANGE);
    /* Re-enabling with a different count replaces the VFs. */
    assert_int_equal(sio_pci_sriov_enable(ops, t, R(6, 0, 0), 4), 0);
    assert_non_null(sio_pci_fn_by_rid(t, 0x0686));
    assert_int_equal(sio_pci_sriov_enable(ops, t, R(6, 0, 0), 0), 0);
    assert_null(sio_pci_fn_by_rid(t, 0x0680));
    sio_pci_topo_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enumeration),
        cmocka_unit_test(test_groups_with_acs),
        cmocka_unit_test(test_groups_without_acs_enabled),
        cmocka_unit_test(test_sriov_enable_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

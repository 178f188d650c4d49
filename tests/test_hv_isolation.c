/* Isolation across every pair of VMs and devices: each device, assigned to one VM, aims at
 * every VM's host memory (the addresses a malicious guest would program). Whatever lands must
 * land in its own VM; everything else is blocked by the unit, recorded in a fault record and
 * printed by the host driver in Linux's format, and no other VM's memory changes. */
#include "test_hv_platform.h"

#include <softiommu/log.h>

#include <stdio.h>

static struct log_capture logs;

static const uint64_t targets[] = {0x0, 0x1000, 0x123000, 0x7FFF000, P_RAM_SIZE - 0x1000};
#define NTARGETS (sizeof(targets) / sizeof(targets[0]))

struct dev {
    uint16_t rid;  /* the function that DMAs */
    uint16_t wire; /* the requester id the unit sees */
    unsigned vm;
};

static struct plat *setup_world(struct dev *devs, unsigned *ndev)
{
    struct plat *p = plat_new(0);
    assert_int_equal(sio_pci_sriov_enable(sio_pci_topo_cfg_ops(), p->t, RID_PF, 2), 0);
    assert_int_equal(sio_hv_rescan(p->hv), 0);
    static const uint16_t rids[] = {RID_NIC1, RID_NIC2, RID_DMA32,  RID_ROGUE,
                                    RID_VF0,  RID_VF1,  RID_STORAGE};
    unsigned n = 0;
    for (unsigned k = 0; k < sizeof(rids) / sizeof(rids[0]); k++) {
        unsigned vm = k % P_NVM;
        assert_int_equal(sio_hv_assign(p->vm[vm], rids[k]), 0);
        plat_bus_master(p, rids[k]);
        devs[n].rid = rids[k];
        devs[n].wire = sio_pci_fn_wire_rid(sio_pci_fn_by_rid(p->t, rids[k]));
        devs[n].vm = vm;
        n++;
    }
    /* 04:02.0 came with 04:01.0's group. */
    plat_bus_master(p, RID_ROGUE2);
    devs[n].rid = RID_ROGUE2;
    devs[n].wire = 0x0400;
    devs[n].vm = devs[2].vm;
    n++;
    *ndev = n;
    /* Each VM writes its own secrets (through its EPT). */
    for (unsigned v = 0; v < P_NVM; v++) {
        for (unsigned t = 0; t < NTARGETS; t++) {
            char secret[32];
            snprintf(secret, sizeof(secret), "secret of VM %c @%llx", 'A' + v,
                     (unsigned long long)targets[t]);
            assert_int_equal(sio_vm_write(p->vm[v], targets[t], secret, sizeof(secret)), 0);
        }
    }
    return p;
}

static uint64_t vm_sum(struct plat *p, unsigned v)
{
    uint64_t h = 0;
    for (unsigned t = 0; t < NTARGETS; t++)
        h = h * 31 + plat_checksum(p, plat_vm_hpa(v) + targets[t], 4096);
    return h;
}

static void test_every_device_against_every_vm(void **state)
{
    (void)state;
    log_capture_start(&logs);
    struct dev devs[16];
    unsigned ndev;
    struct plat *p = setup_world(devs, &ndev);
    unsigned attempts = 0, blocked = 0;
    for (unsigned d = 0; d < ndev; d++) {
        struct sio_pci_fn *f = sio_pci_fn_by_rid(p->t, devs[d].rid);
        unsigned x = devs[d].vm;
        uint64_t before[P_NVM];
        for (unsigned v = 0; v < P_NVM; v++)
            before[v] = vm_sum(p, v);
        for (unsigned y = 0; y < P_NVM; y++) {
            for (unsigned t = 0; t < NTARGETS; t++) {
                uint64_t bus = plat_vm_hpa(y) + targets[t];
                char w[16] = "overwritten!!!!";
                char r[32] = {0};
                attempts += 2;
                int rw = sio_pci_fn_dma(f, bus + 64, w, sizeof(w), SIO_WRITE);
                int rr = sio_pci_fn_dma(f, bus, r, sizeof(r), SIO_READ);
                if (bus < P_RAM_SIZE) {
                    /* Inside the device's own VM's GPA space: its own memory. */
                    assert_int_equal(rw, 0);
                    assert_int_equal(rr, 0);
                    char own[32];
                    snprintf(own, sizeof(own), "secret of VM %c @%llx", 'A' + x,
                             (unsigned long long)bus);
                    assert_string_equal(r, own);
                    continue;
                }
                /* Anywhere else: a write fault (0x5) and a read fault (0x6), each recorded
                 * once and printed by the driver, naming the requester the unit saw. */
                assert_int_equal(rw, 0x5);
                assert_int_equal(rr, 0x6);
                assert_int_equal(r[0], 0); /* nothing read */
                blocked += 2;
                log_capture_start(&logs);
                assert_int_equal(sio_vtd_drv_service_faults(p->drv), 2);
                char line[160], b[SIO_BDF_STRLEN];
                snprintf(line, sizeof(line),
                         "[DMA Write NO_PASID] Request device [%s] fault addr 0x%llx",
                         sio_bdf_format(sio_bdf_from_sid(0, devs[d].wire), b),
                         (unsigned long long)(bus & ~0xFFFULL));
                if (!log_capture_has(&logs, line))
                    fail_msg("no fault line '%s'", line);
                snprintf(line, sizeof(line),
                         "[DMA Read NO_PASID] Request device [%s] fault addr 0x%llx", b,
                         (unsigned long long)(bus & ~0xFFFULL));
                if (!log_capture_has(&logs, line))
                    fail_msg("no fault line '%s'", line);
            }
        }
        /* Every other VM is untouched. */
        for (unsigned v = 0; v < P_NVM; v++)
            if (v != x)
                assert_int_equal(vm_sum(p, v), before[v]);
    }
    /* 8 devices x 3 VMs x 5 targets x 2; per device, only its own VM's first target set at
     * bus addresses below 256 MiB (VM A's host range) gets through. */
    assert_int_equal(attempts, 8 * 3 * NTARGETS * 2);
    struct sio_vtd_stats st;
    sio_vtd_get_stats(p->u, &st);
    assert_int_equal(st.faults, blocked);
    assert_int_equal(st.faults_recorded, blocked);
    assert_int_equal(st.faults_overflow, 0);
    assert_int_equal(sio_vtd_drv_fault_count(p->drv, RID_ROGUE), 2 * 2 * NTARGETS);
    plat_free(p);
    log_capture_stop();
}

static void test_unassigned_devices_reach_nothing(void **state)
{
    (void)state;
    log_capture_start(&logs);
    struct plat *p = plat_new(0);
    uint64_t before[P_NVM];
    for (unsigned v = 0; v < P_NVM; v++) {
        assert_int_equal(sio_vm_write(p->vm[v], 0x1000, "mine", 5), 0);
        before[v] = plat_checksum(p, plat_vm_hpa(v), 0x2000);
    }
    /* The rogue device, owned by nobody, sweeps the whole of host memory. */
    plat_bus_master(p, RID_ROGUE);
    unsigned n = 0;
    for (uint64_t a = 0; a < 8 * P_GiB; a += 64ULL << 20) {
        char buf[8] = "rogue!!";
        int r = sio_rogue_dma(p->rogue, a + 0x1000, buf, sizeof(buf), SIO_WRITE);
        assert_true(r == 0x1 || r == 0x2); /* no root / context entry: blocked */
        n++;
        assert_int_equal(sio_vtd_drv_service_faults(p->drv), 1);
    }
    for (unsigned v = 0; v < P_NVM; v++)
        assert_int_equal(plat_checksum(p, plat_vm_hpa(v), 0x2000), before[v]);
    struct sio_rogue_stats rs;
    sio_rogue_get_stats(p->rogue, &rs);
    assert_int_equal(rs.attempts, n);
    assert_int_equal(rs.blocked, n);
    assert_int_equal(rs.succeeded, 0);
    plat_free(p);
    log_capture_stop();
}

static void test_spoofed_requester_id(void **state)
{
    (void)state;
    log_capture_start(&logs);
    struct plat *p = plat_new(0);
    /* A's NIC at 01:00.0; the rogue at 06:00.0 belongs to C and forges 01:00.0's id to use
     * A's translations. The root port above it validates sources (ACS SV, enabled by the
     * hypervisor's enumeration), so the forged request never reaches the unit. */
    assert_int_equal(sio_hv_assign(p->vm[0], RID_NIC1), 0);
    assert_int_equal(sio_hv_assign(p->vm[2], RID_ROGUE), 0);
    plat_bus_master(p, RID_ROGUE);
    sio_pci_fn_spoof_rid(sio_pci_fn_by_rid(p->t, RID_ROGUE), RID_NIC1);
    uint64_t before = plat_checksum(p, plat_vm_hpa(0), 0x2000);
    assert_int_equal(sio_rogue_dma(p->rogue, 0x1000, "spoof", 6, SIO_WRITE), SIO_EPERM);
    assert_int_equal(plat_checksum(p, plat_vm_hpa(0), 0x2000), before);
    assert_int_equal(p->port.st.dma_requests, 0); /* dropped in the fabric */
    plat_free(p);
    log_capture_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_device_against_every_vm),
        cmocka_unit_test(test_unassigned_devices_reach_nothing),
        cmocka_unit_test(test_spoofed_requester_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

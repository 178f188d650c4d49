/* The DMAR platform view: the answers a driver needs to come up from a DMAR, checked against a
 * platform drawn by hand (which unit covers which device, RMRRs, ATS, IOAPIC/HPET source ids)
 * and against a real table. */
#include "test_util.h"

#include <softiommu/acpi.h>
#include <softiommu/err.h>
#include <softiommu/pci.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The platform, segment 0:
 *   00:02.0  GPU            unit A (endpoint scope), RMRR 0x7B800000-0x7FFFFFFF, SATC
 *                           (ATC_REQUIRED)
 *   00:1c.0  root port      unit B (bridge scope: buses 2-4), in the ATSR
 *     02:00.0  switch up    (a USB controller scope names 02:00.0 via two hops: RMRR 2)
 *       03:01.0 switch down
 *         04:00.0 NIC
 *   00:1d.0  root port      buses 6-6, not in the ATSR
 *     06:00.0  NVMe
 *   00:1e.0  PCI bridge     buses 5-5
 *     05:00.0  old PCI card
 *   everything else         unit C (INCLUDE_PCI_ALL), with IOAPIC 8 at F0:1f.0 and HPET 0 at
 *                           00:1f.0
 * The table lists A, C, B: C must still be looked at last.
 */
static struct sio_dmar *build(int atsr_all)
{
    struct sio_dmar *d = sio_dmar_new(39, SIO_DMAR_INTR_REMAP);
    struct sio_dmar_hop gpu[] = {{2, 0}}, rp[] = {{0x1c, 0}}, lpc[] = {{0x1f, 0}},
                        usb[] = {{0x1c, 0}, {0, 0}};
    struct sio_dmar_struct *s = sio_dmar_add(d, SIO_DMAR_DRHD);
    s->base = 0xFED90000;
    sio_dmar_add_scope(s, SIO_DMAR_SCOPE_ENDPOINT, 0, 0, gpu, 1);
    s = sio_dmar_add(d, SIO_DMAR_DRHD);
    s->flags = SIO_DRHD_INCLUDE_PCI_ALL;
    s->base = 0xFED91000;
    s->size = 2;
    sio_dmar_add_scope(s, SIO_DMAR_SCOPE_IOAPIC, 8, 0xF0, lpc, 1);
    sio_dmar_add_scope(s, SIO_DMAR_SCOPE_HPET, 0, 0, lpc, 1);
    s = sio_dmar_add(d, SIO_DMAR_DRHD);
    s->base = 0xFED92000;
    sio_dmar_add_scope(s, SIO_DMAR_SCOPE_BRIDGE, 0, 0, rp, 1);
    s = sio_dmar_add(d, SIO_DMAR_RMRR);
    s->base = 0x7B800000;
    s->limit = 0x7FFFFFFF;
    sio_dmar_add_scope(s, SIO_DMAR_SCOPE_ENDPOINT, 0, 0, gpu, 1);
    s = sio_dmar_add(d, SIO_DMAR_RMRR);
    s->base = 0xDD000000;
    s->limit = 0xDD0FFFFF;
    sio_dmar_add_scope(s, SIO_DMAR_SCOPE_ENDPOINT, 0, 0, usb, 2);
    s = sio_dmar_add(d, SIO_DMAR_ATSR);
    s->flags = atsr_all ? SIO_ATSR_ALL_PORTS : 0;
    sio_dmar_add_scope(s, SIO_DMAR_SCOPE_BRIDGE, 0, 0, rp, 1);
    s = sio_dmar_add(d, SIO_DMAR_SATC);
    s->flags = SIO_SATC_ATC_REQUIRED;
    sio_dmar_add_scope(s, SIO_DMAR_SCOPE_ENDPOINT, 0, 0, gpu, 1);
    return d;
}

static const struct sio_pci_bridge topo[] = {
    {0, 0x00, 0x1c, 0, 2, 4, SIO_PCI_BRIDGE_ROOT_PORT},
    {0, 0x02, 0x00, 0, 3, 4, SIO_PCI_BRIDGE_SWITCH_PORT},
    {0, 0x03, 0x01, 0, 4, 4, SIO_PCI_BRIDGE_SWITCH_PORT},
    {0, 0x00, 0x1d, 0, 6, 6, SIO_PCI_BRIDGE_ROOT_PORT},
    {0, 0x00, 0x1e, 0, 5, 5, SIO_PCI_BRIDGE_PCI},
};
#define NTOPO (sizeof(topo) / sizeof(topo[0]))

static void test_units_in_kernel_order(void **state)
{
    (void)state;
    struct sio_dmar *d = build(0);
    struct sio_dmar_platform *p;
    assert_int_equal(sio_dmar_platform_create(d, topo, NTOPO, &p), 0);
    assert_int_equal(sio_dmar_platform_nunits(p), 3);
    const struct sio_dmar_unit *u0 = sio_dmar_platform_unit(p, 0),
                               *u1 = sio_dmar_platform_unit(p, 1),
                               *u2 = sio_dmar_platform_unit(p, 2);
    assert_int_equal(u0->reg_base, 0xFED90000);
    assert_int_equal(u0->seq, 0);
    assert_false(u0->include_all);
    assert_int_equal(u1->reg_base, 0xFED92000);
    assert_int_equal(u1->seq, 2);
    assert_int_equal(u2->reg_base, 0xFED91000);
    assert_int_equal(u2->seq, 1);
    assert_true(u2->include_all);
    assert_int_equal(u2->reg_size, 16384); /* size 2: 4 pages */
    assert_int_equal(u0->reg_size, 4096);
    assert_ptr_equal(u2->drhd, &d->st[1]);
    assert_null(sio_dmar_platform_unit(p, 3));
    assert_int_equal(sio_dmar_platform_unresolved(p), 0);
    sio_dmar_platform_destroy(p);
    sio_dmar_free(d);
}

static void test_unit_for_device(void **state)
{
    (void)state;
    struct sio_dmar *d = build(0);
    struct sio_dmar_platform *p;
    assert_int_equal(sio_dmar_platform_create(d, topo, NTOPO, &p), 0);
    assert_int_equal(sio_dmar_platform_unit_for(p, 0, sio_sid(0, 2, 0)), 0);    /* GPU: A */
    assert_int_equal(sio_dmar_platform_unit_for(p, 0, sio_sid(0, 0x1c, 0)), 1); /* the port: B */
    assert_int_equal(sio_dmar_platform_unit_for(p, 0, sio_sid(4, 0, 0)), 1);    /* below it: B */
    assert_int_equal(sio_dmar_platform_unit_for(p, 0, sio_sid(2, 0, 0)), 1);
    assert_int_equal(sio_dmar_platform_unit_for(p, 0, sio_sid(6, 0, 0)), 2); /* NVMe: C */
    assert_int_equal(sio_dmar_platform_unit_for(p, 0, sio_sid(0, 2, 1)), 2); /* not the GPU */
    assert_int_equal(sio_dmar_platform_unit_for(p, 1, sio_sid(0, 2, 0)), SIO_ENOENT); /* seg 1 */
    sio_dmar_platform_destroy(p);
    sio_dmar_free(d);
}

static void test_rmrrs(void **state)
{
    (void)state;
    struct sio_dmar *d = build(0);
    struct sio_dmar_platform *p;
    assert_int_equal(sio_dmar_platform_create(d, topo, NTOPO, &p), 0);
    const struct sio_dmar_struct *r[4];
    assert_int_equal(sio_dmar_platform_rmrrs_for(p, 0, sio_sid(0, 2, 0), r, 4), 1);
    assert_int_equal(r[0]->base, 0x7B800000);
    assert_int_equal(r[0]->limit, 0x7FFFFFFF);
    /* two hops: bus 0, bridge 1c.0 (secondary bus 2), then device 00.0 */
    assert_int_equal(sio_dmar_platform_rmrrs_for(p, 0, sio_sid(2, 0, 0), r, 4), 1);
    assert_int_equal(r[0]->base, 0xDD000000);
    assert_int_equal(sio_dmar_platform_rmrrs_for(p, 0, sio_sid(4, 0, 0), r, 4), 0);
    assert_int_equal(sio_dmar_platform_rmrrs_for(p, 0, sio_sid(0, 2, 0), NULL, 0), 1);
    sio_dmar_platform_destroy(p);

    /* Without a topology the two-hop path cannot be followed: ignored, and counted. */
    assert_int_equal(sio_dmar_platform_create(d, NULL, 0, &p), 0);
    assert_int_equal(sio_dmar_platform_unresolved(p), 1);
    assert_int_equal(sio_dmar_platform_rmrrs_for(p, 0, sio_sid(2, 0, 0), r, 4), 0);
    assert_int_equal(sio_dmar_platform_rmrrs_for(p, 0, sio_sid(0, 2, 0), r, 4), 1);
    /* and the bridge scope covers only the bridge itself */
    assert_int_equal(sio_dmar_platform_unit_for(p, 0, sio_sid(0, 0x1c, 0)), 1);
    assert_int_equal(sio_dmar_platform_unit_for(p, 0, sio_sid(4, 0, 0)), 2);
    sio_dmar_platform_destroy(p);
    sio_dmar_free(d);
}

static void test_ats(void **state)
{
    (void)state;
    struct sio_dmar *d = build(0);
    struct sio_dmar_platform *p;
    const char *why;
    assert_int_equal(sio_dmar_platform_create(d, topo, NTOPO, &p), 0);
    /* GPU in the SATC with ATC_REQUIRED: not by the OS in legacy mode, yes in scalable mode */
    assert_int_equal(sio_dmar_platform_ats_allowed(p, 0, sio_sid(0, 2, 0), 0, &why), 0);
    assert_non_null(strstr(why, "ATC_REQUIRED"));
    assert_int_equal(sio_dmar_platform_ats_allowed(p, 0, sio_sid(0, 2, 0), 1, &why), 1);
    assert_non_null(strstr(why, "SATC"));
    /* NIC below a switch below root port 00:1c.0, which the ATSR lists */
    assert_int_equal(sio_dmar_platform_ats_allowed(p, 0, sio_sid(4, 0, 0), 0, &why), 1);
    assert_non_null(strstr(why, "root port is in an ATSR"));
    /* NVMe below 00:1d.0, which it does not */
    assert_int_equal(sio_dmar_platform_ats_allowed(p, 0, sio_sid(6, 0, 0), 0, &why), 0);
    assert_non_null(strstr(why, "in no ATSR"));
    /* behind a conventional PCI bridge */
    assert_int_equal(sio_dmar_platform_ats_allowed(p, 0, sio_sid(5, 0, 0), 1, &why), 0);
    assert_non_null(strstr(why, "conventional PCI"));
    /* integrated device on the root bus */
    assert_int_equal(sio_dmar_platform_ats_allowed(p, 0, sio_sid(0, 3, 0), 0, &why), 1);
    assert_non_null(strstr(why, "integrated"));
    sio_dmar_platform_destroy(p);
    sio_dmar_free(d);

    /* ALL_PORTS: every root port of the segment qualifies, 00:1d.0 too */
    d = build(1);
    assert_int_equal(sio_dmar_platform_create(d, topo, NTOPO, &p), 0);
    assert_int_equal(sio_dmar_platform_ats_allowed(p, 0, sio_sid(6, 0, 0), 0, NULL), 1);
    sio_dmar_platform_destroy(p);
    sio_dmar_free(d);
}

static void test_interrupt_source_ids(void **state)
{
    (void)state;
    struct sio_dmar *d = build(0);
    struct sio_dmar_platform *p;
    uint16_t seg = 0xffff, sid = 0;
    assert_int_equal(sio_dmar_platform_create(d, topo, NTOPO, &p), 0);
    assert_int_equal(sio_dmar_platform_ioapic_sid(p, 8, &seg, &sid), 0);
    assert_int_equal(seg, 0);
    assert_int_equal(sid, 0xF0F8); /* F0:1f.0 */
    assert_int_equal(sio_dmar_platform_hpet_sid(p, 0, &seg, &sid), 0);
    assert_int_equal(sid, 0x00F8); /* 00:1f.0 */
    assert_int_equal(sio_dmar_platform_ioapic_sid(p, 9, &seg, &sid), SIO_ENOENT);
    assert_int_equal(sio_dmar_platform_hpet_sid(p, 1, NULL, NULL), SIO_ENOENT);
    sio_dmar_platform_destroy(p);
    sio_dmar_free(d);
}

/* The view also works on a parsed real table: the Apple MacBook Pro (GPU unit + catch-all). */
static void test_real_table(void **state)
{
    (void)state;
    FILE *f = fopen(SIO_SHARED_DIR "/data/acpi/dmar_apple_macbookpro14_3_andd.dat", "rb");
    assert_non_null(f);
    uint8_t b[352];
    assert_int_equal(fread(b, 1, sizeof(b), f), sizeof(b));
    fclose(f);
    struct sio_dmar *d;
    struct sio_dmar_platform *p;
    assert_int_equal(sio_dmar_parse(b, sizeof(b), 0, &d, NULL), 0);
    assert_int_equal(sio_dmar_platform_create(d, NULL, 0, &p), 0);
    assert_int_equal(sio_dmar_platform_nunits(p), 2);
    assert_int_equal(sio_dmar_platform_unit(p, 0)->reg_base, 0xFED90000);
    assert_int_equal(sio_dmar_platform_unit(p, 1)->reg_base, 0xFED91000);
    assert_int_equal(sio_dmar_platform_unit_for(p, 0, sio_sid(0, 2, 0)), 0);
    assert_int_equal(sio_dmar_platform_unit_for(p, 0, sio_sid(0, 0x14, 0)), 1);
    const struct sio_dmar_struct *r;
    assert_int_equal(sio_dmar_platform_rmrrs_for(p, 0, sio_sid(0, 2, 0), &r, 1), 1);
    assert_int_equal(r->base, 0x7B800000);
    uint16_t sid;
    assert_int_equal(sio_dmar_platform_ioapic_sid(p, 2, NULL, &sid), 0);
    assert_int_equal(sid, sio_sid(0xF0, 0x1F, 0));
    sio_dmar_platform_destroy(p);
    sio_dmar_free(d);
}

static void test_bad_args(void **state)
{
    (void)state;
    struct sio_dmar_platform *p = (void *)1;
    assert_int_equal(sio_dmar_platform_create(NULL, NULL, 0, &p), SIO_EINVAL);
    struct sio_dmar *d = sio_dmar_new(39, 0);
    assert_int_equal(sio_dmar_platform_create(d, NULL, 3, &p), SIO_EINVAL);
    assert_int_equal(sio_dmar_platform_create(d, NULL, 0, &p), 0);
    assert_int_equal(sio_dmar_platform_nunits(p), 0);
    assert_int_equal(sio_dmar_platform_unit_for(p, 0, 0), SIO_ENOENT);
    sio_dmar_platform_destroy(p);
    sio_dmar_platform_destroy(NULL);
    sio_dmar_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units_in_kernel_order),
        cmocka_unit_test(test_unit_for_device),
        cmocka_unit_test(test_rmrrs),
        cmocka_unit_test(test_ats),
        cmocka_unit_test(test_interrupt_source_ids),
        cmocka_unit_test(test_real_table),
        cmocka_unit_test(test_bad_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Bringing the driver up from a DMAR (VT-d 8): one unit per DRHD in search order, RMRRs
 * identity-mapped for their devices, ATSR deciding ATS. The units are VT-d models placed at
 * the DRHD register bases; every expectation is read off the table by hand. */
#include "test_util.h"

#include <softiommu/acpi.h>
#include <softiommu/err.h>
#include <softiommu/pci.h>
#include <softiommu/vtd.h>
#include <softiommu/vtd_platform.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_UNITS 8
#define TABLES    0x100000000ULL /* driver tables live above 4 GiB, clear of every RMRR */

struct machine {
    struct sio_pmem *ram;
    unsigned n;
    uint64_t base[MAX_UNITS];
    struct sio_vtd *unit[MAX_UNITS];
    uint64_t refuse_base; /* lookup fails for this base */
};

/* Creates a model the first time a base is looked up: the machine has a unit wherever the
 * DMAR says (unless told otherwise). */
static int lookup(void *ctx, uint16_t seg, uint64_t reg_base, const struct sio_mmio_ops **ops,
                  void **mmio_ctx)
{
    struct machine *m = ctx;
    (void)seg;
    if (reg_base == m->refuse_base)
        return -1;
    for (unsigned i = 0; i < m->n; i++) {
        if (m->base[i] == reg_base) {
            *ops = sio_vtd_mmio_ops();
            *mmio_ctx = m->unit[i];
            return 0;
        }
    }
    if (m->n == MAX_UNITS)
        return -1;
    struct sio_vtd_config cfg = {0};
    m->unit[m->n] = sio_vtd_create(&cfg, sio_pmem_ops(), m->ram, NULL, NULL);
    m->base[m->n] = reg_base;
    *ops = sio_vtd_mmio_ops();
    *mmio_ctx = m->unit[m->n];
    m->n++;
    return 0;
}

static struct sio_vtd *unit_at(struct machine *m, uint64_t base)
{
    for (unsigned i = 0; i < m->n; i++)
        if (m->base[i] == base)
            return m->unit[i];
    fail_msg("no unit at 0x%llx", (unsigned long long)base);
    return NULL;
}

static void machine_init(struct machine *m)
{
    memset(m, 0, sizeof(*m));
    m->ram = sio_pmem_create(8ULL << 30);
    assert_non_null(m->ram);
}

static void machine_fini(struct machine *m)
{
    for (unsigned i = 0; i < m->n; i++)
        sio_vtd_destroy(m->unit[i]);
    sio_pmem_destroy(m->ram);
}

static const struct sio_vtd_platform_config plat_cfg = {TABLES, 64ULL << 20, 1, NULL, 0};

static int xlate(struct sio_vtd *u, uint16_t sid, uint64_t iova, unsigned access, uint64_t *pa)
{
    struct sio_xlate x;
    memset(&x, 0, sizeof(x));
    int rc = sio_vtd_translate(u, sid, iova, access, &x);
    if (!rc && pa)
        *pa = x.pa;
    return rc;
}

/* ---- a real table: Lenovo X230, vendor BIOS ------------------------------------------------ */

static uint8_t *load(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/data/acpi/%s", SIO_SHARED_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *buf = malloc(1 << 16);
    *len = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

static void test_x230(void **state)
{
    (void)state;
    /* From dmar_lenovo_x230_vendor_bios.dsl:
     *   DRHD flags 0 at 0xFED90000, scope endpoint 00:02.0 (graphics)
     *   DRHD flags 1 (INCLUDE_PCI_ALL) at 0xFED91000 (IOAPIC/HPET scopes on bus F0)
     *   RMRR 0xDA2BA000-0xDA2D0FFF for 00:1d.0, 00:1a.0, 00:14.0 (USB)
     *   RMRR 0xDB800000-0xDF9FFFFF for 00:02.0 (graphics stolen memory) */
    size_t len;
    uint8_t *dmar = load("dmar_lenovo_x230_vendor_bios.dat", &len);
    struct machine m;
    machine_init(&m);
    struct sio_vtd_platform *p = NULL;
    struct sio_acpi_error err = {0, ""};
    int rc =
        sio_vtd_platform_create(dmar, len, &plat_cfg, lookup, &m, sio_pmem_ops(), m.ram, &p, &err);
    if (rc)
        fail_msg("bring-up failed: %s (%s)", sio_strerror(rc), err.msg);
    assert_int_equal(sio_vtd_platform_nunits(p), 2);
    assert_int_equal(sio_vtd_platform_unit(p, 0)->reg_base, 0xFED90000ULL);
    assert_int_equal(sio_vtd_platform_unit(p, 1)->reg_base, 0xFED91000ULL);
    assert_true(sio_vtd_platform_unit(p, 1)->include_all);
    assert_int_equal(sio_vtd_platform_rmrr_devices(p), 4);
    assert_int_equal(sio_vtd_platform_rmrr_skipped(p), 0);

    struct sio_vtd *gfx_unit = unit_at(&m, 0xFED90000ULL), *all_unit = unit_at(&m, 0xFED91000ULL);
    const uint16_t gfx = sio_sid(0, 2, 0),
                   usb[3] = {sio_sid(0, 0x1d, 0), sio_sid(0, 0x1a, 0), sio_sid(0, 0x14, 0)};
    assert_ptr_equal(sio_vtd_platform_drv_for(p, 0, gfx), sio_vtd_platform_unit_drv(p, 0));
    for (int i = 0; i < 3; i++)
        assert_ptr_equal(sio_vtd_platform_drv_for(p, 0, usb[i]), sio_vtd_platform_unit_drv(p, 1));

    uint64_t pa;
    /* Each USB controller reaches the first and last page of its RMRR 1:1, through the
     * INCLUDE_PCI_ALL unit, read and write; one page past the limit is not mapped. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(xlate(all_unit, usb[i], 0xDA2BA000ULL, SIO_WRITE, &pa), 0);
        assert_int_equal(pa, 0xDA2BA000ULL);
        assert_int_equal(xlate(all_unit, usb[i], 0xDA2D0FF8ULL, SIO_READ, &pa), 0);
        assert_int_equal(pa, 0xDA2D0FF8ULL);
        assert_int_equal(xlate(all_unit, usb[i], 0xDA2D1000ULL, SIO_READ, NULL), 0x6);
        /* Not the graphics region: each device has only its own. */
        assert_int_equal(xlate(all_unit, usb[i], 0xDB800000ULL, SIO_WRITE, NULL), 0x5);
    }
    /* Graphics: its stolen memory through its own unit. */
    assert_int_equal(xlate(gfx_unit, gfx, 0xDF9FF000ULL, SIO_READ, &pa), 0);
    assert_int_equal(pa, 0xDF9FF000ULL);
    assert_int_equal(xlate(gfx_unit, gfx, 0xDA2BA000ULL, SIO_READ, NULL), 0x6);
    /* A device no RMRR names is blocked (not present in root or context). */
    int r = xlate(all_unit, sio_sid(0, 0x19, 0), 0xDA2BA000ULL, SIO_READ, NULL);
    assert_true(r == 0x1 || r == 0x2);

    /* A driver takes the USB controller 00:14.0: its RMRR comes along into the new domain. */
    struct sio_domain *dom = sio_vtd_platform_domain_alloc(p, 0, usb[2]);
    assert_non_null(dom);
    assert_int_equal(
        sio_vtd_drv_map(dom, 0x10000000ULL, 0x40000000ULL, 0x1000, SIO_READ | SIO_WRITE), 0);
    assert_int_equal(sio_vtd_platform_attach(p, dom, 0, usb[2]), 0);
    assert_int_equal(xlate(all_unit, usb[2], 0x10000000ULL, SIO_WRITE, &pa), 0);
    assert_int_equal(pa, 0x40000000ULL);
    assert_int_equal(xlate(all_unit, usb[2], 0xDA2C0000ULL, SIO_READ, &pa), 0);
    assert_int_equal(pa, 0xDA2C0000ULL);
    /* A domain of the other unit cannot take it. */
    struct sio_domain *gdom = sio_vtd_platform_domain_alloc(p, 0, gfx);
    assert_non_null(gdom);
    assert_int_equal(sio_vtd_platform_attach(p, gdom, 0, usb[1]), SIO_EINVAL);
    /* Detached, it is back in its RMRR domain: the region yes, the driver's mapping no. */
    assert_int_equal(sio_vtd_platform_detach(p, dom, 0, usb[2]), 0);
    assert_int_equal(xlate(all_unit, usb[2], 0xDA2C0000ULL, SIO_READ, &pa), 0);
    assert_int_equal(xlate(all_unit, usb[2], 0x10000000ULL, SIO_WRITE, NULL), 0x5);

    sio_vtd_platform_destroy(p);
    machine_fini(&m);
    free(dmar);
}

/* ---- a generated platform ------------------------------------------------------------------- */

static uint8_t *build_dmar(size_t *len, int bad_rmrr)
{
    struct sio_dmar *d = sio_dmar_new(39, SIO_DMAR_INTR_REMAP);
    struct sio_dmar_struct *u0 = sio_dmar_add(d, SIO_DMAR_DRHD);
    u0->base = 0xFED90000ULL;
    struct sio_dmar_hop gfx = {2, 0};
    assert_int_equal(sio_dmar_add_scope(u0, SIO_DMAR_SCOPE_ENDPOINT, 0, 0, &gfx, 1), 0);
    struct sio_dmar_struct *u1 = sio_dmar_add(d, SIO_DMAR_DRHD);
    u1->base = 0xFED91000ULL;
    u1->flags = SIO_DRHD_INCLUDE_PCI_ALL;
    struct sio_dmar_struct *rm = sio_dmar_add(d, SIO_DMAR_RMRR);
    rm->base = 0x7C000000ULL;
    rm->limit = bad_rmrr ? 0x7C0007FFULL : 0x7C0FFFFFULL;
    struct sio_dmar_hop usb = {0x14, 0};
    assert_int_equal(sio_dmar_add_scope(rm, SIO_DMAR_SCOPE_ENDPOINT, 0, 0, &usb, 1), 0);
    struct sio_dmar_struct *at = sio_dmar_add(d, SIO_DMAR_ATSR);
    struct sio_dmar_hop rp = {0x1c, 0};
    assert_int_equal(sio_dmar_add_scope(at, SIO_DMAR_SCOPE_BRIDGE, 0, 0, &rp, 1), 0);
    uint8_t *bytes = NULL;
    struct sio_acpi_error err;
    assert_int_equal(sio_dmar_generate(d, &bytes, len, &err), 0);
    sio_dmar_free(d);
    return bytes;
}

static void test_generated(void **state)
{
    (void)state;
    size_t len;
    uint8_t *dmar = build_dmar(&len, 0);
    struct machine m;
    machine_init(&m);
    /* Root port 00:1c.0 with bus 2 below it, and a conventional PCI bridge 00:1e.0 -> bus 5. */
    struct sio_pci_bridge br[2] = {{0, 0, 0x1c, 0, 2, 2, SIO_PCI_BRIDGE_ROOT_PORT},
                                   {0, 0, 0x1e, 0, 5, 5, SIO_PCI_BRIDGE_PCI}};
    struct sio_vtd_platform_config cfg = plat_cfg;
    cfg.bridges = br;
    cfg.nbridges = 2;
    struct sio_vtd_platform *p = NULL;
    struct sio_acpi_error err = {0, ""};
    assert_int_equal(
        sio_vtd_platform_create(dmar, len, &cfg, lookup, &m, sio_pmem_ops(), m.ram, &p, &err), 0);
    assert_int_equal(sio_vtd_platform_nunits(p), 2);
    assert_int_equal(sio_vtd_platform_rmrr_devices(p), 1);
    struct sio_vtd *all_unit = unit_at(&m, 0xFED91000ULL);
    uint64_t pa;
    assert_int_equal(xlate(all_unit, sio_sid(0, 0x14, 0), 0x7C0FF000ULL, SIO_READ, &pa), 0);
    assert_int_equal(pa, 0x7C0FF000ULL);
    /* ATS: behind the ATSR's root port yes; behind the PCI bridge no; the USB controller is
     * root-complex integrated (no bridge above it), which Linux allows. */
    const char *why = NULL;
    assert_int_equal(sio_vtd_platform_ats_allowed(p, 0, sio_sid(2, 0, 0), &why), 1);
    assert_int_equal(sio_vtd_platform_ats_allowed(p, 0, sio_sid(5, 0, 0), &why), 0);
    assert_non_null(why);
    assert_int_equal(sio_vtd_platform_ats_allowed(p, 0, sio_sid(0, 0x14, 0), NULL), 1);
    sio_vtd_platform_destroy(p);
    machine_fini(&m);
    free(dmar);
}

static void test_errors(void **state)
{
    (void)state;
    size_t len;
    uint8_t *dmar = build_dmar(&len, 0);
    struct machine m;
    machine_init(&m);
    struct sio_vtd_platform *p = (struct sio_vtd_platform *)&m; /* must be reset to NULL */
    struct sio_acpi_error err = {0, ""};

    /* No unit where the second DRHD says: an error naming the base. */
    m.refuse_base = 0xFED91000ULL;
    assert_int_equal(
        sio_vtd_platform_create(dmar, len, &plat_cfg, lookup, &m, sio_pmem_ops(), m.ram, &p, &err),
        SIO_ENOENT);
    assert_null(p);
    assert_non_null(strstr(err.msg, "0xfed91000"));
    m.refuse_base = 0;

    /* A corrupted checksum: a parse error with an offset, nothing brought up. */
    dmar[9] ^= 0x55;
    assert_int_equal(
        sio_vtd_platform_create(dmar, len, &plat_cfg, lookup, &m, sio_pmem_ops(), m.ram, &p, &err),
        SIO_EPARSE);
    assert_non_null(strstr(err.msg, "DMAR"));
    dmar[9] ^= 0x55;
    /* Truncated. */
    assert_int_equal(
        sio_vtd_platform_create(dmar, 40, &plat_cfg, lookup, &m, sio_pmem_ops(), m.ram, &p, &err),
        SIO_EPARSE);
    /* A table range too small for two units. */
    struct sio_vtd_platform_config tiny = plat_cfg;
    tiny.table_size = 4096;
    assert_int_not_equal(
        sio_vtd_platform_create(dmar, len, &tiny, lookup, &m, sio_pmem_ops(), m.ram, &p, &err), 0);
    assert_null(p);
    free(dmar);

    /* An RMRR whose limit+1 is not 4 KiB-aligned is skipped, counted and not mapped. */
    dmar = build_dmar(&len, 1);
    struct log_capture lc;
    log_capture_start(&lc);
    assert_int_equal(
        sio_vtd_platform_create(dmar, len, &plat_cfg, lookup, &m, sio_pmem_ops(), m.ram, &p, &err),
        0);
    log_capture_stop();
    assert_int_equal(sio_vtd_platform_rmrr_skipped(p), 1);
    assert_true(log_capture_has(&lc, "not 4 KiB-aligned"));
    int r = xlate(unit_at(&m, 0xFED91000ULL), sio_sid(0, 0x14, 0), 0x7C000000ULL, SIO_READ, NULL);
    assert_int_not_equal(r, 0);
    sio_vtd_platform_destroy(p);
    machine_fini(&m);
    free(dmar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_x230),
        cmocka_unit_test(test_generated),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

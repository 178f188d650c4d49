/* softiommu host: the kernel command line's meaning (expected modes worked out from the Linux
 * parameters' documented behaviour), and probes of the fixture trees in tests/data/host, one per
 * situation a person meets: no IOMMU, VT-d off in firmware, VT-d translated, iommu=pt, AMD-Vi,
 * several groups, VT-d off on the command line or by the kernel's default, a malformed DMAR. */
#include "test_util.h"

#include <softiommu/err.h>
#include <softiommu/host.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIXTURES SIO_SOURCE_DIR "/tests/data/host"

static struct sio_host_report *probe(const char *name)
{
    char root[512];
    snprintf(root, sizeof(root), "%s/%s", FIXTURES, name);
    struct sio_host_report *r = NULL;
    assert_int_equal(sio_host_probe(root, &r), 0);
    assert_non_null(r);
    return r;
}

static int has_finding(const struct sio_host_report *r, const char *needle)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (strstr(r->findings[i], needle))
            return 1;
    return 0;
}

/* ---- the command line ---- */

static void test_mode_defaults(void **state)
{
    (void)state;
    struct sio_host_mode m;
    /* nothing said, configuration unknown: Intel's default cannot be known */
    assert_int_equal(sio_host_kernel_mode("ro quiet", NULL, SIO_HOST_VENDOR_INTEL, &m), 0);
    assert_int_equal(m.enabled, -1);
    assert_int_equal(m.passthrough, 0);
    assert_int_equal(m.strict, 0);
    assert_non_null(strstr(m.strict_why, "upstream x86 default: lazy"));
    /* AMD is on by default */
    assert_int_equal(sio_host_kernel_mode("", NULL, SIO_HOST_VENDOR_AMD, &m), 0);
    assert_int_equal(m.enabled, 1);
    /* the configuration decides when nothing is said */
    struct sio_host_kconfig k = {1, 0, 0, 1, 1, 1};
    assert_int_equal(sio_host_kernel_mode("quiet", &k, SIO_HOST_VENDOR_INTEL, &m), 0);
    assert_int_equal(m.enabled, 0);
    assert_string_equal(m.enabled_why, "kernel default: CONFIG_INTEL_IOMMU_DEFAULT_ON is not set");
    assert_int_equal(m.passthrough, 1);
    assert_int_equal(m.strict, 1);
    /* Debian's variant: on, without the integrated GPU */
    struct sio_host_kconfig deb = {1, 1, 1, 1, 0, 0};
    assert_int_equal(sio_host_kernel_mode("", &deb, SIO_HOST_VENDOR_INTEL, &m), 0);
    assert_int_equal(m.enabled, 1);
    assert_int_equal(m.intgpu_off, 1);
    /* a kernel without the driver */
    struct sio_host_kconfig none = {0, 0, 0, 0, 0, 0};
    assert_int_equal(sio_host_kernel_mode("intel_iommu=", &none, SIO_HOST_VENDOR_INTEL, &m), 0);
    assert_int_equal(m.enabled, 0);
    assert_non_null(strstr(m.enabled_why, "without CONFIG_INTEL_IOMMU"));
    assert_int_equal(sio_host_kernel_mode("", NULL, SIO_HOST_VENDOR_INTEL, NULL), SIO_EINVAL);
}

static void test_mode_options(void **state)
{
    (void)state;
    struct sio_host_mode m;
    sio_host_kernel_mode("root=/dev/sda1 intel_iommu=on iommu=pt", NULL, SIO_HOST_VENDOR_INTEL, &m);
    assert_int_equal(m.enabled, 1);
    assert_string_equal(m.enabled_why, "intel_iommu=on");
    assert_int_equal(m.passthrough, 1);
    assert_string_equal(m.passthrough_why, "iommu=pt");
    /* later options override earlier ones */
    sio_host_kernel_mode("intel_iommu=on intel_iommu=off iommu=pt iommu.passthrough=0", NULL,
                         SIO_HOST_VENDOR_INTEL, &m);
    assert_int_equal(m.enabled, 0);
    assert_int_equal(m.passthrough, 0);
    assert_string_equal(m.passthrough_why, "iommu.passthrough=0");
    /* comma lists; strict spellings; igfx_off */
    sio_host_kernel_mode("intel_iommu=on,igfx_off,strict", NULL, SIO_HOST_VENDOR_INTEL, &m);
    assert_int_equal(m.enabled, 1);
    assert_int_equal(m.intgpu_off, 1);
    assert_int_equal(m.strict, 1);
    sio_host_kernel_mode("iommu.strict=1 iommu.strict=0", NULL, SIO_HOST_VENDOR_INTEL, &m);
    assert_int_equal(m.strict, 0);
    assert_string_equal(m.strict_why, "iommu.strict=0");
    sio_host_kernel_mode("amd_iommu=fullflush", NULL, SIO_HOST_VENDOR_AMD, &m);
    assert_int_equal(m.strict, 1);
    /* iommu=off beats intel_iommu=on, and says so */
    sio_host_kernel_mode("intel_iommu=on iommu=off", NULL, SIO_HOST_VENDOR_INTEL, &m);
    assert_int_equal(m.enabled, 0);
    assert_string_equal(m.enabled_why, "iommu=off");
    assert_int_equal(m.nwarnings, 1);
    sio_host_kernel_mode("amd_iommu=off", NULL, SIO_HOST_VENDOR_AMD, &m);
    assert_int_equal(m.enabled, 0);
    /* '-' and '_' are the same in parameter names; quoted values; after "--" is init's */
    sio_host_kernel_mode("intel-iommu=\"on\" -- intel_iommu=off", NULL, SIO_HOST_VENDOR_INTEL, &m);
    assert_int_equal(m.enabled, 1);
    /* an option for another vendor's driver does not matter */
    sio_host_kernel_mode("amd_iommu=off", NULL, SIO_HOST_VENDOR_INTEL, &m);
    assert_int_equal(m.enabled, -1);
}

static void test_mode_mistakes(void **state)
{
    (void)state;
    struct sio_host_mode m;
    sio_host_kernel_mode("amd_iommu=on", NULL, SIO_HOST_VENDOR_AMD, &m);
    assert_int_equal(m.enabled, 1);
    assert_int_equal(m.nwarnings, 1);
    assert_non_null(strstr(m.warnings[0], "AMD-Vi: Unknown option - 'on'"));
    sio_host_kernel_mode("iommu=on intel_iommu=yes iommu.strict=maybe", NULL, SIO_HOST_VENDOR_INTEL,
                         &m);
    assert_int_equal(m.nwarnings, 3);
    assert_non_null(strstr(m.warnings[0], "iommu=on is not an x86 option"));
    assert_non_null(strstr(m.warnings[1], "intel_iommu=yes"));
    assert_non_null(strstr(m.warnings[2], "not a boolean"));
    assert_int_equal(m.enabled, -1);
}

/* ---- names ---- */

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(sio_host_class_name(0x030000), "VGA compatible controller");
    assert_string_equal(sio_host_class_name(0x0c0330), "USB controller");
    assert_string_equal(sio_host_class_name(0x020000), "Ethernet controller");
    assert_string_equal(sio_host_class_name(0x028000), "Network controller");
    assert_string_equal(sio_host_class_name(0x02AA00), "Network controller");
    assert_string_equal(sio_host_class_name(0x060400), "PCI bridge");
    assert_string_equal(sio_host_vendor_name(0x8086), "Intel Corporation");
    assert_null(sio_host_vendor_name(0x1234));
    const char *name, *note;
    int vtd = 0;
    /* the seed's VT-d chipsets, by host-bridge id */
    static const uint16_t ids[] = {0x29B0, 0x29E0, 0x2E10, 0x4000, 0x4001, 0x4003};
    static const char *const names[] = {"Q35", "X38/X48", "Q45", "5400", "5400", "5400"};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(sio_host_chipset(0x8086, ids[i], &name, &vtd, &note), 0);
        assert_non_null(strstr(name, names[i]));
        assert_int_equal(vtd, 1);
        assert_non_null(strstr(note, "disabled"));
    }
    assert_int_equal(sio_host_chipset(0x8086, 0x29C0, &name, &vtd, &note), SIO_ENOENT);
    assert_int_equal(sio_host_chipset(0x1022, 0x29B0, NULL, NULL, NULL), SIO_ENOENT);
    assert_string_equal(sio_host_verdict_name(SIO_HOST_FIRMWARE_OFF), "FIRMWARE_OFF");
}

/* ---- fixture trees ---- */

static void test_no_iommu(void **state)
{
    (void)state;
    struct sio_host_report *r = probe("no_iommu");
    assert_true(r->cpuinfo_read);
    assert_string_equal(r->cpu_vendor, "GenuineIntel");
    assert_true(r->vmx);
    assert_false(r->svm);
    assert_false(r->hypervisor);
    assert_true(r->acpi_tables_dir);
    assert_false(r->dmar.present);
    assert_false(r->ivrs.present);
    assert_int_equal(r->nunits, 0);
    assert_int_equal(r->ngroups, 0);
    assert_true(r->host_bridge);
    assert_int_equal(r->hb_device, 0x29C0);
    assert_null(r->chipset);
    assert_int_equal(r->vendor, SIO_HOST_VENDOR_INTEL);
    assert_int_equal(r->verdict, SIO_HOST_NO_IOMMU);
    assert_non_null(strstr(r->verdict_text, "neither a DMAR nor an IVRS"));
    sio_host_report_free(r);
}

static void test_vtd_off_in_firmware(void **state)
{
    (void)state;
    struct sio_host_report *r = probe("vtd_off_firmware");
    assert_int_equal(r->hb_device, 0x29B0);
    assert_non_null(r->chipset);
    assert_non_null(strstr(r->chipset, "Q35"));
    assert_int_equal(r->chipset_vtd, 1);
    assert_int_equal(r->mode.enabled, 1); /* intel_iommu=on is there, and useless */
    assert_int_equal(r->verdict, SIO_HOST_FIRMWARE_OFF);
    assert_non_null(strstr(r->verdict_text, "VT-d is off in firmware"));
    assert_non_null(strstr(r->verdict_text, "enable \"VT-d\""));
    sio_host_report_free(r);
}

static void test_vtd_translated(void **state)
{
    (void)state;
    struct sio_host_report *r = probe("vtd_translated");
    assert_true(r->dmar.present);
    assert_true(r->dmar.readable);
    assert_int_equal(r->dmar.len, 408);
    assert_int_equal(r->dmar.parse_rc, 0);
    assert_non_null(r->dmar.dmar);
    assert_int_equal(r->dmar.dmar->nst, 12); /* the dc7800 table: 4 DRHD + 8 RMRR */
    assert_true(r->kconfig_read);
    assert_int_equal(r->kconfig.intel_default_on, 0);
    assert_int_equal(r->kconfig.default_strict, 0);
    assert_int_equal(r->mode.enabled, 1);
    assert_int_equal(r->mode.passthrough, 0);
    assert_int_equal(r->mode.strict, 0);
    assert_string_equal(r->live_mode, "translated (lazy)");
    assert_int_equal(r->nunits, 4);
    assert_string_equal(r->units[3], "dmar3");
    assert_int_equal(r->ngroups, 6);
    assert_true(r->vfio_pci_loaded);
    const struct sio_host_group *g = &r->groups[1];
    assert_int_equal(g->id, 1);
    assert_string_equal(g->type, "DMA-FQ");
    assert_int_equal(g->ndevs, 2);
    assert_int_equal(g->devs[0].bdf.dev, 2);
    assert_int_equal(g->devs[0].vendor, 0x8086);
    assert_int_equal(g->devs[0].device, 0x29b2);
    assert_int_equal(g->devs[0].class_code, 0x030000);
    assert_string_equal(g->devs[0].driver, "i915");
    assert_string_equal(g->devs[0].name,
                        "VGA compatible controller [0300]: Intel Corporation Device [8086:29b2]");
    assert_string_equal(g->devs[1].driver, "");
    /* the host bridge is named from the chipset table */
    assert_string_equal(r->groups[0].devs[0].name,
                        "Host bridge [0600]: Intel Corporation Q35 Express (82Q35, Bearlake) "
                        "[8086:29b0]");
    assert_int_equal(r->verdict, SIO_HOST_READY);
    assert_non_null(strstr(r->verdict_text, "VT-d is on (4 units)"));
    assert_non_null(strstr(r->verdict_text, "translated (lazy)"));
    /* the dc7800's DMAR has no interrupt remapping */
    assert_true(has_finding(r, "allow_unsafe_interrupts=1"));
    /* the GPU (00:02.0) and a USB controller (00:1a.0) have RMRRs: both relaxable */
    assert_true(has_finding(r, "cover USB/graphics devices here (00:02.0 00:1a.0)"));
    assert_true(has_finding(r, "IOMMU group 1 holds 2 devices"));
    assert_true(has_finding(r, "IOMMU group 5 holds 2 devices"));
    sio_host_report_free(r);
}

static void test_iommu_pt(void **state)
{
    (void)state;
    struct sio_host_report *r = probe("iommu_pt");
    assert_int_equal(r->mode.passthrough, 1);
    assert_string_equal(r->mode.passthrough_why, "iommu=pt");
    assert_string_equal(r->live_mode, "pass-through (identity)");
    assert_int_equal(r->verdict, SIO_HOST_READY);
    assert_non_null(strstr(r->verdict_text, "pass-through"));
    assert_true(has_finding(r, "pass-through mode"));
    assert_true(has_finding(r, "X2APIC_OPT_OUT"));
    assert_false(has_finding(r, "allow_unsafe_interrupts"));
    assert_string_equal(r->groups[4].devs[1].driver, "vfio-pci");
    assert_int_equal(r->groups[4].devs[1].class_code, 0x040300);
    sio_host_report_free(r);
}

static void test_amd_vi(void **state)
{
    (void)state;
    struct sio_host_report *r = probe("amd_vi");
    assert_string_equal(r->cpu_vendor, "AuthenticAMD");
    assert_true(r->svm);
    assert_false(r->vmx);
    assert_false(r->dmar.present);
    assert_true(r->ivrs.present);
    assert_int_equal(r->ivrs.parse_rc, 0);
    assert_non_null(r->ivrs.ivrs);
    assert_int_equal(r->vendor, SIO_HOST_VENDOR_AMD);
    assert_int_equal(r->mode.enabled, 1);
    assert_int_equal(r->mode.strict, 1);
    assert_string_equal(r->live_mode, "translated (strict)");
    assert_int_equal(r->nunits, 4);
    assert_string_equal(r->units[0], "ivhd0");
    assert_int_equal(r->verdict, SIO_HOST_READY);
    assert_non_null(strstr(r->verdict_text, "AMD-Vi is on (4 units)"));
    assert_true(has_finding(r, "amd_iommu=on is not an option"));
    assert_true(has_finding(r, "vfio-pci is not loaded"));
    assert_string_equal(r->groups[1].devs[0].name,
                        "IOMMU [0806]: Advanced Micro Devices, Inc. [AMD] Device [1022:1481]");
    sio_host_report_free(r);
}

static void test_several_groups(void **state)
{
    (void)state;
    struct sio_host_report *r = probe("several_groups");
    assert_int_equal(r->ngroups, 8);
    assert_int_equal(r->groups[4].ndevs, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(r->groups[4].devs[i].bdf.bus, 2);
        assert_int_equal(r->groups[4].devs[i].bdf.fn, i);
    }
    /* names from the tree's pci.ids */
    assert_string_equal(r->groups[4].devs[0].name,
                        "Ethernet controller [0200]: Intel Corporation I350 Gigabit Network "
                        "Connection [8086:1521]");
    assert_string_equal(r->groups[5].devs[0].name,
                        "3D controller [0302]: NVIDIA Corporation TU104GL [Tesla T4] [10de:1eb8]");
    assert_string_equal(r->groups[6].devs[0].driver, "vfio-pci");
    assert_int_equal(r->verdict, SIO_HOST_READY);
    assert_true(has_finding(r, "IOMMU group 3 holds 3 devices"));
    assert_true(has_finding(r, "IOMMU group 4 holds 4 devices"));
    assert_true(has_finding(r, "IOMMU group 7 holds 3 devices"));
    assert_false(has_finding(r, "IOMMU group 5"));
    /* iommu.passthrough=0 and no config: lazy expected, but the groups are DMA: strict */
    assert_int_equal(r->mode.strict, 0);
    assert_string_equal(r->live_mode, "translated (strict)");
    assert_true(has_finding(r, "the groups' types say translated (strict)"));
    sio_host_report_free(r);
}

static void test_kernel_off(void **state)
{
    (void)state;
    struct sio_host_report *r = probe("vtd_cmdline_off");
    assert_int_equal(r->verdict, SIO_HOST_KERNEL_OFF);
    assert_string_equal(r->verdict_text,
                        "VT-d present but disabled on the kernel command line (intel_iommu=off): "
                        "remove it and add intel_iommu=on");
    sio_host_report_free(r);
    r = probe("vtd_default_off");
    assert_int_equal(r->verdict, SIO_HOST_KERNEL_OFF);
    assert_non_null(strstr(r->verdict_text, "leaves it off by default"));
    assert_non_null(strstr(r->verdict_text, "add intel_iommu=on"));
    sio_host_report_free(r);
}

static void test_bad_table(void **state)
{
    (void)state;
    struct sio_host_report *r = probe("bad_table");
    assert_true(r->dmar.present);
    assert_int_equal(r->dmar.parse_rc, SIO_EPARSE);
    assert_int_equal(r->dmar.err.offset, 0x32);
    assert_null(r->dmar.dmar);
    assert_int_equal(r->verdict, SIO_HOST_BAD_TABLE);
    assert_non_null(strstr(r->verdict_text, "offset 0x32"));
    sio_host_report_free(r);
}

/* Nothing under the root: every file missing is reported, nothing crashes. */
static void test_empty_root(void **state)
{
    (void)state;
    struct sio_host_report *r = probe("no-such-directory");
    assert_false(r->cpuinfo_read);
    assert_false(r->cmdline_read);
    assert_false(r->acpi_tables_dir);
    assert_int_equal(r->verdict, SIO_HOST_UNKNOWN);
    sio_host_report_free(r);
    assert_int_equal(sio_host_probe("/", NULL), SIO_EINVAL);
}

/* A table that cannot be read (root only: mode 0; as root, who reads anything, a directory in
 * its place gives the same failed read): present, not readable, said so. */
static void test_unreadable_table(void **state)
{
    (void)state;
    int as_root = geteuid() == 0;
    char tmpl[] = "/tmp/sio_host_XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    char path[600];
    snprintf(path, sizeof(path), "%s/sys", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/sys/firmware", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/sys/firmware/acpi", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/sys/firmware/acpi/tables", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/sys/firmware/acpi/tables/DMAR", dir);
    if (as_root) {
        assert_int_equal(mkdir(path, 0755), 0);
    } else {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs("DMAR", f);
        fclose(f);
        chmod(path, 0);
    }
    struct sio_host_report *r;
    assert_int_equal(sio_host_probe(dir, &r), 0);
    assert_true(r->dmar.present);
    assert_false(r->dmar.readable);
    assert_true(has_finding(r, "readable by root only"));
    sio_host_report_free(r);
    if (as_root)
        rmdir(path);
    else
        unlink(path);
    for (int i = 0; i < 4; i++) {
        char *slash = strrchr(path, '/');
        *slash = 0;
        rmdir(path);
    }
    rmdir(dir);
}

/* The machine the tests run on: whatever it is, a verdict comes out. */
static void test_live_machine(void **state)
{
    (void)state;
    struct sio_host_report *r;
    assert_int_equal(sio_host_probe(NULL, &r), 0);
    assert_true(r->verdict_text[0] != 0);
    assert_true(r->verdict <= SIO_HOST_UNKNOWN);
    sio_host_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mode_defaults),  cmocka_unit_test(test_mode_options),
        cmocka_unit_test(test_mode_mistakes),  cmocka_unit_test(test_names),
        cmocka_unit_test(test_no_iommu),       cmocka_unit_test(test_vtd_off_in_firmware),
        cmocka_unit_test(test_vtd_translated), cmocka_unit_test(test_iommu_pt),
        cmocka_unit_test(test_amd_vi),         cmocka_unit_test(test_several_groups),
        cmocka_unit_test(test_kernel_off),     cmocka_unit_test(test_bad_table),
        cmocka_unit_test(test_empty_root),     cmocka_unit_test(test_unreadable_table),
        cmocka_unit_test(test_live_machine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

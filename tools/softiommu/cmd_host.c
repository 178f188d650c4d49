/* softiommu host [--root DIR] [--json]: is this machine ready for device passthrough? */
#include "cli.h"

#include <softiommu/acpi.h>
#include <softiommu/err.h>
#include <softiommu/host.h>

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

static const struct option host_opts[] = {
    {"help", no_argument, NULL, 'h'},
    {"json", no_argument, NULL, 'j'},
    {"root", required_argument, NULL, 'r'},
    {NULL, 0, NULL, 0},
};

static void usage(void)
{
    printf("usage: softiommu host [--root DIR] [--json]\n\n"
           "Is this Linux machine ready for device passthrough? Reads, without root where it\n"
           "can: the CPU's VT-x/AMD-V flags (/proc/cpuinfo); the firmware's DMAR or IVRS table\n"
           "(/sys/firmware/acpi/tables, decoded when readable: root only); the IOMMU units the\n"
           "kernel registered (/sys/class/iommu); the kernel command line (intel_iommu=,\n"
           "amd_iommu=, iommu=pt, iommu.strict=, iommu.passthrough=) and what mode it means\n"
           "given the kernel's defaults (/boot/config-<release>); the IOMMU groups and their\n"
           "devices (/sys/kernel/iommu_groups, /sys/bus/pci/devices, pci.ids if installed);\n"
           "and the chipset from the PCI ids of 00:00.0. Ends with a verdict and advice.\n\n"
           "Exit status: 0 ready, 1 not ready (the verdict says why), 2 usage error.\n\n"
           "options:\n"
           "  --root DIR  read everything under DIR instead of / (fixture trees, other systems)\n"
           "  --json      one JSON object instead of text\n");
}

static const char *yn(int v)
{
    return v > 0 ? "yes" : v == 0 ? "no" : "unknown";
}

static const char *vendor_iommu(enum sio_host_iommu_vendor v)
{
    return v == SIO_HOST_VENDOR_INTEL ? "VT-d" : v == SIO_HOST_VENDOR_AMD ? "AMD-Vi" : NULL;
}

static void dmar_summary(const struct sio_dmar *d, char *buf, size_t n)
{
    size_t cnt[7] = {0};
    for (size_t i = 0; i < d->nst; i++)
        if (d->st[i].type < 7)
            cnt[d->st[i].type]++;
    snprintf(buf, n,
             "%zu remapping unit%s (DRHD), %zu RMRR, %zu ATSR, %zu SATC; host address width %u "
             "bits; interrupt remapping %s%s",
             cnt[SIO_DMAR_DRHD], cnt[SIO_DMAR_DRHD] == 1 ? "" : "s", cnt[SIO_DMAR_RMRR],
             cnt[SIO_DMAR_ATSR], cnt[SIO_DMAR_SATC], sio_dmar_haw_bits(d),
             (d->flags & SIO_DMAR_INTR_REMAP) ? "yes" : "no",
             (d->flags & SIO_DMAR_X2APIC_OPT_OUT) ? ", x2APIC opt-out" : "");
}

static void ivrs_summary(const struct sio_ivrs *v, char *buf, size_t n)
{
    size_t ivhd = 0, ivmd = 0;
    char types[64] = "";
    for (size_t i = 0; i < v->nsub; i++) {
        unsigned t = v->sub[i].type;
        if (t == 0x10 || t == 0x11 || t == 0x40) {
            ivhd++;
            char one[8];
            snprintf(one, sizeof(one), " 0x%02X", t);
            if (strlen(types) + strlen(one) < sizeof(types))
                strcat(types, one);
        } else if (t >= 0x20 && t <= 0x22) {
            ivmd++;
        }
    }
    snprintf(buf, n,
             "%zu IVHD block%s (types%s), %zu IVMD; DMA remapping %s, physical address size %u "
             "bits",
             ivhd, ivhd == 1 ? "" : "s", types[0] ? types : " none", ivmd,
             (v->ivinfo & 2) ? "reported" : "not reported", (v->ivinfo >> 8) & 0x7f);
}

static void print_table(const char *label, const char *sig, const struct sio_host_table *t)
{
    char sum[300];
    if (!t->present) {
        printf("%-10s %s: absent\n", label, sig);
        return;
    }
    if (!t->readable) {
        printf("%-10s %s: present, not readable (%s; root only)\n", label, sig, t->err.msg);
        return;
    }
    if (t->parse_rc) {
        printf("%-10s %s: present, %zu bytes, MALFORMED at offset 0x%X: %s\n", label, sig, t->len,
               t->err.offset, t->err.msg);
        return;
    }
    if (t->dmar)
        dmar_summary(t->dmar, sum, sizeof(sum));
    else
        ivrs_summary(t->ivrs, sum, sizeof(sum));
    printf("%-10s %s: present, %zu bytes: %s\n", label, sig, t->len, sum);
}

static void print_text(const struct sio_host_report *r)
{
    printf("%-10s %s%s%s\n", "CPU", r->cpu_vendor[0] ? r->cpu_vendor : "(unknown vendor)",
           r->cpu_model[0] ? ": " : "", r->cpu_model);
    if (r->cpuinfo_read)
        printf("%-10s VT-x (vmx): %s, AMD-V (svm): %s%s\n", "", yn(r->vmx), yn(r->svm),
               r->hypervisor ? "; running as a virtual machine" : "");
    else
        printf("%-10s /proc/cpuinfo not readable\n", "");

    if (r->host_bridge) {
        printf("%-10s 00:00.0 [%04x:%04x] %s\n", "chipset", r->hb_vendor, r->hb_device,
               r->chipset ? r->chipset : "(not one of the VT-d chipsets this tool knows)");
        if (r->chipset)
            printf("%-10s VT-d in the chipset: %s (%s)\n", "", yn(r->chipset_vtd), r->chipset_note);
    } else {
        printf("%-10s 00:00.0 not visible in sysfs\n", "chipset");
    }

    if (!r->acpi_tables_dir)
        printf("%-10s /sys/firmware/acpi/tables: absent\n", "firmware");
    print_table("firmware", "DMAR", &r->dmar);
    print_table("", "IVRS", &r->ivrs);

    printf("%-10s release: %s%s\n", "kernel", r->release[0] ? r->release : "unknown",
           r->kconfig_read ? " (configuration read from /boot)" : " (configuration not found)");
    printf("%-10s command line: %s\n", "", r->cmdline_read ? r->cmdline : "(not readable)");
    const char *nm = vendor_iommu(r->vendor);
    if (nm)
        printf("%-10s %s driver: %s (%s)\n", "", nm,
               r->mode.enabled > 0    ? "on"
               : r->mode.enabled == 0 ? "off"
                                      : "unknown",
               r->mode.enabled_why);
    printf("%-10s default domain: %s (%s)\n", "",
           r->mode.passthrough ? "pass-through (identity)" : "translated", r->mode.passthrough_why);
    printf("%-10s invalidation: %s (%s)\n", "", r->mode.strict ? "strict" : "lazy",
           r->mode.strict_why);
    if (r->live_mode)
        printf("%-10s live mode from the groups' types: %s\n", "", r->live_mode);
    printf("%-10s IOMMU units: ", "");
    if (!r->nunits)
        printf("none");
    for (size_t i = 0; i < r->nunits; i++)
        printf("%s%s", i ? " " : "", r->units[i]);
    printf("\n%-10s vfio-pci: %s\n", "", r->vfio_pci_loaded ? "loaded" : "not loaded");

    printf("%-10s %zu IOMMU group%s\n", "groups", r->ngroups, r->ngroups == 1 ? "" : "s");
    for (size_t i = 0; i < r->ngroups; i++) {
        const struct sio_host_group *g = &r->groups[i];
        char label[32];
        snprintf(label, sizeof(label), "group %d", g->id);
        if (!g->ndevs)
            printf("  %-10s (no PCI devices)%s%s\n", label, g->type[0] ? " " : "", g->type);
        for (size_t j = 0; j < g->ndevs; j++) {
            const struct sio_host_dev *d = &g->devs[j];
            char bdf[SIO_BDF_STRLEN];
            sio_bdf_format(d->bdf, bdf);
            printf("  %-10s %s %s%s%s%s\n", j ? "" : label, bdf + (d->bdf.seg ? 0 : 5), d->name,
                   d->driver[0] ? " (driver " : "", d->driver, d->driver[0] ? ")" : "");
        }
    }
    printf("%-10s %s\n", "verdict", r->verdict_text);
    for (size_t i = 0; i < r->nfindings; i++)
        printf("  - %s\n", r->findings[i]);
}

static json_object *jstr_or_null(const char *s)
{
    return s && s[0] ? json_object_new_string(s) : NULL;
}

static json_object *jtri(int v)
{
    return v < 0 ? NULL : json_object_new_boolean(v);
}

static json_object *jtable(const struct sio_host_table *t)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "present", json_object_new_boolean(t->present));
    json_object_object_add(o, "readable", t->present ? json_object_new_boolean(t->readable) : NULL);
    if (t->present && t->readable) {
        json_object_object_add(o, "length", json_object_new_int64((int64_t)t->len));
        if (t->parse_rc) {
            json_object *e = json_object_new_object();
            json_object_object_add(e, "offset", json_object_new_int64(t->err.offset));
            json_object_object_add(e, "message", json_object_new_string(t->err.msg));
            json_object_object_add(o, "error", e);
        } else {
            char sum[300];
            if (t->dmar) {
                dmar_summary(t->dmar, sum, sizeof(sum));
                size_t drhd = 0, rmrr = 0;
                for (size_t i = 0; i < t->dmar->nst; i++) {
                    drhd += t->dmar->st[i].type == SIO_DMAR_DRHD;
                    rmrr += t->dmar->st[i].type == SIO_DMAR_RMRR;
                }
                json_object_object_add(o, "drhd", json_object_new_int64((int64_t)drhd));
                json_object_object_add(o, "rmrr", json_object_new_int64((int64_t)rmrr));
                json_object_object_add(o, "haw_bits",
                                       json_object_new_int((int)sio_dmar_haw_bits(t->dmar)));
                json_object_object_add(
                    o, "interrupt_remapping",
                    json_object_new_boolean((t->dmar->flags & SIO_DMAR_INTR_REMAP) != 0));
            } else {
                ivrs_summary(t->ivrs, sum, sizeof(sum));
                size_t ivhd = 0;
                for (size_t i = 0; i < t->ivrs->nsub; i++) {
                    unsigned ty = t->ivrs->sub[i].type;
                    ivhd += ty == 0x10 || ty == 0x11 || ty == 0x40;
                }
                json_object_object_add(o, "ivhd", json_object_new_int64((int64_t)ivhd));
                json_object_object_add(o, "ivinfo", json_object_new_int64(t->ivrs->ivinfo));
            }
            json_object_object_add(o, "summary", json_object_new_string(sum));
        }
    } else if (t->present) {
        json_object_object_add(o, "error", json_object_new_string(t->err.msg));
    }
    return o;
}

static json_object *to_json(const struct sio_host_report *r)
{
    json_object *root = json_object_new_object();
    json_object_object_add(root, "root", json_object_new_string(r->root[0] ? r->root : "/"));

    json_object *cpu = json_object_new_object();
    json_object_object_add(cpu, "readable", json_object_new_boolean(r->cpuinfo_read));
    json_object_object_add(cpu, "vendor", jstr_or_null(r->cpu_vendor));
    json_object_object_add(cpu, "model", jstr_or_null(r->cpu_model));
    json_object_object_add(cpu, "vmx", json_object_new_boolean(r->vmx));
    json_object_object_add(cpu, "svm", json_object_new_boolean(r->svm));
    json_object_object_add(cpu, "hypervisor", json_object_new_boolean(r->hypervisor));
    json_object_object_add(root, "cpu", cpu);

    json_object *cs = json_object_new_object();
    if (r->host_bridge) {
        char ids[16];
        snprintf(ids, sizeof(ids), "%04x:%04x", r->hb_vendor, r->hb_device);
        json_object_object_add(cs, "host_bridge", json_object_new_string(ids));
    } else {
        json_object_object_add(cs, "host_bridge", NULL);
    }
    json_object_object_add(cs, "name", jstr_or_null(r->chipset));
    json_object_object_add(cs, "vtd", jtri(r->chipset_vtd));
    json_object_object_add(cs, "note", jstr_or_null(r->chipset_note));
    json_object_object_add(root, "chipset", cs);

    json_object *fw = json_object_new_object();
    json_object_object_add(fw, "acpi_tables_dir", json_object_new_boolean(r->acpi_tables_dir));
    json_object_object_add(fw, "DMAR", jtable(&r->dmar));
    json_object_object_add(fw, "IVRS", jtable(&r->ivrs));
    json_object_object_add(root, "firmware", fw);

    json_object *k = json_object_new_object();
    json_object_object_add(k, "release", jstr_or_null(r->release));
    json_object_object_add(k, "config_read", json_object_new_boolean(r->kconfig_read));
    json_object_object_add(k, "cmdline",
                           r->cmdline_read ? json_object_new_string(r->cmdline) : NULL);
    json_object_object_add(k, "iommu", jstr_or_null(vendor_iommu(r->vendor)));
    json_object_object_add(k, "driver_enabled", jtri(r->mode.enabled));
    json_object_object_add(k, "driver_why", json_object_new_string(r->mode.enabled_why));
    json_object_object_add(k, "passthrough", json_object_new_boolean(r->mode.passthrough));
    json_object_object_add(k, "passthrough_why", json_object_new_string(r->mode.passthrough_why));
    json_object_object_add(k, "strict", json_object_new_boolean(r->mode.strict));
    json_object_object_add(k, "strict_why", json_object_new_string(r->mode.strict_why));
    json_object_object_add(k, "live_mode", jstr_or_null(r->live_mode));
    json_object *units = json_object_new_array();
    for (size_t i = 0; i < r->nunits; i++)
        json_object_array_add(units, json_object_new_string(r->units[i]));
    json_object_object_add(k, "units", units);
    json_object_object_add(k, "vfio_pci_loaded", json_object_new_boolean(r->vfio_pci_loaded));
    json_object *warns = json_object_new_array();
    for (size_t i = 0; i < r->mode.nwarnings; i++)
        json_object_array_add(warns, json_object_new_string(r->mode.warnings[i]));
    json_object_object_add(k, "warnings", warns);
    json_object_object_add(root, "kernel", k);

    json_object *groups = json_object_new_array();
    for (size_t i = 0; i < r->ngroups; i++) {
        const struct sio_host_group *g = &r->groups[i];
        json_object *go = json_object_new_object();
        json_object_object_add(go, "id", json_object_new_int(g->id));
        json_object_object_add(go, "type", jstr_or_null(g->type));
        json_object *devs = json_object_new_array();
        for (size_t j = 0; j < g->ndevs; j++) {
            const struct sio_host_dev *d = &g->devs[j];
            json_object *dobj = json_object_new_object();
            char bdf[SIO_BDF_STRLEN], hex[16];
            sio_bdf_format(d->bdf, bdf);
            json_object_object_add(dobj, "bdf", json_object_new_string(bdf));
            if (d->have_ids) {
                snprintf(hex, sizeof(hex), "%04x", d->vendor);
                json_object_object_add(dobj, "vendor", json_object_new_string(hex));
                snprintf(hex, sizeof(hex), "%04x", d->device);
                json_object_object_add(dobj, "device", json_object_new_string(hex));
                snprintf(hex, sizeof(hex), "%06x", d->class_code);
                json_object_object_add(dobj, "class", json_object_new_string(hex));
            }
            json_object_object_add(dobj, "name", json_object_new_string(d->name));
            json_object_object_add(dobj, "driver", jstr_or_null(d->driver));
            json_object_array_add(devs, dobj);
        }
        json_object_object_add(go, "devices", devs);
        json_object_array_add(groups, go);
    }
    json_object_object_add(root, "groups", groups);

    json_object_object_add(root, "verdict",
                           json_object_new_string(sio_host_verdict_name(r->verdict)));
    json_object_object_add(root, "ready", json_object_new_boolean(r->verdict == SIO_HOST_READY));
    json_object_object_add(root, "verdict_text", json_object_new_string(r->verdict_text));
    json_object *f = json_object_new_array();
    for (size_t i = 0; i < r->nfindings; i++)
        json_object_array_add(f, json_object_new_string(r->findings[i]));
    json_object_object_add(root, "findings", f);
    return root;
}

int cli_cmd_host(int argc, char **argv)
{
    int c, json = 0;
    const char *root = NULL;
    while ((c = cli_getopt("host", argc, argv, "hjr:", host_opts)) != -1) {
        if (c == '?')
            return CLI_USAGE;
        if (c == 'h') {
            usage();
            return CLI_OK;
        }
        if (c == 'j')
            json = 1;
        if (c == 'r')
            root = optarg;
    }
    if (optind < argc)
        return cli_usage_error("host", "unexpected argument '%s'", argv[optind]);
    if (root && !root[0])
        return cli_usage_error("host", "--root needs a directory");

    struct sio_host_report *r;
    int rc = sio_host_probe(root, &r);
    if (rc)
        return cli_fail("host", "%s", sio_strerror(rc));
    if (json) {
        json_object *o = to_json(r);
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
    } else {
        print_text(r);
    }
    int ready = r->verdict == SIO_HOST_READY;
    sio_host_report_free(r);
    return ready ? CLI_OK : CLI_FAIL;
}

/* softiommu host: read what a Linux machine says about its IOMMU, under a root directory, and
 * diagnose whether it is ready for device passthrough. See softiommu/host.h. */
#include <softiommu/acpi.h>
#include <softiommu/err.h>
#include <softiommu/host.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_BLOB (16u << 20)

typedef char name256[256];

struct probe {
    struct sio_host_report *r;
    char *pciids; /* pci.ids under the root, if any */
};

static void path_of(const struct sio_host_report *r, const char *rel, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", r->root, rel);
}

static void rtrim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
}

/* Read up to cap-1 bytes of a text file. Returns the length, or -errno. */
static long read_text(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    size_t n = fread(buf, 1, cap - 1, f);
    int err = ferror(f) ? errno : 0;
    fclose(f);
    buf[n] = 0;
    if (err)
        return -(err ? err : EIO);
    return (long)n;
}

/* Read a whole binary file (up to MAX_BLOB). 0, or -errno. */
static int read_blob(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_BLOB) {
                rc = -EFBIG;
                break;
            }
            cap = cap ? 2 * cap : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                rc = -ENOMEM;
                break;
            }
            buf = nb;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        if (k == 0) {
            if (ferror(f))
                rc = -(errno ? errno : EIO);
            break;
        }
        n += k;
    }
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return 0;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_version(const void *a, const void *b)
{
    return strverscmp((const char *)a, (const char *)b);
}

/* Entries of a directory (no dot files), sorted naturally. 0, SIO_ENOENT (cannot be opened) or
 * SIO_ENOMEM. */
static int list_dir(const char *path, name256 **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(path);
    if (!d)
        return SIO_ENOENT;
    struct dirent *e;
    size_t cap = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            name256 *nv = realloc(*out, cap * sizeof(**out));
            if (!nv) {
                closedir(d);
                free(*out);
                *out = NULL;
                *n = 0;
                return SIO_ENOMEM;
            }
            *out = nv;
        }
        snprintf((*out)[(*n)++], sizeof(name256), "%s", e->d_name);
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof(**out), cmp_version);
    return 0;
}

/* The entries of directory rel under the root (list_dir), and a zeroed array of as many
 * elem-sized records to fill from them. 0 with *n = 0 and nothing allocated when the directory
 * is missing or empty; SIO_ENOMEM (nothing allocated). */
static int list_dir_records(const struct sio_host_report *r, const char *rel, size_t elem,
                            name256 **names, size_t *n, void **records)
{
    char path[1024];
    path_of(r, rel, path, sizeof(path));
    *records = NULL;
    int rc = list_dir(path, names, n);
    if (rc == SIO_ENOMEM)
        return rc;
    if (rc || !*n)
        return 0;
    *records = calloc(*n, elem);
    if (!*records) {
        free(*names);
        *names = NULL;
        *n = 0;
        return SIO_ENOMEM;
    }
    return 0;
}

static void finding(struct sio_host_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void finding(struct sio_host_report *r, const char *fmt, ...)
{
    if (r->nfindings >= sizeof(r->findings) / sizeof(r->findings[0]))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->findings[r->nfindings++], sizeof(r->findings[0]), fmt, ap);
    va_end(ap);
}

static void verdict(struct sio_host_report *r, enum sio_host_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void verdict(struct sio_host_report *r, enum sio_host_verdict v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    r->verdict = v;
    vsnprintf(r->verdict_text, sizeof(r->verdict_text), fmt, ap);
    va_end(ap);
}

/* ---- CPU ---- */

static void probe_cpu(struct sio_host_report *r)
{
    char path[1024];
    path_of(r, "proc/cpuinfo", path, sizeof(path));
    size_t cap = 256 * 1024;
    char *buf = malloc(cap);
    if (!buf)
        return;
    if (read_text(path, buf, cap) < 0) {
        free(buf);
        return;
    }
    r->cpuinfo_read = 1;
    int flags_seen = 0;
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = 0;
        rtrim(line);
        char *val = colon + 1;
        while (*val == ' ' || *val == '\t')
            val++;
        if (!strcmp(line, "vendor_id") && !r->cpu_vendor[0]) {
            snprintf(r->cpu_vendor, sizeof(r->cpu_vendor), "%s", val);
            rtrim(r->cpu_vendor);
        } else if (!strcmp(line, "model name") && !r->cpu_model[0]) {
            snprintf(r->cpu_model, sizeof(r->cpu_model), "%s", val);
            rtrim(r->cpu_model);
        } else if (!strcmp(line, "flags") && !flags_seen) {
            flags_seen = 1;
            for (char *f = val; *f;) {
                size_t n = strcspn(f, " \t");
                if ((n == 3 && !strncmp(f, "vmx", 3)))
                    r->vmx = 1;
                else if (n == 3 && !strncmp(f, "svm", 3))
                    r->svm = 1;
                else if (n == 10 && !strncmp(f, "hypervisor", 10))
                    r->hypervisor = 1;
                f += n;
                while (*f == ' ' || *f == '\t')
                    f++;
            }
        }
    }
    free(buf);
}

/* ---- firmware tables ---- */

static int probe_table(struct sio_host_report *r, const char *sig, struct sio_host_table *t)
{
    char path[1024], rel[64];
    snprintf(rel, sizeof(rel), "sys/firmware/acpi/tables/%s", sig);
    path_of(r, rel, path, sizeof(path));
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    t->present = 1;
    uint8_t *b;
    int rc = read_blob(path, &b, &t->len);
    if (rc == -ENOMEM)
        return SIO_ENOMEM;
    if (rc) {
        t->readable = 0;
        t->parse_rc = 0;
        snprintf(t->err.msg, sizeof(t->err.msg), "%s", strerror(-rc));
        return 0;
    }
    t->readable = 1;
    if (!strcmp(sig, "DMAR"))
        t->parse_rc = sio_dmar_parse(b, t->len, 0, &t->dmar, &t->err);
    else
        t->parse_rc = sio_ivrs_parse(b, t->len, 0, &t->ivrs, &t->err);
    free(b);
    return t->parse_rc == SIO_ENOMEM ? SIO_ENOMEM : 0;
}

/* ---- kernel ---- */

/* 1 for CONFIG_X=y or =m, 0 otherwise (not set or absent). */
static int kconfig_get(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; p && *p;) {
        if (!strncmp(p, name, n) && p[n] == '=')
            return p[n + 1] == 'y' || p[n + 1] == 'm';
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

static void probe_kernel(struct sio_host_report *r)
{
    char path[1024];
    path_of(r, "proc/cmdline", path, sizeof(path));
    if (read_text(path, r->cmdline, sizeof(r->cmdline)) >= 0) {
        r->cmdline_read = 1;
        rtrim(r->cmdline);
    }
    path_of(r, "proc/sys/kernel/osrelease", path, sizeof(path));
    if (read_text(path, r->release, sizeof(r->release)) >= 0)
        rtrim(r->release);
    struct sio_host_kconfig *k = &r->kconfig;
    k->intel_iommu = k->intel_default_on = k->intel_intgpu_off = k->amd_iommu = -1;
    k->default_passthrough = k->default_strict = -1;
    if (r->release[0] && !strchr(r->release, '/')) {
        char rel[200];
        snprintf(rel, sizeof(rel), "boot/config-%s", r->release);
        path_of(r, rel, path, sizeof(path));
        size_t cap = 1u << 20;
        char *text = malloc(cap);
        if (text && read_text(path, text, cap) >= 0) {
            r->kconfig_read = 1;
            k->intel_iommu = kconfig_get(text, "CONFIG_INTEL_IOMMU");
            k->intel_intgpu_off = kconfig_get(text, "CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF");
            k->intel_default_on =
                kconfig_get(text, "CONFIG_INTEL_IOMMU_DEFAULT_ON") || k->intel_intgpu_off;
            k->amd_iommu = kconfig_get(text, "CONFIG_AMD_IOMMU");
            k->default_passthrough = kconfig_get(text, "CONFIG_IOMMU_DEFAULT_PASSTHROUGH");
            int lazy = kconfig_get(text, "CONFIG_IOMMU_DEFAULT_DMA_LAZY");
            int strict = kconfig_get(text, "CONFIG_IOMMU_DEFAULT_DMA_STRICT");
            /* Linux: iommu_dma_strict defaults to !CONFIG_IOMMU_DEFAULT_DMA_LAZY. */
            k->default_strict = lazy ? 0 : (strict || k->default_passthrough) ? 1 : -1;
        }
        free(text);
    }
    path_of(r, "sys/module/vfio_pci", path, sizeof(path));
    r->vfio_pci_loaded = is_dir(path);
    if (!r->vfio_pci_loaded) {
        path_of(r, "sys/bus/pci/drivers/vfio-pci", path, sizeof(path));
        r->vfio_pci_loaded = is_dir(path);
    }
}

/* ---- PCI names ---- */

/* pci.ids: "vvvv  Vendor" lines, "\tdddd  Device" lines below them. */
static void pciids_lookup(const char *db, uint16_t v, uint16_t d, char *vname, size_t vn,
                          char *dname, size_t dn)
{
    char want[8];
    snprintf(want, sizeof(want), "%04x", v);
    int in_vendor = 0;
    for (const char *p = db; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > 6 && p[0] != '\t' && p[0] != '#') {
            if (in_vendor)
                return;
            if (!strncmp(p, want, 4) && p[4] == ' ') {
                in_vendor = 1;
                const char *nm = p + 4;
                while (*nm == ' ')
                    nm++;
                snprintf(vname, vn, "%.*s", (int)(len - (size_t)(nm - p)), nm);
            }
        } else if (in_vendor && len > 7 && p[0] == '\t' && p[1] != '\t') {
            char dev[8];
            snprintf(dev, sizeof(dev), "%04x", d);
            if (!strncmp(p + 1, dev, 4) && p[5] == ' ') {
                const char *nm = p + 5;
                while (*nm == ' ')
                    nm++;
                snprintf(dname, dn, "%.*s", (int)(len - (size_t)(nm - p)), nm);
                return;
            }
        }
        p = eol ? eol + 1 : NULL;
    }
}

static unsigned long read_hex(const char *path, int *ok)
{
    char buf[64];
    if (read_text(path, buf, sizeof(buf)) <= 0) {
        *ok = 0;
        return 0;
    }
    char *end;
    unsigned long v = strtoul(buf, &end, 16);
    if (end == buf)
        *ok = 0;
    return v;
}

static void probe_pci_dev(struct probe *pr, struct sio_host_dev *d)
{
    struct sio_host_report *r = pr->r;
    char rel[128], path[1024], bdf[SIO_BDF_STRLEN];
    sio_bdf_format(d->bdf, bdf);
    int ok = 1;
    snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/vendor", bdf);
    path_of(r, rel, path, sizeof(path));
    d->vendor = (uint16_t)read_hex(path, &ok);
    snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/device", bdf);
    path_of(r, rel, path, sizeof(path));
    d->device = (uint16_t)read_hex(path, &ok);
    snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/class", bdf);
    path_of(r, rel, path, sizeof(path));
    d->class_code = (uint32_t)read_hex(path, &ok) & 0xffffff;
    d->have_ids = ok;
    snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/driver", bdf);
    path_of(r, rel, path, sizeof(path));
    char link[512];
    ssize_t n = readlink(path, link, sizeof(link) - 1);
    if (n > 0) {
        link[n] = 0;
        const char *base = strrchr(link, '/');
        snprintf(d->driver, sizeof(d->driver), "%.47s", base ? base + 1 : link);
    }
    if (!ok) {
        snprintf(d->name, sizeof(d->name), "(no PCI ids in sysfs)");
        return;
    }
    char vname[96] = "", dname[128] = "";
    if (pr->pciids)
        pciids_lookup(pr->pciids, d->vendor, d->device, vname, sizeof(vname), dname, sizeof(dname));
    if (!vname[0] && sio_host_vendor_name(d->vendor))
        snprintf(vname, sizeof(vname), "%s", sio_host_vendor_name(d->vendor));
    const char *chip;
    if (!dname[0] && (d->class_code >> 8) == 0x0600 &&
        sio_host_chipset(d->vendor, d->device, &chip, NULL, NULL) == 0)
        snprintf(dname, sizeof(dname), "%s", strncmp(chip, "Intel ", 6) ? chip : chip + 6);
    snprintf(d->name, sizeof(d->name), "%.36s [%04x]: %.56s%s%.80s [%04x:%04x]",
             sio_host_class_name(d->class_code), d->class_code >> 8, vname, vname[0] ? " " : "",
             dname[0] ? dname : "Device", d->vendor, d->device);
}

static void load_pciids(struct probe *pr)
{
    static const char *const where[] = {"usr/share/misc/pci.ids", "usr/share/hwdata/pci.ids",
                                        "usr/share/pci.ids"};
    for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
        char path[1024];
        path_of(pr->r, where[i], path, sizeof(path));
        uint8_t *b;
        size_t len;
        if (read_blob(path, &b, &len) == 0) {
            char *t = realloc(b, len + 1);
            if (!t) {
                free(b);
                return;
            }
            t[len] = 0;
            pr->pciids = t;
            return;
        }
    }
}

/* ---- units and groups ---- */

static int probe_units(struct sio_host_report *r)
{
    name256 *names;
    size_t n;
    void *units;
    int rc = list_dir_records(r, "sys/class/iommu", sizeof(*r->units), &names, &n, &units);
    if (rc || !n)
        return rc;
    r->units = units;
    for (size_t i = 0; i < n; i++)
        snprintf(r->units[i], sizeof(r->units[i]), "%.63s", names[i]);
    r->nunits = n;
    free(names);
    return 0;
}

static int cmp_dev(const void *a, const void *b)
{
    const struct sio_host_dev *x = a, *y = b;
    if (x->bdf.seg != y->bdf.seg)
        return x->bdf.seg < y->bdf.seg ? -1 : 1;
    return (int)sio_bdf_sid(x->bdf) - (int)sio_bdf_sid(y->bdf);
}

static int probe_groups(struct probe *pr)
{
    struct sio_host_report *r = pr->r;
    char path[1024];
    name256 *names;
    size_t n;
    void *groups;
    int rc =
        list_dir_records(r, "sys/kernel/iommu_groups", sizeof(*r->groups), &names, &n, &groups);
    if (rc || !n)
        return rc;
    r->groups = groups;
    for (size_t i = 0; i < n; i++) {
        char *end;
        long id = strtol(names[i], &end, 10);
        if (*end || id < 0)
            continue;
        struct sio_host_group *g = &r->groups[r->ngroups++];
        g->id = (int)id;
        char rel[300];
        snprintf(rel, sizeof(rel), "sys/kernel/iommu_groups/%s/type", names[i]);
        path_of(r, rel, path, sizeof(path));
        if (read_text(path, g->type, sizeof(g->type)) > 0)
            rtrim(g->type);
        snprintf(rel, sizeof(rel), "sys/kernel/iommu_groups/%s/devices", names[i]);
        name256 *devs;
        size_t nd;
        void *records;
        rc = list_dir_records(r, rel, sizeof(*g->devs), &devs, &nd, &records);
        if (rc) {
            free(names);
            return rc;
        }
        if (!nd)
            continue;
        g->devs = records;
        for (size_t j = 0; j < nd; j++) {
            struct sio_host_dev *d = &g->devs[g->ndevs];
            if (sio_bdf_parse(devs[j], &d->bdf, NULL, 0))
                continue; /* not a PCI device (platform devices have other names) */
            probe_pci_dev(pr, d);
            g->ndevs++;
        }
        qsort(g->devs, g->ndevs, sizeof(*g->devs), cmp_dev);
        free(devs);
    }
    free(names);
    return 0;
}

static const char *live_mode(const struct sio_host_report *r)
{
    size_t ident = 0, dma = 0, fq = 0, typed = 0;
    for (size_t i = 0; i < r->ngroups; i++) {
        const char *t = r->groups[i].type;
        if (!t[0])
            continue;
        typed++;
        ident += !strcmp(t, "identity");
        dma += !strcmp(t, "DMA");
        fq += !strcmp(t, "DMA-FQ");
    }
    if (!typed)
        return NULL;
    if (ident == typed)
        return "pass-through (identity)";
    if (fq == typed)
        return "translated (lazy)";
    if (dma == typed)
        return "translated (strict)";
    if (ident && (dma || fq))
        return "mixed: some groups pass-through, some translated";
    return "translated";
}

/* ---- the verdict ---- */

static const char *iommu_name(enum sio_host_iommu_vendor v)
{
    return v == SIO_HOST_VENDOR_AMD ? "AMD-Vi" : "VT-d";
}

/* A device of the groups by segment, bus, device, function (dev 0xff: none). */
static const struct sio_host_dev *find_dev(const struct sio_host_report *r, unsigned seg,
                                           unsigned bus, unsigned dev, unsigned fn)
{
    for (size_t i = 0; i < r->ngroups; i++)
        for (size_t j = 0; j < r->groups[i].ndevs; j++) {
            const struct sio_host_dev *d = &r->groups[i].devs[j];
            if (d->bdf.seg == seg && d->bdf.bus == bus && d->bdf.dev == dev && d->bdf.fn == fn)
                return d;
        }
    return NULL;
}

static void diagnose(struct sio_host_report *r)
{
    const struct sio_host_table *t = r->vendor == SIO_HOST_VENDOR_AMD ? &r->ivrs : &r->dmar;
    const char *sig = r->vendor == SIO_HOST_VENDOR_AMD ? "IVRS" : "DMAR";
    const char *nm = iommu_name(r->vendor);
    const char *on_opt = r->vendor == SIO_HOST_VENDOR_AMD ? "amd_iommu=off" : "intel_iommu=on";
    int cpu_virt = r->vmx || r->svm;
    int table_ok = t->present && t->readable && t->parse_rc == 0;

    if (!r->cpuinfo_read && !r->acpi_tables_dir && !r->cmdline_read) {
        verdict(r, SIO_HOST_UNKNOWN,
                "cannot tell: nothing readable under %s/proc or /sys (is this Linux?)",
                r->root[0] ? r->root : "");
        return;
    }

    /* The IOMMU side first, into iommu_state; the CPU check can override the verdict. */
    if (t->present && t->readable && t->parse_rc) {
        verdict(r, SIO_HOST_BAD_TABLE,
                "the firmware's %s table is malformed (offset 0x%X: %s): Linux may ignore it; "
                "update the firmware",
                sig, t->err.offset, t->err.msg);
    } else if (r->nunits > 0 && r->ngroups > 0) {
        const char *mode = r->live_mode ? r->live_mode
                           : r->mode.passthrough
                               ? "pass-through"
                               : (r->mode.strict ? "translated (strict)" : "translated (lazy)");
        verdict(r, SIO_HOST_READY,
                "READY: %s is on (%zu unit%s), host DMA %s; devices can be assigned to VMs by "
                "IOMMU group (%zu groups)",
                nm, r->nunits, r->nunits == 1 ? "" : "s", mode, r->ngroups);
    } else if (r->nunits > 0) {
        verdict(r, SIO_HOST_NO_GROUPS,
                "%s units are registered (%zu) but there are no IOMMU groups: the kernel is not "
                "translating DMA with them; check dmesg for DMAR/AMD-Vi errors",
                nm, r->nunits);
    } else if (!t->present && !r->dmar.present && !r->ivrs.present) {
        if (!r->acpi_tables_dir)
            verdict(r, SIO_HOST_NO_IOMMU,
                    "no IOMMU: %s/sys/firmware/acpi/tables does not exist (no ACPI, or sysfs "
                    "not mounted)",
                    r->root);
        else if (r->hypervisor)
            verdict(r, SIO_HOST_NO_IOMMU,
                    "no IOMMU: this is a virtual machine and its hypervisor exposes no virtual "
                    "IOMMU (no DMAR or IVRS table); QEMU: -device intel-iommu,intremap=on "
                    "(or amd-iommu) with -machine q35");
        else if (r->chipset_vtd == 1)
            verdict(r, SIO_HOST_FIRMWARE_OFF,
                    "VT-d is off in firmware: the %s chipset has VT-d but the firmware published "
                    "no DMAR table; enable \"VT-d\" (\"Intel Virtualization Technology for "
                    "Directed I/O\") in firmware setup and reboot",
                    r->chipset);
        else
            verdict(r, SIO_HOST_NO_IOMMU,
                    "no IOMMU: the firmware published neither a DMAR nor an IVRS table; this "
                    "platform has none, or it is disabled in firmware setup (\"VT-d\" / "
                    "\"AMD-Vi\" / \"IOMMU\")");
    } else {
        /* The firmware has one; the kernel did not turn it on. */
        const char *why = r->mode.enabled_why;
        if (r->mode.enabled == 0 && (strstr(why, "=off")))
            verdict(r, SIO_HOST_KERNEL_OFF,
                    "%s present but disabled on the kernel command line (%s): remove it%s%s", nm,
                    why, r->vendor == SIO_HOST_VENDOR_AMD ? "" : " and add ",
                    r->vendor == SIO_HOST_VENDOR_AMD ? "" : on_opt);
        else if (r->mode.enabled == 0 && strstr(why, "built without"))
            verdict(r, SIO_HOST_KERNEL_OFF, "%s present but the %s: boot a kernel with it", nm,
                    why);
        else if (r->mode.enabled == 0)
            verdict(r, SIO_HOST_KERNEL_OFF,
                    "%s present but this kernel leaves it off by default (%s): add %s to the "
                    "kernel command line",
                    nm, why, on_opt);
        else if (r->mode.enabled < 0)
            verdict(r, SIO_HOST_KERNEL_OFF,
                    "%s present but not enabled by the kernel: add %s to the kernel command line",
                    nm, on_opt);
        else
            verdict(r, SIO_HOST_KERNEL_OFF,
                    "%s present and requested (%s) but the kernel registered no unit: check "
                    "dmesg for %s errors (firmware bug, or a kernel without the driver)",
                    nm, why, r->vendor == SIO_HOST_VENDOR_AMD ? "AMD-Vi" : "DMAR");
    }

    if (r->cpuinfo_read && !cpu_virt) {
        char iommu_state[sizeof(r->verdict_text)];
        snprintf(iommu_state, sizeof(iommu_state), "%s", r->verdict_text);
        if (r->hypervisor)
            verdict(r, SIO_HOST_NO_CPU_VIRT,
                    "no VT-x/AMD-V: this is a virtual machine without nested virtualization "
                    "(enable it on its host: kvm_intel nested=1 / kvm_amd nested=1, "
                    "-cpu host)");
        else
            verdict(r, SIO_HOST_NO_CPU_VIRT,
                    "no VT-x/AMD-V in /proc/cpuinfo: enable \"Intel Virtualization Technology\" "
                    "/ \"SVM Mode\" in firmware setup");
        finding(r, "IOMMU: %s", iommu_state);
    }

    /* Further observations. */
    if (r->hypervisor && cpu_virt)
        finding(r, "this machine is itself a virtual machine (cpuinfo \"hypervisor\" flag): "
                   "passthrough inside it needs a virtual IOMMU and nested virtualization");
    if (t->present && !t->readable)
        finding(r,
                "the %s table is present but readable by root only (%s): run as root to "
                "decode it",
                sig, t->err.msg);
    if (table_ok && r->vendor != SIO_HOST_VENDOR_AMD && t->dmar) {
        const struct sio_dmar *d = t->dmar;
        if (!(d->flags & SIO_DMAR_INTR_REMAP))
            finding(r, "the DMAR does not report interrupt remapping: VFIO refuses to assign "
                       "devices unless vfio_iommu_type1.allow_unsafe_interrupts=1");
        if (d->flags & SIO_DMAR_X2APIC_OPT_OUT)
            finding(r, "the firmware asks the OS not to use x2APIC (DMAR X2APIC_OPT_OUT)");
        if ((d->flags & SIO_DMAR_DMA_CTRL_PLATFORM_OPT_IN) && r->nunits == 0)
            finding(r, "the DMAR sets DMA_CTRL_PLATFORM_OPT_IN: Linux forces VT-d on for "
                       "external-facing (Thunderbolt) ports unless intel_iommu=off");
        /* Linux refuses to give a device with an RMRR to a VM unless the RMRR is "relaxable":
         * USB controllers and graphics (device_rmrr_is_relaxable). */
        char stuck[200] = "", relax[200] = "", all[200] = "";
        for (size_t i = 0; i < d->nst; i++) {
            const struct sio_dmar_struct *s = &d->st[i];
            if (s->type != SIO_DMAR_RMRR)
                continue;
            for (size_t j = 0; j < s->nscopes; j++) {
                const struct sio_dmar_scope *sc = &s->scopes[j];
                if (!sc->npath)
                    continue;
                char one[16];
                snprintf(one, sizeof(one), "%02x:%02x.%x%s", sc->bus, sc->path[0].dev,
                         sc->path[0].fn, sc->npath > 1 ? "+" : "");
                /* Only single-hop paths name a device we can look up without config space. */
                const struct sio_host_dev *dev =
                    sc->npath == 1
                        ? find_dev(r, s->segment, sc->bus, sc->path[0].dev, sc->path[0].fn)
                        : NULL;
                char *lists[2] = {all, NULL};
                if (dev && dev->have_ids)
                    lists[1] = ((dev->class_code >> 8) == 0x0c03 || (dev->class_code >> 16) == 0x03)
                                   ? relax
                                   : stuck;
                for (int k = 0; k < 2; k++) {
                    char *list = lists[k];
                    if (list && !strstr(list, one) &&
                        strlen(list) + strlen(one) + 2 < sizeof(all)) {
                        if (list[0])
                            strcat(list, " ");
                        strcat(list, one);
                    }
                }
            }
        }
        if (r->ngroups == 0 && all[0])
            finding(r,
                    "RMRRs (firmware-reserved DMA regions) cover %s: Linux will not assign "
                    "such a device to a VM unless it is a USB controller or graphics",
                    all);
        else if (stuck[0])
            finding(r,
                    "devices with RMRRs (firmware-reserved DMA regions) that Linux will not "
                    "assign to a VM: %s (only USB controllers and graphics are exempt)",
                    stuck);
        else if (relax[0])
            finding(r,
                    "RMRRs (firmware-reserved DMA regions) cover USB/graphics devices here "
                    "(%s): Linux still lets them be assigned",
                    relax);
    }
    for (size_t i = 0; i < r->mode.nwarnings; i++)
        finding(r, "%s", r->mode.warnings[i]);
    if (r->verdict == SIO_HOST_READY) {
        if (r->mode.passthrough || (r->live_mode && strstr(r->live_mode, "pass-through")))
            finding(r, "pass-through mode: host-owned devices bypass translation; a device bound "
                       "to vfio-pci still gets its own translated domain");
        for (size_t i = 0; i < r->ngroups; i++) {
            const struct sio_host_group *g = &r->groups[i];
            size_t endpoints = 0;
            for (size_t j = 0; j < g->ndevs; j++)
                endpoints += !g->devs[j].have_ids || ((g->devs[j].class_code >> 8) != 0x0604 &&
                                                      (g->devs[j].class_code >> 8) != 0x0600);
            if (endpoints > 1)
                finding(r,
                        "IOMMU group %d holds %zu devices: they can only be assigned to a VM "
                        "together (no ACS isolation between them)",
                        g->id, g->ndevs);
        }
        if (!r->vfio_pci_loaded)
            finding(r, "vfio-pci is not loaded: modprobe vfio-pci, then bind the device to it");
        if (r->live_mode) {
            const char *want = r->mode.passthrough ? "pass-through (identity)"
                               : r->mode.strict    ? "translated (strict)"
                                                   : "translated (lazy)";
            if (strcmp(want, r->live_mode))
                finding(r,
                        "the groups' types say %s where the command line and defaults say %s: "
                        "the kernel's own default (or a driver quirk) decided; the groups are "
                        "what is in force",
                        r->live_mode, want);
        }
    }
    if (r->chipset && r->chipset_note)
        finding(r, "host bridge: %s: %s", r->chipset, r->chipset_note);
}

/* ---- entry ---- */

int sio_host_probe(const char *root, struct sio_host_report **out)
{
    if (!out)
        return SIO_EINVAL;
    *out = NULL;
    struct sio_host_report *r = calloc(1, sizeof(*r));
    if (!r)
        return SIO_ENOMEM;
    if (root && strcmp(root, "/") && root[0]) {
        snprintf(r->root, sizeof(r->root), "%s", root);
        size_t n = strlen(r->root);
        while (n > 1 && r->root[n - 1] == '/')
            r->root[--n] = 0;
    }
    struct probe pr = {r, NULL};
    int rc = 0;
    load_pciids(&pr);
    probe_cpu(r);
    char path[1024];
    path_of(r, "sys/firmware/acpi/tables", path, sizeof(path));
    r->acpi_tables_dir = is_dir(path);
    rc = probe_table(r, "DMAR", &r->dmar);
    if (!rc)
        rc = probe_table(r, "IVRS", &r->ivrs);
    if (!rc)
        rc = probe_units(r);
    if (!rc)
        rc = probe_groups(&pr);
    if (rc) {
        free(pr.pciids);
        sio_host_report_free(r);
        return rc;
    }
    probe_kernel(r);

    /* The host bridge. */
    struct sio_host_dev hb;
    memset(&hb, 0, sizeof(hb));
    probe_pci_dev(&pr, &hb);
    if (hb.have_ids) {
        r->host_bridge = 1;
        r->hb_vendor = hb.vendor;
        r->hb_device = hb.device;
        r->chipset_vtd = -1;
        sio_host_chipset(hb.vendor, hb.device, &r->chipset, &r->chipset_vtd, &r->chipset_note);
    } else {
        r->chipset_vtd = -1;
    }
    free(pr.pciids);

    /* Which IOMMU this machine has, or would have. */
    if (r->dmar.present)
        r->vendor = SIO_HOST_VENDOR_INTEL;
    else if (r->ivrs.present)
        r->vendor = SIO_HOST_VENDOR_AMD;
    else if (!strcmp(r->cpu_vendor, "GenuineIntel"))
        r->vendor = SIO_HOST_VENDOR_INTEL;
    else if (!strcmp(r->cpu_vendor, "AuthenticAMD") || !strcmp(r->cpu_vendor, "HygonGenuine"))
        r->vendor = SIO_HOST_VENDOR_AMD;
    else if (r->nunits && !strncmp(r->units[0], "ivhd", 4))
        r->vendor = SIO_HOST_VENDOR_AMD;
    else if (r->nunits && !strncmp(r->units[0], "dmar", 4))
        r->vendor = SIO_HOST_VENDOR_INTEL;
    sio_host_kernel_mode(r->cmdline, r->kconfig_read ? &r->kconfig : NULL, r->vendor, &r->mode);
    r->live_mode = live_mode(r);
    diagnose(r);
    *out = r;
    return 0;
}

void sio_host_report_free(struct sio_host_report *r)
{
    if (!r)
        return;
    sio_dmar_free(r->dmar.dmar);
    sio_ivrs_free(r->ivrs.ivrs);
    free(r->units);
    for (size_t i = 0; i < r->ngroups; i++)
        free(r->groups[i].devs);
    free(r->groups);
    free(r);
}

const char *sio_host_verdict_name(enum sio_host_verdict v)
{
    static const char *const names[] = {"READY",     "NO_CPU_VIRT", "NO_IOMMU",  "FIRMWARE_OFF",
                                        "BAD_TABLE", "KERNEL_OFF",  "NO_GROUPS", "UNKNOWN"};
    return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "UNKNOWN";
}

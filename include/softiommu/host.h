/* softiommu/host.h: is this Linux machine ready for device passthrough?
 *
 * sio_host_probe() reads, without root where possible, what a person checks by hand: the CPU's
 * virtualization flags (/proc/cpuinfo), whether the firmware published a DMAR or IVRS table
 * (/sys/firmware/acpi/tables, decoded with softiommu/acpi.h), the IOMMU units the kernel found
 * (/sys/class/iommu), the kernel command line (/proc/cmdline) with what it means given the
 * kernel's defaults (/boot/config-<release>), the IOMMU groups and their devices
 * (/sys/kernel/iommu_groups, names from /sys/bus/pci/devices and pci.ids when present), and
 * the host chipset from the PCI ids of 00:00.0. From that it gives a verdict a person can act on.
 *
 * Everything is read under a root directory ("" or "/" for the live system), so tests run
 * against fixture trees. */
#ifndef SOFTIOMMU_HOST_H
#define SOFTIOMMU_HOST_H

#include <softiommu/acpi.h>
#include <softiommu/pci.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- what the kernel command line and configuration mean ------------------------------------ */

enum sio_host_iommu_vendor {
    SIO_HOST_VENDOR_NONE = 0,
    SIO_HOST_VENDOR_INTEL = 1,
    SIO_HOST_VENDOR_AMD = 2
};

/* Kernel build options that decide the defaults; -1 where the configuration could not be read. */
struct sio_host_kconfig {
    int intel_iommu;         /* CONFIG_INTEL_IOMMU */
    int intel_default_on;    /* CONFIG_INTEL_IOMMU_DEFAULT_ON (Debian: _INTGPU_OFF counts 1) */
    int intel_intgpu_off;    /* CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF (Debian) */
    int amd_iommu;           /* CONFIG_AMD_IOMMU */
    int default_passthrough; /* CONFIG_IOMMU_DEFAULT_PASSTHROUGH */
    int default_strict;      /* CONFIG_IOMMU_DEFAULT_DMA_STRICT (1) / _DMA_LAZY (0) */
};

/* The mode the command line selects, and why. */
struct sio_host_mode {
    int enabled;     /* the vendor's IOMMU driver: 1 on, 0 off, -1 cannot tell */
    int passthrough; /* default domain: 1 identity (pass-through), 0 translated */
    int strict;      /* 1 strict (invalidate on every unmap), 0 lazy (flush queue) */
    int intgpu_off;  /* 1: the integrated GPU is left untranslated (intel_iommu=igfx_off) */
    char enabled_why[128];
    char passthrough_why[128];
    char strict_why[128];
    char warnings[4][160]; /* options Linux ignores or that defeat the IOMMU */
    size_t nwarnings;
};

/* Interpret a kernel command line (Linux: intel_iommu=, amd_iommu=, iommu=, iommu.strict=,
 * iommu.passthrough=; later options override earlier ones) for the IOMMU of `vendor`, falling
 * back on the kernel's configuration (cfg may be NULL: upstream x86 defaults are assumed and
 * said so). Fills out; returns 0 or SIO_EINVAL. */
int sio_host_kernel_mode(const char *cmdline, const struct sio_host_kconfig *cfg,
                         enum sio_host_iommu_vendor vendor, struct sio_host_mode *out);

/* ---- the report ------------------------------------------------------------------------------ */

struct sio_host_dev {
    struct sio_bdf bdf;
    int have_ids; /* vendor/device/class read from sysfs */
    uint16_t vendor, device;
    uint32_t class_code; /* 24 bits: class, subclass, prog-if */
    char driver[48];     /* bound driver, "" if none */
    char name[200];      /* lspci -nn style, without the BDF:
                            "VGA compatible controller [0300]: Intel Corporation Device [8086:29b2]" */
};

struct sio_host_group {
    int id;
    char type[16]; /* sysfs default-domain type: "DMA", "DMA-FQ", "identity", ... or "" */
    struct sio_host_dev *devs;
    size_t ndevs;
};

struct sio_host_table {
    int present;  /* the file exists */
    int readable; /* 0: present but not readable (root only) */
    size_t len;
    int parse_rc; /* 0 parsed; else the error from the parser (err says where) */
    struct sio_acpi_error err;
    struct sio_dmar *dmar; /* when parsed */
    struct sio_ivrs *ivrs;
};

enum sio_host_verdict {
    SIO_HOST_READY = 0,        /* IOMMU on and grouping devices: they can be assigned */
    SIO_HOST_NO_CPU_VIRT = 1,  /* no VT-x / AMD-V */
    SIO_HOST_NO_IOMMU = 2,     /* no DMAR/IVRS: none on this platform, or off in firmware */
    SIO_HOST_FIRMWARE_OFF = 3, /* the chipset has VT-d but the firmware published no DMAR */
    SIO_HOST_BAD_TABLE = 4,    /* the firmware's table is malformed */
    SIO_HOST_KERNEL_OFF = 5,   /* the table is there, the kernel did not turn the IOMMU on */
    SIO_HOST_NO_GROUPS = 6,    /* units found but no IOMMU groups */
    SIO_HOST_UNKNOWN = 7,      /* not enough could be read to tell */
};

struct sio_host_report {
    char root[512]; /* what was probed ("" = the live system) */
    /* CPU */
    int cpuinfo_read;
    char cpu_vendor[16]; /* "GenuineIntel", "AuthenticAMD", ... */
    char cpu_model[96];
    int vmx, svm;   /* VT-x / AMD-V flags */
    int hypervisor; /* "hypervisor" flag: this machine is itself a VM */
    /* firmware */
    int acpi_tables_dir; /* /sys/firmware/acpi/tables exists */
    struct sio_host_table dmar, ivrs;
    /* chipset: PCI 0000:00:00.0 */
    int host_bridge; /* found */
    uint16_t hb_vendor, hb_device;
    const char *chipset;      /* known name, or NULL */
    int chipset_vtd;          /* 1 the chipset has VT-d, -1 unknown */
    const char *chipset_note; /* how it ships (firmware default), or NULL */
    /* kernel */
    int cmdline_read;
    char cmdline[4096];
    char release[128];
    int kconfig_read;
    struct sio_host_kconfig kconfig;
    enum sio_host_iommu_vendor vendor; /* which IOMMU this machine has (or would have) */
    struct sio_host_mode mode;         /* from the command line and configuration */
    const char *live_mode;             /* from the groups' types: "translated (strict)", ... */
    int vfio_pci_loaded;
    char (*units)[64]; /* /sys/class/iommu entries: "dmar0", "ivhd0", ... */
    size_t nunits;
    struct sio_host_group *groups; /* by id */
    size_t ngroups;
    /* verdict */
    enum sio_host_verdict verdict;
    char verdict_text[400]; /* one line a person can act on */
    char findings[12][300]; /* further observations and advice, most important first */
    size_t nfindings;
};

/* Probe the machine under root (NULL, "" or "/": the live system). Never fails on missing or
 * unreadable files: they are reported. Returns 0 (with *out a new report, free it with
 * sio_host_report_free) or SIO_ENOMEM / SIO_EINVAL. */
int sio_host_probe(const char *root, struct sio_host_report **out);
void sio_host_report_free(struct sio_host_report *r);

/* "READY", "NO_CPU_VIRT", ... */
const char *sio_host_verdict_name(enum sio_host_verdict v);

/* lspci's name for a class code ("VGA compatible controller"), never NULL. */
const char *sio_host_class_name(uint32_t class_code);
/* A short vendor name ("Intel Corporation") or NULL if not in the built-in list. */
const char *sio_host_vendor_name(uint16_t vendor);
/* The host-bridge chipsets we know (the VT-d chipsets of the Q35/X38/X48/Q45/5400 generation):
 * name, whether the chipset has VT-d and how it ships. 0 if known, SIO_ENOENT otherwise. */
int sio_host_chipset(uint16_t vendor, uint16_t device, const char **name, int *vtd,
                     const char **note);

#ifdef __cplusplus
}
#endif
#endif

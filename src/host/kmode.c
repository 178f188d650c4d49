/* What the kernel command line means for the IOMMU, given the kernel's build defaults.
 *
 * Facts from Linux (arch/x86/kernel/pci-dma.c iommu_setup, drivers/iommu/iommu.c,
 * drivers/iommu/intel/iommu.c intel_iommu_setup, drivers/iommu/amd/init.c parse_amd_iommu_options,
 * Documentation/admin-guide/kernel-parameters.txt):
 *   - iommu=off sets no_iommu: neither the Intel nor the AMD driver initialises.
 *   - iommu=pt / iommu=nopt and iommu.passthrough=1/0 pick the default domain: identity
 *     (pass-through) or translated.
 *   - iommu.strict=1/0 picks strict or lazy (flush-queue) invalidation; intel_iommu=strict and
 *     amd_iommu=fullflush are deprecated spellings of iommu.strict=1.
 *   - intel_iommu=on/off turns the Intel driver on/off; its default is
 * CONFIG_INTEL_IOMMU_DEFAULT_ON (upstream y; distributions differ, Debian adds a variant that
 * leaves the iGPU out).
 *   - amd_iommu=off turns the AMD driver off; it is on by default when the firmware has an IVRS.
 *     "amd_iommu=on" is not an option: Linux logs "AMD-Vi: Unknown option - 'on'".
 *   - Default domain and strictness default to CONFIG_IOMMU_DEFAULT_{PASSTHROUGH,DMA_STRICT,
 *     DMA_LAZY}; upstream x86 picks DMA_LAZY.
 * Options are processed in order: a later one overrides an earlier one. */
#include <softiommu/err.h>
#include <softiommu/host.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void warn(struct sio_host_mode *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void warn(struct sio_host_mode *m, const char *fmt, ...)
{
    if (m->nwarnings >= sizeof(m->warnings) / sizeof(m->warnings[0]))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->warnings[m->nwarnings++], sizeof(m->warnings[0]), fmt, ap);
    va_end(ap);
}

/* Linux kstrtobool: 1/y/Y/on -> 1, 0/n/N/off -> 0, else -1. */
static int kbool(const char *v)
{
    if (!strcmp(v, "1") || !strcmp(v, "y") || !strcmp(v, "Y") || !strcmp(v, "on"))
        return 1;
    if (!strcmp(v, "0") || !strcmp(v, "n") || !strcmp(v, "N") || !strcmp(v, "off"))
        return 0;
    return -1;
}

/* Parameter names treat '-' and '_' alike (Linux parameq). */
static int key_is(const char *key, const char *want)
{
    for (; *key && *want; key++, want++) {
        char a = *key == '-' ? '_' : *key, b = *want == '-' ? '_' : *want;
        if (a != b)
            return 0;
    }
    return *key == *want;
}

struct state {
    int iommu_off, intel_en, amd_off, pt, strict;
    char intel_why[64], pt_why[64], strict_why[64], off_why[64];
};

static void option(struct state *s, struct sio_host_mode *m, const char *key, const char *val)
{
    char tok[128];
    if (key_is(key, "iommu.passthrough") || key_is(key, "iommu.strict")) {
        int b = kbool(val);
        if (b < 0) {
            warn(m, "%s=%s: not a boolean, ignored by Linux", key, val);
            return;
        }
        if (key_is(key, "iommu.strict")) {
            s->strict = b;
            snprintf(s->strict_why, sizeof(s->strict_why), "iommu.strict=%s", val);
        } else {
            s->pt = b;
            snprintf(s->pt_why, sizeof(s->pt_why), "iommu.passthrough=%s", val);
        }
        return;
    }
    int which = key_is(key, "iommu")         ? 1
                : key_is(key, "intel_iommu") ? 2
                : key_is(key, "amd_iommu")   ? 3
                                             : 0;
    if (!which)
        return;
    /* comma-separated lists */
    for (const char *p = val; *p;) {
        size_t n = strcspn(p, ",");
        snprintf(tok, sizeof(tok), "%.*s", (int)(n < sizeof(tok) ? n : sizeof(tok) - 1), p);
        p += n;
        while (*p == ',')
            p++;
        if (!tok[0])
            continue;
        if (which == 1) {
            if (!strcmp(tok, "off")) {
                s->iommu_off = 1;
                snprintf(s->off_why, sizeof(s->off_why), "iommu=off");
            } else if (!strcmp(tok, "pt")) {
                s->pt = 1;
                snprintf(s->pt_why, sizeof(s->pt_why), "iommu=pt");
            } else if (!strcmp(tok, "nopt")) {
                s->pt = 0;
                snprintf(s->pt_why, sizeof(s->pt_why), "iommu=nopt");
            } else if (!strcmp(tok, "on")) {
                warn(m, "iommu=on is not an x86 option (Linux ignores it): use intel_iommu=on "
                        "or, on AMD, nothing: AMD-Vi is on by default");
            }
        } else if (which == 2) {
            if (!strcmp(tok, "on")) {
                s->intel_en = 1;
                snprintf(s->intel_why, sizeof(s->intel_why), "intel_iommu=on");
            } else if (!strcmp(tok, "off")) {
                s->intel_en = 0;
                snprintf(s->intel_why, sizeof(s->intel_why), "intel_iommu=off");
            } else if (!strcmp(tok, "strict")) {
                s->strict = 1;
                snprintf(s->strict_why, sizeof(s->strict_why),
                         "intel_iommu=strict (deprecated: iommu.strict=1)");
            } else if (!strcmp(tok, "igfx_off")) {
                m->intgpu_off = 1;
            } else if (strcmp(tok, "sm_on") && strcmp(tok, "sm_off") && strcmp(tok, "forcedac") &&
                       strcmp(tok, "tboot_noforce") && strcmp(tok, "sp_off") &&
                       strcmp(tok, "nobounce")) {
                warn(m, "intel_iommu=%s: not an option Linux knows (ignored)", tok);
            }
        } else {
            if (!strcmp(tok, "off")) {
                s->amd_off = 1;
            } else if (!strcmp(tok, "fullflush")) {
                s->strict = 1;
                snprintf(s->strict_why, sizeof(s->strict_why),
                         "amd_iommu=fullflush (deprecated: iommu.strict=1)");
            } else if (!strcmp(tok, "on")) {
                warn(m, "amd_iommu=on is not an option Linux knows (it logs \"AMD-Vi: Unknown "
                        "option - 'on'\"): AMD-Vi is on by default when the firmware has an IVRS");
            } else if (strcmp(tok, "force_enable") && strcmp(tok, "force_isolation") &&
                       strcmp(tok, "pgtbl_v1") && strcmp(tok, "pgtbl_v2") &&
                       strcmp(tok, "irtcachedis") && strcmp(tok, "nohugepages") &&
                       strcmp(tok, "v2_pgsizes_only")) {
                warn(m, "amd_iommu=%s: not an option Linux knows (ignored)", tok);
            }
        }
    }
}

int sio_host_kernel_mode(const char *cmdline, const struct sio_host_kconfig *cfg,
                         enum sio_host_iommu_vendor vendor, struct sio_host_mode *out)
{
    if (!out)
        return SIO_EINVAL;
    memset(out, 0, sizeof(*out));
    struct state s;
    memset(&s, 0, sizeof(s));
    s.intel_en = s.pt = s.strict = -1;

    /* Split into words; "--" ends the kernel's parameters (the rest goes to init). A value may
     * be double-quoted. */
    const char *p = cmdline ? cmdline : "";
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        char word[512];
        size_t n = 0;
        int quoted = 0;
        while (*p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n'))) {
            if (*p == '"')
                quoted = !quoted;
            else if (n < sizeof(word) - 1)
                word[n++] = *p;
            p++;
        }
        word[n] = 0;
        if (!strcmp(word, "--"))
            break;
        char *eq = strchr(word, '=');
        if (!eq)
            continue;
        *eq = 0;
        option(&s, out, word, eq + 1);
    }

    /* Is the vendor's driver on? */
    if (vendor == SIO_HOST_VENDOR_INTEL) {
        if (s.iommu_off) {
            out->enabled = 0;
            snprintf(out->enabled_why, sizeof(out->enabled_why), "%s", s.off_why);
        } else if (s.intel_en >= 0) {
            out->enabled = s.intel_en;
            snprintf(out->enabled_why, sizeof(out->enabled_why), "%s", s.intel_why);
        } else if (cfg && cfg->intel_iommu == 0) {
            out->enabled = 0;
            snprintf(out->enabled_why, sizeof(out->enabled_why),
                     "kernel built without CONFIG_INTEL_IOMMU");
        } else if (cfg && cfg->intel_default_on >= 0) {
            out->enabled = cfg->intel_default_on;
            snprintf(out->enabled_why, sizeof(out->enabled_why), "kernel default: %s",
                     cfg->intel_intgpu_off == 1 ? "CONFIG_INTEL_IOMMU_DEFAULT_ON_INTGPU_OFF=y"
                     : cfg->intel_default_on    ? "CONFIG_INTEL_IOMMU_DEFAULT_ON=y"
                                                : "CONFIG_INTEL_IOMMU_DEFAULT_ON is not set");
            if (cfg->intel_intgpu_off == 1)
                out->intgpu_off = 1;
        } else {
            out->enabled = -1;
            snprintf(out->enabled_why, sizeof(out->enabled_why),
                     "kernel default unknown (upstream CONFIG_INTEL_IOMMU_DEFAULT_ON=y; "
                     "distributions differ)");
        }
    } else if (vendor == SIO_HOST_VENDOR_AMD) {
        if (s.iommu_off) {
            out->enabled = 0;
            snprintf(out->enabled_why, sizeof(out->enabled_why), "%s", s.off_why);
        } else if (s.amd_off) {
            out->enabled = 0;
            snprintf(out->enabled_why, sizeof(out->enabled_why), "amd_iommu=off");
        } else if (cfg && cfg->amd_iommu == 0) {
            out->enabled = 0;
            snprintf(out->enabled_why, sizeof(out->enabled_why),
                     "kernel built without CONFIG_AMD_IOMMU");
        } else {
            out->enabled = 1;
            snprintf(out->enabled_why, sizeof(out->enabled_why),
                     "on by default when the firmware publishes an IVRS");
        }
    } else {
        out->enabled = -1;
        snprintf(out->enabled_why, sizeof(out->enabled_why), "no IOMMU vendor to enable");
    }

    /* Default domain. */
    if (s.pt >= 0) {
        out->passthrough = s.pt;
        snprintf(out->passthrough_why, sizeof(out->passthrough_why), "%s", s.pt_why);
    } else if (cfg && cfg->default_passthrough >= 0) {
        out->passthrough = cfg->default_passthrough;
        snprintf(out->passthrough_why, sizeof(out->passthrough_why), "kernel default: %s",
                 cfg->default_passthrough ? "CONFIG_IOMMU_DEFAULT_PASSTHROUGH=y"
                                          : "CONFIG_IOMMU_DEFAULT_PASSTHROUGH is not set");
    } else {
        out->passthrough = 0;
        snprintf(out->passthrough_why, sizeof(out->passthrough_why),
                 "upstream default: translated");
    }

    /* Invalidation. */
    if (s.strict >= 0) {
        out->strict = s.strict;
        snprintf(out->strict_why, sizeof(out->strict_why), "%s", s.strict_why);
    } else if (cfg && cfg->default_strict >= 0) {
        out->strict = cfg->default_strict;
        snprintf(out->strict_why, sizeof(out->strict_why), "kernel default: %s",
                 cfg->default_strict ? "CONFIG_IOMMU_DEFAULT_DMA_STRICT=y"
                                     : "CONFIG_IOMMU_DEFAULT_DMA_LAZY=y");
    } else {
        out->strict = 0;
        snprintf(out->strict_why, sizeof(out->strict_why),
                 "upstream x86 default: lazy (CONFIG_IOMMU_DEFAULT_DMA_LAZY)");
    }
    if (s.iommu_off && vendor != SIO_HOST_VENDOR_NONE)
        warn(out, "iommu=off disables every IOMMU driver, whatever intel_iommu=/amd_iommu= say");
    return 0;
}

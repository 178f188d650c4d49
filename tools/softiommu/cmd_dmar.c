/* softiommu dmar FILE: decode an ACPI DMAR (Intel VT-d) or IVRS (AMD-Vi) table the way `iasl -d`
 * prints it, or as JSON with the same field names; --platform shows what a kernel does with a
 * DMAR (units in lookup order, what each covers, RMRRs, ATS). */
#include "cli.h"

#include <softiommu/acpi.h>
#include <softiommu/err.h>

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TABLE (64u << 20)

/* Read a whole file ("-" = stdin). Returns 0, or -1 with a message in why. */
static int slurp(const char *path, uint8_t **out, size_t *len, char *why, size_t whylen)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        snprintf(why, whylen, "cannot open: %s%s", strerror(errno),
                 errno == EACCES ? " (ACPI tables under /sys are readable by root only)" : "");
        return -1;
    }
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 4096;
            uint8_t *nb = cap <= MAX_TABLE ? realloc(buf, cap) : NULL;
            if (!nb) {
                snprintf(why, whylen, "file is too large (over %u MB) or out of memory",
                         MAX_TABLE >> 20);
                free(buf);
                if (f != stdin)
                    fclose(f);
                return -1;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    int bad = ferror(f);
    if (f != stdin)
        fclose(f);
    if (bad) {
        snprintf(why, whylen, "read error");
        free(buf);
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* ---- JSON with iasl's field names ---- */

struct jbuild {
    json_object *root, *subs, *sub, *entry, *comments;
    const char *entries_key;
};

static void jput(json_object *obj, const char *name, json_object *val)
{
    char key[96];
    snprintf(key, sizeof(key), "%s", name);
    for (int i = 2; json_object_object_get_ex(obj, key, NULL); i++)
        snprintf(key, sizeof(key), "%s #%d", name, i);
    json_object_object_add(obj, key, val);
}

static json_object *jstring_field(const struct sio_acpi_field *f)
{
    /* The characters without iasl's quotes. */
    size_t n = strlen(f->text);
    if (n >= 2 && f->text[0] == '"' && f->text[n - 1] == '"')
        return json_object_new_string_len(f->text + 1, (int)(n - 2));
    return json_object_new_string(f->text);
}

static void jfield(void *ctx, const struct sio_acpi_field *f)
{
    struct jbuild *jb = ctx;
    if (f->kind == SIO_ACPI_FIELD_COMMENT) {
        if (!jb->comments) {
            jb->comments = json_object_new_array();
            json_object_object_add(jb->root, "Comments", jb->comments);
        }
        json_object_array_add(jb->comments, json_object_new_string(f->text));
        return;
    }
    json_object *target = jb->root;
    if (f->depth == 1) {
        if (f->group) {
            jb->sub = json_object_new_object();
            jb->entry = NULL;
            json_object_array_add(jb->subs, jb->sub);
        }
        target = jb->sub;
    } else if (f->depth >= 2) {
        if (f->group && jb->sub) {
            json_object *arr;
            if (!json_object_object_get_ex(jb->sub, jb->entries_key, &arr)) {
                arr = json_object_new_array();
                json_object_object_add(jb->sub, jb->entries_key, arr);
            }
            jb->entry = json_object_new_object();
            json_object_array_add(arr, jb->entry);
        }
        target = jb->entry;
    }
    if (!target)
        return;
    json_object *val;
    switch (f->kind) {
    case SIO_ACPI_FIELD_STRING:
        val = jstring_field(f);
        break;
    case SIO_ACPI_FIELD_BYTES:
        val = json_object_new_array();
        for (uint32_t i = 0; i < f->width; i++)
            json_object_array_add(val, json_object_new_int(f->bytes[i]));
        break;
    case SIO_ACPI_FIELD_PATH: {
        json_object *arr;
        if (!json_object_object_get_ex(target, f->name, &arr)) {
            arr = json_object_new_array();
            json_object_object_add(target, f->name, arr);
        }
        json_object_array_add(arr, json_object_new_string(f->text));
        return;
    }
    default:
        val = json_object_new_uint64(f->num);
        break;
    }
    jput(target, f->name, val);
    if (f->note && f->depth > 0)
        jput(target, "Description", json_object_new_string(f->note));
}

static json_object *jnotes(const struct sio_acpi_note *notes, size_t n)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "offset", json_object_new_int64(notes[i].offset));
        json_object_object_add(o, "message", json_object_new_string(notes[i].msg));
        json_object_array_add(arr, o);
    }
    return arr;
}

static void print_notes(const struct sio_acpi_note *notes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%snote: [%03" PRIX32 "h] %s\n", i ? "" : "\n", notes[i].offset, notes[i].msg);
}

/* ---- --platform: what a kernel does with the DMAR ---- */

/* "00:1c.7/00.0": start bus, then each hop. */
static void scope_str(const struct sio_dmar_scope *sc, char *buf, size_t n)
{
    size_t k = (size_t)snprintf(buf, n, "%02x:", sc->bus);
    for (unsigned h = 0; h < sc->npath && k < n; h++)
        k += (size_t)snprintf(buf + k, n - k, "%s%02x.%x", h ? "/" : "", sc->path[h].dev,
                              sc->path[h].fn);
}

static const char *scope_kind(unsigned t)
{
    static const char *const k[] = {"?", "", "bridge ", "IOAPIC ", "HPET ", "ACPI "};
    return t < 6 ? k[t] : "? ";
}

static void scopes_str(const struct sio_dmar_struct *s, char *buf, size_t n)
{
    size_t k = 0;
    buf[0] = 0;
    for (size_t i = 0; i < s->nscopes && k + 1 < n; i++) {
        const struct sio_dmar_scope *sc = &s->scopes[i];
        char one[600];
        scope_str(sc, one, sizeof(one));
        if (sc->type == SIO_DMAR_SCOPE_IOAPIC || sc->type == SIO_DMAR_SCOPE_HPET ||
            sc->type == SIO_DMAR_SCOPE_NAMESPACE)
            k += (size_t)snprintf(buf + k, n - k, "%s%s%u=%s", k ? " " : "", scope_kind(sc->type),
                                  sc->enum_id, one);
        else
            k +=
                (size_t)snprintf(buf + k, n - k, "%s%s%s", k ? " " : "", scope_kind(sc->type), one);
    }
}

static json_object *jscopes(const struct sio_dmar_struct *s)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < s->nscopes; i++) {
        char one[600];
        scope_str(&s->scopes[i], one, sizeof(one));
        json_object *o = json_object_new_object();
        json_object_object_add(o, "type",
                               json_object_new_string(sio_dmar_scope_type_name(s->scopes[i].type)));
        json_object_object_add(o, "path", json_object_new_string(one));
        if (s->scopes[i].type >= SIO_DMAR_SCOPE_IOAPIC)
            json_object_object_add(o, "id", json_object_new_int(s->scopes[i].enum_id));
        json_object_array_add(arr, o);
    }
    return arr;
}

static int print_platform(const struct sio_dmar *d, int json)
{
    struct sio_dmar_platform *p;
    if (sio_dmar_platform_create(d, NULL, 0, &p))
        return SIO_ENOMEM;
    json_object *root = json ? json_object_new_object() : NULL, *units = NULL, *rmrrs = NULL,
                *ats = NULL;
    char buf[4096];
    if (json) {
        json_object_object_add(root, "haw_bits", json_object_new_int((int)sio_dmar_haw_bits(d)));
        json_object_object_add(root, "interrupt_remapping",
                               json_object_new_boolean(d->flags & SIO_DMAR_INTR_REMAP));
        json_object_object_add(root, "x2apic_opt_out",
                               json_object_new_boolean(d->flags & SIO_DMAR_X2APIC_OPT_OUT));
        json_object_object_add(
            root, "dma_ctrl_platform_opt_in",
            json_object_new_boolean(d->flags & SIO_DMAR_DMA_CTRL_PLATFORM_OPT_IN));
        units = json_object_new_array();
        rmrrs = json_object_new_array();
        ats = json_object_new_array();
    } else {
        printf("host address width %u bits; interrupt remapping %s%s%s\n", sio_dmar_haw_bits(d),
               (d->flags & SIO_DMAR_INTR_REMAP) ? "yes" : "no",
               (d->flags & SIO_DMAR_X2APIC_OPT_OUT) ? "; x2APIC opt-out" : "",
               (d->flags & SIO_DMAR_DMA_CTRL_PLATFORM_OPT_IN) ? "; DMA control opt-in" : "");
        printf("\nremapping units, in the order Linux looks a device up (INCLUDE_PCI_ALL last):\n");
    }
    for (size_t i = 0; i < sio_dmar_platform_nunits(p); i++) {
        const struct sio_dmar_unit *u = sio_dmar_platform_unit(p, i);
        scopes_str(u->drhd, buf, sizeof(buf));
        if (json) {
            json_object *o = json_object_new_object();
            char name[16];
            snprintf(name, sizeof(name), "dmar%u", u->seq);
            json_object_object_add(o, "name", json_object_new_string(name));
            json_object_object_add(o, "segment", json_object_new_int(u->segment));
            json_object_object_add(o, "register_base", json_object_new_uint64(u->reg_base));
            json_object_object_add(o, "register_size", json_object_new_uint64(u->reg_size));
            json_object_object_add(o, "include_pci_all", json_object_new_boolean(u->include_all));
            json_object_object_add(o, "scopes", jscopes(u->drhd));
            json_object_array_add(units, o);
        } else {
            printf("  dmar%-3u segment %u, registers 0x%" PRIx64 " (%" PRIu64 " KB)%s%s%s\n",
                   u->seq, u->segment, u->reg_base, u->reg_size >> 10,
                   u->include_all ? ", INCLUDE_PCI_ALL: every device no other unit claims" : "",
                   buf[0] ? "\n           scope: " : "", buf);
        }
    }
    for (size_t i = 0; i < d->nst; i++) {
        const struct sio_dmar_struct *s = &d->st[i];
        if (s->type != SIO_DMAR_RMRR)
            continue;
        scopes_str(s, buf, sizeof(buf));
        if (json) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "segment", json_object_new_int(s->segment));
            json_object_object_add(o, "base", json_object_new_uint64(s->base));
            json_object_object_add(o, "limit", json_object_new_uint64(s->limit));
            json_object_object_add(o, "scopes", jscopes(s));
            json_object_array_add(rmrrs, o);
        } else {
            if (!rmrrs) {
                printf("\nreserved memory (RMRR), identity-mapped for the devices named:\n");
                rmrrs = (json_object *)1; /* printed the heading */
            }
            printf("  0x%08" PRIx64 "-0x%08" PRIx64 " (%" PRIu64 " KB)  %s\n", s->base, s->limit,
                   s->limit >= s->base ? (s->limit - s->base + 1) >> 10 : 0, buf);
        }
    }
    int any_ats = 0;
    for (size_t i = 0; i < d->nst; i++) {
        const struct sio_dmar_struct *s = &d->st[i];
        if (s->type != SIO_DMAR_ATSR && s->type != SIO_DMAR_SATC)
            continue;
        scopes_str(s, buf, sizeof(buf));
        const char *what = s->type == SIO_DMAR_ATSR ? "ATSR" : "SATC";
        int all = s->type == SIO_DMAR_ATSR && (s->flags & SIO_ATSR_ALL_PORTS);
        int req = s->type == SIO_DMAR_SATC && (s->flags & SIO_SATC_ATC_REQUIRED);
        if (json) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "kind", json_object_new_string(what));
            json_object_object_add(o, "segment", json_object_new_int(s->segment));
            json_object_object_add(o, "all_ports", json_object_new_boolean(all));
            json_object_object_add(o, "atc_required", json_object_new_boolean(req));
            json_object_object_add(o, "scopes", jscopes(s));
            json_object_array_add(ats, o);
        } else {
            if (!any_ats)
                printf("\nATS (devices whose ATS the OS may enable):\n");
            printf("  %s segment %u%s%s: %s\n", what, s->segment, all ? ", ALL_PORTS" : "",
                   req ? ", ATC_REQUIRED" : "", buf[0] ? buf : "(no scope)");
        }
        any_ats = 1;
    }
    if (json) {
        json_object_object_add(root, "units", units);
        json_object_object_add(root, "rmrrs", rmrrs);
        json_object_object_add(root, "ats", ats);
        printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(root);
    } else if (sio_dmar_platform_unresolved(p)) {
        printf("\n%zu scope path(s) cross bridges: their buses come from config space\n",
               sio_dmar_platform_unresolved(p));
    }
    sio_dmar_platform_destroy(p);
    return 0;
}

static const struct option dmar_opts[] = {
    {"help", no_argument, NULL, 'h'},
    {"json", no_argument, NULL, 'j'},
    {"ignore-checksum", no_argument, NULL, 'c'},
    {"platform", no_argument, NULL, 'p'},
    {NULL, 0, NULL, 0},
};

static void usage(void)
{
    printf("usage: softiommu dmar [--json] [--ignore-checksum] [--platform] FILE\n\n"
           "Decode an ACPI DMAR (Intel VT-d) or IVRS (AMD-Vi) table: which one is decided by\n"
           "the table's signature, so IVRS files are accepted too. Fields are printed with the\n"
           "names and value format `iasl -d` uses; --json prints the same fields as JSON (one\n"
           "object per structure, device scopes / device entries nested inside it).\n\n"
           "The table is validated first: signature, length, checksum and every structure's\n"
           "bounds. A malformed table is refused with one line naming the byte offset and the\n"
           "problem (exit 1). Structure types this version does not know are skipped by their\n"
           "length and listed as notes, with firmware bugs Linux warns about.\n\n"
           "FILE is a raw table: /sys/firmware/acpi/tables/DMAR or .../IVRS (readable by root),\n"
           "or a file from `acpidump -b`; '-' reads standard input.\n\n"
           "options:\n"
           "  --json             JSON instead of iasl text\n"
           "  --ignore-checksum  decode a table whose checksum is wrong (noted, not refused)\n"
           "  --platform         (DMAR) what a kernel makes of it instead of the fields: units\n"
           "                     in lookup order with their scopes, RMRRs, ATSR/SATC\n");
}

int cli_cmd_dmar(int argc, char **argv)
{
    int c, json = 0, platform = 0;
    unsigned flags = 0;
    while ((c = cli_getopt("dmar", argc, argv, "hjcp", dmar_opts)) != -1) {
        if (c == '?')
            return CLI_USAGE;
        if (c == 'h') {
            usage();
            return CLI_OK;
        }
        if (c == 'j')
            json = 1;
        if (c == 'c')
            flags |= SIO_ACPI_IGNORE_CHECKSUM;
        if (c == 'p')
            platform = 1;
    }
    if (optind >= argc)
        return cli_usage_error("dmar", "missing FILE (see 'softiommu dmar --help')");
    if (optind + 1 < argc)
        return cli_usage_error("dmar", "unexpected argument '%s'", argv[optind + 1]);
    const char *path = argv[optind];

    uint8_t *buf;
    size_t len;
    char why[160];
    if (slurp(path, &buf, &len, why, sizeof(why)))
        return cli_fail("dmar", "%s: %s", path, why);

    struct sio_acpi_error err = {0, ""};
    struct sio_acpi_note *notes = NULL;
    size_t nnotes = 0;
    struct sio_dmar *d = NULL;
    struct sio_ivrs *v = NULL;
    int rc;
    enum sio_acpi_kind kind = sio_acpi_identify(buf, len);
    if (kind == SIO_ACPI_DMAR) {
        rc = sio_dmar_parse(buf, len, flags, &d, &err);
        if (!rc) {
            notes = d->notes;
            nnotes = d->nnotes;
        }
    } else if (kind == SIO_ACPI_IVRS) {
        rc = sio_ivrs_parse(buf, len, flags, &v, &err);
        if (!rc) {
            notes = v->notes;
            nnotes = v->nnotes;
        }
    } else {
        rc = sio_acpi_decode(buf, len, flags, NULL, NULL, &err);
    }
    if (rc) {
        free(buf);
        return cli_fail("dmar", "%s: offset 0x%" PRIX32 ": %s", path, err.offset, err.msg);
    }

    if (platform) {
        if (!d) {
            sio_ivrs_free(v);
            free(buf);
            return cli_usage_error("dmar", "--platform needs a DMAR table, %s is %s", path,
                                   kind == SIO_ACPI_IVRS ? "an IVRS" : "not one");
        }
        rc = print_platform(d, json);
        if (!rc)
            print_notes(json ? NULL : notes, json ? 0 : nnotes);
        err.offset = 0;
        snprintf(err.msg, sizeof(err.msg), "%s", sio_strerror(rc));
    } else if (json) {
        struct jbuild jb = {json_object_new_object(),
                            json_object_new_array(),
                            NULL,
                            NULL,
                            NULL,
                            kind == SIO_ACPI_DMAR ? "Device Scopes" : "Device Entries"};
        rc = sio_acpi_decode(buf, len, flags, jfield, &jb, &err);
        json_object_object_add(jb.root, "Subtables", jb.subs);
        json_object_object_add(jb.root, "Notes", jnotes(notes, nnotes));
        if (!rc)
            printf("%s\n", json_object_to_json_string_ext(
                               jb.root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(jb.root);
    } else {
        rc = sio_acpi_print(buf, len, flags, stdout, &err);
        if (!rc)
            print_notes(notes, nnotes);
    }
    sio_dmar_free(d);
    sio_ivrs_free(v);
    free(buf);
    if (rc)
        return cli_fail("dmar", "%s: offset 0x%" PRIX32 ": %s", path, err.offset, err.msg);
    return CLI_OK;
}

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

static const struct option dmar_opts[] = {
    {"help", no_argument, NULL, 'h'},
    {"json", no_argument, NULL, 'j'},
    {"ignore-checksum", no_argument, NULL, 'c'},
    {NULL, 0, NULL, 0},
};

static void usage(void)
{
    printf("usage: softiommu dmar [--json] [--ignore-checksum] FILE\n\n"
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
           "  --ignore-checksum  decode a table whose checksum is wrong (noted, not refused)\n");
}

int cli_cmd_dmar(int argc, char **argv)
{
    int c, json = 0;
    unsigned flags = 0;
    while ((c = cli_getopt("dmar", argc, argv, "hjc", dmar_opts)) != -1) {
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

    if (json) {
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

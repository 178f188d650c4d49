/* softiommu fault [--segment N] [--json] <FRCD hi> <FRCD lo>: decode one raw 128-bit VT-d
 * fault recording register (VT-d 1 FRCD, VT-d 4 reasons) the way Linux prints it, then field
 * by field, for people debugging drivers. */
#include "cli.h"

#include <softiommu/vtd.h>

#include <ctype.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct option fault_opts[] = {
    {"help", no_argument, NULL, 'h'},
    {"json", no_argument, NULL, 'j'},
    {"segment", required_argument, NULL, 's'},
    {NULL, 0, NULL, 0},
};

/* Hex with an optional 0x, 1 to 16 digits; 0 on success. */
static int parse_hex64(const char *s, uint64_t *out)
{
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    size_t n = strlen(s);
    if (n == 0 || n > 16)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (!isxdigit(c))
            return -1;
        v = (v << 4) | (uint64_t)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
    }
    *out = v;
    return 0;
}

static const char *at_name(unsigned at)
{
    static const char *const n[4] = {"untranslated request", "translation request (ATS)",
                                     "translated request (ATS)", "reserved"};
    return n[at & 3];
}

static const char *type_name(const struct sio_vtd_fault *f)
{
    if (f->read && f->t2)
        return "AtomicOp";
    if (f->t2)
        return "page request";
    return f->read ? "read" : "write";
}

int cli_cmd_fault(int argc, char **argv)
{
    int json = 0, c;
    uint64_t seg = 0;
    while ((c = cli_getopt("fault", argc, argv, "hjs:", fault_opts)) != -1) {
        switch (c) {
        case 'h':
            printf("usage: softiommu fault [--segment N] [--json] <FRCD hi> <FRCD lo>\n\n"
                   "Decodes one 128-bit VT-d fault recording register as Linux prints it,\n"
                   "then field by field. <FRCD hi> is bits 127:64 (the qword at FRO*16+16*i+8),\n"
                   "<FRCD lo> bits 63:0; both in hex, 0x optional.\n"
                   "  --segment N   PCI segment of the unit, for the device name (default 0)\n"
                   "  --json        print the fields as one JSON object\n"
                   "Example: softiommu fault 0x8000000500000010 0x80000000\n");
            return CLI_OK;
        case 'j':
            json = 1;
            break;
        case 's':
            if (parse_hex64(optarg, &seg) || seg > 0xffff)
                return cli_usage_error("fault", "bad segment '%s' (hex, 0 to ffff)", optarg);
            break;
        default:
            return CLI_USAGE;
        }
    }
    if (argc - optind != 2)
        return cli_usage_error("fault", "need two arguments, <FRCD hi> <FRCD lo> (see 'softiommu "
                                        "fault --help')");
    uint64_t hi, lo;
    if (parse_hex64(argv[optind], &hi))
        return cli_usage_error("fault", "bad <FRCD hi> '%s' (up to 16 hex digits)", argv[optind]);
    if (parse_hex64(argv[optind + 1], &lo))
        return cli_usage_error("fault", "bad <FRCD lo> '%s' (up to 16 hex digits)",
                               argv[optind + 1]);

    struct sio_vtd_fault f;
    sio_vtd_fault_decode(hi, lo, &f);
    char line[256], dev[24];
    sio_vtd_fault_format(&f, (uint16_t)seg, line, sizeof(line));
    snprintf(dev, sizeof(dev), "%04x:%02x:%02x.%u", (unsigned)seg, (unsigned)(f.sid >> 8),
             (unsigned)((f.sid >> 3) & 0x1f), (unsigned)(f.sid & 7));
    int irq = f.reason >= 0x20 && f.reason <= 0x2f;
    const char *qual = sio_vtd_fault_qualified(f.reason) ? "qualified: FPD=1 suppresses it"
                                                         : "non-qualified: always recorded";

    if (json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "line", json_object_new_string(line));
        json_object_object_add(o, "pending", json_object_new_boolean(f.pending));
        json_object_object_add(o, "reason", json_object_new_int(f.reason));
        json_object_object_add(o, "reason_text",
                               json_object_new_string(sio_vtd_fault_reason_str(f.reason)));
        json_object_object_add(o, "qualified",
                               json_object_new_boolean(sio_vtd_fault_qualified(f.reason)));
        json_object_object_add(o, "sid", json_object_new_int(f.sid));
        json_object_object_add(o, "device", json_object_new_string(dev));
        json_object_object_add(o, "type", json_object_new_string(type_name(&f)));
        json_object_object_add(o, "at", json_object_new_int(f.at));
        json_object_object_add(o, "addr", json_object_new_int64((int64_t)f.addr));
        if (irq)
            json_object_object_add(o, "index", json_object_new_int((int)(f.addr >> 48)));
        if (f.pasid_present)
            json_object_object_add(o, "pasid", json_object_new_int((int)f.pasid));
        json_object_object_add(o, "priv", json_object_new_boolean(f.priv));
        json_object_object_add(o, "exe", json_object_new_boolean(f.exe));
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return CLI_OK;
    }
    printf("%s\n", line);
    printf("  F      %u (%s)\n", f.pending,
           f.pending ? "fault pending" : "clear: this record holds no pending fault");
    printf("  FR     0x%02x  %s (%s)\n", f.reason, sio_vtd_fault_reason_str(f.reason), qual);
    printf("  SID    0x%04x (%s)\n", f.sid, dev);
    printf("  type   %s (T1=%u T2=%u)\n", type_name(&f), f.read, f.t2);
    printf("  AT     %u (%s)\n", f.at, at_name(f.at));
    if (irq)
        printf("  index  0x%llx (FI 63:48: the interrupt-remapping table entry)\n",
               (unsigned long long)(f.addr >> 48));
    else
        printf("  FI     0x%016llx (page of the faulting address)\n", (unsigned long long)f.addr);
    if (f.pasid_present)
        printf("  PASID  0x%x (PRIV=%u EXE=%u)\n", f.pasid, f.priv, f.exe);
    else
        printf("  PASID  none\n");
    return CLI_OK;
}

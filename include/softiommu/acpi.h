/* softiommu/acpi.h: the ACPI tables through which firmware tells a kernel where its IOMMUs are.
 *
 *   DMAR (Intel VT-d, spec/vtd.md section 8): remapping units (DRHD), reserved memory regions
 *   that must stay identity-mapped (RMRR), ATS-capable root ports (ATSR), NUMA affinity (RHSA),
 *   ACPI namespace devices (ANDD), SoC-integrated ATCs (SATC) and device properties (SIDP).
 *   IVRS (AMD-Vi, spec/amd-gart-calgary.md 3.6): IOMMU units with the devices they cover (IVHD
 *   0x10/0x11/0x40 and their device entries) and memory that needs special mapping (IVMD).
 *
 * Four things live here:
 *   - parse + validate: bytes -> a plain record (struct sio_dmar / struct sio_ivrs). Signature,
 *     length, checksum and every structure's bounds are checked; a malformed table gives an error
 *     naming the byte offset and the problem, never a crash. Structure types this code does not
 *     know are skipped by their length and reported as notes.
 *   - decode: bytes -> the fields one by one, with the names and value text `iasl -d` prints;
 *     sio_acpi_print() writes them as iasl does, a caller can turn them into JSON.
 *   - generate: a record (parsed, or built with sio_dmar_new/sio_dmar_add/...) -> table bytes with
 *     a correct length and checksum; parse(generate(x)) == x.
 *   - the DMAR platform view: which unit covers a device, in the order a kernel looks, its RMRRs,
 *     whether ATS may be enabled for it; what a driver needs to come up from a DMAR.
 *
 * Records are plain data: fields may be read and written directly. Arrays inside them are owned
 * by the record and released by sio_dmar_free()/sio_ivrs_free(). */
#ifndef SOFTIOMMU_ACPI_H
#define SOFTIOMMU_ACPI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- common to both tables -------------------------------------------------------------- */

#define SIO_ACPI_HEADER_LEN 36u /* the standard ACPI table header */

struct sio_acpi_header {
    char signature[4]; /* "DMAR" / "IVRS" (not NUL-terminated) */
    uint32_t length;   /* whole table in bytes: set by parse and by generate */
    uint8_t revision;
    uint8_t checksum; /* as found (parse) / as written (generate): all bytes sum to 0 mod 256 */
    char oem_id[6];   /* space- or NUL-padded, not NUL-terminated */
    char oem_table_id[8];
    uint32_t oem_revision;
    char creator_id[4]; /* iasl: "Asl Compiler ID" */
    uint32_t creator_revision;
};

/* Why a table was refused. offset is the byte in the table where the problem is. */
struct sio_acpi_error {
    uint32_t offset;
    char msg[200]; /* one line, e.g. "DRHD at 0x30: length 12 is below its 16-byte fixed part" */
};

/* Something that did not stop the parse: an unknown structure type skipped by its length, a
 * firmware bug the kernel also tolerates (RMRR not page-aligned, ...). */
struct sio_acpi_note {
    uint32_t offset;
    char msg[160];
};

/* Parse/decode flags. */
enum {
    SIO_ACPI_IGNORE_CHECKSUM = 1u << 0, /* a wrong checksum becomes a note instead of an error */
};

enum sio_acpi_kind { SIO_ACPI_UNKNOWN = 0, SIO_ACPI_DMAR = 1, SIO_ACPI_IVRS = 2 };
/* Which table the bytes are, by their signature (needs at least 4 bytes). */
enum sio_acpi_kind sio_acpi_identify(const void *buf, size_t len);

/* ---- decoding field by field, as iasl prints ---------------------------------------------- */

enum sio_acpi_field_kind {
    SIO_ACPI_FIELD_UINT,    /* little-endian integer of `width` bytes; value is num */
    SIO_ACPI_FIELD_STRING,  /* characters; text holds them quoted as iasl prints */
    SIO_ACPI_FIELD_BYTES,   /* a byte array ("00 00 00 ..."); bytes points into the table */
    SIO_ACPI_FIELD_PATH,    /* one DMAR device-scope hop: "DD,FF"; num = dev << 8 | fn */
    SIO_ACPI_FIELD_BITS,    /* bits decoded from the field before (width 0, no offset) */
    SIO_ACPI_FIELD_COMMENT, /* a "**** ..." line iasl prints (unknown structure, ...) */
};

struct sio_acpi_field {
    enum sio_acpi_field_kind kind;
    uint32_t offset;      /* byte offset in the table (BITS/COMMENT: of the field they belong to) */
    uint32_t width;       /* bytes; 0 for BITS and COMMENT */
    unsigned depth;       /* 0 table header, 1 structure, 2 device scope / IVHD device entry */
    int group;            /* 1 on the first field of the header, a structure or an entry */
    const char *name;     /* iasl's field name, e.g. "Register Base Address"; NULL for COMMENT */
    const char *text;     /* iasl's value text, e.g. "00000000FED90000" or "\"DMAR\"" */
    const char *note;     /* iasl's bracketed annotation ("Hardware Unit Definition") or NULL */
    uint64_t num;         /* UINT, BITS, PATH: the value */
    const uint8_t *bytes; /* BYTES, STRING: the raw bytes in the table (width of them) */
};

typedef void (*sio_acpi_field_fn)(void *ctx, const struct sio_acpi_field *f);

/* Decode a DMAR or IVRS (by signature): fn is called for every field in table order. Validation
 * is that of sio_dmar_parse/sio_ivrs_parse; on a malformed table the fields before the problem
 * have been delivered and the error is returned. Returns 0 or a negative enum sio_err. */
int sio_acpi_decode(const void *buf, size_t len, unsigned flags, sio_acpi_field_fn fn, void *ctx,
                    struct sio_acpi_error *err);

/* Write the table as `iasl -d` does ("[030h 0048 002h]   Subtable Type : 0000 [...]"), without
 * iasl's comment banner and raw hex dump. Returns 0 or a negative enum sio_err; on error nothing
 * is written. */
int sio_acpi_print(const void *buf, size_t len, unsigned flags, FILE *out,
                   struct sio_acpi_error *err);

/* ---- DMAR ---------------------------------------------------------------------------------- */

#define SIO_DMAR_HEADER_LEN 48u

/* DMAR header flags, byte 37 (VT-d 8). */
#define SIO_DMAR_INTR_REMAP               0x01u
#define SIO_DMAR_X2APIC_OPT_OUT           0x02u
#define SIO_DMAR_DMA_CTRL_PLATFORM_OPT_IN 0x04u

enum sio_dmar_type {
    SIO_DMAR_DRHD = 0, /* DMA remapping hardware unit */
    SIO_DMAR_RMRR = 1, /* reserved memory region */
    SIO_DMAR_ATSR = 2, /* root-port ATS capability */
    SIO_DMAR_RHSA = 3, /* remapping hardware static affinity */
    SIO_DMAR_ANDD = 4, /* ACPI namespace device declaration */
    SIO_DMAR_SATC = 5, /* SoC integrated address translation cache */
    SIO_DMAR_SIDP = 6, /* SoC integrated device property (VT-d 3.4+) */
};

#define SIO_DRHD_INCLUDE_PCI_ALL 0x01u /* DRHD flags */
#define SIO_ATSR_ALL_PORTS       0x01u /* ATSR flags */
#define SIO_SATC_ATC_REQUIRED    0x01u /* SATC flags */

enum sio_dmar_scope_type {
    SIO_DMAR_SCOPE_ENDPOINT = 1,  /* one PCI endpoint */
    SIO_DMAR_SCOPE_BRIDGE = 2,    /* a bridge and everything below it */
    SIO_DMAR_SCOPE_IOAPIC = 3,    /* enumeration id = IOAPIC id */
    SIO_DMAR_SCOPE_HPET = 4,      /* enumeration id = HPET number */
    SIO_DMAR_SCOPE_NAMESPACE = 5, /* enumeration id = ANDD device number */
};

/* A scope entry is 6 + 2N bytes with a one-byte length: at most 124 hops. */
#define SIO_DMAR_MAX_HOPS 124u

struct sio_dmar_hop {
    uint8_t dev, fn;
};

struct sio_dmar_scope {
    uint8_t type;    /* enum sio_dmar_scope_type (others are kept as found) */
    uint8_t flags;   /* byte 2: SIDP property flags; reserved (0) elsewhere */
    uint8_t enum_id; /* IOAPIC id, HPET number or ANDD device number */
    uint8_t bus;     /* start bus */
    uint8_t npath;   /* hops: all but the last are bridges, the last is the device */
    struct sio_dmar_hop path[SIO_DMAR_MAX_HOPS];
    uint32_t offset; /* where parse found it; ignored by generate and sio_dmar_equal */
};

/* One remapping structure. Which fields mean something depends on type; the others are 0. */
struct sio_dmar_struct {
    uint16_t type;          /* enum sio_dmar_type, or an unknown type kept as raw bytes */
    uint32_t offset;        /* where parse found it; ignored by generate and sio_dmar_equal */
    uint8_t flags;          /* DRHD, ATSR, SATC */
    uint8_t size;           /* DRHD: register set spans 2^size 4 KB pages */
    uint16_t segment;       /* DRHD, RMRR, ATSR, SATC, SIDP: PCI segment */
    uint64_t base;          /* DRHD/RHSA: register base; RMRR: region base */
    uint64_t limit;         /* RMRR: last byte of the region (inclusive) */
    uint32_t proximity;     /* RHSA: proximity domain */
    uint8_t acpi_dev;       /* ANDD: ACPI device number */
    char *acpi_name;        /* ANDD: object path, e.g. "\\_SB.PCI0.I2C0" */
    uint16_t acpi_name_len; /* ANDD: bytes reserved for the name incl. NUL and padding; 0: just
                               strlen+1. Parse sets it to what the table had. */
    struct sio_dmar_scope *scopes; /* DRHD, RMRR, ATSR, SATC, SIDP */
    size_t nscopes;
    uint8_t *raw; /* unknown type: the whole structure, written back as is */
    uint16_t raw_len;
};

struct sio_dmar {
    struct sio_acpi_header hdr;
    uint8_t haw;   /* byte 36 as stored: host address width - 1 (0x26 = 39 bits) */
    uint8_t flags; /* SIO_DMAR_INTR_REMAP | ... */
    struct sio_dmar_struct *st;
    size_t nst;
    struct sio_acpi_note *notes; /* parse only */
    size_t nnotes;
};

/* Parse and validate. On success *out is a new record (free with sio_dmar_free). Returns 0,
 * SIO_EPARSE (malformed), SIO_ETRUNC (shorter than its header says), SIO_ECHECKSUM, SIO_ENOMEM;
 * err (may be NULL) then names the offset and the problem. */
int sio_dmar_parse(const void *buf, size_t len, unsigned flags, struct sio_dmar **out,
                   struct sio_acpi_error *err);
void sio_dmar_free(struct sio_dmar *d);

/* Building a table by hand: a record with a standard header (revision 1, OEM "SFTIOM"). haw_bits
 * is the host address width in bits (e.g. 39, 46, 48). NULL on allocation failure. */
struct sio_dmar *sio_dmar_new(unsigned haw_bits, uint8_t flags);
/* Append a zeroed structure of this type; the pointer stays valid until the next sio_dmar_add. */
struct sio_dmar_struct *sio_dmar_add(struct sio_dmar *d, uint16_t type);
/* Append a device scope: start bus and npath hops (1..SIO_DMAR_MAX_HOPS). 0 or -SIO_E*. */
int sio_dmar_add_scope(struct sio_dmar_struct *s, uint8_t type, uint8_t enum_id, uint8_t bus,
                       const struct sio_dmar_hop *path, unsigned npath);
/* ANDD: set the object path (copied). 0 or -SIO_E*. */
int sio_dmar_set_name(struct sio_dmar_struct *s, const char *name);

/* Table bytes for d, structures in d's order, with length and checksum computed. *out is
 * malloc'ed (free it). Returns 0, SIO_EINVAL (a structure cannot be encoded: too many scopes for
 * a 16-bit length, empty scope path, ...; err says which), SIO_ENOMEM. */
int sio_dmar_generate(const struct sio_dmar *d, uint8_t **out, size_t *len,
                      struct sio_acpi_error *err);

/* 1 when a and b describe the same table: every field except offsets, header length/checksum
 * and notes. */
int sio_dmar_equal(const struct sio_dmar *a, const struct sio_dmar *b);

/* Host address width in bits (byte 36 + 1). */
static inline unsigned sio_dmar_haw_bits(const struct sio_dmar *d)
{
    return (unsigned)d->haw + 1u;
}

/* Canonical names: "DRHD", "RMRR", ... ("unknown" otherwise); scope types "PCI endpoint", ... */
const char *sio_dmar_type_name(unsigned type);
const char *sio_dmar_scope_type_name(unsigned type);

/* ---- DMAR platform view: bringing a driver up the way firmware tells a kernel ---------------- */

/* What config space would say about the PCI bridges; needed to follow multi-hop scope paths, to
 * know which buses sit below a bridge scope and to find a device's root port for ATSR.
 * Without it (NULL), only single-hop paths resolve and every device counts as sitting on a root
 * bus (root-complex integrated). */
enum sio_pci_bridge_kind {
    SIO_PCI_BRIDGE_ROOT_PORT = 1,   /* PCIe root port */
    SIO_PCI_BRIDGE_SWITCH_PORT = 2, /* PCIe switch up/downstream port */
    SIO_PCI_BRIDGE_PCI = 3,         /* PCIe-to-PCI or PCI-to-PCI bridge: no ATS below it */
};
struct sio_pci_bridge {
    uint16_t seg;
    uint8_t bus, dev, fn;
    uint8_t secondary, subordinate; /* bus range below the bridge */
    uint8_t kind;                   /* enum sio_pci_bridge_kind */
};

/* One remapping unit (one DRHD) as a kernel brings it up. */
struct sio_dmar_unit {
    unsigned seq; /* DRHD's position among DRHDs in the table: Linux names it dmar<seq> */
    uint16_t segment;
    uint64_t reg_base; /* MMIO register base */
    uint64_t reg_size; /* bytes: 4 KB << size */
    int include_all;   /* INCLUDE_PCI_ALL: every device of the segment no other unit claims */
    const struct sio_dmar_struct *drhd; /* into the parsed record */
};

struct sio_dmar_platform; /* opaque; holds pointers into the record: keep the record alive */

/* Build the view of a parsed (or hand-built) DMAR. bridges may be NULL (nbridges 0); it is
 * copied. Scopes whose path cannot be followed are ignored, as Linux does, and reported by
 * sio_dmar_platform_unresolved(). Returns 0, SIO_EINVAL, SIO_ENOMEM. */
int sio_dmar_platform_create(const struct sio_dmar *d, const struct sio_pci_bridge *bridges,
                             size_t nbridges, struct sio_dmar_platform **out);
void sio_dmar_platform_destroy(struct sio_dmar_platform *p);

/* Units in the order a kernel looks a device up: every unit with explicit scopes, in table
 * order, then the INCLUDE_PCI_ALL units (Linux keeps those last: dmar_register_drhd_unit). */
size_t sio_dmar_platform_nunits(const struct sio_dmar_platform *p);
const struct sio_dmar_unit *sio_dmar_platform_unit(const struct sio_dmar_platform *p, size_t i);

/* The unit that translates DMA from device seg:sid: the first unit whose scope holds it (an
 * endpoint scope naming it, or a bridge scope it is the bridge of or sits below), else the
 * segment's INCLUDE_PCI_ALL unit. Returns the unit's index in the order above, or SIO_ENOENT. */
int sio_dmar_platform_unit_for(const struct sio_dmar_platform *p, uint16_t seg, uint16_t sid);

/* The RMRRs whose scope holds seg:sid (the regions to identity-map for it): writes up to max
 * pointers into out and returns how many there are in all. */
size_t sio_dmar_platform_rmrrs_for(const struct sio_dmar_platform *p, uint16_t seg, uint16_t sid,
                                   const struct sio_dmar_struct **out, size_t max);

/* May the OS enable ATS on seg:sid? (Linux dmar_ats_supported)
 *   - named in a SATC: yes, unless that SATC sets ATC_REQUIRED and the unit runs in legacy
 *     mode (scalable = 0): the hardware then enables it itself;
 *   - else, root-complex integrated (no bridge above it): yes;
 *   - else, a conventional PCI bridge on the way up: no;
 *   - else, its root port is in an ATSR scope of the segment, or an ATSR has ALL_PORTS: yes.
 * Returns 1 yes, 0 no. why (may be NULL) gets a short reason. */
int sio_dmar_platform_ats_allowed(const struct sio_dmar_platform *p, uint16_t seg, uint16_t sid,
                                  int scalable, const char **why);

/* Interrupt-remapping source ids: the requester id of IOAPIC `id` / HPET `id` from the device
 * scopes (VT-d 8: path walk). 0 with *seg and *sid set, or SIO_ENOENT. */
int sio_dmar_platform_ioapic_sid(const struct sio_dmar_platform *p, uint8_t id, uint16_t *seg,
                                 uint16_t *sid);
int sio_dmar_platform_hpet_sid(const struct sio_dmar_platform *p, uint8_t id, uint16_t *seg,
                               uint16_t *sid);

/* Scopes that could not be resolved (path through a bridge the topology does not have). */
size_t sio_dmar_platform_unresolved(const struct sio_dmar_platform *p);

/* ---- IVRS ---------------------------------------------------------------------------------- */

#define SIO_IVRS_HEADER_LEN 48u

enum sio_ivrs_type {
    SIO_IVRS_IVHD_10 = 0x10,    /* IVHD, legacy format */
    SIO_IVRS_IVHD_11 = 0x11,    /* IVHD with EFR image */
    SIO_IVRS_IVHD_40 = 0x40,    /* IVHD, mixed format (ACPI HID device entries) */
    SIO_IVRS_IVMD_ALL = 0x20,   /* IVMD for every device */
    SIO_IVRS_IVMD_ONE = 0x21,   /* IVMD for one device */
    SIO_IVRS_IVMD_RANGE = 0x22, /* IVMD for device ids devid..aux */
};

/* IVHD flags (iasl names). */
#define SIO_IVHD_HT_TUN_EN    0x01u
#define SIO_IVHD_PASS_PW      0x02u
#define SIO_IVHD_RES_PASS_PW  0x04u
#define SIO_IVHD_ISOC         0x08u
#define SIO_IVHD_IOTLB_SUP    0x10u
#define SIO_IVHD_COHERENT     0x20u
#define SIO_IVHD_PREFETCH_SUP 0x40u
#define SIO_IVHD_PPR_SUP      0x80u
/* IVMD flags. */
#define SIO_IVMD_UNITY     0x01u
#define SIO_IVMD_READ      0x02u
#define SIO_IVMD_WRITE     0x04u
#define SIO_IVMD_EXCLUSION 0x08u

enum sio_ivhd_entry_type {
    SIO_IVHD_DEV_PAD4 = 0x00,
    SIO_IVHD_DEV_ALL = 0x01,
    SIO_IVHD_DEV_SELECT = 0x02,
    SIO_IVHD_DEV_RANGE_START = 0x03,
    SIO_IVHD_DEV_RANGE_END = 0x04,
    SIO_IVHD_DEV_PAD8 = 0x40,
    SIO_IVHD_DEV_ALIAS_SELECT = 0x42,
    SIO_IVHD_DEV_ALIAS_RANGE = 0x43,
    SIO_IVHD_DEV_EXT_SELECT = 0x46,
    SIO_IVHD_DEV_EXT_RANGE = 0x47,
    SIO_IVHD_DEV_SPECIAL = 0x48,
    SIO_IVHD_DEV_ACPI_HID = 0xF0,
};

/* One IVHD device entry. Types 0x00-0x3F are 4 bytes, 0x40-0x7F 8 bytes, 0xF0 variable. */
struct sio_ivhd_entry {
    uint8_t type;
    uint8_t setting; /* data setting: INITPass, EIntPass, NMIPass, SysMgt, Lint0/1Pass */
    uint16_t devid;
    uint16_t alias;      /* 0x42/0x43: source-used device id; 0x48: device id of the IOAPIC/HPET */
    uint8_t handle;      /* 0x48: IOAPIC id or HPET number */
    uint8_t variety;     /* 0x48: 1 IOAPIC, 2 HPET */
    uint32_t ext;        /* 0x46/0x47: extended data; other 8-byte types: bytes 4..7 */
    char hid[8], cid[8]; /* 0xF0: ACPI _HID / _CID (strings or integers, as stored) */
    uint8_t uid_format;  /* 0xF0: 0 none, 1 integer, 2 string */
    uint8_t uid_len;
    uint8_t uid[255];
    uint32_t offset; /* where parse found it; ignored by generate and sio_ivrs_equal */
};

/* One IVRS subtable: an IVHD (type 0x10/0x11/0x40) or an IVMD (0x20-0x22). */
struct sio_ivrs_sub {
    uint8_t type;
    uint8_t flags;
    uint16_t devid;  /* IVHD: the IOMMU's own device id; IVMD: first device */
    uint32_t offset; /* where parse found it */
    /* IVHD */
    uint16_t cap_offset;
    uint64_t base;    /* MMIO base */
    uint16_t segment; /* IVHD: PCI segment group; IVMD: bytes 8-9 (segment, newer specs) */
    uint16_t info;    /* 4:0 MSI number, 12:8 UnitID (iasl: "Virtualization Info") */
    uint32_t attr;    /* 0x10: IOMMU feature reporting; 0x11/0x40: attributes */
    uint64_t efr;     /* 0x11/0x40: EFR image */
    uint64_t efr2;    /* 0x11/0x40: EFR2 image (iasl: "Reserved") */
    struct sio_ivhd_entry *entries;
    size_t nentries;
    /* IVMD */
    uint16_t aux;     /* 0x22: last device id */
    uint64_t start;   /* first byte */
    uint64_t mem_len; /* bytes */
    /* unknown type: the whole subtable, written back as is */
    uint8_t *raw;
    uint16_t raw_len;
};

struct sio_ivrs {
    struct sio_acpi_header hdr;
    uint32_t ivinfo;   /* bit 0 EFRSup, 1 DMA remap, 14:8 PA size, 21:15 VA size */
    uint64_t reserved; /* bytes 40-47 */
    struct sio_ivrs_sub *sub;
    size_t nsub;
    struct sio_acpi_note *notes;
    size_t nnotes;
};

int sio_ivrs_parse(const void *buf, size_t len, unsigned flags, struct sio_ivrs **out,
                   struct sio_acpi_error *err);
void sio_ivrs_free(struct sio_ivrs *v);
/* A record with a standard header (revision 2, OEM "SFTIOM") and this IVinfo. */
struct sio_ivrs *sio_ivrs_new(uint32_t ivinfo);
/* Append a zeroed subtable; valid until the next sio_ivrs_add. */
struct sio_ivrs_sub *sio_ivrs_add(struct sio_ivrs *v, uint8_t type);
/* Append a copy of e to an IVHD. 0 or -SIO_E*. */
int sio_ivrs_add_entry(struct sio_ivrs_sub *s, const struct sio_ivhd_entry *e);
int sio_ivrs_generate(const struct sio_ivrs *v, uint8_t **out, size_t *len,
                      struct sio_acpi_error *err);
int sio_ivrs_equal(const struct sio_ivrs *a, const struct sio_ivrs *b);
/* Bytes a device entry of this type takes (4, 8, or 22 + uid_len for 0xF0; 0 if unknown). */
size_t sio_ivhd_entry_size(const struct sio_ivhd_entry *e);

#ifdef __cplusplus
}
#endif
#endif

/* Fuzz target: PCI enumeration and IOMMU grouping over arbitrary configuration spaces.
 *
 * Input: a list of functions, each a 2-byte requester id followed by 512 bytes of its
 * configuration space (offsets 0x000-0x0FF and 0x100-0x1FF); every other function reads all
 * ones, and offsets beyond 0x1FF read zero. Writes (ACS enable, SR-IOV) land in the image.
 * Whatever the headers, capability chains, bridge bus numbers and SR-IOV fields say,
 * enumeration must terminate, list each requester id at most once, and group consistently. */
#include <softiommu/hv.h>
#include <softiommu/pcidev.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXF 32
#define CFG  512

struct fake {
    unsigned n;
    uint16_t rid[MAXF];
    uint8_t cfg[MAXF][CFG];
};

static int find(struct fake *f, uint16_t rid)
{
    for (unsigned i = 0; i < f->n; i++)
        if (f->rid[i] == rid)
            return (int)i;
    return -1;
}

static uint32_t rd(void *ctx, uint16_t rid, unsigned off, unsigned size)
{
    struct fake *f = ctx;
    int i = find(f, rid);
    if (i < 0)
        return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    uint32_t v = 0;
    for (unsigned k = 0; k < size; k++)
        v |= (uint32_t)(off + k < CFG ? f->cfg[i][off + k] : 0) << (8 * k);
    return v;
}

static void wr(void *ctx, uint16_t rid, unsigned off, uint32_t val, unsigned size)
{
    struct fake *f = ctx;
    int i = find(f, rid);
    if (i < 0)
        return;
    for (unsigned k = 0; k < size; k++)
        if (off + k < CFG)
            f->cfg[i][off + k] = (uint8_t)(val >> (8 * k));
}

static const struct sio_pci_cfg_ops ops = {rd, wr};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fake *f = calloc(1, sizeof(*f));
    if (!f)
        return 0;
    while (size >= 2 + CFG && f->n < MAXF) {
        uint16_t rid = (uint16_t)(data[0] | data[1] << 8);
        if (find(f, rid) < 0) {
            f->rid[f->n] = rid;
            memcpy(f->cfg[f->n], data + 2, CFG);
            f->n++;
        }
        data += 2 + CFG;
        size -= 2 + CFG;
    }
    struct sio_pci_enum *e = sio_pci_enumerate(&ops, f, 0, SIO_ENUM_ENABLE_ACS);
    if (e) {
        unsigned n = sio_pci_enum_count(e), ng = sio_pci_enum_ngroups(e), total = 0;
        for (unsigned i = 0; i < n; i++) {
            const struct sio_pci_dev_info *d = sio_pci_enum_dev(e, i);
            if (sio_pci_enum_find(e, d->rid) != d || d->group >= ng)
                abort();
        }
        for (unsigned g = 0; g < ng; g++) {
            unsigned m = sio_pci_enum_group(e, g, NULL, 0);
            if (m == 0)
                abort(); /* numbers are dense */
            total += m;
        }
        if (total != n)
            abort();
        sio_pci_enum_destroy(e);
    }
    if (f->n)
        sio_pci_sriov_enable(&ops, f, f->rid[0], 3);
    free(f);
    return 0;
}

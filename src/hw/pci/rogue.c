/* A rogue device: it DMAs to any address it is pointed at, including ones no driver ever gave
 * it, and writes to the interrupt window at will. Every attempt is counted. */
#include <softiommu/pcidev.h>
#include <softiommu/err.h>

#include <stdlib.h>

struct sio_rogue {
    struct sio_pci_fn *fn;
    struct sio_rogue_stats st;
};

struct sio_pci_fn_desc sio_rogue_desc(void)
{
    struct sio_pci_fn_desc d = {0};
    d.vendor = 0x1BAD;
    d.device = 0xD0A1;
    d.class_code = 0xFF0000; /* device does not fit any defined class */
    d.pcie_type = SIO_PCIE_ENDPOINT;
    d.bar_size[0] = 0x1000;
    return d;
}

static int record(struct sio_rogue *r, int rc)
{
    r->st.attempts++;
    if (rc == 0)
        r->st.succeeded++;
    else
        r->st.blocked++;
    r->st.last_result = rc;
    return rc;
}

int sio_rogue_dma(struct sio_rogue *r, uint64_t addr, void *buf, size_t len, unsigned access)
{
    return record(r, sio_pci_fn_dma(r->fn, addr, buf, len, access));
}

int sio_rogue_msi(struct sio_rogue *r, uint64_t addr, uint32_t data)
{
    return record(r, sio_pci_fn_msi_write(r->fn, addr, data));
}

void sio_rogue_get_stats(struct sio_rogue *r, struct sio_rogue_stats *out)
{
    *out = r->st;
}

static const struct sio_pci_fn_ops rogue_ops = {NULL, NULL};

struct sio_rogue *sio_rogue_attach(struct sio_pci_fn *fn, struct sio_dma_port port)
{
    if (!fn)
        return NULL;
    struct sio_rogue *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->fn = fn;
    sio_pci_fn_attach(fn, &rogue_ops, r, port);
    return r;
}

void sio_rogue_destroy(struct sio_rogue *r)
{
    if (!r)
        return;
    struct sio_dma_port none = {NULL, NULL};
    sio_pci_fn_attach(r->fn, NULL, NULL, none);
    free(r);
}

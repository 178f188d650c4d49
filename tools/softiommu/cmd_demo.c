/* softiommu demo: the main job. Two VMs on one host, a NIC passed through to one of them, and
 * the attack the seeds describe ("Domain A programs the NIC to DMA into domain B's memory"),
 * stopped by the VT-d unit; then the same attack on a machine without an IOMMU, the NIC moved
 * from A to B, and iommu=pt for a host device.
 *
 * Everything here is real: the guest drivers write descriptors into guest memory through
 * their EPT and program the NIC through its BAR, the NIC does every access through the VT-d
 * model, the host driver programs the unit through its registers, the hypervisor assigns
 * devices through the host driver's API, and the NIC's interrupts are remapped (posted into the
 * vCPU when the unit can post) through IRTEs the host driver writes. The figures printed are
 * the counters of those parts.
 * The demo checks its own story and exits 1 if any part of it did not happen. */
#include "cli.h"

#include <softiommu/bits.h>
#include <softiommu/err.h>
#include <softiommu/hv.h>
#include <softiommu/log.h>
#include <softiommu/pci.h>
#include <softiommu/pcidev.h>
#include <softiommu/vtd.h>
#include <softiommu/vtd_driver.h>
#include <softiommu/vtd_ir.h>

#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GiB        (1ULL << 30)
#define HOST_RAM   (6 * GiB)
#define DRV_BASE   (4 * GiB) /* host driver's tables */
#define DRV_SIZE   (64ULL << 20)
#define HV_BASE    (DRV_BASE + DRV_SIZE) /* hypervisor's EPT pages */
#define HV_SIZE    (16ULL << 20)
#define HOST_BUF   (5 * GiB) /* host-owned memory used in step 6 */
#define NIC_BAR    0x180000000ULL
#define HNIC_BAR   0x180010000ULL
#define RID_NIC    0x0100 /* 01:00.0 behind root port 00:1c.0 */
#define RID_HNIC   0x00C8 /* 00:19.0, the host's integrated NIC */
#define RID_BDEV   0x0200 /* 02:00.0 behind root port 00:1d.0, a device given to VM B */
#define RING       256
#define BUFSZ      2048
#define GPA_RXRING 0x100000ULL
#define GPA_TXRING 0x110000ULL
#define GPA_RXBUF  0x200000ULL
#define GPA_TXBUF  0x400000ULL
#define B_SECRET   0x1000000ULL /* GPA in VM B of the page A goes after */
#define NPKT       2000

/* ---- output: text lines or one JSON object ------------------------------------------------ */

struct out {
    int json;
    int walk; /* --walk: print the unit's debug walk of the blocked write */
    json_object *root;
    int failed;
    char failure[256];
};

__attribute__((format(printf, 2, 3))) static void say(struct out *o, const char *fmt, ...)
{
    if (o->json)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

__attribute__((format(printf, 3, 4))) static int check(struct out *o, int cond, const char *fmt,
                                                       ...)
{
    if (!cond && !o->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(o->failure, sizeof(o->failure), fmt, ap);
        va_end(ap);
        o->failed = 1;
    }
    return cond;
}

static void jset_u(json_object *obj, const char *k, uint64_t v)
{
    json_object_object_add(obj, k, json_object_new_uint64(v));
}

static void jset_s(json_object *obj, const char *k, const char *v)
{
    json_object_object_add(obj, k, json_object_new_string(v));
}

static void jset_b(json_object *obj, const char *k, int v)
{
    json_object_object_add(obj, k, json_object_new_boolean(v));
}

static void jset_d(json_object *obj, const char *k, double v)
{
    json_object_object_add(obj, k, json_object_new_double(v));
}

static void jset_hex(json_object *obj, const char *k, uint64_t v)
{
    char b[24];
    snprintf(b, sizeof(b), "0x%llx", (unsigned long long)v);
    jset_s(obj, k, b);
}

/* ---- the DMAR lines the host driver prints ------------------------------------------------ */

struct dmar_log {
    char lines[8][200];
    unsigned n;
};

static void log_fn(void *ctx, enum sio_log_level level, const char *msg)
{
    struct dmar_log *l = ctx;
    (void)level;
    if (strncmp(msg, "DMAR: [", 7) == 0) {
        snprintf(l->lines[l->n % 8], sizeof(l->lines[0]), "%s", msg);
        l->n++;
    }
}

static const char *last_line(struct dmar_log *l)
{
    return l->n ? l->lines[(l->n - 1) % 8] : "(none)";
}

/* ---- the network: frames that carry their own checksum ------------------------------------ */

static uint32_t fnv32(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static uint64_t fnv64(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* Frame i: 64..1499 bytes of pseudo-random payload, its FNV-1a-32 in the last 4 bytes. */
static size_t make_frame(uint8_t *f, unsigned i, uint32_t salt)
{
    size_t len = 64 + (i * 397u + salt) % 1436u;
    uint32_t x = i * 2654435761u ^ salt ^ 0x9e3779b9u;
    for (size_t k = 0; k < len - 4; k++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        f[k] = (uint8_t)x;
    }
    sio_st32le(f + len - 4, fnv32(f, len - 4));
    return len;
}

static int frame_ok(const uint8_t *f, size_t len)
{
    return len >= 8 && sio_ld32le(f + len - 4) == fnv32(f, len - 4);
}

struct wire {
    uint64_t frames, bytes, bad;
    uint8_t last[256];
    size_t last_len;
};

static void wire_rx(void *ctx, const void *frame, size_t len)
{
    struct wire *w = ctx;
    w->frames++;
    w->bytes += len;
    if (!frame_ok(frame, len))
        w->bad++;
    w->last_len = len < sizeof(w->last) ? len : sizeof(w->last);
    memcpy(w->last, frame, w->last_len);
}

/* ---- the machine -------------------------------------------------------------------------- */

struct world {
    struct sio_pmem *pm;
    struct sio_mem mem;
    struct sio_vtd *u;
    struct sio_vtd_drv *drv;
    struct sio_pci_topo *t;
    struct sio_vtd_port vport;
    struct sio_nommu_port nport;
    struct sio_hv *hv;
    struct sio_vm *a, *b;
    struct sio_nic *nic, *hnic;
    struct sio_rogue *bdev; /* B's device: it raises whatever interrupt message it is given */
    struct wire wire;
    struct sio_irq_ops unit_irq;
};

/* The unit's own interrupts (posted-interrupt notifications, fault events) go to the
 * hypervisor, as a CPU's local APIC would hand them over. */
static void unit_msi(void *ctx, uint64_t addr, uint32_t data)
{
    struct world *w = ctx;
    if (w->hv)
        sio_hv_unit_msi(w->hv, addr, data);
}

static void world_free(struct world *w)
{
    if (!w)
        return;
    struct sio_hv *hv = w->hv;
    w->hv = NULL;
    sio_hv_destroy(hv);
    sio_vtd_drv_destroy(w->drv);
    sio_nic_destroy(w->nic);
    sio_nic_destroy(w->hnic);
    sio_rogue_destroy(w->bdev);
    sio_pci_topo_destroy(w->t);
    sio_vtd_destroy(w->u);
    sio_pmem_destroy(w->pm);
    free(w);
}

/* iommu = 1: a VT-d unit and its driver; 0: devices DMA straight to memory. */
static struct world *world_new(int iommu)
{
    struct world *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->pm = sio_pmem_create(HOST_RAM);
    w->mem.ops = sio_pmem_ops();
    w->mem.ctx = w->pm;
    w->t = sio_pci_topo_create(0);
    if (!w->pm || !w->t)
        goto fail;
    struct sio_dma_port port;
    struct sio_hv_config hc = {0};
    if (iommu) {
        struct sio_vtd_config vc = {0};
        w->unit_irq.msi = unit_msi;
        w->u = sio_vtd_create(&vc, sio_pmem_ops(), w->pm, &w->unit_irq, w);
        struct sio_vtd_drv_config dc = {0};
        dc.table_base = DRV_BASE;
        dc.table_size = DRV_SIZE;
        dc.strict = 1;
        w->drv =
            w->u ? sio_vtd_drv_create(&dc, sio_vtd_mmio_ops(), w->u, sio_pmem_ops(), w->pm) : NULL;
        /* Interrupt remapping, as Linux turns it on; the hypervisor takes it from the driver. */
        struct sio_vtd_ir_config ic = {256, 0};
        if (!w->drv || sio_vtd_drv_ir_enable(w->drv, &ic) != 0)
            goto fail;
        port = sio_vtd_port(&w->vport);
        hc.iommu = w->drv;
    } else {
        port = sio_nommu_port(&w->nport);
        hc.flags = SIO_HV_UNSAFE_NOIOMMU;
    }
    struct sio_pci_fn_desc d = {0}, rp = {0};
    d.vendor = 0x8086;
    d.device = 0x29C0;
    d.class_code = 0x060000;
    d.pcie_type = SIO_PCIE_RCIEP;
    rp.vendor = 0x8086;
    rp.device = 0x2940;
    rp.class_code = 0x060400;
    rp.pcie_type = SIO_PCIE_ROOT_PORT;
    rp.bridge = 1;
    rp.secondary_bus = 1;
    rp.acs = 1;
    struct sio_pci_fn_desc nd = sio_nic_desc(0), hd = sio_nic_desc(0), bd = sio_rogue_desc();
    hd.pcie_type = SIO_PCIE_RCIEP;
    hd.device = 0x10F5;
    struct sio_pci_fn *fnic, *fhnic, *fbdev;
    if (sio_pci_add(w->t, 0, 0, 0, &d, NULL) || sio_pci_add(w->t, 0, 0x19, 0, &hd, &fhnic) ||
        sio_pci_add(w->t, 0, 0x1c, 0, &rp, NULL) || sio_pci_add(w->t, 1, 0, 0, &nd, &fnic))
        goto fail;
    rp.secondary_bus = 2;
    if (sio_pci_add(w->t, 0, 0x1d, 0, &rp, NULL) || sio_pci_add(w->t, 2, 0, 0, &bd, &fbdev))
        goto fail;
    w->nic = sio_nic_attach(fnic, port, wire_rx, &w->wire);
    w->hnic = sio_nic_attach(fhnic, port, wire_rx, &w->wire);
    w->bdev = sio_rogue_attach(fbdev, port);
    hc.mem = sio_pmem_ops();
    hc.mem_ctx = w->pm;
    hc.table_base = HV_BASE;
    hc.table_size = HV_SIZE;
    hc.pci = sio_pci_topo_cfg_ops();
    hc.pci_ctx = w->t;
    w->hv = sio_hv_create(&hc);
    if (!w->nic || !w->hnic || !w->bdev || !w->hv)
        goto fail;
    /* Interrupts, once the unit (or the bus) has delivered them, go to the hypervisor. */
    if (iommu)
        sio_vtd_port_init(&w->vport, w->u, sio_hv_irq_sink, w->hv);
    else
        sio_nommu_port_init(&w->nport, sio_pmem_ops(), w->pm, sio_hv_irq_sink, w->hv);
    struct sio_vm_config ca = {"A", 2, 0}, cb = {"B", 2, 0};
    w->a = sio_vm_create(w->hv, &ca);
    w->b = sio_vm_create(w->hv, &cb);
    if (!w->a || !w->b || sio_vm_add_ram(w->a, 0, 0, 2 * GiB) ||
        sio_vm_add_ram(w->b, 0, 2 * GiB, 2 * GiB))
        goto fail;
    return w;
fail:
    world_free(w);
    return NULL;
}

/* ---- a guest's NIC driver ------------------------------------------------------------------ */

/* It knows nothing about the IOMMU: it gives the NIC guest-physical addresses. It touches its
 * memory only through its EPT (sio_vm_read/write) and the NIC only through the BAR. */
struct gnic {
    struct world *w;
    struct sio_vm *vm;
    uint64_t bar;
    unsigned rx_next, tx_tail;
    uint64_t rx_frames, rx_bytes, rx_bad, tx_frames, tx_bytes;
};

static void mmio_w(struct gnic *g, unsigned off, uint32_t v)
{
    sio_pci_mmio_write(g->w->t, g->bar + off, v, 4);
}

static void cfg_w(struct world *w, uint16_t rid, unsigned off, uint32_t v, unsigned size)
{
    sio_pci_cfg_write(w->t, rid, off, v, size);
}

/* Config space as the guest programs it: BAR, memory + bus master, MSI to APIC 0 vector v. */
static void pci_setup(struct world *w, uint16_t rid, uint64_t bar, uint8_t vector)
{
    cfg_w(w, rid, SIO_PCI_BAR0, (uint32_t)bar, 4);
    cfg_w(w, rid, SIO_PCI_BAR0 + 4, (uint32_t)(bar >> 32), 4);
    cfg_w(w, rid, SIO_PCI_COMMAND, SIO_PCI_CMD_MEM | SIO_PCI_CMD_MASTER, 2);
    unsigned msi = sio_pci_cfg_read(w->t, rid, SIO_PCI_CAP_PTR, 1);
    while (msi && sio_pci_cfg_read(w->t, rid, msi, 1) != SIO_PCI_CAP_ID_MSI)
        msi = sio_pci_cfg_read(w->t, rid, msi + 1, 1);
    if (msi) {
        cfg_w(w, rid, msi + SIO_PCI_MSI_ADDR_LO, 0xFEE00000u, 4);
        cfg_w(w, rid, msi + SIO_PCI_MSI_DATA_64, vector, 2);
        cfg_w(w, rid, msi + SIO_PCI_MSI_FLAGS, 1, 2);
    }
}

static int gw(struct gnic *g, uint64_t gpa, const void *buf, size_t len)
{
    return sio_vm_write(g->vm, gpa, buf, len);
}

static int gnic_setup(struct gnic *g, struct world *w, struct sio_vm *vm)
{
    memset(g, 0, sizeof(*g));
    g->w = w;
    g->vm = vm;
    g->bar = NIC_BAR;
    pci_setup(w, RID_NIC, NIC_BAR, 0x40);
    /* The guest's MSI programming goes through the hypervisor: vector 0x40 on its vCPU 0. */
    if (sio_hv_msi_route(vm, RID_NIC, 0, 0x40) != 0)
        return -1;
    mmio_w(g, SIO_NIC_CTRL, SIO_NIC_CTRL_RST);
    for (unsigned i = 0; i < RING; i++) {
        uint8_t d[SIO_NIC_DESC_SIZE] = {0};
        sio_st64le(d + SIO_NIC_DESC_ADDR, GPA_RXBUF + (uint64_t)i * BUFSZ);
        sio_st16le(d + SIO_NIC_DESC_BUFSZ, BUFSZ);
        uint8_t t[SIO_NIC_DESC_SIZE] = {0};
        if (gw(g, GPA_RXRING + 16ULL * i, d, 16) || gw(g, GPA_TXRING + 16ULL * i, t, 16))
            return -1;
    }
    mmio_w(g, SIO_NIC_RDBAL, (uint32_t)GPA_RXRING);
    mmio_w(g, SIO_NIC_RDBAH, 0);
    mmio_w(g, SIO_NIC_RDLEN, RING);
    mmio_w(g, SIO_NIC_RDH, 0);
    mmio_w(g, SIO_NIC_RDT, RING - 1); /* one slot stays empty */
    mmio_w(g, SIO_NIC_TDBAL, (uint32_t)GPA_TXRING);
    mmio_w(g, SIO_NIC_TDBAH, 0);
    mmio_w(g, SIO_NIC_TDLEN, RING);
    mmio_w(g, SIO_NIC_TDH, 0);
    mmio_w(g, SIO_NIC_TDT, 0);
    mmio_w(g, SIO_NIC_IMS, SIO_NIC_ICR_RX | SIO_NIC_ICR_TX | SIO_NIC_ICR_DMAERR);
    mmio_w(g, SIO_NIC_CTRL, SIO_NIC_CTRL_RXEN | SIO_NIC_CTRL_TXEN);
    return 0;
}

/* Takes every completed RX descriptor, checks the frame, gives the buffer back. */
static void gnic_rx_poll(struct gnic *g)
{
    uint8_t frame[BUFSZ];
    int progressed = 0;
    for (;;) {
        uint64_t da = GPA_RXRING + 16ULL * g->rx_next;
        uint8_t d[SIO_NIC_DESC_SIZE];
        if (sio_vm_read(g->vm, da, d, sizeof(d)) || !(d[SIO_NIC_DESC_STA] & SIO_NIC_STA_DD))
            break;
        size_t len = sio_ld16le(d + SIO_NIC_DESC_LEN);
        if (!(d[SIO_NIC_DESC_STA] & SIO_NIC_STA_ERR) && len <= BUFSZ &&
            sio_vm_read(g->vm, sio_ld64le(d + SIO_NIC_DESC_ADDR), frame, len) == 0 &&
            frame_ok(frame, len)) {
            g->rx_frames++;
            g->rx_bytes += len;
        } else {
            g->rx_bad++;
        }
        /* Repost this slot's own buffer. */
        memset(d + 8, 0, 8);
        sio_st64le(d + SIO_NIC_DESC_ADDR, GPA_RXBUF + (uint64_t)g->rx_next * BUFSZ);
        sio_st16le(d + SIO_NIC_DESC_BUFSZ, BUFSZ);
        gw(g, da, d, sizeof(d));
        g->rx_next = (g->rx_next + 1) % RING;
        progressed = 1;
    }
    if (progressed)
        mmio_w(g, SIO_NIC_RDT, (g->rx_next + RING - 1) % RING);
}

/* Queues n frames and rings the doorbell once. */
static void gnic_send(struct gnic *g, unsigned first, unsigned n, uint32_t salt)
{
    uint8_t frame[BUFSZ];
    for (unsigned k = 0; k < n; k++) {
        size_t len = make_frame(frame, first + k, salt);
        uint64_t buf = GPA_TXBUF + (uint64_t)g->tx_tail * BUFSZ;
        uint8_t d[SIO_NIC_DESC_SIZE] = {0};
        sio_st64le(d + SIO_NIC_DESC_ADDR, buf);
        sio_st16le(d + SIO_NIC_DESC_LEN, (uint16_t)len);
        d[SIO_NIC_DESC_CMD] = 0x09; /* EOP | RS */
        gw(g, buf, frame, len);
        gw(g, GPA_TXRING + 16ULL * g->tx_tail, d, sizeof(d));
        g->tx_tail = (g->tx_tail + 1) % RING;
        g->tx_frames++;
        g->tx_bytes += len;
    }
    mmio_w(g, SIO_NIC_TDT, g->tx_tail);
}

/* The network delivers n frames to the NIC, the guest polls after each batch of 32. */
static unsigned traffic_in(struct gnic *g, unsigned n, uint32_t salt)
{
    uint8_t frame[BUFSZ];
    unsigned delivered = 0;
    for (unsigned i = 0; i < n; i++) {
        size_t len = make_frame(frame, i, salt);
        if (sio_nic_receive(g->w->nic, frame, len) == 0)
            delivered++;
        if (i % 32 == 31)
            gnic_rx_poll(g);
    }
    gnic_rx_poll(g);
    return delivered;
}

static void traffic_out(struct gnic *g, unsigned n, uint32_t salt)
{
    for (unsigned i = 0; i < n; i += 32)
        gnic_send(g, i, n - i < 32 ? n - i : 32, salt);
}

/* ---- the story ---------------------------------------------------------------------------- */

static uint64_t host_sum(struct world *w, uint64_t pa, size_t len)
{
    uint8_t buf[4096];
    uint64_t h = 0;
    for (size_t done = 0; done < len; done += sizeof(buf)) {
        size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
        sio_mem_read(&w->mem, pa + done, buf, n);
        h = h * 1099511628211ULL ^ fnv64(buf, n);
    }
    return h;
}

/* The MSI address/data a function's capability holds (what the device will send). */
static void msi_message(struct world *w, uint16_t rid, uint64_t *addr, uint32_t *data)
{
    unsigned msi = sio_pci_cfg_read(w->t, rid, SIO_PCI_CAP_PTR, 1);
    for (int guard = 0;
         msi && guard < 48 && sio_pci_cfg_read(w->t, rid, msi, 1) != SIO_PCI_CAP_ID_MSI; guard++)
        msi = sio_pci_cfg_read(w->t, rid, msi + 1, 1);
    *addr = *data = 0;
    if (!msi)
        return;
    *addr = sio_pci_cfg_read(w->t, rid, msi + SIO_PCI_MSI_ADDR_LO, 4) |
            (uint64_t)sio_pci_cfg_read(w->t, rid, msi + SIO_PCI_MSI_ADDR_HI, 4) << 32;
    *data = sio_pci_cfg_read(w->t, rid, msi + SIO_PCI_MSI_DATA_64, 2);
}

static const char *bdf(uint16_t rid, char *buf)
{
    return sio_bdf_format(sio_bdf_from_sid(0, rid), buf);
}

/* A's driver turns hostile: it asks the NIC to transmit VM B's page (exfiltration), then posts
 * VM B's page (its host address) as the next RX buffer. Returns the DMA results (read, write). */
static void attack(struct gnic *g, uint64_t target, int *rres, int *wres)
{
    struct sio_nic_stats st;
    uint8_t t[SIO_NIC_DESC_SIZE] = {0};
    sio_st64le(t + SIO_NIC_DESC_ADDR, target);
    sio_st16le(t + SIO_NIC_DESC_LEN, 64);
    t[SIO_NIC_DESC_CMD] = 0x09;
    gw(g, GPA_TXRING + 16ULL * g->tx_tail, t, sizeof(t));
    g->tx_tail = (g->tx_tail + 1) % RING;
    sio_nic_get_stats(g->w->nic, &st);
    uint64_t errs = st.dma_errors;
    mmio_w(g, SIO_NIC_TDT, g->tx_tail);
    sio_nic_get_stats(g->w->nic, &st);
    *rres = st.dma_errors > errs ? st.last_dma_result : 0;
    uint64_t da = GPA_RXRING + 16ULL * g->rx_next;
    uint8_t d[SIO_NIC_DESC_SIZE] = {0};
    sio_st64le(d + SIO_NIC_DESC_ADDR, target);
    sio_st16le(d + SIO_NIC_DESC_BUFSZ, BUFSZ);
    gw(g, da, d, sizeof(d));
    uint8_t frame[BUFSZ];
    size_t len = make_frame(frame, 0xBAD, 0xA77AC4);
    memcpy(frame, "packet from the network, written over VM B", 42);
    *wres = sio_nic_receive(g->w->nic, frame, len);
    gnic_rx_poll(g);
}

static void vtd_delta(struct world *w, const struct sio_vtd_stats *before, uint64_t *xl,
                      uint64_t *hits, uint64_t *misses)
{
    struct sio_vtd_stats now;
    sio_vtd_get_stats(w->u, &now);
    *xl = now.translations - before->translations;
    *hits = now.iotlb_hits - before->iotlb_hits;
    *misses = now.iotlb_misses - before->iotlb_misses;
}

static const char *human(uint64_t bytes, char *buf)
{
    if (bytes >= (1ULL << 20))
        snprintf(buf, 32, "%.2f MiB", (double)bytes / (1 << 20));
    else
        snprintf(buf, 32, "%.1f KiB", (double)bytes / 1024);
    return buf;
}

static int run(struct out *o)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct dmar_log dl = {0};
    sio_log_set_handler(log_fn, &dl);
    char b1[SIO_BDF_STRLEN], hb[32], hb2[32];
    json_object *j;

    /* 1. Two VMs and an assigned NIC. */
    struct world *w = world_new(1);
    if (!check(o, w != NULL, "could not build the machine"))
        return CLI_FAIL;
    struct sio_vtd_drv_info di0, di1;
    sio_vtd_drv_get_info(w->drv, &di0);
    int rc = sio_hv_assign(w->a, RID_NIC);
    check(o, rc == 0, "assigning the NIC to A failed: %s", sio_hv_last_error(w->hv));
    sio_vtd_drv_get_info(w->drv, &di1);
    const struct sio_pci_dev_info *nicinfo = sio_pci_enum_find(sio_hv_pci(w->hv), RID_NIC);
    struct sio_p2m_stats pa_st;
    sio_p2m_get_stats(sio_vm_p2m(w->a), &pa_st);
    struct sio_domain *dom_a = sio_vtd_drv_device_domain(w->drv, RID_NIC);
    say(o, "softiommu demo: two VMs, one NIC passed through, and the IOMMU in between\n");
    struct sio_vtd_ir_info ii;
    sio_vtd_drv_ir_get_info(w->drv, &ii);
    say(o, "1. Two VMs on one host (VT-d unit: %u-level tables, 2M/1G pages%s%s; driver strict)",
        di0.levels, di0.qi ? ", queued invalidation" : "",
        ii.enabled ? (ii.posted ? ", interrupt remapping with posting" : ", interrupt remapping")
                   : "");
    say(o, "   VM A: 2 GiB guest RAM at GPA 0, host 0x0-0x7fffffff");
    say(o, "   VM B: 2 GiB guest RAM at GPA 0, host 0x80000000-0xffffffff");
    say(o, "   EPT of each VM: %llu x 1 GiB pages, %llu table pages",
        (unsigned long long)pa_st.leaves_1g, (unsigned long long)pa_st.table_pages);
    say(o,
        "   NIC %s [8086:%04x] (IOMMU group %u) assigned to VM A: domain %u, all 2 GiB mapped "
        "GPA->HPA (%llu IOMMU table pages)",
        bdf(RID_NIC, b1), SIO_NIC_DEVICE, nicinfo ? nicinfo->group : 0,
        dom_a ? sio_vtd_drv_domain_id(dom_a) : 0,
        (unsigned long long)(di1.table_pages_used - di0.table_pages_used));
    j = json_object_new_object();
    jset_s(j, "device", bdf(RID_NIC, b1));
    jset_s(j, "vm", "A");
    jset_u(j, "group", nicinfo ? nicinfo->group : 0);
    jset_u(j, "domain_id", dom_a ? sio_vtd_drv_domain_id(dom_a) : 0);
    jset_u(j, "iommu_table_pages", di1.table_pages_used - di0.table_pages_used);
    jset_u(j, "ept_1g_pages", pa_st.leaves_1g);
    jset_u(j, "ept_table_pages", pa_st.table_pages);
    jset_u(j, "vm_a_host_base", 0);
    jset_u(j, "vm_b_host_base", 2 * GiB);
    jset_u(j, "vm_ram_bytes", 2 * GiB);
    json_object_object_add(o->root, "vms_and_assignment", j);

    /* 2. A's driver runs traffic. */
    struct gnic ga;
    check(o, gnic_setup(&ga, w, w->a) == 0, "A's driver could not set up its rings");
    struct sio_vtd_stats v0;
    sio_vtd_get_stats(w->u, &v0);
    struct sio_vm_stats sa0;
    sio_vm_get_stats(w->a, &sa0);
    struct sio_vtd_ext_stats x0, x1;
    sio_vtd_get_ext_stats(w->u, &x0);
    unsigned rx = traffic_in(&ga, NPKT, 1);
    traffic_out(&ga, NPKT, 2);
    uint64_t xl, hits, misses;
    vtd_delta(w, &v0, &xl, &hits, &misses);
    struct sio_vm_stats sa1;
    sio_vm_get_stats(w->a, &sa1);
    sio_vtd_get_ext_stats(w->u, &x1);
    uint64_t nic_addr;
    uint32_t nic_data;
    msi_message(w, RID_NIC, &nic_addr, &nic_data);
    uint16_t nic_irte = 0;
    int remappable = sio_vtd_ir_msi_index(nic_addr, nic_data, &nic_irte) == 0;
    uint64_t posted = sa1.irqs_posted - sa0.irqs_posted;
    uint64_t remapped = sa1.irqs_remapped - sa0.irqs_remapped;
    const char *mode = posted ? "posted" : remapped ? "remapped" : "compatibility";
    double rate = hits + misses ? 100.0 * (double)hits / (double)(hits + misses) : 0;
    check(o, rx == NPKT && ga.rx_frames == NPKT && ga.rx_bad == 0, "A received %llu of %u",
          (unsigned long long)ga.rx_frames, NPKT);
    check(o, w->wire.frames == NPKT && w->wire.bad == 0, "the wire got %llu good frames of %u",
          (unsigned long long)(w->wire.frames - w->wire.bad), NPKT);
    check(o, remappable && (ii.posted ? posted : remapped) == sa1.irqs - sa0.irqs,
          "the NIC's MSIs were not %s (%llu of %llu)", ii.posted ? "posted" : "remapped",
          (unsigned long long)(ii.posted ? posted : remapped),
          (unsigned long long)(sa1.irqs - sa0.irqs));
    say(o,
        "\n2. VM A's NIC driver: RX and TX rings of %u descriptors at GPA 0x%llx / 0x%llx, "
        "%u-byte buffers",
        RING, (unsigned long long)GPA_RXRING, (unsigned long long)GPA_TXRING, BUFSZ);
    say(o, "   received %llu packets (%s), sent %llu packets (%s), every checksum good",
        (unsigned long long)ga.rx_frames, human(ga.rx_bytes, hb),
        (unsigned long long)w->wire.frames, human(w->wire.bytes, hb2));
    say(o, "   %llu MSIs delivered to VM A (vCPU %u), %s through IRTE 0x%x (MSI address 0x%llx)",
        (unsigned long long)(sa1.irqs - sa0.irqs), sa1.last_vcpu, mode, nic_irte,
        (unsigned long long)nic_addr);
    if (posted)
        say(o,
            "   posted: the unit set the vector in vCPU %u's posted-interrupt descriptor (0x%llx) "
            "and sent %llu notifications (vector 0x%x); no hypervisor work per interrupt",
            sa1.last_vcpu, (unsigned long long)sio_vm_vcpu_pid(w->a, sa1.last_vcpu),
            (unsigned long long)(x1.pi_notifications - x0.pi_notifications), SIO_HV_PI_VECTOR);
    say(o, "   IOMMU: %llu translations, IOTLB hit rate %.2f%% (hits %llu, misses %llu)",
        (unsigned long long)xl, rate, (unsigned long long)hits, (unsigned long long)misses);
    j = json_object_new_object();
    jset_u(j, "rx_packets", ga.rx_frames);
    jset_u(j, "rx_bytes", ga.rx_bytes);
    jset_u(j, "tx_packets", w->wire.frames);
    jset_u(j, "tx_bytes", w->wire.bytes);
    jset_u(j, "checksum_errors", ga.rx_bad + w->wire.bad);
    jset_u(j, "msis", sa1.irqs - sa0.irqs);
    jset_s(j, "msi_delivery", mode);
    jset_u(j, "msis_posted", posted);
    jset_u(j, "msis_remapped", remapped);
    jset_u(j, "pi_notifications", x1.pi_notifications - x0.pi_notifications);
    jset_u(j, "irte_index", nic_irte);
    jset_hex(j, "msi_address", nic_addr);
    jset_u(j, "translations", xl);
    jset_u(j, "iotlb_hits", hits);
    jset_u(j, "iotlb_misses", misses);
    jset_d(j, "iotlb_hit_rate", rate / 100);
    json_object_object_add(o->root, "traffic", j);

    /* 3. The attack, with the IOMMU. */
    const char *secret = "VM B's secret: the keys to the kingdom";
    sio_vm_write(w->b, B_SECRET, secret, strlen(secret) + 1);
    uint64_t target = 2 * GiB + B_SECRET; /* where B's page really is */
    uint64_t sum0 = host_sum(w, target, 4096);
    uint64_t wire_before = w->wire.frames;
    int wres, rres;
    attack(&ga, target, &rres, &wres);
    int nf = sio_vtd_drv_service_faults(w->drv);
    char wline[200], rline[200];
    snprintf(rline, sizeof(rline), "%s", dl.n >= 2 ? dl.lines[(dl.n - 2) % 8] : "(none)");
    snprintf(wline, sizeof(wline), "%s", last_line(&dl));
    uint64_t sum1 = host_sum(w, target, 4096);
    char got[64] = {0};
    sio_vm_read(w->b, B_SECRET, got, sizeof(got) - 1);
    check(o, wres == 0x5 && rres == 0x6 && nf == 2, "the attack was not blocked (%d, %d, %d)", wres,
          rres, nf);
    check(o, sum0 == sum1, "VM B's memory changed");
    check(o, w->wire.frames == wire_before, "B's page went out on the wire");
    say(o, "\n3. VM A programs its NIC to DMA into VM B's memory (host 0x%llx)",
        (unsigned long long)target);
    say(o, "   TX from B's page (exfiltration): blocked by the IOMMU (fault reason 0x%02x)", rres);
    say(o, "   %s", rline);
    say(o, "   RX buffer -> B's page: blocked (fault reason 0x%02x)", wres);
    say(o, "   %s", wline);
    if (o->walk && !o->json) {
        /* What the unit read on the way to that verdict: root, context, each level. */
        char walk[4096];
        sio_vtd_walk_dump(w->u, RID_NIC, target, SIO_WRITE, walk, sizeof(walk));
        say(o, "   the unit's walk of that write:");
        for (char *line = strtok(walk, "\n"); line; line = strtok(NULL, "\n"))
            say(o, "     %s", line);
    }
    say(o, "   VM B's page checksum before 0x%016llx, after 0x%016llx: unchanged (\"%.14s...\")",
        (unsigned long long)sum0, (unsigned long long)sum1, got);
    /* The interrupt side: a device of VM B raises A's NIC's interrupt message, hoping to inject
     * interrupts into A. The IRTE checks who sent it. */
    rc = sio_hv_assign(w->b, RID_BDEV);
    check(o, rc == 0, "assigning %s to B failed: %s", bdf(RID_BDEV, b1), sio_hv_last_error(w->hv));
    cfg_w(w, RID_BDEV, SIO_PCI_COMMAND, SIO_PCI_CMD_MASTER, 2);
    struct sio_vm_stats sa2, sa3;
    sio_vm_get_stats(w->a, &sa2);
    int sres = sio_rogue_msi(w->bdev, nic_addr, nic_data);
    sio_vtd_drv_service_faults(w->drv);
    char iline[200];
    snprintf(iline, sizeof(iline), "%s", last_line(&dl));
    sio_vm_get_stats(w->a, &sa3);
    check(o, sres == 0x26 && sa3.irqs == sa2.irqs && strstr(iline, "[INTR-REMAP]") != NULL,
          "the spoofed interrupt was not blocked (%d)", sres);
    say(o,
        "   VM B's device %s sends VM A's NIC's interrupt message: blocked by IRTE 0x%x's "
        "source-id check (fault reason 0x%02x); VM A's vCPUs got nothing",
        bdf(RID_BDEV, b1), nic_irte, sres);
    say(o, "   %s", iline);
    j = json_object_new_object();
    jset_hex(j, "target_host_addr", target);
    jset_u(j, "write_fault_reason", (uint64_t)wres);
    jset_u(j, "read_fault_reason", (uint64_t)rres);
    jset_s(j, "write_fault_line", wline);
    jset_s(j, "read_fault_line", rline);
    jset_hex(j, "vm_b_checksum_before", sum0);
    jset_hex(j, "vm_b_checksum_after", sum1);
    jset_b(j, "vm_b_unchanged", sum0 == sum1);
    jset_b(j, "exfiltrated", w->wire.frames != wire_before);
    jset_s(j, "spoofed_msi_device", bdf(RID_BDEV, b1));
    jset_u(j, "spoofed_msi_fault_reason", (uint64_t)sres);
    jset_s(j, "spoofed_msi_fault_line", iline);
    jset_b(j, "vm_a_interrupted", sa3.irqs != sa2.irqs);
    json_object_object_add(o->root, "attack_with_iommu", j);

    /* 4. The same attack on a machine without an IOMMU. */
    struct world *n = world_new(0);
    if (check(o, n != NULL, "could not build the machine without an IOMMU")) {
        sio_hv_assign(n->a, RID_NIC);
        struct gnic gn;
        gnic_setup(&gn, n, n->a);
        unsigned nrx = traffic_in(&gn, 100, 3);
        sio_vm_write(n->b, B_SECRET, secret, strlen(secret) + 1);
        uint64_t s0 = host_sum(n, target, 4096);
        uint64_t nwire = n->wire.frames;
        int nw, nr;
        attack(&gn, target, &nr, &nw);
        uint64_t s1 = host_sum(n, target, 4096);
        char now[64] = {0};
        sio_vm_read(n->b, B_SECRET, now, 42);
        int leaked = n->wire.frames > nwire && n->wire.last_len >= 14 &&
                     memcmp(n->wire.last, secret, 14) == 0;
        check(o, nrx == 100 && nw == 0 && nr == 0 && s0 != s1 && leaked,
              "without an IOMMU the attack should have worked (%u, %d, %d, %d)", nrx, nw, nr,
              leaked);
        say(o, "\n4. The same attack with no IOMMU in the path (intel_iommu=off)");
        say(o,
            "   VM A's NIC still works (%u packets: A's GPAs happen to equal its host "
            "addresses)",
            nrx);
        say(o, "   TX from B's page: the wire carried \"%.38s\"", (const char *)n->wire.last);
        say(o,
            "   RX buffer -> B's page: written. VM B's page checksum before 0x%016llx, after "
            "0x%016llx: CORRUPTED",
            (unsigned long long)s0, (unsigned long long)s1);
        say(o, "   VM B now reads \"%.42s\"", now);
        j = json_object_new_object();
        jset_u(j, "rx_packets", nrx);
        jset_hex(j, "vm_b_checksum_before", s0);
        jset_hex(j, "vm_b_checksum_after", s1);
        jset_b(j, "vm_b_corrupted", s0 != s1);
        jset_b(j, "exfiltrated", leaked);
        json_object_object_add(o->root, "attack_without_iommu", j);
        world_free(n);
    }

    /* 5. The NIC moves from A to B. */
    struct sio_vtd_drv_stats ds0, ds1;
    sio_vtd_drv_get_stats(w->drv, &ds0);
    sio_vtd_drv_get_info(w->drv, &di0);
    rc = sio_hv_deassign(w->a, RID_NIC);
    check(o, rc == 0, "deassign failed: %s", sio_hv_last_error(w->hv));
    sio_vtd_drv_get_stats(w->drv, &ds1);
    sio_vtd_drv_get_info(w->drv, &di1);
    uint64_t a_bufs = host_sum(w, GPA_RXBUF, (size_t)RING * BUFSZ);
    /* A packet arrives for A's stale ring: the NIC may no longer master the bus. */
    uint8_t frame[BUFSZ];
    size_t flen = make_frame(frame, 7, 5);
    int stale = sio_nic_receive(w->nic, frame, flen);
    /* And if something turned bus mastering back on: the unit blocks it. */
    cfg_w(w, RID_NIC, SIO_PCI_COMMAND, SIO_PCI_CMD_MEM | SIO_PCI_CMD_MASTER, 2);
    int forced = sio_nic_receive(w->nic, frame, flen);
    sio_vtd_drv_service_faults(w->drv);
    char sline[200];
    snprintf(sline, sizeof(sline), "%s", last_line(&dl));
    /* Its old interrupt message, written by hand: the IRTE went with the deassignment. */
    int stale_msi = sio_pci_fn_msi_write(sio_nic_fn(w->nic), nic_addr, nic_data);
    sio_vtd_drv_service_faults(w->drv);
    char mline[200];
    snprintf(mline, sizeof(mline), "%s", last_line(&dl));
    struct sio_hypercall hcall = {SIO_HC_IOSPACE_CREATE, RID_NIC, 0, 0, 0, 0};
    rc = sio_hv_assign(w->b, RID_NIC);
    check(o, rc == 0, "assigning the NIC to B failed: %s", sio_hv_last_error(w->hv));
    long hres = sio_hv_hypercall(w->a, &hcall);
    char herr[256];
    snprintf(herr, sizeof(herr), "%s", sio_hv_last_error(w->hv));
    struct gnic gb;
    gnic_setup(&gb, w, w->b);
    uint64_t wire0 = w->wire.frames;
    unsigned brx = traffic_in(&gb, 200, 6);
    traffic_out(&gb, 200, 7);
    uint64_t a_bufs2 = host_sum(w, GPA_RXBUF, (size_t)RING * BUFSZ);
    struct sio_xlate x;
    memset(&x, 0, sizeof(x));
    int xr = sio_vtd_translate(w->u, RID_NIC, GPA_RXBUF, SIO_READ, &x);
    check(o, stale == SIO_EPERM && (forced == 0x1 || forced == 0x2),
          "A's stale mappings still worked (%d, %d)", stale, forced);
    check(o, brx == 200 && gb.rx_frames == 200 && w->wire.frames - wire0 == 200,
          "B's traffic failed");
    check(o, a_bufs == a_bufs2, "A's old buffers changed");
    check(o, xr == 0 && x.pa == 2 * GiB + GPA_RXBUF, "GPA 0x%llx does not go to B",
          (unsigned long long)GPA_RXBUF);
    check(o, hres == SIO_EOWNED, "A's hypercall on B's NIC was not refused");
    check(o, stale_msi == 0x22, "the NIC's old interrupt still had an IRTE (%d)", stale_msi);
    say(o, "\n5. The NIC is deassigned from VM A and assigned to VM B");
    say(o,
        "   deassign: bus mastering off, context entry cleared, %llu context-cache and %llu "
        "IOTLB invalidations, A's domain and its %llu page-table pages freed",
        (unsigned long long)((ds1.cc_device + ds1.cc_domain + ds1.cc_global) -
                             (ds0.cc_device + ds0.cc_domain + ds0.cc_global)),
        (unsigned long long)((ds1.iotlb_page + ds1.iotlb_domain + ds1.iotlb_global) -
                             (ds0.iotlb_page + ds0.iotlb_domain + ds0.iotlb_global)),
        (unsigned long long)(di0.table_pages_used - di1.table_pages_used));
    say(o, "   a packet for A's old ring: dropped (the NIC may not master the bus: %s)",
        sio_errname(stale));
    say(o, "   with bus mastering forced back on: blocked (fault reason 0x%02x)", forced);
    say(o, "   %s", sline);
    say(o, "   its old interrupt message: blocked, IRTE 0x%x was released (fault reason 0x%02x)",
        nic_irte, stale_msi);
    say(o, "   %s", mline);
    say(o,
        "   VM B's driver: received %llu and sent %llu packets; GPA 0x%llx now translates "
        "to host 0x%llx (VM B)",
        (unsigned long long)gb.rx_frames, (unsigned long long)(w->wire.frames - wire0),
        (unsigned long long)GPA_RXBUF, (unsigned long long)x.pa);
    say(o, "   VM A's old RX buffers: unchanged (checksum 0x%016llx)", (unsigned long long)a_bufs2);
    say(o, "   VM A asks for an I/O space on the NIC: refused, %s", herr);
    j = json_object_new_object();
    jset_u(j, "context_invalidations",
           (ds1.cc_device + ds1.cc_domain + ds1.cc_global) -
               (ds0.cc_device + ds0.cc_domain + ds0.cc_global));
    jset_u(j, "iotlb_invalidations",
           (ds1.iotlb_page + ds1.iotlb_domain + ds1.iotlb_global) -
               (ds0.iotlb_page + ds0.iotlb_domain + ds0.iotlb_global));
    jset_u(j, "table_pages_freed", di0.table_pages_used - di1.table_pages_used);
    jset_s(j, "stale_dma_result", sio_errname(stale));
    jset_u(j, "forced_fault_reason", (uint64_t)forced);
    jset_s(j, "forced_fault_line", sline);
    jset_u(j, "stale_msi_fault_reason", (uint64_t)stale_msi);
    jset_s(j, "stale_msi_fault_line", mline);
    jset_u(j, "vm_b_rx_packets", gb.rx_frames);
    jset_u(j, "vm_b_tx_packets", w->wire.frames - wire0);
    jset_hex(j, "gpa", GPA_RXBUF);
    jset_hex(j, "now_translates_to", x.pa);
    jset_b(j, "vm_a_buffers_unchanged", a_bufs == a_bufs2);
    jset_s(j, "vm_a_hypercall_refusal", herr);
    json_object_object_add(o->root, "reassignment", j);

    /* 6. iommu=pt for a host device. */
    rc = sio_hv_host_claim(w->hv, RID_HNIC, 1);
    check(o, rc == 0, "pass-through for the host NIC failed: %s", sio_hv_last_error(w->hv));
    struct gnic gh;
    memset(&gh, 0, sizeof(gh));
    gh.w = w;
    gh.bar = HNIC_BAR;
    pci_setup(w, RID_HNIC, HNIC_BAR, 0x50);
    /* The host's driver: one RX descriptor at host 5 GiB, buffer right after it. */
    uint8_t d[SIO_NIC_DESC_SIZE] = {0};
    sio_st64le(d + SIO_NIC_DESC_ADDR, HOST_BUF + 0x1000);
    sio_st16le(d + SIO_NIC_DESC_BUFSZ, BUFSZ);
    sio_mem_write(&w->mem, HOST_BUF, d, sizeof(d));
    mmio_w(&gh, SIO_NIC_RDBAL, (uint32_t)HOST_BUF);
    mmio_w(&gh, SIO_NIC_RDBAH, (uint32_t)(HOST_BUF >> 32));
    mmio_w(&gh, SIO_NIC_RDLEN, 4);
    mmio_w(&gh, SIO_NIC_RDT, 1);
    mmio_w(&gh, SIO_NIC_CTRL, SIO_NIC_CTRL_RXEN);
    int hr = sio_nic_receive(w->hnic, frame, flen);
    uint8_t back[BUFSZ];
    sio_mem_read(&w->mem, HOST_BUF + 0x1000, back, flen);
    struct sio_xlate xh, xg, xb;
    memset(&xh, 0, sizeof(xh));
    memset(&xg, 0, sizeof(xg));
    memset(&xb, 0, sizeof(xb));
    int r1 = sio_vtd_translate(w->u, RID_HNIC, HOST_BUF + 0x1000, SIO_WRITE, &xh);
    int r2 = sio_vtd_translate(w->u, RID_NIC, GPA_RXBUF, SIO_WRITE, &xg);
    int r3 = sio_vtd_translate(w->u, RID_HNIC, target, SIO_READ, &xb);
    check(o, hr == 0 && memcmp(back, frame, flen) == 0, "the host NIC's DMA did not land");
    check(o, r1 == 0 && xh.pa == HOST_BUF + 0x1000 && r2 == 0 && xg.pa == 2 * GiB + GPA_RXBUF,
          "pass-through / translated results are wrong");
    say(o,
        "\n6. iommu=pt on the host: the host's own NIC %s in pass-through, VM B's NIC "
        "translated",
        bdf(RID_HNIC, b1));
    say(o, "   %s (host, pass-through): bus 0x%llx -> host 0x%llx; a packet landed there",
        bdf(RID_HNIC, b1), (unsigned long long)(HOST_BUF + 0x1000), (unsigned long long)xh.pa);
    say(o, "   %s (VM B, translated):   bus 0x%llx -> host 0x%llx", bdf(RID_NIC, b1),
        (unsigned long long)GPA_RXBUF, (unsigned long long)xg.pa);
    say(o, "   the price of pass-through: the host NIC reaches VM B's page too (0x%llx -> 0x%llx)",
        (unsigned long long)target, (unsigned long long)(r3 == 0 ? xb.pa : 0));
    j = json_object_new_object();
    jset_s(j, "host_device", bdf(RID_HNIC, b1));
    jset_hex(j, "host_bus_addr", HOST_BUF + 0x1000);
    jset_hex(j, "host_translates_to", xh.pa);
    jset_b(j, "host_dma_landed", hr == 0 && memcmp(back, frame, flen) == 0);
    jset_s(j, "guest_device", bdf(RID_NIC, b1));
    jset_hex(j, "guest_bus_addr", GPA_RXBUF);
    jset_hex(j, "guest_translates_to", xg.pa);
    jset_b(j, "passthrough_reaches_guest_memory", r3 == 0 && xb.pa == target);
    json_object_object_add(o->root, "iommu_pt", j);

    world_free(w);
    sio_log_set_handler(NULL, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    jset_d(o->root, "elapsed_ms", ms);
    jset_b(o->root, "ok", !o->failed);
    if (o->failed)
        say(o, "\nFAILED: %s", o->failure);
    else
        say(o, "\nEvery step did what it should, in %.0f ms.", ms);
    return o->failed ? CLI_FAIL : CLI_OK;
}

static const struct option demo_opts[] = {
    {"help", no_argument, NULL, 'h'},
    {"json", no_argument, NULL, 'j'},
    {"walk", no_argument, NULL, 'w'},
    {NULL, 0, NULL, 0},
};

int cli_cmd_demo(int argc, char **argv)
{
    int c, json = 0, walk = 0;
    while ((c = cli_getopt("demo", argc, argv, "hjw", demo_opts)) != -1) {
        if (c == '?')
            return CLI_USAGE;
        if (c == 'h') {
            printf("usage: softiommu demo [--json] [--walk]\n\n"
                   "Two VMs (A: host RAM 0-2 GiB, B: 2-4 GiB) and a NIC assigned to A:\n"
                   "  1. the assignment (IOMMU group, domain, page tables)\n"
                   "  2. A's driver receiving and sending packets (translations, IOTLB hit "
                   "rate,\n"
                   "     the NIC's MSIs remapped by the IOMMU, posted into A's vCPU)\n"
                   "  3. A programming its NIC to DMA into B: blocked, with the fault line;\n"
                   "     B's device forging A's NIC's interrupt: blocked by the source-id check\n"
                   "  4. the same attack with no IOMMU in the path: B's memory corrupted\n"
                   "  5. the NIC moved from A to B: A's mappings no longer work\n"
                   "  6. iommu=pt: a host device in pass-through, a guest's translated\n\n"
                   "  --json   the same figures as one JSON object\n"
                   "  --walk   in step 3, print the unit's walk (root, context, each level) of\n"
                   "           the blocked write\n"
                   "Exit status 1 if any step did not happen as described.\n");
            return CLI_OK;
        }
        if (c == 'j')
            json = 1;
        if (c == 'w')
            walk = 1;
    }
    if (optind < argc)
        return cli_usage_error("demo", "unexpected argument '%s'", argv[optind]);
    struct out o = {0};
    o.json = json;
    o.walk = walk;
    o.root = json_object_new_object();
    int rc = run(&o);
    if (json) {
        if (o.failed)
            jset_s(o.root, "failure", o.failure);
        printf("%s\n", json_object_to_json_string_ext(o.root, JSON_C_TO_STRING_PRETTY |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
    } else if (o.failed) {
        fflush(stdout);
        fprintf(stderr, "softiommu demo: %s\n", o.failure);
    }
    json_object_put(o.root);
    return rc;
}

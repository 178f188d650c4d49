/* Fuzz target: the VT-d driver against a hostile unit.
 *
 * The driver reads CAP/ECAP, status registers, invalidation completions and fault records
 * from whatever answers at its MMIO ops: this target answers with a register file
 * (tests/test_vtd_drv_fake.h: GCMD/GSTS, CCMD, IVA/IOTLB, fault records, a working
 * invalidation queue) whose reads the input may corrupt. The input is:
 *   bytes 0-7 CAP, 8-15 ECAP (little-endian), 16 VER, 17 flags (bit 0 lazy, bit 1 noise),
 *   then a stream: with noise, each register read takes a byte, and a byte >= 0xC0 XORs the
 *   value with the next eight; the operations below take their operands from the stream too.
 * Operations after bring-up (opcode byte % 8): domain alloc, attach, detach, map, unmap,
 * service faults (after planting a record), pass-through, flush/strict/free.
 * Whatever happens: no crash, no hang (small poll limit), every call returns 0 or a known
 * sio_err, and nothing the driver writes leaves its table range. */
#include "../tests/test_vtd_drv_fake.h"

#include <softiommu/err.h>
#include <softiommu/log.h>
#include <softiommu/mem.h>
#include <softiommu/vtd_driver.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM   (64ULL << 20)
#define TBASE (16ULL << 20)
#define TSIZE (1ULL << 20)
#define NDOM  4

struct hostile {
    struct fake f;
    const uint8_t *p;
    size_t n;
    int noise;
};

static unsigned take8(struct hostile *h)
{
    if (!h->n)
        return 0;
    h->n--;
    return *h->p++;
}

static uint64_t take64(struct hostile *h)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)take8(h) << (8 * i);
    return v;
}

static uint64_t h_read(void *ctx, uint64_t off, unsigned size)
{
    struct hostile *h = ctx;
    uint64_t v = fk_read(&h->f, off, size);
    if (h->noise && take8(h) >= 0xC0)
        v ^= take64(h);
    /* Identity registers stay what the input said. */
    if (off == SIO_VTD_REG_CAP)
        v = h->f.cap;
    if (off == SIO_VTD_REG_ECAP)
        v = h->f.ecap;
    return size == 4 ? (uint32_t)v : v;
}

static void h_write(void *ctx, uint64_t off, uint64_t v, unsigned size)
{
    struct hostile *h = ctx;
    fk_write(&h->f, off, v, size);
}

static const struct sio_mmio_ops h_ops = {h_read, h_write};

/* The driver's memory: any write outside the table range is a bug. */
static int g_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
    return sio_pmem_ops()->read(ctx, pa, buf, len);
}

static int g_write(void *ctx, uint64_t pa, const void *buf, size_t len)
{
    if (pa < TBASE || pa + len > TBASE + TSIZE || pa + len < pa)
        abort();
    return sio_pmem_ops()->write(ctx, pa, buf, len);
}

static const struct sio_mem_ops g_ops = {g_read, g_write, NULL};

static void check_rc(int rc)
{
    if (rc > 0 || rc < SIO_ECHECKSUM - 64)
        abort();
}

static void quiet(void *ctx, enum sio_log_level level, const char *msg)
{
    (void)ctx;
    (void)level;
    (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 18)
        return 0;
    sio_log_set_handler(quiet, NULL);
    struct sio_pmem *pm = sio_pmem_create(RAM);
    struct hostile *h = calloc(1, sizeof(*h));
    struct sio_mem um = {sio_pmem_ops(), pm};
    fk_init(&h->f, &um, 0, 48, 0, 0, 0, 0, 0, 0, 0);
    memcpy(&h->f.cap, data, 8);
    memcpy(&h->f.ecap, data + 8, 8);
    h->f.ver = data[16];
    unsigned flags = data[17];
    h->noise = (flags & 2) != 0;
    h->p = data + 18;
    h->n = size - 18;
    struct sio_vtd_drv_config cfg = {TBASE, TSIZE, !(flags & 1)};
    struct sio_vtd_drv_options opt = {
        .poll_limit = 64, .identity_size = 8ULL << 20, .fq_entries = 8, .fq_timeout_us = 1000};
    struct sio_vtd_drv *d = sio_vtd_drv_create_ex(&cfg, &opt, &h_ops, h, &g_ops, pm);
    if (d) {
        struct sio_domain *dom[NDOM] = {0};
        for (unsigned step = 0; step < 64 && h->n; step++) {
            unsigned op = take8(h) % 8, i = take8(h) % NDOM;
            uint16_t sid = (uint16_t)(take8(h) | (take8(h) << 8));
            switch (op) {
            case 0:
                if (!dom[i])
                    dom[i] = sio_vtd_drv_domain_alloc(d);
                break;
            case 1:
                if (dom[i])
                    check_rc(sio_vtd_drv_attach(dom[i], sid));
                break;
            case 2:
                if (dom[i])
                    check_rc(sio_vtd_drv_detach(dom[i], sid));
                break;
            case 3:
            case 4: {
                uint64_t iova = take64(h) & 0x0000FFFFFFFFF000ULL;
                uint64_t pa = (take64(h) & 0xFFFFFFF000ULL);
                uint64_t len = (uint64_t)(take8(h) % 16 + 1) << (take8(h) % 2 ? 12 : 21);
                if (dom[i]) {
                    check_rc(op == 3 ? sio_vtd_drv_map(dom[i], iova, pa, len, 1 + take8(h) % 3)
                                     : sio_vtd_drv_unmap(dom[i], iova, len));
                    uint64_t out;
                    check_rc(sio_vtd_drv_iova_to_phys(dom[i], iova, &out));
                }
                break;
            }
            case 5: {
                /* Plant a record (the unit would), then service. */
                unsigned r = take8(h) % FK_NFR;
                h->f.frcd[r][0] = take64(h);
                h->f.frcd[r][1] = take64(h) | (1ULL << 63);
                h->f.fri = take8(h);
                fk_ppf(&h->f);
                int n = sio_vtd_drv_service_faults(d); /* a count: at most one pass */
                if (n < 0 || n > 256)
                    abort();
                break;
            }
            case 6:
                check_rc(sio_vtd_drv_passthrough(d, sid));
                break;
            default:
                if (dom[i]) {
                    unsigned what = take8(h) % 3;
                    if (what == 0)
                        check_rc(sio_vtd_drv_flush(dom[i]));
                    else if (what == 1)
                        check_rc(sio_vtd_drv_domain_set_strict(dom[i], take8(h) & 1));
                    else if (sio_vtd_drv_domain_free(dom[i]) == 0)
                        dom[i] = NULL;
                }
                break;
            }
        }
        sio_vtd_drv_destroy(d);
    }
    free(h);
    sio_pmem_destroy(pm);
    sio_log_set_handler(NULL, NULL);
    return 0;
}

/* ATS (ECAP.DT): device-TLBs (VT-d 2 TT=01, VT-d 5 type 3; PCIe ATS).
 *
 * A context entry with TT=01 lets its device send translation requests (AT=01), answered by
 * sio_vtd_ats_translate with what a PCIe translation completion carries, and translated
 * requests (AT=10), which pass untranslated (sio_vtd_translate with SIO_AT_TRANSLATED). Under
 * TT=00 and TT=10 both are blocked with fault 0xD, recorded: a device cannot skip the
 * translation by claiming its addresses are already translated (the Thunderclap ATS bypass).
 *
 * Completion status of a translation request (decisions, VT-d 4 reasons; docs/vtd-qi-ir.md):
 *   UR  root/context not present (0x1, 0x2), invalid context (0x3), TT blocks (0xD); recorded
 *       as those faults (qualified ones subject to the context's FPD)
 *   CA  table fetch errors and reserved bits (0x7-0xC), recorded
 *   SC  with the page's permissions; a not-present page or an address beyond the domain's
 *       width is SC with R=W=0 and nothing recorded (ATS leaves it to the device: PRI or an
 *       untranslated request, which faults normally)
 *   With TE=0 there is no translation to give: UR, nothing recorded.
 *
 * Device-TLBs belong to the device models: a device registers a callback per source-id, and
 * each type-3 descriptor is delivered to it (qi.c calls vtd_ats_deliver without u->lock). */
#include "vtd_ext.h"

#include <softiommu/err.h>

#include <stdlib.h>
#include <string.h>

struct ats_reg {
    uint16_t sid;
    sio_vtd_devtlb_fn fn;
    void *ctx;
};

struct vtd_ats {
    pthread_mutex_t lock; /* the registrations */
    struct ats_reg *reg;
    unsigned n, cap;
    _Atomic uint64_t requests;
};

/* ---- the S-bit size encoding (PCIe ATS) ----------------------------------------------------- */

void sio_ats_range_decode(uint64_t addr, int s, uint64_t *first, uint64_t *last)
{
    addr &= sio_mask64(63, 12);
    if (!s) {
        *first = addr;
        *last = addr + 4095;
        return;
    }
    /* The lowest 0 bit at or above bit 12 is bit k: the range is 2^(k+1) bytes. */
    uint64_t ones = ~addr & sio_mask64(63, 12);
    if (!ones) { /* no 0 bit at all: everything */
        *first = 0;
        *last = ~0ULL;
        return;
    }
    unsigned k = (unsigned)__builtin_ctzll(ones);
    if (k >= 63) {
        *first = 0;
        *last = ~0ULL;
        return;
    }
    uint64_t size = 1ULL << (k + 1);
    *first = addr & ~(size - 1);
    *last = *first + size - 1;
}

uint64_t sio_ats_range_encode(uint64_t first, uint64_t size, int *s)
{
    if (size <= 4096) {
        *s = 0;
        return first & sio_mask64(63, 12);
    }
    *s = 1;
    /* Bits 12..log2(size)-2 set, bit log2(size)-1 clear. */
    return (first & ~(size - 1) & sio_mask64(63, 12)) | ((size / 2 - 1) & sio_mask64(63, 12));
}

/* ---- translation requests ------------------------------------------------------------------- */

int sio_vtd_ats_translate(struct sio_vtd *u, uint16_t sid, uint64_t iova, unsigned flags,
                          struct sio_vtd_ats_completion *out)
{
    if (!out || (flags & ~SIO_ATS_NW))
        return SIO_EINVAL;
    memset(out, 0, sizeof(*out));
    struct vtd_ats *a = VTD_ATS(u);
    if (a)
        VTD_XCOUNT(a->requests);
    if (!atomic_load_explicit(&u->te, memory_order_acquire)) {
        out->status = SIO_ATS_UR; /* no remapping, no translation to give */
        return 0;
    }
    struct sio_xlate x;
    int fr = vtd_translate(u, sid, iova, SIO_READ | SIO_AT_TRANSLATION_REQ | VTD_ACCESS_PROBE, &x);
    switch (fr) {
    case 0:
        out->status = SIO_ATS_SC;
        out->size = x.page_size;
        out->addr = x.pa & ~(x.page_size - 1);
        out->perm = x.perm & ((flags & SIO_ATS_NW) ? SIO_READ : (SIO_READ | SIO_WRITE));
        break;
    case SIO_VTD_FR_ADDR_BEYOND:
    case SIO_VTD_FR_NO_WRITE:
    case SIO_VTD_FR_NO_READ: /* not present: success, no access (not recorded) */
        out->status = SIO_ATS_SC;
        out->size = 4096;
        out->addr = 0;
        out->perm = 0;
        fr = 0;
        break;
    case SIO_VTD_FR_ROOT_NP:
    case SIO_VTD_FR_CTX_NP:
    case SIO_VTD_FR_CTX_INVALID:
    case SIO_VTD_FR_BLOCKED:
        out->status = SIO_ATS_UR;
        out->fault_reason = (unsigned)fr;
        return fr;
    default:
        out->status = SIO_ATS_CA;
        out->fault_reason = (unsigned)fr;
        return fr;
    }
    int s;
    out->entry = sio_ats_range_encode(out->addr, out->size, &s);
    out->entry |=
        ((uint64_t)s << 11) | ((out->perm & SIO_WRITE) ? 2 : 0) | ((out->perm & SIO_READ) ? 1 : 0);
    return fr;
}

/* ---- device-TLB registrations --------------------------------------------------------------- */

int sio_vtd_devtlb_register(struct sio_vtd *u, uint16_t sid, sio_vtd_devtlb_fn fn, void *ctx)
{
    struct vtd_ats *a = VTD_ATS(u);
    if (!a)
        return SIO_ENOTSUP;
    int rc = 0;
    pthread_mutex_lock(&a->lock);
    unsigned i = 0;
    while (i < a->n && a->reg[i].sid != sid)
        i++;
    if (!fn) {
        if (i < a->n)
            a->reg[i] = a->reg[--a->n];
    } else if (i < a->n) {
        a->reg[i].fn = fn;
        a->reg[i].ctx = ctx;
    } else {
        if (a->n == a->cap) {
            unsigned cap = a->cap ? 2 * a->cap : 8;
            struct ats_reg *r = realloc(a->reg, cap * sizeof(*r));
            if (!r) {
                rc = SIO_ENOMEM;
                goto out;
            }
            a->reg = r;
            a->cap = cap;
        }
        a->reg[a->n++] = (struct ats_reg){sid, fn, ctx};
    }
out:
    pthread_mutex_unlock(&a->lock);
    return rc;
}

int sio_vtd_devtlb_complete(struct sio_vtd *u, uint16_t sid, uint32_t itags)
{
    if (!VTD_ATS(u))
        return SIO_ENOTSUP;
    return vtd_qi_devtlb_complete(u, sid, itags);
}

int vtd_ats_deliver(struct sio_vtd *u, const struct sio_vtd_devtlb_inv *inv)
{
    struct vtd_ats *a = VTD_ATS(u);
    if (!a)
        return -1;
    sio_vtd_devtlb_fn fn = NULL;
    void *ctx = NULL;
    pthread_mutex_lock(&a->lock);
    for (unsigned i = 0; i < a->n; i++)
        if (a->reg[i].sid == inv->sid) {
            fn = a->reg[i].fn;
            ctx = a->reg[i].ctx;
            break;
        }
    pthread_mutex_unlock(&a->lock);
    return fn ? fn(ctx, inv) : -1; /* nobody there: nobody answers */
}

/* ---- module --------------------------------------------------------------------------------- */

static void ats_caps(struct sio_vtd *u, uint64_t features, uint64_t *cap, uint64_t *ecap)
{
    (void)u;
    (void)cap;
    if (features & SIO_VTD_F_DT)
        *ecap = sio_set64(*ecap, SIO_VTD_ECAP_DT, 1);
}

static int ats_init(struct sio_vtd *u)
{
    struct vtd_ats *a = calloc(1, sizeof(*a));
    if (!a)
        return SIO_ENOMEM;
    if (pthread_mutex_init(&a->lock, NULL)) {
        free(a);
        return SIO_ENOMEM;
    }
    u->mod[VTD_MOD_ats] = a;
    return 0;
}

static void ats_fini(struct sio_vtd *u)
{
    struct vtd_ats *a = VTD_ATS(u);
    if (a) {
        pthread_mutex_destroy(&a->lock);
        free(a->reg);
    }
    free(a);
    u->mod[VTD_MOD_ats] = NULL;
}

static void ats_reset(struct sio_vtd *u)
{
    /* Registrations are the embedder's wiring, not hardware state: they stay. */
    atomic_store_explicit(&VTD_ATS(u)->requests, 0, memory_order_relaxed);
}

void vtd_ats_stats(struct sio_vtd *u, struct sio_vtd_ext_stats *s)
{
    struct vtd_ats *a = VTD_ATS(u);
    if (a)
        s->ats_requests = atomic_load_explicit(&a->requests, memory_order_relaxed);
}

const struct vtd_module vtd_module_ats = {
    .name = "ats",
    .features = SIO_VTD_F_DT,
    .caps = ats_caps,
    .init = ats_init,
    .fini = ats_fini,
    .reset = ats_reset,
};

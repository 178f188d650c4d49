/* VT-d fault records as data (VT-d 1 FRCD, VT-d 4 reasons): decoding a 128-bit record and
 * printing it the way Linux's dmar_fault_do_one does. Pure functions of the record's bits,
 * shared by the hardware model (its fault hook, the debug walk), the host driver (fault
 * servicing reads records over MMIO) and `softiommu fault`; they know no unit. */
#include <softiommu/bits.h>
#include <softiommu/vtd.h>
#include <softiommu/vtd_regs.h>

#include <stdio.h>

void sio_vtd_fault_decode(uint64_t hi, uint64_t lo, struct sio_vtd_fault *out)
{
    struct sio_u128 v = {lo, hi};
    *out = (struct sio_vtd_fault){0};
    out->addr = lo & ~0xFFFULL;
    out->sid = (uint16_t)sio_get128(v, SIO_VTD_FRCD_SID);
    out->reason = (uint8_t)sio_get128(v, SIO_VTD_FRCD_FR);
    out->read = (uint8_t)sio_get128(v, SIO_VTD_FRCD_T1);
    out->t2 = (uint8_t)sio_get128(v, SIO_VTD_FRCD_T2);
    out->at = (uint8_t)sio_get128(v, SIO_VTD_FRCD_AT);
    out->priv = (uint8_t)sio_get128(v, SIO_VTD_FRCD_PRIV);
    out->exe = (uint8_t)sio_get128(v, SIO_VTD_FRCD_EXE);
    out->pasid_present = (uint8_t)sio_get128(v, SIO_VTD_FRCD_PP);
    out->pasid = (uint32_t)sio_get128(v, SIO_VTD_FRCD_PV);
    out->pending = (uint8_t)sio_get128(v, SIO_VTD_FRCD_F);
}

const char *sio_vtd_fault_reason_str(unsigned reason)
{
    switch (reason) {
    case 0:
        return "Software"; /* Linux's name for reason 0 */
#define SIO_VTD_FR_CASE_(code, name, str)                                                          \
    case code:                                                                                     \
        return str;
        SIO_VTD_FAULT_REASONS(SIO_VTD_FR_CASE_)
#undef SIO_VTD_FR_CASE_
    default:
        return "Unknown";
    }
}

int sio_vtd_fault_qualified(unsigned reason)
{
    /* VT-d 4 (legacy split): 0x1 and 0x8-0xB are non-qualified. Interrupt remapping: the
     * faults found in or after a read IRTE (0x22, 0x24, 0x26, 0x28) are the ones its FPD
     * suppresses (ir.c). */
    return (reason >= 0x2 && reason <= 0x7) || reason == 0xC || reason == 0xD || reason == 0x22 ||
           reason == 0x24 || reason == 0x26 || reason == 0x28;
}

int sio_vtd_fault_format(const struct sio_vtd_fault *f, uint16_t segment, char *buf, size_t len)
{
    char dev[24];
    snprintf(dev, sizeof(dev), "%04x:%02x:%02x.%u", segment, (unsigned)(f->sid >> 8),
             (unsigned)((f->sid >> 3) & 0x1f), (unsigned)(f->sid & 7));
    const char *why = sio_vtd_fault_reason_str(f->reason);
    if (f->reason >= 0x20 && f->reason <= 0x28)
        return snprintf(buf, len,
                        "DMAR: [INTR-REMAP] Request device [%s] fault index 0x%llx "
                        "[fault reason 0x%02x] %s",
                        dev, (unsigned long long)(f->addr >> 48), f->reason, why);
    const char *type = f->read ? "DMA Read" : "DMA Write";
    if (f->pasid_present)
        return snprintf(buf, len,
                        "DMAR: [%s PASID 0x%x] Request device [%s] fault addr 0x%llx "
                        "[fault reason 0x%02x] %s",
                        type, f->pasid, dev, (unsigned long long)f->addr, f->reason, why);
    return snprintf(buf, len,
                    "DMAR: [%s NO_PASID] Request device [%s] fault addr 0x%llx "
                    "[fault reason 0x%02x] %s",
                    type, dev, (unsigned long long)f->addr, f->reason, why);
}

/* The host driver's interrupt remapping as struct sio_hv_ir_ops: what the hypervisor asks for
 * (an IRTE to a host vector, or into a vCPU's posted-interrupt descriptor; then its release)
 * done with the driver's public API only (softiommu/vtd_ir.h), so hv still reaches the unit
 * through os alone.
 *
 * Remapped entries are written as Linux's intel_irq_remapping prepare_irte writes them: fixed
 * delivery, physical destination, edge (the trigger lives in the device), redirection hint
 * set. Posted entries are not urgent (a vCPU that suppresses notifications gets none). Each
 * route takes one IRTE (SHV=1, subhandle 0); release finds it again from the message. */
#include <softiommu/err.h>
#include <softiommu/hv.h>
#include <softiommu/vtd_ir.h>

#include <string.h>

static struct sio_vtd_ir_source source(const struct sio_hv_irq_src *src)
{
    if (src->bus_range)
        return sio_vtd_ir_source_bus(src->first_bus, src->last_bus);
    return sio_vtd_ir_source_sid(src->sid);
}

static int finish(struct sio_vtd_drv *drv, uint16_t index, int rc, uint64_t *addr, uint32_t *data)
{
    if (!rc)
        rc = sio_vtd_drv_ir_msi(drv, index, 0, addr, data);
    if (rc)
        sio_vtd_drv_ir_free(drv, index, 1);
    return rc;
}

static int vtd_remap(void *ctx, const struct sio_hv_irq_src *src, uint8_t vector, uint32_t dest,
                     uint64_t *addr, uint32_t *data)
{
    struct sio_vtd_drv *drv = ctx;
    uint16_t index;
    int rc = sio_vtd_drv_ir_alloc(drv, 1, &index);
    if (rc)
        return rc;
    struct sio_vtd_irte_remap e;
    memset(&e, 0, sizeof(e));
    e.vector = vector;
    e.dest = dest;
    e.dlm = SIO_IRQ_DLM_FIXED;
    e.rh = 1;
    e.src = source(src);
    return finish(drv, index, sio_vtd_drv_ir_set_remap(drv, index, &e), addr, data);
}

static int vtd_post(void *ctx, const struct sio_hv_irq_src *src, uint8_t vvector, uint64_t pda,
                    uint64_t *addr, uint32_t *data)
{
    struct sio_vtd_drv *drv = ctx;
    uint16_t index;
    int rc = sio_vtd_drv_ir_alloc(drv, 1, &index);
    if (rc)
        return rc;
    struct sio_vtd_irte_post e;
    memset(&e, 0, sizeof(e));
    e.vvector = vvector;
    e.pda = pda;
    e.src = source(src);
    return finish(drv, index, sio_vtd_drv_ir_set_posted(drv, index, &e), addr, data);
}

static void vtd_release(void *ctx, uint64_t addr, uint32_t data)
{
    uint16_t index;
    if (sio_vtd_ir_msi_index(addr, data, &index) == 0)
        sio_vtd_drv_ir_free(ctx, index, 1);
}

static const struct sio_hv_ir_ops remap_only = {vtd_remap, NULL, vtd_release};
static const struct sio_hv_ir_ops with_posting = {vtd_remap, vtd_post, vtd_release};

const struct sio_hv_ir_ops *sio_hv_vtd_ir_ops(struct sio_vtd_drv *drv)
{
    if (!drv)
        return NULL;
    struct sio_vtd_ir_info info;
    sio_vtd_drv_ir_get_info(drv, &info);
    if (!info.enabled)
        return NULL;
    return info.posted ? &with_posting : &remap_only;
}

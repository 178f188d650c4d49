/* VT-d driver internals, shared by vtd_drv.c (bring-up, faults, domains, attach),
 * vtd_pgtable.c (table memory, second-level page tables) and vtd_inval.c (register and
 * queued invalidation, the lazy flush queue). Only the driver includes this. */
#ifndef SIO_OS_VTD_DRV_INTERNAL_H
#define SIO_OS_VTD_DRV_INTERNAL_H

#include <softiommu/err.h>
#include <softiommu/mem.h>
#include <softiommu/vtd_driver.h>
#include <softiommu/vtd_regs.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define VTD_PAGE       4096ULL
#define VTD_PAGE_SHIFT 12

/* Table memory: a stack of free 4 KiB pages of [table_base, table_base + table_size), and a
 * present-entry count per page (page-table pages only; kept by vtd_pgtable.c). */
struct vtd_tbl {
    pthread_mutex_t lock;
    uint64_t base;
    uint32_t npages, nfree;
    uint32_t *free_stack;
    uint16_t *count;
};

/* One lazily invalidated unmap. */
struct vtd_fq_entry {
    uint64_t iova, size;
    int prune; /* it left a table empty: the flush unlinks what is still empty */
};

/* The flush queue, under the domain's lock. */
struct vtd_fq {
    struct vtd_fq_entry *e;
    unsigned n, cap;
    double oldest_ns; /* queue time of e[0] */
};
#define VTD_FQ_AGE_EVERY 32 /* pushes between clock reads (the timer thread also checks) */

enum vtd_dom_type {
    VTD_DOM_DMA = 0,   /* the driver's own second-level tables */
    VTD_DOM_PT = 1,    /* TT=10 pass-through, no tables */
    VTD_DOM_SHARED = 2 /* a second-level table owned by the caller (vtd_ir.h) */
};

struct sio_domain {
    struct sio_vtd_drv *drv;
    uint16_t did;
    enum vtd_dom_type type;
    int identity;         /* the pass-through domain (TT=10 or 1:1 tables) */
    uint64_t pgd;         /* top-level table page */
    pthread_mutex_t lock; /* page tables, flush queue, release callback */
    unsigned ndev;        /* attached devices, under drv->lock */
    atomic_int strict;
    sio_vtd_release_fn release;
    void *release_ctx;
    struct vtd_fq fq;
    struct sio_domain *next, *prev; /* drv->domains, under drv->lock */
    unsigned aw, levels, width;     /* the context entry's AW, table levels, IOVA bits */
};

struct sio_vtd_drv {
    const struct sio_mmio_ops *mmio;
    void *mmio_ctx;
    struct sio_mem mem;
    struct sio_vtd_drv_config cfg;
    struct sio_vtd_drv_options opt; /* defaults filled in */
    uint32_t ver;
    uint64_t cap, ecap;
    /* Decoded capabilities. */
    unsigned aw, levels, width, mgaw, nfr, mamv, ndomains;
    uint64_t fro_off, iva_off, iotlb_off;
    int qi, cm, rwbf, pt, psi, sp2m, sp1g, esrtps, drd, dwd;
    unsigned poll_limit;
    uint64_t root; /* root table */
    struct vtd_tbl tbl;

    pthread_mutex_t lock; /* domains, DIDs, root and context tables, device ownership */
    uint64_t *did_map;
    struct sio_domain *domains;
    struct sio_domain **owner[256]; /* per bus: devfn -> domain, allocated on first use */
    struct sio_domain *identity;

    pthread_mutex_t inval_lock; /* invalidation registers, the queue, WBF */
    uint64_t iq_base, status_pa;
    unsigned iq_entries, iq_tail, iq_head; /* iq_head: as last read from IQH */
    uint32_t qi_seq;

    pthread_mutex_t fault_lock;
    uint64_t *fault_count[256]; /* per bus: devfn -> count */

    unsigned sagaw;           /* CAP.SAGAW: AW values the unit walks */
    struct vtd_irq_remap *ir; /* interrupt remapping (vtd_ir.c); NULL while off */
    pthread_mutex_t ir_lock;  /* ir, its allocation bitmap and IRTE writes */
    atomic_uint_fast64_t st_iec_global, st_iec_index;

    /* Statistics (relaxed atomics). */
    atomic_uint_fast64_t st_cc_global, st_cc_domain, st_cc_device;
    atomic_uint_fast64_t st_iotlb_global, st_iotlb_domain, st_iotlb_page;
    atomic_uint_fast64_t st_qi_waits, st_wbf, st_fq_flushes, st_faults;

    /* The flush-queue timer thread, started by the first lazy unmap. */
    pthread_mutex_t fq_mtx;
    pthread_cond_t fq_cond;
    atomic_int fq_thread_on;
    int fq_stop;
    pthread_t fq_thread;
};

/* ---- MMIO (vtd_drv.c) --------------------------------------------------------------------- */
uint32_t vtd_rd32(struct sio_vtd_drv *d, uint64_t off);
uint64_t vtd_rd64(struct sio_vtd_drv *d, uint64_t off);
void vtd_wr32(struct sio_vtd_drv *d, uint64_t off, uint32_t v);
void vtd_wr64(struct sio_vtd_drv *d, uint64_t off, uint64_t v);
double vtd_now_ns(void);
/* Polls until (reg & mask) == want, at most cfg.poll_limit reads. 0 or SIO_ETIMEDOUT. */
int vtd_poll32(struct sio_vtd_drv *d, uint64_t off, uint32_t mask, uint32_t want, uint32_t *last);
int vtd_poll64(struct sio_vtd_drv *d, uint64_t off, uint64_t mask, uint64_t want, uint64_t *last);
/* GCMD, one command per write (VT-d 1): a level bit (TE, QIE, IRE) set or cleared and its GSTS
 * status awaited; or a one-shot (SRTP: awaits RTPS; WBF: awaits WBFS clear). */
int vtd_gcmd_level(struct sio_vtd_drv *d, uint32_t bit, int on);
int vtd_gcmd_oneshot(struct sio_vtd_drv *d, uint32_t bit);

/* ---- table memory and page tables (vtd_pgtable.c) ----------------------------------------- */
int vtd_tbl_init(struct vtd_tbl *t, uint64_t base, uint64_t size);
void vtd_tbl_fini(struct vtd_tbl *t);
/* Takes a page and zeroes it through the memory ops. 0, SIO_ENOSPC or SIO_EFAULT. */
int vtd_tbl_alloc(struct sio_vtd_drv *d, uint64_t *pa);
void vtd_tbl_free(struct sio_vtd_drv *d, uint64_t pa);
uint32_t vtd_tbl_used(struct sio_vtd_drv *d);

/* A list of table pages emptied by an unmap, freed once the IOTLB flush is done. */
struct vtd_freelist {
    uint64_t *pages;
    unsigned n, cap;
};
void vtd_freelist_release(struct sio_vtd_drv *d, struct vtd_freelist *fl);

/* Under dom->lock. */
int vtd_pt_map(struct sio_domain *dom, uint64_t iova, uint64_t pa, uint64_t size, unsigned perm);
/* Clears [iova, iova+size); widens [*fs, *fe) to what the IOTLB may hold for it (whole
 * superpages). With fl, tables left empty are unlinked and collected in fl; without, they stay
 * linked for vtd_pt_prune. *emptied (if given): some table was left empty. 0, or SIO_ENOENT
 * when nothing was mapped. */
int vtd_pt_unmap(struct sio_domain *dom, uint64_t iova, uint64_t size, struct vtd_freelist *fl,
                 uint64_t *fs, uint64_t *fe, int *emptied);
/* Unlinks the tables under [iova, iova+size) that hold no entry, collecting them in fl. */
int vtd_pt_prune(struct sio_domain *dom, uint64_t iova, uint64_t size, struct vtd_freelist *fl);
int vtd_pt_lookup(struct sio_domain *dom, uint64_t iova, uint64_t *pa, uint64_t *pte,
                  unsigned *level);
/* Frees every table page below (and including) the domain's top. */
void vtd_pt_free_all(struct sio_domain *dom);

/* ---- invalidation (vtd_inval.c) ----------------------------------------------------------- */
int vtd_qi_enable(struct sio_vtd_drv *d);
void vtd_qi_disable(struct sio_vtd_drv *d);
int vtd_inv_context_global(struct sio_vtd_drv *d);
int vtd_inv_context_device(struct sio_vtd_drv *d, uint16_t did, uint16_t sid);
int vtd_inv_iotlb_global(struct sio_vtd_drv *d);
int vtd_inv_iotlb_domain(struct sio_vtd_drv *d, uint16_t did);
/* Page-selective over [addr, addr+size) with the smallest covering AM; domain-selective when
 * PSI is absent or AM would exceed MAMV. ih: only leaf entries changed. */
int vtd_inv_iotlb_range(struct sio_vtd_drv *d, uint16_t did, uint64_t addr, uint64_t size, int ih);
int vtd_flush_write_buffer(struct sio_vtd_drv *d);
/* Submits n descriptors plus a wait descriptor (SW=1, FN=1) and polls its status write:
 * Linux's qi_submit_sync. Only with QI. */
int vtd_qi_submit(struct sio_vtd_drv *d, const struct sio_u128 *desc, unsigned n);
/* Interrupt entry cache (VT-d 5 type 4; queue only): everything, or the naturally aligned
 * block of 2^im entries at index. */
int vtd_inv_iec_global(struct sio_vtd_drv *d);
int vtd_inv_iec_index(struct sio_vtd_drv *d, uint16_t index, unsigned im);
/* Smallest AM whose aligned 2^AM-page block covers [addr, addr+size); block start in *base. */
unsigned vtd_psi_am(uint64_t addr, uint64_t size, uint64_t *base);

/* Lazy flush queue; every call below with dom->lock held. */
void vtd_fq_fini(struct vtd_fq *fq);
/* Queues an unmap whose leaves are cleared; flushes when the queue is full or old. */
int vtd_fq_push(struct sio_domain *dom, uint64_t iova, uint64_t size, int prune);
/* Unlinks the tables the queued unmaps left empty, one domain-selective invalidation, then
 * those pages are freed and the ranges released. */
int vtd_fq_flush(struct sio_domain *dom);
void vtd_fq_thread_stop(struct sio_vtd_drv *d);

/* ---- interrupt remapping (vtd_ir.c) ------------------------------------------------------- */
/* Turns interrupt remapping off if it is on (teardown). */
void vtd_ir_fini(struct sio_vtd_drv *d);

#endif

/* The P2M as an EPT table: entries checked word by word against the SDM's EPT formats
 * (hand-computed values), large pages where aligned, splitting and freeing on unmap, EPT
 * violations with the SDM's exit qualification, misconfigurations, the VT-d-shareable form. */
#include "test_util.h"

#include <softiommu/err.h>
#include <softiommu/hv.h>
#include <softiommu/mem.h>

#include <stdlib.h>
#include <string.h>

#define POOL_BASE 0x100000000ULL /* tables live at 4 GiB */
#define POOL_SIZE (1ULL << 20)

struct fix {
    struct sio_pmem *pm;
    struct sio_mem mem;
    struct sio_pgpool *pool;
    struct sio_p2m *p2m;
};

static struct fix *fix_new(unsigned flags, uint64_t pool_size)
{
    struct fix *f = calloc(1, sizeof(*f));
    f->pm = sio_pmem_create(1ULL << 40);
    f->mem.ops = sio_pmem_ops();
    f->mem.ctx = f->pm;
    f->pool = sio_pgpool_create(sio_pmem_ops(), f->pm, POOL_BASE, pool_size);
    assert_non_null(f->pool);
    struct sio_p2m_config cfg = {.flags = flags};
    f->p2m = sio_p2m_create(f->pool, &cfg);
    assert_non_null(f->p2m);
    return f;
}

static void fix_free(struct fix *f)
{
    sio_p2m_destroy(f->p2m);
    assert_int_equal(sio_pgpool_used(f->pool), 0); /* destroy returned every page */
    sio_pgpool_destroy(f->pool);
    sio_pmem_destroy(f->pm);
    free(f);
}

static uint64_t rd64(struct fix *f, uint64_t pa)
{
    uint64_t v;
    assert_int_equal(sio_mem_read64(&f->mem, pa, &v), 0);
    return v;
}

/* Entry `idx` of the table at pa. */
static uint64_t ent(struct fix *f, uint64_t table, unsigned idx)
{
    return rd64(f, table + 8ULL * idx);
}

static uint64_t addr_of(uint64_t e)
{
    return e & 0x000FFFFFFFFFF000ULL;
}

static void test_4k_entry_format(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, POOL_SIZE);
    assert_int_equal(sio_p2m_map(f->p2m, 0x1000, 0x5000, 0x1000, SIO_RW, SIO_MT_WB), 0);
    uint64_t root = sio_p2m_root(f->p2m);
    assert_int_equal(root, POOL_BASE); /* first page of the pool */
    /* SDM EPT: non-leaf entries carry R|W|X = 7 and the next table's address. */
    uint64_t pml4e = ent(f, root, 0);
    assert_int_equal(pml4e & 0xFFF, 0x7);
    uint64_t pdpte = ent(f, addr_of(pml4e), 0);
    assert_int_equal(pdpte & 0xFFF, 0x7);
    uint64_t pde = ent(f, addr_of(pdpte), 0);
    assert_int_equal(pde & 0xFFF, 0x7);
    /* PTE 1: address 0x5000, R (bit 0), W (bit 1), EMT=WB (6 << 3 = 0x30). */
    assert_int_equal(ent(f, addr_of(pde), 1), 0x5033ULL);
    assert_int_equal(ent(f, addr_of(pde), 0), 0);
    assert_int_equal(ent(f, addr_of(pde), 2), 0);
    /* EPTP: PML4 address | page-walk length 3 << 3 | WB (6) = root | 0x1E. */
    assert_int_equal(sio_p2m_eptp(f->p2m), POOL_BASE | 0x1E);
    struct sio_p2m_stats st;
    sio_p2m_get_stats(f->p2m, &st);
    assert_int_equal(st.table_pages, 4);
    assert_int_equal(st.leaves_4k, 1);
    fix_free(f);
}

static void test_large_pages(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, POOL_SIZE);
    /* 2 MiB at GPA 2 MiB -> HPA 1 GiB, RWX, WB: PDE 1 = 0x40000000 | PS 0x80 | WB 0x30 | 7. */
    assert_int_equal(sio_p2m_map(f->p2m, 0x200000, 0x40000000, 0x200000, SIO_RWX, SIO_MT_WB), 0);
    /* 1 GiB at GPA 1 GiB -> HPA 3 GiB, RW, UC: PDPTE 1 = 0xC0000000 | PS | RW. */
    assert_int_equal(sio_p2m_map(f->p2m, 1ULL << 30, 3ULL << 30, 1ULL << 30, SIO_RW, SIO_MT_UC), 0);
    uint64_t pdpt = addr_of(ent(f, sio_p2m_root(f->p2m), 0));
    assert_int_equal(ent(f, pdpt, 1), 0xC0000083ULL);
    uint64_t pd = addr_of(ent(f, pdpt, 0));
    assert_int_equal(ent(f, pd, 1), 0x400000B7ULL);
    struct sio_p2m_stats st;
    sio_p2m_get_stats(f->p2m, &st);
    assert_int_equal(st.leaves_1g, 1);
    assert_int_equal(st.leaves_2m, 1);
    assert_int_equal(st.leaves_4k, 0);
    assert_int_equal(st.table_pages, 3); /* PML4, PDPT, one PD */
    /* Offsets inside large pages. */
    uint64_t hpa;
    assert_int_equal(sio_p2m_translate(f->p2m, 0x2ABCDE, SIO_READ, &hpa, NULL), 0);
    assert_int_equal(hpa, 0x400ABCDEULL);
    assert_int_equal(sio_p2m_translate(f->p2m, (1ULL << 30) + 0x12345678, SIO_WRITE, &hpa, NULL),
                     0);
    assert_int_equal(hpa, (3ULL << 30) + 0x12345678);
    fix_free(f);
}

static void test_mixed_alignment(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, POOL_SIZE);
    /* [0x1FF000, 0x401000): a 4 KiB head, one 2 MiB middle, a 4 KiB tail. */
    assert_int_equal(sio_p2m_map(f->p2m, 0x1FF000, 0x101FF000, 0x202000, SIO_RW, SIO_MT_WB), 0);
    struct sio_p2m_stats st;
    sio_p2m_get_stats(f->p2m, &st);
    assert_int_equal(st.leaves_4k, 2);
    assert_int_equal(st.leaves_2m, 1);
    /* The same GPA range but an HPA misaligned for 2 MiB: 4 KiB pages only. */
    assert_int_equal(sio_p2m_map(f->p2m, 0x40000000, 0x10601000, 0x200000, SIO_RW, SIO_MT_WB), 0);
    sio_p2m_get_stats(f->p2m, &st);
    assert_int_equal(st.leaves_4k, 2 + 512);
    assert_int_equal(st.leaves_2m, 1);
    /* Large pages can be turned off. */
    struct fix *g = fix_new(SIO_P2M_NO_2M | SIO_P2M_NO_1G, 4 * POOL_SIZE);
    assert_int_equal(sio_p2m_map(g->p2m, 0, 0, 1ULL << 30, SIO_RW, SIO_MT_WB), 0);
    sio_p2m_get_stats(g->p2m, &st);
    assert_int_equal(st.leaves_4k, 262144);
    assert_int_equal(st.table_pages, 1 + 1 + 1 + 512);
    fix_free(g);
    fix_free(f);
}

static void test_violations(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, POOL_SIZE);
    assert_int_equal(sio_p2m_map(f->p2m, 0x10000, 0x90000, 0x1000, SIO_READ, SIO_MT_WB), 0);
    assert_int_equal(sio_p2m_map(f->p2m, 0x11000, 0x91000, 0x1000, SIO_RW, SIO_MT_WB), 0);
    struct sio_ept_fault ft;
    uint64_t hpa = 0xdead;
    /* Unmapped in a present PT: stops at level 1, qualification = data read only. */
    assert_int_equal(sio_p2m_translate(f->p2m, 0x12000, SIO_READ, &hpa, &ft), 48);
    assert_int_equal(hpa, 0xdead);
    assert_int_equal(ft.exit_reason, 48);
    assert_int_equal(ft.gpa, 0x12000);
    assert_int_equal(ft.level, 1);
    assert_int_equal(ft.qual, 0x1);
    /* Nothing at all at 512 GiB: the walk stops at the PML4E. */
    assert_int_equal(sio_p2m_translate(f->p2m, 1ULL << 39, SIO_WRITE, NULL, &ft), 48);
    assert_int_equal(ft.level, 4);
    assert_int_equal(ft.qual, 0x2);
    /* Write to a read-only page: bit 1 (write) | bit 3 (readable). */
    assert_int_equal(sio_p2m_translate(f->p2m, 0x10008, SIO_WRITE, NULL, &ft), 48);
    assert_int_equal(ft.qual, 0x2 | 0x8);
    assert_int_equal(ft.level, 1);
    assert_int_equal(ft.entry, 0x90031ULL);
    /* Fetch from a RW page: bit 2 (fetch) | readable | writable. */
    assert_int_equal(sio_p2m_translate(f->p2m, 0x11000, SIO_EXEC, NULL, &ft), 48);
    assert_int_equal(ft.qual, 0x4 | 0x8 | 0x10);
    /* Allowed accesses. */
    assert_int_equal(sio_p2m_translate(f->p2m, 0x10FFF, SIO_READ, &hpa, &ft), 0);
    assert_int_equal(hpa, 0x90FFF);
    struct sio_p2m_stats st;
    sio_p2m_get_stats(f->p2m, &st);
    assert_int_equal(st.violations, 4);
    assert_int_equal(st.translations, 5);
    /* The fault log, oldest first. */
    struct sio_ept_fault log[8];
    assert_int_equal(sio_p2m_faults(f->p2m, log, 8), 4);
    assert_int_equal(log[0].gpa, 0x12000);
    assert_int_equal(log[3].gpa, 0x11000);
    assert_int_equal(sio_p2m_faults(f->p2m, log, 2), 2);
    assert_int_equal(log[0].gpa, 0x10008);
    fix_free(f);
}

static void test_misconfig(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, POOL_SIZE);
    assert_int_equal(sio_p2m_map(f->p2m, 0, 0x200000, 0x400000, SIO_RW, SIO_MT_WB), 0);
    uint64_t pdpt = addr_of(ent(f, sio_p2m_root(f->p2m), 0));
    uint64_t pd = addr_of(ent(f, pdpt, 0));
    assert_int_equal(ent(f, pd, 0), 0x2000B3ULL);
    struct sio_ept_fault ft;
    /* W without R (SDM: misconfiguration). */
    assert_int_equal(sio_mem_write64(&f->mem, pd, 0x200082ULL | (6 << 3)), 0);
    assert_int_equal(sio_p2m_translate(f->p2m, 0x1000, SIO_READ, NULL, &ft), 49);
    assert_int_equal(ft.exit_reason, 49);
    assert_int_equal(ft.level, 2);
    /* A 2 MiB leaf with reserved bit 12 set. */
    assert_int_equal(sio_mem_write64(&f->mem, pd, 0x2010B3ULL), 0);
    assert_int_equal(sio_p2m_translate(f->p2m, 0x1000, SIO_READ, NULL, &ft), 49);
    /* Memory type 2 is reserved. */
    assert_int_equal(sio_mem_write64(&f->mem, pd, 0x200093ULL), 0);
    assert_int_equal(sio_p2m_translate(f->p2m, 0x1000, SIO_READ, NULL, &ft), 49);
    /* An address bit at MAXPHYADDR (46) is reserved. */
    assert_int_equal(sio_mem_write64(&f->mem, pd, 0x2000B3ULL | (1ULL << 46)), 0);
    assert_int_equal(sio_p2m_translate(f->p2m, 0x1000, SIO_READ, NULL, &ft), 49);
    /* Bit 6 in a non-leaf PDPTE is reserved. */
    assert_int_equal(sio_mem_write64(&f->mem, pd, 0x2000B3ULL), 0);
    uint64_t pdpte = ent(f, pdpt, 0);
    assert_int_equal(sio_mem_write64(&f->mem, pdpt, pdpte | 0x40), 0);
    assert_int_equal(sio_p2m_translate(f->p2m, 0x1000, SIO_READ, NULL, &ft), 49);
    assert_int_equal(ft.level, 3);
    assert_int_equal(sio_mem_write64(&f->mem, pdpt, pdpte), 0);
    assert_int_equal(sio_p2m_translate(f->p2m, 0x1000, SIO_READ, NULL, &ft), 0);
    struct sio_p2m_stats st;
    sio_p2m_get_stats(f->p2m, &st);
    assert_int_equal(st.misconfigs, 5);
    fix_free(f);
}

static void test_refusals(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, POOL_SIZE);
    assert_int_equal(sio_p2m_map(f->p2m, 0, 0, 0x1000, SIO_WRITE, SIO_MT_WB), SIO_EINVAL);
    assert_int_equal(sio_p2m_map(f->p2m, 0x800, 0, 0x1000, SIO_RW, SIO_MT_WB), SIO_EINVAL);
    assert_int_equal(sio_p2m_map(f->p2m, 0, 0, 0, SIO_RW, SIO_MT_WB), SIO_EINVAL);
    assert_int_equal(sio_p2m_map(f->p2m, 0, 0, 0x1000, SIO_RW, 2), SIO_EINVAL);
    assert_int_equal(sio_p2m_map(f->p2m, 1ULL << 48, 0, 0x1000, SIO_RW, SIO_MT_WB), SIO_ERANGE);
    assert_int_equal(sio_p2m_map(f->p2m, 0, 1ULL << 46, 0x1000, SIO_RW, SIO_MT_WB), SIO_ERANGE);
    assert_int_equal(sio_p2m_map(f->p2m, 0x200000, 0, 0x200000, SIO_RW, SIO_MT_WB), 0);
    /* Any overlap is refused and changes nothing. */
    assert_int_equal(sio_p2m_map(f->p2m, 0x1FF000, 0, 0x2000, SIO_RW, SIO_MT_WB), SIO_EEXIST);
    assert_int_equal(sio_p2m_translate(f->p2m, 0x1FF000, SIO_READ, NULL, NULL), 48);
    assert_int_equal(sio_p2m_map(f->p2m, 0, 0, 1ULL << 30, SIO_RW, SIO_MT_WB), SIO_EEXIST);
    assert_int_equal(sio_p2m_unmap(f->p2m, 0x400000, 0x1000), SIO_ENOTMAPPED);
    assert_int_equal(sio_p2m_unmap(f->p2m, 0x400800, 0x1000), SIO_EINVAL);
    fix_free(f);
}

static void test_unmap_split_and_free(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, POOL_SIZE);
    uint64_t G = 1ULL << 30;
    assert_int_equal(sio_p2m_map(f->p2m, G, 5 * G, G, SIO_RW, SIO_MT_WB), 0);
    assert_int_equal(sio_pgpool_used(f->pool), 2);
    /* Punch one 4 KiB hole: 1G -> 512 x 2M, the 2M holding the hole -> 512 x 4K. */
    assert_int_equal(sio_p2m_unmap(f->p2m, G + 0x203000, 0x1000), 0);
    struct sio_p2m_stats st;
    sio_p2m_get_stats(f->p2m, &st);
    assert_int_equal(st.leaves_1g, 0);
    assert_int_equal(st.leaves_2m, 511);
    assert_int_equal(st.leaves_4k, 511);
    assert_int_equal(st.table_pages, 4);
    assert_int_equal(sio_pgpool_used(f->pool), 4);
    uint64_t hpa;
    struct sio_ept_fault ft;
    assert_int_equal(sio_p2m_translate(f->p2m, G + 0x203000, SIO_READ, &hpa, &ft), 48);
    assert_int_equal(ft.level, 1);
    assert_int_equal(sio_p2m_translate(f->p2m, G + 0x202FFF, SIO_READ, &hpa, NULL), 0);
    assert_int_equal(hpa, 5 * G + 0x202FFF);
    assert_int_equal(sio_p2m_translate(f->p2m, G + 0x204000, SIO_WRITE, &hpa, NULL), 0);
    assert_int_equal(hpa, 5 * G + 0x204000);
    assert_int_equal(sio_p2m_translate(f->p2m, 2 * G - 1, SIO_WRITE, &hpa, NULL), 0);
    assert_int_equal(hpa, 6 * G - 1);
    /* The split 4 KiB leaves keep R/W/EMT and clear PS (bit 7 of a PTE). */
    uint64_t pdpt = addr_of(ent(f, sio_p2m_root(f->p2m), 0));
    uint64_t pd = addr_of(ent(f, pdpt, 1));
    uint64_t pt = addr_of(ent(f, pd, 1));
    assert_int_equal(ent(f, pt, 4), (5 * G + 0x204000) | 0x33);
    assert_int_equal(ent(f, pd, 2), (5 * G + 0x400000) | 0xB3);
    /* Unmap all of it: every table but the root goes back to the pool. */
    assert_int_equal(sio_p2m_unmap(f->p2m, G, G), 0);
    sio_p2m_get_stats(f->p2m, &st);
    assert_int_equal(st.table_pages, 1);
    assert_int_equal(st.leaves_4k + st.leaves_2m + st.leaves_1g, 0);
    assert_int_equal(sio_pgpool_used(f->pool), 1);
    assert_int_equal(ent(f, sio_p2m_root(f->p2m), 0), 0);
    fix_free(f);
}

static void test_pool_exhaustion(void **state)
{
    (void)state;
    /* Root + PDPT + PD fit; the PT for a 4 KiB mapping does not. */
    struct fix *f = fix_new(0, 3 * 4096);
    assert_int_equal(sio_p2m_map(f->p2m, 0x1000, 0x1000, 0x1000, SIO_RW, SIO_MT_WB), SIO_ENOSPC);
    /* A 2 MiB leaf needs no PT. */
    assert_int_equal(sio_p2m_map(f->p2m, 0x200000, 0x200000, 0x200000, SIO_RW, SIO_MT_WB), 0);
    assert_int_equal(sio_p2m_translate(f->p2m, 0x200000, SIO_READ, NULL, NULL), 0);
    fix_free(f);
}

static void test_guest_access(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, POOL_SIZE);
    assert_int_equal(sio_p2m_map(f->p2m, 0x0, 0x7000000, 0x1000, SIO_RW, SIO_MT_WB), 0);
    uint8_t buf[64], back[64];
    memset(buf, 0x5a, sizeof(buf));
    /* Across the end of the only page: the first 32 bytes land, then a violation. */
    struct sio_ept_fault ft;
    assert_int_equal(sio_p2m_write(f->p2m, 0xFE0, buf, sizeof(buf), &ft), 48);
    assert_int_equal(ft.gpa, 0x1000);
    assert_int_equal(ft.qual, 0x2);
    assert_int_equal(sio_mem_read(&f->mem, 0x7000FE0, back, 32), 0);
    assert_memory_equal(back, buf, 32);
    memset(back, 0, sizeof(back));
    assert_int_equal(sio_p2m_read(f->p2m, 0xFE0, back, 32, NULL), 0);
    assert_memory_equal(back, buf, 32);
    fix_free(f);
}

/* Every entry of the table at pa (level) holds only R, W, PS (at PDPT/PD) and the address. */
static void check_vtd_safe(struct fix *f, uint64_t pa, unsigned level, unsigned *leaves)
{
    for (unsigned i = 0; i < 512; i++) {
        uint64_t e = ent(f, pa, i);
        if (!e)
            continue;
        /* VT-d 2 legacy SL entry: bits 6:2 reserved, 11 SNP and 62 TM unused here. */
        assert_int_equal(e & 0x7C, 0);
        assert_int_equal(e & ~(0x000FFFFFFFFFF000ULL | 0x83ULL), 0);
        int leaf = level == 1 || (e & 0x80);
        if (level == 4 || level == 1)
            assert_int_equal(e & 0x80, 0); /* PS is reserved in a PML4E, unused in a PTE */
        if (leaf)
            (*leaves)++;
        else
            check_vtd_safe(f, addr_of(e), level - 1, leaves);
    }
}

static void test_vtd_shared_format(void **state)
{
    (void)state;
    struct fix *f = fix_new(SIO_P2M_VTD_SHARED, POOL_SIZE);
    assert_int_equal(sio_p2m_flags(f->p2m), SIO_P2M_VTD_SHARED);
    /* X and cacheable memory types cannot be written into a shared table. */
    assert_int_equal(sio_p2m_map(f->p2m, 0, 0, 0x1000, SIO_RWX, SIO_MT_UC), SIO_ENOTSUP);
    assert_int_equal(sio_p2m_map(f->p2m, 0, 0, 0x1000, SIO_RW, SIO_MT_WB), SIO_ENOTSUP);
    uint64_t G = 1ULL << 30;
    assert_int_equal(sio_p2m_map(f->p2m, 0, 2 * G, G + 0x201000, SIO_RW, SIO_MT_UC), 0);
    assert_int_equal(sio_p2m_map(f->p2m, 4 * G, 8 * G, 0x1000, SIO_READ, SIO_MT_UC), 0);
    /* Hand-computed: PDPTE 0 = 2G | PS | R | W; PML4E = table | R | W. */
    uint64_t pml4e = ent(f, sio_p2m_root(f->p2m), 0);
    assert_int_equal(pml4e & 0xFFF, 0x3);
    uint64_t pdpt = addr_of(pml4e);
    assert_int_equal(ent(f, pdpt, 0), 0x80000083ULL);
    unsigned leaves = 0;
    check_vtd_safe(f, sio_p2m_root(f->p2m), 4, &leaves);
    assert_int_equal(leaves, 1 + 1 + 1 + 1); /* 1G, 2M, 4K, and the read-only 4K */
    /* The CPU side still translates it (X is simply never granted). */
    uint64_t hpa;
    assert_int_equal(sio_p2m_translate(f->p2m, G + 0x200123, SIO_WRITE, &hpa, NULL), 0);
    assert_int_equal(hpa, 3 * G + 0x200123);
    struct sio_ept_fault ft;
    assert_int_equal(sio_p2m_translate(f->p2m, 0x1000, SIO_EXEC, NULL, &ft), 48);
    assert_int_equal(ft.qual, 0x4 | 0x8 | 0x10);
    fix_free(f);
}

static void test_pgpool(void **state)
{
    (void)state;
    struct sio_pmem *pm = sio_pmem_create(1ULL << 30);
    assert_null(sio_pgpool_create(sio_pmem_ops(), pm, 0x800, 0x1000));
    assert_null(sio_pgpool_create(sio_pmem_ops(), pm, 0, 0));
    struct sio_pgpool *p = sio_pgpool_create(sio_pmem_ops(), pm, 0x10000, 0x3000);
    struct sio_mem m = {sio_pmem_ops(), pm};
    /* A page handed out is zeroed even if it held data. */
    assert_int_equal(sio_mem_write64(&m, 0x10008, 0x1234), 0);
    uint64_t a, b, c, d;
    assert_int_equal(sio_pgpool_alloc(p, &a), 0);
    assert_int_equal(a, 0x10000);
    uint64_t v;
    assert_int_equal(sio_mem_read64(&m, 0x10008, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(sio_pgpool_alloc(p, &b), 0);
    assert_int_equal(sio_pgpool_alloc(p, &c), 0);
    assert_int_equal(sio_pgpool_alloc(p, &d), SIO_ENOSPC);
    assert_int_equal(sio_pgpool_used(p), 3);
    assert_int_equal(sio_pgpool_free(p, b), 0);
    assert_int_equal(sio_pgpool_free(p, b), SIO_EINVAL); /* double free */
    assert_int_equal(sio_pgpool_free(p, 0x20000), SIO_EINVAL);
    assert_int_equal(sio_pgpool_free(p, a + 8), SIO_EINVAL);
    assert_int_equal(sio_pgpool_alloc(p, &d), 0);
    assert_int_equal(d, b);
    sio_pgpool_destroy(p);
    sio_pmem_destroy(pm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_4k_entry_format),
        cmocka_unit_test(test_large_pages),
        cmocka_unit_test(test_mixed_alignment),
        cmocka_unit_test(test_violations),
        cmocka_unit_test(test_misconfig),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_unmap_split_and_free),
        cmocka_unit_test(test_pool_exhaustion),
        cmocka_unit_test(test_guest_access),
        cmocka_unit_test(test_vtd_shared_format),
        cmocka_unit_test(test_pgpool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

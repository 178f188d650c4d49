/* A VM's P2M: guest-physical to host-physical, written as a real 4-level Intel EPT table in
 * host memory (pages from a sio_pgpool), walked the way the CPU walks it (SDM EPT), with EPT
 * violations and misconfigurations reported as the VM exits would report them.
 *
 * Every entry is read and written through the pool's sio_mem; nothing is cached on the side,
 * so what the table says is what a CPU (or, for a VT-d shared table, an IOMMU) would see. */
#include "hv/ept.h"

#include <softiommu/hv.h>
#include <softiommu/err.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PG        4096ULL
#define NENT      512u
#define LEVELS    4u
#define GPA_LIMIT (1ULL << 48)

struct sio_p2m {
    struct sio_pgpool *pool;
    const struct sio_mem *mem;
    uint64_t root;
    unsigned maxphyaddr;
    unsigned flags;
    uint64_t addr_rsvd; /* entry bits 51:MAXPHYADDR */
    pthread_mutex_t lock;
    struct sio_p2m_stats st;
    struct sio_ept_fault *log;
    unsigned log_size, log_next, log_count;
};

static uint64_t ent_addr(uint64_t e)
{
    return e & sio_mask64(SIO_EPT_ADDR);
}

static int ent_present(uint64_t e)
{
    return (e & SIO_EPT_RWX) != 0; /* SDM EPT: present if any of bits 2:0 is set */
}

static int ent_is_leaf(uint64_t e, unsigned level)
{
    return level == 1 || (level <= 3 && (e & SIO_EPT_PS));
}

static uint64_t *leaf_counter(struct sio_p2m *p, unsigned level)
{
    return level == 3 ? &p->st.leaves_1g : level == 2 ? &p->st.leaves_2m : &p->st.leaves_4k;
}

static int rd(struct sio_p2m *p, uint64_t pa, uint64_t *v)
{
    return sio_mem_read64(p->mem, pa, v) ? SIO_EFAULT : 0;
}

static int wr(struct sio_p2m *p, uint64_t pa, uint64_t v)
{
    return sio_mem_write64(p->mem, pa, v) ? SIO_EFAULT : 0;
}

struct sio_p2m *sio_p2m_create(struct sio_pgpool *pool, const struct sio_p2m_config *cfg)
{
    struct sio_p2m_config def = {0};
    if (!cfg)
        cfg = &def;
    unsigned maxpa = cfg->maxphyaddr ? cfg->maxphyaddr : 46;
    if (!pool || maxpa < 36 || maxpa > 52 ||
        (cfg->flags & ~(SIO_P2M_NO_2M | SIO_P2M_NO_1G | SIO_P2M_VTD_SHARED)))
        return NULL;
    struct sio_p2m *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->pool = pool;
    p->mem = sio_pgpool_mem(pool);
    p->maxphyaddr = maxpa;
    p->flags = cfg->flags;
    p->addr_rsvd = maxpa < 52 ? sio_mask64(51, maxpa) : 0;
    p->log_size = cfg->fault_log ? cfg->fault_log : 16;
    p->log = calloc(p->log_size, sizeof(*p->log));
    if (!p->log || sio_pgpool_alloc(pool, &p->root) != 0) {
        free(p->log);
        free(p);
        return NULL;
    }
    p->st.table_pages = 1;
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

/* Frees the table at pa (level `level`) and every table below it; returns the page count.
 * A page is freed before its entries are followed, and only pages the pool handed out are
 * followed at all: however an entry was corrupted, each page is visited at most once. */
static uint64_t free_tree(struct sio_p2m *p, uint64_t pa, unsigned level)
{
    if (sio_pgpool_free(p->pool, pa) != 0)
        return 0;
    uint64_t n = 1;
    if (level > 1) {
        for (unsigned i = 0; i < NENT; i++) {
            uint64_t e;
            if (rd(p, pa + 8ULL * i, &e) == 0 && ent_present(e) && !ent_is_leaf(e, level))
                n += free_tree(p, ent_addr(e), level - 1);
        }
    }
    return n;
}

void sio_p2m_destroy(struct sio_p2m *p)
{
    if (!p)
        return;
    free_tree(p, p->root, LEVELS);
    pthread_mutex_destroy(&p->lock);
    free(p->log);
    free(p);
}

/* A leaf for hpa at `level` (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB). */
static uint64_t make_leaf(const struct sio_p2m *p, uint64_t hpa, unsigned perm, unsigned mt,
                          unsigned level)
{
    uint64_t e = hpa & sio_mask64(SIO_EPT_ADDR);
    if (perm & SIO_READ)
        e |= SIO_EPT_R;
    if (perm & SIO_WRITE)
        e |= SIO_EPT_W;
    if (!(p->flags & SIO_P2M_VTD_SHARED)) {
        if (perm & SIO_EXEC)
            e |= SIO_EPT_X;
        e = sio_set64(e, SIO_EPT_EMT, mt);
    }
    if (level > 1)
        e |= SIO_EPT_PS;
    return e;
}

/* A non-leaf entry grants everything; the leaf decides (permissions AND across levels). */
static uint64_t make_table(const struct sio_p2m *p, uint64_t pa)
{
    uint64_t perm = (p->flags & SIO_P2M_VTD_SHARED) ? (SIO_EPT_R | SIO_EPT_W) : SIO_EPT_RWX;
    return (pa & sio_mask64(SIO_EPT_ADDR)) | perm;
}

/* 1 if some leaf maps a page of [start, end) in the table at pa (level), 0 if none, or a
 * negative error. */
static int range_mapped(struct sio_p2m *p, uint64_t pa, unsigned level, uint64_t tbase,
                        uint64_t start, uint64_t end)
{
    uint64_t sz = sio_ept_level_size(level);
    for (unsigned i = sio_ept_index(start, level); i < NENT; i++) {
        uint64_t eb = tbase + i * sz;
        if (eb >= end)
            break;
        uint64_t e;
        if (rd(p, pa + 8ULL * i, &e))
            return SIO_EFAULT;
        if (!ent_present(e))
            continue;
        if (ent_is_leaf(e, level))
            return 1;
        uint64_t s = start > eb ? start : eb, t = end < eb + sz ? end : eb + sz;
        int r = range_mapped(p, ent_addr(e), level - 1, eb, s, t);
        if (r)
            return r;
    }
    return 0;
}

/* Writes one leaf for gpa at `level`, creating the tables above it. */
static int set_leaf(struct sio_p2m *p, uint64_t gpa, unsigned level, uint64_t leaf)
{
    uint64_t table = p->root;
    for (unsigned l = LEVELS; l > level; l--) {
        uint64_t slot = table + 8ULL * sio_ept_index(gpa, l), e;
        if (rd(p, slot, &e))
            return SIO_EFAULT;
        if (!ent_present(e)) {
            uint64_t page;
            int rc = sio_pgpool_alloc(p->pool, &page);
            if (rc)
                return rc;
            if (wr(p, slot, make_table(p, page))) {
                sio_pgpool_free(p->pool, page);
                return SIO_EFAULT;
            }
            p->st.table_pages++;
            table = page;
        } else if (ent_is_leaf(e, l)) {
            return SIO_EEXIST; /* excluded by the caller's emptiness check */
        } else {
            table = ent_addr(e);
        }
    }
    uint64_t slot = table + 8ULL * sio_ept_index(gpa, level), e;
    if (rd(p, slot, &e))
        return SIO_EFAULT;
    if (ent_present(e)) {
        if (ent_is_leaf(e, level))
            return SIO_EEXIST;
        /* An empty table left by an earlier failed map: the emptiness check proved it. */
        p->st.table_pages -= free_tree(p, ent_addr(e), level - 1);
    }
    if (wr(p, slot, leaf))
        return SIO_EFAULT;
    (*leaf_counter(p, level))++;
    return 0;
}

static int mt_valid(unsigned mt)
{
    return mt == SIO_MT_UC || mt == SIO_MT_WC || mt == SIO_MT_WT || mt == SIO_MT_WP ||
           mt == SIO_MT_WB;
}

int sio_p2m_map(struct sio_p2m *p, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned perm,
                unsigned mt)
{
    if (!p || size == 0 || ((gpa | hpa | size) & (PG - 1)) || (perm & ~(unsigned)SIO_RWX) ||
        !perm || ((perm & SIO_WRITE) && !(perm & SIO_READ)) || !mt_valid(mt))
        return SIO_EINVAL;
    if (gpa + size < gpa || gpa + size > GPA_LIMIT || hpa + size < hpa ||
        hpa + size > (1ULL << p->maxphyaddr))
        return SIO_ERANGE;
    if ((p->flags & SIO_P2M_VTD_SHARED) && ((perm & SIO_EXEC) || mt != SIO_MT_UC))
        return SIO_ENOTSUP;
    pthread_mutex_lock(&p->lock);
    int rc = range_mapped(p, p->root, LEVELS, 0, gpa, gpa + size);
    if (rc) {
        pthread_mutex_unlock(&p->lock);
        return rc > 0 ? SIO_EEXIST : rc;
    }
    uint64_t done = 0;
    while (done < size) {
        uint64_t g = gpa + done, h = hpa + done, left = size - done;
        unsigned level = 1;
        for (unsigned l = 3; l >= 2; l--) {
            uint64_t sz = sio_ept_level_size(l);
            if ((l == 3 && (p->flags & SIO_P2M_NO_1G)) || (l == 2 && (p->flags & SIO_P2M_NO_2M)))
                continue;
            if (!((g | h) & (sz - 1)) && left >= sz) {
                level = l;
                break;
            }
        }
        rc = set_leaf(p, g, level, make_leaf(p, h, perm, mt, level));
        if (rc)
            break;
        done += sio_ept_level_size(level);
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

static int table_empty(struct sio_p2m *p, uint64_t pa)
{
    for (unsigned i = 0; i < NENT; i++) {
        uint64_t e;
        if (rd(p, pa + 8ULL * i, &e) || e)
            return 0;
    }
    return 1;
}

/* Replaces the large leaf e at `slot` (level 2 or 3) by a table of 512 leaves one level down
 * with the same attributes. */
static int split_leaf(struct sio_p2m *p, uint64_t slot, uint64_t e, unsigned level)
{
    uint64_t page;
    int rc = sio_pgpool_alloc(p->pool, &page);
    if (rc)
        return rc;
    uint64_t attrs = e & ~(sio_mask64(SIO_EPT_ADDR) | SIO_EPT_PS);
    uint64_t sub = sio_ept_level_size(level - 1);
    for (unsigned i = 0; i < NENT; i++) {
        uint64_t ne = attrs | (ent_addr(e) + i * sub);
        if (level - 1 > 1)
            ne |= SIO_EPT_PS;
        if (wr(p, page + 8ULL * i, ne)) {
            sio_pgpool_free(p->pool, page);
            return SIO_EFAULT;
        }
    }
    if (wr(p, slot, make_table(p, page))) {
        sio_pgpool_free(p->pool, page);
        return SIO_EFAULT;
    }
    p->st.table_pages++;
    (*leaf_counter(p, level))--;
    *leaf_counter(p, level - 1) += NENT;
    return 0;
}

/* Unmaps [start, end) within the table at pa; *count += leaves removed. */
static int unmap_range(struct sio_p2m *p, uint64_t pa, unsigned level, uint64_t tbase,
                       uint64_t start, uint64_t end, uint64_t *count)
{
    uint64_t sz = sio_ept_level_size(level);
    for (unsigned i = sio_ept_index(start, level); i < NENT; i++) {
        uint64_t eb = tbase + i * sz, slot = pa + 8ULL * i, e;
        if (eb >= end)
            break;
        if (rd(p, slot, &e))
            return SIO_EFAULT;
        if (!ent_present(e))
            continue;
        uint64_t s = start > eb ? start : eb, t = end < eb + sz ? end : eb + sz;
        if (ent_is_leaf(e, level)) {
            if (s == eb && t == eb + sz) {
                if (wr(p, slot, 0))
                    return SIO_EFAULT;
                (*leaf_counter(p, level))--;
                (*count)++;
                continue;
            }
            int rc = split_leaf(p, slot, e, level);
            if (rc)
                return rc;
            if (rd(p, slot, &e))
                return SIO_EFAULT;
        }
        int rc = unmap_range(p, ent_addr(e), level - 1, eb, s, t, count);
        if (rc)
            return rc;
        if (table_empty(p, ent_addr(e))) {
            if (wr(p, slot, 0))
                return SIO_EFAULT;
            sio_pgpool_free(p->pool, ent_addr(e));
            p->st.table_pages--;
        }
    }
    return 0;
}

int sio_p2m_unmap(struct sio_p2m *p, uint64_t gpa, uint64_t size)
{
    if (!p || size == 0 || ((gpa | size) & (PG - 1)))
        return SIO_EINVAL;
    if (gpa + size < gpa || gpa + size > GPA_LIMIT)
        return SIO_ERANGE;
    pthread_mutex_lock(&p->lock);
    uint64_t count = 0;
    int rc = unmap_range(p, p->root, LEVELS, 0, gpa, gpa + size, &count);
    pthread_mutex_unlock(&p->lock);
    if (rc)
        return rc;
    return count ? 0 : SIO_ENOTMAPPED;
}

static void log_fault(struct sio_p2m *p, const struct sio_ept_fault *f)
{
    if (f->exit_reason == SIO_EXIT_EPT_VIOLATION)
        p->st.violations++;
    else
        p->st.misconfigs++;
    p->log[p->log_next] = *f;
    p->log_next = (p->log_next + 1) % p->log_size;
    if (p->log_count < p->log_size)
        p->log_count++;
}

static uint64_t access_qual(unsigned access)
{
    return access == SIO_WRITE  ? SIO_EPT_QUAL_WRITE
           : access == SIO_EXEC ? SIO_EPT_QUAL_FETCH
                                : SIO_EPT_QUAL_READ;
}

/* SDM EPT misconfiguration: W without R, reserved bits, a reserved memory type in a leaf. */
static int misconfigured(const struct sio_p2m *p, uint64_t e, unsigned level)
{
    if ((e & SIO_EPT_W) && !(e & SIO_EPT_R))
        return 1;
    if (e & p->addr_rsvd)
        return 1;
    if (!ent_is_leaf(e, level))
        return (e & SIO_EPT_RSVD_TABLE) != 0;
    if (level == 3 && (e & SIO_EPT_RSVD_1G))
        return 1;
    if (level == 2 && (e & SIO_EPT_RSVD_2M))
        return 1;
    unsigned mt = (unsigned)sio_get64(e, SIO_EPT_EMT);
    return mt == 2 || mt == 3 || mt == 7;
}

/* The walk, with the lock held. */
static int walk(struct sio_p2m *p, uint64_t gpa, unsigned access, uint64_t *hpa,
                struct sio_ept_fault *f)
{
    p->st.translations++;
    memset(f, 0, sizeof(*f));
    f->gpa = gpa;
    f->access = access;
    uint64_t perms = SIO_EPT_RWX;
    uint64_t table = p->root;
    for (unsigned level = LEVELS; level >= 1; level--) {
        uint64_t e = 0;
        if (gpa >= GPA_LIMIT || rd(p, table + 8ULL * sio_ept_index(gpa, level), &e)) {
            /* Beyond the 4-level reach, or a table in unbacked memory: nothing maps it. */
            e = 0;
        }
        f->level = level;
        f->entry = e;
        if (!ent_present(e)) {
            f->exit_reason = SIO_EXIT_EPT_VIOLATION;
            f->qual = access_qual(access); /* the AND of R/W/X includes this entry: 0 */
            return SIO_EXIT_EPT_VIOLATION;
        }
        if (misconfigured(p, e, level)) {
            f->exit_reason = SIO_EXIT_EPT_MISCONFIG;
            return SIO_EXIT_EPT_MISCONFIG;
        }
        perms &= e & SIO_EPT_RWX;
        if (ent_is_leaf(e, level)) {
            uint64_t need = access == SIO_WRITE  ? SIO_EPT_W
                            : access == SIO_EXEC ? SIO_EPT_X
                                                 : SIO_EPT_R;
            if (!(perms & need)) {
                f->exit_reason = SIO_EXIT_EPT_VIOLATION;
                f->qual = access_qual(access) | (perms << 3);
                return SIO_EXIT_EPT_VIOLATION;
            }
            uint64_t sz = sio_ept_level_size(level);
            *hpa = (ent_addr(e) & ~(sz - 1)) | (gpa & (sz - 1));
            return 0;
        }
        table = ent_addr(e);
    }
    return SIO_EXIT_EPT_VIOLATION; /* not reached: level 1 is always a leaf */
}

int sio_p2m_translate(struct sio_p2m *p, uint64_t gpa, unsigned access, uint64_t *hpa,
                      struct sio_ept_fault *fault)
{
    struct sio_ept_fault f;
    uint64_t h = 0;
    if (access != SIO_READ && access != SIO_WRITE && access != SIO_EXEC)
        return SIO_EINVAL;
    pthread_mutex_lock(&p->lock);
    int rc = walk(p, gpa, access, &h, &f);
    if (rc)
        log_fault(p, &f);
    pthread_mutex_unlock(&p->lock);
    if (rc && fault)
        *fault = f;
    if (!rc && hpa)
        *hpa = h;
    return rc;
}

static int guest_copy(struct sio_p2m *p, uint64_t gpa, void *rbuf, const void *wbuf, size_t len,
                      struct sio_ept_fault *fault)
{
    size_t done = 0;
    while (done < len) {
        uint64_t g = gpa + done;
        size_t chunk = (size_t)(PG - (g & (PG - 1)));
        if (chunk > len - done)
            chunk = len - done;
        uint64_t h;
        int rc = sio_p2m_translate(p, g, wbuf ? SIO_WRITE : SIO_READ, &h, fault);
        if (rc)
            return rc;
        int m = wbuf ? sio_mem_write(p->mem, h, (const uint8_t *)wbuf + done, chunk)
                     : sio_mem_read(p->mem, h, (uint8_t *)rbuf + done, chunk);
        if (m)
            return SIO_EFAULT;
        done += chunk;
    }
    return 0;
}

int sio_p2m_read(struct sio_p2m *p, uint64_t gpa, void *buf, size_t len,
                 struct sio_ept_fault *fault)
{
    return guest_copy(p, gpa, buf, NULL, len, fault);
}

int sio_p2m_write(struct sio_p2m *p, uint64_t gpa, const void *buf, size_t len,
                  struct sio_ept_fault *fault)
{
    return guest_copy(p, gpa, NULL, buf, len, fault);
}

uint64_t sio_p2m_eptp(const struct sio_p2m *p)
{
    uint64_t v = p->root & sio_mask64(SIO_EPTP_ADDR);
    v = sio_set64(v, SIO_EPTP_MT, SIO_MT_WB);
    v = sio_set64(v, SIO_EPTP_PWL, LEVELS - 1);
    return v;
}

uint64_t sio_p2m_root(const struct sio_p2m *p)
{
    return p->root;
}

unsigned sio_p2m_flags(const struct sio_p2m *p)
{
    return p->flags;
}

void sio_p2m_get_stats(struct sio_p2m *p, struct sio_p2m_stats *out)
{
    pthread_mutex_lock(&p->lock);
    *out = p->st;
    pthread_mutex_unlock(&p->lock);
}

unsigned sio_p2m_faults(struct sio_p2m *p, struct sio_ept_fault *out, unsigned max)
{
    pthread_mutex_lock(&p->lock);
    unsigned n = p->log_count < max ? p->log_count : max;
    unsigned first = (p->log_next + p->log_size - n) % p->log_size;
    for (unsigned i = 0; i < n; i++)
        out[i] = p->log[(first + i) % p->log_size];
    pthread_mutex_unlock(&p->lock);
    return n;
}

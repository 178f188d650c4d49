/* Intel EPT (extended page table) formats: the hypervisor's P2M is written in them.
 *
 * Source: Intel SDM Vol. 3C, "EPT translation mechanism" (the EPT paging-structure entry
 * tables, the EPTP field, "EPT misconfigurations", "EPT violations" and the exit
 * qualification for EPT violations). Cited below as "SDM EPT". Entries are 64-bit little-
 * endian words handled only through the bits.h helpers.
 *
 * Sharing a P2M with VT-d (VT-d 2): a legacy second-level entry shares R (bit 0), W (bit 1),
 * PS (bit 7) and the address field 51:12 with EPT, but its bits 6:2 are reserved (Linux checks
 * them; the EPT X bit 2, memory type 5:3 and IPAT 6 live there). A table that a VT-d unit also
 * walks must therefore be written without X, EMT and IPAT: see SIO_EPT_VTD_SAFE_MASK. */
#ifndef SIO_HV_EPT_H
#define SIO_HV_EPT_H

#include <softiommu/bits.h>
#include <softiommu/vtd_regs.h>

#include <stdint.h>

/* ---- paging-structure entries (SDM EPT) ---------------------------------------------------- */
#define SIO_EPT_R    (1ULL << 0) /* read access */
#define SIO_EPT_W    (1ULL << 1) /* write access */
#define SIO_EPT_X    (1ULL << 2) /* execute access (supervisor-mode with MBEC) */
#define SIO_EPT_RWX  (SIO_EPT_R | SIO_EPT_W | SIO_EPT_X)
#define SIO_EPT_EMT  SIO_F(5, 3)  /* leaf: EPT memory type */
#define SIO_EPT_IPAT (1ULL << 6)  /* leaf: ignore guest PAT */
#define SIO_EPT_PS   (1ULL << 7)  /* PDPTE/PDE: 1 = maps a 1 GiB / 2 MiB page */
#define SIO_EPT_A    (1ULL << 8)  /* accessed (only with EPTP.AD) */
#define SIO_EPT_D    (1ULL << 9)  /* dirty, leaf (only with EPTP.AD) */
#define SIO_EPT_UX   (1ULL << 10) /* user-mode execute (only with MBEC) */
#define SIO_EPT_ADDR SIO_F(51, 12)
#define SIO_EPT_SVE  (1ULL << 63) /* leaf: suppress #VE */

/* Reserved bits that do not depend on MAXPHYADDR (SDM EPT). A non-leaf entry (PML4E, or a
 * PDPTE/PDE that references a table) has 7:3 reserved (bit 7 being PS=0 in PDPTE/PDE, and
 * reserved in a PML4E). A 1 GiB leaf has 29:12 reserved, a 2 MiB leaf 20:12. A PTE has none
 * below bit 51 (its bit 7 is ignored). */
#define SIO_EPT_RSVD_TABLE 0x00000000000000F8ULL /* 7:3 */
#define SIO_EPT_RSVD_1G    0x000000003FFFF000ULL /* 29:12 */
#define SIO_EPT_RSVD_2M    0x00000000001FF000ULL /* 20:12 */

/* EPT memory types (SDM "memory types"): EMT values 2, 3 and 7 are reserved and make a leaf
 * misconfigured. */
enum {
    SIO_EPT_MT_UC = 0,
    SIO_EPT_MT_WC = 1,
    SIO_EPT_MT_WT = 4,
    SIO_EPT_MT_WP = 5,
    SIO_EPT_MT_WB = 6,
};

/* The bits a shared EPT/VT-d table may hold (VT-d 2 + SDM EPT): R, W, PS (only where both
 * formats define it), the address. Everything else is left zero so that neither the CPU nor
 * the IOMMU sees a reserved bit set. */
#define SIO_EPT_VTD_SAFE_MASK (SIO_EPT_R | SIO_EPT_W | SIO_EPT_PS | sio_mask64(SIO_EPT_ADDR))
_Static_assert(SIO_EPT_R == SIO_VTD_SL_R && SIO_EPT_W == SIO_VTD_SL_W &&
                   SIO_EPT_PS == SIO_VTD_SL_PS,
               "EPT and VT-d second-level entries agree on R, W and PS");

/* ---- EPTP (SDM EPT, "extended-page-table pointer") ---------------------------------------- */
#define SIO_EPTP_MT   SIO_F(2, 0)  /* memory type of the paging structures: UC (0) or WB (6) */
#define SIO_EPTP_PWL  SIO_F(5, 3)  /* page-walk length - 1: 3 = 4 levels */
#define SIO_EPTP_AD   SIO_F(6, 6)  /* enable accessed/dirty flags */
#define SIO_EPTP_SSS  SIO_F(7, 7)  /* supervisor shadow stack */
#define SIO_EPTP_RSVD SIO_F(11, 8) /* reserved */
#define SIO_EPTP_ADDR SIO_F(51, 12)

/* ---- VM exits (SDM "basic exit reasons") -------------------------------------------------- */
enum {
    SIO_EXIT_EPT_VIOLATION = 48,
    SIO_EXIT_EPT_MISCONFIG = 49,
};

/* Exit qualification for EPT violations (SDM EPT). Bits 5:3 are the AND, over every entry the
 * walk used, of that entry's R/W/X bits: all zero when the walk met a not-present entry. */
#define SIO_EPT_QUAL_READ       (1ULL << 0) /* caused by a data read */
#define SIO_EPT_QUAL_WRITE      (1ULL << 1) /* caused by a data write */
#define SIO_EPT_QUAL_FETCH      (1ULL << 2) /* caused by an instruction fetch */
#define SIO_EPT_QUAL_READABLE   (1ULL << 3)
#define SIO_EPT_QUAL_WRITABLE   (1ULL << 4)
#define SIO_EPT_QUAL_EXECUTABLE (1ULL << 5)
#define SIO_EPT_QUAL_GLA_VALID  (1ULL << 7)

/* Level n (1 = PT .. 4 = PML4) indexes GPA bits [12+9(n-1)+8 : 12+9(n-1)]: the same
 * arithmetic as the VT-d second level. */
static inline unsigned sio_ept_index(uint64_t gpa, unsigned level)
{
    return (unsigned)((gpa >> (12 + 9 * (level - 1))) & 0x1ff);
}
static inline uint64_t sio_ept_level_size(unsigned level)
{
    return 1ULL << (12 + 9 * (level - 1));
}

#endif

/* softiommu/vtd_regs.h: Intel VT-d register offsets, register fields and in-memory formats.
 *
 * Everything here is a named constant or a small inline helper over the bits.h field helpers;
 * section numbers refer to the project's VT-d digest (shared/spec/vtd.md, "VT-d N").
 * Fields are given as (hi, lo) bit pairs: SIO_VTD_CAP_MGAW is 21:16, used as
 * sio_get64(cap, SIO_VTD_CAP_MGAW). The model (hw/vtd) and the driver (os) both use these
 * names, and nothing else, for hardware bits. */
#ifndef SOFTIOMMU_VTD_REGS_H
#define SOFTIOMMU_VTD_REGS_H

#include <softiommu/bits.h>

#include <stdint.h>

/* A field as "hi, lo" for sio_get64/sio_set64/sio_get128/sio_set128. */
#define SIO_F(hi, lo) hi, lo

/* ---- VT-d 1: register offsets ------------------------------------------------------------- */
#define SIO_VTD_REG_VER      0x000 /* 32 */
#define SIO_VTD_REG_CAP      0x008 /* 64 */
#define SIO_VTD_REG_ECAP     0x010 /* 64 */
#define SIO_VTD_REG_GCMD     0x018 /* 32, write only (reads undefined) */
#define SIO_VTD_REG_GSTS     0x01C /* 32, RO */
#define SIO_VTD_REG_RTADDR   0x020 /* 64 */
#define SIO_VTD_REG_CCMD     0x028 /* 64 */
#define SIO_VTD_REG_FSTS     0x034 /* 32 */
#define SIO_VTD_REG_FECTL    0x038 /* 32 */
#define SIO_VTD_REG_FEDATA   0x03C /* 32 */
#define SIO_VTD_REG_FEADDR   0x040 /* 32 */
#define SIO_VTD_REG_FEUADDR  0x044 /* 32 */
#define SIO_VTD_REG_AFLOG    0x058 /* 64 */
#define SIO_VTD_REG_PMEN     0x064 /* 32 */
#define SIO_VTD_REG_PLMBASE  0x068 /* 32 */
#define SIO_VTD_REG_PLMLIMIT 0x06C /* 32 */
#define SIO_VTD_REG_PHMBASE  0x070 /* 64 */
#define SIO_VTD_REG_PHMLIMIT 0x078 /* 64 */
#define SIO_VTD_REG_IQH      0x080 /* 64, RO */
#define SIO_VTD_REG_IQT      0x088 /* 64 */
#define SIO_VTD_REG_IQA      0x090 /* 64 */
#define SIO_VTD_REG_ICS      0x09C /* 32 */
#define SIO_VTD_REG_IECTL    0x0A0 /* 32 */
#define SIO_VTD_REG_IEDATA   0x0A4 /* 32 */
#define SIO_VTD_REG_IEADDR   0x0A8 /* 32 */
#define SIO_VTD_REG_IEUADDR  0x0AC /* 32 */
#define SIO_VTD_REG_IQERCD   0x0B0 /* 64 */
#define SIO_VTD_REG_IRTA     0x0B8 /* 64 */
#define SIO_VTD_REG_PQH      0x0C0
#define SIO_VTD_REG_PQT      0x0C8
#define SIO_VTD_REG_PQA      0x0D0
#define SIO_VTD_REG_PRS      0x0DC
/* IVA/IOTLB at IRO*16 and IRO*16+8; fault records at FRO*16 + 16*i (VT-d 1). */
#define SIO_VTD_IVA_OFF(iro)     ((uint64_t)(iro)*16)
#define SIO_VTD_IOTLB_OFF(iro)   ((uint64_t)(iro)*16 + 8)
#define SIO_VTD_FRCD_OFF(fro, i) ((uint64_t)(fro)*16 + 16 * (uint64_t)(i))

/* ---- VER ---------------------------------------------------------------------------------- */
#define SIO_VTD_VER_MAJOR SIO_F(7, 4)
#define SIO_VTD_VER_MINOR SIO_F(3, 0)

/* ---- CAP (VT-d 1) ------------------------------------------------------------------------- */
#define SIO_VTD_CAP_ND      SIO_F(2, 0) /* domains = 2^(4 + 2*ND) */
#define SIO_VTD_CAP_AFL     SIO_F(3, 3)
#define SIO_VTD_CAP_RWBF    SIO_F(4, 4)
#define SIO_VTD_CAP_PLMR    SIO_F(5, 5)
#define SIO_VTD_CAP_PHMR    SIO_F(6, 6)
#define SIO_VTD_CAP_CM      SIO_F(7, 7)
#define SIO_VTD_CAP_SAGAW   SIO_F(12, 8)  /* bit (8 + AW) set: AW supported */
#define SIO_VTD_CAP_MGAW    SIO_F(21, 16) /* width - 1 */
#define SIO_VTD_CAP_ZLR     SIO_F(22, 22)
#define SIO_VTD_CAP_FRO     SIO_F(33, 24) /* offset / 16 */
#define SIO_VTD_CAP_SLLPS   SIO_F(37, 34) /* bit 0: 2 MiB, bit 1: 1 GiB */
#define SIO_VTD_CAP_PSI     SIO_F(39, 39)
#define SIO_VTD_CAP_NFR     SIO_F(47, 40) /* records - 1 */
#define SIO_VTD_CAP_MAMV    SIO_F(53, 48)
#define SIO_VTD_CAP_DWD     SIO_F(54, 54)
#define SIO_VTD_CAP_DRD     SIO_F(55, 55)
#define SIO_VTD_CAP_FL1GP   SIO_F(56, 56)
#define SIO_VTD_CAP_PI      SIO_F(59, 59)
#define SIO_VTD_CAP_FL5LP   SIO_F(60, 60)
#define SIO_VTD_CAP_ECMDS   SIO_F(61, 61)
#define SIO_VTD_CAP_ESIRTPS SIO_F(62, 62)
#define SIO_VTD_CAP_ESRTPS  SIO_F(63, 63)
#define SIO_VTD_SLLPS_2M    0x1
#define SIO_VTD_SLLPS_1G    0x2

/* ---- ECAP (VT-d 1) ------------------------------------------------------------------------ */
#define SIO_VTD_ECAP_C    SIO_F(0, 0)
#define SIO_VTD_ECAP_QI   SIO_F(1, 1)
#define SIO_VTD_ECAP_DT   SIO_F(2, 2)
#define SIO_VTD_ECAP_IR   SIO_F(3, 3)
#define SIO_VTD_ECAP_EIM  SIO_F(4, 4)
#define SIO_VTD_ECAP_PT   SIO_F(6, 6)
#define SIO_VTD_ECAP_SC   SIO_F(7, 7)
#define SIO_VTD_ECAP_IRO  SIO_F(17, 8) /* offset / 16 */
#define SIO_VTD_ECAP_MHMV SIO_F(23, 20)
#define SIO_VTD_ECAP_DIT  SIO_F(41, 41)
#define SIO_VTD_ECAP_PDS  SIO_F(42, 42)
#define SIO_VTD_ECAP_SMTS SIO_F(43, 43)

/* ---- GCMD / GSTS (VT-d 1): same bit positions ---------------------------------------------- */
#define SIO_VTD_GCMD_TE    (1u << 31)
#define SIO_VTD_GCMD_SRTP  (1u << 30)
#define SIO_VTD_GCMD_SFL   (1u << 29)
#define SIO_VTD_GCMD_EAFL  (1u << 28)
#define SIO_VTD_GCMD_WBF   (1u << 27)
#define SIO_VTD_GCMD_QIE   (1u << 26)
#define SIO_VTD_GCMD_IRE   (1u << 25)
#define SIO_VTD_GCMD_SIRTP (1u << 24)
#define SIO_VTD_GCMD_CFI   (1u << 23)
#define SIO_VTD_GSTS_TES   (1u << 31)
#define SIO_VTD_GSTS_RTPS  (1u << 30)
#define SIO_VTD_GSTS_FLS   (1u << 29)
#define SIO_VTD_GSTS_AFLS  (1u << 28)
#define SIO_VTD_GSTS_WBFS  (1u << 27)
#define SIO_VTD_GSTS_QIES  (1u << 26)
#define SIO_VTD_GSTS_IRES  (1u << 25)
#define SIO_VTD_GSTS_IRTPS (1u << 24)
#define SIO_VTD_GSTS_CFIS  (1u << 23)
/* Software's "GSTS & mask | bit" idiom drops the one-shot bits 30, 29, 27, 24. */
#define SIO_VTD_GSTS_ONESHOT_MASK 0x96FFFFFFu

/* ---- RTADDR ------------------------------------------------------------------------------- */
#define SIO_VTD_RTADDR_TTM  SIO_F(11, 10)
#define SIO_VTD_RTADDR_ADDR SIO_F(63, 12)

/* ---- CCMD --------------------------------------------------------------------------------- */
#define SIO_VTD_CCMD_DID     SIO_F(15, 0)
#define SIO_VTD_CCMD_SID     SIO_F(31, 16)
#define SIO_VTD_CCMD_FM      SIO_F(33, 32)
#define SIO_VTD_CCMD_CAIG    SIO_F(60, 59)
#define SIO_VTD_CCMD_CIRG    SIO_F(62, 61)
#define SIO_VTD_CCMD_ICC     SIO_F(63, 63)
#define SIO_VTD_CCMD_ICC_BIT (1ULL << 63)
enum { SIO_VTD_CTX_GLOBAL = 1, SIO_VTD_CTX_DOMAIN = 2, SIO_VTD_CTX_DEVICE = 3 };

/* ---- IVA / IOTLB register ----------------------------------------------------------------- */
#define SIO_VTD_IVA_AM        SIO_F(5, 0)
#define SIO_VTD_IVA_IH        SIO_F(6, 6)
#define SIO_VTD_IVA_ADDR      SIO_F(63, 12)
#define SIO_VTD_IOTLB_DID     SIO_F(47, 32)
#define SIO_VTD_IOTLB_DW      SIO_F(48, 48)
#define SIO_VTD_IOTLB_DR      SIO_F(49, 49)
#define SIO_VTD_IOTLB_IAIG    SIO_F(58, 57)
#define SIO_VTD_IOTLB_IIRG    SIO_F(61, 60)
#define SIO_VTD_IOTLB_IVT     SIO_F(63, 63)
#define SIO_VTD_IOTLB_IVT_BIT (1ULL << 63)
enum { SIO_VTD_IOTLB_GLOBAL = 1, SIO_VTD_IOTLB_DOMAIN = 2, SIO_VTD_IOTLB_PAGE = 3 };

/* ---- FSTS / FECTL (VT-d 1) ---------------------------------------------------------------- */
#define SIO_VTD_FSTS_PFO (1u << 0)
#define SIO_VTD_FSTS_PPF (1u << 1)
#define SIO_VTD_FSTS_AFO (1u << 2)
#define SIO_VTD_FSTS_APF (1u << 3)
#define SIO_VTD_FSTS_IQE (1u << 4)
#define SIO_VTD_FSTS_ICE (1u << 5)
#define SIO_VTD_FSTS_ITE (1u << 6)
#define SIO_VTD_FSTS_PRO (1u << 7)
#define SIO_VTD_FSTS_FRI SIO_F(15, 8)
#define SIO_VTD_FECTL_IM (1u << 31)
#define SIO_VTD_FECTL_IP (1u << 30)

/* ---- PMEN (VT-d 1): protected memory regions ---------------------------------------------- */
#define SIO_VTD_PMEN_EPM (1u << 31) /* enable protected memory */
#define SIO_VTD_PMEN_PRS (1u << 0)  /* protected region status (RO) */

/* ---- Fault recording register (128-bit, VT-d 1) ------------------------------------------- */
#define SIO_VTD_FRCD_FI    SIO_F(63, 12)
#define SIO_VTD_FRCD_IRIDX SIO_F(63, 48) /* interrupt-remapping faults: the IRTE index */
#define SIO_VTD_FRCD_SID   SIO_F(79, 64)
#define SIO_VTD_FRCD_T2    SIO_F(92, 92)
#define SIO_VTD_FRCD_PRIV  SIO_F(93, 93)
#define SIO_VTD_FRCD_EXE   SIO_F(94, 94)
#define SIO_VTD_FRCD_PP    SIO_F(95, 95)
#define SIO_VTD_FRCD_FR    SIO_F(103, 96)
#define SIO_VTD_FRCD_PV    SIO_F(123, 104)
#define SIO_VTD_FRCD_AT    SIO_F(125, 124)
#define SIO_VTD_FRCD_T1    SIO_F(126, 126) /* legacy "T": 0 write, 1 read */
#define SIO_VTD_FRCD_F     SIO_F(127, 127)

/* ---- Invalidation queue registers (VT-d 1, 5) --------------------------------------------- */
#define SIO_VTD_IQ_OFFSET     SIO_F(18, 4) /* IQH/IQT byte offset field */
#define SIO_VTD_IQA_QS        SIO_F(2, 0)
#define SIO_VTD_IQA_DW        SIO_F(11, 11)
#define SIO_VTD_IQA_ADDR      SIO_F(63, 12)
#define SIO_VTD_ICS_IWC       (1u << 0)
#define SIO_VTD_IECTL_IM      (1u << 31)
#define SIO_VTD_IECTL_IP      (1u << 30)
#define SIO_VTD_IQERCD_IQEI   SIO_F(3, 0)
#define SIO_VTD_IQERCD_ITESID SIO_F(47, 32)
#define SIO_VTD_IQERCD_ICESID SIO_F(63, 48)
#define SIO_VTD_IQA_RW        0xFFFFFFFFFFFFF807ULL /* 63:12 base, 11 DW, 2:0 QS */
#define SIO_VTD_IQ_OFFSET_RW  0x000000000007FFF0ULL /* IQH/IQT 18:4 */
enum sio_vtd_iqei {
    SIO_VTD_IQEI_NONE = 0,
    SIO_VTD_IQEI_BAD_TAIL = 1,
    SIO_VTD_IQEI_FETCH = 2,
    SIO_VTD_IQEI_BAD_TYPE = 3,
    SIO_VTD_IQEI_RSVD = 4,
    SIO_VTD_IQEI_BAD_DW = 5,
    SIO_VTD_IQEI_TAIL_ALIGN = 6,
    SIO_VTD_IQEI_BAD_TTM = 7,
};

/* ---- IRTA (VT-d 1, 6) --------------------------------------------------------------------- */
#define SIO_VTD_IRTA_S    SIO_F(3, 0) /* 2^(S+1) entries */
#define SIO_VTD_IRTA_EIME SIO_F(11, 11)
#define SIO_VTD_IRTA_ADDR SIO_F(63, 12)
#define SIO_VTD_IRTA_RSVD 0x00000000000007F0ULL /* 10:4 */

/* ---- VT-d 2: root and context entries (128-bit) ------------------------------------------- */
#define SIO_VTD_ROOT_P      SIO_F(0, 0)
#define SIO_VTD_ROOT_CTP    SIO_F(63, 12)
#define SIO_VTD_CTX_P       SIO_F(0, 0)
#define SIO_VTD_CTX_FPD     SIO_F(1, 1)
#define SIO_VTD_CTX_TT      SIO_F(3, 2)
#define SIO_VTD_CTX_SLPTPTR SIO_F(63, 12)
#define SIO_VTD_CTX_AW      SIO_F(66, 64)
#define SIO_VTD_CTX_AVAIL   SIO_F(70, 67)
#define SIO_VTD_CTX_DID     SIO_F(87, 72)
enum { SIO_VTD_TT_SLPT = 0, SIO_VTD_TT_SLPT_DEVTLB = 1, SIO_VTD_TT_PASSTHROUGH = 2 };
/* Reserved bits: root lo 11:1, hi 63:0; context lo 11:4, hi bit 71 (7 of hi) and 127:88. */
#define SIO_VTD_ROOT_RSVD_LO 0x0000000000000FFEULL
#define SIO_VTD_CTX_RSVD_LO  0x0000000000000FF0ULL
#define SIO_VTD_CTX_RSVD_HI  0xFFFFFFFFFF000080ULL

/* AW value <-> levels and address width (VT-d 2). */
static inline unsigned sio_vtd_aw_levels(unsigned aw)
{
    return aw + 2;
}
static inline unsigned sio_vtd_aw_bits(unsigned aw)
{
    return 30 + 9 * aw;
}

/* ---- VT-d 2: second-level paging entry (64-bit) ------------------------------------------- */
#define SIO_VTD_SL_R    (1ULL << 0)
#define SIO_VTD_SL_W    (1ULL << 1)
#define SIO_VTD_SL_PS   (1ULL << 7)
#define SIO_VTD_SL_SNP  (1ULL << 11)
#define SIO_VTD_SL_TM   (1ULL << 62)
#define SIO_VTD_SL_ADDR SIO_F(51, 12)
/* Level n (1 = PT .. 5 = PML5) indexes IOVA bits [12+9(n-1)+8 : 12+9(n-1)]. */
static inline unsigned sio_vtd_sl_index(uint64_t iova, unsigned level)
{
    return (unsigned)((iova >> (12 + 9 * (level - 1))) & 0x1ff);
}
/* Bytes mapped by one entry at level n: 4 KiB, 2 MiB, 1 GiB, ... */
static inline uint64_t sio_vtd_level_size(unsigned level)
{
    return 1ULL << (12 + 9 * (level - 1));
}

/* ---- VT-d 4: fault reasons ---------------------------------------------------------------- */
#define SIO_VTD_FAULT_REASONS(X)                                                                   \
    X(0x01, ROOT_NP, "Present bit in root entry is clear")                                         \
    X(0x02, CTX_NP, "Present bit in context entry is clear")                                       \
    X(0x03, CTX_INVALID, "Invalid context entry")                                                  \
    X(0x04, ADDR_BEYOND, "Access beyond MGAW")                                                     \
    X(0x05, NO_WRITE, "PTE Write access is not set")                                               \
    X(0x06, NO_READ, "PTE Read access is not set")                                                 \
    X(0x07, SL_FETCH, "Next page table ptr is invalid")                                            \
    X(0x08, ROOT_FETCH, "Root table address invalid")                                              \
    X(0x09, CTX_FETCH, "Context table ptr is invalid")                                             \
    X(0x0A, ROOT_RSVD, "non-zero reserved fields in RTP")                                          \
    X(0x0B, CTX_RSVD, "non-zero reserved fields in CTP")                                           \
    X(0x0C, SL_RSVD, "non-zero reserved fields in PTE")                                            \
    X(0x0D, BLOCKED, "PCE for translation request specifies blocking")                             \
    X(0x20, IR_REQ_RSVD, "Detected reserved fields in the decoded interrupt-remapped request")     \
    X(0x21, IR_INDEX, "Interrupt index exceeded the interrupt-remapping table size")               \
    X(0x22, IR_NP, "Present field in the IRTE entry is clear")                                     \
    X(0x23, IR_FETCH, "Error accessing interrupt-remapping table pointed by IRTA_REG")             \
    X(0x24, IR_RSVD, "Detected reserved fields in the IRTE entry")                                 \
    X(0x25, IR_COMPAT, "Blocked a compatibility format interrupt request")                         \
    X(0x26, IR_SID, "Blocked an interrupt request due to source-id verification failure")          \
    X(0x27, IR_PID_FETCH, "Error accessing the posted-interrupt descriptor pointed by the IRTE")   \
    X(0x28, IR_PID_RSVD, "Detected reserved fields in the posted-interrupt descriptor")

enum sio_vtd_fault_reason {
#define SIO_VTD_FR_ENUM_(code, name, str) SIO_VTD_FR_##name = code,
    SIO_VTD_FAULT_REASONS(SIO_VTD_FR_ENUM_)
#undef SIO_VTD_FR_ENUM_
};

/* ---- VT-d 5: invalidation descriptors (128-bit; type = qw0[11:9]<<4 | qw0[3:0]) ----------- */
#define SIO_VTD_DESC_TYPE_LO SIO_F(3, 0)
#define SIO_VTD_DESC_TYPE_HI SIO_F(11, 9)
enum {
    SIO_VTD_DESC_CC = 1,
    SIO_VTD_DESC_IOTLB = 2,
    SIO_VTD_DESC_DEVTLB = 3,
    SIO_VTD_DESC_IEC = 4,
    SIO_VTD_DESC_WAIT = 5,
    SIO_VTD_DESC_PIOTLB = 6,
    SIO_VTD_DESC_PC = 7,
    SIO_VTD_DESC_PDEVTLB = 8,
};
/* type 1 context-cache */
#define SIO_VTD_CC_G   SIO_F(5, 4)
#define SIO_VTD_CC_DID SIO_F(31, 16)
#define SIO_VTD_CC_SID SIO_F(47, 32)
#define SIO_VTD_CC_FM  SIO_F(49, 48)
/* type 2 IOTLB: qw0, then qw1 like the IVA register */
#define SIO_VTD_IOTLBD_G    SIO_F(5, 4)
#define SIO_VTD_IOTLBD_DW   SIO_F(6, 6)
#define SIO_VTD_IOTLBD_DR   SIO_F(7, 7)
#define SIO_VTD_IOTLBD_DID  SIO_F(31, 16)
#define SIO_VTD_IOTLBD_AM   SIO_F(5, 0)
#define SIO_VTD_IOTLBD_IH   SIO_F(6, 6)
#define SIO_VTD_IOTLBD_ADDR SIO_F(63, 12)
/* type 3 device-TLB */
#define SIO_VTD_DEVTLB_PFSID_LO SIO_F(15, 12)
#define SIO_VTD_DEVTLB_MIP      SIO_F(20, 16)
#define SIO_VTD_DEVTLB_SID      SIO_F(47, 32)
#define SIO_VTD_DEVTLB_PFSID_HI SIO_F(63, 52)
#define SIO_VTD_DEVTLB_S        SIO_F(0, 0)
#define SIO_VTD_DEVTLB_ADDR     SIO_F(63, 12)
/* type 4 interrupt entry cache */
#define SIO_VTD_IEC_G    SIO_F(4, 4) /* 0 global, 1 index-selective */
#define SIO_VTD_IEC_IM   SIO_F(31, 27)
#define SIO_VTD_IEC_IIDX SIO_F(47, 32)
/* Reserved bits of the 128-bit descriptors (legacy mode; the type field excluded). */
#define SIO_VTD_CC_RSVD_LO     0xFFFC00000000F1C0ULL /* 63:50, 15:12, 8:6; hi: all */
#define SIO_VTD_IOTLBD_RSVD_LO 0xFFFFFFFF0000F100ULL /* 63:32, 15:12, 8 */
#define SIO_VTD_IOTLBD_RSVD_HI 0x0000000000000F80ULL /* 11:7 */
#define SIO_VTD_DEVTLB_RSVD_LO 0x000F0000FFE001F0ULL /* 51:48, 31:21, 8:4 */
#define SIO_VTD_DEVTLB_RSVD_HI 0x0000000000000FFEULL /* 11:1 */
#define SIO_VTD_IEC_RSVD_LO    0xFFFF000007FFF1E0ULL /* 63:48, 26:12, 8:5; hi: all */
#define SIO_VTD_WAIT_RSVD_LO   0x00000000FFFFF100ULL /* 31:12, 8 (and PD without ECAP.PDS) */
#define SIO_VTD_WAIT_RSVD_HI   0x0000000000000003ULL /* 1:0 */
/* type 5 wait */
#define SIO_VTD_WAIT_IF    SIO_F(4, 4)
#define SIO_VTD_WAIT_SW    SIO_F(5, 5)
#define SIO_VTD_WAIT_FN    SIO_F(6, 6)
#define SIO_VTD_WAIT_PD    SIO_F(7, 7)
#define SIO_VTD_WAIT_SDATA SIO_F(63, 32)
#define SIO_VTD_WAIT_SADDR SIO_F(63, 2)

/* ---- VT-d 6: interrupt remapping ---------------------------------------------------------- */
/* Remappable MSI address (bits 31:20 = 0xFEE). */
#define SIO_VTD_MSI_ADDR_BASE 0xFEE00000u
#define SIO_VTD_MSI_HANDLE_LO SIO_F(19, 5)
#define SIO_VTD_MSI_FORMAT    SIO_F(4, 4)
#define SIO_VTD_MSI_SHV       SIO_F(3, 3)
#define SIO_VTD_MSI_HANDLE_HI SIO_F(2, 2)
#define SIO_VTD_MSI_SUBHANDLE SIO_F(15, 0) /* data, with SHV=1 */
#define SIO_VTD_MSI_DATA_RSVD 0xFFFF0000u  /* data 31:16 */
/* Compatibility-format MSI (address bit 4 = 0): address 19:12 destination, 3 RH, 2 DM; data
 * 7:0 vector, 10:8 delivery mode, 15 trigger mode. */
#define SIO_VTD_MSI_DEST     SIO_F(19, 12)
#define SIO_VTD_MSI_RH       SIO_F(3, 3)
#define SIO_VTD_MSI_DM       SIO_F(2, 2)
#define SIO_VTD_MSI_D_VECTOR SIO_F(7, 0)
#define SIO_VTD_MSI_D_DLM    SIO_F(10, 8)
#define SIO_VTD_MSI_D_TM     SIO_F(15, 15)
/* IRTE, remapped format (IM=0). */
#define SIO_VTD_IRTE_P       SIO_F(0, 0)
#define SIO_VTD_IRTE_FPD     SIO_F(1, 1)
#define SIO_VTD_IRTE_DM      SIO_F(2, 2)
#define SIO_VTD_IRTE_RH      SIO_F(3, 3)
#define SIO_VTD_IRTE_TM      SIO_F(4, 4)
#define SIO_VTD_IRTE_DLM     SIO_F(7, 5)
#define SIO_VTD_IRTE_AVAIL   SIO_F(11, 8)
#define SIO_VTD_IRTE_IM      SIO_F(15, 15)
#define SIO_VTD_IRTE_V       SIO_F(23, 16)
#define SIO_VTD_IRTE_DST     SIO_F(63, 32)
#define SIO_VTD_IRTE_SID     SIO_F(79, 64)
#define SIO_VTD_IRTE_SQ      SIO_F(81, 80)
#define SIO_VTD_IRTE_SVT     SIO_F(83, 82)
#define SIO_VTD_IRTE_RSVD_LO 0x00000000FF007000ULL /* 14:12, 31:24 */
#define SIO_VTD_IRTE_RSVD_HI 0xFFFFFFFFFFF00000ULL /* 127:84 */
/* With EIME=0 (xAPIC) only DST[15:8] holds the APIC id; the other DST bits are reserved. */
#define SIO_VTD_IRTE_DST_XAPIC  SIO_F(47, 40)
#define SIO_VTD_IRTE_RSVD_XAPIC 0xFFFF00FF00000000ULL
/* IRTE, posted format (IM=1). */
#define SIO_VTD_PIRTE_URG     SIO_F(14, 14)
#define SIO_VTD_PIRTE_VV      SIO_F(23, 16)
#define SIO_VTD_PIRTE_PDA_LO  SIO_F(63, 38)         /* PDA[31:6] */
#define SIO_VTD_PIRTE_PDA_HI  SIO_F(127, 96)        /* PDA[63:32] */
#define SIO_VTD_PIRTE_RSVD_LO 0x0000003FFF0030FCULL /* 7:2, 13:12, 37:24 */
#define SIO_VTD_PIRTE_RSVD_HI 0x00000000FFF00000ULL /* 95:84 */
/* Posted-interrupt descriptor (64 bytes, 64-byte aligned): PIR in qwords 0-3, then the control
 * qword 4 (bits 319:256) with ON 256, SN 257, NV 279:272, NDST 319:288. */
#define SIO_VTD_PID_SIZE     64
#define SIO_VTD_PID_CTL_QW   4
#define SIO_VTD_PID_ON       SIO_F(0, 0) /* of the control qword */
#define SIO_VTD_PID_SN       SIO_F(1, 1)
#define SIO_VTD_PID_NV       SIO_F(23, 16)
#define SIO_VTD_PID_NDST     SIO_F(63, 32)
#define SIO_VTD_PID_CTL_RSVD 0x00000000FF00FFFCULL /* 287:280, 271:258; qwords 5-7 too */
/* Remappable IOAPIC RTE. */
#define SIO_VTD_RTE_VECTOR   SIO_F(7, 0)
#define SIO_VTD_RTE_INDEX_HI SIO_F(11, 11)
#define SIO_VTD_RTE_POLARITY SIO_F(13, 13)
#define SIO_VTD_RTE_TRIGGER  SIO_F(15, 15)
#define SIO_VTD_RTE_MASK     SIO_F(16, 16)
#define SIO_VTD_RTE_FORMAT   SIO_F(48, 48)
#define SIO_VTD_RTE_INDEX_LO SIO_F(63, 49)
enum { SIO_VTD_SVT_NONE = 0, SIO_VTD_SVT_SID = 1, SIO_VTD_SVT_BUS = 2 };

#endif

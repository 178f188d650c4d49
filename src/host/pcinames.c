/* Names for PCI devices the way lspci prints them, and the VT-d chipsets we know by the PCI id of
 * their host bridge (00:00.0). */
#include <softiommu/err.h>
#include <softiommu/host.h>

#include <stddef.h>

/* lspci's class and subclass names (pciutils' pci.ids "C" section). */
static const struct {
    uint16_t cls; /* class << 8 | subclass; subclass 0xFF: any (class fallback) */
    const char *name;
} classes[] = {
    {0x0000, "Non-VGA unclassified device"},
    {0x0001, "VGA compatible unclassified device"},
    {0x0100, "SCSI storage controller"},
    {0x0101, "IDE interface"},
    {0x0104, "RAID bus controller"},
    {0x0105, "ATA controller"},
    {0x0106, "SATA controller"},
    {0x0107, "Serial Attached SCSI controller"},
    {0x0108, "Non-Volatile memory controller"},
    {0x01FF, "Mass storage controller"},
    {0x0200, "Ethernet controller"},
    {0x0207, "Infiniband controller"},
    {0x02FF, "Network controller"},
    {0x0300, "VGA compatible controller"},
    {0x0301, "XGA compatible controller"},
    {0x0302, "3D controller"},
    {0x03FF, "Display controller"},
    {0x0400, "Multimedia video controller"},
    {0x0401, "Multimedia audio controller"},
    {0x0403, "Audio device"},
    {0x04FF, "Multimedia controller"},
    {0x0500, "RAM memory"},
    {0x05FF, "Memory controller"},
    {0x0600, "Host bridge"},
    {0x0601, "ISA bridge"},
    {0x0604, "PCI bridge"},
    {0x0609, "Semi-transparent PCI-to-PCI bridge"},
    {0x06FF, "Bridge"},
    {0x0700, "Serial controller"},
    {0x07FF, "Communication controller"},
    {0x0800, "PIC"},
    {0x0805, "SD Host controller"},
    {0x0806, "IOMMU"},
    {0x0880, "System peripheral"},
    {0x08FF, "Generic system peripheral"},
    {0x09FF, "Input device controller"},
    {0x0BFF, "Processor"},
    {0x0C03, "USB controller"},
    {0x0C05, "SMBus"},
    {0x0C80, "Serial bus controller"},
    {0x0CFF, "Serial bus controller"},
    {0x0DFF, "Wireless controller"},
    {0x10FF, "Encryption controller"},
    {0x11FF, "Signal processing controller"},
    {0x12FF, "Processing accelerators"},
    {0x13FF, "Non-Essential Instrumentation"},
};

const char *sio_host_class_name(uint32_t class_code)
{
    unsigned cs = (class_code >> 8) & 0xffff, c = cs >> 8;
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
        if (classes[i].cls == cs)
            return classes[i].name;
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
        if (classes[i].cls == (c << 8 | 0xFF))
            return classes[i].name;
    return c == 0xFF ? "Unassigned class" : "Class";
}

/* Vendor names as pci.ids spells them, for the vendors a passthrough host usually has. */
static const struct {
    uint16_t id;
    const char *name;
} vendors[] = {
    {0x8086, "Intel Corporation"},
    {0x1022, "Advanced Micro Devices, Inc. [AMD]"},
    {0x1002, "Advanced Micro Devices, Inc. [AMD/ATI]"},
    {0x10de, "NVIDIA Corporation"},
    {0x10ec, "Realtek Semiconductor Co., Ltd."},
    {0x14e4, "Broadcom Inc. and subsidiaries"},
    {0x15b3, "Mellanox Technologies"},
    {0x144d, "Samsung Electronics Co Ltd"},
    {0x1af4, "Red Hat, Inc."},
    {0x1b36, "Red Hat, Inc."},
    {0x1b21, "ASMedia Technology Inc."},
    {0x1912, "Renesas Technology Corp."},
    {0x168c, "Qualcomm Atheros"},
    {0x1d0f, "Amazon.com, Inc."},
    {0x15ad, "VMware"},
    {0x1000, "Broadcom / LSI"},
    {0x19a2, "Emulex Corporation"},
    {0x1077, "QLogic Corp."},
    {0x8087, "Intel Corp."},
};

const char *sio_host_vendor_name(uint16_t vendor)
{
    for (size_t i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++)
        if (vendors[i].id == vendor)
            return vendors[i].name;
    return NULL;
}

/* The VT-d chipsets of seed 000 (Q35, X38, X48, Q45, 5400), by the device id of their memory
 * controller hub at 00:00.0. Sources: Linux drivers/char/agp/intel-agp.h (PCI_DEVICE_ID_INTEL_
 * Q35_HB 0x29B0, Q45_HB 0x2E10), drivers/edac/x38_edac.c (X38_HB 0x29E0; the X48 is a faster
 * bin of the same MCH and reports the same id: pci.ids "82X38/X48 Express DRAM Controller"),
 * pci.ids 8086:4000/4001/4003 "5400 Chipset Memory Controller Hub" (NVIDIA's open kernel
 * modules call 8086:4003 the "SkullTrail (aka 5400)" host bridge). All five implement VT-d 1.x;
 * on all of them it is a firmware-setup option that boards shipped switched off, and many X38/X48
 * boards never exposed it at all. */
static const struct {
    uint16_t device;
    const char *name;
    const char *note;
} chipsets[] = {
    {0x29B0, "Intel Q35 Express (82Q35, Bearlake)",
     "VT-d 1.0 on vPro boards; shipped disabled in firmware setup"},
    {0x29E0, "Intel X38/X48 Express (Bearlake-X)",
     "the chipset has VT-d but few boards' firmware exposed it; shipped disabled"},
    {0x2E10, "Intel Q45 Express (82Q45, Eaglelake)",
     "VT-d on vPro boards; shipped disabled in firmware setup"},
    {0x4000, "Intel 5400 (Seaburg)",
     "workstation/server VT-d; a firmware-setup option, "
     "usually shipped disabled"},
    {0x4001, "Intel 5400 (Seaburg)",
     "workstation/server VT-d; a firmware-setup option, "
     "usually shipped disabled"},
    {0x4003, "Intel 5400 (Seaburg)",
     "workstation/server VT-d; a firmware-setup option, "
     "usually shipped disabled"},
};

int sio_host_chipset(uint16_t vendor, uint16_t device, const char **name, int *vtd,
                     const char **note)
{
    if (vendor != 0x8086)
        return SIO_ENOENT;
    for (size_t i = 0; i < sizeof(chipsets) / sizeof(chipsets[0]); i++) {
        if (chipsets[i].device != device)
            continue;
        if (name)
            *name = chipsets[i].name;
        if (vtd)
            *vtd = 1;
        if (note)
            *note = chipsets[i].note;
        return 0;
    }
    return SIO_ENOENT;
}

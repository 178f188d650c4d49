#!/usr/bin/env python3
"""Regenerates the fixture trees `softiommu host --root` is tested against.

Each tree is what a Linux machine shows under / : /proc/cpuinfo, /proc/cmdline,
/proc/sys/kernel/osrelease, /boot/config-<release>, /sys/firmware/acpi/tables/{DMAR,IVRS}
(real tables from ../../../../shared/data/acpi), /sys/class/iommu, /sys/kernel/iommu_groups and
/sys/bus/pci/devices/<bdf>/{vendor,device,class,driver}. Run from anywhere; it rewrites the trees
beside it."""
import os, shutil

HERE = os.path.dirname(os.path.abspath(__file__))
ACPI = os.path.normpath(os.path.join(HERE, '..', '..', '..', '..', 'shared', 'data', 'acpi'))


def put(root, rel, text):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, 'w') as f:
        f.write(text)


def mkdir(root, rel):
    # git keeps no empty directories: a dot file keeps them (softiommu skips dot files)
    os.makedirs(os.path.join(root, rel), exist_ok=True)
    put(root, os.path.join(rel, '.keep'), '')


def cpuinfo(vendor, model, flags, ncpu=2):
    out = []
    for i in range(ncpu):
        out.append(f"processor\t: {i}\nvendor_id\t: {vendor}\ncpu family\t: 6\n"
                   f"model name\t: {model}\nflags\t\t: {flags}\n\n")
    return ''.join(out)


INTEL_FLAGS = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush " \
              "dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx lm constant_tsc pni monitor " \
              "ds_cpl vmx smx est tm2 ssse3 cx16 xtpr sse4_1 lahf_lm"
AMD_FLAGS = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush " \
            "mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc " \
            "pni pclmulqdq monitor ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx " \
            "f16c rdrand lahf_lm cmp_legacy svm extapic cr8_legacy abm sse4a npt nrip_save"


def pci(root, bdf, vendor, device, cls, driver=None):
    base = f"sys/bus/pci/devices/{bdf}"
    put(root, base + "/vendor", f"0x{vendor:04x}\n")
    put(root, base + "/device", f"0x{device:04x}\n")
    put(root, base + "/class", f"0x{cls:06x}\n")
    if driver:
        link = os.path.join(root, base, "driver")
        os.symlink(f"../../../../bus/pci/drivers/{driver}", link)


def groups(root, spec, gtype):
    """spec: list of (group id, [(bdf, vendor, device, class, driver)])"""
    mkdir(root, "sys/kernel/iommu_groups")
    for gid, devs in spec:
        g = f"sys/kernel/iommu_groups/{gid}"
        put(root, g + "/type", gtype + "\n")
        for bdf, v, d, c, drv in devs:
            # real sysfs has symlinks into /sys/devices; a plain entry is enough here
            put(root, f"{g}/devices/{bdf}", "")
            pci(root, bdf, v, d, c, drv)


def units(root, names):
    mkdir(root, "sys/class/iommu")
    for n in names:
        mkdir(root, f"sys/class/iommu/{n}")


def table(root, sig, name):
    p = os.path.join(root, "sys/firmware/acpi/tables", sig)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    shutil.copyfile(os.path.join(ACPI, name + ".dat"), p)


def acpi_dir(root):
    put(root, "sys/firmware/acpi/tables/APIC", "not decoded\n")
    put(root, "sys/firmware/acpi/tables/FACP", "not decoded\n")


def tree(name):
    root = os.path.join(HERE, name)
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    return root


# 1. No IOMMU: a desktop whose chipset (8086:29c0, G33/P35 class) is not a VT-d one we know,
#    no DMAR/IVRS, no units, no groups.
r = tree("no_iommu")
put(r, "proc/cpuinfo", cpuinfo("GenuineIntel", "Intel(R) Core(TM)2 Duo CPU     E8400  @ 3.00GHz",
                               INTEL_FLAGS))
put(r, "proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=/dev/sda1 ro quiet\n")
put(r, "proc/sys/kernel/osrelease", "6.1.0-18-amd64\n")
acpi_dir(r)
units(r, [])
mkdir(r, "sys/kernel/iommu_groups")
pci(r, "0000:00:00.0", 0x8086, 0x29c0, 0x060000)

# 2. VT-d off in firmware: a Q35 desktop (8086:29b0) with intel_iommu=on but no DMAR table.
r = tree("vtd_off_firmware")
put(r, "proc/cpuinfo", cpuinfo("GenuineIntel", "Intel(R) Core(TM)2 Quad CPU    Q9550  @ 2.83GHz",
                               INTEL_FLAGS))
put(r, "proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=/dev/sda1 ro quiet "
                       "intel_iommu=on\n")
put(r, "proc/sys/kernel/osrelease", "6.1.0-18-amd64\n")
acpi_dir(r)
units(r, [])
mkdir(r, "sys/kernel/iommu_groups")
pci(r, "0000:00:00.0", 0x8086, 0x29b0, 0x060000)

# 3. VT-d on, translated: the HP dc7800 (Q35) with its real DMAR, a Debian-like kernel whose
#    default leaves VT-d off, and intel_iommu=on; groups are DMA-FQ (lazy).
r = tree("vtd_translated")
put(r, "proc/cpuinfo", cpuinfo("GenuineIntel", "Intel(R) Core(TM)2 Duo CPU     E8400  @ 3.00GHz",
                               INTEL_FLAGS))
put(r, "proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=/dev/sda1 ro quiet "
                       "intel_iommu=on\n")
put(r, "proc/sys/kernel/osrelease", "6.1.0-18-amd64\n")
put(r, "boot/config-6.1.0-18-amd64",
    "CONFIG_IOMMU_SUPPORT=y\nCONFIG_INTEL_IOMMU=y\n# CONFIG_INTEL_IOMMU_DEFAULT_ON is not set\n"
    "CONFIG_AMD_IOMMU=y\n# CONFIG_IOMMU_DEFAULT_DMA_STRICT is not set\n"
    "CONFIG_IOMMU_DEFAULT_DMA_LAZY=y\n# CONFIG_IOMMU_DEFAULT_PASSTHROUGH is not set\n")
acpi_dir(r)
table(r, "DMAR", "dmar_hp_compaq_dc7800_bearlake_q35chipset")
units(r, ["dmar0", "dmar1", "dmar2", "dmar3"])
mkdir(r, "sys/module/vfio_pci")
groups(r, [
    (0, [("0000:00:00.0", 0x8086, 0x29b0, 0x060000, None)]),
    (1, [("0000:00:02.0", 0x8086, 0x29b2, 0x030000, "i915"),
         ("0000:00:02.1", 0x8086, 0x29b3, 0x038000, None)]),
    (2, [("0000:00:03.0", 0x8086, 0x29b4, 0x078000, "mei_me")]),
    (3, [("0000:00:19.0", 0x8086, 0x10bd, 0x020000, "e1000e")]),
    (4, [("0000:00:1a.0", 0x8086, 0x2937, 0x0c0300, "uhci_hcd")]),
    (5, [("0000:00:1f.0", 0x8086, 0x2914, 0x060100, "lpc_ich"),
         ("0000:00:1f.2", 0x8086, 0x2922, 0x010601, "ahci")]),
], "DMA-FQ")

# 4. iommu=pt: a Precision T5810 (Haswell-EP) with its real DMAR; groups are identity.
r = tree("iommu_pt")
put(r, "proc/cpuinfo", cpuinfo("GenuineIntel", "Intel(R) Xeon(R) CPU E5-1650 v3 @ 3.50GHz",
                               INTEL_FLAGS, 4))
put(r, "proc/cmdline", "BOOT_IMAGE=/vmlinuz-6.8.0-45-generic root=UUID=0b1c ro quiet splash "
                       "intel_iommu=on iommu=pt\n")
put(r, "proc/sys/kernel/osrelease", "6.8.0-45-generic\n")
acpi_dir(r)
table(r, "DMAR", "dmar_dell_precision_t5810_hswep")
units(r, ["dmar0", "dmar1"])
mkdir(r, "sys/module/vfio_pci")
groups(r, [
    (0, [("0000:00:00.0", 0x8086, 0x2f00, 0x060000, None)]),
    (1, [("0000:00:01.0", 0x8086, 0x2f02, 0x060400, "pcieport")]),
    (2, [("0000:00:14.0", 0x8086, 0x8d31, 0x0c0330, "xhci_hcd")]),
    (3, [("0000:00:19.0", 0x8086, 0x15a0, 0x020000, "e1000e")]),
    (4, [("0000:03:00.0", 0x10de, 0x1c82, 0x030000, "vfio-pci"),
         ("0000:03:00.1", 0x10de, 0x0fb9, 0x040300, "vfio-pci")]),
], "identity")

# 5. AMD-Vi: a Threadripper 3970X (ROG Zenith II) with its real IVRS, four IOMMUs, the common
#    mistake amd_iommu=on, and strict invalidation asked for.
r = tree("amd_vi")
put(r, "proc/cpuinfo", cpuinfo("AuthenticAMD", "AMD Ryzen Threadripper 3970X 32-Core Processor",
                               AMD_FLAGS, 4))
put(r, "proc/cmdline", "BOOT_IMAGE=/vmlinuz-linux root=/dev/nvme0n1p2 rw amd_iommu=on "
                       "iommu.strict=1\n")
put(r, "proc/sys/kernel/osrelease", "6.10.10-arch1-1\n")
acpi_dir(r)
table(r, "IVRS", "ivrs_asus_rog_zenith2_threadripper_4iommu")
units(r, ["ivhd0", "ivhd1", "ivhd2", "ivhd3"])
groups(r, [
    (0, [("0000:00:00.0", 0x1022, 0x1480, 0x060000, None)]),
    (1, [("0000:00:00.2", 0x1022, 0x1481, 0x080600, None)]),
    (2, [("0000:01:00.0", 0x144d, 0xa808, 0x010802, "nvme")]),
    (3, [("0000:21:00.0", 0x10de, 0x2204, 0x030000, "nvidia"),
         ("0000:21:00.1", 0x10de, 0x1aef, 0x040300, "snd_hda_intel")]),
], "DMA")

# 6. Several groups: a two-socket Supermicro X10DAi with its real DMAR; a four-port NIC whose
#    functions share a group (no ACS), a GPU with its audio function, an NVMe drive bound to
#    vfio-pci; pci.ids installed so the names are lspci's.
r = tree("several_groups")
put(r, "proc/cpuinfo", cpuinfo("GenuineIntel", "Intel(R) Xeon(R) CPU E5-2630 v3 @ 2.40GHz",
                               INTEL_FLAGS, 4))
put(r, "proc/cmdline", "BOOT_IMAGE=/vmlinuz-5.14.0-427.el9.x86_64 root=/dev/mapper/rl-root ro "
                       "intel_iommu=on iommu.passthrough=0\n")
put(r, "proc/sys/kernel/osrelease", "5.14.0-427.el9.x86_64\n")
acpi_dir(r)
table(r, "DMAR", "dmar_supermicro_x10dai_2socket")
units(r, ["dmar0", "dmar1"])
mkdir(r, "sys/module/vfio_pci")
put(r, "usr/share/misc/pci.ids",
    "# A few lines in pci.ids format for this fixture.\n"
    "8086  Intel Corporation\n"
    "\t2f00  Xeon E7 v3/Xeon E5 v3/Core i7 DMI2\n"
    "\t1521  I350 Gigabit Network Connection\n"
    "\t\t15d9 1521  I350 Gigabit Network Connection\n"
    "\t8d26  C610/X99 series chipset USB Enhanced Host Controller #1\n"
    "10de  NVIDIA Corporation\n"
    "\t1eb8  TU104GL [Tesla T4]\n"
    "144d  Samsung Electronics Co Ltd\n"
    "\ta808  NVMe SSD Controller SM981/PM981/PM983\n"
    "C 02  Network controller\n"
    "\t00  Ethernet controller\n")
groups(r, [
    (0, [("0000:00:00.0", 0x8086, 0x2f00, 0x060000, None)]),
    (1, [("0000:00:1a.0", 0x8086, 0x8d2d, 0x0c0320, "ehci-pci")]),
    (2, [("0000:00:1d.0", 0x8086, 0x8d26, 0x0c0320, "ehci-pci")]),
    (3, [("0000:00:1f.0", 0x8086, 0x8d44, 0x060100, "lpc_ich"),
         ("0000:00:1f.2", 0x8086, 0x8d02, 0x010601, "ahci"),
         ("0000:00:1f.3", 0x8086, 0x8d22, 0x0c0500, "i801_smbus")]),
    (4, [("0000:02:00.0", 0x8086, 0x1521, 0x020000, "igb"),
         ("0000:02:00.1", 0x8086, 0x1521, 0x020000, "igb"),
         ("0000:02:00.2", 0x8086, 0x1521, 0x020000, "igb"),
         ("0000:02:00.3", 0x8086, 0x1521, 0x020000, "igb")]),
    (5, [("0000:03:00.0", 0x10de, 0x1eb8, 0x030200, "nvidia")]),
    (6, [("0000:81:00.0", 0x144d, 0xa808, 0x010802, "vfio-pci")]),
    (7, [("0000:80:05.0", 0x8086, 0x2f28, 0x088000, None),
         ("0000:80:05.1", 0x8086, 0x2f29, 0x088000, None),
         ("0000:80:05.2", 0x8086, 0x2f2a, 0x088000, None)]),
], "DMA")

# 7. VT-d disabled on the command line.
r = tree("vtd_cmdline_off")
put(r, "proc/cpuinfo", cpuinfo("GenuineIntel", "Intel(R) Core(TM) i5-3320M CPU @ 2.60GHz",
                               INTEL_FLAGS))
put(r, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda3 ro intel_iommu=off quiet\n")
put(r, "proc/sys/kernel/osrelease", "6.1.0-18-amd64\n")
acpi_dir(r)
table(r, "DMAR", "dmar_lenovo_x230_vendor_bios")
units(r, [])
mkdir(r, "sys/kernel/iommu_groups")
pci(r, "0000:00:00.0", 0x8086, 0x0154, 0x060000)

# 8. VT-d left off by the kernel's default (CONFIG_INTEL_IOMMU_DEFAULT_ON is not set).
r = tree("vtd_default_off")
put(r, "proc/cpuinfo", cpuinfo("GenuineIntel", "Intel(R) Core(TM) i5-3320M CPU @ 2.60GHz",
                               INTEL_FLAGS))
put(r, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda3 ro quiet\n")
put(r, "proc/sys/kernel/osrelease", "5.15.0-91-generic\n")
put(r, "boot/config-5.15.0-91-generic",
    "CONFIG_INTEL_IOMMU=y\n# CONFIG_INTEL_IOMMU_DEFAULT_ON is not set\nCONFIG_AMD_IOMMU=y\n"
    "CONFIG_IOMMU_DEFAULT_DMA_LAZY=y\n")
acpi_dir(r)
table(r, "DMAR", "dmar_lenovo_x230_coreboot")
units(r, [])
mkdir(r, "sys/kernel/iommu_groups")
pci(r, "0000:00:00.0", 0x8086, 0x0154, 0x060000)

# 9. A malformed DMAR: the first structure's length is zero.
r = tree("bad_table")
put(r, "proc/cpuinfo", cpuinfo("GenuineIntel", "Intel(R) Core(TM) i7-6700 CPU @ 3.40GHz",
                               INTEL_FLAGS))
put(r, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda3 ro intel_iommu=on\n")
acpi_dir(r)
src = open(os.path.join(ACPI, "dmar_asrock_h170_pro4s_skl_desktop.dat"), "rb").read()
bad = bytearray(src)
bad[50:52] = b"\0\0"
bad[9] = 0
bad[9] = (-sum(bad)) & 0xff
p = os.path.join(r, "sys/firmware/acpi/tables/DMAR")
open(p, "wb").write(bytes(bad))
units(r, [])
mkdir(r, "sys/kernel/iommu_groups")

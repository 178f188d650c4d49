/* Fuzz target: the NIC model driven by arbitrary register writes, descriptor memory and
 * frames. Input is a list of 12-byte operations: op (1), reserved (1), offset/address (2), value
 * (8). op % 4: 0 = BAR0 register write, 1 = 8-byte write to guest memory (address << 4),
 * 2 = a frame of (value % 3000) bytes from the wire, 3 = BAR0 register read. Rings, lengths
 * and buffer addresses are whatever the input says; the device must never touch memory except
 * through its port, and never crash. */
#include <softiommu/bits.h>
#include <softiommu/pcidev.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BAR 0x80000000ULL

static void wire(void *ctx, const void *frame, size_t len)
{
    (void)ctx;
    (void)frame;
    (void)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sio_pmem *pm = sio_pmem_create(1ULL << 20);
    struct sio_pci_topo *t = sio_pci_topo_create(0);
    struct sio_nommu_port np;
    sio_nommu_port_init(&np, sio_pmem_ops(), pm, NULL, NULL);
    struct sio_pci_fn_desc d = sio_nic_desc(0);
    struct sio_pci_fn *fn;
    if (!pm || !t || sio_pci_add(t, 0, 2, 0, &d, &fn))
        abort();
    struct sio_nic *nic = sio_nic_attach(fn, sio_nommu_port(&np), wire, NULL);
    sio_pci_cfg_write(t, 0x10, SIO_PCI_BAR0, (uint32_t)BAR, 4);
    sio_pci_cfg_write(t, 0x10, SIO_PCI_COMMAND, SIO_PCI_CMD_MEM | SIO_PCI_CMD_MASTER, 2);
    sio_pci_cfg_write(t, 0x10, 0x80 + SIO_PCI_MSI_ADDR_LO, 0xFEE00000u, 4);
    sio_pci_cfg_write(t, 0x10, 0x80 + SIO_PCI_MSI_FLAGS, 1, 2);
    struct sio_mem m = {sio_pmem_ops(), pm};
    static uint8_t frame[3000];
    for (unsigned ops = 0; size >= 12 && ops < 256; ops++, data += 12, size -= 12) {
        unsigned off = sio_ld16le(data + 2);
        uint64_t v = sio_ld64le(data + 4);
        uint64_t got;
        switch (data[0] % 4) {
        case 0:
            /* Keep ring sizes small enough that one doorbell stays cheap. */
            if ((off & 0x7FFC) == SIO_NIC_TDLEN || (off & 0x7FFC) == SIO_NIC_RDLEN)
                v %= 1024;
            sio_pci_mmio_write(t, BAR + (off & 0x3FFC), (uint32_t)v, 4);
            break;
        case 1:
            sio_mem_write(&m, ((uint64_t)off << 4) & 0xFFFFF, &v, 8);
            break;
        case 2: {
            size_t len = (size_t)(v % sizeof(frame));
            memset(frame, data[1], len);
            sio_nic_receive(nic, frame, len);
            break;
        }
        default:
            sio_pci_mmio_read(t, BAR + (off & 0x3FFC), 4, &got);
            break;
        }
    }
    struct sio_nic_stats st;
    sio_nic_get_stats(nic, &st);
    sio_nic_destroy(nic);
    sio_pci_topo_destroy(t);
    sio_pmem_destroy(pm);
    return 0;
}

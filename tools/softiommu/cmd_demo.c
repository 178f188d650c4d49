/* softiommu demo: the main job. Until the hypervisor layer lands (issue 5) it says what the
 * story will show. */
#include "cli.h"

#include <string.h>

static const struct option demo_opts[] = {
    {"help", no_argument, NULL, 'h'},
    {"json", no_argument, NULL, 'j'},
    {NULL, 0, NULL, 0},
};

int cli_cmd_demo(int argc, char **argv)
{
    int c;
    while ((c = cli_getopt("demo", argc, argv, "hj", demo_opts)) != -1) {
        if (c == '?')
            return CLI_USAGE;
        if (c == 'h') {
            printf("usage: softiommu demo [--json]\n\n"
                   "Two VMs, a NIC assigned to one of them, and a DMA attack on the other that\n"
                   "the IOMMU stops.\n");
            return CLI_OK;
        }
    }
    if (optind < argc)
        return cli_usage_error("demo", "unexpected argument '%s'", argv[optind]);
    printf("softiommu demo: the hypervisor layer is not built yet. When it is, this will show:\n"
           "  1. two VMs (A: host RAM 0-2 GiB, B: 2-4 GiB) and a NIC assigned to A\n"
           "  2. A's driver receiving and sending packets through the NIC (translations, IOTLB "
           "hit rate)\n"
           "  3. A programming its NIC to DMA into B: blocked, with the Linux-format fault line\n"
           "  4. the same attack with no IOMMU in the path: B's memory corrupted\n"
           "  5. the NIC moved from A to B: A's mappings no longer work\n"
           "  6. iommu=pt: a host-owned device in pass-through, a guest-assigned one "
           "translated\n");
    return CLI_OK;
}

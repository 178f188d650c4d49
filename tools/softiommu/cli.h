/* The softiommu command line: shared helpers for sub-commands. */
#ifndef SIO_CLI_H
#define SIO_CLI_H

#include <getopt.h>
#include <stdio.h>

/* Exit statuses: 0 ok, 1 the command ran and found a problem, 2 usage error. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
};

/* Every sub-command, in --help order. */
#define CLI_COMMANDS(X)                                                                            \
    X(demo, "run the main story: two VMs, an assigned NIC, an attack the IOMMU stops")             \
    X(dmar, "decode an ACPI DMAR or IVRS table as iasl does (and --json)")                         \
    X(host, "is this machine ready for device passthrough? (VT-d/AMD-Vi, kernel, groups)")         \
    X(fault, "decode a raw VT-d fault record (FRCD) as Linux prints it")                           \
    X(bench, "run benchmarks and print ns/op (and --json)")

#define CLI_DECLARE_(name, summary) int cli_cmd_##name(int argc, char **argv);
CLI_COMMANDS(CLI_DECLARE_)
#undef CLI_DECLARE_

/* "softiommu CMD: message" on stderr; returns CLI_USAGE. One line, always. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "softiommu CMD: message" on stderr; returns CLI_FAIL. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Runs getopt_long with silent errors; on an unknown option or missing argument prints the
 * one-line usage error. Returns the option, -1 at the end, or '?' after printing the error. */
int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts);

#endif

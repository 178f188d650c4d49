/* softiommu <command> [options]: the command-line front end. */
#include "cli.h"

#include <softiommu/err.h>

#include <stdarg.h>
#include <string.h>

static const struct cli_command commands[] = {
#define CLI_ROW_(name, summary) {#name, summary, cli_cmd_##name},
    CLI_COMMANDS(CLI_ROW_)
#undef CLI_ROW_
};

static void usage(FILE *out)
{
    fprintf(out, "usage: softiommu <command> [options]\n"
                 "       softiommu --help | --version\n\n"
                 "softiommu is a software IOMMU: an Intel VT-d hardware model, the host software\n"
                 "that programs it, and a hypervisor layer that assigns devices to VMs.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'softiommu <command> --help' for a command's options.\n");
}

static void vreport(const char *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "softiommu%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    return CLI_USAGE;
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    return CLI_FAIL;
}

int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts)
{
    /* A leading ':' makes getopt report a missing argument as ':' rather than '?'. */
    char opts[64];
    snprintf(opts, sizeof(opts), ":%s", shortopts);
    opterr = 0;
    int c = getopt_long(argc, argv, opts, longopts, NULL);
    if (c == '?') {
        if (optopt)
            cli_usage_error(cmd, "unknown option '-%c' (see 'softiommu %s --help')", optopt, cmd);
        else
            cli_usage_error(cmd, "unknown option '%s' (see 'softiommu %s --help')",
                            argv[optind - 1], cmd);
        return '?';
    }
    if (c == ':') {
        cli_usage_error(cmd, "option '%s' needs an argument", argv[optind - 1]);
        return '?';
    }
    return c;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr), CLI_USAGE;
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "-V")) {
        printf("softiommu %s\n", sio_version());
        return CLI_OK;
    }
    if (name[0] == '-')
        return cli_usage_error(NULL, "unknown option '%s' (see 'softiommu --help')", name);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (!strcmp(commands[i].name, name)) {
            optind = 0; /* full getopt reset for the sub-command */
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    return cli_usage_error(NULL, "unknown command '%s' (see 'softiommu --help')", name);
}

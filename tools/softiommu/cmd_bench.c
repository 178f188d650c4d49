/* softiommu bench [--json] [--list] [NAME...]: run named benchmarks (all when none named). */
#include "cli.h"
#include "bench.h"

#include <softiommu/err.h>

#include <json-c/json.h>
#include <string.h>

struct bench_def {
    const char *name;
    const char *desc;
    int (*run)(struct bench_result *r);
};

static const struct bench_def benches[] = {
#define BENCH_ROW_(name, desc) {#name, desc, bench_##name},
    BENCH_LIST(BENCH_ROW_)
#undef BENCH_ROW_
};
#define NBENCH (sizeof(benches) / sizeof(benches[0]))

struct bench_ratio {
    const char *num, *den;
    double limit;
    const char *desc;
};

static const struct bench_ratio ratios[] = {
#define BENCH_RATIO_ROW_(n, d, lim, desc) {#n, #d, lim, desc},
    BENCH_RATIOS(BENCH_RATIO_ROW_)
#undef BENCH_RATIO_ROW_
        {NULL, NULL, 0, NULL}};

static const struct option bench_opts[] = {
    {"help", no_argument, NULL, 'h'},
    {"json", no_argument, NULL, 'j'},
    {"list", no_argument, NULL, 'l'},
    {NULL, 0, NULL, 0},
};

static int find_bench(const char *name)
{
    for (size_t i = 0; i < NBENCH; i++)
        if (!strcmp(benches[i].name, name))
            return (int)i;
    return -1;
}

int cli_cmd_bench(int argc, char **argv)
{
    int json = 0, c;
    while ((c = cli_getopt("bench", argc, argv, "hjl", bench_opts)) != -1) {
        switch (c) {
        case 'h':
            printf("usage: softiommu bench [--json] [--list] [NAME...]\n\n"
                   "Runs the named benchmarks (all when none is named) and prints ns per\n"
                   "operation, then the ratios the project sets targets for.\n"
                   "  --json   print one JSON object: {\"results\":[{\"name\",\"ns_per_op\","
                   "\"ops\"}...],\"ratios\":[...]}\n"
                   "  --list   list the benchmarks\n"
                   "Environment: SIO_BENCH_MS sets the time per measured batch (default 200).\n");
            return CLI_OK;
        case 'j':
            json = 1;
            break;
        case 'l':
            for (size_t i = 0; i < NBENCH; i++)
                printf("%-18s %s\n", benches[i].name, benches[i].desc);
            return CLI_OK;
        default:
            return CLI_USAGE;
        }
    }
    int selected[NBENCH > 0 ? NBENCH : 1];
    memset(selected, 0, sizeof(selected));
    int any = 0;
    for (int i = optind; i < argc; i++) {
        int b = find_bench(argv[i]);
        if (b < 0)
            return cli_usage_error("bench", "unknown benchmark '%s' (see 'softiommu bench --list')",
                                   argv[i]);
        selected[b] = 1;
        any = 1;
    }
    struct bench_result res[NBENCH > 0 ? NBENCH : 1];
    int ran[NBENCH > 0 ? NBENCH : 1];
    memset(res, 0, sizeof(res));
    memset(ran, 0, sizeof(ran));
    int failed = 0;
    if (!json)
        printf("%-22s %14s %14s\n", "benchmark", "ns/op", "ops");
    for (size_t i = 0; i < NBENCH; i++) {
        if (any && !selected[i])
            continue;
        int rc = benches[i].run(&res[i]);
        if (rc) {
            failed = 1;
            fprintf(stderr, "softiommu bench: %s failed: %s\n", benches[i].name, sio_strerror(rc));
            continue;
        }
        ran[i] = 1;
        if (!json) {
            printf("%-22s %14.1f %14llu", benches[i].name, res[i].ns_per_op,
                   (unsigned long long)res[i].ops);
            for (unsigned e = 0; e < res[i].nextra; e++)
                printf("  %s=%.6g", res[i].extra[e].name, res[i].extra[e].value);
            printf("\n");
            fflush(stdout);
        }
    }
    json_object *root = json ? json_object_new_object() : NULL;
    json_object *jres = json ? json_object_new_array() : NULL;
    json_object *jrat = json ? json_object_new_array() : NULL;
    if (json) {
        for (size_t i = 0; i < NBENCH; i++) {
            if (!ran[i])
                continue;
            json_object *o = json_object_new_object();
            json_object_object_add(o, "name", json_object_new_string(benches[i].name));
            json_object_object_add(o, "ns_per_op", json_object_new_double(res[i].ns_per_op));
            json_object_object_add(o, "ops", json_object_new_int64((int64_t)res[i].ops));
            for (unsigned e = 0; e < res[i].nextra; e++)
                json_object_object_add(o, res[i].extra[e].name,
                                       json_object_new_double(res[i].extra[e].value));
            json_object_array_add(jres, o);
        }
    }
    int header = 0;
    for (const struct bench_ratio *q = ratios; q->num; q++) {
        int n = find_bench(q->num), d = find_bench(q->den);
        if (n < 0 || d < 0 || !ran[n] || !ran[d] || res[d].ns_per_op <= 0)
            continue;
        double ratio = res[n].ns_per_op / res[d].ns_per_op;
        int ok = ratio <= q->limit;
        if (json) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "numerator", json_object_new_string(q->num));
            json_object_object_add(o, "denominator", json_object_new_string(q->den));
            json_object_object_add(o, "ratio", json_object_new_double(ratio));
            json_object_object_add(o, "limit", json_object_new_double(q->limit));
            json_object_object_add(o, "met", json_object_new_boolean(ok));
            json_object_array_add(jrat, o);
        } else {
            if (!header++)
                printf("\nratios (target: at most the limit)\n");
            printf("  %-22s / %-22s = %6.3f  (limit %.2f: %s)  %s\n", q->num, q->den, ratio,
                   q->limit, ok ? "met" : "MISSED", q->desc);
        }
    }
    if (json) {
        json_object_object_add(root, "results", jres);
        json_object_object_add(root, "ratios", jrat);
        printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                                JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(root);
    }
    return failed ? CLI_FAIL : CLI_OK;
}

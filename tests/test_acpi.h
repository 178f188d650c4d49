/* What the ACPI table tests share: the shared set of real tables (walking it, loading one),
 * making a table's checksum right again after an edit, and looking for a parse note. */
#ifndef SIO_TEST_ACPI_H
#define SIO_TEST_ACPI_H

#include "test_file.h"
#include "test_util.h"

#include <softiommu/acpi.h>

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#define ACPI_DIR SIO_SHARED_DIR "/data/acpi"

/* ACPI_DIR/NAME.dat: exactly its bytes (malloc'ed), or the test fails. */
static inline uint8_t *test_acpi_load(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.dat", ACPI_DIR, name);
    uint8_t *b = test_read_file(path, len);
    if (!b)
        fail_msg("cannot read %s", path);
    return b;
}

/* The next NAME.dat in dir (opendir(ACPI_DIR)) whose name starts with prefix ("" for every
 * table): NAME in base. 0 when there is none left. */
static inline int test_acpi_next(DIR *dir, const char *prefix, char base[256])
{
    struct dirent *e;
    while ((e = readdir(dir))) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strncmp(e->d_name, prefix, strlen(prefix)) ||
            strcmp(e->d_name + n - 4, ".dat"))
            continue;
        snprintf(base, 256, "%.*s", (int)(n - 4), e->d_name);
        return 1;
    }
    return 0;
}

static inline uint8_t test_acpi_sum(const uint8_t *b, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + b[i]);
    return s;
}

/* Make the table's checksum right again after an edit. */
static inline void test_acpi_fix(uint8_t *b, size_t n)
{
    b[9] = 0;
    b[9] = (uint8_t)(0x100 - test_acpi_sum(b, n));
}

static inline int test_acpi_notes_have(const struct sio_acpi_note *notes, size_t n,
                                       const char *needle)
{
    for (size_t i = 0; i < n; i++)
        if (strstr(notes[i].msg, needle))
            return 1;
    return 0;
}

/* 1 when some note of the parsed record (a struct sio_dmar or sio_ivrs) contains needle. */
#define test_acpi_has_note(rec, needle) test_acpi_notes_have((rec)->notes, (rec)->nnotes, needle)

#endif

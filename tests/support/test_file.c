#include "test_file.h"

#include <stdio.h>
#include <stdlib.h>

/* The file's bytes in a buffer of their size + extra; the extra bytes are zero. */
static void *read_whole(const char *path, size_t *len, size_t extra)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *b = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        n = ftell(f);
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        size_t size = (size_t)n + extra;
        b = calloc(size ? size : 1, 1); /* an empty file is a buffer too */
    }
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b)
        *len = (size_t)n;
    return b;
}

uint8_t *test_read_file(const char *path, size_t *len)
{
    return read_whole(path, len, 0);
}

char *test_read_text(const char *path, size_t *len)
{
    return read_whole(path, len, 1);
}

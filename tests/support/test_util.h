/* Shared helpers for the cmocka tests. */
#ifndef SIO_TEST_UTIL_H
#define SIO_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Captures library log lines so tests can assert on what was printed. */
struct log_capture {
    char lines[64][512];
    unsigned n;
};
void log_capture_start(struct log_capture *lc);
void log_capture_stop(void);
/* 1 when some captured line contains needle. */
int log_capture_has(const struct log_capture *lc, const char *needle);

#endif

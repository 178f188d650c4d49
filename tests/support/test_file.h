/* Reading a whole file in a test. */
#ifndef SIO_TEST_FILE_H
#define SIO_TEST_FILE_H

#include <stddef.h>
#include <stdint.h>

/* The file at path, malloc'ed, exactly its *len bytes (so that ASan catches a read past them);
 * NULL when it cannot be opened or read. */
uint8_t *test_read_file(const char *path, size_t *len);
/* The same with a NUL after the *len bytes: a text file as a string. */
char *test_read_text(const char *path, size_t *len);

#endif

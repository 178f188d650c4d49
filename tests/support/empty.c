/* Keeps the test-support library non-empty. */
typedef int sio_test_support_empty_unit;

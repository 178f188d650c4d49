/* softiommu/err.h: the error model.
 *
 * Every fallible function returns 0 or a negative enum sio_err. The codes and their strings
 * come from the one list below (X-macro), so a code can never lack its string. Faults are
 * not errors: a DMA fault is data and carries its VT-d fault reason code instead. */
#ifndef SOFTIOMMU_ERR_H
#define SOFTIOMMU_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, "string"). Values are negative and never reused. */
#define SIO_ERROR_LIST(X)                                                                          \
    X(SIO_OK, 0, "success")                                                                        \
    X(SIO_EINVAL, -1, "invalid argument")                                                          \
    X(SIO_ENOMEM, -2, "out of memory")                                                             \
    X(SIO_ERANGE, -3, "value out of range")                                                        \
    X(SIO_ENOENT, -4, "no such object")                                                            \
    X(SIO_EEXIST, -5, "already exists")                                                            \
    X(SIO_EBUSY, -6, "busy: object in use")                                                        \
    X(SIO_ENOSPC, -7, "no space left (table area or address space exhausted)")                     \
    X(SIO_ENOTSUP, -8, "not supported by this unit or configuration")                              \
    X(SIO_ETIMEDOUT, -9, "hardware did not complete in time")                                      \
    X(SIO_EIO, -10, "hardware reported an error")                                                  \
    X(SIO_EFAULT, -11, "memory access outside backed memory")                                      \
    X(SIO_EPARSE, -12, "malformed input")                                                          \
    X(SIO_EPERM, -13, "operation not permitted")                                                   \
    X(SIO_EMASK, -14, "DMA mask cannot be satisfied")                                              \
    X(SIO_EPOOL, -15, "bounce-buffer pool exhausted")                                              \
    X(SIO_ENOTMAPPED, -16, "address was never mapped")                                             \
    X(SIO_EDOUBLE, -17, "address already unmapped (double unmap)")                                 \
    X(SIO_EDMAFAULT, -18, "DMA request faulted in the IOMMU")                                      \
    X(SIO_ESTATE, -19, "wrong state for this operation")                                           \
    X(SIO_ELEAK, -20, "mappings leaked at teardown")                                               \
    X(SIO_EOWNED, -21, "device is owned by another domain or VM")                                  \
    X(SIO_EGROUP, -22, "device shares an IOMMU group and cannot be split")                         \
    X(SIO_ETRUNC, -23, "input truncated")                                                          \
    X(SIO_ECHECKSUM, -24, "checksum mismatch")

enum sio_err {
#define SIO_ERR_ENUM_(name, val, str) name = (val),
    SIO_ERROR_LIST(SIO_ERR_ENUM_)
#undef SIO_ERR_ENUM_
};

/* The string for an error code; accepts the code or its negation. Never NULL. */
const char *sio_strerror(int err);
/* The code's identifier, e.g. "SIO_EBUSY". Never NULL. */
const char *sio_errname(int err);

/* The library's version string, e.g. "0.1.0". */
const char *sio_version(void);

#ifdef __cplusplus
}
#endif
#endif

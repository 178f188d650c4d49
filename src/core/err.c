#include <softiommu/err.h>

#ifndef SIO_VERSION
#define SIO_VERSION "unknown"
#endif

struct err_entry {
    int code;
    const char *name;
    const char *str;
};

static const struct err_entry err_table[] = {
#define SIO_ERR_ROW_(name, val, str) {val, #name, str},
    SIO_ERROR_LIST(SIO_ERR_ROW_)
#undef SIO_ERR_ROW_
};

static const struct err_entry *err_find(int err)
{
    if (err > 0)
        err = -err;
    for (unsigned i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
        if (err_table[i].code == err)
            return &err_table[i];
    return 0;
}

const char *sio_strerror(int err)
{
    const struct err_entry *e = err_find(err);
    return e ? e->str : "unknown error";
}

const char *sio_errname(int err)
{
    const struct err_entry *e = err_find(err);
    return e ? e->name : "SIO_E?";
}

const char *sio_version(void)
{
    return SIO_VERSION;
}

#include <softiommu/pci.h>
#include <softiommu/err.h>

#include <stdio.h>
#include <string.h>

/* Reads exactly `digits` hex digits (no fewer, no more) from *p; advances *p. */
static int hex_field(const char **p, unsigned min_digits, unsigned max_digits, unsigned *out)
{
    unsigned v = 0, n = 0;
    const char *s = *p;
    while (n < max_digits) {
        char c = s[n];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            break;
        v = v * 16 + d;
        n++;
    }
    if (n < min_digits)
        return -1;
    *p = s + n;
    *out = v;
    return 0;
}

int sio_bdf_parse(const char *text, struct sio_bdf *out, char *err, size_t errlen)
{
    const char *why = NULL;
    unsigned seg = 0, bus, dev, fn;
    const char *p = text;
    if (!text || !*text) {
        why = "empty";
        goto bad;
    }
    /* Count colons to decide between the two forms. */
    unsigned colons = 0;
    for (const char *q = text; *q; q++)
        colons += (*q == ':');
    if (colons == 2) {
        if (hex_field(&p, 1, 4, &seg) || *p++ != ':') {
            why = "segment must be 1-4 hex digits";
            goto bad;
        }
    } else if (colons != 1) {
        why = "expected [DDDD:]BB:DD.F";
        goto bad;
    }
    if (hex_field(&p, 1, 2, &bus) || *p++ != ':') {
        why = "bus must be 1-2 hex digits";
        goto bad;
    }
    if (hex_field(&p, 1, 2, &dev) || *p++ != '.') {
        why = "device must be 1-2 hex digits followed by '.'";
        goto bad;
    }
    if (dev > 0x1f) {
        why = "device number above 1f";
        goto bad;
    }
    if (hex_field(&p, 1, 1, &fn) || fn > 7) {
        why = "function must be 0-7";
        goto bad;
    }
    if (*p) {
        why = "trailing characters";
        goto bad;
    }
    out->seg = (uint16_t)seg;
    out->bus = (uint8_t)bus;
    out->dev = (uint8_t)dev;
    out->fn = (uint8_t)fn;
    return 0;
bad:
    if (err && errlen)
        snprintf(err, errlen, "invalid BDF '%s': %s", text ? text : "(null)", why);
    return SIO_EPARSE;
}

char *sio_bdf_format(struct sio_bdf b, char *buf)
{
    snprintf(buf, SIO_BDF_STRLEN, "%04x:%02x:%02x.%u", b.seg, b.bus, b.dev & 0x1f, b.fn & 7u);
    return buf;
}

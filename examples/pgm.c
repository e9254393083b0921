/* pgm.c — see pgm.h. The whole file is read into memory, then parsed with a
 * cursor that knows its line, so that every complaint can say where. */
#include "pgm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cursor {
    const unsigned char *p, *end;
    int line;
    const char *path;
    char *err;
    size_t err_size;
} cursor;

static int fail(cursor *c, const char *fmt, ...)
{
    int n = snprintf(c->err, c->err_size, "%s: ", c->path);
    if (n < 0 || (size_t)n >= c->err_size)
        return 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + n, c->err_size - (size_t)n, fmt, ap);
    va_end(ap);
    return 1;
}

static int is_space(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Skips whitespace and '#' comments (to the end of their line). */
static void skip_space(cursor *c)
{
    while (c->p < c->end) {
        if (*c->p == '#') {
            while (c->p < c->end && *c->p != '\n')
                c->p++;
        } else if (is_space(*c->p)) {
            if (*c->p == '\n')
                c->line++;
            c->p++;
        } else {
            break;
        }
    }
}

/* Reads an unsigned decimal number after optional whitespace / comments.
 * what names the field in messages. Returns nonzero on failure. */
static int read_uint(cursor *c, const char *what, long limit, long *out)
{
    skip_space(c);
    if (c->p >= c->end)
        return fail(c, "unexpected end of file while reading the %s (line %d)", what, c->line);
    if (*c->p < '0' || *c->p > '9') {
        unsigned char ch = *c->p;
        if (ch >= 0x20 && ch < 0x7f)
            return fail(c, "line %d: expected the %s (a decimal number), found '%c'", c->line,
                        what, ch);
        return fail(c, "line %d: expected the %s (a decimal number), found byte 0x%02x", c->line,
                    what, ch);
    }
    long v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        v = v * 10 + (*c->p - '0');
        if (v > limit)
            return fail(c, "line %d: the %s is larger than %ld", c->line, what, limit);
        c->p++;
    }
    if (c->p < c->end && !is_space(*c->p) && *c->p != '#') {
        unsigned char ch = *c->p;
        return fail(c, "line %d: the %s is followed by '%c' (0x%02x), not whitespace", c->line,
                    what, ch >= 0x20 && ch < 0x7f ? ch : '?', ch);
    }
    *out = v;
    return 0;
}

static int read_file(const char *path, unsigned char **data, size_t *size, char *err,
                     size_t err_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
        return 1;
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    /* The largest legal file: a 16-bit P2 image of the largest size, with
     * six characters per sample, plus a generous header. */
    const size_t max_bytes = (size_t)PGM_MAX_SIDE * PGM_MAX_SIDE * 6 + (1 << 20);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        if (cap >= max_bytes) {
            free(buf);
            fclose(f);
            snprintf(err, err_size, "%s: larger than any %dx%d PGM image can be", path,
                     PGM_MAX_SIDE, PGM_MAX_SIDE);
            return 1;
        }
        unsigned char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    if (!buf) {
        fclose(f);
        snprintf(err, err_size, "%s: out of memory", path);
        return 1;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        snprintf(err, err_size, "%s: read error", path);
        return 1;
    }
    fclose(f);
    *data = buf;
    *size = n;
    return 0;
}

int pgm_read(const char *path, pgm_image *img, char *err, size_t err_size)
{
    memset(img, 0, sizeof *img);
    unsigned char *data = NULL;
    size_t size = 0;
    if (read_file(path, &data, &size, err, err_size))
        return 1;
    cursor c = {data, data + size, 1, path, err, err_size};
    int rc = 1;
    unsigned short *pix = NULL;

    if (size < 2 || data[0] != 'P' || (data[1] != '2' && data[1] != '5')) {
        if (size >= 2 && data[0] == 'P' && data[1] >= '1' && data[1] <= '7')
            fail(&c, "a Netpbm 'P%c' file (%s), not a graymap: only P2 (ASCII) and P5 "
                     "(binary) PGM are read",
                 data[1],
                 data[1] == '1' || data[1] == '4'   ? "bitmap"
                 : data[1] == '3' || data[1] == '6' ? "pixmap"
                                                    : "PAM");
        else
            fail(&c, "not a PGM file: it must start with \"P2\" or \"P5\"");
        goto out;
    }
    int binary = data[1] == '5';
    c.p += 2;
    if (c.p < c.end && !is_space(*c.p) && *c.p != '#') {
        fail(&c, "line 1: the magic number \"P%c\" is not followed by whitespace", data[1]);
        goto out;
    }
    long w, h, maxval;
    if (read_uint(&c, "width", PGM_MAX_SIDE, &w) || read_uint(&c, "height", PGM_MAX_SIDE, &h) ||
        read_uint(&c, "maxval", 65535, &maxval))
        goto out;
    if (w < 1 || h < 1) {
        fail(&c, "the image is %ldx%ld: width and height must be at least 1", w, h);
        goto out;
    }
    if (maxval < 1) {
        fail(&c, "maxval is 0: it must be 1..65535");
        goto out;
    }
    size_t n = (size_t)w * (size_t)h;
    pix = malloc(n * sizeof *pix);
    if (!pix) {
        fail(&c, "out of memory for %ldx%ld pixels", w, h);
        goto out;
    }
    if (binary) {
        /* Exactly one whitespace character separates maxval from the raster. */
        if (c.p >= c.end) {
            fail(&c, "truncated: no pixel data after the header");
            goto out;
        }
        if (!is_space(*c.p)) {
            fail(&c, "line %d: maxval must be followed by a single whitespace character "
                     "before the binary pixel data", c.line);
            goto out;
        }
        c.p++;
        size_t bps = maxval > 255 ? 2 : 1;
        size_t need = n * bps, have = (size_t)(c.end - c.p);
        if (have < need) {
            fail(&c, "truncated: a %ldx%ld image with maxval %ld needs %zu bytes of pixel data, "
                     "the file has %zu",
                 w, h, maxval, need, have);
            goto out;
        }
        if (have > need) {
            fail(&c, "%zu byte%s after the pixel data of the %ldx%ld image (only one image "
                     "per file is read)",
                 have - need, have - need == 1 ? "" : "s", w, h);
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            unsigned v = bps == 2 ? (unsigned)c.p[2 * i] << 8 | c.p[2 * i + 1] : c.p[i];
            if (v > (unsigned)maxval) {
                fail(&c, "pixel %zu (row %zu, column %zu) is %u, above maxval %ld", i,
                     i / (size_t)w, i % (size_t)w, v, maxval);
                goto out;
            }
            pix[i] = (unsigned short)v;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            long v = 0;
            skip_space(&c);
            if (c.p >= c.end) {
                fail(&c, "truncated: %zu of the %zu pixels of the %ldx%ld image are missing",
                     n - i, n, w, h);
                goto out;
            }
            int bad = read_uint(&c, "pixel value", 65535, &v);
            if (!bad && v > maxval)
                bad = fail(&c, "line %d: the pixel value %ld is above maxval %ld", c.line, v,
                           maxval);
            if (bad) {
                size_t len = strnlen(err, err_size);
                if (len + 1 < err_size)
                    snprintf(err + len, err_size - len, " (pixel %zu of %zu: row %zu, column %zu)",
                             i + 1, n, i / (size_t)w, i % (size_t)w);
                goto out;
            }
            pix[i] = (unsigned short)v;
        }
        skip_space(&c);
        if (c.p < c.end) {
            fail(&c, "line %d: more data after the %zu pixels of the %ldx%ld image (only one "
                     "image per file is read)",
                 c.line, n, w, h);
            goto out;
        }
    }
    img->width = (int)w;
    img->height = (int)h;
    img->maxval = (int)maxval;
    img->binary = binary;
    img->pixels = pix;
    pix = NULL;
    rc = 0;
out:
    free(pix);
    free(data);
    return rc;
}

int pgm_write(const char *path, const unsigned short *pixels, int width, int height, int maxval,
              int binary, char *err, size_t err_size)
{
    if (width < 1 || height < 1 || maxval < 1 || maxval > 65535) {
        snprintf(err, err_size, "%s: cannot write a %dx%d image with maxval %d", path, width,
                 height, maxval);
        return 1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, err_size, "%s: cannot create: %s", path, strerror(errno));
        return 1;
    }
    size_t n = (size_t)width * (size_t)height;
    int ok = fprintf(f, "P%c\n%d %d\n%d\n", binary ? '5' : '2', width, height, maxval) > 0;
    for (size_t i = 0; ok && i < n; i++) {
        unsigned v = pixels[i] > maxval ? (unsigned)maxval : pixels[i];
        if (!binary)
            ok = fprintf(f, "%u%c", v, (i + 1) % (size_t)width ? ' ' : '\n') > 0;
        else if (maxval > 255)
            ok = fputc((int)(v >> 8), f) != EOF && fputc((int)(v & 255), f) != EOF;
        else
            ok = fputc((int)v, f) != EOF;
    }
    if (fclose(f) != 0)
        ok = 0;
    if (!ok) {
        snprintf(err, err_size, "%s: write error", path);
        remove(path);
        return 1;
    }
    return 0;
}

void pgm_free(pgm_image *img)
{
    free(img->pixels);
    img->pixels = NULL;
}

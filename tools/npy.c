/* NumPy .npy reader / writer (see npy.h). The header is a Python dict literal,
 * e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }, parsed
 * here by a small tokenizer that accepts exactly what numpy writes (and the
 * harmless variations: double quotes, any key order, spacing, trailing
 * commas). */
#include "npy.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char MAGIC[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

static int fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t n, const char *fmt, ...)
{
    if (err && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void npy_free(npy_array *a)
{
    if (a) {
        free(a->data);
        free(a->halves);
        a->data = NULL;
        a->halves = NULL;
    }
}

void npy_shape_string(const int64_t *shape, int ndim, char *buf, size_t size)
{
    size_t used = 0;
    if (size == 0)
        return;
    buf[0] = '\0';
    used += (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? ", " : "",
                                 (long long)shape[i]);
    if (used < size)
        snprintf(buf + used, size - used, ndim == 1 ? ",)" : ")");
}

/* ---- header parsing ------------------------------------------------------ */

typedef struct hparser {
    const char *s, *end;
} hparser;

static void skip_ws(hparser *p)
{
    while (p->s < p->end && isspace((unsigned char)*p->s))
        p->s++;
}

static bool eat(hparser *p, char c)
{
    skip_ws(p);
    if (p->s < p->end && *p->s == c) {
        p->s++;
        return true;
    }
    return false;
}

/* A quoted string into buf; false when malformed. */
static bool parse_string(hparser *p, char *buf, size_t size)
{
    skip_ws(p);
    if (p->s >= p->end || (*p->s != '\'' && *p->s != '"'))
        return false;
    char q = *p->s++;
    size_t n = 0;
    while (p->s < p->end && *p->s != q) {
        if (n + 1 < size)
            buf[n++] = *p->s;
        p->s++;
    }
    if (p->s >= p->end)
        return false;
    p->s++;
    buf[n] = '\0';
    return true;
}

static bool parse_word(hparser *p, const char *w)
{
    skip_ws(p);
    size_t n = strlen(w);
    if ((size_t)(p->end - p->s) >= n && strncmp(p->s, w, n) == 0 &&
        (p->s + n == p->end || !isalnum((unsigned char)p->s[n]))) {
        p->s += n;
        return true;
    }
    return false;
}

/* The header dict. Returns 0 or -1 with err set. */
static int parse_header(const char *path, const char *h, size_t len, char *descr, size_t dsize,
                        int *fortran, int *ndim, int64_t *shape, char *err, size_t en)
{
    hparser p = {h, h + len};
    bool have_descr = false, have_fortran = false, have_shape = false;
    if (!eat(&p, '{'))
        return fail(err, en, "%s: malformed .npy header (expected a '{' dict): %.80s", path, h);
    for (;;) {
        if (eat(&p, '}'))
            break;
        char key[32];
        if (!parse_string(&p, key, sizeof key) || !eat(&p, ':'))
            return fail(err, en, "%s: malformed .npy header: %.120s", path, h);
        if (strcmp(key, "descr") == 0) {
            if (!parse_string(&p, descr, dsize))
                return fail(err, en, "%s: malformed .npy header: 'descr' is not a string "
                            "(structured dtypes are not supported)", path);
            have_descr = true;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (parse_word(&p, "True"))
                *fortran = 1;
            else if (parse_word(&p, "False"))
                *fortran = 0;
            else
                return fail(err, en, "%s: malformed .npy header: 'fortran_order' is not "
                            "True or False", path);
            have_fortran = true;
        } else if (strcmp(key, "shape") == 0) {
            if (!eat(&p, '('))
                return fail(err, en, "%s: malformed .npy header: 'shape' is not a tuple", path);
            *ndim = 0;
            for (;;) {
                if (eat(&p, ')'))
                    break;
                skip_ws(&p);
                char *endp;
                errno = 0;
                long long v = strtoll(p.s, &endp, 10);
                if (endp == p.s || endp > p.end || errno || v < 0)
                    return fail(err, en, "%s: malformed .npy header: bad dimension in 'shape'",
                                path);
                if (*ndim >= NPY_MAX_DIMS)
                    return fail(err, en, "%s: more than %d dimensions", path, NPY_MAX_DIMS);
                shape[(*ndim)++] = v;
                p.s = endp;
                skip_ws(&p);
                if (p.s < p.end && (*p.s == 'L' || *p.s == 'l'))
                    p.s++; /* Python 2 longs */
                if (!eat(&p, ',')) {
                    if (!eat(&p, ')'))
                        return fail(err, en, "%s: malformed .npy header: bad 'shape' tuple",
                                    path);
                    break;
                }
            }
            have_shape = true;
        } else {
            return fail(err, en, "%s: malformed .npy header: unknown key '%s'", path, key);
        }
        if (!eat(&p, ',')) {
            if (!eat(&p, '}'))
                return fail(err, en, "%s: malformed .npy header: %.120s", path, h);
            break;
        }
    }
    if (!have_descr || !have_fortran || !have_shape)
        return fail(err, en, "%s: malformed .npy header: missing '%s'", path,
                    !have_descr ? "descr" : !have_fortran ? "fortran_order" : "shape");
    return 0;
}

static const char *dtype_hint(const char *d)
{
    const char *t = d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '=' ? d + 1 : d;
    if (strcmp(t, "f8") == 0) return "float64";
    if (strcmp(t, "f2") == 0) return "float16";
    if (strcmp(t, "f4") == 0) return "float32";
    if (strcmp(t, "i8") == 0) return "int64";
    if (strcmp(t, "i4") == 0) return "int32";
    if (strcmp(t, "u1") == 0) return "uint8";
    if (strcmp(t, "b1") == 0) return "bool";
    return "not float32";
}

static int read_stream(FILE *f, const char *path, bool f16, npy_array *out, char *err,
                       size_t en);

static int read_path(const char *path, bool f16, npy_array *out, char *err, size_t en)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, en, "%s: cannot open: %s", path, strerror(errno));
    int rc = read_stream(f, path, f16, out, err, en);
    fclose(f);
    return rc;
}

int npy_read_f32(const char *path, npy_array *out, char *err, size_t en)
{
    return read_path(path, false, out, err, en);
}

int npy_read(const char *path, npy_array *out, char *err, size_t en)
{
    return read_path(path, true, out, err, en);
}

int npy_read_f32_stream(FILE *f, const char *path, npy_array *out, char *err, size_t en)
{
    return read_stream(f, path, false, out, err, en);
}

int npy_read_stream(FILE *f, const char *path, npy_array *out, char *err, size_t en)
{
    return read_stream(f, path, true, out, err, en);
}

/* Bytes from the current position to the end of f, or -1 when f cannot seek. */
static long long bytes_left(FILE *f)
{
    long here = ftell(f);
    if (here < 0 || fseek(f, 0, SEEK_END) != 0)
        return -1;
    long end = ftell(f);
    if (end < 0 || fseek(f, here, SEEK_SET) != 0)
        return -1;
    return end >= here ? (long long)(end - here) : -1;
}

/* f16: '<f2' is accepted too (into out->halves). */
static int read_stream(FILE *f, const char *path, bool f16, npy_array *out, char *err, size_t en)
{
    memset(out, 0, sizeof *out);
    int rc = -1;
    char *header = NULL;
    unsigned char pre[12];
    size_t got = fread(pre, 1, 8, f);
    if (got < 6 || memcmp(pre, MAGIC, 6) != 0) {
        fail(err, en, "%s: not a .npy file (bad magic: expected \\x93NUMPY at the start)", path);
        goto done;
    }
    if (got < 8) {
        fail(err, en, "%s: truncated .npy file (ends inside the preamble)", path);
        goto done;
    }
    int major = pre[6], minor = pre[7];
    size_t hlen, pre_len;
    if (major == 1) {
        if (fread(pre + 8, 1, 2, f) != 2) {
            fail(err, en, "%s: truncated .npy file (ends inside the preamble)", path);
            goto done;
        }
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
        pre_len = 10;
    } else if (major == 2 || major == 3) {
        if (fread(pre + 8, 1, 4, f) != 4) {
            fail(err, en, "%s: truncated .npy file (ends inside the preamble)", path);
            goto done;
        }
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 |
               (size_t)pre[11] << 24;
        pre_len = 12;
    } else {
        fail(err, en, "%s: .npy format version %d.%d is not supported (1.0, 2.0, 3.0 are)", path,
             major, minor);
        goto done;
    }
    (void)pre_len;
    if (hlen > (1u << 24)) {
        fail(err, en, "%s: .npy header length %zu is implausible", path, hlen);
        goto done;
    }
    header = malloc(hlen + 1);
    if (!header) {
        fail(err, en, "%s: out of memory", path);
        goto done;
    }
    if (fread(header, 1, hlen, f) != hlen) {
        fail(err, en, "%s: truncated .npy file (ends inside the %zu-byte header)", path, hlen);
        goto done;
    }
    header[hlen] = '\0';
    char descr[32] = "";
    int fortran = 0;
    if (parse_header(path, header, hlen, descr, sizeof descr, &fortran, &out->ndim, out->shape,
                     err, en))
        goto done;
    if (descr[0] == '>' && strcmp(descr + 1, "f4") == 0) {
        fail(err, en, "%s: big-endian float32 ('>f4') is not supported: save little-endian "
             "data, e.g. x.astype('<f4')", path);
        goto done;
    }
    if (f16 && descr[0] == '>' && strcmp(descr + 1, "f2") == 0) {
        fail(err, en, "%s: big-endian float16 ('>f2') is not supported: save little-endian "
             "data, e.g. x.astype('<f2')", path);
        goto done;
    }
    if (f16 && strcmp(descr, "<f2") == 0) {
        out->dtype = NPY_F16;
    } else if (strcmp(descr, "<f4") != 0) {
        if (f16)
            fail(err, en, "%s: dtype '%s' (%s) is not supported: clconv reads little-endian "
                 "float32 ('<f4') or float16 ('<f2'); convert with x.astype(np.float32)", path,
                 descr, dtype_hint(descr));
        else
            fail(err, en, "%s: dtype '%s' (%s) is not supported: clconv reads little-endian "
                 "float32 ('<f4'); convert with x.astype(np.float32)", path, descr,
                 dtype_hint(descr));
        goto done;
    }
    size_t es = out->dtype == NPY_F16 ? 2 : 4;
    if (fortran) {
        fail(err, en, "%s: fortran_order is True: save a C-ordered array "
             "(np.ascontiguousarray(x))", path);
        goto done;
    }
    size_t count = 1;
    for (int i = 0; i < out->ndim; i++) {
        if (out->shape[i] != 0 && count > SIZE_MAX / 4 / (size_t)out->shape[i]) {
            fail(err, en, "%s: shape too large", path);
            goto done;
        }
        count *= (size_t)out->shape[i];
    }
    out->count = count;
    /* A header may claim any shape: compare with the file before allocating. */
    long long left = bytes_left(f);
    if (left >= 0 && (unsigned long long)left < (unsigned long long)count * es) {
        char sh[128];
        npy_shape_string(out->shape, out->ndim, sh, sizeof sh);
        fail(err, en, "%s: truncated .npy file: shape %s needs %zu bytes of data, the file "
             "holds %lld", path, sh, count * es, left);
        goto done;
    }
    void *buf = malloc(count ? count * es : 4);
    if (!buf) {
        fail(err, en, "%s: out of memory for %zu %s", path, count,
             es == 2 ? "halves" : "floats");
        goto done;
    }
    if (es == 2)
        out->halves = buf;
    else
        out->data = buf;
    size_t nread = fread(buf, es, count, f);
    if (nread != count) {
        char sh[128];
        npy_shape_string(out->shape, out->ndim, sh, sizeof sh);
        fail(err, en, "%s: truncated .npy file: shape %s needs %zu bytes of data, the file "
             "holds %zu", path, sh, count * es, nread * es);
        goto done;
    }
    if (fgetc(f) != EOF) {
        fail(err, en, "%s: extra bytes after the data (the header's shape does not match the "
             "file size)", path);
        goto done;
    }
    rc = 0;
done:
    free(header);
    if (rc)
        npy_free(out);
    return rc;
}

static int write_array(const char *path, const char *descr, const int64_t *shape, int ndim,
                       const void *data, size_t elem, char *err, size_t en)
{
    char dict[512], sh[256];
    npy_shape_string(shape, ndim, sh, sizeof sh);
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                      descr, sh);
    if (dl < 0 || (size_t)dl >= sizeof dict)
        return fail(err, en, "%s: shape too long for the header", path);
    /* Preamble + header + '\n' padded to a multiple of 64. */
    size_t pre = 10, total = pre + (size_t)dl + 1;
    total = (total + 63) / 64 * 64;
    size_t hlen = total - pre;
    if (hlen > 65535)
        return fail(err, en, "%s: header too long", path);
    unsigned char head[640];
    memcpy(head, MAGIC, 6);
    head[6] = 1;
    head[7] = 0;
    head[8] = (unsigned char)(hlen & 255);
    head[9] = (unsigned char)(hlen >> 8);
    memcpy(head + 10, dict, (size_t)dl);
    memset(head + 10 + dl, ' ', hlen - (size_t)dl - 1);
    head[total - 1] = '\n';
    size_t count = 1;
    for (int i = 0; i < ndim; i++)
        count *= (size_t)shape[i];
    FILE *f = fopen(path, "wb");
    if (!f)
        return fail(err, en, "%s: cannot create: %s", path, strerror(errno));
    bool ok = fwrite(head, 1, total, f) == total && fwrite(data, elem, count, f) == count;
    ok = (fclose(f) == 0) && ok;
    if (!ok)
        return fail(err, en, "%s: write failed: %s", path, strerror(errno));
    return 0;
}

int npy_write_f32(const char *path, const int64_t *shape, int ndim, const float *data, char *err,
                  size_t en)
{
    return write_array(path, "<f4", shape, ndim, data, sizeof(float), err, en);
}

int npy_write_f16(const char *path, const int64_t *shape, int ndim, const uint16_t *halves,
                  char *err, size_t en)
{
    return write_array(path, "<f2", shape, ndim, halves, sizeof(uint16_t), err, en);
}

int npy_write_i64(const char *path, const int64_t *shape, int ndim, const int64_t *data, char *err,
                  size_t en)
{
    return write_array(path, "<i8", shape, ndim, data, sizeof(int64_t), err, en);
}

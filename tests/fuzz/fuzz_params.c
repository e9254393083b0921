/* libFuzzer target: parameter validation, output shapes and the CPU
 * reference operators, without any OpenCL device.
 *
 * The input is decoded into an operator and its parameters (each value
 * either small, one of the edge values below, or 8 raw bytes), then:
 *   - validate and output_shape must agree, and a failure must leave a message;
 *   - a valid, tiny layer runs through its clconv_ref_* function on heap
 *     arrays of exactly the documented sizes (AddressSanitizer catches any
 *     read or write past them), and must succeed;
 *   - the 1-D variants, the weight-shape and 'same'-padding helpers are
 *     exercised on the same values;
 *   - first byte 240..255: the backward references (conv2d backward-data,
 *     weights and bias with the adjoint identities against the forward;
 *     pool2d backward of every mode; ReLU backward), which must refuse what
 *     validation refuses, with the same status. */
#include "clconv.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static uint8_t byte(reader *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

/* Mostly small values (-1..6), sometimes an edge value or 8 raw bytes. */
static int64_t value(reader *r)
{
    static const int64_t edge[] = {0, -1, 1, 2, 3, INT64_MAX, INT64_MIN, (int64_t)1 << 30,
                                   ((int64_t)1 << 30) + 1, (int64_t)1 << 20, (int64_t)1 << 31,
                                   INT32_MAX, (int64_t)1 << 62, -((int64_t)1 << 30), 65536, 7};
    uint8_t s = byte(r);
    if (s < 224)
        return (int64_t)(s % 8) - 1;
    if (s < 248)
        return edge[s % 16];
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | byte(r);
    return (int64_t)v;
}

static double real(reader *r)
{
    static const double d[] = {2.0, 1.0, 3.0, 0.5, -1.0, 0.0, NAN, INFINITY, -INFINITY, 1e300,
                               4.0, 1.5, -2.0, 1e-300, 2.5, 8.0};
    uint8_t s = byte(r);
    if (s < 240)
        return d[s % 16];
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | byte(r);
    double x;
    memcpy(&x, &v, sizeof x);
    return x;
}

static void die(const char *what, clconv_status a, clconv_status b)
{
    fprintf(stderr, "fuzz_params: %s (%d vs %d): %s\n", what, (int)a, (int)b,
            clconv_last_error(NULL));
    abort();
}

/* A failure must carry a message; a status must be a known one. */
static void check_status(clconv_status st)
{
    if (st < CLCONV_SUCCESS || st > CLCONV_ERROR_WRONG_PLAN)
        die("unknown status", st, st);
    if (st != CLCONV_SUCCESS && clconv_last_error(NULL)[0] == '\0')
        die("failure without a message", st, st);
}

/* Small arrays only: the reference loops are plain. */
#define MAX_ELEMS ((size_t)4096)
#define MAX_WORK 200000.0

static float *array(size_t n, reader *r)
{
    float *a = malloc(n * sizeof *a); /* exact size: ASan guards the end */
    if (!a)
        abort();
    for (size_t i = 0; i < n; i++)
        a[i] = (float)((int)(byte(r) % 7) - 3);
    return a;
}

static size_t elems(clconv_shape s)
{
    return clconv_shape_elements(s);
}

static void shape_ok(const clconv_shape *in, const clconv_shape *out)
{
    if (out->n != in->n || out->c < 1 || out->h < 1 || out->w < 1 || elems(*out) == 0)
        die("output shape not positive", CLCONV_SUCCESS, CLCONV_SUCCESS);
}

/* The output-size formulas again, in 128-bit arithmetic (floor division). */
typedef __int128 i128;

static i128 floor_div(i128 a, i128 b)
{
    i128 q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static i128 conv_out(i128 in, i128 pads, i128 k, i128 s, i128 d)
{
    return floor_div(in + pads - d * (k - 1) - 1, s) + 1;
}

static void expect_dim(i128 want, int64_t got, const char *what)
{
    if (want != (i128)got) {
        fprintf(stderr, "fuzz_params: %s = %lld, the formula gives %lld\n", what, (long long)got,
                (long long)want);
        abort();
    }
}

static void conv2d_backward(reader *r, const clconv_conv2d_params *p, const clconv_shape *in,
                            clconv_status v, const clconv_shape *out);

static void fuzz_conv2d(reader *r, clconv_shape in, bool bwd)
{
    clconv_conv2d_params p = clconv_conv2d_default_params(value(r), value(r), value(r), value(r));
    uint8_t f = byte(r);
    if (f & 1) {
        p.stride_h = value(r);
        p.stride_w = value(r);
    }
    if (f & 2) {
        p.pad_top = value(r);
        p.pad_bottom = value(r);
        p.pad_left = value(r);
        p.pad_right = value(r);
    }
    if (f & 4) {
        p.dilation_h = value(r);
        p.dilation_w = value(r);
    }
    if (f & 8)
        p.groups = value(r);
    p.has_bias = (f >> 4) & 1;
    p.activation = (clconv_activation)((f >> 5) % 3);
    if (f & 128) {
        clconv_status st = clconv_conv2d_set_same_padding(&p);
        check_status(st);
    }
    if (byte(r) & 1)
        in.c = p.in_channels; /* fitting channels more often than chance */
    clconv_shape out = {0, 0, 0, 0};
    clconv_status v = clconv_conv2d_validate(&p, &in);
    check_status(v);
    clconv_status s = clconv_conv2d_output_shape(&p, &in, &out);
    check_status(s);
    if (v != s)
        die("conv2d validate and output_shape disagree", v, s);
    clconv_shape ws = clconv_conv2d_weight_shape(&p);
    if (in.h == 1) {
        clconv_conv1d_params q = {p.in_channels, p.out_channels, p.kernel_w, p.stride_w,
                                  p.pad_left, p.pad_right, p.dilation_w, p.groups,
                                  p.has_bias, p.activation};
        int64_t len = -1;
        clconv_status s1 = clconv_conv1d_output_length(&q, in.w, &len);
        check_status(s1);
        /* conv1d has no vertical kernel, stride, padding or dilation */
        if (p.kernel_h == 1 && p.stride_h == 1 && p.pad_top == 0 && p.pad_bottom == 0 &&
            p.dilation_h == 1 && in.n == 1 && in.c == p.in_channels && s1 != s)
            die("conv1d and conv2d disagree", s1, s);
        if (s1 == CLCONV_SUCCESS && len < 1)
            die("conv1d length < 1", s1, s1);
    }
    if (bwd) {
        conv2d_backward(r, &p, &in, s, &out);
        return;
    }
    if (s != CLCONV_SUCCESS)
        return;
    shape_ok(&in, &out);
    expect_dim(conv_out(in.h, (i128)p.pad_top + p.pad_bottom, p.kernel_h, p.stride_h,
                        p.dilation_h), out.h, "conv2d out.h");
    expect_dim(conv_out(in.w, (i128)p.pad_left + p.pad_right, p.kernel_w, p.stride_w,
                        p.dilation_w), out.w, "conv2d out.w");
    expect_dim(p.out_channels, out.c, "conv2d out.c");
    size_t nx = elems(in), nw = elems(ws), ny = elems(out);
    double work = (double)ny * (double)ws.c * (double)ws.h * (double)ws.w;
    if (nx > MAX_ELEMS || nw > MAX_ELEMS || ny > MAX_ELEMS || work > MAX_WORK)
        return;
    float *x = array(nx, r), *w = array(nw, r);
    float *b = p.has_bias ? array((size_t)p.out_channels, r) : NULL;
    float *y = array(ny, r);
    clconv_status st = clconv_ref_conv2d(&p, &in, x, w, b, y);
    if (st != CLCONV_SUCCESS)
        die("ref_conv2d refused a valid layer", st, CLCONV_SUCCESS);
    if (p.activation == CLCONV_ACTIVATION_RELU)
        for (size_t i = 0; i < ny; i++)
            if (y[i] < 0.0f)
                die("relu output below zero", st, st);
    free(x);
    free(w);
    free(b);
    free(y);
}

static void fuzz_conv_transpose2d(reader *r, clconv_shape in)
{
    clconv_conv_transpose2d_params p =
        clconv_conv_transpose2d_default_params(value(r), value(r), value(r), value(r));
    uint8_t f = byte(r);
    if (f & 1) {
        p.stride_h = value(r);
        p.stride_w = value(r);
    }
    if (f & 2) {
        p.pad_top = value(r);
        p.pad_bottom = value(r);
        p.pad_left = value(r);
        p.pad_right = value(r);
    }
    if (f & 4) {
        p.output_padding_h = value(r);
        p.output_padding_w = value(r);
    }
    if (f & 8) {
        p.dilation_h = value(r);
        p.dilation_w = value(r);
    }
    if (f & 16)
        p.groups = value(r);
    p.has_bias = (f >> 5) & 1;
    p.activation = (clconv_activation)((f >> 6) % 3);
    if (byte(r) & 1)
        in.c = p.in_channels;
    clconv_shape out = {0, 0, 0, 0};
    clconv_status v = clconv_conv_transpose2d_validate(&p, &in);
    check_status(v);
    clconv_status s = clconv_conv_transpose2d_output_shape(&p, &in, &out);
    check_status(s);
    if (v != s)
        die("conv_transpose2d validate and output_shape disagree", v, s);
    if (in.h == 1 && in.n == 1 && in.c == p.in_channels && p.kernel_h == 1 &&
        p.stride_h == 1 && p.pad_top == 0 && p.pad_bottom == 0 &&
        p.output_padding_h == 0 && p.dilation_h == 1) {
        clconv_conv_transpose1d_params q = {p.in_channels, p.out_channels, p.kernel_w,
                                            p.stride_w, p.pad_left, p.pad_right,
                                            p.output_padding_w,
                                            p.dilation_w, p.groups, p.has_bias, p.activation};
        int64_t len = -1;
        clconv_status s1 = clconv_conv_transpose1d_output_length(&q, in.w, &len);
        check_status(s1);
        if (s1 != s)
            die("conv_transpose1d and conv_transpose2d disagree", s1, s);
        if (s1 == CLCONV_SUCCESS && len != out.w)
            die("conv_transpose1d length differs", s1, s1);
    }
    if (s != CLCONV_SUCCESS)
        return;
    shape_ok(&in, &out);
    expect_dim(((i128)in.h - 1) * p.stride_h - (i128)p.pad_top - (i128)p.pad_bottom +
                   (i128)p.dilation_h * (p.kernel_h - 1) + p.output_padding_h + 1,
               out.h, "conv_transpose2d out.h");
    expect_dim(((i128)in.w - 1) * p.stride_w - (i128)p.pad_left - (i128)p.pad_right +
                   (i128)p.dilation_w * (p.kernel_w - 1) + p.output_padding_w + 1,
               out.w, "conv_transpose2d out.w");
    if (p.output_padding_h >= (p.stride_h > p.dilation_h ? p.stride_h : p.dilation_h))
        die("output_padding_h accepted at or above max(stride, dilation)", s, s);
    clconv_shape ws = clconv_conv_transpose2d_weight_shape(&p);
    size_t nx = elems(in), nw = elems(ws), ny = elems(out);
    double work = (double)nx * (double)ws.c * (double)ws.h * (double)ws.w;
    if (nx > MAX_ELEMS || nw > MAX_ELEMS || ny > MAX_ELEMS || work > MAX_WORK)
        return;
    float *x = array(nx, r), *w = array(nw, r);
    float *b = p.has_bias ? array((size_t)p.out_channels, r) : NULL;
    float *y = array(ny, r);
    clconv_status st = clconv_ref_conv_transpose2d(&p, &in, x, w, b, y);
    if (st != CLCONV_SUCCESS)
        die("ref_conv_transpose2d refused a valid layer", st, CLCONV_SUCCESS);
    free(x);
    free(w);
    free(b);
    free(y);
}

static void pool2d_backward(reader *r, const clconv_pool2d_params *p, const clconv_shape *in,
                            clconv_status v, const clconv_shape *out);

static void fuzz_pool2d(reader *r, clconv_shape in, bool bwd)
{
    uint8_t m = byte(r);
    clconv_pool_mode mode = (clconv_pool_mode)(m % 7); /* 0 and 6 are invalid */
    clconv_pool2d_params p = (m & 8) ? clconv_pool2d_global_params(mode)
                                     : clconv_pool2d_default_params(mode, value(r), value(r));
    uint8_t f = byte(r);
    if (f & 1) {
        p.stride_h = value(r);
        p.stride_w = value(r);
    }
    if (f & 2) {
        p.pad_top = value(r);
        p.pad_bottom = value(r);
        p.pad_left = value(r);
        p.pad_right = value(r);
    }
    if (f & 4) {
        p.dilation_h = value(r);
        p.dilation_w = value(r);
    }
    if (f & 8)
        p.divisor_override = value(r);
    if (f & 16)
        p.norm_type = real(r);
    if (f & 32) {
        p.output_h = value(r);
        p.output_w = value(r);
    }
    p.ceil_mode = (f >> 6) & 1;
    p.count_include_pad = f >> 7;
    clconv_shape out = {0, 0, 0, 0};
    clconv_status v = clconv_pool2d_validate(&p, &in);
    check_status(v);
    clconv_status s = clconv_pool2d_output_shape(&p, &in, &out);
    check_status(s);
    if (v != s)
        die("pool2d validate and output_shape disagree", v, s);
    if (bwd) {
        pool2d_backward(r, &p, &in, s, &out);
        return;
    }
    if (s != CLCONV_SUCCESS)
        return;
    shape_ok(&in, &out);
    if (out.c != in.c)
        die("pool2d changed the channels", s, s);
    if (p.mode == CLCONV_POOL_ADAPTIVE_AVG || p.mode == CLCONV_POOL_ADAPTIVE_MAX) {
        expect_dim(p.output_h, out.h, "adaptive out.h");
        expect_dim(p.output_w, out.w, "adaptive out.w");
    } else {
        if (p.pad_top * 2 > p.kernel_h || p.pad_bottom * 2 > p.kernel_h ||
            p.pad_left * 2 > p.kernel_w || p.pad_right * 2 > p.kernel_w)
            die("pool2d accepted padding above kernel / 2", s, s);
        /* PyTorch: floor (or ceil) of the span over the stride, plus one; with
         * ceil_mode the last window must start inside the input or left padding */
        const int64_t ins[2] = {in.h, in.w}, pads[2] = {p.pad_top, p.pad_left};
        const int64_t pads_end[2] = {p.pad_bottom, p.pad_right};
        const int64_t ks[2] = {p.kernel_h, p.kernel_w}, ss[2] = {p.stride_h, p.stride_w};
        const int64_t ds[2] = {p.dilation_h, p.dilation_w}, got[2] = {out.h, out.w};
        for (int a = 0; a < 2; a++) {
            i128 span = (i128)ins[a] + (i128)pads[a] + (i128)pads_end[a] -
                        (i128)ds[a] * (ks[a] - 1) - 1;
            i128 o = floor_div(span + (p.ceil_mode ? ss[a] - 1 : 0), ss[a]) + 1;
            if (p.ceil_mode && (o - 1) * ss[a] >= (i128)ins[a] + pads[a])
                o--;
            expect_dim(o, got[a], a ? "pool out.w" : "pool out.h");
        }
    }
    bool adaptive = p.mode == CLCONV_POOL_ADAPTIVE_AVG || p.mode == CLCONV_POOL_ADAPTIVE_MAX;
    size_t nx = elems(in), ny = elems(out);
    double work = adaptive ? (double)(in.h + out.h) * (double)(in.w + out.w) *
                                 (double)in.n * (double)in.c
                           : (double)ny * (double)p.kernel_h * (double)p.kernel_w;
    if (nx > MAX_ELEMS || ny > MAX_ELEMS || work > MAX_WORK)
        return;
    bool want_idx = p.mode == CLCONV_POOL_MAX || p.mode == CLCONV_POOL_ADAPTIVE_MAX;
    float *x = array(nx, r), *y = array(ny, r);
    int64_t *idx = want_idx && (f & 64) == 0 ? malloc(ny * sizeof *idx) : NULL;
    clconv_status st = clconv_ref_pool2d(&p, &in, x, y, idx);
    if (st != CLCONV_SUCCESS)
        die("ref_pool2d refused a valid layer", st, CLCONV_SUCCESS);
    if (idx)
        for (size_t i = 0; i < ny; i++)
            if (idx[i] < 0 || idx[i] >= in.h * in.w)
                if (!(y[i] == -INFINITY)) /* a dilated window with no in-image tap */
                    die("max index outside the plane", st, st);
    free(x);
    free(y);
    free(idx);
}

/* ---- backward operators ----------------------------------------------- */

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * (double)b[i];
    return s;
}

/* The three conv2d backward references: each refuses exactly what the
 * forward's validation refuses (the same status, before touching any
 * array); on a valid tiny layer they run on exact-size arrays and satisfy
 * the adjoint identities with the forward reference, exactly (small
 * integers): <conv(x, w), dy> = <x, dx> = <w, dw>, and db = dy summed. */
static void conv2d_backward(reader *r, const clconv_conv2d_params *p, const clconv_shape *in,
                            clconv_status v, const clconv_shape *out)
{
    float one = 0.0f;
    if (v != CLCONV_SUCCESS) {
        clconv_status a = clconv_ref_conv2d_backward_data(p, in, &one, &one, &one);
        clconv_status b = clconv_ref_conv2d_backward_weights(p, in, &one, &one, &one);
        clconv_status c = clconv_ref_conv2d_backward_bias(p, in, &one, &one);
        check_status(a);
        if (a != v || b != v || c != v)
            die("a conv2d backward reference and validate disagree", a != v ? a : b != v ? b : c,
                v);
        return;
    }
    shape_ok(in, out);
    clconv_shape ws = clconv_conv2d_weight_shape(p);
    size_t nx = elems(*in), nw = elems(ws), ny = elems(*out);
    double work = (double)ny * (double)ws.c * (double)ws.h * (double)ws.w;
    if (nx > MAX_ELEMS || nw > MAX_ELEMS || ny > MAX_ELEMS || work > MAX_WORK)
        return;
    clconv_conv2d_params q = *p;
    q.has_bias = 0;
    q.activation = CLCONV_ACTIVATION_NONE;
    float *x = array(nx, r), *w = array(nw, r), *dy = array(ny, r), *y = array(ny, r);
    float *dx = array(nx, r), *dw = array(nw, r), *db = array((size_t)p->out_channels, r);
    if (clconv_ref_conv2d(&q, in, x, w, NULL, y) ||
        clconv_ref_conv2d_backward_data(p, in, dy, w, dx) ||
        clconv_ref_conv2d_backward_weights(p, in, x, dy, dw) ||
        clconv_ref_conv2d_backward_bias(p, in, dy, db))
        die("a conv2d backward reference refused a valid layer", CLCONV_SUCCESS, CLCONV_SUCCESS);
    double ydy = dot(y, dy, ny), xdx = dot(x, dx, nx), wdw = dot(w, dw, nw);
    if (ydy != xdx || ydy != wdw) {
        fprintf(stderr, "fuzz_params: adjoint identity: <y,dy> %.17g <x,dx> %.17g <w,dw> %.17g\n",
                ydy, xdx, wdw);
        abort();
    }
    const size_t hw = (size_t)(out->h * out->w);
    for (int64_t oc = 0; oc < out->c; oc++) {
        double s = 0.0;
        for (int64_t n = 0; n < out->n; n++)
            for (size_t i = 0; i < hw; i++)
                s += dy[((size_t)n * (size_t)out->c + (size_t)oc) * hw + i];
        if ((float)s != db[oc])
            die("backward-bias is not dy summed", CLCONV_SUCCESS, CLCONV_SUCCESS);
    }
    free(x);
    free(w);
    free(dy);
    free(y);
    free(dx);
    free(dw);
    free(db);
}

/* Pooling backward: the reference refuses what validate refuses, and the
 * arrays it wants by mode (indices for max only; x for lp and for max
 * without indices); on a valid tiny layer, dx on exact-size arrays; for max,
 * the forward's indices and the argmax recomputed from x give the same bits,
 * and dy is conserved when every window has an in-image tap. */
static void pool2d_backward(reader *r, const clconv_pool2d_params *p, const clconv_shape *in,
                            clconv_status v, const clconv_shape *out)
{
    float one = 0.0f;
    int64_t zero = 0;
    bool max = p->mode == CLCONV_POOL_MAX || p->mode == CLCONV_POOL_ADAPTIVE_MAX;
    if (v != CLCONV_SUCCESS) {
        clconv_status a =
            clconv_ref_pool2d_backward(p, in, &one, max ? &zero : NULL, &one, &one);
        check_status(a);
        if (a != v)
            die("ref_pool2d_backward and validate disagree", a, v);
        return;
    }
    shape_ok(in, out);
    /* a missing array is refused, with a message */
    clconv_status m = clconv_ref_pool2d_backward(p, in, NULL, NULL, &one, &one);
    check_status(m);
    if (m != CLCONV_ERROR_INVALID_VALUE)
        die("ref_pool2d_backward accepted dy = NULL", m, CLCONV_ERROR_INVALID_VALUE);
    bool adaptive = p->mode == CLCONV_POOL_ADAPTIVE_AVG || p->mode == CLCONV_POOL_ADAPTIVE_MAX;
    size_t nx = elems(*in), ny = elems(*out);
    double work = adaptive ? (double)(in->h + out->h) * (double)(in->w + out->w) *
                                 (double)in->n * (double)in->c
                           : (double)ny * (double)p->kernel_h * (double)p->kernel_w;
    if (nx > MAX_ELEMS || ny > MAX_ELEMS || work > MAX_WORK)
        return;
    float *x = array(nx, r), *y = array(ny, r), *dy = array(ny, r), *dx = array(nx, r);
    int64_t *idx = max ? malloc(ny * sizeof *idx) : NULL;
    if (max && !idx)
        abort();
    if (p->mode == CLCONV_POOL_LP)
        for (size_t i = 0; i < nx; i++)
            x[i] = fabsf(x[i]) + 1.0f; /* a positive base */
    if (clconv_ref_pool2d(p, in, x, y, idx))
        die("ref_pool2d refused a valid layer", CLCONV_SUCCESS, CLCONV_SUCCESS);
    clconv_status st = clconv_ref_pool2d_backward(p, in, dy, NULL, x, dx);
    check_status(st);
    if (st != CLCONV_SUCCESS)
        die("ref_pool2d_backward refused a valid layer", st, CLCONV_SUCCESS);
    if (max) {
        /* Through the forward's indices: the same dx, bit for bit, as
         * recomputing the argmax from x (the documented rule), also for a
         * window wholly in the padding (y = -inf, PyTorch's start index). */
        float *dx2 = array(nx, r);
        if ((st = clconv_ref_pool2d_backward(p, in, dy, idx, NULL, dx2)))
            die("ref_pool2d_backward refused the forward's indices", st, CLCONV_SUCCESS);
        if (memcmp(dx, dx2, nx * sizeof *dx) != 0)
            die("max backward: by indices and by x differ", st, st);
        free(dx2);
        /* When every window has an in-image tap, every dy lands once. */
        bool all = true;
        double sdy = 0.0, sdx = 0.0;
        for (size_t i = 0; i < ny; i++) {
            all = all && y[i] != -INFINITY;
            sdy += dy[i];
        }
        for (size_t i = 0; i < nx; i++)
            sdx += dx[i];
        if (all && sdy != sdx) {
            fprintf(stderr,
                    "fuzz_params: max backward: sum dy %.17g, sum dx %.17g; mode %d, "
                    "input %lldx%lldx%lldx%lld, kernel %lldx%lld, stride %lldx%lld, pad "
                    "%lld,%lld,%lld,%lld, dilation %lldx%lld, ceil %d, output %lldx%lld\n",
                    sdy, sdx, (int)p->mode, (long long)in->n,
                    (long long)in->c, (long long)in->h, (long long)in->w,
                    (long long)p->kernel_h, (long long)p->kernel_w, (long long)p->stride_h,
                    (long long)p->stride_w, (long long)p->pad_top, (long long)p->pad_bottom,
                    (long long)p->pad_left, (long long)p->pad_right,
                    (long long)p->dilation_h, (long long)p->dilation_w, p->ceil_mode,
                    (long long)p->output_h, (long long)p->output_w);
            abort();
        }
    }
    for (size_t i = 0; i < nx; i++)
        if (isnan(dx[i]) && p->mode != CLCONV_POOL_LP)
            die("pool2d backward made NaN from finite values", st, st);
    free(x);
    free(y);
    free(dy);
    free(dx);
    free(idx);
}

/* ReLU backward on the shape's element count (tiny ones only). */
static void fuzz_relu_backward(reader *r, clconv_shape in)
{
    size_t n = clconv_shape_elements(in);
    if (in.n < 1 || in.c < 1 || in.h < 1 || in.w < 1 || n == 0 || n > MAX_ELEMS)
        return;
    float *y = array(n, r), *dy = array(n, r), *dx = array(n, r);
    clconv_status st = clconv_ref_relu_backward(n, y, dy, NULL);
    check_status(st);
    if (st != CLCONV_ERROR_INVALID_VALUE)
        die("ref_relu_backward accepted dx = NULL", st, CLCONV_ERROR_INVALID_VALUE);
    if ((st = clconv_ref_relu_backward(n, y, dy, dx)))
        die("ref_relu_backward failed", st, CLCONV_SUCCESS);
    for (size_t i = 0; i < n; i++)
        if (dx[i] != (y[i] <= 0.0f ? 0.0f : dy[i]))
            die("relu backward is not threshold_backward", st, st);
    free(y);
    free(dy);
    free(dx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size};
    uint8_t op = byte(&r);
    clconv_shape in = {value(&r), value(&r), value(&r), value(&r)};
    /* op 0..239: the forward operators (op % 3); 240..255: the backward
     * ones: conv2d backward-data/weights/bias, pool2d backward, ReLU backward. */
    if (op >= 240) {
        switch ((op - 240) % 3) {
        case 0: fuzz_conv2d(&r, in, true); break;
        case 1: fuzz_pool2d(&r, in, true); break;
        default: fuzz_relu_backward(&r, in); break;
        }
        return 0;
    }
    switch (op % 3) {
    case 0: fuzz_conv2d(&r, in, false); break;
    case 1: fuzz_conv_transpose2d(&r, in); break;
    default: fuzz_pool2d(&r, in, false); break;
    }
    return 0;
}

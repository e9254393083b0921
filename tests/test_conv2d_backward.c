/* conv2d backward passes (data, weights, bias) and ReLU backward: a golden
 * case from the seeds' edge example, gradient checks against central finite
 * differences of a double-precision forward pass, the identities
 * (backward-data == conv_transpose2d, the two adjoint identities), exact
 * small-integer agreement with the reference, randomized sweeps of every op
 * against the reference, run-to-run determinism, guarded buffers and bad
 * input. */
#include "conv_tester.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum bop {
    B_DATA = TU_BACKWARD_DATA,
    B_WEIGHTS = TU_BACKWARD_WEIGHTS,
    B_BIAS = TU_BACKWARD_BIAS
} bop;
static const char *const BOP_NAME[] = {"backward-data", "backward-weights", "backward-bias"};

/* Kernel geometries (kh, kw, sh, sw, dh, dw) every test draws from: each
 * distinct geometry is one compiled program per operator and tile, so the
 * tests share this palette and pin the tiles (PoCL needs most of a second
 * per program). */
static const int GEOS[][6] = {
    {1, 1, 1, 1, 1, 1}, {3, 3, 1, 1, 1, 1}, {3, 3, 2, 2, 1, 1}, {1, 2, 1, 1, 1, 1},
    {3, 3, 1, 1, 2, 2}, {2, 3, 1, 3, 3, 1}, {5, 2, 2, 3, 1, 2}, {4, 4, 3, 3, 1, 1},
};
#define N_GEOS ((int)(sizeof GEOS / sizeof GEOS[0]))

/* The pinned tiles: backward-data's gather tile, backward-weights' channel
 * block (an odd one that never divides the channels, and a full one). */
static clconv_plan_options pinned(bop op, int which)
{
    clconv_plan_options o;
    memset(&o, 0, sizeof o);
    if (op == B_DATA) {
        o.wg_w = 8;
        o.wg_h = 1;
        o.block_w = 2;
        o.block_oc = 4;
    } else if (op == B_WEIGHTS) {
        o.block_oc = which ? 3 : 4;
        o.wg_w = which ? 3 : 0; /* a work-group that never divides the items */
    }
    return o;
}

static clconv_conv2d_params geo_params(int g, int64_t cin, int64_t cout, int64_t groups)
{
    const int *v = GEOS[g];
    clconv_conv2d_params p = clconv_conv2d_default_params(cin, cout, v[0], v[1]);
    p.stride_h = v[2];
    p.stride_w = v[3];
    p.dilation_h = v[4];
    p.dilation_w = v[5];
    p.groups = groups;
    return p;
}

typedef struct sizes {
    clconv_shape out, wshape;
    size_t nx, ny, nw, nb;
} sizes;

static sizes sizes_of(const clconv_conv2d_params *p, const clconv_shape *in)
{
    sizes s;
    ck_assert_int_eq(clconv_conv2d_output_shape(p, in, &s.out), CLCONV_SUCCESS);
    s.wshape = clconv_conv2d_weight_shape(p);
    s.nx = clconv_shape_elements(*in);
    s.ny = clconv_shape_elements(s.out);
    s.nw = clconv_shape_elements(s.wshape);
    s.nb = (size_t)p->out_channels;
    return s;
}

/* The context device_bwd plans on when not the test context (one with a
 * workspace limit). */
static clconv_context *g_limited;

/* One backward op through the shared tester (conv_tester.h): data: a = dy,
 * b = w; weights: a = x, b = dy; bias: a = dy. */
static float *device_bwd(bop op, const clconv_conv2d_params *p, const clconv_shape *in,
                         const float *a, const float *b, const clconv_plan_options *opt,
                         clconv_plan_info *info_out)
{
    clconv_context *ctx = g_limited ? g_limited : tu_ctx();
    return tu_conv2d_backward_run(ctx, (tu_backward_pass)op, p, in, a, b, opt, info_out,
                                  BOP_NAME[op]);
}

static float *ref_bwd(bop op, const clconv_conv2d_params *p, const clconv_shape *in,
                      const float *a, const float *b)
{
    sizes s = sizes_of(p, in);
    float *out = tu_alloc(op == B_DATA ? s.nx : op == B_WEIGHTS ? s.nw : s.nb);
    clconv_status st = op == B_DATA      ? clconv_ref_conv2d_backward_data(p, in, a, b, out)
                       : op == B_WEIGHTS ? clconv_ref_conv2d_backward_weights(p, in, a, b, out)
                                         : clconv_ref_conv2d_backward_bias(p, in, a, out);
    ck_assert_msg(st == CLCONV_SUCCESS, "reference %s: %s", BOP_NAME[op], clconv_last_error(NULL));
    return out;
}

static void describe(const clconv_conv2d_params *p, const clconv_shape *in, char *buf, size_t n)
{
    snprintf(buf, n,
             "in=%lldx%lldx%lldx%lld out_c=%lld k=%lldx%lld s=%lldx%lld pad=%lld,%lld,%lld,%lld "
             "d=%lldx%lld groups=%lld",
             (long long)in->n, (long long)in->c, (long long)in->h, (long long)in->w,
             (long long)p->out_channels, (long long)p->kernel_h, (long long)p->kernel_w,
             (long long)p->stride_h, (long long)p->stride_w, (long long)p->pad_top,
             (long long)p->pad_bottom, (long long)p->pad_left, (long long)p->pad_right,
             (long long)p->dilation_h, (long long)p->dilation_w, (long long)p->groups);
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* ---- golden: the seeds' edge image ----------------------------------------- */

/* X = ones(6, 8), X[:, 2:6] = 0 and the kernel [1, -1] (the seeds' edge
 * detection). With dy = ones(1,1,6,7): dw = [sum X[:, 0:7], sum X[:, 1:8]] =
 * [18, 18], db = 42, and dx = dy (x) [1, -1] scattered: column 0 gets 1,
 * column 7 gets -1, the columns between 1 - 1 = 0. */
START_TEST(golden_edge)
{
    clconv_context *ctx = tu_ctx();
    clconv_conv2d_params p = clconv_conv2d_default_params(1, 1, 1, 2);
    clconv_shape in = {1, 1, 6, 8};
    float x[48], dy[42], w[2] = {1, -1}, dw[2], db[1], dx[48];
    for (int i = 0; i < 48; i++)
        x[i] = (i % 8 >= 2 && i % 8 < 6) ? 0.0f : 1.0f;
    for (int i = 0; i < 42; i++)
        dy[i] = 1.0f;
    ck_assert_int_eq(clconv_conv2d_backward_weights_host(ctx, &p, &in, NULL, x, dy, dw),
                     CLCONV_SUCCESS);
    ck_assert_float_eq(dw[0], 18.0f);
    ck_assert_float_eq(dw[1], 18.0f);
    ck_assert_int_eq(clconv_conv2d_backward_bias_host(ctx, &p, &in, NULL, dy, db), CLCONV_SUCCESS);
    ck_assert_float_eq(db[0], 42.0f);
    ck_assert_int_eq(clconv_conv2d_backward_data_host(ctx, &p, &in, NULL, dy, w, dx),
                     CLCONV_SUCCESS);
    for (int i = 0; i < 48; i++) {
        float want = i % 8 == 0 ? 1.0f : i % 8 == 7 ? -1.0f : 0.0f;
        ck_assert_msg(dx[i] == want, "dx[%d] = %g, expected %g", i, dx[i], want);
    }
    /* The reference agrees. */
    float rdw[2], rdb[1], rdx[48];
    ck_assert_int_eq(clconv_ref_conv2d_backward_weights(&p, &in, x, dy, rdw), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_ref_conv2d_backward_bias(&p, &in, dy, rdb), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_ref_conv2d_backward_data(&p, &in, dy, w, rdx), CLCONV_SUCCESS);
    ck_assert(memcmp(rdw, dw, sizeof dw) == 0 && rdb[0] == db[0] && memcmp(rdx, dx, sizeof dx) == 0);
}
END_TEST

/* ---- finite differences ------------------------------------------------------ */

/* The forward pass in double: y = act(conv2d(x, w) + b). */
static void conv2d_double(const clconv_conv2d_params *p, const clconv_shape *in, const double *x,
                          const double *w, const double *b, double *y)
{
    clconv_shape out;
    ck_assert_int_eq(clconv_conv2d_output_shape(p, in, &out), CLCONV_SUCCESS);
    const int64_t cin_g = p->in_channels / p->groups, cout_g = p->out_channels / p->groups;
    for (int64_t n = 0; n < in->n; n++)
        for (int64_t oc = 0; oc < out.c; oc++)
            for (int64_t oh = 0; oh < out.h; oh++)
                for (int64_t ow = 0; ow < out.w; ow++) {
                    double acc = b ? b[oc] : 0.0;
                    for (int64_t ci = 0; ci < cin_g; ci++)
                        for (int64_t kh = 0; kh < p->kernel_h; kh++)
                            for (int64_t kw = 0; kw < p->kernel_w; kw++) {
                                int64_t ih = oh * p->stride_h - p->pad_top + kh * p->dilation_h;
                                int64_t iw = ow * p->stride_w - p->pad_left + kw * p->dilation_w;
                                if (ih < 0 || ih >= in->h || iw < 0 || iw >= in->w)
                                    continue;
                                int64_t c = oc / cout_g * cin_g + ci;
                                acc += x[((n * in->c + c) * in->h + ih) * in->w + iw] *
                                       w[((oc * cin_g + ci) * p->kernel_h + kh) * p->kernel_w + kw];
                            }
                    if (p->activation == CLCONV_ACTIVATION_RELU && acc < 0)
                        acc = 0;
                    y[((n * out.c + oc) * out.h + oh) * out.w + ow] = acc;
                }
}

/* L = <act(conv2d(x, w) + b), g> in double. */
static double loss(const clconv_conv2d_params *p, const clconv_shape *in, const double *x,
                   const double *w, const double *b, const double *g, size_t ny, double *ybuf)
{
    conv2d_double(p, in, x, w, b, ybuf);
    double s = 0;
    for (size_t i = 0; i < ny; i++)
        s += ybuf[i] * g[i];
    return s;
}

/* Device gradients of L through relu-backward (when fused) and the three
 * backward ops against central differences (step 1e-4; L is piecewise
 * linear in each argument, so the differences are exact up to rounding
 * unless a ReLU kink lies within the step). */
static void fd_case(const clconv_conv2d_params *p, const clconv_shape *in, tu_rng *r,
                    uint64_t seed, int ci)
{
    clconv_context *ctx = tu_ctx();
    sizes s = sizes_of(p, in);
    float *x = tu_alloc(s.nx), *w = tu_alloc(s.nw), *b = tu_alloc(s.nb), *g = tu_alloc(s.ny);
    tu_fill(r, x, s.nx, false);
    tu_fill(r, w, s.nw, false);
    tu_fill(r, b, s.nb, false);
    tu_fill(r, g, s.ny, false);
    double *xd = calloc(s.nx, 8), *wd = calloc(s.nw, 8), *bd = calloc(s.nb, 8);
    double *gd = calloc(s.ny, 8), *yd = calloc(s.ny, 8);
    ck_assert(xd && wd && bd && gd && yd);
    for (size_t i = 0; i < s.nx; i++) xd[i] = x[i];
    for (size_t i = 0; i < s.nw; i++) wd[i] = w[i];
    for (size_t i = 0; i < s.nb; i++) bd[i] = b[i];
    for (size_t i = 0; i < s.ny; i++) gd[i] = g[i];
    /* dz = relu_backward(y, g) with the device forward output y. */
    float *dz = g;
    float *y = NULL;
    if (p->activation == CLCONV_ACTIVATION_RELU) {
        y = tu_alloc(s.ny);
        dz = tu_alloc(s.ny);
        ck_assert_int_eq(clconv_conv2d_host(ctx, p, in, NULL, x, w, b, y), CLCONV_SUCCESS);
        ck_assert_int_eq(clconv_relu_backward_host(ctx, &s.out, y, g, dz), CLCONV_SUCCESS);
    }
    clconv_plan_options od = pinned(B_DATA, 0), ow = pinned(B_WEIGHTS, ci & 1);
    float *dx = device_bwd(B_DATA, p, in, dz, w, &od, NULL);
    float *dw = device_bwd(B_WEIGHTS, p, in, x, dz, &ow, NULL);
    float *db = device_bwd(B_BIAS, p, in, dz, NULL, NULL, NULL);
    const double h = 1e-4;
    char what[256];
    describe(p, in, what, sizeof what);
    struct {
        const char *name;
        double *v;
        const float *grad;
        size_t n;
    } args[3] = {{"dx", xd, dx, s.nx}, {"dw", wd, dw, s.nw}, {"db", bd, db, s.nb}};
    for (int a = 0; a < 3; a++) {
        double gmax = 0;
        for (size_t i = 0; i < args[a].n; i++)
            gmax = fmax(gmax, fabs(args[a].grad[i]));
        for (size_t i = 0; i < args[a].n; i++) {
            double keep = args[a].v[i];
            args[a].v[i] = keep + h;
            double lp = loss(p, in, xd, wd, bd, gd, s.ny, yd);
            args[a].v[i] = keep - h;
            double lm = loss(p, in, xd, wd, bd, gd, s.ny, yd);
            args[a].v[i] = keep;
            double fd = (lp - lm) / (2 * h);
            double tol = 1e-4 * (1.0 + gmax);
            ck_assert_msg(fabs(fd - args[a].grad[i]) <= tol,
                          "seed %llu case %d (%s%s): %s[%zu] = %.7g, finite difference %.7g",
                          (unsigned long long)seed, ci, what,
                          p->activation ? ", relu" : "", args[a].name, i, args[a].grad[i], fd);
        }
    }
    free(x); free(w); free(b); free(g); free(xd); free(wd); free(bd); free(gd); free(yd);
    free(dx); free(dw); free(db);
    if (y) {
        free(y);
        free(dz);
    }
}

START_TEST(finite_differences)
{
    const uint64_t seed = 4242;
    tu_rng r = tu_rng_make(seed);
    int ci = 0;
    /* Every geometry, with groups, depthwise, asymmetric padding and a fused ReLU. */
    for (int g = 0; g < N_GEOS; g++) {
        for (int v = 0; v < 3; v++, ci++) {
            /* v = 0: plain; 1: two groups and ReLU; 2: depthwise. */
            const int64_t groups = v + 1;
            const int64_t cin = v == 0 ? 2 : v == 1 ? 4 : 3, cout = v == 0 ? 3 : v == 1 ? 4 : 3;
            clconv_conv2d_params p = geo_params(g, cin, cout, groups);
            p.pad_top = tu_int(&r, 0, 2);
            p.pad_bottom = tu_int(&r, 0, 2);
            p.pad_left = tu_int(&r, 0, 2);
            p.pad_right = tu_int(&r, 0, 2);
            p.has_bias = 1;
            p.activation = v == 1 ? CLCONV_ACTIVATION_RELU : CLCONV_ACTIVATION_NONE;
            clconv_shape in = {tu_int(&r, 1, 2), cin, tu_int(&r, 5, 9), tu_int(&r, 5, 11)};
            if (clconv_conv2d_validate(&p, &in) != CLCONV_SUCCESS) {
                in.h += 6;
                in.w += 8;
            }
            ck_assert_int_eq(clconv_conv2d_validate(&p, &in), CLCONV_SUCCESS);
            fd_case(&p, &in, &r, seed, ci);
        }
    }
}
END_TEST

/* ---- identities ---------------------------------------------------------------- */

/* PyTorch's conv2d_input: conv_transpose2d with the same weights, stride,
 * padding, dilation and groups, output_padding = what makes the size match. */
START_TEST(backward_data_is_conv_transpose2d)
{
    clconv_context *ctx = tu_ctx();
    const uint64_t seed = 99;
    tu_rng r = tu_rng_make(seed);
    for (int g = 0; g < N_GEOS; g++) {
        int64_t groups = g % 3 == 2 ? 2 : 1;
        clconv_conv2d_params p = geo_params(g, 2 * groups, 3 * groups, groups);
        p.pad_top = tu_int(&r, 0, 1); /* asymmetric too: conv_transpose2d takes it */
        p.pad_bottom = tu_int(&r, 0, 1);
        p.pad_left = tu_int(&r, 0, 1);
        p.pad_right = tu_int(&r, 0, 1);
        clconv_shape in = {2, p.in_channels, tu_int(&r, 9, 14), tu_int(&r, 9, 14)};
        sizes s = sizes_of(&p, &in);
        clconv_conv_transpose2d_params q = clconv_conv_transpose2d_default_params(
            p.out_channels, p.in_channels, p.kernel_h, p.kernel_w);
        q.stride_h = p.stride_h;
        q.stride_w = p.stride_w;
        q.pad_top = p.pad_top;
        q.pad_bottom = p.pad_bottom;
        q.pad_left = p.pad_left;
        q.pad_right = p.pad_right;
        q.dilation_h = p.dilation_h;
        q.dilation_w = p.dilation_w;
        q.groups = groups;
        q.output_padding_h = in.h - ((s.out.h - 1) * p.stride_h - p.pad_top - p.pad_bottom +
                                     p.dilation_h * (p.kernel_h - 1) + 1);
        q.output_padding_w = in.w - ((s.out.w - 1) * p.stride_w - p.pad_left - p.pad_right +
                                     p.dilation_w * (p.kernel_w - 1) + 1);
        float *dy = tu_alloc(s.ny), *w = tu_alloc(s.nw), *ct = tu_alloc(s.nx);
        tu_fill(&r, dy, s.ny, false);
        tu_fill(&r, w, s.nw, false);
        clconv_plan_options od = pinned(B_DATA, 0);
        ck_assert_msg(clconv_conv_transpose2d_host(ctx, &q, &s.out, &od, dy, w, NULL, ct) ==
                          CLCONV_SUCCESS, "geometry %d: %s", g, clconv_last_error(ctx));
        float *dx = device_bwd(B_DATA, &p, &in, dy, w, &od, NULL);
        ck_assert_msg(memcmp(dx, ct, s.nx * 4) == 0,
                      "geometry %d: backward-data differs from conv_transpose2d", g);
        free(dy); free(w); free(ct); free(dx);
    }
}
END_TEST

/* <conv2d(x; w), g> == <x, backward_data(g; w)> == <w, backward_weights(x, g)>. */
START_TEST(adjoint_identities)
{
    const uint64_t seed = 31337;
    tu_rng r = tu_rng_make(seed);
    for (int i = 0; i < 24; i++) {
        int g = i % N_GEOS;
        int64_t groups = tu_int(&r, 0, 2) == 0 ? tu_int(&r, 2, 3) : 1;
        int64_t cin = groups * tu_int(&r, 1, 3), cout = groups * tu_int(&r, 1, 5);
        clconv_conv2d_params p = geo_params(g, cin, cout, groups);
        p.pad_top = tu_int(&r, 0, 2);
        p.pad_bottom = tu_int(&r, 0, 2);
        p.pad_left = tu_int(&r, 0, 2);
        p.pad_right = tu_int(&r, 0, 2);
        clconv_shape in = {tu_int(&r, 1, 3), cin, tu_int(&r, 6, 17), tu_int(&r, 6, 23)};
        if (clconv_conv2d_validate(&p, &in) != CLCONV_SUCCESS)
            continue;
        sizes s = sizes_of(&p, &in);
        float *x = tu_alloc(s.nx), *w = tu_alloc(s.nw), *gy = tu_alloc(s.ny), *y = tu_alloc(s.ny);
        tu_fill(&r, x, s.nx, false);
        tu_fill(&r, w, s.nw, false);
        tu_fill(&r, gy, s.ny, false);
        /* The forward pass from the reference (the device's is tested elsewhere; this
         * keeps the conv2d programs out of the compile count). */
        ck_assert_int_eq(clconv_ref_conv2d(&p, &in, x, w, NULL, y), CLCONV_SUCCESS);
        clconv_plan_options od = pinned(B_DATA, 0), ow = pinned(B_WEIGHTS, i & 1);
        float *dx = device_bwd(B_DATA, &p, &in, gy, w, &od, NULL);
        float *dw = device_bwd(B_WEIGHTS, &p, &in, x, gy, &ow, NULL);
        double lhs = dot(y, gy, s.ny), rx = dot(x, dx, s.nx), rw = dot(w, dw, s.nw);
        /* Bound: every product counted once in absolute value. */
        double mag = 0;
        for (size_t j = 0; j < s.ny; j++)
            mag += fabs((double)y[j] * gy[j]);
        double k = (double)(cin / groups * p.kernel_h * p.kernel_w);
        double tol = 1e-5 * (1.0 + mag) * sqrt(k + 1) + 1e-4 * (1.0 + fabs(lhs));
        char what[256];
        describe(&p, &in, what, sizeof what);
        ck_assert_msg(fabs(lhs - rx) <= tol, "case %d (%s): <conv(x),g> = %.9g, <x,dx> = %.9g",
                      i, what, lhs, rx);
        ck_assert_msg(fabs(lhs - rw) <= tol, "case %d (%s): <conv(x),g> = %.9g, <w,dw> = %.9g",
                      i, what, lhs, rw);
        free(x); free(w); free(gy); free(y); free(dx); free(dw);
    }
}
END_TEST

/* ---- exact mode and sweeps ------------------------------------------------------- */

typedef struct bcase {
    clconv_conv2d_params p;
    clconv_shape in;
    bool integers;
    int tile;
} bcase;

static bcase random_bcase(tu_rng *r)
{
    bcase c;
    memset(&c, 0, sizeof c);
    for (;;) {
        int64_t groups = tu_int(r, 0, 4) == 0 ? tu_int(r, 2, 4) : 1;
        int64_t cin_g = tu_int(r, 1, 5), cout_g = tu_int(r, 1, 9);
        if (tu_int(r, 0, 7) == 0) { /* depthwise (and channel multiplier 2) */
            groups = tu_int(r, 2, 8);
            cin_g = 1;
            cout_g = tu_int(r, 1, 2);
        }
        c.p = geo_params(tu_int(r, 0, N_GEOS - 1), cin_g * groups, cout_g * groups, groups);
        c.p.pad_top = tu_int(r, 0, 3);
        c.p.pad_bottom = tu_int(r, 0, 3);
        c.p.pad_left = tu_int(r, 0, 3);
        c.p.pad_right = tu_int(r, 0, 3);
        c.in = (clconv_shape){tu_int(r, 1, 4), c.p.in_channels, tu_int(r, 1, 21),
                              tu_int(r, 1, 33)};
        if (clconv_conv2d_validate(&c.p, &c.in) == CLCONV_SUCCESS)
            break;
    }
    c.integers = tu_int(r, 0, 1);
    c.tile = tu_int(r, 0, 1);
    return c;
}

/* Device vs reference for op: bit for bit with small integers (every partial
 * sum is an exact integer), else within rtol scaled by the reference on
 * absolute values and the reduction length. */
static void check_bcase(bop op, const bcase *c, tu_rng *r, uint64_t seed, int i)
{
    sizes s = sizes_of(&c->p, &c->in);
    size_t na = op == B_WEIGHTS ? s.nx : s.ny, nb = op == B_DATA ? s.nw : s.ny;
    size_t nout = op == B_DATA ? s.nx : op == B_WEIGHTS ? s.nw : s.nb;
    float *a = tu_alloc(na), *b = tu_alloc(nb), *aa = tu_alloc(na), *ab = tu_alloc(nb);
    tu_fill(r, a, na, c->integers);
    tu_fill(r, b, nb, c->integers);
    for (size_t j = 0; j < na; j++) aa[j] = fabsf(a[j]);
    for (size_t j = 0; j < nb; j++) ab[j] = fabsf(b[j]);
    float *ref = ref_bwd(op, &c->p, &c->in, a, b), *scale = ref_bwd(op, &c->p, &c->in, aa, ab);
    clconv_plan_options o = pinned(op, c->tile);
    float *got = device_bwd(op, &c->p, &c->in, a, b, op == B_BIAS ? NULL : &o, NULL);
    double k = op == B_DATA ? (double)(c->p.out_channels / c->p.groups * c->p.kernel_h *
                                       c->p.kernel_w)
                            : (double)(s.ny / (size_t)s.out.c);
    double rtol = c->integers ? 0.0 : 4.0 * sqrt(k + 1) * FLT_EPSILON;
    char msg[256], what[256];
    long bad = tu_compare(got, ref, scale, nout, c->integers ? 0.0 : 1e-7, rtol, msg, sizeof msg);
    if (bad >= 0) {
        describe(&c->p, &c->in, what, sizeof what);
        ck_abort_msg("%s sweep seed %llu case %d (%s%s, tile %d): %s", BOP_NAME[op],
                     (unsigned long long)seed, i, what, c->integers ? ", integers" : "", c->tile,
                     msg);
    }
    free(a); free(b); free(aa); free(ab); free(ref); free(scale); free(got);
}

static void sweep(bop op, uint64_t seed, int cases)
{
    clconv_context *ctx = tu_ctx();
    clconv_cache_stats before, after;
    ck_assert_int_eq(clconv_context_cache_stats(ctx, &before), CLCONV_SUCCESS);
    tu_rng r = tu_rng_make(seed);
    for (int i = 0; i < cases; i++) {
        bcase c = random_bcase(&r);
        check_bcase(op, &c, &r, seed, i);
    }
    ck_assert_int_eq(clconv_context_cache_stats(ctx, &after), CLCONV_SUCCESS);
    uint64_t programs = (after.compiled + after.disk_hits) - (before.compiled + before.disk_hits);
    fprintf(stderr, "%s sweep: %d cases, %llu new programs\n", BOP_NAME[op], cases,
            (unsigned long long)programs);
    ck_assert_msg(programs <= 2 * N_GEOS + 2, "the %s sweep built %llu programs",
                  BOP_NAME[op], (unsigned long long)programs);
}

START_TEST(sweep_backward_data)
{
    sweep(B_DATA, 20261125, 120);
}
END_TEST

START_TEST(sweep_backward_weights)
{
    sweep(B_WEIGHTS, 20261126, 120);
}
END_TEST

START_TEST(sweep_backward_bias)
{
    sweep(B_BIAS, 20261127, 40);
}
END_TEST

/* Small integers: every op bit for bit with the reference, default tiles
 * included, at sizes where backward-weights splits its reduction. */
START_TEST(exact_integers)
{
    const uint64_t seed = 5150;
    tu_rng r = tu_rng_make(seed);
    for (int i = 0; i < 16; i++) {
        bcase c;
        memset(&c, 0, sizeof c);
        int64_t groups = i % 4 == 3 ? 4 : 1;
        c.p = geo_params(i % N_GEOS, groups * (i % 4 == 3 ? 1 : 3), groups * 2, groups);
        c.p.pad_top = c.p.pad_left = i % 3;
        c.p.pad_bottom = c.p.pad_right = (i + 1) % 3;
        c.in = (clconv_shape){1 + i % 3, c.p.in_channels, 16 + i, 40 - i};
        c.integers = true;
        c.tile = i & 1;
        for (int op = 0; op < 3; op++)
            check_bcase((bop)op, &c, &r, seed, i);
        /* The weights plan splits the 2-pass reduction on these sizes: the
         * default tile, workspace and all. */
        sizes s = sizes_of(&c.p, &c.in);
        float *x = tu_alloc(s.nx), *dy = tu_alloc(s.ny);
        tu_fill(&r, x, s.nx, true);
        tu_fill(&r, dy, s.ny, true);
        clconv_plan_info info;
        float *got = device_bwd(B_WEIGHTS, &c.p, &c.in, x, dy, NULL, &info);
        float *ref = ref_bwd(B_WEIGHTS, &c.p, &c.in, x, dy);
        ck_assert_msg(memcmp(got, ref, s.nw * 4) == 0, "case %d: default tile differs", i);
        if (i == 0)
            ck_assert_msg(info.workspace_bytes > 0, "expected a split reduction (global %zux%zu)",
                          info.global_size[0], info.global_size[1]);
        free(x); free(dy); free(got); free(ref);
    }
}
END_TEST

/* ---- determinism ---------------------------------------------------------------- */

START_TEST(deterministic)
{
    tu_rng r = tu_rng_make(8);
    clconv_conv2d_params p = geo_params(2, 6, 10, 2);
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    clconv_shape in = {3, 6, 37, 41};
    sizes s = sizes_of(&p, &in);
    float *x = tu_alloc(s.nx), *w = tu_alloc(s.nw), *dy = tu_alloc(s.ny);
    tu_fill(&r, x, s.nx, false);
    tu_fill(&r, w, s.nw, false);
    tu_fill(&r, dy, s.ny, false);
    for (int op = 0; op < 3; op++) {
        const float *a = op == B_WEIGHTS ? x : dy, *b = op == B_DATA ? w : dy;
        clconv_plan_info info;
        float *r1 = device_bwd((bop)op, &p, &in, a, b, NULL, &info);
        float *r2 = device_bwd((bop)op, &p, &in, a, b, NULL, NULL);
        size_t n = clconv_shape_elements(info.output);
        ck_assert_msg(memcmp(r1, r2, n * 4) == 0, "%s: two runs differ", BOP_NAME[op]);
        if (op == B_WEIGHTS)
            ck_assert_uint_gt(info.workspace_bytes, 0); /* the two-pass path */
        free(r1);
        free(r2);
    }
    /* The same plan run twice into the same buffer. */
    clconv_context *ctx = tu_ctx();
    clconv_plan *plan;
    ck_assert_int_eq(clconv_conv2d_backward_weights_plan_create(ctx, &p, &in, NULL, &plan),
                     CLCONV_SUCCESS);
    clconv_plan_info info;
    clconv_plan_get_info(plan, &info);
    cl_int err;
    cl_mem bx = clCreateBuffer(clconv_context_cl_context(ctx), CL_MEM_COPY_HOST_PTR, s.nx * 4, x,
                               &err);
    cl_mem bdy = clCreateBuffer(clconv_context_cl_context(ctx), CL_MEM_COPY_HOST_PTR, s.ny * 4,
                                dy, &err);
    cl_mem bdw = clCreateBuffer(clconv_context_cl_context(ctx), CL_MEM_READ_WRITE, s.nw * 4, NULL,
                                &err);
    cl_mem bws = clCreateBuffer(clconv_context_cl_context(ctx), CL_MEM_READ_WRITE,
                                info.workspace_bytes, NULL, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    float *o1 = tu_alloc(s.nw), *o2 = tu_alloc(s.nw);
    cl_event e1, e2;
    ck_assert_int_eq(clconv_conv2d_backward_weights_run(plan, bx, bdy, bdw, bws, 0, NULL, &e1),
                     CLCONV_SUCCESS);
    ck_assert_int_eq(clEnqueueReadBuffer(clconv_context_queue(ctx), bdw, CL_TRUE, 0, s.nw * 4, o1,
                                         1, &e1, NULL), CL_SUCCESS);
    /* Second run waits on the first's event through the wait list. */
    ck_assert_int_eq(clconv_conv2d_backward_weights_run(plan, bx, bdy, bdw, bws, 1, &e1, &e2),
                     CLCONV_SUCCESS);
    ck_assert_int_eq(clEnqueueReadBuffer(clconv_context_queue(ctx), bdw, CL_TRUE, 0, s.nw * 4, o2,
                                         1, &e2, NULL), CL_SUCCESS);
    ck_assert(memcmp(o1, o2, s.nw * 4) == 0);
    clReleaseEvent(e1);
    clReleaseEvent(e2);
    clReleaseMemObject(bx);
    clReleaseMemObject(bdy);
    clReleaseMemObject(bdw);
    clReleaseMemObject(bws);
    clconv_plan_destroy(plan);
    free(x); free(w); free(dy); free(o1); free(o2);
}
END_TEST

/* ---- edge shapes ------------------------------------------------------------------ */

/* 1x1 inputs, a kernel larger than the input with padding, rows that no
 * window reads (stride > kernel: their dx is 0), batch 1 with one channel. */
START_TEST(edge_shapes)
{
    tu_rng r = tu_rng_make(17);
    struct {
        int geo;
        int64_t cin, cout, groups, pt, pb, pl, pr;
        clconv_shape in;
    } e[] = {
        {0, 1, 1, 1, 0, 0, 0, 0, {1, 1, 1, 1}},
        {1, 2, 3, 1, 1, 1, 1, 1, {1, 2, 1, 1}},  /* 3x3 kernel on 1x1 with padding */
        {7, 1, 2, 1, 3, 3, 2, 2, {2, 1, 2, 3}},  /* 4x4 kernel on 2x3 */
        {0, 3, 3, 3, 0, 0, 0, 0, {1, 3, 5, 7}},  /* depthwise 1x1 */
        {2, 2, 2, 1, 0, 0, 0, 0, {1, 2, 8, 8}},  /* stride 2, k 3: row 7 unread */
        {7, 2, 2, 2, 0, 0, 0, 0, {1, 2, 11, 13}},/* 4x4 stride 3: row 10 unread */
        {6, 4, 4, 4, 2, 0, 0, 1, {2, 4, 9, 10}}, /* asymmetric padding, depthwise */
    };
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        bcase c;
        memset(&c, 0, sizeof c);
        c.p = geo_params(e[i].geo, e[i].cin, e[i].cout, e[i].groups);
        c.p.pad_top = e[i].pt;
        c.p.pad_bottom = e[i].pb;
        c.p.pad_left = e[i].pl;
        c.p.pad_right = e[i].pr;
        c.in = e[i].in;
        ck_assert_msg(clconv_conv2d_validate(&c.p, &c.in) == CLCONV_SUCCESS, "edge %zu: %s", i,
                      clconv_last_error(NULL));
        c.integers = true;
        for (int op = 0; op < 3; op++)
            check_bcase((bop)op, &c, &r, 17, (int)i);
        c.integers = false;
        c.tile = 1;
        for (int op = 0; op < 2; op++)
            check_bcase((bop)op, &c, &r, 17, (int)i);
    }
}
END_TEST

/* ---- algorithms, queues, workspace limits ------------------------------------------ */

/* Backward-data through CLBlast (transposed-gemm: SGEMM + col2im cut to the
 * input shape, asymmetric padding too), every op on an out-of-order queue,
 * and backward-weights under CLCONV_WORKSPACE_LIMIT: exact integers throughout. */
START_TEST(algorithms_queues_limits)
{
    tu_rng r = tu_rng_make(606);
    clconv_context *base = tu_ctx();
    clconv_conv2d_params p = geo_params(2, 4, 6, 2);
    p.pad_top = 2;
    p.pad_bottom = 0;
    p.pad_left = 0;
    p.pad_right = 1;
    clconv_shape in = {3, 4, 13, 10};
    sizes s = sizes_of(&p, &in);
    float *x = tu_alloc(s.nx), *w = tu_alloc(s.nw), *dy = tu_alloc(s.ny);
    tu_fill(&r, x, s.nx, true);
    tu_fill(&r, w, s.nw, true);
    tu_fill(&r, dy, s.ny, true);
    float *rdx = ref_bwd(B_DATA, &p, &in, dy, w), *rdw = ref_bwd(B_WEIGHTS, &p, &in, x, dy);
    float *rdb = ref_bwd(B_BIAS, &p, &in, dy, NULL);
    float *dx = tu_alloc(s.nx), *dw = tu_alloc(s.nw), db[6];

    clconv_plan_options og;
    memset(&og, 0, sizeof og);
    og.algorithm = CLCONV_ALGO_TRANSPOSED_GEMM;
    clconv_plan_info info;
    float *gx = device_bwd(B_DATA, &p, &in, dy, w, &og, &info);
    ck_assert_int_eq(info.algorithm, CLCONV_ALGO_TRANSPOSED_GEMM);
    ck_assert_uint_gt(info.workspace_bytes, 0);
    ck_assert_msg(memcmp(gx, rdx, s.nx * 4) == 0, "transposed-gemm backward-data differs");
    free(gx);

    cl_context cc = clconv_context_cl_context(base);
    cl_int err;
    cl_command_queue q = clCreateCommandQueue(cc, clconv_context_device(base),
                                              CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &err);
    if (err != CL_INVALID_QUEUE_PROPERTIES) { /* optional in OpenCL 1.2 */
        ck_assert_int_eq(err, CL_SUCCESS);
        clconv_context *ctx;
        ck_assert_int_eq(clconv_context_create_from_queue(cc, q, &ctx), CLCONV_SUCCESS);
        clReleaseCommandQueue(q);
        for (int a = 0; a < 2; a++) {
            clconv_plan_options o;
            memset(&o, 0, sizeof o);
            o.algorithm = a ? CLCONV_ALGO_TRANSPOSED_GEMM : CLCONV_ALGO_AUTO;
            ck_assert_int_eq(clconv_conv2d_backward_data_host(ctx, &p, &in, &o, dy, w, dx),
                             CLCONV_SUCCESS);
            ck_assert(memcmp(dx, rdx, s.nx * 4) == 0);
        }
        clconv_plan *pw;
        ck_assert_int_eq(clconv_conv2d_backward_weights_plan_create(ctx, &p, &in, NULL, &pw),
                         CLCONV_SUCCESS);
        clconv_plan_get_info(pw, &info);
        ck_assert_uint_gt(info.workspace_bytes, 0); /* the two-kernel path */
        clconv_plan_destroy(pw);
        ck_assert_int_eq(clconv_conv2d_backward_weights_host(ctx, &p, &in, NULL, x, dy, dw),
                         CLCONV_SUCCESS);
        ck_assert(memcmp(dw, rdw, s.nw * 4) == 0);
        ck_assert_int_eq(clconv_conv2d_backward_bias_host(ctx, &p, &in, NULL, dy, db), CLCONV_SUCCESS);
        ck_assert(memcmp(db, rdb, sizeof db) == 0);
        clconv_context_destroy(ctx);
    }

    /* A workspace limit of 3 splits' partial sums: at most 3 splits. */
    char lim[32];
    snprintf(lim, sizeof lim, "%zu", 3 * s.nw * 4);
    g_limited = tu_ctx_with_limit(3 * s.nw * 4);
    float *lw = device_bwd(B_WEIGHTS, &p, &in, x, dy, NULL, &info);
    ck_assert_uint_le(info.workspace_bytes, 3 * s.nw * 4);
    ck_assert_uint_le(info.global_size[1], 3);
    ck_assert(memcmp(lw, rdw, s.nw * 4) == 0);
    free(lw);
    /* Below two splits: one pass, no workspace. */
    snprintf(lim, sizeof lim, "%zu", s.nw * 4);
    clconv_context_destroy(g_limited);
    g_limited = tu_ctx_with_limit(s.nw * 4);
    lw = device_bwd(B_WEIGHTS, &p, &in, x, dy, NULL, &info);
    ck_assert_uint_eq(info.workspace_bytes, 0);
    ck_assert(memcmp(lw, rdw, s.nw * 4) == 0);
    free(lw);
    clconv_context_destroy(g_limited);
    g_limited = NULL;
    /* The variable sets the same limit, read when a context is made; a
     * malformed value fails the creation, naming the variable. */
    clconv_context *ectx;
    setenv("CLCONV_WORKSPACE_LIMIT", lim, 1);
    ck_assert_int_eq(clconv_context_create(&ectx), CLCONV_SUCCESS);
    clconv_plan *pw1;
    ck_assert_int_eq(clconv_conv2d_backward_weights_plan_create(ectx, &p, &in, NULL, &pw1),
                     CLCONV_SUCCESS);
    clconv_plan_get_info(pw1, &info);
    ck_assert_uint_eq(info.workspace_bytes, 0);
    clconv_plan_destroy(pw1);
    clconv_context_destroy(ectx);
    setenv("CLCONV_WORKSPACE_LIMIT", "lots", 1);
    ck_assert_int_eq(clconv_context_create(&ectx), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(NULL), "CLCONV_WORKSPACE_LIMIT = 'lots'"));
    unsetenv("CLCONV_WORKSPACE_LIMIT");
    free(x); free(w); free(dy); free(rdx); free(rdw); free(rdb); free(dx); free(dw);
}
END_TEST

/* ---- ReLU backward ----------------------------------------------------------------- */

START_TEST(relu_backward)
{
    clconv_context *ctx = tu_ctx();
    tu_rng r = tu_rng_make(3);
    clconv_shape s = {2, 3, 5, 7};
    size_t n = clconv_shape_elements(s);
    float *y = tu_alloc(n), *dy = tu_alloc(n), *dx = tu_alloc(n), *ref = tu_alloc(n);
    tu_fill(&r, y, n, false);
    tu_fill(&r, dy, n, false);
    y[0] = 0.0f;
    y[1] = -0.0f;
    y[2] = NAN;      /* passes dy (threshold_backward: NaN <= 0 is false) */
    y[3] = -1.0f;
    dy[3] = NAN;     /* masked: 0 */
    y[4] = 2.0f;
    dy[4] = INFINITY;
    ck_assert_int_eq(clconv_relu_backward_host(ctx, &s, y, dy, dx), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_ref_relu_backward(n, y, dy, ref), CLCONV_SUCCESS);
    ck_assert(memcmp(dx, ref, n * 4) == 0);
    ck_assert(dx[0] == 0.0f && dx[1] == 0.0f && dx[2] == dy[2] && dx[3] == 0.0f &&
              isinf(dx[4]));
    for (size_t i = 5; i < n; i++)
        ck_assert(dx[i] == (y[i] > 0 ? dy[i] : 0.0f));
    /* In place (dx == dy) with a wait list, on guarded buffers. */
    clconv_plan *plan;
    ck_assert_int_eq(clconv_relu_backward_plan_create(ctx, &s, &plan), CLCONV_SUCCESS);
    tu_guarded gy = tu_guarded_create(ctx, n * 4, y), gd = tu_guarded_create(ctx, n * 4, dy);
    cl_event e1, e2;
    ck_assert_int_eq(clEnqueueMarkerWithWaitList(clconv_context_queue(ctx), 0, NULL, &e1),
                     CL_SUCCESS);
    ck_assert_int_eq(clconv_relu_backward_run(plan, gy.buf, gd.buf, gd.buf, 1, &e1, &e2),
                     CLCONV_SUCCESS);
    ck_assert_int_eq(clWaitForEvents(1, &e2), CL_SUCCESS);
    ck_assert(tu_guarded_read(ctx, &gd, dx) && tu_guarded_read(ctx, &gy, NULL));
    ck_assert(memcmp(dx, ref, n * 4) == 0);
    /* Wrong plan and short buffers. */
    ck_assert_int_eq(clconv_conv2d_backward_bias_run(plan, gy.buf, gd.buf, 0, NULL, NULL),
                     CLCONV_ERROR_WRONG_PLAN);
    cl_int err;
    cl_mem small = clCreateBuffer(clconv_context_cl_context(ctx), CL_MEM_READ_WRITE, 8, NULL, &err);
    ck_assert_int_eq(clconv_relu_backward_run(plan, gy.buf, small, gd.buf, 0, NULL, NULL),
                     CLCONV_ERROR_BUFFER_TOO_SMALL);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "dy"));
    ck_assert_int_eq(clconv_relu_backward_run(plan, gy.buf, gd.buf, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "dx"));
    clconv_shape bad = {2, 0, 5, 7};
    clconv_plan *p2 = NULL;
    ck_assert_int_eq(clconv_relu_backward_plan_create(ctx, &bad, &p2), CLCONV_ERROR_INVALID_SHAPE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "shape.c = 0"));
    ck_assert_int_eq(clconv_relu_backward_host(ctx, &s, y, NULL, dx), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_ref_relu_backward(n, y, dy, NULL), CLCONV_ERROR_INVALID_VALUE);
    clReleaseMemObject(small);
    clReleaseEvent(e1);
    clReleaseEvent(e2);
    tu_guarded_release(&gy);
    tu_guarded_release(&gd);
    clconv_plan_destroy(plan);
    free(y); free(dy); free(dx); free(ref);
}
END_TEST

/* ---- bad input ---------------------------------------------------------------------- */

static void expect_error(clconv_status got, clconv_status want, const char *needle,
                         const char *what)
{
    ck_assert_msg(got == want, "%s: status %s, expected %s (%s)", what,
                  clconv_status_string(got), clconv_status_string(want),
                  clconv_last_error(tu_ctx()));
    if (needle)
        ck_assert_msg(strstr(clconv_last_error(tu_ctx()), needle) != NULL,
                      "%s: message '%s' does not name '%s'", what, clconv_last_error(tu_ctx()),
                      needle);
}

START_TEST(bad_input)
{
    clconv_context *ctx = tu_ctx();
    clconv_conv2d_params p = geo_params(1, 4, 6, 2);
    clconv_shape in = {2, 4, 8, 8};
    clconv_plan *plan = NULL;
    typedef clconv_status (*mk)(clconv_context *, const clconv_conv2d_params *,
                                const clconv_shape *, const clconv_plan_options *,
                                clconv_plan **);
    mk makers[3] = {clconv_conv2d_backward_data_plan_create,
                    clconv_conv2d_backward_weights_plan_create,
                    clconv_conv2d_backward_bias_plan_create};
    for (int op = 0; op < 3; op++) {
        clconv_conv2d_params q = p;
        q.stride_h = 0;
        expect_error(makers[op](ctx, &q, &in, NULL, &plan), CLCONV_ERROR_INVALID_VALUE,
                     "stride_h = 0", BOP_NAME[op]);
        ck_assert_ptr_null(plan);
        q = p;
        q.groups = 3;
        expect_error(makers[op](ctx, &q, &in, NULL, &plan), CLCONV_ERROR_INVALID_VALUE,
                     "groups = 3", BOP_NAME[op]);
        clconv_shape bin = in;
        bin.c = 5;
        expect_error(makers[op](ctx, &p, &bin, NULL, &plan), CLCONV_ERROR_INVALID_SHAPE,
                     "input.c = 5", BOP_NAME[op]);
        clconv_shape tiny = {1, 4, 1, 1};
        expect_error(makers[op](ctx, &p, &tiny, NULL, &plan), CLCONV_ERROR_INVALID_SHAPE, NULL,
                     BOP_NAME[op]);
        expect_error(makers[op](ctx, NULL, &in, NULL, &plan), CLCONV_ERROR_INVALID_VALUE,
                     "params", BOP_NAME[op]);
        expect_error(makers[op](ctx, &p, &in, NULL, NULL), CLCONV_ERROR_INVALID_VALUE, "out",
                     BOP_NAME[op]);
        ck_assert_int_eq(makers[op](NULL, &p, &in, NULL, &plan), CLCONV_ERROR_INVALID_VALUE);
        clconv_plan_options o;
        memset(&o, 0, sizeof o);
        o.algorithm = CLCONV_ALGO_WINOGRAD;
        expect_error(makers[op](ctx, &p, &in, &o, &plan), CLCONV_ERROR_UNSUPPORTED,
                     "options.algorithm = winograd", BOP_NAME[op]);
    }
    clconv_plan_options o;
    memset(&o, 0, sizeof o);
    o.block_oc = 17;
    expect_error(clconv_conv2d_backward_weights_plan_create(ctx, &p, &in, &o, &plan),
                 CLCONV_ERROR_INVALID_VALUE, "options.block_oc = 17", "block_oc");
    memset(&o, 0, sizeof o);
    o.wg_w = -2;
    expect_error(clconv_conv2d_backward_weights_plan_create(ctx, &p, &in, &o, &plan),
                 CLCONV_ERROR_INVALID_VALUE, "options.wg_w = -2", "wg_w");
    {
        clconv_conv2d_params wide = clconv_conv2d_default_params(1, 1, 1, 65);
        clconv_shape win = {1, 1, 1, 80};
        expect_error(clconv_conv2d_backward_weights_plan_create(ctx, &wide, &win, NULL, &plan),
                     CLCONV_ERROR_UNSUPPORTED, "kernel_w = 65", "kernel_w > 64");
        ck_assert_ptr_null(plan);
    }
    expect_error(clconv_relu_backward_plan_create(ctx, NULL, &plan), CLCONV_ERROR_INVALID_VALUE,
                 "shape: NULL", "relu NULL shape");
    ck_assert_int_eq(clconv_relu_backward_plan_create(NULL, &in, &plan),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_relu_backward_run(NULL, NULL, NULL, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);

    /* Runs: buffers named in the messages, aliasing, wrong plans, wait lists. */
    sizes s = sizes_of(&p, &in);
    cl_context cl = clconv_context_cl_context(ctx);
    cl_int err;
    cl_mem bx = clCreateBuffer(cl, CL_MEM_READ_WRITE, s.nx * 4, NULL, &err);
    cl_mem bdy = clCreateBuffer(cl, CL_MEM_READ_WRITE, s.ny * 4, NULL, &err);
    cl_mem bw = clCreateBuffer(cl, CL_MEM_READ_WRITE, s.nw * 4, NULL, &err);
    cl_mem small = clCreateBuffer(cl, CL_MEM_READ_WRITE, 4, NULL, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    clconv_plan *pd, *pw, *pb;
    ck_assert_int_eq(clconv_conv2d_backward_data_plan_create(ctx, &p, &in, NULL, &pd), 0);
    ck_assert_int_eq(clconv_conv2d_backward_weights_plan_create(ctx, &p, &in, NULL, &pw), 0);
    ck_assert_int_eq(clconv_conv2d_backward_bias_plan_create(ctx, &p, &in, NULL, &pb), 0);
    clconv_plan_info iw;
    clconv_plan_get_info(pw, &iw);
    cl_mem bws = clCreateBuffer(cl, CL_MEM_READ_WRITE, iw.workspace_bytes ? iw.workspace_bytes : 4,
                                NULL, &err);
    cl_mem ws = iw.workspace_bytes ? bws : NULL;
    cl_event ev = (cl_event)1;
    expect_error(clconv_conv2d_backward_data_run(pd, small, bw, bx, NULL, 0, NULL, &ev),
                 CLCONV_ERROR_BUFFER_TOO_SMALL, "dy: 4 bytes", "data dy");
    ck_assert_ptr_null(ev);
    expect_error(clconv_conv2d_backward_data_run(pd, bdy, small, bx, NULL, 0, NULL, NULL),
                 CLCONV_ERROR_BUFFER_TOO_SMALL, "w: 4 bytes", "data w");
    expect_error(clconv_conv2d_backward_data_run(pd, bdy, bw, small, NULL, 0, NULL, NULL),
                 CLCONV_ERROR_BUFFER_TOO_SMALL, "dx: 4 bytes", "data dx");
    expect_error(clconv_conv2d_backward_data_run(pd, bdy, bw, NULL, NULL, 0, NULL, NULL),
                 CLCONV_ERROR_INVALID_VALUE, "dx: NULL", "data NULL dx");
    expect_error(clconv_conv2d_backward_data_run(pd, bx, bw, bx, NULL, 0, NULL, NULL),
                 CLCONV_ERROR_INVALID_VALUE, "dx: must not be the same buffer as dy",
                 "data alias");
    expect_error(clconv_conv2d_backward_data_run(pd, bdy, bw, bx, NULL, 1, NULL, NULL),
                 CLCONV_ERROR_INVALID_VALUE, "num_wait = 1", "data wait list");
    expect_error(clconv_conv2d_backward_data_run(pw, bdy, bw, bx, NULL, 0, NULL, NULL),
                 CLCONV_ERROR_WRONG_PLAN, NULL, "data wrong plan");
    expect_error(clconv_conv_transpose2d_run(pd, bdy, bw, NULL, bx, NULL, 0, NULL, NULL),
                 CLCONV_ERROR_WRONG_PLAN, NULL, "transpose run on a backward-data plan");
    expect_error(clconv_conv2d_backward_weights_run(pw, small, bdy, bw, ws, 0, NULL, NULL),
                 CLCONV_ERROR_BUFFER_TOO_SMALL, "x: 4 bytes", "weights x");
    expect_error(clconv_conv2d_backward_weights_run(pw, bx, small, bw, ws, 0, NULL, NULL),
                 CLCONV_ERROR_BUFFER_TOO_SMALL, "dy: 4 bytes", "weights dy");
    expect_error(clconv_conv2d_backward_weights_run(pw, bx, bdy, small, ws, 0, NULL, NULL),
                 CLCONV_ERROR_BUFFER_TOO_SMALL, "dw: 4 bytes", "weights dw");
    expect_error(clconv_conv2d_backward_weights_run(pw, bx, bdy, bx, ws, 0, NULL, NULL),
                 CLCONV_ERROR_INVALID_VALUE, "dw: must not be the same buffer as x",
                 "weights alias");
    if (iw.workspace_bytes) {
        expect_error(clconv_conv2d_backward_weights_run(pw, bx, bdy, bw, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE, "workspace: NULL", "weights workspace");
        expect_error(clconv_conv2d_backward_weights_run(pw, bx, bdy, bw, small, 0, NULL, NULL),
                     CLCONV_ERROR_BUFFER_TOO_SMALL, "workspace: 4 bytes", "weights small ws");
    }
    expect_error(clconv_conv2d_backward_weights_run(pb, bx, bdy, bw, ws, 0, NULL, NULL),
                 CLCONV_ERROR_WRONG_PLAN, NULL, "weights wrong plan");
    expect_error(clconv_conv2d_backward_bias_run(pb, bdy, small, 0, NULL, NULL),
                 CLCONV_ERROR_BUFFER_TOO_SMALL, "db: 4 bytes", "bias db");
    expect_error(clconv_conv2d_backward_bias_run(pb, bdy, bdy, 0, NULL, NULL),
                 CLCONV_ERROR_INVALID_VALUE, "db: must not be the same buffer as dy",
                 "bias alias");
    expect_error(clconv_conv2d_backward_bias_run(pd, bdy, bw, 0, NULL, NULL),
                 CLCONV_ERROR_WRONG_PLAN, NULL, "bias wrong plan");
    expect_error(clconv_conv2d_run(pb, bx, bw, NULL, bdy, NULL, 0, NULL, NULL),
                 CLCONV_ERROR_WRONG_PLAN, NULL, "conv2d run on a backward plan");
    ck_assert_int_eq(clconv_conv2d_backward_data_run(NULL, bdy, bw, bx, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    /* Host calls and references: NULL arrays named. */
    float buf[4];
    expect_error(clconv_conv2d_backward_data_host(ctx, &p, &in, NULL, NULL, buf, buf),
                 CLCONV_ERROR_INVALID_VALUE, "dy: NULL", "host dy");
    expect_error(clconv_conv2d_backward_weights_host(ctx, &p, &in, NULL, buf, buf, NULL),
                 CLCONV_ERROR_INVALID_VALUE, "dw: NULL", "host dw");
    expect_error(clconv_conv2d_backward_bias_host(ctx, &p, &in, NULL, NULL, buf),
                 CLCONV_ERROR_INVALID_VALUE, "dy: NULL", "host bias");
    ck_assert_int_eq(clconv_ref_conv2d_backward_data(&p, &in, buf, NULL, buf),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(NULL), "w: NULL"));
    ck_assert_int_eq(clconv_ref_conv2d_backward_weights(&p, &in, NULL, buf, buf),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_ref_conv2d_backward_bias(&p, &in, buf, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    clconv_conv2d_params q = p;
    q.dilation_w = -1;
    ck_assert_int_eq(clconv_ref_conv2d_backward_weights(&q, &in, buf, buf, buf),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(NULL), "dilation_w = -1"));
    clReleaseMemObject(bx);
    clReleaseMemObject(bdy);
    clReleaseMemObject(bw);
    clReleaseMemObject(small);
    clReleaseMemObject(bws);
    clconv_plan_destroy(pd);
    clconv_plan_destroy(pw);
    clconv_plan_destroy(pb);
}
END_TEST

static Suite *conv2d_backward_suite(void)
{
    Suite *s = suite_create("conv2d_backward");
    TCase *gold = tcase_create("golden");
    tcase_set_timeout(gold, 300);
    tcase_add_test(gold, golden_edge);
    tcase_add_test(gold, relu_backward);
    tcase_add_test(gold, finite_differences);
    suite_add_tcase(s, gold);
    TCase *ident = tcase_create("identities");
    tcase_set_timeout(ident, 600);
    tcase_add_test(ident, backward_data_is_conv_transpose2d);
    tcase_add_test(ident, adjoint_identities);
    tcase_add_test(ident, exact_integers);
    tcase_add_test(ident, edge_shapes);
    tcase_add_test(ident, deterministic);
    tcase_add_test(ident, algorithms_queues_limits);
    suite_add_tcase(s, ident);
    TCase *sw = tcase_create("sweep");
    tcase_set_timeout(sw, 900);
    tcase_add_test(sw, sweep_backward_data);
    tcase_add_test(sw, sweep_backward_weights);
    tcase_add_test(sw, sweep_backward_bias);
    suite_add_tcase(s, sw);
    TCase *bad = tcase_create("bad-input");
    tcase_set_timeout(bad, 300);
    tcase_add_test(bad, bad_input);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    return tu_run_suite(conv2d_backward_suite());
}

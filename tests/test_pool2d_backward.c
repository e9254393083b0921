/* pool2d backward: hand-computed gradients, central finite differences in
 * double, the adjoint identity of average pooling, a randomized sweep over
 * every parameter (device against the CPU reference), determinism, edge
 * shapes, guard bands and bad input. */
#include "pool_tester.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------- */

static bool is_max(clconv_pool_mode m)
{
    return m == CLCONV_POOL_MAX || m == CLCONV_POOL_ADAPTIVE_MAX;
}

static clconv_shape out_shape(const clconv_pool2d_params *p, const clconv_shape *in)
{
    clconv_shape os;
    clconv_status st = clconv_pool2d_output_shape(p, in, &os);
    ck_assert_msg(st == CLCONV_SUCCESS, "output shape: %s", clconv_last_error(NULL));
    return os;
}

static int64_t *alloc_idx(size_t n)
{
    int64_t *p = calloc(n ? n : 1, sizeof(int64_t));
    ck_assert_ptr_nonnull(p);
    return p;
}

/* Runs the backward on the device through the shared tester (pool_tester.h). */
static float *device_bwd(const clconv_pool2d_params *p, const clconv_shape *in, const float *dy,
                         const int64_t *idx, const float *x, const clconv_plan_options *opt)
{
    return tu_pool2d_backward_run(tu_ctx(), p, in, dy, idx, x, opt, "pool2d backward");
}

static void expect_values(const float *got, const float *want, size_t n, double rtol,
                          const char *what)
{
    tu_expect_close(got, want, n, rtol > 0 ? 1e-7 : 0.0, rtol, what);
}

/* Golden check of the reference, the device (with the indices / with x when
 * the mode can take either) and the host call. For the max modes the indices
 * come from the forward reference on x. */
static void golden(const clconv_pool2d_params *p, const clconv_shape *in, const float *x,
                   const float *dy, const float *want, double rtol)
{
    clconv_shape os = out_shape(p, in);
    size_t nx = clconv_shape_elements(*in), ny = clconv_shape_elements(os);
    int64_t *idx = NULL;
    if (is_max(p->mode)) {
        idx = alloc_idx(ny);
        float *y = tu_alloc(ny);
        ck_assert_int_eq(clconv_ref_pool2d(p, in, x, y, idx), CLCONV_SUCCESS);
        free(y);
    }
    const float *xa = p->mode == CLCONV_POOL_LP ? x : NULL;
    float *dx = tu_alloc(nx);
    ck_assert_msg(clconv_ref_pool2d_backward(p, in, dy, idx, xa, dx) == CLCONV_SUCCESS,
                  "reference: %s", clconv_last_error(NULL));
    expect_values(dx, want, nx, rtol, "reference");
    float *d = device_bwd(p, in, dy, idx, xa, NULL);
    expect_values(d, want, nx, rtol, "device");
    free(d);
    if (idx) { /* the argmax recomputed from x */
        ck_assert_int_eq(clconv_ref_pool2d_backward(p, in, dy, NULL, x, dx), CLCONV_SUCCESS);
        expect_values(dx, want, nx, rtol, "reference from x");
        d = device_bwd(p, in, dy, NULL, x, NULL);
        expect_values(d, want, nx, rtol, "device from x");
        free(d);
    }
    ck_assert_msg(clconv_pool2d_backward_host(tu_ctx(), p, in, NULL, dy, idx, xa, dx) == CLCONV_SUCCESS,
                  "host: %s", clconv_last_error(tu_ctx()));
    expect_values(dx, want, nx, rtol, "clconv_pool2d_backward_host");
    free(dx);
    free(idx);
}

static void iota(float *x, size_t n, float start)
{
    for (size_t i = 0; i < n; i++)
        x[i] = start + (float)i;
}

/* ---- hand-computed gradients ---------------------------------------------- */

START_TEST(max_known_argmax)
{
    /* MaxPool2d(2) on a 4x4 plane whose maxima sit at (0,1), (1,3), (3,0), (2,2). */
    const float x[16] = {1, 9, 2, 3,
                         4, 5, 6, 8,
                         0, 1, 7, 2,
                         9, 3, 4, 5};
    const float dy[4] = {10, 20, 30, 40};
    const float want[16] = {0, 10, 0, 0,
                            0, 0, 0, 20,
                            0, 0, 40, 0,
                            30, 0, 0, 0};
    clconv_shape in = {1, 1, 4, 4};
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    golden(&p, &in, x, dy, want, 0);
    /* Overlapping windows (3x3, stride 1) sharing one maximum accumulate:
     * all four windows of the 4x4 plane hold x[1][1]. */
    float z[16] = {0};
    z[5] = 9;
    p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3);
    p.stride_h = p.stride_w = 1;
    float w2[16] = {0};
    w2[5] = 100;
    golden(&p, &in, z, dy, w2, 0);
    /* Ties keep the first maximum; NaN wins (the last one). */
    const float t[8] = {2, 2, NAN, 1, 2, 2, 3, NAN};
    in = (clconv_shape){1, 1, 2, 4};
    p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    golden(&p, &in, t, (const float[2]){5, 7}, (const float[8]){5, 0, 0, 0, 0, 0, 0, 7}, 0);
    /* Padding never receives anything: 3x3 stride 2 pad 1 on a 4x4 iota,
     * argmax (1,1), (1,3), (3,1), (3,3). */
    float io[16];
    iota(io, 16, 0);
    in = (clconv_shape){1, 1, 4, 4};
    p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3);
    p.stride_h = p.stride_w = 2;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    golden(&p, &in, io, dy,
           (const float[16]){0, 0, 0, 0, 0, 10, 0, 20, 0, 0, 0, 0, 0, 30, 0, 40}, 0);
    /* ceil_mode: MaxPool2d(2, ceil_mode=True) on a 5x5 iota has border windows
     * of one row / column; argmax 6, 8, 9, 16, 18, 19, 21, 23, 24. */
    float i25[25];
    iota(i25, 25, 0);
    in = (clconv_shape){1, 1, 5, 5};
    p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    p.ceil_mode = 1;
    float dy9[9], w9[25] = {0};
    iota(dy9, 9, 1);
    const int am[9] = {6, 8, 9, 16, 18, 19, 21, 23, 24};
    for (int i = 0; i < 9; i++)
        w9[am[i]] = dy9[i];
    golden(&p, &in, i25, dy9, w9, 0);
    /* Two planes: indices are per plane. */
    float x2[32];
    iota(x2, 16, 0);
    iota(x2 + 16, 16, 0);
    x2[16] = 100; /* plane 1's first window peaks at (0,0) */
    in = (clconv_shape){1, 2, 4, 4};
    p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    float dy8[8], w32[32] = {0};
    iota(dy8, 8, 1);
    const int a2[8] = {5, 7, 13, 15, 0, 7, 13, 15};
    for (int i = 0; i < 8; i++)
        w32[(i / 4) * 16 + a2[i]] = dy8[i];
    golden(&p, &in, x2, dy8, w32, 0);
}
END_TEST

START_TEST(avg_padding_both_ways)
{
    /* AvgPool2d(3, stride=1, padding=1) on 3x3, dy = 1: a cell gets 1/divisor
     * from each window covering it. count_include_pad: every divisor is 9, a
     * corner is covered by 4 windows, an edge cell by 6, the centre by 9. */
    float x[9] = {0}, dy[9];
    for (int i = 0; i < 9; i++)
        dy[i] = 1;
    clconv_shape in = {1, 1, 3, 3};
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_AVG, 3, 3);
    p.stride_h = p.stride_w = 1;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    const float c = 4.0f / 9, e = 6.0f / 9;
    golden(&p, &in, x, dy, (const float[9]){c, e, c, e, 1, e, c, e, c}, 1e-6);
    /* Without padding in the count, window (i, j) divides by its in-image cells:
     * (2 or 3 rows) x (2 or 3 columns). Per axis a cell's windows have
     * 1/2 + 1/3 (border cell: windows 0 and 1) or 1/2 + 1/3 + 1/2 (middle). */
    p.count_include_pad = 0;
    const double b = 1.0 / 2 + 1.0 / 3, m = 1.0 / 2 + 1.0 / 3 + 1.0 / 2;
    const double ax[3] = {b, m, b};
    float want[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            want[i * 3 + j] = (float)(ax[i] * ax[j]);
    golden(&p, &in, x, dy, want, 1e-6);
    /* divisor_override wins over both: every window divides by 2. */
    p.divisor_override = 2;
    const float cover[3] = {2, 3, 2};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            want[i * 3 + j] = cover[i] * cover[j] / 2;
    golden(&p, &in, x, dy, want, 0);
    p.count_include_pad = 1;
    golden(&p, &in, x, dy, want, 0);
    p.divisor_override = -4; /* a negative override negates the shares */
    for (int i = 0; i < 9; i++)
        want[i] = -want[i] / 2;
    golden(&p, &in, x, dy, want, 0);
}
END_TEST

START_TEST(avg_ceil_mode)
{
    /* AvgPool2d(2, ceil_mode=True) on 5x5: windows start at 0, 2, 4 per axis;
     * the last covers one row / column and divides by its clipped size (with
     * count_include_pad, the window clipped to the padded input = the input). */
    float x[25] = {0}, dy[9];
    iota(dy, 9, 1);
    clconv_shape in = {1, 1, 5, 5};
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_AVG, 2, 2);
    p.ceil_mode = 1;
    float want[25];
    const int len[3] = {2, 2, 1};
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++)
            want[i * 5 + j] = dy[(i / 2) * 3 + j / 2] / (float)(len[i / 2] * len[j / 2]);
    golden(&p, &in, x, dy, want, 0);
    /* AvgPool2d(3, stride=2, padding=1, ceil_mode=True) on 4x4: windows start
     * at -1, 1, 3; the third is clipped to in + pad = 5 (2 cells, 1 in the
     * image). dy = 1; count_include_pad divides by 3 or 2 per axis. */
    float x16[16] = {0}, ones[9];
    for (int i = 0; i < 9; i++)
        ones[i] = 1;
    in = (clconv_shape){1, 1, 4, 4};
    p = clconv_pool2d_default_params(CLCONV_POOL_AVG, 3, 3);
    p.stride_h = p.stride_w = 2;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.ceil_mode = 1;
    /* Per axis, the windows covering cell 0: {0}; 1: {0, 1}; 2: {1}; 3: {1, 2}. */
    const double inc[4] = {1.0 / 3, 2.0 / 3, 1.0 / 3, 1.0 / 3 + 1.0 / 2};
    const double exc[4] = {1.0 / 2, 1.0 / 2 + 1.0 / 3, 1.0 / 3, 1.0 / 3 + 1.0};
    float w16[16];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            w16[i * 4 + j] = (float)(inc[i] * inc[j]);
    golden(&p, &in, x16, ones, w16, 1e-6);
    p.count_include_pad = 0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            w16[i * 4 + j] = (float)(exc[i] * exc[j]);
    golden(&p, &in, x16, ones, w16, 1e-6);
}
END_TEST

START_TEST(lp_known)
{
    /* LPPool2d(2, 2) on [[3, 4], [0, 0]]: y = 5, dx = dy * x / y. */
    clconv_shape in = {1, 1, 2, 2};
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_LP, 2, 2);
    golden(&p, &in, (const float[4]){3, 4, 0, 0}, (const float[1]){2},
           (const float[4]){1.2f, 1.6f, 0, 0}, 1e-6);
    /* p = 1: y is the window sum, dx = dy wherever the mean is not 0 ... */
    p.norm_type = 1;
    golden(&p, &in, (const float[4]){-2, 1, 0, 0}, (const float[1]){3},
           (const float[4]){3, 3, 3, 3}, 1e-6);
    /* ... and 0 where it is (relu's gradient at 0 in lp_pool2d's graph). */
    golden(&p, &in, (const float[4]){1, -1, 0, 0}, (const float[1]){3},
           (const float[4]){0, 0, 0, 0}, 0);
    /* p = 3: y = cbrt(sum x^3), dx = dy * x^2 / y^2. x = (1, 2, 0, 0): y = 9^(1/3). */
    p.norm_type = 3;
    const double y = cbrt(9.0);
    golden(&p, &in, (const float[4]){1, 2, 0, 0}, (const float[1]){1},
           (const float[4]){(float)(1 / (y * y)), (float)(4 / (y * y)), 0, 0}, 1e-5);
    /* Overlapping windows (2x2, stride 1) on 3x3 ones with p = 2: every window
     * has y = 2, so each covering window adds dy * x / y = 1/2. */
    in = (clconv_shape){1, 1, 3, 3};
    p = clconv_pool2d_default_params(CLCONV_POOL_LP, 2, 2);
    p.stride_h = p.stride_w = 1;
    float ones[9], dy[4] = {1, 1, 1, 1};
    for (int i = 0; i < 9; i++)
        ones[i] = 1;
    golden(&p, &in, ones, dy, (const float[9]){0.5f, 1, 0.5f, 1, 2, 1, 0.5f, 1, 0.5f}, 1e-6);
    /* ceil_mode: the border window of 1 cell still scales its mean by kh*kw:
     * y = (4 * x^2)^(1/2) = 2|x|, so dy/dx = 2 sign(x). ones(3,3), k 2, s 2. */
    p.stride_h = p.stride_w = 2;
    p.ceil_mode = 1;
    golden(&p, &in, ones, dy, (const float[9]){0.5f, 0.5f, 1, 0.5f, 0.5f, 1, 1, 1, 2}, 1e-6);
}
END_TEST

START_TEST(adaptive_and_global_known)
{
    /* adaptive_avg_pool2d 5x5 -> 3x3: windows [0,2), [1,4), [3,5) per axis;
     * dy = 1: a cell gets the product of its axes' sums of 1/length. */
    float x[25] = {0}, ones[9];
    for (int i = 0; i < 9; i++)
        ones[i] = 1;
    clconv_shape in = {1, 1, 5, 5};
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_ADAPTIVE_AVG, 3, 3);
    const double ax[5] = {0.5, 0.5 + 1.0 / 3, 1.0 / 3, 1.0 / 3 + 0.5, 0.5};
    float want[25];
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++)
            want[i * 5 + j] = (float)(ax[i] * ax[j]);
    golden(&p, &in, x, ones, want, 1e-6);
    /* adaptive_max_pool2d 2x2 -> 3x3 (windows [0,1), [0,2), [1,2)) on an
     * increasing plane: each window's maximum is its bottom-right cell. */
    in = (clconv_shape){1, 1, 2, 2};
    p.mode = CLCONV_POOL_ADAPTIVE_MAX;
    golden(&p, &in, (const float[4]){1, 2, 3, 4}, ones, (const float[4]){1, 2, 2, 4}, 0);
    /* Global average: dy / (H*W) everywhere; global max: dy at the maximum. */
    in = (clconv_shape){1, 2, 2, 3};
    p = clconv_pool2d_global_params(CLCONV_POOL_AVG);
    float x12[12] = {0, 5, 1, 2, 3, 4, 7, 1, 1, 1, 1, 1};
    float w12[12];
    for (int i = 0; i < 12; i++)
        w12[i] = i < 6 ? 6.0f / 6 : 12.0f / 6;
    golden(&p, &in, x12, (const float[2]){6, 12}, w12, 1e-6);
    p = clconv_pool2d_global_params(CLCONV_POOL_MAX);
    golden(&p, &in, x12, (const float[2]){6, 12},
           (const float[12]){0, 6, 0, 0, 0, 0, 12, 0, 0, 0, 0, 0}, 0);
}
END_TEST

/* ---- finite differences in double ------------------------------------------ */

/* The forward pass in double, written here from PyTorch's definitions (not
 * from the library): max without NaN, avg with every divisor rule, lp, the
 * adaptive modes. */
static void dforward(const clconv_pool2d_params *p, const clconv_shape *in, const double *x,
                     double *y)
{
    clconv_shape os = out_shape(p, in);
    const int64_t H = in->h, W = in->w;
    for (int64_t pl = 0; pl < in->n * in->c; pl++) {
        const double *xp = x + pl * H * W;
        for (int64_t oh = 0; oh < os.h; oh++)
            for (int64_t ow = 0; ow < os.w; ow++) {
                double v = 0;
                int64_t hs, he, ws, we;
                if (p->mode == CLCONV_POOL_ADAPTIVE_AVG || p->mode == CLCONV_POOL_ADAPTIVE_MAX) {
                    hs = oh * H / os.h;
                    he = ((oh + 1) * H + os.h - 1) / os.h;
                    ws = ow * W / os.w;
                    we = ((ow + 1) * W + os.w - 1) / os.w;
                    v = p->mode == CLCONV_POOL_ADAPTIVE_MAX ? -INFINITY : 0;
                    for (int64_t i = hs; i < he; i++)
                        for (int64_t j = ws; j < we; j++)
                            v = p->mode == CLCONV_POOL_ADAPTIVE_MAX ? fmax(v, xp[i * W + j])
                                                                    : v + xp[i * W + j];
                    if (p->mode == CLCONV_POOL_ADAPTIVE_AVG)
                        v /= (double)((he - hs) * (we - ws));
                } else if (p->mode == CLCONV_POOL_MAX) {
                    v = -INFINITY;
                    for (int64_t a = 0; a < p->kernel_h; a++)
                        for (int64_t b = 0; b < p->kernel_w; b++) {
                            int64_t i = oh * p->stride_h - p->pad_top + a * p->dilation_h;
                            int64_t j = ow * p->stride_w - p->pad_left + b * p->dilation_w;
                            if (i >= 0 && i < H && j >= 0 && j < W)
                                v = fmax(v, xp[i * W + j]);
                        }
                } else if (p->mode == CLCONV_POOL_AVG) {
                    /* The window clipped to the padded input counts for
                     * count_include_pad; the cells in the image otherwise. */
                    hs = oh * p->stride_h - p->pad_top;
                    ws = ow * p->stride_w - p->pad_left;
                    const int64_t hend = H + p->pad_bottom, wend = W + p->pad_right;
                    int64_t hp = hs + p->kernel_h < hend ? hs + p->kernel_h : hend;
                    int64_t wp = ws + p->kernel_w < wend ? ws + p->kernel_w : wend;
                    int64_t cells = 0;
                    for (int64_t i = hs; i < hp; i++)
                        for (int64_t j = ws; j < wp; j++)
                            if (i >= 0 && i < H && j >= 0 && j < W) {
                                v += xp[i * W + j];
                                cells++;
                            }
                    double div = p->divisor_override ? (double)p->divisor_override
                                 : p->count_include_pad ? (double)((hp - hs) * (wp - ws))
                                                        : (double)cells;
                    v = cells ? v / div : 0;
                } else { /* LP: (kh*kw * mean over the clipped window of x^p)^(1/p) */
                    hs = oh * p->stride_h;
                    ws = ow * p->stride_w;
                    int64_t cells = 0;
                    for (int64_t i = hs; i < hs + p->kernel_h && i < H; i++)
                        for (int64_t j = ws; j < ws + p->kernel_w && j < W; j++) {
                            v += pow(xp[i * W + j], p->norm_type);
                            cells++;
                        }
                    v = pow(v / (double)cells * (double)(p->kernel_h * p->kernel_w),
                            1.0 / p->norm_type);
                }
                y[(pl * os.h + oh) * os.w + ow] = v;
            }
    }
}

/* dL/dx by central differences of L = <g, pool(x)> in double, against the
 * reference gradient (and the device's). */
static void fd_check(const clconv_pool2d_params *p, const clconv_shape *in, const float *x,
                     const float *g, double h, double tol, const char *what)
{
    clconv_shape os = out_shape(p, in);
    size_t nx = clconv_shape_elements(*in), ny = clconv_shape_elements(os);
    double *xd = malloc(nx * sizeof *xd), *yd = malloc(ny * sizeof *yd);
    ck_assert(xd && yd);
    for (size_t i = 0; i < nx; i++)
        xd[i] = x[i];
    float *dx = tu_alloc(nx);
    const float *xa = is_max(p->mode) || p->mode == CLCONV_POOL_LP ? x : NULL;
    ck_assert_msg(clconv_ref_pool2d_backward(p, in, g, NULL, xa, dx) == CLCONV_SUCCESS, "%s: %s",
                  what, clconv_last_error(NULL));
    float *dd = device_bwd(p, in, g, NULL, xa, NULL);
    double maxg = 0;
    for (size_t i = 0; i < nx; i++)
        maxg = fmax(maxg, fabs(dx[i]));
    ck_assert_msg(maxg > 0, "%s: an all-zero gradient checks nothing", what);
    for (size_t i = 0; i < nx; i++) {
        double l[2];
        for (int s = 0; s < 2; s++) {
            xd[i] = (double)x[i] + (s ? -h : h);
            dforward(p, in, xd, yd);
            l[s] = 0;
            for (size_t o = 0; o < ny; o++)
                l[s] += (double)g[o] * yd[o];
        }
        xd[i] = x[i];
        double fd = (l[0] - l[1]) / (2 * h);
        ck_assert_msg(fabs(fd - dx[i]) <= tol * (1 + fabs(fd)),
                      "%s: input %zu: finite difference %.9g, reference %.9g", what, i, fd,
                      (double)dx[i]);
        ck_assert_msg(fabs(fd - dd[i]) <= tol * (1 + fabs(fd)),
                      "%s: input %zu: finite difference %.9g, device %.9g", what, i, fd,
                      (double)dd[i]);
    }
    free(xd);
    free(yd);
    free(dx);
    free(dd);
}

START_TEST(finite_differences)
{
    tu_rng r = tu_rng_make(7);
    clconv_shape in = {2, 2, 7, 9};
    size_t nx = clconv_shape_elements(in);
    float *x = tu_alloc(nx), *g = tu_alloc(4096);
    /* Distinct values far apart (a shuffled ramp): no ties, so max is
     * differentiable and a step of h never changes an argmax. */
    for (size_t i = 0; i < nx; i++)
        x[i] = (float)i * 0.25f;
    for (size_t i = nx - 1; i > 0; i--) {
        size_t j = (size_t)tu_int(&r, 0, (int)i);
        float t = x[i];
        x[i] = x[j];
        x[j] = t;
    }
    tu_fill(&r, g, 4096, false);
    struct {
        clconv_pool_mode m;
        int k, s, pad, d, ceil, cip, div;
        double norm;
    } c[] = {
        {CLCONV_POOL_AVG, 3, 1, 1, 1, 0, 1, 0, 2},  {CLCONV_POOL_AVG, 3, 2, 1, 1, 1, 1, 0, 2},
        {CLCONV_POOL_AVG, 3, 2, 1, 1, 1, 0, 0, 2},  {CLCONV_POOL_AVG, 2, 2, 1, 1, 1, 0, 5, 2},
        {CLCONV_POOL_AVG, 4, 3, 2, 1, 1, 0, 0, 2},  {CLCONV_POOL_LP, 2, 2, 0, 1, 0, 1, 0, 2},
        {CLCONV_POOL_LP, 3, 2, 0, 1, 1, 1, 0, 2},   {CLCONV_POOL_LP, 3, 1, 0, 1, 0, 1, 0, 3},
        {CLCONV_POOL_LP, 2, 3, 0, 1, 1, 1, 0, 1.5}, {CLCONV_POOL_LP, 2, 1, 0, 1, 0, 1, 0, 1},
        {CLCONV_POOL_MAX, 3, 1, 1, 1, 0, 1, 0, 2},  {CLCONV_POOL_MAX, 3, 2, 1, 2, 1, 1, 0, 2},
        {CLCONV_POOL_MAX, 2, 2, 1, 1, 1, 1, 0, 2},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        clconv_pool2d_params p = clconv_pool2d_default_params(c[i].m, c[i].k, c[i].k);
        p.stride_h = p.stride_w = c[i].s;
        p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = c[i].pad;
        p.dilation_h = p.dilation_w = c[i].d;
        p.ceil_mode = c[i].ceil;
        p.count_include_pad = c[i].cip;
        p.divisor_override = c[i].div;
        p.norm_type = c[i].norm;
        char what[96];
        snprintf(what, sizeof what, "case %zu (mode %d k %d s %d pad %d ceil %d cip %d p %g)", i,
                 (int)c[i].m, c[i].k, c[i].s, c[i].pad, c[i].ceil, c[i].cip, c[i].norm);
        /* lp's data must stay positive (fractional powers, the kink at 0). */
        float *xs = x;
        float *xp = NULL;
        if (c[i].m == CLCONV_POOL_LP) {
            xp = tu_alloc(nx);
            for (size_t j = 0; j < nx; j++)
                xp[j] = 0.5f + x[j] / 16.0f;
            xs = xp;
        }
        fd_check(&p, &in, xs, g, 1e-3, 2e-4, what);
        free(xp);
    }
    /* Adaptive: overlapping (7 -> 4, 9 -> 5), larger than the input, global. */
    const int64_t outs[3][2] = {{4, 5}, {10, 11}, {1, 1}};
    for (int i = 0; i < 3; i++)
        for (int m = 0; m < 2; m++) {
            clconv_pool2d_params p = clconv_pool2d_default_params(
                m ? CLCONV_POOL_ADAPTIVE_MAX : CLCONV_POOL_ADAPTIVE_AVG, outs[i][0], outs[i][1]);
            char what[64];
            snprintf(what, sizeof what, "adaptive %s %lldx%lld", m ? "max" : "avg",
                     (long long)outs[i][0], (long long)outs[i][1]);
            fd_check(&p, &in, x, g, 1e-3, 2e-4, what);
        }
    free(x);
    free(g);
}
END_TEST

/* <avgpool(x), g> == <x, avgpool_backward(g)>: the backward is the adjoint. */
START_TEST(avg_adjoint)
{
    tu_rng r = tu_rng_make(99);
    for (int t = 0; t < 24; t++) {
        clconv_shape in = {tu_int(&r, 1, 2), tu_int(&r, 1, 3), tu_int(&r, 1, 17),
                           tu_int(&r, 1, 23)};
        clconv_pool2d_params p;
        if (t % 4 == 3) {
            p = clconv_pool2d_default_params(CLCONV_POOL_ADAPTIVE_AVG, tu_int(&r, 1, 9),
                                             tu_int(&r, 1, 9));
        } else {
            p = clconv_pool2d_default_params(CLCONV_POOL_AVG, tu_int(&r, 1, 5), tu_int(&r, 1, 5));
            p.stride_h = tu_int(&r, 1, 3);
            p.stride_w = tu_int(&r, 1, 3);
            p.pad_top = tu_int(&r, 0, (int)p.kernel_h / 2); /* each side on its own */
            p.pad_bottom = tu_int(&r, 0, (int)p.kernel_h / 2);
            p.pad_left = tu_int(&r, 0, (int)p.kernel_w / 2);
            p.pad_right = tu_int(&r, 0, (int)p.kernel_w / 2);
            p.ceil_mode = tu_int(&r, 0, 1);
            p.count_include_pad = tu_int(&r, 0, 1);
            if (tu_int(&r, 0, 3) == 0)
                p.divisor_override = tu_int(&r, 1, 7);
            if (clconv_pool2d_validate(&p, &in) != CLCONV_SUCCESS) {
                t--;
                continue;
            }
        }
        clconv_shape os = out_shape(&p, &in);
        size_t nx = clconv_shape_elements(in), ny = clconv_shape_elements(os);
        float *x = tu_alloc(nx), *g = tu_alloc(ny), *y = tu_alloc(ny);
        tu_fill(&r, x, nx, false);
        tu_fill(&r, g, ny, false);
        ck_assert_int_eq(clconv_pool2d_host(tu_ctx(), &p, &in, NULL, x, y, NULL), CLCONV_SUCCESS);
        float *dx = device_bwd(&p, &in, g, NULL, NULL, NULL);
        double lhs = 0, rhs = 0, mag = 0;
        for (size_t o = 0; o < ny; o++) {
            lhs += (double)y[o] * g[o];
            mag += fabs((double)y[o] * g[o]);
        }
        for (size_t i = 0; i < nx; i++) {
            rhs += (double)x[i] * dx[i];
            mag += fabs((double)x[i] * dx[i]);
        }
        ck_assert_msg(fabs(lhs - rhs) <= 1e-6 * mag + 1e-12,
                      "case %d: <pool(x), g> = %.9g, <x, pool_backward(g)> = %.9g", t, lhs, rhs);
        free(x);
        free(g);
        free(y);
        free(dx);
    }
}
END_TEST

/* ---- randomized sweep ----------------------------------------------------- */

typedef struct sweep_case {
    clconv_pool2d_params p;
    clconv_shape in;
    clconv_plan_options opt;
    int data; /* 0 small integers, 1 floats, 2 floats with NaN / inf sprinkled */
} sweep_case;

static sweep_case random_case(tu_rng *r)
{
    sweep_case c;
    memset(&c, 0, sizeof c);
    static const clconv_pool_mode modes[] = {
        CLCONV_POOL_MAX, CLCONV_POOL_MAX, CLCONV_POOL_AVG, CLCONV_POOL_AVG, CLCONV_POOL_AVG,
        CLCONV_POOL_LP, CLCONV_POOL_LP, CLCONV_POOL_ADAPTIVE_AVG, CLCONV_POOL_ADAPTIVE_MAX};
    c.p = tu_pool2d_random(r, modes, (int)(sizeof modes / sizeof modes[0]), false, &c.in);
    if (tu_int(r, 0, 9) == 0)
        c.opt.wg_w = 16;
    c.data = tu_int(r, 0, 5) == 0 ? 2 : tu_int(r, 0, 1);
    if (c.p.mode == CLCONV_POOL_LP && c.data == 2)
        c.data = 1;
    return c;
}

static void describe(const sweep_case *c, char *buf, size_t n)
{
    char layer[256];
    tu_pool2d_describe(&c->p, &c->in, layer, sizeof layer);
    snprintf(buf, n, "%s wg_w=%d data=%d", layer, c->opt.wg_w, c->data);
}

/* Max must match the reference bit for bit (the same float additions in the
 * same order; PyTorch's result), avg and adaptive avg too on CPU devices
 * (elsewhere within a bound: OpenCL allows an inexact division); lp within a
 * bound scaled by the window size (float against double sums, pow). Returns
 * whether the reference gradient had a nonzero element. */
static bool check_case(const sweep_case *c, tu_rng *r, uint64_t seed, int i)
{
    const clconv_pool2d_params *p = &c->p;
    const clconv_shape os = out_shape(p, &c->in);
    const size_t nx = clconv_shape_elements(c->in), ny = clconv_shape_elements(os);
    const bool lp = p->mode == CLCONV_POOL_LP, maxm = is_max(p->mode);
    float *x = tu_alloc(nx), *dy = tu_alloc(ny), *ref = tu_alloc(nx);
    tu_fill_data(r, x, nx, c->data);
    if (lp) /* positive data: fractional powers, and a mean far from 0 */
        for (size_t j = 0; j < nx; j++)
            x[j] = fabsf(x[j]) + (c->data == 0 ? 0.0f : 0.125f);
    tu_fill_data(r, dy, ny, maxm || lp ? c->data == 2 ? 1 : c->data : c->data);
    int64_t *idx = NULL;
    if (maxm) {
        idx = alloc_idx(ny);
        float *y = tu_alloc(ny);
        ck_assert_int_eq(clconv_ref_pool2d(p, &c->in, x, y, idx), CLCONV_SUCCESS);
        free(y);
    }
    ck_assert_int_eq(clconv_ref_pool2d_backward(p, &c->in, dy, idx, lp ? x : NULL, ref),
                     CLCONV_SUCCESS);
    /* Max: with the indices, and (one case in three) recomputing them from x. */
    const bool from_x = maxm && tu_int(r, 0, 2) == 0;
    float *got = device_bwd(p, &c->in, dy, from_x ? NULL : idx, lp || from_x ? x : NULL, &c->opt);
    char msg[256], what[512];
    long bad;
    if (lp) {
        const double k = (double)(p->kernel_h * p->kernel_w);
        bad = tu_compare(got, ref, NULL, nx, 1e-6, 64.0 * k * FLT_EPSILON, msg, sizeof msg);
    } else if (!maxm && !tu_device_is_cpu()) {
        /* OpenCL lets a device round float division to 2.5 ulp (PoCL rounds
         * it correctly, like the host): a bound scaled by the sum of |share|. */
        float *ady = tu_alloc(ny), *scale = tu_alloc(nx);
        for (size_t j = 0; j < ny; j++)
            ady[j] = fabsf(dy[j]);
        clconv_pool2d_params ap = *p;
        ap.divisor_override = p->divisor_override < 0 ? -p->divisor_override : p->divisor_override;
        ck_assert_int_eq(clconv_ref_pool2d_backward(&ap, &c->in, ady, NULL, NULL, scale),
                         CLCONV_SUCCESS);
        bad = tu_compare(got, ref, scale, nx, 0, 8.0 * FLT_EPSILON, msg, sizeof msg);
        free(ady);
        free(scale);
    } else {
        /* The same float additions in the same order: the same bits. */
        bad = tu_compare(got, ref, NULL, nx, 0, 0, msg, sizeof msg);
        for (size_t j = 0; bad < 0 && j < nx; j++)
            if (memcmp(&got[j], &ref[j], 4) != 0 && !(isnan(got[j]) && isnan(ref[j]))) {
                snprintf(msg, sizeof msg, "element %zu: %a, expected %a (bits differ)", j,
                         (double)got[j], (double)ref[j]);
                bad = (long)j;
            }
    }
    if (bad >= 0) {
        describe(c, what, sizeof what);
        ck_abort_msg("sweep seed %llu case %d%s: %s: %s", (unsigned long long)seed, i,
                     from_x ? " (argmax from x)" : "", what, msg);
    }
    bool nonzero = false;
    for (size_t j = 0; j < nx && !nonzero; j++)
        nonzero = ref[j] != 0.0f;
    free(x);
    free(dy);
    free(ref);
    free(idx);
    free(got);
    return nonzero;
}

START_TEST(random_sweep)
{
    const uint64_t seed = 20261125;
    tu_rng r = tu_rng_make(seed);
    clconv_cache_stats before, after;
    clconv_context_cache_stats(tu_ctx(), &before);
    const int cases = 300;
    int nonzero = 0;
    for (int i = 0; i < cases; i++) {
        sweep_case c = random_case(&r);
        nonzero += check_case(&c, &r, seed, i);
    }
    ck_assert_int_ge(nonzero, cases * 9 / 10); /* all-zero gradients compare nothing */
    clconv_context_cache_stats(tu_ctx(), &after);
    uint64_t programs = after.compiled + after.disk_hits - before.compiled - before.disk_hits;
    ck_assert_msg(programs <= 5, "the sweep built %llu distinct programs, expected <= 5 (one "
                  "per mode)", (unsigned long long)programs);
}
END_TEST

START_TEST(edge_shapes)
{
    struct {
        clconv_pool_mode m;
        int64_t n, c, h, w, kh, kw, s, pad, d;
        int ceil, cip;
    } e[] = {
        {CLCONV_POOL_MAX, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1},   /* 1x1 input, 1x1 window */
        {CLCONV_POOL_AVG, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1},
        {CLCONV_POOL_LP, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1},
        {CLCONV_POOL_MAX, 2, 3, 1, 1, 3, 3, 1, 1, 1, 0, 1},   /* kernel larger than the input */
        {CLCONV_POOL_AVG, 2, 3, 1, 1, 3, 3, 1, 1, 1, 1, 0},
        {CLCONV_POOL_AVG, 2, 3, 2, 2, 5, 5, 2, 2, 1, 1, 1},
        {CLCONV_POOL_MAX, 1, 2, 2, 3, 5, 5, 3, 2, 1, 1, 1},
        {CLCONV_POOL_LP, 1, 2, 2, 3, 3, 4, 3, 0, 1, 1, 1},    /* lp window past the input (ceil) */
        {CLCONV_POOL_MAX, 1, 2, 7, 9, 7, 9, 1, 0, 1, 0, 1},   /* kernel = input size */
        {CLCONV_POOL_AVG, 1, 1, 10, 10, 3, 3, 3, 1, 1, 1, 0}, /* ceil_mode borders */
        {CLCONV_POOL_MAX, 1, 1, 11, 13, 4, 4, 3, 2, 1, 1, 1},
        {CLCONV_POOL_MAX, 2, 5, 31, 67, 3, 3, 2, 1, 1, 1, 1}, /* odd sizes */
        {CLCONV_POOL_AVG, 2, 5, 31, 67, 3, 3, 1, 1, 1, 0, 0},
        {CLCONV_POOL_LP, 2, 5, 31, 67, 3, 2, 2, 0, 1, 1, 1},
        {CLCONV_POOL_MAX, 1, 3, 1, 100, 1, 5, 2, 0, 1, 1, 1}, /* H = 1 */
        {CLCONV_POOL_MAX, 1, 3, 40, 60, 3, 3, 1, 1, 2, 1, 1}, /* dilation with ceil_mode */
        {CLCONV_POOL_MAX, 1, 1, 2, 2, 2, 2, 1, 1, 3, 0, 1},   /* a window with no in-image tap */
        {CLCONV_POOL_AVG, 4, 64, 7, 7, 7, 7, 1, 0, 1, 0, 1},  /* many planes, 1x1 output */
    };
    tu_rng r = tu_rng_make(11);
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        for (int data = 0; data < 3; data++) {
            sweep_case c;
            memset(&c, 0, sizeof c);
            c.p = clconv_pool2d_default_params(e[i].m, e[i].kh, e[i].kw);
            c.p.stride_h = c.p.stride_w = e[i].s;
            c.p.pad_top = c.p.pad_bottom = c.p.pad_left = c.p.pad_right = e[i].pad;
            c.p.dilation_h = c.p.dilation_w = e[i].d;
            c.p.ceil_mode = e[i].ceil;
            c.p.count_include_pad = e[i].cip;
            c.in = (clconv_shape){e[i].n, e[i].c, e[i].h, e[i].w};
            c.data = e[i].m == CLCONV_POOL_LP && data == 2 ? 1 : data;
            ck_assert_msg(clconv_pool2d_validate(&c.p, &c.in) == CLCONV_SUCCESS, "edge %zu: %s",
                          i, clconv_last_error(NULL));
            check_case(&c, &r, 11, (int)i);
        }
    clconv_shape shapes[] = {{4, 300, 7, 7}, {1, 1, 97, 131}, {3, 2, 1, 1}};
    for (size_t i = 0; i < 3; i++)
        for (int m = 0; m < 2; m++) {
            sweep_case c;
            memset(&c, 0, sizeof c);
            c.p = clconv_pool2d_global_params(m ? CLCONV_POOL_MAX : CLCONV_POOL_AVG);
            c.in = shapes[i];
            c.data = 1;
            check_case(&c, &r, 11, 100 + (int)i);
            c.p.output_h = 5;
            c.p.output_w = 3;
            check_case(&c, &r, 11, 200 + (int)i);
        }
}
END_TEST

/* Two runs of one plan, and a run of a second plan, give identical bytes. */
START_TEST(deterministic)
{
    clconv_context *ctx = tu_ctx();
    tu_rng r = tu_rng_make(5);
    clconv_shape in = {2, 3, 33, 41};
    clconv_pool2d_params ps[4];
    ps[0] = clconv_pool2d_default_params(CLCONV_POOL_AVG, 3, 3);
    ps[0].stride_h = ps[0].stride_w = 1;
    ps[0].pad_top = ps[0].pad_bottom = ps[0].pad_left = ps[0].pad_right = 1;
    ps[1] = clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3);
    ps[1].stride_h = ps[1].stride_w = 1;
    ps[2] = clconv_pool2d_default_params(CLCONV_POOL_ADAPTIVE_AVG, 20, 30);
    ps[3] = clconv_pool2d_default_params(CLCONV_POOL_LP, 3, 3);
    ps[3].stride_h = ps[3].stride_w = 1;
    size_t nx = clconv_shape_elements(in);
    float *x = tu_alloc(nx);
    tu_fill(&r, x, nx, false);
    for (size_t i = 0; i < nx; i++)
        x[i] = fabsf(x[i]) + 0.1f;
    for (int k = 0; k < 4; k++) {
        size_t ny = clconv_shape_elements(out_shape(&ps[k], &in));
        float *dy = tu_alloc(ny);
        tu_fill(&r, dy, ny, false);
        clconv_plan *plan;
        ck_assert_int_eq(clconv_pool2d_backward_plan_create(ctx, &ps[k], &in, NULL, &plan),
                         CLCONV_SUCCESS);
        cl_int err;
        cl_context cc = clconv_context_cl_context(ctx);
        cl_mem bdy = clCreateBuffer(cc, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, ny * 4, dy, &err);
        cl_mem bx = clCreateBuffer(cc, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, nx * 4, x, &err);
        cl_mem bdx = clCreateBuffer(cc, CL_MEM_READ_WRITE, nx * 4, NULL, &err);
        ck_assert_int_eq(err, CL_SUCCESS);
        float *a = tu_alloc(nx), *b = tu_alloc(nx);
        for (int run = 0; run < 2; run++) {
            ck_assert_int_eq(clconv_pool2d_backward_run(plan, bdy, NULL, bx, bdx, 0, NULL, NULL),
                             CLCONV_SUCCESS);
            ck_assert_int_eq(clEnqueueReadBuffer(clconv_context_queue(ctx), bdx, CL_TRUE, 0,
                                                 nx * 4, run ? b : a, 0, NULL, NULL),
                             CL_SUCCESS);
        }
        ck_assert_msg(memcmp(a, b, nx * 4) == 0, "mode %d: two runs differ", (int)ps[k].mode);
        ck_assert_int_eq(clconv_pool2d_backward_host(ctx, &ps[k], &in, NULL, dy, NULL, x, b),
                         CLCONV_SUCCESS);
        ck_assert_msg(memcmp(a, b, nx * 4) == 0, "mode %d: a second plan differs",
                      (int)ps[k].mode);
        free(a);
        free(b);
        free(dy);
        clReleaseMemObject(bdy);
        clReleaseMemObject(bx);
        clReleaseMemObject(bdx);
        clconv_plan_destroy(plan);
    }
    free(x);
}
END_TEST

START_TEST(plan_info)
{
    clconv_context *ctx = tu_ctx();
    clconv_shape in = {2, 3, 17, 19};
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3);
    p.stride_h = p.stride_w = 2;
    clconv_plan *plan;
    ck_assert_int_eq(clconv_pool2d_backward_plan_create(ctx, &p, &in, NULL, &plan),
                     CLCONV_SUCCESS);
    clconv_plan_info info;
    ck_assert_int_eq(clconv_plan_get_info(plan, &info), CLCONV_SUCCESS);
    ck_assert_int_eq(info.algorithm, CLCONV_ALGO_POOL);
    ck_assert_str_eq(info.kernel_name, "pool2d_backward_window");
    ck_assert_str_eq(info.build_options, "-DMODE=1");
    ck_assert_int_eq(info.input.h, 17);
    ck_assert_int_eq(info.output.h, 8);
    ck_assert_int_eq(info.output.w, 9);
    ck_assert(info.bytes == (double)(2 * 3 * (17 * 19 + 8 * 9) * 4));
    ck_assert(info.flops == (double)(2 * 3 * 8 * 9 * 9));
    ck_assert_uint_eq(info.workspace_bytes, 0);
    ck_assert_uint_ge(info.global_size[0], 2 * 3 * 17 * 19);
    ck_assert_uint_eq(info.global_size[0] % info.local_size[0], 0);
    clconv_plan_destroy(plan);
    p = clconv_pool2d_global_params(CLCONV_POOL_AVG);
    clconv_plan_options o = {.algorithm = CLCONV_ALGO_POOL, .wg_w = 8};
    ck_assert_int_eq(clconv_pool2d_backward_plan_create(ctx, &p, &in, &o, &plan),
                     CLCONV_SUCCESS);
    clconv_plan_get_info(plan, &info);
    ck_assert_str_eq(info.kernel_name, "pool2d_backward_adaptive");
    ck_assert_uint_eq(info.local_size[0], 8);
    ck_assert(info.flops == (double)(2 * 3 * 17 * 19));
    clconv_plan_destroy(plan);
}
END_TEST

/* ---- bad input ------------------------------------------------------------ */

static void expect_fail(clconv_status got, clconv_status want, const clconv_context *ctx,
                        const char *needle)
{
    ck_assert_msg(got == want, "expected %s for '%s', got %s (%s)", clconv_status_string(want),
                  needle, clconv_status_string(got), clconv_last_error(ctx));
    ck_assert_msg(strstr(clconv_last_error(ctx), needle) != NULL, "message '%s' lacks '%s'",
                  clconv_last_error(ctx), needle);
}

START_TEST(bad_parameters)
{
    clconv_context *ctx = tu_ctx();
    const clconv_pool2d_params ok = clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3);
    const clconv_shape in = {1, 2, 8, 8};
    float buf[256] = {0};
    int64_t ibuf[64] = {0};
    clconv_plan *plan;
#define BAD(field, value, status, needle)                                                   \
    do {                                                                                    \
        clconv_pool2d_params p = ok;                                                        \
        clconv_shape s = in;                                                                \
        field = value;                                                                      \
        plan = (clconv_plan *)1;                                                            \
        expect_fail(clconv_pool2d_backward_plan_create(ctx, &p, &s, NULL, &plan), status,   \
                    ctx, needle);                                                           \
        ck_assert_ptr_null(plan);                                                           \
        expect_fail(clconv_ref_pool2d_backward(&p, &s, buf, ibuf, buf, buf + 128), status,  \
                    NULL, needle);                                                          \
        expect_fail(clconv_pool2d_backward_host(ctx, &p, &s, NULL, buf, ibuf, buf, buf + 128),    \
                    status, ctx, needle);                                                   \
    } while (0)
    BAD(p.pad_top, 2, CLCONV_ERROR_INVALID_VALUE, "pad_top = 2, expected <= kernel_h / 2 = 1");
    BAD(p.pad_right, 2, CLCONV_ERROR_INVALID_VALUE, "pad_right = 2, expected <= kernel_w / 2 = 1");
    BAD(p.stride_w, 0, CLCONV_ERROR_INVALID_VALUE, "stride_w = 0");
    BAD(p.kernel_h, -1, CLCONV_ERROR_INVALID_VALUE, "kernel_h = -1");
    BAD(p.dilation_h, 0, CLCONV_ERROR_INVALID_VALUE, "dilation_h = 0");
    BAD(p.mode, (clconv_pool_mode)0, CLCONV_ERROR_INVALID_VALUE, "mode = 0");
    BAD(p.divisor_override, 3, CLCONV_ERROR_INVALID_VALUE, "divisor_override = 3 with mode = max");
    BAD(p.kernel_w, 9, CLCONV_ERROR_INVALID_SHAPE, "no output");
    BAD(s.n, 0, CLCONV_ERROR_INVALID_SHAPE, "input.n = 0");
#undef BAD
    clconv_pool2d_params lpbad = clconv_pool2d_default_params(CLCONV_POOL_LP, 2, 2);
    lpbad.norm_type = NAN;
    expect_fail(clconv_pool2d_backward_plan_create(ctx, &lpbad, &in, NULL, &plan),
                CLCONV_ERROR_INVALID_VALUE, ctx, "norm_type = nan");
    /* Which arrays each mode needs. */
    clconv_pool2d_params avg = clconv_pool2d_default_params(CLCONV_POOL_AVG, 2, 2);
    clconv_pool2d_params lp = clconv_pool2d_default_params(CLCONV_POOL_LP, 2, 2);
    expect_fail(clconv_ref_pool2d_backward(&avg, &in, buf, ibuf, NULL, buf + 128),
                CLCONV_ERROR_INVALID_VALUE, NULL,
                "indices: an array was given but mode = avg has no indices");
    expect_fail(clconv_pool2d_backward_host(ctx, &avg, &in, NULL, buf, ibuf, NULL, buf + 128),
                CLCONV_ERROR_INVALID_VALUE, ctx, "mode = avg has no indices");
    expect_fail(clconv_ref_pool2d_backward(&lp, &in, buf, NULL, NULL, buf + 128),
                CLCONV_ERROR_INVALID_VALUE, NULL, "x: NULL with mode = lp");
    expect_fail(clconv_pool2d_backward_host(ctx, &lp, &in, NULL, buf, NULL, NULL, buf + 128),
                CLCONV_ERROR_INVALID_VALUE, ctx, "x: NULL with mode = lp");
    expect_fail(clconv_ref_pool2d_backward(&ok, &in, buf, NULL, NULL, buf + 128),
                CLCONV_ERROR_INVALID_VALUE, NULL, "indices and x: both NULL with mode = max");
    expect_fail(clconv_ref_pool2d_backward(&ok, &in, NULL, ibuf, NULL, buf),
                CLCONV_ERROR_INVALID_VALUE, NULL, "dy: NULL");
    expect_fail(clconv_pool2d_backward_host(ctx, &ok, &in, NULL, buf, ibuf, NULL, NULL),
                CLCONV_ERROR_INVALID_VALUE, ctx, "dx: NULL");
    expect_fail(clconv_pool2d_backward_host(NULL, &ok, &in, NULL, buf, ibuf, NULL, buf),
                CLCONV_ERROR_INVALID_VALUE, NULL, "ctx: NULL");
    expect_fail(clconv_pool2d_backward_plan_create(ctx, NULL, &in, NULL, &plan),
                CLCONV_ERROR_INVALID_VALUE, ctx, "params: NULL");
    expect_fail(clconv_pool2d_backward_plan_create(ctx, &ok, &in, NULL, NULL),
                CLCONV_ERROR_INVALID_VALUE, ctx, "out: NULL");
    clconv_plan_options o = {.algorithm = CLCONV_ALGO_GEMM};
    expect_fail(clconv_pool2d_backward_plan_create(ctx, &ok, &in, &o, &plan),
                CLCONV_ERROR_UNSUPPORTED, ctx, "options.algorithm = gemm");
    o = (clconv_plan_options){.wg_w = 2000};
    expect_fail(clconv_pool2d_backward_plan_create(ctx, &ok, &in, &o, &plan),
                CLCONV_ERROR_INVALID_VALUE, ctx, "options.wg_w = 2000");
}
END_TEST

START_TEST(bad_buffers)
{
    clconv_context *ctx = tu_ctx();
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    clconv_shape in = {2, 3, 6, 6}; /* out 2x3x3x3 */
    clconv_plan *plan;
    ck_assert_int_eq(clconv_pool2d_backward_plan_create(ctx, &p, &in, NULL, &plan),
                     CLCONV_SUCCESS);
    cl_int err;
    cl_context cc = clconv_context_cl_context(ctx);
    cl_mem x = clCreateBuffer(cc, CL_MEM_READ_WRITE, 216 * 4, NULL, &err);
    cl_mem dx = clCreateBuffer(cc, CL_MEM_READ_WRITE, 216 * 4, NULL, &err);
    cl_mem dy = clCreateBuffer(cc, CL_MEM_READ_WRITE, 54 * 4, NULL, &err);
    cl_mem idx = clCreateBuffer(cc, CL_MEM_READ_WRITE, 54 * 8, NULL, &err);
    cl_mem small = clCreateBuffer(cc, CL_MEM_READ_WRITE, 8, NULL, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    /* Zeroed indices name cell 0, in the first window only. */
    cl_long zero = 0;
    ck_assert_int_eq(clEnqueueFillBuffer(clconv_context_queue(ctx), idx, &zero, 8, 0, 54 * 8, 0,
                                         NULL, NULL), CL_SUCCESS);
    expect_fail(clconv_pool2d_backward_run(plan, NULL, idx, NULL, dx, 0, NULL, NULL),
                CLCONV_ERROR_INVALID_VALUE, ctx, "dy: NULL");
    expect_fail(clconv_pool2d_backward_run(plan, dy, idx, NULL, NULL, 0, NULL, NULL),
                CLCONV_ERROR_INVALID_VALUE, ctx, "dx: NULL");
    expect_fail(clconv_pool2d_backward_run(plan, dy, NULL, NULL, dx, 0, NULL, NULL),
                CLCONV_ERROR_INVALID_VALUE, ctx, "indices and x: both NULL");
    expect_fail(clconv_pool2d_backward_run(plan, small, idx, NULL, dx, 0, NULL, NULL),
                CLCONV_ERROR_BUFFER_TOO_SMALL, ctx, "dy: 8 bytes, expected at least 216");
    expect_fail(clconv_pool2d_backward_run(plan, dy, idx, NULL, small, 0, NULL, NULL),
                CLCONV_ERROR_BUFFER_TOO_SMALL, ctx, "dx: 8 bytes, expected at least 864");
    expect_fail(clconv_pool2d_backward_run(plan, dy, NULL, small, dx, 0, NULL, NULL),
                CLCONV_ERROR_BUFFER_TOO_SMALL, ctx, "x: 8 bytes, expected at least 864");
    expect_fail(clconv_pool2d_backward_run(plan, dy, small, NULL, dx, 0, NULL, NULL),
                CLCONV_ERROR_BUFFER_TOO_SMALL, ctx,
                "indices: 8 bytes, expected at least 432 bytes (54 int64)");
    expect_fail(clconv_pool2d_backward_run(plan, dy, idx, NULL, dy, 0, NULL, NULL),
                CLCONV_ERROR_BUFFER_TOO_SMALL, ctx, "dx: 216 bytes");
    expect_fail(clconv_pool2d_backward_run(plan, dx, idx, NULL, dx, 0, NULL, NULL),
                CLCONV_ERROR_INVALID_VALUE, ctx, "dx: must not be the same buffer as dy");
    expect_fail(clconv_pool2d_backward_run(plan, dy, NULL, x, x, 0, NULL, NULL),
                CLCONV_ERROR_INVALID_VALUE, ctx, "dx: must not be the same buffer as x");
    expect_fail(clconv_pool2d_backward_run(plan, dy, idx, NULL, dx, 1, NULL, NULL),
                CLCONV_ERROR_INVALID_VALUE, ctx, "num_wait = 1 with wait_list NULL");
    expect_fail(clconv_pool2d_backward_run(NULL, dy, idx, NULL, dx, 0, NULL, NULL),
                CLCONV_ERROR_INVALID_VALUE, NULL, "plan: NULL");
    /* The wait list and the completion event work without any clFinish. */
    cl_event gate = clCreateUserEvent(cc, &err), done = NULL;
    ck_assert_int_eq(err, CL_SUCCESS);
    float ones[54];
    for (int i = 0; i < 54; i++)
        ones[i] = 1;
    ck_assert_int_eq(clEnqueueWriteBuffer(clconv_context_queue(ctx), dy, CL_TRUE, 0, sizeof ones,
                                          ones, 0, NULL, NULL), CL_SUCCESS);
    ck_assert_int_eq(clconv_pool2d_backward_run(plan, dy, idx, NULL, dx, 1, &gate, &done),
                     CLCONV_SUCCESS);
    cl_int status;
    clGetEventInfo(done, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL);
    ck_assert_int_ne(status, CL_COMPLETE);
    clSetUserEventStatus(gate, CL_COMPLETE);
    ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
    clReleaseEvent(done);
    clReleaseEvent(gate);
    float got[216];
    ck_assert_int_eq(clEnqueueReadBuffer(clconv_context_queue(ctx), dx, CL_TRUE, 0, sizeof got,
                                         got, 0, NULL, NULL), CL_SUCCESS);
    /* Index 0 of every plane's windows: only window (0, 0) spans cell 0. */
    for (int i = 0; i < 216; i++)
        ck_assert_msg(got[i] == (i % 36 == 0 ? 1.0f : 0.0f), "dx[%d] = %g", i, (double)got[i]);
    clconv_plan_destroy(plan);

    /* Indices on an avg plan; lp without x. */
    p.mode = CLCONV_POOL_AVG;
    ck_assert_int_eq(clconv_pool2d_backward_plan_create(ctx, &p, &in, NULL, &plan),
                     CLCONV_SUCCESS);
    expect_fail(clconv_pool2d_backward_run(plan, dy, idx, NULL, dx, 0, NULL, NULL),
                CLCONV_ERROR_INVALID_VALUE, ctx,
                "indices: a buffer was given but mode = avg has no indices");
    /* x is not read by avg: any x, even a small one, is accepted and ignored. */
    ck_assert_int_eq(clconv_pool2d_backward_run(plan, dy, NULL, small, dx, 0, NULL, NULL),
                     CLCONV_SUCCESS);
    clconv_plan_destroy(plan);
    p = clconv_pool2d_default_params(CLCONV_POOL_LP, 2, 2);
    ck_assert_int_eq(clconv_pool2d_backward_plan_create(ctx, &p, &in, NULL, &plan),
                     CLCONV_SUCCESS);
    expect_fail(clconv_pool2d_backward_run(plan, dy, NULL, NULL, dx, 0, NULL, NULL),
                CLCONV_ERROR_INVALID_VALUE, ctx, "x: NULL with mode = lp");
    clconv_plan_destroy(plan);
    ck_assert_int_eq(clFinish(clconv_context_queue(ctx)), CL_SUCCESS);
    cl_mem all[] = {x, dx, dy, idx, small};
    for (int i = 0; i < 5; i++)
        clReleaseMemObject(all[i]);
}
END_TEST

START_TEST(wrong_plan_both_ways)
{
    clconv_context *ctx = tu_ctx();
    cl_int err;
    cl_context cc = clconv_context_cl_context(ctx);
    cl_mem buf[4];
    for (int i = 0; i < 4; i++) {
        buf[i] = clCreateBuffer(cc, CL_MEM_READ_WRITE, 4096, NULL, &err);
        ck_assert_int_eq(err, CL_SUCCESS);
    }
    clconv_shape in = {1, 1, 4, 4};
    clconv_pool2d_params pp = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    clconv_plan *fwd, *bwd;
    ck_assert_int_eq(clconv_pool2d_plan_create(ctx, &pp, &in, NULL, &fwd), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_pool2d_backward_plan_create(ctx, &pp, &in, NULL, &bwd),
                     CLCONV_SUCCESS);
    expect_fail(clconv_pool2d_backward_run(fwd, buf[0], buf[1], NULL, buf[2], 0, NULL, NULL),
                CLCONV_ERROR_WRONG_PLAN, ctx, "clconv_pool2d_backward_run");
    expect_fail(clconv_pool2d_run(bwd, buf[0], buf[2], NULL, 0, NULL, NULL),
                CLCONV_ERROR_WRONG_PLAN, ctx, "clconv_pool2d_run");
    ck_assert_int_eq(clconv_conv2d_run(bwd, buf[0], buf[1], NULL, buf[2], NULL, 0, NULL, NULL),
                     CLCONV_ERROR_WRONG_PLAN);
    /* Both still run through their own functions. */
    ck_assert_int_eq(clconv_pool2d_run(fwd, buf[0], buf[2], buf[3], 0, NULL, NULL),
                     CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_pool2d_backward_run(bwd, buf[2], buf[3], NULL, buf[1], 0, NULL, NULL),
                     CLCONV_SUCCESS);
    ck_assert_int_eq(clFinish(clconv_context_queue(ctx)), CL_SUCCESS);
    clconv_plan_destroy(fwd);
    clconv_plan_destroy(bwd);
    for (int i = 0; i < 4; i++)
        clReleaseMemObject(buf[i]);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("pool2d_backward");
    TCase *known = tcase_create("hand-computed");
    tcase_set_timeout(known, 300);
    tcase_add_test(known, max_known_argmax);
    tcase_add_test(known, avg_padding_both_ways);
    tcase_add_test(known, avg_ceil_mode);
    tcase_add_test(known, lp_known);
    tcase_add_test(known, adaptive_and_global_known);
    suite_add_tcase(s, known);
    TCase *math = tcase_create("calculus");
    tcase_set_timeout(math, 300);
    tcase_add_test(math, finite_differences);
    tcase_add_test(math, avg_adjoint);
    suite_add_tcase(s, math);
    TCase *sweep = tcase_create("sweep");
    tcase_set_timeout(sweep, 600);
    tcase_add_test(sweep, random_sweep);
    tcase_add_test(sweep, edge_shapes);
    tcase_add_test(sweep, deterministic);
    tcase_add_test(sweep, plan_info);
    suite_add_tcase(s, sweep);
    TCase *bad = tcase_create("bad-input");
    tcase_add_test(bad, bad_parameters);
    tcase_add_test(bad, bad_buffers);
    tcase_add_test(bad, wrong_plan_both_ways);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}

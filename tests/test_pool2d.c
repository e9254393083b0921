/* pool2d: the seeds' worked examples, PyTorch's rules (ceil_mode borders,
 * count_include_pad, divisor_override, lp_pool2d's formula, adaptive windows,
 * NaN and -inf), a randomized sweep over every parameter against the CPU
 * reference, edge shapes and bad input. */
#include "pool_tester.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------- */

static bool mode_has_indices(clconv_pool_mode m)
{
    return m == CLCONV_POOL_MAX || m == CLCONV_POOL_ADAPTIVE_MAX;
}

static size_t out_elems(const clconv_pool2d_params *p, const clconv_shape *in)
{
    clconv_shape os;
    clconv_status st = clconv_pool2d_output_shape(p, in, &os);
    ck_assert_msg(st == CLCONV_SUCCESS, "output shape: %s", clconv_last_error(NULL));
    return clconv_shape_elements(os);
}

/* Runs p on the device through the shared tester (pool_tester.h). */
static float *device_pool(const clconv_pool2d_params *p, const clconv_shape *in, const float *x,
                          const clconv_plan_options *opt, int64_t **idx)
{
    return tu_pool2d_run(tu_ctx(), p, in, x, opt, idx, NULL, "pool2d");
}

/* got == want elementwise within rtol (0: bit-exact; NaN meets NaN). */
static void expect_values(const float *got, const float *want, size_t n, double rtol,
                          const char *what)
{
    tu_expect_close(got, want, n, 0.0, rtol, what);
}

static void expect_indices(const int64_t *got, const int64_t *want, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "%s: index %zu = %lld, expected %lld", what, i,
                      (long long)got[i], (long long)want[i]);
}

/* Golden check of the reference, the device (default tiling and 3 outputs per
 * work-item) and the host convenience call. want_idx may be NULL. */
static void golden(const clconv_pool2d_params *p, const clconv_shape *in, const float *x,
                   const float *want, const int64_t *want_idx, size_t nwant, double rtol)
{
    ck_assert_uint_eq(out_elems(p, in), nwant);
    bool wi = mode_has_indices(p->mode);
    float *ref = tu_alloc(nwant);
    int64_t *ref_idx = calloc(nwant, sizeof(int64_t));
    ck_assert_int_eq(clconv_ref_pool2d(p, in, x, ref, wi ? ref_idx : NULL), CLCONV_SUCCESS);
    expect_values(ref, want, nwant, rtol, "reference");
    if (want_idx)
        expect_indices(ref_idx, want_idx, nwant, "reference");
    const clconv_plan_options opts[2] = {{0}, {.block_w = 3}};
    for (int o = 0; o < 2; o++) {
        int64_t *idx = NULL;
        float *y = device_pool(p, in, x, &opts[o], wi ? &idx : NULL);
        expect_values(y, want, nwant, rtol, o ? "device block_w=3" : "device");
        if (want_idx)
            expect_indices(idx, want_idx, nwant, "device");
        free(y);
        free(idx);
    }
    float *y = tu_alloc(nwant);
    int64_t *idx = calloc(nwant, sizeof(int64_t));
    ck_assert_msg(clconv_pool2d_host(tu_ctx(), p, in, NULL, x, y, wi ? idx : NULL) == CLCONV_SUCCESS,
                  "host: %s", clconv_last_error(tu_ctx()));
    expect_values(y, want, nwant, rtol, "clconv_pool2d_host");
    if (want_idx)
        expect_indices(idx, want_idx, nwant, "clconv_pool2d_host");
    free(y);
    free(idx);
    free(ref);
    free(ref_idx);
}

static void iota(float *x, size_t n, float start)
{
    for (size_t i = 0; i < n; i++)
        x[i] = start + (float)i;
}

/* ---- the seeds' worked examples ------------------------------------------- */

START_TEST(seed_3x3_2x2)
{
    float x[9];
    iota(x, 9, 0);
    clconv_shape in = {1, 1, 3, 3};
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    p.stride_h = p.stride_w = 1;
    const float want_max[4] = {4, 5, 7, 8};
    const int64_t want_idx[4] = {4, 5, 7, 8};
    golden(&p, &in, x, want_max, want_idx, 4, 0);
    p.mode = CLCONV_POOL_AVG;
    const float want_avg[4] = {2, 3, 5, 6};
    golden(&p, &in, x, want_avg, NULL, 4, 0);
}
END_TEST

START_TEST(seed_4x4_maxpool)
{
    float x[16];
    iota(x, 16, 0);
    clconv_shape in = {1, 1, 4, 4};
    /* nn.MaxPool2d(3): stride defaults to the kernel. */
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3);
    const float w1[1] = {10};
    const int64_t i1[1] = {10};
    golden(&p, &in, x, w1, i1, 1, 0);
    /* nn.MaxPool2d(3, padding=1, stride=2) */
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.stride_h = p.stride_w = 2;
    const float w2[4] = {5, 7, 13, 15};
    const int64_t i2[4] = {5, 7, 13, 15};
    golden(&p, &in, x, w2, i2, 4, 0);
    /* nn.MaxPool2d((2, 4), padding=(1, 2), stride=(2, 3)) */
    p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 4);
    p.pad_top = p.pad_bottom = 1;
    p.pad_left = p.pad_right = 2;
    p.stride_h = 2;
    p.stride_w = 3;
    const float w3[6] = {1, 3, 9, 11, 13, 15};
    golden(&p, &in, x, w3, (const int64_t[6]){1, 3, 9, 11, 13, 15}, 6, 0);
}
END_TEST

START_TEST(seed_two_channels)
{
    /* torch.cat((X, X + 1), 1) with nn.MaxPool2d(3, padding=1, stride=2):
     * channels are pooled independently and indices are per plane. */
    float x[32];
    iota(x, 16, 0);
    iota(x + 16, 16, 1);
    clconv_shape in = {1, 2, 4, 4};
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3);
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.stride_h = p.stride_w = 2;
    const float want[8] = {5, 7, 13, 15, 6, 8, 14, 16};
    const int64_t want_idx[8] = {5, 7, 13, 15, 5, 7, 13, 15};
    golden(&p, &in, x, want, want_idx, 8, 0);
    /* The same two planes as a batch of 2 x 1 channel. */
    in = (clconv_shape){2, 1, 4, 4};
    golden(&p, &in, x, want, want_idx, 8, 0);
}
END_TEST

/* ---- PyTorch's rules ------------------------------------------------------ */

START_TEST(ceil_mode_borders)
{
    float x[25];
    iota(x, 25, 0);
    clconv_shape in = {1, 1, 5, 5};
    /* MaxPool2d(2, ceil_mode=True) on 5x5: a third, clipped window per axis. */
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    p.ceil_mode = 1;
    const float w[9] = {6, 8, 9, 16, 18, 19, 21, 23, 24};
    golden(&p, &in, x, w, (const int64_t[9]){6, 8, 9, 16, 18, 19, 21, 23, 24}, 9, 0);
    /* AvgPool2d(2, ceil_mode=True): the border window divides by its clipped size. */
    p.mode = CLCONV_POOL_AVG;
    const float wa[9] = {3, 5, 6.5f, 13, 15, 16.5f, 20.5f, 22.5f, 24};
    golden(&p, &in, x, wa, NULL, 9, 0);

    /* With padding 1 the window that would start in the right padding is
     * dropped: (out-1)*stride >= in + pad. */
    p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.ceil_mode = 1;
    clconv_shape os;
    ck_assert_int_eq(clconv_pool2d_output_shape(&p, &in, &os), CLCONV_SUCCESS);
    ck_assert_int_eq(os.h, 3);
    ck_assert_int_eq(os.w, 3);
    /* 6x6 input, k=3 s=2: ceil gives 3 (floor 2); k=2 s=2 p=1: 4 both ways. */
    in = (clconv_shape){1, 1, 6, 6};
    p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3);
    p.stride_h = p.stride_w = 2;
    ck_assert_int_eq(clconv_pool2d_output_shape(&p, &in, &os), CLCONV_SUCCESS);
    ck_assert_int_eq(os.h, 2);
    p.ceil_mode = 1;
    ck_assert_int_eq(clconv_pool2d_output_shape(&p, &in, &os), CLCONV_SUCCESS);
    ck_assert_int_eq(os.h, 3);
}
END_TEST

START_TEST(avg_padding_divisors)
{
    /* ones(4, 4), AvgPool2d(3, stride=2, padding=1, ceil_mode=True): windows
     * per axis start at -1, 1, 3. The third is clipped to in + pad = 5, so it
     * counts 2 cells of which 1 is in the image. */
    float x[16];
    for (int i = 0; i < 16; i++)
        x[i] = 1;
    clconv_shape in = {1, 1, 4, 4};
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_AVG, 3, 3);
    p.stride_h = p.stride_w = 2;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.ceil_mode = 1;
    const int img[3] = {2, 3, 1}, pool[3] = {3, 3, 2};
    float want[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            want[i * 3 + j] = (float)(img[i] * img[j]) / (float)(pool[i] * pool[j]);
    golden(&p, &in, x, want, NULL, 9, 1e-6);
    p.count_include_pad = 0; /* divide by the in-image cells: all ones */
    for (int i = 0; i < 9; i++)
        want[i] = 1;
    golden(&p, &in, x, want, NULL, 9, 0);
    p.divisor_override = 2; /* every window's sum over 2, padding or not */
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            want[i * 3 + j] = (float)(img[i] * img[j]) / 2.0f;
    golden(&p, &in, x, want, NULL, 9, 0);
    p.count_include_pad = 1; /* the override wins over count_include_pad too */
    golden(&p, &in, x, want, NULL, 9, 0);
}
END_TEST

START_TEST(asymmetric_padding)
{
    /* 1..9 on 3x3, kernel 2, stride 2, padding top 1, bottom 0, left 0,
     * right 1 (ONNX pads [1, 0, 0, 1]): output 2x2 (pooling_output_shape_pad_lr),
     * windows rows [-1, 1) and [1, 3), columns [0, 2) and [2, 4). */
    float x[9];
    iota(x, 9, 1);
    clconv_shape in = {1, 1, 3, 3}, out;
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    p.pad_top = 1;
    p.pad_right = 1;
    ck_assert_int_eq(clconv_pool2d_output_shape(&p, &in, &out), CLCONV_SUCCESS);
    ck_assert_msg(out.h == 2 && out.w == 2, "output %lldx%lld, expected 2x2", (long long)out.h,
                  (long long)out.w);
    golden(&p, &in, x, (const float[4]){2, 3, 8, 9}, (const int64_t[4]){1, 2, 7, 8}, 4, 0);
    /* count_include_pad: every window is clipped to the padded input [-1, 3) x
     * [0, 4), so each divides by 4: 3/4, 3/4, 24/4, 15/4. */
    p.mode = CLCONV_POOL_AVG;
    golden(&p, &in, x, (const float[4]){0.75f, 0.75f, 6, 3.75f}, NULL, 4, 0);
    p.count_include_pad = 0; /* the in-image cells: 3/2, 3/1, 24/4, 15/2 */
    golden(&p, &in, x, (const float[4]){1.5f, 3, 6, 7.5f}, NULL, 4, 0);
    /* The sides are not interchangeable: bottom 1 instead of top 1 moves the
     * windows down a row (rows [0, 2) and [2, 4)). */
    p.pad_top = 0;
    p.pad_bottom = 1;
    p.count_include_pad = 1;
    golden(&p, &in, x, (const float[4]){12.0f / 4, 9.0f / 4, 15.0f / 4, 9.0f / 4}, NULL, 4, 0);

    /* Asymmetric padding is pooling over the explicitly padded input (zeros
     * for avg with count_include_pad, -inf for max) with no padding, when no
     * ceil_mode window hangs over: seeded shapes, device against device. */
    tu_rng r = tu_rng_make(0xa5e7);
    for (int i = 0; i < 24; i++) {
        bool max = i % 2 == 0;
        clconv_pool2d_params q =
            clconv_pool2d_default_params(max ? CLCONV_POOL_MAX : CLCONV_POOL_AVG,
                                         tu_int(&r, 1, 4), tu_int(&r, 1, 4));
        q.stride_h = tu_int(&r, 1, 3);
        q.stride_w = tu_int(&r, 1, 3);
        q.pad_top = tu_int(&r, 0, (int)q.kernel_h / 2);
        q.pad_bottom = tu_int(&r, 0, (int)q.kernel_h / 2);
        q.pad_left = tu_int(&r, 0, (int)q.kernel_w / 2);
        q.pad_right = tu_int(&r, 0, (int)q.kernel_w / 2);
        clconv_shape s = {tu_int(&r, 1, 2), tu_int(&r, 1, 3), tu_int(&r, 3, 11), tu_int(&r, 3, 13)};
        clconv_shape padded = {s.n, s.c, s.h + q.pad_top + q.pad_bottom,
                               s.w + q.pad_left + q.pad_right};
        size_t nx = (size_t)(s.n * s.c * s.h * s.w), np = (size_t)(padded.n * padded.c *
                                                                    padded.h * padded.w);
        float *xs = tu_alloc(nx), *xp = tu_alloc(np);
        tu_fill(&r, xs, nx, false);
        for (size_t k = 0; k < np; k++)
            xp[k] = max ? -INFINITY : 0.0f;
        for (int64_t pl = 0; pl < s.n * s.c; pl++)
            for (int64_t h = 0; h < s.h; h++)
                for (int64_t w = 0; w < s.w; w++)
                    xp[(pl * padded.h + h + q.pad_top) * padded.w + w + q.pad_left] =
                        xs[(pl * s.h + h) * s.w + w];
        clconv_pool2d_params u = q;
        u.pad_top = u.pad_bottom = u.pad_left = u.pad_right = 0;
        clconv_shape o1, o2;
        ck_assert_int_eq(clconv_pool2d_output_shape(&q, &s, &o1), CLCONV_SUCCESS);
        ck_assert_int_eq(clconv_pool2d_output_shape(&u, &padded, &o2), CLCONV_SUCCESS);
        ck_assert_msg(o1.h == o2.h && o1.w == o2.w, "case %d: output %lldx%lld vs %lldx%lld", i,
                      (long long)o1.h, (long long)o1.w, (long long)o2.h, (long long)o2.w);
        float *y1 = device_pool(&q, &s, xs, NULL, NULL);
        float *y2 = device_pool(&u, &padded, xp, NULL, NULL);
        size_t ny = (size_t)(o1.n * o1.c * o1.h * o1.w);
        for (size_t k = 0; k < ny; k++)
            ck_assert_msg(y1[k] == y2[k] || fabsf(y1[k] - y2[k]) <= 1e-6f * fabsf(y2[k]),
                          "case %d (%s k %lldx%lld s %lldx%lld pad %lld,%lld,%lld,%lld): "
                          "y[%zu] = %g, padded input gives %g", i, max ? "max" : "avg",
                          (long long)q.kernel_h, (long long)q.kernel_w, (long long)q.stride_h,
                          (long long)q.stride_w, (long long)q.pad_top, (long long)q.pad_bottom,
                          (long long)q.pad_left, (long long)q.pad_right, k, y1[k], y2[k]);
        free(xs);
        free(xp);
        free(y1);
        free(y2);
    }
}
END_TEST

START_TEST(max_padding_and_dilation)
{
    /* Padding never wins: an all-negative image keeps its values at the border. */
    float x[16];
    for (int i = 0; i < 16; i++)
        x[i] = -5.0f - (float)i;
    clconv_shape in = {1, 1, 4, 4};
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3);
    p.stride_h = p.stride_w = 1;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    float want[16];
    int64_t want_idx[16];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            int ih = i > 0 ? i - 1 : 0, iw = j > 0 ? j - 1 : 0;
            want[i * 4 + j] = x[ih * 4 + iw];
            want_idx[i * 4 + j] = ih * 4 + iw;
        }
    golden(&p, &in, x, want, want_idx, 16, 0);
    /* count_include_pad averages the padding in as zeros; without it not. */
    p.mode = CLCONV_POOL_AVG;
    float ref[16];
    ck_assert_int_eq(clconv_ref_pool2d(&p, &in, x, ref, NULL), CLCONV_SUCCESS);
    ck_assert_float_eq_tol(ref[0], (x[0] + x[1] + x[4] + x[5]) / 9.0f, 1e-5);
    p.count_include_pad = 0;
    ck_assert_int_eq(clconv_ref_pool2d(&p, &in, x, ref, NULL), CLCONV_SUCCESS);
    ck_assert_float_eq_tol(ref[0], (x[0] + x[1] + x[4] + x[5]) / 4.0f, 1e-5);

    /* MaxPool2d(2, stride=1, dilation=2) on 0..15. */
    iota(x, 16, 0);
    p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    p.stride_h = p.stride_w = 1;
    p.dilation_h = p.dilation_w = 2;
    golden(&p, &in, x, (const float[4]){10, 11, 14, 15}, (const int64_t[4]){10, 11, 14, 15}, 4,
           0);
    /* A dilated window with no in-image tap (2x2 input, k=2, d=3, pad=1: taps
     * -1 and 2): PyTorch yields -inf with the index of the first tap past the
     * padding, (2, 2) -> 2*2 + 2 = 6, outside the plane. */
    in = (clconv_shape){1, 1, 2, 2};
    p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    p.stride_h = p.stride_w = 1;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    p.dilation_h = p.dilation_w = 3;
    golden(&p, &in, x, (const float[1]){-INFINITY}, (const int64_t[1]){6}, 1, 0);
}
END_TEST

START_TEST(nan_and_inf)
{
    clconv_shape in = {1, 1, 2, 4};
    /* Two 2x2 windows: NaN wins (the last NaN, row-major), +inf beats all. */
    float x[8] = {1, NAN, 7, INFINITY, 3, NAN, -INFINITY, 2};
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    golden(&p, &in, x, (const float[2]){NAN, INFINITY}, (const int64_t[2]){5, 3}, 2, 0);
    /* All -inf: -inf with the first index; a tie keeps the first maximum. */
    float y[8] = {-INFINITY, -INFINITY, 4, 1, -INFINITY, -INFINITY, 4, 4};
    golden(&p, &in, y, (const float[2]){-INFINITY, 4}, (const int64_t[2]){0, 2}, 2, 0);
    /* -inf with padding: the padded cells (virtual) never replace it by 0. */
    in = (clconv_shape){1, 1, 1, 1};
    float z[1] = {-INFINITY};
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 1;
    golden(&p, &in, z, (const float[1]){-INFINITY}, (const int64_t[1]){0}, 1, 0);
    /* Averages propagate NaN, and inf + -inf is NaN. */
    in = (clconv_shape){1, 1, 2, 4};
    p = clconv_pool2d_default_params(CLCONV_POOL_AVG, 2, 2);
    float w[8] = {1, NAN, INFINITY, 1, 3, 4, -INFINITY, 2};
    golden(&p, &in, w, (const float[2]){NAN, NAN}, NULL, 2, 0);
    float v[8] = {1, 2, INFINITY, 1, 3, 4, 5, 2};
    golden(&p, &in, v, (const float[2]){2.5f, INFINITY}, NULL, 2, 0);
    /* Adaptive max follows the same rule. */
    p = clconv_pool2d_global_params(CLCONV_POOL_MAX);
    golden(&p, &in, x, (const float[1]){NAN}, (const int64_t[1]){5}, 1, 0);
    golden(&p, &in, y, (const float[1]){4}, (const int64_t[1]){2}, 1, 0);
}
END_TEST

START_TEST(lp_pool)
{
    /* nn.LPPool2d(2, 2, stride=1) on 3x3 1..9: sqrt of the window's sum of squares. */
    float x[9];
    iota(x, 9, 1);
    clconv_shape in = {1, 1, 3, 3};
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_LP, 2, 2);
    p.stride_h = p.stride_w = 1;
    float want[4];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            float a = x[i * 3 + j], b = x[i * 3 + j + 1], c = x[i * 3 + j + 3], d = x[i * 3 + j + 4];
            want[i * 2 + j] = sqrtf(a * a + b * b + c * c + d * d);
        }
    golden(&p, &in, x, want, NULL, 4, 1e-6);
    /* p = 1 is the window sum; p = 3 the cube root of the sum of cubes. */
    p.norm_type = 1;
    golden(&p, &in, x, (const float[4]){12, 16, 24, 28}, NULL, 4, 1e-6);
    p.norm_type = 3;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double s = 0;
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < 2; b++)
                    s += pow(x[(i + a) * 3 + j + b], 3);
            want[i * 2 + j] = (float)cbrt(s);
        }
    golden(&p, &in, x, want, NULL, 4, 2e-6);
    /* A negative sum: sign(a) * relu(|a|) keeps it negative, then pow(-7, 1/3)
     * is NaN as in PyTorch; with p = 1 the negative sum comes through. */
    float neg[4] = {-2, 1, 0, 0};
    in = (clconv_shape){1, 1, 2, 2};
    golden(&p, &in, neg, (const float[1]){NAN}, NULL, 1, 0);
    p.norm_type = 1;
    golden(&p, &in, neg, (const float[1]){-1}, NULL, 1, 0);
    /* ceil_mode: the border window's mean is scaled by the full kw*kh, as
     * lp_pool2d computes avg_pool2d(x^p) * kw * kh. ones(3,3), k=2 s=2: all 2. */
    float ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    in = (clconv_shape){1, 1, 3, 3};
    p = clconv_pool2d_default_params(CLCONV_POOL_LP, 2, 2);
    p.ceil_mode = 1;
    golden(&p, &in, ones, (const float[4]){2, 2, 2, 2}, NULL, 4, 1e-6);
}
END_TEST

START_TEST(adaptive_and_global)
{
    float x[25];
    iota(x, 25, 0);
    clconv_shape in = {1, 1, 5, 5};
    /* 5 -> 3: windows [0,2), [1,4), [3,5) per axis. */
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_ADAPTIVE_AVG, 3, 3);
    golden(&p, &in, x, (const float[9]){3, 4.5f, 6, 10.5f, 12, 13.5f, 18, 19.5f, 21}, NULL, 9,
           1e-6);
    p.mode = CLCONV_POOL_ADAPTIVE_MAX;
    golden(&p, &in, x, (const float[9]){6, 8, 9, 16, 18, 19, 21, 23, 24},
           (const int64_t[9]){6, 8, 9, 16, 18, 19, 21, 23, 24}, 9, 0);
    /* 2 -> 3 (output larger than the input): windows [0,1), [0,2), [1,2). */
    in = (clconv_shape){1, 1, 2, 2};
    p = clconv_pool2d_default_params(CLCONV_POOL_ADAPTIVE_AVG, 3, 3);
    golden(&p, &in, x, (const float[9]){0, 0.5f, 1, 1, 1.5f, 2, 2, 2.5f, 3}, NULL, 9, 0);
    /* Non-square: 5x5 -> 2x4. */
    in = (clconv_shape){1, 1, 5, 5};
    p = clconv_pool2d_default_params(CLCONV_POOL_ADAPTIVE_MAX, 2, 4);
    golden(&p, &in, x, (const float[8]){11, 12, 13, 14, 21, 22, 23, 24},
           (const int64_t[8]){11, 12, 13, 14, 21, 22, 23, 24}, 8, 0);
    /* Global average and max over two planes. */
    float y[32];
    iota(y, 32, 0);
    in = (clconv_shape){1, 2, 4, 4};
    p = clconv_pool2d_global_params(CLCONV_POOL_AVG);
    ck_assert_int_eq(p.mode, CLCONV_POOL_ADAPTIVE_AVG);
    golden(&p, &in, y, (const float[2]){7.5f, 23.5f}, NULL, 2, 0);
    p = clconv_pool2d_global_params(CLCONV_POOL_MAX);
    golden(&p, &in, y, (const float[2]){15, 31}, (const int64_t[2]){15, 15}, 2, 0);
    /* Global pooling equals a window of the whole input. */
    p = clconv_pool2d_default_params(CLCONV_POOL_AVG, 4, 4);
    golden(&p, &in, y, (const float[2]){7.5f, 23.5f}, NULL, 2, 0);
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
        CLCONV_POOL_MAX, CLCONV_POOL_MAX, CLCONV_POOL_MAX, CLCONV_POOL_AVG, CLCONV_POOL_AVG,
        CLCONV_POOL_AVG, CLCONV_POOL_LP, CLCONV_POOL_ADAPTIVE_AVG, CLCONV_POOL_ADAPTIVE_MAX,
        CLCONV_POOL_ADAPTIVE_MAX};
    c.p = tu_pool2d_random(r, modes, (int)(sizeof modes / sizeof modes[0]), true, &c.in);
    if (tu_int(r, 0, 3) == 0)
        c.opt.block_w = 3;
    if (tu_int(r, 0, 9) == 0)
        c.opt.wg_w = 16;
    c.data = tu_int(r, 0, 5) == 0 ? 2 : tu_int(r, 0, 1);
    return c;
}

static void describe(const sweep_case *c, char *buf, size_t n)
{
    char layer[256];
    tu_pool2d_describe(&c->p, &c->in, layer, sizeof layer);
    snprintf(buf, n, "%s block_w=%d wg_w=%d data=%d", layer, c->opt.block_w, c->opt.wg_w,
             c->data);
}

static void fill_data(tu_rng *r, float *x, size_t n, int data, bool positive)
{
    tu_fill_data(r, x, n, data);
    if (positive)
        for (size_t i = 0; i < n; i++)
            x[i] = fabsf(x[i]);
}

/* Max modes must match bit for bit, indices included; sums within a bound
 * scaled by the same pooling of |x| and the window size. */
static bool check_case(const sweep_case *c, tu_rng *r, uint64_t seed, int i)
{
    const clconv_pool2d_params *p = &c->p;
    size_t nx = clconv_shape_elements(c->in), ny = out_elems(p, &c->in);
    bool lp = p->mode == CLCONV_POOL_LP, maxm = mode_has_indices(p->mode);
    float *x = tu_alloc(nx), *ref = tu_alloc(ny), *scale = tu_alloc(ny);
    /* pow of a negative base to a fractional power is NaN everywhere: keep
     * such cases meaningful with non-negative data. */
    fill_data(r, x, nx, c->data, lp && p->norm_type != floor(p->norm_type));
    int64_t *ref_idx = maxm ? calloc(ny, sizeof(int64_t)) : NULL;
    ck_assert_int_eq(clconv_ref_pool2d(p, &c->in, x, ref, ref_idx), CLCONV_SUCCESS);
    int64_t *idx = NULL;
    float *y = device_pool(p, &c->in, x, &c->opt, maxm ? &idx : NULL);
    char msg[256], what[512];
    long bad;
    double rtol = 0, atol = 0;
    if (!maxm) {
        float *ax = tu_alloc(nx);
        for (size_t j = 0; j < nx; j++)
            ax[j] = fabsf(x[j]);
        clconv_pool2d_params ap = *p;
        ap.divisor_override = p->divisor_override < 0 ? -p->divisor_override : p->divisor_override;
        ck_assert_int_eq(clconv_ref_pool2d(&ap, &c->in, ax, scale, NULL), CLCONV_SUCCESS);
        free(ax);
        double k = (double)(p->kernel_h * p->kernel_w);
        if (p->mode == CLCONV_POOL_ADAPTIVE_AVG)
            k = (double)((c->in.h / p->output_h + 2) * (c->in.w / p->output_w + 2));
        rtol = 4.0 * sqrt(k) * FLT_EPSILON;
        atol = 1e-7;
        if (lp) { /* pow, and the sum's error divided by p */
            rtol = 16.0 * k * FLT_EPSILON;
            atol = 1e-6;
        }
    }
    bad = tu_compare(y, ref, maxm ? NULL : scale, ny, atol, rtol, msg, sizeof msg);
    if (bad < 0 && maxm) {
        for (size_t j = 0; j < ny; j++)
            if (idx[j] != ref_idx[j]) {
                snprintf(msg, sizeof msg, "index %zu = %lld, expected %lld", j,
                         (long long)idx[j], (long long)ref_idx[j]);
                bad = (long)j;
                break;
            }
    }
    if (bad >= 0) {
        describe(c, what, sizeof what);
        ck_abort_msg("sweep seed %llu case %d: %s: %s", (unsigned long long)seed, i, what, msg);
    }
    if (maxm && tu_int(r, 0, 3) == 0) { /* without indices the values are the same */
        float *y2 = device_pool(p, &c->in, x, &c->opt, NULL);
        bad = tu_compare(y2, ref, NULL, ny, 0, 0, msg, sizeof msg);
        if (bad >= 0) {
            describe(c, what, sizeof what);
            ck_abort_msg("sweep seed %llu case %d (no indices): %s: %s",
                         (unsigned long long)seed, i, what, msg);
        }
        free(y2);
    }
    bool nonzero = false;
    for (size_t j = 0; j < ny && !nonzero; j++)
        nonzero = ref[j] != 0.0f;
    free(x);
    free(ref);
    free(scale);
    free(ref_idx);
    free(idx);
    free(y);
    return nonzero;
}

START_TEST(random_sweep)
{
    const uint64_t seed = 20261125;
    tu_rng r = tu_rng_make(seed);
    clconv_cache_stats before, after;
    clconv_context_cache_stats(tu_ctx(), &before);
    const int cases = 400;
    int nonzero = 0;
    for (int i = 0; i < cases; i++) {
        sweep_case c = random_case(&r);
        nonzero += check_case(&c, &r, seed, i);
    }
    /* A sweep of all-zero outputs would compare nothing. */
    ck_assert_int_ge(nonzero, cases * 9 / 10);
    /* The sweep's runtime on CI is its compiles: keep the programs few. */
    clconv_context_cache_stats(tu_ctx(), &after);
    uint64_t programs = after.compiled + after.disk_hits - before.compiled - before.disk_hits;
    ck_assert_msg(programs <= 32, "the sweep built %llu distinct programs, expected <= 32",
                  (unsigned long long)programs);
}
END_TEST

START_TEST(comparator_catches_errors)
{
    /* The sweep's comparisons must fail on a wrong value. */
    float ref[3] = {1, NAN, -INFINITY}, got[3] = {1, NAN, -INFINITY};
    char msg[128];
    ck_assert_int_eq(tu_compare(got, ref, NULL, 3, 0, 0, msg, sizeof msg), -1);
    got[0] = nextafterf(1, 2);
    ck_assert_int_eq(tu_compare(got, ref, NULL, 3, 0, 0, msg, sizeof msg), 0);
    got[0] = 1;
    got[2] = -FLT_MAX;
    ck_assert_int_eq(tu_compare(got, ref, NULL, 3, 0, 0, msg, sizeof msg), 2);
}
END_TEST

/* The CPU kernels' special mappings, each against the reference over the
 * parameters that reach them: stride-1 average windows through
 * pool2d_avg_rows_vec (row sums kept down a column block: padding on either
 * side, both divisor rules, ceil_mode, divisor_override, rows narrower than a
 * vector, the tensor's first and last rows where whole-vector loads would
 * leave the buffer, NaN / inf), and rows wider than 32 vectors, which
 * pool2d_window_vec splits between work-items of one work-group. */
START_TEST(cpu_row_kernels)
{
    struct {
        clconv_pool_mode m;
        int64_t n, c, h, w, k, s, pad;
        int ceil, cip;
        int64_t div;
        int data;
    } e[] = {
        {CLCONV_POOL_AVG, 8, 3, 28, 28, 3, 1, 1, 0, 0, 0, 1},   /* Inception's */
        {CLCONV_POOL_AVG, 1, 2, 28, 28, 3, 1, 1, 0, 1, 0, 1},
        {CLCONV_POOL_AVG, 2, 3, 17, 35, 3, 1, 0, 0, 1, 0, 1},
        {CLCONV_POOL_AVG, 1, 1, 5, 4, 3, 1, 1, 1, 0, 0, 0},     /* 4 wide: half a vector */
        {CLCONV_POOL_AVG, 3, 2, 9, 11, 2, 1, 1, 1, 0, 0, 1},
        {CLCONV_POOL_AVG, 3, 2, 9, 11, 2, 1, 0, 1, 1, 0, 1},
        {CLCONV_POOL_AVG, 2, 2, 13, 19, 3, 1, 1, 0, 1, 5, 1},   /* divisor_override */
        {CLCONV_POOL_AVG, 2, 2, 13, 19, 3, 1, 1, 0, 0, 0, 2},   /* NaN / inf */
        {CLCONV_POOL_AVG, 1, 1, 3, 300, 3, 1, 1, 0, 0, 0, 1},   /* 38 vectors, one column each */
        {CLCONV_POOL_MAX, 1, 2, 5, 600, 3, 2, 1, 0, 1, 0, 2},   /* 38 vectors: two work-items */
        {CLCONV_POOL_MAX, 1, 1, 4, 1030, 2, 2, 0, 1, 1, 0, 1},  /* 65 vectors: three */
        {CLCONV_POOL_AVG, 2, 1, 6, 1030, 3, 2, 1, 1, 0, 0, 1},
    };
    tu_rng r = tu_rng_make(77);
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        sweep_case c;
        memset(&c, 0, sizeof c);
        c.in = (clconv_shape){e[i].n, e[i].c, e[i].h, e[i].w};
        c.p = clconv_pool2d_default_params(e[i].m, e[i].k, e[i].k);
        c.p.stride_h = c.p.stride_w = e[i].s;
        c.p.pad_top = c.p.pad_bottom = c.p.pad_left = c.p.pad_right = e[i].pad;
        c.p.ceil_mode = e[i].ceil;
        c.p.count_include_pad = e[i].cip;
        c.p.divisor_override = e[i].div;
        c.data = e[i].data;
        if (tu_device_is_cpu() && e[i].m == CLCONV_POOL_AVG && e[i].s == 1) {
            clconv_plan *plan;
            ck_assert_int_eq(clconv_pool2d_plan_create(tu_ctx(), &c.p, &c.in, NULL, &plan),
                             CLCONV_SUCCESS);
            clconv_plan_info info;
            clconv_plan_get_info(plan, &info);
            ck_assert_msg(!strcmp(info.kernel_name, "pool2d_avg_rows_vec"), "case %zu: %s", i,
                          info.kernel_name);
            clconv_plan_destroy(plan);
        }
        check_case(&c, &r, 77, (int)i);
        /* A work-group smaller than a row's blocks: they go to separate
         * work-groups, the requested size holds. */
        if (e[i].w > 1000) {
            c.opt.wg_w = 2;
            clconv_plan *plan;
            ck_assert_int_eq(clconv_pool2d_plan_create(tu_ctx(), &c.p, &c.in, &c.opt, &plan),
                             CLCONV_SUCCESS);
            clconv_plan_info info;
            clconv_plan_get_info(plan, &info);
            ck_assert_uint_le(info.local_size[0] * info.local_size[1] * info.local_size[2], 2);
            clconv_plan_destroy(plan);
            check_case(&c, &r, 77, (int)i);
        }
    }
}
END_TEST

START_TEST(edge_shapes)
{
    struct {
        clconv_pool_mode m;
        int64_t n, c, h, w, kh, kw, s, pad, d;
        int ceil, cip;
    } e[] = {
        {CLCONV_POOL_MAX, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1},     /* 1x1 input, 1x1 window */
        {CLCONV_POOL_MAX, 2, 3, 1, 1, 2, 2, 2, 1, 1, 0, 1},     /* 1x1 input, padded window */
        {CLCONV_POOL_AVG, 2, 3, 1, 1, 2, 2, 2, 1, 1, 0, 1},
        {CLCONV_POOL_AVG, 2, 3, 1, 1, 3, 3, 1, 1, 1, 1, 0},
        {CLCONV_POOL_MAX, 1, 2, 7, 9, 7, 9, 1, 0, 1, 0, 1},     /* kernel = input size */
        {CLCONV_POOL_AVG, 1, 2, 7, 9, 7, 9, 3, 3, 1, 1, 1},
        {CLCONV_POOL_LP, 1, 2, 7, 9, 7, 9, 1, 0, 1, 1, 1},
        {CLCONV_POOL_MAX, 1, 1, 10, 10, 3, 3, 3, 1, 1, 1, 1},   /* ceil_mode borders */
        {CLCONV_POOL_AVG, 1, 1, 10, 10, 3, 3, 3, 1, 1, 1, 1},
        {CLCONV_POOL_AVG, 1, 1, 10, 10, 3, 3, 3, 1, 1, 1, 0},
        {CLCONV_POOL_MAX, 1, 1, 11, 13, 4, 4, 3, 2, 1, 1, 1},
        {CLCONV_POOL_MAX, 2, 5, 31, 67, 3, 3, 2, 1, 1, 1, 1},   /* nothing a multiple of anything */
        {CLCONV_POOL_AVG, 2, 5, 31, 67, 2, 2, 2, 0, 1, 1, 1},
        {CLCONV_POOL_MAX, 1, 3, 1, 100, 1, 5, 2, 0, 1, 1, 1},   /* H = 1 */
        {CLCONV_POOL_MAX, 1, 3, 40, 60, 3, 3, 1, 1, 2, 1, 1},   /* dilation with ceil_mode */
        {CLCONV_POOL_MAX, 4, 64, 7, 7, 7, 7, 1, 0, 1, 0, 1},    /* many planes, 1x1 output */
        {CLCONV_POOL_AVG, 4, 63, 7, 7, 7, 7, 1, 0, 1, 0, 1},    /* whole-plane average, a partial
                                                                  * last vector of planes */
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
            c.data = data;
            check_case(&c, &r, 11, (int)i);
        }
    /* Global and adaptive pooling of many planes and of one large plane. */
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

/* Plans: info, specialization palette, options. */
START_TEST(plan_info)
{
    clconv_context *ctx = tu_ctx();
    clconv_shape in = {2, 3, 17, 19};
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3);
    p.stride_h = p.stride_w = 2;
    clconv_plan *plan;
    ck_assert_int_eq(clconv_pool2d_plan_create(ctx, &p, &in, NULL, &plan), CLCONV_SUCCESS);
    clconv_plan_info info;
    ck_assert_int_eq(clconv_plan_get_info(plan, &info), CLCONV_SUCCESS);
    ck_assert_int_eq(info.algorithm, CLCONV_ALGO_POOL);
    ck_assert_str_eq(clconv_algorithm_name(info.algorithm), "pool");
    ck_assert_int_eq(info.output.n, 2);
    ck_assert_int_eq(info.output.c, 3);
    ck_assert_int_eq(info.output.h, 8);
    ck_assert_int_eq(info.output.w, 9);
    /* CPU devices take the vectorized kernel: a whole 9-wide row (one or
     * two vectors) per work-item, in a 3-D NDRange. */
    ck_assert_str_eq(info.kernel_name, tu_device_is_cpu() ? "pool2d_window_vec" : "pool2d_window");
    ck_assert_ptr_nonnull(strstr(info.build_options, "-DKH=3"));
    ck_assert(info.bytes == (double)(2 * 3 * (17 * 19 + 8 * 9) * 4));
    ck_assert(info.flops == (double)(2 * 3 * 8 * 9 * 9));
    ck_assert_uint_eq(info.workspace_bytes, 0);
    if (tu_device_is_cpu()) {
        /* (column block, output row, plane): one work-item per row. */
        ck_assert_uint_eq(info.global_size[0], 1);
        ck_assert_uint_ge(info.global_size[1], 8);
        ck_assert_uint_ge(info.global_size[2], 2 * 3);
    } else {
        ck_assert_uint_ge(info.global_size[0], 2 * 3 * 8 * 9 / 2);
    }
    for (int d = 0; d < 3; d++)
        ck_assert_uint_eq(info.global_size[d] % info.local_size[d], 0);
    clconv_plan_destroy(plan);
    /* block_w asks for the scalar kernel's blocking. */
    clconv_plan_options bo = {.block_w = 2};
    ck_assert_int_eq(clconv_pool2d_plan_create(ctx, &p, &in, &bo, &plan), CLCONV_SUCCESS);
    clconv_plan_get_info(plan, &info);
    ck_assert_str_eq(info.kernel_name, "pool2d_window");
    clconv_plan_destroy(plan);
    /* An unusual window runs the generic kernel. */
    p = clconv_pool2d_default_params(CLCONV_POOL_AVG, 5, 4);
    ck_assert_int_eq(clconv_pool2d_plan_create(ctx, &p, &in, NULL, &plan), CLCONV_SUCCESS);
    clconv_plan_get_info(plan, &info);
    ck_assert_ptr_null(strstr(info.build_options, "-DKH"));
    clconv_plan_destroy(plan);
    p = clconv_pool2d_global_params(CLCONV_POOL_AVG);
    clconv_plan_options o = {.algorithm = CLCONV_ALGO_POOL, .wg_w = 8};
    ck_assert_int_eq(clconv_pool2d_plan_create(ctx, &p, &in, &o, &plan), CLCONV_SUCCESS);
    clconv_plan_get_info(plan, &info);
    ck_assert_str_eq(info.kernel_name, "pool2d_adaptive");
    ck_assert_uint_eq(info.local_size[0], 8);
    ck_assert_uint_eq(info.global_size[0], 8);
    ck_assert(info.flops == (double)(2 * 3 * 17 * 19));
    clconv_plan_destroy(plan);
}
END_TEST

/* ---- bad input ------------------------------------------------------------ */

static void expect_invalid(clconv_pool2d_params p, clconv_shape in, clconv_status want,
                           const char *needle)
{
    clconv_shape out;
    clconv_status st = clconv_pool2d_output_shape(&p, &in, &out);
    ck_assert_msg(st == want, "expected %s for '%s', got %s (%s)", clconv_status_string(want),
                  needle, clconv_status_string(st), clconv_last_error(NULL));
    ck_assert_msg(strstr(clconv_last_error(NULL), needle) != NULL, "message '%s' lacks '%s'",
                  clconv_last_error(NULL), needle);
    ck_assert_int_eq(clconv_pool2d_validate(&p, &in), want);
    clconv_plan *plan = (clconv_plan *)1;
    st = clconv_pool2d_plan_create(tu_ctx(), &p, &in, NULL, &plan);
    ck_assert_int_eq(st, want);
    ck_assert_ptr_null(plan);
    ck_assert_msg(strstr(clconv_last_error(tu_ctx()), needle) != NULL, "context message '%s'",
                  clconv_last_error(tu_ctx()));
    float dummy[64] = {0};
    ck_assert_int_eq(clconv_ref_pool2d(&p, &in, dummy, dummy, NULL), want);
    ck_assert_int_eq(clconv_pool2d_host(tu_ctx(), &p, &in, NULL, dummy, dummy, NULL), want);
}

START_TEST(bad_parameters)
{
    const clconv_pool2d_params ok = clconv_pool2d_default_params(CLCONV_POOL_MAX, 3, 3);
    const clconv_shape in = {1, 2, 8, 8};
    clconv_pool2d_params p;
    clconv_shape s;
#define BAD(field, value, status, needle) \
    p = ok; s = in; field = value; expect_invalid(p, s, status, needle);
    BAD(p.pad_top, 2, CLCONV_ERROR_INVALID_VALUE, "pad_top = 2, expected <= kernel_h / 2 = 1")
    BAD(p.pad_bottom, 2, CLCONV_ERROR_INVALID_VALUE, "pad_bottom = 2, expected <= kernel_h / 2 = 1")
    BAD(p.pad_left, 2, CLCONV_ERROR_INVALID_VALUE, "pad_left = 2, expected <= kernel_w / 2 = 1")
    BAD(p.pad_right, 2, CLCONV_ERROR_INVALID_VALUE, "pad_right = 2, expected <= kernel_w / 2 = 1")
    BAD(p.pad_top, -1, CLCONV_ERROR_INVALID_VALUE, "pad_top = -1")
    BAD(p.stride_h, 0, CLCONV_ERROR_INVALID_VALUE, "stride_h = 0")
    BAD(p.stride_w, -2, CLCONV_ERROR_INVALID_VALUE, "stride_w = -2")
    BAD(p.kernel_h, 0, CLCONV_ERROR_INVALID_VALUE, "kernel_h = 0")
    BAD(p.kernel_w, (int64_t)1 << 40, CLCONV_ERROR_INVALID_VALUE, "kernel_w = 1099511627776")
    BAD(p.dilation_w, 0, CLCONV_ERROR_INVALID_VALUE, "dilation_w = 0")
    BAD(p.mode, (clconv_pool_mode)0, CLCONV_ERROR_INVALID_VALUE, "mode = 0")
    BAD(p.mode, (clconv_pool_mode)9, CLCONV_ERROR_INVALID_VALUE, "mode = 9")
    BAD(p.divisor_override, 3, CLCONV_ERROR_INVALID_VALUE, "divisor_override = 3 with mode = max")
    BAD(p.kernel_h, 9, CLCONV_ERROR_INVALID_SHAPE, "no output")
    BAD(s.c, 0, CLCONV_ERROR_INVALID_SHAPE, "input.c = 0")
    BAD(s.w, -4, CLCONV_ERROR_INVALID_SHAPE, "input.w = -4")
    /* Dilation so large that no window fits: output size <= 0. */
    BAD(p.dilation_h, 5, CLCONV_ERROR_INVALID_SHAPE, "gives output 0x")
    p = ok;
    p.mode = CLCONV_POOL_AVG;
    p.dilation_h = 2;
    expect_invalid(p, in, CLCONV_ERROR_INVALID_VALUE, "dilation_h = 2 with mode = avg");
    p = clconv_pool2d_default_params(CLCONV_POOL_LP, 2, 2);
    p.pad_left = p.pad_right = 1;
    expect_invalid(p, in, CLCONV_ERROR_INVALID_VALUE, "pad_left = 1 with mode = lp");
    p.pad_left = p.pad_right = 0;
    p.norm_type = 0;
    expect_invalid(p, in, CLCONV_ERROR_INVALID_VALUE, "norm_type = 0");
    p.norm_type = INFINITY;
    expect_invalid(p, in, CLCONV_ERROR_INVALID_VALUE, "norm_type = inf");
    p = clconv_pool2d_default_params(CLCONV_POOL_ADAPTIVE_AVG, 0, 3);
    expect_invalid(p, in, CLCONV_ERROR_INVALID_VALUE, "output_h = 0");
    p = clconv_pool2d_default_params(CLCONV_POOL_ADAPTIVE_MAX, 2, -1);
    expect_invalid(p, in, CLCONV_ERROR_INVALID_VALUE, "output_w = -1");
    /* A window taller than the input: no output, but with ceil_mode the one
     * window starting at row 0 counts (as PyTorch: output 1x3). */
    p = clconv_pool2d_default_params(CLCONV_POOL_AVG, 3, 3);
    s = (clconv_shape){1, 1, 2, 8};
    expect_invalid(p, s, CLCONV_ERROR_INVALID_SHAPE, "output size is too small");
    p.ceil_mode = 1;
    clconv_shape os;
    ck_assert_int_eq(clconv_pool2d_output_shape(&p, &s, &os), CLCONV_SUCCESS);
    ck_assert_int_eq(os.h, 1);
    ck_assert_int_eq(os.w, 3);
#undef BAD
    ck_assert_int_eq(clconv_pool2d_output_shape(NULL, &in, &s), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(NULL), "params: NULL"));
    ck_assert_int_eq(clconv_pool2d_output_shape(&ok, NULL, &s), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_pool2d_output_shape(&ok, &in, NULL), CLCONV_ERROR_INVALID_VALUE);
    clconv_plan *plan;
    ck_assert_int_eq(clconv_pool2d_plan_create(NULL, &ok, &in, NULL, &plan),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_pool2d_plan_create(tu_ctx(), &ok, &in, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    clconv_plan_options o = {.algorithm = CLCONV_ALGO_DIRECT_TILED};
    ck_assert_int_eq(clconv_pool2d_plan_create(tu_ctx(), &ok, &in, &o, &plan),
                     CLCONV_ERROR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "options.algorithm = direct-tiled"));
    o = (clconv_plan_options){.block_w = 9};
    ck_assert_int_eq(clconv_pool2d_plan_create(tu_ctx(), &ok, &in, &o, &plan),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "options.block_w = 9"));
    o = (clconv_plan_options){.wg_w = -1};
    ck_assert_int_eq(clconv_pool2d_plan_create(tu_ctx(), &ok, &in, &o, &plan),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "options.wg_w = -1"));
    /* Indices exist only for the max modes. */
    float buf[128] = {0};
    int64_t ibuf[32];
    p = clconv_pool2d_default_params(CLCONV_POOL_AVG, 2, 2);
    ck_assert_int_eq(clconv_ref_pool2d(&p, &in, buf, buf, ibuf), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(NULL), "indices"));
    ck_assert_int_eq(clconv_pool2d_host(tu_ctx(), &p, &in, NULL, buf, buf + 64, ibuf),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "indices: an array was given but "
                                                             "mode = avg"));
    ck_assert_int_eq(clconv_pool2d_host(tu_ctx(), &ok, &in, NULL, NULL, buf, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(tu_ctx()), "x: NULL"));
    ck_assert_int_eq(clconv_ref_pool2d(&ok, &in, buf, NULL, NULL), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(NULL), "y: NULL"));
}
END_TEST

START_TEST(bad_buffers)
{
    clconv_context *ctx = tu_ctx();
    clconv_pool2d_params p = clconv_pool2d_default_params(CLCONV_POOL_MAX, 2, 2);
    clconv_shape in = {2, 3, 6, 6}; /* out 2x3x3x3 */
    clconv_plan *plan;
    ck_assert_int_eq(clconv_pool2d_plan_create(ctx, &p, &in, NULL, &plan), CLCONV_SUCCESS);
    cl_int err;
    cl_context cc = clconv_context_cl_context(ctx);
    cl_mem x = clCreateBuffer(cc, CL_MEM_READ_WRITE, 216 * 4, NULL, &err);
    cl_mem y = clCreateBuffer(cc, CL_MEM_READ_WRITE, 54 * 4, NULL, &err);
    cl_mem idx = clCreateBuffer(cc, CL_MEM_READ_WRITE, 54 * 8, NULL, &err);
    cl_mem small = clCreateBuffer(cc, CL_MEM_READ_WRITE, 8, NULL, &err);
    ck_assert_int_eq(clconv_pool2d_run(plan, NULL, y, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "x: NULL"));
    ck_assert_int_eq(clconv_pool2d_run(plan, x, NULL, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "y: NULL"));
    ck_assert_int_eq(clconv_pool2d_run(plan, small, y, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_BUFFER_TOO_SMALL);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "x: 8 bytes, expected at least 864"));
    ck_assert_int_eq(clconv_pool2d_run(plan, x, small, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_BUFFER_TOO_SMALL);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "y: 8 bytes, expected at least 216"));
    ck_assert_int_eq(clconv_pool2d_run(plan, x, y, small, 0, NULL, NULL),
                     CLCONV_ERROR_BUFFER_TOO_SMALL);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx),
                                 "indices: 8 bytes, expected at least 432 bytes (54 int64)"));
    ck_assert_int_eq(clconv_pool2d_run(plan, x, x, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "y: must not be the same buffer as x"));
    ck_assert_int_eq(clconv_pool2d_run(plan, x, y, x, 0, NULL, NULL), CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "indices: must not be the same buffer as x"));
    ck_assert_int_eq(clconv_pool2d_run(plan, x, y, NULL, 1, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_int_eq(clconv_pool2d_run(NULL, x, y, NULL, 0, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    /* The wait list and the completion event work without any clFinish. */
    cl_event gate = clCreateUserEvent(cc, &err), done = NULL;
    ck_assert_int_eq(err, CL_SUCCESS);
    ck_assert_int_eq(clconv_pool2d_run(plan, x, y, idx, 1, &gate, &done), CLCONV_SUCCESS);
    cl_int status;
    clGetEventInfo(done, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL);
    ck_assert_int_ne(status, CL_COMPLETE);
    clSetUserEventStatus(gate, CL_COMPLETE);
    ck_assert_int_eq(clWaitForEvents(1, &done), CL_SUCCESS);
    clReleaseEvent(done);
    clReleaseEvent(gate);
    clconv_plan_destroy(plan);

    /* Indices on an avg plan. */
    p.mode = CLCONV_POOL_AVG;
    ck_assert_int_eq(clconv_pool2d_plan_create(ctx, &p, &in, NULL, &plan), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_pool2d_run(plan, x, y, idx, 0, NULL, NULL),
                     CLCONV_ERROR_INVALID_VALUE);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx),
                                 "indices: a buffer was given but mode = avg has no indices"));
    clconv_plan_destroy(plan);
    cl_mem all[] = {x, y, idx, small};
    for (int i = 0; i < 4; i++)
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
    clconv_plan *pool;
    ck_assert_int_eq(clconv_pool2d_plan_create(ctx, &pp, &in, NULL, &pool), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_conv2d_run(pool, buf[0], buf[1], NULL, buf[2], NULL, 0, NULL, NULL),
                     CLCONV_ERROR_WRONG_PLAN);
    clconv_conv2d_params cp = clconv_conv2d_default_params(1, 1, 2, 2);
    clconv_plan *conv;
    ck_assert_int_eq(clconv_conv2d_plan_create(ctx, &cp, &in, NULL, &conv), CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_pool2d_run(conv, buf[0], buf[2], NULL, 0, NULL, NULL),
                     CLCONV_ERROR_WRONG_PLAN);
    ck_assert_ptr_nonnull(strstr(clconv_last_error(ctx), "clconv_pool2d_run"));
    /* Both plans still run through their own functions. */
    ck_assert_int_eq(clconv_pool2d_run(pool, buf[0], buf[2], buf[3], 0, NULL, NULL),
                     CLCONV_SUCCESS);
    ck_assert_int_eq(clconv_conv2d_run(conv, buf[0], buf[1], NULL, buf[2], NULL, 0, NULL, NULL),
                     CLCONV_SUCCESS);
    ck_assert_int_eq(clFinish(clconv_context_queue(ctx)), CL_SUCCESS);
    clconv_plan_destroy(pool);
    clconv_plan_destroy(conv);
    for (int i = 0; i < 4; i++)
        clReleaseMemObject(buf[i]);
}
END_TEST

static Suite *pool2d_suite(void)
{
    Suite *s = suite_create("pool2d");
    TCase *seeds = tcase_create("seeds");
    tcase_add_test(seeds, seed_3x3_2x2);
    tcase_add_test(seeds, seed_4x4_maxpool);
    tcase_add_test(seeds, seed_two_channels);
    suite_add_tcase(s, seeds);
    TCase *rules = tcase_create("pytorch-rules");
    tcase_set_timeout(rules, 300);
    tcase_add_test(rules, ceil_mode_borders);
    tcase_add_test(rules, avg_padding_divisors);
    tcase_add_test(rules, asymmetric_padding);
    tcase_add_test(rules, max_padding_and_dilation);
    tcase_add_test(rules, nan_and_inf);
    tcase_add_test(rules, lp_pool);
    tcase_add_test(rules, adaptive_and_global);
    suite_add_tcase(s, rules);
    TCase *sweep = tcase_create("sweep");
    tcase_set_timeout(sweep, 600);
    tcase_add_test(sweep, comparator_catches_errors);
    tcase_add_test(sweep, random_sweep);
    tcase_add_test(sweep, edge_shapes);
    tcase_add_test(sweep, cpu_row_kernels);
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
    return tu_run_suite(pool2d_suite());
}

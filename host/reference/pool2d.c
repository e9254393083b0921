/* CPU reference for 2-D pooling, written as PyTorch's CPU kernels
 * (aten/src/ATen/native/cpu/{MaxPool,AvgPool,AdaptiveAvgPool,AdaptiveMaxPool}Kernel.cpp)
 * and torch.nn.functional.lp_pool2d compute it. Max and its indices are exact;
 * sums are accumulated in double and rounded to float once per PyTorch
 * operation. Deliberately plain: it is what the device is judged by. */
#include "pool2d_window.h"

#include <math.h>

/* The max rule: greater or NaN wins (so the last NaN wins, ties keep the first). */
static inline void max_update(float v, int64_t i, float *m, int64_t *mi)
{
    if (v > *m || isnan(v)) {
        *m = v;
        *mi = i;
    }
}

/* x^p in float, as torch.pow(Tensor, Scalar) (x*x for p = 2, x*x*x for p = 3). */
static float lp_pow(float v, double p)
{
    if (p == 1.0)
        return v;
    if (p == 2.0)
        return v * v;
    if (p == 3.0)
        return v * v * v;
    return (float)pow((double)v, (double)(float)p);
}

static float window_value(const clconv_pool2d_params *p, const float *xp, int64_t H, int64_t W,
                          int64_t oh, int64_t ow, int64_t *index)
{
    const int64_t ih0 = oh * p->stride_h - p->pad_top, iw0 = ow * p->stride_w - p->pad_left;
    switch (p->mode) {
    case CLCONV_POOL_MAX: {
        /* MaxPoolKernel.cpp: the window end clipped to the image, the start
         * stepped by the dilation past the padding. */
        int64_t hs = ih0, ws = iw0;
        const int64_t he = min64(ih0 + (p->kernel_h - 1) * p->dilation_h + 1, H);
        const int64_t we = min64(iw0 + (p->kernel_w - 1) * p->dilation_w + 1, W);
        while (hs < 0)
            hs += p->dilation_h;
        while (ws < 0)
            ws += p->dilation_w;
        float m = -INFINITY;
        int64_t mi = hs * W + ws;
        for (int64_t ih = hs; ih < he; ih += p->dilation_h)
            for (int64_t iw = ws; iw < we; iw += p->dilation_w)
                max_update(xp[ih * W + iw], ih * W + iw, &m, &mi);
        if (index)
            *index = mi;
        return m;
    }
    case CLCONV_POOL_AVG: {
        /* AvgPoolKernel.cpp */
        int64_t hs, he, ws, we, divide;
        if (!ref_avg_window(p, H, W, oh, ow, &hs, &he, &ws, &we, &divide))
            return 0.0f;
        double s = 0.0;
        for (int64_t ih = hs; ih < he; ih++)
            for (int64_t iw = ws; iw < we; iw++)
                s += xp[ih * W + iw];
        return (float)(s / (double)(float)divide);
    }
    case CLCONV_POOL_LP: {
        /* lp_pool2d: avg_pool2d(x.pow(p), kernel, stride, 0, ceil_mode) — with
         * count_include_pad the divisor is the window clipped to the input —
         * then (sign(a) * relu(|a|)).mul(kw * kh).pow(1 / p). */
        const int64_t he = min64(ih0 + p->kernel_h, H), we = min64(iw0 + p->kernel_w, W);
        double s = 0.0;
        for (int64_t ih = ih0; ih < he; ih++)
            for (int64_t iw = iw0; iw < we; iw++)
                s += lp_pow(xp[ih * W + iw], p->norm_type);
        float a = (float)(s / (double)((he - ih0) * (we - iw0)));
        float sgn = (float)((0.0f < a) - (a < 0.0f)); /* torch.sign: 0 for NaN */
        float r = isnan(a) ? a : fabsf(a);             /* relu(|a|) keeps NaN */
        a = sgn * r;
        a = (float)((double)a * (double)(p->kernel_h * p->kernel_w));
        if (p->norm_type == 1.0)
            return a;
        if (p->norm_type == 2.0)
            return (float)sqrt((double)a);
        return (float)pow((double)a, (double)(float)(1.0 / p->norm_type));
    }
    default:
        return 0.0f;
    }
}

static float adaptive_value(const clconv_pool2d_params *p, const float *xp, int64_t H, int64_t W,
                            int64_t OH, int64_t OW, int64_t oh, int64_t ow, int64_t *index)
{
    int64_t hs, he, ws, we;
    ref_adaptive_range(oh, H, OH, &hs, &he);
    ref_adaptive_range(ow, W, OW, &ws, &we);
    if (p->mode == CLCONV_POOL_ADAPTIVE_MAX) {
        float m = -INFINITY;
        int64_t mi = hs * W + ws;
        for (int64_t ih = hs; ih < he; ih++)
            for (int64_t iw = ws; iw < we; iw++)
                max_update(xp[ih * W + iw], ih * W + iw, &m, &mi);
        if (index)
            *index = mi;
        return m;
    }
    double s = 0.0;
    for (int64_t ih = hs; ih < he; ih++)
        for (int64_t iw = ws; iw < we; iw++)
            s += xp[ih * W + iw];
    return (float)(s / (double)(he - hs) / (double)(we - ws));
}

clconv_status clconv_ref_pool2d(const clconv_pool2d_params *p, const clconv_shape *in,
                                const float *x, float *y, int64_t *indices)
{
    clconv_shape out;
    clconv_status st = clconv_pool2d_check(NULL, p, in, &out);
    if (st)
        return st;
    if (!x || !y)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected a host array",
                           !x ? "x" : "y");
    const bool adaptive = p->mode == CLCONV_POOL_ADAPTIVE_AVG || p->mode == CLCONV_POOL_ADAPTIVE_MAX;
    if (indices && p->mode != CLCONV_POOL_MAX && p->mode != CLCONV_POOL_ADAPTIVE_MAX)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE,
                           "indices: an array was given but mode = %d has no indices (max and "
                           "adaptive-max only), expected NULL", (int)p->mode);
    const int64_t H = in->h, W = in->w;
    for (int64_t plane = 0; plane < in->n * in->c; plane++) {
        const float *xp = x + plane * H * W;
        for (int64_t oh = 0; oh < out.h; oh++)
            for (int64_t ow = 0; ow < out.w; ow++) {
                const int64_t o = (plane * out.h + oh) * out.w + ow;
                int64_t *ip = indices ? &indices[o] : NULL;
                y[o] = adaptive ? adaptive_value(p, xp, H, W, out.h, out.w, oh, ow, ip)
                                : window_value(p, xp, H, W, oh, ow, ip);
            }
    }
    return CLCONV_SUCCESS;
}

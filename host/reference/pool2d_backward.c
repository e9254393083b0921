/* CPU reference for the pooling gradients, written in scatter form as
 * PyTorch's CPU kernels are (aten/src/ATen/native/cpu/MaxPoolKernel.cpp
 * cpu_max_pool_backward, AvgPoolKernel.cpp cpu_avg_pool_backward,
 * AdaptiveAvgPoolKernel.cpp, AdaptiveMaxPoolKernel.cpp): dx starts at zero
 * and every output, in row-major order, adds its share to the input cells of
 * its window. Max, avg and adaptive accumulate in float in that order, so
 * the result is PyTorch's bit for bit; lp_pool2d follows the chain rule of
 * its autograd graph (pow, avg_pool2d, sign * relu(abs), mul, pow), with the
 * window shares summed in double. Deliberately plain: it is what the device
 * is judged by. */
#include "pool2d_window.h"

#include <math.h>
#include <stdlib.h>

/* x^e in float as torch.pow(Tensor, Scalar) (special cases 0, 1, 2, 3, -0.5). */
static float pow_scalar(float v, double e)
{
    if (e == 0.0)
        return 1.0f;
    if (e == 1.0)
        return v;
    if (e == 2.0)
        return v * v;
    if (e == 3.0)
        return v * v * v;
    if (e == -0.5)
        return (float)(1.0 / sqrt((double)v));
    return (float)pow((double)v, (double)(float)e);
}

/* The rows (or columns) [*lo, *hi] of the span of window o along one axis:
 * taps o*stride - pad + j*dil for j < k. */
static void span(int64_t o, int64_t k, int64_t stride, int64_t pad, int64_t dil, int64_t *lo,
                 int64_t *hi)
{
    *lo = o * stride - pad;
    *hi = *lo + (k - 1) * dil;
}

/* The gradient of lp_pool2d with respect to its window mean a = avg(x^p),
 * given dy, as autograd computes it: t = a * kh*kw, y = t^(1/p),
 * dy/da = kh*kw * (1/p) * t^(1/p - 1), except that the relu(|a|) step
 * passes nothing where a == 0. */
static float lp_grad_mean(float dy, float a, double p, int64_t k)
{
    if (a == 0.0f)
        return 0.0f;
    const float t = a * (float)k;
    const double e = 1.0 / p;
    return dy * (float)e * pow_scalar(t, e - 1.0) * (float)k;
}

clconv_status clconv_ref_pool2d_backward(const clconv_pool2d_params *p, const clconv_shape *in,
                                         const float *dy, const int64_t *indices,
                                         const float *x, float *dx)
{
    clconv_shape out;
    clconv_status st = clconv_pool2d_check(NULL, p, in, &out);
    if (st)
        return st;
    if ((st = clconv_pool2d_backward_check_arrays(NULL, p->mode, dy != NULL, indices != NULL,
                                                  x != NULL, dx != NULL, "array")))
        return st;
    const clconv_pool_mode m = p->mode;
    const bool maxm = m == CLCONV_POOL_MAX || m == CLCONV_POOL_ADAPTIVE_MAX;
    const int64_t H = in->h, W = in->w, OH = out.h, OW = out.w, planes = in->n * in->c;
    const size_t nx = clconv_shape_elements_checked(in), ny = clconv_shape_elements_checked(&out);

    /* Max without indices: the forward's own argmax. */
    int64_t *own = NULL;
    if (maxm && !indices) {
        own = malloc(ny * sizeof *own);
        float *y = malloc(ny * sizeof *y);
        if (!own || !y) {
            free(own);
            free(y);
            return clconv_fail(NULL, CLCONV_ERROR_OUT_OF_HOST_MEMORY,
                               "reference pool2d backward: %zu outputs", ny);
        }
        st = clconv_ref_pool2d(p, in, x, y, own);
        free(y);
        if (st) {
            free(own);
            return st;
        }
        indices = own;
    }
    double *acc = NULL; /* lp: the window shares summed in double */
    if (m == CLCONV_POOL_LP && !(acc = calloc(nx, sizeof *acc)))
        return clconv_fail(NULL, CLCONV_ERROR_OUT_OF_HOST_MEMORY,
                           "reference pool2d backward: %zu inputs", nx);

    for (size_t i = 0; i < nx; i++)
        dx[i] = 0.0f;
    for (int64_t plane = 0; plane < planes; plane++) {
        float *g = dx + plane * H * W;
        const float *xp = x ? x + plane * H * W : NULL;
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                const int64_t o = (plane * OH + oh) * OW + ow;
                const float d = dy[o];
                int64_t hs, he, ws, we; /* rows [hs, he), columns [ws, we) */
                if (maxm) {
                    /* The stored index, when it names a cell of the window's
                     * span inside the plane (always, for indices from a
                     * forward run); anything else contributes nothing. */
                    if (m == CLCONV_POOL_ADAPTIVE_MAX) {
                        ref_adaptive_range(oh, H, OH, &hs, &he);
                        ref_adaptive_range(ow, W, OW, &ws, &we);
                        he--;
                        we--;
                    } else {
                        span(oh, p->kernel_h, p->stride_h, p->pad_top, p->dilation_h, &hs, &he);
                        span(ow, p->kernel_w, p->stride_w, p->pad_left, p->dilation_w, &ws, &we);
                    }
                    const int64_t idx = indices[o];
                    if (idx < 0 || idx >= H * W)
                        continue;
                    const int64_t ih = idx / W, iw = idx % W;
                    if (ih >= hs && ih <= he && iw >= ws && iw <= we)
                        g[idx] += d;
                } else if (m == CLCONV_POOL_AVG) {
                    /* cpu_avg_pool_backward: the forward's window */
                    int64_t divide;
                    if (!ref_avg_window(p, H, W, oh, ow, &hs, &he, &ws, &we, &divide))
                        continue;
                    const float delta = d / (float)divide;
                    for (int64_t ih = hs; ih < he; ih++)
                        for (int64_t iw = ws; iw < we; iw++)
                            g[ih * W + iw] += delta;
                } else if (m == CLCONV_POOL_ADAPTIVE_AVG) {
                    ref_adaptive_range(oh, H, OH, &hs, &he);
                    ref_adaptive_range(ow, W, OW, &ws, &we);
                    const float delta = d / (float)(he - hs) / (float)(we - ws);
                    for (int64_t ih = hs; ih < he; ih++)
                        for (int64_t iw = ws; iw < we; iw++)
                            g[ih * W + iw] += delta;
                } else { /* LP: the window of the forward (no padding, clipped) */
                    hs = oh * p->stride_h;
                    ws = ow * p->stride_w;
                    he = min64(hs + p->kernel_h, H);
                    we = min64(ws + p->kernel_w, W);
                    double s = 0.0;
                    for (int64_t ih = hs; ih < he; ih++)
                        for (int64_t iw = ws; iw < we; iw++)
                            s += pow_scalar(xp[ih * W + iw], p->norm_type);
                    const double div = (double)((he - hs) * (we - ws));
                    const float a = (float)(s / div);
                    const double delta =
                        (double)lp_grad_mean(d, a, p->norm_type,
                                             p->kernel_h * p->kernel_w) / div;
                    double *ga = acc + plane * H * W;
                    for (int64_t ih = hs; ih < he; ih++)
                        for (int64_t iw = ws; iw < we; iw++)
                            ga[ih * W + iw] += delta;
                }
            }
        if (m == CLCONV_POOL_LP) {
            /* pow backward: times p * x^(p-1). */
            const double *ga = acc + plane * H * W;
            for (int64_t i = 0; i < H * W; i++)
                g[i] = (float)(ga[i] * p->norm_type *
                               (double)pow_scalar(xp[i], p->norm_type - 1.0));
        }
    }
    free(acc);
    free(own);
    return CLCONV_SUCCESS;
}

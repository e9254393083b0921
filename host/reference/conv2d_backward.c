/* CPU reference for the conv2d backward passes and ReLU backward: the
 * definitions written as loops over the forward pass's index map (input
 * pixel ih = oh*stride - pad_top + kh*dilation, likewise iw), accumulated in
 * double. Deliberately plain: it is what the device is judged by. */
#include "../internal.h"

#include <stdlib.h>

/* Shared: validate, compute the output shape, check the arrays. */
static clconv_status ref_bwd_check(const clconv_conv2d_params *p, const clconv_shape *in,
                                   clconv_shape *out, const void *a, const char *an,
                                   const void *b, const char *bn, const void *c, const char *cn)
{
    clconv_status st = clconv_conv2d_check(NULL, p, in, out);
    if (st)
        return st;
    if (!a || !b || !c)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected a host array",
                           !a ? an : !b ? bn : cn);
    return CLCONV_SUCCESS;
}

/* dx[n, c, ih, iw] = sum over (oc of c's group, kh, kw, oh, ow) reaching
 * (ih, iw) of dy[n, oc, oh, ow] * w[oc, ci, kh, kw]. Written in scatter form
 * (each dy spreads into the inputs its window read), unlike the device's gather. */
clconv_status clconv_ref_conv2d_backward_data(const clconv_conv2d_params *p,
                                              const clconv_shape *in, const float *dy,
                                              const float *w, float *dx)
{
    clconv_shape out;
    clconv_status st = ref_bwd_check(p, in, &out, dy, "dy", w, "w", dx, "dx");
    if (st)
        return st;
    const size_t nx = clconv_shape_elements_checked(in);
    double *acc = calloc(nx, sizeof *acc);
    if (!acc)
        return clconv_fail(NULL, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "allocating %zu doubles", nx);
    const int64_t cin_g = p->in_channels / p->groups, cout_g = p->out_channels / p->groups;
    for (int64_t n = 0; n < in->n; n++)
        for (int64_t oc = 0; oc < out.c; oc++) {
            const int64_t g = oc / cout_g;
            for (int64_t oh = 0; oh < out.h; oh++)
                for (int64_t ow = 0; ow < out.w; ow++) {
                    const double g_out = dy[((n * out.c + oc) * out.h + oh) * out.w + ow];
                    for (int64_t ci = 0; ci < cin_g; ci++) {
                        const int64_t c = g * cin_g + ci;
                        for (int64_t kh = 0; kh < p->kernel_h; kh++) {
                            const int64_t ih = oh * p->stride_h - p->pad_top + kh * p->dilation_h;
                            if (ih < 0 || ih >= in->h)
                                continue;
                            for (int64_t kw = 0; kw < p->kernel_w; kw++) {
                                const int64_t iw =
                                    ow * p->stride_w - p->pad_left + kw * p->dilation_w;
                                if (iw < 0 || iw >= in->w)
                                    continue;
                                const double wv =
                                    w[((oc * cin_g + ci) * p->kernel_h + kh) * p->kernel_w + kw];
                                acc[((n * in->c + c) * in->h + ih) * in->w + iw] += g_out * wv;
                            }
                        }
                    }
                }
        }
    for (size_t i = 0; i < nx; i++)
        dx[i] = (float)acc[i];
    free(acc);
    return CLCONV_SUCCESS;
}

/* dw[oc, ci, kh, kw] = sum over n, oh, ow of dy[n, oc, oh, ow] * xpad[n, c, ih, iw]
 * with xpad the zero-padded input, PyTorch's definition (its unfolded input
 * has zeros there): a tap in the padding adds dy * 0, nothing for finite dy,
 * NaN for inf or NaN in dy, as the forward's padded taps give 0 * w. */
clconv_status clconv_ref_conv2d_backward_weights(const clconv_conv2d_params *p,
                                                 const clconv_shape *in, const float *x,
                                                 const float *dy, float *dw)
{
    clconv_shape out;
    clconv_status st = ref_bwd_check(p, in, &out, x, "x", dy, "dy", dw, "dw");
    if (st)
        return st;
    const int64_t cin_g = p->in_channels / p->groups, cout_g = p->out_channels / p->groups;
    for (int64_t oc = 0; oc < out.c; oc++) {
        const int64_t g = oc / cout_g;
        for (int64_t ci = 0; ci < cin_g; ci++) {
            const int64_t c = g * cin_g + ci;
            for (int64_t kh = 0; kh < p->kernel_h; kh++)
                for (int64_t kw = 0; kw < p->kernel_w; kw++) {
                    double acc = 0.0;
                    for (int64_t n = 0; n < in->n; n++)
                        for (int64_t oh = 0; oh < out.h; oh++) {
                            const int64_t ih = oh * p->stride_h - p->pad_top + kh * p->dilation_h;
                            for (int64_t ow = 0; ow < out.w; ow++) {
                                const int64_t iw =
                                    ow * p->stride_w - p->pad_left + kw * p->dilation_w;
                                const double xv =
                                    ih < 0 || ih >= in->h || iw < 0 || iw >= in->w
                                        ? 0.0 /* padding */
                                        : (double)x[((n * in->c + c) * in->h + ih) * in->w + iw];
                                acc += (double)dy[((n * out.c + oc) * out.h + oh) * out.w + ow] *
                                       xv;
                            }
                        }
                    dw[((oc * cin_g + ci) * p->kernel_h + kh) * p->kernel_w + kw] = (float)acc;
                }
        }
    }
    return CLCONV_SUCCESS;
}

/* db[oc] = sum over n, oh, ow of dy[n, oc, oh, ow]. */
clconv_status clconv_ref_conv2d_backward_bias(const clconv_conv2d_params *p,
                                              const clconv_shape *in, const float *dy, float *db)
{
    clconv_shape out;
    clconv_status st = ref_bwd_check(p, in, &out, dy, "dy", db, "db", db, "db");
    if (st)
        return st;
    const int64_t hw = out.h * out.w;
    for (int64_t oc = 0; oc < out.c; oc++) {
        double acc = 0.0;
        for (int64_t n = 0; n < out.n; n++)
            for (int64_t i = 0; i < hw; i++)
                acc += dy[(n * out.c + oc) * hw + i];
        db[oc] = (float)acc;
    }
    return CLCONV_SUCCESS;
}

/* dx = y <= 0 ? 0 : dy (PyTorch's threshold_backward: a NaN y passes dy). */
clconv_status clconv_ref_relu_backward(size_t count, const float *y, const float *dy, float *dx)
{
    if (!y || !dy || !dx)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected a host array",
                           !y ? "y" : !dy ? "dy" : "dx");
    for (size_t i = 0; i < count; i++)
        dx[i] = y[i] <= 0.0f ? 0.0f : dy[i];
    return CLCONV_SUCCESS;
}

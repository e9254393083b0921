/* CPU reference for F.conv_transpose2d / F.conv_transpose1d in SCATTER form:
 * each input value is multiplied by the weights of its channel and spread into
 * every output it reaches. The device kernels gather instead, so the two are
 * independent derivations of the same definition. Accumulated in double. */
#include "../internal.h"

#include <stdlib.h>

clconv_status clconv_ref_conv_transpose2d(const clconv_conv_transpose2d_params *p,
                                          const clconv_shape *in, const float *x,
                                          const float *w, const float *b, float *y)
{
    return clconv_ref_conv_transpose2d_epilogue(p, in, x, w, b, NULL, y, NULL);
}

clconv_status clconv_ref_conv_transpose2d_epilogue(const clconv_conv_transpose2d_params *p,
                                                   const clconv_shape *in, const float *x,
                                                   const float *w, const float *b,
                                                   const float *z, float *y, float *pre)
{
    clconv_shape out;
    clconv_status st = clconv_conv_transpose2d_check(NULL, p, in, &out);
    if (st)
        return st;
    if (!x || !w || !y || (p->has_bias && !b))
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected a host array",
                           !x ? "x" : !w ? "w" : !y ? "y" : "b");
    if ((st = clconv_ref_check_epilogue(p->has_residual, z, "clconv_ref_conv_transpose2d")))
        return st;
    const clconv_epilogue e = {p->has_bias != 0, p->activation,
                               {p->activation_params[0], p->activation_params[1]},
                               p->has_residual != 0, p->alpha, p->beta,
                               p->pre_activation_output != 0};
    const size_t ny = clconv_shape_elements_checked(&out);
    double *acc = calloc(ny, sizeof *acc);
    if (!acc)
        return clconv_fail(NULL, CLCONV_ERROR_OUT_OF_HOST_MEMORY,
                           "reference conv_transpose2d: %zu doubles of accumulator", ny);
    const int64_t cin_g = p->in_channels / p->groups, cout_g = p->out_channels / p->groups;
    const int64_t KH = p->kernel_h, KW = p->kernel_w;
    for (int64_t n = 0; n < in->n; n++)
        for (int64_t c = 0; c < in->c; c++) {
            const int64_t g = c / cin_g;
            for (int64_t ih = 0; ih < in->h; ih++)
                for (int64_t iw = 0; iw < in->w; iw++) {
                    const double xv = x[((n * in->c + c) * in->h + ih) * in->w + iw];
                    for (int64_t oc = 0; oc < cout_g; oc++) {
                        const int64_t ocf = g * cout_g + oc;
                        double *yc = acc + (size_t)((n * out.c + ocf) * out.h) * (size_t)out.w;
                        const float *wc = w + (size_t)((c * cout_g + oc) * KH * KW);
                        for (int64_t kh = 0; kh < KH; kh++) {
                            /* The input at ih lands on row ih*stride - pad + kh*dilation. */
                            const int64_t oh = ih * p->stride_h - p->pad_top + kh * p->dilation_h;
                            if (oh < 0 || oh >= out.h)
                                continue; /* cropped by the padding */
                            for (int64_t kw = 0; kw < KW; kw++) {
                                const int64_t ow =
                                    iw * p->stride_w - p->pad_left + kw * p->dilation_w;
                                if (ow < 0 || ow >= out.w)
                                    continue;
                                yc[oh * out.w + ow] += xv * (double)wc[kh * KW + kw];
                            }
                        }
                    }
                }
        }
    for (int64_t n = 0; n < out.n; n++)
        for (int64_t oc = 0; oc < out.c; oc++)
            for (int64_t i = 0; i < out.h * out.w; i++) {
                const size_t idx = (size_t)((n * out.c + oc) * out.h * out.w + i);
                y[idx] = clconv_ref_epilogue(&e, acc[idx], b, oc, z, idx, pre);
            }
    free(acc);
    return CLCONV_SUCCESS;
}

clconv_status clconv_ref_conv_transpose1d(const clconv_conv_transpose1d_params *params, int64_t n,
                                          int64_t length, const float *x, const float *w,
                                          const float *b, float *y)
{
    if (!params)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    clconv_conv_transpose2d_params p = clconv_conv_transpose1d_as_conv_transpose2d(params);
    clconv_shape in = {n, params->in_channels, 1, length};
    return clconv_ref_conv_transpose2d(&p, &in, x, w, b, y);
}

clconv_status clconv_ref_conv_transpose1d_epilogue(const clconv_conv_transpose1d_params *params,
                                                   int64_t n, int64_t length, const float *x,
                                                   const float *w, const float *b,
                                                   const float *z, float *y, float *pre)
{
    if (!params)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    clconv_conv_transpose2d_params p = clconv_conv_transpose1d_as_conv_transpose2d(params);
    clconv_shape in = {n, params->in_channels, 1, length};
    return clconv_ref_conv_transpose2d_epilogue(&p, &in, x, w, b, z, y, pre);
}

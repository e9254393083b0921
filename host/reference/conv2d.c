/* CPU reference for F.conv2d / F.conv1d: the definition written as loops,
 * accumulated in double. Deliberately plain: it is what the device is judged by. */
#include "../internal.h"

float clconv_ref_epilogue(const clconv_epilogue *e, double conv, const float *b, int64_t oc,
                          const float *z, size_t at, float *pre)
{
    double s = e->has_residual ? (double)e->alpha * conv + (double)e->beta * (double)z[at] : conv;
    if (e->has_bias)
        s += b[oc];
    if (pre)
        pre[at] = (float)s;
    return (float)clconv_activation_eval(e->activation, e->activation_params, s);
}

clconv_status clconv_ref_check_epilogue(int has_residual, const float *z, const char *call)
{
    if (has_residual && !z)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE,
                           "z: NULL but params.has_residual = 1; expected y's size of floats "
                           "(%s_epilogue takes it)",
                           call);
    return CLCONV_SUCCESS;
}

clconv_status clconv_ref_conv2d(const clconv_conv2d_params *p, const clconv_shape *in,
                                const float *x, const float *w, const float *b, float *y)
{
    return clconv_ref_conv2d_epilogue(p, in, x, w, b, NULL, y, NULL);
}

clconv_status clconv_ref_conv2d_epilogue(const clconv_conv2d_params *p, const clconv_shape *in,
                                         const float *x, const float *w, const float *b,
                                         const float *z, float *y, float *pre)
{
    clconv_shape out;
    clconv_status st = clconv_conv2d_check(NULL, p, in, &out);
    if (st)
        return st;
    if (!x || !w || !y || (p->has_bias && !b))
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected a host array",
                           !x ? "x" : !w ? "w" : !y ? "y" : "b");
    if ((st = clconv_ref_check_epilogue(p->has_residual, z, "clconv_ref_conv2d")))
        return st;
    const clconv_epilogue e = {p->has_bias != 0, p->activation,
                               {p->activation_params[0], p->activation_params[1]},
                               p->has_residual != 0, p->alpha, p->beta,
                               p->pre_activation_output != 0};
    const int64_t cin_g = p->in_channels / p->groups, cout_g = p->out_channels / p->groups;
    for (int64_t n = 0; n < in->n; n++)
        for (int64_t oc = 0; oc < out.c; oc++) {
            const int64_t g = oc / cout_g;
            for (int64_t oh = 0; oh < out.h; oh++)
                for (int64_t ow = 0; ow < out.w; ow++) {
                    double acc = 0.0;
                    for (int64_t ci = 0; ci < cin_g; ci++) {
                        const int64_t c = g * cin_g + ci;
                        for (int64_t kh = 0; kh < p->kernel_h; kh++) {
                            const int64_t ih = oh * p->stride_h - p->pad_top + kh * p->dilation_h;
                            const bool row_in = ih >= 0 && ih < in->h;
                            for (int64_t kw = 0; kw < p->kernel_w; kw++) {
                                const int64_t iw =
                                    ow * p->stride_w - p->pad_left + kw * p->dilation_w;
                                /* Zero padding is zeros in the input: a padded tap adds
                                 * 0 * w, which is NaN for an inf or NaN weight (F.conv2d
                                 * of F.pad(x)). */
                                const double xv =
                                    row_in && iw >= 0 && iw < in->w
                                        ? x[((n * in->c + c) * in->h + ih) * in->w + iw]
                                        : 0.0;
                                const double wv =
                                    w[((oc * cin_g + ci) * p->kernel_h + kh) * p->kernel_w + kw];
                                acc += xv * wv;
                            }
                        }
                    }
                    const size_t at = (size_t)(((n * out.c + oc) * out.h + oh) * out.w + ow);
                    y[at] = clconv_ref_epilogue(&e, acc, b, oc, z, at, pre);
                }
        }
    return CLCONV_SUCCESS;
}

clconv_status clconv_ref_conv1d(const clconv_conv1d_params *params, int64_t n, int64_t length,
                                const float *x, const float *w, const float *b, float *y)
{
    if (!params)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    clconv_conv2d_params p = clconv_conv1d_as_conv2d(params);
    clconv_shape in = {n, params->in_channels, 1, length};
    return clconv_ref_conv2d(&p, &in, x, w, b, y);
}

clconv_status clconv_ref_conv1d_epilogue(const clconv_conv1d_params *params, int64_t n,
                                         int64_t length, const float *x, const float *w,
                                         const float *b, const float *z, float *y, float *pre)
{
    if (!params)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    clconv_conv2d_params p = clconv_conv1d_as_conv2d(params);
    clconv_shape in = {n, params->in_channels, 1, length};
    return clconv_ref_conv2d_epilogue(&p, &in, x, w, b, z, y, pre);
}

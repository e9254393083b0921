/* CPU reference for F.conv2d / F.conv1d: the definition written as loops,
 * accumulated in double. Deliberately plain: it is what the device is judged by. */
#include "../internal.h"

clconv_status clconv_ref_conv2d(const clconv_conv2d_params *p, const clconv_shape *in,
                                const float *x, const float *w, const float *b, float *y)
{
    clconv_shape out;
    clconv_status st = clconv_conv2d_check(NULL, p, in, &out);
    if (st)
        return st;
    if (!x || !w || !y || (p->has_bias && !b))
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected a host array",
                           !x ? "x" : !w ? "w" : !y ? "y" : "b");
    const int64_t cin_g = p->in_channels / p->groups, cout_g = p->out_channels / p->groups;
    for (int64_t n = 0; n < in->n; n++)
        for (int64_t oc = 0; oc < out.c; oc++) {
            const int64_t g = oc / cout_g;
            for (int64_t oh = 0; oh < out.h; oh++)
                for (int64_t ow = 0; ow < out.w; ow++) {
                    double acc = p->has_bias ? b[oc] : 0.0;
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
                    acc = clconv_activation_eval(p->activation, p->activation_params, acc);
                    y[((n * out.c + oc) * out.h + oh) * out.w + ow] = (float)acc;
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

/* Batch-norm folding (clconv_conv2d_fold_batchnorm,
 * clconv_conv_transpose2d_fold_batchnorm): PyTorch's fuse_conv_bn_eval, per
 * output channel s = gamma / sqrt(var + eps), w' = w * s,
 * b' = (b - mean) * s + beta, in double, rounded once. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>

/* The scales s and the folded bias, out_channels of each; checks the
 * statistics. */
static clconv_status fold_scales(int64_t oc, const float *b, const float *gamma,
                                 const float *beta, const float *mean, const float *var,
                                 double eps, double *scale, float *b_out)
{
    for (int64_t c = 0; c < oc; c++) {
        const double d = (double)var[c] + eps;
        if (!(d > 0.0) || !isfinite(d))
            return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE,
                               "var[%lld] + eps = %g, expected a finite value > 0",
                               (long long)c, d);
        scale[c] = (gamma ? (double)gamma[c] : 1.0) / sqrt(d);
    }
    for (int64_t c = 0; c < oc; c++)
        b_out[c] = (float)(((b ? (double)b[c] : 0.0) - (double)mean[c]) * scale[c] +
                           (beta ? (double)beta[c] : 0.0));
    return CLCONV_SUCCESS;
}

static clconv_status check_arrays(const float *w, const float *mean, const float *var,
                                  double eps, const float *w_out, const float *b_out)
{
    const struct {
        const char *name;
        const void *p;
    } a[] = {{"w", w}, {"mean", mean}, {"var", var}, {"w_out", w_out}, {"b_out", b_out}};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        if (!a[i].p)
            return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected an array",
                               a[i].name);
    if (!(eps >= 0.0) || !isfinite(eps))
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE,
                           "eps = %g, expected a finite value >= 0 (BatchNorm2d's default 1e-5)",
                           eps);
    return CLCONV_SUCCESS;
}

clconv_status clconv_conv2d_fold_batchnorm(const clconv_conv2d_params *p, const float *w,
                                           const float *b, const float *gamma,
                                           const float *beta, const float *mean,
                                           const float *var, double eps, float *w_out,
                                           float *b_out)
{
    if (!p)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    clconv_shape probe = {1, p->in_channels, p->kernel_h * p->dilation_h,
                          p->kernel_w * p->dilation_w};
    clconv_status st = clconv_conv2d_validate(p, &probe);
    if (st || (st = check_arrays(w, mean, var, eps, w_out, b_out)))
        return st;
    const int64_t oc = p->out_channels;
    const size_t per = (size_t)(p->in_channels / p->groups * p->kernel_h * p->kernel_w);
    double *scale = malloc((size_t)oc * sizeof *scale);
    if (!scale)
        return clconv_fail(NULL, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "%lld scales",
                           (long long)oc);
    if (!(st = fold_scales(oc, b, gamma, beta, mean, var, eps, scale, b_out)))
        for (int64_t c = 0; c < oc; c++)
            for (size_t k = 0; k < per; k++)
                w_out[(size_t)c * per + k] = (float)((double)w[(size_t)c * per + k] * scale[c]);
    free(scale);
    return st;
}

clconv_status clconv_conv_transpose2d_fold_batchnorm(const clconv_conv_transpose2d_params *p,
                                                     const float *w, const float *b,
                                                     const float *gamma, const float *beta,
                                                     const float *mean, const float *var,
                                                     double eps, float *w_out, float *b_out)
{
    if (!p)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    clconv_shape probe = {1, p->in_channels, 1, 1};
    clconv_conv_transpose2d_params q = *p;
    q.pad_top = q.pad_bottom = q.pad_left = q.pad_right = 0; /* the probe needs an output */
    clconv_status st = clconv_conv_transpose2d_validate(&q, &probe);
    if (st || (st = check_arrays(w, mean, var, eps, w_out, b_out)))
        return st;
    const int64_t oc = p->out_channels, cout_g = oc / p->groups;
    const int64_t cin_g = p->in_channels / p->groups;
    const size_t khw = (size_t)(p->kernel_h * p->kernel_w);
    double *scale = malloc((size_t)oc * sizeof *scale);
    if (!scale)
        return clconv_fail(NULL, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "%lld scales",
                           (long long)oc);
    if (!(st = fold_scales(oc, b, gamma, beta, mean, var, eps, scale, b_out)))
        for (int64_t ci = 0; ci < p->in_channels; ci++) {
            const int64_t g = ci / cin_g;
            for (int64_t j = 0; j < cout_g; j++) {
                const double s = scale[g * cout_g + j];
                const size_t at = ((size_t)ci * (size_t)cout_g + (size_t)j) * khw;
                for (size_t k = 0; k < khw; k++)
                    w_out[at + k] = (float)((double)w[at + k] * s);
            }
        }
    free(scale);
    return st;
}

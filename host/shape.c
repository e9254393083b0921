/* Parameter validation and output-shape formulas, shared by the device and
 * the reference paths so that the two can never disagree about shapes. */
#include "internal.h"

bool clconv_mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return false;
    *out = a * b;
    return true;
}

size_t clconv_shape_elements_checked(const clconv_shape *s)
{
    if (s->n <= 0 || s->c <= 0 || s->h <= 0 || s->w <= 0)
        return 0;
    size_t r = 1;
    if (!clconv_mul_size(r, (size_t)s->n, &r) || !clconv_mul_size(r, (size_t)s->c, &r) ||
        !clconv_mul_size(r, (size_t)s->h, &r) || !clconv_mul_size(r, (size_t)s->w, &r))
        return 0;
    return r;
}

size_t clconv_shape_elements(clconv_shape s)
{
    return clconv_shape_elements_checked(&s);
}

clconv_status clconv_validate_shape(clconv_context *ctx, const clconv_shape *s, const char *name)
{
    if (!s)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected a shape", name);
    const int64_t d[4] = {s->n, s->c, s->h, s->w};
    const char *dn[4] = {"n", "c", "h", "w"};
    for (int i = 0; i < 4; i++) {
        if (d[i] <= 0)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_SHAPE,
                               "%s.%s = %lld, expected >= 1", name, dn[i], (long long)d[i]);
        /* Keeps every formula on the dimensions (with paddings, strides,
         * dilations, all <= CLCONV_MAX_DIM too) inside int64. */
        if (d[i] > CLCONV_MAX_DIM)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_SHAPE, "%s.%s = %lld, expected <= %lld",
                               name, dn[i], (long long)d[i], (long long)CLCONV_MAX_DIM);
    }
    size_t bytes;
    return clconv_tensor_bytes(ctx, name, s, sizeof(float), &bytes);
}

clconv_status clconv_tensor_bytes(clconv_context *ctx, const char *name, const clconv_shape *s,
                                  size_t elem_size, size_t *bytes)
{
    size_t n = clconv_shape_elements_checked(s);
    if (n == 0)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_SHAPE,
                           "%s: %lld x %lld x %lld x %lld elements overflow size_t", name,
                           (long long)s->n, (long long)s->c, (long long)s->h, (long long)s->w);
    if (!clconv_mul_size(n, elem_size, bytes))
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_SHAPE,
                           "%s: %lld x %lld x %lld x %lld = %zu elements of %zu bytes overflow "
                           "size_t", name, (long long)s->n, (long long)s->c, (long long)s->h,
                           (long long)s->w, n, elem_size);
    return CLCONV_SUCCESS;
}

/* One spatial axis of a sliding window: out = floor((in + pads - dil*(k-1) - 1)/stride) + 1. */
static int64_t window_out(int64_t in, int64_t pad_sum, int64_t k, int64_t stride, int64_t dil)
{
    int64_t span = in + pad_sum - dil * (k - 1) - 1;
    if (span < 0)
        return 0;
    return span / stride + 1;
}

clconv_status clconv_check_range(clconv_context *ctx, const char *name, int64_t v, int64_t lo)
{
    if (v < lo)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "%s = %lld, expected >= %lld", name,
                           (long long)v, (long long)lo);
    if (v > CLCONV_MAX_DIM)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "%s = %lld, expected <= %lld", name,
                           (long long)v, (long long)CLCONV_MAX_DIM);
    return CLCONV_SUCCESS;
}

clconv_status clconv_check_groups(clconv_context *ctx, int64_t in_channels, int64_t out_channels,
                                  int64_t groups, const clconv_shape *in)
{
    if (in_channels % groups != 0)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "groups = %lld does not divide in_channels = %lld", (long long)groups,
                           (long long)in_channels);
    if (out_channels % groups != 0)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "groups = %lld does not divide out_channels = %lld", (long long)groups,
                           (long long)out_channels);
    if (in->c != in_channels)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_SHAPE,
                           "input.c = %lld, expected in_channels = %lld", (long long)in->c,
                           (long long)in_channels);
    return CLCONV_SUCCESS;
}

clconv_status clconv_conv2d_check(clconv_context *ctx, const clconv_conv2d_params *p,
                                  const clconv_shape *in, clconv_shape *out)
{
    if (!p)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    clconv_status st;
    struct {
        const char *name;
        int64_t v, lo;
    } r[] = {
        {"in_channels", p->in_channels, 1}, {"out_channels", p->out_channels, 1},
        {"kernel_h", p->kernel_h, 1},       {"kernel_w", p->kernel_w, 1},
        {"stride_h", p->stride_h, 1},       {"stride_w", p->stride_w, 1},
        {"pad_top", p->pad_top, 0},         {"pad_bottom", p->pad_bottom, 0},
        {"pad_left", p->pad_left, 0},       {"pad_right", p->pad_right, 0},
        {"dilation_h", p->dilation_h, 1},   {"dilation_w", p->dilation_w, 1},
        {"groups", p->groups, 1},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        if ((st = clconv_check_range(ctx, r[i].name, r[i].v, r[i].lo)))
            return st;
    if ((st = clconv_activation_check(ctx, p->activation, p->activation_params)) ||
        (st = clconv_residual_check(ctx, p->has_residual, p->alpha, p->beta)) ||
        (st = clconv_dtype_check(ctx, p->dtype)))
        return st;
    /* The input after the parameters: conv1d's input channels are its in_channels. */
    if ((st = clconv_validate_shape(ctx, in, "input")))
        return st;
    if ((st = clconv_check_groups(ctx, p->in_channels, p->out_channels, p->groups, in)))
        return st;
    int64_t oh = window_out(in->h, p->pad_top + p->pad_bottom, p->kernel_h, p->stride_h,
                            p->dilation_h);
    int64_t ow = window_out(in->w, p->pad_left + p->pad_right, p->kernel_w, p->stride_w,
                            p->dilation_w);
    if (oh <= 0 || ow <= 0)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_SHAPE,
                           "no output: input %lldx%lld padded to %lldx%lld is smaller than the "
                           "dilated kernel %lldx%lld",
                           (long long)in->h, (long long)in->w,
                           (long long)(in->h + p->pad_top + p->pad_bottom),
                           (long long)(in->w + p->pad_left + p->pad_right),
                           (long long)(p->dilation_h * (p->kernel_h - 1) + 1),
                           (long long)(p->dilation_w * (p->kernel_w - 1) + 1));
    clconv_shape o = {in->n, p->out_channels, oh, ow};
    clconv_shape wshape = clconv_conv2d_weight_shape(p);
    size_t bytes;
    if ((st = clconv_tensor_bytes(ctx, "output", &o, clconv_dtype_size(p->dtype), &bytes)) ||
        (st = clconv_tensor_bytes(ctx, "weight", &wshape, clconv_dtype_size(p->dtype), &bytes)))
        return st;
    if (out)
        *out = o;
    return CLCONV_SUCCESS;
}

clconv_status clconv_conv2d_validate(const clconv_conv2d_params *params, const clconv_shape *input)
{
    return clconv_conv2d_check(NULL, params, input, NULL);
}

clconv_status clconv_conv2d_output_shape(const clconv_conv2d_params *params,
                                         const clconv_shape *input, clconv_shape *output)
{
    if (!output)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "output: NULL, expected a pointer");
    return clconv_conv2d_check(NULL, params, input, output);
}

clconv_shape clconv_conv2d_weight_shape(const clconv_conv2d_params *p)
{
    clconv_shape s = {0, 0, 0, 0};
    if (p && p->groups > 0) {
        s.n = p->out_channels;
        s.c = p->in_channels / p->groups;
        s.h = p->kernel_h;
        s.w = p->kernel_w;
    }
    return s;
}

clconv_conv2d_params clconv_conv2d_default_params(int64_t in_channels, int64_t out_channels,
                                                  int64_t kernel_h, int64_t kernel_w)
{
    clconv_conv2d_params p = {0};
    p.in_channels = in_channels;
    p.out_channels = out_channels;
    p.kernel_h = kernel_h;
    p.kernel_w = kernel_w;
    p.stride_h = p.stride_w = 1;
    p.dilation_h = p.dilation_w = 1;
    p.groups = 1;
    p.alpha = p.beta = 1.0f;
    return p;
}

clconv_status clconv_conv2d_set_same_padding(clconv_conv2d_params *p)
{
    if (!p)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    if (p->stride_h != 1 || p->stride_w != 1)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE,
                           "padding='same': stride = (%lld, %lld), expected (1, 1) as PyTorch "
                           "requires", (long long)p->stride_h, (long long)p->stride_w);
    if (p->kernel_h < 1 || p->kernel_w < 1 || p->dilation_h < 1 || p->dilation_w < 1)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE,
                           "padding='same': kernel (%lld, %lld) and dilation (%lld, %lld) must "
                           "be >= 1", (long long)p->kernel_h, (long long)p->kernel_w,
                           (long long)p->dilation_h, (long long)p->dilation_w);
    clconv_status st;
    if ((st = clconv_check_range(NULL, "kernel_h", p->kernel_h, 1)) ||
        (st = clconv_check_range(NULL, "kernel_w", p->kernel_w, 1)) ||
        (st = clconv_check_range(NULL, "dilation_h", p->dilation_h, 1)) ||
        (st = clconv_check_range(NULL, "dilation_w", p->dilation_w, 1)))
        return st; /* dilation * (kernel - 1) stays inside int64 */
    int64_t th = p->dilation_h * (p->kernel_h - 1), tw = p->dilation_w * (p->kernel_w - 1);
    p->pad_top = th / 2;
    p->pad_bottom = th - th / 2;
    p->pad_left = tw / 2;
    p->pad_right = tw - tw / 2;
    return CLCONV_SUCCESS;
}

clconv_conv2d_params clconv_conv1d_as_conv2d(const clconv_conv1d_params *q)
{
    clconv_conv2d_params p = {0};
    if (!q)
        return p;
    p.in_channels = q->in_channels;
    p.out_channels = q->out_channels;
    p.kernel_h = 1;
    p.kernel_w = q->kernel;
    p.stride_h = 1;
    p.stride_w = q->stride;
    p.pad_left = q->pad_left;
    p.pad_right = q->pad_right;
    p.dilation_h = 1;
    p.dilation_w = q->dilation;
    p.groups = q->groups;
    p.has_bias = q->has_bias;
    p.activation = q->activation;
    p.activation_params[0] = q->activation_params[0];
    p.activation_params[1] = q->activation_params[1];
    p.has_residual = q->has_residual;
    p.alpha = q->alpha;
    p.beta = q->beta;
    p.pre_activation_output = q->pre_activation_output;
    p.dtype = q->dtype;
    return p;
}

clconv_status clconv_conv1d_output_length(const clconv_conv1d_params *params, int64_t length,
                                          int64_t *out_length)
{
    if (!params || !out_length)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected a pointer",
                           params ? "out_length" : "params");
    clconv_conv2d_params p = clconv_conv1d_as_conv2d(params);
    clconv_shape in = {1, params->in_channels, 1, length}, out;
    clconv_status st = clconv_conv2d_check(NULL, &p, &in, &out);
    if (st)
        return st;
    *out_length = out.w;
    return CLCONV_SUCCESS;
}

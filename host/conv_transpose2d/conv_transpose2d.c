/* conv_transpose2d and conv_transpose1d: validation and output shape, plan
 * creation (the algorithm comes from select.c), run dispatch through
 * plan->algo, the host-array calls. The algorithms live beside this file. */
#include "ct.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parameters, validation, shapes --------------------------------------- */

/* One axis: (in-1)*stride - pad_begin - pad_end + dil*(k-1) + output_padding + 1. */
static int64_t ct_axis_out(int64_t in, int64_t k, int64_t s, int64_t pad_begin, int64_t pad_end,
                           int64_t op, int64_t d)
{
    return (in - 1) * s - pad_begin - pad_end + d * (k - 1) + op + 1;
}

clconv_status clconv_conv_transpose2d_check(clconv_context *ctx,
                                            const clconv_conv_transpose2d_params *p,
                                            const clconv_shape *in, clconv_shape *out)
{
    if (!p)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    clconv_status st;
    struct {
        const char *name;
        int64_t v, lo;
    } r[] = {
        {"in_channels", p->in_channels, 1},
        {"out_channels", p->out_channels, 1},
        {"kernel_h", p->kernel_h, 1},
        {"kernel_w", p->kernel_w, 1},
        {"stride_h", p->stride_h, 1},
        {"stride_w", p->stride_w, 1},
        {"pad_top", p->pad_top, 0},
        {"pad_bottom", p->pad_bottom, 0},
        {"pad_left", p->pad_left, 0},
        {"pad_right", p->pad_right, 0},
        {"output_padding_h", p->output_padding_h, 0},
        {"output_padding_w", p->output_padding_w, 0},
        {"dilation_h", p->dilation_h, 1},
        {"dilation_w", p->dilation_w, 1},
        {"groups", p->groups, 1},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        if ((st = clconv_check_range(ctx, r[i].name, r[i].v, r[i].lo)))
            return st;
    if ((st = clconv_activation_check(ctx, p->activation, p->activation_params)) ||
        (st = clconv_residual_check(ctx, p->has_residual, p->alpha, p->beta)) ||
        (st = clconv_dtype_check(ctx, p->dtype)))
        return st;
    /* PyTorch: "output padding must be smaller than either stride or dilation". */
    const struct {
        const char *name, *axis;
        int64_t op, s, d;
    } o[2] = {{"output_padding_h", "h", p->output_padding_h, p->stride_h, p->dilation_h},
              {"output_padding_w", "w", p->output_padding_w, p->stride_w, p->dilation_w}};
    for (int i = 0; i < 2; i++) {
        int64_t lim = o[i].s > o[i].d ? o[i].s : o[i].d;
        if (o[i].op >= lim)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "%s = %lld, expected < max(stride_%s, dilation_%s) = %lld "
                               "(output padding must be smaller than either stride or dilation)",
                               o[i].name, (long long)o[i].op, o[i].axis, o[i].axis,
                               (long long)lim);
    }
    /* The input after the parameters: conv1d's input channels are its in_channels. */
    if ((st = clconv_validate_shape(ctx, in, "input")))
        return st;
    if ((st = clconv_check_groups(ctx, p->in_channels, p->out_channels, p->groups, in)))
        return st;
    if (in->h > CLCONV_MAX_DIM || in->w > CLCONV_MAX_DIM)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_SHAPE,
                           "input %lldx%lld, expected each side <= %lld", (long long)in->h,
                           (long long)in->w, (long long)CLCONV_MAX_DIM);
    int64_t oh = ct_axis_out(in->h, p->kernel_h, p->stride_h, p->pad_top, p->pad_bottom,
                             p->output_padding_h, p->dilation_h);
    int64_t ow = ct_axis_out(in->w, p->kernel_w, p->stride_w, p->pad_left, p->pad_right,
                             p->output_padding_w, p->dilation_w);
    if (oh <= 0 || ow <= 0)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_SHAPE,
                           "no output: input %lldx%lld gives a %lldx%lld output "
                           "((H-1)*stride - pad_begin - pad_end + dilation*(kernel-1) + "
                           "output_padding + 1); padding (top %lld, bottom %lld, left %lld, "
                           "right %lld) is too large",
                           (long long)in->h, (long long)in->w, (long long)oh, (long long)ow,
                           (long long)p->pad_top, (long long)p->pad_bottom,
                           (long long)p->pad_left, (long long)p->pad_right);
    clconv_shape os = {in->n, p->out_channels, oh, ow};
    clconv_shape wshape = clconv_conv_transpose2d_weight_shape(p);
    size_t bytes;
    if ((st = clconv_tensor_bytes(ctx, "output", &os, clconv_dtype_size(p->dtype), &bytes)) ||
        (st = clconv_tensor_bytes(ctx, "weight", &wshape, clconv_dtype_size(p->dtype), &bytes)))
        return st;
    if (out)
        *out = os;
    return CLCONV_SUCCESS;
}

clconv_status clconv_conv_transpose2d_validate(const clconv_conv_transpose2d_params *params,
                                               const clconv_shape *input)
{
    return clconv_conv_transpose2d_check(NULL, params, input, NULL);
}

clconv_status clconv_conv_transpose2d_output_shape(const clconv_conv_transpose2d_params *params,
                                                   const clconv_shape *input,
                                                   clconv_shape *output)
{
    if (!output)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "output: NULL, expected a pointer");
    return clconv_conv_transpose2d_check(NULL, params, input, output);
}

clconv_shape clconv_conv_transpose2d_weight_shape(const clconv_conv_transpose2d_params *p)
{
    clconv_shape s = {0, 0, 0, 0};
    if (p && p->groups > 0) {
        s.n = p->in_channels;
        s.c = p->out_channels / p->groups;
        s.h = p->kernel_h;
        s.w = p->kernel_w;
    }
    return s;
}

clconv_conv_transpose2d_params clconv_conv_transpose2d_default_params(int64_t in_channels,
                                                                      int64_t out_channels,
                                                                      int64_t kernel_h,
                                                                      int64_t kernel_w)
{
    clconv_conv_transpose2d_params p;
    memset(&p, 0, sizeof p);
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

clconv_status clconv_conv_transpose2d_plan_create(clconv_context *ctx,
                                                  const clconv_conv_transpose2d_params *params,
                                                  const clconv_shape *input,
                                                  const clconv_plan_options *options,
                                                  clconv_plan **out)
{
    if (!ctx)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "ctx: NULL, expected a context");
    if (!out)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "out: NULL, expected a pointer");
    *out = NULL;
    clconv_shape oshape;
    clconv_status st = clconv_conv_transpose2d_check(ctx, params, input, &oshape);
    if (st)
        return st;
    return clconv_conv_transpose2d_plan_shaped(ctx, params, input, &oshape, options,
                                               CLCONV_OP_CONV_TRANSPOSE2D, out);
}

/* A plan of operator op for params from input to output (validated by the
 * caller) without an algorithm: the device limits, sizes, flops (no device
 * work). */
static clconv_status ct_plan_new(clconv_context *ctx, const clconv_conv_transpose2d_params *params,
                                 const clconv_shape *input, const clconv_shape *output,
                                 clconv_op op, clconv_plan **out)
{
    clconv_status st;
    const clconv_shape oshape = *output;
    clconv_shape wshape = clconv_conv_transpose2d_weight_shape(params);
    size_t nx = clconv_shape_elements_checked(input), ny = clconv_shape_elements_checked(&oshape);
    size_t nw = clconv_shape_elements_checked(&wshape);
    const size_t es = clconv_dtype_size(params->dtype);
    if ((st = clconv_check_device_tensor(ctx, "input", nx, es)) ||
        (st = clconv_check_device_tensor(ctx, "weight", nw, es)) ||
        (st = clconv_check_device_tensor(ctx, "output", ny, es)))
        return st;
    /* The kernels do their index arithmetic in 32-bit ints. */
    const int64_t span_h = params->dilation_h * (params->kernel_h - 1) + params->pad_top +
                           params->stride_h + oshape.h;
    const int64_t span_w = params->dilation_w * (params->kernel_w - 1) + params->pad_left +
                           params->stride_w + oshape.w;
    if (span_h > INT32_MAX || span_w > INT32_MAX ||
        params->kernel_h * params->kernel_w > INT32_MAX)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "kernel %lldx%lld, dilation %lldx%lld, padding top %lld, left %lld: "
                           "index arithmetic would overflow the kernels' 32-bit ints",
                           (long long)params->kernel_h, (long long)params->kernel_w,
                           (long long)params->dilation_h, (long long)params->dilation_w,
                           (long long)params->pad_top, (long long)params->pad_left);
    /* Every input value meets every weight of its group once (padding aside). */
    double macs = (double)nx * (double)wshape.c * (double)wshape.h * (double)wshape.w;
    if ((st = clconv_plan_alloc_weighted(ctx, op, params->dtype, input, &oshape, nw,
                                         params->has_bias ? params->out_channels : 0, macs, out)))
        return st;
    (*out)->params.conv_transpose2d = *params;
    return CLCONV_SUCCESS;
}

clconv_status clconv_conv_transpose2d_plan_shaped(clconv_context *ctx,
                                                  const clconv_conv_transpose2d_params *params,
                                                  const clconv_shape *input,
                                                  const clconv_shape *output,
                                                  const clconv_plan_options *options,
                                                  clconv_op op, clconv_plan **out)
{
    clconv_plan *plan;
    clconv_status st = ct_plan_new(ctx, params, input, output, op, &plan);
    if (st)
        return st;
    if ((st = clconv_conv_transpose2d_select(plan, options))) {
        clconv_plan_destroy(plan);
        return st;
    }
    *out = plan;
    return CLCONV_SUCCESS;
}

clconv_status clconv_conv_transpose2d_algorithm_supported(
    clconv_context *ctx, const clconv_conv_transpose2d_params *params, const clconv_shape *input,
    clconv_algorithm algorithm)
{
    if (!ctx)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "ctx: NULL, expected a context");
    clconv_shape oshape;
    clconv_plan *plan;
    clconv_status st = clconv_conv_transpose2d_check(ctx, params, input, &oshape);
    if (st || (st = ct_plan_new(ctx, params, input, &oshape, CLCONV_OP_CONV_TRANSPOSE2D, &plan)))
        return st;
    st = clconv_algo_supported(plan, algorithm);
    clconv_plan_destroy(plan);
    return st;
}

clconv_status clconv_conv_transpose2d_run(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b,
                                          cl_mem y, cl_mem workspace, cl_uint num_wait,
                                          const cl_event *wait_list, cl_event *done)
{
    if (!plan)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "plan: NULL, expected a plan");
    clconv_context *ctx = plan->ctx;
    if (plan->op != CLCONV_OP_CONV_TRANSPOSE2D)
        return clconv_fail(ctx, CLCONV_ERROR_WRONG_PLAN,
                           "clconv_conv_transpose2d_run: the plan was made for another operator "
                           "(%s); expected a conv_transpose2d plan",
                           clconv_algorithm_name(plan->info.algorithm));
    return clconv_conv_transpose2d_enqueue(plan, x, w, b, y, workspace, num_wait, wait_list,
                                           done);
}


clconv_status clconv_conv_transpose2d_enqueue(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b,
                                              cl_mem y, cl_mem workspace, cl_uint num_wait,
                                              const cl_event *wait_list, cl_event *done)
{
    const clconv_run_args a = {.x = x, .w = w, .b = b, .y = y, .workspace = workspace, .num_wait = num_wait, .wait_list = wait_list, .done = done};
    return clconv_conv_transpose2d_enqueue_args(plan, &a);
}

clconv_status clconv_conv_transpose2d_enqueue_args(clconv_plan *plan, const clconv_run_args *ra)
{
    clconv_context *ctx = plan->ctx;
    cl_mem x = ra->x, w = ra->w, b = ra->b, y = ra->y, workspace = ra->workspace;
    if (ra->done)
        *ra->done = NULL;
    clconv_status st;
    if ((st = clconv_check_wait_list(ctx, ra->num_wait, ra->wait_list)) ||
        (st = clconv_check_weighted_buffers(plan, x, w, b, y, "transposed convolution")) ||
        (st = clconv_check_epilogue_buffers(plan, x, w, b, y, workspace, ra->z, ra->pre)))
        return st;
    if (plan->info.workspace_bytes > 0 &&
        (st = clconv_check_buffer(ctx, workspace, plan->info.workspace_bytes, "workspace")))
        return st;
    if (workspace && plan->info.workspace_bytes > 0 &&
        (workspace == x || workspace == w || workspace == y || (b && workspace == b)))
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "workspace: must not be the same buffer as x, w, b or y");
    return clconv_plan_dispatch(plan, ra);
}

clconv_status clconv_conv_transpose2d_prepare(clconv_plan *plan, cl_mem w, cl_uint num_wait,
                                              const cl_event *wait_list, cl_event *done)
{
    if (!plan)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "plan: NULL, expected a plan");
    if (plan->op != CLCONV_OP_CONV_TRANSPOSE2D)
        return clconv_fail(plan->ctx, CLCONV_ERROR_WRONG_PLAN,
                           "clconv_conv_transpose2d_prepare: the plan was made for another "
                           "operator (%s); expected a conv_transpose2d plan",
                           clconv_algorithm_name(plan->info.algorithm));
    return clconv_plan_prepare(plan, w, num_wait, wait_list, done);
}

clconv_status clconv_conv_transpose2d_host(clconv_context *ctx,
                                           const clconv_conv_transpose2d_params *params,
                                           const clconv_shape *input,
                                           const clconv_plan_options *options, const float *x,
                                           const float *w, const float *b, float *y)
{
    return clconv_conv_transpose2d_host_epilogue(ctx, params, input, options, x, w, b, NULL, y,
                                                 NULL);
}

clconv_status clconv_conv_transpose2d_host_epilogue(
    clconv_context *ctx, const clconv_conv_transpose2d_params *params, const clconv_shape *input,
    const clconv_plan_options *options, const float *x, const float *w, const float *b,
    const float *z, float *y, float *pre)
{
    clconv_status st = clconv_host_check_arrays(ctx, x, w, b, y, params && params->has_bias);
    if (!st && params)
        st = clconv_host_check_dtype(ctx, params->dtype, "clconv_conv_transpose2d_host");
    if (st || (params && (st = clconv_host_check_epilogue(ctx, params->has_residual,
                                                          params->pre_activation_output, z,
                                                          pre))))
        return st;
    clconv_plan *plan;
    if ((st = clconv_conv_transpose2d_plan_create(ctx, params, input, options, &plan)))
        return st;
    return clconv_host_run_weighted(plan, x, w, b, z, y, pre);
}

/* ---- conv_transpose1d: the same kernels with H = 1 ------------------------ */

clconv_conv_transpose2d_params
clconv_conv_transpose1d_as_conv_transpose2d(const clconv_conv_transpose1d_params *q)
{
    clconv_conv_transpose2d_params p;
    memset(&p, 0, sizeof p);
    if (!q)
        return p;
    p.in_channels = q->in_channels;
    p.out_channels = q->out_channels;
    p.kernel_h = 1;
    p.kernel_w = q->kernel;
    p.stride_h = 1;
    p.stride_w = q->stride;
    p.pad_top = p.pad_bottom = 0;
    p.pad_left = q->pad_left;
    p.pad_right = q->pad_right;
    p.output_padding_h = 0;
    p.output_padding_w = q->output_padding;
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

clconv_status clconv_conv_transpose1d_output_length(const clconv_conv_transpose1d_params *params,
                                                    int64_t length, int64_t *out_length)
{
    if (!params || !out_length)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected a pointer",
                           params ? "out_length" : "params");
    clconv_conv_transpose2d_params p = clconv_conv_transpose1d_as_conv_transpose2d(params);
    clconv_shape in = {1, params->in_channels, 1, length}, out;
    clconv_status st = clconv_conv_transpose2d_check(NULL, &p, &in, &out);
    if (st)
        return st;
    *out_length = out.w;
    return CLCONV_SUCCESS;
}

clconv_status clconv_conv_transpose1d_plan_create(clconv_context *ctx,
                                                  const clconv_conv_transpose1d_params *params,
                                                  int64_t n, int64_t length,
                                                  const clconv_plan_options *options,
                                                  clconv_plan **out)
{
    if (!params)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    clconv_conv_transpose2d_params p = clconv_conv_transpose1d_as_conv_transpose2d(params);
    clconv_shape in = {n, params->in_channels, 1, length};
    return clconv_conv_transpose2d_plan_create(ctx, &p, &in, options, out);
}

clconv_status clconv_conv_transpose1d_host(clconv_context *ctx,
                                           const clconv_conv_transpose1d_params *params,
                                           int64_t n, int64_t length,
                                           const clconv_plan_options *options, const float *x,
                                           const float *w, const float *b, float *y)
{
    if (!params)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    clconv_conv_transpose2d_params p = clconv_conv_transpose1d_as_conv_transpose2d(params);
    clconv_shape in = {n, params->in_channels, 1, length};
    return clconv_conv_transpose2d_host(ctx, &p, &in, options, x, w, b, y);
}

clconv_status clconv_conv_transpose1d_host_epilogue(
    clconv_context *ctx, const clconv_conv_transpose1d_params *params, int64_t n, int64_t length,
    const clconv_plan_options *options, const float *x, const float *w, const float *b,
    const float *z, float *y, float *pre)
{
    if (!params)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    clconv_conv_transpose2d_params p = clconv_conv_transpose1d_as_conv_transpose2d(params);
    clconv_shape in = {n, params->in_channels, 1, length};
    return clconv_conv_transpose2d_host_epilogue(ctx, &p, &in, options, x, w, b, z, y, pre);
}


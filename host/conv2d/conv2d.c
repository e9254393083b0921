/* conv2d and conv1d: validation, plan creation (the algorithm comes from
 * select.c), run dispatch through plan->algo, the host-array calls. */
#include "../algo.h"

#include <stdio.h>
#include <stdlib.h>

clconv_status clconv_conv2d_plan_new(clconv_context *ctx, const clconv_conv2d_params *params,
                                     const clconv_shape *input, clconv_plan **out)
{
    if (!ctx)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "ctx: NULL, expected a context");
    if (!out)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "out: NULL, expected a pointer");
    *out = NULL;
    clconv_shape oshape;
    clconv_status st = clconv_conv2d_check(ctx, params, input, &oshape);
    if (st)
        return st;
    clconv_shape wshape = clconv_conv2d_weight_shape(params);
    size_t nx = clconv_shape_elements_checked(input), ny = clconv_shape_elements_checked(&oshape);
    size_t nw = clconv_shape_elements_checked(&wshape);
    const size_t es = clconv_dtype_size(params->dtype);
    if ((st = clconv_check_device_tensor(ctx, "input", nx, es)) ||
        (st = clconv_check_device_tensor(ctx, "weight", nw, es)) ||
        (st = clconv_check_device_tensor(ctx, "output", ny, es)))
        return st;
    /* The kernels compute input coordinates (output index * stride + tap *
     * dilation) in ints, for whole tiles: up to 2^15 outputs past the edge. */
    const struct {
        const char *axis;
        int64_t o, s, k, d;
    } ax[2] = {{"h", oshape.h, params->stride_h, params->kernel_h, params->dilation_h},
               {"w", oshape.w, params->stride_w, params->kernel_w, params->dilation_w}};
    for (int i = 0; i < 2; i++) {
        int64_t reach = (ax[i].o + ((int64_t)1 << 15)) * ax[i].s + (ax[i].k - 1) * ax[i].d;
        if (reach > INT32_MAX)
            return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                               "stride_%s = %lld, kernel_%s = %lld, dilation_%s = %lld with %lld "
                               "outputs: input coordinates up to %lld overflow the kernels' "
                               "32-bit ints", ax[i].axis, (long long)ax[i].s, ax[i].axis,
                               (long long)ax[i].k, ax[i].axis, (long long)ax[i].d,
                               (long long)ax[i].o, (long long)reach);
    }
    /* Every output sums in/groups x kh x kw products. */
    double macs = (double)ny * (double)wshape.c * (double)wshape.h * (double)wshape.w;
    if ((st = clconv_plan_alloc_weighted(ctx, CLCONV_OP_CONV2D, params->dtype, input, &oshape, nw,
                                         params->has_bias ? params->out_channels : 0, macs, out)))
        return st;
    (*out)->params.conv2d = *params;
    return CLCONV_SUCCESS;
}

clconv_status clconv_conv2d_plan_create(clconv_context *ctx, const clconv_conv2d_params *params,
                                        const clconv_shape *input,
                                        const clconv_plan_options *options, clconv_plan **out)
{
    if (ctx && !out)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "out: NULL, expected a pointer");
    if (out)
        *out = NULL;
    clconv_plan *plan;
    clconv_status st = clconv_conv2d_plan_new(ctx, params, input, &plan);
    if (st)
        return st;
    if ((st = clconv_conv2d_select(plan, options))) {
        clconv_plan_destroy(plan);
        return st;
    }
    *out = plan;
    return CLCONV_SUCCESS;
}

clconv_status clconv_conv2d_algorithm_supported(clconv_context *ctx,
                                                const clconv_conv2d_params *params,
                                                const clconv_shape *input,
                                                clconv_algorithm algorithm)
{
    clconv_plan *plan;
    clconv_status st = clconv_conv2d_plan_new(ctx, params, input, &plan);
    if (st)
        return st;
    st = clconv_algo_supported(plan, algorithm);
    clconv_plan_destroy(plan);
    return st;
}

clconv_status clconv_conv2d_enqueue(clconv_plan *plan, const clconv_run_args *a)
{
    clconv_status st = clconv_check_weighted_buffers(plan, a->x, a->w, a->b, a->y, "convolution");
    if (st || (st = clconv_check_epilogue_buffers(plan, a->x, a->w, a->b, a->y, a->workspace,
                                                  a->z, a->pre)))
        return st;
    return clconv_plan_dispatch(plan, a);
}

clconv_status clconv_conv2d_prepare(clconv_plan *plan, cl_mem w, cl_uint num_wait,
                                    const cl_event *wait_list, cl_event *done)
{
    if (!plan)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "plan: NULL, expected a plan");
    if (plan->op != CLCONV_OP_CONV2D)
        return clconv_fail(plan->ctx, CLCONV_ERROR_WRONG_PLAN,
                           "clconv_conv2d_prepare: the plan was made for another operator");
    return clconv_plan_prepare(plan, w, num_wait, wait_list, done);
}

clconv_status clconv_conv2d_run(clconv_plan *plan, cl_mem x, cl_mem w, cl_mem b, cl_mem y,
                                cl_mem workspace, cl_uint num_wait, const cl_event *wait_list,
                                cl_event *done)
{
    if (!plan)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "plan: NULL, expected a plan");
    if (plan->op != CLCONV_OP_CONV2D)
        return clconv_fail(plan->ctx, CLCONV_ERROR_WRONG_PLAN,
                           "clconv_conv2d_run: the plan was made for another operator");
    const clconv_run_args a = {.x = x, .w = w, .b = b, .y = y, .workspace = workspace, .num_wait = num_wait, .wait_list = wait_list, .done = done};
    return clconv_conv2d_enqueue(plan, &a);
}

clconv_status clconv_conv_run(clconv_plan *plan, const clconv_conv_buffers *buffers,
                              cl_uint num_wait, const cl_event *wait_list, cl_event *done)
{
    if (done)
        *done = NULL;
    if (!plan)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "plan: NULL, expected a plan");
    if (!buffers)
        return clconv_fail(plan->ctx, CLCONV_ERROR_INVALID_VALUE,
                           "buffers: NULL, expected the run's buffers");
    const clconv_conv_buffers *m = buffers;
    const clconv_run_args a = {.x = m->x, .w = m->w, .b = m->b, .y = m->y,
                               .workspace = m->workspace, .num_wait = num_wait,
                               .wait_list = wait_list, .done = done, .z = m->z, .pre = m->pre};
    if (plan->op == CLCONV_OP_CONV2D)
        return clconv_conv2d_enqueue(plan, &a);
    if (plan->op == CLCONV_OP_CONV_TRANSPOSE2D)
        return clconv_conv_transpose2d_enqueue_args(plan, &a);
    return clconv_fail(plan->ctx, CLCONV_ERROR_WRONG_PLAN,
                       "clconv_conv_run: the plan was made for another operator; expected a "
                       "conv2d, conv1d, conv_transpose2d or conv_transpose1d plan");
}

clconv_status clconv_conv2d_host(clconv_context *ctx, const clconv_conv2d_params *params,
                                 const clconv_shape *input, const clconv_plan_options *options,
                                 const float *x, const float *w, const float *b, float *y)
{
    return clconv_conv2d_host_epilogue(ctx, params, input, options, x, w, b, NULL, y, NULL);
}

clconv_status clconv_conv2d_host_epilogue(clconv_context *ctx, const clconv_conv2d_params *params,
                                          const clconv_shape *input,
                                          const clconv_plan_options *options, const float *x,
                                          const float *w, const float *b, const float *z,
                                          float *y, float *pre)
{
    clconv_status st = clconv_host_check_arrays(ctx, x, w, b, y, params && params->has_bias);
    if (!st && params)
        st = clconv_host_check_dtype(ctx, params->dtype, "clconv_conv2d_host");
    if (st || (params && (st = clconv_host_check_epilogue(ctx, params->has_residual,
                                                          params->pre_activation_output, z,
                                                          pre))))
        return st;
    clconv_plan *plan;
    if ((st = clconv_conv2d_plan_create(ctx, params, input, options, &plan)))
        return st;
    return clconv_host_run_weighted(plan, x, w, b, z, y, pre);
}

/* ---- conv1d: the same kernels with H = 1 ---------------------------------- */

clconv_status clconv_conv1d_plan_create(clconv_context *ctx, const clconv_conv1d_params *params,
                                        int64_t n, int64_t length,
                                        const clconv_plan_options *options, clconv_plan **out)
{
    if (!params)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    clconv_conv2d_params p = clconv_conv1d_as_conv2d(params);
    clconv_shape in = {n, params->in_channels, 1, length};
    return clconv_conv2d_plan_create(ctx, &p, &in, options, out);
}

clconv_status clconv_conv1d_host(clconv_context *ctx, const clconv_conv1d_params *params,
                                 int64_t n, int64_t length, const clconv_plan_options *options,
                                 const float *x, const float *w, const float *b, float *y)
{
    if (!params)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    clconv_conv2d_params p = clconv_conv1d_as_conv2d(params);
    clconv_shape in = {n, params->in_channels, 1, length};
    return clconv_conv2d_host(ctx, &p, &in, options, x, w, b, y);
}

clconv_status clconv_conv1d_host_epilogue(clconv_context *ctx, const clconv_conv1d_params *params,
                                          int64_t n, int64_t length,
                                          const clconv_plan_options *options, const float *x,
                                          const float *w, const float *b, const float *z,
                                          float *y, float *pre)
{
    if (!params)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "params: NULL, expected parameters");
    clconv_conv2d_params p = clconv_conv1d_as_conv2d(params);
    clconv_shape in = {n, params->in_channels, 1, length};
    return clconv_conv2d_host_epilogue(ctx, &p, &in, options, x, w, b, z, y, pre);
}


/* Training passes of conv2d: the data gradient (a transposed-convolution
 * plan), the bias gradient (kernels/conv2d_backward.cl), ReLU backward
 * (kernels/activation.cl) and the host-array calls; the weights gradient is
 * in weights.c. Every reduction has a fixed order: no atomics, the same bits
 * on every run of a plan. */
#include "backward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared ---------------------------------------------------------------- */

clconv_status clconv_bwd_begin(clconv_context *ctx, const clconv_conv2d_params *params,
                               const clconv_shape *input, clconv_plan **out, clconv_shape *oshape)
{
    if (!ctx)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "ctx: NULL, expected a context");
    if (!out)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "out: NULL, expected a pointer");
    *out = NULL;
    clconv_status st = clconv_conv2d_check(ctx, params, input, oshape);
    if (st)
        return st;
    if (params->dtype != CLCONV_DTYPE_F32)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "dtype = %s: the conv2d backward passes take f32 tensors only (fp16 "
                           "storage is not offered for them yet)", clconv_dtype_name(params->dtype));
    clconv_shape wshape = clconv_conv2d_weight_shape(params);
    size_t nx = clconv_shape_elements_checked(input), ny = clconv_shape_elements_checked(oshape);
    size_t nw = clconv_shape_elements_checked(&wshape);
    if (nw == 0)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_SHAPE, "weight: no elements, expected at least one");
    /* dx has the input's shape, dy the output's, dw the weight's. */
    if ((st = clconv_check_device_tensor(ctx, "input", nx, sizeof(float))) ||
        (st = clconv_check_device_tensor(ctx, "weight", nw, sizeof(float))) ||
        (st = clconv_check_device_tensor(ctx, "output", ny, sizeof(float))))
        return st;
    return CLCONV_SUCCESS;
}

clconv_status clconv_bwd_check_run(clconv_plan *plan, clconv_op op, const char *fn,
                                   cl_uint num_wait, const cl_event *wait_list, cl_event *done)
{
    if (!plan)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "plan: NULL, expected a plan");
    if (done)
        *done = NULL;
    if (plan->op != op)
        return clconv_fail(plan->ctx, CLCONV_ERROR_WRONG_PLAN,
                           "%s: the plan was made for another operator (%s)", fn,
                           clconv_algorithm_name(plan->info.algorithm));
    return clconv_check_wait_list(plan->ctx, num_wait, wait_list);
}

clconv_status clconv_bwd_no_alias(clconv_context *ctx, cl_mem out, const char *oname, cl_mem a,
                                  const char *aname, cl_mem b, const char *bname)
{
    if (out == a || out == b)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "%s: must not be the same buffer as %s", oname,
                           out == a ? aname : bname);
    return CLCONV_SUCCESS;
}


/* ---- backward data: conv_transpose2d with the same weights ---------------- */

clconv_status clconv_conv2d_backward_data_plan_create(clconv_context *ctx,
                                                      const clconv_conv2d_params *params,
                                                      const clconv_shape *input,
                                                      const clconv_plan_options *options,
                                                      clconv_plan **out)
{
    /* fp16 storage is offered for the data gradient (the conv_transpose2d
     * plan below takes it, checking the tensors' sizes in halves), so the
     * shared checks see params as f32, past their refusal of F16. */
    clconv_conv2d_params as_f32;
    const clconv_conv2d_params *checked = params;
    if (params && params->dtype == CLCONV_DTYPE_F16) {
        as_f32 = *params;
        as_f32.dtype = CLCONV_DTYPE_F32;
        checked = &as_f32;
    }
    clconv_shape dy;
    clconv_status st = clconv_bwd_begin(ctx, checked, input, out, &dy);
    if (st)
        return st;
    if (options && options->algorithm != CLCONV_ALGO_AUTO &&
        options->algorithm != CLCONV_ALGO_TRANSPOSED_GATHER &&
        options->algorithm != CLCONV_ALGO_TRANSPOSED_VECTOR &&
        options->algorithm != CLCONV_ALGO_TRANSPOSED_COLUMNS &&
        options->algorithm != CLCONV_ALGO_TRANSPOSED_GEMM)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "options.algorithm = %s, expected auto, transposed-gather, "
                           "transposed-vector, transposed-columns or transposed-gemm for conv2d "
                           "backward-data",
                           clconv_algorithm_name(options->algorithm));
    /* dx[ih] gathers dy[oh] * w[kh] where ih = oh*stride - pad_top + kh*dilation:
     * conv_transpose2d's map with the forward's paddings, whose output is the
     * input's size (PyTorch's conv2d_input picks output_padding for that;
     * here the output size is given directly). */
    clconv_conv_transpose2d_params q = clconv_conv_transpose2d_default_params(
        params->out_channels, params->in_channels, params->kernel_h, params->kernel_w);
    q.stride_h = params->stride_h;
    q.stride_w = params->stride_w;
    q.pad_top = params->pad_top;
    q.pad_bottom = params->pad_bottom;
    q.pad_left = params->pad_left;
    q.pad_right = params->pad_right;
    q.dilation_h = params->dilation_h;
    q.dilation_w = params->dilation_w;
    q.groups = params->groups;
    q.dtype = params->dtype;
    const int64_t span_h = q.dilation_h * (q.kernel_h - 1) + q.pad_top + q.stride_h + input->h;
    const int64_t span_w = q.dilation_w * (q.kernel_w - 1) + q.pad_left + q.stride_w + input->w;
    if (span_h > INT32_MAX || span_w > INT32_MAX)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "kernel %lldx%lld, dilation %lldx%lld, padding top %lld, left %lld: "
                           "index arithmetic would overflow the kernels' 32-bit ints",
                           (long long)q.kernel_h, (long long)q.kernel_w,
                           (long long)q.dilation_h, (long long)q.dilation_w,
                           (long long)q.pad_top, (long long)q.pad_left);
    return clconv_conv_transpose2d_plan_shaped(ctx, &q, &dy, input, options,
                                               CLCONV_OP_CONV2D_BACKWARD_DATA, out);
}

clconv_status clconv_conv2d_backward_data_run(clconv_plan *plan, cl_mem dy, cl_mem w, cl_mem dx,
                                              cl_mem workspace, cl_uint num_wait,
                                              const cl_event *wait_list, cl_event *done)
{
    clconv_status st = clconv_bwd_check_run(plan, CLCONV_OP_CONV2D_BACKWARD_DATA,
                                     "clconv_conv2d_backward_data_run", num_wait, wait_list, done);
    if (st)
        return st;
    clconv_context *ctx = plan->ctx;
    if ((st = clconv_check_buffer(ctx, dy, plan->x_bytes, "dy")) ||
        (st = clconv_check_buffer(ctx, w, plan->w_bytes, "w")) ||
        (st = clconv_check_buffer(ctx, dx, plan->y_bytes, "dx")) ||
        (st = clconv_bwd_no_alias(ctx, dx, "dx", dy, "dy", w, "w")))
        return st;
    return clconv_conv_transpose2d_enqueue(plan, dy, w, NULL, dx, workspace, num_wait, wait_list,
                                           done);
}

/* ---- backward bias --------------------------------------------------------- */

clconv_status clconv_conv2d_backward_bias_plan_create(clconv_context *ctx,
                                                      const clconv_conv2d_params *params,
                                                      const clconv_shape *input,
                                                      const clconv_plan_options *options,
                                                      clconv_plan **out)
{
    clconv_shape oshape;
    clconv_status st = clconv_bwd_begin(ctx, params, input, out, &oshape);
    if (st)
        return st;
    if (oshape.h * oshape.w > INT32_MAX)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "output plane of %lld pixels, expected <= %d",
                           (long long)(oshape.h * oshape.w), INT32_MAX);
    clconv_plan *plan;
    if ((st = clconv_plan_alloc(ctx, CLCONV_OP_CONV2D_BACKWARD_BIAS, &plan)))
        return st;
    plan->params.conv2d = *params;
    plan->info.input = oshape;
    plan->info.output = (clconv_shape){1, oshape.c, 1, 1};
    plan->aux_bytes = clconv_shape_elements_checked(&oshape) * sizeof(float); /* dy */
    plan->b_bytes = (size_t)oshape.c * sizeof(float);                           /* db */
    plan->info.flops = (double)clconv_shape_elements_checked(&oshape);
    plan->info.bytes = (double)(plan->aux_bytes + plan->b_bytes);
    if ((st = clconv_plan_build_single(plan, options, "conv2d backward-bias"))) {
        clconv_plan_destroy(plan);
        return st;
    }
    *out = plan;
    return CLCONV_SUCCESS;
}

/* One work-group per channel sums its dy in a fixed-order tree. */
static clconv_status bias_plan(clconv_plan *plan, const clconv_plan_options *opts)
{
    (void)opts;
    clconv_context *ctx = plan->ctx;
    const clconv_shape oshape = plan->info.input;
    clconv_status st = CLCONV_SUCCESS;
    /* One work-group per channel; the tree needs a power of two. */
    int wgb = clconv_context_is_cpu_family(ctx) ? 16 : 128;
    while (wgb > 1 && ((size_t)wgb > ctx->max_wg_size || (size_t)wgb > ctx->max_item_sizes[0]))
        wgb /= 2;
    for (int attempt = 0;; attempt++) {
        snprintf(plan->info.build_options, sizeof plan->info.build_options, "-DWGB=%d", wgb);
        snprintf(plan->info.kernel_name, sizeof plan->info.kernel_name, "conv2d_backward_bias");
        if (plan->kernel) {
            clReleaseKernel(plan->kernel);
            plan->kernel = NULL;
        }
        size_t limit;
        if ((st = clconv_get_kernel(ctx, "conv2d_backward", "conv2d_backward_bias",
                                    plan->info.build_options, &plan->kernel)) ||
            (st = clconv_plan_wg_limit(plan, plan->kernel, &limit)))
            break;
        if ((size_t)wgb <= limit)
            break;
        if (wgb == 1 || attempt > 8) {
            st = clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                             "conv2d_backward_bias: the compiled kernel allows %zu work-items "
                             "per group", limit);
            break;
        }
        wgb /= 2;
    }
    if (!st) {
        plan->work_dim = 1;
        plan->local_size[0] = (size_t)wgb;
        plan->local_size[1] = plan->local_size[2] = 1;
        plan->global_size[0] = (size_t)wgb * (size_t)oshape.c;
        plan->global_size[1] = plan->global_size[2] = 1;
        plan->info.local_mem_bytes = (size_t)wgb * sizeof(float);
        cl_int args[] = {(cl_int)oshape.n, (cl_int)oshape.c, (cl_int)(oshape.h * oshape.w)};
        st = clconv_plan_set_ints(plan, plan->kernel, 2, args, 3);
    }
    return st;
}

/* a->x is dy, a->y is db. */
static clconv_status bias_run(clconv_plan *plan, const clconv_run_args *a)
{
    const cl_mem args[2] = {a->x, a->y};
    const char *const names[2] = {"dy", "db"};
    return clconv_plan_enqueue_buffers(plan, 2, args, names, a->num_wait, a->wait_list, a->done);
}

const clconv_algo clconv_conv2d_backward_bias = {
    .op = CLCONV_OP_CONV2D_BACKWARD_BIAS,
    .id = CLCONV_ALGO_DIRECT_REGISTER,
    .plan = bias_plan,
    .run = bias_run,
};

clconv_status clconv_conv2d_backward_bias_run(clconv_plan *plan, cl_mem dy, cl_mem db,
                                              cl_uint num_wait, const cl_event *wait_list,
                                              cl_event *done)
{
    clconv_status st = clconv_bwd_check_run(plan, CLCONV_OP_CONV2D_BACKWARD_BIAS,
                                     "clconv_conv2d_backward_bias_run", num_wait, wait_list, done);
    if (st)
        return st;
    clconv_context *ctx = plan->ctx;
    if ((st = clconv_check_buffer(ctx, dy, plan->aux_bytes, "dy")) ||
        (st = clconv_check_buffer(ctx, db, plan->b_bytes, "db")) ||
        (st = clconv_bwd_no_alias(ctx, db, "db", dy, "dy", NULL, "")))
        return st;
    const clconv_run_args a = {.x = dy, .y = db, .num_wait = num_wait, .wait_list = wait_list,
                               .done = done};
    return clconv_plan_dispatch(plan, &a);
}

/* ---- ReLU backward --------------------------------------------------------- */

clconv_status clconv_relu_backward_plan_create(clconv_context *ctx, const clconv_shape *shape,
                                               clconv_plan **out)
{
    if (!ctx)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "ctx: NULL, expected a context");
    if (!out)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "out: NULL, expected a pointer");
    *out = NULL;
    clconv_status st = clconv_validate_shape(ctx, shape, "shape");
    if (st)
        return st;
    const size_t count = clconv_shape_elements_checked(shape);
    size_t bytes;
    if (!clconv_mul_size(count, sizeof(float), &bytes))
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_SHAPE, "shape: %zu elements overflow size_t",
                           count);
    clconv_plan *plan;
    if ((st = clconv_plan_alloc(ctx, CLCONV_OP_RELU_BACKWARD, &plan)))
        return st;
    plan->info.input = plan->info.output = *shape;
    plan->x_bytes = plan->y_bytes = plan->aux_bytes = bytes;
    plan->info.flops = (double)count;
    plan->info.bytes = 3.0 * (double)bytes;
    if ((st = clconv_plan_build_single(plan, NULL, "ReLU backward"))) {
        clconv_plan_destroy(plan);
        return st;
    }
    *out = plan;
    return CLCONV_SUCCESS;
}

/* One work-item per element (kernels/activation.cl). */
static clconv_status relu_plan(clconv_plan *plan, const clconv_plan_options *opts)
{
    (void)opts;
    clconv_context *ctx = plan->ctx;
    const size_t count = clconv_shape_elements_checked(&plan->info.input);
    snprintf(plan->info.kernel_name, sizeof plan->info.kernel_name, "relu_backward");
    size_t limit = 0;
    clconv_status st;
    if ((st = clconv_get_kernel(ctx, "activation", "relu_backward", "", &plan->kernel)) ||
        (st = clconv_plan_wg_limit(plan, plan->kernel, &limit)))
        return st;
    size_t wg = limit < 64 ? limit : 64;
    plan->work_dim = 1;
    plan->local_size[0] = wg;
    plan->local_size[1] = plan->local_size[2] = 1;
    plan->global_size[0] = clconv_bwd_round_up(count, wg);
    plan->global_size[1] = plan->global_size[2] = 1;
    cl_ulong n = (cl_ulong)count;
    return clconv_set_arg(ctx, plan->kernel, 3, sizeof n, &n, "count");
}

/* a->x is the forward output y, a->w is dy, a->y is dx. */
static clconv_status relu_run(clconv_plan *plan, const clconv_run_args *a)
{
    const cl_mem args[3] = {a->x, a->w, a->y};
    const char *const names[3] = {"y", "dy", "dx"};
    return clconv_plan_enqueue_buffers(plan, 3, args, names, a->num_wait, a->wait_list, a->done);
}

const clconv_algo clconv_relu_backward = {
    .op = CLCONV_OP_RELU_BACKWARD,
    .id = CLCONV_ALGO_AUTO,
    .plan = relu_plan,
    .run = relu_run,
};

clconv_status clconv_relu_backward_run(clconv_plan *plan, cl_mem y, cl_mem dy, cl_mem dx,
                                       cl_uint num_wait, const cl_event *wait_list,
                                       cl_event *done)
{
    clconv_status st = clconv_bwd_check_run(plan, CLCONV_OP_RELU_BACKWARD, "clconv_relu_backward_run",
                                     num_wait, wait_list, done);
    if (st)
        return st;
    clconv_context *ctx = plan->ctx;
    if ((st = clconv_check_buffer(ctx, y, plan->x_bytes, "y")) ||
        (st = clconv_check_buffer(ctx, dy, plan->aux_bytes, "dy")) ||
        (st = clconv_check_buffer(ctx, dx, plan->y_bytes, "dx")))
        return st;
    const clconv_run_args a = {.x = y, .w = dy, .y = dx, .num_wait = num_wait,
                               .wait_list = wait_list, .done = done};
    return clconv_plan_dispatch(plan, &a);
}

/* ---- host-memory conveniences ---------------------------------------------- */

/* Uploads a (and b when not NULL), allocates the output and any workspace,
 * runs the plan (whichever backward operator it is), downloads the output,
 * releases everything and destroys the plan (which it takes over). */
static clconv_status bwd_host_run(clconv_plan *plan, const float *a, size_t a_bytes,
                                  const float *b, size_t b_bytes, float *out, size_t out_bytes)
{
    clconv_context *ctx = plan->ctx;
    cl_mem ba = NULL, bb = NULL, bo = NULL, bws = NULL;
    cl_event ev = NULL;
    clconv_status st;
    if (!(st = clconv_buffer_create(ctx, a_bytes, a, &ba, "input")) &&
        !(st = b ? clconv_buffer_create(ctx, b_bytes, b, &bb, "input") : CLCONV_SUCCESS) &&
        !(st = clconv_buffer_create(ctx, out_bytes, NULL, &bo, "output")) &&
        !(st = plan->info.workspace_bytes
                   ? clconv_buffer_create(ctx, plan->info.workspace_bytes, NULL, &bws,
                                          "workspace")
                   : CLCONV_SUCCESS)) {
        switch (plan->op) {
        case CLCONV_OP_CONV2D_BACKWARD_DATA:
            st = clconv_conv2d_backward_data_run(plan, ba, bb, bo, bws, 0, NULL, &ev);
            break;
        case CLCONV_OP_CONV2D_BACKWARD_WEIGHTS:
            st = clconv_conv2d_backward_weights_run(plan, ba, bb, bo, bws, 0, NULL, &ev);
            break;
        case CLCONV_OP_CONV2D_BACKWARD_BIAS:
            st = clconv_conv2d_backward_bias_run(plan, ba, bo, 0, NULL, &ev);
            break;
        default:
            st = clconv_relu_backward_run(plan, ba, bb, bo, 0, NULL, &ev);
            break;
        }
        if (!st)
            st = clconv_buffer_read(ctx, bo, out_bytes, out, ev);
    }
    if (ev)
        clReleaseEvent(ev);
    cl_mem all[] = {ba, bb, bo, bws};
    for (int i = 0; i < 4; i++)
        if (all[i])
            clReleaseMemObject(all[i]);
    clconv_plan_destroy(plan);
    return st;
}

static clconv_status bwd_host_arrays(clconv_context *ctx, const void *a, const char *an,
                                     const void *b, const char *bn, const void *c, const char *cn)
{
    if (!ctx)
        return clconv_fail(NULL, CLCONV_ERROR_INVALID_VALUE, "ctx: NULL, expected a context");
    if (!a || !b || !c)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE, "%s: NULL, expected a host array",
                           !a ? an : !b ? bn : cn);
    return CLCONV_SUCCESS;
}

clconv_status clconv_conv2d_backward_data_host(clconv_context *ctx,
                                               const clconv_conv2d_params *params,
                                               const clconv_shape *input,
                                               const clconv_plan_options *options,
                                               const float *dy, const float *w, float *dx)
{
    clconv_status st = bwd_host_arrays(ctx, dy, "dy", w, "w", dx, "dx");
    /* float arrays: F16 refused here (the plan itself would take it) */
    if (!st && params)
        st = clconv_host_check_dtype(ctx, params->dtype, "clconv_conv2d_backward_data_host");
    clconv_plan *plan;
    if (st || (st = clconv_conv2d_backward_data_plan_create(ctx, params, input, options, &plan)))
        return st;
    return bwd_host_run(plan, dy, plan->x_bytes, w, plan->w_bytes, dx, plan->y_bytes);
}

clconv_status clconv_conv2d_backward_weights_host(clconv_context *ctx,
                                                  const clconv_conv2d_params *params,
                                                  const clconv_shape *input,
                                                  const clconv_plan_options *options,
                                                  const float *x, const float *dy, float *dw)
{
    clconv_status st = bwd_host_arrays(ctx, x, "x", dy, "dy", dw, "dw");
    clconv_plan *plan;
    if (st ||
        (st = clconv_conv2d_backward_weights_plan_create(ctx, params, input, options, &plan)))
        return st;
    return bwd_host_run(plan, x, plan->x_bytes, dy, plan->aux_bytes, dw, plan->w_bytes);
}

clconv_status clconv_conv2d_backward_bias_host(clconv_context *ctx,
                                               const clconv_conv2d_params *params,
                                               const clconv_shape *input,
                                               const clconv_plan_options *options,
                                               const float *dy, float *db)
{
    clconv_status st = bwd_host_arrays(ctx, dy, "dy", db, "db", db, "db");
    clconv_plan *plan;
    if (st || (st = clconv_conv2d_backward_bias_plan_create(ctx, params, input, options, &plan)))
        return st;
    return bwd_host_run(plan, dy, plan->aux_bytes, NULL, 0, db, plan->b_bytes);
}

clconv_status clconv_relu_backward_host(clconv_context *ctx, const clconv_shape *shape,
                                        const float *y, const float *dy, float *dx)
{
    clconv_status st = bwd_host_arrays(ctx, y, "y", dy, "dy", dx, "dx");
    clconv_plan *plan;
    if (st || (st = clconv_relu_backward_plan_create(ctx, shape, &plan)))
        return st;
    return bwd_host_run(plan, y, plan->x_bytes, dy, plan->aux_bytes, dx, plan->y_bytes);
}


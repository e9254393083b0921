/* Training passes of conv2d: the data gradient (a transposed-convolution
 * plan), the weights and bias gradients (kernels/conv2d_backward.cl) and
 * ReLU backward (kernels/activation.cl). Every reduction has a fixed order:
 * no atomics, the same bits on every run of a plan. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared ---------------------------------------------------------------- */

static clconv_status bwd_begin(clconv_context *ctx, const clconv_conv2d_params *params,
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

static clconv_status bwd_check_run(clconv_plan *plan, clconv_op op, const char *fn,
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
    if ((num_wait > 0) != (wait_list != NULL))
        return clconv_fail(plan->ctx, CLCONV_ERROR_INVALID_VALUE,
                           "num_wait = %u with wait_list %s: both must be given or neither",
                           num_wait, wait_list ? "set" : "NULL");
    return CLCONV_SUCCESS;
}

static clconv_status bwd_no_alias(clconv_context *ctx, cl_mem out, const char *oname, cl_mem a,
                                  const char *aname, cl_mem b, const char *bname)
{
    if (out == a || out == b)
        return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                           "%s: must not be the same buffer as %s", oname,
                           out == a ? aname : bname);
    return CLCONV_SUCCESS;
}

static size_t round_up(size_t a, size_t b)
{
    return (a + b - 1) / b * b;
}

static clconv_status bwd_only_auto(clconv_context *ctx, const clconv_plan_options *o,
                                   clconv_algorithm own, const char *what)
{
    if (o && o->algorithm != CLCONV_ALGO_AUTO && o->algorithm != own)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "options.algorithm = %s, expected auto or %s for %s",
                           clconv_algorithm_name(o->algorithm), clconv_algorithm_name(own), what);
    return CLCONV_SUCCESS;
}

/* ---- backward data: conv_transpose2d with the same weights ---------------- */

clconv_status clconv_conv2d_backward_data_plan_create(clconv_context *ctx,
                                                      const clconv_conv2d_params *params,
                                                      const clconv_shape *input,
                                                      const clconv_plan_options *options,
                                                      clconv_plan **out)
{
    clconv_shape dy;
    clconv_status st = bwd_begin(ctx, params, input, out, &dy);
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
     * conv_transpose2d's map with padding pad_top (pad_left), whose output is
     * cut to the input's size (PyTorch's conv2d_input picks output_padding
     * for that; with asymmetric padding no output_padding may fit, so the
     * output size is given directly). */
    clconv_conv_transpose2d_params q = clconv_conv_transpose2d_default_params(
        params->out_channels, params->in_channels, params->kernel_h, params->kernel_w);
    q.stride_h = params->stride_h;
    q.stride_w = params->stride_w;
    q.pad_h = params->pad_top;
    q.pad_w = params->pad_left;
    q.dilation_h = params->dilation_h;
    q.dilation_w = params->dilation_w;
    q.groups = params->groups;
    const int64_t span_h = q.dilation_h * (q.kernel_h - 1) + q.pad_h + q.stride_h + input->h;
    const int64_t span_w = q.dilation_w * (q.kernel_w - 1) + q.pad_w + q.stride_w + input->w;
    if (span_h > INT32_MAX || span_w > INT32_MAX)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "kernel %lldx%lld, dilation %lldx%lld, padding %lldx%lld: index "
                           "arithmetic would overflow the kernels' 32-bit ints",
                           (long long)q.kernel_h, (long long)q.kernel_w,
                           (long long)q.dilation_h, (long long)q.dilation_w,
                           (long long)q.pad_h, (long long)q.pad_w);
    return clconv_conv_transpose2d_plan_shaped(ctx, &q, &dy, input, options,
                                               CLCONV_OP_CONV2D_BACKWARD_DATA, out);
}

clconv_status clconv_conv2d_backward_data_run(clconv_plan *plan, cl_mem dy, cl_mem w, cl_mem dx,
                                              cl_mem workspace, cl_uint num_wait,
                                              const cl_event *wait_list, cl_event *done)
{
    clconv_status st = bwd_check_run(plan, CLCONV_OP_CONV2D_BACKWARD_DATA,
                                     "clconv_conv2d_backward_data_run", num_wait, wait_list, done);
    if (st)
        return st;
    clconv_context *ctx = plan->ctx;
    if ((st = clconv_check_buffer(ctx, dy, plan->x_bytes, "dy")) ||
        (st = clconv_check_buffer(ctx, w, plan->w_bytes, "w")) ||
        (st = clconv_check_buffer(ctx, dx, plan->y_bytes, "dx")) ||
        (st = bwd_no_alias(ctx, dx, "dx", dy, "dy", w, "w")))
        return st;
    return clconv_conv_transpose2d_enqueue(plan, dy, w, NULL, dx, workspace, num_wait, wait_list,
                                           done);
}

/* ---- backward weights ------------------------------------------------------ */

typedef struct bw_data {
    cl_kernel reduce;     /* NULL with one split */
    int splits, chunk;    /* reduction pairs (n, oh) per split */
    size_t nw;            /* weight elements */
    size_t reduce_global, reduce_local;
    bool out_of_order;
} bw_data;

static void bw_destroy(clconv_plan *plan)
{
    bw_data *d = plan->op_data;
    if (d && d->reduce)
        clReleaseKernel(d->reduce);
    free(d);
    plan->op_data = NULL;
}

/* Largest workspace of partial sums the plan asks for by itself. */
#define BW_WORKSPACE_CAP ((size_t)256 << 20)

static clconv_status bw_plan_build(clconv_plan *plan, bw_data *d, const clconv_conv2d_params *p,
                                   const clconv_shape *in, const clconv_shape *out,
                                   const clconv_plan_options *o)
{
    clconv_context *ctx = plan->ctx;
    const bool cpu = clconv_context_is_cpu_family(ctx);
    const int64_t cin_g = p->in_channels / p->groups, cout_g = p->out_channels / p->groups;
    int boc = cout_g >= 8 ? 8 : cout_g >= 4 ? 4 : cout_g >= 2 ? 2 : 1;
    while (boc > 1 && boc * p->kernel_w > 32)
        boc /= 2; /* BOC x KW accumulators stay in registers */
    int wg = cpu ? 8 : 64;
    if (o) {
        if (o->block_oc < 0 || o->block_oc > 16)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "options.block_oc = %d, expected 0 (default) or 1..16",
                               o->block_oc);
        if (o->wg_w < 0 || o->wg_w > 1024)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "options.wg_w = %d, expected 0 (default) or 1..1024", o->wg_w);
        if (o->block_oc)
            boc = o->block_oc;
        if (o->wg_w)
            wg = o->wg_w;
    }
    if (p->kernel_w > 64 || p->kernel_h * p->kernel_w > INT32_MAX)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "kernel_w = %lld, expected <= 64 for backward-weights (each work-item "
                           "keeps a row of kernel_w taps in registers)",
                           (long long)p->kernel_w);
    const int64_t oc_blocks = (cout_g + boc - 1) / boc;
    const int64_t items = p->groups * oc_blocks * cin_g * p->kernel_h;
    const int64_t pairs = in->n * out->h;
    if (items > INT32_MAX || pairs > INT32_MAX ||
        (p->stride_w * out->w + p->dilation_w * p->kernel_w + p->pad_left) > INT32_MAX ||
        (p->stride_h * out->h + p->dilation_h * p->kernel_h + p->pad_top) > INT32_MAX)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "backward-weights: index arithmetic would overflow the kernel's "
                           "32-bit ints");
    /* Split the (n, oh) pairs until there are enough work-items, each still
     * summing at least ~64 products per weight. */
    const int64_t target = cpu ? 64 : 16384;
    int64_t splits = (target + items - 1) / items;
    int64_t max_by_work = (pairs * out->w + 63) / 64;
    if (splits > max_by_work)
        splits = max_by_work;
    if (splits > pairs)
        splits = pairs;
    if (splits < 1)
        splits = 1;
    d->nw = (size_t)(p->out_channels * cin_g * p->kernel_h * p->kernel_w);
    size_t cap = BW_WORKSPACE_CAP < (size_t)ctx->max_alloc ? BW_WORKSPACE_CAP
                                                           : (size_t)ctx->max_alloc;
    size_t lim;
    clconv_status st = clconv_workspace_env_limit(ctx, &lim);
    if (st)
        return st;
    if (lim < cap)
        cap = lim;
    if ((size_t)splits > cap / (d->nw * sizeof(float)))
        splits = (int64_t)(cap / (d->nw * sizeof(float)));
    if (splits < 2)
        splits = 1;
    d->chunk = (int)((pairs + splits - 1) / splits);
    d->splits = (int)((pairs + d->chunk - 1) / d->chunk);
    plan->info.workspace_bytes = d->splits > 1 ? (size_t)d->splits * d->nw * sizeof(float) : 0;

    snprintf(plan->info.build_options, sizeof plan->info.build_options,
             "-DKH=%lld -DKW=%lld -DSH=%lld -DSW=%lld -DDH=%lld -DDW=%lld -DBOC=%d",
             (long long)p->kernel_h, (long long)p->kernel_w, (long long)p->stride_h,
             (long long)p->stride_w, (long long)p->dilation_h, (long long)p->dilation_w, boc);
    snprintf(plan->info.kernel_name, sizeof plan->info.kernel_name, "conv2d_backward_weights");
    if ((st = clconv_get_kernel(ctx, "conv2d_backward", "conv2d_backward_weights",
                                plan->info.build_options, &plan->kernel)))
        return st;
    if (d->splits > 1 &&
        (st = clconv_get_kernel(ctx, "conv2d_backward", "conv2d_backward_weights_reduce",
                                plan->info.build_options, &d->reduce)))
        return st;
    size_t limit;
    if ((st = clconv_plan_wg_limit(plan, plan->kernel, &limit)))
        return st;
    if ((size_t)wg > limit)
        wg = (int)limit;
    if ((size_t)wg > ctx->max_item_sizes[0])
        wg = (int)ctx->max_item_sizes[0];
    if (wg < 1)
        wg = 1;
    plan->work_dim = 2;
    plan->info.local_size[0] = (size_t)wg;
    plan->info.local_size[1] = 1;
    plan->info.local_size[2] = 1;
    plan->info.global_size[0] = round_up((size_t)items, (size_t)wg);
    plan->info.global_size[1] = (size_t)d->splits;
    plan->info.global_size[2] = 1;
    if (d->reduce) {
        size_t rl;
        if ((st = clconv_plan_wg_limit(plan, d->reduce, &rl)))
            return st;
        d->reduce_local = rl < 64 ? rl : 64;
        d->reduce_global = round_up(d->nw, d->reduce_local);
        cl_int ra[2] = {(cl_int)d->nw, (cl_int)d->splits};
        if ((st = clconv_plan_set_ints(plan, d->reduce, 2, ra, 2)))
            return st;
        d->out_of_order = ctx->out_of_order;
    }
    cl_int args[] = {(cl_int)in->n, (cl_int)in->c, (cl_int)in->h, (cl_int)in->w,
                     (cl_int)out->c, (cl_int)out->h, (cl_int)out->w, (cl_int)p->groups,
                     (cl_int)p->pad_top, (cl_int)p->pad_left, (cl_int)oc_blocks,
                     (cl_int)d->chunk, (cl_int)items};
    return clconv_plan_set_ints(plan, plan->kernel, 3, args, sizeof args / sizeof args[0]);
}

clconv_status clconv_conv2d_backward_weights_plan_create(clconv_context *ctx,
                                                         const clconv_conv2d_params *params,
                                                         const clconv_shape *input,
                                                         const clconv_plan_options *options,
                                                         clconv_plan **out)
{
    clconv_shape oshape;
    clconv_status st = bwd_begin(ctx, params, input, out, &oshape);
    if (st || (st = bwd_only_auto(ctx, options, CLCONV_ALGO_DIRECT_REGISTER,
                                  "conv2d backward-weights")))
        return st;
    clconv_plan *plan;
    if ((st = clconv_plan_alloc(ctx, CLCONV_OP_CONV2D_BACKWARD_WEIGHTS, &plan)))
        return st;
    bw_data *d = calloc(1, sizeof *d);
    if (!d) {
        clconv_plan_destroy(plan);
        return clconv_fail(ctx, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "allocating plan data");
    }
    plan->op_data = d;
    plan->destroy_op = bw_destroy;
    plan->params.conv2d = *params;
    clconv_shape wshape = clconv_conv2d_weight_shape(params);
    plan->info.algorithm = CLCONV_ALGO_DIRECT_REGISTER;
    plan->info.input = *input;
    plan->info.output = wshape;
    plan->x_bytes = clconv_shape_elements_checked(input) * sizeof(float);
    plan->aux_bytes = clconv_shape_elements_checked(&oshape) * sizeof(float); /* dy */
    plan->w_bytes = clconv_shape_elements_checked(&wshape) * sizeof(float);  /* dw */
    plan->info.flops = 2.0 * (double)clconv_shape_elements_checked(&oshape) * (double)wshape.c *
                       (double)wshape.h * (double)wshape.w;
    plan->info.bytes = (double)(plan->x_bytes + plan->aux_bytes + plan->w_bytes);
    if ((st = bw_plan_build(plan, d, params, input, &oshape, options))) {
        clconv_plan_destroy(plan);
        return st;
    }
    *out = plan;
    return CLCONV_SUCCESS;
}

clconv_status clconv_conv2d_backward_weights_run(clconv_plan *plan, cl_mem x, cl_mem dy,
                                                 cl_mem dw, cl_mem workspace, cl_uint num_wait,
                                                 const cl_event *wait_list, cl_event *done)
{
    clconv_status st = bwd_check_run(plan, CLCONV_OP_CONV2D_BACKWARD_WEIGHTS,
                                     "clconv_conv2d_backward_weights_run", num_wait, wait_list,
                                     done);
    if (st)
        return st;
    clconv_context *ctx = plan->ctx;
    const bw_data *d = plan->op_data;
    if ((st = clconv_check_buffer(ctx, x, plan->x_bytes, "x")) ||
        (st = clconv_check_buffer(ctx, dy, plan->aux_bytes, "dy")) ||
        (st = clconv_check_buffer(ctx, dw, plan->w_bytes, "dw")) ||
        (st = bwd_no_alias(ctx, dw, "dw", x, "x", dy, "dy")))
        return st;
    if (d->splits > 1) {
        if ((st = clconv_check_buffer(ctx, workspace, plan->info.workspace_bytes, "workspace")))
            return st;
        if (workspace == x || workspace == dy || workspace == dw)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "workspace: must not be the same buffer as x, dy or dw");
    }
    pthread_mutex_lock(&plan->lock);
    cl_mem part = d->splits > 1 ? workspace : dw;
    cl_mem args[3] = {x, dy, part};
    const char *names[3] = {"x", "dy", d->splits > 1 ? "workspace" : "dw"};
    for (cl_uint i = 0; i < 3 && !st; i++)
        st = clconv_set_arg(ctx, plan->kernel, i, sizeof(cl_mem), &args[i], names[i]);
    if (!st && d->splits == 1) {
        st = clconv_plan_enqueue(plan, num_wait, wait_list, done);
    } else if (!st) {
        cl_event mid = NULL;
        if (!(st = clconv_plan_enqueue(plan, num_wait, wait_list, &mid)) &&
            !(st = clconv_set_arg(ctx, d->reduce, 0, sizeof(cl_mem), &workspace, "workspace")) &&
            !(st = clconv_set_arg(ctx, d->reduce, 1, sizeof(cl_mem), &dw, "dw"))) {
            cl_int err = clEnqueueNDRangeKernel(ctx->queue, d->reduce, 1, NULL,
                                                &d->reduce_global, &d->reduce_local,
                                                d->out_of_order ? 1 : 0,
                                                d->out_of_order ? &mid : NULL, done);
            if (err != CL_SUCCESS) {
                if (done)
                    *done = NULL;
                st = clconv_fail_cl(ctx, err,
                                    "clEnqueueNDRangeKernel(conv2d_backward_weights_reduce)");
            }
        }
        if (mid)
            clReleaseEvent(mid);
    }
    pthread_mutex_unlock(&plan->lock);
    return st;
}

/* ---- backward bias --------------------------------------------------------- */

clconv_status clconv_conv2d_backward_bias_plan_create(clconv_context *ctx,
                                                      const clconv_conv2d_params *params,
                                                      const clconv_shape *input,
                                                      const clconv_plan_options *options,
                                                      clconv_plan **out)
{
    clconv_shape oshape;
    clconv_status st = bwd_begin(ctx, params, input, out, &oshape);
    if (st || (st = bwd_only_auto(ctx, options, CLCONV_ALGO_DIRECT_REGISTER,
                                  "conv2d backward-bias")))
        return st;
    if (oshape.h * oshape.w > INT32_MAX)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "output plane of %lld pixels, expected <= %d",
                           (long long)(oshape.h * oshape.w), INT32_MAX);
    clconv_plan *plan;
    if ((st = clconv_plan_alloc(ctx, CLCONV_OP_CONV2D_BACKWARD_BIAS, &plan)))
        return st;
    plan->params.conv2d = *params;
    plan->info.algorithm = CLCONV_ALGO_DIRECT_REGISTER;
    plan->info.input = oshape;
    plan->info.output = (clconv_shape){1, oshape.c, 1, 1};
    plan->aux_bytes = clconv_shape_elements_checked(&oshape) * sizeof(float); /* dy */
    plan->b_bytes = (size_t)oshape.c * sizeof(float);                           /* db */
    plan->info.flops = (double)clconv_shape_elements_checked(&oshape);
    plan->info.bytes = (double)(plan->aux_bytes + plan->b_bytes);
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
        plan->info.local_size[0] = (size_t)wgb;
        plan->info.local_size[1] = plan->info.local_size[2] = 1;
        plan->info.global_size[0] = (size_t)wgb * (size_t)oshape.c;
        plan->info.global_size[1] = plan->info.global_size[2] = 1;
        plan->info.local_mem_bytes = (size_t)wgb * sizeof(float);
        cl_int args[] = {(cl_int)oshape.n, (cl_int)oshape.c, (cl_int)(oshape.h * oshape.w)};
        st = clconv_plan_set_ints(plan, plan->kernel, 2, args, 3);
    }
    if (st) {
        clconv_plan_destroy(plan);
        return st;
    }
    *out = plan;
    return CLCONV_SUCCESS;
}

clconv_status clconv_conv2d_backward_bias_run(clconv_plan *plan, cl_mem dy, cl_mem db,
                                              cl_uint num_wait, const cl_event *wait_list,
                                              cl_event *done)
{
    clconv_status st = bwd_check_run(plan, CLCONV_OP_CONV2D_BACKWARD_BIAS,
                                     "clconv_conv2d_backward_bias_run", num_wait, wait_list, done);
    if (st)
        return st;
    clconv_context *ctx = plan->ctx;
    if ((st = clconv_check_buffer(ctx, dy, plan->aux_bytes, "dy")) ||
        (st = clconv_check_buffer(ctx, db, plan->b_bytes, "db")) ||
        (st = bwd_no_alias(ctx, db, "db", dy, "dy", NULL, "")))
        return st;
    const cl_mem args[2] = {dy, db};
    const char *const names[2] = {"dy", "db"};
    pthread_mutex_lock(&plan->lock);
    st = clconv_plan_enqueue_buffers(plan, 2, args, names, num_wait, wait_list, done);
    pthread_mutex_unlock(&plan->lock);
    return st;
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
    plan->info.algorithm = CLCONV_ALGO_AUTO;
    plan->info.input = plan->info.output = *shape;
    plan->x_bytes = plan->y_bytes = plan->aux_bytes = bytes;
    plan->info.flops = (double)count;
    plan->info.bytes = 3.0 * (double)bytes;
    snprintf(plan->info.kernel_name, sizeof plan->info.kernel_name, "relu_backward");
    size_t limit = 0;
    if ((st = clconv_get_kernel(ctx, "activation", "relu_backward", "", &plan->kernel)) ||
        (st = clconv_plan_wg_limit(plan, plan->kernel, &limit))) {
        clconv_plan_destroy(plan);
        return st;
    }
    size_t wg = limit < 64 ? limit : 64;
    plan->work_dim = 1;
    plan->info.local_size[0] = wg;
    plan->info.local_size[1] = plan->info.local_size[2] = 1;
    plan->info.global_size[0] = round_up(count, wg);
    plan->info.global_size[1] = plan->info.global_size[2] = 1;
    cl_ulong n = (cl_ulong)count;
    if ((st = clconv_set_arg(ctx, plan->kernel, 3, sizeof n, &n, "count"))) {
        clconv_plan_destroy(plan);
        return st;
    }
    *out = plan;
    return CLCONV_SUCCESS;
}

clconv_status clconv_relu_backward_run(clconv_plan *plan, cl_mem y, cl_mem dy, cl_mem dx,
                                       cl_uint num_wait, const cl_event *wait_list,
                                       cl_event *done)
{
    clconv_status st = bwd_check_run(plan, CLCONV_OP_RELU_BACKWARD, "clconv_relu_backward_run",
                                     num_wait, wait_list, done);
    if (st)
        return st;
    clconv_context *ctx = plan->ctx;
    if ((st = clconv_check_buffer(ctx, y, plan->x_bytes, "y")) ||
        (st = clconv_check_buffer(ctx, dy, plan->aux_bytes, "dy")) ||
        (st = clconv_check_buffer(ctx, dx, plan->y_bytes, "dx")))
        return st;
    const cl_mem args[3] = {y, dy, dx};
    const char *const names[3] = {"y", "dy", "dx"};
    pthread_mutex_lock(&plan->lock);
    st = clconv_plan_enqueue_buffers(plan, 3, args, names, num_wait, wait_list, done);
    pthread_mutex_unlock(&plan->lock);
    return st;
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
                                               const clconv_shape *input, const float *dy,
                                               float *db)
{
    clconv_status st = bwd_host_arrays(ctx, dy, "dy", db, "db", db, "db");
    clconv_plan *plan;
    if (st || (st = clconv_conv2d_backward_bias_plan_create(ctx, params, input, NULL, &plan)))
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

/* The weights gradient of conv2d (kernels/conv2d_backward.cl): each
 * work-item owns a register block of output channels x kernel_w taps of one
 * (input channel, kernel row) and sums dy * x over a contiguous chunk of the
 * (image, output row) pairs; with several chunks ("splits") their partial
 * sums go to the workspace and a second kernel adds them in chunk order. */
#include "backward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bw_data {
    cl_kernel reduce;     /* NULL with one split */
    int splits, chunk;    /* reduction pairs (n, oh) per split */
    size_t nw;            /* weight elements */
    size_t reduce_global, reduce_local;
    bool out_of_order;
} bw_data;

static void bw_destroy(clconv_plan *plan)
{
    bw_data *d = plan->state;
    if (d && d->reduce)
        clReleaseKernel(d->reduce);
    free(d);
    plan->state = NULL;
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
    if (ctx->workspace_limit < cap)
        cap = ctx->workspace_limit;
    if ((size_t)splits > cap / (d->nw * sizeof(float)))
        splits = (int64_t)(cap / (d->nw * sizeof(float)));
    if (splits < 2)
        splits = 1;
    d->chunk = (int)((pairs + splits - 1) / splits);
    d->splits = (int)((pairs + d->chunk - 1) / d->chunk);
    plan->info.workspace_bytes = d->splits > 1 ? (size_t)d->splits * d->nw * sizeof(float) : 0;

    clconv_status st;
    /* fp16 storage: -DCLCONV_F16 first (F16 and F32 programs never share a
     * cache entry), and -DBW_SPLIT when the partial sums go to the float
     * workspace rather than to dw's halves (the kernel's BW_OUT_T). */
    const bool f16 = plan->dtype == CLCONV_DTYPE_F16;
    snprintf(plan->info.build_options, sizeof plan->info.build_options,
             "%s-DKH=%lld -DKW=%lld -DSH=%lld -DSW=%lld -DDH=%lld -DDW=%lld -DBOC=%d%s",
             f16 ? "-DCLCONV_F16 " : "", (long long)p->kernel_h, (long long)p->kernel_w,
             (long long)p->stride_h, (long long)p->stride_w, (long long)p->dilation_h,
             (long long)p->dilation_w, boc, f16 && d->splits > 1 ? " -DBW_SPLIT" : "");
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
    plan->local_size[0] = (size_t)wg;
    plan->local_size[1] = 1;
    plan->local_size[2] = 1;
    plan->global_size[0] = clconv_bwd_round_up((size_t)items, (size_t)wg);
    plan->global_size[1] = (size_t)d->splits;
    plan->global_size[2] = 1;
    plan->info.kernels_per_run = d->splits > 1 ? 2 : 1; /* the split's partial sums, reduced */
    if (d->reduce) {
        size_t rl;
        if ((st = clconv_plan_wg_limit(plan, d->reduce, &rl)))
            return st;
        d->reduce_local = rl < 64 ? rl : 64;
        d->reduce_global = clconv_bwd_round_up(d->nw, d->reduce_local);
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
    clconv_status st = clconv_bwd_begin(ctx, params, input, out, &oshape);
    if (st)
        return st;
    clconv_plan *plan;
    if ((st = clconv_plan_alloc(ctx, CLCONV_OP_CONV2D_BACKWARD_WEIGHTS, &plan)))
        return st;
    plan->params.conv2d = *params;
    plan->dtype = params->dtype;
    const size_t es = clconv_dtype_size(params->dtype); /* x, dy and dw; the workspace is float */
    clconv_shape wshape = clconv_conv2d_weight_shape(params);
    plan->info.input = *input;
    plan->info.output = wshape;
    plan->x_bytes = clconv_shape_elements_checked(input) * es;
    plan->aux_bytes = clconv_shape_elements_checked(&oshape) * es; /* dy */
    plan->w_bytes = clconv_shape_elements_checked(&wshape) * es;  /* dw */
    plan->info.flops = 2.0 * (double)clconv_shape_elements_checked(&oshape) * (double)wshape.c *
                       (double)wshape.h * (double)wshape.w;
    plan->info.bytes = (double)(plan->x_bytes + plan->aux_bytes + plan->w_bytes);
    if ((st = clconv_plan_build_single(plan, options, "conv2d backward-weights"))) {
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
    clconv_status st = clconv_bwd_check_run(plan, CLCONV_OP_CONV2D_BACKWARD_WEIGHTS,
                                     "clconv_conv2d_backward_weights_run", num_wait, wait_list,
                                     done);
    if (st)
        return st;
    clconv_context *ctx = plan->ctx;
    const bw_data *d = plan->state;
    if ((st = clconv_check_plan_buffer(plan, x, plan->x_bytes, "x")) ||
        (st = clconv_check_plan_buffer(plan, dy, plan->aux_bytes, "dy")) ||
        (st = clconv_check_plan_buffer(plan, dw, plan->w_bytes, "dw")) ||
        (st = clconv_bwd_no_alias(ctx, dw, "dw", x, "x", dy, "dy")))
        return st;
    if (d->splits > 1) {
        if ((st = clconv_check_buffer(ctx, workspace, plan->info.workspace_bytes, "workspace")))
            return st;
        if (workspace == x || workspace == dy || workspace == dw)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "workspace: must not be the same buffer as x, dy or dw");
    }
    const clconv_run_args a = {.x = x, .w = dy, .y = dw, .workspace = workspace,
                               .num_wait = num_wait, .wait_list = wait_list, .done = done};
    pthread_mutex_lock(&plan->lock);
    st = plan->algo->run(plan, &a);
    pthread_mutex_unlock(&plan->lock);
    return st;
}

/* The run (plan->lock held): the partial sums per split into the workspace
 * (or dw itself with one split), then the fixed-order reduction into dw.
 * a->x is x, a->w is dy, a->y is dw. */
static clconv_status bw_run(clconv_plan *plan, const clconv_run_args *a)
{
    clconv_context *ctx = plan->ctx;
    const bw_data *d = plan->state;
    cl_mem workspace = a->workspace, dw = a->y;
    cl_uint num_wait = a->num_wait;
    const cl_event *wait_list = a->wait_list;
    cl_event *done = a->done;
    clconv_status st = CLCONV_SUCCESS;
    cl_mem part = d->splits > 1 ? workspace : dw;
    cl_mem args[3] = {a->x, a->w, part};
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
    return st;
}

/* The plan (params, shapes and sizes set by the create call). */
static clconv_status bw_plan(clconv_plan *plan, const clconv_plan_options *opts)
{
    clconv_shape oshape;
    clconv_status st = clconv_conv2d_output_shape(&plan->params.conv2d, &plan->info.input,
                                                  &oshape);
    if (st)
        return st;
    bw_data *d = calloc(1, sizeof *d);
    if (!d)
        return clconv_fail(plan->ctx, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "allocating plan data");
    plan->state = d;
    return bw_plan_build(plan, d, &plan->params.conv2d, &plan->info.input, &oshape, opts);
}

const clconv_algo clconv_conv2d_backward_weights = {
    .op = CLCONV_OP_CONV2D_BACKWARD_WEIGHTS, .id = CLCONV_ALGO_DIRECT_REGISTER,
    .plan = bw_plan, .run = bw_run, .destroy = bw_destroy,
    .f16 = true /* x, dy, dw as store_t; float accumulators and workspace */};


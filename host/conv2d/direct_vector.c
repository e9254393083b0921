/* direct-vector (CPU devices): each work-item computes VEC output channels
 * as one SIMD vector for a block of BW output columns and RH rows
 * (kernels/conv2d.cl CONV2D_VECTOR). The weights are repacked per run into a
 * buffer of the plan ([g][channel block][ci][kh][kw][VEC], conv2d_pack_weights),
 * so runs of a plan are ordered (clconv_run_begin / _end). */
#include "../algo.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct vector_data {
    cl_mem packed;        /* weights as [g][channel block][ci][kh][kw][VEC] */
    cl_kernel pack;       /* conv2d_pack_weights */
    size_t pack_global[2]; /* (ceil(L / PACK_J), groups * channel blocks) */
} vector_data;

static void vector_destroy(clconv_plan *plan)
{
    vector_data *d = plan->state;
    if (!d)
        return;
    if (d->packed)
        clReleaseMemObject(d->packed);
    if (d->pack)
        clReleaseKernel(d->pack);
    free(d);
    plan->state = NULL;
}

/* Output columns per work-item: a divisor of the row width between 8 and 16
 * when there is one (no ragged edge block), else 16 (or the whole row). */
static int vector_block_w(int64_t ow)
{
    if (ow <= 16)
        return (int)ow;
    for (int bw = 16; bw >= 8; bw--)
        if (ow % bw == 0)
            return bw;
    return 16;
}

static clconv_status vector_plan(clconv_plan *plan, const clconv_plan_options *opts)
{
    clconv_context *ctx = plan->ctx;
    const clconv_conv2d_params *p = &plan->params.conv2d;
    const clconv_shape *in = &plan->info.input, *out = &plan->info.output;
    int64_t cin_g = p->in_channels / p->groups, cout_g = p->out_channels / p->groups;
    int vec = clconv_direct_max_vec(ctx);
    while (vec > 4 && cout_g <= vec / 2)
        vec /= 2;
    clconv_tile t = {1, 4, 1, vector_block_w(out->w), 1, 1};
    clconv_tile checked = t; /* every override is validated, even those unused here */
    clconv_status st = clconv_direct_overrides(ctx, opts, &checked);
    if (st)
        return st;
    while (t.wg_h > 1 && t.wg_h / 2 >= out->h)
        t.wg_h /= 2;
    if (opts) {
        if (opts->block_w < 0 || opts->block_w > 16)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "options.block_w = %d, expected 0 (default) or 1..16", opts->block_w);
        if (opts->wg_h < 0 || opts->wg_h > 64)
            return clconv_fail(ctx, CLCONV_ERROR_INVALID_VALUE,
                               "options.wg_h = %d, expected 0 (default) or 1..64", opts->wg_h);
        if (opts->block_w)
            t.bw = opts->block_w;
        if (opts->wg_h)
            t.wg_h = opts->wg_h;
    }
    if ((size_t)t.wg_h > ctx->max_wg_size)
        t.wg_h = (int)ctx->max_wg_size;
    /* Rows per work-item: keep about 16 accumulators (RH x BW) per item. */
    int rh = t.bw >= 16 ? 1 : 16 / t.bw;
    if (rh > 4)
        rh = 4;
    while (rh > 1 && rh / 2 >= out->h)
        rh /= 2;
    char extra[48];
    snprintf(extra, sizeof extra, "-DVEC=%d -DRH=%d", vec, rh);
    if ((st = clconv_direct_build(plan, &t, "conv2d_vector", extra)))
        return st;
    vector_data *d = calloc(1, sizeof *d);
    if (!d)
        return clconv_fail(ctx, CLCONV_ERROR_OUT_OF_HOST_MEMORY, "allocating plan data");
    plan->state = d;
    int64_t ocbs = (cout_g + vec - 1) / vec;
    size_t packed = (size_t)(p->groups * ocbs * cin_g * p->kernel_h * p->kernel_w) * (size_t)vec;
    if (packed > CLCONV_MAX_DEVICE_ELEMENTS)
        return clconv_fail(ctx, CLCONV_ERROR_UNSUPPORTED,
                           "direct-vector: packed weights of %zu floats exceed the kernels' "
                           "32-bit indexing", packed);
    if ((st = clconv_buffer_create(ctx, packed * sizeof(float), NULL, &d->packed, "packed weights")))
        return st;
    plan->ordered = true; /* every run repacks into d->packed */
    cl_program prog;
    if ((st = clconv_get_program(ctx, "conv2d", plan->info.build_options, &prog)))
        return st;
    cl_int err;
    d->pack = clCreateKernel(prog, "conv2d_pack_weights", &err);
    if (err != CL_SUCCESS) {
        d->pack = NULL;
        return clconv_fail_cl(ctx, err, "clCreateKernel(conv2d_pack_weights)");
    }
    /* PACK_J in kernels/conv2d.cl: weights of a row one pack work-item moves */
    d->pack_global[0] = (size_t)((cin_g * p->kernel_h * p->kernel_w + 15) / 16);
    d->pack_global[1] = (size_t)(p->groups * ocbs);
    cl_int pack_args[] = {(cl_int)cin_g, (cl_int)cout_g, (cl_int)p->groups};
    if ((st = clconv_set_arg(ctx, d->pack, 1, sizeof(cl_mem), &d->packed, "conv2d_pack_weights")))
        return st;
    for (cl_uint i = 0; i < 3; i++)
        if ((st = clconv_set_arg(ctx, d->pack, 2 + i, sizeof(cl_int), &pack_args[i],
                                 "conv2d_pack_weights")))
            return st;
    if ((st = clconv_set_arg(ctx, plan->kernel, 1, sizeof(cl_mem), &d->packed, "conv2d_vector")))
        return st;

    plan->work_dim = 3;
    plan->info.algorithm = CLCONV_ALGO_DIRECT_VECTOR;
    plan->info.local_size[0] = 1;
    plan->info.local_size[1] = (size_t)t.wg_h;
    plan->info.local_size[2] = 1;
    plan->info.global_size[0] = (size_t)((out->w + t.bw - 1) / t.bw);
    size_t row_items = (size_t)((out->h + rh - 1) / rh);
    plan->info.global_size[1] = (row_items + (size_t)t.wg_h - 1) / (size_t)t.wg_h * (size_t)t.wg_h;
    plan->info.global_size[2] = (size_t)(in->n * p->groups * ocbs);
    plan->info.plan_device_bytes = packed * sizeof(float);
    return clconv_direct_set_args(plan, in->h, in->w, -1);
}

/* Repacks the weights, then runs the convolution after it. Called with the
 * plan lock held. The packed buffer is the plan's: runs are ordered
 * (clconv_run_begin / _end). */
static clconv_status vector_run(clconv_plan *plan, const clconv_run_args *a)
{
    clconv_context *ctx = plan->ctx;
    vector_data *d = plan->state;
    cl_mem x = a->x, w = a->w, b = a->b, y = a->y;
    cl_uint num_wait = a->num_wait;
    const cl_event *wait_list = a->wait_list;
    cl_event *done = a->done;
    clconv_run_waits waits;
    clconv_status st = clconv_run_begin(plan, num_wait, wait_list, &waits);
    if (st)
        return st;
    if ((w && (st = clconv_set_arg(ctx, d->pack, 0, sizeof(cl_mem), &w, "conv2d_pack_weights"))) ||
        (st = clconv_set_arg(ctx, plan->kernel, 0, sizeof(cl_mem), &x, plan->info.kernel_name)) ||
        (st = clconv_set_arg(ctx, plan->kernel, 2, sizeof(cl_mem), b ? &b : NULL, plan->info.kernel_name)) ||
        (st = clconv_set_arg(ctx, plan->kernel, 3, sizeof(cl_mem), &y, plan->info.kernel_name))) {
        clconv_run_waits_free(&waits);
        return st;
    }
    cl_event packed = NULL, ran = NULL;
    if (!w) { /* the prepared weights are packed already */
        st = clconv_plan_enqueue(plan, waits.n, waits.n ? waits.list : NULL,
                                 done || clconv_run_wants_event(plan) ? &ran : NULL);
        clconv_run_waits_free(&waits);
        return clconv_run_end(plan, st, ran, done);
    }
    cl_int err = clEnqueueNDRangeKernel(ctx->queue, d->pack, 2, NULL, d->pack_global, NULL,
                                        waits.n, waits.list, &packed);
    clconv_run_waits_free(&waits);
    if (err != CL_SUCCESS)
        return clconv_run_end(plan, clconv_fail_cl(ctx, err,
                                                   "clEnqueueNDRangeKernel(conv2d_pack_weights)"),
                              NULL, done);
    /* The event makes the order explicit on out-of-order queues too. */
    st = clconv_plan_enqueue(plan, 1, &packed,
                             done || clconv_run_wants_event(plan) ? &ran : NULL);
    clReleaseEvent(packed);
    return clconv_run_end(plan, st, ran, done);
}

/* Packs constant weights once (ordered like a run: the next run waits for
 * it on an out-of-order queue). */
static clconv_status pack_prepare(clconv_plan *plan, cl_mem w, cl_uint num_wait,
                                  const cl_event *wait_list, cl_event *done)
{
    clconv_context *ctx = plan->ctx;
    vector_data *d = plan->state;
    clconv_run_waits waits;
    clconv_status st = clconv_run_begin(plan, num_wait, wait_list, &waits);
    if (st)
        return st;
    if ((st = clconv_set_arg(ctx, d->pack, 0, sizeof(cl_mem), &w, "conv2d_pack_weights"))) {
        clconv_run_waits_free(&waits);
        return st;
    }
    cl_event packed = NULL;
    cl_int err = clEnqueueNDRangeKernel(ctx->queue, d->pack, 2, NULL, d->pack_global, NULL,
                                        waits.n, waits.list, &packed);
    clconv_run_waits_free(&waits);
    if (err != CL_SUCCESS)
        return clconv_run_end(plan, clconv_fail_cl(ctx, err,
                                                   "clEnqueueNDRangeKernel(conv2d_pack_weights)"),
                              NULL, done);
    return clconv_run_end(plan, CLCONV_SUCCESS, packed, done);
}

const clconv_algo clconv_conv2d_direct_vector = {
    .op = CLCONV_OP_CONV2D, .id = CLCONV_ALGO_DIRECT_VECTOR, .plan = vector_plan,
    .run = vector_run, .destroy = vector_destroy, .prepare = pack_prepare};
